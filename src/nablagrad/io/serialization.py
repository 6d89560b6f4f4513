"""``save`` / ``load``: weights in safetensors, architecture and metadata as JSON in the same file.

File layout (safetensors): 8 bytes ``n`` (little-endian), ``n`` bytes of JSON header, then the
tensor data.  Tensors ``model.<name>`` hold the model's state dict (parameters and persistent
buffers, each in its own dtype) and ``optim.<i>.<buffer>`` optimiser buffers — a list of arrays (L-BFGS's
``old_dirs``, ``old_stps``, ``ro``, ``al``) as one array of its entries stacked; the header's
``__metadata__`` holds JSON strings under ``nablagrad`` (format version, architecture, each module's
``training`` flag by its dotted name, user metadata, optimiser hyper-parameters, scalar state, and each
list's length and where it holds None).

Loading trusts nothing in the file and executes nothing from it.  It reads only the header
first and checks every entry — dtypes, shapes, offsets against the file size, the metadata's
schema, the declared architecture against the tensors' shapes, the optimiser state — before
allocating any array or writing into any model; each tensor's dtype is checked against the model's
before a value is written.  A rebuilt model is built without drawing random weights, and the weights
are copied from a read-only memory map straight into its parameters and buffers (no second copy of the
file in memory), and it comes back in the train/eval mode of each module as saved (as ``torch.save`` of a
module); a given ``model=`` keeps its mode (as ``load_state_dict``).  A failure raises
:class:`ModelFileError` and leaves the model and optimiser as they were.
"""

from __future__ import annotations

import json
import math
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..autodiff import Tensor
from ..backend.device import device as _device
from ..backend.device import to_device
from ..nn.module import Module
from ..optim.optimizer import Optimizer
from .architecture import ArchitectureError, from_spec, parameter_shapes, to_spec
from .atomic import atomic_write_bytes, folder_problem
from .dtypes import DTYPE_NAMES, FILE_DTYPES

FORMAT = "nablagrad/1"
# The header cap, checked by save and load.  safetensors allows 100 MB, but parsing JSON can cost
# ~25 bytes of Python objects per header byte (``[[],[],…]`` in user metadata: 400 MB for 16 MiB),
# so the cap bounds what a hostile file costs (~200 MB, ~1 s).  A real model needs far less: ~600
# bytes per Linear layer with Adam's state, so 8 MiB holds ~14 000 such layers and their metadata.
_MAX_HEADER = 8 * 1024 * 1024
_ENTRY_KEYS = frozenset(("dtype", "shape", "data_offsets"))
_MODEL_DTYPES = ("float16", "float32", "float64")
# state dict names a file may hold from before they took PyTorch's: PReLU's slopes were ``alpha``
_OLD_NAMES = {"alpha": "weight"}


class ModelFileError(ValueError):
    """The file is not a readable nablagrad model."""


# --- writing ------------------------------------------------------------------------------------------
def _optimizer_payload(opt: Optimizer) -> tuple[dict[str, np.ndarray], dict]:
    sd = opt.state_dict()
    arrays, scalars, lists = {}, {}, {}
    for i, buffers in sd["state"].items():
        for k, v in buffers.items():
            if isinstance(v, list):  # L-BFGS's memory (old_dirs, old_stps, ro, al): one array, its layout in the JSON
                arrays[f"optim.{i}.{k}"], lists[f"{i}.{k}"] = _stacked(v, f"{i}.{k}")
            elif hasattr(v, "shape"):
                arrays[f"optim.{i}.{k}"] = _host(v)
            else:
                scalars[f"{i}.{k}"] = v
    groups = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items()} for g in sd["param_groups"]]
    info = {"type": type(opt).__name__, "param_groups": groups, "scalars": scalars}
    if lists:  # (absent for the optimisers that keep no lists: their files are as before)
        info["lists"] = lists
    return arrays, info


