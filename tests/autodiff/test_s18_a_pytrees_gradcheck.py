"""Named tuples are pytrees (as in JAX and torch.func): through grad/jacrev/vmap/checkpoint, against
torch.func; ``gradcheck`` and ``checkpoint`` in PyTorch's call forms (a tuple of inputs, ``raise_exception``,
tuple outputs, ``checkpoint(f, *args, use_reentrant=False)``) against torch."""

from collections import namedtuple

import numpy as np
import pytest
import torch
import torch.func as tf

import nablagrad as ng

Params = namedtuple("Params", "w b")
RNG = np.random.default_rng(18)
X, Y = RNG.standard_normal(3), RNG.standard_normal(3)
M = RNG.standard_normal((4, 3))


def test_tree_flatten_keeps_a_namedtuple_as_a_container():
    p = Params(w=np.ones(2), b=(np.zeros(1), None))
    leaves, tree = ng.tree_flatten(p)
    assert len(leaves) == 2
    back = ng.tree_unflatten(tree, leaves)
    assert type(back) is Params and back.b[1] is None and back.w is leaves[0]
    assert repr(tree) == "Params(*, (*, None))"
    assert tree != ng.tree_flatten((np.ones(2), (np.zeros(1), None)))[1]  # a plain tuple is another structure


def _t(p):
    return Params(*(torch.tensor(v) for v in p))


def test_grad_and_value_and_grad_of_namedtuple_parameters_as_torch_func():
    def loss(p, x, lib):
        return (lib.tanh(p.w * x) + p.b).sum()

    p = Params(w=X, b=np.float64(0.5))
    g = ng.grad(lambda p: loss(p, Y, ng))(p)
    gj = tf.grad(lambda p: loss(p, torch.tensor(Y), torch))(_t(p))
    assert type(gj) is Params
    assert type(g) is Params
    assert np.allclose(np.asarray(g.w), np.asarray(gj.w)) and np.isclose(float(g.b), float(gj.b))
    (v, aux), g2 = ng.value_and_grad(lambda p: (loss(p, Y, ng), Params(p.w.sum(), 1)), has_aux=True)(p)
    assert type(aux) is Params and np.allclose(np.asarray(g2.w), np.asarray(gj.w))


def test_jacrev_and_jacfwd_of_a_namedtuple_output_as_torch_func():
    f = lambda x, lib: Params(w=lib.sin(x) * x[0], b=(x**2).sum())  # noqa: E731
    for ours, theirs in ((ng.jacrev, tf.jacrev), (ng.jacfwd, tf.jacfwd)):
        J, Jt = ours(lambda x: f(x, ng))(X), theirs(lambda x: f(x, torch))(torch.tensor(X))
        assert type(J) is type(Jt) is Params
        assert np.allclose(np.asarray(J.w), Jt.w.numpy()) and np.allclose(np.asarray(J.b), Jt.b.numpy())


def test_vmap_of_a_function_returning_values_and_indices_as_torch_func():
    out = ng.vmap(lambda a: ng.max(a, dim=0))(M)
    ref = tf.vmap(lambda a: torch.max(a, dim=0))(torch.tensor(M))
    assert np.allclose(np.asarray(out.values), ref.values.numpy())
    assert np.asarray(out.indices).tolist() == ref.indices.tolist()


def test_vmap_in_axes_over_namedtuple_fields():
    p = Params(w=M, b=X)
    out = ng.vmap(lambda p: p.w * p.b, in_axes=(Params(0, None),))(p)
    assert np.allclose(np.asarray(out), M * X)


def test_checkpoint_of_a_namedtuple_output_gives_the_gradients_of_f():
    xt = ng.tensor(M, requires_grad=True)
    out = ng.checkpoint(lambda a: ng.max(ng.sin(a) * 2, dim=0))(xt)
    assert type(out).__name__ == "ValuesIndices"
    out.values.sum().backward()
    ref = torch.tensor(M, requires_grad=True)
    torch.max(torch.sin(ref) * 2, dim=0).values.sum().backward()
    assert np.allclose(xt.grad.numpy(), ref.grad.numpy())


def test_checkpoint_in_torchs_call_form():
    # (torch.utils.checkpoint's gradients are those of f itself: f in plain torch autograd is the oracle)
    xt, rt = ng.tensor(M, requires_grad=True), torch.tensor(M, requires_grad=True)
    w, wt = ng.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    f = lambda a, scale, lib: (lib.tanh(a * w if lib is ng else a * wt) * scale).sum()  # noqa: E731
    out = ng.checkpoint(f, xt, 3.0, use_reentrant=False, lib=ng)
    ref = f(rt, 3.0, lib=torch)
    assert np.isclose(float(out), float(ref))
    out.backward()
    ref.backward()
    assert np.allclose(xt.grad.numpy(), rt.grad.numpy()) and np.allclose(w.grad.numpy(), wt.grad.numpy())
    with pytest.raises(ValueError, match="preserve_rng_state"):
        ng.checkpoint(f, xt, 3.0, preserve_rng_state=False, lib=ng)
    with pytest.raises(TypeError, match="callable"):
        ng.checkpoint(xt)


def test_gradcheck_takes_torchs_tuple_of_inputs():
    f = lambda a, b: ng.sin(a) * b  # noqa: E731
    assert ng.gradcheck(f, (X, Y))
    assert torch.autograd.gradcheck(lambda a, b: torch.sin(a) * b,
                                    (torch.tensor(X, requires_grad=True), torch.tensor(Y, requires_grad=True)))  # fmt: skip
    assert ng.gradcheck(f, (ng.tensor(X), ng.tensor(Y)))


def test_gradcheck_raise_exception_false_returns_false_as_torch():
    wrong = lambda a: a.detach() * a  # noqa: E731 - the rule sees one factor, the differences two
    assert ng.gradcheck(wrong, X, raise_exception=False) is False
    assert torch.autograd.gradcheck(lambda a: a.detach() * a, (torch.tensor(X, requires_grad=True),),
                                    raise_exception=False) is False  # fmt: skip
    with pytest.raises(ng.GradcheckError, match="worst entries"):
        ng.gradcheck(wrong, X)


def test_gradcheck_of_tuple_outputs_checks_each_float_output():
    assert ng.gradcheck(lambda a, b: (a * b, (a**2).sum(), ng.argmax(a)), X, Y)  # the index output is left out
    bad = lambda a: (a * 2, a.detach() * a)  # noqa: E731 - the second output's derivative is wrong
    assert ng.gradcheck(bad, X, raise_exception=False) is False
    assert torch.autograd.gradcheck(lambda a: (a * 2, a.detach() * a), (torch.tensor(X, requires_grad=True),),
                                    raise_exception=False) is False  # fmt: skip
