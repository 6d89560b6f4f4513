"""``Module.state_dict()`` as a PyTorch user reads it: detached Tensors (copies here, documented), every form
of value loading back (ng Tensors, NumPy arrays, torch tensors, also one that requires grad), PyTorch's keywords.

Oracle: torch.nn.BatchNorm1d (its state after the same forward passes, its eval output)."""

from __future__ import annotations

import copy
from collections import OrderedDict

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")

X = np.random.default_rng(0).standard_normal((8, 4))


def _pair():
    """A float64 BatchNorm1d in both libraries after two training passes over X (weights set alike)."""
    ours, theirs = ng.nn.BatchNorm1d(4, dtype="float64"), torch.nn.BatchNorm1d(4, dtype=torch.float64)
    w, b = np.linspace(0.5, 2.0, 4), np.linspace(-1.0, 1.0, 4)
    ours.load_state_dict({**ours.state_dict(), "weight": w, "bias": b})
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(w)), theirs.bias.copy_(torch.tensor(b))
    for _ in range(2):
        ours(ng.tensor(X)), theirs(torch.tensor(X))
    return ours, theirs


def test_entries_are_detached_tensors_with_the_dtype_shape_and_values_of_torchs():
    ours, theirs = _pair()
    sd, tsd = ours.state_dict(), theirs.state_dict()
    assert list(sd) == list(tsd)
    for k, v in sd.items():
        t = tsd[k]
        assert isinstance(v, ng.Tensor) and not v.requires_grad and v.device == ours.weight.device, k
        assert v.shape == tuple(t.shape) and v.dtype == t.numpy().dtype, k  # num_batches_tracked: int64 0-d
        np.testing.assert_allclose(v.numpy(), t.numpy(), rtol=1e-12, err_msg=k)
        np.testing.assert_array_equal(np.asarray(v), torch.tensor(v.numpy()).numpy())
    assert sd["num_batches_tracked"].item() == tsd["num_batches_tracked"].item() == 2
    deep = copy.deepcopy(sd)
    assert all(isinstance(v, ng.Tensor) and np.array_equal(v.numpy(), sd[k].numpy()) for k, v in deep.items())


def test_entries_are_copies_so_a_kept_state_survives_training_and_edits():
    """The documented difference from PyTorch (whose entries share the parameters' memory): a snapshot stays."""
    lin = ng.nn.Linear(3, 2, dtype="float64", seed=0)
    w0 = lin.weight.numpy().copy()
    best = lin.state_dict()
    opt = ng.optim.SGD(lin.parameters(), lr=0.5)
    (lin(ng.tensor(X[:, :3])) ** 2).sum().backward()
    opt.step()
    assert not np.array_equal(lin.weight.numpy(), w0)
    np.testing.assert_array_equal(best["weight"].numpy(), w0)
    best["bias"].numpy()[...] = 7.0  # an edit of the state's memory never reaches the model
    assert not np.any(lin.bias.numpy() == 7.0)
    lin.load_state_dict(best)
    np.testing.assert_array_equal(lin.weight.numpy(), w0)


@pytest.mark.parametrize("form", ["ng", "numpy", "torch", "torch_requires_grad"])
def test_torchs_state_loads_in_every_form_and_gives_torchs_eval_output(form):
    ours, theirs = _pair()
    theirs(torch.tensor(X[::-1].copy()))  # one more pass: the state to load differs from ours
    tsd = theirs.state_dict()
    convert = {
        "ng": lambda t: ng.tensor(t.numpy()),
        "numpy": lambda t: t.numpy(),
        "torch": lambda t: t,
        "torch_requires_grad": lambda t: t.clone().requires_grad_(t.is_floating_point()),
    }[form]
    result = ours.load_state_dict({k: convert(t) for k, t in tsd.items()})
    assert (result.missing_keys, result.unexpected_keys) == ([], [])
    ours.eval(), theirs.eval()
    with torch.no_grad():
        want = theirs(torch.tensor(X)).numpy()
    np.testing.assert_allclose(ours(ng.tensor(X)).numpy(), want, rtol=1e-12, atol=1e-14)
    assert ours.num_batches_tracked.item() == 3 and ours.num_batches_tracked.dtype == np.int64


def test_destination_and_assign_keywords_as_torch():
    ours, theirs = _pair()
    dest, tdest = OrderedDict(first=1), OrderedDict(first=1)
    assert ours.state_dict(destination=dest, prefix="bn.") is dest
    assert theirs.state_dict(destination=tdest, prefix="bn.") is tdest
    assert list(dest) == list(tdest)
    before = {k: v.numpy().copy() for k, v in ours.state_dict().items()}
    zeros = {k: np.zeros_like(v) for k, v in before.items()}
    ours.load_state_dict(zeros, assign=True)  # torch's assign: the state's arrays become the module's
    assert ours.weight.dtype == zeros["weight"].dtype and not np.any(ours.weight.numpy())
    ours, theirs = _pair()
    ours.load_state_dict(zeros, strict=True, assign=False)
    assert not np.any(ours.weight.numpy())
    with pytest.raises(TypeError, match="destination"):
        ours.state_dict(destination=[])
