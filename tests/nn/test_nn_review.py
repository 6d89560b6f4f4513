"""A hostile review of nn, optim and train (twelfth session): each case gave a wrong number or no error before its
fix.  Oracle: PyTorch 2.13 in float64."""

from __future__ import annotations

import math

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.numpy_only("compares with torch on host arrays")


def test_cross_entropy_with_probability_targets_takes_the_class_axis_1_as_torch():
    rng = np.random.default_rng(0)
    Z, P = rng.normal(size=(2, 4, 5)), rng.dirichlet(np.ones(4), size=(2, 5)).transpose(0, 2, 1)
    for reduction in ("mean", "none"):
        ours = ng.nn.CrossEntropyLoss(reduction=reduction)(ng.tensor(Z), P)
        theirs = torch.nn.CrossEntropyLoss(reduction=reduction)(torch.tensor(Z), torch.tensor(P))
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    last = ng.nn.functional.cross_entropy(ng.tensor(Z.transpose(0, 2, 1)), P.transpose(0, 2, 1), axis=-1)  # NumPy's spelling
    assert float(last) == pytest.approx(float(theirs.mean()), rel=1e-12)


def test_one_early_stopping_given_to_a_second_fit_starts_afresh():
    X = np.random.default_rng(0).normal(size=(60, 3))
    y = X @ np.array([[1.0], [-2.0], [0.5]])
    es = ng.train.EarlyStopping(patience=3)
    a = ng.nn.MLP([3, 1], dtype="float64", seed=0)
    ng.train.fit(a, "mse", ng.optim.SGD(a.parameters(), lr=0.1), X, y, epochs=100, batch_size=None,
                 validation_data=(X, y), callbacks=[es])  # fmt: skip
    b = ng.nn.MLP([3, 1], dtype="float64", seed=1)
    h = ng.train.fit(b, "mse", ng.optim.SGD(b.parameters(), lr=0.01), X, y, epochs=100, batch_size=None,
                     validation_data=(X, y), callbacks=[es])  # fmt: skip
    assert len(h["loss"]) > 3
    assert not np.array_equal(b.state_dict()["0.weight"], a.state_dict()["0.weight"])


def _linear_pair(seed: int = 0):
    lin = ng.nn.Linear(3, 2, dtype="float64", seed=seed)
    t = torch.nn.Linear(3, 2).double()
    with torch.no_grad():
        t.weight.copy_(torch.tensor(lin.weight.numpy().T.copy()))
        t.bias.copy_(torch.tensor(lin.bias.numpy().copy()))
    x = np.random.default_rng(seed).normal(size=(4, 3)) * 10
    lin(ng.tensor(x)).sum().backward()
    t(torch.tensor(x)).sum().backward()
    return lin, t


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
def test_clip_grad_norm_takes_one_tensor_or_many_and_norm_type_as_torch(norm_type):
    lin, t = _linear_pair()
    assert float(ng.nn.clip_grad_norm_(lin.weight, 1.0, norm_type=norm_type)) == pytest.approx(
        float(torch.nn.utils.clip_grad_norm_(t.weight, 1.0, norm_type=norm_type)), rel=1e-12
    )
    np.testing.assert_allclose(lin.weight.grad.numpy(), t.weight.grad.numpy().T, rtol=1e-12)
    lin, t = _linear_pair(1)
    ours = ng.nn.clip_grad_norm_(lin.parameters(), 0.5, norm_type=norm_type)
    theirs = torch.nn.utils.clip_grad_norm_(t.parameters(), 0.5, norm_type=norm_type)
    assert isinstance(ours, ng.Tensor) and ours.shape == () and str(ours.dtype) == str(theirs.dtype).split(".")[-1]
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-12)
    np.testing.assert_allclose(lin.bias.grad.numpy(), t.bias.grad.numpy(), rtol=1e-12)


def _grads(L, *arrays, dtype=np.float64):
    params = []
    for a in arrays:
        p = L.nn.Parameter(L.tensor(np.zeros(len(a), dtype)))
        p.grad = L.tensor(np.array(a, dtype))
        params.append(p)
    return params


@pytest.mark.parametrize("norm_type", [2.0, math.inf, "inf"])
def test_clip_grad_norm_of_a_nan_gradient_is_nan_and_clips_nothing(norm_type):
    """PyTorch returns NaN (and multiplies every gradient by NaN); nablagrad returns NaN too and leaves the
    gradients as they are, for the step's own finiteness check to refuse them."""
    expected = torch.nn.utils.clip_grad_norm_(_grads(torch, [math.nan, 1.0], [5.0, 1.0]), 1.0, norm_type)
    assert math.isnan(expected.item())
    params = _grads(ng, [math.nan, 1.0], [5.0, 1.0])
    assert math.isnan(ng.nn.clip_grad_norm_(params, 1.0, norm_type).item())
    np.testing.assert_array_equal(params[1].grad.numpy(), [5.0, 1.0])
    with pytest.raises(RuntimeError, match="non-finite|nan|NaN"):
        torch.nn.utils.clip_grad_norm_(_grads(torch, [math.nan, 1.0]), 1.0, norm_type, error_if_nonfinite=True)
    with pytest.raises(RuntimeError, match="nan"):
        ng.nn.clip_grad_norm_(_grads(ng, [math.nan, 1.0]), 1.0, norm_type, error_if_nonfinite=True)


