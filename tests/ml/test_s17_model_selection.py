"""Model selection against scikit-learn 1.9 on the same data and seeds: the rows
``train_test_split`` draws (plain, stratified, multilabel-stratified), ``GroupKFold``,
``ShuffleSplit``, ``StratifiedShuffleSplit`` and ``LeaveOneOut`` splits and reprs,
``cross_validate`` (several metrics, train scores, estimators, indices), ``groups=`` and fit
``params=`` (``sample_weight`` per fold) in cross-validation and the searches, and
``RandomizedSearchCV``'s candidates (``ParameterSampler``'s draws)."""

import warnings

import numpy as np
import pytest
import sklearn.model_selection as skms
from scipy import stats
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.linear_model import Ridge as SkRidge

from nablagrad import ml
from nablagrad.ml import model_selection as ms

RNG = np.random.default_rng(17)
X = RNG.normal(size=(48, 3))
Y_REG = X @ [1.0, -2.0, 0.5] + RNG.normal(size=48)
Y_CLASS = (X[:, 0] + 0.5 * RNG.normal(size=48) > 0).astype(int)
GROUPS = np.arange(48) % 7
WEIGHTS = RNG.random(48) + 0.1


def _same_splits(ours, ref):
    ours, ref = list(ours), list(ref)
    assert len(ours) == len(ref)
    for (a_tr, a_te), (b_tr, b_te) in zip(ours, ref):
        np.testing.assert_array_equal(a_tr, b_tr)
        np.testing.assert_array_equal(a_te, b_te)


