"""Argument checks against torch.optim: every value torch refuses is refused here with the same exception
type (and a message naming the optimiser, the option and the value); where torch accepts a value that
would corrupt a run (NaN or infinite rates, dampening outside [0, 1], a flag that is not a bool) we refuse
it too, on purpose.  A refused constructor leaves the parameters' arrays as they were."""

import math

import numpy as np
import pytest

import nablagrad as ng
from nablagrad import optim

torch = pytest.importorskip("torch")

PAIRS = {
    "SGD": (optim.SGD, torch.optim.SGD),
    "Adam": (optim.Adam, torch.optim.Adam),
    "AdamW": (optim.AdamW, torch.optim.AdamW),
    "Adagrad": (optim.Adagrad, torch.optim.Adagrad),
    "RMSprop": (optim.RMSprop, torch.optim.RMSprop),
}
BAD = {
    "lr": [-1e-3, math.nan, math.inf, None, "0.1", True],
    "momentum": [-0.1, math.nan, None],
    "dampening": [-0.1, 1.5, math.nan],
    "weight_decay": [-0.1, math.nan, math.inf, None],
    "eps": [-1e-8, math.nan, None],
    "betas": [(1.0, 0.999), (0.9, 1.0), (-0.1, 0.9), (math.nan, 0.9), (0.9,), (0.9, 0.99, 0.1), None],
    "alpha": [-0.1, 1.5, math.nan],
    "lr_decay": [-0.1, math.nan],
    "initial_accumulator_value": [-0.1],
    "nesterov": [None, 1],
    "amsgrad": [None, 1],
    "centered": [1],
}
WITH = {"nesterov": {"momentum": 0.9}}  # so that the flag's own type is what is tested (not Nesterov's rule)
CASES = [(name, key, v) for name, (ours, _) in PAIRS.items() for key, values in BAD.items()
         if key in ours.__init__.__code__.co_varnames for v in values]  # fmt: skip


def _outcome(make):
    try:
        make()
    except (TypeError, ValueError, IndexError) as exc:
        return type(exc)
    return None


@pytest.mark.parametrize("name, key, value", CASES, ids=[f"{n}-{k}={v!r}" for n, k, v in CASES])
def test_a_value_torch_refuses_is_refused_alike_and_the_others_are_refused_as_values(name, key, value):
    ours, theirs = PAIRS[name]
    p = ng.nn.Parameter(np.ones(2))
    p2 = ng.nn.Parameter(np.zeros(3))
    arrays = (p.data, p2.data)
    kw = {**WITH.get(key, {}), key: value}
    expected = _outcome(lambda: theirs([torch.nn.Parameter(torch.ones(2))], **kw))
    with pytest.raises((TypeError, ValueError)) as info:
        ours([p, p2], **kw)
    if expected in (TypeError, ValueError):
        assert info.type is expected  # torch's (an IndexError for a 1-tuple of betas is a ValueError here)
    assert f"{key} must be" in str(info.value) and ours.__name__ in str(info.value)
    assert p.data is arrays[0] and p2.data is arrays[1]  # a refused constructor packs nothing


@pytest.mark.parametrize("kw", [dict(nesterov=True), dict(nesterov=True, momentum=0.9, dampening=0.1),
                                dict(nesterov=True, momentum=0.9), dict(nesterov=False, dampening=0.5)])  # fmt: skip
def test_nesterov_needs_momentum_and_no_dampening_as_in_torch(kw):
    expected = _outcome(lambda: torch.optim.SGD([torch.nn.Parameter(torch.ones(2))], **kw))
    p, q = ng.nn.Parameter(np.ones(2)), ng.nn.Parameter(np.ones(3))
    arrays = (p.data, q.data)
    if expected is None:
        optim.SGD([p, q], **kw)
        return
    with pytest.raises(expected, match="nesterov needs momentum > 0 and dampening = 0"):
        optim.SGD([p, q], **kw)
    assert p.data is arrays[0] and q.data is arrays[1]


def test_nesterov_is_checked_for_every_group_and_a_refused_group_changes_nothing():
    p, q = ng.nn.Parameter(np.ones(2)), ng.nn.Parameter(np.ones(3))
    opt = optim.SGD([p, q], lr=0.1, momentum=0.9, nesterov=True)
    r, s = ng.nn.Parameter(np.ones(2)), ng.nn.Parameter(np.ones(3))
    arrays = (r.data, s.data)
    with pytest.raises(ValueError, match="nesterov needs momentum > 0"):
        opt.add_param_group({"params": [r, s], "momentum": 0.0})
    assert len(opt.param_groups) == 1 and r.data is arrays[0] and s.data is arrays[1]
    with pytest.raises(ValueError, match="SGD: lr must be"):  # the second group refused: the first is not packed
        optim.SGD([{"params": [r, s]}, {"params": [ng.nn.Parameter(np.ones(2))], "lr": -1}], lr=0.1)
    assert r.data is arrays[0] and s.data is arrays[1]


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_decoupled_weight_decay_is_torchs_keyword(amsgrad):
    """``Adam(decoupled_weight_decay=True)`` is torch's Adam with the same keyword (= AdamW), over 50 steps."""
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal(5)
    p, tp = ng.nn.Parameter(w0.copy()), torch.nn.Parameter(torch.tensor(w0.copy()))
    kw = dict(lr=0.05, weight_decay=0.1, amsgrad=amsgrad, decoupled_weight_decay=True)
    opt, topt = optim.Adam([p], **kw), torch.optim.Adam([tp], **kw)
    for _ in range(50):
        g = rng.standard_normal(5)
        p.grad, tp.grad = ng.tensor(g), torch.tensor(g)
        opt.step()
        topt.step()
    np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", PAIRS)
@pytest.mark.parametrize("keyword", ["differentiable"])  # (foreach / fused are taken: tests/optim/test_s18_*)
def test_torch_keywords_we_do_not_have_are_refused_not_ignored(name, keyword):
    """An option torch has and we lack is a TypeError, never silently ignored."""
    ours, _ = PAIRS[name]
    with pytest.raises(TypeError, match=keyword):
        ours([ng.nn.Parameter(np.ones(2))], **{keyword: True})


@pytest.mark.parametrize("name", PAIRS)
def test_maximize_is_a_keyword_flag_as_torch_s(name):
    """``maximize`` is keyword-only, as torch's, and must be a bool (a truthy string would silently flip the run)."""
    ours, theirs = PAIRS[name]
    w = np.ones(2)
    for opt_class in (ours, theirs):
        opt = opt_class([ng.nn.Parameter(w) if opt_class is ours else torch.nn.Parameter(torch.ones(2))], maximize=True)
        assert opt.param_groups[0]["maximize"] is True and opt.defaults["maximize"] is True
    with pytest.raises(TypeError, match="maximize"):
        ours([ng.nn.Parameter(w)], maximize="yes")


@pytest.mark.parametrize("name", PAIRS)
def test_defaults_are_torch_s(name):
    """Every option both signatures have defaults to the same value (SGD's lr is 1e-3 since torch 2.x)."""
    import inspect

    ours, theirs = (inspect.signature(c).parameters for c in PAIRS[name])
    shared = [k for k in ours if k in theirs and k != "params"]
    assert "lr" in shared
    for k in shared:
        assert ours[k].default == theirs[k].default, f"{name}({k}=): ours {ours[k].default!r}, torch's {theirs[k].default!r}"
