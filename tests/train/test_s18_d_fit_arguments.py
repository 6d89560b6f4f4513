"""fit / evaluate / predict arguments a Keras or PyTorch user tries: validation_split, metrics given as None, a
generator or twice, an empty batch, PyTorch tensors as data, ReduceLROnPlateau through LRSchedulerCallback, and
callback arguments refused when built — each against PyTorch or scikit-learn."""

import numpy as np
import pytest
import torch
from sklearn.metrics import accuracy_score

import nablagrad as ng
from nablagrad.data import DataLoader, batch_indices
from nablagrad.train import EarlyStopping, LRSchedulerCallback, ModelCheckpoint

RNG = np.random.default_rng(18)
X = RNG.normal(size=(20, 3))
Y = (X[:, 0] + 0.3 * RNG.normal(size=20) > 0).astype(np.int64)


def _linear() -> ng.nn.Linear:
    ng.manual_seed(0)
    return ng.nn.Linear(3, 2, dtype=ng.float64)


def _weights(m) -> list[np.ndarray]:
    return [p.numpy().copy() for p in m.parameters()]


def _torch_twin(m) -> torch.nn.Linear:
    t = torch.nn.Linear(3, 2, dtype=torch.float64)
    with torch.no_grad():  # nablagrad's weight is (in, out), PyTorch's (out, in)
        t.weight.copy_(torch.tensor(m.weight.numpy().T))
        t.bias.copy_(torch.tensor(m.bias.numpy()))
    return t


def test_validation_split_holds_out_the_last_rows_as_keras_does():
    m = _linear()
    t = _torch_twin(m)
    opt = ng.optim.SGD(m.parameters(), lr=0.1)
    h = ng.train.fit(m, "cross_entropy", opt, X, Y, epochs=1, batch_size=None, validation_split=0.25, seed=0)
    split = int(np.floor(20 * 0.75))  # Keras: rows [0, split) train, [split, n) validate
    topt = torch.optim.SGD(t.parameters(), lr=0.1)
    loss = torch.nn.functional.cross_entropy(t(torch.tensor(X[:split])), torch.tensor(Y[:split]))
    loss.backward()
    topt.step()
    np.testing.assert_allclose(m.weight.numpy(), t.weight.detach().numpy().T, rtol=1e-12)
    np.testing.assert_allclose(h["loss"][0], loss.item(), rtol=1e-12)
    with torch.no_grad():
        val = torch.nn.functional.cross_entropy(t(torch.tensor(X[split:])), torch.tensor(Y[split:])).item()
    np.testing.assert_allclose(h["val_loss"][0], val, rtol=1e-12)


@pytest.mark.parametrize(
    ("kw", "error", "match"),
    [
        ({"validation_split": 1.0}, ValueError, r"validation_split must be a fraction in \[0, 1\).*got 1\.0"),
        ({"validation_split": "0.2"}, TypeError, r"validation_split must be a fraction.*got '0\.2'"),
        ({"validation_split": 0.01}, None, None),  # ⌊20 · 0.99⌋ = 19: one validation row, as Keras
        ({"metrics": [1]}, TypeError, r"metrics must be names \(strings\).*got 1"),
        ({"metrics": 5}, TypeError, r"metrics must be a list of names.*got 5"),
    ],
)
def test_bad_validation_split_and_metrics_are_refused_before_any_step(kw, error, match):
    m = _linear()
    before = _weights(m)
    opt = ng.optim.SGD(m.parameters(), lr=0.1)
    if error is None:
        h = ng.train.fit(m, "cross_entropy", opt, X, Y, epochs=1, **kw)
        assert len(h["val_loss"]) == 1
        return
    with pytest.raises(error, match=match):
        ng.train.fit(m, "cross_entropy", opt, X, Y, epochs=1, **kw)
    assert all(np.array_equal(a, b) for a, b in zip(before, _weights(m)))


