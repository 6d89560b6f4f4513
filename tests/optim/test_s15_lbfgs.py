"""L-BFGS against torch.optim.LBFGS: trajectories of 20 steps × 5 iterations from the same start (float64 to
1e-10 relative, with the same closure calls and iterations counted; float32 to float32's precision), with and
without the strong-Wolfe line search; torch's state layout; a state_dict round trip; argument checks; and
steps refused (a NaN gradient, a closure that raises, a divergent step) with nothing changed."""

import copy
import math

import numpy as np
import pytest

import nablagrad as ng
from nablagrad import optim

torch = pytest.importorskip("torch")

OPTIONS = [
    dict(max_iter=5),
    dict(max_iter=5, line_search_fn="strong_wolfe"),
    dict(max_iter=5, lr=0.5, history_size=3),
    dict(max_iter=5, history_size=2, line_search_fn="strong_wolfe"),
]
IDS = ["fixed", "wolfe", "fixed_short_memory", "wolfe_short_memory"]


def _data(dtype):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 6))
    labels = (X @ rng.standard_normal(6) > 0).astype(float)
    Y = rng.standard_normal((40, 2))
    W0, w0 = 0.1 * rng.standard_normal((6, 2)), 0.1 * rng.standard_normal(6)
    return {k: v.astype(dtype) for k, v in dict(X=X, labels=labels, Y=Y, W0=W0, w0=w0).items()}


def _least_squares(lib, d):
    """mean ‖X W + c − Y‖² (convex, quadratic)."""
    X, Y = lib.tensor(d["X"]), lib.tensor(d["Y"])
    return lambda W, c: ((X @ W + c - Y) ** 2).mean()


def _logistic(lib, d):
    """Logistic regression with an L2 term: mean log(1 + exp(−y z)) + 0.01 ‖w‖² (convex, not quadratic)."""
    X, s = lib.tensor(d["X"]), 2 * lib.tensor(d["labels"]) - 1
    return lambda w, c: lib.log(1 + lib.exp(-(X @ w + c) * s)).mean() + 0.01 * (w * w).sum()


PROBLEMS = {"least_squares": (_least_squares, "W0", 2), "logistic": (_logistic, "w0", 1)}


def _setup(lib, problem, dtype, kw):
    make, start, n_bias = PROBLEMS[problem]
    d = _data(dtype)
    ps = [lib.tensor(d[start], requires_grad=True), lib.tensor(np.zeros(n_bias, dtype), requires_grad=True)]
    loss = make(lib, d)
    opt = (optim.LBFGS if lib is ng else torch.optim.LBFGS)(ps, **kw)

    def closure():
        opt.zero_grad()
        value = loss(*ps)
        value.backward()
        return value

    return ps, opt, closure


def _numpy(p):
    """A NumPy copy of a tensor of either library, or of a state array of any array library."""
    if isinstance(p, torch.Tensor):
        return p.detach().numpy().copy()
    return (p if isinstance(p, ng.Tensor) else ng.tensor(p)).numpy().copy()


def _run(lib, problem, dtype, kw, steps):
    """Per step: the parameters, the loss step() returned, and the counters of closure calls and iterations."""
    ps, opt, closure = _setup(lib, problem, dtype, kw)
    out = []
    for _ in range(steps):
        loss = float(opt.step(closure).detach() if lib is torch else opt.step(closure))
        state = opt.state[ps[0]] if lib is torch else opt.state[id(ps[0])]
        out.append(([_numpy(p) for p in ps], loss, state["func_evals"], state["n_iter"]))
    return out, opt


