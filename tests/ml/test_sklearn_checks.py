"""Every estimator through scikit-learn's own ``parametrize_with_checks``."""

import numpy as np
import pytest
from sklearn.utils import check_array as sk_check_array
from sklearn.utils.estimator_checks import parametrize_with_checks

from nablagrad.ml import (
    PCA,
    KernelSVC,
    KMeans,
    Lasso,
    LinearRegression,
    LinearSVC,
    LogisticRegression,
    MLPClassifier,
    MLPRegressor,
    OneVsOne,
    OneVsRest,
    Perceptron,
    Ridge,
    SoftmaxRegression,
)

ESTIMATORS = [
    LinearRegression(),
    LinearRegression(solver="normal"),
    LinearRegression(solver="gd", learning_rate=0.05, max_iter=300),
    Ridge(),
    Lasso(alpha=0.01),
    Perceptron(random_state=0),
    LinearSVC(),
    KernelSVC(),
    LogisticRegression(),
    SoftmaxRegression(),
    OneVsRest(LogisticRegression()),
    OneVsOne(LogisticRegression()),
    PCA(),
    KMeans(random_state=0),
    MLPClassifier(random_state=0),
    MLPRegressor(random_state=0),
]

EXPECTED_FAILURES: dict = {}


def expected_failed_checks(estimator):
    return EXPECTED_FAILURES.get(type(estimator).__name__, {})


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    ("X", "finite"),
    [
        ([[1e308, 1e308]], True),
        ([[3, 4]], True),
        ([[1.0, np.nan]], False),
        ([[np.inf, 1.0]], False),
        ([[1e308, np.inf, -np.inf]], False),
        ([[-np.inf, 2.0]], False),
    ],
)
def test_check_array_refuses_what_sklearn_refuses(X, finite):
    """Finite data whose sum overflows passes (the finite-sum shortcut falls back to the elementwise
    test); NaN and ±inf are refused — as scikit-learn's ``check_array``."""
    from nablagrad.ml.base import check_array  # noqa: PLC0415

    if finite:
        np.testing.assert_array_equal(check_array(X), sk_check_array(X))
        return
    with pytest.raises(ValueError, match="NaN or infinity"):
        check_array(X)
    with pytest.raises(ValueError, match="NaN|infinity"):
        sk_check_array(X)
