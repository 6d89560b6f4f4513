"""The functional API over tensors: ``ng.exp``, ``ng.matmul``, ``ng.softmax`` …

Each function checks its arguments, then applies one primitive from :mod:`.rules`.  ``var`` is
the one composite here (built from primitives, so its derivatives come for free).  The class
:class:`TENSOR_NS` is the namespace the rules see when ``create_graph=True``.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence

import numpy as np

from . import rules as R
from .mode import enable_grad
from .tensor import Tensor, _apply, _wrap, tensor


def _t(x) -> Tensor:
    return x if isinstance(x, Tensor) else tensor(x)


def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


# --- elementwise ----------------------------------------------------------------------------------
def exp(x):
    """eˣ; derivative eˣ."""
    return _apply(R.EXP, (_t(x),))


def log(x):
    """ln x; derivative 1/x."""
    return _apply(R.LOG, (_t(x),))


def sqrt(x):
    """√x; derivative 1/(2√x)."""
    return _apply(R.SQRT, (_t(x),))


def sin(x):
    """sin x; derivative cos x."""
    return _apply(R.SIN, (_t(x),))


def cos(x):
    """cos x; derivative −sin x."""
    return _apply(R.COS, (_t(x),))


def tanh(x):
    """tanh x; derivative 1 − tanh² x (lecture 001)."""
    return _apply(R.TANH, (_t(x),))


def sigmoid(x):
    """σ(x) = 1/(1 + e^{−x}), computed without overflow; derivative σ(1 − σ) (lecture 000)."""
    return _apply(R.SIGMOID, (_t(x),))


def relu(x):
    """max(0, x); derivative 1 for x > 0 and 0 otherwise (one-sided at 0, lecture 001)."""
    return _apply(R.RELU, (_t(x),))


def abs(x):  # noqa: A001 - the public name, like torch.abs
    """|x|; derivative sign x (0 at 0)."""
    return _apply(R.ABS, (_t(x),))


def sign(x):
    """sign x, outside the graph (its derivative is 0 almost everywhere)."""
    return _wrap(np.sign(_t(x).data))


def neg(x):
    return _apply(R.NEG, (_t(x),))


def add(x, y):
    return _apply(R.ADD, (x, y))


def sub(x, y):
    return _apply(R.SUB, (x, y))


def mul(x, y):
    return _apply(R.MUL, (x, y))


def div(x, y):
    return _apply(R.DIV, (x, y))


def power(x, y):
    """xʸ; ∂/∂x = y·x^{y−1}, ∂/∂y = xʸ ln x."""
    return _apply(R.POW, (x, y))


def maximum(x, y):
    """Elementwise max; at ties the gradient is split evenly between x and y (as PyTorch)."""
    return _apply(R.MAXIMUM, (x, y))


def minimum(x, y):
    """Elementwise min; at ties the gradient is split evenly between x and y (as PyTorch)."""
    return _apply(R.MINIMUM, (x, y))


def where(cond, x, y):
    """``x`` where ``cond`` else ``y``; the gradient goes to the branch that was taken."""
    c = cond.data if isinstance(cond, Tensor) else np.asarray(cond)
    if c.dtype != bool:
        raise TypeError(f"where: the condition must be boolean, got {c.dtype}")
    return _apply(R.WHERE, (c, x, y))


def clip(x, min=None, max=None):  # noqa: A002 - PyTorch's names
    """Clamp into [min, max]; gradient 1 inside (bounds included), 0 outside."""
    if min is None and max is None:
        raise ValueError("clip: give at least one of min= or max=")
    return _apply(R.CLIP, (_t(x),), {"lo": min, "hi": max})


def astype(x, dtype):
    """Cast to ``dtype``; the gradient is cast back to the input's dtype."""
    x = _t(x)
    if np.dtype(dtype) == x.dtype:
        return x
    return _apply(R.ASTYPE, (x,), {"dtype": np.dtype(dtype)})


# --- reductions -----------------------------------------------------------------------------------
def sum(x, axis=None, keepdims=False):  # noqa: A001
    """Σ over ``axis`` (all axes when None)."""
    return _apply(R.SUM, (_t(x),), {"axis": _axis(axis), "keepdims": keepdims})


def mean(x, axis=None, keepdims=False):
    """Arithmetic mean over ``axis``."""
    return _apply(R.MEAN, (_t(x),), {"axis": _axis(axis), "keepdims": keepdims})


def max(x, axis=None, keepdims=False):  # noqa: A001
    """Largest entry over ``axis``; ties share the gradient evenly (like torch.amax)."""
    return _apply(R.MAX, (_t(x),), {"axis": _axis(axis), "keepdims": keepdims})


