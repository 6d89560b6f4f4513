"""The cost model of docs/distributed.md: the ring all-reduce formula and the fit of α and B."""

import numpy as np
import pytest

import nablagrad as ng


def test_ring_allreduce_moves_2_n_minus_1_over_n_of_the_buffer():
    # N = 4, M = 4 MB, B = 1 GB/s, α = 10 µs: 6 hops of 1 MB each way -> 6·10 µs + 6 MB / 1 GB/s
    assert ng.distributed.ring_allreduce_seconds(4, 4e6, 10e-6, 1e9) == pytest.approx(6 * 10e-6 + 6e6 / 1e9)
    assert ng.distributed.ring_allreduce_seconds(1, 4e6, 10e-6, 1e9) == 0.0
    # bytes sent per rank approach 2M as N grows
    big = ng.distributed.ring_allreduce_seconds(1000, 4e6, 0.0, 1e9)
    assert big == pytest.approx(2 * 4e6 / 1e9, rel=1e-3)


def test_efficiency_is_one_without_communication_and_falls_with_ranks():
    assert ng.distributed.efficiency(16, 0.1, 0.0, 0.0, 1e9) == pytest.approx(1.0)
    e = [ng.distributed.efficiency(n, 0.1, 1e6, 5e-6, 1.25e9) for n in (2, 8, 32, 64)]
    assert all(a > b for a, b in zip(e, e[1:]))
    # E(N) = C / (N (C/N + T_ar)) = C / (C + N T_ar)
    t_ar = ng.distributed.ring_allreduce_seconds(8, 1e6, 5e-6, 1.25e9)
    assert e[1] == pytest.approx(0.1 / (0.1 + 8 * t_ar))


@pytest.mark.parametrize("n", [2, 4])
def test_fit_recovers_alpha_and_bandwidth_from_noisy_times(n):
    rng = np.random.default_rng(0)
    sizes = 2.0 ** np.arange(3, 26, 2)
    alpha, bw = 3e-6, 4e9
    t = (2 * (n - 1) * alpha + 2 * (n - 1) / n * sizes / bw) * (1 + 0.02 * rng.standard_normal(len(sizes)))
    a, b = ng.distributed.fit_alpha_beta(n, sizes, t)
    assert a == pytest.approx(alpha, rel=0.05) and b == pytest.approx(bw, rel=0.05)
