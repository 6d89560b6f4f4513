"""Linear classifiers (lecture 004): ``a(x) = sign(⟨w, x⟩ + b)``, margin ``M = y(⟨w, x⟩ + b)``.

* ``Perceptron`` — Rosenblatt's rule on the perceptron loss ``max(0, −M)``;
* ``LinearSVC`` — squared hinge ``max(0, 1 − M)²`` (Newton on the primal) or hinge ``max(0, 1 − M)``
  (interior point on the dual), with an L2 penalty on ``w`` only;
* ``LogisticRegression`` — Bernoulli likelihood, gradient ``−Σ x_i (y_i − σ(⟨w, x_i⟩))`` + L2;
  several classes: the multinomial (softmax) model, as scikit-learn's;
* ``SoftmaxRegression`` — multinomial logistic regression (the same solver, :func:`fit_multinomial`).

``Perceptron`` and ``LinearSVC`` handle several classes one-vs-rest, as scikit-learn's do.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from numbers import Integral, Real

import numpy as np

from ..autodiff import as_tensor, log_softmax, sigmoid, softmax
from ..autodiff import sum as tsum
from ..nn.functional import binary_cross_entropy_with_logits
from ._params import BOOLEAN, NONE, RANDOM_STATE, Interval, Options
from ._solvers import engine_objective, lbfgs, linear_svm, squared_hinge_svm
from .base import BaseEstimator, ClassifierMixin, ConvergenceWarning
from .cluster import _sorted_rows
from .metrics import _check_sample_weight
from .multiclass import one_vs_all_targets


class _LinearClassifier(ClassifierMixin, BaseEstimator):
    """Shared machinery: class encoding, one-vs-rest for k > 2, decision function, predict."""

    _keeps_float32 = False  # float32 X gives float32 coef_ (scikit-learn's SGD models); liblinear's are float64

    def fit(self, X, y):
        """Fit one binary model (two classes) or one per class against the rest."""
        X, enc = self._fit_classes(X, y)
        self._fit_one_vs_rest(X, enc, self._fit_binary)
        return self

    def _fit_one_vs_rest(self, X: np.ndarray, enc: np.ndarray,
                         fit_binary: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, float, int]]) -> None:  # fmt: skip
        """``coef_``, ``intercept_`` and ``n_iter_`` from ``fit_binary(X, t) -> (w, b, iterations)``,
        run on the targets ``t`` in {−1, +1} of the second class (two classes) or of each class."""
        X = np.ascontiguousarray(X)  # rows contiguous, as scikit-learn's fit (order="C"): faster X w, Xᵀ r
        k = len(self.classes_)
        T = one_vs_all_targets(enc, np.arange(k))  # 2·I[y = k] − 1 (lecture 004)
        targets = [T[:, 1]] if k == 2 else list(T.T)
        ws, bs, iterations = zip(*(fit_binary(X, t) for t in targets))
        self.n_iter_ = max(iterations)
        dtype = X.dtype if self._keeps_float32 else np.float64
        self.coef_ = np.array(ws, dtype=dtype)
        self.intercept_ = np.array(bs, dtype=dtype)

    def decision_function(self, X):
        """⟨w, x⟩ + b: (n,) for two classes, (n, k) one-vs-rest scores otherwise."""
        X = self._check_X(X, "coef_")
        s = X @ self.coef_.T + self.intercept_
        return s[:, 0] if len(self.classes_) == 2 else s

    def predict(self, X):
        s = self.decision_function(X)
        idx = (s > 0).astype(int) if s.ndim == 1 else s.argmax(1)
        return self.classes_[idx]


class Perceptron(_LinearClassifier):
    """Rosenblatt's perceptron, SGD on ``max(0, −M) + (α/2)‖w‖²`` (lecture 004), examples in a
    random order each epoch:

    ``w ← (1 − ηα) w``, then for a misclassified ``(x, y)`` (``M ≤ 0``): ``w ← w + η y x``,
    ``b ← b + η y``.  The penalty never touches the intercept ``b`` (004: "never regularise the
    intercept"); ``alpha=0`` is the plain perceptron.  Stops as scikit-learn's: once the epoch's mean
    objective ``(1/n) Σ_i [max(0, −M_i) + (α/2)‖w‖²]`` (each ``M_i`` before its update) has failed
    ``n_iter_no_change`` epochs in a row to fall below the best so far minus ``tol`` (a
    ``ConvergenceWarning`` after ``max_iter`` epochs); with ``tol=None`` after an epoch without mistakes
    or after ``max_iter`` epochs.
    ``random_state`` defaults to 0, as scikit-learn's: the same data give the same fit.
    """

    _keeps_float32 = True

    _parameter_constraints = {
        "eta0": [Interval(Real, 0, None, closed="neither")],
        "alpha": [Interval(Real, 0, None)],
        "max_iter": [Interval(Integral, 1, None)],
        "fit_intercept": [BOOLEAN],
        "shuffle": [BOOLEAN],
        "random_state": [RANDOM_STATE],
        "tol": [Interval(Real, None, None), NONE],
        "n_iter_no_change": [Interval(Integral, 1, None)],
    }

    def __init__(self, eta0: float = 1.0, alpha: float = 0.0, max_iter: int = 1000, fit_intercept: bool = True,
                 shuffle: bool = True, random_state=0, tol: float | None = 1e-3, n_iter_no_change: int = 5):  # fmt: skip
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.eta0 = eta0
        self.alpha = alpha
        self.max_iter = max_iter
        self.fit_intercept = fit_intercept
        self.shuffle = shuffle
        self.random_state = random_state

    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        """Fit one perceptron (two classes) or one per class against the rest.  ``coef_init`` (k, p) — or
        (p,) / (1, p) for two classes — and ``intercept_init`` (k,) — or a scalar / (1,) — are the starting
        ``w`` and ``b``, as scikit-learn's (zeros without; a given ``b`` is kept when ``fit_intercept=False``).

        ``sample_weight`` ``s_i`` (samples of weight 0 are dropped first: a removed row):

        * ``shuffle=False``: scikit-learn's rule, one visit of row ``i`` per epoch with the step ``η s_i y x``;
        * ``shuffle=True``: row ``i`` is visited ``⌈s_i⌉`` times per epoch, each a step ``η (s_i/⌈s_i⌉) y x``,
          all visits in one random order drawn over the rows sorted by value — so an integer weight is
          exactly that many repeated rows, whatever the rows' order (scikit-learn's is not)."""
        X, enc = self._fit_classes(X, y)
        sw = _check_sample_weight(sample_weight, len(X), "Perceptron.fit", ones_as_none=True)
        models = 1 if len(self.classes_) == 2 else len(self.classes_)
        starts = iter(zip(*_perceptron_start(coef_init, intercept_init, models, X.shape[1])))
        if sw is not None:
            kept = sw > 0
            X, enc, sw = X[kept], enc[kept], sw[kept]
        visits, scale = np.arange(len(X)), sw  # one visit per row, step η s_i (scikit-learn's)
        if self.shuffle:  # ⌈s_i⌉ visits of step η s_i/⌈s_i⌉, listed in the rows' sorted order (label, then value)
            order = _sorted_rows(np.column_stack([enc, X]))[0]
            counts = np.ones(len(X), np.intp) if sw is None else np.ceil(sw[order]).astype(np.intp)
            visits = np.repeat(order, counts)
            scale = None if sw is None else sw / np.ceil(sw)
        self._fit_one_vs_rest(X, enc, lambda Xb, t: self._fit_binary(Xb, t, *next(starts), visits, scale))
        if self.tol is not None and self.n_iter_ == self.max_iter:  # once per fit, as scikit-learn's
            warnings.warn("Perceptron: the maximum number of iterations was reached before convergence; increase "
                          "max_iter to improve the fit", ConvergenceWarning, stacklevel=3)  # fmt: skip
        return self

    def _fit_binary(self, X, y, w: np.ndarray, b: float, visits: np.ndarray, scale: np.ndarray | None):
        """Epochs of Rosenblatt's rule on targets ``y`` in {−1, +1} from ``(w, b)``, visiting the rows
        ``visits`` (in a new random order each epoch with ``shuffle``) with the steps ``η scale_i y_i x_i``
        (``scale``: 1 without): ``(w, b, epochs)``."""
        rng = np.random.default_rng(self.random_state)
        w = w.copy()
        shrink = max(0.0, 1.0 - self.eta0 * self.alpha)
        step = self.eta0 * y if scale is None else self.eta0 * y * scale
        epochs, best, stale = 0, np.inf, 0
        for epochs in range(1, self.max_iter + 1):  # noqa: B007 - recorded below
            mistakes, objective = 0, 0.0
            for i in visits[rng.permutation(len(visits))] if self.shuffle else visits:
                margin = y[i] * (X[i] @ w + b)
                if self.alpha:
                    objective += 0.5 * self.alpha * float(w @ w)
                    w *= shrink  # the L2 step, on w only
                if margin <= 0:
                    objective -= margin
                    w += step[i] * X[i]
                    if self.fit_intercept:
                        b += step[i]
                    mistakes += 1
            if self.tol is None:
                if mistakes == 0:
                    break
                continue
            mean = objective / len(visits)  # scikit-learn's stopping rule on the training objective
            stale = stale + 1 if mean > best - self.tol else 0
            best = min(best, mean)
            if stale >= self.n_iter_no_change:
                break
        return w, b, epochs


def _perceptron_start(coef_init, intercept_init, models: int, p: int) -> tuple[np.ndarray, np.ndarray]:
    """``Perceptron.fit``'s starting ``(W (models, p), b (models,))`` as float64: zeros, or the given
    ``coef_init`` / ``intercept_init`` checked against the data as scikit-learn's (its words first)."""
    W, b = np.zeros((models, p)), np.zeros(models)
    if coef_init is not None:
        given = np.asarray(coef_init, dtype=np.float64)
        shape = (p,) if models == 1 else (models, p)
        if (given.ravel().shape if models == 1 else given.shape) != shape:
            raise ValueError(f"Perceptron.fit: Provided coef_init does not match dataset: got shape {given.shape}, "
                             f"expected {shape} (one row of {p} feature weights per one-vs-rest model)")  # fmt: skip
        W = given.reshape(models, p).copy()
    if intercept_init is not None:
        given = np.asarray(intercept_init, dtype=np.float64)
        if given.shape != (models,) and not (models == 1 and given.shape == ()):
            raise ValueError(f"Perceptron.fit: Provided intercept_init does not match dataset: got shape {given.shape}, "
                             f"expected ({models},) (one intercept per one-vs-rest model)")  # fmt: skip
        b = given.reshape(models).copy()
    if not (np.all(np.isfinite(W)) and np.all(np.isfinite(b))):
        raise ValueError("Perceptron.fit: coef_init and intercept_init must be finite")
    return W, b