def _stacked(values: list, name: str) -> tuple[np.ndarray, dict]:
    """A list in an optimiser's state as one array, its entries stacked along a new first axis, and what
    the metadata keeps to rebuild it: ``{"length": n, "none": [positions of None]}`` (L-BFGS's ``al`` holds
    None where its recursion has not written yet).  Entries must share one shape and dtype."""
    kept = [_host(v if hasattr(v, "shape") else np.asarray(v)) for v in values if v is not None]
    if len({(a.shape, a.dtype.str) for a in kept}) > 1:
        kinds = sorted({f"{a.dtype}{a.shape}" for a in kept})
        raise ValueError(f"save: the optimiser state list {name!r} holds entries of different shapes or dtypes "
                         f"({', '.join(kinds[:4])}); each entry of a saved list must be alike")  # fmt: skip
    stacked = np.stack(kept) if kept else np.zeros((0,))
    return stacked, {"length": len(values), "none": [j for j, v in enumerate(values) if v is None]}


def _host(a) -> np.ndarray:
    """A contiguous NumPy array of an array or Tensor of any device (files hold host bytes); a 0-d one stays
    0-d (``np.ascontiguousarray`` would make it 1-d)."""
    return np.asarray(to_device(a.data if isinstance(a, Tensor) else a, "cpu"), order="C")


def serialize(model: Module, optimizer: Optimizer | None = None, metadata: dict | None = None, extra=None) -> bytes:
    """The bytes of a model file (see the module docstring)."""
    from safetensors.numpy import save  # noqa: PLC0415 - runtime dependency, loaded when used

    _check_types("save", model, optimizer)
    if model is None:  # (load takes None for "build it from the file"; save has nothing to write)
        raise TypeError("save: model must be an nn.Module, got NoneType")
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"save: metadata must be a dict of JSON values, e.g. {{'epochs': 10}}, got {type(metadata).__name__}")
    tensors = {f"model.{k}": _host(v) for k, v in model.state_dict(keep_vars=True).items()}  # (no copy first)
    dtype = None if model.dtype is None else str(model.dtype)  # None: no parameter (buffers keep their own dtypes)
    training = {name: m.training for name, m in model.named_modules(remove_duplicate=False)}
    info: dict = {"format": FORMAT, "metadata": metadata or {}, "dtype": dtype, "training": training}
    try:
        info["architecture"] = to_spec(model)
    except ArchitectureError:
        info["architecture"] = None
    if optimizer is not None:
        arrays, opt_info = _optimizer_payload(optimizer)
        tensors.update(arrays)
        info["optimizer"] = opt_info
    for k, v in (extra or {}).items():
        tensors[f"extra.{k}"] = _host(v)
    _check_file_dtypes(tensors)
    try:
        header = json.dumps(info, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"save: metadata must be JSON-serialisable, with finite numbers ({exc})") from None
    raw = save(tensors, metadata={"nablagrad": header})
    (n,) = struct.unpack("<Q", raw[:8])
    if n > _MAX_HEADER:  # refused now rather than written as a file that load refuses
        raise ValueError(f"save: the file's header (tensor names, architecture and metadata) would take {n} bytes, "
                         f"over the {_MAX_HEADER} that load reads; keep large metadata in a file of its own")  # fmt: skip
    return raw


def _check_file_dtypes(tensors: dict[str, np.ndarray]) -> None:
    """Every array has a dtype a model file holds (:data:`.dtypes.FILE_DTYPES`), refused by name before anything
    is written: safetensors would write a complex64 buffer that load then refuses, and refuses complex128 with an
    error naming neither the tensor nor the fix."""
    for name, a in tensors.items():
        if a.dtype.name not in DTYPE_NAMES:
            raise ValueError(f"save: tensor {name!r} holds {a.dtype.name}, which a safetensors model file cannot hold "
                             f"(it holds {', '.join(DTYPE_NAMES)}); convert it first, e.g. keep a complex buffer as "
                             "two real buffers (its real and imaginary parts)")  # fmt: skip


def _check_types(who: str, model, optimizer) -> None:
    """``model`` a Module (or None for ``load``) and ``optimizer`` an Optimizer or None — refused
    before any byte is read or written, instead of an ``AttributeError`` from inside."""
    if model is not None and not isinstance(model, Module):
        raise TypeError(f"{who}: model must be an nn.Module, got {type(model).__name__}")
    if optimizer is not None and not isinstance(optimizer, Optimizer):
        raise TypeError(f"{who}: optimizer must be an optimiser (e.g. ng.optim.Adam) or None, got {type(optimizer).__name__}")


