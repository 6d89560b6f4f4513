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
