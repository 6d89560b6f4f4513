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
        (lambda t: t.max(dim=-1).values, lambda t: t.max(dim=-1).values),
        (lambda t: t.max(axis=-1), lambda t: t.amax(dim=-1)),
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


S = np.array(1.5)  # a 0-d tensor: PyTorch accepts dim 0 and -1 on it (the tensor itself)


@pytest.mark.parametrize(
    "f_ng, f_torch, x",
    [
        (lambda t: ng.stack([t, 2 * t], dim=1), lambda t: torch.stack([t, 2 * t], dim=1), X),
        (lambda t: ng.stack([t, 2 * t], dim=-1), lambda t: torch.stack([t, 2 * t], dim=-1), X),
        (lambda t: ng.concatenate([t, 2 * t], dim=-1), lambda t: torch.cat([t, 2 * t], dim=-1), X),
        (
            lambda t: ng.take_along_axis(t, ng.tensor([[[0], [3], [1]]]), dim=2),
            lambda t: torch.take_along_dim(t, torch.tensor([[[0], [3], [1]]]), dim=2),
            X,
        ),
        (lambda t: ng.array_split(t, 2, dim=2)[1], lambda t: torch.tensor_split(t, 2, dim=2)[1], X),
        (lambda t: ng.expand_dims(t, dim=1), lambda t: torch.unsqueeze(t, dim=1), X),
        (lambda t: t[0].expand(2, -1, -1), lambda t: t[0].expand(2, -1, -1), X),
        (lambda t: t[:, :1].expand(-1, 5, 4), lambda t: t[:, :1].expand(-1, 5, 4), X),
        (lambda t: t[0].trace(), lambda t: t[0].trace(), X),  # 3×4: the leading 3×3 block's trace
        (lambda t: ng.trace(t[0].T), lambda t: torch.trace(t[0].T), X),
        (lambda t: t.std(unbiased=False), lambda t: t.std(unbiased=False), X),
        (lambda t: t.std(1, unbiased=True), lambda t: t.std(1, unbiased=True), X),
        (lambda t: t.var(dim=0, unbiased=False), lambda t: t.var(dim=0, unbiased=False), X),
        (lambda t: ng.var(t, 2, keepdim=True, unbiased=False), lambda t: torch.var(t, 2, keepdim=True, unbiased=False), X),
        (lambda t: t.sum(dim=0), lambda t: t.sum(dim=0), S),
        (lambda t: t.mean(dim=-1, keepdim=True), lambda t: t.mean(dim=-1, keepdim=True), S),
        (lambda t: t.max(dim=0).values, lambda t: t.max(dim=0).values, S),
        (lambda t: t.prod(dim=0), lambda t: t.prod(dim=0), S),
        (lambda t: t.std(dim=0, correction=0), lambda t: t.std(dim=0, correction=0), S),
        (lambda t: t.var(dim=(0,), correction=0), lambda t: t.var(dim=(0,), correction=0), S),
        (lambda t: t.logsumexp(dim=0), lambda t: t.logsumexp(dim=0), S),
        (lambda t: t.cumsum(dim=0), lambda t: t.cumsum(dim=0), S),
        (lambda t: t.cumprod(dim=-1), lambda t: t.cumprod(dim=-1), S),
        (lambda t: t.flip(0), lambda t: t.flip(0), S),
        (lambda t: t.median(dim=0).values, lambda t: t.median(dim=0).values, S),
        (lambda t: ng.quantile(t, 0.5, dim=0), lambda t: torch.quantile(t, 0.5, dim=0), S),
        (lambda t: t.topk(1).values, lambda t: t.topk(1).values, S),
        (lambda t: t.squeeze(0), lambda t: t.squeeze(0), S),
        (lambda t: t.transpose(0, -1), lambda t: t.transpose(0, -1), S),
        (lambda t: t.argmax(dim=0), lambda t: t.argmax(dim=0), S),
    ],
)
def test_more_pytorch_names_and_0d_dims_give_pytorch_values_and_gradients(f_ng, f_torch, x):
    ours = f_ng(ng.tensor(x, requires_grad=True))
    t = torch.tensor(x, requires_grad=True)
    ref = f_torch(t)
    assert ours.shape == tuple(ref.shape)
    np.testing.assert_allclose(ours.numpy(), ref.detach().numpy(), rtol=1e-12)
    if ref.dtype.is_floating_point:  # the gradient too (it used to fail on 0-d tensors)
        leaf = ng.tensor(x, requires_grad=True)
        seed = np.linspace(0.5, 1.5, ref.numel()).reshape(ref.shape)
        (f_ng(leaf) * seed).sum().backward()
        (ref * torch.tensor(seed)).sum().backward()
        np.testing.assert_allclose(leaf.grad.numpy(), t.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize(
    "index, dim",
    [
        ([[0, 1], [2, 0]], 1),  # smaller than x outside dim: PyTorch reads x's leading block
        ([[0, 1, 2, 0], [2, 2, 1, 0]], 0),
        ([[3], [1], [0]], 1),
    ],
)
def test_gather_with_an_index_smaller_than_x_as_pytorch(index, dim):
    x = np.arange(12.0).reshape(3, 4) / 3.0
    leaf, t = ng.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours, ref = ng.gather(leaf, dim, ng.tensor(index)), torch.gather(t, dim, torch.tensor(index))
    np.testing.assert_allclose(ours.numpy(), ref.detach().numpy(), rtol=1e-12)
    (ours**2).sum().backward()
    (ref**2).sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), t.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("index, x_rows", [([[0, 3]], 3), ([[0], [3]], 1), ([[[0], [3], [1]]], 3)])
def test_take_along_axis_broadcasts_and_differentiates_as_take_along_dim(index, x_rows):
    x = (np.arange(24.0).reshape(2, 3, 4) / 7.0)[0, :x_rows] if np.ndim(index) == 2 else np.arange(24.0).reshape(2, 3, 4) / 7.0
    dim = np.ndim(index) - 1
    leaf, t = ng.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours, ref = ng.take_along_axis(leaf, ng.tensor(index), dim=dim), torch.take_along_dim(t, torch.tensor(index), dim=dim)
    np.testing.assert_allclose(ours.numpy(), ref.detach().numpy(), rtol=1e-12)
    (ours**2).sum().backward()  # the backward used to fail: "array is not broadcastable to correct shape"
    (ref**2).sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), t.grad.numpy(), rtol=1e-12)