_SVM_SOLVERS = {"hinge": linear_svm, "squared_hinge": squared_hinge_svm}
"""``LinearSVC``'s ``loss`` → its solver, ``(X, y, C_i, fit_intercept, tol, max_iter) -> (w, b, support, iterations)``."""


class LinearSVC(_LinearClassifier):
    """Soft-margin linear SVM (lecture 004), scikit-learn's two losses:

    * ``loss="hinge"`` (the default: the lectures' SVM, 004's hinge ``max(0, 1 − M)``):
      ``min ½‖w‖² + Σ C_i max(0, 1 − M_i)``, by a primal–dual interior-point method on the dual
      ``max Σα − ½‖Σ α_i y_i x_i‖²``, ``0 ≤ α_i ≤ C_i`` (``Σ α_i y_i = 0`` with an intercept)
      (:func:`._solvers.linear_svm`);
    * ``loss="squared_hinge"`` (scikit-learn's default; pass it to match liblinear):
      ``min ½‖w‖² + Σ C_i max(0, 1 − M_i)²``, by Newton's method on the primal
      (:func:`._solvers.squared_hinge_svm`);

    with ``M_i = y_i(⟨w, x_i⟩ + b)`` and ``C_i = C·s_i`` (``s_i`` the ``sample_weight``, 1 without;
    samples of weight 0 take no part).  Both keep memory ``O(n p)`` — never the ``n × n`` Gram
    matrix — and need a few dozen iterations whatever the conditioning.

    The intercept ``b`` is not penalised (004: "never regularise the intercept"; unlike
    liblinear/scikit-learn's ``LinearSVC``, which penalises it as the weight of a constant feature
    of value ``intercept_scaling``, so the hinge solution is scikit-learn's ``SVC(kernel="linear")``);
    without an intercept (``fit_intercept=False``) it is liblinear's ``LinearSVC(loss=...,
    fit_intercept=False)``.  ``w = Σ α_i y_i x_i``; examples with ``α_i > 0`` (margin ``≤ 1`` for
    the hinge, ``< 1`` for the squared hinge) are the support vectors (``n_support_vectors_``:
    their number, one per one-vs-rest problem for several classes).  ``tol`` bounds the error of
    ``w``: ``‖w − w*‖ ≤ tol · max(1, ‖w‖)``, certified by the duality gap (hinge) or estimated by
    the Newton decrement (squared hinge).
    """

    _parameter_constraints = {
        "C": [Interval(Real, 0, None, closed="neither")],
        "fit_intercept": [BOOLEAN],
        "max_iter": [Interval(Integral, 1, None)],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "loss": [Options(_SVM_SOLVERS)],
    }

    def __init__(self, C: float = 1.0, fit_intercept: bool = True, max_iter: int = 1000, tol: float = 1e-4,
                 loss: str = "hinge"):  # fmt: skip
        self.C = C
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.loss = loss

    def fit(self, X, y, sample_weight=None):
        """Fit one SVM (two classes) or one per class against the rest; ``sample_weight`` ``s_i``
        multiplies sample ``i``'s loss term (its ``C``)."""
        X, enc = self._fit_classes(X, y)
        sw = _check_sample_weight(sample_weight, len(X), "LinearSVC.fit")
        cost = np.full(len(X), float(self.C)) if sw is None else float(self.C) * sw
        if sw is not None:
            if self.fit_intercept:
                mass = np.bincount(enc, weights=sw, minlength=len(self.classes_))
                if np.any(mass == 0):
                    empty = self.classes_[np.argmax(mass == 0)].tolist()
                    raise ValueError(
                        f"LinearSVC.fit: every sample of class {empty!r} has sample_weight 0, "
                        "so its margin constrains nothing and the unpenalised intercept is not determined; give that "
                        "class some weight, or drop its samples and label"
                    )
            kept = sw > 0  # C_i = 0: no loss term, no dual variable (the interior point needs 0 < C_i)
            X, enc, cost = X[kept], enc[kept], cost[kept]
        solver = _SVM_SOLVERS[self.loss]
        support = []

        def fit_binary(Xb: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, float, int]:
            w, b, sv, it = solver(Xb, t, cost, self.fit_intercept, self.tol, self.max_iter)
            support.append(int(sv.sum()))
            return w, b, it

        self._fit_one_vs_rest(X, enc, fit_binary)
        self.n_support_vectors_ = support[0] if len(support) == 1 else np.array(support)
        return self


