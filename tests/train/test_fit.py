"""The training loop: the lectures' demos, regimes, stopping rules, callbacks, NaN, resume."""

import math

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.data import make_sin, make_spiral, make_xor
from nablagrad.train import EarlyStopping, LambdaCallback, LRSchedulerCallback, ModelCheckpoint


def test_xor_reaches_100_percent_train_accuracy():
    X, y = make_xor(200, seed=0)
    m = ng.nn.MLP([2, 16, 16, 1], activation="tanh", seed=0)
    h = ng.train.fit(m, ng.nn.BCEWithLogitsLoss(), ng.optim.Adam(m.parameters(), lr=0.01), X, y.reshape(-1, 1),
                     epochs=60, batch_size=32, metrics=["accuracy"], seed=0)  # fmt: skip
    assert h["accuracy"][-1] == 1.0
    assert ng.train.evaluate(m, ng.nn.BCEWithLogitsLoss(), X, y.reshape(-1, 1))["accuracy"] == 1.0


def test_two_spirals_test_accuracy_above_97_percent():
    X, y = make_spiral(1000, noise=0.0, seed=0)
    rng = np.random.default_rng(0)
    perm = rng.permutation(len(X))
    tr, te = perm[:700], perm[700:]
    m = ng.nn.MLP([2, 16, 16, 1], activation="tanh", seed=1)
    opt = ng.optim.Adam(m.parameters(), lr=0.01)
    ng.train.fit(m, "bce_with_logits", opt, X[tr], y[tr].reshape(-1, 1), epochs=300, batch_size=32, seed=0)
    acc = ng.train.evaluate(m, "bce_with_logits", X[te], y[te].reshape(-1, 1))["accuracy"]
    assert acc > 0.97, acc


def _sin_net(seed=0):
    return ng.nn.Sequential(ng.nn.Linear(1, 12, seed=seed, dtype="float64"), ng.nn.Sigmoid(),
                            ng.nn.Linear(12, 1, seed=seed, dtype="float64"))  # fmt: skip


def test_universal_approximation_one_hidden_sigmoid_layer_fits_sin():
    """Σ α_i σ(w_i x + β_i) approximates sin(2πx) on [0, 1] (Cybenko, lecture 000)."""
    ng.manual_seed(3)
    x, y = make_sin(100, seed=0)
    net = _sin_net()
    opt = ng.optim.LevenbergMarquardt(net.parameters())
    for _ in range(100):
        opt.step(lambda: (net(x) - y).reshape(-1))
    grid = np.linspace(0, 1, 501).reshape(-1, 1)
    err = np.max(np.abs(ng.train.predict(net, grid) - np.sin(2 * np.pi * grid)))
    assert err < 0.05, err


def test_levenberg_marquardt_beats_adam_in_50_steps():
    x, y = make_sin(100, seed=0)
    losses = {}
    for name in ("lm", "adam"):
        ng.manual_seed(3)
        net = _sin_net()
        if name == "lm":
            opt = ng.optim.LevenbergMarquardt(net.parameters())
            for _ in range(50):
                opt.step(lambda: (net(x) - y).reshape(-1))
        else:
            opt = ng.optim.Adam(net.parameters(), lr=0.05)
            for _ in range(50):
                opt.zero_grad()
                (0.5 * ((net(x) - y) ** 2).sum()).backward()
                opt.step()
        losses[name] = 0.5 * float(((ng.train.predict(net, x) - y) ** 2).sum())
    assert losses["lm"] < losses["adam"], losses


def test_batch_regimes_see_the_right_number_of_steps():
    X, y = make_xor(100, seed=0)
    for batch_size, sampling, steps in [(None, "shuffle", 1), (1, "shuffle", 100), (32, "shuffle", 4), (32, "random", 4)]:
        m = ng.nn.MLP([2, 4, 1], seed=0)
        h = ng.train.fit(m, "bce_with_logits", ng.optim.SGD(m.parameters(), lr=0.1), X, y.reshape(-1, 1),
                         epochs=2, batch_size=batch_size, sampling=sampling, seed=0)  # fmt: skip
        assert len(h.steps["loss"]) == 2 * steps


def test_running_risk_estimates_follow_the_lecture_formulas():
    X, y = make_xor(64, seed=0)
    m = ng.nn.MLP([2, 4, 1], seed=0)
    h = ng.train.fit(m, "bce_with_logits", ng.optim.SGD(m.parameters(), lr=0.1), X, y.reshape(-1, 1),
                     epochs=3, batch_size=8, ema_lambda=0.2, seed=0)  # fmt: skip
    eps = h.steps["loss"]
    assert h.steps["loss_mean"][-1] == pytest.approx(np.mean(eps), rel=1e-12)
    q = eps[0]
    for e in eps[1:]:
        q = 0.2 * e + 0.8 * q
    assert h.steps["loss_ema"][-1] == pytest.approx(q, rel=1e-12)


