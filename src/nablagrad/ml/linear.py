"""Linear regression, ridge and lasso (lectures 001, 004).

The intercept is never regularised: X and y are centred, the weights fitted on the centred
data, and ``b = ȳ − x̄ᵀw``.  The closed forms never hold a centred copy of X: they centre it a
block of rows at a time, inside the pass that reduces it (``centred_gram``, ``least_squares``).

``sample_weight`` multiplies each sample's squared residual, as scikit-learn's:
``min Σ s_i (y_i − ⟨w, x_i⟩ − b)² (+ α‖w‖²)`` (``LinearRegression``, ``Ridge``),
``min (1/(2Σs)) Σ s_i (y_i − ⟨w, x_i⟩ − b)² + α‖w‖₁`` (``Lasso``); the means become weighted
means ``x̄ = Σ s_i x_i / Σ s_i``, and the closed forms scale each centred row by ``√s_i``.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np

from .. import optim
from ..autodiff import tensor
from ..data.loader import batch_indices
from ._params import BOOLEAN, RANDOM_STATE, Interval, Options
from .base import BaseEstimator, ConvergenceWarning, RegressorMixin, centred_blocks, check_X_y, validate_features
from .metrics import _check_sample_weight


class IllConditionedWarning(UserWarning):
    """XᵀX is nearly singular: the normal equations lose accuracy."""


CONDITION_LIMIT = 1e10


_GRADIENT_PARAMS = {  # the engine's gradient solvers ("gd", "sgd"), shared by LinearRegression and Ridge
    "fit_intercept": [BOOLEAN],
    "learning_rate": [Interval(Real, 0, None, closed="neither"), Options({"normalized", "normalised"})],
    "max_iter": [Interval(Integral, 1, None)],
    "batch_size": [Interval(Integral, 1, None)],
    "tol": [Interval(Real, 0, None)],
    "random_state": [RANDOM_STATE],
}


class _LinearModel(RegressorMixin, BaseEstimator):
    _squeeze_column = True  # a one-column y gives coef_ of shape (p,), as scikit-learn's Ridge and Lasso

    def _tag_overrides(self):
        return {"multi_output": True}

    def _prepare(self, X, y, sample_weight=None):
        """Validated ``X`` (not centred: ``self._x_mean`` is subtracted where it is read) and the
        centred targets ``Y − ȳ``, one column per output.  With ``sample_weight`` ``s`` the means
        are weighted and ``self._sw`` holds ``s`` (``None`` without weights)."""
        X, y = check_X_y(X, y, y_numeric=True, multi_output=True, est=self)
        validate_features(self, X, reset=True)
        sw = _check_sample_weight(sample_weight, len(X), f"{type(self).__name__}.fit", copy=True)  # the one copy
        self._sw = sw
        y = y.astype(np.float64)
        self._dtype = X.dtype  # float32 data gives float32 coef_/intercept_ (scikit-learn's); solved in float64
        self._y_ndim = y.ndim
        Y = y.reshape(len(y), -1)
        if self.fit_intercept:
            self._x_mean, self._y_mean = np.average(X, axis=0, weights=sw), np.average(Y, axis=0, weights=sw)
        else:
            self._x_mean, self._y_mean = np.zeros(X.shape[1]), np.zeros(Y.shape[1])
        return X, Y - self._y_mean

    def _finish(self, W: np.ndarray) -> None:
        """W: (n_features, n_targets) fitted on centred data."""
        vars(self).pop("_sw", None)  # the fit's sample weights (n floats) are not kept with the fitted model
        dtype = vars(self).pop("_dtype")
        # scikit-learn's shapes: coef_ (p,) for a 1-D y (and, for Ridge and Lasso, a one-column y),
        # else (outputs, p); intercept_ a scalar for a 1-D y, else one per output; 0.0 without intercept
        squeeze = self._y_ndim == 1 or (W.shape[1] == 1 and self._squeeze_column)
        self.coef_ = (W[:, 0] if squeeze else W.T).astype(dtype)
        intercept = (self._y_mean - self._x_mean @ W).astype(dtype)
        self.intercept_ = 0.0 if not self.fit_intercept else intercept[0] if self._y_ndim == 1 else intercept

    def predict(self, X):
        X = self._check_X(X, "coef_")
        return X @ np.asarray(self.coef_).T + self.intercept_

    def _solve(self, X, Yc, alpha: float) -> np.ndarray:
        """Weights on centred data for ``min ‖S^{1/2}((X − 1x̄ᵀ)w − y)‖² + α‖w‖²`` (``S`` the
        sample weights, ``I`` without) by the chosen solver."""
        if self.solver in ("gd", "sgd"):
            return self._gradient_fit(X - self._x_mean, Yc, alpha)
        self.n_iter_ = 1  # closed forms: one solve
        root, Yc = self._root_weighted(Yc)
        if self.solver == "lstsq":
            return least_squares(X, Yc, shift=self._x_mean, row_scale=root)
        return _normal_equations(*centred_gram(X, self._x_mean, Yc, type(self).__name__, row_scale=root), float(alpha))

    def _root_weighted(self, Yc: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        """``(√s, diag(√s) Yc)`` for the sample weights ``s`` (``(None, Yc)`` without): the closed
        forms minimise ``‖diag(√s)(Xc w − yc)‖²``, so X's rows (``row_scale``) and y are scaled by ``√s``."""
        if self._sw is None:
            return None, Yc
        root = np.sqrt(self._sw)
        return root, Yc * root[:, None]

    def _gradient_fit(self, Xc, Yc, alpha: float):
        """Minimise ``Σ s_i r_i² / Σ s_i + α‖w‖²/Σ s_i`` (``s`` the sample weights, all 1 without:
        mean ‖Xw − y‖² + α‖w‖²/n) by (mini-batch) gradient descent on the engine; a mini-batch
        takes its own rows' share ``Σ_B s_i r_i² / Σ_B s_i``.

        The gradient the engine computes is the lecture's ``∇ = 2Xᵀ(Xw − y)/n`` (+ 2αw/n).
        ``"gd"`` stops when the loss changes by less than ``tol`` (relative) between epochs.
        ``"sgd"`` never settles with a constant rate (each mini-batch gradient is noisy), so once
        the epoch loss stops falling it averages the iterates (Polyak–Ruppert:
        ``w̄_t = w̄_{t−1} + (w_t − w̄_{t−1})/t``), which for least squares converges to the exact
        solution with a constant rate (Bach & Moulines, 2013); it stops when the averaged
        iterate's loss changes by less than ``tol``.  ``learning_rate="normalized"`` is the
        lecture-000 step for the squared loss, ``η = 1/‖x_i‖²`` on ``½(⟨w, x_i⟩ − y_i)²`` (the notes
        print ``‖x_i‖²``, a typo: the step must shrink as the example grows), i.e. the step that
        makes the example's residual zero; on a batch, ``‖x_i‖²`` is averaged over it.
        """
        n, p = Xc.shape
        sw = np.ones(n) if self._sw is None else self._sw
        total = float(sw.sum())
        W = tensor(np.zeros((p, Yc.shape[1])), requires_grad=True)
        normalized = self.learning_rate in ("normalized", "normalised")  # else a number > 0 (_parameter_constraints)
        opt = optim.SGD([W], lr=1.0 if normalized else self.learning_rate)
        rng = np.random.default_rng(self.random_state)
        batch = None if self.solver == "gd" else self.batch_size
        sq_norms = (Xc * Xc).sum(1)
        average: np.ndarray | None = None  # Polyak–Ruppert average once SGD is stationary
        steps = 0
        prev = np.inf
        epoch = 0
        for epoch in range(self.max_iter):  # noqa: B007 - n_iter_ reads it after the loop
            for idx in batch_indices(n, batch, "shuffle", rng):
                batch_weight = float(sw[idx].sum())
                if batch_weight <= 0:  # only zero-weight rows: nothing of the loss is here
                    continue
                xb, yb = tensor(Xc[idx]), tensor(Yc[idx])
                r = xb @ W - yb
                rr = (r * r).sum() if self._sw is None else ((r * r) * sw[idx, None]).sum()
                loss = rr / batch_weight + alpha * (W * W).sum() / total
                opt.zero_grad()
                loss.backward()
                if normalized:  # η = 1/‖x‖² on ½r², i.e. 1/(2‖x‖²) on the r² minimised here
                    mean_sq = float(np.average(sq_norms[idx], weights=None if self._sw is None else sw[idx]))
                    opt.param_groups[0]["lr"] = 1.0 / (2.0 * max(mean_sq, 1e-300))
                opt.step()
                if average is not None:
                    steps += 1
                    average += (W.numpy() - average) / steps
            current = W.numpy() if average is None else average
            full = float(np.average(((Xc @ current - Yc) ** 2).mean(1), weights=self._sw))
            if not np.isfinite(full):
                raise FloatingPointError(
                    f"{type(self).__name__}: gradient descent diverged; lower learning_rate (now {self.learning_rate}) "
                    "or standardise X"
                )
            if self.solver == "sgd" and average is None and full >= prev:  # stationary: start averaging
                average = W.numpy().copy()
            elif abs(prev - full) <= self.tol * max(1.0, full):
                break
            prev = full
        else:
            warnings.warn(f"{type(self).__name__}: {self.solver} did not converge in max_iter={self.max_iter} epochs",
                          ConvergenceWarning, stacklevel=3)  # fmt: skip
        self.n_iter_ = epoch + 1
        return W.numpy() if average is None else average


