import numpy as np
import pytest

import nablagrad as ng


@pytest.fixture(autouse=True)
def _fresh_state():
    """Every test starts with the float32 default and a seeded generator."""
    ng.set_default_dtype("float32")
    ng.manual_seed(0)
    yield
    ng.set_default_dtype("float32")


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(params=[False, True], ids=["numpy", "fast"])
def fast(request):
    """Run a test on the pure-NumPy path and on the compiled kernels of ``nablagrad[fast]``."""
    from nablagrad.backend import kernels

    with kernels.use_fast(request.param):
        if request.param and not kernels.fast_available():
            pytest.skip("the fast extra (numba) is not installed")
        yield request.param
