"""Saving a model that lives on a device copies it to the host; loading puts it back where asked."""

from __future__ import annotations

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.nn import functional as Fn

from .conftest import assert_same

X = np.random.default_rng(3).standard_normal((8, 4))


def test_save_from_a_device_and_load_onto_it(device, tmp_path):
    model = ng.nn.MLP([4, 6, 2], activation="tanh", seed=2, dtype="float64").to(device)
    opt = ng.optim.Adam(model.parameters(), lr=1e-2)
    Fn.mse_loss(model(ng.tensor(X, device=device)), np.zeros((8, 2))).backward()
    opt.step()
    path = ng.io.save(model, tmp_path / "m.safetensors", optimizer=opt)

    on_host = ng.io.load(path)
    assert on_host.device == "cpu"
    back = ng.io.load(path, device=device)
    assert back.device == ng.device(device)
    for p, q, r in zip(model.parameters(), on_host.parameters(), back.parameters(), strict=True):
        assert_same(q, p.numpy(), tol=0)
        assert_same(r, p.numpy(), tol=0)

    fresh = ng.nn.MLP([4, 6, 2], activation="tanh", seed=5, dtype="float64")
    fresh_opt = ng.optim.Adam(fresh.parameters(), lr=1e-2)
    ng.io.load(path, model=fresh, optimizer=fresh_opt, device=device)
    assert all(ng.backend.device_of(b) == ng.device(device) for s in fresh_opt.state.values() for b in s.values()
               if hasattr(b, "shape"))  # fmt: skip
    assert_same(fresh(ng.tensor(X, device=device)), model(ng.tensor(X, device=device)), tol=0)


def test_state_dict_stays_on_the_device_and_loads_across(device):
    model = ng.nn.MLP([4, 3], seed=1, dtype="float64").to(device)
    sd = model.state_dict()
    assert all(isinstance(a, ng.Tensor) and a.device == ng.device(device) for a in sd.values())
    host_model = ng.nn.MLP([4, 3], seed=9, dtype="float64")
    host_model.load_state_dict(sd)
    for p, q in zip(model.parameters(), host_model.parameters(), strict=True):
        assert_same(q, p.numpy(), tol=0)


def test_a_refused_file_loaded_onto_a_device_leaves_the_model_where_and_as_it_was(device, tmp_path):
    model = ng.nn.MLP([3, 4, 2], seed=0, dtype="float64")
    opt = ng.optim.Adam(model.parameters(), lr=0.1)
    (model(ng.tensor(np.ones((2, 3)))) ** 2).sum().backward()
    opt.step()
    before = [p.numpy().copy() for p in model.parameters()]
    state = {k: np.array(v) for k, v in opt.state[id(next(model.parameters()))].items() if hasattr(v, "shape")}
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}      ")
    with pytest.raises(ValueError):
        ng.io.load(bad, model=model, optimizer=opt, device=device)
    assert model.device == "cpu"
    for p, b in zip(model.parameters(), before, strict=True):
        np.testing.assert_array_equal(p.numpy(), b)
    after = opt.state[id(next(model.parameters()))]
    for k, v in state.items():
        np.testing.assert_array_equal(np.asarray(after[k]), v)
    good = ng.io.save(model, tmp_path / "good.safetensors", optimizer=opt)
    assert ng.io.load(good, model=model, optimizer=opt, device=device).device == ng.device(device)
    for p in model.parameters():
        assert all(v.__class__ is p.data.__class__ for v in opt.state[id(p)].values() if hasattr(v, "shape"))
