"""Session 18 (C): a tensor ``lr`` / ``betas`` (torch.optim takes 1-element tensors) and ``scheduler.step(epoch)``:
CosineAnnealingWarmRestarts' fractional epochs (its documented per-batch form), the other schedules' deprecated
closed-form jump and ReduceLROnPlateau's ``epoch``, each against torch 2.x."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(18)
A, B, W0 = RNG.normal(size=(6, 4)), RNG.normal(size=6), RNG.normal(size=4)


def _trajectories(name: str, kw: dict, lr_ng, lr_torch, steps: int = 30) -> tuple[np.ndarray, np.ndarray, object]:
    """``steps`` steps of ng's and torch's optimiser ``name`` on the same least-squares problem, float64."""
    p = ng.nn.Parameter(ng.tensor(W0.copy()))
    t = torch.tensor(W0.copy(), requires_grad=True)
    ours = getattr(ng.optim, name)([p], lr=lr_ng, **kw)
    theirs = getattr(torch.optim, name)([t], lr=lr_torch, **kw)
    a, b = torch.tensor(A), torch.tensor(B)
    for _ in range(steps):
        ours.zero_grad()
        theirs.zero_grad()
        ((ng.matmul(ng.tensor(A), p) - ng.tensor(B)) ** 2).sum().backward()
        ((a @ t - b) ** 2).sum().backward()
        ours.step()
        theirs.step()
    return p.numpy(), t.detach().numpy(), ours


@pytest.mark.parametrize("name, kw", [("SGD", dict(momentum=0.9, nesterov=True)), ("Adam", dict(amsgrad=True)),
                                      ("AdamW", dict(weight_decay=0.1)), ("RMSprop", dict(centered=True)),
                                      ("Adagrad", {})])  # fmt: skip
@pytest.mark.parametrize("make", [lambda v: ng.tensor(np.float64(v)), lambda v: np.array(v)], ids=["ng", "numpy"])
def test_a_0d_tensor_lr_steps_as_torchs_tensor_lr(name, kw, make):
    ours, theirs, opt = _trajectories(name, kw, make(0.01), torch.tensor(0.01, dtype=torch.float64))
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    assert opt.param_groups[0]["lr"] == 0.01 and isinstance(opt.param_groups[0]["lr"], float)  # a plain number kept


def test_tensor_betas_step_as_torchs():
    p, t = ng.nn.Parameter(ng.tensor(W0.copy())), torch.tensor(W0.copy(), requires_grad=True)
    ours = ng.optim.Adam([p], lr=0.05, betas=(ng.tensor(np.float64(0.8)), np.array(0.95)))
    theirs = torch.optim.Adam([t], lr=0.05, betas=(torch.tensor(0.8, dtype=torch.float64),
                                                            torch.tensor(0.95, dtype=torch.float64)))
    for _ in range(20):
        p.grad, t.grad = ng.tensor(np.sin(p.numpy())), torch.sin(t.detach())
        ours.step()
        theirs.step()
    np.testing.assert_allclose(p.numpy(), t.detach().numpy(), rtol=1e-10)
    assert ours.param_groups[0]["betas"] == (0.8, 0.95)


def test_a_tensor_lr_of_two_elements_is_refused_as_torch_refuses_it_and_changes_nothing():
    p = ng.nn.Parameter(ng.tensor(np.ones(2)))
    with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
        torch.optim.SGD([torch.ones(2, requires_grad=True)], lr=torch.tensor([0.1, 0.2]))
    with pytest.raises(ValueError, match=r"SGD: a tensor lr must hold one element .*got shape \(2,\)"):
        ng.optim.SGD([p], lr=ng.tensor([0.1, 0.2]))
    opt = ng.optim.SGD([p], lr=0.1)
    q = ng.nn.Parameter(ng.tensor(np.ones(3)))
    with pytest.raises(ValueError, match="lr must be a finite number >= 0"):
        opt.add_param_group({"params": [q], "lr": ng.tensor(-0.5)})
    assert len(opt.param_groups) == 1 and opt.param_groups[0]["lr"] == 0.1
    opt.add_param_group({"params": [q], "lr": ng.tensor(np.float64(0.5))})  # the refused group left no trace
    assert opt.param_groups[1]["lr"] == 0.5


def test_a_saved_group_with_a_tensor_lr_loads_as_its_number():
    opt = ng.optim.SGD([ng.nn.Parameter(ng.tensor(np.ones(2)))], lr=0.1, momentum=0.9)
    saved = opt.state_dict()
    saved["param_groups"][0]["lr"] = torch.tensor(0.25, dtype=torch.float64)  # as torch.optim saves a tensor lr
    opt.load_state_dict(saved)
    assert opt.param_groups[0]["lr"] == 0.25


def _pair(lr: float = 0.1):
    p = ng.nn.Parameter(ng.tensor(np.ones(2)))
    t = torch.ones(2, requires_grad=True)
    return ng.optim.SGD([p], lr=lr, momentum=0.9), torch.optim.SGD([t], lr=lr, momentum=0.9)


def _run(make, calls) -> tuple[list, list]:
    """Each library's schedule from ``make(lr_scheduler, optimizer)`` stepped by ``calls`` (None: ``step()``, else
    ``step(epoch)``); after each: the rate, last_epoch, get_last_lr and (where there is one) T_cur and T_i."""
    out = []
    for module, opt in zip((ng.optim.lr_scheduler, torch.optim.lr_scheduler), _pair()):
        s, seen = make(module, opt), []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's (and our) deprecation of step(epoch)
            for c in calls:
                s.step() if c is None else s.step(c)
                seen.append((opt.param_groups[0]["lr"], s.last_epoch, s.get_last_lr()[0],
                             getattr(s, "T_cur", 0), getattr(s, "T_i", 0)))  # fmt: skip
        out.append(seen)
    return out[0], out[1]


@pytest.mark.parametrize("T_0, T_mult", [(3, 1), (3, 2), (2, 3)])
def test_warm_restarts_take_fractional_epochs_as_torch(T_0, T_mult):
    """PyTorch's documented form ``scheduler.step(epoch + i / iters)``, interleaved with plain ``step()``."""
    calls = [k / 4 for k in range(0, 60)] + [None, None, 20.9, None, 0, None, 4.5, 26, None]
    ours, theirs = _run(lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=T_0, T_mult=T_mult, eta_min=0.01), calls)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_warm_restarts_state_dict_keeps_the_fraction_as_torchs():
    states = []
    for module, opt in zip((ng.optim.lr_scheduler, torch.optim.lr_scheduler), _pair()):
        s = module.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2)
        s.step(4.25)
        saved = s.state_dict()
        fresh = module.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2)
        fresh.load_state_dict(saved)
        fresh.step()
        states.append((saved["T_cur"], saved["T_i"], saved["last_epoch"], fresh.T_cur, opt.param_groups[0]["lr"]))
    np.testing.assert_allclose(states[0], states[1], rtol=1e-12)


