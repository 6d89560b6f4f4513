"""The command line, run as a user would (a subprocess), on a short MNIST variant."""

import subprocess
import sys

import numpy as np
import pytest

import nablagrad as ng


def _run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "nablagrad", *args], capture_output=True, text=True, cwd=cwd, timeout=600)


def test_train_evaluate_predict_on_a_few_thousand_images(tmp_path):
    out = tmp_path / "run"
    r = _run("train", "--limit", "3000", "--epochs", "3", "--out", str(out), "--no-progress")
    assert r.returncode == 0, r.stderr
    acc = float(r.stdout.strip().splitlines()[-1].split()[-1])
    assert acc > 0.85
    assert (out / "model.safetensors").exists() and (out / "curves.png").stat().st_size > 1000
    model = ng.io.load(out / "model.safetensors")
    assert "[0, 1]" in model.metadata["preprocessing"] and model.metadata["test_accuracy"] == pytest.approx(acc, abs=1e-4)
    X, y, Xt, yt = ng.data.load_mnist(flatten=True)
    probs = model(Xt[:200].astype(np.float32) / 255).numpy()
    assert (probs.argmax(1) == yt[:200]).mean() > 0.8
    r = _run("evaluate", str(out))
    assert r.returncode == 0 and f"{acc:.4f}" in r.stdout
    from PIL import Image

    Image.fromarray(Xt[0].reshape(28, 28)).save(tmp_path / "digit.png")
    r = _run("predict", str(out / "model.safetensors"), str(tmp_path / "digit.png"))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0].startswith(f"{tmp_path / 'digit.png'}: class {yt[0]}")


def test_config_file_and_toy_dataset(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[train]\ndataset = "xor"\nlayers = "8,8"\nactivation = "tanh"\nepochs = 30\nlr = 0.01\nbatch_size = 32\n')
    r = _run("train", "--config", str(cfg), "--out", str(tmp_path / "x"), "--no-progress")
    assert r.returncode == 0, r.stderr
    assert float(r.stdout.strip().splitlines()[-1].split()[-1]) > 0.9


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "--lr", "-1"], "--lr must be a positive finite number"),
        (["train", "--layers", "a,b"], "--layers expects comma-separated integers"),
        (["train", "--optimizer", "lbfgs"], "invalid choice"),
        (["train", "--config", "/nonexistent.toml"], "not found"),
        (["evaluate", "/nonexistent"], "no model at"),
        (["explain", "x1*x2 + sin(x1)", "--at", "x1=2"], "no value for x2"),
        (["explain", "x1 +", "--at", "x1=2"], "cannot parse"),
    ],
)
def test_bad_input_gives_one_clear_line_and_nonzero_exit(args, message):
    r = _run(*args)
    assert r.returncode == 2
    assert message in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_corrupted_model_file_is_reported(tmp_path):
    (tmp_path / "bad.safetensors").write_bytes(b"\x00" * 20)
    r = _run("evaluate", str(tmp_path / "bad.safetensors"))
    assert r.returncode == 1 and "Traceback" not in r.stderr and "corrupted" in r.stderr


def test_explain_prints_tables_and_dot():
    r = _run("explain", "x1*x2 + sin(x1)", "--at", "x1=2", "x2=3")
    assert r.returncode == 0 and "w4  sin(w1)" in r.stdout and "2.58385" in r.stdout
    r = _run("explain", "exp(x1*x2) + x2**3", "--at", "x1=1", "x2=2", "--dot")
    assert r.stdout.startswith("digraph") and "w2 ** 3" in r.stdout


def test_bench_runs():
    pytest.importorskip("torch")
    r = _run("bench", "--repeat", "2")
    assert r.returncode == 0 and "ratio" in r.stdout


def test_a_run_that_fails_creates_no_run_folder(tmp_path, capsys):
    from nablagrad.cli.main import main

    out = tmp_path / "runs" / "x"
    status = main(["train", "--dataset", "moons", "--epochs", "3", "--layers", "4", "--lr", "1e6", "--optimizer", "sgd",
                   "--activation", "relu", "--out", str(out), "--no-progress"])  # fmt: skip
    assert status == 1 and "NaN" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()
    (tmp_path / "file").write_text("")
    assert main(["train", "--dataset", "moons", "--epochs", "1", "--out", str(tmp_path / "file" / "x"), "--no-progress"]) == 1
