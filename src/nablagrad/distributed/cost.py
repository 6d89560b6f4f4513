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


def ring_allreduce_seconds(n: int, nbytes: float, alpha: float, bandwidth: float) -> float:
    """``T_ar(N) = 2(N − 1)α + 2(N − 1)/N · M/B`` (0 for one rank); ``bandwidth`` in bytes/s."""
    if n <= 1:
        return 0.0
    return 2 * (n - 1) * alpha + 2 * (n - 1) / n * nbytes / bandwidth


def step_seconds(n: int, compute: float, nbytes: float, alpha: float, bandwidth: float) -> float:
    """``T(N) = C/N + T_ar(N)``: ``compute`` is one rank's time for the whole global batch."""
    return compute / n + ring_allreduce_seconds(n, nbytes, alpha, bandwidth)


def efficiency(n: int, compute: float, nbytes: float, alpha: float, bandwidth: float) -> float:
    """``E(N) = T(1) / (N · T(N))``: 1 is perfect linear speed-up."""
    return compute / (n * step_seconds(n, compute, nbytes, alpha, bandwidth))


def fit_alpha_beta(n: int, sizes, seconds) -> tuple[float, float]:
    """``α`` (s per hop) and bandwidth (bytes/s) fitted to measured all-reduce times
    ``t = 2(N − 1)α + 2(N − 1)/N · M/B`` over message sizes ``M`` on ``n`` ranks, by least
    squares on the relative error (so 8-byte and 32-MB messages count alike)."""
    import numpy as np  # noqa: PLC0415

    M = np.asarray(sizes, dtype=np.float64)
    t = np.asarray(seconds, dtype=np.float64)
    A = np.stack([np.full_like(M, 2 * (n - 1)), 2 * (n - 1) / n * M], 1)
    (alpha, inv_b), *_ = np.linalg.lstsq(A / t[:, None], np.ones_like(t), rcond=None)
    return float(alpha), float(1.0 / inv_b)
