"""``Module`` and ``Sequential`` behave as torch 2.13's on: assigning to a parameter's name, ``del``,
shared modules and parameters (listed once, saved under every name), ``get_submodule``,
``double``/``float`` and Sequential's list methods.  Each case runs the same steps on both."""

from __future__ import annotations

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")
tnn = torch.nn
pytestmark = pytest.mark.numpy_only("compares with torch on host arrays")


def _names(pairs) -> list[str]:
    return [name for name, _ in pairs]


# --- (a) assigning to a parameter's name --------------------------------------------------------------
def test_a_plain_tensor_on_a_parameters_name_is_refused_as_torch():
    ours, theirs = ng.nn.Linear(3, 2), tnn.Linear(3, 2)
    with pytest.raises(TypeError, match=r"cannot assign .* as parameter 'weight' \(torch.nn.Parameter or None expected\)"):
        theirs.weight = torch.zeros(2, 3)
    weight = ours.weight
    with pytest.raises(TypeError, match=r"Linear: cannot assign 'Tensor' as parameter 'weight' \(nn.Parameter or None "
                                        r"expected\); assign ng.nn.Parameter\(t\)"):  # fmt: skip
        ours.weight = ng.tensor(np.zeros((3, 2)))
    assert ours.weight is weight and _names(ours.named_parameters()) == _names(theirs.named_parameters())
    for bad in (3, np.zeros((3, 2)), ng.nn.ReLU()):  # a number, an array, even a Module
        with pytest.raises(TypeError):
            theirs.weight = torch.nn.ReLU() if isinstance(bad, ng.nn.Module) else bad
        with pytest.raises(TypeError, match="as parameter 'weight'"):
            ours.weight = bad
    assert ours.weight is weight


def test_a_parameter_or_none_may_replace_a_parameter_as_torch():
    ours, theirs = ng.nn.Linear(3, 2), tnn.Linear(3, 2)
    ours.weight = ng.nn.Parameter(np.ones((3, 2), np.float32))
    theirs.weight = tnn.Parameter(torch.ones(2, 3))
    np.testing.assert_array_equal(ours.weight.numpy(), theirs.weight.detach().numpy().T)
    ours.bias, theirs.bias = None, None
    assert ours.bias is None and theirs.bias is None
    assert _names(ours.named_parameters()) == _names(theirs.named_parameters()) == ["weight"]
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    with pytest.raises(TypeError):  # still a parameter's name, holding None
        theirs.bias = torch.zeros(2)
    with pytest.raises(TypeError, match="as parameter 'bias'"):
        ours.bias = ng.tensor(np.zeros(2))
    ours.bias, theirs.bias = ng.nn.Parameter(np.zeros(2, np.float32)), tnn.Parameter(torch.zeros(2))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight", "bias"]
    np.testing.assert_array_equal(ours(np.ones((1, 3), np.float32)).numpy(), [[3.0, 3.0]])


def test_a_child_modules_name_takes_a_module_or_none_as_torch():
    ours, theirs = ng.nn.Sequential(ng.nn.Linear(2, 2)), tnn.Sequential(tnn.Linear(2, 2))
    with pytest.raises(TypeError, match=r"as child module '0' \(torch.nn.Module or None expected\)"):
        setattr(theirs, "0", 3)
    with pytest.raises(TypeError, match=r"cannot assign 'int' as child module '0' \(nn.Module or None expected\)"):
        setattr(ours, "0", 3)
    assert len(list(ours.parameters())) == len(list(theirs.parameters())) == 2


# --- (b) del ------------------------------------------------------------------------------------------
def test_del_unregisters_a_parameter_and_a_child_as_torch():
    ours, theirs = ng.nn.Linear(3, 2), tnn.Linear(3, 2)
    del ours.bias
    del theirs.bias
    assert _names(ours.named_parameters()) == _names(theirs.named_parameters()) == ["weight"]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert not hasattr(ours, "bias") and not hasattr(theirs, "bias")
    ours.bias, theirs.bias = ng.tensor(np.zeros(2)), torch.zeros(2)  # a plain attribute now, in both
    assert _names(ours.named_parameters()) == _names(theirs.named_parameters()) == ["weight"]

    ours, theirs = ng.nn.Sequential(ng.nn.Linear(2, 2), ng.nn.ReLU()), tnn.Sequential(tnn.Linear(2, 2), tnn.ReLU())
    delattr(ours, "0")
    delattr(theirs, "0")
    assert _names(ours.named_modules()) == _names(theirs.named_modules()) == ["", "1"]
    assert list(ours.parameters()) == [] and list(theirs.parameters()) == []
    with pytest.raises(AttributeError):
        del ng.nn.Linear(2, 2).missing
    with pytest.raises(AttributeError):
        del tnn.Linear(2, 2).missing