class LinearRegression(_LinearModel):
    """Least squares ``min ‖Xw + b − y‖²`` (lecture 004).

    Solvers: ``"normal"`` — the closed form ``w = (XᵀX)⁻¹Xᵀy`` (warns when XᵀX is
    ill-conditioned, since its condition number is the square of X's); ``"lstsq"`` — the
    minimum-norm least-squares solution (QR, then the SVD of the small factor), safe for any
    design; ``"gd"`` — full-batch gradient descent with ``∇ = 2Xᵀ(Xw − y)/n``; ``"sgd"`` —
    mini-batch SGD over epochs, with iterate averaging once stationary, so that it reaches the
    least-squares solution; ``learning_rate="normalized"`` is the step ``η = 1/‖x_i‖²`` of
    lecture 000.  Multi-output ``Y`` is fitted column by column in one solve.
    """

    _parameter_constraints = {**_GRADIENT_PARAMS, "solver": [Options({"normal", "lstsq", "gd", "sgd"})]}
    _squeeze_column = False  # scikit-learn's LinearRegression keeps coef_ (1, p) for a one-column y

    def __init__(self, fit_intercept: bool = True, solver: str = "lstsq", learning_rate: float | str = 0.01,
                 max_iter: int = 1000, batch_size: int = 32, tol: float = 1e-7, random_state=None):  # fmt: skip
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.tol = tol
        self.random_state = random_state

    def fit(self, X, y, sample_weight=None):
        """Fit the weights and intercept by ``solver`` (``y``: one target per row, or several
        columns); ``sample_weight`` multiplies each sample's squared residual."""
        X, Yc = self._prepare(X, y, sample_weight)
        self._finish(self._solve(X, Yc, 0.0))
        return self


