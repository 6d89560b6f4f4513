"""Lecture 001's estimators by simulation, against the closed forms of the normal distribution."""

import numpy as np
import pytest
from scipy import stats

import nablagrad as ng
from nablagrad import ml

MU, SIGMA = 2.0, 3.0
normal = lambda n, rng: rng.normal(MU, SIGMA, n)


def test_sample_mean_bias_variance_and_standard_error():
    s = ml.simulate_estimator(np.mean, normal, n=25, true_value=MU, trials=20000, seed=0)
    assert abs(s.bias) < 4 * SIGMA / 5 / np.sqrt(20000)  # unbiased, within 4 simulation SEs
    assert s.variance == pytest.approx(SIGMA**2 / 25, rel=0.05)  # Var = σ²/m
    assert s.standard_error == pytest.approx(SIGMA / 5, rel=0.03)  # SE = σ/√m
    assert s.mse == pytest.approx(s.bias**2 + s.variance, rel=1e-12)  # MSE = bias² + Var


def test_biased_variance_estimator_is_asymptotically_unbiased():
    """The 1/m variance has bias −σ²/m; the 1/(m − 1) one none."""
    for m in (5, 50):
        biased = ml.simulate_estimator(lambda x: x.var(), normal, m, SIGMA**2, trials=20000, seed=1)
        unbiased = ml.simulate_estimator(lambda x: x.var(ddof=1), normal, m, SIGMA**2, trials=20000, seed=1)
        assert biased.bias == pytest.approx(-(SIGMA**2) / m, abs=0.15 * SIGMA**2 / m + 0.05)
        assert abs(unbiased.bias) < 0.2 * SIGMA**2 / m + 0.05
        assert biased.mse == pytest.approx(biased.bias**2 + biased.variance, rel=1e-12)


def test_consistency_and_the_first_observation_counter_example():
    sizes = [10, 100, 1000]
    mean = ml.consistency_curve(np.mean, normal, sizes, MU, eps=0.5, trials=1000, seed=2)
    first = ml.consistency_curve(lambda x: x[0], normal, sizes, MU, eps=0.5, trials=1000, seed=2)
    assert mean[0] > mean[1] > mean[2] == 0.0  # P(|x̄ − μ| > ε) → 0
    p_first = 2 * stats.norm.sf(0.5 / SIGMA)  # P(|x⁽¹⁾ − μ| > ε) for every m
    np.testing.assert_allclose(first, p_first, atol=0.05)
    s = ml.simulate_estimator(lambda x: x[0], normal, 1000, MU, trials=5000, seed=3)
    assert abs(s.bias) < 0.2 and s.variance == pytest.approx(SIGMA**2, rel=0.1)  # unbiased, spread never shrinks


def test_gaussian_log_likelihood_is_the_squared_error_up_to_constants():
    rng = np.random.default_rng(4)
    y, pred = rng.standard_normal(30), rng.standard_normal(30)
    ll = ml.gaussian_log_likelihood(y, pred, sigma=0.7).item()
    assert ll == pytest.approx(stats.norm.logpdf(y, pred, 0.7).sum(), rel=1e-12)
    # maximising it over w is least squares: its gradient is −∇(½Σr²)/σ²
    X = rng.standard_normal((30, 3))
    w = rng.standard_normal(3)
    g = ng.grad(lambda v: ml.gaussian_log_likelihood(y, ng.tensor(X) @ v, sigma=0.7))(w).numpy()
    np.testing.assert_allclose(g, -X.T @ (X @ w - y) / 0.49, rtol=1e-12)
    w_ml = np.zeros(3)
    for _ in range(500):
        w_ml += 0.005 * ng.grad(lambda v: ml.gaussian_log_likelihood(y, ng.tensor(X) @ v, sigma=0.7))(w_ml).numpy()
    np.testing.assert_allclose(w_ml, ml.LinearRegression(fit_intercept=False).fit(X, y).coef_, atol=1e-8)
    with pytest.raises(ValueError, match="sigma must be > 0"):
        ml.gaussian_log_likelihood(y, pred, sigma=0)
