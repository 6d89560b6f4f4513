"""PyTorch's semantics where a review found nablagrad departing from them: the (values, indices)
of max/min/median/sort along a dim, split sizes, std/var's positional ``unbiased``, flip of
several dims, solve's batched vectors, svd's full default, PyTorch's names (cat, index_select,
scatter, logcumsumexp, narrow, unbind …) and the errors of bad arguments — each against torch,
values and gradients in float64."""

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(10)
X = RNG.permutation(24).reshape(2, 3, 4) / 7.0  # distinct entries: no ties
M = RNG.standard_normal((3, 5))


def _flat(out):
    return [o for item in out for o in _flat(item)] if isinstance(out, tuple | list) else [out]


def _same(f_ng, f_torch, *arrays):
    """f's outputs (values and integer indices) and the gradient of a random weighting of its
    float outputs, in float64, as torch's."""
    leaves = [ng.tensor(a, requires_grad=True) for a in arrays]
    tleaves = [torch.tensor(a, requires_grad=True) for a in arrays]
    ours, ref = _flat(f_ng(*leaves)), _flat(f_torch(*tleaves))
    assert len(ours) == len(ref)
    loss, tloss = 0.0, 0.0
    for k, (o, r) in enumerate(zip(ours, ref)):
        assert o.shape == tuple(r.shape), (k, o.shape, tuple(r.shape))
        assert o.dtype == np.dtype(str(r.dtype).replace("torch.", "")), (k, o.dtype, r.dtype)
        np.testing.assert_allclose(o.numpy(), r.detach().numpy(), rtol=1e-12, atol=1e-14)
        if r.dtype.is_floating_point:
            w = np.random.default_rng(k).standard_normal(o.shape)
            loss, tloss = loss + (o * w).sum(), tloss + (r * torch.tensor(w)).sum()
    loss.backward()
    tloss.backward()
    for leaf, t in zip(leaves, tleaves):
        np.testing.assert_allclose(leaf.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-14)


# --- 1. max/min/median/sort: PyTorch's spelling gives (values, indices) ---------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda L, x: x.max(1),
        lambda L, x: x.max(dim=-1),
        lambda L, x: x.max(0, True),
        lambda L, x: x.min(dim=2, keepdim=True),
        lambda L, x: L.max(x, dim=1),
        lambda L, x: L.min(x, dim=0),
        lambda L, x: x.median(1),
        lambda L, x: L.median(x, dim=-1, keepdim=True),
        lambda L, x: x.sort(),
        lambda L, x: x.sort(0, descending=True),
        lambda L, x: L.sort(x, dim=1),
        lambda L, x: x.topk(2, dim=1),
    ],
)
def test_selections_along_a_dim_return_values_and_indices_as_torch(call):
    _same(lambda x: call(ng, x), lambda x: call(torch, x), X)
    out = call(ng, ng.tensor(X))
    values, indices = out  # unpacks, and has the names
    assert out.values is values and out.indices is indices and indices.dtype == np.int64


def test_numpy_spelling_keeps_returning_the_values():
    x = ng.tensor(X)
    for out, ref in [
        (x.max(), X.max()),
        (x.max(axis=1), X.max(1)),
        (ng.max(x, 1), X.max(1)),
        (x.min(axis=(0, 2), keepdims=True), X.min((0, 2), keepdims=True)),
        (ng.median(x, 0), np.sort(X, 0)[0]),
        (ng.sort(x), np.sort(X)),
        (ng.sort(x, 0), np.sort(X, 0)),
        (x.sort(axis=1), np.sort(X, 1)),
    ]:
        assert isinstance(out, ng.Tensor)
        np.testing.assert_array_equal(out.numpy(), ref)


def test_max_dim_gives_the_gradient_to_the_returned_index_only_at_ties():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    _same(lambda a: a.max(1), lambda a: a.max(1), x)
    _same(lambda a: a.min(dim=0), lambda a: a.min(dim=0), x)
    leaf = ng.tensor(x, requires_grad=True)
    leaf.amax(1).sum().backward()  # amax (and max with axis=) shares ties, as torch.amax
    np.testing.assert_array_equal(leaf.grad.numpy(), [[0, 0.5, 0.5], [0.5, 0.5, 0]])


