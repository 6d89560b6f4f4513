"""The fused floor split over two cores: how low a step of the peers' MLP can go on this machine.

Not a library path (bench/RESULTS.md, eleventh session, has why the engine does not take it). The step is
``_peers.fused_floor`` with one change. The first layer's ``W`` has 200 k entries. Its products and its Adam
update are cut in two at the same place, and each half runs on one of numba's two threads:

- the forward ``x W``: the columns of the output;
- the weight gradient ``xᵀ g``: the rows of ``∂W``;
- Adam's check and update: the same rows of ``W``, ``∂W``, ``m`` and ``v``.

Each core updates the same rows every step, so it keeps its half of the state (1.6 MB) in its own 2 MB L2
cache. The halves are products on NumPy's own OpenBLAS, called through ctypes with one thread.

OpenBLAS's worker thread spins for ~0.1 s after a product on two threads, on the core that numba's worker
needs. So the run first ends it (``blas_thread_shutdown_``, OpenBLAS's fork handler) and sets OpenBLAS's
thread count to one. It writes the count directly, because OpenBLAS's setters start the worker again. Both
are internals of OpenBLAS: fine for a benchmark, not for a library.
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys

import numpy as np
from _peers import B1, B2, EPS, LR, floor_backward  # _peers imports this module only when asked for

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112  # CBLAS's enums


@functools.cache
def _openblas():
    """``(sgemm, threads, server, shutdown)`` of NumPy's OpenBLAS (scipy-openblas: 64-bit integers), or None."""
    if sys.platform != "linux":
        return None
    with open("/proc/self/maps") as maps:
        paths = sorted({ln.split()[-1] for ln in maps if "scipy_openblas" in ln and ln.rstrip().endswith(".so")})
    for path in paths:
        lib = ctypes.CDLL(path)
        fn, shutdown = getattr(lib, "scipy_cblas_sgemm64_", None), getattr(lib, "blas_thread_shutdown_", None)
        if fn is None or shutdown is None:
            continue
        i, e, f, p = ctypes.c_int64, ctypes.c_int, ctypes.c_float, ctypes.c_void_p
        sgemm = ctypes.CFUNCTYPE(None, e, e, e, i, i, i, f, p, i, p, i, f, p, i)(ctypes.cast(fn, p).value)
        threads, server = (ctypes.c_int.in_dll(lib, n) for n in ("blas_cpu_number", "blas_server_avail"))
        return sgemm, threads, server, shutdown
    return None


@functools.cache
def _kernels() -> dict:
    import numba  # noqa: PLC0415 - the fast extra

    from nablagrad.backend import kernels  # noqa: PLC0415

    kernels.fast_available()
    adam_one, abs_sum_one = kernels._kernel("adam"), kernels._kernel("abs_sum")

    def forward(gemm, x, W, out):  # pragma: no cover - compiled
        n, k = x.shape
        J = W.shape[1]
        for t in numba.prange(2):
            j0, j1 = t * J // 2, (t + 1) * J // 2
            gemm(_ROW_MAJOR, _NO_TRANS, _NO_TRANS, n, j1 - j0, k, np.float32(1), x.ctypes, k, W[:, j0:].ctypes, J,
                 np.float32(0), out[:, j0:].ctypes, J)  # fmt: skip

    def weight_grad(gemm, x, g, out):  # pragma: no cover - compiled
        n, I = x.shape
        J = g.shape[1]
        for t in numba.prange(2):
            i0, i1 = t * I // 2, (t + 1) * I // 2
            gemm(_ROW_MAJOR, _TRANS, _NO_TRANS, i1 - i0, J, n, np.float32(1), x[:, i0:].ctypes, I, g.ctypes, J,
                 np.float32(0), out[i0:].ctypes, J)  # fmt: skip

    def adam_halves(p, g, m, v, split, b1, c1, b2, c2, step_size, eps_hat, tiny):  # pragma: no cover - compiled
        zero = tiny - tiny
        for t in numba.prange(2):
            lo, hi = (0, split) if t == 0 else (split, p.size)
            adam_one(p[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi], v[lo:hi], False, b1, c1, b2, c2, step_size, eps_hat,
                     zero, tiny / tiny, tiny)  # fmt: skip

    def abs_sum_halves(a, split):  # pragma: no cover - compiled
        s = 0.0
        for t in numba.prange(2):
            s += abs_sum_one(a[:split]) if t == 0 else abs_sum_one(a[split:])
        return s

    fns = {"forward": forward, "weight_grad": weight_grad, "adam_halves": adam_halves, "abs_sum_halves": abs_sum_halves}
    return {name: numba.njit(fn, parallel=True, cache=True) for name, fn in fns.items()}


