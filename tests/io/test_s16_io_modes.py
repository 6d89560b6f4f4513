"""``ng.io`` round trips as ``torch.save``/``torch.load`` of a module: each module's train/eval mode comes back,
``BatchNorm1d``, ``LayerNorm`` and ``Sequential(OrderedDict)`` are rebuilt without ``model=``, a rebuilt model
costs about the file's size in memory (no random initialisation first), a tensor whose dtype is not the model's is
refused, and a file from before PReLU's slopes took PyTorch's name (``alpha`` → ``weight``) still loads.

Oracles: torch 2.13 (``torch.save``/``torch.load`` of the same modules, their modes and outputs), tracemalloc."""

from __future__ import annotations

import io
import json
import struct
import tracemalloc
from collections import OrderedDict

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")
nn, tnn = ng.nn, torch.nn


def _np(t) -> np.ndarray:
    return np.asarray(t.numpy() if isinstance(t, ng.Tensor) else t.detach().numpy())


def _x(shape, seed=0, dtype=np.float32) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(shape) + 1.0).astype(dtype)


def _torch_round_trip(module):
    buf = io.BytesIO()
    torch.save(module, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=False)


def _modes(model) -> list[tuple[str, bool]]:
    return [(k, m.training) for k, m in model.named_modules()]


def _rewrite(path, change) -> None:
    """Apply ``change(header)`` to the JSON header of the file at ``path`` (the tensor bytes kept as they are)."""
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    change(header)
    head = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(head)) + head + raw[8 + n :])


# --- train/eval modes ---------------------------------------------------------------------------------------------
def _pair():
    ours = nn.Sequential(nn.Linear(3, 4, seed=0), nn.BatchNorm1d(4), nn.Dropout(0.5), nn.Linear(4, 2, seed=1))
    theirs = tnn.Sequential(tnn.Linear(3, 4), tnn.BatchNorm1d(4), tnn.Dropout(0.5), tnn.Linear(4, 2))
    return ours, theirs


@pytest.mark.parametrize("mode", ["eval", "train", "mixed"])
def test_load_gives_each_module_the_mode_it_was_saved_in_as_torch_load(tmp_path, mode):
    ours, theirs = _pair()
    ours(ng.tensor(_x((8, 3)))), theirs(torch.tensor(_x((8, 3))))  # the running statistics move
    for m in (ours, theirs):
        if mode == "eval":
            m.eval()
        elif mode == "mixed":
            m[2].eval()  # dropout off, batch statistics still on
    loaded = ng.io.load(ng.io.save(ours, tmp_path / "m.safetensors"))
    assert _modes(loaded) == _modes(ours) == _modes(_torch_round_trip(theirs))
    if mode != "train":  # no random mask: the same outputs as the saved model
        x = ng.tensor(_x((5, 3), seed=3))
        np.testing.assert_array_equal(_np(loaded(x)), _np(ours(x)))


def test_load_into_a_given_model_keeps_its_mode_as_load_state_dict(tmp_path):
    ours, theirs = _pair()
    path = ng.io.save(ours.eval(), tmp_path / "m.safetensors")
    target = _pair()[0]  # training
    ng.io.load(path, model=target)
    tt = _pair()[1]
    tt.load_state_dict(theirs.eval().state_dict())
    assert _modes(target) == [(k, m.training) for k, m in tt.named_modules()] and target.training


def test_a_file_from_before_modes_were_saved_loads_in_training(tmp_path):
    path = ng.io.save(nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5)).eval(), tmp_path / "m.safetensors")

    def drop(h):
        meta = json.loads(h["__metadata__"]["nablagrad"])
        del meta["training"]
        h["__metadata__"]["nablagrad"] = json.dumps(meta)

    _rewrite(path, drop)
    assert all(m.training for m in ng.io.load(path).modules())


@pytest.mark.parametrize("flags, match", [({"": False}, "'training' flags name modules"),
                                          ({"": False, "0": False, "1": "no"}, "true or false")])  # fmt: skip
def test_bad_mode_flags_are_refused_and_change_nothing(tmp_path, flags, match):
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    opt = ng.optim.Adam(model.parameters(), lr=0.01)
    model(ng.tensor(np.ones((3, 2), np.float32))).sum().backward()
    opt.step()
    path = ng.io.save(model, tmp_path / "m.safetensors", optimizer=opt)

    def change(h):
        meta = json.loads(h["__metadata__"]["nablagrad"])
        meta["training"] = flags
        h["__metadata__"]["nablagrad"] = json.dumps(meta)

    _rewrite(path, change)
    other = ng.optim.Adam(nn.Linear(2, 2).parameters(), lr=0.5)
    with pytest.raises(ng.io.ModelFileError, match=match):
        ng.io.load(path, optimizer=other)
    assert other.state_dict()["state"] == {} and other.param_groups[0]["lr"] == 0.5


