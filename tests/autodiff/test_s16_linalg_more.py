"""``ng.linalg.solve_triangular``, ``lstsq``, ``multi_dot``, ``cross``, ``matrix_rank`` and ``cond``
against PyTorch 2.13's ``torch.linalg``: values, shapes and dtypes (batched, broadcast), gradients
in float64 (reverse against ``backward``, forward against ``torch.func.jvp``, second order against
``torch.func.hessian``), central differences (``ng.gradcheck``), and errors that name the function,
the shapes and the fix.  ``solve``'s shape error reports B as the user gave it."""

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(16)


def _tri(shape, rng=RNG):
    """Square matrices whose both triangles are well conditioned (diagonal near ±2)."""
    a = 0.3 * rng.standard_normal(shape)
    return a + np.diag(np.where(rng.random(shape[-1]) < 0.5, -2.0, 2.0))


def _outputs(out):
    return tuple(out) if isinstance(out, tuple | list) else (out,)


def _against_torch(f_ng, f_torch, *arrays, rtol=1e-10):
    """Values (shape, dtype) and the gradient of a random weighting of every float output."""
    xs = [ng.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    got, want = _outputs(f_ng(*xs)), _outputs(f_torch(*ts))
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert g.shape == tuple(w.shape) and str(g.dtype) == str(w.dtype).removeprefix("torch."), (g.shape, w.shape)
        np.testing.assert_allclose(g.numpy(), w.detach().numpy(), rtol=rtol, atol=1e-12)
    pairs = [(g, w) for g, w in zip(got, want, strict=True) if w.requires_grad]
    weights = [np.random.default_rng(1).standard_normal(tuple(w.shape)) for _, w in pairs]
    sum((g * ng.tensor(c)).sum() for (g, _), c in zip(pairs, weights, strict=True)).backward()
    sum((w * torch.tensor(c)).sum() for (_, w), c in zip(pairs, weights, strict=True)).backward()
    for x, t in zip(xs, ts, strict=True):
        want_grad = np.zeros(t.shape) if t.grad is None else t.grad.numpy()
        np.testing.assert_allclose(x.grad.numpy(), want_grad, rtol=rtol, atol=1e-12)


def _jvp_against_torch(f_ng, f_torch, *arrays):
    tangents = [np.random.default_rng(2).standard_normal(np.shape(a)) for a in arrays]
    out, tan = ng.jvp(f_ng, arrays, tangents)
    tout, ttan = torch.func.jvp(f_torch, tuple(map(torch.tensor, arrays)), tuple(map(torch.tensor, tangents)))
    np.testing.assert_allclose(out.numpy(), tout.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(tan.numpy(), ttan.numpy(), rtol=1e-10, atol=1e-12)


# --- solve_triangular -----------------------------------------------------------------------------------
@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("unitriangular", [False, True])
@pytest.mark.parametrize("left", [True, False])
def test_solve_triangular_values_and_gradients_as_torch(upper, unitriangular, left):
    """Only the triangle read counts (A is full), batches broadcast both ways."""
    kw = {"upper": upper, "unitriangular": unitriangular, "left": left}
    a, b = _tri((2, 4, 4)), RNG.standard_normal((4, 3) if left else (3, 4))
    _against_torch(
        lambda x, y: ng.linalg.solve_triangular(x, y, **kw), lambda x, y: torch.linalg.solve_triangular(x, y, **kw), a, b
    )
    a2, b2 = _tri((4, 4)), RNG.standard_normal((3, 4, 2) if left else (3, 2, 4))
    _against_torch(
        lambda x, y: ng.linalg.solve_triangular(x, y, **kw), lambda x, y: torch.linalg.solve_triangular(x, y, **kw), a2, b2
    )
    _jvp_against_torch(
        lambda x, y: ng.linalg.solve_triangular(x, y, **kw), lambda x, y: torch.linalg.solve_triangular(x, y, **kw), a, b
    )
    assert ng.gradcheck(lambda x, y: ng.linalg.solve_triangular(x, y, **kw), ng.tensor(a), ng.tensor(b))


@pytest.mark.parametrize("upper", [True, False])
def test_solve_triangular_second_derivatives_as_torch(upper):
    """Hessian in A (torch.func.hessian) and grad of grad in B."""
    a, b = _tri((3, 3)), RNG.standard_normal((3, 2))
    h = ng.hessian(lambda x: (ng.linalg.solve_triangular(x, ng.tensor(b), upper=upper) ** 2).sum())(a)
    th = torch.func.hessian(lambda x: (torch.linalg.solve_triangular(x, torch.tensor(b), upper=upper) ** 2).sum())(
        torch.tensor(a)
    )
    np.testing.assert_allclose(h.numpy(), th.numpy(), rtol=1e-10, atol=1e-12)
    f = ng.grad(lambda y: (ng.linalg.solve_triangular(ng.tensor(a), y, upper=upper) ** 3).sum())
    tf = torch.func.grad(lambda y: (torch.linalg.solve_triangular(torch.tensor(a), y, upper=upper) ** 3).sum())
    gg = ng.grad(lambda y: (f(y) ** 2).sum())(b)
    tgg = torch.func.grad(lambda y: (tf(y) ** 2).sum())(torch.tensor(b))
    np.testing.assert_allclose(gg.numpy(), tgg.numpy(), rtol=1e-10, atol=1e-12)


def test_solve_triangular_keeps_float32_and_vmaps_as_torch():
    a, b = _tri((4, 4)).astype(np.float32), RNG.standard_normal((4, 2)).astype(np.float32)
    x = ng.linalg.solve_triangular(a, b, upper=False)
    assert x.dtype == np.float32
    np.testing.assert_allclose(
        x.numpy(), torch.linalg.solve_triangular(torch.tensor(a), torch.tensor(b), upper=False).numpy(), rtol=1e-5
    )
    batch = _tri((5, 4, 4))
    out = ng.vmap(lambda m: ng.linalg.solve_triangular(m, ng.tensor(b.astype(np.float64)), upper=True))(batch)
    ref = torch.func.vmap(lambda m: torch.linalg.solve_triangular(m, torch.tensor(b.astype(np.float64)), upper=True))(
        torch.tensor(batch)
    )
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-12)


def test_solve_triangular_errors_name_the_function_shapes_and_fix():
    a = _tri((3, 3))
    with pytest.raises(TypeError, match="upper"):
        ng.linalg.solve_triangular(a, np.ones((3, 1)))  # upper is required, as PyTorch's
    with pytest.raises(ValueError, match=r"solve_triangular: A of shape \(3, 3\) and B of shape \(4, 2\).*\(\.\.\., 3, k\)"):
        ng.linalg.solve_triangular(a, np.ones((4, 2)), upper=True)
    with pytest.raises(ValueError, match=r"solve_triangular: .*B of shape \(3,\).*b\[\.\.\., None\]"):
        ng.linalg.solve_triangular(a, np.ones(3), upper=True)
    with pytest.raises(ValueError, match=r"solve_triangular: .*B of shape \(3, 2\) .*X A = B.*\(\.\.\., k, 3\)"):
        ng.linalg.solve_triangular(a, np.ones((3, 2)), upper=True, left=False)
    with pytest.raises(ValueError, match=r"solve_triangular: A must be square .*\(3, 4\)"):
        ng.linalg.solve_triangular(np.ones((3, 4)), np.ones((3, 1)), upper=True)
    with pytest.raises(TypeError, match="solve_triangular: expects a floating-point"):
        ng.linalg.solve_triangular(np.eye(2, dtype=np.int64), np.ones((2, 1), dtype=np.int64), upper=True)
    singular = np.triu(np.ones((3, 3)))
    singular[1, 1] = 0.0
    with pytest.raises(np.linalg.LinAlgError, match=r"solve_triangular: the upper triangle of A \(shape \(3, 3\)\) has a 0"):
        ng.linalg.solve_triangular(singular, np.ones((3, 1)), upper=True)
    # the unit diagonal is not read, so the same matrix solves with unitriangular=True, as torch
    got = ng.linalg.solve_triangular(singular, np.ones((3, 1)), upper=True, unitriangular=True)
    want = torch.linalg.solve_triangular(
        torch.tensor(singular), torch.ones(3, 1, dtype=torch.float64), upper=True, unitriangular=True
    )
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)


