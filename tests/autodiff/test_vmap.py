"""ng.vmap: batching rules per primitive, against torch.func.vmap, composed with the other
transforms both ways (per-example gradients)."""

import numpy as np
import pytest
import torch
import torch.func as tf

import nablagrad as ng

CASES = {
    "elementwise+broadcast": (lambda L, x, c: L.tanh(x) * c + L.sin(x) ** 2.0, ((4, 3), (2, 1, 3))),
    "matmul mat@vec": (lambda L, x, c: c @ x, ((4, 3), (2, 3))),
    "matmul vec@mat": (lambda L, x, c: x @ c.T, ((4, 3), (2, 3))),
    "matmul vec@vec": (lambda L, x, c: x @ c[0], ((4, 3), (2, 3))),
    "matmul mat@mat": (lambda L, x, c: x.reshape(3, 1) @ c[:1], ((4, 3), (2, 3))),
    "reductions": (
        lambda L, x, c: x.sum() + (x.max(axis=0) if L is ng else x.amax(0)) * (x.mean(axis=0) if L is ng else x.mean(dim=0)),
        ((4, 2, 3), (3,)),
    ),
    "softmax": (
        lambda L, x, c: (
            (L.softmax(x, axis=-1) if L is ng else torch.softmax(x, dim=-1))
            + (L.log_softmax(x, axis=0) if L is ng else torch.log_softmax(x, dim=0))
        ),
        ((4, 2, 3), (3,)),
    ),
    "shape ops": (lambda L, x, c: x.reshape(3, 2).T[1:, ::2] * c[0, :2], ((4, 6), (2, 3))),
    "getitem": (lambda L, x, c: x[1:, 0] + x[-1], ((4, 3, 2), (2, 3))),
    "where/relu/maximum": (
        lambda L, x, c: L.where(x > 0.1, L.relu(x), L.maximum(x, c[0])),
        ((4, 3), (2, 3)),
    ),
    "stack/concat": (
        lambda L, x, c: (
            (ng.concatenate([x, c[0]]) if L is ng else torch.cat([x, c[0]]))
            * (ng.stack([x, c[1]]).sum(0).sum() if L is ng else torch.stack([x, c[1]]).sum(0).sum())
        ),
        ((4, 3), (2, 3)),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_vmap_matches_torch_func(name, rng):
    f, (xs, cs) = CASES[name]
    x, c = rng.standard_normal(xs), rng.standard_normal(cs)
    ours = ng.vmap(lambda x: f(ng, x, ng.tensor(c)))(x)
    theirs = tf.vmap(lambda x: f(torch, x, torch.tensor(c)))(torch.tensor(x))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-14)
    # and the reverse pass through the batched program
    g = ng.grad(lambda x: (ng.vmap(lambda v: f(ng, v, ng.tensor(c)))(x) ** 2.0).sum())(x)
    tg = tf.grad(lambda x: (tf.vmap(lambda v: f(torch, v, torch.tensor(c)))(x) ** 2).sum())(torch.tensor(x))
    np.testing.assert_allclose(g.numpy(), tg.numpy(), rtol=1e-11, atol=1e-13)


def mlp_loss(L, params, x, y):
    w1, b1, w2 = params
    h = L.relu(x @ w1 + b1)
    logp = ng.log_softmax(h @ w2, axis=-1) if L is ng else torch.log_softmax(h @ w2, dim=-1)
    return -(logp * y).sum()


def test_per_example_gradients_match_torch_func(rng):
    params = (rng.standard_normal((4, 5)), rng.standard_normal(5), rng.standard_normal((5, 3)))
    X = rng.standard_normal((6, 4))
    Y = np.eye(3)[rng.integers(0, 3, 6)]
    ours = ng.vmap(ng.grad(lambda p, x, y: mlp_loss(ng, p, x, y)), in_axes=(None, 0, 0))(params, X, Y)
    theirs = tf.vmap(tf.grad(lambda p, x, y: mlp_loss(torch, p, x, y)), in_dims=(None, 0, 0))(
        tuple(torch.tensor(p) for p in params), torch.tensor(X), torch.tensor(Y)
    )
    assert isinstance(ours, tuple) and ours[0].shape == (6, 4, 5)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-11, atol=1e-13)
    # the mean of the per-example gradients is the batch gradient
    batch = ng.grad(lambda p: ng.vmap(lambda x, y: mlp_loss(ng, p, x, y))(X, Y).mean())(params)
    for a, b in zip(ours, batch):
        np.testing.assert_allclose(a.numpy().mean(0), b.numpy(), rtol=1e-11, atol=1e-13)


