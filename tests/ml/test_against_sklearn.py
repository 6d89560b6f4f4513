"""nablagrad.ml against scikit-learn on the same data, with the tolerances of issue 5."""

import warnings

import numpy as np
import pytest
from sklearn import decomposition, linear_model, multiclass, svm
from sklearn.datasets import load_digits, make_classification, make_moons

from nablagrad import data, ml
from nablagrad.autodiff import grad


@pytest.fixture
def reg_data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 12))
    Y = X @ rng.standard_normal((12, 2)) + 0.3 * rng.standard_normal((300, 2)) + [1.0, -2.0]
    return X, Y


@pytest.mark.parametrize("solver", ["normal", "lstsq"])
def test_linear_regression_coefficients(reg_data, solver):
    X, Y = reg_data
    for y in (Y[:, 0], Y):  # single and multi-output
        ours, ref = ml.LinearRegression(solver=solver).fit(X, y), linear_model.LinearRegression().fit(X, y)
        np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-8)
        np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-8)


def test_closed_forms_centre_block_by_block():
    """More rows than one block (2 048) and features far from the origin: the blockwise centring of
    the normal equations, Ridge, Lasso's Gram and lstsq gives scikit-learn's (centred-copy) answer."""
    rng = np.random.default_rng(3)
    X = 1e3 + rng.standard_normal((5000, 8)) * [1, 2, 3, 4, 5, 6, 7, 8]
    Y = X @ rng.standard_normal((8, 2)) + rng.standard_normal((5000, 2))
    pairs = [
        (ml.LinearRegression(solver="normal"), linear_model.LinearRegression()),
        (ml.LinearRegression(solver="lstsq"), linear_model.LinearRegression()),
        (ml.Ridge(alpha=10.0), linear_model.Ridge(alpha=10.0)),
        (ml.Lasso(alpha=0.05, tol=1e-12), linear_model.Lasso(alpha=0.05, tol=1e-12)),
    ]
    for ours, ref in pairs:
        ours.fit(X, Y), ref.fit(X, Y)
        np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-9)


def test_gradient_solvers_reach_the_least_squares_solution(reg_data):
    X, Y = reg_data
    ref = linear_model.LinearRegression().fit(X, Y[:, 0])
    gd = ml.LinearRegression(solver="gd", learning_rate=0.1, max_iter=5000, tol=1e-14).fit(X, Y[:, 0])
    np.testing.assert_allclose(gd.coef_, ref.coef_, atol=1e-6)
    sgd = ml.LinearRegression(solver="sgd", learning_rate=0.01, max_iter=200, random_state=0).fit(X, Y[:, 0])
    np.testing.assert_allclose(sgd.coef_, ref.coef_, atol=0.05)


def test_engine_gradient_is_the_lecture_formula(reg_data):
    """∇ mean (Xw − y)² = 2Xᵀ(Xw − y)/n (lecture 004)."""
    X, Y = reg_data
    y = Y[:, 0]
    w = np.random.default_rng(1).standard_normal(12)
    g = grad(lambda v: ((X @ v - y) ** 2).mean())(w)
    np.testing.assert_allclose(g.numpy(), 2 * X.T @ (X @ w - y) / len(y), rtol=1e-12)


def test_ridge_coefficients_and_unpenalised_intercept(reg_data):
    X, Y = reg_data
    for alpha in (0.1, 10.0, 1000.0):
        ours, ref = ml.Ridge(alpha=alpha).fit(X, Y), linear_model.Ridge(alpha=alpha).fit(X, Y)
        np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-8)
        np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-8)
    huge = ml.Ridge(alpha=1e12).fit(X, Y[:, 0])
    assert abs(huge.intercept_ - Y[:, 0].mean()) < 1e-6  # weights → 0, intercept → ȳ


def test_ridge_gradient_solver(reg_data):
    X, Y = reg_data
    ref = linear_model.Ridge(alpha=5.0).fit(X, Y[:, 0])
    gd = ml.Ridge(alpha=5.0, solver="gd", learning_rate=0.1, max_iter=5000, tol=1e-14).fit(X, Y[:, 0])
    np.testing.assert_allclose(gd.coef_, ref.coef_, atol=1e-6)


@pytest.mark.parametrize("solver", ["cd", "proximal"])
def test_lasso_coefficients_and_zero_pattern(reg_data, solver):
    X, Y = reg_data
    zeros = []
    for alpha in (0.01, 0.1, 0.5, 1.0):
        ours = ml.Lasso(alpha=alpha, solver=solver, tol=1e-10, max_iter=100000).fit(X, Y[:, 0])
        ref = linear_model.Lasso(alpha=alpha, tol=1e-10, max_iter=100000).fit(X, Y[:, 0])
        np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4)
        np.testing.assert_array_equal(ours.coef_ == 0, ref.coef_ == 0)
        zeros.append(int((ours.coef_ == 0).sum()))
    assert zeros == sorted(zeros) and zeros[-1] > zeros[0]  # exact zeros appear as α grows