def test_warm_restarts_refuse_a_negative_epoch_and_change_nothing():
    opt, topt = _pair()
    s = ng.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2)
    s.step(1.5)
    before = (s.state_dict(), opt.param_groups[0]["lr"])
    with pytest.raises(ValueError, match="non-negative epoch"):
        torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(topt, T_0=3).step(-1)
    with pytest.raises(ValueError, match=r"CosineAnnealingWarmRestarts.step: expected a non-negative epoch.*got -1"):
        s.step(-1)
    assert (s.state_dict(), opt.param_groups[0]["lr"]) == before


SCHEDULES = {
    "StepLR": lambda m, o: m.StepLR(o, 2, gamma=0.5),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, [2, 4], gamma=0.5),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, 10, eta_min=0.01),
    "LinearLR": lambda m, o: m.LinearLR(o, 0.2, 1.0, 6),
    "ConstantLR": lambda m, o: m.ConstantLR(o, 0.2, 4),
    "PolynomialLR": lambda m, o: m.PolynomialLR(o, 8, 2.0),
    "LambdaLR": lambda m, o: m.LambdaLR(o, lambda e: 1 / (1 + e)),
    "OneCycleLR": lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=20),
    "CyclicLR": lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=3),
}


@pytest.mark.parametrize("name", SCHEDULES)
def test_step_with_an_epoch_jumps_to_the_closed_form_as_torchs(name):
    ours, theirs = _run(SCHEDULES[name], [None, 5, None, None, 2, None, 0, None])
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a[:3], b[:3], rtol=1e-12, atol=1e-15)


