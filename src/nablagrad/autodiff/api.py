"""The public op surface: ``ng.exp``, ``ng.matmul``, ``Tensor.__add__``, ``x.reshape`` …

Every row of the rule table (:data:`.primitive.TABLE`, filled by :mod:`.rules` and the rule
modules imported below) becomes a function here, a ``Tensor`` method, an entry of the tensor
namespace the rules see (:class:`.tensor.TENSOR_NS`) and, for operators,
``Tensor.__op__``/``__rop__`` — see :func:`_install`.  The ``Tensor`` methods written by hand
(PyTorch's signatures over :mod:`.ops`, comparisons, ``backward``) are bound here as well: this
module sits above the tensor, the ops and the tape walk, so none of those imports another's
importer (no import cycle).
"""

from __future__ import annotations

import builtins  # ng.all, ng.max … shadow the builtins in this module
import operator
import warnings
from collections.abc import Callable

import numpy as np

from ..backend.device import device as to_device_spec
from ..backend.device import device_and_dtype, is_dtype
from ..backend.dtypes import tensor_dtype
from ..backend.namespace import RENAMED
from . import creation, linalg, ops, rules_contract, rules_math, rules_reduce, rules_shape, rules_torch, torch_names  # noqa: F401 - their rows join the table
from . import grad_mode as _m
from . import rules as R
from .backward import backward
from .errors import InputError
from .grad_mode import state as _mode
from .ops import (
    _axis,
    _promote,
    _t,
    astype,
    binary,
    broadcast_to,
    check_dim,
    floating,
    reshape,
    scalar_axis,
    swapaxes,
    transpose,
)
from .primitive import TABLE, Row
from .rules_index import torch_index
from .tensor import TENSOR_NS, Tensor, _apply, _share, _wrap

_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)

# PyTorch's memory formats (``torch.preserve_format`` …), named by strings as ng's dtypes are: how ``clone`` and
# ``contiguous`` lay the values out.  The channels-last ones need a rank (N, C, H, W) / (N, C, D, H, W) tensor.
preserve_format, contiguous_format = "preserve_format", "contiguous_format"
channels_last, channels_last_3d = "channels_last", "channels_last_3d"
_CHANNELS_LAST = {channels_last: 4, channels_last_3d: 5}  # the rank each needs
_MEMORY_FORMATS = (preserve_format, contiguous_format, channels_last, channels_last_3d)


_DTYPE_REDUCTIONS = frozenset({"sum", "mean", "prod"})  # PyTorch's reductions with dtype= (cast, then reduce)


# --- generated from the rule table ------------------------------------------------------------------
def _function(row: Row) -> Callable:
    """``ng.<row.name>``: convert the arguments, check them, apply the primitive."""
    prim, check = row.prim, row.check
    if row.kind == "function":
        return row.fn
    if row.kind == "unary" and row.extra:  # keyword parameters (round's decimals); defaults: the plain call
        extra, floats = dict(row.extra), row.floats is not False

        def f(x, **kw):
            ops.no_out(row.name, kw.pop("out", None))  # (np.round(t) passes out=None)
            if set(kw) - set(extra):
                raise TypeError(f"{row.name}: unexpected keyword argument(s) {sorted(set(kw) - set(extra))}")
            x = x if x.__class__ is Tensor else _t(x)
            if floats:
                x = floating(x)
            params = {k: v for k, v in kw.items() if v != extra[k]}
            return _apply(prim, (x,), params or None)

    elif row.kind == "unary":
        floats = row.floats is not False

        def f(x):
            x = x if x.__class__ is Tensor else _t(x)  # _t inlined for a Tensor (the hot path)
            d = x._data.dtype  # NumPy's float32/float64 by identity; x.dtype (NumPy's name) for the rest
            if floats and d is not _F32 and d is not _F64:
                x = floating(x)  # exp(int) is float, as PyTorch
            return _apply(prim, (x,))

    elif row.kind == "binary":
        divide = row.floats is True

        def plain(x, y):
            if check is not None:
                check(x, y)
            return binary(prim, x, y, divide)

        def f(x=_MISSING, y=_MISSING, /, **kw):
            if kw:  # PyTorch's keywords: the operands by name (input=, other=), alpha=, rounding_mode=
                return _binary_keywords(row, plain, x, y, kw)
            return plain(x, y)

    elif row.kind == "axis":

        def f(x, axis=-1, dim=None, dtype=None):
            # softmax(int) in the default float dtype, as exp(int); PyTorch's dtype=: the input cast to it first
            x = floating(_t(x)) if dtype is None else astype(_t(x), dtype)
            axis = axis if dim is None else dim
            top = builtins.max(x.ndim, 1)
            if isinstance(axis, int) and not -top <= axis < top:  # (10**30 would fail as a C long)
                check_dim(row.name, axis, x.ndim)  # raises, naming the range
            return _apply(prim, (x,), {"axis": axis})

    else:
        extra = dict(row.extra)
        takes_dtype = row.name in _DTYPE_REDUCTIONS
        widens = row.name in ("sum", "prod")  # PyTorch sums unsigned integers (uint8 images) into int64

        def f(x, axis=None, keepdims=False, dim=None, keepdim=None, **kw):  # NumPy's names and PyTorch's
            dtype = None
            if kw:
                if takes_dtype and "dtype" in kw:  # PyTorch's dtype=: the input is cast to it first
                    dtype = kw.pop("dtype")
                if kw.pop("out", None) is not None:  # (np.sum(t) passes out=None)
                    raise TypeError(f"{row.name}: out= is not taken (tensors are not written in place); use the result")
                if kw and set(kw) - set(extra):
                    raise TypeError(f"{row.name}: unexpected keyword argument(s) {sorted(set(kw) - set(extra))}")
            axis, keepdims = rules_reduce._names(axis, keepdims, dim, keepdim)
            x = x if x.__class__ is Tensor else _t(x)
            if dtype is not None:
                x = astype(x, dtype)
            elif widens and x.dtype.kind == "u":
                x = astype(x, "int64")
            if check is not None:  # (mean refuses integers: the dtype it is computed in is checked)
                check(x)
            if axis is not None and not x.ndim:
                axis = scalar_axis(row.name, axis)
            out = _apply(prim, (x,), {"axis": _axis(axis), "keepdims": keepdims, **extra, **kw})
            return out if dtype is None else astype(out, dtype)  # a sum of int32 stays int32 (NumPy's is int64)

    f.__name__ = f.__qualname__ = row.name
    f.__doc__ = row.doc
    f.__module__ = __name__
    return f


