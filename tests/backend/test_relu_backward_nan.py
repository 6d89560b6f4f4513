"""kernels.relu_backward (the fused layer's ReLU VJP) equals PyTorch's threshold_backward on both paths:
0 where x ≤ 0 (whatever the cotangent), the cotangent elsewhere — a NaN x included."""

import numpy as np
import pytest

from nablagrad.backend import kernels

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("fast", [False, True], ids=["numpy", "fast"])
@pytest.mark.parametrize("n", [8, 1 << 13], ids=["small", "kernel-sized"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_backward_is_torchs_threshold_backward(fast, n, dtype):
    if fast and not kernels.fast_available():
        pytest.skip("the fast extra (numba) is not installed")
    rng = np.random.default_rng(n)
    special = np.array([np.nan, 0.0, -0.0, -1.0, 2.0, np.inf, -np.inf, np.nan])
    x = np.resize(special, n).astype(dtype)
    if n > 8:
        x[8:] = rng.standard_normal(n - 8)
    g = rng.standard_normal(n).astype(dtype)
    g[:8] = [1.5, np.inf, np.nan, -np.inf, 3.0, -2.0, np.nan, -4.0]  # non-finite cotangents where x ≤ 0
    with kernels.use_fast(fast):
        ours = kernels.relu_backward(g, x)
    theirs = torch.ops.aten.threshold_backward(torch.tensor(g), torch.tensor(x), 0).numpy()
    np.testing.assert_array_equal(ours, theirs)
    assert ours.dtype == dtype and ours[0] == 1.5  # the NaN input passes g on
    assert np.array_equal(ours[8:], np.where(x[8:] > 0, g[8:], 0))  # finite elsewhere: unchanged
