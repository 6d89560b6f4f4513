"""Metrics (lecture 004): regression errors, classification scores, log loss, ROC AUC.

Shapes follow scikit-learn: a column vector ``(n, 1)`` is the same single output (or label
column) as ``(n,)``; a regression metric on ``(n, k)`` targets computes one value per output and
averages them (``multioutput="uniform_average"``), a classification metric on a 2-D indicator
matrix is the multilabel one (subset accuracy).  NaN, infinity, empty inputs and mismatched
shapes are refused with a message that names the function."""

from __future__ import annotations

import copy
import functools
import inspect
import warnings
from collections.abc import Callable, Sequence
from numbers import Integral, Real

import numpy as np

from .twin_warnings import sklearn_twin


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


def _check_sample_weight(sample_weight, n: int, who: str, copy: bool = False, ones_as_none: bool = False) -> np.ndarray | None:
    """``sample_weight`` as ``n`` finite, non-negative floats with a positive sum (``None`` stays ``None``).

    With ``copy`` the result is always a new array (an estimator keeps it while the caller may
    change theirs); without, a float64 array of ``n`` weights comes back as it is.  Either way the
    weights are converted at most once.  With ``ones_as_none`` weights that are all 1 come back as
    ``None``: unit weights are no weights, and a fit gives the unweighted fit, to the bit."""
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
    return None if ones_as_none and np.all(w == 1.0) else w


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
    if _continuous(a) or _continuous(b):
        kinds = [_target_kind(a), _target_kind(b)]
        what = "continuous is not supported" if kinds[0] == kinds[1] else \
            f"Classification metrics can't handle a mix of {kinds[0]} and {kinds[1]} targets"
        raise ValueError(f"{who}: {what} (y_true: {kinds[0]}, y_pred: {kinds[1]}); pass class labels such as "
                         "estimator.predict(X), not scores or probabilities — threshold them first")  # fmt: skip
    return a, b


def _continuous(y: np.ndarray) -> bool:
    """scikit-learn's ``"continuous"`` target: non-integral floats (regression values, scores)."""
    return y.dtype.kind in "fc" and bool(np.iscomplexobj(y) or np.any(y != np.round(y)))


def _target_kind(y: np.ndarray) -> str:
    """Enough of scikit-learn's ``type_of_target`` to name what was given in :func:`_labels`' message."""
    if _continuous(y):
        return "continuous"
    return "multilabel-indicator" if y.ndim == 2 else "binary" if len(np.unique(y)) <= 2 else "multiclass"


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


def _undefined_metric_warning() -> type[UndefinedMetricWarning]:
    return sklearn_twin(UndefinedMetricWarning)


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


def _divide(num: np.ndarray, den: np.ndarray, zero_division, metric: str, warn: bool, who: str,
            missing: str | None = None) -> np.ndarray:  # fmt: skip
    """``num / den``, ``zero_division`` where ``den`` is 0 (with scikit-learn's warning when it is ``"warn"``;
    ``missing`` says what the label lacks, by default "predicted" for precision and "true" otherwise)."""
    zero = den == 0
    out = num / np.where(zero, 1, den)
    if zero.any():
        out[zero] = _check_zero_division(zero_division, who)
        if warn and isinstance(zero_division, str):
            missing = missing or ("predicted" if metric == "Precision" else "true")
            warnings.warn(f"{who}: {metric} is ill-defined and being set to 0.0 in {int(zero.sum())} label(s) with no "
                          f"{missing} samples. Use `zero_division` parameter to control this behavior.",
                          _undefined_metric_warning(), stacklevel=4)  # fmt: skip
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
    if average is None:  # the support counts samples: ints unless they are weighted (scikit-learn's dtype)
        return precision, recall, f, true.astype(np.int64) if w is None else true
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


def zero_one_loss(y_true, y_pred, *, normalize: bool = True, sample_weight=None) -> float:
    """1 − accuracy: the (weighted) fraction of samples predicted wrong (a multilabel sample is wrong
    when any of its labels is); ``normalize=False`` gives their (weighted) number."""
    a, b = _labels(y_true, y_pred, "zero_one_loss")
    wrong = a != b if a.ndim == 1 else np.any(a != b, axis=1)
    w = _check_sample_weight(sample_weight, len(a), "zero_one_loss")
    if not normalize:
        return float(wrong.sum() if w is None else wrong @ w)
    return float(np.average(wrong, weights=w))


def _indicator_pair(a: np.ndarray, b: np.ndarray, who: str) -> None:
    """Refuse a 2-D target that is not a 0/1 multilabel indicator (multiclass-multioutput)."""
    if a.ndim == 2 and not (np.isin(a, (0, 1)).all() and np.isin(b, (0, 1)).all()):
        raise ValueError(f"{who}: multiclass-multioutput is not supported (a 2-D y must be a 0/1 multilabel indicator "
                         "matrix); score each output column on its own")  # fmt: skip


