"""Fused elementwise kernels: one pass over memory where NumPy makes one pass per operation.

With the ``fast`` extra (``pip install nablagrad[fast]``, which brings numba) each kernel is a
compiled loop on one thread; without it the NumPy
reference beside it computes the same formula with the same float operations in the same
order, so both paths agree to rounding.  The NumPy path is used when numba is absent, when
``NABLAGRAD_FAST=0`` is set, or inside ``use_fast(False)``.

Measured on a 2-core x86 machine (bench/RESULTS.md): the Adam update of a 235 k-parameter MLP
takes 430 µs in NumPy, 1 400 µs with numexpr, 320 µs with numba — hence numba.  The kernels
have no threads: alone, a two-thread Adam took 160 µs, but inside a training step numba's OpenMP
workers, spinning between kernels, fight OpenBLAS's own threads for the cores (a batch-128 step
went from 1.5 to 15 ms on 2 cores), and with OpenBLAS on one thread, or numba's workqueue layer,
or passive OpenMP waiting, the step was no faster than with one thread (bench/RESULTS.md).

:func:`adam_finite` (may this update go ahead?) is answered in one read of ``g`` where it can be:
bounds on ``Σ|m|``, ``v`` and ``Σ|p|`` carried from the last checked update and ``Σ|g|`` show that no
value can reach infinity; where the carried ``Σ|p|`` is too loose it is read (one more pass), and
only where that cannot show it either does the whole update run as a dry run (four reads, a square
root and a division per element — as long as the update itself).
"""

from __future__ import annotations

import contextlib
import functools
import math
import operator
import os
import weakref
from collections.abc import Callable, Iterator

import numpy as np

from .namespace import namespace_of

KERNEL_MIN = 1 << 12  # below this many elements NumPy's one call is cheaper than a kernel's dispatch
# Σ|x| of n ≥ 0 terms added in any order in a float with unit roundoff u is within γ_{n−1} = (n−1)u/(1 − (n−1)u)
# of the true sum (Higham, Accuracy and Stability, §4.2).  Summed in float32 blocks of SUM_BLOCK (twice as fast as
# float64, which is limited by the conversion) and the blocks in float64, the relative error is below
# 4096 · 2⁻²⁴ ≈ 2.4e-4: the check scales the sums by SUM_SLACK = 1 + 4096 · 2⁻²³ to make them upper bounds.
SUM_BLOCK = 1 << 12
SUM_SLACK = 1.0 + SUM_BLOCK * float(np.finfo(np.float32).eps)
_state: dict[str, object] = {"enabled": os.environ.get("NABLAGRAD_FAST", "1") != "0", "compiled": None}