def test_ill_conditioned_design_warns_and_lstsq_is_right():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(200)
    X = np.column_stack([x, x + 1e-9 * rng.standard_normal(200), rng.standard_normal(200)])
    y = X @ np.array([1.0, 2.0, -1.0]) + 0.01 * rng.standard_normal(200)
    with pytest.warns(ml.IllConditionedWarning, match="condition number"):
        ml.LinearRegression(solver="normal").fit(X, y)
    safe = ml.LinearRegression(solver="lstsq").fit(X, y)
    ref = linear_model.LinearRegression().fit(X, y)
    rss = lambda m: float(np.sum((m.predict(X) - y) ** 2))  # noqa: E731
    assert rss(safe) <= rss(ref) * (1 + 1e-6)  # as good a least-squares fit as scikit-learn's
    assert np.linalg.norm(safe.predict(X) - y) / np.sqrt(200) < 0.02
    np.testing.assert_allclose(safe.coef_[0] + safe.coef_[1], 3.0, atol=0.01)  # the identifiable combination
    np.testing.assert_allclose(safe.coef_[2], -1.0, atol=0.01)


def test_pca_components_up_to_sign():
    X, _ = load_digits(return_X_y=True)
    ours, ref = ml.PCA(n_components=10, svd_solver="full").fit(X), decomposition.PCA(n_components=10, svd_solver="full").fit(X)
    signs = np.sign((ours.components_ * ref.components_).sum(1))
    np.testing.assert_allclose(ours.components_ * signs[:, None], ref.components_, atol=1e-6)
    np.testing.assert_allclose(ours.explained_variance_, ref.explained_variance_, rtol=1e-8)
    np.testing.assert_allclose(ours.explained_variance_ratio_, ref.explained_variance_ratio_, rtol=1e-8)
    Z = ours.transform(X)
    C = np.cov(Z.T)
    assert np.max(np.abs(C - np.diag(np.diag(C)))) < 1e-8  # the components decorrelate
    full = ml.PCA().fit(X)
    np.testing.assert_allclose(full.inverse_transform(full.transform(X)), X, atol=1e-8)
    w = ml.PCA(n_components=5, whiten=True).fit(X).transform(X)
    np.testing.assert_allclose(np.var(w, axis=0, ddof=1), 1.0, rtol=1e-8)


def test_randomized_pca_equals_the_full_svd_and_sklearn():
    """The leading components of a randomized PCA (the 'auto' choice for 20 of 784 MNIST features):
    approximate, like scikit-learn's — the variances within 2·10⁻⁴, the leading directions within 10⁻³."""
    X = data.load_mnist(flatten=True)[0][:3000].astype(np.float64)
    ours = ml.PCA(n_components=20, svd_solver="randomized", random_state=0).fit(X)
    full = ml.PCA(n_components=20, svd_solver="full").fit(X)
    ref = decomposition.PCA(n_components=20, svd_solver="randomized", random_state=0).fit(X)
    for other in (full, ref):
        np.testing.assert_allclose(ours.explained_variance_, other.explained_variance_, rtol=2e-4)
        np.testing.assert_allclose(ours.explained_variance_ratio_, other.explained_variance_ratio_, rtol=2e-4)
    np.testing.assert_allclose(ours.explained_variance_[:5], full.explained_variance_[:5], rtol=1e-9)
    signs = np.sign((ours.components_ * full.components_).sum(1))
    np.testing.assert_allclose((ours.components_ * signs[:, None])[:10], full.components_[:10], atol=1e-3)


def test_randomized_pca_of_data_of_lower_rank_than_its_sketch():
    """Rank 12 < the 15 + 10 sketched columns: YᵀY is singular, so the power iteration's Cholesky
    normaliser hands over to Householder QR; the 12 directions are exact, as the full SVD's."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((600, 12)) @ rng.standard_normal((12, 700))
    ours = ml.PCA(n_components=15, svd_solver="randomized", random_state=0).fit(X)
    full = ml.PCA(n_components=15, svd_solver="full").fit(X)
    np.testing.assert_allclose(ours.explained_variance_[:12], full.explained_variance_[:12], rtol=1e-9)
    np.testing.assert_allclose(ours.components_[:12], full.components_[:12], atol=1e-8)  # both sign-normalised


def test_randomized_pca_centres_implicitly_without_losing_accuracy():
    """``A = X − 1x̄ᵀ`` is never formed; data far from the origin (offset 10⁴, unit spread) still gets
    the full SVD's variances and directions, and the total variance of the explicit centring."""
    rng = np.random.default_rng(1)
    X = 1e4 + rng.standard_normal((800, 10)) @ rng.standard_normal((10, 600))
    ours = ml.PCA(n_components=10, svd_solver="randomized", random_state=0).fit(X)
    full = ml.PCA(n_components=10, svd_solver="full").fit(X)
    np.testing.assert_allclose(ours.explained_variance_, full.explained_variance_, rtol=1e-9)
    np.testing.assert_allclose(ours.explained_variance_ratio_, full.explained_variance_ratio_, rtol=1e-9)
    np.testing.assert_allclose(ours.components_, full.components_, atol=1e-8)
    Xc = X - X.mean(0)
    assert ours.explained_variance_.sum() / ours.explained_variance_ratio_.sum() == pytest.approx(
        np.sum(Xc * Xc) / (len(X) - 1), rel=1e-12
    )


