"""cdist against PyTorch 2.13: values and gradients for p = 0, ½, 1, 1.5, 2, 3, ∞ (coincident points included:
the gradient there is PyTorch's 0, not NaN), broadcast batch axes, both compute modes, float32; second order
(PyTorch's own cdist has none outside its "mm" mode: checked against torch's composite ‖x1_i − x2_j‖_p), JVPs,
vmap, the blocks the differences are taken in, central differences in float64 and the errors."""

import math

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.autodiff import rules_reduce

torch = pytest.importorskip("torch")

PS = [0, 0.5, 1, 1.5, 2, 3, math.inf]
MODES = ["use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist"]


def _points(shape1, shape2, seed=0, coincide=True):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(shape1), rng.standard_normal(shape2)
    if coincide:  # a pair at distance 0, and one coordinate equal (|x1 − x2| = 0 there, d > 0)
        first = b[(0,) * (b.ndim - 2)]  # (the first batch of x2 meets every batch of x1)
        a[..., 1, :] = first[2]
        a[..., 0, 0] = first[1, 0]
    return a, b


def _both(a, b, w, p, mode, dtype=np.float64):
    """(value, grad x1, grad x2) of Σ w ⊙ cdist from each library."""
    x, y = ng.tensor(a.astype(dtype), requires_grad=True), ng.tensor(b.astype(dtype), requires_grad=True)
    d = ng.cdist(x, y, p=p, compute_mode=mode)
    (d * ng.tensor(w.astype(dtype))).sum().backward()
    tx, ty = torch.tensor(a.astype(dtype), requires_grad=True), torch.tensor(b.astype(dtype), requires_grad=True)
    td = torch.cdist(tx, ty, p=p, compute_mode=mode)
    (td * torch.tensor(w.astype(dtype))).sum().backward()
    assert d.shape == tuple(td.shape) and d.dtype == dtype
    return (d.numpy(), x.grad.numpy(), y.grad.numpy()), (td.detach().numpy(), tx.grad.numpy(), ty.grad.numpy())


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("p", PS)
@pytest.mark.parametrize(
    "shapes", [((4, 3), (5, 3)), ((2, 1, 4, 3), (3, 5, 3)), ((4, 3), (2, 5, 3)), ((2, 4, 3), (1, 5, 3))], ids=str
)
def test_values_and_gradients_match_torch(shapes, p, mode):
    # the "mm" form rounds near 0 (differently in each library): its coincident points are checked on their own
    a, b = _points(*shapes, coincide=not (p == 2 and mode == MODES[1]))
    w = np.random.default_rng(1).standard_normal(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + (a.shape[-2], b.shape[-2]))
    mine, theirs = _both(a, b, w, p, mode)
    for got, want in zip(mine, theirs):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert np.isfinite(mine[1]).all() and np.isfinite(mine[2]).all()


@pytest.mark.parametrize("p", [1, 2, 3, math.inf])
def test_float32_as_torch(p):
    a, b = _points((3, 6, 4), (3, 5, 4), seed=2)
    w = np.random.default_rng(3).standard_normal((3, 6, 5))
    mine, theirs = _both(a, b, w, p, MODES[2], np.float32)
    for got, want in zip(mine, theirs):
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-5)


def test_more_than_25_rows_use_the_matrix_product_as_torch():
    a, b = _points((30, 4), (27, 4), seed=4, coincide=False)
    w = np.random.default_rng(5).standard_normal((30, 27))
    mine, theirs = _both(a, b, w, 2, MODES[0])
    for got, want in zip(mine, theirs):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    direct = ng.cdist(ng.tensor(a), ng.tensor(b), compute_mode=MODES[2]).numpy()
    np.testing.assert_allclose(mine[0], direct, rtol=1e-12)  # the two forms agree away from 0


def test_coincident_points_in_mm_mode_give_a_finite_small_gradient():
    """‖x1‖² + ‖x2‖² − 2 x1·x2 leaves rounding noise (~1e-16) where x1 = x2: clamped at 0, the distance is at most
    ~1e-8 (PyTorch's clamps at 1e-30: 1e-15 and more), and the gradient there stays finite and small."""
    a, b = _points((4, 3), (5, 3))
    x = ng.tensor(a, requires_grad=True)
    d = ng.cdist(x, ng.tensor(b), compute_mode=MODES[1])
    assert d.numpy()[1, 2] < 1e-7
    d[1, 2].backward()
    assert np.isfinite(x.grad.numpy()).all() and np.abs(x.grad.numpy()).max() < 1e-6


def _torch_norm(x1, x2, p):
    """PyTorch's own composite of ‖x1_i − x2_j‖_p (differentiable twice away from zero differences)."""
    return torch.linalg.vector_norm(x1.unsqueeze(-2) - x2.unsqueeze(-3), ord=p, dim=-1)


