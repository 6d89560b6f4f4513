"""The configurations this round added, through scikit-learn's own ``parametrize_with_checks``:
LinearSVC without intercept (the interior point without the equality constraint), OneVsRest over
a base with only probabilities and over one with only scores, and a multinomial
LogisticRegression fitted with a tight tolerance."""

from sklearn.naive_bayes import GaussianNB
from sklearn.utils.estimator_checks import parametrize_with_checks

from nablagrad.ml import LinearSVC, LogisticRegression, OneVsRest

ESTIMATORS = [
    LinearSVC(fit_intercept=False),
    LinearSVC(C=0.1, tol=1e-6),
    OneVsRest(GaussianNB()),
    OneVsRest(LinearSVC()),
    LogisticRegression(C=0.5, tol=1e-8),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
