"""Issue 11's rule for ``ng.jit`` of a whole training step, over the whole library: for **every** optimiser
class that ``ng.optim`` exports and **every** loss in ``ng.nn.LOSSES``, 100 compiled steps equal 100 eager
steps bit for bit (losses, parameters, optimiser state), with and without the fast extra, from one trace.

The optimisers that take a closure re-evaluating the loss inside ``step`` (L-BFGS, Levenberg–Marquardt,
steepest descent with a line search) are not a ``zero_grad / backward / step`` loop and are left out by
name; a new optimiser class joins this test without an edit."""

import inspect

import numpy as np
import pytest

import nablagrad as ng

pytestmark = pytest.mark.numpy_only("compiled programs are NumPy programs; other devices run the eager step")

CLOSURE_OPTIMISERS = {"LBFGS", "LevenbergMarquardt", "SteepestDescent"}
OPTIMISERS = sorted(
    name for name, cls in vars(ng.optim).items()
    if inspect.isclass(cls) and issubclass(cls, ng.optim.Optimizer) and cls is not ng.optim.Optimizer
    and name not in CLOSURE_OPTIMISERS
)  # fmt: skip


def _targets(loss: str, rng, n: int):
    """Targets of the kind each loss reads: class indices, {0, 1}, {−1, +1}, distributions or reals."""
    if loss in ("cross_entropy", "nll"):
        return rng.integers(0, 3, n)
    if loss in ("bce", "bce_with_logits"):
        return rng.integers(0, 2, (n, 3)).astype(np.float32)
    if loss in ("hinge", "perceptron"):
        return (rng.integers(0, 2, (n, 3)) * 2 - 1).astype(np.float32)
    if loss in ("cross_entropy_probs", "kl_div"):
        p = rng.random((n, 3)).astype(np.float32) + np.float32(0.1)
        return p / p.sum(axis=1, keepdims=True)
    return rng.standard_normal((n, 3)).astype(np.float32)


def _head(loss: str, out):
    """What the loss takes from the network's scores: probabilities for BCE, log-probabilities for NLL/KL."""
    if loss == "bce":
        return ng.sigmoid(out)
    if loss in ("nll", "kl_div"):
        return ng.log_softmax(out, axis=1)
    return out


def _train(opt_name: str, loss: str, compiled: bool):
    model = ng.nn.MLP([4, 8, 3], activation="tanh", seed=0)
    cls = getattr(ng.optim, opt_name)
    opt = cls(model.parameters(), lr=0.01) if "lr" in inspect.signature(cls).parameters else cls(model.parameters())
    loss_fn = ng.nn.LOSSES[loss]()

    def step(x, y):
        out = loss_fn(_head(loss, model(x)), y)
        opt.zero_grad()
        out.backward()
        opt.step()
        return out

    f = ng.jit(step) if compiled else step
    rng = np.random.default_rng(0)
    losses = []
    for _ in range(100):
        x = rng.standard_normal((5, 4)).astype(np.float32)
        losses.append(float(f(x, _targets(loss, rng, 5)).numpy()))
    return losses, [p.numpy().copy() for p in model.parameters()], opt.state_dict(), getattr(f, "traces", None)


def _host(v) -> np.ndarray:
    """An optimiser state entry (a tensor, an array or a number) as a NumPy array."""
    return v.numpy() if hasattr(v, "numpy") else np.asarray(v)


def test_every_closure_free_optimiser_is_covered():
    torch_names = {"Adam", "AdamW", "SGD", "RMSprop", "Adagrad", "Adamax", "NAdam", "RAdam", "Adadelta", "Rprop", "ASGD"}
    assert torch_names <= set(OPTIMISERS)


@pytest.mark.parametrize("opt_name", OPTIMISERS)
def test_compiled_step_equals_eager_step_for_every_loss(opt_name, fast):
    for loss in sorted(ng.nn.LOSSES):
        eager_losses, eager_params, eager_state, _ = _train(opt_name, loss, compiled=False)
        losses, params, state, traces = _train(opt_name, loss, compiled=True)
        assert traces == 1, (opt_name, loss)
        assert losses == eager_losses, (opt_name, loss)
        for a, b in zip(params, eager_params):
            np.testing.assert_array_equal(a, b, err_msg=f"{opt_name}, {loss}")
        assert state["param_groups"] == eager_state["param_groups"]
        for i, buffers in eager_state["state"].items():
            for k, v in buffers.items():
                np.testing.assert_array_equal(_host(state["state"][i][k]), _host(v), err_msg=f"{opt_name}, {loss}, {k}")
