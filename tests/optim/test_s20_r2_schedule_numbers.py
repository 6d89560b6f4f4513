"""The schedules' number checks use ``backend.checks.is_finite``: a Python int beyond float's range is refused by
name (``math.isfinite`` raised OverflowError on it), and nothing moves."""

import numpy as np
import pytest

import nablagrad as ng


def _opt():
    return ng.optim.SGD([ng.nn.Parameter(ng.tensor(np.ones(2)))], lr=0.1)


@pytest.mark.parametrize("make", [lambda o: ng.optim.lr_scheduler.StepLR(o, step_size=2),
                                  lambda o: ng.optim.lr_scheduler.ReduceLROnPlateau(o)])  # fmt: skip
def test_an_epoch_beyond_floats_range_is_refused_by_name_and_changes_nothing(make):
    opt = _opt()
    sched = make(opt)
    before = (sched.last_epoch, [g["lr"] for g in opt.param_groups])
    args = (1.0,) if isinstance(sched, ng.optim.lr_scheduler.ReduceLROnPlateau) else ()
    with pytest.raises(ValueError, match="epoch must be a whole number"):
        sched.step(*args, epoch=10**400)
    assert (sched.last_epoch, [g["lr"] for g in opt.param_groups]) == before


def test_a_rate_like_setting_beyond_floats_range_is_refused_by_name():
    with pytest.raises(ValueError, match="gamma must be a finite number >= 0"):
        ng.optim.lr_scheduler.StepLR(_opt(), step_size=2, gamma=10**400)
    sched = ng.optim.lr_scheduler.StepLR(_opt(), step_size=2, gamma=10**3)  # a big int that fits: taken as a float
    assert sched.gamma == 1000.0 and isinstance(sched.gamma, float)
