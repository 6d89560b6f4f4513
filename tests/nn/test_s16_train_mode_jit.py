"""``model.train()`` / ``model.eval()`` (and ``module.training = …``) between calls of an ``ng.jit``
function trace it again: a program traced with dropout off must not replay after ``train()`` (it would
give the eval output and skip the masks), nor one traced with dropout on after ``eval()``."""

import numpy as np
import pytest

import nablagrad as ng

pytestmark = pytest.mark.numpy_only("compiled programs are NumPy programs")


def _model():
    return ng.nn.Sequential(ng.nn.Linear(4, 256, seed=0), ng.nn.Dropout(0.5))


def _is_dropout_of(out: np.ndarray, full: np.ndarray) -> bool:
    """Every entry either dropped (0) or kept and scaled by 1 / (1 − p) = 2, and both kinds present."""
    kept = np.isclose(out, 2 * full, rtol=1e-6)
    dropped = out == 0
    return bool(np.all(kept | dropped) and kept.any() and dropped.any())


@pytest.mark.parametrize("switch", ["train()", "attribute"])
def test_switching_mode_between_calls_traces_again(switch):
    model = _model()
    f = ng.jit(lambda x: model(x))
    x = np.random.default_rng(0).standard_normal((8, 4)).astype(np.float32)
    model.eval()
    full = f(x).numpy()
    np.testing.assert_array_equal(full, model(x).numpy())  # eval: no dropout
    if switch == "train()":
        model.train()
    else:
        model[1].training = True
    assert _is_dropout_of(f(x).numpy(), full)
    model.eval()
    np.testing.assert_array_equal(f(x).numpy(), full)


def test_a_mode_set_to_what_it_was_keeps_the_program():
    model = _model().eval()
    f = ng.jit(lambda x: model(x))
    x = np.ones((2, 4), np.float32)
    f(x)
    traces = f.traces
    model.eval()
    model[1].training = False
    f(x)
    assert f.traces == traces


def test_fit_with_validation_keeps_one_compiled_step_across_epochs():
    """Each epoch's validation switches the model to eval and back; the step only ever runs in training
    mode, so it is traced once (a mode change retraces only programs that called the switched modules
    in the other mode)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((256, 4)).astype(np.float32)
    y = rng.standard_normal((256, 1)).astype(np.float32)
    model = ng.nn.Sequential(ng.nn.Linear(4, 8, seed=0), ng.nn.ReLU(), ng.nn.Linear(8, 1, seed=1))
    steps = []
    callback = ng.train.LambdaCallback(on_epoch_end=lambda t, e, logs: steps.append(t.compiled_step.compiled))
    ng.train.fit(model, ng.nn.MSELoss(), ng.optim.SGD(model.parameters(), lr=0.01), X, y, epochs=5, batch_size=32,
                 validation_data=(X[:32], y[:32]), callbacks=[callback], seed=0)  # fmt: skip
    assert steps[-1] is not None and steps[-1].traces == 1
