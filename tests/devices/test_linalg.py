"""``ng.linalg`` beyond the op table on another array library, against NumPy to 1e-12: the full
SVD's complement columns (a complete QR on the device), ``matrix_power`` with n = 0 and n < 0,
solve, eigvalsh, and every ``norm`` order (value and VJP; the count ``ord=0`` has no gradient)."""

from __future__ import annotations

import numpy as np
import pytest

import nablagrad as ng

from .conftest import assert_device_equals_numpy, assert_same

RNG = np.random.default_rng(5)
A, TALL, WIDE, B = (RNG.standard_normal(s) for s in [(3, 3), (4, 2), (2, 4), (3, 2)])
L = ng.linalg

CASES = {
    "svd_full_U": (lambda x: L.svd(x, full_matrices=True).U, TALL),
    "svd_full_S": (lambda x: L.svd(x, full_matrices=True).S, TALL),
    "svd_full_Vh": (lambda x: L.svd(x, full_matrices=True).Vh, WIDE),
    "matrix_power_0": (lambda x: L.matrix_power(x, 0) * x, A),
    "matrix_power_-2": (lambda x: L.matrix_power(x, -2), A),
    "solve": (lambda x: L.solve(x, ng.tensor(B, device=x.device)), A),
    "eigvalsh": (lambda x: L.eigvalsh(x + x.T), A),
    **{f"matrix_norm_{o}": (lambda x, o=o: L.norm(x, ord=o), A) for o in (None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf)},
    **{f"vector_norm_{o}": (lambda x, o=o: L.norm(x.reshape(-1), ord=o), A) for o in (None, 1, 3, 0.5, np.inf, -np.inf)},
}


def _value_and_grad(f, a, device):
    x = ng.tensor(a, device=device, requires_grad=True)
    y = f(x)
    (y * ng.tensor(np.random.default_rng(1).standard_normal(y.shape), device=device)).sum().backward()
    return [y, x.grad]


@pytest.mark.parametrize("name", sorted(CASES))
def test_linalg_on_the_device_equals_numpy(name, device):
    f, a = CASES[name]
    assert_device_equals_numpy(lambda dev: _value_and_grad(f, a, dev), device)


def test_norm_ord_0_counts_nonzeros_on_the_device(device):
    x = ng.tensor(np.array([[0.0, 1.5], [-2.0, 0.0]]), device=device, requires_grad=True)
    n = L.norm(x.reshape(-1), ord=0)
    assert n.device == x.device and n.requires_grad  # as torch: backward works, the gradient is 0
    assert_same(n, np.array(2.0))
    n.backward()
    assert x.grad.device == x.device
    assert_same(x.grad, np.zeros((2, 2)))
