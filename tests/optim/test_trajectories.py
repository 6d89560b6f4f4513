"""100-step trajectories against torch.optim in float64 (1e-8), and the lectures' formulas."""

import math

import numpy as np
import pytest

import nablagrad as ng
from nablagrad import optim

torch = pytest.importorskip("torch")

CASES = [
    ("sgd", dict(lr=0.05), optim.SGD, torch.optim.SGD),
    ("sgd_momentum", dict(lr=0.05, momentum=0.9), optim.SGD, torch.optim.SGD),
    ("sgd_nesterov", dict(lr=0.05, momentum=0.9, nesterov=True), optim.SGD, torch.optim.SGD),
    ("sgd_wd_damp", dict(lr=0.05, momentum=0.5, dampening=0.1, weight_decay=0.01), optim.SGD, torch.optim.SGD),
    ("adagrad", dict(lr=0.1), optim.AdaGrad, torch.optim.Adagrad),
    ("adagrad_decay", dict(lr=0.1, lr_decay=0.01, weight_decay=0.01), optim.AdaGrad, torch.optim.Adagrad),
    ("rmsprop", dict(lr=0.01), optim.RMSProp, torch.optim.RMSprop),
    ("rmsprop_centered", dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.01), optim.RMSProp, torch.optim.RMSprop),
    ("adam", dict(lr=0.01), optim.Adam, torch.optim.Adam),
    ("adam_wd_ams", dict(lr=0.01, weight_decay=0.01, amsgrad=True), optim.Adam, torch.optim.Adam),
    ("adamw", dict(lr=0.01, weight_decay=0.05), optim.AdamW, torch.optim.AdamW),
    # maximize=True: each steps up the gradient (the loss grows), as torch's
    ("sgd_nesterov_max", dict(lr=0.01, momentum=0.5, nesterov=True, maximize=True), optim.SGD, torch.optim.SGD),
    ("adagrad_max", dict(lr=0.1, weight_decay=0.01, maximize=True), optim.AdaGrad, torch.optim.Adagrad),
    ("rmsprop_centered_max", dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.01, maximize=True), optim.RMSProp,
     torch.optim.RMSprop),
    ("adam_wd_ams_max", dict(lr=0.01, weight_decay=0.01, amsgrad=True, maximize=True), optim.Adam, torch.optim.Adam),
    ("adamw_max", dict(lr=0.01, weight_decay=0.05, maximize=True), optim.AdamW, torch.optim.AdamW),
]


def _problem(seed):
    rng = np.random.default_rng(seed)
    A, b = rng.standard_normal((20, 5)), rng.standard_normal(20)
    W0, v0 = rng.standard_normal((5, 3)), rng.standard_normal(3)
    return A, b, W0, v0


def _loss_ng(A, b, W, v):
    return ((ng.tanh(ng.tensor(A) @ W) @ v - ng.tensor(b)) ** 2).mean()


def _loss_torch(A, b, W, v):
    return ((torch.tanh(torch.tensor(A) @ W) @ v - torch.tensor(b)) ** 2).mean()


@pytest.mark.parametrize("name, kw, ours, theirs", CASES, ids=[c[0] for c in CASES])
def test_100_step_trajectory_matches_torch(name, kw, ours, theirs, fast):
    A, b, W0, v0 = _problem(0)
    W, v = ng.tensor(W0, requires_grad=True), ng.tensor(v0, requires_grad=True)
    tW, tv = torch.tensor(W0, requires_grad=True), torch.tensor(v0, requires_grad=True)
    opt, topt = ours([W, v], **kw), theirs([tW, tv], **kw)
    for step in range(100):
        opt.zero_grad()
        _loss_ng(A, b, W, v).backward()
        opt.step()
        topt.zero_grad()
        _loss_torch(A, b, tW, tv).backward()
        topt.step()
        np.testing.assert_allclose(W.numpy(), tW.detach().numpy(), rtol=1e-8, atol=1e-10, err_msg=f"step {step}")
        np.testing.assert_allclose(v.numpy(), tv.detach().numpy(), rtol=1e-8, atol=1e-10)


def test_adam_defaults_are_the_lectures():
    p = ng.tensor([1.0], requires_grad=True)
    d = optim.Adam([p]).defaults
    assert d["lr"] == 0.001 and d["betas"] == (0.9, 0.999) and d["eps"] == 1e-8