def test_validation_data_overrides_validation_split_as_in_keras():
    m, m2 = _linear(), _linear()
    Xv, Yv = X[:5], Y[:5]
    with pytest.warns(UserWarning, match="validation_split=0.2 is ignored"):
        h = ng.train.fit(m, "cross_entropy", ng.optim.SGD(m.parameters(), lr=0.1), X, Y, epochs=1, batch_size=None,
                         validation_split=0.2, validation_data=(Xv, Yv), seed=0)  # fmt: skip
    h2 = ng.train.fit(m2, "cross_entropy", ng.optim.SGD(m2.parameters(), lr=0.1), X, Y, epochs=1, batch_size=None,
                      validation_data=(Xv, Yv), seed=0)  # fmt: skip
    assert h["val_loss"] == h2["val_loss"]
    assert all(np.array_equal(a, b) for a, b in zip(_weights(m), _weights(m2)))


def test_validation_split_too_small_for_the_data_is_named():
    m = _linear()
    with pytest.raises(ValueError, match=r"validation_split=0\.5 of 1 rows leaves 0 for training and 1 for validation"):
        ng.train.fit(m, "cross_entropy", ng.optim.SGD(m.parameters(), lr=0.1), X[:1], Y[:1], validation_split=0.5)


@pytest.mark.parametrize("metrics", [None, iter(["accuracy"]), ["accuracy", "accuracy"]], ids=["none", "generator", "twice"])
def test_metrics_none_generator_or_twice(metrics):
    m = _linear()
    expected = accuracy_score(Y, ng.train.predict(m, X).argmax(1))  # full batch: measured before the step
    h = ng.train.fit(m, "cross_entropy", ng.optim.SGD(m.parameters(), lr=0.1), X, Y, epochs=1, batch_size=None,
                     metrics=metrics)  # fmt: skip
    if metrics is None:
        assert set(h.history) == {"loss"}
    else:
        assert set(h.history) == {"loss", "accuracy"}
        assert h["accuracy"] == [pytest.approx(expected, abs=1e-12)]  # once, not summed twice (was 1.1)


def test_evaluate_metrics_none_and_a_string():
    m = _linear()
    with torch.no_grad():
        loss = torch.nn.functional.cross_entropy(_torch_twin(m)(torch.tensor(X)), torch.tensor(Y)).item()
    logs = ng.train.evaluate(m, "cross_entropy", X, Y, metrics=None)
    assert set(logs) == {"loss"} and logs["loss"] == pytest.approx(loss, rel=1e-12)
    with pytest.raises(TypeError, match=r"evaluate: metrics must be a list of names, got the string 'accuracy'"):
        ng.train.evaluate(m, "cross_entropy", X, Y, metrics="accuracy")  # (was read letter by letter)


def test_predict_of_no_rows_has_the_models_output_shape_and_batch_size_none():
    m = _linear()
    t = _torch_twin(m)
    assert ng.train.predict(m, X[:0]).shape == tuple(t(torch.zeros(0, 3, dtype=torch.float64)).shape) == (0, 2)
    np.testing.assert_allclose(ng.train.predict(m, X, batch_size=None), t(torch.tensor(X)).detach().numpy(), rtol=1e-12)


def test_pytorch_tensors_as_data():
    m = _linear()
    np.testing.assert_array_equal(ng.train.predict(m, torch.tensor(X)), ng.train.predict(m, X))
    assert ng.train.evaluate(m, "cross_entropy", torch.tensor(X), torch.tensor(Y)) == ng.train.evaluate(m, "cross_entropy", X, Y)
    with pytest.raises(TypeError, match=r"fit: X \(Tensor\) could not be read as a NumPy array.*detach\(\)"):
        ng.train.fit(m, "cross_entropy", ng.optim.SGD(m.parameters(), lr=0.1), torch.tensor(X, requires_grad=True), Y)


def test_a_loader_with_drop_last_and_too_few_rows_yields_no_batch_as_pytorch():
    assert len(torch.utils.data.DataLoader(torch.tensor(X), batch_size=32, drop_last=True)) == 0
    assert list(batch_indices(20, 32, drop_last=True)) == []
    assert len(DataLoader(X, Y, batch_size=32, drop_last=True)) == 0
    m = _linear()
    before = _weights(m)
    with pytest.raises(ValueError, match=r"20 example\(s\) with batch_size=32 and drop_last=True, which yields no batch"):
        ng.train.fit(m, "cross_entropy", ng.optim.SGD(m.parameters(), lr=0.1), DataLoader(X, Y, batch_size=32, drop_last=True))
    assert all(np.array_equal(a, b) for a, b in zip(before, _weights(m)))


