"""Hyperparameters are validated at ``fit`` as scikit-learn validates them: each bad value that
scikit-learn's counterpart refuses, ours refuses too, with an ``InvalidParameterError`` (a
``ValueError`` and a ``TypeError``) naming the estimator, the parameter, the allowed values and the
value received; a failed ``fit`` leaves a fitted estimator as it was.  Also: the model-selection
helpers and ``load_csv`` refuse the inputs the hardening audit listed."""

from __future__ import annotations

import copy
import inspect
import math
import re
from dataclasses import dataclass, field

import numpy as np
import pytest
from sklearn import cluster, decomposition, linear_model, model_selection, multiclass, neural_network, svm
from sklearn.utils._param_validation import InvalidParameterError as SkInvalidParameterError

import nablagrad.ml as ml
from nablagrad.data import DataFormatError, load_csv
from nablagrad.ml._params import Interval, validate_params
from nablagrad.ml.base import BaseEstimator

RNG = np.random.default_rng(0)
X = RNG.standard_normal((40, 3))
Y_CLASS = (X[:, 0] + 0.3 * X[:, 1] > 0).astype(np.int64)
Y_REG = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * RNG.standard_normal(40)


@dataclass
class Case:
    """``ours(**{param: bad})`` must be refused at fit; so must ``sk(**{param: bad})`` where given."""

    ours: type
    param: str
    bad: object
    allowed: str  # a fragment of our message's "must be ..." part
    sk: type | None = None
    target: str = "class"  # "class", "reg" or "none" (unsupervised)
    base: dict = field(default_factory=dict)  # other constructor arguments, both sides
    sk_error: type = SkInvalidParameterError  # what scikit-learn raises (a few check after validation)

    def __str__(self) -> str:
        return f"{self.ours.__name__}-{self.param}={self.bad!r}"


