"""``fit`` takes the whole training step compiled by ``ng.jit`` (loss, ``zero_grad``, the loss's
finiteness, ``backward``, clipping, ``step``) where it applies, and it is the eager step bit for bit:
the same per-batch losses, metrics, learning rates and final parameters, divergence included."""

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.data import make_spiral
from nablagrad.train import LambdaCallback, LRSchedulerCallback

pytestmark = pytest.mark.numpy_only("compiled programs are NumPy programs; other devices run the eager step")

CONFIGS = {
    "adam": dict(opt=("Adam", dict(lr=0.01)), fit=dict(batch_size=16)),
    "sgd momentum, metrics, clipping, l2": dict(
        opt=("SGD", dict(lr=0.05, momentum=0.9)), fit=dict(batch_size=16, metrics=["accuracy"], clip_grad_norm=0.5, l2=1e-3)
    ),
    "adamw, l1, a smaller last batch, validation": dict(opt=("AdamW", dict(lr=0.01)), fit=dict(batch_size=24, l1=1e-4)),
    "rmsprop, a schedule per batch": dict(opt=("RMSProp", dict(lr=0.005)), fit=dict(batch_size=16), schedule=True),
    "adam maximize (the loss grows)": dict(opt=("Adam", dict(lr=1e-3, maximize=True)), fit=dict(batch_size=16)),
}


def _fit(config: dict, compiled: bool):
    X, y = make_spiral(200, noise=0.1, seed=0)
    y = y.reshape(-1, 1).astype(np.float32)
    model = ng.nn.MLP([2, 16, 16, 1], activation="tanh", seed=0)
    name, kwargs = config["opt"]
    opt = getattr(ng.optim, name)(model.parameters(), **kwargs)
    traces = []
    callbacks = [LambdaCallback(on_epoch_end=lambda t, e, logs: traces.append(t.compiled_step.compiled))]
    if config.get("schedule"):
        callbacks.append(LRSchedulerCallback(ng.optim.StepLR(opt, step_size=7, gamma=0.5), per="batch"))
    h = ng.train.fit(model, "bce_with_logits", opt, X, y, epochs=4, seed=0, jit=compiled, callbacks=callbacks,
                     validation_data=(X[:50], y[:50]), **config["fit"])  # fmt: skip
    compiled_fn = traces[-1]
    return h, [p.numpy().copy() for p in model.parameters()], opt.state_dict(), compiled_fn


@pytest.mark.parametrize("config", CONFIGS)
def test_fit_takes_the_compiled_step_and_equals_the_eager_fit_bit_for_bit(config, fast):
    h_eager, w_eager, sd_eager, none = _fit(CONFIGS[config], compiled=False)
    h_jit, w_jit, sd_jit, compiled = _fit(CONFIGS[config], compiled=True)
    assert none is None
    assert compiled is not None and compiled.traces >= 1  # the whole step was compiled and kept
    assert h_jit.steps["loss"] == h_eager.steps["loss"]
    assert h_jit.history == h_eager.history
    for a, b in zip(w_jit, w_eager):
        np.testing.assert_array_equal(a, b)
    assert sd_jit["param_groups"] == sd_eager["param_groups"]
    for i, state in sd_eager["state"].items():
        for k, v in state.items():
            np.testing.assert_array_equal(sd_jit["state"][i][k], v)


def _diverge_both_ways(make_model, make_opt, X, y, what: str, **fit_kwargs) -> None:
    """Train eagerly and compiled until the run stops naming ``what``: each stops at the same batch with
    the same message, the parameters of its last good step, and the same parameters as the other."""
    runs = []
    for compiled in (False, True):
        m = make_model()
        snapshots = [m.state_dict()]
        cb = LambdaCallback(on_batch_end=lambda t, s, logs, m=m, snapshots=snapshots: snapshots.append(m.state_dict()))
        with pytest.raises(ng.train.TrainingDivergedError, match=f"the {what} became NaN or Inf") as info:
            ng.train.fit(m, "mse", make_opt(m), X, y, seed=0, callbacks=[cb], jit=compiled, **fit_kwargs)
        state = m.state_dict()
        for k, v in state.items():
            assert np.all(np.isfinite(v.numpy()))
            np.testing.assert_array_equal(v, snapshots[-1][k])
        runs.append((str(info.value), len(snapshots), state))
    (msg, n, state), (msg_c, n_c, state_c) = runs
    assert msg_c == msg and n_c == n
    for k in state:
        np.testing.assert_array_equal(state_c[k], state[k])


