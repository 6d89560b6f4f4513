"""Clustering (lecture 004 lists it among the task types): k-means with k-means++ seeding."""

from __future__ import annotations

import functools
import warnings
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np

from ._params import CALLABLE, RANDOM_STATE, InstanceOf, Interval, Options, check_random_state
from .base import BaseEstimator, TransformerMixin, check_array, check_is_fitted, prefixed_feature_names, validate_features
from .metrics import _check_sample_weight


def squared_distances(X: np.ndarray, C: np.ndarray, x_sq: np.ndarray | None = None) -> np.ndarray:
    """``‖x_i − c_k‖² = ‖x_i‖² − 2 x_i·c_k + ‖c_k‖²`` for all pairs, (n, k), never negative.  ``x_sq``: the
    ``‖x_i‖²`` when already known (k-means reuses them in every step of every start)."""
    xx = (X * X).sum(1) if x_sq is None else x_sq
    d = xx[:, None] - 2.0 * (X @ C.T) + (C * C).sum(1)[None, :]  # 2·(X Cᵀ), not (2X) Cᵀ: an (n, k) scaling, the same bits
    return np.maximum(d, 0.0)


def _sorted_rows(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(order, first): the row indices sorted by the rows' values — by the projection
    ``Σ_j x_ij v_j`` on a fixed direction ``v``, lexicographically where distinct rows tie on it —
    and whether each sorted row differs from the one before (starts a run of equal rows).

    The order depends on what the rows are, not where they stand, and equal rows are adjacent: a
    row weighted ``s`` covers the same stretch of the seeding's cumulative sums as ``s`` copies."""
    v = np.cos(np.arange(X.shape[1]) + 0.5)  # any fixed direction
    step = max(1, 2**20 // max(X.shape[1], 1))  # row blocks: a row's sum is the same bits in any block
    key = np.concatenate([(X[i : i + step] * v).sum(1) for i in range(0, len(X), step)])
    order = np.argsort(key, kind="stable")
    first = np.r_[True, key[order][1:] != key[order][:-1]]
    tied = np.flatnonzero(~first)
    if np.any(X[order[tied]] != X[order[tied - 1]]):  # distinct rows with equal keys: sort them fully
        order = np.lexsort(X.T[::-1])
        first = np.r_[True, np.any(X[order][1:] != X[order][:-1], axis=1)]
    return order, first


class SortedRows(NamedTuple):
    """What every seeding start reads, computed once per fit: the rows in :func:`_sorted_rows`' order, their
    weights (1 without), whether each starts a run of equal rows, and their squared norms ``‖x_i‖²``."""

    X: np.ndarray
    w: np.ndarray
    first: np.ndarray
    sq: np.ndarray


def sort_rows(X: np.ndarray, weights: np.ndarray | None = None) -> SortedRows:
    """The rows (and weights) sorted by :func:`_sorted_rows`, with their squared norms."""
    order, first = _sorted_rows(X)
    Xs = X[order]
    return SortedRows(Xs, np.ones(len(X)) if weights is None else weights[order], first, (Xs * Xs).sum(1))


def _draw(mass: np.ndarray, rng: np.random.Generator, size: int | None = None):
    """Index ``i`` (or ``size`` of them) drawn with probability ``mass_i / Σ mass``, by one uniform
    ``u ∈ [0, Σ mass)`` each: the ``i`` whose stretch ``[Σ_{j<i} mass_j, Σ_{j≤i} mass_j)`` holds ``u``
    (a zero mass is an empty stretch, never drawn)."""
    cumulative = np.cumsum(mass)
    u = rng.uniform(0.0, cumulative[-1], size)
    return np.minimum(np.searchsorted(cumulative, u, side="right"), len(mass) - 1)


def kmeans_plus_plus(X: np.ndarray, k: int, rng: np.random.Generator, weights: np.ndarray | None = None) -> np.ndarray:
    """k-means++ (Arthur & Vassilvitskii, 2007): the first centre drawn from the data with
    probability ``∝ s_i`` (the sample weights; uniformly without), each next one drawn with
    probability ``s(x) D(x)² / Σ s D²``, ``D(x)`` the distance to the nearest centre chosen so far
    (with ``2 + ln k`` candidates per step, keeping the one that lowers the weighted inertia most,
    as scikit-learn).  The draws run over the rows in :func:`_sorted_rows`, one uniform per pick, so
    the centres do not depend on the rows' order, and an integer weight ``s`` draws exactly as
    ``s`` repeated rows (zero: as a removed row) with the same ``rng``."""
    return _plus_plus(sort_rows(X, weights), k, rng)


def _plus_plus(rows: SortedRows, k: int, rng: np.random.Generator) -> np.ndarray:
    """:func:`kmeans_plus_plus` on rows sorted once (shared by every start of a fit)."""
    X, w, sq = rows.X, rows.w, rows.sq
    centres = np.empty((k, X.shape[1]))
    centres[0] = X[_draw(w, rng)]
    closest = squared_distances(X, centres[:1], sq)[:, 0]
    trials = 2 + int(np.log(k))
    for c in range(1, k):
        mass = closest * w
        if mass.sum() <= 0:  # fewer distinct (weighted) points than clusters: repeat a point
            centres[c] = X[_draw(w, rng)]
            continue
        candidates = _draw(mass, rng, trials)
        d_new = np.minimum(closest[None, :], squared_distances(X, X[candidates], sq).T)  # (trials, n)
        best = int((d_new @ w).argmin())
        centres[c], closest = X[candidates[best]], d_new[best]
    return centres


def random_points(X: np.ndarray, k: int, rng: np.random.Generator, weights: np.ndarray | None = None) -> np.ndarray:
    """``init="random"``: k distinct data points, each drawn with probability ``∝ s`` (the summed
    weight of a value's equal rows; 1 per row without weights) among the values not drawn yet, over
    the rows in :func:`_sorted_rows`, one uniform per draw (as :func:`kmeans_plus_plus`: order-free,
    integer weights as repeated rows).  Fewer distinct values of positive weight than ``k``: the
    others are drawn again, ``∝ s``, as k-means++ repeats a point."""
    return _random(sort_rows(X, weights), k, rng)


def _random(rows: SortedRows, k: int, rng: np.random.Generator) -> np.ndarray:
    """:func:`random_points` on rows sorted once (shared by every start of a fit)."""
    X, w, first = rows.X, rows.w, rows.first
    value = np.cumsum(first) - 1  # equal rows: one value
    total = np.bincount(value, weights=w)
    mass, picks = total.copy(), []
    for _ in range(k):
        if mass.sum() <= 0:  # every value of positive weight drawn: repeat one
            mass = total.copy()
        picks.append(int(_draw(mass, rng)))
        mass[picks[-1]] = 0.0
    return X[first][picks]


class KMeans(TransformerMixin, BaseEstimator):
    """k-means: ``min Σ_i s_i min_k ‖x_i − c_k‖²`` (the inertia; ``s_i`` the sample weights, 1
    without) by Lloyd's iterations — assign each point to its nearest centre, move each centre
    to the (weighted) mean of its points — from ``n_init`` k-means++ (or ``init="random"``: k
    distinct data points drawn with probability ``∝ s_i``, :func:`random_points`; or an array:
    those k centres, one run; or a callable ``init(X, n_clusters, random_state) -> centres``, as
    scikit-learn's) starts, keeping the lowest inertia.  ``n_init="auto"`` (the default, as
    scikit-learn ≥ 1.4): 10 starts for ``"random"`` or a callable, 1 for k-means++ or an array.
    Stops when the centres move less than ``tol`` times the mean feature variance (squared), as
    scikit-learn; with weights the weighted variance, so that integer weights fit exactly as
    repeated rows (scikit-learn's stays unweighted).
    """

    _estimator_kind = "clusterer"  # and a transformer: ``transform`` gives the distances to the centres
    _parameter_constraints = {
        "n_clusters": [Interval(Integral, 1, None)],  # and <= n_samples, checked with the data
        "init": [Options({"k-means++", "random"}), CALLABLE, InstanceOf(np.ndarray), InstanceOf(list)],
        "n_init": [Interval(Integral, 1, None), Options({"auto"})],
        "max_iter": [Interval(Integral, 1, None)],
        "tol": [Interval(Real, 0, None)],
        "random_state": [RANDOM_STATE],
    }

    def __init__(self, n_clusters: int = 8, init="k-means++", n_init: int | str = "auto", max_iter: int = 300,
                 tol: float = 1e-4, random_state=None):  # fmt: skip
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def fit(self, X, y=None, sample_weight=None):
        """Lloyd's iterations from ``n_init`` starts; keep the one of lowest inertia.  ``sample_weight``
        ``s_i`` weighs each point in the seeding, the centres (weighted means) and the inertia, as
        scikit-learn's.  float32 data gives float32 ``cluster_centers_``; ``labels_`` are int32, as
        scikit-learn's."""
        X = check_array(X)
        validate_features(self, X, reset=True)
        k = self.n_clusters
        if k > len(X):
            raise ValueError(f"KMeans: n_clusters={k} is more than the {len(X)} samples; use n_clusters <= {len(X)} "
                             "or pass more data")  # fmt: skip
        weights = _check_sample_weight(sample_weight, len(X), "KMeans.fit", ones_as_none=True)
        starts = self._starts(X, weights)
        tol = self.tol * float(np.mean(_variances(X, weights)))
        x_sq = (X * X).sum(1)  # ‖x_i‖², the same in every Lloyd step of every start
        best = None
        for start in starts:
            run = _lloyd(X, np.asarray(start(), np.float64), self.max_iter, tol, weights, x_sq)
            if best is None or run[2] < best[2]:
                best = run
        centres, labels, self.inertia_, self.n_iter_ = best
        self.cluster_centers_, self.labels_ = centres.astype(X.dtype), labels.astype(np.int32)
        return self

    def _n_starts(self) -> int:
        """``n_init``, where ``"auto"`` is scikit-learn's: 10 starts for ``init="random"`` or a callable, 1 otherwise."""
        if self.n_init == "auto":
            return 10 if callable(self.init) or (isinstance(self.init, str) and self.init == "random") else 1
        return int(self.n_init)

    def _starts(self, X: np.ndarray, weights: np.ndarray | None) -> list:
        """One callable per run giving its initial centres (checked before any run)."""
        n_init = self._n_starts()
        if callable(self.init):
            start = functools.partial(_called_init, self.init, X, self.n_clusters, check_random_state(self.random_state))
            return [start] * n_init  # one generator for all starts: each call draws on from where the last stopped
        if not isinstance(self.init, str):
            centres = _check_init(self.init, self.n_clusters, X.shape[1])
            if n_init != 1:  # as scikit-learn (its words): the same start n_init times would give the same run
                warnings.warn(f"Explicit initial center position passed: performing only one init in KMeans instead of "
                              f"n_init={n_init} (only one run: the same start gives the same run); pass n_init=1 to "
                              "silence this", RuntimeWarning, stacklevel=4)  # fmt: skip
            return [functools.partial(np.array, centres, np.float64)]
        seeding = _plus_plus if self.init == "k-means++" else _random
        rows = sort_rows(X, weights)  # independent of the start: sorted once, each start draws from them
        return [functools.partial(seeding, rows, self.n_clusters, np.random.default_rng(self.random_state))] * n_init

    def predict(self, X):
        X = self._check_X(X, "cluster_centers_")
        return squared_distances(X, self.cluster_centers_).argmin(1).astype(np.int32)

    def fit_predict(self, X, y=None, sample_weight=None):
        return self.fit(X, sample_weight=sample_weight).labels_

    def transform(self, X):
        """Distances to every centre, (n, k)."""
        X = self._check_X(X, "cluster_centers_")
        return np.sqrt(squared_distances(X, self.cluster_centers_))

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """``["kmeans0", …]``, one name per cluster (the columns of :meth:`transform`), as scikit-learn's."""
        check_is_fitted(self, "cluster_centers_")
        return prefixed_feature_names(self, "kmeans", len(self.cluster_centers_), input_features)

    def score(self, X, y=None, sample_weight=None) -> float:
        """−(weighted) inertia on X (higher is better, as scikit-learn)."""
        X = self._check_X(X, "cluster_centers_")
        d = squared_distances(X, self.cluster_centers_).min(1)
        weights = _check_sample_weight(sample_weight, len(X), "KMeans.score")
        return -float(d.sum() if weights is None else d @ weights)


def _variances(X: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """Per-feature variance ``Σ_i s_i (x_ij − x̄_j)² / Σ s`` with ``x̄ = Σ s_i x_i / Σ s`` (the
    repeated rows' variance for integer weights; plain ``X.var(0)`` without weights)."""
    if weights is None:
        return X.var(0)
    mean = weights @ X / weights.sum()
    return weights @ (X - mean) ** 2 / weights.sum()


def _called_init(init, X: np.ndarray, k: int, random_state) -> np.ndarray:
    """The centres a callable ``init(X, n_clusters, random_state=...)`` returns.  As scikit-learn's, it is
    given the centred data ``X − x̄`` (scikit-learn clusters centred data) and its centres are shifted back
    by ``x̄``: a callable returning data rows gives those rows, one returning zeros gives the mean."""
    mean = X.mean(0)
    return _check_init(init(X - mean, k, random_state=random_state), k, X.shape[1], "init(X, n_clusters, random_state)") + mean


def _check_init(init, k: int, p: int, what: str = "init") -> np.ndarray:
    """An explicit ``init`` (or what a callable one returned, ``what``): a finite (n_clusters, n_features)
    array of centres."""
    centres = np.asarray(init, dtype=np.float64) if np.asarray(init).dtype.kind in "fiub" else None
    if centres is None or centres.shape != (k, p) or not np.all(np.isfinite(centres)):
        shape = np.shape(init) if centres is None or centres.ndim else ()
        mismatch = ""  # scikit-learn's words for a wrong number of rows or of columns
        if centres is not None and centres.ndim == 2:
            wrong = f"clusters {k}" if shape[0] != k else f"features of the data {p}" if shape[1] != p else ""
            mismatch = wrong and f"The shape of the initial centers {shape} does not match the number of {wrong}. "
        must = "init must be 'k-means++', 'random', a callable or" if what == "init" else f"{what} must return"
        raise ValueError(f"KMeans: {mismatch}{must} a finite array of shape (n_clusters, n_features) = ({k}, {p}) "
                         f"of numbers, got shape {shape}; give one starting centre per cluster")  # fmt: skip
    return centres


def _weighted_means(X: np.ndarray, labels: np.ndarray, C: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """Lloyd's update step: centre ``c`` becomes ``Σ_{i: label_i = c} s_i x_i / Σ_{i: label_i = c} s_i``
    (``s_i = 1`` without weights); a cluster of no points, or of weight 0, keeps its centre ``C[c]``.
    The sums are one product ``M X`` of the (k, n) membership matrix ``M_ci = s_i [label_i = c]``: one
    BLAS call, the same shape of work as the assignment step's ``X Cᵀ`` (one ``bincount`` per feature
    was ten times slower on wide data, 5000 × 1000; a mask per cluster, k Python passes)."""
    k, n = len(C), len(X)
    mass = np.bincount(labels, weights=weights, minlength=k)
    member = np.zeros((k, n))
    member[labels, np.arange(n)] = 1.0 if weights is None else weights
    sums = member @ X
    filled = mass > 0
    return np.where(filled[:, None], sums / np.where(filled, mass, 1.0)[:, None], C)


def _lloyd(X: np.ndarray, C: np.ndarray, max_iter: int, tol: float, weights: np.ndarray | None = None,
           x_sq: np.ndarray | None = None):  # fmt: skip
    """Lloyd's iterations from centres ``C``: (centres, labels, inertia, iterations).  With
    ``weights`` each centre is its points' weighted mean (a cluster whose points all weigh 0 is
    empty: it keeps its centre) and the inertia is ``Σ s_i ‖x_i − c‖²``.  ``x_sq``: the rows' ``‖x_i‖²``."""
    x_sq = (X * X).sum(1) if x_sq is None else x_sq
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 - returned
        labels = squared_distances(X, C, x_sq).argmin(1)
        new = _weighted_means(X, labels, C, weights)
        shift = float(((new - C) ** 2).sum())
        C = new
        if shift <= tol:
            break
    d = squared_distances(X, C, x_sq)
    labels = d.argmin(1)
    closest = d[np.arange(len(X)), labels]
    return C, labels, float(closest.sum() if weights is None else closest @ weights), it
