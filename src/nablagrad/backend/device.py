"""Devices, as a PyTorch user names them: ``"cpu"`` (NumPy), ``"cuda"``/``"cuda:1"`` (CuPy), or a
device object of any array API library (``array_api_strict.Device("device1")``).

:func:`device` parses a name; :func:`device_of` tells where an array lives; :func:`to_device`
copies an array there (through the host when it moves between libraries).  Random numbers are
drawn on the host and copied, so a seed gives the same numbers on every device.
"""

from __future__ import annotations

import importlib
from contextlib import nullcontext
from dataclasses import dataclass, field

import numpy as np

from .namespace import NUMPY, ArrayAPINamespace, namespace_of

GPU_EXTRA = 'pip install "nablagrad[gpu]"'


@dataclass(frozen=True)
class Device:
    """Where arrays live: ``type`` ("cpu", "cuda", or an array library's name), ``index``, and the
    library's own device object (``native``; None for the CPU)."""

    type: str
    index: int | None = None
    native: object = field(default=None, compare=False, hash=False)
    label: str | None = field(default=None, compare=True)

    def __str__(self) -> str:
        if self.label is not None:
            return self.label
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        return f"device(type={self.type!r}" + ("" if self.index is None else f", index={self.index}") + ")"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            return str(self) == other or (self.type == other and self.index in (None, 0))
        if isinstance(other, Device):
            return (self.type, self.index, self.label) == (other.type, other.index, other.label)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.type, self.index, self.label))  # equal devices hash alike (set, dict key)

    @property
    def namespace(self):
        """The (NumPy-named) namespace of arrays on this device."""
        if self.type == "cpu":
            return NUMPY
        xp = _cupy() if self.type == "cuda" else importlib.import_module(self.type)
        with _on(self):
            return namespace_of(xp.asarray([0.0], **({} if self.type == "cuda" else {"device": self.native})))


CPU = Device("cpu")


def _cupy():
    try:
        import cupy  # noqa: PLC0415 - optional dependency (the gpu extra)
    except ImportError:
        raise RuntimeError(
            f"device 'cuda' needs CuPy and an NVIDIA GPU, and CuPy is not installed: {GPU_EXTRA} "
            "(installs cupy-cuda12x), or keep the tensors on device='cpu'"
        ) from None
    return cupy


def _on(dev: Device):
    """``with _on(device):`` CuPy's current device is ``device`` (nothing for other devices)."""
    return dev.native if dev.type == "cuda" else nullcontext()


def device(spec=None) -> Device:
    """A :class:`Device` from ``"cpu"``, ``"cuda"``, ``"cuda:N"``, a ``Device``, or an array library's
    own device object (``cupy.cuda.Device(0)``, ``array_api_strict.Device("device1")``)."""
    if spec is None or spec is CPU:
        return CPU
    if isinstance(spec, Device):
        return CPU if spec == CPU else spec  # one CPU object: the engine tests `is CPU`
    if isinstance(spec, str):
        kind, _, index = spec.partition(":")
        if kind == "cpu" and (not index or index.isdigit()):  # "cpu:0" is the CPU, as torch.device("cpu:0")
            return CPU
        if not kind:
            raise ValueError(f"device: the device name is empty ({spec!r}); use 'cpu', 'cuda' or 'cuda:N'")
        if kind in ("cuda", "gpu") and (not index or index.isdigit()):
            cupy = _cupy()
            n = int(index or 0)
            return Device("cuda", n, cupy.cuda.Device(n))
        for native in _library_devices(kind):
            if str(_label(kind, native)) == spec:
                return Device(kind, None, native, label=spec)
        raise ValueError(f"device: unknown device {spec!r}; use 'cpu', 'cuda' or 'cuda:N' (or an array library's device)")
    library = type(spec).__module__.split(".")[0]
    if library == "builtins":  # 5, 1.0, True, [..]: no device, and no array library to ask
        raise TypeError(
            f"device: expected 'cpu', 'cuda', 'cuda:N', a Device or an array library's device, "
            f"got {type(spec).__name__} {spec!r}; for GPU number N write 'cuda:N'"
        )
    if library == "cupy":
        return Device("cuda", int(spec.id), spec)
    if library == "torch" and isinstance(getattr(spec, "type", None), str):  # torch.device("cuda", 0): by its name
        return device(str(spec))
    return Device(library, None, spec, label=_label(library, spec))


