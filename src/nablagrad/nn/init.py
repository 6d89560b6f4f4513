"""Weight initialisation (lectures 000, 001), in place and reproducible with a seed.

Our ``Linear`` stores ``W`` as (in, out), so ``fan_in = shape[0]`` and ``fan_out = shape[1]``
(PyTorch stores (out, in) and reads them the other way round: a layer gets the same numbers).
Signatures are PyTorch's, with ``seed=`` (an int or a NumPy Generator) for its ``generator=``.
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
    a = _real("gain", gain, "xavier_uniform_") * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(t, -a, a, seed)


def xavier_normal_(t: Tensor, gain: float = 1.0, seed=None) -> Tensor:
    """Glorot: N(0, σ²), ``σ = gain·√(2/(fan_in + fan_out))``."""
    fan_in, fan_out = _fans(t)
    return normal_(t, 0.0, _real("gain", gain, "xavier_normal_") * math.sqrt(2.0 / (fan_in + fan_out)), seed)


_LINEAR_GAIN = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
                "sigmoid")  # fmt: skip
NONLINEARITIES = (*_LINEAR_GAIN, "tanh", "relu", "leaky_relu", "selu")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain that keeps a layer's output variance for ``nonlinearity``, as PyTorch's table:
    linear / conv / sigmoid 1, tanh 5/3, relu √2, leaky_relu √(2/(1 + α²)) with α = ``param``
    (0.01 when None), selu 3/4."""
    if nonlinearity in _LINEAR_GAIN:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "selu":
        return 3.0 / 4
    if nonlinearity == "leaky_relu":
        if param is None:
            return math.sqrt(2.0 / (1 + 0.01**2))
        if not is_real(param):  # a bool is refused too, as PyTorch
            raise ValueError(f"init.calculate_gain: negative_slope {param!r} not a valid number; give e.g. param=0.01")
        return math.sqrt(2.0 / (1 + float(param) ** 2))
    raise ValueError(f"init.calculate_gain: unsupported nonlinearity {nonlinearity!r}; choose from {list(NONLINEARITIES)} "
                     "(use 'linear' for the identity)")  # fmt: skip


def _kaiming_std(t: Tensor, a: float, mode: str, nonlinearity: str, who: str) -> float:
    """He's ``σ = gain/√fan``, ``gain = calculate_gain(nonlinearity, a)``, ``fan`` the ``mode``'s fan
    (``fan_in`` keeps the forward pass's variance, ``fan_out`` the backward pass's)."""
    _tensor(t, who)
    if not isinstance(mode, str) or mode.lower() not in ("fan_in", "fan_out"):
        raise ValueError(f"init.{who}: mode {mode!r} not supported; use 'fan_in' or 'fan_out'")
    fan_in, fan_out = _fans(t)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan_in if mode.lower() == "fan_in" else fan_out)


