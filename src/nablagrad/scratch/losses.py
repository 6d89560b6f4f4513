"""Losses with a hand-written gradient with respect to the network's output (lectures 000, 004)."""

from __future__ import annotations

import numbers

import numpy as np


class Loss:
    """``forward(outputs, targets) -> float`` (a mean over the batch) and ``backward(dL_dZ=1.0) -> dL/da``.

    The layers' interface, ending the chain: the loss's output is the number ``L`` itself, so the
    upstream gradient ``dL_dZ`` is ``∂L/∂L = 1`` unless the loss is scaled from outside
    (``backward(0.5)`` is the gradient of ``0.5·L``)."""

    def forward(self, outputs: np.ndarray, targets: np.ndarray) -> float:
        raise NotImplementedError

    def backward(self, dL_dZ: float = 1.0) -> np.ndarray:
        return _scalar_upstream(dL_dZ, type(self).__name__) * self._gradient()

    def _gradient(self) -> np.ndarray:
        """``∂L/∂outputs`` of the last ``forward``."""
        raise NotImplementedError

    def __call__(self, outputs, targets) -> float:
        return self.forward(outputs, targets)

    def _saved(self, name: str) -> np.ndarray:
        kept = getattr(self, name, None)
        if kept is None:
            raise RuntimeError(f"{type(self).__name__}.backward: call forward(outputs, targets) first")
        return kept


def _scalar_upstream(g, who: str) -> float:
    """The upstream gradient of a loss: one finite real number (the loss is one number)."""
    arr = np.asarray(g)
    if arr.size != 1 or arr.dtype.kind not in "iuf" or not np.isfinite(arr).all():
        raise ValueError(f"{who}.backward: dL_dZ is the gradient with respect to the loss itself, one finite number "
                         f"(1.0 by default), got {g!r:.60}")  # fmt: skip
    return float(arr.reshape(()))


def _real(value, who: str, what: str) -> float:
    if isinstance(value, bool) or not (isinstance(value, numbers.Real) and np.isfinite(value)):
        raise ValueError(f"{who}: {what}, got {value!r}")
    return float(value)


def _pair(outputs, targets, who: str) -> tuple[np.ndarray, np.ndarray]:
    a, y = np.asarray(outputs, dtype=np.float64), np.asarray(targets, dtype=np.float64)
    if a.shape != y.shape:
        fix = ""
        if y.ndim == a.ndim - 1:  # labels or a flat target vector for outputs with a class / output axis
            fix = "; reshape the targets, e.g. y.reshape(-1, 1)" if a.shape[-1] == 1 else \
                "; one-hot encode class labels, e.g. np.eye(classes)[labels]"  # fmt: skip
        raise ValueError(f"{who}: outputs have shape {a.shape} but targets {y.shape}{fix}")
    if a.ndim == 0 or len(a) == 0:
        raise ValueError(f"{who}: needs a batch of at least one example, got outputs of shape {a.shape}")
    return a, y


class MSE(Loss):
    """``L = scale · (1/N) Σ_n ‖a_n − y_n‖²``, ``dL/da = 2·scale·(a − y)/N``.

    ``scale=1`` is lecture 004's ``C = (a − y)²`` (``∂C/∂a = 2(a − y)``); ``scale=0.5`` is lecture
    003's ``½‖a − y‖²`` whose gradient is ``a − y``.
    """

    def __init__(self, scale: float = 1.0):
        self.scale = _real(scale, "MSE", "scale must be a finite number, e.g. 1.0 (004's (a − y)²) or 0.5 (003's ½‖a − y‖²)")

    def forward(self, outputs, targets):
        self.a, self.y = _pair(outputs, targets, "MSE")
        return float(self.scale * ((self.a - self.y) ** 2).sum() / len(self.a))

    def _gradient(self):
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

    def _gradient(self):
        o = self._saved("o")
        return -self.y / np.maximum(o, self.eps) / len(o)
