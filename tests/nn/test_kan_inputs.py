"""KANLinear takes its input as Linear does: (N, in), (in,) or (…, in), of the layer's dtype."""

import numpy as np
import pytest

import nablagrad as ng


def test_kan_linear_takes_leading_axes_and_one_example_like_linear():
    layer = ng.nn.KANLinear(3, 2, seed=0)
    x = np.random.default_rng(0).uniform(-1, 1, (4, 5, 3)).astype(np.float32)
    rows = layer(x.reshape(-1, 3)).numpy()
    np.testing.assert_array_equal(layer(x).numpy(), rows.reshape(4, 5, 2))
    np.testing.assert_array_equal(layer(x[0, 0]).numpy(), rows[0])
    assert layer(x[0, 0]).shape == (2,)


def test_kan_linear_gradient_through_leading_axes_matches_the_rows():
    layer = ng.nn.KANLinear(3, 2, seed=0, dtype="float64")
    x = np.random.default_rng(1).uniform(-1, 1, (2, 3, 3))
    grads = []
    for inp in (x, x.reshape(-1, 3)):
        t = ng.tensor(inp, requires_grad=True)
        layer.zero_grad()
        (layer(t) ** 2).sum().backward()
        grads.append((t.grad.numpy().reshape(-1, 3), layer.spline_weight.grad.numpy().copy()))
    np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-12)
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-12)


def test_kan_linear_refuses_another_dtype_and_feature_count_like_linear():
    layer, lin = ng.nn.KANLinear(3, 2, seed=0), ng.nn.Linear(3, 2)
    for bad, error, message in ((np.zeros((2, 3)), TypeError, r"input dtype float64 does not match the layer's float32"),
                                (np.zeros((2, 4), np.float32), ValueError, r"input has 4 features"),
                                (np.float32(1.0), ValueError, "got a scalar"),
                                ("abc", TypeError, "got str")):  # fmt: skip
        with pytest.raises(error, match=message):
            layer(bad)
        with pytest.raises(error, match=message):
            lin(bad)
