"""The ops written by hand: shapes, indexing, ``where``, ``clip``, ``astype``, ``var``.

Each checks its arguments (shapes, indices, dtypes) before applying one primitive of
:mod:`.rules` (``var`` is a composite).  They sit below the rule modules that build on them
(:mod:`.rules_shape`, :mod:`.rules_reduce` …); :mod:`.api` makes them public together with
every op generated from the rule table.
"""

from __future__ import annotations

import builtins
import warnings
import weakref
from collections.abc import Callable, Sequence

import numpy as np

from ..backend import get_default_dtype
from ..backend.checks import is_int
from ..backend.device import to_device
from ..backend.dtypes import CATEGORY, tensor_dtype, wrap_int
from ..backend.namespace import NUMPY, namespace_of
from . import grad_mode as _m
from . import rules as R
from . import rules_index as RI
from .errors import InputError
from .grad_mode import state as _mode
from .primitive import function, row
from .tensor import Tensor, _apply, _overlap, _wrap, _written, as_tensor, guard, tensor


def _t(x) -> Tensor:
    return x if isinstance(x, Tensor) else tensor(x)


def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def check_dim(name: str, dim, ndim: int) -> int:
    """``dim`` in 0..ndim−1 (0 for a 0-d tensor, as PyTorch), or an ``AxisError`` — a
    ``ValueError`` and, as PyTorch's, an ``IndexError`` — naming the op and the range."""
    top = builtins.max(ndim, 1)
    if not isinstance(dim, int | np.integer) or not -top <= dim < top:
        raise np.exceptions.AxisError(
            f"{name}: axis {dim!r} is out of range for a tensor with {ndim} dimensions; give an int in {-top}..{top - 1}"
        )
    return int(dim) % top


def scalar_axis(name: str, axis):
    """The ``axis`` of a reduction or scan of a 0-d tensor: PyTorch accepts dim 0 and −1 (the
    tensor itself), NumPy refuses both, so it is None here; any other dim is out of range."""
    for a in axis if isinstance(axis, tuple | list) else (axis,):
        if a not in (0, -1):
            raise np.exceptions.AxisError(
                f"{name}: dim {a} is out of range for a 0-d tensor (its only dims are 0 and -1); "
                "pass dim=0, dim=-1 or dim=None"
            )
    return None


_INTEGRAL = frozenset("iub")


def binary(prim, x, y, divide: bool = False) -> Tensor:
    """A binary primitive on ``x`` and ``y``, either of which may be a number, with PyTorch's type promotion
    (``divide``: integers divide into the default float dtype) — what every generated binary op calls."""
    if not isinstance(x, Tensor) and not isinstance(y, Tensor):
        x = _t(x)
    return _apply(prim, _promote(x, y, divide))


def _promote(x, y, divide: bool):
    """PyTorch's type rules for a binary op, where NumPy's differ: a float tensor keeps its dtype
    with an int tensor and with a NumPy scalar (both weak, like a Python number); an int tensor
    meeting a float scalar — or divided — becomes the default float dtype; a 0-d tensor with a
    dimensioned one is weak unless of a higher category (:func:`_promote_zero_dim`).  Float
    arrays of the same kind pass untouched (the common case costs two dtype reads)."""
    xt, yt = isinstance(x, Tensor), isinstance(y, Tensor)
    if xt != yt and isinstance(y if xt else x, np.ndarray):  # an array operand is a tensor (torch.tensor(a))
        x, y = (x, as_tensor(y)) if xt else (as_tensor(x), y)  # on the default device (shared on the CPU)
        xt = yt = True
    if xt and yt:
        dx, dy = x.dtype, y.dtype
        # a 0-d operand (its data 0-d, or batched by vmap: the per-example ndim); NumPy dtypes are singletons
        if dx is not dy and (not x.data.ndim or not y.data.ndim or x._tangents or y._tangents):
            if (x.ndim == 0) != (y.ndim == 0):
                return _promote_zero_dim(x, y, divide)
        kx, ky = dx.kind, dy.kind
        if kx == ky:
            if divide and kx in _INTEGRAL:
                return astype(x, get_default_dtype()), astype(y, get_default_dtype())
            return x, y
        if kx == "f" and ky in _INTEGRAL:
            return x, astype(y, x.dtype)
        if ky == "f" and kx in _INTEGRAL:
            return astype(x, y.dtype), y
        if divide and kx in _INTEGRAL and ky in _INTEGRAL:
            return astype(x, get_default_dtype()), astype(y, get_default_dtype())
        return x, y
    t, other = (x, y) if xt else (y, x)
    if isinstance(other, np.generic) and other.dtype.kind in "fiub":
        other = other.item()  # a NumPy scalar is weak, like a Python number (torch)
    kind = t.dtype.kind
    if kind in _INTEGRAL and (divide or isinstance(other, float)):
        t = astype(t, get_default_dtype())
    elif other.__class__ is int and kind in "iu":
        other = wrap_int(other, t.dtype)  # PyTorch casts the number to the tensor's dtype, wrapping (NumPy refuses)
    return (t, other) if xt else (other, t)


def _promote_zero_dim(x: Tensor, y: Tensor, divide: bool) -> tuple:
    """A 0-d tensor with a dimensioned one, of different dtypes (``torch.result_type``): the 0-d
    tensor is weak, like a Python number, unless its category (bool < int < float < complex) is
    higher; so float32 + 0-d float64 → float32, int64 + 0-d float64 → float64, uint8 + 0-d int64
    → uint8.  An integral result of a division is the default float dtype."""
    z, d = (x, y) if x.ndim == 0 else (y, x)
    common = z.dtype if CATEGORY[z.dtype.kind] > CATEGORY[d.dtype.kind] else d.dtype
    if divide and common.kind in _INTEGRAL:
        common = np.dtype(get_default_dtype())
    return astype(x, common), astype(y, common)


