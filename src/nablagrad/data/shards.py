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
from .loader import ChunkedReader

MANIFEST = "shards.json"


def _save_npy(path: Path, a: np.ndarray) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        np.save(fh, a)
    os.replace(tmp, path)


def save_shards(folder: str | os.PathLike, X, y=None, rows_per_shard: int = 65_536) -> Path:
    """Write ``X`` (and ``y``) into ``folder`` as shards of ``rows_per_shard`` rows; returns the folder.

    ``X`` may itself be a memory map or a :class:`ChunkedReader`: it is read one shard at a time."""
    if not is_int(rows_per_shard) or rows_per_shard < 1:
        raise ValueError(f"save_shards: rows_per_shard must be a positive integer, got {rows_per_shard!r}")
    if y is not None and len(y) != len(X):
        raise ValueError(f"save_shards: X has {len(X)} rows but y has {len(y)}; they must match")
    folder = Path(folder)
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


def load_shards(folder: str | os.PathLike) -> tuple[ChunkedReader, ChunkedReader | None]:
    """``(X, y)`` of a folder written by :func:`save_shards`, memory-mapped (``y`` is ``None`` if absent)."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"load_shards: {folder} has no {MANIFEST}; write it with ng.data.save_shards") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"load_shards: {folder / MANIFEST} is not valid JSON ({exc})") from None
    if not manifest.get("x"):
        raise ValueError(f"load_shards: {folder / MANIFEST} names no X shards")
    X = ChunkedReader([folder / f for f in manifest["x"]])
    y = ChunkedReader([folder / f for f in manifest["y"]]) if manifest.get("y") else None
    if len(X) != sum(manifest["rows"]) or (y is not None and len(y) != len(X)):
        raise ValueError(f"load_shards: the shards in {folder} do not match {MANIFEST}'s row counts")
    return X, y
