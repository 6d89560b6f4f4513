"""Products, scans and order statistics (issue 10): ``prod``, ``cumsum``, ``cumprod``, ``diff``,
``sort``/``argsort``, ``topk``, ``median``, ``quantile``, and the index/boolean reductions
``argmax``, ``argmin``, ``all``, ``any`` (no gradient: their values are integers or booleans);
the pairwise distances ``cdist`` (a primitive whose rules take the differences a block of rows at a
time), and the set and search ops ``unique``, ``unique_consecutive``, ``searchsorted`` (no gradient).

Order statistics are gathers at the indices a sort picks, so their gradient goes to the
selected entries (a subgradient at ties, as PyTorch).  Every function takes NumPy's
``axis``/``keepdims`` and PyTorch's ``dim``/``keepdim``.
"""

from __future__ import annotations

import builtins  # ng.max, ng.min, ng.all, ng.any shadow the builtins in this module
import math
from typing import NamedTuple

import numpy as np

from ..backend.checks import is_int
from ..backend.namespace import namespace_of
from . import grad_mode as _m
from . import ops
from . import rules as R
from .primitive import Primitive, batch_elementwise, function, linear, row, rules_for, shift_axes
from .rules import _keep, _norm_axis
from .rules_shape import _ax, moveaxis, take_along_axis
from .tensor import Tensor, _apply, _wrap, tensor


def _t(x) -> Tensor:
    return x if isinstance(x, Tensor) else tensor(x)


def _names(axis, keepdims, dim, keepdim, empty_is_every: bool = True):
    """NumPy's ``axis``/``keepdims`` or PyTorch's ``dim``/``keepdim`` (whichever was given; an empty ``dim`` is
    every dim, :func:`.ops.axis_of` — except where torch reads it as none: ``any``/``all``)."""
    axis = ops.axis_of(axis, dim) if empty_is_every else (axis if dim is None else dim)
    return axis, (keepdims if keepdim is None else keepdim)


def _flat_groups(x, axis):
    """``x`` with the reduced axes moved last and flattened: (rest..., n), plus how to undo it."""
    axes = _norm_axis(axis, x.ndim)
    rest = [a for a in range(x.ndim) if a not in axes]
    xp = namespace_of(x)
    moved = xp.transpose(x, rest + list(axes))
    flat = xp.reshape(moved, tuple(moved.shape[: len(rest)]) + (-1,))
    inverse = tuple(int(i) for i in np.argsort(rest + list(axes)))
    return flat, lambda y: xp.transpose(xp.reshape(y, moved.shape), inverse)