# --- elementwise ----------------------------------------------------------------------------------


def promote_all(tensors: Sequence) -> tuple:
    """Tensors cast to PyTorch's common dtype (``torch.result_type``): among floats the widest
    float, ints join a float's dtype instead of widening it (float32 with int64 is float32)."""
    ts = tuple(_t(t) for t in tensors)
    dtypes = {t.dtype for t in ts}
    if len(dtypes) < 2:
        return ts
    floats = [d for d in dtypes if d.kind == "f"]
    common = np.result_type(*(floats or dtypes))
    return tuple(t if t.dtype == common else astype(t, common) for t in ts)


def _where_method(x, condition, y):
    """PyTorch's ``x.where(condition, y)``: ``x`` where ``condition`` holds, else ``y``."""
    return where(condition, x, y)


_MISSING = object()  # an argument not given


@function(method=_where_method)
def where(cond, x=_MISSING, y=_MISSING):
    """``x`` where ``cond`` else ``y``; the gradient goes to the branch that was taken.  With the
    condition alone (PyTorch's ``torch.where(cond)``, NumPy's ``nonzero``): the indices where it holds
    (is nonzero), one int64 tensor per dimension."""
    if x is _MISSING or y is _MISSING:
        if x is not _MISSING or y is not _MISSING:
            raise TypeError("where: give both x and y (values where cond holds and where not), or the condition alone")
        c = _t(cond)
        found = np.nonzero(np.atleast_1d(c.numpy()))  # a 0-d condition reads as one entry (PyTorch's)
        return tuple(tensor(i.astype(np.int64, copy=False), device=c.device) for i in found)
    c = cond.data if isinstance(cond, Tensor) else cond
    ns = namespace_of(c)
    c = np.asarray(c) if ns is NUMPY else c
    if ns.numpy_dtype(c.dtype).kind != "b":
        raise TypeError(f"where: the condition must be boolean, got {ns.numpy_dtype(c.dtype)}")
    if isinstance(cond, Tensor) and (cond._tangents or cond._op is not None):  # batched by vmap, or recorded by
        c = cond  # an ng.jit trace: keep it a tensor, so the condition is computed anew on every call
    elif not isinstance(cond, Tensor) and ns is NUMPY:  # a NumPy mask goes to the tensors' device
        on = next((t.data for t in (x, y) if isinstance(t, Tensor) and t.data.__class__ is not np.ndarray), None)
        c = c if on is None or namespace_of(on) is NUMPY else to_device(c, on.device)
    if not isinstance(x, Tensor) and not isinstance(y, Tensor):
        x = _t(x)
    out = _apply(R.WHERE, (c, *_promote(x, y, False)))
    return out if c is cond else guard(out, cond)  # the VJP reads the condition's array


@function()
def masked_fill(x, mask, value):
    """PyTorch's masked_fill: ``x`` with ``value`` (a number or a 0-d tensor) where the boolean ``mask``,
    broadcast to x's shape, holds; x's shape and dtype are kept.  Gradient: ``g`` where the mask is off
    for x, the sum of ``g`` where it is on for a tensor value."""
    x = _t(x)
    m = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    kind = namespace_of(m).numpy_dtype(m.dtype).kind if hasattr(m, "dtype") else "?"
    if kind != "b":
        got = getattr(m, "dtype", type(m).__name__)
        raise TypeError(f"masked_fill: the mask must be boolean, got {got}; compare first, e.g. x > 0")
    shape = tuple(mask.shape) if isinstance(mask, Tensor) else np.shape(m)
    try:
        fits = np.broadcast_shapes(shape, x.shape) == x.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"masked_fill: a mask of shape {shape} does not broadcast to the tensor's shape {x.shape}")
    if isinstance(value, Tensor) and value.ndim:
        raise ValueError(f"masked_fill: value must be a number or a 0-d tensor, got a tensor of shape {value.shape}")
    out = where(mask, value, x)
    return out if out.dtype == x.dtype else astype(out, x.dtype)


def no_out(name: str, out, error: type[Exception] = TypeError) -> None:
    """NumPy's ``out=None`` (``np.max(t)``, ``np.clip(t, 0, 1)`` pass it to the method) is taken; an array to write
    into is refused: a tensor op gives its result, it writes into nothing.  (``error``: ValueError where NumPy would
    take a TypeError for "no such method" and silently compute on the bare array instead.)"""
    if out is not None:
        raise error(f"{name}: out= is not taken (tensors are not written in place); use the result, "
                    f"y = x.{name}(...), or y.copy_(x.{name}(...)) to write it into an existing tensor")  # fmt: skip


@function()
def clip(x, min=None, max=None, *, out=None):  # noqa: A002 - PyTorch's names
    """Clamp into [min, max]; gradient 1 inside (bounds included), 0 outside.  (``out``: NumPy's ``np.clip(t, …)``
    passes ``out=None``; an array is refused.)"""
    no_out("clip", out, ValueError)
    if min is None and max is None:
        raise ValueError("clip: give at least one of min= or max=")
    x = _t(x)
    min, max = (as_tensor(b, device=x.device) if isinstance(b, np.ndarray) else b for b in (min, max))  # noqa: A001
    if isinstance(min, Tensor) or isinstance(max, Tensor):  # tensor bounds: each gets g where it binds
        out = x if min is None else where(x < min, min, x)
        return out if max is None else where(out > max, max, out)
    for bound in (min, max):  # PyTorch's type rules: a bound is a weak scalar
        if bound is not None:
            x = _promote(x, bound, False)[0]
    lo, hi = (b.item() if isinstance(b, np.generic) else b for b in (min, max))
    return _apply(R.CLIP, (x,), {"lo": lo, "hi": hi})


@function()
def clamp(x, min=None, max=None, *, out=None):  # noqa: A002
    """PyTorch's name for ``clip``."""
    no_out("clamp", out, ValueError)
    return clip(x, min, max)


