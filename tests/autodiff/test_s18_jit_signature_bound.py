"""A compiled function keeps a bounded number of programs: a static Python number that changes on every call
(a learning rate) traces again each time, as under jax.jit's static_argnums, but no longer piles up programs;
the first drop warns with the fix (pass the value as an array: one program)."""

import importlib

import numpy as np
import pytest

import nablagrad as ng

jit_module = importlib.import_module("nablagrad.autodiff.jit")  # (the package's ``jit`` is the function)
pytestmark = pytest.mark.numpy_only  # compiled programs are NumPy programs


def test_programs_are_bounded_and_the_first_drop_warns_with_the_fix():
    f = ng.jit(lambda x, s: x * s)
    x = ng.tensor([1.0, 2.0])
    n = jit_module.KEPT_SIGNATURES
    for i in range(n):
        f(x, float(i))
    with pytest.warns(UserWarning, match=r"np\.float32\(lr\)"):
        out = f(x, float(n))
    np.testing.assert_array_equal(out.numpy(), [n, 2 * n])
    programs = next(c.cell_contents for c in f.__closure__ if isinstance(c.cell_contents, dict)
                    and any(isinstance(p, jit_module._Program) for p in c.cell_contents.values()))  # fmt: skip
    assert len(programs) == n
    np.testing.assert_array_equal(f(x, 0.0).numpy(), [0.0, 0.0])  # a dropped signature traces again, same answer


def test_a_changing_numpy_scalar_is_an_input_of_one_program():
    f = ng.jit(lambda x, s: x * s)
    x = ng.tensor([1.0, 2.0])
    for i in range(100):
        out = f(x, np.float32(i))
    assert f.traces == 1
    np.testing.assert_array_equal(out.numpy(), [99.0, 198.0])


def test_the_least_recently_called_program_is_dropped_not_the_oldest():
    """A loop that keeps calling one shape while static values flood in keeps that shape's program (functools.lru_cache's
    rule): only the first call of it traced."""
    f = ng.jit(lambda x, s: x * s)
    hot = ng.tensor([1.0, 2.0])
    f(hot, 1.0)  # the first signature traced, and the one called on every round
    cold = ng.tensor([1.0, 2.0, 3.0])
    with pytest.warns(UserWarning, match="least recently used"):
        for i in range(2 * jit_module.KEPT_SIGNATURES):
            f(cold, float(i))
            np.testing.assert_array_equal(f(hot, 1.0).numpy(), [1.0, 2.0])
    assert f.traces == 1 + 2 * jit_module.KEPT_SIGNATURES  # the hot signature never traced again