def _compile() -> dict[str, Callable] | None:
    """The numba kernels, compiled on first use; ``None`` without numba."""
    try:
        import numba  # noqa: PLC0415 - optional dependency (the ``fast`` extra)
    except ImportError:
        return None
    # The kernels that other kernels call are module globals, not closure cells: numba's cache key holds the
    # pickled contents of a kernel's closure, and a compiled callee pickles differently in each process, so a
    # kernel closing over one was compiled again (and another cache file written) in every process.
    global _adam_element, _block_abs_sum, _row_max_sum, _adam_kernel, _abs_sum_kernel

    @numba.njit(error_model="numpy", cache=True)
    def _adam_element(p, g, m, v, vmax, ams, b1, c1, b2, c2, step_size, eps_hat, wd, decay, tiny):  # pragma: no cover
        gi = g + wd * p if wd != 0 else g
        mi = b1 * m + gi * c1
        vi = b2 * v + gi * gi * c2
        # flush to zero: subnormal moments make every later step ~30× slower (a NaN stays NaN)
        zero = tiny - tiny  # 0 in the arrays' dtype (tiny * 0 would be a float64)
        mi = zero if abs(mi) < tiny else mi
        vi = zero if vi < tiny else vi
        vm = max(vmax, vi) if ams else vi
        return p * decay - mi / (np.sqrt(vm) + eps_hat) * step_size, mi, vi, vm

    def adam(p, g, m, v, vmax, ams, b1, c1, b2, c2, step_size, eps_hat, wd, decay, tiny):  # pragma: no cover
        for i in range(p.size):
            pi, mi, vi, vm = _adam_element(p[i], g[i], m[i], v[i], vmax[i], ams, b1, c1, b2, c2, step_size, eps_hat,
                                          wd, decay, tiny)  # fmt: skip
            p[i] = pi
            m[i] = mi
            v[i] = vi
            if ams:
                vmax[i] = vm
        return True

    def adam_finite(p, g, m, v, vmax, ams, b1, c1, b2, c2, step_size, eps_hat, wd, decay, tiny):  # pragma: no cover
        bad = False  # `|=` keeps the loop vectorised (a count does not)
        for i in range(p.size):
            pi, mi, vi, vm = _adam_element(p[i], g[i], m[i], v[i], vmax[i], ams, b1, c1, b2, c2, step_size, eps_hat,
                                          wd, decay, tiny)  # fmt: skip
            bad |= ((pi - pi) + (mi - mi) + (vi - vi) + (vm - vm)) != 0  # x - x is NaN exactly when x is Inf or NaN
        return not bad

    @numba.njit(error_model="numpy", cache=True, fastmath={"reassoc"})
    def _block_abs_sum(a):  # pragma: no cover - compiled
        """``Σ|a|`` in the array's dtype, in any order (vectorised)."""
        s = a.dtype.type(0)
        for i in range(a.size):
            s += abs(a[i])
        return s

    def abs_sum(a):  # pragma: no cover - compiled
        """``Σ|a|``: blocks of :data:`SUM_BLOCK` summed in the array's dtype, the blocks' sums in float64;
        NaN or inf if the array has one (or a block's sum overflows)."""
        s = 0.0
        for lo in range(0, a.size, SUM_BLOCK):
            s += np.float64(_block_abs_sum(a[lo : lo + SUM_BLOCK]))
        return s

    def outer(x, g, out):  # pragma: no cover - compiled
        for i in range(x.size):
            xi = x[i]
            for j in range(g.size):
                out[i, j] = xi * g[j]

    def relu_backward(g, x, out):  # pragma: no cover - compiled
        for i in range(x.size):
            out[i] = 0 if x[i] <= 0 else g[i]  # a NaN x passes g on (PyTorch's threshold_backward)

    @numba.njit(error_model="numpy", cache=True, inline="always")
    def _row_max_sum(z, i):  # pragma: no cover - compiled
        """``m = max_j z_ij`` and ``Σ_j e^{z_ij − m}`` (a NaN anywhere makes the sum NaN, as in NumPy; a
        −∞ logit adds 0)."""
        m = z[i, 0]
        for j in range(1, z.shape[1]):
            m = max(m, z[i, j])
        s = np.exp(z[i, 0] - m)
        for j in range(1, z.shape[1]):
            s += np.exp(z[i, j] - m)
        return m, s

    def softmax_ce_rows(z, labels, out):  # pragma: no cover - compiled
        """The rows' losses into ``out``; the first row whose label is outside ``[0, C)``, or −1."""
        for i in range(z.shape[0]):
            y = labels[i]
            if y < 0 or y >= z.shape[1]:
                return i
            m, s = _row_max_sum(z, i)
            out[i] = np.log(s) - (z[i, y] - m)
        return -1

    def softmax_ce_grad(z, labels, w, out):  # pragma: no cover - compiled
        """``w_i (softmax(z_i) − onehot(y_i))`` into ``out``; the first row with a bad label, or −1."""
        one = w.size == 1
        for i in range(z.shape[0]):
            y = labels[i]
            if y < 0 or y >= z.shape[1]:
                return i
            m, s = _row_max_sum(z, i)
            for j in range(z.shape[1]):
                out[i, j] = np.exp(z[i, j] - m) / s
            out[i, y] -= 1  # the NumPy rule's operations, in its order
            wi = w[0] if one else w[i]
            for j in range(z.shape[1]):
                out[i, j] *= wi
        return -1

    def adam_parts(p, gs, m, v, vmax, ams, b1, c1, b2, c2, step_size, eps_hat, wd, decay, tiny):  # pragma: no cover
        """:func:`adam` over flat ``p``, ``m``, ``v``, ``vmax`` with the gradient in consecutive parts ``gs`` (a
        tuple): one call where :func:`adam` takes one per part, the same numbers element by element."""
        start = 0
        for g in gs:
            end = start + g.size
            _adam_kernel(p[start:end], g, m[start:end], v[start:end], vmax[start:end], ams, b1, c1, b2, c2,
                         step_size, eps_hat, wd, decay, tiny)  # fmt: skip
            start = end
        return True

    def abs_sum_parts(parts):  # pragma: no cover - compiled
        """:func:`abs_sum` of each part, added (in float64) in their order: ``Σ|a|`` of the parts as one array."""
        s = 0.0
        for a in parts:
            s += _abs_sum_kernel(a)
        return s

    fns = {"adam": adam, "adam_finite": adam_finite, "outer": outer, "relu_backward": relu_backward,
           "softmax_ce_rows": softmax_ce_rows, "softmax_ce_grad": softmax_ce_grad}  # fmt: skip
    kernels = {name: numba.njit(fn, error_model="numpy", cache=True) for name, fn in fns.items()}
    _abs_sum_kernel = kernels["abs_sum"] = numba.njit(abs_sum, error_model="numpy", cache=True)
    kernels["abs_sum_parts"] = numba.njit(abs_sum_parts, error_model="numpy", cache=True)
    _adam_kernel = kernels["adam"]  # (adam_parts calls the compiled kernel on each part's slices)
    kernels["adam_parts"] = numba.njit(adam_parts, error_model="numpy", cache=True)
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


