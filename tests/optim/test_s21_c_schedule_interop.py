"""Learning-rate schedules against torch.optim.lr_scheduler 2.13: MultiStepLR's state in torch's layout (a Counter
of milestones, a milestone given twice counted twice) both ways and through JSON; torch's schedule states on a
tensor ``lr`` (0-d tensors in ``base_lrs`` and ``_last_lr``); a parameter group added after the schedule was built
(scaled on as torch's chained schedules do, or refused, never left silently unscheduled); ReduceLROnPlateau's
scalar ``min_lr`` for an added group; CosineAnnealingWarmRestarts with ``T_mult > 1`` against torch's
uninterrupted run."""

import json
import warnings

import numpy as np
import pytest

import nablagrad as ng
from nablagrad import optim

torch = pytest.importorskip("torch")
TL = torch.optim.lr_scheduler
NL = optim.lr_scheduler

pytestmark = pytest.mark.numpy_only("schedules only write the groups' numbers: no array library is involved")


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's "lr_scheduler.step() before optimizer.step()"
        yield


def _sgds(lrs=(0.1,), torch_lr=float, momentum=0.9):
    ours = optim.SGD([{"params": [ng.tensor(np.ones(2), requires_grad=True)], "lr": lr} for lr in lrs], momentum=momentum)
    theirs = torch.optim.SGD([{"params": [torch.ones(2, requires_grad=True)], "lr": torch_lr(lr)} for lr in lrs],
                             momentum=momentum)  # fmt: skip
    return ours, theirs


def _lrs(opt):
    return [float(g["lr"]) for g in opt.param_groups]


def _add_group(opt, lr):
    make = ng.tensor(np.ones(2), requires_grad=True) if isinstance(opt, optim.Optimizer) else torch.ones(2, requires_grad=True)
    opt.add_param_group({"params": [make], "lr": lr})


# --- MultiStepLR's milestones --------------------------------------------------------------------------------
MILESTONES = [3, 10, 10, 25]  # 10 twice: the rate decays twice there


def test_multistep_state_from_torch_keeps_a_repeated_milestone():
    o, t = _sgds()
    ts = TL.MultiStepLR(t, MILESTONES, gamma=0.5)
    for _ in range(5):
        ts.step()
    s = NL.MultiStepLR(o, MILESTONES, gamma=0.5)
    s.load_state_dict(ts.state_dict())
    o.param_groups[0]["lr"] = t.param_groups[0]["lr"]
    assert s.milestones == MILESTONES
    for _ in range(25):
        s.step()
        ts.step()
        assert _lrs(o) == pytest.approx(_lrs(t), rel=1e-12)
        assert s.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12)


def test_multistep_state_is_torch_s_layout_and_torch_continues_from_it():
    o, t = _sgds()
    s, ts = NL.MultiStepLR(o, MILESTONES, gamma=0.5), TL.MultiStepLR(t, MILESTONES, gamma=0.5)
    for _ in range(5):
        s.step()
    saved = s.state_dict()
    assert saved["milestones"] == TL.MultiStepLR(_sgds()[1], MILESTONES).state_dict()["milestones"]  # Counter
    ts.load_state_dict(saved)
    t.param_groups[0]["lr"] = o.param_groups[0]["lr"]
    for _ in range(25):  # torch indexes the milestones by step: a list made it raise or decay wrongly
        s.step()
        ts.step()
        assert _lrs(t) == pytest.approx(_lrs(o), rel=1e-12)


def test_multistep_state_through_json_round_trips():
    o, _ = _sgds()
    s = NL.MultiStepLR(o, MILESTONES, gamma=0.5)
    for _ in range(7):
        s.step()
    saved = json.loads(json.dumps(s.state_dict()))  # a Counter's keys become strings
    o2, _ = _sgds()
    s2 = NL.MultiStepLR(o2, MILESTONES, gamma=0.5)
    s2.load_state_dict(saved)
    o2.param_groups[0]["lr"] = o.param_groups[0]["lr"]
    assert s2.milestones == MILESTONES and s2.last_epoch == 7
    for _ in range(20):
        s.step()
        s2.step()
        assert _lrs(o2) == _lrs(o)
    with pytest.raises(ValueError, match="milestones must map steps"):
        s2.load_state_dict({**saved, "milestones": {"x": 1}})
    assert s2.milestones == MILESTONES  # a refused state changes nothing


# --- torch's schedule states on a tensor lr --------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda L, o: L.StepLR(o, 3, gamma=0.5),
    lambda L, o: L.OneCycleLR(o, max_lr=1.0, total_steps=20),
    lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=3),
], ids=["StepLR", "OneCycleLR", "CyclicLR"])  # fmt: skip
def test_a_torch_schedule_state_on_a_tensor_lr_loads_and_continues_as_torch(make):
    o, t = _sgds(torch_lr=lambda v: torch.tensor(v, dtype=torch.float64))
    ts = make(TL, t)
    for _ in range(3):
        ts.step()
    s = make(NL, o)
    o.load_state_dict(t.state_dict())  # its groups hold tensors too (initial_lr, lr)
    s.load_state_dict(ts.state_dict())
    assert s.get_last_lr() == pytest.approx([float(v) for v in ts.get_last_lr()], rel=1e-12)
    for _ in range(8):
        s.step()
        ts.step()
        assert _lrs(o) == pytest.approx(_lrs(t), rel=1e-12)


