"""LinearSVC without the n × n Gram matrix: the interior-point solution equals libsvm's
``SVC(kernel="linear")`` (hinge loss, unpenalised intercept, same C) and liblinear's
``LinearSVC(loss="hinge", fit_intercept=False)``, to the tolerance both are run at; its memory
grows with n·p, not n²."""

import tracemalloc
import warnings

import numpy as np
import pytest
from sklearn import multiclass, svm
from sklearn.datasets import make_classification

from nablagrad import ml
from nablagrad.ml.base import ConvergenceWarning


def _data(n, p, k=2, seed=0, flip=0.05):
    return make_classification(n, p, n_informative=min(p, 4), n_redundant=0, n_classes=k, n_clusters_per_class=1,
                               flip_y=flip, random_state=seed)  # fmt: skip


@pytest.mark.parametrize(("n", "p"), [(200, 3), (600, 8), (60, 120)])
@pytest.mark.parametrize("C", [0.05, 1.0, 10.0])
def test_with_intercept_it_is_libsvms_linear_svc(n, p, C):
    X, y = _data(n, p)
    ours = ml.LinearSVC(C=C, tol=1e-7, loss="hinge").fit(X, y)
    ref = svm.SVC(kernel="linear", C=C, tol=1e-7).fit(X, y)
    scale = max(1.0, np.abs(ref.coef_).max())
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4 * scale)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-4 * scale * (1 + np.abs(X).max()))
    assert ours.n_support_vectors_ == ref.n_support_.sum()
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))


@pytest.mark.parametrize(("n", "p", "k"), [(300, 5, 2), (300, 5, 3), (50, 80, 2)])
def test_without_intercept_it_is_liblinears_hinge_linear_svc(n, p, k):
    X, y = _data(n, p, k)
    ours = ml.LinearSVC(C=0.5, fit_intercept=False, tol=1e-7, loss="hinge").fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # liblinear may stop at max_iter short of tol
        ref = svm.LinearSVC(loss="hinge", C=0.5, fit_intercept=False, tol=1e-10, max_iter=1_000_000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4 * max(1.0, np.abs(ref.coef_).max()))
    assert np.all(ours.intercept_ == 0.0)


def test_several_classes_are_one_vs_rest():
    X, y = _data(300, 4, k=3, seed=2)
    ours = ml.LinearSVC(C=0.3, tol=1e-7, loss="hinge").fit(X, y)
    ref = multiclass.OneVsRestClassifier(svm.SVC(kernel="linear", C=0.3, tol=1e-7)).fit(X, y)
    np.testing.assert_allclose(ours.coef_, np.vstack([e.coef_ for e in ref.estimators_]), atol=1e-4)
    np.testing.assert_allclose(ours.decision_function(X), ref.decision_function(X), atol=1e-3)
    assert list(ours.n_support_vectors_) == [e.n_support_.sum() for e in ref.estimators_]


def test_tol_bounds_the_distance_to_the_exact_weights():
    """‖w − w*‖ ≤ tol · max(1, ‖w‖), certified by the duality gap; w* from libsvm at tol 1e-9."""
    X, y = _data(400, 6, flip=0.2)
    exact = svm.SVC(kernel="linear", C=1.0, tol=1e-9).fit(X, y).coef_[0]
    for tol in (1e-1, 1e-2, 1e-3):
        w = ml.LinearSVC(tol=tol, loss="hinge").fit(X, y).coef_[0]
        assert np.linalg.norm(w - exact) <= tol * max(1.0, np.linalg.norm(w)) + 1e-6


def test_memory_grows_with_n_p_not_n_squared():
    """20 000 samples: the Gram matrix alone would be 3.2 GB; the fit needs a few n × p arrays."""
    X, y = _data(20_000, 20, flip=0.1)
    tracemalloc.start()
    try:
        model = ml.LinearSVC(loss="hinge").fit(X, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 40 * X.nbytes  # ≈ 128 MB here; n² floats would be 3.2 GB
    assert model.n_iter_ < 100 and model.score(X, y) > 0.8


def test_running_out_of_iterations_warns():
    X, y = _data(200, 3)
    with pytest.warns(ConvergenceWarning, match="increase max_iter"):
        ml.LinearSVC(max_iter=2, loss="hinge").fit(X, y)