def save(model: Module, path: str | os.PathLike, optimizer: Optimizer | None = None, metadata: dict | None = None) -> Path:
    """Write ``model`` (and optionally the optimiser's state) to ``path`` atomically."""
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"save: path must be a file path such as 'model.safetensors', got {type(path).__name__}")
    if Path(path).is_dir():
        inside = str(Path(path) / "model.safetensors")
        raise IsADirectoryError(f"save: {str(path)!r} is a folder; give a file path inside it, e.g. {inside!r}")
    # refused before serialising, naming the part in the way (of the folder written: a link's target's)
    problem, base = folder_problem(Path(os.path.realpath(path)).parent)
    if problem == "Not a directory":
        raise NotADirectoryError(f"save: cannot write {str(path)!r}: {str(base)!r} is a file, not a folder; choose another path")
    if problem is not None:
        raise PermissionError(f"save: cannot write {str(path)!r}: the folder {str(base)!r} is not writable; choose another path")
    return atomic_write_bytes(path, serialize(model, optimizer, metadata))


# --- reading: the header ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class TensorEntry:
    """Where one tensor lies in the data section (already checked against the file size)."""

    dtype: np.dtype
    shape: tuple[int, ...]
    start: int  # offset in the data section
    end: int  # one past its last byte


def _json(text, what: str, where: str, **hooks):
    """``text`` parsed; bytes must be UTF-8 (safetensors' header encoding — ``json.loads`` would also guess UTF-16
    or UTF-32, or skip a byte-order mark, and so read a file that safetensors itself refuses)."""
    try:
        return json.loads(text.decode("utf-8") if isinstance(text, bytes | bytearray) else text, **hooks)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ModelFileError(f"{where} is corrupted: its {what} is not valid JSON") from None
    except RecursionError:
        raise ModelFileError(f"{where} is corrupted: its {what} is nested too deeply") from None


class _Entry(dict):
    """A header object shaped like a tensor entry (exactly dtype, shape, data_offsets)."""


class _Meta(dict):
    """A header object shaped like ``__metadata__`` (names to strings, with ``nablagrad``)."""


def _int_list(v) -> bool:
    return isinstance(v, list) and all(type(x) is int for x in v)


def _header_parsers(where: str) -> dict:
    """``json.loads`` hooks for a header.  Its ``object_pairs_hook`` refuses, as soon as the parser
    builds it, any object that is neither a tensor entry, the ``__metadata__`` object nor the top
    level, so a header padded with millions of objects is refused at the first one, not after
    parsing them all (an entry's values are checked in full, with its name, by :func:`_entry`).
    Numbers other than integers (``0.5``, ``NaN``) have no place in a header and are refused too."""

    def bad(why: str) -> ModelFileError:
        return ModelFileError(f"{where} is corrupted: its header {why}")

    def number(text: str):
        raise bad(f"holds the number {text[:20]}; a header holds only integers, strings, lists and objects")

    def hook(pairs: list[tuple[str, object]]) -> dict:
        keys = [k for k, _ in pairs]
        if _ENTRY_KEYS.intersection(keys):
            return _entry_object(pairs, bad)
        if "__metadata__" in keys or any(isinstance(v, _Entry) for _, v in pairs):
            return _top_level(pairs, bad)
        if not pairs:
            raise ModelFileError(f"{where} is corrupted or not a nablagrad model: its header holds an empty object where "
                                 "tensor entries or the 'nablagrad' metadata belong")  # fmt: skip
        if not all(isinstance(v, str) for _, v in pairs):
            raise bad(f"holds an object with keys {[k[:40] for k in keys[:5]]}, which is neither a tensor entry "
                      "({dtype, shape, data_offsets}) nor the __metadata__ (names to strings)")  # fmt: skip
        if "nablagrad" not in keys:
            raise ModelFileError(f"{where} is a safetensors file but not a nablagrad model (no 'nablagrad' metadata)")
        return _Meta(pairs)

    return {"object_pairs_hook": hook, "parse_float": number, "parse_constant": number}


