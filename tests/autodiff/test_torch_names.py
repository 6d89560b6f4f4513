"""PyTorch's names beside NumPy's (``dim``/``keepdim``, ``transpose(d0, d1)``, ``permute``,
``.mT``) and ``ng.tensor``'s input errors, each against PyTorch's result."""

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")

X = np.arange(24.0).reshape(2, 3, 4) / 7.0


@pytest.mark.parametrize(
    "f_ng, f_torch",
    [
        (lambda t: t.sum(dim=1, keepdim=True), lambda t: t.sum(dim=1, keepdim=True)),
        (lambda t: ng.mean(t, dim=(0, 2)), lambda t: torch.mean(t, dim=(0, 2))),
        (lambda t: t.max(dim=-1), lambda t: t.amax(dim=-1)),
        (lambda t: t.logsumexp(dim=0, keepdim=True), lambda t: t.logsumexp(dim=0, keepdim=True)),
        (lambda t: t.var(dim=1, correction=1), lambda t: t.var(dim=1, correction=1)),
        (lambda t: t.std(dim=2, keepdim=True, correction=0), lambda t: t.std(dim=2, keepdim=True, correction=0)),
        (lambda t: ng.softmax(t, dim=1), lambda t: torch.softmax(t, dim=1)),
        (lambda t: t.prod(dim=0), lambda t: t.prod(dim=0)),
        (lambda t: t.transpose(0, 2), lambda t: t.transpose(0, 2)),
        (lambda t: t[0].transpose(0, 1), lambda t: t[0].transpose(0, 1)),  # 2-D: swaps, as PyTorch
        (lambda t: t[0].transpose(1, 0), lambda t: t[0].transpose(1, 0)),
        (lambda t: t.permute(2, 0, 1), lambda t: t.permute(2, 0, 1)),
        (lambda t: t.mT, lambda t: t.mT),
        (lambda t: t[0].T, lambda t: t[0].T),
    ],
)
def test_pytorch_names_give_pytorch_results(f_ng, f_torch):
    out = f_ng(ng.tensor(X, requires_grad=True))
    ref = f_torch(torch.tensor(X))
    assert out.shape == tuple(ref.shape)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-12)


@pytest.mark.parametrize("bad", ["abc", None, [[1.0, 2.0], [3.0]], [1.0, "a"], [None, 1.0]])
def test_tensor_refuses_what_torch_refuses_naming_the_input(bad):
    with pytest.raises((TypeError, ValueError, RuntimeError)):
        torch.tensor(bad)
    with pytest.raises((TypeError, ValueError)) as info:
        ng.tensor(bad)
    assert "tensor:" in str(info.value) and (repr(bad)[:20] in str(info.value) or "entries" in str(info.value))


F32, I64 = np.array([1.5, -2.0], dtype=np.float32), np.array([3, 4], dtype=np.int64)


@pytest.mark.parametrize(
    "name, f",
    [
        ("float32 * int tensor", lambda T, a, i: T(a) * T(i)),
        ("int tensor + float32", lambda T, a, i: T(i) + T(a)),
        ("float32 * np.float64 scalar", lambda T, a, i: T(a) * np.float64(2.0)),
        ("np.float64 scalar - float32", lambda T, a, i: np.float64(2.0) - T(a)),
        ("float32 / Python float", lambda T, a, i: T(a) / 3.0),
        ("int tensor * Python float", lambda T, a, i: T(i) * 2.5),
        ("int tensor / int tensor", lambda T, a, i: T(i) / T(i)),
        ("int tensor / Python int", lambda T, a, i: T(i) / 2),
        ("int tensor + Python int", lambda T, a, i: T(i) + 2),
        ("float32 ** int tensor", lambda T, a, i: T(a) ** T(i)),
        ("maximum(int, float32)", lambda T, a, i: (ng.maximum if T is ng.tensor else torch.maximum)(T(i), T(a))),
    ],
)
def test_binary_ops_follow_pytorch_type_promotion(name, f):
    out = f(ng.tensor, F32, I64)
    ref = f(torch.tensor, F32, I64)
    assert out.dtype == np.dtype(str(ref.dtype).removeprefix("torch.")), name
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-6)


def test_create_graph_gradient_has_its_leafs_dtype():
    x = ng.tensor(F32, requires_grad=True)
    (x**3).sum().backward(create_graph=True)
    tx = torch.tensor(F32, requires_grad=True)
    (g,) = torch.autograd.grad((tx**3).sum(), tx, create_graph=True)
    assert x.grad.dtype == np.float32 and g.dtype == torch.float32
    np.testing.assert_allclose(x.grad.numpy(), g.detach().numpy(), rtol=1e-6)


def test_linear_refuses_another_float_dtype_like_pytorch_naming_layer_dtypes_and_fix():
    x64 = np.zeros((2, 3))
    with pytest.raises(RuntimeError, match="dtype"):
        torch.nn.Linear(3, 2)(torch.tensor(x64))
    lin = ng.nn.Linear(3, 2)
    w = lin.weight.numpy().copy()
    with pytest.raises(TypeError, match=r"Linear\(3, 2\): input dtype float64 .* float32; cast the input .* dtype='float64'"):
        lin(x64)
    np.testing.assert_array_equal(lin.weight.numpy(), w)
    assert lin(x64.astype(np.float32)).dtype == np.float32
    assert ng.nn.Linear(3, 2, dtype="float64")(x64).dtype == np.float64


def test_quantile_takes_q_as_a_tensor_like_pytorch():
    x = np.random.default_rng(2).standard_normal((3, 5))
    q = np.array([0.25, 0.9])
    want = torch.quantile(torch.tensor(x), torch.tensor(q), dim=1)
    np.testing.assert_allclose(ng.quantile(ng.tensor(x), ng.tensor(q), dim=1).numpy(), want.numpy(), rtol=1e-14)
