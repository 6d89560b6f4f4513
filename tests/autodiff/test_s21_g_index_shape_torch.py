"""Indexing, shape ops and their errors against torch 2.13 itself: negative slice steps refused, index tensors of
PyTorch's dtypes only (uint8 read as a mask), an empty list index, the exception classes of the shape ops that
PyTorch refuses with a RuntimeError (``except RuntimeError`` code ported from PyTorch catches ours), ``diag`` of an
integer vector, ``permute``, and ``repeat_interleave`` of mismatched counts."""

import warnings

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.numpy_only("index and shape semantics against torch on the CPU: one code path")

_RNG = np.random.default_rng(21)
X = _RNG.standard_normal((3, 4, 5))


def _both(f, *arrays):
    """``f(lib, *tensors)`` for ng and torch (float arrays require grad), and the leaves of each."""
    ours = [ng.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    theirs = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    return f(ng, *ours), f(torch, *theirs), ours, theirs


def _same_values_and_grads(f, *arrays):
    """``f``'s values and the gradients of a random weighted sum of them equal torch's (float64)."""
    out_ng, out_t, ours, theirs = _both(f, *arrays)
    assert tuple(out_ng.shape) == tuple(out_t.shape) and str(out_ng.dtype) == str(out_t.dtype).removeprefix("torch.")
    np.testing.assert_array_equal(out_ng.numpy(), out_t.detach().numpy())
    if out_t.requires_grad:
        w = _RNG.standard_normal(tuple(out_t.shape))
        (out_ng * ng.tensor(w)).sum().backward()
        (out_t * torch.tensor(w)).sum().backward()
        for a, b in zip(ours, theirs):
            if b.requires_grad:
                np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12, atol=1e-12)


def _refused_as_torch(f, *arrays):
    """Both libraries refuse ``f``; ours with an exception of torch's class (and its message naming the op)."""
    with pytest.raises(Exception) as theirs:
        f(torch, *[torch.tensor(a) for a in arrays])
    with pytest.raises(type(theirs.value)) as ours:
        f(ng, *[ng.tensor(a) for a in arrays])
    return str(ours.value)


# --- slices with a negative step ------------------------------------------------------------------
@pytest.mark.parametrize("index", [slice(None, None, -1), (slice(None), slice(3, 0, -2)), (Ellipsis, slice(None, None, -1))])
def test_negative_slice_step_is_refused_on_read_and_write_as_torch(index):
    message = _refused_as_torch(lambda m, t: t[index], X)
    assert "step must be greater than zero" in message and "flip" in message

    def write(m, t):
        t[index] = 1.0

    _refused_as_torch(write, X)


def test_flip_still_reverses_with_torch_values_and_gradient():
    _same_values_and_grads(lambda m, t: t.flip(0, 2) * 1.0, X)
    _same_values_and_grads(lambda m, t: m.fliplr(t[0]) + m.flipud(t[1]), X)
    _same_values_and_grads(lambda m, t: t.flip(-1)[:, ::2], X)


# --- index tensors and lists -----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.int64, np.int32])
@pytest.mark.parametrize("where", ["first", "middle", "mixed"])
def test_index_tensors_of_torch_index_dtypes_give_torch_values_and_gradients(dtype, where):
    idx = np.array([2, 0, 2]).astype(dtype)
    pick = {
        "first": lambda m, t: t[m.tensor(idx)],
        "middle": lambda m, t: t[:, m.tensor(idx)],
        "mixed": lambda m, t: t[m.tensor(idx), 1:, m.tensor(idx)],
    }[where]
    _same_values_and_grads(pick, X)


@pytest.mark.parametrize("dtype", [np.int8, np.int16])
def test_index_tensors_of_other_integer_dtypes_are_refused_as_torch(dtype):
    message = _refused_as_torch(lambda m, t: t[m.tensor(np.array([0, 1], dtype=dtype))], X)
    assert "long, int, byte or bool" in message and ".long()" in message


def _uint8_warnings(f):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        out = f()
    return out, [str(w.message) for w in seen if "uint8" in str(w.message)]