@pytest.mark.parametrize("seed", [0, 1, 42, 2024])
@pytest.mark.parametrize("kind", ["plain", "stratified", "multilabel"])
@pytest.mark.parametrize("test_size", [None, 0.3, 7])
def test_train_test_split_draws_sklearns_rows(seed, kind, test_size):
    y = RNG.integers(0, 3, 48)
    y[:6] = [0, 0, 1, 1, 2, 2]
    stratify = {"plain": None, "stratified": y, "multilabel": np.c_[y % 2, y > 0]}[kind]
    ours = ml.train_test_split(X, y, test_size=test_size, random_state=seed, stratify=stratify)
    ref = skms.train_test_split(X, y, test_size=test_size, random_state=seed, stratify=stratify)
    for a, b in zip(ours, ref, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("n_splits", [2, 3, 5])
@pytest.mark.parametrize("shuffle", [False, True])
def test_group_kfold_equals_sklearn(n_splits, shuffle):
    for seed in range(5):
        groups = RNG.integers(0, 9, 48)
        kw = {"shuffle": shuffle, "random_state": seed if shuffle else None}
        ours, ref = ml.GroupKFold(n_splits, **kw), skms.GroupKFold(n_splits, **kw)
        _same_splits(ours.split(X, Y_REG, groups), ref.split(X, Y_REG, groups))
    with pytest.raises(ValueError, match="'groups' parameter should not be None"):
        next(ml.GroupKFold(3).split(X, Y_REG))
    with pytest.raises(ValueError, match="greater than the number of groups: 2"):
        next(ml.GroupKFold(3).split(X, Y_REG, np.arange(48) % 2))


@pytest.mark.parametrize("sizes", [{}, {"test_size": 0.25}, {"test_size": 5, "train_size": 20}, {"train_size": 0.5}])
def test_shuffle_splits_equal_sklearn(sizes):
    for seed in (0, 3, 11):
        _same_splits(ml.ShuffleSplit(4, random_state=seed, **sizes).split(X),
                     skms.ShuffleSplit(4, random_state=seed, **sizes).split(X))  # fmt: skip
        y = RNG.integers(0, 3, 48)
        _same_splits(ml.StratifiedShuffleSplit(4, random_state=seed, **sizes).split(X, y),
                     skms.StratifiedShuffleSplit(4, random_state=seed, **sizes).split(X, y))  # fmt: skip


def test_leave_one_out_and_reprs_equal_sklearn():
    _same_splits(ml.LeaveOneOut().split(X[:6]), skms.LeaveOneOut().split(X[:6]))
    assert ml.LeaveOneOut().get_n_splits(X[:6]) == 6
    for name, kw in [("KFold", {"n_splits": 3}), ("StratifiedKFold", {"n_splits": 4, "shuffle": True, "random_state": 1}),
                     ("GroupKFold", {}), ("ShuffleSplit", {"test_size": 0.2}), ("StratifiedShuffleSplit", {}),
                     ("LeaveOneOut", {})]:  # fmt: skip
        assert repr(getattr(ml, name)(**kw)) == " ".join(repr(getattr(skms, name)(**kw)).split())  # theirs wraps


@pytest.mark.parametrize("splitter", [ml.KFold(3), ml.StratifiedKFold(3), ml.GroupKFold(3), ml.ShuffleSplit(3, random_state=0)],
                         ids=repr)  # fmt: skip
def test_sklearns_cross_validation_takes_our_splitters(splitter):
    """scikit-learn calls ``cv.split(X, y, groups)``: our splitters take ``groups``."""
    ours = ml.cross_val_score(ml.LogisticRegression(), X, Y_CLASS, cv=splitter, groups=GROUPS)
    ref = skms.cross_val_score(ml.LogisticRegression(), X, Y_CLASS, cv=splitter, groups=GROUPS)
    np.testing.assert_allclose(ours, ref, rtol=1e-12)


@pytest.mark.parametrize("scoring", [None, "r2", ["r2", "neg_mean_absolute_error"], {"a": "r2", "b": "neg_mean_squared_error"}])
def test_cross_validate_equals_sklearn(scoring):
    kw = {"cv": ms.KFold(4, shuffle=True, random_state=0), "scoring": scoring, "return_train_score": True,
          "return_estimator": True, "return_indices": True}  # fmt: skip
    ours, ref = ml.cross_validate(ml.Ridge(alpha=0.5), X, Y_REG, **kw), skms.cross_validate(SkRidge(alpha=0.5), X, Y_REG, **kw)
    assert set(ours) == set(ref)
    for key in ref:
        if key.startswith(("test_", "train_")):
            np.testing.assert_allclose(ours[key], ref[key], rtol=1e-10)
    for a, b in zip(ours["estimator"], ref["estimator"], strict=True):
        np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-10)
    for part in ("train", "test"):
        for a, b in zip(ours["indices"][part], ref["indices"][part], strict=True):
            np.testing.assert_array_equal(a, b)


def test_cross_val_score_routes_sample_weight_per_fold_and_groups_as_sklearn():
    ours = ml.cross_val_score(ml.Ridge(), X, Y_REG, cv=ml.GroupKFold(4), groups=GROUPS, params={"sample_weight": WEIGHTS})
    ref = skms.cross_val_score(SkRidge(), X, Y_REG, cv=skms.GroupKFold(4), groups=GROUPS, params={"sample_weight": WEIGHTS})
    np.testing.assert_allclose(ours, ref, rtol=1e-10)
    unweighted = ml.cross_val_score(ml.Ridge(), X, Y_REG, cv=ml.GroupKFold(4), groups=GROUPS)
    assert not np.allclose(ours, unweighted)  # the weights reached each fit