def _second_order(f_ng, f_torch, a, b, w):
    """The gradient of Σ (∂(Σ w ⊙ cdist)/∂x1)² in (x1, x2), from each library."""

    def loss_ng(x, y):
        gx = ng.grad(lambda u: (f_ng(u, y) * ng.tensor(w)).sum())(x)
        return (gx * gx).sum()

    got = ng.grad(loss_ng, argnums=(0, 1))(ng.tensor(a), ng.tensor(b))
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    (gx,) = torch.autograd.grad((f_torch(tx, ty) * torch.tensor(w)).sum(), tx, create_graph=True)
    want = torch.autograd.grad((gx * gx).sum(), (tx, ty))
    return [g.numpy() for g in got], [g.numpy() for g in want]


@pytest.mark.parametrize("p", [0.5, 1, 1.5, 2, 3, math.inf])
def test_second_order_matches_torch_composite(p):
    a, b = _points((2, 4, 3), (5, 3), seed=6, coincide=False)
    w = np.random.default_rng(7).standard_normal((2, 4, 5))
    got, want = _second_order(
        lambda u, v: ng.cdist(u, v, p=p, compute_mode=MODES[2]), lambda u, v: _torch_norm(u, v, p), a, b, w
    )
    for g, t in zip(got, want):
        np.testing.assert_allclose(g, t, rtol=1e-10, atol=1e-12)


def test_second_order_in_mm_mode_matches_torch_cdist():
    a, b = _points((2, 4, 3), (5, 3), seed=8, coincide=False)
    w = np.random.default_rng(9).standard_normal((2, 4, 5))
    mode = MODES[1]
    got, want = _second_order(
        lambda u, v: ng.cdist(u, v, compute_mode=mode), lambda u, v: torch.cdist(u, v, compute_mode=mode), a, b, w
    )
    for g, t in zip(got, want):
        np.testing.assert_allclose(g, t, rtol=1e-9, atol=1e-11)


def test_second_order_is_finite_at_coincident_points():
    a, b = _points((4, 3), (5, 3), seed=10)
    for p in (0.5, 1, 2, 3, math.inf):
        h = ng.hessian(lambda u: ng.cdist(u, ng.tensor(b), p=p).sum())(ng.tensor(a))
        assert np.isfinite(h.numpy()).all(), p


