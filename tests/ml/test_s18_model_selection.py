"""ParameterGrid / ParameterSampler, cv_results_'s param_<name> arrays, and our estimators inside
scikit-learn's Pipeline / GridSearchCV (clone, get_params, set_params round trips) — against
scikit-learn 1.9."""

import warnings

import numpy as np
import pytest

skms = pytest.importorskip("sklearn.model_selection")
from scipy import stats  # noqa: E402
from sklearn.base import clone as sk_clone  # noqa: E402
from sklearn.pipeline import Pipeline, make_pipeline  # noqa: E402
from sklearn.preprocessing import PolynomialFeatures, StandardScaler  # noqa: E402

from nablagrad import ml  # noqa: E402

RNG = np.random.default_rng(7)
X = RNG.normal(size=(90, 3))
Y = (X[:, 0] - X[:, 1] + 0.3 * RNG.normal(size=90) > 0).astype(int)
YR = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * RNG.normal(size=90)

GRIDS = [
    {"a": [1, 2, 3], "b": ["x", "y"]},
    [{"kernel": ["rbf"], "gamma": [0.1, 1.0]}, {"kernel": ["poly"], "degree": [2, 3, 4]}],
    [{}, {"C": np.array([0.5, 5.0])}],
    {"z": [None, 1.5], "a": [True]},
]


@pytest.mark.parametrize("grid", GRIDS, ids=range(len(GRIDS)))
def test_parameter_grid_iterates_counts_and_indexes_as_sklearn(grid):
    ours, ref = ml.ParameterGrid(grid), skms.ParameterGrid(grid)
    assert list(ours) == list(ref) and len(ours) == len(ref)
    assert [ours[i] for i in range(len(ours))] == [ref[i] for i in range(len(ref))] == list(ref)
    with pytest.raises(IndexError):
        ours[len(ours)]


@pytest.mark.parametrize("bad", [{"a": 1}, {"a": "abc"}, {"a": []}, [1], {"a": np.zeros((2, 2))}])
def test_parameter_grid_refuses_what_sklearn_refuses(bad):
    with pytest.raises((TypeError, ValueError)) as ref:
        skms.ParameterGrid(bad)
    with pytest.raises(ref.type, match="ParameterGrid"):  # ours is both a TypeError and a ValueError
        ml.ParameterGrid(bad)


@pytest.mark.parametrize("dists,n_iter,seed", [
    ({"C": [0.1, 1, 10], "fit_intercept": [True, False]}, 4, 0),
    ({"C": [0.1, 1, 10], "fit_intercept": [True, False]}, 9, 3),   # more draws than the 6 settings: all of them
    ({"C": stats.loguniform(1e-3, 1e2), "tol": [1e-4, 1e-6]}, 7, 1),
    ([{"C": stats.uniform(0, 2)}, {"C": [5.0], "tol": stats.expon()}], 5, 2),
])  # fmt: skip
def test_parameter_sampler_draws_sklearns_settings(dists, n_iter, seed):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ours = ml.ParameterSampler(dists, n_iter, random_state=seed)
        ref = skms.ParameterSampler(dists, n_iter, random_state=seed)
        assert list(ours) == list(ref) and len(ours) == len(ref)
        assert list(ours) == list(ours)  # an int seed draws the same settings each time
        assert ml.model_selection.sample_parameters(dists, n_iter, seed) == list(ref)  # one source of truth


def test_parameter_sampler_warns_and_refuses():
    with pytest.warns(UserWarning, match="The total space of parameters 2 is smaller than n_iter=5"):
        assert len(list(ml.ParameterSampler({"a": [1, 2]}, 5, random_state=0))) == 2
    with pytest.raises(TypeError, match=r"ParameterSampler: param_distributions\['a'\] must be a non-empty list"):
        ml.ParameterSampler({"a": 1.0}, 3)
    with pytest.raises(ValueError, match="n_iter must be a number of settings >= 0"):
        ml.ParameterSampler({"a": [1]}, -1)


@pytest.mark.parametrize("grid", [
    {"C": [0.1, 1, 10]},                                   # ints and floats: float64
    {"C": [1, 10]},                                        # ints: int64
    {"kernel": ["linear"], "C": [1.0, 2.0], "tol": [1e-3]},  # one value per name
    {"kernel": ["linear", "rbf"], "gamma": ["scale", 0.5]},  # strings, and strings with numbers: object
    [{"C": [0.5, 2.0]}, {"tol": [1e-3], "C": [1.0]}],      # masked where a grid lacks the name
])  # fmt: skip
def test_cv_results_param_arrays_as_sklearn(grid):
    ours = ml.GridSearchCV(ml.KernelSVC(), grid, cv=3).fit(X, Y).cv_results_
    from sklearn.svm import SVC

    ref = skms.GridSearchCV(SVC(), grid, cv=3).fit(X, Y).cv_results_
    keys = [k for k in ref if k.startswith("param_")]
    assert [k for k in ours if k.startswith("param_")] == keys
    for key in keys:
        assert isinstance(ours[key], np.ma.MaskedArray)
        assert ours[key].dtype == ref[key].dtype, key
        np.testing.assert_array_equal(np.ma.getmaskarray(ours[key]), np.ma.getmaskarray(ref[key]))
        assert ours[key].compressed().tolist() == ref[key].compressed().tolist()


