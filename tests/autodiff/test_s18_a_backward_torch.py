"""``Tensor.backward`` with PyTorch's keywords (``gradient=``, ``inputs=``), PyTorch's errors for a non-scalar
output and for ``requires_grad`` on non-leaves and integer tensors — each against torch on the same program."""

import numpy as np
import pytest
import torch

import nablagrad as ng


def _both(values, dtype="float64"):
    return ng.tensor(np.array(values), dtype=dtype, requires_grad=True), torch.tensor(values, dtype=torch.float64,
                                                                                       requires_grad=True)


def _grad(t):
    if t.grad is None:
        return None
    return t.grad.detach().numpy().tolist() if isinstance(t, torch.Tensor) else t.grad.numpy().tolist()


def test_gradient_keyword_as_torch():
    x, xt = _both([1.0, 2.0, -3.0])
    v = [1.0, 0.5, -2.0]
    (x * x).backward(gradient=ng.tensor(np.array(v)))
    (xt * xt).backward(gradient=torch.tensor(v, dtype=torch.float64))
    assert np.allclose(_grad(x), _grad(xt))


def test_grad_and_gradient_together_are_refused():
    x, _ = _both([1.0, 2.0])
    y = x * x
    with pytest.raises(TypeError, match="gradient="):
        y.backward(ng.ones(2), gradient=ng.ones(2))
    y.backward(ng.ones(2))  # the refusal freed nothing
    assert _grad(x) == [2.0, 4.0]


def test_inputs_accumulates_into_those_tensors_only_as_torch():
    x, xt = _both([1.0, 2.0])
    z, zt = _both([3.0])
    w, wt = _both([5.0])  # not used by the output: its .grad stays None
    y, yt = (x * z).sum(), (xt * zt).sum()
    y.backward(inputs=[x, w], retain_graph=True)
    yt.backward(inputs=[xt, wt], retain_graph=True)
    assert _grad(x) == _grad(xt) and _grad(z) is _grad(zt) is None and _grad(w) is _grad(wt) is None
    y.backward(inputs=(x, z))  # a tuple; x accumulates
    yt.backward(inputs=(xt, zt))
    assert _grad(x) == _grad(xt) and _grad(z) == _grad(zt)


def test_inputs_may_be_one_non_leaf_tensor_as_torch():
    x, xt = _both([1.0, 2.0])
    h, ht = ng.sin(x), torch.sin(xt)
    (h * h).sum().backward(inputs=h)
    (ht * ht).sum().backward(inputs=ht)
    assert np.allclose(_grad(h), _grad(ht)) and x.grad is None and xt.grad is None


def test_inputs_runs_the_hooks_of_those_inputs():
    x, xt = _both([1.0, 2.0])
    x.register_hook(lambda g: g * 3)
    xt.register_hook(lambda g: g * 3)
    (x * x).sum().backward(inputs=[x])
    (xt * xt).sum().backward(inputs=[xt])
    assert _grad(x) == _grad(xt)


@pytest.mark.parametrize("bad", [[], "no-grad"])
def test_bad_inputs_are_refused_as_torch_and_change_nothing(bad):
    x, xt = _both([1.0, 2.0])
    y, yt = (x * x).sum(), (xt * xt).sum()
    ours = [] if bad == [] else [ng.tensor([1.0])]
    theirs = [] if bad == [] else [torch.tensor([1.0])]
    with pytest.raises(RuntimeError):
        yt.backward(inputs=theirs)
    with pytest.raises(RuntimeError, match="inputs"):
        y.backward(inputs=ours)
    y.backward()  # the graph is still there
    assert _grad(x) == [2.0, 4.0]


def test_non_scalar_backward_without_gradient_gives_torchs_error():
    x, xt = _both([1.0, 2.0])
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        (xt * 2).backward()
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs") as ours:
        (x * 2).backward()
    assert "(2,)" in str(ours.value) and "sum()" in str(ours.value)  # the shape, and the fix


def test_requires_grad_false_on_a_non_leaf_is_refused_as_torch():
    x, xt = _both([1.0, 2.0])
    y, yt = x * 2, xt * 2
    with pytest.raises(RuntimeError, match="leaf variables"):
        yt.requires_grad_(False)
    with pytest.raises(RuntimeError, match="leaf variables") as info:
        y.requires_grad_(False)
    assert "detach()" in str(info.value)
    assert y.requires_grad and y.grad_fn is not None  # unchanged
    y.sum().backward()
    assert _grad(x) == [2.0, 2.0]
    assert y.requires_grad_(True) is y  # asking again for what it has is fine (as torch)
    leaf = ng.tensor([1.0], requires_grad=True)
    assert leaf.requires_grad_(False).requires_grad is False  # a leaf may be switched off


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_integer_tensors_cannot_require_grad_runtime_error_as_torch(dtype):
    with pytest.raises(RuntimeError, match="floating point"):
        torch.tensor([1, 0], dtype=getattr(torch, dtype)).requires_grad_()
    for make in (lambda: ng.tensor(np.array([1, 0]).astype(dtype), requires_grad=True),
                 lambda: ng.tensor(np.array([1, 0]).astype(dtype)).requires_grad_()):  # fmt: skip
        with pytest.raises(RuntimeError, match="floating point") as info:
            make()
        assert isinstance(info.value, TypeError)  # (nablagrad's own type for it, kept)
        assert dtype in str(info.value)