def min(x, axis=None, keepdims=False):  # noqa: A001
    """Smallest entry over ``axis``; ties share the gradient evenly (like torch.amin)."""
    return _apply(R.MIN, (_t(x),), {"axis": _axis(axis), "keepdims": keepdims})


def std(x, axis=None, keepdims=False, correction=0):
    """Standard deviation ``σ = sqrt(Σ(x − x̄)² / (n − correction))``; gradient
    ``(x − x̄)/(σ (n − correction))``, and 0 where σ = 0 (a constant row), as PyTorch."""
    return _apply(R.STD, (_t(x),), {"axis": _axis(axis), "keepdims": keepdims, "correction": correction})


def var(x, axis=None, keepdims=False, correction=0):
    """Variance ``Σ(x − x̄)² / (n − correction)``; composite of primitives."""
    x = _t(x)
    d = x - mean(x, axis, keepdims=True)
    n = R._count(x, _axis(axis))
    return sum(d * d, axis, keepdims) / builtins.max(n - correction, 1)


def logsumexp(x, axis=None, keepdims=False):
    """log Σ eˣ computed as m + log Σ e^{x−m} (stable); gradient softmax(x)."""
    return _apply(R.LOGSUMEXP, (_t(x),), {"axis": _axis(axis), "keepdims": keepdims})


def softmax(x, axis=-1):
    """softmax(x)_i = e^{x_i} / Σ_j e^{x_j}; Jacobian diag(s) − s sᵀ (lecture 000)."""
    return _apply(R.SOFTMAX, (_t(x),), {"axis": axis})


def log_softmax(x, axis=-1):
    """log softmax(x) = x − logsumexp(x): never takes the log of an underflowed 0."""
    return _apply(R.LOG_SOFTMAX, (_t(x),), {"axis": axis})


# --- shapes ---------------------------------------------------------------------------------------
def reshape(x, shape):
    x = _t(x)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    try:
        np.empty(x.shape, dtype=np.uint8).reshape(shape)  # shape check without touching data
    except ValueError:
        raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} entries) into {shape}") from None
    return _apply(R.RESHAPE, (x,), {"shape": shape})


def transpose(x, axes=None):
    x = _t(x)
    return _apply(R.TRANSPOSE, (x,), {"axes": None if axes is None else tuple(axes)})


def swapaxes(x, a: int, b: int):
    x = _t(x)
    axes = list(range(x.ndim))
    axes[a], axes[b] = axes[b], axes[a]
    return transpose(x, axes)


def expand_dims(x, axis: int):
    x = _t(x)
    return reshape(x, np.expand_dims(np.empty(x.shape, dtype=np.uint8), axis).shape)


def squeeze(x, axis=None):
    x = _t(x)
    return reshape(x, np.squeeze(np.empty(x.shape, dtype=np.uint8), axis).shape)


def broadcast_to(x, shape):
    x = _t(x)
    shape = tuple(shape)
    try:
        np.broadcast_shapes(x.shape, shape)
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}") from None
    return _apply(R.BROADCAST_TO, (x,), {"shape": shape})


def sum_to(x, shape):
    """Sum a broadcast tensor down to ``shape`` (the adjoint of :func:`broadcast_to`)."""
    x = _t(x)
    shape = tuple(shape)
    if x.shape == shape:
        return x
    return _apply(R.SUM_TO, (x,), {"shape": shape})


