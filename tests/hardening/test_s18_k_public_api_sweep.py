"""Session 18, job K: a hostile sweep of the public API outside the engine (issue 14: every bad input gets a clear
error naming the function, the bad value and the fix; a failure changes nothing).  Each case below used to give
NumPy's or Python's own message from deep inside ("'>' not supported between 'str' and 'int'", "setting an array
element with a sequence", an ``AttributeError``, ``EOFError``/``BadZipFile``), or was silently accepted where
PyTorch refuses it (``ignore_index="a"``, ``training="no"``, ``linear(activation="bogus")``)."""

import json
import os
import re

import numpy as np
import pytest

import nablagrad as ng
from nablagrad import data as D

F = ng.nn.functional
torch = pytest.importorskip("torch")
TF = torch.nn.functional

X = ng.tensor(np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32))
P = ng.tensor(np.random.default_rng(1).uniform(0.1, 0.9, (4, 3)).astype(np.float32))
LAB = ng.tensor(np.array([0, 1, 2, 1]))
tx, tp, tlab = torch.tensor(X.numpy()), torch.tensor(P.numpy()), torch.tensor(LAB.numpy())


# --- nn.functional: options of the wrong type, refused as PyTorch refuses them -------------------------------------
@pytest.mark.parametrize("ours, theirs, message", [
    (lambda: F.cross_entropy(X, LAB, ignore_index="a"), lambda: TF.cross_entropy(tx, tlab, ignore_index="a"),
     r"cross_entropy: ignore_index must be an integer, got str 'a'"),
    (lambda: F.nll_loss(X, LAB, ignore_index=None), lambda: TF.nll_loss(tx, tlab, ignore_index=None),
     r"nll_loss: ignore_index must be an integer, got NoneType"),
    (lambda: F.cross_entropy(X, LAB, label_smoothing="a"), lambda: TF.cross_entropy(tx, tlab, label_smoothing="a"),
     r"cross_entropy: label_smoothing must be a real number, got str"),
    (lambda: F.dropout(X, 0.5, training="no"), lambda: TF.dropout(tx, 0.5, training="no"),
     r"dropout: training must be True or False, got str 'no'"),
    (lambda: F.kl_div(X, P, log_target=None), lambda: TF.kl_div(tx, tp, log_target=None),
     r"kl_div: log_target must be True or False"),
    (lambda: F.batch_norm(X, ng.tensor(np.zeros(3, np.float32)), ng.tensor(np.ones(3, np.float32)), momentum="a"),
     lambda: TF.batch_norm(tx, torch.zeros(3), torch.ones(3), momentum="a"), r"batch_norm: momentum must be a real"),
    (lambda: F.batch_norm(X, None, None, training="yes"), lambda: TF.batch_norm(tx, None, None, training="yes"),
     r"batch_norm: training must be True or False"),
    (lambda: F.poisson_nll_loss(X, P, full="a"), lambda: TF.poisson_nll_loss(tx, tp, full="a"),
     r"poisson_nll_loss: full must be True or False"),
    (lambda: F.poisson_nll_loss(X, P, eps="a"), lambda: TF.poisson_nll_loss(tx, tp, eps="a"),
     r"poisson_nll_loss: eps must be a finite number"),
    (lambda: F.triplet_margin_loss(X, P, P, swap={}), lambda: TF.triplet_margin_loss(tx, tp, tp, swap={}),
     r"triplet_margin_loss: swap must be True or False"),
    (lambda: F.elu(X, alpha=None), lambda: TF.elu(tx, alpha=None), r"elu: alpha must be a real number, got NoneType"),
    (lambda: F.softplus(X, threshold="a"), lambda: TF.softplus(tx, threshold="a"), r"softplus: threshold must be a real"),
    (lambda: F.huber_loss(X, P, delta=None), lambda: TF.huber_loss(tx, tp, delta=None), r"huber_loss: delta must be a real"),
    (lambda: F.smooth_l1_loss(X, P, beta="a"), lambda: TF.smooth_l1_loss(tx, tp, beta="a"), r"smooth_l1_loss: beta must be"),
    (lambda: F.pad(X, (1, 1), value="a"), lambda: TF.pad(tx, (1, 1), value="a"), r"pad: value must be a real number"),
])  # fmt: skip
def test_functional_options_of_the_wrong_type_are_refused_like_torch(ours, theirs, message):
    with pytest.raises(TypeError):
        theirs()  # the oracle refuses it too
    with pytest.raises(TypeError, match=message):
        ours()