def _entry_object(pairs: list[tuple[str, object]], bad) -> _Entry:
    """A tensor entry's object: exactly dtype (a string), shape and data_offsets (lists of integers)."""
    keys = [k for k, _ in pairs]
    if len(keys) != 3 or set(keys) != _ENTRY_KEYS:
        odd = sorted(set(keys) - _ENTRY_KEYS)[:3] or sorted(_ENTRY_KEYS - set(keys))
        raise bad(f"has a tensor entry with keys {[k[:40] for k in keys[:5]]} (odd: {[k[:40] for k in odd]}); "
                  "an entry holds exactly dtype, shape and data_offsets")  # fmt: skip
    e = _Entry(pairs)
    if not (isinstance(e["dtype"], str) and _int_list(e["shape"]) and _int_list(e["data_offsets"])):
        raise bad("has a tensor entry whose dtype is not a string, or whose shape or data_offsets is not a list of integers")
    return e


def _top_level(pairs: list[tuple[str, object]], bad) -> dict:
    """The header's top level: tensor entries and the ``__metadata__`` (see :func:`_header_parsers`)."""
    for k, v in pairs:
        if k == "__metadata__" and not isinstance(v, _Meta):
            raise bad("has a __metadata__ that is not an object: __metadata__ must map names to strings")
        if k != "__metadata__" and not isinstance(v, _Entry):
            raise bad(f"describes tensor {k[:80]!r} with a {type(v).__name__}, not a {{dtype, shape, data_offsets}} object")
    return dict(pairs)


def _entry(name: str, e, data_len: int, where: str) -> TensorEntry:
    def bad(why: str) -> ModelFileError:
        return ModelFileError(f"{where} is truncated or corrupted: tensor {name[:80]!r} {why}")

    if not isinstance(e, dict):
        raise bad("has no description")
    if not isinstance(e.get("dtype"), str) or e["dtype"] not in FILE_DTYPES:
        raise bad(f"has unsupported dtype {str(e.get('dtype'))[:20]!r}; readable: {', '.join(FILE_DTYPES)}")
    shape, offsets = e.get("shape"), e.get("data_offsets")
    if not (_int_list(shape) and len(shape) <= 32 and all(s >= 0 for s in shape)):
        raise bad(f"has an invalid shape {str(shape)[:80]}")
    if not (_int_list(offsets) and len(offsets) == 2 and 0 <= offsets[0] <= offsets[1] <= data_len):
        raise bad("lies outside the file")
    dtype = np.dtype(FILE_DTYPES[e["dtype"]])
    # NumPy refuses a shape whose non-zero dimensions span more than intp bytes even when another
    # dimension is 0 (an empty tensor of shape [0, 2**70]): refused here, before any array is made
    if math.prod(max(s, 1) for s in shape) * dtype.itemsize > np.iinfo(np.intp).max:
        raise bad(f"has shape {str(shape)[:80]}, too large for an array on this machine (its non-zero dimensions "
                  f"times {dtype.itemsize} bytes exceed {np.iinfo(np.intp).max})")  # fmt: skip
    if math.prod(shape) * dtype.itemsize != offsets[1] - offsets[0]:
        nbytes = math.prod(shape) * dtype.itemsize
        raise bad(f"declares shape {tuple(shape)} ({nbytes} bytes) but spans {offsets[1] - offsets[0]} bytes")
    return TensorEntry(dtype, tuple(shape), offsets[0], offsets[1])


def _check_tiling(entries: dict[str, TensorEntry], data_len: int, where: str) -> None:
    """The tensors, in offset order, tile the data section exactly from byte 0, as safetensors
    requires: an overlap would let a small file declare many large tensors over the same bytes."""
    end = 0
    for name, e in sorted(entries.items(), key=lambda kv: (kv[1].start, kv[1].end)):
        if e.start != end:
            how = "overlaps the tensor before it" if e.start < end else f"leaves a gap of {e.start - end} bytes before it"
            raise ModelFileError(f"{where} is corrupted: tensor {name[:80]!r} starts at byte {e.start} and {how}; "
                                 "tensors must lie one after another, covering the data exactly")  # fmt: skip
        end = e.end
    if end != data_len:
        raise ModelFileError(f"{where} is truncated or corrupted: its tensors cover {end} bytes, the data holds {data_len}")