_MISSING = object()  # an operand not given by position


def _binary_keywords(row: Row, plain: Callable, x, y, kw: dict):
    """A binary op called with keywords: its operands by PyTorch's names (``other=``, ``exponent=``,
    ``input=``) and the keywords its row takes (``extra``), each meaning what :data:`_KEYWORDS` says."""
    for pos, (name, value) in enumerate(zip(row.operands, (x, y))):
        if name in kw:
            if value is not _MISSING:
                raise TypeError(f"{row.name}: got {name} twice, by position and as {name}=")
            if pos == 0:
                x = kw.pop(name)
            else:
                y = kw.pop(name)
    extra = dict(row.extra)
    unknown = sorted(set(kw) - set(extra))
    if unknown or x is _MISSING or y is _MISSING:
        takes = ", ".join([*row.operands, *extra])
        problem = f"unexpected keyword argument(s) {unknown}" if unknown else "missing an operand"
        raise TypeError(f"{row.name}: {problem}; it takes {takes}")
    for name, value in kw.items():
        if not _same(value, extra[name]):
            return _KEYWORDS[name](row.name, plain, x, y, value)
    return plain(x, y)


def _same(value, default) -> bool:
    return value is default or (default is not None and value is not None and type(value) is not bool and value == default)


def _integral(v) -> bool:
    """Whether an operand holds integers (or bools): a tensor or array of that dtype, or a Python int."""
    dtype = getattr(v, "dtype", None)
    return dtype.kind in "iub" if dtype is not None else isinstance(v, int | np.integer)


def _alpha(name: str, plain: Callable, x, y, alpha):
    """PyTorch's ``alpha`` (add, sub): ``x ± alpha·y`` — y scaled first, so alpha scales y's gradient too.
    For integer operands alpha must be an integer, as PyTorch requires."""
    if not isinstance(alpha, int | float | np.integer | np.floating) or isinstance(alpha, bool):
        raise TypeError(f"{name}: alpha must be a number, got {alpha!r}")
    if isinstance(alpha, float | np.floating) and _integral(x) and _integral(y):
        raise TypeError(
            f"{name}: for integer operands alpha must be an integer (as PyTorch), got {alpha!r}; "
            "convert an operand to floats first, e.g. x.double()"
        )
    if not isinstance(y, Tensor | int | float | np.ndarray | np.generic):
        y = _t(y)
    return plain(x, y * alpha)


def _rounding_mode(name: str, plain: Callable, x, y, mode):
    """PyTorch's ``rounding_mode`` of div: ``"trunc"`` rounds the quotient toward 0, ``"floor"`` down
    (``floor_divide``); integers stay integers (exact), floats are rounded (derivative 0, as PyTorch's)."""
    if mode == "floor":
        return OPS["floor_divide"](x, y)
    if mode != "trunc":
        raise ValueError(f"{name}: rounding_mode must be None, 'trunc' or 'floor', got {mode!r}")
    if _integral(x) and _integral(y):  # exact: x − fmod(x, y) is a multiple of y
        return OPS["floor_divide"](OPS["sub"](x, OPS["fmod"](x, y)), y)
    return OPS["trunc"](plain(x, y))


_KEYWORDS: dict[str, Callable] = {"alpha": _alpha, "rounding_mode": _rounding_mode}


_FLOAT_DTYPES = frozenset(type(np.dtype(c)) for c in "efd")  # NumPy's float dtypes (another library's: _promote)


def _operators(row: Row) -> dict[str, Callable]:
    """``Tensor.__op__`` (and ``__rop__`` for a binary op) for a row with ``dunder``."""
    prim, check = row.prim, row.check
    if row.kind == "unary":
        return {f"__{row.dunder}__": lambda self: _apply(prim, (self,))}

    divide, floats = row.floats is True, _FLOAT_DTYPES

    # The common case first, tested inline (operators are the hot path): a float tensor with a
    # Python float or a tensor of its own dtype, which NumPy already promotes as PyTorch does.
    def op(self, other):
        if check is not None:
            check(self, other)
        d, c = self._data.dtype, other.__class__
        if d.__class__ in floats and (c is float or (c is Tensor and other._data.dtype is d)):
            return _apply(prim, (self, other))
        return _apply(prim, _promote(self, other, divide))

    def rop(self, other):
        if check is not None:
            check(other, self)
        d, c = self._data.dtype, other.__class__
        if d.__class__ in floats and (c is float or (c is Tensor and other._data.dtype is d)):
            return _apply(prim, (other, self))
        return _apply(prim, _promote(other, self, divide))

    return {f"__{row.dunder}__": op, f"__r{row.dunder}__": rop}


# --- Tensor methods written by hand (PyTorch's signatures) -------------------------------------------
def _shape_arg(shape: tuple):
    """``x.reshape(2, 3)`` and ``x.reshape((2, 3))`` alike."""
    return shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape


def _reshape(self: Tensor, *shape, **named) -> Tensor:
    """``x.reshape(2, 3)``, ``x.reshape((2, 3))`` or PyTorch's ``x.reshape(shape=(2, 3))``; NumPy's ``order="C"``
    (``np.reshape(t, s)`` passes it) is the only order, row-major as PyTorch's."""
    order = named.pop("order", "C")
    if order != "C":  # (not a TypeError: np.reshape would take that as "no such method" and drop the gradient)
        raise ValueError(f"reshape: only order='C' (row-major, as PyTorch) is supported, got order={order!r}; "
                         "for Fortran order reverse the axes (a matrix to (p, q): x.mT.reshape(q, p).mT)")  # fmt: skip
    if set(named) - {"shape"} or (named and shape):
        raise TypeError(f"reshape: give the shape once, as sizes or shape=; got {shape} and {named}")
    return reshape(self, _shape_arg(shape) if not named else tuple(named["shape"]))


