"""Adamax, NAdam, RAdam, Adadelta, Rprop and ASGD against torch.optim: 100-step trajectories from the same
start (float64 to 1e-10 relative, float32 to float32's precision), the state after them (same keys, same
values), state_dict round trips, parameter groups with their own lr, and refused steps that change nothing."""

import copy
import functools

import numpy as np
import pytest

import nablagrad as ng
from nablagrad import optim

torch = pytest.importorskip("torch")

CASES = [
    ("adamax", optim.Adamax, torch.optim.Adamax, dict(lr=0.01)),
    ("adamax_wd", optim.Adamax, torch.optim.Adamax, dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05)),
    ("adamax_max", optim.Adamax, torch.optim.Adamax, dict(lr=0.01, betas=(0.3, 0.99), weight_decay=0.1, maximize=True)),
    ("nadam", optim.NAdam, torch.optim.NAdam, dict(lr=0.01)),
    ("nadam_wd", optim.NAdam, torch.optim.NAdam, dict(lr=0.01, weight_decay=0.05, momentum_decay=0.01)),
    ("nadamw", optim.NAdam, torch.optim.NAdam, dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("nadam_max", optim.NAdam, torch.optim.NAdam, dict(lr=0.01, betas=(0.3, 0.99), weight_decay=0.05, maximize=True)),
    ("radam", optim.RAdam, torch.optim.RAdam, dict(lr=0.01)),
    ("radam_wd", optim.RAdam, torch.optim.RAdam, dict(lr=0.01, betas=(0.3, 0.9), weight_decay=0.05)),
    ("radamw_max", optim.RAdam, torch.optim.RAdam,
     dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("adadelta", optim.Adadelta, torch.optim.Adadelta, dict()),
    ("adadelta_wd", optim.Adadelta, torch.optim.Adadelta, dict(lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.05)),
    ("adadelta_max", optim.Adadelta, torch.optim.Adadelta, dict(lr=0.5, weight_decay=0.05, maximize=True)),
    ("rprop", optim.Rprop, torch.optim.Rprop, dict()),
    ("rprop_etas", optim.Rprop, torch.optim.Rprop, dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2))),
    ("rprop_max", optim.Rprop, torch.optim.Rprop, dict(lr=0.001, maximize=True)),
    ("asgd", optim.ASGD, torch.optim.ASGD, dict()),
    ("asgd_averaging", optim.ASGD, torch.optim.ASGD, dict(lr=0.05, lambd=1e-2, alpha=0.6, t0=10, weight_decay=0.01)),
    ("asgd_max", optim.ASGD, torch.optim.ASGD, dict(lr=0.02, t0=0, maximize=True)),
]  # fmt: skip
IDS = [c[0] for c in CASES]


def _problem(dtype, seed=0):
    rng = np.random.default_rng(seed)
    A, b = rng.standard_normal((20, 5)), rng.standard_normal(20)
    W0, v0 = rng.standard_normal((5, 3)), rng.standard_normal(3)
    return [a.astype(dtype) for a in (A, b, W0, v0)]


def _loss_ng(A, b, W, v, sign=1.0):
    return sign * ((ng.tanh(ng.tensor(A) @ W) @ v - ng.tensor(b)) ** 2).mean()


def _loss_torch(A, b, W, v, sign=1.0):
    return sign * ((torch.tanh(torch.tensor(A) @ W) @ v - torch.tensor(b)) ** 2).mean()


def _sign(opt) -> float:
    """With maximize=True the objective is −loss, bounded above: the run converges (maximising the loss itself
    would run off to infinity, where rounding differences grow without bound)."""
    return -1.0 if opt.defaults["maximize"] else 1.0


def _params(lib, dtype, groups=None):
    """The problem's start as parameters of ``lib`` (ng or torch), in one list or one group per parameter."""
    _, _, W0, v0 = _problem(dtype)
    ps = [lib.tensor(W0, requires_grad=True), lib.tensor(v0, requires_grad=True)]
    return ps, (ps if groups is None else [{**g, "params": [p]} for g, p in zip(groups, ps)])


def _descend(opt, ps, loss, lib, dtype, steps):
    """``steps`` steps of ``opt`` on the problem; the parameters' values after each."""
    A, b, _, _ = _problem(dtype)
    path = []
    for _ in range(steps):
        opt.zero_grad()
        loss(A, b, *ps, sign=_sign(opt)).backward()
        opt.step()
        path.append([p.detach().numpy().copy() if lib is torch else p.numpy().copy() for p in ps])
    return path


