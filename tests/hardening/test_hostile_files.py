"""A hostile model file costs nothing: refused with ModelFileError before any large allocation."""

import json
import re
import struct
import tempfile
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nablagrad as ng
from nablagrad.io import ModelFileError

KB = 1024


def _file(header: dict, data: bytes = b"") -> bytes:
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + data


def _header(info: dict | None = None, tensors: dict | None = None, meta=None) -> dict:
    info = {"format": "nablagrad/1", "metadata": {}, "dtype": "float32", **(info or {})}
    header = dict(tensors or {})
    header["__metadata__"] = meta if meta is not None else {"nablagrad": json.dumps(info)}
    return header


def _linear(n_in, n_out):
    return {"type": "Sequential", "layers": [{"type": "Linear", "in_features": n_in, "out_features": n_out, "bias": True}]}


def _tensor(shape, start=0, dtype="F32"):
    return {"dtype": dtype, "shape": list(shape), "data_offsets": [start, start + 4 * int(np.prod(shape))]}


def _peak_while(fn) -> int:
    exc, peak = _outcome(fn)
    if exc is not None:
        raise exc
    return peak


KAN_HUGE = {"type": "KAN", "sizes": [50000, 10000]}
KAN_ORDER = {"type": "KAN", "sizes": [2, 3], "spline_order": 2**31}
KAN_LAYER = {"type": "KANLinear", "in_features": 2, "out_features": 3}
SMALL = {"model.0.weight": _tensor((2, 3)), "model.0.bias": _tensor((3,), 24)}
HOSTILE = {
    "Linear(50000, 10000) declared, 2x3 tensors": (_header({"architecture": _linear(50000, 10000)}, SMALL), bytes(36),
                                                    "declared architecture does not match its tensors"),
    "10^6 x 10^6 declared": (_header({"architecture": _linear(10**6, 10**6)}, SMALL), bytes(36), "does not match"),
    "a tensor of 50000x10000 in a tiny file": (_header({"architecture": _linear(50000, 10000)},
                                                       {"model.0.weight": _tensor((50000, 10000))}), bytes(36), "lies outside the file"),  # noqa: E501
    "shape and offsets disagree": (_header({"architecture": _linear(2, 3)}, {"model.0.weight": {"dtype": "F32", "shape": [10**6, 10**6],  # noqa: E501
                                   "data_offsets": [0, 24]}, "model.0.bias": _tensor((3,), 24)}), bytes(36), "declares shape"),
    "architecture as a JSON list": (_header({"architecture": [1, 2]}, SMALL), bytes(36), "'architecture' must be an object or null"),  # noqa: E501
    "nablagrad metadata a JSON list": (_header(meta={"nablagrad": "[1, 2]"}), b"", "is a list, not an object"),
    "header a JSON list": ([1, 2, 3], b"", "header is a list"),
    "__metadata__ a list": (_header(meta=["nablagrad"]), b"", "__metadata__ must map names to strings"),
    "no format key": (_header(meta={"nablagrad": json.dumps({"architecture": None})}), b"", "has format None"),
    "Linear without in_features": (_header({"architecture": {"type": "Linear", "out_features": 3}}), b"", "in_features must be an integer"),  # noqa: E501
    "in_features a string": (_header({"architecture": {"type": "Linear", "in_features": "2", "out_features": 3}}), b"", "got '2'"),  # noqa: E501
    "in_features negative": (_header({"architecture": {"type": "Linear", "in_features": -2, "out_features": 3}}), b"", "got -2"),
    "in_features True": (_header({"architecture": {"type": "Linear", "in_features": True, "out_features": 3}}), b"", "got True"),
    "layers a dict": (_header({"architecture": {"type": "Sequential", "layers": {"a": 1}}}), b"", "layers must be a list"),
    "unknown layer type": (_header({"architecture": {"type": "__import__"}}), b"", "unknown layer type '__import__'"),
    "Sequentials nested 40 deep": (_header({"architecture": json.loads('{"type": "Sequential", "layers": [' * 40 + "]}" * 40)}),
                                   b"", "nests more than"),
    "header nested 100000 deep": (None, struct.pack("<Q", 200_000) + b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    "metadata nested 100000 deep": (_header(meta={"nablagrad": "[" * 100_000 + "]" * 100_000}), b"", "nested too deeply"),
    "model dtype object": (_header({"dtype": "object", "architecture": None}), b"", "model dtype 'object'"),
    "tensor dtype unknown": (_header({}, {"model.w": {"dtype": "OBJ", "shape": [1], "data_offsets": [0, 4]}}), bytes(4), "unsupported dtype"),  # noqa: E501
    "negative shape": (_header({}, {"model.w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}), bytes(4), "invalid shape"),  # noqa: E501
    "optimizer a list": (_header({"optimizer": [1]}), b"", "'optimizer' must be an object or null"),
    "optimizer without state": (_header({"optimizer": {"type": "Adam"}}), b"", "lacks type, param_groups or scalars"),
    "header claims 2^60 bytes": (None, struct.pack("<Q", 2**60) + b"{}", "the header claims"),
    "KAN(50000, 10000) declared, 2x3": (_header({"architecture": KAN_HUGE}, SMALL), bytes(36), "does not match its tensors"),
    "KAN spline_order 2^31": (_header({"architecture": KAN_ORDER}, SMALL), bytes(36), "does not match its tensors"),
    "KAN sizes a string": (_header({"architecture": {"type": "KAN", "sizes": "2,3"}}), b"", "sizes must be a list"),
    "KAN grid_range reversed": (_header({"architecture": {"type": "KAN", "sizes": [2, 3], "grid_range": [1, -1]}}), b"",
                                "grid_range must be two finite increasing numbers"),
    "KANLinear grid_size 0": (_header({"architecture": {**KAN_LAYER, "grid_size": 0}}), b"", "grid_size must be an integer in 1"),
    "KAN grid_range 10^400": (_header({"architecture": {"type": "KAN", "sizes": [2, 3], "grid_range": [0, 10**400]}}), b"",
                              "grid_range must be two finite increasing numbers"),
    "Dropout p 1.5": (_header({"architecture": {"type": "Dropout", "p": 1.5}}), b"", r"p must lie in \[0, 1\]"),
}  # fmt: skip


def _outcome(reader) -> tuple[Exception | None, int]:
    """What ``reader()`` raised (or None) and the peak of memory allocated meanwhile."""
    tracemalloc.start()
    try:
        reader()
        exc = None
    except Exception as e:  # noqa: BLE001 - the test inspects it
        exc = e
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return exc, peak


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_a_hostile_file_is_refused_before_any_allocation(tmp_path, case):
    header, data, message = HOSTILE[case]
    raw = data if header is None else _file(header, data)
    path = tmp_path / "hostile.safetensors"
    path.write_bytes(raw)
    exc, peak = _outcome(lambda: ng.io.load(path))
    assert isinstance(exc, ModelFileError) and re.search(message, str(exc)), repr(exc)
    assert peak < 4 * len(raw) + 256 * KB  # the header read and parsed, never what it declares
    exc, peak = _outcome(lambda: ng.io.read_metadata(path))  # the header alone: the architecture is not checked
    assert exc is None or (isinstance(exc, ModelFileError) and re.search(message, str(exc))), repr(exc)
    assert peak < 4 * len(raw) + 256 * KB  # the header read and parsed, never what it declares
    assert path.read_bytes() == raw


def test_load_into_a_given_model_checks_shapes_before_writing(tmp_path):
    path = tmp_path / "m.safetensors"
    path.write_bytes(_file(_header({"architecture": None}, SMALL), bytes(36)))
    m = ng.nn.Sequential(ng.nn.Linear(50, 10))
    before = m.state_dict()
    with pytest.raises(ModelFileError, match=r"does not fit the model: 0.weight has shape \(2, 3\) in the file but \(50, 10\)"):
        ng.io.load(path, model=m)
    np.testing.assert_array_equal(m.state_dict()["0.weight"], before["0.weight"])


def _big_model():
    return ng.nn.Sequential(ng.nn.Linear(1024, 1024), ng.nn.ReLU(), ng.nn.Linear(1024, 10))  # 4.2 MB of float32


def test_metadata_is_read_from_the_header_only(tmp_path):
    path = ng.io.save(_big_model(), tmp_path / "big.safetensors", metadata={"note": "x"})
    assert path.stat().st_size > 4 * 1024 * KB
    meta = {}
    peak = _peak_while(lambda: meta.update(ng.io.read_metadata(path)))
    assert meta["metadata"] == {"note": "x"}
    assert peak < 64 * KB


def test_load_keeps_no_second_copy_of_the_weights(tmp_path):
    model = _big_model()
    path = ng.io.save(model, tmp_path / "big.safetensors")
    nbytes = sum(p.data.nbytes for p in model.parameters())
    out = []
    peak = _peak_while(lambda: out.append(ng.io.load(path)))
    building = _peak_while(_big_model)  # allocating and initialising the layers (float64 random draws included)
    assert peak < building + 0.1 * nbytes  # loading adds no copy of the file's bytes to that
    for a, b in zip(model.state_dict().values(), out[0].state_dict().values()):
        np.testing.assert_array_equal(a, b)
    into = _big_model()
    peak = _peak_while(lambda: ng.io.load(path, model=into))
    assert peak < 0.25 * nbytes  # straight from the memory map into the parameters


# --- fuzzing: random headers, sizes and metadata ----------------------------------------------------------
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)
_SAFE_VALID = ng.io.serialize(ng.nn.Sequential(ng.nn.Linear(2, 3), ng.nn.Tanh(), ng.nn.Linear(3, 1)))


def _mutate(draw_path, value, doc):
    """``doc`` with the entry at ``draw_path`` (a list of keys/indices, clipped to what exists) replaced by ``value``."""
    if not draw_path or not isinstance(doc, dict | list) or not doc:
        return value
    doc = json.loads(json.dumps(doc))
    keys = list(doc) if isinstance(doc, dict) else list(range(len(doc)))
    k = keys[draw_path[0] % len(keys)]
    doc[k] = _mutate(draw_path[1:], value, doc[k])
    return doc


@st.composite
def model_files(draw):
    n = struct.unpack("<Q", _SAFE_VALID[:8])[0]
    header = json.loads(_SAFE_VALID[8 : 8 + n])
    header["__metadata__"]["nablagrad"] = json.loads(header["__metadata__"]["nablagrad"])
    where = draw(st.lists(st.integers(0, 50), max_size=6))
    header = _mutate(where, draw(_json_values), header)
    if isinstance(header, dict) and isinstance(header.get("__metadata__"), dict) and "nablagrad" in header["__metadata__"]:
        if draw(st.booleans()):
            header["__metadata__"]["nablagrad"] = json.dumps(header["__metadata__"]["nablagrad"])
    body = json.dumps(header).encode()
    data = _SAFE_VALID[8 + n :][: draw(st.integers(0, 200))]
    claimed = draw(st.sampled_from([len(body), len(body) - 1, len(body) + 1, 2**63, 0, draw(st.integers(0, 2**64 - 1))]))
    raw = struct.pack("<Q", claimed) + body + data
    return raw[: draw(st.integers(0, len(raw)))] if draw(st.booleans()) else raw


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=model_files() | st.binary(max_size=64))
def test_fuzzed_model_files_raise_only_model_file_error_with_bounded_memory(raw):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "f.safetensors"
        path.write_bytes(raw)
        for reader in (ng.io.load, ng.io.read_metadata):
            tracemalloc.start()
            try:
                reader(path)
            except ModelFileError:
                pass
            finally:
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
            assert peak < 256 * KB + 20 * len(raw)
