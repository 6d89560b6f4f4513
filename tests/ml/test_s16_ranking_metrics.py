"""``dcg_score`` / ``ndcg_score`` and multiclass ``roc_auc_score`` return what scikit-learn returns
(the oracle, called with the same arguments), and refuse what scikit-learn refuses."""

import numpy as np
import pytest
import sklearn.metrics as skm

import nablagrad.ml as ml
from nablagrad.ml import metrics as M


def _queries(seed=1, n=6, m=10):
    rng = np.random.default_rng(seed)
    R = rng.integers(0, 4, (n, m)).astype(float)
    S = np.round(rng.standard_normal((n, m)), 1)  # rounded: ties
    S[0, :5] = 0.3
    R[1] = 0  # a query with no relevant document
    return R, S, rng.random(n)


@pytest.mark.parametrize("k", [None, 1, 3, 10, 25])
@pytest.mark.parametrize("ignore_ties", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_dcg_and_ndcg_equal_scikit_learn(k, ignore_ties, weighted):
    R, S, w = _queries()
    kw = {"k": k, "ignore_ties": ignore_ties, "sample_weight": w if weighted else None}
    dcg, ndcg = ml.dcg_score(R, S, **kw), ml.ndcg_score(R, S, **kw)
    assert isinstance(dcg, float) and isinstance(ndcg, float)
    assert dcg == pytest.approx(skm.dcg_score(R, S, **kw), rel=1e-12)
    assert ndcg == pytest.approx(skm.ndcg_score(R, S, **kw), rel=1e-12)


@pytest.mark.parametrize("log_base", [2, 10, np.e])
def test_dcg_log_base_and_the_probes_example(log_base):
    R, S = np.array([[3, 2, 3, 0, 1]]), np.array([[0.9, 0.8, 0.1, 0.2, 0.7]])
    assert ml.dcg_score(R, S, log_base=log_base) == pytest.approx(skm.dcg_score(R, S, log_base=log_base), rel=1e-12)
    R2, S2 = np.vstack([R, [1, 2, 3, 4, 5]]), np.vstack([S, [1, 2, 3, 4, 5]])  # the mean over the two queries
    assert ml.dcg_score(R2, S2) == pytest.approx(skm.dcg_score(R2, S2), rel=1e-12)
    assert ml.ndcg_score(R2, S2, k=3) == pytest.approx(skm.ndcg_score(R2, S2, k=3), rel=1e-12)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda f: f([3, 2, 1], [0.1, 0.2, 0.3]), r"2-D.*got shape \(3,\).*y_true\[None, :\]"),  # one query must be 2-D
        (lambda f: f([[1], [2]], [[0.1], [0.2]]), "at least 2"),
        (lambda f: f([[1, 2]], [[0.1, 0.2, 0.3]]), r"shape \(1, 2\) but y_score \(1, 3\)"),
        (lambda f: f([[1, 2]], [[0.1, np.nan]]), "NaN"),
        (lambda f: f([[1, 2]], [[0.1, 0.2]], k=0), "k must be an integer >= 1"),
        (lambda f: f([[1, 2], [0, 1]], [[0.1, 0.2], [0.3, 0.4]], sample_weight=[1.0]), "sample_weight has shape"),
    ],
)
@pytest.mark.parametrize("name", ["dcg_score", "ndcg_score"])
def test_dcg_and_ndcg_refuse_what_scikit_learn_refuses(call, message, name):
    with pytest.raises(ValueError, match=message):
        call(getattr(ml, name))
    with pytest.raises(ValueError):
        call(getattr(skm, name))


def test_ndcg_refuses_negative_relevances():
    with pytest.raises(ValueError, match="non-negative"):
        ml.ndcg_score([[1, -1, 0]], [[0.1, 0.2, 0.3]])
    with pytest.raises(ValueError):
        skm.ndcg_score([[1, -1, 0]], [[0.1, 0.2, 0.3]])


def _multiclass(seed, k, n=90, labels=None):
    rng = np.random.default_rng(seed)
    classes = np.arange(k) if labels is None else np.asarray(labels)
    y = classes[rng.integers(0, k, n)]
    P = rng.dirichlet(np.ones(k), n)
    P[:12] = P[0]  # tied rows
    return y, P, rng.random(n)


