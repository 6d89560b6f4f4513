import gzip
import struct
import tracemalloc

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.data import DataFormatError, load_csv, load_idx, load_npz


def test_bundled_mnist_has_the_canonical_facts():
    X, y, Xt, yt = ng.data.load_mnist()
    assert X.shape == (60000, 28, 28) and Xt.shape == (10000, 28, 28) and X.dtype == np.uint8
    assert y[0] == 5 and int(X[0].sum()) == 27525
    assert np.bincount(yt, minlength=10).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert ng.data.load_mnist(flatten=True)[0].shape == (60000, 784)


def _write_idx(path, arr, gz=False):
    header = bytes([0, 0, 0x08, arr.ndim]) + b"".join(struct.pack(">I", n) for n in arr.shape)
    data = header + arr.astype(np.uint8).tobytes()
    (gzip.open if gz else open)(path, "wb").write(data)


def test_load_idx_roundtrip_and_errors(tmp_path):
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    _write_idx(tmp_path / "a.idx", a)
    _write_idx(tmp_path / "a.idx.gz", a, gz=True)
    np.testing.assert_array_equal(load_idx(tmp_path / "a.idx"), a)
    np.testing.assert_array_equal(load_idx(tmp_path / "a.idx.gz"), a)
    raw = (tmp_path / "a.idx").read_bytes()
    (tmp_path / "short.idx").write_bytes(raw[:-3])
    with pytest.raises(DataFormatError, match="declares shape"):
        load_idx(tmp_path / "short.idx")
    (tmp_path / "bad.idx").write_bytes(b"\x01\x02\x03\x04rest")
    with pytest.raises(DataFormatError, match="magic"):
        load_idx(tmp_path / "bad.idx")
    (tmp_path / "hdr.idx").write_bytes(raw[:6])
    with pytest.raises(DataFormatError, match="header"):
        load_idx(tmp_path / "hdr.idx")
    with pytest.raises(DataFormatError, match="no such file"):
        load_idx(tmp_path / "missing.idx")


def test_fashion_mnist_from_user_idx_files(tmp_path):
    for name, arr in [("train-images-idx3-ubyte", np.zeros((3, 28, 28))), ("train-labels-idx1-ubyte", np.arange(3)),
                      ("t10k-images-idx3-ubyte", np.ones((2, 28, 28))), ("t10k-labels-idx1-ubyte", np.arange(2))]:  # fmt: skip
        _write_idx(tmp_path / name, arr)
    X, y, Xt, yt = ng.data.load_fashion_mnist(tmp_path, flatten=True)
    assert X.shape == (3, 784) and yt.tolist() == [0, 1]
    with pytest.raises(DataFormatError, match="dataset-fashion-mnist"):
        ng.data.load_fashion_mnist(tmp_path / "nowhere")


def test_load_npz_and_csv_errors(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.ones((3, 2)), y=np.arange(3))
    X, y = load_npz(tmp_path / "d.npz")
    assert X.shape == (3, 2)
    with pytest.raises(DataFormatError, match="not \\['labels'\\]"):
        load_npz(tmp_path / "d.npz", y_key="labels")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(DataFormatError, match="not a valid .npz"):
        load_npz(tmp_path / "junk.npz")
    np.savez(tmp_path / "obj.npz", X=np.array([{"a": 1}], dtype=object), y=np.arange(1))
    with pytest.raises(DataFormatError):
        load_npz(tmp_path / "obj.npz")
    (tmp_path / "d.csv").write_text("label,a,b\n1,0.5,2\n0,1.5,3\n")
    X, y = load_csv(tmp_path / "d.csv")
    assert X.tolist() == [[0.5, 2.0], [1.5, 3.0]] and y.tolist() == [1, 0]
    (tmp_path / "ragged.csv").write_text("1,2,3\n4,5\n")
    with pytest.raises(DataFormatError, match="rectangular"):
        load_csv(tmp_path / "ragged.csv")
    with pytest.raises(DataFormatError, match="no such file"):
        load_csv(tmp_path / "none.csv")


