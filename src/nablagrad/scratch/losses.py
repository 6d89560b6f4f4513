"""Losses with a hand-written gradient with respect to the network's output (lectures 000, 004)."""

from __future__ import annotations

import numbers

import numpy as np


class Loss:
    """``forward(outputs, targets) -> float`` (a mean over the batch) and ``backward() -> dL/da``."""

    def forward(self, outputs: np.ndarray, targets: np.ndarray) -> float:
        raise NotImplementedError

    def backward(self) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, outputs, targets) -> float:
        return self.forward(outputs, targets)

    def _saved(self, name: str) -> np.ndarray:
        kept = getattr(self, name, None)
        if kept is None:
            raise RuntimeError(f"{type(self).__name__}.backward: call forward(outputs, targets) first")
        return kept


def _pair(outputs, targets, who: str) -> tuple[np.ndarray, np.ndarray]:
    a, y = np.asarray(outputs, dtype=np.float64), np.asarray(targets, dtype=np.float64)
    if a.shape != y.shape:
        raise ValueError(f"{who}: outputs have shape {a.shape} but targets {y.shape}"
                         + ("; one-hot encode class labels, e.g. np.eye(classes)[labels]" if y.ndim == a.ndim - 1 else ""))
    if a.ndim == 0 or len(a) == 0:
        raise ValueError(f"{who}: needs a batch of at least one example, got outputs of shape {a.shape}")
    return a, y


class MSE(Loss):
    """``L = scale · (1/N) Σ_n ‖a_n − y_n‖²``, ``dL/da = 2·scale·(a − y)/N``.

    ``scale=1`` is lecture 004's ``C = (a − y)²`` (``∂C/∂a = 2(a − y)``); ``scale=0.5`` is lecture
    003's ``½‖a − y‖²`` whose gradient is ``a − y``.
    """

    def __init__(self, scale: float = 1.0):
        self.scale = scale

    def forward(self, outputs, targets):
        self.a, self.y = _pair(outputs, targets, "MSE")
        return float(self.scale * ((self.a - self.y) ** 2).sum() / len(self.a))

    def backward(self):
        a = self._saved("a")
        return 2.0 * self.scale * (a - self.y) / len(a)


class CrossEntropy(Loss):
    """``L = −(1/N) Σ_n Σ_j y_nj ln o_nj`` on probabilities ``o`` (after ``Softmax``), with the
    lecture-000 gradient ``dL/do_j = −y_j / o_j`` (divided by N), ``o`` clamped at ``eps`` so that
    neither is ever infinite.  Through ``Softmax.backward`` it becomes ``(o − y)/N``."""

    def __init__(self, eps: float = 1e-12):
        if isinstance(eps, bool) or not (isinstance(eps, numbers.Real) and 0 < eps < 1):
            raise ValueError(f"CrossEntropy: eps (the smallest probability) must lie in (0, 1), e.g. 1e-12, got {eps!r}")
        self.eps = eps

    def forward(self, outputs, targets):
        self.o, self.y = _pair(outputs, targets, "CrossEntropy")
        return float(-(self.y * np.log(np.maximum(self.o, self.eps))).sum() / len(self.o))

    def backward(self):
        o = self._saved("o")
        return -self.y / np.maximum(o, self.eps) / len(o)
