"""Creation helpers: zeros, ones, full, arange, linspace, eye and seeded random tensors."""

from __future__ import annotations

import numpy as np

from .. import backend
from .tensor import Tensor, _wrap


def _dtype(dtype):
    return np.dtype(dtype) if dtype is not None else backend.get_default_dtype()


def _shape(shape) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], tuple | list):
        return tuple(shape[0])
    return tuple(shape)


def _finish(arr: np.ndarray, requires_grad: bool) -> Tensor:
    t = _wrap(arr)
    return t.requires_grad_(True) if requires_grad else t


def zeros(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    return _finish(np.zeros(_shape(shape), dtype=_dtype(dtype)), requires_grad)


def ones(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    return _finish(np.ones(_shape(shape), dtype=_dtype(dtype)), requires_grad)


def full(shape, fill_value: float, dtype=None, requires_grad: bool = False) -> Tensor:
    return _finish(np.full(tuple(np.atleast_1d(shape)), fill_value, dtype=_dtype(dtype)), requires_grad)


def zeros_like(x, dtype=None, requires_grad: bool = False) -> Tensor:
    arr = np.asarray(x)
    return _finish(np.zeros(arr.shape, dtype=dtype or arr.dtype), requires_grad)


def ones_like(x, dtype=None, requires_grad: bool = False) -> Tensor:
    arr = np.asarray(x)
    return _finish(np.ones(arr.shape, dtype=dtype or arr.dtype), requires_grad)


def eye(n: int, m: int | None = None, dtype=None) -> Tensor:
    return _wrap(np.eye(n, m, dtype=_dtype(dtype)))


def arange(start, stop=None, step=1, dtype=None) -> Tensor:
    """Like ``torch.arange``: integers stay int64, a float bound gives the default float dtype."""
    arr = np.arange(start, stop, step) if stop is not None else np.arange(start)
    if dtype is not None:
        arr = arr.astype(dtype)
    elif arr.dtype.kind == "f":
        arr = arr.astype(backend.get_default_dtype())
    return _wrap(arr)


def linspace(start: float, stop: float, num: int, dtype=None) -> Tensor:
    return _wrap(np.linspace(start, stop, num, dtype=_dtype(dtype)))


def randn(*shape, dtype=None, requires_grad: bool = False, seed=None) -> Tensor:
    """Standard normal samples from the library generator (``ng.manual_seed``) or ``seed``."""
    rng = backend.resolve_rng(seed)
    return _finish(rng.standard_normal(_shape(shape), dtype=np.float64).astype(_dtype(dtype)), requires_grad)


def rand(*shape, dtype=None, requires_grad: bool = False, seed=None) -> Tensor:
    """Uniform samples on [0, 1)."""
    rng = backend.resolve_rng(seed)
    return _finish(rng.random(_shape(shape)).astype(_dtype(dtype)), requires_grad)


def randint(low: int, high: int, shape, seed=None) -> Tensor:
    rng = backend.resolve_rng(seed)
    return _wrap(rng.integers(low, high, size=shape))
