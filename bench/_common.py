"""Shared benchmark plumbing: a clean BLAS environment, timing, and the machine report."""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable


def clean_blas_env() -> None:
    """Re-run this script without OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE (benchmarks only).

    This machine pins an old OpenBLAS core type for compatibility; that slows a current NumPy.
    The variables are read when the library loads, so the process must start without them.
    """
    if any(k in os.environ for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")):
        env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
        os.execve(sys.executable, [sys.executable, *sys.argv], env)


def best_time(fn: Callable[[], object], repeat: int = 7, number: int = 1) -> float:
    """Median of ``repeat`` timings of ``number`` calls, in seconds per call (after a warm-up)."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number)
    return statistics.median(times)


def interleaved_times(fns: dict[str, Callable[[], object]], repeat: int = 3) -> dict[str, tuple[float, float]]:
    """Each function once per repetition, in turn (after one warm-up call each): the median wall
    time and the median process CPU time of every function, in seconds."""
    for fn in fns.values():
        fn()
    wall: dict[str, list[float]] = {k: [] for k in fns}
    cpu: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeat):
        for k, fn in fns.items():
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            wall[k].append(time.perf_counter() - t0)
            cpu[k].append(time.process_time() - c0)
    return {k: (statistics.median(wall[k]), statistics.median(cpu[k])) for k in fns}


def machine_report() -> str:
    import numpy as np
    import torch
    from threadpoolctl import threadpool_info

    blas = [
        f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')}, {i.get('num_threads')} threads)"
        for i in threadpool_info()
        if i.get("user_api") == "blas"
    ]
    return (
        f"machine: {platform.machine()} {platform.processor() or ''} {os.cpu_count()} cores; "
        f"python {platform.python_version()}; numpy {np.__version__}; torch {torch.__version__} "
        f"({torch.get_num_threads()} threads)\nBLAS: {'; '.join(blas)}"
    )
