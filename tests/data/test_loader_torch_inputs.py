"""DataLoader takes what PyTorch's takes: nested lists, a map-style data set (``len``, ``ds[i]``), a
``collate_fn``, ``generator``, ``num_workers`` and ``pin_memory``; balanced batches have ``batch_size``
examples."""

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.data import DataLoader

torch = pytest.importorskip("torch")


class Squares:
    """A map-style data set: example i is (x_i, i) with x_i = [i, i²]."""

    def __len__(self):
        return 5

    def __getitem__(self, i):
        return np.array([i, i * i], dtype=np.float64), i


def _as_numpy(batch):
    if isinstance(batch, tuple | list):
        return tuple(_as_numpy(b) for b in batch)
    return batch.numpy() if hasattr(batch, "numpy") else np.asarray(batch)


@pytest.mark.parametrize("kind", ["nested lists", "data set"])
def test_batches_equal_torch_s_in_order(kind):
    if kind == "nested lists":
        ours = DataLoader([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], [0, 1, 2], batch_size=2, shuffle=False)
        data = torch.utils.data.TensorDataset(torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=torch.float64),
                                              torch.tensor([0, 1, 2]))  # fmt: skip
        theirs = torch.utils.data.DataLoader(data, batch_size=2, shuffle=False)
    else:
        ours = DataLoader(Squares(), batch_size=2, shuffle=False)
        theirs = torch.utils.data.DataLoader(Squares(), batch_size=2, shuffle=False)
    got, want = [_as_numpy(b) for b in ours], [_as_numpy(b) for b in theirs]
    assert len(got) == len(want) == (2 if kind == "nested lists" else 3)
    for g, w in zip(got, want):
        for a, b in zip(g, w):
            np.testing.assert_array_equal(a, b)


def test_collate_fn_gets_the_list_of_examples_as_torch_s():
    ours = next(iter(DataLoader(Squares(), batch_size=3, shuffle=False, collate_fn=lambda ex: ex)))
    theirs = next(iter(torch.utils.data.DataLoader(Squares(), batch_size=3, shuffle=False, collate_fn=lambda ex: ex)))
    assert len(ours) == len(theirs) == 3
    for (x, i), (tx, ti) in zip(ours, theirs):
        np.testing.assert_array_equal(x, tx)
        assert i == ti


def test_generator_seeds_as_seed_and_workers_are_taken():
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    loader = DataLoader(X, y, batch_size=3, generator=np.random.default_rng(7), num_workers=2, pin_memory=True)
    a = [b[1].tolist() for b in loader]
    b = [b[1].tolist() for b in DataLoader(X, y, batch_size=3, seed=np.random.default_rng(7))]
    assert a == b and sorted(sum(a, [])) == list(range(10))
    with pytest.raises(ValueError, match="num_workers"):
        DataLoader(X, y, num_workers=-1)
    with pytest.raises(TypeError, match="collate_fn"):
        DataLoader(X, y, collate_fn=3)


@pytest.mark.parametrize("batch_size, n_classes", [(2, 3), (4, 3), (5, 2), (6, 3)])
def test_balanced_batches_hold_batch_size_examples_spread_over_the_classes(batch_size, n_classes):
    y = np.arange(30) % n_classes
    for _, yb in DataLoader(np.zeros((30, 1)), y, batch_size=batch_size, sampling="balanced", seed=0):
        assert len(yb) == batch_size
        counts = np.bincount(yb, minlength=n_classes)
        assert counts.max() - counts.min() <= 1  # as many of each class as batch_size allows


def test_fit_reads_a_data_set_loader():
    """fit(model, …, DataLoader(ds)) trains on the data set's examples as on the same arrays given directly."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((16, 2)).astype(np.float32), rng.standard_normal((16, 1)).astype(np.float32)

    class Pairs:
        def __len__(self):
            return 16

        def __getitem__(self, i):
            return X[i], y[i]

    runs = []
    for data in (DataLoader(Pairs(), batch_size=4, seed=0), DataLoader(X, y, batch_size=4, seed=0)):
        model = ng.nn.Linear(2, 1, seed=0)
        h = ng.train.fit(model, "mse", ng.optim.SGD(model.parameters(), lr=0.1), data, epochs=2, seed=0, jit=False)
        runs.append((h.history["loss"], model.weight.numpy().copy()))
    assert runs[0][0] == runs[1][0]
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
