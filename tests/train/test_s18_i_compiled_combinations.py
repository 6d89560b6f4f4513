"""Issue 11's "the compiled step equals the eager step over 100 steps for every optimiser and loss, with and
without the fast extra", with everything a training step carries at once: ``BatchNorm1d`` (running statistics),
``Dropout`` (masks drawn by the program), weight decay, gradient clipping and a schedule.  Both forms: ``ng.jit``
of a hand-written step, and ``fit``'s compiled step against ``fit(jit=False)``.  Bit for bit: the same ops run in
the same order (losses, parameters, buffers, optimiser and schedule state)."""

import inspect

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.train import LambdaCallback, LRSchedulerCallback

pytestmark = pytest.mark.numpy_only("compiled programs are NumPy programs; other devices run the eager step")

CLOSURE_OPTIMISERS = {"LBFGS", "LevenbergMarquardt", "SteepestDescent"}  # a closure re-evaluates the loss in step()
OPTIMISERS = sorted(
    name for name, cls in vars(ng.optim).items()
    if inspect.isclass(cls) and issubclass(cls, ng.optim.Optimizer) and cls is not ng.optim.Optimizer
    and name not in CLOSURE_OPTIMISERS
)  # fmt: skip
SCHEDULES = {
    "step": lambda opt: ng.optim.StepLR(opt, step_size=7, gamma=0.5),
    "cosine": lambda opt: ng.optim.CosineAnnealingLR(opt, T_max=30),
    "exponential": lambda opt: ng.optim.ExponentialLR(opt, 0.99),
}


def _optimiser(name: str, model):
    """``name`` with a learning rate and weight decay where its signature takes them."""
    cls = getattr(ng.optim, name)
    accepted = inspect.signature(cls).parameters
    return cls(model.parameters(), **{k: v for k, v in (("lr", 0.01), ("weight_decay", 0.05)) if k in accepted})


def _model(head=()):
    return ng.nn.Sequential(ng.nn.Linear(8, 16, seed=0), ng.nn.BatchNorm1d(16), ng.nn.ReLU(), ng.nn.Dropout(0.2, seed=3),
                            ng.nn.Linear(16, 4, seed=1), *head)  # fmt: skip


def _assert_same_state(a: tuple, b: tuple, what) -> None:
    """Losses, parameters and buffers bit for bit; optimiser (and schedule) state_dicts entry by entry."""
    assert a[0] == b[0], what
    for x, y in zip(a[1], b[1]):
        np.testing.assert_array_equal(x, y, err_msg=str(what))
    assert a[2]["param_groups"] == b[2]["param_groups"], what
    for i, buffers in a[2]["state"].items():
        for k, v in buffers.items():
            np.testing.assert_array_equal(np.asarray(b[2]["state"][i][k]), np.asarray(v), err_msg=f"{what}: {k}")
    assert a[3] == b[3], what


def _jit_step_run(opt_name: str, schedule: str, compiled: bool):
    model = _model()
    opt = _optimiser(opt_name, model)
    sched = SCHEDULES[schedule](opt)
    loss_fn = ng.nn.CrossEntropyLoss()
    params = list(model.parameters())

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        ng.nn.utils.clip_grad_norm_(params, 0.5)
        opt.step()
        sched.step()
        return loss

    f = ng.jit(step) if compiled else step
    rng = np.random.default_rng(0)
    losses = [f(rng.standard_normal((6, 8)).astype(np.float32), rng.integers(0, 4, 6)).numpy().item() for _ in range(100)]
    arrays = [t.numpy().copy() for t in (*model.parameters(), *model.buffers())]
    return (losses, arrays, opt.state_dict(), sched.state_dict()), getattr(f, "traces", None)


@pytest.mark.parametrize("opt_name", OPTIMISERS)
def test_a_jitted_step_with_batchnorm_dropout_decay_clipping_and_a_schedule_equals_the_eager_step(opt_name, fast):
    schedule = list(SCHEDULES)[OPTIMISERS.index(opt_name) % len(SCHEDULES)]
    eager, _ = _jit_step_run(opt_name, schedule, compiled=False)
    compiled, traces = _jit_step_run(opt_name, schedule, compiled=True)
    assert traces == 1
    _assert_same_state(eager, compiled, (opt_name, schedule))


def _targets(loss: str, rng, n: int):
    """Targets of the kind each loss reads: class indices, {0, 1}, {−1, +1}, distributions or reals."""
    if loss in ("cross_entropy", "nll"):
        return rng.integers(0, 4, n)
    if loss in ("bce", "bce_with_logits"):
        return rng.integers(0, 2, (n, 4)).astype(np.float32)
    if loss in ("hinge", "perceptron"):
        return (rng.integers(0, 2, (n, 4)) * 2 - 1).astype(np.float32)
    if loss in ("cross_entropy_probs", "kl_div"):
        p = rng.random((n, 4)).astype(np.float32) + np.float32(0.1)
        return p / p.sum(axis=1, keepdims=True)
    return rng.standard_normal((n, 4)).astype(np.float32)


def _head(loss: str) -> tuple:
    """What the loss reads from the scores: probabilities for BCE, log-probabilities for NLL and KL."""
    if loss == "bce":
        return (ng.nn.Sigmoid(),)
    return (ng.nn.LogSoftmax(dim=1),) if loss in ("nll", "kl_div") else ()


def _fit_run(opt_name: str, loss: str, compiled: bool):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((64, 8)).astype(np.float32), _targets(loss, rng, 64)
    model = _model(_head(loss))
    opt = _optimiser(opt_name, model)
    kept = []
    callbacks = [LRSchedulerCallback(ng.optim.ExponentialLR(opt, 0.98), per="batch"),
                 LambdaCallback(on_epoch_end=lambda t, e, logs: kept.append(t.compiled_step.compiled))]  # fmt: skip
    h = ng.train.fit(model, loss, opt, X, y, epochs=25, batch_size=16, seed=0, jit=compiled, clip_grad_norm=1.0,
                     callbacks=callbacks)  # 4 batches x 25 epochs: 100 steps  # fmt: skip
    arrays = [t.numpy().copy() for t in (*model.parameters(), *model.buffers())]
    return (h.steps["loss"], arrays, opt.state_dict(), h.history), kept[-1]


FIT_CASES = [(name, "cross_entropy") for name in OPTIMISERS] + [("Adam", loss) for loss in sorted(ng.nn.LOSSES)]


@pytest.mark.parametrize("opt_name, loss", FIT_CASES)
def test_fits_compiled_step_equals_the_eager_fit_for_every_optimiser_and_loss(opt_name, loss, fast):
    eager, none = _fit_run(opt_name, loss, compiled=False)
    compiled, step = _fit_run(opt_name, loss, compiled=True)
    assert none is None and step is not None and step.traces >= 1  # fit took the compiled step and kept it
    assert len(eager[0]) == 100
    _assert_same_state(eager, compiled, (opt_name, loss))
