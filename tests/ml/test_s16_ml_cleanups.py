"""Review clean-ups kept behaviour: sample weights are converted (and, for an estimator, copied)
once, and the fitted models are the same whatever form the weights come in; cross-validation's
two class-target checks are one rule, scikit-learn's ``type_of_target``."""

import numpy as np
import pytest
from sklearn.utils.multiclass import type_of_target

from nablagrad import ml
from nablagrad.ml.metrics import _check_sample_weight
from nablagrad.ml.model_selection import _class_labels, _is_class_target

RNG = np.random.default_rng(11)
X = RNG.standard_normal((80, 4))
Y_REG = X @ [1.0, -1.0, 0.5, 0.0] + 0.1 * RNG.standard_normal(80)
Y_CLS = (X[:, 0] + 0.3 * RNG.standard_normal(80) > 0).astype(int)
COUNTS = RNG.integers(0, 4, 80)

ESTIMATORS = [
    (ml.LinearRegression(), Y_REG),
    (ml.Ridge(alpha=2.0), Y_REG),
    (ml.Lasso(alpha=0.05), Y_REG),
    (ml.LogisticRegression(), Y_CLS),
    (ml.SoftmaxRegression(), Y_CLS),
    (ml.LinearSVC(), Y_CLS),
]


@pytest.mark.parametrize(("est", "y"), ESTIMATORS, ids=lambda e: type(e).__name__ if hasattr(e, "fit") else "")
def test_the_fit_is_the_same_whatever_form_the_weights_come_in_and_theirs_is_untouched(est, y):
    forms = [COUNTS.astype(np.float64), COUNTS, COUNTS.tolist(), COUNTS.astype(np.float32)]
    fits = []
    for w in forms:
        before = np.array(w, copy=True)
        fits.append(ml.clone(est).fit(X, y, sample_weight=w))
        np.testing.assert_array_equal(w, before)  # the caller's weights are never written
    for other in fits[1:]:
        np.testing.assert_array_equal(other.coef_, fits[0].coef_)
        np.testing.assert_array_equal(other.intercept_, fits[0].intercept_)
    assert not any(isinstance(v, np.ndarray) and v.shape == (80,) for v in vars(fits[0]).values())  # weights not kept


def test_weights_are_converted_at_most_once():
    w = RNG.uniform(0, 1, 10)
    assert _check_sample_weight(w, 10, "f") is w  # float64 already: as given, for a metric that only reads it
    owned = _check_sample_weight(w, 10, "f", copy=True)
    assert not np.shares_memory(owned, w) and np.array_equal(owned, w)  # an estimator's own copy
    converted = _check_sample_weight(np.arange(10), 10, "f", copy=True)
    assert converted.dtype == np.float64 and converted.flags.owndata and converted.flags.writeable
    np.testing.assert_array_equal(_check_sample_weight(2.0, 3, "f", copy=True), [2.0, 2.0, 2.0])


TARGETS = {
    "binary ints": np.array([0, 1, 1, 0]),
    "multiclass strings": np.array(["a", "b", "c", "a"]),
    "whole floats": np.array([0.0, 2.0, 1.0, 2.0]),
    "fractional floats": np.array([0.5, 1.0, 2.0, 1.0]),
    "a column vector": np.array([[1], [2], [2], [1]]),
    "bools": np.array([True, False, True, True]),
    "object strings": np.array(["x", "y", "y"], dtype=object),
}


@pytest.mark.parametrize("name", TARGETS)
def test_cross_validation_reads_class_targets_as_type_of_target(name):
    y = TARGETS[name]
    is_class = type_of_target(y) in ("binary", "multiclass")
    assert _is_class_target(y) == is_class
    if is_class:
        assert len(_class_labels(y, len(y), "f")) == len(y)
    else:
        with pytest.raises(ValueError, match="Got 'continuous' instead"):
            _class_labels(y, len(y), "f")


@pytest.mark.parametrize("bad", [np.array([0.0, np.nan, 1.0, 1.0]), np.array([0.0, np.inf, 1.0, 1.0])])
def test_nan_and_infinity_are_not_class_labels(bad):
    assert not _is_class_target(bad)
    with pytest.raises(ValueError, match="y holds NaN or infinity"):
        _class_labels(bad, len(bad), "StratifiedKFold")
