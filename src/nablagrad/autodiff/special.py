"""``erf``, ``erfc`` and the gamma family (``lgamma``, ``digamma``, ``polygamma``; their formulas are
below, before their code) on NumPy arrays, vectorised and accurate to a few units in the last place
of float64 (NumPy has none of them, and scipy is not a dependency).

* ``|x| < ½``: the Maclaurin series ``erf x = (2/√π) Σₙ (−1)ⁿ x^{2n+1} / (n! (2n + 1))``, summed
  by Horner in ``x²`` (fourteen terms reach 1e-18 there);
* ``x ≥ ½``: ``erfc x = e^{−x²} · erfcx x``, the scaled function ``erfcx`` smooth and slowly
  varying — on ``[½, 2]`` a Taylor polynomial about the centre of each of six intervals of width
  ¼, its coefficients from ``erfcx' = 2x·erfcx − 2/√π``, i.e. ``(n + 1) a_{n+1} = 2c aₙ + 2 a_{n−1}``
  (taken in 60-digit decimals once, on first use); for ``x ≥ 2`` Laplace's continued fraction
  ``erfcx x = 1/(√π (x + ½/(x + 1/(x + (3/2)/(x + …)))))``, evaluated backward from a fixed depth.
  ``e^{−x²}`` is taken as ``e^{−h²} e^{−(x−h)(x+h)}`` with ``h`` the leading 26 bits of ``x``, so
  ``h²`` is exact and ``x²``'s rounding is not amplified;
* then ``erf x = 1 − erfc x`` there (no cancellation: ``erfc ½ < ½``), ``erfc x = 1 − erf x``
  for ``|x| < ½`` and ``erfc(−x) = 2 − erfc x``.
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext
from fractions import Fraction
from functools import cache

import numpy as np

_SQRT_PI = math.sqrt(math.pi)
_SMALL, _MID, _WIDTH = 0.5, 2.0, 0.25
_CF_DEPTH = 60  # 1 ulp at x ≥ 2 (the fraction converges faster for larger x)
_TAYLOR_TERMS = 16  # |x − c| ≤ ⅛: the terms fall below 1e-18 of the value
# erf x / x = Σ bₙ (x²)ⁿ, bₙ = (2/√π) (−1)ⁿ / (n! (2n + 1))
_ERF_SERIES = np.array([2 / _SQRT_PI * (-1) ** n / (math.factorial(n) * (2 * n + 1)) for n in range(14)])
_BLOCK = 1 << 16
_PI_60 = Decimal("3.141592653589793238462643383279502884197169399375105820974944592")


def _erfcx_decimal(c: float) -> Decimal:
    """e^{c²} erfc c to ~40 digits (the Maclaurin series of erf in 60 digits; c ≤ 2)."""
    x = Decimal(c)
    term = total = x
    n = 0
    while abs(term) > Decimal(10) ** -58:
        n += 1
        term = -term * x * x / n
        total += term / (2 * n + 1)
    return (x * x).exp() * (1 - 2 / _PI_60.sqrt() * total)


@cache
def _erfcx_taylor() -> tuple[np.ndarray, np.ndarray]:
    """Taylor coefficients (power, interval) of erfcx about each interval's centre in [½, 2],
    and the centres."""
    centres = _SMALL + (np.arange(round((_MID - _SMALL) / _WIDTH)) + 0.5) * _WIDTH
    rows = []
    with localcontext() as ctx:
        ctx.prec = 60
        two_over_sqrt_pi = 2 / _PI_60.sqrt()
        for c in centres.tolist():
            a = [_erfcx_decimal(c)]
            a.append(2 * Decimal(c) * a[0] - two_over_sqrt_pi)
            for n in range(1, _TAYLOR_TERMS - 1):
                a.append((2 * Decimal(c) * a[n] + 2 * a[n - 1]) / (n + 1))
            rows.append([float(v) for v in a])
    return np.ascontiguousarray(np.array(rows).T), centres


def _horner(coef, t: np.ndarray, index: np.ndarray | None = None) -> np.ndarray:
    """Σ_k c_k t^k by Horner's rule; with ``index``, ``c_k = coef[k][index]`` per element."""
    pick = (lambda c: c) if index is None else (lambda c: c.take(index))
    out = pick(coef[-1]) * t
    out += pick(coef[-2])
    for c in coef[-3::-1]:
        out *= t
        out += pick(c)
    return out


