"""A network of scratch layers: forward through the list, backward through it in reverse."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .layers import Layer
from .losses import Loss


class Network:
    """``f(x) = ψ_d(…ψ_1(x))``; backpropagation is ``backward`` of each layer in reverse order,
    each turning ``dL/d(output)`` into ``dL/d(input)``."""

    def __init__(self, layers: Sequence[Layer], loss: Loss):
        self.layers = list(layers)
        self.loss = loss

    def forward(self, X) -> np.ndarray:
        for layer in self.layers:
            X = layer.forward(X)
        return X

    __call__ = forward

    def backward(self) -> np.ndarray:
        """Gradients of the last ``loss`` for every parameter; returns ``dL/dX`` of the input."""
        g = self.loss.backward()
        for layer in reversed(self.layers):
            g = layer.backward(g)
        return g

    def params_and_grads(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return [pg for layer in self.layers for pg in zip(layer.params, layer.grads)]

    def train_step(self, X, Y, lr: float) -> float:
        """One gradient-descent step ``θ ← θ − lr·∂L/∂θ`` on the batch; returns the loss before it."""
        value = self.loss.forward(self.forward(X), Y)
        self.backward()
        for p, g in self.params_and_grads():
            p -= lr * g
        return value

    def fit(self, X, Y, lr: float, epochs: int, batch_size: int | None = None, seed=None) -> list[float]:
        """Mini-batch SGD, reshuffled every epoch (lecture 003); returns the mean loss per epoch."""
        rng = np.random.default_rng(seed)
        X, Y = np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)
        n = len(X)
        size = batch_size or n
        history = []
        for _ in range(epochs):
            order = rng.permutation(n)
            batches = [order[i : i + size] for i in range(0, n, size)]  # sequential split of the shuffled order
            losses = [self.train_step(X[idx], Y[idx], lr) * len(idx) for idx in batches]
            history.append(float(sum(losses) / n))
        return history
