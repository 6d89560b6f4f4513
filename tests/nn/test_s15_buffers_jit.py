"""A buffer read in ``forward`` under ``ng.jit`` and ``fit``: compiled calls give torch's numbers after the
buffer changes through the module (``load_state_dict``, assignment, ``double()``), a compiled training step
and ``fit`` train a model with a fixed normalisation buffer as torch does, and an optimiser never touches it.

``ng.jit`` records no op on a tensor that requires no gradient, so a value computed from buffers alone
(``1 / self.std``) is a constant of the program; the module's own ways of changing a buffer, and a write into
its values (``buf.copy_(...)``, seen by its version counter), make compiled functions trace again."""

from __future__ import annotations

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")
tnn = torch.nn
pytestmark = pytest.mark.numpy_only("compiled programs are NumPy programs; compared with torch on host arrays")

MEAN, STD = np.array([1.0, -2.0, 0.5], np.float32), np.array([2.0, 0.5, 4.0], np.float32)


class Normalise(ng.nn.Module):
    """``(x - mean) · (1 / std)``: the reciprocal is computed from a buffer alone (frozen by a trace)."""

    def __init__(self):
        super().__init__()
        self.register_buffer("mean", ng.tensor(MEAN))
        self.register_buffer("std", ng.tensor(STD))

    def forward(self, x):
        return (x - self.mean) * (1.0 / self.std)


class TorchNormalise(tnn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.tensor(MEAN))
        self.register_buffer("std", torch.tensor(STD))

    def forward(self, x):
        return (x - self.mean) * (1.0 / self.std)


def _models(seed: int = 0):
    """The same network in both libraries: Normalise, then Linear(3, 4), tanh, Linear(4, 1)."""
    ours = ng.nn.Sequential(Normalise(), ng.nn.Linear(3, 4, seed=seed), ng.nn.Tanh(), ng.nn.Linear(4, 1, seed=seed + 1))
    theirs = tnn.Sequential(TorchNormalise(), tnn.Linear(3, 4), tnn.Tanh(), tnn.Linear(4, 1))
    with torch.no_grad():
        for k, t in theirs.state_dict(keep_vars=True).items():
            v = ours.state_dict()[k].numpy()
            t.copy_(torch.tensor(v.T if k.endswith("weight") else v))
    return ours, theirs


def _x(n: int = 8, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, 3)).astype(np.float32)


def _check(f, ours, theirs, x):
    got = f(ng.tensor(x)).numpy()
    want = theirs(torch.tensor(x, dtype=next(theirs.parameters()).dtype)).detach().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_a_compiled_forward_follows_buffers_changed_through_the_module():
    ours, theirs = _models()
    f = ng.jit(lambda x: ours(x))
    x = _x()
    for _ in range(3):  # traced, checked, replayed
        _check(f, ours, theirs, x)
    new = {"0.mean": np.array([0.5, 0.5, 0.5], np.float32), "0.std": np.array([1.0, 3.0, 0.25], np.float32)}
    ours.load_state_dict({**ours.state_dict(), **new})
    theirs.load_state_dict({**theirs.state_dict(), **{k: torch.tensor(v) for k, v in new.items()}})
    for _ in range(3):
        _check(f, ours, theirs, x)
    ours[0].std, theirs[0].std = ng.tensor(STD * 3), torch.tensor(STD * 3)  # a new buffer object
    for _ in range(3):
        _check(f, ours, theirs, x)
    ours.double()
    theirs.double()
    for _ in range(3):
        _check(f, ours, theirs, x.astype(np.float64))


def test_a_compiled_forward_follows_a_buffer_written_in_place():
    ours, theirs = _models()
    f = ng.jit(lambda x: ours(x))
    x = _x()
    for _ in range(3):
        _check(f, ours, theirs, x)
    with ng.no_grad():
        ours[0].std.copy_(ng.tensor(STD * 2))
    with torch.no_grad():
        theirs[0].std.copy_(torch.tensor(STD * 2))
    _check(f, ours, theirs, x)