def test_covariance_eigh_pca_equals_the_full_svd():
    """'auto' for many rows and few features: the eigendecomposition of the covariance."""
    X = data.load_mnist(flatten=True)[0][:3000, ::4].astype(np.float64)  # 3000 × 196: n ≥ 10 p
    ours, full = ml.PCA(n_components=15).fit(X), ml.PCA(n_components=15, svd_solver="full").fit(X)
    ref = decomposition.PCA(n_components=15, svd_solver="covariance_eigh").fit(X)
    for other in (full, ref):
        np.testing.assert_allclose(ours.explained_variance_, other.explained_variance_, rtol=1e-8)
        np.testing.assert_allclose(ours.explained_variance_ratio_, other.explained_variance_ratio_, rtol=1e-8)
    np.testing.assert_allclose(ours.components_, full.components_, atol=1e-7)  # both sign-normalised


def _split(X, y, frac=0.7):
    n = int(len(X) * frac)
    return X[:n], X[n:], y[:n], y[n:]


def test_logistic_and_softmax_regression_agree_with_sklearn():
    X, y = make_classification(800, 10, n_informative=5, random_state=0)
    Xtr, Xte, ytr, yte = _split(X, y)
    ours, ref = ml.LogisticRegression().fit(Xtr, ytr), linear_model.LogisticRegression().fit(Xtr, ytr)
    assert np.mean(ours.predict(Xte) == ref.predict(Xte)) >= 0.99
    np.testing.assert_allclose(ours.predict_proba(Xte), ref.predict_proba(Xte), atol=1e-3)
    X, y = load_digits(return_X_y=True)
    X = X / 16
    Xtr, Xte, ytr, yte = _split(X, y)
    ours = ml.SoftmaxRegression().fit(Xtr, ytr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = linear_model.LogisticRegression(max_iter=5000).fit(Xtr, ytr)
    assert np.mean(ours.predict(Xte) == ref.predict(Xte)) >= 0.99


def _mean_penalised_loss_gradient(X, y, coef, intercept, C=1.0):
    """∇ of (1/n) Σ [ln(1 + e^{z}) − y z] + ‖w‖²/(2Cn), z = Xw + b (scikit-learn's objective)."""
    r = 1 / (1 + np.exp(-(X @ coef + intercept))) - y
    return np.r_[X.T @ r + coef / C, r.sum()] / len(y)


def test_logistic_regression_stops_by_sklearns_rule():
    """``tol=1e-4`` bounds the gradient of the mean penalised loss, as scikit-learn's.  Where both
    line searches take every unit step (this data) the iterates are scikit-learn's own (L-BFGS,
    memory 10, first step 1/‖g‖₂); elsewhere (Armijo halving here, Moré–Thuente in scipy) both stop
    within the tolerance of the same minimiser."""
    X, y = make_classification(800, 10, n_informative=5, random_state=0)
    ours, ref = ml.LogisticRegression().fit(X, y), linear_model.LogisticRegression().fit(X, y)
    assert ours.n_iter_ == ref.n_iter_[0]
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-8)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-8)
    for seed in range(3):
        X, y = make_classification(2000, 30, n_informative=15, random_state=seed)
        ours, ref = ml.LogisticRegression().fit(X, y), linear_model.LogisticRegression().fit(X, y)
        assert np.abs(_mean_penalised_loss_gradient(X, y, ours.coef_[0], ours.intercept_[0])).max() <= 1e-4
        assert np.abs(_mean_penalised_loss_gradient(X, y, ours.coef_[0], ours.intercept_[0])).max() > 1e-7  # not run to 1e-8
        np.testing.assert_allclose(ours.coef_, ref.coef_, atol=2e-3)
        assert np.mean(ours.predict(X) == ref.predict(X)) >= 0.999