def fit_weights(sample_weight, n: int, who: str) -> np.ndarray:
    """``sample_weight`` checked (finite, non-negative, one per sample or a scalar, positive sum) as
    a new float64 array, copied once; ``None`` is all ones.  The caller's array is never written."""
    w = _check_sample_weight(sample_weight, n, who, copy=True)
    return np.ones(n) if w is None else w


def fit_binary_logistic(X: np.ndarray, t: np.ndarray, sw: np.ndarray, C: float, fit_intercept: bool, max_iter: int,
                        tol: float) -> tuple[np.ndarray, float, int]:  # fmt: skip
    """``min C Σ s_i BCE(⟨w, x_i⟩ + b, t_i) + ½‖w‖²`` (``t`` in {0, 1}, ``s`` the sample weights,
    ``b`` unpenalised) by L-BFGS on the engine's gradient ``C Σ s_i x_i (σ_i − t_i) + w``; stops
    as scikit-learn (``tol`` on the gradient of the objective divided by ``C Σ s_i``).  Returns
    ``(w, b, iterations)``."""
    p = X.shape[1]
    Xt = as_tensor(X, device="cpu")
    weight = None if np.all(sw == 1.0) else sw

    def objective(theta):
        w, b = theta[:p], theta[p]
        z = Xt @ w + (b if fit_intercept else 0.0)
        return C * binary_cross_entropy_with_logits(z, t, reduction="sum", weight=weight) + 0.5 * tsum(w * w)

    theta, it = lbfgs(engine_objective(objective), np.zeros(p + 1), max_iter=max_iter, tol=tol, scale=C * sw.sum())
    return theta[:p], float(theta[p]) if fit_intercept else 0.0, it


