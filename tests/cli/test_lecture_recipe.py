"""Lecture 003's own MNIST recipe from the command line: 784-30-10, sigmoid everywhere, squared
error on one-hot targets, SGD lr 3, batch 10 (on a subset so that it takes seconds)."""

import json
import subprocess
import sys

import numpy as np

import nablagrad as ng

RECIPE = ["--hidden", "30", "--activation", "sigmoid", "--output-activation", "sigmoid", "--loss", "mse",
          "--optimizer", "sgd", "--lr", "3", "--batch-size", "10"]  # fmt: skip


def test_lecture_003_recipe_on_a_subset(tmp_path):
    out = tmp_path / "run"
    args = [sys.executable, "-m", "nablagrad", "train", *RECIPE, "--epochs", "3", "--limit", "6000", "--out", str(out),
            "--no-progress"]  # fmt: skip
    r = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "MLP 784-30-10 sigmoid → sigmoid, mse, sgd lr=3.0" in r.stdout
    acc = float(r.stdout.strip().splitlines()[-1].split()[-1])
    assert acc > 0.85
    model = ng.io.load(out / "model.safetensors")
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Linear", "Sigmoid", "Linear", "Sigmoid"]
    assert [m.weight.shape for m in model if hasattr(m, "weight")] == [(784, 30), (30, 10)]
    # the loss recorded is the mean squared error of the sigmoid outputs against one-hot targets
    X, y, Xt, yt = ng.data.load_mnist(flatten=True)
    a = model(Xt[:500].astype(np.float32) / 255).numpy()
    assert a.min() > 0 and a.max() < 1
    onehot = np.eye(10)[yt[:500]]
    mse = float(((a - onehot) ** 2).mean())
    assert mse < 0.03 and json.loads((out / "history.json").read_text())["loss"][-1] < 0.03
