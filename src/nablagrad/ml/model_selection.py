"""Model selection (lectures 001, 004): splits, k-fold cross-validation, grid search, 95%
confidence intervals and the lectures' rule for comparing two models, and the bias–variance
decomposition ``MSE = bias² + variance (+ noise)``.

Each takes ``n_jobs`` (:mod:`.parallel`): the fits are independent, so joblib spreads them over
cores, or over a Dask cluster with ``joblib.parallel_config(backend="dask")``, and the results
are exactly the serial ones."""

from __future__ import annotations

import inspect
import itertools
import math
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np

from .. import backend
from . import _params  # its Interval is a constraint; this module's Interval is a result
from ._params import (
    BOOLEAN,
    CALLABLE,
    N_JOBS,
    NONE,
    RANDOM_STATE,
    REAL_NUMBER,
    HasMethods,
    InstanceOf,
    InvalidParameterError,
    Options,
    check_random_state,
    signature_defaults,
    validate_params,
)
from .base import BaseEstimator, available_if, check_is_fitted
from .metrics import SCORERS, _estimator_kind
from .multiclass import clone
from .parallel import parallel_map
from .twin_warnings import sklearn_twin


def _split_size(value, name: str, n: int, rounding, who: str = "train_test_split") -> int | None:
    """A ``test_size``/``train_size`` as a number of rows: a fraction of ``n`` (rounded by
    ``rounding``), a count as given, ``None`` as ``None``; anything else refused."""
    if value is None:
        return None
    if not _params.Interval(Real, None, None).is_satisfied_by(value):  # a number (bools refused); its range checked below
        raise TypeError(f"{who}: {name} must be a fraction in (0, 1) or a number of rows, got {value!r}")
    if isinstance(value, Integral):
        return int(value)
    if not 0 < value < 1:
        raise ValueError(f"{who}: {name}={value} must be a fraction in (0, 1) or a whole number of rows")
    return int(rounding(float(value) * n))


def _train_test_sizes(n: int, test_size, train_size, who: str = "train_test_split",
                      default_test_size: float = 0.25) -> tuple[int, int]:  # fmt: skip
    """scikit-learn's rule: ``(n_train, n_test)`` with ``n_test = ⌈test_size·n⌉`` and ``n_train =
    ⌊train_size·n⌋`` for fractions; a size not given is the rest of the rows (``test_size`` 0.25
    when neither is); rows left over by two given sizes are in neither part."""
    if test_size is None and train_size is None:
        test_size = default_test_size
    n_test = _split_size(test_size, "test_size", n, math.ceil, who)
    n_train = _split_size(train_size, "train_size", n, math.floor, who)
    n_test = n - n_train if n_test is None else n_test
    n_train = n - n_test if n_train is None else n_train
    if not (0 < n_test < n and 0 < n_train < n):
        raise ValueError(f"{who}: test_size={test_size} and train_size={train_size} leave no training or no "
                         f"test data for n={n}; give each part at least one row")  # fmt: skip
    if n_train + n_test > n:
        raise ValueError(f"{who}: train_size={train_size} ({n_train} rows) and test_size={test_size} "
                         f"({n_test} rows) add up to more than the n={n} rows; reduce one, or give only one of them")  # fmt: skip
    return n_train, n_test


def train_test_split(*arrays, test_size=None, train_size=None, shuffle: bool = True, stratify=None, random_state=None):
    """Split arrays into train and test parts: ``X_tr, X_te, y_tr, y_te = train_test_split(X, y)``.
    Sizes as scikit-learn's (:func:`_train_test_sizes`): by default a quarter of the rows test.  The
    rows drawn are scikit-learn's for the same int ``random_state`` (its ``ShuffleSplit`` and
    ``StratifiedShuffleSplit`` draws, from a legacy ``RandomState``, see :func:`check_random_state`)."""
    if not arrays:
        raise ValueError("train_test_split: at least one array required, e.g. train_test_split(X, y)")
    n = len(arrays[0])
    if any(len(a) != n for a in arrays):
        raise ValueError("train_test_split: all arrays must have the same number of rows")
    n_train, n_test = _train_test_sizes(n, test_size, train_size)
    if random_state is not None and not isinstance(random_state, np.random.RandomState):
        backend.resolve_rng(random_state, "train_test_split")  # a bad seed is refused naming the function
    rng = check_random_state(random_state)
    if stratify is not None:
        strat = _class_labels(stratify, n, "train_test_split(stratify=...)", multilabel=True)
        train, test = _stratified_rows(strat, n_train, n_test, shuffle, rng)
    elif shuffle:
        order = rng.permutation(n)
        test, train = order[:n_test], order[n_test : n_test + n_train]
    else:  # as scikit-learn: the first rows train, the next n_test rows test
        train, test = np.arange(n_train), np.arange(n_train, n_train + n_test)
    out = []
    for a in arrays:
        out.extend([_take_rows(a, train), _take_rows(a, test)])
    return out


def _take_rows(a, rows: np.ndarray):
    """``a``'s rows, in ``a``'s kind as scikit-learn's ``_safe_indexing``: a list stays a list,
    a sparse matrix stays sparse; anything else becomes a NumPy array."""
    if isinstance(a, list):
        return [a[i] for i in rows.tolist()]
    if hasattr(a, "toarray") and hasattr(a, "tocsr"):  # scipy.sparse, without importing it
        return a.tocsr()[rows]
    return np.asarray(a)[rows]


