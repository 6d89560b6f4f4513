"""vmap over indexing with batched integer indices — ``x[i]``, mixed index tuples, gather, index_select,
take, take_along_dim, scatter, scatter_add, index_update (torch's index_put), setitem, masked_fill, where —
against torch.func.vmap / grad / jacrev / jvp (float64, values and shapes exactly), nested and composed.

A batched index used to be read as one big index array: ``vmap(lambda i: x[i])(idx)`` gave the
cross product (3, 3, 3) instead of torch's rows (3, 3)."""

import numpy as np
import pytest
import torch
import torch.func as tf

import nablagrad as ng

R = np.random.default_rng(15)
X43 = R.standard_normal((4, 3))
XB = R.standard_normal((5, 4, 3))  # five examples of a (4, 3) tensor
I5 = R.integers(0, 4, (5,))  # one row index per example
I52 = R.integers(0, 4, (5, 2))  # two row indices per example
J52 = R.integers(0, 3, (5, 2))  # two column indices per example
G542 = R.integers(0, 3, (5, 4, 2))  # a gather index per example
PERM542 = np.argsort(R.random((5, 4, 3)), axis=-1)[..., :2]  # distinct columns per row (scatter writes once)
SRC542 = R.standard_normal((5, 4, 2))
Y = R.standard_normal((2, 3, 4))
YB = R.standard_normal((5, 2, 3, 4))


def _close(ours, theirs):
    ours = ours.numpy() if isinstance(ours, ng.Tensor) else np.asarray(ours)
    theirs = theirs.detach().numpy()
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


def _x(L):
    return ng.tensor(X43) if L is ng else torch.tensor(X43)


def _put(L, x, index, v):
    """Out-of-place ``x[index] = v``: ng.index_update, torch.index_put."""
    if L is ng:
        return ng.index_update(x, index, v)
    return torch.index_put(x, index if isinstance(index, tuple) else (index,), v)


