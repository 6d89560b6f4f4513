"""Mini-batches (lectures 000, 003, 004).

Batch regimes, as index generators over ``n`` examples:

* ``"shuffle"``  — a sequential split into mini-batches, reshuffled after every epoch (003);
* ``"random"``   — each step draws a random subset of ``m`` indices (Algorithm 3, 000);
* ``"sequential"`` — the same order every epoch;
* ``"balanced"`` — every batch holds (about) as many examples of each class (000);
* ``"hard"``     — examples drawn with probability proportional to their current loss, so
  those with larger error are seen more often (000).

``batch_size=None`` is full-batch GD; ``batch_size=1`` with ``"shuffle"`` is SGD in a random
order (Algorithm 2).  Only the current batch is materialised, so memory is O(BD) even for a
memory-mapped ``X`` on disk (004).
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np

from .. import backend
from ..backend.checks import as_array, is_int

SAMPLING = ("shuffle", "random", "sequential", "balanced", "hard")


def batch_indices(
    n: int,
    batch_size: int | None,
    sampling: str = "shuffle",
    rng: np.random.Generator | None = None,
    labels: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    drop_last: bool = False,
) -> Iterator[np.ndarray]:
    """Index arrays of one epoch's batches (``rng``: a Generator, a seed, or None for the library-wide one)."""
    rng = backend.resolve_rng(rng, "batch_indices")  # (a Generator passes as it is; "abc" would fail at .permutation)
    if not is_int(n) or n < 0:
        raise (ValueError if is_int(n) else TypeError)(
            f"batch_indices: n must be the number of examples, an integer >= 0, got {n!r}"
        )
    if not isinstance(sampling, str) or sampling not in SAMPLING:
        raise ValueError(f"batch_indices: sampling must be one of {SAMPLING}, got {sampling!r}")
    if batch_size is not None and (not is_int(batch_size) or batch_size <= 0):  # int(2.5) or int("abc") would not
        raise (ValueError if is_int(batch_size) else TypeError)(
            f"batch_indices: batch_size must be a positive integer or None (full batch), got {batch_size!r}"
        )
    if n == 0:
        return
    b = n if batch_size is None else int(batch_size)
    if drop_last and b > n:  # as DataLoader (and PyTorch's): the only batch is smaller than batch_size, so dropped
        return
    b = min(b, n)
    steps = n // b if drop_last else -(-n // b)
    if sampling == "random":
        for _ in range(steps):
            yield np.sort(rng.choice(n, size=b, replace=False))
        return
    if sampling == "hard":
        if weights is None:
            raise ValueError("sampling='hard' needs per-example losses (weights)")
        p = np.asarray(weights, dtype=np.float64)
        p = np.clip(p, 0, None) + 1e-12
        p /= p.sum()
        for _ in range(steps):
            yield np.sort(rng.choice(n, size=b, replace=True, p=p))
        return
    if sampling == "balanced":
        if labels is None:
            raise ValueError("sampling='balanced' needs class labels")
        yield from _balanced(np.asarray(labels), b, steps, rng)
        return
    order = rng.permutation(n) if sampling == "shuffle" else np.arange(n)
    for s in range(steps):
        idx = order[s * b : (s + 1) * b]
        yield np.sort(idx) if sampling == "shuffle" and b > 1 else idx


def class_keys(labels, who: str = "batch_indices") -> np.ndarray:
    """The class of each example for ``sampling='balanced'``: a column of class ids (integers, or floats that
    are whole numbers, as BCE's 0/1 targets), or the ``argmax`` of each row of one-hot, multi-hot or probability
    rows (every entry in ``[0, 1]``).  Continuous targets (a regression's) have no classes to balance: refused,
    naming the first such value and the fix."""
    labels = np.asarray(labels)
    labels = labels.reshape(len(labels), -1)
    if labels.dtype.kind in "biu" or labels.size == 0:
        return labels.argmax(1) if labels.shape[1] > 1 else labels[:, 0]
    if labels.dtype.kind != "f":
        raise TypeError(f"{who}: sampling='balanced' needs class labels (integers or one-hot rows), got y of dtype "
                        f"{labels.dtype}")  # fmt: skip
    if labels.shape[1] > 1:
        bad = ~((labels >= 0) & (labels <= 1))
        what = "rows of one-hot or probability values in [0, 1]"
    else:
        bad = labels != np.round(labels)
        what = "whole numbers (class ids)"
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ValueError(
            f"{who}: sampling='balanced' puts as many examples of each class into every batch, but y holds continuous "
            f"values ({float(labels[row, col]):g} at row {row}), not class labels, which are {what}; for regression "
            "targets use sampling='shuffle' (the default)"
        )
    return labels.argmax(1) if labels.shape[1] > 1 else labels[:, 0]


