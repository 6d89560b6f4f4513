"""Optimisers against torch.optim 2.13 in float64: every option at a non-default value (and maximize), any option
given as a 0-d tensor (torch takes SGD's tensor ``weight_decay``, and a 0-d tensor anywhere), torch's state dicts
that hold tensors in their groups (a schedule's ``initial_lr`` on a tensor ``lr``), and Adagrad's per-group
``initial_accumulator_value``."""

import numpy as np
import pytest

import nablagrad as ng
from nablagrad import optim

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _torch_in_float64():
    """torch's 0-d state (NAdam's mu_product, ASGD's eta and mu) and 0-d tensors in float64, as nablagrad's."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)

_RNG = np.random.default_rng(21)
_A, _B = _RNG.standard_normal((7, 5)), _RNG.standard_normal(7)
_P0 = [_RNG.standard_normal(5), _RNG.standard_normal(5)]


def _grad(p: np.ndarray) -> np.ndarray:
    """A bounded, non-linear gradient (so maximize cannot diverge within 30 steps)."""
    return _A.T @ (np.tanh(_A @ p) - _B) + 0.3 * np.sin(3 * p)


def _pair(ours, theirs, kw, tkw=None, groups=None):
    ps = [ng.tensor(x.copy(), requires_grad=True) for x in _P0]
    tps = [torch.tensor(x.copy(), requires_grad=True) for x in _P0]
    if groups is None:
        return ps, tps, ours(ps, **kw), theirs(tps, **(kw if tkw is None else tkw))
    og = [{"params": [p], **g} for p, g in zip(ps, groups)]
    tg = [{"params": [p], **g} for p, g in zip(tps, groups)]
    return ps, tps, ours(og, **kw), theirs(tg, **(kw if tkw is None else tkw))


def _run(ps, tps, opt, topt, steps=30, rtol=1e-10):
    for k in range(steps):
        for p, tp in zip(ps, tps):
            p.grad = ng.tensor(_grad(p.numpy()))
            tp.grad = torch.tensor(_grad(tp.detach().numpy()))
        opt.step()
        topt.step()
        for p, tp in zip(ps, tps):
            np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=rtol, atol=1e-12, err_msg=f"step {k}")


# every option away from its default at once, then the same with maximize
ALL_OPTIONS = {
    "SGD": dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.1),
    "SGD-nesterov": dict(lr=0.05, momentum=0.8, weight_decay=0.1, nesterov=True),
    "Adam": dict(lr=0.05, betas=(0.5, 0.8), eps=0.1, weight_decay=0.1, amsgrad=True, decoupled_weight_decay=True),
    "AdamW": dict(lr=0.05, betas=(0.5, 0.8), eps=1e-3, weight_decay=0.2, amsgrad=True),
    "Adagrad": dict(lr=0.1, lr_decay=0.1, weight_decay=0.1, initial_accumulator_value=0.5, eps=0.1),
    "RMSprop": dict(lr=0.01, alpha=0.5, eps=0.1, weight_decay=0.1, momentum=0.9, centered=True),
    "Adamax": dict(lr=0.05, betas=(0.5, 0.8), eps=0.1, weight_decay=0.1),
    "NAdam": dict(lr=0.05, betas=(0.5, 0.8), eps=1e-3, weight_decay=0.1, momentum_decay=0.5, decoupled_weight_decay=True),
    "RAdam": dict(lr=0.05, betas=(0.5, 0.8), eps=1e-3, weight_decay=0.1, decoupled_weight_decay=True),
    "Adadelta": dict(lr=0.3, rho=0.5, eps=0.1, weight_decay=0.1),
    "Rprop": dict(lr=0.1, etas=(0.3, 2.0), step_sizes=(1e-3, 0.05)),
    "ASGD": dict(lr=0.1, lambd=0.1, alpha=2.0, t0=5, weight_decay=0.1),
}


@pytest.mark.parametrize("maximize", [False, True])
@pytest.mark.parametrize("case", sorted(ALL_OPTIONS))
def test_every_option_away_from_its_default_follows_torch_for_30_steps(case, maximize):
    name = case.split("-")[0]
    kw = {**ALL_OPTIONS[case], "maximize": maximize}
    _run(*_pair(getattr(optim, name), getattr(torch.optim, name), kw))


def test_sgd_takes_a_tensor_weight_decay_as_torch_does():
    """torch 2.13's SGD signature: ``weight_decay: float | Tensor``; refused here before the fix."""
    kw = dict(lr=0.05, momentum=0.9, weight_decay=torch.tensor(0.1))
    ps, tps, opt, topt = _pair(optim.SGD, torch.optim.SGD, kw)
    assert opt.param_groups[0]["weight_decay"] == pytest.approx(0.1) and isinstance(opt.param_groups[0]["weight_decay"], float)
    _run(ps, tps, opt, topt)