def _view(self: Tensor, *shape, size=None) -> Tensor:
    """PyTorch's ``x.view(2, 3)`` / ``x.view((2, 3))`` / ``x.view(size=(2, 3))``: the values seen in another shape
    without a copy — refused, as PyTorch, where the layout does not allow it (``x.T.view(-1)``: use ``reshape``),
    so a write through the view always reaches x.  ``x.view(dtype)``: the same bytes read as another dtype."""
    if size is not None:
        if shape:
            raise TypeError(f"view: give the shape once, as sizes or size=; got {shape} and size={size}")
        shape = (tuple(size),)
    if len(shape) == 1 and not isinstance(shape[0], int | tuple | list) and is_dtype(shape[0]):
        return _view_dtype(self, shape[0])
    out = reshape(self, _shape_arg(shape))
    data = self.data
    if data.__class__ is np.ndarray and not data.flags.c_contiguous and not self._tangents and data.size:
        if not np.may_share_memory(out.data, data):  # NumPy had to copy: PyTorch's view refuses
            raise InputError(
                f"view: view size is not compatible with input tensor's size and stride (shape {self.shape}, strides "
                f"{self.stride()}; at least one dimension spans across two contiguous subspaces). Use "
                f".reshape{tuple(_shape_arg(shape))} instead (a copy), or .contiguous() first"
            )
    return out


def _view_dtype(self: Tensor, dtype) -> Tensor:
    """PyTorch's ``x.view(dtype)``: x's bytes read as ``dtype`` (bits, not values: ``x.view(ng.int32)`` of 1.0 is
    1065353216), sharing its memory; a wider or narrower dtype rescales the last dimension.  Outside autodiff
    (the result requires no grad, as PyTorch's)."""
    self._readable("view(dtype)")  # (inside ng.jit or vmap the bytes of the data are not this value's)
    dtype = tensor_dtype(dtype, "view")
    data = self.data
    if dtype == self.dtype:
        return self.detach()  # (PyTorch's view(dtype) is an alias without a gradient even to its own dtype)
    if data.__class__ is not np.ndarray:
        raise NotImplementedError(f"view(dtype): reading bytes as another dtype needs NumPy arrays; this tensor is on "
                                  f"{self.device}: x.cpu().view({str(dtype)!r})")  # fmt: skip
    try:
        viewed = (data if data.ndim else data.reshape(1)).view(dtype)
    except ValueError as exc:  # NumPy's reason: the last dimension's size or stride
        raise InputError(f"view: cannot view a {self.dtype} tensor of shape {self.shape} as {dtype} ({exc}); "
                         "make the last dimension contiguous and a multiple of the size ratio") from None  # fmt: skip
    if not data.ndim:
        if viewed.shape != (1,):
            raise InputError(f"view: a 0-d {self.dtype} tensor cannot be viewed as {dtype} (another element size)")
        viewed = viewed.reshape(())
    return _share(self, _wrap(viewed))


def _expand(self: Tensor, *shape, size=None) -> Tensor:
    """PyTorch's ``x.expand(2, -1, 3)`` (or ``size=``): ``x`` broadcast to ``shape``, where −1 keeps the
    size of the dimension it aligns with (counted from the right; not for a new leading dimension)."""
    shape = tuple(_shape_arg(shape) if size is None else size)
    lead = len(shape) - self.ndim
    if builtins.any(n == -1 for n in shape[:lead]) or lead < 0:
        raise InputError(  # (PyTorch's RuntimeError; a ValueError too)
            f"expand: cannot expand a tensor of shape {self.shape} to {shape}: "
            "give at least as many sizes as it has dimensions, and -1 only for an existing dimension"
        )
    return broadcast_to(self, tuple(self.shape[i - lead] if n == -1 else n for i, n in enumerate(shape)))


_PLAIN_OPERANDS = frozenset({Tensor, float, int, bool, np.ndarray})  # the common operands, by class (fast)
_NUMBER_KINDS = frozenset("biufc")


def _comparable(other) -> bool:
    """Whether an operator takes ``other`` as PyTorch's does: a tensor, a number, an array (NumPy's or another
    library's), a NumPy scalar, or a (nested) list/tuple of numbers.  Anything else (None, a string, an object)
    is not compared: ``NotImplemented``, so ``t == None`` is False, ``t != "a"`` True and ``t < None`` Python's
    TypeError, as for a torch tensor."""
    if other.__class__ in _PLAIN_OPERANDS or isinstance(other, Tensor | np.ndarray | np.generic | complex):
        return True
    if isinstance(other, list | tuple):
        try:
            return np.asarray(other).dtype.kind in _NUMBER_KINDS  # (a ragged or mixed list: not numbers)
        except (ValueError, TypeError):
            return False
    return builtins.any(hasattr(other, a) for a in ("__array_namespace__", "__array__", "__cuda_array_interface__"))


def _comparison(prim) -> Callable:
    """A comparison or logical operator: a boolean tensor outside the graph, like PyTorch (under
    vmap it is batched like any elementwise op); ``NotImplemented`` for an operand PyTorch does not compare
    (:func:`_comparable`)."""
    fn = prim.fn

    def compare(self: Tensor, other) -> Tensor:
        if other.__class__ not in _PLAIN_OPERANDS and not _comparable(other):
            return NotImplemented
        if _mode.slow or self._data.__class__ is not np.ndarray:  # vmap, or another array library
            if _mode.jit_trace is not None:  # ng.jit records a comparison of traced values (jit.py)
                out = _mode.jit_trace.compare(prim.name, self, other)
                if out is not None:
                    return out
            with _m.no_grad():  # (PyTorch's common dtype, on any library: the rule's value, rules.torch_operands)
                return _apply(prim, (self, other))
        return _wrap(fn(self._data, other._data if isinstance(other, Tensor) else other))

    return compare