def _kernel(name: str) -> Callable:
    return _state["compiled"][name]  # type: ignore[index]


_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))  # what numba compiles (no float16), native byte order


def _flat_ok(*arrays: np.ndarray) -> bool:
    """C-ordered NumPy arrays of one float32 or float64 dtype: what the elementwise kernels take."""
    if arrays[0].__class__ is not np.ndarray or arrays[0].dtype not in _KERNEL_DTYPES:
        return False
    dtype = arrays[0].dtype
    for a in arrays:  # a plain loop: asked for ten arrays on every Adam step
        if a.__class__ is not np.ndarray or a.dtype != dtype or not a.flags.c_contiguous:
            return False
    return True


class Layout:
    """Where the consecutive pieces of a flat array lie: ``views`` of the flat ``out``, in order (a flat
    parameter group's gradient buffer, cut at its parameters' shapes).  :meth:`cut` slices other flat
    arrays at the same places; the slices are kept from one step to the next for as long as the same
    arrays are passed (an identity test per array), so a steady run cuts its buffers once."""

    __slots__ = ("views", "out", "_arrays", "_slices")

    def __init__(self, views: list[np.ndarray], out: np.ndarray):
        self.views, self.out, self._arrays, self._slices = views, out, (), []

    def cut(self, arrays: tuple[np.ndarray, ...]) -> list[tuple[np.ndarray, ...]]:
        """Per view: each of the flat ``arrays`` (of ``out.size`` elements) sliced where the view lies."""
        if len(arrays) != len(self._arrays) or not all(map(operator.is_, arrays, self._arrays)):
            slices, start = [], 0
            for view in self.views:
                end = start + view.size
                slices.append(tuple(a[start:end] for a in arrays))
                start = end
            self._arrays, self._slices = arrays, slices
        return self._slices


class Parts:
    """A flat array handed over as its consecutive pieces — a flat parameter group's gradients, each
    where backward left it, at the places ``layout`` gives: the compiled Adam kernels read the pieces
    in place (no copy into one buffer, which costs as much as the update itself for a large model);
    :meth:`whole` copies them into the layout's views of its ``out`` (once) for code that needs one array."""

    __slots__ = ("parts", "layout", "_whole")

    def __init__(self, parts: list[np.ndarray], layout: Layout):
        self.parts, self.layout, self._whole = parts, layout, False

    def cut(self, *arrays: np.ndarray) -> list[tuple[np.ndarray, ...]]:
        """Per part: the part itself (flat) and each of the flat ``arrays`` sliced where that part lies.
        A part of another size than its place is refused (a kernel would read past its end)."""
        out = []
        for part, view, slices in zip(self.parts, self.layout.views, self.layout.cut(arrays), strict=True):
            if part.size != view.size:
                raise ValueError(f"Parts: a part of shape {part.shape} where the layout has {view.shape}")
            out.append((part if part.ndim == 1 else part.reshape(-1), *slices))
        return out

    def whole(self) -> np.ndarray:
        if not self._whole:
            for view, part in zip(self.layout.views, self.parts):
                np.copyto(view, part)
            self._whole = True
        return self.layout.out


def _whole(g) -> np.ndarray:
    return g.whole() if g.__class__ is Parts else g


