"""ng.jit: replayed programs equal eager calls (values and gradients), retrace on new shapes or
dtypes, refuse value-dependent Python control flow; compiled training steps equal eager ones.
Programs are NumPy programs: on another array library ng.jit runs the function plainly, with
the same results (with tests/autodiff/conftest.py every test here runs on each library)."""

import threading
import tracemalloc

import numpy as np
import pytest

import nablagrad as ng
from nablagrad import optim
from nablagrad.nn import LOSSES
from nablagrad.train.compiled import BatchLoss

NUMPY_ONLY = "ng.jit compiles NumPy programs only; on another array library it runs the function plainly (issue 12)"


def _grads(params):
    return [p.grad.numpy().copy() for p in params]


def _on_numpy() -> bool:
    """Whether the test runs on NumPy (``array_namespace`` in tests/conftest.py sets the default device)."""
    return ng.get_default_device() == "cpu"


def _traces(n):
    """How many traces ``n`` calls that trace on NumPy make here (none off NumPy)."""
    return n if _on_numpy() else 0


def test_values_and_gradients_equal_eager(rng):
    W = ng.tensor(rng.standard_normal((5, 4)), requires_grad=True)
    b = ng.tensor(rng.standard_normal(4), requires_grad=True)

    def f(x, scale):
        h = ng.tanh(x @ W + b) * scale
        return (ng.logsumexp(h, axis=1) + ng.sigmoid(h).sum(axis=1) ** 2).mean(), h

    fj = ng.jit(f)
    for _ in range(3):
        x = ng.tensor(rng.standard_normal((7, 5)), requires_grad=True)
        (lj, hj), (le, he) = fj(x, 2.0), f(x, 2.0)
        np.testing.assert_array_equal(lj.numpy(), le.numpy())
        np.testing.assert_array_equal(hj.numpy(), he.numpy())
        assert hj.requires_grad == he.requires_grad  # every floating result carries its gradient, as eager (and jax.jit)
        W.grad = b.grad = x.grad = None
        lj.backward()
        got = _grads([W, b, x])
        W.grad = b.grad = x.grad = None
        le.backward()
        for a, e in zip(got, _grads([W, b, x])):
            np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-15)
    assert fj.traces == _traces(1)


def test_gradient_against_central_differences():
    f = ng.jit(lambda x: (ng.sin(x) * ng.exp(-x * x)).sum())
    x0 = np.linspace(-1, 1, 6)
    f(np.zeros(6))  # the trace
    x = ng.tensor(x0, requires_grad=True)
    f(x).backward()
    h, eye = 1e-6, np.eye(6)
    numeric = [(f(x0 + h * e).item() - f(x0 - h * e).item()) / (2 * h) for e in eye]
    np.testing.assert_allclose(x.grad.numpy(), numeric, rtol=1e-7, atol=1e-9)


def test_retraces_on_new_shape_or_dtype_only(rng):
    f = ng.jit(lambda x: (x * x).sum())
    f(rng.standard_normal(3))
    f(rng.standard_normal(3))
    assert f.traces == _traces(1)
    f(rng.standard_normal(4))
    assert f.traces == _traces(2)
    out = f(rng.standard_normal(4).astype(np.float32))
    assert f.traces == _traces(3) and out.dtype == np.float32
    f(rng.standard_normal(3))
    assert f.traces == _traces(3)


def test_integer_labels_are_inputs_not_constants(rng):
    logits = ng.tensor(rng.standard_normal((6, 4)), requires_grad=True)
    f = ng.jit(lambda y: ng.nn.functional.cross_entropy(logits, y))
    for _ in range(3):
        y = rng.integers(0, 4, 6)
        np.testing.assert_array_equal(f(y).numpy(), ng.nn.functional.cross_entropy(logits, y).numpy())


def test_a_program_follows_its_tensors_off_numpy_and_back(rng):
    """A tensor the function reads, moved off NumPy after the trace, makes the calls plain; moved
    back, they are compiled again (one more trace) — equal to eager calls throughout."""
    lin = ng.nn.Linear(5, 3, seed=0).to("cpu")
    y = ng.tensor(rng.integers(0, 3, 5), device="cpu")
    f = ng.jit(lambda y: ng.nn.functional.cross_entropy(lin.weight, y))

    def check():
        results = []
        for g in (f, lambda y: ng.nn.functional.cross_entropy(lin.weight, y)):
            lin.weight.grad = None
            loss = g(y)
            loss.backward()
            results.append((loss.item(), lin.weight.grad.numpy().copy()))
        lin.weight.grad = None
        assert results[0][0] == results[1][0]
        np.testing.assert_array_equal(results[0][1], results[1][1])

    check(), check()  # the trace, the checked first replay
    lin.to(ng.get_default_device())
    check()
    lin.to("cpu")
    check()
    assert f.traces == (1 if _on_numpy() else 2)