def test_choose_threshold_on_held_out_data():
    X, y = make_classification(1000, 5, weights=[0.9], random_state=1)
    Xtr, Xval, ytr, yval = _split(X, y, 0.6)
    clf = ml.LogisticRegression().fit(Xtr, ytr)
    p = clf.predict_proba(Xval)[:, 1]
    t, f1 = ml.choose_threshold(yval, p, metric="f1")
    assert f1 >= ml.metrics.f1_score(yval, (p >= 0.5).astype(int))
    assert 0 < t < 1


@pytest.mark.parametrize("kernel", ["rbf", "linear", "poly"])
def test_kernel_svc_on_two_moons(kernel):
    X, y = make_moons(400, noise=0.25, random_state=0)
    Xt, yt = make_moons(400, noise=0.25, random_state=1)
    ours, ref = ml.KernelSVC(kernel=kernel).fit(X, y), svm.SVC(kernel=kernel).fit(X, y)
    assert abs(ours.score(Xt, yt) - ref.score(Xt, yt)) <= 0.01
    assert set(ours.support_.tolist()) == set(ref.support_.tolist())  # the same support vectors


def test_kernel_svc_on_digits():
    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = _split(X, y)
    ours, ref = ml.KernelSVC().fit(Xtr, ytr), svm.SVC().fit(Xtr, ytr)
    assert abs(ours.score(Xte, yte) - ref.score(Xte, yte)) <= 0.01
    assert len(ours.support_) < len(Xtr)  # sparse α


def test_one_vs_rest_and_one_vs_one_match_sklearn_wrappers():
    X, y = load_digits(return_X_y=True)
    X = X / 16
    Xtr, Xte, ytr, yte = _split(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ovr_ref = multiclass.OneVsRestClassifier(linear_model.LogisticRegression(max_iter=5000)).fit(Xtr, ytr)
        ovo_ref = multiclass.OneVsOneClassifier(linear_model.LogisticRegression(max_iter=5000)).fit(Xtr, ytr)
    ovr = ml.OneVsRest(ml.LogisticRegression()).fit(Xtr, ytr)
    ovo = ml.OneVsOne(ml.LogisticRegression()).fit(Xtr, ytr)
    assert np.mean(ovr.predict(Xte) == ovr_ref.predict(Xte)) >= 0.99
    assert np.mean(ovo.predict(Xte) == ovo_ref.predict(Xte)) >= 0.99
    svc_ovo = ml.OneVsOne(ml.KernelSVC()).fit(Xtr, ytr)
    ref = multiclass.OneVsOneClassifier(svm.SVC()).fit(Xtr, ytr)
    assert np.mean(svc_ovo.predict(Xte) == ref.predict(Xte)) >= 0.99


def test_perceptron_and_linear_svc_separate_separable_data():
    X, y = make_classification(300, 4, n_redundant=0, class_sep=3.0, flip_y=0.0, random_state=0)
    assert ml.Perceptron(random_state=0).fit(X, y).score(X, y) >= 0.99
    svc = ml.LinearSVC(loss="hinge").fit(X, y)
    ref = svm.SVC(kernel="linear").fit(X, y)  # the same problem: hinge + ½‖w‖², b unpenalised
    np.testing.assert_allclose(svc.coef_, ref.coef_, atol=2e-3)
    margins = (2 * y - 1) * svc.decision_function(X)
    assert svc.n_support_vectors_ == int(np.sum(margins <= 1 + 1e-3))  # support vectors: margin ≤ 1


def test_mlp_estimators_learn_multiclass_multilabel_and_regression():
    X, y = load_digits(return_X_y=True)
    X = X / 16
    Xtr, Xte, ytr, yte = _split(X, y)
    from sklearn.neural_network import MLPClassifier as SkMLP

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = SkMLP(hidden_layer_sizes=(64,), random_state=0).fit(Xtr, ytr).score(Xte, yte)
    ours = ml.MLPClassifier(hidden_layer_sizes=(64,), random_state=0).fit(Xtr, ytr).score(Xte, yte)
    assert ours > 0.9 and ours >= ref - 0.02
    Y = np.column_stack([y % 2, y > 4]).astype(int)
    clf = ml.MLPClassifier(hidden_layer_sizes=(64,), random_state=0).fit(Xtr, Y[: len(Xtr)])
    assert clf.predict(Xte).shape == (len(Xte), 2) and clf.score(Xte, Y[len(Xtr) :]) > 0.85
    rng = np.random.default_rng(0)
    Xr = rng.uniform(-2, 2, (500, 2))
    yr = np.sin(Xr[:, 0]) + Xr[:, 1] ** 2
    assert ml.MLPRegressor(hidden_layer_sizes=(32,), learning_rate_init=0.01, random_state=0).fit(Xr, yr).score(Xr, yr) > 0.95