# --- (c) shared modules and parameters ----------------------------------------------------------------
def _tied():
    lo, lt = ng.nn.Linear(2, 2), tnn.Linear(2, 2)
    return ng.nn.Sequential(lo, ng.nn.Tanh(), lo), tnn.Sequential(lt, tnn.Tanh(), lt)


def test_a_shared_module_is_listed_once_as_torch():
    ours, theirs = _tied()
    assert len(list(ours.modules())) == len(list(theirs.modules())) == 3
    assert _names(ours.named_modules()) == _names(theirs.named_modules()) == ["", "0", "1"]
    assert _names(ours.named_parameters()) == _names(theirs.named_parameters()) == ["0.weight", "0.bias"]
    assert len(list(ours.parameters())) == len(list(theirs.parameters())) == 2
    assert _names(ours.named_children()) == _names(theirs.named_children())
    assert len(list(ng.nn.Sequential(ours[0], ours[0]).modules())) == len(list(tnn.Sequential(theirs[0], theirs[0]).modules()))
    every = _names(theirs.named_modules(remove_duplicate=False))
    assert _names(ours.named_modules(remove_duplicate=False)) == every == ["", "0", "1", "2"]
    every = _names(theirs.named_parameters(remove_duplicate=False))
    assert _names(ours.named_parameters(remove_duplicate=False)) == every


def test_state_dict_keeps_every_name_of_a_shared_module_as_torch():
    ours, theirs = _tied()
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    state, tstate = ours.state_dict(), theirs.state_dict()
    keys, tkeys = ours.load_state_dict(state), theirs.load_state_dict(tstate)  # strict round trips
    assert (keys.missing_keys, keys.unexpected_keys) == (tkeys.missing_keys, tkeys.unexpected_keys) == ([], [])
    state.pop("2.bias")
    tstate.pop("2.bias")
    missing = theirs.load_state_dict(tstate, strict=False).missing_keys
    assert ours.load_state_dict(state, strict=False).missing_keys == missing == ["2.bias"]
    with pytest.raises(KeyError, match=r"missing keys \['2.bias'\]"):
        ours.load_state_dict(state)


def test_a_parameter_shared_by_two_modules_is_listed_once_and_saved_twice_as_torch():
    a, b, ta, tb = ng.nn.Linear(2, 2), ng.nn.Linear(2, 2), tnn.Linear(2, 2), tnn.Linear(2, 2)
    b.weight, tb.weight = a.weight, ta.weight
    ours, theirs = ng.nn.Sequential(a, b), tnn.Sequential(ta, tb)
    assert _names(ours.named_parameters()) == _names(theirs.named_parameters()) == ["0.weight", "0.bias", "1.bias"]
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_train_and_apply_reach_a_shared_module_once():
    ours, _ = _tied()
    seen = []
    ours.apply(seen.append)
    assert len(seen) == 3
    ours.eval()
    assert not ours[0].training and not ours[2].training


# --- get_submodule, double/float -------------------------------------------------------------------------
def _nested():
    return (ng.nn.Sequential(ng.nn.Sequential(ng.nn.Linear(2, 2), ng.nn.ReLU()), ng.nn.Linear(2, 1)),
            tnn.Sequential(tnn.Sequential(tnn.Linear(2, 2), tnn.ReLU()), tnn.Linear(2, 1)))  # fmt: skip


@pytest.mark.parametrize("target", ["", "0", "0.0", "0.1", "1"])
def test_get_submodule_follows_a_dotted_path_as_torch(target):
    ours, theirs = _nested()
    expected = {"": ours, "0": ours[0], "0.0": ours[0][0], "0.1": ours[0][1], "1": ours[1]}[target]
    assert ours.get_submodule(target) is expected
    assert type(expected).__name__ == type(theirs.get_submodule(target)).__name__


def test_get_submodule_names_the_missing_part_as_torch():
    ours, theirs = _nested()
    with pytest.raises(AttributeError, match="Sequential has no attribute `7`"):
        theirs.get_submodule("0.7")
    with pytest.raises(AttributeError, match=r"get_submodule: Sequential has no attribute `7` \(in '0.7'\); its children"):
        ours.get_submodule("0.7")
    with pytest.raises(AttributeError, match="`weight` is not an nn.Module"):
        theirs.get_submodule("1.weight")
    with pytest.raises(AttributeError, match=r"`weight` \(in '1.weight'\) is not an nn.Module"):
        ours.get_submodule("1.weight")