def test_max_of_another_tensor_is_the_elementwise_maximum():
    y = RNG.standard_normal(X.shape)
    _same(lambda a, b: a.max(b), lambda a, b: a.max(b), X, y)
    _same(lambda a, b: ng.min(a, b), lambda a, b: torch.min(a, b), X, y)


def test_max_dim_of_a_0d_tensor_and_refusals():
    _same(lambda a: a.max(0), lambda a: a.max(0), np.array(2.5))
    with pytest.raises(TypeError, match="max: dim must be one int"):
        ng.tensor(X).max(dim=(0, 1))
    with pytest.raises(TypeError, match="both axis=1 and dim=1"):
        ng.max(ng.tensor(X), axis=1, dim=1)
    with pytest.raises(IndexError, match="max: dim 1 of the tensor of shape .* is empty"):
        ng.zeros((2, 0)).max(1)


def test_selections_under_vmap_match_torch():
    ours = ng.vmap(lambda a: a.max(0).values + a.median(1).values.sum())(X)
    ref = torch.func.vmap(lambda a: a.max(0).values + a.median(1).values.sum())(torch.tensor(X))
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-12)


# --- 2. split: PyTorch's sizes for the method and dim=, NumPy's sections for the function -----------
@pytest.mark.parametrize(
    "call",
    [
        lambda L, x: x.split(2),
        lambda L, x: x.split(2, 1),
        lambda L, x: x.split([1, 4], dim=1),
        lambda L, x: L.split(x, 2, dim=1),
        lambda L, x: x.split(5, dim=1),
        lambda L, x: x.chunk(2, dim=1),
        lambda L, x: x.split(split_size=2, dim=1),
        lambda L, x: x.chunk(chunks=3, dim=1),
    ],
)
def test_split_follows_torch(call):
    _same(lambda x: call(ng, x), lambda x: call(torch, x), M)
    assert isinstance(call(ng, ng.tensor(M)), tuple)  # a tuple, as torch's


def test_function_split_keeps_numpy_sections():
    pieces = ng.split(ng.tensor(np.arange(6.0)), 2)
    assert [p.shape for p in pieces] == [(3,), (3,)]
    assert [p.shape for p in ng.split(ng.tensor(M), [1, 2], 1)] == [(3, 1), (3, 1), (3, 3)]


def test_split_and_chunk_errors_name_the_op_and_the_fix():
    with pytest.raises(ValueError, match=r"split: sizes \[1, 1\] do not add up to 5"):
        ng.tensor(M).split([1, 1], dim=1)
    with pytest.raises(ValueError, match="split: split_size must be a positive int"):
        ng.tensor(M).split(0)
    with pytest.raises(ValueError, match="chunk: chunks must be a positive int, got 0"):
        ng.tensor(M).chunk(0)


# --- 3. std/var: PyTorch's positional unbiased ------------------------------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda L, x: x.var(1, False),
        lambda L, x: x.std(1, False),
        lambda L, x: x.var(0, True, True),
        lambda L, x: L.std(x, 1, False, True),
        lambda L, x: x.var(False),
        lambda L, x: x.std(dim=1, correction=0),
        lambda L, x: x.var(dim=(0, 1), keepdim=True),
        lambda L, x: x.std(),
    ],
)
def test_std_var_take_torchs_positional_unbiased(call):
    _same(lambda x: call(ng, x), lambda x: call(torch, x), X)


def test_std_var_numpy_names_and_refusals():
    x = ng.tensor(X)
    np.testing.assert_allclose(ng.std(x, axis=1, ddof=0).numpy(), X.std(1), rtol=1e-12)
    np.testing.assert_allclose(x.var(axis=2, keepdims=True, ddof=1).numpy(), X.var(2, keepdims=True, ddof=1), rtol=1e-12)
    with pytest.raises(TypeError, match="var: the argument after dim is PyTorch's unbiased"):
        x.var(1, 0)
    with pytest.raises(TypeError, match="std: give one of correction=, unbiased= or ddof="):
        x.std(1, True, correction=0)


