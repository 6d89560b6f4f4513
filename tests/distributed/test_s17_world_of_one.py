"""Without mpiexec, data-parallel training is plain training: ``fit(distributed=True)`` and a
``DistributedOptimizer`` give bit for bit the weights and losses of the plain run (SGD with
momentum and Adam with a schedule).  The cost model and the launcher refuse values that have no
meaning (0 ranks, a bandwidth of 0, NaN) instead of dividing by zero or launching ``mpiexec -n 0``,
and ``broadcast_parameters`` refuses a non-model on one process too."""

import numpy as np
import pytest

import nablagrad as ng

D = ng.distributed
X = np.random.default_rng(0).normal(size=(96, 3)).astype(np.float32)
Y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)


def _run(optimizer: str, wrap: bool, distributed: bool, schedule: bool):
    model = ng.nn.MLP([3, 8, 2], seed=0)
    opt = {"sgd": lambda p: ng.optim.SGD(p, lr=0.1, momentum=0.9), "adam": lambda p: ng.optim.Adam(p, lr=0.01)}[optimizer](
        model.parameters())  # fmt: skip
    if wrap:
        opt = D.DistributedOptimizer(opt)
    callbacks = [ng.train.LRSchedulerCallback(ng.optim.StepLR(opt, step_size=1, gamma=0.5))] if schedule else []
    h = ng.train.fit(model, "cross_entropy", opt, X, Y, epochs=3, batch_size=16, seed=0, progress=False,
                     distributed=distributed, callbacks=callbacks)  # fmt: skip
    return [p.numpy().copy() for p in model.parameters()], h.history["loss"]


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("wrap, distributed", [(True, False), (False, True), (True, True)])
@pytest.mark.parametrize("schedule", [False, True])
def test_one_process_trains_exactly_as_plain_fit(optimizer, wrap, distributed, schedule):
    assert D.init().size == 1
    plain_w, plain_loss = _run(optimizer, False, False, schedule)
    w, loss = _run(optimizer, wrap, distributed, schedule)
    assert loss == plain_loss
    assert all(np.array_equal(a, b) for a, b in zip(w, plain_w))


@pytest.mark.parametrize("call, message", [
    (lambda: D.efficiency(0, 0.1, 4e6, 1e-5, 1e9), r"efficiency: n \(the number of ranks\) must be a whole number >= 1, got 0"),
    (lambda: D.efficiency(2.5, 0.1, 4e6, 1e-5, 1e9), "got 2.5"),
    (lambda: D.ring_allreduce_seconds(4, 4e6, 1e-5, 0), "bandwidth must be a positive finite number"),
    (lambda: D.ring_allreduce_seconds(4, float("nan"), 1e-5, 1e9), "nbytes must be a finite number >= 0, got nan"),
    (lambda: D.ring_allreduce_seconds(4, 4e6, -1.0, 1e9), "alpha must be a finite number >= 0, got -1.0"),
    (lambda: D.step_seconds(4, -0.1, 4e6, 1e-5, 1e9), "compute must be a finite number >= 0"),
    (lambda: D.fit_alpha_beta(1, [8, 1e6], [1e-5, 1e-3]), "must be a whole number >= 2, got 1"),
    (lambda: D.fit_alpha_beta(2, [8, 8], [1e-5, 1e-5]), "at least 2 different sizes"),
    (lambda: D.fit_alpha_beta(2, [8, 1e6, 1e7], [1e-5, 1e-3]), "3 sizes .* and 2 times"),
    (lambda: D.fit_alpha_beta(2, [8, 1e6], [1e-5, 0.0]), "seconds finite and > 0"),
    (lambda: D.mpiexec_command(0, ["script.py"]), r"mpiexec_command: n \(the number of ranks\) must be a whole number >= 1"),
    (lambda: D.mpiexec_command(2, "script.py"), "argv must be a non-empty list of strings"),
    (lambda: D.mpiexec_command(2, []), "argv must be a non-empty list of strings"),
])  # fmt: skip
def test_cost_model_and_launcher_refuse_meaningless_values(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_cost_model_values_against_the_formula_with_numpy_numbers():
    n, C, M, a, B = np.int64(8), np.float32(0.1), 4e6, 1e-5, 1.25e9
    t_ar = 2 * 7 * a + 2 * 7 / 8 * M / B
    assert D.step_seconds(n, C, M, a, B) == pytest.approx(float(C) / 8 + t_ar, rel=1e-6)
    assert D.efficiency(n, C, M, a, B) == pytest.approx(float(C) / (8 * (float(C) / 8 + t_ar)), rel=1e-6)
    assert D.efficiency(16, 0.0, 0.0, 0.0, 1e9) == 1.0  # nothing to do, nothing to send


@pytest.mark.parametrize("bad", [None, [1, 2], "model"])
def test_broadcast_parameters_refuses_a_non_model_on_one_process_too(bad):
    with pytest.raises(TypeError, match="broadcast_parameters: expected an ng.nn.Module"):
        D.broadcast_parameters(bad)
