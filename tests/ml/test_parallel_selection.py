"""n_jobs in model selection: joblib processes and a Dask cluster give exactly the serial results."""

import sys

import numpy as np
import pytest

from nablagrad import ml


def _data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((90, 4))
    y = (X[:, 0] + 0.5 * X[:, 1] + 0.3 * rng.standard_normal(90) > 0).astype(np.int64)
    return X, y


def _sample(rng):
    X = rng.uniform(0, 1, (20, 1))
    return X, np.sin(2 * np.pi * X[:, 0]) + rng.normal(0, 0.3, 20)


def _truth(X):
    return np.sin(2 * np.pi * X[:, 0])


def _ridge():
    return ml.Ridge(alpha=0.1)


def _selection(n_jobs):
    """cross_val_score, a grid search, a bootstrap interval and a bias–variance run, all with n_jobs."""
    X, y = _data()
    cv = ml.cross_val_score(ml.Perceptron(max_iter=5, random_state=0), X, y, cv=5, n_jobs=n_jobs)
    gs = ml.GridSearchCV(ml.LogisticRegression(), {"C": [0.01, 1.0, 100.0]}, cv=3, n_jobs=n_jobs).fit(X, y)
    ci = ml.confidence_interval(cv, method="bootstrap", n_boot=3000, random_state=7, n_jobs=n_jobs)
    bv = ml.bias_variance_decomposition(_ridge, _sample, _truth, np.linspace(0, 1, 9).reshape(-1, 1), n_rounds=12,
                                        n_jobs=n_jobs)  # fmt: skip
    grid = list(np.column_stack([gs.cv_results_[f"split{k}_test_score"] for k in range(gs.n_splits_)]))  # per candidate
    return cv, grid, gs.best_params_, (ci.low, ci.high), (bv.bias2, bv.variance)


def _assert_identical(a, b):
    cv_a, grid_a, best_a, ci_a, bv_a = a
    cv_b, grid_b, best_b, ci_b, bv_b = b
    np.testing.assert_array_equal(cv_a, cv_b)
    for s, t in zip(grid_a, grid_b):
        np.testing.assert_array_equal(s, t)
    assert best_a == best_b and ci_a == ci_b and bv_a == bv_b


@pytest.fixture(scope="module")
def serial():
    return _selection(None)


def test_serial_results_follow_their_definitions(serial):
    cv, grid, best, ci, bv = serial
    X, y = _data()
    folds = ml.StratifiedKFold(5).split(X, y)
    expect = [ml.Perceptron(max_iter=5, random_state=0).fit(X[tr], y[tr]).score(X[te], y[te]) for tr, te in folds]
    np.testing.assert_array_equal(cv, expect)
    assert best == {"C": max([0.01, 1.0, 100.0], key=lambda c: np.mean(grid[[0.01, 1.0, 100.0].index(c)]))}
    rng = np.random.default_rng(0)  # bias-variance: training sets drawn in order from random_state=0
    Xt = np.linspace(0, 1, 9).reshape(-1, 1)
    preds = np.array([_ridge().fit(*_sample(rng)).predict(Xt) for _ in range(12)])
    assert bv == (float(np.mean((preds.mean(0) - _truth(Xt)) ** 2)), float(np.mean(preds.var(0))))


def test_bootstrap_interval_agrees_with_the_normal_one_on_many_scores():
    x = np.random.default_rng(3).normal(0.8, 0.05, 400)
    normal, boot = ml.confidence_interval(x), ml.confidence_interval(x, method="bootstrap", n_boot=4000, n_jobs=2)
    assert boot.low == pytest.approx(normal.low, abs=0.1 * normal.se * 1.96 + 1e-3)
    assert boot.high == pytest.approx(normal.high, abs=0.1 * normal.se * 1.96 + 1e-3)


def test_joblib_processes_give_the_serial_results(serial):
    pytest.importorskip("joblib", reason="the 'distributed' extra (joblib) is not installed")
    _assert_identical(_selection(2), serial)


def test_a_dask_cluster_gives_the_serial_results(serial):
    pytest.importorskip("dask.distributed", reason="the 'distributed' extra (dask[distributed]) is not installed")
    import joblib
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, Client(cluster):
        with joblib.parallel_config(backend="dask"):
            got = _selection(-1)
    _assert_identical(got, serial)


@pytest.mark.parametrize("bad", [0, 2.0, "2", True])
def test_bad_n_jobs_is_named(bad):
    X, y = _data()
    with pytest.raises(ValueError, match=r"cross_val_score: n_jobs must be None, a positive integer or -1"):
        ml.cross_val_score(ml.Ridge(), X, y.astype(float), n_jobs=bad)


def test_without_joblib_n_jobs_names_the_extra_and_serial_still_works(monkeypatch, serial):
    monkeypatch.setitem(sys.modules, "joblib", None)  # import joblib now raises ImportError
    X, y = _data()
    with pytest.raises(ImportError, match=r"pip install 'nablagrad\[distributed\]'"):
        ml.cross_val_score(ml.Ridge(), X, y.astype(float), n_jobs=2)
    _assert_identical(_selection(None), serial)