def hamming_loss(y_true, y_pred, *, sample_weight=None) -> float:
    """The (weighted) fraction of labels predicted wrong, ``Σ_i w_i (1/L) Σ_l [y_il ≠ ŷ_il] / Σ_i w_i``
    (L labels of a multilabel indicator matrix; with one label per sample, ``1 − accuracy``)."""
    who = "hamming_loss"
    a, b = _labels(y_true, y_pred, who)
    _indicator_pair(a, b, who)
    wrong = (a != b).astype(np.float64)
    per_sample = wrong.mean(1) if a.ndim == 2 else wrong
    return float(np.average(per_sample, weights=_check_sample_weight(sample_weight, len(a), who)))


def matthews_corrcoef(y_true, y_pred, *, sample_weight=None) -> float:
    """Matthews correlation coefficient from the (weighted) confusion matrix ``C`` (Gorodkin's K-class
    form): ``(c·s − t·p) / √((s² − p·p)(s² − t·t))`` with ``c = trace C``, ``s = Σ C``, ``t`` the row
    (true) and ``p`` the column (predicted) sums — for two classes ``(TP·TN − FP·FN) / √(…)``; 0 when
    either side holds a single class (scikit-learn's value)."""
    C = _confusion_matrix(y_true, y_pred, None, sample_weight, None, "matthews_corrcoef").astype(np.float64)
    t, p = C.sum(1), C.sum(0)
    s = p.sum()
    cov_tp, cov_pp, cov_tt = np.trace(C) * s - t @ p, s**2 - p @ p, s**2 - t @ t
    return 0.0 if cov_pp * cov_tt == 0 else float(cov_tp / np.sqrt(cov_pp * cov_tt))


KAPPA_WEIGHTS = (None, "linear", "quadratic")


def cohen_kappa_score(y1, y2, *, labels=None, weights: str | None = None, sample_weight=None,
                      replace_undefined_by=np.nan) -> float:  # fmt: skip
    """Cohen's κ = 1 − Σ W∘C / Σ W∘E: agreement of two annotators beyond chance, ``C`` the (weighted)
    confusion matrix of ``y1`` vs ``y2``, ``E = t pᵀ / n`` the one expected from its margins, and
    ``W_ij`` 1 off the diagonal (``weights=None``), ``|i − j|`` (``"linear"``) or ``(i − j)²``
    (``"quadratic"``) over the label order.  When κ is 0/0 it is ``replace_undefined_by`` (NaN by
    default, with an ``UndefinedMetricWarning``)."""
    who = "cohen_kappa_score"
    if not (weights is None or isinstance(weights, str) and weights in KAPPA_WEIGHTS):
        raise ValueError(f"{who}: weights must be None, 'linear' or 'quadratic', got {weights!r}")
    if not (isinstance(replace_undefined_by, Real) and (np.isnan(replace_undefined_by) or -1 <= replace_undefined_by <= 1)):
        raise ValueError(f"{who}: replace_undefined_by must be np.nan or a number in [-1, 1], got {replace_undefined_by!r}")
    try:
        C = _confusion_matrix(y1, y2, labels, sample_weight, None, who).astype(np.float64)
    except ValueError as err:
        if "At least one label specified must be in y_true" not in str(err):
            raise
        raise ValueError(f"{who}: At least one label in `labels` must be present in `y1` (even though "
                         "`cohen_kappa_score` is otherwise agnostic to the order of `y1` and `y2`); "
                         f"labels={np.asarray(labels).tolist()}") from None  # fmt: skip
    n = C.sum()
    if n == 0:
        return _undefined_kappa(replace_undefined_by, "`y2` contains no labels that are present in both `y1` and `labels`")
    expected = np.outer(C.sum(1), C.sum(0)) / n
    i = np.arange(len(C))
    W = {None: (i[:, None] != i).astype(np.float64), "linear": np.abs(i[:, None] - i).astype(np.float64),
         "quadratic": (i[:, None] - i).astype(np.float64) ** 2}[weights]  # fmt: skip
    chance = np.sum(W * expected)
    if chance == 0:
        return _undefined_kappa(replace_undefined_by, "`y1`, `y2` and `labels` have only one label in common")
    return float(1 - np.sum(W * C) / chance)


def _undefined_kappa(value, why: str) -> float:
    warnings.warn(f"cohen_kappa_score: {why}. `cohen_kappa_score` is undefined and set to the value defined by the "
                  f"`replace_undefined_by` param, which is set to {value}.", _undefined_metric_warning(),
                  stacklevel=3)  # fmt: skip
    return value


def jaccard_score(y_true, y_pred, *, labels=None, pos_label=1, average: str | None = "binary", sample_weight=None,
                  zero_division="warn"):  # fmt: skip
    """Jaccard index ``|y ∩ ŷ| / |y ∪ ŷ| = TP / (TP + FP + FN)`` per label, averaged as
    :func:`precision_recall_fscore_support` averages (``"binary"``: ``pos_label``'s; ``"micro"``: the
    counts pooled; ``"macro"``; ``"weighted"`` by support; ``"samples"``: per multilabel row; ``None``:
    one per label).  A label with no true and no predicted sample is 0/0: ``zero_division``."""
    who = "jaccard_score"
    _check_zero_division(zero_division, who)
    a, b = _labels(y_true, y_pred, who)
    w = _check_sample_weight(sample_weight, len(a), who)
    chosen = _set_wise_labels(a, b, average, labels, pos_label, who)
    tp, pred, true = _label_counts(a, b, chosen, w, average == "samples", who)
    if average == "micro":
        tp, pred, true = tp.sum(keepdims=True), pred.sum(keepdims=True), true.sum(keepdims=True)
    missing = "true or predicted labels" if average == "samples" else "true or predicted"
    j = _divide(tp, true + pred - tp, zero_division, "Jaccard", True, who, missing)
    if average is None:
        return j
    return _nanaverage(j, true if average == "weighted" else w if average == "samples" else None)