# --- BatchNorm1d, LayerNorm, Sequential(OrderedDict) rebuilt ----------------------------------------------------
@pytest.mark.parametrize("kw", [{}, {"momentum": None, "eps": 1e-3}, {"affine": False}, {"bias": False},
                                {"track_running_stats": False}])  # fmt: skip
def test_batchnorm_is_rebuilt_without_model_and_trains_on_as_torch(tmp_path, kw):
    ours = nn.Sequential(nn.Linear(3, 4, seed=0, dtype="float64"), nn.BatchNorm1d(4, dtype="float64", **kw))
    theirs = tnn.Sequential(tnn.Linear(3, 4), tnn.BatchNorm1d(4, **kw)).double()
    with torch.no_grad():
        theirs[0].weight.copy_(torch.tensor(_np(ours[0].weight).T))
        theirs[0].bias.copy_(torch.tensor(_np(ours[0].bias)))
    for i in range(3):
        ours(ng.tensor(_x((6, 3), i, np.float64))), theirs(torch.tensor(_x((6, 3), i, np.float64)))
    loaded = ng.io.load(ng.io.save(ours, tmp_path / "bn.safetensors"))
    assert type(loaded[1]) is nn.BatchNorm1d and repr(loaded[1]) == repr(theirs[1])
    assert list(loaded.state_dict()) == list(theirs.state_dict())
    for k, v in loaded.state_dict().items():
        t = _np(theirs.state_dict()[k])
        assert v.dtype == t.dtype, k
        np.testing.assert_allclose(v, t.T if v.ndim == 2 else t, rtol=1e-12, err_msg=k)
    x = _x((6, 3), 7, np.float64)
    np.testing.assert_allclose(_np(loaded(ng.tensor(x))), _np(theirs(torch.tensor(x))), rtol=1e-10)  # one more update
    for k, v in loaded[1].state_dict().items():
        np.testing.assert_allclose(v, _np(theirs[1].state_dict()[k]), rtol=1e-12, err_msg=k)


@pytest.mark.parametrize("kw", [{"normalized_shape": 4}, {"normalized_shape": (2, 4), "eps": 1e-3},
                                {"normalized_shape": 4, "elementwise_affine": False},
                                {"normalized_shape": 4, "bias": False}])  # fmt: skip
def test_layernorm_is_rebuilt_without_model(tmp_path, kw):
    ours, theirs = nn.LayerNorm(**kw), tnn.LayerNorm(**kw)
    rng = np.random.default_rng(1)
    with ng.no_grad():
        for p, tp in zip(ours.parameters(), theirs.parameters()):
            v = rng.standard_normal(p.shape).astype(np.float32)
            p.copy_(v), tp.data.copy_(torch.tensor(v))
    loaded = ng.io.load(ng.io.save(nn.Sequential(ours), tmp_path / "ln.safetensors"))[0]
    assert type(loaded) is nn.LayerNorm and repr(loaded) == repr(theirs)
    x = _x((3, 2, 4), 2)
    np.testing.assert_allclose(_np(loaded(ng.tensor(x))), _np(theirs(torch.tensor(x))), rtol=1e-5, atol=1e-6)


def test_a_sequential_of_an_ordered_dict_is_rebuilt_with_its_names(tmp_path):
    model = nn.Sequential(OrderedDict([("fc", nn.Linear(3, 4, seed=0)), ("act", nn.PReLU(4)),
                                       ("block", nn.Sequential(nn.LayerNorm(4), nn.Linear(4, 1, seed=1)))]))  # fmt: skip
    theirs = tnn.Sequential(OrderedDict([("fc", tnn.Linear(3, 4)), ("act", tnn.PReLU(4)),
                                         ("block", tnn.Sequential(tnn.LayerNorm(4), tnn.Linear(4, 1)))]))  # fmt: skip
    loaded = ng.io.load(ng.io.save(model, tmp_path / "m.safetensors"))
    assert list(loaded.state_dict()) == list(model.state_dict()) == list(theirs.state_dict())
    assert [k for k, _ in loaded.named_modules()] == [k for k, _ in theirs.named_modules()]
    x = ng.tensor(_x((5, 3)))
    np.testing.assert_array_equal(_np(loaded(x)), _np(model(x)))


