"""Metrics (lecture 004): regression errors, classification scores, log loss, ROC AUC.

Shapes follow scikit-learn: a column vector ``(n, 1)`` is the same single output (or label
column) as ``(n,)``; a regression metric on ``(n, k)`` targets computes one value per output and
averages them (``multioutput="uniform_average"``), a classification metric on a 2-D indicator
matrix is the multilabel one (subset accuracy).  NaN, infinity, empty inputs and mismatched
shapes are refused with a message that names the function."""

from __future__ import annotations

import functools
import sys
import warnings
from collections.abc import Callable

import numpy as np


def _rows(y, name: str, who: str) -> np.ndarray:
    """``y`` as a non-empty array of one row per sample, finite where it is numeric."""
    a = np.asarray(y)
    if a.ndim == 0:
        raise ValueError(f"{who}: {name} must be an array-like of one value per sample, got {y!r}")
    if a.shape[0] == 0:
        raise ValueError(f"{who}: Found empty input array ({name} has shape {a.shape}) while a minimum of 1 sample is "
                         "required; pass at least one sample")  # fmt: skip
    if a.dtype.kind in "fc" and not np.all(np.isfinite(a)):
        raise ValueError(f"{who}: Input contains NaN or infinity ({name}); remove or impute those values first")
    return a


def _column_or_1d(a: np.ndarray) -> np.ndarray:
    """A column vector ``(n, 1)`` as ``(n,)`` (scikit-learn's ``column_or_1d``); other shapes unchanged."""
    return a[:, 0] if a.ndim == 2 and a.shape[1] == 1 else a


def _xy(y_true, y_pred, who: str = "metric"):
    """``y_true`` and ``y_pred`` checked by :func:`_rows`, with the same number of samples."""
    a, b = _rows(y_true, "y_true", who), _rows(y_pred, "y_pred", who)
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"{who}: y_true has {a.shape[0]} samples but y_pred has {b.shape[0]}; give one prediction per sample")
    return a, b


def _check_sample_weight(sample_weight, n: int, who: str, copy: bool = False) -> np.ndarray | None:
    """``sample_weight`` as ``n`` finite, non-negative floats with a positive sum (``None`` stays ``None``).

    With ``copy`` the result is always a new array (an estimator keeps it while the caller may
    change theirs); without, a float64 array of ``n`` weights comes back as it is.  Either way the
    weights are converted at most once."""
    if sample_weight is None:
        return None
    w = np.array(sample_weight, dtype=np.float64, copy=True if copy else None)
    if w.ndim == 0:
        w = np.full(n, float(w))
    if w.shape != (n,):
        raise ValueError(f"{who}: sample_weight has shape {w.shape} but there are {n} samples; pass one weight per sample")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        bad = w[~np.isfinite(w) | (w < 0)][:3]
        raise ValueError(f"{who}: sample_weight must be finite and non-negative, got {bad.tolist()} among them; "
                         "pass one weight >= 0 per sample")  # fmt: skip
    if w.sum() <= 0:
        raise ValueError(f"{who}: sample_weight is all zero; at least one sample needs a non-zero weight")
    return w


def _outputs(y_true, y_pred, who: str) -> tuple[np.ndarray, np.ndarray]:
    """Regression targets as float ``(n, k)`` arrays of the same shape (``(n,)`` is ``(n, 1)``)."""
    a, b = _xy(y_true, y_pred, who)
    if a.ndim > 2 or b.ndim > 2:
        raise ValueError(f"{who}: y_true and y_pred must be 1-D or 2-D, got shapes {a.shape} and {b.shape}")
    a, b = a.reshape(len(a), -1).astype(np.float64), b.reshape(len(b), -1).astype(np.float64)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"{who}: y_true and y_pred have different number of output ({a.shape[1]}!={b.shape[1]}); "
                         "give one predicted column per target column")  # fmt: skip
    return a, b


def _average_outputs(values: np.ndarray, multioutput, who: str, variance: np.ndarray | None = None):
    """One value per output combined as scikit-learn's ``multioutput``: ``"uniform_average"`` (their
    mean), ``"raw_values"`` (the array), ``"variance_weighted"`` (R² only) or a weight per output."""
    if isinstance(multioutput, str):
        if multioutput == "raw_values":
            return values
        if multioutput == "uniform_average":
            return float(np.mean(values))
        if multioutput == "variance_weighted" and variance is not None:
            return float(np.average(values, weights=variance)) if variance.sum() > 0 else float(np.mean(values))
        raise ValueError(f"{who}: multioutput must be 'uniform_average', 'raw_values' or an array of one weight per "
                         f"output, got {multioutput!r}")  # fmt: skip
    weights = np.asarray(multioutput, dtype=np.float64)
    if weights.shape != values.shape:
        raise ValueError(f"{who}: multioutput has {weights.size} weights but there are {values.size} outputs")
    return float(np.average(values, weights=weights))


def _per_output_mean(errors: np.ndarray, sample_weight, who: str) -> np.ndarray:
    """The (weighted) mean of ``errors`` over the samples, one value per output column."""
    return np.average(errors, axis=0, weights=_check_sample_weight(sample_weight, len(errors), who))


def mean_squared_error(y_true, y_pred, sample_weight=None, multioutput="uniform_average"):
    """MSE = mean (y − ŷ)², per output, then averaged over outputs."""
    a, b = _outputs(y_true, y_pred, "mean_squared_error")
    return _average_outputs(_per_output_mean((a - b) ** 2, sample_weight, "mean_squared_error"), multioutput,
                            "mean_squared_error")  # fmt: skip


def root_mean_squared_error(y_true, y_pred, sample_weight=None, multioutput="uniform_average"):
    """RMSE = √(mean (y − ŷ)²) per output, then averaged over outputs (scikit-learn's rule)."""
    a, b = _outputs(y_true, y_pred, "root_mean_squared_error")
    mse = _per_output_mean((a - b) ** 2, sample_weight, "root_mean_squared_error")
    return _average_outputs(np.sqrt(mse), multioutput, "root_mean_squared_error")


