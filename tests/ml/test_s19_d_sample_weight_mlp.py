"""``sample_weight`` in KernelSVC and KMeans, and MLPClassifier's single logistic unit for two
classes, against scikit-learn (the oracle): the same weighted solutions, integer weights as
repeated rows, and scikit-learn's MLP attributes and loss (``loss_curve_``) definition."""

import warnings

import numpy as np
import pytest
from sklearn import cluster as skc
from sklearn import neural_network as skn
from sklearn import svm as sks
from sklearn.datasets import make_blobs, make_classification, make_regression
from sklearn.metrics import log_loss

from nablagrad import ml


def _weights(n: int, zeros: int = 10) -> np.ndarray:
    w = np.random.default_rng(19).uniform(0.1, 3.0, n)
    w[:zeros] = 0.0
    return w


# ---------------------------------------------------------------- KernelSVC: C_i = C s_i, as libsvm


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize(
    "params",
    [
        {"kernel": "rbf", "gamma": 0.25},  # a number: scikit-learn's "scale" reads the unweighted X, ours the weighted
        {"kernel": "linear", "C": 0.5},
        {"kernel": "poly", "degree": 2, "gamma": 0.3, "coef0": 1.0},
    ],
)
def test_weighted_kernel_svc_equals_scikit_learns_svc(k, params):
    X, y = make_classification(120, 4, n_informative=3, n_redundant=0, n_classes=k, random_state=1)
    sw = _weights(len(y))
    ours = ml.KernelSVC(tol=1e-8, **params).fit(X, y, sample_weight=sw)
    ref = sks.SVC(tol=1e-8, **params).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(ours.decision_function(X), ref.decision_function(X), atol=1e-4)
    np.testing.assert_array_equal(ours.n_support_, ref.n_support_)
    assert not np.any(sw[ours.support_] == 0)  # indices into X; samples of weight 0 are never support vectors


def test_kernel_svc_integer_weights_are_repeated_rows():
    X, y = make_classification(90, 3, n_informative=2, n_redundant=0, n_classes=3, n_clusters_per_class=1, random_state=4)
    counts = np.random.default_rng(19).integers(0, 4, len(y))
    weighted = ml.KernelSVC(gamma=0.2, tol=1e-10).fit(X, y, sample_weight=counts)
    repeated = ml.KernelSVC(gamma=0.2, tol=1e-10).fit(np.repeat(X, counts, 0), np.repeat(y, counts))
    np.testing.assert_allclose(weighted.decision_function(X), repeated.decision_function(X), atol=1e-7)


def test_kernel_svc_class_without_weight_is_refused_and_changes_nothing():
    X, y = make_classification(60, 3, n_informative=2, n_redundant=0, n_classes=3, n_clusters_per_class=1, random_state=5)
    est = ml.KernelSVC().fit(X, y)
    support = est.support_.copy()
    with pytest.raises(ValueError, match=r"class 2 has sample_weight 0"):
        est.fit(X, y, sample_weight=(y != 2).astype(float))
    np.testing.assert_array_equal(est.support_, support)


# ---------------------------------------------------------------- KMeans: weighted seeding, means, inertia


def _blobs():
    X, _ = make_blobs(300, 3, centers=4, random_state=0)
    return X, X[[5, 50, 100, 200]]


def test_weighted_kmeans_from_given_centres_equals_scikit_learn():
    X, init = _blobs()
    sw = _weights(len(X), zeros=30)
    ours = ml.KMeans(4, init=init, tol=0).fit(X, sample_weight=sw)
    ref = skc.KMeans(4, init=init, n_init=1, tol=0).fit(X, sample_weight=sw)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, atol=1e-12)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-12)
    assert ours.n_iter_ == ref.n_iter_
    assert ours.score(X, sample_weight=sw) == pytest.approx(ref.score(X, sample_weight=sw), rel=1e-12)


def test_kmeans_integer_weights_are_repeated_rows_and_unit_weights_no_weights():
    X, init = _blobs()
    counts = np.random.default_rng(19).integers(0, 4, len(X))
    weighted = ml.KMeans(4, init=init, tol=0).fit(X, sample_weight=counts)
    repeated = ml.KMeans(4, init=init, tol=0).fit(np.repeat(X, counts, 0))
    np.testing.assert_allclose(weighted.cluster_centers_, repeated.cluster_centers_, atol=1e-12)
    assert weighted.inertia_ == pytest.approx(repeated.inertia_, rel=1e-12)
    ones = ml.KMeans(4, random_state=3, n_init=2).fit(X, sample_weight=np.ones(len(X)))
    plain = ml.KMeans(4, random_state=3, n_init=2).fit(X)
    np.testing.assert_array_equal(ones.cluster_centers_, plain.cluster_centers_)


def test_weighted_kmeans_plus_plus_is_as_good_as_scikit_learns():
    X, _ = _blobs()
    sw = _weights(len(X), zeros=30)
    ours = ml.KMeans(4, random_state=0, n_init=3).fit(X, sample_weight=sw)
    ref = skc.KMeans(4, random_state=0, n_init=3).fit(X, sample_weight=sw)
    assert ours.inertia_ <= ref.inertia_ * (1 + 1e-9)
    random = ml.KMeans(4, init="random", random_state=0, n_init=10).fit(X, sample_weight=sw)  # 10: one start can stall
    assert random.inertia_ <= ref.inertia_ * 1.01


