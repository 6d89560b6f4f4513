"""``ml.metrics.log_loss`` against scikit-learn 1.9's: probabilities used as given (a warning, no
renormalisation, where rows do not sum to one), clipped at the dtype's machine epsilon, binary 1-D
predictions, ``labels``, ``sample_weight``, ``normalize`` and the refusals."""

import warnings

import numpy as np
import pytest

from nablagrad.ml import metrics as M

skm = pytest.importorskip("sklearn.metrics")

P3 = np.array([[0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.1, 0.1, 0.8], [0.3, 0.3, 0.4]])
CASES = {
    "binary 1-D": ([0, 1, 1, 0], [0.2, 0.6, 0.9, 0.4], {}),
    "binary column": (np.array([[0], [1], [1], [0]]), np.array([[0.2], [0.6], [0.9], [0.4]]), {}),
    "strings": (["spam", "ham", "ham", "spam"], [[0.1, 0.9], [0.9, 0.1], [0.8, 0.2], [0.35, 0.65]], {}),
    "multiclass": ([0, 1, 2, 2], P3, {}),
    "labels naming a class y_true lacks": ([0, 1, 1, 0], P3, {"labels": [0, 1, 2]}),
    "weights": ([0, 1, 2, 2], P3, {"sample_weight": [1, 2, 3, 0.5]}),
    "sum": ([0, 1, 2, 2], P3, {"normalize": False}),
    "weighted sum": ([0, 1, 1, 0], [0.2, 0.6, 0.9, 0.4], {"normalize": False, "sample_weight": [1, 2, 3, 4]}),
    "certain and wrong, float64": ([0, 1], np.array([1.0, 0.0]), {}),
    "certain and wrong, float32": ([0, 1], np.array([1.0, 0.0], np.float32), {}),
    "certain and right, float32": ([0, 1], np.array([0.0, 1.0], np.float32), {}),
    "integer probabilities": ([0, 1, 1], [0, 1, 1], {}),
    "indicator matrix": (np.eye(3, dtype=int)[[0, 1, 2, 2]], P3, {}),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_log_loss_equals_sklearn(case):
    y, p, kw = CASES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every case here sums to one: neither warns
        assert M.log_loss(y, p, **kw) == pytest.approx(skm.log_loss(y, p, **kw), rel=1e-6, abs=1e-12)


def test_rows_that_do_not_sum_to_one_are_used_as_given_with_a_warning_as_sklearn():
    y, p = [0, 1, 1], [[0.2, 0.2], [0.5, 0.5], [0.1, 0.9]]
    with pytest.warns(UserWarning, match="do not sum to one"):
        theirs = skm.log_loss(y, p)
    with pytest.warns(UserWarning, match="log_loss: the y_proba values do not sum to one; they are used as given"):
        ours = M.log_loss(y, p)
    assert ours == pytest.approx(theirs, rel=1e-12)
    assert ours != pytest.approx(M.log_loss(y, [[0.5, 0.5], [0.5, 0.5], [0.1, 0.9]]))  # not renormalised


def test_unsorted_labels_warn_and_are_used_sorted_as_sklearn():
    y, p = [0, 1, 1], [[0.3, 0.7], [0.5, 0.5], [0.1, 0.9]]
    with pytest.warns(UserWarning, match="assumes labels are ordered"):
        theirs = skm.log_loss(y, p, labels=[1, 0])
    with pytest.warns(UserWarning, match=r"labels passed were \[1, 0\].*pass labels=\[0, 1\]"):
        ours = M.log_loss(y, p, labels=[1, 0])
    assert ours == pytest.approx(theirs, rel=1e-12)


REFUSED = {
    "above one": (([0, 1], [1.2, 0.3]), {}, "greater than 1: 1.2"),
    "below zero": (([0, 1], [-0.1, 0.3]), {}, "lower than 0: -0.1"),
    "one class": (([0, 0], [0.3, 0.3]), {}, r"only one label \(0\)"),
    "one label": (([0, 0], [0.3, 0.3]), {"labels": [0]}, "at least two labels"),
    "columns and classes differ": (([0, 1, 2], [[0.3, 0.7], [0.5, 0.5], [0.1, 0.9]]), {}, "2 probability columns but 3"),
    "columns and labels differ": (([0, 1, 1], [[0.3, 0.7], [0.5, 0.5], [0.1, 0.9]]), {"labels": [0, 1, 2]},
                                  "2 probability columns but 3 classes in labels"),
    "unknown label": (([0, 1, 3], np.full((3, 3), 1 / 3)), {"labels": [0, 1, 2]}, r"values \{3\} not belonging"),
    "weights of another length": (([0, 1], [0.3, 0.4]), {"sample_weight": [1, 2, 3]}, "sample_weight has shape"),
    "NaN": (([0, 1], [0.3, np.nan]), {}, "NaN"),
}  # fmt: skip


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_log_loss_refuses_what_sklearn_refuses(case):
    args, kw, message = REFUSED[case]
    with pytest.raises(ValueError):
        skm.log_loss(*args, **kw)
    with pytest.raises(ValueError, match=f"log_loss: .*{message}"):
        M.log_loss(*args, **kw)


def test_log_loss_takes_sklearns_keywords_only():
    with pytest.raises(TypeError):
        skm.log_loss([0, 1], [0.3, 0.4], eps=1e-7)  # removed in scikit-learn 1.5: clipping is the dtype's epsilon
    with pytest.raises(TypeError):
        M.log_loss([0, 1], [0.3, 0.4], eps=1e-7)
    assert M.log_loss(y_true=[0, 1], y_proba=[0.3, 0.4]) == pytest.approx(skm.log_loss(y_true=[0, 1], y_proba=[0.3, 0.4]))
