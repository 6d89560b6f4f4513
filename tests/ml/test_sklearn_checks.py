"""Every estimator through scikit-learn's own ``parametrize_with_checks``."""

import pytest
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


_ = pytest
