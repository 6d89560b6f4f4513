"""Rows of the rule table for the elementwise functions users reach for (issue 10): the
trigonometric and hyperbolic families, logs and exponentials in other bases, rounding (zero
derivative), remainders, ``arctan2``, ``hypot``, ``logaddexp``, ``erf``, the gamma family (``lgamma``,
``digamma``, ``polygamma``: each one's derivative is the next), ``softplus``.

Each unary op is its value and its local derivative ``f'(x)`` in one line (see
:func:`.rules._unary`): the VJP is ``g · f'(x)``, the JVP ``ẋ · f'(x)``.  A binary op states
``∂f/∂x`` and ``∂f/∂y``; the tape walk undoes broadcasting.  PyTorch's names (``asin``,
``atan2``, ``clamp`` …) are rows sharing the NumPy-named primitive.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..backend.checks import is_int
from ..backend.namespace import NUMPY, namespace_of
from . import ops, special
from .primitive import TABLE, Primitive, function, quiet, row
from .rules import COMPARISONS, INVERT, MAX, MIN, POW, _unary, integer_error, integer_only
from .tensor import Tensor, _apply, tensor

_LN2, _LN10 = math.log(2.0), math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _like(fn):
    """``fn`` (computed in float64) cast back to the input's float dtype."""

    def f(x):
        xp = namespace_of(x)
        if xp is not NUMPY:  # the array API standard has no erf: computed on the host, copied back
            return xp.asarray(f(xp.to_numpy(x)), device=x.device)
        x = np.asarray(x)
        dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64
        return fn(x).astype(dtype, copy=False)

    return f


def softplus_np(x):
    """log(1 + eˣ) = max(x, 0) + log1p(e^{−|x|}): never overflows."""
    xp = namespace_of(x)
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


TAN = _unary("tan", np.tan, lambda F, ans, x: 1.0 + ans * ans, "tan({0})", "tan x; derivative 1 + tan² x.", reads="ans")
SINH = _unary("sinh", np.sinh, lambda F, ans, x: F.cosh(x), "sinh({0})", "sinh x; derivative cosh x.", reads="x")
COSH = _unary("cosh", np.cosh, lambda F, ans, x: F.sinh(x), "cosh({0})", "cosh x; derivative sinh x.", reads="x")
ARCSIN = _unary(
    "arcsin",
    np.arcsin,
    lambda F, ans, x: 1.0 / F.sqrt(1.0 - x * x),
    "arcsin({0})",
    "arcsin x; derivative 1/√(1 − x²).",
    reads="x",
)
ARCCOS = _unary(
    "arccos",
    np.arccos,
    lambda F, ans, x: -1.0 / F.sqrt(1.0 - x * x),
    "arccos({0})",
    "arccos x; derivative −1/√(1 − x²).",
    reads="x",
)
ARCTAN = _unary(
    "arctan",
    np.arctan,
    lambda F, ans, x: 1.0 / (1.0 + x * x),
    "arctan({0})",
    "arctan x; derivative 1/(1 + x²).",
    reads="x",
)
ARCSINH = _unary(
    "arcsinh",
    np.arcsinh,
    lambda F, ans, x: 1.0 / F.sqrt(x * x + 1.0),
    "arcsinh({0})",
    "arsinh x; derivative 1/√(x² + 1).",
    reads="x",
)
ARCCOSH = _unary(
    "arccosh",
    np.arccosh,
    lambda F, ans, x: 1.0 / F.sqrt(x * x - 1.0),
    "arccosh({0})",
    "arcosh x; derivative 1/√(x² − 1).",
    reads="x",
)
ARCTANH = _unary(
    "arctanh",
    quiet(np.arctanh),
    lambda F, ans, x: 1.0 / (1.0 - x * x),
    "arctanh({0})",
    "artanh x; derivative 1/(1 − x²).",
    reads="x",
)
LOG1P = _unary(
    "log1p",
    quiet(np.log1p),
    lambda F, ans, x: 1.0 / (1.0 + x),
    "log1p({0})",
    "ln(1 + x), exact for small x; derivative 1/(1 + x).",
    reads="x",
)
# the derivative is eˣ itself, not ans + 1: for x ≪ 0 the sum cancels (1 − 1 + e⁻⁴⁰ is 0 in float64)
EXPM1 = _unary(
    "expm1",
    np.expm1,
    lambda F, ans, x: F.exp(x),
    "expm1({0})",
    "eˣ − 1, exact for small x; derivative eˣ.",
    reads="x",
)
LOG2 = _unary(
    "log2", quiet(np.log2), lambda F, ans, x: 1.0 / (x * _LN2), "log2({0})", "log₂ x; derivative 1/(x ln 2).", reads="x"
)
LOG10 = _unary(
    "log10",
    quiet(np.log10),
    lambda F, ans, x: 1.0 / (x * _LN10),
    "log10({0})",
    "log₁₀ x; derivative 1/(x ln 10).",
    reads="x",
)
EXP2 = _unary("exp2", np.exp2, lambda F, ans, x: ans * _LN2, "exp2({0})", "2ˣ; derivative 2ˣ ln 2.", reads="ans")