@function()
def clamp_min(x, min):  # noqa: A002 - PyTorch's name
    """PyTorch's ``clamp_min``: ``clip(x, min=min)`` (a number or a tensor bound)."""
    return clip(x, min, None)


@function()
def clamp_max(x, max):  # noqa: A002 - PyTorch's name
    """PyTorch's ``clamp_max``: ``clip(x, max=max)`` (a number or a tensor bound)."""
    return clip(x, None, max)


def astype(x, dtype):
    """Cast to ``dtype``; the gradient is cast back to the input's dtype.  A cast to integers or bools
    has no gradient (PyTorch's ``x.long()``: the result does not require grad; JAX's: a zero tangent)."""
    x = _t(x)
    dtype = tensor_dtype(dtype, "astype")
    if dtype == x.dtype:
        return x
    if x.requires_grad and dtype.kind in _INTEGRAL and _mode.jit_trace is None:
        with _m.no_grad():  # (still batched under vmap; its rules give no tangent either)
            return _apply(R.ASTYPE, (x,), {"dtype": dtype})
    return _apply(R.ASTYPE, (x,), {"dtype": dtype})


# --- reductions -----------------------------------------------------------------------------------


def floating(x: Tensor) -> Tensor:
    """``x`` in the default float dtype where it holds integers or bools, else ``x`` itself: PyTorch's
    ``exp(int)``, ``softmax(int)``, ``logsumexp(int)`` compute in floats."""
    return astype(x, get_default_dtype()) if x.dtype.kind in _INTEGRAL else x


def axis_of(axis, dim):
    """The axes a reduction runs over: PyTorch's ``dim`` where given — an empty one (``()``, ``[]``) meaning
    every dim, as PyTorch reads it — else NumPy's ``axis`` (whose ``()`` reduces none)."""
    if dim is None:
        return axis
    return None if isinstance(dim, tuple | list) and not dim else dim


def _spread_args(name: str, axis, unbiased, keepdims, dim, keepdim, correction, ddof) -> tuple:
    """std/var's ``(axis, keepdims, correction)`` from PyTorch's ``(dim, unbiased, keepdim)`` —
    positional as ``x.var(1, False)`` — or ``correction=``, or NumPy's ``axis``/``keepdims``/``ddof``.
    A bool in the dim's place is ``unbiased`` (``x.var(False)``, PyTorch's overload)."""
    if isinstance(axis, bool | np.bool_) and unbiased is None:
        axis, unbiased = None, axis
    if unbiased is not None and not isinstance(unbiased, bool | np.bool_):
        raise TypeError(
            f"{name}: the argument after dim is PyTorch's unbiased (a bool), got {unbiased!r}; "
            f"pass keepdim=/keepdims= and correction=/ddof= by name, e.g. x.{name}(1, keepdim=True, correction=0)"
        )
    given = [k for k, v in (("correction", correction), ("unbiased", unbiased), ("ddof", ddof)) if v is not None]
    if len(given) > 1:
        raise TypeError(f"{name}: give one of correction=, unbiased= or ddof=, got {given}")
    if unbiased is not None:
        correction = int(bool(unbiased))
    elif ddof is not None:
        correction = ddof
    return axis_of(axis, dim), (keepdims if keepdim is None else keepdim), 1 if correction is None else correction


@function(prim=R.STD)
def std(x, axis=None, unbiased=None, keepdims=False, *, correction=None, dim=None, keepdim=None, ddof=None,
        dtype=None, out=None):
    """Standard deviation σ = sqrt(Σ(x − x̄)² / (n − correction)); gradient (x − x̄)/(σ (n − correction)),
    and 0 where σ = 0 (a constant row), as PyTorch.  PyTorch's signature ``std(dim, unbiased, keepdim)``
    (``x.std(1, False)``: correction 0) and ``correction=`` (1 by default, Bessel's), or NumPy's
    ``axis``/``keepdims``/``ddof``/``dtype`` (``np.std(t)``: NumPy's ddof 0).  Where n ≤ correction (one sample,
    Bessel's correction) σ is nan (or ∞)
    and so is its gradient, with a warning, as PyTorch.  Integers and bools are refused, as PyTorch: ``x.float().std()``."""
    axis, keepdims, correction = _spread_args("std", axis, unbiased, keepdims, dim, keepdim, correction, ddof)
    no_out("std", out)
    x = _t(x) if dtype is None else astype(_t(x), dtype)  # (NumPy's dtype=: the dtype it computes in)
    R.floating_only("std", x)
    if x.ndim == 0 and axis is not None:
        axis = scalar_axis("std", axis)
    _warn_no_dof("std", R._count(x, _axis(axis)), correction)
    return _apply(R.STD, (x,), {"axis": _axis(axis), "keepdims": keepdims, "correction": correction})


def _warn_no_dof(name: str, n: int, correction) -> None:
    """PyTorch's warning where the degrees of freedom ``n − correction`` are ≤ 0 (the result is nan or ∞)."""
    if R.dof(n, correction) == 0:
        warnings.warn(
            f"{name}(): degrees of freedom is <= 0 ({n} values per result, correction={correction}), so the result "
            "is nan or inf, as PyTorch's; reduce over more values or pass a smaller correction (correction=0: the "
            "population's)",
            UserWarning,
            stacklevel=3,
        )