def test_step_with_an_epoch_warns_as_torchs_and_a_bad_epoch_changes_nothing():
    opt, _ = _pair()
    s = ng.optim.lr_scheduler.StepLR(opt, 2, gamma=0.5)
    with pytest.warns(UserWarning, match="deprecated") as record:
        s.step(3)
    assert record[0].filename == __file__  # the warning points at the caller's line
    assert (opt.param_groups[0]["lr"], s.last_epoch) == (0.05, 3)
    for bad in (-1, 2.5, "3", float("nan")):
        with pytest.raises(ValueError, match=r"StepLR.step: epoch must be a whole number >= 0"):
            s.step(bad)
        assert (opt.param_groups[0]["lr"], s.last_epoch, s.get_last_lr()) == (0.05, 3, [0.05])


def test_reduce_on_plateau_takes_torchs_epoch_argument():
    seen = []
    for module, opt in zip((ng.optim.lr_scheduler, torch.optim.lr_scheduler), _pair()):
        s = module.ReduceLROnPlateau(opt, patience=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            s.step(1.0)
            s.step(2.0, 7)
            s.step(2.0)
        seen.append((s.last_epoch, opt.param_groups[0]["lr"], s.num_bad_epochs))
    assert seen[0] == pytest.approx(seen[1], rel=1e-15)


@pytest.mark.parametrize("name", ["NAdam", "ASGD"])
def test_torchs_saved_state_with_0d_tensor_entries_loads_and_steps_on_as_torch(name):
    """NAdam's ``mu_product``, ASGD's ``eta``/``mu``/``step`` are 0-d tensors in torch's state (arrays after
    ``.numpy()``): each loads as its number, and the next steps equal torch's."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # so that torch keeps those entries in float64, as we do
    try:
        t = torch.tensor(W0.copy(), requires_grad=True)
        theirs = getattr(torch.optim, name)([t], lr=0.01)
        for _ in range(3):
            t.grad = torch.sin(t.detach())
            theirs.step()
        saved = theirs.state_dict()
        saved["state"] = {i: {k: v.numpy() if isinstance(v, torch.Tensor) else v for k, v in s.items()}
                          for i, s in saved["state"].items()}  # fmt: skip
        p = ng.nn.Parameter(ng.tensor(t.detach().numpy().copy()))
        ours = getattr(ng.optim, name)([p], lr=0.5)
        ours.load_state_dict(saved)
        for _ in range(3):
            p.grad, t.grad = ng.tensor(np.sin(p.numpy())), torch.sin(t.detach())
            ours.step()
            theirs.step()
        np.testing.assert_allclose(p.numpy(), t.detach().numpy(), rtol=1e-12)
    finally:
        torch.set_default_dtype(previous)


@pytest.mark.parametrize("T_mult", [1, 2, 3])
@pytest.mark.parametrize("k", [0, 4, 9])
def test_warm_restarts_resumed_with_last_epoch_continue_the_uninterrupted_run(T_mult, k):
    """Resumed after step ``k`` (``initial_lr`` in the groups), the rates equal the uninterrupted run's: the
    formula's ``T_cur``, ``T_i`` at every step.  (torch resumes with ``T_cur = last_epoch`` taken as within the first
    period, pytorch/pytorch#88791: equal to this for ``T_mult = 1`` only, where it is checked against torch too.)"""
    whole, _ = _pair()
    s = ng.optim.lr_scheduler.CosineAnnealingWarmRestarts(whole, T_0=2, T_mult=T_mult, eta_min=0.01)
    expected = []
    for _ in range(k + 8):
        s.step()
        expected.append(whole.param_groups[0]["lr"])
    resumed, theirs = _pair()
    for opt in (resumed, theirs):
        opt.param_groups[0]["initial_lr"] = 0.1
    r = ng.optim.lr_scheduler.CosineAnnealingWarmRestarts(resumed, T_0=2, T_mult=T_mult, eta_min=0.01, last_epoch=k)
    t = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(theirs, T_0=2, T_mult=T_mult, eta_min=0.01, last_epoch=k)
    got, torch_got = [], []
    for _ in range(7):
        r.step()
        t.step()
        got.append(resumed.param_groups[0]["lr"])
        torch_got.append(theirs.param_groups[0]["lr"])
    np.testing.assert_allclose(got, expected[k + 1:], rtol=1e-12)
    if T_mult == 1:
        np.testing.assert_allclose(got, torch_got, rtol=1e-12)
