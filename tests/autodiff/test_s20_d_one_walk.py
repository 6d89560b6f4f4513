"""One transform call walks its graph once (issue 9's "no slowdown"): ``value_and_grad``/``grad`` sort the tape
walk once and answer from that sort whether ``f`` closed over a tensor requiring grad; ``jacrev`` sorts each
output's walk once for all its rows.  The per-result rule still holds, checked against torch.func: a result keeps
its graph exactly when it depends on a tensor the user made that requires grad (requires_grad, and the gradient
an outer backward gives), here where the answers come from the sort, the memo or the walk of many results."""

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.autodiff import backward as bw

torch = pytest.importorskip("torch")
from torch import func as tf  # noqa: E402

pytestmark = pytest.mark.numpy_only("transforms are the same code on every device; one oracle run")

RNG = np.random.default_rng(20)
WN = RNG.standard_normal((3, 3)) / 2
XN = RNG.standard_normal(3)
YN = RNG.standard_normal(3)


def _params():
    return ng.nn.Parameter(ng.tensor(WN)), torch.tensor(WN, requires_grad=True)


@pytest.fixture
def sorts(monkeypatch):
    """How many times the tape walk's topological sort runs."""
    calls = []
    real = bw._toposort

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(bw, "_toposort", counted)
    return calls


def _chain(lib, w, x, layers=5):
    h = x
    for _ in range(layers):
        h = lib.tanh(w @ h)
    return h


@pytest.mark.parametrize("closed", [True, False])
def test_value_and_grad_sorts_once(sorts, closed):
    W, _ = _params()
    if closed:
        value, g = ng.value_and_grad(lambda x: _chain(ng, W, x).sum())(XN)
    else:
        value, g = ng.value_and_grad(lambda x, w: _chain(ng, w, x).sum())(XN, WN)
    assert len(sorts) == 1
    assert value.requires_grad is closed and g.requires_grad is closed


def test_jacrev_sorts_once_per_output(sorts):
    W, Wt = _params()
    jac = ng.jacrev(lambda x: [_chain(ng, W, x), 2.0 * x.sum()])(XN)
    assert len(sorts) == 2  # two outputs of 3 and 1 rows
    want = tf.jacrev(lambda x: [_chain(torch, Wt, x), 2.0 * x.sum()])(torch.tensor(XN))
    for a, b in zip(jac, want):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-12, atol=1e-14)
    assert jac[0].requires_grad


@pytest.mark.parametrize("name", ["linear in W", "nonlinear in W"])
def test_grad_keeps_its_graph_per_result_as_torch_func(name):
    """grad((x + ΣW)·1) = 1 does not depend on W (plain, as torch.func's); grad of tanh(W x) does (graph kept,
    and an outer backward gives torch's mixed second derivative)."""
    W, Wt = _params()
    fs = {"linear in W": lambda L, w: lambda x: (x + w.sum()).sum(),
          "nonlinear in W": lambda L, w: lambda x: (_chain(L, w, x) ** 2).sum()}  # fmt: skip
    g = ng.grad(fs[name](ng, W))(XN)
    gt = tf.grad(fs[name](torch, Wt))(torch.tensor(XN))
    np.testing.assert_allclose(g.numpy(), gt.detach().numpy(), rtol=1e-12)
    assert g.requires_grad == gt.requires_grad
    if gt.requires_grad:
        (g * ng.tensor(YN)).sum().backward()
        (gt * torch.tensor(YN)).sum().backward()
        np.testing.assert_allclose(W.grad.numpy(), Wt.grad.numpy(), rtol=1e-10)


def test_argnums_tuple_each_gradient_decided_alone():
    """Two gradients of one call: ∂/∂x reads W (kept), ∂/∂y = tanh(W x)·1 + 1 reads W too; a third argument
    entering linearly gets a plain gradient — as torch.func decides each."""
    W, Wt = _params()

    def f(L, w):
        return lambda x, y, z: (_chain(L, w, x) * y).sum() + (2.0 * z).sum()

    gs = ng.grad(f(ng, W), argnums=(0, 1, 2))(XN, YN, XN)
    gts = tf.grad(f(torch, Wt), argnums=(0, 1, 2))(torch.tensor(XN), torch.tensor(YN), torch.tensor(XN))
    for a, b in zip(gs, gts):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-12)
    assert [a.requires_grad for a in gs] == [b.requires_grad for b in gts] == [True, True, False]


def test_many_results_far_from_the_parameter():
    """Results whose path to the user's tensor is longer than one result's own search (the walk of all of them
    together decides): the two that read it keep their graph, the third is plain, as torch.func's."""
    xu, xt = ng.tensor(XN, requires_grad=True), torch.tensor(XN, requires_grad=True)

    def f(L, x):
        def g(y):
            h = x
            for _ in range(80):
                h = L.tanh(0.9 * h)
            return [(h * y).sum(), (2.0 * h * y).sum(), 3.0 * y]

        return g

    out, _ = ng.vjp(f(ng, xu), YN)
    want, _ = tf.vjp(f(torch, xt), torch.tensor(YN))
    assert [o.requires_grad for o in out] == [o.requires_grad for o in want] == [True, True, False]
    (out[0] + out[1]).backward()
    (want[0] + want[1]).backward()
    np.testing.assert_allclose(xu.grad.numpy(), xt.grad.numpy(), rtol=1e-10)


def test_in_place_write_inside_f_keeps_the_graph():
    """A node written in place inside f (the sort then does not answer; the walk down the graph does): the
    gradient is torch.func's and keeps its graph to the parameter."""
    W, Wt = _params()

    def f(L, w):
        def g(x):
            h = w @ x
            h.mul_(2.0)
            return L.tanh(h).sum()

        return g

    g = ng.grad(f(ng, W))(XN)
    gt = tf.grad(f(torch, Wt))(torch.tensor(XN))
    np.testing.assert_allclose(g.numpy(), gt.detach().numpy(), rtol=1e-12)
    assert g.requires_grad and gt.requires_grad
    g.sum().backward()
    gt.sum().backward()
    np.testing.assert_allclose(W.grad.numpy(), Wt.grad.numpy(), rtol=1e-10)