@function(prim=R.VAR)
def var(x, axis=None, unbiased=None, keepdims=False, *, correction=None, dim=None, keepdim=None, ddof=None,
        dtype=None, out=None):
    """Variance σ² = Σ(x − x̄)² / (n − correction); gradient 2(x − x̄)/(n − correction).  PyTorch's signature
    ``var(dim, unbiased, keepdim)`` (``x.var(1, False)``: the population variance) and ``correction=``
    (1 by default, Bessel's), or NumPy's ``axis``/``keepdims``/``ddof``/``dtype`` (``np.var(t)``: NumPy's ddof 0).
    Where n ≤ correction (one sample, Bessel's correction) the denominator is 0: nan (or ∞) and so is the
    gradient, with a warning, as PyTorch.  Integers and bools are refused, as PyTorch: ``x.float().var()``."""
    axis, keepdims, correction = _spread_args("var", axis, unbiased, keepdims, dim, keepdim, correction, ddof)
    no_out("var", out)
    x = _t(x) if dtype is None else astype(_t(x), dtype)  # (NumPy's dtype=: the dtype it computes in)
    R.floating_only("var", x)
    if x.ndim == 0 and axis is not None:
        axis = scalar_axis("var", axis)
    _warn_no_dof("var", R._count(x, _axis(axis)), correction)
    return _apply(R.VAR, (x,), {"axis": _axis(axis), "keepdims": keepdims, "correction": correction})


# --- shapes ---------------------------------------------------------------------------------------
def reshape(x, shape):
    """``x``'s values in row-major order, laid out as ``shape`` (one size may be −1: inferred).  A shape whose
    sizes do not multiply to ``x``'s number of entries raises :class:`InputError` (PyTorch's ``RuntimeError``)."""
    x = _t(x)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    try:
        np.empty(x.shape, dtype=np.uint8).reshape(shape)  # shape check without touching data
        bad = builtins.any(n < -1 for n in shape)  # (NumPy takes −2 as −1; PyTorch refuses it)
    except ValueError:
        bad = True
    if bad:
        raise InputError(_reshape_problem(x, shape))
    return _apply(R.RESHAPE, (x,), {"shape": shape})


def _reshape_problem(x: Tensor, shape: tuple) -> str:
    """Why ``shape`` does not fit ``x`` (PyTorch's three cases), with the fix."""
    where = f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} entries) into {shape}"
    if builtins.sum(1 for n in shape if n == -1) > 1:
        return f"{where}: only one dimension can be inferred (-1); give the other sizes explicitly"
    if builtins.any(n < -1 for n in shape):
        return f"{where}: invalid size {builtins.min(shape)}; sizes must be >= 0, or -1 for one inferred size"
    return f"{where}: the sizes must multiply to {x.size}, e.g. {x.shape} or (-1,)"


def transpose(x, *dims, axes=None, dim0=None, dim1=None):
    """Reorder axes.  PyTorch's spelling swaps two dims on every ndim: ``transpose(x, 0, 1)``,
    ``x.transpose(dim0=0, dim1=1)``.  NumPy's permutes them: ``transpose(x)`` reverses the axes,
    ``transpose(x, (2, 0, 1))`` / ``axes=`` (or 3+ ints) gives the order.  Linear: the gradient is
    transposed back."""
    x = _t(x)
    if dim0 is not None or dim1 is not None or (len(dims) == 2 and builtins.all(is_int(d) for d in dims)):
        pair = dims + tuple(d for d in (dim0, dim1) if d is not None)
        if len(pair) != 2 or axes is not None:
            raise TypeError(f"transpose: give two dims to swap (transpose(x, 0, 1)) or one order (axes=), got {dims}, "
                            f"axes={axes}, dim0={dim0}, dim1={dim1}")
        return swapaxes(x, *pair)
    if dims:
        if axes is not None:
            raise TypeError(f"transpose: got the order twice, {dims} and axes={axes}; give one")
        axes = dims[0] if len(dims) == 1 else dims
    return _apply(R.TRANSPOSE, (x,), {"axes": None if axes is None else tuple(axes)})


@function()
def swapaxes(x, a: int, b: int):
    """Swap axes ``a`` and ``b`` (PyTorch's ``transpose(d0, d1)``)."""
    x = _t(x)
    a, b = check_dim("swapaxes", a, x.ndim), check_dim("swapaxes", b, x.ndim)
    if not x.ndim:  # PyTorch's transpose(0, 0) of a 0-d tensor: itself
        return x
    axes = list(range(x.ndim))
    axes[a], axes[b] = axes[b], axes[a]
    return transpose(x, axes)


@function()
def swapdims(x, dim0: int, dim1: int):
    """PyTorch's name for ``swapaxes``."""
    return swapaxes(x, dim0, dim1)


def moveaxis_(x, source: int, destination: int):
    """``np.moveaxis`` as a transpose (returns ``x`` itself when nothing moves)."""
    x = _t(x)
    nd = x.ndim
    source, destination = source % nd, destination % nd
    if source == destination:
        return x
    order = [i for i in range(nd) if i != source]
    order.insert(destination, source)
    return transpose(x, order)


def expand_dims(x, axis: int | None = None, dim: int | None = None):
    """A new size-1 axis at ``axis`` (``dim``, PyTorch's name)."""
    axis = axis if dim is None else dim
    if axis is None:
        raise TypeError("expand_dims: give the position of the new axis, e.g. expand_dims(x, 0)")
    x = _t(x)
    for a in axis if isinstance(axis, tuple | list) else (axis,):
        check_dim("unsqueeze", a, x.ndim + (len(axis) if isinstance(axis, tuple | list) else 1))
    return reshape(x, np.expand_dims(np.empty(x.shape, dtype=np.uint8), axis).shape)


@function()
def unsqueeze(x, dim: int):
    """A new size-1 axis at ``dim`` (NumPy's ``expand_dims``)."""
    return expand_dims(x, dim)


@function()
def squeeze(x, axis=None, dim=None):
    """Remove size-1 axes: those in ``axis`` (``dim``, PyTorch's name), or all when None."""
    x = _t(x)
    axis = _axis(axis if dim is None else dim)
    if axis is not None and x.ndim:  # PyTorch leaves an axis that is not of size 1 alone
        axes = [check_dim("squeeze", a, x.ndim) for a in ((axis,) if isinstance(axis, int) else axis)]
        axis = tuple(a for a in axes if x.shape[a] == 1)
    elif axis is not None:
        axis = scalar_axis("squeeze", axis)
    return reshape(x, np.squeeze(np.empty(x.shape, dtype=np.uint8), axis).shape)


