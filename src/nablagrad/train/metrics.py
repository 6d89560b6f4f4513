"""Metrics used during training (NumPy in, float out)."""

from __future__ import annotations

import numpy as np


def predicted_labels(out: np.ndarray, threshold: float = 0.5, signed: bool = False) -> np.ndarray:
    """Class decisions: argmax for several outputs, a threshold (or the sign) for one."""
    out = np.asarray(out)
    if out.ndim == 2 and out.shape[1] > 1:
        return out.argmax(axis=1)
    out = out.reshape(-1)
    if signed:
        return np.where(out >= threshold, 1, -1)
    return (out >= threshold).astype(np.int64)


def true_labels(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return y.argmax(axis=1)
    return y.reshape(-1)


def accuracy(out, y, threshold: float = 0.5) -> float:
    yt = true_labels(y)
    signed = bool(np.any(yt < 0))
    return float(np.mean(predicted_labels(out, threshold, signed) == yt))


def mse(out, y, threshold=None) -> float:
    d = np.asarray(out, dtype=np.float64).reshape(len(out), -1) - np.asarray(y, dtype=np.float64).reshape(len(out), -1)
    return float(np.mean(d * d))


def mae(out, y, threshold=None) -> float:
    d = np.asarray(out, dtype=np.float64).reshape(len(out), -1) - np.asarray(y, dtype=np.float64).reshape(len(out), -1)
    return float(np.mean(np.abs(d)))


TRAINING_METRICS = {"accuracy": accuracy, "acc": accuracy, "mse": mse, "mae": mae}