def fit_multinomial(X: np.ndarray, enc: np.ndarray, k: int, sw: np.ndarray, C: float, fit_intercept: bool,
                    max_iter: int, tol: float) -> tuple[np.ndarray, np.ndarray, int]:  # fmt: skip
    """The multinomial model ``P(y = c | x) = softmax(W x + b)_c`` fitted by
    ``min −C Σ s_i log P(y_i | x_i) + ½‖W‖²_F`` (labels ``enc`` in 0 … k−1, ``s`` the sample
    weights, ``b`` unpenalised) with L-BFGS on the engine's gradient ``C Σ s_i (p_i − e_{y_i}) x_iᵀ + W``,
    stopped as scikit-learn's (``tol`` on the gradient of the objective divided by ``C Σ s_i``).
    ``b`` starts at 0 and every gradient step keeps ``Σ_c b_c = 0``, as scikit-learn's lbfgs.
    Returns ``(coef (k, p), intercept (k,), iterations)``."""
    n, p = X.shape
    Xt = as_tensor(X, device="cpu")
    rows = np.arange(n)
    weighted = not np.all(sw == 1.0)

    def objective(theta):
        W = theta[: p * k].reshape(p, k)
        b = theta[p * k :] if fit_intercept else 0.0
        picked = log_softmax(Xt @ W + b, axis=1)[rows, enc]
        return -C * tsum(picked * sw if weighted else picked) + 0.5 * tsum(W * W)

    theta, it = lbfgs(engine_objective(objective), np.zeros(p * k + k), max_iter=max_iter, tol=tol, scale=C * sw.sum())
    intercept = theta[p * k :] if fit_intercept else np.zeros(k)
    return theta[: p * k].reshape(p, k).T.copy(), intercept, it


