"""Session 21 (job E) against scikit-learn 1.9 (the oracle): MLP ``partial_fit`` (scikit-learn's one-epoch
trajectory from the same start, ``classes`` on the first call, its errors) and float32 kept through the
network; Perceptron's ``sample_weight`` / ``coef_init`` / ``intercept_init`` (scikit-learn's exact steps
without shuffling, zero weights as removed rows, integer weights as repeated rows) and its default seed;
k-means' update step in one pass, equal to scikit-learn's Lloyd iterations with many clusters."""

import warnings

import numpy as np
import pytest
from sklearn import cluster as skc
from sklearn import linear_model as skl
from sklearn import neural_network as skn
from sklearn.datasets import make_blobs, make_classification, make_regression
from sklearn.utils import shuffle

from nablagrad import ml
from nablagrad.ml import cluster

# ---------------------------------------------------------------- MLP partial_fit


def _mlp_data(task: str):
    if task == "regression":
        X, y = make_regression(90, 4, n_targets=2, noise=1.0, random_state=0)
        return X, y / 100, ml.MLPRegressor, skn.MLPRegressor, {}
    X, y = make_classification(90, 5, n_informative=3, n_classes=3 if task == "multiclass" else 2, random_state=0)
    if task == "multilabel":
        y = np.c_[y, 1 - y, X[:, 0] > 0].astype(int)
        return X, y, ml.MLPClassifier, skn.MLPClassifier, {"classes": [0, 1, 2]}
    labels = np.array(["ant", "bee", "cat"])[y]  # string labels, listed in classes= in another order
    return X, labels, ml.MLPClassifier, skn.MLPClassifier, {"classes": list(np.unique(labels))[::-1]}


@pytest.mark.parametrize("task", ["regression", "binary", "multiclass", "multilabel"])
def test_mlp_partial_fit_follows_scikit_learns_epochs_from_the_same_start(task):
    """Three partial_fit calls (one epoch each, Adam's state carried over) equal scikit-learn's three
    calls from our initial weights (unshuffled; scikit-learn's optimiser made by its first call)."""
    X, y, ours_cls, ref_cls, kw_fit = _mlp_data(task)
    kw = {"hidden_layer_sizes": (6,), "random_state": 0, "learning_rate_init": 0.01, "batch_size": 32, "alpha": 0.3,
          "shuffle": False}  # fmt: skip
    ours, ref = ours_cls(**kw), ref_cls(**kw)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # partial_fit never warns of convergence
        for _ in range(3):
            ours.partial_fit(X, y, **kw_fit)
        ref.partial_fit(X, y, **kw_fit)  # creates its attributes: then restart it from our first weights
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ml.ConvergenceWarning)
        start = ours_cls(**{**kw, "learning_rate_init": 1e-300}, max_iter=1).fit(X, y)  # steps of 1e-300: no move
    ref.coefs_, ref.intercepts_ = [c.copy() for c in start.coefs_], [b.copy() for b in start.intercepts_]
    del ref._optimizer  # made afresh by its next call, as ours by our first
    ref.loss_curve_, ref.t_ = [], 0
    for _ in range(3):
        ref.partial_fit(X, y)
    assert ours.n_iter_ == ref.n_iter_ == 1 and ours.t_ == ref.t_ == 3 * len(X)
    np.testing.assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=2e-6)
    for a, b in zip(ours.coefs_ + ours.intercepts_, ref.coefs_ + ref.intercepts_):  # Adam's ε: see test_s20_c
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=2e-4)  # a new Adam per call would be off by ~lr = 0.01
    if task != "regression":
        np.testing.assert_array_equal(ours.classes_, ref.classes_)
        np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=5e-5)


@pytest.mark.parametrize("cls", [ml.MLPClassifier, ml.MLPRegressor])
def test_mlp_one_partial_fit_is_fit_for_one_epoch_and_continues_fit(cls):
    X, y = make_classification(60, 4, random_state=1)
    kw = {"hidden_layer_sizes": (5,), "random_state": 3}
    extra = {"classes": [0, 1]} if cls is ml.MLPClassifier else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ml.ConvergenceWarning)
        once = cls(**kw, max_iter=1).fit(X, y)
        two = cls(**kw, max_iter=2).fit(X, y)
        after_fit = cls(**kw, max_iter=1).fit(X, y)
    part = cls(**kw).partial_fit(X, y, **extra)
    for a, b in zip(once.coefs_ + once.intercepts_, part.coefs_ + part.intercepts_):
        np.testing.assert_array_equal(a, b)
    after_fit.partial_fit(X, y)  # continues fit's network and Adam's state: fit's second epoch (one batch of 60)
    assert len(after_fit.loss_curve_) == 2 and after_fit.loss_curve_[0] == two.loss_curve_[0]
    assert after_fit.loss_curve_[1] == pytest.approx(two.loss_curve_[1], rel=1e-12)
    for a, b in zip(after_fit.coefs_, two.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match="X has 3 features, but .* is expecting 4"):
        part.partial_fit(X[:, :3], y)
    assert len(part.loss_curve_) == 1  # the refused call changed nothing