def _exclusive_prod(x, axis):
    """Π_{j≠i} x_j within each reduced group, without dividing (exact when some x_j = 0):
    the product of everything left of i (a shifted cumprod) times everything right of i (the same, flipped).
    On the array's own library."""
    xp = namespace_of(x)
    flat, back = _flat_groups(x, axis)
    ones = xp.ones_like(flat[..., :1])
    left = xp.cumprod(xp.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    right = xp.flip(xp.cumprod(xp.concatenate([ones, xp.flip(flat[..., 1:], axis=-1)], axis=-1), axis=-1), axis=-1)
    return back(left * right)


def _exclusive_prod_recorded(x: Tensor, axis) -> Tensor:
    """:func:`_exclusive_prod` with recorded ops (a create_graph rule): differentiable again, so
    the Hessian of prod is exact at a zero entry too."""
    axes = _norm_axis(axis, x.ndim)
    rest = [a for a in range(x.ndim) if a not in axes]
    moved = x.permute(*(rest + list(axes)))
    flat = moved.reshape(tuple(moved.shape[: len(rest)]) + (-1,))
    ones = flat[..., :1] * 0 + 1
    left = ops.concatenate([ones, flat[..., :-1]], axis=-1).cumprod(-1)
    right = ops.concatenate([ones, flat[..., 1:].flip(-1)], axis=-1).cumprod(-1).flip(-1)
    inverse = tuple(int(i) for i in np.argsort(rest + list(axes)))
    return (left * right).reshape(moved.shape).permute(*inverse)


def _prod_others(F, ans, x, axis, keepdims):
    """∂ Π x / ∂x_i = Π_{j≠i} x_j: ans/x_i when no entry is 0, else the exclusive product."""
    xd = F.data(x)
    if bool(namespace_of(xd).all(xd != 0)):
        return _keep(F, ans, x, axis, keepdims) / x
    if isinstance(x, Tensor):  # recorded: higher derivatives at zeros
        return _exclusive_prod_recorded(x, axis)
    return _exclusive_prod(xd, axis)


PROD = row(
    "prod",
    Primitive(
        "prod",
        lambda x, axis=None, keepdims=False: namespace_of(x).prod(x, axis=axis, keepdims=keepdims),
        (
            lambda F, g, ans, x, axis=None, keepdims=False: (
                _keep(F, g, x, axis, keepdims) * _prod_others(F, ans, x, axis, keepdims)
            ),
        ),
        (
            lambda F, t, ans, x, axis=None, keepdims=False: F.sum(
                t * _prod_others(F, ans, x, axis, keepdims), axis=axis, keepdims=keepdims
            ),
        ),
        fmt="prod({0})",
    ),
    "reduce",
    "Π over ``axis``; gradient Π_{j≠i} x_j (exact at zeros, computed without dividing there).",
)


def _reverse(F, x, axis: int):
    return F.getitem(x, (slice(None),) * axis + (slice(None, None, -1),))


def _cumsum_np(x, axis: int):
    return namespace_of(x).cumsum(x, axis=axis)


def _batch_scan(F, prim, args, batched, params):
    """vmap: the scan's (non-negative) axis shifted past the batch axis."""
    return F.apply(prim, args, {"axis": params["axis"] + 1})


# cumsum is linear; its transpose sums from the end: ∂L/∂x_i = Σ_{j≥i} g_j
CUMSUM = linear(
    "cumsum",
    _cumsum_np,
    lambda F, g, ans, x, axis: _reverse(F, F.apply(CUMSUM, (_reverse(F, g, axis),), {"axis": axis}), axis),
    "cumsum({0})",
    batch=_batch_scan,
)


def _cumprod_loop(x, axis: int, g, reverse: bool):
    """Exact derivative of cumprod through zeros, O(n²): with c⁽ⁱ⁾ the cumprod with x_i := 1,
    ∂ans_j/∂x_i = c⁽ⁱ⁾_j for j ≥ i.  ``reverse``: the VJP Σ_{j≥i} g_j c⁽ⁱ⁾_j; else the JVP
    Σ_{i≤j} c⁽ⁱ⁾_j ẋ_i."""
    xp = namespace_of(x)
    x = xp.moveaxis(x, axis, -1)
    g = xp.moveaxis(xp.broadcast_to(g, xp.moveaxis(x, -1, axis).shape), axis, -1)
    out = xp.zeros(np.broadcast_shapes(x.shape, g.shape), (x[..., :1] * g[..., :1]).dtype, device=xp.device(x))
    n = x.shape[-1]
    for i in range(n):
        xi = xp.copy(x)
        xi[..., i] = 1
        c = xp.cumprod(xi, axis=-1)
        c[..., :i] = 0
        if reverse:
            out[..., i] = xp.sum(g * c, axis=-1)
        else:
            out = out + c * g[..., i : i + 1]
    return xp.moveaxis(out, -1, axis)


def _cumprod_loop_recorded(x: Tensor, axis: int, g: Tensor, reverse: bool) -> Tensor:
    """:func:`_cumprod_loop` with recorded ops (a create_graph or forward-over-reverse rule), so
    its result is differentiable again: c⁽ⁱ⁾ is the cumprod of x with x_i := 1, kept for j ≥ i."""
    n = x.shape[axis]
    positions = np.arange(n).reshape((n,) + (1,) * (x.ndim - axis - 1))
    out = None
    for i in range(n):
        c = ops.where(positions == i, 1.0, x).cumprod(axis)
        c = ops.where(positions >= i, c, 0.0)
        if reverse:  # entry i of the VJP: Σ_{j≥i} g_j c⁽ⁱ⁾_j
            term = (g * c).sum(axis, keepdims=True)
            out = term if out is None else ops.concatenate([out, term], axis=axis)
        else:  # the JVP: Σ_{i≤j} c⁽ⁱ⁾_j ẋ_i
            term = c * g[(slice(None),) * axis + (slice(i, i + 1),)]
            out = term if out is None else out + term
    return out


def _const(F, value: np.ndarray):
    """A value in F's kind (a raw array, or an unrecorded Tensor): the zero-safe paths are
    computed in NumPy, so they are constants for higher derivatives."""
    return F.astype(value, namespace_of(value).numpy_dtype(value.dtype))


def _cumprod_vjp(F, g, ans, x, axis: int):
    xd = F.data(x)
    if bool(namespace_of(xd).all(xd != 0)):  # Σ_{j≥i} g_j ans_j / x_i
        return _reverse(F, F.apply(CUMSUM, (_reverse(F, g * ans, axis),), {"axis": axis}), axis) / x
    if isinstance(x, Tensor) and isinstance(g, Tensor):  # recorded: higher derivatives at zeros
        return _cumprod_loop_recorded(x, axis, g, reverse=True)
    return _const(F, _cumprod_loop(xd, axis, F.data(g), reverse=True))


def _cumprod_jvp(F, t, ans, x, axis: int):
    xd = F.data(x)
    if bool(namespace_of(xd).all(xd != 0)):  # ans_j Σ_{i≤j} ẋ_i / x_i
        return ans * F.apply(CUMSUM, (t / x,), {"axis": axis})
    if isinstance(x, Tensor) and isinstance(t, Tensor):  # recorded: higher derivatives at zeros
        return _cumprod_loop_recorded(x, axis, t, reverse=False)
    return _const(F, _cumprod_loop(xd, axis, F.data(t), reverse=False))


CUMPROD = Primitive(
    "cumprod",
    lambda x, axis: namespace_of(x).cumprod(x, axis=axis),
    (_cumprod_vjp,),
    (_cumprod_jvp,),
    fmt="cumprod({0})",
    batch=_batch_scan,
)


def _scan(prim: Primitive, x, axis, dim):
    x = _t(x)
    if x.dtype.kind == "u":  # PyTorch scans unsigned integers in int64
        x = ops.astype(x, "int64")
    axis = axis if dim is None else dim
    if axis is None:
        x, axis = x.reshape(-1), 0
    axis = _ax(prim.name, axis, x.ndim)
    if not x.ndim:  # a 0-d tensor's scan is itself (PyTorch's), computed as the scan of one entry
        return _apply(prim, (x.reshape(1),), {"axis": 0}).reshape(())
    return _apply(prim, (x,), {"axis": axis})


@function()
def cumsum(x, axis=None, dim=None, dtype=None, *, out=None):
    """Running sums along ``axis`` (the flattened tensor when None); gradient Σ_{j≥i} g_j.  ``dtype``
    (PyTorch's): the input is cast to it first."""
    ops.no_out("cumsum", out)
    return _scan(CUMSUM, x if dtype is None else ops.astype(_t(x), dtype), axis, dim)


@function()
def cumprod(x, axis=None, dim=None, dtype=None, *, out=None):
    """Running products along ``axis``; gradient Σ_{j≥i} g_j Π_{k≤j, k≠i} x_k (exact at zeros).
    ``dtype`` (PyTorch's): the input is cast to it first."""
    ops.no_out("cumprod", out)
    return _scan(CUMPROD, x if dtype is None else ops.astype(_t(x), dtype), axis, dim)


@function()
def diff(x, n: int = 1, axis: int = -1, dim=None, prepend=None, append=None):
    """n-th forward difference ``x[i+1] − x[i]`` along ``axis`` (a composite of slices), of ``x`` with
    ``prepend`` / ``append`` joined before / after it along that axis first (NumPy's and PyTorch's options: a
    number stands for one slice of it)."""
    x = _t(x)
    if not is_int(n) or n < 0:
        raise ValueError(f"diff: n must be a non-negative int, got {n!r} for the tensor of shape {x.shape}; give e.g. n=1")
    if not x.ndim:
        raise ValueError("diff: needs a tensor of at least 1 dimension, got a 0-d tensor; reshape it first, e.g. x.reshape(1)")
    axis = _ax("diff", axis if dim is None else dim, x.ndim)
    if prepend is not None or append is not None:
        parts = [_edge(prepend, x, axis), x, _edge(append, x, axis)]
        x = ops.concatenate([p for p in parts if p is not None], axis=axis)
    lead = (slice(None),) * axis
    for _ in range(n):  # bools differ by xor (PyTorch's; NumPy refuses a bool minus)
        later, earlier = x[lead + (slice(1, None),)], x[lead + (slice(None, -1),)]
        x = later != earlier if x.dtype == np.bool_ else later - earlier
    return x


def _edge(values, x, axis: int):
    """``diff``'s ``prepend``/``append``: a number as one slice of ``x``'s shape along ``axis``; a tensor as it is,
    which must match ``x`` on every other axis."""
    if values is None:
        return None
    v = _t(values)
    if v.ndim == 0:
        return ops.broadcast_to(v.astype(x.dtype), x.shape[:axis] + (1,) + x.shape[axis + 1 :])
    other_axes_differ = [a != b for i, (a, b) in enumerate(zip(v.shape, x.shape)) if i != axis]  # (`any` is an op here)
    if v.ndim != x.ndim or True in other_axes_differ:
        raise ValueError(f"diff: prepend/append of shape {v.shape} must match the tensor's shape {x.shape} on every axis "
                         f"but {axis} (or be a number)")  # fmt: skip
    return v


@function(prim=R.LOGSUMEXP)
def logsumexp(x, axis=None, keepdims: bool = False, b=None, dim=None, keepdim=None):
    """log Σ b eˣ over ``axis``, computed as m + log Σ b e^{x−m} with m = max x (never
    overflows); ``b`` (scipy's weights, broadcast against x) is 1 when None.  Gradient
    b e^{x − lse} (softmax(x) when b = 1), and e^{x − lse} for b.  An integer x is computed in
    the default float dtype (PyTorch's ``logsumexp(int)``)."""
    x = ops.floating(_t(x))
    axis, keepdims = _names(axis, keepdims, dim, keepdim)
    params = {"axis": tuple(axis) if isinstance(axis, list) else axis, "keepdims": keepdims}
    if b is None:
        return _apply(R.LOGSUMEXP, (x,), params)
    x, b = ops._promote(x, b, False)  # a scalar b is weak (PyTorch's rules), an array b a tensor
    if not isinstance(b, Tensor):
        b = tensor(b, dtype=x.dtype, device=x.device)
    return _apply(R.LOGSUMEXP_B, (x, b), params)


@function()
def logcumsumexp(x, dim=None, axis=None):
    """Running log-sum-exp along ``dim`` (``axis``): out_j = log Σ_{i≤j} e^{x_i}, each a logsumexp
    of the entries up to j (a masked logsumexp over an n × n grid: never overflows, and its
    derivatives of every order are logsumexp's, ∂out_j/∂x_i = e^{x_i − out_j} for i ≤ j; O(n²)
    memory along the dim).  Where every entry up to j is −∞, out_j = −∞ and its derivatives are 0
    (PyTorch's JVP; its VJP gives nan there), in both modes, not e^{−∞ + ∞} = nan.  Integers are
    computed in the default float dtype."""
    x = ops.floating(_t(x))
    dim = dim if axis is None else axis
    if dim is None:
        raise TypeError("logcumsumexp: give the dim to scan along, e.g. logcumsumexp(x, dim=0)")
    if not x.ndim:  # PyTorch's: a 0-d tensor along dim 0 / -1 is itself
        ops.scalar_axis("logcumsumexp", dim)
        return logcumsumexp(x.reshape(1), 0).reshape(())
    dim = _ax("logcumsumexp", dim, x.ndim)
    last = moveaxis(x, dim, -1)
    n = last.shape[-1]
    if not n:  # an empty scan (no max to shift by): itself, as PyTorch's
        return x + 0.0
    upto = np.tri(n, dtype=bool)  # [j, i]: i ≤ j
    grid = ops.where(upto, last.reshape(*last.shape[:-1], 1, n), -math.inf)
    # a row of −∞ only (its running max is −∞): a constant row of 0s under the logsumexp, so no e^{−∞ + ∞}
    # reaches a derivative, and −∞ put back as the value (where: the derivative of a constant, 0)
    empty = grid.max(axis=-1, keepdims=True) == -math.inf
    lse = logsumexp(ops.where(empty, 0.0, grid), axis=-1)
    return moveaxis(ops.where(empty.reshape(lse.shape), -math.inf, lse), -1, dim)


# --- order statistics ---------------------------------------------------------------------------------
def _index_op(prim: Primitive, x: Tensor, params: dict) -> Tensor:
    """An integer- or boolean-valued op: outside the graph (no gradient), but batched like any
    primitive under ``vmap`` (as the engine's comparisons)."""
    if _m.state.slow or x.data.__class__ is not np.ndarray:  # vmap, ng.jit, or another array library
        trace = _m.state.jit_trace
        if trace is not None and trace.traced(x):  # recorded: the program computes the indices anew on each call
            return _apply(prim, (x,), params)
        with _m.no_grad():
            return _apply(prim, (x,), params)
    return _wrap(np.asarray(prim.fn(x.data, **params)))


def _argsort_np(x, axis: int, descending: bool):
    """Stable indices that sort ``x`` along ``axis``, NaN as the largest value (PyTorch's order).

    Ascending is NumPy's stable argsort (NaN last).  Descending never negates ``x`` (−x wraps unsigned
    and extreme integers, refuses booleans and keeps NaN last): with r = flip(x) along the axis,
    ``idx = (n − 1) − flip(argsort(r))`` — ties keep their original order and NaN comes first."""
    xp = namespace_of(x)
    if not descending:
        return xp.argsort(x, axis=axis, kind="stable")
    up = xp.argsort(xp.flip(x, axis=axis), axis=axis, kind="stable")
    return (x.shape[axis] - 1) - xp.flip(up, axis=axis)


def _batch_index_reduce(F, prim, args, batched, params):
    """vmap: the axis (an int, or None for all per-example axes) shifted past the batch axis."""
    (x,) = args
    axis = params["axis"]
    if axis is None:  # over the flattened example: flatten all but the batch axis first
        x = F.reshape(x, (np.shape(x)[0], -1))
        return F.apply(prim, (x,), {**params, "axis": 1})
    return F.apply(prim, (x,), {**params, "axis": shift_axes(axis, len(np.shape(x)) - 1)})


ARGSORT = Primitive("argsort", _argsort_np, (None,), (None,), fmt="argsort({0})", batch=_batch_index_reduce)


@function()
def argsort(x, axis: int = -1, descending: bool = False, dim=None, *, stable: bool = False, kind=None, order=None):
    """The indices that sort ``x`` along ``axis`` (``dim``), ascending or ``descending``, NaN as the
    largest value (PyTorch's).  Always stable — equal entries keep their order — so PyTorch's
    ``stable=`` and NumPy's ``kind=`` are accepted and change nothing.  A 0-d tensor (dim 0 or −1) gives
    index 0, shape ()."""
    if order is not None:  # (not a TypeError: np.argsort would take that as "no such method")
        raise ValueError(f"argsort: order={order!r} names fields of a structured array; a tensor has none, give "
                         "order=None")  # fmt: skip
    x = _t(x)
    axis = _ax("argsort", axis if dim is None else dim, x.ndim)
    if not x.ndim:  # PyTorch's: a 0-d tensor is one entry, and its index stays 0-d
        return argsort(x.reshape(1), 0, descending).reshape(())
    return _index_op(ARGSORT, x, {"axis": axis, "descending": descending})


class ValuesIndices(NamedTuple):
    """PyTorch's ``torch.return_types`` of ``max``/``min``/``median``/``sort``/``topk`` along a dim:
    the values (differentiable: each one's gradient goes to the entry it was taken from) and the
    int64 indices of those entries along the dim (no gradient).  Unpacks as ``v, i = x.max(1)``."""

    values: Tensor
    indices: Tensor


# Which result a selection returns (max, min, median, sort):
#   PyTorch's spelling — ``dim=``, or a dim given positionally to the Tensor method (``x.max(1)``;
#   ``x.sort()`` always) — gives ``ValuesIndices(values, indices)``, as torch;
#   NumPy's spelling — ``axis=``, a positional axis to the function (``ng.max(x, 1)``), or no dim
#   at all (``x.max()``) — gives the values tensor, as NumPy.
def _one_spelling(name: str, axis, dim) -> None:
    """Refuse ``axis=`` and ``dim=`` together: they ask for different results."""
    if axis is not None and dim is not None:
        raise TypeError(
            f"{name}: got both axis={axis!r} and dim={dim!r}; give dim= for PyTorch's (values, indices) "
            "or axis= for NumPy's values, not both"
        )


def _int_dim(name: str, dim) -> None:
    """PyTorch's ``x.max(dim)`` takes one int (an index per row needs one reduced dim)."""
    if not is_int(dim):
        raise TypeError(
            f"{name}: dim must be one int for (values, indices), got {dim!r}; "
            f"for the values over several dims use axis= (or amax/amin), e.g. x.{name}(axis=(0, 1))"
        )


def _sort_method(self, dim=-1, descending: bool = False, stable: bool = False, *, axis=None):
    """PyTorch's ``x.sort(dim=-1, descending=False)``: ``(values, indices)``; ``axis=`` gives the values."""
    if axis is not None:
        return sort(self, axis, descending)
    return sort(self, descending=descending, dim=dim, stable=stable)


@function(method=_sort_method)
def sort(x, axis=None, descending: bool = False, dim=None, stable: bool = False):
    """The entries sorted along ``axis`` (the last when None; ``descending`` as PyTorch; NaN as the
    largest value), ``values = x[argsort]``, so each value's gradient goes to the entry it came from.
    Always stable (``stable=`` is PyTorch's, accepted).  A 0-d tensor is itself, index 0 (PyTorch's).
    PyTorch's spelling (``dim=``, and the method ``x.sort()``) returns ``(values, indices)``;
    NumPy's (``ng.sort(x)``, ``ng.sort(x, axis)``) returns the values."""
    _one_spelling("sort", axis, dim)
    x = _t(x)
    where = _ax("sort", -1 if axis is None and dim is None else (axis if dim is None else dim), x.ndim)
    if not x.ndim:  # a 0-d tensor along dim 0 / -1: sorted as one entry, then 0-d again
        values, order = sort(x.reshape(1), descending=descending, dim=0)
        values, order = values.reshape(()), order.reshape(())
    else:
        order = argsort(x, where, descending)
        values = take_along_axis(x, order, where)
    return values if dim is None else ValuesIndices(values, order)


@function()
def topk(x, k: int, dim: int = -1, largest: bool = True, sorted: bool = True, axis=None) -> ValuesIndices:  # noqa: A002 - PyTorch's name
    """The ``k`` largest (or smallest) entries along ``dim`` and their indices (PyTorch's topk)."""
    x = _t(x)
    dim = _ax("topk", dim if axis is None else axis, x.ndim)
    if not x.ndim:  # PyTorch's topk of a 0-d tensor: itself (k = 0 or 1)
        values, indices = topk(x.reshape(1), k, 0, largest, sorted)
        return ValuesIndices(values.reshape(()) if k else values.reshape(0), indices.reshape(()) if k else indices.reshape(0))
    if not 0 <= k <= x.shape[dim]:
        raise ValueError(f"topk: k={k} is out of range for dim {dim} of size {x.shape[dim]}")
    idx = argsort(x, dim, descending=largest)[(slice(None),) * (dim % x.ndim) + (slice(0, k),)]
    return ValuesIndices(take_along_axis(x, idx, dim), idx)


@function()
def kthvalue(x, k: int, dim: int = -1, keepdim: bool = False) -> ValuesIndices:
    """PyTorch's kthvalue: the ``k``-th smallest entry along ``dim`` (k counted from 1; NaN as the largest value)
    and its int64 index, ``(values, indices)``; the value's gradient goes to that entry (a gather at the index)."""
    x = _t(x)
    if not x.ndim:  # PyTorch's: a 0-d tensor along dim 0 / -1 is its own first smallest entry
        ops.scalar_axis("kthvalue", dim)
        values, indices = kthvalue(x.reshape(1), k, 0)
        return ValuesIndices(values.reshape(()), indices.reshape(()))
    dim = _ax("kthvalue", dim, x.ndim)
    n = x.shape[dim]
    if not is_int(k) or not 1 <= k <= n:
        raise IndexError(f"kthvalue: k={k!r} is out of range for dim {dim} of size {n} (shape {x.shape}); "
                         f"give an int in 1..{n}")  # fmt: skip
    idx = argsort(x, dim)[(slice(None),) * dim + (slice(k - 1, k),)]
    values = take_along_axis(x, idx, dim)
    return ValuesIndices(values, idx) if keepdim else ValuesIndices(values.squeeze(dim), idx.squeeze(dim))


def _running_extreme(name: str, x, dim, largest: bool) -> ValuesIndices:
    """cummax / cummin along ``dim``: for each j the index i ≤ j of the largest (smallest) entry so far — the
    last one at ties, and the last NaN once one is seen (PyTorch's) — and ``x`` gathered there, so the
    gradient goes to that entry.  The indices come from an n × n grid of the entries up to j (O(n²) memory
    along the dim; only ops the engine has, so vmap and every array library run it), with no gradient."""
    x = _t(x)
    if dim is None:
        raise TypeError(f"{name}: give the dim to scan along, e.g. {name}(x, dim=0)")
    if not x.ndim:  # a 0-d tensor is its own running extreme, index 0
        ops.scalar_axis(name, dim)
        values, indices = _running_extreme(name, x.reshape(1), 0, largest)
        return ValuesIndices(values.reshape(()), indices.reshape(()))
    dim = _ax(name, dim, x.ndim)
    last = moveaxis(x, dim, -1)
    n = last.shape[-1]
    if not n:  # an empty dim: nothing to scan (PyTorch's empty values and indices)
        return ValuesIndices(x, x.detach().astype(np.int64))
    # on x.detach(): no gradient, and nothing on the tape in eager mode; inside ng.jit the detach is an op of the
    # program, so the indices are computed anew on each call
    v = last.detach()
    v = v.astype(np.int8) if v.dtype.kind == "b" else v  # (no library takes the max of booleans)
    row = v.reshape(*v.shape[:-1], 1, n)  # [..., j, i] = x_i
    upto = tensor(np.tri(n, dtype=bool), device=x.device)  # i ≤ j
    grid = ops.where(upto, row, v[..., :1].reshape(*v.shape[:-1], 1, 1))  # x_0 is always among x_0..x_j
    best = grid.max(axis=-1, keepdims=True) if largest else grid.min(axis=-1, keepdims=True)
    hit = ((row == best) | ((row != row) & (best != best))) & upto  # where the extreme so far is attained
    idx = ops.where(hit, tensor(np.arange(n, dtype=np.int64), device=x.device), -1).max(axis=-1)
    values = take_along_axis(last, idx, -1)
    return ValuesIndices(moveaxis(values, -1, dim), moveaxis(idx, -1, dim))


@function()
def cummax(x, dim=None, *, axis=None) -> ValuesIndices:
    """PyTorch's cummax: ``values_j = max_{i≤j} x_i`` along ``dim`` and the index where it is attained (the last
    one at ties; NaN propagates, as PyTorch's), ``(values, indices)``; each value's gradient goes to its entry."""
    return _running_extreme("cummax", x, dim if axis is None else axis, True)


@function()
def cummin(x, dim=None, *, axis=None) -> ValuesIndices:
    """PyTorch's cummin: ``values_j = min_{i≤j} x_i`` along ``dim`` and its index (the last at ties; NaN
    propagates), ``(values, indices)``; each value's gradient goes to its entry."""
    return _running_extreme("cummin", x, dim if axis is None else axis, False)


def _median_method(self, dim=None, keepdim=None, *, axis=None, keepdims=False):
    """PyTorch's ``x.median(dim=None, keepdim=False)``: a dim gives ``(values, indices)``."""
    return median(self, axis, keepdims, dim, keepdim)


@function(method=_median_method)
def median(x, axis=None, keepdims: bool = False, dim=None, keepdim=None):
    """The lower median along ``axis`` (PyTorch's: the ⌊(n−1)/2⌋-th smallest, not an average of
    the two middles); all entries when ``axis`` is None.  PyTorch's spelling (``dim=``, or
    ``x.median(1)``) returns ``(values, indices)``; NumPy's (``axis=``, ``ng.median(x, 1)``) the values.

    Gradient as PyTorch's: along an axis it goes to the one selected entry; over all entries
    (``axis`` None) it is split evenly among the entries equal to the median m,
    ∂m/∂x_i = [x_i = m] / #{j : x_j = m} (as ``max`` at ties)."""
    _one_spelling("median", axis, dim)
    x = _t(x)
    if dim is not None:
        _int_dim("median", dim)
        return _median_along(x, dim, bool(keepdim))
    if keepdim is not None:
        keepdims = keepdim
    if not x.ndim and axis is not None:
        axis = ops.scalar_axis("median", axis)
    if axis is None:
        return _median_of_all(x, keepdims)
    return _median_along(x, axis, keepdims).values


def _median_of_all(x: Tensor, keepdims: bool) -> Tensor:
    """The median of every entry; ties (and NaNs) share the gradient evenly."""
    flat = x.reshape(-1)
    if not flat.shape[0]:
        out = _median_of_nothing("median", flat)
        return out.reshape((1,) * x.ndim) if keepdims else out
    out = share_ties(flat, _median_along(flat, 0, False).values)
    return out.reshape((1,) * x.ndim) if keepdims else out


def share_ties(flat: Tensor, out: Tensor) -> Tensor:
    """``out``, a median m of the 1-D ``flat``, with its gradient split evenly among the entries equal to m — or,
    where m is NaN, among the NaN entries (PyTorch's median and nanmedian over every entry).  The largest of the
    entries equal to m is m: ``max`` shares it; neither branch lets a NaN reach the other's rule (max at NaN, 0/0)."""
    if flat.shape[0] < 2 or flat.dtype.kind != "f":
        return out
    isnan = flat != flat
    nan, count = out != out, isnan.sum(axis=0)
    m = ops.where(nan, 0.0, out)
    tie = ops.where(flat == m, flat, -math.inf).max(axis=0)  # (NaN entries are never == m)
    return ops.where(nan, ops.where(isnan, flat, 0.0).sum(axis=0) / ops.where(count > 0, count, 1), tie)


def _median_of_nothing(name: str, flat: Tensor) -> Tensor:
    """The median of no entries: NaN (PyTorch's), still a function of the empty input (its gradient is empty)."""
    if flat.dtype.kind != "f":
        raise ValueError(f"{name}: the {flat.dtype} tensor is empty, so it has no median (NaN is not an integer)")
    return flat.sum(axis=0) * math.nan


def _median_along(x: Tensor, axis, keepdim: bool) -> ValuesIndices:
    """The lower median along one axis and its index (the first NaN where there is one, as PyTorch)."""
    if not x.ndim:  # a 0-d tensor's median along dim 0 / -1: itself, index 0
        ops.scalar_axis("median", axis)
        values, indices = _median_along(x.reshape(1), 0, False)
        return ValuesIndices(values.reshape(()), indices.reshape(()))
    axis = _ax("median", axis, x.ndim)
    n = x.shape[axis]
    if not n:
        raise IndexError(f"median: dim {axis} of the tensor of shape {x.shape} is empty, so it has no median")
    order = argsort(x, axis)
    idx = order[(slice(None),) * axis + (slice((n - 1) // 2, (n - 1) // 2 + 1),)]
    if x.dtype.kind == "f" and n:  # a NaN makes the median NaN (PyTorch): take the first NaN, which sorts last
        nans = (x != x).sum(axis=axis, keepdims=True)
        idx = take_along_axis(order, ops.where(nans > 0, n - nans, (n - 1) // 2), axis)
    out = take_along_axis(x, idx, axis)
    return ValuesIndices(out, idx) if keepdim else ValuesIndices(out.squeeze(axis), idx.squeeze(axis))


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile_ranks(q: float, n: int, interpolation: str) -> tuple[int, int, float]:
    """The order statistics ``s_lo``, ``s_hi`` a quantile reads and the weight w of ``s_hi``
    (value ``s_lo (1 − w) + s_hi w``), at p = q (n − 1): linear ⌊p⌋, ⌈p⌉, p − ⌊p⌋; lower ⌊p⌋;
    higher ⌈p⌉; nearest p rounded half to even (PyTorch's round); midpoint ⌊p⌋, ⌈p⌉, ½."""
    p = q * (n - 1)
    lo, hi = int(np.floor(p)), int(np.ceil(p))
    if interpolation == "lower":
        return lo, lo, 0.0
    if interpolation == "higher":
        return hi, hi, 0.0
    if interpolation == "nearest":
        r = int(np.round(p))
        return r, r, 0.0
    return lo, hi, 0.5 if interpolation == "midpoint" else p - lo


def _quantile_of_sorted(s: Tensor, axis: int, q: float, interpolation: str) -> Tensor:
    """One quantile of the slices of ``s``, sorted ascending along ``axis`` (size 1 kept there).  A
    slice holding NaN gives NaN (PyTorch's): NaN sorts last, so that slice takes its last entry,
    whose gradient is then the only one (as PyTorch's)."""
    n = s.shape[axis]
    lo, hi, w = _quantile_ranks(q, n, interpolation)
    at = (slice(None),) * axis
    below = s[at + (slice(lo, lo + 1),)]
    v = below if lo == hi else below * (1 - w) + s[at + (slice(hi, hi + 1),)] * w  # lo == hi: exact (no ∞·0)
    if s.dtype.kind != "f":
        return v
    last = s[at + (slice(n - 1, n),)]
    return ops.where(last != last, last, v)


@function()
def quantile(x, q, axis=None, keepdims: bool = False, dim=None, keepdim=None, *, interpolation: str = "linear"):
    """The ``q``-quantile(s) of the order statistics s_0 ≤ … ≤ s_{n−1} at p = q (n − 1) (NumPy's
    and PyTorch's), by ``interpolation`` (PyTorch's): ``"linear"`` s_⌊p⌋ (1 − f) + s_⌈p⌉ f with
    f = p − ⌊p⌋ (the default), ``"lower"`` s_⌊p⌋, ``"higher"`` s_⌈p⌉, ``"midpoint"``
    (s_⌊p⌋ + s_⌈p⌉) / 2, ``"nearest"`` s_round(p) (half to even).  A slice holding NaN gives NaN, as
    PyTorch.  A vector ``q`` adds a leading axis.  The gradient goes to the entries read, with those weights."""
    x, axis, flat, keepdims, ndim, qs = _quantile_args("quantile", _t(x), q, axis, keepdims, dim, keepdim, interpolation)
    s = sort(x, axis)
    outs = [_quantile_of_sorted(s, axis, float(qi), interpolation) for qi in qs.reshape(-1)]
    return _quantile_shaped(outs, qs, axis, flat, keepdims, ndim)


def _quantile_args(name: str, x: Tensor, q, axis, keepdims, dim, keepdim, interpolation: str) -> tuple:
    """The arguments of :func:`quantile`/:func:`nanquantile` checked: ``(x, axis, flat, keepdims, ndim, qs)``
    with ``x`` flattened (``flat``) where no axis is given and the ``q``s read on the host."""
    ndim = x.ndim
    axis, keepdims = _names(axis, keepdims, dim, keepdim)
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"{name}: interpolation must be one of {', '.join(_INTERPOLATIONS)}, got {interpolation!r}")
    if not ndim and axis is not None:
        axis = ops.scalar_axis(name, axis)
    flat = axis is None
    x, axis = (x.reshape(-1), 0) if flat else (x, _ax(name, axis, x.ndim))
    if 0 in x.shape:  # no order statistics to read (PyTorch refuses too)
        raise ValueError(f"{name}: the tensor of shape {x.shape} is empty; give at least one entry")
    qs = np.asarray(q.numpy() if isinstance(q, Tensor) else q, dtype=np.float64)  # read on the host
    if np.any((qs < 0) | (qs > 1)):
        raise ValueError(f"{name}: q must lie in [0, 1], got {q!r}")
    return x, axis, flat, keepdims, ndim, qs


def _quantile_shaped(outs: list[Tensor], qs: np.ndarray, axis: int, flat: bool, keepdims: bool, ndim: int) -> Tensor:
    """Each ``q``'s result (size 1 kept along ``axis``) in the caller's shape; a vector ``q`` adds a leading axis."""
    shaped = []
    for v in outs:
        if flat and keepdims:
            v = v.reshape((1,) * ndim)
        elif not keepdims:
            v = v.squeeze(axis)
        shaped.append(v)
    return shaped[0] if qs.ndim == 0 else ops.stack(shaped, axis=0)


def _nan_ranks(q: float, count: Tensor, interpolation: str) -> tuple[Tensor, Tensor, Tensor]:
    """:func:`_quantile_ranks` per slice, for slices of ``count`` non-NaN entries (p = q (count − 1)), as tensors
    (batched under vmap, recorded by jit); an all-NaN slice reads entry 0 (its value is replaced by NaN)."""
    p = ops.where(count > 1, count - 1, 0).astype(np.float64) * q
    lo, hi = p.floor(), p.ceil()
    if interpolation == "lower":
        hi = lo
    elif interpolation == "higher":
        lo = hi
    elif interpolation == "nearest":
        lo = hi = p.round()  # half to even, as PyTorch's
    w = ops.where(lo == hi, 0.0, 0.5 if interpolation == "midpoint" else p - lo)
    return lo.astype(np.int64), hi.astype(np.int64), w


@function()
def nanquantile(x, q, axis=None, keepdims: bool = False, dim=None, keepdim=None, *, interpolation: str = "linear"):
    """PyTorch's ``nanquantile``: :func:`quantile` of the entries that are not NaN, each slice at
    p = q (k − 1) for its own count k of them (NaN where a slice has none).  The gradient goes to the entries
    read, with the interpolation's weights (0 to the NaNs)."""
    x = ops.floating(_t(x))  # (an integer tensor has no NaN; its quantiles are interpolated in floats, as quantile's)
    x, axis, flat, keepdims, ndim, qs = _quantile_args("nanquantile", x, q, axis, keepdims, dim, keepdim, interpolation)
    s = sort(x, axis)  # NaN sorts last: the first k entries of a slice are its non-NaN ones, in order
    count = (x == x).sum(axis=axis, keepdims=True)  # (from a comparison: no gradient flows through the ranks)
    outs = []
    for qi in qs.reshape(-1):
        lo, hi, w = _nan_ranks(float(qi), count, interpolation)
        weight = w.astype(x.dtype)
        below, above = take_along_axis(s, lo, axis), take_along_axis(s, hi, axis)
        v = ops.where(weight == 0, below, below * (1 - weight) + above * weight)  # w = 0: exact (no ∞·0)
        outs.append(ops.where(count == 0, math.nan, v))
    return _quantile_shaped(outs, qs, axis, flat, keepdims, ndim)


# --- index and boolean reductions (no gradient) --------------------------------------------------------------
def _index_reduce(name: str, fn) -> Primitive:
    return Primitive(
        name,
        lambda x, axis=None, keepdims=False: namespace_of(x).forward(fn)(x, axis=axis, keepdims=keepdims),
        (None,),
        (None,),
        fmt=name + "({0})",
        batch=_batch_index_reduce,
    )


ARGMAX, ARGMIN = _index_reduce("argmax", np.argmax), _index_reduce("argmin", np.argmin)
ALL, ANY = _index_reduce("all", np.all), _index_reduce("any", np.any)


def _no_grad_reduce(prim: Primitive, x, axis, keepdims, dim, keepdim):
    x = _t(x)
    axis, keepdims = _names(axis, keepdims, dim, keepdim, empty_is_every=prim not in (ALL, ANY))
    if isinstance(axis, tuple | list) and prim in (ALL, ANY) and x.ndim:  # several dims (PyTorch's and NumPy's)
        axis = tuple(_ax(prim.name, a, x.ndim) for a in axis)
        if len(set(axis)) != len(axis):
            raise ValueError(f"{prim.name}: dim {axis} appears more than once in the dims; give each dim once")
    elif axis is not None:
        axis = _ax(prim.name, axis, x.ndim) if x.ndim else ops.scalar_axis(prim.name, axis)
    out = _index_op(prim, x, {"axis": axis, "keepdims": keepdims})
    # PyTorch's all/any keep a uint8 input's dtype (0/1 in uint8); every other dtype gives bool
    return ops.astype(out, np.uint8) if prim in (ALL, ANY) and x.dtype == np.uint8 else out


@function()
def argmax(x, axis=None, keepdims: bool = False, dim=None, keepdim=None, *, out=None):
    """The index of the largest entry along ``axis`` (of the flattened tensor when None); no gradient."""
    ops.no_out("argmax", out)
    return _no_grad_reduce(ARGMAX, x, axis, keepdims, dim, keepdim)


@function()
def argmin(x, axis=None, keepdims: bool = False, dim=None, keepdim=None, *, out=None):
    """The index of the smallest entry along ``axis``; no gradient."""
    ops.no_out("argmin", out)
    return _no_grad_reduce(ARGMIN, x, axis, keepdims, dim, keepdim)


@function()
def all(x, axis=None, keepdims: bool = False, dim=None, keepdim=None, *, out=None):  # noqa: A001 - NumPy's and PyTorch's name
    """Whether every entry along ``axis`` is nonzero (a boolean tensor; no gradient).

    A uint8 input gives uint8 0/1, as PyTorch's."""
    ops.no_out("all", out)
    return _no_grad_reduce(ALL, x, axis, keepdims, dim, keepdim)


@function()
def any(x, axis=None, keepdims: bool = False, dim=None, keepdim=None, *, out=None):  # noqa: A001
    """Whether some entry along ``axis`` is nonzero (a boolean tensor; no gradient).

    A uint8 input gives uint8 0/1, as PyTorch's."""
    ops.no_out("any", out)
    return _no_grad_reduce(ANY, x, axis, keepdims, dim, keepdim)


# --- max and min: NumPy's values or PyTorch's (values, indices) -------------------------------------
def _extreme_call(prim: Primitive, arg: Primitive, pairwise: Primitive, x, axis, keepdims, dim, keepdim):
    """``max``/``min`` in either spelling (the rule above ``ValuesIndices``), or elementwise with a
    tensor in the place of the dim (``torch.max(x, other)``)."""
    for other in (axis, dim):
        if isinstance(other, Tensor | np.ndarray):
            return ops.binary(pairwise, x, other)
    _one_spelling(prim.name, axis, dim)
    x = _t(x)
    if dim is not None:
        _int_dim(prim.name, dim)
        return _at_index(prim.name, arg, x, dim, bool(keepdim))
    keepdims = keepdims if keepdim is None else keepdim
    if axis is not None and not x.ndim:
        axis = ops.scalar_axis(prim.name, axis)
    return _apply(prim, (x,), {"axis": ops._axis(axis), "keepdims": keepdims})


def _at_index(name: str, arg: Primitive, x: Tensor, dim, keepdim: bool) -> ValuesIndices:
    """``(x[i], i)`` along ``dim`` with i = arg(x) (the first largest/smallest entry, a NaN if any,
    as PyTorch): the value is gathered, so its gradient goes to entry i alone (torch.max(dim)'s rule)."""
    if not x.ndim:  # a 0-d tensor along dim 0 / -1: itself, index 0
        ops.scalar_axis(name, dim)
        values, indices = _at_index(name, arg, x.reshape(1), 0, False)
        return ValuesIndices(values.reshape(()), indices.reshape(()))
    dim = _ax(name, dim, x.ndim)
    if not x.shape[dim]:
        raise IndexError(
            f"{name}: dim {dim} of the tensor of shape {x.shape} is empty, so it has no {name}imum; "
            "reduce over a non-empty dim"
        )
    idx = ops.astype(_index_op(arg, x, {"axis": dim, "keepdims": True}), np.int64)
    values = take_along_axis(x, idx, dim)
    return ValuesIndices(values, idx) if keepdim else ValuesIndices(values.squeeze(dim), idx.squeeze(dim))


def _max_method(self, dim=None, keepdim=None, *, axis=None, keepdims=False, out=None):
    """PyTorch's ``x.max(dim=None, keepdim=False)``: a dim gives ``(values, indices)``, a tensor the
    elementwise maximum."""
    ops.no_out("max", out)  # (np.max(t) passes out=None)
    return max(self, axis, keepdims, dim, keepdim)


def _min_method(self, dim=None, keepdim=None, *, axis=None, keepdims=False, out=None):
    """PyTorch's ``x.min(dim=None, keepdim=False)``: a dim gives ``(values, indices)``, a tensor the
    elementwise minimum."""
    ops.no_out("min", out)  # (np.min(t) passes out=None)
    return min(self, axis, keepdims, dim, keepdim)


@function(method=_max_method, prim=R.MAX)
def max(x, axis=None, keepdims: bool = False, dim=None, keepdim=None):  # noqa: A001 - NumPy's and PyTorch's name
    """The largest entry.  NumPy's spelling (``ng.max(x)``, ``ng.max(x, axis)``, ``axis=``, ``x.max()``):
    the values over ``axis`` (an int, a tuple, all when None), ties sharing the gradient evenly
    (torch.amax).  PyTorch's spelling (``dim=``, or ``x.max(1)``): ``(values, indices)`` along that
    one dim, the index of the first largest entry, which alone gets the gradient (torch.max(dim)).
    A tensor in the dim's place, ``x.max(y)``, is the elementwise ``maximum``."""
    return _extreme_call(R.MAX, ARGMAX, R.MAXIMUM, x, axis, keepdims, dim, keepdim)


@function(method=_min_method, prim=R.MIN)
def min(x, axis=None, keepdims: bool = False, dim=None, keepdim=None):  # noqa: A001
    """The smallest entry, in the two spellings of :func:`max`: NumPy's the values (ties share the
    gradient, torch.amin), PyTorch's (``dim=``, ``x.min(1)``) ``(values, indices)`` with the gradient
    to the returned index alone; ``x.min(y)`` is the elementwise ``minimum``."""
    return _extreme_call(R.MIN, ARGMIN, R.MINIMUM, x, axis, keepdims, dim, keepdim)


# --- pairwise distances ------------------------------------------------------------------------------------------
# d_ij = ‖x1_i − x2_j‖_p over the last axis of x1 (…, P, M) and x2 (…, R, M), the leading axes broadcast (PyTorch's
# cdist).  The differences are taken a block of rows of x1 at a time, so no (…, P, R, M) array is held at once.
_CDIST_BLOCK = 1 << 20  # entries of the differences (…, rows, R, M) of one block
_CDIST_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist")


def _row_blocks(x1_shape: tuple, x2_shape: tuple) -> list[slice]:
    """Slices of x1's rows whose differences with every row of x2 hold at most ``_CDIST_BLOCK`` entries."""
    batch = np.broadcast_shapes(tuple(x1_shape[:-2]), tuple(x2_shape[:-2]))
    per_row = builtins.max(int(np.prod(batch, dtype=np.int64)) * x2_shape[-2] * x1_shape[-1], 1)
    step, rows = builtins.max(_CDIST_BLOCK // per_row, 1), x1_shape[-2]
    return [slice(i, builtins.min(i + step, rows)) for i in range(0, rows, step)] or [slice(0, 0)]


def _rows(F, x, rows: slice):
    return F.getitem(x, (Ellipsis, rows, slice(None)))


def _differences(F, x1, x2, rows: slice):
    """x1_i − x2_j for the rows i of the block and every j: (…, rows, R, M)."""
    return F.expand_dims(_rows(F, x1, rows), -2) - F.expand_dims(x2, -3)


def _p_norm(xp, a, p: float):
    """‖·‖_p over the last axis of ``a = |x1_i − x2_j|``, as PyTorch's kernels: p = 0 counts the nonzero entries
    (min(⌈a⌉, 1), so NaN stays NaN), ∞ takes the largest (a NaN skipped, as PyTorch's max with 0), 1 sums,
    2 is √Σa², any other p (Σ aᵖ)^{1/p}."""
    if p == 0:
        return xp.sum(xp.minimum(xp.ceil(a), 1.0), axis=-1)
    if p == 1 or not a.shape[-1]:  # (no coordinates: every distance is 0)
        return xp.sum(a, axis=-1)
    if p == 2:
        return xp.sqrt(xp.sum(a * a, axis=-1))
    if p == math.inf:
        return xp.max(xp.where(a == a, a, 0.0), axis=-1)
    return xp.sum(a**p, axis=-1) ** (1.0 / p)


def _squared_by_products(F, x1, x2):
    """‖x1_i − x2_j‖² = ‖x1_i‖² + ‖x2_j‖² − 2 x1_i·x2_j by a matrix product (PyTorch's "mm" mode for p = 2:
    fast, but it rounds near 0 — clamped at 0 there)."""
    s = F.expand_dims(F.sum(x1 * x1, axis=-1), -1) + F.expand_dims(F.sum(x2 * x2, axis=-1), -2)
    s = s - 2.0 * F.matmul(x1, F.swapaxes(x2, -1, -2))
    return F.maximum(s, 0.0)


def _cdist_np(x1, x2, p: float, mm: bool = False):
    xp, F = namespace_of(x1), rules_for(x1)
    if mm:
        return xp.sqrt(_squared_by_products(F, x1, x2))
    blocks = [_p_norm(xp, xp.abs(_differences(F, x1, x2, rows)), p) for rows in _row_blocks(x1.shape, x2.shape)]
    return blocks[0] if len(blocks) == 1 else xp.concatenate(blocks, axis=-2)


def _over_distance(F, v, d):
    """v / d, and 0 where d = 0 (PyTorch's subgradient at coincident points, not 0/0 = NaN)."""
    zero = F.data(d) == 0
    return F.where(zero, 0.0, v / F.where(zero, 1.0, d))


def _dd_dx1(F, diff, d, p: float):
    """∂d_ij/∂x1_i (…, rows, R, M) for one block (the derivative in x2_j is its negative), as PyTorch's
    ``_cdist_backward``: p = 1: sign(x1 − x2); p = 2: (x1 − x2)/d; p = ∞: sign(x1 − x2) at the coordinates
    attaining the max (each tie gets all of it); else sign(x1 − x2)·(|x1 − x2|/d)^{p−1} — 0 where d = 0, and
    where x1 − x2 = 0 (for p < 1 its power is ∞ there)."""
    if p == 1:
        return F.sign(diff)
    de = F.expand_dims(d, -1)
    if p == 2:
        return _over_distance(F, diff, de)
    a = F.abs(diff)
    if p == math.inf:
        return F.select(F.data(a) == F.data(de), F.sign(diff))
    off = (F.data(a) == 0) | (F.data(de) == 0)
    ratio = F.where(off, 1.0, a / F.where(F.data(de) == 0, 1.0, de))
    return F.where(off, 0.0, F.sign(diff) * F.power(ratio, p - 1.0))


def _zeros_like(F, x):
    return F.zeros(np.shape(F.data(x)), F.data(x).dtype, like=F.data(x))


class _Cdist(Primitive):
    """cdist(x1, x2, p, mm): both cotangents from one pass over the blocks of differences; with ``mm`` (p = 2)
    by matrix products, W = g/d: x1 ⊙ Σ_j W − W x2 and x2 ⊙ Σ_i W − Wᵀ x1 (PyTorch's ``_euclidean_dist_backward``)."""

    def vjp(self, F, g, ans, args, params, needs):
        (x1, x2), p = args, params["p"]
        if p == 0:  # a count: derivative 0
            return [_zeros_like(F, x) if need else None for x, need in zip(args, needs)]
        if params.get("mm"):
            w = _over_distance(F, g, ans)
            g1 = x1 * F.sum(w, axis=-1, keepdims=True) - F.matmul(w, x2)
            g2 = x2 * F.expand_dims(F.sum(w, axis=-2), -1) - F.matmul(F.swapaxes(w, -1, -2), x1)
            return [g1 if needs[0] else None, g2 if needs[1] else None]
        firsts, second = [], None
        for rows in _row_blocks(np.shape(F.data(x1)), np.shape(F.data(x2))):
            gw = F.expand_dims(_rows(F, g, rows), -1) * _dd_dx1(F, _differences(F, x1, x2, rows), _rows(F, ans, rows), p)
            firsts.append(F.sum(gw, axis=-2))
            part = F.sum(gw, axis=-3)
            second = part if second is None else second + part
        first = firsts[0] if len(firsts) == 1 else F.concatenate(firsts, axis=-2)
        return [first if needs[0] else None, -second if needs[1] else None]

    def jvp(self, F, tangents, ans, args, params):
        (x1, x2), (t1, t2), p = args, tangents, params["p"]
        if t1 is None and t2 is None:
            return None
        if p == 0:
            return _zeros_like(F, ans)
        if params.get("mm"):  # Σ_m (x1 − x2)(ẋ1 − ẋ2) = x1·ẋ1 − x1·ẋ2 − x2·ẋ1 + x2·ẋ2, over d
            dot = 0.0
            if t1 is not None:
                dot = F.expand_dims(F.sum(x1 * t1, axis=-1), -1) - F.matmul(t1, F.swapaxes(x2, -1, -2))
            if t2 is not None:
                dot = dot + F.expand_dims(F.sum(x2 * t2, axis=-1), -2) - F.matmul(x1, F.swapaxes(t2, -1, -2))
            return _over_distance(F, dot, ans)
        parts = []
        for rows in _row_blocks(np.shape(F.data(x1)), np.shape(F.data(x2))):
            w = _dd_dx1(F, _differences(F, x1, x2, rows), _rows(F, ans, rows), p)
            if t1 is None:
                moved = -F.expand_dims(t2, -3)
            else:
                moved = F.expand_dims(_rows(F, t1, rows), -2) if t2 is None else _differences(F, t1, t2, rows)
            parts.append(F.sum(w * moved, axis=-1))
        return parts[0] if len(parts) == 1 else F.concatenate(parts, axis=-2)


# (its rules read x1, x2 and the output: ``reads`` left None, "everything", as a VJP of its own declares)
CDIST = _Cdist("cdist", _cdist_np, (), (), fmt="cdist({0}, {1})", batch=batch_elementwise)


def _cdist_operand(name: str, x) -> Tensor:
    x = _t(x)
    if x.ndim < 2:
        raise ValueError(f"cdist: {name} must be at least 2-D (…, rows, features), got shape {x.shape}; "
                         f"for one point per row use {name}.reshape(1, -1)")  # fmt: skip
    if x.dtype.kind != "f":
        raise TypeError(f"cdist: only floating-point tensors have distances here (as PyTorch), {name} is {x.dtype}; "
                        f"convert it, e.g. {name}.double()")  # fmt: skip
    return x


@function(method=False)
def cdist(x1, x2, p: float = 2.0, compute_mode: str = "use_mm_for_euclid_dist_if_necessary"):
    """PyTorch's cdist: the p-norm distances d_ij = ‖x1_i − x2_j‖_p = (Σ_m |x1_im − x2_jm|ᵖ)^{1/p} between the rows of
    x1 (…, P, M) and of x2 (…, R, M) — (…, P, R), the leading axes broadcast — for p = 0 (the count of differing
    coordinates), 1, 2, ∞ (the largest difference) or any p ≥ 0.  ``compute_mode`` as PyTorch: for p = 2 the
    "mm" form ‖x1_i‖² + ‖x2_j‖² − 2 x1_i·x2_j (a matrix product: fast, less accurate near 0) when P or R > 25
    (``"use_mm_for_euclid_dist"``: always, ``"donot_use_mm_for_euclid_dist"``: never); else the differences.
    Gradient as PyTorch's: (x1_i − x2_j)/d_ij for p = 2, sign(x1_i − x2_j)(|x1_i − x2_j|/d_ij)^{p−1} in general,
    0 where d_ij = 0 (coincident points: a subgradient, not NaN); p = ∞ gives all of it to each tied coordinate;
    p = 0 has derivative 0.  Differentiable again (second order included)."""
    x1, x2 = _cdist_operand("x1", x1), _cdist_operand("x2", x2)
    if x1.dtype != x2.dtype:
        raise TypeError(f"cdist: x1 is {x1.dtype} and x2 is {x2.dtype}; give both the same dtype (as PyTorch), "
                        f"e.g. x2.astype({str(x1.dtype)!r})")  # fmt: skip
    if x1.shape[-1] != x2.shape[-1]:
        raise ValueError(f"cdist: x1 {x1.shape} and x2 {x2.shape} must have the same number of columns (features, the "
                         f"last axis): {x1.shape[-1]} != {x2.shape[-1]}")  # fmt: skip
    try:
        np.broadcast_shapes(x1.shape[:-2], x2.shape[:-2])
    except ValueError:
        raise ValueError(f"cdist: the batch axes of x1 {x1.shape} and x2 {x2.shape} (all but the last two) do not "
                         "broadcast; give equal sizes or 1") from None  # fmt: skip
    if isinstance(p, bool) or not isinstance(p, int | float | np.integer | np.floating) or not p >= 0:
        raise ValueError(f"cdist: p must be a number >= 0 (0, 1, 2, inf or any p >= 0; PyTorch's rule), got {p!r}")
    if compute_mode not in _CDIST_MODES:
        raise ValueError(f"cdist: compute_mode must be one of {', '.join(map(repr, _CDIST_MODES))}, got {compute_mode!r}")
    large = x1.shape[-2] > 25 or x2.shape[-2] > 25
    mm = p == 2 and (compute_mode == _CDIST_MODES[1] or (compute_mode == _CDIST_MODES[0] and large))
    return _apply(CDIST, (x1, x2), {"p": float(p), "mm": mm})


# --- unique values and sorted positions (no gradient: sets and indices, computed on the host) ---------------------
def _on_device(values: np.ndarray, like: Tensor) -> Tensor:
    """A host result as a constant tensor on ``like``'s device."""
    return tensor(values, device=like.device)


def _row_groups(rows: np.ndarray) -> np.ndarray:
    """Where each group of equal consecutive rows of ``rows`` (n, k) starts: a boolean (n,) (NaN never equals
    NaN, so each NaN is a group of its own, as in PyTorch's unique)."""
    starts = np.ones(rows.shape[0], dtype=bool)
    if rows.shape[0] > 1:
        starts[1:] = (rows[1:] != rows[:-1]).any(axis=1)
    return starts


def _grouped(x: Tensor, who: str, dim, ordered: bool, return_inverse: bool, return_counts: bool):
    """unique (``ordered``: sorted first) / unique_consecutive of the entries (dim None) or of the slices along
    ``dim``: the values, and on request the group of each entry (slice) and each group's size, int64."""
    data = x.numpy()
    if dim is None:
        rows, shape = data.reshape(-1, 1), data.shape
    else:
        if not x.ndim:
            raise IndexError(f"{who}: a 0-d tensor has no dim {dim}; pass dim=None, or reshape it first, e.g. x.reshape(1)")
        dim = _ax(who, dim, x.ndim)
        moved = np.moveaxis(data, dim, 0)
        if moved.shape[0] and 0 in moved.shape[1:]:
            raise ValueError(f"{who}: the tensor of shape {x.shape} is empty along a dim other than dim {dim}, so its "
                             "slices along dim cannot be compared (PyTorch refuses too); pass dim=None")  # fmt: skip
        rows, shape = moved.reshape(moved.shape[0], int(np.prod(moved.shape[1:], dtype=np.int64))), (data.shape[dim],)
    order = np.lexsort(rows.T[::-1]) if ordered and rows.shape[1] > 1 else None
    if ordered and order is None:
        order = np.argsort(rows[:, 0], kind="stable")  # NaN last, as PyTorch's
    seen = rows if order is None else rows[order]
    starts = _row_groups(seen)
    picked = seen[starts]
    if dim is None:
        values = picked.reshape(-1)
    else:
        values = np.moveaxis(picked.reshape((-1,) + moved.shape[1:]), 0, dim)
    out = [_on_device(np.ascontiguousarray(values), x)]
    if return_inverse:
        group = np.cumsum(starts) - 1
        inverse = np.empty_like(group)
        inverse[slice(None) if order is None else order] = group
        out.append(_on_device(inverse.astype(np.int64).reshape(shape), x))
    if return_counts:
        out.append(_on_device(np.diff(np.append(np.flatnonzero(starts), len(starts))).astype(np.int64), x))
    return out[0] if len(out) == 1 else tuple(out)


@function()
def unique(x, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False, dim=None):  # noqa: A002 - PyTorch's name
    """PyTorch's unique: the distinct entries of ``x`` (flattened), or with ``dim`` its distinct slices along that
    dim, in ascending (lexicographic) order; ``return_inverse`` adds where each entry (slice) went — ``values[inverse]``
    rebuilds x — and ``return_counts`` how often each value occurs (both int64).  Each NaN is distinct (NaN ≠ NaN),
    as in PyTorch.  ``sorted=False`` gives the sorted result too (as PyTorch's CPU kernel).  No gradient: the
    values are a constant (PyTorch records the op but refuses to differentiate it)."""
    return _grouped(_t(x), "unique", dim, True, return_inverse, return_counts)


@function()
def unique_consecutive(x, return_inverse: bool = False, return_counts: bool = False, dim=None):
    """PyTorch's unique_consecutive: ``x`` (flattened, or its slices along ``dim``) with each run of equal
    consecutive entries kept once, in their order; ``return_inverse`` and ``return_counts`` as :func:`unique`.
    No gradient."""
    return _grouped(_t(x), "unique_consecutive", dim, False, return_inverse, return_counts)


def _bisect(seq: np.ndarray, values: np.ndarray, right: bool) -> np.ndarray:
    """For each row b of ``seq`` (B, M), sorted ascending, and each value v of ``values[b]`` (B, K): the first
    position i with seq[b, i] ≥ v (``right``: > v), M when none — PyTorch's binary search step for step
    (``!(s ≥ v)`` moves right), so NaN lands where PyTorch puts it."""
    size = seq.shape[1]
    lo = np.zeros(values.shape, dtype=np.int64)
    hi = np.full(values.shape, size, dtype=np.int64)
    rows = np.arange(seq.shape[0])[:, None]
    with np.errstate(invalid="ignore"):
        while (active := lo < hi).any():
            mid = lo + ((hi - lo) >> 1)
            s = seq[rows, np.minimum(mid, size - 1)]
            move_right = ~(s > values) if right else ~(s >= values)
            lo = np.where(active & move_right, mid + 1, lo)
            hi = np.where(active & ~move_right, mid, hi)
    return lo


def _searchsorted_side(right: bool, side) -> bool:
    if side not in (None, "left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    if side == "left" and right:
        raise ValueError("searchsorted: side='left' and right=True ask for opposite sides; give one of them")
    return right or side == "right"


@function(method=False)
def searchsorted(sorted_sequence, values, *, out_int32: bool = False, right: bool = False, side=None, sorter=None):
    """PyTorch's searchsorted: for each value v the index i into ``sorted_sequence`` (sorted ascending along its last
    dim) with seq[i−1] < v ≤ seq[i] (``right=True`` or ``side="right"``: seq[i−1] ≤ v < seq[i]), so inserting v
    there keeps it sorted.  A 1-D sequence takes values of any shape (a number too: a 0-d result); an N-D one
    (…, M) takes values (…, K) with the same leading sizes, one search per row.  ``sorter``: int64 indices that sort
    an unsorted sequence along its last dim (its ``argsort``).  int64 indices (``out_int32``: int32) of the
    values' shape; no gradient."""
    seq = _t(sorted_sequence)
    right = _searchsorted_side(right, side)
    if not seq.ndim:
        raise ValueError("searchsorted: the sorted sequence must have at least 1 dimension, got a 0-d tensor; "
                         "reshape it, e.g. seq.reshape(1)")  # fmt: skip
    if isinstance(values, bool | int | float | np.generic):  # a number: a 0-d value, only for a 1-D sequence (PyTorch's)
        if seq.ndim != 1:
            raise ValueError(f"searchsorted: a number as the value needs a 1-D sequence, got shape {seq.shape}; "
                             "give values of shape (…, K) matching its leading dims")  # fmt: skip
    vals = _t(values)
    if seq.ndim > 1 and (vals.ndim != seq.ndim or vals.shape[:-1] != seq.shape[:-1]):
        raise ValueError(f"searchsorted: a sequence of shape {seq.shape} needs values of shape {seq.shape[:-1]} + (K,), "
                         f"got {vals.shape}; or give a 1-D sequence, which takes values of any shape")  # fmt: skip
    order = None if sorter is None else _sorter(sorter, seq)
    seq, vals = ops.promote_all([seq, vals])  # compared in PyTorch's common dtype
    host, values_host = seq.numpy(), vals.numpy()
    if order is not None:
        host = np.take_along_axis(host, order, axis=-1)
    seq2 = host.reshape(int(np.prod(host.shape[:-1], dtype=np.int64)), host.shape[-1])  # (B, M): one search per row
    vals2 = values_host.reshape(1, -1) if host.ndim == 1 else values_host.reshape(seq2.shape[0], values_host.shape[-1])
    found = _bisect(seq2, vals2, right).reshape(values_host.shape)
    return _on_device(found.astype(np.int32 if out_int32 else np.int64), seq)


def _sorter(sorter, seq: Tensor) -> np.ndarray:
    """``sorter`` checked: int64, the sequence's shape, every index in 0..M−1 — as a host array."""
    s = sorter.numpy() if isinstance(sorter, Tensor) else np.asarray(sorter)
    if s.dtype != np.int64:
        raise TypeError(f"searchsorted: sorter must hold int64 indices (PyTorch's rule), got {s.dtype}; "
                        "convert it, e.g. sorter.astype('int64')")  # fmt: skip
    if s.shape != seq.shape:
        raise ValueError(f"searchsorted: sorter of shape {s.shape} must have the sequence's shape {seq.shape}")
    if s.size and (s.min() < 0 or s.max() >= seq.shape[-1]):
        raise IndexError(f"searchsorted: sorter holds an index outside 0..{seq.shape[-1] - 1} (the sequence's last dim)")
    return s
