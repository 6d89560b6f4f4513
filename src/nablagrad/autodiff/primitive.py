"""A primitive op: its value, its VJP rules and its JVP rules, declared together.

Rules are written once against a small array namespace ``F`` (``exp``, ``matmul``,
``sum_to``, …).  The fast first-order backward pass hands them :data:`NUMPY_NS` and raw
arrays; ``create_graph=True`` hands them the tensor namespace and Tensors, so the very same
rule builds a differentiable graph for higher-order derivatives (DESIGN rule 4).

Rule signatures (HIPS-autograd style, one rule per argument):

* VJP: ``rule(F, g, ans, *args, **params) -> ∂L/∂arg`` given ``g = ∂L/∂ans``;
* JVP: ``rule(F, t, ans, *args, **params) -> ∂ans`` along the tangent ``t`` of that argument.

A rule may return a gradient of a broadcast shape; the tape walk reduces it to the operand's
shape with :func:`sum_to`, the one place where broadcasting is undone (DESIGN rule 2).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np

from ..backend.device import Device, device_of, to_device
from ..backend.namespace import NUMPY, ArrayAPINamespace, namespace_of

Rule = Callable[..., object] | None

ANS = "ans"  # in a primitive's ``reads``: its VJP reads the op's output value (``ans``)


class Box:
    """Base of values the engine traces (``Tensor``): lets the layers below tell a traced value
    from a raw array without importing the tensor module."""

    __slots__ = ()


def _no_cotangent(F, g, ans, *args, **params) -> None:
    """The VJP rule of an argument that carries no gradient (a comparison's booleans, an index)."""
    return None


class Primitive:
    """One differentiable operation: ``fn`` on raw arrays plus per-argument VJP/JVP rules."""

    __slots__ = ("name", "fn", "vjps", "jvps", "fmt", "batch", "reads")

    def __init__(
        self,
        name: str,
        fn: Callable,
        vjps: Sequence[Rule],
        jvps: Sequence[Rule],
        fmt: str | None = None,
        batch: Callable | None = None,
        reads: Sequence[Sequence[int | str]] | None = None,
    ):
        self.name = name
        self.fn = fn
        # an argument without a rule (a condition, an index) gets no cotangent even when it requires one:
        # inside an ng.jit trace every value that depends on an input does, integer and boolean ones too
        self.vjps = tuple(_no_cotangent if rule is None else rule for rule in vjps)
        self.jvps = tuple(jvps)
        self.fmt = fmt  # how explain() writes it, e.g. "{0} * {1}"
        # vmap: batch(F, prim, args, batched, params) -> the result with the batch axis first,
        # given args whose batched ones have it first; None: elementwise with broadcasting
        self.batch = batch
        # the values the VJP rules read (PyTorch's "saved for backward"), one entry per rule: the
        # indices of the arguments it reads and ANS for the output — shapes and dtypes do not count,
        # no in-place write changes them.  None: every rule may read everything (the safe default);
        # () for an op whose rules read no value (add, sum, reshape …, and every linear primitive).
        self.reads = None if reads is None else tuple(frozenset(r) for r in reads)

    def __repr__(self) -> str:
        return f"Primitive({self.name})"

    def vjp(self, F, g, ans, args: Sequence, params: dict, needs: Sequence[bool]) -> list:
        """Cotangents for the arguments flagged in ``needs`` (``None`` for the others)."""
        rules = self.vjps
        if len(needs) == 1:  # unrolled for one and two arguments: a comprehension costs a frame
            return [rules[0](F, g, ans, *args, **params) if needs[0] else None]
        if len(needs) == 2:
            return [
                rules[0](F, g, ans, *args, **params) if needs[0] else None,
                rules[1](F, g, ans, *args, **params) if needs[1] else None,
            ]
        return [rules[i](F, g, ans, *args, **params) if need else None for i, need in enumerate(needs)]

    def saved(self, needs: Sequence[bool]) -> frozenset | None:
        """What the VJP rules of the arguments flagged in ``needs`` read (argument indices, and ANS
        for the output): the values an in-place write must not touch before the backward pass.
        None: anything (a primitive that does not say)."""
        reads = self.reads
        if reads is None:
            return None
        out: frozenset = frozenset()
        for i, need in enumerate(needs):
            if need and i < len(reads):
                out |= reads[i]
        return out

    def jvp(self, F, tangents: Sequence, ans, args: Sequence, params: dict):
        """The output tangent: the sum of each argument's contribution ``∂f/∂x_i · ẋ_i``."""
        out = None
        rules = self.jvps
        for i, t in enumerate(tangents):
            if t is None or rules[i] is None:
                continue
            d = rules[i](F, t, ans, *args, **params)
            out = d if out is None else out + d
        if out is not None and np.shape(out) != np.shape(ans):
            out = F.broadcast_to(out, np.shape(ans))
        return out


@dataclass(frozen=True)
class Row:
    """One row of the rule table: a public op ``ng.<name>`` (and ``Tensor.<name>``) and its
    primitive.  ``kind`` says how the generated function is called:

    * ``"unary"`` ``f(x)``; ``"binary"`` ``f(x, y)`` (either may be a number);
    * ``"reduce"`` ``f(x, axis=None, keepdims=False, **extra)``; ``"axis"`` ``f(x, axis=-1)``;
    * ``"function"``: ``fn`` itself, written by hand for a signature of its own (``einsum``'s
      subscripts, ``topk``'s ``k``) and built on primitives (``prim`` may be None).

    ``method``: ``True`` makes ``fn`` the ``Tensor`` method too, ``False`` gives no method, and a
    callable is the method itself where PyTorch's method differs from the function (``x.repeat``
    is NumPy's tile, ``x.where(cond, y)`` takes ``x`` as the value where ``cond`` holds).
    ``floats``: integer inputs are computed in the default float dtype, as PyTorch computes
    ``exp(int)``, ``int / int`` and ``atan2(int, int)`` (None: by kind — yes for unary ops, no
    for the others; ``neg``, ``abs``, ``floor`` … keep integers).
    ``dunder`` names the operator (``"add"`` gives ``__add__`` and ``__radd__``), ``check``
    validates the arguments before the op runs (a reduction's: its input, after a ``dtype=``
    cast), ``extra`` holds a reduction's further keyword parameters and their defaults, or a
    binary op's PyTorch keywords (``alpha``, ``rounding_mode``, whose meaning :mod:`.api` gives
    once for every op that takes them).  ``operands``: the keyword
    names of a binary op's operands (PyTorch's ``input``/``other``, ``exponent`` for a power).
    """

    name: str
    prim: Primitive
    kind: str
    doc: str
    method: bool | Callable = True
    floats: bool | None = None
    dunder: str | None = None
    check: Callable | None = None
    extra: tuple[tuple[str, object], ...] = ()
    fn: Callable | None = None
    operands: tuple[str, str] = ("input", "other")


TABLE: dict[str, Row] = {}


def row(name: str, prim: Primitive | None, kind: str, doc: str, **options) -> Primitive | None:
    """Enter ``prim`` in the rule table as the public op ``name`` (see :class:`Row`); its value
    becomes ``NUMPY_NS.<name>`` too, so other rules can call it on the fast path."""
    if kind not in ("unary", "binary", "reduce", "axis", "function"):
        raise ValueError(f"row: unknown kind {kind!r}")
    TABLE[name] = Row(name, prim, kind, doc, **options)
    if prim is not None and prim.batch is None and kind in ("reduce", "axis"):
        prim.batch = batch_reduce if kind == "reduce" else batch_axis
    if prim is not None and not hasattr(NUMPY_NS, name):
        setattr(NUMPY_NS, name, staticmethod(prim.fn))
    return prim


def function(method: bool | Callable = True, prim: Primitive | None = None) -> Callable:
    """Decorator: enter a hand-written op in the table as a ``"function"`` row named after it,
    its docstring the row's doc (``method`` as in :class:`Row`)."""

    def enter(fn: Callable) -> Callable:
        row(fn.__name__, prim, "function", fn.__doc__ or "", fn=fn, method=method)
        return fn

    return enter


# --- batching rules shared by many primitives (vmap; the batch axis is axis 0 of the data) -------
def logical_shape(x, is_batched: bool) -> tuple[int, ...]:
    return tuple(np.shape(x))[1:] if is_batched else tuple(np.shape(x))


def pad_batched(F, x, ndim: int):
    """A batched ``x`` with size-1 axes after the batch axis up to ``ndim`` per-example axes, so
    it broadcasts against unbatched operands from the right as the per-example value would."""
    shape = tuple(np.shape(x))
    if len(shape) - 1 >= ndim:
        return x
    return F.reshape(x, shape[:1] + (1,) * (ndim - len(shape) + 1) + shape[1:])


def batch_elementwise(F, prim, args, batched, params):
    """An elementwise op: pad the batched operands to a common rank, then broadcast as usual."""
    ndim = max(len(logical_shape(a, b)) for a, b in zip(args, batched))
    padded = tuple(pad_batched(F, a, ndim) if b else a for a, b in zip(args, batched))
    return F.apply(prim, padded, params)


def shift_axes(axis, ndim: int):
    """A per-example ``axis`` (int, tuple or None for all) as an axis of the batched data."""
    if axis is None:
        return tuple(range(1, ndim + 1))
    if isinstance(axis, tuple):
        return tuple(a % ndim + 1 for a in axis)
    return axis % ndim + 1


def batch_reduce(F, prim, args, batched, params):
    """A reduction over ``axis`` of the per-example value: the same axes, shifted past the batch."""
    (x,) = args
    return F.apply(prim, (x,), {**params, "axis": shift_axes(params.get("axis"), len(np.shape(x)) - 1)})


def batch_axis(F, prim, args, batched, params):
    """An op along one ``axis`` (softmax): the axis shifted past the batch axis."""
    (x,) = args
    return F.apply(prim, (x,), {**params, "axis": shift_axes(params.get("axis", -1), len(np.shape(x)) - 1)})


def linear(name: str, fn: Callable, vjp: Rule, fmt: str | None = None, batch: Callable | None = None) -> Primitive:
    """A primitive linear in its one traced argument: its JVP is the op itself applied to the
    tangent (JAX's ``deflinear``), so only the value and the VJP (the transpose) are written.
    The transpose of a linear map reads no value of the argument (its shape at most): ``reads=()``."""
    prim = Primitive(name, fn, (vjp,), (None,), fmt, batch, reads=())
    prim.jvps = (lambda F, t, ans, x, **params: F.apply(prim, (t,), params),)
    return prim


def quiet(fn: Callable) -> Callable:
    """``fn`` without NumPy's divide-by-zero and invalid-value warnings: for a value that is ±∞ or NaN at a pole
    or outside the domain (log 0 = −∞, artanh 1 = ∞), which PyTorch computes silently.  (An errstate costs ~1 µs:
    only for ops with such points, not for every op.)"""

    def f(*args, **params):
        xp = namespace_of(args[0])
        with np.errstate(divide="ignore", invalid="ignore"):  # (a library built on NumPy reads its flags too)
            return fn(*args, **params) if xp is NUMPY else xp.forward(fn)(*args, **params)

    f.__name__, f.__doc__ = getattr(fn, "__name__", "quiet"), fn.__doc__
    return f


def sum_to(g, shape: tuple[int, ...]):
    """Reduce a broadcast gradient ``g`` to ``shape``: sum over the axes broadcasting added."""
    gshape = np.shape(g)
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and gshape[lead + i] != 1)
    xp = namespace_of(g)
    return xp.reshape(xp.sum(g, axis=axes, keepdims=True), shape)