def classification_report(y_true, y_pred, *, labels=None, target_names=None, sample_weight=None, digits: int = 2,
                          output_dict: bool = False, zero_division="warn"):  # fmt: skip
    """scikit-learn's text report of precision, recall, F1 and support per label, then the
    ``accuracy`` (micro average, when every label is reported; else a ``micro avg`` row), ``macro
    avg`` and ``weighted avg`` rows (and ``samples avg`` for a multilabel target); ``output_dict``
    returns the same numbers as ``{name: {"precision", "recall", "f1-score", "support"}}`` with
    ``"accuracy"`` a float.  ``target_names`` name the labels (one per label)."""
    who = "classification_report"
    a, b = _labels(y_true, y_pred, who)
    _indicator_pair(a, b, who)
    present = np.arange(a.shape[1]) if a.ndim == 2 else np.unique(np.concatenate([a, b]))
    given = labels is not None
    labels = _given_labels(labels, who) if given else present
    micro_is_accuracy = a.ndim == 1 and (not given or set(labels.tolist()) >= set(present.tolist()))
    if target_names is not None and len(labels) != len(target_names):
        if not given:
            raise ValueError(f"{who}: Number of classes, {len(labels)}, does not match size of target_names, "
                             f"{len(target_names)}. Try specifying the labels parameter")  # fmt: skip
        warnings.warn(f"labels size, {len(labels)}, does not match size of target_names, {len(target_names)}",
                      UserWarning, stacklevel=2)  # fmt: skip
    names = [str(label) for label in labels] if target_names is None else list(target_names)
    warn_for = ("precision", "recall", "f-score")
    p, r, f1, s = _prfs(a, b, 1.0, labels, 1, None, warn_for, sample_weight, zero_division, who)
    rows = {name: (pi, ri, fi, si) for name, pi, ri, fi, si in zip(names, p, r, f1, s)}
    averages = {}
    for average in ("micro", "macro", "weighted", "samples") if a.ndim == 2 else ("micro", "macro", "weighted"):
        heading = "accuracy" if average == "micro" and micro_is_accuracy else f"{average} avg"
        averages[heading] = (*_prfs(a, b, 1.0, labels, 1, average, warn_for, sample_weight, zero_division, who)[:3],
                             np.sum(s))  # fmt: skip
    if output_dict:
        headers = ("precision", "recall", "f1-score", "support")
        report = {k: dict(zip(headers, map(float, v))) for k, v in {**rows, **averages}.items()}
        if "accuracy" in report:
            report["accuracy"] = report["accuracy"]["precision"]
        return report
    return _report_text(rows, averages, digits)


def _report_text(rows: dict, averages: dict, digits: int) -> str:
    """scikit-learn's layout of :func:`classification_report`: right-aligned columns of width 9."""
    width = max(*(len(name) for name in rows), len("weighted avg"), digits)
    text = "{:>{width}s} ".format("", width=width) + " {:>9}" * 4
    text = text.format("precision", "recall", "f1-score", "support") + "\n\n"
    line = "{:>{width}s} " + " {:>9.{digits}f}" * 3 + " {:>9}\n"
    for name, values in rows.items():
        text += line.format(name, *values, width=width, digits=digits)
    text += "\n"
    for heading, (p, r, f, s) in averages.items():
        if heading == "accuracy":
            text += ("{:>{width}s} " + " {:>9.{digits}}" * 2 + " {:>9.{digits}f} {:>9}\n").format(
                heading, "", "", f, s, width=width, digits=digits)
        else:
            text += line.format(heading, p, r, f, s, width=width, digits=digits)
    return text


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


ROC_AVERAGES = ("micro", "macro", "weighted", "samples", None)
# scikit-learn's averages per multiclass strategy ("samples" is for multilabel targets only)
_MULTICLASS_AVERAGES = {"ovr": ("micro", "macro", "weighted", None), "ovo": ("macro", "weighted")}


def _binary_clf_curve(pos: np.ndarray, s: np.ndarray, w: np.ndarray | None):
    """(Weighted) false and true positives at each distinct score taken as the threshold, from the
    highest score down (scikit-learn's ``_binary_clf_curve``): ``(fps, tps, thresholds)``.  Rows of
    weight 0 are left out first, as scikit-learn does, so their scores are no thresholds."""
    if w is not None and np.any(w == 0):
        pos, s, w = pos[w != 0], s[w != 0], w[w != 0]
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


