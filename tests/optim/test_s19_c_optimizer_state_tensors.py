"""``Optimizer.state_dict()`` as torch.optim's: per-parameter buffers and ``step`` are tensors; torch's own state
dict (its tensors, as given) loads and continues torch's trajectory; ours, converted with ``torch.tensor(v.numpy())``,
loads into torch.optim and continues ours; a mid-run round trip (in memory and through a file) continues bit for
bit as the uninterrupted run.  Oracle: torch.optim in float64."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
X, Y, W0, B0 = RNG.standard_normal((16, 3)), RNG.standard_normal((16, 2)), RNG.standard_normal((3, 2)), RNG.standard_normal(2)
CASES = [("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1}), ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
         ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.3}), ("Adagrad", {"lr": 0.1})]  # fmt: skip


def _ours(name, kw, values=(W0, B0)):
    ps = [ng.nn.Parameter(ng.tensor(np.array(v, dtype=np.float64))) for v in values]
    return ps, getattr(ng.optim, name)(ps, **kw)


def _theirs(name, kw, values=(W0, B0)):
    ps = [torch.tensor(np.array(v, dtype=np.float64), requires_grad=True) for v in values]
    return ps, getattr(torch.optim, name)(ps, **kw)


def _step_ours(ps, opt):
    opt.zero_grad()
    ((ng.tensor(X) @ ps[0] + ps[1] - ng.tensor(Y)) ** 2).mean().backward()
    opt.step()


def _step_theirs(ps, opt):
    opt.zero_grad()
    ((torch.tensor(X) @ ps[0] + ps[1] - torch.tensor(Y)) ** 2).mean().backward()
    opt.step()


@pytest.mark.parametrize("name, kw", CASES, ids=[c[0] for c in CASES])
def test_state_entries_are_tensors_equal_to_torchs(name, kw):
    ps, opt = _ours(name, kw)
    tps, topt = _theirs(name, kw)
    for _ in range(3):
        _step_ours(ps, opt), _step_theirs(tps, topt)
    state, tstate = opt.state_dict()["state"], topt.state_dict()["state"]
    assert sorted(state) == sorted(tstate) == [0, 1]
    for i in tstate:
        assert sorted(state[i]) == sorted(tstate[i])
        for k, t in tstate[i].items():
            v = state[i][k]
            assert isinstance(v, ng.Tensor) and not v.requires_grad and v.shape == tuple(t.shape), (i, k)
            np.testing.assert_allclose(v.numpy(), t.numpy(), rtol=1e-12, atol=1e-15, err_msg=f"{i}.{k}")
    if "step" in tstate[0]:
        assert state[0]["step"].item() == tstate[0]["step"].item() == 3


@pytest.mark.parametrize("name, kw", CASES, ids=[c[0] for c in CASES])
def test_torchs_state_dict_loads_as_given_and_ours_converted_loads_into_torch(name, kw):
    tps, topt = _theirs(name, kw)
    for _ in range(3):
        _step_theirs(tps, topt)
    ps, opt = _ours(name, kw, [t.detach().numpy() for t in tps])
    opt.load_state_dict(topt.state_dict())  # torch tensors, a float32 0-d step
    for _ in range(3):
        _step_ours(ps, opt), _step_theirs(tps, topt)
    for p, t in zip(ps, tps):
        np.testing.assert_allclose(p.numpy(), t.detach().numpy(), rtol=1e-12, atol=1e-14)
    sd = copy.deepcopy(opt.state_dict())
    sd["state"] = {i: {k: torch.tensor(v.numpy()) for k, v in s.items()} for i, s in sd["state"].items()}
    tps2, topt2 = _theirs(name, kw, [p.numpy() for p in ps])
    topt2.load_state_dict(sd)
    for _ in range(3):
        _step_ours(ps, opt), _step_theirs(tps2, topt2)
    for p, t in zip(ps, tps2):
        np.testing.assert_allclose(p.numpy(), t.detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name, kw", CASES[:2], ids=[c[0] for c in CASES[:2]])
def test_a_mid_run_round_trip_in_memory_and_through_a_file_continues_bit_for_bit(name, kw, tmp_path):
    nn = ng.nn
    model = nn.Sequential(nn.Linear(3, 4, dtype="float64", seed=1), nn.Tanh(), nn.Linear(4, 2, dtype="float64", seed=2))
    opt = getattr(ng.optim, name)(model.parameters(), **kw)

    def step(m, o):
        o.zero_grad()
        ((m(ng.tensor(X)) - ng.tensor(Y)) ** 2).mean().backward()
        o.step()

    for _ in range(4):
        step(model, opt)
    weights, state = copy.deepcopy(model.state_dict()), copy.deepcopy(opt.state_dict())
    path = ng.io.save(model, tmp_path / "mid.safetensors", optimizer=opt)
    runs = []
    for via_file in (False, True):
        m = nn.Sequential(nn.Linear(3, 4, dtype="float64"), nn.Tanh(), nn.Linear(4, 2, dtype="float64"))
        o = getattr(ng.optim, name)(m.parameters(), **kw)
        if via_file:
            ng.io.load(path, model=m, optimizer=o)
        else:
            m.load_state_dict(weights), o.load_state_dict(state)
        runs.append((m, o))
    for _ in range(4):
        step(model, opt)
        for m, o in runs:
            step(m, o)
    for m, _ in runs:
        for a, b in zip(model.parameters(), m.parameters()):
            np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_a_state_of_tensors_with_a_nan_buffer_is_refused_and_changes_nothing():
    ps, opt = _ours("Adam", {"lr": 0.01})
    _step_ours(ps, opt)
    good = opt.state_dict()
    bad = copy.deepcopy(good)
    bad["state"][1]["exp_avg"] = ng.tensor(np.full(2, np.nan))
    with pytest.raises(ValueError, match="NaN"):
        opt.load_state_dict(bad)
    for i, s in opt.state_dict()["state"].items():
        for k, v in s.items():
            np.testing.assert_array_equal(v.numpy(), good["state"][i][k].numpy())
