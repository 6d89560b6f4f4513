"""The PyTorch ops users still missed (issue 10, second round), each against torch 2.13: values and dtypes,
gradients (torch and central differences in float64), forward mode (torch.func.jvp, or central differences where
torch's own forward mode is wrong), vmap (torch.func.vmap) and the errors naming the op; and the kinks where NumPy
used to warn (divide by zero, invalid value) while torch is silent."""

import warnings

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")
from torch.func import grad as t_grad  # noqa: E402
from torch.func import jvp as t_jvp  # noqa: E402
from torch.func import vmap as t_vmap  # noqa: E402

RNG = np.random.default_rng(18)


def _np(a):
    if isinstance(a, torch.Tensor):
        return a.detach().numpy()
    return np.asarray(a.cpu().numpy() if isinstance(a, ng.Tensor) else a)


def _close(a, b, tol=1e-10):
    a, b = _np(a), _np(b)
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, b.shape, a.dtype, b.dtype)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol, equal_nan=True)


def _central(f, args, i, tangent, h=1e-6):
    """The directional derivative of f along ``tangent`` in argument i, by central differences (float64)."""
    up = [a + h * tangent if j == i else a for j, a in enumerate(args)]
    down = [a - h * tangent if j == i else a for j, a in enumerate(args)]
    return (_np(f(*[ng.tensor(a) for a in up])) - _np(f(*[ng.tensor(a) for a in down]))) / (2 * h)


def _agree(f_ng, f_torch, *args, tol=1e-9, torch_jvp=True, fd=True):
    """Value (and dtype), the gradient of Σ out² for every float argument, and the JVP, against torch; the JVP also
    against central differences (``fd``: not at ties, where the op is not differentiable)."""
    _close(f_ng(*[ng.tensor(a) for a in args]), f_torch(*[torch.tensor(a) for a in args]), tol)
    for i, a in enumerate(args):
        if np.asarray(a).dtype.kind != "f":
            continue

        def fng(x, i=i):
            return f_ng(*[x if j == i else ng.tensor(b) for j, b in enumerate(args)])

        def ft(x, i=i):
            return f_torch(*[x if j == i else torch.tensor(b) for j, b in enumerate(args)])

        g = ng.grad(lambda x: (fng(x) ** 2).sum())(a)
        _close(g, t_grad(lambda x: (ft(x) ** 2).sum())(torch.tensor(a)), tol)
        tangent = RNG.standard_normal(np.shape(a))
        _, jv = ng.jvp(fng, (a,), (tangent,))
        if torch_jvp:
            _close(jv, t_jvp(ft, (torch.tensor(a),), (torch.tensor(tangent),))[1], tol)
        if fd:
            np.testing.assert_allclose(_np(jv), _central(f_ng, list(args), i, tangent), rtol=1e-5, atol=1e-6)


# --- elementwise ----------------------------------------------------------------------------------------------
def test_erfinv_matches_torch_to_the_last_digits_and_at_the_ends():
    y = np.concatenate([np.linspace(-0.999999, 0.999999, 20001), 1 - np.logspace(-16, -1, 200), [0.0, -0.0, 1e-300]])
    _close(ng.erfinv(y), torch.erfinv(torch.tensor(y)), 1e-14)
    ends = np.array([1.0, -1.0, 1.5, np.nan])
    _close(ng.erfinv(ends), torch.erfinv(torch.tensor(ends)))
    _close(ng.erfinv(ng.tensor([0.5, -0.25])), torch.erfinv(torch.tensor([0.5, -0.25])), 1e-6)  # float32
    _close(ng.tensor([0, 1]).erfinv(), torch.tensor([0, 1]).erfinv())  # integers: the default float dtype


def test_erfinv_derivatives_match_torch():
    x = RNG.uniform(-0.95, 0.95, (3, 4))
    _agree(ng.erfinv, torch.erfinv, x)
    _close(ng.grad(lambda z: z.erfinv().sum())(np.array([1.0])), torch.tensor([np.inf], dtype=torch.float64))


