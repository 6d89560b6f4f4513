"""Module API pieces a PyTorch user reaches for: nn.Flatten / nn.Unflatten (against torch's shapes, values and
gradients, and through io.save/load), get_parameter / get_buffer / register_module, Identity's ignored arguments."""

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("dims", [(), (0,), (2,), (1, 2), (0, -2), (-3, -1)])
def test_flatten_matches_torch(dims):
    x = np.random.default_rng(0).normal(size=(2, 1, 4, 3))
    xn, xt = ng.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yn, yt = ng.nn.Flatten(*dims)(xn), torch.nn.Flatten(*dims)(xt)
    assert yn.shape == tuple(yt.shape)
    np.testing.assert_array_equal(yn.numpy(), yt.detach().numpy())
    w = np.random.default_rng(1).normal(size=yn.shape)
    (yn * ng.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(xn.grad.numpy(), xt.grad.numpy())


def test_unflatten_matches_torch_and_refuses_bad_sizes():
    x = np.arange(24.0).reshape(2, 12)
    for size in ((3, 4), (3, -1), (1, 12)):
        np.testing.assert_array_equal(ng.nn.Unflatten(1, size)(ng.tensor(x)).numpy(),
                                      torch.nn.Unflatten(1, size)(torch.tensor(x)).numpy())  # fmt: skip
    with pytest.raises(ValueError, match="do not multiply to 12"):
        ng.nn.Unflatten(1, (5, 2))(ng.tensor(x))
    with pytest.raises(TypeError, match="unflattened_size must be a tuple of sizes"):
        ng.nn.Unflatten(1, "ab")
    with pytest.raises(TypeError, match="start_dim must be an int"):
        ng.nn.Flatten(1.5)
    assert repr(ng.nn.Flatten()) == repr(torch.nn.Flatten())
    assert repr(ng.nn.Unflatten(1, (1, 28, 28))) == repr(torch.nn.Unflatten(1, (1, 28, 28)))


def test_flatten_and_unflatten_survive_save_and_load(tmp_path):
    model = ng.nn.Sequential(ng.nn.Unflatten(1, (1, 4, 3)), ng.nn.Flatten(), ng.nn.Linear(12, 2), ng.nn.Identity())
    path = tmp_path / "m.safetensors"
    ng.io.save(model, path)
    back = ng.io.load(path)
    assert repr(back) == repr(model)
    x = ng.tensor(np.random.default_rng(2).random((3, 12)).astype(np.float32))
    np.testing.assert_array_equal(back(x).numpy(), model(x).numpy())


def test_get_parameter_get_buffer_register_module_as_torch():
    ours = ng.nn.Sequential(ng.nn.Linear(3, 4, bias=False), ng.nn.BatchNorm1d(4))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4, bias=False), torch.nn.BatchNorm1d(4))
    assert ours.get_parameter("0.weight") is ours[0].weight
    assert ours.get_buffer("1.running_var") is ours[1].running_var
    assert ours.get_parameter("1.bias").shape == tuple(theirs.get_parameter("1.bias").shape)
    for name in ("0.bias", "1.nothing"):  # absent (bias=False), or no such name: AttributeError as torch's
        with pytest.raises(AttributeError):
            theirs.get_parameter(name)
        with pytest.raises(AttributeError, match="has no parameter"):
            ours.get_parameter(name)
    with pytest.raises(AttributeError, match="has no buffer"):
        ours.get_buffer("0.weight")
    m = ng.nn.Module()
    m.register_module("act", ng.nn.ReLU())
    assert [n for n, _ in m.named_children()] == ["act"]


def test_identity_takes_and_ignores_arguments_as_torch():
    x = np.arange(3.0)
    np.testing.assert_array_equal(ng.nn.Identity(54, unused="x")(ng.tensor(x)).numpy(),
                                  torch.nn.Identity(54, unused="x")(torch.tensor(x)).numpy())  # fmt: skip
