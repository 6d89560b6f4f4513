"""lgamma, digamma and polygamma against PyTorch 2.13: values (float64 and float32, integer inputs, the special
points), derivatives of every order (lgamma' = digamma, digamma' = polygamma(1), …) by torch.autograd.grad with
create_graph and torch.func.jvp, central differences in float64 (ng.gradcheck), and the errors.  mpmath (a
dependency of torch) checks the float64 kernels to a few ulps where PyTorch's own are less accurate (its
trigamma is good to ~1e-9 only)."""

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(15)
# positive and negative non-integers, near the roots of lgamma (1, 2, −2.457…) and digamma (1.4616…), large x
GRID = np.concatenate(
    [
        np.linspace(-7.7, 12.3, 201),
        np.exp(RNG.uniform(-20, 30, 100)),
        -np.exp(RNG.uniform(-8, 4, 60)) + 0.01,
        [0.999, 1.001, 1.999, 2.001, -2.4570247, 1.4616321449683622, 0.5, 1.5, 2.5, 10.0, 1e-300],
    ]
)
GRID = GRID[GRID != np.round(GRID)]  # no poles (they have a test of their own)
FUNCS = {
    "lgamma": (ng.lgamma, torch.lgamma),
    "digamma": (ng.digamma, torch.digamma),
    **{f"polygamma{n}": (lambda x, n=n: ng.polygamma(n, x), lambda x, n=n: torch.polygamma(n, x)) for n in (1, 2, 3, 5)},
}