def _square(x):
    """x², bools counted as int64 first: torch.square(bool) is int64 (NumPy's is int8)."""
    xp = namespace_of(x)
    if xp.numpy_dtype(x.dtype).kind == "b":
        x = xp.astype(x, "int64")
    return xp.square(x)


SQUARE = _unary("square", _square, lambda F, ans, x: 2.0 * x, "{0}²", "x²; derivative 2x (bools square as int64, as PyTorch).",
                floats=False, reads="x")  # fmt: skip
RECIPROCAL = _unary(
    "reciprocal", quiet(np.reciprocal), lambda F, ans, x: -ans * ans, "1/{0}", "1/x; derivative −1/x².", reads="ans"
)
ERF = _unary(
    "erf",
    _like(special.erf),
    lambda F, ans, x: _TWO_OVER_SQRT_PI * F.exp(-x * x),
    "erf({0})",
    "erf x = (2/√π) ∫₀ˣ e^{−t²} dt; derivative (2/√π) e^{−x²}.",
    reads="x",
)
ERFC = _unary(
    "erfc",
    _like(special.erfc),
    lambda F, ans, x: -_TWO_OVER_SQRT_PI * F.exp(-x * x),
    "erfc({0})",
    "erfc x = 1 − erf x (exact in the tail); derivative −(2/√π) e^{−x²}.",
    reads="x",
)
# the gamma family: ln Γ, ψ = (ln Γ)′ and ψ⁽ⁿ⁾ = ψ⁽ⁿ⁻¹⁾′ (special.py's kernels, computed in float64): each one's
# derivative is the next, so they are differentiable to any order
def _polygamma_np(x, n: int):
    """ψ⁽ⁿ⁾(x) in x's float dtype."""
    return _like(lambda v: special.polygamma(n, v))(x)


def _next_polygamma(F, x, n: int):
    """ψ⁽ⁿ⁺¹⁾(x): the derivative of ψ⁽ⁿ⁾ (recorded when F records, so it is differentiable again)."""
    return F.apply(POLYGAMMA, (x,), {"n": n + 1})


POLYGAMMA = Primitive(
    "polygamma",
    _polygamma_np,
    (lambda F, g, ans, x, n: g * _next_polygamma(F, x, n),),
    (lambda F, t, ans, x, n: t * _next_polygamma(F, x, n),),
    fmt="polygamma({0})",
    reads=((0,),),
)
LGAMMA = _unary(
    "lgamma",
    _like(special.lgamma),
    lambda F, ans, x: F.digamma(x),
    "lgamma({0})",
    "ln |Γ(x)| (+∞ at 0, −1, −2, …, as PyTorch); derivative ψ(x), the digamma function.",
    reads="x",
)
DIGAMMA = _unary(
    "digamma",
    _like(special.digamma),
    lambda F, ans, x: _next_polygamma(F, x, 0),
    "digamma({0})",
    "ψ(x) = Γ′(x)/Γ(x) = (ln Γ)′(x) (−∞ at +0, NaN at the negative integers, as PyTorch); derivative "
    "ψ⁽¹⁾(x) = polygamma(1, x).",
    reads="x",
)


