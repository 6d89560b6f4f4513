"""PyTorch's in-place methods (``x.exp_()``, ``x.fill_(v)`` …) and in-place ops whose argument is the tensor
itself (``y += y``, ``y.mul_(y)``): values and gradients as torch's, or as the out-of-place formula where
torch refuses (``y.mul_(y)`` saved the y it overwrote)."""

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")
from torch.func import jvp as torch_jvp  # noqa: E402

pytestmark = pytest.mark.numpy_only("the methods are the same code on every device; one oracle run")

X = np.array([0.3, 0.7, 1.6])
UNARY = ["abs", "neg", "exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "square", "reciprocal", "floor",
         "ceil", "round", "trunc", "sin", "cos", "tan", "sinh", "cosh", "asin", "acos", "atan", "sigmoid", "tanh", "relu",
         "sign"]  # fmt: skip


@pytest.mark.parametrize("name", UNARY)
def test_unary_in_place_methods_equal_torch_s(name):
    grads, values = [], []
    for L in (ng, torch):
        a = L.tensor(X * (0.5 if name in ("asin", "acos") else 1.0), requires_grad=True)
        y = a * 1.0
        assert getattr(y, f"{name}_")() is y  # the same tensor, written in place
        (y * L.tensor([1.0, 2.0, 3.0])).sum().backward()
        values.append(y.detach().numpy())
        grads.append(a.grad.numpy())
    np.testing.assert_allclose(values[0], values[1], rtol=1e-12)
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)


def test_fill_as_torch_s():
    for value in (2.5, "tensor"):
        grads = []
        for L in (ng, torch):
            a = L.tensor(X, requires_grad=True)
            v = L.tensor(4.0, requires_grad=True)
            y = a * 2.0
            y.fill_(v if value == "tensor" else value)
            (y * L.tensor([1.0, 2.0, 3.0])).sum().backward()
            grads.append((a.grad.numpy(), None if v.grad is None else v.grad.numpy(), y.detach().numpy()))
        for ours, theirs in zip(*grads):
            if theirs is None:
                assert ours is None
            else:
                np.testing.assert_allclose(ours, theirs)
    leaf = ng.tensor(X, requires_grad=True)
    with pytest.raises(RuntimeError, match="fill_: a leaf tensor"):
        leaf.fill_(1.0)


def test_the_tensor_itself_as_the_argument_reads_its_old_values():
    a = ng.tensor(X, requires_grad=True)
    y = a * 1.0
    y += y
    y.sum().backward()
    ta = torch.tensor(X, requires_grad=True)
    ty = ta * 1.0
    ty += ty
    ty.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy())

    a = ng.tensor(X, requires_grad=True)
    y = a * 1.0
    y.mul_(y)  # torch refuses (mul saved the y it overwrote); the formula's gradient is 2a
    y.sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), X**2)
    np.testing.assert_allclose(a.grad.numpy(), 2 * X)

    def f(L):
        def inner(x):
            y = x * 1
            y.add_(y)
            return y.sum()

        return inner

    ours = ng.jvp(f(ng), (ng.tensor(X),), (ng.ones(3, dtype="float64"),))
    theirs = torch_jvp(f(torch), (torch.tensor(X),), (torch.ones(3, dtype=torch.float64),))
    np.testing.assert_allclose([float(o) for o in ours], [float(t) for t in theirs])
