"""Audit findings on single rules, each compared with PyTorch 2.13 (the oracle): ReLU's gradient at NaN,
the exponent derivative of 0ʸ, softmax of an empty tensor, square of bools, integer division by zero,
sign of NaN, and gradcheck with integer (index) inputs."""

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")

NAN, INF = float("nan"), float("inf")


def _close(ours, theirs):
    np.testing.assert_allclose(np.asarray(ours.numpy(), np.float64), theirs.detach().double().numpy(), rtol=1e-6,
                               atol=0, equal_nan=True)  # fmt: skip


# --- 1. ReLU at NaN: torch's threshold_backward zeroes only where x ≤ 0, so a NaN passes its gradient on ---
RELU_X = [NAN, 1.0, 0.0, -0.0, -1.0, 2.5, -INF, INF]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_relu_gradient_at_nan_and_elsewhere_is_torchs(dtype):
    g = np.array([2.0, 3.0, INF, NAN, -INF, -1.5, 4.0, 0.5])  # a non-finite cotangent where x ≤ 0 still gives 0
    x = ng.tensor(np.array(RELU_X, dtype), requires_grad=True)
    ng.relu(x).backward(ng.tensor(g.astype(dtype)))
    tx = torch.tensor(RELU_X, dtype=getattr(torch, dtype), requires_grad=True)
    torch.relu(tx).backward(torch.tensor(g, dtype=getattr(torch, dtype)))
    _close(x.grad, tx.grad)
    assert x.grad.numpy()[0] == 2.0  # the NaN input passes g on


def test_relu_tangent_and_second_order_at_nan_are_torchs():
    x = np.array(RELU_X)
    out, tangent = ng.jvp(ng.relu, (x,), (np.arange(1.0, 9.0),))
    tout, ttangent = torch.func.jvp(torch.relu, (torch.tensor(x),), (torch.arange(1.0, 9.0, dtype=torch.float64),))
    _close(out, tout)
    _close(tangent, ttangent)
    # create_graph: the VJP rule run on tensors
    ours = ng.grad(lambda v: (ng.relu(v) * v).sum())(x)
    theirs = torch.func.grad(lambda v: (torch.relu(v) * v).sum())(torch.tensor(x))
    _close(ours, theirs)


@pytest.mark.numpy_only(reason="the fused layer's first-order backward on NumPy goes through kernels.relu_backward")
@pytest.mark.parametrize("batch", [3, 64], ids=["numpy-sized", "kernel-sized"])
def test_fused_linear_relu_backward_at_nan_is_torchs(fast, batch):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, 16))
    x[1, 3] = NAN  # one row of z = x W + b all NaN
    w, b, g = rng.standard_normal((16, 128)), rng.standard_normal(128), rng.standard_normal((batch, 128))
    xs = [ng.tensor(a, requires_grad=True) for a in (x, w, b)]
    ng.nn.functional.linear(*xs, activation="relu").backward(ng.tensor(g))
    ts = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    torch.relu(ts[0] @ ts[1] + ts[2]).backward(torch.tensor(g))
    for ours, theirs in zip(xs, ts):
        _close(ours.grad, theirs.grad)


# --- 2. ∂(xʸ)/∂y at x = 0: 0 for y ≥ 0, −∞ for y < 0 (torch's pow_backward_exponent) -------------------------
BASES = [0.0, 2.0, 0.5, -2.0]
EXPONENTS = [-2.5, -1.0, 0.0, 0.5, 1.0, 2.0]


