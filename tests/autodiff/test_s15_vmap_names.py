"""``ng.vmap`` under torch.func's names — ``in_dims``, ``out_dims``, ``chunk_size`` — against torch.func.vmap
(float64): in_dims tuples with None, nested and dict in_dims, out_dims ints and tuples, chunked maps (values and
gradients through them), and the refusals (both spellings of one argument, a bad chunk_size)."""

import inspect

import numpy as np
import pytest
import torch
import torch.func as tf

import nablagrad as ng

R = np.random.default_rng(1515)
W = R.standard_normal(3)
XB = R.standard_normal((5, 3))  # five examples of a (3,) vector
A = R.standard_normal((5, 2, 3))
B = R.standard_normal((2, 3))
Z = R.standard_normal((3, 5))  # mapped along axis 1


def _close(ours, theirs):
    ours = ours.numpy()
    theirs = theirs.detach().numpy()
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


def _both(fn, *arrays):
    """``fn(L, *tensors)`` for L = ng and torch: the two results."""
    return fn(ng, *map(ng.tensor, arrays)), fn(torch, *map(torch.tensor, arrays))


def _tanh(L):
    return ng.tanh if L is ng else torch.tanh


def test_signature_has_torch_funcs_keywords():
    ours = inspect.signature(ng.vmap).parameters
    theirs = inspect.signature(tf.vmap).parameters
    for name in ("in_dims", "out_dims", "randomness", "chunk_size"):
        assert name in ours and repr(ours[name].default) == repr(theirs[name].default)


def test_in_dims_with_none_matches_torch():
    def run(L, w, x):
        vm = ng.vmap if L is ng else tf.vmap
        return vm(lambda w, x: _tanh(L)(x @ w), in_dims=(None, 0))(w, x)

    _close(*_both(run, W, XB))


def test_nested_in_dims_and_out_dims_match_torch():
    def run(L, a, b, z):
        vm = ng.vmap if L is ng else tf.vmap

        def f(pair, z):
            x, y = pair
            return (x * y).sum(0) + z, z * 2.0  # (3,), (3,)

        return vm(f, in_dims=((0, None), 1), out_dims=(1, 0))((a, b), z)

    (o1, o2), (t1, t2) = _both(run, A, B, Z)
    _close(o1, t1)
    _close(o2, t2)


def test_dict_in_dims_matches_torch():
    def run(L, a, b):
        vm = ng.vmap if L is ng else tf.vmap
        return vm(lambda d: (d["a"] * d["b"]).sum(-1), in_dims=({"a": 0, "b": None},))({"a": a, "b": b})

    _close(*_both(run, A, B))


def test_single_output_out_dims_tuple_matches_torch():
    def run(L, a):
        vm = ng.vmap if L is ng else tf.vmap
        return vm(lambda x: x * 3.0, in_dims=0, out_dims=(2,))(a)

    _close(*_both(run, A))


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 9])
def test_chunk_size_matches_torch_and_the_unchunked_map(chunk):
    def run(L, a, b, z, chunk_size):
        vm = ng.vmap if L is ng else tf.vmap

        def f(x, y, z):
            return (x * y).sum(0) * z.sum(), _tanh(L)(x)

        return vm(f, in_dims=(0, None, 1), out_dims=(0, 2), chunk_size=chunk_size)(a, b, z)

    (o1, o2), (t1, t2) = _both(lambda *a: run(*a, chunk), A, B, Z)
    _close(o1, t1)
    _close(o2, t2)
    u1, u2 = run(ng, ng.tensor(A), ng.tensor(B), ng.tensor(Z), None)
    _close(o1, torch.tensor(u1.numpy()))
    _close(o2, torch.tensor(u2.numpy()))


def test_gradients_flow_through_a_chunked_map_as_torchs():
    ours = [ng.tensor(W, requires_grad=True), ng.tensor(XB, requires_grad=True)]
    theirs = [torch.tensor(W, requires_grad=True), torch.tensor(XB, requires_grad=True)]
    out = ng.vmap(lambda w, x: ng.tanh(x @ w) ** 2.0, in_dims=(None, 0), chunk_size=2)(*ours)
    ref = tf.vmap(lambda w, x: torch.tanh(x @ w) ** 2.0, in_dims=(None, 0), chunk_size=2)(*theirs)
    _close(out, ref)
    out.sum().backward()
    ref.sum().backward()
    for o, t in zip(ours, theirs):
        _close(o.grad, t.grad)


def test_per_example_gradients_chunked_match_torch():
    def loss(L, w, x):
        return (_tanh(L)(x @ w) - 0.5) ** 2.0

    ours = ng.vmap(ng.grad(lambda w, x: loss(ng, w, x)), in_dims=(None, 0), chunk_size=2)(W, XB)
    theirs = tf.vmap(tf.grad(lambda w, x: loss(torch, w, x)), in_dims=(None, 0), chunk_size=2)(torch.tensor(W), torch.tensor(XB))
    _close(ours, theirs)


def test_chunked_same_randomness_shares_one_draw_between_every_example():
    ng.manual_seed(3)
    out = ng.vmap(lambda x: x + ng.rand(2, dtype="float64"), randomness="same", chunk_size=2)(ng.zeros((5, 2), dtype="float64"))
    rows = out.numpy()
    assert rows.shape == (5, 2)
    np.testing.assert_array_equal(rows, np.broadcast_to(rows[0], rows.shape))


def test_chunked_out_dims_none_keeps_the_unmapped_output():
    c = ng.tensor(B)
    mapped, same = ng.vmap(lambda x: (x * 2.0, c), out_dims=(0, None), chunk_size=2)(ng.tensor(A))
    np.testing.assert_allclose(mapped.numpy(), A * 2.0, rtol=1e-15)
    np.testing.assert_array_equal(same.numpy(), B)


@pytest.mark.parametrize(
    "kwargs, names",
    [
        (dict(in_axes=0, in_dims=0), ("in_axes", "in_dims")),
        (dict(in_axes=(0,), in_dims=(1,)), ("in_axes", "in_dims")),
        (dict(out_axes=0, out_dims=1), ("out_axes", "out_dims")),
    ],
)
def test_both_spellings_of_one_argument_are_refused(kwargs, names):
    with pytest.raises(TypeError, match=f"{names[0]}=.*{names[1]}="):
        ng.vmap(lambda x: x, **kwargs)


@pytest.mark.parametrize("bad", [0, -2, 1.5, True, "2"])
def test_a_bad_chunk_size_is_refused_naming_it(bad):
    with pytest.raises(ValueError, match="chunk_size"):
        ng.vmap(lambda x: x, chunk_size=bad)
