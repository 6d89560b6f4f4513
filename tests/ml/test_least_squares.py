"""The tall-skinny QR path of the least-squares solver equals LAPACK's SVD-based gelsd (NumPy's
lstsq, scikit-learn's solver): the same minimum-norm solution, rank-deficient designs included."""

import numpy as np
import pytest

from nablagrad.ml.linear import least_squares


@pytest.mark.parametrize(
    "n, p, t, chunk",
    [(1000, 8, 1, 64), (997, 12, 3, 50), (300, 5, 2, 2048), (50, 30, 2, 2048)],
    ids=["blocks", "uneven last block", "one block", "wide: gelsd itself"],
)
@pytest.mark.parametrize("rank_deficient", [False, True], ids=["full rank", "rank deficient"])
def test_least_squares_equals_gelsd(n, p, t, chunk, rank_deficient):
    rng = np.random.default_rng(n + p)
    X = rng.standard_normal((n, p)) * np.logspace(0, 4, p)  # columns on very different scales
    if rank_deficient:
        X[:, -1] = X[:, 0] - 2 * X[:, 1]  # an exact linear dependence: the minimum-norm solution is asked for
    Y = X @ rng.standard_normal((p, t)) + rng.standard_normal((n, t))
    ref = np.linalg.lstsq(X, Y, rcond=None)[0]
    np.testing.assert_allclose(least_squares(X, Y, chunk=chunk), ref, rtol=1e-8, atol=1e-10 * np.abs(ref).max())
