"""``NUMPY.mean`` (the engine's mean of NumPy arrays) gives ``np.mean``'s numbers bit for bit: same values,
types and shapes; what it does not compute itself (float16, integers, ``where=``, empty) is ``np.mean``'s."""

import warnings

import numpy as np
import pytest

from nablagrad.backend.namespace import NUMPY


def _same(a, b) -> None:
    assert type(a) is type(b)
    assert np.shape(a) == np.shape(b) and np.asarray(a).dtype == np.asarray(b).dtype
    assert np.asarray(a).tobytes() == np.asarray(b).tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [*range(1, 140, 7), 255, 256, 257, 1000, 4097, 65537])
@pytest.mark.parametrize("scale", [1.0, 1e-30, 3e30])
def test_vector_mean_bitwise(dtype, n, scale):
    x = (np.random.default_rng(n).standard_normal(n) * scale).astype(dtype)
    _same(NUMPY.mean(x), np.mean(x))
    _same(NUMPY.mean(x, axis=-1), np.mean(x, axis=-1))
    _same(NUMPY.mean(x, axis=0, keepdims=True), np.mean(x, axis=0, keepdims=True))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("shape", "axis", "keepdims"), [
    ((7, 13), 1, False), ((7, 13), 0, True), ((3, 5, 129), -1, False), ((3, 5, 129), None, True),
    ((3, 5, 129), (0, 2), False), ((), None, False), ((4, 300), -2, True),
])  # fmt: skip
def test_axis_mean_bitwise(dtype, shape, axis, keepdims):
    x = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    _same(NUMPY.mean(x, axis=axis, keepdims=keepdims), np.mean(x, axis=axis, keepdims=keepdims))
    _same(NUMPY.mean(x[..., ::2] if x.ndim else x, axis=axis, keepdims=keepdims),
          np.mean(x[..., ::2] if x.ndim else x, axis=axis, keepdims=keepdims))  # fmt: skip


def test_non_finite_values():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # inf − inf, in both
        for values in ([np.inf, 1.0], [np.inf, -np.inf], [np.nan, 2.0], [3e38, 3e38]):
            x = np.array(values, np.float32)
            _same(NUMPY.mean(x), np.mean(x))


@pytest.mark.parametrize("x", [np.arange(10, dtype=np.int64), np.ones(5, np.float16) / 3, np.ones(5, np.complex64)])
def test_other_dtypes_are_numpys(x):
    _same(NUMPY.mean(x), np.mean(x))


def test_where_dtype_empty_and_bad_axis_are_numpys():
    x = np.random.default_rng(2).standard_normal((4, 6)).astype(np.float32)
    _same(NUMPY.mean(x, axis=1, dtype=np.float64), np.mean(x, axis=1, dtype=np.float64))
    where = x > 0
    _same(NUMPY.mean(x, axis=1, where=where), np.mean(x, axis=1, where=where))
    with warnings.catch_warnings(record=True) as caught:  # np.mean's two warnings: the empty slice, then 0/0
        warnings.simplefilter("always")
        assert np.isnan(NUMPY.mean(np.ones(0, np.float32)))
    assert any("Mean of empty slice" in str(w.message) for w in caught)
    with pytest.raises(np.exceptions.AxisError):
        NUMPY.mean(x, axis=2)
