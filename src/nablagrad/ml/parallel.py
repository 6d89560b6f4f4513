"""``n_jobs`` for model selection: independent fits spread over processes by ``joblib``.

``n_jobs=None`` runs in this process unless a ``joblib.parallel_config`` says otherwise;
``n_jobs=-1`` uses every core; ``with joblib.parallel_config(backend="dask"):`` on a Dask
``Client`` sends the same tasks to a cluster.  Results never depend on the worker: every task
carries its own data and seeds, drawn in the caller in a fixed order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ._params import N_JOBS

JOBLIB_HINT = "n_jobs needs joblib: pip install 'nablagrad[distributed]' (or pip install joblib)"


def check_n_jobs(n_jobs, who: str) -> int | None:
    if n_jobs is None:
        return None
    if not any(c.is_satisfied_by(n_jobs) for c in N_JOBS):  # the estimators' constraint: one rule
        raise ValueError(f"{who}: n_jobs must be None, a positive integer or -1 (all cores), got {n_jobs!r}")
    return int(n_jobs)


def parallel_map(fn: Callable, tasks: Iterable[tuple], n_jobs: int | None, who: str) -> list:
    """``[fn(*t) for t in tasks]``, in order, through ``joblib.Parallel(n_jobs)`` when joblib is installed."""
    n_jobs = check_n_jobs(n_jobs, who)
    try:
        import joblib  # noqa: PLC0415 - optional extra
    except ImportError:
        if n_jobs not in (None, 1):
            raise ImportError(f"{who}: {JOBLIB_HINT}") from None
        return [fn(*t) for t in tasks]
    return list(joblib.Parallel(n_jobs=n_jobs)(joblib.delayed(fn)(*t) for t in tasks))
