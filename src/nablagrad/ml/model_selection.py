"""Model selection (lectures 001, 004): splits, k-fold cross-validation, grid search, 95%
confidence intervals and the lectures' rule for comparing two models, and the bias–variance
decomposition ``MSE = bias² + variance (+ noise)``."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from .base import BaseEstimator
from .metrics import SCORERS
from .multiclass import clone


def train_test_split(*arrays, test_size: float = 0.25, shuffle: bool = True, stratify=None, random_state=None):
    """Split arrays into train and test parts: ``X_tr, X_te, y_tr, y_te = train_test_split(X, y)``."""
    n = len(arrays[0])
    if any(len(a) != n for a in arrays):
        raise ValueError("train_test_split: all arrays must have the same number of rows")
    n_test = int(math.ceil(test_size * n)) if isinstance(test_size, float) else int(test_size)
    if not 0 < n_test < n:
        raise ValueError(f"train_test_split: test_size={test_size} leaves no training or no test data for n={n}")
    rng = np.random.default_rng(random_state)
    if stratify is not None:
        strat = np.asarray(stratify)
        test = []
        for c in np.unique(strat):
            idx = np.flatnonzero(strat == c)
            idx = rng.permutation(idx) if shuffle else idx
            test.extend(idx[: int(round(len(idx) * n_test / n))].tolist())
        test = np.array(sorted(test))
        train = np.setdiff1d(np.arange(n), test)
    else:
        order = rng.permutation(n) if shuffle else np.arange(n)
        test, train = order[:n_test], order[n_test:]
    out = []
    for a in arrays:
        a = np.asarray(a)
        out.extend([a[train], a[test]])
    return out


class KFold:
    """k folds of (almost) equal size; each is the test set once (lecture 001)."""

    def __init__(self, n_splits: int = 5, shuffle: bool = False, random_state=None):
        if n_splits < 2:
            raise ValueError(f"KFold: n_splits must be >= 2, got {n_splits}")
        self.n_splits, self.shuffle, self.random_state = n_splits, shuffle, random_state

    def _folds(self, n: int, y=None) -> list[np.ndarray]:
        idx = np.random.default_rng(self.random_state).permutation(n) if self.shuffle else np.arange(n)
        return np.array_split(idx, self.n_splits)

    def split(self, X, y=None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        n = len(X)
        if n < self.n_splits:
            raise ValueError(f"{type(self).__name__}: cannot split {n} samples into {self.n_splits} folds")
        for test in self._folds(n, y):
            yield np.setdiff1d(np.arange(n), test), np.sort(test)

    def get_n_splits(self, X=None, y=None) -> int:
        return self.n_splits


class StratifiedKFold(KFold):
    """k folds that keep each class's proportion."""

    def _folds(self, n: int, y=None) -> list[np.ndarray]:
        if y is None:
            raise ValueError("StratifiedKFold.split needs y")
        y = np.asarray(y)
        rng = np.random.default_rng(self.random_state)
        folds: list[list[int]] = [[] for _ in range(self.n_splits)]
        offset = 0
        for c in np.unique(y):
            idx = np.flatnonzero(y == c)
            if self.shuffle:
                idx = rng.permutation(idx)
            for k, part in enumerate(np.array_split(idx, self.n_splits)):
                folds[(k + offset) % self.n_splits].extend(part.tolist())
            offset += len(idx) % self.n_splits
        return [np.array(sorted(f), dtype=np.int64) for f in folds]


def _scorer(estimator, scoring):
    if scoring is None:
        return lambda est, X, y: est.score(X, y)
    if callable(scoring):
        return scoring
    if scoring not in SCORERS:
        raise ValueError(f"unknown scoring {scoring!r}; choose from {sorted(SCORERS)} or pass a callable")
    fn = SCORERS[scoring][0]
    return lambda est, X, y: fn(y, est.predict(X))


def cross_val_score(estimator: BaseEstimator, X, y, cv=5, scoring=None) -> np.ndarray:
    """The score of a fresh clone on each test fold."""
    X, y = np.asarray(X), np.asarray(y)
    if isinstance(cv, int):
        is_clf = getattr(estimator, "_estimator_kind", None) == "classifier"
        cv = StratifiedKFold(cv) if is_clf else KFold(cv)
    score = _scorer(estimator, scoring)
    return np.array([score(clone(estimator).fit(X[tr], y[tr]), X[te], y[te]) for tr, te in cv.split(X, y)])


class GridSearchCV(BaseEstimator):
    """Cross-validated search over every combination in ``param_grid``; refits the best."""

    def __init__(self, estimator, param_grid: dict, cv=5, scoring=None):
        self.estimator, self.param_grid, self.cv, self.scoring = estimator, param_grid, cv, scoring

    def fit(self, X, y):
        keys = sorted(self.param_grid)
        self.cv_results_ = []
        best = (-np.inf, None)
        for values in itertools.product(*(self.param_grid[k] for k in keys)):
            params = dict(zip(keys, values))
            scores = cross_val_score(clone(self.estimator).set_params(**params), X, y, self.cv, self.scoring)
            self.cv_results_.append({"params": params, "mean_test_score": float(scores.mean()), "scores": scores})
            if scores.mean() > best[0]:
                best = (float(scores.mean()), params)
        self.best_score_, self.best_params_ = best
        self.best_estimator_ = clone(self.estimator).set_params(**self.best_params_).fit(X, y)
        return self

    def predict(self, X):
        return self.best_estimator_.predict(X)

    def score(self, X, y):
        return self.best_estimator_.score(X, y)


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


def confidence_interval(scores, level: float = 0.95, method: str = "normal", n_boot: int = 10_000, random_state=0) -> Interval:
    """``μ̂ ± 1.96·SE`` with ``SE = s/√n`` (lecture 001), or a percentile bootstrap interval."""
    x = np.asarray(scores, dtype=np.float64).reshape(-1)
    if len(x) < 2:
        raise ValueError("confidence_interval: needs at least 2 scores")
    mean = float(x.mean())
    se = float(x.std(ddof=1) / math.sqrt(len(x)))
    if method == "normal":
        z = _normal_quantile(0.5 + level / 2)
        return Interval(mean, mean - z * se, mean + z * se, se, level)
    if method == "bootstrap":
        rng = np.random.default_rng(random_state)
        means = x[rng.integers(0, len(x), (n_boot, len(x)))].mean(1)
        lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
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
    Pass ``higher_is_better=True`` for scores such as accuracy."""
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
) -> BiasVariance:
    """Fit ``n_rounds`` models on fresh training sets from ``sample(rng)`` and decompose their
    expected squared error at ``X_test``: ``E(ŷ − y)² = (E ŷ − f)² + Var ŷ + σ²`` (lecture 001)."""
    rng = np.random.default_rng(random_state)
    preds = np.array([make_estimator().fit(*sample(rng)).predict(X_test) for _ in range(n_rounds)])
    f = np.asarray(true_fn(X_test))
    mean_pred = preds.mean(0)
    bias2 = float(np.mean((mean_pred - f) ** 2))
    variance = float(np.mean(preds.var(0)))
    return BiasVariance(bias2 + variance + noise_var, bias2, variance, noise_var)
