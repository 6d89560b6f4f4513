"""Buffers in ``nn.Module`` behave as torch 2.13's: ``register_buffer`` and its name checks, assignment to a
buffer's name, ``named_buffers``/``buffers``, ``state_dict`` (persistent buffers, PyTorch's key order),
``load_state_dict`` (missing/unexpected keys, shapes, values copied into the existing buffer), ``to``/
``double``/``float``/``half``, copies, ``del``, ``dir`` and ``repr``.  Each case builds the same structure in
both libraries and runs the same steps on both."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.nn.module import StateDictError

torch = pytest.importorskip("torch")
tnn = torch.nn
pytestmark = pytest.mark.numpy_only("compares with torch on host arrays")


def _classes(lib: str) -> tuple[type, type]:
    """The same structure in ``lib`` ("ng" or "torch"): a container with its own parameter and buffers, a child
    with buffers (one non-persistent, one absent, an integer one), a shared child and a plain layer."""
    nn, T, base = (ng.nn, ng.tensor, ng.nn.Module) if lib == "ng" else (tnn, torch.tensor, tnn.Module)

    class Norm(base):
        def __init__(self):
            super().__init__()
            self.register_buffer("mean", T(np.arange(3, dtype=np.float32)))
            self.scale = nn.Parameter(T(np.ones(3, dtype=np.float32)))
            self.register_buffer("std", T(np.full(3, 2.0, dtype=np.float32)), persistent=False)
            self.register_buffer("absent", None)
            self.register_buffer("count", T(np.array(7, dtype=np.int64)))

        def forward(self, x):
            return (x - self.mean) / self.std * self.scale

    class Net(base):
        def __init__(self):
            super().__init__()
            self.register_buffer("step", T(np.zeros((), dtype=np.float64)))
            self.norm = Norm()
            self.alpha = nn.Parameter(T(np.full(1, 0.5, dtype=np.float32)))
            self.body = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
            self.again = self.norm  # the same module under a second name

        def forward(self, x):
            return self.body(self.norm(x)) * self.alpha

    for cls in (Norm, Net):  # found by name, so that pickle can rebuild them
        cls.__qualname__ = cls.__name__ = f"{lib.capitalize()}{cls.__name__}"
    return Norm, Net


NgNorm, NgNet = _classes("ng")
TorchNorm, TorchNet = _classes("torch")


def _pair(lib: str):
    return NgNet() if lib == "ng" else TorchNet()


def _both():
    return _pair("ng"), _pair("torch")


def _names(pairs) -> list[str]:
    return [k for k, _ in pairs]


# --- registration and the name checks ------------------------------------------------------------------------
BAD_NAMES = {
    "not a str": (3, TypeError),
    "empty": ("", KeyError),
    "a dot": ("a.b", KeyError),
    "a parameter's name": ("alpha", KeyError),
    "a child's name": ("body", KeyError),
    "a method": ("forward", KeyError),
    "a plain attribute": ("plain", KeyError),
}


@pytest.mark.parametrize("case", BAD_NAMES, ids=list(BAD_NAMES))
def test_register_buffer_refuses_names_as_torch(case):
    name, error = BAD_NAMES[case]
    ours, theirs = _both()
    ours.plain, theirs.plain = 1, 1
    with pytest.raises(error):
        theirs.register_buffer(name, torch.zeros(2))
    before = list(ours.state_dict())
    with pytest.raises(error, match="register_buffer"):
        ours.register_buffer(name, ng.zeros(2))
    assert list(ours.state_dict()) == before and _names(ours.named_buffers()) == _names(theirs.named_buffers())


def test_register_buffer_refuses_values_and_early_calls_as_torch():
    ours, theirs = _both()
    for bad in (3, [1.0, 2.0], np.zeros(2)):
        with pytest.raises(TypeError):
            theirs.register_buffer("x", bad)
        with pytest.raises(TypeError, match=r"cannot assign '\w+' as buffer 'x' \(a Tensor or None expected\)"):
            ours.register_buffer("x", bad)
    assert not hasattr(ours, "x") and not hasattr(theirs, "x")

    class Early(ng.nn.Module):
        def __init__(self):
            self.register_buffer("x", ng.zeros(1))

    class TorchEarly(tnn.Module):
        def __init__(self):
            self.register_buffer("x", torch.zeros(1))

    with pytest.raises(AttributeError):
        TorchEarly()
    with pytest.raises(AttributeError, match="super\\(\\).__init__\\(\\)"):
        Early()


def test_a_buffer_never_requires_grad():
    # torch keeps whatever it is given; here a tensor that requires grad is refused (it would be a parameter no
    # optimiser steps), by register_buffer and by assignment, and nothing changes
    m = _pair("ng")
    for bad in (ng.tensor([1.0, 2.0], requires_grad=True), ng.nn.Parameter(ng.ones(3))):
        with pytest.raises(ValueError, match="buffer 'x' would require grad.*detach"):
            m.register_buffer("x", bad)
    mean = m.norm.mean
    with pytest.raises(ValueError, match="buffer 'mean' would require grad"):
        m.norm.mean = ng.ones(3, requires_grad=True) * 2
    assert m.norm.mean is mean and not hasattr(m, "x")
    assert all(not b.requires_grad for b in m.buffers())


def test_named_buffers_and_buffers_as_torch():
    ours, theirs = _both()
    for kwargs in ({}, {"remove_duplicate": False}, {"recurse": False}, {"prefix": "net"},
                   {"prefix": "p", "remove_duplicate": False}):  # fmt: skip
        assert _names(ours.named_buffers(**kwargs)) == _names(theirs.named_buffers(**kwargs)), kwargs
    assert _names(ours.named_buffers()) == ["step", "norm.mean", "norm.std", "norm.count"]
    for (k, b), (_, tb) in zip(ours.named_buffers(), theirs.named_buffers()):
        np.testing.assert_array_equal(b.numpy(), tb.numpy(), err_msg=k)
        assert b.dtype == tb.numpy().dtype
    assert [b for b in ours.buffers()] == [b for _, b in ours.named_buffers()]
    assert len(list(ours.norm.buffers(recurse=False))) == len(list(theirs.norm.buffers(recurse=False))) == 3


def test_buffers_are_not_parameters_and_an_optimiser_never_sees_them():
    ours, theirs = _both()
    assert _names(ours.named_parameters()) == _names(theirs.named_parameters())
    ids = {id(b) for b in ours.buffers()}
    assert not ids & {id(p) for p in ours.parameters()}
    before = {k: b.numpy().copy() for k, b in ours.named_buffers()}
    opt = ng.optim.Adam(ours.parameters(), lr=0.1)
    x = ng.tensor(np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32))
    for _ in range(3):
        opt.zero_grad()
        ours(x).sum().backward()
        opt.step()
    assert all(id(p) not in ids for g in opt.param_groups for p in g["params"])
    for k, b in ours.named_buffers():
        np.testing.assert_array_equal(b.numpy(), before[k])
        assert b.grad is None and not b.requires_grad
    ours.requires_grad_(True)
    assert all(not b.requires_grad for b in ours.buffers())


def test_gradients_through_a_buffer_as_torch():
    ours, theirs = _both()
    theirs.load_state_dict(_torch_state(ours.state_dict()))
    x = np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32)
    ours(ng.tensor(x)).sum().backward()
    theirs(torch.tensor(x)).sum().backward()
    got, want = dict(ours.named_parameters()), dict(theirs.named_parameters())
    for k, p in want.items():
        g = p.grad.numpy()
        np.testing.assert_allclose(got[k].grad.numpy(), g.T if k.endswith("0.weight") else g, rtol=1e-5, atol=1e-6)


# --- assignment to a buffer's name ---------------------------------------------------------------------------
def test_a_tensor_assigned_to_a_buffers_name_replaces_the_buffer_as_torch():
    ours, theirs = _both()
    ours.norm.std, theirs.norm.std = ng.full((3,), 4.0), torch.full((3,), 4.0)  # stays non-persistent
    ours.step, theirs.step = ng.tensor(np.ones((), np.float64)), torch.ones((), dtype=torch.float64)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ours.norm.std is dict(ours.named_buffers())["norm.std"]
    np.testing.assert_array_equal(ours.norm.std.numpy(), [4.0, 4.0, 4.0])
    for bad in (3, "x", np.zeros(3)):
        with pytest.raises(TypeError):
            theirs.norm.mean = bad
        mean = ours.norm.mean
        with pytest.raises(TypeError, match="cannot assign '\\w+' as buffer 'mean'"):
            ours.norm.mean = bad
        assert ours.norm.mean is mean
    ours.norm.mean, theirs.norm.mean = None, None  # an absent buffer: registered, skipped
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert "mean" not in dict(ours.norm.named_buffers())
    ours.norm.mean, theirs.norm.mean = ng.zeros(3), torch.zeros(3)  # back, in its first place
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_a_parameter_or_module_assigned_to_a_buffers_name_takes_its_place_as_torch():
    ours, theirs = _both()
    ours.norm.mean, theirs.norm.mean = ng.nn.Parameter(ng.zeros(3)), tnn.Parameter(torch.zeros(3))
    ours.step, theirs.step = ng.nn.Linear(1, 1), tnn.Linear(1, 1)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert _names(ours.named_parameters()) == _names(theirs.named_parameters())
    assert _names(ours.named_buffers()) == _names(theirs.named_buffers())
    with pytest.raises(TypeError):  # now a plain tensor on its name is refused, as on any parameter's
        theirs.norm.mean = torch.ones(3)
    with pytest.raises(TypeError, match="as parameter 'mean'"):
        ours.norm.mean = ng.ones(3)


def test_a_buffer_registered_again_keeps_its_place_and_takes_the_new_persistence_as_torch():
    ours, theirs = _both()
    ours.norm.register_buffer("mean", ng.ones(3), persistent=False)
    theirs.norm.register_buffer("mean", torch.ones(3), persistent=False)
    ours.norm.register_buffer("std", ng.ones(3))
    theirs.norm.register_buffer("std", torch.ones(3))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert _names(ours.named_buffers()) == _names(theirs.named_buffers())
    with pytest.raises(TypeError, match="persistent must be True or False"):
        ours.register_buffer("y", ng.ones(1), persistent="yes")


def test_del_removes_a_buffer_as_torch():
    ours, theirs = _both()
    del ours.norm.mean, theirs.norm.mean
    del ours.norm.std, theirs.norm.std
    assert _names(ours.named_buffers()) == _names(theirs.named_buffers())
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert not hasattr(ours.norm, "mean") and not hasattr(theirs.norm, "mean")
    ours.norm.std, theirs.norm.std = ng.ones(3), torch.ones(3)  # now a plain attribute: not a buffer
    assert _names(ours.named_buffers()) == _names(theirs.named_buffers())
    ours.norm.register_buffer("mean", ng.ones(3))  # the name is free again
    theirs.norm.register_buffer("mean", torch.ones(3))
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_dir_and_repr_as_torch():
    ours, theirs = _both()
    names = {"step", "norm", "alpha", "body", "again", "mean", "std", "absent", "count", "scale", "0", "1"}
    for o, t in ((ours, theirs), (ours.norm, theirs.norm), (ours.body, theirs.body)):
        got, want = dir(o), dir(t)
        assert got == sorted(set(got))
        assert names & set(got) == names & set(want)
        assert not [k for k in got if k[:1].isdigit()]
    plain = ng.nn.Linear(3, 2)
    text = repr(plain)
    plain.register_buffer("b", ng.zeros(2))
    tplain = tnn.Linear(3, 2)
    ttext = repr(tplain)
    tplain.register_buffer("b", torch.zeros(2))
    assert repr(plain) == text and repr(tplain) == ttext  # buffers are not shown


# --- state_dict ------------------------------------------------------------------------------------------------
def test_state_dict_holds_persistent_buffers_in_torchs_order():
    ours, theirs = _both()
    assert list(ours.state_dict()) == list(theirs.state_dict()) == [
        "alpha", "step", "norm.scale", "norm.mean", "norm.count", "body.0.weight", "body.0.bias",
        "again.scale", "again.mean", "again.count",
    ]  # fmt: skip
    sd = ours.state_dict()
    assert sd["norm.count"].dtype == np.int64 and sd["step"].dtype == np.float64 and sd["step"].shape == ()
    sd["norm.mean"][...] = 99  # a copy
    assert ours.norm.mean.numpy()[0] == 0
    kept = ours.state_dict(keep_vars=True)
    assert kept["norm.mean"] is ours.norm.mean and kept["alpha"] is ours.alpha
    assert list(ours.state_dict(prefix="m.")) == list(theirs.state_dict(prefix="m."))
    assert list(ours.state_dict(prefix="m")) == list(theirs.state_dict(prefix="m"))


def test_a_buffer_registered_before_the_parameters_still_comes_after_them_as_torch():
    def build(nn, T, Module):
        class M(Module):
            def __init__(self):
                super().__init__()
                self.register_buffer("b1", T(np.zeros(1, np.float32)))
                self.child = nn.Linear(1, 1)
                self.w = nn.Parameter(T(np.zeros(1, np.float32)))
                self.register_buffer("b0", T(np.zeros(1, np.float32)))

        return M()

    ours, theirs = build(ng.nn, ng.tensor, ng.nn.Module), build(tnn, torch.tensor, tnn.Module)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["w", "b1", "b0", "child.weight", "child.bias"]


# --- load_state_dict -------------------------------------------------------------------------------------------
def _torch_state(sd):
    """Our state dict for torch: arrays as tensors, a Linear's weight (in, out) transposed to torch's (out, in)."""
    return {k: torch.tensor(np.asarray(v).T if k.endswith("0.weight") else np.asarray(v)) for k, v in sd.items()}


def test_load_state_dict_copies_into_the_existing_buffers_as_torch():
    ours, theirs = _both()
    src = _pair("ng")
    with ng.no_grad():
        src.norm.mean.copy_(ng.tensor([5.0, 6.0, 7.0]))
        src.norm.count.copy_(ng.tensor(np.array(41, np.int64)))
        src.step.copy_(ng.tensor(np.array(3.0)))
    mean, count = ours.norm.mean, ours.norm.count
    keys, tkeys = ours.load_state_dict(src.state_dict()), theirs.load_state_dict(_torch_state(src.state_dict()))
    assert tuple(keys) == tuple(tkeys) == ([], [])
    assert ours.norm.mean is mean and ours.norm.count is count  # the same tensors, new values
    for (k, b), (_, tb) in zip(ours.named_buffers(), theirs.named_buffers()):
        np.testing.assert_array_equal(b.numpy(), tb.numpy(), err_msg=k)
        assert b.dtype == tb.numpy().dtype, k
    np.testing.assert_array_equal(ours.norm.std.numpy(), [2.0, 2.0, 2.0])  # non-persistent: untouched


def test_load_state_dict_casts_into_the_buffers_dtype_as_torch():
    ours, theirs = _both()
    sd = ours.state_dict()
    sd["norm.count"] = np.array(9.75)  # float into an int64 buffer: truncated, as copy_ does
    sd["step"] = np.array(2.5, np.float32)
    ours.load_state_dict(sd)
    theirs.load_state_dict(_torch_state(sd))
    for k in ("norm.count", "step"):
        got, want = ours.state_dict()[k], theirs.state_dict()[k].numpy()
        assert got.dtype == want.dtype and got == want, k


def test_a_zero_d_buffer_loads_from_one_entry_as_torch():
    ours, theirs = _both()
    sd = ours.state_dict()
    sd["step"] = np.array([4.0])
    ours.load_state_dict(sd)
    theirs.load_state_dict(_torch_state(sd))
    assert ours.step.shape == tuple(theirs.step.shape) == () and float(ours.step.item()) == float(theirs.step) == 4.0


EDITS = {
    "a missing buffer": lambda sd: {k: v for k, v in sd.items() if k != "norm.mean"},
    "a missing parameter and buffer": lambda sd: {k: v for k, v in sd.items() if k not in ("alpha", "again.count")},
    "a non-persistent buffer's key": lambda sd: {**sd, "norm.std": np.ones(3, np.float32)},
    "unexpected keys at every depth": lambda sd: {
        "body.0.extra": np.ones(1),
        **sd,
        "junk": np.ones(1),
        "norm.nope": np.ones(1),
        "nothere.x": np.ones(1),
        "body.9.weight": np.ones(1),
        "step.x": np.ones(1),
    },
    "a key under an absent child": lambda sd: {**sd, "gone.weight": np.ones(1)},
}


@pytest.mark.parametrize("case", EDITS, ids=list(EDITS))
def test_missing_and_unexpected_keys_as_torch(case):
    ours, theirs = _both()
    ours.gone, theirs.gone = ng.nn.Linear(1, 1), tnn.Linear(1, 1)
    ours.gone, theirs.gone = None, None  # a child set to None: keys under it are ignored by both
    sd = EDITS[case](ours.state_dict())
    want = theirs.load_state_dict(_torch_state(sd), strict=False)
    got = ours.load_state_dict(sd, strict=False)
    assert (got.missing_keys, got.unexpected_keys) == (want.missing_keys, want.unexpected_keys)
    if case == "unexpected keys at every depth":  # listed module by module, not in the state's order
        assert got.unexpected_keys == ["junk", "nothere.x", "step.x", "norm.nope", "body.9.weight", "body.0.extra"]
    strict_refused = bool(want.missing_keys or want.unexpected_keys)
    before = {k: v.clone() for k, v in ours.state_dict().items()}
    if strict_refused:
        with pytest.raises(RuntimeError):
            theirs.load_state_dict(_torch_state(sd))
        with pytest.raises(RuntimeError, match="missing keys .* unexpected keys"):
            ours.load_state_dict(sd)
        with pytest.raises(KeyError):  # and the KeyError it always was
            ours.load_state_dict(sd)
        for k, v in ours.state_dict().items():
            np.testing.assert_array_equal(v, before[k])
    else:
        theirs.load_state_dict(_torch_state(sd))
        ours.load_state_dict(sd)


def test_a_wrong_buffer_shape_is_refused_as_torch_and_changes_nothing():
    ours, theirs = _both()
    sd = ours.state_dict()
    sd["alpha"] = np.full(1, 3.0, np.float32)  # a good entry before the bad one: not written either
    sd["norm.mean"] = np.zeros(4, np.float32)
    with pytest.raises(RuntimeError, match="size mismatch for norm.mean"):
        theirs.load_state_dict(_torch_state(sd), strict=False)
    before = ours.state_dict()
    for strict in (True, False):
        with pytest.raises(StateDictError, match=r"norm.mean has shape \(4,\) in the state but \(3,\) in the model"):
            ours.load_state_dict(sd, strict=strict)
        with pytest.raises(ValueError):
            ours.load_state_dict(sd, strict=strict)
    for k, v in ours.state_dict().items():
        np.testing.assert_array_equal(v, before[k])
    sd["norm.mean"] = np.full(3, "x")
    with pytest.raises(TypeError, match="norm.mean holds ndarray values"):
        ours.load_state_dict(sd)
    with pytest.raises(TypeError, match="keys must be dotted names"):
        ours.load_state_dict({**ours.state_dict(), 3: np.zeros(1)})


# --- conversion and copies -------------------------------------------------------------------------------------
@pytest.mark.parametrize("call", ["double", "float", "half", "to float64", "to float16", "astype float64"])
def test_dtype_conversions_cast_floating_buffers_only_as_torch(call):
    ours, theirs = _both()
    mean = ours.norm.mean
    name, _, arg = call.partition(" ")
    if name == "to":
        ours.to(dtype=arg)
    elif name == "astype":  # nablagrad's to(dtype=...) then zero_grad()
        ours.astype(arg)
    else:
        getattr(ours, name)()
    if arg:
        theirs.to(getattr(torch, arg))
    else:
        getattr(theirs, name)()
    for (k, b), (_, tb) in zip(ours.named_buffers(), theirs.named_buffers()):
        assert str(b.dtype) == str(tb.dtype).removeprefix("torch."), k
    for (k, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert str(p.dtype) == str(tp.dtype).removeprefix("torch."), k
    assert ours.norm.mean is mean  # converted in place, as the parameters are


def test_a_failed_conversion_changes_no_buffer():
    m = _pair("ng")
    before = {k: (b.dtype, b.numpy().copy()) for k, b in m.named_buffers()}
    with pytest.raises(TypeError, match="must stay floating point"):
        m.to(dtype="int32")
    assert {k: b.dtype for k, b in m.named_buffers()} == {k: d for k, (d, _) in before.items()}
    m.cpu()
    for k, b in m.named_buffers():
        np.testing.assert_array_equal(b.numpy(), before[k][1])


def test_apply_reaches_the_buffers_of_every_module_as_torch():
    ours, theirs = _both()
    got, want = [], []
    ours.apply(lambda m: got.append(_names(m.named_buffers(recurse=False))))
    theirs.apply(lambda m: want.append(_names(m.named_buffers(recurse=False))))
    assert got == want


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_copies_keep_the_buffers(how):
    m = _pair("ng")
    with ng.no_grad():
        m.norm.mean.copy_(ng.tensor([1.5, 2.5, 3.5]))
    c = copy.deepcopy(m) if how == "deepcopy" else pickle.loads(pickle.dumps(m))
    assert _names(c.named_buffers()) == _names(m.named_buffers())
    assert list(c.state_dict()) == list(m.state_dict())
    for (k, b), (_, cb) in zip(m.named_buffers(), c.named_buffers()):
        assert cb is not b and cb.dtype == b.dtype, k
        np.testing.assert_array_equal(cb.numpy(), b.numpy())
    assert c.norm.mean is dict(c.named_buffers())["norm.mean"] and c.again is c.norm  # shared stays shared
    c.norm.std = ng.zeros(3)  # still non-persistent, still a buffer
    assert "norm.std" not in c.state_dict() and "norm.std" in dict(c.named_buffers())


def test_a_module_pickled_before_buffers_existed_gets_empty_ones():
    m = ng.nn.Linear(2, 2)
    state = dict(m.__dict__)
    del state["_buffers"], state["_non_persistent_buffers_set"]
    old = ng.nn.Linear.__new__(ng.nn.Linear)
    old.__setstate__(state)
    assert list(old.buffers()) == [] and list(old.state_dict()) == ["weight", "bias"]
    old.register_buffer("b", ng.zeros(1))
    assert list(old.state_dict()) == ["weight", "bias", "b"]


def test_refused_states_raise_the_exported_errors_as_torch_and_write_nothing():
    """A wrong shape, a missing key under strict, a non-numeric value: RuntimeError as torch's (and the Python error
    of each kind), exported from ng.nn, and the model is as it was."""
    net = ng.nn.Sequential(ng.nn.Linear(3, 2, seed=0))
    net[0].register_buffer("scale", ng.tensor(np.ones(2)))
    before = {k: v.clone() for k, v in net.state_dict().items()}
    tnet = torch.nn.Sequential(torch.nn.Linear(3, 2))
    bad_shape = {**before, "0.bias": np.zeros(5)}
    with pytest.raises(RuntimeError):
        tnet.load_state_dict({"0.weight": torch.zeros(2, 3), "0.bias": torch.zeros(5)})
    cases = [(bad_shape, ng.nn.StateDictShapeError, ValueError),
             ({k: v for k, v in before.items() if k != "0.scale"}, ng.nn.StateDictKeyError, KeyError),
             ({**before, "0.weight": np.array([["a"] * 2] * 3)}, ng.nn.StateDictValueError, TypeError)]  # fmt: skip
    for state, error, kind in cases:
        with pytest.raises(error) as info:
            net.load_state_dict(state)
        assert isinstance(info.value, RuntimeError) and isinstance(info.value, kind)
        assert isinstance(info.value, ng.nn.StateDictError)
        for k, v in net.state_dict().items():
            np.testing.assert_array_equal(v, before[k])