def test_a_diverging_compiled_fit_stops_as_the_eager_one_with_the_last_good_parameters():
    """A loss that overflows to Inf stops the run before its backward, naming the loss."""
    X = np.random.default_rng(0).standard_normal((64, 2)) * 100
    _diverge_both_ways(lambda: ng.nn.Linear(2, 1, dtype="float64", seed=0), lambda m: ng.optim.SGD(m.parameters(), lr=10.0),
                       X, X.sum(1, keepdims=True) * 100, "loss", epochs=50, batch_size=8)  # fmt: skip


def test_a_refused_update_in_a_compiled_fit_names_the_gradient_and_changes_nothing():
    """An update that would overflow the optimiser's state is refused by ``step()`` inside the compiled step."""
    X = (np.random.default_rng(1).standard_normal((32, 2)) * 30).astype(np.float32)
    y = np.full((32, 1), 1e18, np.float32)  # a finite loss (≈ 1e36 in float32); g ≈ 2·1e18·|x|, so g² overflows Adam's v
    _diverge_both_ways(lambda: ng.nn.Linear(2, 1, seed=0), lambda m: ng.optim.Adam(m.parameters(), lr=1e-3), X, y,
                       "gradient", epochs=2, batch_size=8)  # fmt: skip


@pytest.mark.parametrize("loss, activation", [("huber", "elu"), ("smooth_l1", "softplus"), ("mse", "gelu")])
def test_fit_with_piecewise_losses_and_activations_equals_the_eager_fit(loss, activation):
    """Losses and activations built with ``where`` on a comparison (whose booleans carry no gradient)."""
    X = np.random.default_rng(0).standard_normal((40, 3)).astype(np.float32)
    y = np.sin(X[:, :1] * 2) * 3
    runs = []
    for compiled in (False, True):
        model = ng.nn.MLP([3, 8, 1], activation=activation, seed=0)
        h = ng.train.fit(model, loss, ng.optim.Adam(model.parameters(), lr=0.02), X, y, epochs=3, batch_size=8, seed=0,
                         jit=compiled)  # fmt: skip
        runs.append((h.steps["loss"], [p.numpy().copy() for p in model.parameters()]))
    assert runs[1][0] == runs[0][0]
    for a, b in zip(runs[1][1], runs[0][1]):
        np.testing.assert_array_equal(a, b)


class _AmsgradFromTheSecondBatch(ng.train.Callback):
    def on_batch_end(self, trainer, step, logs):
        trainer.optimizer.param_groups[0]["amsgrad"] = True


@pytest.mark.parametrize("case", ["amsgrad switched on by a callback", "a user's optimiser", "dropout, eval before fit"])
def test_fit_follows_the_eager_fit_where_the_step_changes_or_is_not_ours(case, counting_sgd):
    X = np.random.default_rng(3).standard_normal((48, 3)).astype(np.float32)
    y = X[:, :1] * 2 - X[:, 1:2]
    runs = []
    for compiled in (False, True):
        if case == "dropout, eval before fit":
            model = ng.nn.Sequential(ng.nn.Linear(3, 8, seed=0), ng.nn.Dropout(0.3, seed=1), ng.nn.Linear(8, 1, seed=2))
            model.eval()  # fit switches it to training: the dropout then draws on every batch
        else:
            model = ng.nn.MLP([3, 8, 1], seed=0)
        user = case == "a user's optimiser"
        opt = counting_sgd(model.parameters(), 0.05) if user else ng.optim.Adam(model.parameters(), lr=0.01)
        callbacks = [_AmsgradFromTheSecondBatch()] if case.startswith("amsgrad") else []
        h = ng.train.fit(model, "mse", opt, X, y, epochs=2, batch_size=8, seed=0, callbacks=callbacks, jit=compiled)
        runs.append((h.steps["loss"], [p.numpy().copy() for p in model.parameters()], getattr(opt, "t", None)))
    assert runs[1][0] == runs[0][0]
    assert runs[1][2] == runs[0][2]
    for a, b in zip(runs[1][1], runs[0][1]):
        np.testing.assert_array_equal(a, b)
