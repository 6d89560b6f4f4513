"""quantile against torch: a slice holding NaN gives NaN (its gradient to that slice's last NaN,
as torch's), and each ``interpolation`` ('linear', 'lower', 'higher', 'midpoint', 'nearest') in
value, VJP and JVP, over all entries and along a dim, with a scalar or a vector q."""

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")  # the oracle

MODES = ["linear", "lower", "higher", "midpoint", "nearest"]
# ranks p = q (n − 1) for n = 5 and 6 that fall between, on, and exactly halfway between order statistics
QS = np.array([0.0, 0.1, 0.3, 0.375, 0.5, 0.625, 0.9, 1.0])


def _check(ng_f, torch_f, a: np.ndarray):
    """Value, VJP (weighted sum) and JVP of ``f(x)`` equal torch's."""
    x, t = ng.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, yt = ng_f(x), torch_f(t)
    assert y.shape == tuple(yt.shape)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-13, atol=1e-14)
    w = np.arange(1.0, 1.0 + yt.numel()).reshape(yt.shape)
    (y * ng.tensor(w)).sum().backward()
    (yt * torch.from_numpy(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-13, atol=1e-14)
    tangent = np.random.default_rng(2).standard_normal(a.shape)
    _, jt = ng.jvp(ng_f, (ng.tensor(a),), (ng.tensor(tangent),))
    _, want = torch.func.jvp(torch_f, (torch.from_numpy(a),), (torch.from_numpy(tangent),))
    np.testing.assert_allclose(jt.numpy(), want.numpy(), rtol=1e-13, atol=1e-14)


def test_a_nan_makes_the_quantile_nan():
    x = ng.tensor([1.0, float("nan"), 2.0, 4.0])
    assert np.isnan(ng.quantile(x, 0.5).item())
    assert np.isnan(torch.quantile(torch.tensor([1.0, float("nan"), 2.0, 4.0]), 0.5).item())


@pytest.mark.parametrize("mode", MODES)
def test_nan_slices_value_and_gradient_match_torch(mode):
    a = np.array([[1.0, np.nan, 2.0, np.nan, 4.0], [3.0, 0.5, -1.0, 2.0, 7.0], [np.nan, 1.0, 1.0, 0.0, 2.0]])
    q = np.array([0.2, 0.5, 0.9])
    _check(
        lambda x: ng.quantile(x, q, dim=1, interpolation=mode),
        lambda t: torch.quantile(t, torch.from_numpy(q), dim=1, interpolation=mode),
        a,
    )
    _check(lambda x: ng.quantile(x, 0.5, interpolation=mode), lambda t: torch.quantile(t, 0.5, interpolation=mode), a)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("n", [5, 6])
def test_interpolation_over_all_entries_matches_torch(mode, n):
    a = np.random.default_rng(n).permutation(np.arange(n, dtype=np.float64)) * 1.5 - 2.0
    _check(
        lambda x: ng.quantile(x, QS, interpolation=mode),
        lambda t: torch.quantile(t, torch.from_numpy(QS), interpolation=mode),
        a,
    )


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("mode", MODES)
def test_interpolation_along_a_dim_matches_torch(mode, keepdim):
    a = np.random.default_rng(3).standard_normal((3, 5, 2))
    _check(
        lambda x: ng.quantile(x, QS, dim=1, keepdim=keepdim, interpolation=mode),
        lambda t: torch.quantile(t, torch.from_numpy(QS), dim=1, keepdim=keepdim, interpolation=mode),
        a,
    )
    _check(
        lambda x: x.quantile(0.375, dim=0, keepdim=keepdim, interpolation=mode),
        lambda t: t.quantile(0.375, dim=0, keepdim=keepdim, interpolation=mode),
        a,
    )


def test_float32_keeps_its_dtype_in_every_mode():
    a = np.array([[1.0, 2.0, 4.0], [3.0, np.nan, 0.0]], np.float32)
    for mode in MODES:
        got = ng.quantile(ng.tensor(a), 0.25, dim=1, interpolation=mode)
        want = torch.quantile(torch.from_numpy(a), 0.25, dim=1, interpolation=mode)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


def test_bad_interpolation_and_empty_input_are_refused_like_torch():
    with pytest.raises(ValueError, match=r"quantile: interpolation must be one of linear, lower.*'cubic'"):
        ng.quantile(ng.tensor([1.0, 2.0]), 0.5, interpolation="cubic")
    with pytest.raises(RuntimeError, match="interpolation"):
        torch.quantile(torch.tensor([1.0, 2.0]), 0.5, interpolation="cubic")
    with pytest.raises(ValueError, match=r"quantile: the tensor of shape \(0,\) is empty"):
        ng.quantile(ng.tensor(np.zeros(0)), 0.5)
    with pytest.raises(RuntimeError, match="non-empty"):
        torch.quantile(torch.zeros(0), 0.5)
