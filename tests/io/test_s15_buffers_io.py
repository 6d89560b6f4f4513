"""Model files carry persistent buffers: ``ng.io.save``/``load`` (into a given model, or rebuilt from the JSON
architecture, which describes buffers by name, shape and dtype), checkpoints, and the refusals — a
non-persistent buffer cannot be rebuilt, a described buffer is checked as strictly as a layer.  The keys and
their order are torch 2.13's ``state_dict`` for the same structure."""

from __future__ import annotations

import json

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.io import ArchitectureError, ModelFileError

torch = pytest.importorskip("torch")
tnn = torch.nn


class Scaler(ng.nn.Module):
    """A user's module: float64, int64 and bool buffers (and one that is not saved) around a Linear."""

    def __init__(self):
        super().__init__()
        self.register_buffer("shift", ng.tensor(np.zeros(2)))  # float64
        self.lin = ng.nn.Linear(2, 2, seed=0)
        self.register_buffer("seen", ng.tensor(np.array(0, np.int64)))
        self.register_buffer("mask", ng.tensor(np.array([True, False])))
        self.register_buffer("cache", ng.tensor(np.ones(2, np.float32)), persistent=False)

    def forward(self, x):
        return (self.lin(x) - self.shift) * ng.where(self.mask, 1.0, 0.0)


