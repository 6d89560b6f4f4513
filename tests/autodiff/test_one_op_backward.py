"""``backward`` of a root made by one op from leaves (a compiled call is such a root) takes a short
path past the graph walk (an eager ``x.sum()`` too); it must give what the walk gives, bit for bit, and keep every rule of
the walk: accumulation into ``.grad``, an input given twice, ``retain_graph``, the version check
and the errors.  A compiled call's own fast path (its arguments NumPy arrays, tensors or numbers)
must find the programs the general path finds."""

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.autodiff.backward import run_backward


def _step(rng):
    W = ng.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    b = ng.tensor(rng.standard_normal(3), requires_grad=True)
    f = ng.jit(lambda x, y: ((ng.tanh(x @ W + b) - y) ** 2).mean())
    return W, b, f


def _walked(loss, grad=None) -> dict:
    """What the general walk gives each leaf, as NumPy arrays."""
    grads, leaves = run_backward(loss, grad)
    return {id(t): ng.tensor(grads[id(t)]).numpy() for t in leaves}


def test_one_op_backward_equals_the_walk_bit_for_bit(rng):
    W, b, f = _step(rng)
    x, y = rng.standard_normal((4, 5)), rng.standard_normal((4, 3))
    for _ in range(3):  # the trace, the checked replay, a replay
        want = _walked(f(x, y))  # the same program twice: the same numbers
        W.grad = b.grad = None
        f(x, y).backward()
        for t in (W, b):
            np.testing.assert_array_equal(t.grad.numpy(), want[id(t)])


def test_gradients_accumulate_and_retain_graph_is_kept(rng):
    W, b, f = _step(rng)
    x, y = rng.standard_normal((4, 5)), rng.standard_normal((4, 3))
    f(x, y).backward()
    first = W.grad.numpy().copy()
    f(x, y).backward()
    np.testing.assert_array_equal(W.grad.numpy(), first + first)
    v = ng.tensor(rng.standard_normal(3), requires_grad=True)
    total = v.sum()  # one op on a leaf, eager: the short path too
    total.backward(retain_graph=True)
    total.backward()
    np.testing.assert_array_equal(v.grad.numpy(), np.full(3, 2.0))
    with pytest.raises(ng.autodiff.GraphFreedError):
        total.backward()


def test_an_input_given_twice_receives_the_sum_once(rng):
    x = ng.tensor(rng.standard_normal(4), requires_grad=True)
    prod = ng.jit(lambda a, c: (a * c).sum())
    for _ in range(3):
        want = _walked(prod(x, x))[id(x)]
        before = np.full(4, 0.1)
        x.grad = ng.tensor(before)
        prod(x, x).backward()  # .grad + (ḡ₁ + ḡ₂): the walk sums before it accumulates
        np.testing.assert_array_equal(x.grad.numpy(), before + want)


def test_a_parameter_written_after_the_forward_is_refused(rng):
    W, b, f = _step(rng)
    x = ng.tensor(rng.standard_normal((4, 5)), requires_grad=True)  # x's gradient reads W (x̄ = ḡ Wᵀ)
    loss = f(x, rng.standard_normal((4, 3)))
    W.data[...] = 0
    W.bump_version_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_errors_of_the_walk_are_kept(rng):
    W, b, f = _step(rng)
    x, y = rng.standard_normal((4, 5)), rng.standard_normal((4, 3))
    f(x, y)  # the trace (a trace under no_grad would record nothing)
    with ng.no_grad():
        loss = f(x, y)
    with pytest.raises(RuntimeError, match="does not require grad"):
        loss.backward()
    g = ng.jit(lambda x: ng.tanh(x @ W))
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        g(x).backward()
    with pytest.raises(ValueError, match="grad has shape"):
        g(x).backward(np.ones(2))
    assert W.grad is None
    v = rng.standard_normal((4, 3))
    want = _walked(g(x), v)[id(W)]
    g(x).backward(v)  # a given upstream gradient
    np.testing.assert_array_equal(W.grad.numpy(), want)


def test_a_frozen_parameter_retraces_and_gets_no_gradient(rng):
    W, b, f = _step(rng)
    x, y = rng.standard_normal((4, 5)), rng.standard_normal((4, 3))
    f(x, y).backward()
    W.grad = b.grad = None
    b.requires_grad = False
    f(x, y).backward()
    assert b.grad is None and W.grad is not None


def test_the_fast_and_the_general_call_share_programs(rng):
    if ng.get_default_device() != "cpu":
        pytest.skip("ng.jit compiles NumPy programs only")
    f = ng.jit(lambda x, n: (x * n).sum())
    x = rng.standard_normal(3)
    f(x, 2)  # the fast path: an array and an int
    f(ng.nn.Parameter(x), 2)  # a Tensor subclass: the general path, the same signature
    f(ng.tensor(x), 2)
    assert f.traces == 1
    f(x, 3)  # a static argument is part of the signature
    assert f.traces == 2
