"""Every schedule against torch.optim.lr_scheduler: the rates AND the keys it writes into the parameter groups
(OneCycleLR's 'max_lr', 'min_lr', 'max_momentum', 'base_momentum'), state_dict in torch's layout (keys and
values), round trips mid-run (settings restored as torch restores them), last_epoch resume, chained,
ChainedScheduler and SequentialLR, PolynomialLR."""

import collections
import math

import numpy as np
import pytest

import nablagrad as ng
from nablagrad import optim

torch = pytest.importorskip("torch")
TS = torch.optim.lr_scheduler
TORCH_ONLY_GROUP_KEYS = {"params", "foreach", "differentiable", "fused", "capturable", "maximize", "decoupled_weight_decay"}
LRS = (0.1, 0.05)


def _pair(kind="SGD", **kw):
    """Our optimiser and torch's, two groups of one float64 parameter each, the same settings."""
    ours = [ng.nn.Parameter(ng.tensor(np.zeros(2))) for _ in LRS]
    theirs = [torch.nn.Parameter(torch.zeros(2, dtype=torch.float64)) for _ in LRS]
    opt = getattr(optim, kind)([{"params": [p], "lr": lr} for p, lr in zip(ours, LRS)], **kw)
    topt = getattr(torch.optim, kind)([{"params": [p], "lr": lr} for p, lr in zip(theirs, LRS)], **kw)
    return opt, topt


def _close(a, b) -> bool:
    if isinstance(a, tuple | list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    if isinstance(a, bool) or not isinstance(a, int | float):
        return a == b
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)


def _same_groups(opt, topt, where=""):
    """Every key torch's groups hold (its own flags aside) is in ours, with the same value."""
    for i, (g, tg) in enumerate(zip(opt.param_groups, topt.param_groups)):
        keys = set(tg) - TORCH_ONLY_GROUP_KEYS
        assert keys <= set(g), f"{where} group {i} lacks {keys - set(g)}"
        for k in keys:
            assert _close(g[k], tg[k]), f"{where} group {i} {k}: {g[k]} vs torch {tg[k]}"


def _same_state(ours: dict, theirs: dict, where=""):
    """torch's state_dict keys are all in ours, with equal values (torch's MultiStepLR keeps a Counter)."""
    assert set(theirs) <= set(ours), f"{where}: missing {set(theirs) - set(ours)}"
    for k, v in theirs.items():
        if k == "_step_count":
            continue  # torch's count of step() calls differs between its classes (0 or 1 at construction)
        if k == "_schedulers":
            for i, (a, b) in enumerate(zip(ours[k], v)):
                _same_state(a, b, f"{where}/{k}[{i}]")
        elif isinstance(v, collections.Counter):
            assert ours[k] == v, f"{where} {k}"  # a Counter, as torch saves it
        else:
            assert _close(ours[k], v), f"{where} {k}: {ours[k]} vs torch {v}"


KINDS = {
    "step": lambda m, o: m.StepLR(o, step_size=3, gamma=0.5),
    "multistep": lambda m, o: m.MultiStepLR(o, milestones=[2, 5, 5], gamma=0.3),
    "exponential": lambda m, o: m.ExponentialLR(o, gamma=0.9),
    "cosine": lambda m, o: m.CosineAnnealingLR(o, T_max=7, eta_min=0.001),
    "linear": lambda m, o: m.LinearLR(o, start_factor=0.2, total_iters=4),
    "constant": lambda m, o: m.ConstantLR(o, factor=0.5, total_iters=3),
    "polynomial": lambda m, o: m.PolynomialLR(o, total_iters=6, power=2.0),
    "lambda": lambda m, o: m.LambdaLR(o, lr_lambda=lambda t: 0.9**t),
    "multiplicative": lambda m, o: m.MultiplicativeLR(o, lr_lambda=lambda t: 0.9),
    "warm_restarts": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.001),
    "one_cycle": lambda m, o: m.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=25),
    "one_cycle_3": lambda m, o: m.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=25, three_phase=True,
                                             anneal_strategy="linear", base_momentum=0.8, max_momentum=0.9),
}  # fmt: skip


