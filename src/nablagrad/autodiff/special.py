"""``erf`` and ``erfc`` on NumPy arrays, vectorised and accurate to a few units in the last place
of float64 (NumPy has neither, and scipy is not a dependency).

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

