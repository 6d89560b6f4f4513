"""Fused primitives equal the composites they replace: values, VJPs, JVPs and second derivatives."""

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.nn import functional as Fn


def _composite_ce(z, labels, reduction="mean"):
    """The unfused definition: −log_softmax(z)[i, y_i], then the reduction."""
    return Fn.reduce(-(ng.log_softmax(z, axis=1)[np.arange(len(labels)), labels]), reduction)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 2e-6)])
def test_softmax_cross_entropy_equals_the_composite(dtype, tol, reduction, fast):
    rng = np.random.default_rng(0)
    z0, y = (3 * rng.standard_normal((7, 5))).astype(dtype), rng.integers(0, 5, 7)
    w = rng.standard_normal(7).astype(dtype) if reduction == "none" else dtype(1.7)  # an upstream gradient
    fused_z, comp_z = ng.tensor(z0, requires_grad=True), ng.tensor(z0, requires_grad=True)
    fused, comp = Fn.cross_entropy(fused_z, y, reduction=reduction), _composite_ce(comp_z, y, reduction)
    assert fused._op is Fn.SOFTMAX_CROSS_ENTROPY  # the fused path ran, reduction included: one op
    assert fused.dtype == dtype and fused.shape == comp.shape
    np.testing.assert_allclose(fused.numpy(), comp.numpy(), rtol=tol)
    (fused * w).sum().backward()
    (comp * w).sum().backward()
    np.testing.assert_allclose(fused_z.grad.numpy(), comp_z.grad.numpy(), rtol=tol, atol=tol)


def test_softmax_cross_entropy_mean_is_the_mean_of_the_rows_bit_for_bit(fast):
    rng = np.random.default_rng(3)
    z, y = rng.standard_normal((33, 10)).astype(np.float32), rng.integers(0, 10, 33)
    rows = Fn.cross_entropy(ng.tensor(z), y, reduction="none")
    assert Fn.cross_entropy(ng.tensor(z), y).item() == rows.mean().item()
    assert Fn.cross_entropy(ng.tensor(z), y, reduction="sum").item() == rows.sum().item()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_softmax_cross_entropy_under_vmap_equals_a_loop(reduction):
    rng = np.random.default_rng(4)
    z, y = rng.standard_normal((3, 5, 4)), rng.integers(0, 4, 5)
    loss = lambda zz: Fn.cross_entropy(zz, y, reduction=reduction)  # noqa: E731
    grad = ng.grad(lambda zz: loss(zz).sum())
    np.testing.assert_allclose(ng.vmap(loss)(ng.tensor(z)).numpy(), [loss(ng.tensor(zi)).numpy() for zi in z], rtol=1e-12)
    np.testing.assert_allclose(ng.vmap(grad)(ng.tensor(z)).numpy(), [grad(ng.tensor(zi)).numpy() for zi in z], rtol=1e-12)


def test_softmax_cross_entropy_forward_mode_and_hessian():
    rng = np.random.default_rng(1)
    z0, y, t0 = rng.standard_normal((4, 3)), rng.integers(0, 3, 4), rng.standard_normal((4, 3))
    _, tan_fused = ng.jvp(lambda z: Fn.cross_entropy(z, y), (ng.tensor(z0),), (ng.tensor(t0),))
    _, tan_comp = ng.jvp(lambda z: _composite_ce(z, y), (ng.tensor(z0),), (ng.tensor(t0),))
    np.testing.assert_allclose(tan_fused.numpy(), tan_comp.numpy(), rtol=1e-12)
    h_fused = ng.hessian(lambda z: Fn.cross_entropy(z.reshape(4, 3), y))(ng.tensor(z0.ravel()))
    h_comp = ng.hessian(lambda z: _composite_ce(z.reshape(4, 3), y))(ng.tensor(z0.ravel()))
    np.testing.assert_allclose(h_fused.numpy(), h_comp.numpy(), rtol=1e-10, atol=1e-12)


def test_softmax_cross_entropy_is_stable_for_huge_logits(fast):
    z = ng.tensor(np.array([[1e4, 0.0, -1e4]], dtype=np.float32), requires_grad=True)
    loss = Fn.cross_entropy(z, np.array([1]))
    loss.backward()
    np.testing.assert_allclose(loss.numpy(), 1e4, rtol=1e-6)
    np.testing.assert_allclose(z.grad.numpy(), [[1.0, -1.0, 0.0]], atol=1e-6)


def test_bad_labels_are_refused_naming_the_range():
    with pytest.raises(ValueError, match=r"cross_entropy: labels must lie in \[0, 2\]"):
        Fn.cross_entropy(ng.tensor(np.zeros((2, 3))), np.array([0, 3]))


ACTS = {"identity": lambda z: z, "relu": ng.relu, "tanh": ng.tanh, "sigmoid": ng.sigmoid}