def _polygamma_method(self, n: int):
    """PyTorch's ``x.polygamma(n)``: ψ⁽ⁿ⁾(x)."""
    return polygamma(n, self)


@function(method=_polygamma_method, prim=POLYGAMMA)
def polygamma(n: int, x):
    """ψ⁽ⁿ⁾(x) = dⁿψ/dxⁿ = (−1)ⁿ⁺¹ n! Σ_{k≥0} (x + k)^{−(n+1)} for n ≥ 1 (``digamma`` for n = 0), PyTorch's
    ``polygamma(n, input)``; derivative ψ⁽ⁿ⁺¹⁾(x).  Integers are computed in the default float dtype.  At the
    poles 0, −1, −2, … it is ±∞ with the sign of (−1)ⁿ⁺¹, at +∞ its limit 0, at −∞ NaN."""
    if not is_int(n):
        raise TypeError(f"polygamma: n must be an int (the order of the derivative of digamma), got {n!r}; e.g. polygamma(1, x)")
    if n < 0:
        raise ValueError(f"polygamma: n must be >= 0 (PyTorch's rule), got {n}; polygamma(0, x) is digamma(x)")
    x = ops.floating(x if isinstance(x, Tensor) else tensor(x))
    if n == 0:
        return _apply(DIGAMMA, (x,))
    return _apply(POLYGAMMA, (x,), {"n": int(n)})


SOFTPLUS = _unary(
    "softplus",
    softplus_np,
    lambda F, ans, x: F.sigmoid(x),
    "softplus({0})",
    "log(1 + eˣ) = max(x, 0) + log1p(e^{−|x|}) (never overflows); derivative σ(x).",
    reads="x",
)


def _zero(F, g, ans, x, **params):
    """The derivative of a step function: exactly 0 (also where ``g`` is ±∞), as PyTorch."""
    return F.zeros(np.shape(F.data(x)), ans.dtype, like=F.data(x))


def _step(name: str, fn, doc: str, **options) -> Primitive:
    prim = Primitive(name, fn, (_zero,), (_zero,), fmt=name + "({0})", reads=())  # 0 reads no value
    return row(name, prim, "unary", doc, floats=False, **options)


def _round(x, decimals: int = 0):
    """x rounded half to even to ``decimals`` places, as torch.round computes it in x's dtype:
    round(x · 10^d) / 10^d, or for d < 0 round(x / 10^−d) · 10^−d."""
    if not decimals:
        return np.round(x) if x.__class__ is np.ndarray else namespace_of(x).round(x)
    xp = namespace_of(x)
    ten = 10.0 ** abs(decimals)  # a Python float: weak, so it is rounded to x's dtype first (as torch's)
    return xp.round(x / ten) * ten if decimals < 0 else xp.round(x * ten) / ten


FLOOR = _step("floor", np.floor, "⌊x⌋; derivative 0 (as PyTorch, also at the integers).")
CEIL = _step("ceil", np.ceil, "⌈x⌉; derivative 0.")
ROUND = _step(
    "round",
    _round,
    "x rounded half to even (as torch.round), to ``decimals`` places: round(x·10^d)/10^d; derivative 0.",
    extra=(("decimals", 0),),
)


def _sign(x):
    """sign x ∈ {−1, 0, 1}, and 0 at NaN: torch.sign's (NumPy's sign of NaN is NaN)."""
    xp = namespace_of(x)
    s = xp.sign(x)
    return xp.where(s == s, s, 0)  # s ≠ s only at NaN


