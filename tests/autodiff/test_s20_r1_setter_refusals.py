"""Review of the twentieth session's Tensor setters and named comparisons: ``t.data = array`` on a tensor that
requires grad refuses integer values as ``t.data = tensor`` does (torch refuses both), leaving ``t`` as it was; a
named comparison (``ng.eq``, ``t.lt``) of a tensor with None or a string raises TypeError, as torch's does, instead
of handing back the operator protocol's ``NotImplemented``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import nablagrad as ng


@pytest.mark.parametrize("dtype", ["int64", "bool"])
def test_data_assigned_an_integer_array_on_a_tensor_requiring_grad_is_refused_and_changes_nothing(dtype):
    p = ng.tensor([1.0, 2.0, 3.0], requires_grad=True)
    before = p.data
    tp = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError):  # torch: "data set to a tensor that requires gradients must be floating point"
        tp.data = torch.from_numpy(np.zeros(3, dtype))
    with pytest.raises(RuntimeError, match="floating point"):
        p.data = np.zeros(3, dtype)
    with pytest.raises(TypeError, match="floating point"):  # (a TypeError too: the dtype is wrong)
        p.data = np.zeros(3, dtype)[0]  # a NumPy scalar
    assert p.data is before and p.dtype == np.float32 and p.requires_grad
    (p * p).sum().backward()
    np.testing.assert_allclose(p.grad.numpy(), [2.0, 4.0, 6.0])


def test_data_assigned_an_integer_array_without_grad_is_stored_as_it_is():
    t, arr = ng.ones(3), np.arange(4)
    t.data = arr
    assert t.data is arr and t.dtype == np.int64


@pytest.mark.parametrize("other", [None, "a"])
@pytest.mark.parametrize("name", ["eq", "ne", "lt", "le", "gt", "ge", "less", "greater_equal", "not_equal"])
def test_named_comparison_with_a_non_number_raises_type_error_as_torch(name, other):
    tname = {"less": "lt", "greater_equal": "ge", "not_equal": "ne"}.get(name, name)
    with pytest.raises(TypeError):
        getattr(torch, tname)(torch.tensor([1.0, 2.0]), other)
    t = ng.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match=name):
        getattr(ng, name)(t, other)
    with pytest.raises(TypeError, match=name):
        getattr(t, name)(other)