def _exp_minus_square(x: np.ndarray) -> np.ndarray:
    """e^{−x²} = e^{−h²} e^{−(x − h)(x + h)}, h = x with its 27 low mantissa bits cleared (h² exact)."""
    h = (x.view(np.int64) & ~np.int64((1 << 27) - 1)).view(np.float64)
    return np.exp(-h * h) * np.exp(-(x - h) * (x + h))


def _erfc_positive(x: np.ndarray) -> np.ndarray:
    """erfc x for x ≥ ½ (as e^{−x²} erfcx x; 0 beyond x = 27, where it underflows)."""
    x = np.minimum(x, 40.0)
    scaled = np.empty_like(x)
    mid = x < _MID
    xm = x[mid]
    coef, centres = _erfcx_taylor()
    interval = np.minimum(((xm - _SMALL) / _WIDTH).astype(np.intp), len(centres) - 1)
    scaled[mid] = _horner(coef, xm - centres.take(interval), interval)
    big = x[~mid]
    k = big.copy()
    for j in range(_CF_DEPTH, 0, -1):
        k = big + (j / 2) / k
    scaled[~mid] = 1.0 / (_SQRT_PI * k)
    with np.errstate(under="ignore"):
        return _exp_minus_square(x) * scaled


def _as_float64(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def _blockwise(f):
    """``f`` applied to blocks of ``_BLOCK`` entries (each op of a block stays in the cache)."""

    def g(x) -> np.ndarray:
        x = _as_float64(x)
        if x.size <= _BLOCK:
            return f(x)
        flat, out = x.reshape(-1), np.empty(x.size)
        for i in range(0, x.size, _BLOCK):
            out[i : i + _BLOCK] = f(flat[i : i + _BLOCK])
        return out.reshape(x.shape)

    g.__name__, g.__doc__ = f.__name__, f.__doc__
    return g


@_blockwise
def erf(x: np.ndarray) -> np.ndarray:
    """erf x = (2/√π) ∫₀ˣ e^{−t²} dt, elementwise, in float64."""
    a = np.abs(x)
    out = np.empty_like(x)
    small = a < _SMALL
    xs = x[small]
    out[small] = xs * _horner(_ERF_SERIES.tolist(), xs * xs)
    large = ~small & ~np.isnan(x)
    out[large] = np.copysign(1.0 - _erfc_positive(a[large]), x[large])
    out[np.isnan(x)] = np.nan
    return out


@_blockwise
def erfc(x: np.ndarray) -> np.ndarray:
    """erfc x = 1 − erf x, elementwise, in float64, exact in the right tail (no cancellation)."""
    out = np.empty_like(x)
    small = np.abs(x) < _SMALL
    out[small] = 1.0 - erf(x[small])
    right, left = x >= _SMALL, x <= -_SMALL
    out[right] = _erfc_positive(x[right])
    out[left] = 2.0 - _erfc_positive(-x[left])
    out[np.isnan(x)] = np.nan
    return out


# --- the gamma family: lgamma, digamma, polygamma ------------------------------------------------------------
# ln Γ and its derivatives ψ⁽ⁿ⁾ = dⁿ⁺¹/dxⁿ⁺¹ ln Γ, in float64, with no scipy (not a dependency):
#
# * ``lgamma``: around 2 the Taylor series L(z) = ln Γ(2 + z) = (1 − γ) z + Σ_{k≥2} (−1)ᵏ (ζ(k) − 1)/k · zᵏ
#   (radius 2; thirty terms reach 1e-18 for |z| ≤ ½), so the roots at 1 and 2 keep their relative accuracy:
#   ln Γ(x) = L(x − 2) on [1.5, 2.5), L(x − 1) − log1p(x − 1) on [½, 1.5), L(x) − log1p(x) − ln|x| on
#   (−½, ½) (Γ(x) = Γ(x + 2)/(x (x + 1))); on [2.5, 10) the recurrence ln Γ(x) = ln Γ(x − m) + ln Π_{j=1..m}(x − j)
#   down to [1.5, 2.5); from 10 Stirling's series x (ln x − 1) − ½ ln x + ½ ln 2π + Σ_{k=1..8} B₂ₖ/(2k(2k − 1) x^{2k−1})
#   (x (ln x − 1), not (x − ½) ln x − x: finite up to the overflow at 2.55e305); below −½ the reflection
#   ln|Γ(x)| = ln π − ln|sin πr| − ln Γ(1 − x), r = x − round(x) (exact, so sin πr keeps its digits).
#   +∞ at the poles 0, −1, −2, … and at ±∞ (PyTorch's).
# * ``digamma``: ψ(x) = ψ(x + n) − Σ_{j<n} 1/(x + j) up to x + n ≥ 10, then ψ(y) = ln y − 1/(2y) − Σ_{k=1..7}
#   B₂ₖ/(2k y^{2k}); below 0 the reflection ψ(x) = ψ(1 − x) − π cot πx.  As PyTorch's (Cephes'): −∞ at +0, +∞ at
#   −0, NaN at the negative integers and −∞.  Near its positive root 1.4616… the recurrence leaves an absolute
#   error of a few 1e-16 (PyTorch's has the same).
# * ``polygamma(n, ·)``, n ≥ 1: ψ⁽ⁿ⁾(x) = (−1)ⁿ⁺¹ n! ζ(n + 1, x) with Hurwitz's ζ(s, q) = Σ_{j≥0} (q + j)^{−s}
#   summed directly while q + j < max(10, s), the rest by Euler–Maclaurin at a = q + N:
#   a^{1−s} (1/(s − 1) + 1/(2a) + Σ_{k=1..12} B₂ₖ/(2k)! · s(s + 1)…(s + 2k − 2) · a^{−2k}); below 0 the reflection
#   ψ⁽ⁿ⁾(x) = (−1)ⁿ ψ⁽ⁿ⁾(1 − x) − π^{n+1} Pₙ(cot πx), where dⁿ/dyⁿ cot y = Pₙ(cot y), P₀(c) = c,
#   Pₙ₊₁(c) = −(1 + c²) Pₙ′(c) (bounded time for any x, where a direct sum from x would take |x| terms).
#   ±∞ with the sign of (−1)ⁿ⁺¹ at the poles 0, −1, …; the limit 0 at +∞; NaN at −∞.
# The constants (Bernoulli numbers, ζ(k) − 1) are taken once, exactly (fractions) or in 50-digit decimals.

_EULER_GAMMA = Decimal("0.57721566490153286060651209008240243104215933593992359880576723")
_L2_TERMS = 30
_STIRLING_TERMS, _PSI_TERMS, _EM_TERMS = 8, 7, 12
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


@cache
def _bernoulli(m: int) -> tuple[Fraction, ...]:
    """B₀ … B_m, exactly: Σ_{k=0}^{j} C(j + 1, k) B_k = 0 for j ≥ 1 (B₁ = −½)."""
    b = [Fraction(1)]
    for j in range(1, m + 1):
        b.append(-sum(math.comb(j + 1, k) * b[k] for k in range(j)) / (j + 1))
    return tuple(b)


def _zeta_minus_one_decimal(k: int) -> Decimal:
    """ζ(k) − 1 = Σ_{n≥2} n^{−k} to ~40 digits: the terms below N = 20, then Euler–Maclaurin at N."""
    n_top, b = 20, _bernoulli(40)
    total = sum(Decimal(n) ** -k for n in range(2, n_top))
    a = Decimal(n_top)
    total += a ** (1 - k) / (k - 1) + a**-k / 2
    rising = Decimal(k)  # k (k + 1) … (k + 2j − 2)
    for j in range(1, 21):
        fact = math.factorial(2 * j)
        total += Decimal(b[2 * j].numerator) / Decimal(b[2 * j].denominator * fact) * rising * a ** (-k - 2 * j + 1)
        rising *= (k + 2 * j - 1) * (k + 2 * j)
    return total


@cache
def _lgamma_series() -> tuple[float, ...]:
    """The Taylor coefficients c₁, c₂, … of ln Γ(2 + z) = Σ cₖ zᵏ: c₁ = 1 − γ, cₖ = (−1)ᵏ (ζ(k) − 1)/k."""
    with localcontext() as ctx:
        ctx.prec = 50
        coef = [1 - _EULER_GAMMA]
        coef += [(-1) ** k * _zeta_minus_one_decimal(k) / k for k in range(2, _L2_TERMS + 1)]
        return tuple(float(c) for c in coef)


def _lgamma_near_two(z: np.ndarray) -> np.ndarray:
    """ln Γ(2 + z) for |z| ≤ ½ (the Taylor series about 2; exactly 0 at z = 0)."""
    return z * _horner(_lgamma_series(), z)


@cache
def _stirling() -> tuple[float, ...]:
    """B₂ₖ/(2k(2k − 1)), k = 1 … 8: the terms of Stirling's series in 1/x^{2k−1}."""
    b = _bernoulli(2 * _STIRLING_TERMS)
    return tuple(float(b[2 * k] / (2 * k * (2 * k - 1))) for k in range(1, _STIRLING_TERMS + 1))


def _lgamma_positive(x: np.ndarray) -> np.ndarray:
    """ln Γ(x) for x ≥ ½ (finite or +∞)."""
    out = np.empty_like(x)
    low = x < 1.5
    z = x[low] - 1.0  # exact on [½, 2] (Sterbenz)
    out[low] = _lgamma_near_two(z) - np.log1p(z)
    mid = ~low & (x < 10.0)
    xm = x[mid]
    steps = np.floor(xm - 1.5)  # m: x − m ∈ [1.5, 2.5)
    prod = np.ones_like(xm)
    for j in range(1, 9):
        prod *= np.where(steps >= j, xm - j, 1.0)
    out[mid] = np.log(prod) + _lgamma_near_two(xm - steps - 2.0)  # (x − m − 2 exact: x < 10, integer m)
    big = x >= 10.0
    xb = x[big]
    inv = 1.0 / xb
    with np.errstate(over="ignore", invalid="ignore"):
        series = inv * _horner(_stirling(), inv * inv)
        log_x = np.log(xb)
        out[big] = xb * (log_x - 1.0) - 0.5 * log_x + _HALF_LOG_2PI + series
    out[np.isposinf(x)] = np.inf
    return out


def _sin_pi_reduced(x: np.ndarray) -> np.ndarray:
    """sin πr for r = x − round(x) ∈ [−½, ½]: sin πx up to sign, with the digits of x's fraction."""
    return np.sin(np.pi * (x - np.round(x)))


@_blockwise
def lgamma(x: np.ndarray) -> np.ndarray:
    """ln |Γ(x)|, elementwise, in float64 (PyTorch's lgamma): +∞ at 0, −1, −2, … and at ±∞."""
    out = np.full_like(x, np.nan)
    pos = x >= 0.5
    out[pos] = _lgamma_positive(x[pos])
    small = np.abs(x) < 0.5
    xs = x[small]
    with np.errstate(divide="ignore"):
        out[small] = _lgamma_near_two(xs) - np.log1p(xs) - np.log(np.abs(xs))  # +∞ at ±0
        neg = (x <= -0.5) & np.isfinite(x)
        xn = x[neg]
        s = np.abs(_sin_pi_reduced(xn))  # 0 at the negative integers: +∞ there (also where ln Γ(1 − x) is ∞: ∞ − ∞)
        with np.errstate(invalid="ignore"):
            out[neg] = np.where(s == 0, np.inf, (math.log(math.pi) - np.log(s)) - _lgamma_positive(1.0 - xn))
    out[np.isinf(x)] = np.inf
    return out


@cache
def _psi_asymptotic() -> tuple[float, ...]:
    """B₂ₖ/(2k), k = 1 … 7: ψ(y) ~ ln y − 1/(2y) − Σ B₂ₖ/(2k y^{2k})."""
    b = _bernoulli(2 * _PSI_TERMS)
    return tuple(float(b[2 * k] / (2 * k)) for k in range(1, _PSI_TERMS + 1))


def _digamma_positive(x: np.ndarray) -> np.ndarray:
    """ψ(x) for x > 0 (finite or +∞)."""
    shift = np.zeros_like(x)
    steps = np.maximum(np.ceil(10.0 - x), 0.0)  # y = x + steps ≥ 10
    with np.errstate(over="ignore"):  # 1/x of a subnormal x: −∞, the limit
        for j in range(int(steps.max(initial=0.0))):
            shift -= np.where(steps > j, 1.0 / (x + j), 0.0)
    y = x + steps
    with np.errstate(over="ignore", invalid="ignore"):  # y² past the float range: 1/y² = 0; y = +∞: ∞ − 0
        inv2 = 1.0 / (y * y)
        return shift + np.log(y) - 0.5 / y - inv2 * _horner(_psi_asymptotic(), inv2)


def _cot_pi(x: np.ndarray) -> np.ndarray:
    """cot πx from r = x − round(x) ∈ [−½, ½] (exact): 1/tan πr for |r| < ¼, else sign(r) tan(π(½ − |r|))
    (½ − |r| exact there), so cot is exactly 0 at the half-integers and keeps its digits near them."""
    r = x - np.round(x)
    far = np.abs(r) >= 0.25
    with np.errstate(divide="ignore", over="ignore"):  # (±∞ at the integers and next to 0)
        return np.where(far, np.copysign(np.tan(np.pi * (0.5 - np.abs(r))), r), 1.0 / np.tan(np.pi * r))


@_blockwise
def digamma(x: np.ndarray) -> np.ndarray:
    """ψ(x) = Γ′(x)/Γ(x), elementwise, in float64 (PyTorch's digamma): −∞ at +0, +∞ at −0, NaN at the
    negative integers and at −∞."""
    out = np.full_like(x, np.nan)
    pos = x > 0
    out[pos] = _digamma_positive(x[pos])
    zero = x == 0
    out[zero] = np.copysign(np.inf, -x[zero])
    neg = (x < 0) & (x != np.floor(x))  # (−∞ and the negative integers stay NaN)
    xn = x[neg]
    out[neg] = _digamma_positive(1.0 - xn) - np.pi * _cot_pi(xn)
    return out


@cache
def _euler_maclaurin(s: int) -> tuple[float, ...]:
    """B₂ₖ/(2k)! · s(s + 1)…(s + 2k − 2), k = 1 … 12: the Euler–Maclaurin terms of ζ(s, a) in a^{1−s−2k}."""
    b = _bernoulli(2 * _EM_TERMS)
    out, rising = [], Fraction(s)
    for k in range(1, _EM_TERMS + 1):
        out.append(float(b[2 * k] / math.factorial(2 * k) * rising))
        rising *= (s + 2 * k - 1) * (s + 2 * k)
    return tuple(out)


def _hurwitz_zeta(s: int, q: np.ndarray) -> np.ndarray:
    """ζ(s, q) = Σ_{j≥0} (q + j)^{−s} for an integer s ≥ 2 and q > 0 (finite): the terms while q + j < max(10, s)
    directly (each element only as many as it needs), the rest by Euler–Maclaurin."""
    total = np.zeros_like(q)
    start = np.zeros_like(q)
    top = max(10.0, float(s))
    active = np.flatnonzero(q < top)
    j = 0
    with np.errstate(over="ignore"):
        while active.size:
            total[active] += (q[active] + j) ** -s
            j += 1
            start[active] = j
            active = active[q[active] + j < top]
        a = q + start
        inv2 = 1.0 / (a * a)
        with np.errstate(under="ignore"):
            tail = a ** (1 - s) * (1.0 / (s - 1) + 0.5 / a + inv2 * _horner(_euler_maclaurin(s), inv2))
    return total + tail


@cache
def _cot_derivative(n: int) -> tuple[float, ...]:
    """The coefficients (in c⁰, c¹, …) of Pₙ with dⁿ/dyⁿ cot y = Pₙ(cot y): P₀ = c, Pₙ₊₁ = −(1 + c²) Pₙ′ (exact
    integers, then ±∞ past the float range)."""
    p = [0, 1]
    for _ in range(n):
        d = [k * p[k] for k in range(1, len(p))] + [0, 0]  # Pₙ′, padded to the degree of (1 + c²) Pₙ′
        p = [-(d[k] + (d[k - 2] if k >= 2 else 0)) for k in range(len(d))]
    return tuple(float(c) if abs(c) < 2**1023 else math.inf if c > 0 else -math.inf for c in p)


def _polygamma_positive(n: int, x: np.ndarray) -> np.ndarray:
    """ψ⁽ⁿ⁾(x) = (−1)ⁿ⁺¹ n! ζ(n + 1, x) for x > 0 (finite)."""
    factorial = float(math.factorial(n)) if n <= 170 else math.inf
    with np.errstate(over="ignore", invalid="ignore"):
        return (-1.0) ** (n + 1) * factorial * _hurwitz_zeta(n + 1, x)


def _polygamma(n: int, x: np.ndarray) -> np.ndarray:
    """ψ⁽ⁿ⁾(x) for n ≥ 1, elementwise, in float64."""
    out = np.full_like(x, np.nan)  # NaN and −∞ stay NaN
    sign = (-1.0) ** (n + 1)
    pos = (x > 0) & np.isfinite(x)
    out[pos] = _polygamma_positive(n, x[pos])
    out[x == np.inf] = sign * 0.0
    pole = (x <= 0) & (x == np.floor(x)) & np.isfinite(x)
    out[pole] = sign * np.inf
    neg = (x < 0) & (x != np.floor(x))
    xn = x[neg]
    cot = _cot_pi(xn)
    with np.errstate(over="ignore", invalid="ignore"):
        poly = _horner(_cot_derivative(n), cot)  # (±∞ next to a pole: Horner keeps the sign)
        out[neg] = (-1.0) ** n * _polygamma_positive(n, 1.0 - xn) - np.power(np.pi, n + 1.0) * poly
    return out


def polygamma(n: int, x) -> np.ndarray:
    """ψ⁽ⁿ⁾(x) = dⁿ/dxⁿ ψ(x), elementwise, in float64 (PyTorch's polygamma); n = 0 is ψ itself."""
    if n == 0:
        return digamma(x)
    return _blockwise(lambda v: _polygamma(n, v))(x)


# --- erfinv -------------------------------------------------------------------------------------------------
# erf⁻¹ y: Giles' single-precision rational guess (2010, "Approximating the erfinv function") in
# w = −ln(1 − y²), then three Newton steps: on erf x − |y| for |y| ≤ ½, x ← x − (erf x − |y|)/((2/√π) e^{−x²}),
# and beyond on ln erfc x − ln(1 − |y|) (1 − |y| is exact there, and the log keeps Newton's step well scaled where
# erfc falls off like e^{−x²}): x ← x + (ln erfc x − ln(1 − |y|)) erfc x / ((2/√π) e^{−x²}).  Each step squares
# the relative error (≈ 1e-7 → 1e-14 → below the ulp; two more in the far tail, where the guess is rougher).
# ±∞ at ±1, NaN outside [−1, 1] (PyTorch's).
_GILES_CENTRAL = (1.50140941, 0.246640727, -0.00417768164, -0.00125372503, 0.00021858087, -4.39150654e-06,
                  -3.5233877e-06, 3.43273939e-07, 2.81022636e-08)  # fmt: skip
_GILES_TAIL = (2.83297682, 1.00167406, 0.00943887047, -0.0076224613, 0.00573950773, -0.00367342844,
               0.00134934322, 0.000100950558, -0.000200214257)  # fmt: skip
_NEWTON_STEPS = 3


@_blockwise
def erfinv(y: np.ndarray) -> np.ndarray:
    """erf⁻¹ y, elementwise, in float64."""
    a = np.abs(y)
    inside = a < 1  # (NaN is not)
    a_in = a[inside]
    w = -np.log1p(-a_in * a_in)
    central = w < 5.0
    x = np.empty_like(a_in)
    x[central] = _horner(_GILES_CENTRAL, w[central] - 2.5) * a_in[central]
    x[~central] = _horner(_GILES_TAIL, np.sqrt(w[~central]) - 3.0) * a_in[~central]
    tail = a_in > _SMALL
    xc, ac = x[~tail], a_in[~tail]
    for _ in range(_NEWTON_STEPS):
        xc -= (erf(xc) - ac) / (2.0 / _SQRT_PI * _exp_minus_square(xc))
    xt, log_rest = x[tail], np.log(1.0 - a_in[tail])
    for _ in range(_NEWTON_STEPS + 2):  # (the guess is rougher far in the tail)
        c = erfc(xt)
        xt += (np.log(c) - log_rest) * c / (2.0 / _SQRT_PI * _exp_minus_square(xt))
    x[~tail], x[tail] = xc, xt
    out = np.full_like(y, np.nan)
    out[inside] = np.copysign(x, y[inside])
    out[a == 1] = np.copysign(np.inf, y[a == 1])
    return out
