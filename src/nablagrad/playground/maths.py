"""The maths the page shows: input features, loss formulas, optimiser update rules, and the
update rule of one weight with its numbers filled in (what hovering a link shows).

Each feature is one NumPy expression in ``X``; the session computes it and the exported script
prints it, so both use the same text.
"""

from __future__ import annotations

import math

import numpy as np

# name: (label on the page, NumPy expression of the raw inputs X of shape (n, 2))
FEATURES: dict[str, tuple[str, str]] = {
    "x1": ("x₁", "X[:, 0]"),
    "x2": ("x₂", "X[:, 1]"),
    "x1sq": ("x₁²", "X[:, 0] ** 2"),
    "x2sq": ("x₂²", "X[:, 1] ** 2"),
    "x1x2": ("x₁x₂", "X[:, 0] * X[:, 1]"),
    "sinx1": ("sin x₁", "np.sin(X[:, 0])"),
    "sinx2": ("sin x₂", "np.sin(X[:, 1])"),
}
_FEATURE_FNS = {name: eval(f"lambda X: {expr}", {"np": np}) for name, (_, expr) in FEATURES.items()}  # noqa: S307


def features(X: np.ndarray, names: list[str]) -> np.ndarray:
    """The chosen features of raw inputs ``X`` (n, 2), as float32 columns (n, len(names))."""
    return np.stack([_FEATURE_FNS[n](X) for n in names], axis=1).astype(np.float32)


def features_source(names: list[str]) -> str:
    """The NumPy expression of :func:`features` for a script."""
    return f"np.stack([{', '.join(FEATURES[n][1] for n in names)}], axis=1).astype(np.float32)"


LOSS_FORMULAS = {
    "cross_entropy": "L = −(1/n) Σᵢ log softmax(oᵢ)[yᵢ]   (softmax head, cross-entropy; lecture 002)",
    "mse": "L = (1/n) Σᵢ ‖oᵢ − yᵢ‖²   (mean squared error; classes as ±1 targets of tanh outputs)",
}


def _sgd(g, lr, s):
    return [f"Δw = −η·g = −{lr:.4g} × {g:.4g}"]


def _momentum(g, lr, s):
    v = s["velocity"]
    return [f"v = λ·g + (1 − λ)·v = {v:.4g}   (λ = {s['forgetting']:g})", f"Δw = −η·v = −{lr:.4g} × {v:.4g}"]


def _adagrad(g, lr, s):
    G = s["sum"]
    return [f"G = G + g² = {G:.4g}", f"Δw = −η·g / (√G + ε) = −{lr:.4g} × {g:.4g} / ({math.sqrt(G):.4g} + {s['eps']:g})"]


def _rmsprop(g, lr, s):
    E = s["square_avg"]
    return [f"E = α·E + (1 − α)·g² = {E:.4g}   (α = {s['alpha']:g})",
            f"Δw = −η·g / (√E + ε) = −{lr:.4g} × {g:.4g} / ({math.sqrt(E):.4g} + {s['eps']:g})"]  # fmt: skip


def _adam(g, lr, s):
    b1, b2 = s["betas"]
    t, m, v = int(s["step"]), s["exp_avg"], s["exp_avg_sq"]  # a count, even where kept as a float (PyTorch's)
    mh, vh = m / (1 - b1**t), v / (1 - b2**t)
    return [f"m = β₁·m + (1 − β₁)·g = {m:.4g},  v = β₂·v + (1 − β₂)·g² = {v:.4g}   (t = {t})",
            f"m̂ = m/(1 − β₁ᵗ) = {mh:.4g},  v̂ = v/(1 − β₂ᵗ) = {vh:.4g}",
            f"Δw = −η·m̂ / (√v̂ + ε) = −{lr:.4g} × {mh:.4g} / ({math.sqrt(vh):.4g} + {s['eps']:g})"]  # fmt: skip


# optimiser name: (its update rule as in lecture 000, the rule with one weight's numbers)
UPDATE_RULES = {
    "sgd": ("w ← w − η g", _sgd),
    "momentum": ("v ← λ g + (1 − λ) v,  w ← w − η v", _momentum),
    "adagrad": ("G ← G + g²,  w ← w − η g / (√G + ε)", _adagrad),
    "rmsprop": ("E ← α E + (1 − α) g²,  w ← w − η g / (√E + ε)", _rmsprop),
    "adam": ("m ← β₁m + (1 − β₁)g,  v ← β₂v + (1 − β₂)g²,  w ← w − η m̂ / (√v̂ + ε)", _adam),
}


def update_lines(optimizer: str, g: float, lr: float, state: dict, delta: float) -> list[str]:
    """The update rule of one weight with its numbers: ``state`` holds the optimiser's buffers for
    this weight after the step (scalars) and its hyper-parameters; ``delta`` the change applied."""
    lines = UPDATE_RULES[optimizer][1](g, lr, state)
    lines[-1] += f" = {delta:.4g}"
    return lines
