"""Two cores, each keeping its half of a large layer: a compiled training step's products and its Adam
update, split by the rows of each large weight ``W`` (lecture 002's layer ``σ(x W + b)``).

OpenBLAS splits each product over its own threads in its own way, and Adam then runs on one core. So
each step, the halves of ``W``, its gradient and Adam's ``m`` and ``v`` move from core to core. Here
every product of a large layer is cut in two, and each half goes to one of numba's two threads. That
thread computes its half on OpenBLAS with one thread:

- forward ``z = x W``: the columns of ``z``;
- weight gradient ``∂W = xᵀ g``: the rows of ``∂W``;
- input gradient ``∂x = g Wᵀ``: the columns of ``∂x``, which come from ``W``'s rows;
- Adam (``kernels.SteadyAdam``): the rows of ``W``, ``∂W``, ``m`` and ``v``, cut where ``∂W`` was cut.

A thread updates the same rows every step, so each core keeps its half of the state in its own L2 cache.
Each entry of a product is still one sum, but OpenBLAS blocks a sum differently on one thread than on
two. So a split step can differ from the eager step in the last bits. Over 100 steps of an MNIST MLP at
batch 16 the difference was 1e-7 relative to the parameters' norm; at batch 1 there was none.

Measured on 2 cores (784-256-128-10 MLP, Adam, float32; bench/RESULTS.md, eleventh session). The split
and plain compiled steps ran alternately in one process, in µs per step:

| batch | plain | split |
| --- | --- | --- |
| 1 | 425–452 | 371–414 |
| 16 | 647–707 | 567–657 |
| 128 | 1 286–1 343 | 1 219–1 255 |
| 1024 | 5 948–6 073 | 6 418–6 676 |

OpenBLAS's own two threads do better on large products. So a step with more than :data:`ROWS_MAX` rows
a product keeps them (:func:`pays`).

Where it applies:
- Linux, NumPy's own OpenBLAS, numba (the ``fast`` extra), and at least two cores;
- OpenBLAS set to more than one thread (a user who asked for one keeps one);
- not in a process forked from one that split (GNU OpenMP cannot run there).

:data:`PARALLEL_STEP` is the ``with`` block that ``ng.jit`` runs such a step in. Outside it, every product is
NumPy's own.
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys
import threading
import weakref
from collections.abc import Callable

import numpy as np

from . import kernels

ROWS_MIN = 16  # fewer rows of x: NumPy's product (a matrix-vector product, the same on one thread as on two)
ROWS_MAX = 256  # more rows a product: OpenBLAS's own two threads do better (batch 1024 took 8 % longer split)


def splits(rows: int, weight: tuple[int, ...]) -> bool:
    """Whether a layer's products with ``rows`` rows of input and a weight of shape ``weight`` are split: a
    weight of 128 k entries or more, or of 32 k with 4 M multiply-adds or more a product.  Below, starting the
    second thread costs more than it saves.  (Adam's update is split for 128 k entries or more:
    kernels.PARALLEL_MIN.)"""
    if len(weight) != 2:
        return False
    size = weight[0] * weight[1]
    return rows >= ROWS_MIN and size >= 1 << 15 and (size >= 1 << 17 or rows * size >= 1 << 22)


_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112  # CBLAS's enums
# the names NumPy's OpenBLAS builds give cblas_?gemm (scipy-openblas: prefixed, 64-bit integers), and their integer type
_NAMES = (("scipy_", "64_", ctypes.c_int64), ("", "64_", ctypes.c_int64),
          ("scipy_", "", ctypes.c_int32), ("", "", ctypes.c_int32))  # fmt: skip


class _OpenBLAS:
    """NumPy's OpenBLAS, reached through ctypes: its ``cblas_sgemm``/``cblas_dgemm``, and three pieces of its
    thread server — the thread count products use (``blas_cpu_number``), whether its workers exist
    (``blas_server_avail``) and ``blas_thread_shutdown_`` (its fork handler's call, which ends them; the next
    product on more than one thread starts them again).  The count is written directly: OpenBLAS's setters
    start the workers, which would then spin for ~0.1 s on the core numba's worker needs."""

    def __init__(self, gemms: tuple, threads: ctypes.c_int, server: ctypes.c_int, shutdown: Callable):
        self.sgemm, self.dgemm = gemms
        self.threads, self.server, self.shutdown = threads, server, shutdown