def _label(library: str, native) -> str:
    """``"library:name"`` for a device of an array API library, e.g. ``"array_api_strict:device1"``."""
    return f"{library}:{getattr(native, '_device', native)}"


def _library_devices(library: str) -> tuple:
    """The devices an array API library lists (``__array_namespace_info__().devices()``), if it is one."""
    try:
        xp = importlib.import_module(library)
    except ImportError:
        return ()
    info = getattr(xp, "__array_namespace_info__", None)
    return tuple(info().devices()) if info is not None else ()


def device_of(x) -> Device:
    """The device an array lives on (the CPU for NumPy arrays and numbers)."""
    ns = namespace_of(x)
    if ns is NUMPY:
        return CPU
    return device(ns.device(x))


def to_device(x, dev, dtype=None):
    """``x`` (any array, list or number) as an array on ``dev``, cast to the NumPy ``dtype`` if given;
    no copy when it is already there with that dtype."""
    dev = device(dev)
    src = namespace_of(x)
    if dev.type == "cpu":
        out = src.to_numpy(x) if isinstance(src, ArrayAPINamespace) else np.asarray(x)
        return out if dtype is None else out.astype(dtype, copy=False)
    if isinstance(src, ArrayAPINamespace) and device_of(x) == dev:
        return x if dtype is None else src.astype(x, dtype)
    host = src.to_numpy(x) if isinstance(src, ArrayAPINamespace) else np.asarray(x)
    if dtype is not None:
        host = host.astype(dtype, copy=False)
    ns = dev.namespace
    with _on(dev):  # a copy: the device array never shares the host's memory
        return ns.asarray(host, device=None if dev.type == "cuda" else dev.native, copy=True)


def is_dtype(x) -> bool:
    """Whether ``x`` names a dtype (``np.float64``, ``"float32"``) rather than a device."""
    if isinstance(x, str):
        return x not in ("cpu", "cuda", "gpu") and not x.startswith(("cuda:", "gpu:")) and _parses_as_dtype(x)
    return isinstance(x, np.dtype) or (isinstance(x, type) and issubclass(x, np.generic)) or x in (float, int, bool)


def device_and_dtype(args: tuple, device=None, dtype=None) -> tuple:
    """``(device, dtype)`` from PyTorch's ``.to(...)`` arguments: each positional one is a dtype
    when :func:`is_dtype` says so (``np.float64``, ``"float32"``), a tensor gives both its device
    and its dtype (``t.to(other)``), anything else is a device; ``None`` for what was not given.
    ``t.to("cuda", "float32")``, ``model.to(np.float64)``, ``t.to(other)``."""
    for a in args:
        if _is_tensor(a):  # before is_dtype, whose ``a in (float, …)`` would compare a tensor elementwise
            device, dtype = a.device, a.dtype
        elif is_dtype(a):
            dtype = a
        else:
            device = a
    return device, dtype


def _is_tensor(x) -> bool:
    """A tensor (or NumPy array): a shape, a NumPy dtype and a device, as ``t.to(other)`` reads them."""
    return isinstance(getattr(x, "dtype", None), np.dtype) and hasattr(x, "shape") and hasattr(x, "device")


def _parses_as_dtype(name: str) -> bool:
    try:
        np.dtype(name)
    except TypeError:
        return False
    return True


def same_device(who: str, datas) -> Device:
    """The one device of ``datas`` (numbers go anywhere); else PyTorch's error, naming both and the fix."""
    found: Device | None = None
    for d in datas:
        if isinstance(d, int | float | bool | complex) or d is None:
            continue
        dev = device_of(d)
        if found is None:
            found = dev
        elif dev != found:
            raise RuntimeError(
                f"{who}: expected all tensors to be on the same device, but found at least two devices, {found} and "
                f"{dev}; move one with .to({str(found)!r}) (or .to({str(dev)!r})) first"
            )
    return found or CPU


__all__ = ["Device", "CPU", "GPU_EXTRA", "device", "device_of", "is_dtype", "device_and_dtype", "to_device", "same_device"]
