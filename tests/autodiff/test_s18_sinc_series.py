"""sinc's derivatives of every order near and at 0 against mpmath's at 50 digits (torch's rule masks the
derivative at 0, so its second derivative there is NaN, and JAX's quotient cancels near 0), and against
torch's first derivative in float32."""

import numpy as np
import pytest

import nablagrad as ng

mpmath = pytest.importorskip("mpmath")


def nth(f, n):
    for _ in range(n):
        f = ng.grad(f)
    return f


def exact(x: float, order: int) -> float:
    with mpmath.workdps(50):
        return float(mpmath.diff(lambda t: mpmath.sinc(mpmath.pi * t), mpmath.mpf(x), order))


@pytest.mark.parametrize("x", [0.0, 1e-9, 3e-3, -9e-3, 0.05, 0.0999, 0.1001, 0.3, -1.7])
@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_sinc_derivatives_match_mpmath(x, order):
    ours = float(nth(ng.sinc, order)(np.float64(x)))
    np.testing.assert_allclose(ours, exact(x, order), rtol=1e-8, atol=1e-9)


def test_sinc_first_derivative_matches_torch_in_float32():
    torch = pytest.importorskip("torch")
    xs = np.linspace(-2.0, 2.0, 41, dtype=np.float32)
    x = ng.tensor(xs, requires_grad=True)
    ng.sinc(x).sum().backward()
    t = torch.tensor(xs, requires_grad=True)
    torch.sinc(t).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-6)
