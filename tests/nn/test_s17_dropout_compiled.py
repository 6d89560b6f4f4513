"""Dropout in compiled training (ng.jit, fit's default compiled step) equals eager training bit for bit; a
changed ``p`` or mode traces again; ``F.dropout`` as PyTorch's; ``manual_seed`` fixes a DataLoader's order."""

import numpy as np
import pytest

import nablagrad as ng

pytestmark = pytest.mark.numpy_only

_RNG = np.random.default_rng(0)
_X = _RNG.standard_normal((256, 12)).astype(np.float32)
_Y = _RNG.integers(0, 3, 256)


def _model():
    ng.manual_seed(0)
    return ng.nn.Sequential(ng.nn.Linear(12, 32), ng.nn.ReLU(), ng.nn.Dropout(0.3), ng.nn.Linear(32, 3),
                            ng.nn.Dropout(0.1, seed=4))  # fmt: skip


def _flat(model) -> np.ndarray:
    return np.concatenate([p.numpy().ravel() for p in model.parameters()])


@pytest.mark.parametrize("make_opt", [lambda ps: ng.optim.Adam(ps, lr=1e-2),
                                      lambda ps: ng.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True)],
                         ids=["adam", "nesterov"])  # fmt: skip
def test_fit_with_dropout_compiled_equals_eager(make_opt):
    results = []
    for jit in (False, True):
        model = _model()
        history = ng.train.fit(model, ng.nn.CrossEntropyLoss(), make_opt(model.parameters()), _X, _Y, epochs=3,
                               batch_size=32, seed=1, jit=jit, progress=False)  # fmt: skip
        results.append((_flat(model), history.history["loss"]))
    assert np.array_equal(results[0][0], results[1][0])
    assert results[0][1] == results[1][1]


def _step_run(compiled: bool, change):
    model = _model()
    opt = ng.optim.Adam(model.parameters(), lr=1e-2)

    def step(x, y):
        loss = ng.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    f = ng.jit(step) if compiled else step
    losses = []
    for i in range(100):
        if i == 40:
            change(model)
        rows = slice(i % 8 * 32, (i % 8 + 1) * 32)
        losses.append(float(f(_X[rows], _Y[rows]).item()))
    return _flat(model), losses, getattr(f, "traces", None)


@pytest.mark.parametrize("change, traces", [
    (lambda m: None, 1),
    (lambda m: setattr(m[2], "p", 0.6), 2),  # a new p: the old program would drop with the old one
    (lambda m: m[2].eval(), 2),  # one layer in evaluation mode: no mask there
    (lambda m: m.eval(), 2),
])  # fmt: skip
def test_compiled_step_with_dropout_follows_p_and_mode(change, traces):
    eager = _step_run(False, change)
    compiled = _step_run(True, change)
    assert np.array_equal(eager[0], compiled[0])
    assert eager[1] == compiled[1]
    assert compiled[2] == traces


def test_functional_dropout_as_torch():
    torch = pytest.importorskip("torch")
    x = ng.tensor(np.arange(1, 2001, dtype=np.float32).reshape(40, 50), requires_grad=True)
    y = ng.nn.functional.dropout(x, p=0.25)
    kept = y.numpy() != 0
    assert 0.65 < kept.mean() < 0.85
    np.testing.assert_allclose(y.numpy()[kept], x.numpy()[kept] / 0.75, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), kept / np.float32(0.75), rtol=1e-6)
    assert ng.nn.functional.dropout(x, 0.5, training=False) is x  # torch returns the input itself too
    assert torch.nn.functional.dropout(torch.ones(2), 0.5, training=False).eq(1).all()
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match=r"dropout: p must lie in \[0, 1\]"):
            ng.nn.functional.dropout(x, bad)
        with pytest.raises(ValueError):  # the oracle refuses it too
            torch.nn.functional.dropout(torch.ones(2), bad)
    with pytest.raises(TypeError, match="dropout: p must be a probability"):
        ng.nn.functional.dropout(x, "0.5")
    assert np.array_equal(ng.nn.functional.dropout(x, 1.0).numpy(), np.zeros((40, 50), np.float32))


def test_manual_seed_fixes_a_dataloader_made_before():
    """PyTorch's loader draws each pass's order from the global generator: so does ours without a seed."""
    loader = ng.data.DataLoader(np.arange(20), np.arange(20), batch_size=6, shuffle=True)
    ng.manual_seed(3)
    first = [xb.tolist() for xb, _ in loader]
    second_pass = [xb.tolist() for xb, _ in loader]
    ng.manual_seed(3)
    again = [xb.tolist() for xb, _ in loader]
    assert first == again
    assert first != second_pass
    seeded = ng.data.DataLoader(np.arange(20), np.arange(20), batch_size=6, shuffle=True, seed=5)
    ng.manual_seed(3)
    a = [xb.tolist() for xb, _ in seeded]
    ng.manual_seed(3)
    b = [xb.tolist() for xb, _ in seeded]
    assert a != b  # a loader's own seed is its own stream, which goes on from pass to pass
