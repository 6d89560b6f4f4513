"""Convex minimisation for the linear models.

* Smooth objectives: L-BFGS with a backtracking (Armijo) line search, the first step scaled to
  unit length and the stopping rules of scipy's L-BFGS-B (which scikit-learn's
  ``LogisticRegression`` calls).  Objectives come with their gradients from the autodiff engine
  (a compiled forward pass and the tape's backward).
* The linear SVM: its hinge-loss quadratic program by a primal–dual interior-point method
  (:func:`linear_svm`), its squared-hinge primal by Newton's method (:func:`squared_hinge_svm`)."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from ..autodiff import as_tensor, enable_grad, jit
from .base import ConvergenceWarning

FTOL = 64 * np.finfo(np.float64).eps
"""Relative decrease below which an iteration counts as stalled (scikit-learn's ``ftol`` for L-BFGS-B)."""


def engine_objective(f: Callable) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    """Wrap a tensor function ``f(w) -> scalar`` as ``w -> (f(w), ∇f(w))`` via reverse mode.

    ``f`` is compiled (:func:`~nablagrad.autodiff.jit`) and each call's gradient comes from the tape's
    first-order backward through the compiled call: L-BFGS asks for the same objective at one shape
    tens of times, and a replay skips building the graph.  Compiling ``f`` itself, not
    ``value_and_grad(f)``, keeps the trace and its check to forward passes (a fit of logistic
    regression on 20 000 × 50 takes about 14 evaluations, ``bench/ml.py``)."""
    compiled = jit(f)

    def fun(w: np.ndarray):
        x = as_tensor(w, device="cpu").requires_grad_()  # the estimators compute on NumPy, whatever the default device
        with enable_grad():
            value = compiled(x)
            value.backward()
        return float(value.item()), np.asarray(x.grad.data, dtype=np.float64)

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


def _row_space(X: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """``(basis, coordinates)`` of X's rows when ``p > n`` (``X = coordinates basisᵀ``, QR of ``Xᵀ``),
    else ``(None, X)``.  An L2-penalised linear model's ``w = Σ a_i x_i`` lies in that row space,
    so the SVMs solve in its ``n`` coordinates and return ``basis @ w``."""
    n, p = X.shape
    if p <= n:
        return None, X
    basis, R = np.linalg.qr(X.T)
    return basis, R.T


def linear_svm(X: np.ndarray, y: np.ndarray, C: float | np.ndarray, fit_intercept: bool = True, tol: float = 1e-4,
               max_iter: int = 1000) -> tuple[np.ndarray, float, np.ndarray, int]:  # fmt: skip
    """The soft-margin linear SVM ``min_{w,b} ½‖w‖² + Σ C_i max(0, 1 − y_i(⟨w, x_i⟩ + b))``
    (``y`` in {−1, +1}; ``C_i = C``, or one ``C_i > 0`` per sample: ``C`` times its weight; ``b``
    unpenalised, or fixed at 0 without ``fit_intercept``) by a primal–dual interior-point method
    (Mehrotra's predictor–corrector) on its dual ``min ½‖Σ α_i y_i x_i‖² − Σ α_i``,
    ``0 ≤ α_i ≤ C_i`` (and ``Σ α_i y_i = 0`` with an intercept).

    Each iteration solves one ``(p + 1) × (p + 1)`` system ``(E + Uᵀ Θ U) Δθ = …`` for
    ``θ = (w, −b)``, with ``U = [y ∘ X, −y]`` and ``Θ`` diagonal (``E = I`` on ``w``, 0 on ``b``):
    memory ``O(n p)``, never the ``n × n`` Gram matrix (when ``p > n`` the problem is first
    rotated into the row space of X, where ``w`` lies, so the system is ``n × n``).  ``α`` stays
    inside the box and ``Σ α_i y_i = 0`` from the start.

    Stops when the duality gap ``P(w, b) − D(α)`` is at most ``½ (tol · max(1, ‖w‖))²``: since
    ``min_b P`` is 1-strongly convex in ``w``, then ``‖w − w*‖ ≤ tol · max(1, ‖w‖)``.
    Returns ``(w, b, support, iterations)``, ``support`` marking the support vectors (``α_i > 0``):
    at the end the interior point has ``α_i z_i ≈ μ`` for the others, so they are told apart by
    ``α_i > √(μ C_i)``."""
    n = len(X)
    C = np.broadcast_to(np.asarray(C, dtype=np.float64), (n,))
    basis, X = _row_space(X)  # w = Σ α_i y_i x_i
    U = y[:, None] * X
    if fit_intercept:
        U = np.column_stack([U, -y])
    E = np.ones(U.shape[1])
    if fit_intercept:
        E[-1] = 0.0
    # start: α inside the box with Σ α_i y_i = 0: α_i = C_i·(the other class's share of Σ C)
    alpha = C / 2
    if fit_intercept:
        c_pos, c_all = C[y > 0].sum(), C.sum()
        alpha = np.where(y > 0, C * (c_all - c_pos) / c_all, C * c_pos / c_all)
    theta = np.zeros(U.shape[1])
    theta[: X.shape[1]] = U[:, : X.shape[1]].T @ alpha
    g = U @ theta - 1.0
    z, v = np.maximum(g, 0.0) + 1.0, np.maximum(-g, 0.0) + 1.0  # dual residual 0 at the start
    it, done = 0, False
    for it in range(1, max_iter + 1):  # noqa: B007 - returned
        s = C - alpha
        margins = U @ theta  # y_i (⟨w, x_i⟩ + intercept)
        w = theta[: X.shape[1]]
        u_alpha = U.T @ alpha  # (one n×(p+1) product: its first p entries are Σ α_i y_i x_i)
        w_alpha = u_alpha[: X.shape[1]]
        primal = 0.5 * w @ w + C @ np.maximum(1.0 - margins, 0.0)
        gap = primal - (alpha.sum() - 0.5 * w_alpha @ w_alpha)
        # the certified accuracy, or the gap float64 can still resolve next to P
        if gap <= max(0.5 * (tol * max(1.0, float(np.linalg.norm(w)))) ** 2, 1e-13 * max(1.0, primal)):
            done = True
            break
        r_d = margins - 1.0 - z + v
        r_theta = E * theta - u_alpha
        Theta = 1.0 / (z / alpha + v / s)
        M = np.diag(E) + (U * Theta[:, None]).T @ U

        def direction(r_z, r_v):
            r = -r_d + r_z / alpha - r_v / s
            d_theta = np.linalg.solve(M, U.T @ (Theta * r) - r_theta)
            d_alpha = Theta * (r - U @ d_theta)
            return d_theta, d_alpha, (r_z - z * d_alpha) / alpha, (r_v + v * d_alpha) / s

        mu = (alpha @ z + s @ v) / (2 * n)
        _, da, dz, dv = direction(-alpha * z, -s * v)  # predictor: the affine-scaling direction
        t = _step_to_boundary(alpha, s, z, v, da, dz, dv)
        mu_aff = ((alpha + t * da) @ (z + t * dz) + (s - t * da) @ (v + t * dv)) / (2 * n)
        sigma = (mu_aff / mu) ** 3
        d_theta, d_alpha, d_z, d_v = direction(sigma * mu - alpha * z - da * dz, sigma * mu - s * v + da * dv)
        t = min(1.0, 0.995 * _step_to_boundary(alpha, s, z, v, d_alpha, d_z, d_v))
        theta, alpha, z, v = theta + t * d_theta, alpha + t * d_alpha, z + t * d_z, v + t * d_v
        alpha = np.clip(alpha, 1e-300, np.nextafter(C, 0.0))  # rounding can touch the box: stay strictly inside
    if not done:
        warnings.warn(f"LinearSVC: the interior-point method did not reach tol={tol:g} in {max_iter} iterations "
                      f"(duality gap {gap:.3g}); increase max_iter or scale the features", ConvergenceWarning,
                      stacklevel=3)  # fmt: skip
    w = theta[: X.shape[1]]
    b = -float(theta[-1]) if fit_intercept else 0.0
    mu = (alpha @ z + (C - alpha) @ v) / (2 * n)
    return (w if basis is None else basis @ w), b, alpha > np.sqrt(mu * C), it


def squared_hinge_svm(X: np.ndarray, y: np.ndarray, C: float | np.ndarray, fit_intercept: bool = True,
                      tol: float = 1e-4, max_iter: int = 1000) -> tuple[np.ndarray, float, np.ndarray, int]:  # fmt: skip
    """The L2-loss linear SVM ``min_{w,b} P = ½‖w‖² + Σ C_i max(0, 1 − y_i(⟨w, x_i⟩ + b))²`` (``y``
    in {−1, +1}, ``C_i`` as in :func:`linear_svm`, ``b`` unpenalised or 0) by Newton's method on
    the primal (Keerthi & DeCoste, 2005).  With ``θ = (w, b)``, ``u_i = (x_i, 1)`` and the margin
    violators ``I = {i : y_i⟨θ, u_i⟩ < 1}``, ``P`` is quadratic near ``θ``:

        ``∇P = Eθ − 2 Σ_I C_i y_i (1 − y_i⟨θ, u_i⟩) u_i``,   ``H = E + 2 Σ_I C_i u_i u_iᵀ``

    (``E = I`` on ``w``, 0 on ``b``); each iteration steps along ``d = −H⁻¹∇P``, halving the step
    until ``P`` falls by ``10⁻⁴·t·∇Pᵀd`` (Armijo).  Once ``I`` is the optimum's, one full step
    lands on it.  Memory ``O(n p)``: ``H`` is ``(p + 1) × (p + 1)`` (``n + 1`` after rotating
    into X's row space when ``p > n``: ``w = 2 Σ_I C_i y_i (1 − y_i⟨θ, u_i⟩) x_i`` lies there).

    Stops when the Newton decrement ``λ² = −∇Pᵀd`` has ``½λ² ≤ ½(tol · max(1, ‖w‖))²``: ``½λ²`` is
    ``P − P*`` on the current quadratic piece, and ``P − P* ≥ ½‖w − w*‖²`` (``min_b P`` is
    1-strongly convex in ``w``), so ``‖w − w*‖ ≲ tol · max(1, ‖w‖)``.  Returns ``(w, b, support,
    iterations)``, ``support`` marking the samples with a non-zero dual ``α_i = 2 C_i ξ_i``
    (margin below 1)."""
    n = len(X)
    C = np.broadcast_to(np.asarray(C, dtype=np.float64), (n,))
    basis, X = _row_space(X)
    U = np.column_stack([X, np.ones(n)]) if fit_intercept else X
    E = np.ones(U.shape[1])
    if fit_intercept:
        E[-1] = 0.0

    def primal(theta: np.ndarray) -> tuple[float, np.ndarray]:
        slack = np.maximum(1.0 - y * (U @ theta), 0.0)  # ξ_i
        return 0.5 * (E * theta) @ theta + C @ (slack * slack), slack

    theta = np.zeros(U.shape[1])
    f, slack = primal(theta)
    it, stalled = 0, ""
    for it in range(1, max_iter + 1):  # noqa: B007 - returned
        active = slack > 0
        Ua, ca = U[active], 2.0 * C[active]
        grad = E * theta - Ua.T @ (ca * y[active] * slack[active])
        H = np.diag(E) + (Ua * ca[:, None]).T @ Ua
        try:
            d = -np.linalg.solve(H, grad)
        except np.linalg.LinAlgError:  # no violators left: b is free (H singular there); any b on the piece is as good
            d = -np.linalg.lstsq(H, grad, rcond=None)[0]
        decrement = -(grad @ d)
        w_norm = float(np.linalg.norm(theta[: X.shape[1]]))
        if decrement <= max((tol * max(1.0, w_norm)) ** 2, 1e-13 * max(1.0, f)):  # or what float64 resolves next to P
            break
        step = 1.0
        for _ in range(60):
            f_new, slack_new = primal(theta + step * d)
            if f_new <= f - 1e-4 * step * decrement:
                break
            step *= 0.5
        else:
            stalled = f"the line search found no decrease at iteration {it}"
            break
        theta, f, slack = theta + step * d, f_new, slack_new
    else:
        stalled = f"it ran out of iterations (max_iter={max_iter})"
    if stalled:
        warnings.warn(f"LinearSVC: Newton's method did not reach tol={tol:g}: {stalled} with the Newton decrement "
                      f"still {decrement:.3g}; increase max_iter or scale the features", ConvergenceWarning,
                      stacklevel=3)  # fmt: skip
    w = theta[: X.shape[1]]
    b = float(theta[-1]) if fit_intercept else 0.0
    return (w if basis is None else basis @ w), b, slack > 0, it


def _step_to_boundary(alpha, s, z, v, d_alpha, d_z, d_v) -> float:
    """The largest step ``t ≤ 1`` keeping ``α + tΔα``, ``s − tΔα``, ``z + tΔz``, ``v + tΔv`` non-negative."""
    t = 1.0
    for x, d in ((alpha, d_alpha), (s, -d_alpha), (z, d_z), (v, d_v)):
        neg = d < 0
        if neg.any():
            t = min(t, float(np.min(-x[neg] / d[neg])))
    return t