def _unindex(g, index, shape):
    """Scatter-add ``g`` into zeros of ``shape`` at ``index`` (repeated indices accumulate)."""
    xp = namespace_of(g)
    out = xp.zeros(shape, g.dtype, device=None if xp is NUMPY else g.device)
    index = xp.full_index(index, len(shape))
    if _is_basic_index(index):
        xp.set_at(out, index, g)  # basic indexing never repeats an element: plain assignment is exact
    else:
        xp.add_at(out, index, g)
    return out


def index_update_np(x, v, index):
    """A copy of ``x`` with ``out[index] = v`` (JAX's ``x.at[index].set(v)``)."""
    xp = namespace_of(x)
    out = xp.copy(x)
    xp.set_at(out, index, v)
    return out


def constant_like(F, x, constant: np.ndarray):
    """A host constant (an identity, a triangle) in ``x``'s dtype, on ``x``'s device (``x`` an
    array or a Tensor of any library); a constant Tensor when the rule records (``F.const``), so
    it combines with Tensors from either side on every library."""
    data = F.data(x)
    xp = namespace_of(data)
    if xp is NUMPY:
        return F.const(constant.astype(np.result_type(data), copy=False))
    return F.const(to_device(constant.astype(xp.numpy_dtype(data.dtype), copy=False), device_of(data)))


