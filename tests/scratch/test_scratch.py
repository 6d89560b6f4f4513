"""Backpropagation by hand (nablagrad.scratch) against the autodiff engine and the notes' numbers."""

import numpy as np
import pytest

import nablagrad as ng
from nablagrad import scratch

ACTS = {"sigmoid": (scratch.Sigmoid, ng.nn.Sigmoid), "tanh": (scratch.Tanh, ng.nn.Tanh), "relu": (scratch.ReLU, ng.nn.ReLU)}


def _twin_networks(act: str, sizes=(4, 5, 3, 2), seed=0, bias=True):
    """The same weights in a scratch Network and an engine Sequential (float64)."""
    rng = np.random.default_rng(seed)
    mine, theirs = [], []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        W, bb = rng.standard_normal((a, b)), rng.standard_normal(b)
        mine.append(scratch.Dense(a, b, bias=bias, weight=W, bias_value=bb if bias else None))
        lin = ng.nn.Linear(a, b, bias=bias, dtype="float64")
        lin.weight.data[...] = W
        if bias:
            lin.bias.data[...] = bb
        theirs.append(lin)
        if i < len(sizes) - 2:
            mine.append(ACTS[act][0]())
            theirs.append(ACTS[act][1]())
    return mine, theirs


@pytest.mark.parametrize("act", sorted(ACTS))
@pytest.mark.parametrize("bias", [True, False])
def test_hand_written_backward_equals_the_engine_with_mse(act, bias):
    layers, modules = _twin_networks(act, bias=bias)
    net = scratch.Network([*layers, scratch.Sigmoid()], scratch.MSE(scale=0.5))
    model = ng.nn.Sequential(*modules, ng.nn.Sigmoid())
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((6, 4)), rng.uniform(size=(6, 2))
    value = net.loss(net.forward(X), Y)
    dX = net.backward()
    x = ng.tensor(X, requires_grad=True)
    loss = ng.nn.SquaredErrorLoss()(model(x), Y)  # ½‖a − y‖² averaged over examples
    loss.backward()
    assert value == pytest.approx(loss.item(), rel=1e-12)
    np.testing.assert_allclose(dX, x.grad.numpy(), rtol=1e-10, atol=1e-14)
    engine_grads = [p.grad.numpy() for p in model.parameters()]
    mine = [g for _, g in net.params_and_grads()]
    assert len(mine) == len(engine_grads)
    for g, ref in zip(mine, engine_grads):
        np.testing.assert_allclose(g, ref, rtol=1e-10, atol=1e-14)


def test_softmax_and_cross_entropy_by_hand_equal_the_engine():
    layers, modules = _twin_networks("tanh", sizes=(3, 4, 5))
    net = scratch.Network([*layers, scratch.Softmax()], scratch.CrossEntropy())
    model = ng.nn.Sequential(*modules)
    rng = np.random.default_rng(2)
    X, labels = rng.standard_normal((7, 3)), rng.integers(0, 5, 7)
    Y = np.eye(5)[labels]
    value = net.loss(net.forward(X), Y)
    net.backward()
    loss = ng.nn.CrossEntropyLoss()(model(ng.tensor(X)), labels)
    loss.backward()
    assert value == pytest.approx(loss.item(), rel=1e-12)
    for (_, g), p in zip(net.params_and_grads(), model.parameters()):
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-9, atol=1e-14)
    # through Softmax.backward, −y/o becomes (o − y)/N: the logits' gradient
    o = net.layers[-1].out
    np.testing.assert_allclose(net.layers[-1].backward(net.loss.backward()), (o - Y) / len(Y), atol=1e-15)


def test_softmax_backward_is_the_jacobian_product():
    z = np.array([[0.3, -1.2, 2.0]])
    s = scratch.Softmax()
    o = s.forward(z)[0]
    J = np.diag(o) - np.outer(o, o)  # ∂o_i/∂z_j = o_i(δ_ij − o_j)
    g = np.array([[0.5, -1.0, 2.0]])
    np.testing.assert_allclose(s.backward(g)[0], J.T @ g[0], rtol=1e-12)
    np.testing.assert_allclose(J, ng.jacrev(lambda t: ng.softmax(t, axis=0))(z[0]).numpy(), rtol=1e-12, atol=1e-15)


def test_dense_backward_formulas_of_lecture_002():
    """dL/dW = Xᵀ dL/dZ, dL/dX = dL/dZ Wᵀ, bias = column sums — one entry checked by hand."""
    X = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    W = np.arange(6.0).reshape(3, 2) / 10
    d = scratch.Dense(3, 2, weight=W)
    assert d.forward(X).shape == (2, 2)
    G = np.array([[1.0, -1.0], [0.5, 2.0]])
    dX = d.backward(G)
    assert d.dW[2, 1] == G[0, 1] * X[0, 2] + G[1, 1] * X[1, 2]  # the notes' "check!" for w_{3,2}
    np.testing.assert_array_equal(d.db, [1.5, 1.0])
    np.testing.assert_allclose(dX, G @ W.T)
    with pytest.raises(ValueError, match=r"expected inputs of shape \(batch, 3\)"):
        d.forward(np.ones((2, 4)))