def split_floor(sizes, weights):
    """``_peers.fused_floor`` with the first layer's products and Adam update split over two cores; None where
    the pieces are missing (not Linux, no numba, not NumPy's scipy-openblas)."""
    from nablagrad.backend import kernels  # noqa: PLC0415

    blas = _openblas()
    if blas is None or not kernels.fast_available() or (os.cpu_count() or 1) < 2:
        return None
    sgemm, threads, server, shutdown = blas
    k = _kernels()
    shapes = [s for W, b in weights for s in (W.shape, b.shape)]
    n = sum(int(np.prod(s)) for s in shapes)
    flat, grad, m, v = (np.zeros(n, np.float32) for _ in range(4))
    cuts = np.cumsum([0] + [int(np.prod(s)) for s in shapes])
    params = [flat[a:b].reshape(s) for a, b, s in zip(cuts, cuts[1:], shapes)]
    grads = [grad[a:b].reshape(s) for a, b, s in zip(cuts, cuts[1:], shapes)]
    for p, a in zip(params, [a for pair in weights for a in pair]):
        p[...] = a
    first = params[0].size  # the first layer's W: flat[:first], cut after its first half of rows
    split = (shapes[0][0] // 2) * shapes[0][1]
    t = [0]
    f32 = np.float32
    split_weight_grad = functools.partial(k["weight_grad"], sgemm)

    def run(X, y, batches):
        L, batch = len(weights), len(batches[0])
        acts = [np.empty((batch, s), np.float32) for s in sizes]
        dA = [np.empty((batch, s), np.float32) for s in sizes]
        w = np.float32(1 / batch)
        if server.value:
            shutdown()
        saved, threads.value = threads.value, 1
        try:
            for idx in batches:
                acts[0], yb = X[idx], y[idx]
                for i in range(L):
                    if i == 0 and batch > 1:
                        k["forward"](sgemm, acts[0], params[0], acts[1])
                    else:
                        np.matmul(acts[i], params[2 * i], out=acts[i + 1])
                    acts[i + 1] += params[2 * i + 1]
                    if i < L - 1:
                        np.maximum(acts[i + 1], 0, out=acts[i + 1])
                z = acts[L]
                loss = float(np.mean(kernels.softmax_ce_rows(z, yb)))
                g = kernels.softmax_ce_grad(z, yb, w)
                floor_backward(acts, g, params, grads, dA, split_weight_grad if batch > 1 else None)
                t[0] += 1
                bc1, bc2s = 1 - B1 ** t[0], (1 - B2 ** t[0]) ** 0.5
                c = (f32(B1), f32(1 - B1), f32(B2), f32(1 - B2), f32(LR * bc2s / bc1), f32(EPS * bc2s))
                # the floor's check, Σ|g| (both halves at once): the carried bounds then show the update finite
                if not np.isfinite(k["abs_sum_halves"](grad[:first], split) + kernels._abs_sum(grad[first:])):
                    raise FloatingPointError("split floor: the update would not be finite")
                k["adam_halves"](flat[:first], grad[:first], m[:first], v[:first], split, *c, f32(np.finfo(f32).tiny))
                kernels._kernel("adam")(flat[first:], grad[first:], m[first:], v[first:], v[first:], False, *c,
                                        f32(0), f32(1), f32(np.finfo(f32).tiny))  # fmt: skip
        finally:
            threads.value = saved
        return loss

    return run
