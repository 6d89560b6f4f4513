"""Lecture 001's saturation and lecture 000's warning against equal initial weights."""

import numpy as np
import pytest
import torch

import nablagrad as ng


def test_sigmoid_and_softmax_derivatives_vanish_as_inputs_grow():
    for s in (1.0, 10.0, 30.0):
        x = ng.tensor(np.array([s]), requires_grad=True)
        ng.sigmoid(x).sum().backward()
        xt = torch.tensor([s], dtype=torch.float64, requires_grad=True)
        torch.sigmoid(xt).sum().backward()
        assert x.grad.numpy()[0] == pytest.approx(xt.grad.item(), rel=1e-12)
    base = np.array([1.0, 0.5, -0.3])
    jac = [np.abs(ng.jacrev(lambda t: ng.softmax(t, axis=0))(s * base).numpy()).max() for s in (1, 10, 100)]
    ref = [np.abs(torch.autograd.functional.jacobian(lambda t: torch.softmax(t, 0), torch.tensor(s * base)).numpy()).max()
           for s in (1, 10, 100)]  # fmt: skip
    np.testing.assert_allclose(jac, ref, rtol=1e-10)
    assert jac[0] > jac[1] > jac[2] and jac[2] < 1e-20


@pytest.mark.parametrize("start", ["constant", "random"])
def test_equal_initial_weights_stay_equal(start):
    X, y = ng.data.make_xor(200, seed=0)
    net = ng.nn.MLP([2, 8, 2], activation="tanh", dtype="float64", seed=0)
    if start == "constant":
        for p in net.parameters():
            p.data[...] = 0.1
    opt = ng.optim.SGD(net.parameters(), lr=0.5)
    for _ in range(50):
        loss = ng.nn.CrossEntropyLoss()(net(ng.tensor(X)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    W = net[0].weight.numpy()
    spread = float(np.abs(W - W[:, :1]).max())
    if start == "constant":
        assert spread == 0.0 and np.abs(W).max() > 0.1  # moved, but every hidden unit identically
    else:
        assert spread > 0.1
