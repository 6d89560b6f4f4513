"""``nablagrad train --config`` given a folder (or a file it cannot read) is a usage error: one line
on stderr naming the option and the fix, exit status 2, never a traceback or a bare ``Errno``."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def _train(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nablagrad", "train", *args], capture_output=True, text=True, timeout=300)


def test_a_folder_as_config_is_a_usage_error_naming_the_option_and_the_fix(tmp_path):
    r = _train("--config", str(tmp_path), "--no-progress")
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stdout + r.stderr and "Errno" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    fix = f"e.g. --config {tmp_path / 'train.toml'}"
    assert f"--config {tmp_path} is a folder, not a file; give the TOML file itself, {fix}" in lines[0]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads any file whatever its mode")
def test_an_unreadable_config_is_a_usage_error(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[train]\nepochs = 1\n')
    cfg.chmod(0)
    try:
        r = _train("--config", str(cfg), "--no-progress")
    finally:
        cfg.chmod(0o600)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert f"--config {cfg} cannot be read" in r.stderr


def test_a_config_that_cannot_be_opened_is_a_usage_error_in_process(tmp_path, monkeypatch, capsys):
    """The same path without relying on file modes (the suite may run as root)."""
    from nablagrad.cli import main, train_cmd  # main: the function (nablagrad.cli re-exports it)

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(train_cmd, "open", refuse, raising=False)
    assert main(["train", "--config", str(tmp_path / "c.toml"), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    path = tmp_path / "c.toml"
    assert err == f"nablagrad train: error: --config {path} cannot be read (Permission denied); give a readable TOML file"


def test_a_missing_config_still_says_not_found(tmp_path):
    r = _train("--config", str(tmp_path / "absent.toml"), "--no-progress")
    assert r.returncode == 2 and "not found" in r.stderr and "Traceback" not in r.stderr