# --- lstsq ------------------------------------------------------------------------------------------
def _solution(lib):
    return lambda a, b: lib.linalg.lstsq(a, b).solution


@pytest.mark.parametrize(
    "a_shape, b_shape",
    [((6, 3), (6, 2)), ((2, 6, 3), (1, 6, 2)), ((3, 6), (3, 2)), ((2, 3, 5), (2, 3)), ((6, 3), (6,))],
    ids=["tall", "broadcast", "wide", "wide-vectors", "vector"],
)
def test_lstsq_solution_rank_and_gradients_as_torch(a_shape, b_shape):
    """Full-rank A: the solution, the rank (int64) and the gradients of A⁺B in A and B; JVP; gradcheck."""
    a, b = RNG.standard_normal(a_shape), RNG.standard_normal(b_shape)
    got, want = ng.linalg.lstsq(a, b), torch.linalg.lstsq(torch.tensor(a), torch.tensor(b))
    assert got.rank.dtype == np.int64 and got.rank.shape == tuple(want.rank.shape)
    np.testing.assert_array_equal(got.rank.numpy(), want.rank.numpy())
    for field in ("residuals", "singular_values"):  # 'gelsy' fills neither
        assert getattr(got, field).shape == tuple(getattr(want, field).shape) == (0,)
    _against_torch(_solution(ng), _solution(torch), a, b)
    _jvp_against_torch(_solution(ng), _solution(torch), a, b)
    assert ng.gradcheck(_solution(ng), ng.tensor(a), ng.tensor(b))