@pytest.mark.numpy_only(NUMPY_ONLY)
def test_value_dependent_control_flow_raises_naming_the_fix(rng):
    def f(x):
        return x.sum() if x.sum() > 0 else -x.sum()

    with pytest.raises(ng.JitError, match=r"ng\.where"):
        ng.jit(f)(rng.standard_normal(3))
    with pytest.raises(ng.JitError, match="item"):
        ng.jit(lambda x: x * float(x[0]))(rng.standard_normal(3))


def test_a_traced_comparison_is_replayed(rng):
    f = ng.jit(lambda x: ng.where(x > 0.5, x * x, -x).sum() + (x <= 0).sum())
    for _ in range(3):
        x0 = rng.standard_normal(5)
        x = ng.tensor(x0, requires_grad=True)
        out = f(x)
        np.testing.assert_allclose(out.numpy(), np.where(x0 > 0.5, x0 * x0, -x0).sum() + (x0 <= 0).sum(), rtol=1e-12)
        out.backward()
        np.testing.assert_array_equal(x.grad.numpy(), np.where(x0 > 0.5, 2 * x0, -1.0))  # d/dx of the branch taken
    assert f.traces == _traces(1)


def test_a_call_without_gradient_frees_each_intermediate_after_its_last_use(rng):
    def chain(x):
        for _ in range(20):
            x = ng.tanh(x) * 1.5
        return x.sum()

    f = ng.jit(chain)
    x = rng.standard_normal(1 << 17)  # 1 MiB per intermediate
    f(x), f(x)  # trace, then the first replay (checked against an eager call)
    with ng.no_grad():
        tracemalloc.start()
        out = f(x)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert out.item() == pytest.approx(chain(ng.tensor(x)).item(), rel=1e-12)
    assert peak < 6 * x.nbytes  # the 40 intermediates kept would need 40 MiB


@pytest.mark.numpy_only(NUMPY_ONLY)
def test_a_trace_forbids_values_in_its_own_thread_only(rng):
    """The switch lives in the engine's thread-local mode: another thread reading values and
    comparing tensors while a trace runs is unaffected (nothing is patched on Tensor)."""
    started, release, seen = threading.Event(), threading.Event(), []
    w = ng.tensor([2.0], requires_grad=True)

    def f(x):
        started.set()
        release.wait(5)
        return (x * w).sum()

    def reader():
        started.wait(5)
        seen.append((w.item(), bool((w > 1).item()), (w > 1).requires_grad))
        release.set()

    t = threading.Thread(target=reader)
    t.start()
    ng.jit(f)(rng.standard_normal(1))
    t.join()
    assert seen == [(2.0, True, False)]


@pytest.mark.numpy_only(NUMPY_ONLY)
def test_computation_outside_the_ops_is_caught_on_the_first_replay(rng):
    f = ng.jit(lambda x: x * ng.tensor(np.asarray(x.data).sum()))  # NumPy on .data: frozen at trace time
    f(rng.standard_normal(3))
    with pytest.raises(ng.JitError, match="frozen"):
        f(rng.standard_normal(3))


@pytest.mark.numpy_only(NUMPY_ONLY)
def test_higher_order_through_jit_is_refused_outside_transforms_and_runs_f_inside_them(rng):
    """``backward(create_graph=True)`` through a compiled call is refused; under a transform (``hessian``) the
    compiled function runs ``f`` itself, so the Hessian is torch.func's."""
    f = ng.jit(lambda x: (x**3).sum())
    f(rng.standard_normal(2))
    with pytest.raises(ng.JitError, match="higher-order"):
        f(ng.tensor(rng.standard_normal(2), requires_grad=True)).backward(create_graph=True)
    x = rng.standard_normal(2)
    torch = pytest.importorskip("torch")
    want = torch.func.hessian(lambda t: (t**3).sum())(torch.tensor(x)).numpy()
    np.testing.assert_allclose(ng.hessian(f)(ng.tensor(x)).numpy(), want, rtol=1e-12)


@pytest.mark.numpy_only(NUMPY_ONLY)
def test_retain_graph_keeps_a_compiled_calls_intermediates_for_a_second_backward(rng):
    x = ng.tensor(rng.standard_normal(3), requires_grad=True)
    f = ng.jit(lambda x: (ng.sin(x) * x).sum())
    f(x)  # the trace
    out = f(x)
    out.backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.numpy(), np.cos(x.numpy()) * x.numpy() + np.sin(x.numpy()), rtol=1e-12)
    out.backward()  # retain_graph kept the call's intermediates, as torch keeps its graph: the gradients add up
    np.testing.assert_allclose(x.grad.numpy(), 2 * (np.cos(x.numpy()) * x.numpy() + np.sin(x.numpy())), rtol=1e-12)
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        out.backward()  # not retained the second time: freed, as eager


