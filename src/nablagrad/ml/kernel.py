"""Kernel SVM (lectures 001, 004): ``f(x) = b + Σ_i α_i y_i k(x, x_i)`` with sparse α.

The dual ``min ½ αᵀQα − Σα``, ``Q_ij = y_i y_j k(x_i, x_j)``, ``0 ≤ α_i ≤ C``, ``Σ α_i y_i = 0``
is solved by SMO with second-order working-set selection (as libsvm).  Several classes:
one-vs-one with voting.  ``support_`` holds the examples with ``α_i > 0``.  (``LinearSVC`` solves
the linear kernel's dual without its Gram matrix, by :func:`._solvers.linear_svm`.)
"""

from __future__ import annotations

import itertools
from numbers import Integral, Real

import numpy as np

from ._params import Interval, Options, signature_defaults, validate_params
from .base import BaseEstimator, ClassifierMixin
from .cluster import squared_distances

_KERNEL_PARAMS = {
    "kernel": [Options({"linear", "poly", "rbf"})],
    "gamma": [Options({"scale", "auto"}), Interval(Real, 0, None, closed="neither")],
    "degree": [Interval(Integral, 0, None)],
    "coef0": [Interval(Real, None, None, closed="neither")],
}


def _resolve_gamma(gamma, X: np.ndarray) -> float:
    """scikit-learn's SVC rule: ``"scale"`` is ``1 / (n_features · Var(X))`` (1 for constant X),
    ``"auto"`` is ``1 / n_features``, a number is itself."""
    if gamma == "scale":
        v = X.var()
        return 1.0 / (X.shape[1] * v) if v > 0 else 1.0
    if gamma == "auto":
        return 1.0 / X.shape[1]
    return float(gamma)


def _kernel_input(M, name: str) -> np.ndarray:
    """One side of :func:`kernel_matrix`: a finite 2-D float array (rows are samples), else a ``ValueError``."""
    try:
        M = np.asarray(M, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"kernel_matrix: {name} must be a 2-D array of numbers (one row per sample), "
                         f"got {type(M).__name__}") from None  # fmt: skip
    if M.ndim != 2:
        raise ValueError(f"kernel_matrix: {name} must be 2-D (one row per sample), got shape {M.shape}; reshape it, "
                         f"e.g. {name}.reshape(1, -1) for one sample or {name}.reshape(-1, 1) for one feature")  # fmt: skip
    if not np.all(np.isfinite(M)):
        raise ValueError(f"kernel_matrix: {name} contains NaN or infinity; remove or impute those values first")
    return M


def kernel_matrix(A, B, kernel: str = "rbf", gamma="scale", degree: int = 3, coef0: float = 0.0) -> np.ndarray:
    """k(a, b) for all rows of ``A`` (n × p) and ``B`` (m × p), an n × m matrix: linear ⟨a, b⟩,
    poly (γ⟨a, b⟩ + c)^d, rbf exp(−γ‖a − b‖²).  ``gamma`` as :class:`KernelSVC`'s, ``"scale"``
    and ``"auto"`` computed from ``A`` (the training rows)."""
    validate_params(_KERNEL_PARAMS, {"kernel": kernel, "gamma": gamma, "degree": degree, "coef0": coef0},
                    "kernel_matrix", signature_defaults(kernel_matrix))  # fmt: skip
    A, B = _kernel_input(A, "A"), _kernel_input(B, "B")
    if A.shape[1] != B.shape[1]:
        raise ValueError(f"kernel_matrix: A has {A.shape[1]} features (columns) but B has {B.shape[1]}; both need the "
                         f"same features, e.g. training rows and test rows of the same data")  # fmt: skip
    return _kernel(A, B, kernel, _resolve_gamma(gamma, A), degree, coef0)


def _kernel(A: np.ndarray, B: np.ndarray, kernel: str, gamma: float, degree: int, coef0: float) -> np.ndarray:
    """:func:`kernel_matrix` on checked arrays and a numeric ``gamma`` (the estimator's fast path)."""
    if kernel == "linear":
        return A @ B.T
    if kernel == "poly":
        return (gamma * (A @ B.T) + coef0) ** degree
    return np.exp(-gamma * squared_distances(A, B))


