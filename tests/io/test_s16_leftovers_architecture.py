"""An architecture entry with a key its layer type does not hold is refused (a file this version would half
understand), before any weight is allocated; every key ``io.save`` writes is still accepted.

Oracles: the saved model's own outputs (a round trip), tracemalloc (no allocation before the refusal)."""

from __future__ import annotations

import json
import struct
import tracemalloc

import numpy as np
import pytest

import nablagrad as ng

nn = ng.nn


def _edit_architecture(path, change) -> None:
    """Apply ``change(architecture)`` to the JSON architecture in the file at ``path`` (tensor bytes unchanged)."""
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    meta = json.loads(header["__metadata__"]["nablagrad"])
    change(meta["architecture"])
    header["__metadata__"]["nablagrad"] = json.dumps(meta)
    head = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(head)) + head + raw[8 + n :])


def test_an_unknown_key_in_a_layer_entry_is_refused_naming_entry_key_and_accepted_keys(tmp_path):
    path = ng.io.save(nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)), tmp_path / "m.safetensors")

    def relu_with_foo(arch):
        arch["layers"][1] = {"type": "ReLU", "inplace": True, "foo": 3}

    _edit_architecture(path, relu_with_foo)
    with pytest.raises(ng.io.ModelFileError) as info:
        ng.io.load(path)
    msg = str(info.value)
    assert str(path) in msg
    assert "'type': 'ReLU', 'inplace': True, 'foo': 3" in msg  # the entry
    assert "unknown key(s) ['foo', 'inplace']" in msg  # the keys (io.save never writes 'inplace')
    assert "a ReLU entry holds only ['type', 'buffers']" in msg  # what is accepted


@pytest.mark.parametrize(
    ("model", "where", "key", "accepted"),
    [
        (lambda: nn.Linear(3, 2), lambda a: a, "weights", "['type', 'in_features', 'out_features', 'bias', 'buffers']"),
        (lambda: nn.Sequential(nn.Linear(3, 2)), lambda a: a, "activation", "['type', 'layers', 'names', 'buffers']"),
        (lambda: nn.KAN([3, 2]), lambda a: a, "seed",
         "['type', 'sizes', 'grid_size', 'spline_order', 'grid_range', 'buffers']"),
        (lambda: nn.Sequential(nn.Linear(3, 2), nn.Sequential(nn.Dropout(0.2))), lambda a: a["layers"][1]["layers"][0],
         "inplace", "['type', 'p', 'buffers']"),
        (lambda: nn.Sequential(nn.GELU(approximate="tanh")), lambda a: a["layers"][0], "alpha",
         "['type', 'approximate', 'buffers']"),
    ],
)  # fmt: skip
def test_unknown_keys_are_refused_at_any_depth_and_for_any_type(tmp_path, model, where, key, accepted):
    path = ng.io.save(model(), tmp_path / "m.safetensors")
    _edit_architecture(path, lambda arch: where(arch).__setitem__(key, 1))
    with pytest.raises(ng.io.ModelFileError, match=rf"unknown key\(s\) \['{key}'\]; a \w+ entry holds only "):
        ng.io.load(path)
    with pytest.raises(ng.io.ModelFileError) as info:
        ng.io.load(path)
    assert accepted in str(info.value)


def test_the_refusal_comes_before_any_weight_is_allocated(tmp_path):
    """A large model whose first entry holds an unknown key: refused having allocated a small fraction of its weights."""
    model = nn.MLP([1000, 1000, 10], seed=0)
    path = ng.io.save(model, tmp_path / "big.safetensors")
    nbytes = sum(p.data.nbytes for p in model.parameters())
    _edit_architecture(path, lambda arch: arch["layers"][0].__setitem__("foo", 3))
    tracemalloc.start()
    try:
        with pytest.raises(ng.io.ModelFileError, match=r"unknown key\(s\) \['foo'\]"):
            ng.io.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 0.05 * nbytes, f"peak {peak / 1e6:.2f} MB for {nbytes / 1e6:.1f} MB of parameters"


def test_every_key_save_writes_is_accepted(tmp_path):
    """One of every described layer, with non-default options: saved, rebuilt without ``model=``, same outputs."""
    model = nn.Sequential(
        nn.Linear(4, 6, bias=False), nn.BatchNorm1d(6, momentum=None), nn.LeakyReLU(0.2), nn.PReLU(6), nn.GELU("tanh"),
        nn.ELU(0.5), nn.Softplus(2.0, 10.0), nn.LayerNorm(6, bias=False), nn.Dropout(0.3), nn.Sigmoid(), nn.Tanh(),
        nn.ReLU(), nn.SiLU(), nn.Abs(), nn.Identity(), nn.KANLinear(6, 5, grid_size=4, spline_order=2, grid_range=(-2, 2)),
        nn.KAN([5, 4, 3], grid_size=3), nn.Sequential(nn.Linear(3, 3)), nn.Softmax(axis=-1), nn.LogSoftmax(axis=-1),
    ).eval()  # fmt: skip
    path = ng.io.save(model, tmp_path / "all.safetensors")
    loaded = ng.io.load(path)
    x = ng.tensor(np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32))
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())