NAN, INF = float("nan"), float("inf")
LOGREG, SK_LOGREG = ml.LogisticRegression(), linear_model.LogisticRegression()
CASES = [
    # LinearRegression
    Case(ml.LinearRegression, "fit_intercept", "x", "a bool (True or False)", linear_model.LinearRegression, "reg"),
    Case(ml.LinearRegression, "fit_intercept", 1, "a bool", linear_model.LinearRegression, "reg"),
    Case(ml.LinearRegression, "tol", -1.0, "a float in the range [0, inf)", linear_model.LinearRegression, "reg"),
    Case(ml.LinearRegression, "solver", "svd", "a str among {'gd', 'lstsq', 'normal', 'sgd'}", None, "reg"),
    Case(ml.LinearRegression, "learning_rate", 0.0, "a float in the range (0, inf) or a str among", None, "reg"),
    Case(ml.LinearRegression, "learning_rate", NAN, "a float in the range (0, inf)", None, "reg"),
    Case(ml.LinearRegression, "max_iter", 0, "an int in the range [1, inf)", None, "reg"),
    Case(ml.LinearRegression, "batch_size", 2.5, "an int in the range [1, inf)", None, "reg"),
    # Ridge
    Case(ml.Ridge, "alpha", NAN, "a float in the range [0, inf)", linear_model.Ridge, "reg"),
    Case(ml.Ridge, "alpha", -1.0, "a float in the range [0, inf)", linear_model.Ridge, "reg"),
    Case(ml.Ridge, "alpha", INF, "a float in the range [0, inf)", linear_model.Ridge, "reg"),
    Case(ml.Ridge, "alpha", "1", "a float in the range [0, inf)", linear_model.Ridge, "reg"),
    Case(ml.Ridge, "fit_intercept", None, "a bool", linear_model.Ridge, "reg"),
    Case(ml.Ridge, "solver", "bogus", "a str among {'closed', 'gd', 'sgd'}", linear_model.Ridge, "reg"),
    Case(ml.Ridge, "max_iter", 0, "an int in the range [1, inf)", linear_model.Ridge, "reg"),
    Case(ml.Ridge, "tol", -1e-3, "a float in the range [0, inf)", linear_model.Ridge, "reg"),
    Case(ml.Ridge, "random_state", -1, "None, an int in the range [0, inf)", linear_model.Ridge, "reg"),
    # Lasso
    Case(ml.Lasso, "max_iter", 0, "an int in the range [1, inf)", linear_model.Lasso, "reg", {"tol": -1}),
    Case(ml.Lasso, "tol", -1.0, "a float in the range [0, inf)", linear_model.Lasso, "reg"),
    Case(ml.Lasso, "alpha", -0.5, "a float in the range [0, inf)", linear_model.Lasso, "reg"),
    Case(ml.Lasso, "alpha", INF, "a float in the range [0, inf)", linear_model.Lasso, "reg"),
    Case(ml.Lasso, "fit_intercept", 1, "a bool", linear_model.Lasso, "reg"),
    Case(ml.Lasso, "solver", "lars", "a str among {'cd', 'proximal'}", None, "reg"),
    # Perceptron
    Case(ml.Perceptron, "eta0", -1.0, "a float in the range (0, inf)", linear_model.Perceptron),
    Case(ml.Perceptron, "eta0", 0.0, "a float in the range (0, inf)", linear_model.Perceptron),
    Case(ml.Perceptron, "alpha", -1.0, "a float in the range [0, inf)", linear_model.Perceptron),
    Case(ml.Perceptron, "max_iter", 0, "an int in the range [1, inf)", linear_model.Perceptron),
    Case(ml.Perceptron, "shuffle", "yes", "a bool", linear_model.Perceptron),
    Case(ml.Perceptron, "random_state", "seed", "None, an int in the range [0, inf)", linear_model.Perceptron),
    # LinearSVC
    Case(ml.LinearSVC, "C", 0.0, "a float in the range (0, inf)", svm.LinearSVC),
    Case(ml.LinearSVC, "C", -1.0, "a float in the range (0, inf)", svm.LinearSVC),
    Case(ml.LinearSVC, "tol", 0.0, "a float in the range (0, inf)", svm.LinearSVC),
    Case(ml.LinearSVC, "max_iter", -1, "an int in the range [1, inf)", svm.LinearSVC),
    Case(ml.LinearSVC, "fit_intercept", "no", "a bool", svm.LinearSVC),
    # KernelSVC (scikit-learn's SVC)
    Case(ml.KernelSVC, "degree", -1, "an int in the range [0, inf)", svm.SVC),
    Case(ml.KernelSVC, "degree", 2.5, "an int in the range [0, inf)", svm.SVC),
    Case(ml.KernelSVC, "C", 0.0, "a float in the range (0, inf)", svm.SVC),
    Case(ml.KernelSVC, "gamma", -1.0, "a str among {'auto', 'scale'} or a float in the range (0, inf)", svm.SVC),
    Case(ml.KernelSVC, "gamma", "bogus", "a str among {'auto', 'scale'}", svm.SVC),
    Case(ml.KernelSVC, "kernel", "bogus", "a str among {'linear', 'poly', 'rbf'}", svm.SVC),
    Case(ml.KernelSVC, "coef0", NAN, "a float in the range (-inf, inf)", svm.SVC),
    Case(ml.KernelSVC, "tol", 0.0, "a float in the range (0, inf)", svm.SVC),
    Case(ml.KernelSVC, "max_iter", -2, "an int in the range [1, inf)", svm.SVC),
    # LogisticRegression and SoftmaxRegression (scikit-learn's LogisticRegression is multinomial)
    Case(ml.LogisticRegression, "max_iter", -1, "an int in the range [1, inf)", linear_model.LogisticRegression),
    Case(ml.LogisticRegression, "C", 0, "a float in the range (0, inf)", linear_model.LogisticRegression),
    Case(ml.LogisticRegression, "C", NAN, "a float in the range (0, inf)", linear_model.LogisticRegression),
    Case(ml.LogisticRegression, "tol", -1.0, "a float in the range [0, inf)", linear_model.LogisticRegression),
    Case(ml.LogisticRegression, "fit_intercept", "x", "a bool", linear_model.LogisticRegression),
    Case(ml.SoftmaxRegression, "C", -1.0, "a float in the range (0, inf)", linear_model.LogisticRegression),
    Case(ml.SoftmaxRegression, "max_iter", -1, "an int in the range [1, inf)", linear_model.LogisticRegression),
    # KMeans
    Case(ml.KMeans, "max_iter", 0, "an int in the range [1, inf)", cluster.KMeans, "none"),
    Case(ml.KMeans, "n_clusters", 0, "an int in the range [1, inf)", cluster.KMeans, "none"),
    Case(ml.KMeans, "n_clusters", 2.5, "an int in the range [1, inf)", cluster.KMeans, "none"),
    Case(ml.KMeans, "init", "bogus", "a str among {'k-means++', 'random'}", cluster.KMeans, "none"),
    Case(ml.KMeans, "n_init", 0, "an int in the range [1, inf)", cluster.KMeans, "none"),
    Case(ml.KMeans, "tol", -1.0, "a float in the range [0, inf)", cluster.KMeans, "none"),
    # PCA
    Case(ml.PCA, "n_components", 1.5, "None, an int in the range [1, inf) or a float in the range (0, 1)", decomposition.PCA,
         "none"),  # fmt: skip
    Case(ml.PCA, "n_components", -1, "an int in the range [1, inf)", decomposition.PCA, "none"),
    Case(ml.PCA, "n_components", "all", "an int in the range [1, inf)", decomposition.PCA, "none"),
    Case(ml.PCA, "svd_solver", "bogus", "a str among {'auto', 'covariance_eigh', 'full', 'randomized'}", decomposition.PCA,
         "none"),  # fmt: skip
    Case(ml.PCA, "whiten", "yes", "a bool", decomposition.PCA, "none"),
    # MLPs
    Case(ml.MLPClassifier, "max_iter", 0, "an int in the range [1, inf)", neural_network.MLPClassifier),
    Case(ml.MLPClassifier, "alpha", -1.0, "a float in the range [0, inf)", neural_network.MLPClassifier),
    Case(ml.MLPClassifier, "learning_rate_init", 0.0, "a float in the range (0, inf)", neural_network.MLPClassifier),
    Case(ml.MLPClassifier, "batch_size", 0, "an int in the range [1, inf)", neural_network.MLPClassifier),
    Case(ml.MLPClassifier, "activation", "bogus", "a str among {", neural_network.MLPClassifier),
    Case(ml.MLPClassifier, "tol", -1.0, "a float in the range [0, inf)", neural_network.MLPClassifier),
    Case(ml.MLPClassifier, "hidden_layer_sizes", (0,), "an int >= 1 or a sequence of ints >= 1", neural_network.MLPClassifier,
         sk_error=ValueError),  # fmt: skip  # scikit-learn: a plain ValueError after validation, in fit
    Case(ml.MLPClassifier, "hidden_layer_sizes", "wide", "an int >= 1 or a sequence", None),
    Case(ml.MLPRegressor, "max_iter", 0, "an int in the range [1, inf)", neural_network.MLPRegressor, "reg"),
    Case(ml.MLPRegressor, "learning_rate_init", -1.0, "a float in the range (0, inf)", neural_network.MLPRegressor, "reg"),
    # multiclass wrappers and grid search
    Case(ml.OneVsRest, "estimator", 5, "an object implementing 'fit' and 'decision_function'", multiclass.OneVsRestClassifier),
    Case(ml.OneVsRest, "estimator", "logreg", "an object implementing 'fit'", multiclass.OneVsRestClassifier),
    Case(ml.OneVsOne, "estimator", None, "an object implementing 'fit'", multiclass.OneVsOneClassifier),
    Case(ml.GridSearchCV, "cv", 1, "an int in the range [2, inf) or an object implementing 'split'", model_selection.GridSearchCV,
         "reg"),  # fmt: skip
    Case(ml.GridSearchCV, "scoring", "bogus", "None, a str among {", model_selection.GridSearchCV, "reg"),
    Case(ml.GridSearchCV, "param_grid", 5, "an instance of 'dict'", model_selection.GridSearchCV, "reg"),
    Case(ml.GridSearchCV, "n_jobs", 2.5, "None, an int in the range [1, inf) or an int in the range (-inf, -1]",
         model_selection.GridSearchCV, "reg"),  # fmt: skip
    Case(ml.GridSearchCV, "estimator", 5, "an object implementing 'fit'", model_selection.GridSearchCV, "reg"),
    Case(ml.RandomizedSearchCV, "n_iter", 0, "an int in the range [1, inf)", model_selection.RandomizedSearchCV, "reg"),
    Case(ml.RandomizedSearchCV, "param_distributions", 5, "an instance of 'dict'", model_selection.RandomizedSearchCV,
         "reg"),  # fmt: skip
    # no scikit-learn counterpart
    Case(ml.LinearRanker, "C", 0.0, "a float in the range (0, inf)", None, "reg"),
    Case(ml.LinearRanker, "kind", "squared", "a str among {'hinge', 'logistic'}", None, "reg"),
    Case(ml.LinearRanker, "max_iter", 0, "an int in the range [1, inf)", None, "reg"),
]

