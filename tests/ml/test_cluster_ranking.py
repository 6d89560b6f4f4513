"""KMeans against scikit-learn; the ranking loss against PyTorch; NDCG against scikit-learn."""

import numpy as np
import pytest
import torch
from sklearn import cluster, metrics
from sklearn.datasets import make_blobs

import nablagrad as ng
from nablagrad import ml


@pytest.mark.parametrize("k", [3, 5])
def test_kmeans_matches_scikit_learn(k):
    X, _ = make_blobs(600, 4, centers=k, cluster_std=1.0, random_state=k)
    ours = ml.KMeans(k, n_init=5, random_state=0).fit(X)
    ref = cluster.KMeans(k, n_init=5, random_state=0).fit(X)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-9)
    assert metrics.adjusted_rand_score(ours.labels_, ref.labels_) == 1.0  # the same partition, up to naming
    # the centres are the means of their points; predict is the nearest centre
    for c in range(k):
        np.testing.assert_allclose(ours.cluster_centers_[c], X[ours.labels_ == c].mean(0), atol=1e-12)
    np.testing.assert_array_equal(ours.predict(X), ours.labels_)
    assert ours.score(X) == pytest.approx(-ours.inertia_)


def test_kmeans_plus_plus_beats_random_starts_on_average():
    X, _ = make_blobs(500, 2, centers=10, cluster_std=0.5, random_state=3)
    pp = [ml.KMeans(10, init="k-means++", random_state=s, max_iter=1).fit(X).inertia_ for s in range(20)]
    rnd = [ml.KMeans(10, init="random", n_init=1, random_state=s, max_iter=1).fit(X).inertia_ for s in range(20)]
    assert np.mean(pp) < 0.7 * np.mean(rnd)
    with pytest.raises(ml.InvalidParameterError, match=r"'n_clusters' parameter of KMeans must be an int in the range \[1, inf"):
        ml.KMeans(0).fit(X)
    with pytest.raises(ValueError, match="n_clusters=501 is more than the 500 samples"):
        ml.KMeans(501).fit(X)


def test_pairwise_ranking_losses_match_torch():
    rng = np.random.default_rng(0)
    s, r = rng.standard_normal(7), np.array([2, 0, 1, 1, 0, 2, 3])
    i, j = np.nonzero(r[:, None] > r[None, :])
    for kind in ("logistic", "hinge"):
        st = torch.tensor(s, requires_grad=True)
        if kind == "hinge":
            ref = torch.nn.functional.margin_ranking_loss(st[i], st[j], torch.ones(len(i), dtype=torch.float64), margin=1.0)
        else:
            ref = torch.nn.functional.softplus(-(st[i] - st[j])).mean()
        ref.backward()
        x = ng.tensor(s, requires_grad=True)
        loss = ml.pairwise_ranking_loss(x, r, kind=kind)
        loss.backward()
        assert loss.item() == pytest.approx(ref.item(), rel=1e-12)
        np.testing.assert_allclose(x.grad.numpy(), st.grad.numpy(), rtol=1e-12, atol=1e-15)
    # groups: pairs only inside a query
    g = np.array([0, 0, 0, 1, 1, 1, 1])
    x = ng.tensor(s)
    within = [ml.pairwise_ranking_loss(x[g == q], r[g == q]).item() for q in (0, 1)]
    n_pairs = [int(((r[g == q][:, None] > r[g == q][None, :])).sum()) for q in (0, 1)]
    expected = (within[0] * n_pairs[0] + within[1] * n_pairs[1]) / sum(n_pairs)
    assert ml.pairwise_ranking_loss(x, r, groups=g).item() == pytest.approx(expected, rel=1e-12)


def test_ndcg_matches_scikit_learn_with_ties_and_cutoffs():
    rng = np.random.default_rng(1)
    R = rng.integers(0, 4, (6, 10)).astype(float)
    S = np.round(rng.standard_normal((6, 10)), 1)  # rounded: ties
    S[0, :5] = 0.3
    for k in (None, 1, 3, 10):
        assert ml.ndcg_score(R, S, k=k) == pytest.approx(metrics.ndcg_score(R, S, k=k), rel=1e-12)
        assert ml.dcg_score(R, S, k=k) == pytest.approx(metrics.dcg_score(R, S, k=k), rel=1e-12)


def test_linear_ranker_learns_the_order():
    rng = np.random.default_rng(2)
    w_true = np.array([1.0, -2.0, 0.5])
    X, Xt = rng.standard_normal((120, 3)), rng.standard_normal((120, 3))
    grade = lambda X: np.digitize(X @ w_true + 0.3 * rng.standard_normal(len(X)), [-1.0, 0.0, 1.0])  # relevance 0..3
    y, yt = grade(X), grade(Xt)
    ranker = ml.LinearRanker().fit(X, y)
    cos = ranker.coef_ @ w_true / np.linalg.norm(ranker.coef_) / np.linalg.norm(w_true)
    assert cos > 0.98
    assert ranker.score(Xt, yt) > 0.95 > ml.ndcg_score(yt[None, :], rng.standard_normal((1, 120)))
