"""Issue 10, ops users reach for, the gaps a PyTorch user still met (session 18, job B), each against torch 2.13:
einsum's sublist form, tensor_split, nanquantile, renorm, adjoint; integer input to the decompositions
(the default float dtype, never NumPy's float64); empty inputs (pinv, logcumsumexp, median, aminmax);
PyTorch's empty ``dim=()`` (every dim) in nansum/nanmean/count_nonzero/var_mean/std_mean; bool diff (xor);
flip's repeated dims and repeat_interleave's output_size."""

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")
from torch.func import vmap as t_vmap  # noqa: E402

RNG = np.random.default_rng(1810)


def _np(a):
    if isinstance(a, torch.Tensor):
        return a.detach().numpy()
    return np.asarray(a.numpy() if isinstance(a, ng.Tensor) else a)


def _close(a, b, tol=1e-10):
    a, b = _np(a), _np(b)
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, b.shape, a.dtype, b.dtype)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol, equal_nan=True)


def _grads(f_ng, f_torch, x, tol=1e-10):
    """Value and the gradient of a random weighting of the output(s), nablagrad against torch."""
    a, t = ng.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, want = f_ng(a), f_torch(t)
    outs, wants = (out, want) if isinstance(want, tuple | list) else ((out,), (want,))
    assert len(outs) == len(wants)
    loss, loss_t = 0.0, 0.0
    for o, w in zip(outs, wants):
        _close(o, w, tol)
        weight = RNG.standard_normal(tuple(w.shape))
        loss, loss_t = loss + (o * ng.tensor(weight)).sum(), loss_t + (w * torch.tensor(weight)).sum()
    loss.backward()
    loss_t.backward()
    _close(a.grad, t.grad, tol)


# --- einsum's sublist form ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "shapes, sublists",
    [
        ([(2, 3), (3, 4)], [[0, 1], [1, 2], [0, 2]]),
        ([(2, 3), (3, 4)], [[0, 1], [1, 2]]),  # implicit output
        ([(3, 3)], [[0, 0]]),  # a trace
        ([(2, 3, 4), (2, 4, 5)], [[Ellipsis, 1, 2], [Ellipsis, 2, 3], [Ellipsis, 1, 3]]),
        ([(2, 3), (3,), (2,)], [[26, 51], [51], [26], []]),  # upper-case labels, a full contraction
    ],
)
def test_einsum_sublist_form_matches_torch(shapes, sublists):
    xs = [RNG.standard_normal(s) for s in shapes]
    a = [ng.tensor(x, requires_grad=True) for x in xs]
    t = [torch.tensor(x, requires_grad=True) for x in xs]
    args_ng = [v for pair in zip(a, sublists) for v in pair] + sublists[len(xs) :]
    args_t = [v for pair in zip(t, sublists) for v in pair] + sublists[len(xs) :]
    out, want = ng.einsum(*args_ng), torch.einsum(*args_t)
    _close(out, want)
    out.sin().sum().backward()
    want.sin().sum().backward()
    for x, y in zip(a, t):
        _close(x.grad, y.grad)


def test_einsum_sublist_errors_name_the_form():
    x = ng.tensor(np.ones((2, 3)))
    with pytest.raises(TypeError, match=r"einsum: in the sublist form .* got str"):
        ng.einsum(x, "ab")
    with pytest.raises(ValueError, match="einsum: a sublist label must be an int in 0..51 or Ellipsis, got 60"):
        ng.einsum(x, [0, 60])


# --- tensor_split -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "arg, dim",
    [(3, 0), (4, 1), (7, 1), ([1, 4], 1), ((1, 10), -1), ([4, 1], 1), ([-2, 3], 1), ([], 0), ("tensor1d", 1), ("tensor0d", 1)],
)
def test_tensor_split_matches_torch(arg, dim):
    x = RNG.standard_normal((3, 6))
    if arg == "tensor1d":
        arg_ng, arg_t = ng.tensor(np.array([1, 3])), torch.tensor([1, 3])
    elif arg == "tensor0d":
        arg_ng, arg_t = ng.tensor(np.array(4)), torch.tensor(4)
    else:
        arg_ng = arg_t = arg
    _grads(lambda a: ng.tensor_split(a, arg_ng, dim), lambda t: torch.tensor_split(t, arg_t, dim), x)
    _grads(lambda a: a.tensor_split(arg_ng, dim=dim), lambda t: t.tensor_split(arg_t, dim=dim), x)