def _to(self: Tensor, *args, dtype=None, device=None, non_blocking: bool = False, copy: bool = False,
        memory_format=preserve_format) -> Tensor:  # fmt: skip
    """This tensor on another device and/or of another dtype (PyTorch's ``t.to("cuda")``,
    ``t.to(np.float64)``, ``t.to("cpu", "float32")``); itself when nothing changes, unless ``copy=True``
    (then a recorded copy, as ``clone``).  A copy between devices is recorded: the gradient flows back to
    the original device.  ``non_blocking`` is accepted (every copy here completes before it returns);
    ``memory_format`` lays a copy out as :func:`clone`'s does."""
    if memory_format is not preserve_format and _memory_format("to", memory_format) != preserve_format:
        out = _to(self, *args, dtype=dtype, device=device)
        return _clone(out, memory_format=memory_format) if copy and out is self else _contiguous(out, memory_format)
    device, dtype = device_and_dtype(args, device, dtype)
    out = self if dtype is None else astype(self, dtype)
    if device is None or out.device == to_device_spec(device):
        return _apply(R.CLONE, (out,), {}) if copy and out is self else out
    return _apply(R.TO_DEVICE, (out,), {"device": to_device_spec(device)})


def _memory_format(who: str, fmt) -> str:
    """``fmt`` as one of :data:`_MEMORY_FORMATS` (ng's strings, or PyTorch's objects, which print ``torch.<name>``)."""
    name = fmt if isinstance(fmt, str) else str(fmt).removeprefix("torch.")
    if name not in _MEMORY_FORMATS or not (isinstance(fmt, str) or type(fmt).__name__ == "memory_format"):
        raise TypeError(f"{who}: memory_format must be one of ng.{', ng.'.join(_MEMORY_FORMATS)}, got {fmt!r}")
    return name


def _channels_last_order(who: str, x: Tensor, fmt: str) -> tuple[int, ...]:
    """The axis order whose C layout is ``fmt``'s: channels (axis 1) last, (0, 2, 3, 1) for rank 4."""
    rank = _CHANNELS_LAST[fmt]
    if x.ndim != rank:
        raise InputError(f"{who}: required rank {rank} tensor to use {fmt} format, got shape {x.shape}; give a "
                         f"{rank}-d tensor (N, C, ...) or memory_format=ng.contiguous_format")  # fmt: skip
    return (0, *range(2, rank), 1)


def _laid_out(x: Tensor, fmt: str, who: str) -> Tensor:
    """A copy of ``x`` in ``fmt``'s layout, recorded (the gradient flows back): C order for ``contiguous_format``;
    for channels-last, C order of the channels-last permutation, permuted back (PyTorch's strides, NHWC in memory)."""
    if fmt == contiguous_format:
        return _apply(R.CLONE, (x,), {"order": "C"})
    order = _channels_last_order(who, x, fmt)
    inverse = tuple(int(i) for i in np.argsort(order))
    return transpose(_apply(R.CLONE, (transpose(x, order),), {"order": "C"}), inverse)


def _clone(x, *, memory_format=preserve_format) -> Tensor:
    # ng.clone and Tensor.clone (the clone row's function, its docstring the row's): PyTorch's clone, a copy in
    # new memory, the gradient passed through unchanged.  memory_format: ng.preserve_format (the layout kept),
    # ng.contiguous_format (C order), ng.channels_last (rank 4, channels innermost) or ng.channels_last_3d (rank 5);
    # the values are the same in every layout.
    if memory_format is None or memory_format is preserve_format:  # (None: PyTorch's clone takes it for the default)
        return _plain_clone(x)
    fmt = _memory_format("clone", memory_format)
    if fmt == preserve_format:
        return _plain_clone(x)
    return _laid_out(_t(x), fmt, "clone")


def _contiguous(self: Tensor, memory_format=contiguous_format) -> Tensor:
    """PyTorch's ``x.contiguous()``: itself when its values lie in the layout already (C order by default,
    channels-last with ``memory_format=ng.channels_last``), else a copy in it (recorded like ``clone``: the
    gradient flows back)."""
    fmt = memory_format if memory_format is contiguous_format else _memory_format("contiguous", memory_format)
    if fmt in _CHANNELS_LAST:
        _channels_last_order("contiguous", self, fmt)  # (refuses a tensor of another rank, as PyTorch)
    if _is_contiguous(self, fmt):
        return self
    if fmt == preserve_format:  # (PyTorch's refusal, where a copy would be needed)
        raise InputError(f"contiguous: preserve memory format is unsupported by the contiguous operator (as in "
                         f"PyTorch; this tensor of shape {self.shape} is not in C order); use x.clone() to keep its "
                         "layout, or x.contiguous() for C order")  # fmt: skip
    return _laid_out(self, fmt, "contiguous")


def _is_contiguous(self: Tensor, memory_format=contiguous_format) -> bool:
    """PyTorch's ``x.is_contiguous()``: whether the values lie in C order (strides of size-1 dims ignored), or in
    ``memory_format``'s layout (channels-last: False for a tensor of another rank, as PyTorch)."""
    flags = getattr(self.data, "flags", None)
    if flags is None:  # another library's array: no strides to speak of
        return True
    fmt = memory_format if memory_format is contiguous_format else _memory_format("is_contiguous", memory_format)
    if fmt == contiguous_format or fmt == preserve_format:
        return flags.c_contiguous
    if self.ndim != _CHANNELS_LAST[fmt]:
        return False
    lead = self.data.ndim - self.ndim  # (vmap's batch axes, first in the data)
    order = (*range(lead), *(lead + i for i in _channels_last_order("is_contiguous", self, fmt)))
    return self.data.transpose(order).flags.c_contiguous  # (a view of the array: nothing copied, nothing recorded)


def _size(self: Tensor) -> Size:
    """The number of elements — an ``int`` as NumPy's ``.size`` — that is also callable as
    PyTorch's ``x.size()`` (the shape) and ``x.size(dim)`` (one dimension)."""
    return Size(self.numel(), self.shape)