@pytest.mark.parametrize("problem", PROBLEMS)
@pytest.mark.parametrize("kw", OPTIONS, ids=IDS)
def test_20_steps_in_float64_match_torch_to_1e_10(problem, kw):
    ours, opt = _run(ng, problem, np.float64, kw, 20)
    theirs, topt = _run(torch, problem, np.float64, kw, 20)
    for step, ((ps, loss, evals, iters), (tps, tloss, tevals, titers)) in enumerate(zip(ours, theirs)):
        assert (evals, iters) == (tevals, titers), f"step {step}: closure calls and iterations"
        np.testing.assert_allclose(loss, tloss, rtol=1e-10, err_msg=f"step {step}")
        for p, tp in zip(ps, tps):
            np.testing.assert_allclose(p, tp, rtol=1e-10, atol=1e-12, err_msg=f"step {step}")
    state, tstate = opt.state_dict()["state"][0], topt.state_dict()["state"][0]
    assert sorted(state) == sorted(tstate)
    n = sum(p.size for p in ours[0][0])
    assert state["d"].shape == state["prev_flat_grad"].shape == (n,)
    assert len(state["old_dirs"]) == len(state["old_stps"]) == len(state["ro"]) == len(tstate["old_dirs"])
    assert len(state["al"]) == len(tstate["al"]) == kw.get("history_size", 100)
    for k in ("d", "prev_flat_grad"):
        np.testing.assert_allclose(_numpy(state[k]), tstate[k].numpy(), rtol=1e-8, atol=1e-12, err_msg=k)


@pytest.mark.parametrize("problem", PROBLEMS)
@pytest.mark.parametrize("kw", OPTIONS, ids=IDS)
def test_in_float32_the_first_step_matches_torch_and_the_run_ends_where_torch_s_does(problem, kw):
    """float32: decisions at the rounding floor (a tolerance met one iteration earlier) may differ once converged,
    so the first step (5 iterations) is compared closely, the rest to float32's noise around the minimum."""
    ours, _ = _run(ng, problem, np.float32, kw, 10)
    theirs, _ = _run(torch, problem, np.float32, kw, 10)
    assert ours[0][0][0].dtype == np.float32
    for p, tp in zip(ours[0][0], theirs[0][0]):
        np.testing.assert_allclose(p, tp, rtol=1e-4, atol=1e-6)
    for (ps, loss, _, _), (tps, tloss, _, _) in zip(ours, theirs):
        np.testing.assert_allclose(loss, tloss, rtol=1e-5)
        for p, tp in zip(ps, tps):
            np.testing.assert_allclose(p, tp, atol=1e-3)