# name: (f built for a library L, the arguments, in_dims)
CASES = {
    "x[i], i batched": (lambda L: lambda i: _x(L)[i], (I5,), 0),
    "x[i], i batched (5, 2)": (lambda L: lambda i: _x(L)[i], (I52,), 0),
    "x[i], i batched along dim 1": (lambda L: lambda i: _x(L)[i], (I52.T.copy(),), 1),
    "x[:, j], j batched": (lambda L: lambda j: _x(L)[:, j], (J52,), 0),
    "x[i, :], i batched": (lambda L: lambda i: _x(L)[i, :], (I52,), 0),
    "x[..., j], j batched": (lambda L: lambda j: _x(L)[..., j], (J52,), 0),
    "x[i, j], both batched": (lambda L: lambda i, j: _x(L)[i, j], (I52, J52), 0),
    "x[i, j], i batched": (lambda L: lambda i, j: _x(L)[i, j], (I52, J52[0]), (0, None)),
    "x[i, j], j batched": (lambda L: lambda i, j: _x(L)[i, j], (I52[0], J52), (None, 0)),
    "x[None, j], j batched": (lambda L: lambda j: _x(L)[None, j], (I52,), 0),
    "x[i, 1], i batched": (lambda L: lambda i: _x(L)[i, 1], (I52,), 0),
    "xb[i], both batched": (lambda L: lambda a, i: a[i], (XB, I52), 0),
    "xb[i], x batched along dim 1": (lambda L: lambda a, i: a[i], (XB.transpose(1, 0, 2).copy(), I52), (1, 0)),
    "xb[i], x batched only": (lambda L: lambda a, i: a[i], (XB, I52[0]), (0, None)),
    "xb[:, j], both batched": (lambda L: lambda a, j: a[:, j], (XB, J52), 0),
    "xb[i, j], all batched": (lambda L: lambda a, i, j: a[i, j], (XB, I52, J52), 0),
    "xb[i, j], x and j batched": (lambda L: lambda a, i, j: a[i, j], (XB, I52[0], J52), (0, None, 0)),
    "xb[i, 2], both batched": (lambda L: lambda a, i: a[i, 2], (XB, I52), 0),
    "xb[mask], x batched, mask not": (lambda L: lambda a, m: a[m], (XB, X43 > 0), (0, None)),
    "xb[mask, j], x batched, row mask not": (
        lambda L: lambda a, j: a[torch.tensor(X43[:, 0] > 0) if L is torch else ng.tensor(X43[:, 0] > 0), j],
        (XB, J52),
        0,
    ),
    "separated y[[0, 1], :, [1, 2]], y batched": (lambda L: lambda a: a[[0, 1], :, [1, 2]], (YB,), 0),
    "separated y[i, :, j], both batched": (lambda L: lambda a, i, j: a[i, :, j], (YB, I52 % 2, J52), 0),
    "separated y[i, :, j], i batched": (
        lambda L: lambda i, j: (ng.tensor(Y) if L is ng else torch.tensor(Y))[i, :, j],
        (I52 % 2, J52[0]),
        (0, None),
    ),
    "separated y[[0, 1], :, j], y unbatched": (
        lambda L: lambda j: (ng.tensor(Y) if L is ng else torch.tensor(Y))[[0, 1], :, j],
        (J52,),
        0,
    ),
    "y[:, i, j], both batched": (lambda L: lambda a, i, j: a[:, i, j], (YB, I52 % 3, J52), 0),
    "gather, both batched": (lambda L: lambda a, i: L.gather(a, 1, i), (XB, G542), 0),
    "gather, index batched": (lambda L: lambda i: L.gather(_x(L), 1, i), (G542,), 0),
    "gather, x batched": (lambda L: lambda a, i: L.gather(a, 1, i), (XB, G542[0]), (0, None)),
    "index_select, both batched": (lambda L: lambda a, i: L.index_select(a, 1, i), (XB, J52), 0),
    "index_select, index batched": (lambda L: lambda i: L.index_select(_x(L), 0, i), (I52,), 0),
    "take, both batched": (lambda L: lambda a, i: L.take(a, i), (XB, R.integers(0, 12, (5, 3))), 0),
    "take, index batched": (lambda L: lambda i: L.take(_x(L), i), (R.integers(-12, 12, (5, 2, 2)),), 0),
    "take_along_dim, both batched": (lambda L: lambda a, i: L.take_along_dim(a, i, 1), (XB, G542), 0),
    "take_along_dim flat, index batched": (lambda L: lambda i: L.take_along_dim(_x(L), i), (R.integers(0, 12, (5, 6)),), 0),
    "scatter_add, all batched": (lambda L: lambda a, i, s: L.scatter_add(a, 1, i, s), (XB, G542, SRC542), 0),
    "scatter_add, index batched": (lambda L: lambda i: L.scatter_add(_x(L), 1, i, _x(L)[:, :2]), (G542,), 0),
    "scatter_add, src batched": (
        lambda L: lambda s: L.scatter_add(_x(L), 1, torch.tensor(G542[0]) if L is torch else ng.tensor(G542[0]), s),
        (SRC542,),
        0,
    ),
    "scatter, all batched": (lambda L: lambda a, i, s: L.scatter(a, 1, i, s), (XB, PERM542, SRC542), 0),
    "scatter, index batched": (lambda L: lambda i: L.scatter(_x(L), 1, i, _x(L)[:, :2]), (PERM542,), 0),
    "index_put, index batched": (lambda L: lambda i: _put(L, _x(L), i, _x(L)[0] * 2), (I5,), 0),
    "index_put, all batched": (lambda L: lambda a, i, v: _put(L, a, i, v), (XB, I5, XB[:, 0]), 0),
    "index_put, (i, j) batched": (lambda L: lambda i, j: _put(L, _x(L), (i, j), 7.0 * _x(L)[0, :2]), (I52, J52), 0),
    "index_put, (i, 0-d j), value batched": (
        lambda L: lambda a, v: _put(L, a, (L.tensor([0, 1]), L.tensor(2)), v),
        (YB, R.standard_normal((5, 4))),
        0,
    ),
    "masked_fill, mask batched": (lambda L: lambda m: L.masked_fill(_x(L), m, 0.5), (XB > 0,), 0),
    "masked_fill, x batched": (lambda L: lambda a: L.masked_fill(a, _x(L) > 0, 0.5), (XB,), 0),
    "where, condition batched": (lambda L: lambda m, a: L.where(m, a, _x(L)), (XB > 0, XB), (0, None)),
}