# --- a parameter group added after the schedule ----------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda L, o: L.StepLR(o, 2, 0.5),
    lambda L, o: L.MultiStepLR(o, [1, 3], 0.5),
    lambda L, o: L.ExponentialLR(o, 0.9),
    lambda L, o: L.LinearLR(o, 0.2, total_iters=4),
    lambda L, o: L.ConstantLR(o, 0.2, total_iters=3),
    lambda L, o: L.PolynomialLR(o, 5, 2.0),
    lambda L, o: L.ChainedScheduler([L.StepLR(o, 1, 0.5), L.ExponentialLR(o, 0.9)]),
], ids=["StepLR", "MultiStepLR", "ExponentialLR", "LinearLR", "ConstantLR", "PolynomialLR", "Chained"])  # fmt: skip
def test_a_group_added_later_is_scaled_on_as_torch_s_chained_schedules_do(make):
    o, t = _sgds()
    s, ts = make(NL, o), make(TL, t)
    s.step()
    ts.step()
    _add_group(o, 0.5)
    _add_group(t, 0.5)
    for _ in range(6):  # (before the fix the new group kept 0.5 for ever)
        s.step()
        ts.step()
        assert _lrs(o) == pytest.approx(_lrs(t), rel=1e-12)
        assert s.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12)


@pytest.mark.parametrize("make", [
    lambda L, o: L.LambdaLR(o, lambda e: 0.5**e),
    lambda L, o: L.OneCycleLR(o, 1.0, total_steps=10),
    lambda L, o: L.CyclicLR(o, 0.01, 0.1, 2),
    lambda L, o: L.CosineAnnealingWarmRestarts(o, 3),
], ids=["LambdaLR", "OneCycleLR", "CyclicLR", "CosineAnnealingWarmRestarts"])  # fmt: skip
def test_a_group_added_later_is_refused_by_a_schedule_with_per_group_settings(make):
    """torch raises too (a zip or a KeyError); here a ValueError naming the fix, with nothing changed."""
    o, _ = _sgds()
    s = make(NL, o)
    _add_group(o, 0.5)
    before = [{k: v for k, v in g.items() if k != "params"} for g in o.param_groups]
    with pytest.raises(ValueError, match="built for 1.*build the schedule once every group is added"):
        s.step()
    assert [{k: v for k, v in g.items() if k != "params"} for g in o.param_groups] == before
    assert s.last_epoch == 0


def test_plateau_with_one_min_lr_covers_a_group_added_later_as_torch_s():
    o, t = _sgds()
    s, ts = NL.ReduceLROnPlateau(o, patience=0, min_lr=0.002), TL.ReduceLROnPlateau(t, patience=0, min_lr=0.002)
    s.step(1.0)
    ts.step(1.0)
    _add_group(o, 0.5)
    _add_group(t, 0.5)
    for m in [0.5, 1.0, 1.0, 1.0, 1.0]:
        s.step(m)
        ts.step(m)
        assert _lrs(o) == pytest.approx(_lrs(t), rel=1e-12)
    assert s.min_lrs == ts.min_lrs == [0.002, 0.002]
    saved = s.state_dict()
    o2, _ = _sgds((0.1, 0.5))
    s2 = NL.ReduceLROnPlateau(o2, min_lr=[0.0, 0.0])
    s2.load_state_dict(saved)
    assert s2.default_min_lr == saved["default_min_lr"] == 0.002


def test_plateau_with_one_min_lr_per_group_refuses_an_added_group_naming_min_lrs():
    o, _ = _sgds()
    s = NL.ReduceLROnPlateau(o, patience=0, min_lr=[0.001])
    _add_group(o, 0.5)
    with pytest.raises(ValueError, match="set scheduler.min_lrs to one rate per group"):
        s.step(1.0)
    assert s.last_epoch == 0 and _lrs(o) == [0.1, 0.5]
    s.min_lrs = [0.001, 0.01]  # torch's advice too
    s.step(1.0)
    s.step(2.0)
    assert _lrs(o) == pytest.approx([0.01, 0.05])


# --- CosineAnnealingWarmRestarts with T_mult > 1 ---------------------------------------------------------------
def _torch_uninterrupted(steps, **kw):
    _, t = _sgds()
    ts = TL.CosineAnnealingWarmRestarts(t, **kw)
    for _ in range(steps):
        ts.step()
    return _lrs(t)


def test_warm_restarts_step_epoch_lands_on_a_restart_exactly():
    """torch's step(epoch) finds the period by log(243, 3) = 4.999…: at epoch 121 (periods 1, 3, 9, 27, 81) it gives
    eta_min instead of the restart its own uninterrupted run reaches."""
    o, _ = _sgds()
    s = NL.CosineAnnealingWarmRestarts(o, 1, T_mult=3)
    s.step(121)
    assert _lrs(o) == pytest.approx(_torch_uninterrupted(121, T_0=1, T_mult=3), rel=1e-12)
    assert (s.T_cur, s.T_i) == (0, 243)


@pytest.mark.parametrize("k", [2, 9, 13])
def test_warm_restarts_resume_continues_as_the_uninterrupted_run(k):
    """Resuming after step k (last_epoch=k) goes on as torch's uninterrupted run (torch's own resume takes
    (k + 1) mod T_0 as T_cur when T_mult > 1)."""
    o, _ = _sgds()
    o.param_groups[0]["initial_lr"] = 0.1
    o.param_groups[0]["lr"] = _torch_uninterrupted(k, T_0=4, T_mult=2, eta_min=0.001)[0]
    s = NL.CosineAnnealingWarmRestarts(o, 4, T_mult=2, eta_min=0.001, last_epoch=k)
    for j in range(1, 15):
        assert _lrs(o) == pytest.approx(_torch_uninterrupted(k + j, T_0=4, T_mult=2, eta_min=0.001), rel=1e-12)
        s.step()
