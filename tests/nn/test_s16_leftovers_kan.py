"""Rebuilding a KAN from a file draws no random weights first (its peak memory stays near its parameters' bytes);
``KANLinear``'s ``init``, a callable, replaces the default draw (as ``Linear``'s), and the default is unchanged.

Oracles: tracemalloc, the saved model's own outputs (a round trip), the stated distributions of the default draw."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import nablagrad as ng

nn = ng.nn


@pytest.mark.numpy_only("tracemalloc sees NumPy's allocations only")
@pytest.mark.parametrize("make", [lambda: nn.KAN([300, 400, 10], grid_size=8, seed=0),
                                  lambda: nn.Sequential(nn.KANLinear(300, 400, grid_size=8, seed=0))])  # fmt: skip
def test_loading_a_kan_peaks_below_one_and_a_half_times_its_parameters(tmp_path, make):
    model = make()
    path = ng.io.save(model, tmp_path / "kan.safetensors")
    nbytes = sum(p.data.nbytes for p in model.parameters())
    tracemalloc.start()
    try:
        loaded = ng.io.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1.5 * nbytes, f"peak {peak / 1e6:.1f} MB for {nbytes / 1e6:.1f} MB of parameters"
    x = ng.tensor(np.random.default_rng(1).uniform(-1, 1, (3, 300)).astype(np.float32))
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())


def test_a_callable_init_is_called_on_each_parameter_instead_of_the_draw():
    seen = []

    def fill(p):
        seen.append(p.shape)
        p.data[...] = 0.5

    layer = nn.KANLinear(3, 2, grid_size=4, spline_order=2, dtype="float64", init=fill)
    assert seen == [(3, 2), (3, 6, 2)]
    assert layer.base_weight.dtype == np.float64 and layer.spline_weight.dtype == np.float64
    np.testing.assert_array_equal(layer.base_weight.numpy(), np.full((3, 2), 0.5))
    np.testing.assert_array_equal(layer.spline_weight.numpy(), np.full((3, 6, 2), 0.5))
    kan = nn.KAN([2, 3, 1], init=fill)
    assert seen[2:] == [(2, 3), (2, 8, 3), (3, 1), (3, 8, 1)]
    assert all(np.all(p.numpy() == 0.5) for p in kan.parameters())


def test_a_non_callable_init_is_refused():
    with pytest.raises(TypeError, match=r"KANLinear: init must be None or a callable init\(parameter\), got 'zeros'"):
        nn.KANLinear(3, 2, init="zeros")


def test_the_default_draw_is_unchanged():
    """``w^base ~ U(±1/√in)`` and ``w^spline ~ N(0, (scale_noise/√in)²)``, reproducible from ``seed``."""
    n_in = 400
    layer = nn.KANLinear(n_in, 50, grid_size=5, spline_order=3, scale_noise=0.2, dtype="float64", seed=7)
    again = nn.KANLinear(n_in, 50, grid_size=5, spline_order=3, scale_noise=0.2, dtype="float64", seed=7)
    np.testing.assert_array_equal(layer.base_weight.numpy(), again.base_weight.numpy())
    np.testing.assert_array_equal(layer.spline_weight.numpy(), again.spline_weight.numpy())
    base, spline = layer.base_weight.numpy(), layer.spline_weight.numpy()
    bound = 1 / np.sqrt(n_in)
    assert np.abs(base).max() <= bound and np.abs(base).max() > 0.99 * bound
    assert abs(base.std() - bound / np.sqrt(3)) < 0.02 * bound  # the std of U(-b, b); 20 000 draws
    assert abs(spline.std() - 0.2 / np.sqrt(n_in)) < 0.02 * 0.2 / np.sqrt(n_in)  # 160 000 draws
    assert abs(spline.mean()) < 0.02 * 0.2 / np.sqrt(n_in)
