"""fit refuses bad arguments and bad data before the first batch, names them and the fix, and
changes nothing: weights, optimiser state and the checkpoint folder are as they were."""

import numpy as np
import pytest

import nablagrad as ng


def _setup():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3)).astype(np.float32)
    y = (X @ np.array([[1.0], [-2.0], [0.5]], dtype=np.float32)).astype(np.float32)
    model = ng.nn.MLP([3, 5, 1], seed=0)
    opt = ng.optim.Adam(model.parameters(), lr=0.01)
    return model, opt, X, y


def _with_nan(a, rows, cols):
    a = a.copy()
    a[rows, cols] = np.nan
    return a


X0 = np.random.default_rng(0).standard_normal((40, 3)).astype(np.float32)
Y0 = X0[:, :1].copy()

CASES = [
    # (label, fit kwargs overriding the good ones, error type, words the message must hold)
    ("nan in X", {"X": _with_nan(X0, [5, 17], [1, 2])}, ValueError, ["X", "NaN", "rows [5, 17]", "columns [1, 2]", "isfinite"]),
    (
        "inf in X",
        {"X": np.where(np.arange(40)[:, None] == 3, np.inf, X0).astype(np.float32)},
        ValueError,
        ["X", "rows [3]", "isfinite"],
    ),
    ("nan in y", {"y": _with_nan(Y0, [7], [0])}, ValueError, ["y", "rows [7]", "isfinite"]),
    ("nan in validation X", {"validation_data": (_with_nan(X0, [2], [0]), Y0)}, ValueError, ["validation X", "rows [2]"]),
    ("validation rows differ", {"validation_data": (X0, Y0[:5])}, ValueError, ["validation X has 40 rows", "validation y has 5"]),
    ("validation not a pair", {"validation_data": X0}, TypeError, ["validation_data", "(X_val, y_val)"]),
    ("epochs float", {"epochs": 2.5}, TypeError, ["epochs", "2.5", "integer"]),
    ("epochs bool", {"epochs": True}, TypeError, ["epochs", "True", "integer"]),
    ("epochs negative", {"epochs": -1}, ValueError, ["epochs", ">= 0", "-1"]),
    ("batch_size float", {"batch_size": 2.5}, TypeError, ["batch_size", "2.5", "integer or None"]),
    ("batch_size string", {"batch_size": "32"}, TypeError, ["batch_size", "'32'", "str"]),
    ("batch_size zero", {"batch_size": 0}, ValueError, ["batch_size", ">= 1", "0"]),
    ("checkpoint_every float", {"checkpoint_every": 1.5}, TypeError, ["checkpoint_every", "1.5"]),
    ("1-D X", {"X": X0[:, 0]}, ValueError, ["X must be 2-D", "(40,)", "reshape(-1, 1)"]),
    ("string X", {"X": np.array([["a", "b", "c"]] * 40)}, TypeError, ["X must hold numbers", "dtype"]),
    ("ragged X", {"X": [[1.0, 2.0, 3.0], [1.0]] * 20}, ValueError, ["X could not be turned into an array", "same length"]),
    ("rows differ", {"y": Y0[:3]}, ValueError, ["X has 40 rows but y has 3"]),
    ("no y", {"y": None}, ValueError, ["targets y are required"]),
    ("unknown sampling", {"sampling": "shufle"}, ValueError, ["sampling", "'shufle'", "shuffle"]),
    ("metrics as string", {"metrics": "accuracy"}, TypeError, ["metrics=['accuracy']"]),
    ("unknown metric", {"metrics": ["acc2"]}, ValueError, ["unknown metrics", "acc2", "accuracy"]),
    ("negative l2", {"l2": -0.1}, ValueError, ["l2", ">= 0", "-0.1"]),
    ("nan clip", {"clip_grad_norm": float("nan")}, TypeError, ["clip_grad_norm", "nan"]),
    ("ema_lambda above 1", {"ema_lambda": 2.0}, ValueError, ["ema_lambda", "(0, 1]", "2.0"]),
]


@pytest.mark.parametrize("label,override,error,words", CASES, ids=[c[0] for c in CASES])
def test_bad_arguments_are_named_before_training_and_change_nothing(label, override, error, words):
    model, opt, X, y = _setup()
    kwargs = {"X": X, "y": y, "epochs": 2, "batch_size": 8, "seed": 0, **override}
    before, opt_before = model.state_dict(), opt.state_dict()
    seen = []
    cb = ng.train.LambdaCallback(on_batch_end=lambda t, s, logs: seen.append(s))
    with pytest.raises(error) as info:
        ng.train.fit(model, "mse", opt, kwargs.pop("X"), kwargs.pop("y"), callbacks=[cb], **kwargs)
    msg = str(info.value)
    assert msg.startswith("fit: "), msg
    for w in words:
        assert w in msg, (w, msg)
    assert "learning rate" not in msg
    assert seen == []
    for k, v in before.items():
        np.testing.assert_array_equal(model.state_dict()[k], v)
    assert opt.state_dict()["state"] == opt_before["state"] == {}


def test_checkpoint_dir_that_is_a_file_or_under_a_file_is_refused(tmp_path):
    model, opt, X, y = _setup()
    f = tmp_path / "taken"
    f.write_bytes(b"keep me")
    before = model.state_dict()
    for bad, words in [(f, ["is a file, not a folder"]), (f / "sub", ["cannot be created", "is a file"])]:
        with pytest.raises(ValueError) as info:
            ng.train.fit(model, "mse", opt, X, y, epochs=1, checkpoint_dir=bad)
        for w in [str(bad), *words]:
            assert w in str(info.value)
    assert f.read_bytes() == b"keep me" and sorted(p.name for p in tmp_path.iterdir()) == ["taken"]
    for k, v in before.items():
        np.testing.assert_array_equal(model.state_dict()[k], v)


def test_checkpoint_dir_is_not_created_when_another_check_fails(tmp_path):
    model, opt, X, y = _setup()
    with pytest.raises(TypeError, match="epochs"):
        ng.train.fit(model, "mse", opt, X, y, epochs=2.5, checkpoint_dir=tmp_path / "new")
    assert not (tmp_path / "new").exists()


def test_list_of_lists_trains_like_the_array():
    results = []
    for as_list in (False, True):
        model, opt, X, y = _setup()
        Xin, yin = (X.tolist(), y.tolist()) if as_list else (X, y)
        h = ng.train.fit(model, "mse", opt, Xin, yin, epochs=2, batch_size=8, seed=0)
        results.append((model.state_dict(), h["loss"]))
    (wa, la), (wb, lb) = results
    assert la == pytest.approx(lb, rel=1e-6)
    for k in wa:
        np.testing.assert_allclose(wa[k], wb[k], rtol=1e-6, atol=1e-7)


def test_nan_in_a_memory_mapped_x_is_found_in_chunks(tmp_path, monkeypatch):
    from nablagrad.train import validation

    X = X0.copy()
    X[33, 2] = np.inf
    np.save(tmp_path / "x.npy", X)
    monkeypatch.setattr(validation, "SCAN_ELEMENTS", 21)  # chunks of 7 rows; the bad row is in the fifth
    model, opt, _, y = _setup()
    with pytest.raises(ValueError, match=r"rows \[33\], columns \[2\]"):
        ng.train.fit(model, "mse", opt, str(tmp_path / "x.npy"), y)


def test_callbacks_none_means_no_callbacks_as_in_keras():
    model, opt, X, y = _setup()
    history = ng.train.fit(model, ng.nn.MSELoss(), opt, X, y, epochs=2, batch_size=8, callbacks=None)
    assert len(history.history["loss"]) == 2