def test_sinc_matches_torch_with_its_zero():
    x = np.array([0.0, 0.5, -1.3, 2.0, -3.25])
    _agree(ng.sinc, torch.sinc, x)
    _close(ng.sinc(ng.tensor([0, 1, 2])), torch.sinc(torch.tensor([0, 1, 2])))
    # the second derivative at 0: PyTorch's masked formula gives 0 there (and its quotient cancels to 0 at 1e-9);
    # ours is sinc's own, -π²/3, from its Taylor series (test_s18_sinc_series.py checks every order against mpmath)
    _close(ng.hessian(lambda z: ng.sinc(z))(np.float64(0.0)), np.float64(-np.pi**2 / 3))


def test_copysign_values_dtypes_and_gradients_match_torch():
    x, y = RNG.standard_normal((3, 4)), RNG.standard_normal(4)
    _agree(ng.copysign, torch.copysign, x, y)
    _agree(ng.copysign, torch.copysign, np.array([0.0, -0.0, 1.0, -2.0]), np.array([-1.0, 1.0, -0.5, 0.5]))
    signed_zeros = ng.copysign(ng.tensor([1.0, 2.0]), ng.tensor([-0.0, 0.0]))
    _close(signed_zeros, torch.copysign(torch.tensor([1.0, 2.0]), torch.tensor([-0.0, 0.0])))
    _close(ng.copysign(ng.tensor([1, 2]), ng.tensor([-1, 0])), torch.copysign(torch.tensor([1, 2]), torch.tensor([-1, 0])))
    _close(ng.tensor([1.0, 2.0]).copysign(-1.0), torch.tensor([1.0, 2.0]).copysign(-1.0))


def test_heaviside_and_signbit_match_torch():
    x = np.array([-1.0, 0.0, 2.0, -0.0, np.nan])
    _close(ng.heaviside(x, np.array([0.5])), torch.heaviside(torch.tensor(x), torch.tensor(np.array([0.5]))))
    _close(ng.tensor([-2, 0, 3]).heaviside(ng.tensor([7])), torch.tensor([-2, 0, 3]).heaviside(torch.tensor([7])))
    with pytest.raises(TypeError, match="heaviside: x is float64 and values is float32"):
        ng.heaviside(x, ng.tensor([0.5]))
    _close(ng.grad(lambda z: ng.heaviside(z, np.array([0.5])).sum())(np.array([-1.0, 0.0, 1.0])), np.zeros(3))
    _close(ng.signbit(x), torch.signbit(torch.tensor(x)))
    _close(ng.tensor([-1, 2]).signbit(), torch.tensor([-1, 2]).signbit())
    assert not ng.signbit(ng.tensor([1.0], requires_grad=True)).requires_grad


# --- products with an added term ------------------------------------------------------------------------------
@pytest.mark.parametrize("beta, alpha", [(1, 1), (0.5, 2), (0, 1.5)])
def test_addmm_addmv_addr_baddbmm_addbmm_match_torch(beta, alpha):
    a, b, c = RNG.standard_normal((3, 4)), RNG.standard_normal((4, 5)), RNG.standard_normal((3, 5))
    b1, b2 = RNG.standard_normal((2, 3, 4)), RNG.standard_normal((2, 4, 5))
    kw = {"beta": beta, "alpha": alpha}
    _agree(lambda *t: ng.addmm(*t, **kw), lambda *t: torch.addmm(*t, **kw), c, a, b)
    _agree(lambda *t: ng.addmm(*t, **kw), lambda *t: torch.addmm(*t, **kw), c[0], a, b)  # input broadcast
    _agree(lambda *t: ng.addmv(*t, **kw), lambda *t: torch.addmv(*t, **kw), c[:, 0], a, b[:, 0])
    _agree(lambda *t: ng.addr(*t, **kw), lambda *t: torch.addr(*t, **kw), c, a[:, 0], c[0])
    _agree(lambda *t: ng.baddbmm(*t, **kw), lambda *t: torch.baddbmm(*t, **kw), c, b1, b2)
    _agree(lambda *t: ng.addbmm(*t, **kw), lambda *t: torch.addbmm(*t, **kw), c, b1, b2)
    _close(ng.tensor(c).addmm(ng.tensor(a), ng.tensor(b), **kw), torch.tensor(c).addmm(torch.tensor(a), torch.tensor(b), **kw))