def _steps(opt, topt, s, ts, n, where):
    for t in range(n):
        s.step()
        ts.step()
        _same_groups(opt, topt, f"{where} step {t + 1}")
        np.testing.assert_allclose(s.get_last_lr(), ts.get_last_lr(), rtol=1e-12)


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("kind", ["SGD", "Adam"])
@pytest.mark.parametrize("name", list(KINDS))
def test_rates_group_keys_and_state_dict_as_torch(name, kind):
    kw = {"momentum": 0.9} if kind == "SGD" else {}
    opt, topt = _pair(kind, **kw)
    s, ts = KINDS[name](optim, opt), KINDS[name](TS, topt)
    _same_groups(opt, topt, "construction")  # 'initial_lr', and OneCycleLR's landmarks and momenta
    _steps(opt, topt, s, ts, 12, name)
    _same_state(s.state_dict(), ts.state_dict(), name)
    # a fresh pair loads both states mid-run and goes on as the uninterrupted run
    opt2, topt2 = _pair(kind, **kw)
    s2, ts2 = KINDS[name](optim, opt2), KINDS[name](TS, topt2)
    opt2.load_state_dict(opt.state_dict())
    topt2.load_state_dict(topt.state_dict())
    s2.load_state_dict(s.state_dict())
    ts2.load_state_dict(ts.state_dict())
    _steps(opt2, topt2, s2, ts2, 10, f"{name} reloaded")
    _steps(opt, topt, s, ts, 10, name)
    assert s.get_last_lr() == s2.get_last_lr()


def test_one_cycle_writes_torchs_group_keys():
    opt, topt = _pair("SGD", momentum=0.9)
    optim.OneCycleLR(opt, max_lr=[1.0, 0.5], total_steps=10, div_factor=20, final_div_factor=100)
    TS.OneCycleLR(topt, max_lr=[1.0, 0.5], total_steps=10, div_factor=20, final_div_factor=100)
    for g, tg in zip(opt.param_groups, topt.param_groups):
        for k in ("initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum", "momentum", "lr"):
            assert g[k] == pytest.approx(tg[k], rel=1e-15)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_one_cycle_follows_a_landmark_changed_in_the_groups_as_torch():
    opt, topt = _pair("Adam")
    s, ts = optim.OneCycleLR(opt, max_lr=[1.0, 0.5], total_steps=20), TS.OneCycleLR(topt, max_lr=[1.0, 0.5], total_steps=20)
    for g in (*opt.param_groups, *topt.param_groups):
        g["max_lr"], g["base_momentum"] = 2.0, 0.7
    _steps(opt, topt, s, ts, 15, "edited")


def test_one_cycle_refuses_a_bad_momentum_in_its_groups_and_changes_nothing():
    opt, _ = _pair("Adam")
    s = optim.OneCycleLR(opt, max_lr=1.0, total_steps=20)
    opt.param_groups[1]["base_momentum"] = 1.5  # betas[0] must be in [0, 1)
    before = [dict(g) for g in opt.param_groups], s.state_dict()
    with pytest.raises(ValueError, match=r"momentum at step 1 would be .* for group 1"):
        s.step()
    assert [dict(g) for g in opt.param_groups] == before[0] and s.state_dict() == before[1]


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", ["one_cycle", "step", "polynomial"])  # (warm restarts: torch resumes off its closed form)
def test_last_epoch_resume_as_torch(name):
    """The optimiser's state (with the schedule's group keys) loaded into a fresh one, then last_epoch=k."""
    opt, topt = _pair("SGD", momentum=0.9)
    s, ts = KINDS[name](optim, opt), KINDS[name](TS, topt)
    _steps(opt, topt, s, ts, 5, name)
    opt2, topt2 = _pair("SGD", momentum=0.9)
    opt2.load_state_dict(opt.state_dict())  # holds 'initial_lr' (and 'max_lr', ...) though opt2's groups do not
    topt2.load_state_dict(topt.state_dict())
    resume = {"step": lambda m, o: m.StepLR(o, 3, 0.5, last_epoch=5),
              "polynomial": lambda m, o: m.PolynomialLR(o, total_iters=6, power=2.0, last_epoch=5),
              "one_cycle": lambda m, o: m.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=25, last_epoch=5)}[name]  # fmt: skip
    s2, ts2 = resume(optim, opt2), resume(TS, topt2)
    assert s2.last_epoch == ts2.last_epoch
    _same_groups(opt2, topt2, "resumed")
    _steps(opt2, topt2, s2, ts2, 8, f"{name} resumed")