@function()
def flatten(x, start_dim: int = 0, end_dim: int = -1):
    """Axes ``start_dim`` … ``end_dim`` merged into one (PyTorch's flatten; a scalar becomes (1,))."""
    x = _t(x)
    if x.ndim == 0:
        return reshape(x, (1,))
    s, e = check_dim("flatten", start_dim, x.ndim), check_dim("flatten", end_dim, x.ndim)
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for a tensor of shape {x.shape}")
    return reshape(x, x.shape[:s] + (-1,) + x.shape[e + 1 :])


@function()
def broadcast_to(x, shape):
    """``x`` broadcast to ``shape`` (no copy in the value; the gradient is summed back)."""
    x = _t(x)
    shape = tuple(shape)
    try:
        fits = len(shape) >= x.ndim and np.broadcast_shapes(x.shape, shape) == shape
    except ValueError:
        fits = False
    if not fits:  # (PyTorch's expand: a RuntimeError)
        raise InputError(
            f"broadcast_to: cannot broadcast a tensor of shape {x.shape} to {shape}: each of its sizes must equal the "
            "target's size at the same place counted from the right, or be 1, and the target needs at least as many "
            f"dimensions; e.g. unsqueeze or reshape the tensor first (x.reshape{x.shape + (1,) * (len(shape) > x.ndim)})"
        )
    return _apply(R.BROADCAST_TO, (x,), {"shape": shape})


def sum_to(x, shape):
    """Sum a broadcast tensor down to ``shape`` (the adjoint of :func:`broadcast_to`)."""
    x = _t(x)
    shape = tuple(shape)
    if x.shape == shape:
        return x
    return _apply(R.SUM_TO, (x,), {"shape": shape})


def _plain_index(index, like=None):
    """Tensors inside an index become arrays — except those vmap batches, which stay tensors (arguments of
    the op: :func:`.rules_index.apply_index`); lists become integer/boolean arrays — on the device of the
    indexed data ``like`` when it is not a NumPy array."""
    if isinstance(index, tuple):
        return tuple(_plain_index(i, like) for i in index)
    if isinstance(index, Tensor):
        if index._tangents and _m.batched(index):
            return index
        index = index.data
    elif isinstance(index, list):
        index = np.asarray(index)
    if like is not None and like.__class__ is not np.ndarray and hasattr(index, "shape") and namespace_of(like) is not NUMPY:
        return to_device(index, like.device)
    return index


def _shown(index) -> str:
    """``index`` for an error message (a tensor batched by vmap by its per-example shape: its values are many)."""
    parts = index if isinstance(index, tuple) else (index,)
    shown = [f"<tensor of per-example shape {p.shape}>" if isinstance(p, Tensor) else repr(p) for p in parts]
    return f"({', '.join(shown)})" if isinstance(index, tuple) else shown[0]


def getitem(x, index):
    """``x[index]`` with ints, slices, boolean masks and integer arrays; repeated indices accumulate.
    Laid out as PyTorch's: an integer is a select, so ``y[0, :, [1, 2]]`` of a (2, 3, 4) tensor is
    (3, 2), where NumPy, counting the 0 among the advanced indices, gives (2, 3)."""
    x = _t(x)
    return RI.torch_order(numpy_getitem(x, index), index, x)


def numpy_getitem(x, index):
    """NumPy's ``x[index]`` (an integer among the arrays counts as one of them): the rules' ``F.getitem``."""
    x = _t(x)
    kept = index
    index = _plain_index(index, x.data)
    try:  # (no switch set, no vmap running: no index tensor is batched)
        out = RI.apply_index(R.GETITEM, (x,), index) if _m.active else _apply(R.GETITEM, (x,), {"index": index})
    except IndexError as exc:
        raise IndexError(f"getitem: index {_shown(index)} does not fit a tensor of shape {x.shape}: {exc}") from None
    return _guard_index(out, index, kept)


def _guard_index(out: Tensor, index, given) -> Tensor:
    """``out``, whose VJP reads ``index``, refusing to back-propagate once a tensor in the ``given`` index was
    written in place (:func:`guard`)."""
    if index is given:
        return out
    return guard(out, *(given if isinstance(given, tuple) else (given,)))


def index_update(x, index, value):
    """``x`` with ``x[index]`` replaced by ``value``, as a new tensor (JAX's ``x.at[index].set(v)``,
    PyTorch's ``index_put``), ``value`` laid out as ``x[index]`` is (PyTorch's layout, see :func:`getitem`).
    Differentiable in both: ``x`` gets ``g`` with zeros at ``index``, ``value`` gets ``g[index]`` (summed
    over broadcasting)."""
    x = _t(x)
    return numpy_index_update(x, index, RI.numpy_order(value, index, x.ndim))


def numpy_index_update(x, index, value):
    """:func:`index_update` with ``value`` in NumPy's layout of ``x[index]``: the rules' ``F.index_update``."""
    x = _t(x)
    kept = index
    index = _plain_index(index, x.data)
    try:
        out = RI.apply_index(R.INDEX_UPDATE, (x, value), index)
    except IndexError as exc:
        raise IndexError(f"index_update: index {_shown(index)} does not fit a tensor of shape {x.shape}: {exc}") from None
    except ValueError:
        if not isinstance(index, Tensor):
            _refuse_value_shape(x, index, value, "index_update")
        raise
    return _guard_index(out, index, kept)


