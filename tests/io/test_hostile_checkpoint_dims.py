"""A checkpoint whose header declares a dimension NumPy cannot hold is refused as ModelFileError
before anything is written: load_checkpoint is all or nothing, extras included."""

import json
import struct

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.io import ModelFileError


def _with_extra_entry(path, entry: dict) -> bytes:
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header, data = json.loads(raw[8 : 8 + n]), raw[8 + n :]
    header["extra.x"] = {**entry, "data_offsets": [len(data), len(data)]}
    head = json.dumps(header).encode()
    return struct.pack("<Q", len(head)) + head + data


@pytest.mark.parametrize("shape", [[0, 2**70], [0, 2**62, 4], [2**40, 2**40, 0]])
def test_an_unrepresentable_empty_shape_is_refused_before_anything_is_written(tmp_path, shape):
    model = ng.nn.Sequential(ng.nn.Linear(2, 3))
    ng.io.save(model, tmp_path / "ck.safetensors", optimizer=ng.optim.Adam(model.parameters(), lr=0.01))
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(_with_extra_entry(tmp_path / "ck.safetensors", {"dtype": "F32", "shape": shape}))

    target = ng.nn.Sequential(ng.nn.Linear(2, 3))
    opt = ng.optim.Adam(target.parameters(), lr=0.5)
    before = {k: np.array(v) for k, v in target.state_dict().items()}
    with pytest.raises(ModelFileError, match=r"tensor 'extra.x' has shape .* too large for an array"):
        ng.io.load_checkpoint(bad, target, opt)
    for k, v in target.state_dict().items():
        np.testing.assert_array_equal(v, before[k])
    assert opt.param_groups[0]["lr"] == 0.5
    with pytest.raises(ModelFileError, match="too large for an array"):
        ng.io.deserialize(bad.read_bytes())


def test_an_empty_extra_of_a_representable_shape_still_loads(tmp_path):
    model = ng.nn.Sequential(ng.nn.Linear(2, 3))
    ng.io.save(model, tmp_path / "ck.safetensors", optimizer=ng.optim.Adam(model.parameters(), lr=0.01))
    ok = tmp_path / "ok.safetensors"
    ok.write_bytes(_with_extra_entry(tmp_path / "ck.safetensors", {"dtype": "F32", "shape": [0, 5]}))
    target = ng.nn.Sequential(ng.nn.Linear(2, 3))
    opt = ng.optim.Adam(target.parameters(), lr=0.5)
    _, extras = ng.io.load_checkpoint(ok, target, opt)
    assert extras["extra.x"].shape == (0, 5)
    assert opt.param_groups[0]["lr"] == 0.01
    np.testing.assert_array_equal(target.state_dict()["0.weight"], model.state_dict()["0.weight"])
