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