def test_tensor_split_keywords_vmap_and_errors():
    x = RNG.standard_normal((4, 7))
    _close(ng.tensor(x).tensor_split(sections=3)[0], torch.tensor(x).tensor_split(sections=3)[0])
    _close(ng.tensor(x).tensor_split(indices=[1, 2], dim=1)[2], torch.tensor(x).tensor_split(indices=[1, 2], dim=1)[2])
    got = ng.vmap(lambda r: ng.tensor_split(r, 3)[1])(x)
    _close(got, t_vmap(lambda r: torch.tensor_split(r, 3)[1])(torch.tensor(x)))
    with pytest.raises(TypeError, match="tensor_split: give the sections or the indices once"):
        ng.tensor_split(x, 2, sections=2)
    with pytest.raises(TypeError, match="tensor_split: a tensor of sections or indices must be a 0-d or 1-D integer"):
        ng.tensor_split(x, ng.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="array_split: the number of sections must be positive"):
        ng.tensor_split(x, 0)


# --- nanquantile ------------------------------------------------------------------------------------------
def _with_nans():
    x = RNG.standard_normal((3, 5, 6))
    x[0, 0, :] = np.nan  # an all-NaN slice along the last dim
    x[1, 2, 3] = np.nan
    x[2, :, 1] = np.nan
    x[2, 1, :5] = np.nan  # one entry left
    return x


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
@pytest.mark.parametrize("q, kw", [(0.3, {}), (1.0, {"dim": 1}), (0.5, {"dim": -1, "keepdim": True}), ([0.1, 0.9], {"dim": 0})])
def test_nanquantile_matches_torch(interpolation, q, kw):
    x = _with_nans()
    a, t = ng.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out = ng.nanquantile(a, q, interpolation=interpolation, **kw)
    want = torch.nanquantile(t, torch.tensor(q, dtype=torch.float64), interpolation=interpolation, **kw)
    _close(out, want)
    weight = RNG.standard_normal(tuple(want.shape)) * ~np.isnan(_np(want))  # torch's gradient is NaN in NaN slices
    (out * ng.tensor(weight)).sum().backward()
    (want * torch.tensor(weight)).sum().backward()
    _close(a.grad, np.nan_to_num(_np(t.grad)))


def test_nanquantile_method_float32_vmap_jit_and_hessian():
    x = RNG.standard_normal((3, 4))
    x[1, :2] = np.nan
    x32 = x.astype(np.float32)
    _close(ng.tensor(x32).nanquantile(0.3, dim=1), torch.tensor(x32).nanquantile(0.3, dim=1), 1e-6)
    _close(ng.vmap(lambda r: ng.nanquantile(r, 0.4))(x), t_vmap(lambda r: torch.nanquantile(r, 0.4))(torch.tensor(x)))
    compiled = ng.jit(lambda z: ng.nanquantile(z, 0.5, dim=1))
    for row in range(3):  # NaNs elsewhere on each call: the ranks are recorded, not frozen at trace time
        y = RNG.standard_normal((3, 5))
        y[row, : row + 1] = np.nan
        _close(compiled(y), torch.nanquantile(torch.tensor(y), 0.5, dim=1))
    want = torch.autograd.functional.hessian(lambda z: torch.nanquantile(z, 0.3, dim=1).sin().sum(), torch.tensor(x))
    _close(ng.hessian(lambda z: ng.nanquantile(z, 0.3, dim=1).sin().sum())(x), np.nan_to_num(_np(want)))


# --- renorm, adjoint --------------------------------------------------------------------------------------
@pytest.mark.parametrize("p, dim, maxnorm", [(2, 0, 1.0), (1, 1, 2.0), (3.5, -1, 0.5), (2, 2, 100.0)])
def test_renorm_matches_torch(p, dim, maxnorm):
    x = RNG.standard_normal((3, 4, 5))
    _grads(lambda a: ng.renorm(a, p, dim, maxnorm), lambda t: torch.renorm(t, p, dim, maxnorm), x)
    _grads(lambda a: a.renorm(p, dim, maxnorm), lambda t: t.renorm(p, dim, maxnorm), x)


def test_adjoint_matches_torch():
    x = RNG.standard_normal((2, 3, 4))
    _grads(lambda a: a.adjoint(), lambda t: t.adjoint(), x)
    _close(ng.adjoint(x), torch.adjoint(torch.tensor(x)))


