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
