"""Weight initialisation (lectures 000, 001), in place and reproducible with a seed.

Our ``Linear`` stores ``W`` as (in, out), so ``fan_in = shape[0]`` and ``fan_out = shape[1]``.
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..autodiff import Tensor, no_grad
from ..backend.checks import is_real


def _fans(t: Tensor) -> tuple[int, int]:
    if t.ndim < 2:
        return t.shape[0] if t.ndim else 1, t.shape[0] if t.ndim else 1
    receptive = int(np.prod(t.shape[2:])) if t.ndim > 2 else 1
    return t.shape[0] * receptive, t.shape[1] * receptive


def _tensor(t, who: str) -> Tensor:
    """``t`` must be a Tensor (a Parameter): the initialisers write it in place."""
    if not isinstance(t, Tensor):
        raise TypeError(
            f"init.{who}: expected a Tensor or Parameter to fill in place (e.g. layer.weight), got {type(t).__name__}"
        )
    return t


def _real(name: str, v, who: str) -> float:
    if not is_real(v) or not math.isfinite(v):
        raise TypeError(f"init.{who}: {name} must be a finite number, got {v!r}")
    return float(v)


def _fill(t: Tensor, values: np.ndarray) -> Tensor:
    with no_grad():
        return t.copy_(values.astype(t.dtype, copy=False))


def zeros_(t: Tensor) -> Tensor:
    """All zeros — fine for a single layer, but it never breaks the symmetry of a deep net (000)."""
    return _fill(t, np.zeros(t.shape, t.dtype))


def constant_(t: Tensor, value: float) -> Tensor:
    """All ``value``; e.g. 0.1 for ReLU biases so units start active (lecture 001)."""
    return _fill(t, np.full(t.shape, value, t.dtype))


def normal_(t: Tensor, mean: float = 0.0, std: float = 1.0, seed=None) -> Tensor:
    """N(mean, std²) entries; ``std >= 0`` (PyTorch: "normal expects std >= 0.0")."""
    _tensor(t, "normal_")
    mean, std = _real("mean", mean, "normal_"), _real("std", std, "normal_")
    if std < 0:
        raise ValueError(f"init.normal_: std must be >= 0, got {std}; it is a standard deviation, e.g. std=0.01")
    return _fill(t, backend.resolve_rng(seed, "init.normal_").normal(mean, std, t.shape))


def uniform_(t: Tensor, a: float = 0.0, b: float = 1.0, seed=None) -> Tensor:
    """U(a, b) entries; ``a <= b`` (PyTorch: "uniform_ expects to return a [from, to) range")."""
    _tensor(t, "uniform_")
    a, b = _real("a", a, "uniform_"), _real("b", b, "uniform_")
    if a > b:
        raise ValueError(f"init.uniform_: the range [a, b) needs a <= b, got a={a}, b={b}; swap them")
    return _fill(t, backend.resolve_rng(seed, "init.uniform_").uniform(a, b, t.shape))


def lecture_uniform_(t: Tensor, seed=None) -> Tensor:
    """Uniform on ``(−1/(2n), 1/(2n))`` with ``n`` the number of inputs (lecture 000)."""
    n = _fans(t)[0]
    return uniform_(t, -1 / (2 * n), 1 / (2 * n), seed)


def xavier_uniform_(t: Tensor, gain: float = 1.0, seed=None) -> Tensor:
    """Glorot: U(−a, a), ``a = gain·√(6/(fan_in + fan_out))`` keeps activations' variance."""
    fan_in, fan_out = _fans(t)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(t, -a, a, seed)


def xavier_normal_(t: Tensor, gain: float = 1.0, seed=None) -> Tensor:
    """Glorot: N(0, σ²), ``σ = gain·√(2/(fan_in + fan_out))``."""
    fan_in, fan_out = _fans(t)
    return normal_(t, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), seed)


def kaiming_uniform_(t: Tensor, gain: float = math.sqrt(2.0), seed=None) -> Tensor:
    """He: U(−b, b), ``b = gain·√(3/fan_in)``; gain √2 suits ReLU."""
    b = gain * math.sqrt(3.0 / _fans(t)[0])
    return uniform_(t, -b, b, seed)


def kaiming_normal_(t: Tensor, gain: float = math.sqrt(2.0), seed=None) -> Tensor:
    """He: N(0, σ²), ``σ = gain/√fan_in``."""
    return normal_(t, 0.0, gain / math.sqrt(_fans(t)[0]), seed)


def default_linear_(t: Tensor, fan_in: int, seed=None) -> Tensor:
    """PyTorch's default for Linear: U(−1/√fan_in, 1/√fan_in)."""
    bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
    return uniform_(t, -bound, bound, seed)


def regression_init(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The lecture's data-driven start for a linear neuron: ``w_j = E[y X_j] / E[X_j²]`` (000)."""
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    denom = np.mean(X * X, axis=0)
    return np.mean(X * y.reshape(len(y), -1)[:, :1], axis=0) / np.where(denom == 0, 1.0, denom)


INITIALISERS = {
    "zeros": lambda t, seed=None: zeros_(t),
    "normal": lambda t, seed=None: normal_(t, 0.0, 0.01, seed),
    "uniform": lecture_uniform_,
    "lecture": lecture_uniform_,
    "xavier_uniform": xavier_uniform_,
    "glorot_uniform": xavier_uniform_,
    "xavier_normal": xavier_normal_,
    "glorot_normal": xavier_normal_,
    "he_uniform": kaiming_uniform_,
    "kaiming_uniform": kaiming_uniform_,
    "he_normal": kaiming_normal_,
    "kaiming_normal": kaiming_normal_,
}
