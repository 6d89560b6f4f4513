"""``nablagrad --version`` and a model too large for the machine refused before anything is
allocated or written (``--layers 100000,100000`` would ask for 37 GiB of weights)."""

import os

import pytest

import nablagrad as ng
from nablagrad.cli import train_cmd
from nablagrad.cli.main import main


def test_version_prints_the_package_version_and_exits_0(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"nablagrad {ng.__version__}"


@pytest.mark.parametrize("sizes, params", [([784, 256, 128, 10], 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10),
                                           ([2, 100_000, 100_000, 2], 3 * 100_000 + 100_001 * 100_000 + 100_001 * 2)])
def test_the_memory_check_counts_an_mlps_parameters(sizes, params):
    need = 16 * params  # float32 weights, gradients and Adam's two moments
    train_cmd.check_model_fits(sizes, "x", memory=need)  # exactly enough: accepted
    with pytest.raises(train_cmd.CLIError, match=f"of {params:,} parameters.*choose smaller --layers"):
        train_cmd.check_model_fits(sizes, "x", memory=need - 1)


def test_layers_too_large_for_the_machine_are_refused_before_allocating_or_writing(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(train_cmd, "_memory_bytes", lambda: 2**30)  # a 1 GiB machine
    allocated = []
    monkeypatch.setattr(ng.nn, "MLP", lambda *a, **k: allocated.append(a))
    out = tmp_path / "run"
    status = main(["train", "--dataset", "xor", "--layers", "20000,20000", "--epochs", "1", "--no-progress", "--out", str(out)])
    assert status == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and err[0].startswith("nablagrad train: error: --layers 20000,20000 makes an MLP 2-20000-20000-2")
    assert "GiB" in err[0] and "this machine has 1.0 GiB" in err[0]
    assert allocated == [] and not out.exists() and os.listdir(tmp_path) == []


def test_a_model_that_fits_still_trains(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--dataset", "xor", "--layers", "4", "--epochs", "1", "--no-progress", "--out", str(out)]) == 0
    assert (out / "model.safetensors").exists()