def test_ema_momentum_follows_its_formula():
    """v ← λg + (1 − λ)v, w ← w − μv (lecture 000)."""
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal(4)
    w = ng.tensor(w0, requires_grad=True)
    opt = optim.Momentum([w], lr=0.1, forgetting=0.3)
    v, w_ref = np.zeros(4), w0.copy()
    for _ in range(20):
        opt.zero_grad()
        (ng.sin(w) * w).sum().backward()
        g = np.sin(w_ref) + w_ref * np.cos(w_ref)
        v = 0.3 * g + 0.7 * v
        w_ref = w_ref - 0.1 * v
        opt.step()
        np.testing.assert_allclose(w.numpy(), w_ref, rtol=1e-12)


def test_updates_are_in_place():
    w = ng.tensor(np.ones(3), requires_grad=True)
    buffer = w.data
    opt = optim.Adam([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    assert w.data is buffer


def test_failed_step_leaves_parameters_unchanged():
    w = ng.tensor(np.ones(3), requires_grad=True)
    v = ng.tensor(np.ones(2), requires_grad=True)
    opt = optim.SGD([w, v], lr=0.1)
    (w.sum() + v.sum()).backward()
    v.grad = ng.tensor([1.0, float("nan")], dtype="float64")
    with pytest.raises(FloatingPointError, match="left unchanged"):
        opt.step()
    np.testing.assert_array_equal(w.numpy(), 1.0)
    np.testing.assert_array_equal(v.numpy(), 1.0)


def test_param_groups_and_state_dict_roundtrip():
    a = ng.tensor(np.ones(2), requires_grad=True)
    b = ng.tensor(np.ones(2), requires_grad=True)
    opt = optim.Adam([{"params": [a]}, {"params": [b], "lr": 0.1}], lr=0.01)
    assert [g["lr"] for g in opt.param_groups] == [0.01, 0.1]
    for _ in range(3):
        opt.zero_grad()
        ((a * a).sum() + (b * b * b).sum()).backward()
        opt.step()
    sd = opt.state_dict()
    a2, b2 = ng.tensor(a.numpy().copy(), requires_grad=True), ng.tensor(b.numpy().copy(), requires_grad=True)
    opt2 = optim.Adam([{"params": [a2]}, {"params": [b2], "lr": 0.5}], lr=0.01)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[1]["lr"] == 0.1
    for o, x, y in ((opt, a, b), (opt2, a2, b2)):
        o.zero_grad()
        ((x * x).sum() + (y * y * y).sum()).backward()
        o.step()
    np.testing.assert_array_equal(a.numpy(), a2.numpy())
    np.testing.assert_array_equal(b.numpy(), b2.numpy())


def test_bad_options_are_rejected():
    w = ng.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="lr"):
        optim.SGD([w], lr=-1)
    with pytest.raises(ValueError, match="unknown option"):
        optim.SGD([{"params": [w], "betas": (0.9, 0.9)}])
    with pytest.raises(TypeError, match="can only optimise tensors"):
        optim.SGD([np.ones(2)])
    optim.SGD([ng.tensor([1.0])])  # a frozen tensor is taken, as torch takes it (tests/optim/test_frozen_parameters.py)


@pytest.mark.parametrize(
    "ours, theirs, kw",
    [
        (optim.StepLR, torch.optim.lr_scheduler.StepLR, dict(step_size=3, gamma=0.5)),
        (optim.ExponentialLR, torch.optim.lr_scheduler.ExponentialLR, dict(gamma=0.9)),
        (optim.CosineAnnealingLR, torch.optim.lr_scheduler.CosineAnnealingLR, dict(T_max=10, eta_min=0.001)),
    ],
)
def test_schedules_match_torch(ours, theirs, kw):
    w, tw = ng.tensor([1.0], requires_grad=True), torch.tensor([1.0], requires_grad=True)
    opt, topt = optim.SGD([w], lr=0.1), torch.optim.SGD([tw], lr=0.1)
    s, ts = ours(opt, **kw), theirs(topt, **kw)
    for _ in range(12):
        topt.step()
        s.step()
        ts.step()
        assert opt.param_groups[0]["lr"] == pytest.approx(topt.param_groups[0]["lr"], rel=1e-12)


def test_inverse_time_schedule_satisfies_robbins_monro():
    w = ng.tensor([1.0], requires_grad=True)
    opt = optim.SGD([w], lr=1.0)
    s = optim.InverseTimeLR(opt, gamma=1.0)
    lrs = []
    for _ in range(10000):
        s.step()
        lrs.append(opt.param_groups[0]["lr"])
    assert lrs[0] == pytest.approx(1 / 2) and lrs[9] == pytest.approx(1 / 11)
    assert lrs[-1] < 1e-3  # μ_t → 0
    assert sum(lrs) > math.log(10000) - 1  # Σμ_t diverges like log t
    assert sum(x * x for x in lrs) < math.pi**2 / 6  # Σμ_t² converges


def lecture_f(x):
    """f(x1, x2) = x1² − 10x1 + 2x2² − 20x2 + 75 (lecture 003), minimum 0 at (5, 5)."""
    return x[0] ** 2 - 10 * x[0] + 2 * x[1] ** 2 - 20 * x[1] + 75


def test_steepest_descent_takes_the_exact_step_on_a_quadratic():
    x = ng.tensor([0.0, 0.0], dtype="float64", requires_grad=True)
    opt = optim.SteepestDescent([x])
    x.grad = None
    lecture_f(x).backward()
    g = x.grad.numpy().copy()
    H = np.diag([2.0, 4.0])
    opt.step(lambda: lecture_f(x))
    assert opt.last_step_size == pytest.approx(g @ g / (g @ H @ g), rel=1e-6)
    for _ in range(30):
        x.grad = None
        lecture_f(x).backward()
        opt.step(lambda: lecture_f(x))
    np.testing.assert_allclose(x.numpy(), [5.0, 5.0], atol=1e-5)


def test_make_scheduler_builds_each_schedule_from_the_parameters_it_takes():
    """The one factory the command line and the playground share."""
    p = ng.nn.Parameter(ng.tensor(np.zeros(2)))
    opt = optim.SGD([p], lr=1.0)
    made = {name: optim.make_scheduler(name, opt, gamma=0.5, step_size=3, T_max=7) for name in optim.SCHEDULES}
    assert {name: type(s) for name, s in made.items()} == optim.SCHEDULES
    assert made["step"].step_size == 3 and made["step"].gamma == 0.5 and made["cosine"].T_max == 7
    assert made["inverse_time"].gamma == made["exponential"].gamma == 0.5
    assert optim.make_scheduler("none", opt) is None
    with pytest.raises(ValueError, match="unknown schedule 'warm'; choose from none, inverse_time"):
        optim.make_scheduler("warm", opt)


def _raising_after(n, f):
    """``f`` that raises on its ``n``-th call (a closure failing mid-search)."""
    calls = []

    def closure():
        calls.append(1)
        if len(calls) == n:
            raise RuntimeError("closure failed")
        return f()

    return closure


def test_a_line_search_whose_closure_raises_leaves_the_parameters_unchanged():
    x = ng.tensor([0.0, 0.0], dtype="float64", requires_grad=True)
    opt = optim.SteepestDescent([x])
    lecture_f(x).backward()
    with pytest.raises(RuntimeError, match="closure failed"):
        opt.step(_raising_after(3, lambda: lecture_f(x)))
    np.testing.assert_array_equal(x.numpy(), [0.0, 0.0])


def test_levenberg_marquardt_whose_closure_raises_leaves_parameters_and_damping_unchanged():
    x = ng.tensor([3.0, -1.0], dtype="float64", requires_grad=True)
    opt = optim.LevenbergMarquardt([x])
    damping = opt.damping
    residual = _raising_after(2, lambda: ng.stack([x[0] - 5.0, 2.0 * (x[1] - 5.0)]) * 1e9)
    with pytest.raises(RuntimeError, match="closure failed"):
        opt.step(residual)
    np.testing.assert_array_equal(x.numpy(), [3.0, -1.0])
    assert opt.damping == damping


def test_an_update_that_raises_midway_changes_no_parameter_and_no_state():
    """A subclass whose update fails on the second parameter (after writing the first): the step
    puts the first back, so a failed step changes nothing, whatever it raised."""

    class Fragile(ng.optim.SGD):
        calls = 0

        def update(self, p, g, state, group):
            Fragile.calls += 1
            if Fragile.calls == 2:
                raise KeyError("broken update")
            super().update(p, g, state, group)

    a = ng.nn.Parameter(np.array([1.0, 2.0]))
    b = ng.nn.Parameter(np.array([[3.0]]))
    opt = Fragile([{"params": [a]}, {"params": [b]}], lr=0.5, momentum=0.9)
    (a.sum() + b.sum()).backward()
    with pytest.raises(KeyError, match="broken update"):
        opt.step()
    np.testing.assert_array_equal(a.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(b.numpy(), [[3.0]])
    assert all("momentum_buffer" not in s or not np.any(ng.tensor(s["momentum_buffer"]).numpy()) for s in opt.state.values())


@pytest.mark.parametrize("ours, theirs", [(optim.Adam, torch.optim.Adam), (optim.AdamW, torch.optim.AdamW)])
def test_half_precision_parameters_step_like_torch(ours, theirs, fast, array_namespace):
    """float16 parameters (which the compiled kernels do not take) step as torch.optim's do (with an ε that
    float16 can hold: 1e-8 rounds to 0, and then a zero gradient gives 0/0 in both libraries)."""
    if array_namespace != "numpy":
        pytest.skip("the array API standard has no float16")
    rng = np.random.default_rng(7)
    w0, b0 = rng.standard_normal((70, 60)).astype(np.float16), rng.standard_normal(60).astype(np.float16)
    params = [ng.tensor(w0, requires_grad=True), ng.tensor(b0, requires_grad=True)]
    tparams = [torch.tensor(w0, requires_grad=True), torch.tensor(b0, requires_grad=True)]
    opt, topt = ours(params, lr=1e-2, eps=1e-4), theirs(tparams, lr=1e-2, eps=1e-4)
    for _ in range(10):
        for p, tp in zip(params, tparams):
            g = rng.standard_normal(p.shape).astype(np.float16)
            p.grad, tp.grad = ng.tensor(g), torch.tensor(g)
        opt.step()
        topt.step()
    for p, tp in zip(params, tparams):
        assert p.dtype == np.float16
        np.testing.assert_allclose(p.numpy().astype(np.float32), tp.detach().numpy().astype(np.float32), rtol=0, atol=2e-2)


def test_zero_grad_set_to_none_false_zeroes_the_same_grad_as_torch():
    p, tp = ng.nn.Parameter(np.ones(3)), torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    opt, topt = optim.SGD([p], lr=0.1), torch.optim.SGD([tp], lr=0.1)
    (p * p).sum().backward()
    (tp * tp).sum().backward()
    g, tg = p.grad, tp.grad
    opt.zero_grad(set_to_none=False)
    topt.zero_grad(set_to_none=False)
    assert p.grad is g and tp.grad is tg
    np.testing.assert_array_equal(p.grad.numpy(), tp.grad.numpy())
    np.testing.assert_array_equal(p.grad.numpy(), np.zeros(3))
    opt.zero_grad()
    topt.zero_grad()
    assert p.grad is None and tp.grad is None


def test_scheduler_state_dict_round_trip_restores_get_last_lr_as_torch():
    def pair(cls, tcls):
        p, tp = ng.nn.Parameter(np.ones(2)), torch.nn.Parameter(torch.ones(2))
        opt, topt = optim.SGD([p], lr=0.1), torch.optim.SGD([tp], lr=0.1)
        return opt, topt, cls(opt, step_size=2, gamma=0.5), tcls(topt, step_size=2, gamma=0.5)

    opt, topt, s, ts = pair(optim.StepLR, torch.optim.lr_scheduler.StepLR)
    for _ in range(5):
        opt.step(), s.step(), topt.step(), ts.step()
    _, _, s2, ts2 = pair(optim.StepLR, torch.optim.lr_scheduler.StepLR)
    s2.load_state_dict(s.state_dict())
    ts2.load_state_dict(ts.state_dict())
    np.testing.assert_allclose(s2.get_last_lr(), ts2.get_last_lr())
    s2.step(), ts2.step()  # chained, as torch's: the fresh optimiser's lr is scaled (the optimiser's state
    np.testing.assert_allclose(s2.get_last_lr(), ts2.get_last_lr())  # is not the schedule's: load it too)
    assert s2.get_last_lr() == [0.05]
    before = s2.state_dict()
    with pytest.raises(TypeError, match="StepLR.load_state_dict: expected the dict of state_dict"):
        s2.load_state_dict({"epoch": 3})
    assert s2.state_dict() == before


def test_scheduler_arguments_are_checked():
    opt = optim.SGD([ng.nn.Parameter(np.ones(2))], lr=0.1)
    with pytest.raises(TypeError, match="not an Optimizer"):
        torch.optim.lr_scheduler.StepLR([1], step_size=1)
    with pytest.raises(TypeError, match="StepLR: optimizer must be an ng.optim optimiser"):
        optim.StepLR([1], step_size=1)
    with pytest.raises(ValueError, match="step_size must be an int >= 1"):
        optim.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="T_max must be a number > 0"):
        optim.CosineAnnealingLR(opt, T_max=0)
