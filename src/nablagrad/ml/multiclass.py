"""Multiclass from binary classifiers (lecture 004): one-vs-all and all-vs-all with voting."""

from __future__ import annotations

import copy
import itertools

import numpy as np

from ._params import HasMethods
from .base import BaseEstimator, ClassifierMixin, available_if, check_is_fitted
from .kernel import _ovo_decision


def one_vs_all_targets(y, classes=None) -> np.ndarray:
    """The one-vs-all targets of lecture 004: column ``k`` is ``2·I[y = k] − 1`` (``+1`` for class
    ``k``, ``−1`` for the rest), shape ``(n, K)``; ``classes`` defaults to the sorted labels."""
    y = np.asarray(y)
    classes = np.unique(y) if classes is None else np.asarray(classes)
    return 2.0 * (y[:, None] == classes[None, :]) - 1.0


def clone(estimator):
    """A new, unfitted estimator with the same parameters (nested estimators cloned too)."""
    if not callable(getattr(estimator, "get_params", None)):  # scikit-learn's clone refuses it the same way
        raise TypeError(
            f"Cannot clone object {estimator!r} (type {type(estimator).__name__}): it is not an estimator "
            "(it has no get_params method); pass an estimator such as LogisticRegression()"
        )
    params = {k: clone(v) if isinstance(v, BaseEstimator) else copy.deepcopy(v)
              for k, v in estimator.get_params(deep=False).items()}  # fmt: skip
    return type(estimator)(**params)


BINARY_CLASSIFIER = [HasMethods("fit", "decision_function"), HasMethods("fit", "predict_proba")]
"""What the wrappers need of ``estimator``: ``fit`` and a confidence (:func:`_score`)."""


def _score(est, X) -> np.ndarray:
    """A binary classifier's confidence in its second class."""
    if hasattr(est, "decision_function"):
        s = np.asarray(est.decision_function(X))
        return s if s.ndim == 1 else s[:, -1]
    return np.asarray(est.predict_proba(X))[:, 1]


def _base_has(method: str, fix: str):
    """``available_if`` test: the fitted (else the unfitted) base estimator has ``method``."""

    def missing(self) -> str | None:
        base = self.estimators_[0] if hasattr(self, "estimators_") else self.estimator
        if hasattr(base, method):
            return None
        return (f"This {type(self).__name__} has no attribute {method!r}: its base estimator {type(base).__name__} "
                f"has no {method}; {fix}")  # fmt: skip

    return missing


class OneVsRest(ClassifierMixin, BaseEstimator):
    """One binary classifier per class (that class vs the rest); predict the class whose
    classifier is most confident.  Two classes need one classifier (the second class vs the
    first), as scikit-learn's ``OneVsRestClassifier``.

    ``predict_proba`` (when the base estimator has it): each classifier's ``P(class k | x)``,
    ``p_k / Σ_j p_j`` so that rows sum to 1 (``[1 − p, p]`` for two classes), as scikit-learn's;
    ``decision_function`` (when the base estimator has it): the classifiers' scores, (n, k), or
    (n,) for two classes."""

    _parameter_constraints = {"estimator": BINARY_CLASSIFIER}

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X, y):
        """Fit one clone of ``estimator`` per class, that class against the rest (one for two classes)."""
        X, enc = self._fit_classes(X, y)
        k = len(self.classes_)
        positives = [1] if k == 2 else range(k)
        self.estimators_ = [clone(self.estimator).fit(X, (enc == c).astype(np.int64)) for c in positives]
        return self

    @property
    def n_classes_(self) -> int:
        """The number of classes (scikit-learn's ``OneVsRestClassifier.n_classes_``)."""
        return len(self.classes_)

    @property
    def multilabel_(self) -> bool:
        """Whether the targets were multilabel (scikit-learn's attribute): never here, ``fit`` takes class labels."""
        check_is_fitted(self, "estimators_")
        return False

    def _confidences(self, X) -> np.ndarray:
        """Each classifier's confidence in its class (decision function, else probability), (n, m)."""
        X = self._check_X(X, "estimators_")
        return np.column_stack([_score(e, X) for e in self.estimators_])

    @available_if(_base_has("decision_function", "use predict_proba, or a base estimator with a decision_function"))
    def decision_function(self, X):
        s = self._confidences(X)
        return s[:, 0] if len(self.estimators_) == 1 else s

    @available_if(_base_has("predict_proba", "use decision_function, or a base estimator with predict_proba such as "
                                             "LogisticRegression (or calibrate the scores)"))  # fmt: skip
    def predict_proba(self, X):
        """``p_k = P_k(class k | x)`` of each classifier, normalised so that each row sums to 1."""
        X = self._check_X(X, "estimators_")
        P = np.column_stack([np.asarray(e.predict_proba(X))[:, 1] for e in self.estimators_]).astype(np.float64)
        if len(self.estimators_) == 1:
            return np.column_stack([1.0 - P[:, 0], P[:, 0]])
        total = P.sum(1, keepdims=True)
        return np.divide(P, total, out=P, where=total != 0)  # an all-zero row stays 0, as scikit-learn

    def predict(self, X):
        s = self._confidences(X)
        if len(self.estimators_) > 1:
            return self.classes_[s.argmax(1)]
        threshold = 0.0 if hasattr(self.estimators_[0], "decision_function") else 0.5  # a probability otherwise
        return self.classes_[(s[:, 0] > threshold).astype(int)]


class OneVsOne(ClassifierMixin, BaseEstimator):
    """One binary classifier per pair of classes (all-vs-all); each votes, the most voted class
    wins, ties broken by the summed confidences (as scikit-learn)."""

    _parameter_constraints = {"estimator": BINARY_CLASSIFIER}

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X, y):
        """Fit one clone of ``estimator`` per pair of classes."""
        X, enc = self._fit_classes(X, y)
        self.pairs_ = []
        for a, b in itertools.combinations(range(len(self.classes_)), 2):
            mask = (enc == a) | (enc == b)
            est = clone(self.estimator).fit(X[mask], (enc[mask] == b).astype(np.int64))
            self.pairs_.append((a, b, est))
        return self

    @property
    def n_classes_(self) -> int:
        """The number of classes (scikit-learn's ``OneVsOneClassifier.n_classes_``)."""
        return len(self.classes_)

    @property
    def estimators_(self) -> tuple:
        """The fitted classifiers, one per pair of classes in ``itertools.combinations`` order:
        (0, 1), (0, 2), …, (1, 2), … (scikit-learn's ``OneVsOneClassifier.estimators_``)."""
        return tuple(est for _, _, est in self.pairs_)

    def decision_function(self, X):
        """Votes plus confidences squashed into (−⅓, ⅓), (n, k); for two classes the second class's
        column, (n,), positive when ``classes_[1]`` wins (scikit-learn's ``OneVsOneClassifier``)."""
        X = self._check_X(X, "pairs_")
        # scikit-learn's convention: a positive score votes for the first class of the pair
        scores = [(a, b, -_score(est, X)) for a, b, est in self.pairs_]
        d = _ovo_decision(scores, len(self.classes_), len(X))
        return d[:, 1] if len(self.classes_) == 2 else d  # two classes: scikit-learn's column of the second class

    def predict(self, X):
        d = self.decision_function(X)
        return self.classes_[(d > 0).astype(int)] if d.ndim == 1 else self.classes_[d.argmax(1)]
