"""``save`` / ``load``: weights in safetensors, architecture and metadata as JSON in the same file.

File layout (safetensors): tensors ``model.<name>`` for parameters and ``optim.<i>.<buffer>``
for optimiser buffers; the header's ``__metadata__`` holds JSON strings under ``nablagrad``
(format version, architecture, user metadata, optimiser hyper-parameters and scalar state).
Loading parses the header itself first, so a truncated, corrupted or hostile file is refused
with a clear message; nothing in the file is ever executed.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import numpy as np

from ..nn.module import Module
from ..optim.optimizer import Optimizer
from .architecture import ArchitectureError, from_spec, to_spec
from .atomic import atomic_write_bytes

FORMAT = "nablagrad/1"
_MAX_HEADER = 100 * 1024 * 1024


class ModelFileError(ValueError):
    """The file is not a readable nablagrad model."""


def _optimizer_payload(opt: Optimizer) -> tuple[dict[str, np.ndarray], dict]:
    sd = opt.state_dict()
    arrays, scalars = {}, {}
    for i, buffers in sd["state"].items():
        for k, v in buffers.items():
            if isinstance(v, np.ndarray):
                arrays[f"optim.{i}.{k}"] = np.ascontiguousarray(v)
            else:
                scalars[f"{i}.{k}"] = v
    groups = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items()} for g in sd["param_groups"]]
    return arrays, {"type": type(opt).__name__, "param_groups": groups, "scalars": scalars}


def serialize(model: Module, optimizer: Optimizer | None = None, metadata: dict | None = None, extra=None) -> bytes:
    """The bytes of a model file (see the module docstring)."""
    from safetensors.numpy import save  # noqa: PLC0415 - runtime dependency, loaded when used

    tensors = {f"model.{k}": np.ascontiguousarray(v) for k, v in model.state_dict().items()}
    info: dict = {"format": FORMAT, "metadata": metadata or {}, "dtype": str(model.dtype)}
    try:
        info["architecture"] = to_spec(model)
    except ArchitectureError:
        info["architecture"] = None
    if optimizer is not None:
        arrays, opt_info = _optimizer_payload(optimizer)
        tensors.update(arrays)
        info["optimizer"] = opt_info
    for k, v in (extra or {}).items():
        tensors[f"extra.{k}"] = np.ascontiguousarray(v)
    try:
        header = json.dumps(info)
    except TypeError as exc:
        raise ValueError(f"save: metadata must be JSON-serialisable ({exc})") from None
    return save(tensors, metadata={"nablagrad": header})


def save(model: Module, path: str | os.PathLike, optimizer: Optimizer | None = None, metadata: dict | None = None) -> Path:
    """Write ``model`` (and optionally the optimiser's state) to ``path`` atomically."""
    return atomic_write_bytes(path, serialize(model, optimizer, metadata))


def read_header(raw: bytes, where: str = "file") -> dict:
    """Validate and parse the safetensors header without trusting any of it."""
    if len(raw) < 8:
        raise ModelFileError(f"{where} is truncated: {len(raw)} bytes, not even a header")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > _MAX_HEADER or 8 + n > len(raw):
        raise ModelFileError(f"{where} is truncated or corrupted: the header claims {n} bytes, the file has {len(raw) - 8}")
    try:
        header = json.loads(raw[8 : 8 + n])
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ModelFileError(f"{where} is corrupted: its header is not valid JSON") from None
    if not isinstance(header, dict):
        raise ModelFileError(f"{where} is corrupted: unexpected header")
    data_len = len(raw) - 8 - n
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        offsets = entry.get("data_offsets") if isinstance(entry, dict) else None
        if not (isinstance(offsets, list) and len(offsets) == 2 and 0 <= offsets[0] <= offsets[1] <= data_len):
            raise ModelFileError(f"{where} is truncated or corrupted: tensor {name!r} lies outside the file")
    meta = header.get("__metadata__") or {}
    if "nablagrad" not in meta:
        raise ModelFileError(f"{where} is a safetensors file but not a nablagrad model (no 'nablagrad' metadata)")
    try:
        info = json.loads(meta["nablagrad"])
    except json.JSONDecodeError:
        raise ModelFileError(f"{where} is corrupted: its nablagrad metadata is not valid JSON") from None
    if info.get("format") != FORMAT:
        raise ModelFileError(f"{where} has format {info.get('format')!r}; this version reads {FORMAT!r}")
    return info


def deserialize(raw: bytes, where: str = "file") -> tuple[dict, dict[str, np.ndarray]]:
    from safetensors.numpy import load as st_load  # noqa: PLC0415

    info = read_header(raw, where)
    try:
        tensors = st_load(raw)
    except Exception as exc:  # safetensors raises its own error types
        raise ModelFileError(f"{where} is corrupted: {exc}") from None
    return info, tensors


def _read(path) -> bytes:
    path = Path(path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ModelFileError(f"no such model file: {path}") from None
    except IsADirectoryError:
        raise ModelFileError(f"{path} is a folder; give the .safetensors file inside it") from None


def load(path: str | os.PathLike, model: Module | None = None, optimizer: Optimizer | None = None) -> Module:
    """Read a model file: rebuild the architecture (or fill ``model``), load the weights and,
    if given, the optimiser's state.  The file's metadata is at ``model.metadata``."""
    info, tensors = deserialize(_read(path), str(path))
    weights = {k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")}
    if model is None:
        if not info.get("architecture"):
            raise ModelFileError(f"{path} has no JSON architecture; pass model= with an instance to load into")
        try:
            model = from_spec(info["architecture"], dtype=info.get("dtype"))
        except ArchitectureError as exc:
            raise ModelFileError(f"{path}: {exc}") from None
    try:
        model.load_state_dict(weights)
    except (KeyError, ValueError) as exc:
        raise ModelFileError(f"{path} does not fit the model: {exc}") from None
    if optimizer is not None:
        load_optimizer_state(optimizer, info, tensors, str(path))
    object.__setattr__(model, "metadata", info.get("metadata", {}))
    return model


def load_optimizer_state(optimizer: Optimizer, info: dict, tensors: dict, where: str) -> None:
    opt = info.get("optimizer")
    if opt is None:
        raise ModelFileError(f"{where} holds no optimiser state")
    if opt["type"] != type(optimizer).__name__:
        raise ModelFileError(f"{where} holds {opt['type']} state, not {type(optimizer).__name__}")
    state: dict[int, dict] = {}
    for k, v in tensors.items():
        if k.startswith("optim."):
            _, i, name = k.split(".", 2)
            state.setdefault(int(i), {})[name] = v.copy()
    for k, v in opt["scalars"].items():
        i, name = k.split(".", 1)
        state.setdefault(int(i), {})[name] = v
    groups = [{k: (tuple(v) if k == "betas" else v) for k, v in g.items()} for g in opt["param_groups"]]
    try:
        optimizer.load_state_dict({"state": state, "param_groups": groups})
    except ValueError as exc:
        raise ModelFileError(f"{where}: {exc}") from None


def read_metadata(path: str | os.PathLike) -> dict:
    """The JSON metadata of a model file, without loading weights."""
    return read_header(_read(path), str(path))
