"""``fit(resume=True)`` is all or nothing: when a callback's saved state cannot be loaded, the weights, the
optimiser (state and rates), the schedules and the other callbacks are left as they were, with an error
that names the checkpoint and the callback."""

import numpy as np
import pytest
from test_fit import interrupting  # a run killed at a given batch

import nablagrad as ng
from nablagrad.data import make_spiral
from nablagrad.io import ModelFileError
from nablagrad.train import Callback, EarlyStopping, LRSchedulerCallback


class Versioned(Callback):
    """A user's callback with a state, which refuses a state saved by another version of itself."""

    def __init__(self, version):
        self.version, self.seen = version, 0

    def on_epoch_end(self, trainer, epoch, logs):
        self.seen += 1

    def state_dict(self):
        return {"version": self.version, "seen": self.seen}

    def load_state_dict(self, state):
        if state["version"] != self.version:
            raise ValueError(f"saved by version {state['version']}, this is version {self.version}")
        self.seen = state["seen"]


def _setup(version, interrupt_at=None):
    m = ng.nn.MLP([2, 8, 1], activation="tanh", seed=0)
    opt = ng.optim.Adam(m.parameters(), lr=0.01)
    sched = ng.optim.StepLR(opt, step_size=1, gamma=0.5)
    cbs = [LRSchedulerCallback(sched), EarlyStopping(monitor="loss", patience=10), Versioned(version)]
    if interrupt_at is not None:
        cbs.insert(0, interrupting(interrupt_at))
    return m, opt, sched, cbs


def _fit(m, opt, cbs, path, resume):
    X, y = make_spiral(200, seed=0)
    return ng.train.fit(m, "bce_with_logits", opt, X, y.reshape(-1, 1), epochs=4, batch_size=32, seed=3,
                        checkpoint_dir=path, checkpoint_every=2, resume=resume, callbacks=cbs)  # fmt: skip


def test_a_callback_state_that_does_not_load_leaves_model_optimiser_and_callbacks_as_they_were(tmp_path):
    m, opt, _, cbs = _setup(version=1, interrupt_at=17)  # mid-epoch 3 (7 batches per epoch)
    with pytest.raises(KeyboardInterrupt):
        _fit(m, opt, cbs, tmp_path, resume=False)

    m, opt, sched, cbs = _setup(version=2)  # a newer callback: its state cannot be loaded
    m(ng.tensor(np.ones((3, 2), np.float32))).sum().backward()
    opt.step()  # some optimiser state, and a rate set by hand, to be kept
    opt.param_groups[0]["lr"] = 0.02
    weights, opt_state, sched_state = m.state_dict(), opt.state_dict(), sched.state_dict()
    early = cbs[1]
    early.best, early.wait = 0.5, 3  # not what the checkpoint holds, nor what on_train_begin resets it to
    with pytest.raises(ModelFileError, match=r"could not be resumed .*callback Versioned#0 does not fit it: saved by "
                                             r"version 1, this is version 2.*as they were before"):  # fmt: skip
        _fit(m, opt, cbs, tmp_path, resume=True)
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v, weights[k], err_msg=k)
    now = opt.state_dict()
    assert now["param_groups"] == opt_state["param_groups"] and opt.param_groups[0]["lr"] == 0.02
    assert now["state"].keys() == opt_state["state"].keys()
    for i, buffers in opt_state["state"].items():
        for k, v in buffers.items():
            np.testing.assert_array_equal(now["state"][i][k], v)
    assert sched.state_dict() == sched_state and (early.best, early.wait) == (0.5, 3)
    assert cbs[2].seen == 0


def test_after_a_refused_resume_the_right_callbacks_resume_to_the_uninterrupted_run(tmp_path):
    m, opt, _, cbs = _setup(version=1)
    full = _fit(m, opt, cbs, tmp_path / "a", resume=False)
    full_weights = m.state_dict()

    m, opt, _, cbs = _setup(version=1, interrupt_at=17)
    with pytest.raises(KeyboardInterrupt):
        _fit(m, opt, cbs, tmp_path / "b", resume=False)
    m, opt, _, cbs = _setup(version=2)
    with pytest.raises(ModelFileError):
        _fit(m, opt, cbs, tmp_path / "b", resume=True)
    cbs[-1].version = 1  # the callback of the run that saved the checkpoint
    resumed = _fit(m, opt, cbs, tmp_path / "b", resume=True)
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v, full_weights[k], err_msg=k)
    assert resumed["loss"] == full["loss"] and resumed["lr"] == full["lr"]
