"""Fitted attributes, dtypes and shapes of the estimators against scikit-learn 1.9 (the oracle):
float32 data keeps float32 weights, one-column targets, ``n_iter_``, SVC's dual attributes and
its intercept without free support vectors, probabilistic PCA's likelihood, the wrappers' and
MLPs' attributes, and ``train_test_split`` keeping lists."""

import numpy as np
import pytest
import sklearn.cluster as skc
import sklearn.decomposition as skd
import sklearn.linear_model as skl
import sklearn.model_selection as skms
import sklearn.multiclass as skm
import sklearn.svm as sks
from sklearn.datasets import make_blobs
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from nablagrad import ml

RNG = np.random.default_rng(0)
X = RNG.normal(size=(60, 4))
Y_REG = X @ np.array([1.0, 2.0, 0.0, -1.0]) + 0.5 + 0.1 * RNG.normal(size=60)
Y3 = np.array(["x", "y", "z"])[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)]


def _dtype(v):
    return np.asarray(v).dtype


@pytest.mark.parametrize(
    ("ours", "theirs", "y", "attrs", "methods"),
    [
        (ml.LinearRegression(), skl.LinearRegression(), Y_REG, ["coef_", "intercept_"], ["predict"]),
        (ml.Ridge(), skl.Ridge(), Y_REG, ["coef_", "intercept_"], ["predict"]),
        (ml.Lasso(alpha=0.01), skl.Lasso(alpha=0.01), Y_REG, ["coef_", "intercept_"], ["predict"]),
        (ml.LogisticRegression(), skl.LogisticRegression(), Y3, ["coef_", "intercept_"],
         ["decision_function", "predict_proba"]),
        (ml.LogisticRegression(), skl.LogisticRegression(), Y3 == "x", ["coef_", "intercept_"],
         ["decision_function", "predict_proba"]),
        (ml.Perceptron(max_iter=5, random_state=0), skl.Perceptron(max_iter=5, random_state=0), Y3, ["coef_", "intercept_"],
         ["decision_function"]),
        (ml.KMeans(3, random_state=0), skc.KMeans(3, random_state=0), None, ["cluster_centers_"], ["transform"]),
        (ml.PCA(2), skd.PCA(2), None, ["components_", "explained_variance_"], ["transform"]),
        (ml.LinearSVC(), sks.LinearSVC(), Y3, ["coef_", "intercept_"], ["decision_function"]),
    ],
    ids=lambda v: type(v).__name__ if hasattr(v, "fit") else None,
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_dtype_of_weights_and_outputs_as_sklearn(ours, theirs, y, attrs, methods, dtype):
    Xd = X.astype(dtype)
    ours.fit(Xd, y)
    theirs.fit(Xd, y)
    for a in attrs:
        assert _dtype(getattr(ours, a)) == _dtype(getattr(theirs, a)), a
        assert np.shape(getattr(ours, a)) == np.shape(getattr(theirs, a)), a
    for m in methods:
        assert getattr(ours, m)(Xd).dtype == getattr(theirs, m)(Xd).dtype, m


@pytest.mark.parametrize("name", ["LinearRegression", "Ridge", "Lasso"])
@pytest.mark.parametrize("y_shape", ["1d", "column", "two"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_coef_intercept_and_prediction_shapes_as_sklearn(name, y_shape, fit_intercept):
    """scikit-learn 1.9: a one-column y gives Ridge/Lasso a 1-D coef_ and 1-D predictions but a (1,)
    intercept_; LinearRegression keeps (1, p); without intercept intercept_ is the float 0.0."""
    y = {"1d": Y_REG, "column": Y_REG[:, None], "two": np.c_[Y_REG, -Y_REG]}[y_shape]
    kw = {"alpha": 0.01} if name != "LinearRegression" else {}
    ours = getattr(ml, name)(fit_intercept=fit_intercept, **kw).fit(X, y)
    theirs = getattr(skl, name)(fit_intercept=fit_intercept, **kw).fit(X, y)
    assert ours.coef_.shape == theirs.coef_.shape
    assert np.shape(ours.intercept_) == np.shape(theirs.intercept_)
    assert type(ours.intercept_) is type(theirs.intercept_)
    assert ours.predict(X).shape == theirs.predict(X).shape
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=1e-4, atol=1e-5)


def test_n_iter_types_as_sklearn():
    two = np.c_[Y_REG, 2 * Y_REG]
    ours, theirs = ml.Lasso(alpha=0.1).fit(X, two), skl.Lasso(alpha=0.1).fit(X, two)
    assert isinstance(ours.n_iter_, list) and len(ours.n_iter_) == len(theirs.n_iter_) == 2
    assert np.ndim(ml.Lasso(alpha=0.1).fit(X, Y_REG).n_iter_) == 0
    for y in (Y3, Y3 == "x"):
        ours, theirs = ml.LogisticRegression().fit(X, y), skl.LogisticRegression().fit(X, y)
        assert ours.n_iter_.shape == theirs.n_iter_.shape == (1,)
        assert ours.n_iter_.dtype == theirs.n_iter_.dtype


@pytest.mark.parametrize("y", [Y3 == "x", Y3], ids=["binary", "three-classes"])
def test_kernel_svc_dual_attributes_as_svc(y):
    """support_ grouped by class, n_support_, dual_coef_ in libsvm's (k − 1, n_SV) layout, intercept_
    per pair (negated for two classes), and the binary identity decision = dual_coef_·k(SV, x) + b."""
    ours, theirs = ml.KernelSVC(tol=1e-6).fit(X, y), sks.SVC(tol=1e-6).fit(X, y)
    np.testing.assert_array_equal(ours.support_, theirs.support_)
    np.testing.assert_array_equal(ours.n_support_, theirs.n_support_)
    assert ours.support_.dtype == theirs.support_.dtype and ours.n_iter_.shape == theirs.n_iter_.shape
    np.testing.assert_allclose(ours.support_vectors_, theirs.support_vectors_)
    np.testing.assert_allclose(ours.dual_coef_, theirs.dual_coef_, atol=1e-4)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=1e-4)
    np.testing.assert_allclose(ours.decision_function(X), theirs.decision_function(X), atol=1e-4)
    if len(ours.classes_) == 2:
        K = np.exp(-ours._gamma_ * ((X[:, None] - ours.support_vectors_[None]) ** 2).sum(-1))
        np.testing.assert_allclose(K @ ours.dual_coef_[0] + ours.intercept_[0], ours.decision_function(X), atol=1e-12)


def test_kernel_svc_intercept_without_free_support_vectors_as_svc():
    """The data of scikit-learn's check_classifiers_train: with the poly kernel the pair (0, 2) has
    every α at a bound, so ρ comes from libsvm's bounds; they were swapped (intercept 5.15 instead
    of 0.45, 82 % of predictions agreeing)."""
    Xb, yb = make_blobs(n_samples=300, random_state=0)
    Xb = StandardScaler().fit_transform(Xb)
    ours = ml.KernelSVC(kernel="poly").fit(Xb, yb)
    theirs = sks.SVC(kernel="poly").fit(Xb, yb)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=1e-2)
    assert (ours.predict(Xb) == theirs.predict(Xb)).mean() >= 0.99
    assert ours.score(Xb, yb) > 0.83  # scikit-learn's threshold in check_classifiers_train


