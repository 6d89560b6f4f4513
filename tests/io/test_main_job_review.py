"""A hostile review of the main job (twelfth session): each case failed or gave a misleading answer before its fix."""

from __future__ import annotations

import os
import struct

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.cli.main import main
from nablagrad.cli.train_cmd import _class_scores
from nablagrad.data import DataFormatError


@pytest.mark.parametrize(
    "model",
    [
        ng.nn.MLP([4, 6, 3], activation="gelu", seed=0),
        ng.nn.MLP([4, 6, 3], activation="silu", seed=0),
        ng.nn.MLP([4, 6, 3], activation="elu", seed=0),
        ng.nn.MLP([4, 6, 3], activation="softplus", seed=0),
        ng.nn.Sequential(ng.nn.Linear(4, 3), ng.nn.GELU("tanh"), ng.nn.ELU(0.5), ng.nn.Softplus(2.0, 10.0)),
    ],
    ids=["gelu", "silu", "elu", "softplus", "options"],
)
def test_every_activation_the_cli_offers_saves_its_architecture_and_loads_back(tmp_path, model):
    path = tmp_path / "m.safetensors"
    ng.io.save(model, path)
    again = ng.io.load(path)  # rebuilt from the file alone
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    np.testing.assert_array_equal(model(x).numpy(), again(x).numpy())
    assert [repr(a) for a in again] == [repr(m) for m in model]


def test_predict_reads_the_output_layer_as_it_was_trained():
    out = np.array([[0.9, 0.2, 0.1]], np.float32)
    sig = ng.nn.Sequential(ng.nn.Linear(2, 3), ng.nn.Sigmoid())
    scores, what = _class_scores(sig, out)
    assert what == "score" and np.array_equal(scores, out[0])  # per-class sigmoid scores, not softmaxed
    probs, what = _class_scores(ng.nn.Sequential(ng.nn.Linear(2, 3), ng.nn.Softmax()), out)
    assert what == "p" and np.array_equal(probs, out[0])  # already probabilities: no second softmax
    logits, _ = _class_scores(ng.nn.Sequential(ng.nn.Linear(2, 3)), out)
    np.testing.assert_allclose(logits, np.exp(out[0]) / np.exp(out[0]).sum(), rtol=1e-6)


def test_train_refuses_a_softmax_output_under_cross_entropy_before_anything_is_written(tmp_path, capsys):
    status = main(["train", "--dataset", "moons", "--output-activation", "softmax", "--epochs", "1",
                   "--out", str(tmp_path / "run"), "--no-progress"])  # fmt: skip
    assert status == 2 and "apply the softmax twice" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_saved_files_get_the_usual_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        path = tmp_path / "m.safetensors"
        ng.io.save(ng.nn.Linear(2, 2), path)
        assert os.stat(path).st_mode & 0o777 == 0o644
        os.chmod(path, 0o640)
        ng.io.save(ng.nn.Linear(2, 2), path)  # a file replaced keeps its permissions
        assert os.stat(path).st_mode & 0o777 == 0o640
    finally:
        os.umask(old)


def test_an_idx_header_whose_size_overflows_is_a_data_format_error(tmp_path):
    path = tmp_path / "h.idx"
    path.write_bytes(b"\x00\x00\x08\x03" + struct.pack(">III", 2**31, 2**31, 28))
    with pytest.raises(DataFormatError, match="declares shape"):
        ng.data.load_idx(path)


def test_decision_boundary_takes_a_fitted_estimator():
    pytest.importorskip("matplotlib")
    from nablagrad import viz  # noqa: PLC0415

    X = np.random.default_rng(0).normal(size=(50, 2))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    assert viz.plot_decision_boundary(ng.ml.LogisticRegression().fit(X, y), X, y) is not None
    with pytest.raises(TypeError, match="expected a Module, a fitted estimator"):
        viz.plot_decision_boundary(3, X, y)


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc")
def test_an_out_folder_that_cannot_be_made_is_refused_before_training(tmp_path, capsys):
    status = main(["train", "--dataset", "moons", "--epochs", "1", "--out", "/proc/nablagrad-run", "--no-progress"])
    captured = capsys.readouterr()
    assert status == 1 and "--out /proc/nablagrad-run" in captured.err and "trained in" not in captured.out
    from nablagrad.io.atomic import folder_problem  # noqa: PLC0415

    assert folder_problem(tmp_path / "new" / "run")[0] is None and not (tmp_path / "new").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".nablagrad-check-")]  # the trial folder is gone
