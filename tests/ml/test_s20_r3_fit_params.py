"""Review s20 r3: ``fit_transform``/``fit_predict`` pass ``sample_weight`` on to ``fit`` (one mechanism, the
transformer mixin's, for every transformer), and "unit weights are no weights" has one home,
``_check_sample_weight(ones_as_none=True)``."""

import numpy as np
import pytest

from nablagrad import ml
from nablagrad.ml.metrics import _check_sample_weight


def _data():
    rng = np.random.default_rng(3)
    X = np.r_[rng.normal(0, 1, (40, 2)), rng.normal(6, 1, (40, 2)), rng.normal((0, 8), 1, (40, 2))]
    w = rng.uniform(0.0, 4.0, len(X))
    w[:20] = 0.0
    return X, w


def test_kmeans_fit_transform_and_fit_predict_use_the_sample_weight():
    X, w = _data()
    fitted = ml.KMeans(3, random_state=0).fit(X, sample_weight=w)
    unweighted = ml.KMeans(3, random_state=0).fit(X)
    assert not np.allclose(fitted.cluster_centers_, unweighted.cluster_centers_)  # the weights matter here
    np.testing.assert_array_equal(ml.KMeans(3, random_state=0).fit_transform(X, sample_weight=w), fitted.transform(X))
    np.testing.assert_array_equal(ml.KMeans(3, random_state=0).fit_predict(X, sample_weight=w), fitted.labels_)


def test_transformer_fit_transform_passes_fit_params_and_refuses_unknown_ones():
    X, _ = _data()
    np.testing.assert_array_equal(ml.PCA(1).fit_transform(X), ml.PCA(1).fit(X).transform(X))
    with pytest.raises(TypeError, match="sample_weight"):  # PCA.fit takes none: refused, not silently dropped
        ml.PCA(1).fit_transform(X, sample_weight=np.ones(len(X)))


def test_unit_weights_come_back_as_none_only_when_asked():
    ones = np.ones(5)
    assert _check_sample_weight(ones, 5, "f", ones_as_none=True) is None
    assert _check_sample_weight(1.0, 5, "f", ones_as_none=True) is None
    np.testing.assert_array_equal(_check_sample_weight(ones, 5, "f"), ones)
    w = np.array([1.0, 2.0, 1.0, 1.0, 1.0])
    np.testing.assert_array_equal(_check_sample_weight(w, 5, "f", ones_as_none=True), w)
    with pytest.raises(ValueError, match="non-negative"):  # checked before the shortcut
        _check_sample_weight(-ones, 5, "f", ones_as_none=True)
