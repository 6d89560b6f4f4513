"""ng.data.save_shards / load_shards: a folder of .npy shards read back lazily, row for row."""

import numpy as np
import pytest

import nablagrad as ng


def test_shards_round_trip_and_read_only_the_requested_rows(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((53, 4)).astype(np.float32)
    y = rng.integers(0, 3, 53)
    ng.data.save_shards(tmp_path / "d", X, y, rows_per_shard=10)
    assert sorted(p.name for p in (tmp_path / "d").iterdir())[:2] == ["shards.json", "x-00000.npy"]
    Xs, ys = ng.data.load_shards(tmp_path / "d")
    assert Xs.shape == (53, 4) and len(ys) == 53
    assert all(isinstance(c, np.memmap) for c in Xs.chunks)
    idx = np.array([52, 0, 9, 10, 31])
    np.testing.assert_array_equal(Xs[idx], X[idx])
    np.testing.assert_array_equal(ys[idx], y[idx])
    np.testing.assert_array_equal(np.asarray(Xs), X)


def test_training_from_shards_equals_training_from_the_array(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 3)).astype(np.float32)
    y = X[:, :1] - X[:, 1:2]
    ng.data.save_shards(tmp_path, X, y, rows_per_shard=7)
    weights = []
    for data in ((X, y), ng.data.load_shards(tmp_path)):
        m = ng.nn.MLP([3, 4, 1], seed=0)
        ng.train.fit(m, "mse", ng.optim.SGD(m.parameters(), lr=0.05), *data, epochs=2, batch_size=8, seed=0)
        weights.append(m.state_dict())
    for k in weights[0]:
        np.testing.assert_array_equal(weights[0][k], weights[1][k])


def test_shard_errors_name_the_problem(tmp_path):
    X = np.zeros((5, 2))
    with pytest.raises(ValueError, match="rows_per_shard must be a positive integer, got 0"):
        ng.data.save_shards(tmp_path / "a", X, rows_per_shard=0)
    with pytest.raises(ValueError, match="X has 5 rows but y has 4"):
        ng.data.save_shards(tmp_path / "a", X, np.zeros(4))
    ng.data.save_shards(tmp_path / "b", X)
    with pytest.raises(FileExistsError, match="already holds shards"):
        ng.data.save_shards(tmp_path / "b", X)
    assert ng.data.load_shards(tmp_path / "b")[1] is None
    with pytest.raises(FileNotFoundError, match="has no shards.json"):
        ng.data.load_shards(tmp_path / "missing")
