"""PyTorch's keyword arguments and names in ``ng.linalg``: ``cholesky(upper=)``, ``eigh(UPLO=)``,
``qr(mode=)``, ``pinv(hermitian=, atol=)``, ``vector_norm``, ``matrix_norm``; and results that still
allow backward where PyTorch's do (``norm(x, ord=0)``, ``matrix_power(A, 0)``, zero gradient).
Values, dtypes and gradients against torch; gradcheck (central differences) in float64."""

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
_M = RNG.standard_normal((2, 4, 4))
SPD = _M @ _M.transpose(0, 2, 1) + 4 * np.eye(4)  # symmetric positive definite, distinct eigenvalues
GENERAL = RNG.standard_normal((2, 4, 4))  # not symmetric: which triangle is read matters
TALL, WIDE = RNG.standard_normal((5, 3)), RNG.standard_normal((3, 5))
X = RNG.standard_normal((3, 4))
Y = RNG.standard_normal((2, 3, 4))


def _sym(a):
    """(A + Aᵀ)/2: central differences of a function of a symmetric matrix (one triangle read)
    see symmetric perturbations only, as the symmetric gradient convention (PyTorch's) assumes."""
    return (a + a.mT) / 2


def _outputs(out):
    return tuple(out) if isinstance(out, tuple | list) else (out,)


