"""Loss options PyTorch keeps as buffers (``weight``, ``pos_weight``): in ``state_dict``, cast by ``double()``,
loaded by ``load_state_dict`` and replaced by assigning a tensor — with the loss values torch gives."""

from __future__ import annotations

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.numpy_only("compared with torch on host arrays")

rng = np.random.default_rng(3)
LOGITS, LABELS = rng.standard_normal((6, 3)), np.array([0, 2, 1, 2, 0, 1])
W = np.array([0.5, 2.0, 1.5])

LOSSES = [
    ("CrossEntropyLoss", {"weight": W}, LOGITS, LABELS),
    ("NLLLoss", {"weight": W}, np.log(np.exp(LOGITS) / np.exp(LOGITS).sum(1, keepdims=True)), LABELS),
    ("BCELoss", {"weight": W}, 1 / (1 + np.exp(-LOGITS)), (LOGITS > 0).astype(float)),
    ("BCEWithLogitsLoss", {"weight": W, "pos_weight": np.array([1.0, 3.0, 0.5])}, LOGITS, (LOGITS > 0.3).astype(float)),
]


def _pair(name, options):
    ours = getattr(ng.nn, name)(**{k: ng.tensor(v) for k, v in options.items()})
    theirs = getattr(torch.nn, name)(**{k: torch.tensor(v) for k, v in options.items()})
    return ours, theirs


def _value(loss, lib, pred, target):
    target = target if lib is ng else torch.tensor(target)
    return float(loss(lib.tensor(pred), target).item())


@pytest.mark.parametrize("name, options, pred, target", LOSSES, ids=[c[0] for c in LOSSES])
def test_state_dict_keys_and_values_as_torch(name, options, pred, target):
    ours, theirs = _pair(name, options)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for k, v in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[k], v.numpy())
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert list(ours.parameters()) == []
    assert _value(ours, ng, pred, target) == pytest.approx(_value(theirs, torch, pred, target), rel=1e-12)


@pytest.mark.parametrize("name, options, pred, target", LOSSES, ids=[c[0] for c in LOSSES])
def test_load_state_dict_and_assignment_change_the_loss_as_torch(name, options, pred, target):
    ours, theirs = _pair(name, options)
    new = {k: v[::-1].copy() for k, v in options.items()}
    ours.load_state_dict({k: ng.tensor(v) for k, v in new.items()})
    theirs.load_state_dict({k: torch.tensor(v) for k, v in new.items()})
    assert _value(ours, ng, pred, target) == pytest.approx(_value(theirs, torch, pred, target), rel=1e-12)
    ours.weight, theirs.weight = ng.tensor(W * 3), torch.tensor(W * 3)
    assert _value(ours, ng, pred, target) == pytest.approx(_value(theirs, torch, pred, target), rel=1e-12)


def test_no_weight_means_an_empty_state_and_a_float_cast_reaches_the_buffer():
    assert list(ng.nn.CrossEntropyLoss().state_dict()) == list(torch.nn.CrossEntropyLoss().state_dict()) == []
    loss = ng.nn.CrossEntropyLoss(weight=ng.tensor(W))
    assert torch.nn.CrossEntropyLoss(weight=torch.tensor(W)).float().weight.dtype == torch.float32
    assert loss.float().weight.dtype == np.float32


def test_assigning_an_array_to_the_buffer_is_refused_as_torch():
    loss, theirs = ng.nn.CrossEntropyLoss(weight=ng.tensor(W)), torch.nn.CrossEntropyLoss(weight=torch.tensor(W))
    with pytest.raises(TypeError):
        theirs.weight = W
    with pytest.raises(TypeError, match="buffer"):
        loss.weight = W
    np.testing.assert_array_equal(loss.weight.numpy(), W)  # nothing changed
