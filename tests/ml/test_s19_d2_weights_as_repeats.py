"""Integer ``sample_weight`` fits exactly as repeated rows (zero: as removed rows), whatever the rows'
order, for KMeans and KernelSVC with their default settings — the property scikit-learn's
``check_sample_weight_equivalence_on_dense_data`` tests (issue 5: no expected failures) — checked
here on more data than that check's one draw, and against scikit-learn's SVC on the repeated rows."""

import numpy as np
import pytest
from sklearn import svm as sks
from sklearn.utils import shuffle

from nablagrad import ml


def _data(seed: int, n: int = 30, p: int = 4, classes: int = 3, ties: bool = False):
    """Rows, labels, integer weights (zeros included), the repeated rows and a shuffled weighted copy."""
    rng = np.random.RandomState(seed)
    X = rng.rand(n, p)
    if ties:  # few distinct values: equal rows, equal distances, equal kernel entries
        X = np.round(2 * X)
    y = np.arange(n) % classes
    sw = rng.randint(0, 5, n)
    sw[:classes] = np.maximum(sw[:classes], 1)  # every class keeps some weight
    Xw, yw, sww = shuffle(X, y, sw, random_state=seed)
    return X, X.repeat(sw, 0), y.repeat(sw), Xw, yw, sww


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("n_init", [1, 3])
@pytest.mark.parametrize("init", ["k-means++", "random"])
def test_kmeans_weights_are_repeated_rows(seed, n_init, init):
    X, Xr, _, Xw, _, sw = _data(seed, ties=seed % 2 == 1)
    repeated = ml.KMeans(5, init=init, n_init=n_init, random_state=seed).fit(Xr)
    weighted = ml.KMeans(5, init=init, n_init=n_init, random_state=seed).fit(Xw, sample_weight=sw)
    np.testing.assert_allclose(weighted.cluster_centers_, repeated.cluster_centers_, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(weighted.predict(X), repeated.predict(X))
    assert weighted.inertia_ == pytest.approx(repeated.inertia_, rel=1e-12)
    assert weighted.score(Xw, sample_weight=sw) == pytest.approx(repeated.score(Xr), rel=1e-12)


@pytest.mark.parametrize("init", ["k-means++", "random"])
def test_kmeans_does_not_depend_on_the_rows_order(init):
    X, *_ = _data(0, n=60)
    perm = np.random.default_rng(0).permutation(len(X))
    a = ml.KMeans(6, init=init, random_state=1, n_init=2).fit(X)
    b = ml.KMeans(6, init=init, random_state=1, n_init=2).fit(X[perm])
    np.testing.assert_allclose(a.cluster_centers_, b.cluster_centers_, rtol=1e-12)
    np.testing.assert_array_equal(a.labels_[perm], b.labels_)


def test_kmeans_random_init_with_fewer_weighted_points_than_clusters_repeats_one():
    """Three rows of positive weight, four clusters: as repeating those rows (and as k-means++), the fit
    repeats a point instead of refusing; the distinct points are all centres, the inertia is 0."""
    X, *_ = _data(1, n=20)
    sw = np.r_[2.0, 1.0, 3.0, np.zeros(17)]
    for init in ("random", "k-means++"):
        weighted = ml.KMeans(4, init=init, random_state=0).fit(X, sample_weight=sw)
        repeated = ml.KMeans(4, init=init, random_state=0).fit(np.repeat(X, sw.astype(int), 0))
        np.testing.assert_allclose(weighted.cluster_centers_, repeated.cluster_centers_, rtol=1e-12)
        assert weighted.inertia_ == 0.0 and len(np.unique(weighted.cluster_centers_.round(12), axis=0)) == 3


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("params", [{}, {"kernel": "poly"}, {"kernel": "linear", "C": 0.3}])
def test_kernel_svc_weights_are_repeated_rows(seed, params):
    """Default tol=1e-3: the approximate duals are the same problem solved along the same path."""
    X, Xr, yr, Xw, yw, sw = _data(seed, classes=2 + seed % 2, ties=seed >= 2)
    repeated = ml.KernelSVC(**params).fit(Xr, yr)
    weighted = ml.KernelSVC(**params).fit(Xw, yw, sample_weight=sw)
    np.testing.assert_allclose(weighted.decision_function(X), repeated.decision_function(X), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(weighted.predict(X), repeated.predict(X))


def test_kernel_svc_weighted_gamma_scale_is_scikit_learns_on_the_repeated_rows():
    X, Xr, yr, Xw, yw, sw = _data(7)
    weighted = ml.KernelSVC(tol=1e-10).fit(Xw, yw, sample_weight=sw)
    ref = sks.SVC(tol=1e-10).fit(Xr, yr)
    assert weighted._gamma_ == pytest.approx(ref._gamma, rel=1e-12)
    np.testing.assert_allclose(weighted.decision_function(X), ref.decision_function(X), atol=1e-6)


def test_kernel_svc_equal_rows_share_their_dual_within_each_bound():
    """Equal rows are solved as one; each keeps ``0 ≤ α_i ≤ C s_i``, ``Σ α_i y_i = 0``, and the fitted
    attributes still give the scores: ``decision_function(x) = dual_coef_ · k(SV, x) + intercept_``."""
    X, _, _, Xw, yw, sw = _data(3, classes=2, ties=True)
    assert len(np.unique(Xw[sw > 0], axis=0)) < np.count_nonzero(sw)  # equal rows indeed
    est = ml.KernelSVC(C=0.7, kernel="linear").fit(Xw, yw, sample_weight=sw)
    alpha = np.abs(est.dual_coef_[0])
    assert np.all(sw[est.support_] > 0) and np.all(alpha <= 0.7 * sw[est.support_] * (1 + 1e-12))
    assert abs(est.dual_coef_.sum()) < 1e-12
    scores = est.dual_coef_[0] @ (est.support_vectors_ @ X.T) + est.intercept_[0]
    np.testing.assert_allclose(est.decision_function(X), scores, atol=1e-12)
