"""Audit (session 9) of the public API as a hostile user: each input below used to give a raw
NumPy/Python error from deep inside (AttributeError, "expected non-negative integer", "scale < 0",
"range() arg 3 must not be zero", ...), or was silently accepted.  Each now gets an error naming
the function, the bad value and the fix, and a refused call changes nothing."""

import re
import zipfile

import numpy as np
import pytest

import nablagrad as ng
from nablagrad import data as D
from nablagrad import ml
from nablagrad.data import DataFormatError
from nablagrad.ml import metrics as M
from nablagrad.ml import model_selection as MS

nn = ng.nn


def _model():
    return nn.Sequential(nn.Linear(3, 2, seed=0))


def _weights(m):
    return [p.numpy().copy() for p in m.parameters()]


def _same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


X = np.random.default_rng(0).random((20, 3)).astype(np.float32)
Y = (X[:, 0] > 0.5).astype(np.int64)


# --- the engine: an axis of the wrong type, operands of the wrong type -------------------------------
@pytest.mark.parametrize(
    "call, message",
    [
        (lambda t: t.sum(axis="a"), r"sum: axis must be an int, a tuple of ints or None, got 'a' \(str\)"),
        (lambda t: t.mean(axis=1.5), r"mean: axis must be an int, a tuple of ints or None, got 1\.5 \(float\)"),
        (lambda t: ng.softmax(t, axis="1"), r"softmax: axis must be .* got '1'"),
        (lambda t: nn.functional.softmax(t, dim="a"), r"softmax: axis must be .* got 'a'"),
        (lambda t: t + "a", r"add: cannot apply to operands of types float32, str .*give numeric tensors"),
        (lambda t: t * None, r"mul: cannot apply to operands of types float32, NoneType"),
    ],
)
def test_bad_axis_or_operand_type_names_the_op(call, message):
    t = ng.tensor(np.ones((2, 3), np.float32))
    with pytest.raises(TypeError, match=message):
        call(t)
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError):  # the oracle: a TypeError in PyTorch too
        torch.ones(2, 3).sum(dim="a")


# --- seeds -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed, error", [(-1, ValueError), ("a", TypeError), (1.5, TypeError)])
def test_a_bad_seed_is_named_where_it_was_given(seed, error):
    with pytest.raises(error, match=rf"DataLoader: seed must be an integer >= 0, a numpy Generator or None, got {seed!r}"):
        D.DataLoader(X, Y, seed=seed)
    with pytest.raises(error, match=r"make_moons: seed must be an integer >= 0"):
        D.make_moons(10, seed=seed)
    with pytest.raises(error, match=r"train_test_split: seed must be an integer >= 0"):
        MS.train_test_split(X, Y, random_state=seed)
    m = _model()
    before = _weights(m)
    with pytest.raises(error, match=r"fit: seed must be an integer >= 0"):
        ng.train.fit(m, nn.CrossEntropyLoss(), ng.optim.SGD(m.parameters(), lr=0.1), X, Y, epochs=1, seed=seed)
    assert _same(before, _weights(m))


# --- nn ----------------------------------------------------------------------------------------------
def test_layer_and_init_arguments_are_checked():
    with pytest.raises(TypeError, match=r"Dropout: p must be a probability in \[0, 1\], e\.g\. p=0\.5, got 'a'"):
        nn.Dropout(p="a")
    with pytest.raises(TypeError, match=r"KAN: sizes must be a list of layer widths such as \[2, 5, 1\], got 'abc'"):
        nn.KAN("abc")
    with pytest.raises(TypeError, match=r"KANLinear: grid_size must be an integer, got 2\.5"):
        nn.KANLinear(2, 3, grid_size=2.5)
    lin = nn.Linear(2, 2)
    before = _weights(lin)
    with pytest.raises(ValueError, match=r"init\.normal_: std must be >= 0, got -1\.0"):
        nn.init.normal_(lin.weight, std=-1.0)
    with pytest.raises(ValueError, match=r"init\.uniform_: the range \[a, b\) needs a <= b, got a=1\.0, b=-1\.0"):
        nn.init.uniform_(lin.weight, a=1.0, b=-1.0)
    with pytest.raises(TypeError, match=r"init\.normal_: std must be a finite number, got nan"):
        nn.init.normal_(lin.weight, std=float("nan"))
    with pytest.raises(TypeError, match=r"init\.uniform_: expected a Tensor or Parameter .* got ndarray"):
        nn.init.xavier_uniform_(np.zeros((2, 2)))
    assert _same(before, _weights(lin))
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError):  # PyTorch refuses these too ("normal expects std >= 0.0")
        torch.nn.init.normal_(torch.empty(2, 2), std=-1.0)
    with pytest.raises(RuntimeError):
        torch.nn.init.uniform_(torch.empty(2, 2), a=1.0, b=-1.0)


