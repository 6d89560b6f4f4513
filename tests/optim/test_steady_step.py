"""The steady-state Adam step (a flat group whose buffers, slices and kernel arguments are kept from
one step to the next) notices every change made between steps: each case below changes something
mid-run and must give torch.optim.Adam's trajectory, and the flat path must equal, bit for bit, the
per-parameter path and a plain NumPy Adam."""

import numpy as np
import pytest

import nablagrad as ng
from nablagrad import optim

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.numpy_only("the flat group and its kept kernel arguments exist on NumPy only")

SHAPES = [(5, 4), (4,), (4, 3), (3,)]
STEPS = 16
CHANGE_AT = 7


def _grads(rng) -> list[np.ndarray]:
    return [rng.standard_normal(s) for s in SHAPES]


def _set(ours, theirs, values) -> None:
    """Both sides' parameters to ``values`` (ours by rebinding ``.data``: no longer views of the flat buffer)."""
    for p, tp, w in zip(ours, theirs, values):
        p.data = np.array(w, dtype=p.dtype)
        with torch.no_grad():
            tp.copy_(torch.tensor(w))


def _set_group(opt, topt, key, value) -> None:
    opt.param_groups[0][key] = value
    topt.param_groups[0][key] = value


def _load_halved_exp_avg(opt, topt, ours, theirs) -> None:
    """Both optimisers load their own state with every first moment halved."""
    sd, tsd = opt.state_dict(), topt.state_dict()
    for i in sd["state"]:
        sd["state"][i]["exp_avg"] = sd["state"][i]["exp_avg"] * 0.5
        tsd["state"][i]["exp_avg"] = tsd["state"][i]["exp_avg"] * 0.5
    opt.load_state_dict(sd)
    topt.load_state_dict(tsd)


def _replace_state_buffer(opt, topt, ours, theirs) -> None:
    """A state buffer of one parameter replaced by a new array (not a view of the flat buffer)."""
    opt.state[id(ours[2])]["exp_avg_sq"] = np.full(SHAPES[2], 0.25)
    topt.state[theirs[2]]["exp_avg_sq"] = torch.full(SHAPES[2], 0.25, dtype=torch.float64)


def _write_state_in_place(opt, topt, ours, theirs) -> None:
    """A state buffer written in place (the bounds carried by the check no longer hold)."""
    opt.state[id(ours[0])]["exp_avg"][...] = 3.0
    topt.state[theirs[0]]["exp_avg"].fill_(3.0)


def _add_group(opt, topt, ours, theirs) -> None:
    w = np.linspace(-1, 1, 6).reshape(2, 3)
    p, tp = ng.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    ours.append(p)
    theirs.append(tp)
    opt.add_param_group({"params": [p], "lr": 0.02})
    topt.add_param_group({"params": [tp], "lr": 0.02})


CHANGES = {
    "lr": lambda opt, topt, ours, theirs: _set_group(opt, topt, "lr", 0.001),
    "betas": lambda opt, topt, ours, theirs: _set_group(opt, topt, "betas", (0.8, 0.99)),
    "eps": lambda opt, topt, ours, theirs: _set_group(opt, topt, "eps", 1e-3),
    "weight_decay": lambda opt, topt, ours, theirs: _set_group(opt, topt, "weight_decay", 0.1),
    "data rebound": lambda opt, topt, ours, theirs: _set(ours, theirs, [p.numpy() * 0.5 for p in ours]),
    "state loaded": _load_halved_exp_avg,
    "state buffer replaced": _replace_state_buffer,
    "state written in place": _write_state_in_place,
    "group added": _add_group,
}
GRADIENTS = ["new arrays", "written in place", "one missing", "strided", "float32"]


def _give(ours, theirs, grads, how: str) -> None:
    """The gradients ``grads`` to both sides; ``how`` ours receive them (the same values, bit for bit)."""
    for i, (p, tp, g) in enumerate(zip(ours, theirs, grads)):
        tp.grad = torch.tensor(g)
        if how == "written in place" and p.grad is not None and p.grad.shape == g.shape:
            p.grad.data[...] = g  # the same array object as in the last step, new values
        elif how == "one missing" and i == 1:
            p.grad, tp.grad = None, None
        elif how == "strided":
            wide = np.zeros((*g.shape[:-1], 2 * g.shape[-1]))
            wide[..., ::2] = g
            p.grad = ng.as_tensor(wide[..., ::2])
        elif how == "float32":  # a float32 gradient of a float64 parameter is refused, as torch refuses it
            with pytest.raises(RuntimeError, match="dtype float32 to a tensor with dtype float64"):
                p.grad = ng.as_tensor(g.astype(np.float32))
            p.grad = ng.tensor(g)
        else:
            p.grad = ng.tensor(g)


