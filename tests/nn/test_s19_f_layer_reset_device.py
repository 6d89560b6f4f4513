"""PyTorch's layer API a torch user calls: ``reset_parameters()`` on Linear, BatchNorm1d, LayerNorm, Embedding and
PReLU (the parameters re-drawn or re-set in place, so an optimiser built before keeps them), and the ``device=``
keyword, positional where PyTorch puts it (``BatchNorm1d(C, eps, momentum, affine, track_running_stats, device,
dtype)``), a bad device refused naming the layer before anything is drawn.  Oracle: torch.nn's own layers."""

import numpy as np
import pytest

import nablagrad as ng
from nablagrad import nn

torch = pytest.importorskip("torch")
tnn = torch.nn


def _host(t) -> np.ndarray:
    return np.asarray(ng.as_tensor(t).cpu().numpy())


def _perturb(*params) -> None:
    """Every parameter set to values no reset gives (a step an optimiser might have taken)."""
    with ng.no_grad():
        for p in params:
            p.copy_(ng.as_tensor(np.full(p.shape, 3.5, p.dtype), device=p.device))


def _state(module) -> dict:
    return {k: _host(v) for k, v in module.state_dict().items()}


def _torch_state(module) -> dict:
    return {k: v.detach().numpy() for k, v in module.state_dict().items()}


@pytest.mark.parametrize("kw", [{}, {"affine": False}, {"momentum": None}, {"track_running_stats": False}, {"bias": False}])
def test_batchnorm_reset_parameters_as_torch(kw, rng):
    ours, theirs = nn.BatchNorm1d(3, dtype="float64", **kw), tnn.BatchNorm1d(3, dtype=torch.float64, **kw)
    for _ in range(3):
        x = rng.standard_normal((5, 3))
        ours(ng.tensor(x)), theirs(torch.tensor(x))
    params = list(ours.parameters())
    _perturb(*params)
    with torch.no_grad():
        for p in theirs.parameters():
            p.fill_(3.5)
    ours.reset_parameters(), theirs.reset_parameters()
    assert list(ours.parameters()) == params  # the same objects, reset in place
    want = _torch_state(theirs)
    got = _state(ours)
    assert list(got) == list(want)
    for k in want:
        np.testing.assert_array_equal(got[k], want[k])


@pytest.mark.parametrize("kw", [{}, {"bias": False}, {"elementwise_affine": False}])
def test_layernorm_and_prelu_reset_parameters_as_torch(kw):
    ours, theirs = nn.LayerNorm((2, 3), dtype="float64", **kw), tnn.LayerNorm((2, 3), dtype=torch.float64, **kw)
    _perturb(*ours.parameters())
    ours.reset_parameters()
    want, got = _torch_state(theirs), _state(ours)
    assert list(got) == list(want) and all(np.array_equal(got[k], want[k]) for k in want)
    prelu, tprelu = nn.PReLU(4, init=0.3, dtype="float64"), tnn.PReLU(4, init=0.3, dtype=torch.float64)
    _perturb(prelu.weight)
    prelu.reset_parameters()
    np.testing.assert_array_equal(_host(prelu.weight), tprelu.weight.detach().numpy())


def test_linear_reset_parameters_redraws_in_place_within_torch_bound():
    lin = nn.Linear(64, 32, seed=0)
    opt = ng.optim.SGD(lin.parameters(), lr=0.5)
    weight, bias = lin.weight, lin.bias
    _perturb(weight, bias)
    lin.reset_parameters()
    bound = 1 / np.sqrt(64)  # torch's kaiming_uniform_(a=√5) and bias bound: U(±1/√in_features)
    w, b = _host(lin.weight), _host(lin.bias)
    assert lin.weight is weight and lin.bias is bias
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert w.std() == pytest.approx(bound / np.sqrt(3), rel=0.1) and len(np.unique(w)) == w.size
    before = w.copy()
    (lin(ng.tensor(np.ones((1, 64), np.float32))) ** 2).sum().backward()
    opt.step()  # the optimiser built before the reset still updates the layer's parameters
    assert not np.array_equal(_host(lin.weight), before)


def test_linear_reset_parameters_keeps_the_construction_scheme():
    lin = nn.Linear(3, 2, init="zeros", bias_init=0.1)
    _perturb(*lin.parameters())
    lin.reset_parameters()
    np.testing.assert_array_equal(_host(lin.weight), np.zeros((3, 2), np.float32))
    np.testing.assert_allclose(_host(lin.bias), np.full(2, 0.1, np.float32))
    lin = nn.Linear(3, 2, bias=False, init=lambda w: nn.init.constant_(w, 2.0))
    _perturb(lin.weight)
    lin.reset_parameters()
    np.testing.assert_array_equal(_host(lin.weight), np.full((3, 2), 2.0, np.float32))


def test_embedding_reset_parameters_zeroes_the_padding_row():
    emb = nn.Embedding(50, 4, padding_idx=-2, seed=1)
    weight = emb.weight
    _perturb(weight)
    emb.reset_parameters()
    w = _host(emb.weight)
    assert emb.weight is weight
    np.testing.assert_array_equal(w[48], np.zeros(4, np.float32))  # padding_idx -2 of 50 rows is row 48, as torch's
    rest = np.delete(w, 48, axis=0)
    assert np.abs(rest).max() < 3.5 * 2 and abs(rest.mean()) < 0.3 and rest.std() == pytest.approx(1.0, rel=0.25)


@pytest.mark.numpy_only
def test_device_keyword_in_torch_positions():
    bn = nn.BatchNorm1d(3, 1e-3, 0.2, True, True, "cpu", "float64")
    tbn = tnn.BatchNorm1d(3, 1e-3, 0.2, True, True, "cpu", torch.float64)
    assert repr(bn) == repr(tbn) and bn.weight.dtype == np.float64 and bn.running_var.dtype == np.float64
    ln, tln = nn.LayerNorm(4, 1e-3, True, False, "cpu", "float64"), tnn.LayerNorm(4, 1e-3, True, False, "cpu", torch.float64)
    assert repr(ln) == repr(tln) and ln.weight.dtype == np.float64 and ln.bias is None
    prelu, tprelu = nn.PReLU(2, 0.1, "cpu", "float64"), tnn.PReLU(2, 0.1, "cpu", torch.float64)
    assert repr(prelu) == repr(tprelu) and prelu.weight.dtype == np.float64
    np.testing.assert_array_equal(_host(prelu.weight), tprelu.weight.detach().numpy())
    for layer in (nn.Linear(3, 2, device="cpu", dtype="float64"), nn.Embedding(4, 2, device="cpu", dtype="float64")):
        assert str(layer.weight.device) == "cpu" and layer.weight.dtype == np.float64


@pytest.mark.numpy_only
@pytest.mark.parametrize(
    "build",
    [
        lambda d: nn.Linear(3, 2, device=d),
        lambda d: nn.BatchNorm1d(3, device=d),
        lambda d: nn.LayerNorm(3, device=d),
        lambda d: nn.Embedding(4, 2, device=d),
        lambda d: nn.PReLU(device=d),
    ],
)
def test_bad_device_is_refused_naming_the_layer_and_draws_nothing(build):
    ng.manual_seed(7)
    expected = _host(nn.Linear(4, 3).weight)
    ng.manual_seed(7)
    name = type(build("cpu")).__name__
    ng.manual_seed(7)
    with pytest.raises(ValueError, match=rf"{name}: device: unknown device 'tpu'"):
        build("tpu")
    np.testing.assert_array_equal(_host(nn.Linear(4, 3).weight), expected)  # the random stream as it was