@pytest.mark.parametrize("max_norm, error", [(-1.0, ValueError), (float("nan"), ValueError), ("1", TypeError)])
def test_clip_grad_norm_refuses_a_bad_max_norm_and_leaves_the_gradients(max_norm, error):
    lin = nn.Linear(2, 2)
    lin(ng.tensor(np.ones((1, 2), np.float32))).sum().backward()
    grads = [p.grad.numpy().copy() for p in lin.parameters()]
    with pytest.raises(error, match=rf"clip_grad_norm_: max_norm must be .*got {max_norm!r}".replace("'", "'?")):
        nn.utils.clip_grad_norm_(lin.parameters(), max_norm)
    assert _same(grads, [p.grad.numpy() for p in lin.parameters()])


def test_module_to_an_int_is_a_type_error_naming_cuda_n():
    m = _model()
    with pytest.raises(TypeError, match=r"device: expected 'cpu', 'cuda', 'cuda:N'.* got int 5; for GPU number N write 'cuda:N'"):
        m.to(5)


# --- data --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", ["make_circle", "make_xor", "make_gauss", "make_spiral", "make_blobs", "make_moons",
                                  "make_reg_plane", "make_reg_gauss", "make_sin"])  # fmt: skip
def test_generators_check_n_and_noise(make):
    f = getattr(D, make)
    with pytest.raises(ValueError, match=rf"{make}: n must be at least 1 .*got -5"):
        f(n=-5)
    with pytest.raises(TypeError, match=rf"{make}: n must be an integer number of points, e\.g\. n=500, got 2\.5"):
        f(n=2.5)
    with pytest.raises(ValueError, match=rf"{make}: noise must be >= 0 \(0 for none\), got -1"):
        f(n=10, noise=-1.0)
    with pytest.raises(TypeError, match=rf"{make}: noise must be a finite number"):
        f(n=10, noise=float("nan"))
    with pytest.raises(ValueError, match=rf"{make}: n must be at least 1"):  # as scikit-learn's make_moons
        f(n=0)


def test_generator_labels_are_checked():
    with pytest.raises(ValueError, match=r"make_circle: labels must be '01' .* or 'pm1' .* got 'xyz'"):
        D.make_circle(n=10, labels="xyz")


def test_data_loader_and_batch_indices():
    with pytest.raises(TypeError, match=r"DataLoader: X is required"):
        D.DataLoader(None)
    with pytest.raises(TypeError, match=r"batch_indices: n must be the number of examples, an integer >= 0, got 2\.5"):
        list(D.batch_indices(2.5, 2))
    with pytest.raises(ValueError, match=r"batch_indices: n must be .* got -1"):
        list(D.batch_indices(-1, 2))


def test_one_hot():
    with pytest.raises(ValueError, match=r"one_hot: cannot infer the number of classes from no labels; pass num_classes="):
        D.one_hot(np.array([], np.int64))
    assert D.one_hot(np.array([], np.int64), 3).shape == (0, 3)
    with pytest.raises(TypeError, match=r"one_hot: num_classes must be a positive integer, got 2\.5"):
        D.one_hot(np.array([0]), 2.5)
    with pytest.raises(ValueError, match=r"one_hot: num_classes must be a positive integer, got 0"):
        D.one_hot(np.array([0]), 0)
    with pytest.raises(ValueError, match=r"one_hot: labels must lie in \[0, 2\] for 3 classes, got 5"):
        D.one_hot(np.array([0, 5]), 3)
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError):  # PyTorch: "Can not infer total number of classes from empty tensor."
        torch.nn.functional.one_hot(torch.zeros(0, dtype=torch.long))


def test_standardizer():
    with pytest.raises(AttributeError, match=r"Standardizer\.transform: not fitted yet; call fit"):
        D.Standardizer().transform(np.ones((2, 3)))
    s = D.Standardizer().fit(np.random.default_rng(0).random((4, 3)))
    with pytest.raises(ValueError, match=r"Standardizer\.transform: X has rows of shape \(5,\) but the fitted data had \(3,\)"):
        s.transform(np.ones((2, 5)))
    with pytest.raises(TypeError, match=r"Standardizer\.fit: X must hold numbers, got dtype <U1"):
        D.Standardizer().fit(np.array([["a", "b"]]))
    with pytest.raises(TypeError, match=r"Standardizer\.fit: X must hold numbers, got dtype object"):
        D.Standardizer().fit(None)
    with pytest.raises(ValueError, match=r"Standardizer\.fit: needs at least one row of data, got shape \(0, 3\)"):
        D.Standardizer().fit(np.zeros((0, 3)))


