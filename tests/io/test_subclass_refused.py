"""A user's subclass of a described layer (its own ``forward``) is not described as its base class.

Before the fix a ``Sequential`` or ``Linear`` subclass was saved as the plain base and ``io.load``
rebuilt a model computing something else.  Now ``to_spec`` refuses it (``ArchitectureError`` naming
the class and the fix), so ``io.save`` writes the weights with no architecture: ``io.load(path)``
refuses the file, and ``io.load(path, model=TheClass(...))`` gives back the same function.
The same holds for tied weights, which a rebuilt model would untie.
"""

from __future__ import annotations

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.io import ArchitectureError, ModelFileError


class Doubling(ng.nn.Sequential):
    def forward(self, x):
        return 2 * super().forward(x)


class Shifted(ng.nn.Linear):
    def forward(self, x):
        return super().forward(x) + 1.0


class MyReLU(ng.nn.ReLU):
    pass


def _x():
    return np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)


MODELS = {
    "Sequential subclass": lambda: Doubling(ng.nn.Linear(3, 2, seed=0), ng.nn.Tanh()),
    "Linear subclass": lambda: Shifted(3, 2, seed=0),
    "nested Linear subclass": lambda: ng.nn.Sequential(Shifted(3, 4, seed=0), ng.nn.ReLU(), ng.nn.Linear(4, 2, seed=1)),
}


@pytest.mark.parametrize("make", MODELS.values(), ids=MODELS.keys())
def test_to_spec_refuses_a_user_subclass_naming_it_and_the_fix(make):
    model = make()
    cls = next(type(m) for m in model.modules() if type(m) in (Doubling, Shifted))
    base = "Sequential" if cls is Doubling else "Linear"
    with pytest.raises(ArchitectureError, match=rf"cannot describe {cls.__name__} as JSON: it subclasses {base}.*"
                                                rf"model={cls.__name__}\(\.\.\.\).*state_dict\(\)"):  # fmt: skip
        ng.io.to_spec(model)


@pytest.mark.parametrize("make", MODELS.values(), ids=MODELS.keys())
def test_a_saved_subclass_is_never_rebuilt_as_its_base(make, tmp_path):
    model, path = make(), tmp_path / "model.safetensors"
    ng.io.save(model, path)
    assert ng.io.read_metadata(path)["architecture"] is None  # no description to rebuild a wrong model from
    with pytest.raises(ModelFileError, match="has no JSON architecture; pass model="):
        ng.io.load(path)
    fresh = make()
    with ng.no_grad():
        for p in fresh.parameters():
            p.copy_(np.zeros(p.shape, p.dtype))
    loaded = ng.io.load(path, model=fresh)
    np.testing.assert_array_equal(loaded(_x()).numpy(), model(_x()).numpy())


def test_a_subclass_of_a_parameter_free_layer_is_refused_too():
    with pytest.raises(ArchitectureError, match="MyReLU.*subclasses ReLU"):
        ng.io.to_spec(ng.nn.Sequential(ng.nn.Linear(3, 2), MyReLU()))


def test_nablagrads_own_subclasses_are_still_described(tmp_path):
    """MLP and KAN compute what the Sequential of their layers computes: saved and rebuilt as before."""
    for model in (ng.nn.MLP([3, 4, 2], activation="tanh", seed=0), ng.nn.KAN([3, 2], seed=0),
                  ng.nn.Sequential(ng.nn.Linear(3, 2, seed=0), ng.nn.Softmax(dim=-1))):  # fmt: skip
        path = tmp_path / f"{type(model).__name__}.safetensors"
        ng.io.save(model, path)
        np.testing.assert_allclose(ng.io.load(path)(_x()).numpy(), model(_x()).numpy(), rtol=1e-6)


def test_tied_weights_are_not_described_but_a_shared_relu_is():
    shared = ng.nn.Linear(2, 2, seed=0)
    with pytest.raises(ArchitectureError, match="one module or parameter in two places"):
        ng.io.to_spec(ng.nn.Sequential(shared, ng.nn.Tanh(), shared))
    act = ng.nn.ReLU()
    spec = ng.io.to_spec(ng.nn.Sequential(ng.nn.Linear(2, 2), act, ng.nn.Linear(2, 2), act))
    assert [s["type"] for s in spec["layers"]] == ["Linear", "ReLU", "Linear", "ReLU"]


def test_a_kan_grown_by_a_relu_is_described_layer_by_layer():
    """A KAN whose layers no longer form ``KAN(sizes)`` (here: a ReLU appended) is the Sequential it runs."""
    kan = ng.nn.KAN([3, 2], seed=0).append(ng.nn.ReLU())
    spec = ng.io.to_spec(kan)
    assert spec["type"] == "Sequential" and [s["type"] for s in spec["layers"]] == ["KANLinear", "ReLU"]
    rebuilt = ng.io.from_spec(spec)
    rebuilt.load_state_dict(kan.state_dict())
    np.testing.assert_allclose(rebuilt(_x()).numpy(), kan(_x()).numpy(), rtol=1e-6)
