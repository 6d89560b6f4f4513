"""A hostile review of the engine (twelfth session): each case returned a wrong number, or none where an error was
due, before its fix.  Oracles: torch.func in float64, eager calls of the same function, and the issue's text."""

from __future__ import annotations

import numpy as np
import pytest

import nablagrad as ng
from nablagrad import nn
from nablagrad.autodiff import JitError
from nablagrad.nn import functional as F

torch = pytest.importorskip("torch")
tf = torch.func


def test_vmap_over_a_pullback_made_outside_it_gives_each_cotangent_its_own_vjp():
    x = np.array([1.0, 2.0, 3.0])
    W = np.random.default_rng(0).standard_normal((3, 4))
    _, pull = ng.vjp(lambda v: ng.tanh(v @ W) * v.sum(), x)
    ours = ng.vmap(lambda u: pull(u)[0])(np.eye(4))
    _, pull_t = tf.vjp(lambda v: torch.tanh(v @ torch.tensor(W)) * v.sum(), torch.tensor(x))
    theirs = tf.vmap(lambda u: pull_t(u)[0])(torch.eye(4, dtype=torch.float64))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


def test_a_traced_argument_outside_argnums_keeps_its_graph():
    x0 = np.array([0.3, -0.7, 1.1])
    w = ng.tensor(x0.copy(), requires_grad=True)
    loss = (w * w).sum() + (ng.grad(lambda v, w: (ng.sin(v) * w).sum())(x0, w) ** 2).sum()
    loss.backward()
    wt = torch.tensor(x0, requires_grad=True)
    lt = (wt * wt).sum() + (tf.grad(lambda v, w: (torch.sin(v) * w).sum())(torch.tensor(x0), wt) ** 2).sum()
    lt.backward()
    np.testing.assert_allclose(w.grad.numpy(), wt.grad.numpy(), rtol=1e-12)


def test_vmap_of_a_closure_over_parameters_back_propagates_to_them():
    rng = np.random.default_rng(1)
    X, w0 = rng.standard_normal((4, 3)), rng.standard_normal((3, 2))
    w = ng.tensor(w0.copy(), requires_grad=True)
    ng.vmap(lambda x: ng.tanh(x @ w))(X).sum().backward()
    wt = torch.tensor(w0, requires_grad=True)
    tf.vmap(lambda x: torch.tanh(x @ wt))(torch.tensor(X)).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), wt.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize(
    "f, expected",
    [
        (lambda a: ng.checkpoint(lambda v: v * a)(np.float64(3.0)), 3.0),  # a reached through the closure only
        (lambda a: ng.checkpoint(lambda v: v * a)(a), 1.4),  # as the argument and through the closure
        (lambda a: ng.checkpoint(lambda v: v * v)(a), 1.4),
    ],
)
def test_checkpoint_under_grad_passes_on_the_gradients_of_what_it_captures(f, expected):
    assert float(ng.grad(f)(np.float64(0.7))) == pytest.approx(expected, rel=1e-14)


def test_checkpoint_passes_a_captured_intermediate_its_gradient_under_backward():
    a = ng.tensor(0.7, requires_grad=True)
    b = a * 1.0
    ng.checkpoint(lambda v: v * b)(a * 1.0).backward()
    assert float(a.grad) == pytest.approx(1.4, rel=1e-6)


def test_an_output_returned_twice_keeps_its_tangent_and_its_batch_axis_in_both_places():
    x = np.array([1.0, 2.0, 3.0])

    def twice(v):
        y = 2 * v
        return y, y  # one object, two outputs

    _, (t1, t2) = ng.jvp(twice, (x,), (np.ones(3),))
    np.testing.assert_array_equal(t1.numpy(), [2, 2, 2])
    np.testing.assert_array_equal(t2.numpy(), [2, 2, 2])
    np.testing.assert_array_equal(ng.jacfwd(twice)(x)[1].numpy(), 2 * np.eye(3))
    a, b = ng.vmap(lambda v: (v, v), out_axes=(0, 1))(np.ones((4, 3)))
    assert a.shape == (4, 3) and b.shape == (3, 4)


def test_gradients_come_in_each_inputs_dtype():
    y = np.array([3.0, 4.0])
    x32 = np.array([1.0, 2.0], np.float32)
    assert ng.grad(lambda a: (a * y).sum())(x32).dtype == np.float32
    assert ng.vjp(lambda v: v * y, x32)[1](np.ones(2))[0].dtype == np.float32
    assert ng.jacrev(lambda v: v * y)(x32).dtype == np.float32
    x = ng.tensor(x32, requires_grad=True)
    (x * ng.tensor(y)).sum().backward(create_graph=True)
    assert x.grad.dtype == np.float32  # as torch: a leaf's gradient has the leaf's dtype


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: ng.jacrev(lambda v: v > 0)(np.ones(3)), "jacrev: f must return floating-point"),
        (lambda: ng.vjp(lambda v: v > 0, np.ones(2)), "vjp: f must return floating-point"),
        (lambda: ng.jvp(lambda v: v * 2, (np.arange(3),), (np.arange(3),)), "jvp: primals must be floating-point"),
        (lambda: ng.vmap(lambda a: a * 2, out_axes=5)(np.ones((2, 3))), "out_axes entry 5 is out of range"),
        (lambda: ng.vmap(lambda a: a.numpy())(np.ones((2, 3))), "inside vmap"),
        (lambda: ng.vmap(lambda a: np.asarray(a))(np.ones((2, 3))), "inside vmap"),
    ],
)
def test_what_has_no_derivative_or_no_meaning_is_refused(call, match):
    with pytest.raises((TypeError, ValueError), match=match):
        call()


