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


def dcg_score(y_true, y_score, k: int | None = None) -> np.ndarray:
    """Per row: ``Σ_{rank p ≤ k} r_(p) / log2(p + 1)`` with documents sorted by decreasing score;
    tied scores share the mean gain of their group (as scikit-learn)."""
    R, S = np.atleast_2d(np.asarray(y_true, dtype=np.float64)), np.atleast_2d(np.asarray(y_score, dtype=np.float64))
    if R.shape != S.shape:
        raise ValueError(f"dcg_score: y_true has shape {R.shape} but y_score {S.shape}")
    m = R.shape[1]
    discount = 1.0 / np.log2(np.arange(m) + 2.0)
    if k is not None:
        discount[k:] = 0.0
    cum = np.concatenate([[0.0], np.cumsum(discount)])
    out = np.empty(len(R))
    for row, (r, s) in enumerate(zip(R, S)):
        values, inverse, counts = np.unique(-s, return_inverse=True, return_counts=True)  # groups of tied scores, best first
        gains = np.bincount(inverse, weights=r) / counts
        ends = np.cumsum(counts)
        out[row] = float((gains * (cum[ends] - cum[ends - counts])).sum())
    return out


def ndcg_score(y_true, y_score, k: int | None = None) -> float:
    """Normalised DCG, ``DCG / DCG of the ideal order``, averaged over rows (queries); a row with no
    relevant document counts 0 (as scikit-learn)."""
    R = np.atleast_2d(np.asarray(y_true, dtype=np.float64))
    if np.any(R < 0):
        raise ValueError("ndcg_score: relevances must be non-negative")
    actual, ideal = dcg_score(R, y_score, k), dcg_score(R, R, k)
    return float(np.mean(np.where(ideal > 0, actual / np.where(ideal > 0, ideal, 1.0), 0.0)))


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
