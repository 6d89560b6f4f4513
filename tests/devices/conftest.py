"""The device corpus runs on every array library nablagrad supports besides NumPy, and compares
with NumPy: ``array_api_strict`` on its non-CPU device ``device1`` (it refuses every non-standard
call and every conversion to NumPy there, so a NumPy call that leaks onto tensor data fails the
test) on every run, and CuPy where a GPU is present (skipped otherwise, with the reason)."""

from __future__ import annotations

import numpy as np
import pytest

import nablagrad as ng


@pytest.fixture(params=["array_api_strict", "cupy"])
def device(request, namespace_device):
    """A device of another array library than NumPy (see the module docstring)."""
    return namespace_device(request.param)


def host(x) -> np.ndarray:
    """A tensor's (or an array's) values as a NumPy array."""
    return x.numpy() if isinstance(x, ng.Tensor) else np.asarray(x)


def assert_same(got, want, tol: float = 1e-12) -> None:
    """``got`` (from the device) equals ``want`` (NumPy's) to ``tol`` (float64), entry by entry."""
    g, w = host(got), host(want)
    assert g.shape == w.shape, (g.shape, w.shape)
    np.testing.assert_allclose(g, w, rtol=tol, atol=tol)


def assert_device_equals_numpy(run, device, tol: float = 1e-12) -> None:
    """``run(device)`` and ``run(None)`` (NumPy) give the same results, each on the device it ran on."""
    got, want = run(device), run(None)
    for g, w in zip(got, want, strict=True):
        if isinstance(g, ng.Tensor):
            assert g.device == ng.device(device), (g.device, device)
        assert_same(g, w, tol)
