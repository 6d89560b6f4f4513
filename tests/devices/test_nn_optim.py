"""Layers, losses and every first-order optimiser on another array library equal NumPy's to 1e-12
(float64): forward values, parameter gradients, and whole optimiser trajectories."""

from __future__ import annotations

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.nn import functional as Fn

from .conftest import assert_same

RNG = np.random.default_rng(7)
X = RNG.standard_normal((6, 5))
LABELS = RNG.integers(0, 3, 6)
ONEHOT = np.eye(3)[LABELS]
SIGNS = np.where(RNG.random((6, 3)) > 0.5, 1.0, -1.0)
PROBS = RNG.uniform(0.05, 0.95, (6, 3))


def _model(activation: str, device=None):
    return ng.nn.MLP([5, 4, 3], activation=activation, seed=3, dtype="float64").to(device or "cpu")


LOSSES = {
    "mse": lambda out, dev: Fn.mse_loss(out, ng.tensor(ONEHOT, device=dev)),
    "squared_error": lambda out, dev: Fn.squared_error_loss(out, ONEHOT),  # a NumPy target follows the prediction
    "l1": lambda out, dev: Fn.l1_loss(out, ng.tensor(ONEHOT, device=dev)),
    "cross_entropy_labels": lambda out, dev: Fn.cross_entropy(out, ng.tensor(LABELS, device=dev)),
    "cross_entropy_onehot": lambda out, dev: Fn.cross_entropy(out, ONEHOT),
    "nll": lambda out, dev: Fn.nll_loss(ng.log_softmax(out), ng.tensor(LABELS, device=dev)),
    "bce_with_logits": lambda out, dev: Fn.binary_cross_entropy_with_logits(out, ng.tensor(PROBS, device=dev)),
    "hinge": lambda out, dev: Fn.hinge_loss(out, ng.tensor(SIGNS, device=dev)),
    "softmax_layer_probs": lambda out, dev: Fn.cross_entropy_probs(ng.softmax(out), ONEHOT),
    "bce_probs": lambda out, dev: Fn.binary_cross_entropy(ng.sigmoid(out), ng.tensor(PROBS, device=dev)),
}


def _loss_and_grads(activation: str, loss: str, device=None):
    model = _model(activation, device)
    value = LOSSES[loss](model(ng.tensor(X, device=device)), device)
    value.backward()
    return [value] + [p.grad for p in model.parameters()]


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "leaky_relu", "abs", "step"])
def test_layers_and_their_gradients_equal_numpy(activation, device):
    for got, want in zip(_loss_and_grads(activation, "mse", device), _loss_and_grads(activation, "mse"), strict=True):
        assert_same(got, want)


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_losses_and_their_gradients_equal_numpy(loss, device):
    for got, want in zip(_loss_and_grads("tanh", loss, device), _loss_and_grads("tanh", loss), strict=True):
        assert got.device == ng.device(device)
        assert_same(got, want)


OPTIMISERS = {
    "sgd": lambda ps: ng.optim.SGD(ps, lr=0.1),
    "sgd_nesterov_wd": lambda ps: ng.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    "momentum": lambda ps: ng.optim.Momentum(ps, lr=0.1, forgetting=0.2),
    "adagrad": lambda ps: ng.optim.AdaGrad(ps, lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1),
    "rmsprop_centered_momentum": lambda ps: ng.optim.RMSProp(ps, lr=0.01, momentum=0.5, centered=True),
    "adam": lambda ps: ng.optim.Adam(ps, lr=0.01, weight_decay=0.01),
    "adam_amsgrad": lambda ps: ng.optim.Adam(ps, lr=0.01, amsgrad=True),
    "adamw": lambda ps: ng.optim.AdamW(ps, lr=0.01),
}


def _trajectory(name: str, device=None, steps: int = 6):
    model = _model("tanh", device)
    opt = OPTIMISERS[name](model.parameters())
    x, y = ng.tensor(X, device=device), ng.tensor(LABELS, device=device)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = Fn.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return np.array(losses), list(model.parameters()), opt


@pytest.mark.parametrize("name", sorted(OPTIMISERS))
def test_optimiser_trajectories_equal_numpy(name, device):
    got_losses, got_params, opt = _trajectory(name, device)
    want_losses, want_params, _ = _trajectory(name)
    np.testing.assert_allclose(got_losses, want_losses, rtol=1e-12, atol=1e-12)
    for g, w in zip(got_params, want_params, strict=True):
        assert g.device == ng.device(device)
        assert_same(g, w)
    for state in opt.state.values():  # the optimiser's buffers live on the parameters' device
        for buf in state.values():
            if hasattr(buf, "shape"):
                assert ng.backend.device_of(buf) == ng.device(device)


def test_an_optimiser_state_loaded_onto_the_device_continues_as_on_numpy(device):
    want_losses, want_params, _ = _trajectory("adam_amsgrad")
    model = _model("tanh")
    x, y = ng.tensor(X), ng.tensor(LABELS)
    opt = OPTIMISERS["adam_amsgrad"](model.parameters())
    losses = []
    for step in range(6):
        if step == 3:  # half-way the model moves, and a new optimiser there takes the host state
            saved = opt.state_dict()
            model.to(device)
            x, y = x.to(device), y.to(device)
            opt = OPTIMISERS["adam_amsgrad"](model.parameters())
            opt.load_state_dict(saved)
            assert all(ng.backend.device_of(b) == ng.device(device) for s in opt.state.values() for b in s.values()
                       if hasattr(b, "shape"))  # fmt: skip
        opt.zero_grad()
        loss = Fn.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    np.testing.assert_allclose(losses, want_losses, rtol=1e-12, atol=1e-12)
    for g, w in zip(model.parameters(), want_params, strict=True):
        assert_same(g, w)


