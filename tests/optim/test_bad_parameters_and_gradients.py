"""What ``torch.optim`` refuses, nablagrad refuses too, naming the fix: a non-leaf tensor as a parameter,
a ``.grad`` that is not a tensor of the parameter's kind, a closure that is not a function — and a
refused step changes nothing."""

import numpy as np
import pytest
import torch

import nablagrad as ng


def _param():
    return ng.tensor(np.array([1.0, -2.0, 3.0], np.float32), requires_grad=True)


def test_a_non_leaf_tensor_is_refused_as_torch_refuses_it():
    w = _param()
    with pytest.raises(ValueError, match="non-leaf"):
        torch.optim.SGD([torch.ones(3, requires_grad=True) * 2], lr=0.1)
    with pytest.raises(ValueError, match=r"Adam: can't optimise a non-leaf tensor \(shape \(3,\), computed by mul"):
        ng.optim.Adam([w * 2])


@pytest.mark.parametrize("bad", [np.ones(3, np.float32), [1.0, 1.0, 1.0], "x"], ids=["ndarray", "list", "str"])
@pytest.mark.parametrize("opt_cls", [ng.optim.SGD, ng.optim.Adam])
def test_a_gradient_that_is_not_a_tensor_is_refused_and_nothing_changes(opt_cls, bad):
    w = _param()
    opt = opt_cls([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()  # a steady state first: the refusal must also come from the steady step
    (w * w).sum().backward()
    before = w.numpy().copy()
    w.grad = bad
    with pytest.raises(TypeError, match=r"step: the gradient of a parameter of shape \(3,\) \(float32\) is"):
        opt.step()
    np.testing.assert_array_equal(w.numpy(), before)


def test_a_complex_or_integer_gradient_of_a_real_parameter_is_refused():
    w = _param()
    opt = ng.optim.Adam([w])
    for dtype in (np.complex64, np.int64):
        w.grad = ng.tensor(np.ones(3, dtype))
        with pytest.raises(TypeError, match=f"a tensor of dtype {np.dtype(dtype)}"):
            opt.step()
    np.testing.assert_array_equal(w.numpy(), np.array([1.0, -2.0, 3.0], np.float32))
    assert opt.state == {} or all(not s for s in opt.state.values())


def test_a_closure_that_is_not_callable_is_refused():
    w = _param()
    opt = ng.optim.SGD([w], lr=0.1)
    with pytest.raises(TypeError, match="closure must be a function"):
        opt.step(closure=5)
