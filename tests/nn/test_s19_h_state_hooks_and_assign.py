"""``load_state_dict(assign=True)`` and the state-dict hooks, as PyTorch 2.13's (torch as the oracle)."""

import numpy as np
import pytest
import torch

import nablagrad as ng
from nablagrad import nn


def test_assign_takes_the_states_tensors_dtype_and_keeps_requires_grad_as_torch():
    m, tm = nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3)
    m.bias.requires_grad_(False)
    tm.bias.requires_grad_(False)
    sd = {k: ng.tensor(v.numpy().astype(np.float64) if v.dtype.kind == "f" else v.numpy()) for k, v in m.state_dict().items()}
    tsd = {k: v.double() if v.is_floating_point() else v.clone() for k, v in tm.state_dict().items()}
    old = m.weight
    assert repr(m.load_state_dict(sd, assign=True)) == repr(tm.load_state_dict(tsd, assign=True))
    for ours, theirs in ((m.weight, tm.weight), (m.bias, tm.bias)):
        assert isinstance(ours, nn.Parameter) and isinstance(theirs, torch.nn.Parameter)
        assert (ours.dtype, ours.requires_grad) == (np.float64, theirs.requires_grad)
    assert m.weight is not old and m.weight.data is sd["weight"].data  # the same memory
    assert (m.running_mean is sd["running_mean"]) == (tm.running_mean is tsd["running_mean"]) is True
    out = m(ng.tensor(np.ones((4, 3)))).sum()  # the new parameters train
    out.backward()
    assert m.weight.grad is not None and m.weight.grad.dtype == np.float64


def test_assign_takes_a_parameter_itself_and_leaves_missing_entries_with_strict_false():
    lin = nn.Linear(3, 1)
    w = nn.Parameter(np.ones((3, 1)))
    old_bias = lin.bias
    lin.load_state_dict({"weight": w}, strict=False, assign=True)
    assert lin.weight is w and lin.bias is old_bias
    lin.load_state_dict({"weight": np.zeros((3, 1)), "bias": torch.zeros(1, dtype=torch.float64)}, assign=True)
    assert lin.bias.dtype == np.float64 and lin.weight.requires_grad


@pytest.mark.parametrize("state, error", [({"weight": np.ones((2, 3)), "bias": np.zeros(1)}, nn.StateDictShapeError),
                                          ({"weight": np.ones((3, 1), np.int64), "bias": np.zeros(1)}, TypeError),
                                          ({"weight": np.ones((3, 1))}, KeyError)])  # fmt: skip
def test_a_refused_assign_changes_nothing(state, error):
    tlin = torch.nn.Linear(3, 1)
    with pytest.raises(RuntimeError):  # torch refuses the same three (its error type is RuntimeError)
        tlin.load_state_dict({k: torch.tensor(v.T if v.ndim == 2 else v) for k, v in state.items()}, assign=True)
    lin = nn.Linear(3, 1)
    before = (lin.weight, lin.bias, lin.weight.numpy().copy())
    with pytest.raises(error):
        lin.load_state_dict(state, assign=True)
    assert lin.weight is before[0] and lin.bias is before[1] and np.array_equal(lin.weight.numpy(), before[2])


def test_state_dict_hooks_order_prefix_and_edit_as_torch():
    def build(lib):
        return lib.Sequential(lib.Linear(2, 2), lib.Linear(2, 1))

    logs = []
    for m in (build(nn), build(torch.nn)):
        calls = []
        m[1].register_state_dict_pre_hook(lambda mod, prefix, keep_vars, c=calls: c.append(("pre", prefix, keep_vars)))
        m.register_state_dict_pre_hook(lambda mod, prefix, keep_vars, c=calls: c.append(("pre", prefix, keep_vars)))
        m[0].register_state_dict_post_hook(lambda mod, sd, prefix, meta, c=calls: c.append(("post", prefix)))

        def drop(mod, sd, prefix, meta, c=calls):
            c.append(("post", prefix))
            sd.pop(prefix + "1.bias")

        h = m.register_state_dict_post_hook(drop)
        keys = list(m.state_dict(prefix="net."))
        h.remove()
        keys_after = list(m.state_dict())
        logs.append((calls[:4], keys, keys_after))
    assert logs[0] == logs[1]


def test_load_post_hook_may_clear_missing_keys_and_a_refusal_puts_the_values_back():
    results = []
    for lib in (nn, torch.nn):
        m = lib.Sequential(lib.Linear(2, 2), lib.Linear(2, 1))
        sd = {k: v for k, v in m.state_dict().items() if k != "1.bias"}
        seen = []

        def forgive(mod, keys, seen=seen):
            seen.append(list(keys.missing_keys))
            keys.missing_keys.clear()

        h = m.register_load_state_dict_post_hook(forgive)
        result = m.load_state_dict(sd)
        h.remove()
        results.append((seen, list(result.missing_keys)))
    assert results[0] == results[1] == ([["1.bias"]], [])
    m = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    before = m.state_dict()
    m.register_load_state_dict_post_hook(lambda mod, keys: None)
    new = {k: v * 0 + 5 for k, v in before.items() if k != "1.bias"}
    with pytest.raises(KeyError, match="missing keys"):
        m.load_state_dict(new)
    assert all(np.array_equal(a.numpy(), b.numpy()) for a, b in zip(before.values(), m.state_dict().values()))


def test_hooks_are_checked_and_handles_remove_them():
    m = nn.Linear(2, 1)
    with pytest.raises(TypeError, match="callable"):
        m.register_state_dict_pre_hook(3)
    h = m.register_load_state_dict_post_hook(lambda mod, keys: "oops")
    with pytest.raises(RuntimeError, match="must return None"):
        m.load_state_dict(m.state_dict())
    h.remove()
    m.load_state_dict(m.state_dict())


def test_a_refused_assign_load_leaves_the_states_own_parameters_as_they_were():
    m = ng.nn.Linear(2, 3, seed=0)
    frozen = ng.nn.Parameter(ng.zeros(2, 3), requires_grad=False)  # the module's weight requires grad: assign flips it

    def refuse(module, keys):
        raise RuntimeError("refused by the hook")

    m.register_load_state_dict_post_hook(refuse)
    weight = m.weight
    with pytest.raises(RuntimeError, match="refused by the hook"):
        m.load_state_dict({"weight": frozen}, strict=False, assign=True)
    assert m.weight is weight and m.weight.requires_grad
    assert frozen.requires_grad is False  # the caller's object is not left changed