def test_mlp_classifier_partial_fit_classes_as_scikit_learn():
    X, y = make_classification(40, 3, n_informative=2, n_redundant=0, n_classes=3, n_clusters_per_class=1,
                               random_state=0)  # fmt: skip
    for est in (skn.MLPClassifier(hidden_layer_sizes=(3,)), ml.MLPClassifier((3,))):
        with pytest.raises(ValueError, match="classes must be passed on the first call to partial_fit"):
            est.partial_fit(X, y)
        assert not hasattr(est, "classes_")
        est.partial_fit(X[y < 2], y[y < 2], classes=[2, 0, 1])  # y may show only some of the classes
        np.testing.assert_array_equal(est.classes_, [0, 1, 2])
        assert est.predict_proba(X).shape == (40, 3)
        with pytest.raises(ValueError, match="is not the same as on last call to partial_fit"):
            est.partial_fit(X, y, classes=[0, 1])
        with pytest.raises(ValueError, match="`y` has classes not in `self.classes_`"):
            est.partial_fit(X, np.where(y == 2, 7, y))
        est.partial_fit(X, y, classes=[0, 1, 2])  # the same classes again: fine


@pytest.mark.parametrize("task", ["regression", "multiclass"])
def test_mlp_warm_start_and_adam_betas_follow_scikit_learn(task):
    """warm_start=True: a second fit continues from the first's weights with a new Adam (β₁, β₂ given),
    its losses appended to loss_curve_ and t_ counting on, as scikit-learn's from the same start."""
    X, y, ours_cls, ref_cls, _ = _mlp_data(task)
    kw = {"hidden_layer_sizes": (5,), "random_state": 0, "learning_rate_init": 0.01, "batch_size": 32, "shuffle": False,
          "beta_1": 0.8, "beta_2": 0.99, "warm_start": True, "max_iter": 3}  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ml.ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)
        ours = ours_cls(**kw).fit(X, y).fit(X, y)
        start = ours_cls(**{**kw, "learning_rate_init": 1e-300, "max_iter": 1}).fit(X, y)
        ref = ref_cls(**{**kw, "max_iter": 1}).fit(X, y)
        ref.coefs_, ref.intercepts_ = [c.copy() for c in start.coefs_], [b.copy() for b in start.intercepts_]
        ref.loss_curve_, ref.best_loss_, ref._no_improvement_count, ref.t_ = [], np.inf, 0, 0
        ref.set_params(max_iter=3).fit(X, y).fit(X, y)
    assert ours.n_iter_ == ref.n_iter_ == 3 and ours.t_ == ref.t_ == 6 * len(X)
    np.testing.assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=1e-5)
    for a, b in zip(ours.coefs_ + ours.intercepts_, ref.coefs_ + ref.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=2e-4)


def test_mlp_warm_start_refuses_other_classes_and_new_parameters_as_scikit_learn():
    X, y = make_classification(60, 4, n_classes=3, n_informative=3, n_redundant=0, random_state=0)
    for cls in (skn.MLPClassifier, ml.MLPClassifier):
        est = cls(hidden_layer_sizes=(3,), max_iter=2, warm_start=True, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X, y)
        with pytest.raises(ValueError, match="warm_start can only be used where `y` has the same classes"):
            est.fit(X, np.minimum(y, 1))
        np.testing.assert_array_equal(est.classes_, [0, 1, 2])  # the refused fit changed nothing
    for name, value in (("beta_1", 1.0), ("beta_2", -0.1), ("epsilon", 0.0), ("warm_start", "yes")):
        for est in (skn.MLPRegressor(**{name: value}), ml.MLPRegressor(**{name: value})):
            with pytest.raises(ValueError, match=f"The '{name}' parameter of MLPRegressor must be"):
                est.fit(X, y)
    defaults = skn.MLPClassifier().get_params()
    assert {k: v for k, v in ml.MLPClassifier().get_params().items()} == {k: defaults[k] for k in
                                                                           ml.MLPClassifier().get_params()}  # fmt: skip