REQUIRED = {  # the constructor arguments without a default
    ml.OneVsRest: lambda: {"estimator": ml.LogisticRegression()},
    ml.OneVsOne: lambda: {"estimator": ml.LogisticRegression()},
    ml.GridSearchCV: lambda: {"estimator": ml.Ridge(), "param_grid": {"alpha": [0.1, 1.0]}, "cv": 3},
    ml.RandomizedSearchCV: lambda: {"estimator": ml.Ridge(), "param_distributions": {"alpha": [0.1, 1.0]},
                                    "n_iter": 2, "cv": 3},
    model_selection.RandomizedSearchCV: lambda: {"estimator": linear_model.Ridge(),
                                                 "param_distributions": {"alpha": [0.1, 1.0]}, "n_iter": 2, "cv": 3},
    multiclass.OneVsRestClassifier: lambda: {"estimator": linear_model.LogisticRegression()},
    multiclass.OneVsOneClassifier: lambda: {"estimator": linear_model.LogisticRegression()},
    model_selection.GridSearchCV: lambda: {"estimator": linear_model.Ridge(), "param_grid": {"alpha": [0.1, 1.0]}, "cv": 3},
}


def _make(cls, **params):
    return cls(**{**REQUIRED.get(cls, dict)(), **params})


def _fit(est, target: str):
    if target == "none":
        return est.fit(X)
    return est.fit(X, Y_CLASS if target == "class" else Y_REG)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_ours_refuses_with_a_message_naming_estimator_parameter_range_and_value(case: Case):
    est = _make(case.ours, **case.base, **{case.param: case.bad})
    with pytest.raises(ml.InvalidParameterError) as info:
        _fit(est, case.target)
    err = info.value
    assert isinstance(err, ValueError) and isinstance(err, TypeError)
    message = str(err)
    assert f"The {case.param!r} parameter of {case.ours.__name__} must be " in message
    assert case.allowed in message, message
    assert f"Got {case.bad!r}" in message, message
    default = inspect.signature(case.ours.__init__).parameters[case.param].default
    if default is not inspect.Parameter.empty:
        assert f"the default is {case.param}={default!r}" in message  # the fix: a value that works
    assert not any(k.endswith("_") for k in vars(est)), "a refused fit must not leave fitted attributes"