def test_addmm_with_beta_zero_ignores_a_nan_input_as_torch():
    a, b = RNG.standard_normal((2, 3)), RNG.standard_normal((3, 2))
    c = np.full((2, 2), np.nan)
    _close(ng.addmm(c, a, b, beta=0), torch.addmm(torch.tensor(c), torch.tensor(a), torch.tensor(b), beta=0))
    _close(ng.grad(lambda z: ng.addmm(z, a, b, beta=0).sum())(c), np.zeros((2, 2)))


def test_products_refuse_wrong_ranks_naming_the_op():
    with pytest.raises(ValueError, match="addmm: mat1 must be 2-D"):
        ng.addmm(np.zeros(2), np.zeros(2), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="baddbmm: batch1 holds 2 matrices and batch2 3"):
        ng.baddbmm(np.zeros((2, 2)), np.zeros((2, 2, 2)), np.zeros((3, 2, 2)))
    with pytest.raises(ValueError, match="addmm: input of shape"):
        ng.addmm(np.zeros((3, 3)), np.zeros((2, 2)), np.zeros((2, 2)))


# --- shapes ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("k", [-3, -1, 0, 1, 2, 3, 5])
@pytest.mark.parametrize("dims", [(0, 1), (1, 0), (0, 2), (-1, 1)])
def test_rot90_matches_torch(k, dims):
    x = RNG.standard_normal((2, 3, 4))
    _agree(lambda t: ng.rot90(t, k, dims), lambda t: torch.rot90(t, k, dims), x)
    _close(ng.tensor(x).rot90(k, dims), torch.tensor(x).rot90(k, dims))


def test_block_diag_matches_torch_with_promotion():
    parts = (np.array(2.0), RNG.standard_normal(3), RNG.standard_normal((2, 2)))
    _agree(lambda *t: ng.block_diag(*t), lambda *t: torch.block_diag(*t), *parts)
    got = ng.block_diag(ng.tensor([1, 2]), ng.tensor([[1.5]]))
    _close(got, torch.block_diag(torch.tensor([1, 2]), torch.tensor([[1.5]])))
    _close(ng.block_diag(), torch.block_diag())


@pytest.mark.parametrize("args", [(3, 4, 1), (4, 3, -1), (3, 3, 0), (0, 2, 0), (2, 5, -4)])
def test_tril_and_triu_indices_match_torch(args):
    _close(ng.tril_indices(*args), torch.tril_indices(*args))
    _close(ng.triu_indices(*args), torch.triu_indices(*args))


@pytest.mark.parametrize("size, stride, offset", [((3, 3), (1, 2), 1), ((2, 2), (4, 1), 0), ((4,), (0,), 5), ((2, 3), (3, 1), 6)])
def test_as_strided_matches_torch_and_accumulates_overlaps(size, stride, offset):
    x = RNG.standard_normal((3, 4))
    _agree(lambda t: ng.as_strided(t, size, stride, offset), lambda t: torch.as_strided(t, size, stride, offset), x)
    with pytest.raises(IndexError, match="as_strided"):
        ng.as_strided(x, (3, 3), (4, 4), 0)


def test_sum_to_size_and_rsub_match_torch():
    x = RNG.standard_normal((2, 3, 4))
    for size in [(1, 4), (3, 1), (2, 1, 4), (4,)]:
        _agree(lambda t: t.sum_to_size(*size), lambda t: t.sum_to_size(*size), x)
    _close(ng.tensor(x).sum_to_size((3, 4)), torch.tensor(x).sum_to_size((3, 4)))
    with pytest.raises(ValueError, match="sum_to_size: size"):
        ng.tensor(x).sum_to_size(5)
    a, b = RNG.standard_normal((3, 4)), RNG.standard_normal(4)
    _agree(lambda s, t: ng.rsub(s, t, alpha=2), lambda s, t: torch.rsub(s, t, alpha=2), a, b)
    _close(ng.rsub(ng.tensor(a), 1.5), torch.rsub(torch.tensor(a), 1.5))