@pytest.mark.parametrize(
    "kw",
    [{}, {"n_components": 2}, {"n_components": 3, "whiten": True}, {"n_components": 0.8},
     {"n_components": 2, "svd_solver": "randomized", "random_state": 0}],
    ids=str,
)
def test_pca_probabilistic_model_as_sklearn(kw):
    data = RNG.normal(size=(80, 6)) @ RNG.normal(size=(6, 6))
    ours, theirs = ml.PCA(**kw).fit(data), skd.PCA(**kw).fit(data)
    assert ours.n_samples_ == theirs.n_samples_
    np.testing.assert_allclose(ours.noise_variance_, theirs.noise_variance_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.get_covariance(), theirs.get_covariance(), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(ours.get_precision(), theirs.get_precision(), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(ours.score_samples(data), theirs.score_samples(data), rtol=1e-9)
    np.testing.assert_allclose(ours.score(data), theirs.score(data), rtol=1e-9)
    np.testing.assert_array_equal(ours.get_feature_names_out(), theirs.get_feature_names_out())


def test_pca_scores_in_cross_validation_as_sklearn():
    data = RNG.normal(size=(45, 5)) @ RNG.normal(size=(5, 5))
    np.testing.assert_allclose(skms.cross_val_score(ml.PCA(2), data, cv=3),
                               skms.cross_val_score(skd.PCA(2), data, cv=3), rtol=1e-9)  # fmt: skip


def test_kmeans_labels_dtype_and_feature_names_as_sklearn():
    ours, theirs = ml.KMeans(3, random_state=0).fit(X), skc.KMeans(3, random_state=0, n_init=1).fit(X)
    assert ours.labels_.dtype == theirs.labels_.dtype and ours.predict(X).dtype == theirs.predict(X).dtype
    np.testing.assert_array_equal(ours.get_feature_names_out(), theirs.get_feature_names_out())
    with pytest.raises(ValueError, match="input_features"):
        ours.get_feature_names_out(["a"])


def test_multiclass_wrappers_attributes_as_sklearn():
    ovr = ml.OneVsRest(ml.LogisticRegression()).fit(X, Y3)
    sk_ovr = skm.OneVsRestClassifier(skl.LogisticRegression()).fit(X, Y3)
    assert ovr.n_classes_ == sk_ovr.n_classes_ and ovr.multilabel_ is sk_ovr.multilabel_ is False
    ovo = ml.OneVsOne(ml.LogisticRegression()).fit(X, Y3)
    sk_ovo = skm.OneVsOneClassifier(skl.LogisticRegression()).fit(X, Y3)
    assert ovo.n_classes_ == sk_ovo.n_classes_ and type(ovo.estimators_) is type(sk_ovo.estimators_)
    for mine, ref in zip(ovo.estimators_, sk_ovo.estimators_):  # same pairs, same order
        np.testing.assert_allclose(mine.coef_, ref.coef_, rtol=0.05, atol=0.02)
    assert not hasattr(ml.OneVsOne(ml.LogisticRegression()), "estimators_")


@pytest.mark.parametrize("y", [Y3 == "x", Y3], ids=["binary", "three-classes"])
def test_one_vs_one_decision_function_equals_sklearn(y):
    """Two classes: scikit-learn returns the second class's column of votes + squashed confidences
    (it was the difference of the two columns here)."""
    ours = ml.OneVsOne(ml.LogisticRegression(tol=1e-8)).fit(X, y)
    theirs = skm.OneVsOneClassifier(skl.LogisticRegression(tol=1e-8)).fit(X, y)
    np.testing.assert_allclose(ours.decision_function(X), theirs.decision_function(X), atol=1e-6)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))