def _refuse_unbatched_target(x: Tensor, index, value) -> None:
    """Under vmap, ``x[index] = value`` with an index or value batched by a vmap that does not batch ``x``
    would write every example into the one ``x``: refused, as torch.func refuses it."""
    parts = (*(index if isinstance(index, tuple) else (index,)), value)
    levels = {k for p in parts if isinstance(p, Tensor) and p._tangents for k in _m.batch_levels(p)}
    if levels - set(_m.batch_levels(x)):
        raise RuntimeError(
            f"setitem: the index or the value is batched by vmap (one per example) but the tensor of shape {x.shape} "
            "written in place is the same for every example; write out of place, y = ng.index_update(x, index, v) "
            "(torch.func refuses this in-place write too)"
        )


def _traced_write(x: Tensor, who: str) -> None:
    """Inside ``ng.jit``'s trace: the write into ``x`` — and so into every base it is a view of — asked of the
    trace first (:meth:`jit._Trace.write` refuses a write into an argument or a tensor made before the call)."""
    t = x
    while t is not None:
        _mode.jit_trace.write(t, who)
        origin = getattr(t, "_view_of", None)
        t = origin[0]() if origin is not None else None


def _recording(x: Tensor) -> bool:
    """Whether a write into ``x`` of a traced value is recorded: with gradients on; and under ``no_grad`` inside
    ``ng.jit``'s trace (whose ops record all the same, see :func:`.tensor._traced_without_grad`), except into a
    leaf that requires grad — a parameter written under ``no_grad`` (an initialiser, an update) is written."""
    return _mode.grad_enabled or (_mode.jit_trace is not None and not (x._op is None and x.requires_grad))


def setitem(x: Tensor, index, value, who: str = "setitem") -> None:
    """``x[index] = value`` in place.  When ``x`` or ``value`` is traced, ``x`` becomes the node
    ``index_update(old x, index, value)``; otherwise (also under ``no_grad``, as PyTorch) the
    data is written.  Either way every op that saved the old ``x`` now refuses to back-propagate
    (the version counter), as in PyTorch.  ``value`` is laid out as ``x[index]`` is (see :func:`getitem`)."""
    if _mode.jit_trace is not None:
        _traced_write(x, who)
    if _m.active and _mode.vmaps:
        _refuse_unbatched_target(x, index, value)
    value = RI.numpy_order(value, index, x.ndim)
    taped = _recording(x) and (x.requires_grad or (isinstance(value, Tensor) and value.requires_grad))
    traced = taped or bool(x._tangents) or (isinstance(value, Tensor) and bool(value._tangents))
    if not traced:
        data = value.data if isinstance(value, Tensor) else value
        if x.data.__class__ is np.ndarray:
            plain = _plain_index(index, x.data)
            try:
                x.data[plain] = data
            except ValueError:  # (NumPy checks the shapes before it writes: nothing was written)
                _refuse_value_shape(x, plain, data, who)
                raise
        else:  # another library: the value on x's device in x's dtype, written by the adapter
            ns = namespace_of(x.data)
            data = to_device(data, x.device, dtype=x.dtype) if hasattr(data, "shape") else data
            plain = _plain_index(index, x.data)
            try:
                ns.set_at(x.data, plain, data)
            except ValueError:
                _refuse_value_shape(x, plain, data, who)
                raise
        x.bump_version_()
        return
    if x._op is None and x.requires_grad:
        raise RuntimeError(
            f"setitem: a leaf tensor of shape {x.shape} that requires grad is used in an in-place operation "
            "(x[...] = v). Write it under ng.no_grad() (x[...] = v or x.copy_(v), as an optimiser does), or work "
            "on a copy: y = x * 1; y[...] = v; or use the functional form ng.index_update(x, index, v)."
        )
    old = _old_node(x)
    _become(x, numpy_index_update(old, index, value), old)


def _refuse_value_shape(x: Tensor, index, data, who: str) -> None:
    """Raise :class:`InputError` (PyTorch's ``RuntimeError``) naming both shapes where the value written into
    ``x[index]`` does not broadcast to it; return (the caller re-raises NumPy's error) for another problem."""
    full = index if isinstance(index, tuple) else (index,)
    if not builtins.any(i is Ellipsis for i in full):  # (the array API wants every axis indexed: x[0, ...])
        full = (*full, Ellipsis)
    target = tuple(x.data[full].shape)
    given = tuple(data.shape) if hasattr(data, "shape") else np.shape(data)  # (another library's array: its shape)
    try:
        if np.broadcast_shapes(target, given) == target:
            return
    except ValueError:
        pass
    spot = f"a tensor of shape {target}" if index is Ellipsis else f"x[index] of shape {target} (x of shape {x.shape})"
    raise InputError(
        f"{who}: cannot write a value of shape {given} into {spot}: the "
        "value's shape must broadcast to the target's (each size equal or 1, counted from the right); reshape the "
        "value or pick a matching index. Nothing was written"
    ) from None


def _old_node(x: Tensor) -> Tensor:
    """A new handle on ``x``'s current node (value, op, inputs, tangents): what ``x`` was before an
    in-place update, so the update's graph reads it rather than ``x``, which is about to change."""
    old = _wrap(x.data)
    old._requires_grad, old._op, old._inputs, old._params = x.requires_grad, x._op, x._inputs, x._params
    old._tangents, old._version = x._tangents, x._version
    for slot in ("_born", "_prev"):  # set only by earlier in-place writes (see Tensor)
        value = getattr(x, slot, None)
        if value is not None:
            setattr(old, slot, value)
    return old