class TorchScaler(tnn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("shift", torch.zeros(2, dtype=torch.float64))
        self.lin = tnn.Linear(2, 2)
        self.register_buffer("seen", torch.tensor(0))
        self.register_buffer("mask", torch.tensor([True, False]))
        self.register_buffer("cache", torch.ones(2), persistent=False)


def _changed(m: Scaler) -> Scaler:
    with ng.no_grad():
        m.shift.copy_(ng.tensor(np.array([0.25, -1.5])))
        m.seen.copy_(ng.tensor(np.array(12, np.int64)))
        m.mask.copy_(ng.tensor(np.array([False, True])))
        m.cache.copy_(ng.tensor(np.full(2, 9.0, np.float32)))
    return m


def test_save_and_load_into_a_model_carry_the_persistent_buffers(tmp_path):
    path = ng.io.save(_changed(Scaler()), tmp_path / "m.safetensors")
    assert set(ng.io.ModelFile.open(path).shapes("model.")) == set(TorchScaler().state_dict())
    fresh = Scaler()
    shift = fresh.shift
    got = ng.io.load(path, model=fresh)
    assert got is fresh and fresh.shift is shift  # loaded into the existing buffers
    assert list(fresh.state_dict()) == list(TorchScaler().state_dict())
    np.testing.assert_array_equal(fresh.shift.numpy(), [0.25, -1.5])
    assert fresh.shift.dtype == np.float64 and fresh.seen.dtype == np.int64 and fresh.mask.dtype == np.bool_
    assert int(fresh.seen.item()) == 12 and fresh.mask.numpy().tolist() == [False, True]
    np.testing.assert_array_equal(fresh.cache.numpy(), [1.0, 1.0])  # not saved: the fresh model's own values


def test_a_file_whose_buffer_does_not_fit_is_refused_and_changes_nothing(tmp_path):
    other = Scaler()
    other.shift = ng.tensor(np.zeros(3))
    path = ng.io.save(other, tmp_path / "m.safetensors")
    m = _changed(Scaler())
    before = m.state_dict()
    with pytest.raises(ModelFileError, match=r"does not fit the model: shift has shape \(3,\) in the file but \(2,\)"):
        ng.io.load(path, model=m)
    without = Scaler()
    del without.seen
    path = ng.io.save(without, tmp_path / "w.safetensors")
    with pytest.raises(ModelFileError, match=r"missing \['seen'\]"):
        ng.io.load(path, model=m)
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def _described():
    """nablagrad layers with buffers registered on them, and the same in torch."""
    ours = ng.nn.Sequential(ng.nn.Linear(3, 4, seed=0), ng.nn.ReLU(), ng.nn.Linear(4, 1, seed=1))
    ours.register_buffer("x_mean", ng.tensor(np.array([1.0, 2.0, 3.0], np.float32)))
    ours[2].register_buffer("y_scale", ng.tensor(np.array(4.0)))
    ours.register_buffer("epochs", ng.tensor(np.array([5], np.int32)))
    theirs = tnn.Sequential(tnn.Linear(3, 4), tnn.ReLU(), tnn.Linear(4, 1))
    theirs.register_buffer("x_mean", torch.tensor([1.0, 2.0, 3.0]))
    theirs[2].register_buffer("y_scale", torch.tensor(4.0, dtype=torch.float64))
    theirs.register_buffer("epochs", torch.tensor([5], dtype=torch.int32))
    return ours, theirs


def test_the_architecture_describes_buffers_and_load_rebuilds_them(tmp_path):
    ours, theirs = _described()
    path = ng.io.save(ours, tmp_path / "m.safetensors")
    spec = ng.io.read_metadata(path)["architecture"]
    assert spec["buffers"] == {"x_mean": {"shape": [3], "dtype": "float32"}, "epochs": {"shape": [1], "dtype": "int32"}}
    assert spec["layers"][2]["buffers"] == {"y_scale": {"shape": [], "dtype": "float64"}}
    rebuilt = ng.io.load(path)
    assert list(rebuilt.state_dict()) == list(theirs.state_dict())
    for (k, b), (_, tb) in zip(rebuilt.named_buffers(), theirs.named_buffers()):
        np.testing.assert_array_equal(b.numpy(), tb.numpy(), err_msg=k)
        assert b.dtype == tb.numpy().dtype, k
    x = ng.randn(5, 3)
    np.testing.assert_array_equal(rebuilt(x).numpy(), ours(x).numpy())
    assert ng.io.architecture.parameter_shapes(spec) == {k: v.shape for k, v in ours.state_dict().items()}


def test_a_module_with_only_buffers_saves_and_loads(tmp_path):
    m = ng.nn.Sequential(ng.nn.ReLU())
    m.register_buffer("stats", ng.tensor(np.array([1.0, 2.0])))
    path = ng.io.save(m, tmp_path / "m.safetensors")  # no parameter: no model dtype
    rebuilt = ng.io.load(path)
    np.testing.assert_array_equal(rebuilt.stats.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(ng.io.load(path, model=m).stats.numpy(), [1.0, 2.0])


def test_non_persistent_or_shared_buffers_are_not_described(tmp_path):
    m = ng.nn.Sequential(ng.nn.Linear(2, 2, seed=0))
    m[0].register_buffer("cache", ng.zeros(2), persistent=False)
    with pytest.raises(ArchitectureError, match=r"non-persistent buffers \['cache'\] are not saved"):
        ng.io.to_spec(m)
    path = ng.io.save(m, tmp_path / "m.safetensors")  # the weights, with no architecture
    assert ng.io.read_metadata(path)["architecture"] is None
    with pytest.raises(ModelFileError, match="has no JSON architecture"):
        ng.io.load(path)
    shared = ng.zeros(2)
    tied = ng.nn.Sequential(ng.nn.Linear(2, 2), ng.nn.Linear(2, 2))
    tied[0].register_buffer("b", shared)
    tied[1].register_buffer("b", shared)
    with pytest.raises(ArchitectureError, match="or one buffer"):
        ng.io.to_spec(tied)


SPEC = {"type": "Sequential", "layers": [{"type": "Linear", "in_features": 2, "out_features": 2, "bias": True},
                                         {"type": "ReLU"}]}  # fmt: skip
BAD_BUFFERS = {
    "not an object": ([1, 2], "buffers must be an object"),
    "a bad dtype": ({"b": {"shape": [2], "dtype": "object"}}, "buffer 'b' must be"),
    "a negative size": ({"b": {"shape": [-1], "dtype": "float32"}}, "buffer 'b' must be"),
    "a float size": ({"b": {"shape": [2.0], "dtype": "float32"}}, "buffer 'b' must be"),
    "too many sizes": ({"b": {"shape": [1] * 33, "dtype": "float32"}}, "buffer 'b' must be"),
    "no shape": ({"b": {"dtype": "float32"}}, "buffer 'b' must be"),
    "a dotted name": ({"a.b": {"shape": [2], "dtype": "float32"}}, "holds a '.'"),
    "a child's name": ({"1": {"shape": [2], "dtype": "float32"}}, "names a parameter or layer"),
}


@pytest.mark.parametrize("case", BAD_BUFFERS, ids=list(BAD_BUFFERS))
def test_a_described_buffer_is_checked(case):
    buffers, message = BAD_BUFFERS[case]
    with pytest.raises(ArchitectureError, match=message):
        ng.io.from_spec({**SPEC, "buffers": buffers})
    with pytest.raises(ArchitectureError, match=message):
        ng.io.architecture.parameter_shapes({**SPEC, "buffers": buffers})
    linear = {**SPEC["layers"][0], "buffers": {"weight": {"shape": [2, 2], "dtype": "float32"}}}
    with pytest.raises(ArchitectureError, match="names a parameter"):
        ng.io.from_spec(linear)


def test_a_file_describing_a_buffer_named_as_an_attribute_is_a_model_file_error(tmp_path):
    from safetensors.numpy import save_file

    m = ng.nn.Linear(2, 2, seed=0)
    m.register_buffer("b", ng.zeros(2))
    info = ng.io.read_metadata(ng.io.save(m, tmp_path / "m.safetensors"))
    info["architecture"]["buffers"] = {"forward": info["architecture"]["buffers"]["b"]}
    tensors = {"model.weight": m.weight.numpy(), "model.bias": m.bias.numpy(), "model.forward": np.zeros(2, np.float32)}
    save_file(tensors, tmp_path / "bad.safetensors", metadata={"nablagrad": json.dumps(info)})
    with pytest.raises(ModelFileError, match="buffer name 'forward' is an attribute of the layer"):
        ng.io.load(tmp_path / "bad.safetensors")


def test_a_checkpoint_restores_the_buffers(tmp_path):
    m = _changed(Scaler())
    opt = ng.optim.Adam(m.parameters(), lr=0.01)
    x = ng.tensor(np.random.default_rng(0).standard_normal((4, 2)).astype(np.float32))
    opt.zero_grad()
    m(x).sum().backward()
    opt.step()
    path = tmp_path / "ckpt.safetensors"
    ng.io.atomic_write_bytes(path, ng.io.serialize(m, opt, extra={"rng": np.arange(3)}))
    saved = m.state_dict()
    other = Scaler()
    other_opt = ng.optim.Adam(other.parameters(), lr=0.01)
    info, extra = ng.io.load_checkpoint(path, other, other_opt)
    for k, v in saved.items():
        np.testing.assert_array_equal(other.state_dict()[k], v, err_msg=k)
    assert other_opt.state_dict()["state"].keys() == opt.state_dict()["state"].keys()
    np.testing.assert_array_equal(extra["extra.rng"], np.arange(3))
