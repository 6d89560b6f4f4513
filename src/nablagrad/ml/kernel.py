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
from .metrics import _check_sample_weight

_KERNEL_PARAMS = {
    "kernel": [Options({"linear", "poly", "rbf"})],
    "gamma": [Options({"scale", "auto"}), Interval(Real, 0, None, closed="neither")],
    "degree": [Interval(Integral, 0, None)],
    "coef0": [Interval(Real, None, None, closed="neither")],
}


def _resolve_gamma(gamma, X: np.ndarray, weights: np.ndarray | None = None) -> float:
    """scikit-learn's SVC rule: ``"scale"`` is ``1 / (n_features · Var(X))`` (1 for constant X),
    ``"auto"`` is ``1 / n_features``, a number is itself.  With row weights ``Var(X)`` is the
    weighted variance of all entries (the repeated rows' variance for integer weights)."""
    if gamma == "scale":
        if weights is None:
            v = X.var()
        else:
            mean = weights @ X.mean(1) / weights.sum()
            v = weights @ ((X - mean) ** 2).mean(1) / weights.sum()
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


def smo(K: np.ndarray, y: np.ndarray, C: float | np.ndarray, tol: float, max_iter: int) -> tuple[np.ndarray, float, int]:
    """Solve the SVM dual ``min ½αᵀQα − Σα``, ``0 ≤ α_i ≤ C_i``, ``Σ α_i y_i = 0`` for labels
    y ∈ {−1, +1} (``C`` one bound for all, or one per sample: ``C·s_i`` with sample weights, as
    libsvm's weighted version); returns (α, ρ, iterations) with f(x) = Σ α_i y_i k(x_i, x) − ρ."""
    n = len(y)
    C = np.broadcast_to(np.asarray(C, dtype=np.float64), (n,))
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
        ai, aj, ci, cj = alpha[i], alpha[j], C[i], C[j]
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
            if diff > ci - cj:
                if alpha[i] > ci:
                    alpha[i], alpha[j] = ci, ci - diff
            elif alpha[j] > cj:
                alpha[j], alpha[i] = cj, cj + diff
        else:
            quad = max(QD[i] + QD[j] - 2 * Q[i, j], 1e-12)
            delta = (G[i] - G[j]) / quad
            total = ai + aj
            alpha[i] -= delta
            alpha[j] += delta
            if total > ci:
                if alpha[i] > ci:
                    alpha[i], alpha[j] = ci, total - ci
            elif alpha[j] < 0:
                alpha[j], alpha[i] = 0.0, total
            if total > cj:
                if alpha[j] > cj:
                    alpha[j], alpha[i] = cj, total - cj
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


def _fit_weights(sample_weight, enc: np.ndarray, classes: np.ndarray) -> np.ndarray | None:
    """The checked sample weights (``None`` without, or when all are 1); a class whose samples all
    weigh 0 is refused, naming it: its pairs' duals would have no constraint on that side."""
    sw = _check_sample_weight(sample_weight, len(enc), "KernelSVC.fit", ones_as_none=True)
    if sw is None:
        return None
    mass = np.bincount(enc, weights=sw, minlength=len(classes))
    if np.any(mass == 0):
        empty = classes[np.argmax(mass == 0)].tolist()
        raise ValueError(f"KernelSVC.fit: every sample of class {empty!r} has sample_weight 0, so no support vector "
                         "can stand for it; give that class some weight, or drop its samples and label")  # fmt: skip
    return sw