def test_tensor_type_names_and_casts_as_torch():
    x = ng.tensor([1.5, 2.0])
    assert x.type() == torch.tensor([1.5, 2.0]).type() == "torch.FloatTensor"
    assert ng.tensor([1, 2]).type() == "torch.LongTensor"
    assert x.type(ng.float64).dtype == np.float64 and x.type("torch.IntTensor").dtype == np.int32
    assert x.type("float32") is x
    g = ng.grad(lambda z: (z.type(ng.float32) * 2).sum())(np.array([1.0, 2.0]))
    _close(g, np.array([2.0, 2.0]))


# --- index writes ----------------------------------------------------------------------------------------------
def test_index_fill_matches_torch_with_a_number_and_a_0d_tensor():
    x, idx = RNG.standard_normal((3, 4)), np.array([2, 0, 2])
    _agree(lambda t: ng.index_fill(t, 1, idx, -1.5), lambda t: t.index_fill(1, torch.tensor(idx), -1.5), x)
    _agree(lambda t, v: ng.index_fill(t, 0, idx[:2], v), lambda t, v: t.index_fill(0, torch.tensor(idx[:2]), v), x, np.array(3.0))
    _close(ng.tensor([1, 2, 3]).index_fill(0, np.array([1]), 7), torch.tensor([1, 2, 3]).index_fill(0, torch.tensor([1]), 7))


def test_index_copy_matches_torch():
    x, src = RNG.standard_normal((3, 4)), RNG.standard_normal((3, 2))
    idx = np.array([3, 0])
    _agree(lambda t, s: ng.index_copy(t, 1, idx, s), lambda t, s: t.index_copy(1, torch.tensor(idx), s), x, src)
    with pytest.raises(ValueError, match="index_copy: source of shape"):
        ng.index_copy(x, 1, idx, src[:, :1])
    with pytest.raises(TypeError, match="index_copy: x is float64 and source is float32"):
        ng.index_copy(x, 1, idx, ng.tensor(src, dtype="float32"))


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_matches_torch(reduce, include_self):
    x, src = RNG.standard_normal((3, 4)), RNG.standard_normal((3, 5))
    idx = RNG.integers(0, 4, (3, 5))

    # torch's forward mode of the prod reduction gives wrong tangents: there the JVP is checked by central differences
    _agree(
        lambda t, s: ng.scatter_reduce(t, 1, idx, s, reduce, include_self=include_self),
        lambda t, s: t.scatter_reduce(1, torch.tensor(idx), s, reduce, include_self=include_self),
        x,
        src,
        torch_jvp=reduce != "prod",
    )
    # along dim 0 with an index smaller than x
    small = RNG.integers(0, 3, (2, 4))
    _agree(
        lambda t, s: ng.scatter_reduce(t, 0, small, s, reduce, include_self=include_self),
        lambda t, s: t.scatter_reduce(0, torch.tensor(small), s, reduce, include_self=include_self),
        x,
        src[:2, :4],
        torch_jvp=reduce != "prod",
    )


@pytest.mark.parametrize("reduce", ["amax", "amin"])
def test_scatter_reduce_extremes_split_ties_evenly_as_torch(reduce):
    x = np.array([[5.0, 1.0, 2.0]])
    src = np.array([[5.0, 5.0, 0.5, -4.0]]) * (1 if reduce == "amax" else -1)
    x = x * (1 if reduce == "amax" else -1)
    idx = np.array([[0, 0, 1, 2]])
    _agree(
        lambda t, s: ng.scatter_reduce(t, 1, idx, s, reduce),
        lambda t, s: t.scatter_reduce(1, torch.tensor(idx), s, reduce),
        x,
        src,
        fd=False,
    )


def test_scatter_reduce_prod_with_zeros_and_integer_mean_match_torch():
    x, src = RNG.standard_normal((2, 3)), RNG.standard_normal((2, 4))
    src[0, 1] = src[1, 0] = src[1, 2] = 0.0  # one zero in a group, and two
    idx = np.array([[0, 0, 1, 2], [1, 1, 1, 0]])
    _agree(
        lambda t, s: ng.scatter_reduce(t, 1, idx, s, "prod"),
        lambda t, s: t.scatter_reduce(1, torch.tensor(idx), s, "prod"),
        x,
        src,
        torch_jvp=False,
    )
    a, s, i = np.array([1, 2, 3]), np.array([4, 7, 9]), np.array([0, 0, 1])
    for inc in (True, False):
        got = ng.scatter_reduce(ng.tensor(a), 0, i, ng.tensor(s), "mean", include_self=inc)
        _close(got, torch.tensor(a).scatter_reduce(0, torch.tensor(i), torch.tensor(s), "mean", include_self=inc))


