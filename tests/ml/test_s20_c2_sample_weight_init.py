"""MLPClassifier/MLPRegressor ``fit(X, y, sample_weight)`` and KMeans' ``n_init="auto"`` default and callable
``init`` against scikit-learn (the oracle): each mini-batch's loss ``(Σ s_i ℓ_i + α/2 Σ‖W‖²) / Σ s_i`` gives
scikit-learn's trajectory from the same start; integer weights fit as repeated rows where scikit-learn's do
(one full batch); a callable init gets scikit-learn's centred data and random state."""

import warnings

import numpy as np
import pytest
from sklearn import cluster as skc
from sklearn.datasets import make_blobs

# ---------------------------------------------------------------- MLP sample_weight
from test_s20_c_mlp_kmeans import _data  # noqa: E402 - the same four tasks (the sibling module, by its unique name)

from nablagrad import ml


def _sample_weight(n: int) -> np.ndarray:
    sw = np.random.default_rng(3).uniform(0.0, 3.0, n)
    sw[5:9] = 0.0  # zero weights inside a batch
    return sw


def _sklearn_from(start, ref_cls, kw: dict, X, y, max_iter: int, sample_weight):
    """scikit-learn's unshuffled run from ``start``'s initial weights (its ``warm_start`` keeps them)."""
    ref = ref_cls(**kw, max_iter=1, shuffle=False, warm_start=True).fit(X, y)  # creates its attributes
    ref.coefs_, ref.intercepts_ = [c.copy() for c in start.coefs_], [b.copy() for b in start.intercepts_]
    ref.loss_curve_, ref.best_loss_, ref._no_improvement_count, ref.t_ = [], np.inf, 0, 0
    return ref.set_params(max_iter=max_iter).fit(X, y, sample_weight=sample_weight)


@pytest.mark.parametrize("task", ["regression", "binary", "multiclass", "multilabel"])
def test_weighted_mlp_trajectory_equals_scikit_learns(task):
    """130 rows in batches of 32 with non-uniform weights: every batch's loss and penalty divided by its weight sum."""
    X, y, ours_cls, ref_cls = _data(task)
    sw = _sample_weight(len(X))
    kw = {"hidden_layer_sizes": (6,), "random_state": 0, "learning_rate_init": 0.01, "batch_size": 32, "alpha": 1.0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarnings at max_iter
        start = ours_cls(**{**kw, "learning_rate_init": 1e-300}, max_iter=1).fit(X, y)  # initial weights only
        ours = ours_cls(**kw, max_iter=8, shuffle=False).fit(X, y, sample_weight=sw)
        ref = _sklearn_from(start, ref_cls, kw, X, y, 8, sw)
        unweighted = _sklearn_from(start, ref_cls, kw, X, y, 8, None)
    assert np.abs(np.array(unweighted.loss_curve_) / ref.loss_curve_ - 1).max() > 1e-3  # the weights matter
    np.testing.assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=5e-6)
    for a, b in zip(ours.coefs_ + ours.intercepts_, ref.coefs_ + ref.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("task", ["regression", "multiclass"])
def test_mlp_integer_weights_are_repeated_rows_in_one_batch(task):
    """With one batch (``"auto"``: up to 200 rows) weight k is k copies of the row — in scikit-learn too."""
    X, y, ours_cls, ref_cls = _data(task)
    X, y = X[:60], y[:60]
    counts = np.random.default_rng(0).integers(0, 4, len(X))
    kw = {"hidden_layer_sizes": (5,), "random_state": 0, "max_iter": 30}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Xr, yr = np.repeat(X, counts, 0), np.repeat(y, counts, 0)
        runs = [(cls(**kw).fit(X, y, sample_weight=counts), cls(**kw).fit(Xr, yr)) for cls in (ours_cls, ref_cls)]
    for weighted, repeated in runs:
        np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-10)
        for a, b in zip(weighted.coefs_, repeated.coefs_):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_mlp_unit_weights_are_no_weights_and_a_zero_weight_batch_stays_finite():
    X, y, _, _ = _data("multiclass")
    kw = {"hidden_layer_sizes": (5,), "random_state": 0, "max_iter": 3, "batch_size": 26, "shuffle": False}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ones = ml.MLPClassifier(**kw).fit(X, y, sample_weight=np.ones(len(X)))
        none = ml.MLPClassifier(**kw).fit(X, y)
        sw = np.ones(len(X))
        sw[:26] = 0.0  # the first batch weighs nothing (scikit-learn: ZeroDivisionError)
        zero = ml.MLPClassifier(**kw).fit(X, y, sample_weight=sw)
    np.testing.assert_array_equal(ones.loss_curve_, none.loss_curve_)
    for a, b in zip(ones.coefs_, none.coefs_):
        np.testing.assert_array_equal(a, b)
    assert np.all(np.isfinite(zero.loss_curve_)) and all(np.isfinite(c).all() for c in zero.coefs_)
    assert sw[0] == 0.0 and sw[26] == 1.0  # the caller's weights untouched


