"""Writes through views inside ``vmap``, against torch.func: a view made inside the vmapped function (``y[0]``,
``y[1:]``, ``y.T``) sees a later write into its base, and a write of one view into another (``y[1] = y[0]``)
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
