"""BatchNorm1d in training takes the batch statistics once (the forward pass's are the running update's), and
its outputs, input gradients and running buffers stay equal to torch.nn.BatchNorm1d's (float64)."""

from unittest import mock

import numpy as np
import pytest

import nablagrad as ng
import nablagrad.nn.functional as Fn

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("shape", [(8, 3), (6, 3, 5)])
@pytest.mark.parametrize("momentum", [0.1, 0.7, None])
@pytest.mark.parametrize("affine", [True, False])
def test_batchnorm_matches_torch_over_several_calls(shape, momentum, affine):
    rng = np.random.default_rng(0)
    ours = ng.nn.BatchNorm1d(3, momentum=momentum, affine=affine, dtype="float64")
    theirs = torch.nn.BatchNorm1d(3, momentum=momentum, affine=affine, dtype=torch.float64)
    for k in range(4):
        x = rng.normal(size=shape) * (k + 1) + k
        xn, xt = ng.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        yn, yt = ours(xn), theirs(xt)
        (yn * yn * yn).sum().backward()
        (yt * yt * yt).sum().backward()
        np.testing.assert_allclose(yn.numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(xn.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-10)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_allclose(getattr(ours, name).numpy(), getattr(theirs, name).numpy(), rtol=1e-13, err_msg=name)
    ours.eval()
    theirs.eval()
    x = rng.normal(size=shape)
    np.testing.assert_allclose(ours(ng.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-12, atol=1e-13)


def test_training_call_takes_the_batch_statistics_once():
    calls = []
    original = Fn._standardize

    def counted(*args, **kwargs):
        calls.append(args[0].shape)
        return original(*args, **kwargs)

    layer = ng.nn.BatchNorm1d(4)
    with mock.patch.object(Fn, "_standardize", counted):
        layer(ng.tensor(np.random.default_rng(1).normal(size=(16, 4)).astype("float32")))
    assert len(calls) == 1
    assert int(layer.num_batches_tracked.item()) == 1


def test_refused_input_changes_no_running_statistic():
    layer = ng.nn.BatchNorm1d(3, dtype="float64")
    before = {k: b.numpy().copy() for k, b in layer.named_buffers()}
    with pytest.raises(TypeError, match="does not match the layer's float64"):
        layer(ng.tensor(np.ones((4, 3), np.float32)))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        layer(ng.tensor(np.ones((1, 3))))
    for k, b in layer.named_buffers():
        np.testing.assert_array_equal(b.numpy(), before[k])