def least_squares(X: np.ndarray, Y: np.ndarray, chunk: int = 2048, shift: np.ndarray | None = None,
                  row_scale: np.ndarray | None = None) -> np.ndarray:  # fmt: skip
    """The minimum-norm minimiser ``W`` of ``‖XW − Y‖`` — what LAPACK's SVD-based ``gelsd`` (NumPy's
    ``lstsq``, scikit-learn's solver) returns, with the same cutoff for small singular values;
    with ``shift``, of ``‖(X − 1 shiftᵀ)W − Y‖`` (each block is shifted as it is copied); with
    ``row_scale`` ``r``, of ``‖diag(r)(X − 1 shiftᵀ)W − Y‖`` (each block's rows scaled as copied).

    For a tall ``X`` the SVD goes to a small triangular factor instead (tall-skinny QR): each
    block of rows of ``[X | Y]`` is reduced by Householder QR to its ``R`` (column-major, in
    cache), the stacked ``R``s once more to ``[[R, C], [0, D]]`` with ``C = QᵀY``; then
    ``‖XW − Y‖² = ‖RW − C‖² + ‖D‖²`` and ``R`` has ``X``'s singular values, so ``W = lstsq(R, C)``.
    """
    n, p = X.shape
    t = Y.shape[1]
    shift = np.zeros(p, X.dtype) if shift is None else shift
    if n < 2 * (p + t):
        A = X - shift
        return np.linalg.lstsq(A if row_scale is None else A * row_scale[:, None], Y, rcond=None)[0]
    chunk = max(chunk, 4 * (p + t))
    dtype = np.result_type(X, Y)
    Rs = []
    for s in range(0, n, chunk):
        A = np.empty((p + t, min(chunk, n - s)), dtype).T  # column-major, as LAPACK wants it
        np.subtract(X[s : s + chunk], shift, out=A[:, :p])
        if row_scale is not None:
            A[:, :p] *= row_scale[s : s + chunk, None]
        A[:, p:] = Y[s : s + chunk]
        Rs.append(np.linalg.qr(A, mode="r"))
    R = np.linalg.qr(np.vstack(Rs), mode="r") if len(Rs) > 1 else Rs[0]
    return np.linalg.lstsq(R[:p, :p], R[:p, p:], rcond=np.finfo(dtype).eps * max(n, p))[0]


