"""The array namespace, the default floating dtype and the random generator.

Everything above this layer asks here for ``xp`` (NumPy by default, CuPy on request),
for the default dtype (float32, like PyTorch) and for random numbers, so that one call to
:func:`manual_seed` makes a whole run reproducible.
"""

from __future__ import annotations

import numpy as np

xp = np
_default_dtype: np.dtype = np.dtype(np.float32)
_rng: np.random.Generator = np.random.default_rng()


def set_backend(name: str) -> None:
    """Switch the array namespace: ``"numpy"`` (default) or ``"cupy"`` (needs CuPy and a GPU)."""
    global xp
    if name == "numpy":
        xp = np
    elif name == "cupy":
        try:
            import cupy  # noqa: PLC0415 - optional dependency
        except ImportError as exc:  # pragma: no cover - depends on the machine
            raise RuntimeError("set_backend('cupy') needs CuPy: pip install nablagrad[gpu]") from exc
        xp = cupy
    else:
        raise ValueError(f"set_backend: unknown backend {name!r}; use 'numpy' or 'cupy'")


def get_default_dtype() -> np.dtype:
    """The floating dtype given to Python numbers and to new parameters (float32 unless changed)."""
    return _default_dtype


def set_default_dtype(dtype) -> None:
    """Set the default floating dtype: ``float32`` or ``float64``."""
    global _default_dtype
    dt = np.dtype(dtype)
    if dt not in (np.float16, np.float32, np.float64):
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {dt}")
    _default_dtype = dt


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the library-wide generator used by random tensors, initialisers and shuffling."""
    global _rng
    _rng = np.random.default_rng(seed)
    return _rng


def default_rng() -> np.random.Generator:
    """The library-wide generator (see :func:`manual_seed`)."""
    return _rng


def resolve_rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    """A generator from a seed, a generator, or ``None`` (the library-wide one)."""
    if seed is None:
        return _rng
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


__all__ = [
    "xp",
    "set_backend",
    "get_default_dtype",
    "set_default_dtype",
    "manual_seed",
    "default_rng",
    "resolve_rng",
]
