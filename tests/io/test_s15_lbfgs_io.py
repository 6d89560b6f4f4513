"""``ng.io.save``/``load`` round-trip an L-BFGS optimiser, whose memory holds lists of arrays (torch's
layout: old_dirs, old_stps, ro, al): 10 steps, save, load into a fresh model and optimiser, 10 more steps
equal 20 uninterrupted steps bit for bit, and torch.optim.LBFGS's 20 steps from the same start; the lists are
one array each in the file with their lengths (and None positions) in the metadata; a corrupted list is
refused with nothing changed; ``LBFGS.to(device)`` moves the lists too.  It used to fail with "metadata must
be JSON-serialisable"."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.io import ModelFileError

torch = pytest.importorskip("torch")

R = np.random.default_rng(15)
X = R.standard_normal((30, 4))
Y = R.standard_normal((30, 2))
W0, B0 = 0.3 * R.standard_normal((4, 2)), 0.1 * R.standard_normal(2)
OPTIONS = [dict(max_iter=4, history_size=3), dict(max_iter=4, history_size=3, line_search_fn="strong_wolfe")]
IDS = ["fixed", "wolfe"]


def _setup(dtype, kw):
    """A Linear model at (W0, B0), its L-BFGS and the closure of mean (tanh(X W + b) − Y)²."""
    model = ng.nn.Linear(4, 2, dtype=dtype)
    model.load_state_dict({"weight": W0.astype(dtype), "bias": B0.astype(dtype)})
    opt = ng.optim.LBFGS(model.parameters(), **kw)
    x, y = ng.tensor(X.astype(dtype)), ng.tensor(Y.astype(dtype))

    def closure():
        opt.zero_grad()
        loss = ((ng.tanh(model(x)) - y) ** 2).mean()
        loss.backward()
        return loss

    return model, opt, closure


def _torch_run(kw, steps):
    w, b = torch.tensor(W0, requires_grad=True), torch.tensor(B0, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], **kw)
    x, y = torch.tensor(X), torch.tensor(Y)

    def closure():
        opt.zero_grad()
        loss = ((torch.tanh(x @ w + b) - y) ** 2).mean()
        loss.backward()
        return loss

    for _ in range(steps):
        opt.step(closure)
    return w.detach().numpy(), b.detach().numpy(), opt.state[w]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kw", OPTIONS, ids=IDS)
def test_a_run_resumed_from_a_file_equals_the_uninterrupted_run(tmp_path, kw, dtype):
    model, opt, closure = _setup(dtype, kw)
    for _ in range(10):
        opt.step(closure)
    path = ng.io.save(model, tmp_path / "lbfgs.safetensors", optimizer=opt)
    model2, opt2, closure2 = _setup(dtype, kw)  # a fresh run, at the start point, then the file loaded into it
    ng.io.load(path, model=model2, optimizer=opt2)
    for _ in range(10):
        opt2.step(closure2)
    for _ in range(10):
        opt.step(closure)
    np.testing.assert_array_equal(model2.weight.numpy(), model.weight.numpy())
    np.testing.assert_array_equal(model2.bias.numpy(), model.bias.numpy())
    s1, s2 = opt.state_dict()["state"][0], opt2.state_dict()["state"][0]
    assert s1["n_iter"] == s2["n_iter"] and s1["func_evals"] == s2["func_evals"]
    if dtype == "float64":  # the resumed run is torch's uninterrupted one
        w, b, tstate = _torch_run(kw, 20)
        np.testing.assert_allclose(model2.weight.numpy(), w, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(model2.bias.numpy(), b, rtol=1e-10, atol=1e-12)
        assert s2["n_iter"] == tstate["n_iter"] and s2["func_evals"] == tstate["func_evals"]
        assert len(s2["old_dirs"]) == len(tstate["old_dirs"])


def test_the_state_dict_survives_the_file_with_its_lists_and_nones(tmp_path):
    kw = dict(max_iter=3, history_size=3)  # one step, whose second iteration has one pair in a memory of three
    model, opt, closure = _setup("float64", kw)
    opt.step(closure)
    before = opt.state_dict()["state"][0]
    assert any(a is None for a in before["al"])  # al is made history_size long, filled as pairs arrive
    path = ng.io.save(model, tmp_path / "m.safetensors", optimizer=opt)
    info = ng.io.read_metadata(path)["optimizer"]
    assert info["lists"]["0.al"] == {"length": len(before["al"]), "none": [j for j, a in enumerate(before["al"]) if a is None]}
    assert info["lists"]["0.old_dirs"]["length"] == len(before["old_dirs"])
    model2, opt2, _ = _setup("float64", kw)
    ng.io.load(path, model=model2, optimizer=opt2)
    after = opt2.state_dict()["state"][0]
    assert set(after) == set(before)
    for k, v in before.items():
        if isinstance(v, list):
            assert len(after[k]) == len(v)
            for a, b in zip(after[k], v):
                assert (a is None) == (b is None)
                if b is not None:
                    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
        else:
            np.testing.assert_array_equal(np.asarray(after[k]), np.asarray(v))


def _rewrite_lists(raw: bytes, change) -> bytes:
    """The file's bytes with ``change(lists)`` applied to the optimiser's list metadata (data unchanged)."""
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    info = json.loads(header["__metadata__"]["nablagrad"])
    change(info["optimizer"]["lists"])
    header["__metadata__"]["nablagrad"] = json.dumps(info)
    head = json.dumps(header).encode()
    return struct.pack("<Q", len(head)) + head + raw[8 + n :]


@pytest.mark.parametrize(
    "change",
    [
        lambda lists: lists["0.old_dirs"].update(length=lists["0.old_dirs"]["length"] + 1),
        lambda lists: lists["0.al"].update(none=[99]),
        lambda lists: lists["0.ro"].pop("none"),
        lambda lists: lists.pop("0.old_stps"),  # its array is then an unexpected buffer
    ],
    ids=["length", "none_out_of_range", "no_none", "missing"],
)
def test_a_corrupted_list_is_refused_with_nothing_changed(tmp_path, change):
    model, opt, closure = _setup("float64", OPTIONS[0])
    for _ in range(2):
        opt.step(closure)
    path = tmp_path / "bad.safetensors"
    path.write_bytes(_rewrite_lists(ng.io.serialize(model, opt), change))
    model2, opt2, closure2 = _setup("float64", OPTIONS[0])
    opt2.step(closure2)
    weight, state = model2.weight.numpy().copy(), opt2.state_dict()
    with pytest.raises(ModelFileError):
        ng.io.load(path, model=model2, optimizer=opt2)
    np.testing.assert_array_equal(model2.weight.numpy(), weight)
    assert opt2.state_dict()["state"][0]["n_iter"] == state["state"][0]["n_iter"]
    for a, b in zip(opt2.state_dict()["state"][0]["old_dirs"], state["state"][0]["old_dirs"]):
        np.testing.assert_array_equal(a, b)


def test_to_moves_the_lists_of_the_memory(namespace_device):
    device = namespace_device("array_api_strict")
    model, opt, closure = _setup("float64", OPTIONS[0])
    ref_model, ref_opt, ref_closure = _setup("float64", OPTIONS[0])
    for _ in range(3):
        opt.step(closure)
        ref_opt.step(ref_closure)
    model.to(device)
    opt.to(device)
    state = opt.state[id(model.weight)]
    for k in ("old_dirs", "old_stps", "ro", "al", "d", "prev_flat_grad"):
        for a in state[k] if isinstance(state[k], list) else [state[k]]:
            assert a is None or a.device == device, k
    ng.set_default_device(device)
    try:
        x, y = ng.tensor(X), ng.tensor(Y)
    finally:
        ng.set_default_device("cpu")

    def on_device():
        opt.zero_grad()
        loss = ((ng.tanh(model(x)) - y) ** 2).mean()
        loss.backward()
        return loss

    for _ in range(3):
        opt.step(on_device)
        ref_opt.step(ref_closure)
    np.testing.assert_allclose(model.weight.numpy(), ref_model.weight.numpy(), rtol=1e-12, atol=1e-14)
