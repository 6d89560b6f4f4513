"""The hand-written layers against central differences in float64 and PyTorch: every layer's
backward and parameter gradients, a loss's upstream gradient, a network driven by a given output
gradient; and the error paths of a training step, which leave every weight as it was."""

import numpy as np
import pytest
import torch

from nablagrad import scratch


def central(f, x, h=1e-6):
    """∂f/∂x by central differences, entry by entry (float64)."""
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        g[i] = (f(xp) - f(xm)) / (2 * h)
    return g


LAYERS = {
    "dense": (lambda: scratch.Dense(3, 4, seed=1), (5, 3)),
    "dense-no-bias": (lambda: scratch.Dense(3, 4, bias=False, seed=2), (5, 3)),
    "sigmoid": (scratch.Sigmoid, (5, 4)),
    "tanh": (scratch.Tanh, (5, 4)),
    "relu": (scratch.ReLU, (5, 4)),
    "softmax": (scratch.Softmax, (5, 4)),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_backward_and_parameter_gradients_equal_central_differences(name):
    make, shape = LAYERS[name]
    layer = make()
    rng = np.random.default_rng(0)
    X = rng.normal(size=shape)[:, ::-1]  # a non-contiguous view
    G = rng.normal(size=layer.forward(X).shape)
    L = lambda: float((G * layer.forward(X)).sum())  # noqa: E731 - L = Σ G ⊙ layer(X), so dL/dZ = G
    layer.forward(X)
    dX = layer.backward(G)
    np.testing.assert_allclose(dX, central(lambda x: float((G * layer.forward(x)).sum()), np.array(X)), atol=1e-8)
    for p, g in zip(layer.params, [g.copy() for g in layer.grads]):
        p0 = p.copy()

        def at(v, p=p):
            p[...] = v
            return L()

        np.testing.assert_allclose(g, central(at, p0), atol=1e-8)
        p[...] = p0


def test_loss_backward_takes_the_upstream_gradient_of_the_loss_itself():
    rng = np.random.default_rng(1)
    o, y = rng.uniform(0.1, 0.9, (4, 3)), np.eye(3)[[0, 2, 1, 1]]
    for loss in (scratch.MSE(), scratch.MSE(scale=0.5), scratch.CrossEntropy()):
        loss.forward(o, y)
        np.testing.assert_allclose(loss.backward(), central(lambda a: loss.forward(a, y), o), atol=1e-8)
        loss.forward(o, y)
        np.testing.assert_allclose(loss.backward(0.25), 0.25 * loss.backward(), rtol=1e-15)
        np.testing.assert_array_equal(loss.backward(np.float32(2.0)), loss.backward(2))
        for bad in (float("nan"), np.ones(2), "1", 1j):
            with pytest.raises(ValueError, match=r"backward: dL_dZ is the gradient with respect to the loss itself"):
                loss.backward(bad)
    with pytest.raises(ValueError, match="MSE: scale must be a finite number"):
        scratch.MSE(scale=float("inf"))


def test_network_backward_from_a_given_output_gradient_equals_torchs():
    rng = np.random.default_rng(2)
    W1, b1, W2 = rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(4, 2))
    net = scratch.Network([scratch.Dense(3, 4, weight=W1, bias_value=b1), scratch.ReLU(),
                           scratch.Dense(4, 2, bias=False, weight=W2), scratch.Softmax()], scratch.MSE())  # fmt: skip
    X, G = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    net.forward(X)
    dX = net.backward(G)
    t = [torch.tensor(a, requires_grad=True) for a in (X, W1, b1, W2)]
    torch.softmax(torch.relu(t[0] @ t[1] + t[2]) @ t[3], dim=1).backward(torch.tensor(G))
    for mine, theirs in zip([dX, *[g for _, g in net.params_and_grads()]], t):
        np.testing.assert_allclose(mine, theirs.grad.numpy(), rtol=1e-10, atol=1e-13)


def test_a_weight_assigned_anew_is_the_one_trained():
    d = scratch.Dense(2, 1, seed=0)
    net = scratch.Network([d], scratch.MSE())
    d.W = np.array([[1.0], [2.0]])
    X, Y = np.array([[1.0, 1.0]]), np.array([[0.0]])
    net.train_step(X, Y, lr=0.1)
    # L = (w1 + w2 + b)², ∂L/∂w_i = 2·3 = 6
    np.testing.assert_allclose(d.W, [[1.0 - 0.6], [2.0 - 0.6]])
    assert net.params_and_grads()[0][0] is d.W


def _net():
    return scratch.Network([scratch.Dense(2, 3, seed=0), scratch.Sigmoid(), scratch.Dense(3, 1, seed=1)], scratch.MSE())


@pytest.mark.parametrize("call, error, message", [
    (lambda n: n.train_step(np.array([[np.nan, 1.0]]), np.zeros((1, 1)), 0.1), FloatingPointError,
     "the loss or a gradient is NaN or inf.*no weight was changed"),
    (lambda n: n.train_step(np.ones((1, 2)), np.zeros((1, 1)), float("nan")), ValueError, "train_step: lr must be"),
    (lambda n: n.train_step(np.ones((3, 2)), np.zeros(3), 0.1), ValueError,
     r"outputs have shape \(3, 1\) but targets \(3,\); reshape the targets"),
    (lambda n: n.fit(np.array([[0.0, np.inf]]), np.zeros((1, 1)), 0.1, 2), ValueError, "X or Y holds NaN or inf"),
    (lambda n: n.fit(np.ones((2, 2)), np.array([[0.0], [np.nan]]), 0.1, 2), ValueError, "X or Y holds NaN or inf"),
])  # fmt: skip
def test_a_failed_step_changes_no_weight(call, error, message):
    net = _net()
    before = [p.copy() for p, _ in net.params_and_grads()]
    with pytest.raises(error, match=message):
        call(net)
    assert all(np.array_equal(a, p) for a, (p, _) in zip(before, net.params_and_grads()))


def test_dense_names_a_transposed_weight_and_a_bias_value_without_a_bias():
    with pytest.raises(ValueError, match=r"weight has shape \(2, 3\), expected \(3, 2\); pass its transpose"):
        scratch.Dense(3, 2, weight=np.zeros((2, 3)))
    with pytest.raises(ValueError, match="bias_value was given but bias=False"):
        scratch.Dense(3, 2, bias=False, bias_value=1.0)
    with pytest.raises(ValueError, match="weight holds NaN or inf"):
        scratch.Dense(1, 1, weight=[[np.nan]])
    d = scratch.Dense(3, 2, bias_value=0.1)  # the lecture's positive ReLU bias, one number for all
    np.testing.assert_array_equal(d.b, [0.1, 0.1])