def smo(K: np.ndarray, y: np.ndarray, C: float, tol: float, max_iter: int) -> tuple[np.ndarray, float, int]:
    """Solve the SVM dual for labels y ∈ {−1, +1}; returns (α, ρ, iterations) with
    f(x) = Σ α_i y_i k(x_i, x) − ρ."""
    n = len(y)
    Q = K * np.outer(y, y)
    QD = np.diag(Q).copy()
    alpha = np.zeros(n)
    G = -np.ones(n)  # ∇ (½αᵀQα − Σα) = Qα − 1
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 - returned
        up = np.where(y > 0, alpha < C, alpha > 0)  # i may move "up"
        low = np.where(y > 0, alpha > 0, alpha < C)
        score = -y * G
        if not up.any() or not low.any():
            break
        i = int(np.flatnonzero(up)[np.argmax(score[up])])
        gmax = score[i]
        gmin = score[low].min()
        if gmax - gmin < tol:
            break
        # second-order choice of j among the violators
        cand = low & (score < gmax)
        b = gmax - score[cand]
        a = QD[i] + QD[cand] - 2 * y[i] * y[cand] * K[i, cand]  # ‖φ(x_i) − φ(x_j)‖², curvature along the pair
        a = np.where(a > 0, a, 1e-12)
        j = int(np.flatnonzero(cand)[np.argmin(-(b * b) / a)])
        ai, aj = alpha[i], alpha[j]
        if y[i] != y[j]:
            quad = max(QD[i] + QD[j] + 2 * Q[i, j], 1e-12)
            delta = (-G[i] - G[j]) / quad
            diff = ai - aj
            alpha[i] += delta
            alpha[j] += delta
            if diff > 0:
                if alpha[j] < 0:
                    alpha[j], alpha[i] = 0.0, diff
            elif alpha[i] < 0:
                alpha[i], alpha[j] = 0.0, -diff
            if diff > 0:
                if alpha[i] > C:
                    alpha[i], alpha[j] = C, C - diff
            elif alpha[j] > C:
                alpha[j], alpha[i] = C, C + diff
        else:
            quad = max(QD[i] + QD[j] - 2 * Q[i, j], 1e-12)
            delta = (G[i] - G[j]) / quad
            total = ai + aj
            alpha[i] -= delta
            alpha[j] += delta
            if total > C:
                if alpha[i] > C:
                    alpha[i], alpha[j] = C, total - C
            elif alpha[j] < 0:
                alpha[j], alpha[i] = 0.0, total
            if total > C:
                if alpha[j] > C:
                    alpha[j], alpha[i] = C, total - C
            elif alpha[i] < 0:
                alpha[i], alpha[j] = 0.0, total
        G += Q[i] * (alpha[i] - ai) + Q[j] * (alpha[j] - aj)  # rows: Q is symmetric, and a row is contiguous
    free = (alpha > 0) & (alpha < C)
    yG = y * G
    if free.any():
        rho = float(yG[free].mean())
    else:
        # libsvm's calculate_rho: ρ lies between the bounded examples' y_i G_i, from above for those that
        # may only move up (α_i = C, y_i = −1; α_i = 0, y_i = +1), from below for the others
        ub = np.where(((y < 0) & (alpha >= C)) | ((y > 0) & (alpha <= 0)), yG, np.inf).min()
        lb = np.where(((y > 0) & (alpha >= C)) | ((y < 0) & (alpha <= 0)), yG, -np.inf).max()
        rho = float((ub + lb) / 2) if np.isfinite(ub) and np.isfinite(lb) else 0.0
    return alpha, rho, it


