import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn import model_selection as skms

from nablagrad import ml
from nablagrad.ml import metrics as M


@pytest.fixture
def preds():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 200)
    p = np.where(rng.random(200) < 0.7, y, rng.integers(0, 3, 200))
    return y, p


def test_regression_metrics_match_sklearn(rng):
    y, p = rng.standard_normal(50) + 3, rng.standard_normal(50) + 3
    assert M.mean_squared_error(y, p) == pytest.approx(skm.mean_squared_error(y, p))
    assert M.root_mean_squared_error(y, p) == pytest.approx(skm.root_mean_squared_error(y, p))
    assert M.mean_absolute_error(y, p) == pytest.approx(skm.mean_absolute_error(y, p))
    assert M.mean_absolute_percentage_error(y, p) == pytest.approx(skm.mean_absolute_percentage_error(y, p))
    assert M.r2_score(y, p) == pytest.approx(skm.r2_score(y, p))


@pytest.mark.parametrize("average", ["macro", "micro"])
def test_classification_metrics_match_sklearn(preds, average):
    y, p = preds
    assert M.accuracy_score(y, p) == pytest.approx(skm.accuracy_score(y, p))
    assert M.precision_score(y, p, average=average) == pytest.approx(skm.precision_score(y, p, average=average))
    assert M.recall_score(y, p, average=average) == pytest.approx(skm.recall_score(y, p, average=average))
    assert M.f1_score(y, p, average=average) == pytest.approx(skm.f1_score(y, p, average=average))
    np.testing.assert_array_equal(M.confusion_matrix(y, p), skm.confusion_matrix(y, p))


def test_binary_metrics_log_loss_and_auc(rng):
    y = rng.integers(0, 2, 300)
    s = y + rng.normal(0, 0.8, 300)
    s[::7] = np.round(s[::7])  # ties
    p = 1 / (1 + np.exp(-s))
    b = (p > 0.5).astype(int)
    for f in ("precision_score", "recall_score", "f1_score"):
        assert getattr(M, f)(y, b) == pytest.approx(getattr(skm, f)(y, b))
    assert M.log_loss(y, p) == pytest.approx(skm.log_loss(y, p))
    assert M.roc_auc_score(y, s) == pytest.approx(skm.roc_auc_score(y, s))


def test_kfold_and_stratified_kfold(rng):
    X = rng.standard_normal((23, 2))
    y = np.array([0] * 15 + [1] * 8)
    folds = list(ml.KFold(5).split(X))
    ref = list(skms.KFold(5).split(X))
    for (a, b), (c, d) in zip(folds, ref):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
    tests = np.concatenate([te for _, te in ml.StratifiedKFold(4, shuffle=True, random_state=0).split(X, y)])
    assert sorted(tests.tolist()) == list(range(23))
    for _, te in ml.StratifiedKFold(4).split(X, y):
        assert 1 <= (y[te] == 1).sum() <= 3


def test_train_test_split_and_stratify(rng):
    X, y = rng.standard_normal((100, 2)), np.array([0] * 80 + [1] * 20)
    Xtr, Xte, ytr, yte = ml.train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    assert len(Xte) == 25 and (yte == 1).sum() == 5 and len(Xtr) == 75


def test_cross_val_score_and_grid_search():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X[:600] / 16
    y = y[:600]
    scores = ml.cross_val_score(ml.SoftmaxRegression(), X, y, cv=5)
    assert scores.shape == (5,) and scores.mean() > 0.9
    gs = ml.GridSearchCV(ml.Ridge(), {"alpha": [0.01, 1.0, 1000.0]}, cv=3).fit(X, y.astype(float))
    assert gs.best_params_["alpha"] in (0.01, 1.0) and len(gs.cv_results_["params"]) == 3


def test_confidence_interval_is_mean_pm_1_96_se():
    scores = np.array([0.8, 0.82, 0.79, 0.85, 0.81, 0.83])
    ci = ml.confidence_interval(scores)
    se = scores.std(ddof=1) / np.sqrt(6)
    assert ci.mean == pytest.approx(scores.mean())
    assert ci.low == pytest.approx(scores.mean() - 1.959964 * se, rel=1e-6)
    assert ci.high == pytest.approx(scores.mean() + 1.959964 * se, rel=1e-6)
    boot = ml.confidence_interval(scores, method="bootstrap")
    assert boot.low < ci.mean < boot.high


def test_compare_applies_the_lectures_rule():
    a = np.array([0.10, 0.11, 0.09, 0.10, 0.12, 0.10])  # errors of A
    b = np.array([0.20, 0.22, 0.19, 0.21, 0.20, 0.23])
    r = ml.compare(a, b)
    assert r.verdict == "A is better" and r.a.high < r.b.low
    assert ml.compare(b, a).verdict == "B is better"
    assert ml.compare(a, a + 0.001).verdict == "no significant difference"
    assert ml.compare(1 - a, 1 - b, higher_is_better=True).verdict == "A is better"


def test_bias_variance_decomposition_of_polynomial_fits():
    """MSE = bias² + variance + noise; a rigid model has more bias, a flexible one more variance."""
    f = lambda X: np.sin(2 * np.pi * X[:, 0])  # noqa: E731
    Xt = np.linspace(0, 1, 50).reshape(-1, 1)

    def sample(rng):
        X = rng.uniform(0, 1, (30, 1))
        return X, f(X) + rng.normal(0, 0.3, 30)

    def poly(deg):
        class Poly(ml.Ridge):
            def fit(self, X, y):
                return super().fit(np.hstack([X**k for k in range(1, deg + 1)]), y)

            def predict(self, X):
                return super().predict(np.hstack([X**k for k in range(1, deg + 1)]))

        return lambda: Poly(alpha=1e-8)

    rigid = ml.bias_variance_decomposition(poly(1), sample, f, Xt, noise_var=0.09, n_rounds=100)
    flexible = ml.bias_variance_decomposition(poly(9), sample, f, Xt, noise_var=0.09, n_rounds=100)
    assert rigid.bias2 > flexible.bias2 and flexible.variance > rigid.variance
    assert rigid.mse == pytest.approx(rigid.bias2 + rigid.variance + 0.09)
    # check the identity against a direct Monte-Carlo estimate of the expected squared error
    rng = np.random.default_rng(5)
    direct = np.mean([np.mean((poly(1)().fit(*sample(rng)).predict(Xt) - (f(Xt) + rng.normal(0, 0.3, 50))) ** 2)
                      for _ in range(300)])  # fmt: skip
    assert direct == pytest.approx(rigid.mse, rel=0.1)


@pytest.mark.parametrize("cv", [np.int64(3), np.int32(3)])
def test_a_numpy_integer_cv_is_a_number_of_folds(cv):
    """GridSearchCV's constraints accept any integer cv; cross_val_score and GridSearchCV then split
    with 3 (stratified) folds, as with cv=3."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 2))
    y = (X[:, 0] > 0).astype(int)
    np.testing.assert_array_equal(
        ml.cross_val_score(ml.LogisticRegression(), X, y, cv=cv), ml.cross_val_score(ml.LogisticRegression(), X, y, cv=3)
    )
    search = ml.GridSearchCV(ml.LogisticRegression(), {"C": [0.1, 1.0]}, cv=cv).fit(X, y)
    assert search.n_splits_ == 3 and len(search.cv_results_["split2_test_score"]) == 2