def _set_linear(est, X: np.ndarray, coef: np.ndarray, intercept: np.ndarray, iterations: int) -> None:
    """``coef_``, ``intercept_`` in X's float dtype (float32 data gives float32 weights, as
    scikit-learn's lbfgs) and ``n_iter_`` as scikit-learn's: an int32 array of one entry."""
    est.coef_, est.intercept_ = coef.astype(X.dtype), np.asarray(intercept).astype(X.dtype)
    est.n_iter_ = np.array([iterations], dtype=np.int32)


_LOGISTIC_PARAMS = {
    "C": [Interval(Real, 0, None, closed="neither")],
    "fit_intercept": [BOOLEAN],
    "max_iter": [Interval(Integral, 1, None)],
    "tol": [Interval(Real, 0, None)],
}


class LogisticRegression(_LinearClassifier):
    """Logistic regression with an L2 penalty, fitted by maximum likelihood (L-BFGS, the engine's
    gradient), as scikit-learn's default (``lbfgs``, ``penalty="l2"``):

    * two classes: ``P(y = 1 | x) = σ(⟨w, x⟩ + b)``, ``min C Σ s_i BCE_i + ½‖w‖²``
      (:func:`fit_binary_logistic`); ``coef_`` has shape (1, p);
    * several classes: the multinomial model ``P(y = c | x) = softmax(W x + b)_c``,
      ``min −C Σ s_i log P(y_i | x_i) + ½‖W‖²`` (:func:`fit_multinomial`, shared with
      ``SoftmaxRegression``); ``coef_`` has shape (k, p), ``predict_proba`` is the softmax.

    The intercept is never penalised.  ``sample_weight`` ``s_i`` multiplies each sample's loss
    term (as scikit-learn's).  ``tol`` is scikit-learn's: L-BFGS stops when every coordinate of
    the gradient of the objective divided by ``C Σ s_i`` is at most ``tol`` in absolute value.
    """

    _parameter_constraints = _LOGISTIC_PARAMS

    def __init__(self, C: float = 1.0, fit_intercept: bool = True, max_iter: int = 500, tol: float = 1e-4):
        self.C = C
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, X, y, sample_weight=None):
        """Fit the binary model (two classes) or the multinomial one (more); ``sample_weight``
        multiplies each sample's loss term."""
        X, enc = self._fit_classes(X, y)
        X = np.ascontiguousarray(X)
        sw = fit_weights(sample_weight, len(X), "LogisticRegression.fit")
        k, C = len(self.classes_), float(self.C)
        if k == 2:
            w, b, it = fit_binary_logistic(X, enc.astype(np.float64), sw, C, self.fit_intercept, self.max_iter, self.tol)
            coef, intercept = w[None, :], np.array([b])
        else:
            coef, intercept, it = fit_multinomial(X, enc, k, sw, C, self.fit_intercept, self.max_iter, self.tol)
        _set_linear(self, X, coef, intercept, it)
        return self

    def predict_proba(self, X):
        """``[1 − σ(s), σ(s)]`` for two classes, ``softmax(W x + b)`` for more; rows sum to 1."""
        s = self.decision_function(X)
        if s.ndim == 1:
            p1 = sigmoid(as_tensor(s)).numpy()
            return np.stack([1 - p1, p1], axis=1)
        return softmax(as_tensor(s), axis=1).numpy()

    def predict_log_proba(self, X):
        s = self.decision_function(X)
        if s.ndim == 1:  # log σ(∓s) = −log(1 + e^{±s}), stable for any |s| (one decision function)
            return np.stack([-np.logaddexp(0.0, s), -np.logaddexp(0.0, -s)], axis=1)
        return log_softmax(as_tensor(s), axis=1).numpy()