SIGN = _step("sign", _sign, "sign x ∈ {−1, 0, 1}, 0 at NaN (as torch.sign); derivative 0 (as PyTorch, also at 0).")
TRUNC = _step("trunc", np.trunc, "x rounded toward 0; derivative 0.")


def _binary(name: str, fn, dx, dy, fmt: str, doc: str, **options) -> Primitive:
    """An elementwise binary op from its value and partials ``dx(F, ans, x, y)``, ``dy(…)``."""
    prim = Primitive(
        name,
        fn,
        (lambda F, g, ans, x, y: g * dx(F, ans, x, y), lambda F, g, ans, x, y: g * dy(F, ans, x, y)),
        (lambda F, t, ans, x, y: t * dx(F, ans, x, y), lambda F, t, ans, x, y: t * dy(F, ans, x, y)),
        fmt=fmt,
    )
    return row(name, prim, "binary", doc, **options)


def _integral(v) -> bool:
    """Whether an operand holds integers or bools (an array of that dtype, or a Python int)."""
    if not hasattr(v, "dtype"):
        return isinstance(v, int)
    return namespace_of(v).numpy_dtype(v.dtype).kind in "iub"


def _refusing_integer_zero(name: str, fn):
    """``fn(x, y)`` (a NumPy ufunc, run on the operands' library), raising ZeroDivisionError when the
    operands are integers and ``y`` holds a 0: PyTorch raises there, where NumPy returns 0 with a warning.
    Floats keep IEEE's ±∞/NaN."""

    def f(x, y):
        if _integral(x) and _integral(y):
            if not (bool(namespace_of(y).all(y)) if hasattr(y, "dtype") else y):  # a 0 (or False) in y
                raise ZeroDivisionError(
                    f"{name}: integer division by zero (the divisor holds a 0); PyTorch raises here too, as for "
                    "div(x, y, rounding_mode='floor' or 'trunc'), // and %. Divide only where y != 0 (ng.where), "
                    "or in floats (x.double()) to get ±inf/nan"
                )
        xp = namespace_of(x)
        return (xp if xp is not NUMPY else namespace_of(y)).forward(fn)(x, y)

    f.__name__ = fn.__name__
    return f


REMAINDER = _binary(
    "remainder",
    _refusing_integer_zero("remainder", np.remainder),
    lambda F, ans, x, y: 1.0,
    lambda F, ans, x, y: -F.floor_divide(F.data(x), F.data(y)),  # Python's x // y (1 // −∞ = −1), as PyTorch's
    "{0} % {1}",
    "x − y⌊x/y⌋ (the sign of y, Python's and torch.remainder's %); ∂/∂x = 1, ∂/∂y = −⌊x/y⌋.",
    dunder="mod",
)
FMOD = _binary(
    "fmod",
    _refusing_integer_zero("fmod", np.fmod),
    lambda F, ans, x, y: 1.0,
    lambda F, ans, x, y: -F.trunc(F.data(x) / F.data(y)),
    "fmod({0}, {1})",
    "x − y·trunc(x/y) (the sign of x, C's fmod); ∂/∂x = 1, ∂/∂y = −trunc(x/y).",
)


def _inverse_square_radius(F, y, x):
    """1/(x² + y²), and 0 at the origin — PyTorch's arctan2 gradient there (0, not 0·∞ = nan)."""
    r2 = x * x + y * y
    origin = F.data(r2) == 0
    return F.where(origin, 0.0, 1.0 / F.where(origin, 1.0, r2))