def test_mlp_weights_are_the_network_that_predicts():
    """coefs_/intercepts_ as scikit-learn's (layer i: x ↦ relu(x W_i + b_i)); a forward pass in NumPy
    from them gives predict_proba (softmax over k units; two classes: one logistic unit, as scikit-learn's)."""
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    binary = ml.MLPClassifier(hidden_layer_sizes=(5, 4), max_iter=3, random_state=0).fit(X, y)
    assert [w.shape for w in binary.coefs_] == [(4, 5), (5, 4), (4, 1)] and binary.n_outputs_ == 1
    h = X
    for W, b in zip(binary.coefs_[:-1], binary.intercepts_[:-1]):
        h = np.maximum(h @ W + b, 0)
    p1 = 1 / (1 + np.exp(-(h @ binary.coefs_[-1] + binary.intercepts_[-1])[:, 0]))
    np.testing.assert_allclose(binary.predict_proba(X), np.c_[1 - p1, p1], rtol=1e-10)
    y = y + (X[:, 2] > 0)
    clf = ml.MLPClassifier(hidden_layer_sizes=(5, 4), max_iter=3, random_state=0).fit(X, y)
    assert [w.shape for w in clf.coefs_] == [(4, 5), (5, 4), (4, 3)]
    assert [b.shape for b in clf.intercepts_] == [(5,), (4,), (3,)]
    assert clf.n_layers_ == 4 and clf.n_outputs_ == 3
    assert clf.loss_ == clf.loss_curve_[-1] and clf.best_loss_ == min(clf.loss_curve_)
    h = X
    for W, b in zip(clf.coefs_[:-1], clf.intercepts_[:-1]):
        h = np.maximum(h @ W + b, 0)
    z = h @ clf.coefs_[-1] + clf.intercepts_[-1]
    p = np.exp(z - z.max(1, keepdims=True))
    np.testing.assert_allclose(clf.predict_proba(X), p / p.sum(1, keepdims=True), rtol=1e-10)
    assert not hasattr(ml.MLPClassifier(), "coefs_")