def test_lstsq_second_derivatives_as_torch():
    a, b = RNG.standard_normal((5, 3)), RNG.standard_normal((5, 2))
    h = ng.hessian(lambda x: (ng.linalg.lstsq(x, ng.tensor(b)).solution ** 2).sum())(a)
    th = torch.func.hessian(lambda x: (torch.linalg.lstsq(x, torch.tensor(b)).solution ** 2).sum())(torch.tensor(a))
    np.testing.assert_allclose(h.numpy(), th.numpy(), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("driver", ["gels", "gelsy", "gelsd", "gelss"])
def test_lstsq_drivers_fill_the_fields_torch_fills(driver):
    """residuals ‖AX − B‖² per column (differentiable), singular values, rank: as each driver."""
    a, b = RNG.standard_normal((2, 6, 3)), RNG.standard_normal((2, 6, 2))
    _against_torch(lambda x, y: ng.linalg.lstsq(x, y, driver=driver), lambda x, y: torch.linalg.lstsq(x, y, driver=driver), a, b)
    vec = RNG.standard_normal((2, 6))
    got, want = ng.linalg.lstsq(a, vec, driver=driver), torch.linalg.lstsq(torch.tensor(a), torch.tensor(vec), driver=driver)
    assert [tuple(x.shape) for x in got] == [tuple(x.shape) for x in want]


def test_lstsq_rank_deficient_gives_the_minimum_norm_solution_as_torch():
    d = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])  # rank 1
    b = RNG.standard_normal((3, 2))
    for driver in ("gelsy", "gelsd"):  # rcond well above rounding's σ₂ ~ 1e-16 σ₁, which both see differently
        got = ng.linalg.lstsq(d, b, rcond=1e-10, driver=driver)
        want = torch.linalg.lstsq(torch.tensor(d), torch.tensor(b), rcond=1e-10, driver=driver)
        np.testing.assert_allclose(got.solution.numpy(), want.solution.numpy(), rtol=1e-10, atol=1e-12)
        assert got.rank.item() == want.rank.item() == 1
        assert got.residuals.shape == tuple(want.residuals.shape) == (0,)  # not every A has full rank
    a = np.diag([4.0, 1.0, 0.5])
    for rcond in (0.1, 0.2, 0.9):  # σ ≤ rcond · σ_max count as 0
        # torch's oracle here is 'gelsd' (σ > rcond · σ_max, as ours): torch 2.13's CPU 'gelsy' keeps
        # different columns from call to call for this A (seen: rank 1 or 2, four different solutions)
        got = ng.linalg.lstsq(a, b, rcond=rcond, driver="gelsd")
        want = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), rcond=rcond, driver="gelsd")
        assert got.rank.item() == want.rank.item() == {0.1: 3, 0.2: 2, 0.9: 1}[rcond]
        np.testing.assert_allclose(got.solution.numpy(), want.solution.numpy(), rtol=1e-12)
        np.testing.assert_allclose(ng.linalg.lstsq(a, b, rcond=rcond).solution.numpy(), want.solution.numpy(), rtol=1e-12)


