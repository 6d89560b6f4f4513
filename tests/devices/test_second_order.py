"""Gradients of gradients (``backward(create_graph=True)``) on another array library equal NumPy's
to 1e-12, for the rules that build host constants (an identity for a repeated einsum letter) or
take a zero-safe path (a singular ``det``, ``cumprod`` through a zero): the constant must be made
on the operand's device, in its dtype."""

from __future__ import annotations

import numpy as np
import pytest

import nablagrad as ng

from .conftest import assert_device_equals_numpy, assert_same

RNG = np.random.default_rng(3)
B = RNG.standard_normal((3, 3))

CASES = {
    "einsum_diag": (lambda x: (ng.einsum("ii->i", x) ** 2).sum(), B),
    "trace_squared": (lambda x: ng.trace(x) ** 2, B),
    "det_singular": (lambda x: ng.linalg.det(x), np.array([[1.0, 2.0], [2.0, 4.0]])),
    "cumprod_through_zero": (lambda x: (ng.cumprod(x, axis=0) ** 2).sum(), np.array([1.5, 0.0, 2.0, -3.0])),
    "prod_through_zero": (lambda x: ng.prod(x) ** 2, np.array([1.5, 0.0, 2.0, -3.0])),
    "diag_offset": (lambda x: (ng.diag(x, -1) ** 3).sum(), np.array([1.0, -2.0, 3.0])),
}


def _first_and_second(f, a, device):
    """f(x), g = ∇f(x), and ∇(Σ g²) when g depends on x (else g again: a constant derivative)."""
    x = ng.tensor(a, device=device, requires_grad=True)
    y = f(x)
    y.backward(create_graph=True)
    g, x.grad = x.grad, None
    if not g.requires_grad:
        return [y, g, g]
    (g * g).sum().backward()
    return [y, g, x.grad]


@pytest.mark.parametrize("name", sorted(CASES))
def test_second_order_on_the_device_equals_numpy(name, device):
    f, a = CASES[name]
    assert_device_equals_numpy(lambda dev: _first_and_second(f, a, dev), device)


def test_checkpoint_backward_on_the_device_equals_numpy(device):
    """A checkpointed function recomputes on the device without building a graph of the backward
    pass (the raw walk on another library is no ``create_graph`` walk)."""
    from nablagrad.autodiff.checkpoint import checkpoint

    f = checkpoint(lambda t: (t * t).sin())
    grads = []
    for dev in (device, None):
        x = ng.tensor(np.array([1.0, 2.0, 3.0]), device=dev, requires_grad=True)
        f(x).sum().backward()
        grads.append(x.grad)
    assert not grads[0].requires_grad
    assert_same(*grads)


def test_zero_derivatives_and_join_tangents_are_made_on_the_device(device):
    """A rule's zeros (a step function's derivative under create_graph, the tangent of an operand
    of concatenate/stack that has none) live on the operands' device, not on the CPU."""
    results = []
    for dev in (device, None):
        x = ng.tensor(np.array([1.0, -2.0, 3.0]), device=dev, requires_grad=True)
        (ng.sign(x) * x).sum().backward(create_graph=True)
        c = ng.tensor(np.array([4.0, 5.0, 6.0]), device=dev)
        v = ng.tensor(np.array([1.0, 2.0, 3.0]), device=dev)
        _, tc = ng.jvp(lambda a, c=c: ng.concatenate([a, c]), (x.detach(),), (v,))
        _, ts = ng.jvp(lambda a, c=c: ng.stack([a, c]), (x.detach(),), (v,))
        results.append([x.grad, tc, ts])
    for got, want in zip(*results, strict=True):
        assert_same(got, want)


def test_zero_derivatives_of_transforms_are_made_on_the_device(device):
    """jvp of an output that ignores the input, grad with respect to an unused argument: the
    zeros returned live on the device of the output / input."""
    results = []
    for dev in (device, None):
        x = ng.tensor(np.array([1.0, 2.0, 3.0]), device=dev)
        c = ng.tensor(np.array([4.0]), device=dev)
        _, t = ng.jvp(lambda a, c=c: c * 2.0, (x,), (x,))
        g = ng.grad(lambda a, b: (b * b).sum(), argnums=0)(x, c)
        assert t.device == x.device and g.device == x.device
        results.append([t, g])
    for got, want in zip(*results, strict=True):
        assert_same(got, want)


def test_per_example_gradients_and_numpy_tangents_on_the_device(device):
    """vmap(grad) seeds its cotangent on the output's device; a NumPy tangent given to jvp is
    moved to its primal's device."""
    results = []
    for dev in (device, None):
        w = ng.tensor(np.array([1.0, 2.0]), device=dev)
        X = ng.tensor(np.arange(6.0).reshape(3, 2), device=dev)
        per_example = ng.vmap(ng.grad(lambda w, x: (w * x * w).sum()), in_axes=(None, 0))(w, X)
        _, t = ng.jvp(lambda a: a * a, (w,), (np.array([1.0, -1.0]),))
        assert t.device == w.device
        results.append([per_example, t])
    for got, want in zip(*results, strict=True):
        assert_same(got, want)