def _info(meta, where: str) -> dict:
    if meta is None:  # any other __metadata__ was checked while parsing (see _header_parsers)
        raise ModelFileError(f"{where} is a safetensors file but not a nablagrad model (no 'nablagrad' metadata)")
    info = _json(meta["nablagrad"], "nablagrad metadata", where)
    if not isinstance(info, dict):
        raise ModelFileError(f"{where} is corrupted: its nablagrad metadata is a {type(info).__name__}, not an object")
    if info.get("format") != FORMAT:
        raise ModelFileError(f"{where} has format {repr(info.get('format'))[:40]}; this version reads {FORMAT!r}")
    checks = {
        "metadata": (dict, "an object"),
        "architecture": ((dict, type(None)), "an object or null"),
        "optimizer": ((dict, type(None)), "an object or null"),
        "training": (dict, "an object"),
    }
    for key, (kind, what) in checks.items():
        if key in info and not isinstance(info[key], kind):
            raise ModelFileError(f"{where} is corrupted: nablagrad metadata {key!r} must be {what}")
    if not all(type(v) is bool for v in info.get("training", {}).values()):
        raise ModelFileError(f"{where} is corrupted: nablagrad metadata 'training' must map module names to true or false")
    if info.get("dtype", "float32") not in (*_MODEL_DTYPES, None):
        raise ModelFileError(f"{where} is corrupted: model dtype {str(info.get('dtype'))[:20]!r} is not one of {_MODEL_DTYPES}")
    opt = info.get("optimizer")
    if opt is not None and not (isinstance(opt.get("type"), str) and isinstance(opt.get("param_groups"), list)
                                and isinstance(opt.get("scalars"), dict)):  # fmt: skip
        raise ModelFileError(f"{where} is corrupted: its optimiser state lacks type, param_groups or scalars")
    return info


def parse_header(head: bytes, data_len: int, where: str = "file") -> tuple[dict, dict[str, TensorEntry]]:
    """The nablagrad metadata and the checked tensor entries of a header (``head``: the ``n`` JSON bytes)."""
    header = _json(head, "header", where, **_header_parsers(where))
    if not isinstance(header, dict):
        raise ModelFileError(f"{where} is corrupted: its header is a {type(header).__name__}, not an object")
    entries = {name: _entry(name, e, data_len, where) for name, e in header.items() if name != "__metadata__"}
    _check_tiling(entries, data_len, where)
    return _info(header.get("__metadata__"), where), entries


def _header_length(first8: bytes, size: int, where: str) -> int:
    if len(first8) < 8:
        raise ModelFileError(f"{where} is truncated: {size} bytes, not even a header")
    (n,) = struct.unpack("<Q", first8)
    if n > _MAX_HEADER and (first8.startswith(b"PK\x03\x04") or first8[:1] == b"\x80"):
        raise ModelFileError(f"{where} is a {'zip archive' if first8[:1] == b'P' else 'pickle'} (as torch.save writes), "
                             "not a nablagrad model file (safetensors); nablagrad never unpickles a file: save the "
                             "model with ng.io.save(model, path), or load its weights into torch and copy them over")  # fmt: skip
    if n > _MAX_HEADER:
        raise ModelFileError(f"{where} is truncated or corrupted: the header claims {n} bytes, "
                             f"over the {_MAX_HEADER} a model file's header may take")  # fmt: skip
    if 8 + n > size:
        raise ModelFileError(f"{where} is truncated or corrupted: the header claims {n} bytes, the file has {size - 8}")
    return n


def read_header(raw: bytes, where: str = "file") -> dict:
    """Validate and parse the header of the bytes of a model file; the nablagrad metadata."""
    n = _header_length(raw[:8], len(raw), where)
    return parse_header(raw[8 : 8 + n], len(raw) - 8 - n, where)[0]


