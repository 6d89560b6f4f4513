"""The arguments of Adamax, NAdam, RAdam, Adadelta, Rprop and ASGD against torch.optim's: the same signature
(names, order, keyword-only ones, defaults), every value torch refuses refused with the same exception type and
a message naming the optimiser, the option and the value; values torch takes that would corrupt a run (NaN,
infinite rates, an inverted step-size range) refused on purpose; torch's implementation switches (foreach,
capturable) accepted with no effect, differentiable=True and fused refused."""

import inspect
import math

import numpy as np
import pytest

import nablagrad as ng
from nablagrad import optim

torch = pytest.importorskip("torch")
from test_argument_parity import _outcome  # noqa: E402 - the same refusal probe (tests/optim/test_argument_parity.py)

PAIRS = {name: (getattr(optim, name), getattr(torch.optim, name))
         for name in ("Adamax", "NAdam", "RAdam", "Adadelta", "Rprop", "ASGD")}  # fmt: skip
BAD = {
    "lr": [-1e-3, math.nan, math.inf, None, "0.1", True],
    "eps": [-1e-8, math.nan, None],
    "weight_decay": [-0.1, math.nan, math.inf, None],
    "betas": [(1.0, 0.999), (0.9, 1.0), (-0.1, 0.9), (math.nan, 0.9), (0.9,), None],
    "momentum_decay": [-0.1, math.nan, None],
    "decoupled_weight_decay": [None, 1],
    "rho": [-0.1, 1.5, math.nan, None],
    "etas": [(1.2, 0.5), (0.0, 1.2), (0.5, 1.0), (0.5,), (math.nan, 1.2), None],
    "step_sizes": [(1.0, 1e-6), (-1.0, 50.0), (1e-6, math.inf), (1e-6,), None],
    "lambd": [-1.0, math.nan, None],
    "alpha": [math.nan, math.inf, None],
    "t0": [-1.0, math.nan, None],
    "maximize": [None, 1, "yes"],
    "foreach": ["yes", 2],
    "capturable": [None, 1],
}
CASES = [(name, key, v) for name, (ours, _) in PAIRS.items() for key, values in BAD.items()
         if key in inspect.signature(ours).parameters for v in values]  # fmt: skip


@pytest.mark.parametrize("name, key, value", CASES, ids=[f"{n}-{k}={v!r}" for n, k, v in CASES])
def test_a_value_torch_refuses_is_refused_alike_and_nothing_is_packed(name, key, value):
    ours, theirs = PAIRS[name]
    p, q = ng.nn.Parameter(np.ones(2)), ng.nn.Parameter(np.zeros(3))
    arrays = (p.data, q.data)
    expected = _outcome(lambda: theirs([torch.nn.Parameter(torch.ones(2))], **{key: value}))
    with pytest.raises((TypeError, ValueError)) as info:
        ours([p, q], **{key: value})
    if expected in (TypeError, ValueError):
        assert info.type is expected, f"torch raises {expected.__name__}"
    assert f"{key} must be" in str(info.value) and ours.__name__ in str(info.value) and repr(value) in str(info.value)
    assert p.data is arrays[0] and q.data is arrays[1]  # a refused constructor packs nothing


@pytest.mark.parametrize("name", PAIRS)
def test_the_signature_is_torch_s(name):
    """Same names in the same order, the same keyword-only ones, the same defaults."""
    ours, theirs = (inspect.signature(c).parameters for c in PAIRS[name])
    assert list(ours) == list(theirs)
    for k in ours:
        assert ours[k].kind == theirs[k].kind, f"{name}({k}): {ours[k].kind} vs torch's {theirs[k].kind}"
        if k != "params":
            assert ours[k].default == theirs[k].default, f"{name}({k}=): {ours[k].default!r} vs {theirs[k].default!r}"


@pytest.mark.parametrize("name", PAIRS)
def test_the_groups_hold_torch_s_options(name):
    ours, theirs = PAIRS[name]
    opt = ours([ng.nn.Parameter(np.ones(2))])
    topt = theirs([torch.nn.Parameter(torch.ones(2))])
    mine = {k: v for k, v in opt.param_groups[0].items() if k != "params"}
    other = {k: (tuple(v) if isinstance(v, tuple | list) else v) for k, v in topt.param_groups[0].items() if k != "params"}
    assert mine == other