@functools.cache
def _openblas() -> _OpenBLAS | None:
    """NumPy's OpenBLAS (:class:`_OpenBLAS`), or None where it is not found."""
    if sys.platform != "linux" or (os.cpu_count() or 1) < 2:
        return None
    try:
        with open("/proc/self/maps") as maps:
            paths = sorted({line.split()[-1] for line in maps if "openblas" in line.lower() and ".so" in line})
    except OSError:
        return None
    numpy_dir = os.path.dirname(os.path.dirname(np.__file__))
    for path in paths:
        if not path.startswith(numpy_dir):
            continue
        lib = ctypes.CDLL(path)
        try:
            threads, server = (ctypes.c_int.in_dll(lib, name) for name in ("blas_cpu_number", "blas_server_avail"))
        except ValueError:
            continue
        shutdown = getattr(lib, "blas_thread_shutdown_", None)
        for prefix, suffix, index in _NAMES:
            found = [getattr(lib, f"{prefix}cblas_{t}gemm{suffix}", None) for t in "sd"]
            if None in found or shutdown is None:
                continue
            gemms = []
            for fn, real in zip(found, (ctypes.c_float, ctypes.c_double)):
                e, p = ctypes.c_int, ctypes.c_void_p
                proto = ctypes.CFUNCTYPE(None, e, e, e, index, index, index, real, p, index, p, index, real, p, index)
                gemms.append(proto(ctypes.cast(fn, ctypes.c_void_p).value))
            return _OpenBLAS(tuple(gemms), threads, server, shutdown)
    return None


@functools.cache
def _kernels() -> dict[str, Callable]:
    """The split products, compiled at their first call (numba; the BLAS functions come as arguments, so
    the compiled code is cached on disk)."""
    import numba  # noqa: PLC0415 - present: _openblas() found the fast extra

    def columns_matmul(gemm, one, zero, x, W, out):  # pragma: no cover - compiled
        """``out[:, half] = x W[:, half]`` for each half of ``W``'s columns."""
        n, k = x.shape
        J = W.shape[1]
        for t in numba.prange(2):
            j0, j1 = t * J // 2, (t + 1) * J // 2
            gemm(_ROW_MAJOR, _NO_TRANS, _NO_TRANS, n, j1 - j0, k, one, x.ctypes, k, W[:, j0:].ctypes, J, zero,
                 out[:, j0:].ctypes, J)  # fmt: skip

    def rows_weight_grad(gemm, one, zero, x, g, out):  # pragma: no cover - compiled
        """``out[half] = x[:, half]ᵀ g`` for each half of ``out``'s rows (one example: the outer product)."""
        n, I = x.shape
        J = g.shape[1]
        for t in numba.prange(2):
            i0, i1 = t * I // 2, (t + 1) * I // 2
            if n == 1:  # a GEMM with k = 1 is slow: the outer product, entry for entry as kernels.outer
                for i in range(i0, i1):
                    xi = x[0, i]
                    for j in range(J):
                        out[i, j] = xi * g[0, j]
            else:
                gemm(_ROW_MAJOR, _TRANS, _NO_TRANS, i1 - i0, J, n, one, x[:, i0:].ctypes, I, g.ctypes, J, zero,
                     out[i0:].ctypes, J)  # fmt: skip

    def rows_input_grad(gemm, one, zero, g, W, out):  # pragma: no cover - compiled
        """``out[:, half] = g W[half]ᵀ`` for each half of ``W``'s rows."""
        n, J = g.shape
        I = W.shape[0]
        for t in numba.prange(2):
            i0, i1 = t * I // 2, (t + 1) * I // 2
            gemm(_ROW_MAJOR, _NO_TRANS, _TRANS, n, i1 - i0, J, one, g.ctypes, J, W[i0:].ctypes, J, zero,
                 out[:, i0:].ctypes, I)  # fmt: skip

    fns = {"columns_matmul": columns_matmul, "rows_weight_grad": rows_weight_grad, "rows_input_grad": rows_input_grad}
    return {name: numba.njit(fn, cache=True, parallel=True) for name, fn in fns.items()}


