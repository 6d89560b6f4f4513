"""OneCycleLR cycles the momentum as torch.optim.lr_scheduler.OneCycleLR does (cycle_momentum=True by default):
SGD's ``momentum``, RMSprop's ``momentum`` or the Adam family's ``betas[0]``, step by step over 100 steps of a
real run, with the rates and the parameters, across a state_dict round trip, and refused where torch refuses."""

import numpy as np
import pytest

import nablagrad as ng
from nablagrad import optim

torch = pytest.importorskip("torch")

STEPS = 100
W0 = (np.array([1.0, -2.0, 0.5]), np.array([[0.3, -0.7], [1.1, 0.2]]))
CURVATURE = (np.array([1.0, 3.0, 0.5]), np.array([[2.0, 0.4], [1.0, 5.0]]))

OPTIMISERS = {  # name -> (class name, options); two groups, the second with its own lr
    "sgd": ("SGD", {"momentum": 0.9}),
    "sgd_nesterov": ("SGD", {"momentum": 0.9, "nesterov": True}),
    "adam": ("Adam", {}),
    "adamw": ("AdamW", {"weight_decay": 0.01}),
    "rmsprop": ("RMSprop", {"momentum": 0.5}),
}
SCHEDULES = {  # name -> OneCycleLR options (the same for both libraries)
    "default": {"max_lr": 0.05},
    "per_group": {"max_lr": [0.05, 0.02], "base_momentum": [0.8, 0.7], "max_momentum": [0.9, 0.95]},
    "three_phase_linear": {"max_lr": 0.05, "three_phase": True, "anneal_strategy": "linear", "pct_start": 0.25},
    "factors": {"max_lr": 0.1, "div_factor": 10.0, "final_div_factor": 100.0, "pct_start": 0.4},
    "epochs": {"max_lr": 0.05, "epochs": 4, "steps_per_epoch": 25},
    "no_cycle": {"max_lr": 0.05, "cycle_momentum": False},
}


def _make(lib, kind: str):
    """Our optimiser or torch's on the same two float64 parameter groups."""
    cls, kw = OPTIMISERS[kind]
    if lib == "ng":
        params = [ng.nn.Parameter(ng.tensor(w.copy())) for w in W0]
        return params, getattr(optim, cls)([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.003}], lr=0.01, **kw)
    params = [torch.tensor(w.copy(), requires_grad=True) for w in W0]
    return params, getattr(torch.optim, cls)([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.003}], lr=0.01, **kw)


def _schedule(lib, opt, name: str):
    kw = dict(SCHEDULES[name])
    if "epochs" not in kw:
        kw["total_steps"] = STEPS
    return (optim.OneCycleLR if lib == "ng" else torch.optim.lr_scheduler.OneCycleLR)(opt, **kw)


def _loss_step(lib, params, opt) -> None:
    """``Σ c ⊙ w²`` over both groups, back-propagated, then one optimiser step."""
    opt.zero_grad()
    if lib == "ng":
        loss = sum((ng.tensor(c) * p * p).sum() for c, p in zip(CURVATURE, params))
    else:
        loss = sum((torch.tensor(c) * p * p).sum() for c, p in zip(CURVATURE, params))
    loss.backward()
    opt.step()


def _hyper(opt) -> list[tuple]:
    """Each group's rate and momentum (``momentum`` or ``betas``), as floats."""
    out = []
    for g in opt.param_groups:
        m = g.get("betas", g.get("momentum"))
        out.append((float(g["lr"]), *(np.atleast_1d(np.asarray(m, dtype=float)).tolist())))
    return out