@pytest.mark.parametrize("name, option, value", [
    ("Adam", "eps", 0.1), ("Adam", "weight_decay", 0.1), ("RMSprop", "momentum", 0.5), ("Adagrad", "lr_decay", 0.1),
    ("Rprop", "etas", (0.4, 1.3)),
])  # fmt: skip
def test_any_option_as_a_0d_tensor_is_its_number(name, option, value):
    """torch's updates take a 0-d tensor for any numeric option; here it is read as its number."""
    as_tensor = tuple(torch.tensor(v) for v in value) if isinstance(value, tuple) else torch.tensor(value)
    ps, tps, opt, topt = _pair(getattr(optim, name), getattr(torch.optim, name), {"lr": 0.03, option: as_tensor},
                               tkw={"lr": 0.03, option: value})  # fmt: skip
    assert opt.param_groups[0][option] == pytest.approx(value)
    _run(ps, tps, opt, topt)


def test_a_tensor_option_with_several_elements_or_a_bad_value_is_refused_naming_it():
    p = ng.tensor(np.ones(2), requires_grad=True)
    with pytest.raises(ValueError, match="weight_decay must hold one element"):
        optim.SGD([p], weight_decay=torch.tensor([0.1, 0.2]))
    with pytest.raises(ValueError, match="weight_decay must be a finite number >= 0"):
        optim.SGD([p], weight_decay=torch.tensor(-0.1))
    opt = optim.SGD([p], lr=0.1)
    with pytest.raises(ValueError, match="momentum must be"):
        opt.add_param_group({"params": [ng.tensor(np.ones(2), requires_grad=True)], "momentum": torch.tensor(-1.0)})
    assert len(opt.param_groups) == 1  # a refused group changes nothing


def test_torch_state_with_a_tensor_lr_and_a_schedule_record_loads_and_continues_as_torch():
    """torch on a tensor lr keeps ``lr`` and a schedule's ``initial_lr`` as tensors in its groups."""
    ps, tps, opt, topt = _pair(optim.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9),
                               tkw=dict(lr=torch.tensor(0.05), momentum=0.9))  # fmt: skip
    torch.optim.lr_scheduler.StepLR(topt, 3, gamma=0.5)  # writes initial_lr = tensor(0.05) into torch's groups
    _run(ps, tps, opt, topt, steps=3)
    saved = topt.state_dict()
    assert isinstance(saved["param_groups"][0]["initial_lr"], torch.Tensor)
    fresh = [ng.tensor(p.numpy().copy(), requires_grad=True) for p in ps]
    opt2 = optim.SGD(fresh, lr=0.05, momentum=0.9)
    opt2.param_groups[0]["initial_lr"] = 0.05
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]["initial_lr"] == pytest.approx(0.05)
    _run(fresh, tps, opt2, topt, steps=10)


def test_adagrad_uses_each_group_s_initial_accumulator_value():
    """torch 2.13 fills every ``sum`` with the constructor's value, ignoring a group's own (documented difference):
    the oracle is torch's Adagrad built with that group's value as its constructor argument."""
    groups = [dict(initial_accumulator_value=0.0), dict(initial_accumulator_value=0.7, eps=0.1)]
    ps = [ng.tensor(x.copy(), requires_grad=True) for x in _P0]
    opt = optim.Adagrad([{"params": [p], **g} for p, g in zip(ps, groups)], lr=0.1)
    tps = [torch.tensor(x.copy(), requires_grad=True) for x in _P0]
    topts = [torch.optim.Adagrad([tp], lr=0.1, **g) for tp, g in zip(tps, groups)]

    class Both:
        def step(self):
            for t in topts:
                t.step()

    _run(ps, tps, opt, Both())