# None or a boolean mask beside an integer array is beyond the array API standard's indexing (array-api-strict
# refuses them eagerly too): numpy and CuPy only
BEYOND_THE_STANDARD = {"x[None, j], j batched", "y[mask, :, [1]]"}


def _standard_only(name, array_namespace):
    if name in BEYOND_THE_STANDARD and array_namespace == "array_api_strict":
        pytest.skip("None or a mask beside an integer array: array-api-strict refuses it eagerly too")


def _args(L, arrays):
    return [ng.tensor(a) if L is ng else torch.tensor(a) for a in arrays]


@pytest.mark.parametrize("name", list(CASES))
def test_vmap_of_indexing_matches_torch_func(name, array_namespace):
    _standard_only(name, array_namespace)
    make, arrays, dims = CASES[name]
    _close(ng.vmap(make(ng), in_axes=dims)(*_args(ng, arrays)), tf.vmap(make(torch), in_dims=dims)(*_args(torch, arrays)))


@pytest.mark.parametrize("name", list(CASES))
def test_nested_vmap_of_indexing_matches_torch_func(name, array_namespace):
    """vmap of vmap: every mapped argument gets a second batch axis of 2 (in front), so each level
    batches the index (and the tensor) on its own."""
    _standard_only(name, array_namespace)
    make, arrays, dims = CASES[name]
    dims = dims if isinstance(dims, tuple) else (dims,) * len(arrays)
    outer = [None if d is None else 0 for d in dims]
    arrays = [a if d is None else np.stack([a, np.flip(a, axis=d)]) for a, d in zip(arrays, dims)]
    ours = ng.vmap(ng.vmap(make(ng), in_axes=dims), in_axes=tuple(outer))(*_args(ng, arrays))
    theirs = tf.vmap(tf.vmap(make(torch), in_dims=dims), in_dims=tuple(outer))(*_args(torch, arrays))
    _close(ours, theirs)


def _loss(L, x, i, j):
    """A scalar through a gather of rows ``i`` and entries ``(i, j)``: gradients scatter-add back."""
    return (L.sin(x[i]) ** 2).sum() + (x[i, j] * x[j, i]).sum() + L.gather(x, 1, j.reshape(1, -1).expand(x.shape[0], -1)).sum()


@pytest.mark.parametrize("x_dim", [0, None])
def test_per_example_gradients_through_a_batched_index(x_dim):
    """vmap(grad): one gradient per example, whether the tensor is batched or shared (then each example's
    gradient is its own scatter-add)."""
    x = XB[:, :3, :3] if x_dim == 0 else X43[:3]
    i, j = I52 % 3, J52
    dims = (x_dim, 0, 0)
    ours = ng.vmap(ng.grad(lambda *a: _loss(ng, *a)), in_axes=dims)(*_args(ng, (x, i, j)))
    theirs = tf.vmap(tf.grad(lambda *a: _loss(torch, *a)), in_dims=dims)(*_args(torch, (x, i, j)))
    _close(ours, theirs)


def test_gradient_of_a_vmapped_gather_reaches_the_shared_table():
    """grad of a vmap over indices: the shared table gets every example's rows summed back."""

    def total(L, x):
        return (
            L.vmap(lambda i: L.tanh(x[i] * x[i, 0:1]).sum())(I52)
            if L is ng
            else tf.vmap(lambda i: torch.tanh(x[i] * x[i, 0:1]).sum())(torch.tensor(I52))
        ).sum()

    _close(ng.grad(lambda x: total(ng, x))(X43), tf.grad(lambda x: total(tf, x))(torch.tensor(X43)))


