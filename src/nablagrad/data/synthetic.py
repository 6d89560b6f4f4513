"""The playground's 2-D data sets, generated as the TensorFlow Playground does, plus two moons
and regression sets.  Classification labels are 0/1 (``labels="pm1"`` gives −1/+1)."""

from __future__ import annotations

import inspect

import numpy as np

from .. import backend
from ..backend.checks import is_finite, is_int, is_real


def _classes(who: str, classes, most: int | None = None) -> int:
    """``classes`` checked as an integer >= 2 (and <= ``most`` where given) before anything is drawn."""
    if not is_int(classes):
        raise TypeError(f"{who}: classes must be an integer >= 2, e.g. classes=3, got {classes!r} ({type(classes).__name__})")
    if classes < 2 or (most is not None and classes > most):
        upper = "" if most is None else f" and at most {most} (one arm per point: n={most})"
        raise ValueError(f"{who}: classes must be at least 2{upper}, got {classes}")
    return int(classes)


def _rng(who: str, n, noise, seed, labels: str = "01") -> np.random.Generator:
    """Check a generator's arguments before drawing anything — NumPy's own errors ("negative
    dimensions are not allowed", "scale < 0") name neither the generator nor the fix — and
    return its random generator."""
    if not is_int(n):
        raise TypeError(f"{who}: n must be an integer number of points, e.g. n=500, got {n!r} ({type(n).__name__})")
    if n < 1:  # as scikit-learn's make_moons: an empty data set is refused, not returned
        raise ValueError(f"{who}: n must be at least 1 (the number of points, e.g. n=500), got {n}")
    if not is_real(noise) or not is_finite(noise):
        raise TypeError(f"{who}: noise must be a finite number, e.g. noise=0.1, got {noise!r}")
    if noise < 0:
        raise ValueError(f"{who}: noise must be >= 0 (0 for none), got {noise}")
    if not isinstance(labels, str) or labels not in ("01", "pm1"):
        raise ValueError(f"{who}: labels must be '01' (classes 0/1) or 'pm1' (classes -1/+1), got {labels!r}")
    return backend.resolve_rng(seed, who)


def _labels(y: np.ndarray, labels: str) -> np.ndarray:
    if labels == "pm1":
        return np.where(y > 0, 1.0, -1.0)
    return (y > 0).astype(np.int64)