def test_lstsq_vmaps_and_keeps_float32():
    a, b = RNG.standard_normal((4, 6, 3)), RNG.standard_normal((6, 2))
    out = ng.vmap(lambda m: ng.linalg.lstsq(m, ng.tensor(b)).solution)(a)
    ref = torch.func.vmap(lambda m: torch.linalg.lstsq(m, torch.tensor(b)).solution)(torch.tensor(a))
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-10)
    r = ng.linalg.lstsq(a.astype(np.float32), np.broadcast_to(b, (4, 6, 2)).astype(np.float32), driver="gelsd")
    assert [str(x.dtype) for x in r] == ["float32", "float32", "int64", "float32"]


def test_lstsq_errors_name_the_function_shapes_and_fix():
    a = RNG.standard_normal((4, 5, 3))
    with pytest.raises(ValueError, match=r"lstsq: A of shape \(4, 5, 3\) and B of shape \(3, 4, 5\).*\(\.\.\., 5, k\)"):
        ng.linalg.lstsq(a, np.ones((3, 4, 5)))
    with pytest.raises(ValueError, match=r"lstsq: A of shape \(4, 5, 3\) and B of shape \(5,\).*one fewer for vectors"):
        ng.linalg.lstsq(a, np.ones(5))
    with pytest.raises(ValueError, match=r"lstsq: expects matrices .*got shape \(5,\)"):
        ng.linalg.lstsq(np.ones(5), np.ones(5))
    with pytest.raises(ValueError, match=r"lstsq: driver must be None or one of .*'gelsy'.*got 'foo'"):
        ng.linalg.lstsq(a, np.ones((4, 5, 1)), driver="foo")
    with pytest.raises(TypeError, match="lstsq: expects a floating-point"):
        ng.linalg.lstsq(np.ones((3, 2), dtype=np.int64), np.ones((3, 1), dtype=np.int64))


# --- multi_dot --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "shapes",
    [[(3, 4), (4, 5)], [(3,), (3, 4), (4, 2), (2,)], [(10, 2), (2, 30), (30, 3), (3, 40)], [(5,), (5,)], [(4, 6), (6,)]],
    ids=["two", "vector-ends", "chain", "dot", "matrix-vector"],
)
def test_multi_dot_as_torch(shapes):
    arrays = [RNG.standard_normal(s) for s in shapes]
    _against_torch(lambda *xs: ng.linalg.multi_dot(xs), lambda *xs: torch.linalg.multi_dot(xs), *arrays)
    assert ng.gradcheck(lambda *xs: ng.linalg.multi_dot(list(xs)), *map(ng.tensor, arrays))


def test_multi_dot_second_derivative_as_torch():
    b, c = RNG.standard_normal((4, 2)), RNG.standard_normal((2, 3))
    a = RNG.standard_normal((3, 4))
    h = ng.hessian(lambda x: (ng.linalg.multi_dot([x, ng.tensor(b), ng.tensor(c)]) ** 2).sum())(a)
    th = torch.func.hessian(lambda x: (torch.linalg.multi_dot([x, torch.tensor(b), torch.tensor(c)]) ** 2).sum())(torch.tensor(a))
    np.testing.assert_allclose(h.numpy(), th.numpy(), rtol=1e-10, atol=1e-12)


def test_multi_dot_errors_name_the_tensors_shapes_and_fix():
    with pytest.raises(ValueError, match="multi_dot: expected at least 2 tensors, got 1"):
        ng.linalg.multi_dot([np.ones(3)])
    with pytest.raises(ValueError, match=r"multi_dot: tensor 0 has shape \(2, 3, 3\): it must be 2-D or 1-D.*ng.matmul"):
        ng.linalg.multi_dot([np.ones((2, 3, 3)), np.ones((3, 3))])
    with pytest.raises(ValueError, match=r"multi_dot: tensor 1 has shape \(3,\): it must be 2-D \(only the first and the last"):
        ng.linalg.multi_dot([np.ones((3, 3)), np.ones(3), np.ones((3, 3))])
    with pytest.raises(ValueError, match=r"multi_dot: tensors 0 and 1 of shapes \(2, 3\) and \(4, 3\) cannot be multiplied"):
        ng.linalg.multi_dot([np.ones((2, 3)), np.ones((4, 3))])


