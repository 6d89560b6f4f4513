"""Review of session 21's nn/optim changes, against torch 2.13: a bad ``reduction`` beside ``weight=`` of the
regression losses is refused naming the loss (both libraries refuse it), and ReduceLROnPlateau's scalar ``min_lr``
given as a one-element tensor is kept as its number (its ``state_dict`` stays plain, JSON-writable; a group added
later gets the same floor as torch's)."""

import json
import warnings

import numpy as np
import pytest

import nablagrad as ng
from nablagrad import optim

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.numpy_only("checks of arguments and of a schedule's numbers: one oracle run")


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_a_bad_reduction_beside_weight_is_refused_naming_the_loss(name):
    x = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
    with pytest.raises(ValueError):
        getattr(torch.nn.functional, name)(torch.tensor(x), torch.tensor(x * 0.5), reduction="avg",
                                           weight=torch.ones(2, 3, dtype=torch.float64))  # fmt: skip
    with pytest.raises(ValueError, match=rf"^{name}: reduction must be one of"):
        getattr(ng.nn.functional, name)(ng.tensor(x), x * 0.5, reduction="avg", weight=np.ones((2, 3)))


def test_plateau_scalar_min_lr_as_a_tensor_is_its_number_for_added_groups_and_the_state():
    ours = optim.SGD([ng.tensor(np.ones(2), requires_grad=True)], lr=0.1)
    theirs = torch.optim.SGD([torch.ones(2, requires_grad=True)], lr=0.1)
    s = optim.lr_scheduler.ReduceLROnPlateau(ours, patience=0, factor=0.5, min_lr=ng.tensor(0.02, dtype="float64"))
    ts = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs, patience=0, factor=0.5, min_lr=0.02)
    ours.add_param_group({"params": [ng.tensor(np.ones(2), requires_grad=True)], "lr": 0.04})
    theirs.add_param_group({"params": [torch.ones(2, requires_grad=True)], "lr": 0.04})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's "lr_scheduler.step() before optimizer.step()"
        for m in [1.0, 1.0, 1.0, 1.0]:
            s.step(m)
            ts.step(m)
    assert [g["lr"] for g in ours.param_groups] == pytest.approx([g["lr"] for g in theirs.param_groups], rel=1e-12)
    assert s.min_lrs == pytest.approx(ts.min_lrs, rel=1e-12)
    saved = json.loads(json.dumps(s.state_dict()))  # plain numbers only
    assert saved["default_min_lr"] == pytest.approx(ts.state_dict()["default_min_lr"], rel=1e-12)