# --- 4. flip of several dims ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda L, x: x.flip(0, 2),
        lambda L, x: x.flip((0, 2)),
        lambda L, x: x.flip([1]),
        lambda L, x: x.flip(-1),
        lambda L, x: L.flip(x, dims=(0, 1)),
    ],
)
def test_flip_flips_every_dim_given(call):
    _same(lambda x: call(ng, x), lambda x: call(torch, x), X)


def test_function_flip_with_several_dims_and_numpys_all_axes():
    np.testing.assert_array_equal(ng.flip(ng.tensor(X), 0, 2).numpy(), X[::-1, :, ::-1])
    np.testing.assert_array_equal(ng.flip(ng.tensor(X)).numpy(), np.flip(X))


# --- 5, 6. solve's batched vectors and left=; svd's full default -----------------------------------------
A = RNG.standard_normal((2, 3, 3)) + 3 * np.eye(3)


@pytest.mark.parametrize(
    "b, left",
    [
        (RNG.standard_normal((2, 3)), True),  # B of shape A.shape[:-1]: a batch of vectors
        (RNG.standard_normal(3), True),
        (RNG.standard_normal((2, 3, 4)), True),
        (RNG.standard_normal((4, 1, 3, 2)), True),
        (RNG.standard_normal((2, 4, 3)), False),
    ],
)
def test_solve_follows_torchs_vector_rule_and_left(b, left):
    _same(lambda a, y: ng.linalg.solve(a, y, left=left), lambda a, y: torch.linalg.solve(a, y, left=left), A, b)


def test_svd_is_full_by_default_as_torch_and_numpy():
    tall = RNG.standard_normal((5, 3))
    u, s, vh = ng.linalg.svd(ng.tensor(tall))
    tu, ts, tvh = torch.linalg.svd(torch.tensor(tall))
    assert u.shape == tuple(tu.shape) == (5, 5) and vh.shape == tuple(tvh.shape) == (3, 3)
    np.testing.assert_allclose((u[:, :3] * s) @ vh, tall, atol=1e-12)
    assert ng.linalg.svd(ng.tensor(tall), full_matrices=False).U.shape == (5, 3)
    _same(lambda a: ng.linalg.svd(a)[1], lambda a: torch.linalg.svd(a)[1], tall)
    _same(ng.linalg.pinv, torch.linalg.pinv, tall)


# --- 7. PyTorch's names -------------------------------------------------------------------------------------
IDX = np.array([[0, 2, 1, 1, 0], [2, 2, 0, 1, 1]])


@pytest.mark.parametrize(
    "call",
    [
        lambda L, x: L.cat([x, x * 2], dim=1),
        lambda L, x: L.cat([x, x], 0),
        lambda L, x: x.index_select(1, L.tensor([0, 4, 4])),
        lambda L, x: L.index_select(x, 0, L.tensor([2, 0])),
        lambda L, x: x.scatter(0, L.tensor(IDX[:, :3]), x[:2, :3] * 3),
        lambda L, x: x.scatter(1, L.tensor(IDX[:, :2]), 7.0),
        lambda L, x: L.scatter_add(x, 0, L.tensor(IDX), x[:2] * 2),
        lambda L, x: L.logcumsumexp(x, dim=1),
        lambda L, x: (x * 400).logcumsumexp(0),  # far apart: no overflow, no underflow to -inf
        lambda L, x: x.t(),
        lambda L, x: x[0].t(),
        lambda L, x: x[:1].expand_as(x),
        lambda L, x: x.reshape(15).unflatten(0, (3, -1)),
        lambda L, x: x.narrow(1, 1, 3),
        lambda L, x: x.narrow(0, -2, 2),
        lambda L, x: x.unbind(1),
        lambda L, x: L.transpose(x, 0, 1),
        lambda L, x: x.transpose(dim0=1, dim1=0),
        lambda L, x: x.reshape(3, 5, 1).permute(dims=(2, 0, 1)),
        lambda L, x: x.roll(shifts=(1, -2), dims=(0, 1)),
        lambda L, x: L.roll(x, shifts=2, dims=1),
        lambda L, x: x.tile(dims=(2, 1)),
        lambda L, x: L.tile(x, dims=(1, 2)),
        lambda L, x: x[:1].expand(size=(4, 5)),
        lambda L, x: x.pow(exponent=2),
        lambda L, x: L.pow(x, exponent=3),
    ],
)
def test_pytorch_names_give_pytorch_values_and_gradients(call):
    _same(lambda x: call(ng, x), lambda x: call(torch, x), M)


