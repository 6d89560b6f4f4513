"""The classification and ranking metrics added in session 18 against scikit-learn 1.9 (the oracle):
classification_report, matthews_corrcoef, cohen_kappa_score, jaccard_score, hamming_loss,
zero_one_loss, precision_recall_curve, average_precision_score, top_k_accuracy_score, log_loss,
and the scorer API (make_scorer, get_scorer, get_scorer_names) — on several data sets with ties,
a single class, string labels, sample weights (with zeros) and multilabel targets."""

import warnings

import numpy as np
import pytest

skm = pytest.importorskip("sklearn.metrics")
from sklearn.linear_model import LinearRegression as SkLinearRegression  # noqa: E402
from sklearn.linear_model import LogisticRegression as SkLogisticRegression  # noqa: E402

from nablagrad import ml  # noqa: E402
from nablagrad.ml import metrics as M  # noqa: E402

RNG = np.random.default_rng(18)


def _label_cases():
    """(y_true, y_pred, sample_weight) pairs: binary, multiclass, strings, one class, weights with zeros."""
    y2, p2 = RNG.integers(0, 2, 60), RNG.integers(0, 2, 60)
    y3, p3 = RNG.integers(0, 3, 80), RNG.integers(0, 3, 80)
    p3[:40] = y3[:40]
    names = np.array(["cat", "dog", "emu"])
    w = RNG.uniform(0, 2, 80)
    w[::7] = 0
    return {
        "binary": (y2, p2, None),
        "binary-weighted": (y2, p2, RNG.integers(0, 3, 60)),
        "multiclass": (y3, p3, None),
        "multiclass-weighted": (y3, p3, w),
        "strings": (names[y3], names[p3], None),
        "strings-weighted": (names[y3], names[p3], w),
        "one-class": (np.zeros(10, int), np.zeros(10, int), None),
        "pred-one-class": (y3, np.ones(80, int), None),
        "perfect": (y3, y3, None),
        "minus-plus": (2 * y2 - 1, 2 * p2 - 1, None),
    }


CASES = _label_cases()