def make_circle(n: int = 500, noise: float = 0.0, seed=None, labels: str = "01"):
    """Class 1 inside radius 2.5, class 0 in the ring 3.5 … 5 (TF Playground 'circle').

    As in the Playground, noise perturbs the point used to *label* each sample, so a noisy
    set has labels that disagree with the clean geometry near the boundary.
    """
    rng = _rng("make_circle", n, noise, seed, labels)
    radius = 5.0
    r = np.concatenate([rng.uniform(0, radius * 0.5, n // 2), rng.uniform(radius * 0.7, radius, n - n // 2)])
    angle = rng.uniform(0, 2 * np.pi, n)
    X = np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)
    noisy = X + rng.uniform(-radius, radius, X.shape) * noise
    y = np.where(np.hypot(noisy[:, 0], noisy[:, 1]) < radius * 0.5, 1, -1)
    return X, _labels(y, labels)


def make_xor(n: int = 500, noise: float = 0.0, seed=None, labels: str = "01"):
    """Quadrants: class 1 where x1·x2 ≥ 0 (TF Playground 'xor')."""
    rng = _rng("make_xor", n, noise, seed, labels)
    X = rng.uniform(-5, 5, (n, 2))
    X += np.where(X > 0, 0.3, -0.3)  # padding away from the axes
    y = np.where(X[:, 0] * X[:, 1] >= 0, 1, -1)
    X += rng.uniform(-5, 5, X.shape) * noise
    return X, _labels(y, labels)


def make_gauss(n: int = 500, noise: float = 0.0, seed=None, labels: str = "01"):
    """Two Gaussian clusters at (2, 2) and (−2, −2); spread grows with noise (TF 'gauss')."""
    rng = _rng("make_gauss", n, noise, seed, labels)
    std = np.sqrt(0.5 + noise * (4 - 0.5) / 0.5 if noise <= 0.5 else 4.0)
    k = n // 2
    X = np.concatenate([rng.normal(2, std, (k, 2)), rng.normal(-2, std, (n - k, 2))])
    y = np.concatenate([np.ones(k), -np.ones(n - k)])
    return X, _labels(y, labels)


def make_spiral(n: int = 500, noise: float = 0.0, seed=None, labels: str = "01", turns: float = 1.75,
                classes: int = 2):
    """Interleaved spirals, radius up to 5 (TF Playground 'spiral'); arm ``j`` is turned by
    ``2πj/classes``.  Two arms give labels 1 and 0 (or ±1); ``classes`` > 2 arms give 0 … k−1."""
    rng = _rng("make_spiral", n, noise, seed, labels)
    classes = _classes("make_spiral", classes, max(n, 2))  # (an arm per class is built: bounded by the points)
    if not is_real(turns) or not is_finite(turns):
        raise TypeError(f"make_spiral: turns must be a finite number, e.g. turns=1.75, got {turns!r}")
    counts = [n // classes + (j >= classes - n % classes) for j in range(classes)]
    arms = [1, -1] if classes == 2 else list(range(classes))
    parts, ys = [], []
    for j, (count, label) in enumerate(zip(counts, arms)):
        i = np.arange(count)
        r = i / count * 5
        t = turns * i / count * 2 * np.pi + 2 * np.pi * j / classes
        pts = np.stack([r * np.sin(t), r * np.cos(t)], axis=1) + rng.uniform(-1, 1, (count, 2)) * noise
        parts.append(pts)
        ys.append(np.full(count, label))
    y = np.concatenate(ys)
    return np.concatenate(parts), _labels(y, labels) if classes == 2 else y.astype(np.int64)


def make_blobs(n: int = 500, noise: float = 0.0, seed=None, classes: int = 3):
    """``classes`` Gaussian blobs centred on a circle of radius 3.5; labels 0 … k−1.

    Standard deviation ``0.6 + 3·noise`` (noise in [0, 0.5] makes them overlap, as 'gauss')."""
    rng = _rng("make_blobs", n, noise, seed)
    classes = _classes("make_blobs", classes)
    y = np.arange(n) % classes
    angle = 2 * np.pi * y / classes + np.pi / 2
    centres = 3.5 * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    return centres + rng.normal(0, 0.6 + 3 * noise, (n, 2)), y.astype(np.int64)


def make_moons(n: int = 500, noise: float = 0.1, seed=None, labels: str = "01"):
    """Two interleaving half circles (as scikit-learn's make_moons), Gaussian noise."""
    rng = _rng("make_moons", n, noise, seed, labels)
    k = n // 2
    t1, t2 = np.linspace(0, np.pi, k), np.linspace(0, np.pi, n - k)
    X = np.concatenate([np.stack([np.cos(t1), np.sin(t1)], 1), np.stack([1 - np.cos(t2), 0.5 - np.sin(t2)], 1)])
    X += rng.normal(0, noise, X.shape)
    y = np.concatenate([-np.ones(k), np.ones(n - k)])
    return X, _labels(y, labels)


def make_reg_plane(n: int = 500, noise: float = 0.0, seed=None):
    """Regression: ``y = (x1 + x2) / 10`` on [−6, 6]² (TF Playground 'plane')."""
    rng = _rng("make_reg_plane", n, noise, seed)
    X = rng.uniform(-6, 6, (n, 2))
    y = (X[:, 0] + X[:, 1]) / 10 + rng.uniform(-1, 1, n) * noise
    return X, y


def make_reg_gauss(n: int = 500, noise: float = 0.0, seed=None):
    """Regression: a sum of signed Gaussian bumps on [−6, 6]² (TF Playground 'multi-Gaussian')."""
    rng = _rng("make_reg_gauss", n, noise, seed)
    centres = np.array([[-4, 2.5], [0, 2.5], [4, 2.5], [-4, -2.5], [0, -2.5], [4, -2.5]])
    signs = np.array([1, -1, 1, -1, 1, -1])
    X = rng.uniform(-6, 6, (n, 2))
    d2 = ((X[:, None, :] - centres[None]) ** 2).sum(-1)
    y = (signs * np.exp(-d2 / 2)).sum(1) + rng.uniform(-1, 1, n) * noise
    return X, y


def make_sin(n: int = 200, noise: float = 0.0, seed=None):
    """``y = sin(2πx)`` on [0, 1] (the universal-approximation demo), shape (n, 1) each."""
    rng = _rng("make_sin", n, noise, seed)
    x = np.sort(rng.uniform(0, 1, n)).reshape(-1, 1)
    return x, np.sin(2 * np.pi * x) + rng.normal(0, noise, x.shape)


DATASETS = {
    "circle": make_circle,
    "xor": make_xor,
    "gauss": make_gauss,
    "spiral": make_spiral,
    "moons": make_moons,
    "blobs": make_blobs,
    "reg-plane": make_reg_plane,
    "reg-gauss": make_reg_gauss,
    "sin": make_sin,
}
# the 2-D classification sets: the generators that take ``labels`` or ``classes`` (the others are regression)
CLASSIFICATION_SETS = tuple(n for n, f in DATASETS.items() if {"labels", "classes"} & set(inspect.signature(f).parameters))
