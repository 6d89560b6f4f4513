"""The compiled kernels load from numba's on-disk cache in a new process: numba keys a kernel's cache entry by the
pickled contents of its closure, and a compiled callee (a numba dispatcher) pickles differently in each process,
so a kernel that closed over one was compiled again — and another cache file written — in every process."""

import pytest

from nablagrad.backend import kernels

numba = pytest.importorskip("numba")


def test_no_kernel_closes_over_another_compiled_kernel():
    if not kernels.fast_available():
        pytest.skip("the compiled kernels are off")
    compiled = kernels._state["compiled"]
    assert {"adam", "adam_parts", "abs_sum", "abs_sum_parts", "softmax_ce_rows"} <= set(compiled)
    for name, kernel in compiled.items():
        cells = kernel.py_func.__closure__ or ()
        held = [type(c.cell_contents).__name__ for c in cells if isinstance(c.cell_contents, numba.core.dispatcher.Dispatcher)]
        assert not held, f"kernel {name} closes over compiled kernels ({held}): numba's cache misses it in every process"