def _quiet(f, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f(*args, **kwargs)


@pytest.mark.parametrize("case", list(CASES))
def test_matthews_hamming_zero_one_match_sklearn(case):
    y, p, w = CASES[case]
    for name in ("matthews_corrcoef", "hamming_loss", "zero_one_loss"):
        ours, ref = getattr(M, name)(y, p, sample_weight=w), getattr(skm, name)(y, p, sample_weight=w)
        assert ours == pytest.approx(ref, abs=1e-12), name
    assert M.zero_one_loss(y, p, normalize=False, sample_weight=w) == pytest.approx(
        skm.zero_one_loss(y, p, normalize=False, sample_weight=w))


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_cohen_kappa_matches_sklearn(case, weights):
    y, p, w = CASES[case]
    ours = _quiet(M.cohen_kappa_score, y, p, weights=weights, sample_weight=w)
    ref = _quiet(skm.cohen_kappa_score, y, p, weights=weights, sample_weight=w)
    np.testing.assert_allclose(ours, ref, atol=1e-12)


def test_cohen_kappa_labels_and_undefined():
    y, p = np.array([0, 1, 2, 2, 1]), np.array([0, 2, 2, 1, 1])
    for labels in ([2, 1, 0], [0, 1], [1, 2, 5]):
        np.testing.assert_allclose(M.cohen_kappa_score(y, p, labels=labels, weights="linear"),
                                   skm.cohen_kappa_score(y, p, labels=labels, weights="linear"), atol=1e-12)
    with pytest.warns(M.UndefinedMetricWarning, match="only one label in common"):
        assert M.cohen_kappa_score([1, 1], [1, 1], replace_undefined_by=0.5) == 0.5
    with pytest.raises(ValueError, match=r"cohen_kappa_score: At least one label in `labels` must be present in `y1`"):
        M.cohen_kappa_score(y, p, labels=[7, 8])
    with pytest.raises(ValueError, match="weights must be None, 'linear' or 'quadratic'"):
        M.cohen_kappa_score(y, p, weights="cubic")


@pytest.mark.parametrize("case", ["binary", "binary-weighted", "minus-plus", "multiclass", "multiclass-weighted",
                                  "strings", "pred-one-class", "perfect"])
@pytest.mark.parametrize("average", ["binary", "micro", "macro", "weighted", None])
def test_jaccard_matches_sklearn(case, average):
    y, p, w = CASES[case]
    pos = "dog" if case == "strings" else 1
    try:
        ref = _quiet(skm.jaccard_score, y, p, average=average, sample_weight=w, pos_label=pos)
    except ValueError:
        with pytest.raises(ValueError, match="jaccard_score"):
            _quiet(M.jaccard_score, y, p, average=average, sample_weight=w, pos_label=pos)
        return
    np.testing.assert_allclose(_quiet(M.jaccard_score, y, p, average=average, sample_weight=w, pos_label=pos), ref,
                               atol=1e-12)


def test_jaccard_multilabel_and_zero_division():
    Y, P = RNG.integers(0, 2, (30, 4)), RNG.integers(0, 2, (30, 4))
    Y[:, 3] = P[:, 3] = 0  # a label never true nor predicted: 0/0
    w = RNG.uniform(0.5, 2, 30)
    for average in ("micro", "macro", "weighted", "samples", None):
        for zd in (0, 1):
            np.testing.assert_allclose(M.jaccard_score(Y, P, average=average, zero_division=zd, sample_weight=w),
                                       skm.jaccard_score(Y, P, average=average, zero_division=zd, sample_weight=w))
    with pytest.warns(M.UndefinedMetricWarning, match="Jaccard is ill-defined"):
        M.jaccard_score(Y, P, average="macro")
    Y[0], P[0] = 0, 0  # an empty row: 0/0 for average="samples"
    np.testing.assert_allclose(_quiet(M.jaccard_score, Y, P, average="samples"),
                               _quiet(skm.jaccard_score, Y, P, average="samples"))


def test_hamming_loss_multilabel_weighted():
    Y, P = RNG.integers(0, 2, (25, 5)), RNG.integers(0, 2, (25, 5))
    w = RNG.uniform(0, 3, 25)
    assert M.hamming_loss(Y, P) == pytest.approx(skm.hamming_loss(Y, P))
    assert M.hamming_loss(Y, P, sample_weight=w) == pytest.approx(skm.hamming_loss(Y, P, sample_weight=w))
    assert M.zero_one_loss(Y, P, sample_weight=w) == pytest.approx(skm.zero_one_loss(Y, P, sample_weight=w))
    with pytest.raises(ValueError, match="matthews_corrcoef: multilabel-indicator is not supported"):
        M.matthews_corrcoef(Y, P)


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("digits", [2, 4])
def test_classification_report_text_and_dict_match_sklearn(case, digits):
    y, p, w = CASES[case]
    for output_dict in (False, True):
        ours = _quiet(M.classification_report, y, p, sample_weight=w, digits=digits, output_dict=output_dict)
        ref = _quiet(skm.classification_report, y, p, sample_weight=w, digits=digits, output_dict=output_dict)
        if output_dict:
            assert ours.keys() == ref.keys()
            np.testing.assert_allclose(_flat(ours), _flat(ref), atol=1e-12)
        else:
            assert ours == ref


def _flat(report: dict) -> list[float]:
    return [v for row in report.values() for v in (row.values() if isinstance(row, dict) else [row])]


def test_classification_report_labels_target_names_multilabel():
    y, p = np.array([0, 1, 2, 2, 1, 0, 3]), np.array([0, 2, 2, 2, 1, 1, 3])
    kw = {"labels": [2, 0, 1], "target_names": ["two", "zero", "one"]}
    assert M.classification_report(y, p, **kw) == skm.classification_report(y, p, **kw)  # micro avg, not accuracy
    assert M.classification_report(y, p, labels=[0, 1, 2, 3, 9], zero_division=0) == skm.classification_report(
        y, p, labels=[0, 1, 2, 3, 9], zero_division=0)
    Y, P = RNG.integers(0, 2, (20, 3)), RNG.integers(0, 2, (20, 3))
    assert M.classification_report(Y, P, zero_division=0) == skm.classification_report(Y, P, zero_division=0)
    ours, ref = (f(Y, P, output_dict=True, zero_division=0) for f in (M.classification_report, skm.classification_report))
    assert ours.keys() == ref.keys()
    np.testing.assert_allclose(_flat(ours), _flat(ref))
    with pytest.raises(ValueError, match="Number of classes, 4, does not match size of target_names, 2"):
        M.classification_report(y, p, target_names=["a", "b"])
    with pytest.warns(UserWarning, match="labels size, 3, does not match size of target_names, 2"):
        text = M.classification_report(y, p, labels=[0, 1, 2], target_names=["a", "b"])
    with pytest.warns(UserWarning):
        assert text == skm.classification_report(y, p, labels=[0, 1, 2], target_names=["a", "b"])


def test_precision_recall_support_is_int_unless_weighted():
    y, p, w = CASES["multiclass-weighted"]
    assert M.precision_recall_fscore_support(y, p)[3].dtype.kind == "i"
    assert M.precision_recall_fscore_support(y, p, sample_weight=w)[3].dtype.kind == "f"


def _score_cases():
    y = RNG.integers(0, 2, 70)
    s = np.round(RNG.normal(y, 1.0), 1)  # rounded: many tied scores
    w = RNG.uniform(0, 2, 70)
    w[::5] = 0
    return {"plain": (y, s, None, None), "weighted": (y, s, w, None), "strings": (np.array(["no", "yes"])[y], s, None, "yes"),
            "minus-plus": (2 * y - 1, s, None, None), "pos-0": (y, -s, w, 0), "all-tied": (y, np.zeros(70), None, None),
            "perfect": (y, y + 0.5, None, None)}  # fmt: skip


SCORE_CASES = _score_cases()


@pytest.mark.parametrize("case", list(SCORE_CASES))
@pytest.mark.parametrize("drop", [False, True])
def test_precision_recall_curve_matches_sklearn(case, drop):
    y, s, w, pos = SCORE_CASES[case]
    ours = M.precision_recall_curve(y, s, pos_label=pos, sample_weight=w, drop_intermediate=drop)
    ref = skm.precision_recall_curve(y, s, pos_label=pos, sample_weight=w, drop_intermediate=drop)
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a, b, atol=1e-12)


