"""Creation helpers: zeros, ones, full, arange, linspace, eye and seeded random tensors.

Each makes its values on the host and puts them on ``device`` (by default the default device,
:func:`nablagrad.set_default_device`; the CPU unless changed), as PyTorch's factories take
``device=``.  Random numbers are drawn on the host, so a seed gives the same values everywhere;
``zeros_like``/``ones_like`` keep the device of their argument."""

from __future__ import annotations

import numpy as np

from .. import backend
from ..backend.checks import is_int, is_real
from ..backend.device import device as to_device_spec
from ..backend.device import to_device
from ..backend.dtypes import tensor_dtype
from ..backend.namespace import NUMPY, namespace_of
from . import grad_mode as _m
from .errors import InputError
from .primitive import Primitive
from .tensor import Tensor, _apply, _wrap, mark_batched


def _dtype(dtype, who: str):
    """``dtype`` as a dtype a tensor holds (refused, naming ``who``, if it is none), the default float when None."""
    return tensor_dtype(dtype, who) if dtype is not None else backend.get_default_dtype()


def _shape(shape, who: str, size=None) -> tuple[int, ...]:
    """``zeros(2, 3)``, ``zeros((2, 3))`` or ``zeros(size=(2, 3))`` (PyTorch's keyword) as a shape tuple, each
    size a non-negative integer."""
    if size is not None:
        if shape:
            raise TypeError(f"{who}: give the shape once, as sizes ({who}(2, 3)) or size= ({who}(size=(2, 3)))")
        shape = (size,)
    if len(shape) == 1 and isinstance(shape[0], tuple | list | np.ndarray):
        shape = tuple(shape[0])
    for n in shape:
        if not is_int(n):
            raise TypeError(f"{who}: sizes must be integers, got {n!r} ({type(n).__name__}) in the shape {shape!r}")
        if n < 0:  # (PyTorch's RuntimeError; a ValueError too)
            raise InputError(f"{who}: sizes must be non-negative, got {n} in the shape {shape!r}")
    return tuple(int(n) for n in shape)


def _number(value, who: str, name: str):
    """``value`` as a Python number: a one-element tensor (PyTorch takes a 0-d tensor for a number) by its item."""
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise TypeError(f"{who}: {name} must be a number or a one-element tensor, got a tensor of shape {value.shape}")
        return value.item()
    return value


def _finish(arr: np.ndarray, requires_grad: bool = False, device=None) -> Tensor:
    """The host array ``arr`` as a tensor on ``device`` (the default device when None)."""
    if device is None:
        device = backend.get_default_device()
    t = _wrap(arr if device is backend.CPU else to_device(arr, device))
    return t.requires_grad_(True) if requires_grad else t