@pytest.mark.parametrize("case", [c for c in CASES if c.sk is not None], ids=str)
def test_sklearn_counterpart_refuses_the_same_value(case: Case):
    """The oracle: scikit-learn refuses each of these values too, with the same kind of message."""
    est = _make(case.sk, **case.base, **{case.param: case.bad})
    with pytest.raises(case.sk_error) as info:
        _fit(est, case.target)
    if case.sk_error is SkInvalidParameterError:
        assert re.search(rf"The {case.param!r} parameter of {case.sk.__name__} must be .* Got .* instead", str(info.value))
    else:
        assert case.param in str(info.value)


def test_our_error_is_also_sklearns_when_sklearn_is_loaded():
    """Code written against scikit-learn (``except InvalidParameterError``) catches ours too."""
    with pytest.raises(SkInvalidParameterError):
        ml.Ridge(alpha=-1.0).fit(X, Y_REG)


def _estimator_classes() -> list[type]:
    found, todo = [], [BaseEstimator]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("nablagrad.ml") and not sub.__name__.startswith("_"):
                found.append(sub)
    return sorted(set(found), key=lambda c: c.__name__)


@pytest.mark.parametrize("cls", _estimator_classes(), ids=lambda c: c.__name__)
def test_every_estimator_declares_every_parameter_and_its_defaults_pass(cls):
    """One source of truth: each ``__init__`` argument has constraints, the defaults satisfy them,
    and ``fit`` runs through the validating wrapper."""
    assert set(cls._parameter_constraints) == set(cls._param_names()), cls
    assert getattr(cls.fit, "__fit_context__", False)
    _make(cls)._validate_params()