@pytest.mark.parametrize("case", list(SCORE_CASES))
def test_average_precision_and_roc_curve_match_sklearn(case):
    y, s, w, pos = SCORE_CASES[case]
    assert M.average_precision_score(y, s, pos_label=1 if pos is None else pos, sample_weight=w) == pytest.approx(
        skm.average_precision_score(y, s, pos_label=1 if pos is None else pos, sample_weight=w), abs=1e-12)
    for a, b in zip(M.roc_curve(y, s, pos_label=pos, sample_weight=w), skm.roc_curve(y, s, pos_label=pos, sample_weight=w)):
        np.testing.assert_allclose(a, b, atol=1e-12)  # zero-weight rows are no thresholds, as scikit-learn


def test_curves_without_positives_and_multiclass_pos_label():
    y, s = np.zeros(6, int), np.arange(6.0)
    with pytest.warns(UserWarning, match="No positive class found in y_true"):
        ours = M.precision_recall_curve(y, s, pos_label=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = skm.precision_recall_curve(y, s, pos_label=1)
        assert M.average_precision_score(y, s) == skm.average_precision_score(y, s) == 0
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a, b)
    y3, s3 = RNG.integers(0, 3, 40), RNG.normal(size=40)
    for a, b in zip(M.precision_recall_curve(y3, s3, pos_label=2), skm.precision_recall_curve(y3, s3, pos_label=2)):
        np.testing.assert_allclose(a, b)
    with pytest.raises(ValueError, match="precision_recall_curve: multiclass format is not supported"):
        M.precision_recall_curve(y3, s3)
    with pytest.raises(ValueError, match="pos_label=1 is not a valid label"):
        M.average_precision_score(np.array(["a", "b"]), [0.1, 0.9])