@pytest.mark.parametrize(
    ("sample_weight", "match"),
    [(np.ones(5), "sample_weight has shape"), (-np.ones(130), "non-negative"), (np.zeros(130), "all zero")],
)
def test_mlp_bad_sample_weight_is_refused_and_changes_nothing(sample_weight, match):
    X, y, _, _ = _data("binary")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = ml.MLPClassifier(hidden_layer_sizes=(4,), random_state=0, max_iter=2).fit(X, y)
    coefs = [c.copy() for c in est.coefs_]
    with pytest.raises(ValueError, match=match):
        est.fit(X[:, :3], y, sample_weight=sample_weight)
    assert est.n_features_in_ == 5
    for a, b in zip(est.coefs_, coefs):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------- KMeans: n_init="auto", callable init


def _blobs():
    X, _ = make_blobs(300, 3, centers=6, cluster_std=2.5, random_state=1)
    return X


def _draw_rows(X, n_clusters, random_state):
    return X[random_state.choice(len(X), n_clusters, replace=False)]


def _fixed(X, n_clusters, random_state):  # constants: where they land depends on the centring of X
    return np.linspace(-3.0, 3.0, n_clusters * X.shape[1]).reshape(n_clusters, -1)


@pytest.mark.parametrize("n_init", ["auto", 1, 3])
@pytest.mark.parametrize("init", [_draw_rows, _fixed])
def test_kmeans_callable_init_equals_scikit_learn(init, n_init):
    """max_iter=2: the result depends on the start, so the starts (and their draws) must be scikit-learn's."""
    X = _blobs()
    ours = ml.KMeans(6, init=init, n_init=n_init, max_iter=2, random_state=7).fit(X)
    ref = skc.KMeans(6, init=init, n_init=n_init, max_iter=2, random_state=7).fit(X)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-10, atol=1e-10)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-10)


def test_kmeans_callable_init_is_called_as_scikit_learn_calls_it():
    X = _blobs()
    seen = {"ours": [], "ref": []}

    def init(who):
        def call(X, n_clusters, random_state):
            seen[who].append((X.copy(), n_clusters, random_state.randint(1000)))
            return X[:n_clusters].copy()  # not a view: scikit-learn's runs would write into its X
        return call

    ml.KMeans(4, init=init("ours"), max_iter=2, random_state=3).fit(X)
    skc.KMeans(4, init=init("ref"), max_iter=2, random_state=3).fit(X)
    assert len(seen["ours"]) == len(seen["ref"]) == 10  # n_init="auto": 10 starts for a callable
    for (xa, ka, ra), (xb, kb, rb) in zip(seen["ours"], seen["ref"]):
        np.testing.assert_allclose(xa, xb, atol=1e-12)  # the centred data
        assert (ka, ra) == (kb, rb)  # n_clusters, and the same draws from the same RandomState


def test_kmeans_n_init_auto_is_the_default_as_scikit_learn():
    X = _blobs()
    assert ml.KMeans().get_params()["n_init"] == skc.KMeans().get_params()["n_init"] == "auto"
    auto = ml.KMeans(6, init="random", max_iter=2, random_state=0).fit(X)
    ten = ml.KMeans(6, init="random", n_init=10, max_iter=2, random_state=0).fit(X)
    assert auto.inertia_ == ten.inertia_
    pp = ml.KMeans(6, max_iter=2, random_state=0).fit(X)
    assert pp.inertia_ == ml.KMeans(6, n_init=1, max_iter=2, random_state=0).fit(X).inertia_


def test_kmeans_callable_init_of_a_wrong_shape_is_refused_and_changes_nothing():
    X = _blobs()
    est = ml.KMeans(4, random_state=0).fit(X)
    centres = est.cluster_centers_.copy()
    message = "The shape of the initial centers (3, 3) does not match the number of clusters 4."
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        skc.KMeans(4, init=lambda X, k, random_state: X[:3]).fit(X)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        est.set_params(init=lambda X, k, random_state: X[:3]).fit(X)
    np.testing.assert_array_equal(est.cluster_centers_, centres)