@pytest.mark.parametrize("call, error, message", [
    (lambda: F.mse_loss(X, [[1.0, 2.0], [3.0]]), ValueError, r"mse_loss: the target cannot form an array of shape \(4, 3\)"),
    (lambda: F.cross_entropy(X, [[0, 1], [2]]), ValueError, r"cross_entropy: the target cannot form an array"),
    (lambda: F.nll_loss(X, [[0, 1], [2]]), ValueError, r"nll_loss: the target cannot form an array"),
    (lambda: F.mse_loss(X, P, reduction=np.zeros(3)), ValueError, r"loss: reduction must be one of"),
    (lambda: F.gelu(X, approximate=np.zeros(2)), ValueError, r"gelu: approximate must be 'none' or 'tanh'"),
    (lambda: F.multi_margin_loss(X, LAB, p=np.ones(2)), ValueError, r"multi_margin_loss: only p == 1 and p == 2"),
    (lambda: F.linear(X, X.T.detach(), activation="bogus"), ValueError, r"linear: activation must be one of \("),
    (lambda: F.linear(X, None), TypeError, r"linear: weight must be a tensor .*ng\.tensor"),
    (lambda: F.linear(X, ng.tensor(np.ones((3, 2), np.float32)), bias=[1.0, 2.0]), TypeError, r"linear: bias must be a tensor"),
    (lambda: F.reduce([1.0, 2.0], "sum"), TypeError, r"reduce: loss must be a tensor"),
    (lambda: F.batch_norm(X, [[0.0, 1.0], [2.0]], ng.tensor(np.ones(3, np.float32))), ValueError,
     r"batch_norm: running_mean must be a tensor of shape \(3,\).*ragged"),
    (lambda: ng.nn.Softplus(beta=np.ones(2)), TypeError, r"Softplus: beta must be a real number"),
    (lambda: ng.nn.ELU(alpha="a"), TypeError, r"ELU: alpha must be a real number"),
    (lambda: ng.nn.LeakyReLU(10**400), ValueError, r"LeakyReLU: negative_slope=10* is too large"),
    (lambda: ng.nn.Linear(10**30, 2), ValueError, r"Linear: cannot allocate a parameter of shape \(10{30}, 2\)"),
])  # fmt: skip
def test_bad_values_name_the_function_not_numpy(call, error, message):
    with pytest.raises(error, match=message):
        call()


# --- data: paths, files, generators, batch indices -----------------------------------------------------------------
def _files(tmp_path):
    empty = tmp_path / "empty.npy"
    empty.write_bytes(b"")
    zipish = tmp_path / "zip.npy"
    zipish.write_bytes(b"PK\x03\x04garbage")
    return empty, zipish


@pytest.mark.parametrize("call, error, message", [
    (lambda t: D.load_csv(None), TypeError, r"load_csv: expected a file path .* got NoneType"),
    (lambda t: D.load_idx(3), TypeError, r"load_idx: expected a file path"),
    (lambda t: D.load_npz(None), TypeError, r"load_npz: expected a file path"),
    (lambda t: D.load_shards(None), TypeError, r"load_shards: expected a file path"),
    (lambda t: D.load_shards(_files(t)[0]), NotADirectoryError, r"load_shards: .*empty\.npy is a file; give the folder"),
    (lambda t: D.ChunkedReader([_files(t)[0]]), ValueError, r"ChunkedReader: .*empty\.npy is not a \.npy file"),
    (lambda t: D.ChunkedReader([_files(t)[1]]), ValueError, r"ChunkedReader: .*zip\.npy is not a \.npy file"),
    (lambda t: D.save_shards(t / "s", None), TypeError, r"save_shards: X must be an array of numbers"),
    (lambda t: D.save_shards(t / "s", [[1.0, 2.0], [3.0]]), ValueError, r"save_shards: X cannot form an array"),
    (lambda t: D.save_shards(_files(t)[0], np.ones((3, 2))), NotADirectoryError, r"save_shards: .* is a file"),
    (lambda t: list(D.batch_indices(10, 4, rng="abc")), TypeError, r"batch_indices: seed must be an integer >= 0"),
    (lambda t: list(D.batch_indices(10, "4")), TypeError, r"batch_indices: batch_size must be a positive integer"),
    (lambda t: list(D.batch_indices(10, 2.5)), TypeError, r"batch_indices: batch_size must be a positive integer"),
    (lambda t: D.make_blobs(20, classes=None), TypeError, r"make_blobs: classes must be an integer >= 2"),
    (lambda t: D.make_spiral(20, classes=10**30), ValueError, r"make_spiral: classes must be at least 2 and at most 20"),
    (lambda t: D.make_spiral(20, turns=None), TypeError, r"make_spiral: turns must be a finite number"),
    (lambda t: D.make_moons(20, noise=10**400), TypeError, r"make_moons: noise must be a finite number"),
])  # fmt: skip
def test_data_refusals_name_the_function(tmp_path, call, error, message):
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(error, match=message):
        call(tmp_path)
    assert sorted(p for p in os.listdir(tmp_path) if p not in ("empty.npy", "zip.npy")) == before