def kaiming_uniform_(t: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", seed=None) -> Tensor:
    """He: U(−b, b), ``b = gain·√(3/fan)`` (= √3·σ), PyTorch's signature and defaults: ``a`` the
    negative slope of the leaky ReLU that follows (``gain = √(2/(1 + a²))``, √2 for ``a = 0``).
    A zero-element tensor is left as it is."""
    if _tensor(t, "kaiming_uniform_").size == 0:
        return t
    b = math.sqrt(3.0) * _kaiming_std(t, a, mode, nonlinearity, "kaiming_uniform_")
    return uniform_(t, -b, b, seed)


def kaiming_normal_(t: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", seed=None) -> Tensor:
    """He: N(0, σ²), ``σ = gain/√fan``, PyTorch's signature and defaults (see :func:`kaiming_uniform_`).
    A zero-element tensor is left as it is."""
    if _tensor(t, "kaiming_normal_").size == 0:
        return t
    return normal_(t, 0.0, _kaiming_std(t, a, mode, nonlinearity, "kaiming_normal_"), seed)


def ones_(t: Tensor) -> Tensor:
    """All ones."""
    return constant_(t, 1.0)


def _normal_mass(lo: float, hi: float) -> float:
    """``Φ(hi) − Φ(lo)`` for the standard normal, taken in the lower tail, where ``erfc`` keeps its precision."""
    if lo > 0:
        lo, hi = -hi, -lo
    return 0.5 * (math.erfc(-hi / math.sqrt(2)) - math.erfc(-lo / math.sqrt(2)))


def trunc_normal_(t: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0, seed=None) -> Tensor:
    """N(mean, std²) truncated to [a, b] (absolute bounds, as PyTorch's, not multiples of std): a draw
    outside is drawn again.  Refused when [a, b] holds under 0.1% of the normal's mass, where redrawing
    would take thousands of rounds (PyTorch warns there that its values may be wrong)."""
    _tensor(t, "trunc_normal_")
    mean, std = _real("mean", mean, "trunc_normal_"), _real("std", std, "trunc_normal_")
    a, b = _real("a", a, "trunc_normal_"), _real("b", b, "trunc_normal_")
    if std <= 0 or a >= b:
        raise ValueError(f"init.trunc_normal_: needs std > 0 and a < b, got std={std}, a={a}, b={b}")
    mass = _normal_mass((a - mean) / std, (b - mean) / std)
    if mass < 1e-3:
        raise ValueError(f"init.trunc_normal_: [a, b] = [{a}, {b}] holds only {mass:.3g} of N({mean}, {std}²); choose "
                         "bounds nearer the mean")  # fmt: skip
    rng, kept = backend.resolve_rng(seed, "init.trunc_normal_"), np.empty(0)
    while kept.size < t.size:  # each round draws enough for the rest on average (capped at 4M numbers)
        draw = rng.normal(mean, std, min(int((t.size - kept.size) / mass * 1.1) + 16, 2**22))
        kept = np.concatenate([kept, draw[(draw >= a) & (draw <= b)]])
    return _fill(t, kept[: t.size].reshape(t.shape))


def orthogonal_(t: Tensor, gain: float = 1.0, seed=None) -> Tensor:
    """A (semi-)orthogonal matrix times ``gain`` (Saxe et al.), PyTorch's algorithm: ``A`` of shape
    (shape[0], rest) drawn N(0, 1) (transposed if wider than tall), ``A = QR``, ``Q·sign(diag R)`` (a uniform draw
    from the orthogonal group).  The smaller of its two sides is orthonormal: ``WᵀW = I`` for our Linear (in, out)
    with in >= out, as PyTorch's ``W Wᵀ = I`` for its (out, in).  Needs 2 or more axes; an empty tensor is left."""
    _tensor(t, "orthogonal_")
    if t.ndim < 2:
        raise ValueError(f"init.orthogonal_: only tensors with 2 or more dimensions are supported, got shape {t.shape}")
    gain = _real("gain", gain, "orthogonal_")
    if t.size == 0:
        return t
    rows = t.shape[0]
    cols = t.size // rows
    a = backend.resolve_rng(seed, "init.orthogonal_").normal(0.0, 1.0, (rows, cols))
    if rows < cols:
        a = a.T
    q, r = np.linalg.qr(a)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(t, (gain * q).reshape(t.shape))


def eye_(t: Tensor) -> Tensor:
    """The identity: ones on the diagonal, zeros elsewhere (a Linear that passes its first inputs through); 2-D only."""
    _tensor(t, "eye_")
    if t.ndim != 2:
        raise ValueError(f"init.eye_: only tensors with 2 dimensions are supported, got shape {t.shape}")
    return _fill(t, np.eye(*t.shape))


def sparse_(t: Tensor, sparsity: float, std: float = 0.01, seed=None) -> Tensor:
    """N(0, std²) entries with, for each input (a row of our (in, out) weight; a column of PyTorch's (out, in)),
    ``⌈sparsity · out⌉`` of its outgoing weights set to zero at random (Martens, 2010); 2-D only."""
    _tensor(t, "sparse_")
    if t.ndim != 2:
        raise ValueError(f"init.sparse_: only tensors with 2 dimensions are supported, got shape {t.shape}")
    sparsity = _real("sparsity", sparsity, "sparse_")
    if not 0 <= sparsity <= 1:
        raise ValueError(f"init.sparse_: sparsity must lie in [0, 1] (the fraction of zeros per input), got {sparsity}")
    std = _real("std", std, "sparse_")
    if std < 0:
        raise ValueError(f"init.sparse_: std must be >= 0, got {std}")
    rng = backend.resolve_rng(seed, "init.sparse_")
    n_in, n_out = t.shape
    values = rng.normal(0.0, std, t.shape)
    zeros = math.ceil(sparsity * n_out)
    for i in range(n_in):
        values[i, rng.permutation(n_out)[:zeros]] = 0.0
    return _fill(t, values)


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
    "he_uniform": kaiming_uniform_,  # a = 0: He's ReLU gain √2
    "kaiming_uniform": kaiming_uniform_,
    "he_normal": kaiming_normal_,
    "kaiming_normal": kaiming_normal_,
}
