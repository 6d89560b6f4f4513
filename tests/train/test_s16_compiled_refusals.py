"""A compiler refusal (JitError) switches off only what was refused: a refused whole training step leaves the
batch loss compiled (the eager step then calls it on every batch), a refused batch loss leaves the compiled step;
either way ``fit``'s per-batch losses, validation results and final weights are the eager fit's (jit=False),
bit for bit."""

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.autodiff import JitError
from nablagrad.data import make_spiral
from nablagrad.train import Callback

pytestmark = pytest.mark.numpy_only("compiled programs are NumPy programs; other devices run the eager step")


class Refused:
    """A compiled function the compiler refuses on its first call (as a trace that reads a tensor's value)."""

    def __init__(self):
        self.calls = 0

    def __call__(self, *args):
        self.calls += 1
        raise JitError("jit: refused (a test's stand-in for a trace the compiler cannot make)")


class Counted:
    """A compiled function, with its calls counted."""

    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, *args):
        self.calls += 1
        return self.fn(*args)


def _fit(jit: bool, refuse: str | None = None):
    X, y = make_spiral(120, noise=0.1, seed=0)
    X, y = X.astype(np.float32), y.reshape(-1, 1).astype(np.float32)
    model = ng.nn.MLP([2, 12, 1], activation="tanh", seed=0)
    opt = ng.optim.Adam(model.parameters(), lr=0.01)
    seen = {}

    class Refuse(Callback):
        def on_train_begin(self, trainer):
            if refuse is None:
                return
            step, loss = trainer.compiled_step, trainer.batch_loss
            assert step.compiled is not None and loss.compiled is not None  # both compiled before the refusal
            if refuse == "step":
                step.compiled, loss.compiled = Refused(), Counted(loss.compiled)
            else:
                step.compiled, loss.compiled = Counted(step.compiled), Refused()
            seen.update(step=step.compiled, loss=loss.compiled, trainer=trainer)

    h = ng.train.fit(model, "bce_with_logits", opt, X, y, epochs=3, batch_size=16, seed=0, jit=jit, metrics=["accuracy"],
                     validation_data=(X[:40], y[:40]), callbacks=[Refuse()])  # fmt: skip
    return h, [p.numpy().copy() for p in model.parameters()], seen


def _same_as_eager(h, weights) -> None:
    h_eager, w_eager, _ = _fit(jit=False)
    assert h.steps["loss"] == h_eager.steps["loss"]
    for k, v in h_eager.history.items():
        assert h.history[k] == v, k
    for a, b in zip(weights, w_eager):
        np.testing.assert_array_equal(a, b)


def test_a_refused_training_step_keeps_the_compiled_batch_loss_and_the_results():
    h, weights, seen = _fit(jit=True, refuse="step")
    batches = len(h.steps["loss"])
    trainer = seen["trainer"]
    assert seen["step"].calls == 1 and trainer.compiled_step.compiled is None  # refused once, then not asked again
    assert trainer.batch_loss.compiled is seen["loss"]  # still compiled ...
    assert seen["loss"].calls == batches  # ... and used by every eager step, the refused one included
    _same_as_eager(h, weights)


def test_a_refused_batch_loss_keeps_the_compiled_training_step_and_the_results():
    h, weights, seen = _fit(jit=True, refuse="loss")
    trainer = seen["trainer"]
    assert trainer.compiled_step.compiled is seen["step"] and seen["step"].calls == len(h.steps["loss"])
    _same_as_eager(h, weights)