@functools.cache
def _torch_run(name, dtype, steps, groups=None, float64_scalars=False):
    """torch's path (and its final state and group keys) for a case, computed once for every array namespace."""
    _, _, theirs, kw = CASES[IDS.index(name)]
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64 if float64_scalars else torch.float32)
    try:
        ps, arg = _params(torch, dtype, None if groups is None else [dict(g) for g in groups])
        topt = theirs(arg, **kw)
        path = _descend(topt, ps, _loss_torch, torch, dtype, steps)
    finally:
        torch.set_default_dtype(before)
    sd = topt.state_dict()
    state = {i: {k: (v.item() if v.dim() == 0 else v.numpy().copy()) for k, v in s.items()} for i, s in sd["state"].items()}
    return path, state, [sorted(g) for g in sd["param_groups"]], [g["lr"] for g in topt.param_groups]


def _assert_same_path(ours, theirs, rtol, atol, name):
    for step, (mine, other) in enumerate(zip(ours, theirs, strict=True)):
        for p, tp in zip(mine, other):
            np.testing.assert_allclose(p, tp, rtol=rtol, atol=atol, err_msg=f"{name}, step {step}")


def _assert_same_state(opt, theirs, rtol, atol):
    """The same state keys per parameter, arrays of the parameter's shape where torch has them, equal values."""
    ours = opt.state_dict()["state"]
    assert sorted(ours) == sorted(theirs)
    for i in theirs:
        assert sorted(ours[i]) == sorted(theirs[i]), f"parameter {i}"
        for k, tv in theirs[i].items():
            v = ours[i][k]
            if np.ndim(tv) == 0:  # torch's 0-d tensors (step, mu_product, eta, mu): ours too, float64
                assert isinstance(v, ng.Tensor) and v.shape == () and v.dtype == np.float64, f"{k}: {v!r}"
                np.testing.assert_allclose(v.item(), tv, rtol=rtol, err_msg=k)
            else:
                got = ng.tensor(v).numpy()
                assert got.shape == tv.shape, k
                np.testing.assert_allclose(got, tv, rtol=rtol, atol=atol, err_msg=k)


@pytest.mark.parametrize("name, ours, theirs, kw", CASES, ids=IDS)
def test_100_steps_in_float64_match_torch_to_1e_10(name, ours, theirs, kw):
    """torch with float64 scalars (its default dtype float64): it keeps NAdam's mu_product and ASGD's eta, mu as
    0-d tensors of its default dtype, ours as 0-d float64 tensors."""
    ps, _ = _params(ng, np.float64)
    opt = ours(ps, **kw)
    path = _descend(opt, ps, _loss_ng, ng, np.float64, 100)
    theirs_path, state, group_keys, _ = _torch_run(name, np.float64, 100, float64_scalars=True)
    _assert_same_path(path, theirs_path, rtol=1e-10, atol=1e-12, name=name)
    _assert_same_state(opt, state, rtol=1e-10, atol=1e-12)
    assert [sorted(g) for g in opt.state_dict()["param_groups"]] == group_keys  # the same options, flags included


@pytest.mark.parametrize("name, ours, theirs, kw", CASES, ids=IDS)
def test_100_steps_in_float32_match_torch(name, ours, theirs, kw):
    """torch as its users run it (float32 scalars in its state); the tolerance is float32's, grown over 100 steps."""
    ps, _ = _params(ng, np.float32)
    opt = ours(ps, **kw)
    path = _descend(opt, ps, _loss_ng, ng, np.float32, 100)
    assert all(p.dtype == np.float32 for p in ps)
    _assert_same_path(path, _torch_run(name, np.float32, 100)[0], rtol=2e-4, atol=2e-5, name=name)


@pytest.mark.numpy_only
@pytest.mark.parametrize("name, ours, theirs, kw", CASES, ids=IDS)
def test_groups_with_their_own_lr_match_torch(name, ours, theirs, kw):
    lr = kw.get("lr", 1.0 if ours is optim.Adadelta else 0.01)
    groups = ({"lr": lr / 2}, {})
    ps, arg = _params(ng, np.float64, groups)
    opt = ours(arg, **kw)
    path = _descend(opt, ps, _loss_ng, ng, np.float64, 30)
    theirs_path, _, _, lrs = _torch_run(name, np.float64, 30, tuple(tuple(g.items()) for g in groups), True)
    assert [g["lr"] for g in opt.param_groups] == lrs
    _assert_same_path(path, theirs_path, rtol=1e-10, atol=1e-12, name=name)


def _run(opt, A, b, ps, steps):
    for _ in range(steps):
        opt.zero_grad()
        _loss_ng(A, b, *ps, sign=_sign(opt)).backward()
        opt.step()