def _binary_labels(y_true, scores, pos_label) -> tuple[np.ndarray, np.ndarray, object, object]:
    """``choose_threshold``'s inputs checked: one finite score per label, at most two classes,
    and its ``(negative, positive)`` labels (positive: ``pos_label``, else the larger of two)."""
    y_true = np.asarray(y_true)
    try:
        scores = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("choose_threshold: scores must be numbers, e.g. predict_proba(X)[:, 1]") from None
    if y_true.ndim != 1 or scores.shape != y_true.shape or len(y_true) == 0:
        raise ValueError(f"choose_threshold: y_true has shape {y_true.shape} and scores {scores.shape}; pass one score "
                         "per label, both 1-D and non-empty (the positive class's column of predict_proba)")  # fmt: skip
    if not np.all(np.isfinite(scores)):
        raise ValueError("choose_threshold: scores contain NaN or infinity")
    classes = np.unique(y_true).tolist()
    numeric = y_true.dtype.kind in "biuf"  # numbers: the missing label is 0 / 1; strings need pos_label
    if len(classes) > 2:
        raise ValueError(f"choose_threshold: a threshold splits two classes, but y_true has {len(classes)}: {classes[:5]}")
    if pos_label is None:
        if len(classes) == 2:
            pos_label = classes[1]
        elif numeric:
            pos_label = 1
        else:
            raise ValueError(f"choose_threshold: y_true holds one class {classes[0]!r}; pass pos_label= the positive class")
    elif pos_label not in classes and len(classes) == 2:
        raise ValueError(f"choose_threshold: pos_label={pos_label!r} is not one of the labels {classes}; pass one of them")
    others = [c for c in classes if c != pos_label]
    negative = others[0] if others else (0 if numeric else "")
    return y_true, scores, negative, pos_label


