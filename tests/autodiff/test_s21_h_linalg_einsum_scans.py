"""Session 21, job H: ``ng.linalg``, ``einsum`` and the scans/boolean reductions against PyTorch 2.13 in
float64 — values, first and second derivatives (``backward``, ``ng.jvp``/``jacfwd``/``jacrev``/``hessian``
against ``torch.func``), batch dims, and the errors for bad input.  Each test pins a discrepancy found
and fixed here:

* einsum: a subscript of size n in one operand and 1 in another (broadcast) had no gradient for the
  size-n operand (the VJP's einsum gave size 1 there); a size mismatch now names the subscript;
* det: the second derivative at a singular matrix was 0 (a constant cofactor) — now exact, as PyTorch's;
* vector_norm: p < 1 gave a NaN forward derivative at a zero entry (PyTorch masks those entries);
  a string ord for a vector and an out-of-range dim now name linalg.vector_norm;
* cholesky(upper=True) reads A's upper triangle, as PyTorch (it read the lower one);
* all/any of a uint8 tensor give uint8, as PyTorch;
* svd of non-finite input names linalg.svd and the fix.
"""

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(21)


def _outs(o):
    return tuple(o) if isinstance(o, tuple | list) else (o,)


def _against_torch(f_ng, f_torch, *arrays, second: bool = True, tol: float = 1e-9):
    """Values, the VJP (``backward`` of a random weighting of every output), the JVP (``ng.jvp`` against
    ``torch.func.jvp``) and the Hessian in the first argument (``ng.hessian`` against ``torch.func.hessian``)."""
    xs = [ng.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    got, want = _outs(f_ng(*xs)), _outs(f_torch(*ts))
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert g.shape == tuple(w.shape)
        np.testing.assert_allclose(g.numpy(), w.detach().numpy(), rtol=tol, atol=tol)
    weights = [RNG.standard_normal(tuple(w.shape)) for w in want]

    def scalar_ng(*a):
        return sum((o * ng.tensor(c)).sum() for o, c in zip(_outs(f_ng(*a)), weights, strict=True))

    def scalar_torch(*a):
        return sum((o * torch.tensor(c)).sum() for o, c in zip(_outs(f_torch(*a)), weights, strict=True))

    scalar_ng(*xs).backward()
    scalar_torch(*ts).backward()
    for x, t in zip(xs, ts, strict=True):
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=tol, atol=tol)
    tangents = [RNG.standard_normal(np.shape(a)) for a in arrays]
    _, tan = ng.jvp(scalar_ng, tuple(map(ng.tensor, arrays)), tuple(map(ng.tensor, tangents)))
    _, ttan = torch.func.jvp(scalar_torch, tuple(map(torch.tensor, arrays)), tuple(map(torch.tensor, tangents)))
    np.testing.assert_allclose(tan.numpy(), ttan.numpy(), rtol=tol, atol=tol)
    if second:
        rest_ng, rest_torch = [ng.tensor(a) for a in arrays[1:]], [torch.tensor(a) for a in arrays[1:]]
        h = ng.hessian(lambda a: scalar_ng(a, *rest_ng))(ng.tensor(arrays[0]))
        th = torch.func.hessian(lambda a: scalar_torch(a, *rest_torch))(torch.tensor(arrays[0]))
        np.testing.assert_allclose(h.numpy(), th.numpy(), rtol=1e-7, atol=1e-8)


# --- einsum: broadcasting of size-1 dims ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("subscripts", "shapes"),
    [
        ("ij,jk->ik", [(2, 1), (3, 2)]),  # j: 1 in A, 3 in B (the bug: B had no gradient of its shape)
        ("ij,jk->ik", [(2, 3), (1, 2)]),
        ("ij,jk,kl->il", [(2, 1), (1, 3), (1, 2)]),
        ("bij,bjk->bik", [(1, 2, 1), (4, 3, 2)]),
        ("ij,ij->i", [(1, 3), (4, 1)]),
        ("ii,ij->j", [(3, 3), (1, 2)]),
        ("...ij,...jk", [(2, 1, 3, 1), (5, 4, 2)]),
    ],
)
def test_einsum_broadcasts_size_one_dims_with_gradients_as_torch(subscripts, shapes):
    arrays = [RNG.standard_normal(s) for s in shapes]
    _against_torch(lambda *a: ng.einsum(subscripts, *a), lambda *a: torch.einsum(subscripts, *a), *arrays)
    for k in range(len(arrays)):  # every operand's Jacobian, both modes
        want = torch.func.jacrev(lambda *a: torch.einsum(subscripts, *a), argnums=k)(*map(torch.tensor, arrays))
        for jac in (ng.jacrev, ng.jacfwd):
            got = jac(lambda *a: ng.einsum(subscripts, *a), argnums=k)(*map(ng.tensor, arrays))
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12, atol=1e-12)