def test_vmap_of_jacrev_and_jvp_through_a_batched_index():
    def f(L, x, i):
        return L.sin(x[i, 1:]) * x[0, 1:]

    ours = ng.vmap(ng.jacrev(lambda x, i: f(ng, x, i)), in_axes=(0, 0))(*_args(ng, (XB, I52)))
    theirs = tf.vmap(tf.jacrev(lambda x, i: f(torch, x, i)), in_dims=(0, 0))(*_args(torch, (XB, I52)))
    _close(ours, theirs)
    ours = ng.vmap(lambda x, t, i: ng.jvp(lambda u: f(ng, u, i), (x,), (t,))[1])(*_args(ng, (XB, XB[::-1].copy(), I52)))
    theirs = tf.vmap(lambda x, t, i: tf.jvp(lambda u: f(torch, u, i), (x,), (t,))[1])(*_args(torch, (XB, XB[::-1].copy(), I52)))
    _close(ours, theirs)
    # jacrev of a vmap over a batched index (the index mapped, the tensor differentiated)
    ours = ng.jacrev(lambda x: ng.vmap(lambda i: f(ng, x, i))(ng.tensor(I52)))(X43)
    theirs = tf.jacrev(lambda x: tf.vmap(lambda i: f(torch, x, i))(torch.tensor(I52)))(torch.tensor(X43))
    _close(ours, theirs)


@pytest.mark.parametrize("x_dim", [0, None])
def test_vmap_of_hessian_through_a_batched_index(x_dim):
    """Second order: the scatter-add of the first VJP is itself differentiated (and batched)."""

    def f(L, x, i):
        return (L.sin(x[i]) ** 3).sum() * x[0, 0]

    x = XB if x_dim == 0 else X43
    ours = ng.vmap(ng.hessian(lambda x, i: f(ng, x, i)), in_axes=(x_dim, 0))(*_args(ng, (x, I52)))
    theirs = tf.vmap(tf.hessian(lambda x, i: f(torch, x, i)), in_dims=(x_dim, 0))(*_args(torch, (x, I52)))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("index", ["y[[0, 1], :, [1, 2]]", "y[0, :, [1, 2]]", "y[:, 0, [1, 2]]"])
def test_vmap_over_the_cotangents_of_a_pullback_made_outside(index):
    """The pullback's scatter-add runs as an op on the batched cotangent (unindex's batching rule)."""
    y = ng.tensor(Y)
    out, pull = ng.vjp(lambda a: a[LAYOUTS[index](ng)] * 2.0, y)
    cotangents = R.standard_normal((6, *out.shape))
    _, tpull = tf.vjp(lambda a: a[LAYOUTS[index](torch)] * 2.0, torch.tensor(Y))
    ours = ng.vmap(pull)(cotangents)
    _close(ours[0] if isinstance(ours, tuple) else ours, tf.vmap(tpull)(torch.tensor(cotangents))[0])


def test_setitem_inside_vmap_with_a_batched_index_and_value():
    def f(L, x, i, v):
        y = x * 1.0
        y[i] = v
        y[:, i] = 2 * v[:1]
        return y

    ours = ng.vmap(lambda x, i, v: f(ng, x, i, v))(*_args(ng, (XB[:, :3], I5 % 3, XB[:, 0])))
    theirs = tf.vmap(lambda x, i, v: f(torch, x, i, v))(*_args(torch, (XB[:, :3], I5 % 3, XB[:, 0])))
    _close(ours, theirs)


# --- advanced indices separated by a slice: torch's layout ------------------------------------------------
LAYOUTS = {
    "y[[0, 1], :, [1, 2]]": lambda L: ([0, 1], slice(None), [1, 2]),
    "y[0, :, [1, 2]]": lambda L: (0, slice(None), [1, 2]),
    "y[[0, 1], :, 1]": lambda L: ([0, 1], slice(None), 1),
    "y[1, [0, 2], :]": lambda L: (1, [0, 2], slice(None)),
    "y[:, 0, [1, 2]]": lambda L: (slice(None), 0, [1, 2]),
    "y[0, :, [[1], [2]]]": lambda L: (0, slice(None), [[1], [2]]),
    "y[0, ..., [1, 2]]": lambda L: (0, Ellipsis, [1, 2]),
    "y[0-d tensor, :, [1, 2]]": lambda L: (L.tensor(1), slice(None), L.tensor([1, 2])),
    "y[mask, :, [1]]": lambda L: (L.tensor([True, False]), slice(None), L.tensor([1])),
}


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_advanced_indices_separated_by_a_slice_lay_out_as_torch(name, array_namespace):
    """torch applies an integer (and a 0-d integer tensor) as a select first, so ``y[0, :, [1, 2]]`` is (3, 2),
    not NumPy's (2, 3); the same for getitem, index_update and setitem, eager and under vmap."""
    _standard_only(name, array_namespace)
    index = LAYOUTS[name]
    y, ty = ng.tensor(Y), torch.tensor(Y)
    _close(y[index(ng)], ty[index(torch)])
    value = R.standard_normal(ty[index(torch)].shape)
    expected = ty.clone()
    expected[index(torch)] = torch.tensor(value)
    copy = y * 1.0
    copy[index(ng)] = ng.tensor(value)
    _close(copy, expected)
    _close(ng.index_update(y, index(ng), ng.tensor(value)), expected)
    # under vmap, the tensor batched (and nested)
    _close(ng.vmap(lambda a: a[index(ng)])(YB), tf.vmap(lambda a: a[index(torch)])(torch.tensor(YB)))
    yy = np.stack([YB, YB[::-1]])
    _close(ng.vmap(ng.vmap(lambda a: a[index(ng)]))(yy), tf.vmap(tf.vmap(lambda a: a[index(torch)]))(torch.tensor(yy)))

    def put(L, a, v):
        a = a * 1.0
        a[index(L)] = v
        return a

    # (torch.func's batched index_put_ refuses some of these layouts — "shape mismatch" — so the oracle is
    # eager torch per example, which vmap must equal)
    values = R.standard_normal((5, *value.shape))
    per_example = torch.stack([put(torch, torch.tensor(a), torch.tensor(v)) for a, v in zip(YB, values)])
    _close(ng.vmap(lambda a, v: put(ng, a, v))(YB, values), per_example)