def test_optimizer_refuses_a_bad_schedule_record_and_changes_nothing():
    opt, _ = _pair("SGD", momentum=0.9)
    optim.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    saved = opt.state_dict()
    saved["param_groups"][0]["max_lr"] = -1.0
    before = [dict(g) for g in opt.param_groups]
    with pytest.raises(ValueError, match="max_lr must be a finite number >= 0"):
        opt.load_state_dict(saved)
    assert [dict(g) for g in opt.param_groups] == before


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_load_state_dict_restores_the_settings_as_torch():
    opt, topt = _pair()
    s, ts = optim.StepLR(opt, 3, 0.5), TS.StepLR(topt, 3, 0.5)
    _steps(opt, topt, s, ts, 4, "step")
    opt2, topt2 = _pair()
    s2, ts2 = optim.StepLR(opt2, 7, 0.9), TS.StepLR(topt2, 7, 0.9)  # other settings: the saved ones win
    opt2.load_state_dict(opt.state_dict())
    topt2.load_state_dict(topt.state_dict())
    s2.load_state_dict(s.state_dict())
    ts2.load_state_dict(ts.state_dict())
    assert (s2.step_size, s2.gamma) == (ts2.step_size, ts2.gamma) == (3, 0.5)
    _steps(opt2, topt2, s2, ts2, 8, "adopted")


@pytest.mark.parametrize("bad, match", [({"step_size": 0}, "step_size must be an int >= 1"),
                                        ({"gamma": -0.5}, "gamma must be a finite number >= 0"),
                                        ({"_last_lr": [0.1]}, "one rate per parameter group")])  # fmt: skip
def test_a_refused_state_changes_nothing(bad, match):
    opt, _ = _pair()
    s = optim.StepLR(opt, 3, 0.5)
    s.step()
    before, groups = s.state_dict(), [dict(g) for g in opt.param_groups]
    with pytest.raises(ValueError, match=match):
        s.load_state_dict({**before, "last_epoch": 7, **bad})
    assert s.state_dict() == before and (s.step_size, s.gamma) == (3, 0.5)
    assert [dict(g) for g in opt.param_groups] == groups


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_a_torch_state_dict_loads():
    opt, topt = _pair()
    s, ts = optim.CosineAnnealingLR(opt, T_max=10), TS.CosineAnnealingLR(topt, T_max=10)
    _steps(opt, topt, s, ts, 3, "cosine")
    fresh, _ = _pair()
    s2 = optim.CosineAnnealingLR(fresh, T_max=10)
    s2.load_state_dict(ts.state_dict())
    assert s2.last_epoch == ts.last_epoch and s2.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-15)


