"""vmap's results at the outermost level follow the rule of every transform, as torch.func's: a result whose graph
leads only to the leaves that transforms inside f made (``vmap(grad(sin))``) is a plain value (no grad_fn, not
requiring grad); one that depends on a tensor the user made that requires grad (an argument, a parameter read
inside f) keeps its graph and back-propagates to it.  Compositions up to three deep, with chunk_size, in_dims=None
parts and out_dims, checked against torch.func for values, requires_grad / grad_fn and the backward gradients."""

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")
from torch import func as tf  # noqa: E402

pytestmark = pytest.mark.numpy_only("transforms are the same code on every device; one oracle run")

X = np.array([[0.1, 0.2, 0.3], [1.0, -1.0, 0.5]])
X3 = np.array([-1.0, 0.5, 1.0])
W = np.array([0.3, -0.2, 0.7])


class _Lib:
    """The same composition written once, run by nablagrad or by torch.func."""

    def __init__(self, lib):
        self.lib, self.T = lib, ng if lib is ng else tf

    def __getattr__(self, name):
        return getattr(self.lib, name)

    def t(self, a, requires_grad=False):
        return self.lib.tensor(np.array(a, dtype=np.float64), requires_grad=requires_grad)


def _f(L, r):
    return (L.sin(r) * L.exp(0.3 * r)).sum()


COMPOSITIONS = {  # name -> (build(L, w) -> function, inputs); w is a parameter requiring grad, read inside f
    "vmap.grad": (lambda L, w: L.T.vmap(L.T.grad(L.sin)), [X3]),
    "vmap.grad.grad": (lambda L, w: L.T.vmap(L.T.grad(L.T.grad(lambda s: L.sin(s) * s * s))), [X3]),
    "vmap.vmap.grad": (lambda L, w: L.T.vmap(L.T.vmap(L.T.grad(L.sin))), [X]),
    "vmap.jacrev": (lambda L, w: L.T.vmap(L.T.jacrev(lambda r: L.sin(r) * r)), [X]),
    "vmap.hessian": (lambda L, w: L.T.vmap(L.T.hessian(lambda r: _f(L, r))), [X]),
    "vmap.jacfwd.jacrev": (lambda L, w: L.T.vmap(L.T.jacfwd(L.T.jacrev(lambda r: _f(L, r)))), [X]),
    "vmap.vjp": (lambda L, w: L.T.vmap(lambda r: L.T.vjp(L.sin, r)[1](L.t(np.ones(3)))[0]), [X]),
    "vmap.jvp.grad": (lambda L, w: L.T.vmap(lambda r: L.T.jvp(L.T.grad(lambda q: _f(L, q)), (r,), (L.t(np.ones(3)),))[1]),
                      [X]),  # fmt: skip
    "vmap.grad chunk_size=1": (lambda L, w: L.T.vmap(L.T.grad(lambda r: _f(L, r)), chunk_size=1), [X]),
    "vmap.grad out_dims=1": (lambda L, w: L.T.vmap(L.T.grad(lambda r: _f(L, r)), out_dims=1), [X]),
    "vmap.grad in_dims=(None, 0)": (lambda L, w: L.T.vmap(L.T.grad(lambda a, r: L.sin(a * r).sum()), in_dims=(None, 0)),
                                    [X3, X]),  # fmt: skip
    "vmap.grad.grad in_dims=(None, 0)": (
        lambda L, w: L.T.vmap(L.T.grad(L.T.grad(lambda a, b: L.sin(a * b)), argnums=0), in_dims=(None, 0)), [0.7, X3]),
    "vmap.grad argnums=(0, 1)": (lambda L, w: L.T.vmap(L.T.grad(lambda a, b: (a * L.sin(b)).sum(), argnums=(0, 1))),
                                 [X, X]),  # fmt: skip
    "vmap -> (grad, value) out_dims=(1, 0)": (
        lambda L, w: L.T.vmap(lambda r: (L.T.grad(lambda q: L.sin(q).sum())(r), r.sum()), out_dims=(1, 0)), [X]),
    "vmap.grad reads w": (lambda L, w: L.T.vmap(L.T.grad(lambda r: L.sin(r * w).sum())), [X]),
    "vmap.grad.grad reads w": (lambda L, w: L.T.vmap(L.T.grad(L.T.grad(lambda s: L.sin(s * w[0]) * s))), [X3]),
    "vmap.grad chunk_size=1 reads w": (lambda L, w: L.T.vmap(L.T.grad(lambda r: _f(L, r * w)), chunk_size=1), [X]),
    "vmap -> (grad, w-part)": (lambda L, w: L.T.vmap(lambda r: (L.T.grad(lambda q: L.sin(q).sum())(r), r * w)), [X]),
    "grad.vmap.jacrev": (lambda L, w: L.T.grad(lambda x: (L.T.vmap(L.T.jacrev(lambda r: L.tanh(r) * r.sum()))(x) ** 2).sum()),
                         [X]),  # fmt: skip
    "jvp.vmap.grad": (lambda L, w: lambda x: L.T.jvp(L.T.vmap(L.T.grad(lambda r: _f(L, r))), (x,), (0.5 * x.detach(),)),
                      [X]),  # fmt: skip
    "hessian.vmap": (lambda L, w: L.T.hessian(lambda x: L.T.vmap(lambda r: _f(L, r))(x).sum()), [X]),
    "jacrev.vmap.grad": (lambda L, w: L.T.jacrev(L.T.vmap(L.T.grad(lambda r: _f(L, r)))), [X]),
    "jacfwd.vmap.grad": (lambda L, w: L.T.jacfwd(L.T.vmap(L.T.grad(lambda r: _f(L, r)))), [X]),
}


