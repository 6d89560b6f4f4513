"""The rule table: every primitive of the engine — forward value, VJP (reverse) and JVP
(forward) side by side — and, through :func:`row`, the public op generated from it
(``ng.<name>`` and the ``Tensor`` method; see :mod:`.ops`).  A new op is one statement here.

Elementwise unary functions are declared by their local derivative ``f'(x)`` alone: the VJP
is ``g · f'(x)`` and the JVP ``ẋ · f'(x)`` (lecture 000: ``ẇ_4 = cos w_1 · ẇ_1``).  ``ans`` is
the op's output, which several derivatives reuse (``σ' = σ(1 − σ)``, ``tanh' = 1 − tanh²``).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..backend import get_default_dtype
from ..backend.device import device_of, to_device
from ..backend.dtypes import CATEGORY, wrap_int
from ..backend.namespace import NUMPY, namespace_of
from .errors import InputError
from .primitive import (
    ANS,
    Primitive,
    _unindex,
    batch_reduce,
    index_update_np,
    linear,
    logical_shape,
    logsumexp_np,
    pad_batched,
    quiet,
    row,
    shift_axes,
    squeeze_reduced,
    stable_sigmoid,
    sum_to,
)


def _unary(name: str, fn, deriv, fmt: str, doc: str, floats: bool = True, reads: str | None = None) -> Primitive:
    """An elementwise op from its value ``fn`` and local derivative ``deriv(F, ans, x)``; a row
    of the table (``ng.name(x)`` and ``x.name()``).  ``reads``: what ``deriv`` reads, ``"x"`` or
    ``"ans"`` (PyTorch's "saved for backward"; None: both)."""
    prim = Primitive(
        name,
        fn,
        vjps=(lambda F, g, ans, x: g * deriv(F, ans, x),),
        jvps=(lambda F, t, ans, x: t * deriv(F, ans, x),),
        fmt=fmt,
        reads=(({"x": 0, "ans": ANS}[reads],),) if reads is not None else None,
    )
    return row(name, prim, "unary", doc, floats=floats)


def _dtype_of(x):
    return x.dtype if hasattr(x, "dtype") else np.result_type(x)


# --- elementwise unary -----------------------------------------------------------------------
NEG = row(
    "neg",
    Primitive("neg", np.negative, (lambda F, g, ans, x: -g,), (lambda F, t, ans, x: -t,), fmt="-{0}", reads=()),
    "unary",
    "−x; derivative −1.",
    dunder="neg",
    floats=False,
)
EXP = _unary("exp", np.exp, lambda F, ans, x: ans, "exp({0})", "eˣ; derivative eˣ.", reads="ans")
LOG = _unary("log", quiet(np.log), lambda F, ans, x: 1.0 / x, "log({0})", "ln x; derivative 1/x.", reads="x")
SQRT = _unary("sqrt", np.sqrt, lambda F, ans, x: 0.5 / ans, "sqrt({0})", "√x; derivative 1/(2√x).", reads="ans")
SIN = _unary("sin", np.sin, lambda F, ans, x: F.cos(x), "sin({0})", "sin x; derivative cos x.", reads="x")
COS = _unary("cos", np.cos, lambda F, ans, x: -F.sin(x), "cos({0})", "cos x; derivative −sin x.", reads="x")
TANH = _unary(
    "tanh",
    np.tanh,
    lambda F, ans, x: 1.0 - ans * ans,
    "tanh({0})",
    "tanh x; derivative 1 − tanh² x (lecture 001).",
    reads="ans",
)
SIGMOID = _unary(
    "sigmoid",
    stable_sigmoid,
    lambda F, ans, x: ans * (1.0 - ans),
    "sigmoid({0})",
    "σ(x) = 1/(1 + e^{−x}), computed without overflow; derivative σ(1 − σ) (lecture 000).",
    reads="ans",
)


def _select(name: str, fn, keep, fmt: str, on_output: bool = False) -> Primitive:
    """A piecewise-linear primitive whose derivative is 1 where ``keep(x)`` and 0 elsewhere.

    The rules *select* (``F.select(keep, g)`` = ``where(keep, g, 0)``) rather than multiply by
    a 0/1 mask, so an infinite upstream gradient at a dropped point gives 0, not 0·∞ = NaN —
    as PyTorch's ``threshold_backward`` and ``clamp_backward`` do (``sqrt(relu(x))``, x < 0).
    ``on_output``: the VJP tests the output instead (relu: ``relu(x) > 0`` where ``x > 0``), so
    it saves the output, as PyTorch's relu does.
    """
    if on_output:
        vjp = lambda F, g, ans, x, **p: F.select(keep(F.data(ans), **p), g)  # noqa: E731
    else:
        vjp = lambda F, g, ans, x, **p: F.select(keep(F.data(x), **p), g)  # noqa: E731
    return Primitive(
        name,
        fn,
        (vjp,),
        (lambda F, t, ans, x, **p: F.select(keep(F.data(x), **p), t),),
        fmt=fmt,
        reads=((ANS if on_output else 0,),),
    )


def _relu_passes(x):
    """Where ReLU passes the gradient: ``not x ≤ 0`` — x > 0, and NaN too (PyTorch's ``threshold_backward``
    zeroes only where ``x ≤ 0``, so a NaN input passes its gradient on, as torch.relu's does)."""
    return ~(x <= 0)


def _relu_value(x):
    """max(0, x), keeping −0.0 and NaN as PyTorch's (NumPy's maximum returns its second operand at a tie)."""
    return np.maximum(0, x) if x.__class__ is np.ndarray else namespace_of(x).maximum(x, 0)


# ReLU: the one-sided derivative, 0 at x = 0 (lecture 001), as in PyTorch.
RELU = row(
    "relu",
    _select("relu", _relu_value, _relu_passes, "relu({0})", on_output=True),
    "unary",
    "max(0, x); derivative 1 for x > 0 and 0 for x ≤ 0 (one-sided at 0, lecture 001), 1 at NaN (PyTorch's).",
    floats=False,
)
# |x|: derivative sign x, 0 at the kink; selected, so an infinite upstream gives 0 there.
ABS = row(
    "abs",
    Primitive(
        "abs",
        np.abs,
        (lambda F, g, ans, x: F.select(F.data(x) > 0, g) - F.select(F.data(x) < 0, g),),
        (lambda F, t, ans, x: F.select(F.data(x) > 0, t) - F.select(F.data(x) < 0, t),),
        fmt="|{0}|",
        reads=((0,),),
    ),
    "unary",
    "|x|; derivative sign x (0 at 0).",
    dunder="abs",
    floats=False,
)


def _clip_fn(x, lo=None, hi=None):
    return namespace_of(x).clip(x, lo, hi)


def _inside(x, lo=None, hi=None):
    """Where clip passes x through (bounds included, as torch.clamp); at least one bound is given."""
    if lo is None:
        return x <= hi
    if hi is None:
        return x >= lo
    return (x >= lo) & (x <= hi)


CLIP = _select("clip", _clip_fn, _inside, "clip({0})")


def _clone_value(x, order: str = "K"):
    """A copy of ``x`` in new memory: its layout kept (``"K"``, as PyTorch's ``clone``) or C order
    (``"C"``, for ``contiguous``)."""
    xp = namespace_of(x)
    if isinstance(x, np.ndarray):
        return np.array(x, order=order, copy=True)
    return xp.asarray(x, copy=True)


# PyTorch's clone: the values in new memory, the gradient passed through unchanged.
CLONE = row(
    "clone",
    linear("clone", _clone_value, lambda F, g, ans, x, **p: g, fmt="clone({0})"),
    "unary",
    "A copy in new memory (PyTorch's ``clone``); derivative 1: the gradient flows back to the original.",
    floats=False,
)

def _integral(dtype) -> bool:
    """Whether a cast to ``dtype`` leaves the reals: integers and bools have no derivative."""
    return np.dtype(dtype).kind in "biu"


# a cast; to integers or bools the derivative is 0 (PyTorch cuts the graph there, JAX's tangent is float0),
# not the 1 a float-to-float cast has: x.long().float() is a step function of x
ASTYPE = Primitive(
    "astype",
    lambda x, dtype: namespace_of(x).astype(x, dtype),
    (lambda F, g, ans, x, dtype: None if _integral(dtype) else F.astype(g, _dtype_of(x)),),
    (lambda F, t, ans, x, dtype: None if _integral(dtype) else F.astype(t, dtype),),
    fmt="{0}",
    reads=(),
)

def _to_device_vjp(F, g, ans, x, device):
    """The adjoint of a copy between devices is the copy back."""
    return F.apply(TO_DEVICE, (g,), {"device": device_of(F.data(x))})


# a copy to another device (Tensor.to): linear; the gradient is copied back to where x lives
TO_DEVICE = linear("to_device", lambda x, device: to_device(x, device), _to_device_vjp, "{0}.to(device)")

IDENTITY = Primitive("identity", lambda x: x, (lambda F, g, ans, x: g,), (lambda F, t, ans, x: t,), fmt="{0}", reads=())

# --- elementwise binary ------------------------------------------------------------------------
ADD = row(
    "add",
    Primitive(
        "add",
        np.add,
        (lambda F, g, ans, x, y: g, lambda F, g, ans, x, y: g),
        (lambda F, t, ans, x, y: t, lambda F, t, ans, x, y: t),
        fmt="{0} + {1}",
        reads=(),
    ),
    "binary",
    "x + y; PyTorch's ``alpha=`` gives x + alpha·y.",
    dunder="add",
    extra=(("alpha", 1),),
)
_BOOL = np.dtype(bool)


def _no_bool_sub(x, y) -> None:
    """PyTorch refuses a bool operand (a tensor or a Python bool) of a subtraction; NumPy refuses two only."""
    if x.__class__ is bool or y.__class__ is bool or getattr(x, "dtype", None) is _BOOL or getattr(y, "dtype", None) is _BOOL:
        raise TypeError(
            "sub: subtraction (the - operator) with a bool operand is not supported (as PyTorch); to invert a mask "
            "use ~ or ng.logical_not, for a count convert first, e.g. x.long() - y"
        )


SUB = row(
    "sub",
    Primitive(
        "sub",
        np.subtract,
        (lambda F, g, ans, x, y: g, lambda F, g, ans, x, y: -g),
        (lambda F, t, ans, x, y: t, lambda F, t, ans, x, y: -t),
        fmt="{0} - {1}",
        reads=(),
    ),
    "binary",
    "x − y; PyTorch's ``alpha=`` gives x − alpha·y.",
    dunder="sub",
    check=_no_bool_sub,
    extra=(("alpha", 1),),
)
MUL = row(
    "mul",
    Primitive(
        "mul",
        np.multiply,
        (lambda F, g, ans, x, y: g * y, lambda F, g, ans, x, y: g * x),
        (lambda F, t, ans, x, y: t * y, lambda F, t, ans, x, y: x * t),
        fmt="{0} * {1}",
        reads=((1,), (0,)),
    ),
    "binary",
    "x · y.",
    dunder="mul",
)
DIV = row(
    "div",
    Primitive(
        "div",
        np.true_divide,
        (lambda F, g, ans, x, y: g / y, lambda F, g, ans, x, y: -g * ans / y),
        (lambda F, t, ans, x, y: t / y, lambda F, t, ans, x, y: -t * ans / y),
        fmt="{0} / {1}",
        reads=((1,), (ANS, 1)),
    ),
    "binary",
    "x / y (integers divide in the default float dtype, as PyTorch's true division); PyTorch's "
    "``rounding_mode=\"trunc\"`` or ``\"floor\"`` rounds the quotient (integers stay integers; derivative 0).",
    dunder="truediv",
    floats=True,
    extra=(("rounding_mode", None),),
)


def _log_base(F, x):
    """ln x for the pow rule's exponent derivative: −∞ at x = 0 (without NumPy's divide-by-zero warning)."""
    if not hasattr(x, "shape"):
        return math.log(x) if x > 0 else (-math.inf if x == 0 else math.nan)
    zero = F.data(x) == 0
    return F.where(zero, -math.inf, F.log(F.where(zero, 1.0, x)))


def _pow_dy(F, g, ans, x, y):
    """``g · xʸ ln x``, and 0 where x = 0 and y ≥ 0 (xʸ is the constant 0 or 1 there); at x = 0, y < 0
    it is ``g · ∞ · (−∞)`` = −∞ for g > 0 — PyTorch's ``pow_backward_exponent``."""
    log_x = _log_base(F, x)
    if not hasattr(x, "shape") and x != 0:  # a nonzero constant base: no point is flat in y
        return g * ans * log_x
    with np.errstate(invalid="ignore"):  # 0 · (−∞) at the flat points, where the select puts 0
        return F.select(~((F.data(x) == 0) & (F.data(y) >= 0)), g * ans * log_x)


def _pow_dx(F, g, x, y):
    """``g · y · x^(y−1)``, and 0 where ``y = 0`` (x⁰ = 1 is constant, even at x = 0; PyTorch)."""
    if isinstance(y, int | float):  # a constant Python exponent keeps its weak type (no upcast)
        return g * (y * F.power(x, y - 1)) if y != 0 else g * 0.0
    return F.select(F.data(y) != 0, g * (y * F.power(x, y - 1)))


_PLAIN = (np.ndarray, int, float)
_PLAIN_BITS = (np.ndarray, int, bool)


def foreign(fn: Callable, args) -> Callable:
    """``fn`` (a NumPy function) for the library of the first operand that is another library's array (a primitive's
    value written in Python around a NumPy function runs there, as :meth:`forward` runs the function itself)."""
    for a in args:
        if hasattr(a, "shape") and a.__class__ is not np.ndarray and not isinstance(a, np.generic):
            xp = namespace_of(a)
            if xp is not NUMPY:
                return xp.forward(fn)
    return fn


def _power(x, y):
    """xʸ (``np.power``) with PyTorch's rules for integers to negative integer powers, which NumPy refuses: a Python
    number as the exponent is refused (:class:`InputError`, PyTorch's ``RuntimeError``); a tensor exponent gives
    PyTorch's integer result, ``1/xⁿ`` truncated (1 for x = 1, ±1 for x = −1, else 0; on NumPy: another library
    refuses it too).  Checked only once the library has refused, so the common call costs nothing."""
    fn = np.power
    if x.__class__ is not np.ndarray or y.__class__ not in _PLAIN:  # maybe another library's arrays: its own pow
        fn = foreign(np.power, (x, y))
    try:
        return fn(x, y)
    except ValueError:
        if not (_kind(x) in "iub" and _kind(y) in "iub"):
            raise
        if fn is not np.power or not isinstance(y, np.ndarray):
            shown = y if not hasattr(y, "shape") else f"a tensor of shape {tuple(y.shape)} holding negative values"
            raise _negative_power(shown) from None
        negative = y < 0
        out = np.power(x, np.where(negative, 0, y).astype(y.dtype))
        inverse = np.where(x == 1, 1, np.where(x == -1, np.where(y % 2 == 0, 1, -1), 0))
        return np.where(negative, inverse, out).astype(out.dtype)


def _negative_power(shown) -> InputError:
    return InputError(
        f"pow: Integers to negative integer powers are not allowed (PyTorch refuses them too), got the exponent "
        f"{shown}; convert the base to floats first, e.g. x.float() ** y"
    )


def _pow_check(x, y) -> None:
    """An int exponent of an integer base is refused when negative or out of the base's dtype, as PyTorch (the
    number is not wrapped into the dtype, as it is for the other ops: uint8 ** −2 would be uint8 ** 254).  A NumPy
    integer scalar is such a number too (:func:`.ops._promote` reads it as one)."""
    dtype = getattr(x, "dtype", None)
    if (y.__class__ is int or isinstance(y, np.integer)) and isinstance(dtype, np.dtype) and dtype.kind in "iu" \
            and not isinstance(x, np.generic):  # fmt: skip
        y = int(y)
        if y < 0:
            raise _negative_power(y)
        if wrap_int(y, dtype) != y:
            raise InputError(f"pow: the exponent {y} does not fit the base's dtype {dtype} (PyTorch refuses it too); "
                             "convert the base first, e.g. x.long() ** y")  # fmt: skip


def _kind(v) -> str:
    """The NumPy kind of an operand's dtype (``"i"``, ``"f"`` …): an array of any library, or a number."""
    return namespace_of(v).numpy_dtype(v.dtype).kind if hasattr(v, "dtype") else np.asarray(v).dtype.kind


POW = row(
    "power",
    Primitive(
        "pow",
        _power,
        (lambda F, g, ans, x, y: _pow_dx(F, g, x, y), lambda F, g, ans, x, y: _pow_dy(F, g, ans, x, y)),
        (lambda F, t, ans, x, y: _pow_dx(F, t, x, y), lambda F, t, ans, x, y: _pow_dy(F, t, ans, x, y)),
        fmt="{0} ** {1}",
        reads=((0, 1), (ANS, 0)),
    ),
    "binary",
    "xʸ; ∂/∂x = y·x^{y−1} (0 where y = 0), ∂/∂y = xʸ ln x (at x = 0: 0 for y ≥ 0, −∞ for y < 0, as PyTorch).",
    dunder="pow",
    operands=("input", "exponent"),
    check=_pow_check,
)


def _split(F, g, a, b):
    """``g`` where a > b or the pair is unordered (a NaN: both operands get ``g``, as PyTorch's
    ``maximum_backward``), ``g/2`` at ties (PyTorch splits ties evenly), 0 where a < b — selected."""
    ad, bd = F.data(a), F.data(b)
    return F.select(~(ad <= bd), g) + F.select(ad == bd, g * 0.5)


def _pairwise(name: str, fn, fmt: str, doc: str, larger: bool) -> Primitive:
    """maximum (``larger``) or minimum: the gradient goes to the winner, half each at ties."""
    win = (lambda x, y: (x, y)) if larger else (lambda x, y: (y, x))
    return row(
        name,
        Primitive(
            name,
            fn,
            (lambda F, g, ans, x, y: _split(F, g, *win(x, y)), lambda F, g, ans, x, y: _split(F, g, *win(y, x))),
            (lambda F, t, ans, x, y: _split(F, t, *win(x, y)), lambda F, t, ans, x, y: _split(F, t, *win(y, x))),
            fmt=fmt,
            reads=((0, 1), (0, 1)),
        ),
        "binary",
        doc,
    )


MAXIMUM = _pairwise(
    "maximum",
    np.maximum,
    "max({0}, {1})",
    "Elementwise max; at ties the gradient is split evenly between x and y (as PyTorch).",
    True,
)
MINIMUM = _pairwise(
    "minimum",
    np.minimum,
    "min({0}, {1})",
    "Elementwise min; at ties the gradient is split evenly between x and y (as PyTorch).",
    False,
)

WHERE = Primitive(
    "where",
    np.where,
    (
        None,
        lambda F, g, ans, c, x, y: F.select(F.data(c), g),
        lambda F, g, ans, c, x, y: F.select(~F.data(c), g),
    ),
    (
        None,
        lambda F, t, ans, c, x, y: F.select(F.data(c), t),
        lambda F, t, ans, c, x, y: F.select(~F.data(c), t),
    ),
    fmt="where({0}, {1}, {2})",
    reads=((), (0,), (0,)),
)


# --- reductions --------------------------------------------------------------------------------
def _norm_axis(axis, ndim):
    if axis is None or not ndim:  # a 0-d tensor's dim 0 / -1 is the tensor itself: no axis
        return tuple(range(ndim))
    axes = axis if isinstance(axis, tuple) else (axis,)
    return tuple(sorted(a % ndim for a in axes))


def _keep(F, g, x, axis, keepdims):
    """Put back the reduced axes of ``g`` as size-1 axes, so it broadcasts against ``x``."""
    return _keep_to(F, g, x.shape, axis, keepdims)


def _keep_to(F, g, shape, axis, keepdims):
    """``g`` reduced over ``axis`` of ``shape``, with the reduced axes put back as size-1 axes."""
    if keepdims:
        return g
    shape = list(shape)
    for a in _norm_axis(axis, len(shape)):
        shape[a] = 1
    return F.reshape(g, tuple(shape))


def _count(x, axis):
    shape = x.shape
    return int(np.prod([shape[a] for a in _norm_axis(axis, len(shape))], dtype=np.int64))


SUM = row(
    "sum",
    linear(
        "sum",
        lambda x, axis=None, keepdims=False: namespace_of(x).sum(x, axis=axis, keepdims=keepdims),
        lambda F, g, ans, x, axis=None, keepdims=False: F.broadcast_to(_keep(F, g, x, axis, keepdims), x.shape),
        fmt="sum({0})",
    ),
    "reduce",
    "Σ over ``axis`` (all axes when None).",
)


def floating_only(name: str, x) -> None:
    """Refuse an integer or bool ``x`` for ``mean``/``std``/``var``, as PyTorch does: their result is not an
    integer (NumPy would answer in float64, PyTorch in neither), so the float dtype is the caller's to choose."""
    if x.dtype.kind in "iub":
        other = f" or {name}(x, dtype=np.float32)" if name == "mean" else ""
        raise TypeError(
            f"{name}: the tensor is {x.dtype}, whose {name} is not an integer (PyTorch refuses it too); "
            f"convert it first: x.float().{name}(){other}"
        )


MEAN = row(
    "mean",
    linear(
        "mean",
        lambda x, axis=None, keepdims=False: namespace_of(x).mean(x, axis=axis, keepdims=keepdims),
        lambda F, g, ans, x, axis=None, keepdims=False: F.broadcast_to(_keep(F, g, x, axis, keepdims) / _count(x, axis), x.shape),
        fmt="mean({0})",
    ),
    "reduce",
    "Arithmetic mean Σx/n over ``axis``; gradient 1/n to each entry.  ``dtype`` (PyTorch's): the input is cast to "
    "it first.  Integers and bools are refused, as PyTorch refuses them (their mean is not an integer): "
    "``x.float().mean()`` or ``mean(x, dtype=np.float32)``.",
    check=lambda x: floating_only("mean", x),
)


def _extreme_weights(F, ans, x, axis, keepdims):
    """Where x attains its max/min: 1/(number of ties), so the gradient splits evenly (torch.amax).  A NaN
    max/min is attained at the NaNs (x ≠ x), which share it (torch.max's), not at no entry (0/0 = NaN)."""
    xd = F.data(x)
    xp = namespace_of(xd)
    m = _keep(xp, F.data(ans), xd, axis, keepdims)
    w = xp.astype((xd == m) | ((xd != xd) & (m != m)), _dtype_of(x))
    return w / xp.sum(w, axis=_norm_axis(axis, w.ndim), keepdims=True)


def _extreme(name, fn):
    return Primitive(
        name,
        lambda x, axis=None, keepdims=False: namespace_of(x).forward(fn)(x, axis=axis, keepdims=keepdims),
        (
            lambda F, g, ans, x, axis=None, keepdims=False: (
                _keep(F, g, x, axis, keepdims) * _extreme_weights(F, ans, x, axis, keepdims)
            ),
        ),
        (
            lambda F, t, ans, x, axis=None, keepdims=False: F.sum(
                t * _extreme_weights(F, ans, x, axis, keepdims), axis=axis, keepdims=keepdims
            ),
        ),
        fmt=name + "({0})",
        batch=batch_reduce,
        reads=((0, ANS),),
    )


# the values of max/min over ``axis`` (torch.amax/amin); their rows — ``ng.max`` with NumPy's and
# PyTorch's spellings, and ``amax`` — are in rules_reduce.py and rules_math.py
MAX = _extreme("max", np.max)
MIN = _extreme("min", np.min)


def _softmax_np(x, axis=-1):
    """``e^{x−m} / Σ e^{x−m}``, m = max x; an empty tensor gives an empty result (PyTorch's; the max has no value)."""
    xp = namespace_of(x)
    if 0 in x.shape:
        return xp.zeros_like(x)
    e = xp.exp(x - xp.max(x, axis=axis, keepdims=True))
    return e / xp.sum(e, axis=axis, keepdims=True)


def _log_softmax_np(x, axis=-1):
    """``(x − m) − log Σ e^{x−m}``: subtracting m first keeps float32 exact at logits ~1e4.  An empty
    tensor gives an empty result (PyTorch's; the max has no value)."""
    xp = namespace_of(x)
    if 0 in x.shape:
        return xp.zeros_like(x)
    shifted = x - xp.max(x, axis=axis, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))