def test_a_mlp_in_float64_matches_torch_over_40_iterations():
    """A non-convex problem (tanh MLP), two steps of 20 iterations with the line search."""
    rng = np.random.default_rng(0)
    A, b, W0, v0 = rng.standard_normal((20, 5)), rng.standard_normal(20), rng.standard_normal((5, 3)), rng.standard_normal(3)
    paths = []
    for lib in (ng, torch):
        W, v = lib.tensor(W0, requires_grad=True), lib.tensor(v0, requires_grad=True)
        opt = (optim.LBFGS if lib is ng else torch.optim.LBFGS)([W, v], line_search_fn="strong_wolfe")

        def closure(opt=opt, W=W, v=v, lib=lib):
            opt.zero_grad()
            loss = ((lib.tanh(lib.tensor(A) @ W) @ v - lib.tensor(b)) ** 2).mean()
            loss.backward()
            return loss

        path = []
        for _ in range(2):
            opt.step(closure)
            path.append([_numpy(p) for p in (W, v)])
        paths.append(path)
    for ps, tps in zip(*paths):
        for p, tp in zip(ps, tps):
            np.testing.assert_allclose(p, tp, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kw", OPTIONS, ids=IDS)
def test_state_dict_round_trip_continues_as_the_uninterrupted_run(kw):
    ps, opt, closure = _setup(ng, "logistic", np.float64, kw)
    for _ in range(2):
        opt.step(closure)
    saved = copy.deepcopy(opt.state_dict())
    qs, fresh, fresh_closure = _setup(ng, "logistic", np.float64, {**kw, "history_size": 7})
    for q, p in zip(qs, ps):
        q.data[...] = p.data
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["history_size"] == kw.get("history_size", 100)
    for _ in range(3):
        opt.step(closure)
        fresh.step(fresh_closure)
    for p, q in zip(ps, qs):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    assert opt.state_dict()["state"][0]["func_evals"] == fresh.state_dict()["state"][0]["func_evals"]


def test_a_corrupted_memory_is_refused_and_changes_nothing():
    ps, opt, closure = _setup(ng, "logistic", np.float64, dict(max_iter=5))
    opt.step(closure)
    opt.step(closure)
    good = opt.state_dict()
    bad_entries = [
        ("d", np.ones(3), "flat vector of the parameters' total size 7"),
        ("prev_flat_grad", np.full(7, np.nan), "finite flat vector"),
        ("t", math.inf, "t must be a finite number"),
        ("ro", good["state"][0]["ro"][:-1], "lists of one length"),
        ("n_iter", -1, "n_iter must be a count"),
    ]
    for key, value, message in bad_entries:
        sd = {**good, "state": {0: {**good["state"][0], key: value}}}
        with pytest.raises(ValueError, match=message):
            opt.load_state_dict(sd)
    with pytest.raises(ValueError, match="state of parameter 0 only"):
        opt.load_state_dict({**good, "state": {1: good["state"][0]}})
    with pytest.raises(ValueError, match=r"missing \['H_diag'\]"):
        opt.load_state_dict({**good, "state": {0: {k: v for k, v in good["state"][0].items() if k != "H_diag"}}})
    np.testing.assert_array_equal(_numpy(opt.state_dict()["state"][0]["d"]), _numpy(good["state"][0]["d"]))


def test_the_first_step_at_a_minimum_returns_at_once_as_torch_s():
    """A gradient already below tolerance_grad: one closure call, no iteration, only the counters in the state."""
    for lib in (ng, torch):
        w = lib.tensor(np.zeros(3), requires_grad=True)
        opt = (optim.LBFGS if lib is ng else torch.optim.LBFGS)([w])

        def closure(opt=opt, w=w):
            opt.zero_grad()
            loss = (w * w).sum()
            loss.backward()
            return loss

        opt.step(closure)
        assert opt.state_dict()["state"][0] == {"func_evals": 1, "n_iter": 0}


def _nan_after(n, ps, opt, loss_fn):
    """A closure whose gradient is NaN from its ``n``-th call on."""
    calls = [0]

    def closure():
        calls[0] += 1
        opt.zero_grad()
        loss = loss_fn(*ps)
        loss.backward()
        if calls[0] >= n:
            g = ps[0].grad.numpy().copy()
            g.flat[0] = np.nan
            ps[0].grad = ng.tensor(g)
        return loss

    return closure


@pytest.mark.parametrize("kw", OPTIONS[:2], ids=IDS[:2])
@pytest.mark.parametrize("n", [1, 3])
def test_a_nan_gradient_is_refused_and_nothing_is_written(kw, n):
    d = _data(np.float64)
    ps = [ng.tensor(d["w0"], requires_grad=True), ng.tensor(np.zeros(1), requires_grad=True)]
    opt = optim.LBFGS(ps, **kw)
    loss_fn = _logistic(ng, d)
    opt.step(_nan_after(10**9, ps, opt, loss_fn))
    before, state = [p.numpy().copy() for p in ps], copy.deepcopy(opt.state_dict())
    with pytest.raises(FloatingPointError, match="NaN or Inf"):
        opt.step(_nan_after(n, ps, opt, loss_fn))
    for p, w in zip(ps, before):
        np.testing.assert_array_equal(p.numpy(), w)
    after = opt.state_dict()["state"][0]
    assert sorted(after) == sorted(state["state"][0])
    assert after["func_evals"] == state["state"][0]["func_evals"] and after["n_iter"] == state["state"][0]["n_iter"]
    np.testing.assert_array_equal(_numpy(after["d"]), _numpy(state["state"][0]["d"]))
    assert len(after["old_dirs"]) == len(state["state"][0]["old_dirs"])


def test_an_infinite_loss_is_refused_and_nothing_is_written():
    w = ng.tensor(np.array([1.0, -2.0]), requires_grad=True)
    opt = optim.LBFGS([w], lr=1e308, max_iter=3)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with pytest.raises(FloatingPointError, match="the closure returned a loss of inf"):
        opt.step(closure)
    np.testing.assert_array_equal(w.numpy(), [1.0, -2.0])
    assert opt.state == {}


def test_a_closure_that_raises_midway_changes_nothing():
    d = _data(np.float64)
    ps = [ng.tensor(d["w0"], requires_grad=True), ng.tensor(np.zeros(1), requires_grad=True)]
    opt = optim.LBFGS(ps, max_iter=5)
    loss_fn = _logistic(ng, d)
    calls = [0]

    def closure():
        calls[0] += 1
        if calls[0] == 4:
            raise KeyboardInterrupt
        opt.zero_grad()
        loss = loss_fn(*ps)
        loss.backward()
        return loss

    before = [p.numpy().copy() for p in ps]
    with pytest.raises(KeyboardInterrupt):
        opt.step(closure)
    for p, w in zip(ps, before):
        np.testing.assert_array_equal(p.numpy(), w)
    assert opt.state == {}


def test_a_step_that_overflows_is_refused_and_nothing_is_written():
    """A linear loss (gradient 1): the first iteration moves by lr/2, the second (after which, being the last, the
    closure is not called) by lr — past the largest float."""
    w = ng.tensor(np.array([1.0, -2.0]), requires_grad=True)
    opt = optim.LBFGS([w], lr=1.5e308, max_iter=2, max_eval=10)

    def closure():
        opt.zero_grad()
        loss = w.sum()
        loss.backward()
        return loss

    with pytest.raises(FloatingPointError, match="would make a parameter NaN or Inf"):
        opt.step(closure)
    np.testing.assert_array_equal(w.numpy(), [1.0, -2.0])
    assert opt.state == {}


def _outcome(make):
    try:
        make()
    except (TypeError, ValueError, RuntimeError) as exc:
        return type(exc)
    return None


BAD = [("lr", -1.0), ("lr", math.nan), ("lr", None), ("max_iter", 0), ("max_iter", 2.5), ("max_iter", None),
       ("max_eval", 0), ("max_eval", "10"), ("tolerance_grad", -1e-7), ("tolerance_change", math.nan),
       ("history_size", 0), ("history_size", None), ("line_search_fn", "armijo"), ("line_search_fn", 1)]  # fmt: skip


@pytest.mark.parametrize("key, value", BAD, ids=[f"{k}={v!r}" for k, v in BAD])
def test_bad_arguments_are_refused_when_built_naming_the_option(key, value):
    """torch refuses a negative lr (ValueError) and bad types when built, a bad line search only at the first step
    (RuntimeError); everything here is refused when built, with torch's exception type where it has one."""
    expected = _outcome(lambda: torch.optim.LBFGS([torch.nn.Parameter(torch.ones(2))], **{key: value}))
    with pytest.raises((TypeError, ValueError)) as info:
        optim.LBFGS([ng.nn.Parameter(np.ones(2))], **{key: value})
    if expected in (TypeError, ValueError):
        assert info.type is expected
    assert "LBFGS" in str(info.value) and key in str(info.value) and repr(value) in str(info.value)


def test_one_group_only_as_torch_s():
    for lib in (torch, ng):
        groups = [{"params": [lib.nn.Parameter(lib.tensor(np.ones(2)))]} for _ in range(2)]
        with pytest.raises(ValueError, match="per-parameter options"):
            (optim.LBFGS if lib is ng else torch.optim.LBFGS)(groups)
    opt = optim.LBFGS([ng.nn.Parameter(np.ones(2))])
    with pytest.raises(ValueError, match="parameter groups"):
        opt.add_param_group({"params": [ng.nn.Parameter(np.ones(2))]})
    assert len(opt.param_groups) == 1


def test_a_step_without_a_closure_is_refused():
    opt = optim.LBFGS([ng.nn.Parameter(np.ones(2))])
    with pytest.raises(TypeError, match="closure"):
        opt.step()


def test_defaults_are_torch_s():
    import inspect

    ours, theirs = inspect.signature(optim.LBFGS).parameters, inspect.signature(torch.optim.LBFGS).parameters
    assert list(ours) == list(theirs)
    assert all(ours[k].default == theirs[k].default for k in ours if k != "params")
    group = optim.LBFGS([ng.nn.Parameter(np.ones(2))], max_iter=8).param_groups[0]
    tgroup = torch.optim.LBFGS([torch.nn.Parameter(torch.ones(2))], max_iter=8).param_groups[0]
    assert {k: v for k, v in group.items() if k != "params"} == {k: v for k, v in tgroup.items() if k != "params"}