def test_train_test_split_keeps_lists_as_sklearn():
    Xl, yl = [[i, -i] for i in range(10)], list(range(10))
    ours, theirs = ml.train_test_split(Xl, yl, random_state=0), skms.train_test_split(Xl, yl, random_state=0)
    assert ours == theirs and all(type(a) is list for a in ours)
    arrays = ml.train_test_split(np.array(Xl), np.array(yl), random_state=0)
    for a, b in zip(arrays, skms.train_test_split(np.array(Xl), np.array(yl), random_state=0)):
        np.testing.assert_array_equal(a, b)


def test_linear_ranker_one_sample_names_it():
    with pytest.raises(ValueError, match="n_samples=1"):
        ml.LinearRanker().fit([[1.0, 2.0]], [1.0])


@parametrize_with_checks([ml.KernelSVC(kernel="poly"), ml.KernelSVC(kernel="linear"), ml.LinearRanker(),
                          ml.PCA(whiten=True)])  # fmt: skip
def test_more_configurations_pass_sklearns_checks(estimator, check):
    check(estimator)


def test_set_params_with_an_invalid_name_changes_nothing():
    """DESIGN: a failed operation changes nothing (scikit-learn's set_params sets the names before
    the invalid one); nested parameters included, in ours and in a scikit-learn estimator."""
    ridge = ml.Ridge()
    with pytest.raises(ValueError, match="bogus"):
        ridge.set_params(alpha=5.0, bogus=1)
    assert ridge.alpha == 1.0
    for base, name in ((ml.LogisticRegression(), "C"), (skl.LogisticRegression(), "C")):
        ovr = ml.OneVsRest(base)
        with pytest.raises(ValueError, match="bogus"):
            ovr.set_params(estimator__C=3.0, estimator__bogus=1)
        assert getattr(ovr.estimator, name) == 1.0
    swapped = ml.OneVsRest(ml.LogisticRegression()).set_params(estimator=ml.Perceptron(), estimator__eta0=0.5)
    assert isinstance(swapped.estimator, ml.Perceptron) and swapped.estimator.eta0 == 0.5


def test_confidence_intervals_cover_the_mean_and_match_scipy():
    """Coverage sanity of both 95 % intervals over 300 samples of 30 scores, the normal quantile at
    other levels, and the percentile bootstrap against scipy.stats.bootstrap (both Monte Carlo)."""
    import scipy.stats as st  # noqa: PLC0415

    rng = np.random.default_rng(3)
    hits = {"normal": 0, "bootstrap": 0}
    for t in range(300):
        scores = rng.normal(0.8, 0.05, 30)
        for method in hits:
            ci = ml.confidence_interval(scores, method=method, n_boot=1000, random_state=t)
            hits[method] += ci.low <= 0.8 <= ci.high
    assert 0.91 <= hits["normal"] / 300 <= 0.98 and 0.89 <= hits["bootstrap"] / 300 <= 0.98
    scores = rng.normal(size=25)
    for level in (0.8, 0.9, 0.99):
        ci = ml.confidence_interval(scores, level=level)
        half = st.norm.ppf(0.5 + level / 2) * st.sem(scores)
        np.testing.assert_allclose([ci.low, ci.high], [scores.mean() - half, scores.mean() + half], rtol=1e-9)
    ours = ml.confidence_interval(scores, method="bootstrap", n_boot=20_000, random_state=0)
    ref = st.bootstrap((scores,), np.mean, method="percentile", n_resamples=20_000, random_state=0).confidence_interval
    np.testing.assert_allclose([ours.low, ours.high], [ref.low, ref.high], atol=0.1 * ours.se)