def dof(n: int, correction) -> int:
    """The degrees of freedom ``max(n − correction, 0)`` (PyTorch's): at 0 — one sample with Bessel's
    correction — Σ(x − x̄)²/0 is nan (or inf), as PyTorch's var and std (which warn: see :func:`.ops.var`)."""
    return max(n - correction, 0)


def _std_np(x, axis=None, keepdims=False, correction=1):
    xp = namespace_of(x)
    mean = xp.mean(x, axis=axis, keepdims=True)
    d = x - mean
    n = _count(x, axis)
    with np.errstate(divide="ignore", invalid="ignore"):  # 0 degrees of freedom: nan/inf, warned once by ops.std
        return xp.sqrt(xp.sum(d * d, axis=axis, keepdims=keepdims) / dof(n, correction))


def _std_scale(F, ans, x, axis, keepdims, correction):
    """``(x − x̄) / (σ (n − c))`` = ∂σ/∂x, and 0 where σ = 0 (a constant row; PyTorch's choice).  With 0
    degrees of freedom σ is nan or ∞ and so is this (nan: PyTorch's ∞·0)."""
    s = _keep(F, ans, x, axis, keepdims)
    n = _count(x, axis)
    centred = x - F.sum(x, axis=_norm_axis(axis, len(x.shape)), keepdims=True) / n
    safe = F.where(F.data(s) == 0, 1.0, s)
    return F.where(F.data(s) == 0, 0.0, centred / (safe * dof(n, correction)))