def test_scatter_reduce_refuses_a_bad_reduction_and_dtypes():
    with pytest.raises(ValueError, match="scatter_reduce: reduce must be one of"):
        ng.scatter_reduce(np.zeros(3), 0, np.array([0]), np.ones(1), "max")
    with pytest.raises(TypeError, match="scatter_reduce: x is float64 and src is float32"):
        ng.scatter_reduce(np.zeros(3), 0, np.array([0]), ng.ones(1), "sum")


# --- order statistics ------------------------------------------------------------------------------------------
def test_nanmedian_matches_torch():
    x = np.array([[1.0, np.nan, 3.0, 2.0], [5.0, 4.0, np.nan, 6.0], [0.5, -1.0, 2.5, 7.0]])
    _agree(ng.nanmedian, torch.nanmedian, x)
    _agree(lambda t: ng.nanmedian(t, 1).values, lambda t: torch.nanmedian(t, 1).values, x)
    got, want = ng.tensor(x).nanmedian(0, True), torch.tensor(x).nanmedian(0, True)
    _close(got.values, want.values)
    _close(got.indices, want.indices)
    _close(ng.nanmedian(np.full(3, np.nan)), torch.nanmedian(torch.full((3,), np.nan, dtype=torch.float64)))


def test_msort_and_mode_match_torch():
    x = RNG.standard_normal((4, 3))
    _agree(ng.msort, torch.msort, x)
    m = np.array([[1.0, 2.0, 2.0, 1.0, 3.0], [3.0, 3.0, 1.0, 1.0, 0.0], [4.0, 4.0, 4.0, 2.0, 2.0]])
    for dim, keepdim in [(-1, False), (0, True), (1, True)]:
        got, want = ng.tensor(m).mode(dim, keepdim), torch.tensor(m).mode(dim, keepdim)
        _close(got.values, want.values)
        _close(got.indices, want.indices)
    _agree(lambda t: ng.mode(t, 1).values, lambda t: torch.mode(t, 1).values, m, fd=False)
    _close(ng.mode(ng.tensor([3, 1, 3, 1, 2])).values, torch.mode(torch.tensor([3, 1, 3, 1, 2])).values)


def test_the_engine_state_module_is_apart_from_torch_mode():
    from nablagrad.autodiff import grad_mode

    assert hasattr(grad_mode, "state") and callable(ng.mode) and ng.autodiff.mode is ng.mode
    _close(ng.mode(ng.tensor([2.0, 1.0, 2.0])).values, torch.tensor(2.0, dtype=torch.float32))


# --- counting ---------------------------------------------------------------------------------------------------
def test_bincount_histc_isin_match_torch():
    i = np.array([1, 1, 3, 0, 7])
    _close(ng.bincount(i), torch.bincount(torch.tensor(i)))
    _close(ng.tensor(i).bincount(minlength=10), torch.tensor(i).bincount(minlength=10))
    for w in (np.arange(5.0), np.arange(5.0, dtype=np.float32), np.arange(5)):
        _close(ng.bincount(i, w), torch.bincount(torch.tensor(i), torch.tensor(w)))
    with pytest.raises(ValueError, match="bincount: x must be non-negative"):
        ng.bincount(np.array([-1, 2]))
    h = RNG.standard_normal(2000)
    _close(ng.histc(h, 13), torch.histc(torch.tensor(h), 13))
    _close(ng.tensor(h.astype(np.float32)).histc(7, -1, 1), torch.tensor(h.astype(np.float32)).histc(7, -1, 1))
    _close(ng.histc(np.ones(4), 3), torch.histc(torch.ones(4, dtype=torch.float64), 3))
    _close(ng.histc(np.linspace(0, 1, 11), 10, 0, 1), torch.histc(torch.linspace(0, 1, 11, dtype=torch.float64), 10, 0, 1))
    _close(ng.isin(i, np.array([1, 7])), torch.isin(torch.tensor(i), torch.tensor([1, 7])))
    _close(ng.isin(i, 3, invert=True), torch.isin(torch.tensor(i), 3, invert=True))


