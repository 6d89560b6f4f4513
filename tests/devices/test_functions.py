"""The rule table's hand-written functions (shape ops, scans, indexing) on another array library:
value and gradient equal NumPy's to 1e-12.  Not yet here (they raise, naming the conversion that
the device refuses): einsum and what is built on it (tensordot, outer, inner, dot, kron),
cumprod's gradient, pad, diag, scatter_add, linalg."""

from __future__ import annotations

import numpy as np
import pytest

import nablagrad as ng

from .conftest import assert_device_equals_numpy

X = np.random.default_rng(5).standard_normal((3, 4))
CASES = {
    "flip": lambda t: ng.flip(t, 0),
    "roll": lambda t: ng.roll(t, 1, 1),
    "repeat": lambda t: ng.repeat(t, 2, 0),
    "tile": lambda t: ng.tile(t, (2, 1)),
    "moveaxis": lambda t: ng.moveaxis(t, 0, 1),
    "vstack": lambda t: ng.vstack([t, t]),
    "hstack": lambda t: ng.hstack([t, t]),
    "split": lambda t: ng.split(t, 2, 1)[0],
    "tril": lambda t: ng.tril(t),
    "triu": lambda t: ng.triu(t, 1),
    "take": lambda t: ng.take(t, ng.tensor([0, 2, 2])),
    "ravel": lambda t: ng.ravel(t),
    "cumsum": lambda t: ng.cumsum(t, 1),
    "diff": lambda t: ng.diff(t),
    "var": lambda t: ng.var(t, 1),
    "where": lambda t: ng.where(t > 0, t, 0.0),
    "row": lambda t: t[1],
    "integer_array_index": lambda t: t[[0, 0, 2]],  # repeated rows: the gradient accumulates
    "integer_array_on_axis_1": lambda t: t[:, [3, 1, 1]],
    "boolean_mask": lambda t: t[t > 0],
    "index_update": lambda t: ng.index_update(t, (slice(None), 0), 1.0),
    "stack_rows": lambda t: ng.stack(list(t), axis=1),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_function_value_and_gradient_equal_numpy(name, device):
    def run(dev):
        t = ng.tensor(X, device=dev, requires_grad=True)
        out = CASES[name](t)
        (out * out).sum().backward()
        return out, t.grad

    assert_device_equals_numpy(run, device)
