"""Audit findings, each checked against scikit-learn 1.9 (the oracle): CV splitting, ranking,
metrics on mixed and multilabel labels, overflow, PCA, Standardizer, kernels, split sizes."""

import warnings

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn import model_selection as skms
from sklearn.base import clone as sk_clone
from sklearn.decomposition import PCA as SkPCA
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.linear_model import Ridge as SkRidge
from sklearn.metrics.pairwise import polynomial_kernel, rbf_kernel
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from nablagrad import ml
from nablagrad.data import Standardizer
from nablagrad.ml import metrics as M

RNG = np.random.default_rng(0)
X3 = np.arange(30.0).reshape(-1, 1)
Y3 = np.repeat([0, 1, 2], 10)


def _folds(splitter, X, y):
    return [test for _, test in splitter.split(X, y)]


# --- 1, 9: which folds cross-validation uses -----------------------------------------------------
def test_cross_val_score_stratifies_a_scikit_learn_pipeline_of_a_classifier():
    pipe = make_pipeline(StandardScaler(), ml.LogisticRegression())
    np.testing.assert_allclose(ml.cross_val_score(pipe, X3, Y3, cv=3), skms.cross_val_score(pipe, X3, Y3, cv=3))
    sk_pipe = make_pipeline(StandardScaler(), SkLogisticRegression())  # a classifier only scikit-learn knows
    ours = ml.GridSearchCV(sk_pipe, {"logisticregression__C": [0.1, 10.0]}, cv=3).fit(X3, Y3)
    ref = skms.GridSearchCV(sk_pipe, {"logisticregression__C": [0.1, 10.0]}, cv=3).fit(X3, Y3)
    assert ours.best_params_ == ref.best_params_
    np.testing.assert_allclose(ours.cv_results_["mean_test_score"], ref.cv_results_["mean_test_score"])


def test_a_regressor_or_a_continuous_target_gets_plain_kfold():
    X = RNG.normal(size=(40, 3))
    y = X @ [1.0, -2.0, 0.5]
    pipe = make_pipeline(StandardScaler(), ml.Ridge())
    np.testing.assert_allclose(ml.cross_val_score(pipe, X, y, cv=4), skms.cross_val_score(pipe, X, y, cv=4))


def test_cv_none_and_an_iterable_of_index_pairs_as_scikit_learn():
    X = RNG.normal(size=(40, 4))
    y = X.sum(1)
    np.testing.assert_allclose(ml.cross_val_score(ml.Ridge(), X, y, cv=None),
                               skms.cross_val_score(SkRidge(), X, y, cv=None))  # fmt: skip
    pairs = [(np.arange(20), np.arange(20, 40)), (np.arange(20, 40), np.arange(20))]
    np.testing.assert_allclose(ml.cross_val_score(ml.Ridge(), X, y, cv=pairs),
                               skms.cross_val_score(SkRidge(), X, y, cv=pairs))  # fmt: skip
    g = ml.GridSearchCV(ml.Ridge(), {"alpha": [0.1, 1.0]}, cv=iter(pairs)).fit(X, y)
    assert g.n_splits_ == 2
    assert ml.GridSearchCV(ml.Ridge(), {"alpha": [1.0]}, cv=None).fit(X, y).n_splits_ == 5
    with pytest.raises(ValueError, match=r"cross_val_score: a split of cv holds .* row indices in \[0, 40\)"):
        ml.cross_val_score(ml.Ridge(), X, y, cv=[(np.arange(20), np.arange(35, 45))])
    with pytest.raises(ValueError, match="cross_val_score: cv must be None, a number of folds"):
        ml.cross_val_score(ml.Ridge(), X, y, cv="five")