# --- linear algebra ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("scale", [0.01, 1.0, 8.0])
def test_matrix_exp_matches_torch(scale):
    a = RNG.standard_normal((2, 4, 4)) * scale
    _agree(ng.matrix_exp, torch.matrix_exp, a, tol=1e-8 * max(1.0, float(np.exp(np.abs(a).sum(-2).max()))))
    _close(ng.linalg.matrix_exp(a[0]), torch.linalg.matrix_exp(torch.tensor(a[0])), 1e-8 * np.exp(4 * scale))
    _close(ng.tensor(a[0], dtype="float32").matrix_exp(), torch.tensor(a[0], dtype=torch.float32).matrix_exp(), 1e-4)


def test_matrix_exp_of_zero_commuting_and_second_order():
    _close(ng.matrix_exp(np.zeros((3, 3))), np.eye(3))
    d = np.diag([0.5, -1.0, 2.0])
    _close(ng.matrix_exp(d), np.diag(np.exp([0.5, -1.0, 2.0])), 1e-14)
    a = RNG.standard_normal((3, 3))
    want = torch.func.hessian(lambda t: torch.linalg.matrix_exp(t).sum())(torch.tensor(a))
    _close(ng.hessian(lambda t: ng.linalg.matrix_exp(t).sum())(a), want, 1e-9)


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_solve_matches_torch(upper):
    low = np.tril(RNG.standard_normal((3, 3))) + 3 * np.eye(3)
    factor = low.T if upper else low
    b = RNG.standard_normal((3, 2))
    # torch's derivative in the factor treats all its entries as read (A = L Lᵀ), the value only its triangle:
    # the JVP is torch's, not the central difference of the value in the other triangle
    _agree(lambda s, f: ng.cholesky_solve(s, f, upper), lambda s, f: torch.cholesky_solve(s, f, upper), b, factor, fd=False)
    tangent = RNG.standard_normal(b.shape)
    _, jv = ng.jvp(lambda s: ng.cholesky_solve(s, factor, upper), (b,), (tangent,))
    np.testing.assert_allclose(_np(jv), _central(lambda s: ng.cholesky_solve(s, factor, upper), [b], 0, tangent), atol=1e-6)
    batch = RNG.standard_normal((2, 3, 2))
    want = torch.cholesky_solve(torch.tensor(batch), torch.tensor(factor), upper)
    _close(ng.linalg.cholesky_solve(batch, factor, upper=upper), want)


# --- vmap --------------------------------------------------------------------------------------------------------
_VMAP_CASES = {
    "erfinv": (lambda x: ng.erfinv(x * 0.3), lambda x: torch.erfinv(x * 0.3)),
    "sinc": (ng.sinc, torch.sinc),
    "copysign": (lambda x: ng.copysign(x, x[0]), lambda x: torch.copysign(x, x[0])),
    "matrix_exp": (ng.matrix_exp, torch.matrix_exp),
    "rot90": (ng.rot90, torch.rot90),
    "addmm": (lambda x: ng.addmm(x[0], x, x, beta=0.5), lambda x: torch.addmm(x[0], x, x, beta=0.5)),
    "msort": (ng.msort, torch.msort),
    "nanmedian": (lambda x: ng.nanmedian(x, 0).values, lambda x: torch.nanmedian(x, 0).values),
    "index_fill": (lambda x: ng.index_fill(x, 1, np.array([0, 2]), 2.0), lambda x: x.index_fill(1, torch.tensor([0, 2]), 2.0)),
    "index_copy": (
        lambda x: ng.index_copy(x, 1, np.array([0, 2]), x[:, :2]),
        lambda x: x.index_copy(1, torch.tensor([0, 2]), x[:, :2]),
    ),
    "scatter_amax": (
        lambda x: ng.scatter_reduce(x, 1, np.array([[0, 0, 1]] * 3), x, "amax"),
        lambda x: x.scatter_reduce(1, torch.tensor([[0, 0, 1]] * 3), x, "amax"),
    ),
    "scatter_mean": (
        lambda x: ng.scatter_reduce(x, 1, np.array([[0, 0, 1]] * 3), x, "mean", include_self=False),
        lambda x: x.scatter_reduce(1, torch.tensor([[0, 0, 1]] * 3), x, "mean", include_self=False),
    ),
    "block_diag": (lambda x: ng.block_diag(x, x[0]), lambda x: torch.block_diag(x, x[0])),
    "as_strided": (lambda x: ng.as_strided(x, (2, 2), (1, 2)), lambda x: torch.as_strided(x, (2, 2), (1, 2))),
    "cholesky_solve": (
        lambda x: ng.cholesky_solve(x, np.tril(np.ones((3, 3))) + 2 * np.eye(3)),
        lambda x: torch.cholesky_solve(x, torch.tensor(np.tril(np.ones((3, 3))) + 2 * np.eye(3))),
    ),
}


