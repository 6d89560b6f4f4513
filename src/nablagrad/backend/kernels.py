"""Fused elementwise kernels: one pass over memory where NumPy makes one pass per operation.

With the ``fast`` extra (``pip install nablagrad[fast]``, which brings numba) each kernel is a
compiled loop (threaded for large arrays when ``NABLAGRAD_FAST_THREADS`` > 1); without it the NumPy
reference beside it computes the same formula with the same float operations in the same
order, so both paths agree to rounding.  The NumPy path is used when numba is absent, when
``NABLAGRAD_FAST=0`` is set, or inside ``use_fast(False)``.

Measured on a 2-core x86 machine (bench/RESULTS.md): the Adam update of a 235 k-parameter MLP
takes 430 µs in NumPy, 1 400 µs with numexpr, 320 µs with numba on one thread and 160 µs on
two — hence numba.  Threads are off by default: on a machine whose cores are busy, OpenMP
workers that spin between kernels slow OpenBLAS's own threads down far more than they gain.
"""

from __future__ import annotations

import contextlib
import os
import types
from collections.abc import Callable, Iterator

import numpy as np

PARALLEL_MIN = 1 << 15  # below this many elements one thread is faster than two
THREADS = int(os.environ.get("NABLAGRAD_FAST_THREADS", "1"))
_state: dict[str, object] = {"enabled": os.environ.get("NABLAGRAD_FAST", "1") != "0", "compiled": None}


def _compile() -> dict[str, Callable] | None:
    """The numba kernels, compiled on first use; ``None`` without numba."""
    try:
        import numba  # noqa: PLC0415 - optional dependency (the ``fast`` extra)
    except ImportError:
        return None

    def adam(p, g, m, v, vmax, ams, b1, c1, b2, c2, step_size, eps_hat, wd, tiny):  # pragma: no cover - compiled
        for i in numba.prange(p.size):
            gi = g[i] + wd * p[i] if wd != 0 else g[i]
            mi = b1 * m[i] + gi * c1
            vi = b2 * v[i] + gi * gi * c2
            if abs(mi) < tiny:  # flush to zero: subnormal moments make every later step ~30× slower
                mi = 0
            if vi < tiny:
                vi = 0
            m[i] = mi
            v[i] = vi
            if ams:
                vi = max(vmax[i], vi)
                vmax[i] = vi
            p[i] -= mi / (np.sqrt(vi) + eps_hat) * step_size

    def relu_backward(g, x, out):  # pragma: no cover - compiled
        for i in numba.prange(x.size):
            out[i] = g[i] if x[i] > 0 else 0

    kernels = {}
    for name, fn in {"adam": adam, "relu_backward": relu_backward}.items():
        kernels[name] = numba.njit(fn, error_model="numpy", cache=True)
        # a twin under its own name, so that numba's on-disk cache keeps the two compilations apart
        twin = types.FunctionType(fn.__code__, fn.__globals__, name + "_parallel", fn.__defaults__, fn.__closure__)
        twin.__qualname__ = fn.__qualname__ + "_parallel"
        kernels[name + "_parallel"] = numba.njit(twin, error_model="numpy", cache=True, parallel=True)
    return kernels


def fast_available() -> bool:
    """True when the compiled kernels are installed (numba) and not switched off."""
    if not _state["enabled"]:
        return False
    if _state["compiled"] is None:
        _state["compiled"] = _compile() or {}
    return bool(_state["compiled"])


@contextlib.contextmanager
def use_fast(enabled: bool) -> Iterator[None]:
    """Switch the compiled kernels on or off inside a ``with`` block (tests run both paths)."""
    old = _state["enabled"]
    _state["enabled"] = bool(enabled)
    try:
        yield
    finally:
        _state["enabled"] = old


def _kernel(name: str, size: int) -> Callable:
    kernels = _state["compiled"]
    return kernels[name + "_parallel"] if THREADS > 1 and size >= PARALLEL_MIN else kernels[name]  # type: ignore[index]


def _flat_ok(*arrays: np.ndarray) -> bool:
    return all(a.flags.c_contiguous for a in arrays) and len({a.dtype for a in arrays}) == 1


def adam_(p, g, m, v, scratch, b1: float, b2: float, step_size: float, eps_hat: float, wd: float = 0.0,
          vmax: np.ndarray | None = None) -> None:  # fmt: skip
    """One Adam update in place (all arrays of one shape and dtype; ``scratch`` is work space):

    ``g' = g + λ p``; ``m ← β1 m + (1 − β1) g'``; ``v ← β2 v + (1 − β2) g'²``;
    ``p ← p − s · m / (√v + ε̂)`` with ``s = α√(1 − β2ᵗ)/(1 − β1ᵗ)`` and ``ε̂ = ε√(1 − β2ᵗ)``.
    With ``vmax`` (AMSGrad) ``vmax ← max(vmax, v)`` takes the place of ``v`` in the step.
    The compiled kernel flushes moments below the smallest normal number to 0 (as XLA's
    flush-to-zero mode does): a gradient that stays 0 (an MNIST border pixel) would otherwise
    decay ``m`` into the subnormal range, where every operation on it is ~30× slower.  The
    NumPy path keeps subnormals, like PyTorch; the two differ only below ~1e-38 (float32).
    """
    ams = vmax is not None
    vmax = vmax if ams else v
    if fast_available() and _flat_ok(p, g, m, v, vmax):
        dt = p.dtype.type
        flat = [a.reshape(-1) for a in (p, g, m, v, vmax)]
        _kernel("adam", p.size)(*flat, ams, dt(b1), dt(1 - b1), dt(b2), dt(1 - b2), dt(step_size), dt(eps_hat), dt(wd),
                                np.finfo(dt).tiny)  # fmt: skip
        return
    if wd:
        g = g + wd * p
    m *= b1
    np.multiply(g, 1 - b1, out=scratch)
    m += scratch
    v *= b2
    np.multiply(g, g, out=scratch)
    scratch *= 1 - b2
    v += scratch
    if ams:
        np.maximum(vmax, v, out=vmax)
    np.sqrt(vmax, out=scratch)
    scratch += eps_hat
    np.divide(m, scratch, out=scratch)
    scratch *= step_size
    p -= scratch


def relu_backward(g: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``ḡ · [x > 0]``: the ReLU's vector–Jacobian product, in one pass."""
    if fast_available() and g.shape == x.shape and _flat_ok(g, x):
        out = np.empty_like(g)
        _kernel("relu_backward", g.size)(g.reshape(-1), x.reshape(-1), out.reshape(-1))
        return out
    return g * (x > 0)