def test_reduce_lr_on_plateau_steps_with_the_monitored_value_as_pytorch():
    m = _linear()
    opt = ng.optim.SGD(m.parameters(), lr=0.5)
    plateau = ng.optim.ReduceLROnPlateau(opt, factor=0.5, patience=0, threshold=0.3)
    h = ng.train.fit(m, "cross_entropy", opt, X, Y, epochs=6, batch_size=None, validation_data=(X, Y),
                     callbacks=[LRSchedulerCallback(plateau)], seed=0)  # fmt: skip
    topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.5)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, factor=0.5, patience=0, threshold=0.3)
    lrs = []
    for v in h["val_loss"]:  # the callback logs the rate of the epoch, then steps with val_loss
        lrs.append(topt.param_groups[0]["lr"])
        tsched.step(v)
    assert h["lr"] == pytest.approx(lrs, rel=1e-15) and min(lrs) < 0.5
    assert opt.param_groups[0]["lr"] == pytest.approx(topt.param_groups[0]["lr"], rel=1e-15)


def test_reduce_lr_on_plateau_without_its_value_is_refused_before_the_first_batch():
    m = _linear()
    before = _weights(m)
    opt = ng.optim.SGD(m.parameters(), lr=0.5)
    cb = LRSchedulerCallback(ng.optim.ReduceLROnPlateau(opt))
    with pytest.raises(ValueError, match=r"monitors 'val_loss', which this run does not log.*validation_data"):
        ng.train.fit(m, "cross_entropy", opt, X, Y, epochs=2, callbacks=[cb])
    assert all(np.array_equal(a, b) for a, b in zip(before, _weights(m)))


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: EarlyStopping(patience=-1), ValueError, r"EarlyStopping: patience must be an integer >= 0.*got -1"),
        (lambda: EarlyStopping(patience=2.5), TypeError, r"EarlyStopping: patience must be an integer >= 0.*got 2\.5"),
        (lambda: EarlyStopping(mode="minimum"), ValueError, r"EarlyStopping: mode must be 'min', 'max' or 'auto', got 'minimum'"),
        (lambda: EarlyStopping(min_delta=-0.1), ValueError, r"EarlyStopping: min_delta must be a number >= 0.*got -0\.1"),
        (lambda: EarlyStopping(monitor=3), TypeError, r"EarlyStopping: monitor must be the name of a logged value.*got 3"),
        (lambda: EarlyStopping(restore_best_weights="yes"), TypeError, r"restore_best_weights must be True or False"),
        (lambda: ModelCheckpoint(3), TypeError, r"ModelCheckpoint: path must be a file path.*got 3"),
        (lambda: ModelCheckpoint("m.safetensors", save_best_only="no"), TypeError, r"save_best_only must be True or False"),
        (lambda: ModelCheckpoint("m.safetensors", mode="maximum"), ValueError, r"ModelCheckpoint: mode must be 'min', 'max'"),
        (
            lambda: LRSchedulerCallback(ng.optim.SGD(_linear().parameters(), lr=0.1)),
            TypeError,
            r"must be a learning-rate schedule",
        ),
    ],
)
def test_callback_arguments_are_checked_when_built(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_early_stopping_mode_auto_is_keras_auto():
    assert EarlyStopping(monitor="val_loss", mode="auto").mode == "min"
    assert EarlyStopping(monitor="val_accuracy", mode="auto").mode == "max"


def test_validation_split_cuts_tensors_and_lists_as_arrays():
    m, m2 = _linear(), _linear()
    h = ng.train.fit(m, "cross_entropy", ng.optim.SGD(m.parameters(), lr=0.1), ng.tensor(X), ng.tensor(Y), epochs=1,
                     batch_size=None, validation_split=0.25, seed=0)  # fmt: skip
    h2 = ng.train.fit(m2, "cross_entropy", ng.optim.SGD(m2.parameters(), lr=0.1), X.tolist(), Y.tolist(), epochs=1,
                      batch_size=None, validation_split=0.25, seed=0)  # fmt: skip
    np.testing.assert_allclose(h["val_loss"], h2["val_loss"], rtol=1e-12)
    assert all(np.array_equal(a, b) for a, b in zip(_weights(m), _weights(m2)))
