"""GridSearchCV's ``refit``, several metrics, ``return_train_score`` and its attributes, against
scikit-learn's ``GridSearchCV`` on the same folds (Ridge: a closed form, so the scores agree to
rounding)."""

import numpy as np
import pytest
from sklearn import linear_model as skl
from sklearn import model_selection as skms
from sklearn.datasets import make_classification, make_regression

from nablagrad import ml

X_REG, Y_REG = make_regression(60, 4, noise=5.0, random_state=0)
GRID = {"alpha": [0.1, 1.0, 10.0], "fit_intercept": [True, False]}
X_CLS, Y_CLS = make_classification(90, 5, random_state=0)


def _pair(**kw):
    ours = ml.GridSearchCV(ml.Ridge(), GRID, cv=3, **kw).fit(X_REG, Y_REG)
    ref = skms.GridSearchCV(skl.Ridge(), GRID, cv=3, **kw).fit(X_REG, Y_REG)
    return ours, ref


def _same_results(ours, ref):
    assert set(ours.cv_results_) == set(ref.cv_results_)
    for key, value in ref.cv_results_.items():
        if key == "params":
            assert ours.cv_results_[key] == value
        elif key.startswith("param_"):
            assert list(ours.cv_results_[key]) == list(value)
        elif "time" not in key:
            np.testing.assert_allclose(ours.cv_results_[key], value, rtol=1e-9, atol=1e-12, err_msg=key)
        else:
            assert np.all(np.asarray(ours.cv_results_[key]) >= 0)


@pytest.mark.parametrize(
    ("scoring", "refit"),
    [
        (None, True),
        ("neg_mean_squared_error", True),
        (["r2", "neg_mean_absolute_error"], "neg_mean_absolute_error"),
        ({"fit": "r2", "mse": "neg_mean_squared_error"}, "fit"),
    ],
)
def test_refit_true_leaves_scikit_learns_attributes(scoring, refit):
    ours, ref = _pair(scoring=scoring, refit=refit, return_train_score=True)
    _same_results(ours, ref)
    assert ours.best_index_ == ref.best_index_ and ours.best_params_ == ref.best_params_
    assert ours.best_score_ == pytest.approx(ref.best_score_, rel=1e-10)
    assert ours.n_splits_ == ref.n_splits_ == 3 and ours.multimetric_ == ref.multimetric_
    assert ours.refit_time_ >= 0
    # best_estimator_ is the best candidate refitted on all the data
    np.testing.assert_allclose(ours.best_estimator_.coef_, ref.best_estimator_.coef_, rtol=1e-10)
    np.testing.assert_allclose(ours.predict(X_REG), ref.predict(X_REG), rtol=1e-10)
    assert ours.score(X_REG, Y_REG) == pytest.approx(ref.score(X_REG, Y_REG), rel=1e-10)


def test_refit_false_keeps_the_best_but_refits_nothing():
    ours, ref = _pair(refit=False)
    _same_results(ours, ref)
    assert ours.best_index_ == ref.best_index_ and ours.best_params_ == ref.best_params_
    assert ours.best_score_ == pytest.approx(ref.best_score_)
    for attr in ("best_estimator_", "refit_time_"):
        assert hasattr(ours, attr) == hasattr(ref, attr) is False
    for method in ("predict", "predict_proba", "decision_function"):
        assert hasattr(ours, method) == hasattr(ref, method) is False
    with pytest.raises(AttributeError, match="refit=False"):
        ours.predict(X_REG)
    with pytest.raises(AttributeError, match="refit=False"):
        ours.score(X_REG, Y_REG)


def test_several_metrics_without_refit_leave_no_best_attributes():
    ours, ref = _pair(scoring=["r2", "neg_mean_squared_error"], refit=False)
    _same_results(ours, ref)
    for attr in ("best_index_", "best_params_", "best_score_", "best_estimator_"):
        assert hasattr(ours, attr) == hasattr(ref, attr) is False


