"""ELU's derivatives of orders 1-3 against torch.func, at its kink x = 0 and beside it, for several α: PyTorch's
first derivative at 0 is α (the x ≤ 0 branch), its second 0 (its double backward reads x < 0)."""

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")
tfunc = pytest.importorskip("torch.func")


@pytest.mark.parametrize("alpha", [1.0, 0.5, 2.0])
@pytest.mark.parametrize("x0", [0.0, -0.7, 0.4, -30.0])
def test_elu_derivatives_match_torch_in_reverse_and_forward_mode(alpha, x0):
    def f(x):
        return ng.nn.functional.elu(x, alpha=alpha)

    def tf(x):
        return torch.nn.functional.elu(x, alpha=alpha)

    x = torch.tensor(x0, dtype=torch.float64)
    g, tg = f, tf
    for _ in range(3):
        g, tg = ng.grad(g), tfunc.grad(tg)
        np.testing.assert_allclose(float(g(np.float64(x0))), tg(x).item(), rtol=1e-12, atol=1e-15)
    fwd = ng.jacfwd(ng.jacfwd(f))(np.float64(x0))
    np.testing.assert_allclose(float(fwd), tfunc.jacfwd(tfunc.jacfwd(tf))(x).item(), rtol=1e-12, atol=1e-15)


def test_elu_of_large_inputs_stays_finite_with_gradients():
    x = ng.tensor([1000.0, -1000.0, 0.0], requires_grad=True)
    y = ng.nn.functional.elu(x)
    y.sum().backward()
    np.testing.assert_array_equal(y.numpy(), [1000.0, -1.0, 0.0])
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.0, 1.0])