@pytest.mark.parametrize("average", ["micro", "macro", "weighted", "samples", None])
@pytest.mark.parametrize("weighted", [False, True])
def test_average_precision_multiclass_and_multilabel(average, weighted):
    y = RNG.integers(0, 4, 90)
    P = RNG.dirichlet(np.ones(4), 90)
    P[np.arange(90), y] += 0.3
    Y = RNG.integers(0, 2, (90, 3))
    Y[:, 2] = 0  # a label with no positive: scored 0 (weighted: left out)
    S = np.round(RNG.normal(Y, 1.0), 1)
    w = RNG.uniform(0.1, 2, 90) if weighted else None
    for yt, ys in ((y, P), (Y, S)):
        ours = _quiet(M.average_precision_score, yt, ys, average=average, sample_weight=w)
        ref = _quiet(skm.average_precision_score, yt, ys, average=average, sample_weight=w)
        np.testing.assert_allclose(ours, ref, atol=1e-12)


@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_top_k_accuracy_matches_sklearn(k, weighted):
    y = RNG.integers(0, 4, 60)
    S = np.round(RNG.normal(size=(60, 4)), 1)  # ties: the lower column wins, as scikit-learn
    S[:5] = 0.0
    w = RNG.uniform(0, 2, 60) if weighted else None
    for normalize in (True, False):
        assert M.top_k_accuracy_score(y, S, k=k, sample_weight=w, normalize=normalize) == pytest.approx(
            skm.top_k_accuracy_score(y, S, k=k, sample_weight=w, normalize=normalize))
    names = np.array(["a", "b", "c", "d", "e"])  # labels naming a class absent from y
    assert M.top_k_accuracy_score(names[y], np.c_[S, S[:, 0]], k=k, labels=names) == pytest.approx(
        skm.top_k_accuracy_score(names[y], np.c_[S, S[:, 0]], k=k, labels=names))
    yb, sb = RNG.integers(0, 2, 30), RNG.uniform(size=30)
    assert M.top_k_accuracy_score(yb, sb, k=1) == skm.top_k_accuracy_score(yb, sb, k=1)
    assert M.top_k_accuracy_score(yb, sb - 0.5, k=1) == skm.top_k_accuracy_score(yb, sb - 0.5, k=1)


def test_top_k_accuracy_refusals():
    y, S = np.array([0, 1, 2, 2]), RNG.normal(size=(4, 3))
    with pytest.raises(ValueError, match=r"classes in 'y_true' \(3\) not equal to the number of classes in 'y_score' \(4\)"):
        M.top_k_accuracy_score(y, np.c_[S, S[:, 0]])
    with pytest.raises(ValueError, match="'labels' must be ordered"):
        M.top_k_accuracy_score(y, S, labels=[2, 1, 0])
    with pytest.raises(ValueError, match="y_score.shape=\\(4,\\)"):
        M.top_k_accuracy_score(y, S[:, 0])
    with pytest.warns(M.UndefinedMetricWarning, match="greater than or equal to 'n_classes'"):
        assert M.top_k_accuracy_score(y, S, k=3) == 1.0


@pytest.mark.parametrize("case", ["binary", "multiclass", "strings", "weighted", "float32", "labels"])
def test_log_loss_matches_sklearn(case):
    y = RNG.integers(0, 3, 50)
    P = RNG.dirichlet(np.ones(3), 50)
    kw = {}
    if case == "binary":
        y, P = y % 2, P[:, 0]
    elif case == "strings":
        y = np.array(["x", "y", "z"])[y]
    elif case == "weighted":
        kw["sample_weight"] = RNG.uniform(0, 2, 50)
    elif case == "float32":
        P = P.astype(np.float32)
    elif case == "labels":
        y, P, kw["labels"] = np.minimum(y, 1), np.c_[P, np.zeros(50)] / 1.0, [0, 1, 2, 3]
    for normalize in (True, False):
        assert M.log_loss(y, P, normalize=normalize, **kw) == pytest.approx(
            skm.log_loss(y, P, normalize=normalize, **kw), rel=1e-6 if case == "float32" else 1e-12)