def test_mlp_predict_log_proba_as_scikit_learn():
    X, y = make_classification(60, 4, n_classes=3, n_informative=3, n_redundant=0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ml.ConvergenceWarning)
        est = ml.MLPClassifier((4,), max_iter=5, random_state=0).fit(X.astype(np.float32), y)
    log_p = est.predict_log_proba(X.astype(np.float32))
    assert log_p.dtype == np.float32 and log_p.shape == (60, 3)
    np.testing.assert_allclose(np.exp(log_p), est.predict_proba(X.astype(np.float32)), rtol=1e-6)


# ---------------------------------------------------------------- MLP dtypes


@pytest.mark.parametrize("fit_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_mlp_keeps_float32_as_scikit_learn(fit_dtype, kind):
    """float32 data: float32 weights and outputs; at predict time X's and the weights' common type."""
    X, y = make_classification(50, 4, n_classes=3, n_informative=3, n_redundant=0, random_state=0)
    pair = (ml.MLPClassifier, skn.MLPClassifier) if kind == "classifier" else (ml.MLPRegressor, skn.MLPRegressor)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, ref = (c(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(X.astype(fit_dtype), y) for c in pair)
    assert [c.dtype for c in ours.coefs_ + ours.intercepts_] == [c.dtype for c in ref.coefs_ + ref.intercepts_]
    methods = ["predict_proba", "predict"] if kind == "classifier" else ["predict"]
    for dtype in (np.float32, np.float64):
        for m in methods:
            a, b = getattr(ours, m)(X.astype(dtype)), getattr(ref, m)(X.astype(dtype))
            assert a.dtype == b.dtype and a.shape == b.shape, (m, dtype)


# ---------------------------------------------------------------- Perceptron


def _perceptron_data(classes: int):
    X, y = make_classification(80, 4, n_informative=3, n_redundant=0, n_classes=classes, random_state=1)
    rng = np.random.default_rng(0)
    models = 1 if classes == 2 else classes
    return X, y, rng.integers(0, 3, 80).astype(float) + 0.25 * rng.random(80), rng.normal(size=(models, 4)), \
        rng.normal(size=models)  # fmt: skip


@pytest.mark.parametrize("classes", [2, 3])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("given", [(), ("sample_weight",), ("coef_init", "intercept_init"),
                                   ("sample_weight", "coef_init", "intercept_init")])  # fmt: skip
def test_perceptron_fit_arguments_equal_scikit_learns_steps(classes, fit_intercept, given):
    """Unshuffled, the same steps as scikit-learn's (``tol=None``): ``η s_i y x`` from the given start."""
    X, y, sw, W0, b0 = _perceptron_data(classes)
    kw = {k: v for k, v in {"sample_weight": sw, "coef_init": W0, "intercept_init": b0}.items() if k in given}
    ours = ml.Perceptron(shuffle=False, max_iter=30, tol=None, fit_intercept=fit_intercept).fit(X, y, **kw)
    ref = skl.Perceptron(shuffle=False, max_iter=30, tol=None, fit_intercept=fit_intercept).fit(X, y, **kw)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))


def test_perceptron_two_class_starts_take_scikit_learns_shapes_and_errors():
    X, y, _, W0, b0 = _perceptron_data(2)
    for coef, intercept in ((W0[0], b0[0]), (W0, b0)):  # (p,) and a scalar, or (1, p) and (1,)
        ours = ml.Perceptron(shuffle=False, max_iter=5).fit(X, y, coef_init=coef, intercept_init=intercept)
        ref = skl.Perceptron(shuffle=False, max_iter=5, tol=None).fit(X, y, coef_init=coef, intercept_init=intercept)
        np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-12)
    X3, y3, _, W3, b3 = _perceptron_data(3)
    bad = [(X, y, {"coef_init": np.ones(3)}), (X, y, {"intercept_init": np.ones(2)}),
           (X3, y3, {"coef_init": W3[:2]}), (X3, y3, {"intercept_init": b3[:1]})]  # fmt: skip
    for Xb, yb, kw in bad:
        with pytest.raises(ValueError, match="does not match dataset"):
            skl.Perceptron().fit(Xb, yb, **kw)
        est = ml.Perceptron()
        with pytest.raises(ValueError, match="Provided (coef|intercept)_init does not match dataset"):
            est.fit(Xb, yb, **kw)
        assert not hasattr(est, "coef_")


@pytest.mark.parametrize("shuffle_rows", [False, True])
def test_perceptron_zero_weights_are_removed_rows(shuffle_rows):
    X, y, sw, _, _ = _perceptron_data(3)
    sw = np.floor(sw)  # zeros among them
    for est_shuffle in (False, True):
        weighted = ml.Perceptron(shuffle=est_shuffle, max_iter=20).fit(X, y, sample_weight=(sw > 0).astype(float))
        removed = ml.Perceptron(shuffle=est_shuffle, max_iter=20).fit(X[sw > 0], y[sw > 0])
        np.testing.assert_array_equal(weighted.coef_, removed.coef_)
        assert weighted.n_iter_ == removed.n_iter_