def _become(x: Tensor, new: Tensor, old: Tensor, propagate: bool = True) -> None:
    """``x`` takes over the node ``new`` (an in-place update recorded as a new node, computed from
    ``old``, the handle on x's node before) and counts a write.  The ops that used x before keep their
    edge to ``old`` (``x._prev``, a weak reference the tape walk follows, so a tensor updated in place in
    a loop does not keep every earlier value alive); as in PyTorch, x's old values count as
    overwritten, so an op whose VJP says it reads its own output (exp, tanh) refuses to back-propagate
    (``old`` keeps them intact, so an op that does not say is let through).

    The new node has arrays of its own, so views and bases are brought along, as PyTorch's views see
    every write: with ``propagate``, a view written this way writes its base (at the base's entries it
    views, :func:`_view_target`) and every live view of x is made again from x's new node
    (:func:`_rebase_views`)."""
    target = _view_target(x) if propagate else None  # checked before x changes
    memory = x.data  # (a detached view keeps it: see below)
    x._data, x._requires_grad, x._op, x._inputs, x._params = new._data, new._requires_grad, new._op, new._inputs, new._params
    x._tangents = new._tangents
    if old._op is not None and getattr(old, "_born", None) is None:
        old._born = (old._version, False)  # (False: its values are intact, kept by this handle)
        _m.overwritten = True
    if getattr(x, "_born", None) is not None:
        x._born = None  # x is a new node, made now
    x._version = _m.bump()
    x._prev = (x._version, weakref.ref(old))  # weak: alive while x's graph (or another op's edge) holds it
    if not propagate:  # x made again from its base: nothing else holds its old node, which earlier ops still need
        x._prev = (x._version, lambda: old)  # (only the latest: older ones stay weak, as above)
        return
    if target is not None and target[1] is None:  # a detached view: the values into the memory it shares
        memory[...] = x.data
        x._data = memory  # (the engine's own values: no setter check)
        for t in list(target[0]._shares):  # the base and its views count the write (x itself is new: not lost)
            if t is not x and _overlap(t.data, memory):
                _written(t)
    elif target is not None:  # base ← base with x's new values at the entries x views: a recorded write of its own
        base, positions = target
        before = _old_node(base)
        batch = _batch_marks(base)
        if batch:  # positions on the whole batch (see _view_target): the write too, marked batched as base is
            with _m.physical():
                new = index_update(before.reshape(-1), positions, _old_node(x).reshape(-1)).reshape(base.data.shape)
            new._tangents = {**(new._tangents or {}), **batch}
        else:
            new = index_update(before.reshape(-1), positions, _old_node(x).reshape(-1)).reshape(base.shape)
        _become(base, new, before)
    _rebase_views(x)


def _batch_marks(x: Tensor) -> dict:
    """The vmap levels that batch ``x`` (its batch axes lead its data)."""
    return {k: m for k, m in (x._tangents or {}).items() if m is _m.BATCHED}


def _view_target(x: Tensor) -> tuple[Tensor, np.ndarray] | None:
    """For a recorded write into ``x``: ``(base, positions)`` when x is a live view of ``base`` — where each
    entry of x lies in the flattened base (the op that made x, applied to ``0 … n−1``) — else ``None``.
    ``(base, None)`` for a ``detach()`` of ``base``: only the values are written there.  Refused before
    anything is written when an entry of the base is seen twice (a broadcast view: PyTorch refuses it too),
    and when the chain of bases ends in a leaf that requires grad (PyTorch: "a view of a leaf Variable that
    requires grad is being used in an in-place operation")."""
    target, t = None, x
    while (origin := getattr(t, "_view_of", None)) is not None:
        base = origin[0]()
        if base is None or not _overlap(base.data, t.data):  # the base is gone, or no longer shares this memory
            break
        prim, params = origin[1], origin[2]
        if prim is None:  # detach(): the base's memory takes the values, its graph stays (PyTorch's)
            return target if target is not None else (base, None)
        made = prim.name
        if base._op is None and base.requires_grad and _mode.grad_enabled:
            raise RuntimeError(
                f"in-place write: a view of a leaf tensor that requires grad (made by {made}, shape {t.shape}, of the "
                f"leaf of shape {base.shape}) is used in an in-place operation (PyTorch's rule). Write it under "
                "ng.no_grad(), or work on a copy of the leaf: y = x * 1"
            )
        if _repeats(t.data):  # every link checked before anything is written
            why = ("PyTorch refuses it too" if t is x else "PyTorch writes through it; nablagrad writes view by view "
                   "and refuses")  # fmt: skip
            raise RuntimeError(
                f"in-place write through a view made by {made} (shape {t.shape}) in which several entries are one "
                f"entry of the tensor of shape {base.shape} ({why}); write a copy: v = v.clone()"
            )
        if target is None:  # (on the data's shape: a view made inside vmap recorded its op on the whole batch)
            numbers = np.arange(int(np.prod(base.data.shape))).reshape(base.data.shape)
            target = (base, np.asarray(prim.fn(numbers, **params)).reshape(-1))
        t = base
    return target


def _repeats(a) -> bool:
    """Whether the view ``a`` shows one memory entry at several places: a stride 0 along an axis of length > 1 (how
    ``broadcast_to``/``expand`` make one; the other view ops — slices, reshapes, transposes, diagonals — never do)."""
    return any(stride == 0 and n > 1 for stride, n in zip(getattr(a, "strides", ()), a.shape))


def _rebase_views(x: Tensor) -> None:
    """Every live view of ``x`` made again from x's node, by the op that made it (its values, its graph and
    x's new memory), a write counted for each (so an op that saved the old view refuses as PyTorch's would)."""
    shares = getattr(x, "_shares", None)
    if not shares:
        return
    batch = _batch_marks(x)
    for v in list(shares):
        origin = getattr(v, "_view_of", None)
        if v is x or origin is None or origin[0]() is not x:
            continue
        prim, params = origin[1], origin[2]
        if prim is None:
            node = x.detach()
        elif batch:  # a view made inside vmap recorded the op on the whole batch (in a batching rule): made again so
            with _m.physical():
                node = _apply(prim, (x,), params)
            node._tangents = {**(node._tangents or {}), **batch}
        else:
            node = _apply(prim, (x,), params)
        _become(v, node, _old_node(v), propagate=False)
        _rebase_views(v)  # (views of views: W.T[0], x.reshape(…)[i])


