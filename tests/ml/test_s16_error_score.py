"""``error_score`` in ``GridSearchCV`` and ``cross_val_score``, as scikit-learn's: a fit that raises
scores ``error_score`` (NaN by default) for its split with a ``FitFailedWarning``, ``"raise"``
re-raises, every fit failing is a ``ValueError`` (nothing is refitted), a scorer that raises
scores ``error_score`` with a ``UserWarning``.  Each case is run through scikit-learn's own
``GridSearchCV``/``cross_val_score`` on the same estimator, whose results ours must equal."""

import warnings

import numpy as np
import pytest
from sklearn import linear_model as skl
from sklearn import model_selection as skms
from sklearn.exceptions import FitFailedWarning as SkFitFailedWarning

from nablagrad import ml
from nablagrad.ml.base import BaseEstimator, RegressorMixin
from nablagrad.ml.model_selection import FitFailedWarning


class Fragile(RegressorMixin, BaseEstimator):
    """Ridge that raises for ``alpha < 0``, and when its training rows lack row ``fail_row`` of ROWS."""

    def __init__(self, alpha: float = 1.0, fail_row: int = -1):
        self.alpha, self.fail_row = alpha, fail_row

    def fit(self, X, y):
        if self.alpha < 0:
            raise ValueError(f"Fragile: alpha={self.alpha} must be >= 0")
        if self.fail_row >= 0 and not np.any(np.all(X == ROWS[self.fail_row], axis=1)):
            raise ArithmeticError(f"Fragile: trained without row {self.fail_row}")
        self.coef_ = np.linalg.solve(X.T @ X + self.alpha * np.eye(X.shape[1]), X.T @ y)
        return self

    def predict(self, X):
        return X @ self.coef_


RNG = np.random.default_rng(3)
ROWS = RNG.standard_normal((45, 3))
TARGET = ROWS @ [1.0, -2.0, 0.5] + 0.2 * RNG.standard_normal(45)


def _both(ours_call, theirs_call):
    """Each call's result and its warnings' category names and first lines."""
    out = []
    for call in (ours_call, theirs_call):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = call()
        out.append((result, [(w.category.__name__, str(w.message).strip().splitlines()[0]) for w in caught]))
    return out


def _same_results(ours, theirs, parts=("test",)):
    for part in parts:
        for key in [f"mean_{part}_score", *(f"split{k}_{part}_score" for k in range(ours.n_splits_))]:
            np.testing.assert_allclose(ours.cv_results_[key], theirs.cv_results_[key], rtol=1e-12, equal_nan=True)
    np.testing.assert_array_equal(ours.cv_results_["rank_test_score"], theirs.cv_results_["rank_test_score"])
    assert ours.best_index_ == theirs.best_index_ and ours.best_params_ == theirs.best_params_


@pytest.mark.parametrize("error_score", [np.nan, -5.0, 0])
@pytest.mark.parametrize("return_train_score", [False, True])
def test_a_failing_candidate_scores_error_score_as_in_scikit_learn(error_score, return_train_score):
    grid = {"alpha": [-1.0, 0.1, 10.0]}
    kwargs = {"cv": 3, "error_score": error_score, "return_train_score": return_train_score}
    (ours, ours_warned), (theirs, their_warned) = _both(
        lambda: ml.GridSearchCV(Fragile(), grid, **kwargs).fit(ROWS, TARGET),
        lambda: skms.GridSearchCV(Fragile(), grid, **kwargs).fit(ROWS, TARGET),
    )
    _same_results(ours, theirs, ("test", "train") if return_train_score else ("test",))
    assert ours.best_params_ == {"alpha": 0.1}
    np.testing.assert_allclose(ours.best_estimator_.coef_, theirs.best_estimator_.coef_, rtol=1e-12)
    assert [c for c, _ in ours_warned] == [c for c, _ in their_warned]  # FitFailedWarning, then non-finite (NaN only)
    assert ours_warned[0][1] == "GridSearchCV: " + their_warned[0][1] == "GridSearchCV: 3 fits failed out of a total of 9."


def test_the_warning_says_how_many_fits_failed_and_why():
    """Ours, and scikit-learn's FitFailedWarning once scikit-learn is imported (so its filters catch ours)."""
    with pytest.warns(SkFitFailedWarning):
        ml.GridSearchCV(Fragile(), {"alpha": [-1.0, 0.1, 10.0]}, cv=3).fit(ROWS, TARGET)
    expected = r"3 fits failed out of a total of 9(.|\n)*will be set to nan(.|\n)*3 fits failed with the following error"
    with pytest.warns(FitFailedWarning, match=expected + r"(.|\n)*alpha=-1.0 must be >= 0"):
        ml.GridSearchCV(Fragile(), {"alpha": [-1.0, 0.1, 10.0]}, cv=3).fit(ROWS, TARGET)


def test_every_candidate_failing_on_one_split_refits_what_scikit_learn_refits():
    """Every candidate fails on the first split, so none has a finite mean: scikit-learn ranks them
    all first and refits the first on all the data (where it fits), with its warnings (not
    silently); so do we."""
    grid = {"alpha": [0.1, 1.0, 10.0], "fail_row": [0]}
    (ours, ours_warned), (theirs, their_warned) = _both(
        lambda: ml.GridSearchCV(Fragile(), grid, cv=3).fit(ROWS, TARGET),
        lambda: skms.GridSearchCV(Fragile(), grid, cv=3).fit(ROWS, TARGET),
    )
    _same_results(ours, theirs)
    assert np.all(np.isnan(ours.cv_results_["mean_test_score"])) and np.isnan(ours.best_score_)
    assert [c for c, _ in ours_warned] == [c for c, _ in their_warned] == ["FitFailedWarning", "UserWarning"]
    assert "non-finite" in ours_warned[1][1]