def _follow_torch(change: str | None, how: str = "new arrays", amsgrad: bool = False, cls=optim.Adam):
    rng = np.random.default_rng(0)
    init = [rng.standard_normal(s) for s in SHAPES]
    ours = [ng.tensor(w, requires_grad=True) for w in init]
    theirs = [torch.tensor(w, requires_grad=True) for w in init]
    tcls = torch.optim.AdamW if cls is optim.AdamW else torch.optim.Adam
    opt, topt = cls(ours, lr=0.01, amsgrad=amsgrad), tcls(theirs, lr=0.01, amsgrad=amsgrad)
    for t in range(STEPS):
        if t == CHANGE_AT and change is not None:
            CHANGES[change](opt, topt, ours, theirs)
        grads = _grads(rng) + [rng.standard_normal((2, 3))] * (len(ours) - len(SHAPES))
        _give(ours, theirs, grads, how if t >= CHANGE_AT else "new arrays")
        opt.step()
        topt.step()
        for p, tp in zip(ours, theirs):
            np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-8, atol=1e-10, err_msg=f"step {t}")


@pytest.mark.parametrize("change", CHANGES)
@pytest.mark.parametrize("amsgrad", [False, True], ids=["adam", "amsgrad"])
def test_a_change_between_steps_is_followed_as_torch_does(change, amsgrad, fast):
    _follow_torch(change, amsgrad=amsgrad)


@pytest.mark.parametrize("how", GRADIENTS)
def test_gradients_given_in_any_form_are_followed_as_torch_does(how, fast):
    _follow_torch(None, how)


@pytest.mark.parametrize("change", ["lr", "weight_decay", "data rebound", "state loaded"])
def test_adamw_follows_a_change_as_torch_does(change, fast):
    _follow_torch(change, cls=optim.AdamW)


def test_a_gradient_of_another_shape_is_refused_then_the_run_goes_on(fast):
    """The steady step still checks shapes: a wrong gradient raises and changes nothing; the next
    step, with right gradients, is the step torch takes."""
    rng = np.random.default_rng(2)
    init = [rng.standard_normal(s) for s in SHAPES]
    ours = [ng.tensor(w, requires_grad=True) for w in init]
    theirs = [torch.tensor(w, requires_grad=True) for w in init]
    opt, topt = optim.Adam(ours, lr=0.01), torch.optim.Adam(theirs, lr=0.01)
    for t in range(8):
        grads = _grads(rng)
        _give(ours, theirs, grads, "new arrays")
        if t == 4:
            before = [p.numpy().copy() for p in ours], {k: v.copy() for k, v in opt.state[id(ours[2])].items() if k != "step"}
            with pytest.raises(ValueError, match="shape"):  # refused at once, as torch refuses it
                ours[2].grad = ng.tensor(rng.standard_normal((3, 4)))  # the transposed shape, the same size
            ours[2]._grad = ng.tensor(rng.standard_normal((3, 4)))  # past that check: the step refuses it too
            with pytest.raises(ValueError, match="shape"):
                opt.step()
            for p, w in zip(ours, before[0]):
                np.testing.assert_array_equal(p.numpy(), w)
            for k, v in before[1].items():
                np.testing.assert_array_equal(opt.state[id(ours[2])][k], v)
            _give(ours, theirs, grads, "new arrays")
        opt.step()
        topt.step()
        for p, tp in zip(ours, theirs):
            np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-8, atol=1e-10, err_msg=f"step {t}")