ARCTAN2 = _binary(
    "arctan2",
    np.arctan2,
    lambda F, ans, y, x: x * _inverse_square_radius(F, y, x),
    lambda F, ans, y, x: -y * _inverse_square_radius(F, y, x),
    "arctan2({0}, {1})",
    "The angle of the point (x, y), arctan2(y, x); ∂/∂y = x/(x² + y²), ∂/∂x = −y/(x² + y²) "
    "(0 at the origin, as PyTorch).",
    floats=True,
)
HYPOT = _binary(
    "hypot",
    np.hypot,
    lambda F, ans, x, y: x / ans,
    lambda F, ans, x, y: y / ans,
    "hypot({0}, {1})",
    "√(x² + y²) without overflow; ∂/∂x = x/√(x² + y²), ∂/∂y = y/√(x² + y²).",
    floats=True,
)
def _logaddexp_share(F, x, y):
    """∂/∂x log(eˣ + eʸ) = 1/(1 + e^{y − x}) (PyTorch's form: exact where eˣ⁻ᵃⁿˢ is not — x = ∞ gives 1, not
    e^{∞ − ∞}; x = y = 10³⁰⁸ gives ½, where ans rounds to x)."""
    with np.errstate(over="ignore", invalid="ignore"):  # e^{y − x} = ∞ gives 0, as it should; ∞ − ∞: NaN
        return 1.0 / (1.0 + F.exp(y - x))


LOGADDEXP = _binary(
    "logaddexp",
    np.logaddexp,
    lambda F, ans, x, y: _logaddexp_share(F, x, y),
    lambda F, ans, x, y: _logaddexp_share(F, y, x),
    "logaddexp({0}, {1})",
    "log(eˣ + eʸ) computed stably; ∂/∂x = e^{x − ans}, ∂/∂y = e^{y − ans}.",
    floats=True,
)

def _zero_tangent(F, t, ans, x, y):
    """A tangent of exactly 0, shaped like the result."""
    return F.zeros(np.shape(F.data(ans)), ans.dtype, like=F.data(ans))


FLOOR_DIVIDE = row(
    "floor_divide",
    Primitive(
        "floor_divide",
        _refusing_integer_zero("floor_divide", np.floor_divide),
        (lambda F, g, ans, x, y: _zero(F, g, ans, x), lambda F, g, ans, x, y: _zero(F, g, ans, y)),
        (_zero_tangent, _zero_tangent),
        fmt="{0} // {1}",
    ),
    "binary",
    "⌊x / y⌋ (Python's and torch.floor_divide's //); derivative 0 in both (a step; PyTorch has none).",
    dunder="floordiv",
)


# --- bitwise ops on integers and bools (no derivative; floats refused, as PyTorch) ---------------------------------
def _integral_operands(name: str, symbol: str) -> Callable:
    """The check of a bitwise op: every operand (a tensor, an array or a number) of an integer or bool dtype."""

    def check(*args) -> None:
        for a in args:
            if not (_integral(a.data) if isinstance(a, Tensor) else np.asarray(a).dtype.kind in "iub"):
                raise integer_error(name, symbol, args)

    return check


def _bitwise_row(name: str, prim: Primitive, symbol: str, doc: str, dunder: str | None = None) -> None:
    """``ng.<name>(x, y)`` and ``x.<name>(y)`` (PyTorch's names, ``other=`` its keyword) for an integer-only binary
    primitive, and its operator when ``dunder`` names one."""
    check = _integral_operands(name, symbol)

    def f(input, other):  # noqa: A002 - PyTorch's names
        check(input, other)
        return ops.binary(prim, input, other)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = doc
    row(name, prim, "function", doc, fn=f, dunder=dunder, check=check)


def _shift(fn: Callable, name: str, symbol: str) -> Primitive:
    return Primitive(name, integer_only(name, fn, symbol), (None, None), (None, None), fmt="{0} " + symbol + " {1}")


BITWISE_LEFT_SHIFT = _shift(np.left_shift, "bitwise_left_shift", "<<")
BITWISE_RIGHT_SHIFT = _shift(np.right_shift, "bitwise_right_shift", ">>")
_bitwise_row("bitwise_left_shift", BITWISE_LEFT_SHIFT, "<<",
             "x · 2ʸ on integers (``x << y``); a shift by y < 0 or past the width gives 0, as PyTorch. No derivative; "
             "floats refused.", dunder="lshift")  # fmt: skip
