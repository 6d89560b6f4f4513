"""Smooth convex minimisation for the linear models: L-BFGS with a backtracking (Armijo) line
search, the first step scaled to unit length and the stopping rules of scipy's L-BFGS-B (which
scikit-learn's ``LogisticRegression`` calls).  Objectives come with their gradients from the
autodiff engine (``value_and_grad``)."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from ..autodiff import as_tensor, value_and_grad
from .base import ConvergenceWarning

FTOL = 64 * np.finfo(np.float64).eps
"""Relative decrease below which an iteration counts as stalled (scikit-learn's ``ftol`` for L-BFGS-B)."""


def engine_objective(f: Callable) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    """Wrap a tensor function ``f(w) -> scalar`` as ``w -> (f(w), ∇f(w))`` via reverse mode."""
    vg = value_and_grad(f)

    def fun(w: np.ndarray):
        v, g = vg(as_tensor(w, device="cpu"))  # the estimators compute on NumPy, whatever the default device
        return float(v.item()), np.asarray(g.data, dtype=np.float64)

    return fun


def lbfgs(fun: Callable, x0: np.ndarray, max_iter: int = 500, tol: float = 1e-8, memory: int = 10,
          scale: float | None = None) -> tuple[np.ndarray, int]:  # fmt: skip
    """Minimise ``fun(x) -> (value, gradient)`` from ``x0``.

    Stops when ‖∇f‖∞ ≤ tol·s, with ``s = scale`` when given (scikit-learn's ``gtol`` on an
    objective ``scale`` times its own) and ``s = max(1, |f|)`` otherwise, or when an iteration
    lowers ``f`` by at most ``FTOL·max(|f_k|, |f_{k+1}|, 1)``.  The search direction ``d = −H g``
    comes from the two-loop recursion over the last ``memory`` pairs; the first step is
    ``1/‖g‖₂`` (as L-BFGS-B), later ones start at 1 and halve until ``f`` falls by ``10⁻⁴·step·gᵀd``.

    Returns the minimiser and the number of iterations."""
    x = np.array(x0, dtype=np.float64)
    f, g = fun(x)
    s_hist: list[np.ndarray] = []
    y_hist: list[np.ndarray] = []
    for it in range(max_iter):
        if np.max(np.abs(g)) <= tol * (max(1.0, abs(f)) if scale is None else scale):
            return x, max(it, 1)
        # two-loop recursion: d = −H g
        q = g.copy()
        alphas = []
        for s, y in zip(reversed(s_hist), reversed(y_hist)):
            a = (s @ q) / (y @ s)
            alphas.append(a)
            q -= a * y
        if s_hist:
            q *= (s_hist[-1] @ y_hist[-1]) / (y_hist[-1] @ y_hist[-1])
        for (s, y), a in zip(zip(s_hist, y_hist), reversed(alphas)):
            q += (a - (y @ q) / (y @ s)) * s
        d = -q
        if g @ d >= 0:  # not a descent direction: restart from steepest descent
            d, s_hist, y_hist = -g, [], []
        step, gd = (1.0 if s_hist else 1.0 / np.linalg.norm(d)), g @ d
        for _ in range(60):
            x_new = x + step * d
            if np.array_equal(x_new, x):  # the step vanished below x's precision: no decrease along d
                break
            f_new, g_new = fun(x_new)
            if np.isfinite(f_new) and f_new <= f + 1e-4 * step * gd:
                break
            step *= 0.5
        if np.array_equal(x_new, x) or not (np.isfinite(f_new) and f_new <= f + 1e-4 * step * gd):
            # no step lowers f enough: as L-BFGS-B's abnormal line-search end, which scikit-learn reports
            warnings.warn(
                f"L-BFGS: the line search found no decrease at iteration {it + 1} while the gradient is still "
                f"{np.max(np.abs(g)):.3g} (tolerance {tol:.3g}); scale the features (StandardScaler) or raise tol",
                ConvergenceWarning,
                stacklevel=3,
            )
            return x, it + 1
        s, y = x_new - x, g_new - g
        if s @ y > 1e-12 * (y @ y):
            s_hist.append(s)
            y_hist.append(y)
            if len(s_hist) > memory:
                s_hist.pop(0)
                y_hist.pop(0)
        if f - f_new <= FTOL * max(abs(f), abs(f_new), 1.0):
            return x_new, it + 1
        x, f, g = x_new, f_new, g_new
    warnings.warn(f"L-BFGS did not converge in {max_iter} iterations; increase max_iter", ConvergenceWarning, stacklevel=3)
    return x, max_iter
