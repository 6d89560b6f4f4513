"""Regressions from the twelfth review of ``nablagrad.ml``, each checked against scikit-learn."""

import warnings

import numpy as np
import pytest
import sklearn.linear_model as skl
import sklearn.metrics as skm
import sklearn.model_selection as skms
from sklearn.datasets import make_classification, make_regression

from nablagrad import ml
from nablagrad.ml import metrics as M

REGRESSION = ["mean_squared_error", "root_mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
              "r2_score"]  # fmt: skip
YT, YP = np.array([1.0, 2, 3, 4]), np.array([1.5, 2, 2.5, 5])


@pytest.mark.parametrize("name", REGRESSION)
@pytest.mark.parametrize(("t", "p"), [(YT[:, None], YP), (YT, YP[:, None]), (YT[:, None], YP[:, None])])
def test_regression_metrics_treat_a_column_vector_as_one_output(name, t, p):
    assert getattr(M, name)(t, p) == pytest.approx(getattr(skm, name)(t, p))


@pytest.mark.parametrize("name", REGRESSION)
def test_regression_metrics_average_per_output_values_and_refuse_mismatched_outputs(name):
    t, p = np.array([[1.0, 2], [3, 4], [5, 7]]), np.array([[1.0, 3], [2, 4], [5, 5]])
    w = np.array([1.0, 2.0, 0.5])
    assert getattr(M, name)(t, p) == pytest.approx(getattr(skm, name)(t, p))
    assert getattr(M, name)(t, p, sample_weight=w) == pytest.approx(getattr(skm, name)(t, p, sample_weight=w))
    np.testing.assert_allclose(getattr(M, name)(t, p, multioutput="raw_values"),
                               getattr(skm, name)(t, p, multioutput="raw_values"))  # fmt: skip
    with pytest.raises(ValueError, match=f"{name}: .*different number of output"):
        getattr(M, name)(YT, np.c_[YP, YP])


def test_accuracy_column_vector_and_multilabel_subset_accuracy():
    y = np.array([0, 1, 1, 0, 1])
    p = np.array([0, 1, 0, 0, 0])
    assert M.accuracy_score(y[:, None], p) == skm.accuracy_score(y[:, None], p) == 0.6
    Y, P = np.array([[0, 1], [1, 1], [1, 0]]), np.array([[0, 1], [1, 0], [1, 0]])
    assert M.accuracy_score(Y, P) == pytest.approx(skm.accuracy_score(Y, P))
    with pytest.raises(ValueError, match="accuracy_score: y_true has shape"):
        M.accuracy_score(y, np.c_[p, p])


def test_score_ravels_column_vectors_and_uses_sample_weight():
    X, y = make_classification(120, 5, random_state=0)
    w = np.random.default_rng(0).uniform(0, 2, len(y))
    ours, ref = ml.LogisticRegression().fit(X, y), skl.LogisticRegression().fit(X, y)
    assert ours.score(X, y[:, None]) == pytest.approx(ref.score(X, y[:, None]))
    assert ours.score(X, y, sample_weight=w) == pytest.approx(skm.accuracy_score(y, ours.predict(X), sample_weight=w))
    Xr, yr = make_regression(80, 4, noise=10, random_state=0)
    reg = ml.LinearRegression().fit(Xr, yr)
    assert reg.score(Xr, yr[:, None]) == pytest.approx(skl.LinearRegression().fit(Xr, yr).score(Xr, yr[:, None]))
    wr = w[: len(yr)]
    assert reg.score(Xr, yr, sample_weight=wr) == pytest.approx(skm.r2_score(yr, reg.predict(Xr), sample_weight=wr))
    for bad in (np.ones(3), -wr, np.r_[np.nan, wr[1:]]):
        with pytest.raises(ValueError, match="sample_weight"):
            reg.score(Xr, yr, sample_weight=bad)


def test_mlp_classifier_multilabel_score_is_the_metric():
    X, y = make_classification(100, 5, random_state=3)
    Y = np.c_[y, (X[:, 1] > 0).astype(int)]
    clf = ml.MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(X, Y)
    assert clf.score(X, Y) == pytest.approx(skm.accuracy_score(Y, clf.predict(X)))


