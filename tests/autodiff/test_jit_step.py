"""ng.jit of a whole training step (forward, ``loss.backward()``, ``optimizer.step()``): the compiled step
repeats the backward and the optimiser's calls in their places and equals the eager step bit for bit over
100 steps (every optimiser, several losses, with and without the fast extra); a step the program cannot
repeat is refused on its first replay and undone.  Off NumPy the function runs as it is (same results)."""

import numpy as np
import pytest

import nablagrad as ng
from nablagrad import optim
from nablagrad.autodiff import GraphFreedError
from nablagrad.nn.utils import clip_grad_norm_

NUMPY_ONLY = "ng.jit compiles NumPy programs only; on another array library it runs the function plainly"

OPTIMIZERS = {
    "sgd": dict(lr=0.05, momentum=0.9, nesterov=True),
    "momentum": dict(lr=0.05),
    "adagrad": dict(lr=0.05),
    "rmsprop": dict(lr=0.01, momentum=0.5, centered=True),
    "adam": dict(lr=0.01, amsgrad=True),
    "adamw": dict(lr=0.01),
}
LOSSES = {
    "cross_entropy": (lambda out, y: ng.nn.functional.cross_entropy(out, y), lambda rng, n: rng.integers(0, 3, n)),
    "mse": (lambda out, y: ng.nn.functional.mse_loss(out, y), lambda rng, n: rng.standard_normal((n, 3)).astype(np.float32)),
}


def _on_numpy() -> bool:
    return ng.get_default_device() == "cpu"


def _setup(opt_name: str):
    model = ng.nn.MLP([4, 8, 3], activation="tanh", seed=0)
    return model, optim.OPTIMIZERS[opt_name](model.parameters(), **OPTIMIZERS[opt_name])


def _plain_step(model, opt, loss: str = "cross_entropy"):
    """The training step users write: the loss, ``zero_grad()``, ``backward()``, ``step()``; returns the loss."""

    def step(x, y):
        out = LOSSES[loss][0](model(x), y)
        opt.zero_grad()
        out.backward()
        opt.step()
        return out

    return step


def _run(step, loss: str, steps: int = 100, batch=lambda i: 5):
    rng = np.random.default_rng(0)
    losses = []
    for i in range(steps):
        n = batch(i)
        x = rng.standard_normal((n, 4)).astype(np.float32)
        losses.append(float(step(x, LOSSES[loss][1](rng, n)).numpy()))
    return losses


def _host(v) -> np.ndarray:
    """A state entry (an array of any library, or a number) as a NumPy array."""
    return np.asarray(v) if isinstance(v, int | float) else ng.as_tensor(v).numpy()


def _params(model) -> list[np.ndarray]:
    return [p.numpy().copy() for p in model.parameters()]