def adam_(p, g, m, v, scratch, b1: float, b2: float, step_size: float, eps_hat: float, wd: float = 0.0,
          vmax: np.ndarray | None = None, decay: float = 1.0) -> None:  # fmt: skip
    """One Adam update in place (all arrays of one shape and dtype; ``scratch`` is work space):

    ``g' = g + λ p``; ``m ← β1 m + (1 − β1) g'``; ``v ← β2 v + (1 − β2) g'²``;
    ``p ← δ p − s · m / (√v + ε̂)`` with ``s = α√(1 − β2ᵗ)/(1 − β1ᵗ)``, ``ε̂ = ε√(1 − β2ᵗ)`` and
    ``δ = 1 − αλ`` for decoupled weight decay (AdamW), else 1.
    With ``vmax`` (AMSGrad) ``vmax ← max(vmax, v)`` takes the place of ``v`` in the step.
    The compiled kernel flushes moments below the smallest normal number to 0 (as XLA's
    flush-to-zero mode does): a gradient that stays 0 (an MNIST border pixel) would otherwise
    decay ``m`` into the subnormal range, where every operation on it is ~30× slower.  The
    NumPy path keeps subnormals, like PyTorch; the two differ only below ~1e-38 (float32).
    """
    consts = (b1, b2, step_size, eps_hat, wd, decay)
    checked = _Checked.take(p, g, m, v, vmax, consts)
    segments = _adam_args(p, g, m, v, vmax, consts) if checked is None else checked.segments
    if segments is not None:
        kernel = _kernel("adam")
        for segment in segments:
            kernel(*segment)
        _updated(p, m, v, vmax, None if checked is None else checked.after)
        return
    forget_bounds(m)  # written outside the kernels: a later check reads the state in full
    g = _whole(g)
    if p.__class__ is not np.ndarray:  # another array library (CuPy, array API): the same steps, without out=
        _adam_plain(p, g, m, v, b1, b2, step_size, eps_hat, wd, vmax, decay)
        return
    if wd:
        g = g + wd * p
    if decay != 1:
        p *= decay
    m *= b1
    np.multiply(g, 1 - b1, out=scratch)
    m += scratch
    v *= b2
    np.multiply(g, g, out=scratch)
    scratch *= 1 - b2
    v += scratch
    if vmax is not None:
        np.maximum(vmax, v, out=vmax)
    np.sqrt(v if vmax is None else vmax, out=scratch)
    scratch += eps_hat
    np.divide(m, scratch, out=scratch)
    scratch *= step_size
    p -= scratch


def _adam_plain(p, g, m, v, b1: float, b2: float, step_size: float, eps_hat: float, wd: float, vmax, decay: float) -> None:
    """:func:`adam_`'s NumPy path operation for operation (so the results agree bit for bit),
    written with the array API standard's in-place operators instead of ``out=``."""
    xp = namespace_of(p)
    if wd:
        g = g + wd * p
    if decay != 1:
        p *= decay
    m *= b1
    m += g * (1 - b1)
    v *= b2
    v += g * g * (1 - b2)
    if vmax is not None:
        vmax[...] = xp.maximum(vmax, v)
    p -= m / (xp.sqrt(v if vmax is None else vmax) + eps_hat) * step_size


def adam_finite(p, g, m, v, b1: float, b2: float, step_size: float, eps_hat: float, wd: float = 0.0,
                vmax: np.ndarray | None = None, decay: float = 1.0) -> bool | None:  # fmt: skip
    """Whether :func:`adam_` with these arguments would leave ``p``, ``m``, ``v`` (and ``vmax``)
    finite — found without writing anything, so a step can be refused before it changes a number.
    ``None`` where the compiled kernels do not apply (the caller then keeps a copy to restore).

    First from bounds (one read of ``g``, see :class:`_Bounds`); where they do not
    settle it, by evaluating the update's formula element by element without writing.  An allowed
    update is remembered (:class:`_Checked`): :func:`adam_` with the same arguments runs the
    kernels' argument lists prepared here and carries the bounds."""
    _Checked.pending.pop(id(m), None)  # an earlier check's answer is void from here on
    consts = (b1, b2, step_size, eps_hat, wd, decay)
    segments = _adam_args(p, g, m, v, vmax, consts)
    if segments is None:
        return None
    dry_run = lambda: all(_kernel("adam_finite")(*segment) for segment in segments)  # noqa: E731
    bounds = _Bounds.known(p, m, v, vmax)
    dry_run_done = bounds is None
    if dry_run_done:  # none carried over (a first check, a new or restored state): read p, m and v once
        if not dry_run():
            return False
        bounds = _Bounds.read(p, m, v, vmax)
    after = _bounds_after(bounds, segments, p.dtype, consts, vmax is not None)
    if after is None and not dry_run_done and not dry_run():
        return False
    _Checked.pending[id(m)] = _Checked((p, g, m, v, vmax), consts, segments, after)
    return True


def _bounds_after(bounds: _Bounds, segments: list[list], dtype, consts: tuple, ams: bool) -> _Bounds | None:
    """:meth:`_Bounds.after` with ``Σ|g|`` read from the kernels' argument lists; where a carried ``Σ|p|``
    is too loose to show the update finite, again with ``Σ|p|`` read."""
    sum_g = _sum_abs([segment[1] for segment in segments])
    after = bounds.after(sum_g, dtype, *consts, ams)
    if after is None and bounds.p_carried:
        after = bounds.with_p(_sum_abs([segment[0] for segment in segments])).after(sum_g, dtype, *consts, ams)
    return after