def _grid():
    x, y = np.meshgrid(BASES, EXPONENTS, indexing="ij")
    return x.ravel(), y.ravel()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_pow_gradients_at_a_zero_base_are_torchs():
    x, y = _grid()
    xs, ys = ng.tensor(x, requires_grad=True), ng.tensor(y, requires_grad=True)
    (xs**ys).sum().backward()
    tx, ty = torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True)
    (tx**ty).sum().backward()
    _close(ys.grad, ty.grad)
    _close(xs.grad, tx.grad)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_pow_of_a_number_base_zero_differentiates_as_torch(dtype):
    y = ng.tensor(np.array(EXPONENTS, dtype), requires_grad=True)
    (0.0**y).sum().backward()
    ty = torch.tensor(EXPONENTS, dtype=getattr(torch, dtype), requires_grad=True)
    (0.0**ty).sum().backward()
    assert y.grad.dtype == np.dtype(dtype)
    _close(y.grad, ty.grad)
    assert y.grad.numpy()[0] == -INF


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_pow_exponent_tangent_at_a_zero_base_is_torchs():
    x, y = _grid()
    _, tangent = ng.jvp(lambda b: ng.power(ng.tensor(x), b), (y,), (np.ones_like(y),))
    _, theirs = torch.func.jvp(lambda b: torch.tensor(x) ** b, (torch.tensor(y),), (torch.ones(y.size, dtype=torch.float64),))
    _close(tangent, theirs)
    _, tangent = ng.jvp(lambda b: 0.0**b, (y,), (np.ones_like(y),))
    _, theirs = torch.func.jvp(lambda b: 0.0**b, (torch.tensor(y),), (torch.ones(y.size, dtype=torch.float64),))
    _close(tangent, theirs)


# --- 3. softmax and log_softmax of an empty tensor: an empty result and an empty gradient --------------------
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape, dim", [((0, 3), 0), ((0, 3), 1), ((3, 0), 1), ((3, 0), 0), ((2, 0, 4), -2)])
def test_softmax_of_an_empty_tensor_is_empty_as_torch(name, shape, dim):
    x = ng.tensor(np.zeros(shape, np.float32), requires_grad=True)
    out = getattr(ng, name)(x, dim)
    tx = torch.zeros(shape, requires_grad=True)
    tout = getattr(torch, name)(tx, dim)
    assert out.shape == tuple(tout.shape) and str(out.dtype) == str(tout.dtype).removeprefix("torch.")
    out.sum().backward()
    tout.sum().backward()
    assert x.grad.shape == tuple(tx.grad.shape)
    _, tangent = ng.jvp(lambda v: getattr(ng, name)(v, dim), (np.zeros(shape),), (np.zeros(shape),))
    assert tangent.shape == shape


# --- 4. square of bools is int64 (torch.square computes pow(x, 2)); small integers keep their dtype ------------
@pytest.mark.parametrize("dtype", ["bool", "uint8", "int8", "int16", "int32", "int64", "float32", "float64"])
def test_square_dtype_and_values_are_torchs(dtype):
    a = np.array([True, False, True]) if dtype == "bool" else np.array([3, 0, 12]).astype(dtype)
    ours, theirs = ng.square(ng.tensor(a)), torch.square(torch.tensor(a))
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert str(ng.tensor(a).square().dtype) == str(theirs.dtype).removeprefix("torch.")


# --- 5. integer division by zero raises (torch: ZeroDivisionError); float division gives ±inf/nan -------------
@pytest.mark.parametrize("mode", ["floor", "trunc"])
@pytest.mark.parametrize("divisor", [0, np.array([0, 1]), np.array([2, 0]), np.array([False, True])], ids=str)
def test_integer_div_by_zero_with_a_rounding_mode_raises_as_torch(mode, divisor):
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        torch.div(torch.tensor([5, -5]), torch.tensor(divisor) if isinstance(divisor, np.ndarray) else divisor,
                  rounding_mode=mode)  # fmt: skip
    y = ng.tensor(divisor) if isinstance(divisor, np.ndarray) else divisor
    with pytest.raises(ZeroDivisionError, match=r"integer division by zero.*div\(x, y, rounding_mode=.*x\.double\(\)"):
        ng.div(ng.tensor([5, -5]), y, rounding_mode=mode)


