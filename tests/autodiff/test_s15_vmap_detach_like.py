"""``detach()``, ``ones_like`` and ``zeros_like`` of a value a transform carries, against torch.func: under
``vmap`` the result keeps the batch axis (one example's shape inside), under ``jvp`` the detached value has no
tangent, and composed with ``grad`` the detached factor is a constant."""

from __future__ import annotations

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")
tf = pytest.importorskip("torch.func")
pytestmark = pytest.mark.numpy_only("compared with torch.func on host arrays")

X = np.array([[1.0, -2.0, 0.5], [3.0, 4.0, -1.5], [0.25, 2.0, 7.0], [-3.0, 1.0, 2.0]])


def _both(ours_fn, theirs_fn, x=X, **kw):
    ours = ours_fn(ng.tensor(x), **kw)
    theirs = theirs_fn(torch.tensor(x), **kw)
    ours, theirs = (ours if isinstance(ours, tuple) else (ours,)), (theirs if isinstance(theirs, tuple) else (theirs,))
    for a, b in zip(ours, theirs):
        assert a.shape == tuple(b.shape)
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-14)


def test_vmap_of_detach_keeps_one_example_shape():
    _both(lambda x: ng.vmap(lambda r: r.detach() * 2)(x), lambda x: tf.vmap(lambda r: r.detach() * 2)(x))


@pytest.mark.parametrize("in_dims", [0, 1])
def test_vmap_of_grad_through_a_detached_factor(in_dims):
    def ours(x):
        return ng.vmap(ng.grad(lambda r: (r * r.detach() * ng.sin(r)).sum()), in_axes=in_dims)(x)

    def theirs(x):
        return tf.vmap(tf.grad(lambda r: (r * r.detach() * torch.sin(r)).sum()), in_dims=in_dims)(x)

    _both(ours, theirs)


def test_vmap_of_jvp_cuts_the_detached_tangent():
    def ours(x):
        return ng.vmap(lambda r: ng.jvp(lambda z: z * z.detach() + z.detach() ** 3, (r,), (ng.ones_like(r),)))(x)

    def theirs(x):
        return tf.vmap(lambda r: tf.jvp(lambda z: z * z.detach() + z.detach() ** 3, (r,), (torch.ones_like(r),)))(x)

    _both(ours, theirs)


def test_jacrev_under_vmap_with_detach():
    _both(lambda x: ng.vmap(ng.jacrev(lambda r: r * r.detach().sum()))(x),
          lambda x: tf.vmap(tf.jacrev(lambda r: r * r.detach().sum()))(x))  # fmt: skip


@pytest.mark.parametrize("name", ["ones_like", "zeros_like"])
def test_vmap_of_like_is_one_example_per_row(name):
    ours_like, theirs_like = getattr(ng, name), getattr(torch, name)
    _both(lambda x: ng.vmap(lambda r: (ours_like(r) + 1) * r)(x), lambda x: tf.vmap(lambda r: (theirs_like(r) + 1) * r)(x))
    _both(lambda x: ng.vmap(lambda r: ours_like(r).sum() + r.sum())(x),
          lambda x: tf.vmap(lambda r: theirs_like(r).sum() + r.sum())(x))  # fmt: skip


def test_nested_vmap_of_ones_like_and_a_dtype():
    got = ng.vmap(ng.vmap(lambda e: ng.ones_like(e, dtype="int64")))(ng.tensor(X))
    want = tf.vmap(tf.vmap(lambda e: torch.ones_like(e, dtype=torch.int64)))(torch.tensor(X))
    assert got.shape == tuple(want.shape) and got.dtype == np.int64
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_ones_like_under_vmap_as_a_jvp_tangent():
    """The common idiom: a tangent of ones for each example (was a tangent of the whole batch's shape)."""
    _both(lambda x: ng.vmap(lambda r: ng.jvp(ng.tanh, (r,), (ng.ones_like(r),))[1])(x),
          lambda x: tf.vmap(lambda r: tf.jvp(torch.tanh, (r,), (torch.ones_like(r),))[1])(x))  # fmt: skip


def test_detach_outside_transforms_still_shares_memory_and_cuts_the_graph():
    x = ng.tensor(X, requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and np.shares_memory(d.numpy(), x.numpy())
