import json
import struct

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.io import ModelFileError


def _model():
    return ng.nn.Sequential(ng.nn.Linear(4, 8), ng.nn.Tanh(), ng.nn.Linear(8, 3), ng.nn.LeakyReLU(0.2))


def test_save_load_roundtrip_rebuilds_architecture(tmp_path):
    m = _model()
    ng.io.save(m, tmp_path / "m.safetensors", metadata={"note": "hi"})
    m2 = ng.io.load(tmp_path / "m.safetensors")
    x = ng.randn(5, 4)
    np.testing.assert_array_equal(m(x).numpy(), m2(x).numpy())
    assert m2.metadata == {"note": "hi"}
    assert isinstance(m2[3], ng.nn.LeakyReLU) and m2[3].negative_slope == 0.2


def test_a_kan_round_trips_with_its_architecture_and_weights(tmp_path):
    """Saved and loaded with no model given: a KAN of the same grid, the same weights, the same
    function and gradients; a Sequential of KANLinear layers with different grids, and dropout, too."""
    kan = ng.nn.KAN([2, 4, 1], grid_size=7, spline_order=2, grid_range=(-2.0, 3.0), seed=0)
    mixed = ng.nn.Sequential(ng.nn.KANLinear(3, 2, grid_size=3, spline_order=1, seed=1), ng.nn.Dropout(0.25),
                             ng.nn.KANLinear(2, 2, seed=2))  # fmt: skip
    x = np.random.default_rng(0).uniform(-2, 3, size=(6, 3)).astype(np.float32)
    for m, xin in ((kan, x[:, :2]), (mixed, x)):
        ng.io.save(m, tmp_path / "k.safetensors")
        m2 = ng.io.load(tmp_path / "k.safetensors")
        assert type(m2) is type(m) and repr(m2) == repr(m)
        for (k, p), (k2, p2) in zip(m.named_parameters(), m2.named_parameters()):
            assert k == k2
            np.testing.assert_array_equal(p.numpy(), p2.numpy())
        m.eval(), m2.eval()
        for model in (m, m2):
            model.zero_grad()
            model(ng.tensor(xin)).sum().backward()
        np.testing.assert_array_equal(m(ng.tensor(xin)).numpy(), m2(ng.tensor(xin)).numpy())
        for p, p2 in zip(m.parameters(), m2.parameters()):
            np.testing.assert_array_equal(p.grad.numpy(), p2.grad.numpy())
    ng.io.save(kan, tmp_path / "kan.safetensors")
    loaded = ng.io.load(tmp_path / "kan.safetensors")
    assert loaded.sizes == [2, 4, 1] and loaded[0].grid_range == (-2.0, 3.0) and loaded[1].spline_order == 2


def test_optimizer_state_roundtrip(tmp_path):
    m = _model()
    opt = ng.optim.Adam(m.parameters(), lr=0.01)
    for _ in range(3):
        opt.zero_grad()
        (m(ng.ones(2, 4)) ** 2).sum().backward()
        opt.step()
    ng.io.save(m, tmp_path / "m.safetensors", optimizer=opt)
    m2 = _model()
    opt2 = ng.optim.Adam(m2.parameters(), lr=0.5)
    ng.io.load(tmp_path / "m.safetensors", model=m2, optimizer=opt2)
    assert opt2.param_groups[0]["lr"] == 0.01
    for o, mm in ((opt, m), (opt2, m2)):
        o.zero_grad()
        (mm(ng.ones(2, 4)) ** 2).sum().backward()
        o.step()
    for a, b in zip(m.state_dict().values(), m2.state_dict().values()):
        np.testing.assert_array_equal(a, b)


def test_interrupted_save_leaves_the_old_file_readable(tmp_path, monkeypatch):
    path = tmp_path / "m.safetensors"
    m = _model()
    ng.io.save(m, path)
    before = path.read_bytes()
    from nablagrad.io import atomic

    real_fsync = atomic.os.fsync

    def crash(fd):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(atomic.os, "fsync", crash)
    with pytest.raises(OSError, match="simulated"):
        ng.io.save(_model(), path)
    monkeypatch.setattr(atomic.os, "fsync", real_fsync)
    assert path.read_bytes() == before
    ng.io.load(path)
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]  # no temporary left behind


def test_truncated_corrupted_and_hostile_files_give_clear_errors(tmp_path):
    path = tmp_path / "m.safetensors"
    ng.io.save(_model(), path)
    raw = path.read_bytes()
    (tmp_path / "trunc").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ModelFileError, match="truncated"):
        ng.io.load(tmp_path / "trunc")
    (tmp_path / "tiny").write_bytes(b"abc")
    with pytest.raises(ModelFileError, match="truncated"):
        ng.io.load(tmp_path / "tiny")
    (tmp_path / "huge").write_bytes(struct.pack("<Q", 2**60) + b"{}")
    with pytest.raises(ModelFileError, match="truncated or corrupted"):
        ng.io.load(tmp_path / "huge")
    (tmp_path / "garbage").write_bytes(struct.pack("<Q", 5) + b"\xff\xfe{{{" + b"0" * 10)
    with pytest.raises(ModelFileError, match="not valid JSON"):
        ng.io.load(tmp_path / "garbage")
    hostile = {"__metadata__": {"nablagrad": json.dumps({"format": "nablagrad/1", "architecture": {"type": "os.system"}})}}
    h = json.dumps(hostile).encode()
    (tmp_path / "hostile").write_bytes(struct.pack("<Q", len(h)) + h)
    with pytest.raises(ModelFileError, match="unknown layer type 'os.system'"):
        ng.io.load(tmp_path / "hostile")
    with pytest.raises(ModelFileError, match="no such model file"):
        ng.io.load(tmp_path / "absent.safetensors")


def test_loading_into_the_wrong_model_names_the_mismatch(tmp_path):
    ng.io.save(_model(), tmp_path / "m.safetensors")
    with pytest.raises(ModelFileError, match=r"does not fit the model: .*shape"):
        ng.io.load(tmp_path / "m.safetensors", model=ng.nn.Sequential(ng.nn.Linear(4, 9), ng.nn.Tanh(), ng.nn.Linear(9, 3)))


def test_load_onto_an_unknown_device_changes_nothing(tmp_path):
    src = ng.nn.MLP([3, 4, 2], seed=0, dtype="float64")
    opt = ng.optim.Adam(src.parameters(), lr=1e-2)
    src(ng.tensor(np.ones((2, 3)))).sum().backward()
    opt.step()
    path = ng.io.save(src, tmp_path / "m.safetensors", optimizer=opt)
    model = ng.nn.MLP([3, 4, 2], seed=1, dtype="float64")
    model_opt = ng.optim.Adam(model.parameters(), lr=1e-2)
    before = [p.data.copy() for p in model.parameters()]
    with pytest.raises(ValueError, match="unknown device"):
        ng.io.load(path, model=model, optimizer=model_opt, device="nodevice")
    assert all(np.array_equal(a, p.data) for a, p in zip(before, model.parameters(), strict=True))
    assert not model_opt.state
