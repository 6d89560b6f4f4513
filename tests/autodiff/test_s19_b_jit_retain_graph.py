"""A compiled call's results back-propagated more than once, as in PyTorch (eager and ``torch.compile``):
``retain_graph=True`` keeps the call's intermediates, so each result (or the same one again) can be differentiated
later and the gradients accumulate as torch's; without it a second backward raises PyTorch's RuntimeError, the
same words as eager mode; a refused ``create_graph`` leaves nothing behind; the common path (one backward) still
frees the intermediates. Also: Python numbers, strings and None among a compiled function's results."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.numpy_only("compiled programs are NumPy programs; other devices run the function itself")

RNG = np.random.default_rng(19)
X, W = RNG.standard_normal((3, 4)), RNG.standard_normal((4, 2))
SECOND_TIME = "Trying to backward through the graph a second time"


def _f(m, x, w):
    """Results that share intermediates: a loss, a matrix, the loss again, an input, integers."""
    z = m.tanh(x @ w)
    s = (z**2).sum()
    return s, z * 3, s, x, z.argmax()


def _pair():
    return ng.tensor(X, requires_grad=True), ng.tensor(W, requires_grad=True)


def _torch_pair():
    return torch.tensor(X, requires_grad=True), torch.tensor(W, requires_grad=True)


def test_each_result_of_one_call_backpropagates_separately_with_retain_graph():
    jf = ng.jit(lambda x, w: _f(ng, x, w))
    for _ in range(3):  # the trace, the checked replay, a replay
        (x, w), (xt, wt) = _pair(), _torch_pair()
        s, z, s2, xo, _ = jf(x, w)
        st, zt, s2t, xot, _ = _f(torch, xt, wt)
        s.backward(retain_graph=True)
        st.backward(retain_graph=True)
        z.backward(ng.tensor(np.arange(6.0).reshape(3, 2)), retain_graph=True)
        zt.backward(torch.arange(6.0, dtype=torch.float64).reshape(3, 2), retain_graph=True)
        (s2 * 2 + xo.sum()).backward(retain_graph=True)  # eager ops after the call, then the call again
        (s2t * 2 + xot.sum()).backward(retain_graph=True)
        s.backward()  # the same result a second time
        st.backward()
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12)
        np.testing.assert_allclose(w.grad.numpy(), wt.grad.numpy(), rtol=1e-12)


def test_grad_of_with_retain_graph_then_grad_of_another_result_as_torch_autograd_grad():
    jf = ng.jit(lambda x: ((x * x).sum(), (x * 3).sum()))
    for _ in range(3):
        x, xt = ng.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
        a, b = jf(x)
        at, bt = (xt * xt).sum(), (xt * 3).sum()
        (ga,) = ng.grad_of(a, [x], retain_graph=True)
        (gat,) = torch.autograd.grad(at, xt, retain_graph=True)
        (gb,) = ng.grad_of(b, [x])
        (gbt,) = torch.autograd.grad(bt, xt)
        np.testing.assert_allclose(ga.numpy(), gat.numpy(), rtol=1e-12)
        np.testing.assert_allclose(gb.numpy(), gbt.numpy(), rtol=1e-12)
        assert x.grad is None  # grad_of accumulates nothing, as torch.autograd.grad
        a, b = jf(x)
        a.backward(retain_graph=True)  # a is the case: x.grad = 2x + 3
        b.backward()
        np.testing.assert_allclose(x.grad.numpy(), 2 * X + 3, rtol=1e-12)


@pytest.mark.parametrize("several", [False, True], ids=["one-result", "two-results"])
def test_a_second_backward_without_retain_graph_raises_pytorchs_error_as_eager_mode(several):
    x = ng.tensor(X, requires_grad=True)
    eager = (ng.sin(x) * x).sum()
    eager.backward()
    with pytest.raises(RuntimeError, match=SECOND_TIME) as eager_error:
        eager.backward()
    fn = (lambda x: ((ng.sin(x) * x).sum(), x.sum() * 2)) if several else (lambda x: (ng.sin(x) * x).sum())
    jf = ng.jit(fn)
    for _ in range(3):
        first = jf(x)
        first, second = first if several else (first, first)
        first.backward()
        with pytest.raises(RuntimeError, match=SECOND_TIME) as jit_error:
            second.backward()
        assert str(jit_error.value) == str(eager_error.value)  # one wording
    t = torch.tensor(X, requires_grad=True)
    ta = (torch.sin(t) * t).sum()
    ta.backward()
    with pytest.raises(RuntimeError, match=SECOND_TIME):  # (torch.compile raises it for two results too: one node)
        ta.backward()


def test_a_refused_create_graph_leaves_the_call_differentiable_with_the_exact_gradient():
    jf = ng.jit(lambda x: ((ng.sin(x) * x).sum(), (x**2).sum()))
    for _ in range(3):
        x = ng.tensor(X, requires_grad=True)
        a, _ = jf(x)
        with pytest.raises(ng.JitError, match="higher-order"):
            a.backward(create_graph=True)
        assert x.grad is None
        a.backward()  # the refused walk left no cotangent behind (it was counted twice)
        np.testing.assert_allclose(x.grad.numpy(), np.cos(X) * X + np.sin(X), rtol=1e-12)


def _held_after_backward(retain: bool) -> int:
    """Bytes NumPy still holds after one backward through a compiled call whose two 2 MB intermediates
    (exp(x), 2·exp(x)) are not results; the result itself is kept alive."""
    n = 250_000
    jf = ng.jit(lambda x: (ng.exp(x) * 2).sum())
    jf(ng.tensor(np.zeros(n), requires_grad=True))  # the trace and its check, outside the measurement
    x = ng.tensor(np.zeros(n), requires_grad=True)
    jf(x).backward()
    x.grad = None
    tracemalloc.start()
    try:
        out = jf(x)
        out.backward(retain_graph=retain)
        x.grad = None
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    del out
    return held


def test_one_backward_frees_the_intermediates_and_retain_graph_keeps_them():
    freed, kept = _held_after_backward(False), _held_after_backward(True)
    assert freed < 1_000_000  # a few small objects, no 2 MB array
    assert kept >= 4_000_000  # both intermediates, for the next backward


def test_python_numbers_strings_and_none_among_the_results_come_back_as_they_are():
    def f(x):
        return {"loss": (x * x).sum(), "n": x.shape[0], "scale": 1.5, "tag": "mse", "nothing": None, "ok": True}

    jf = ng.jit(f)
    for _ in range(3):
        x = ng.tensor(X, requires_grad=True)
        out = jf(x)
        assert {k: v for k, v in out.items() if k != "loss"} == {"n": 3, "scale": 1.5, "tag": "mse", "nothing": None,
                                                                "ok": True}  # fmt: skip
        assert type(out["n"]) is int  # as torch.compile returns them
        out["loss"].backward()
        np.testing.assert_allclose(x.grad.numpy(), 2 * X, rtol=1e-12)
    assert jf.traces == 1
    none = ng.jit(lambda x: None)
    assert [none(ng.tensor(X)) for _ in range(3)] == [None] * 3
    assert ng.jit(lambda x: 3)(ng.tensor(X)) == 3


def test_an_array_result_taken_from_data_is_refused_naming_the_fix():
    jf = ng.jit(lambda x: (x.sum(), x.data * 2))
    with pytest.raises(ng.JitError, match=r"type ndarray.*compute it with nablagrad ops"):
        jf(ng.tensor(X))