def choose_threshold(y_true, scores, metric="f1", thresholds=None, pos_label=None) -> tuple[float, float]:
    """The decision threshold on held-out scores that maximises ``metric`` (lecture 004): a score
    ``≥ t`` predicts ``pos_label`` (default: the larger of the two labels, as scikit-learn's
    ``classes_[1]``), else the other label.

    ``metric``: ``"f1"``, ``"accuracy"``, ``"precision"``, ``"recall"`` or a function
    ``(y_true, y_pred) -> float``; returns ``(threshold, best value)``.
    """
    from . import metrics as M  # noqa: PLC0415

    funcs = {"f1": M.f1_score, "accuracy": M.accuracy_score, "precision": M.precision_score, "recall": M.recall_score}
    if isinstance(metric, str) and metric not in funcs:
        raise ValueError(f"choose_threshold: metric must be one of {sorted(funcs)} or a function (y_true, y_pred) -> "
                         f"float, got {metric!r}")  # fmt: skip
    if not isinstance(metric, str) and not callable(metric):
        raise TypeError(f"choose_threshold: metric must be a name or a function (y_true, y_pred) -> float, got {metric!r}")
    y_true, scores, negative, positive = _binary_labels(y_true, scores, pos_label)
    if not isinstance(metric, str):
        fn = metric
    elif metric == "accuracy":
        fn = M.accuracy_score
    else:  # precision, recall and F1 score the positive class
        fn = functools.partial(funcs[metric], pos_label=positive)
    candidates = np.unique(scores) if thresholds is None else np.asarray(thresholds)
    labels = np.array([negative, positive], dtype=y_true.dtype if y_true.dtype.kind in "biuUS" else object)
    best_t, best_v = 0.5, -np.inf
    for t in candidates:
        v = fn(y_true, labels[(scores >= t).astype(np.int64)])
        if v > best_v:
            best_t, best_v = float(t), float(v)
    return best_t, best_v


class SoftmaxRegression(ClassifierMixin, BaseEstimator):
    """Multinomial logistic regression: ``P(y = k | x) = softmax(W x + b)_k``, fitted by
    ``min −C Σ s_i log P(y_i | x_i) + ½‖W‖²`` with L-BFGS and the engine's gradient
    (:func:`fit_multinomial`, the solver of ``LogisticRegression`` on several classes); ``tol``
    as ``LogisticRegression``'s (scikit-learn's).  Unlike ``LogisticRegression`` it keeps the
    k-class parametrisation for two classes too."""

    _parameter_constraints = _LOGISTIC_PARAMS

    def __init__(self, C: float = 1.0, fit_intercept: bool = True, max_iter: int = 500, tol: float = 1e-4):
        self.C = C
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, X, y, sample_weight=None):
        """Fit the multinomial model by L-BFGS on the (weighted) penalised negative log-likelihood."""
        X, enc = self._fit_classes(X, y)
        sw = fit_weights(sample_weight, len(X), "SoftmaxRegression.fit")
        _set_linear(self, X, *fit_multinomial(X, enc, len(self.classes_), sw, float(self.C), self.fit_intercept,
                                              self.max_iter, self.tol))  # fmt: skip
        return self

    def _scores(self, X):
        X = self._check_X(X, "coef_")
        return X @ self.coef_.T + self.intercept_

    def decision_function(self, X):
        """Class scores ``W x + b``: (n, k); for two classes the difference, shape (n,)."""
        s = self._scores(X)
        return s[:, 1] - s[:, 0] if s.shape[1] == 2 else s

    def predict_proba(self, X):
        return softmax(as_tensor(self._scores(X)), axis=1).numpy()

    def predict_log_proba(self, X):
        return log_softmax(as_tensor(self._scores(X)), axis=1).numpy()

    def predict(self, X):
        scores = self._scores(X)
        return self.classes_[scores.argmax(1)]