def _matrices(*arrays: np.ndarray) -> bool:
    """C-ordered 2-D NumPy arrays of one float32 or float64 dtype, with more than one row in the last."""
    dtype = arrays[0].dtype
    for a in arrays:
        if a.__class__ is not np.ndarray or a.ndim != 2 or a.dtype != dtype or not a.flags.c_contiguous:
            return False
    return dtype in (np.float32, np.float64)


_calls: dict[tuple, tuple] = {}  # (kernel name, dtype) -> the kernel and its first arguments: a step looks them up once


def _call(name: str, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    args = _calls.get((name, a.dtype))
    if args is None:
        blas = _openblas()
        gemm = blas.sgemm if a.dtype == np.float32 else blas.dgemm
        args = _calls[(name, a.dtype)] = (_kernels()[name], gemm, a.dtype.type(1), a.dtype.type(0))
    kernel, gemm, one, zero = args
    kernel(gemm, one, zero, a, b, out)
    if PARALLEL_STEP.spins is None:
        PARALLEL_STEP.ran()
    return out


_spare: dict[int, tuple] = {}  # id(W) -> (a weak reference to W, the last gradient of W made here)


def _held_elsewhere(out: np.ndarray) -> int:
    """``out``'s reference count as :func:`_reused` sees it."""
    return sys.getrefcount(out)


def _only_spare() -> int:
    """The count of an array that only a ``_spare`` entry holds, as :func:`_reused` sees it: measured with the same
    steps, as the count varies between Python versions."""
    entry = (None, np.empty(0))
    out = entry[1]
    return _held_elsewhere(out)


_ONLY_SPARE = _only_spare()


def _reused(W: np.ndarray, shape: tuple[int, int], dtype: np.dtype) -> np.ndarray:
    """An array for ``W``'s gradient: the one made last time if nothing else holds it any more (``zero_grad``
    dropped the ``.grad`` that held it), else a new one.  Reused, its rows are already in the caches of the
    cores that write them.  The array goes when ``W`` does."""
    entry = _spare.get(id(W))
    if entry is not None and entry[0]() is W:
        out = entry[1]
        if out.shape == shape and out.dtype == dtype and _held_elsewhere(out) <= _ONLY_SPARE:
            return out
    out = np.empty(shape, dtype)
    key = id(W)
    _spare[key] = (weakref.ref(W, lambda _, key=key: _spare.pop(key, None)), out)
    return out


def matmul(x: np.ndarray, W: np.ndarray) -> np.ndarray | None:
    """``x W`` split by ``W``'s columns inside :data:`PARALLEL_STEP`; None where it does not apply."""
    if not PARALLEL_STEP.active or not splits(x.shape[0], W.shape) or not _matrices(x, W) or x.shape[1] != W.shape[0]:
        return None
    return _call("columns_matmul", x, W, np.empty((x.shape[0], W.shape[1]), x.dtype))


def weight_grad(x: np.ndarray, g: np.ndarray, W: np.ndarray) -> np.ndarray | None:
    """``xᵀ g``, the gradient of the weight ``W``, split by its rows inside :data:`PARALLEL_STEP` (where
    kernels.row_split cuts Adam's update); None where it does not apply."""
    if not PARALLEL_STEP.active or not splits(max(x.shape[0], ROWS_MIN), (x.shape[-1], g.shape[-1])):
        return None
    if not _matrices(x, g) or x.shape[0] != g.shape[0]:
        return None
    return _call("rows_weight_grad", x, g, _reused(W, (x.shape[1], g.shape[1]), x.dtype))


def input_grad(g: np.ndarray, W: np.ndarray) -> np.ndarray | None:
    """``g Wᵀ`` split by ``W``'s rows inside :data:`PARALLEL_STEP`; None where it does not apply."""
    if not PARALLEL_STEP.active or not splits(g.shape[0], W.shape) or not _matrices(g, W) or g.shape[1] != W.shape[1]:
        return None
    return _call("rows_input_grad", g, W, np.empty((g.shape[0], W.shape[0]), g.dtype))


def pays(split_flops: float, other_flops: float, rows: int, einsum: bool) -> bool:
    """Whether a step gains from the split: its products are mostly those of large linear layers
    (``split_flops``: they are split; ``other_flops``, the other matrix products, run on one thread inside the
    block), of at most :data:`ROWS_MAX` ``rows``, and it has no ``einsum``."""
    if split_flops <= 0 or einsum or rows > ROWS_MAX or other_flops > split_flops / 4:
        return False
    return _openblas() is not None and kernels.fast_available()


class _ParallelStep:
    """``with PARALLEL_STEP:`` — the split products and the split Adam update on, and the calling thread's
    own products on one OpenBLAS thread; OpenBLAS's workers, if a product woke them, are ended (where no other
    thread runs), so that the second core is numba's worker's.  The thread count is put back at the end (the
    workers start again at the next product on two threads).  Nested blocks share the outer one."""

    def __init__(self):
        self._local = threading.local()  # per thread: how deep in the block, and whether it switched the split on
        self._lock = threading.Lock()
        self._owner: int | None = None  # the thread that switched the split on (one at a time)
        self._saved = 0  # OpenBLAS's thread count before it
        self.spins: bool | None = None  # numba's threading layer spins (omp, tbb); None: not yet known
        self._pid: int | None = None  # the process that split first: a forked child cannot run GNU OpenMP

    @property
    def active(self) -> bool:
        """Whether the calling thread's products split now."""
        return getattr(self._local, "on", False)

    def __enter__(self) -> _ParallelStep:
        local = self._local
        local.depth = getattr(local, "depth", 0) + 1
        if local.depth > 1 or self.spins is False or not kernels.fast_available():
            return self
        if self._pid is not None and self._pid != os.getpid():
            self.spins = False  # forked after numba's OpenMP threads started: they are not in this process
            return self
        blas = _openblas()
        with self._lock:
            # another thread has the split on (the cores are taken), or OpenBLAS is on one thread already
            if blas is None or self._owner is not None or blas.threads.value <= 1:
                return self
            if blas.server.value and threading.active_count() == 1:  # no other thread can be inside OpenBLAS now
                # its workers, woken by a product on two threads (an eager step, an evaluation), would spin on the
                # second core for ~0.1 s and make numba's worker wait: a split step took 1.5× as long
                blas.shutdown()
            self._owner, self._saved = threading.get_ident(), blas.threads.value
            blas.threads.value = 1
            self._pid = self._pid or os.getpid()
            local.on = kernels._state["parallel"] = True
        return self

    def __exit__(self, *exc) -> None:
        local = self._local
        local.depth -= 1
        if local.depth == 0 and getattr(local, "on", False):
            with self._lock:
                local.on = kernels._state["parallel"] = False
                _openblas().threads.value = self._saved
                self._owner = None

    def ran(self) -> None:
        """After a split kernel ran: numba's threading layer is known; ``workqueue`` (no spinning threads: each
        call wakes them, which costs more than the split gains) switches the split off for good."""
        if self.spins is None:
            import numba  # noqa: PLC0415

            self.spins = numba.threading_layer() != "workqueue"


PARALLEL_STEP = _ParallelStep()
