"""``Lasso.fit(X, y, sample_weight)`` minimises scikit-learn's weighted objective
``(1/(2Σs)) Σ s_i (y_i − ⟨w, x_i⟩ − b)² + α‖w‖₁``: coef_ and intercept_ against scikit-learn's
``Lasso`` on several data sets (float32 input, a zero weight, several targets, no intercept), and
integer weights against the rows repeated."""

import warnings

import numpy as np
import pytest
from sklearn import linear_model as skl
from sklearn.datasets import load_diabetes, make_regression

from nablagrad import ml

RNG = np.random.default_rng(16)


def _diabetes():
    return load_diabetes(return_X_y=True)


def _sparse_truth():
    X, y = make_regression(150, 12, n_informative=4, noise=5.0, random_state=3)
    return X * np.linspace(0.2, 5.0, 12) + 3.0, y  # unequal scales and a shifted mean


def _correlated():
    Z = RNG.standard_normal((90, 3))
    X = np.column_stack([Z, Z @ [[1.0, 0.5], [0.2, 1.0], [0.0, 0.3]] + 0.05 * RNG.standard_normal((90, 2))])
    return X, X @ [2.0, 0.0, -1.0, 0.5, 0.0] + 4.0 + 0.2 * RNG.standard_normal(90)


DATA = {"diabetes": _diabetes, "sparse": _sparse_truth, "correlated": _correlated}


def _weights(n):
    w = RNG.uniform(0.0, 3.0, n)
    w[::17] = 0.0  # some samples take no part
    return w


def _sklearn(X, y, w, **params):
    return skl.Lasso(tol=1e-14, max_iter=1_000_000, **params).fit(X, y, sample_weight=w)


def _close(ours, ref, atol=1e-6):
    scale = max(1.0, np.abs(ref.coef_).max())
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=atol * scale)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=atol * scale * 10)


@pytest.mark.parametrize("data", DATA)
@pytest.mark.parametrize("alpha", [0.01, 0.3, 3.0])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("solver", ["cd", "proximal"])
def test_weighted_lasso_is_scikit_learns(data, alpha, fit_intercept, solver):
    X, y = DATA[data]()
    w = _weights(len(y))
    ours = ml.Lasso(alpha=alpha, fit_intercept=fit_intercept, solver=solver, tol=1e-14, max_iter=1_000_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ml.ConvergenceWarning)  # ISTA may stop at max_iter a hair short of 1e-14
        ours.fit(X, y, sample_weight=w)
    _close(ours, _sklearn(X, y, w, alpha=alpha, fit_intercept=fit_intercept))


def test_several_targets_are_fitted_column_by_column_with_the_same_weights():
    X, y = _sparse_truth()
    Y = np.column_stack([y, -0.5 * y + X[:, 0], X[:, 3] * 2.0])
    w = _weights(len(y))
    ours = ml.Lasso(alpha=0.2, tol=1e-14, max_iter=1_000_000).fit(X, Y, sample_weight=w)
    _close(ours, _sklearn(X, Y, w, alpha=0.2))
    assert ours.coef_.shape == (3, X.shape[1]) and ours.intercept_.shape == (3,)


@pytest.mark.parametrize("weighted", [True, False])
def test_float32_input_gives_the_float64_solution(weighted):
    """float32 X and y: scikit-learn solves in float32 (about 1e-6 off its float64 answer); ours
    keeps float64 sums, so it lands on scikit-learn's float64 solution of the same numbers."""
    X, y = _diabetes()
    w = _weights(len(y)) if weighted else None
    X32, y32 = X.astype(np.float32), y.astype(np.float32)
    exact = _sklearn(X32.astype(np.float64), y32.astype(np.float64), w, alpha=0.01)
    ours = ml.Lasso(alpha=0.01, tol=1e-14, max_iter=1_000_000).fit(X32, y32, sample_weight=w)
    _close(ours, exact, atol=1e-5)
    ref32 = skl.Lasso(alpha=0.01, tol=1e-10, max_iter=1_000_000).fit(X32, y32, sample_weight=w)
    np.testing.assert_allclose(ours.coef_, ref32.coef_, atol=1e-4 * np.abs(exact.coef_).max())
    np.testing.assert_array_equal(ours.coef_ == 0, exact.coef_ == 0)  # the same features dropped


@pytest.mark.parametrize("data", DATA)
def test_integer_weights_are_repeated_rows(data):
    X, y = DATA[data]()
    counts = RNG.integers(0, 4, len(y))
    counts[0] = 0
    weighted = ml.Lasso(alpha=0.1, tol=1e-14, max_iter=1_000_000).fit(X, y, sample_weight=counts)
    repeated = ml.Lasso(alpha=0.1, tol=1e-14, max_iter=1_000_000).fit(np.repeat(X, counts, axis=0), np.repeat(y, counts))
    _close(weighted, repeated, atol=1e-9)


def test_a_zero_weight_is_a_removed_row_and_a_common_factor_changes_nothing():
    X, y = _sparse_truth()
    w = RNG.uniform(0.5, 2.0, len(y))
    w[7] = 0.0
    zero = ml.Lasso(alpha=0.5, tol=1e-14).fit(X, y, sample_weight=w)
    removed = ml.Lasso(alpha=0.5, tol=1e-14).fit(np.delete(X, 7, 0), np.delete(y, 7), sample_weight=np.delete(w, 7))
    _close(zero, removed, atol=1e-10)
    scaled = ml.Lasso(alpha=0.5, tol=1e-14).fit(X, y, sample_weight=1000.0 * w)  # scikit-learn rescales s to sum to n
    _close(scaled, zero, atol=1e-10)
    ones = ml.Lasso(alpha=0.5, tol=1e-14).fit(X, y, sample_weight=np.ones(len(y)))
    _close(ones, ml.Lasso(alpha=0.5, tol=1e-14).fit(X, y), atol=1e-12)


def test_bad_weights_are_refused_and_change_nothing():
    X, y = _sparse_truth()
    est = ml.Lasso(alpha=0.5).fit(X, y)
    coef = est.coef_.copy()
    for bad, match in [(np.ones(len(y) - 1), "sample_weight has shape"), (-np.ones(len(y)), "non-negative"),
                       (np.zeros(len(y)), "all zero")]:  # fmt: skip
        with pytest.raises(ValueError, match=match):
            est.fit(X, y, sample_weight=bad)
        np.testing.assert_array_equal(est.coef_, coef)