# --- 2, 12: StratifiedKFold and KFold assign scikit-learn's folds ----------------------------------
@pytest.mark.parametrize("y", [
    [0] * 7 + [1] * 5 + [2] * 8,
    [2, 0, 1, 1, 0, 2, 2, 2, 0, 1, 0, 0, 1, 2, 1, 0, 2],
    list("bacabcabbcaacbbacb"),
    [1] * 3 + [0] * 10,
])  # fmt: skip
@pytest.mark.parametrize("n_splits", [2, 3])
@pytest.mark.parametrize(("shuffle", "random_state"), [(False, None), (True, 0), (True, 42)])
def test_stratified_kfold_folds_equal_scikit_learns(y, n_splits, shuffle, random_state):
    y = np.array(y)
    X = np.zeros((len(y), 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # scikit-learn: a class smaller than n_splits
        ref = _folds(skms.StratifiedKFold(n_splits, shuffle=shuffle, random_state=random_state), X, y)
    ours = _folds(ml.StratifiedKFold(n_splits, shuffle=shuffle, random_state=random_state), X, y)
    assert [f.tolist() for f in ours] == [f.tolist() for f in ref]


@pytest.mark.parametrize("random_state", [0, 7])
def test_shuffled_kfold_folds_equal_scikit_learns(random_state):
    X = np.zeros((23, 1))
    ours = _folds(ml.KFold(4, shuffle=True, random_state=random_state), X, None)
    ref = _folds(skms.KFold(4, shuffle=True, random_state=random_state), X, None)
    assert [f.tolist() for f in ours] == [f.tolist() for f in ref]


@pytest.mark.parametrize("which", ["KFold", "StratifiedKFold"])
def test_a_seed_without_shuffle_is_refused_as_scikit_learn(which):
    with pytest.raises(ValueError, match="random_state"):
        getattr(skms, which)(3, random_state=0)
    with pytest.raises(ValueError, match=f"{which}: setting random_state=0 has no effect since shuffle is False"):
        getattr(ml, which)(3, random_state=0)


# --- 3: a NaN mean score ranks last ---------------------------------------------------------------
def test_grid_search_ranks_a_nan_mean_last_as_scikit_learn():
    X = RNG.normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int)

    def scorer(est, X, y):
        return np.nan if est.C == 1 else 0.5

    ours = ml.GridSearchCV(ml.LogisticRegression(), {"C": [1, 2, 3]}, cv=3, scoring=scorer).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # scikit-learn warns about the non-finite scores
        ref = skms.GridSearchCV(SkLogisticRegression(), {"C": [1, 2, 3]}, cv=3, scoring=scorer).fit(X, y)
    np.testing.assert_array_equal(ours.cv_results_["rank_test_score"], ref.cv_results_["rank_test_score"])
    assert ours.best_params_ == ref.best_params_ == {"C": 2}


# --- 4: mixed label types, multilabel indicators ---------------------------------------------------
@pytest.mark.parametrize("fn", ["accuracy_score", "confusion_matrix", "f1_score", "balanced_accuracy_score"])
def test_strings_and_numbers_mixed_are_refused_as_scikit_learn(fn):
    with pytest.raises(ValueError, match=r"Mix of label input types \(string and number\)"):
        getattr(skm, fn)(["0", "1", "1"], [0, 1, 1])
    with pytest.raises(ValueError, match=rf"{fn}: Mix of label input types \(string and number\)"):
        getattr(M, fn)(["0", "1", "1"], [0, 1, 1])


@pytest.mark.parametrize("fn", ["f1_score", "precision_score", "recall_score"])
@pytest.mark.parametrize("average", ["micro", "macro", "weighted", "samples", None])
def test_prf_on_multilabel_indicators_equals_scikit_learn(fn, average):
    rng = np.random.default_rng(3)
    for _ in range(20):
        a = rng.integers(0, 2, (int(rng.integers(1, 10)), 3))
        b = rng.integers(0, 2, a.shape)
        np.testing.assert_allclose(getattr(M, fn)(a, b, average=average),
                                   getattr(skm, fn)(a, b, average=average, zero_division=0))  # fmt: skip


def test_multilabel_refusals_as_scikit_learn():
    a, b = np.array([[1, 0], [0, 1]]), np.array([[1, 1], [0, 1]])
    with pytest.raises(ValueError, match="Target is multilabel-indicator but average='binary'"):
        skm.f1_score(a, b)
    with pytest.raises(ValueError, match="f1_score: Target is multilabel-indicator but average='binary'"):
        M.f1_score(a, b)
    with pytest.raises(ValueError, match="multilabel-indicator is not supported"):
        skm.confusion_matrix(a, b)
    with pytest.raises(ValueError, match="confusion_matrix: multilabel-indicator is not supported"):
        M.confusion_matrix(a, b)
    with pytest.raises(ValueError, match="Samplewise metrics are not available outside of multilabel"):
        skm.f1_score([0, 1, 2], [0, 1, 1], average="samples")
    with pytest.raises(ValueError, match="f1_score: Sample-based precision.*outside multilabel"):
        M.f1_score([0, 1, 2], [0, 1, 1], average="samples")


# --- 6: XᵀX overflow -------------------------------------------------------------------------------
@pytest.mark.parametrize("est", [ml.Ridge(), ml.Lasso(), ml.LinearRegression(solver="normal")], ids=repr)
def test_an_overflowing_gram_matrix_is_refused(est):
    X = RNG.normal(size=(40, 4)) * 1e160
    y = X.sum(1) / 1e160
    with pytest.raises(ValueError, match="array must not contain infs or NaNs"):
        SkRidge().fit(X, y)  # scikit-learn refuses too (its message is LAPACK's)
    with pytest.raises(ValueError, match=rf"{type(est).__name__}: XᵀX \(or Xᵀy\) overflows float64.*StandardScaler"):
        est.fit(X, y)
    assert not hasattr(est, "coef_")


# --- 7: Standardizer --------------------------------------------------------------------------------
def test_standardizer_in_a_scikit_learn_pipeline_equals_standard_scaler():
    X = RNG.normal(size=(30, 3)) * [1, 10, 100]
    y = (X[:, 0] > 0).astype(int)
    ours = sk_clone(make_pipeline(Standardizer(), SkLogisticRegression())).fit(X, y)
    ref = make_pipeline(StandardScaler(), SkLogisticRegression()).fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X))
    np.testing.assert_allclose(Standardizer().fit_transform(X, y), StandardScaler().fit_transform(X, y))
    assert Standardizer().get_params() == {} and repr(Standardizer()) == "Standardizer()"


