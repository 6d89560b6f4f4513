"""optim.lr_scheduler.CyclicLR against torch 2.13 (rates and momenta step by step, every mode, state_dict keys),
the ``ng.optim.lr_scheduler`` namespace (torch's class names, the same classes), and the implementation flags
``foreach`` / ``fused`` taken as torch takes them (no effect on a trajectory; both True refused as torch refuses)."""

from __future__ import annotations

import numpy as np
import pytest

import nablagrad as ng
from nablagrad import optim

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.numpy_only("compares with torch on host arrays")

MODES = [("triangular", {}), ("triangular2", {}), ("exp_range", {"gamma": 0.97}), ("triangular", {"step_size_down": 5}),
         ("triangular", {"scale_fn": lambda c: 0.5**c, "scale_mode": "iterations"}),
         ("triangular", {"scale_fn": lambda c: 1.0 / c, "scale_mode": "cycle"}),
         ("triangular", {"cycle_momentum": False})]  # fmt: skip


def _pair(name: str, **kw):
    p, tp = ng.nn.Parameter(np.ones(2)), torch.nn.Parameter(torch.ones(2))
    return getattr(optim, name)([p], **kw), getattr(torch.optim, name)([tp], **kw)


@pytest.mark.filterwarnings("ignore:Detected call of")
@pytest.mark.parametrize("name, kw", [("SGD", {"lr": 0.5, "momentum": 0.9}), ("Adam", {"lr": 0.5})])
@pytest.mark.parametrize("mode, extra", MODES)
def test_cyclic_lr_rates_and_momenta_are_torchs(name, kw, mode, extra):
    opt, topt = _pair(name, **kw)
    ours = optim.lr_scheduler.CyclicLR(opt, 0.01, [0.3], step_size_up=3, mode=mode, **extra)
    theirs = torch.optim.lr_scheduler.CyclicLR(topt, 0.01, [0.3], step_size_up=3, mode=mode, **extra)
    key = "momentum" if name == "SGD" else "betas"
    for _ in range(25):
        g, tg = opt.param_groups[0], topt.param_groups[0]
        assert g["lr"] == pytest.approx(tg["lr"], rel=1e-14, abs=1e-16)
        np.testing.assert_allclose(np.atleast_1d(g[key]), np.atleast_1d(tg[key]), rtol=1e-14)
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-14)
        ours.step()
        theirs.step()
    saved, tsaved = ours.state_dict(), theirs.state_dict()
    assert set(saved) == set(tsaved)
    for k in ("max_lrs", "total_size", "step_ratio", "mode", "scale_mode", "cycle_momentum", "use_beta1", "last_epoch"):
        assert saved.get(k) == tsaved.get(k), k


def test_cyclic_lr_records_its_momenta_in_the_groups_and_resumes_from_its_state():
    opt, topt = _pair("SGD", lr=0.5, momentum=0.9)
    sched = optim.lr_scheduler.CyclicLR(opt, 0.01, 0.3, step_size_up=4, base_momentum=0.7, max_momentum=0.95)
    torch.optim.lr_scheduler.CyclicLR(topt, 0.01, 0.3, step_size_up=4, base_momentum=0.7, max_momentum=0.95)
    for k in ("max_momentum", "base_momentum", "initial_lr", "momentum", "lr"):
        assert opt.param_groups[0][k] == pytest.approx(topt.param_groups[0][k]), k
    for _ in range(5):
        sched.step()
    state, group = sched.state_dict(), dict(opt.param_groups[0])
    opt2, _ = _pair("SGD", lr=0.5, momentum=0.9)
    again = optim.lr_scheduler.CyclicLR(opt2, 0.01, 0.3, step_size_up=4, base_momentum=0.7, max_momentum=0.95)
    again.load_state_dict(state)
    for _ in range(3):
        sched.step()
        again.step()
    assert again.get_last_lr() == sched.get_last_lr() and again.last_epoch == sched.last_epoch == 8
    assert group["lr"] != opt.param_groups[0]["lr"]


@pytest.mark.parametrize("make", [
    lambda o, S: S.CyclicLR(o, 0.01, 0.1, mode="sawtooth"),
    lambda o, S: S.CyclicLR(o, 0.01, [0.1, 0.2]),
])  # fmt: skip
def test_cyclic_lr_refuses_what_torch_refuses(make):
    opt, topt = _pair("SGD", lr=0.5, momentum=0.9)
    with pytest.raises(ValueError):
        make(topt, torch.optim.lr_scheduler)
    with pytest.raises(ValueError, match="CyclicLR"):
        make(opt, optim.lr_scheduler)
    assert opt.param_groups[0]["lr"] == 0.5 and "initial_lr" not in opt.param_groups[0]  # nothing written


