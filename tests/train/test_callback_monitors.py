"""A callback that watches a value the run does not log is refused before the first batch, with nothing
changed — not after an epoch of training (EarlyStopping) or never (ModelCheckpoint saving nothing)."""

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.train import EarlyStopping, ModelCheckpoint


def _setup():
    X = np.random.default_rng(0).normal(size=(32, 3))
    model = ng.nn.Linear(3, 1, dtype="float64", seed=0)
    return X, X[:, :1], model, ng.optim.Adam(model.parameters(), lr=0.1)


MAKERS = {
    "early": lambda p: EarlyStopping(),
    "checkpoint": lambda p: ModelCheckpoint(p / "best.safetensors"),
    "metric": lambda p: EarlyStopping(monitor="accuracy"),
}


@pytest.mark.parametrize("make", MAKERS.values(), ids=MAKERS.keys())
def test_an_unlogged_monitor_is_refused_before_training(make, tmp_path):
    X, y, model, opt = _setup()
    w0 = model.weight.numpy().copy()
    with pytest.raises(ValueError, match=r"callbacks\[0\] .* monitors '(val_loss|accuracy)', which this run does not log"):
        ng.train.fit(model, "mse", opt, X, y, epochs=3, callbacks=[make(tmp_path)], seed=0)
    np.testing.assert_array_equal(model.weight.numpy(), w0)
    assert not opt.state and not list(tmp_path.iterdir())


def test_a_logged_monitor_runs():
    X, y, model, opt = _setup()
    h = ng.train.fit(model, "mse", opt, X, y, epochs=3, callbacks=[EarlyStopping(monitor="loss")], seed=0)
    assert len(h.history["loss"]) == 3
    h = ng.train.fit(model, "mse", opt, X, y, epochs=2, validation_data=(X, y), callbacks=[EarlyStopping()], seed=0)
    assert len(h.history["val_loss"]) == 2