_bitwise_row("bitwise_right_shift", BITWISE_RIGHT_SHIFT, ">>",
             "⌊x / 2ʸ⌋ on integers (``x >> y``, arithmetic: the sign kept); a shift by y < 0 or past the width gives "
             "0 or −1, as PyTorch. No derivative; floats refused.", dunder="rshift")  # fmt: skip
GCD = Primitive("gcd", integer_only("gcd", np.gcd, "gcd(x, y)"), (None, None), (None, None), fmt="gcd({0}, {1})")
LCM = Primitive("lcm", integer_only("lcm", np.lcm, "lcm(x, y)"), (None, None), (None, None), fmt="lcm({0}, {1})")
_bitwise_row("gcd", GCD, "gcd(x, y)",
             "The greatest common divisor of integers, ≥ 0 (gcd(0, 0) = 0), as torch.gcd. No derivative.")  # fmt: skip
_bitwise_row("lcm", LCM, "lcm(x, y)",
             "The least common multiple of integers, ≥ 0 (0 if either is 0), as torch.lcm. No derivative.")  # fmt: skip
for _name, _symbol in (("and", "&"), ("or", "|"), ("xor", "^")):
    _bitwise_row(f"bitwise_{_name}", COMPARISONS[_name], _symbol,
                 f"Bitwise {_name} of integers, logical {_name} of bools (``x {_symbol} y``). No derivative; floats "
                 "refused.")  # fmt: skip


@function(prim=INVERT)
def bitwise_not(input):  # noqa: A002 - PyTorch's name
    """Bitwise not of integers (−x − 1), logical not of bools (``~x``). No derivative; floats refused."""
    _integral_operands("bitwise_not", "~")(input)
    return _apply(INVERT, (ops._t(input),))


# PyTorch's names for the same primitives (one row each, so ``ng.asin`` and ``t.asin()`` exist).
TORCH_NAMES = {
    "asin": "arcsin",
    "acos": "arccos",
    "atan": "arctan",
    "asinh": "arcsinh",
    "acosh": "arccosh",
    "atanh": "arctanh",
    "atan2": "arctan2",
}
for _torch_name, _numpy_name in TORCH_NAMES.items():
    row(
        _torch_name,
        globals()[_numpy_name.upper()],
        "binary" if _numpy_name == "arctan2" else "unary",
        f"PyTorch's name for ``{_numpy_name}``.",
        floats=True,
    )
# the arithmetic rows under their other names (PyTorch's and NumPy's ``subtract``, ``multiply``, ``divide``,
# PyTorch's ``true_divide``): the same primitive, type rules and keywords, no operator
for _alias, _name in (("subtract", "sub"), ("multiply", "mul"), ("divide", "div"), ("true_divide", "div")):
    _row = TABLE[_name]
    row(_alias, _row.prim, "binary", f"Another name for ``{_name}``.", floats=_row.floats,
        extra=_row.extra if _alias != "true_divide" else ())  # fmt: skip
# ``torch.pow`` / ``x.pow(y)``: xʸ, the ``power`` primitive (and its type rules) under PyTorch's name
@function(prim=POW)
def pow(x, exponent):  # noqa: A001 - PyTorch's name
    """PyTorch's name for ``power``, with its keyword: xʸ for y = ``exponent``; ∂/∂x = y·x^{y−1}
    (0 where y = 0), ∂/∂y = xʸ ln x (at x = 0: 0 for y ≥ 0, −∞ for y < 0, as PyTorch)."""
    TABLE["power"].check(x, exponent)  # (an int exponent of an integer base: refused when negative or too big)
    return ops.binary(POW, x, exponent)
# ``torch.amax`` / ``torch.amin``: the max/min reductions whose ties share the gradient evenly
row("amax", MAX, "reduce", "PyTorch's amax: the largest entry over ``dim``; ties share the gradient evenly (``max``).")
row("amin", MIN, "reduce", "PyTorch's amin: the smallest entry over ``dim``; ties share the gradient evenly (``min``).")
