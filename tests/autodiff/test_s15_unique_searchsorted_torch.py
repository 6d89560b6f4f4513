"""unique, unique_consecutive and searchsorted against PyTorch 2.13: the values, inverse indices and counts (NaN,
bool, ints, empty and 0-d tensors, slices along a dim), the positions for 1-D and batched sequences (both sides,
out_int32, sorter, NaN as PyTorch's binary search places it), dtypes, no gradient, and the errors."""

import itertools

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")

NAN = np.nan
ARRAYS = {
    "floats_nan": np.array([3.0, 1.0, 2.0, 3.0, NAN, 1.0, NAN, -0.0, 0.0]),
    "ints_2d": np.array([[3, 1, 1], [2, 3, 7]]),
    "bools": np.array([True, False, True]),
    "float32": np.array([[0.5, 0.25], [0.5, -1.0]], np.float32),
    "empty": np.zeros((0,)),
    "zero_d": np.array(5.0),
    "runs": np.array([1, 1, 2, 2, 3, 1, 1, 2, NAN, NAN]),
}
FLAGS = list(itertools.product([False, True], repeat=2))


def _same(got, want):
    """One result of ng against torch's: a tensor, or a tuple of them — shapes, dtypes and values (NaN = NaN)."""
    got = got if isinstance(got, tuple) else (got,)
    want = want if isinstance(want, tuple) else (want,)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == tuple(w.shape) and str(g.dtype) == str(w.dtype).removeprefix("torch."), (g, w)
        np.testing.assert_array_equal(g.numpy(), w.numpy())
        assert not g.requires_grad


@pytest.mark.parametrize(("inverse", "counts"), FLAGS)
@pytest.mark.parametrize("name", sorted(ARRAYS))
def test_unique_of_the_entries_as_torch(name, inverse, counts):
    a = ARRAYS[name]
    for sort in (True, False):  # (PyTorch's CPU sorts either way)
        got = ng.unique(ng.tensor(a), sorted=sort, return_inverse=inverse, return_counts=counts)
        _same(got, torch.unique(torch.tensor(a), sorted=sort, return_inverse=inverse, return_counts=counts))
    _same(ng.tensor(a).unique(return_inverse=inverse, return_counts=counts),
          torch.tensor(a).unique(return_inverse=inverse, return_counts=counts))  # fmt: skip
    values, where = ng.unique(ng.tensor(a), return_inverse=True)
    np.testing.assert_array_equal(values.numpy()[where.numpy()], a)  # values[inverse] rebuilds x


SLICED = {
    "rows": (np.array([[1, 2], [1, 2], [0, 5], [1, 1]]), [0, 1, -1]),
    "nan_rows": (np.array([[1.0, NAN], [1.0, NAN], [0.0, 2.0]]), [0, 1]),
    "three_d": (np.array([[[1, 2], [1, 2]], [[0, 2], [1, 2]], [[1, 2], [1, 2]]]), [0, 1, 2]),
    "empty_selected": (np.zeros((0, 3)), [0]),
}


@pytest.mark.parametrize(("inverse", "counts"), FLAGS)
@pytest.mark.parametrize("name", sorted(SLICED))
def test_unique_along_a_dim_as_torch(name, inverse, counts):
    a, dims = SLICED[name]
    for dim in dims:
        for ng_f, t_f in ((ng.unique, torch.unique), (ng.unique_consecutive, torch.unique_consecutive)):
            got = ng_f(ng.tensor(a), return_inverse=inverse, return_counts=counts, dim=dim)
            _same(got, t_f(torch.tensor(a), return_inverse=inverse, return_counts=counts, dim=dim))


@pytest.mark.parametrize(("inverse", "counts"), FLAGS)
@pytest.mark.parametrize("name", sorted(ARRAYS))
def test_unique_consecutive_as_torch(name, inverse, counts):
    a = ARRAYS[name]
    _same(ng.unique_consecutive(ng.tensor(a), return_inverse=inverse, return_counts=counts),
          torch.unique_consecutive(torch.tensor(a), return_inverse=inverse, return_counts=counts))  # fmt: skip
    _same(ng.tensor(a).unique_consecutive(return_counts=counts), torch.tensor(a).unique_consecutive(return_counts=counts))


def test_unique_has_no_gradient():
    x = ng.tensor([1.0, 2.0, 1.0], requires_grad=True)
    values, inverse = ng.unique(x * 2.0, return_inverse=True)
    assert not values.requires_grad and values._op is None and inverse.dtype == np.int64
    assert ng.vmap(lambda v: v * 2.0)(x).shape == (3,)  # (unrelated transforms stay usable)


