"""A cost model of one data-parallel step, to predict scaling before buying the machines.

With a fixed global batch (strong scaling) on ``N`` ranks, one step costs the compute of the
rank's share plus one ring all-reduce of the ``M``-byte gradient buffer:

    T(N) = C / N + T_ar(N),     T_ar(N) = 2 (N − 1) α + 2 (N − 1) / N · M / B

(a ring all-reduce is a reduce-scatter and an all-gather, each ``N − 1`` hops of ``M / N``
bytes; ``α`` is the latency of one hop and ``B`` the link bandwidth in bytes/s).  The
scaling efficiency is ``E(N) = T(1) / (N · T(N))``.  Assumed: compute splits evenly and has no
fixed per-step part, the all-reduce does not overlap backward (it does not here), and the
ranks are identical.
"""

from __future__ import annotations

import math
import numbers
import operator


def _ranks(where: str, n, least: int = 1) -> int:
    """``n`` as an int >= ``least`` (Python or NumPy integers), or a ValueError naming ``where``."""
    try:
        k = None if isinstance(n, bool) else operator.index(n)
    except TypeError:
        k = None
    if k is None or k < least:
        raise ValueError(f"{where}: n (the number of ranks) must be a whole number >= {least}, got {n!r}")
    return k


def _check(where: str, **values) -> None:
    """Each value a finite number >= 0 (``bandwidth`` > 0): the model's quantities are times and sizes."""
    for name, v in values.items():
        positive = name == "bandwidth"
        ok = isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v) and (v > 0 if positive else v >= 0)
        if not ok:
            need = "a positive finite number (bytes per second, e.g. 1.25e9 for 10 Gb/s)" if positive else "a finite number >= 0"
            raise ValueError(f"{where}: {name} must be {need}, got {v!r}")


def ring_allreduce_seconds(n: int, nbytes: float, alpha: float, bandwidth: float) -> float:
    """``T_ar(N) = 2(N − 1)α + 2(N − 1)/N · M/B`` (0 for one rank); ``bandwidth`` in bytes/s."""
    n = _ranks("ring_allreduce_seconds", n)
    _check("ring_allreduce_seconds", nbytes=nbytes, alpha=alpha, bandwidth=bandwidth)
    if n == 1:
        return 0.0
    return 2 * (n - 1) * alpha + 2 * (n - 1) / n * nbytes / bandwidth


def step_seconds(n: int, compute: float, nbytes: float, alpha: float, bandwidth: float) -> float:
    """``T(N) = C/N + T_ar(N)``: ``compute`` is one rank's time for the whole global batch."""
    n = _ranks("step_seconds", n)
    _check("step_seconds", compute=compute)
    return compute / n + ring_allreduce_seconds(n, nbytes, alpha, bandwidth)


def efficiency(n: int, compute: float, nbytes: float, alpha: float, bandwidth: float) -> float:
    """``E(N) = T(1) / (N · T(N))``: 1 is perfect linear speed-up (and 1 when there is nothing to compute
    and nothing to send)."""
    n = _ranks("efficiency", n)
    total = n * step_seconds(n, compute, nbytes, alpha, bandwidth)
    if total == 0:
        return 1.0
    return compute / total


def fit_alpha_beta(n: int, sizes, seconds) -> tuple[float, float]:
    """``α`` (s per hop) and bandwidth (bytes/s) fitted to measured all-reduce times
    ``t = 2(N − 1)α + 2(N − 1)/N · M/B`` over message sizes ``M`` on ``n`` ranks, by least
    squares on the relative error (so 8-byte and 32-MB messages count alike)."""
    import numpy as np  # noqa: PLC0415

    n = _ranks("fit_alpha_beta", n, least=2)
    M = np.asarray(sizes, dtype=np.float64).reshape(-1)
    t = np.asarray(seconds, dtype=np.float64).reshape(-1)
    if len(M) != len(t) or len(np.unique(M)) < 2:
        raise ValueError(f"fit_alpha_beta: needs one time per message size and at least 2 different sizes, got "
                         f"{len(M)} sizes ({len(np.unique(M))} different) and {len(t)} times")  # fmt: skip
    if not (np.all(np.isfinite(M)) and np.all(M >= 0) and np.all(np.isfinite(t)) and np.all(t > 0)):
        raise ValueError("fit_alpha_beta: sizes must be finite numbers >= 0 (bytes) and seconds finite and > 0 "
                         "(measured all-reduce times)")  # fmt: skip
    A = np.stack([np.full_like(M, 2 * (n - 1)), 2 * (n - 1) / n * M], 1)
    (alpha, inv_b), *_ = np.linalg.lstsq(A / t[:, None], np.ones_like(t), rcond=None)
    return float(alpha), float(1.0 / inv_b)