def test_dtype_methods_as_torch():
    x = ng.tensor([1.7, -2.2, 0.0])
    t = torch.tensor([1.7, -2.2, 0.0])
    for name in ("long", "int", "bool"):
        ours, ref = getattr(x, name)(), getattr(t, name)()
        assert ours.dtype == np.dtype(str(ref.dtype).replace("torch.", ""))
        np.testing.assert_array_equal(ours.numpy(), ref.numpy())


def test_numpy_transpose_and_cat_is_concatenate():
    assert ng.cat is ng.concatenate
    np.testing.assert_array_equal(ng.transpose(ng.tensor(X), (2, 0, 1)).numpy(), X.transpose(2, 0, 1))
    np.testing.assert_array_equal(ng.tensor(X).transpose().numpy(), X.T)


# --- 8. errors that name the op, the shapes and the fix ------------------------------------------------------------
@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda x: ng.gather(x, 1, ng.tensor([[0, 5]])), IndexError, r"gather: index 5 is out of range for dim 1 of size 5"),
        (lambda x: ng.scatter_add(x, 0, ng.tensor([[3]]), x), IndexError, r"scatter_add: index 3 is out of range for dim 0"),
        (lambda x: x.index_select(0, ng.tensor([-4])), IndexError, r"index_select: index -4 is out of range"),
        (lambda x: x.narrow(1, 4, 2), IndexError, r"narrow: start 4 and length 2 do not fit dim 1 of size 5"),
        (lambda x: x.unflatten(1, (2, 2)), ValueError, r"unflatten: sizes \(2, 2\) do not multiply to 5"),
        (lambda x: ng.tensordot(x, x, axes=5), ValueError, r"tensordot: axes=5"),
        (lambda x: x.tril(0.5), TypeError, r"tril: the diagonal must be an int, got 0.5"),
        (lambda x: ng.diff(x, n=-1), ValueError, r"diff: n must be a non-negative int, got -1"),
    ],
)
def test_bad_arguments_raise_naming_the_op(call, error, message):
    with pytest.raises(error, match=message):
        call(ng.tensor(M))


# --- PyTorch's remaining spellings: tile(2, 1), reshape(shape=), diff(prepend=, append=) ---------------
@pytest.mark.numpy_only("compares with torch on host arrays")
@pytest.mark.parametrize(
    "f_ng, f_torch",
    [
        (lambda x: x.tile(2, 1), lambda x: x.tile(2, 1)),
        (lambda x: x.tile(3), lambda x: x.tile(3)),
        (lambda x: x.reshape(shape=(3, 2)), lambda x: x.reshape(shape=(3, 2))),
        (
            lambda x: ng.diff(x, prepend=ng.tensor(np.zeros((2, 1)))),
            lambda x: torch.diff(x, prepend=torch.zeros(2, 1, dtype=torch.float64)),
        ),
        (
            lambda x: ng.diff(x, n=2, dim=1, append=ng.tensor(np.ones((2, 2)))),
            lambda x: torch.diff(x, n=2, dim=1, append=torch.ones(2, 2, dtype=torch.float64)),
        ),
    ],
    ids=["tile(2, 1)", "tile(3)", "reshape(shape=)", "diff(prepend=)", "diff(n=2, append=)"],
)
def test_more_pytorch_spellings(f_ng, f_torch):
    _same(f_ng, f_torch, np.random.default_rng(3).standard_normal((2, 3)))


def test_diff_prepend_of_a_number_is_numpys():
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(ng.diff(ng.tensor(x), append=5.0, dim=0).numpy(), np.diff(x, append=5.0, axis=0))
    with pytest.raises(ValueError, match="prepend/append of shape"):
        ng.diff(ng.tensor(x), prepend=ng.tensor(np.zeros((3, 1))))
