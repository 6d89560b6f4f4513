"""Resuming continues exactly as the uninterrupted run, also after it stopped, with a ``ModelCheckpoint`` and when the
checkpoint belongs to another run; a NaN/Inf names its likely cause (not the learning rate before any update)."""

import re

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.train.trainer import CHECKPOINT_NAME

RNG = np.random.default_rng(0)
X = RNG.standard_normal((40, 2))
Y = X @ np.array([[1.0], [-1.0]]) + 0.3 * RNG.standard_normal((40, 1))
XV = RNG.standard_normal((10, 2))
YV = -(XV @ np.array([[1.0], [-1.0]]))  # validation that gets worse as training goes: the best epoch is the first


class Kill(ng.train.Callback):
    """Interrupts the run (like Ctrl-C) at batch ``step`` of epoch ``epoch``."""

    def __init__(self, epoch, step=0):
        self.epoch, self.step = epoch, step

    def on_batch_end(self, trainer, step, logs):
        if trainer.epoch == self.epoch and step == self.step:
            raise KeyboardInterrupt


class StopAt(ng.train.Callback):
    """Asks to stop in the middle of epoch ``epoch`` (which then ends as usual)."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_batch_end(self, trainer, step, logs):
        if trainer.epoch == self.epoch and step == 1:
            trainer.stop_training = True


def _fit(d, callbacks=(), resume=False, **kw):
    lin = ng.nn.Linear(2, 1, dtype="float64", seed=0)
    opt = ng.optim.Adam(lin.parameters(), lr=0.05)
    kw = {"epochs": 8, "batch_size": 8, "seed": 0, "validation_data": (XV, YV), **kw}
    h = ng.train.fit(lin, "mse", opt, X, Y, callbacks=list(callbacks), checkpoint_dir=d, resume=resume, **kw)
    return h, lin, opt


def _interrupted_then_resumed(tmp_path, kill, make_callbacks, **kw):
    d = tmp_path / "ckpt"
    with pytest.raises(KeyboardInterrupt):
        _fit(d, [*make_callbacks(), kill], **kw)
    return _fit(d, make_callbacks(), resume=True, **kw)


def _same(a, b):
    (h1, m1, o1), (h2, m2, o2) = a, b
    assert h2.history == h1.history and h2.steps == h1.steps and h2.stop_reason == h1.stop_reason
    for p, q in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    for i, state in o1.state_dict()["state"].items():
        for k, v in state.items():
            np.testing.assert_array_equal(o2.state_dict()["state"][i][k], v)


@pytest.mark.parametrize(
    "make_callbacks, kw",
    [
        (lambda: [ng.train.EarlyStopping(patience=1, min_delta=10.0, restore_best_weights=False)], {}),
        (lambda: [], {"loss_tol": 10.0}),
    ],
    ids=["early-stopping", "loss_tol"],
)
def test_resuming_a_run_that_stopped_does_not_train_on(tmp_path, make_callbacks, kw):
    """The checkpoint written after the stopping epoch resumes to a run that stays stopped (it trained on before)."""
    whole = _fit(tmp_path / "whole", make_callbacks(), **kw)
    assert len(whole[0].epoch) == 2
    again = _fit(tmp_path / "whole", make_callbacks(), resume=True, **kw)  # as if killed right after its last checkpoint
    _same(whole, again)


def test_a_stop_asked_mid_epoch_and_resumed_from_that_epoch_finishes_it(tmp_path):
    whole = _fit(tmp_path / "whole", [StopAt(1)], checkpoint_every=1)
    assert len(whole[0].epoch) == 2
    resumed = _interrupted_then_resumed(tmp_path, Kill(1, 2), lambda: [StopAt(1)], checkpoint_every=1)
    _same(whole, resumed)


def test_model_checkpoint_keeps_its_best_across_a_resume(tmp_path):
    """The best model file of a resumed run is the uninterrupted run's (epoch 0), not overwritten by the first epoch
    after the resume."""

    def make():
        return [ng.train.ModelCheckpoint(str(tmp_path / "best.safetensors"))]

    whole = _fit(tmp_path / "whole", make())
    assert int(np.argmin(whole[0]["val_loss"])) == 0
    best_whole = ng.io.load(tmp_path / "best.safetensors")
    (tmp_path / "best.safetensors").unlink()
    resumed = _interrupted_then_resumed(tmp_path, Kill(4), make)
    _same(whole, resumed)
    best = ng.io.load(tmp_path / "best.safetensors")
    assert best.metadata["epoch"] == best_whole.metadata["epoch"] == 0
    np.testing.assert_array_equal(best.weight.numpy(), best_whole.weight.numpy())


def test_model_checkpoint_state_round_trips_and_refuses_a_bad_one():
    mc = ng.train.ModelCheckpoint("m.safetensors")
    mc.load_state_dict({"best": 0.25})
    assert mc.state_dict() == {"best": 0.25}
    with pytest.raises(KeyError, match="ModelCheckpoint.load_state_dict"):
        mc.load_state_dict({"wait": 1})
    assert mc.best == 0.25


@pytest.mark.parametrize(
    "change, words",
    [({"rows": 20}, "run on 40 rows of X and this X has 20"), ({"metrics": ["mae"]}, "metrics=[] and this run asks")],
)
def test_a_checkpoint_of_another_run_is_refused_before_anything_changes(tmp_path, change, words):
    d = tmp_path / "ckpt"
    with pytest.raises(KeyboardInterrupt):
        _fit(d, [Kill(1, 2)], checkpoint_every=1)
    saved = (d / CHECKPOINT_NAME).read_bytes()
    lin = ng.nn.Linear(2, 1, dtype="float64", seed=5)
    opt = ng.optim.Adam(lin.parameters(), lr=0.05)
    before = lin.weight.numpy().copy()
    n = change.get("rows", 40)
    with pytest.raises(ng.io.ModelFileError, match=re.escape(words)):
        ng.train.fit(lin, "mse", opt, X[:n], Y[:n], epochs=8, batch_size=8, seed=0, checkpoint_dir=d, resume=True,
                     metrics=change.get("metrics", ()))  # fmt: skip
    np.testing.assert_array_equal(lin.weight.numpy(), before)
    assert opt.state_dict()["state"] == {}
    assert (d / CHECKPOINT_NAME).read_bytes() == saved


@pytest.mark.parametrize("change, words", [({"rows": 20}, "run on 40 rows"), ({"metrics": ["mae"]}, "metrics=[]")])
def test_trainer_restore_refuses_another_run_before_loading_anything(tmp_path, change, words):
    """``Trainer.restore()`` itself (no undo point around it, unlike ``fit(resume=True)``) leaves the weights and
    the optimiser's state as they were."""
    d = tmp_path / "ckpt"
    with pytest.raises(KeyboardInterrupt):
        _fit(d, [Kill(1, 2)], checkpoint_every=1)
    lin = ng.nn.Linear(2, 1, dtype="float64", seed=5)
    opt = ng.optim.Adam(lin.parameters(), lr=0.05)
    n = change.get("rows", 40)
    trainer = ng.train.Trainer(lin, ng.nn.MSELoss(), opt, X[:n], Y[:n], epochs=8, batch_size=8, checkpoint_dir=d,
                               metrics=change.get("metrics", ()))  # fmt: skip
    before = lin.weight.numpy().copy()
    with pytest.raises(ValueError, match=re.escape(words)):
        trainer.restore()
    np.testing.assert_array_equal(lin.weight.numpy(), before)
    assert opt.state_dict()["state"] == {} and trainer.epoch == 0