@pytest.mark.parametrize("labels", [[1, 0], [0, 1], None])
def test_log_loss_labels_are_sorted_and_column_y_works(labels):
    y, P = np.array([0, 1, 1]), np.array([[0.8, 0.2], [0.3, 0.7], [0.1, 0.9]])
    assert M.log_loss(y, P, labels=labels) == pytest.approx(skm.log_loss(y, P, labels=labels))
    assert M.log_loss(y[:, None], P[:, 1]) == pytest.approx(skm.log_loss(y[:, None], P[:, 1]))
    P3 = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]])
    assert M.log_loss([0, 1, 2], P3, labels=[2, 0, 1]) == pytest.approx(skm.log_loss([0, 1, 2], P3, labels=[2, 0, 1]))


def test_log_loss_refuses_labels_outside_labels_and_a_single_class():
    with pytest.raises(ValueError, match=r"log_loss: y_true contains values \{3\} not belonging"):
        M.log_loss([0, 1, 3], np.full((3, 3), 1 / 3), labels=[0, 1, 2])
    with pytest.raises(ValueError, match="only one label"):
        M.log_loss([1, 1], [0.9, 0.8])


def test_root_mean_squared_error_averages_per_output_rmse():
    t, p = [[1, 2], [3, 4]], [[1, 3], [2, 7]]
    assert M.root_mean_squared_error(t, p) == pytest.approx(skm.root_mean_squared_error(t, p))


def _grid(scoring=None):
    X, y = make_regression(60, 4, noise=5, random_state=0)
    grid = {"alpha": [0.1, 1.0, 10.0], "fit_intercept": [True, False]}
    ours = ml.GridSearchCV(ml.Ridge(), grid, cv=3, scoring=scoring).fit(X, y)
    ref = skms.GridSearchCV(skl.Ridge(), grid, cv=3, scoring=scoring).fit(X, y)
    return ours, ref, X, y


def test_grid_search_cv_results_layout_and_best_index():
    ours, ref, _, _ = _grid()
    assert ours.best_index_ == ref.best_index_ and ours.best_params_ == ref.best_params_
    assert ours.cv_results_["params"] == ref.cv_results_["params"]
    for key in ("mean_test_score", "std_test_score", "rank_test_score", "split0_test_score", "split2_test_score"):
        np.testing.assert_allclose(ours.cv_results_[key], ref.cv_results_[key], rtol=1e-10)
    for key in ("param_alpha", "param_fit_intercept"):
        assert list(ours.cv_results_[key]) == list(ref.cv_results_[key])


def test_grid_search_score_uses_scoring_and_delegates_probabilities():
    ours, ref, X, y = _grid("neg_mean_squared_error")
    assert ours.score(X, y) == pytest.approx(ref.score(X, y))
    assert not hasattr(ours, "predict_proba")
    Xc, yc = make_classification(90, 5, random_state=0)
    gs = ml.GridSearchCV(ml.LogisticRegression(), {"C": [0.1, 1.0]}, cv=3).fit(Xc, yc)
    np.testing.assert_allclose(gs.predict_proba(Xc), gs.best_estimator_.predict_proba(Xc))
    np.testing.assert_allclose(gs.decision_function(Xc), gs.best_estimator_.decision_function(Xc))


def test_train_test_split_without_shuffle_tests_on_the_last_rows():
    X, y = np.arange(20).reshape(10, 2), np.arange(10)
    ours = ml.train_test_split(X, y, shuffle=False, test_size=0.3)
    ref = skms.train_test_split(X, y, shuffle=False, test_size=0.3)
    for a, b in zip(ours, ref):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(("counts", "test_size"), [((7, 3), 0.25), ((7, 3), 0.5), ((7, 3), 3), ((5, 5, 5), 0.2),
                                                   ((3, 3, 3, 3), 0.5), ((10, 6, 2), 0.3)])  # fmt: skip
def test_stratified_split_has_the_requested_test_size(counts, test_size):
    y = np.repeat(np.arange(len(counts)), counts)
    X = np.zeros((len(y), 1))
    _, X_te, _, y_te = ml.train_test_split(X, y, test_size=test_size, stratify=y, random_state=0)
    _, ref_te, _, ref_y = skms.train_test_split(X, y, test_size=test_size, stratify=y, random_state=0)
    assert len(X_te) == len(ref_te)
    assert np.abs(np.bincount(y_te, minlength=len(counts)) - np.bincount(ref_y, minlength=len(counts))).max() <= 1


