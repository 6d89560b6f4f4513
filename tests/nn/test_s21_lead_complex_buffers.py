"""A complex buffer loads from a state dict, as in PyTorch; complex values for a real parameter are refused with
a message that says so (PyTorch warns and drops the imaginary part) and change nothing."""

from __future__ import annotations

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.nn.module import StateDictValueError

torch = pytest.importorskip("torch")


def test_a_complex_buffer_round_trips_as_in_torch():
    values = np.array([1 + 2j, -3j], np.complex64)
    ours, theirs = ng.nn.Linear(2, 2), torch.nn.Linear(2, 2)
    ours.register_buffer("c", ng.tensor(values))
    theirs.register_buffer("c", torch.tensor(values))
    twin, torch_twin = ng.nn.Linear(2, 2), torch.nn.Linear(2, 2)
    twin.register_buffer("c", ng.tensor(np.zeros(2, np.complex64)))
    torch_twin.register_buffer("c", torch.zeros(2, dtype=torch.complex64))
    twin.load_state_dict(ours.state_dict())
    torch_twin.load_state_dict(theirs.state_dict())
    np.testing.assert_array_equal(twin.c.numpy(), torch_twin.c.numpy())


def test_complex_values_for_a_real_parameter_are_refused_and_change_nothing():
    model = ng.nn.Linear(2, 2)
    before = model.weight.numpy().copy()
    state = {**model.state_dict(), "weight": ng.tensor(np.ones((2, 2), np.complex64))}
    with pytest.raises(StateDictValueError, match="weight holds complex values.*real part"):
        model.load_state_dict(state)
    np.testing.assert_array_equal(model.weight.numpy(), before)