def update_(x: Tensor, fn: Callable[[Tensor], Tensor], who: str = "update_") -> Tensor:
    """``x ← fn(x)`` in place, returning ``x`` (PyTorch's ``x += y``): ``fn`` reads a handle on x's
    old node; a plain result is written into x's values (also under ``no_grad``: an optimiser's
    ``w -= lr * w.grad``), a traced one becomes x's new node (refused, as PyTorch, for a leaf that
    requires grad).  The result keeps x's shape and dtype; either way the version counter counts
    the write, so an op that saved the old x refuses to back-propagate."""
    if _mode.jit_trace is not None:
        _traced_write(x, who)
    old = _old_node(x)
    out = fn(old)
    if out.shape != x.shape:
        raise RuntimeError(
            f"{who}: the result of shape {out.shape} does not fit in the tensor of shape {x.shape} updated in "
            "place; write x = x op y instead to get a new tensor of the broadcast shape"
        )
    if out.dtype != x.dtype:
        if out.dtype.kind == "f" and x.dtype.kind in _INTEGRAL:
            raise TypeError(
                f"{who}: the result of dtype {out.dtype} cannot be written into the {x.dtype} tensor updated in "
                "place (PyTorch's rule); convert it first, e.g. x = x.astype('float32') op y"
            )
        out = astype(out, x.dtype)
    if not ((_recording(x) and out.requires_grad) or out._tangents):
        setitem(x, Ellipsis, out)  # plain values: written, the version bumped
        return x
    if x._op is None and x.requires_grad:
        raise RuntimeError(
            f"{who}: a leaf tensor of shape {x.shape} that requires grad is used in an in-place operation. "
            "Update it under ng.no_grad() (as an optimiser does), or work on a copy: y = x * 1, then update y."
        )
    _become(x, out, old)
    return x


def fill_(x: Tensor, value, who: str = "fill_") -> Tensor:
    """Fill ``x`` with ``value`` (a number or a 0-d tensor) in place, returning ``x`` (PyTorch's ``fill_``):
    written as ``x[...] = value`` — on a non-leaf with gradients on, recorded (the old values get no
    gradient, a 0-d tensor value the sum of the gradient); refused for a leaf that requires grad
    outside ``no_grad``."""
    if _mode.jit_trace is not None:
        _traced_write(x, who)
    if x._op is None and x.requires_grad and _mode.grad_enabled:
        raise RuntimeError(
            f"{who}: a leaf tensor of shape {x.shape} that requires grad is used in an in-place operation. "
            "Fill it under ng.no_grad() (as an optimiser does), or work on a copy: y = x * 0"
        )
    if isinstance(value, Tensor) and value.ndim:
        raise ValueError(f"{who}: value must be a number or a 0-d tensor, got a tensor of shape {value.shape}")
    setitem(x, Ellipsis, value)
    return x


def zero_(x: Tensor) -> Tensor:
    """Fill ``x`` with zeros in place, returning ``x`` (PyTorch's ``zero_``): :func:`fill_` with 0."""
    return fill_(x, 0, "zero_")


def copy_(x: Tensor, src) -> Tensor:
    """``x[...] = src``, returning ``x`` (PyTorch's ``copy_``): the one way code outside the engine
    writes a tensor's values (``with ng.no_grad(): p.copy_(w)`` in an optimiser, an initialiser,
    ``load_state_dict``), so the version counter always sees the write.  Values from another
    device (or NumPy values for a tensor on a GPU) are copied across, as PyTorch's ``copy_`` does."""
    if not (isinstance(src, Tensor) and (src.requires_grad or src._tangents)):
        data = src.data if isinstance(src, Tensor) else src
        if x.data.__class__ is not np.ndarray or namespace_of(data) is not NUMPY:
            src = to_device(data, x.device)
    setitem(x, Ellipsis, src, "copy_")
    return x


def unindex(g, index, shape):
    """Zeros of ``shape`` with ``g`` scatter-added at ``index`` (NumPy's layout; repeated indices accumulate)."""
    return RI.apply_index(R.UNINDEX, (_t(g),), index, shape=tuple(shape))


@function(method=False)
def concatenate(tensors: Sequence, axis: int = 0, dim: int | None = None):
    """Join tensors along an existing axis (``dim``, PyTorch's name); the gradient is sliced
    back into the pieces."""
    axis = axis if dim is None else dim
    ts = promote_all(tensors)
    if not ts:
        raise ValueError("concatenate: needs at least one tensor")
    return _apply(R.CONCATENATE, ts, {"axis": axis})


# torch.cat: the same function under PyTorch's name (a row of its own, so the docs list it)
row("cat", None, "function", "PyTorch's name for ``concatenate``.", fn=concatenate, method=False)


def stack(tensors: Sequence, axis: int = 0, dim: int | None = None):
    """Join equally shaped tensors along a new axis (``dim``, PyTorch's name)."""
    axis = axis if dim is None else dim
    ts = promote_all(tensors)
    shapes = {t.shape for t in ts}
    if len(shapes) != 1:
        raise ValueError(f"stack: all tensors must have the same shape, got {sorted(shapes)}")
    return _apply(R.STACK, ts, {"axis": axis})


def identity(x):
    """The same value as a new node of the graph (a fresh handle for a transform to trace)."""
    return _apply(R.IDENTITY, (_t(x),))


__all__ = [
    "where", "masked_fill", "clip", "clamp", "clamp_min", "clamp_max", "astype", "std", "var",
    "reshape", "transpose", "swapaxes", "expand_dims", "squeeze",
    "broadcast_to", "sum_to", "getitem", "index_update", "concatenate", "stack", "identity",
]  # fmt: skip