def _close(got, want, rtol, atol, at=GRID):
    """Equal where both are ±∞/NaN, else within rtol·|want| + atol (atol may be an array); ``at``: the inputs."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    same = (got == want) | (np.isnan(got) & np.isnan(want))
    bad = ~same & ~(np.abs(got - np.where(same, 0, want)) <= atol + rtol * np.abs(want))
    assert not bad.any(), list(zip(np.broadcast_to(at, got.shape)[bad], got[bad], want[bad]))


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_float64_values_match_torch(name):
    f_ng, f_torch = FUNCS[name]
    got = f_ng(ng.tensor(GRID)).numpy()
    want = f_torch(torch.tensor(GRID)).numpy()
    # PyTorch's trigamma stops its series early (~1e-9 relative); the others agree to rounding, with an absolute
    # floor at the roots (digamma's recurrence cancels there, in both libraries)
    rtol = 2e-9 if name == "polygamma1" else 1e-13
    _close(got, want, rtol, 1e-14 * np.maximum(1.0, np.abs(want)) if name != "lgamma" else 1e-15)


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_float64_values_match_mpmath_to_a_few_ulps(name):
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    xs = GRID[::3]
    exact = {
        "lgamma": lambda v: mpmath.log(abs(mpmath.gamma(v))) if abs(v) < 1e3 else mpmath.loggamma(v).real,
        "digamma": mpmath.digamma,
        **{f"polygamma{n}": (lambda v, n=n: mpmath.polygamma(n, v)) for n in (1, 2, 3, 5)},
    }[name]
    want = np.array([float(exact(mpmath.mpf(float(v)))) for v in xs])
    got = FUNCS[name][0](ng.tensor(xs)).numpy()
    scale = np.abs(want)
    if name == "lgamma":  # near its roots ln Γ is small: an absolute error of an ulp of the terms
        atol = 1e-15
    elif name == "digamma":  # ψ(x) = ψ(x + n) − Σ 1/(x + j): an ulp of ψ(x + n) ≈ ln 10 near its root
        atol = 2e-15
    else:  # the reflection below 0 subtracts terms of the size π^{n+1} Pₙ(cot πx)
        atol = 1e-14 * np.maximum(1.0, scale) * (xs < 0)
    _close(got, want, 5e-15, atol, xs)


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_float32_and_integer_inputs_as_torch(name):
    f_ng, f_torch = FUNCS[name]
    x32 = GRID[(np.abs(GRID) < 30) & (np.abs(GRID) > 1e-3)].astype(np.float32)
    got, want = f_ng(ng.tensor(x32)), f_torch(torch.tensor(x32))
    assert got.dtype == np.float32 and want.dtype == torch.float32
    # computed in float64 and rounded: torch's float64 value of the same inputs, rounded, to an ulp
    rounded = f_torch(torch.tensor(x32.astype(np.float64))).numpy().astype(np.float32)
    _close(got.numpy(), rounded, 2.4e-7, 1e-30, x32)
    # torch's own float32 kernels lose digits near the poles (sin πx, tan πx of a rounded πx): compared away from them
    away = np.abs(x32 - np.round(x32)) > 0.1
    _close(got.numpy()[away], want.numpy()[away], 1e-4, 1e-5, x32[away])
    ints = np.array([1, 2, 3, 7, 20])
    got_i, want_i = f_ng(ng.tensor(ints)), f_torch(torch.tensor(ints))
    assert str(got_i.dtype) == str(want_i.dtype).removeprefix("torch.") == "float32"
    np.testing.assert_allclose(got_i.numpy(), want_i.numpy(), rtol=2e-6)


def test_special_points_lgamma_and_digamma_equal_torch():
    x = np.array([-3.0, -2.5, -1.0, -0.0, 0.0, 5e-324, -5e-324, 1e-300, 1.0, 2.0, 1e300, 2.6e305, np.inf, -np.inf, np.nan])
    for f_ng, f_torch in (FUNCS["lgamma"], FUNCS["digamma"]):
        got, want = f_ng(ng.tensor(x)).numpy(), f_torch(torch.tensor(x)).numpy()
        _close(got, want, 1e-14, 0.0, x)
        np.testing.assert_array_equal(np.signbit(got[np.isinf(got)]), np.signbit(want[np.isinf(want)]))


def test_special_points_polygamma():
    """At the poles 0, −1, … ψ⁽ⁿ⁾ is ±∞ with the sign of (−1)ⁿ⁺¹ (PyTorch's for n ≥ 2; its n = 1 gives a large
    finite number there, from sin πx rounding); its limit 0 at +∞ (PyTorch: NaN for n ≥ 2) and NaN at −∞, where
    it has no limit (PyTorch: ±∞ for n ≥ 2)."""
    poles = np.array([0.0, -0.0, -1.0, -4.0])
    for n in (1, 2, 3, 4):
        sign = (-1.0) ** (n + 1)
        np.testing.assert_array_equal(ng.polygamma(n, ng.tensor(poles)).numpy(), sign * np.inf)
        if n >= 2:
            np.testing.assert_array_equal(torch.polygamma(n, torch.tensor(poles)).numpy(), sign * np.inf)
        out = ng.polygamma(n, ng.tensor([np.inf, -np.inf, np.nan])).numpy()
        assert out[0] == 0 and np.isnan(out[1:]).all()
    # next to a pole the value is huge, of the pole's sign on each side
    near = ng.polygamma(2, ng.tensor([5e-324, -5e-324, -2 + 1e-15, -2 - 1e-15])).numpy()
    want = torch.polygamma(2, torch.tensor([5e-324, -5e-324, -2 + 1e-15, -2 - 1e-15])).numpy()
    np.testing.assert_array_equal(np.sign(near), np.sign(want))


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_gradients_to_third_order_match_torch(name):
    f_ng, f_torch = FUNCS[name]
    x0 = np.array([0.3, 1.7, 4.5, 11.0, -0.6, -2.3])
    w = np.array([0.5, -1.0, 2.0, 0.25, 1.5, -0.75])

    def ng_derivs(x):
        d1 = ng.grad(lambda v: (f_ng(v) * ng.tensor(w)).sum())
        d2 = ng.grad(lambda v: (d1(v) * ng.tensor(w)).sum())
        d3 = ng.grad(lambda v: (d2(v) * ng.tensor(w)).sum())
        return [d(x).numpy() for d in (d1, d2, d3)]

    xt = torch.tensor(x0, requires_grad=True)
    wt = torch.tensor(w)
    out, want = (f_torch(xt) * wt).sum(), []
    for _ in range(3):
        (out,) = torch.autograd.grad(out, xt, create_graph=True)
        want.append(out.detach().numpy())
        out = (out * wt).sum()
    for got, ref in zip(ng_derivs(ng.tensor(x0)), want):
        np.testing.assert_allclose(got, ref, rtol=1e-8, atol=1e-10)  # (PyTorch's trigamma: ~1e-9)


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_jvp_matches_torch_func(name):
    f_ng, f_torch = FUNCS[name]
    x0, t0 = np.array([0.3, 1.7, 4.5, -0.6]), np.array([1.0, -2.0, 0.5, 3.0])
    value, tangent = ng.jvp(f_ng, (ng.tensor(x0),), (ng.tensor(t0),))
    v_t, t_t = torch.func.jvp(f_torch, (torch.tensor(x0),), (torch.tensor(t0),))
    np.testing.assert_allclose(value.numpy(), v_t.numpy(), rtol=2e-9)
    np.testing.assert_allclose(tangent.numpy(), t_t.numpy(), rtol=2e-8)


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_central_differences_in_float64(name):
    f_ng = FUNCS[name][0]
    x = ng.tensor(np.array([0.4, 1.3, 3.7, 12.5, -0.45, -3.2]))
    assert ng.gradcheck(f_ng, x, rtol=1e-5, atol=1e-7)
    assert ng.gradcheck(lambda v: ng.grad(lambda u: f_ng(u).sum())(v), x, rtol=1e-5, atol=1e-7)  # second order


def test_methods_vmap_and_the_derivative_chain():
    x = ng.tensor(np.array([[0.7, 2.2], [5.5, -1.5]]))
    np.testing.assert_array_equal(x.lgamma().numpy(), ng.lgamma(x).numpy())
    np.testing.assert_array_equal(x.digamma().numpy(), ng.digamma(x).numpy())
    np.testing.assert_array_equal(x.polygamma(2).numpy(), ng.polygamma(2, x).numpy())
    np.testing.assert_array_equal(ng.polygamma(0, x).numpy(), ng.digamma(x).numpy())
    np.testing.assert_array_equal(ng.vmap(ng.lgamma)(x).numpy(), ng.lgamma(x).numpy())
    np.testing.assert_array_equal(ng.vmap(lambda r: ng.polygamma(3, r))(x).numpy(), ng.polygamma(3, x).numpy())
    # lgamma' = digamma, digamma' = trigamma: the Hessian of Σ lgamma is diag(polygamma(1, x))
    v = ng.tensor(np.array([0.7, 2.2, 5.5]))
    np.testing.assert_allclose(ng.grad(lambda u: ng.lgamma(u).sum())(v).numpy(), ng.digamma(v).numpy(), rtol=1e-15)
    np.testing.assert_allclose(ng.hessian(lambda u: ng.lgamma(u).sum())(v).numpy(), np.diag(ng.polygamma(1, v).numpy()))


def test_polygamma_refuses_a_negative_or_non_integer_order_as_torch():
    x = ng.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="negative n"):
        torch.polygamma(-1, torch.tensor([1.0]))
    with pytest.raises(ValueError, match=r"polygamma: n must be >= 0 .*got -1"):
        ng.polygamma(-1, x)
    with pytest.raises(TypeError):
        torch.polygamma(1.0, torch.tensor([1.0]))
    with pytest.raises(TypeError, match=r"polygamma: n must be an int .*got 1\.0"):
        ng.polygamma(1.0, x)
    with pytest.raises(TypeError, match="polygamma: n must be an int"):
        x.polygamma(True)
