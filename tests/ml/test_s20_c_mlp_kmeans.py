"""MLPClassifier/MLPRegressor and KMeans(init=array) against scikit-learn (the oracle): the same training
trajectory from the same start — the L2 penalty of each mini-batch divided by that batch's own size, the
stopping epoch, the warnings — and k-means from given centres with scikit-learn's errors and warnings."""

import warnings

import numpy as np
import pytest
from sklearn import cluster as skc
from sklearn import neural_network as skn
from sklearn.datasets import make_blobs, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning as SkConvergenceWarning

from nablagrad import ml
from nablagrad.ml import cluster

# ---------------------------------------------------------------- MLP: scikit-learn's run from our start


def _data(task: str):
    if task == "regression":  # two outputs: scikit-learn's step is along ½ Σ_outputs, its loss ½ mean
        X, y = make_regression(130, 4, n_targets=2, noise=1.0, random_state=0)
        return X, y / 100, ml.MLPRegressor, skn.MLPRegressor
    X, y = make_classification(130, 5, n_informative=3, n_classes=3 if task == "multiclass" else 2, random_state=0)
    if task == "multilabel":
        y = np.c_[y, 1 - y, X[:, 0] > 0].astype(int)
    return X, y, ml.MLPClassifier, skn.MLPClassifier


def _pair(task: str, max_iter: int, **kw):
    """Ours and scikit-learn's, unshuffled, from our initial weights (read off a run whose one Adam step of
    size 1e-300 moves nothing; scikit-learn's ``warm_start`` then starts from them)."""
    X, y, ours_cls, ref_cls = _data(task)
    kw = {"hidden_layer_sizes": (6,), "random_state": 0, "learning_rate_init": 0.01, "batch_size": 32, **kw}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarnings at max_iter
        start = ours_cls(**{**kw, "learning_rate_init": 1e-300}, max_iter=1).fit(X, y)
        ours = ours_cls(**kw, max_iter=max_iter, shuffle=False).fit(X, y)
        ref = ref_cls(**kw, max_iter=1, shuffle=False, warm_start=True).fit(X, y)  # creates its attributes
        ref.coefs_, ref.intercepts_ = [c.copy() for c in start.coefs_], [b.copy() for b in start.intercepts_]
        ref.loss_curve_, ref.best_loss_, ref._no_improvement_count, ref.t_ = [], np.inf, 0, 0
        ref.set_params(max_iter=max_iter).fit(X, y)
    return X, ours, ref


@pytest.mark.parametrize("task", ["regression", "binary", "multiclass", "multilabel"])
def test_mlp_trajectory_equals_scikit_learns_with_a_short_last_batch(task):
    """130 rows in batches of 32: the last has 2, and its penalty is α/(2·2) Σ‖W‖², not α/(2·32) Σ‖W‖²."""
    X, ours, ref = _pair(task, max_iter=8, alpha=1.0)
    # the residue is Adam's ε (scikit-learn adds it to √v̂ before the bias correction of the step, torch after)
    np.testing.assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=2e-6)
    for a, b in zip(ours.coefs_ + ours.intercepts_, ref.coefs_ + ref.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=5e-5)
    out = ours.predict(X) if task == "regression" else ours.predict_proba(X)
    np.testing.assert_allclose(out, ref.predict(X) if task == "regression" else ref.predict_proba(X), atol=5e-5)