class KernelSVC(ClassifierMixin, BaseEstimator):
    """Support-vector classifier with a kernel (linear, poly, rbf); ``gamma="scale"`` is
    ``1 / (n_features · Var(X))`` as in scikit-learn."""

    _parameter_constraints = {
        "C": [Interval(Real, 0, None, closed="neither")],
        **_KERNEL_PARAMS,
        "tol": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None)],
    }

    def __init__(self, C: float = 1.0, kernel: str = "rbf", gamma="scale", degree: int = 3, coef0: float = 0.0,
                 tol: float = 1e-3, max_iter: int = 100_000):  # fmt: skip
        self.C = C
        self.kernel = kernel
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.tol = tol
        self.max_iter = max_iter

    def _k(self, A, B):
        return _kernel(A, B, self.kernel, self._gamma_, self.degree, self.coef0)

    def fit(self, X, y):
        """Solve one dual problem per pair of classes (one-vs-one) by SMO.

        Fitted as scikit-learn's ``SVC``: ``support_`` (int32, grouped by class in ``classes_``
        order, each group by index), ``support_vectors_`` (float64), ``n_support_`` (per class),
        ``dual_coef_`` ``(k − 1, n_SV)`` holding ``α_i y_i`` of each support vector in each of its
        k − 1 pairs (libsvm's layout), ``intercept_`` ``−ρ`` per pair, ``n_iter_`` per pair; for
        two classes ``dual_coef_`` and ``intercept_`` are negated so that
        ``decision_function(x) = dual_coef_ · k(SV, x) + intercept_`` is positive for ``classes_[1]``."""
        X, enc = self._fit_classes(X, y)
        X = X.astype(np.float64, copy=False)  # as libsvm: float64 support vectors and scores, whatever X's dtype
        self._gamma_ = _resolve_gamma(self.gamma, X)
        K = self._k(X, X)
        pairs, iterations = [], []
        for a, b in itertools.combinations(range(len(self.classes_)), 2):
            idx = np.flatnonzero((enc == a) | (enc == b))
            yy = np.where(enc[idx] == a, 1.0, -1.0)  # class a is the positive side of pair (a, b)
            alpha, rho, it = smo(K[np.ix_(idx, idx)], yy, float(self.C), self.tol, self.max_iter)
            iterations.append(it)
            nz = alpha > 0
            pairs.append((a, b, idx[nz], (alpha * yy)[nz], rho))
        self.pairs_ = pairs
        self.n_iter_ = np.array(iterations, dtype=np.int32)
        self.fit_status_ = 0
        self._set_support(X, enc)
        return self

    def _set_support(self, X: np.ndarray, enc: np.ndarray) -> None:
        """scikit-learn's ``SVC`` attributes from ``pairs_`` (see :meth:`fit`)."""
        k = len(self.classes_)
        used = np.zeros(len(X), dtype=bool)
        for _, _, sv, _, _ in self.pairs_:
            used[sv] = True
        support = np.flatnonzero(used)
        support = support[np.argsort(enc[support], kind="stable")]  # by class, then by index
        self.support_ = support.astype(np.int32)
        self.support_vectors_ = X[support]
        self.n_support_ = np.bincount(enc[support], minlength=k).astype(np.int32)
        self._pos = {s: i for i, s in enumerate(support.tolist())}
        dual = np.zeros((k - 1, len(support)))
        intercept = np.empty(len(self.pairs_))
        for p, (a, b, sv, coef, rho) in enumerate(self.pairs_):
            cols = [self._pos[s] for s in sv.tolist()]
            dual[np.where(enc[sv] == a, b - 1, a), cols] = coef  # class a's vectors in row b − 1, class b's in row a
            intercept[p] = -rho
        sign = -1.0 if k == 2 else 1.0  # two classes: positive for classes_[1], as scikit-learn
        self.dual_coef_, self.intercept_ = sign * dual, sign * intercept

    def _pair_scores(self, X):
        X = self._check_X(X, "support_")
        Ks = self._k(X, self.support_vectors_)
        out = []
        for a, b, sv, coef, rho in self.pairs_:
            cols = [self._pos[s] for s in sv.tolist()]
            out.append((a, b, Ks[:, cols] @ coef - rho))
        return out

    def decision_function(self, X):
        """Binary: f(x) (positive → classes_[1]); several classes: one-vs-one votes plus confidences."""
        scores = self._pair_scores(X)
        if len(self.classes_) == 2:
            return -scores[0][2]
        return _ovo_decision(scores, len(self.classes_), len(scores[0][2]))

    def predict(self, X):
        scores = self._pair_scores(X)
        if len(self.classes_) == 2:
            return self.classes_[(scores[0][2] < 0).astype(int)]
        votes = np.zeros((len(scores[0][2]), len(self.classes_)))
        for a, b, s in scores:
            votes[:, a] += s > 0
            votes[:, b] += s <= 0
        return self.classes_[votes.argmax(1)]


def _ovo_decision(scores, k: int, n: int) -> np.ndarray:
    """Votes + confidences squashed into (−⅓, ⅓), so ties break by confidence (as scikit-learn)."""
    votes = np.zeros((n, k))
    conf = np.zeros((n, k))
    for a, b, s in scores:
        votes[:, a] += s > 0
        votes[:, b] += s <= 0
        conf[:, a] += s
        conf[:, b] -= s
    return votes + conf / (3 * (np.abs(conf) + 1))