# --- cross ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "a_shape, b_shape, dim",
    [((3,), (3,), -1), ((4, 1, 3), (1, 5, 3), -1), ((3, 4), (3, 1), 0), ((2, 3, 4), (2, 3, 4), 1)],
    ids=["vectors", "broadcast", "dim0-broadcast", "dim1"],
)
def test_cross_as_torch(a_shape, b_shape, dim):
    a, b = RNG.standard_normal(a_shape), RNG.standard_normal(b_shape)
    _against_torch(lambda x, y: ng.linalg.cross(x, y, dim=dim), lambda x, y: torch.linalg.cross(x, y, dim=dim), a, b)
    _jvp_against_torch(lambda x, y: ng.linalg.cross(x, y, dim=dim), lambda x, y: torch.linalg.cross(x, y, dim=dim), a, b)
    assert ng.gradcheck(lambda x, y: ng.linalg.cross(x, y, dim=dim), ng.tensor(a), ng.tensor(b))


def test_cross_of_integers_and_errors():
    got = ng.linalg.cross(np.array([1, 2, 3]), np.array([4, 5, 6]))
    want = torch.linalg.cross(torch.tensor([1, 2, 3]), torch.tensor([4, 5, 6]))
    assert got.dtype == np.int64 and got.numpy().tolist() == want.tolist()
    with pytest.raises(
        ValueError, match=r"cross: a of shape \(4, 3\) and b of shape \(3,\) must have the same number.*b\[None\]"
    ):
        ng.linalg.cross(np.ones((4, 3)), np.ones(3))
    with pytest.raises(ValueError, match=r"cross: dim -1 must have length 3 in both inputs, got shapes \(4, 2\) and \(4, 2\)"):
        ng.linalg.cross(np.ones((4, 2)), np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"cross: axis 2 is out of range"):
        ng.linalg.cross(np.ones((4, 3)), np.ones((4, 3)), dim=2)


# --- matrix_rank ------------------------------------------------------------------------------------
def test_matrix_rank_as_torch():
    diag = np.diag([3.0, 1.0, 0.1])
    deficient = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])
    cases = [
        (deficient, {}),
        (RNG.standard_normal((4, 3, 2)), {}),
        (RNG.standard_normal((2, 5)) @ RNG.standard_normal((5, 6)), {}),
        (diag, {"atol": 0.5}),
        (diag, {"rtol": 0.5}),
        (diag, {"atol": 0.05, "rtol": 0.5}),
        (diag, {"atol": 0.0}),
        (np.diag([3.0, -1.0, 0.1]), {"atol": 0.5, "hermitian": True}),
        (np.broadcast_to(diag, (2, 3, 3)), {"atol": np.array([0.5, 2.0])}),
        (np.broadcast_to(diag, (2, 3, 3)), {"rtol": np.array([0.01, 0.5])}),
        (np.ones((0, 3)), {}),
    ]
    for a, kw in cases:
        tkw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
        got, want = ng.linalg.matrix_rank(a, **kw), torch.linalg.matrix_rank(torch.tensor(a), **tkw)
        assert got.dtype == np.int64 and got.shape == tuple(want.shape), (kw, got.shape)
        np.testing.assert_array_equal(got.numpy(), want.numpy(), err_msg=str(kw))
    x = ng.tensor(deficient, requires_grad=True)
    assert not ng.linalg.matrix_rank(x).requires_grad


def test_matrix_rank_and_pinv_share_the_cut_off():
    """pinv's cut-off is the same rule (torch's), tolerances as numbers or per-matrix tensors."""
    a = np.broadcast_to(np.diag([3.0, 1.0, 0.1]), (2, 3, 3)).copy()
    for kw in ({"atol": 0.5}, {"rtol": 0.2}, {"atol": 0.05, "rtol": 0.5}):
        np.testing.assert_allclose(
            ng.linalg.pinv(a, **kw).numpy(), torch.linalg.pinv(torch.tensor(a), **kw).numpy(), rtol=1e-12, err_msg=str(kw)
        )