@pytest.mark.parametrize("opt_name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_compiled_training_step_equals_the_eager_step_bitwise(loss, opt_name, fast):
    results = []
    for compiled in (False, True):
        model, opt = _setup(opt_name)
        step = _plain_step(model, opt, loss)
        f = ng.jit(step) if compiled else step
        losses = _run(f, loss)
        results.append((losses, _params(model), opt.state_dict()))
        if compiled:
            assert f.traces == (1 if _on_numpy() else 0)
    (eager_losses, eager_params, eager_state), (losses, params, state) = results
    assert losses == eager_losses
    for a, b in zip(params, eager_params):
        np.testing.assert_array_equal(a, b)
    for i, buffers in eager_state["state"].items():
        for k, v in buffers.items():
            np.testing.assert_array_equal(_host(state["state"][i][k]), _host(v))


def test_zero_grad_first_accumulation_schedule_and_clipping_are_repeated():
    """The effects in any order: zero_grad before the forward, gradients accumulated over two backwards,
    a learning-rate schedule and gradient clipping (given a list) inside the step."""
    results = []
    for compiled in (False, True):
        model, opt = _setup("sgd")
        schedule = optim.StepLR(opt, step_size=7, gamma=0.5)
        params = list(model.parameters())

        def step(x, y):
            model.zero_grad()
            loss = ng.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            (0.5 * ng.nn.functional.cross_entropy(model(2 * x), y)).backward()  # accumulates into .grad
            clip_grad_norm_(params, 0.5)
            opt.step()
            schedule.step()
            return loss, model(x)  # the second result reads the parameters after the update

        f = ng.jit(step) if compiled else step
        rng = np.random.default_rng(1)
        outs = []
        for _ in range(30):
            x = rng.standard_normal((6, 4)).astype(np.float32)
            loss, after = f(x, rng.integers(0, 3, 6))
            outs.append((float(loss.numpy()), after.numpy().copy()))
        results.append((outs, _params(model), opt.param_groups[0]["lr"]))
    (eager, eager_params, eager_lr), (outs, params, lr) = results
    assert lr == eager_lr == pytest.approx(0.05 * 0.5**4)
    for (l1, a1), (l2, a2) in zip(outs, eager):
        assert l1 == l2
        np.testing.assert_array_equal(a1, a2)
    for a, b in zip(params, eager_params):
        np.testing.assert_array_equal(a, b)


def test_a_new_batch_size_traces_again_and_stays_equal():
    results = []
    for compiled in (False, True):
        model, opt = _setup("adam")
        step = _plain_step(model, opt)
        f = ng.jit(step) if compiled else step
        losses = _run(f, "cross_entropy", steps=40, batch=lambda i: 5 if i % 3 else 2)
        results.append((losses, _params(model)))
        if compiled:
            assert f.traces == (2 if _on_numpy() else 0)
    assert results[0][0] == results[1][0]
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_array_equal(a, b)


def test_compiled_adam_step_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    W0 = rng.standard_normal((4, 3)).astype(np.float32)
    W = ng.tensor(W0, requires_grad=True)
    opt = optim.Adam([W], lr=0.01)

    @ng.jit
    def step(x, y):
        loss = ng.nn.functional.cross_entropy(x @ W, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    Wt = torch.tensor(W0, requires_grad=True)
    topt = torch.optim.Adam([Wt], lr=0.01)
    for _ in range(50):
        x = rng.standard_normal((8, 4)).astype(np.float32)
        y = rng.integers(0, 3, 8)
        loss = step(x, y)
        topt.zero_grad()
        tloss = torch.nn.functional.cross_entropy(torch.from_numpy(x) @ Wt, torch.from_numpy(y))
        tloss.backward()
        topt.step()
        assert float(loss.numpy()) == pytest.approx(tloss.item(), rel=1e-5)
    np.testing.assert_allclose(W.numpy(), Wt.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.numpy_only(NUMPY_ONLY)
def test_a_step_the_program_cannot_repeat_is_refused_and_undone():
    """A parameter update written on ``.data`` is no op and no effect: the first replay disagrees with the
    function, raises naming the fix, and leaves the parameters and their gradients as before the call."""
    model = ng.nn.MLP([4, 8, 3], seed=0)

    @ng.jit
    def step(x, y):
        loss = ng.nn.functional.cross_entropy(model(x), y)
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= 0.1 * p.grad.data
        return loss

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((5, 4)).astype(np.float32), rng.integers(0, 3, 5)
    step(x, y)  # traced: the function itself ran
    before = _params(model)
    grads = [p.grad.numpy().copy() for p in model.parameters()]
    with pytest.raises(ng.JitError, match=r"cannot repeat.*optimizer\.step\(\).*without ng\.jit"):
        step(x, y)
    for a, p, g in zip(before, model.parameters(), grads):
        np.testing.assert_array_equal(p.numpy(), a)
        np.testing.assert_array_equal(p.grad.numpy(), g)


@pytest.mark.numpy_only(NUMPY_ONLY)
def test_a_refused_replay_restores_the_optimiser_state():
    model, opt = _setup("adam")
    noise = np.random.default_rng(5)

    plain = _plain_step(model, opt)

    @ng.jit
    def step(x, y):
        loss = plain(x, y)
        model[0].weight.data += noise.standard_normal(model[0].weight.shape).astype(np.float32) * 1e-3  # raw, random
        return loss

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((5, 4)).astype(np.float32), rng.integers(0, 3, 5)
    step(x, y)
    before, state = _params(model), opt.state_dict()
    with pytest.raises(ng.JitError, match="disagrees"):
        step(x, y)
    for a, b in zip(_params(model), before):
        np.testing.assert_array_equal(a, b)
    after = opt.state_dict()
    assert after["state"][0]["step"] == state["state"][0]["step"] == 1
    np.testing.assert_array_equal(_host(after["state"][0]["exp_avg"]), _host(state["state"][0]["exp_avg"]))


@pytest.mark.numpy_only(NUMPY_ONLY)
def test_backward_with_arguments_or_control_flow_inside_a_step_is_refused_naming_the_fix():
    model, opt = _setup("sgd")
    x, y = np.ones((2, 4), np.float32), np.array([0, 1])

    def create_graph(x, y):
        loss = ng.nn.functional.cross_entropy(model(x), y)
        loss.backward(create_graph=True)
        return loss

    with pytest.raises(ng.JitError, match="create_graph.*without ng.jit"):
        ng.jit(create_graph)(x, y)

    def early_stop(x, y):
        loss = ng.nn.functional.cross_entropy(model(x), y)
        if loss < 0.1:
            return loss
        loss.backward()
        opt.step()
        return loss

    with pytest.raises(ng.JitError, match=r"ng\.where"):
        ng.jit(early_stop)(x, y)


def test_the_compiled_step_returns_values_without_a_graph():
    model, opt = _setup("sgd")
    step = ng.jit(_plain_step(model, opt))
    x, y = np.ones((2, 4), np.float32), np.array([0, 1])
    for _ in range(3):
        loss = step(x, y)
        assert loss.shape == ()
        assert not loss.requires_grad or not _on_numpy()  # compiled: its backward was taken inside the step


@pytest.mark.numpy_only(NUMPY_ONLY)
def test_a_trace_refused_after_the_step_changes_nothing():
    """``return loss.item()`` reads a traced value after ``opt.step()`` ran: the trace is refused naming the
    fix, and the parameters, their gradients and the optimiser's state are as before the call."""
    model, opt = _setup("adam")
    x, y = np.ones((3, 4), np.float32), np.array([0, 1, 2])
    loss = ng.nn.functional.cross_entropy(model(x), y)  # one eager step first: a state to keep
    loss.backward()
    opt.step()
    before, grads, state = _params(model), [p.grad for p in model.parameters()], opt.state_dict()

    plain = _plain_step(model, opt)

    @ng.jit
    def step(x, y):
        return plain(x, y).item()  # a value read after opt.step() ran

    with pytest.raises(ng.JitError, match="item"):
        step(x, y)
    for a, p, g in zip(before, model.parameters(), grads):
        np.testing.assert_array_equal(p.numpy(), a)
        assert p.grad is g
    after = opt.state_dict()
    assert after["state"][0]["step"] == state["state"][0]["step"] == 1
    for i, buffers in state["state"].items():
        np.testing.assert_array_equal(after["state"][i]["exp_avg_sq"], buffers["exp_avg_sq"])
    opt.step()  # the optimiser still works from there
    assert opt.state_dict()["state"][0]["step"] == 2


def test_a_step_that_returns_nothing():
    results = []
    for compiled in (False, True):
        model, opt = _setup("rmsprop")

        def step(x, y):
            opt.zero_grad()
            ng.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()

        f = ng.jit(step) if compiled else step
        rng = np.random.default_rng(3)
        for _ in range(20):
            assert f(rng.standard_normal((4, 4)).astype(np.float32), rng.integers(0, 3, 4)) is None
        results.append(_params(model))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def _both(make_step, calls: int = 12, seed: int = 0):
    """Run the step ``make_step()`` builds eagerly and compiled, from the same state; return both runs'
    (results, parameters)."""
    runs = []
    for compiled in (False, True):
        step, model = make_step()
        f = ng.jit(step) if compiled else step
        rng = np.random.default_rng(seed)
        out = []
        for _ in range(calls):
            r = f(rng.standard_normal((6, 4)).astype(np.float32), rng.integers(0, 3, 6))
            out.append(None if r is None else r.numpy().copy())
        runs.append((out, _params(model)))
    return runs


def _assert_same(runs):
    (eager, eager_params), (got, params) = runs
    for a, b in zip(got, eager):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(params, eager_params):
        np.testing.assert_array_equal(a, b)


def test_clipping_a_generator_of_parameters_a_custom_schedule_and_three_gradient_uses():
    """``clip_grad_norm_(model.parameters(), …)`` (a generator, kept as a list), a schedule subclass with its
    own ``step``, and a value used three times (so its gradient sums three terms in eager mode's order)."""

    class Warmup(optim.LRScheduler):
        def step(self):
            self.last_epoch += 1
            for g, base in zip(self.optimizer.param_groups, self.base_lrs):
                g["lr"] = base * min(1.0, self.last_epoch / 5)

    def make():
        model, opt = _setup("sgd")
        schedule = Warmup(opt)

        def step(x, y):
            out = model(x)
            loss = ng.nn.functional.cross_entropy(out, y) + 0.1 * (out * out).mean() + 0.01 * out.sum()
            opt.zero_grad()
            loss.backward()
            clip_grad_norm_(model.parameters(), 0.05)
            opt.step()
            schedule.step()
            return loss.detach()  # shares the loss's data: read from the loss

        return step, model

    _assert_same(_both(make))


def test_parameters_passed_as_arguments_train_from_the_first_call():
    """Tensors that require a gradient given as arguments are trained by the call that traces too, and a
    value computed after ``opt.step()`` reads them as the step left them (Adam packs them into one buffer)."""
    W0 = np.random.default_rng(2).standard_normal((4, 3)).astype(np.float32)
    results = []
    for compiled in (False, True):
        W = ng.tensor(W0, requires_grad=True)
        b = ng.zeros(3, requires_grad=True)
        opt = optim.Adam([W, b], lr=0.05)

        def step(x, y, W, b, opt=opt):
            loss = ng.nn.functional.cross_entropy(x @ W + b, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return ng.nn.functional.cross_entropy(x @ W + b, y)

        f = ng.jit(step) if compiled else step
        rng = np.random.default_rng(0)
        losses = [float(f(rng.standard_normal((6, 4)).astype(np.float32), rng.integers(0, 3, 6), W, b).numpy())
                  for _ in range(10)]  # fmt: skip
        results.append((losses, W.numpy().copy(), b.numpy().copy()))
    assert results[0][0] == results[1][0]
    np.testing.assert_array_equal(results[0][1], results[1][1])
    np.testing.assert_array_equal(results[0][2], results[1][2])


def test_a_read_only_constant_is_fine():
    frozen = np.full(4, 0.5, np.float32)
    frozen.flags.writeable = False
    scale = ng.as_tensor(frozen)

    def make():
        model, opt = _setup("adam")

        def step(x, y):
            opt.zero_grad()
            loss = ng.nn.functional.cross_entropy(model(x * scale), y)
            loss.backward()
            opt.step()
            return loss

        return step, model

    _assert_same(_both(make))


@pytest.mark.numpy_only(NUMPY_ONLY)
def test_closures_second_backwards_and_frozen_values_are_refused():
    model, opt = _setup("sgd")
    x, y = np.ones((2, 4), np.float32), np.array([0, 1])

    def with_closure(x, y):
        def closure():
            opt.zero_grad()
            loss = ng.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            return loss

        return opt.step(closure)

    before = _params(model)
    with pytest.raises(ng.JitError, match=r"step\(closure\).*without ng\.jit"):
        ng.jit(with_closure)(x, y)

    def twice(x, y):
        loss = ng.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        loss.backward()  # eager mode refuses: the first backward freed the graph
        return loss

    with pytest.raises(GraphFreedError):
        twice(x, y)
    with pytest.raises(GraphFreedError):
        ng.jit(twice)(x, y)
    for a, b in zip(_params(model), before):
        np.testing.assert_array_equal(a, b)

    def metric(x, y):
        loss = ng.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        with ng.no_grad():
            accuracy = (model(x).argmax(-1) == ng.as_tensor(y)).astype("float32").mean()
        return loss, accuracy

    twin, twin_opt = _setup("sgd")  # a value computed under no_grad is recorded: each call's own, as in eager mode
    compiled, rng = ng.jit(metric), np.random.default_rng(7)

    def twin_metric(x, y):
        loss = ng.nn.functional.cross_entropy(twin(x), y)
        twin_opt.zero_grad()
        loss.backward()
        twin_opt.step()
        with ng.no_grad():
            accuracy = (twin(x).argmax(-1) == ng.as_tensor(y)).astype("float32").mean()
        return loss, accuracy

    for _ in range(4):
        xs, ys = rng.standard_normal((6, 4)).astype(np.float32), rng.integers(0, 3, 6)
        (a, b), (c, d) = compiled(xs, ys), twin_metric(xs, ys)
        np.testing.assert_array_equal(a.numpy(), c.numpy())
        np.testing.assert_array_equal(b.numpy(), d.numpy())
        assert not b.requires_grad
    for p, q in zip(_params(model), _params(twin)):
        np.testing.assert_array_equal(p, q)

    def scaled(x, y):  # a number read from .data is frozen into the program
        loss = ng.nn.functional.cross_entropy(model(x), y) * float(np.abs(model[0].weight.data).sum())
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    f = ng.jit(scaled)
    f(x, y)
    before = _params(model)
    with pytest.raises(ng.JitError, match="disagrees"):
        f(x, y)
    for a, b in zip(_params(model), before):
        np.testing.assert_array_equal(a, b)


def test_detach_inside_is_computed_anew_on_every_call():
    """``h.detach()`` of a traced value is an op of the program (no gradient flows through it), not a
    constant frozen at its first value: in a compiled loss and in a compiled step (a straight-through
    estimator)."""

    def make():
        model, opt = _setup("adam")

        def step(x, y):
            h = model(x)
            rounded = h + (ng.round(h) - h).detach()  # straight-through: forward rounds, backward is identity
            loss = ng.nn.functional.cross_entropy(rounded, y) + ((h - h.detach().mean()) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        return step, model

    _assert_same(_both(make))
    model = ng.nn.MLP([4, 8, 3], seed=0)
    centred = lambda x: ((model(x) - model(x).detach().mean()) ** 2).mean()  # noqa: E731
    f = ng.jit(centred)
    rng = np.random.default_rng(4)
    for _ in range(4):
        x = rng.standard_normal((5, 4)).astype(np.float32)
        assert float(f(x).numpy()) == float(centred(x).numpy())


def test_a_model_cast_between_calls_traces_again():
    model = ng.nn.MLP([4, 8, 3], seed=0)
    f = ng.jit(lambda x, y: ng.nn.functional.cross_entropy(model(x), y))
    x, y = np.ones((2, 4), np.float32), np.array([0, 1])
    f(x, y)
    model.astype("float64")
    with pytest.raises(TypeError, match="float64"):  # as eager mode: the float32 input no longer fits the layer
        f(x, y)
    assert f(x.astype(np.float64), y).dtype == np.float64
    assert f.traces == (2 if _on_numpy() else 0)


def _refused_changing_nothing(step, model) -> None:
    """``ng.jit(step)`` refuses its first call (a value it would freeze) and the model keeps its parameters."""
    before = _params(model)
    with pytest.raises(ng.JitError, match="first call's value"):
        ng.jit(step)(np.ones((2, 4), np.float32), np.array([0, 1]))
    for a, b in zip(_params(model), before):
        np.testing.assert_array_equal(a, b)


class _OnLoss(optim.LRScheduler):
    """A schedule stepped with the loss (as ReduceLROnPlateau): the learning rate halves when it rises."""

    def __init__(self, opt):
        self.seen = []
        super().__init__(opt)

    def step(self, metric=None):
        if metric is not None:
            value = float(metric)
            if self.seen and value > self.seen[-1]:
                for group in self.optimizer.param_groups:
                    group["lr"] *= 0.5
            self.seen.append(value)
        self.last_epoch += 1

    def state_dict(self):
        return {**super().state_dict(), "seen": list(self.seen)}

    def load_state_dict(self, state):
        super().load_state_dict(state)
        self.seen = list(state["seen"])


@pytest.mark.numpy_only(NUMPY_ONLY)
@pytest.mark.parametrize("as_keyword", [False, True], ids=["positional", "keyword"])
def test_an_effect_given_a_value_of_the_call_receives_each_calls_value(as_keyword):
    """``schedule.step(loss)``: every call passes its own loss (not the first call's), so the losses the
    schedule sees, the learning rates and the parameters are those of the eager run, bit for bit."""
    rng = np.random.default_rng(3)
    batches = [(rng.standard_normal((5, 4)).astype(np.float32), rng.integers(0, 3, 5)) for _ in range(12)]
    runs = []
    for compiled in (False, True):
        model, opt = _setup("sgd")
        schedule = _OnLoss(opt)
        plain = _plain_step(model, opt)

        def step(x, y, plain=plain, schedule=schedule):
            loss = plain(x, y)
            schedule.step(metric=loss) if as_keyword else schedule.step(loss)
            return loss

        f = ng.jit(step) if compiled else step
        for x, y in batches:
            f(x, y)
        runs.append((schedule.seen, [g["lr"] for g in opt.param_groups], _params(model)))
    (seen, lrs, params), (seen_c, lrs_c, params_c) = runs
    assert seen_c == seen and len(set(seen)) == len(batches)  # each call's own loss
    assert lrs_c == lrs
    for a, b in zip(params_c, params):
        np.testing.assert_array_equal(a, b)


@pytest.mark.numpy_only(NUMPY_ONLY)
def test_an_effect_given_a_value_computed_under_no_grad_gets_each_calls_value():
    """A value computed under ``no_grad`` is recorded (no gradient flows through it): the effect is given each
    call's own value, as in eager mode."""

    def make():
        model, opt = _setup("sgd")
        schedule = _OnLoss(opt)
        plain = _plain_step(model, opt)

        def step(x, y):
            loss = plain(x, y)
            with ng.no_grad():
                score = model(ng.as_tensor(x)).sum()
            schedule.step(score)
            return loss

        return model, schedule, step

    (m1, s1, eager), (m2, s2, step) = make(), make()
    compiled, rng = ng.jit(step), np.random.default_rng(8)
    for _ in range(5):
        x, y = rng.standard_normal((3, 4)).astype(np.float32), rng.integers(0, 3, 3)
        np.testing.assert_array_equal(compiled(x, y).numpy(), eager(x, y).numpy())
    assert s1.seen == s2.seen and len(set(s2.seen)) == 5
    for p, q in zip(_params(m1), _params(m2)):
        np.testing.assert_array_equal(p, q)


@pytest.mark.numpy_only(NUMPY_ONLY)
def test_a_program_keeps_no_array_of_the_call_that_traced_it():
    import gc
    import weakref

    model, opt = _setup("sgd")
    step = ng.jit(_plain_step(model, opt))
    x, y = np.ones((2, 4), np.float32), np.array([0, 1])
    refs = [weakref.ref(x), weakref.ref(y)]
    step(x, y)
    step(np.ones((2, 4), np.float32), np.array([1, 0]))
    del x, y
    gc.collect()
    assert all(r() is None for r in refs)


@pytest.mark.numpy_only(NUMPY_ONLY)
def test_a_step_refused_on_its_first_replay_raises_as_the_eager_step_and_changes_nothing():
    """The first replay (compared with an eager call) meets a refused update: the call raises what the eager
    step raises, and the parameters and optimiser state are those from before the call."""
    model, opt = _setup("adam")
    step = ng.jit(_plain_step(model, opt))
    x, y = np.ones((2, 4), np.float32), np.array([0, 1])
    step(x, y)  # traced: one step taken
    before, state = _params(model), opt.state_dict()
    with pytest.raises(FloatingPointError, match="NaN or Inf"):
        step(np.full((2, 4), np.inf, np.float32), y)  # the first replay: a NaN loss, NaN gradients, a refused step
    for a, b in zip(_params(model), before):
        np.testing.assert_array_equal(a, b)
    assert opt.state_dict()["state"].keys() == state["state"].keys()
    for i, s in state["state"].items():
        for k, v in s.items():
            np.testing.assert_array_equal(_host(opt.state_dict()["state"][i][k]), _host(v))
    step(x, y)  # the program goes on: a step from the same state as the eager step takes


@pytest.mark.numpy_only(NUMPY_ONLY)
def test_a_step_through_a_comparison_and_where_equals_the_eager_step():
    """``where(x > 0, …)``: the comparison's booleans carry no gradient, also in the backward that runs
    while the step is traced (it used to call the condition's missing rule)."""
    results = []
    for compiled in (False, True):
        w = ng.tensor(np.array([0.5, -1.0, 2.0], np.float32), requires_grad=True)
        opt = optim.SGD([w], lr=0.1)

        def step(x, w=w, opt=opt):
            opt.zero_grad()
            loss = ng.where(x > 0, w * x, 0.1 * w * x).sum()
            loss.backward()
            opt.step()
            return loss

        f = ng.jit(step) if compiled else step
        losses = [float(f(ng.tensor(np.array([1.0, -2.0, 3.0], np.float32) * k)).numpy()) for k in (1, -1, 2, 1)]
        results.append((losses, w.numpy().copy()))
    assert results[1][0] == results[0][0]
    np.testing.assert_array_equal(results[1][1], results[0][1])


@pytest.mark.numpy_only(NUMPY_ONLY)
@pytest.mark.parametrize("switch", [True, False], ids=["amsgrad on", "amsgrad off"])
def test_options_changed_between_calls_are_followed_and_groups_stay_the_same_objects(switch):
    """``amsgrad`` switched between calls leaves a state ``load_state_dict`` would refuse for the new
    options; the first replay's check still puts everything back exactly, and the groups that code holds
    (``opt.param_groups[0]``, its ``params`` list) stay the optimiser's own."""
    results = []
    for compiled in (False, True):
        model = ng.nn.MLP([4, 8, 3], activation="tanh", seed=0)
        opt = optim.Adam(model.parameters(), lr=0.01, amsgrad=not switch)
        group, params = opt.param_groups[0], opt.param_groups[0]["params"]
        plain = _plain_step(model, opt)
        f = ng.jit(plain) if compiled else plain
        rng = np.random.default_rng(1)
        for i in range(6):
            if i == 1:
                group["amsgrad"] = switch
            f(rng.standard_normal((5, 4)).astype(np.float32), rng.integers(0, 3, 5))
        assert opt.param_groups[0] is group and group["params"] is params
        results.append((_params(model), group["lr"]))
    for a, b in zip(results[1][0], results[0][0]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.numpy_only(NUMPY_ONLY)
def test_an_optimiser_subclass_keeping_its_own_counter_is_put_back_by_the_check(counting_sgd):
    """State outside ``state_dict`` (a subclass's counter) is put back after the first replay, so the step
    is taken once per call, as eagerly."""
    results = []
    for compiled in (False, True):
        model = ng.nn.MLP([4, 8, 3], activation="tanh", seed=0)
        opt = counting_sgd(model.parameters(), lr=0.1)
        plain = _plain_step(model, opt)
        f = ng.jit(plain) if compiled else plain
        rng = np.random.default_rng(2)
        for _ in range(5):
            f(rng.standard_normal((5, 4)).astype(np.float32), rng.integers(0, 3, 5))
        results.append((opt.t, _params(model)))
    assert results[1][0] == results[0][0] == 5
    for a, b in zip(results[1][1], results[0][1]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.numpy_only(NUMPY_ONLY)
@pytest.mark.parametrize("how", ["first positional", "keyword", "dict"])
def test_a_value_of_the_call_inside_a_container_given_to_a_plain_function_effect_is_refused(how):
    """A plain function's first argument is its own (no ``self``): a loss inside a list there, or inside a
    dict, would be the first call's on every call — refused."""
    from nablagrad.autodiff.jit import effect

    seen = []

    @effect
    def log_values(values=None, **named):
        seen.append(values)

    model, opt = _setup("sgd")
    plain = _plain_step(model, opt)

    def step(x, y):
        loss = plain(x, y)
        if how == "first positional":
            log_values([loss])
        elif how == "keyword":
            log_values(values=[loss])
        else:
            log_values(values={"loss": loss})
        return loss

    _refused_changing_nothing(step, model)


def _labels(rng, n):
    return rng.integers(0, 3, n)


def _probabilities(rng, n):
    p = rng.random((n, 3)).astype(np.float32)
    return p / p.sum(axis=1, keepdims=True)


LOSS_OPTIONS = {  # the losses' options that read the target (a compiled step must read each call's own)
    "class weights": (lambda: ng.nn.CrossEntropyLoss(weight=np.array([1.0, 2.0, 0.5], np.float32)), None, _labels),
    "ignore_index and smoothing": (lambda: ng.nn.CrossEntropyLoss(ignore_index=2, label_smoothing=0.1), None, _labels),
    "probabilities, labels": (lambda: ng.nn.CrossEntropyProbsLoss(), "softmax", _labels),
    "probability targets": (lambda: ng.nn.CrossEntropyLoss(), None, _probabilities),
    "probability targets, weights and smoothing": (
        lambda: ng.nn.CrossEntropyLoss(weight=np.array([1.0, 2.0, 0.5], np.float32), label_smoothing=0.2), None, _probabilities),
}


@pytest.mark.parametrize("opt_name", ["sgd", "adam"])
@pytest.mark.parametrize("case", sorted(LOSS_OPTIONS))
def test_a_compiled_step_with_label_reading_loss_options_equals_the_eager_step_bitwise(case, opt_name):
    make_loss, head, target = LOSS_OPTIONS[case]
    results = []
    for compiled in (False, True):
        model, opt = _setup(opt_name)
        loss_fn = make_loss()

        def step(x, y, model=model, opt=opt, loss_fn=loss_fn):
            out = model(x)
            loss = loss_fn(ng.softmax(out, axis=1) if head == "softmax" else out, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        f = ng.jit(step) if compiled else step
        rng = np.random.default_rng(0)
        losses = [float(f(rng.standard_normal((5, 4)).astype(np.float32), target(rng, 5)).numpy()) for _ in range(100)]
        results.append((losses, _params(model)))
        if compiled and _on_numpy():
            assert f.traces == 1
    (eager_losses, eager_params), (losses, params) = results
    np.testing.assert_array_equal(losses, eager_losses)  # NaN (every row ignored) equals NaN
    for a, b in zip(params, eager_params):
        np.testing.assert_array_equal(a, b)
