"""roc_auc_score against scikit-learn 1.9 (the oracle) where it used to differ: ``average="samples"``
on multilabel targets (with weights and ``max_fpr``), and a label column (or a binary ``y_true``)
holding one class, which scikit-learn scores NaN with an ``UndefinedMetricWarning`` instead of a
silent NaN or an error; averages refused per multiclass strategy as scikit-learn refuses them."""

import warnings

import numpy as np
import pytest

skm = pytest.importorskip("sklearn.metrics")
from sklearn.exceptions import UndefinedMetricWarning  # noqa: E402

from nablagrad.ml import metrics as M  # noqa: E402

RNG = np.random.default_rng(1818)


def _run(f, *args, **kwargs):
    """``(value, [warning categories])`` of one call, every warning recorded."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = f(*args, **kwargs)
    return value, [w.category for w in caught if issubclass(w.category, UndefinedMetricWarning)]


def _multilabel(rng: np.random.Generator, n: int, k: int):
    """A 0/1 (n, k) target where some rows hold one class (all 1 or all 0) and scores with ties."""
    Y = (rng.random((n, k)) < 0.4).astype(int)
    Y[0], Y[1] = 1, 0
    return Y, rng.random((n, k)).round(1)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("max_fpr", [None, 0.5])
def test_average_samples_on_multilabel_input_equals_sklearn(seed, weighted, max_fpr):
    rng = np.random.default_rng(seed)
    Y, S = _multilabel(rng, 30, 4)
    w = rng.uniform(0, 2, len(Y)) if weighted else None
    if weighted:
        w[::5] = 0
    ours, our_warn = _run(M.roc_auc_score, Y, S, average="samples", sample_weight=w, max_fpr=max_fpr)
    theirs, their_warn = _run(skm.roc_auc_score, Y, S, average="samples", sample_weight=w, max_fpr=max_fpr)
    assert ours == pytest.approx(theirs, rel=1e-12, nan_ok=True)
    assert len(our_warn) == len(their_warn)  # one per row of a single class


def test_the_issue_example_average_samples():
    Y, S = np.eye(3)[[0, 1, 2, 0]], np.random.default_rng(0).random((4, 3))
    assert M.roc_auc_score(Y, S, average="samples") == pytest.approx(skm.roc_auc_score(Y, S, average="samples"), rel=1e-12)


def test_average_samples_is_ignored_on_a_binary_target_as_sklearn():
    y, s = RNG.integers(0, 2, 40), RNG.random(40)
    assert M.roc_auc_score(y, s, average="samples") == pytest.approx(skm.roc_auc_score(y, s, average="samples"), rel=1e-12)


@pytest.mark.parametrize("multi_class", ["ovr", "ovo"])
def test_average_samples_is_refused_on_multiclass_as_sklearn(multi_class):
    y, P = np.arange(9) % 3, RNG.dirichlet(np.ones(3), 9)
    with pytest.raises(ValueError, match="average"):
        skm.roc_auc_score(y, P, multi_class=multi_class, average="samples")
    with pytest.raises(ValueError, match=r"average=.samples. is not available with multi_class=.*multilabel"):
        M.roc_auc_score(y, P, multi_class=multi_class, average="samples")


def test_ovo_with_average_none_is_not_implemented_as_sklearn():
    y, P = np.arange(9) % 3, RNG.dirichlet(np.ones(3), 9)
    with pytest.raises(NotImplementedError):
        skm.roc_auc_score(y, P, multi_class="ovo", average=None)
    with pytest.raises(NotImplementedError, match="average=None is not implemented for multi_class='ovo'"):
        M.roc_auc_score(y, P, multi_class="ovo", average=None)
    with pytest.raises(ValueError):  # still a ValueError, as every other bad argument
        M.roc_auc_score(y, P, multi_class="ovo", average=None)


ONE_CLASS = [
    (([[0, 1], [0, 0]], [[0.1, 0.2], [0.3, 0.4]]), {}),  # the issue's example: column 0 has no positive
    (([[1, 1], [1, 0], [1, 1]], [[0.1, 0.2], [0.3, 0.4], [0.5, 0.1]]), {}),  # column 0 has no negative
    (([[1, 1], [1, 1]], [[0.1, 0.2], [0.3, 0.4]]), {}),  # both columns one class
    (([[0, 0], [0, 0]], [[0.1, 0.2], [0.3, 0.4]]), {}),  # no support at all: weighted is 0 before any column
    (([[0, 1], [1, 0], [1, 1]], [[0.1, 0.2], [0.3, 0.4], [0.5, 0.5]]), {"sample_weight": [1, 0, 0]}),  # weight-0 sides
    (([[0, 1], [0, 0], [1, 1]], [[0.1, 0.2], [0.3, 0.4], [0.5, 0.5]]), {"max_fpr": 0.5}),
    (([1, 1, 1], [0.1, 0.2, 0.3]), {}),  # binary y_true of one class: NaN and a warning, not an error
    (([0, 0, 0], [0.1, 0.2, 0.3]), {}),
    (([0, 1, 1], [0.1, 0.2, 0.3]), {"sample_weight": [0, 1, 1]}),  # the only negative has weight 0
]


@pytest.mark.parametrize("average", ["macro", "weighted", "micro", "samples", None])
@pytest.mark.parametrize("case", range(len(ONE_CLASS)))
def test_a_single_class_scores_nan_with_sklearns_warning(case, average):
    (y, s), kwargs = ONE_CLASS[case]
    theirs, their_warn = _run(skm.roc_auc_score, y, s, average=average, **kwargs)
    ours, our_warn = _run(M.roc_auc_score, y, s, average=average, **kwargs)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)  # NaN where scikit-learn has NaN
    assert len(our_warn) == len(their_warn)  # a warning per undefined column (row), none elsewhere


def test_the_issue_example_warns_undefined_metric_with_the_reason():
    with pytest.warns(UndefinedMetricWarning, match="Only one class is present in y_true"):
        scores = M.roc_auc_score([[0, 1], [0, 0]], [[0.1, 0.2], [0.3, 0.4]], average=None)
    assert np.isnan(scores[0]) and scores[1] == 0.0
    with pytest.warns(M.UndefinedMetricWarning):  # also ours, for users who filter on nablagrad's class
        M.roc_auc_score([[0, 1], [0, 0]], [[0.1, 0.2], [0.3, 0.4]], average="macro")


def test_well_defined_inputs_do_not_warn():
    Y, S = np.array([[0, 1], [1, 0], [1, 1], [0, 0]]), RNG.random((4, 2))
    for average in ("macro", "weighted", "micro", None):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            np.testing.assert_allclose(M.roc_auc_score(Y, S, average=average), skm.roc_auc_score(Y, S, average=average),
                                       rtol=1e-12)  # fmt: skip