def _stratified_rows(strat: np.ndarray, n_train: int, n_test: int, shuffle: bool, rng,
                     who: str = "train_test_split") -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Train and test row indices, each part drawn per class in proportion to its size, by
    scikit-learn's ``StratifiedShuffleSplit`` (the training counts first, the test counts from the
    rest, each class's rows permuted, then each part permuted); without ``shuffle`` each class's
    first rows train and the next ones test, in row order."""
    classes, inverse, counts = np.unique(strat, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    if counts.min() < 2:
        rare = classes[counts.argmin()].item()
        raise ValueError(
            f"{who}: the least populated class in stratify ({rare!r}) has only 1 member, which is too few: "
            "each class needs at least 2 (one for each side); merge rare classes or drop stratify"
        )
    if min(n_test, n_train) < len(classes):
        raise ValueError(f"{who}: the test set ({n_test} rows) and the training set ({n_train} rows) must "
                         f"each be at least the number of classes ({len(classes)}) to stratify; change test_size or "
                         "drop stratify")  # fmt: skip
    rows_of = np.split(np.argsort(inverse, kind="mergesort"), np.cumsum(counts)[:-1])
    train_per_class = _approximate_mode(counts, n_train, rng)
    test_per_class = _approximate_mode(counts - train_per_class, n_test, rng)
    train, test = [], []
    for rows, r, t in zip(rows_of, train_per_class, test_per_class):
        rows = rows[rng.permutation(len(rows))] if shuffle else rows
        train.extend(rows[:r])
        test.extend(rows[r : r + t])
    if not shuffle:
        return np.sort(train).astype(np.int64), np.sort(test).astype(np.int64)
    return rng.permutation(np.array(train, dtype=np.int64)), rng.permutation(np.array(test, dtype=np.int64))


def _approximate_mode(counts: np.ndarray, n_draws: int, rng) -> np.ndarray:
    """scikit-learn's allocation of ``n_draws`` over classes of sizes ``counts``: ⌊counts·n_draws/n⌋
    each, then the remaining draws to the largest fractional parts (ties broken at random)."""
    continuous = counts / counts.sum() * n_draws
    floored = np.floor(continuous).astype(np.int64)
    need = n_draws - int(floored.sum())
    remainder = continuous - floored
    for value in np.sort(np.unique(remainder))[::-1]:
        if need <= 0:
            break
        (tied,) = np.nonzero(remainder == value)
        chosen = rng.choice(tied, size=min(len(tied), need), replace=False)
        floored[chosen] += 1
        need -= len(chosen)
    return floored


def _not_labels(y: np.ndarray) -> str | None:
    """Why a float (or complex) ``y`` is scikit-learn's ``"continuous"`` target rather than class
    labels — ``"NaN or infinity"``, ``"non-integer values"`` — or ``None`` (whole numbers, or not numbers
    of that kind): the one test :func:`_class_labels` and :func:`_is_class_target` share."""
    if y.dtype.kind not in "fc":
        return None
    if not np.isfinite(y).all():
        return "NaN or infinity"
    return "non-integer values" if np.iscomplexobj(y) or np.any(y != np.round(y)) else None


def _class_labels(y, n: int, who: str, multilabel: bool = False) -> np.ndarray:
    """``y`` as one class label per sample (for stratification), or a ``ValueError`` naming what is
    wrong: not ``n`` labels, a continuous target (scikit-learn's message), or several columns
    (with ``multilabel``: each distinct row is one class, as scikit-learn's stratified split)."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim == 0 or len(y) != n:
        raise ValueError(f"{who}: got {y.size if y.ndim == 0 else len(y)} label(s) for {n} samples; pass one class label "
                         "per sample, e.g. the y that goes with X")  # fmt: skip
    why = _not_labels(y)
    if why is not None:
        raise ValueError(
            f"{who}: Supported target types are: ('binary', 'multiclass'). Got 'continuous' instead (y holds {why}); "
            "stratification needs class labels — use KFold (or no stratify) for a regression target"
        )
    if y.ndim != 1:
        if not multilabel:
            raise ValueError(f"{who}: Supported target types are: ('binary', 'multiclass'). Got a {y.ndim}-D y of shape "
                             f"{y.shape} instead; pass one class label per sample")  # fmt: skip
        y = np.array([" ".join(row.astype(str)) for row in y.reshape(n, -1)])  # scikit-learn's classes of rows
    return y


class _Splitter:
    """What every splitter shares: ``split(X, y=None, groups=None)`` yields ``(train, test)`` row
    indices, ``get_n_splits`` counts them, and the repr lists the parameters as scikit-learn's."""

    n_splits: int

    def split(self, X, y=None, groups=None) -> Iterator[tuple[np.ndarray, np.ndarray]]:  # pragma: no cover - abstract
        raise NotImplementedError

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        return self.n_splits

    _uses_groups = False  # GroupKFold's split reads them; the others ignore them, and say so

    def _ignoring(self, groups) -> None:
        """scikit-learn's warning when ``groups`` go to a splitter that does not read them."""
        if groups is not None and not self._uses_groups:
            warnings.warn(f"The groups parameter is ignored by {type(self).__name__}", UserWarning, stacklevel=3)

    def __repr__(self) -> str:
        params = inspect.signature(type(self).__init__).parameters.values()
        names = sorted(p.name for p in params if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))
        return f"{type(self).__name__}({', '.join(f'{k}={getattr(self, k)!r}' for k in names)})"


class KFold(_Splitter):
    """k folds of (almost) equal size; each is the test set once (lecture 001).  With
    ``shuffle`` the rows are permuted first, by scikit-learn's rule (an int ``random_state`` gives
    scikit-learn's folds); ``random_state`` without ``shuffle`` is refused, as scikit-learn does."""

    _parameter_constraints = {
        "n_splits": [_params.Interval(Integral, 2, None)],
        "shuffle": [BOOLEAN],
        "random_state": [RANDOM_STATE],
    }

    def __init__(self, n_splits: int = 5, shuffle: bool = False, random_state=None):
        validate_params(self._parameter_constraints, {"n_splits": n_splits, "shuffle": shuffle, "random_state": random_state},
                        type(self).__name__, signature_defaults(type(self).__init__))  # fmt: skip
        if not shuffle and random_state is not None:  # scikit-learn's rule: a seed that would do nothing is a mistake
            raise ValueError(f"{type(self).__name__}: setting random_state={random_state!r} has no effect since shuffle "
                             "is False; leave random_state to its default (None), or set shuffle=True")  # fmt: skip
        self.n_splits, self.shuffle, self.random_state = n_splits, shuffle, random_state

    def _folds(self, n: int, y=None, groups=None) -> list[np.ndarray]:
        idx = np.arange(n)
        if self.shuffle:
            check_random_state(self.random_state).shuffle(idx)
        return np.array_split(idx, self.n_splits)

    def split(self, X, y=None, groups=None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        self._ignoring(groups)
        n = len(X)
        if n < self.n_splits:
            raise ValueError(f"{type(self).__name__}: cannot split {n} samples into {self.n_splits} folds")
        for test in self._folds(n, y, groups):
            yield np.setdiff1d(np.arange(n), test), np.sort(test)


class GroupKFold(KFold):
    """k folds in which no group is split between training and test rows (scikit-learn's
    ``GroupKFold``): the groups, largest first, each go to the fold with the fewest rows so far
    (ties: the first fold); with ``shuffle`` the groups are permuted and dealt in k nearly equal
    runs instead.  ``split`` needs ``groups``, one group label per row."""

    _uses_groups = True

    def _folds(self, n: int, y=None, groups=None) -> list[np.ndarray]:
        if groups is None:
            raise ValueError("GroupKFold: The 'groups' parameter should not be None; pass split(X, y, groups) with one "
                             "group label per row")  # fmt: skip
        groups = np.asarray(groups).reshape(-1)
        if len(groups) != n:
            raise ValueError(f"GroupKFold: groups has {len(groups)} labels for {n} rows; pass one group label per row")
        unique, group_of = np.unique(groups, return_inverse=True)
        if self.n_splits > len(unique):
            raise ValueError(f"GroupKFold: Cannot have number of splits n_splits={self.n_splits} greater than the number "
                             f"of groups: {len(unique)}; use n_splits <= {len(unique)}")  # fmt: skip
        if self.shuffle:
            dealt = np.array_split(check_random_state(self.random_state).permutation(unique), self.n_splits)
            return [np.flatnonzero(np.isin(groups, ids)) for ids in dealt]
        sizes = np.bincount(group_of.reshape(-1))
        order = np.argsort(sizes, kind="stable")[::-1]
        rows_in_fold, fold_of_group = np.zeros(self.n_splits), np.zeros(len(unique), dtype=np.int64)
        for g in order:
            lightest = int(np.argmin(rows_in_fold))
            rows_in_fold[lightest] += sizes[g]
            fold_of_group[g] = lightest
        fold = fold_of_group[group_of.reshape(-1)]
        return [np.flatnonzero(fold == f) for f in range(self.n_splits)]


class LeaveOneOut(_Splitter):
    """n splits of n rows: each row is the test set once (k-fold with k = n)."""

    def split(self, X, y=None, groups=None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        self._ignoring(groups)
        n = len(X)
        if n < 2:
            raise ValueError(f"LeaveOneOut: Cannot perform LeaveOneOut with n_samples={n}; it needs at least 2 rows")
        for i in range(n):
            yield np.r_[0:i, i + 1 : n], np.array([i])

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        if X is None:
            raise ValueError("LeaveOneOut.get_n_splits: The 'X' parameter should not be None (n splits = n rows)")
        return len(X)


class ShuffleSplit(_Splitter):
    """``n_splits`` independent random train/test partitions (``test_size`` 0.1 of the rows by default),
    the rows scikit-learn's ``ShuffleSplit`` draws for the same int ``random_state``."""

    _parameter_constraints = {"n_splits": [_params.Interval(Integral, 1, None)], "random_state": [RANDOM_STATE]}

    def __init__(self, n_splits: int = 10, *, test_size=None, train_size=None, random_state=None):
        validate_params(self._parameter_constraints, {"n_splits": n_splits, "random_state": random_state},
                        type(self).__name__, signature_defaults(type(self).__init__))  # fmt: skip
        self.n_splits, self.test_size, self.train_size, self.random_state = n_splits, test_size, train_size, random_state

    def split(self, X, y=None, groups=None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        self._ignoring(groups)
        n, who = len(X), type(self).__name__
        n_train, n_test = _train_test_sizes(n, self.test_size, self.train_size, who, default_test_size=0.1)
        rng = check_random_state(self.random_state)
        strat = self._strata(y, n)
        for _ in range(self.n_splits):
            if strat is not None:
                yield _stratified_rows(strat, n_train, n_test, True, rng, who)
                continue
            order = rng.permutation(n)
            yield order[n_test : n_test + n_train], order[:n_test]

    def _strata(self, y, n: int) -> np.ndarray | None:
        return None


class StratifiedShuffleSplit(ShuffleSplit):
    """:class:`ShuffleSplit` keeping each class's share in both parts (scikit-learn's
    ``StratifiedShuffleSplit`` draws for the same int ``random_state``); a 2-D ``y`` stratifies
    by its distinct rows."""

    def _strata(self, y, n: int) -> np.ndarray:
        if y is None:
            raise ValueError("StratifiedShuffleSplit.split needs y (the class labels to stratify by)")
        return _class_labels(y, n, "StratifiedShuffleSplit", multilabel=True)


class StratifiedKFold(KFold):
    """k folds that keep each class's proportion, allocated as scikit-learn does.

    Classes are numbered by first appearance; the labels sorted by that number are dealt round
    robin to the folds (``sorted[i::k]`` goes to fold ``i``), which fixes how many rows of each
    class each fold tests.  Each class's rows then fill its folds in order (fold 0's share first)
    — or in a shuffled order with ``shuffle``, one shuffle per class as scikit-learn."""

    def _folds(self, n: int, y=None, groups=None) -> list[np.ndarray]:
        if y is None:
            raise ValueError("StratifiedKFold.split needs y")
        y = _class_labels(y, n, "StratifiedKFold")
        _, first, inverse = np.unique(y, return_index=True, return_inverse=True)
        encoded = np.argsort(np.argsort(first))[inverse.reshape(-1)]  # class number = order of first appearance
        counts = np.bincount(encoded)
        if self.n_splits > counts.max():
            raise ValueError(f"StratifiedKFold: n_splits={self.n_splits} cannot be greater than the number of members in "
                             f"each class (the largest has {counts.max()}); use n_splits <= {counts.max()} or KFold")  # fmt: skip
        dealt = np.sort(encoded)
        allocation = np.array([np.bincount(dealt[i :: self.n_splits], minlength=len(counts)) for i in range(self.n_splits)])
        rng = check_random_state(self.random_state) if self.shuffle else None
        fold_of = np.empty(n, dtype=np.int64)
        for k in range(len(counts)):
            folds_for_class = np.repeat(np.arange(self.n_splits), allocation[:, k])
            if rng is not None:
                rng.shuffle(folds_for_class)
            fold_of[encoded == k] = folds_for_class
        return [np.flatnonzero(fold_of == i) for i in range(self.n_splits)]


def _scorer(scoring) -> Callable:
    """``scorer(estimator, X, y)``: ``estimator.score`` for ``None``, a callable as given, or a
    scikit-learn scoring name from :data:`.metrics.SCORERS`."""
    if scoring is None:
        return _passthrough_score
    if callable(scoring):
        return scoring
    if scoring not in SCORERS:
        raise ValueError(f"unknown scoring {scoring!r}; choose from {sorted(SCORERS)} or pass a callable")
    return SCORERS[scoring]


def _passthrough_score(est, X, y, **kwargs) -> float:
    """The estimator's own ``score`` (``scoring=None``)."""
    return est.score(X, y, **kwargs)


_passthrough_score._passthrough = True


def _scorers(scoring, who: str = "GridSearchCV") -> tuple[dict[str, Callable], bool]:
    """scikit-learn's forms of ``scoring`` as ``({name: scorer}, multimetric)``: ``None``, a name or
    a callable is one metric, named ``"score"``; a list, tuple or set of names, or a dict
    ``name → name or callable``, is one metric per name (multi-metric)."""
    if scoring is None or isinstance(scoring, str) or callable(scoring):
        return {"score": _scorer(scoring)}, False
    fix = "pass a list of scoring names such as ['accuracy', 'f1'], or a dict {name: scoring name or callable}"
    if isinstance(scoring, dict):
        if not scoring or not all(isinstance(k, str) for k in scoring):
            raise ValueError(f"{who}: scoring={scoring!r} needs at least one metric, each named by a str; {fix}")
        odd = [k for k, v in scoring.items() if not (isinstance(v, str) or callable(v))]
        if odd:
            raise ValueError(f"{who}: scoring[{odd[0]!r}] must be a scoring name or a callable (estimator, X, y) -> "
                             f"float, got {scoring[odd[0]]!r}")  # fmt: skip
        return {name: _scorer(s) for name, s in scoring.items()}, True
    names = list(scoring)
    if not names or not all(isinstance(n, str) for n in names):
        raise ValueError(f"{who}: scoring={scoring!r} must hold at least one scoring name, all str (a callable goes "
                         f"in a dict under a name of its own); {fix}")  # fmt: skip
    if len(set(names)) != len(names):
        raise ValueError(f"{who}: scoring={scoring!r} names a metric twice; list each once")
    return {name: _scorer(name) for name in names}, True


class FitFailedWarning(RuntimeWarning):
    """A fit in cross-validation raised: its split scores ``error_score`` (scikit-learn's warning)."""


def _fit_failed_warning() -> type[FitFailedWarning]:
    return sklearn_twin(FitFailedWarning)


ERROR_SCORE = [Options({"raise"}), REAL_NUMBER]
"""scikit-learn's ``error_score``: ``"raise"`` re-raises a failed fit, a number (NaN by default) is its score."""


def _score_each(est, X, y, scorers: dict[str, Callable], error_score, errors: list[str],
                score_weight: np.ndarray | None = None, weighted: frozenset = frozenset()) -> dict[str, float]:  # fmt: skip
    """``{name: scorer(est, X, y)}`` (``sample_weight=score_weight`` for the scorers named in
    ``weighted``); a scorer that raises scores ``error_score`` (its traceback goes to ``errors``)
    unless ``error_score="raise"``."""
    scores = {}
    for name, f in scorers.items():
        try:
            value = f(est, X, y, sample_weight=score_weight) if name in weighted else f(est, X, y)
        except Exception:
            if error_score == "raise":
                raise
            errors.append(traceback.format_exc())
            value = error_score
        scores[name] = float(value)
    return scores


def _accepts_sample_weight(scorer: Callable, estimator) -> bool:
    """Whether ``scorer`` takes ``sample_weight`` (scikit-learn's test): a scikit-learn scorer says
    so itself, ``None``'s scorer when the estimator's ``score`` does, a callable by its signature."""
    if hasattr(scorer, "_accept_sample_weight"):
        return bool(scorer._accept_sample_weight())
    target = estimator.score if getattr(scorer, "_passthrough", False) else scorer
    try:
        return "sample_weight" in inspect.signature(target).parameters
    except (TypeError, ValueError):  # a builtin without a signature
        return False


def _weighted_scorers(scorers: dict[str, Callable], estimator, params: dict, who: str) -> frozenset:
    """The scorers that get ``fit``'s ``sample_weight`` too (scikit-learn's searches pass it on to
    each scorer that takes it and warn for each that does not)."""
    if params.get("sample_weight") is None:
        return frozenset()
    weighted = set()
    for name, scorer in scorers.items():
        if _accepts_sample_weight(scorer, estimator):
            weighted.add(name)
        else:
            warnings.warn(f"{who}: The scoring {name}={scorer} does not support sample_weight, which may lead to "
                          "statistically incorrect results when fitting with sample_weight.", UserWarning,
                          stacklevel=4)  # fmt: skip
    return frozenset(weighted)


def _rows_of(params: dict, n: int, rows: np.ndarray) -> dict:
    """Fit parameters for a fit on ``rows`` (scikit-learn's ``_check_method_params``): an array-like
    with one entry per sample (``sample_weight``) is indexed by ``rows``; anything else passes as is."""
    out = {}
    for key, value in params.items():
        if not np.isscalar(value) and hasattr(value, "__len__") and not isinstance(value, dict) and len(value) == n:
            value = np.asarray(value)[rows]
        out[key] = value
    return out


def _take(y: np.ndarray | None, rows: np.ndarray) -> np.ndarray | None:
    """``y[rows]``, or ``None`` for an unsupervised fit."""
    return None if y is None else y[rows]


def _fit_and_score(estimator, params: dict, X, y, train, test, scoring, return_train: bool = False,
                   error_score="raise", fit_params: dict | None = None, return_estimator: bool = False,
                   weighted: frozenset = frozenset()) -> dict:  # fmt: skip
    """Fit a clone with ``params`` on the ``train`` rows (``fit_params`` indexed by :func:`_rows_of`)
    and score it on ``test`` (and ``train``) by each scorer of ``scoring`` (those in ``weighted`` with
    ``fit_params["sample_weight"]`` of those rows): ``{"test": {name: score},
    "train": {...}, "fit_time", "score_time", "fit_error", "score_errors"}`` (and ``"estimator"``).
    A fit that raises (an ``Exception``) re-raises with ``error_score="raise"``; otherwise every
    score of the split is ``error_score`` and ``fit_error`` holds the traceback (``None`` after a
    good fit), reported by :func:`_report_failures` in the caller's process (a worker's warnings
    would be lost)."""
    scorers, _ = _scorers(scoring)
    est = clone(estimator).set_params(**params)
    out: dict = {"fit_error": None, "score_errors": []}
    if return_estimator:
        out["estimator"] = est
    start = time.perf_counter()
    try:
        est.fit(X[train], _take(y, train), **_rows_of(fit_params or {}, len(X), train))
    except Exception:
        if error_score == "raise":
            raise
        out["fit_error"] = traceback.format_exc()
        out["fit_time"], out["score_time"] = time.perf_counter() - start, 0.0
        for part in ("test", "train") if return_train else ("test",):
            out[part] = dict.fromkeys(scorers, float(error_score))
        return out
    fitted = time.perf_counter()
    w = np.asarray(fit_params["sample_weight"]) if weighted else None
    out["test"] = _score_each(est, X[test], _take(y, test), scorers, error_score, out["score_errors"], _take(w, test),
                              weighted)  # fmt: skip
    if return_train:
        out["train"] = _score_each(est, X[train], _take(y, train), scorers, error_score, out["score_errors"],
                                   _take(w, train), weighted)  # fmt: skip
    out["fit_time"], out["score_time"] = fitted - start, time.perf_counter() - fitted
    return out


def _report_failures(fits: list[dict], error_score, who: str) -> None:
    """scikit-learn's report of :func:`_fit_and_score`'s failures: every fit failed — a
    ``ValueError`` (no score to choose or average by); some — a :class:`FitFailedWarning`; a
    scorer that raised — a ``UserWarning``.  Identical tracebacks are counted, not repeated."""
    failed = [f["fit_error"] for f in fits if f["fit_error"] is not None]
    if failed:
        line = "-" * 80 + "\n"
        details = "\n".join(f"{line}{n} fits failed with the following error:\n{tb}" for tb, n in Counter(failed).items())
        if len(failed) == len(fits):
            raise ValueError(f"{who}: All the {len(fits)} fits failed.\nIt is very likely that your model is "
                             "misconfigured.\nYou can try to debug the error by setting error_score='raise'.\n\n"
                             f"Below are more details about the failures:\n{details}")  # fmt: skip
        warnings.warn(f"{who}: {len(failed)} fits failed out of a total of {len(fits)}.\nThe score on these "
                      f"train-test partitions for these parameters will be set to {error_score}.\nIf these failures "
                      "are not expected, you can try to debug them by setting error_score='raise'.\n\nBelow are more "
                      f"details about the failures:\n{details}", _fit_failed_warning(), stacklevel=3)  # fmt: skip
    for tb in (tb for f in fits for tb in f["score_errors"]):
        warnings.warn(f"{who}: Scoring failed. The score on this train-test partition for these parameters will be "
                      f"set to {error_score}. Details: \n{tb}", UserWarning, stacklevel=3)  # fmt: skip


def _checked_xy(X, y, who: str) -> tuple[np.ndarray, np.ndarray]:
    """``X`` and ``y`` as arrays with one row per sample each (else a fold would index past ``y``);
    ``y=None`` (an unsupervised estimator) stays ``None``."""
    X = np.asarray(X)
    if y is None:
        if X.ndim == 0:
            raise ValueError(f"{who}: X must hold one row per sample, got {X!r}")
        return X, None
    y = np.asarray(y)
    if X.ndim == 0 or y.ndim == 0 or len(X) != len(y):
        raise ValueError(
            f"{who}: X has shape {X.shape} but y has shape {y.shape}; they need the same number of samples (rows)"
        )
    return X, y


def _is_classifier(estimator) -> bool:
    """scikit-learn's ``is_classifier`` (:func:`.metrics._estimator_kind`)."""
    return _estimator_kind(estimator) == "classifier"


def _is_class_target(y: np.ndarray) -> bool:
    """scikit-learn's ``type_of_target(y) in ("binary", "multiclass")``: one label per row (a
    column vector counts), and either not floats or floats that are all whole numbers (:func:`_not_labels`)."""
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    return y.ndim == 1 and y.dtype.kind in "biuOUSf" and _not_labels(y) is None


def _index_pair(pair, n: int, who: str) -> tuple[np.ndarray, np.ndarray]:
    """One ``(train, test)`` pair from a user's iterable ``cv``, as integer row indices in ``[0, n)``."""
    try:
        train, test = pair
    except (TypeError, ValueError):
        raise ValueError(f"{who}: each split of an iterable cv must be a (train, test) pair of index arrays, "
                         f"got {pair!r}") from None  # fmt: skip
    out = []
    for part in (train, test):
        idx = np.asarray(part)
        if idx.dtype.kind == "b" and idx.shape == (n,):
            idx = np.flatnonzero(idx)
        if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu") or (idx.size and not -n <= idx.min() <= idx.max() < n):
            raise ValueError(f"{who}: a split of cv holds {part!r}, which is not a 1-D array of row indices in "
                             f"[0, {n}); pass (train, test) pairs of integer indices into X")  # fmt: skip
        out.append(idx.astype(np.int64))
    return out[0], out[1]


def _splits(estimator, X, y, cv, who: str, groups=None) -> list[tuple[np.ndarray, np.ndarray]]:
    """scikit-learn's ``check_cv``: ``None`` means 5 folds; a number of folds is stratified when the
    estimator is a classifier and ``y`` holds class labels (else plain k-fold); a splitter is
    asked for its splits (with ``groups`` when given, for :class:`GroupKFold`); any other iterable is
    taken as the ``(train, test)`` pairs themselves."""
    cv = 5 if cv is None else cv
    if isinstance(cv, Integral):  # an int, a NumPy integer (a bool is refused by KFold)
        stratified = y is not None and _is_classifier(estimator) and _is_class_target(y)
        cv = StratifiedKFold(cv) if stratified else KFold(cv)
    if isinstance(cv, str | bytes) or not (hasattr(cv, "split") or isinstance(cv, Iterable)):  # a str has split too
        raise ValueError(f"{who}: cv must be None, a number of folds, a splitter such as KFold(5), or an iterable of "
                         f"(train, test) index arrays, got {cv!r}")  # fmt: skip
    if hasattr(cv, "split"):
        return list(cv.split(X, y) if groups is None else cv.split(X, y, groups))
    splits = [_index_pair(pair, len(X), who) for pair in cv]
    if not splits:
        raise ValueError(f"{who}: the iterable cv gave no (train, test) split; pass at least one")
    return splits


def cross_val_score(estimator: BaseEstimator, X, y=None, cv=5, scoring=None, n_jobs: int | None = None,
                    error_score=np.nan, *, groups=None, params: dict | None = None) -> np.ndarray:  # fmt: skip
    """The score of a fresh clone on each test fold (the folds fitted in parallel with ``n_jobs``).
    ``cv`` as scikit-learn's: ``None`` (5 folds), a number of folds (stratified for a classifier),
    a splitter (``groups`` goes to its ``split``, e.g. :class:`GroupKFold`), or an iterable of
    ``(train, test)`` index pairs.  ``params`` go to each ``fit``, per-sample arrays such as
    ``sample_weight`` restricted to the fold's training rows.  ``error_score`` as scikit-learn's:
    a fold whose fit raises scores ``error_score`` (NaN by default) with a
    :class:`FitFailedWarning`, ``"raise"`` re-raises, and if every fold fails a ``ValueError`` says so."""
    if callable(scoring) or scoring is None or isinstance(scoring, str):
        _scorer(scoring)  # an unknown scoring fails here, before any fit
    else:
        raise ValueError(f"cross_val_score: scoring must be one metric (a name or a callable), got {scoring!r}; use "
                         "cross_validate for several")  # fmt: skip
    results = _cross_validate(estimator, X, y, groups, scoring, cv, n_jobs, params, False, False, False, error_score,
                              "cross_val_score")  # fmt: skip
    return results["test_score"]


def cross_validate(estimator: BaseEstimator, X, y=None, *, groups=None, scoring=None, cv=5, n_jobs: int | None = None,
                   params: dict | None = None, return_train_score: bool = False, return_estimator: bool = False,
                   return_indices: bool = False, error_score=np.nan) -> dict:  # fmt: skip
    """scikit-learn's ``cross_validate``: fit a clone on each training fold and score it on the test
    fold, by one metric or several (``scoring`` as :class:`GridSearchCV`'s).  Returns a dict of
    arrays with one entry per split: ``fit_time``, ``score_time``, ``test_score`` (several metrics:
    ``test_<name>`` each), with ``return_train_score`` ``train_score`` / ``train_<name>``, with
    ``return_estimator`` ``estimator`` (the fitted clones) and with ``return_indices`` ``indices``
    (``{"train": [...], "test": [...]}``).  ``groups``, ``params``, ``n_jobs`` and ``error_score`` as
    :func:`cross_val_score`."""
    return _cross_validate(estimator, X, y, groups, scoring, cv, n_jobs, params, return_train_score, return_estimator,
                           return_indices, error_score, "cross_validate")  # fmt: skip


def _cross_validate(estimator, X, y, groups, scoring, cv, n_jobs, params, return_train_score: bool,
                    return_estimator: bool, return_indices: bool, error_score, who: str) -> dict:  # fmt: skip
    """:func:`cross_validate`, its errors naming ``who``."""
    validate_params({"error_score": ERROR_SCORE}, {"error_score": error_score}, who,
                    signature_defaults(cross_validate))  # n_jobs: parallel_map checks it  # fmt: skip
    X, y = _checked_xy(X, y, who)
    clone(estimator)  # not an estimator: refused here, before any fit
    scorers, multimetric = _scorers(scoring, who)
    splits = _splits(estimator, X, y, cv, who, groups)
    tasks = [(estimator, {}, X, y, tr, te, scoring, return_train_score, error_score, params, return_estimator)
             for tr, te in splits]  # fmt: skip
    fits = parallel_map(_fit_and_score, tasks, n_jobs, who)
    _report_failures(fits, error_score, who)
    out: dict = {key: np.array([f[key] for f in fits]) for key in ("fit_time", "score_time")}
    for part in ("test", "train") if return_train_score else ("test",):
        for name in scorers:
            out[f"{part}_{name}" if multimetric else f"{part}_score"] = np.array([f[part][name] for f in fits])
    if return_estimator:
        out["estimator"] = [f["estimator"] for f in fits]
    if return_indices:
        out["indices"] = {"train": [tr for tr, _ in splits], "test": [te for _, te in splits]}
    return out


def _rank(mean: np.ndarray) -> np.ndarray:
    """1 = best; tied candidates share the smaller rank; a NaN mean ranks last (scikit-learn's rule)."""
    ranked = np.where(np.isnan(mean), -np.inf, mean)
    return np.array([1 + np.sum(ranked > m) for m in ranked], dtype=np.int32)


def _cv_results(grid: list[dict], fits: list[dict], n_splits: int) -> dict:
    """scikit-learn's ``cv_results_`` layout, one entry per candidate in each array:
    ``mean_fit_time``, ``std_fit_time``, ``mean_score_time``, ``std_score_time``, ``param_<name>``,
    ``params``, then for each metric ``<m>`` (``score`` for a single one) ``split{k}_test_<m>``,
    ``mean_test_<m>``, ``std_test_<m>``, ``rank_test_<m>`` (:func:`_rank`), and with train scores
    ``split{k}_train_<m>``, ``mean_train_<m>``, ``std_train_<m>``.  ``fits`` holds
    :func:`_fit_and_score`'s results, candidate by candidate, each over the ``n_splits`` splits."""
    results: dict = {}
    for key in ("fit_time", "score_time"):
        t = np.array([f[key] for f in fits]).reshape(len(grid), n_splits)
        results[f"mean_{key}"], results[f"std_{key}"] = t.mean(1), t.std(1)
    results.update(_param_arrays(grid))
    results["params"] = grid
    for metric in fits[0]["test"]:
        for part in ("test", "train") if "train" in fits[0] else ("test",):
            scores = np.array([f[part][metric] for f in fits]).reshape(len(grid), n_splits)
            results.update({f"split{k}_{part}_{metric}": scores[:, k] for k in range(n_splits)})
            results[f"mean_{part}_{metric}"], results[f"std_{part}_{metric}"] = scores.mean(1), scores.std(1)
            if not np.all(np.isfinite(scores.mean(1))):  # scikit-learn's warning (a failed split's NaN, an inf score)
                warnings.warn(f"One or more of the {part} scores are non-finite: {scores.mean(1)}", UserWarning,
                              stacklevel=3)  # fmt: skip
            if part == "test":
                results[f"rank_test_{metric}"] = _rank(results[f"mean_test_{metric}"])
    return results


def _param_arrays(grid: list[dict]) -> dict[str, np.ma.MaskedArray]:
    """``param_<name>`` of ``cv_results_`` as scikit-learn 1.9 builds it: one masked array per name (in the
    order the names first appear), masked where a candidate lacks the name, of the values' own dtype
    when NumPy gives them a 1-D one that is not a string (numbers stay numbers), else ``object``."""
    values_of: dict[str, dict[int, object]] = {}
    for i, params in enumerate(grid):
        for name, value in params.items():
            values_of.setdefault(f"param_{name}", {})[i] = value
    out = {}
    for key, values in values_of.items():
        try:
            found = np.array(list(values.values()))
        except ValueError:  # sequences of different lengths
            dtype = np.dtype(object)
        else:
            dtype = found.dtype if found.dtype.kind != "U" and found.ndim == 1 else np.dtype(object)
        column = np.ma.MaskedArray(np.empty(len(grid), dtype=dtype), mask=True)
        for i, value in values.items():
            column[i] = value
        out[key] = column
    return out


def _refitted_has(name: str):
    """``available_if`` test for a method of the refitted best estimator: there is one
    (``refit`` is not ``False``), and the estimator has ``name``."""

    def missing(self) -> str | None:
        if not self.refit:
            return _no_refit(self, name)
        est = getattr(self, "best_estimator_", self.estimator)
        if hasattr(est, name):
            return None
        return f"This {type(self).__name__} has no attribute {name!r}: its estimator {type(est).__name__} does not have {name}"

    return missing


def _no_refit(search, name: str) -> str:
    """scikit-learn's message for what needs the refitted estimator when ``refit=False``."""
    return (f"This {type(search).__name__} instance was initialized with `refit=False`. {name} is available only "
            "after refitting on the best parameters. You can refit an estimator manually using the `best_params_` "
            "attribute, e.g. clone(search.estimator).set_params(**search.best_params_).fit(X, y)")  # fmt: skip


class _Splits(_params.Constraint):
    """A splitter (an object with ``split``) or an iterable of ``(train, test)`` pairs (not a string)."""

    def is_satisfied_by(self, value) -> bool:
        has_split = HasMethods("split").is_satisfied_by(value)
        return has_split or (isinstance(value, Iterable) and not isinstance(value, str | bytes))

    def describe(self) -> str:
        return "an object implementing 'split' or an iterable of (train, test) index arrays"


_SPLITS = _Splits()


_SEVERAL_METRICS = [InstanceOf(list), InstanceOf(tuple), InstanceOf(set), InstanceOf(dict)]
"""``scoring`` naming several metrics (:func:`_scorers` checks what is inside)."""

_SEARCH_RESULTS = ("best_index_", "best_params_", "best_score_", "best_estimator_", "refit_time_")
"""What one ``GridSearchCV.fit`` may leave or not, depending on ``refit``: cleared at each fit."""


class _BaseSearchCV(BaseEstimator):
    """What :class:`GridSearchCV` and :class:`RandomizedSearchCV` share: every (candidate, split)
    fit in parallel with ``n_jobs``, scikit-learn's ``cv_results_``, ``best_*`` attributes and refit.

    ``scoring``: ``None`` (the estimator's ``score``), a scoring name, a callable
    ``(estimator, X, y) -> float``, or several metrics — a list/tuple/set of names or a dict
    ``name → name or callable`` — each with its own ``mean_test_<name>``, ``rank_test_<name>``, ...
    in ``cv_results_`` (one metric is named ``score``).

    ``refit``: ``True`` refits the best candidate on all the data as ``best_estimator_``
    (``refit_time_`` seconds), which ``predict``, ``predict_proba``, ``decision_function`` and
    ``score`` use; ``False`` refits nothing (those methods raise ``AttributeError``); with several
    metrics it names the metric that chooses the best; a callable ``refit(cv_results_) -> int``
    chooses ``best_index_`` itself (and leaves no ``best_score_``).  ``best_index_``,
    ``best_params_`` and ``best_score_`` (the best mean test score) are set unless there are
    several metrics and ``refit=False``.  ``return_train_score`` adds the training scores.

    ``error_score`` as scikit-learn's: a (candidate, split) whose fit raises scores ``error_score``
    (NaN by default: the candidate's mean is NaN and it ranks last) with one
    :class:`FitFailedWarning` for all such fits; ``"raise"`` re-raises the first.  When every fit
    fails there is nothing to choose: ``fit`` raises a ``ValueError`` with the tracebacks and
    refits nothing.  A scorer that raises is treated the same way (a ``UserWarning``).
    """

    _parameter_constraints = {
        "estimator": [HasMethods("fit", "get_params", "set_params")],
        "cv": [NONE, _params.Interval(Integral, 2, None), _SPLITS],
        "scoring": [NONE, Options(set(SCORERS)), CALLABLE, *_SEVERAL_METRICS],
        "n_jobs": N_JOBS,
        "refit": [BOOLEAN, InstanceOf(str), CALLABLE],
        "return_train_score": [BOOLEAN],
        "error_score": ERROR_SCORE,
    }

    def _refit_metric(self, scorers: dict, multimetric: bool) -> str:
        """The metric ``best_index_`` is chosen by: ``"score"`` for one metric; with several, the one
        ``refit`` names (a callable or ``False`` choose none), else scikit-learn's ``ValueError``."""
        if not multimetric:
            return "score"
        if self.refit is False or callable(self.refit):
            return ""
        if isinstance(self.refit, str) and self.refit in scorers:
            return self.refit
        raise ValueError(
            f"{type(self).__name__}: for multi-metric scoring, the parameter refit must be set to a scorer key or a callable to "
            f"refit an estimator with the best parameter setting on the whole data and make the best_* attributes "
            f"available for that metric. If this is not needed, refit should be set to False explicitly. {self.refit!r} "
            f"was passed; choose one of {list(scorers)}"
        )

    def _best_index(self, metric: str) -> int:
        """``refit(cv_results_)`` when ``refit`` is a callable, else the candidate ranked first by ``metric``."""
        if not callable(self.refit):
            return int(np.argmin(self.cv_results_[f"rank_test_{metric}"]))
        best = self.refit(self.cv_results_)
        if isinstance(best, bool) or not isinstance(best, Integral):
            raise TypeError(f"{type(self).__name__}: refit(cv_results_) must return the index of the chosen candidate as an "
                            f"int, got {best!r}")  # fmt: skip
        if not 0 <= best < len(self.cv_results_["params"]):
            raise IndexError(f"{type(self).__name__}: refit(cv_results_) returned {best}, out of range for the "
                             f"{len(self.cv_results_['params'])} candidates; return an index in [0, "
                             f"{len(self.cv_results_['params'])})")  # fmt: skip
        return int(best)

    def _candidate_list(self) -> list[dict]:  # pragma: no cover - abstract
        raise NotImplementedError

    def fit(self, X, y=None, *, groups=None, **params):
        """Score every candidate by cross-validation (``groups`` to the splitter, ``params`` such as
        ``sample_weight`` to each ``fit``, per-sample arrays restricted to its training rows), then
        (``refit``) refit the best on all of X with all of ``params``."""
        who = type(self).__name__
        X, y = _checked_xy(X, y, f"{who}.fit")
        grid = self._candidate_list()
        scorers, multimetric = _scorers(self.scoring, who)
        metric = self._refit_metric(scorers, multimetric)  # a refit naming no metric fails here, before any fit
        for candidate in grid:  # an unknown parameter name fails here, before any fit
            clone(self.estimator).set_params(**candidate)
        splits = _splits(self.estimator, X, y, self.cv, who, groups)
        weighted = _weighted_scorers(scorers, self.estimator, params, who)
        tasks = [(self.estimator, candidate, X, y, tr, te, self.scoring, self.return_train_score, self.error_score, params,
                  False, weighted) for candidate in grid for tr, te in splits]  # fmt: skip
        fits = parallel_map(_fit_and_score, tasks, self.n_jobs, who)
        _report_failures(fits, self.error_score, who)  # every fit failed: raises, before anything is set
        for name in _SEARCH_RESULTS:  # nothing left from an earlier fit with another refit
            vars(self).pop(name, None)
        self.cv_results_ = _cv_results(grid, fits, len(splits))
        self.n_splits_, self.multimetric_ = len(splits), multimetric
        self.scorer_ = scorers if multimetric else scorers["score"]
        if self.refit or not multimetric:
            self.best_index_ = self._best_index(metric)
            self.best_params_ = grid[self.best_index_]
            if not callable(self.refit):
                self.best_score_ = float(self.cv_results_[f"mean_test_{metric}"][self.best_index_])
        if self.refit:
            start = time.perf_counter()
            self.best_estimator_ = clone(self.estimator).set_params(**self.best_params_).fit(X, y, **params)
            self.refit_time_ = time.perf_counter() - start
        return self

    def _best(self, name: str):
        """The refitted best estimator, for ``name``."""
        if not self.refit:
            raise AttributeError(_no_refit(self, name))
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_

    @available_if(_refitted_has("predict"))
    def predict(self, X):
        return self._best("predict").predict(X)

    @available_if(_refitted_has("predict_proba"))
    def predict_proba(self, X):
        return self._best("predict_proba").predict_proba(X)

    @available_if(_refitted_has("predict_log_proba"))
    def predict_log_proba(self, X):
        return self._best("predict_log_proba").predict_log_proba(X)

    @available_if(_refitted_has("decision_function"))
    def decision_function(self, X):
        return self._best("decision_function").decision_function(X)

    @property
    def classes_(self) -> np.ndarray:
        """The refitted best classifier's ``classes_``."""
        return self._refitted_attribute("classes_")

    @property
    def n_features_in_(self) -> int:
        """The number of features the refitted best estimator was fitted on."""
        return self._refitted_attribute("n_features_in_")

    def _refitted_attribute(self, name: str):
        if not hasattr(self, "best_estimator_"):
            raise AttributeError(_no_refit(self, name) if not self.refit else
                                 f"This {type(self).__name__} has no {name} before fit")  # fmt: skip
        return getattr(self.best_estimator_, name)

    def score(self, X, y):
        """The best estimator's score on ``(X, y)`` by ``scoring`` (its own ``score`` when ``None``;
        with several metrics, by the one ``refit`` names)."""
        est = self._best("score")
        scorers, multimetric = _scorers(self.scoring)
        if multimetric and not isinstance(self.refit, str):
            raise ValueError(f"{type(self).__name__}.score: with several metrics, score uses the one refit names; refit="
                             f"{self.refit!r} names none, so call a scorer of scorer_ yourself")  # fmt: skip
        return float(scorers[self.refit if multimetric else "score"](est, X, y))


class GridSearchCV(_BaseSearchCV):
    """Cross-validated search over every combination in ``param_grid`` (a dict ``name → list of
    values``, or a list of such dicts searched in turn), with scikit-learn's attributes
    (``scoring``, ``refit``, ``error_score``, ... as :class:`_BaseSearchCV`)."""

    _parameter_constraints = {**_BaseSearchCV._parameter_constraints, "param_grid": [InstanceOf(dict), InstanceOf(list)]}

    def __init__(self, estimator, param_grid: dict | list[dict], cv=5, scoring=None, n_jobs: int | None = None,
                 refit: bool | str | Callable = True, return_train_score: bool = False, error_score=np.nan):  # fmt: skip
        self.estimator, self.param_grid, self.cv, self.scoring, self.n_jobs = estimator, param_grid, cv, scoring, n_jobs
        self.refit, self.return_train_score, self.error_score = refit, return_train_score, error_score

    def _candidate_list(self) -> list[dict]:
        return list(ParameterGrid._for(self.param_grid, type(self).__name__))


class RandomizedSearchCV(_BaseSearchCV):
    """Cross-validated search over ``n_iter`` candidates drawn from ``param_distributions`` (a dict
    ``name → list of values or a distribution with rvs(random_state=)``, e.g. scipy.stats', or a
    list of such dicts), drawn as scikit-learn's ``ParameterSampler`` draws them for the same int
    ``random_state`` (:func:`sample_parameters`); everything else as :class:`GridSearchCV`."""

    _parameter_constraints = {**_BaseSearchCV._parameter_constraints,
                              "param_distributions": [InstanceOf(dict), InstanceOf(list)],
                              "n_iter": [_params.Interval(Integral, 1, None)], "random_state": [RANDOM_STATE]}  # fmt: skip

    def __init__(self, estimator, param_distributions: dict | list[dict], n_iter: int = 10, cv=5, scoring=None,
                 n_jobs: int | None = None, refit: bool | str | Callable = True, random_state=None,
                 return_train_score: bool = False, error_score=np.nan):  # fmt: skip
        self.estimator, self.param_distributions, self.n_iter, self.cv = estimator, param_distributions, n_iter, cv
        self.scoring, self.n_jobs, self.refit, self.random_state = scoring, n_jobs, refit, random_state
        self.return_train_score, self.error_score = return_train_score, error_score

    def _candidate_list(self) -> list[dict]:
        return list(ParameterSampler._for(self.param_distributions, self.n_iter, self.random_state, type(self).__name__))


def _sample_without_replacement(n_population: int, n: int, rng) -> np.ndarray:
    """scikit-learn's ``sample_without_replacement(method="auto")``: ``n`` distinct indices of
    ``range(n_population)`` — a permutation's head for a moderate share, else tracking selection
    (share < 0.2) or reservoir sampling, so a seed gives its indices."""
    share = n / n_population if n_population else 1.0
    if 0.01 < share < 0.99:
        return rng.permutation(n_population)[:n]
    if share < 0.2:
        chosen: list[int] = []
        seen: set[int] = set()
        for _ in range(n):
            j = rng.randint(n_population)
            while j in seen:
                j = rng.randint(n_population)
            seen.add(j)
            chosen.append(j)
        return np.array(chosen, dtype=np.int64)
    out = np.arange(n)
    for i in range(n, n_population):
        j = rng.randint(0, i + 1)
        if j < n:
            out[j] = i
    return out


def _grid_dicts(param_grid, name: str, who: str, distributions: bool = False) -> list[dict]:
    """``param_grid`` (a dict, or a non-empty list of dicts) as a list of dicts, each value checked:
    a non-empty list or 1-D array of candidates (or, with ``distributions``, an object with ``rvs``).
    A bad one raises :class:`InvalidParameterError` (scikit-learn raises ``TypeError`` or ``ValueError``
    by the fault; ours is both) naming ``who``, the parameter and the fix."""
    grids = param_grid if isinstance(param_grid, list | tuple) else [param_grid]
    if not grids or not all(isinstance(g, Mapping) for g in grids):
        raise InvalidParameterError(f"{who}: {name} must be a dict of candidate lists or a non-empty list of such "
                                    f"dicts, got {param_grid!r}")  # fmt: skip
    for g in grids:
        for k, values in g.items():
            if distributions and hasattr(values, "rvs"):
                continue
            if isinstance(values, np.ndarray) and values.ndim > 1:
                raise InvalidParameterError(f"{who}: Parameter array for {k!r} should be one-dimensional, got shape "
                                            f"{values.shape}; pass a list of candidates")  # fmt: skip
            if isinstance(values, str) or not isinstance(values, Sequence | np.ndarray) or len(values) == 0:
                kinds = "a non-empty list of values or a distribution with an rvs method (e.g. scipy.stats." \
                        "loguniform(1e-3, 1e3))" if distributions else "a non-empty list of candidate values"
                fix = ("give at least one candidate" if isinstance(values, Sequence | np.ndarray) and not isinstance(values, str)
                       else f"wrap a single value in a list, e.g. {{{k!r}: [{values!r}]}}")  # fmt: skip
                raise InvalidParameterError(f"{who}: {name}[{k!r}] must be {kinds}, got {values!r}; {fix}")
    return [dict(g) for g in grids]


class ParameterGrid:
    """Every combination of a grid, as scikit-learn's ``ParameterGrid``: ``param_grid`` maps each
    name to its candidates (``{"C": [0.1, 1], "fit_intercept": [True, False]}``: 4 settings), or is a
    list of such grids, taken in turn.  Iterating yields dicts, the names sorted and the last one
    varying fastest; ``len`` counts them and ``grid[i]`` is the i-th without listing the others."""

    def __init__(self, param_grid):
        self.param_grid = _grid_dicts(param_grid, "param_grid", "ParameterGrid")

    @classmethod
    def _for(cls, param_grid, who: str) -> ParameterGrid:
        """A grid whose errors name ``who`` (the search that was given it)."""
        grid = cls.__new__(cls)
        grid.param_grid = _grid_dicts(param_grid, "param_grid", who)
        return grid

    def __iter__(self) -> Iterator[dict]:
        for g in self.param_grid:
            keys = sorted(g)
            for values in itertools.product(*(g[k] for k in keys)):
                yield dict(zip(keys, values))

    def __len__(self) -> int:
        return sum(math.prod(len(v) for v in g.values()) for g in self.param_grid)

    def __getitem__(self, index: int) -> dict:
        """The ``index``-th setting (as ``list(self)[index]``; a negative index counts from the end)."""
        if isinstance(index, bool) or not isinstance(index, Integral):
            raise TypeError(f"ParameterGrid indices must be integers, got {index!r}")
        index = int(index) + len(self) if index < 0 else int(index)
        for g in self.param_grid:
            size = math.prod(len(v) for v in g.values())
            if index >= size:
                index -= size
                continue
            out = {}
            for key in sorted(g, reverse=True):  # the last name varies fastest
                index, offset = divmod(index, len(g[key]))
                out[key] = g[key][offset]
            return dict(sorted(out.items()))
        raise IndexError("ParameterGrid index out of range")

    def __repr__(self) -> str:
        return f"ParameterGrid({self.param_grid!r})"


class ParameterSampler:
    """``n_iter`` parameter settings drawn as scikit-learn's ``ParameterSampler`` draws them for the
    same int ``random_state``: when every value is a list, distinct grid points without replacement
    (all of them, with a ``UserWarning``, when the grid has fewer); otherwise, for each draw, a dict
    of the list picked at random, then for each name in sorted order ``dist.rvs(random_state=rng)``
    or a uniformly chosen list entry.  Iterating draws afresh from ``random_state`` (an int: the
    same settings each time); ``len`` is the number of settings."""

    def __init__(self, param_distributions, n_iter: int, *, random_state=None):
        self._setup(param_distributions, n_iter, random_state, "ParameterSampler")

    @classmethod
    def _for(cls, param_distributions, n_iter: int, random_state, who: str) -> ParameterSampler:
        sampler = cls.__new__(cls)
        sampler._setup(param_distributions, n_iter, random_state, who)
        return sampler

    def _setup(self, param_distributions, n_iter: int, random_state, who: str) -> None:
        if isinstance(n_iter, bool) or not isinstance(n_iter, Integral) or n_iter < 0:
            raise InvalidParameterError(f"{who}: n_iter must be a number of settings >= 0, got {n_iter!r}")
        self.param_distributions = _grid_dicts(param_distributions, "param_distributions", who, distributions=True)
        self.n_iter, self.random_state, self._who = n_iter, random_state, who

    def _all_lists(self) -> bool:
        return all(not hasattr(v, "rvs") for d in self.param_distributions for v in d.values())

    def __iter__(self) -> Iterator[dict]:
        rng = check_random_state(self.random_state)
        dists = self.param_distributions
        if self._all_lists():
            grid = ParameterGrid._for(dists, self._who)
            n_iter = self.n_iter
            if len(grid) < n_iter:
                warnings.warn(f"The total space of parameters {len(grid)} is smaller than n_iter={n_iter}. Running "
                              f"{len(grid)} iterations. For exhaustive searches, use GridSearchCV.", UserWarning,
                              stacklevel=3)  # fmt: skip
                n_iter = len(grid)
            for i in _sample_without_replacement(len(grid), n_iter, rng):
                yield grid[int(i)]
            return
        for _ in range(self.n_iter):
            d = dists[rng.choice(len(dists))]
            yield {k: v.rvs(random_state=rng) if hasattr(v, "rvs") else v[rng.randint(len(v))] for k, v in sorted(d.items())}

    def __len__(self) -> int:
        if not self._all_lists():
            return self.n_iter
        return min(self.n_iter, len(ParameterGrid._for(self.param_distributions, self._who)))

    def __repr__(self) -> str:
        return f"ParameterSampler({self.param_distributions!r}, n_iter={self.n_iter}, random_state={self.random_state!r})"


def sample_parameters(param_distributions: dict | list[dict], n_iter: int, random_state=None) -> list[dict]:
    """``list(ParameterSampler(param_distributions, n_iter, random_state=random_state))``, its errors
    naming ``RandomizedSearchCV`` (which draws its candidates with it)."""
    return list(ParameterSampler._for(param_distributions, n_iter, random_state, "RandomizedSearchCV"))


@dataclass
class Interval:
    """``mean`` with its ``level`` confidence interval [``low``, ``high``] and standard error."""

    mean: float
    low: float
    high: float
    se: float
    level: float = 0.95

    def __str__(self) -> str:
        return f"{self.mean:.4g} ± {(self.high - self.low) / 2:.2g} ({self.level:.0%} CI [{self.low:.4g}, {self.high:.4g}])"


BOOT_BLOCK = 1000  # bootstrap resamples per task: each block has its own seed, so n_jobs never changes the result


def _bootstrap_means(x: np.ndarray, n: int, seed: np.random.SeedSequence) -> np.ndarray:
    """Means of ``n`` resamples (with replacement) of ``x``."""
    rng = np.random.default_rng(seed)
    return x[rng.integers(0, len(x), (n, len(x)))].mean(1)


def confidence_interval(scores, level: float = 0.95, method: str = "normal", n_boot: int = 10_000, random_state=0,
                        n_jobs: int | None = None) -> Interval:  # fmt: skip
    """``μ̂ ± 1.96·SE`` with ``SE = s/√n`` (lecture 001), or a percentile bootstrap interval
    (``n_boot`` resamples in blocks of :data:`BOOT_BLOCK`, each block seeded by
    ``SeedSequence(random_state).spawn``, the blocks computed in parallel with ``n_jobs``)."""
    if not _params.Interval(Real, 0, 1, closed="neither").is_satisfied_by(level):
        raise ValueError(f"confidence_interval: level must be a probability in (0, 1), e.g. level=0.95, got {level!r}")
    if not _params.Interval(Integral, 1, None).is_satisfied_by(n_boot):
        raise ValueError(f"confidence_interval: n_boot must be a positive number of resamples, e.g. 10000, got {n_boot!r}")
    x = np.asarray(scores, dtype=np.float64).reshape(-1)
    if len(x) < 2:
        raise ValueError("confidence_interval: needs at least 2 scores")
    mean = float(x.mean())
    se = float(x.std(ddof=1) / math.sqrt(len(x)))
    if method == "normal":
        z = _normal_quantile(0.5 + level / 2)
        return Interval(mean, mean - z * se, mean + z * se, se, level)
    if method == "bootstrap":
        if isinstance(random_state, np.random.Generator):
            random_state = int(random_state.integers(2**63))
        sizes = [min(BOOT_BLOCK, n_boot - s) for s in range(0, n_boot, BOOT_BLOCK)]
        seeds = np.random.SeedSequence(random_state).spawn(len(sizes))
        parts = parallel_map(_bootstrap_means, [(x, n, s) for n, s in zip(sizes, seeds)], n_jobs, "confidence_interval")
        lo, hi = np.quantile(np.concatenate(parts), [(1 - level) / 2, (1 + level) / 2])
        return Interval(mean, float(lo), float(hi), se, level)
    raise ValueError(f"confidence_interval: method must be 'normal' or 'bootstrap', got {method!r}")


def _normal_quantile(p: float) -> float:
    """Φ⁻¹(p) by bisection on erf (1.959964 for p = 0.975)."""
    lo, hi = -10.0, 10.0
    for _ in range(100):
        mid = (lo + hi) / 2
        if 0.5 * (1 + math.erf(mid / math.sqrt(2))) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


@dataclass
class Comparison:
    a: Interval
    b: Interval
    verdict: str  # "A is better", "B is better" or "no significant difference"

    def __str__(self) -> str:
        return f"A: {self.a}\nB: {self.b}\n{self.verdict}"


def compare(a_errors, b_errors, level: float = 0.95, method: str = "normal", higher_is_better: bool = False) -> Comparison:
    """The lectures' rule: A is better than B when the upper end of A's error interval lies
    below the lower end of B's (and vice versa); otherwise the difference is not significant.
    Pass ``higher_is_better=True`` for scores such as accuracy.  ``a_errors`` and ``b_errors``
    are the two models' scores on the same folds, so they have the same length."""
    na, nb = np.size(a_errors), np.size(b_errors)
    if na != nb:
        raise ValueError(
            f"compare: a_errors has {na} scores but b_errors has {nb}; pass both models' scores on the same folds "
            "(e.g. cross_val_score with the same cv for both), one score per fold each"
        )
    ia, ib = confidence_interval(a_errors, level, method), confidence_interval(b_errors, level, method)
    if higher_is_better:
        a_wins, b_wins = ia.low > ib.high, ib.low > ia.high
    else:
        a_wins, b_wins = ia.high < ib.low, ib.high < ia.low
    verdict = "A is better" if a_wins else "B is better" if b_wins else "no significant difference"
    return Comparison(ia, ib, verdict)


@dataclass
class BiasVariance:
    mse: float
    bias2: float
    variance: float
    noise: float


def bias_variance_decomposition(
    make_estimator: Callable[[], BaseEstimator],
    sample: Callable[[np.random.Generator], tuple[np.ndarray, np.ndarray]],
    true_fn: Callable[[np.ndarray], np.ndarray],
    X_test: np.ndarray,
    noise_var: float = 0.0,
    n_rounds: int = 200,
    random_state=0,
    n_jobs: int | None = None,
) -> BiasVariance:
    """Fit ``n_rounds`` models on fresh training sets from ``sample(rng)`` and decompose their
    expected squared error at ``X_test``: ``E(ŷ − y)² = (E ŷ − f)² + Var ŷ + σ²`` (lecture 001).
    The training sets are drawn here, in order; the fits run in parallel with ``n_jobs``."""
    rng = np.random.default_rng(random_state)
    sets = [sample(rng) for _ in range(n_rounds)]
    tasks = [(make_estimator, s, X_test) for s in sets]
    preds = np.array(parallel_map(_fit_predict, tasks, n_jobs, "bias_variance_decomposition"))
    f = np.asarray(true_fn(X_test))
    mean_pred = preds.mean(0)
    bias2 = float(np.mean((mean_pred - f) ** 2))
    variance = float(np.mean(preds.var(0)))
    return BiasVariance(bias2 + variance + noise_var, bias2, variance, noise_var)


def _fit_predict(make_estimator: Callable[[], BaseEstimator], train: tuple, X_test: np.ndarray) -> np.ndarray:
    return np.asarray(make_estimator().fit(*train).predict(X_test))