def test_every_listed_estimator_is_covered_by_a_case():
    covered = {c.ours for c in CASES}
    assert set(_estimator_classes()) <= covered, set(_estimator_classes()) - covered


# --- a failed fit changes nothing ------------------------------------------------------------------


def _snapshot(est) -> dict:
    return {k: (v, copy.deepcopy(v) if isinstance(v, np.ndarray | list | tuple | dict) else None) for k, v in vars(est).items()}


def _assert_unchanged(est, snap: dict, except_param: str | None = None):
    assert set(vars(est)) == set(snap)
    for k, (obj, value) in snap.items():
        if k == except_param:
            continue
        assert vars(est)[k] is obj, f"{k} was replaced"
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(obj, value)
        elif value is not None:
            assert repr(obj) == repr(value), f"{k} was modified in place"


FITTED_THEN_BAD = [c for c in CASES if c.ours not in (ml.GridSearchCV,) and not c.base]
FITTED_THEN_BAD = list({(c.ours, c.param): c for c in FITTED_THEN_BAD}.values())  # one bad value per parameter


@pytest.mark.parametrize("case", FITTED_THEN_BAD, ids=str)
def test_a_refused_fit_leaves_a_fitted_estimator_unchanged(case: Case):
    small = {"max_iter": 20} if case.ours in (ml.MLPClassifier, ml.MLPRegressor) and case.param != "max_iter" else {}
    est = _fit(_make(case.ours, **small), case.target)
    before = est.predict(X) if hasattr(est, "predict") else est.transform(X)
    snap = _snapshot(est)
    good = est.get_params(deep=False)[case.param]
    est.set_params(**{case.param: case.bad})
    with pytest.raises(ml.InvalidParameterError):
        _fit(est, case.target)
    _assert_unchanged(est, snap, except_param=case.param)
    est.set_params(**{case.param: good})  # predict reads some parameters (the kernel) as fit did
    after = est.predict(X) if hasattr(est, "predict") else est.transform(X)
    np.testing.assert_array_equal(before, after)


@pytest.mark.parametrize(
    ("make", "bad_fit", "message"),
    [
        (lambda: ml.LogisticRegression().fit(X, Y_CLASS), lambda e: e.fit(X[:, :2], np.zeros(40)), "at least 2 classes"),
        (lambda: ml.KMeans(3, random_state=0).fit(X), lambda e: e.fit(X[:2, :2]), "n_clusters=3 is more than the 2 samples"),
        (lambda: ml.PCA(2).fit(X), lambda e: e.fit(X[:, :1]), "n_components=2 must be between 1 and"),
        (lambda: ml.Ridge().fit(X, Y_REG), lambda e: e.fit(X[:, :2], np.full(40, np.nan)), "NaN or infinity"),
        (lambda: ml.OneVsRest(ml.LogisticRegression()).fit(X, Y_CLASS),
         lambda e: e.fit(X[:, :2], np.linspace(0, 1, 40)), "continuous"),  # fmt: skip
    ],
)
def test_a_fit_failing_on_the_data_leaves_a_fitted_estimator_unchanged(make, bad_fit, message):
    """Not only bad hyperparameters: a fit that fails after reading the data (n_features_in_,
    classes_ already being reset) restores every attribute."""
    est = make()
    snap = _snapshot(est)
    with pytest.raises(ValueError, match=message):
        bad_fit(est)
    _assert_unchanged(est, snap)
    assert est.n_features_in_ == 3


