"""Metrics (lecture 004): regression errors, classification scores, log loss, ROC AUC."""

from __future__ import annotations

import numpy as np


def _rows(y, name: str, who: str) -> np.ndarray:
    """``y`` as an array of at least one dimension (scikit-learn refuses None and scalars the same way)."""
    a = np.asarray(y)
    if a.ndim == 0:
        raise ValueError(f"{who}: {name} must be an array-like of one value per sample, got {y!r}")
    return a


def _xy(y_true, y_pred, who: str = "metric"):
    a, b = _rows(y_true, "y_true", who), _rows(y_pred, "y_pred", who)
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"{who}: y_true has {a.shape[0]} samples but y_pred has {b.shape[0]}; give one prediction per sample")
    return a, b


def mean_squared_error(y_true, y_pred) -> float:
    """MSE = mean (y − ŷ)²."""
    a, b = _xy(y_true, y_pred, "mean_squared_error")
    return float(np.mean((a.astype(np.float64) - b) ** 2))


def root_mean_squared_error(y_true, y_pred) -> float:
    return float(np.sqrt(mean_squared_error(y_true, y_pred)))


def mean_absolute_error(y_true, y_pred) -> float:
    """MAE = mean |y − ŷ|."""
    a, b = _xy(y_true, y_pred, "mean_absolute_error")
    return float(np.mean(np.abs(a.astype(np.float64) - b)))


def mean_absolute_percentage_error(y_true, y_pred) -> float:
    """MAPE = mean |y − ŷ| / max(|y|, ε), a fraction (as scikit-learn)."""
    a, b = _xy(y_true, y_pred, "mean_absolute_percentage_error")
    a = a.astype(np.float64)
    return float(np.mean(np.abs(a - b) / np.maximum(np.abs(a), np.finfo(np.float64).eps)))


def r2_score(y_true, y_pred) -> float:
    """R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)² (averaged over outputs)."""
    a, b = _xy(y_true, y_pred, "r2_score")
    a, b = a.astype(np.float64).reshape(len(a), -1), np.asarray(b, dtype=np.float64).reshape(len(a), -1)
    ss_res = ((a - b) ** 2).sum(0)
    ss_tot = ((a - a.mean(0)) ** 2).sum(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(ss_tot > 0, 1 - ss_res / np.where(ss_tot > 0, ss_tot, 1), np.where(ss_res == 0, 1.0, 0.0))
    return float(np.mean(r2))


def accuracy_score(y_true, y_pred) -> float:
    a, b = _xy(y_true, y_pred, "accuracy_score")
    return float(np.mean(a == b))


def confusion_matrix(y_true, y_pred, labels=None) -> np.ndarray:
    """C[i, j] = number of samples of class i predicted as class j."""
    a, b = _xy(y_true, y_pred, "confusion_matrix")
    labels = np.unique(np.concatenate([a, b])) if labels is None else np.asarray(labels)
    index = {v: i for i, v in enumerate(labels.tolist())}
    cm = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for t, p in zip(a.tolist(), b.tolist()):
        if t in index and p in index:
            cm[index[t], index[p]] += 1
    return cm


def _prf(y_true, y_pred, average: str, pos_label, who: str = "precision_score"):
    a, b = _xy(y_true, y_pred, who)
    labels = np.unique(np.concatenate([a, b]))
    cm = confusion_matrix(a, b, labels)
    tp = np.diag(cm).astype(np.float64)
    fp = cm.sum(0) - tp
    fn = cm.sum(1) - tp
    if average == "binary":
        if pos_label not in labels.tolist():
            return 0.0, 0.0, 0.0
        k = labels.tolist().index(pos_label)
        tp, fp, fn = tp[k : k + 1], fp[k : k + 1], fn[k : k + 1]
    elif average == "micro":
        tp, fp, fn = tp.sum(keepdims=True), fp.sum(keepdims=True), fn.sum(keepdims=True)
    elif average != "macro":
        raise ValueError(f"average must be 'binary', 'macro' or 'micro', got {average!r}")
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        r = np.where(tp + fn > 0, tp / (tp + fn), 0.0)
        f = np.where(p + r > 0, 2 * p * r / (p + r), 0.0)
    return float(p.mean()), float(r.mean()), float(f.mean())


def precision_score(y_true, y_pred, average: str = "binary", pos_label=1) -> float:
    """TP / (TP + FP)."""
    return _prf(y_true, y_pred, average, pos_label, who="precision_score")[0]


def recall_score(y_true, y_pred, average: str = "binary", pos_label=1) -> float:
    """TP / (TP + FN)."""
    return _prf(y_true, y_pred, average, pos_label, who="recall_score")[1]


def f1_score(y_true, y_pred, average: str = "binary", pos_label=1) -> float:
    """2PR / (P + R)."""
    return _prf(y_true, y_pred, average, pos_label, who="f1_score")[2]


def log_loss(y_true, proba, labels=None, eps: float = 1e-15) -> float:
    """−mean log p(true class); ``proba`` is (n,) for the positive class or (n, k)."""
    y, P = _xy(y_true, proba, "log_loss")
    P = P.astype(np.float64)
    if P.ndim == 1:
        P = np.stack([1 - P, P], axis=1)
    labels = np.unique(y) if labels is None else np.asarray(labels)
    if P.shape[1] != len(labels):
        raise ValueError(f"log_loss: {P.shape[1]} probability columns but {len(labels)} labels")
    idx = np.searchsorted(labels, y)
    P = np.clip(P / P.sum(1, keepdims=True), eps, 1)
    return float(-np.mean(np.log(P[np.arange(len(y)), idx])))


def roc_auc_score(y_true, scores) -> float:
    """Area under the ROC curve = P(score of a random positive > a random negative), ties count ½."""
    y, s = _xy(y_true, scores, "roc_auc_score")
    y, s = y.reshape(-1), s.astype(np.float64).reshape(-1)
    if len(y) != len(s):
        raise ValueError(f"roc_auc_score: y_true has {len(y)} values but scores has {len(s)}; give one score per sample")
    classes = np.unique(y)
    if len(classes) != 2:
        raise ValueError("roc_auc_score: needs exactly two classes in y_true")
    pos = y == classes[1]
    ranks = _average_ranks(s)
    n_pos, n_neg = pos.sum(), (~pos).sum()
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _average_ranks(s: np.ndarray) -> np.ndarray:
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s))
    sorted_s = s[order]
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


SCORERS = {
    "accuracy": (accuracy_score, True),
    "r2": (r2_score, True),
    "neg_mean_squared_error": (lambda y, p: -mean_squared_error(y, p), True),
    "neg_mean_absolute_error": (lambda y, p: -mean_absolute_error(y, p), True),
    "f1_macro": (lambda y, p: f1_score(y, p, average="macro"), True),
}
