"""A training run on another array library: ``fit(..., device=)`` moves the model and draws each
batch onto its device, and reaches the same weights, losses and metrics as on NumPy (1e-12)."""

from __future__ import annotations

import numpy as np
import pytest

import nablagrad as ng

from .conftest import assert_same

RNG = np.random.default_rng(11)
X = RNG.standard_normal((48, 5))
Y = (X[:, 0] + X[:, 1] ** 2 > 0.5).astype(np.int64) + (X[:, 2] > 1.0)


def _run(device=None, **options):
    model = ng.nn.MLP([5, 8, 3], activation="tanh", seed=0, dtype="float64")
    opt = ng.optim.Adam(model.parameters(), lr=1e-2)
    history = ng.train.fit(model, "cross_entropy", opt, X, Y, epochs=3, batch_size=16, seed=1, metrics=["accuracy"],
                           validation_data=(X[:16], Y[:16]), device=device, **options)  # fmt: skip
    return model, history


def test_fit_on_a_device_equals_fit_on_numpy(device):
    model, history = _run(device)
    ref_model, ref_history = _run()
    assert model.device == ng.device(device) and ref_model.device == "cpu"
    for p, q in zip(model.parameters(), ref_model.parameters(), strict=True):
        assert_same(p, q)
    for key, values in ref_history.history.items():
        np.testing.assert_allclose(history.history[key], values, rtol=1e-12, atol=1e-12)
    assert_same(ng.train.predict(model, X), ng.train.predict(ref_model, X))


def test_fit_follows_a_model_already_on_the_device_and_can_come_back(device):
    model = ng.nn.MLP([5, 8, 3], activation="relu", seed=0, dtype="float64").to(device)
    opt = ng.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    ng.train.fit(model, "cross_entropy", opt, X, Y, epochs=1, batch_size=16, seed=0)
    assert all(p.device == ng.device(device) for p in model.parameters())
    ng.train.fit(model, "cross_entropy", opt, X, Y, epochs=1, batch_size=16, seed=0, device="cpu")  # state follows
    assert all(type(p.data) is np.ndarray for p in model.parameters())
    assert all(type(b) is np.ndarray for s in opt.state.values() for b in s.values() if hasattr(b, "shape"))


def test_gradient_clipping_on_a_device(device):
    model, history = _run(device, clip_grad_norm=0.05)
    ref_model, ref_history = _run(clip_grad_norm=0.05)
    for p, q in zip(model.parameters(), ref_model.parameters(), strict=True):
        assert_same(p, q, tol=1e-10)  # the norm is summed in another order on the device


def test_a_refused_fit_leaves_the_model_where_it_was(device):
    model = ng.nn.MLP([5, 8, 3], activation="tanh", seed=0, dtype="float64")
    opt = ng.optim.SGD(model.parameters(), lr=0.1)
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        ng.train.fit(model, "cross_entropy", opt, bad, Y, epochs=1, device=device)
    assert all(type(p.data) is np.ndarray for p in model.parameters())