def test_validate_params_reads_intervals_as_written():
    """Edges: closed/open ends, NaN and ±inf never inside an unbounded interval, bools are not ints."""
    from numbers import Integral, Real

    check = Interval(Real, 0, 1, closed="left")
    assert check.is_satisfied_by(0) and check.is_satisfied_by(0.5) and not check.is_satisfied_by(1)
    assert not check.is_satisfied_by(math.nan) and not check.is_satisfied_by(True)
    assert not Interval(Real, None, None, closed="neither").is_satisfied_by(math.inf)
    assert Interval(Integral, 1, None).is_satisfied_by(np.int32(3)) and not Interval(Integral, 1, None).is_satisfied_by(3.0)
    assert Interval(Real, 0, None).is_satisfied_by(np.float32(0.5))
    with pytest.raises(ValueError, match=r"The 'k' parameter of f must be an int in the range \[1, 3\]\. Got 4 instead\."):
        validate_params({"k": [Interval(Integral, 1, 3, closed="both")]}, {"k": 4}, "f")


def test_numpy_scalars_and_sklearn_spellings_are_accepted():
    ml.Ridge(alpha=np.float32(0.5), max_iter=np.int64(10)).fit(X, Y_REG)
    ml.PCA(n_components=np.float64(0.9)).fit(X)
    ml.MLPClassifier(hidden_layer_sizes=4, activation="logistic", max_iter=5, random_state=0).fit(X, Y_CLASS)
    ml.MLPRegressor(hidden_layer_sizes=np.array([3, 2]), max_iter=5, random_state=0).fit(X, Y_REG)


def test_grid_search_refuses_an_unknown_parameter_before_any_fit():
    calls = []

    class Counting(ml.Ridge):
        def fit(self, X, y):
            calls.append(1)
            return super().fit(X, y)

    with pytest.raises(ValueError, match="Invalid parameter 'alpah' for estimator Counting"):
        ml.GridSearchCV(Counting(), {"alpha": [1.0], "alpah": [2.0]}, cv=2).fit(X, Y_REG)
    assert calls == []


# --- model selection, data ------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "kwargs", "fragment"), [
    ((2.5,), {}, "'n_splits' parameter of KFold must be an int in the range [2, inf). Got 2.5 instead"),
    ((1,), {}, "Got 1 instead"),
    (("5",), {}, "Got '5'"),
    ((3,), {"shuffle": "yes"}, "'shuffle' parameter of KFold must be a bool"),
])  # fmt: skip
@pytest.mark.parametrize("which", ["KFold", "StratifiedKFold"])
def test_kfold_refuses_a_bad_number_of_folds_as_sklearn_does(args, kwargs, fragment, which):
    with pytest.raises((ValueError, TypeError)):
        getattr(model_selection, which)(*args, **kwargs)
    with pytest.raises(ml.InvalidParameterError) as info:
        getattr(ml, which)(*args, **kwargs)
    assert fragment.replace("KFold", which) in str(info.value)


@pytest.mark.parametrize(("y", "sk_message", "fragment"), [
    (np.linspace(0, 1, 40), re.escape("Supported target types are: ('binary', 'multiclass')"),
     "Supported target types are: ('binary', 'multiclass'). Got 'continuous' instead (y holds non-integer values)"),
    (np.r_[np.zeros(39), np.nan], "Input y contains NaN", "Got 'continuous' instead (y holds NaN or infinity)"),
])  # fmt: skip
def test_stratified_kfold_refuses_a_continuous_target_as_sklearn_does(y, sk_message, fragment):
    with pytest.raises(ValueError, match=sk_message):
        list(model_selection.StratifiedKFold(4).split(X, y))
    with pytest.raises(ValueError) as info:
        list(ml.StratifiedKFold(4).split(X, y))
    assert fragment in str(info.value) and "use KFold" in str(info.value)


def test_stratified_kfold_checks_y_against_x_and_the_class_sizes():
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        list(model_selection.StratifiedKFold(4).split(X, Y_CLASS[:10]))
    with pytest.raises(ValueError, match="StratifiedKFold: got 10 label.* for 40 samples"):
        list(ml.StratifiedKFold(4).split(X, Y_CLASS[:10]))
    y = np.array([0, 0, 1, 1, 2, 2])
    with pytest.raises(ValueError, match="cannot be greater than the number of members in each class"):
        list(model_selection.StratifiedKFold(5).split(X[:6], y))
    with pytest.raises(ValueError, match=r"n_splits=5 cannot be greater than the number of members in each class .*has 2"):
        list(ml.StratifiedKFold(5).split(X[:6], y))
    assert len(list(ml.StratifiedKFold(2).split(X[:6], y.reshape(-1, 1)))) == 2  # a column vector is one label per row