def test_vmap_composes_with_forward_mode_and_hessians(rng):
    X, v = rng.standard_normal((5, 3)), rng.standard_normal(3)

    def f(L, x):
        return (L.sin(x) * x.sum()).sum()

    ours = ng.vmap(lambda x: ng.jvp(lambda u: f(ng, u), (x,), (v,))[1])(X)
    theirs = tf.vmap(lambda x: tf.jvp(lambda u: f(torch, u), (x,), (torch.tensor(v),))[1])(torch.tensor(X))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    ours = ng.jvp(ng.vmap(lambda x: f(ng, x)), (X,), (np.ones_like(X),))[1]
    theirs = tf.jvp(tf.vmap(lambda x: f(torch, x)), (torch.tensor(X),), (torch.ones(5, 3, dtype=torch.float64),))[1]
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    ours = ng.vmap(ng.hessian(lambda x: f(ng, x)))(X)
    theirs = tf.vmap(tf.hessian(lambda x: f(torch, x)))(torch.tensor(X))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-11, atol=1e-13)
    ours = ng.vmap(ng.jacrev(lambda x: ng.tanh(x) * x[0]))(X)
    theirs = tf.vmap(tf.jacrev(lambda x: torch.tanh(x) * x[0]))(torch.tensor(X))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-14)


def test_in_axes_out_axes_and_pytrees(rng):
    X = rng.standard_normal((3, 5))
    d = {"a": rng.standard_normal(3), "b": rng.standard_normal((2, 3))}
    ours = ng.vmap(lambda x, d: {"s": x * d["a"], "t": (d["b"] @ x).sum()}, in_axes=(1, None), out_axes={"s": 1, "t": 0})(X, d)
    assert ours["s"].shape == (3, 5) and ours["t"].shape == (5,)
    with pytest.raises(ValueError, match="out_axes entry 1 is out of range"):  # a scalar per example: only axis 0 (as JAX)
        ng.vmap(lambda x, d: {"s": x * d["a"], "t": (d["b"] @ x).sum()}, in_axes=(1, None), out_axes=1)(X, d)
    np.testing.assert_allclose(ours["s"].numpy(), X * d["a"][:, None], rtol=1e-14)
    np.testing.assert_allclose(ours["t"].numpy(), (d["b"] @ X).sum(0), rtol=1e-13)
    const = ng.vmap(lambda x: ng.tensor(1.0), in_axes=0)(X)
    assert const.shape == (3,)


def test_vmap_errors_name_the_problem():
    with pytest.raises(ValueError, match="different sizes"):
        ng.vmap(lambda a, b: a + b)(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="different sizes"):  # the inner vmap's own check
        ng.vmap(lambda a, b: ng.vmap(lambda u, v: u * v)(a, b), in_axes=(0, None))(np.ones((2, 3)), np.ones(4))


# --- vmap inside vmap: each its own level and batch axis ---------------------------------------------
def _close(ours, theirs, rtol=1e-12, atol=1e-13):
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=rtol, atol=atol)


T = torch.tensor


def test_nested_vmap_maps_two_distinct_axes_like_torch(rng):
    X, Y, W = rng.standard_normal((4, 3, 5)), rng.standard_normal((4, 3)), rng.standard_normal((4, 5))

    def f(L, x):
        return L.tanh(x) * x.sum() + x[0]

    _close(ng.vmap(ng.vmap(lambda x: f(ng, x)))(X), tf.vmap(tf.vmap(lambda x: f(torch, x)))(T(X)))
    # the inner vmap maps axis 1 of the outer's example; y is batched by the outer vmap only
    g = ng.vmap(ng.vmap(lambda x, y: f(ng, x) * y, in_axes=(1, None), out_axes=1), in_axes=(0, 0), out_axes=2)(X, Y)
    tg = tf.vmap(tf.vmap(lambda x, y: f(torch, x) * y, in_dims=(1, None), out_dims=1), in_dims=(0, 0), out_dims=2)(T(X), T(Y))
    _close(g, tg)
    # a closure over a value of the outer vmap, a matmul and a softmax on both batch axes
    h = ng.vmap(lambda w: ng.vmap(lambda x: ng.softmax(x * w, axis=-1) @ w)(X[0]))(W)
    th = tf.vmap(lambda w: tf.vmap(lambda x: torch.softmax(x * w, dim=-1) @ w)(T(X[0])))(T(W))
    _close(h, th)
    # three levels deep
    _close(ng.vmap(ng.vmap(ng.vmap(lambda v: ng.sin(v) * v)))(X), tf.vmap(tf.vmap(tf.vmap(lambda v: torch.sin(v) * v)))(T(X)))


def _loss(L, w, x):
    return (L.tanh(x @ w) ** 2).sum()


