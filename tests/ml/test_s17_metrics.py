"""scikit-learn 1.9's metric signatures and values, checked against scikit-learn itself:
precision / recall / F_β with ``labels=``, ``sample_weight=``, ``zero_division=`` (every average),
``precision_recall_fscore_support``, ``confusion_matrix(sample_weight=, normalize=)``,
``balanced_accuracy_score(sample_weight=, adjusted=)``, ``accuracy_score(normalize=)``,
``r2_score(force_finite=)`` and one sample, ``roc_curve``, ``auc`` and ``roc_auc_score(max_fpr=)``."""

import warnings

import numpy as np
import pytest
import sklearn.metrics as skm
from sklearn.exceptions import UndefinedMetricWarning

import nablagrad.ml.metrics as M

AVERAGES = ["macro", "micro", "weighted", None]


def _cases(seed: int, n_cases: int = 25):
    """Random multiclass (int or str) label vectors, weights with zeros, and a label subset."""
    rng = np.random.default_rng(seed)
    for _ in range(n_cases):
        n, k = int(rng.integers(1, 30)), int(rng.integers(2, 5))
        yt, yp = rng.integers(0, k, n), rng.integers(0, k + 1, n)
        w = rng.random(n) * (rng.random(n) > 0.2)
        w[0] = 0.5  # scikit-learn refuses all-zero weights (so do we)
        labels = rng.choice(k + 2, size=int(rng.integers(1, k + 2)), replace=False)
        if rng.random() < 0.3:
            names = np.array(list("abcdefg"))
            yt, yp, labels = names[yt], names[yp], names[labels]
        yield yt, yp, w, labels


