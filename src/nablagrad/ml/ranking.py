"""Ranking (lecture 004 lists it among the task types): a pairwise ranking loss, a linear ranker
trained with it, and the NDCG metric.

For a query with documents scored ``s_i`` and graded relevances ``r_i``, every pair with
``r_i > r_j`` should be ordered ``s_i > s_j``.  The pairwise loss averages over those pairs

* ``"logistic"`` (RankNet): ``ln(1 + e^{−(s_i − s_j)})``,
* ``"hinge"``: ``max(0, margin − (s_i − s_j))``.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np

from ..autodiff import Tensor, as_tensor, relu
from ..nn.functional import binary_cross_entropy_with_logits
from ._params import Interval, Options
from ._solvers import engine_objective, lbfgs
from .base import BaseEstimator, check_is_fitted, check_X_y, validate_features
from .metrics import _check_sample_weight


def _pairs(relevance: np.ndarray, groups: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Indices (i, j) of the pairs with ``r_i > r_j`` inside the same group."""
    r = np.asarray(relevance, dtype=np.float64).reshape(-1)
    g = np.zeros(len(r), dtype=np.int64) if groups is None else np.asarray(groups).reshape(-1)
    if len(g) != len(r):
        raise ValueError(f"ranking: {len(r)} relevances but {len(g)} group ids")
    better = (r[:, None] > r[None, :]) & (g[:, None] == g[None, :])
    return np.nonzero(better)


def pairwise_ranking_loss(scores, relevance, groups=None, kind: str = "logistic", margin: float = 1.0) -> Tensor:
    """Mean over the pairs with ``r_i > r_j`` (in the same ``groups`` entry) of the logistic
    ``ln(1 + e^{−(s_i − s_j)})`` or the hinge ``max(0, margin − (s_i − s_j))``; a tensor, so the
    engine differentiates it."""
    if kind not in ("logistic", "hinge"):
        raise ValueError(f"pairwise_ranking_loss: kind must be 'logistic' or 'hinge', got {kind!r}")
    s = as_tensor(scores).reshape(-1)
    i, j = _pairs(relevance, groups)
    if len(i) == 0:
        raise ValueError("pairwise_ranking_loss: no pair with different relevances (in the same group) to order")
    diff = s[i] - s[j]
    if kind == "hinge":
        return relu(margin - diff).mean()
    return binary_cross_entropy_with_logits(diff, np.ones(len(i)), reduction="mean")


def _queries(y_true, y_score, who: str) -> tuple[np.ndarray, np.ndarray]:
    """Relevances and scores as finite float ``(n_queries, n_documents)`` arrays of one shape."""
    R, S = np.asarray(y_true), np.asarray(y_score)
    if R.ndim != 2 or R.shape[1] < 2:
        raise ValueError(f"{who}: y_true must be 2-D, one row per query and one column per document (at least 2), got "
                         f"shape {R.shape}; for a single query pass y_true[None, :] and y_score[None, :]")  # fmt: skip
    if R.shape != S.shape:
        raise ValueError(f"{who}: y_true has shape {R.shape} but y_score {S.shape}; give one score per document")
    R, S = R.astype(np.float64), S.astype(np.float64)
    if not (np.all(np.isfinite(R)) and np.all(np.isfinite(S))):
        raise ValueError(f"{who}: Input contains NaN or infinity; remove or impute those values first")
    return R, S


def _check_k(k, who: str) -> None:
    if k is not None and (isinstance(k, bool) or not isinstance(k, Integral) or k < 1):
        raise ValueError(f"{who}: k must be an integer >= 1 (the number of top-ranked documents) or None, got {k!r}")


def _dcg_rows(R: np.ndarray, S: np.ndarray, k: int | None, log_base: float, ignore_ties: bool) -> np.ndarray:
    """Per query ``Σ_{rank p ≤ k} r_(p) / log_b(p + 1)``, documents sorted by decreasing score.

    Tied scores share the mean gain of their group spread over the group's discounts (scikit-learn's
    tie-averaged DCG); ``ignore_ties`` takes ``argsort``'s order instead, as scikit-learn does."""
    discount = 1 / (np.log(np.arange(R.shape[1]) + 2) / np.log(log_base))
    if k is not None:
        discount[k:] = 0
    if ignore_ties:
        ranking = np.argsort(S)[:, ::-1]
        return discount @ R[np.arange(len(R))[:, None], ranking].T
    cum = np.concatenate([[0.0], np.cumsum(discount)])
    out = np.empty(len(R))
    for row, (r, s) in enumerate(zip(R, S)):
        _, inverse, counts = np.unique(-s, return_inverse=True, return_counts=True)  # groups of tied scores, best first
        gains = np.bincount(inverse, weights=r) / counts
        ends = np.cumsum(counts)
        out[row] = (gains * (cum[ends] - cum[ends - counts])).sum()
    return out


