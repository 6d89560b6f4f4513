"""The lecture-002 layer interface: ``forward(inputs)`` and ``backward(dL_dZ)``, in NumPy."""

from __future__ import annotations

import numpy as np


class Layer:
    """``forward(X) -> Z`` remembers what ``backward`` needs; ``backward(dL_dZ) -> dL_dX``.

    ``params`` and ``grads`` are parallel lists of arrays (empty for an activation), read from the
    layer's attributes each time, so a weight assigned anew is the one trained."""

    @property
    def params(self) -> list[np.ndarray]:
        return []

    @property
    def grads(self) -> list[np.ndarray]:
        return []

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
        for name, n in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
                raise ValueError(f"Dense: {name} must be a whole number >= 1, got {n!r}")
        if not bias and bias_value is not None:
            raise ValueError("Dense: bias_value was given but bias=False; drop bias_value or set bias=True")
        self.W = self._weight(in_features, out_features, weight, seed)
        self.b = self._bias(out_features, bias_value) if bias else None
        self.dW = np.zeros_like(self.W)
        self.db = None if self.b is None else np.zeros_like(self.b)
        self.X = None  # the inputs, saved by forward for backward

    @staticmethod
    def _weight(n_in: int, n_out: int, weight, seed) -> np.ndarray:
        """``weight`` as a float64 copy of shape (in, out), or ``U(±1/√in)`` drawn with ``seed``."""
        if weight is None:
            bound = 1.0 / np.sqrt(n_in)
            return np.random.default_rng(seed).uniform(-bound, bound, (n_in, n_out))
        W = np.array(weight, dtype=np.float64)
        if W.shape != (n_in, n_out):
            fix = "; pass its transpose: W is (in, out) here, Z = XW" if W.shape == (n_out, n_in) else ""
            raise ValueError(f"Dense({n_in}, {n_out}): weight has shape {W.shape}, expected ({n_in}, {n_out}){fix}")
        if not np.isfinite(W).all():
            raise ValueError(f"Dense({n_in}, {n_out}): weight holds NaN or inf; give finite numbers")
        return W

    @staticmethod
    def _bias(n_out: int, bias_value) -> np.ndarray:
        """``bias_value`` (one number or one per output) as a float64 vector, or zeros."""
        if bias_value is None:
            return np.zeros(n_out)
        b = np.array(bias_value, dtype=np.float64)
        if b.size not in (1, n_out):
            raise ValueError(f"Dense(…, {n_out}): bias_value has shape {b.shape}; give one number or {n_out}")
        if not np.isfinite(b).all():
            raise ValueError(f"Dense(…, {n_out}): bias_value holds NaN or inf; give finite numbers")
        return np.broadcast_to(b.reshape(-1), (n_out,)).copy()

    @property
    def params(self) -> list[np.ndarray]:
        return [self.W] if self.b is None else [self.W, self.b]

    @property
    def grads(self) -> list[np.ndarray]:
        return [self.dW] if self.b is None else [self.dW, self.db]

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
        self.dW = self.X.T @ dL_dZ  # dL/dW = Xᵀ dL/dZ
        if self.b is not None:
            self.db = dL_dZ.sum(axis=0)  # dL/db = column sums
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