def _sum_abs(arrays: list[np.ndarray]) -> float:
    """An upper bound of ``Σ|a|`` over flat arrays the kernels take: the compiled sums times :data:`SUM_SLACK`
    (their float64 total rounds by far less than the ``1 + 10⁻⁵`` that :meth:`_Bounds.after` allows)."""
    kernel, total = _kernel("abs_sum"), 0.0
    for a in arrays:
        total += kernel(a)
    return total * SUM_SLACK


class SteadyAdam:
    """The steady state of a training loop over one flat group — ``p``, ``m``, ``v`` (and ``vmax``) flat, the
    gradient given as its parameters' arrays at the places of ``layout``: the kernels' argument lists are made
    once and kept from one step to the next; each step puts in its gradients and constants (:func:`_adam_constants`).  In a small
    step the Python around the two kernel passes is a large part of the time, and it runs on caches the
    update's passes over memory have just emptied.

    :meth:`prepare` is :func:`adam_finite`'s check from the bounds carried from the last checked update
    alone (one read of ``g``, see :class:`_Bounds`); :meth:`run` the update it allowed.  Neither keeps a
    gradient once it returns."""

    __slots__ = ("arrays", "layout", "sizes", "call")

    def __init__(self, p, layout: Layout, m, v, vmax, flat: tuple):
        self.arrays, self.layout = (p, m, v, vmax), layout
        self.sizes = [view.size for view in layout.views]
        # adam_parts' arguments: flat p, the gradient's parts (put in by prepare), flat m, v, vmax, the constants
        self.call: list = [flat[0], None, *flat[1:]]

    @classmethod
    def make(cls, p, layout: Layout, m, v, vmax) -> SteadyAdam | None:
        """The argument lists for these arrays; ``None`` without the kernels or for arrays they do not take."""
        ams = vmax is not None
        w = vmax if ams else v
        if not (fast_available() and _flat_ok(p, m, v, w)) or not p.size == m.size == v.size == w.size == layout.out.size:
            return None
        return cls(p, layout, m, v, vmax, tuple(a if a.ndim == 1 else a.reshape(-1) for a in (p, m, v, w)))

    def fits(self, p, layout: Layout, m, v, vmax) -> bool:
        a = self.arrays
        return a[0] is p and a[1] is m and a[2] is v and a[3] is vmax and self.layout is layout

    def prepare(self, grads: list[np.ndarray], consts: tuple) -> _Bounds | None:
        """The update with ``grads`` (in the layout's order, each of its place's size) and ``consts = (β1, β2,
        step_size, ε̂, λ, δ)``, shown finite by the carried bounds: the bounds after it, for :meth:`run`; ``None``
        (nothing kept) where no bounds are carried, they do not settle it, or a gradient is not an array the
        kernels take — then :func:`adam_finite` decides.  A gradient of another size raises ``ValueError``."""
        p, m, v, vmax = self.arrays
        bounds = _Bounds.known(p, m, v, vmax)
        if bounds is None or not fast_available():
            return None
        dtype, sizes = p.dtype, self.sizes
        if len(grads) != len(sizes):
            raise ValueError(f"SteadyAdam: {len(grads)} gradients for {len(sizes)} places")
        parts = []
        for g, size in zip(grads, sizes):
            if g.__class__ is not np.ndarray or g.dtype != dtype or not g.flags.c_contiguous:
                return None
            if g.size != size:
                raise ValueError(f"SteadyAdam: a gradient of shape {g.shape} where its place has {size} entries")
            parts.append(g if g.ndim == 1 else g.reshape(-1))
        parts = tuple(parts)
        sum_g = _kernel("abs_sum_parts")(parts) * SUM_SLACK
        after = bounds.after(sum_g, dtype, *consts, vmax is not None)
        if after is None and bounds.p_carried:
            after = bounds.with_p(_abs_sum(p)).after(sum_g, dtype, *consts, vmax is not None)
        if after is not None:
            call = self.call
            call[1] = parts
            call[5:] = _adam_constants(dtype, vmax is not None, consts)
        return after

    def run(self, after: _Bounds) -> None:
        """The update :meth:`prepare` allowed, in place; ``after`` carried to the next check."""
        try:
            _kernel("adam_parts")(*self.call)
        finally:
            self.release()
        p, m, v, vmax = self.arrays
        _updated(p, m, v, vmax, after)

    def release(self) -> None:
        """Let go of the gradients put in by :meth:`prepare`."""
        self.call[1] = None


def _abs_sum(a: np.ndarray) -> float:
    """An upper bound of ``Σ|a|`` (the compiled sum times :data:`SUM_SLACK`)."""
    return _sum_abs([a if a.ndim == 1 else a.reshape(-1)])