# --- integer input to the decompositions ------------------------------------------------------------------
@pytest.mark.parametrize("name", ["inv", "det", "slogdet", "cholesky", "eigh", "eigvalsh", "svd", "svdvals", "qr", "pinv"])
def test_integer_matrices_decompose_in_the_default_float_dtype(name):
    """torch refuses integer input; nablagrad computes it in the default float dtype (float32), as its other
    integer ops do, never NumPy's float64."""
    m = np.array([[4, 1, 0], [1, 3, 1], [0, 1, 2]])
    got = getattr(ng.linalg, name)(ng.tensor(m))
    want = getattr(torch.linalg, name)(torch.tensor(m, dtype=torch.float32))
    for g, w in zip(got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
        _close(g, w, 1e-5)


def test_integer_solve_and_norms_give_floats():
    a, b = np.array([[3, 1], [1, 2]]), np.array([9, 8])
    want = torch.linalg.solve(torch.tensor(a).float(), torch.tensor(b).float())
    _close(ng.linalg.solve(ng.tensor(a), ng.tensor(b)), want, 1e-6)
    x = ng.tensor([[1, -2], [3, 4]])
    for got, want in [(x.norm(1), 10.0), (ng.norm(x, float("inf")), 4.0), (ng.linalg.norm(x, 1), 6.0)]:
        assert got.dtype == np.float32 and got.item() == want


# --- empty inputs -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(2, 0, 0), (0, 3), (3, 0), (2, 0, 4)])
def test_pinv_of_empty_matrices_matches_torch(shape):
    _grads(ng.linalg.pinv, torch.linalg.pinv, np.zeros(shape))


@pytest.mark.parametrize("shape, dim", [((0, 3), 0), ((2, 0), 1), ((2, 0), 0)])
def test_logcumsumexp_of_empty_matches_torch(shape, dim):
    _grads(lambda a: ng.logcumsumexp(a, dim), lambda t: torch.logcumsumexp(t, dim), np.zeros(shape))


@pytest.mark.parametrize("name", ["median", "nanmedian"])
def test_median_of_nothing_is_nan_and_of_an_empty_dim_raises(name):
    _grads(getattr(ng, name), getattr(torch, name), np.zeros((2, 0)))
    with pytest.raises(IndexError, match=f"{name}: dim 1 of the tensor of shape \\(2, 0\\) is empty"):
        getattr(ng, name)(ng.tensor(np.zeros((2, 0))), dim=1)
    with pytest.raises(ValueError, match=f"{name}: the int64 tensor is empty"):
        getattr(ng, name)(ng.tensor(np.zeros((2, 0), dtype=np.int64)))


def test_aminmax_of_an_empty_batch_matches_torch():
    got = ng.aminmax(ng.tensor(np.zeros((2, 0, 3))), dim=-1, keepdim=True)
    want = torch.aminmax(torch.zeros((2, 0, 3), dtype=torch.float64), dim=-1, keepdim=True)
    _close(got.min, want.min)
    _close(got.max, want.max)
    with pytest.raises(ValueError, match=r"aminmax: the tensor of shape \(2, 0, 3\) is empty along dim 1"):
        ng.aminmax(ng.tensor(np.zeros((2, 0, 3))), dim=1)


# --- dim=() is every dim (PyTorch) ------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["nansum", "nanmean", "count_nonzero", "var_mean", "std_mean"])
def test_empty_dim_reduces_every_dim_as_torch(name):
    x = RNG.standard_normal((2, 3, 4))
    x[0, 1, 2] = np.nan if name.startswith("nan") else 0.0
    if name == "count_nonzero":
        _close(ng.count_nonzero(ng.tensor(x), dim=()), torch.count_nonzero(torch.tensor(x), dim=()))
        return
    got, want = getattr(ng, name)(ng.tensor(x), dim=()), getattr(torch, name)(torch.tensor(x), dim=())
    for o, w in zip(got, want) if isinstance(want, tuple) else [(got, want)]:
        _close(o, w)
    # the gradient against torch's over every dim spelled None: torch's own through dim=() is ±inf for std/var
    _grads(lambda a: getattr(ng, name)(a, dim=()), lambda t: getattr(torch, name)(t, dim=None), x)


# --- diff of bools, flip, repeat_interleave ---------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 2])
def test_diff_of_bools_is_xor_as_torch(n):
    x = np.array([[True, False, False, True], [True, True, False, False]])
    _close(ng.diff(ng.tensor(x), n=n), torch.diff(torch.tensor(x), n=n))
    got = ng.diff(ng.tensor(x), dim=1, prepend=ng.tensor(x[:, :1]), append=ng.tensor(np.ones((2, 1), bool)))
    _close(got, torch.diff(torch.tensor(x), dim=1, prepend=torch.tensor(x[:, :1]), append=torch.ones(2, 1, dtype=bool)))


def test_flip_refuses_a_repeated_dim_and_changes_nothing():
    x = ng.tensor(np.arange(6.0).reshape(2, 3))
    with pytest.raises(ValueError, match=r"flip: a dim appears more than once in dims=\(0, -2\)"):
        x.flip(0, -2)
    with pytest.raises(RuntimeError):
        torch.zeros(2, 3).flip(0, -2)
    _close(x, np.arange(6.0).reshape(2, 3))


def test_repeat_interleave_output_size():
    x = RNG.standard_normal((2, 3))
    counts = np.array([1, 2, 0])
    _close(
        ng.repeat_interleave(ng.tensor(x), ng.tensor(counts), dim=1, output_size=3),
        torch.repeat_interleave(torch.tensor(x), torch.tensor(counts), dim=1, output_size=3),
    )
    with pytest.raises(ValueError, match="repeat_interleave: output_size=6 but the repeats give 12 entries"):
        ng.tensor(x).repeat_interleave(2, output_size=6)
