"""grad / value_and_grad / vjp / jvp / jacfwd / jacrev against torch.func."""

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.autodiff import forward

torch = pytest.importorskip("torch")  # the oracle; without it these tests are skipped


def f_ng(x, y):
    x, y = ng.as_tensor(x), ng.as_tensor(y)
    return ng.sin(x) * y[:3].sum() + ng.tanh(x @ y[:3].reshape(3, 1).expand(3, 2)).reshape(1, 2).sum()


def f_torch(x, y):
    return torch.sin(x) * y[:3].sum() + torch.tanh(x @ y[:3].reshape(3, 1).expand(3, 2)).reshape(1, 2).sum()


def test_grad_with_argnums_tuple_matches_torch(rng):
    x, y = rng.standard_normal(3), rng.standard_normal(4)
    gx, gy = ng.grad(lambda a, b: f_ng(a, b).sum(), argnums=(0, 1))(x, y)
    tx, ty = torch.func.grad(lambda a, b: f_torch(a, b).sum(), argnums=(0, 1))(torch.tensor(x), torch.tensor(y))
    np.testing.assert_allclose(gx.numpy(), tx.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gy.numpy(), ty.numpy(), rtol=1e-12)


def test_value_and_grad_and_has_aux():
    (v, aux), g = ng.value_and_grad(lambda x: ((x * x).sum(), "aux"), has_aux=True)(np.array([1.0, 2.0]))
    assert v.item() == 5.0 and aux == "aux"
    np.testing.assert_allclose(g.numpy(), [2.0, 4.0])


def test_grad_requires_scalar_output():
    with pytest.raises(TypeError, match="scalar"):
        ng.grad(lambda x: x * 2)(np.ones(3))


def test_jacfwd_and_jacrev_match_torch(rng):
    x, y = rng.standard_normal(3), rng.standard_normal(4)
    j_f = ng.jacfwd(f_ng, argnums=0)(x, y)
    j_r = ng.jacrev(f_ng, argnums=1)(x, y)
    tj_f = torch.func.jacfwd(f_torch, argnums=0)(torch.tensor(x), torch.tensor(y))
    tj_r = torch.func.jacrev(f_torch, argnums=1)(torch.tensor(x), torch.tensor(y))
    assert j_f.shape == (3, 3) and j_r.shape == (3, 4)
    np.testing.assert_allclose(j_f.numpy(), tj_f.numpy(), rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(j_r.numpy(), tj_r.numpy(), rtol=1e-11, atol=1e-13)


def test_jvp_is_genuine_forward_mode(monkeypatch):
    """jvp must not run any backward pass (it is not reverse mode in disguise)."""
    from nablagrad.autodiff import backward

    def forbidden(*a, **k):
        raise AssertionError("reverse mode used inside jvp")

    monkeypatch.setattr(backward, "run_backward", forbidden)
    out, t = ng.jvp(lambda x: ng.exp(x) * ng.sin(x), (np.array([0.3, 1.0]),), (np.array([1.0, 2.0]),))
    x = np.array([0.3, 1.0])
    np.testing.assert_allclose(t.numpy(), (np.exp(x) * np.sin(x) + np.exp(x) * np.cos(x)) * [1.0, 2.0])
    assert forward.depth() == 0


def test_vjp_callable_twice(rng):
    a = rng.standard_normal((3, 2))
    out, vjp_fn = ng.vjp(lambda x: ng.tanh(x @ a), rng.standard_normal((4, 3)))
    ct = rng.standard_normal(out.shape)
    (g1,) = vjp_fn(ct)
    (g2,) = vjp_fn(ct)
    np.testing.assert_allclose(g1.numpy(), g2.numpy())
    np.testing.assert_allclose(g1.numpy(), (ct * (1 - out.numpy() ** 2)) @ a.T, rtol=1e-12)
    (g3,) = vjp_fn(ng.tensor(ct).data)  # a raw array of the output's library (a CuPy array on a GPU)
    np.testing.assert_array_equal(g3.numpy(), g1.numpy())


def test_inputs_may_be_scalars_arrays_or_tensors():
    f = lambda x: x * x * x  # noqa: E731
    assert ng.grad(f)(2.0).item() == pytest.approx(12.0)
    assert ng.grad(f)(np.float64(2.0)).item() == pytest.approx(12.0)
    assert ng.grad(f)(ng.tensor(2.0)).item() == pytest.approx(12.0)


def test_nested_forward_mode_gives_the_hessian():
    x = np.array([0.5, -2.0])
    h = ng.jacfwd(ng.jacfwd(lambda x: (x**3).sum()))(x)
    expected = torch.func.jacfwd(torch.func.jacfwd(lambda t: (t**3).sum()))(torch.tensor(x))
    np.testing.assert_allclose(h.numpy(), expected.numpy(), rtol=1e-14)
    assert forward.depth() == 0


def test_jacrev_of_jacrev_gives_hessian(rng):
    x = rng.standard_normal(3)
    h = ng.jacrev(ng.jacrev(lambda v: (v**3).sum() + v[0] * v[1]))(x)
    expected = np.diag(6 * x)
    expected[0, 1] = expected[1, 0] = 1.0
    np.testing.assert_allclose(h.numpy(), expected, rtol=1e-12)
