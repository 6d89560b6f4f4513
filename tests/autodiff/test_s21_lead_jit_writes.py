"""``ng.jit`` and in-place writes.

A compiled program computes values; it never writes into a tensor the function did not make.  So a write,
while tracing, into an argument, a global tensor or a parameter outside ``optimizer.step()`` is refused with a
``JitError`` that names the fix, and nothing is changed — where before the trace call wrote and every later
replay silently did not.  Writes into tensors the function makes itself are recorded and replayed."""

from __future__ import annotations

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.autodiff.errors import JitError

pytestmark = pytest.mark.numpy_only("ng.jit compiles NumPy programs only; on another array library it runs f plainly")


def _add_assign(x):
    x += 1
    return x * 2


def _setitem(x):
    x[0] = 5.0
    return x * 2


def _method(x):
    x.add_(1.0)
    return x * 2


def _through_view(x):
    x[0:2].mul_(3.0)
    return x * 2


def _fill(x):
    x.fill_(0.0)
    return x + 1


def _copy(x):
    x.copy_(ng.ones(3) * 7)
    return x - 1


WRITERS = [_add_assign, _setitem, _method, _through_view, _fill, _copy]


@pytest.mark.parametrize("grad", [True, False], ids=["grad", "no_grad"])
@pytest.mark.parametrize("f", WRITERS, ids=lambda f: f.__name__)
def test_a_write_into_an_argument_is_refused_and_changes_nothing(f, grad):
    x = ng.tensor(np.arange(3.0))
    before = x.numpy().copy()
    version = x._version
    with ng.enable_grad() if grad else ng.no_grad():
        with pytest.raises(JitError, match="its argument of shape \\(3,\\).*return the new value"):
            ng.jit(f)(x)
    np.testing.assert_array_equal(x.numpy(), before)
    assert x._version == version
    assert np.all(f(x.clone()).numpy() == f(ng.tensor(before)).numpy())  # eager mode still writes: no state was left


@pytest.mark.parametrize("grad", [True, False], ids=["grad", "no_grad"])
def test_a_write_into_a_global_tensor_is_refused(grad):
    total = ng.zeros(3)

    def accumulate(x):
        total.add_(x)
        return x * 2

    with ng.enable_grad() if grad else ng.no_grad():
        with pytest.raises(JitError, match="a tensor made before the call"):
            ng.jit(accumulate)(ng.ones(3))
    np.testing.assert_array_equal(total.numpy(), np.zeros(3))


def test_a_manual_parameter_update_inside_a_step_is_refused_and_undone():
    rng = np.random.default_rng(0)
    w = ng.tensor(rng.standard_normal(3), requires_grad=True)
    X, y = ng.tensor(rng.standard_normal((8, 3))), ng.tensor(rng.standard_normal(8))
    w0 = w.numpy().copy()

    def step(X, y):
        loss = ((X @ w - y) ** 2).mean()
        loss.backward()
        with ng.no_grad():
            w.sub_(0.1 * w.grad)
        return loss

    with pytest.raises(JitError, match="a parameter.*optimizer.step"):
        ng.jit(step)(X, y)
    np.testing.assert_array_equal(w.numpy(), w0)
    assert w.grad is None  # the trace's backward was taken back too


def _local_writes(x):
    y = ng.zeros(3, dtype=x.dtype)
    y[0] = x[0]
    y += x
    z = x.clone()
    z[1:].mul_(2.0)
    return y * z


@pytest.mark.parametrize("grad", [True, False], ids=["grad", "no_grad"])
def test_writes_into_tensors_the_function_makes_replay_as_eager(grad):
    compiled = ng.jit(_local_writes)
    rng = np.random.default_rng(1)
    for _ in range(5):  # trace, check, then replays
        x = ng.tensor(rng.standard_normal(3))
        with ng.enable_grad() if grad else ng.no_grad():
            got = compiled(x)
        np.testing.assert_array_equal(got.numpy(), _local_writes(x).numpy())


