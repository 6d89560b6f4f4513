"""The lecture-002 layer interface: ``forward(inputs)`` and ``backward(dL_dZ)``, in NumPy."""

from __future__ import annotations

import numpy as np


class Layer:
    """``forward(X) -> Z`` remembers what ``backward`` needs; ``backward(dL_dZ) -> dL_dX``.

    ``params`` and ``grads`` are parallel lists of arrays (empty for an activation)."""

    def __init__(self) -> None:
        self.params: list[np.ndarray] = []
        self.grads: list[np.ndarray] = []

    def forward(self, inputs: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dL_dZ: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, inputs: np.ndarray) -> np.ndarray:
        return self.forward(inputs)

    def _upstream(self, dL_dZ, saved: str) -> tuple[np.ndarray, np.ndarray]:
        """``(dL_dZ, what forward saved under the name saved)``, checking that forward ran and that the
        gradient has the output's shape: NumPy would broadcast a wrong shape into a wrong gradient."""
        kept = getattr(self, saved, None)
        if kept is None:
            raise RuntimeError(f"{type(self).__name__}.backward: call forward(inputs) first (backward uses what it saved)")
        g = np.asarray(dL_dZ, dtype=np.float64)
        out = self._out_shape()
        if g.shape != out:
            raise ValueError(f"{type(self).__name__}.backward: dL_dZ has shape {g.shape} but the layer's output has "
                             f"shape {out}; pass the gradient of the loss with respect to this layer's output")  # fmt: skip
        return g, kept

    def _out_shape(self) -> tuple[int, ...]:
        return self.out.shape


class Dense(Layer):
    """Fully-connected layer for a mini-batch, ``Z = XW + b`` (002; without bias: ``Z = XW``).

    Backward: ``dL/dW = Xᵀ dL/dZ``, ``dL/db`` = column sums of ``dL/dZ``, ``dL/dX = dL/dZ Wᵀ``.
    ``W`` has shape (in, out); by default drawn from ``U(±1/√in)`` with ``seed``.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, weight=None, bias_value=None,
                 seed=None):  # fmt: skip
        super().__init__()
        for name, n in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
                raise ValueError(f"Dense: {name} must be a whole number >= 1, got {n!r}")
        rng = np.random.default_rng(seed)
        bound = 1.0 / np.sqrt(in_features)
        self.W = (np.array(weight, dtype=np.float64) if weight is not None
                  else rng.uniform(-bound, bound, (in_features, out_features)))  # fmt: skip
        if self.W.shape != (in_features, out_features):
            raise ValueError(f"Dense({in_features}, {out_features}): weight has shape {self.W.shape}")
        self.b = None
        if bias:
            self.b = np.array(bias_value, dtype=np.float64) if bias_value is not None else np.zeros(out_features)
            if self.b.size not in (1, out_features):
                raise ValueError(f"Dense({in_features}, {out_features}): bias_value has shape {self.b.shape}; give one "
                                 f"number or {out_features}")  # fmt: skip
            self.b = np.broadcast_to(self.b.reshape(-1), (out_features,)).copy()
        self.dW = np.zeros_like(self.W)
        self.db = None if self.b is None else np.zeros_like(self.b)
        self.params = [self.W] if self.b is None else [self.W, self.b]
        self.grads = [self.dW] if self.b is None else [self.dW, self.db]
        self.X = None  # the inputs, saved by forward for backward

    def _out_shape(self) -> tuple[int, ...]:
        return (len(self.X), self.W.shape[1])

    def forward(self, inputs):
        X = np.asarray(inputs, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.W.shape[0]:
            raise ValueError(f"Dense: expected inputs of shape (batch, {self.W.shape[0]}), got {X.shape}")
        self.X = X
        Z = X @ self.W
        return Z + self.b if self.b is not None else Z

    def backward(self, dL_dZ):
        dL_dZ, _ = self._upstream(dL_dZ, "X")
        self.dW[...] = self.X.T @ dL_dZ  # dL/dW = Xᵀ dL/dZ
        if self.db is not None:
            self.db[...] = dL_dZ.sum(axis=0)  # dL/db = column sums
        return dL_dZ @ self.W.T  # dL/dX = dL/dZ Wᵀ


class Sigmoid(Layer):
    """``σ(z) = 1/(1 + e^{−z})``; backward ``dL/dz = dL/da · σ(1 − σ)`` (= ``e^{−z}/(1 + e^{−z})²``)."""

    def forward(self, inputs):
        z = np.asarray(inputs, dtype=np.float64)
        e = np.exp(-np.abs(z))  # stable for any |z|
        self.out = np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
        return self.out

    def backward(self, dL_dZ):
        dL_dZ, out = self._upstream(dL_dZ, "out")
        return dL_dZ * out * (1.0 - out)


class Tanh(Layer):
    """``tanh z``; backward ``dL/dz = dL/da · (1 − tanh²z)``."""

    def forward(self, inputs):
        self.out = np.tanh(np.asarray(inputs, dtype=np.float64))
        return self.out

    def backward(self, dL_dZ):
        dL_dZ, out = self._upstream(dL_dZ, "out")
        return dL_dZ * (1.0 - out**2)


class ReLU(Layer):
    """``max(0, z)``; backward ``dL/dz = dL/da · [z > 0]`` (the one-sided derivative 0 at 0)."""

    def forward(self, inputs):
        self.z = np.asarray(inputs, dtype=np.float64)
        return np.maximum(self.z, 0.0)

    def _out_shape(self) -> tuple[int, ...]:
        return self.z.shape

    def backward(self, dL_dZ):
        dL_dZ, z = self._upstream(dL_dZ, "z")
        return dL_dZ * (z > 0)


class Softmax(Layer):
    """``o_i = e^{z_i} / Σ_k e^{z_k}`` per row.  Its Jacobian is ``∂o_i/∂z_j = o_i(δ_ij − o_j)``
    (lecture 000 writes it with ``net`` where it means the outputs ``f``: a typo), so
    ``dL/dz_j = o_j (dL/do_j − Σ_i dL/do_i · o_i)``."""

    def forward(self, inputs):
        z = np.asarray(inputs, dtype=np.float64)
        if z.ndim != 2:
            raise ValueError(f"Softmax: expected scores of shape (batch, classes), got {z.shape}; for one example "
                             "pass z.reshape(1, -1)")  # fmt: skip
        e = np.exp(z - z.max(axis=1, keepdims=True))
        self.out = e / e.sum(axis=1, keepdims=True)
        return self.out

    def backward(self, dL_dZ):
        dL_dZ, o = self._upstream(dL_dZ, "out")
        return o * (dL_dZ - (dL_dZ * o).sum(axis=1, keepdims=True))