def test_clip_grad_norm_of_huge_float32_gradients_is_finite_and_clips():
    """Finite float32 entries of 10³⁰: the norm (2·10³⁰) is accumulated in float64, so the gradients are
    clipped to the float64 reference (PyTorch's float32 norm overflows to inf and zeroes them)."""
    params = _grads(ng, [1e30] * 4, dtype=np.float32)
    norm = ng.nn.clip_grad_norm_(params, 1.0)
    assert norm.item() == pytest.approx(2e30, rel=1e-6)
    reference = _grads(torch, [1e30] * 4)  # float64
    torch.nn.utils.clip_grad_norm_(reference, 1.0)
    np.testing.assert_allclose(params[0].grad.numpy(), reference[0].grad.numpy(), rtol=1e-6)


def test_clip_grad_value_clips_every_entry_as_torch():
    lin, t = _linear_pair()
    ng.nn.clip_grad_value_(lin.parameters(), 3.0)
    torch.nn.utils.clip_grad_value_(t.parameters(), 3.0)
    np.testing.assert_array_equal(lin.weight.grad.numpy(), t.weight.grad.numpy().T)
    np.testing.assert_array_equal(lin.bias.grad.numpy(), t.bias.grad.numpy())
    with pytest.raises(ValueError, match="clip_value must be a finite number >= 0"):
        ng.nn.clip_grad_value_(lin.parameters(), -1.0)


@pytest.mark.parametrize("shape", [(2, 3, 3), (4, 3), (2, 3, 2, 5)])
def test_prelu_slopes_lie_along_the_channel_axis_1(shape):
    x = np.random.default_rng(0).normal(size=shape)
    ours = ng.nn.PReLU(3, dtype="float64")
    ours.weight.data[...] = [0.1, 0.2, 0.3]
    theirs = torch.nn.PReLU(3).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64))
    xn, xt = ng.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = ours(xn), theirs(xt)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-14)
    out.sum().backward()
    ref.sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(xn.grad.numpy(), xt.grad.numpy(), rtol=1e-14)


@pytest.mark.parametrize("v", [-40.0, -30.0, -1e-3, 0.0, 2.0])
def test_elu_gradient_has_no_cancellation_for_large_negative_inputs(v):
    x = ng.tensor(np.array([v]), requires_grad=True)
    ng.nn.ELU()(x).sum().backward()
    t = torch.tensor([v], dtype=torch.float64, requires_grad=True)
    torch.nn.ELU()(t).sum().backward()
    assert float(x.grad.numpy()[0]) == pytest.approx(float(t.grad[0]), rel=1e-12, abs=0)


def test_abs_activation_has_torchs_gradient_0_at_0():
    x = ng.tensor(np.array([0.0, -1.0, 2.0]), requires_grad=True)
    ng.nn.Abs()(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, -1.0, 1.0])


def test_module_list_and_dict_register_their_modules_as_torch():
    ours = ng.nn.ModuleList([ng.nn.Linear(2, 3), ng.nn.Linear(3, 1)])
    theirs = torch.nn.ModuleList([torch.nn.Linear(2, 3), torch.nn.Linear(3, 1)])
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.append(ng.nn.ReLU())
    assert len(ours) == 3 and isinstance(ours[-1], ng.nn.ReLU) and len(ours[:2]) == 2
    del ours[0]
    assert list(ours.state_dict()) == ["0.weight", "0.bias"]
    d = ng.nn.ModuleDict({"enc": ng.nn.Linear(2, 3), "dec": ng.nn.Linear(3, 2)})
    td = torch.nn.ModuleDict({"enc": torch.nn.Linear(2, 3), "dec": torch.nn.Linear(3, 2)})
    assert list(d.state_dict()) == list(td.state_dict()) and "enc" in d and d.keys() == ["enc", "dec"]

    class Net(ng.nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = ng.nn.ModuleList([ng.nn.Linear(2, 2) for _ in range(3)])

        def forward(self, x):
            for block in self.blocks:
                x = block(x)
            return x

    net = Net()
    assert len(list(net.parameters())) == 6
    with pytest.raises(TypeError, match="expected a Module"):
        net.blocks.append(3)
    with pytest.raises(KeyError, match="no module named 'x'"):
        d["x"]
