"""Transforms of functions that close over tensors requiring a gradient (a model's parameters): the result
keeps its graph to them, as torch.func's does — the gradient-penalty pattern ``D(x) + (‖∇ₓD(x)‖² − 1)²``.
Also vmap's keyword arguments (passed unmapped) and its ``randomness`` rule, as torch.func's."""

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")
from torch import func as tf  # noqa: E402

pytestmark = pytest.mark.numpy_only("transforms are the same code on every device; one oracle run")

W = np.array([1.5, 0.3, -0.7])
X = np.array([0.5, -1.0, 2.0])


def _run(L, fn, transform):
    w = L.tensor(W.copy(), requires_grad=True)
    x = L.tensor(X.copy())

    def D(x):
        return L.tanh(x * w).sum()

    out = transform(L, D, x)
    loss = D(x) + (fn(L, out) - 1.0) ** 2
    loss.backward()
    return w.grad.numpy()


TRANSFORMS = {
    "grad": lambda L, D, x: (ng.grad(D) if L is ng else tf.grad(D))(x),
    "jacrev": lambda L, D, x: (ng.jacrev(D) if L is ng else tf.jacrev(D))(x),
    "jacfwd": lambda L, D, x: (ng.jacfwd(D) if L is ng else tf.jacfwd(D))(x),
    "hessian": lambda L, D, x: (ng.hessian(D) if L is ng else tf.hessian(D))(x),
    "jvp": lambda L, D, x: (ng.jvp if L is ng else tf.jvp)(D, (x,), (L.ones(3, dtype=L.float64),))[1],
    "vjp": lambda L, D, x: (ng.vjp if L is ng else tf.vjp)(D, x)[1](L.tensor(1.0, dtype=L.float64))[0],
}


@pytest.mark.parametrize("name", TRANSFORMS)
def test_a_transform_keeps_the_graph_to_closed_over_parameters(name):
    penalty = lambda L, g: (g**2).sum()  # noqa: E731
    ours = _run(ng, penalty, TRANSFORMS[name])
    theirs = _run(torch, penalty, TRANSFORMS[name])
    np.testing.assert_allclose(ours, theirs, rtol=1e-10)


def test_without_closed_over_parameters_the_result_is_plain():
    g = ng.grad(lambda x: (x**3).sum())(ng.tensor(X))
    assert not g.requires_grad and g._op is None


def test_vmap_passes_keyword_arguments_unmapped():
    xs = np.arange(6.0).reshape(2, 3)
    ours = ng.vmap(lambda x, scale=1.0: x * scale)(ng.tensor(xs), scale=2.0)
    theirs = tf.vmap(lambda x, scale=1.0: x * scale)(torch.tensor(xs), scale=2.0)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_vmap_randomness_as_torch_func():
    xs = ng.tensor(np.zeros((4, 3)))
    with pytest.raises(RuntimeError, match="randomness"):
        tf.vmap(lambda x: x + torch.randn(3))(torch.zeros(4, 3))
    with pytest.raises(RuntimeError, match="randomness='different'"):
        ng.vmap(lambda x: x + ng.randn(3))(xs)
    same = ng.vmap(lambda x: x + ng.randn(3, dtype="float64"), randomness="same")(xs).numpy()
    assert np.all(same == same[0]) and np.ptp(same[0]) > 0
    different = ng.vmap(lambda x: x + ng.rand(3, dtype="float64"), randomness="different")(xs).numpy()
    assert different.shape == (4, 3) and len({tuple(r) for r in different}) == 4
    with pytest.raises(ValueError, match="randomness"):
        ng.vmap(lambda x: x, randomness="sometimes")


def test_vmap_randomness_holds_per_level():
    """An inner "same" shares a draw among its examples only; each outer "different" example draws anew."""
    xs = ng.tensor(np.zeros((2, 3)))
    inner = ng.vmap(lambda x: x + ng.rand(dtype="float64"), randomness="same")
    out = ng.vmap(inner, randomness="different")(xs).numpy()
    assert np.all(out == out[:, :1]) and out[0, 0] != out[1, 0]
    with pytest.raises(RuntimeError, match="randomness"):
        ng.vmap(ng.vmap(lambda x: x + ng.rand(dtype="float64"), randomness="different"))(xs)