class _Checked:
    """An update :func:`adam_finite` allowed: its arguments, the kernels' argument lists it prepared
    and the state's bounds after the update (``None`` where they cannot be carried).  Kept per ``m``
    until the update comes; :func:`adam_` called with the very same arrays (identity) and constants
    runs those lists and keeps those bounds — one preparation per step.  Any other call prepares its
    own lists, and the next check reads the state in full."""

    __slots__ = ("arrays", "consts", "segments", "after")
    pending: dict[int, _Checked] = {}  # id(m) -> the last check's answer, until its update

    def __init__(self, arrays: tuple, consts: tuple, segments: list[list], after: _Bounds | None):
        self.arrays, self.consts, self.segments, self.after = arrays, consts, segments, after

    @classmethod
    def take(cls, p, g, m, v, vmax, consts: tuple) -> _Checked | None:
        """The check of exactly this update (removed from :attr:`pending`), or ``None``."""
        checked = cls.pending.pop(id(m), None)
        if checked is None or not fast_available():
            return None
        a = checked.arrays
        same = a[0] is p and a[1] is g and a[2] is m and a[3] is v and a[4] is vmax and checked.consts == consts
        return checked if same else None


class _Bounds:
    """Upper bounds ``M ≥ Σ|m|``, ``V ≥ Σ|v|``, ``P ≥ Σ|p|`` (each sum also bounds every entry) and
    ``W ≥ max vmax`` of an Adam state and its parameters, carried from one checked update to the next.  With
    ``G = Σ|g| + |λ|P`` (≥ ``Σ|g + λp|``): ``M' = β1 M + (1 − β1) G``, ``V' = β2 V + (1 − β2) G²`` (as
    ``Σg² ≤ (Σ|g|)²``), ``W' = max(W, V')`` (a bound of every entry, not of the sum: ``Σ max(a, b)`` can
    exceed ``max(Σa, Σb)``; read in full, ``W = Σ vmax``) and, as ``|m/(√v + ε̂)| ≤ |m|/ε̂``,
    ``P' = |δ|P + |s|M'/ε̂`` (each × (1 + 10⁻⁵) for rounding; flushing a moment to 0 only lowers a sum).
    The update ``δp − s·m/(√v + ε̂)`` is finite when ``G² ≤ F/4`` (the kernel forms ``g·g``),
    ``M' ≤ ε̂·F/(4 max(1, |s|))``, ``V', W' ≤ F/4`` and ``|δ|P ≤ F/4`` (``F`` the largest float): then each
    of its two terms stays below ``F/4``.

    The bounds are kept per ``m`` array and hold while ``p``, ``m``, ``v`` change only through :func:`adam_`;
    replacing the state (``load_state_dict``, a repacked buffer) or an update without a check (a refused
    step's restore follows one) starts again from a full read.  ``P'`` grows by ``|s|M'/ε̂`` a step (ε̂ is
    tiny): where it has grown too loose to show an update finite, ``Σ|p|`` is read again
    (:attr:`p_carried`) — so the check of a steady step reads ``g`` alone.  A parameter written past the
    optimiser makes a carried ``P`` wrong (a NaN put there with λ ≠ 0 would reach ``m`` and ``v``; a large
    finite value could overflow): ``Optimizer.step`` drops the bounds (:func:`forget_bounds`) of a parameter
    whose version counter moved since its last update (``copy_``, ``x[...] = v``, ``p -= …``,
    ``load_state_dict``); a write into ``p.data`` that bypasses the counter is not seen."""

    __slots__ = ("m", "v", "vmax", "p", "p_carried")
    known_bounds: dict[int, tuple] = {}  # id(m) -> (weak p, weak m, weak v, weak vmax or None, _Bounds)

    def __init__(self, m: float, v: float, vmax: float, p: float, p_carried: bool = False):
        self.m, self.v, self.vmax, self.p, self.p_carried = m, v, vmax, p, p_carried

    @classmethod
    def read(cls, p, m, v, vmax) -> _Bounds:
        """The bounds of a state and its parameters read in full: ``Σ|m|``, ``Σ|v|``, ``Σ|vmax|``, ``Σ|p|``."""
        return cls(_abs_sum(m), _abs_sum(v), _abs_sum(vmax) if vmax is not None else 0.0, _abs_sum(p))

    @classmethod
    def known(cls, p, m, v, vmax) -> _Bounds | None:
        entry = cls.known_bounds.get(id(m))
        return entry[4] if entry is not None and _refers_to(entry, p, m, v, vmax) else None

    def with_p(self, sum_p: float) -> _Bounds:
        """These bounds with ``Σ|p|`` as read now."""
        return _Bounds(self.m, self.v, self.vmax, sum_p)

    def after(self, sum_g: float, dtype, b1, b2, step_size, eps_hat, wd, decay, ams: bool) -> _Bounds | None:
        """The bounds after the update, or ``None`` when they cannot show that it stays finite."""
        (big, tiny), slack = _limits(dtype), 1.0 + 1e-5
        eps, decay, step_size = float(dtype.type(eps_hat)), float(decay), float(step_size)
        g = (sum_g + abs(float(wd)) * self.p) * slack  # Python floats: an overflow is inf, without a warning
        m = (b1 * self.m + (1 - b1) * g) * slack
        v = (b2 * self.v + (1 - b2) * g * g) * slack
        vmax = max(self.vmax, v) if ams else 0.0
        ok = (math.isfinite(g) and g * g <= big / 4 and eps >= tiny and math.isfinite(step_size)
              and m <= eps * big / (4 * max(1.0, abs(step_size))) and max(v, vmax) <= big / 4
              and abs(decay) * self.p <= big / 4)  # fmt: skip
        if not ok:
            return None
        p = (abs(decay) * self.p + abs(step_size) * m / eps) * slack
        return _Bounds(m, v, vmax, p, p_carried=True)


