"""Reverse-mode semantics: accumulation, shared consumers, freeing the tape, errors, dtypes."""

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")  # the oracle; without it these tests are skipped


def test_python_numbers_become_float32_and_arrays_keep_dtype():
    assert ng.tensor([[1.0, 2.0]]).dtype == np.float32
    assert ng.tensor(np.zeros(3)).dtype == np.float64
    assert ng.tensor([1, 2]).dtype == np.int64
    ng.set_default_dtype("float64")
    assert ng.tensor(1.5).dtype == np.float64


def test_python_scalar_never_upcasts_float32():
    x = ng.tensor([1.0, 2.0], requires_grad=True)
    y = (2.0 * x + 1.5) / 3.0 - 0.25
    y = y**2 + ng.sigmoid(x) * ng.exp(-x)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_gradients_accumulate_across_backward_calls_until_zeroed():
    x = ng.tensor([1.0, -2.0], requires_grad=True)
    (x * x).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * 2 * x.numpy())
    x.grad = None
    (3 * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_value_used_by_several_consumers_receives_the_sum():
    # lecture 000: w1 feeds both w3 = w1*w2 and w4 = sin(w1)
    x1 = ng.tensor(2.0, dtype="float64", requires_grad=True)
    x2 = ng.tensor(3.0, dtype="float64", requires_grad=True)
    y = x1 * x2 + ng.sin(x1)
    y.backward()
    assert x1.grad.item() == pytest.approx(3.0 + np.cos(2.0), abs=1e-15)
    assert x2.grad.item() == pytest.approx(2.0, abs=1e-15)


def test_chain_of_100000_ops_differentiates_without_recursion():
    x = ng.tensor(1.0, dtype="float64", requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0000001
    y.backward()
    assert x.grad.item() == pytest.approx(1.0000001**100_000, rel=1e-9)


def test_second_backward_without_retain_graph_raises_clear_error():
    x = ng.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = ng.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 4 * np.exp([1.0, 2.0]), rtol=1e-6)


def test_tape_is_freed_after_backward():
    x = ng.tensor(np.ones((100, 100)), requires_grad=True)
    h = x * 2
    y = (h * h).sum()
    assert ng.tape_nbytes(y) > 0
    y.backward()
    assert y._inputs is None and h._inputs is None
    assert ng.tape_nbytes(y) == 0


def test_non_scalar_backward_needs_grad_argument():
    x = ng.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"scalar output.*shape \(2,\)"):
        (x * 2).backward()
    (x * 2).backward(np.array([1.0, 10.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 20.0])


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="floating-point"):
        ng.tensor([1, 2, 3], requires_grad=True)
    with pytest.raises(TypeError, match="floating-point"):
        ng.grad(lambda x: (x * x).sum())(np.array([1, 2]))


def test_shape_mismatch_names_op_and_shapes():
    a, b = ng.tensor(np.ones((2, 3))), ng.tensor(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"add: .*\(2, 3\), \(4, 3\)"):
        a + b
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 3\)"):
        a @ b


def test_no_grad_records_nothing_and_detach_cuts_the_graph():
    x = ng.tensor([1.0], requires_grad=True)
    with ng.no_grad():
        y = x * 2
    assert not y.requires_grad and y.is_leaf
    z = (x * 3).detach()
    assert not z.requires_grad
    w = x * 2 + z
    w.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0])


def test_requires_grad_propagates():
    a = ng.tensor([1.0], requires_grad=True)
    b = ng.tensor([2.0])
    assert (a * b).requires_grad
    assert not (b * b).requires_grad


def test_create_graph_gives_grad_of_grad():
    x = ng.tensor(1.5, dtype="float64", requires_grad=True)
    y = x**4
    y.backward(create_graph=True)
    g = x.grad
    assert g.item() == pytest.approx(4 * 1.5**3)
    x.grad = None
    g.backward()
    assert x.grad.item() == pytest.approx(12 * 1.5**2)


def test_third_derivative_of_sin():
    d3 = ng.grad(ng.grad(ng.grad(ng.sin)))
    for v in [0.0, 0.7, 2.0]:
        assert d3(np.float64(v)).item() == pytest.approx(-np.cos(v), abs=1e-14)


def test_hessian_matches_torch(rng):
    a = rng.standard_normal((4, 4))

    def f(x):
        return (ng.tanh(x @ a) ** 2).sum() + (x**3).sum() * ng.exp(x[0])

    def tf(x):
        return (torch.tanh(x @ torch.tensor(a)) ** 2).sum() + (x**3).sum() * torch.exp(x[0])

    x = rng.standard_normal(4)
    h = ng.hessian(f)(x)
    th = torch.autograd.functional.hessian(tf, torch.tensor(x))
    np.testing.assert_allclose(h.numpy(), th.numpy(), rtol=1e-10, atol=1e-12)


def test_hessian_of_softmax_cross_entropy_matches_torch(rng):
    w = rng.standard_normal((3, 5))
    labels = np.array([0, 3, 1])

    def f(x):
        return -ng.log_softmax(x * w, axis=1)[np.arange(3), labels].mean() + ng.logsumexp(x).sum() * 0.1

    def tf(x):
        return -torch.log_softmax(x * torch.tensor(w), dim=1)[torch.arange(3), torch.tensor(labels)].mean() + (
            torch.logsumexp(x, dim=0) * 0.1
        )

    x = rng.standard_normal(5)
    np.testing.assert_allclose(
        ng.hessian(f)(x).numpy(), torch.autograd.functional.hessian(tf, torch.tensor(x)).numpy(), atol=1e-12
    )