@pytest.mark.parametrize("name, ours, theirs, kw", CASES, ids=IDS)
def test_state_dict_round_trip_continues_as_the_uninterrupted_run(name, ours, theirs, kw):
    A, b, W0, v0 = _problem(np.float64)
    ps = [ng.tensor(W0, requires_grad=True), ng.tensor(v0, requires_grad=True)]
    opt = ours(ps, **kw)
    _run(opt, A, b, ps, 20)
    saved = copy.deepcopy(opt.state_dict())
    qs = [ng.tensor(p.numpy().copy(), requires_grad=True) for p in ps]
    fresh = ours(qs, **{**kw, "lr": 123.0})  # the loaded groups bring the lr back
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    _run(opt, A, b, ps, 20)
    _run(fresh, A, b, qs, 20)
    for p, q in zip(ps, qs):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


@pytest.mark.numpy_only
@pytest.mark.parametrize("name, ours, theirs, kw", CASES[::3], ids=IDS[::3])
def test_a_checkpoint_file_round_trip_continues_as_the_uninterrupted_run(name, ours, theirs, kw, tmp_path):
    """Through ng.io.save / ng.io.load: the float entries (mu_product, eta, mu) travel as scalars."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((16, 3)), rng.standard_normal((16, 2))

    def run(model, opt, steps):
        for _ in range(steps):
            opt.zero_grad()
            ((model(ng.tensor(X)) - ng.tensor(y)) ** 2).mean().backward()
            opt.step()

    model = ng.nn.Linear(3, 2, dtype="float64")
    opt = ours(model.parameters(), **kw)
    run(model, opt, 10)
    ng.io.save(model, tmp_path / "m.safetensors", optimizer=opt)
    model2 = ng.nn.Linear(3, 2, dtype="float64")
    opt2 = ours(model2.parameters(), **kw)
    ng.io.load(tmp_path / "m.safetensors", model2, optimizer=opt2)
    run(model, opt, 10)
    run(model2, opt2, 10)
    for p, q in zip(model.parameters(), model2.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


@pytest.mark.parametrize("name, ours, theirs, kw", CASES, ids=IDS)
def test_a_nan_gradient_is_refused_and_nothing_is_written(name, ours, theirs, kw):
    A, b, W0, v0 = _problem(np.float64)
    ps = [ng.tensor(W0, requires_grad=True), ng.tensor(v0, requires_grad=True)]
    opt = ours(ps, **kw)
    _run(opt, A, b, ps, 5)
    before, state = [p.numpy().copy() for p in ps], copy.deepcopy(opt.state_dict())
    opt.zero_grad()
    _loss_ng(A, b, *ps).backward()
    g = ps[1].grad.numpy().copy()
    g[1] = np.nan
    ps[1].grad = ng.tensor(g)
    with pytest.raises(FloatingPointError, match="NaN or Inf"):
        opt.step()
    for p, w in zip(ps, before):
        np.testing.assert_array_equal(p.numpy(), w)
    after = opt.state_dict()
    assert after["param_groups"] == state["param_groups"]
    for i, buffers in state["state"].items():
        for k, v in buffers.items():
            np.testing.assert_array_equal(ng.tensor(after["state"][i][k]).numpy(), ng.tensor(v).numpy(), err_msg=k)


@pytest.mark.parametrize("ours, kw", [(optim.Adamax, dict(lr=1e308)), (optim.NAdam, dict(lr=1e308)),
                                      (optim.RAdam, dict(lr=1e308)), (optim.Adadelta, dict(lr=1e308, eps=1e4)),
                                      (optim.ASGD, dict(lr=1e308, t0=0))], ids=lambda v: getattr(v, "__name__", ""))  # fmt: skip
def test_an_update_that_overflows_is_refused_and_nothing_is_written(ours, kw):
    """Finite gradients, an infinite step: the parameters and the state stay as before (the state empty)."""
    w = ng.tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    opt = ours([w], **kw)
    (w * w * 1e10).sum().backward()
    with pytest.raises(FloatingPointError, match="would make a parameter or the optimiser state NaN or Inf"):
        opt.step()
    np.testing.assert_array_equal(w.numpy(), [1.0, -2.0, 3.0])
    assert opt.state_dict()["state"] == {}


def test_asgd_average_is_the_mean_of_the_iterates_since_averaging_started():
    """ASGD(t0=0, lambd=0): torch sets μ = 1/max(1, t − t0) after step t for the next, so ``ax`` after step
    t ≥ 2 is the mean of the iterates w_2 … w_t (its formula, not torch's numbers)."""
    rng = np.random.default_rng(3)
    w = ng.tensor(rng.standard_normal(4), requires_grad=True)
    opt = optim.ASGD([w], lr=0.1, lambd=0.0, t0=0)
    iterates = []
    for _ in range(12):
        opt.zero_grad()
        (ng.sin(w) * w).sum().backward()
        opt.step()
        iterates.append(w.numpy().copy())
    np.testing.assert_allclose(ng.tensor(opt.state[id(w)]["ax"]).numpy(), np.mean(iterates[1:], axis=0), rtol=1e-13)