def _closure_run(kind: str, device=None, steps: int = 4):
    """Levenberg–Marquardt on the residuals ``tanh(A w) − b``, or steepest descent on their mean square."""
    rng = np.random.default_rng(11)
    A, b = ng.tensor(rng.standard_normal((8, 3)), device=device), ng.tensor(rng.standard_normal(8), device=device)
    w = ng.tensor(np.full(3, 0.1), requires_grad=True, device=device)
    residual = lambda: ng.tanh(A @ w) - b
    mean_square = lambda: (residual() ** 2).mean()
    if kind == "levenberg_marquardt":
        opt = ng.optim.LevenbergMarquardt([w])
        return [opt.step(residual) for _ in range(steps)], w
    opt, losses = ng.optim.SteepestDescent([w]), []
    for _ in range(steps):
        opt.zero_grad()
        mean_square().backward()
        losses.append(opt.step(mean_square))
    return losses, w


@pytest.mark.parametrize("kind", ["levenberg_marquardt", "steepest_descent"])
def test_closure_optimisers_equal_numpy(kind, device):
    got_losses, got = _closure_run(kind, device)
    want_losses, want = _closure_run(kind)
    np.testing.assert_allclose(got_losses, want_losses, rtol=1e-12, atol=1e-12)
    assert got.device == ng.device(device)
    assert_same(got, want)


def _kan_values_and_grads(device=None):
    model = ng.nn.KAN([2, 3, 1], seed=0, dtype="float64").to(device or "cpu")
    out = model(ng.tensor(X[:, :2] * 0.6, device=device))
    (out * out).sum().backward()
    return [out] + [p.grad for p in model.parameters()]


def test_kan_and_its_gradients_equal_numpy(device):
    for got, want in zip(_kan_values_and_grads(device), _kan_values_and_grads(), strict=True):
        assert got.device == ng.device(device)
        assert_same(got, want)


def test_module_to_moves_parameters_in_place_and_back(device):
    model = _model("relu")
    params = list(model.parameters())
    before = [p.numpy().copy() for p in params]
    assert model.to(device) is model and model.device == ng.device(device)
    assert list(model.parameters()) == params and all(p.device == ng.device(device) for p in params)
    model.to("cpu")
    for p, b in zip(params, before, strict=True):
        assert type(p.data) is np.ndarray
        np.testing.assert_array_equal(p.data, b)
    model.to(np.float32)
    assert all(p.dtype == np.float32 for p in params) and model.device == "cpu"


def test_a_failed_step_leaves_parameters_and_state_unchanged_on_the_device(device):
    model = _model("tanh", device)
    opt = ng.optim.Adam(model.parameters(), lr=1e300)
    loss = Fn.mse_loss(model(ng.tensor(X, device=device)), ONEHOT)
    loss.backward()
    opt.step()
    before = [p.numpy().copy() for p in model.parameters()]
    loss = Fn.mse_loss(model(ng.tensor(X, device=device)), ONEHOT)
    opt.zero_grad()
    (loss * 1e300).backward()
    with pytest.raises(FloatingPointError):
        opt.step()
    for p, b in zip(model.parameters(), before, strict=True):
        np.testing.assert_array_equal(p.numpy(), b)


def test_labels_given_as_device_arrays(device):
    logits = ng.tensor(X[:, :3], device=device)
    labels = ng.tensor(LABELS, device=device).data  # a raw array of the device's library
    host = ng.tensor(X[:, :3])
    assert_same(Fn.cross_entropy(logits, labels), Fn.cross_entropy(host, LABELS))
    assert_same(Fn.cross_entropy_probs(ng.softmax(logits), labels), Fn.cross_entropy_probs(ng.softmax(host), LABELS))


def test_optimizer_state_follows_the_model_to_the_device_and_back(device):
    """Adam steps on the CPU, the model moved to the device (no opt.to), steps there, moved back,
    steps again: the same trajectory as all steps on the CPU; the state lives where the parameters are."""

    def run(moves):
        ng.manual_seed(0)
        model = ng.nn.MLP([3, 5, 2], seed=0, dtype="float64")
        opt = ng.optim.Adam(model.parameters(), lr=0.05)
        X = np.random.default_rng(0).standard_normal((8, 3))
        for step in range(6):
            if step in moves:
                model.to(moves[step])
            x = ng.tensor(X, device=model.device)
            opt.zero_grad()
            (model(x) ** 2).mean().backward()
            opt.step()
            for p in model.parameters():
                assert all(v.__class__ is p.data.__class__ for v in opt.state[id(p)].values() if hasattr(v, "shape"))
        return [p.numpy() for p in model.parameters()]

    for got, want in zip(run({2: device, 4: "cpu"}), run({}), strict=True):
        assert_same(got, want)
