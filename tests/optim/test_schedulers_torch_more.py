"""The schedules added after the first five follow torch.optim.lr_scheduler over 32 steps, alone and chained,
across state_dict round trips mid-run and with torch's ``last_epoch`` resume; their arguments are checked."""

import math

import numpy as np
import pytest

from nablagrad import optim

torch = pytest.importorskip("torch")
from test_schedule_chaining import _pair  # noqa: E402 - the same optimiser pair (tests/optim/test_schedule_chaining.py)
from test_schedule_chaining import _same as _same_rates  # noqa: E402

TS = torch.optim.lr_scheduler
STEPS = 32


class Halve:
    """A callable object: its __dict__ is saved by state_dict (a plain function is not)."""

    def __init__(self):
        self.k = 0.9

    def __call__(self, t):
        return self.k**t


def _kinds(lib, **kw):
    """name -> builder(opt) for our optim or torch's lr_scheduler (``kw``: e.g. last_epoch, for the outer one)."""
    return {
        "lambda": lambda o: lib.LambdaLR(o, lr_lambda=[lambda t: 0.95**t, lambda t: 1 / (1 + t)], **kw),
        "multiplicative": lambda o: lib.MultiplicativeLR(o, lr_lambda=lambda t: 0.9 if t % 3 else 1.05, **kw),
        "linear": lambda o: lib.LinearLR(o, start_factor=0.25, end_factor=0.8, total_iters=7, **kw),
        "linear_default": lambda o: lib.LinearLR(o, **kw),
        "constant": lambda o: lib.ConstantLR(o, factor=0.5, total_iters=4, **kw),
        "warm_restarts": lambda o: lib.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.001, **kw),
        "warm_restarts_1": lambda o: lib.CosineAnnealingWarmRestarts(o, T_0=5, **kw),
        "one_cycle": lambda o: lib.OneCycleLR(o, max_lr=[1.0, 0.3], total_steps=STEPS + 1, cycle_momentum=False, **kw),
        "one_cycle_3": lambda o: lib.OneCycleLR(o, max_lr=0.5, epochs=4, steps_per_epoch=9, pct_start=0.25,
                                                anneal_strategy="linear", three_phase=True, cycle_momentum=False, **kw),
        "sequential": lambda o: lib.SequentialLR(o, [lib.LinearLR(o, 0.1, total_iters=4), lib.ExponentialLR(o, 0.9),
                                                     lib.ConstantLR(o, 0.5, 3)], milestones=[5, 12]),
        "step": lambda o: lib.StepLR(o, step_size=4, gamma=0.5, **kw),
        "cosine": lambda o: lib.CosineAnnealingLR(o, T_max=6, eta_min=0.001, **kw),
    }  # fmt: skip


OURS, THEIRS = _kinds(optim), _kinds(TS)
NEW = [k for k in OURS if k not in ("step", "cosine")]


def _same(opt, topt, scheds, tscheds):
    """The rates of test_schedule_chaining's check, and the step counts too."""
    _same_rates(opt, topt, scheds, tscheds)
    for s, ts in zip(scheds, tscheds):
        assert s.last_epoch == ts.last_epoch


def _run(opt, topt, scheds, tscheds, steps=STEPS):
    _same(opt, topt, scheds, tscheds)
    for _ in range(steps):
        topt.step()
        for s, ts in zip(scheds, tscheds):
            s.step()
            ts.step()
        _same(opt, topt, scheds, tscheds)


@pytest.mark.parametrize("kind", NEW)
def test_each_new_schedule_alone_follows_torch(kind):
    opt, topt = _pair()
    _run(opt, topt, [OURS[kind](opt)], [THEIRS[kind](topt)])


PAIRS = [("linear", "step"), ("constant", "cosine"), ("multiplicative", "linear"), ("step", "lambda"),
         ("warm_restarts", "constant"), ("linear", "multiplicative")]


@pytest.mark.parametrize("first, second", PAIRS)
def test_new_schedules_chained_with_another_follow_torch(first, second):
    opt, topt = _pair()
    s = [OURS[first](opt), OURS[second](opt)]
    ts = [THEIRS[first](topt), THEIRS[second](topt)]
    _run(opt, topt, s, ts)