def test_one_pixel_example_of_lecture_004():
    """Target 1, output 0.68: C = (0.68 − 1)² = 0.1024, ∂C/∂a = −0.64, then the chain through
    layers L−1 and L−2 with σ'(z) = e^{−z}/(1 + e^{−z})²."""
    x, w2, b2, w1 = 1.0, 0.8, 0.1, 1.5  # pixel; w^(L−2), b^(L−2); w^(L−1)
    a1 = 1 / (1 + np.exp(-(w2 * x + b2)))  # a^(L−1)
    z_L = np.log(0.68 / 0.32)  # the output must be 0.68
    b1 = z_L - w1 * a1  # b^(L−1)
    params = [ng.tensor(v, dtype="float64", requires_grad=True) for v in (w2, b2, w1, b1)]
    W2, B2, W1, B1 = params
    aL1 = ng.sigmoid(W2 * x + B2)
    aL = ng.sigmoid(W1 * aL1 + B1)
    C = (aL - 1.0) ** 2
    C.backward()
    assert aL.item() == pytest.approx(0.68, abs=1e-15)
    assert C.item() == pytest.approx(0.1024, abs=1e-15)
    assert ng.grad(lambda a: (a - 1.0) ** 2)(ng.tensor(0.68, dtype="float64")).item() == pytest.approx(-0.64)
    sigma_prime = lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2
    assert sigma_prime(z_L) == pytest.approx(0.68 * 0.32)  # = 0.2176
    dC_dzL = sigma_prime(z_L) * 2 * (0.68 - 1)  # = −0.139264
    assert dC_dzL == pytest.approx(-0.139264)
    assert W1.grad.item() == pytest.approx(a1 * dC_dzL, rel=1e-12)  # ∂C/∂w^(L−1) = a^(L−1) σ'(z^L) 2(a^L − y)
    assert B1.grad.item() == pytest.approx(dC_dzL, rel=1e-12)  # ∂C/∂b^(L−1) = σ'(z^L) 2(a^L − y)
    dC_da1 = w1 * dC_dzL  # ∂C/∂a^(L−1) = w^(L−1) σ'(z^L) 2(a^L − y)
    z1 = w2 * x + b2
    assert W2.grad.item() == pytest.approx(x * sigma_prime(z1) * dC_da1, rel=1e-12)  # ∂C/∂w^(L−2)
    assert B2.grad.item() == pytest.approx(sigma_prime(z1) * dC_da1, rel=1e-12)
    # and by hand with the scratch layers
    net = scratch.Network([scratch.Dense(1, 1, weight=[[w2]], bias_value=[b2]), scratch.Sigmoid(),
                           scratch.Dense(1, 1, weight=[[w1]], bias_value=[b1]), scratch.Sigmoid()], scratch.MSE())  # fmt: skip
    assert net.loss(net.forward([[x]]), [[1.0]]) == pytest.approx(0.1024, abs=1e-15)
    assert net.loss.backward()[0, 0] == pytest.approx(-0.64, abs=1e-15)
    net.backward()
    hand = [g.item() for _, g in net.params_and_grads()]
    np.testing.assert_allclose(hand, [p.grad.item() for p in params], rtol=1e-12)


def _triangle(n, seed):
    """Points in [−1, 1]²; +1 inside the triangle cut out by three lines (lecture 002), else 0."""
    X = np.random.default_rng(seed).uniform(-1, 1, (n, 2))
    inside = (X[:, 1] > -0.5) & (X[:, 1] < 1.2 * X[:, 0] + 0.6) & (X[:, 1] < -1.2 * X[:, 0] + 0.6)
    return X, inside.astype(float)[:, None]


def test_three_logistic_lines_learn_a_triangle():
    X, y = _triangle(600, 0)
    Xt, yt = _triangle(600, 1)
    net = scratch.Network([scratch.Dense(2, 3, seed=0), scratch.Sigmoid(), scratch.Dense(3, 1, seed=1), scratch.Sigmoid()],
                          scratch.MSE(scale=0.5))  # fmt: skip
    history = net.fit(X, y, lr=5.0, epochs=300, batch_size=10, seed=0)
    assert history[-1] < history[0] / 3
    assert np.mean((net.forward(Xt) > 0.5) == (yt > 0.5)) > 0.95
    with pytest.raises(ValueError, match="outputs have shape"):
        net.loss(np.ones((2, 1)), np.ones((3, 1)))
