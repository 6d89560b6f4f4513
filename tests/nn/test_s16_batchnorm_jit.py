"""``BatchNorm1d`` in a compiled training step: the running-statistics update is an effect that ``ng.jit`` makes
again on every call with that call's batch, so the compiled step equals the eager one bit for bit (parameters,
``running_mean``, ``running_var``, ``num_batches_tracked``) from one trace, and follows torch 2.13's training;
a refused replay or trace puts the buffers back as they were."""

from __future__ import annotations

import numpy as np
import pytest

import nablagrad as ng
import nablagrad.nn.functional as Fn

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.numpy_only("compiled programs are NumPy programs")


def _np(t) -> np.ndarray:
    return np.asarray(t.numpy() if isinstance(t, ng.Tensor) else t.detach().numpy())


def _net(dtype="float32", **bn) -> ng.nn.Sequential:
    return ng.nn.Sequential(ng.nn.Linear(3, 4, seed=0, dtype=dtype), ng.nn.BatchNorm1d(4, dtype=dtype, **bn),
                            ng.nn.Tanh(), ng.nn.Linear(4, 1, seed=1, dtype=dtype))  # fmt: skip


def _step(model, opt):
    def step(x, y):
        opt.zero_grad()
        loss = Fn.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def _data(i: int, dtype=np.float32, shape=(8, 3)):
    rng = np.random.default_rng(i)
    return (rng.standard_normal(shape) * (1 + i / 10) + i / 5).astype(dtype), rng.standard_normal((shape[0], 1)).astype(dtype)


def _states_equal(a, b) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for k in sa:
        assert sa[k].dtype == sb[k].dtype, k
        np.testing.assert_array_equal(sa[k], sb[k], err_msg=k)


@pytest.mark.parametrize("bn", [{}, {"momentum": None}, {"affine": False}, {"momentum": 0.3, "bias": False}],
                         ids=["default", "cumulative", "no-affine", "no-bias"])  # fmt: skip
def test_a_compiled_step_equals_the_eager_step_bitwise_over_20_steps_from_one_trace(bn):
    eager, compiled = _net(**bn), _net(**bn)
    step_e = _step(eager, ng.optim.SGD(eager.parameters(), lr=0.1, momentum=0.9))
    step_c = ng.jit(_step(compiled, ng.optim.SGD(compiled.parameters(), lr=0.1, momentum=0.9)))
    for i in range(20):
        np.testing.assert_array_equal(_np(step_c(*_data(i))), _np(step_e(*_data(i))))
        _states_equal(compiled, eager)
    assert step_c.traces == 1
    assert int(compiled[1].num_batches_tracked.item()) == 20


def test_a_compiled_step_follows_torch_training_with_running_statistics():
    """float64, SGD with momentum: losses, parameters and the three buffers against torch after every step."""
    ours = _net("float64", momentum=None)
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4, momentum=None), torch.nn.Tanh(),
                                 torch.nn.Linear(4, 1)).double()  # fmt: skip
    with torch.no_grad():
        for i in (0, 3):
            theirs[i].weight.copy_(torch.tensor(_np(ours[i].weight).T))
            theirs[i].bias.copy_(torch.tensor(_np(ours[i].bias)))
    step = ng.jit(_step(ours, ng.optim.SGD(ours.parameters(), lr=0.05, momentum=0.9)))
    topt = torch.optim.SGD(theirs.parameters(), lr=0.05, momentum=0.9)
    for i in range(20):
        x, y = _data(i, np.float64)
        topt.zero_grad()
        tloss = torch.nn.functional.mse_loss(theirs(torch.tensor(x)), torch.tensor(y))
        tloss.backward()
        topt.step()
        np.testing.assert_allclose(_np(step(x, y)), tloss.item(), rtol=1e-10)
    want = theirs.state_dict()
    for k, v in ours.state_dict().items():
        t = _np(want[k])
        np.testing.assert_allclose(v, t.T if v.ndim == 2 else t, rtol=1e-9, atol=1e-12, err_msg=k)
    assert step.traces == 1


def test_a_compiled_step_on_a_sequence_input_and_a_new_batch_size():
    """(N, C, L) batches, then another N: the program traces again for the new signature and stays equal."""

    class Net(ng.nn.Module):
        def __init__(self):
            super().__init__()
            self.bn, self.fc = ng.nn.BatchNorm1d(3), ng.nn.Linear(15, 1, seed=0)

        def forward(self, x):
            return self.fc(self.bn(x).reshape(x.shape[0], 15))

    eager, compiled = Net(), Net()
    step_e = _step(eager, ng.optim.Adam(eager.parameters(), lr=0.01))
    step_c = ng.jit(_step(compiled, ng.optim.Adam(compiled.parameters(), lr=0.01)))
    for i in range(6):
        x, y = _data(i, shape=(8 if i < 3 else 5, 3, 5))
        np.testing.assert_array_equal(_np(step_c(x, y)), _np(step_e(x, y)))
    _states_equal(compiled, eager)
    assert step_c.traces == 2


def test_a_refused_replay_puts_the_buffers_back():
    """The first replay is checked against an eager call; a step the program cannot repeat (a write to .data) is
    undone: parameters and running statistics as before that call."""
    model = _net()
    opt = ng.optim.SGD(model.parameters(), lr=0.1)
    rng = np.random.default_rng(5)

    def step(x, y):
        _step(model, opt)(x, y)
        with ng.no_grad():
            model[3].bias.data[...] += rng.random()  # not repeated by a program: the replay disagrees

    f = ng.jit(step)
    f(*_data(0))
    before = model.state_dict()
    with pytest.raises(ng.JitError, match="the compiled training step disagrees with the function"):
        f(*_data(1))
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)


def test_a_trace_refused_halfway_puts_the_buffers_back():
    model = _net()
    opt = ng.optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        loss = _step(model, opt)(x, y)
        return loss if loss.item() > 0 else loss  # reads a traced value: refused after the update and the step

    before = model.state_dict()
    with pytest.raises(ng.JitError, match="reads the value of a traced tensor"):
        ng.jit(step)(*_data(0))
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)


def test_a_compiled_forward_in_training_updates_per_call_and_in_eval_reads_the_statistics():
    ours, theirs = ng.nn.BatchNorm1d(3, dtype="float64"), torch.nn.BatchNorm1d(3).double()
    f = ng.jit(lambda x: ours(x) * 2.0)
    for i in range(4):
        x = _data(i, np.float64, shape=(6, 3))[0]
        np.testing.assert_allclose(_np(f(x)), _np(theirs(torch.tensor(x)) * 2.0), rtol=1e-12, atol=1e-12)
    for k, v in theirs.state_dict().items():
        np.testing.assert_allclose(_np(getattr(ours, k)), _np(v), rtol=1e-12, err_msg=k)
    ours.eval(), theirs.eval()
    x = _data(9, np.float64, shape=(2, 3))[0]
    np.testing.assert_allclose(_np(f(x)), _np(theirs(torch.tensor(x)) * 2.0), rtol=1e-12, atol=1e-12)
    assert int(ours.num_batches_tracked.item()) == 4