def test_grad_and_jacobians_through_nested_vmap_match_torch(rng):
    X, W = rng.standard_normal((4, 3, 5)), rng.standard_normal((4, 5))
    # per-example gradients over a grid of (w, x) pairs: vmap of vmap of grad
    ours = ng.vmap(ng.vmap(ng.grad(lambda w, x: _loss(ng, w, x)), in_axes=(None, 0)), in_axes=(0, None))(W, X[0])
    theirs = tf.vmap(tf.vmap(tf.grad(lambda w, x: _loss(torch, w, x)), in_dims=(None, 0)), in_dims=(0, None))(T(W), T(X[0]))
    _close(ours, theirs)
    # vmap of grad of a function that itself vmaps
    ours = ng.vmap(ng.grad(lambda w, x: ng.vmap(lambda r: _loss(ng, w, r))(x).sum()))(W, X)
    theirs = tf.vmap(tf.grad(lambda w, x: tf.vmap(lambda r: _loss(torch, w, r))(x).sum()))(T(W), T(X))
    _close(ours, theirs)

    def rowwise(L, r):
        return L.tanh(r) * r[0]

    for ng_jac, t_jac in ((ng.jacrev, tf.jacrev), (ng.jacfwd, tf.jacfwd)):
        ours = ng.vmap(ng_jac(lambda x: ng.vmap(lambda r: rowwise(ng, r))(x)))(X)
        theirs = tf.vmap(t_jac(lambda x: tf.vmap(lambda r: rowwise(torch, r))(x)))(T(X))
        _close(ours, theirs)
        ours = ng_jac(ng.vmap(ng.vmap(lambda r: rowwise(ng, r))))(X[:2, :2, :3])
        theirs = t_jac(tf.vmap(tf.vmap(lambda r: rowwise(torch, r))))(T(X[:2, :2, :3]))
        _close(ours, theirs)
    ours = ng.vmap(ng.vmap(ng.hessian(lambda r: (ng.sin(r) * r.sum()).sum())))(X)
    theirs = tf.vmap(tf.vmap(tf.hessian(lambda r: (torch.sin(r) * r.sum()).sum())))(T(X))
    _close(ours, theirs, rtol=1e-11)


def test_jvp_inside_nested_vmap_with_tangents_batched_by_the_inner_vmap_only(rng):
    """The primal is batched by the outer vmap, its tangent by the inner one: both axes meet in
    every JVP rule (matmul, reduction, relu)."""
    X, V, A = rng.standard_normal((3, 4)), rng.standard_normal((5, 4)), rng.standard_normal((4, 4))

    def f(L, x):
        return L.relu(x @ T(A) if L is torch else x @ A).sum() * x

    ours = ng.vmap(lambda x: ng.vmap(lambda v: ng.jvp(lambda u: f(ng, u), (x,), (v,))[1])(V))(X)
    theirs = tf.vmap(lambda x: tf.vmap(lambda v: tf.jvp(lambda u: f(torch, u), (x,), (v,))[1])(T(V)))(T(X))
    _close(ours, theirs)


@pytest.mark.parametrize("index", [[[0, 3], [1, 1], [2, 2]], [[0, 3]]])
def test_per_example_gradients_through_take_along_axis_and_gather_with_a_constant_index(index):
    """vmap(grad(...)) of a gather with an unbatched index used to fail in the scatter-add."""
    xs = np.stack([np.arange(12.0).reshape(3, 4) / 3, np.arange(12.0).reshape(3, 4) / 5])
    ours = ng.vmap(ng.grad(lambda v: (ng.take_along_axis(v, ng.tensor(index), dim=1) ** 2).sum()))(xs)
    ref = torch.func.vmap(torch.func.grad(lambda v: (torch.take_along_dim(v, torch.tensor(index), dim=1) ** 2).sum()))(T(xs))
    _close(ours, ref)
    ours = ng.vmap(ng.grad(lambda v: (ng.gather(v, 1, ng.tensor([[0, 1], [2, 0]])) ** 3).sum()))(xs)
    ref = torch.func.vmap(torch.func.grad(lambda v: (torch.gather(v, 1, torch.tensor([[0, 1], [2, 0]])) ** 3).sum()))(T(xs))
    _close(ours, ref)


def test_vmap_names_an_in_axis_out_of_range():
    with pytest.raises(ValueError, match=r"vmap: in_axes entry 2 is out of range for input 0 of shape \(3, 2\).*-2\.\.1"):
        ng.vmap(lambda a: a * 2, in_axes=2)(np.ones((3, 2)))
    with pytest.raises(ValueError, match="vmap: in_axes entry 0 .* shape \\(\\).*give None"):
        ng.vmap(lambda a: a * 2)(ng.tensor(1.0))
    _close(ng.vmap(lambda a: a * 2, in_axes=-1)(np.ones((3, 2))), torch.func.vmap(lambda a: a * 2, in_dims=-1)(torch.ones(3, 2)))
