"""``ones_like``/``zeros_like`` of a value vmap batches on every array namespace (tests/conftest.py): one
example's shape inside, on the value's device — the fill is the namespace's own ``full_like`` — against
torch.func on the same values."""

from __future__ import annotations

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.backend import to_device

torch = pytest.importorskip("torch")
tf = pytest.importorskip("torch.func")

X = np.array([[1.0, -2.0, 0.5], [3.0, 4.0, -1.5]])


@pytest.mark.parametrize("name", ["ones_like", "zeros_like"])
def test_vmap_of_like_keeps_the_device_and_one_example_shape(name):
    ours_like, theirs_like = getattr(ng, name), getattr(torch, name)
    x = ng.tensor(X)
    got = ng.vmap(lambda r: ours_like(r, dtype="float32") + r.sum())(x)
    want = tf.vmap(lambda r: theirs_like(r, dtype=torch.float32) + r.sum())(torch.tensor(X))
    assert got.device == x.device and got.shape == tuple(want.shape) and str(got.dtype) == str(want.dtype).removeprefix("torch.")
    np.testing.assert_allclose(to_device(got.data, "cpu"), want.numpy(), rtol=1e-12)
