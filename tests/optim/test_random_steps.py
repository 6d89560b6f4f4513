"""Random steps leave a local minimum (lecture 000); a high rate jumps over the barrier (003)."""

import numpy as np
import pytest

import nablagrad as ng

# f(x) = x⁴ − 3x² + x: a local minimum near 1.13, the global one near −1.30 (roots of f' = 4x³ − 6x + 1)
f = lambda x: (x**4 - 3 * x**2 + x).sum()
ROOTS = np.sort(np.roots([4.0, 0.0, -6.0, 1.0]).real)
GLOBAL, LOCAL = ROOTS[0], ROOTS[2]


def test_plain_descent_stays_in_the_local_minimum():
    r = ng.optim.descend_with_random_steps(f, np.array([2.0]), lr=0.01, jumps=0)
    assert r.x[0] == pytest.approx(LOCAL, abs=1e-6)


@pytest.mark.parametrize("seed", range(5))
def test_random_steps_find_the_global_minimum(seed):
    r = ng.optim.descend_with_random_steps(f, np.array([2.0]), lr=0.01, jumps=10, scale=2.0, seed=seed)
    assert r.minima[0][0] == pytest.approx(LOCAL, abs=1e-6)  # the first descent stalls in the local one
    assert r.x[0] == pytest.approx(GLOBAL, abs=1e-6)
    assert r.fun == pytest.approx(GLOBAL**4 - 3 * GLOBAL**2 + GLOBAL, abs=1e-10)


def test_a_high_rate_escapes_the_local_basin():
    r = ng.optim.descend_with_random_steps(f, np.array([2.0]), lr=0.1, jumps=0)
    assert r.path[1][0] == pytest.approx(2.0 - 0.1 * (4 * 8 - 12 + 1))  # one step: x − μ f'(x) = −0.1
    assert r.x[0] == pytest.approx(GLOBAL, abs=1e-6)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="lr > 0"):
        ng.optim.descend_with_random_steps(f, np.array([2.0]), lr=0.0)