@pytest.mark.parametrize("jit", [True, False])
def test_a_loss_that_is_inf_before_any_update_does_not_blame_the_learning_rate(jit):
    lin = ng.nn.Linear(2, 1, seed=0)
    before = lin.state_dict()
    y = np.full((40, 1), 1e30, np.float32)  # (y - ŷ)² overflows float32 at the initial weights
    with np.errstate(over="ignore"), pytest.raises(ng.train.TrainingDivergedError) as info:
        ng.train.fit(lin, "mse", ng.optim.SGD(lin.parameters(), lr=1e-3), X.astype(np.float32), y, seed=0, jit=jit)
    msg = str(info.value)
    assert "epoch 1, batch 1, before the first update, so the learning rate is not the cause" in msg
    assert "standardise" in msg and "lr=" not in msg
    for k, v in lin.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k].numpy())


@pytest.mark.parametrize("jit", [True, False])
def test_a_refused_update_says_what_the_optimiser_refused_and_names_the_penalties(jit):
    lin = ng.nn.Linear(2, 1, dtype="float64", seed=0)
    with pytest.raises(ng.train.TrainingDivergedError) as info:
        ng.train.fit(lin, "mse", ng.optim.SGD(lin.parameters(), lr=1e308), X * 1e3, Y * 1e3, seed=0, jit=jit)
    assert "batch 1 (SGD.step: the update would make a parameter or the optimiser state NaN or Inf" in str(info.value)
    assert "learning rate (lr=1e+308) is too large" in str(info.value)
    lin = ng.nn.Linear(2, 1, dtype="float64", seed=0)
    with pytest.raises(ng.train.TrainingDivergedError, match=r"weight penalties \(l1=0.0, l2=1e\+300\)"):
        ng.train.fit(lin, "mse", ng.optim.SGD(lin.parameters(), lr=0.1), X, Y, l2=1e300, seed=0, jit=jit)