@pytest.mark.parametrize("op", ["//", "%", "fmod", "floor_divide", "remainder"])
def test_integer_floor_division_and_remainders_by_zero_raise_as_torch(op):
    f = {"//": lambda a, b: a // b, "%": lambda a, b: a % b}.get(op) or (lambda a, b: getattr(a, op)(b))
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        f(torch.tensor([5, -5]), torch.tensor([1, 0]))
    with pytest.raises(ZeroDivisionError, match="integer division by zero"):
        f(ng.tensor([5, -5]), ng.tensor([1, 0]))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("mode", [None, "floor", "trunc"])
@pytest.mark.parametrize("divisor", [0, 0.0, 3, -2], ids=str)
def test_division_without_an_integer_zero_is_torchs(mode, divisor):
    for x in (np.array([5.0, -5.0, 0.0, 7.5]), np.array([5, -5, 0, 7])):
        if x.dtype.kind == "i" and divisor == 0 and mode is not None:
            continue  # the case above
        ours = ng.div(ng.tensor(x), divisor, rounding_mode=mode)
        theirs = torch.div(torch.tensor(x), divisor, rounding_mode=mode)
        assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


# --- 6. sign of NaN is 0 (torch.sign, torch.sgn) ---------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sign_of_nan_is_zero_as_torch(dtype):
    values = [NAN, -0.0, 0.0, 2.0, -3.0, INF, -INF]
    x = ng.tensor(np.array(values, dtype), requires_grad=True)
    out = ng.sign(x)
    tx = torch.tensor(values, dtype=getattr(torch, dtype))
    for theirs in (torch.sign(tx), torch.sgn(tx)):
        np.testing.assert_array_equal(out.numpy(), theirs.numpy())
    assert out.dtype == np.dtype(dtype) and x.sign().numpy()[0] == 0.0
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros(len(values)))
    np.testing.assert_array_equal(ng.sign(ng.tensor([-2, 0, 5])).numpy(), torch.sign(torch.tensor([-2, 0, 5])).numpy())


# --- 7. gradcheck checks its floating inputs; integer and bool ones are passed as given ---------------------------
def test_gradcheck_passes_integer_index_inputs_unperturbed():
    seen = []

    def f(x, i):
        seen.append(np.asarray(i.numpy() if isinstance(i, ng.Tensor) else i).copy())
        return x[i].sum()

    x = np.array([1.0, 2.0, 3.0])
    assert ng.gradcheck(f, ng.tensor(x), ng.tensor(np.array([0, 2])))
    assert ng.gradcheck(f, x, np.array([2, 0, 2]))
    assert all(s.dtype.kind == "i" for s in seen) and {tuple(s) for s in seen} == {(0, 2), (2, 0, 2)}
    # as torch.autograd.gradcheck, which checks only the floating input
    assert torch.autograd.gradcheck(lambda a, i: a[i].sum(), (torch.tensor(x, requires_grad=True), torch.tensor([0, 2])))


def test_gradcheck_keeps_masks_and_numbers_and_still_finds_wrong_rules():
    mask = ng.tensor(np.array([True, False, True]))
    assert ng.gradcheck(lambda a, m, k: ng.where(m, a * a, ng.sin(a)) * k, np.array([0.3, -1.2, 2.0]), mask, 3)
    wrong = ng.autodiff.Primitive("wrong_cube", lambda x: x**3, (lambda F, g, ans, x: g * x,), (lambda F, t, ans, x: t * x,))
    with pytest.raises(ng.GradcheckError, match=r"input 0, reverse mode, Jacobian index \(1, 1\): analytic 2, numeric 12"):
        ng.gradcheck(lambda v, i: ng.autodiff.apply(wrong, v)[i], ng.tensor(np.array([1.0, 2.0])), ng.tensor(np.array([0, 1])))
    with pytest.raises(ValueError, match="gradcheck: no floating-point input"):
        ng.gradcheck(lambda i: i * 2, ng.tensor(np.array([1, 2])))