@pytest.mark.parametrize("name", sorted(_VMAP_CASES))
def test_vmap_and_per_example_gradients_match_torch_func(name):
    f_ng, f_torch = _VMAP_CASES[name]
    x = RNG.standard_normal((4, 3, 3))
    _close(ng.vmap(f_ng)(x), t_vmap(f_torch)(torch.tensor(x)))
    got = ng.vmap(ng.grad(lambda z: (f_ng(z) ** 2).sum()))(x)
    _close(got, t_vmap(t_grad(lambda z: (f_torch(z) ** 2).sum()))(torch.tensor(x)), 1e-9)


# --- random draws --------------------------------------------------------------------------------------------------
def test_bernoulli_draws_from_the_library_generator_or_one_given():
    ng.manual_seed(3)
    a = ng.bernoulli(ng.full((4000,), 0.3, dtype="float64"))
    ng.manual_seed(3)
    b = ng.full((4000,), 0.3, dtype="float64").bernoulli()
    _close(a, b)
    assert a.dtype == np.float64 and set(np.unique(_np(a))) <= {0.0, 1.0} and abs(_np(a).mean() - 0.3) < 0.03
    c = ng.bernoulli(ng.zeros(5), 1.0, generator=np.random.default_rng(0))
    _close(c, np.ones(5, dtype=np.float32))
    assert not ng.bernoulli(ng.tensor([0.5], requires_grad=True)).requires_grad
    with pytest.raises(ValueError, match="bernoulli: probabilities must lie in"):
        ng.bernoulli(ng.tensor([1.5]))


def test_normal_is_reparametrised_as_torch():
    mean, std = ng.tensor([0.0, 10.0], requires_grad=True), ng.tensor([1.0, 2.0], requires_grad=True)
    ng.manual_seed(0)
    out = ng.normal(mean, std)
    out.sum().backward()
    eps = (_np(out) - np.array([0.0, 10.0])) / np.array([1.0, 2.0])
    _close(mean.grad, np.ones(2, dtype=np.float32))
    np.testing.assert_allclose(_np(std.grad), eps, rtol=1e-5)  # ∂(mean + std·ε)/∂std = ε, as torch's
    ng.manual_seed(0)
    _close(ng.normal(ng.tensor([0.0, 10.0]), ng.tensor([1.0, 2.0])), out.detach())
    draws = _np(ng.normal(2.0, 3.0, size=(50000,), generator=np.random.default_rng(1)))
    assert draws.dtype == np.float32 and abs(draws.mean() - 2.0) < 0.05 and abs(draws.std() - 3.0) < 0.05
    with pytest.raises(TypeError, match="normal: with a number mean and std give the shape"):
        ng.normal(0.0, 1.0)


