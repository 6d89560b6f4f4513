"""Buffers on every array namespace (tests/conftest.py's ``array_namespace``): made on the default device, moved
with the parameters by ``to``/``cpu``, saved by ``state_dict`` where they live and loaded there from NumPy
values (their dtype kept), an integer buffer never cast."""

from __future__ import annotations

import numpy as np

import nablagrad as ng
from nablagrad.backend import to_device


def _model():
    m = ng.nn.Sequential(ng.nn.Linear(2, 3, seed=0), ng.nn.Tanh())
    m.register_buffer("mean", ng.tensor(np.array([0.5, -0.5], np.float32)))
    m[0].register_buffer("count", ng.tensor(np.array([3], np.int64)))
    return m


def test_buffers_live_and_load_where_the_parameters_do():
    m = _model()
    here = m[0].weight.device
    assert all(b.device == here for b in m.buffers())
    sd = m.state_dict()
    assert list(sd) == ["mean", "0.weight", "0.bias", "0.count"]
    assert sd["mean"].device == here and not sd["mean"].requires_grad
    m.load_state_dict({**sd, "mean": np.array([2.0, 4.0]), "0.count": np.array([9])})  # host values, cast
    assert m.mean.device == here and m.mean.dtype == np.float32 and m[0].count.dtype == np.int64
    np.testing.assert_array_equal(m.mean.numpy(), [2.0, 4.0])
    x = ng.tensor(np.array([[1.0, 2.0]], np.float32))
    np.testing.assert_allclose((m(x) - m.mean.sum()).numpy(), np.tanh(m[0](x).numpy()) - 6.0, rtol=1e-6)


def test_to_moves_every_buffer_and_casts_only_floating_ones():
    m = _model()
    here = m[0].weight.device
    m.cpu()
    assert all(b.data.__class__ is np.ndarray for b in m.buffers())
    m.to(here, dtype="float64")
    assert m.mean.device == here and m[0].count.device == here
    assert m.mean.dtype == np.float64 and m[0].count.dtype == np.int64
    np.testing.assert_array_equal(to_device(m.mean.data, "cpu"), [0.5, -0.5])