def test_standardizer_refuses_nan_and_use_before_fit():
    X = np.array([[1.0, np.nan], [2.0, 3.0], [3.0, 4.0]])
    s = Standardizer().fit(np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"Standardizer.fit: X contains NaN or infinity \(first at row 0, column 1\)"):
        s.fit(X)
    np.testing.assert_array_equal(s.mean_, [1.0, 1.0])  # the refused fit kept the last one
    for method in ("transform", "inverse_transform"):
        with pytest.raises(ValueError, match=f"Standardizer.{method}: not fitted yet") as info:
            getattr(Standardizer(), method)(X)
        assert isinstance(info.value, AttributeError)  # as scikit-learn's NotFittedError
    with pytest.raises(ValueError, match=r"Standardizer.inverse_transform: Z has rows of shape \(3,\)"):
        s.inverse_transform(np.ones((2, 3)))
    with pytest.raises(ValueError, match="Standardizer.set_params: Standardizer has no parameters"):
        s.set_params(with_mean=False)


# --- 8: PCA --------------------------------------------------------------------------------------
@pytest.mark.parametrize("fraction", [0.5, 0.25, 0.75])
def test_pca_fraction_counts_components_as_scikit_learn(fraction):
    X = np.array([[1.0, 0, 0, 0], [-1, 0, 0, 0], [0, 1, 0, 0], [0, -1, 0, 0], [0, 0, 1, 0], [0, 0, -1, 0],
                  [0, 0, 0, 1], [0, 0, 0, -1]])  # fmt: skip
    assert ml.PCA(fraction).fit(X).n_components_ == SkPCA(fraction).fit(X).n_components_


def test_pca_on_float16_and_a_wrong_width_inverse_transform():
    X = RNG.normal(size=(30, 3)).astype(np.float16)
    ours, ref = ml.PCA().fit(X), SkPCA().fit(X)
    np.testing.assert_allclose(ours.explained_variance_, ref.explained_variance_)
    np.testing.assert_allclose(ours.transform(X), ref.transform(X), atol=1e-10)
    with pytest.raises(ValueError, match=r"PCA.inverse_transform: Z has 3 columns but this PCA has n_components_=2"):
        ml.PCA(2).fit(X).inverse_transform(np.ones((2, 3)))


# --- 10: labels that are not one kind ------------------------------------------------------------
@pytest.mark.parametrize("y", [[1, None, 1, None], [None, 1, None, 1], ["a", 1, "a", 1]])
def test_labels_of_several_kinds_are_refused_with_a_value_error(y):
    y = np.array(y, dtype=object)
    X = RNG.normal(size=(4, 2))
    with pytest.raises((ValueError, TypeError)):
        SkLogisticRegression().fit(X, y)
    with pytest.raises(ValueError, match="LogisticRegression: Unknown label type: unknown"):
        ml.LogisticRegression().fit(X, y)


def test_numbers_in_an_object_array_are_labels_and_fractions_are_continuous():
    X = RNG.normal(size=(4, 2))
    assert ml.LogisticRegression().fit(X, np.array([1, 2, 1, 2], dtype=object)).classes_.tolist() == [1, 2]
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        ml.LogisticRegression().fit(X, np.array([1.5, 2, 1, 2], dtype=object))


