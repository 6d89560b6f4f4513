"""Transforms composed in any order to depth 3 — grad, vjp, jvp, jacfwd, jacrev, hessian and vmap
(vmap inside vmap too) — against torch.func, on random smooth programs of two arguments whose
inner functions close over values an outer transform traces."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nablagrad as ng

torch = pytest.importorskip("torch")  # the oracle; without it these tests are skipped
tf = torch.func

# --- a random smooth program, written once and run on both libraries ---------------------------
UNARY = ["sin", "cos", "tanh", "sigmoid", "exp", "square"]
BINARY = ["add", "sub", "mul", "mul_sum"]


def _namespace(lib, const):
    """The few functions a random program calls, for one library."""
    return type(
        lib.__name__,
        (),
        {
            "sin": staticmethod(lib.sin),
            "cos": staticmethod(lib.cos),
            "tanh": staticmethod(lib.tanh),
            "sigmoid": staticmethod(lib.sigmoid),
            "exp": staticmethod(lambda a: lib.exp(0.3 * a)),
            "sum": staticmethod(lambda a: a.sum()),
            "const": staticmethod(const),
        },
    )


NG = _namespace(ng, lambda a: a)
TH = _namespace(torch, torch.tensor)


def run_program(lib, steps, w, x, y):
    """Scalar ``Σ w · (last value) + Σ (second to last)`` of a straight-line program over x, y."""
    pool = [x, y]
    for op, i, j in steps:
        a, b = pool[i % len(pool)], pool[j % len(pool)]
        if op == "square":
            pool.append(a * a)
        elif op in UNARY:
            pool.append(getattr(lib, op)(a))
        elif op == "add":
            pool.append(a + b)
        elif op == "sub":
            pool.append(a - b)
        elif op == "mul":
            pool.append(a * b)
        else:  # mul_sum: a vector times a scalar made from another
            pool.append(a * lib.tanh(lib.sum(b)))
    return lib.sum(pool[-1] * lib.const(w)) + lib.sum(pool[-2])


steps_st = st.lists(st.tuples(st.sampled_from(UNARY + BINARY), st.integers(0, 20), st.integers(0, 20)), min_size=1, max_size=5)

# --- transforms that turn a scalar F(x, y) into another scalar F'(x, y) --------------------------
C = np.array([0.7, -1.3])
V = np.array([0.4, 0.9])
S = np.array([1.0, -0.5, 2.0])


def layer(lib, kind):
    """One transform of F, the same on both libraries; each inner function closes over the
    argument that the transform does not differentiate (traced by the transforms outside)."""
    c, v, s = lib.const(C), lib.const(V), lib.const(S)
    F_ = ng if lib is NG else tf
    if kind == "grad_x":
        return lambda F: lambda x, y: lib.sum(c * F_.grad(F, argnums=0)(x, y))
    if kind == "grad_y":
        return lambda F: lambda x, y: lib.sum(c * F_.grad(lambda yy: F(x, yy) * lib.tanh(lib.sum(x)))(y))
    if kind == "jvp_x":
        return lambda F: lambda x, y: F_.jvp(lambda xx: F(xx, y), (x,), (v,))[1]
    if kind == "vjp_y":

        def t(F):
            def G(x, y):
                out, pull = F_.vjp(lambda yy: F(x, yy), y)
                return lib.sum(c * pull(out * 0 + 1.5)[0])

            return G

        return t
    if kind == "jacfwd_x":
        return lambda F: lambda x, y: lib.sum(c * F_.jacfwd(F, argnums=0)(x, y))
    if kind == "jacrev_y":
        return lambda F: lambda x, y: lib.sum(v * F_.jacrev(F, argnums=1)(x, y))
    if kind == "vmap_x":  # F at three scalings of x, one batching level: the scale is batched, x closed over
        return lambda F: lambda x, y: lib.sum(s * F_.vmap(lambda k: F(x * k, y))(s))
    if kind == "vmap_y":  # F at three rows made from y (batched), x closed over
        return lambda F: lambda x, y: lib.sum(s * F_.vmap(lambda yy: F(x, yy))(lib.const(S[:, None]) * y))
    if kind == "hessian_x":
        return lambda F: lambda x, y: lib.sum(lib.const(np.outer(C, V)) * F_.hessian(lambda xx: F(xx, y))(x))
    raise ValueError(kind)


KINDS = ["grad_x", "grad_y", "jvp_x", "vjp_y", "jacfwd_x", "jacrev_y", "hessian_x", "vmap_x", "vmap_y"]


def compose(lib, kinds, steps, w):
    F = lambda x, y: run_program(lib, steps, w, x, y)  # noqa: E731
    for k in kinds:
        F = layer(lib, k)(F)
    return F


def _np(t: torch.Tensor) -> np.ndarray:
    t = t.detach()
    if t._is_zerotensor():  # torch.func's symbolic zero refuses .numpy()
        return np.zeros(tuple(t.shape))
    return t.numpy()


def check(kinds, steps, seed):
    rng = np.random.default_rng(seed)
    x, y, w = rng.uniform(-1, 1, 2), rng.uniform(-1, 1, 2), rng.uniform(-1, 1, 2)
    ours = compose(NG, kinds, steps, w)(x, y)
    theirs = compose(TH, kinds, steps, w)(torch.tensor(x), torch.tensor(y))
    np.testing.assert_allclose(np.asarray(ours), _np(theirs), rtol=1e-9, atol=1e-11)
    # and one more reverse pass through the whole stack, w.r.t. both arguments
    gx, gy = ng.grad(compose(NG, kinds, steps, w), argnums=(0, 1))(x, y)
    tx, ty = tf.grad(compose(TH, kinds, steps, w), argnums=(0, 1))(torch.tensor(x), torch.tensor(y))
    np.testing.assert_allclose(gx.numpy(), _np(tx), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(gy.numpy(), _np(ty), rtol=1e-8, atol=1e-10)


@settings(max_examples=30, deadline=None)
@given(kinds=st.lists(st.sampled_from(KINDS), min_size=2, max_size=2), steps=steps_st, seed=st.integers(0, 2**16))
def test_depth_two_compositions_match_torch_func(kinds, steps, seed):
    check(kinds, steps, seed)


CHEAP = ["grad_x", "grad_y", "jvp_x", "vjp_y", "jacrev_y", "vmap_x", "vmap_y"]


@settings(max_examples=15, deadline=None)
@given(
    kinds=st.lists(st.sampled_from(CHEAP), min_size=2, max_size=2).flatmap(
        lambda ks: st.sampled_from(KINDS).map(lambda k: ks + [k])
    ),
    steps=steps_st,
    seed=st.integers(0, 2**16),
)
def test_depth_three_compositions_match_torch_func(kinds, steps, seed):
    check(kinds, steps, seed)


@pytest.mark.parametrize(
    "kinds", [[a, b, c] for a in ("grad_x", "jvp_x") for b in ("grad_y", "jvp_x") for c in ("vjp_y", "jacfwd_x")]
)
def test_every_order_of_forward_and_reverse_to_depth_three(kinds):
    check(kinds, [("mul", 0, 1), ("sin", 2, 0), ("mul_sum", 3, 0)], 7)


@pytest.mark.parametrize(
    "kinds",
    [[a, b, c] for a in ("vmap_x", "vmap_y") for b in ("vmap_y", "grad_x", "jvp_x") for c in ("vmap_x", "jacrev_y", "hessian_x")],
)
def test_vmap_at_every_depth_with_the_other_transforms(kinds):
    """vmap inside and outside vmap, grad, jvp, jacrev and hessian, three deep."""
    check(kinds, [("mul", 0, 1), ("tanh", 2, 0), ("mul_sum", 3, 1)], 11)


# --- hessians four ways --------------------------------------------------------------------------
def test_hessians_by_four_compositions_agree_with_torch(rng):
    x = rng.standard_normal(3)
    a = rng.standard_normal((3, 3))

    def f(v):
        lib = ng if isinstance(v, ng.Tensor) else torch
        return (lib.tanh(v @ a) * lib.sin(v)).sum() + (v * v * v).sum()

    ways = {
        "fwd-over-rev": ng.jacfwd(ng.jacrev(f)),
        "rev-over-fwd": ng.jacrev(ng.jacfwd(f)),
        "rev-over-rev": ng.jacrev(ng.jacrev(f)),
        "fwd-over-fwd": ng.jacfwd(ng.jacfwd(f)),
        "hessian": ng.hessian(f),
    }
    ta = torch.tensor(a)

    def ft(v):
        return (torch.tanh(v @ ta) * torch.sin(v)).sum() + (v * v * v).sum()

    expected = tf.hessian(ft)(torch.tensor(x)).numpy()
    for name, h in ways.items():
        np.testing.assert_allclose(h(x).numpy(), expected, rtol=1e-10, atol=1e-12, err_msg=name)


def test_third_derivatives_every_way():
    f = lambda x: ng.sin(x) * x * x  # noqa: E731
    x = np.float64(0.8)
    expected = tf.grad(tf.grad(tf.grad(lambda t: torch.sin(t) * t * t)))(torch.tensor(x)).item()
    for outer in (ng.grad, ng.jacfwd, ng.jacrev):
        for mid in (ng.grad, ng.jacfwd, ng.jacrev):
            for inner in (ng.grad, ng.jacfwd, ng.jacrev):
                assert outer(mid(inner(f)))(x).item() == pytest.approx(expected, rel=1e-12)


# --- the reproducers of issue 9 ------------------------------------------------------------------
f64 = np.float64


def test_b1_inner_grad_keeps_the_outer_trace_of_other_inputs_and_closures():
    assert ng.grad(lambda y: ng.grad(lambda x, y: x * y, argnums=0)(f64(1.0), y))(f64(2.0)).item() == 1.0
    assert ng.grad(lambda x: x * ng.grad(lambda y: x * y)(f64(2.0)))(f64(1.0)).item() == 2.0
    # perturbation confusion: the inner derivative is w.r.t. its own handle on x, not the outer one
    assert ng.grad(lambda x: ng.grad(lambda y: x * y)(x))(f64(3.0)).item() == 1.0
    assert ng.jvp(lambda x: ng.jvp(lambda y: x * y, (x,), (f64(1.0),))[1], (f64(3.0),), (f64(1.0),))[1].item() == 1.0


def test_b2_a_pullback_is_differentiable_in_its_cotangent():
    _, pull = ng.vjp(lambda x: 3 * x, np.array([1.0, 2.0]))
    np.testing.assert_array_equal(ng.grad(lambda u: pull(u)[0].sum())(np.ones(2)).numpy(), [3.0, 3.0])


def test_b3_reverse_mode_through_jvp():
    g = ng.grad(lambda x: ng.jvp(ng.sin, (x,), (f64(1.0),))[1])(f64(0.7))
    assert g.item() == pytest.approx(-np.sin(0.7), rel=1e-15)


def test_b4_jacobians_of_tuple_and_list_outputs():
    for jac in (ng.jacrev, ng.jacfwd):
        j = jac(lambda x: [2 * x, 3 * x])(np.ones(2))
        assert isinstance(j, list) and len(j) == 2
        np.testing.assert_array_equal(j[0].numpy(), 2 * np.eye(2))
        np.testing.assert_array_equal(j[1].numpy(), 3 * np.eye(2))
    expected = tf.jacrev(lambda x: (torch.sin(x), x.sum() * x))(torch.tensor([0.3, 0.5], dtype=torch.float64))
    ours = ng.jacrev(lambda x: (ng.sin(x), x.sum() * x))(np.array([0.3, 0.5]))
    for a, b in zip(ours, expected):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-14)


def test_b5_vjp_of_a_constant_function():
    out, pull = ng.vjp(lambda x: np.ones(2), np.ones(2))
    np.testing.assert_array_equal(out.numpy(), np.ones(2))
    np.testing.assert_array_equal(pull(np.ones(2))[0].numpy(), np.zeros(2))


def test_b6_power_zero_at_zero_has_zero_gradient_like_torch():
    assert ng.grad(lambda x: x**0.0)(f64(0.0)).item() == 0.0
    t = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    (t**0.0).backward()
    assert t.grad.item() == 0.0
    # a traced exponent of 0 too, and the exponent's own derivative at base 0
    gx, gy = ng.grad(lambda x, y: x**y, argnums=(0, 1))(f64(0.0), f64(0.0))
    tx, ty = tf.grad(lambda x, y: x**y, argnums=(0, 1))(
        torch.tensor(0.0, dtype=torch.float64), torch.tensor(0.0, dtype=torch.float64)
    )
    assert (gx.item(), gy.item()) == (tx.item(), ty.item())


def test_b7_std_of_a_constant_row_has_zero_gradient_like_torch():
    g = ng.grad(lambda x: x.std(axis=0, correction=0).sum())(np.ones((1, 3)))
    t = torch.ones((1, 3), dtype=torch.float64, requires_grad=True)
    t.std(dim=0, correction=0).sum().backward()
    np.testing.assert_array_equal(g.numpy(), t.grad.numpy())
    assert np.all(np.isfinite(g.numpy()))


def test_b8_grad_of_a_bool_valued_function_raises():
    with pytest.raises(TypeError, match="bool"):
        ng.grad(lambda x: x > 0)(f64(1.0))
    with pytest.raises(TypeError, match="floating-point inputs"):
        ng.grad(lambda x: x * 2.0)(3)


# --- pytrees, argnums, has_aux -------------------------------------------------------------------
def test_pytree_inputs_and_outputs_with_argnums_and_has_aux(rng):
    params = {"w": rng.standard_normal((3, 2)), "b": [rng.standard_normal(2), rng.standard_normal(2)]}
    x = rng.standard_normal((4, 3))

    def loss(p, x, lib):
        h = lib.tanh(x @ p["w"] + p["b"][0]) * p["b"][1]
        return (h * h).sum(), {"h": h}

    (g, aux) = ng.grad(lambda p, x: loss(p, x, ng), has_aux=True)(params, x)
    tp = {"w": torch.tensor(params["w"]), "b": [torch.tensor(b) for b in params["b"]]}
    tg, taux = tf.grad(lambda p, x: loss(p, x, torch), has_aux=True)(tp, torch.tensor(x))
    assert set(g) == {"w", "b"} and isinstance(g["b"], list)
    np.testing.assert_allclose(g["w"].numpy(), tg["w"].numpy(), rtol=1e-12)
    for a, b in zip(g["b"], tg["b"]):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)
    np.testing.assert_allclose(aux["h"].numpy(), taux["h"].numpy(), rtol=1e-14)
    assert not aux["h"].requires_grad

    gp, gx = ng.grad(lambda p, x: loss(p, x, ng)[0], argnums=(0, 1))(params, x)
    tgx = tf.grad(lambda p, x: loss(p, x, torch)[0], argnums=1)(tp, torch.tensor(x))
    np.testing.assert_allclose(gx.numpy(), tgx.numpy(), rtol=1e-12)

    out, pull, aux2 = ng.vjp(lambda p: loss(p, x, ng), params, has_aux=True)
    assert out.item() == pytest.approx(float((aux2["h"].numpy() ** 2).sum()))
    (gv,) = pull(np.float64(1.0))
    np.testing.assert_allclose(gv["w"].numpy(), tg["w"].numpy(), rtol=1e-12)

    v = {"w": np.ones((3, 2)), "b": [np.zeros(2), np.ones(2)]}
    _, t_ours = ng.jvp(lambda p: loss(p, x, ng)[0], (params,), (v,))
    tv = {
        "w": torch.ones((3, 2), dtype=torch.float64),
        "b": [torch.zeros(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64)],
    }
    _, t_theirs = tf.jvp(lambda p: loss(p, torch.tensor(x), torch)[0], (tp,), (tv,))
    assert t_ours.item() == pytest.approx(t_theirs.item(), rel=1e-12)


def test_jacobians_with_argnums_tuple_and_has_aux(rng):
    x, y = rng.standard_normal(3), rng.standard_normal(2)

    def f(a, b, lib):
        return lib.sin(a) * b.sum(), b * a.sum()

    for ours_t, theirs_t in ((ng.jacfwd, tf.jacfwd), (ng.jacrev, tf.jacrev)):
        ours = ours_t(lambda a, b: (f(a, b, ng), "aux"), argnums=(0, 1), has_aux=True)(x, y)
        theirs = theirs_t(lambda a, b: f(a, b, torch), argnums=(0, 1))(torch.tensor(x), torch.tensor(y))
        jac, aux = ours
        assert aux == "aux"
        for j_out, t_out in zip(jac, theirs):
            for j, t in zip(j_out, t_out):
                np.testing.assert_allclose(j.numpy(), t.numpy(), rtol=1e-12, atol=1e-15)


def test_hessian_with_argnums_tuple_matches_torch(rng):
    x, y = rng.standard_normal(2), rng.standard_normal(2)
    ours = ng.hessian(lambda a, b: (ng.sin(a) * b * b).sum(), argnums=(0, 1))(x, y)
    theirs = tf.hessian(lambda a, b: (torch.sin(a) * b * b).sum(), argnums=(0, 1))(torch.tensor(x), torch.tensor(y))
    for r_o, r_t in zip(ours, theirs):
        for o, t in zip(r_o, r_t):
            np.testing.assert_allclose(o.numpy(), _np(t), rtol=1e-12, atol=1e-15)


def test_results_at_the_outermost_level_are_plain_values():
    g = ng.grad(lambda x: (x * x).sum())(np.ones(2))
    t = ng.jvp(lambda x: x * x, (np.ones(2),), (np.ones(2),))[1]
    assert not g.requires_grad and g.is_leaf and not t.requires_grad


# --- products at a zero entry: the exact zero-safe rules are differentiable again ------------------
def _fd_jacobian(f, x, h=1e-5):
    """Central differences of ``f`` (NumPy in, NumPy out) along each entry of ``x``."""
    cols = []
    for j in range(x.size):
        e = np.zeros(x.size)
        e[j] = h
        e = e.reshape(x.shape)
        cols.append((f(x + e) - f(x - e)) / (2 * h))
    return np.stack(cols, axis=-1).reshape(np.shape(f(x)) + x.shape)


ZERO_PRODUCTS = {
    "prod": (lambda v: v.prod() * v.sum(), lambda t: t.prod() * t.sum()),
    "prod over dim 0": (lambda v: (v.prod(dim=0) ** 2).sum(), lambda t: (t.prod(dim=0) ** 2).sum()),
    "cumprod": (lambda v: (v.cumprod(0) ** 2).sum(), lambda t: (t.cumprod(0) ** 2).sum()),
    "sin of cumprod": (lambda v: ng.sin(v.cumprod(-1)).sum(), lambda t: torch.sin(t.cumprod(-1)).sum()),
}


@pytest.mark.parametrize("name", list(ZERO_PRODUCTS))
@pytest.mark.parametrize("x", [[0.0, 2.0, 3.0], [0.0, 0.0, 3.0], [1.5, 0.0, -2.0, 0.7], [[0.0, 2.0], [3.0, 0.5]]])
def test_hessians_of_products_at_zeros_four_ways_equal_central_differences(name, x):
    """The Hessian is the central difference of PyTorch's gradient (exact at zeros); before, the
    zero-safe derivative was a constant, so every second derivative through it was 0."""
    f_ng, f_th = ZERO_PRODUCTS[name]
    x = np.asarray(x)
    torch_grad = tf.grad(f_th)
    expected = _fd_jacobian(lambda v: torch_grad(torch.tensor(v)).numpy(), x)
    ways = (ng.hessian, lambda f: ng.jacrev(ng.jacrev(f)), lambda f: ng.jacfwd(ng.jacfwd(f)), lambda f: ng.jacrev(ng.jacfwd(f)))
    for way in ways:
        np.testing.assert_allclose(way(f_ng)(x).numpy(), expected, atol=1e-7)