@pytest.mark.parametrize("name", sorted(ng.data.DATASETS))
def test_generators_are_seeded_and_shaped(name):
    f = ng.data.DATASETS[name]
    X1, y1 = f(200, seed=3)
    X2, y2 = f(200, seed=3)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert len(X1) == len(y1) == 200


def test_playground_generators_match_their_geometry():
    X, y = ng.data.make_circle(400, seed=0)
    r = np.hypot(X[:, 0], X[:, 1])
    assert np.all((r < 2.5) == (y == 1))
    X, y = ng.data.make_xor(400, seed=0)
    assert np.all((X[:, 0] * X[:, 1] >= 0) == (y == 1))
    X, y = ng.data.make_spiral(400, seed=0, labels="pm1")
    assert set(np.unique(y)) == {-1.0, 1.0} and np.abs(X).max() <= 5


def test_dataloader_batches_cover_every_row_once(rng):
    X, y = rng.standard_normal((103, 3)), np.arange(103)
    loader = ng.data.DataLoader(X, y, batch_size=10, shuffle=True, seed=0)
    seen = np.concatenate([yb for _, yb in loader])
    assert len(loader) == 11 and sorted(seen.tolist()) == list(range(103))
    assert len(list(ng.data.DataLoader(X, y, batch_size=10, drop_last=True))) == 10
    with pytest.raises(ValueError, match="103 rows but y has 5"):
        ng.data.DataLoader(X, y[:5])


def test_standardize_and_one_hot():
    Xtr = np.array([[1.0, 10.0], [3.0, 10.0]])
    Z, Zt = ng.data.standardize(Xtr, np.array([[2.0, 10.0]]))
    np.testing.assert_allclose(Z, [[-1, 0], [1, 0]])
    np.testing.assert_allclose(Zt, [[0, 0]])
    np.testing.assert_array_equal(ng.data.one_hot(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])


def _peak_fit_memory(tmp_path, rows):
    rng = np.random.default_rng(0)
    X = np.lib.format.open_memmap(tmp_path / f"X{rows}.npy", mode="w+", dtype=np.float32, shape=(rows, 256))
    for s in range(0, rows, 10000):
        X[s : s + 10000] = rng.standard_normal((min(10000, rows - s), 256), dtype=np.float32)
    X.flush()
    np.save(tmp_path / f"y{rows}.npy", rng.integers(0, 10, rows))
    del X
    model = ng.nn.MLP([256, 32, 10], seed=0)
    opt = ng.optim.SGD(model.parameters(), lr=0.01)
    tracemalloc.start()
    ng.train.fit(model, "cross_entropy", opt, tmp_path / f"X{rows}.npy", tmp_path / f"y{rows}.npy", epochs=1, batch_size=64)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_out_of_core_training_memory_does_not_grow_with_rows_on_disk(tmp_path):
    """SGD needs O(BD) memory (lecture 004): 4× the rows on disk, ~the same peak memory."""
    small = _peak_fit_memory(tmp_path, 20_000)  # 20 MB on disk
    big = _peak_fit_memory(tmp_path, 80_000)  # 80 MB on disk
    assert big - small < 2_000_000, (small, big)  # only the O(N) index array grows (8 bytes/row)
    assert big < 10_000_000


