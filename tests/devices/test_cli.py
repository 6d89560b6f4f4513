"""``nablagrad train --device``: the same run on another array library, and clear refusals."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest


def _train(tmp_path, name: str, *extra: str):
    args = ["train", "--dataset", "xor", "--layers", "8", "--epochs", "2", "--batch-size", "32", "--no-progress"]
    return subprocess.run([sys.executable, "-m", "nablagrad", *args, "--out", str(tmp_path / name), *extra],
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def test_train_on_a_device_gives_the_cpu_run(tmp_path):
    pytest.importorskip("array_api_strict")
    cpu = _train(tmp_path, "cpu")
    dev = _train(tmp_path, "dev", "--device", "array_api_strict:device1")
    assert cpu.returncode == 0 and dev.returncode == 0, dev.stderr
    assert "on array_api_strict:device1" in dev.stdout and "on cpu" in cpu.stdout
    # float32 training; the device's reductions may round differently in the last bits
    h_cpu, h_dev = (json.loads((tmp_path / n / "history.json").read_text()) for n in ("cpu", "dev"))
    assert h_cpu.keys() == h_dev.keys()
    for key in h_cpu:
        assert h_dev[key] == pytest.approx(h_cpu[key], rel=1e-5)


@pytest.mark.parametrize("device, message", [("tpu", "unknown device 'tpu'"), ("cuda", 'nablagrad[gpu]')])
def test_a_device_that_cannot_be_used_is_one_clear_line(tmp_path, device, message):
    if device == "cuda" and importlib.util.find_spec("cupy") is not None:
        pytest.skip("CuPy is installed here: --device cuda may work")
    r = _train(tmp_path, "x", "--device", device)
    assert r.returncode == 2 and message in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