def _leaves(out) -> list:
    return [y for x in out for y in _leaves(x)] if isinstance(out, tuple | list) else [out]


def _run(lib, name: str, requires_grad: bool):
    """The composition's results as (value, requires_grad, has a grad_fn) per output, and the gradient of
    Σ‖result‖² for each user tensor that requires grad (None where it does not reach it)."""
    L = _Lib(lib)
    build, inputs = COMPOSITIONS[name]
    xs = [L.t(a, requires_grad) for a in inputs]
    w = L.t(W, True)
    outs = _leaves(build(L, w)(*xs))
    seen = [(o.detach().numpy(), o.requires_grad, (o.grad_fn if lib is torch else o._op) is not None) for o in outs]
    users = [x for x in xs if x.requires_grad] + [w]
    kept = [o for o in outs if o.requires_grad]
    if not kept:
        return seen, None
    total = sum((o * o).sum() for o in kept)
    if lib is torch:
        grads = torch.autograd.grad(total, users, allow_unused=True)
    else:
        total.backward()
        grads = [u.grad for u in users]
    return seen, [None if g is None else g.numpy() for g in grads]


@pytest.mark.parametrize("requires_grad", [False, True], ids=["plain inputs", "inputs require grad"])
@pytest.mark.parametrize("name", COMPOSITIONS)
def test_outermost_results_are_plain_unless_they_reach_a_users_tensor(name, requires_grad):
    ours, our_grads = _run(ng, name, requires_grad)
    theirs, their_grads = _run(torch, name, requires_grad)
    assert len(ours) == len(theirs)
    for (v, rg, fn), (tv, trg, tfn) in zip(ours, theirs):
        np.testing.assert_allclose(v, tv, rtol=1e-10, atol=1e-12)
        assert (rg, fn) == (trg, tfn), f"{name}: requires_grad/grad_fn ({rg}, {fn}) but torch.func gives ({trg}, {tfn})"
    assert (our_grads is None) == (their_grads is None)
    for g, tg in zip(our_grads or [], their_grads or []):
        np.testing.assert_allclose(0.0 if g is None else g, 0.0 if tg is None else tg, rtol=1e-9, atol=1e-12)


