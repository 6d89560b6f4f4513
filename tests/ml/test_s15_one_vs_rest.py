"""OneVsRest as scikit-learn's OneVsRestClassifier: ``predict_proba`` (each classifier's
probability, normalised per row), ``decision_function``, prediction with a base estimator that
only has probabilities, one classifier for two classes, and the methods the base estimator lacks
missing (``hasattr`` is False, a call says why)."""

import numpy as np
import pytest
from sklearn import linear_model as skl
from sklearn import multiclass, svm
from sklearn.datasets import make_classification
from sklearn.naive_bayes import GaussianNB

from nablagrad import ml


def _data(k, seed=0):
    return make_classification(150, 5, n_informative=4, n_redundant=0, n_classes=k, n_clusters_per_class=1,
                               random_state=seed)  # fmt: skip


@pytest.mark.parametrize("k", [2, 3, 4])
def test_probabilities_and_scores_match_scikit_learn(k):
    X, y = _data(k)
    ours = ml.OneVsRest(ml.LogisticRegression(tol=1e-10)).fit(X, y)
    ref = multiclass.OneVsRestClassifier(skl.LogisticRegression(tol=1e-10)).fit(X, y)
    assert len(ours.estimators_) == len(ref.estimators_) == (1 if k == 2 else k)
    P = ours.predict_proba(X)
    assert P.shape == (len(X), k)
    np.testing.assert_allclose(P.sum(1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(P, ref.predict_proba(X), atol=1e-6)
    np.testing.assert_allclose(ours.decision_function(X), ref.decision_function(X), atol=1e-5)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))


@pytest.mark.parametrize("k", [2, 3])
def test_a_base_with_probabilities_only(k):
    """GaussianNB has predict_proba and no decision_function: two classes are split at 0.5."""
    X, y = _data(k, seed=1)
    ours = ml.OneVsRest(GaussianNB()).fit(X, y)
    ref = multiclass.OneVsRestClassifier(GaussianNB()).fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), rtol=1e-10)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    assert not hasattr(ours, "decision_function") and not hasattr(ref, "decision_function")
    with pytest.raises(AttributeError, match="GaussianNB has no decision_function"):
        ours.decision_function(X)


def test_a_base_without_probabilities_has_no_predict_proba():
    X, y = _data(3)
    ours = ml.OneVsRest(ml.LinearSVC())
    ref = multiclass.OneVsRestClassifier(svm.LinearSVC())
    assert not hasattr(ours, "predict_proba") and not hasattr(ref, "predict_proba")  # before fit too
    ours.fit(X, y)
    ref.fit(X, y)
    assert not hasattr(ours, "predict_proba") and not hasattr(ref, "predict_proba")
    with pytest.raises(AttributeError, match="LinearSVC has no predict_proba; use decision_function"):
        ours.predict_proba(X)
    assert ours.decision_function(X).shape == ref.decision_function(X).shape == (len(X), 3)


def test_rows_whose_probabilities_are_all_zero_stay_zero():
    """scikit-learn divides by the row sum only where it is not 0."""

    class Never(GaussianNB):
        def predict_proba(self, X):
            return np.column_stack([np.ones(len(X)), np.zeros(len(X))])

    X, y = _data(3)
    ours = ml.OneVsRest(Never()).fit(X, y)
    ref = multiclass.OneVsRestClassifier(Never()).fit(X, y)
    np.testing.assert_array_equal(ours.predict_proba(X), ref.predict_proba(X))
