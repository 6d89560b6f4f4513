"""Learning-rate schedules chain as torch.optim.lr_scheduler's do: each step moves the optimiser's *current*
rate, so two schedules on one optimiser, or a rate changed by hand, compose multiplicatively; the lr
sequences (``get_last_lr`` and ``param_groups``) equal torch's over 30 steps."""

import numpy as np
import pytest

import nablagrad as ng
from nablagrad import optim

torch = pytest.importorskip("torch")
TS = torch.optim.lr_scheduler

KINDS = {
    "step": (optim.StepLR, TS.StepLR, dict(step_size=4, gamma=0.5)),
    "multistep": (optim.MultiStepLR, TS.MultiStepLR, dict(milestones=[3, 7, 7, 20], gamma=0.5)),
    "exponential": (optim.ExponentialLR, TS.ExponentialLR, dict(gamma=0.9)),
    "cosine": (optim.CosineAnnealingLR, TS.CosineAnnealingLR, dict(T_max=6, eta_min=0.001)),  # 30 steps: 2½ periods
}


def _pair(lrs=(0.1, 0.03)):
    """Our SGD and torch's on the same two parameter groups."""
    ours = optim.SGD([{"params": [ng.nn.Parameter(np.ones(2))], "lr": lr} for lr in lrs])
    theirs = torch.optim.SGD([{"params": [torch.nn.Parameter(torch.ones(2))], "lr": lr} for lr in lrs])
    return ours, theirs


def _same(opt, topt, scheds, tscheds):
    np.testing.assert_allclose([g["lr"] for g in opt.param_groups], [g["lr"] for g in topt.param_groups], rtol=1e-10, atol=1e-15)
    for s, ts in zip(scheds, tscheds):
        np.testing.assert_allclose(s.get_last_lr(), ts.get_last_lr(), rtol=1e-10, atol=1e-15)


def _run(opt, topt, scheds, tscheds, steps=30, hand=None):
    _same(opt, topt, scheds, tscheds)
    for t in range(1, steps + 1):
        topt.step()
        for s, ts in zip(scheds, tscheds):
            s.step()
            ts.step()
        if hand is not None and t in hand:  # a rate changed by hand between steps, on both
            for o in (opt, topt):
                o.param_groups[0]["lr"] = hand[t]
        _same(opt, topt, scheds, tscheds)


@pytest.mark.parametrize("kind", KINDS)
def test_each_schedule_alone_follows_torch(kind):
    ours, theirs, kw = KINDS[kind]
    opt, topt = _pair()
    _run(opt, topt, [ours(opt, **kw)], [theirs(topt, **kw)])


@pytest.mark.parametrize("first, second", [("step", "exponential"), ("exponential", "multistep"), ("multistep", "cosine"),
                                           ("cosine", "step")])  # fmt: skip
def test_two_schedules_on_one_optimiser_compose_as_in_torch(first, second):
    opt, topt = _pair()
    scheds, tscheds = [], []
    for kind in (first, second):
        ours, theirs, kw = KINDS[kind]
        scheds.append(ours(opt, **kw))
        tscheds.append(theirs(topt, **kw))
    _run(opt, topt, scheds, tscheds)


@pytest.mark.parametrize("kind", KINDS)
def test_a_rate_changed_by_hand_is_scaled_from_then_on_as_in_torch(kind):
    """get_last_lr keeps the schedule's own last rates (torch's too) until the next step."""
    ours, theirs, kw = KINDS[kind]
    opt, topt = _pair()
    _run(opt, topt, [ours(opt, **kw)], [theirs(topt, **kw)], hand={5: 0.5, 13: 0.2})


def test_a_group_that_starts_at_zero_and_is_raised_by_hand_decays_as_in_torch():
    opt, topt = _pair((0.0, 0.1))
    _run(opt, topt, [optim.StepLR(opt, step_size=3, gamma=0.5)], [TS.StepLR(topt, step_size=3, gamma=0.5)], hand={4: 1.0})


@pytest.mark.parametrize("kind", KINDS)
def test_state_dict_round_trip_continues_as_torch(kind):
    """A schedule loaded into a fresh optimiser goes on from that optimiser's rate (torch's load_state_dict does
    not touch the optimiser either); with the optimiser's state loaded too, it is the uninterrupted run."""
    ours, theirs, kw = KINDS[kind]
    opt, topt = _pair()
    s, ts = ours(opt, **kw), theirs(topt, **kw)
    _run(opt, topt, [s], [ts], steps=9)
    for with_optimizer in (False, True):
        opt2, topt2 = _pair()
        s2, ts2 = ours(opt2, **kw), theirs(topt2, **kw)
        if with_optimizer:
            opt2.load_state_dict(opt.state_dict())
            topt2.load_state_dict(topt.state_dict())
        s2.load_state_dict(s.state_dict())
        ts2.load_state_dict(ts.state_dict())
        assert s2.last_epoch == ts2.last_epoch == 9
        _run(opt2, topt2, [s2], [ts2], steps=12)
    _run(opt, topt, [s], [ts], steps=12)  # the uninterrupted run: the same rates as the resumed one
    np.testing.assert_allclose(s.get_last_lr(), s2.get_last_lr(), rtol=1e-12)


def test_a_refused_step_of_the_second_schedule_leaves_both_rates():
    opt, _ = _pair()
    first, second = optim.StepLR(opt, step_size=1, gamma=0.5), optim.ExponentialLR(opt, gamma=2.0)
    second.load_state_dict({"last_epoch": 1023, "base_lrs": [0.1, 0.03]})  # 2 ** 1024 overflows a float
    first.step()
    before = [g["lr"] for g in opt.param_groups]
    with pytest.raises(ValueError, match="ExponentialLR.step: the learning rate at step 1024 would be inf"):
        second.step()
    assert [g["lr"] for g in opt.param_groups] == before and second.last_epoch == 1023


def test_multistep_arguments_are_checked():
    opt, _ = _pair()
    with pytest.raises(TypeError, match="milestones must be a list of steps"):
        optim.MultiStepLR(opt, milestones=3)
    with pytest.raises(ValueError, match="milestones must be ints >= 0"):
        optim.MultiStepLR(opt, milestones=[2, 1.5])
    with pytest.raises(ValueError, match="gamma must be a finite number >= 0"):
        optim.MultiStepLR(opt, milestones=[2], gamma=-0.1)