def _refers_to(entry: tuple, p, m, v, vmax) -> bool:
    """Whether the weak references of a :attr:`_Bounds.known_bounds` entry point at these very arrays."""
    return entry[1]() is m and entry[2]() is v and entry[0]() is p and (entry[3] and entry[3]()) is vmax


def _updated(p, m, v, vmax, after: _Bounds | None) -> None:
    """After :func:`adam_` wrote ``p``, ``m``, ``v``: ``after``, the bounds its check computed, hold now (else
    none do).  An entry's weak references are kept while they point at the same arrays."""
    key, known = id(m), _Bounds.known_bounds  # the callback holds the dict (at exit _Bounds may be gone)
    entry = known.get(key)
    if after is None:
        known.pop(key, None)
    elif entry is not None and _refers_to(entry, p, m, v, vmax):
        known[key] = (*entry[:4], after)
    else:
        refs = (weakref.ref(p), weakref.ref(m, lambda _: known.pop(key, None)), weakref.ref(v),
                None if vmax is None else weakref.ref(vmax))  # fmt: skip
        known[key] = (*refs, after)


def forget_check(m) -> None:
    """Drop the answer of an :func:`adam_finite` call on the state whose first moment is ``m`` whose update
    will not run (a refused step): it holds ``p``, ``g``, ``m``, ``v`` until then.  The carried bounds stay."""
    _Checked.pending.pop(id(m), None)


def forget_bounds(m) -> None:
    """Drop what :func:`adam_finite` knows of the state whose first moment is ``m`` (its values were
    written outside :func:`adam_`, e.g. restored after a refused step): the next check reads it all."""
    _Bounds.known_bounds.pop(id(m), None)
    _Checked.pending.pop(id(m), None)


@functools.cache
def _finfo(dtype: np.dtype) -> np.finfo:
    return np.finfo(dtype)


@functools.cache
def _limits(dtype: np.dtype) -> tuple[float, float]:
    """The largest and the smallest normal number of ``dtype``, as Python floats."""
    info = _finfo(dtype)
    return float(info.max), float(info.tiny)


def _adam_args(p, g, m, v, vmax, consts: tuple) -> list[list] | None:
    """The compiled Adam kernels' argument lists: ``p``, ``g``, ``m``, ``v``, ``vmax`` as flat views —
    cut where the parts of a :class:`Parts` gradient meet, one list per part, else one list — and the
    constants ``(β1, β2, step_size, ε̂, λ, δ)`` in ``p``'s dtype; ``None`` without the kernels or for
    arrays they do not take."""
    ams = vmax is not None
    vmax = vmax if ams else v
    parts = g.parts if g.__class__ is Parts else (g,)
    if not (fast_available() and _flat_ok(p, m, v, vmax, *parts)):
        return None
    n = p.size  # the kernels index every array up to p.size without bounds checks: a state buffer (or gradient)
    if m.size != n or v.size != n or vmax.size != n or (g.__class__ is not Parts and g.size != n):  # of another
        return None  # size (a user's assignment to opt.state) takes the NumPy path, which raises on it
    constants = _adam_constants(p.dtype, ams, consts)
    p, m, v, vmax = (a if a.ndim == 1 else a.reshape(-1) for a in (p, m, v, vmax))
    if g.__class__ is not Parts:
        return [[p, g.reshape(-1), m, v, vmax, *constants]]
    return [[p_part, part, m_part, v_part, vmax_part, *constants]
            for part, p_part, m_part, v_part, vmax_part in g.cut(p, m, v, vmax)]  # fmt: skip


