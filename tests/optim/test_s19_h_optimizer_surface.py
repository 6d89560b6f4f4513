"""torch.optim's surface a PyTorch user reaches for: ``opt.state[p]`` keyed by the parameter, named parameters,
extra keys in a group (torch 2.13 as the oracle)."""

import copy

import numpy as np
import pytest
import torch

import nablagrad as ng
from nablagrad import optim


def _pair(seed=0):
    rng = np.random.default_rng(seed)
    w, b = rng.normal(size=(3, 2)), rng.normal(size=2)
    return [ng.nn.Parameter(w), ng.nn.Parameter(b)], [torch.nn.Parameter(torch.tensor(w)), torch.nn.Parameter(torch.tensor(b))]


def _host(v):
    """A state buffer of any array library (or a step count) as NumPy."""
    return ng.as_tensor(v).numpy() if hasattr(v, "shape") else np.asarray(v)


def _steps(params, opt, lib, n=3):
    for _ in range(n):
        opt.zero_grad()
        loss = (params[0] ** 2).sum() + (params[1] ** 3).sum()
        loss.backward()
        opt.step()


@pytest.mark.parametrize("ours, theirs", [(optim.Adam, torch.optim.Adam), (optim.SGD, torch.optim.SGD)])
def test_state_is_keyed_by_the_parameter_as_torch_s(ours, theirs):
    kw = {"lr": 0.1} if ours is optim.Adam else {"lr": 0.1, "momentum": 0.9}
    mine, torchs = _pair()
    opt, topt = ours(mine, **kw), theirs(torchs, **kw)
    _steps(mine, opt, ng)
    _steps(torchs, topt, torch)
    for p, q in zip(mine, torchs):
        assert p in opt.state and set(opt.state[p]) == set(topt.state[q])
        for k, v in topt.state[q].items():
            np.testing.assert_allclose(_host(opt.state[p][k]).astype(np.float64), v.detach().numpy(), rtol=1e-12)
    assert len(opt.state) == len(topt.state) == 2
    assert all(any(k is p for p in mine) for k in opt.state)  # iteration gives the parameters themselves
    assert opt.state[id(mine[0])] is opt.state[mine[0]]  # the older id(p) key still finds it


def test_a_parameter_without_state_reads_as_an_empty_dict_as_torch_defaultdict():
    mine, torchs = _pair()
    opt, topt = optim.Adam(mine, lr=0.1), torch.optim.Adam(torchs, lr=0.1)
    assert opt.state[mine[0]] == topt.state[torchs[0]] == {}
    _steps(mine, opt, ng, n=2)  # the empty entry read before the first step does not disturb it
    _steps(torchs, topt, torch, n=2)
    for p, q in zip(mine, torchs):
        np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=1e-12)
    with pytest.raises(KeyError):
        opt.state["weight"]


def test_state_survives_deepcopy_and_state_dict_round_trip_keyed_by_the_copies():
    mine, _ = _pair()
    opt = optim.Adam(mine, lr=0.1)
    _steps(mine, opt, ng)
    twin = copy.deepcopy(opt)
    q = twin.param_groups[0]["params"][0]
    np.testing.assert_array_equal(_host(twin.state[q]["exp_avg"]), _host(opt.state[mine[0]]["exp_avg"]))
    fresh_params, _ = _pair(1)
    fresh = optim.Adam(fresh_params, lr=0.1)
    fresh.load_state_dict(opt.state_dict())
    np.testing.assert_array_equal(_host(fresh.state[fresh_params[1]]["exp_avg_sq"]), _host(opt.state[mine[1]]["exp_avg_sq"]))


def test_named_parameters_are_taken_with_param_names_as_torch():
    m, tm = ng.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    opt, topt = optim.SGD(m.named_parameters(), lr=0.1), torch.optim.SGD(tm.named_parameters(), lr=0.1)
    assert opt.param_groups[0]["param_names"] == topt.param_groups[0]["param_names"] == ["weight", "bias"]
    assert opt.param_groups[0]["params"] == [m.weight, m.bias] or all(
        a is b for a, b in zip(opt.param_groups[0]["params"], [m.weight, m.bias]))
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["weight", "bias"]
    grouped = optim.SGD([{"params": m.named_parameters(), "lr": 0.2}], lr=0.1)
    assert grouped.param_groups[0]["param_names"] == ["weight", "bias"]


def test_named_and_unnamed_groups_do_not_mix_as_torch():
    m, m2 = ng.nn.Linear(3, 2), ng.nn.Linear(2, 1)
    tm, tm2 = torch.nn.Linear(3, 2), torch.nn.Linear(2, 1)
    opt, topt = optim.SGD(m.named_parameters(), lr=0.1), torch.optim.SGD(tm.named_parameters(), lr=0.1)
    with pytest.raises(ValueError):
        topt.add_param_group({"params": tm2.parameters()})
    with pytest.raises(ValueError, match="with names"):
        opt.add_param_group({"params": m2.parameters()})
    assert len(opt.param_groups) == 1
    with pytest.raises(ValueError, match="name and some without"):
        optim.SGD([("w", m.weight), m.bias], lr=0.1)


def test_a_torch_state_dict_with_param_names_loads():
    tw = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    topt = torch.optim.SGD([("w", tw)], lr=0.1, momentum=0.9)
    (tw**2).sum().backward()
    topt.step()
    w = ng.nn.Parameter(np.ones(3))
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    opt.load_state_dict(topt.state_dict())
    assert opt.param_groups[0]["param_names"] == ["w"]
    np.testing.assert_array_equal(_host(opt.state[w]["momentum_buffer"]), topt.state[tw]["momentum_buffer"].numpy())


def test_extra_group_keys_are_kept_as_torch_keeps_them():
    m, m2 = ng.nn.Linear(3, 2), ng.nn.Linear(2, 1)
    tm, tm2 = torch.nn.Linear(3, 2), torch.nn.Linear(2, 1)
    opt = optim.Adam([{"params": m.parameters(), "name": "enc"}], lr=0.1)
    topt = torch.optim.Adam([{"params": tm.parameters(), "name": "enc"}], lr=0.1)
    opt.add_param_group({"params": m2.parameters(), "name": "dec", "lr": 0.5})
    topt.add_param_group({"params": tm2.parameters(), "name": "dec", "lr": 0.5})
    for ours, theirs in zip(opt.state_dict()["param_groups"], topt.state_dict()["param_groups"]):
        assert (ours["name"], ours["lr"], ours["params"]) == (theirs["name"], theirs["lr"], theirs["params"])
    twin = optim.Adam([{"params": ng.nn.Linear(3, 2).parameters(), "name": "x"}], lr=0.1)
    twin.add_param_group({"params": ng.nn.Linear(2, 1).parameters(), "name": "y"})
    twin.load_state_dict(opt.state_dict())
    assert [g["name"] for g in twin.param_groups] == ["enc", "dec"] and twin.param_groups[1]["lr"] == 0.5


def test_another_optimizers_option_in_a_group_is_still_refused_and_changes_nothing():
    m = ng.nn.Linear(3, 2)
    opt = optim.Adam(m.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="unknown option 'momentum'"):
        opt.add_param_group({"params": ng.nn.Linear(2, 1).parameters(), "momentum": 0.9})
    assert len(opt.param_groups) == 1
