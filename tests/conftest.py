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


class _CountingSGD(ng.optim.SGD):
    """A user's optimiser with state outside its ``state_dict``: a step counter setting ``lr = lr₀ / t``."""

    def __init__(self, params, lr):
        super().__init__(params, lr=lr)
        self.t, self.base = 0, lr

    def step(self, closure=None):
        self.t += 1
        for g in self.param_groups:
            g["lr"] = self.base / self.t
        return super().step(closure)


@pytest.fixture
def counting_sgd():
    """The class of an SGD subclass that counts its steps (state a compiled step's check must put back)."""
    return _CountingSGD


@pytest.fixture(params=[False, True], ids=["numpy", "fast"])
def fast(request):
    """Run a test on the pure-NumPy path and on the compiled kernels of ``nablagrad[fast]``."""
    from nablagrad.backend import kernels

    with kernels.use_fast(request.param):
        if request.param and not kernels.fast_available():
            pytest.skip("the fast extra (numba) is not installed")
        yield request.param


# --- array namespaces -------------------------------------------------------------------------------
# The autodiff, nn and optim suites run once per array library (their conftest.py asks for
# ``array_namespace``): NumPy, and array-api-strict on its non-CPU device ``device1``, which refuses
# every non-standard call and every implicit conversion to NumPy — so a test that passes there
# proves that the engine kept NumPy off the tensor data — and CuPy where a GPU is present.
NAMESPACES = ("numpy", "array_api_strict", "cupy")


def pytest_generate_tests(metafunc):
    if "array_namespace" in metafunc.fixturenames:
        only = metafunc.definition.get_closest_marker("numpy_only")
        metafunc.parametrize("array_namespace", NAMESPACES[:1] if only else NAMESPACES, indirect=True)


def _namespace_device(name: str):
    if name == "numpy":
        return "cpu"
    if name == "array_api_strict":
        xp = pytest.importorskip("array_api_strict", reason="array-api-strict is in the test dependency group")
        return xp.Device("device1")
    try:
        import cupy
    except ImportError:
        pytest.skip("CuPy is not installed (pip install 'nablagrad[gpu]'): the CuPy run needs an NVIDIA GPU")
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            raise RuntimeError("no device")
    except Exception as exc:  # noqa: BLE001 - any CUDA failure means: no usable GPU here
        pytest.skip(f"CuPy is installed but no CUDA GPU is usable here ({exc})")
    return "cuda"


@pytest.fixture
def namespace_device():
    """The device of an array library named in NAMESPACES (skips, with the reason, without it)."""
    return _namespace_device


@pytest.fixture
def array_namespace(request):
    """New tensors of the test live on this library's device (``ng.set_default_device``)."""
    ng.set_default_device(_namespace_device(request.param))
    try:
        yield request.param
    finally:
        ng.set_default_device("cpu")
