"""A network of scratch layers: forward through the list, backward through it in reverse."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from .layers import Layer
from .losses import Loss


class Network:
    """``f(x) = ψ_d(…ψ_1(x))``; backpropagation is ``backward`` of each layer in reverse order,
    each turning ``dL/d(output)`` into ``dL/d(input)``."""

    def __init__(self, layers: Sequence[Layer], loss: Loss):
        self.layers = list(layers)
        bad = [x for x in self.layers if not (callable(getattr(x, "forward", None)) and callable(getattr(x, "backward", None)))]
        if bad:
            raise TypeError(f"Network: every layer needs forward and backward (a scratch.Layer), got {bad[0]!r}")
        if not isinstance(loss, Loss):
            raise TypeError(f"Network: loss must be a scratch loss such as scratch.MSE() or scratch.CrossEntropy(), "
                            f"got {loss!r}")  # fmt: skip
        self.loss = loss

    def forward(self, X) -> np.ndarray:
        for layer in self.layers:
            X = layer.forward(X)
        return X

    __call__ = forward

    def backward(self, dL_dZ=None) -> np.ndarray:
        """Gradients of every parameter; returns ``dL/dX`` of the input.  ``dL_dZ``: the gradient with
        respect to the network's output, by default the last ``loss``'s (``loss.backward()``)."""
        g = self.loss.backward() if dL_dZ is None else dL_dZ
        for layer in reversed(self.layers):
            g = layer.backward(g)
        return g

    def params_and_grads(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return [pg for layer in self.layers for pg in zip(layer.params, layer.grads)]

    def train_step(self, X, Y, lr: float) -> float:
        """One gradient-descent step ``θ ← θ − lr·∂L/∂θ`` on the batch; returns the loss before it.
        Bad input (a wrong shape, NaN or inf in X, Y or the gradients) raises and changes no weight."""
        lr = _check_lr(lr, "train_step")
        value = self.loss.forward(self.forward(X), Y)
        self.backward()
        pairs = self.params_and_grads()
        if not (np.isfinite(value) and all(np.isfinite(g).all() for _, g in pairs)):
            raise FloatingPointError(f"Network.train_step: the loss or a gradient is NaN or inf (loss {value}); no weight "
                                     "was changed — check X and Y for NaN/inf, or lower lr")  # fmt: skip
        for p, g in pairs:
            p -= lr * g
        return value

    def fit(self, X, Y, lr: float, epochs: int, batch_size: int | None = None, seed=None) -> list[float]:
        """Mini-batch SGD, reshuffled every epoch (lecture 003); returns the mean loss per epoch.
        Arguments are checked before any weight changes; if a step diverges (NaN or inf) it raises
        ``FloatingPointError`` and the weights stay those of the last good step."""
        rng = np.random.default_rng(seed)
        X, Y = np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)
        n = len(X)
        if n == 0 or len(Y) != n:
            raise ValueError(f"Network.fit: X has {n} rows and Y {len(Y)}; give one target row per example (at least one)")
        if not (np.isfinite(X).all() and np.isfinite(Y).all()):
            raise ValueError("Network.fit: X or Y holds NaN or inf; remove or impute those rows")
        lr = _check_lr(lr, "fit")
        for name, v, lo in (("epochs", epochs, 0), ("batch_size", n if batch_size is None else batch_size, 1)):
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < lo:
                raise ValueError(f"Network.fit: {name} must be a whole number >= {lo}, got {v!r}"
                                 + (" (None for the whole batch)" if name == "batch_size" else ""))
        size = n if batch_size is None else batch_size
        history = []
        for _ in range(epochs):
            order = rng.permutation(n)
            batches = [order[i : i + size] for i in range(0, n, size)]  # sequential split of the shuffled order
            losses = [self.train_step(X[idx], Y[idx], lr) * len(idx) for idx in batches]
            history.append(float(sum(losses) / n))
        return history


def _check_lr(lr, who: str) -> float:
    if isinstance(lr, bool) or not (isinstance(lr, numbers.Real) and np.isfinite(lr) and lr >= 0):
        raise ValueError(f"Network.{who}: lr must be a finite number >= 0, e.g. 0.1, got {lr!r}")
    return float(lr)