@pytest.mark.parametrize("kind", NEW)
def test_state_dict_round_trip_mid_run_continues_as_torch(kind):
    opt, topt = _pair()
    s, ts = OURS[kind](opt), THEIRS[kind](topt)
    _run(opt, topt, [s], [ts], steps=11)
    opt2, topt2 = _pair()
    s2, ts2 = OURS[kind](opt2), THEIRS[kind](topt2)
    opt2.load_state_dict(opt.state_dict())
    topt2.load_state_dict(topt.state_dict())
    s2.load_state_dict(s.state_dict())
    ts2.load_state_dict(ts.state_dict())
    _run(opt2, topt2, [s2], [ts2], steps=STEPS - 11)
    _run(opt, topt, [s], [ts], steps=STEPS - 11)  # the uninterrupted run gives the same rates
    np.testing.assert_allclose(s.get_last_lr(), s2.get_last_lr(), rtol=1e-12)


@pytest.mark.parametrize("kind", ["lambda", "multiplicative", "linear", "constant", "step", "cosine", "one_cycle",
                                  "warm_restarts_1"])  # fmt: skip
def test_last_epoch_resumes_as_torch(kind):
    """last_epoch=k: the optimiser saved with 'initial_lr' is loaded, the schedule takes step k + 1 at once."""
    opt, topt = _pair()
    s, ts = OURS[kind](opt), THEIRS[kind](topt)
    _run(opt, topt, [s], [ts], steps=3)  # warm_restarts_1: k + 1 < T_0, where torch's resume is SGDR's closed form
    opt2, topt2 = _pair()
    saved = opt.state_dict()
    for g, sg in zip(opt2.param_groups, saved["param_groups"]):  # ng's load_state_dict refuses keys a group lacks
        g["initial_lr"] = sg["initial_lr"]
    opt2.load_state_dict(saved)
    topt2.load_state_dict(topt.state_dict())
    s2, ts2 = _kinds(optim, last_epoch=3)[kind](opt2), _kinds(TS, last_epoch=3)[kind](topt2)
    assert s2.last_epoch == ts2.last_epoch == 4
    _run(opt2, topt2, [s2], [ts2], steps=10)


def test_resuming_without_initial_lr_is_refused_as_torch():
    opt, topt = _pair()
    with pytest.raises(KeyError, match=r"'initial_lr' is not specified in param_groups\[0\]"):
        TS.StepLR(topt, 2, last_epoch=3)
    with pytest.raises(KeyError, match=r"StepLR: param 'initial_lr' is not specified in param_groups\[0\] when resuming"):
        optim.StepLR(opt, 2, last_epoch=3)
    assert all("initial_lr" not in g for g in opt.param_groups)  # a refused call changes nothing
    with pytest.raises(ValueError, match="last_epoch must be an int >= -1"):
        optim.ExponentialLR(opt, 0.9, last_epoch=-2)


def test_a_second_schedule_starts_from_initial_lr_as_torch():
    opt, topt = _pair()
    s, ts = optim.StepLR(opt, 2, 0.5), TS.StepLR(topt, 2, 0.5)
    _run(opt, topt, [s], [ts], steps=5)
    s2, ts2 = optim.LambdaLR(opt, lambda t: 1.0 / (t + 1)), TS.LambdaLR(topt, lambda t: 1.0 / (t + 1))
    assert s2.base_lrs == ts2.base_lrs == [0.1, 0.03]
    _run(opt, topt, [s, s2], [ts, ts2], steps=6)


def test_lambda_state_dict_skips_functions_and_keeps_callable_objects():
    opt, topt = _pair((0.1,))
    s, ts = optim.LambdaLR(opt, Halve()), TS.LambdaLR(topt, Halve())
    assert s.state_dict()["lr_lambdas"] == ts.state_dict()["lr_lambdas"] == [{"k": 0.9}]
    f = optim.MultiplicativeLR(opt, lambda t: 0.5)
    assert f.state_dict()["lr_lambdas"] == [None]
    s.lr_lambdas[0].k = 0.5
    saved = s.state_dict()
    s2 = optim.LambdaLR(_pair((0.1,))[0], Halve())
    s2.load_state_dict(saved)
    assert s2.lr_lambdas[0].k == 0.5


PLATEAU = [dict(), dict(mode="max", threshold_mode="abs", threshold=0.05, patience=2, cooldown=2, factor=0.5, min_lr=[0.01, 0.0]),
           dict(patience=0, eps=0.02, factor=0.3)]


