"""Linear models as lectures 000 and 004 define them, against scikit-learn."""

import warnings

import numpy as np
import pytest
from sklearn import linear_model, preprocessing, svm
from sklearn.datasets import make_classification

from nablagrad import ml


@pytest.fixture
def noisy_classes():
    return make_classification(80, 3, n_redundant=0, flip_y=0.2, random_state=0)


@pytest.mark.parametrize("alpha", [0.0, 0.05])
def test_perceptron_follows_scikit_learn_step_by_step(noisy_classes, alpha):
    """Same order, same epochs: identical weights.  scikit-learn's SGD shrinks w by (1 − ηα) and
    never b, so a penalised intercept would not match."""
    X, y = noisy_classes
    ref = linear_model.Perceptron(penalty="l2" if alpha else None, alpha=alpha, shuffle=False, tol=None, max_iter=7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref.fit(X, y)
    ours = ml.Perceptron(alpha=alpha, shuffle=False, max_iter=7).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-12)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-12)


def test_linear_svc_never_penalises_the_intercept():
    X, y = make_classification(200, 4, n_redundant=0, flip_y=0.05, random_state=0)
    ref = svm.SVC(kernel="linear", C=1.0, tol=1e-8).fit(X, y)  # libsvm: unpenalised b
    ours = ml.LinearSVC(C=1.0, loss="hinge").fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=2e-3)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=2e-3)
    # moving the data far from the origin moves only b: w is the same, b' = b − ⟨w, shift⟩
    shift = np.full(4, 20.0)
    moved = ml.LinearSVC(C=1.0, loss="hinge").fit(X + shift, y)
    np.testing.assert_allclose(moved.coef_, ours.coef_, atol=2e-3)
    np.testing.assert_allclose(moved.intercept_, ours.intercept_ - ours.coef_ @ shift, atol=5e-2)
    # ... whereas liblinear's LinearSVC, which penalises b as a feature, changes its weights
    lib = svm.LinearSVC(loss="hinge", max_iter=100_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w0, w1 = lib.fit(X, y).coef_.copy(), lib.fit(X + shift, y).coef_
    assert np.abs(w0 - w1).max() > 0.1
    margins = (2 * y - 1) * ours.decision_function(X)
    assert ours.n_support_vectors_ == int(np.sum(margins <= 1 + 1e-3))


@pytest.mark.parametrize("n, p, classes, C", [(150, 3, 2, 0.5), (120, 4, 3, 2.0)])
def test_linear_svc_without_intercept_matches_liblinear(n, p, classes, C):
    """No intercept, no equality constraint: the box dual by SMO one variable at a time equals
    liblinear's hinge-loss LinearSVC without intercept (one-vs-rest for three classes)."""
    X, y = make_classification(n, p, n_redundant=0, n_informative=3, n_classes=classes, random_state=1)
    ours = ml.LinearSVC(C=C, fit_intercept=False, loss="hinge").fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = svm.LinearSVC(loss="hinge", C=C, fit_intercept=False, max_iter=100_000, tol=1e-8).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=2e-3)
    assert np.all(ours.intercept_ == 0.0)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))


def test_one_vs_all_targets_are_two_indicator_minus_one():
    y = np.array(["b", "a", "c", "b"])
    T = ml.one_vs_all_targets(y)
    ref = preprocessing.label_binarize(y, classes=["a", "b", "c"], neg_label=-1, pos_label=1)
    np.testing.assert_array_equal(T, ref)


def _reg_data(noise=0.3):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 12))
    return X, X @ rng.standard_normal(12) + noise * rng.standard_normal(300) + 1.0


def test_sgd_reaches_least_squares_with_its_defaults():
    X, y = _reg_data()
    ref = linear_model.LinearRegression().fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ml.ConvergenceWarning)
        sgd = ml.LinearRegression(solver="sgd", random_state=0).fit(X, y)
    rel = np.abs(sgd.coef_ - ref.coef_).max() / np.abs(ref.coef_).max()
    assert rel < 5e-3  # well below the coefficients' own standard error (≈ 0.3/√300 ≈ 1.7 %)
    assert abs(sgd.intercept_ - ref.intercept_) < 5e-3


def test_normalized_step_solves_a_consistent_system_exactly():
    """η = 1/‖x_i‖² on ½r²: each step zeroes one example's residual (Kaczmarz); on exact data it
    converges to the exact solution."""
    X, y = _reg_data(noise=0.0)
    m = ml.LinearRegression(solver="sgd", learning_rate="normalized", batch_size=1, tol=1e-14, max_iter=200,
                            random_state=0)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m.fit(X, y)
    np.testing.assert_allclose(m.coef_, linear_model.LinearRegression().fit(X, y).coef_, atol=1e-6)
    with pytest.raises(ml.InvalidParameterError, match=r"'learning_rate' parameter of LinearRegression must be a float .* or a str among \{'normalised', 'normalized'\}"):  # noqa: E501
        ml.LinearRegression(solver="sgd", learning_rate="fast").fit(X, y)
