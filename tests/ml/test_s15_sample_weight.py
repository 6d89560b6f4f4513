"""``sample_weight`` in LinearRegression and Ridge multiplies each sample's squared residual, as
scikit-learn's: every solver against scikit-learn's ``LinearRegression``/``Ridge`` with the same
weights (zeros included), one and several targets, with and without intercept."""

import numpy as np
import pytest
from sklearn import linear_model as skl

from nablagrad import ml

RNG = np.random.default_rng(0)


def _data(n=300, p=5, targets=1):
    X = RNG.standard_normal((n, p)) * np.linspace(0.5, 3.0, p) + 2.0
    B = RNG.standard_normal((p, targets))
    Y = X @ B + 1.5 + 0.3 * RNG.standard_normal((n, targets))
    w = RNG.uniform(0, 3, n)
    w[:20] = 0.0
    return X, (Y[:, 0] if targets == 1 else Y), w


CASES = [
    (ml.LinearRegression(), skl.LinearRegression(), 1e-10),
    (ml.LinearRegression(solver="normal"), skl.LinearRegression(), 1e-8),
    (ml.LinearRegression(solver="gd", learning_rate=0.02, tol=1e-15, max_iter=20000), skl.LinearRegression(), 1e-5),
    (ml.Ridge(alpha=5.0), skl.Ridge(alpha=5.0), 1e-10),
    (ml.Ridge(alpha=5.0, solver="gd", learning_rate=0.02, tol=1e-15, max_iter=20000), skl.Ridge(alpha=5.0), 1e-5),
]


@pytest.mark.parametrize(("ours", "ref", "atol"), CASES, ids=lambda c: repr(c) if not isinstance(c, float) else "")
@pytest.mark.parametrize("targets", [1, 3])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_weighted_least_squares_match_scikit_learn(ours, ref, atol, targets, fit_intercept):
    X, y, w = _data(targets=targets)
    ours = ml.clone(ours).set_params(fit_intercept=fit_intercept).fit(X, y, sample_weight=w)
    ref = ref.set_params(fit_intercept=fit_intercept).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=atol * max(1.0, np.abs(ref.coef_).max()))
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=atol * 10 * max(1.0, np.abs(ref.intercept_).max()))


@pytest.mark.parametrize("est", [ml.LinearRegression(), ml.Ridge(alpha=2.0)], ids=repr)
def test_tall_data_goes_block_by_block_with_the_same_weights(est):
    """More rows than one block of the tall-skinny QR / the blocked Gram: each block is weighted."""
    X, y, w = _data(n=9000, p=4)
    ref = (skl.LinearRegression() if isinstance(est, ml.LinearRegression) else skl.Ridge(alpha=2.0)).fit(X, y, sample_weight=w)
    ours = est.fit(X, y, sample_weight=w)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-9)
    assert ours.intercept_ == pytest.approx(ref.intercept_, rel=1e-9)


def test_integer_weights_are_repeated_rows_and_zero_weights_removed_rows():
    X, y, _ = _data()
    counts = RNG.integers(0, 4, len(y))
    for est in (ml.LinearRegression(), ml.Ridge(alpha=3.0), ml.LinearRegression(solver="gd", learning_rate=0.02)):
        weighted = ml.clone(est).fit(X, y, sample_weight=counts)
        repeated = ml.clone(est).fit(np.repeat(X, counts, axis=0), np.repeat(y, counts))
        np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-7)


def test_more_features_than_weighted_samples_give_the_minimum_norm_solution():
    """The normal equations are singular: they warn and give lstsq's (scikit-learn's) minimum-norm
    solution, the same with weights as with the repeated rows."""
    X = RNG.random((15, 30))
    y = RNG.random(15)
    w = RNG.integers(0, 5, 15).astype(float)
    ref = skl.LinearRegression().fit(X, y, sample_weight=w)
    with pytest.warns(ml.IllConditionedWarning):
        ours = ml.LinearRegression(solver="normal").fit(X, y, sample_weight=w)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), atol=1e-8)
    np.testing.assert_allclose(ml.LinearRegression().fit(X, y, sample_weight=w).coef_, ref.coef_, atol=1e-10)


@pytest.mark.parametrize("est", [ml.LinearRegression(), ml.Ridge()], ids=repr)
def test_bad_weights_are_refused_and_change_nothing(est):
    X, y, w = _data()
    est.fit(X, y, sample_weight=w)
    coef = est.coef_.copy()
    for bad, match in [(w[:-1], "sample_weight has shape"), (np.where(w > 1, -1.0, w), "non-negative"),
                       (np.full_like(w, np.nan), "finite"), (0 * w, "all zero")]:  # fmt: skip
        with pytest.raises(ValueError, match=match):
            est.fit(X + 1, y, sample_weight=bad)
        np.testing.assert_array_equal(est.coef_, coef)