def _is_basic_index(index) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, int | slice | np.integer) for p in parts)


def stable_sigmoid(x):
    """σ(x) = 1/(1+e^{−x}) without overflow, and without a branch: σ(x) = e^{min(x,0)} / (1 + e^{−|x|})
    (for x ≥ 0 that is 1/(1+e^{−x}); for x < 0, e^{x}/(1+e^{x}); both exponents are ≤ 0)."""
    xp = namespace_of(x)
    if xp is not NUMPY:
        return xp.exp(xp.minimum(x, 0)) / (1 + xp.exp(-xp.abs(x)))
    x = np.asarray(x)
    dt = np.result_type(x, np.float16) if x.dtype.kind not in "fc" else x.dtype
    den = np.empty(x.shape, dt)  # in-place passes (arrays even at shape ()): where() of two branches cost 4x more
    np.abs(x, out=den)
    np.negative(den, out=den)
    np.exp(den, out=den)
    den += 1
    out = np.empty(x.shape, dt)
    np.minimum(x, 0, out=out)
    np.exp(out, out=out)
    out /= den
    return out


def logsumexp_np(x, axis=None, keepdims=False):
    """log Σ e^{x} computed as m + log Σ e^{x−m} with m = max x (never overflows)."""
    xp = namespace_of(x)
    m = xp.max(x, axis=axis, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):  # every term 0 (all −∞): log 0 = −∞, silently as PyTorch
        out = xp.log(xp.sum(xp.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else squeeze_reduced(xp, out, axis)


def squeeze_reduced(xp, out, axis):
    """A reduction computed with ``keepdims=True`` as without: the kept ``axis`` (all when None) dropped."""
    return xp.reshape(out, ()) if axis is None else xp.squeeze(out, axis=axis)


class RawArrays:
    """What the raw-array rule namespaces share, on every array library: rules see the arrays
    themselves, nothing is recorded, and the helpers below take their library from their data."""

    sum_to = staticmethod(sum_to)
    unindex = staticmethod(_unindex)
    index_update = staticmethod(index_update_np)
    sigmoid = staticmethod(stable_sigmoid)

    @staticmethod
    def data(x):
        return x

    @staticmethod
    def const(x):
        """A constant as the rules combine it: the raw array itself."""
        return x

    @staticmethod
    def seed(grad, g):
        """The output adjoint the walk starts from: the raw array."""
        return g

    @staticmethod
    def recording():
        """The context the walk runs in: nothing to record on the fast path."""
        return nullcontext()


class NUMPY_NS(RawArrays):  # noqa: N801 - a namespace, named like a constant
    """The namespace rules see on the fast path: raw NumPy arrays in and out."""

    exp = staticmethod(np.exp)
    log = staticmethod(np.log)
    sin = staticmethod(np.sin)
    cos = staticmethod(np.cos)
    sqrt = staticmethod(np.sqrt)
    sign = staticmethod(np.sign)
    matmul = staticmethod(np.matmul)
    reshape = staticmethod(np.reshape)
    broadcast_to = staticmethod(np.broadcast_to)
    expand_dims = staticmethod(np.expand_dims)
    transpose = staticmethod(np.transpose)
    swapaxes = staticmethod(np.swapaxes)
    power = staticmethod(np.power)
    maximum = staticmethod(np.maximum)
    concatenate = staticmethod(np.concatenate)

    @staticmethod
    def apply(prim: Primitive, args: tuple, params: dict):
        """Evaluate a primitive's value on raw arrays."""
        return prim.fn(*args, **params)

    @staticmethod
    def stack(xs, axis=0):
        return np.stack(xs, axis=axis)

    @staticmethod
    def where(cond, a, b):
        return np.where(cond, a, b)

    @staticmethod
    def select(mask, g):
        """``where(mask, g, 0)``: ``g`` where ``mask``, exactly 0 elsewhere even if ``g`` is ±∞/NaN
        there.  Multiplies by the mask (np.where is ~10× slower on a random mask) and selects
        only when the product shows a 0·∞."""
        out = g * mask
        if not np.isfinite(out).all():
            out = np.where(mask, g, 0)
        return out

    @staticmethod
    def sum(x, axis=None, keepdims=False):
        return np.sum(x, axis=axis, keepdims=keepdims)

    @staticmethod
    def getitem(x, index):
        return x[index]

    @staticmethod
    def zeros(shape, dtype, like=None):
        return np.zeros(shape, dtype=dtype)

    @staticmethod
    def astype(x, dtype):
        return np.asarray(x).astype(dtype, copy=False)


class ArrayRules(RawArrays):
    """The namespace rules see on the fast path for raw arrays of another library (CuPy, any array
    API one): :class:`NUMPY_NS`'s names, each a row's value or a NumPy-named function resolved
    through the adapter (:mod:`nablagrad.backend.namespace`) — the same rules on every library."""

    def __init__(self, ns: ArrayAPINamespace, device: Device):
        self.ns, self.device = ns, device

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        entry = TABLE.get(name)
        f = self.ns.forward(entry.prim.fn) if entry is not None and entry.prim is not None else getattr(self.ns, name)
        setattr(self, name, f)
        return f

    def apply(self, prim: Primitive, args: tuple, params: dict):
        """Evaluate a primitive's value on raw arrays of this library."""
        return self.ns.forward(prim.fn)(*args, **params)

    def select(self, mask, g):
        """``where(mask, g, 0)``: exactly 0 where the mask is off, even if ``g`` is ±∞/NaN there."""
        return self.ns.where(mask, g, 0.0)

    def zeros(self, shape, dtype, like=None):
        return self.ns.zeros(shape, dtype, device=self.device.native)

    def getitem(self, x, index):
        return self.ns.getitem(x, index)


_RULES: dict[tuple, ArrayRules] = {}


def rules_for(data):
    """The rule namespace for raw arrays like ``data``: :class:`NUMPY_NS` for NumPy, else an
    :class:`ArrayRules` for its library and device."""
    ns = namespace_of(data)
    if ns is NUMPY:
        return NUMPY_NS
    dev = device_of(data)
    key = (id(ns), str(dev))
    F = _RULES.get(key)
    if F is None:
        F = _RULES[key] = ArrayRules(ns, dev)
    return F