def centred_gram(X: np.ndarray, mean: np.ndarray, Y: np.ndarray, who: str = "centred_gram",
                 row_scale: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """``(XcᵀXc, XcᵀY)`` for ``Xc = X − 1 meanᵀ`` (its rows scaled by ``row_scale`` when given),
    accumulated over ``centred_blocks``.  Entries beyond float64 (X near 1e154 or more) are
    refused, naming ``who``: LAPACK would return NaN."""
    p = X.shape[1]
    G, XtY = np.zeros((p, p)), np.zeros((p, Y.shape[1]))
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported below, in words
        for start, B in centred_blocks(X, mean, row_scale=row_scale):
            G += B.T @ B
            XtY += B.T @ Y[start : start + len(B)]
    if not (np.all(np.isfinite(G)) and np.all(np.isfinite(XtY))):
        raise ValueError(f"{who}: XᵀX (or Xᵀy) overflows float64 (largest |X| is {np.max(np.abs(X)):.3g}, largest |y| "
                         f"{np.max(np.abs(Y)) if Y.size else 0:.3g}); scale X and y first, e.g. with StandardScaler")  # fmt: skip
    return G, XtY


def _normal_equations(G: np.ndarray, XtY: np.ndarray, alpha: float) -> np.ndarray:
    """Solve (XᵀX + αI) w = Xᵀy from ``G = XᵀX`` and ``XᵀY``.  An ill-conditioned system warns and
    is solved by SVD (``lstsq``): on a singular one (more features than samples) that is the
    minimum-norm solution, the one ``solver="lstsq"`` returns, instead of what rounding decides."""
    A = G + alpha * np.eye(len(G))
    cond = np.linalg.cond(A)
    if np.isfinite(cond) and cond <= CONDITION_LIMIT:
        return np.linalg.solve(A, XtY)
    warnings.warn(
        f"XᵀX{' + αI' if alpha else ''} is ill-conditioned (condition number {cond:.3g} > {CONDITION_LIMIT:.0e}): "
        "the closed-form solution may be inaccurate; use solver='lstsq' (SVD) or add regularisation.",
        IllConditionedWarning,
        stacklevel=3,
    )
    return np.linalg.lstsq(A, XtY, rcond=None)[0]


class Ridge(_LinearModel):
    """Ridge regression ``min ‖Xw + b − y‖² + α‖w‖²``; closed form ``(XᵀX + αI)⁻¹Xᵀy`` on centred
    data (the intercept is not penalised); ``solver="gd"``/``"sgd"`` use the engine."""

    _parameter_constraints = {
        **_GRADIENT_PARAMS,
        "alpha": [Interval(Real, 0, None)],
        "solver": [Options({"closed", "gd", "sgd"})],
    }

    def __init__(self, alpha: float = 1.0, fit_intercept: bool = True, solver: str = "closed", learning_rate: float = 0.01,
                 max_iter: int = 1000, batch_size: int = 32, tol: float = 1e-7, random_state=None):  # fmt: skip
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.tol = tol
        self.random_state = random_state

    def fit(self, X, y, sample_weight=None):
        """Fit the penalised weights and the (unpenalised) intercept by ``solver``;
        ``sample_weight`` multiplies each sample's squared residual."""
        X, Yc = self._prepare(X, y, sample_weight)
        self._finish(self._solve(X, Yc, self.alpha))
        return self


def soft_threshold(z, t):
    """S(z, t) = sign(z)·max(|z| − t, 0): the proximal map of t‖·‖₁."""
    return np.sign(z) * np.maximum(np.abs(z) - t, 0.0)


class Lasso(_LinearModel):
    """Lasso ``min (1/2n)‖Xw + b − y‖² + α‖w‖₁`` (scikit-learn's scaling): L1 drives weights to
    exactly zero as α grows (lecture 004).

    ``sample_weight`` ``s`` enters as in scikit-learn's (which rescales ``s`` to sum to ``n``):
    ``min (1/(2Σs)) Σ s_i (y_i − ⟨w, x_i⟩ − b)² + α‖w‖₁``, so integer weights are repeated rows
    and scaling every weight by the same factor changes nothing; the intercept comes from the
    weighted means.  Both solvers work on the centred, ``√s``-scaled problem
    ``½‖diag(√s)(Xc w − yc)‖² + λ‖w‖₁`` with ``λ = α Σs`` (``Σs = n`` without weights), i.e. on
    ``G = Xcᵀ S Xc`` and ``Xcᵀ S yc``, and stop when its duality gap is below ``tol · ycᵀ S yc``
    (scikit-learn's rule).

    ``solver="cd"``: cyclic coordinate descent on the Gram matrix; ``solver="proximal"``:
    proximal gradient (ISTA), ``w ← S(w − η∇, ηλ)``.
    """

    _parameter_constraints = {
        "alpha": [Interval(Real, 0, None)],
        "fit_intercept": [BOOLEAN],
        "solver": [Options({"cd", "proximal"})],
        "max_iter": [Interval(Integral, 1, None)],
        "tol": [Interval(Real, 0, None)],
    }

    def __init__(self, alpha: float = 1.0, fit_intercept: bool = True, solver: str = "cd", max_iter: int = 10000,
                 tol: float = 1e-6):  # fmt: skip
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, X, y, sample_weight=None):
        """Fit the sparse weights (one solve per target column) and the intercept; ``sample_weight``
        multiplies each sample's squared residual (scikit-learn's objective, above)."""
        X, Yc = self._prepare(X, y, sample_weight)
        root, Yc = self._root_weighted(Yc)
        G, XtY = centred_gram(X, self._x_mean, Yc, type(self).__name__, row_scale=root)
        lam = self.alpha * (len(X) if self._sw is None else float(self._sw.sum()))
        fits = []
        for k in range(Yc.shape[1]):  # a loop, not a comprehension: the ConvergenceWarning's stacklevel reaches fit's caller
            fits.append(self._solve_l1(G, XtY[:, k], float(Yc[:, k] @ Yc[:, k]), lam))
        W = np.column_stack([w for w, _ in fits])
        self._finish(W)
        iterations = [it for _, it in fits]
        self.n_iter_ = iterations[0] if self.coef_.ndim == 1 else iterations  # scikit-learn's: a list per target
        return self

    def _solve_l1(self, G: np.ndarray, Xty: np.ndarray, yy: float, lam: float) -> tuple[np.ndarray, int]:
        """``(argmin ½(wᵀGw − 2wᵀXty + yy) + λ‖w‖₁, iterations)`` by ``solver``, to a duality gap
        below ``tol · yy``."""
        p = G.shape[0]
        w = np.zeros(p)
        tol = self.tol * max(yy, 1e-300)
        diag = np.diag(G).copy()
        step = 1.0 / max(np.linalg.eigvalsh(G)[-1], 1e-300) if self.solver == "proximal" else None
        it = 0
        for it in range(self.max_iter):  # noqa: B007 - n_iter_ reads it after the loop
            if self.solver == "cd":
                q = Xty - G @ w  # = Xᵀ r
                for j in range(p):
                    if diag[j] == 0:
                        continue
                    rho = q[j] + diag[j] * w[j]
                    new = soft_threshold(rho, lam) / diag[j]
                    if new != w[j]:
                        q -= G[:, j] * (new - w[j])
                        w[j] = new
            else:
                w = soft_threshold(w + step * (Xty - G @ w), step * lam)
            if _lasso_gap(G, Xty, yy, w, lam) < tol:
                break
        else:
            warnings.warn(f"Lasso did not converge in max_iter={self.max_iter}; increase it or raise tol",
                          ConvergenceWarning, stacklevel=3)  # fmt: skip
        return w, it + 1


def _lasso_gap(G, Xty, yy, w, lam) -> float:
    """Duality gap of ½‖y − Xw‖² + λ‖w‖₁, from Gram quantities only (O(p²))."""
    Gw = G @ w
    XtR = Xty - Gw
    r2 = max(yy - 2 * w @ Xty + w @ Gw, 0.0)
    dual_norm = np.max(np.abs(XtR)) if len(XtR) else 0.0
    const = lam / dual_norm if dual_norm > lam else 1.0
    gap = 0.5 * r2 * (1 + const**2)
    return float(gap + lam * np.abs(w).sum() - const * (yy - w @ Xty))