@pytest.mark.parametrize("manifest", [[1, 2], {"x": ["../../etc/x.npy"], "rows": [1]}, {"x": [3], "rows": [1]},
                                      {"x": ["x-00000.npy"]}, {"x": ["x-00000.npy"], "rows": ["a"]}])
def test_a_hostile_shard_manifest_is_refused_before_any_file_opens(tmp_path, manifest):
    (tmp_path / "shards.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match=r"load_shards: .*shards\.json is not a shard manifest"):
        D.load_shards(tmp_path)


# --- train, io: refused before anything changes ----------------------------------------------------------------------
def _model():
    return ng.nn.Sequential(ng.nn.Linear(3, 2, seed=0))


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(l2=10**400), TypeError, r"fit: l2 must be a finite number"),
    (dict(clip_grad_norm=10**400), TypeError, r"fit: clip_grad_norm must be a finite number"),
    (dict(sampling=np.zeros(2)), ValueError, r"fit: sampling must be one of"),
    (dict(X="empty"), ValueError, r"fit: .*empty\.npy is not a \.npy file"),
    (dict(X="missing"), FileNotFoundError, r"fit: no such file .*missing\.npy"),
])  # fmt: skip
def test_fit_refuses_before_the_first_batch_and_changes_no_weight(tmp_path, kwargs, error, message):
    (tmp_path / "empty.npy").write_bytes(b"")
    Xs = np.random.default_rng(0).standard_normal((8, 3)).astype(np.float32)
    args = dict(X=Xs, y=(Xs[:, 0] > 0).astype(np.int64), epochs=1, batch_size=4)
    for k, v in kwargs.items():
        args[k] = str(tmp_path / f"{v}.npy") if k == "X" else v
    m = _model()
    before = [p.numpy().copy() for p in m.parameters()]
    with pytest.raises(error, match=message):
        ng.train.fit(m, ng.nn.CrossEntropyLoss(), ng.optim.SGD(m.parameters(), lr=0.1), **args)
    assert all(np.array_equal(a, p.numpy()) for a, p in zip(before, m.parameters(), strict=True))


def test_io_save_of_no_model_and_metadata_of_no_path_are_named(tmp_path):
    with pytest.raises(TypeError, match=re.escape("save: model must be an nn.Module, got NoneType")):
        ng.io.save(None, tmp_path / "m.safetensors")
    assert os.listdir(tmp_path) == []  # nothing written, not even a temporary file
    with pytest.raises(TypeError, match=r"read_metadata: path must be a model file path .* got NoneType"):
        ng.io.read_metadata(None)


@pytest.mark.parametrize(
    ("call", "who"),
    [
        (lambda: ng.data.DataLoader(X=[[1.0, 2.0], [3.0]]), "DataLoader"),
        (lambda: ng.data.standardize([[1.0, 2.0], [3.0]]), "Standardizer.fit"),
        (lambda: ng.data.one_hot([[1], [2, 3]], 4), "one_hot"),
    ],
)
def test_ragged_lists_are_refused_naming_the_function(call, who):
    with pytest.raises(ValueError, match=rf"{who}: .* same length"):
        call()
