"""``LinearSVC(loss="squared_hinge" | "hinge")`` with ``sample_weight`` (each sample's ``C`` scaled
by its weight), against scikit-learn: liblinear's ``LinearSVC`` where the problems are the same
(no intercept), libsvm's ``SVC(kernel="linear")`` for the hinge with an unpenalised intercept, and
for the squared hinge with an intercept the gradient of the objective, written out here and
differentiated by PyTorch, which must vanish at the fitted weights."""

import warnings

import numpy as np
import pytest
import torch
from sklearn import svm
from sklearn.datasets import load_breast_cancer, make_classification
from sklearn.preprocessing import StandardScaler

from nablagrad import ml
from nablagrad.ml.base import ConvergenceWarning

RNG = np.random.default_rng(7)


def _blobs(n, p, k=2, seed=0, flip=0.05):
    return make_classification(n, p, n_informative=min(p, 4), n_redundant=0, n_classes=k, n_clusters_per_class=1,
                               flip_y=flip, random_state=seed)  # fmt: skip


def _cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


DATA = {
    "blobs": lambda: _blobs(300, 5),
    "three classes": lambda: _blobs(300, 5, k=3, seed=2),
    "wide (p > n)": lambda: _blobs(50, 80),
    "breast cancer": _cancer,
}


def _weights(n):
    w = RNG.uniform(0.2, 3.0, n)
    w[::13] = 0.0
    return w


def _liblinear(loss, **params):
    """liblinear run to tol 1e-10 (at 1e-12 its dual coordinate descent can stall visibly short of the optimum)."""
    return svm.LinearSVC(loss=loss, tol=1e-10, max_iter=1_000_000, **params)


def _primal(X, t, C, w, loss):
    """½‖w‖² + Σ C_i ℓ(t_i⟨w, x_i⟩), ℓ the hinge or its square (no intercept)."""
    slack = np.maximum(0.0, 1.0 - t * (X @ w))
    return 0.5 * w @ w + C @ (slack**2 if loss == "squared_hinge" else slack)


def _quiet_fit(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # liblinear may stop at max_iter a hair short of its tol
        return est.fit(*args, **kwargs)


def test_the_default_loss_is_the_lectures_hinge_and_scikit_learns_is_one_argument_away():
    """004 defines the SVM by the hinge ``max(0, 1 − M)``; scikit-learn's default is the squared hinge."""
    assert ml.LinearSVC().loss == "hinge"
    assert svm.LinearSVC().loss == "squared_hinge" in ml.LinearSVC._parameter_constraints["loss"][0].values


@pytest.mark.parametrize("data", DATA)
@pytest.mark.parametrize("loss", ["squared_hinge", "hinge"])
@pytest.mark.parametrize("weighted", [False, True])
def test_without_intercept_it_is_liblinear(data, loss, weighted):
    X, y = DATA[data]()
    w = _weights(len(y)) if weighted else None
    ours = ml.LinearSVC(C=0.5, fit_intercept=False, loss=loss, tol=1e-9).fit(X, y, sample_weight=w)
    ref = _quiet_fit(_liblinear(loss, C=0.5, fit_intercept=False), X, y, sample_weight=w)
    scale = max(1.0, np.abs(ref.coef_).max())
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6 * scale)
    np.testing.assert_allclose(ours.decision_function(X), ref.decision_function(X), atol=1e-5 * scale)
    assert np.all(ours.intercept_ == 0.0)
    C = 0.5 * (np.ones(len(y)) if w is None else w)
    for k, coef in enumerate(ours.coef_):  # ours is at least as low as liblinear's on every binary problem
        t = np.where(y == ours.classes_[k if len(ours.classes_) > 2 else 1], 1.0, -1.0)
        mine, theirs = _primal(X, t, C, coef, loss), _primal(X, t, C, ref.coef_[k], loss)
        assert mine <= theirs + 1e-10 * theirs
    if loss == "squared_hinge" and len(ours.classes_) == 2:  # support vectors: margin < 1 (α_i = 2 C_i ξ_i > 0)
        margins = (2 * (y == ours.classes_[1]) - 1) * ref.decision_function(X)
        keep = np.ones(len(y), bool) if w is None else w > 0
        assert abs(ours.n_support_vectors_ - int(np.sum(margins[keep] < 1))) <= 1  # one may sit on the margin


def _squared_hinge_gradient(X, t, C, w, b):
    """∇ of ½‖w‖² + Σ C_i max(0, 1 − t_i(⟨w, x_i⟩ + b))² (b unpenalised), by PyTorch."""
    theta = torch.tensor(np.r_[w, b], dtype=torch.float64, requires_grad=True)
    Xt, tt, Ct = (torch.tensor(a, dtype=torch.float64) for a in (X, t, C))
    slack = torch.clamp(1 - tt * (Xt @ theta[:-1] + theta[-1]), min=0)
    (0.5 * theta[:-1] @ theta[:-1] + (Ct * slack**2).sum()).backward()
    return theta.grad.numpy()