@pytest.mark.parametrize("seed", range(3))
def test_perceptron_integer_weights_are_repeated_rows_in_any_order(seed):
    """shuffle=True: an integer weight is that many repeated rows, whatever the rows' order (the property
    scikit-learn's check_sample_weight_equivalence tests, which scikit-learn's own Perceptron fails)."""
    rng = np.random.RandomState(seed)
    X, y, sw = rng.rand(20, 6), rng.randint(0, 3, 20), rng.randint(0, 4, 20)
    sw[:3] = np.maximum(sw[:3], 1)
    Xw, yw, sww = shuffle(X, y, sw, random_state=seed)
    repeated = ml.Perceptron(max_iter=15, random_state=seed).fit(X.repeat(sw, 0), y.repeat(sw))
    weighted = ml.Perceptron(max_iter=15, random_state=seed).fit(Xw, yw, sample_weight=sww)
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(weighted.decision_function(X), repeated.decision_function(X), rtol=1e-10, atol=1e-12)


def test_perceptron_default_seed_is_scikit_learns():
    """scikit-learn's Perceptron defaults to random_state=0: two default fits are the same fit."""
    assert ml.Perceptron().get_params()["random_state"] == skl.Perceptron().get_params()["random_state"] == 0
    X, y, _, _, _ = _perceptron_data(3)
    np.testing.assert_array_equal(ml.Perceptron(max_iter=3).fit(X, y).coef_, ml.Perceptron(max_iter=3).fit(X, y).coef_)


# ---------------------------------------------------------------- KMeans update step


def test_kmeans_update_step_is_the_weighted_mean_of_each_cluster():
    """One pass over the rows gives each cluster's weighted mean; empty and zero-weight clusters keep theirs."""
    rng = np.random.default_rng(0)
    X, labels, C = rng.normal(size=(200, 3)), rng.integers(0, 6, 200), rng.normal(size=(7, 3))  # cluster 6 empty
    w = rng.random(200)
    w[labels == 5] = 0.0  # cluster 5 weighs nothing
    for weights in (None, w):
        got = cluster._weighted_means(X, labels, C, weights)
        s = np.ones(len(X)) if weights is None else weights
        for c in range(7):
            m = labels == c
            want = C[c] if s[m].sum() == 0 else np.average(X[m], axis=0, weights=s[m])
            np.testing.assert_allclose(got[c], want, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kmeans_many_clusters_from_given_centres_equal_scikit_learn(dtype):
    X, _ = make_blobs(600, 2, centers=40, cluster_std=1.0, random_state=4)
    X = X.astype(dtype)
    init = X[::15][:40].astype(np.float64)
    ours = ml.KMeans(40, init=init, n_init=1).fit(X)
    ref = skc.KMeans(40, init=init, n_init=1).fit(X)
    assert ref.n_iter_ > 2
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    assert ours.n_iter_ == ref.n_iter_ and ours.cluster_centers_.dtype == ref.cluster_centers_.dtype
    tol = 1e-10 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=tol, atol=tol)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=tol)


# ---------------------------------------------------------------- splitters


@pytest.mark.parametrize("name", ["KFold", "StratifiedKFold", "ShuffleSplit", "StratifiedShuffleSplit", "LeaveOneOut",
                                  "GroupKFold"])  # fmt: skip
def test_splitters_warn_of_ignored_groups_and_split_as_scikit_learn(name):
    from sklearn import model_selection as skms  # noqa: PLC0415

    X, y, groups = np.zeros((12, 1)), np.arange(12) % 2, np.arange(12) // 3
    kw = {} if name == "LeaveOneOut" else {"n_splits": 3, "random_state": 0} if "Shuffle" in name else {"n_splits": 3}
    ours, ref = getattr(ml, name)(**kw), getattr(skms, name)(**kw)
    reads_groups = name == "GroupKFold"
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        ref_splits = list(ref.split(X, y, groups))
        ref_messages = [str(w.message) for w in seen]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        our_splits = list(ours.split(X, y, groups))
        assert [str(w.message) for w in seen] == ref_messages == ([] if reads_groups else
                                                                  [f"The groups parameter is ignored by {name}"])  # fmt: skip
    for (a, b), (c, d) in zip(our_splits, ref_splits, strict=True):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if not reads_groups:
            list(ours.split(X, y))  # no groups: no warning
