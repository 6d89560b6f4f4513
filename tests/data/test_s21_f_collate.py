"""``DataLoader`` over a map-style data set collates as ``torch.utils.data.default_collate``: dict examples give
a dict of batched fields (they used to give an object array of dicts), nested dicts/tuples/lists field by field,
a named tuple keeps its type, strings stay strings; ``None`` or other objects are refused by type (they used
to give an object array) and examples of different fields or keys are refused naming them.  A seeded shuffle
is reproducible, differs from epoch to epoch and covers every example once, as torch's with a generator."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest

from nablagrad.data import DataLoader

torch = pytest.importorskip("torch")
Pair = namedtuple("Pair", "x y")


class Examples:
    """A map-style data set of ``n`` examples ``make(i)``."""

    def __init__(self, make, n: int = 5):
        self.make, self.n = make, n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return self.make(i)


def _plain(batch):
    """A batch with torch tensors as NumPy arrays and lists as tuples (torch gives a list for tuple examples)."""
    if isinstance(batch, dict):
        return {k: _plain(v) for k, v in batch.items()}
    if isinstance(batch, list | tuple) and batch and isinstance(batch[0], str):
        return tuple(batch)
    if isinstance(batch, list | tuple):
        return type(batch)(*map(_plain, batch)) if hasattr(batch, "_fields") else tuple(map(_plain, batch))
    return batch.numpy() if isinstance(batch, torch.Tensor) else batch


def _assert_same(got, want):
    assert type(got) is type(want) or isinstance(got, np.ndarray), (type(got), type(want))
    if isinstance(want, dict):
        assert list(got) == list(want)
        for k in want:
            _assert_same(got[k], want[k])
    elif isinstance(want, tuple):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            _assert_same(g, w)
    elif isinstance(want, str):
        assert got == want
    else:
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


MAKERS = {
    "dict": lambda i: {"x": np.array([i, i * i], np.float32), "y": i},
    "nested": lambda i: {"a": (i, [float(i), 2.0 * i]), "b": {"c": np.full((2, 2), i, np.int32)}},
    "named tuple": lambda i: Pair(np.ones(3) * i, i % 2 == 0),
    "strings": lambda i: (f"id{i}", float(i)),
}


@pytest.mark.parametrize("kind", MAKERS)
def test_batches_equal_torch_default_collate(kind):
    data = Examples(MAKERS[kind])
    ours = list(DataLoader(data, batch_size=2, shuffle=False))
    theirs = [_plain(b) for b in torch.utils.data.DataLoader(data, batch_size=2)]
    assert len(ours) == len(theirs) == 3
    for got, want in zip(ours, theirs, strict=True):
        _assert_same(_plain(got), want)
    if kind == "named tuple":
        assert type(ours[0]) is Pair


@pytest.mark.parametrize("make, error, match", [
    (lambda i: None, TypeError, "cannot batch examples of type NoneType"),
    (lambda i: (i, object()), TypeError, "cannot batch examples of type object"),
    (lambda i: (i, i) if i else (i, i, i), ValueError, r"different numbers of fields \[2, 3\]"),
    (lambda i: {"a": i} if i else {"b": i}, ValueError, r"different keys \(\['b'\] and \['a'\]\)"),
    (lambda i: None if i else {"a": i}, ValueError, r"different keys \(\['a'\] and NoneType\)"),
])  # fmt: skip
def test_examples_torch_cannot_batch_are_refused_by_type_or_field(make, error, match):
    with pytest.raises((TypeError, RuntimeError, KeyError)):  # torch refuses each of them too
        list(torch.utils.data.DataLoader(Examples(make), batch_size=3))
    with pytest.raises(error, match=match):
        list(DataLoader(Examples(make), batch_size=3, shuffle=False))


@pytest.mark.parametrize("batch_size, drop_last", [(3, False), (3, True), (5, False), (7, True)])
def test_a_seeded_shuffle_is_reproducible_and_new_each_epoch_as_torch(batch_size, drop_last):
    n = 17
    ours = DataLoader(Examples(lambda i: i, n), batch_size=batch_size, drop_last=drop_last, seed=5)
    again = DataLoader(Examples(lambda i: i, n), batch_size=batch_size, drop_last=drop_last, seed=5)
    theirs = torch.utils.data.DataLoader(Examples(lambda i: i, n), batch_size=batch_size, shuffle=True,
                                         drop_last=drop_last, generator=torch.Generator().manual_seed(5))  # fmt: skip
    epochs = [[b.tolist() for b in ours] for _ in range(3)]
    assert epochs == [[b.tolist() for b in again] for _ in range(3)]  # the same seed, the same epochs
    assert epochs[0] != epochs[1] != epochs[2]  # reshuffled every epoch
    for epoch in epochs:
        torch_epoch = [b.tolist() for b in theirs]
        assert len(epoch) == len(torch_epoch) == len(ours) == len(theirs)
        assert [len(b) for b in epoch] == [len(b) for b in torch_epoch]
        seen = sorted(sum(epoch, []))
        assert seen == sorted(set(seen)) and (len(seen) == n if not drop_last else n - len(seen) < batch_size)