@pytest.mark.parametrize("refit", [True, "accuracy"])
def test_several_metrics_need_refit_to_name_one(refit):
    scoring = ["r2", "neg_mean_squared_error"]
    with pytest.raises(ValueError, match="refit must be set to a scorer key") as ref_err:
        skms.GridSearchCV(skl.Ridge(), GRID, cv=3, scoring=scoring, refit=refit).fit(X_REG, Y_REG)
    search = ml.GridSearchCV(ml.Ridge(), GRID, cv=3, scoring=scoring, refit=refit)
    with pytest.raises(ValueError, match="refit must be set to a scorer key") as err:
        search.fit(X_REG, Y_REG)
    assert repr(refit) in str(err.value) and repr(refit) in str(ref_err.value)
    assert "r2" in str(err.value)  # and which names there are
    assert not any(k.endswith("_") for k in vars(search))  # refused before any fit, nothing left


def test_a_callable_refit_chooses_best_index_and_leaves_no_best_score():
    def simplest_within_one_std(results):  # the largest alpha whose mean is within one std of the best
        best = np.argmax(results["mean_test_score"])
        ok = results["mean_test_score"] >= results["mean_test_score"][best] - results["std_test_score"][best]
        alphas = np.where(ok, results["param_alpha"].astype(float), -np.inf)
        return int(np.argmax(alphas))

    ours, ref = _pair(refit=simplest_within_one_std)
    assert ours.best_index_ == ref.best_index_ and ours.best_params_ == ref.best_params_
    assert not hasattr(ours, "best_score_") and not hasattr(ref, "best_score_")
    np.testing.assert_allclose(ours.predict(X_REG), ref.predict(X_REG), rtol=1e-10)


@pytest.mark.parametrize(("refit", "error"), [(lambda r: 0.5, TypeError), (lambda r: 99, IndexError)])
def test_a_callable_refit_must_return_a_valid_index(refit, error):
    with pytest.raises(error):
        skms.GridSearchCV(skl.Ridge(), GRID, cv=3, refit=refit).fit(X_REG, Y_REG)
    with pytest.raises(error, match=r"refit\(cv_results_\)"):
        ml.GridSearchCV(ml.Ridge(), GRID, cv=3, refit=refit).fit(X_REG, Y_REG)


def test_several_classification_metrics_match_scikit_learn():
    scoring = {"acc": "accuracy", "nll": "neg_log_loss", "auc": "roc_auc"}
    grid = {"C": [0.01, 0.1, 1.0]}
    ours = ml.GridSearchCV(ml.LogisticRegression(tol=1e-8), grid, cv=3, scoring=scoring, refit="nll").fit(X_CLS, Y_CLS)
    ref = skms.GridSearchCV(skl.LogisticRegression(tol=1e-8), grid, cv=3, scoring=scoring, refit="nll").fit(X_CLS, Y_CLS)
    assert set(ours.cv_results_) == set(ref.cv_results_)
    for name in scoring:
        np.testing.assert_allclose(ours.cv_results_[f"mean_test_{name}"], ref.cv_results_[f"mean_test_{name}"], rtol=1e-5)
        np.testing.assert_array_equal(ours.cv_results_[f"rank_test_{name}"], ref.cv_results_[f"rank_test_{name}"])
    assert ours.best_index_ == ref.best_index_
    np.testing.assert_array_equal(ours.classes_, ref.classes_)
    np.testing.assert_allclose(ours.predict_proba(X_CLS), ref.predict_proba(X_CLS), atol=1e-5)
    assert ours.score(X_CLS, Y_CLS) == pytest.approx(ref.score(X_CLS, Y_CLS), rel=1e-5)  # by the refit metric


def test_a_new_fit_without_refit_drops_the_old_best_estimator():
    search = ml.GridSearchCV(ml.Ridge(), GRID, cv=3).fit(X_REG, Y_REG)
    assert hasattr(search, "best_estimator_")
    search.set_params(refit=False).fit(X_REG, Y_REG)
    assert not hasattr(search, "best_estimator_") and not hasattr(search, "refit_time_")


@pytest.mark.parametrize("scoring", [[], ["r2", "r2"], {}, ["r2", len]])
def test_bad_metric_lists_are_refused_as_scikit_learn(scoring):
    with pytest.raises(ValueError):
        skms.GridSearchCV(skl.Ridge(), GRID, cv=3, scoring=scoring).fit(X_REG, Y_REG)
    with pytest.raises(ValueError, match="GridSearchCV: scoring"):
        ml.GridSearchCV(ml.Ridge(), GRID, cv=3, scoring=scoring).fit(X_REG, Y_REG)