def test_einsum_broadcast_gradient_under_vmap_as_torch():
    a, b = RNG.standard_normal((3, 2, 1)), RNG.standard_normal((3, 4, 2))

    def loss_ng(x, y):
        return (ng.einsum("ij,jk->ik", x, y) ** 2).sum()

    def loss_torch(x, y):
        return (torch.einsum("ij,jk->ik", x, y) ** 2).sum()

    got = ng.vmap(ng.grad(loss_ng, argnums=(0, 1)))(ng.tensor(a), ng.tensor(b))
    want = torch.vmap(torch.func.grad(loss_torch, argnums=(0, 1)))(torch.tensor(a), torch.tensor(b))
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-12)


def test_einsum_size_mismatch_names_the_subscript_operands_and_shapes():
    with pytest.raises(ValueError, match=r"subscript 'j' has size 4 in operand 1 \(shape \(4, 2\)\) but 3 in operand 0"):
        ng.einsum("ij,jk->ik", ng.ones((2, 3)), ng.ones((4, 2)))
    with pytest.raises(ValueError, match=r"a dimension covered by '\.\.\.' has size 4 in operand 1"):
        ng.einsum("...i,...i->...", ng.ones((2, 3)), ng.ones((4, 3)))
    with pytest.raises(RuntimeError):  # torch refuses both as well
        torch.einsum("ij,jk->ik", torch.ones(2, 3), torch.ones(4, 2))