def test_stratified_split_too_small_for_the_classes_is_refused_clearly():
    y = np.repeat(np.arange(4), 5)
    with pytest.raises(ValueError, match="at least the number of classes"):
        ml.train_test_split(np.zeros((20, 1)), y, test_size=0.1, stratify=y, random_state=0)


@pytest.mark.parametrize("fn", [M.precision_score, M.recall_score, M.f1_score])
def test_prf_validation_as_sklearn(fn):
    with pytest.raises(ValueError, match="Target is multiclass but average='binary'"):
        fn([0, 1, 2, 2], [0, 2, 2, 1])
    with pytest.raises(ValueError, match="pos_label=1 is not a valid label"):
        fn(["a", "b", "a"], ["a", "b", "b"])
    yt, yp = [0, 1, 2, 2, 1, 0, 1], [0, 2, 2, 2, 1, 1, 1]
    sk = getattr(skm, fn.__name__)
    assert fn(yt, yp, average="weighted") == pytest.approx(sk(yt, yp, average="weighted"))
    np.testing.assert_allclose(fn(yt, yp, average=None), sk(yt, yp, average=None))


@pytest.mark.parametrize("fn", [M.mean_squared_error, M.r2_score, M.accuracy_score, M.roc_auc_score, M.log_loss])
def test_nan_and_empty_inputs_are_refused(fn):
    with pytest.raises(ValueError, match="Input contains NaN"):
        fn([0, 1, 1], [np.nan, 0.4, 0.8])
    with pytest.raises(ValueError, match="empty"):
        fn([], [])


@pytest.mark.parametrize("scoring", ["f1", "roc_auc", "neg_log_loss", "precision", "recall", "balanced_accuracy"])
@pytest.mark.parametrize("make", [ml.LogisticRegression, lambda: ml.MLPClassifier((8,), max_iter=20, random_state=0)])
def test_classification_scoring_names_match_sklearn(scoring, make):
    X, y = make_classification(90, 5, flip_y=0.2, random_state=0)
    est = make().fit(X[:60], y[:60])
    assert M.SCORERS[scoring](est, X[60:], y[60:]) == pytest.approx(skm.get_scorer(scoring)(est, X[60:], y[60:]))
    assert ml.cross_val_score(make(), X, y, cv=3, scoring=scoring).shape == (3,)


def test_rmse_scoring_and_mlp_regressor_column_target():
    X, y = make_regression(60, 3, noise=5, random_state=0)
    ours = ml.cross_val_score(ml.Ridge(), X, y, cv=3, scoring="neg_root_mean_squared_error")
    np.testing.assert_allclose(ours, skms.cross_val_score(skl.Ridge(), X, y, cv=3, scoring="neg_root_mean_squared_error"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reg = ml.MLPRegressor(hidden_layer_sizes=(5,), max_iter=5, random_state=0).fit(X, y[:, None])
    assert reg.predict(X).shape == (len(X),)


def test_grid_search_takes_a_list_of_grids_as_scikit_learn():
    from sklearn.linear_model import Ridge as SkRidge  # noqa: PLC0415
    from sklearn.model_selection import GridSearchCV as SkGridSearchCV  # noqa: PLC0415

    from nablagrad.ml import GridSearchCV, Ridge  # noqa: PLC0415

    rng = np.random.default_rng(0)
    X = rng.random((40, 3))
    y = X @ np.array([1.0, 2.0, 3.0]) + 0.1 * rng.random(40)
    grids = [{"alpha": [0.1, 1.0]}, {"alpha": [10.0], "fit_intercept": [False]}]
    ours, theirs = GridSearchCV(Ridge(), grids, cv=3).fit(X, y), SkGridSearchCV(SkRidge(), grids, cv=3).fit(X, y)
    assert ours.best_params_ == theirs.best_params_ and list(ours.cv_results_["params"]) == list(theirs.cv_results_["params"])
    np.testing.assert_allclose(ours.cv_results_["mean_test_score"], theirs.cv_results_["mean_test_score"], rtol=1e-10)
    assert list(ours.cv_results_["param_fit_intercept"].mask) == [True, True, False]