def test_weight_tolerance_and_loss_tolerance_stop_training():
    X = np.random.default_rng(0).standard_normal((50, 2))
    y = X @ np.array([[1.0], [-1.0]])
    m = ng.nn.Linear(2, 1, dtype="float64")
    h = ng.train.fit(m, "mse", ng.optim.SGD(m.parameters(), lr=0.1), X, y, epochs=1000, batch_size=None, weight_tol=1e-6)
    assert len(h.epoch) < 1000 and "weight_tol" in h.stop_reason
    assert h["weight_change"][-1] <= 1e-6
    m = ng.nn.Linear(2, 1, dtype="float64")
    h = ng.train.fit(m, "mse", ng.optim.SGD(m.parameters(), lr=0.1), X, y, epochs=1000, batch_size=None, loss_tol=1e-9)
    assert len(h.epoch) < 1000 and "loss_tol" in h.stop_reason


def test_nan_stops_with_a_clear_message_and_keeps_last_good_parameters():
    X = np.random.default_rng(0).standard_normal((64, 2)) * 100
    y = X.sum(1, keepdims=True) * 100
    m = ng.nn.Linear(2, 1, dtype="float64")
    snapshots = []
    cb = LambdaCallback(on_batch_end=lambda t, s, logs: snapshots.append(m.state_dict()))
    with pytest.raises(ng.train.TrainingDivergedError, match=r"learning rate \(lr=10.0\)"):
        ng.train.fit(m, "mse", ng.optim.SGD(m.parameters(), lr=10.0), X, y, epochs=50, batch_size=8, callbacks=[cb])
    for v in m.state_dict().values():
        assert np.all(np.isfinite(v.numpy()))
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v, snapshots[-1][k])


def test_validation_metrics_callbacks_and_schedule(tmp_path):
    X, y = make_spiral(400, seed=0)
    m = ng.nn.MLP([2, 8, 1], activation="tanh", seed=0)
    opt = ng.optim.Adam(m.parameters(), lr=0.01)
    sched = ng.optim.StepLR(opt, step_size=2, gamma=0.5)
    early = EarlyStopping(monitor="val_loss", patience=1, min_delta=10.0)
    ckpt = ModelCheckpoint(tmp_path / "best.safetensors", monitor="val_loss")
    h = ng.train.fit(m, "bce_with_logits", opt, X, y.reshape(-1, 1), epochs=10, batch_size=32,
                     validation_data=(X, y.reshape(-1, 1)), metrics=["accuracy"],
                     callbacks=[early, ckpt, LRSchedulerCallback(sched)], seed=0)  # fmt: skip
    assert "val_loss" in h and "val_accuracy" in h and "accuracy" in h
    assert len(h.epoch) == 2 and "early stopping" in h.stop_reason
    assert h["lr"] == [0.01, 0.01]
    assert (tmp_path / "best.safetensors").exists()


def test_class_balanced_and_hard_example_sampling(rng):
    X = rng.standard_normal((200, 2))
    y = (np.arange(200) < 20).astype(np.int64)  # 10% positives
    seen = []
    cb = LambdaCallback(on_batch_end=lambda t, s, logs: None)
    batches = list(ng.data.batch_indices(200, 20, "balanced", rng, labels=y))
    for b in batches:
        seen.append(y[b].mean())
    assert np.mean(seen) == pytest.approx(0.5)
    w = np.ones(200)
    w[:10] = 100.0
    hard = np.concatenate(list(ng.data.batch_indices(200, 20, "hard", rng, weights=w)))
    assert np.mean(hard < 10) > 0.5
    m = ng.nn.MLP([2, 4, 2], seed=0)
    h = ng.train.fit(m, "cross_entropy", ng.optim.SGD(m.parameters(), lr=0.1), X, y, epochs=2, batch_size=20,
                     sampling="hard", callbacks=[cb], seed=0)  # fmt: skip
    assert math.isfinite(h["loss"][-1])


def interrupting(at: int) -> LambdaCallback:
    """A callback that raises ``KeyboardInterrupt`` at the ``at``-th batch: a run killed there."""
    count = {"n": 0}

    def boom(t, s, logs):
        count["n"] += 1
        if count["n"] == at:
            raise KeyboardInterrupt

    return LambdaCallback(on_batch_end=boom)


