"""ng.linalg at degenerate inputs — singular matrices, repeated eigen- and singular values — and
the full SVD and the wide QR, each against what PyTorch does (docs/ops.md lists them)."""

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")

SINGULAR = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])  # rank 2
REPEATED = np.diag([2.0, 2.0, 5.0]) + 0.0  # eigenvalues and singular values 2, 2, 5


def _both(f_ng, f_torch, x, square=True):
    """Value and gradient of Σ f² (or of f, a scalar) in both libraries."""
    a, t = ng.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = f_ng(a), f_torch(t)
    ((out * out).sum() if square else out).backward()
    ((ref * ref).sum() if square else ref).backward()
    return out.numpy(), a.grad.numpy(), ref.detach().numpy(), t.grad.numpy()


@pytest.mark.parametrize(
    "name, f_ng, f_torch, x",
    [
        ("det singular", ng.linalg.det, torch.linalg.det, SINGULAR),
        ("pinv rank-deficient", ng.linalg.pinv, torch.linalg.pinv, SINGULAR),
        ("eigvalsh repeated", ng.linalg.eigvalsh, torch.linalg.eigvalsh, REPEATED),
        ("eigh values repeated", lambda a: ng.linalg.eigh(a)[0], lambda a: torch.linalg.eigh(a)[0], REPEATED),
        ("svdvals repeated", ng.linalg.svdvals, torch.linalg.svdvals, REPEATED),
        ("svdvals singular", ng.linalg.svdvals, torch.linalg.svdvals, SINGULAR),
        ("spectral norm repeated", lambda a: ng.linalg.norm(a, 2), lambda a: torch.linalg.matrix_norm(a, 2), REPEATED),
        ("nuclear norm singular", lambda a: ng.linalg.norm(a, "nuc"), lambda a: torch.linalg.matrix_norm(a, "nuc"), SINGULAR),
        ("svdvals tall zero", ng.linalg.svdvals, torch.linalg.svdvals, np.vstack([SINGULAR, SINGULAR[:1]])),
    ],
)
def test_finite_where_pytorch_is_finite(name, f_ng, f_torch, x):
    out, grad, ref, tgrad = _both(f_ng, f_torch, x)
    assert np.isfinite(tgrad).all(), name
    np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grad, tgrad, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize(
    "name, f_ng, f_torch",
    [
        ("eigenvectors", lambda a: ng.linalg.eigh(a)[1], lambda a: torch.linalg.eigh(a)[1]),
        ("left singular vectors", lambda a: ng.linalg.svd(a)[0], lambda a: torch.linalg.svd(a)[0]),
    ],
)
def test_non_finite_where_pytorch_is(name, f_ng, f_torch):
    _, grad, _, tgrad = _both(f_ng, f_torch, REPEATED)
    assert not np.isfinite(tgrad).all() and not np.isfinite(grad).all(), name


@pytest.mark.parametrize(
    "name, f_ng, f_torch, x",
    [
        ("inv", ng.linalg.inv, torch.linalg.inv, SINGULAR),
        ("solve", lambda a: ng.linalg.solve(a, np.ones(3)), lambda a: torch.linalg.solve(a, a[0] * 0 + 1), SINGULAR),
        ("cholesky", ng.linalg.cholesky, torch.linalg.cholesky, -REPEATED),
    ],
)
def test_raises_linalg_error_where_pytorch_does_naming_op_and_fix(name, f_ng, f_torch, x):
    with pytest.raises(torch.linalg.LinAlgError):
        f_torch(torch.tensor(x))
    with pytest.raises(np.linalg.LinAlgError, match=rf"linalg\.{name}: .*\(input of shape \(3, 3\).*\); .*εI"):
        f_ng(ng.tensor(x, requires_grad=True))


def test_slogdet_of_a_singular_matrix_is_minus_inf_and_its_gradient_refused():
    sign, logabs = ng.linalg.slogdet(ng.tensor(SINGULAR, requires_grad=True))
    assert sign.item() == 0.0 and logabs.item() == -np.inf
    with pytest.raises(np.linalg.LinAlgError, match=r"slogdet: .*singular.*A \+ εI"):
        logabs.backward()


@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (2, 4, 2), (3, 3)])
def test_full_svd_matches_torch_and_ignores_the_complements_gradient(shape):
    x = np.random.default_rng(sum(shape)).standard_normal(shape)
    k = min(shape[-2:])
    a, t = ng.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    u, s, vh = ng.linalg.svd(a, full_matrices=True)
    tu, ts, tvh = torch.linalg.svd(t, full_matrices=True)
    assert (u.shape, s.shape, vh.shape) == (tuple(tu.shape), tuple(ts.shape), tuple(tvh.shape))
    m, n = shape[-2:]
    np.testing.assert_allclose(u.mT.numpy() @ u.numpy(), np.broadcast_to(np.eye(m), u.shape), atol=1e-14)
    np.testing.assert_allclose(vh.numpy() @ vh.mT.numpy(), np.broadcast_to(np.eye(n), vh.shape), atol=1e-14)
    np.testing.assert_allclose((u[..., :k] * s.unsqueeze(-2)).numpy() @ vh[..., :k, :].numpy(), x, atol=1e-13)
    # squares are sign-free; the extra columns enter the loss and get no gradient, in both
    wu, wv = np.random.default_rng(1).standard_normal(u.shape), np.random.default_rng(2).standard_normal(vh.shape)
    ((u * u * ng.tensor(wu)).sum() + (vh * vh * ng.tensor(wv)).sum() + s.sum()).backward()
    ((tu * tu * torch.tensor(wu)).sum() + (tvh * tvh * torch.tensor(wv)).sum() + ts.sum()).backward()
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-12)
    _, tangent = ng.jvp(lambda v: ng.linalg.svd(v, full_matrices=True)[0] ** 2, (x,), (np.ones_like(x),))
    _, ttangent = torch.func.jvp(
        lambda v: torch.linalg.svd(v, full_matrices=True)[0] ** 2, (torch.tensor(x),), (torch.ones(shape, dtype=torch.float64),)
    )
    np.testing.assert_allclose(tangent.numpy(), ttangent.numpy(), rtol=1e-9, atol=1e-12)  # 0 on the complement


@pytest.mark.parametrize("rtol", [1e-3, 0.2, 0.6])
def test_pinv_rtol_cuts_singular_values_as_torch(rtol):
    """σ ≤ rtol · σ_max count as zero: the value as torch.linalg.pinv(rtol=); the gradient is the
    derivative of that function (central differences). Where a cut σ is not 0, PyTorch's gradient
    is the constant-rank formula's, which is not (documented in docs/ops.md); with nothing cut
    the two agree."""
    u, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((4, 4)))
    v, _ = np.linalg.qr(np.random.default_rng(1).standard_normal((3, 3)))
    a = u[:, :3] @ np.diag([2.0, 0.8, 0.01]) @ v.T  # σ / σ_max = 1, 0.4, 0.005
    weights = np.random.default_rng(2).standard_normal((3, 4))
    x = ng.tensor(a, requires_grad=True)
    p = ng.linalg.pinv(x, rtol=rtol)
    (p * ng.tensor(weights)).sum().backward()
    tx = torch.tensor(a, requires_grad=True)
    tp = torch.linalg.pinv(tx, rtol=rtol)
    (tp * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-10, atol=1e-10)
    assert ng.gradcheck(lambda m: ng.linalg.pinv(m, rtol=rtol), ng.tensor(a))
    if rtol < 0.005:  # nothing cut
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-8, atol=1e-8)
