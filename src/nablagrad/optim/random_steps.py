"""Random steps to leave a local minimum (lecture 000: "random steps can be made so as not to get
stuck in local minima").

Gradient descent ``w ← w − μ∇f(w)`` runs until it stalls (``‖∇f‖ ≤ tol``) in some minimum; then a
random step ``w ← w_best + s·ξ``, ``ξ ~ N(0, I)``, throws it elsewhere and descent starts again.
The best point seen is kept, so a jump can only help.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..autodiff import value_and_grad
from ..backend.device import to_device


@dataclass
class RandomStepResult:
    """``x``/``fun``: the best point and its value; ``minima``: the point where each descent
    stalled (the first entry is plain gradient descent's answer); ``path``: every iterate."""

    x: np.ndarray
    fun: float
    minima: list[np.ndarray] = field(default_factory=list)
    path: list[np.ndarray] = field(default_factory=list)


def descend_with_random_steps(f: Callable, x0, lr: float = 0.01, jumps: int = 10, scale: float = 1.0,
                              max_steps: int = 2000, tol: float = 1e-6, seed=None) -> RandomStepResult:  # fmt: skip
    """Minimise ``f`` (a tensor function of one array) by gradient descent with ``jumps`` random
    steps of size ``scale`` taken from the best point whenever a descent stalls."""
    if lr <= 0 or scale < 0 or jumps < 0:
        raise ValueError(f"descend_with_random_steps: need lr > 0, scale >= 0, jumps >= 0; got {lr}, {scale}, {jumps}")
    vg = value_and_grad(f)
    rng = np.random.default_rng(seed)
    x = np.array(x0, dtype=np.float64)
    best_x, best_f = x.copy(), np.inf
    result = RandomStepResult(x=best_x, fun=best_f)
    for jump in range(jumps + 1):
        if jump:
            x = best_x + scale * rng.standard_normal(best_x.shape)
        for _ in range(max_steps):
            result.path.append(x.copy())
            v, g = vg(x)
            g = to_device(g.data, "cpu", np.float64)  # the iterate lives on the host; f runs where its tensors go
            if not np.isfinite(v.item()) or np.linalg.norm(g) <= tol:
                break
            x = x - lr * g
        value = float(v.item())
        result.minima.append(x.copy())
        if value < best_f:
            best_x, best_f = x.copy(), value
    result.x, result.fun = best_x, best_f
    return result