def test_load_csv_arguments(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("1,2,3\n4,5,6\n")
    with pytest.raises(TypeError, match=r"load_csv: label_column must be a column index \(an int\) or None, got True"):
        D.load_csv(p, label_column=True)
    for bad in ("", "\n", ",,", None):
        with pytest.raises(ValueError, match=r"load_csv: delimiter must be one character .* got " + re.escape(repr(bad))):
            D.load_csv(p, delimiter=bad)


def test_load_npz_refuses_mismatched_rows_and_a_broken_zip(tmp_path):
    p = tmp_path / "a.npz"
    np.savez(p, X=np.ones((3, 2)), y=np.ones(4))
    with pytest.raises(DataFormatError, match=r"load_npz: .*'X' has shape \(3, 2\) but 'y' has shape \(4,\); they need one row"):
        D.load_npz(p)
    q = tmp_path / "b.npz"
    q.write_bytes(b"PK\x03\x04" + b"\x00" * 30)
    with pytest.raises(DataFormatError, match=r"load_npz: .* is not a valid \.npz archive") as info:
        D.load_npz(q)
    assert not isinstance(info.value, zipfile.BadZipFile)


# --- train -------------------------------------------------------------------------------------------
def _fit(m=None, opt=None, **kw):
    m = m if m is not None else _model()
    opt = opt if opt is not None else ng.optim.SGD(m.parameters(), lr=0.1)
    return ng.train.fit(m, nn.CrossEntropyLoss(), opt, X, Y, epochs=1, batch_size=4, **kw)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(callbacks=[5]), TypeError, r"fit: callbacks\[0\] is a int, not a Callback \(it lacks on_train_begin.*subclass ng\.train\.Callback"),  # noqa: E501
        (dict(callbacks=5), TypeError, r"fit: callbacks must be a list of Callback objects, got int"),
        (dict(resume=True), ValueError, r"fit: resume=True needs checkpoint_dir"),
        (dict(resume="yes", checkpoint_dir="unused"), TypeError, r"fit: resume must be True or False, got 'yes'"),
        (dict(target_loss=float("nan")), TypeError, r"fit: target_loss must be a number, got nan"),
    ],
)  # fmt: skip
def test_fit_refuses_bad_options_before_the_first_batch(kwargs, error, message):
    m = _model()
    opt = ng.optim.Adam(m.parameters(), lr=0.1)
    before, state = _weights(m), opt.state_dict()
    with pytest.raises(error, match=message):
        _fit(m, opt, **kwargs)
    assert _same(before, _weights(m)) and opt.state_dict()["state"] == state["state"]


def test_fit_refuses_a_model_or_optimiser_of_the_wrong_kind():
    with pytest.raises(TypeError, match=r"fit: model must be an nn\.Module .* got int"):
        ng.train.fit(5, nn.CrossEntropyLoss(), ng.optim.SGD(_model().parameters(), lr=0.1), X, Y)
    with pytest.raises(TypeError, match=r"fit: optimizer must be an optimiser such as ng\.optim\.Adam\(.*got 'adam'"):
        ng.train.fit(_model(), nn.CrossEntropyLoss(), "adam", X, Y)


def test_fit_refuses_an_optimiser_of_another_model():
    m = _model()
    before = _weights(m)
    with pytest.raises(ValueError, match=r"fit: the optimizer holds none of the model's parameters.*SGD\(model\.parameters\(\)"):
        _fit(m, ng.optim.SGD(_model().parameters(), lr=0.1))
    assert _same(before, _weights(m))
    first = m[0]
    _fit(m, ng.optim.SGD([first.weight], lr=0.1))  # a subset (the bias frozen) is fine
    assert not np.array_equal(first.weight.numpy(), before[0]) and np.array_equal(first.bias.numpy(), before[1])


def test_predict_and_evaluate_check_batch_size_model_and_x():
    m = _model()
    for fn, args in ((ng.train.predict, (m, X)), (ng.train.evaluate, (m, nn.CrossEntropyLoss(), X, Y))):
        who = fn.__name__
        with pytest.raises(ValueError, match=rf"{who}: batch_size must be >= 1, got 0"):
            fn(*args, batch_size=0)
        with pytest.raises(TypeError, match=rf"{who}: batch_size must be an integer, got 2\.5"):
            fn(*args, batch_size=2.5)
    with pytest.raises(TypeError, match=r"predict: X must hold numbers, got dtype object"):
        ng.train.predict(m, None)
    with pytest.raises(TypeError, match=r"predict: model must be an nn\.Module, got str"):
        ng.train.predict("model", X)