def _against_torch(f_ng, f_torch, *arrays, grad=True, rtol=1e-7):
    """The values (shape, dtype) and the gradient of a random weighting of every output."""
    xs = [ng.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    got, want = _outputs(f_ng(*xs)), _outputs(f_torch(*ts))
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert g.shape == tuple(w.shape) and str(g.dtype) == str(w.dtype).removeprefix("torch.")
        np.testing.assert_allclose(g.numpy(), w.detach().numpy(), rtol=rtol, atol=1e-10)
    if grad:
        weights = [np.random.default_rng(1).standard_normal(tuple(w.shape)) for w in want]
        sum((g * ng.tensor(c)).sum() for g, c in zip(got, weights, strict=True)).backward()
        sum((w * torch.tensor(c)).sum() for w, c in zip(want, weights, strict=True)).backward()
        for x, t in zip(xs, ts, strict=True):
            want = np.zeros(t.shape) if t.grad is None else t.grad.numpy()  # None: torch's zero gradient
            np.testing.assert_allclose(x.grad.numpy(), want, rtol=rtol, atol=1e-10)


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_upper_as_torch(upper):
    _against_torch(lambda a: ng.linalg.cholesky(a, upper=upper), lambda a: torch.linalg.cholesky(a, upper=upper), SPD)
    assert ng.gradcheck(lambda a: ng.linalg.cholesky(_sym(a), upper=upper), ng.tensor(SPD[0]))


@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_reads_the_triangle_uplo_names_as_torch(uplo):
    """On a non-symmetric matrix only the named triangle counts (values and eigenvalue gradient);
    on a symmetric one the eigenvectors' gradient too equals torch's."""
    _against_torch(lambda a: ng.linalg.eigh(a, UPLO=uplo)[0], lambda a: torch.linalg.eigh(a, UPLO=uplo)[0], GENERAL)
    _against_torch(lambda a: ng.linalg.eigvalsh(a, UPLO=uplo), lambda a: torch.linalg.eigvalsh(a, UPLO=uplo), GENERAL)

    def f_ng(a):
        w, v = ng.linalg.eigh(a, UPLO=uplo)
        return w * abs(v).sum(axis=-2)  # sign-invariant in the eigenvectors

    def f_torch(a):
        w, v = torch.linalg.eigh(a, UPLO=uplo)
        return w * v.abs().sum(-2)

    _against_torch(f_ng, f_torch, SPD)
    assert ng.gradcheck(lambda a: f_ng(_sym(a)), ng.tensor(SPD[0]))


def test_eigh_refuses_an_unknown_uplo_naming_the_choices():
    with pytest.raises(ValueError, match=r"linalg.eigh: UPLO must be 'L' .* or 'U'"):
        ng.linalg.eigh(SPD, UPLO="upper")


@pytest.mark.parametrize("mode", ["reduced", "complete", "r"])
@pytest.mark.parametrize("shape", ["tall", "wide", "square"])
def test_qr_modes_as_torch(mode, shape):
    """Shapes and values as torch.linalg.qr's modes; gradients where torch has them (not mode 'r',
    not 'complete' of a tall matrix — there nablagrad's are the reduced factors', see qr's docstring)."""
    a = {"tall": TALL, "wide": WIDE, "square": GENERAL[0]}[shape]
    differentiable = mode == "reduced" or (mode == "complete" and shape != "tall")
    _against_torch(lambda x: ng.linalg.qr(x, mode=mode), lambda x: torch.linalg.qr(x, mode=mode), a, grad=differentiable)
    if differentiable:
        assert ng.gradcheck(lambda x: ng.linalg.qr(x, mode=mode)[0].sum() + ng.linalg.qr(x, mode=mode)[1].sum(), ng.tensor(a))


def test_qr_complete_of_a_tall_matrix_is_orthogonal_and_refuses_an_unknown_mode():
    q, r = ng.linalg.qr(ng.tensor(TALL), mode="complete")
    np.testing.assert_allclose(q.numpy().T @ q.numpy(), np.eye(5), atol=1e-12)
    np.testing.assert_allclose(q.numpy() @ r.numpy(), TALL, atol=1e-12)
    with pytest.raises(ValueError, match="linalg.qr: mode must be 'reduced', 'complete' or 'r'"):
        ng.linalg.qr(TALL, mode="full")


def test_pinv_hermitian_and_atol_as_torch():
    _against_torch(lambda a: ng.linalg.pinv(a, hermitian=True), lambda a: torch.linalg.pinv(a, hermitian=True), SPD)
    _against_torch(lambda a: ng.linalg.pinv(a, atol=0.1), lambda a: torch.linalg.pinv(a, atol=0.1), TALL)  # nothing cut
    for atol, rtol in ((0.5, None), (0.5, 0.01), (0.01, 0.5)):  # σ = 3.15, 1.71, 0.33: the last one cut
        _against_torch(
            lambda a, t=atol, r=rtol: ng.linalg.pinv(a, atol=t, rtol=r),
            lambda a, t=atol, r=rtol: torch.linalg.pinv(a, atol=t, rtol=r),
            TALL,
            grad=False,
        )
    with pytest.raises(ValueError, match="linalg.pinv: expects square matrices"):
        ng.linalg.pinv(TALL, hermitian=True)


@pytest.mark.parametrize("ord", [2, 1, 0, 3, 0.5, -1, np.inf, -np.inf])
@pytest.mark.parametrize(("dim", "keepdim"), [(None, False), (None, True), (1, False), ((0, 1), True), (-2, True)])
def test_vector_norm_as_torch(ord, dim, keepdim):  # noqa: A002
    _against_torch(
        lambda a: ng.linalg.vector_norm(a, ord, dim, keepdim), lambda a: torch.linalg.vector_norm(a, ord, dim, keepdim), X
    )
    if ord not in (0, np.inf, -np.inf):
        assert ng.gradcheck(lambda a: ng.linalg.vector_norm(a, ord=ord, dim=dim, keepdim=keepdim), ng.tensor(X))


def test_vector_norm_dtype_float32_default_and_refuses_integers():
    x32 = X.astype(np.float32)
    assert ng.linalg.vector_norm(ng.tensor(x32)).dtype == np.float32
    got = ng.linalg.vector_norm(ng.tensor(x32), dtype=np.float64)
    want = torch.linalg.vector_norm(torch.tensor(x32), dtype=torch.float64)
    assert got.dtype == np.float64 and np.isclose(got.item(), want.item(), rtol=1e-12)
    assert ng.linalg.vector_norm(ng.tensor(2.5, dtype=np.float64), dim=0).item() == 2.5
    with pytest.raises(TypeError, match=r"linalg.vector_norm: expects a floating-point tensor, got int64"):
        ng.linalg.vector_norm(ng.tensor([1, 2]))


@pytest.mark.parametrize("ord", ["fro", "nuc", 2, -2, 1, -1, np.inf, -np.inf])
@pytest.mark.parametrize(("dim", "keepdim"), [((-2, -1), False), ((0, 2), True), ((2, 0), False)])
def test_matrix_norm_as_torch(ord, dim, keepdim):  # noqa: A002
    _against_torch(
        lambda a: ng.linalg.matrix_norm(a, ord, dim, keepdim), lambda a: torch.linalg.matrix_norm(a, ord, dim, keepdim), Y
    )
    if ord in ("fro", "nuc", 2):
        assert ng.gradcheck(lambda a: ng.linalg.matrix_norm(a, ord=ord, dim=dim, keepdim=keepdim), ng.tensor(Y))


def test_matrix_norm_refuses_a_vector_and_repeated_dims():
    with pytest.raises(ValueError, match="linalg.matrix_norm: needs a tensor of at least 2 dims"):
        ng.linalg.matrix_norm(X[0])
    with pytest.raises(ValueError, match="two distinct dims"):
        ng.linalg.matrix_norm(Y, dim=(1, -2))


def test_norm_ord_0_and_matrix_power_0_allow_backward_with_zero_gradient_as_torch():
    v = np.array([0.0, 1.5, -2.0, 0.0])
    x, t = ng.tensor(v, requires_grad=True), torch.tensor(v, requires_grad=True)
    out, tout = ng.linalg.norm(x, 0), torch.linalg.norm(t, 0)
    assert out.item() == tout.item() == 2.0 and out.requires_grad == tout.requires_grad
    out.backward()
    tout.backward()  # torch leaves t.grad None: a zero gradient
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros(4))
    x = ng.tensor(v, requires_grad=True)
    ng.linalg.vector_norm(x, ord=0).backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros(4))

    a, ta = ng.tensor(SPD, requires_grad=True), torch.tensor(SPD, requires_grad=True)
    p, tp = ng.linalg.matrix_power(a, 0), torch.linalg.matrix_power(ta, 0)
    np.testing.assert_array_equal(p.numpy(), tp.detach().numpy())
    assert p.requires_grad == tp.requires_grad
    p.sum().backward()
    tp.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), ta.grad.numpy())
    inf = np.full((2, 2), np.inf)
    np.testing.assert_array_equal(ng.linalg.matrix_power(inf, 0).numpy(), np.eye(2))  # exactly I, no 0·∞


def test_the_new_keywords_under_vmap_and_grad_as_torch_func():
    def f_ng(a):
        return (
            ng.linalg.eigh(a, UPLO="U")[0].sum()
            + ng.linalg.cholesky(_sym(a) + 8 * ng.eye(4, dtype=a.dtype), upper=True).sum()
            + ng.linalg.matrix_power(a, 0).sum()
            + ng.linalg.vector_norm(a, 3)
            + ng.linalg.matrix_norm(a, "nuc")
        )

    def f_torch(a):
        return (
            torch.linalg.eigh(a, UPLO="U")[0].sum()
            + torch.linalg.cholesky((a + a.mT) / 2 + 8 * torch.eye(4, dtype=a.dtype), upper=True).sum()
            + torch.linalg.matrix_power(a, 0).sum()
            + torch.linalg.vector_norm(a, 3)
            + torch.linalg.matrix_norm(a, "nuc")
        )

    got = ng.vmap(ng.grad(f_ng))(ng.tensor(SPD))
    want = torch.func.vmap(torch.func.grad(f_torch))(torch.tensor(SPD))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-9, atol=1e-12)