def zeros(*shape, size=None, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    return _finish(np.zeros(_shape(shape, "zeros", size), dtype=_dtype(dtype, "zeros")), requires_grad, device)


def ones(*shape, size=None, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    return _finish(np.ones(_shape(shape, "ones", size), dtype=_dtype(dtype, "ones")), requires_grad, device)


def full(shape, fill_value: float, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """A tensor of ``shape`` filled with ``fill_value``; without ``dtype``, PyTorch's inference
    from the value: bool for a bool, int64 for an integer, the default float dtype otherwise (a one-element tensor
    gives its number)."""
    fill_value = _number(fill_value, "full", "fill_value")
    if dtype is None and isinstance(fill_value, bool | np.bool_):
        dtype = np.bool_
    elif dtype is None and isinstance(fill_value, int | np.integer):
        dtype = np.int64
    if not (is_real(fill_value) or isinstance(fill_value, bool | np.bool_ | complex)):
        raise TypeError(f"full: fill_value must be a number, got {fill_value!r} ({type(fill_value).__name__})")
    size = _shape((shape,), "full")
    return _finish(np.full(size, fill_value, dtype=_dtype(dtype, "full")), requires_grad, device)


# full_like of a value vmap batches: one fill per example (the batching rule is elementwise), no derivative
_FULL_LIKE = Primitive(
    "full_like", lambda x, fill_value, dtype: namespace_of(x).full_like(x, fill_value, dtype=dtype), (None,), (None,)
)


def _like(x, fill_value: float, dtype, requires_grad: bool) -> Tensor:
    """A tensor of ``fill_value`` with ``x``'s shape, dtype (unless given) and device (under ``vmap``, the
    shape of one example: the result is batched as ``x``)."""
    if isinstance(x, Tensor) and x._tangents:  # (every array library: the fill is the namespace's full_like)
        with _m.no_grad():
            t = _apply(_FULL_LIKE, (x,), {"fill_value": fill_value, "dtype": dtype})
        return t.requires_grad_(True) if requires_grad else t
    data = x.data if isinstance(x, Tensor) else x
    ns = namespace_of(data)
    if ns is NUMPY:
        arr = np.asarray(data)
        return _finish(np.full(arr.shape, fill_value, dtype=dtype or arr.dtype), requires_grad, backend.CPU)
    t = _wrap(ns.full_like(data, fill_value, dtype=dtype))
    return t.requires_grad_(True) if requires_grad else t


def zeros_like(x, dtype=None, requires_grad: bool = False) -> Tensor:
    return _like(x, 0, dtype, requires_grad)


def ones_like(x, dtype=None, requires_grad: bool = False) -> Tensor:
    return _like(x, 1, dtype, requires_grad)


def full_like(x, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    """PyTorch's full_like: ``fill_value`` in ``x``'s shape, dtype (unless given) and device."""
    fill_value = _number(fill_value, "full_like", "fill_value")
    if not (is_real(fill_value) or isinstance(fill_value, bool | np.bool_ | complex)):
        raise TypeError(f"full_like: fill_value must be a number, got {fill_value!r} ({type(fill_value).__name__})")
    return _like(x, fill_value, None if dtype is None else tensor_dtype(dtype, "full_like"), requires_grad)


def empty_like(x, dtype=None, requires_grad: bool = False) -> Tensor:
    """PyTorch's empty_like: here zeros (nothing uninitialised is ever read), in ``x``'s shape, dtype and device."""
    return _like(x, 0, None if dtype is None else tensor_dtype(dtype, "empty_like"), requires_grad)


def _like_shape(x, dtype, who: str) -> tuple[tuple[int, ...], np.dtype, object]:
    """The shape, dtype (``x``'s unless given; a float one) and device of a random ``*_like`` tensor."""
    t = x if isinstance(x, Tensor) else Tensor(x)
    dt = t.dtype if dtype is None else tensor_dtype(dtype, who)
    if dt.kind != "f":
        raise TypeError(f"{who}: draws floats, but the dtype is {dt}; give a float dtype, e.g. dtype='float32'")
    return tuple(t.shape), dt, t.device


def rand_like(x, dtype=None, requires_grad: bool = False, seed=None) -> Tensor:
    """PyTorch's rand_like: uniform samples on [0, 1) in ``x``'s shape, dtype and device."""
    shape, dt, dev = _like_shape(x, dtype, "rand_like")
    return rand(*shape, dtype=dt, requires_grad=requires_grad, seed=seed, device=dev)


def randn_like(x, dtype=None, requires_grad: bool = False, seed=None) -> Tensor:
    """PyTorch's randn_like: standard normal samples in ``x``'s shape, dtype and device."""
    shape, dt, dev = _like_shape(x, dtype, "randn_like")
    return randn(*shape, dtype=dt, requires_grad=requires_grad, seed=seed, device=dev)


def eye(n: int, m: int | None = None, dtype=None, device=None) -> Tensor:
    _shape((n,) if m is None else (n, m), "eye")
    return _finish(np.eye(n, m, dtype=_dtype(dtype, "eye")), device=device)


def arange(start=0, stop=None, step=1, dtype=None, device=None, *, end=None, requires_grad: bool = False) -> Tensor:
    """Like ``torch.arange``: ``start + i·step`` for ``i`` in ``0 … ⌈(end − start)/step⌉ − 1`` (``arange(n)`` counts
    from 0; ``end`` is PyTorch's name for ``stop``); integers stay int64, a float bound gives the default float
    dtype.  A bound may be a one-element tensor (its number)."""
    if end is not None:
        if stop is not None:
            raise TypeError(f"arange: give the end once, as stop= (NumPy) or end= (PyTorch), got {stop=}, {end=}")
        stop = end
    start, stop, step = (_number(v, "arange", n) for v, n in ((start, "start"), (stop, "end"), (step, "step")))
    for name, v in (("start", start), ("end", stop), ("step", step)):
        if v is not None and not (is_real(v) and np.isfinite(v)):
            raise TypeError(f"arange: {name} must be a finite number, got {v!r}")
    if step == 0:  # (PyTorch's RuntimeError; a ValueError too)
        raise InputError("arange: step must be non-zero (as in torch.arange); give e.g. step=1")
    low, high = (0, start) if stop is None else (start, stop)
    if (high - low) * step < 0:  # NumPy would give an empty range; PyTorch refuses it
        raise InputError(f"arange: upper bound and lower bound inconsistent with step sign (start {low}, end {high}, "
                         f"step {step}); give a step of the sign of end - start, e.g. step={-step}")  # fmt: skip
    arr = np.arange(low, high, step)
    if dtype is not None:
        arr = arr.astype(tensor_dtype(dtype, "arange"))
    elif arr.dtype.kind == "f":
        arr = arr.astype(backend.get_default_dtype())
    return _finish(arr, requires_grad, device)


def linspace(start: float, stop: float = None, num: int | None = None, dtype=None, device=None, *, end=None,
             steps: int | None = None, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """``num`` (``steps``, PyTorch's name) evenly spaced values from ``start`` to ``stop`` (``end``) inclusive;
    the bounds may be one-element tensors."""
    stop = _one_of("linspace", "stop", stop, "end", end)
    num = _one_of("linspace", "num", num, "steps", steps)
    start, stop = _number(start, "linspace", "start"), _number(stop, "linspace", "end")
    return _finish(np.linspace(start, stop, num, dtype=_dtype(dtype, "linspace")), requires_grad, device)


def logspace(start: float, end: float, steps: int, base: float = 10.0, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:  # fmt: skip
    """PyTorch's logspace: ``base ** linspace(start, end, steps)``, computed in float64, then in ``dtype``."""
    start, end = _number(start, "logspace", "start"), _number(end, "logspace", "end")
    values = np.power(float(base), np.linspace(start, end, steps, dtype=np.float64))
    return _finish(values.astype(_dtype(dtype, "logspace")), requires_grad, device)


def _one_of(who: str, name: str, value, other_name: str, other):
    """The argument given under one of its two names (NumPy's and PyTorch's), refused when given under both or none."""
    if (value is None) == (other is None):
        raise TypeError(f"{who}: give {name} once, as {name}= or {other_name}=, got {name}={value!r}, {other_name}={other!r}")
    return value if other is None else other


def _drawn(draw, shape: tuple, who: str, finish) -> Tensor:
    """``finish(draw(shape))`` — inside ``vmap``, by each running vmap's ``randomness`` rule: refused if one
    says ``"error"``; one draw shared by the examples of a ``"same"`` level, one per example of a
    ``"different"`` one (its batch axis leads the draw, and the result is batched by it)."""
    s = _m.state
    levels = [level for level in sorted(s.vmaps) if _m.visible(level)]
    if any(s.randomness.get(level, "error") == "error" for level in levels):
        raise RuntimeError(
            f"{who}: a random draw inside vmap, which by default refuses one (torch.func's randomness='error'); "
            "pass vmap(f, randomness='different') for a draw per example, randomness='same' for one draw shared "
            "by every example, or draw outside vmap and pass the values in"
        )
    levels = [level for level in levels if s.randomness[level] == "different"]
    out = finish(draw(tuple(s.vmaps[level] for level in levels) + shape))
    for level in levels:
        mark_batched(out, level)
    return out


def _draw_target(dtype, device, who: str):
    """The dtype and device of a random tensor, checked before the generator is touched (a refusal leaves its
    state as it was): a float (or complex) dtype, as PyTorch's rand/randn refuse integers and bool."""
    dt = np.dtype(_dtype(dtype, who))
    if dt.kind not in "fc":
        raise TypeError(f"{who}: draws floats, but the dtype is {dt}; give a float dtype, e.g. dtype='float32'")
    return dt, None if device is None else to_device_spec(device)


def randn(*shape, size=None, dtype=None, requires_grad: bool = False, seed=None, device=None) -> Tensor:
    """Standard normal samples from the library generator (``ng.manual_seed``) or ``seed``."""
    rng = backend.resolve_rng(seed)
    dt, device = _draw_target(dtype, device, "randn")
    draw = lambda size: rng.standard_normal(size, dtype=np.float64).astype(dt)  # noqa: E731
    return _drawn(draw, _shape(shape, "randn", size), "randn", lambda a: _finish(a, requires_grad, device))


def rand(*shape, size=None, dtype=None, requires_grad: bool = False, seed=None, device=None) -> Tensor:
    """Uniform samples on [0, 1)."""
    rng = backend.resolve_rng(seed)
    dt, device = _draw_target(dtype, device, "rand")
    draw = lambda size: rng.random(size).astype(dt)  # noqa: E731
    return _drawn(draw, _shape(shape, "rand", size), "rand", lambda a: _finish(a, requires_grad, device))


def randperm(n: int, dtype="int64", seed=None, device=None, requires_grad: bool = False) -> Tensor:
    """PyTorch's randperm: a random permutation of 0..n−1 (int64 unless ``dtype``) from the library generator
    (``ng.manual_seed``) or ``seed``."""
    if not is_int(n) or n < 0:
        raise ValueError(f"randperm: n must be an int >= 0, got {n!r}")
    rng = backend.resolve_rng(seed, "randperm")
    draw = lambda size: rng.permuted(np.broadcast_to(np.arange(n), size), axis=-1).astype(_dtype(dtype, "randperm"))  # noqa: E731
    return _drawn(draw, (int(n),), "randperm", lambda a: _finish(a, requires_grad, device))


def randint(low: int, high: int, shape, seed=None, device=None) -> Tensor:
    rng = backend.resolve_rng(seed)
    return _drawn(lambda size: rng.integers(low, high, size=size), _shape((shape,), "randint"), "randint",
                  lambda a: _finish(a, device=device))  # fmt: skip