def _binary_target(y_true, y_score, pos_label, sample_weight, who: str):
    """``(positive, scores, weights)`` for a binary curve: one label and one score per sample, the
    positives ``y == pos_label`` (:func:`_positive_label`); more than two classes need ``pos_label``."""
    y, s = _xy(y_true, y_score, who)
    y, s = _column_or_1d(y), _column_or_1d(s)
    if y.ndim != 1 or s.ndim != 1:
        raise ValueError(f"{who}: y_true and y_score must be 1-D (one label and one score per sample), got shapes "
                         f"{y.shape} and {s.shape}")  # fmt: skip
    n_classes = len(np.unique(y))
    if n_classes > 2 and pos_label is None:
        raise ValueError(f"{who}: multiclass format is not supported (y_true has {n_classes} classes); score one class "
                         f"against the rest with pos_label=k, or e.g. {who}(y == k, proba[:, k])")  # fmt: skip
    pos = y == _positive_label(y, pos_label, who)
    return pos, s.astype(np.float64), _check_sample_weight(sample_weight, len(y), who)


def roc_curve(y_true, y_score, *, pos_label=None, sample_weight=None, drop_intermediate: bool = True):
    """The ROC curve, as scikit-learn's: ``(fpr, tpr, thresholds)`` with ``fpr = FP/N`` and ``tpr = TP/P``
    when every score ``>= threshold`` is called positive, thresholds decreasing from ``inf`` (nothing
    positive, the point (0, 0)).  ``drop_intermediate`` drops the points on a straight segment
    (the area is unchanged).  Without a negative (positive) sample ``fpr`` (``tpr``) is NaN, with an
    ``UndefinedMetricWarning``."""
    who = "roc_curve"
    fps, tps, thresholds = _binary_clf_curve(*_binary_target(y_true, y_score, pos_label, sample_weight, who))
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


def _auc_undefined(pos: np.ndarray, w: np.ndarray | None) -> bool:
    """True, with scikit-learn's ``UndefinedMetricWarning``, when one class is missing from ``pos``
    (or has zero total weight): the AUC is then NaN (a silent NaN hides an empty label column)."""
    if pos.all() or not pos.any():
        warnings.warn("roc_auc_score: Only one class is present in y_true. ROC AUC score is not defined in that case "
                      "(NaN); a label column needs both positive and negative samples", _undefined_metric_warning(),
                      stacklevel=4)  # fmt: skip
        return True
    empty = [] if w is None else [side for side, rows in (("negative", ~pos), ("positive", pos)) if w[rows].sum() <= 0]
    for side in empty:
        warnings.warn(f"roc_auc_score: No {side} samples in y_true, {'false' if side == 'negative' else 'true'} positive "
                      "value should be meaningless (every such sample has weight 0); ROC AUC is NaN",
                      _undefined_metric_warning(), stacklevel=4)  # fmt: skip
    return bool(empty)


def _binary_auc(pos: np.ndarray, s: np.ndarray, w: np.ndarray | None = None, max_fpr: float | None = None) -> float:
    """``P(s⁺ > s⁻) + ½ P(s⁺ = s⁻)`` over (positive, negative) pairs weighted by ``w⁺ w⁻`` — the area
    under the (weighted) ROC curve; ``nan`` when one side is empty.  Equal scores form one group:
    ``AUC = Σ_g W⁺_g (W⁻_{below g} + ½ W⁻_g) / (W⁺ W⁻)``; with ``max_fpr`` < 1 the partial AUC of
    :func:`_partial_auc`."""
    if _auc_undefined(pos, w):
        return float("nan")
    if max_fpr is not None and max_fpr != 1:
        return _partial_auc(pos, s, w, max_fpr)
    w = np.ones(len(s)) if w is None else w
    _, group = np.unique(s, return_inverse=True)  # ascending scores
    wp, wn = np.bincount(group, weights=w * pos), np.bincount(group, weights=w * ~pos)
    total = wp.sum() * wn.sum()
    if total == 0:
        return float("nan")
    return float((wp * (np.cumsum(wn) - wn / 2)).sum() / total)


def _average_binary_score(metric: Callable, Y: np.ndarray, S: np.ndarray, average, w: np.ndarray | None):
    """``metric(positive, scores, weights)`` of each column of the 0/1 matrix ``Y`` against ``S``,
    averaged as scikit-learn's ``_average_binary_score``: ``micro`` pools every (sample, label),
    ``macro`` is the plain mean, ``weighted`` weighs a label by its (weighted) support (0 when no
    label has any; a label without support scores 0), ``samples`` scores each row and weighs it by
    ``w``, ``None`` gives the scores of all labels."""
    if average == "micro":
        return metric(Y.ravel().astype(bool), S.ravel(), None if w is None else np.repeat(w, Y.shape[1]))
    if average == "samples":
        scores, weights = np.array([metric(Y[i].astype(bool), S[i], None) for i in range(len(Y))]), w
    else:
        weights = (Y * (1.0 if w is None else w[:, None])).sum(0) if average == "weighted" else None
        if weights is not None and np.isclose(weights.sum(), 0):
            return 0.0  # no label has any support: 0 before scoring (and warning about) any column
        scores = np.array([metric(Y[:, c].astype(bool), S[:, c], w) for c in range(Y.shape[1])], dtype=np.float64)
    if average is None:
        return scores
    if weights is not None:
        scores[weights == 0] = 0
    return float(np.average(scores, weights=weights))


