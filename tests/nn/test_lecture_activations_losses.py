"""Generalised ReLU's derivative at 0 and cross-entropy on probabilities, against PyTorch."""

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.nn import functional as F

torch = pytest.importorskip("torch")  # the oracle; without it these tests are skipped

Z = np.array([-2.0, -0.5, 0.0, 0.0, 0.7, 3.0])


@pytest.mark.parametrize("slope", [0.01, 0.2, -1.0])
def test_leaky_relu_derivative_at_zero_is_alpha(slope):
    x = ng.tensor(Z, requires_grad=True)
    F.leaky_relu(x, slope).sum().backward()
    xt = torch.tensor(Z, requires_grad=True)
    torch.nn.functional.leaky_relu(xt, slope).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), xt.grad.numpy())
    assert x.grad.numpy()[2] == slope


def test_prelu_gradients_match_torch():
    X = np.array([[-1.0, 0.0, 2.0], [0.0, -3.0, 0.5]])
    x = ng.tensor(X, requires_grad=True)
    layer = ng.nn.PReLU(num_parameters=3, init=0.25, dtype="float64")
    (layer(x) * ng.tensor(np.arange(6.0).reshape(2, 3))).sum().backward()
    xt = torch.tensor(X, requires_grad=True)
    wt = torch.full((3,), 0.25, dtype=torch.float64, requires_grad=True)
    (torch.nn.functional.prelu(xt, wt) * torch.arange(6.0, dtype=torch.float64).reshape(2, 3)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy())
    np.testing.assert_allclose(layer.weight.grad.numpy(), wt.grad.numpy())


def test_cross_entropy_on_probabilities_has_the_lecture_gradient():
    rng = np.random.default_rng(0)
    P = rng.dirichlet(np.ones(4), size=5)
    labels = np.array([0, 3, 1, 1, 2])
    Y = np.eye(4)[labels]
    o = ng.tensor(P, requires_grad=True)
    loss = F.cross_entropy_probs(o, labels, reduction="sum")
    loss.backward()
    np.testing.assert_allclose(o.grad.numpy(), -Y / P, rtol=1e-12)  # ∂/∂o_j = −y_j / o_j
    ot = torch.tensor(P, requires_grad=True)
    ref = torch.nn.functional.nll_loss(torch.log(ot), torch.tensor(labels), reduction="sum")
    ref.backward()
    np.testing.assert_allclose(loss.item(), ref.item(), rtol=1e-12)
    np.testing.assert_allclose(o.grad.numpy(), ot.grad.numpy(), rtol=1e-12)
    # soft targets and the module, mean over examples
    m = ng.nn.CrossEntropyProbsLoss()
    np.testing.assert_allclose(m(ng.tensor(P), Y).item(), -(Y * np.log(P)).sum(1).mean(), rtol=1e-12)


def test_cross_entropy_on_probabilities_never_returns_nan():
    P = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    o = ng.tensor(P, requires_grad=True)
    loss = F.cross_entropy_probs(o, np.array([1, 2]), reduction="sum", eps=1e-12)
    loss.backward()
    assert np.isfinite(loss.item()) and loss.item() == pytest.approx(-np.log(1e-12))
    g = o.grad.numpy()
    assert np.all(np.isfinite(g)) and g[0, 1] == pytest.approx(-1e12) and g[1, 2] == -1.0 and g[0, 0] == 0.0
    with pytest.raises(ValueError, match="labels must lie in"):
        F.cross_entropy_probs(o, np.array([0, 3]))
