"""``sampling='balanced'`` needs class labels: ``fit`` and ``DataLoader`` refuse continuous (regression) targets
before anything changes, naming the value, its row and the fix, and keep accepting every form of class labels
(integer ids, BCE's 0./1. float column, one-hot rows), whose batches hold the classes in equal shares."""

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.data import DataLoader, batch_indices

rng = np.random.default_rng(0)
X = rng.standard_normal((60, 2)).astype(np.float32)
CLASSES = np.arange(60) % 3  # 3 classes, 20 each


def _model_and_opt(out: int):
    m = ng.nn.MLP([2, 4, out], seed=0)
    return m, ng.optim.SGD(m.parameters(), lr=0.1)


@pytest.mark.parametrize("y", [X[:, :1] * 3.0, (X[:, 0] * 3.0).astype(np.float64), rng.standard_normal((60, 2)) * 5],
                         ids=["column", "vector", "two outputs"])  # fmt: skip
def test_fit_refuses_continuous_targets_for_balanced_sampling_and_changes_nothing(y):
    m, opt = _model_and_opt(y.shape[1] if y.ndim == 2 else 1)
    before = [p.numpy().copy() for p in m.parameters()]
    row = int(np.argwhere((y != np.round(y)) if y.ndim == 1 or y.shape[1] == 1 else ~((y >= 0) & (y <= 1)))[0][0])
    with pytest.raises(ValueError, match=rf"fit: sampling='balanced' .* continuous values \(.* at row {row}\).*"
                                         r"use sampling='shuffle'"):  # fmt: skip
        ng.train.fit(m, "mse", opt, X, y.astype(np.float32), epochs=1, sampling="balanced")
    for p, b in zip(m.parameters(), before):
        np.testing.assert_array_equal(p.numpy(), b)
    assert opt.state == {}
    with pytest.raises(ValueError, match="DataLoader: sampling='balanced' .* continuous values"):
        DataLoader(X, y, sampling="balanced")
    ng.train.fit(m, "mse", opt, X, y.astype(np.float32), epochs=1, sampling="shuffle")  # the fix named works


def _shares(labels: np.ndarray, batches) -> None:
    """Each batch holds every class ⌊b/k⌋ or ⌈b/k⌉ times (counted here with np.bincount)."""
    for idx in batches:
        counts = np.bincount(labels[idx], minlength=3)
        assert counts.max() - counts.min() <= 1, counts


@pytest.mark.parametrize(
    "y",
    [CLASSES, CLASSES.astype(np.float32).reshape(-1, 1), np.eye(3, dtype=np.float32)[CLASSES]],
    ids=["int ids", "float column of ids", "one-hot rows"],
)
def test_class_labels_of_every_form_are_balanced(y):
    _shares(CLASSES, batch_indices(60, 9, "balanced", np.random.default_rng(1), labels=y))
    loader = DataLoader(X, y, batch_size=9, sampling="balanced", seed=2)
    _shares(CLASSES, [np.flatnonzero((X[:, None, :] == xb[None]).all(-1).any(1)) for xb, _ in loader])


def test_fit_trains_balanced_on_bce_float_labels():
    y = (CLASSES == 0).astype(np.float32).reshape(-1, 1)
    m, opt = _model_and_opt(1)
    h = ng.train.fit(m, "bce_with_logits", opt, X, y, epochs=2, batch_size=10, sampling="balanced", seed=0)
    assert len(h["loss"]) == 2 and np.isfinite(h["loss"]).all()
