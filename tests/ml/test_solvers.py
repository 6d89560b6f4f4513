"""The L-BFGS of the classical estimators: its stopping rules and the warning when it cannot go on."""

import numpy as np
import pytest
from scipy.optimize import minimize

from nablagrad.ml._solvers import lbfgs
from nablagrad.ml.base import ConvergenceWarning


def _rosenbrock(x):
    f = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
    g = np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)])
    return f, g


def test_reaches_the_minimum_scipy_reaches():
    x, _ = lbfgs(_rosenbrock, np.array([-1.2, 1.0]), max_iter=500, tol=1e-10)
    ref = minimize(_rosenbrock, [-1.2, 1.0], jac=True, method="L-BFGS-B", options={"gtol": 1e-10, "ftol": 0}).x
    np.testing.assert_allclose(x, ref, atol=1e-5)
    np.testing.assert_allclose(x, [1.0, 1.0], atol=1e-5)


def test_a_line_search_that_finds_no_decrease_warns_with_the_gradient():
    """A gradient of the wrong sign: no step along −H g lowers f, so it stops and says so."""
    with pytest.warns(ConvergenceWarning, match="line search found no decrease"):
        x, it = lbfgs(lambda x: (float(x @ x), -2 * x), np.array([1.0, 1.0]))
    np.testing.assert_array_equal(x, [1.0, 1.0])
    assert it == 1


def test_running_out_of_iterations_warns():
    with pytest.warns(ConvergenceWarning, match="increase max_iter"):
        lbfgs(_rosenbrock, np.array([-1.2, 1.0]), max_iter=3, tol=1e-12)
