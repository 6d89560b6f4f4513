"""Point estimators by simulation (lecture 001): bias, variance, standard error, MSE, consistency,
and the Gaussian log-likelihood behind the squared error.

An estimator ``θ̂_m = g(x⁽¹⁾, …, x⁽ᵐ⁾)`` is a function of a sample; drawing many samples shows
its distribution:

* ``bias(θ̂_m) = E[θ̂_m] − θ``; unbiased when 0, asymptotically unbiased when → 0 as m → ∞;
* ``Var(θ̂_m)`` and the standard error ``SE(θ̂_m) = √Var(θ̂_m)``;
* ``MSE = E[(θ̂_m − θ)²] = bias(θ̂_m)² + Var(θ̂_m)``;
* consistency: ``θ̂_m → θ`` in probability, ``P(|θ̂_m − θ| > ε) → 0`` as m → ∞.  The notes'
  counter-example: the first observation ``θ̂ = x⁽¹⁾`` is unbiased for the mean at every m, but
  its spread never shrinks, so it is not consistent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..autodiff import as_tensor
from ..autodiff import log as tlog
from ..autodiff import sum as tsum


@dataclass(frozen=True)
class EstimatorStats:
    """Bias, variance, standard error and MSE of an estimator from ``trials`` simulated samples
    of size ``n``; ``estimates`` holds every ``θ̂``.  ``mse == bias**2 + variance`` exactly
    (with the population variance of the estimates, ``ddof=0``)."""

    n: int
    bias: float
    variance: float
    standard_error: float
    mse: float
    estimates: np.ndarray


def simulate_estimator(estimator: Callable[[np.ndarray], float], sampler: Callable[[int, np.random.Generator], np.ndarray],
                       n: int, true_value: float, trials: int = 2000, seed=None) -> EstimatorStats:  # fmt: skip
    """Draw ``trials`` samples ``sampler(n, rng)``, apply ``estimator`` to each and measure it
    against ``true_value``."""
    if n < 1 or trials < 2:
        raise ValueError(f"simulate_estimator: need n >= 1 and trials >= 2, got n={n}, trials={trials}")
    rng = np.random.default_rng(seed)
    est = np.array([float(estimator(sampler(n, rng))) for _ in range(trials)])
    bias = float(est.mean() - true_value)
    variance = float(est.var())
    return EstimatorStats(n, bias, variance, float(np.sqrt(variance)), float(np.mean((est - true_value) ** 2)), est)


def consistency_curve(estimator: Callable[[np.ndarray], float], sampler: Callable[[int, np.random.Generator], np.ndarray],
                      sizes: Sequence[int], true_value: float, eps: float = 0.1, trials: int = 1000,
                      seed=None) -> np.ndarray:  # fmt: skip
    """``P(|θ̂_m − θ| > ε)`` estimated for every ``m`` in ``sizes``: → 0 for a consistent estimator."""
    rng = np.random.default_rng(seed)
    out = []
    for m in sizes:
        est = simulate_estimator(estimator, sampler, int(m), true_value, trials, seed=rng).estimates
        out.append(float(np.mean(np.abs(est - true_value) > eps)))
    return np.array(out)


def gaussian_log_likelihood(y, y_pred, sigma: float = 1.0):
    """``Σ_i log N(y_i; ŷ_i, σ²) = −m log σ − (m/2) log 2π − Σ_i ‖ŷ_i − y_i‖² / (2σ²)`` (lecture 001).

    Only the last term depends on the model, so maximising the likelihood of a Gaussian-noise
    model is minimising the squared error: the MSE is the negative log-likelihood up to a scale
    and a constant.  Accepts tensors (the engine differentiates it) and returns a tensor.
    """
    if sigma <= 0:
        raise ValueError(f"gaussian_log_likelihood: sigma must be > 0, got {sigma}")
    pred = as_tensor(y_pred)
    r = pred - as_tensor(np.asarray(y, dtype=pred.dtype)).reshape(pred.shape)
    m = pred.shape[0] if pred.ndim else 1
    log_sigma = tlog(as_tensor(np.asarray(sigma, dtype=pred.dtype)))
    return -m * log_sigma - m / 2 * np.log(2 * np.pi) - tsum(r * r) / (2 * sigma**2)