@pytest.mark.parametrize("data", DATA)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shift", [0.0, 5.0])
def test_squared_hinge_with_intercept_zeroes_the_gradient_of_its_objective(data, weighted, shift):
    X, y = DATA[data]()
    X = X + shift  # the intercept is unpenalised: far from the origin too
    w = _weights(len(y)) if weighted else np.ones(len(y))
    ours = ml.LinearSVC(C=0.7, tol=1e-9, loss="squared_hinge").fit(X, y, sample_weight=w if weighted else None)
    for k, (coef, b) in enumerate(zip(ours.coef_, ours.intercept_)):
        cls = ours.classes_[1] if len(ours.classes_) == 2 else ours.classes_[k]
        t = np.where(y == cls, 1.0, -1.0)
        g = _squared_hinge_gradient(X, t, 0.7 * w, coef, b)
        assert np.abs(g).max() <= 1e-7 * max(1.0, np.abs(coef).max())


@pytest.mark.parametrize("data", ["blobs", "breast cancer"])
def test_squared_hinge_with_intercept_is_liblinears_with_a_barely_penalised_intercept(data):
    """liblinear penalises ½(b / intercept_scaling)²: with intercept_scaling = 1000 that is nearly nothing."""
    X, y = DATA[data]()
    w = _weights(len(y))
    ours = ml.LinearSVC(C=0.5, tol=1e-10, loss="squared_hinge").fit(X, y, sample_weight=w)
    ref = _quiet_fit(_liblinear("squared_hinge", C=0.5, intercept_scaling=1000.0), X, y, sample_weight=w)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4 * max(1.0, np.abs(ref.coef_).max()))
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-3)
    assert np.mean(ours.predict(X) == ref.predict(X)) >= 0.99


@pytest.mark.parametrize("data", ["blobs", "breast cancer", "wide (p > n)"])
def test_weighted_hinge_with_intercept_is_libsvms_linear_svc(data):
    X, y = DATA[data]()
    w = _weights(len(y))
    ours = ml.LinearSVC(C=0.8, loss="hinge", tol=1e-8).fit(X, y, sample_weight=w)
    ref = svm.SVC(kernel="linear", C=0.8, tol=1e-8).fit(X, y, sample_weight=w)  # libsvm: C_i = C·s_i, b free
    scale = max(1.0, np.abs(ref.coef_).max())
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4 * scale)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-3 * scale)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))


@pytest.mark.parametrize("loss", ["squared_hinge", "hinge"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_integer_weights_are_repeated_rows_and_zero_weights_removed_rows(loss, fit_intercept):
    X, y = _blobs(120, 4, k=3, seed=5, flip=0.1)
    counts = RNG.integers(0, 4, len(y))
    counts[:3] = 0
    est = ml.LinearSVC(C=0.3, loss=loss, fit_intercept=fit_intercept, tol=1e-10)
    weighted = ml.clone(est).fit(X, y, sample_weight=counts)
    repeated = ml.clone(est).fit(np.repeat(X, counts, axis=0), np.repeat(y, counts))
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, atol=1e-6)
    np.testing.assert_allclose(weighted.intercept_, repeated.intercept_, atol=1e-5)


@pytest.mark.parametrize("loss", ["squared_hinge", "hinge"])
def test_float32_input_gives_the_float64_fit(loss):
    X, y = _cancer()
    w = _weights(len(y))
    X32 = X.astype(np.float32)
    ours = ml.LinearSVC(C=0.5, loss=loss, fit_intercept=False, tol=1e-9).fit(X32, y, sample_weight=w)
    ref = _quiet_fit(_liblinear(loss, C=0.5, fit_intercept=False), X32.astype(np.float64), y, sample_weight=w)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-5 * max(1.0, np.abs(ref.coef_).max()))


def test_a_class_of_zero_weight_is_refused_with_an_intercept_and_changes_nothing():
    X, y = _blobs(100, 3)
    est = ml.LinearSVC().fit(X, y)
    coef = est.coef_.copy()
    w = np.where(y == 1, 0.0, 1.0)
    with pytest.raises(ValueError, match="every sample of class 1 has sample_weight 0"):
        est.fit(X, y, sample_weight=w)
    np.testing.assert_array_equal(est.coef_, coef)
    ml.LinearSVC(fit_intercept=False).fit(X, y, sample_weight=w)  # no intercept to pin down: well posed


def test_an_unknown_loss_is_refused_as_scikit_learn_refuses_it():
    X, y = _blobs(60, 3)
    with pytest.raises(ml.InvalidParameterError, match=r"'loss' parameter of LinearSVC must be a str among "
                       r"\{'hinge', 'squared_hinge'\}\. Got 'log' instead; the default is loss='hinge'"):  # fmt: skip
        ml.LinearSVC(loss="log").fit(X, y)
    with pytest.raises(ValueError, match="'loss' parameter of LinearSVC must be"):
        svm.LinearSVC(loss="log").fit(X, y)


def test_newton_running_out_of_iterations_warns():
    X, y = _blobs(300, 5, flip=0.2)
    with pytest.warns(ConvergenceWarning, match="increase max_iter"):
        ml.LinearSVC(max_iter=1, loss="squared_hinge").fit(X, y)