def _adam_constants(dtype: np.dtype, ams: bool, consts: tuple) -> tuple:
    """The Adam kernel's arguments after the arrays, in its order: ``ams``, then ``β1``, ``1 − β1``, ``β2``,
    ``1 − β2``, ``step_size``, ``ε̂``, ``λ``, ``δ`` in ``dtype`` (from ``consts = (β1, β2, step_size, ε̂, λ, δ)``),
    and the smallest normal number (what the kernel flushes moments below)."""
    b1, b2, step_size, eps_hat, wd, decay = consts
    dt = dtype.type
    return ams, dt(b1), dt(1 - b1), dt(b2), dt(1 - b2), dt(step_size), dt(eps_hat), dt(wd), dt(decay), _finfo(dtype).tiny


def outer(x: np.ndarray, g: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``xᵀ g`` for one row each, ``(1, I)`` and ``(1, J)`` → ``(I, J)``: ``out_ij = x_i g_j``, the numbers of
    NumPy's ``x.T * g``.  A weight's gradient at batch 1: NumPy's broadcast product runs ~5× slower than this
    loop at (784, 256), and a GEMM with k = 1 ~15× (bench/RESULTS.md).  ``out``: where to write it."""
    shape = (x.shape[1], g.shape[1])
    if x.size * g.size >= KERNEL_MIN and fast_available() and x.shape[0] == g.shape[0] == 1 and _flat_ok(x, g):
        if out is None:
            out = np.empty(shape, x.dtype)
        if out.shape == shape and _flat_ok(x, out):
            _kernel("outer")(x.reshape(-1), g.reshape(-1), out)
            return out
    return x.T * g if out is None else np.multiply(x.T, g, out=out)


def relu_backward(g: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``ḡ · [not x ≤ 0]``: the ReLU's vector–Jacobian product, in one pass.  As PyTorch's
    ``threshold_backward``: 0 where x ≤ 0 (even where ḡ is ±∞/NaN), ḡ elsewhere — a NaN x included.
    The kernel at every size: NumPy's path is four calls (3.5 µs for 128 entries, the kernel 1.1 µs)."""
    if fast_available() and g.shape == x.shape and _flat_ok(g, x):
        out = np.empty_like(g)
        _kernel("relu_backward")(g.reshape(-1), x.reshape(-1), out.reshape(-1))
        return out
    passes = ~(x <= 0)
    out = g * passes
    if not np.isfinite(out).all():  # a 0·∞ or 0·NaN where x ≤ 0: select instead, as the kernel does
        out = np.where(passes, g, 0)
    return out


def _ce_ok(z, labels) -> bool:
    """The kernels take C-ordered float32/float64 logits (N, C ≥ 1) and integer labels, native byte order."""
    return (fast_available() and z.__class__ is np.ndarray and z.ndim == 2 and z.shape[1] > 0 and z.flags.c_contiguous
            and z.dtype in _KERNEL_DTYPES and labels.__class__ is np.ndarray and labels.dtype.kind in "iu"
            and labels.dtype.isnative and labels.ndim == 1)  # fmt: skip


def _check_row(bad: int, labels: np.ndarray, classes: int) -> None:
    if bad >= 0:  # the caller states the rule (its own check, then, gives the message)
        raise IndexError(f"label {labels[bad]} (row {bad}) is not in [0, {classes - 1}]")


def softmax_ce_rows(z: np.ndarray, labels: np.ndarray) -> np.ndarray | None:
    """``ℓ_i = log Σ_j e^{z_ij − m_i} − (z_{i,y_i} − m_i)`` with ``m_i = max_j z_ij``, one pass per row;
    ``None`` where the compiled kernels do not apply (the caller computes it with NumPy).  A label
    outside ``[0, C)`` raises ``IndexError`` before anything is read out of bounds."""
    if not _ce_ok(z, labels):
        return None
    out = np.empty(z.shape[0], z.dtype)
    _check_row(_kernel("softmax_ce_rows")(z, labels, out), labels, z.shape[1])
    return out


def softmax_ce_grad(z: np.ndarray, labels: np.ndarray, w) -> np.ndarray | None:
    """``w_i (softmax(z_i) − onehot(y_i))`` in one pass per row (``w`` one weight per row, or one for
    all); ``None`` where the compiled kernels do not apply.  A bad label raises ``IndexError``."""
    if not _ce_ok(z, labels):
        return None
    w = np.asarray(w, dtype=z.dtype).reshape(-1)
    if w.size not in (1, z.shape[0]):
        return None
    out = np.empty_like(z)
    _check_row(_kernel("softmax_ce_grad")(z, labels, w, out), labels, z.shape[1])
    return out