@pytest.mark.parametrize("activation", sorted(ACTS))
def test_linear_bias_activation_equals_the_composite(activation, fast):
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal(s) for s in [(6, 4), (4, 3), (3,)]]
    fused_in = [ng.tensor(a, requires_grad=True) for a in arrays]
    comp_in = [ng.tensor(a, requires_grad=True) for a in arrays]
    fused = Fn.linear(*fused_in, activation=activation)
    x, W, b = comp_in
    comp = ACTS[activation](x @ W + b)
    assert fused._op is Fn.LINEAR
    np.testing.assert_allclose(fused.numpy(), comp.numpy(), rtol=1e-13, atol=1e-15)
    g = ng.tensor(rng.standard_normal((6, 3)))
    fused.backward(g)
    comp.backward(g)
    for a, c in zip(fused_in, comp_in):
        np.testing.assert_allclose(a.grad.numpy(), c.grad.numpy(), rtol=1e-12, atol=1e-14)
    # forward mode, and second derivatives through the same rules
    tangents = tuple(ng.tensor(rng.standard_normal(a.shape)) for a in arrays)
    _, tf = ng.jvp(lambda *a: Fn.linear(*a, activation=activation), tuple(map(ng.tensor, arrays)), tangents)
    _, tc = ng.jvp(lambda x, W, b: ACTS[activation](x @ W + b), tuple(map(ng.tensor, arrays)), tangents)
    np.testing.assert_allclose(tf.numpy(), tc.numpy(), rtol=1e-12, atol=1e-14)
    hf = ng.hessian(lambda w: Fn.linear(ng.tensor(arrays[0]), w.reshape(4, 3), ng.tensor(arrays[2]), activation).sum())
    hc = ng.hessian(lambda w: ACTS[activation](ng.tensor(arrays[0]) @ w.reshape(4, 3) + ng.tensor(arrays[2])).sum())
    w0 = ng.tensor(arrays[1].ravel())
    np.testing.assert_allclose(hf(w0).numpy(), hc(w0).numpy(), rtol=1e-10, atol=1e-12)


def test_mlp_runs_linear_and_activation_fused_with_the_same_result():
    model = ng.nn.MLP([5, 8, 8, 2], activation=["relu", "tanh"], seed=0)
    x = np.random.default_rng(3).standard_normal((4, 5)).astype(np.float32)
    out = model(ng.tensor(x))
    step_by_step = ng.tensor(x)
    for layer in model:  # Sequential's plain loop: every layer on its own
        step_by_step = layer(step_by_step)
    assert out._op is Fn.LINEAR and out._inputs[0]._op is Fn.LINEAR
    np.testing.assert_array_equal(out.numpy(), step_by_step.numpy())


def test_a_bad_reduction_is_refused_naming_the_choices():
    with pytest.raises(ValueError, match=r"cross_entropy: reduction must be one of \('mean', 'sum', 'none'\), got 'avg'"):
        Fn.cross_entropy(ng.tensor(np.zeros((2, 3))), np.array([0, 1]), reduction="avg")
    with pytest.raises(ValueError, match=r"CrossEntropyLoss: reduction must be one of"):
        ng.nn.CrossEntropyLoss(reduction="avg")


def test_a_minus_infinity_logit_gets_no_probability_not_nan(fast):
    torch = pytest.importorskip("torch")
    z0, y = np.array([[-np.inf, 1.0, 2.0], [0.5, -np.inf, 3.0]]), np.array([2, 0])
    z = ng.tensor(z0, requires_grad=True)
    loss = Fn.cross_entropy(z, y)
    loss.backward()
    zt = torch.tensor(z0, requires_grad=True)
    ref = torch.nn.functional.cross_entropy(zt, torch.tensor(y))
    ref.backward()
    np.testing.assert_allclose(loss.numpy(), ref.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(z.grad.numpy(), zt.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.numpy_only("float16 and big-endian arrays are NumPy's (the array API has neither)")
@pytest.mark.parametrize("dtype", [np.float16, np.dtype(">f8")])
def test_logits_the_kernels_do_not_take_go_the_numpy_way(dtype, fast):
    z0, y = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, -1.0]]), np.array([2, 0])
    got = Fn.cross_entropy(ng.tensor(z0.astype(dtype)), y.astype(np.dtype(">i8")))
    np.testing.assert_allclose(float(got.item()), Fn.cross_entropy(ng.tensor(z0), y).item(), rtol=1e-3)


def test_a_label_out_of_range_is_refused_when_a_compiled_call_replays(fast):
    rng = np.random.default_rng(5)
    W = ng.tensor(rng.standard_normal((6, 4)), requires_grad=True)
    x = rng.standard_normal((5, 6))
    f = ng.jit(lambda x, y: Fn.cross_entropy(x @ W, y))
    for _ in range(3):
        f(x, np.array([0, 1, 2, 3, 0])).backward()
    for bad in (4, 10**8, -1):
        with pytest.raises(ValueError, match=r"cross_entropy: labels must lie in \[0, 3\]"):
            f(x, np.array([0, 1, 2, 3, bad]))


def test_cross_entropy_under_nested_vmap_equals_a_loop():
    rng = np.random.default_rng(6)
    z, y = rng.standard_normal((2, 3, 4, 5)), rng.integers(0, 5, 4)
    loss = lambda zz: Fn.cross_entropy(zz, y)  # noqa: E731
    got = ng.vmap(ng.vmap(loss))(ng.tensor(z)).numpy()
    np.testing.assert_allclose(got, [[loss(ng.tensor(zij)).item() for zij in zi] for zi in z], rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_linear_weight_gradient_of_one_example_equals_torch(dtype, fast):
    """Batch 1 (the lectures' stochastic regime): the weight's gradient is an outer product (a compiled
    loop with the fast extra) — torch's numbers, for a layer large enough to take the kernel."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x, W, b = rng.standard_normal((1, 300)), rng.standard_normal((300, 40)) / 17, rng.standard_normal(40)
    ours = [ng.tensor(a.astype(dtype), requires_grad=True) for a in (x, W, b)]
    theirs = [torch.tensor(a.astype(dtype), requires_grad=True) for a in (x, W, b)]
    (Fn.linear(*ours, activation="tanh") ** 2).sum().backward()
    (torch.tanh(theirs[0] @ theirs[1] + theirs[2]) ** 2).sum().backward()
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for a, t in zip(ours, theirs):
        assert a.grad.dtype == dtype
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=tol, atol=tol)