def test_a_bad_sequential_names_entry_is_refused(tmp_path):
    path = ng.io.save(nn.Sequential(OrderedDict([("a", nn.Linear(2, 2)), ("b", nn.ReLU())])), tmp_path / "m.safetensors")
    for names, match in ((["a"], "names must list 2 distinct"), (["a", "a"], "names must list 2 distinct"),
                         (["a", "forward"], "already has an attribute 'forward'")):  # fmt: skip
        def change(h, names=names):
            meta = json.loads(h["__metadata__"]["nablagrad"])
            meta["architecture"]["names"] = names
            h["__metadata__"]["nablagrad"] = json.dumps(meta)

        _rewrite(path, change)
        with pytest.raises(ng.io.ModelFileError, match=match):
            ng.io.load(path)


# --- memory -------------------------------------------------------------------------------------------------------------
def test_rebuilding_a_model_takes_about_the_file_size(tmp_path):
    """No random draw before the file's values are copied in: the peak stays under 1.5× the parameters' bytes."""
    model = nn.MLP([1000, 1500, 10], seed=0)
    path = ng.io.save(model, tmp_path / "big.safetensors")
    nbytes = sum(p.data.nbytes for p in model.parameters())
    tracemalloc.start()
    try:
        loaded = ng.io.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1.5 * nbytes, f"peak {peak / 1e6:.1f} MB for {nbytes / 1e6:.1f} MB of parameters"
    x = ng.tensor(_x((2, 1000)))
    np.testing.assert_array_equal(_np(loaded(x)), _np(model(x)))


# --- dtypes ---------------------------------------------------------------------------------------------------------------
def _retype(name: str, code: str):
    def change(h):
        h[name]["dtype"] = code

    return change


def test_a_tensor_whose_dtype_is_not_the_models_is_refused(tmp_path):
    path = ng.io.save(nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2)), tmp_path / "m.safetensors")
    _rewrite(path, _retype("model.0.weight", "I32"))  # the same bytes read as integers
    with pytest.raises(ng.io.ModelFileError, match=r"tensor 'model\.0\.weight' holds int32, expected float32"):
        ng.io.load(path)
    target = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    before = target.state_dict()
    with pytest.raises(ng.io.ModelFileError, match=r"tensor 'model\.0\.weight' holds int32, expected float32"):
        ng.io.load(path, model=target)
    for k, v in target.state_dict().items():
        np.testing.assert_array_equal(v, before[k])
    path2 = ng.io.save(nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2)), tmp_path / "m2.safetensors")
    _rewrite(path2, _retype("model.1.num_batches_tracked", "F64"))
    with pytest.raises(ng.io.ModelFileError, match=r"'model\.1\.num_batches_tracked' holds float64, expected int64"):
        ng.io.load(path2)


def test_float_weights_of_another_precision_load_into_a_given_model_as_load_state_dict(tmp_path):
    src = nn.Linear(3, 2, dtype="float64", seed=0)
    path = ng.io.save(src, tmp_path / "m.safetensors")
    target = nn.Linear(3, 2, dtype="float32", seed=1)
    ng.io.load(path, model=target)
    tt = tnn.Linear(3, 2)
    tt.load_state_dict({k: torch.tensor(v.numpy().T if v.ndim == 2 else v.numpy()) for k, v in src.state_dict().items()})
    assert target.weight.dtype == np.float32
    np.testing.assert_array_equal(_np(target.weight), _np(tt.weight).T)


# --- PReLU's old name ----------------------------------------------------------------------------------------------------
def test_a_file_with_prelus_old_alpha_name_still_loads(tmp_path):
    model = nn.Sequential(nn.Linear(3, 2, seed=0), nn.PReLU(2, init=0.1))
    with ng.no_grad():
        model[1].weight.copy_(np.array([0.3, -0.4], np.float32))
    path = ng.io.save(model, tmp_path / "old.safetensors")
    _rewrite(path, lambda h: h.__setitem__("model.1.alpha", h.pop("model.1.weight")))  # as written before the rename
    x = ng.tensor(_x((4, 3)) - 1.0)
    for loaded in (ng.io.load(path), ng.io.load(path, model=nn.Sequential(nn.Linear(3, 2), nn.PReLU(2)))):
        np.testing.assert_array_equal(_np(loaded[1].weight), np.array([0.3, -0.4], np.float32))
        np.testing.assert_array_equal(_np(loaded(x)), _np(model(x)))