def test_scorer_names_are_sklearns_and_scores_agree():
    names = M.get_scorer_names()
    assert names == sorted(names) and set(names) <= set(skm.get_scorer_names())
    X = RNG.normal(size=(120, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    y3 = np.digitize(X[:, 0] + 0.3 * X[:, 2], [-0.5, 0.5])
    yr = X @ np.array([1.0, -1.0, 0.5, 2.0]) + 3
    for target, est in ((y, SkLogisticRegression()), (y3, SkLogisticRegression()), (yr, SkLinearRegression()),
                        (np.array(["neg", "pos"])[y], SkLogisticRegression())):  # fmt: skip
        est.fit(X[:80], target[:80])
        for name in names:
            try:
                ref = _quiet(skm.get_scorer(name), est, X[80:], target[80:])
            except (ValueError, AttributeError, TypeError) as err:
                with pytest.raises(type(err)):
                    _quiet(M.get_scorer(name), est, X[80:], target[80:])
                continue
            assert _quiet(M.get_scorer(name), est, X[80:], target[80:]) == pytest.approx(ref, rel=1e-9, abs=1e-12), name


def test_make_scorer_as_sklearn():
    X = RNG.normal(size=(100, 3))
    y = (X[:, 0] > 0).astype(int)
    est = ml.LogisticRegression().fit(X, y)
    w = RNG.uniform(0, 1, 100)
    pairs = [
        ({"score_func": M.fbeta_score, "beta": 2}, {"score_func": skm.fbeta_score, "beta": 2}),
        ({"score_func": M.log_loss, "greater_is_better": False, "response_method": "predict_proba"},
         {"score_func": skm.log_loss, "greater_is_better": False, "response_method": "predict_proba"}),
        ({"score_func": M.roc_auc_score, "response_method": ("decision_function", "predict_proba")},
         {"score_func": skm.roc_auc_score, "response_method": ("decision_function", "predict_proba")}),
        ({"score_func": M.average_precision_score, "response_method": "predict_proba", "pos_label": 0},
         {"score_func": skm.average_precision_score, "response_method": "predict_proba", "pos_label": 0}),
    ]
    for ours_kw, ref_kw in pairs:
        ours, ref = M.make_scorer(**ours_kw), skm.make_scorer(**ref_kw)
        assert ours(est, X, y) == pytest.approx(ref(est, X, y), rel=1e-12)
        assert ours(est, X, y, sample_weight=w) == pytest.approx(ref(est, X, y, sample_weight=w), rel=1e-12)
        assert repr(ours) == repr(ref)
    search = ml.GridSearchCV(ml.LogisticRegression(), {"C": [0.01, 1.0]}, cv=3,
                             scoring=M.make_scorer(M.matthews_corrcoef)).fit(X, y)
    assert search.best_score_ == pytest.approx(np.mean(ml.cross_val_score(
        ml.LogisticRegression(**search.best_params_), X, y, cv=3, scoring="matthews_corrcoef")))
    with pytest.raises(ValueError, match="response_method must be one of"):
        M.make_scorer(M.accuracy_score, response_method="transform")
    with pytest.raises(ValueError, match=r"'bogus' is not a valid scoring value. Use .*get_scorer_names\(\)"):
        M.get_scorer("bogus")
    assert M.get_scorer(None) is None and M.get_scorer(M.accuracy_score) is M.accuracy_score
    assert M.get_scorer("accuracy") is not M.get_scorer("accuracy")  # a fresh copy each time
