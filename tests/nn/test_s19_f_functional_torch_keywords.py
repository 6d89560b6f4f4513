"""``nn.functional`` called as a PyTorch user writes it: the tensor by PyTorch's keyword ``input=`` (losses and
activations), and ``inplace=`` on ``relu``, ``leaky_relu``, ``silu`` and ``elu`` (taken, computed out of place:
the same values and gradients, the input left intact; a non-bool refused naming the function).  Oracle:
torch.nn.functional in float64."""

import numpy as np
import pytest

import nablagrad as ng

F = ng.nn.functional
torch = pytest.importorskip("torch")
TF = torch.nn.functional

_R = np.random.default_rng(19)
Z = _R.standard_normal((5, 4))
LABELS = _R.integers(0, 4, 5)
BITS = (_R.random((5, 4)) > 0.5) * 1.0
PROBS = 1 / (1 + np.exp(-Z))

CALLS = {
    "mse_loss": lambda f, T: f.mse_loss(input=T(Z), target=T(BITS), reduction="sum"),
    "l1_loss": lambda f, T: f.l1_loss(input=T(Z), target=T(BITS)),
    "huber_loss": lambda f, T: f.huber_loss(input=T(Z), target=T(BITS), delta=0.5),
    "smooth_l1_loss": lambda f, T: f.smooth_l1_loss(input=T(Z), target=T(BITS), beta=0.0),
    "cross_entropy": lambda f, T: f.cross_entropy(input=T(Z), target=T(LABELS), label_smoothing=0.1),
    "nll_loss": lambda f, T: f.nll_loss(input=T(Z), target=T(LABELS), ignore_index=2),
    "binary_cross_entropy": lambda f, T: f.binary_cross_entropy(input=T(PROBS), target=T(BITS), weight=T(PROBS)),
    "binary_cross_entropy_with_logits": lambda f, T: f.binary_cross_entropy_with_logits(
        input=T(Z), target=T(BITS), pos_weight=T(np.full(4, 2.0))
    ),
    "relu": lambda f, T: f.relu(input=T(Z), inplace=True),
    "leaky_relu": lambda f, T: f.leaky_relu(input=T(Z), negative_slope=0.2, inplace=True),
    "silu": lambda f, T: f.silu(T(Z), inplace=True),
    "elu": lambda f, T: f.elu(T(Z), 0.5, True),  # PyTorch's positions: (input, alpha, inplace)
    "gelu": lambda f, T: f.gelu(input=T(Z), approximate="tanh"),
    "softplus": lambda f, T: f.softplus(input=T(Z), beta=2.0),
    "normalize": lambda f, T: f.normalize(input=T(Z), p=1.0, dim=0),
    "dropout": lambda f, T: f.dropout(input=T(Z), p=0.3, training=False),
    "prelu": lambda f, T: f.prelu(input=T(Z), weight=T(np.array([0.3]))),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_torch_keyword_forms_match_torch(name):
    got = CALLS[name](F, ng.tensor)
    want = CALLS[name](TF, torch.tensor)
    assert got.shape == tuple(want.shape) and got.dtype == np.float64
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "silu", "elu"])
def test_inplace_activation_gradient_equals_torch_out_of_place(name):
    x = ng.tensor(Z.copy(), requires_grad=True)
    xt = torch.tensor(Z.copy(), requires_grad=True)
    getattr(F, name)(x, inplace=True).sum().backward()
    getattr(TF, name)(xt * 1.0, inplace=True).sum().backward()  # torch needs a non-leaf to run in place
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12)
    np.testing.assert_array_equal(x.numpy(), Z)  # ours leaves the input as it was


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "silu", "elu"])
def test_inplace_must_be_a_bool(name):
    with pytest.raises(TypeError, match=rf"{name}: inplace must be True or False, got int 1"):
        getattr(F, name)(ng.tensor(Z), inplace=1)
