"""PCA through the SVD of the centred data (lecture 001): ``X − x̄ = U S Vᵀ``; the rows of Vᵀ
are the principal directions, ``S²/(n − 1)`` their variances, and the projected components
are uncorrelated.

``svd_solver="full"`` with at least as many rows as features factors ``X − x̄ = Q R`` (Householder)
and takes the SVD of the p × p ``R = Ũ S Vᵀ``: the same ``S`` and ``Vᵀ`` (the path LAPACK's
``gesdd`` itself takes for tall matrices), without forming the n × p ``Q`` and ``U = Q Ũ`` that
PCA never uses.
``svd_solver="randomized"`` computes only the leading ``k`` singular triplets (Halko, Martinsson
& Tropp 2011): ``Y = A Ω`` for a Gaussian ``Ω`` with ``k + 10`` columns, ``q`` power iterations
``Y ← A (Aᵀ Y)`` re-orthonormalised by QR, ``Q = qr(Y)``, then the small SVD of ``B = Qᵀ A``;
``A = X − 1 x̄ᵀ`` is applied without being formed: ``A V = X V − 1 (x̄ᵀ V)``,
``Aᵀ U = Xᵀ U − x̄ (1ᵀ U)``.
``svd_solver="covariance_eigh"`` diagonalises the p × p scatter ``(X − x̄)ᵀ(X − x̄) = XᵀX − n x̄x̄ᵀ``
instead (its eigenvalues are the variances): the fastest for many rows and few features.
``"auto"`` chooses as scikit-learn does: ``covariance_eigh`` when p ≤ 1000 and n ≥ 10 p, else
``randomized`` when the data is larger than 500 × 500 and fewer than 80 % of the components are
asked for, else ``full``."""

from __future__ import annotations

from numbers import Integral

import numpy as np

from ._params import BOOLEAN, NONE, RANDOM_STATE, Interval, Options
from .base import (
    BaseEstimator,
    TransformerMixin,
    centred_blocks,
    check_array,
    check_is_fitted,
    prefixed_feature_names,
    validate_features,
)