@pytest.mark.parametrize("name", PAIRS)
def test_foreach_and_capturable_are_accepted_and_change_nothing(name):
    ours, _ = PAIRS[name]
    rng = np.random.default_rng(0)
    w0, grads = rng.standard_normal(4), rng.standard_normal((5, 4))
    paths = []
    for flags in ({}, {"foreach": True, "capturable": True}, {"foreach": False}):
        w = ng.nn.Parameter(w0.copy())
        opt = ours([w], **flags)
        for k, v in flags.items():
            assert opt.param_groups[0][k] is v
        for g in grads:
            w.grad = ng.tensor(g)
            opt.step()
        paths.append(w.numpy())
    np.testing.assert_array_equal(paths[0], paths[1])
    np.testing.assert_array_equal(paths[0], paths[2])


@pytest.mark.parametrize("name", PAIRS)
def test_differentiable_true_and_fused_are_refused_not_ignored(name):
    """A step that silently ignored differentiable=True would promise gradients through it that never come;
    torch has no fused form of these optimisers (its constructors refuse the keyword too)."""
    ours, theirs = PAIRS[name]
    ours([ng.nn.Parameter(np.ones(2))], differentiable=False)
    with pytest.raises(TypeError, match=f"{name}: differentiable must be False"):
        ours([ng.nn.Parameter(np.ones(2))], differentiable=True)
    for cls in (ours, theirs):
        with pytest.raises(TypeError, match="fused"):
            cls([ng.nn.Parameter(np.ones(2)) if cls is ours else torch.nn.Parameter(torch.ones(2))], fused=True)


@pytest.mark.parametrize("name", PAIRS)
def test_a_refused_group_leaves_the_optimiser_as_it_was(name):
    ours, _ = PAIRS[name]
    p, q = ng.nn.Parameter(np.ones(2)), ng.nn.Parameter(np.ones(3))
    opt = ours([p])
    with pytest.raises(ValueError, match="lr must be"):
        opt.add_param_group({"params": [q], "lr": -1.0})
    assert len(opt.param_groups) == 1
    with pytest.raises(ValueError, match="unknown option 'momentum'"):
        opt.add_param_group({"params": [q], "momentum": 0.9})


def test_rprop_has_no_weight_decay_as_torch_s():
    with pytest.raises(TypeError):
        torch.optim.Rprop([torch.nn.Parameter(torch.ones(2))], weight_decay=0.1)
    with pytest.raises(TypeError, match="weight_decay"):
        optim.Rprop([ng.nn.Parameter(np.ones(2))], weight_decay=0.1)


def test_loading_a_state_with_a_bad_float_entry_is_refused_and_changes_nothing():
    """NAdam's mu_product and ASGD's eta, mu are floats: a NaN, a string or a missing one is refused."""
    w = ng.nn.Parameter(np.ones(3))
    opt = optim.NAdam([w], lr=0.1)
    w.grad = ng.tensor(np.array([1.0, -1.0, 0.5]))
    opt.step()
    good = opt.state_dict()
    for bad in (math.nan, "0.9", None):
        sd = {**good, "state": {0: {**good["state"][0], "mu_product": bad}}}
        with pytest.raises(ValueError, match="'mu_product' of parameter 0 must be a finite number"):
            opt.load_state_dict(sd)
    sd = {**good, "state": {0: {k: v for k, v in good["state"][0].items() if k != "mu_product"}}}
    with pytest.raises(ValueError, match=r"lacks \['mu_product'\]"):
        opt.load_state_dict(sd)
    sd = {**good, "state": {0: {**good["state"][0], "exp_avg": np.full(3, np.nan)}}}
    with pytest.raises(ValueError, match="NaN"):
        opt.load_state_dict(sd)
    after = opt.state_dict()
    assert after["state"][0]["mu_product"] == good["state"][0]["mu_product"]
    np.testing.assert_array_equal(ng.tensor(after["state"][0]["exp_avg"]).numpy(), ng.tensor(good["state"][0]["exp_avg"]).numpy())


def test_in_the_registry_by_name_but_not_lbfgs_and_rprop():
    """OPTIMIZERS builds an optimiser from a name with (params, lr, weight_decay) and no closure (the CLI, viz)."""
    for name in ("adamax", "nadam", "radam", "adadelta", "asgd"):
        opt = optim.OPTIMIZERS[name]([ng.nn.Parameter(np.ones(2))], lr=0.1, weight_decay=0.0)
        assert type(opt).__name__.lower() == name
    assert "lbfgs" not in optim.OPTIMIZERS and "rprop" not in optim.OPTIMIZERS