def mean_absolute_error(y_true, y_pred, sample_weight=None, multioutput="uniform_average"):
    """MAE = mean |y − ŷ|, per output, then averaged over outputs."""
    a, b = _outputs(y_true, y_pred, "mean_absolute_error")
    return _average_outputs(_per_output_mean(np.abs(a - b), sample_weight, "mean_absolute_error"), multioutput,
                            "mean_absolute_error")  # fmt: skip


def mean_absolute_percentage_error(y_true, y_pred, sample_weight=None, multioutput="uniform_average"):
    """MAPE = mean |y − ŷ| / max(|y|, ε), a fraction (as scikit-learn), per output, then averaged."""
    who = "mean_absolute_percentage_error"
    a, b = _outputs(y_true, y_pred, who)
    ratio = np.abs(a - b) / np.maximum(np.abs(a), np.finfo(np.float64).eps)
    return _average_outputs(_per_output_mean(ratio, sample_weight, who), multioutput, who)


def r2_score(y_true, y_pred, sample_weight=None, multioutput="uniform_average", *, force_finite: bool = True):
    """R² = 1 − Σ w(y − ŷ)² / Σ w(y − ȳ_w)² per output, then averaged over outputs.  A constant
    target gives 1 when predicted perfectly and 0 otherwise (``force_finite=False``: NaN and −inf,
    the formula's values); fewer than two samples give NaN with an ``UndefinedMetricWarning``."""
    a, b = _outputs(y_true, y_pred, "r2_score")
    w = _check_sample_weight(sample_weight, len(a), "r2_score")
    if len(a) < 2:
        warnings.warn("r2_score: R^2 score is not well-defined with less than two samples; it is NaN",
                      _undefined_metric_warning(), stacklevel=2)  # fmt: skip
        return float("nan")
    w = np.ones(len(a)) if w is None else w
    ss_res = w @ (a - b) ** 2
    ss_tot = w @ (a - np.average(a, axis=0, weights=w)) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = 1 - ss_res / ss_tot
    if force_finite:
        r2 = np.where(ss_tot > 0, r2, np.where(ss_res == 0, 1.0, 0.0))
    return _average_outputs(r2, multioutput, "r2_score", variance=ss_tot)


def _is_string_label(a: np.ndarray) -> set[bool]:
    """Which label kinds ``a`` holds: ``{True}`` strings, ``{False}`` numbers, both for a mix."""
    if a.dtype.kind in "US":
        return {True}
    if a.dtype.kind == "O":
        return {isinstance(v, str) for v in a.ravel().tolist()}
    return {False}


def _labels(y_true, y_pred, who: str) -> tuple[np.ndarray, np.ndarray]:
    """Class labels of the same shape: ``(n,)`` (a column vector counts as ``(n,)``) or a
    multilabel ``(n, k)`` indicator matrix on both sides.  Strings and numbers mixed (``'1'`` vs
    ``1``) are refused, as scikit-learn does: they would never compare equal."""
    a, b = _xy(y_true, y_pred, who)
    a, b = _column_or_1d(a), _column_or_1d(b)
    if a.shape != b.shape or a.ndim > 2:
        raise ValueError(f"{who}: y_true has shape {a.shape} but y_pred has shape {b.shape}; classification metrics need "
                         "one label per sample on both sides (or the same multilabel indicator shape)")  # fmt: skip
    if len(_is_string_label(a) | _is_string_label(b)) > 1:
        raise ValueError(f"{who}: Mix of label input types (string and number): y_true has dtype {a.dtype} and y_pred "
                         f"dtype {b.dtype}; convert both to the same kind, e.g. np.asarray(y_pred).astype(str)")  # fmt: skip
    return a, b