@dataclass
class ModelFile:
    """An opened model file: its checked header; arrays are read only on request."""

    path: Path
    info: dict
    entries: dict[str, TensorEntry]
    data_start: int

    @classmethod
    def open(cls, path: str | os.PathLike) -> ModelFile:
        """Read and check the header only (``8 + n`` bytes), whatever the file's size."""
        path = Path(path)
        try:
            with open(path, "rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                n = _header_length(fh.read(8), size, str(path))
                head = fh.read(n)
        except FileNotFoundError:
            raise ModelFileError(f"no such model file: {path}") from None
        except IsADirectoryError:
            raise ModelFileError(f"{path} is a folder; give the .safetensors file inside it") from None
        info, entries = parse_header(head, size - 8 - n, str(path))
        return cls(path, info, entries, 8 + n)

    def array(self, name: str) -> np.ndarray:
        """A read-only memory map of one tensor (nothing is copied until it is used)."""
        e = self.entries[name]
        if math.prod(e.shape) == 0:
            return np.zeros(e.shape, e.dtype)
        return np.memmap(self.path, dtype=e.dtype, mode="r", offset=self.data_start + e.start, shape=e.shape)

    def shapes(self, prefix: str) -> dict[str, tuple[int, ...]]:
        return {k[len(prefix) :]: e.shape for k, e in self.entries.items() if k.startswith(prefix)}

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {k[len(prefix) :]: self.array(k) for k in self.entries if k.startswith(prefix)}


# --- reading: checks, then commit ---------------------------------------------------------------------------
def _mismatch(expected: dict, found: dict) -> str | None:
    """A description of how two name → shape tables differ, or None."""
    missing, unexpected = sorted(set(expected) - set(found)), sorted(set(found) - set(expected))
    if missing or unexpected:
        return f"missing {missing[:5]}, unexpected {unexpected[:5]}"
    for k, s in expected.items():
        if tuple(found[k]) != tuple(s):
            return f"{k} has shape {tuple(found[k])} in the file but {tuple(s)} in the model"
    return None


def _file_names(mf: ModelFile, expected) -> dict[str, str]:
    """State dict name → the file's tensor holding it: ``model.<name>``, or, in a file written before a name took
    PyTorch's (:data:`_OLD_NAMES`), the old name where the model (``expected`` names) has the new one only."""
    names = {k[len("model.") :]: k for k in mf.entries if k.startswith("model.")}
    out = {}
    for k, entry in names.items():
        head, dot, last = k.rpartition(".")
        new = head + dot + _OLD_NAMES.get(last, last)
        old = new != k and new in expected and k not in expected and new not in names
        out[new if old else k] = entry
    return out


def _check_dtypes(model: Module, names: dict[str, str], mf: ModelFile, rebuilt: bool, where: str) -> None:
    """Each tensor of the file has its model entry's dtype: exactly for a rebuilt model (the file declared it);
    for a given ``model=`` the same kind (floating numbers load into floating ones at the model's precision, as
    ``load_state_dict`` casts them; integers or booleans never silently become weights, nor the reverse)."""
    for k, t in model.state_dict(keep_vars=True).items():
        found, want = mf.entries[names[k]].dtype, np.dtype(t.dtype)
        same = found == want if rebuilt else _kind(found) == _kind(want)
        if not same:
            raise ModelFileError(f"{where} is corrupted or does not fit the model: tensor {names[k][:80]!r} holds "
                                 f"{found.name}, expected {want.name}")  # fmt: skip


def _kind(dtype: np.dtype) -> str:
    """What a given model's entry may load from: floats from floats, complex from complex only (cast into a real
    entry, the imaginary part would be dropped without a word), integers and booleans from each other."""
    return "f" if dtype.kind == "f" else "c" if dtype.kind == "c" else "integer"


def _training_flags(model: Module, info: dict, where: str) -> dict[str, bool]:
    """The saved ``training`` flag of each module of a rebuilt ``model`` by its dotted name (a file from before
    they were saved: every module training, as then); the names must be the model's."""
    saved = info.get("training")
    paths = [name for name, _ in model.named_modules(remove_duplicate=False)]
    if saved is None:
        return dict.fromkeys(paths, True)
    if sorted(saved) != sorted(paths):
        odd = sorted(set(saved) ^ set(paths))[:5]
        raise ModelFileError(f"{where} is corrupted: its 'training' flags name modules {[k[:40] for k in odd]} that the "
                             "architecture does not hold, or miss some")  # fmt: skip
    return saved


def _optimizer_state_dict(opt: dict, arrays: dict[str, np.ndarray], where: str) -> dict:
    state: dict[int, dict] = {}
    lists = opt.get("lists", {})
    if not isinstance(lists, dict):
        raise ModelFileError(f"{where} is corrupted: its optimiser 'lists' must be an object")
    arrays = dict(arrays)
    for k, spec in lists.items():
        i, name = _slot(k, where)
        state.setdefault(i, {})[name] = _unstacked(k, spec, arrays.pop(k, None), where)
    for k, v in arrays.items():
        i, name = _slot(k, where)
        state.setdefault(i, {})[name] = np.array(v)
    for k, v in opt["scalars"].items():
        i, name = _slot(k, where)
        state.setdefault(i, {})[name] = v
    if not all(isinstance(g, dict) for g in opt["param_groups"]):
        raise ModelFileError(f"{where} is corrupted: optimiser param_groups must be objects")
    groups = [{k: (tuple(v) if k == "betas" and isinstance(v, list) else v) for k, v in g.items()} for g in opt["param_groups"]]
    return {"state": state, "param_groups": groups}


def _slot(key: str, where: str) -> tuple[int, str]:
    """The parameter position and buffer name of an optimiser state entry ``'<position>.<buffer>'``."""
    try:
        i, name = key.split(".", 1)
        return int(i), name
    except ValueError:
        raise ModelFileError(f"{where} is corrupted: optimiser state entry {key[:60]!r} is not '<position>.<buffer>'") from None


def _unstacked(name: str, spec, array: np.ndarray | None, where: str) -> list:
    """The list :func:`_stacked` saved: its entries (copies), with None where the metadata says."""

    def bad(why: str) -> ModelFileError:
        return ModelFileError(f"{where} is corrupted: optimiser state list {name[:60]!r} {why}")

    if not (isinstance(spec, dict) and set(spec) == {"length", "none"} and type(spec["length"]) is int
            and _int_list(spec["none"])):  # fmt: skip
        raise bad("must be described by {length: integer, none: [integers]}")
    length, none = spec["length"], spec["none"]
    if not (0 <= length and len(set(none)) == len(none) and all(0 <= j < length for j in none)):
        raise bad(f"declares length {length} with None at {none[:5]}: positions must be distinct and within it")
    if array is None or array.ndim < 1 or array.shape[0] != length - len(none):
        shape = None if array is None else array.shape
        raise bad(f"needs an array of {length - len(none)} entries, the file has {shape}")
    rows, holes = iter(array), set(none)  # (rows of the array read: the optimiser copies each onto its device)
    return [None if j in holes else next(rows) for j in range(length)]


def _checked_optimizer(optimizer: Optimizer, info: dict, arrays: dict[str, np.ndarray], where: str) -> dict:
    """The optimiser's state dict from the file, checked against ``optimizer`` (nothing written)."""
    opt = info.get("optimizer")
    if opt is None:
        raise ModelFileError(f"{where} holds no optimiser state; save it with io.save(model, path, optimizer=opt)")
    if opt["type"] != type(optimizer).__name__:
        raise ModelFileError(
            f"{where} holds {opt['type'][:40]} state, not {type(optimizer).__name__}; create a {opt['type'][:40]} "
            "to resume, or load without optimizer= to start a fresh one"
        )
    sd = _optimizer_state_dict(opt, arrays, where)
    try:
        optimizer.check_state_dict(sd)
    except (ValueError, TypeError) as exc:
        raise ModelFileError(f"{where}: {exc}") from None
    return sd


def _read(path: str | os.PathLike, model: Module | None, optimizer: Optimizer | None,
          extras: bool = False) -> tuple[Module, ModelFile, dict[str, np.ndarray]]:  # fmt: skip
    """Check everything, then load the weights (and optimiser state): all or nothing.  With
    ``extras`` the ``extra.*`` arrays are also copied into memory, before anything is written."""
    _check_types("load", model, optimizer)
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"load: path must be a file path such as 'model.safetensors', got {type(path).__name__}")
    mf = ModelFile.open(path)
    where, info = str(path), mf.info
    rebuilt = model is None
    if rebuilt:
        if not info.get("architecture"):
            raise ModelFileError(f"{where} has no JSON architecture; pass model= with an instance to load into")
        try:
            expected = parameter_shapes(info["architecture"])
        except ArchitectureError as exc:
            raise ModelFileError(f"{where}: {exc}") from None
    else:
        expected = {k: t.shape for k, t in model.state_dict(keep_vars=True).items()}
    names = _file_names(mf, expected)
    problem = _mismatch(expected, {k: mf.entries[e].shape for k, e in names.items()})
    if problem and rebuilt:
        raise ModelFileError(f"{where} is corrupted: its declared architecture does not match its tensors ({problem})")
    if problem:
        raise ModelFileError(f"{where} does not fit the model: {problem}")
    sd = _checked_optimizer(optimizer, info, mf.arrays("optim."), where) if optimizer is not None else None
    extra = {f"extra.{k}": np.array(v) for k, v in mf.arrays("extra.").items()} if extras else {}
    if rebuilt:
        try:
            model = from_spec(info["architecture"], dtype=info.get("dtype"))
        except ArchitectureError as exc:  # (a buffer named as a layer's attribute: found only when built)
            raise ModelFileError(f"{where}: {exc}") from None
    _check_dtypes(model, names, mf, rebuilt, where)
    flags = _training_flags(model, info, where) if rebuilt else {}
    model.load_state_dict({k: mf.array(e) for k, e in names.items()})
    for name, m in model.named_modules(remove_duplicate=False):
        if name in flags:
            m.training = flags[name]
    if sd is not None:
        optimizer.load_state_dict(sd)
    object.__setattr__(model, "metadata", info.get("metadata", {}))
    return model, mf, extra