# --- det: exact second derivatives at a singular matrix ------------------------------------------------
def _det_hessian_by_differences(a: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """∂² det / ∂a_ij ∂a_kl by central differences of det's own central-difference gradient (det is a
    polynomial of degree n, so this is exact to rounding for small n)."""
    n = a.shape[-1]

    def grad(m):
        g = np.zeros_like(m)
        for k in range(n):
            for l in range(n):  # noqa: E741 - the index's name in the formula
                e = np.zeros_like(m)
                e[k, l] = h
                g[k, l] = (np.linalg.det(m + e) - np.linalg.det(m - e)) / (2 * h)
        return g

    out = np.zeros((n, n, n, n))
    for i in range(n):
        for j in range(n):
            e = np.zeros_like(a)
            e[i, j] = h
            out[i, j] = (grad(a + e) - grad(a - e)) / (2 * h)
    return out


@pytest.mark.parametrize(
    "a",
    [
        np.array([[1.0, 2.0], [2.0, 4.0]]),  # rank 1 of 2
        np.arange(1.0, 10.0).reshape(3, 3),  # rank 2 of 3
        np.outer([1.0, 2.0, 3.0], [1.0, 1.0, 2.0]),  # rank 1 of 3
    ],
)
def test_det_second_derivatives_at_a_singular_matrix_as_torch(a):
    want = torch.func.hessian(torch.linalg.det)(torch.tensor(a)).numpy()
    np.testing.assert_allclose(want, _det_hessian_by_differences(a), atol=1e-6)  # torch's is exact
    for h in (ng.hessian(ng.linalg.det), ng.jacrev(ng.jacrev(ng.linalg.det)), ng.jacfwd(ng.jacfwd(ng.linalg.det))):
        np.testing.assert_allclose(h(ng.tensor(a)).numpy(), want, atol=1e-9)
    # grad of grad: a Hessian-vector product
    v = RNG.standard_normal(a.shape)
    hvp = ng.grad(lambda x: (ng.grad(ng.linalg.det)(x) * ng.tensor(v)).sum())(ng.tensor(a))
    np.testing.assert_allclose(hvp.numpy(), np.einsum("ijkl,kl->ij", want, v), atol=1e-9)


def test_det_first_derivative_at_a_singular_matrix_is_the_cofactor_matrix():
    """d det = tr(adj(A) dA) at any A.  (PyTorch 2.13's ``backward`` gives 0 at an exactly singular matrix, and
    its JVP 0 too — not the derivative, which its own ``hessian`` and central differences show; nablagrad keeps
    the exact cofactors.)"""
    a = np.arange(1.0, 10.0).reshape(3, 3)
    cofactors = np.array([[-3.0, 6.0, -3.0], [6.0, -12.0, 6.0], [-3.0, 6.0, -3.0]])
    x = ng.tensor(a, requires_grad=True)
    ng.linalg.det(x).backward()
    np.testing.assert_allclose(x.grad.numpy(), cofactors, atol=1e-9)
    t = RNG.standard_normal(a.shape)
    _, tangent = ng.jvp(ng.linalg.det, (ng.tensor(a),), (ng.tensor(t),))
    np.testing.assert_allclose(tangent.numpy(), (cofactors * t).sum(), atol=1e-9)


def test_det_stays_exact_away_from_singular_matrices_batched():
    a = RNG.standard_normal((2, 3, 3))
    _against_torch(ng.linalg.det, torch.linalg.det, a)


# --- vector norms: zero entries --------------------------------------------------------------------------
@pytest.mark.parametrize("p", [0.5, -1.0, -0.5, 1.5, 3.0])
def test_vector_norm_derivatives_at_zero_entries_as_torch(p):
    """PyTorch masks zero entries in the norm's backward and JVP: finite where the chain rule gives ∞·0."""
    x = np.array([[0.0, -1.0, 3.0, 2.0], [0.0, 0.0, 1.0, -2.0]])
    _against_torch(
        lambda a: ng.linalg.vector_norm(a, p, dim=1),
        lambda a: torch.linalg.vector_norm(a, p, dim=1),
        x,
        second=p >= 2,  # (for 1 < p < 2 torch's Hessian is NaN at a zero entry, the true one +∞)
    )
    _against_torch(lambda a: ng.linalg.norm(a, p, dim=1), lambda a: torch.linalg.norm(a, p, dim=1), x, second=p >= 2)
    assert ng.linalg.vector_norm(ng.tensor(x.astype(np.float32)), p).dtype == np.float32


def test_vector_norm_refuses_a_matrix_ord_and_a_bad_dim_naming_itself():
    with pytest.raises(ValueError, match=r"linalg\.vector_norm: ord='fro' is not a vector norm.*matrix_norm"):
        ng.linalg.norm(ng.ones(3), "fro")
    with pytest.raises(IndexError, match=r"linalg\.vector_norm: axis 2 is out of range .* 2 dimensions"):
        ng.linalg.vector_norm(ng.ones((2, 3)), dim=(0, 2))
    with pytest.raises(IndexError):  # torch refuses the same dim
        torch.linalg.vector_norm(torch.ones(2, 3), dim=(0, 2))


# --- cholesky(upper=True) reads the upper triangle -----------------------------------------------------
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_reads_the_triangle_torch_reads(upper):
    """A non-symmetric A whose lower and upper triangles give different factors: torch reads the upper one for
    ``upper=True``; values, gradients, JVP and Hessian as torch's."""
    b = RNG.standard_normal((2, 3, 3))
    spd = b @ b.transpose(0, 2, 1) + np.eye(3)
    noise = RNG.standard_normal((2, 3, 3))
    a = spd + (np.tril(noise, -1) if upper else np.triu(noise, 1))  # the triangle not read is garbage
    _against_torch(lambda x: ng.linalg.cholesky(x, upper=upper), lambda x: torch.linalg.cholesky(x, upper=upper), a)
    assert ng.linalg.cholesky(ng.tensor(a), upper=upper).shape == (2, 3, 3)


def test_cholesky_upper_refuses_an_indefinite_upper_triangle_as_torch():
    a = np.array([[4.0, 100.0], [2.0, 3.0]])  # the lower triangle is positive definite, the upper one is not
    with pytest.raises(torch.linalg.LinAlgError):
        torch.linalg.cholesky(torch.tensor(a), upper=True)
    with pytest.raises(np.linalg.LinAlgError, match=r"linalg\.cholesky: .*positive definite.*A \+ εI"):
        ng.linalg.cholesky(ng.tensor(a), upper=True)
    np.testing.assert_allclose(
        ng.linalg.cholesky(ng.tensor(a)).numpy(), torch.linalg.cholesky(torch.tensor(a)).numpy(), rtol=1e-12
    )


# --- all / any of uint8 ----------------------------------------------------------------------------------
@pytest.mark.parametrize("kw", [{}, {"dim": 0}, {"dim": (0, 1)}, {"dim": 1, "keepdim": True}])
@pytest.mark.parametrize("name", ["all", "any"])
def test_all_any_keep_uint8_as_torch(name, kw):
    x = np.array([[0, 1, 2], [1, 1, 3]], dtype=np.uint8)
    got, want = getattr(ng, name)(ng.tensor(x), **kw), getattr(torch, name)(torch.tensor(x), **kw)
    assert got.dtype == np.uint8 and want.dtype == torch.uint8
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert getattr(ng, name)(ng.tensor(x.astype(np.int64)), **kw).dtype == np.bool_  # other dtypes: bool


# --- errors that name the op ----------------------------------------------------------------------------
def test_svd_of_non_finite_input_names_the_op_and_the_fix():
    a = ng.tensor(np.array([[np.nan, 1.0], [1.0, 1.0]]))
    for f in (ng.linalg.svd, ng.linalg.svdvals, ng.linalg.pinv):
        with pytest.raises(np.linalg.LinAlgError, match=r"linalg\.svd: .*shape \(2, 2\).*isfinite"):
            f(a)


# --- a broad sweep: batched decompositions, second derivatives as torch.func ---------------------------
def _well(shape):
    """Well-conditioned square matrices (diagonal near 3)."""
    return RNG.standard_normal(shape) + 3 * np.eye(shape[-1])


def _spd(shape):
    b = RNG.standard_normal(shape)
    return b @ np.swapaxes(b, -1, -2) + shape[-1] * np.eye(shape[-1])


def _eigh_invariants(mod):
    """Functions of eigh that do not depend on the eigenvectors' signs."""

    def f(a):
        w, v = mod.linalg.eigh(a)
        return w, v * v

    return f


def _svd_invariants(mod):
    def f(a):
        u, s, vh = mod.linalg.svd(a, full_matrices=False)
        return s, u * u, vh * vh

    return f


@pytest.mark.numpy_only  # (unchanged code paths: the fixed ones above run on every array namespace)
@pytest.mark.parametrize(
    ("name", "make", "arrays"),
    [
        ("inv", lambda m: m.linalg.inv, [_well((2, 3, 3))]),
        ("slogdet", lambda m: m.linalg.slogdet, [_well((2, 3, 3))]),
        ("solve batched vectors", lambda m: m.linalg.solve, [_well((2, 3, 3)), RNG.standard_normal((2, 3))]),
        ("solve broadcast", lambda m: m.linalg.solve, [_well((3, 3)), RNG.standard_normal((2, 3, 2))]),
        ("eigh", _eigh_invariants, [_spd((2, 3, 3))]),
        ("svd tall", _svd_invariants, [RNG.standard_normal((2, 4, 3))]),
        ("svd wide", _svd_invariants, [RNG.standard_normal((3, 4))]),
        ("qr", lambda m: m.linalg.qr, [RNG.standard_normal((2, 4, 3))]),
        ("pinv", lambda m: m.linalg.pinv, [RNG.standard_normal((2, 4, 3))]),
        ("matrix_exp", lambda m: m.linalg.matrix_exp, [0.4 * RNG.standard_normal((2, 3, 3))]),
        ("matrix_power -2", lambda m: (lambda a: m.linalg.matrix_power(a, -2)), [_well((3, 3))]),
        ("nuclear norm", lambda m: (lambda a: m.linalg.matrix_norm(a, "nuc")), [RNG.standard_normal((2, 4, 3))]),
        ("matrix 2-norm", lambda m: (lambda a: m.linalg.matrix_norm(a, 2, (0, 2), True)), [RNG.standard_normal((3, 2, 4))]),
    ],
)  # fmt: skip
def test_linalg_sweep_values_and_derivatives_as_torch(name, make, arrays):
    _against_torch(make(ng), make(torch), *arrays, tol=1e-8)