def _balanced(labels: np.ndarray, b: int, steps: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Batches of ``b`` examples with ``⌊b/k⌋`` of each of the ``k`` classes, and one more of ``b mod k``
    classes drawn at random (a class with fewer examples than it needs is drawn with replacement)."""
    keys = class_keys(labels)
    classes = np.unique(keys)
    pools = [np.flatnonzero(keys == c) for c in classes]
    per, extra = divmod(b, len(classes))
    for _ in range(steps):
        counts = np.full(len(classes), per)
        counts[rng.choice(len(classes), size=extra, replace=False)] += 1
        yield np.sort(np.concatenate([rng.choice(pool, size=c, replace=len(pool) < c) for pool, c in zip(pools, counts)]))


def _fields_of_arrays(X) -> tuple[np.ndarray, ...] | None:
    """A tuple of arrays ``(X, y, …)`` with one row per example (PyTorch's ``TensorDataset(X, y)``) as
    its fields, or ``None`` when ``X`` is not such a tuple."""
    if not isinstance(X, tuple) or not X or not all(hasattr(a, "__len__") and np.ndim(a) >= 1 for a in X):
        return None
    lengths = [len(a) for a in X]
    if len(set(lengths)) != 1:
        raise ValueError(
            f"DataLoader: the arrays of the tuple have {lengths} rows; give every array one row per example "
            "(the same number of rows)"
        )
    return tuple(np.asarray(a) if not hasattr(a, "shape") else a for a in X)


def _fields_of_examples(X) -> tuple[np.ndarray, ...] | None:
    """A list of examples ``[(x, y), …]`` (PyTorch's map-style data set) as one array per field, or
    ``None`` when ``X`` is not such a list."""
    if isinstance(X, tuple):
        return _fields_of_arrays(X)
    if not isinstance(X, list) or not X or not isinstance(X[0], tuple):
        return None  # (a list of lists is a nested array, as np.asarray reads it)
    width = len(X[0])
    for i, ex in enumerate(X):
        if not isinstance(ex, tuple) or len(ex) != width:
            raise ValueError(
                f"DataLoader: example 0 is a tuple of {width} fields but example {i} is a "
                f"{type(ex).__name__}{f' of {len(ex)}' if isinstance(ex, tuple) else ''}; give every example the same fields"
            )
    fields = []
    for k in range(width):
        try:
            fields.append(np.asarray([np.asarray(ex[k]) for ex in X]))
        except ValueError:
            shapes = sorted({np.shape(ex[k]) for ex in X})
            raise ValueError(
                f"DataLoader: field {k} of the examples has different shapes {shapes}; give field {k} one shape in every example"
            ) from None
    return tuple(fields)


def _is_dataset(X) -> bool:
    """A map-style data set (PyTorch's ``Dataset``): ``len(ds)`` and ``ds[i]`` one example, not an array."""
    return (hasattr(X, "__getitem__") and hasattr(X, "__len__") and not hasattr(X, "shape")
            and not isinstance(X, list | tuple | str | bytes | dict))  # fmt: skip


def _stack(examples: list, who: str):
    """PyTorch's default collation (``default_collate``), into NumPy arrays: examples that are dicts become a dict
    of their collated fields, tuples (named ones too) and lists a tuple of them, strings stay a list, numbers and
    arrays are stacked into one array."""
    first = examples[0]
    if isinstance(first, Mapping):
        odd = [ex for ex in examples if not isinstance(ex, Mapping) or ex.keys() != first.keys()]  # (None among them too)
        if odd:
            raise ValueError(f"{who}: the examples of a batch have different keys ({sorted(map(str, first))[:5]} and "
                             f"{sorted(map(str, odd[0]))[:5] if isinstance(odd[0], Mapping) else type(odd[0]).__name__}); give "
                             "every example the same keys")  # fmt: skip
        return {k: _stack([ex[k] for ex in examples], who) for k in first}
    if isinstance(first, tuple | list):
        if any(not isinstance(ex, tuple | list) or len(ex) != len(first) for ex in examples):
            sizes = sorted({len(ex) if isinstance(ex, tuple | list) else type(ex).__name__ for ex in examples}, key=str)
            raise ValueError(f"{who}: the examples of a batch have different numbers of fields {sizes}; give every "
                             "example the same fields")  # fmt: skip
        fields = [_stack([ex[k] for ex in examples], who) for k in range(len(first))]
        # a named tuple keeps its type; a list gives a tuple too (PyTorch: a list), as fit reads (x, y) batches
        return type(first)(*fields) if hasattr(first, "_fields") else tuple(fields)
    if isinstance(first, str | bytes):
        return list(examples)
    try:
        batch = np.stack([np.asarray(ex) for ex in examples])
    except ValueError:
        shapes = sorted({np.shape(ex) for ex in examples}, key=str)
        raise ValueError(f"{who}: the examples of a batch have different shapes {shapes}; give examples of one "
                         "shape, or a collate_fn that puts them together") from None  # fmt: skip
    if batch.dtype.kind not in "biufc":  # (None, objects: NumPy would make an object array, not numbers)
        kinds = sorted({type(ex).__name__ for ex in examples})
        raise TypeError(f"{who}: cannot batch examples of type {', '.join(kinds)}; an example holds numbers, arrays, "
                        "strings, or tuples, lists and dicts of them; give a collate_fn for other values")  # fmt: skip
    return batch


class DataLoader:
    """Iterate ``(X_batch, y_batch)`` NumPy arrays: ``DataLoader(X, y, batch_size, shuffle, drop_last, seed)``.

    ``X`` may also be a list of example tuples ``[(x, y), …]`` (PyTorch's data set of tuples, no ``y``),
    a tuple of arrays ``(X, y, …)`` with one row per example (PyTorch's ``TensorDataset``) — each
    batch is then a tuple with one array per field — or a map-style data set, any object with
    ``len(ds)`` and ``ds[i]`` (PyTorch's ``Dataset``), read one example at a time and collated as
    PyTorch's default (tuples and dicts field by field).  Nested lists are read as arrays.  As PyTorch,
    ``drop_last`` drops a batch smaller than ``batch_size`` even when it is the only one.

    PyTorch's ``collate_fn`` (called with the batch's list of examples), ``generator`` (a NumPy
    ``Generator`` or a seed, as ``seed``), ``num_workers`` and ``pin_memory`` are taken too: loading
    is done in this process (a NumPy batch is an index into memory), so the last two change nothing."""

    def __init__(self, X=None, y=None, batch_size: int | None = 32, shuffle: bool = True, drop_last: bool = False,
                 seed=None, sampling: str | None = None, *, dataset=None, collate_fn=None, generator=None,
                 num_workers: int = 0, pin_memory: bool = False):  # fmt: skip
        if dataset is not None:
            if X is not None:
                raise TypeError("DataLoader: give the data once, as X or as dataset=")
            X = dataset
        if X is None:
            raise TypeError("DataLoader: X is required: an array with one row per example, or a list of example tuples")
        if generator is not None:
            if seed is not None:
                raise TypeError("DataLoader: give the random source once, as seed= or generator=")
            seed = generator
        if not (is_int(num_workers) and num_workers >= 0):
            raise ValueError(f"DataLoader: num_workers must be an integer >= 0, got {num_workers!r}")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"DataLoader: collate_fn must be a function of the batch's list of examples, got {collate_fn!r}")
        self.dataset = X if _is_dataset(X) else None
        if self.dataset is not None and y is not None:
            raise TypeError("DataLoader: X is a data set (ds[i] is one example), which already holds the targets; leave y out")
        X = as_array(X, "DataLoader", "X") if isinstance(X, list) and X and not isinstance(X[0], tuple | dict) else X
        y = as_array(y, "DataLoader", "y") if isinstance(y, list) else y
        fields = None if self.dataset is not None else _fields_of_examples(X)
        if fields is not None and y is not None:
            raise TypeError("DataLoader: X is a list of example tuples (or a tuple of arrays), which already hold the "
                            "targets; leave y out")
        for name, a in (("X", None if fields is not None or self.dataset is not None else X), ("y", y)):
            if isinstance(a, list | tuple) and a and isinstance(a[0], dict):
                raise TypeError(
                    f"DataLoader: {name} is a list of dicts; give arrays (X, y) or a list of example tuples [(x, y), ...]"
                )
            if a is not None and (not hasattr(a, "__len__") or isinstance(a, str) or np.ndim(a) == 0):
                raise TypeError(f"DataLoader: {name} must be an array with one row per example, got {type(a).__name__}")
        if y is not None and len(X) != len(y):
            raise ValueError(f"DataLoader: X has {len(X)} rows but y has {len(y)}")
        if batch_size is not None and not (is_int(batch_size) and batch_size > 0):
            raise ValueError(f"DataLoader: batch_size must be a positive integer or None (one full batch), got {batch_size!r}")
        if sampling is not None and (not isinstance(sampling, str) or sampling not in SAMPLING):
            raise ValueError(f"DataLoader: sampling must be one of {SAMPLING}, got {sampling!r}")
        if self.dataset is not None and sampling in ("balanced", "hard"):
            raise ValueError(f"DataLoader: sampling={sampling!r} needs every label at once; give arrays (X, y), not a "
                             "data set read one example at a time")  # fmt: skip
        if sampling == "balanced" and (y is not None or fields is not None):
            class_keys(y if y is not None else fields[-1], "DataLoader")
        for name, flag in (("shuffle", shuffle), ("drop_last", drop_last), ("pin_memory", pin_memory)):
            if not isinstance(flag, bool | np.bool_):
                raise TypeError(f"DataLoader: {name} must be True or False, got {flag!r}")
        self.X, self.y, self.fields, self.collate_fn = X, y, fields, collate_fn
        self.batch_size, self.drop_last, self.num_workers, self.pin_memory = batch_size, drop_last, num_workers, pin_memory
        self.sampling = sampling or ("shuffle" if shuffle else "sequential")
        # no seed: each pass draws its own from the library-wide generator (as PyTorch's RandomSampler draws
        # from torch's), so ng.manual_seed(s) before a pass fixes its order, whenever the loader was made
        self.rng = None if seed is None else backend.resolve_rng(seed, "DataLoader")

    @property
    def n_examples(self) -> int:
        return len(self.fields[0]) if self.fields is not None else len(self.X)

    def __len__(self) -> int:
        n = self.n_examples
        b = n if self.batch_size is None else self.batch_size
        if n == 0 or (self.drop_last and b > n):
            return 0
        return n // b if self.drop_last else -(-n // b)

    def __iter__(self):
        if len(self) == 0:  # as PyTorch: no examples, or drop_last with fewer than batch_size of them
            return
        labels = self.y if self.sampling == "balanced" else None
        if self.fields is not None and self.sampling == "balanced":
            labels = self.fields[-1]
        rng = self.rng if self.rng is not None else np.random.default_rng(backend.default_rng().integers(2**63))
        order = batch_indices(self.n_examples, self.batch_size, self.sampling, rng, labels=labels, drop_last=self.drop_last)
        for idx in order:
            if self.dataset is not None or self.collate_fn is not None:
                yield self.collate(idx)
            elif self.fields is not None:
                yield tuple(f[idx] for f in self.fields)
            else:
                xb = np.asarray(self.X[idx])
                yield (xb, np.asarray(self.y[idx])) if self.y is not None else xb

    def collate(self, idx: np.ndarray):
        """The batch of the examples at ``idx``, read one at a time: ``collate_fn(examples)`` or PyTorch's default."""
        if self.dataset is not None:
            examples = [self.dataset[int(i)] for i in idx]
        elif self.fields is not None:
            examples = [tuple(f[i] for f in self.fields) for i in idx]
        else:
            examples = [(self.X[i], self.y[i]) if self.y is not None else self.X[i] for i in idx]
        return self.collate_fn(examples) if self.collate_fn is not None else _stack(examples, "DataLoader")


class ChunkedReader:
    """Rows spread over several ``.npy`` files (chunks on disk) seen as one array.

    ``reader[idx]`` reads only the requested rows, each chunk through a memory map, so
    ``fit(model, loss, opt, ChunkedReader(x_files), ChunkedReader(y_files))`` trains on data far
    larger than memory (lecture 004: SGD needs O(BD) memory).  Indexing follows NumPy's on the first
    axis — an integer (one row), a slice, an integer array of any shape (negative counts from the end),
    a boolean mask of length ``len(reader)`` — and a tuple applies its rest to the rows read.  The
    dtype is the one the chunks' dtypes promote to (as ``np.concatenate`` would give).
    """

    def __init__(self, paths):
        paths = [paths] if isinstance(paths, str | os.PathLike) else paths  # one file, not its characters
        self.paths = [str(p) for p in paths]
        if not self.paths:
            raise ValueError("ChunkedReader: give at least one .npy file")
        self.chunks = [open_npy(p) for p in self.paths]
        tails = {c.shape[1:] for c in self.chunks}
        if len(tails) != 1:
            raise ValueError(f"ChunkedReader: chunks disagree on the row shape: {sorted(tails)}")
        self.offsets = np.cumsum([0] + [len(c) for c in self.chunks])
        self.dtype = np.result_type(*(c.dtype for c in self.chunks))
        self.shape = (int(self.offsets[-1]), *self.chunks[0].shape[1:])

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return f"ChunkedReader({len(self.paths)} files, shape={self.shape}, dtype={self.dtype})"

    def __getitem__(self, idx) -> np.ndarray:
        if isinstance(idx, tuple):  # reader[rows, columns…]: NumPy's meaning, reading only the rows it names
            return self._tuple(idx)
        if idx is None or idx is Ellipsis:
            return self._tuple((idx,))
        if is_int(idx):
            return self._rows(self._positions(np.asarray([idx])))[0]
        if isinstance(idx, slice):
            return self._rows(np.arange(*idx.indices(len(self))))
        return self._rows(self._positions(np.asarray(idx)))

    def _tuple(self, idx: tuple) -> np.ndarray:
        """``reader[idx]`` for a tuple index, as NumPy indexes the whole array: the first axis's entry picks the
        rows (each distinct row read once), the rest of ``idx`` then indexes them — an integer array there is
        broadcast against the others as NumPy's advanced indexing does; ``...`` stands for the axes not named."""
        if any(part is None for part in idx):
            raise IndexError("ChunkedReader: None (a new axis) is not taken in a reader's index; read the rows first, "
                             "then add the axis: reader[rows][None] or np.expand_dims(reader[rows], 0)")  # fmt: skip
        if any(part is Ellipsis for part in idx):
            if sum(part is Ellipsis for part in idx) > 1:
                raise IndexError("ChunkedReader: an index can only have a single ellipsis ('...')")
            at = next(i for i, part in enumerate(idx) if part is Ellipsis)
            named = sum(np.ndim(p) if np.asarray(p).dtype == bool else 1 for p in idx if p is not Ellipsis)  # (a mask: its ndim)
            idx = idx[:at] + (slice(None),) * max(len(self.shape) - named, 0) + idx[at + 1 :]
        if not idx:
            return self[slice(None)]
        first, rest = idx[0], idx[1:]
        if isinstance(first, slice):
            return self[first][(slice(None), *rest)]
        pos = self._positions(np.asarray(first))
        if pos.ndim == 0:  # an integer is an advanced index to NumPy: kept as one, in a one-row block, so an
            return self._rows(pos.reshape(1))[(0, *rest)]  # integer array after a slice goes where NumPy puts it
        rows, where = np.unique(pos, return_inverse=True)  # each row read once, then put where the index asks
        return self._rows(rows)[(where.reshape(pos.shape), *rest)]

    def _positions(self, idx: np.ndarray) -> np.ndarray:
        """Row numbers in ``0 … n − 1`` (the index's shape kept) from an integer or boolean index."""
        n = len(self)
        if idx.dtype.kind == "b":
            if idx.shape != (n,):
                raise IndexError(f"ChunkedReader: a boolean index must have shape ({n},), one entry per row, got {idx.shape}")
            return np.flatnonzero(idx)
        if idx.size == 0:
            return idx.astype(np.intp)
        if idx.dtype.kind not in "iu":
            raise IndexError(f"ChunkedReader: rows are chosen by integers, slices or a boolean mask, got dtype {idx.dtype}")
        lo, hi = int(idx.min()), int(idx.max())
        if lo < -n or hi >= n:
            raise IndexError(f"ChunkedReader: index {lo if lo < -n else hi} is out of bounds for {n} rows")
        return np.where(idx < 0, idx + n, idx)

    def _rows(self, pos: np.ndarray) -> np.ndarray:
        """The rows at ``pos`` (in ``0 … n − 1``), read chunk by chunk into an array of ``pos``'s shape + a row's."""
        flat = pos.reshape(-1)
        out = np.empty((len(flat), *self.shape[1:]), dtype=self.dtype)
        which = np.searchsorted(self.offsets, flat, side="right") - 1
        for k in np.unique(which):
            sel = which == k
            out[sel] = self.chunks[k][flat[sel] - self.offsets[k]]
        return out.reshape(*pos.shape, *self.shape[1:])

    def __array__(self, dtype=None, copy=None):
        arr = self[np.arange(len(self))]
        return arr if dtype is None else arr.astype(dtype)


def as_path(path, who: str) -> Path:
    """``path`` as a ``Path``, refused naming ``who`` unless it is a ``str`` or ``os.PathLike`` (``Path(None)``'s
    "expected str, bytes or os.PathLike object" names neither the function nor the argument)."""
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"{who}: expected a file path (a str or pathlib.Path), got {type(path).__name__} {path!r}")
    return Path(path)


def open_npy(path, who: str = "ChunkedReader") -> np.ndarray:
    """A ``.npy`` file memory-mapped (read only), or an error naming ``who``, the file and what is wrong: an empty or
    truncated file (NumPy's ``EOFError``), a zip that is not one (``BadZipFile``), a pickle, an ``.npz``, a 0-d
    array.  (The chunks of :class:`ChunkedReader`, and the ``X``/``y`` paths ``fit``/``evaluate``/``predict`` take.)"""
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"{who}: expected a path to a .npy file, got {type(path).__name__}")
    try:
        a = np.load(path, mmap_mode="r", allow_pickle=False)
    except FileNotFoundError:
        raise FileNotFoundError(f"{who}: no such file {path}") from None
    except IsADirectoryError:
        raise IsADirectoryError(f"{who}: {path} is a folder; give the .npy files inside it") from None
    except PermissionError:
        raise PermissionError(f"{who}: cannot read {path}: permission denied") from None
    except (ValueError, EOFError, OSError, zipfile.BadZipFile) as exc:  # not a .npy file, or a truncated one
        raise ValueError(f"{who}: {path} is not a .npy file of numbers ({str(exc)[:80] or type(exc).__name__}); "
                         "write it with np.save(path, array) of a numeric array") from None  # fmt: skip
    if not isinstance(a, np.ndarray) or a.ndim == 0:
        if hasattr(a, "close"):  # an .npz holds its file open
            a.close()
        raise ValueError(f"{who}: {path} holds {'a 0-d array' if isinstance(a, np.ndarray) else 'an .npz'}, "
                         "not rows; each file must hold an array with one row per example")  # fmt: skip
    return a
