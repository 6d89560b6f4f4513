"""The vectorised erf/erfc against PyTorch's (the C library's) to float64 rounding, over the
whole range: the series, the six Taylor pieces, the continued fraction and the far tail."""

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.autodiff import special

torch = pytest.importorskip("torch")

X = np.concatenate(
    [
        np.linspace(-27.0, 27.0, 20001),
        np.random.default_rng(0).standard_normal(20000),
        [0.0, -0.0, 0.5, -0.5, 2.0, 1e-300, -5e-324, np.nextafter(0.5, 0), np.nextafter(2.0, 0)],
    ]
)


@pytest.mark.numpy_only("the host kernel itself, on NumPy arrays (off NumPy erf goes through the host: tests/devices)")
@pytest.mark.parametrize("name", ["erf", "erfc"])
def test_matches_torch_to_float64_rounding(name):
    out = getattr(special, name)(X)
    ref = getattr(torch, name)(torch.tensor(X)).numpy()
    normal = np.abs(ref) > 1e-300  # subnormal results carry fewer bits in either library
    np.testing.assert_allclose(out[normal], ref[normal], rtol=1e-15, atol=0)
    np.testing.assert_array_equal(out[~normal] == 0, ref[~normal] == 0)
    np.testing.assert_array_equal(np.signbit(out[X == 0]), np.signbit(ref[X == 0]))


def test_special_values_shapes_and_float32_like_torch():
    x = np.array([np.nan, np.inf, -np.inf])
    for name in ("erf", "erfc"):
        np.testing.assert_array_equal(getattr(special, name)(x), getattr(torch, name)(torch.tensor(x)).numpy())
    assert special.erf(np.float64(0.3)).shape == () and special.erfc(np.zeros((2, 0))).shape == (2, 0)
    big = np.random.default_rng(1).uniform(-4, 4, (3, 70000))  # several blocks
    np.testing.assert_allclose(special.erf(big), torch.erf(torch.tensor(big)).numpy(), rtol=1e-15)
    x32 = np.random.default_rng(2).standard_normal(50).astype(np.float32)
    out = ng.erf(x32)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), torch.erf(torch.tensor(x32)).numpy(), rtol=2e-7, atol=1e-7)
