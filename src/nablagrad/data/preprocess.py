"""Preprocessing helpers: standardisation and one-hot encoding."""

from __future__ import annotations

import numpy as np


class Standardizer:
    """``z = (x − μ) / σ`` with μ, σ from the training data (σ = 1 for constant columns)."""

    def fit(self, X) -> Standardizer:
        X = np.asarray(X, dtype=np.float64)
        self.mean_ = X.mean(axis=0)
        std = X.std(axis=0)
        self.scale_ = np.where(std == 0, 1.0, std)
        return self

    def transform(self, X) -> np.ndarray:
        X = np.asarray(X)
        dt = X.dtype if X.dtype.kind == "f" else np.float64
        return ((X - self.mean_) / self.scale_).astype(dt)

    def fit_transform(self, X) -> np.ndarray:
        return self.fit(X).transform(X)

    def inverse_transform(self, Z) -> np.ndarray:
        return np.asarray(Z) * self.scale_ + self.mean_


def standardize(X_train, *others):
    """Standardise ``X_train`` and any further arrays with the training statistics."""
    s = Standardizer().fit(X_train)
    out = [s.transform(X_train), *(s.transform(o) for o in others)]
    return out[0] if not others else tuple(out)


def one_hot(labels, num_classes: int | None = None, dtype=np.float32) -> np.ndarray:
    """Integer labels (N,) → one-hot matrix (N, C)."""
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"one_hot: labels must be integers, got {labels.dtype}")
    c = int(labels.max()) + 1 if num_classes is None else num_classes
    if labels.size and (labels.min() < 0 or labels.max() >= c):
        raise ValueError(f"one_hot: labels must lie in [0, {c - 1}]")
    out = np.zeros((labels.size, c), dtype=dtype)
    out[np.arange(labels.size), labels.reshape(-1)] = 1
    return out