def _adam_numpy(ws: list[np.ndarray], grads: list[list[np.ndarray]], lr, b1, b2, eps) -> list[np.ndarray]:
    """Adam in plain NumPy, in the kernels' order of operations and in the parameters' dtype:
    ``m ← β1 m + g(1 − β1)``, ``v ← β2 v + g·g(1 − β2)``, ``w ← w − m/(√v + ε̂)·s``."""
    dt = ws[0].dtype.type
    ws = [w.copy() for w in ws]
    ms, vs = [np.zeros_like(w) for w in ws], [np.zeros_like(w) for w in ws]
    for t, gs in enumerate(grads, start=1):
        bc2_sqrt = (1 - b2**t) ** 0.5
        step_size, eps_hat = dt(lr * bc2_sqrt / (1 - b1**t)), dt(eps * bc2_sqrt)
        for w, m, v, g in zip(ws, ms, vs, gs):
            m[...] = dt(b1) * m + g * dt(1 - b1)
            v[...] = dt(b2) * v + g * g * dt(1 - b2)
            w[...] = w - m / (np.sqrt(v) + eps_hat) * step_size
    return ws


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fifty_flat_steps_equal_the_per_parameter_path_and_plain_numpy_bit_for_bit(dtype, fast):
    rng = np.random.default_rng(4)
    shapes = [(30, 20), (20,), (20, 10), (10,), (10, 3), (3,)]  # an MLP's weights and biases
    init = [rng.standard_normal(s).astype(dtype) for s in shapes]
    grads = [[rng.standard_normal(s).astype(dtype) for s in shapes] for _ in range(50)]
    results = []
    for flat in (True, False):
        params = [ng.tensor(w.copy(), requires_grad=True) for w in init]
        opt = optim.Adam(params, lr=1e-2)
        opt.elementwise = flat
        for gs in grads:
            for p, g in zip(params, gs):
                p.grad = ng.tensor(g)
            opt.step()
        assert (opt.state[id(params[0])]["exp_avg"].base is not None) is flat  # a view of a flat buffer, or not
        results.append([p.numpy() for p in params])
    reference = _adam_numpy(init, grads, 1e-2, 0.9, 0.999, 1e-8)
    for flat_w, per_param_w, ref_w in zip(*results, reference):
        np.testing.assert_array_equal(flat_w, per_param_w)
        np.testing.assert_array_equal(flat_w, ref_w)


def test_versions_are_bumped_once_per_parameter_per_step():
    params = [ng.tensor(np.ones(s), requires_grad=True) for s in SHAPES]
    opt = optim.Adam(params, lr=0.01)
    for p in params:
        p.grad = ng.tensor(np.ones(p.shape))
    versions = []
    for _ in range(4):
        opt.step()
        versions.append([p._version for p in params])
    for before, after in zip(versions, versions[1:]):
        assert all(b < a for b, a in zip(before, after))
    flat_versions = [v for row in versions for v in row]
    assert len(set(flat_versions)) == len(flat_versions)  # one bump each, none shared


