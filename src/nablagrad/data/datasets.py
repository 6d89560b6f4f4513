"""Data sets that ship with the package or that the user points to — never a download.

* ``load_mnist``: the real MNIST (60 000 + 10 000), bundled as a compressed ``.npz``
  (LeCun, Cortes and Burges, CC BY-SA 3.0; see ``_data/MNIST_LICENSE.txt``).
* ``load_fashion_mnist``: from Debian's ``dataset-fashion-mnist`` or IDX files you give.
* ``load_idx``, ``load_npz``, ``load_csv``: your own files, with clear errors when malformed.
"""

from __future__ import annotations

import gzip
import math
import numbers
import os
import warnings
import zipfile
from importlib import resources
from pathlib import Path

import numpy as np

from .loader import as_path


class DataFormatError(ValueError):
    """A data file is missing, truncated or not in the expected format."""


def _flat(x: np.ndarray, flatten: bool) -> np.ndarray:
    return x.reshape(len(x), -1) if flatten else x


def load_mnist(flatten: bool = False):
    """``(X_train, y_train, X_test, y_test)``: uint8 images (N, 28, 28) or (N, 784), uint8 labels."""
    ref = resources.files("nablagrad.data") / "_data" / "mnist.npz"
    with resources.as_file(ref) as path, np.load(path) as z:
        return _flat(z["x_train"], flatten), z["y_train"], _flat(z["x_test"], flatten), z["y_test"]


_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def load_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (the MNIST format), plain or ``.gz``."""
    path = as_path(path, "load_idx")
    if not path.exists():
        raise DataFormatError(f"load_idx: no such file {path}")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError) as exc:
        raise DataFormatError(f"load_idx: cannot read {path}: {exc}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise DataFormatError(f"load_idx: {path} is not an IDX file (bad magic number)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataFormatError(f"load_idx: {path} is truncated inside its header")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    expected = math.prod(int(n) for n in shape) * dtype.itemsize  # Python ints: a hostile header cannot wrap to 0
    if len(raw) - header != expected:
        raise DataFormatError(
            f"load_idx: {path} declares shape {shape} ({expected} bytes) but holds {len(raw) - header} bytes of data"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


FASHION_DIRS = ["/usr/share/dataset-fashion-mnist", "/usr/share/fashion-mnist", "/usr/share/datasets/fashion-mnist"]


def load_fashion_mnist(directory: str | os.PathLike | None = None, flatten: bool = False):
    """Fashion-MNIST from IDX files (``train-images-idx3-ubyte[.gz]`` …) in ``directory``,
    by default where Debian's ``dataset-fashion-mnist`` installs them."""
    candidates = [Path(directory)] if directory else [Path(d) for d in FASHION_DIRS]
    names = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
    for d in candidates:
        found = []
        for n in names:
            hits = [p for p in (d / n, d / (n + ".gz")) if p.exists()]
            if not hits:
                break
            found.append(hits[0])
        if len(found) == 4:
            xtr, ytr, xte, yte = (load_idx(p) for p in found)
            return _flat(xtr, flatten), ytr, _flat(xte, flatten), yte
    raise DataFormatError(
        "load_fashion_mnist: IDX files not found in "
        + ", ".join(str(c) for c in candidates)
        + "; install Debian's dataset-fashion-mnist or pass directory= with the four IDX files"
    )


def load_npz(path: str | os.PathLike, x_key: str = "X", y_key: str | None = "y"):
    """``(X, y)`` (or ``X``) from an ``.npz`` archive; never unpickles objects."""
    path = as_path(path, "load_npz")
    try:
        with np.load(path, allow_pickle=False) as z:
            for name, key in (("x_key", x_key), ("y_key", y_key)):
                if not isinstance(key, str) and (key is not None or name == "x_key"):
                    raise TypeError(f"load_npz: {name} must be the name of an array in the archive ({z.files}), got "
                                    f"{key!r}")  # fmt: skip
            missing = [k for k in (x_key, y_key) if k is not None and k not in z.files]
            if missing:
                raise DataFormatError(f"load_npz: {path} has arrays {z.files}, not {missing}")
            X = z[x_key]
            if y_key is None:
                return X
            y = z[y_key]
            if X.ndim == 0 or y.ndim == 0 or len(X) != len(y):
                raise DataFormatError(
                    f"load_npz: {path}: {x_key!r} has shape {X.shape} but {y_key!r} has shape {y.shape}; "
                    "they need one row per example each (the same first dimension)"
                )
            return X, y
    except FileNotFoundError:
        raise DataFormatError(f"load_npz: no such file {path}") from None
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        if isinstance(exc, DataFormatError):
            raise
        raise DataFormatError(f"load_npz: {path} is not a valid .npz archive ({exc})") from None