class Size(int):
    """An element count (an ``int``: ``x.size == 6``, ``range(x.size)``) that PyTorch code can call:
    ``x.size()`` is the shape tuple, ``x.size(d)`` its ``d``-th entry (negative ``d`` from the end)."""

    def __new__(cls, n: int, shape: tuple[int, ...]):
        obj = super().__new__(cls, n)
        obj.shape = tuple(shape)
        return obj

    def __call__(self, dim: int | None = None):
        if dim is None:
            return self.shape
        ndim = len(self.shape)
        if not isinstance(dim, int | np.integer) or isinstance(dim, bool) or not -ndim <= dim < ndim:
            if not ndim:
                raise IndexError(f"size: a 0-d tensor has no dimensions, got dim={dim!r}; call x.size() for its shape ()")
            raise IndexError(
                f"size: dimension {dim!r} is out of range for a tensor of {ndim} dimensions (shape {self.shape}); "
                f"give an integer in [{-ndim}, {ndim - 1}]"
            )
        return self.shape[dim]

    def __reduce__(self):
        return (int, (int(self),))  # pickled as the plain count


def _new_full(self: Tensor, size, fill_value, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """PyTorch's ``x.new_full(size, v)``: a new tensor of ``size`` filled with ``v``, of x's dtype and on x's device
    unless given (``new_zeros``, ``new_ones`` and ``new_empty`` are this with 0 and 1)."""
    dtype = self.dtype if dtype is None else dtype
    return creation.full(size, fill_value, dtype=dtype, device=self.device if device is None else device,
                         requires_grad=requires_grad)  # fmt: skip


def _new_filled(name: str, fill_value) -> Callable:
    def new(self: Tensor, *sizes, size=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
        """PyTorch's ``x.new_zeros(2, 3)``, ``x.new_zeros((2, 3))`` or ``x.new_zeros(size=(2, 3))``."""
        if sizes and size is not None:
            raise TypeError(f"{name}: got multiple values for argument 'size'; give the sizes once, as {name}(2, 3) "
                            f"or {name}(size=(2, 3))")  # fmt: skip
        if not sizes and size is None:
            raise TypeError(f"{name}: missing 1 required argument 'size'; give it, e.g. x.{name}((2, 3)) "
                            f"(x.{name}(()) for a 0-d tensor)")  # fmt: skip
        shape = _shape_arg(sizes) if size is None else size
        return _new_full(self, shape, fill_value, dtype=dtype, device=device, requires_grad=requires_grad)

    new.__name__ = new.__qualname__ = name
    return new


def _new_tensor(self: Tensor, data, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """PyTorch's ``x.new_tensor(data)``: a copy of ``data`` of x's dtype and on x's device unless given."""
    return Tensor(data, requires_grad, self.dtype if dtype is None else dtype, self.device if device is None else device)


def _deprecated_0d(who: str, fix: str, depth: int = 3) -> None:
    """PyTorch's warning for ``x.T``/``x.mT``/``x.H``/``x.mH`` of a 0-D tensor, pointing at the user's line
    (``depth`` frames up: this, the property's getter, the user's)."""
    warnings.warn(f"Tensor.{who} is deprecated on 0-D tensors (as in PyTorch). This function is the identity in "
                  f"these cases{fix}", UserWarning, stacklevel=depth)  # fmt: skip


def _matrix_transpose(self: Tensor) -> Tensor:
    """PyTorch's ``x.T``: the transpose of a matrix; on other ranks the dims reversed (a 1-D tensor itself) with
    PyTorch's deprecation warning (``x.mT`` transposes a batch of matrices)."""
    if self.data.ndim != 2 and (nd := self.ndim) != 2:  # (the data's rank first: no frame for a matrix)
        if nd == 0:
            _deprecated_0d("T", ".")
        else:
            warnings.warn(
                f"The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated (as in "
                f"PyTorch; this one has shape {self.shape}). Consider `x.mT` to transpose batches of matrices or "
                "`x.permute(*range(x.ndim - 1, -1, -1))` to reverse the dimensions of a tensor.",
                UserWarning,
                stacklevel=2,
            )
    return transpose(self)


def _last_two(self: Tensor, who: str) -> Tensor:
    """``x.mT`` / ``x.mH`` (``who``; a property's getter calls it): the last two dims swapped, a batch of
    matrices; a 1-D tensor is refused, a 0-D one is itself (with PyTorch's deprecation warning)."""
    if who == "mH" and self.dtype.kind == "c":
        raise TypeError("mH: the conjugate transpose of a complex tensor is not implemented; use .mT for the transpose")
    nd = self.ndim
    if nd >= 2:
        return swapaxes(self, -1, -2)
    if nd == 1:
        raise InputError(f"{who}: tensor.{who} is only supported on matrices or batches of matrices (at least 2-D), "
                         f"got a 1-D tensor of shape {self.shape}; make it a row or a column first, "
                         "x.reshape(1, -1) or x.reshape(-1, 1)")  # fmt: skip
    _deprecated_0d(who, "." if who == "mT" else "; consider using x.conj().", depth=4)  # (under the lambda)
    return transpose(self)


def _conjugate_transpose(self: Tensor) -> Tensor:
    """PyTorch's ``x.H``: the conjugate transpose of a matrix — for the real tensors nablagrad differentiates, its
    transpose (``x.mH``: of a batch of matrices)."""
    if self.dtype.kind == "c":
        raise TypeError("H: the conjugate transpose of a complex tensor is not implemented; use .mT for the transpose")
    if self.ndim == 0:
        _deprecated_0d("H", "; consider using x.conj().")
    elif self.ndim != 2:
        raise InputError(f"H: only for matrices (2-D tensors), got shape {self.shape}; for batches of matrices "
                         f"use .mH (tensor.H is only supported on matrices, as in PyTorch)")  # fmt: skip
    return transpose(self)


_TYPE_NAMES = {  # PyTorch's legacy type names, x.type() and x.type("torch.DoubleTensor")
    "float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor", "int64": "LongTensor",
    "int32": "IntTensor", "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor",
    "complex64": "ComplexFloatTensor", "complex128": "ComplexDoubleTensor",
}  # fmt: skip


def _type(self: Tensor, dtype=None, non_blocking: bool = False) -> Tensor | str:
    """PyTorch's ``x.type()``: the type name (``"torch.FloatTensor"``, PyTorch's spelling, so code comparing it keeps
    working); ``x.type(dtype)``: x cast to ``dtype`` (a dtype or such a name; itself when already of it)."""
    if dtype is None:
        return "torch." + _TYPE_NAMES.get(str(self.dtype), f"{self.dtype}Tensor")
    if isinstance(dtype, str) and dtype.endswith("Tensor"):
        names = {v: k for k, v in _TYPE_NAMES.items()}
        short = dtype.rsplit(".", 1)[-1]
        if short not in names:
            raise ValueError(f"type: unknown tensor type {dtype!r}; give a dtype or one of torch.{', torch.'.join(names)}")
        dtype = names[short]
    return self if np.dtype(dtype) == self.dtype else astype(self, dtype)


def _bfloat16(self: Tensor) -> Tensor:
    raise TypeError(f"bfloat16: NumPy, where nablagrad keeps its values, has no bfloat16 dtype (this tensor is "
                    f"{self.dtype}); use x.half() (float16) or x.float() (float32)")  # fmt: skip


def _apply_in_place(self: Tensor, fn: Callable) -> Tensor:
    """PyTorch's ``x.apply_(f)``: ``f`` (a Python function of one number) applied to every entry, the results written
    into x (cast to its dtype) and x returned.  Slow (a Python call per entry) and outside autodiff: refused for a
    tensor that requires grad, as PyTorch's (use ``x.detach().apply_(f)``).  ``f`` runs on every entry before
    anything is written, so an error in it leaves x as it was."""
    if self.requires_grad:
        raise RuntimeError(f"apply_: can't call apply_() on a tensor that requires grad (shape {self.shape}); use "
                           "x.detach().apply_(f), or write f with nablagrad ops to differentiate it")  # fmt: skip
    if not callable(fn):
        raise TypeError(f"apply_: expected a callable of one number, got {type(fn).__name__}")
    if self.device.type != "cpu":
        raise TypeError(f"apply_: only implemented on CPU tensors (as PyTorch), this one is on {self.device}; "
                        "use x.cpu().apply_(f) and copy the result back")  # fmt: skip
    self._readable("apply_()")
    values = self._host()
    values = np.vectorize(fn, otypes=[self.dtype])(values) if values.size else values.copy()
    return ops.copy_(self, values)


def _invert(self: Tensor) -> Tensor:
    if _mode.slow:
        if _mode.jit_trace is not None:  # ng.jit records ~mask of a traced value (jit.py)
            out = _mode.jit_trace.invert(self)
            if out is not None:
                return out
        with _m.no_grad():
            return _apply(R.INVERT, (self,))
    return _wrap(R.INVERT.fn(self.data))  # (the rule's fn: a float tensor's refusal names the op and the fix)


def _in_place(name: str, op: Callable) -> Callable:
    """PyTorch's in-place forms, ``x op= y`` (``with ng.no_grad(): w -= lr * w.grad``) and ``x.<op>_(…)``
    (``x.add_(y, alpha=2)``, ``x.clamp_(min=0)``): ``op(x, …)`` written into x's values, and x itself
    returned, not a new tensor bound to the name (:func:`.ops.update_`)."""

    def method(self: Tensor, *args, **kw) -> Tensor:
        def updated(old: Tensor) -> Tensor:  # x itself as an argument too (x += x, x.mul_(x)) reads the old x
            given = tuple(old if a is self else a for a in args)
            return op(old, *given, **{k: old if v is self else v for k, v in kw.items()})

        return ops.update_(self, updated, name)

    method.__name__ = method.__qualname__ = name
    return method


# --- NumPy's ufuncs on tensors (``np.exp(t)``, ``ndarray * t``, ``arr += t``) -------------------------------------
# A ufunc NumPy calls with a Tensor among its operands: the nablagrad op of the same name (differentiable; ``ndarray *
# t`` is ``ng.multiply(ndarray, t)``, as ``t.__rmul__(ndarray)``), else NumPy on the values.  The comparisons and the
# bitwise ops are their operators, as Python calls them (boolean, outside the graph; ``a < t`` is ``t > a``): the ufunc
# of each is its rule's (``np.less`` -> ``lt``).
_UFUNC_OPERATORS = {prim.fn.__name__: name for name, prim in (*R.COMPARISONS.items(), ("invert", R.INVERT))}
_REFLECTED = {"lt": "gt", "le": "ge", "gt": "lt", "ge": "le"}  # the others are symmetric
_UFUNC_NAMES = {"rint": "round", "degrees": "rad2deg", "radians": "deg2rad"}  # where the names differ (else: same,
# or the array API standard's: left_shift -> bitwise_left_shift)


def _array_ufunc(self: Tensor, ufunc: np.ufunc, method: str, *inputs, **kwargs):
    """NumPy's ``__array_ufunc__`` protocol: ``np.exp(t)``, ``np.isfinite(t)``, ``ndarray + t`` give what the
    nablagrad op gives (a Tensor, differentiable); a ufunc nablagrad lacks, a ufunc method (``np.add.reduce``,
    ``.outer``, ``.accumulate``) or NumPy keywords (``dtype=``, ``where=``) compute on the values, giving a Tensor
    without gradient — refused for a tensor that needs one; ``out=`` of NumPy arrays (``arr += t``) is written
    and returned, as for a torch tensor; a Tensor as ``out=`` is refused (NumPy cannot write into it)."""
    out = kwargs.get("out")
    if out is not None:
        return _ufunc_into(ufunc, method, inputs, kwargs)
    kwargs.pop("out", None)
    if method == "__call__" and not kwargs:
        result = _ufunc_op(ufunc, inputs)
        if result is not NotImplemented:
            return result
    if method == "at" and isinstance(inputs[0], Tensor):
        raise TypeError(
            f"np.{ufunc.__name__}.at: NumPy cannot write into a nablagrad Tensor (its version and graph would not "
            "know); use t.index_add_(dim, index, values) or ng.scatter_add, or write into t.detach().numpy() "
            "outside autodiff"
        )
    _refuse_lost_gradient(ufunc, method, inputs)
    values = getattr(ufunc, method)(*_values(inputs), **{k: _values((v,))[0] for k, v in kwargs.items()})
    device = next((a.device for a in inputs if isinstance(a, Tensor)), None)  # (None: a Tensor only as where=)
    if values is None:  # (``ufunc.at`` writes into an array operand)
        return None
    return tuple(Tensor(v, device=device) for v in values) if isinstance(values, tuple) else Tensor(values, device=device)


def _ufunc_op(ufunc: np.ufunc, inputs: tuple):
    """The nablagrad op for ``ufunc(*inputs)``, or ``NotImplemented`` where there is none."""
    name = ufunc.__name__
    if len(inputs) != ufunc.nin:
        return NotImplemented
    operator_ = _UFUNC_OPERATORS.get(name)
    if operator_ is not None:
        if len(inputs) == 1:
            return getattr(inputs[0], f"__{operator_}__")()
        x, y = inputs
        if isinstance(x, Tensor):
            return getattr(x, f"__{operator_}__")(y)
        return getattr(y, f"__{_REFLECTED.get(operator_, operator_)}__")(x)
    op = OPS.get(_UFUNC_NAMES.get(name, name)) or OPS.get(RENAMED.get(name, ""))
    return NotImplemented if op is None else op(*inputs)


def _ufunc_into(ufunc: np.ufunc, method: str, inputs: tuple, kwargs: dict):
    """``ufunc(..., out=arrays)``: computed on the values into the NumPy arrays given, which are returned."""
    outs = kwargs["out"] if isinstance(kwargs["out"], tuple) else (kwargs["out"],)
    if builtins.any(isinstance(o, Tensor) for o in outs):
        raise TypeError(
            f"np.{ufunc.__name__}: out= cannot be a nablagrad Tensor (NumPy writes into arrays only, as for a torch "
            f"tensor); compute the result (np.{ufunc.__name__}(...) or ng.{ufunc.__name__}(...)) and write it with "
            "t.copy_(result), or pass out=t.numpy() for a tensor outside autodiff"
        )
    _refuse_lost_gradient(ufunc, method, inputs)
    extra = {k: _values((v,))[0] for k, v in kwargs.items() if k != "out"}
    return getattr(ufunc, method)(*_values(inputs), out=outs, **extra)  # (NumPy returns the arrays given)


def _refuse_lost_gradient(ufunc: np.ufunc, method: str, inputs: tuple) -> None:
    """A ufunc computed on the values drops every derivative: refused where one is being taken (an input that
    requires grad with grad mode on, or a forward-mode dual), never a silently wrong gradient."""
    call = f"np.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
    fix = f"ng.{ufunc.__name__} where it exists" if method == "__call__" else "ng.sum, ng.prod, ng.cumsum, ng.outer …"
    for a in inputs:
        if isinstance(a, Tensor):
            a._readable(call)  # (a value traced by ng.jit or batched by vmap: refused, with its own reason)
        if isinstance(a, Tensor) and ((a._requires_grad and _mode.grad_enabled) or a._tangents):
            raise TypeError(
                f"{call}: nablagrad has no differentiable op for this NumPy call (on a tensor of shape {a.shape} that "
                f"requires grad), so its gradient would be lost; use a nablagrad op ({fix}), or compute outside "
                "autodiff on t.detach().numpy()"
            )


def _values(items: tuple) -> list:
    """The NumPy arrays behind the Tensors among ``items`` (host copies from another device); the rest as given."""
    return [a.numpy() if isinstance(a, Tensor) else a for a in items]


_OPERATORS = {  # x += y, x <<= 1, m &= k …: Python's operator in place (its dunder name: its function)
    **{name: getattr(operator, name) for name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "lshift",
                                                  "rshift", "xor")},
    "and": operator.and_,
    "or": operator.or_,
}
_IN_PLACE = (  # x.add_(…), x.exp_() … : PyTorch's in-place methods of the ops nablagrad has
    "add", "sub", "mul", "div", "pow", "clamp", "clamp_min", "clamp_max", "clip", "masked_fill", "abs", "neg", "exp",
    "expm1", "log", "log1p", "log2", "log10", "sqrt", "square", "reciprocal", "sign", "floor", "ceil", "round", "trunc",
    "sin", "cos", "tan", "sinh", "cosh", "asin", "acos", "atan", "sigmoid", "tanh", "relu", "exp2", "index_add",
    "lgamma", "digamma", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift",
    "bitwise_right_shift", "gcd", "lcm", "absolute", "negative", "arccos", "arcsin", "arctan", "arccosh", "arcsinh",
    "arctanh", "acosh", "asinh", "atanh", "arctan2", "atan2", "hypot", "copysign", "erf", "erfc", "erfinv", "frac",
    "fix", "sgn", "sinc", "logit", "rsqrt", "deg2rad", "rad2deg", "nan_to_num", "fmod", "remainder", "floor_divide",
    "xlogy", "subtract", "multiply", "divide", "true_divide", "lerp", "addcmul", "addcdiv", "heaviside", "logical_not",
    "logical_and", "logical_or", "logical_xor", "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less",
    "less_equal", "not_equal", "cumsum", "cumprod", "tril", "triu", "addmm", "addmv", "addr", "addbmm", "baddbmm",
    "index_copy", "index_fill", "scatter", "scatter_add", "scatter_reduce", "renorm",
)

METHODS: dict[str, object] = {
    **{f"__i{name}__": _in_place(f"__i{name}__", op) for name, op in _OPERATORS.items()},
    **{f"{name}_": _in_place(f"{name}_", lambda x, *a, _op=name, **kw: OPS[_op](x, *a, **kw)) for name in _IN_PLACE},
    "T": property(_matrix_transpose),
    "mT": property(lambda self: _last_two(self, "mT")),
    "H": property(_conjugate_transpose),
    "mH": property(lambda self: _last_two(self, "mH")),
    "__pos__": torch_names.positive,
    "type_as": lambda self, other: astype(self, other.dtype),
    "type": _type,
    "view_as": lambda self, other: reshape(self, other.shape),
    "reshape_as": lambda self, other: reshape(self, other.shape),
    "new_full": _new_full,
    "new_zeros": _new_filled("new_zeros", 0),
    "new_ones": _new_filled("new_ones", 1),
    "new_empty": _new_filled("new_empty", 0),  # (filled with zeros, as ng.empty: nothing uninitialised is ever read)
    "new_tensor": _new_tensor,
    "is_floating_point": lambda self: self.dtype.kind == "f",
    "is_complex": lambda self: self.dtype.kind == "c",
    "is_contiguous": _is_contiguous,
    "clone": _clone,
    "is_cpu": property(lambda self: self.device.type == "cpu"),
    "is_cuda": property(lambda self: self.device.type == "cuda"),
    "element_size": lambda self: self.dtype.itemsize,
    "itemsize": property(lambda self: self.dtype.itemsize),
    "nbytes": property(lambda self: self.numel() * self.dtype.itemsize),
    "grad_fn": property(lambda self: self._op),  # the primitive that made it (None for a leaf), as torch's node
    "reshape": _reshape,
    "view": _view,
    "transpose": transpose,
    "expand": _expand,
    "astype": astype,
    "to": _to,
    "cpu": lambda self: _to(self, "cpu"),
    "cuda": lambda self, index=0: _to(self, f"cuda:{index}"),  # CuPy: pip install "nablagrad[gpu]"
    "float": lambda self: astype(self, np.float32),
    "double": lambda self: astype(self, np.float64),
    "half": lambda self: astype(self, np.float16),
    "long": lambda self: astype(self, np.int64),
    "int": lambda self: astype(self, np.int32),
    "short": lambda self: astype(self, np.int16),
    "char": lambda self: astype(self, np.int8),
    "byte": lambda self: astype(self, np.uint8),
    "bool": lambda self: astype(self, np.bool_),
    "bfloat16": _bfloat16,
    "get_device": lambda self: -1 if self.device.type == "cpu" else (self.device.index or 0),
    "is_signed": lambda self: self.dtype.kind in "fic",
    "is_same_size": lambda self, other: self.shape == other.shape,
    "is_nonzero": lambda self: self.__bool__(),
    "is_sparse": False,  # (PyTorch code checks these before taking a fast path; a tensor here is always strided)
    "is_quantized": False,
    "is_meta": False,
    "apply_": _apply_in_place,
    "__getitem__": lambda self, index: ops.getitem(self, torch_index(index, "getitem")),
    "__setitem__": lambda self, index, value: ops.setitem(self, torch_index(index, "setitem"), value),
    "polygamma_": _in_place("polygamma_", lambda x, n: OPS["polygamma"](n, x)),  # (torch's order: n first)
    "copy_": ops.copy_,
    "zero_": ops.zero_,
    "fill_": ops.fill_,
    "contiguous": _contiguous,
    "size": property(_size),
    "numel": lambda self: int(np.prod(self.shape, dtype=np.int64)) if self._tangents else self.data.size,
    "dim": lambda self: len(self.shape),
    "ndimension": lambda self: len(self.shape),
    "nelement": lambda self: self.numel(),
    "__invert__": _invert,
    "__array_ufunc__": _array_ufunc,
    "backward": backward,
    **{f"__{name}__": _comparison(prim) for name, prim in R.COMPARISONS.items()},
    **{f"__r{name}__": _comparison(R.COMPARISONS[name]) for name in ("and", "or", "xor")},  # (symmetric: True & x)
}

OPS: dict[str, Callable] = {}


def numel(input) -> int:  # noqa: A002 - PyTorch's name for the argument
    """PyTorch's ``torch.numel(x)``: the number of elements, ``x.numel()``."""
    return (input if isinstance(input, Tensor) else _t(input)).numel()


def _install() -> None:
    """Make every table row public — a function, a ``Tensor`` method, operators, a ``TENSOR_NS``
    entry — and bind the hand-written methods and ops."""
    for row in TABLE.values():
        if row.name in OPS:
            continue
        f = OPS[row.name] = globals()[row.name] = _function(row)
        if row.method:
            setattr(Tensor, row.name, f if row.method is True else row.method)
        if row.dunder:
            for name, method in _operators(row).items():
                setattr(Tensor, name, method)
    for name, method in METHODS.items():
        setattr(Tensor, name, method)
    for name, f in {**OPS, **{n: getattr(ops, n) for n in ops.__all__}, **NS_EXTRA}.items():
        if not hasattr(TENSOR_NS, name):
            setattr(TENSOR_NS, name, staticmethod(f))


NS_EXTRA: dict[str, Callable] = {  # TENSOR_NS entries whose signature the rules fix (as NUMPY_NS's)
    "getitem": ops.numpy_getitem,  # NumPy's layout, as NUMPY_NS.getitem (Tensor.__getitem__ is PyTorch's)
    "index_update": lambda x, v, index: ops.numpy_index_update(x, index, v),
    "unindex": ops.unindex,
    "select": lambda mask, g: ops.where(mask, g, 0.0),  # where(mask, g, 0), recorded
}
_install()
_plain_clone = OPS["clone"]  # the generated function: clone in the input's layout, the common call
_clone.__name__ = _clone.__qualname__ = "clone"
_clone.__doc__ = TABLE["clone"].doc  # (the row's, as every generated function's)
OPS["clone"] = clone = _clone  # ng.clone(x, memory_format=...), as torch.clone

__all__ = [*OPS, *_MEMORY_FORMATS, "numel"]