@pytest.mark.parametrize("flat", [False, True], ids=["per-parameter", "flat"])
def test_a_refused_step_keeps_no_array_alive(flat, fast):
    """A step refused because one group's update would overflow: the other group's check passed and was
    kept for an update that never came — it must not hold that group's parameters and state once the
    optimiser and the parameters are gone (a search that restarts after divergence would leak models)."""
    import gc
    import weakref

    def group(n):
        return {"params": [ng.tensor(np.ones(s, np.float32), requires_grad=True) for s in [(n, 8), (8,)][: 2 if flat else 1]]}

    opt = optim.Adam([group(600), group(700)], lr=1e-3)
    params = [p for g in opt.param_groups for p in g["params"]]
    for t in range(3):
        for p in params:
            p.grad = ng.tensor(np.full(p.shape, 1e20 if t == 2 and p is params[-1] else 1.0, np.float32))
        if t < 2:
            opt.step()
    with pytest.raises(FloatingPointError, match="NaN or Inf"):
        opt.step()  # the second group's g² overflows; the first group's check passed
    first = opt.param_groups[0]["params"]
    refs = [weakref.ref(a) for p in first for a in (p.data, p.data.base, *opt.state[id(p)].values()) if isinstance(a, np.ndarray)]
    assert refs
    del opt, params, first, p
    gc.collect()
    assert sum(r() is not None for r in refs) == 0


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
@pytest.mark.parametrize("name", ["adam", "sgd_momentum"])
def test_a_copied_model_and_optimiser_go_on_as_the_original(how, name):
    """``copy.deepcopy`` / ``pickle`` of (model, optimiser) mid-run: the copy keeps the moments and step
    counts (the state is keyed by parameter identity, which a copy changes) and follows the original —
    and torch.optim's trajectory.  It used to restart from empty moments and write to stale flat buffers."""
    import copy
    import pickle

    make = {"adam": (ng.optim.Adam, torch.optim.Adam, dict(lr=1e-2)),
            "sgd_momentum": (ng.optim.SGD, torch.optim.SGD, dict(lr=1e-2, momentum=0.9))}[name]  # fmt: skip
    rng = np.random.default_rng(3)
    model = ng.nn.MLP([6, 5, 3], seed=0)
    tparams = [torch.tensor(p.numpy().copy(), requires_grad=True) for p in model.parameters()]
    opt, topt = make[0](model.parameters(), **make[2]), make[1](tparams, **make[2])
    grads = [[rng.standard_normal(p.shape).astype(np.float32) for p in model.parameters()] for _ in range(6)]

    def step(m, o, gs):
        for p, g in zip(m.parameters(), gs):
            p.grad = ng.tensor(g)
        o.step()

    for gs in grads[:3]:
        step(model, opt, gs)
        for tp, g in zip(tparams, gs):
            tp.grad = torch.tensor(g)
        topt.step()
    model2, opt2 = copy.deepcopy((model, opt)) if how == "deepcopy" else pickle.loads(pickle.dumps((model, opt)))
    for gs in grads[3:]:
        step(model, opt, gs)
        step(model2, opt2, gs)
        for tp, g in zip(tparams, gs):
            tp.grad = torch.tensor(g)
        topt.step()
    for p, q, tp in zip(model.parameters(), model2.parameters(), tparams):
        np.testing.assert_array_equal(q.numpy(), p.numpy())
        np.testing.assert_allclose(q.numpy(), tp.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert opt2.state_dict()["state"].keys() == opt.state_dict()["state"].keys()


def test_a_steady_step_refused_in_its_second_group_changes_neither_group(fast, step_with_torch):
    """Steps after the first two take the steady path (groups packed and checked in advance).  A step
    whose second group's update would overflow is refused before the first group is written: every
    parameter and every state buffer keeps its bits, and the run then goes on as torch.optim.Adam's."""
    rng = np.random.default_rng(5)
    shapes = [[(6, 4), (4,)], [(4, 3), (3,)]]
    init = [[rng.standard_normal(s) for s in group] for group in shapes]
    ours = [[ng.tensor(w, requires_grad=True) for w in group] for group in init]
    theirs = [[torch.tensor(w, requires_grad=True) for w in group] for group in init]
    opt = optim.Adam([{"params": g} for g in ours], lr=0.01)
    topt = torch.optim.Adam([{"params": g} for g in theirs], lr=0.01)
    flat_ours, flat_theirs = sum(ours, []), sum(theirs, [])
    for t in range(10):
        grads = [rng.standard_normal(p.shape) for p in flat_ours]
        if t == 6:
            for p, g in zip(flat_ours, grads):
                p.grad = ng.tensor(g * (1e200 if p is flat_ours[-1] else 1.0))
            before = [p.numpy().copy() for p in flat_ours]
            state = [{k: np.copy(v) for k, v in opt.state[id(p)].items()} for p in flat_ours]
            with pytest.raises(FloatingPointError, match="NaN or Inf"):
                opt.step()
            for fg in opt.__dict__.get("_flat_groups", {}).values():  # the first group's prepared update let go
                assert fg.kernel_plan is None or fg.kernel_plan.call[1] is None
            for p, w, s in zip(flat_ours, before, state):
                np.testing.assert_array_equal(p.numpy(), w)
                for k, v in s.items():
                    np.testing.assert_array_equal(opt.state[id(p)][k], v)
        step_with_torch(opt, topt, flat_ours, flat_theirs, grads, rtol=1e-8, atol=1e-10, msg=f"step {t}")


def test_a_subclass_with_its_own_update_is_called_on_every_step(fast):
    """The steady path runs Adam's own update only: a subclass that overrides ``update`` gets every step."""
    calls = []

    class Counted(optim.Adam):
        def update(self, p, g, state, group):
            calls.append(state.get("step", 0))
            super().update(p, g, state, group)

    params = [ng.tensor(np.ones(s), requires_grad=True) for s in SHAPES]
    opt, ref = Counted(params, lr=0.01), optim.Adam([ng.tensor(np.ones(s), requires_grad=True) for s in SHAPES], lr=0.01)
    for _ in range(6):
        for p, q in zip(params, ref.param_groups[0]["params"]):
            p.grad = q.grad = ng.tensor(np.full(p.shape, 0.5))
        opt.step()
        ref.step()
    assert calls == [0, 1, 2, 3, 4, 5]
    for p, q in zip(params, ref.param_groups[0]["params"]):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


@pytest.mark.parametrize("flat", [True, False], ids=["flat", "one parameter"])
@pytest.mark.parametrize("how", ["copy_", "in-place operator", "load_state_dict"])
def test_a_parameter_written_past_the_optimiser_is_read_again_by_the_next_check(flat, how, fast):
    """Adam's check carries a bound on Σ|p| from its last update instead of reading p.  A parameter
    written between steps through the engine (its version counter moves) must be read again: a NaN
    written there, with coupled weight decay, would reach the moments — the step is refused and
    nothing changes, as on the first step after such a write."""
    shapes = SHAPES if flat else [(4096,)]
    params = [ng.nn.Parameter(ng.tensor(np.ones(s))) for s in shapes]
    holder = ng.nn.Module()
    holder.w = params[0]
    opt = optim.Adam(params, lr=1.0, weight_decay=1.0)
    for _ in range(4):  # past the first steps: the steady path, with Σ|p| carried
        for p in params:
            p.grad = ng.tensor(np.ones(p.shape))
        opt.step()
    target = params[0]
    bad = target.numpy().copy()
    bad.reshape(-1)[0] = np.nan
    with ng.no_grad():
        if how == "copy_":
            target.copy_(bad)
        elif how == "in-place operator":
            target += ng.tensor(bad - target.numpy())
        else:
            holder.load_state_dict({"w": bad})
    assert np.isnan(target.numpy()).any()
    state = [{k: np.copy(v) for k, v in opt.state[id(p)].items()} for p in params]
    for p in params:
        p.grad = ng.tensor(-np.ones(p.shape))
    with pytest.raises(FloatingPointError, match="NaN or Inf"):
        opt.step()
    for p, s in zip(params, state):
        for k, v in s.items():
            np.testing.assert_array_equal(opt.state[id(p)][k], v)
            if k != "step":
                assert np.isfinite(opt.state[id(p)][k]).all()


def _steady_run(steps=3, groups=1, n=3000):
    """An Adam over ``groups`` groups of two parameters, stepped ``steps`` times (the steady path from the third)."""
    rng = np.random.default_rng(9)
    params = [[ng.tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True) for s in [(n, 4), (4,)]]
              for _ in range(groups)]  # fmt: skip
    opt = optim.Adam([{"params": g} for g in params], lr=1e-3)
    for _ in range(steps):
        for p in sum(params, []):
            p.grad = ng.tensor(rng.standard_normal(p.shape).astype(np.float32))
        opt.step()
    return opt, sum(params, []), rng