# --- 11: kernel_matrix, choose_threshold ---------------------------------------------------------
def test_kernel_matrix_equals_scikit_learn_kernels_and_svc_gamma_scale():
    A, B = RNG.normal(size=(5, 3)), RNG.normal(size=(4, 3))
    np.testing.assert_allclose(ml.kernel_matrix(A.tolist(), B.tolist(), "rbf", 0.3), rbf_kernel(A, B, gamma=0.3))
    np.testing.assert_allclose(ml.kernel_matrix(A, B, "poly", 0.5, 2, 1.0), polynomial_kernel(A, B, 2, 0.5, 1.0))
    gamma = SVC(gamma="scale").fit(A, [0, 1, 0, 1, 0])._gamma
    np.testing.assert_allclose(ml.kernel_matrix(A, B, "rbf", "scale"), rbf_kernel(A, B, gamma=gamma))


@pytest.mark.parametrize(("args", "message"), [
    (([[1.0, 2.0]], [[1.0, 2.0, 3.0]]), "kernel_matrix: A has 2 features .* but B has 3"),
    (([1.0, 2.0], [[1.0, 2.0]]), r"kernel_matrix: A must be 2-D .* got shape \(2,\); reshape it"),
    (([[1.0]], [[1.0]], "rbf", "big"), "The 'gamma' parameter of kernel_matrix must be"),
    (([[1.0]], [[1.0]], "sigmoid"), "The 'kernel' parameter of kernel_matrix must be"),
])  # fmt: skip
def test_kernel_matrix_refuses_bad_input_by_name(args, message):
    with pytest.raises(ValueError, match=message):
        ml.kernel_matrix(*args)


def test_choose_threshold_takes_string_labels_and_pos_label():
    scores = [0.1, 0.8, 0.7, 0.3, 0.6]
    as_text = ml.choose_threshold(["n", "p", "p", "n", "n"], scores)
    as_ints = ml.choose_threshold([0, 1, 1, 0, 0], scores)
    assert as_text == as_ints
    t, f1 = ml.choose_threshold(["n", "p", "p", "n", "n"], scores, pos_label="n")
    pred = np.where(np.asarray(scores) >= t, "n", "p")
    assert f1 == pytest.approx(skm.f1_score(["n", "p", "p", "n", "n"], pred, pos_label="n"))
    with pytest.raises(ValueError, match="choose_threshold: pos_label='x' is not one of the labels"):
        ml.choose_threshold(["n", "p"], [0.1, 0.2], pos_label="x")
    with pytest.raises(ValueError, match="choose_threshold: a threshold splits two classes, but y_true has 3"):
        ml.choose_threshold([0, 1, 2], [0.1, 0.2, 0.3])


# --- 12: train_test_split sizes ------------------------------------------------------------------
@pytest.mark.parametrize("sizes", [{}, {"test_size": None}, {"train_size": 0.8}, {"train_size": 13},
                                   {"test_size": 0.2, "train_size": 0.5}, {"test_size": 3, "train_size": 10}])  # fmt: skip
@pytest.mark.parametrize("shuffle", [True, False])
def test_train_test_split_sizes_as_scikit_learn(sizes, shuffle):
    X, y = np.arange(40.0).reshape(20, 2), np.arange(20)
    ours = ml.train_test_split(X, y, shuffle=shuffle, random_state=0, **sizes)
    ref = skms.train_test_split(X, y, shuffle=shuffle, random_state=0 if shuffle else None, **sizes)
    assert [len(a) for a in ours] == [len(a) for a in ref]
    if not shuffle:
        for a, b in zip(ours, ref):
            np.testing.assert_array_equal(a, b)


def test_train_test_split_stratified_with_a_train_size():
    y = np.repeat([0, 1, 2], [10, 6, 4])
    X = np.zeros((20, 1))
    _, _, y_tr, y_te = ml.train_test_split(X, y, train_size=10, test_size=5, stratify=y, random_state=0)
    _, _, ref_tr, ref_te = skms.train_test_split(X, y, train_size=10, test_size=5, stratify=y, random_state=0)
    assert len(y_tr) == len(ref_tr) and len(y_te) == len(ref_te)
    assert np.abs(np.bincount(y_tr, minlength=3) - np.bincount(ref_tr, minlength=3)).max() <= 1


def test_train_test_split_refuses_sizes_over_the_rows():
    X = np.zeros((20, 1))
    with pytest.raises(ValueError):
        skms.train_test_split(X, train_size=15, test_size=10)
    with pytest.raises(ValueError, match=r"train_test_split: train_size=15 \(15 rows\) and test_size=10 .* add up to more"):
        ml.train_test_split(X, train_size=15, test_size=10)