@pytest.mark.parametrize(
    ("init", "weights", "match"),
    [
        (np.zeros((3, 3)), None, r"shape \(n_clusters, n_features\) = \(4, 3\)"),
        (np.full((4, 3), np.nan), None, "finite array"),
    ],
)
def test_kmeans_bad_init_or_weights_are_named_and_change_nothing(init, weights, match):
    X, good = _blobs()
    est = ml.KMeans(4, init=good).fit(X)
    centres = est.cluster_centers_.copy()
    est.set_params(init=init)
    with pytest.raises(ValueError, match=match):
        est.fit(X, sample_weight=weights)
    np.testing.assert_array_equal(est.cluster_centers_, centres)


def test_kmeans_explicit_centres_run_once_with_scikit_learns_warning():
    X, init = _blobs()
    with pytest.warns(RuntimeWarning, match="only one run"):
        est = ml.KMeans(4, init=init, n_init=3).fit(X)
    np.testing.assert_allclose(est.cluster_centers_, skc.KMeans(4, init=init, n_init=1).fit(X).cluster_centers_, atol=1e-10)


# ---------------------------------------------------------------- MLP: scikit-learn's outputs and losses


def _mlp_pair(y_kind: str):
    X, y = make_classification(150, 5, n_informative=3, random_state=0)
    if y_kind == "strings":
        y = np.array(["no", "yes"])[y]
    elif y_kind == "multiclass":
        y = y + (X[:, 0] > 0)
    elif y_kind == "multilabel":
        y = np.c_[y, 1 - y, X[:, 0] > 0].astype(int)
    kw = {"hidden_layer_sizes": (7,), "random_state": 0, "max_iter": 5}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning at max_iter
        return X, y, ml.MLPClassifier(**kw).fit(X, y), skn.MLPClassifier(**kw).fit(X, y)


@pytest.mark.parametrize("y_kind", ["binary", "strings", "multiclass", "multilabel"])
def test_mlp_classifier_has_scikit_learns_output_layer(y_kind):
    X, _, ours, ref = _mlp_pair(y_kind)
    assert ours.n_outputs_ == ref.n_outputs_
    assert ours.out_activation_ == ref.out_activation_
    assert [c.shape for c in ours.coefs_] == [c.shape for c in ref.coefs_]
    assert [b.shape for b in ours.intercepts_] == [b.shape for b in ref.intercepts_]
    np.testing.assert_array_equal(ours.classes_, ref.classes_)
    proba = ours.predict_proba(X)
    assert proba.shape == ref.predict_proba(X).shape
    if y_kind != "multilabel":
        np.testing.assert_allclose(proba.sum(1), 1.0)
        np.testing.assert_array_equal(ours.predict(X), ours.classes_[proba.argmax(1)])


def _penalty(est, alpha: float, batch: int) -> float:
    return alpha / (2 * batch) * sum(float((W * W).sum()) for W in est.coefs_)


def _first_loss(make, X, y, alpha):
    """``loss_curve_[0]`` of one full-batch epoch whose step barely moves the weights: the loss at them."""
    est = make(hidden_layer_sizes=(6,), random_state=0, max_iter=1, learning_rate_init=1e-12, alpha=alpha,
               batch_size=len(X))  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    return est, est.loss_curve_[0]


@pytest.mark.parametrize("alpha", [1e-4, 3.0])
@pytest.mark.parametrize("task", ["binary", "multilabel", "regression"])
def test_loss_curve_is_scikit_learns_loss(task, alpha):
    """The same formula holds for scikit-learn's own MLP and for ours: the mean log loss summed over the
    logistic outputs (½ mean squared error for regression) plus ``α/(2B) Σ‖W‖²``."""
    if task == "regression":
        X, y = make_regression(120, 4, n_targets=2, random_state=0)

        def loss(est):
            return 0.5 * float(((est.predict(X) - y) ** 2).mean())

        pair = (ml.MLPRegressor, skn.MLPRegressor)
    else:
        X, y = make_classification(120, 5, random_state=0)
        if task == "multilabel":
            y = np.c_[y, 1 - y, X[:, 0] > 0].astype(int)

        def loss(est):
            P = est.predict_proba(X)
            return log_loss(y, P) if y.ndim == 1 else sum(log_loss(y[:, j], P[:, j]) for j in range(y.shape[1]))

        pair = (ml.MLPClassifier, skn.MLPClassifier)
    for make in pair:
        est, first = _first_loss(make, X, y, alpha)
        assert first == pytest.approx(loss(est) + _penalty(est, alpha, len(X)), rel=1e-9), make


def test_binary_mlp_trains_as_scikit_learns():
    X, y = make_classification(400, 6, n_informative=4, class_sep=2.0, random_state=3)
    kw = {"hidden_layer_sizes": (16,), "random_state": 1, "max_iter": 150, "learning_rate_init": 0.01}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, ref = ml.MLPClassifier(**kw).fit(X, y), skn.MLPClassifier(**kw).fit(X, y)
    assert (ours.predict(X) == ref.predict(X)).mean() >= 0.97
    assert ours.loss_ == pytest.approx(ref.loss_, rel=0.35)
    assert ours.loss_curve_[-1] < 0.2 * ours.loss_curve_[0]