@pytest.mark.parametrize("mode", [MODES[1], MODES[2]])
@pytest.mark.parametrize("p", PS)
def test_jvp_matches_torch_func(p, mode):
    a, b = _points((2, 4, 3), (5, 3), seed=11)
    rng = np.random.default_rng(12)
    ta, tb = rng.standard_normal(a.shape), rng.standard_normal(b.shape)
    value, tangent = ng.jvp(lambda u, v: ng.cdist(u, v, p=p, compute_mode=mode), (ng.tensor(a), ng.tensor(b)),
                            (ng.tensor(ta), ng.tensor(tb)))  # fmt: skip
    # torch.func.jvp has no rule for cdist: its VJP transposed (the Jacobian is the same linear map)
    x, y = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    d = torch.cdist(x, y, p=p, compute_mode=mode)
    jac = [torch.autograd.grad(d.reshape(-1)[k], (x, y), retain_graph=True) for k in range(d.numel())]
    want = np.array([(gx.numpy() * ta).sum() + (gy.numpy() * tb).sum() for gx, gy in jac]).reshape(d.shape)
    np.testing.assert_allclose(value.numpy(), d.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(tangent.numpy(), want, rtol=1e-11, atol=1e-12)
    # one tangent at a time too
    _, only_x = ng.jvp(lambda u: ng.cdist(u, ng.tensor(b), p=p, compute_mode=mode), (ng.tensor(a),), (ng.tensor(ta),))
    want_x = np.array([(gx.numpy() * ta).sum() for gx, _ in jac]).reshape(d.shape)
    np.testing.assert_allclose(only_x.numpy(), want_x, rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("p", [0.5, 1, 1.5, 2, 3, math.inf])
def test_central_differences_in_float64(p):
    a, b = _points((2, 3, 3), (4, 3), seed=13, coincide=False)
    assert ng.gradcheck(lambda u, v: ng.cdist(u, v, p=p), ng.tensor(a), ng.tensor(b), rtol=1e-5, atol=1e-7)
    assert ng.gradcheck(lambda u, v: ng.cdist(u, v, compute_mode=MODES[1]), ng.tensor(a), ng.tensor(b))


def test_blocks_of_rows_give_the_same_numbers(monkeypatch):
    """Differences are taken a few rows of x1 at a time: tiny blocks change no value, gradient, tangent or Hessian."""
    a, b = _points((2, 7, 3), (5, 3), seed=14)
    t = np.random.default_rng(15).standard_normal(a.shape)

    def everything():
        out = []
        for p in (0.5, 1, 2, 3, math.inf):
            f = lambda u, p=p: ng.cdist(u, ng.tensor(b), p=p, compute_mode=MODES[2])  # noqa: E731
            out += [f(ng.tensor(a)).numpy(), ng.grad(lambda u: (f(u) ** 2).sum())(ng.tensor(a)).numpy()]
            out += [ng.jvp(f, (ng.tensor(a),), (ng.tensor(t),))[1].numpy()]
            out += [ng.hessian(lambda u: f(u).sum())(ng.tensor(a[:, :3])).numpy()]
        return out

    whole = everything()
    monkeypatch.setattr(rules_reduce, "_CDIST_BLOCK", 2 * 5 * 3)  # one row of x1 per block
    assert len(rules_reduce._row_blocks(a.shape, b.shape)) == 7
    for got, want in zip(everything(), whole):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)


def test_vmap_is_a_loop_over_the_batch():
    a, b = _points((3, 4, 2), (5, 2), seed=16)
    for p in (1, 2, math.inf):
        got = ng.vmap(lambda u: ng.cdist(u, ng.tensor(b), p=p))(ng.tensor(a)).numpy()
        np.testing.assert_allclose(got, np.stack([ng.cdist(ng.tensor(r), ng.tensor(b), p=p).numpy() for r in a]))
        both = ng.vmap(lambda u, v: ng.cdist(u, v, p=p))(ng.tensor(a), ng.tensor(np.stack([b] * 3)))
        np.testing.assert_allclose(both.numpy(), got)
        for mode in (MODES[1], MODES[2]):  # the rules batched too: per-example gradients and Hessians
            f = lambda u, p=p, mode=mode: (ng.cdist(u, ng.tensor(b), p=p, compute_mode=mode) ** 2).sum()  # noqa: E731
            for transform in (ng.grad, ng.hessian):
                batched = ng.vmap(transform(f))(ng.tensor(a)).numpy()
                np.testing.assert_allclose(batched, np.stack([transform(f)(ng.tensor(r)).numpy() for r in a]), rtol=1e-13)


def test_edge_shapes_and_values_as_torch():
    for s1, s2 in (((0, 3), (4, 3)), ((2, 0), (3, 0)), ((2, 3), (0, 3))):
        for p in PS:
            got = ng.cdist(ng.tensor(np.ones(s1)), ng.tensor(np.ones(s2)), p=p).numpy()
            want = torch.cdist(torch.ones(s1, dtype=torch.float64), torch.ones(s2, dtype=torch.float64), p=p).numpy()
            assert got.shape == want.shape
            np.testing.assert_array_equal(got, want)
    x1 = np.array([[1.0, np.nan], [1.0, np.inf], [1e200, 0.0], [1e-200, 0.0]])
    x2 = np.array([[1.0, 2.0], [0.0, 0.0]])
    for p in PS:
        got = ng.cdist(ng.tensor(x1), ng.tensor(x2), p=p).numpy()
        want = torch.cdist(torch.tensor(x1), torch.tensor(x2), p=p, compute_mode=MODES[2]).numpy()
        np.testing.assert_array_equal(got, want)


def test_errors_name_the_problem_as_torch_refuses():
    f32 = ng.tensor(np.ones((2, 3), np.float32))
    cases = [
        (lambda: ng.cdist(ng.tensor([1.0, 2.0]), f32), ValueError, "x1 must be at least 2-D"),
        (lambda: ng.cdist(ng.tensor([[1, 2, 3]]), f32), TypeError, "only floating-point.*x1 is int64"),
        (lambda: ng.cdist(f32, ng.tensor(np.ones((2, 3)))), TypeError, "x1 is float32 and x2 is float64"),
        (lambda: ng.cdist(f32, ng.tensor(np.ones((2, 4), np.float32))), ValueError, "same number of columns"),
        (lambda: ng.cdist(ng.tensor(np.ones((2, 1, 3), np.float32)), ng.tensor(np.ones((3, 4, 3), np.float32))),
         ValueError, "batch axes"),  # fmt: skip
        (lambda: ng.cdist(f32, f32, p=-1), ValueError, "p must be a number >= 0"),
        (lambda: ng.cdist(f32, f32, p=float("nan")), ValueError, "p must be a number >= 0"),
        (lambda: ng.cdist(f32, f32, compute_mode="bad"), ValueError, "compute_mode must be one of"),
    ]
    for call, error, message in cases:
        with pytest.raises(error, match=message):
            call()
    t32 = torch.ones(2, 3)
    for call in (
        lambda: torch.cdist(torch.tensor([1.0, 2.0]), t32),
        lambda: torch.cdist(torch.tensor([[1, 2, 3]]), t32),
        lambda: torch.cdist(t32, torch.ones(2, 3, dtype=torch.float64)),
        lambda: torch.cdist(t32, torch.ones(2, 4)),
        lambda: torch.cdist(torch.ones(2, 1, 3), torch.ones(3, 4, 3)),
        lambda: torch.cdist(t32, t32, p=-1),
        lambda: torch.cdist(t32, t32, p=float("nan")),
        lambda: torch.cdist(t32, t32, compute_mode="bad"),
    ):
        with pytest.raises((RuntimeError, ValueError)):
            call()


def test_inputs_that_do_not_require_grad_and_p0_has_derivative_zero():
    a, b = _points((3, 2), (4, 2), seed=17)
    x = ng.tensor(a, requires_grad=True)
    ng.cdist(x, ng.tensor(b), p=0).sum().backward()
    tx = torch.tensor(a, requires_grad=True)
    torch.cdist(tx, torch.tensor(b), p=0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
    assert not ng.cdist(ng.tensor(a), ng.tensor(b)).requires_grad