def roc_auc_score(y_true, y_score, *, average: str | None = "macro", sample_weight=None, max_fpr: float | None = None,
                  multi_class: str = "raise", labels=None):  # fmt: skip
    """Area under the ROC curve = P(score of a random positive > a random negative), ties count ½,
    as ``sklearn.metrics.roc_auc_score``.

    Two classes: ``y_score`` is the positive class's score, ``(n,)``.  More classes: ``y_score`` holds
    probabilities ``(n, k)`` (rows sum to 1, columns in the order of ``labels`` or of the sorted
    classes) and ``multi_class`` says how: ``"ovr"`` — each class against the rest, averaged
    (``macro``; ``weighted`` by class frequency; ``micro`` pools all); ``"ovo"`` — Hand & Till's mean over
    pairs {a, b} of ``½ (AUC(a | a, b) + AUC(b | a, b))`` (``weighted`` by the pair's frequency).
    A 2-D 0/1 ``y_true`` (multilabel) scores each column against its own column of ``y_score``
    (``average="samples"``: each row against its row, averaged over the rows, weighted by ``sample_weight``).
    A column (or row, or binary ``y_true``) holding one class only scores NaN with scikit-learn's
    ``UndefinedMetricWarning``.
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
        return _average_binary_score(functools.partial(_binary_auc, max_fpr=max_fpr), y, s, average, w)
    classes = np.unique(y)
    if len(classes) > 2 or (s.ndim == 2 and s.shape[1] > 2):
        if max_fpr is not None and max_fpr != 1:
            raise ValueError(f"roc_auc_score: Partial AUC computation not available in multiclass setting, 'max_fpr' must "
                             f"be set to `None`, received `max_fpr={max_fpr}` instead")  # fmt: skip
        return _multiclass_auc(y, s, classes, labels, multi_class, average, w)
    if s.ndim != 1:
        raise ValueError(f"roc_auc_score: with two classes y_score must hold one score per sample (the positive class's, "
                         f"e.g. predict_proba(X)[:, 1]), got shape {s.shape}")  # fmt: skip
    return _binary_auc(y == classes[-1] if len(classes) == 2 else np.zeros(len(y), bool), s, w, max_fpr)


class _AverageNotImplementedError(ValueError, NotImplementedError):
    """scikit-learn raises NotImplementedError for ovo with average=None; a ValueError too, as every bad argument here."""


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
    if average is None and multi_class == "ovo":
        raise _AverageNotImplementedError("roc_auc_score: average=None is not implemented for multi_class='ovo'; use "
                                          "macro or weighted (or multi_class='ovr' for one score per class)")  # fmt: skip
    if average not in _MULTICLASS_AVERAGES[multi_class]:
        raise ValueError(f"roc_auc_score: average={average!r} is not available with multi_class={multi_class!r} on a "
                         f"multiclass y_true; use one of {', '.join(map(str, _MULTICLASS_AVERAGES[multi_class]))} "
                         "('samples' is for a multilabel 0/1 indicator y_true)")  # fmt: skip
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
        return _average_binary_score(_binary_auc, code[:, None] == np.arange(len(classes)), P, average, w)
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


def precision_recall_curve(y_true, y_score, *, pos_label=None, sample_weight=None, drop_intermediate: bool = False):
    """Precision ``TP/(TP+FP)`` and recall ``TP/P`` when every score ``>= threshold`` is called positive,
    as scikit-learn's: ``(precision, recall, thresholds)`` with the thresholds increasing (each distinct
    score) and a last point ``(precision 1, recall 0)`` that has no threshold.  ``drop_intermediate``
    drops the thresholds where the true positives do not change.  Without a positive sample the recall
    is 1 everywhere, with a warning."""
    who = "precision_recall_curve"
    fps, tps, thresholds = _binary_clf_curve(*_binary_target(y_true, y_score, pos_label, sample_weight, who))
    if drop_intermediate and len(fps) > 2:
        keep = np.flatnonzero(np.r_[True, np.logical_or(np.diff(tps[:-1]), np.diff(tps[1:])), True])
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    called = tps + fps
    precision = np.divide(tps, called, out=np.zeros_like(tps, dtype=np.float64), where=called != 0)
    if tps[-1] == 0:
        warnings.warn(f"{who}: No positive class found in y_true, recall is set to one for all thresholds.",
                      UserWarning, stacklevel=2)  # fmt: skip
        recall = np.ones_like(tps, dtype=np.float64)
    else:
        recall = tps / tps[-1]
    return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], thresholds[::-1]


def _binary_average_precision(pos: np.ndarray, s: np.ndarray, w: np.ndarray | None = None) -> float:
    """``AP = Σ_n (R_n − R_{n−1}) P_n`` over the thresholds from the highest score down (no
    interpolation, scikit-learn's); 0 without a positive sample (with its warning)."""
    fps, tps, _ = _binary_clf_curve(pos, s, w)
    if tps[-1] == 0:
        warnings.warn("average_precision_score: No positive class found in y_true, recall is set to one for all "
                      "thresholds; the average precision is 0.", UserWarning, stacklevel=3)  # fmt: skip
        return 0.0
    recall = tps / tps[-1]
    return max(0.0, float(np.diff(np.r_[0.0, recall]) @ (tps / (tps + fps))))


AP_AVERAGES = ("micro", "macro", "weighted", "samples", None)


def average_precision_score(y_true, y_score, *, average: str | None = "macro", pos_label=1, sample_weight=None):
    """Average precision, the area under the precision–recall step curve (:func:`_binary_average_precision`),
    as scikit-learn's.  Binary ``y_true``: ``y_score`` ranks ``pos_label``.  Multiclass ``y_true``:
    ``y_score`` of shape ``(n, k)``, one column per sorted class, each class scored against the rest;
    a 0/1 matrix ``y_true`` (multilabel): each column against its own; then ``average`` as
    :func:`roc_auc_score`'s (``"macro"``, ``"weighted"``, ``"micro"``, ``"samples"`` or ``None``)."""
    who = "average_precision_score"
    if average not in AP_AVERAGES:
        raise ValueError(f"{who}: average must be one of {list(AP_AVERAGES)}, got {average!r}")
    y, s = _xy(y_true, y_score, who)
    y, s = _column_or_1d(y), _column_or_1d(s).astype(np.float64)
    w = _check_sample_weight(sample_weight, len(y), who)
    if y.ndim == 1 and len(np.unique(y)) <= 2:
        present = np.unique(y).tolist()
        if len(present) == 2 and pos_label not in present:
            raise ValueError(f"{who}: pos_label={pos_label!r} is not a valid label. It should be one of {present}")
        if s.ndim != 1:
            raise ValueError(f"{who}: with a binary y_true, y_score must hold one score per sample (pos_label's), "
                             f"got shape {s.shape}")  # fmt: skip
        return _binary_average_precision(y == pos_label, s, w)
    if pos_label != 1:
        raise ValueError(f"{who}: Parameter pos_label is fixed to 1 for multiclass and multilabel-indicator y_true. "
                         "Do not set pos_label or set pos_label to 1.")  # fmt: skip
    if y.ndim == 2:
        if not np.isin(y, (0, 1)).all():
            raise ValueError(f"{who}: a 2-D y_true must be a 0/1 multilabel indicator matrix, got values "
                             f"{np.unique(y)[:5].tolist()}")  # fmt: skip
        Y = y
    else:
        Y = (y[:, None] == np.unique(y)).astype(np.int64)
    if s.shape != Y.shape:
        raise ValueError(f"{who}: `y_score` needs to be of shape `(n_samples, n_classes)` = {Y.shape}, since `y_true` "
                         f"contains multiple classes. Got `y_score.shape={s.shape}`.")  # fmt: skip
    return _average_binary_score(_binary_average_precision, Y, s, average, w)


def top_k_accuracy_score(y_true, y_score, *, k: int = 2, normalize: bool = True, sample_weight=None, labels=None):
    """The (weighted) fraction of samples whose true class is among the ``k`` highest scores of its row
    of ``y_score`` ``(n, n_classes)`` (columns in the order of ``labels`` or of the sorted classes; ties
    broken toward the lower column, as scikit-learn's stable sort).  Binary: ``y_score`` is the
    positive class's score; with ``k = 1`` a sample is predicted positive above 0.5 (probabilities) or 0."""
    who = "top_k_accuracy_score"
    if isinstance(k, bool) or not isinstance(k, Integral) or k < 1:
        raise ValueError(f"{who}: k must be an int >= 1, got {k!r}")
    y, s = _xy(y_true, y_score, who)
    y, s = _column_or_1d(y), _column_or_1d(s).astype(np.float64)
    if y.ndim != 1 or _continuous(y):
        raise ValueError(f"{who}: y type must be 'binary' or 'multiclass' (one class label per sample), got shape "
                         f"{y.shape} and dtype {y.dtype}")  # fmt: skip
    binary = len(np.unique(y)) <= 2 and (labels is None or len(labels) <= 2)
    if binary and s.ndim == 2:
        raise ValueError(f"{who}: `y_true` is binary while y_score is 2d with {s.shape[1]} classes. If `y_true` does not "
                         "contain all the labels, `labels` must be provided.")  # fmt: skip
    if not binary and s.ndim != 2:
        raise ValueError(f"{who}: `y_score` needs to be of shape `(n_samples, n_classes)`, since `y_true` contains "
                         f"multiple classes. Got `y_score.shape={s.shape}`.")  # fmt: skip
    classes = _top_k_classes(y, labels, 2 if binary else s.shape[1], who)
    if k >= len(classes):
        warnings.warn(f"{who}: 'k' ({k}) greater than or equal to 'n_classes' ({len(classes)}) will result in a perfect "
                      "score and is therefore meaningless.", _undefined_metric_warning(), stacklevel=2)  # fmt: skip
    code = np.searchsorted(classes, y)
    if binary:
        threshold = 0.5 if s.min() >= 0 and s.max() <= 1 else 0
        hits = (s > threshold).astype(np.int64) == code if k == 1 else np.ones(len(y), dtype=bool)
    else:
        top = np.argsort(s, axis=1, kind="mergesort")[:, ::-1][:, :k]
        hits = (top == code[:, None]).any(axis=1)
    w = _check_sample_weight(sample_weight, len(y), who)
    if normalize:
        return float(np.average(hits, weights=w))
    return float(hits.sum() if w is None else hits @ w)


def _top_k_classes(y: np.ndarray, labels, n_columns: int, who: str) -> np.ndarray:
    """The sorted classes naming the score columns: ``labels`` (unique, sorted, covering ``y``), else
    the classes of ``y``; either must match the number of columns."""
    if labels is None:
        classes = np.unique(y)
        if len(classes) != n_columns:
            raise ValueError(f"{who}: Number of classes in 'y_true' ({len(classes)}) not equal to the number of classes "
                             f"in 'y_score' ({n_columns}). You can provide a list of all known classes by assigning it "
                             "to the `labels` parameter.")  # fmt: skip
        return classes
    given = np.asarray(labels).reshape(-1)
    classes = np.unique(given)
    if len(classes) != len(given):
        raise ValueError(f"{who}: Parameter 'labels' must be unique, got {given.tolist()}")
    if not np.array_equal(classes, given):
        raise ValueError(f"{who}: Parameter 'labels' must be ordered, got {given.tolist()}; pass {classes.tolist()}")
    if len(classes) != n_columns:
        raise ValueError(f"{who}: Number of given labels ({len(classes)}) not equal to the number of classes in "
                         f"'y_score' ({n_columns}).")  # fmt: skip
    if len(np.setdiff1d(y, classes)):
        raise ValueError(f"{who}: 'y_true' contains labels not in parameter 'labels': {np.setdiff1d(y, classes).tolist()}")
    return classes


def _estimator_kind(estimator) -> str | None:
    """scikit-learn's estimator type (``"classifier"``, ``"regressor"``, ...): nablagrad's own kind,
    else the estimator's tags (``__sklearn_tags__().estimator_type``), else the legacy ``_estimator_type``."""
    kind = getattr(estimator, "_estimator_kind", None)
    if kind is not None:
        return kind
    tags = getattr(estimator, "__sklearn_tags__", None)
    if callable(tags):
        try:
            return tags().estimator_type
        except Exception:  # noqa: BLE001 - no tags to read (scikit-learn absent, a partial estimator): fall back
            pass
    return getattr(estimator, "_estimator_type", None)


RESPONSE_METHODS = ("predict", "predict_proba", "predict_log_proba", "decision_function")


def _response(estimator, X, response_method: str | tuple, pos_label):
    """What a scorer scores (scikit-learn's ``_get_response_values``): the first of ``response_method``
    the estimator has, called on ``X``; for a binary classifier the probability column of ``pos_label``
    (``None``: the larger class), and a decision function negated when ``pos_label`` is the smaller class."""
    names = (response_method,) if isinstance(response_method, str) else tuple(response_method)
    name = next((n for n in names if hasattr(estimator, n)), None)
    if name is None:
        raise AttributeError(f"{type(estimator).__name__} has none of the following attributes: {', '.join(names)}.")
    out = getattr(estimator, name)(X)
    classes = getattr(estimator, "classes_", None) if _estimator_kind(estimator) == "classifier" else None
    if not (isinstance(classes, np.ndarray) and classes.ndim == 1 and len(classes) == 2):
        return out
    if pos_label is None:
        pos_label = classes[-1]
    elif pos_label not in classes.tolist():
        raise ValueError(f"pos_label={pos_label!r} is not a valid label: It should be one of {classes.tolist()}")
    if name in ("predict_proba", "predict_log_proba"):
        return np.asarray(out)[:, np.flatnonzero(classes == pos_label)[0]]
    if name == "decision_function" and pos_label == classes[0]:
        return -np.asarray(out)
    return out


class _Scorer:
    """``scorer(estimator, X, y_true, sample_weight=None)`` = ``sign · score_func(y_true, response, **kwargs)``
    (:func:`make_scorer`); greater is better for every scorer, so a loss is negated."""

    def __init__(self, score_func: Callable, sign: int, kwargs: dict, response_method: str | tuple = "predict"):
        self._score_func, self._sign, self._kwargs, self._response_method = score_func, sign, kwargs, response_method

    def __call__(self, estimator, X, y_true, sample_weight=None, **kwargs) -> float:
        if sample_weight is not None:
            kwargs["sample_weight"] = sample_weight
        overlap = set(self._kwargs) & set(kwargs)
        if overlap:
            warnings.warn("There is an overlap between set kwargs of this scorer instance and passed metadata. Please "
                          f"pass them either as kwargs to `make_scorer` or metadata, but not both. Overlapping "
                          f"parameters are: {overlap}", UserWarning, stacklevel=2)  # fmt: skip
        pos_label = None if _estimator_kind(estimator) == "regressor" else self._get_pos_label()
        y_pred = _response(estimator, X, self._response_method, pos_label)
        return self._sign * self._score_func(y_true, y_pred, **self._extra(estimator), **{**self._kwargs, **kwargs})

    def _extra(self, estimator) -> dict:
        return {}

    def _get_pos_label(self):
        """``pos_label`` as given to :func:`make_scorer`, else the score function's default (or ``None``)."""
        if "pos_label" in self._kwargs:
            return self._kwargs["pos_label"]
        try:
            param = inspect.signature(self._score_func).parameters.get("pos_label")
        except (TypeError, ValueError):
            return None
        return None if param is None else param.default

    def _accept_sample_weight(self) -> bool:
        """Whether the score function takes ``sample_weight`` (the searches pass ``fit``'s on when it does)."""
        try:
            return "sample_weight" in inspect.signature(self._score_func).parameters
        except (TypeError, ValueError):
            return False

    def __repr__(self) -> str:
        name = getattr(self._score_func, "__name__", repr(self._score_func))
        sign = "" if self._sign > 0 else ", greater_is_better=False"
        kwargs = "".join(f", {k}={v}" for k, v in self._kwargs.items())
        return f"make_scorer({name}{sign}, response_method={self._response_method!r}{kwargs})"


class _ClassesScorer(_Scorer):
    """A probability scorer that names the columns by the classifier's ``classes_`` (``labels=``), so a
    test fold lacking a class is still scored (scikit-learn's ``neg_log_loss`` raises there)."""

    def _extra(self, estimator) -> dict:
        classes = getattr(estimator, "classes_", None)
        if "labels" in self._kwargs or not isinstance(classes, np.ndarray) or len(classes) <= 2:
            return {}
        return {"labels": classes}


def make_scorer(score_func: Callable, *, response_method: str | Sequence[str] = "predict", greater_is_better: bool = True,
                **kwargs) -> _Scorer:  # fmt: skip
    """A scorer ``(estimator, X, y, sample_weight=None) -> float`` from a metric ``score_func(y_true,
    y_pred, **kwargs)``, as scikit-learn's: ``y_pred`` is ``estimator.<response_method>(X)`` (a list
    or tuple: the first method the estimator has; a binary classifier's probabilities reduced to the
    positive class's column), and the value is negated when ``greater_is_better=False`` (a loss), so
    that a search always maximises it.  ``kwargs`` go to ``score_func`` on every call."""
    if not callable(score_func):
        raise TypeError(f"make_scorer: score_func must be a metric callable as score_func(y_true, y_pred), got "
                        f"{score_func!r}")  # fmt: skip
    names = [response_method] if isinstance(response_method, str) else response_method
    if not isinstance(names, list | tuple) or not names or any(n not in RESPONSE_METHODS for n in names):
        raise ValueError(f"make_scorer: response_method must be one of {list(RESPONSE_METHODS)} or a list/tuple of "
                         f"them, got {response_method!r}")  # fmt: skip
    if not isinstance(greater_is_better, bool | np.bool_):
        raise TypeError(f"make_scorer: greater_is_better must be a bool, got {greater_is_better!r}")
    return _Scorer(score_func, 1 if greater_is_better else -1, kwargs, response_method)


_SCORES = ("decision_function", "predict_proba")
SCORERS: dict[str, Callable] = {
    "accuracy": make_scorer(accuracy_score),
    "balanced_accuracy": make_scorer(balanced_accuracy_score),
    "matthews_corrcoef": make_scorer(matthews_corrcoef),
    "top_k_accuracy": make_scorer(top_k_accuracy_score, response_method=_SCORES),
    "roc_auc": make_scorer(roc_auc_score, response_method=_SCORES),
    **{f"roc_auc_{mc}": make_scorer(roc_auc_score, response_method="predict_proba", multi_class=mc)
       for mc in ("ovr", "ovo")},
    **{f"roc_auc_{mc}_weighted": make_scorer(roc_auc_score, response_method="predict_proba", multi_class=mc,
                                             average="weighted") for mc in ("ovr", "ovo")},
    "average_precision": make_scorer(average_precision_score, response_method=_SCORES),
    "neg_log_loss": _ClassesScorer(log_loss, -1, {}, "predict_proba"),
    "r2": make_scorer(r2_score),
    "neg_mean_squared_error": make_scorer(mean_squared_error, greater_is_better=False),
    "neg_root_mean_squared_error": make_scorer(root_mean_squared_error, greater_is_better=False),
    "neg_mean_absolute_error": make_scorer(mean_absolute_error, greater_is_better=False),
    "neg_mean_absolute_percentage_error": make_scorer(mean_absolute_percentage_error, greater_is_better=False),
}  # fmt: skip
"""Scoring names (scikit-learn's) → ``scorer(estimator, X, y, sample_weight=None)``; greater is better for each."""
SCORERS.update({f"{name}{'_' * bool(average)}{average}": make_scorer(metric, average="binary") if not average else
                make_scorer(metric, pos_label=None, average=average)
                for name, metric in (("precision", precision_score), ("recall", recall_score), ("f1", f1_score),
                                     ("jaccard", jaccard_score))
                for average in ("", "macro", "micro", "samples", "weighted")})  # fmt: skip


def get_scorer_names() -> list[str]:
    """The scoring names :func:`get_scorer` (and ``scoring=`` of the searches) accept, sorted."""
    return sorted(SCORERS)


def get_scorer(scoring):
    """The scorer of a scoring name (a fresh copy), or ``scoring`` itself when it is a callable or ``None``."""
    if isinstance(scoring, str):
        if scoring not in SCORERS:
            raise ValueError(f"{scoring!r} is not a valid scoring value. Use nablagrad.ml.metrics.get_scorer_names() to "
                             "get valid options.")  # fmt: skip
        return copy.deepcopy(SCORERS[scoring])
    if scoring is None or callable(scoring):
        return scoring
    raise ValueError(f"get_scorer: scoring must be a scoring name (see get_scorer_names()), a callable or None, got "
                     f"{scoring!r}")  # fmt: skip
