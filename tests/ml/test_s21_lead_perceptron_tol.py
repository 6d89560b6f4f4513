"""Perceptron's stopping rule is scikit-learn's (``tol``, ``n_iter_no_change``): without shuffling the fit is
scikit-learn's step for step — the same epochs, the same weights — on data no line separates."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from nablagrad import ml
from nablagrad.data import make_moons

sklearn_linear = pytest.importorskip("sklearn.linear_model")
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _data(kind: str):
    if kind == "moons":
        return make_moons(300, noise=0.25, seed=3)
    rng = np.random.default_rng(4)
    X = rng.standard_normal((150, 4))
    return X, np.argmax(X @ rng.standard_normal((4, 3)) + 0.5 * rng.standard_normal((150, 3)), axis=1)


@pytest.mark.parametrize("kind", ["moons", "three_classes"])
@pytest.mark.parametrize(("alpha", "tol", "patience"), [(0.0, 1e-3, 5), (1e-3, 1e-3, 5), (0.0, 1e-2, 2), (0.0, None, 5)])
def test_epochs_and_weights_equal_scikit_learns_without_shuffling(kind, alpha, tol, patience):
    X, y = _data(kind)
    ours = ml.Perceptron(alpha=alpha, tol=tol, n_iter_no_change=patience, shuffle=False, max_iter=50)
    theirs = sklearn_linear.Perceptron(penalty="l2" if alpha else None, alpha=alpha or 1e-4, tol=tol,
                                       n_iter_no_change=patience, shuffle=False, max_iter=50)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours.fit(X, y)
        theirs.fit(X, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=1e-12, atol=1e-12)
    if tol is not None:  # (with tol=None ours stops after an epoch without mistakes; scikit-learn runs on)
        assert ours.n_iter_ == theirs.n_iter_


def test_reaching_max_iter_warns_as_scikit_learn():
    X, y = _data("moons")
    with pytest.warns(ml.ConvergenceWarning, match="max_iter"):
        ml.Perceptron(max_iter=2, tol=1e-3).fit(X, y)
    with pytest.warns(Warning) as theirs:
        sklearn_linear.Perceptron(max_iter=2, tol=1e-3).fit(X, y)
    assert any("ConvergenceWarning" in type(w.message).__name__ for w in theirs)


def test_reaching_max_iter_warns_once_per_fit_at_the_callers_line_as_scikit_learn():
    X, y = _data("three_classes")  # three one-vs-rest models, none converged in 2 epochs: one warning
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        ml.Perceptron(max_iter=2, tol=1e-3).fit(X, y)
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        sklearn_linear.Perceptron(max_iter=2, tol=1e-3).fit(X, y)
    ours = [w for w in ours if issubclass(w.category, ml.ConvergenceWarning)]
    assert len(ours) == sum("ConvergenceWarning" in w.category.__name__ for w in theirs) == 1
    assert ours[0].filename == __file__


@pytest.mark.parametrize("bad", [{"tol": "small"}, {"n_iter_no_change": 0}])
def test_bad_stopping_parameters_are_refused_as_scikit_learn(bad):
    X, y = _data("moons")
    with pytest.raises(ValueError):
        ml.Perceptron(**bad).fit(X, y)
    with pytest.raises(ValueError):
        sklearn_linear.Perceptron(**bad).fit(X, y)
