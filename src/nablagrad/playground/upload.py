"""A learner's own data: a CSV of two numeric features and a label (or target) column.

:func:`parse_csv` checks the file and says what is wrong in one message (size, text, columns,
non-numbers, NaN, too few or too many rows, one class only, too many classes), then scales the
features into the playground's view: each column is mapped linearly onto [−5, 5].
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass

import numpy as np

from .config import MAX_CLASSES, MAX_POINTS, parse_number, shown_name

MAX_BYTES = 256 * 1024
MIN_ROWS = 10
MAX_LABEL = 64  # characters of a class name: names travel with every snapshot
VIEW = 5.0  # features are scaled onto [−VIEW, VIEW]


class UploadError(ValueError):
    """The uploaded file cannot be used; the message says why and what to do."""


@dataclass
class Upload:
    X: np.ndarray  # (n, 2) scaled features
    y: np.ndarray  # int64 classes 0 … k−1, or float targets divided by their largest |value|
    problem: str
    class_names: list[str]
    note: str  # how the data were scaled, for the page

    @property
    def classes(self) -> int:
        return len(self.class_names) if self.problem == "classification" else 1

    def summary(self) -> dict:
        return {"points": len(self.X), "problem": self.problem, "classes": self.classes,
                "class_names": self.class_names, "note": self.note}  # fmt: skip


def _isnan(value: float | None) -> bool:
    return value is not None and math.isnan(value)


def _scaled(col: np.ndarray) -> tuple[np.ndarray, str]:
    """``(col − lo) / (hi − lo) · 2·VIEW − VIEW``: the column mapped linearly onto [−VIEW, VIEW]."""
    lo, hi = float(col.min()), float(col.max())
    if hi == lo:
        return np.zeros_like(col), f"[{lo:g}] → 0"
    if math.isfinite(hi - lo):
        unit = (col - lo) / (hi - lo)
    else:  # a range wider than 1.8e308 (e.g. ±1e308) overflows: halve both sides first, the ratio is the same
        unit = (col / 2 - lo / 2) / (hi / 2 - lo / 2)
    return unit * 2 * VIEW - VIEW, f"[{lo:.4g}, {hi:.4g}] → [−{VIEW:g}, {VIEW:g}]"


def _class_key(cell: str) -> tuple[int, float, str]:
    """Numbers first, by value (so ``1``, ``1.0`` and ``1e0`` are one class, as scikit-learn's
    ``LabelEncoder`` on floats), then words in text order."""
    value = parse_number(cell)
    return (0, value, "") if value is not None else (1, 0.0, cell)


def _classes(labels: list[str]) -> tuple[list[str], np.ndarray]:
    """``(names, codes)``: one name per class (its first spelling in the file), sorted by
    :func:`_class_key`, and each row's class index 0 … k−1."""
    first: dict[tuple, str] = {}
    keys = [_class_key(c) for c in labels]
    for key, cell in zip(keys, labels):
        first.setdefault(key, cell)
    order = sorted(first)
    index = {key: k for k, key in enumerate(order)}
    return [first[key] for key in order], np.array([index[key] for key in keys], dtype=np.int64)


def _cells(i: int, line: str, sep: str) -> list[str]:
    """Line ``i``'s cells, stripped; quoted as CSV does (``"cat, big"`` is one cell, ``""`` a quote)."""
    try:
        return [c.strip() for c in next(csv.reader([line], delimiter=sep, skipinitialspace=True))]
    except csv.Error as exc:  # e.g. a cell beyond csv's field size limit
        raise UploadError(f"line {i} cannot be read as CSV ({exc})") from None


SEPARATORS = (",", ";", "\t")


def _separator(i: int, line: str) -> str:
    """The separator that splits the first line into 3 cells (quotes respected; ``0,5;1;a`` is
    ``;``-separated, as Excel writes it with a decimal comma), else the first one the line holds."""
    sep = next((s for s in (";", "\t", ",") if len(_cells(i, line, s)) == 3), None)  # "0,5;1;a": ";" first
    return sep or next((s for s in SEPARATORS if s in line), ",")