def test_double_and_float_cast_parameters_and_gradients_as_torch():
    ours, theirs = ng.nn.Linear(2, 2), tnn.Linear(2, 2)
    ours(np.ones((1, 2), np.float32)).sum().backward()
    theirs(torch.ones(1, 2)).sum().backward()
    weight = ours.weight
    assert ours.double() is ours and theirs.double() is theirs
    assert ours.weight is weight and ours.weight.dtype == np.float64 and ours.weight.grad.dtype == np.float64
    assert theirs.weight.dtype == theirs.weight.grad.dtype == torch.float64
    assert ours.float().weight.dtype == np.float32 and theirs.float().weight.dtype == torch.float32
    assert ours.weight.grad.dtype == np.float32 and theirs.weight.grad.dtype == torch.float32


# --- Sequential's list methods --------------------------------------------------------------------------
def _kinds(seq) -> list[str]:
    return [type(m).__name__ for m in seq]


def _pair():
    return (ng.nn.Sequential(ng.nn.Linear(2, 3), ng.nn.ReLU()), tnn.Sequential(tnn.Linear(2, 3), tnn.ReLU()))


def test_sequential_append_extend_insert_pop_as_torch():
    ours, theirs = _pair()
    assert ours.append(ng.nn.Tanh()) is ours and theirs.append(tnn.Tanh()) is theirs
    assert ours.extend([ng.nn.Identity(), ng.nn.Linear(3, 1)]) is ours
    assert theirs.extend([tnn.Identity(), tnn.Linear(3, 1)]) is theirs
    assert ours.insert(0, ng.nn.Sigmoid()) is ours and theirs.insert(0, tnn.Sigmoid()) is theirs
    ours.insert(-1, ng.nn.ReLU())
    theirs.insert(-1, tnn.ReLU())
    assert _kinds(ours) == _kinds(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert type(ours.pop(1)).__name__ == type(theirs.pop(1)).__name__ == "Linear"
    assert type(ours.pop(-1)).__name__ == type(theirs.pop(-1)).__name__
    assert _kinds(ours) == _kinds(theirs) and list(ours._modules) == list(theirs._modules)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ours(np.ones((1, 2), np.float32)).shape == (1, 2)


def test_sequential_setitem_and_delitem_as_torch():
    ours, theirs = _pair()
    ours[1], theirs[1] = ng.nn.Tanh(), tnn.Tanh()
    ours[-1], theirs[-1] = ng.nn.Sigmoid(), tnn.Sigmoid()
    assert _kinds(ours) == _kinds(theirs) == ["Linear", "Sigmoid"]
    ours.extend([ng.nn.ReLU(), ng.nn.Linear(3, 1)])
    theirs.extend([tnn.ReLU(), tnn.Linear(3, 1)])
    del ours[0]
    del theirs[0]
    assert _kinds(ours) == _kinds(theirs) and list(ours.state_dict()) == list(theirs.state_dict()) == ["2.weight", "2.bias"]
    del ours[0:2]
    del theirs[0:2]
    assert _kinds(ours) == _kinds(theirs) and list(ours.state_dict()) == list(theirs.state_dict()) == ["0.weight", "0.bias"]


@pytest.mark.parametrize("step", ["insert", "setitem", "delitem", "pop", "setitem_not_a_module"])
def test_sequential_refusals_are_torchs_and_change_nothing(step):
    ours, theirs = _pair()
    calls = {
        "insert": (lambda s, m: s.insert(9, m), IndexError, r"Sequential.insert: index 9 is out of range for 2 modules"),
        "setitem": (lambda s, m: s.__setitem__(9, m), IndexError, r"Sequential: index 9 is out of range"),
        "delitem": (lambda s, m: s.__delitem__(9), IndexError, r"Sequential: index 9 is out of range"),
        "pop": (lambda s, m: s.pop(9), IndexError, r"Sequential: index 9 is out of range"),
        "setitem_not_a_module": (lambda s, m: s.__setitem__(0, 3), TypeError, r"Sequential\[0\] = \.\.\.: expected a Module"),
    }
    call, kind, match = calls[step]
    with pytest.raises(kind):
        call(theirs, tnn.Tanh())
    before = list(ours)
    with pytest.raises(kind, match=match):
        call(ours, ng.nn.Tanh())
    assert list(ours) == before and list(ours._modules) == ["0", "1"]
    with pytest.raises(TypeError, match=r"Sequential.extend: expected a Module, got a int"):
        ours.extend([ng.nn.Tanh(), 3])  # checked before any is added
    assert list(ours) == before


def test_module_list_shares_the_list_methods():
    ours = ng.nn.ModuleList([ng.nn.Linear(2, 2), ng.nn.ReLU()])
    theirs = tnn.ModuleList([tnn.Linear(2, 2), tnn.ReLU()])
    ours.insert(0, ng.nn.Tanh())
    theirs.insert(0, tnn.Tanh())
    assert _kinds(ours) == _kinds(theirs) and list(ours.state_dict()) == list(theirs.state_dict())
    assert type(ours.pop(1)).__name__ == type(theirs.pop(1)).__name__ == "Linear"
    assert _kinds(ours) == _kinds(theirs)