def test_gradient_through_local_writes_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.array([0.5, -1.5, 2.0])

    def torch_f(t):
        y = torch.zeros(3, dtype=t.dtype)
        y[0] = t[0]
        y = y + t
        z = t.clone()
        z[1:] = z[1:] * 2.0
        return (y * z).sum()

    tx = torch.tensor(x, requires_grad=True)
    torch_f(tx).backward()
    compiled = ng.jit(lambda t: _local_writes(t).sum())
    for _ in range(3):
        xt = ng.tensor(x, requires_grad=True)
        compiled(xt).backward()
        np.testing.assert_allclose(xt.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def test_optimizer_step_and_batchnorm_buffers_still_compile():
    rng = np.random.default_rng(2)
    model = ng.nn.Sequential(ng.nn.Linear(4, 5), ng.nn.BatchNorm1d(5), ng.nn.ReLU(), ng.nn.Linear(5, 2))
    twin = ng.nn.Sequential(ng.nn.Linear(4, 5), ng.nn.BatchNorm1d(5), ng.nn.ReLU(), ng.nn.Linear(5, 2))
    twin.load_state_dict(model.state_dict())
    opt, opt2 = ng.optim.SGD(model.parameters(), lr=0.1), ng.optim.SGD(twin.parameters(), lr=0.1)

    def step(m, o, X, y):
        o.zero_grad()
        loss = ng.nn.functional.cross_entropy(m(X), y)
        loss.backward()
        o.step()
        return loss

    compiled = ng.jit(lambda X, y: step(model, opt, X, y))
    for _ in range(4):
        X, y = ng.tensor(rng.standard_normal((6, 4)).astype(np.float32)), ng.tensor(rng.integers(0, 2, 6))
        a, b = compiled(X, y), step(twin, opt2, X, y)
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)
    np.testing.assert_allclose(model[1].running_mean.numpy(), twin[1].running_mean.numpy(), rtol=1e-6)


# --- ng.jit under no_grad: the trace records all the same; no gradient flows through what no_grad computed ---


def test_a_compiled_function_called_under_no_grad_follows_its_inputs():
    model = ng.nn.Sequential(ng.nn.Linear(3, 4), ng.nn.Tanh(), ng.nn.Linear(4, 2))
    compiled = ng.jit(model)
    rng = np.random.default_rng(3)
    with ng.no_grad():
        for _ in range(5):  # trace, check, replays: each with new inputs
            x = ng.tensor(rng.standard_normal((5, 3)).astype(np.float32))
            got = compiled(x)
            assert not got.requires_grad
            np.testing.assert_array_equal(got.numpy(), model(x).numpy())


def test_a_no_grad_block_inside_a_compiled_function_stops_the_gradient_as_torch():
    torch = pytest.importorskip("torch")
    w0 = np.array([0.5, -2.0, 1.5])

    def ours(x, w):
        with ng.no_grad():
            scale = (x * w).sum()
        return (x * w * x).sum() * scale

    def theirs(x, w):
        with torch.no_grad():
            scale = (x * w).sum()
        return (x * w * x).sum() * scale

    w = ng.tensor(w0, requires_grad=True)
    compiled = ng.jit(lambda x: ours(x, w))
    rng = np.random.default_rng(4)
    for _ in range(4):
        x0 = rng.standard_normal(3)
        x, tx, tw = ng.tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True), torch.tensor(w0, requires_grad=True)
        w.grad = None
        compiled(x).backward()
        theirs(tx, tw).backward()
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
        np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-12)


def test_a_teacher_under_no_grad_inside_a_compiled_step_gets_no_gradient():
    rng = np.random.default_rng(5)
    student, teacher = ng.nn.Linear(3, 2), ng.nn.Linear(3, 2)
    twin = ng.nn.Linear(3, 2)
    twin.load_state_dict(student.state_dict())
    opt, opt2 = ng.optim.Adam(student.parameters(), lr=0.01), ng.optim.Adam(twin.parameters(), lr=0.01)

    def step(model, o, x):
        o.zero_grad()
        with ng.no_grad():
            target = teacher(x).tanh()
        loss = ((model(x) - target) ** 2).mean()
        loss.backward()
        o.step()
        return loss

    compiled = ng.jit(lambda x: step(student, opt, x))
    for _ in range(5):
        x = ng.tensor(rng.standard_normal((4, 3)).astype(np.float32))
        np.testing.assert_allclose(compiled(x).numpy(), step(twin, opt2, x).numpy(), rtol=1e-6)
    assert teacher.weight.grad is None and teacher.bias.grad is None
    np.testing.assert_allclose(student.weight.numpy(), twin.weight.numpy(), rtol=1e-6)
