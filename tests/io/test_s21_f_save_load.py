"""``ng.io.save``/``load`` against ``torch.save``/``torch.load``: every buffer dtype a file holds round-trips
(0-d, empty, non-contiguous), each optimiser resumed from a file follows the uninterrupted trajectory, a
complex buffer is refused by name before anything is written (it used to be written as a file load refused,
or to fail inside safetensors), a file written by ``torch.save`` is named as such, and a symbolic link is
written through as ``torch.save`` writes it (it used to be replaced by a plain file, its target left stale)."""

from __future__ import annotations

import os

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.io import ModelFileError
from nablagrad.io.dtypes import DTYPE_NAMES

torch = pytest.importorskip("torch")

R = np.random.default_rng(21)
X, Y = R.standard_normal((8, 3)).astype(np.float32), R.standard_normal((8, 2)).astype(np.float32)


def _net(seed: int = 0):
    return ng.nn.Sequential(ng.nn.Linear(3, 4, seed=seed), ng.nn.Tanh(), ng.nn.Linear(4, 2, seed=seed + 1))


def _step(model, opt) -> None:
    opt.zero_grad()
    ((model(ng.tensor(X)) - ng.tensor(Y)) ** 2).mean().backward()
    opt.step()


@pytest.mark.parametrize("name, kw", [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)), ("Adam", dict(lr=0.01, amsgrad=True)),
                                      ("AdamW", dict(lr=0.01)), ("RMSProp", dict(lr=0.01)), ("AdaGrad", dict(lr=0.1)),
                                      ("Adamax", dict(lr=0.01)), ("NAdam", dict(lr=0.01)), ("RAdam", dict(lr=0.01)),
                                      ("Adadelta", dict(lr=1.0)), ("Rprop", dict(lr=0.01)), ("ASGD", dict(lr=0.01))])  # fmt: skip
def test_a_run_resumed_from_a_file_follows_the_uninterrupted_one(tmp_path, name, kw):
    cls = getattr(ng.optim, name)
    model = _net()
    opt = cls(model.parameters(), **kw)
    for _ in range(3):
        _step(model, opt)
    ng.io.save(model, tmp_path / "ckpt.safetensors", optimizer=opt)
    for _ in range(3):
        _step(model, opt)
    resumed = ng.io.load(tmp_path / "ckpt.safetensors")  # rebuilt from the file, then its optimiser restored
    opt2 = cls(resumed.parameters(), **{**kw, "lr": 123.0})  # the file's hyper-parameters win, as load_state_dict
    ng.io.load(tmp_path / "ckpt.safetensors", model=resumed, optimizer=opt2)
    for _ in range(3):
        _step(resumed, opt2)
    for (k, a), (k2, b) in zip(model.state_dict().items(), resumed.state_dict().items(), strict=True):
        assert k == k2
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.parametrize("dtype", DTYPE_NAMES)
def test_every_buffer_dtype_round_trips_0d_empty_and_strided(tmp_path, dtype):
    """As ``torch.save`` of a state dict: values, dtypes and shapes back, rebuilt or loaded into a model."""
    grid = np.arange(12).reshape(3, 4).astype(dtype)
    buffers = {"t": grid.T, "s": grid[:, ::2], "z": np.ones((), dtype), "e": np.zeros((0, 3), dtype)}
    model, into, tm = ng.nn.Linear(2, 2, seed=0), ng.nn.Linear(2, 2, seed=1), torch.nn.Module()
    for k, v in buffers.items():
        model.register_buffer(k, ng.tensor(v))
        into.register_buffer(k, ng.tensor(np.zeros_like(v)))
        tm.register_buffer(k, torch.from_numpy(np.array(v, order="C")))  # (ascontiguousarray: 0-d to 1-d)
    torch.save(tm.state_dict(), tmp_path / "t.pt")
    want = torch.load(tmp_path / "t.pt")
    ng.io.save(model, tmp_path / "m.safetensors")
    for got in (ng.io.load(tmp_path / "m.safetensors"), ng.io.load(tmp_path / "m.safetensors", model=into)):
        for k in buffers:
            a = got.get_buffer(k).numpy()
            assert a.dtype == want[k].numpy().dtype and a.shape == tuple(want[k].shape)
            np.testing.assert_array_equal(a, want[k].numpy())


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_a_complex_buffer_is_refused_by_name_before_anything_is_written(tmp_path, dtype):
    path = tmp_path / "m.safetensors"
    ng.io.save(ng.nn.Linear(2, 2, seed=0), path)
    before = path.read_bytes()
    model = ng.nn.Linear(2, 2, seed=1)
    model.register_buffer("phase", ng.tensor(np.ones(3, dtype)))
    with pytest.raises(ValueError, match=rf"'model\.phase' holds {np.dtype(dtype).name}.*two real buffers"):
        ng.io.save(model, path)
    assert path.read_bytes() == before and sorted(os.listdir(tmp_path)) == ["m.safetensors"]


def test_a_real_file_tensor_is_not_loaded_into_a_complex_buffer(tmp_path):
    saved = ng.nn.Linear(2, 2, seed=0)
    saved.register_buffer("phase", ng.tensor(np.ones(3)))
    ng.io.save(saved, tmp_path / "m.safetensors")
    model = ng.nn.Linear(2, 2, seed=1)
    model.register_buffer("phase", ng.tensor(np.full(3, 2j, np.complex64)))
    weight = model.weight.numpy().copy()
    with pytest.raises(ModelFileError, match="'model.phase' holds float64, expected complex64"):
        ng.io.load(tmp_path / "m.safetensors", model=model)
    np.testing.assert_array_equal(model.weight.numpy(), weight)
    np.testing.assert_array_equal(model.phase.numpy(), np.full(3, 2j))


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "pickle"])
def test_a_torch_save_file_is_named_as_one_and_never_unpickled(tmp_path, legacy):
    path = tmp_path / "model.pt"
    torch.save(torch.nn.Linear(2, 2).state_dict(), path, _use_new_zipfile_serialization=not legacy)
    assert set(torch.load(path)) == {"weight", "bias"}  # a real torch.save file
    with pytest.raises(ModelFileError, match=rf"is a {'pickle' if legacy else 'zip archive'} \(as torch.save writes\)"):
        ng.io.load(path, model=ng.nn.Linear(2, 2))
    with pytest.raises(ModelFileError, match="torch.save"):
        ng.io.read_metadata(path)


def test_a_symbolic_link_is_written_through_as_torch_save_writes_it(tmp_path):
    (tmp_path / "runs").mkdir()
    for name, saver in (("torch", lambda p: torch.save({"w": torch.ones(2)}, p)),
                        ("ng", lambda p: ng.io.save(ng.nn.Linear(2, 2, seed=3), p))):  # fmt: skip
        target, link = tmp_path / "runs" / f"{name}.bin", tmp_path / f"latest-{name}"
        target.write_bytes(b"old")
        link.symlink_to(target)
        assert saver(link) in (None, link)  # ng.io.save returns the path as given
        assert link.is_symlink() and os.readlink(link) == str(target) and target.read_bytes() != b"old"
    np.testing.assert_array_equal(ng.io.load(tmp_path / "latest-ng").weight.numpy(), ng.nn.Linear(2, 2, seed=3).weight.numpy())
    assert not [p for p in tmp_path.rglob("*.tmp")]
    dangling = tmp_path / "new-link"
    dangling.symlink_to(tmp_path / "runs" / "new.safetensors")  # as open(path, "wb"): the target is created
    ng.io.save(ng.nn.Linear(2, 2), dangling)
    assert dangling.is_symlink() and (tmp_path / "runs" / "new.safetensors").is_file()