def _same(ours, theirs) -> None:
    (p, opt, s), (tp, topt, ts) = ours, theirs
    np.testing.assert_allclose(_hyper(opt), _hyper(topt), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(s.get_last_lr(), ts.get_last_lr(), rtol=1e-12, atol=1e-15)
    for a, b in zip(p, tp):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-9, atol=1e-12)
    assert s.last_epoch == ts.last_epoch


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("kind", OPTIMISERS)
def test_rates_momenta_and_parameters_follow_torch_for_100_steps(kind, schedule):
    runs = []
    for lib in ("ng", "torch"):
        params, opt = _make(lib, kind)
        runs.append((params, opt, _schedule(lib, opt, schedule)))
    ours, theirs = runs
    _same(ours, theirs)
    seen = {_hyper(ours[1])[0][1]}
    for _ in range(STEPS - 1):  # a cycle of total_steps has total_steps - 1 steps after the initial one
        for lib, (params, opt, s) in zip(("ng", "torch"), runs):
            _loss_step(lib, params, opt)
            s.step()
        _same(ours, theirs)
        seen.add(_hyper(ours[1])[0][1])
    own = OPTIMISERS[kind][1].get("momentum", 0.9)  # the optimiser's momentum or beta1 as built
    if SCHEDULES[schedule].get("cycle_momentum", True):
        assert len(seen) > 10 and own not in seen or own == 0.9
    else:
        assert seen == {own}


@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_state_dict_round_trip_mid_cycle_continues_torchs_trajectory(kind):
    """Stop at step 40, build a fresh optimiser and schedule, load both state dicts, go on: torch's run uninterrupted."""
    tp, topt = _make("torch", kind)
    ts = _schedule("torch", topt, "three_phase_linear")
    p, opt = _make("ng", kind)
    s = _schedule("ng", opt, "three_phase_linear")
    for t in range(1, STEPS):
        if t == 40:
            p2, opt2 = _make("ng", kind)
            s2 = _schedule("ng", opt2, "three_phase_linear")
            with ng.no_grad():
                for a, b in zip(p2, p):
                    a.copy_(b.numpy())
            opt2.load_state_dict(opt.state_dict())
            s2.load_state_dict(s.state_dict())
            p, opt, s = p2, opt2, s2
            _same((p, opt, s), (tp, topt, ts))
        _loss_step("ng", p, opt)
        s.step()
        _loss_step("torch", tp, topt)
        ts.step()
        _same((p, opt, s), (tp, topt, ts))


def test_an_optimiser_without_momentum_is_refused_as_torch_refuses_it():
    w = ng.nn.Parameter(ng.tensor(np.ones(2)))
    opt = optim.Adagrad([w], lr=0.1)
    topt = torch.optim.Adagrad([torch.ones(2, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="support momentum or beta1"):
        torch.optim.lr_scheduler.OneCycleLR(topt, max_lr=0.1, total_steps=10)
    before = [dict(g) for g in opt.param_groups]
    with pytest.raises(ValueError, match=r"(?i)adagrad has neither; pass cycle_momentum=False"):
        optim.OneCycleLR(opt, max_lr=0.1, total_steps=10)
    assert opt.param_groups == before
    s = optim.OneCycleLR(opt, max_lr=0.1, total_steps=10, cycle_momentum=False)
    ts = torch.optim.lr_scheduler.OneCycleLR(topt, max_lr=0.1, total_steps=10, cycle_momentum=False)
    for _ in range(9):
        s.step()
        ts.step()
        assert opt.param_groups[0]["lr"] == pytest.approx(topt.param_groups[0]["lr"], rel=1e-12)


@pytest.mark.parametrize(
    ("kind", "kw", "message"),
    [
        ("adam", {"max_momentum": 1.0}, r"max_momentum\[0\] = 1.0 would set Adam's betas\[0\] out of range"),
        ("sgd", {"base_momentum": [0.8, float("nan")]}, r"base_momentum\[1\] = nan would set SGD's momentum"),
        ("sgd", {"base_momentum": [0.8]}, "expected 2 values for base_momentum"),
        ("adam", {"max_momentum": "0.9"}, r"max_momentum\[0\] = '0.9'"),
    ],
)
def test_momenta_out_of_the_optimisers_range_are_refused_and_change_nothing(kind, kw, message):
    _, opt = _make("ng", kind)
    before = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
    with pytest.raises(ValueError, match=message):
        optim.OneCycleLR(opt, max_lr=0.1, total_steps=10, **kw)
    assert [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups] == before


def test_a_refused_step_past_the_cycle_leaves_rate_and_momentum():
    _, opt = _make("ng", "adam")
    s = optim.OneCycleLR(opt, max_lr=0.1, total_steps=3)
    for _ in range(3):
        s.step()
    held = _hyper(opt)
    with pytest.raises(ValueError, match="tried to step 4 times"):
        s.step()
    assert _hyper(opt) == held and s.last_epoch == 3
