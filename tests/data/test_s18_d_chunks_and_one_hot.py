"""ChunkedReader indexes as the NumPy array of its chunks does (negative, boolean, scalar, n-d, tuple indexes;
the promoted dtype), names bad files; one_hot keeps the labels' shape as PyTorch / Keras do."""

import numpy as np
import pytest
import torch

from nablagrad.data import ChunkedReader, one_hot

A = np.arange(30.0).reshape(10, 3)


@pytest.fixture
def reader(tmp_path):
    paths = []
    for k, (s, e) in enumerate(((0, 4), (4, 7), (7, 10))):
        paths.append(tmp_path / f"x{k}.npy")
        np.save(paths[-1], A[s:e])
    return ChunkedReader(paths)


INDEXES = {
    "negative": np.array([-1, -10, 3]),
    "scalar": 3,
    "numpy scalar": np.int64(-2),
    "slice": slice(2, 9, 3),
    "reversed": slice(None, None, -1),
    "boolean mask": A[:, 0] > 10,
    "list": [9, 0, 4],
    "2-d": np.array([[0, 9], [5, 4]]),
    "empty": np.array([], np.int64),
    "rows and a column": (np.array([1, 8]), 2),
    "all rows, one column": (slice(None), 0),
    "one entry": (7, 1),
}


@pytest.mark.parametrize("name", INDEXES)
def test_indexing_equals_numpy(reader, name):
    got, want = reader[INDEXES[name]], A[INDEXES[name]]
    assert np.shape(got) == want.shape
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(
    ("index", "error", "match"),
    [
        (np.array([10]), IndexError, r"index 10 is out of bounds for 10 rows"),
        (np.array([-11]), IndexError, r"index -11 is out of bounds for 10 rows"),
        (np.ones(4, bool), IndexError, r"a boolean index must have shape \(10,\)"),
        (np.array([0.5]), IndexError, r"rows are chosen by integers"),
    ],
)
def test_bad_indexes_are_refused(reader, index, error, match):
    with pytest.raises(error, match=match):
        reader[index]


def test_dtype_promotes_as_concatenate_and_a_single_path(tmp_path):
    np.save(tmp_path / "i.npy", np.arange(4).reshape(2, 2))
    np.save(tmp_path / "f.npy", np.full((1, 2), 0.5, np.float32))
    r = ChunkedReader([tmp_path / "i.npy", tmp_path / "f.npy"])
    both = np.concatenate([np.load(tmp_path / "i.npy"), np.load(tmp_path / "f.npy")])
    assert r.dtype == both.dtype and r.ndim == 2
    np.testing.assert_array_equal(r[np.array([2])], both[[2]])  # 0.5 kept, not cut to 0 by the first chunk's int
    one = ChunkedReader(str(tmp_path / "f.npy"))  # one path, not its characters
    assert one.shape == (1, 2)


def test_bad_chunk_files_are_named(tmp_path):
    (tmp_path / "junk.npy").write_bytes(b"hello")
    np.save(tmp_path / "scalar.npy", np.array(3.0))
    with pytest.raises(FileNotFoundError, match=r"ChunkedReader: no such file .*missing\.npy"):
        ChunkedReader([tmp_path / "missing.npy"])
    with pytest.raises(ValueError, match=r"ChunkedReader: .*junk\.npy is not a \.npy file of numbers"):
        ChunkedReader([tmp_path / "junk.npy"])
    with pytest.raises(ValueError, match=r"ChunkedReader: .*scalar\.npy holds a 0-d array, not rows"):
        ChunkedReader([tmp_path / "scalar.npy"])


@pytest.mark.parametrize("labels", [np.array([[0, 3], [2, 1]]), np.array(2), np.zeros((2, 0, 3), np.int64)])
def test_one_hot_keeps_the_labels_shape_as_pytorch(labels):
    want = torch.nn.functional.one_hot(torch.tensor(labels), 4).numpy()
    got = one_hot(labels, 4)
    assert got.shape == want.shape and got.dtype == np.float32
    np.testing.assert_array_equal(got, want)


def test_one_hot_of_a_column_of_labels_is_a_matrix_as_keras():
    labels = np.array([[2], [0], [1]])  # Keras's to_categorical drops the trailing 1: (3, 1) -> (3, 3)
    np.testing.assert_array_equal(one_hot(labels), np.eye(3, dtype=np.float32)[[2, 0, 1]])


@pytest.mark.parametrize(
    "index",
    [
        ([1, 2], [0, 1]),
        (np.array([[0], [1]]), 0),
        (Ellipsis, 0),
        (Ellipsis,),
        ([1, 2], Ellipsis),
        (slice(2, 5), [1, 2]),
        (3, [0, 2]),
        (np.array([9, 1, 9]), slice(None, None, 2)),
        (np.arange(10) > 5, 2),
        (-1, -1),
        (np.array(3), 1),
        (0, slice(None), [1, 0]),
        (np.array(1), slice(None), [1, 0]),
        (-1, Ellipsis, [1, 0]),
        ([2, 0], slice(None), [1, 0]),
    ],
)
def test_tuple_indexes_read_what_numpy_reads(tmp_path, index):
    full = np.arange(120.0).reshape(10, 3, 4)
    np.save(tmp_path / "a.npy", full[:4])
    np.save(tmp_path / "b.npy", full[4:])
    reader = ChunkedReader([tmp_path / "a.npy", tmp_path / "b.npy"])
    got, want = reader[index], full[index]
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)
