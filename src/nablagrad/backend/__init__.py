"""Array libraries and devices, the default floating dtype and the random generator.

Tensor data is a NumPy array on the CPU, or an array of another library implementing the Python
array API standard (CuPy on ``"cuda"``): :mod:`.namespace` tells which library holds an array and
adapts NumPy's names to the standard's, :mod:`.device` names and moves devices.  The library is
the data's, never a global switch.  The default dtype (float32, like PyTorch) and the random
generator live here, so that one call to :func:`manual_seed` makes a whole run reproducible on
every device (numbers are drawn on the host and copied).
"""

from __future__ import annotations

import threading

import numpy as np

from .device import CPU, Device, device, device_of, to_device
from .namespace import namespace_of

_default_dtype: np.dtype = np.dtype(np.float32)
_thread = threading.local()  # the default device is per thread, as torch.set_default_device's
_rng: np.random.Generator = np.random.default_rng()


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


def get_default_device() -> Device:
    """Where new tensors go when no device is named (``ng.tensor``, ``ng.zeros``, new parameters):
    the CPU unless :func:`set_default_device` changed it in this thread, as ``torch.get_default_device``."""
    return getattr(_thread, "device", CPU)


def set_default_device(spec) -> None:
    """Put new tensors on ``spec`` (``"cpu"``, ``"cuda"``, an array library's device) when no
    device is named, in this thread, as ``torch.set_default_device``: host data (lists, NumPy
    arrays) given to ``ng.tensor``, ``as_tensor``, the creation functions and an op beside a
    tensor, and new parameters, go there.  Arrays of another library keep their device, and so do
    ``*_like`` results and results of ops."""
    _thread.device = device(spec)


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the library-wide generator used by random tensors, initialisers, ``Dropout`` and shuffling,
    as ``torch.manual_seed``.  Reseeded in place: a layer or ``DataLoader`` made before holds this very
    generator, so ``manual_seed(0)`` before each of two runs gives the same masks and batch orders."""
    _rng.bit_generator.state = resolve_rng(seed, "manual_seed").bit_generator.state
    return _rng


def default_rng() -> np.random.Generator:
    """The library-wide generator (see :func:`manual_seed`)."""
    return _rng


def resolve_rng(seed: int | np.random.Generator | None, who: str = "seed") -> np.random.Generator:
    """A generator from a seed, a generator, or ``None`` (the library-wide one); a bad seed (negative,
    a float, a string) is refused naming ``who`` (the function it was given to) and the fix."""
    if seed is None:
        return _rng
    if isinstance(seed, np.random.Generator):
        return seed
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError):
        # NumPy's own errors ("expected non-negative integer", "SeedSequence expects int ...") name neither
        # the argument nor the fix
        kind = ValueError if isinstance(seed, int | np.integer) else TypeError
        raise kind(f"{who}: seed must be an integer >= 0, a numpy Generator or None, got {seed!r}; e.g. seed=0") from None


__all__ = [
    "CPU",
    "Device",
    "device",
    "device_of",
    "to_device",
    "namespace_of",
    "get_default_dtype",
    "get_default_device",
    "set_default_device",
    "set_default_dtype",
    "manual_seed",
    "default_rng",
    "resolve_rng",
]