# --- the compiled training step equals the eager one ------------------------------------------
OPTIMIZERS = {
    "sgd": dict(lr=0.05, momentum=0.9),
    "momentum": dict(lr=0.05),
    "adagrad": dict(lr=0.05),
    "rmsprop": dict(lr=0.01),
    "adam": dict(lr=0.01),
    "adamw": dict(lr=0.01),
}


def _targets(loss, n, rng):
    if loss in ("cross_entropy", "nll", "cross_entropy_probs"):
        return rng.integers(0, 3, n)
    if loss in ("hinge", "perceptron"):
        return rng.choice([-1.0, 1.0], (n, 3)).astype(np.float32)
    if loss in ("bce", "bce_with_logits"):
        return rng.integers(0, 2, (n, 3)).astype(np.float32)
    if loss == "kl_div":  # target probabilities (with a zero: y ln y = 0 there)
        q = rng.dirichlet(np.ones(3), n).astype(np.float32)
        q[0, 0] = 0.0
        return q
    return rng.standard_normal((n, 3)).astype(np.float32)


def _train(loss, opt_name, compiled, steps=100):
    rng = np.random.default_rng(0)
    out_act = {"bce": "sigmoid", "nll": "log_softmax", "cross_entropy_probs": "softmax", "kl_div": "log_softmax"}.get(loss)
    model = ng.nn.MLP([4, 8, 3], activation="tanh", output_activation=out_act, seed=0)
    opt = optim.OPTIMIZERS[opt_name](model.parameters(), **OPTIMIZERS[opt_name])
    step = BatchLoss(model, LOSSES[loss](), compile=compiled)  # what fit runs
    losses = []
    for _ in range(steps):
        x = rng.standard_normal((5, 4)).astype(np.float32)
        value, _ = step(ng.tensor(x), _targets(loss, 5, rng))
        opt.zero_grad()
        value.backward()
        opt.step()
        losses.append(value.item())
    if _on_numpy():
        assert (step.compiled is not None) == compiled  # every loss compiles (none computes on .data)
    else:  # off NumPy the compiled step runs the function plainly: nothing is traced
        assert (step.compiled is not None) == compiled and (step.compiled is None or step.compiled.traces == 0)
    return [p.numpy().copy() for p in model.parameters()], losses


@pytest.mark.parametrize("opt_name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_compiled_step_equals_eager_step_over_100_steps(loss, opt_name, fast):
    eager, eager_losses = _train(loss, opt_name, False)
    compiled, compiled_losses = _train(loss, opt_name, True)
    np.testing.assert_allclose(compiled_losses, eager_losses, rtol=1e-6, atol=1e-7)
    for a, b in zip(compiled, eager):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_fit_compiles_by_default_and_equals_the_eager_loop():
    X, y = ng.data.make_moons(64, noise=0.1, seed=0) if hasattr(ng.data, "make_moons") else (None, None)
    if X is None:
        rng = np.random.default_rng(0)
        X, y = rng.standard_normal((64, 2)).astype(np.float32), rng.integers(0, 2, 64)
    runs = []
    for use_jit in (True, False):
        model = ng.nn.MLP([2, 8, 2], seed=0)
        opt = optim.Adam(model.parameters(), lr=0.01)
        h = ng.train.fit(model, "cross_entropy", opt, X, y, epochs=5, batch_size=10, seed=0, jit=use_jit)
        runs.append(([p.numpy().copy() for p in model.parameters()], h.steps["loss"]))
    np.testing.assert_allclose(runs[0][1], runs[1][1], rtol=1e-6)
    for a, b in zip(runs[0][0], runs[1][0]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


@pytest.mark.numpy_only(NUMPY_ONLY)
def test_fit_compiles_dropout_in_both_modes():
    """Dropout's mask is an op of the program (drawn anew on every replay): the batch loss is compiled in
    training mode too, one program per mode, each equal to the eager loss drawn from the same state."""
    model = ng.nn.Sequential(ng.nn.Linear(2, 8, seed=0), ng.nn.Dropout(0.5, seed=0), ng.nn.Linear(8, 2, seed=1))
    batch_loss = BatchLoss(model, LOSSES["cross_entropy"]())
    x, y = ng.tensor(np.ones((4, 2), np.float32)), np.array([0, 1, 0, 1])
    for _ in range(3):
        state = model[1].rng.bit_generator.state
        compiled, _ = batch_loss(x, y)
        model[1].rng.bit_generator.state = state
        eager, _ = batch_loss.eager(x, y)
        assert np.array_equal(compiled.numpy(), eager.numpy())
    assert batch_loss.compiled.traces == 1
    model.eval()
    batch_loss(x, y)
    assert batch_loss.compiled.traces == 2
