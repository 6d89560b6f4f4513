"""An empty ``dim`` (``()``, ``[]``) reduces every dim, as PyTorch reads it; NumPy's ``axis=()`` reduces none."""

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.numpy_only("the dim rule is one function on every device")

X = np.arange(1.0, 7.0).reshape(2, 3)


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "std", "var", "norm"])
@pytest.mark.parametrize("empty", [(), []], ids=["tuple", "list"])
@pytest.mark.parametrize("keepdim", [False, True])
def test_an_empty_dim_reduces_everything_as_torch(name, empty, keepdim):
    x, t = ng.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    ours, theirs = getattr(x, name)(dim=empty, keepdim=keepdim), getattr(t, name)(dim=empty, keepdim=keepdim)
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-12)
    ours.sum().backward()
    if name in ("std", "var"):  # torch 2.13 gives ±inf gradients for an empty dim: compare with a full reduction's
        t = torch.tensor(X, requires_grad=True)
        getattr(t, name)().sum().backward()
    else:
        theirs.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_numpy_s_empty_axis_reduces_nothing():
    np.testing.assert_array_equal(ng.tensor(X).sum(axis=()).numpy(), np.sum(X, axis=()))
    np.testing.assert_allclose(ng.linalg.vector_norm(ng.tensor(X), dim=()).numpy(), np.linalg.norm(X))