def _merge_rows(X: np.ndarray, enc: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, ...]:
    """The rows of positive weight with equal ``(x, class)`` merged into one of their summed weight
    ``W_g``, sorted by value: (kept row indices, each one's group, the groups' first kept row, ``W``).

    Equal rows of a class enter the dual only through ``Σ α_i`` with ``0 ≤ Σ α_i ≤ C Σ s_i``, so one
    row with ``C_g = C W_g`` is the same problem; solving it in sorted order makes the SMO path
    independent of the rows' order, so integer weights fit exactly as repeated rows and zero
    weights as removed ones."""
    kept = np.flatnonzero(weights > 0)
    _, first, group = np.unique(np.c_[X[kept], enc[kept]], axis=0, return_index=True, return_inverse=True)
    group = group.ravel()
    return kept, group, kept[first], np.bincount(group, weights=weights[kept])


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

    def fit(self, X, y, sample_weight=None):
        """Solve one dual problem per pair of classes (one-vs-one) by SMO.

        ``sample_weight`` ``s_i`` multiplies sample ``i``'s penalty, ``C_i = C·s_i`` (libsvm's
        weighted SVC, as scikit-learn's); samples of weight 0 take no part.  Equal rows of a class
        are solved as one (see :func:`_merge_rows`), and ``gamma="scale"`` uses the variance of
        the merged rows weighted by ``W_g``, so integer weights fit exactly as repeated rows
        (scikit-learn's ``SVC`` computes ``gamma`` from the unweighted X and fails that check).

        Fitted as scikit-learn's ``SVC``: ``support_`` (int32, grouped by class in ``classes_``
        order, each group by index into X), ``support_vectors_`` (float64), ``n_support_`` (per class),
        ``dual_coef_`` ``(k − 1, n_SV)`` holding ``α_i y_i`` of each support vector in each of its
        k − 1 pairs (libsvm's layout), ``intercept_`` ``−ρ`` per pair, ``n_iter_`` per pair; for
        two classes ``dual_coef_`` and ``intercept_`` are negated so that
        ``decision_function(x) = dual_coef_ · k(SV, x) + intercept_`` is positive for ``classes_[1]``."""
        X, enc = self._fit_classes(X, y)
        X = X.astype(np.float64, copy=False)  # as libsvm: float64 support vectors and scores, whatever X's dtype
        weights = _fit_weights(sample_weight, enc, self.classes_)
        s = np.ones(len(X)) if weights is None else weights
        kept, group, rep, W = _merge_rows(X, enc, s)
        self._gamma_ = _resolve_gamma(self.gamma, X[rep], W)  # from the merged rows: the same bits however repeated
        K = self._k(X[rep], X[rep])
        pairs, merged, iterations = [], [], []
        for a, b in itertools.combinations(range(len(self.classes_)), 2):
            local = np.flatnonzero((enc[rep] == a) | (enc[rep] == b))
            yy = np.where(enc[rep[local]] == a, 1.0, -1.0)  # class a is the positive side of pair (a, b)
            alpha, rho, it = smo(K[np.ix_(local, local)], yy, float(self.C) * W[local], self.tol, self.max_iter)
            iterations.append(it)
            g, g_coef = local[alpha > 0], (alpha * yy)[alpha > 0]
            share = np.zeros(len(W))
            share[g] = g_coef / W[g]  # α_g y_g shared among the group's rows by weight: α_i ≤ C s_i
            coef = share[group] * s[kept]
            nz = coef != 0
            pairs.append((a, b, kept[nz], coef[nz], rho))
            merged.append((g, g_coef))
        self.pairs_ = pairs
        self.n_iter_ = np.array(iterations, dtype=np.int32)
        self.fit_status_ = 0
        self._set_support(X, enc)
        used = np.unique(np.concatenate([g for g, _ in merged]))
        self._merged_vectors = X[rep[used]]  # scores sum over merged rows: equal bits however the rows were repeated
        self._merged_coefs = [(np.searchsorted(used, g), g_coef) for g, g_coef in merged]
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
        column = np.zeros(len(X), dtype=np.intp)
        column[support] = np.arange(len(support))  # row of X → its column in dual_coef_
        dual = np.zeros((k - 1, len(support)))
        intercept = np.empty(len(self.pairs_))
        for p, (a, b, sv, coef, rho) in enumerate(self.pairs_):
            cols = column[sv]
            dual[np.where(enc[sv] == a, b - 1, a), cols] = coef  # class a's vectors in row b − 1, class b's in row a
            intercept[p] = -rho
        sign = -1.0 if k == 2 else 1.0  # two classes: positive for classes_[1], as scikit-learn
        self.dual_coef_, self.intercept_ = sign * dual, sign * intercept

    def _pair_scores(self, X):
        X = self._check_X(X, "support_")
        Ks = self._k(X, self._merged_vectors)
        return [(a, b, Ks[:, cols] @ coef - rho) for (a, b, *_, rho), (cols, coef) in zip(self.pairs_, self._merged_coefs)]

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
