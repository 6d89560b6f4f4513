"""Every data generator refuses fewer than one point, as scikit-learn's ``make_moons`` does, and a number of
points that is not an integer, naming itself, the value and the fix; one point works.

Oracle: scikit-learn 1.9's ``make_moons`` (refuses 0, -1 and 2.0; gives one point)."""

from __future__ import annotations

import numpy as np
import pytest

import nablagrad as ng

sk_datasets = pytest.importorskip("sklearn.datasets")

GENERATORS = sorted(ng.data.DATASETS.items())


@pytest.mark.parametrize("n", [0, -1, 2.0, 2.5])
def test_scikit_learn_refuses_fewer_than_one_point_and_non_integers(n):
    with pytest.raises(ValueError, match="n_samples"):
        sk_datasets.make_moons(n_samples=n)


@pytest.mark.parametrize(("name", "make"), GENERATORS)
@pytest.mark.parametrize("n", [0, -1, -500, np.int64(0)])
def test_fewer_than_one_point_is_refused(name, make, n):
    with pytest.raises(ValueError, match=rf"^{make.__name__}: n must be at least 1 \(the number of points, e\.g\. "
                                         rf"n=500\), got {int(n)}$"):  # fmt: skip
        make(n)


@pytest.mark.parametrize(("name", "make"), GENERATORS)
@pytest.mark.parametrize("n", [2.0, 2.5, True, "5", None])
def test_a_number_of_points_that_is_not_an_integer_is_refused(name, make, n):
    with pytest.raises(TypeError, match=rf"^{make.__name__}: n must be an integer number of points, e\.g\. n=500, "
                                        rf"got {n!r} \({type(n).__name__}\)$"):  # fmt: skip
        make(n)


@pytest.mark.parametrize(("name", "make"), GENERATORS)
def test_one_point_is_a_data_set_of_one_row(name, make):
    X, y = make(1, seed=0)
    X_sk, y_sk = sk_datasets.make_moons(n_samples=1, random_state=0)
    assert X.shape[0] == y.shape[0] == X_sk.shape[0] == y_sk.shape[0] == 1
    assert np.all(np.isfinite(X)) and np.all(np.isfinite(y))