def _resume_run(tmp_path, interrupt_at=None, resume=False, stateful=False):
    """A run that may be killed at batch ``interrupt_at`` or resumed; ``stateful`` adds what lives outside the
    weights: a cosine schedule, Dropout's generator and EarlyStopping."""
    X, y = make_spiral(300, seed=0)
    m = ng.nn.MLP([2, 8, 8, 1], activation="tanh", dropout=0.3 if stateful else 0.0, seed=0)
    opt = ng.optim.Adam(m.parameters(), lr=0.01)
    cbs = []
    if stateful:
        cbs += [ng.train.LRSchedulerCallback(ng.optim.CosineAnnealingLR(opt, T_max=6)),
                ng.train.EarlyStopping(monitor="loss", patience=10)]  # fmt: skip
    if interrupt_at is not None:
        cbs.insert(0, interrupting(interrupt_at))
    h = ng.train.fit(m, "bce_with_logits", opt, X, y.reshape(-1, 1), epochs=6 if stateful else 4, batch_size=32,
                     seed=7, checkpoint_dir=tmp_path, checkpoint_every=3, resume=resume, callbacks=cbs)  # fmt: skip
    return m, h


def test_killed_run_resumes_to_the_same_weights(tmp_path):
    full, h_full = _resume_run(tmp_path / "a")
    with pytest.raises(KeyboardInterrupt):
        _resume_run(tmp_path / "b", interrupt_at=17)  # mid-epoch 2 (10 batches per epoch)
    resumed, h_res = _resume_run(tmp_path / "b", resume=True)
    for (k, a), b in zip(full.state_dict().items(), resumed.state_dict().values()):
        np.testing.assert_array_equal(a, b, err_msg=k)
    assert h_full["loss"] == h_res["loss"]


def test_fit_validates_input():
    m = ng.nn.MLP([2, 3, 1], seed=0)
    opt = ng.optim.SGD(m.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="X has 3 rows but y has 2"):
        ng.train.fit(m, "mse", opt, np.zeros((3, 2)), np.zeros((2, 1)))
    with pytest.raises(ValueError, match="unknown loss"):
        ng.train.fit(m, "msee", opt, np.zeros((3, 2)), np.zeros((3, 1)))
    with pytest.raises(ValueError, match="unknown metrics"):
        ng.train.fit(m, "mse", opt, np.zeros((3, 2)), np.zeros((3, 1)), metrics=["acc2"])


def test_early_stopping_restores_the_best_weights_also_when_the_run_reaches_max_epochs():
    """keras-team/keras#12511: the best epoch's weights are restored whenever they are known."""
    X, y = make_spiral(200, seed=0)
    m = ng.nn.MLP([2, 8, 1], activation="tanh", seed=0)
    Xv, yv = X[:50], y[:50].reshape(-1, 1)
    weights = []
    snap = LambdaCallback(on_epoch_end=lambda t, e, logs: weights.append(m.state_dict()))
    early = EarlyStopping(monitor="val_loss", patience=100)  # never stops the run
    opt = ng.optim.SGD(m.parameters(), lr=2.0)  # large steps: the validation loss goes up and down
    h = ng.train.fit(m, "bce_with_logits", opt, X, y.reshape(-1, 1), epochs=8, batch_size=16,
                     validation_data=(Xv, yv), callbacks=[snap, early], seed=0)  # fmt: skip
    assert h.stop_reason == "max epochs reached"
    best = int(np.argmin(h["val_loss"]))
    assert best != len(h["val_loss"]) - 1, h["val_loss"]  # otherwise the test could not fail
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v, weights[best][k])


def test_a_killed_run_with_a_schedule_dropout_and_early_stopping_resumes_to_the_same_weights(tmp_path):
    full, h_full = _resume_run(tmp_path / "a", stateful=True)
    with pytest.raises(KeyboardInterrupt):
        _resume_run(tmp_path / "b", interrupt_at=27, stateful=True)  # mid-epoch 3 (10 batches per epoch)
    resumed, h_res = _resume_run(tmp_path / "b", resume=True, stateful=True)
    for (k, a), b in zip(full.state_dict().items(), resumed.state_dict().values()):
        np.testing.assert_array_equal(a, b, err_msg=k)
    assert h_full["loss"] == h_res["loss"]
    assert h_full["lr"] == h_res["lr"]


def test_predict_and_fits_data_check_put_every_module_back_in_its_own_mode():
    from nablagrad.train.evaluation import check_fits, resolve_loss  # noqa: PLC0415

    m = ng.nn.MLP([2, 4, 2], dropout=0.2, seed=0)
    m[2].eval()  # a part frozen in evaluation mode by the user
    X, y = np.random.default_rng(0).random((10, 2)).astype(np.float32), np.arange(10) % 2
    ng.train.predict(m, X)
    assert m.training and not m[2].training and m[0].training
    check_fits(m, resolve_loss("cross_entropy"), X, y)
    assert m.training and not m[2].training and m[0].training