@pytest.mark.parametrize("scoring", [None, "r2", ["r2", "neg_mean_squared_error"]])
def test_grid_search_with_groups_and_sample_weight_equals_sklearn(scoring):
    """scikit-learn 1.9's searches weigh the fits and, for a scorer that takes it, the scores."""
    grid = {"alpha": [0.01, 1.0, 30.0]}
    kw = {"scoring": scoring, "refit": "r2" if isinstance(scoring, list) else True, "return_train_score": True}
    ours = ml.GridSearchCV(ml.Ridge(), grid, cv=ml.GroupKFold(3), **kw).fit(X, Y_REG, groups=GROUPS, sample_weight=WEIGHTS)
    ref = skms.GridSearchCV(SkRidge(), grid, cv=skms.GroupKFold(3), **kw).fit(X, Y_REG, groups=GROUPS, sample_weight=WEIGHTS)
    for key in ref.cv_results_:
        if key.startswith(("split", "mean_t", "std_t", "rank")):
            np.testing.assert_allclose(ours.cv_results_[key], ref.cv_results_[key], rtol=1e-10, err_msg=key)
    assert ours.best_params_ == ref.best_params_
    np.testing.assert_allclose(ours.best_estimator_.coef_, ref.best_estimator_.coef_, rtol=1e-10)  # refit weighted too
    assert ours.n_features_in_ == ref.n_features_in_ == 3


@pytest.mark.parametrize("n_iter", [1, 4, 11, 30])
def test_randomized_search_draws_sklearns_candidates_from_lists(n_iter):
    dists = {"C": [0.01, 0.1, 1.0, 10.0], "fit_intercept": [True, False], "tol": [1e-4, 1e-6]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # n_iter over the 16 candidates: both warn
        ours = ml.RandomizedSearchCV(ml.LogisticRegression(), dists, n_iter=n_iter, cv=3, random_state=5).fit(X, Y_CLASS)
        ref = skms.RandomizedSearchCV(SkLogisticRegression(), dists, n_iter=n_iter, cv=3, random_state=5).fit(X, Y_CLASS)
    assert ours.cv_results_["params"] == ref.cv_results_["params"]
    assert set(ours.cv_results_) == set(ref.cv_results_)


def test_randomized_search_draws_sklearns_candidates_from_distributions():
    dists = [{"C": stats.loguniform(1e-3, 1e2), "fit_intercept": [True, False]},
             {"C": [0.5, 5.0], "tol": stats.uniform(1e-6, 1e-4)}]
    ours = ml.RandomizedSearchCV(ml.LogisticRegression(), dists, n_iter=6, cv=3, random_state=0).fit(X, Y_CLASS)
    ref = skms.RandomizedSearchCV(SkLogisticRegression(), dists, n_iter=6, cv=3, random_state=0).fit(X, Y_CLASS)
    assert ours.cv_results_["params"] == ref.cv_results_["params"]
    assert ours.best_estimator_.get_params()["C"] == ours.best_params_["C"]


def test_randomized_search_refuses_a_bare_value():
    with pytest.raises(ValueError, match=r"param_distributions\['C'\] must be a non-empty list"):
        ml.RandomizedSearchCV(ml.LogisticRegression(), {"C": 1.0}).fit(X, Y_CLASS)


def test_unsupervised_cross_validation_without_y():
    ours = ml.cross_val_score(ml.KMeans(3, random_state=0, n_init=1), X, cv=3)
    ref = skms.cross_val_score(ml.KMeans(3, random_state=0, n_init=1), X, cv=3)
    np.testing.assert_allclose(ours, ref)


def test_a_scorer_without_sample_weight_gets_none_and_a_warning_as_sklearn():
    def plain(est, X, y):
        return est.score(X, y)

    with pytest.warns(UserWarning, match="does not support sample_weight"):
        ours = ml.GridSearchCV(ml.Ridge(), {"alpha": [0.1, 10.0]}, cv=3, scoring=plain).fit(X, Y_REG, sample_weight=WEIGHTS)
    with pytest.warns(UserWarning, match="does not support sample_weight"):
        ref = skms.GridSearchCV(SkRidge(), {"alpha": [0.1, 10.0]}, cv=3, scoring=plain).fit(X, Y_REG, sample_weight=WEIGHTS)
    np.testing.assert_allclose(ours.cv_results_["mean_test_score"], ref.cv_results_["mean_test_score"], rtol=1e-10)