# σ = sqrt(Σ(x − x̄)²/(n − c)), one primitive so that σ = 0 gives a 0 gradient, not 0·∞; its row,
# ``ng.std`` with PyTorch's ``(dim, unbiased, keepdim)`` and NumPy's names, is in ops.py beside ``var``
STD = Primitive(
    "std",
    _std_np,
    (
        lambda F, g, ans, x, axis=None, keepdims=False, correction=1: (
            _keep(F, g, x, axis, keepdims) * _std_scale(F, ans, x, axis, keepdims, correction)
        ),
    ),
    (
        lambda F, t, ans, x, axis=None, keepdims=False, correction=1: F.sum(
            t * _std_scale(F, ans, x, axis, keepdims, correction), axis=axis, keepdims=keepdims
        ),
    ),
    fmt="std({0})",
    batch=batch_reduce,
    reads=((0, ANS),),
)


def _var_np(x, axis=None, keepdims=False, correction=1):
    xp = namespace_of(x)
    d = x - xp.mean(x, axis=axis, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):  # 0 degrees of freedom: nan/inf, warned once by ops.var
        return xp.sum(d * d, axis=axis, keepdims=keepdims) / dof(_count(x, axis), correction)


def _var_scale(F, x, axis, correction):
    """∂σ²/∂x = 2(x − x̄)/(n − c), written in ``F``'s ops so that it differentiates again (the Hessian
    2(δᵢⱼ − 1/n)/(n − c)); with 0 degrees of freedom ±∞, and nan where x = x̄, as PyTorch's."""
    n = _count(x, axis)
    centred = x - F.sum(x, axis=_norm_axis(axis, len(x.shape)), keepdims=True) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        return centred * 2.0 / dof(n, correction)