@pytest.mark.parametrize("tol", [1e-2, 1e-3])
def test_mlp_stops_at_scikit_learns_epoch(tol):
    """scikit-learn's rule: an epoch with loss > (lowest so far) − tol does not improve; more than
    n_iter_no_change = 10 of them in a row stop the run — no ConvergenceWarning then."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", ml.ConvergenceWarning)
        _, ours, ref = _pair("binary", max_iter=300, alpha=0.5, tol=tol)
    assert ours.n_iter_ == ref.n_iter_ == len(ours.loss_curve_) < 300
    assert ours.best_loss_ == pytest.approx(ref.best_loss_, rel=1e-5)


def test_mlp_n_iter_no_change_and_max_iter_warn_as_scikit_learns():
    X, y, _, _ = _data("binary")
    kw = {"hidden_layer_sizes": (4,), "random_state": 0, "max_iter": 3}
    with pytest.warns(ml.ConvergenceWarning, match=r"Maximum iterations \(3\) reached"):
        ml.MLPClassifier(**kw).fit(X, y)
    with pytest.warns(SkConvergenceWarning, match=r"Maximum iterations \(3\) reached"):
        skn.MLPClassifier(**kw).fit(X, y)
    # a huge tol: no epoch after the first (which improves on ∞) counts, so 1 + (n_iter_no_change + 1) epochs run
    for n in (1, 4):
        ours = ml.MLPClassifier(**{**kw, "max_iter": 50}, tol=1e9, n_iter_no_change=n).fit(X, y)
        ref = skn.MLPClassifier(**{**kw, "max_iter": 50}, tol=1e9, n_iter_no_change=n).fit(X, y)
        assert ours.n_iter_ == ref.n_iter_ == n + 2


def test_mlp_batch_size_above_n_samples_is_clipped_with_scikit_learns_warning():
    X, y, _, _ = _data("binary")
    kw = {"hidden_layer_sizes": (4,), "random_state": 0, "max_iter": 2}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ml.ConvergenceWarning)
        with pytest.warns(UserWarning, match="larger than sample size. It is going to be clipped"):
            big = ml.MLPClassifier(**kw, batch_size=1000).fit(X, y)
        whole = ml.MLPClassifier(**kw, batch_size=len(X)).fit(X, y)
    np.testing.assert_array_equal(big.loss_curve_, whole.loss_curve_)
    assert ml.MLPClassifier().get_params()["batch_size"] == skn.MLPClassifier().get_params()["batch_size"] == "auto"


# ---------------------------------------------------------------- KMeans from given centres


def _blobs():
    X, _ = make_blobs(400, 3, centers=5, cluster_std=2.5, random_state=2)  # overlapping: Lloyd needs several steps
    return X, X[:5].copy()  # a poor start


@pytest.mark.parametrize("as_list", [False, True])
def test_kmeans_from_given_centres_equals_scikit_learn(as_list):
    X, init = _blobs()
    ours = ml.KMeans(5, init=init.tolist() if as_list else init, n_init=1).fit(X)
    ref = skc.KMeans(5, init=init.tolist() if as_list else init, n_init=1).fit(X)
    assert ref.n_iter_ > 3
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-12, atol=1e-12)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-12)
    assert ours.n_iter_ == ref.n_iter_
    np.testing.assert_array_equal(ours.predict(X[::7] + 0.1), ref.predict(X[::7] + 0.1))
    np.testing.assert_allclose(ours.transform(X[:9]), ref.transform(X[:9]), rtol=1e-10)


def test_kmeans_centres_and_n_init_warn_as_scikit_learn():
    """n_init > 1 with an array: a RuntimeWarning and one run; n_init="auto" with an array: one run, silently."""
    X, init = _blobs()
    message = "Explicit initial center position passed: performing only one init in KMeans instead of n_init=3"
    with pytest.warns(RuntimeWarning, match=message):
        ref = skc.KMeans(5, init=init, n_init=3).fit(X)
    with pytest.warns(RuntimeWarning, match=message):
        ours = ml.KMeans(5, init=init, n_init=3).fit(X)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    assert ours.n_iter_ == ref.n_iter_
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        auto = ml.KMeans(5, init=init, n_init="auto").fit(X)
        skc.KMeans(5, init=init, n_init="auto").fit(X)
    np.testing.assert_array_equal(auto.cluster_centers_, ours.cluster_centers_)


def test_kmeans_n_init_auto_is_scikit_learns_start_count():
    """"auto": 10 starts for init="random", 1 for k-means++ (scikit-learn >= 1.4)."""
    X, _ = _blobs()
    for init, n in (("random", 10), ("k-means++", 1)):
        auto = ml.KMeans(5, init=init, n_init="auto", random_state=3).fit(X)
        explicit = ml.KMeans(5, init=init, n_init=n, random_state=3).fit(X)
        np.testing.assert_array_equal(auto.cluster_centers_, explicit.cluster_centers_)


@pytest.mark.parametrize(("shape", "what"), [((4, 3), "number of clusters 5"), ((5, 2), "number of features of the data 3")])
def test_kmeans_wrong_shaped_centres_raise_as_scikit_learn_and_change_nothing(shape, what):
    X, good = _blobs()
    bad = np.zeros(shape)
    message = rf"The shape of the initial centers \({shape[0]}, {shape[1]}\) does not match the {what}"
    with pytest.raises(ValueError, match=message):
        skc.KMeans(5, init=bad, n_init=1).fit(X)
    est = ml.KMeans(5, init=good).fit(X)
    before = {k: np.copy(v) for k, v in vars(est).items() if k.endswith("_")}
    est.set_params(init=bad)
    with pytest.raises(ValueError, match=message):
        est.fit(X)
    for k, v in before.items():
        np.testing.assert_array_equal(getattr(est, k), v)


@pytest.mark.parametrize("init", ["k-means++", "random"])
def test_kmeans_n_init_starts_are_one_generators_successive_seedings(init):
    """The rows are sorted once per fit; start i is still the i-th seeding drawn from one generator, and the fit
    keeps the start of lowest inertia."""
    X, _ = _blobs()
    seed = cluster.kmeans_plus_plus if init == "k-means++" else cluster.random_points
    rng = np.random.default_rng(7)
    runs = [ml.KMeans(5, init=seed(X, 5, rng), n_init=1, tol=0).fit(X) for _ in range(4)]
    best = min(runs, key=lambda r: r.inertia_)
    fit = ml.KMeans(5, init=init, n_init=4, random_state=7, tol=0).fit(X)
    np.testing.assert_array_equal(fit.cluster_centers_, best.cluster_centers_)
    assert fit.inertia_ == best.inertia_