def _class_vectors(y_true, y_pred, who: str) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_labels` restricted to one label per sample (a multilabel matrix is refused, as scikit-learn)."""
    a, b = _labels(y_true, y_pred, who)
    if a.ndim == 2:
        raise ValueError(f"{who}: multilabel-indicator is not supported (y_true has shape {a.shape}); score each label "
                         f"column on its own, e.g. {who}(y_true[:, j], y_pred[:, j])")  # fmt: skip
    return a, b


class UndefinedMetricWarning(UserWarning):
    """A score divided by zero (no predicted or no true sample of a label) and ``zero_division="warn"``
    set it to 0 (scikit-learn's warning; pass ``zero_division=`` to choose the value and silence it)."""


@functools.cache
def _undefined_with(sk_warning: type) -> type:
    return type("UndefinedMetricWarning", (UndefinedMetricWarning, sk_warning), {"__module__": __name__})


def _undefined_metric_warning() -> type[UndefinedMetricWarning]:
    """Ours — also scikit-learn's ``UndefinedMetricWarning`` when the user has imported scikit-learn
    (so their filters catch it; never imported here)."""
    sk = sys.modules.get("sklearn.exceptions")
    return UndefinedMetricWarning if sk is None else _undefined_with(sk.UndefinedMetricWarning)


def accuracy_score(y_true, y_pred, *, normalize: bool = True, sample_weight=None) -> float:
    """Fraction of samples predicted exactly right (weighted by ``sample_weight``); on a 2-D
    multilabel target a sample counts only when all its labels are right (subset accuracy).
    ``normalize=False`` gives the (weighted) number of right samples instead."""
    a, b = _labels(y_true, y_pred, "accuracy_score")
    right = a == b if a.ndim == 1 else np.all(a == b, axis=1)
    w = _check_sample_weight(sample_weight, len(a), "accuracy_score")
    if not normalize:
        return float(right.sum() if w is None else right @ w)
    return float(np.average(right, weights=w))


def balanced_accuracy_score(y_true, y_pred, *, sample_weight=None, adjusted: bool = False) -> float:
    """Mean over the classes of ``y_true`` of each class's (weighted) recall ``C[k, k] / Σ_j C[k, j]``;
    ``adjusted`` rescales it so chance scores 0: ``(score − 1/K) / (1 − 1/K)``."""
    who = "balanced_accuracy_score"
    C = _confusion_matrix(y_true, y_pred, None, sample_weight, None, who)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_class = np.diag(C) / C.sum(axis=1)
    if np.any(np.isnan(per_class)):
        warnings.warn(f"{who}: y_pred contains classes not in y_true", UserWarning, stacklevel=2)
        per_class = per_class[~np.isnan(per_class)]
    score = np.mean(per_class)
    if adjusted:  # one class: chance is 1, and the score NaN or −inf (scikit-learn's)
        chance = 1 / len(per_class)
        with np.errstate(divide="ignore", invalid="ignore"):
            score = (score - chance) / np.float64(1 - chance)
    return float(score)


def _encode(a: np.ndarray, b: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """``a``, ``b`` and ``labels`` as integer codes into their sorted union (one code per value), and its size."""
    union, codes = np.unique(np.concatenate([a, b, labels]), return_inverse=True)
    codes = codes.reshape(-1)
    n = len(a)
    return codes[:n], codes[n : 2 * n], codes[2 * n :], len(union)


def _given_labels(labels, who: str) -> np.ndarray:
    """``labels=`` as a 1-D array with at least one label."""
    given = np.asarray(labels).reshape(-1)
    if given.size == 0:
        raise ValueError(f"{who}: 'labels' should contain at least one label; pass labels=None to use every class")
    return given


def confusion_matrix(y_true, y_pred, *, labels=None, sample_weight=None, normalize=None) -> np.ndarray:
    """``C[i, j]`` = (weighted) number of samples of class ``labels[i]`` predicted as ``labels[j]``
    (``labels``: the sorted classes of both when ``None``; samples of other classes are left out).
    ``normalize`` divides by the row sums (``"true"``), column sums (``"pred"``) or the total
    (``"all"``), 0 where a sum is 0.  Counts are ints unless the weights are floats."""
    return _confusion_matrix(y_true, y_pred, labels, sample_weight, normalize, "confusion_matrix")


def _confusion_matrix(y_true, y_pred, labels, sample_weight, normalize, who: str) -> np.ndarray:
    """:func:`confusion_matrix`, its errors naming ``who`` (the public function called)."""
    if normalize not in ("true", "pred", "all", None):
        raise ValueError(f"{who}: normalize must be one of {{'true', 'pred', 'all', None}}, got {normalize!r}")
    a, b = _class_vectors(y_true, y_pred, who)
    w = _check_sample_weight(sample_weight, len(a), who)
    if labels is None:
        labels = np.unique(np.concatenate([a, b]))
    else:
        labels = _given_labels(labels, who)
        if not np.isin(labels, a).any():
            raise ValueError(f"{who}: At least one label specified must be in y_true; labels={labels.tolist()} holds "
                             f"none of the classes in y_true {np.unique(a).tolist()}")  # fmt: skip
    ca, cb, cl, m = _encode(a, b, labels)
    where = np.full(m, -1)
    where[cl[::-1]] = np.arange(len(labels))[::-1]  # a label listed twice keeps its first row
    ia, ib = where[ca], where[cb]
    keep = (ia >= 0) & (ib >= 0)
    k = len(labels)
    weights = None if w is None else w[keep]
    cm = np.bincount(ia[keep] * k + ib[keep], weights=weights, minlength=k * k).reshape(k, k)
    integral = sample_weight is None or np.asarray(sample_weight).dtype.kind in "iub"
    cm = cm.astype(np.int64 if integral else np.float64)
    if normalize is None:
        return cm
    with np.errstate(divide="ignore", invalid="ignore"):
        if normalize == "true":
            cm = cm / cm.sum(axis=1, keepdims=True)
        elif normalize == "pred":
            cm = cm / cm.sum(axis=0, keepdims=True)
        else:
            cm = cm / cm.sum()
    return np.nan_to_num(cm)


AVERAGES = ("binary", "micro", "macro", "weighted", "samples", None)


def _check_zero_division(zero_division, who: str) -> float:
    """The value a 0/0 score takes: ``"warn"`` → 0 (with a warning), or 0, 1 or NaN as given."""
    if isinstance(zero_division, str) and zero_division == "warn":
        return 0.0
    if isinstance(zero_division, bool) or not isinstance(zero_division, int | float | np.floating | np.integer) or not (
        np.isnan(zero_division) or zero_division in (0, 1)
    ):
        raise ValueError(f"{who}: zero_division must be 'warn', 0.0, 1.0 or np.nan, got {zero_division!r}")
    return float(zero_division)


def _set_wise_labels(a: np.ndarray, b: np.ndarray, average, labels, pos_label, who: str):
    """The labels counted, by scikit-learn's rule: ``[pos_label]`` for ``average="binary"`` (refused
    unless the target is binary), else ``labels`` (``None``: every class)."""
    if average not in AVERAGES:
        raise ValueError(f"{who}: average must be one of {list(AVERAGES)}, got {average!r}")
    if a.ndim == 2:
        if average == "binary":
            raise ValueError(f"{who}: Target is multilabel-indicator but average='binary'. Please choose another average "
                             "setting, one of [None, 'micro', 'macro', 'weighted', 'samples'].")  # fmt: skip
        return labels
    if average == "samples":
        raise ValueError(f"{who}: Sample-based precision, recall, fscore is not meaningful outside multilabel "
                         "classification; use another average, or accuracy_score")  # fmt: skip
    if average != "binary":
        if pos_label not in (None, 1):
            warnings.warn(f"{who}: Note that pos_label (set to {pos_label!r}) is ignored when average != 'binary' (got "
                          f"{average!r}). You may use labels=[pos_label] to specify a single positive class.",
                          UserWarning, stacklevel=4)  # fmt: skip
        return labels
    present = np.unique(np.concatenate([a, b]))
    if len(present) > 2:
        raise ValueError(f"{who}: Target is multiclass but average='binary'. Please choose another average setting, "
                         "one of [None, 'micro', 'macro', 'weighted'].")  # fmt: skip
    if pos_label not in present.tolist() and len(present) == 2:
        raise ValueError(f"{who}: pos_label={pos_label!r} is not a valid label. It should be one of "
                         f"{present.tolist()}; pass pos_label= one of them")  # fmt: skip
    return [pos_label]


def _label_counts(a: np.ndarray, b: np.ndarray, labels, w: np.ndarray | None, samplewise: bool,
                  who: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """(Weighted) TP, predicted and true counts per label (``labels``, default every class), or per
    sample of a multilabel 0/1 indicator matrix with ``samplewise``."""
    if a.ndim == 2:
        if not (np.isin(a, (0, 1)).all() and np.isin(b, (0, 1)).all()):
            raise ValueError(f"{who}: a 2-D y must be a multilabel indicator matrix of 0s and 1s; multiclass-multioutput "
                             "is not supported — score each output column on its own")  # fmt: skip
        if labels is not None:
            cols = _given_labels(labels, who)
            if cols.dtype.kind not in "iu" or cols.min() < 0 or cols.max() >= a.shape[1]:
                raise ValueError(f"{who}: All labels must be in [0, n labels) for multilabel targets, i.e. column "
                                 f"indices in [0, {a.shape[1]}); got {cols.tolist()}")  # fmt: skip
            a, b = a[:, cols], b[:, cols]
        a, b = a.astype(bool), b.astype(bool)
        rows = np.ones(len(a)) if w is None else w
        weigh = (lambda m: m.sum(1).astype(np.float64)) if samplewise else (lambda m: rows @ m)
        return weigh(a & b), weigh(b), weigh(a)
    chosen = np.unique(np.concatenate([a, b])) if labels is None else _given_labels(labels, who)
    ca, cb, cl, m = _encode(a, b, chosen)
    right = ca == cb
    tp = np.bincount(ca[right], weights=None if w is None else w[right], minlength=m)
    pred, true = (np.bincount(c, weights=w, minlength=m) for c in (cb, ca))
    return tp[cl].astype(np.float64), pred[cl].astype(np.float64), true[cl].astype(np.float64)


def _divide(num: np.ndarray, den: np.ndarray, zero_division, metric: str, warn: bool, who: str) -> np.ndarray:
    """``num / den``, ``zero_division`` where ``den`` is 0 (with scikit-learn's warning when it is ``"warn"``)."""
    zero = den == 0
    out = num / np.where(zero, 1, den)
    if zero.any():
        out[zero] = _check_zero_division(zero_division, who)
        if warn and isinstance(zero_division, str):
            warnings.warn(f"{who}: {metric} is ill-defined and being set to 0.0 in {int(zero.sum())} label(s) with no "
                          f"{'predicted' if metric == 'Precision' else 'true'} samples. Use `zero_division` parameter "
                          "to control this behavior.", _undefined_metric_warning(), stacklevel=4)  # fmt: skip
    return out


def _nanaverage(values: np.ndarray, weights: np.ndarray | None) -> float:
    """The (weighted) mean of the non-NaN ``values`` (NaN when all are; equal weights when all are 0)."""
    keep = ~np.isnan(values)
    if not keep.any():
        return float("nan")
    weights = None if weights is None or weights[keep].sum() == 0 else weights[keep]
    return float(np.average(values[keep], weights=weights))


def precision_recall_fscore_support(y_true, y_pred, *, beta: float = 1.0, labels=None, pos_label=1, average=None,
                                    warn_for=("precision", "recall", "f-score"), sample_weight=None,
                                    zero_division="warn"):  # fmt: skip
    """Precision ``TP/(TP+FP)``, recall ``TP/(TP+FN)``, ``F_β = (1+β²)·TP / ((1+β²)·TP + β²·FN + FP)``
    and the support ``TP+FN`` per label — as scikit-learn's.

    ``average``: ``None`` (per label, with the support), ``"binary"`` (``pos_label``'s only),
    ``"micro"`` (the counts pooled), ``"macro"`` (the mean over labels), ``"weighted"`` (weighted by
    support), ``"samples"`` (multilabel: the mean over samples); averaged results have support
    ``None``.  ``labels`` picks (and orders) the labels counted; ``sample_weight`` weighs each sample
    in the counts; a 0/0 score is ``zero_division`` (``"warn"``: 0 with an ``UndefinedMetricWarning``)."""
    return _prfs(y_true, y_pred, beta, labels, pos_label, average, warn_for, sample_weight, zero_division,
                 "precision_recall_fscore_support")  # fmt: skip


def _prfs(y_true, y_pred, beta, labels, pos_label, average, warn_for, sample_weight, zero_division, who: str):
    """:func:`precision_recall_fscore_support`, its errors and warnings naming ``who``."""
    if not (isinstance(beta, int | float | np.integer | np.floating) and beta >= 0) or isinstance(beta, bool):
        raise ValueError(f"{who}: beta must be a number >= 0 (1 for F1), got {beta!r}")
    _check_zero_division(zero_division, who)
    a, b = _labels(y_true, y_pred, who)
    w = _check_sample_weight(sample_weight, len(a), who)
    labels = _set_wise_labels(a, b, average, labels, pos_label, who)
    tp, pred, true = _label_counts(a, b, labels, w, average == "samples", who)
    if average == "micro":
        tp, pred, true = tp.sum(keepdims=True), pred.sum(keepdims=True), true.sum(keepdims=True)
    precision = _divide(tp, pred, zero_division, "Precision", "precision" in warn_for, who)
    recall = _divide(tp, true, zero_division, "Recall", "recall" in warn_for, who)
    if np.isposinf(beta):
        f = recall
    elif beta == 0:
        f = precision
    else:
        f = _divide((1 + beta**2) * tp, beta**2 * true + pred, zero_division, "F-score", "f-score" in warn_for, who)
    if average is None:
        return precision, recall, f, true
    weights = true if average == "weighted" else w if average == "samples" else None
    return _nanaverage(precision, weights), _nanaverage(recall, weights), _nanaverage(f, weights), None


def precision_score(y_true, y_pred, average: str | None = "binary", pos_label=1, *, labels=None, sample_weight=None,
                    zero_division="warn"):  # fmt: skip
    """TP / (TP + FP) (:func:`precision_recall_fscore_support`)."""
    return _prfs(y_true, y_pred, 1.0, labels, pos_label, average, ("precision",), sample_weight, zero_division,
                 "precision_score")[0]  # fmt: skip


def recall_score(y_true, y_pred, average: str | None = "binary", pos_label=1, *, labels=None, sample_weight=None,
                 zero_division="warn"):  # fmt: skip
    """TP / (TP + FN) (:func:`precision_recall_fscore_support`)."""
    return _prfs(y_true, y_pred, 1.0, labels, pos_label, average, ("recall",), sample_weight, zero_division,
                 "recall_score")[1]  # fmt: skip


def fbeta_score(y_true, y_pred, *, beta: float, labels=None, pos_label=1, average: str | None = "binary",
                sample_weight=None, zero_division="warn"):  # fmt: skip
    """F_β = (1 + β²)·P·R / (β²·P + R) (:func:`precision_recall_fscore_support`)."""
    return _prfs(y_true, y_pred, beta, labels, pos_label, average, ("f-score",), sample_weight, zero_division,
                 "fbeta_score")[2]  # fmt: skip


def f1_score(y_true, y_pred, average: str | None = "binary", pos_label=1, *, labels=None, sample_weight=None,
             zero_division="warn"):  # fmt: skip
    """F1 = 2PR / (P + R) = 2·TP / (2·TP + FP + FN) (:func:`fbeta_score` with β = 1)."""
    return _prfs(y_true, y_pred, 1.0, labels, pos_label, average, ("f-score",), sample_weight, zero_division,
                 "f1_score")[2]  # fmt: skip


def log_loss(y_true, y_proba, *, normalize: bool = True, sample_weight=None, labels=None) -> float:
    """The (weighted) mean of ``−log p(true class)``, as scikit-learn's ``log_loss`` (1.9): ``y_proba`` is
    ``(n,)`` or ``(n, 1)`` for the positive class, or ``(n, k)`` with the columns in sorted label order
    (``labels``, else the classes of ``y_true``); ``normalize=False`` gives the (weighted) sum.

    Probabilities are used as given, clipped to ``[eps, 1 − eps]`` with ``eps`` the machine epsilon of
    their dtype (float32 kept, anything else float64): rows that do not sum to one are *not* renormalised,
    and a ``UserWarning`` says so; values outside ``[0, 1]`` are refused.  Unsorted ``labels`` are used
    sorted, with scikit-learn's ``UserWarning``."""
    who = "log_loss"
    y, P = _xy(y_true, y_proba, who)
    y = _column_or_1d(y)
    P = P.astype(P.dtype if P.dtype in (np.float32, np.float64) else np.float64, copy=False)
    if P.ndim > 2:
        raise ValueError(f"{who}: y_proba must be (n,) or (n, n_classes) probabilities, got shape {P.shape}")
    if P.max() > 1:
        raise ValueError(f"{who}: y_proba contains values greater than 1: {P.max()}; pass probabilities (predict_proba), "
                         "not scores or logits")  # fmt: skip
    if P.min() < 0:
        raise ValueError(f"{who}: y_proba contains values lower than 0: {P.min()}; pass probabilities (predict_proba), "
                         "not scores or logits")  # fmt: skip
    w = _check_sample_weight(sample_weight, len(y), who)
    if P.ndim == 1:
        P = P[:, None]
    if P.shape[1] == 1:
        P = np.concatenate([1 - P, P], axis=1)
    if y.ndim == 2:  # a label indicator matrix: its columns are the classes (scikit-learn's LabelBinarizer)
        if not np.isin(y, (0, 1)).all() or y.shape[1] < 2:
            raise ValueError(f"{who}: a 2-D y_true must be a label indicator matrix of 0s and 1s with a column per "
                             f"class, got shape {y.shape}")  # fmt: skip
        classes = np.arange(y.shape[1])
    elif labels is not None:
        given = np.asarray(labels)
        classes = np.unique(given)
        if given.shape != classes.shape or np.any(given != classes):
            message = (f"{who}: labels passed were {given.tolist()}, but the columns of y_proba are taken in sorted "
                       f"label order; pass labels={classes.tolist()} and order the columns so")  # fmt: skip
            warnings.warn(message, UserWarning, stacklevel=2)
        unknown = np.setdiff1d(y, classes)
        if len(unknown):
            raise ValueError(f"{who}: y_true contains values {set(unknown.tolist())} not belonging to the passed labels "
                             f"{given.tolist()}; pass labels= listing every class")  # fmt: skip
        if len(classes) < 2:
            raise ValueError(f"{who}: the labels array needs to contain at least two labels, got {classes.tolist()}")
    else:
        classes = np.unique(y)
        if len(classes) == 1:
            raise ValueError(f"{who}: y_true contains only one label ({classes.tolist()[0]!r}); pass the list of all "
                             "expected class labels explicitly through the labels argument")  # fmt: skip
    eps = np.finfo(P.dtype).eps
    if not np.all(np.isclose(P.sum(1), 1, rtol=np.sqrt(eps), atol=1e-8)):
        warnings.warn(f"{who}: the y_proba values do not sum to one; they are used as given (not renormalised). "
                      "Make sure to pass probabilities.", UserWarning, stacklevel=2)  # fmt: skip
    if P.shape[1] != len(classes):
        where = "in labels" if labels is not None else "in y_true (pass labels= to name them all)"
        raise ValueError(f"{who}: {P.shape[1]} probability columns but {len(classes)} classes {where}: "
                         f"{classes.tolist()}; give one column per class, in sorted label order")  # fmt: skip
    P = np.clip(P, eps, 1 - eps)
    if y.ndim == 1:  # −log of each row's true-class probability
        loss = -np.log(P[np.arange(len(y)), np.searchsorted(classes, y)])
    else:
        loss = -(y * np.log(P)).sum(1)
    if normalize:
        return float(np.average(loss, weights=w))
    return float(loss.sum() if w is None else loss @ w)


ROC_AVERAGES = ("micro", "macro", "weighted", None)


def _binary_clf_curve(pos: np.ndarray, s: np.ndarray, w: np.ndarray | None):
    """(Weighted) false and true positives at each distinct score taken as the threshold, from the
    highest score down (scikit-learn's ``_binary_clf_curve``): ``(fps, tps, thresholds)``."""
    order = np.argsort(s, kind="mergesort")[::-1]
    s, pos = s[order], pos[order]
    weight = np.ones(len(s)) if w is None else w[order]
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # the last row of each run of equal scores
    tps = np.cumsum(pos * weight)[last]
    fps = np.cumsum(~pos * weight)[last]
    return fps, tps, s[last]


def _positive_label(y: np.ndarray, pos_label, who: str):
    """scikit-learn's ``pos_label`` rule: given, or 1 when ``y`` takes values in {0, 1} or {-1, 1}."""
    if pos_label is not None:
        return pos_label
    classes = np.unique(y)
    if classes.dtype.kind in "OUS" or not set(classes.tolist()) <= {0, 1} and not set(classes.tolist()) <= {-1, 1}:
        raise ValueError(f"{who}: y_true takes value in {set(classes.tolist())} and pos_label is not specified: either "
                         "make y_true take value in {0, 1} or {-1, 1} or pass pos_label explicitly.")  # fmt: skip
    return 1


def roc_curve(y_true, y_score, *, pos_label=None, sample_weight=None, drop_intermediate: bool = True):
    """The ROC curve, as scikit-learn's: ``(fpr, tpr, thresholds)`` with ``fpr = FP/N`` and ``tpr = TP/P``
    when every score ``>= threshold`` is called positive, thresholds decreasing from ``inf`` (nothing
    positive, the point (0, 0)).  ``drop_intermediate`` drops the points on a straight segment
    (the area is unchanged).  Without a negative (positive) sample ``fpr`` (``tpr``) is NaN, with an
    ``UndefinedMetricWarning``."""
    who = "roc_curve"
    y, s = _xy(y_true, y_score, who)
    y, s = _column_or_1d(y), _column_or_1d(s).astype(np.float64)
    if y.ndim != 1 or s.ndim != 1:
        raise ValueError(f"{who}: y_true and y_score must be 1-D (one label and one score per sample), got shapes "
                         f"{y.shape} and {s.shape}")  # fmt: skip
    if len(np.unique(y)) > 2:
        raise ValueError(f"{who}: multiclass format is not supported (y_true has {len(np.unique(y))} classes); score "
                         "one class against the rest, e.g. roc_curve(y == k, proba[:, k])")  # fmt: skip
    pos = y == _positive_label(y, pos_label, who)
    w = _check_sample_weight(sample_weight, len(y), who)
    fps, tps, thresholds = _binary_clf_curve(pos, s, w)
    if drop_intermediate and len(fps) > 2:
        corner = np.flatnonzero(np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True])
        fps, tps, thresholds = fps[corner], tps[corner], thresholds[corner]
    fps, tps, thresholds = np.r_[0, fps], np.r_[0, tps], np.r_[np.inf, thresholds]
    rates = []
    for counts, side in ((fps, "negative"), (tps, "positive")):
        if counts[-1] <= 0:
            warnings.warn(f"{who}: No {side} samples in y_true, {'false' if side == 'negative' else 'true'} positive "
                          "value should be meaningless", _undefined_metric_warning(), stacklevel=2)  # fmt: skip
            rates.append(np.full(counts.shape, np.nan))
        else:
            rates.append(counts / counts[-1])
    return rates[0], rates[1], thresholds


def auc(x, y) -> float:
    """The area under the curve through the points ``(x, y)`` by the trapezoidal rule; ``x`` must be
    monotonic (increasing or decreasing), e.g. ``auc(*roc_curve(y, s)[:2])``."""
    x, y = np.asarray(x, dtype=np.float64).reshape(-1), np.asarray(y, dtype=np.float64).reshape(-1)
    if x.shape != y.shape or len(x) < 2:
        raise ValueError(f"auc: x and y need the same length, at least 2 points, got {len(x)} and {len(y)}")
    dx = np.diff(x)
    direction = 1
    if np.any(dx < 0):
        if not np.all(dx <= 0):
            raise ValueError(f"auc: x is neither increasing nor decreasing : {x}; sort the points by x first")
        direction = -1
    return float(direction * np.trapezoid(y, x))


def _partial_auc(pos: np.ndarray, s: np.ndarray, w: np.ndarray | None, max_fpr: float) -> float:
    """McClish's standardised partial AUC up to ``fpr = max_fpr`` (scikit-learn's ``max_fpr``):
    ``½(1 + (A − ½m²)/(m − ½m²))``, 0.5 for chance and 1 for a perfect ranking."""
    fps, tps, _ = _binary_clf_curve(pos, s, w)
    if fps[-1] <= 0 or tps[-1] <= 0:
        return float("nan")
    fpr, tpr = np.r_[0, fps] / fps[-1], np.r_[0, tps] / tps[-1]
    stop = np.searchsorted(fpr, max_fpr, "right")
    tpr = np.append(tpr[:stop], np.interp(max_fpr, fpr[stop - 1 : stop + 1], tpr[stop - 1 : stop + 1]))
    fpr = np.append(fpr[:stop], max_fpr)
    area, low = auc(fpr, tpr), 0.5 * max_fpr**2
    return float(0.5 * (1 + (area - low) / (max_fpr - low)))


def _binary_auc(pos: np.ndarray, s: np.ndarray, w: np.ndarray | None = None, max_fpr: float | None = None) -> float:
    """``P(s⁺ > s⁻) + ½ P(s⁺ = s⁻)`` over (positive, negative) pairs weighted by ``w⁺ w⁻`` — the area
    under the (weighted) ROC curve; ``nan`` when one side is empty.  Equal scores form one group:
    ``AUC = Σ_g W⁺_g (W⁻_{below g} + ½ W⁻_g) / (W⁺ W⁻)``; with ``max_fpr`` < 1 the partial AUC of
    :func:`_partial_auc`."""
    if max_fpr is not None and max_fpr != 1:
        return _partial_auc(pos, s, w, max_fpr)
    w = np.ones(len(s)) if w is None else w
    _, group = np.unique(s, return_inverse=True)  # ascending scores
    wp, wn = np.bincount(group, weights=w * pos), np.bincount(group, weights=w * ~pos)
    total = wp.sum() * wn.sum()
    if total == 0:
        return float("nan")
    return float((wp * (np.cumsum(wn) - wn / 2)).sum() / total)


def _averaged_auc(Y: np.ndarray, S: np.ndarray, average, w: np.ndarray | None,
                  max_fpr: float | None = None) -> float | np.ndarray:  # fmt: skip
    """One-vs-rest AUC of each column of the 0/1 matrix ``Y`` against ``S`` (scikit-learn's
    ``_average_binary_score``): ``micro`` pools every (sample, class), ``weighted`` weighs a class by
    its (weighted) support, ``None`` gives them all."""
    if average == "micro":
        return _binary_auc(Y.ravel().astype(bool), S.ravel(), None if w is None else np.repeat(w, Y.shape[1]), max_fpr)
    scores = np.array([_binary_auc(Y[:, c].astype(bool), S[:, c], w, max_fpr) for c in range(Y.shape[1])])
    if average is None:
        return scores
    support = (Y * (1.0 if w is None else w[:, None])).sum(0) if average == "weighted" else None
    if support is not None and support.sum() == 0:
        return 0.0
    return float(np.average(scores, weights=support))


def roc_auc_score(y_true, y_score, *, average: str | None = "macro", sample_weight=None, max_fpr: float | None = None,
                  multi_class: str = "raise", labels=None):  # fmt: skip
    """Area under the ROC curve = P(score of a random positive > a random negative), ties count ½,
    as ``sklearn.metrics.roc_auc_score``.

    Two classes: ``y_score`` is the positive class's score, ``(n,)``.  More classes: ``y_score`` holds
    probabilities ``(n, k)`` (rows sum to 1, columns in the order of ``labels`` or of the sorted
    classes) and ``multi_class`` says how: ``"ovr"`` — each class against the rest, averaged
    (``macro``; ``weighted`` by class frequency; ``micro`` pools all); ``"ovo"`` — Hand & Till's mean over
    pairs {a, b} of ``½ (AUC(a | a, b) + AUC(b | a, b))`` (``weighted`` by the pair's frequency).
    A 2-D 0/1 ``y_true`` (multilabel) scores each column against its own column of ``y_score``.
    ``max_fpr`` < 1 (two classes or multilabel): McClish's standardised partial AUC over ``fpr <= max_fpr``."""
    y, s = _xy(y_true, y_score, "roc_auc_score")
    if multi_class not in ("raise", "ovr", "ovo"):
        raise ValueError(f"roc_auc_score: multi_class must be one of raise, ovr, ovo; got {multi_class!r}")
    if average not in ROC_AVERAGES:
        raise ValueError(f"roc_auc_score: average must be one of {', '.join(map(str, ROC_AVERAGES))}; got {average!r}")
    if max_fpr is not None and not (isinstance(max_fpr, int | float | np.integer | np.floating) and 0 < max_fpr <= 1):
        raise ValueError(f"roc_auc_score: Expected max_fpr in range (0, 1], got: {max_fpr!r}")
    w = _check_sample_weight(sample_weight, len(y), "roc_auc_score")
    y, s = _column_or_1d(y), _column_or_1d(s).astype(np.float64)
    if y.ndim == 2:  # multilabel indicator
        if s.shape != y.shape or not np.isin(y, (0, 1)).all():
            raise ValueError(f"roc_auc_score: a 2-D y_true must be a 0/1 indicator matrix with y_score of the same shape, "
                             f"got {y.shape} and {s.shape}")  # fmt: skip
        return _averaged_auc(y, s, average, w, max_fpr)
    classes = np.unique(y)
    if len(classes) > 2 or (s.ndim == 2 and s.shape[1] > 2):
        if max_fpr is not None and max_fpr != 1:
            raise ValueError(f"roc_auc_score: Partial AUC computation not available in multiclass setting, 'max_fpr' must "
                             f"be set to `None`, received `max_fpr={max_fpr}` instead")  # fmt: skip
        return _multiclass_auc(y, s, classes, labels, multi_class, average, w)
    if s.ndim != 1:
        raise ValueError(f"roc_auc_score: with two classes y_score must hold one score per sample (the positive class's, "
                         f"e.g. predict_proba(X)[:, 1]), got shape {s.shape}")  # fmt: skip
    if len(classes) != 2:
        raise ValueError(f"roc_auc_score: needs exactly two classes in y_true, got {classes.tolist()}")
    return _binary_auc(y == classes[1], s, w, max_fpr)


def _multiclass_auc(y, P, classes, labels, multi_class, average, w) -> float | np.ndarray:
    """One-vs-rest or one-vs-one AUC of probabilities ``P`` (n, k); see :func:`roc_auc_score`."""
    if multi_class == "raise":
        raise ValueError(f"roc_auc_score: y_true has {len(classes)} classes; choose multi_class='ovr' (one-vs-rest) or "
                         f"'ovo' (one-vs-one) and pass probabilities of shape (n, {len(classes)})")  # fmt: skip
    if P.ndim != 2:
        raise ValueError(f"roc_auc_score: y_score needs shape (n_samples, n_classes) since y_true has {len(classes)} "
                         f"classes, got {P.shape}")  # fmt: skip
    if not np.allclose(1, P.sum(axis=1)):
        raise ValueError("roc_auc_score: Target scores need to be probabilities for multiclass roc_auc, i.e. each row of "
                         "y_score must sum to 1 over the classes (e.g. predict_proba's output)")  # fmt: skip
    if average == "micro" and multi_class == "ovo" or average is None and multi_class == "ovo":
        raise ValueError(f"roc_auc_score: average={average!r} is not available with multi_class='ovo'; use macro or weighted")
    if labels is not None:
        labels = np.asarray(labels).reshape(-1)
        if len(np.unique(labels)) != len(labels) or not np.array_equal(np.unique(labels), labels):
            raise ValueError(f"roc_auc_score: labels must be unique and sorted, got {labels.tolist()}")
        if len(np.setdiff1d(y, labels)):
            raise ValueError(f"roc_auc_score: y_true contains labels not in labels: {np.setdiff1d(y, labels).tolist()}")
        classes = labels
    if len(classes) != P.shape[1]:
        raise ValueError(f"roc_auc_score: y_true has {len(classes)} classes but y_score has {P.shape[1]} columns; give one "
                         "probability per class (or labels= naming the columns)")  # fmt: skip
    code = np.searchsorted(classes, y)
    if multi_class == "ovr":
        return _averaged_auc(code[:, None] == np.arange(len(classes)), P, average, w)
    if w is not None:
        raise ValueError("roc_auc_score: sample_weight is not supported with multi_class='ovo'; use 'ovr' or no weights")
    n = len(np.unique(code))  # scikit-learn's Hand & Till: the classes present in y_true
    pairs = [(a, b) for a in range(n) for b in range(a + 1, n)]
    scores, share = np.empty(len(pairs)), np.empty(len(pairs))
    for i, (a, b) in enumerate(pairs):
        both = (code == a) | (code == b)
        share[i] = both.mean()
        scores[i] = (_binary_auc(code[both] == a, P[both, a]) + _binary_auc(code[both] == b, P[both, b])) / 2
    return float(np.average(scores, weights=share if average == "weighted" else None))


def _positive_scores(est, X) -> np.ndarray:
    """The binary score ROC AUC ranks: ``decision_function``, else ``predict_proba``'s positive
    column (scikit-learn's order)."""
    if hasattr(est, "decision_function"):
        return np.asarray(est.decision_function(X))
    return np.asarray(est.predict_proba(X))[:, 1]


def _scorer(response: Callable, metric: Callable, sign: float = 1.0, **kwargs) -> Callable:
    """A scorer ``(estimator, X, y, sample_weight=None) -> sign · metric(y, response(estimator, X), ...)``
    (scikit-learn's: it takes ``sample_weight``, which the searches pass on with ``fit``'s)."""

    def score(est, X, y, sample_weight=None) -> float:
        return sign * metric(y, response(est, X), sample_weight=sample_weight, **kwargs)

    return score


def _predict(est, X) -> np.ndarray:
    return est.predict(X)


def _proba(est, X) -> np.ndarray:
    return est.predict_proba(X)


def _neg_log_loss(est, X, y, sample_weight=None) -> float:
    """−log loss of ``predict_proba``, its columns named by the estimator's ``classes_``."""
    return -log_loss(y, est.predict_proba(X), sample_weight=sample_weight, labels=getattr(est, "classes_", None))


SCORERS: dict[str, Callable] = {
    "accuracy": _scorer(_predict, accuracy_score),
    "balanced_accuracy": _scorer(_predict, balanced_accuracy_score),
    "f1": _scorer(_predict, f1_score),
    "precision": _scorer(_predict, precision_score),
    "recall": _scorer(_predict, recall_score),
    **{f"{name}_{average}": _scorer(_predict, metric, average=average)
       for name, metric in (("f1", f1_score), ("precision", precision_score), ("recall", recall_score))
       for average in ("micro", "macro", "weighted", "samples")},
    "roc_auc": _scorer(_positive_scores, roc_auc_score),
    **{f"roc_auc_{mc}{'_weighted' * (av == 'weighted')}": _scorer(_proba, roc_auc_score, multi_class=mc, average=av)
       for mc in ("ovr", "ovo") for av in ("macro", "weighted")},
    "neg_log_loss": _neg_log_loss,
    "r2": _scorer(_predict, r2_score),
    "neg_mean_squared_error": _scorer(_predict, mean_squared_error, -1.0),
    "neg_root_mean_squared_error": _scorer(_predict, root_mean_squared_error, -1.0),
    "neg_mean_absolute_error": _scorer(_predict, mean_absolute_error, -1.0),
    "neg_mean_absolute_percentage_error": _scorer(_predict, mean_absolute_percentage_error, -1.0),
}
"""Scoring names (scikit-learn's) → ``scorer(estimator, X, y, sample_weight=None)``; greater is better for each."""