def dcg_score(y_true, y_score, *, k: int | None = None, log_base: float = 2, sample_weight=None,
              ignore_ties: bool = False) -> float:  # fmt: skip
    """Discounted cumulative gain, averaged over queries (rows) weighted by ``sample_weight``:
    ``mean_q Σ_{rank p ≤ k} r_(p) / log_b(p + 1)`` with each query's documents sorted by decreasing
    score, as ``sklearn.metrics.dcg_score``.  ``y_true``, ``y_score``: ``(n_queries, n_documents)``."""
    R, S = _queries(y_true, y_score, "dcg_score")
    _check_k(k, "dcg_score")
    if isinstance(log_base, bool) or not isinstance(log_base, Real) or not log_base > 0:
        raise ValueError(f"dcg_score: log_base must be a number > 0, got {log_base!r}")
    w = _check_sample_weight(sample_weight, len(R), "dcg_score")
    return float(np.average(_dcg_rows(R, S, k, log_base, ignore_ties), weights=w))


def ndcg_score(y_true, y_score, *, k: int | None = None, sample_weight=None, ignore_ties: bool = False) -> float:
    """Normalised DCG, ``DCG / DCG of the ideal order`` per query, averaged over queries weighted by
    ``sample_weight``; a query with no relevant document counts 0 (``sklearn.metrics.ndcg_score``)."""
    R, S = _queries(y_true, y_score, "ndcg_score")
    if np.any(R < 0):
        raise ValueError("ndcg_score: relevances (y_true) must be non-negative; shift or clip them to >= 0")
    _check_k(k, "ndcg_score")
    w = _check_sample_weight(sample_weight, len(R), "ndcg_score")
    actual, ideal = _dcg_rows(R, S, k, 2, ignore_ties), _dcg_rows(R, R, k, 2, True)
    gain = np.where(ideal > 0, actual / np.where(ideal > 0, ideal, 1.0), 0.0)
    return float(np.average(gain, weights=w))


class LinearRanker(BaseEstimator):
    """Scores ``s = ⟨w, x⟩`` learned by minimising ``C·pairwise_ranking_loss + ½‖w‖²`` with L-BFGS
    (the engine's gradient); ``fit(X, relevance, groups=None)``, ``predict(X)`` gives scores."""

    _parameter_constraints = {
        "C": [Interval(Real, 0, None, closed="neither")],
        "kind": [Options({"logistic", "hinge"})],
        "max_iter": [Interval(Integral, 1, None)],
    }

    def __init__(self, C: float = 10.0, kind: str = "logistic", max_iter: int = 500):
        self.C = C
        self.kind = kind
        self.max_iter = max_iter

    def fit(self, X, y, groups=None):
        """Learn ``w`` from relevances ``y`` (pairs compared within each ``groups`` id)."""
        X, y = check_X_y(X, y, y_numeric=True, est=self)  # one relevance per row, finite, as scikit-learn checks
        if groups is not None and len(np.asarray(groups)) != len(X):
            raise ValueError(f"LinearRanker.fit: groups has {len(np.asarray(groups))} entries but X has {len(X)} rows; give "
                             "one query id per row")  # fmt: skip
        if len(X) < 2:
            raise ValueError(f"LinearRanker.fit: got n_samples={len(X)}; ranking orders pairs of samples, so it needs at "
                             "least 2 samples with different relevances")  # fmt: skip
        validate_features(self, X, reset=True)
        Xt = as_tensor(X, device="cpu")

        def objective(w):
            return self.C * pairwise_ranking_loss(Xt @ w, y, groups, kind=self.kind) + 0.5 * (w * w).sum()

        self.coef_, self.n_iter_ = lbfgs(engine_objective(objective), np.zeros(X.shape[1]), max_iter=self.max_iter)
        return self

    def predict(self, X):
        X = self._check_X(X, "coef_")
        return X @ self.coef_

    def score(self, X, y) -> float:
        """NDCG of the predicted order (one query)."""
        check_is_fitted(self, "coef_")
        return ndcg_score(np.asarray(y)[None, :], self.predict(X)[None, :])
