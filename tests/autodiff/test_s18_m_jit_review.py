"""ng.jit against the uncompiled function (and torch) where only a later result is differentiable, and with a
static tuple holding NumPy integers (jax.jit keeps a static argument whole)."""

from __future__ import annotations

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")
RNG = np.random.default_rng(0)
X, W = RNG.standard_normal((5, 3)), RNG.standard_normal((3, 4))


@pytest.mark.parametrize("first", ["argmax", "no_grad_float", "constant"])
def test_the_gradient_flows_from_the_only_differentiable_result_when_it_is_not_the_first(first):
    const = ng.tensor(1.0)

    def f(x, w):
        z = x @ w
        head = {"argmax": lambda: z.argmax(1), "no_grad_float": lambda: x * 2, "constant": lambda: const}[first]()
        return head, (z**2).sum()

    xt, wt = torch.tensor(X), torch.tensor(W, requires_grad=True)
    ((xt @ wt) ** 2).sum().backward()  # the oracle
    jf = ng.jit(f)
    for _ in range(3):  # trace, checked replay, replay
        w = ng.tensor(W, requires_grad=True)
        _, loss = jf(ng.tensor(X), w)
        loss.backward()
        assert w.grad is not None
        np.testing.assert_allclose(w.grad.numpy(), wt.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("by_keyword", [False, True])
def test_a_static_tuple_with_numpy_integers_stays_whole(by_keyword):
    def f(x, shape):
        return (x.reshape(shape) ** 2).sum(0)

    shape = (3, np.int64(5))
    jf = ng.jit(f, static_argnames="shape")
    x = ng.tensor(np.arange(15.0))
    got = jf(x, shape=shape) if by_keyword else jf(x, shape)
    np.testing.assert_array_equal(got.numpy(), (np.arange(15.0).reshape(3, 5) ** 2).sum(0))