# σ² = Σ(x − x̄)²/(n − c), one primitive (PyTorch's closed-form gradient 2(x − x̄)/(n − c): with 0 degrees of
# freedom the composite's mean path would add ∞ − ∞ = nan everywhere); ``ng.var`` is in ops.py beside ``std``
VAR = Primitive(
    "var",
    _var_np,
    (
        lambda F, g, ans, x, axis=None, keepdims=False, correction=1: (
            _keep(F, g, x, axis, keepdims) * _var_scale(F, x, axis, correction)
        ),
    ),
    (
        lambda F, t, ans, x, axis=None, keepdims=False, correction=1: F.sum(
            t * _var_scale(F, x, axis, correction), axis=axis, keepdims=keepdims
        ),
    ),
    fmt="var({0})",
    batch=batch_reduce,
    reads=((0,),),
)


def _empty_is_minus_inf(value: Callable) -> Callable:
    """A log-sum-exp whose reduced axes may be empty: there Σ eˣ = 0 and the result is −∞, as
    PyTorch's (the max that keeps it stable has no value there; NumPy raises)."""

    def f(x, *rest, axis=None, keepdims=False):
        try:
            return value(x, *rest, axis=axis, keepdims=keepdims)
        except ValueError:
            if 0 not in x.shape:
                raise
            xp = namespace_of(x)
            if rest:
                x, _ = xp.broadcast_arrays(x, rest[0])
            return xp.sum(x, axis=axis, keepdims=keepdims) - math.inf  # the reduced shape, −∞ (no log(0) warning)

    f.__name__, f.__doc__ = value.__name__, value.__doc__
    return f