def test_multinomial_frequencies_and_rules_match_torch():
    w = np.array([1.0, 2.0, 7.0])
    gen = np.random.default_rng(2)
    with_rep = _np(ng.multinomial(ng.tensor(np.tile(w, (20000, 1))), 2, True, generator=gen))
    np.testing.assert_allclose(np.bincount(with_rep.ravel(), minlength=3) / with_rep.size, w / w.sum(), atol=0.01)
    without = _np(ng.multinomial(ng.tensor(np.tile(w, (20000, 1))), 2, generator=gen))
    assert (without[:, 0] != without[:, 1]).all() and without.dtype == np.int64
    torch.manual_seed(0)
    want = torch.multinomial(torch.tensor(np.tile(w, (200000, 1))), 2)[:, 1].bincount(minlength=3).double() / 200000
    np.testing.assert_allclose(np.bincount(without[:, 1], minlength=3) / 20000, want.numpy(), atol=0.015)
    with pytest.raises(ValueError, match="multinomial: cannot draw 3 samples without replacement"):
        ng.multinomial(ng.tensor([1.0, 0.0, 1.0]), 3)


# --- no NumPy warnings at kinks ----------------------------------------------------------------------------------
_KINKS = {
    "sqrt": (lambda x: x.sqrt().sum(), [0.0, 1.0]),
    "abs": (lambda x: abs(x).sum(), [0.0, 1.0]),
    "norm": (lambda x: ng.linalg.norm(x), [0.0, 0.0]),
    "norm_p3": (lambda x: ng.linalg.norm(x, 3), [0.0, 0.0]),
    "pow_half": (lambda x: (x**0.5).sum(), [0.0, 1.0]),
    "pow_zero_base": (lambda x: (ng.tensor([0.0, 2.0], dtype="float64") ** x).sum(), [1.0, 1.0]),
    "log": (lambda x: x.log().sum(), [0.0, 1.0]),
    "log2": (lambda x: x.log2().sum(), [0.0, 1.0]),
    "log10": (lambda x: x.log10().sum(), [0.0, 1.0]),
    "log1p": (lambda x: x.log1p().sum(), [-1.0, 1.0]),
    "rsqrt": (lambda x: ng.rsqrt(x).sum(), [0.0, 1.0]),
    "reciprocal": (lambda x: x.reciprocal().sum(), [0.0, 1.0]),
    "arcsin": (lambda x: x.arcsin().sum(), [1.0, 0.0]),
    "arccos": (lambda x: x.arccos().sum(), [1.0, 0.0]),
    "arctanh": (lambda x: x.arctanh().sum(), [1.0, 0.0]),
    "arccosh": (lambda x: x.arccosh().sum(), [1.0, 2.0]),
    "hypot": (lambda x: ng.hypot(x, x).sum(), [0.0, 1.0]),
    "sqrt_relu": (lambda x: ng.sqrt(ng.relu(x)).sum(), [-1.0, 1.0]),
    "erfinv": (lambda x: x.erfinv().sum(), [1.0, 0.0]),
    "logsumexp": (lambda x: ng.logsumexp(x), [-np.inf, -np.inf]),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(_KINKS))
def test_no_numpy_warning_at_kinks_and_torch_values(name, dtype):
    f, x = _KINKS[name]
    x = np.array(x, dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = ng.grad(f)(x)
        _, tangent = ng.jvp(f, (x,), (np.ones_like(x),))
    tf = {"norm": lambda t: torch.linalg.vector_norm(t), "norm_p3": lambda t: torch.linalg.vector_norm(t, 3)}.get(name)
    if tf is None:  # the same expression on torch tensors, through the method names torch shares
        tf = {
            "log1p": lambda t: t.log1p().sum(),
            "arcsin": lambda t: t.arcsin().sum(),
            "arccos": lambda t: t.arccos().sum(),
            "arctanh": lambda t: t.arctanh().sum(),
            "arccosh": lambda t: t.arccosh().sum(),
            "hypot": lambda t: torch.hypot(t, t).sum(),
            "sqrt_relu": lambda t: torch.sqrt(torch.relu(t)).sum(),
            "logsumexp": lambda t: torch.logsumexp(t, 0),
            "rsqrt": lambda t: torch.rsqrt(t).sum(),
            "pow_zero_base": lambda t: (torch.tensor([0.0, 2.0], dtype=torch.float64) ** t).sum(),
        }.get(name, f)
    want = t_grad(tf)(torch.tensor(x))
    _close(g, want, 1e-6)