def test_the_issues_reproducer_is_a_plain_value():
    g = ng.vmap(ng.grad(ng.sin))(np.array([-1.0, 0.0, 1.0]))
    assert not g.requires_grad and g._op is None
    np.testing.assert_allclose(g.numpy(), np.cos([-1.0, 0.0, 1.0]), rtol=1e-15)
    assert not g._tangents  # no batch mark or tangent survives the vmap either


def test_per_example_gradients_of_a_parameter_passed_in_keep_its_graph():
    """``vmap(grad(loss), in_axes=(None, 0, 0))(w, X, y)``, w requiring grad: torch.func keeps the graph to w
    (a second-order penalty on per-example gradients trains w); with a plain w the result is plain."""

    def per_example(L, T, w, x, y):
        loss = lambda w, x, y: (L.tanh((x * w).sum()) - y) ** 2  # noqa: E731
        return T.vmap(T.grad(loss), in_dims=(None, 0, 0))(w, x, y)

    y = np.array([0.5, -0.25])
    for rg in (False, True):
        w = ng.tensor(W.copy(), requires_grad=rg)
        wt = torch.tensor(W.copy(), requires_grad=rg)
        g = per_example(ng, ng, w, ng.tensor(X), ng.tensor(y))
        gt = per_example(torch, tf, wt, torch.tensor(X), torch.tensor(y))
        np.testing.assert_allclose(g.detach().numpy(), gt.detach().numpy(), rtol=1e-12)
        assert g.requires_grad is gt.requires_grad is rg
        if rg:
            (g**2).sum().backward()
            (gt**2).sum().backward()
            np.testing.assert_allclose(w.grad.numpy(), wt.grad.numpy(), rtol=1e-10)


def test_an_output_not_reading_the_parameter_is_plain_while_its_sibling_keeps_the_graph():
    w = ng.tensor(W, requires_grad=True)
    g, p = ng.vmap(lambda r: (ng.grad(lambda q: ng.sin(q).sum())(r), r * w))(ng.tensor(X))
    assert not g.requires_grad and g._op is None
    assert p.requires_grad
    p.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), X.sum(axis=0), rtol=1e-15)


UNDER_NO_GRAD = {  # a transform called under no_grad computes its derivatives, and returns them cut (torch.func's rule)
    "grad": lambda L, T, w: T.grad(lambda r: L.sin(r * w).sum())(L.tensor(X[0])),
    "vmap.grad": lambda L, T, w: T.vmap(T.grad(lambda r: L.sin(r * w).sum()))(L.tensor(X)),
    "jvp": lambda L, T, w: T.jvp(lambda r: L.sin(r * w), (L.tensor(X[0]),), (L.tensor(X[1]),))[1],
    "jacrev": lambda L, T, w: T.jacrev(lambda r: L.sin(r * w))(L.tensor(X[0])),
    "vjp": lambda L, T, w: T.vjp(lambda r: L.sin(r * w), L.tensor(X[0]))[0],
    "vjp pullback": lambda L, T, w: T.vjp(lambda r: L.sin(r * w), L.tensor(X[0]))[1](L.tensor(X[1]))[0],
    "vmap.grad of an argument requiring grad": lambda L, T, w: T.vmap(T.grad(lambda r: L.sin(r).sum()))(
        L.tensor(X, requires_grad=True)),
}


@pytest.mark.parametrize("name", UNDER_NO_GRAD)
def test_under_no_grad_results_carry_no_graph_even_to_a_parameter(name):
    w, wt = ng.tensor(W, requires_grad=True), torch.tensor(W, requires_grad=True)
    with ng.no_grad():
        ours = UNDER_NO_GRAD[name](ng, ng, w)
    with torch.no_grad():
        theirs = UNDER_NO_GRAD[name](torch, tf, wt)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    assert not ours.requires_grad and ours._op is None and not theirs.requires_grad
    assert ng.is_grad_enabled()
