"""Clustering (lecture 004 lists it among the task types): k-means with k-means++ seeding."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np

from ._params import RANDOM_STATE, Interval, Options
from .base import BaseEstimator, TransformerMixin, check_array, check_is_fitted, prefixed_feature_names, validate_features


def squared_distances(X: np.ndarray, C: np.ndarray) -> np.ndarray:
    """``‖x_i − c_k‖²`` for all pairs, (n, k), never negative."""
    d = (X * X).sum(1)[:, None] - 2.0 * X @ C.T + (C * C).sum(1)[None, :]
    return np.maximum(d, 0.0)


def kmeans_plus_plus(X: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ (Arthur & Vassilvitskii, 2007): the first centre uniformly from the data, each
    next one drawn with probability ``D(x)² / Σ D²``, ``D(x)`` the distance to the nearest centre
    chosen so far (with ``2 + ln k`` candidates per step, keeping the one that lowers the
    inertia most, as scikit-learn)."""
    n = len(X)
    centres = np.empty((k, X.shape[1]))
    centres[0] = X[rng.integers(n)]
    closest = squared_distances(X, centres[:1])[:, 0]
    trials = 2 + int(np.log(k))
    for c in range(1, k):
        total = closest.sum()
        if total <= 0:  # fewer distinct points than clusters: repeat a point
            centres[c] = X[rng.integers(n)]
            continue
        candidates = np.searchsorted(np.cumsum(closest), rng.uniform(0, total, trials))
        candidates = np.minimum(candidates, n - 1)
        d_new = np.minimum(closest[None, :], squared_distances(X, X[candidates]).T)  # (trials, n)
        best = int(d_new.sum(1).argmin())
        centres[c], closest = X[candidates[best]], d_new[best]
    return centres


class KMeans(TransformerMixin, BaseEstimator):
    """k-means: ``min Σ_i min_k ‖x_i − c_k‖²`` (the inertia) by Lloyd's iterations — assign each
    point to its nearest centre, move each centre to the mean of its points — from ``n_init``
    k-means++ (or ``init="random"``: k distinct data points) starts, keeping the lowest inertia.
    Stops when the centres move less than ``tol`` times the mean feature variance (squared), as
    scikit-learn.
    """

    _estimator_kind = "clusterer"  # and a transformer: ``transform`` gives the distances to the centres
    _parameter_constraints = {
        "n_clusters": [Interval(Integral, 1, None)],  # and <= n_samples, checked with the data
        "init": [Options({"k-means++", "random"})],
        "n_init": [Interval(Integral, 1, None)],
        "max_iter": [Interval(Integral, 1, None)],
        "tol": [Interval(Real, 0, None)],
        "random_state": [RANDOM_STATE],
    }

    def __init__(self, n_clusters: int = 8, init: str = "k-means++", n_init: int = 1, max_iter: int = 300,
                 tol: float = 1e-4, random_state=None):  # fmt: skip
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def fit(self, X, y=None):
        """Lloyd's iterations from ``n_init`` starts; keep the one of lowest inertia.  float32 data
        gives float32 ``cluster_centers_``; ``labels_`` are int32, as scikit-learn's."""
        X = check_array(X)
        validate_features(self, X, reset=True)
        k = self.n_clusters
        if k > len(X):
            raise ValueError(f"KMeans: n_clusters={k} is more than the {len(X)} samples; use n_clusters <= {len(X)} "
                             "or pass more data")  # fmt: skip
        rng = np.random.default_rng(self.random_state)
        tol = self.tol * float(np.mean(X.var(0)))
        best = None
        for _ in range(self.n_init):
            start = kmeans_plus_plus(X, k, rng) if self.init == "k-means++" else X[rng.choice(len(X), k, replace=False)]
            run = _lloyd(X, np.asarray(start, np.float64), self.max_iter, tol)
            if best is None or run[2] < best[2]:
                best = run
        centres, labels, self.inertia_, self.n_iter_ = best
        self.cluster_centers_, self.labels_ = centres.astype(X.dtype), labels.astype(np.int32)
        return self

    def predict(self, X):
        X = self._check_X(X, "cluster_centers_")
        return squared_distances(X, self.cluster_centers_).argmin(1).astype(np.int32)

    def fit_predict(self, X, y=None):
        return self.fit(X).labels_

    def transform(self, X):
        """Distances to every centre, (n, k)."""
        X = self._check_X(X, "cluster_centers_")
        return np.sqrt(squared_distances(X, self.cluster_centers_))

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """``["kmeans0", …]``, one name per cluster (the columns of :meth:`transform`), as scikit-learn's."""
        check_is_fitted(self, "cluster_centers_")
        return prefixed_feature_names(self, "kmeans", len(self.cluster_centers_), input_features)

    def score(self, X, y=None) -> float:
        """−inertia on X (higher is better, as scikit-learn)."""
        X = self._check_X(X, "cluster_centers_")
        return -float(squared_distances(X, self.cluster_centers_).min(1).sum())


def _lloyd(X: np.ndarray, C: np.ndarray, max_iter: int, tol: float):
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 - returned
        labels = squared_distances(X, C).argmin(1)
        new = C.copy()
        for c in range(len(C)):
            members = labels == c
            if members.any():  # an empty cluster keeps its centre
                new[c] = X[members].mean(0)
        shift = float(((new - C) ** 2).sum())
        C = new
        if shift <= tol:
            break
    d = squared_distances(X, C)
    labels = d.argmin(1)
    return C, labels, float(d[np.arange(len(X)), labels].sum()), it