# --- io ----------------------------------------------------------------------------------------------
def test_save_and_load_check_their_arguments_before_touching_a_file(tmp_path):
    m = _model()
    with pytest.raises(TypeError, match=r"save: model must be an nn\.Module, got int"):
        ng.io.save(5, tmp_path / "a.safetensors")
    with pytest.raises(TypeError, match=r"save: optimizer must be an optimiser \(e\.g\. ng\.optim\.Adam\) or None, got str"):
        ng.io.save(m, tmp_path / "a.safetensors", optimizer="adam")
    with pytest.raises(TypeError, match=r"save: metadata must be a dict of JSON values.* got list"):
        ng.io.save(m, tmp_path / "a.safetensors", metadata=[1])
    with pytest.raises(TypeError, match=r"save: path must be a file path such as 'model\.safetensors', got NoneType"):
        ng.io.save(m, None)
    with pytest.raises(IsADirectoryError, match=r"save: .* is a folder; give a file path inside it, e\.g\. .*model\.safetensors"):
        ng.io.save(m, tmp_path)
    assert list(tmp_path.iterdir()) == []  # nothing written, no temporary left
    p = ng.io.save(m, tmp_path / "m.safetensors")
    raw = p.read_bytes()
    with pytest.raises(TypeError, match=r"load: model must be an nn\.Module, got int"):
        ng.io.load(p, model=5)
    target = _model()
    before = _weights(target)
    with pytest.raises(TypeError, match=r"load: optimizer must be an optimiser .* got int"):
        ng.io.load(p, model=target, optimizer=5)
    with pytest.raises(TypeError, match=r"load: path must be a file path"):
        ng.io.load(None)
    assert _same(before, _weights(target)) and p.read_bytes() == raw


# --- ml ----------------------------------------------------------------------------------------------
def test_metrics_name_the_bad_input():
    with pytest.raises(ValueError, match=r"mean_squared_error: y_true must be an array-like of one value per sample, got None"):
        M.mean_squared_error(None, [1])
    with pytest.raises(ValueError, match=r"log_loss: y_true has 2 samples but y_pred has 1"):
        M.log_loss([0, 1], [[0.5, 0.5]])
    with pytest.raises(ValueError, match=r"roc_auc_score: y_true has 2 samples but y_pred has 1"):
        M.roc_auc_score([1, 0], [0.2])
    sk = pytest.importorskip("sklearn.metrics")
    with pytest.raises(ValueError):  # scikit-learn: "Found input variables with inconsistent numbers of samples"
        sk.roc_auc_score([1, 0], [0.2])


def test_clone_and_model_selection():
    with pytest.raises(TypeError, match=r"Cannot clone object 5 \(type int\): it is not an estimator"):
        ml.clone(5)
    with pytest.raises(TypeError, match=r"Cannot clone object None"):
        MS.cross_val_score(None, X, Y)
    with pytest.raises(ValueError, match=r"cross_val_score: X has shape \(20, 3\) but y has shape \(5,\); they need the same"):
        MS.cross_val_score(ml.LinearRegression(), X, Y[:5])
    with pytest.raises(ml.NotFittedError, match=r"This GridSearchCV instance is not fitted yet"):
        ml.GridSearchCV(ml.Ridge(), {"alpha": [1.0]}).predict(X)
    with pytest.raises(ValueError, match=r"train_test_split: at least one array required"):
        MS.train_test_split()
    with pytest.raises(TypeError, match=r"train_test_split: test_size must be a fraction in \(0, 1\) or a number of rows.*'a'"):
        MS.train_test_split(X, Y, test_size="a")
    with pytest.raises(ValueError, match=r"confidence_interval: level must be a probability in \(0, 1\).*got 1\.5"):
        MS.confidence_interval([1.0, 2.0, 3.0], level=1.5)
    with pytest.raises(ValueError, match=r"confidence_interval: n_boot must be a positive number of resamples.* got 0"):
        MS.confidence_interval([1.0, 2.0, 3.0], method="bootstrap", n_boot=0)
    base = pytest.importorskip("sklearn.base")
    with pytest.raises(TypeError):  # scikit-learn's clone refuses a non-estimator with a TypeError too
        base.clone(5)