def test_a_loaded_state_lets_the_buffers_it_replaces_go(fast):
    """``load_state_dict`` gives the group new flat state buffers on its next step: the steady step's kept
    kernel arguments must not hold the old ones (2–3 times the parameters' memory) alive."""
    import gc
    import weakref

    opt, params, rng = _steady_run()
    fg = next(iter(opt._flat_groups.values()))
    old = [weakref.ref(fg.state[k]) for k in ("exp_avg", "exp_avg_sq")]
    opt.load_state_dict(opt.state_dict())
    for p in params:
        p.grad = ng.tensor(rng.standard_normal(p.shape).astype(np.float32))
    opt.step()
    del fg
    gc.collect()
    assert [r() is None for r in old] == [True, True]


def test_an_interrupt_inside_the_steady_check_keeps_no_gradient_and_changes_nothing(monkeypatch):
    """Ctrl-C while the second group's gradient is summed (by the compiled kernels): the first group's prepared
    update is dropped with its gradients, and no parameter or state has changed."""
    import gc
    import weakref

    from nablagrad.backend import kernels

    if not kernels.fast_available():
        pytest.skip("the fast extra (numba) is not installed")
    opt, params, rng = _steady_run(groups=2)
    for p in params:
        p.grad = ng.tensor(rng.standard_normal(p.shape).astype(np.float32))
    before = [p.numpy().copy() for p in params]
    state = [{k: np.copy(v) for k, v in opt.state[id(p)].items()} for p in params]
    calls, kernel = [], kernels._kernel

    def interrupting(name):
        if name != "abs_sum_parts":
            return kernel(name)

        def abs_sum_parts(parts):
            calls.append(1)
            if len(calls) > 1:  # the first group's gradients pass; the second group's are interrupted
                raise KeyboardInterrupt
            return kernel("abs_sum_parts")(parts)

        return abs_sum_parts

    monkeypatch.setattr(kernels, "_kernel", interrupting)
    with pytest.raises(KeyboardInterrupt):
        opt.step()
    monkeypatch.undo()
    for p, w, s in zip(params, before, state):
        np.testing.assert_array_equal(p.numpy(), w)
        for k, v in s.items():
            np.testing.assert_array_equal(opt.state[id(p)][k], v)
    refs = [weakref.ref(p.grad.data) for p in params]
    for p in params:
        p.grad = None
    gc.collect()
    assert all(r() is None for r in refs)
