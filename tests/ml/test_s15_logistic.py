"""LogisticRegression on several classes is multinomial (softmax), as scikit-learn 1.9's default
(lbfgs, L2): coefficients, probabilities and log-probabilities against scikit-learn's with the same
C; ``sample_weight`` multiplies each sample's loss term, against scikit-learn's."""

import numpy as np
import pytest
from sklearn import linear_model as skl
from sklearn.datasets import make_classification

from nablagrad import ml


def _data(k, n=240, p=6, seed=0):
    X, y = make_classification(n, p, n_informative=4, n_redundant=0, n_classes=k, n_clusters_per_class=1,
                               class_sep=1.0, random_state=seed)  # fmt: skip
    return X, y


@pytest.mark.parametrize("k", [3, 5])
@pytest.mark.parametrize("C", [0.05, 1.0, 20.0])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_multiclass_is_scikit_learns_multinomial_model(k, C, fit_intercept):
    X, y = _data(k)
    ours = ml.LogisticRegression(C=C, fit_intercept=fit_intercept, tol=1e-8).fit(X, y)
    ref = skl.LogisticRegression(C=C, fit_intercept=fit_intercept, tol=1e-8, max_iter=1000).fit(X, y)
    assert ours.coef_.shape == ref.coef_.shape == (k, X.shape[1])
    assert ours.intercept_.shape == ref.intercept_.shape == (k,)
    P = ours.predict_proba(X)
    np.testing.assert_allclose(P.sum(1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(P, ref.predict_proba(X), atol=1e-6)
    np.testing.assert_allclose(ours.predict_log_proba(X), ref.predict_log_proba(X), atol=1e-5)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4 * max(1.0, np.abs(ref.coef_).max()))
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-4 * max(1.0, np.abs(ref.intercept_).max()))
    scores = ref.decision_function(X)
    np.testing.assert_allclose(ours.decision_function(X), scores, atol=1e-4 * np.abs(scores).max())
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_default_tolerance_agrees_within_the_solvers_tolerance(seed):
    """tol=1e-4 bounds the gradient of the mean loss, not the distance between two L-BFGS runs
    (scipy's line search is not ours): the probabilities agree to about 1e-3, and to 1e-5 once
    both solvers are asked for tol=1e-6."""
    X, y = _data(4, seed=seed)
    ours, ref = ml.LogisticRegression().fit(X, y), skl.LogisticRegression().fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=2e-3)
    ours, ref = ml.LogisticRegression(tol=1e-6).fit(X, y), skl.LogisticRegression(tol=1e-6).fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-5)


def test_string_labels_and_the_same_solver_as_softmax_regression():
    X, y = _data(3)
    labels = np.array(["cat", "dog", "eel"])[y]
    ours = ml.LogisticRegression(C=0.5).fit(X, labels)
    ref = skl.LogisticRegression(C=0.5).fit(X, labels)
    np.testing.assert_array_equal(ours.classes_, ref.classes_)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    soft = ml.SoftmaxRegression(C=0.5).fit(X, labels)  # one solver: the same model, the same numbers
    np.testing.assert_array_equal(soft.coef_, ours.coef_)
    np.testing.assert_array_equal(soft.predict_proba(X), ours.predict_proba(X))


def test_two_classes_stay_the_binary_model():
    X, y = _data(2)
    ours, ref = ml.LogisticRegression(tol=1e-8).fit(X, y), skl.LogisticRegression(tol=1e-8).fit(X, y)
    assert ours.coef_.shape == ref.coef_.shape == (1, X.shape[1])
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-6)


@pytest.mark.parametrize("k", [2, 3])
def test_sample_weight_multiplies_each_loss_term_as_scikit_learn(k):
    X, y = _data(k, seed=1)
    w = np.random.default_rng(0).uniform(0, 3, len(y))
    w[:15] = 0.0
    ours = ml.LogisticRegression(C=0.7, tol=1e-8).fit(X, y, sample_weight=w)
    ref = skl.LogisticRegression(C=0.7, tol=1e-8).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-6)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4)
    # integer weights are repeated samples
    counts = np.random.default_rng(1).integers(0, 4, len(y))
    weighted = ml.LogisticRegression(tol=1e-8).fit(X, y, sample_weight=counts)
    repeated = ml.LogisticRegression(tol=1e-8).fit(np.repeat(X, counts, axis=0), np.repeat(y, counts))
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), atol=1e-7)


def test_a_scalar_weight_scales_every_sample_as_scikit_learn():
    X, y = _data(3)
    ours = ml.LogisticRegression(tol=1e-8).fit(X, y, sample_weight=2.5)
    ref = skl.LogisticRegression(tol=1e-8).fit(X, y, sample_weight=2.5)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-6)


@pytest.mark.parametrize("est", [ml.LogisticRegression(), ml.SoftmaxRegression()], ids=lambda e: type(e).__name__)
def test_bad_sample_weight_is_refused_and_changes_nothing(est):
    X, y = _data(3)
    w = np.ones(len(y))
    est.fit(X, y, sample_weight=w)
    coef = est.coef_.copy()
    for bad, match in [(np.ones(5), "sample_weight has shape"), (-w, "non-negative"), (0 * w, "all zero")]:
        with pytest.raises(ValueError, match=match):
            est.fit(X[:, ::-1], y[::-1], sample_weight=bad)
        np.testing.assert_array_equal(est.coef_, coef)
    np.testing.assert_array_equal(w, 1.0)  # the caller's weights are never written


def test_binary_predict_log_proba_is_the_log_of_predict_proba_and_finite_where_it_saturates():
    """log σ(∓s) computed as −log(1 + e^{±s}): equal to log(predict_proba) where that is accurate, and finite
    where σ rounds to 0 or 1 (scikit-learn's own log of the probability gives −inf there)."""
    import numpy as np

    from nablagrad import ml

    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3)) * 5
    y = (X[:, 0] > 0).astype(int)
    model = ml.LogisticRegression(C=100).fit(X, y)
    logp, p = model.predict_log_proba(X), model.predict_proba(X)
    ok = p > 1e-6  # (where 1 − σ has not lost its digits to cancellation)
    np.testing.assert_allclose(logp[ok], np.log(p[ok]), rtol=1e-9, atol=1e-12)
    assert np.isfinite(logp).all()
    np.testing.assert_allclose(np.exp(logp).sum(axis=1), 1.0, rtol=1e-12)