def load(path: str | os.PathLike, model: Module | None = None, optimizer: Optimizer | None = None, device=None) -> Module:
    """Read a model file: rebuild the architecture (or fill ``model``), load the weights and,
    if given, the optimiser's state — all or nothing.  The file's metadata is at ``model.metadata``.
    ``device`` (``"cuda"``, …) puts the weights (and the optimiser's state) there; by default a
    rebuilt model is on the CPU and a given ``model`` keeps its device."""
    _check_types("load", model, optimizer)
    if device is None:
        return _read(path, model, optimizer)[0]
    device = _device(device)  # an unknown or unavailable device refused before anything is read or written
    if model is None:
        return _read(path, None, optimizer)[0].to(device)
    before = model.device
    model.to(device)  # first: the weights (and the optimiser's state) are then loaded onto the device
    try:
        _read(path, model, optimizer)
    except BaseException:
        model.to(before)  # a refused file leaves the model where, and as, it was
        raise
    return model


def load_checkpoint(path: str | os.PathLike, model: Module, optimizer: Optimizer) -> tuple[dict, dict[str, np.ndarray]]:
    """Restore ``model`` and ``optimizer`` from a checkpoint (all or nothing); the file's nablagrad
    metadata and its ``extra.*`` arrays (copied into memory)."""
    _, mf, extra = _read(path, model, optimizer, extras=True)
    return mf.info, extra


def deserialize(raw: bytes, where: str = "file") -> tuple[dict, dict[str, np.ndarray]]:
    """The metadata and all tensors (read-only views of ``raw``, no copy) of a model file's bytes."""
    n = _header_length(raw[:8], len(raw), where)
    info, entries = parse_header(raw[8 : 8 + n], len(raw) - 8 - n, where)
    return info, {
        k: np.frombuffer(raw, e.dtype, math.prod(e.shape), 8 + n + e.start).reshape(e.shape) for k, e in entries.items()
    }


def load_optimizer_state(optimizer: Optimizer, info: dict, tensors: dict, where: str) -> None:
    """Load the optimiser state of :func:`deserialize`'s output into ``optimizer`` (checked first)."""
    arrays = {k[len("optim.") :]: v for k, v in tensors.items() if k.startswith("optim.")}
    optimizer.load_state_dict(_checked_optimizer(optimizer, info, arrays, where))


def read_metadata(path: str | os.PathLike) -> dict:
    """The JSON metadata of a model file, reading only its header."""
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"read_metadata: path must be a model file path such as 'model.safetensors', got "
                        f"{type(path).__name__}")  # fmt: skip
    return ModelFile.open(path).info