COMPOSED = {
    "two_on_one": lambda m, o: [m.StepLR(o, 3, 0.5), m.ExponentialLR(o, 0.9)],
    "constant_then_exponential": lambda m, o: [m.ConstantLR(o, 0.1, 20), m.ExponentialLR(o, 0.9)],
    "chained": lambda m, o: [m.ChainedScheduler([m.ConstantLR(o, 0.1, 5), m.ExponentialLR(o, 0.9)])],
    "chained_optimizer": lambda m, o: [m.ChainedScheduler([m.PolynomialLR(o, 8), m.StepLR(o, 2)], optimizer=o)],
    "sequential": lambda m, o: [m.SequentialLR(o, [m.LinearLR(o, 0.1, total_iters=4), m.CosineAnnealingLR(o, 10)], [4])],
    "sequential_3": lambda m, o: [m.SequentialLR(o, [m.ConstantLR(o, 0.1, total_iters=2), m.ExponentialLR(o, 0.9),
                                                     m.StepLR(o, 2)], [3, 8])],
}  # fmt: skip


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", list(COMPOSED))
def test_composed_schedules_and_their_state_as_torch(name):
    opt, topt = _pair("SGD", momentum=0.9)
    ours, theirs = COMPOSED[name](optim, opt), COMPOSED[name](TS, topt)

    def run(opt, topt, ours, theirs, n, where):
        for t in range(n):
            for s, ts in zip(ours, theirs):
                s.step()
                ts.step()
            _same_groups(opt, topt, f"{where} step {t + 1}")
            np.testing.assert_allclose(ours[-1].get_last_lr(), theirs[-1].get_last_lr(), rtol=1e-12)

    run(opt, topt, ours, theirs, 6, name)
    for s, ts in zip(ours, theirs):
        _same_state(s.state_dict(), ts.state_dict(), name)
    opt2, topt2 = _pair("SGD", momentum=0.9)
    ours2, theirs2 = COMPOSED[name](optim, opt2), COMPOSED[name](TS, topt2)
    opt2.load_state_dict(opt.state_dict())
    topt2.load_state_dict(topt.state_dict())
    for s2, ts2, s, ts in zip(ours2, theirs2, ours, theirs):
        s2.load_state_dict(s.state_dict())
        ts2.load_state_dict(ts.state_dict())
    run(opt2, topt2, ours2, theirs2, 12, f"{name} reloaded")


def test_chained_scheduler_refuses_as_torch():
    opt, _ = _pair()
    other, _ = _pair()
    with pytest.raises(ValueError, match="at least one scheduler"):
        optim.ChainedScheduler([])
    with pytest.raises(ValueError, match="does not support ReduceLROnPlateau"):
        optim.ChainedScheduler([optim.ReduceLROnPlateau(opt)])
    with pytest.raises(ValueError, match="same optimizer"):
        optim.ChainedScheduler([optim.StepLR(opt, 2), optim.StepLR(other, 2)])


def test_polynomial_arguments_are_checked():
    opt, _ = _pair()
    with pytest.raises(ValueError, match="total_iters must be an int >= 1"):
        optim.PolynomialLR(opt, total_iters=0)
    with pytest.raises(ValueError, match="power must be a finite number >= 0"):
        optim.PolynomialLR(opt, power=-1.0)
    assert all("initial_lr" not in g for g in opt.param_groups)  # a refused construction writes nothing


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_reduce_on_plateau_state_dict_as_torch():
    opt, topt = _pair()
    s, ts = optim.ReduceLROnPlateau(opt, patience=1, factor=0.5), TS.ReduceLROnPlateau(topt, patience=1, factor=0.5)
    for v in (1.0, 1.0, 1.0, 0.5, 0.6, 0.7, 0.8):
        s.step(v)
        ts.step(v)
        _same_groups(opt, topt, f"metric {v}")
    _same_state(s.state_dict(), ts.state_dict(), "plateau")
    opt2, _ = _pair()
    s2 = optim.ReduceLROnPlateau(opt2, patience=5, factor=0.2)
    s2.load_state_dict(s.state_dict())
    assert (s2.patience, s2.factor, s2.num_bad_epochs, s2.best) == (1, 0.5, s.num_bad_epochs, s.best)