def parse_csv(raw: bytes, problem: str = "auto") -> Upload:
    """An :class:`Upload` from a CSV file's bytes (header optional; ``,`` ``;`` or tab separated;
    cells may be quoted as spreadsheets and R's ``write.csv`` write them: ``"cat, big"``).

    ``problem`` ``"auto"`` reads whole-number or word labels as classes and other numbers as a
    regression target; ``"classification"`` or ``"regression"`` insist.
    """
    if problem not in ("auto", "classification", "regression"):
        raise UploadError(f"problem must be auto, classification or regression, got {problem!r}")
    if len(raw) > MAX_BYTES:
        raise UploadError(f"the file has {len(raw)} bytes; at most {MAX_BYTES} are accepted (about {MAX_POINTS} rows)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UploadError("the file is not text (UTF-8); save it as CSV") from None
    if "\x00" in text:  # UTF-16 read as UTF-8, or a binary file
        raise UploadError("the file is not text (it holds NUL bytes; UTF-16?); save it as CSV in UTF-8")
    lines = [(i + 1, line.strip()) for i, line in enumerate(text.splitlines()) if line.strip()]
    if not lines:
        raise UploadError("the file is empty; it needs rows of x1, x2, label")
    sep = _separator(*lines[0])
    rows = [(i, _cells(i, line, sep)) for i, line in lines]
    for i, cells in rows:
        if len(cells) != 3:
            raise UploadError(f"line {i} has {len(cells)} columns; each row needs 3: x1, x2 and a label (or target)")
    if parse_number(rows[0][1][0]) is None and parse_number(rows[0][1][1]) is None:
        rows = rows[1:]  # a header
    if len(rows) < MIN_ROWS:
        raise UploadError(f"only {len(rows)} data rows; at least {MIN_ROWS} are needed")
    if len(rows) > MAX_POINTS:
        raise UploadError(f"{len(rows)} data rows; at most {MAX_POINTS} are accepted — sample your data down")
    X = np.empty((len(rows), 2))
    for r, (i, cells) in enumerate(rows):
        for j in range(2):
            x = parse_number(cells[j])
            if x is None:
                comma = " (write decimals with '.', not ',')" if parse_number(cells[j].replace(",", ".")) is not None else ""
                raise UploadError(f"line {i}, column {j + 1}: {cells[j]!r} is not a number{comma}")
            if not math.isfinite(x):
                raise UploadError(f"line {i}, column {j + 1} is {shown_name(cells[j])} (not finite); remove or fill that row")
            X[r, j] = x
    labels = [cells[2] for _, cells in rows]
    empty = next((i for i, cells in rows if cells[2].lower() in ("", "na") or _isnan(parse_number(cells[2]))), None)
    if empty is not None:
        raise UploadError(f"line {empty}, column 3 (the label) is empty or NaN; every row needs a label")
    values = [parse_number(c) for c in labels]
    numeric = all(v is not None for v in values)
    if problem == "auto":
        whole = numeric and all(math.isfinite(v) and v == int(v) for v in values)
        problem = "classification" if whole or not numeric else "regression"
    X, notes = np.stack([_scaled(X[:, 0])[0], _scaled(X[:, 1])[0]], axis=1), [_scaled(X[:, j])[1] for j in range(2)]
    note = f"x1 {notes[0]}, x2 {notes[1]}"
    if problem == "regression":
        bad = next((i for (i, cells), v in zip(rows, values) if v is None or not math.isfinite(v)), None)
        if bad is not None:
            raise UploadError(f"line {bad}, column 3: a regression target must be a finite number")
        y = np.array(values)
        top = float(np.abs(y).max()) or 1.0
        return Upload(X, y / top, problem, [], f"{note}; target divided by {top:.4g}")
    long = next(((i, cells[2]) for i, cells in rows if len(cells[2]) > MAX_LABEL), None)
    if long is not None:
        raise UploadError(f"line {long[0]}, column 3: a label of {len(long[1])} characters; at most {MAX_LABEL}")
    names, code = _classes(labels)
    if len(names) < 2:
        raise UploadError(f"every label is {names[0]!r}: only one class; a classifier needs at least two")
    if len(names) > MAX_CLASSES:
        raise UploadError(f"{len(names)} classes ({', '.join(names[:8])}{', …' if len(names) > 8 else ''}); at most "
                          f"{MAX_CLASSES} — for a numeric target choose problem type regression")  # fmt: skip
    return Upload(X, code, problem, names, note)