@pytest.mark.parametrize("mask", [[1, 0, 1], [0, 0, 0], [1, 1, 1]])
def test_uint8_index_tensor_is_a_mask_with_a_deprecation_warning_as_torch(mask):
    m8 = np.array(mask, dtype=np.uint8)
    (out_ng, said_ng) = _uint8_warnings(lambda: ng.tensor(X)[ng.tensor(m8)])
    (out_t, said_t) = _uint8_warnings(lambda: torch.tensor(X)[torch.tensor(m8)])
    np.testing.assert_array_equal(out_ng.numpy(), out_t.numpy())
    assert said_t and said_ng and "deprecated" in said_ng[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _same_values_and_grads(lambda m, t: t[:, 1][m.tensor(m8)], X)


@pytest.mark.parametrize("index", [[], (slice(None), []), (Ellipsis, [])])
def test_an_empty_list_index_selects_nothing_as_torch(index):
    _same_values_and_grads(lambda m, t: t[index] * 2.0, X)

    def write(m, t):
        y = t * 1.0
        y[index] = 5.0
        return y

    _same_values_and_grads(write, X)


def test_an_empty_float_array_index_selects_nothing_as_torch():
    _same_values_and_grads(lambda m, t: t[np.array([])], X)


def test_int_and_slice_indices_keep_their_object_identity():
    from nablagrad.autodiff.rules_index import torch_index

    for index in (0, -1, slice(1, 3), (0, slice(None, None, 2)), (Ellipsis, None, 1), [0, 1]):
        assert torch_index(index, "getitem") is index


# --- the shape ops' exception classes ------------------------------------------------------------------
_REFUSALS = {
    "roll shifts/dims mismatch": lambda m, t: t.roll((1, 2), (0,)),
    "repeat fewer sizes": lambda m, t: t.repeat(2, 1),
    "repeat_interleave negative": lambda m, t: t.repeat_interleave(-1, dim=0),
    "repeat_interleave counts mismatch": lambda m, t: t.repeat_interleave(m.tensor([1, 2]), dim=1),
    "movedim counts": lambda m, t: t.movedim((0, 1), (0,)),
    "movedim repeated": lambda m, t: t.movedim((0, 0), (1, 2)),
    "split 0-d": lambda m, t: t[0, 0, 0].split(1),
    "chunk 0-d": lambda m, t: t[0, 0, 0].chunk(1),
    "split sizes sum": lambda m, t: t.split([1, 1], dim=1),
    "split size 0": lambda m, t: t.split(0, 1),
    "chunk 0": lambda m, t: t.chunk(0),
    "tril 1-d": lambda m, t: t[0, 0].tril(),
    "triu 1-d": lambda m, t: t[0, 0].triu(),
    "diagonal same dims": lambda m, t: t.diagonal(0, 1, 1),
    "diag 3-d": lambda m, t: t.diag(),
    "diag_embed same dims": lambda m, t: t.diag_embed(0, 1, 1),
    "unfold too big": lambda m, t: t.unfold(2, 6, 1),
    "unfold step 0": lambda m, t: t.unfold(2, 2, 0),
    "gather rank": lambda m, t: t.gather(1, m.zeros(3, 2, dtype=m.int64)),
    "gather out of range": lambda m, t: t.gather(1, m.full((3, 4, 5), 4)),
    "gather negative": lambda m, t: t.gather(1, m.full((3, 4, 5), -1)),
    "gather float index": lambda m, t: t.gather(1, m.zeros(3, 4, 5)),
    "scatter_add larger index": lambda m, t: t.scatter_add(1, m.zeros(3, 2, 6, dtype=m.int64), m.zeros(3, 2, 6)),
    "index_select out of range": lambda m, t: t.index_select(1, m.tensor([4])),
    "take_along_dim rank": lambda m, t: t.take_along_dim(m.zeros(3, 2, dtype=m.int64), 1),
    "narrow past the end": lambda m, t: t.narrow(1, 2, 3),
    "narrow negative length": lambda m, t: t.narrow(1, 1, -1),
    "narrow start out of range": lambda m, t: t.narrow(1, 5, 0),
    "unflatten sizes": lambda m, t: t.unflatten(1, (3, 2)),
    "t of 3-d": lambda m, t: t.t(),
}


@pytest.mark.parametrize("name", list(_REFUSALS))
def test_shape_op_refusals_raise_torch_exception_class(name):
    message = _refused_as_torch(_REFUSALS[name], X)
    op = name.split()[0]
    assert op in message or op.split("_")[0] in message, message


def test_narrow_keeps_indexerror_for_the_callers_that_caught_it():
    with pytest.raises(IndexError):
        ng.tensor(X).narrow(1, 2, 3)
    with pytest.raises(IndexError):
        ng.tensor(X).gather(1, ng.full((3, 4, 5), 4))


# --- values that were off ------------------------------------------------------------------------------
@pytest.mark.parametrize("k", [0, 1, -2])
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_, np.float64])
def test_diag_of_a_vector_keeps_its_dtype_as_torch(k, dtype):
    v = np.array([3, 0, 2]).astype(dtype)
    _same_values_and_grads(lambda m, t: t.diag(k), v)


@pytest.mark.parametrize("dims", [(2, 0, 1), (-1, 0, -2), (0, 1, 2)])
def test_permute_of_a_permutation_gives_torch_values_and_gradient(dims):
    _same_values_and_grads(lambda m, t: t.permute(*dims), X)
    _same_values_and_grads(lambda m, t: m.permute(t, dims), X)


def test_repeat_interleave_with_per_entry_and_single_counts_gives_torch_values_and_gradient():
    _same_values_and_grads(lambda m, t: t.repeat_interleave(m.tensor([2, 0, 1, 3]), dim=1), X)
    _same_values_and_grads(lambda m, t: t.repeat_interleave(m.tensor([2]), dim=0), X)
