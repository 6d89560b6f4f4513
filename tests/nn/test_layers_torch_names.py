"""nn.Softmax / nn.LogSoftmax take PyTorch's ``dim`` beside NumPy's ``axis``."""

import numpy as np
import pytest

import nablagrad as ng


@pytest.mark.parametrize("name", ["Softmax", "LogSoftmax"])
def test_softmax_modules_take_dim_as_torch(name):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    for dim in (0, 1, -1):
        ours = getattr(ng.nn, name)(dim=dim)(ng.tensor(x)).numpy()
        theirs = getattr(torch.nn, name)(dim=dim)(torch.tensor(x)).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(getattr(ng.nn, name)(dim)(ng.tensor(x)).numpy(), theirs, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(getattr(ng.nn, name)(axis=dim)(ng.tensor(x)).numpy(), theirs, rtol=1e-12, atol=1e-12)
    assert getattr(ng.nn, name)(dim=1).dim == 1 and "dim=1" in repr(getattr(ng.nn, name)(dim=1))
    with pytest.raises(TypeError, match="not both"):
        getattr(ng.nn, name)(dim=1, axis=1)
    with pytest.raises(TypeError, match="dim must be an integer"):
        getattr(ng.nn, name)(dim=1.5)


@pytest.mark.parametrize("shape", [(5,), (5, 3), (3,), (1, 3)])
def test_bce_loss_weight_matches_torch_value_and_gradient(shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    probs, target = rng.uniform(0.05, 0.95, (5, 3)), (rng.random((5, 3)) > 0.5).astype(float)
    w = rng.uniform(0.5, 2.0, shape) if shape != (5,) else rng.uniform(0.5, 2.0, (5, 1))
    for reduction in ("mean", "sum", "none"):
        p = ng.tensor(probs, requires_grad=True)
        loss = ng.nn.BCELoss(reduction=reduction, weight=w)(p, target)
        tp = torch.tensor(probs, requires_grad=True)
        tloss = torch.nn.BCELoss(reduction=reduction, weight=torch.tensor(w))(tp, torch.tensor(target))
        np.testing.assert_allclose(loss.numpy(), tloss.detach().numpy(), rtol=1e-12)
        loss.sum().backward()
        tloss.sum().backward()
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match=r"binary_cross_entropy: weight of shape \(4,\) does not broadcast"):
        ng.nn.functional.binary_cross_entropy(ng.tensor(probs), target, weight=np.ones(4))