class PCA(TransformerMixin, BaseEstimator):
    """Principal component analysis: ``n_components`` directions of largest variance (all when
    None; a fraction in (0, 1): the fewest whose cumulative explained variance ratio is strictly
    greater than it, as scikit-learn)."""

    _parameter_constraints = {
        "n_components": [NONE, Interval(Integral, 1, None), Interval("real_not_int", 0, 1, closed="neither")],
        "whiten": [BOOLEAN],
        "svd_solver": [Options({"auto", "full", "randomized", "covariance_eigh"})],
        "random_state": [RANDOM_STATE],
    }

    def __init__(self, n_components=None, whiten: bool = False, svd_solver: str = "auto", random_state=None):
        self.n_components = n_components
        self.whiten = whiten
        self.svd_solver = svd_solver
        self.random_state = random_state

    def fit(self, X, y=None):
        """The principal directions of ``X`` and their variances."""
        X = check_array(X, min_samples=1)
        validate_features(self, X, reset=True)
        n, p = X.shape
        k = min(n, p) if self.n_components is None else self.n_components
        fraction = not isinstance(k, Integral)  # a float in (0, 1): _parameter_constraints
        if not fraction and k > min(n, p):
            raise ValueError(f"PCA: n_components={k} must be between 1 and min(n_samples, n_features)={min(n, p)} "
                             f"for data of shape {X.shape}")  # fmt: skip
        solver = self.svd_solver
        if solver == "auto":
            if p <= 1000 and n >= 10 * p:
                solver = "covariance_eigh"
            elif max(n, p) > 500 and not fraction and k < 0.8 * min(n, p):
                solver = "randomized"
            else:
                solver = "full"
        self.mean_ = X.mean(0)
        total = None
        if solver == "covariance_eigh":  # (X − x̄)ᵀ(X − x̄) = XᵀX − n x̄ x̄ᵀ: no centred copy of X
            eigvals, eigvecs = np.linalg.eigh(X.T @ X - n * np.outer(self.mean_, self.mean_))
            S, Vt = np.sqrt(np.clip(eigvals[::-1], 0, None)), eigvecs[:, ::-1].T.copy()
        elif solver == "randomized" and not fraction:
            S, Vt = _randomized_svd(_Centred(X, self.mean_), int(k), np.random.default_rng(self.random_state))
            total = sum(np.vdot(B, B) for _, B in centred_blocks(X, self.mean_)) / max(n - 1, 1)  # ‖X − 1x̄ᵀ‖²_F
        elif n >= p:  # X − x̄ = Q R, R = Ũ S Vᵀ
            _, S, Vt = np.linalg.svd(np.linalg.qr(X - self.mean_, mode="r"))
        else:
            _, S, Vt = np.linalg.svd(X - self.mean_, full_matrices=False)
        # deterministic signs: the largest |entry| of each direction is positive
        signs = np.sign(Vt[np.arange(len(Vt)), np.abs(Vt).argmax(1)])
        signs[signs == 0] = 1
        Vt *= signs[:, None]
        var = S**2 / max(n - 1, 1)
        total = var.sum() if total is None else total
        ratio = var / total if total > 0 else np.zeros_like(var)
        if fraction:
            # scikit-learn's rule: the fewest components whose cumulative ratio is strictly above the fraction
            k = min(int(np.searchsorted(np.cumsum(ratio), k, side="right") + 1), len(ratio))
        self.n_components_ = int(k)
        self.components_ = Vt[:k]
        self.explained_variance_ = var[:k]
        self.explained_variance_ratio_ = ratio[:k]
        self.singular_values_ = S[:k]
        self.n_samples_ = n
        m = min(n, p)  # σ² of probabilistic PCA: the mean variance of the discarded directions (scikit-learn's)
        rest = (total - var[:k].sum()) if len(var) < m else var[k:m].sum()
        self.noise_variance_ = float(max(rest, 0.0) / (m - k)) if k < m else 0.0
        return self

    def get_covariance(self) -> np.ndarray:
        """The covariance of probabilistic PCA (Tipping & Bishop 1999), scikit-learn's formula:
        ``Wᵀ diag(max(λ − σ², 0)) W + σ² I`` with ``W`` the components (scaled by ``√λ`` when
        ``whiten``), ``λ`` the explained variances and ``σ²`` ``noise_variance_``."""
        check_is_fitted(self, "components_")
        W, gain = self._model_factors()
        cov = (W.T * gain) @ W
        cov.flat[:: len(cov) + 1] += self.noise_variance_
        return cov

    def get_precision(self) -> np.ndarray:
        """The inverse of :meth:`get_covariance`, by the matrix inversion lemma when ``σ² > 0``:
        ``(I − Wᵀ (W Wᵀ + σ² diag(1/g))⁻¹ W / σ²)/σ²`` (``g`` the gains ``max(λ − σ², 0)``)."""
        check_is_fitted(self, "components_")
        s2 = self.noise_variance_
        if s2 == 0.0:
            return np.linalg.inv(self.get_covariance())
        W, gain = self._model_factors()
        with np.errstate(divide="ignore"):  # a zero gain is an infinite diagonal entry, as scikit-learn's
            inner = W @ W.T / s2 + np.diag(1.0 / gain)
        precision = W.T @ np.linalg.inv(inner) @ W / -(s2**2)
        precision.flat[:: len(precision) + 1] += 1.0 / s2
        return precision

    def _model_factors(self) -> tuple[np.ndarray, np.ndarray]:
        W = self.components_ * np.sqrt(self.explained_variance_)[:, None] if self.whiten else self.components_
        lam = self.explained_variance_
        return W, np.where(lam > self.noise_variance_, lam - self.noise_variance_, 0.0)

    def score_samples(self, X) -> np.ndarray:
        """Log-likelihood of each row under probabilistic PCA, ``N(x̄, get_covariance())``:
        ``−½ (x − x̄)ᵀ P (x − x̄) − ½ (p ln 2π − ln det P)`` with ``P`` :meth:`get_precision`."""
        X = self._check_X(X, "components_")
        R = X - self.mean_
        precision = self.get_precision()
        sign, logdet = np.linalg.slogdet(precision)
        logdet = logdet if sign > 0 else -np.inf
        return -0.5 * np.sum(R * (R @ precision), axis=1) - 0.5 * (X.shape[1] * np.log(2 * np.pi) - logdet)

    def score(self, X, y=None) -> float:
        """The mean log-likelihood of the rows of ``X`` (:meth:`score_samples`), as scikit-learn's."""
        return float(np.mean(self.score_samples(X)))

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """``["pca0", "pca1", …]``, one name per component (scikit-learn's)."""
        check_is_fitted(self, "components_")
        return prefixed_feature_names(self, "pca", self.n_components_, input_features)

    def transform(self, X):
        X = self._check_X(X, "components_")
        Z = (X - self.mean_) @ self.components_.T
        if self.whiten:
            Z /= np.sqrt(np.where(self.explained_variance_ > 0, self.explained_variance_, 1.0))
        return Z

    def inverse_transform(self, Z):
        """``x = z Vₖ + x̄`` (z scaled back by √variance first when ``whiten``); ``Z`` has ``n_components_`` columns."""
        check_is_fitted(self, "components_")
        Z = check_array(Z, name="Z")
        if Z.shape[1] != self.n_components_:
            raise ValueError(f"PCA.inverse_transform: Z has {Z.shape[1]} columns but this PCA has n_components_="
                             f"{self.n_components_}; pass the output of transform (one column per component)")  # fmt: skip
        if self.whiten:
            Z = Z * np.sqrt(self.explained_variance_)
        return Z @ self.components_ + self.mean_