def _same(ours, ref):
    np.testing.assert_allclose(np.asarray(ours, float), np.asarray(ref, float), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("fn", ["precision_score", "recall_score", "f1_score"])
@pytest.mark.parametrize("average", AVERAGES)
@pytest.mark.parametrize("zero_division", ["warn", 0.0, 1.0, np.nan])
def test_prf_with_labels_weights_and_zero_division_equal_sklearn(fn, average, zero_division):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for yt, yp, w, labels in _cases(hash((fn, average)) % 1000):
            for kw in ({}, {"sample_weight": w}, {"labels": labels}, {"labels": labels, "sample_weight": w}):
                kw = {**kw, "average": average, "zero_division": zero_division}
                _same(getattr(M, fn)(yt, yp, **kw), getattr(skm, fn)(yt, yp, **kw))


@pytest.mark.parametrize("beta", [0.0, 0.5, 2.0, np.inf])
@pytest.mark.parametrize("average", [*AVERAGES, "samples"])
def test_fbeta_and_support_on_multilabel_with_weights_equal_sklearn(beta, average):
    rng = np.random.default_rng(5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(15):
            a = rng.integers(0, 2, (int(rng.integers(1, 12)), 4))
            b, w = rng.integers(0, 2, a.shape), rng.random(len(a))
            for kw in ({}, {"sample_weight": w}, {"labels": [2, 0]}):
                ours = M.precision_recall_fscore_support(a, b, beta=beta, average=average, zero_division=1.0, **kw)
                ref = skm.precision_recall_fscore_support(a, b, beta=beta, average=average, zero_division=1.0, **kw)
                for o, r in zip(ours[:3], ref[:3]):
                    _same(o, r)
                if average is None:
                    _same(ours[3], ref[3])
                else:
                    assert ours[3] is None and ref[3] is None
                _same(M.fbeta_score(a, b, beta=beta, average=average, zero_division=1.0, **kw),
                      skm.fbeta_score(a, b, beta=beta, average=average, zero_division=1.0, **kw))  # fmt: skip


@pytest.mark.parametrize("fn", ["precision_score", "recall_score", "f1_score"])
def test_binary_with_string_labels_weights_and_absent_positive_equal_sklearn(fn):
    rng = np.random.default_rng(1)
    yt, yp, w = rng.choice(["neg", "pos"], 40), rng.choice(["neg", "pos"], 40), rng.random(40)
    _same(getattr(M, fn)(yt, yp, pos_label="pos", sample_weight=w), getattr(skm, fn)(yt, yp, pos_label="pos", sample_weight=w))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pos_label 1 never occurs: scores 0 with a warning, as scikit-learn
        _same(getattr(M, fn)([0, 0, 0], [0, 0, 0]), getattr(skm, fn)([0, 0, 0], [0, 0, 0]))


def test_undefined_precision_warns_as_sklearn_and_zero_division_silences_it():
    with pytest.warns(UndefinedMetricWarning, match="zero_division"):
        assert M.precision_score([0, 1, 1], [0, 0, 0]) == skm.precision_score([0, 1, 1], [0, 0, 0]) == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert M.precision_score([0, 1, 1], [0, 0, 0], zero_division=1.0) == 1.0
    with pytest.raises(ValueError, match="zero_division must be 'warn', 0.0, 1.0 or np.nan, got 2"):
        M.f1_score([0, 1], [0, 1], zero_division=2)


@pytest.mark.parametrize("normalize", [None, "true", "pred", "all"])
def test_confusion_matrix_with_weights_labels_and_normalize_equals_sklearn(normalize):
    for yt, yp, w, labels in _cases(7):
        keep = np.isin(labels, yt)
        for kw in ({}, {"sample_weight": w}, {"sample_weight": np.ones(len(yt), int)}, {"labels": labels[::-1]}):
            if "labels" in kw and not keep.any():
                with pytest.raises(ValueError, match="At least one label specified must be in y_true"):
                    skm.confusion_matrix(yt, yp, **kw)
                with pytest.raises(ValueError, match="At least one label specified must be in y_true"):
                    M.confusion_matrix(yt, yp, **kw)
                continue
            ours = M.confusion_matrix(yt, yp, normalize=normalize, **kw)
            ref = skm.confusion_matrix(yt, yp, normalize=normalize, **kw)
            assert ours.dtype == ref.dtype
            _same(ours, ref)


@pytest.mark.parametrize("adjusted", [False, True])
def test_balanced_accuracy_with_weights_equals_sklearn(adjusted):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # y_pred classes not in y_true, a single class when adjusted
        for yt, yp, w, _ in _cases(11):
            for kw in ({}, {"sample_weight": w + 0.01}):
                _same(M.balanced_accuracy_score(yt, yp, adjusted=adjusted, **kw),
                      skm.balanced_accuracy_score(yt, yp, adjusted=adjusted, **kw))  # fmt: skip


def test_accuracy_normalize_false_counts_as_sklearn():
    yt, yp, w = [0, 1, 1, 2], [0, 1, 2, 2], [1.0, 2.0, 3.0, 0.5]
    assert M.accuracy_score(yt, yp, normalize=False) == skm.accuracy_score(yt, yp, normalize=False) == 3
    ref = skm.accuracy_score(yt, yp, normalize=False, sample_weight=w)
    assert M.accuracy_score(yt, yp, normalize=False, sample_weight=w) == ref == 3.5


@pytest.mark.parametrize("multioutput", ["raw_values", "uniform_average", "variance_weighted"])
def test_r2_force_finite_false_and_one_sample_as_sklearn(multioutput):
    y = np.array([[1.0, 2.0], [1.0, 3.0], [1.0, 5.0]])
    for pred in (y, y + [[0.0, 1.0], [0.5, 0.0], [0.0, 0.0]]):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # numpy's 0/0 inside scikit-learn
            ref = skm.r2_score(y, pred, multioutput=multioutput, force_finite=False)
        _same(M.r2_score(y, pred, multioutput=multioutput, force_finite=False), ref)
        _same(M.r2_score(y, pred, multioutput=multioutput), skm.r2_score(y, pred, multioutput=multioutput))
    with pytest.warns(UndefinedMetricWarning, match="less than two samples"):
        assert np.isnan(M.r2_score([1.0], [2.0]))


@pytest.mark.parametrize("drop_intermediate", [True, False])
def test_roc_curve_and_auc_equal_sklearn(drop_intermediate):
    rng = np.random.default_rng(2)
    for _ in range(30):
        n = int(rng.integers(2, 40))
        y = rng.integers(0, 2, n)
        s = np.round(rng.normal(size=n), 1)  # ties
        w = rng.random(n)
        for kw in ({}, {"sample_weight": w}):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # one class only
                ours = M.roc_curve(y, s, drop_intermediate=drop_intermediate, **kw)
                ref = skm.roc_curve(y, s, drop_intermediate=drop_intermediate, **kw)
            for o, r in zip(ours, ref):
                _same(o, r)
            if 0 < y.sum() < n:
                assert M.auc(ours[0], ours[1]) == pytest.approx(skm.auc(ref[0], ref[1]), abs=1e-12)
    yb, sb = ["b", "a", "b"], [0.2, 0.1, 0.9]
    _same(M.roc_curve(yb, sb, pos_label="b")[1], skm.roc_curve(yb, sb, pos_label="b")[1])
    with pytest.raises(ValueError, match="pos_label is not specified"):
        M.roc_curve(["b", "a", "b"], [0.2, 0.1, 0.9])


@pytest.mark.parametrize("max_fpr", [0.1, 0.3, 0.5, 0.99, 1.0])
def test_partial_roc_auc_equals_sklearn(max_fpr):
    rng = np.random.default_rng(4)
    for _ in range(20):
        n = int(rng.integers(4, 50))
        y = np.r_[0, 1, rng.integers(0, 2, n - 2)]
        s, w = np.round(rng.normal(size=n) + y, 1), rng.random(n) + 0.1
        for kw in ({}, {"sample_weight": w}):
            _same(M.roc_auc_score(y, s, max_fpr=max_fpr, **kw), skm.roc_auc_score(y, s, max_fpr=max_fpr, **kw))
    Y, S = rng.integers(0, 2, (30, 3)), rng.random((30, 3))
    Y[:2] = [[0, 0, 0], [1, 1, 1]]
    for average in ["micro", "macro", "weighted", None]:
        _same(M.roc_auc_score(Y, S, max_fpr=max_fpr, average=average), skm.roc_auc_score(Y, S, max_fpr=max_fpr, average=average))


def test_partial_roc_auc_refusals_as_sklearn():
    with pytest.raises(ValueError, match="Expected max_fpr in range"):
        M.roc_auc_score([0, 1], [0.1, 0.9], max_fpr=0)
    P = np.full((3, 3), 1 / 3)
    with pytest.raises(ValueError, match="Partial AUC computation not available in multiclass setting"):
        M.roc_auc_score([0, 1, 2], P, multi_class="ovr", max_fpr=0.5)


@pytest.mark.parametrize("name", ["f1_micro", "f1_weighted", "precision_macro", "recall_weighted", "precision_micro",
                                  "neg_mean_absolute_percentage_error"])  # fmt: skip
def test_more_scoring_names_equal_sklearn(name):
    from sklearn.datasets import make_classification  # noqa: PLC0415

    from nablagrad.ml import LinearRegression, SoftmaxRegression  # noqa: PLC0415

    X, y = make_classification(120, 5, n_informative=3, n_classes=3, random_state=0)
    est = (LinearRegression() if name.startswith("neg_") else SoftmaxRegression()).fit(X[:80], y[:80] + 1)
    assert M.SCORERS[name](est, X[80:], y[80:] + 1) == pytest.approx(skm.get_scorer(name)(est, X[80:], y[80:] + 1))
