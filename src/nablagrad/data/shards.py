"""A data set as a folder of ``.npy`` shards: ``save_shards(folder, X, y)`` writes them,
``load_shards(folder)`` opens them as :class:`ChunkedReader` s — memory maps, so a batch (or a
rank's share of it, in data-parallel training) reads only its own rows: O(BD) memory for a
data set larger than one machine's memory (lecture 004).

Layout: ``x-00000.npy, x-00001.npy, …`` (and ``y-…`` for targets) plus ``shards.json`` naming
them, written last, so a folder with a manifest is complete.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ..backend.checks import is_int
from .loader import ChunkedReader, as_path

MANIFEST = "shards.json"


def _save_npy(path: Path, a: np.ndarray) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        np.save(fh, a)
    os.replace(tmp, path)


def _rows(a, name: str):
    """``a`` as rows to cut into shards: an array-like with a shape (a memory map, a :class:`ChunkedReader`) as it
    is, anything else through ``np.asarray`` — refused, naming it, unless it has at least one axis of rows."""
    if not (hasattr(a, "shape") and hasattr(a, "__getitem__")):
        try:
            a = np.asarray(a)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"save_shards: {name} cannot form an array ({exc}); give an array with one row per "
                             "example") from None  # fmt: skip
    if len(a.shape) == 0 or a.dtype.kind not in "biuf":
        raise TypeError(f"save_shards: {name} must be an array of numbers with one row per example, got "
                        f"{type(a).__name__} of shape {tuple(a.shape)} and dtype {a.dtype}")  # fmt: skip
    return a


def save_shards(folder: str | os.PathLike, X, y=None, rows_per_shard: int = 65_536) -> Path:
    """Write ``X`` (and ``y``) into ``folder`` as shards of ``rows_per_shard`` rows; returns the folder.

    ``X`` may itself be a memory map or a :class:`ChunkedReader`: it is read one shard at a time."""
    if not is_int(rows_per_shard) or rows_per_shard < 1:
        raise ValueError(f"save_shards: rows_per_shard must be a positive integer, got {rows_per_shard!r}")
    X = _rows(X, "X")
    y = None if y is None else _rows(y, "y")
    if y is not None and len(y) != len(X):
        raise ValueError(f"save_shards: X has {len(X)} rows but y has {len(y)}; they must match")
    folder = as_path(folder, "save_shards")
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"save_shards: {folder} is a file; give a folder (new or empty) for the shards")
    if (folder / MANIFEST).exists():
        raise FileExistsError(f"save_shards: {folder} already holds shards; choose an empty folder or delete it first")
    folder.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, list] = {"rows": [], "x": [], "y": []}
    for k, start in enumerate(range(0, len(X), rows_per_shard)):
        stop = min(len(X), start + rows_per_shard)
        manifest["rows"].append(stop - start)
        for name, a in (("x", X), ("y", y)):
            if a is not None:
                fname = f"{name}-{k:05d}.npy"
                _save_npy(folder / fname, np.asarray(a[start:stop]))
                manifest[name].append(fname)
    tmp = folder / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest))
    os.replace(tmp, folder / MANIFEST)
    return folder


def _check_manifest(manifest, where: Path) -> None:
    """The manifest's form, before any file is opened: ``x``/``y`` lists of file names inside the folder (no path
    separators: a hostile manifest cannot open files elsewhere) and ``rows`` a list of counts."""
    def names(v) -> bool:
        return isinstance(v, list) and all(isinstance(f, str) and f and "/" not in f and "\\" not in f
                                           and f not in (".", "..") for f in v)  # fmt: skip

    ok = (isinstance(manifest, dict) and names(manifest.get("x")) and bool(manifest["x"])
          and names(manifest.get("y", [])) and isinstance(manifest.get("rows"), list)
          and all(is_int(r) and r >= 0 for r in manifest["rows"]))  # fmt: skip
    if not ok:
        raise ValueError(f"load_shards: {where} is not a shard manifest (a JSON object with 'x' and 'y' lists of file "
                         "names in the folder and 'rows' a list of counts); write the folder with ng.data.save_shards")


def load_shards(folder: str | os.PathLike) -> tuple[ChunkedReader, ChunkedReader | None]:
    """``(X, y)`` of a folder written by :func:`save_shards`, memory-mapped (``y`` is ``None`` if absent)."""
    folder = as_path(folder, "load_shards")
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"load_shards: {folder} is a file; give the folder save_shards wrote")
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"load_shards: {folder} has no {MANIFEST}; write it with ng.data.save_shards") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"load_shards: {folder / MANIFEST} is not valid JSON ({exc})") from None
    _check_manifest(manifest, folder / MANIFEST)
    X = ChunkedReader([folder / f for f in manifest["x"]])
    y = ChunkedReader([folder / f for f in manifest["y"]]) if manifest.get("y") else None
    if len(X) != sum(manifest["rows"]) or (y is not None and len(y) != len(X)):
        raise ValueError(f"load_shards: the shards in {folder} do not match {MANIFEST}'s row counts")
    return X, y