@pytest.mark.parametrize(("stratify", "sk_message", "message"), [
    (Y_CLASS[:30], "inconsistent numbers of samples", r"got 30 label\(s\) for 40 samples"),
    (np.r_[np.zeros(39), 1], "least populated classes in y have only 1 member", r"least populated .*\(1\.0\) has only 1 member"),
    (np.linspace(0, 1, 40), "least populated classes in y have only 1 member", "Got 'continuous' instead"),
])  # fmt: skip
def test_train_test_split_checks_stratify(stratify, sk_message, message):
    with pytest.raises(ValueError, match=sk_message):
        model_selection.train_test_split(X, Y_CLASS, stratify=stratify, random_state=0)
    with pytest.raises(ValueError, match=r"train_test_split.*" + message):
        ml.train_test_split(X, Y_CLASS, stratify=stratify, random_state=0)


def test_train_test_split_stratifies_multilabel_rows():
    Y2 = np.column_stack([Y_CLASS, 1 - Y_CLASS])
    Xtr, Xte, ytr, yte = ml.train_test_split(X, Y_CLASS, test_size=0.25, stratify=Y2, random_state=0)
    assert len(Xte) == 10 and abs(yte.mean() - Y_CLASS.mean()) < 0.1


def test_compare_refuses_score_lists_of_different_lengths():
    a, b = np.full(5, 0.1) + 0.01 * np.arange(5), np.full(4, 0.3) + 0.01 * np.arange(4)
    with pytest.raises(ValueError, match="compare: a_errors has 5 scores but b_errors has 4; .*same folds"):
        ml.compare(a, b)
    assert ml.compare(a, np.r_[b, 0.33]).verdict == "A is better"


def test_load_csv_refuses_a_file_with_only_the_label_column(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("0\n1\n1\n")
    with pytest.raises(DataFormatError, match=r"single column.*no feature columns.*label_column=None"):
        load_csv(path)
    with pytest.raises(DataFormatError, match="no feature columns"):
        load_csv(path, label_column=-1)
    np.testing.assert_array_equal(load_csv(path, label_column=None), [[0.0], [1.0], [1.0]])
    (tmp_path / "two.csv").write_text("1,0\n2,1\n")
    Xc, yc = load_csv(tmp_path / "two.csv", label_column=-1)
    assert Xc.shape == (2, 1) and yc.tolist() == [0, 1]


def test_mlp_batch_size_auto_is_min_200_n_as_scikit_learn():
    """scikit-learn's default ``batch_size="auto"`` is accepted: ``min(200, n_samples)``."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((60, 3)), rng.integers(0, 2, 60)
    auto = ml.MLPClassifier(hidden_layer_sizes=(4,), batch_size="auto", max_iter=3, random_state=0).fit(X, y)
    whole = ml.MLPClassifier(hidden_layer_sizes=(4,), batch_size=60, max_iter=3, random_state=0).fit(X, y)
    np.testing.assert_array_equal(auto.loss_curve_, whole.loss_curve_)
    with pytest.raises(ValueError, match="batch_size"):
        ml.MLPClassifier(batch_size="big").fit(X, y)


@pytest.mark.parametrize("test_size", [np.float32(0.2), np.float64(0.3), np.int64(4)])
def test_train_test_split_takes_numpy_sizes_as_scikit_learn(test_size):
    """A NumPy float is a fraction, as the Python float it holds is in scikit-learn (which refuses float32), and a
    NumPy integer a number of rows."""
    from sklearn.model_selection import train_test_split as sk_split

    X, y = np.arange(40.0).reshape(20, 2), np.arange(20) % 2
    ours = ml.train_test_split(X, y, test_size=test_size, random_state=0)
    theirs = sk_split(X, y, test_size=float(test_size) if isinstance(test_size, np.floating) else test_size, random_state=0)
    assert len(ours[1]) == len(theirs[1])
