"""The activations and Dropout take PyTorch's ``inplace=`` flag (torch 2.13 is the oracle): same values,
same gradients, same repr; the result is computed out of place, so the input is left as it was."""

from __future__ import annotations

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.numpy_only("compares with torch on host arrays")

LAYERS = [  # (ours, torch's, positional arguments before inplace)
    (ng.nn.ReLU, torch.nn.ReLU, ()),
    (ng.nn.LeakyReLU, torch.nn.LeakyReLU, (0.1,)),
    (ng.nn.ELU, torch.nn.ELU, (0.7,)),
    (ng.nn.SiLU, torch.nn.SiLU, ()),
]


@pytest.mark.parametrize("ours_cls, torch_cls, args", LAYERS, ids=lambda v: getattr(v, "__name__", ""))
@pytest.mark.parametrize("inplace", [True, False])
def test_inplace_gives_torchs_values_gradients_and_repr(ours_cls, torch_cls, args, inplace):
    z = np.random.default_rng(0).normal(size=(4, 5))
    x = ng.tensor(z, requires_grad=True)
    out = ours_cls(*args, inplace)(x)
    (out * out).sum().backward()
    t = torch.tensor(z, requires_grad=True)
    tout = torch_cls(*args, inplace=inplace)(t * 1.0)  # torch overwrites its input: give it a copy it may write
    (tout * tout).sum().backward()
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)
    np.testing.assert_array_equal(x.numpy(), z)  # ours is out of place: the input is intact
    assert repr(ours_cls(*args, inplace=inplace)) == repr(torch_cls(*args, inplace=inplace))


@pytest.mark.parametrize("inplace", [True, False])
def test_dropout_takes_inplace_as_torch(inplace):
    assert repr(ng.nn.Dropout(0.5, inplace)) == repr(torch.nn.Dropout(0.5, inplace))
    assert repr(ng.nn.Dropout()) == repr(torch.nn.Dropout())
    d = ng.nn.Dropout(0.5, inplace=inplace, seed=0)
    x = np.ones((200, 50))
    y = d(x).numpy()
    assert set(np.unique(y)) <= {0.0, 2.0} and 0.45 < (y == 0).mean() < 0.55  # as torch: zeros and x/(1-p)
    np.testing.assert_array_equal(x, 1.0)
    d.eval()
    np.testing.assert_array_equal(d(x).numpy(), x)


@pytest.mark.parametrize("make", [lambda v: ng.nn.ReLU(v), lambda v: ng.nn.SiLU(inplace=v),
                                  lambda v: ng.nn.LeakyReLU(0.1, v), lambda v: ng.nn.ELU(inplace=v),
                                  lambda v: ng.nn.Dropout(0.5, v)])  # fmt: skip
@pytest.mark.parametrize("bad", [1, "yes", None])
def test_a_non_bool_inplace_is_refused_naming_the_layer(make, bad):
    with pytest.raises(TypeError, match=r"^(ReLU|SiLU|LeakyReLU|ELU|Dropout): inplace must be True or False, got"):
        make(bad)


def test_dropout_names_the_seed_keyword_when_given_a_seed_positionally():
    with pytest.raises(TypeError, match=r"Dropout\(p, seed=\.\.\.\)"):
        ng.nn.Dropout(0.5, 3)


def test_an_inplace_relu_runs_and_is_described_as_the_relu_it_computes():
    """An MLP built with ReLU(inplace=True) runs and is described as the plain ReLU it computes."""
    model = ng.nn.Sequential(ng.nn.Linear(3, 4), ng.nn.ReLU(inplace=True), ng.nn.Linear(4, 1))
    assert ng.io.to_spec(model)["layers"][1] == {"type": "ReLU"}
    assert model(np.ones((2, 3), np.float32)).shape == (2, 1)
