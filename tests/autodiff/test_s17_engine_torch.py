"""The seventeenth session's engine probes against torch 2.13 / torch.func / JAX: casts to integers cut the
graph (x.long() has no gradient), max/min at NaN give their gradient to the NaN entries, PyTorch's kthvalue,
cummax/cummin, Tensor.unfold, diag_embed, nonzero/argwhere, aminmax, std_mean/var_mean, isclose,
broadcast_tensors, the *_like and randperm factories, ``^`` and the reflected ``& | ^``, the dtype names, and
bool() of a many-valued tensor."""

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")
from torch.func import jacfwd as t_jacfwd  # noqa: E402
from torch.func import jacrev as t_jacrev  # noqa: E402
from torch.func import jvp as t_jvp  # noqa: E402
from torch.func import vmap as t_vmap  # noqa: E402

NAN = float("nan")


def _t(a, requires_grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def _np(a):
    if isinstance(a, torch.Tensor):
        return a.detach().numpy()
    return np.asarray(a.cpu().numpy() if isinstance(a, ng.Tensor) else a)


def _close(a, b, tol=1e-10):
    a, b = _np(a), _np(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol, equal_nan=True)


def _torch_grad(f, x):
    x = _t(x, True)
    f(x).backward()
    return x.grad


# --- casts to integers have no derivative -------------------------------------------------------------------
@pytest.mark.parametrize("cast", ["long", "int", "bool"])
def test_integer_cast_does_not_require_grad(cast):
    x, tx = ng.tensor([1.5, -2.0], requires_grad=True), torch.tensor([1.5, -2.0], requires_grad=True)
    assert getattr(x, cast)().requires_grad is getattr(tx, cast)().requires_grad is False
    with pytest.raises(RuntimeError):  # as torch: "element 0 of tensors does not require grad"
        getattr(x, cast)().sum().backward()


def test_step_function_through_an_integer_cast_has_zero_derivative():
    x = np.array([2.5, 1.2, -0.7])

    def f(lib):
        return lambda z: (z.long().to(z.dtype) * z).sum()

    _close(ng.grad(f(ng))(x), _torch_grad(f(torch), x))
    _close(ng.jvp(f(ng), (x,), (np.ones(3),))[1], t_jvp(f(torch), (_t(x),), (torch.ones(3, dtype=torch.float64),))[1])
    _close(ng.jacfwd(lambda z: z.long().to(z.dtype) * z)(x), t_jacfwd(lambda z: z.long().to(z.dtype) * z)(_t(x)))
    _close(ng.hessian(f(ng))(x), np.zeros((3, 3)))
    per_row = ng.vmap(ng.grad(f(ng)))(np.stack([x, -x]))
    _close(per_row, t_vmap(torch.func.grad(f(torch)))(_t(np.stack([x, -x]))))


def test_float_to_float_cast_still_differentiates():
    x = np.array([0.5, 2.0])
    _close(ng.grad(lambda z: (z.float().double() ** 2).sum())(x), 2 * x.astype(np.float32).astype(np.float64), 1e-6)


# --- max/min at NaN -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("which", ["max", "min"])
def test_max_of_all_with_nan_gives_the_gradient_to_the_nans(which):
    x = [NAN, 1.0, NAN, 0.5]
    got = ng.grad(lambda z: getattr(z, which)())(np.array(x))
    _close(got, _torch_grad(lambda z: getattr(z, which)(), x))  # [0.5, 0, 0.5, 0]
    # amax too (torch's amax gives nan here: max's rule is the finite one, the same reduction)
    _close(ng.grad(lambda z: z.amax())(np.array(x)), got)
    tangent = ng.jvp(lambda z: getattr(z, which)(), (np.array(x),), (np.array([1.0, 2.0, 3.0, 4.0]),))[1]
    _close(tangent, 2.0)


# --- kthvalue, cummax, cummin ---------------------------------------------------------------------------------
@pytest.mark.parametrize("k, dim, keepdim", [(1, 1, False), (2, 1, True), (3, 0, False), (2, -1, False)])
def test_kthvalue_matches_torch(k, dim, keepdim):
    x = np.random.default_rng(0).standard_normal((3, 4))
    got, want = ng.tensor(x).kthvalue(k, dim, keepdim), _t(x).kthvalue(k, dim, keepdim)
    _close(got.values, want.values)
    _close(got.indices, want.indices)
    assert got.indices.dtype == np.int64
    g = ng.grad(lambda z: (ng.kthvalue(z, k, dim, keepdim).values ** 2).sum())(x)
    _close(g, _torch_grad(lambda z: (torch.kthvalue(z, k, dim, keepdim).values ** 2).sum(), x))


def test_kthvalue_refuses_k_out_of_range():
    with pytest.raises(IndexError, match="kthvalue: k=3 is out of range"):
        ng.tensor([1.0, 2.0]).kthvalue(3)


@pytest.mark.parametrize("name", ["cummax", "cummin"])
@pytest.mark.parametrize(
    "row", [[1.0, 1.0, 1.0], [1.0, 3.0, 3.0, 2.0, 3.0], [NAN, 1.0, NAN, 2.0], [1.0, NAN, 0.0, NAN], [2.0, 1.0, 2.0]]
)
def test_cummax_cummin_values_and_indices_match_torch_at_ties_and_nan(name, row):
    got, want = getattr(ng, name)(ng.tensor(row, dtype="float64"), 0), getattr(torch, name)(_t(row), 0)
    _close(got.values, want.values)
    np.testing.assert_array_equal(_np(got.indices), _np(want.indices))


@pytest.mark.parametrize("name", ["cummax", "cummin"])
def test_cummax_cummin_gradients_and_transforms_match_torch(name):
    x = np.random.default_rng(1).standard_normal((3, 5))
    x[0, 2] = x[0, 1]  # a tie

    def f(lib):
        return lambda z: getattr(lib, name)(z, 1).values

    _close(ng.grad(lambda z: (f(ng)(z) ** 2).sum())(x), _torch_grad(lambda z: (f(torch)(z) ** 2).sum(), x))
    _close(ng.jacfwd(f(ng))(x), t_jacfwd(f(torch))(_t(x)))
    _close(ng.jacrev(f(ng))(x), t_jacrev(f(torch))(_t(x)))
    _close(ng.vmap(lambda r: getattr(ng, name)(r, 0).values)(x), t_vmap(lambda r: getattr(torch, name)(r, 0).values)(_t(x)))
    got = getattr(ng.tensor(x), name)(dim=0)  # the method, along another dim
    want = getattr(_t(x), name)(dim=0)
    _close(got.values, want.values)
    np.testing.assert_array_equal(_np(got.indices), _np(want.indices))


def test_cummax_of_integers_bools_and_0d_match_torch():
    for data in ([3, 1, 4, 1, 5], [True, False, True]):
        got, want = ng.cummax(ng.tensor(data), 0), torch.cummax(torch.tensor(data), 0)
        np.testing.assert_array_equal(_np(got.values), want.values.numpy())
        np.testing.assert_array_equal(_np(got.indices), want.indices.numpy())
    got = ng.cummin(ng.tensor(3.0), 0)
    assert got.values.shape == () and int(got.indices.item()) == 0


# --- unfold, diag_embed ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("args", [(1, 2, 1), (1, 2, 2), (0, 1, 1), (1, 3, 1), (-1, 1, 3), (0, 2, 1), (1, 0, 1)])
def test_tensor_unfold_matches_torch(args):
    x = np.random.default_rng(2).standard_normal((2, 5))
    _close(ng.tensor(x).unfold(*args), _t(x).unfold(*args))
    g = ng.grad(lambda z: (z.unfold(*args) ** 3).sum())(x)  # overlapping windows accumulate
    _close(g, _torch_grad(lambda z: (z.unfold(*args) ** 3).sum(), x))


def test_unfold_refuses_a_window_longer_than_the_dim():
    with pytest.raises(ValueError, match="unfold: size 4 exceeds the size 3"):
        ng.ones(3).unfold(0, 4, 1)


@pytest.mark.parametrize("offset, dim1, dim2", [(0, -2, -1), (1, -2, -1), (-2, -2, -1), (0, 0, 2), (1, 2, 0)])
def test_diag_embed_matches_torch(offset, dim1, dim2):
    x = np.random.default_rng(3).standard_normal((2, 3))
    _close(ng.diag_embed(x, offset, dim1, dim2), torch.diag_embed(_t(x), offset, dim1, dim2))
    w = np.random.default_rng(4).standard_normal(tuple(torch.diag_embed(_t(x), offset, dim1, dim2).shape))
    g = ng.grad(lambda z: (ng.diag_embed(z, offset, dim1, dim2) * w).sum())(x)
    _close(g, _torch_grad(lambda z: (torch.diag_embed(z, offset, dim1, dim2) * _t(w)).sum(), x))


def test_diag_embed_keeps_infinities_off_the_diagonal_out():
    out = ng.tensor([np.inf, 1.0]).diag_embed()
    _close(out, torch.diag_embed(torch.tensor([np.inf, 1.0], dtype=torch.float32)).double(), 0)


# --- nonzero, argwhere, aminmax, std_mean, var_mean, isclose, broadcast_tensors ---------------------------------
@pytest.mark.parametrize("data", [[[0.0, 1.0, 2.0], [3.0, 0.0, NAN]], [0.0, 0.0], 5.0, 0.0])
def test_nonzero_and_argwhere_match_torch(data):
    x, tx = ng.tensor(data), torch.tensor(data)
    for got, want in ((ng.nonzero(x), torch.nonzero(tx)), (x.argwhere(), tx.argwhere()), (x.nonzero(), tx.nonzero())):
        np.testing.assert_array_equal(_np(got), want.numpy())
        assert got.dtype == np.int64
    got, want = ng.nonzero(x, as_tuple=True), torch.nonzero(tx, as_tuple=True)
    assert len(got) == len(want)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(_np(a), b.numpy())


def test_aminmax_matches_torch_with_gradients():
    x = np.array([[1.0, 3.0, 3.0], [0.0, -1.0, 2.0]])
    for kw in ({}, {"dim": 1}, {"dim": 0, "keepdim": True}):
        got, want = ng.aminmax(ng.tensor(x), **kw), torch.aminmax(_t(x), **kw)
        _close(got.min, want.min)
        _close(got.max, want.max)
        g = ng.grad(lambda z, kw=kw: (ng.aminmax(z, **kw).max * 2 + ng.aminmax(z, **kw).min).sum())(x)
        # torch's aminmax has no backward for ties split; amax/amin are its documented equals
        want_g = _torch_grad(lambda z, kw=kw: (z.amax(**kw) * 2 + z.amin(**kw)).sum(), x)
        _close(g, want_g)


@pytest.mark.parametrize("name", ["std_mean", "var_mean"])
@pytest.mark.parametrize("args, kw", [((), {}), ((1,), {}), ((0,), {"correction": 0}), ((1,), {"keepdim": True})])
def test_std_mean_var_mean_match_torch(name, args, kw):
    x = np.random.default_rng(5).standard_normal((3, 4))
    got, want = getattr(ng, name)(ng.tensor(x), *args, **kw), getattr(torch, name)(_t(x), *args, **kw)
    _close(got[0], want[0])
    _close(got[1], want[1])
    g = ng.grad(lambda z: sum(p.sum() for p in getattr(ng, name)(z, *args, **kw)))(x)
    _close(g, _torch_grad(lambda z: sum(p.sum() for p in getattr(torch, name)(z, *args, **kw)), x))


@pytest.mark.parametrize("equal_nan", [False, True])
def test_isclose_matches_torch_at_infinities_and_nan(equal_nan):
    a = [1.0, np.inf, NAN, 1e-9, -np.inf, 2.0, 1.0]
    b = [1.0 + 1e-7, np.inf, NAN, 0.0, np.inf, np.inf, 1.1]
    got = ng.isclose(ng.tensor(a, dtype="float64"), ng.tensor(b, dtype="float64"), equal_nan=equal_nan)
    np.testing.assert_array_equal(_np(got), torch.isclose(_t(a), _t(b), equal_nan=equal_nan).numpy())
    got = ng.tensor([1.0, 2.0]).isclose(ng.tensor([1.0, 2.001]), atol=0.01)
    np.testing.assert_array_equal(_np(got), torch.tensor([1.0, 2.0]).isclose(torch.tensor([1.0, 2.001]), atol=0.01))


def test_broadcast_tensors_shapes_and_gradients_match_torch():
    a, b = np.arange(3.0).reshape(3, 1), np.arange(4.0)
    got = ng.broadcast_tensors(ng.tensor(a), ng.tensor(b))
    want = torch.broadcast_tensors(_t(a), _t(b))
    for g, w in zip(got, want):
        _close(g, w)
    grads = ng.grad(lambda x, y: (ng.broadcast_tensors(x, y)[0] * ng.broadcast_tensors(x, y)[1]).sum(), argnums=(0, 1))(a, b)
    ta, tb = _t(a, True), _t(b, True)
    (torch.broadcast_tensors(ta, tb)[0] * torch.broadcast_tensors(ta, tb)[1]).sum().backward()
    _close(grads[0], ta.grad)
    _close(grads[1], tb.grad)
    with pytest.raises(ValueError, match="broadcast_tensors"):
        ng.broadcast_tensors(ng.ones(2), ng.ones(3))


# --- factories ----------------------------------------------------------------------------------------------
def test_like_factories_keep_shape_dtype_as_torch():
    x, tx = ng.tensor([[1.0, 2.0]], dtype="float64"), torch.tensor([[1.0, 2.0]], dtype=torch.float64)
    _close(ng.full_like(x, 7), torch.full_like(tx, 7))
    i = ng.full_like(ng.tensor([1, 2]), 2.5)  # an integer tensor stays integer (2), as torch
    np.testing.assert_array_equal(_np(i), torch.full_like(torch.tensor([1, 2]), 2.5).numpy())
    assert ng.empty_like(x).shape == tuple(torch.empty_like(tx).shape) and ng.empty_like(x).dtype == np.float64
    for f in (ng.rand_like, ng.randn_like):
        r = f(x)
        assert r.shape == (1, 2) and r.dtype == np.float64
        assert f(x, dtype="float32").dtype == np.float32
    with pytest.raises(TypeError, match="rand_like: draws floats"):
        ng.rand_like(ng.tensor([1, 2]))


def test_randperm_is_a_seeded_permutation():
    a, b = ng.randperm(10, seed=3), ng.randperm(10, seed=3)
    assert a.dtype == np.int64 and sorted(_np(a).tolist()) == list(range(10))
    np.testing.assert_array_equal(_np(a), _np(b))
    assert ng.randperm(0).shape == (0,)
    with pytest.raises(ValueError, match="randperm: n must be"):
        ng.randperm(-1)


# --- operators, dtype names, bool() ------------------------------------------------------------------------------
def test_xor_and_reflected_logical_operators_match_torch():
    a, b = [True, False, True], [True, True, False]
    na, ta = ng.tensor(a), torch.tensor(a)
    for got, want in (
        (na ^ ng.tensor(b), ta ^ torch.tensor(b)),
        (True & na, True & ta),
        (False | na, False | ta),
        (True ^ na, True ^ ta),
        (ng.tensor([5, 3]) ^ 1, torch.tensor([5, 3]) ^ 1),
        (6 ^ ng.tensor([5, 3]), 6 ^ torch.tensor([5, 3])),
    ):
        np.testing.assert_array_equal(_np(got), want.numpy())


@pytest.mark.numpy_only(reason="array-api-strict has no float16")
def test_dtype_names_as_torch():
    x = ng.tensor([1.5, -2.5])
    for name in ("int8", "int16", "int32", "int64", "uint8", "float16", "long", "short", "double", "half"):
        got = x.to(getattr(ng, name))
        want = torch.tensor([1.5, -2.5]).to(getattr(torch, name))
        assert got.dtype == str(want.dtype).removeprefix("torch.").replace("long", "int64")
        np.testing.assert_array_equal(_np(got).astype(np.float64), want.double().numpy())
    assert ng.zeros(2, dtype=ng.long).dtype == ng.int64


def test_bool_of_a_many_valued_tensor_is_ambiguous_as_torch():
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(ng.ones(2))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(torch.ones(2))
    assert bool(ng.ones(1, 1)) and not bool(ng.zeros(()))