def test_randomized_search_param_arrays_are_numeric():
    dists = {"C": stats.loguniform(1e-2, 1e2)}
    ours = ml.RandomizedSearchCV(ml.Ridge(), {"alpha": dists["C"]}, n_iter=4, cv=3, random_state=0).fit(X, YR)
    assert ours.cv_results_["param_alpha"].dtype == np.float64


@pytest.mark.parametrize("est", [ml.Ridge(alpha=2.0), ml.LogisticRegression(C=0.5), ml.Lasso(alpha=0.01)])
def test_clone_and_params_round_trip_inside_sklearn_pipeline(est):
    pipe = make_pipeline(StandardScaler(), PolynomialFeatures(2), est)
    step = pipe.steps[-1][0]
    params = pipe.get_params(deep=True)
    assert all(params[f"{step}__{k}"] == v for k, v in est.get_params().items())
    twin = sk_clone(pipe)
    assert twin.steps[-1][1] is not est and twin.get_params()[f"{step}__{list(est.get_params())[0]}"] == \
        params[f"{step}__{list(est.get_params())[0]}"]  # fmt: skip
    name = "alpha" if "alpha" in est.get_params() else "C"
    twin.set_params(**{f"{step}__{name}": 0.25})
    assert twin.steps[-1][1].get_params()[name] == 0.25 and est.get_params()[name] != 0.25
    y = Y if name == "C" else YR
    fitted = twin.fit(X, y)
    assert fitted.score(X, y) == pytest.approx(twin.steps[-1][1].score(fitted[:-1].transform(X), y))
    again = ml.clone(pipe)  # our clone of scikit-learn's Pipeline: deep, unfitted, the same parameters
    assert again.get_params(deep=False)["steps"][-1][1] is not est
    assert {k: v for k, v in again.get_params().items() if k.startswith(f"{step}__")} == \
        {k: v for k, v in params.items() if k.startswith(f"{step}__")}  # fmt: skip


def test_sklearn_grid_search_over_our_estimator_in_a_pipeline_equals_ours():
    pipe = Pipeline([("scale", StandardScaler()), ("clf", ml.LogisticRegression())])
    grid = {"clf__C": [0.01, 0.1, 1.0], "clf__fit_intercept": [True, False]}
    sk_search = skms.GridSearchCV(pipe, grid, cv=4).fit(X, Y)
    our_search = ml.GridSearchCV(pipe, grid, cv=4).fit(X, Y)
    assert our_search.best_params_ == sk_search.best_params_
    np.testing.assert_allclose(our_search.cv_results_["mean_test_score"], sk_search.cv_results_["mean_test_score"])
    assert our_search.cv_results_["param_clf__C"].dtype == sk_search.cv_results_["param_clf__C"].dtype
    best = sk_search.best_estimator_.named_steps["clf"]
    assert isinstance(best, ml.LogisticRegression) and best.C == sk_search.best_params_["clf__C"]
    np.testing.assert_array_equal(our_search.predict(X), sk_search.predict(X))


def test_sklearn_grid_search_with_our_scorers_and_our_search_inside_sklearn_clone():
    from nablagrad.ml import metrics as M

    search = ml.GridSearchCV(ml.Ridge(), {"alpha": [0.1, 10.0]}, cv=3, scoring=M.make_scorer(M.mean_squared_error,
                                                                                              greater_is_better=False))
    twin = sk_clone(search)
    assert twin.get_params()["estimator__alpha"] == 1.0 and repr(twin.scoring) == repr(search.scoring)
    twin.set_params(estimator__alpha=3.0, cv=4)
    assert twin.estimator.alpha == 3.0 and search.estimator.alpha == 1.0 and twin.cv == 4
    ref = skms.GridSearchCV(ml.Ridge(), {"alpha": [0.1, 10.0]}, cv=4, scoring="neg_mean_squared_error").fit(X, YR)
    twin.fit(X, YR)
    np.testing.assert_allclose(twin.cv_results_["mean_test_score"], ref.cv_results_["mean_test_score"], rtol=1e-10)