def test_cyclic_momentum_needs_an_optimiser_with_momentum():
    with pytest.raises(ValueError, match="cycle_momentum"):
        optim.lr_scheduler.CyclicLR(optim.Adagrad([ng.nn.Parameter(np.ones(2))]), 0.01, 0.1)
    with pytest.raises(ValueError):
        torch.optim.lr_scheduler.CyclicLR(torch.optim.Adagrad([torch.nn.Parameter(torch.ones(2))]), 0.01, 0.1)
    optim.lr_scheduler.CyclicLR(optim.Adagrad([ng.nn.Parameter(np.ones(2))]), 0.01, 0.1, cycle_momentum=False)


def test_lr_scheduler_namespace_has_torchs_classes_and_they_are_ours():
    torch_names = [n for n in dir(torch.optim.lr_scheduler) if isinstance(getattr(torch.optim.lr_scheduler, n), type)
                   and issubclass(getattr(torch.optim.lr_scheduler, n), torch.optim.lr_scheduler.LRScheduler)]  # fmt: skip
    assert {"StepLR", "CyclicLR", "OneCycleLR", "ReduceLROnPlateau"} <= set(torch_names)
    for name in torch_names:
        assert hasattr(optim.lr_scheduler, name), name
    for name in optim.lr_scheduler.__all__:
        assert getattr(optim.lr_scheduler, name) is getattr(optim, name)  # one source of truth: re-exported
    opt = optim.SGD([ng.nn.Parameter(np.ones(2))], lr=1.0)
    sched = ng.optim.lr_scheduler.StepLR(opt, 3)
    for _ in range(3):
        sched.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1)


# --- foreach / fused -------------------------------------------------------------------------------------------
TAKES = {"SGD": ("foreach", "fused"), "Adam": ("foreach", "fused"), "AdamW": ("foreach", "fused"),
         "Adagrad": ("foreach", "fused"), "RMSprop": ("foreach",)}  # fmt: skip
OPTIONS = {"SGD": dict(lr=0.1, momentum=0.9, nesterov=True), "Adam": dict(lr=0.05, amsgrad=True),
           "AdamW": dict(lr=0.05), "Adagrad": dict(lr=0.1), "RMSprop": dict(lr=0.01, centered=True)}  # fmt: skip
FLAG_CASES = [(n, f, v) for n, flags in TAKES.items() for f in flags for v in (True, False, None)]


@pytest.mark.parametrize("name, flag, value", FLAG_CASES)
def test_a_flag_torch_takes_is_taken_kept_in_the_groups_and_changes_no_number(name, flag, value):
    x0 = np.random.default_rng(0).standard_normal(5)
    p, q, tp = ng.nn.Parameter(x0.copy()), ng.nn.Parameter(x0.copy()), torch.nn.Parameter(torch.tensor(x0.copy()))
    plain = getattr(optim, name)([p], **OPTIONS[name])
    flagged = getattr(optim, name)([q], **OPTIONS[name], **{flag: value})
    theirs = getattr(torch.optim, name)([tp], **OPTIONS[name], **{flag: value})
    assert flagged.param_groups[0][flag] == theirs.param_groups[0][flag] == value
    for k in range(20):
        g = np.random.default_rng(k + 1).standard_normal(5)
        p.grad, q.grad, tp.grad = ng.tensor(g), ng.tensor(g), torch.tensor(g)
        for o in (plain, flagged, theirs):
            o.step()
    np.testing.assert_array_equal(q.numpy(), p.numpy())
    np.testing.assert_allclose(q.numpy(), tp.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", [n for n, flags in TAKES.items() if "fused" in flags])
def test_fused_and_foreach_both_true_is_torchs_runtime_error_and_packs_nothing(name):
    with pytest.raises(RuntimeError, match="cannot be `True` together"):
        getattr(torch.optim, name)([torch.nn.Parameter(torch.ones(2))], fused=True, foreach=True)
    p = ng.nn.Parameter(np.ones(2))
    data = p.data
    with pytest.raises(RuntimeError, match="`fused` and `foreach` cannot be `True` together"):
        getattr(optim, name)([p], fused=True, foreach=True)
    assert p.data is data


def test_rmsprop_has_no_fused_as_torchs_and_differentiable_true_stays_refused():
    for lib in (optim, torch.optim):
        with pytest.raises(TypeError, match="fused"):
            lib.RMSprop([ng.nn.Parameter(np.ones(2)) if lib is optim else torch.nn.Parameter(torch.ones(2))], fused=True)
    for name in TAKES:
        opt = getattr(optim, name)([ng.nn.Parameter(np.ones(2))], differentiable=False)  # torch's default, taken
        assert "differentiable" not in opt.param_groups[0]
        with pytest.raises(TypeError, match="differentiable must be False"):
            getattr(optim, name)([ng.nn.Parameter(np.ones(2))], differentiable=True)
