"""A compiled function (``ng.jit``) under the function transforms — vmap, grad, vjp, jvp, jacrev, jacfwd,
hessian, nested — against torch.func on the same function (float64), and against the transform of the function
without jit.  Under a transform a compiled function runs the function itself, as JAX retraces a ``jit`` inside
a transform; ``vmap(jit(f))`` used to fail with "out_axes entry 0 is out of range" (the program, made of raw
arrays, lost the batch), ``jacrev(jit(f))`` with "differentiated already", ``jvp(jit(f))`` was refused."""

import numpy as np
import pytest
import torch
import torch.func as tf

import nablagrad as ng

R = np.random.default_rng(2015)
X = R.standard_normal(4)
XB = R.standard_normal((5, 4))
W = R.standard_normal((4, 3))
V = R.standard_normal(4)


def _close(ours, theirs):
    ours = ours.numpy() if isinstance(ours, ng.Tensor) else np.asarray(ours)
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


def scalar(L, x):  # sum(sin(x) * x^2)
    return (L.sin(x) * x**2.0).sum()


def vector(L, x):  # tanh(x)^3 * x[0]
    return L.tanh(x) ** 3.0 * x[0]


def _ng(fn):
    return lambda x: fn(ng, x)


def _torch(fn):
    return lambda x: fn(torch, x)


def test_vmap_of_a_compiled_scalar_function_matches_torch():
    f = _ng(scalar)
    got = ng.vmap(ng.jit(f))(XB)
    _close(got, tf.vmap(_torch(scalar))(torch.tensor(XB)))
    _close(got, ng.vmap(f)(XB))


def test_vmap_of_a_compiled_function_with_in_axes_and_a_captured_weight_matches_torch():
    w_ng, w_t = ng.tensor(W, requires_grad=True), torch.tensor(W, requires_grad=True)
    got = ng.vmap(ng.jit(lambda b, x: ng.tanh(x @ w_ng) * b), in_axes=(None, 0))(2.0, XB)
    two = torch.tensor(2.0, dtype=torch.float64)
    ref = tf.vmap(lambda b, x: torch.tanh(x @ w_t) * b, in_dims=(None, 0))(two, torch.tensor(XB))
    _close(got, ref)
    got.sum().backward()  # vmap's result keeps its graph: back to the captured weight, as torch's
    ref.sum().backward()
    _close(w_ng.grad, w_t.grad)


def test_vmap_of_a_compiled_function_returning_a_tuple_matches_torch():
    got = ng.vmap(ng.jit(lambda x: (ng.sin(x).sum(), ng.cos(x))))(XB)
    ref = tf.vmap(lambda x: (torch.sin(x).sum(), torch.cos(x)))(torch.tensor(XB))
    for g, r in zip(got, ref):
        _close(g, r)


def test_grad_and_value_and_grad_of_a_compiled_function_match_torch():
    _close(ng.grad(ng.jit(_ng(scalar)))(X), tf.grad(_torch(scalar))(torch.tensor(X)))
    v, g = ng.value_and_grad(ng.jit(_ng(scalar)))(X)
    tg, tv = tf.grad_and_value(_torch(scalar))(torch.tensor(X))  # (torch.func gives the gradient first)
    _close(v, tv)
    _close(g, tg)


def test_jacrev_of_a_compiled_function_matches_torch_and_the_uncompiled_one():
    got = ng.jacrev(ng.jit(_ng(vector)))(X)
    _close(got, tf.jacrev(_torch(vector))(torch.tensor(X)))
    _close(got, ng.jacrev(_ng(vector))(X))


def test_forward_mode_through_a_compiled_function_matches_torch():
    out, tan = ng.jvp(ng.jit(_ng(vector)), (X,), (V,))
    t_out, t_tan = tf.jvp(_torch(vector), (torch.tensor(X),), (torch.tensor(V),))
    _close(out, t_out)
    _close(tan, t_tan)
    _close(ng.jacfwd(ng.jit(_ng(vector)))(X), tf.jacfwd(_torch(vector))(torch.tensor(X)))


def test_hessian_and_grad_of_grad_of_a_compiled_function_match_torch():
    _close(ng.hessian(ng.jit(_ng(scalar)))(X), tf.hessian(_torch(scalar))(torch.tensor(X)))
    gg = ng.grad(lambda x: ng.grad(ng.jit(_ng(scalar)))(x).sum())(X)
    _close(gg, tf.grad(lambda x: tf.grad(_torch(scalar))(x).sum())(torch.tensor(X)))


def test_a_vjp_of_a_compiled_function_pulls_back_twice_as_torchs():
    out, pull = ng.vjp(ng.jit(_ng(vector)), X)
    t_out, t_pull = tf.vjp(_torch(vector), torch.tensor(X))
    _close(out, t_out)
    for ct in (V, 2.0 * V):
        _close(pull(ct)[0], t_pull(torch.tensor(ct))[0])


def test_per_example_gradients_of_a_compiled_loss_match_torch():
    def loss(L, w, x):
        return (L.tanh(x @ w) ** 2.0).sum()

    got = ng.vmap(ng.grad(ng.jit(lambda w, x: loss(ng, w, x))), in_axes=(None, 0))(W, XB)
    ref = tf.vmap(tf.grad(lambda w, x: loss(torch, w, x)), in_dims=(None, 0))(torch.tensor(W), torch.tensor(XB))
    _close(got, ref)


@pytest.mark.numpy_only("ng.jit compiles NumPy programs only; on another array library it runs the function plainly")
def test_a_compiled_function_used_under_a_transform_still_compiles_outside_one():
    jf = ng.jit(_ng(scalar))
    ng.vmap(jf)(XB)
    ng.grad(jf)(X)
    assert jf.traces == 0  # under the transforms it ran the function itself
    x = ng.tensor(X, requires_grad=True)
    for _ in range(2):  # the trace, then a replay (checked against the function)
        out = jf(x)
    assert jf.traces == 1
    out.backward()
    t = torch.tensor(X, requires_grad=True)
    scalar(torch, t).backward()
    _close(out, scalar(torch, t))
    _close(x.grad, t.grad)