def test_a_batched_zero_d_index_beside_a_separated_array_follows_the_per_example_rule():
    """vmap(f)(xs)[b] == f(xs[b]): per example ``i`` is a 0-d tensor, which torch's eager indexing applies as a
    select — (3, 2) per example.  (torch.func.vmap gives (2, 3) here, unlike its own eager f.)"""
    i = np.array([0, 1, 1])
    ours = ng.vmap(lambda k: ng.tensor(Y)[k, :, [1, 2]])(i)
    per_example = torch.stack([torch.tensor(Y)[torch.tensor(k), :, [1, 2]] for k in i])
    _close(ours, per_example)


def test_index_select_with_a_batched_zero_d_index_follows_the_per_example_rule():
    """Per example index_select with a 0-d index keeps the dim: (1, 3).  (torch.func.vmap gives (5, 4, 3), the
    selected row repeated 4 times, unlike its own eager index_select: the oracle here is eager torch per example.)"""
    ours = ng.vmap(lambda i: ng.index_select(ng.tensor(X43), 0, i))(I5)
    _close(ours, torch.stack([torch.index_select(torch.tensor(X43), 0, torch.tensor(k)) for k in I5]))


# --- what torch.func refuses, refused with the op and the fix --------------------------------------------
def test_a_batched_boolean_mask_index_is_refused():
    with pytest.raises(RuntimeError, match=r"getitem: a boolean mask batched by vmap.*(where|masked_fill)"):
        ng.vmap(lambda a, m: a[m])(XB, XB > 0)
    with pytest.raises(RuntimeError, match="boolean mask"):
        tf.vmap(lambda a, m: a[m])(torch.tensor(XB), torch.tensor(XB > 0))


def test_writing_with_a_batched_index_into_an_unbatched_tensor_is_refused():
    """torch.func refuses x[i] = v in place when x is the same for every example but i is not; so do we, and the
    tensor is left as it was."""
    y = ng.tensor(X43)

    def f(i):
        y[i] = 0.0
        return y

    with pytest.raises(RuntimeError, match=r"setitem: .*batched by vmap.*index_update"):
        ng.vmap(f)(I5)
    np.testing.assert_array_equal(y.numpy(), X43)
    with pytest.raises(RuntimeError):
        ty = torch.tensor(X43)
        tf.vmap(lambda i: ty.__setitem__(i, 0.0))(torch.tensor(I5))


def test_an_out_of_range_batched_index_names_the_op():
    bad = np.array([0, 4, 1])
    with pytest.raises(IndexError, match="getitem"):
        ng.vmap(lambda i: ng.tensor(X43)[i])(bad)
    with pytest.raises(IndexError, match="index_select: index 4 is out of range for dim 0 of size 4"):
        ng.vmap(lambda i: ng.index_select(ng.tensor(X43), 0, i))(bad)