# log Σ eˣ (the public ``logsumexp`` with its ``b=`` weights is in rules_reduce.py)
LOGSUMEXP = Primitive(
    "logsumexp",
    _empty_is_minus_inf(logsumexp_np),
    # ∂/∂x log Σ e^x = softmax(x) = e^{x − lse}
    (
        lambda F, g, ans, x, axis=None, keepdims=False: (
            _keep(F, g, x, axis, keepdims) * F.exp(x - _keep(F, ans, x, axis, keepdims))
        ),
    ),
    (
        lambda F, t, ans, x, axis=None, keepdims=False: F.sum(
            t * F.exp(x - _keep(F, ans, x, axis, keepdims)), axis=axis, keepdims=keepdims
        ),
    ),
    fmt="logsumexp({0})",
    batch=batch_reduce,
    reads=((0, ANS),),
)


def _logsumexp_b_np(x, b, axis=None, keepdims=False):
    """log Σ b eˣ = m + log Σ b e^{x−m}, m = max x, over ``axis`` of the broadcast of x and b."""
    xp = namespace_of(x)
    x, b = xp.broadcast_arrays(x, b)
    m = xp.max(x, axis=axis, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0.0)
    out = xp.log(xp.sum(b * xp.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else squeeze_reduced(xp, out, axis)


def _lse_weights(F, ans, x, b, axis, keepdims):
    """e^{x − lse} (the weight of each term, ∂lse/∂b), at the broadcast shape of x and b."""
    shape = np.broadcast_shapes(np.shape(x), np.shape(b))
    if np.shape(x) != shape:
        x = F.broadcast_to(x, shape)
    return F.exp(x - _keep_to(F, ans, shape, axis, keepdims))


def _batch_logsumexp_b(F, prim, args, batched, params):
    """vmap: x and b padded to a common per-example rank, the reduced axes shifted past the batch."""
    ndim = max(len(logical_shape(a, k)) for a, k in zip(args, batched))
    padded = tuple(pad_batched(F, a, ndim) if k else a for a, k in zip(args, batched))
    return F.apply(prim, padded, {**params, "axis": shift_axes(params.get("axis"), ndim)})


# log Σ b eˣ: ∂/∂x = b e^{x − lse}, ∂/∂b = e^{x − lse} (the tape walk sums each back to its shape)
LOGSUMEXP_B = Primitive(
    "logsumexp",
    _empty_is_minus_inf(_logsumexp_b_np),
    (
        lambda F, g, ans, x, b, axis=None, keepdims=False: (
            _keep_to(F, g, np.broadcast_shapes(np.shape(x), np.shape(b)), axis, keepdims)
            * b
            * _lse_weights(F, ans, x, b, axis, keepdims)
        ),
        lambda F, g, ans, x, b, axis=None, keepdims=False: (
            _keep_to(F, g, np.broadcast_shapes(np.shape(x), np.shape(b)), axis, keepdims)
            * _lse_weights(F, ans, x, b, axis, keepdims)
        ),
    ),
    (
        lambda F, t, ans, x, b, axis=None, keepdims=False: F.sum(
            t * b * _lse_weights(F, ans, x, b, axis, keepdims), axis=axis, keepdims=keepdims
        ),
        lambda F, t, ans, x, b, axis=None, keepdims=False: F.sum(
            t * _lse_weights(F, ans, x, b, axis, keepdims), axis=axis, keepdims=keepdims
        ),
    ),
    fmt="logsumexp({0}, b={1})",
    batch=_batch_logsumexp_b,
    reads=((0, 1, ANS), (0, 1, ANS)),
)
# softmax's Jacobian diag(s) − s sᵀ is symmetric, so its VJP and JVP have the same form.
SOFTMAX = row(
    "softmax",
    Primitive(
        "softmax",
        _softmax_np,
        (lambda F, g, ans, x, axis=-1: ans * (g - F.sum(g * ans, axis=axis, keepdims=True)),),
        (lambda F, t, ans, x, axis=-1: ans * (t - F.sum(t * ans, axis=axis, keepdims=True)),),
        fmt="softmax({0})",
        reads=((ANS,),),
    ),
    "axis",
    "softmax(x)_i = e^{x_i} / Σ_j e^{x_j}; Jacobian diag(s) − s sᵀ (lecture 000).",
)
LOG_SOFTMAX = row(
    "log_softmax",
    Primitive(
        "log_softmax",
        _log_softmax_np,
        (lambda F, g, ans, x, axis=-1: g - F.exp(ans) * F.sum(g, axis=axis, keepdims=True),),
        (lambda F, t, ans, x, axis=-1: t - F.sum(F.exp(ans) * t, axis=axis, keepdims=True),),
        fmt="log_softmax({0})",
        reads=((ANS,),),
    ),
    "axis",
    "log softmax(x) = (x − m) − log Σ e^{x−m}: never takes the log of an underflowed 0.",
)

# --- shape ops (all linear: the JVP applies the op itself to the tangent) ----------------------
RESHAPE = linear(
    "reshape",
    lambda x, shape: namespace_of(x).reshape(x, shape),
    lambda F, g, ans, x, shape: F.reshape(g, x.shape),
    "reshape({0})",
)


def _inverse_axes(axes, ndim):
    if axes is None:
        return None
    return tuple(int(i) for i in np.argsort([a % ndim for a in axes]))


TRANSPOSE = linear(
    "transpose",
    lambda x, axes=None: namespace_of(x).transpose(x, axes),
    lambda F, g, ans, x, axes=None: F.transpose(g, _inverse_axes(axes, len(x.shape))),
    "transpose({0})",
)
BROADCAST_TO = linear(
    "broadcast_to",
    lambda x, shape: namespace_of(x).broadcast_to(x, shape),
    lambda F, g, ans, x, shape: F.sum_to(g, x.shape),
    "broadcast({0})",
)
SUM_TO = linear("sum_to", sum_to, lambda F, g, ans, x, shape: F.broadcast_to(g, x.shape), "sum_to({0})")
GETITEM = linear(
    "getitem",
    lambda x, index: namespace_of(x).getitem(x, index),
    lambda F, g, ans, x, index: F.unindex(g, index, x.shape),
    "{0}[…]",
)


# out = x with out[index] = v (JAX's x.at[index].set(v)); linear in (x, v) together.
INDEX_UPDATE = Primitive(
    "index_update",
    index_update_np,
    (
        lambda F, g, ans, x, v, index: F.index_update(g, 0.0, index),
        lambda F, g, ans, x, v, index: F.getitem(g, index),
    ),
    (
        lambda F, t, ans, x, v, index: F.index_update(t, 0.0, index),
        lambda F, t, ans, x, v, index: F.index_update(F.zeros(ans.shape, ans.dtype, like=F.data(ans)), t, index),
    ),
    fmt="{0}[…] = {1}",
    reads=(),
)
UNINDEX = linear("unindex", _unindex, lambda F, g, ans, x, index, shape: F.getitem(g, index), "scatter({0})")


# vmap batching rules of the shape ops: the per-example op, with the batch axis kept first (indexing's: rules_index)
def _batch_broadcast_to(F, prim, args, batched, params):
    shape = params["shape"]
    x = pad_batched(F, args[0], len(shape))
    return F.apply(prim, (x,), {"shape": x.shape[:1] + tuple(shape)})


def _batch_sum_to(F, prim, args, batched, params):
    (x,), shape = args, params["shape"]
    per = x.shape[1:]
    lead = len(per) - len(shape)
    axes = tuple(range(1, lead + 1)) + tuple(lead + 1 + i for i, n in enumerate(shape) if n == 1 and per[lead + i] != 1)
    return F.reshape(F.sum(x, axis=axes, keepdims=True), x.shape[:1] + tuple(shape))


def _batch_transpose(F, prim, args, batched, params):
    (x,), axes = args, params.get("axes")
    nd = len(x.shape) - 1
    moved = tuple(range(nd, 0, -1)) if axes is None else tuple(a % nd + 1 for a in axes)
    return F.apply(prim, (x,), {"axes": (0,) + moved})


RESHAPE.batch = lambda F, prim, args, batched, params: F.apply(prim, args, {"shape": args[0].shape[:1] + tuple(params["shape"])})
TRANSPOSE.batch = _batch_transpose
BROADCAST_TO.batch = _batch_broadcast_to
SUM_TO.batch = _batch_sum_to


class _Concatenate(Primitive):
    """concatenate(*xs, axis): the VJP slices ``g`` back into the pieces."""

    def vjp(self, F, g, ans, args, params, needs):
        axis = params.get("axis", 0)
        axis = axis % len(g.shape)
        out, start = [], 0
        for x, need in zip(args, needs):
            n = x.shape[axis]
            idx = (slice(None),) * axis + (slice(start, start + n),)
            out.append(F.getitem(g, idx) if need else None)
            start += n
        return out

    def jvp(self, F, tangents, ans, args, params):
        if all(t is None for t in tangents):
            return None
        like = F.data(ans)
        parts = [t if t is not None else F.zeros(np.shape(F.data(x)), ans.dtype, like=like) for t, x in zip(tangents, args)]
        return F.concatenate(parts, axis=params.get("axis", 0))


class _Stack(Primitive):
    """stack(*xs, axis): the VJP takes the i-th slice of ``g`` along ``axis``."""

    def vjp(self, F, g, ans, args, params, needs):
        axis = params.get("axis", 0) % len(g.shape)
        return [F.getitem(g, (slice(None),) * axis + (i,)) if need else None for i, need in enumerate(needs)]

    def jvp(self, F, tangents, ans, args, params):
        if all(t is None for t in tangents):
            return None
        like = F.data(ans)
        parts = [t if t is not None else F.zeros(np.shape(F.data(x)), ans.dtype, like=like) for t, x in zip(tangents, args)]
        return F.stack(parts, axis=params.get("axis", 0))


def _all_batched(F, args, batched):
    size = next(a.shape[0] for a, b in zip(args, batched) if b)
    return tuple(
        a if b else F.broadcast_to(F.reshape(a, (1,) + tuple(np.shape(a))), (size,) + tuple(np.shape(a)))
        for a, b in zip(args, batched)
    )


def _batch_join(extra: int):
    def rule(F, prim, args, batched, params):
        xs = _all_batched(F, args, batched)
        nd = len(xs[0].shape) - 1 + extra
        return F.apply(prim, xs, {**params, "axis": params.get("axis", 0) % nd + 1})

    return rule


CONCATENATE = _Concatenate(
    "concatenate", lambda *xs, axis=0: namespace_of(xs[0]).concatenate(xs, axis=axis), (), (), "concat(…)", reads=()
)
STACK = _Stack("stack", lambda *xs, axis=0: namespace_of(xs[0]).stack(xs, axis=axis), (), (), "stack(…)", reads=())
CONCATENATE.batch = _batch_join(0)
STACK.batch = _batch_join(1)


def integer_only(name: str, fn: Callable, symbol: str) -> Callable:
    """``fn`` (a bitwise NumPy ufunc), whose refusal of a float operand becomes a ``TypeError`` naming the op and
    the fix (PyTorch: "only implemented on integer and Boolean-type tensors"); checked only once NumPy has refused,
    so the common call costs nothing."""

    def f(*args):
        try:
            if args[0].__class__ is np.ndarray and args[-1].__class__ in _PLAIN_BITS:  # NumPy's (the common case)
                return fn(*args)
            return foreign(fn, args)(*args)
        except TypeError:
            raise integer_error(name, symbol, args) from None

    f.__name__ = f.__qualname__ = fn.__name__
    return f


def integer_error(name: str, symbol: str, args) -> TypeError:
    """The refusal of a bitwise op's float operands, naming the op, the dtypes and the fix."""
    kinds = " and ".join(str(getattr(a, "dtype", type(a).__name__)) for a in args)
    label = symbol if symbol.startswith(name) else f"{name} ({symbol})"
    return TypeError(
        f"{label}: only implemented on integer and Boolean tensors (as PyTorch's), got {kinds}; "
        "convert the operands first, e.g. x.long() or x.bool(), or use a logical op (ng.logical_not, "
        "ng.logical_and) for truth values"
    )


def _cast(a, dtype: np.dtype, to: np.dtype):
    """``a`` (an array of any library, of NumPy dtype ``dtype``) in the NumPy dtype ``to``."""
    return a if dtype == to else namespace_of(a).astype(a, to)


def torch_operands(x, y) -> tuple:
    """The raw operands of a comparison or bitwise op (two arrays of any library, or one and a number) in PyTorch's
    common dtype (``torch.result_type``), where the library's differs: a NumPy scalar is weak, as a Python number; a
    float number meets an integer array in the default float dtype; an int number wraps into an integer array's dtype
    (:func:`wrap_int`); a 0-d array with a dimensioned one is weak unless of a higher category (:data:`CATEGORY`);
    an integer array meets a float one in the float's dtype.  Another library's arrays (a CPU tensor's 0-d array
    joins them as a number) may also refuse to mix kinds that NumPy mixes as PyTorch does (``array_api_strict``:
    a bool with an int, a Python bool with a number): there a bool array meets an int one in the int's dtype and an
    int number in int64, and a Python bool beside a number is 0 or 1.  (The operators call the rule on the arrays,
    past :func:`.ops._promote`; under vmap a 0-d example is batched, so it promotes as a dimensioned one.)"""
    if isinstance(x, np.generic) and x.dtype.kind in "biuf":
        x = x.item()
    if isinstance(y, np.generic) and y.dtype.kind in "biuf":
        y = y.item()
    dx, dy = getattr(x, "dtype", None), getattr(y, "dtype", None)
    strict = False  # another library's array among the operands (NumPy's dtypes are read as they are)
    if dx is not None and not isinstance(dx, np.dtype):
        dx, strict = namespace_of(x).numpy_dtype(dx), True
    if dy is not None and not isinstance(dy, np.dtype):
        dy, strict = namespace_of(y).numpy_dtype(dy), True
    if dx is not None and dy is not None:
        if dx == dy:
            return x, y
        if (len(x.shape) == 0) != (len(y.shape) == 0):
            z, d = (dx, dy) if len(x.shape) == 0 else (dy, dx)
            common = z if CATEGORY[z.kind] > CATEGORY[d.kind] else d
        elif dx.kind == "f" and dy.kind in "iub":
            common = dx
        elif dy.kind == "f" and dx.kind in "iub":
            common = dy
        elif strict and dx.kind != dy.kind and "b" in (dx.kind, dy.kind):
            common = dy if dx.kind == "b" else dx
        else:
            return x, y  # the library's promotion is PyTorch's (uint8 with int8 is int16, …)
        return _cast(x, dx, common), _cast(y, dy, common)
    if (dx is None) == (dy is None):
        return x, y
    a, n, d = (x, y, dx) if dx is not None else (y, x, dy)
    kind = d.kind
    if strict and n.__class__ is bool and kind != "b":
        n = int(n)  # (True is 1 beside a number)
    if n.__class__ is float and kind in "iub":
        a = _cast(a, d, np.dtype(get_default_dtype()))
    elif n.__class__ is int and kind in "iu":
        n = wrap_int(n, d)
    elif strict and n.__class__ is int and kind == "b":
        a = _cast(a, d, np.dtype(np.int64))  # a bool array meets an int in int64
    return (a, n) if dx is not None else (n, a)


def _torch_typed(fn: Callable) -> Callable:
    """``fn(x, y)`` (a NumPy ufunc, run on the operands' library) on :func:`torch_operands` (its name kept:
    :mod:`.api` maps NumPy's ufuncs by it)."""

    def f(x, y):
        if x.__class__ is y.__class__ is np.ndarray and x.dtype is y.dtype:  # the common case, untouched
            return fn(x, y)
        x, y = torch_operands(x, y)
        return foreign(fn, (x, y))(x, y)

    f.__name__ = f.__qualname__ = fn.__name__
    return f


# comparisons and logic: values without derivatives (applied outside the tape); primitives so
# that vmap batches them like any elementwise op; computed in PyTorch's common dtype (float32 == 0-d float64
# compares in float32, int64 < 1.5 in the default float dtype)
COMPARISONS = {
    name: Primitive(name, fn, (None, None), (None, None), fmt="{0} " + sym + " {1}")
    for name, fn, sym in (
        ("lt", _torch_typed(np.less), "<"),
        ("le", _torch_typed(np.less_equal), "<="),
        ("gt", _torch_typed(np.greater), ">"),
        ("ge", _torch_typed(np.greater_equal), ">="),
        ("eq", _torch_typed(np.equal), "=="),
        ("ne", _torch_typed(np.not_equal), "!="),
        ("and", integer_only("bitwise_and", _torch_typed(np.bitwise_and), "&"), "&"),
        ("or", integer_only("bitwise_or", _torch_typed(np.bitwise_or), "|"), "|"),
        ("xor", integer_only("bitwise_xor", _torch_typed(np.bitwise_xor), "^"), "^"),
    )
}
INVERT = Primitive("invert", integer_only("bitwise_not", np.invert, "~"), (None,), (None,), fmt="~{0}")


# --- matmul ----------------------------------------------------------------------------------------
def _matmul_da(F, g, ans, a, b):
    """∂L/∂A = G Bᵀ (lecture 002: dL/dX = dL/dZ Wᵀ), with 1-D operands promoted and squeezed back."""
    an, bn = len(a.shape), len(b.shape)
    if an == 1 and bn == 1:
        return g * b
    if bn == 1:  # (..., n, m) @ (m,) -> (..., n)
        return F.expand_dims(g, -1) * b
    if an == 1:  # (n,) @ (..., n, m) -> (..., m)
        return F.sum_to(F.reshape(F.matmul(F.expand_dims(g, -2), F.swapaxes(b, -1, -2)), g.shape[:-1] + (a.shape[0],)), a.shape)
    return F.matmul(g, F.swapaxes(b, -1, -2))


def _matmul_db(F, g, ans, a, b):
    """∂L/∂B = Aᵀ G (lecture 002: dL/dW = Xᵀ dL/dZ)."""
    an, bn = len(a.shape), len(b.shape)
    if an == 1 and bn == 1:
        return g * a
    if an == 1:
        return F.expand_dims(a, -1) * F.expand_dims(g, -2)
    if bn == 1:
        gb = F.matmul(F.swapaxes(a, -1, -2), F.expand_dims(g, -1))
        return F.sum_to(F.reshape(gb, gb.shape[:-1]), b.shape)
    return F.matmul(F.swapaxes(a, -1, -2), g)


def _matmul_check(a, b) -> None:
    ash, bsh = np.shape(a), np.shape(b)
    if len(ash) == 0 or len(bsh) == 0:
        raise ValueError(f"matmul: operands must be at least 1-D, got shapes {ash} and {bsh}; use * for scalars")
    k_b = bsh[0] if len(bsh) == 1 else bsh[-2]
    if ash[-1] != k_b:
        raise ValueError(
            f"matmul: shapes {ash} and {bsh} do not align: {ash[-1]} (last of the first) != "
            f"{k_b} ({'only' if len(bsh) == 1 else 'second-to-last'} of the second); transpose one operand?"
        )


MATMUL = row(
    "matmul",
    Primitive(
        "matmul",
        np.matmul,
        (_matmul_da, _matmul_db),
        (lambda F, t, ans, a, b: F.matmul(t, b), lambda F, t, ans, a, b: F.matmul(a, t)),
        fmt="{0} @ {1}",
        reads=((1,), (0,)),
    ),
    "binary",
    "Matrix product with NumPy's rules: vectors, matrices and broadcast batches (lecture 002).",
    dunder="matmul",
    check=_matmul_check,
)


def _batch_matmul(F, prim, args, batched, params):
    """Per-example ``a @ b``: 1-D operands promoted to matrices (a row, b a column), batched
    operands padded to a common rank so unbatched ones broadcast as stacks, then squeezed back."""
    (a, b), (ba, bb) = args, batched
    la, lb = (a.shape[1:] if ba else np.shape(a)), (b.shape[1:] if bb else np.shape(b))
    pa, pb = len(la) == 1, len(lb) == 1
    if pa:
        a = F.expand_dims(a, -2)
    if pb:
        b = F.expand_dims(b, -1)
    rank = max(len(la) + pa, len(lb) + pb)
    a = pad_batched(F, a, rank) if ba else a
    b = pad_batched(F, b, rank) if bb else b
    out = F.apply(prim, (a, b), {})
    if pb:
        out = F.squeeze(out, -1)
    if pa:
        out = F.squeeze(out, -1 if pb else -2)
    return out


MATMUL.batch = _batch_matmul

__all__ = [name for name, value in globals().items() if isinstance(value, Primitive)]