# --- ng.jit: values that were frozen into the program ------------------------------------------------------------------
JIT_ONLY_NUMPY = "ng.jit compiles NumPy programs; on another array library a call runs the function itself"
def _three_calls(f, a, b):
    """The call that traces, the first replay (checked against eager), then a replay on new data."""
    jf = ng.jit(f)
    jf(a)
    jf(a)
    return jf(b), jf


@pytest.mark.numpy_only(JIT_ONLY_NUMPY)
@pytest.mark.parametrize(
    "f",
    [
        lambda x: F.leaky_relu(x).sum(),
        lambda x: F.prelu(x, ng.tensor(0.25)).sum(),
        lambda x: F.abs_rectification(x).sum(),
        lambda x: ng.where(~(x > 0), x, 0.0).sum(),
        lambda x: nn.KAN([1, 2, 1], grid_size=2, seed=0)(x.reshape(-1, 1)).sum(),
    ],
    ids=["leaky_relu", "prelu", "abs", "invert", "kan"],
)
def test_jit_replays_masks_made_from_the_inputs(f):
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal(6).astype(np.float32) for _ in range(2))
    got, jf = _three_calls(f, a, b)
    assert float(got) == pytest.approx(float(f(ng.tensor(b))), rel=1e-6)
    assert jf.traces == 1


@pytest.mark.numpy_only(JIT_ONLY_NUMPY)
def test_jit_replays_labels_reshaped_or_encoded_inside_the_function():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((2, 3, 4)).astype(np.float32)
    y1, y2 = rng.integers(0, 3, (2, 4)), rng.integers(0, 3, (2, 4))
    for kw in ({}, {"label_smoothing": 0.1}, {"weight": np.ones(3, np.float32)}, {"ignore_index": 1}):
        jf = ng.jit(lambda z, y, kw=kw: F.cross_entropy(z, y, **kw))
        jf(z, y1)
        jf(z, y1)
        assert float(jf(z, y2)) == pytest.approx(float(F.cross_entropy(ng.tensor(z), ng.tensor(y2), **kw)), rel=1e-6)
    c = rng.standard_normal(5).astype(np.float32)
    jf = ng.jit(lambda z, y: F.cross_entropy(z, y))
    jf(c, np.array(1))
    jf(c, np.array(1))
    assert float(jf(c, np.array(3))) == pytest.approx(float(F.cross_entropy(ng.tensor(c), ng.tensor(np.array(3)))), rel=1e-6)
    z2 = rng.standard_normal((4, 3)).astype(np.float32)
    jf = ng.jit(lambda z, y: (F.one_hot(y, 3) * z).sum())
    jf(z2, np.array([0, 1, 2, 0]))
    jf(z2, np.array([0, 1, 2, 0]))
    yb = np.array([2, 2, 1, 0])
    assert float(jf(z2, yb)) == pytest.approx(float((F.one_hot(ng.tensor(yb), 3) * ng.tensor(z2)).sum()), rel=1e-6)


@pytest.mark.numpy_only(JIT_ONLY_NUMPY)
@pytest.mark.parametrize(
    "read", [lambda y: y.numpy().sum(), lambda y: np.asarray(y).sum(), lambda y: y.detach().numpy().sum()]
)
def test_jit_refuses_python_control_flow_on_values_read_through_numpy(read):
    def f(x):
        y = x * 2
        return (y * 3).sum() if read(y) > 0 else (y - 1).sum()

    with pytest.raises(JitError, match="reads the value of a traced tensor"):
        ng.jit(f)(np.ones(3, np.float32))


@pytest.mark.numpy_only(JIT_ONLY_NUMPY)
def test_jit_one_hot_with_classes_inferred_from_the_values_is_refused():
    with pytest.raises(JitError, match="reads the value"):
        ng.jit(lambda z, y: (F.one_hot(y) * z).sum())(np.ones((2, 3), np.float32), np.array([0, 2]))


@pytest.mark.numpy_only(JIT_ONLY_NUMPY)
def test_jit_safety_net_calls_the_function_on_tensors_as_its_trace_did():
    f = ng.jit(lambda x: x.exp().sum())
    x = np.arange(3.0, dtype=np.float32)
    assert float(f(x)) == float(f(x)) == pytest.approx(float(np.exp(x).sum()), rel=1e-6)


@pytest.mark.numpy_only(JIT_ONLY_NUMPY)
@pytest.mark.parametrize(
    "fn, oracle",
    [
        (ng.jacfwd(ng.tanh), lambda x: np.diag(1 - np.tanh(x) ** 2)),
        (ng.hessian(lambda v: (ng.sin(v) * v).sum()), lambda x: np.diag(2 * np.cos(x) - x * np.sin(x))),
    ],
    ids=["jacfwd", "hessian"],
)
def test_jit_of_a_forward_mode_transform_gives_its_values(fn, oracle):
    x = np.array([0.3, 0.5])
    jf = ng.jit(fn)
    for _ in range(3):
        np.testing.assert_allclose(jf(x).numpy(), oracle(x), rtol=1e-12)


@pytest.mark.numpy_only(JIT_ONLY_NUMPY)
def test_jit_traces_again_when_a_modules_parameter_is_replaced():
    lin = nn.Linear(3, 2)
    x = np.ones((2, 3), np.float32)
    f = ng.jit(lambda x: lin(x).sum())
    f(x)
    f(x)
    lin.weight = nn.Parameter(ng.tensor(np.full((3, 2), 2.0, np.float32)))
    assert float(f(x)) == pytest.approx(float(lin(ng.tensor(x)).sum()), rel=1e-6)
    assert f.traces == 2