def test_matrix_rank_errors():
    with pytest.raises(ValueError, match=r"matrix_rank: expects matrices .*got shape \(3,\)"):
        ng.linalg.matrix_rank(np.ones(3))
    with pytest.raises(ValueError, match=r"matrix_rank: expects square matrices .*got shape \(3, 2\)"):
        ng.linalg.matrix_rank(np.ones((3, 2)), hermitian=True)
    with pytest.raises(TypeError, match="matrix_rank: expects a floating-point tensor, got int64"):
        ng.linalg.matrix_rank(np.ones((3, 3), dtype=np.int64))


# --- cond -------------------------------------------------------------------------------------------
P_ALL = [None, 2, -2, "fro", "nuc", 1, -1, np.inf, -np.inf]


def _torch_cond(x, p):
    """torch.linalg.cond's definition, ‖A‖_p ‖A⁻¹‖_p, for the orders whose backward torch 2.13's cond
    itself refuses (it writes its inverse in place); its value is checked against cond's."""
    if p in (None, 2, -2):
        return torch.linalg.cond(x, p)
    return torch.linalg.matrix_norm(x, p) * torch.linalg.matrix_norm(torch.linalg.inv(x), p)


@pytest.mark.parametrize("p", P_ALL, ids=str)
def test_cond_values_and_gradients_as_torch(p):
    a = RNG.standard_normal((2, 4, 4)) + 3 * np.eye(4)
    np.testing.assert_allclose(ng.linalg.cond(a, p).numpy(), torch.linalg.cond(torch.tensor(a), p).numpy(), rtol=1e-12)
    _against_torch(lambda x: ng.linalg.cond(x, p), lambda x: _torch_cond(x, p), a)
    assert ng.gradcheck(lambda x: ng.linalg.cond(x, p), ng.tensor(a[0]))
    singular = np.stack([np.eye(2), [[1.0, 2.0], [2.0, 4.0]]])
    got, want = ng.linalg.cond(singular, p).numpy(), torch.linalg.cond(torch.tensor(singular), p).numpy()
    assert got[0] == want[0]
    if p == -2:  # σ_min/σ_max: 0 up to rounding
        assert got[1] < 1e-15 and want[1] < 1e-15
    else:  # inf, or σ_max/σ_min of rounding's σ_min (torch's nuc too: its LU finds no exact 0 pivot)
        assert got[1] > 1e15 and want[1] > 1e15


def test_cond_of_a_non_square_matrix_and_errors():
    tall = RNG.standard_normal((5, 3))
    for p in (None, 2, -2):
        _against_torch(lambda x, p=p: ng.linalg.cond(x, p), lambda x, p=p: torch.linalg.cond(x, p), tall)
    with pytest.raises(ValueError, match=r"cond: p='fro' needs square matrices .*\(5, 3\); p=None"):
        ng.linalg.cond(tall, "fro")
    with pytest.raises(ValueError, match=r"cond: p must be one of .*'nuc'.*got 3"):
        ng.linalg.cond(np.eye(3), 3)
    with pytest.raises(ValueError, match=r"cond: expects matrices .*\(3,\)"):
        ng.linalg.cond(np.ones(3))


# --- solve's shape error --------------------------------------------------------------------------------
def test_solve_reports_the_shape_of_b_as_given():
    with pytest.raises(ValueError, match=r"solve: A of shape \(3, 3\) and B of shape \(4,\) do not fit"):
        ng.linalg.solve(np.eye(3), np.ones(4))
    with pytest.raises(ValueError, match=r"solve: A of shape \(3, 3\) and B of shape \(2, 4\) do not fit \(X A = B\).*columns"):
        ng.linalg.solve(np.eye(3), np.ones((2, 4)), left=False)
    with pytest.raises(
        ValueError, match=r"solve: A of shape \(3, 3\) and B of shape \(4, 2\) do not fit \(A X = B\): B needs 3 rows"
    ):
        ng.linalg.solve(np.eye(3), np.ones((4, 2)))
