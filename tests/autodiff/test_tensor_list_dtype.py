"""ng.tensor infers a list's dtype as torch.tensor does: Python floats are the default dtype, NumPy
floats keep theirs, the widest wins."""

import numpy as np
import pytest

import nablagrad as ng

CASES = [
    [np.float64(1.0), 2.0], [np.float32(1), 2.0], [np.float16(1), 2.0], [np.float32(1), np.float64(2)],
    [np.int32(1), 2], [np.int32(1), 2.0], [np.float64(1), 2], [[np.float64(1)], [2.0]], [np.array([1.0]), [2.0]],
    [True, np.float64(1)], [np.int64(3)], [1, 2], [1.5, 2.0], [[1.0, 2.0]], [(np.float64(1), 2.0), (3.0, 4.0)],
    [np.float16(1)], [np.float16(1), 2], [np.float32(1), np.int64(2)], [np.array([1.0], dtype=np.float16), [2.0]],
    [np.array([1], dtype=np.int32), [2.0]],
]  # fmt: skip


@pytest.mark.filterwarnings("ignore:Creating a tensor from a list of numpy.ndarrays")
@pytest.mark.parametrize("data", CASES, ids=[repr(c) for c in CASES])
def test_list_dtype_as_torch_tensor(data, array_namespace):
    torch = pytest.importorskip("torch")
    theirs = torch.tensor(data)
    if theirs.dtype == torch.float16 and array_namespace != "numpy":
        pytest.skip("float16 is not in the array API standard")
    ours = ng.tensor(data)
    assert str(theirs.dtype) == f"torch.{ours.dtype}"
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_list_dtype_follows_a_float64_default(array_namespace):
    torch = pytest.importorskip("torch")
    before, before_torch = ng.get_default_dtype(), torch.get_default_dtype()
    try:
        ng.set_default_dtype("float64")
        torch.set_default_dtype(torch.float64)
        cases = [[np.float32(1), 2.0], [1.0], [np.float16(1), 1.0]] + ([[np.float16(1)]] if array_namespace == "numpy" else [])
        for data in cases:
            assert str(torch.tensor(data).dtype) == f"torch.{ng.tensor(data).dtype}"
    finally:
        ng.set_default_dtype(before)
        torch.set_default_dtype(before_torch)
