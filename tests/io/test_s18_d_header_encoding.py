"""A model file's header is UTF-8 JSON, as safetensors requires: one with a byte-order mark or in UTF-16 (which
Python's ``json.loads`` of bytes would read) is refused as safetensors itself refuses it, and nothing is loaded."""

import struct

import numpy as np
import pytest
import safetensors
from safetensors.numpy import load as st_load

import nablagrad as ng

ENCODINGS = {
    "utf-8 byte-order mark": lambda h: b"\xef\xbb\xbf" + h,
    "utf-16": lambda h: h.decode("utf-8").encode("utf-16"),
    "utf-32": lambda h: h.decode("utf-8").encode("utf-32"),
}


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_header_not_in_utf8_is_refused_as_safetensors_does(tmp_path, encoding):
    model = ng.nn.Linear(2, 1)
    path = tmp_path / "m.safetensors"
    ng.io.save(model, path)
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    head = ENCODINGS[encoding](raw[8 : 8 + n])
    bad = struct.pack("<Q", len(head)) + head + raw[8 + n :]
    with pytest.raises(safetensors.SafetensorError):
        st_load(bad)  # the oracle: the format's own reader
    path.write_bytes(bad)
    target = ng.nn.Linear(2, 1)
    before = target.weight.numpy().copy()
    for read in (lambda: ng.io.load(path), lambda: ng.io.read_metadata(path), lambda: ng.io.load(path, model=target)):
        with pytest.raises(ng.io.ModelFileError, match=r"m\.safetensors is corrupted: its header is not valid JSON"):
            read()
    np.testing.assert_array_equal(target.weight.numpy(), before)
