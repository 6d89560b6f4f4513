"""A backward hook's ``None`` gradient flows on as zeros on the tensor's own device, not the default device:
the module and its input here live on a device other than the default one."""

import numpy as np
import pytest

import nablagrad as ng


@pytest.fixture
def other_device(array_namespace, namespace_device):
    """A device that is not the default one of this run."""
    return namespace_device("array_api_strict") if array_namespace == "numpy" else "cpu"


@pytest.mark.parametrize("kind", ["pre", "full"])
def test_a_none_gradient_flows_as_zeros_on_the_tensors_device(kind, other_device):
    lin = ng.nn.Linear(3, 2).to(other_device)
    if kind == "pre":  # grad_output replaced by None: nothing reaches the layer
        lin.register_full_backward_pre_hook(lambda m, grad_output: (None,))
    else:  # grad_input replaced by None: nothing flows on to x
        lin.register_full_backward_hook(lambda m, grad_input, grad_output: (None,))
    x = ng.tensor(np.ones((4, 3), np.float32), device=other_device, requires_grad=True)
    lin(x).sum().backward()
    assert x.grad.device == x.device
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((4, 3), np.float32))
    assert lin.weight.grad is not None and lin.weight.grad.device == x.device
    expected = np.zeros((3, 2)) if kind == "pre" else np.full((3, 2), 4.0)
    np.testing.assert_array_equal(lin.weight.grad.numpy(), expected)