def _plain_index(index):
    """Tensors inside an index become arrays; lists become integer/boolean arrays."""
    if isinstance(index, tuple):
        return tuple(_plain_index(i) for i in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        return np.asarray(index)
    return index


def getitem(x, index):
    """``x[index]`` with ints, slices, boolean masks and integer arrays; repeated indices accumulate."""
    x = _t(x)
    index = _plain_index(index)
    try:
        return _apply(R.GETITEM, (x,), {"index": index})
    except IndexError as exc:
        raise IndexError(f"getitem: index {index!r} does not fit a tensor of shape {x.shape}: {exc}") from None


def index_update(x, index, value):
    """``x`` with ``x[index]`` replaced by ``value``, as a new tensor (JAX's ``x.at[index].set(v)``,
    PyTorch's ``index_put``).  Differentiable in both: ``x`` gets ``g`` with zeros at ``index``,
    ``value`` gets ``g[index]`` (summed over broadcasting)."""
    x = _t(x)
    index = _plain_index(index)
    try:
        return _apply(R.INDEX_UPDATE, (x, value), {"index": index})
    except IndexError as exc:
        raise IndexError(f"index_update: index {index!r} does not fit a tensor of shape {x.shape}: {exc}") from None


def setitem(x: Tensor, index, value) -> None:
    """``x[index] = value`` in place.  When ``x`` or ``value`` is traced, ``x`` becomes the node
    ``index_update(old x, index, value)``; every op that saved the old ``x`` now refuses to
    back-propagate (the version counter), as in PyTorch."""
    traced = x.requires_grad or bool(x._tangents)
    if isinstance(value, Tensor):
        traced = traced or value.requires_grad or bool(value._tangents)
    if not traced:
        index = _plain_index(index)
        x.data[index] = value.data if isinstance(value, Tensor) else value
        x.bump_version_()
        return
    if x._op is None and x.requires_grad:
        raise RuntimeError(
            f"setitem: a leaf tensor of shape {x.shape} that requires grad is used in an in-place operation "
            "(x[...] = v). Assign through x.data under no_grad(), or work on a copy: y = x * 1; y[...] = v; "
            "or use the functional form ng.index_update(x, index, v)."
        )
    old = _wrap(x.data)
    old.requires_grad, old._op, old._inputs, old._params = x.requires_grad, x._op, x._inputs, x._params
    old._tangents, old._version = x._tangents, x._version
    new = index_update(old, index, value)
    x.data, x.requires_grad, x._op, x._inputs, x._params = new.data, new.requires_grad, new._op, new._inputs, new._params
    x._tangents = new._tangents
    x.bump_version_()


def unindex(g, index, shape):
    return _apply(R.UNINDEX, (_t(g),), {"index": index, "shape": tuple(shape)})


def concatenate(tensors: Sequence, axis: int = 0):
    """Join tensors along an existing axis; the gradient is sliced back into the pieces."""
    ts = tuple(_t(t) for t in tensors)
    if not ts:
        raise ValueError("concatenate: needs at least one tensor")
    return _apply(R.CONCATENATE, ts, {"axis": axis})


def stack(tensors: Sequence, axis: int = 0):
    """Join equally shaped tensors along a new axis."""
    ts = tuple(_t(t) for t in tensors)
    shapes = {t.shape for t in ts}
    if len(shapes) != 1:
        raise ValueError(f"stack: all tensors must have the same shape, got {sorted(shapes)}")
    return _apply(R.STACK, ts, {"axis": axis})


def identity(x):
    """The same value as a new node of the graph (a fresh handle for a transform to trace)."""
    return _apply(R.IDENTITY, (_t(x),))


def matmul(a, b):
    """Matrix product with NumPy's rules: vectors, matrices and broadcast batches."""
    a, b = _t(a), _t(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: operands must be at least 1-D, got shapes {a.shape} and {b.shape}; use * for scalars")
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if a.shape[-1] != k_b:
        raise ValueError(
            f"matmul: shapes {a.shape} and {b.shape} do not align: {a.shape[-1]} (last of the first) != "
            f"{k_b} ({'only' if b.ndim == 1 else 'second-to-last'} of the second); transpose one operand?"
        )
    return _apply(R.MATMUL, (a, b))


class TENSOR_NS:  # noqa: N801 - a namespace
    """The namespace the rules see when ``create_graph=True``: every call records on the tape."""

    exp = staticmethod(exp)
    log = staticmethod(log)
    sin = staticmethod(sin)
    cos = staticmethod(cos)
    sqrt = staticmethod(sqrt)
    sign = staticmethod(sign)
    matmul = staticmethod(matmul)
    reshape = staticmethod(reshape)
    broadcast_to = staticmethod(broadcast_to)
    expand_dims = staticmethod(expand_dims)
    transpose = staticmethod(transpose)
    swapaxes = staticmethod(swapaxes)
    power = staticmethod(power)
    maximum = staticmethod(maximum)
    concatenate = staticmethod(concatenate)
    sum_to = staticmethod(sum_to)
    unindex = staticmethod(unindex)
    sigmoid = staticmethod(sigmoid)
    where = staticmethod(where)
    sum = staticmethod(sum)
    getitem = staticmethod(getitem)
    astype = staticmethod(astype)
    index_update = staticmethod(lambda x, v, index: index_update(x, index, v))
    stack = staticmethod(stack)
    recording = staticmethod(enable_grad)

    @staticmethod
    def data(x):
        return x.data if isinstance(x, Tensor) else x

    @staticmethod
    def select(mask, g):
        """``where(mask, g, 0)``, recorded."""
        return where(mask, g, 0.0)

    @staticmethod
    def seed(grad, g):
        """The output adjoint the walk starts from: a Tensor (``grad`` itself when given one)."""
        return grad if isinstance(grad, Tensor) else _wrap(g)

    @staticmethod
    def unbox(node):
        """``(args, ans)`` as the rules see them: the Tensors themselves, so ops record."""
        return node._inputs, node

    @staticmethod
    def zeros(shape, dtype):
        return tensor(np.zeros(shape, dtype=dtype))
