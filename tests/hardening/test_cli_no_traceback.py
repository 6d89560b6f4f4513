"""The command line never shows a traceback: one line on stderr, exit 2 for usage errors, 1 for failures."""

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nablagrad as ng


def _run(*args, cwd=None, timeout=120):
    """``python -m nablagrad ARGS`` importing this same nablagrad, from any working directory."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(ng.__file__).parents[1]), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "nablagrad", *args], capture_output=True, text=True, cwd=cwd, timeout=timeout,
                          env=env)  # fmt: skip


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    ng.io.save(ng.nn.MLP([2, 4, 2], seed=0), d / "xor.safetensors", metadata={"dataset": "xor"})
    ng.io.save(ng.nn.MLP([784, 8, 10], seed=0), d / "mnist.safetensors", metadata={"dataset": "mnist"})
    ng.io.save(ng.nn.MLP([784, 8, 10], seed=0), d / "bogus.safetensors", metadata={"dataset": "bogus"})
    (d / "corrupt.safetensors").write_bytes(b"\x00" * 20)
    info = {"format": "nablagrad/1", "architecture": {"type": "Linear", "in_features": 50000, "out_features": 10000}}
    h = json.dumps({"__metadata__": {"nablagrad": json.dumps(info)}}).encode()
    (d / "hostile.safetensors").write_bytes(struct.pack("<Q", len(h)) + h)
    from PIL import Image

    Image.fromarray(np.zeros((28, 28), np.uint8)).save(d / "digit.png")
    Image.fromarray(np.zeros((1, 1), np.uint8)).save(d / "tiny.png")
    Image.fromarray(np.zeros((5000, 5000), np.uint8)).save(d / "huge.png")
    (d / "notanimage.png").write_text("hello")
    for name, text in {
        "dataset": 'dataset = "bogus"',
        "activation": 'activation = "swish"',
        "lr": 'lr = "abc"',
        "epochs": "epochs = 2.5",
        "validation": "validation = 1.5",
        "bool": "batch_size = true",
        "table": "train = 5",
    }.items():
        (d / f"{name}.toml").write_text(text if name == "table" else f"[train]\n{text}\n")
    (d / "binary.toml").write_bytes(bytes(range(256)))
    (d / "afile").write_text("not a folder")
    return d


# (id, args with {d} for the folder, exit status, a fragment of the one line on stderr)
CASES = [
    ("evaluate a 2-feature model on mnist", ["evaluate", "{d}/xor.safetensors", "--dataset", "mnist"], 2, "takes 2 input features (trained on xor) but mnist has 784"),  # noqa: E501
    ("evaluate an mnist model on xor", ["evaluate", "{d}/mnist.safetensors", "--dataset", "xor"], 2, "takes 784 input features (trained on mnist) but xor has 2"),  # noqa: E501
    ("evaluate --dataset bogus", ["evaluate", "{d}/mnist.safetensors", "--dataset", "bogus"], 2, "invalid choice: 'bogus'"),
    ("evaluate a model recording a bogus data set", ["evaluate", "{d}/bogus.safetensors"], 2, "records the data set 'bogus', which is not known here; choose one with --dataset"),  # noqa: E501
    ("evaluate a missing model", ["evaluate", "{d}/absent"], 2, "no model at"),
    ("evaluate a corrupted file", ["evaluate", "{d}/corrupt.safetensors"], 1, "corrupted"),
    ("evaluate a hostile file", ["evaluate", "{d}/hostile.safetensors"], 1, "declared architecture does not match its tensors"),
    ("predict with a non-MNIST model", ["predict", "{d}/xor.safetensors", "{d}/digit.png"], 2, "takes 2 input features (trained on xor); predict needs a model of 28×28 = 784"),  # noqa: E501
    ("predict a 1x1 picture", ["predict", "{d}/mnist.safetensors", "{d}/tiny.png"], 2, "is 1×1 pixels; predict reads a picture of one digit"),  # noqa: E501
    ("predict a 5000x5000 picture", ["predict", "{d}/mnist.safetensors", "{d}/huge.png"], 2, "is 5000×5000 pixels"),
    ("predict a text file", ["predict", "{d}/mnist.safetensors", "{d}/notanimage.png"], 1, "cannot read image"),
    ("predict a missing picture", ["predict", "{d}/mnist.safetensors", "{d}/absent.png"], 2, "no such image"),
    ("train --lr nan", ["train", "--lr", "nan"], 2, "--lr must be a positive finite number, e.g. 1e-3, got nan"),
    ("train --lr inf", ["train", "--lr", "inf"], 2, "got inf"),
    ("train --step-size 0", ["train", "--step-size", "0"], 2, "--step-size must be a positive integer (epochs per step), got 0"),
    ("train --validation 0.999 --limit 10", ["train", "--validation", "0.999", "--limit", "10", "--out", "{d}/run"], 2, "--validation 0.999 of 10 examples leaves none for training"),  # noqa: E501
    ("train --limit -5", ["train", "--limit", "-5"], 2, "--limit must be an integer >= 0 (0 for the whole training set), got -5"),
    ("train --weight-decay -1", ["train", "--weight-decay", "-1"], 2, "--weight-decay must be a number >= 0 (0 for none), got -1.0"),  # noqa: E501
    ("train --gamma -1", ["train", "--gamma", "-1"], 2, "--gamma must be a positive number, e.g. 0.5, got -1.0"),
    ("train --clip-grad-norm -1", ["train", "--clip-grad-norm", "-1"], 2, "--clip-grad-norm must be a number >= 0 (0 for no clipping), got -1.0"),  # noqa: E501
    ("train --momentum -0.5", ["train", "--momentum", "-0.5"], 2, "--momentum must be a number in [0, 1)"),
    ("train --epochs 0", ["train", "--epochs", "0"], 2, "--epochs must be a positive integer, got 0"),
    ("config dataset bogus", ["train", "--config", "{d}/dataset.toml"], 2, "--dataset must be one of mnist, fashion-mnist"),
    ("config activation swish", ["train", "--config", "{d}/activation.toml"], 2, "--activation must be one of identity, step"),
    ("config lr a string", ["train", "--config", "{d}/lr.toml"], 2, "--lr must be a positive finite number, e.g. 1e-3, got 'abc'"),  # noqa: E501
    ("config epochs 2.5", ["train", "--config", "{d}/epochs.toml"], 2, "--epochs must be a positive integer, got 2.5"),
    ("config validation 1.5", ["train", "--config", "{d}/validation.toml"], 2, "--validation must be a fraction in [0, 1)"),
    ("config batch_size true", ["train", "--config", "{d}/bool.toml"], 2, "--batch-size must be a positive integer, got True"),
    ("config train = 5", ["train", "--config", "{d}/table.toml"], 2, "[train] must be a table of options, got int"),
    ("config binary", ["train", "--config", "{d}/binary.toml"], 2, "is not valid TOML"),
    ("train --out below a file", ["train", "--dataset", "xor", "--epochs", "1", "--out", "{d}/afile/run"], 1, "Not a directory"),
    ("train diverges", ["train", "--dataset", "xor", "--optimizer", "sgd", "--lr", "1e38", "--schedule", "none", "--epochs", "2", "--no-progress", "--out", "{d}/div"], 1, "training stopped: the loss became NaN or Inf"),  # noqa: E501
    ("explain 2+3", ["explain", "2+3"], 2, "'2+3' has no variables, so there is nothing to differentiate"),
    ("explain 3000 terms", ["explain", "+".join(["x1"] * 3000), "--at", "x1=1"], 2, "explain takes at most 2000"),
    ("explain 600 operations", ["explain", "+".join(["x1"] * 600), "--at", "x1=1"], 2, "the expression has 599 operations; explain takes at most 200"),  # noqa: E501
    ("explain x1 + 9**9**9", ["explain", "x1 + 9**9**9", "--at", "x1=2"], 2, "a number overflows"),
    ("explain 1/0", ["explain", "x1 + 1/0", "--at", "x1=2"], 2, "cannot evaluate 'x1 + 1/0' at x1=2: float division by zero"),
    ("explain a call", ["explain", "__import__('os')", "--at", "x1=2"], 2, "unsupported syntax"),
    ("playground --port 99999", ["playground", "--port", "99999", "--no-browser"], 2, "argument --port: must be an integer in 0..65535, got '99999'"),  # noqa: E501
    ("bench --repeat 0", ["bench", "--repeat", "0"], 2, "argument --repeat: must be an integer >= 1, got '0'"),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_every_bad_command_gives_one_line_and_the_right_exit_status(files, case):
    _, args, status, fragment = case
    r = _run(*[a.replace("{d}", str(files)) for a in args], cwd=files)
    assert "Traceback" not in r.stdout + r.stderr
    assert r.returncode == status, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nablagrad"), r.stderr
    assert fragment in lines[0]


def test_a_resized_picture_is_reported(files):
    from PIL import Image

    Image.fromarray(np.zeros((56, 56), np.uint8)).save(files / "big.png")
    r = _run("predict", str(files / "mnist.safetensors"), str(files / "big.png"))
    assert r.returncode == 0, r.stderr
    assert "(resized from 56×56 to 28×28)" in r.stdout.splitlines()[0]
