"""Writes through views inside ``vmap``, against torch.func: a view made inside the vmapped function (``y[0]``,
``y[1:]``, ``y.T``) sees a later write into its base, a write into such a view reaches its base (``y.T[0] = …``,
``y[0].mul_(…)``), and a write of one view into another (``y[1] = y[0]``)
works per example — also under ``jacrev`` and ``grad`` (each view is made again from the base, on the whole
batch, as the batching rule made it)."""

from __future__ import annotations

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")
tf = pytest.importorskip("torch.func")
pytestmark = pytest.mark.numpy_only("compared with torch.func on host arrays")

rng = np.random.default_rng(7)
X = rng.standard_normal((4, 3))
M = rng.standard_normal((5, 2, 3))


def copy_row(x):
    y = x * 1.0
    y[1] = y[0]
    return y * x


def view_sees_write(x):
    y = x * 1.0
    v = y[1:]
    y[0] = 5.0
    return v * 2 + y.sum()


def transposed_view(m):
    y = m * 1.0
    t = y.T
    y[0] = y[1] * 3
    return (t * m.T).sum(0)


def _compare(ours, theirs, data):
    a, b = ours(ng.tensor(data)), theirs(torch.tensor(data))
    assert a.shape == tuple(b.shape)
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("f, data", [(copy_row, X), (view_sees_write, X), (transposed_view, M)])
def test_vmap(f, data):
    _compare(ng.vmap(f), tf.vmap(f), data)


@pytest.mark.parametrize("f, data", [(copy_row, X), (view_sees_write, X), (transposed_view, M)])
def test_vmap_of_jacrev(f, data):
    _compare(ng.vmap(ng.jacrev(f)), tf.vmap(tf.jacrev(f)), data)


@pytest.mark.parametrize("f, data", [(copy_row, X), (view_sees_write, X), (transposed_view, M)])
def test_vmap_of_grad_of_the_sum(f, data):
    _compare(ng.vmap(ng.grad(lambda x: f(x).sum())), tf.vmap(tf.grad(lambda x: f(x).sum())), data)


def test_nested_vmap():
    _compare(ng.vmap(ng.vmap(copy_row)), tf.vmap(tf.vmap(copy_row)), M)


# a write into a view made inside vmap reaches its base (the positions of the view's entries in the base, and the
# write itself, taken on the whole batch, as the batching rule made the view)
def write_into_slice(x):
    y = x * 1.0
    v = y[:, 1:3]
    v[0] = v[1] * 2
    return y * x


def write_into_transpose(x):
    y = x * 1.0
    t = y.T
    t[0] = 3.0 * t[1]
    return y * x


def in_place_method_on_a_row(x):
    y = x * 1.0
    y[0].mul_(x[1])
    return y * 2


def write_through_a_view_of_a_view(x):
    y = x * 1.0
    v = y[1]  # (held: a view keeps only a weak reference to its base)
    w = v[2:]
    w[0] = w[1] * x[0, 0]
    return (y * x).sum(0)


M3 = rng.standard_normal((4, 3, 5))
INTO_VIEWS = [write_into_slice, write_into_transpose, in_place_method_on_a_row]


@pytest.mark.parametrize("f", [*INTO_VIEWS, write_through_a_view_of_a_view])
def test_vmap_of_a_write_into_a_view(f):
    _compare(ng.vmap(f), tf.vmap(f), M3)
    _compare(ng.vmap(f, in_axes=1), tf.vmap(f, in_dims=1), np.moveaxis(M3, 0, 1).copy())
    _compare(ng.vmap(ng.vmap(f)), tf.vmap(tf.vmap(f)), M3.reshape(2, 2, 3, 5))


@pytest.mark.parametrize("f", INTO_VIEWS)
def test_derivatives_of_a_write_into_a_view_under_vmap(f):
    _compare(ng.vmap(ng.jacrev(f)), tf.vmap(tf.jacrev(f)), M3)
    _compare(ng.vmap(ng.jacfwd(f)), tf.vmap(tf.jacfwd(f)), M3)
    _compare(ng.jacrev(ng.vmap(f)), tf.jacrev(tf.vmap(f)), M3)


def temporary_view_chain(x):
    """A write through a view of a temporary view (``y[1]`` is gone before the write): the view holds its
    base, as PyTorch's ``._base`` does, so the write reaches ``y``."""
    y = x * 1.0
    w = y[1][2:]
    w[0] = w[1] * 3
    return (y * x).sum(0)


def test_temporary_view_chain_under_jvp_vmap_and_jacrev():
    x, t = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    got = ng.jvp(temporary_view_chain, (ng.tensor(x),), (ng.tensor(t),))
    want = tf.jvp(temporary_view_chain, (torch.tensor(x),), (torch.tensor(t),))
    for a, b in zip(got, want):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-12)
    _compare(ng.vmap(temporary_view_chain), tf.vmap(temporary_view_chain), np.stack([x, 2 * x]))
    _compare(ng.jacrev(temporary_view_chain), tf.jacrev(temporary_view_chain), x)


def test_a_write_through_a_view_of_a_broadcast_view_is_refused_before_anything_is_written():
    """``x = broadcast_to(w, …)[0]``: nablagrad writes view by view, and the broadcast link would write one entry
    of ``w`` from several places, so it refuses (torch writes through it) — and nothing changes: not ``x``, the
    broadcast view, nor ``w`` (every link is checked before the write; it used to write ``x`` and then raise)."""
    ours = ng.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = ours * 1
    v = ng.broadcast_to(w, (2, 3))
    x = v[0]
    with pytest.raises(RuntimeError, match="several entries"):
        x[...] = 5.0
    for t in (x, w):
        np.testing.assert_array_equal(t.numpy(), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(v.numpy(), [[1.0, 2.0, 3.0]] * 2)
