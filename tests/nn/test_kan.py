"""Kolmogorov–Arnold layers: B-splines against SciPy, gradients against central differences,
and a KAN that fits a 2-D function far better than an MLP with more parameters."""

import numpy as np
import pytest
from scipy.interpolate import BSpline

import nablagrad as ng
from nablagrad.nn.kan import bspline_basis, uniform_knots


@pytest.mark.parametrize("order", [0, 1, 3])
def test_bspline_basis_matches_scipy_and_sums_to_one(order):
    knots = uniform_knots(5, order, (-1.0, 1.0))
    x = np.linspace(-0.999, 0.999, 41)
    ours = bspline_basis(ng.tensor(x), knots, order).numpy()
    ref = np.stack([np.nan_to_num(BSpline.basis_element(knots[c : c + order + 2], extrapolate=False)(x))
                    for c in range(5 + order)], axis=1)  # fmt: skip
    np.testing.assert_allclose(ours, ref, atol=1e-12)
    np.testing.assert_allclose(ours.sum(1), 1.0, atol=1e-12)  # partition of unity inside the range


def test_kan_linear_gradients_against_central_differences():
    ng.set_default_dtype("float64")
    layer = ng.nn.KANLinear(3, 2, grid_size=4, spline_order=3, seed=0)
    x = np.random.default_rng(0).uniform(-0.9, 0.9, (5, 3))

    # through the inputs (the splines' own derivative) and through both weight tensors
    assert ng.gradcheck(lambda v: layer(v).sum() * 1.0, x, modes=("reverse",))
    base0, spline0 = layer.base_weight.numpy().copy(), layer.spline_weight.numpy().copy()

    def through_weights(bw, sw):
        B = layer.basis(ng.tensor(x)).reshape(5, -1)
        return ((ng.tensor(x) * ng.sigmoid(ng.tensor(x))) @ bw + B @ sw.reshape(-1, 2)).sum()

    assert ng.gradcheck(through_weights, base0, spline0, modes=("reverse",))
    out = layer(ng.tensor(x))
    (out * out).sum().backward()
    silu, B = ng.tensor(x) * ng.sigmoid(ng.tensor(x)), layer.basis(ng.tensor(x)).reshape(5, -1)
    g_base = ng.grad(lambda bw: ((silu @ bw + B @ ng.tensor(spline0.reshape(-1, 2))) ** 2).sum())(base0)
    np.testing.assert_allclose(layer.base_weight.grad.numpy(), g_base.numpy(), rtol=1e-12)


def test_edge_functions_are_what_the_layer_sums():
    ng.set_default_dtype("float64")
    layer = ng.nn.KANLinear(2, 3, seed=1)
    x = np.random.default_rng(2).uniform(-1, 1, (7, 2))
    phi0 = layer.edge_functions(x[:, 0])  # (7, 2, 3): φ_0j(x_0)
    phi1 = layer.edge_functions(x[:, 1])
    np.testing.assert_allclose(layer(ng.tensor(x)).numpy(), phi0[:, 0, :] + phi1[:, 1, :], rtol=1e-12)  # y_j = Σ_i φ_ij(x_i)


def _fit(model, X, y, steps):
    opt = ng.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(steps):
        loss = ng.nn.functional.mse_loss(model(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()


def test_kan_fits_a_2d_function_with_fewer_parameters_than_an_mlp():
    ng.set_default_dtype("float64")
    rng = np.random.default_rng(0)
    f = lambda X: np.exp(np.sin(np.pi * X[:, 0]) + X[:, 1] ** 2)[:, None]
    X, Xt = rng.uniform(-1, 1, (300, 2)), rng.uniform(-1, 1, (300, 2))
    kan, mlp = ng.nn.KAN([2, 5, 1], seed=0), ng.nn.MLP([2, 10, 10, 1], activation="tanh", seed=0)
    n_kan, n_mlp = (sum(p.size for p in m.parameters()) for m in (kan, mlp))
    assert (n_kan, n_mlp) == (2 * 5 * (1 + 8) + 5 * 1 * (1 + 8), 151)
    rmse = {}
    for name, model in (("kan", kan), ("mlp", mlp)):
        _fit(model, ng.tensor(X), ng.tensor(f(X)), 400)
        rmse[name] = float(np.sqrt(((model(ng.tensor(Xt)).numpy() - f(Xt)) ** 2).mean()))
    assert rmse["kan"] < 0.06 and rmse["kan"] < rmse["mlp"] / 3


def test_bad_shapes_and_arguments_are_refused():
    with pytest.raises(ValueError, match=r"KANLinear\(2, 1\): input has 3 features \(shape \(4, 3\)\), expected 2"):
        ng.nn.KANLinear(2, 1)(np.zeros((4, 3), np.float32))
    with pytest.raises(ValueError, match="grid_size >= 1"):
        ng.nn.KANLinear(2, 1, grid_size=0)
    with pytest.raises(ValueError, match="sizes needs at least"):
        ng.nn.KAN([3])