def test_a_compiled_training_step_with_a_buffer_follows_torch_sgd():
    ours, theirs = _models()
    opt, topt = ng.optim.SGD(ours.parameters(), lr=0.1, momentum=0.9), torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9)
    x, y = _x(16), np.random.default_rng(1).standard_normal((16, 1)).astype(np.float32)
    loss_fn, tloss_fn = ng.nn.MSELoss(), tnn.MSELoss()

    @ng.jit
    def step(xb, yb):
        opt.zero_grad()
        loss = loss_fn(ours(xb), yb)
        loss.backward()
        opt.step()
        return loss.detach()

    for _ in range(10):
        got = float(step(ng.tensor(x), ng.tensor(y)).item())
        topt.zero_grad()
        loss = tloss_fn(theirs(torch.tensor(x)), torch.tensor(y))
        loss.backward()
        topt.step()
        np.testing.assert_allclose(got, loss.item(), rtol=1e-5)
    assert step.traces == 1
    np.testing.assert_array_equal(ours[0].mean.numpy(), MEAN)  # stepped by no optimiser
    for (k, p), tp in zip(ours.named_parameters(), theirs.parameters()):
        w = tp.detach().numpy()
        np.testing.assert_allclose(p.numpy(), w.T if k.endswith("weight") else w, rtol=1e-4, atol=1e-6, err_msg=k)


def _torch_full_batch(theirs, x, y, epochs: int, lr: float):
    opt = torch.optim.SGD(theirs.parameters(), lr=lr)
    for _ in range(epochs):
        opt.zero_grad()
        tnn.functional.mse_loss(theirs(torch.tensor(x)), torch.tensor(y)).backward()
        opt.step()


def test_fit_trains_a_model_that_reads_a_buffer_as_torch():
    ours, theirs = _models()
    x, y = _x(32), np.random.default_rng(2).standard_normal((32, 1)).astype(np.float32)
    ng.train.fit(ours, "mse", ng.optim.SGD(ours.parameters(), lr=0.05), x, y, epochs=15, batch_size=None, seed=0)
    _torch_full_batch(theirs, x, y, epochs=15, lr=0.05)
    np.testing.assert_array_equal(ours[0].mean.numpy(), MEAN)
    for (k, p), tp in zip(ours.named_parameters(), theirs.parameters()):
        w = tp.detach().numpy()
        np.testing.assert_allclose(p.numpy(), w.T if k.endswith("weight") else w, rtol=1e-4, atol=1e-6, err_msg=k)


def test_fit_compiles_the_step_of_a_nablagrad_model_holding_a_buffer(tmp_path):
    x, y = _x(32), np.random.default_rng(3).standard_normal((32, 1)).astype(np.float32)
    ours = ng.nn.MLP([3, 4, 1], activation="tanh", seed=0)
    ours.register_buffer("x_mean", ng.tensor(x.mean(0)))  # kept with the model, read by no forward
    theirs = tnn.Sequential(tnn.Linear(3, 4), tnn.Tanh(), tnn.Linear(4, 1))
    with torch.no_grad():
        for (k, p), tp in zip(ours.named_parameters(), theirs.parameters()):
            tp.copy_(torch.tensor(p.numpy().T if k.endswith("weight") else p.numpy()))
    compiled = []
    seen = ng.train.LambdaCallback(on_epoch_end=lambda t, e, logs: compiled.append(t.compiled_step.compiled))
    ng.train.fit(ours, "mse", ng.optim.SGD(ours.parameters(), lr=0.05), x, y, epochs=15, batch_size=None, seed=0,
                 callbacks=[seen], checkpoint_dir=tmp_path)  # fmt: skip
    _torch_full_batch(theirs, x, y, epochs=15, lr=0.05)
    assert compiled[-1] is not None and compiled[-1].traces >= 1
    np.testing.assert_array_equal(ours.x_mean.numpy(), x.mean(0))
    for (k, p), tp in zip(ours.named_parameters(), theirs.parameters()):
        w = tp.detach().numpy()
        np.testing.assert_allclose(p.numpy(), w.T if k.endswith("weight") else w, rtol=1e-4, atol=1e-6, err_msg=k)
    saved = ng.io.load(next(tmp_path.glob("*.safetensors")))  # the checkpoint carries the buffer
    np.testing.assert_array_equal(saved.x_mean.numpy(), x.mean(0))


def test_a_buffer_written_every_call_retraces_then_runs_eagerly_with_a_warning():
    """Past ``RETRACE_LIMIT`` stale traces the compiled function runs eagerly (as torch.compile past its
    recompile limit): every call still gives torch's numbers, and one warning names the fix."""
    from nablagrad.autodiff.jit import RETRACE_LIMIT

    ours, theirs = _models()
    f = ng.jit(lambda x: ours(x))
    x = _x()
    with pytest.warns(RuntimeWarning, match="runs eagerly from now on"):
        for i in range(RETRACE_LIMIT + 3):
            scale = np.float32(1 + i / 10)
            with ng.no_grad():
                ours[0].std.copy_(ng.tensor(STD * scale))
            with torch.no_grad():
                theirs[0].std.copy_(torch.tensor(STD * scale))
            _check(f, ours, theirs, x)
    assert f.traces == RETRACE_LIMIT + 1