def test_every_fit_failing_raises_and_refits_nothing():
    search = ml.GridSearchCV(Fragile(), {"alpha": [0.5, 2.0]}, cv=3).fit(ROWS, TARGET)
    before = search.best_params_
    search.set_params(param_grid={"alpha": [-1.0, -2.0]})
    with pytest.raises(ValueError, match=r"All the 6 fits failed(.|\n)*error_score='raise'") as ours:
        search.fit(ROWS, TARGET)
    with pytest.raises(ValueError, match="All the 6 fits failed") as theirs:
        skms.GridSearchCV(Fragile(), {"alpha": [-1.0, -2.0]}, cv=3).fit(ROWS, TARGET)
    assert "alpha=-1.0 must be >= 0" in str(ours.value) and "alpha=-1.0 must be >= 0" in str(theirs.value)
    assert search.best_params_ == before  # a failed fit changes nothing


def test_error_score_raise_re_raises_the_fit_error():
    for search in (ml.GridSearchCV, skms.GridSearchCV):
        with pytest.raises(ValueError, match=r"alpha=-1.0 must be >= 0"):
            search(Fragile(), {"alpha": [0.1, -1.0]}, cv=3, error_score="raise").fit(ROWS, TARGET)
    with pytest.raises(ArithmeticError, match="trained without row 0"):
        ml.cross_val_score(Fragile(fail_row=0), ROWS, TARGET, cv=3, error_score="raise")


@pytest.mark.parametrize("error_score", [np.nan, 0.25])
def test_cross_val_score_puts_error_score_where_a_fold_failed(error_score):
    (ours, ours_warned), (theirs, their_warned) = _both(
        lambda: ml.cross_val_score(Fragile(fail_row=0), ROWS, TARGET, cv=3, error_score=error_score),
        lambda: skms.cross_val_score(Fragile(fail_row=0), ROWS, TARGET, cv=3, error_score=error_score),
    )
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, equal_nan=True)
    assert np.isnan(ours).sum() == (1 if np.isnan(error_score) else 0) and ours[0] == pytest.approx(error_score, nan_ok=True)
    assert [c for c, _ in ours_warned] == [c for c, _ in their_warned] == ["FitFailedWarning"]
    assert ours_warned[0][1] == "cross_val_score: 1 fits failed out of a total of 3."


def test_cross_val_score_refuses_when_every_fold_fails():
    with pytest.raises(ValueError, match="cross_val_score: All the 3 fits failed"):
        ml.cross_val_score(Fragile(alpha=-1.0), ROWS, TARGET, cv=3)


def test_a_scorer_that_raises_scores_error_score_with_a_user_warning():
    def picky(est, X, y):
        if len(X) != 15:
            raise RuntimeError("picky: only 15 rows")
        return -float(np.mean((est.predict(X) - y) ** 2))

    cv = [(np.arange(15, 45), np.arange(15)), (np.arange(15), np.arange(15, 45))]
    (ours, ours_warned), (theirs, their_warned) = _both(
        lambda: ml.cross_val_score(Fragile(), ROWS, TARGET, cv=cv, scoring=picky),
        lambda: skms.cross_val_score(Fragile(), ROWS, TARGET, cv=cv, scoring=picky),
    )
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, equal_nan=True)
    assert np.isnan(ours[1]) and np.isfinite(ours[0])
    assert [c for c, _ in ours_warned] == [c for c, _ in their_warned] == ["UserWarning"]
    assert "Scoring failed" in ours_warned[0][1]


@pytest.mark.parametrize("bad", ["ignore", None, "nan", [np.nan]])
def test_error_score_is_raise_or_a_number(bad):
    msg = r"The 'error_score' parameter of {} must be a str among \{{'raise'\}} or a real number \(NaN included\)"
    with pytest.raises(ml.InvalidParameterError, match=msg.format("GridSearchCV")):
        ml.GridSearchCV(Fragile(), {"alpha": [1.0]}, error_score=bad).fit(ROWS, TARGET)
    with pytest.raises(ml.InvalidParameterError, match=msg.format("cross_val_score")):
        ml.cross_val_score(Fragile(), ROWS, TARGET, error_score=bad)
    with pytest.raises(ValueError, match="error_score"):  # scikit-learn refuses it too
        skms.GridSearchCV(Fragile(), {"alpha": [1.0]}, error_score=bad).fit(ROWS, TARGET)


def test_defaults_are_scikit_learns():
    assert np.isnan(ml.GridSearchCV(Fragile(), {}).error_score) and np.isnan(skms.GridSearchCV(Fragile(), {}).error_score)
    assert "error_score" in ml.GridSearchCV(Fragile(), {}).get_params()


def test_failures_in_worker_processes_are_reported_here():
    """With n_jobs=2 the fits run in joblib's worker processes, whose warnings would be lost: the
    failures come back with the results and are reported in this process, with the serial scores."""
    pytest.importorskip("joblib")
    grid = {"alpha": [-1.0, 0.1, 10.0]}
    with pytest.warns(FitFailedWarning, match="3 fits failed out of a total of 9"):
        parallel = ml.GridSearchCV(ml.Ridge(), grid, cv=3, n_jobs=2).fit(ROWS, TARGET)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = skms.GridSearchCV(skl.Ridge(), grid, cv=3).fit(ROWS, TARGET)  # its Ridge refuses alpha=-1 at fit too
    np.testing.assert_allclose(parallel.cv_results_["mean_test_score"], ref.cv_results_["mean_test_score"], rtol=1e-10,
                               equal_nan=True)  # fmt: skip
    assert parallel.best_params_ == ref.best_params_
