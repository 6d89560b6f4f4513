"""Metrics (lecture 004): regression errors, classification scores, log loss, ROC AUC.

Shapes follow scikit-learn: a column vector ``(n, 1)`` is the same single output (or label
column) as ``(n,)``; a regression metric on ``(n, k)`` targets computes one value per output and
averages them (``multioutput="uniform_average"``), a classification metric on a 2-D indicator
matrix is the multilabel one (subset accuracy).  NaN, infinity, empty inputs and mismatched
shapes are refused with a message that names the function."""

from __future__ import annotations

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


def r2_score(y_true, y_pred, sample_weight=None, multioutput="uniform_average"):
    """R² = 1 − Σ w(y − ŷ)² / Σ w(y − ȳ_w)² per output (1 for a perfect constant target, 0 for an
    imperfect one), then averaged over outputs."""
    a, b = _outputs(y_true, y_pred, "r2_score")
    w = _check_sample_weight(sample_weight, len(a), "r2_score")
    w = np.ones(len(a)) if w is None else w
    ss_res = w @ (a - b) ** 2
    ss_tot = w @ (a - np.average(a, axis=0, weights=w)) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(ss_tot > 0, 1 - ss_res / np.where(ss_tot > 0, ss_tot, 1), np.where(ss_res == 0, 1.0, 0.0))
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


def accuracy_score(y_true, y_pred, sample_weight=None) -> float:
    """Fraction of samples predicted exactly right (weighted by ``sample_weight``); on a 2-D
    multilabel target a sample counts only when all its labels are right (subset accuracy)."""
    a, b = _labels(y_true, y_pred, "accuracy_score")
    right = a == b if a.ndim == 1 else np.all(a == b, axis=1)
    return float(np.average(right, weights=_check_sample_weight(sample_weight, len(a), "accuracy_score")))


def balanced_accuracy_score(y_true, y_pred) -> float:
    """Mean over the classes of y_true of each class's recall TP / (TP + FN)."""
    a, b = _class_vectors(y_true, y_pred, "balanced_accuracy_score")
    classes = np.unique(a)
    return float(np.mean([np.mean(b[a == c] == c) for c in classes]))


def confusion_matrix(y_true, y_pred, labels=None) -> np.ndarray:
    """C[i, j] = number of samples of class i predicted as class j."""
    a, b = _class_vectors(y_true, y_pred, "confusion_matrix")
    labels = np.unique(np.concatenate([a, b])) if labels is None else np.asarray(labels)
    index = {v: i for i, v in enumerate(labels.tolist())}
    cm = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for t, p in zip(a.tolist(), b.tolist()):
        if t in index and p in index:
            cm[index[t], index[p]] += 1
    return cm


AVERAGES = ("binary", "micro", "macro", "weighted", "samples", None)


def _indicator_counts(a: np.ndarray, b: np.ndarray, axis: int, who: str) -> tuple[np.ndarray, ...]:
    """TP, FP, FN of a multilabel 0/1 indicator matrix, per label (``axis=0``) or per sample (``axis=1``)."""
    if not (np.isin(a, (0, 1)).all() and np.isin(b, (0, 1)).all()):
        raise ValueError(f"{who}: a 2-D y must be a multilabel indicator matrix of 0s and 1s; multiclass-multioutput "
                         "is not supported — score each output column on its own")  # fmt: skip
    a, b = a.astype(bool), b.astype(bool)
    return tuple(np.sum(m, axis=axis).astype(np.float64) for m in (a & b, ~a & b, a & ~b))


def _class_counts(a: np.ndarray, b: np.ndarray, average, pos_label, who: str) -> tuple[np.ndarray, ...]:
    """TP, FP, FN per class of label vectors (only ``pos_label``'s with ``average="binary"``)."""
    if average == "samples":
        raise ValueError(f"{who}: Sample-based precision, recall, fscore is not meaningful outside multilabel "
                         "classification; use another average, or accuracy_score")  # fmt: skip
    labels = np.unique(np.concatenate([a, b]))
    cm = confusion_matrix(a, b, labels)
    tp = np.diag(cm).astype(np.float64)
    fp, fn = cm.sum(0) - tp, cm.sum(1) - tp
    if average != "binary":
        return tp, fp, fn
    if len(labels) > 2:
        raise ValueError(f"{who}: Target is multiclass but average='binary'. Please choose another average setting, "
                         "one of [None, 'micro', 'macro', 'weighted'].")  # fmt: skip
    if pos_label not in labels.tolist():
        if len(labels) == 2:
            raise ValueError(f"{who}: pos_label={pos_label!r} is not a valid label. It should be one of "
                             f"{labels.tolist()}; pass pos_label= one of them")  # fmt: skip
        return np.zeros(1), np.zeros(1), np.zeros(1)  # pos_label never occurs: every score is 0
    k = labels.tolist().index(pos_label)
    return tp[k : k + 1], fp[k : k + 1], fn[k : k + 1]