@pytest.mark.parametrize("kw", PLATEAU)
def test_reduce_on_plateau_follows_torch(kw):
    rng = np.random.default_rng(0)
    metrics = np.concatenate([np.linspace(1, 0.5, 6), 0.5 + 0.01 * rng.standard_normal(30)])
    opt, topt = _pair()
    s, ts = optim.ReduceLROnPlateau(opt, **kw), TS.ReduceLROnPlateau(topt, **kw)
    for i, m in enumerate(metrics):
        s.step(m)
        ts.step(float(m))
        _same(opt, topt, [s], [ts])
        assert (s.num_bad_epochs, s.cooldown_counter, s.best) == (ts.num_bad_epochs, ts.cooldown_counter, ts.best)
        if i == 15:  # a round trip mid-run
            s2 = optim.ReduceLROnPlateau(opt, **kw)
            s2.load_state_dict(s.state_dict())
            s = s2


ERRORS = {
    "linear start 0": (lambda o: optim.LinearLR(o, start_factor=0), ValueError, r"start_factor must be .* in \(0.0, 1\]"),
    "linear end 1.5": (lambda o: optim.LinearLR(o, end_factor=1.5), ValueError, "LinearLR: end_factor"),
    "constant factor 2": (lambda o: optim.ConstantLR(o, factor=2), ValueError, "ConstantLR: factor .* got 2"),
    "lambda count": (lambda o: optim.LambdaLR(o, [lambda t: 1.0]), ValueError, "expected 2 lr_lambdas"),
    "multiplicative not callable": (lambda o: optim.MultiplicativeLR(o, 0.5), TypeError, "lr_lambda should be a function"),
    "sgdr T_0": (lambda o: optim.CosineAnnealingWarmRestarts(o, T_0=0), ValueError, "T_0 must be an int >= 1"),
    "sgdr T_mult": (lambda o: optim.CosineAnnealingWarmRestarts(o, 2, T_mult=1.5), ValueError, "T_mult must be an int"),
    "onecycle no steps": (lambda o: optim.OneCycleLR(o, 0.1), ValueError, "give total_steps, or epochs"),
    "onecycle pct": (lambda o: optim.OneCycleLR(o, 0.1, 10, pct_start=1.5), ValueError, "pct_start must be"),
    "onecycle anneal": (lambda o: optim.OneCycleLR(o, 0.1, 10, anneal_strategy="exp"), ValueError, "'cos' or 'linear'"),
    "onecycle momentum": (lambda o: optim.OneCycleLR(o, 0.1, 10, max_momentum=-0.5), ValueError, r"max_momentum\[0\] = -0.5"),
    "onecycle max_lr count": (lambda o: optim.OneCycleLR(o, [0.1], 10), ValueError, "expected 2 values for max_lr"),
    "plateau factor": (lambda o: optim.ReduceLROnPlateau(o, factor=1.0), ValueError, r"factor must be in \[0, 1\)"),
    "plateau mode": (lambda o: optim.ReduceLROnPlateau(o, mode="up"), ValueError, "mode must be 'min'"),
    "plateau threshold_mode": (lambda o: optim.ReduceLROnPlateau(o, threshold_mode="x"), ValueError, "'rel' or 'abs'"),
    "sequential milestones": (lambda o: optim.SequentialLR(o, [optim.StepLR(o, 2)], [3]), ValueError, "one milestone fewer"),
}  # fmt: skip


@pytest.mark.parametrize("case", ERRORS)
def test_bad_arguments_are_refused_and_change_nothing(case):
    make, error, message = ERRORS[case]
    opt, _ = _pair()
    before = [dict((k, v) for k, v in g.items() if k != "params") for g in opt.param_groups]
    with pytest.raises(error, match=message):
        make(opt)
    if case != "sequential milestones":  # (its StepLR was built before the refusal)
        assert [dict((k, v) for k, v in g.items() if k != "params") for g in opt.param_groups] == before


def test_one_cycle_refuses_stepping_past_total_steps_and_plateau_needs_a_metric():
    opt, _ = _pair()
    s = optim.OneCycleLR(opt, 0.1, total_steps=3)
    for _ in range(3):
        s.step()
    lrs = [g["lr"] for g in opt.param_groups]
    with pytest.raises(ValueError, match="tried to step 4 times"):
        s.step()
    assert [g["lr"] for g in opt.param_groups] == lrs and s.last_epoch == 3
    p = optim.ReduceLROnPlateau(opt)
    with pytest.raises(TypeError, match=r"scheduler.step\(val_loss\)"):
        p.step()


def test_the_name_table_builds_the_new_warmups():
    opt, _ = _pair()
    assert type(optim.make_scheduler("linear", opt, total_iters=3, gamma=0.5)) is optim.LinearLR
    assert optim.make_scheduler("constant", opt, factor=0.5).factor == 0.5
    assert math.isclose(opt.param_groups[0]["lr"], 0.1 / 3 * 0.5)