@pytest.mark.parametrize("k", [3, 5])
@pytest.mark.parametrize("multi_class", ["ovr", "ovo"])
@pytest.mark.parametrize("average", ["macro", "weighted"])
def test_multiclass_roc_auc_equals_scikit_learn(k, multi_class, average):
    y, P, _ = _multiclass(k, k)
    ours = M.roc_auc_score(y, P, multi_class=multi_class, average=average)
    assert ours == pytest.approx(skm.roc_auc_score(y, P, multi_class=multi_class, average=average), rel=1e-12)
    strings = np.array(["ant", "bee", "cat", "dog", "eel"])[:k][y]  # string classes, sorted order of columns
    assert M.roc_auc_score(strings, P, multi_class=multi_class, average=average) == pytest.approx(ours, rel=1e-12)


@pytest.mark.parametrize("average", ["macro", "weighted", "micro", None])
def test_one_vs_rest_with_sample_weight_and_every_average_equals_scikit_learn(average):
    y, P, w = _multiclass(0, 4)
    for sw in (None, w):
        np.testing.assert_allclose(M.roc_auc_score(y, P, multi_class="ovr", average=average, sample_weight=sw),
                                   skm.roc_auc_score(y, P, multi_class="ovr", average=average, sample_weight=sw),
                                   rtol=1e-12)  # fmt: skip


def test_labels_name_the_columns_as_in_scikit_learn():
    y, P, _ = _multiclass(2, 4, labels=[1, 3, 5, 7])
    y = np.where(y == 7, 5, y)  # class 7 absent from y_true: labels= says which column it is
    for mc in ("ovr", "ovo"):
        ours = M.roc_auc_score(y, P, multi_class=mc, labels=[1, 3, 5, 7])
        assert ours == pytest.approx(skm.roc_auc_score(y, P, multi_class=mc, labels=[1, 3, 5, 7]), rel=1e-12, nan_ok=True)


def test_binary_and_multilabel_roc_auc_with_sample_weight_equal_scikit_learn():
    rng = np.random.default_rng(3)
    y, s, w = rng.integers(0, 2, 70), np.round(rng.random(70), 1), rng.random(70)
    assert M.roc_auc_score(y, s) == pytest.approx(skm.roc_auc_score(y, s), rel=1e-12)
    assert M.roc_auc_score(y, s, sample_weight=w) == pytest.approx(skm.roc_auc_score(y, s, sample_weight=w), rel=1e-12)
    Y, S = rng.integers(0, 2, (50, 3)), rng.random((50, 3))
    for average in ("macro", "weighted", "micro", None):
        np.testing.assert_allclose(M.roc_auc_score(Y, S, average=average), skm.roc_auc_score(Y, S, average=average), rtol=1e-12)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({}, "choose multi_class='ovr'"),  # scikit-learn's default multi_class='raise'
        ({"multi_class": "ovr", "y_score": "unnormalised"}, "sum to 1"),
        ({"multi_class": "ovr", "y_score": "two_columns"}, "3 classes but y_score has 2 columns"),
        ({"multi_class": "ovo", "sample_weight": True}, "sample_weight is not supported with multi_class='ovo'"),
        ({"multi_class": "ovo", "average": "micro"}, "not available with multi_class='ovo'"),
        ({"multi_class": "ovr", "labels": [2, 1, 0]}, "labels must be unique and sorted"),
        ({"multi_class": "ovr", "labels": [0, 1, 5]}, "y_true contains labels not in labels"),
    ],
)
def test_multiclass_roc_auc_refuses_what_scikit_learn_refuses(kwargs, message):
    y, P, w = _multiclass(4, 3)
    kwargs = dict(kwargs)
    kind = kwargs.pop("y_score", None)
    P = P * 2 if kind == "unnormalised" else P[:, :2] / P[:, :2].sum(1, keepdims=True) if kind == "two_columns" else P
    if kwargs.get("sample_weight") is True:
        kwargs["sample_weight"] = w
    with pytest.raises(ValueError, match=message):
        M.roc_auc_score(y, P, **kwargs)
    with pytest.raises((ValueError, NotImplementedError)):
        skm.roc_auc_score(y, P, **kwargs)


@pytest.mark.parametrize("scoring", ["roc_auc_ovr", "roc_auc_ovo", "roc_auc_ovr_weighted", "roc_auc_ovo_weighted"])
def test_multiclass_auc_scorers_equal_scikit_learns(scoring):
    from sklearn.datasets import make_blobs
    from sklearn.linear_model import LogisticRegression

    X, y = make_blobs(120, centers=3, cluster_std=3.0, random_state=0)
    est = LogisticRegression().fit(X[:60], y[:60])
    assert M.SCORERS[scoring](est, X[60:], y[60:]) == pytest.approx(skm.get_scorer(scoring)(est, X[60:], y[60:]), rel=1e-12)