class _Centred:
    """``A = X − 1 x̄ᵀ`` as an operator, products with ``A`` and ``Aᵀ`` without the centred copy.
    Thin factors are kept as rows (``Vᵀ``, ``Uᵀ``: k × p, k × n): a GEMM whose result is k × n is
    faster than the same product written as n × k."""

    def __init__(self, X: np.ndarray, mean: np.ndarray):
        self.X, self.mean, self.shape, self.dtype = X, mean, X.shape, X.dtype

    def times(self, Vt: np.ndarray) -> np.ndarray:
        """``(A V)ᵀ = Vᵀ Xᵀ − (Vᵀ x̄) 1ᵀ`` from ``Vᵀ``."""
        out = Vt @ self.X.T
        out -= (Vt @ self.mean)[:, None]
        return out

    def times_t(self, Ut: np.ndarray) -> np.ndarray:
        """``Uᵀ A = Uᵀ X − (Uᵀ 1) x̄ᵀ`` from ``Uᵀ`` (the rows of ``(Aᵀ U)ᵀ``)."""
        out = Ut @ self.X
        out -= np.outer(Ut.sum(1), self.mean)
        return out


def _randomized_svd(A: _Centred, k: int, rng: np.random.Generator, oversamples: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` largest singular values and right singular vectors of ``A`` (Halko et al. 2011,
    Algorithm 4.4): ``q`` = 7 power iterations when ``k`` < 10 % of min(n, p), else 4, as scikit-learn.
    ``Yt`` holds ``Yᵀ``; ``Ω`` is Gaussian, p × (k + 10)."""
    n, p = A.shape
    q = 7 if k < 0.1 * min(n, p) else 4
    Yt = A.times(rng.standard_normal((p, min(k + oversamples, p))).astype(A.dtype, copy=False).T)
    for _ in range(q):  # Y ← A (Aᵀ Y), each factor re-orthonormalised
        Yt = A.times(_orthonormal_rows(A.times_t(_orthonormal_rows(Yt))))
    Qt = np.linalg.qr(Yt.T)[0].T
    _, S, Vt = np.linalg.svd(A.times_t(Qt), full_matrices=False)  # B = Qᵀ A
    return S[:k], Vt[:k]


def _orthonormal_rows(W: np.ndarray) -> np.ndarray:
    """A well-conditioned basis of ``W``'s rows between power iterations, by Cholesky QR:
    ``L⁻¹ W`` with ``LLᵀ = W Wᵀ`` — a small Gram matrix and a GEMM where Householder QR makes a
    pass per row.  The power iteration needs only the span and a sane scale (scikit-learn
    normalises by LU); the final basis is Householder's.  QR takes over when ``W Wᵀ`` is too
    ill-conditioned to factor."""
    try:
        Q = np.linalg.inv(np.linalg.cholesky(W @ W.T)) @ W
    except np.linalg.LinAlgError:
        return np.linalg.qr(W.T)[0].T
    return Q if np.isfinite(Q).all() else np.linalg.qr(W.T)[0].T