def test_chunked_reader_trains_from_several_files(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    for k in range(3):
        np.save(tmp_path / f"x{k}.npy", X[k * 100 : (k + 1) * 100])
        np.save(tmp_path / f"y{k}.npy", y[k * 100 : (k + 1) * 100])
    Xr = ng.data.ChunkedReader([tmp_path / f"x{k}.npy" for k in range(3)])
    yr = ng.data.ChunkedReader([tmp_path / f"y{k}.npy" for k in range(3)])
    idx = np.array([0, 99, 100, 250, 299])
    np.testing.assert_array_equal(Xr[idx], X[idx])
    assert len(Xr) == 300 and Xr.shape == (300, 4)
    m = ng.nn.MLP([4, 8, 2], seed=0)
    ng.train.fit(m, "cross_entropy", ng.optim.Adam(m.parameters(), lr=0.01), Xr, yr, epochs=20, batch_size=32, seed=0)
    assert ng.train.evaluate(m, "cross_entropy", X, y)["accuracy"] > 0.9


@pytest.mark.parametrize("k", [2, 3, 5])
def test_k_class_generators(k):
    X, y = ng.data.make_blobs(300, classes=k, seed=0)
    assert sorted(np.unique(y)) == list(range(k))
    centres = np.array([X[y == c].mean(0) for c in range(k)])
    np.testing.assert_allclose(np.hypot(*centres.T), 3.5, atol=0.25)  # blobs sit on the circle of radius 3.5
    X, y = ng.data.make_spiral(300, classes=k, seed=0)
    assert np.bincount(y if k > 2 else (y > 0).astype(int)).tolist() == [300 // k + (j >= k - 300 % k) for j in range(k)]
    assert np.abs(X).max() <= 5


def test_dataloader_over_a_list_of_example_tuples_batches_as_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    examples = [(rng.standard_normal(2), i % 3) for i in range(7)]
    ours = list(ng.data.DataLoader(examples, batch_size=3, shuffle=False))
    theirs = list(torch.utils.data.DataLoader(examples, batch_size=3))
    assert len(ours) == len(theirs) == 3
    for (xb, yb), (txb, tyb) in zip(ours, theirs):
        np.testing.assert_array_equal(xb, txb.numpy())
        np.testing.assert_array_equal(yb, tyb.numpy())
    with pytest.raises(ValueError, match="field 0 of the examples has different shapes"):
        ng.data.DataLoader([(np.ones(2), 1), (np.ones(3), 0)])
    with pytest.raises(TypeError, match="list of dicts"):
        ng.data.DataLoader([{"x": 1}, {"x": 2}])


def test_dataloader_len_and_drop_last_match_torch_on_small_and_empty_sets():
    torch = pytest.importorskip("torch")
    X, y = np.arange(10.0).reshape(10, 1), np.arange(10)
    for bs, drop in ((3, False), (3, True), (32, False), (32, True), (10, True)):
        ours = ng.data.DataLoader(X, y, batch_size=bs, shuffle=False, drop_last=drop)
        theirs = torch.utils.data.DataLoader(list(zip(X, y)), batch_size=bs, drop_last=drop)
        assert len(ours) == len(theirs) == len(list(ours)), (bs, drop)
        assert [b[1].tolist() for b in ours] == [b[1].tolist() for b in theirs]
    empty = ng.data.DataLoader(np.zeros((0, 2)), batch_size=4)
    assert len(empty) == len(torch.utils.data.DataLoader([], batch_size=4)) == 0 and list(empty) == []


def test_dataloader_over_a_tuple_of_arrays_batches_as_torch_tensor_dataset():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    X, y, w = rng.standard_normal((10, 2)), np.arange(10), rng.random(10)
    ours = ng.data.DataLoader((X, y, w), batch_size=4, shuffle=False)
    theirs = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(*map(torch.from_numpy, (X, y, w))), batch_size=4)
    assert len(ours) == len(theirs) == 3
    for ob, tb in zip(ours, theirs, strict=True):
        assert len(ob) == len(tb) == 3
        for a, b in zip(ob, tb):
            np.testing.assert_array_equal(a, b.numpy())
    shuffled = list(ng.data.DataLoader((X, y), batch_size=3, seed=0))
    np.testing.assert_array_equal(np.concatenate([b[0] for b in shuffled]), X[np.concatenate([b[1] for b in shuffled])])
    with pytest.raises(ValueError, match=r"\[10, 5\] rows"):
        ng.data.DataLoader((X, y[:5]))
    with pytest.raises(TypeError, match="leave y out"):
        ng.data.DataLoader((X, y), y)