def _prf(y_true, y_pred, average, pos_label, who: str = "precision_score"):
    """Precision TP/(TP+FP), recall TP/(TP+FN) and F1 = 2PR/(P+R) (0 where undefined), per class of
    label vectors or per label column of a multilabel indicator matrix, combined by ``average``:
    ``"micro"`` pools the counts, ``"macro"`` and ``"weighted"`` (by support TP+FN) average the
    scores, ``"samples"`` (multilabel only) averages each sample's scores, ``None`` returns them all."""
    if average not in AVERAGES:
        raise ValueError(f"{who}: average must be one of {list(AVERAGES)}, got {average!r}")
    a, b = _labels(y_true, y_pred, who)
    if a.ndim == 2:
        if average == "binary":
            raise ValueError(f"{who}: Target is multilabel-indicator but average='binary'. Please choose another average "
                             "setting, one of [None, 'micro', 'macro', 'weighted', 'samples'].")  # fmt: skip
        tp, fp, fn = _indicator_counts(a, b, 1 if average == "samples" else 0, who)
    else:
        tp, fp, fn = _class_counts(a, b, average, pos_label, who)
    if average == "micro":
        tp, fp, fn = tp.sum(keepdims=True), fp.sum(keepdims=True), fn.sum(keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        r = np.where(tp + fn > 0, tp / (tp + fn), 0.0)
        f = np.where(p + r > 0, 2 * p * r / (p + r), 0.0)
    if average is None:
        return p, r, f
    support = tp + fn if average == "weighted" else np.ones_like(tp)
    if support.sum() == 0:
        return 0.0, 0.0, 0.0
    return tuple(float(np.average(v, weights=support)) for v in (p, r, f))


def precision_score(y_true, y_pred, average: str | None = "binary", pos_label=1):
    """TP / (TP + FP)."""
    return _prf(y_true, y_pred, average, pos_label, who="precision_score")[0]


def recall_score(y_true, y_pred, average: str | None = "binary", pos_label=1):
    """TP / (TP + FN)."""
    return _prf(y_true, y_pred, average, pos_label, who="recall_score")[1]


def f1_score(y_true, y_pred, average: str | None = "binary", pos_label=1):
    """2PR / (P + R)."""
    return _prf(y_true, y_pred, average, pos_label, who="f1_score")[2]


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


def _binary_auc(pos: np.ndarray, s: np.ndarray, w: np.ndarray | None = None) -> float:
    """``P(s⁺ > s⁻) + ½ P(s⁺ = s⁻)`` over (positive, negative) pairs weighted by ``w⁺ w⁻`` — the area
    under the (weighted) ROC curve; ``nan`` when one side is empty.  Equal scores form one group:
    ``AUC = Σ_g W⁺_g (W⁻_{below g} + ½ W⁻_g) / (W⁺ W⁻)``."""
    w = np.ones(len(s)) if w is None else w
    _, group = np.unique(s, return_inverse=True)  # ascending scores
    wp, wn = np.bincount(group, weights=w * pos), np.bincount(group, weights=w * ~pos)
    total = wp.sum() * wn.sum()
    if total == 0:
        return float("nan")
    return float((wp * (np.cumsum(wn) - wn / 2)).sum() / total)


def _averaged_auc(Y: np.ndarray, S: np.ndarray, average, w: np.ndarray | None) -> float | np.ndarray:
    """One-vs-rest AUC of each column of the 0/1 matrix ``Y`` against ``S`` (scikit-learn's
    ``_average_binary_score``): ``micro`` pools every (sample, class), ``weighted`` weighs a class by
    its (weighted) support, ``None`` gives them all."""
    if average == "micro":
        return _binary_auc(Y.ravel().astype(bool), S.ravel(), None if w is None else np.repeat(w, Y.shape[1]))
    scores = np.array([_binary_auc(Y[:, c].astype(bool), S[:, c], w) for c in range(Y.shape[1])])
    if average is None:
        return scores
    support = (Y * (1.0 if w is None else w[:, None])).sum(0) if average == "weighted" else None
    if support is not None and support.sum() == 0:
        return 0.0
    return float(np.average(scores, weights=support))


def roc_auc_score(y_true, y_score, *, average: str | None = "macro", sample_weight=None, multi_class: str = "raise",
                  labels=None):  # fmt: skip
    """Area under the ROC curve = P(score of a random positive > a random negative), ties count ½,
    as ``sklearn.metrics.roc_auc_score``.

    Two classes: ``y_score`` is the positive class's score, ``(n,)``.  More classes: ``y_score`` holds
    probabilities ``(n, k)`` (rows sum to 1, columns in the order of ``labels`` or of the sorted
    classes) and ``multi_class`` says how: ``"ovr"`` — each class against the rest, averaged
    (``macro``; ``weighted`` by class frequency; ``micro`` pools all); ``"ovo"`` — Hand & Till's mean over
    pairs {a, b} of ``½ (AUC(a | a, b) + AUC(b | a, b))`` (``weighted`` by the pair's frequency).
    A 2-D 0/1 ``y_true`` (multilabel) scores each column against its own column of ``y_score``."""
    y, s = _xy(y_true, y_score, "roc_auc_score")
    if multi_class not in ("raise", "ovr", "ovo"):
        raise ValueError(f"roc_auc_score: multi_class must be one of raise, ovr, ovo; got {multi_class!r}")
    if average not in ROC_AVERAGES:
        raise ValueError(f"roc_auc_score: average must be one of {', '.join(map(str, ROC_AVERAGES))}; got {average!r}")
    w = _check_sample_weight(sample_weight, len(y), "roc_auc_score")
    y, s = _column_or_1d(y), _column_or_1d(s).astype(np.float64)
    if y.ndim == 2:  # multilabel indicator
        if s.shape != y.shape or not np.isin(y, (0, 1)).all():
            raise ValueError(f"roc_auc_score: a 2-D y_true must be a 0/1 indicator matrix with y_score of the same shape, "
                             f"got {y.shape} and {s.shape}")  # fmt: skip
        return _averaged_auc(y, s, average, w)
    classes = np.unique(y)
    if len(classes) > 2 or (s.ndim == 2 and s.shape[1] > 2):
        return _multiclass_auc(y, s, classes, labels, multi_class, average, w)
    if s.ndim != 1:
        raise ValueError(f"roc_auc_score: with two classes y_score must hold one score per sample (the positive class's, "
                         f"e.g. predict_proba(X)[:, 1]), got shape {s.shape}")  # fmt: skip
    if len(classes) != 2:
        raise ValueError(f"roc_auc_score: needs exactly two classes in y_true, got {classes.tolist()}")
    return _binary_auc(y == classes[1], s, w)


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


def _on_proba_auc(multi_class: str, average: str) -> Callable:
    """A scorer: multiclass ROC AUC of ``predict_proba`` (scikit-learn's ``roc_auc_ovr`` …)."""
    return lambda est, X, y: roc_auc_score(y, est.predict_proba(X), multi_class=multi_class, average=average)


def _on_predict(metric: Callable) -> Callable:
    """A scorer ``(estimator, X, y) -> metric(y, estimator.predict(X))``."""
    return lambda est, X, y: metric(y, est.predict(X))


SCORERS: dict[str, Callable] = {
    "accuracy": _on_predict(accuracy_score),
    "balanced_accuracy": _on_predict(balanced_accuracy_score),
    "f1": _on_predict(f1_score),
    "f1_macro": _on_predict(lambda y, p: f1_score(y, p, average="macro")),
    "precision": _on_predict(precision_score),
    "recall": _on_predict(recall_score),
    "roc_auc": lambda est, X, y: roc_auc_score(y, _positive_scores(est, X)),
    **{f"roc_auc_{mc}{'_weighted' * (av == 'weighted')}": _on_proba_auc(mc, av)
       for mc in ("ovr", "ovo") for av in ("macro", "weighted")},
    "neg_log_loss": lambda est, X, y: -log_loss(y, est.predict_proba(X), labels=getattr(est, "classes_", None)),
    "r2": _on_predict(r2_score),
    "neg_mean_squared_error": _on_predict(lambda y, p: -mean_squared_error(y, p)),
    "neg_root_mean_squared_error": _on_predict(lambda y, p: -root_mean_squared_error(y, p)),
    "neg_mean_absolute_error": _on_predict(lambda y, p: -mean_absolute_error(y, p)),
}
"""Scoring names (scikit-learn's) → ``scorer(estimator, X, y)``; greater is better for each."""