def test_unique_errors_as_torch():
    for ng_f, t_f in ((ng.unique, torch.unique), (ng.unique_consecutive, torch.unique_consecutive)):
        with pytest.raises(IndexError):
            t_f(torch.tensor(5.0), dim=0)
        with pytest.raises(IndexError, match="0-d tensor has no dim 0"):
            ng_f(ng.tensor(5.0), dim=0)
        with pytest.raises(IndexError):
            t_f(torch.tensor([[1, 2]]), dim=2)
        with pytest.raises(IndexError, match="out of range"):
            ng_f(ng.tensor([[1, 2]]), dim=2)
    with pytest.raises(RuntimeError, match="0 sized dimensions"):
        torch.unique(torch.zeros(2, 0), dim=0)
    with pytest.raises(ValueError, match=r"empty along a dim other than dim 0"):
        ng.unique(ng.zeros(2, 0), dim=0)


def _search(seq, values, **kw):
    """searchsorted from each library (arrays become tensors; numbers stay numbers)."""
    conv = lambda lib, v: lib.tensor(v) if isinstance(v, np.ndarray) else v  # noqa: E731
    got = ng.searchsorted(conv(ng, seq), conv(ng, values), **{k: conv(ng, v) for k, v in kw.items()})
    want = torch.searchsorted(conv(torch, seq), conv(torch, values), **{k: conv(torch, v) for k, v in kw.items()})
    _same(got, want)


@pytest.mark.parametrize("size", [0, 1, 2, 3, 8, 17])
@pytest.mark.parametrize("side", ["left", "right"])
def test_searchsorted_as_torch(size, side):
    rng = np.random.default_rng(size)
    half = lambda s: np.round(rng.standard_normal(s) * 2) / 2  # noqa: E731 - ties with the sequence
    seq, values = np.sort(half(size)), half((3, 4))
    _search(seq, values, side=side)
    _search(seq, values, right=side == "right", out_int32=True)
    batched, bvalues = np.sort(half((2, 3, size)), axis=-1), half((2, 3, 5))
    _search(batched, bvalues, side=side)
    if size:
        with_nan = seq.copy()
        with_nan[-1] = NAN  # NaN last, as a sort puts it: PyTorch's binary search, step for step
        _search(with_nan, np.array([NAN, 0.0, 10.0, -10.0]), side=side)
        u = rng.standard_normal(size)
        _search(u, np.array([0.1, -0.2, 5.0]), sorter=np.argsort(u), side=side)
        ub = rng.standard_normal((2, size))
        _search(ub, np.array([[0.1, -3.0], [0.0, 9.0]]), sorter=np.argsort(ub, axis=-1), side=side)


def test_searchsorted_values_dtypes_and_shapes_as_torch():
    _search(np.array([1, 2, 3]), 2.5)  # a number: a 0-d result, compared in floats
    _search(np.array([1, 2, 3]), 2)
    _search(np.array([1.0, 2.0, 3.0]), np.array(2.5))
    _search(np.array([1.0, 2.0, 3.0]), np.array([2]))
    _search(np.array([1, 2, 3], np.uint8), np.array([2, 300]))
    _search(np.array([1.0, 2.0, 3.0], np.float32), np.array([2.0, 2.5]))
    _search(np.zeros((2, 0)), np.zeros((2, 3)))
    _search(np.zeros((0, 3)), np.zeros((0, 2)))
    _search(np.array([1.0, 2.0]), np.zeros((2, 0)))
    x = ng.tensor([1.0, 2.0, 3.0], requires_grad=True)
    assert not ng.searchsorted(x, x * 1.5).requires_grad


def test_searchsorted_errors_as_torch():
    s1, s2 = np.array([1.0, 2.0, 3.0]), np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    cases = [
        ((s1, np.array([2.0])), {"side": "left", "right": True}, ValueError, "opposite sides"),
        ((s1, np.array([2.0])), {"side": "middle"}, ValueError, "side must be 'left' or 'right'"),
        ((s2, np.array([[2.0, 3.0, 1.0]])), {}, ValueError, r"needs values of shape \(2,\) \+ \(K,\)"),
        ((s2, np.array([2.0, 3.0])), {}, ValueError, "needs values of shape"),
        ((s2, 2.0), {}, ValueError, "a number as the value needs a 1-D sequence"),
        ((np.array(2.0), np.array([2.0])), {}, ValueError, "at least 1 dimension"),
        ((s1, np.array([2.5])), {"sorter": np.array([1, 2])}, ValueError, "sorter of shape"),
        ((s1, np.array([2.5])), {"sorter": np.array([1, 2, 5])}, IndexError, "sorter holds an index outside"),
        ((s1, np.array([2.5])), {"sorter": np.array([1.0, 2.0, 0.0])}, TypeError, "sorter must hold int64"),
        ((s1, np.array([2.5])), {"sorter": np.array([1, 2, 0], np.int32)}, TypeError, "sorter must hold int64"),
    ]
    conv = lambda lib, v: lib.tensor(v) if isinstance(v, np.ndarray) else v  # noqa: E731
    for (seq, values), kw, error, message in cases:
        with pytest.raises(RuntimeError):
            torch.searchsorted(conv(torch, seq), conv(torch, values), **{k: conv(torch, v) for k, v in kw.items()})
        with pytest.raises(error, match=message):
            ng.searchsorted(conv(ng, seq), conv(ng, values), **{k: conv(ng, v) for k, v in kw.items()})