def load_csv(path: str | os.PathLike, label_column: int | None = 0, skip_header: bool | None = None, delimiter: str = ",",
             allow_nonfinite: bool = False):  # fmt: skip
    """``(X, y)`` from a numeric CSV; ``label_column=None`` returns ``X`` only.  A cell that reads as NaN or
    ±inf (``nan``, ``inf``) is refused, naming its line and column, as the playground's upload refuses it;
    ``allow_nonfinite=True`` keeps such cells (to impute or drop them yourself)."""
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in "\r\n\"":
        raise ValueError(
            f"load_csv: delimiter must be one character other than a newline or quote, e.g. ',' or ';', got {delimiter!r}"
        )
    if not isinstance(allow_nonfinite, bool):
        raise TypeError(f"load_csv: allow_nonfinite must be True or False, got {allow_nonfinite!r}")
    if isinstance(label_column, bool):  # True would select no column but a boolean mask
        raise TypeError(f"load_csv: label_column must be a column index (an int) or None, got {label_column!r}")
    path = as_path(path, "load_csv")
    if not path.is_file():
        raise DataFormatError(f"load_csv: no such file {path}")
    try:
        with open(path, encoding="utf-8") as fh:
            first = fh.readline()
    except UnicodeDecodeError:
        raise DataFormatError(f"load_csv: {path} is not a text file (a CSV of numbers was expected)") from None
    if skip_header is None:
        try:
            [float(v) for v in first.strip().split(delimiter) if v]
            skip_header = False
        except ValueError:
            skip_header = True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data": reported below
            table = np.loadtxt(path, delimiter=delimiter, skiprows=int(skip_header), ndmin=2, encoding="utf-8")
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataFormatError(f"load_csv: {path} is not a rectangular numeric table: {exc}") from None
    if table.size == 0:
        raise DataFormatError(f"load_csv: {path} holds no rows of numbers")
    if not allow_nonfinite and not np.isfinite(table).all():
        row, col = (int(i) for i in np.argwhere(~np.isfinite(table))[0])
        names = first.strip().split(delimiter) if skip_header else []
        named = f" ({names[col].strip()!r})" if col < len(names) else ""
        raise DataFormatError(
            f"load_csv: {path}, line {_line_of_row(path, row, int(skip_header))}, column {col}{named}: the cell is "
            f"{table[row, col]} (not a finite number); fill or remove it, or pass allow_nonfinite=True to keep it"
        )
    if label_column is None:
        return table
    n_cols = table.shape[1]
    if not isinstance(label_column, numbers.Integral) or not -n_cols <= label_column < n_cols:
        raise DataFormatError(
            f"load_csv: label_column={label_column!r} but {path} has {n_cols} columns; give an index in 0..{n_cols - 1} "
            "(or -1 for the last), or label_column=None for no labels"
        )
    if n_cols == 1:
        raise DataFormatError(
            f"load_csv: {path} has a single column, which label_column={label_column} takes as the labels, leaving no "
            "feature columns; add the feature columns to the file, or pass label_column=None to read the column as X"
        )
    y = table[:, label_column]
    X = np.delete(table, label_column, axis=1)
    if np.all(y == np.round(y)):
        y = y.astype(np.int64)
    return X, y


def _line_of_row(path: Path, row: int, skipped: int) -> int:
    """The 1-based line of the file that holds data row ``row`` of ``np.loadtxt``'s table: the lines after the
    ``skipped`` header lines, less those that are blank or only a ``#`` comment (which loadtxt passes over)."""
    with open(path, encoding="utf-8") as fh:
        data_lines = (i for i, line in enumerate(fh, 1) if i > skipped and line.split("#", 1)[0].strip())
        return next(line for k, line in enumerate(data_lines) if k == row)
