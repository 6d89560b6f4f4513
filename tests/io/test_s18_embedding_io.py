"""An Embedding (alone, or in a Sequential before Flatten and Linear) saves and loads through ng.io with its
options, and a hostile description of one is refused with ModelFileError before any table is allocated.
Oracles: the saved model's own outputs and gradients (a round trip), the file's declared shapes."""

from __future__ import annotations

import numpy as np
import pytest
from test_s16_leftovers_architecture import _edit_architecture  # the file-editing helper of the io tests

import nablagrad as ng

nn = ng.nn


@pytest.mark.parametrize("kw", [{}, {"padding_idx": 2}, {"padding_idx": -1, "max_norm": 3.0, "norm_type": 1.0},
                                {"scale_grad_by_freq": True, "sparse": True}])  # fmt: skip
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_an_embedding_model_round_trips_with_its_options(tmp_path, kw, dtype):
    model = nn.Sequential(nn.Embedding(10, 4, seed=0, **kw), nn.Flatten(), nn.Linear(8, 2, seed=1)).to(dtype=dtype)
    path = tmp_path / "emb.safetensors"
    ng.io.save(model, path)
    back = ng.io.load(path)
    e, b = model[0], back[0]
    assert type(b) is nn.Embedding and repr(b) == repr(e) and b.weight.dtype == np.dtype(dtype)
    idx = np.array([[1, 2], [9, 2], [3, 3]])
    for m in (model, back):
        m(idx).sum().backward()
    np.testing.assert_array_equal(back(idx).numpy(), model(idx).numpy())
    np.testing.assert_array_equal(b.weight.grad.numpy(), e.weight.grad.numpy())  # padding row and scaling kept


@pytest.mark.parametrize("change", [
    lambda a: a["layers"][0].update(padding_idx=10),
    lambda a: a["layers"][0].update(padding_idx="0"),
    lambda a: a["layers"][0].update(max_norm=-1.0),
    lambda a: a["layers"][0].update(embedding_dim=2**40),
    lambda a: a["layers"][0].update(sparse="yes"),
    lambda a: a["layers"][0].update(init="normal"),
], ids=["padding row out of range", "padding_idx a string", "negative max_norm", "huge table", "flag not a bool",
        "unknown key"])  # fmt: skip
def test_a_hostile_embedding_description_is_refused(tmp_path, change):
    path = tmp_path / "emb.safetensors"
    ng.io.save(nn.Sequential(nn.Embedding(10, 4, padding_idx=1), nn.Flatten()), path)
    _edit_architecture(path, change)
    with pytest.raises(ng.io.ModelFileError):
        ng.io.load(path)
