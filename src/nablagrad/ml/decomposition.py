"""PCA through the SVD of the centred data (lecture 001): ``X − x̄ = U S Vᵀ``; the rows of Vᵀ
are the principal directions, ``S²/(n − 1)`` their variances, and the projected components
are uncorrelated."""

from __future__ import annotations

import numpy as np

from .base import BaseEstimator, TransformerMixin, check_array, check_is_fitted, validate_features


class PCA(TransformerMixin, BaseEstimator):
    def __init__(self, n_components=None, whiten: bool = False):
        self.n_components = n_components
        self.whiten = whiten

    def fit(self, X, y=None):
        X = check_array(X, min_samples=1)
        validate_features(self, X, reset=True)
        n, p = X.shape
        k = min(n, p) if self.n_components is None else self.n_components
        fraction = isinstance(k, float) and 0 < k < 1
        if not fraction and (not isinstance(k, int | np.integer) or not 0 < k <= min(n, p)):
            raise ValueError(f"PCA: n_components must be an int in [1, {min(n, p)}] or a fraction in (0, 1), got {k!r}")
        self.mean_ = X.mean(0)
        U, S, Vt = np.linalg.svd(X - self.mean_, full_matrices=False)
        # deterministic signs: the largest |entry| of each direction is positive
        signs = np.sign(Vt[np.arange(len(Vt)), np.abs(Vt).argmax(1)])
        signs[signs == 0] = 1
        Vt *= signs[:, None]
        var = S**2 / max(n - 1, 1)
        total = var.sum()
        ratio = var / total if total > 0 else np.zeros_like(var)
        if isinstance(k, float):
            k = int(np.searchsorted(np.cumsum(ratio), k) + 1)
        self.n_components_ = int(k)
        self.components_ = Vt[:k]
        self.explained_variance_ = var[:k]
        self.explained_variance_ratio_ = ratio[:k]
        self.singular_values_ = S[:k]
        return self

    def transform(self, X):
        X = self._check_X(X, "components_")
        Z = (X - self.mean_) @ self.components_.T
        if self.whiten:
            Z /= np.sqrt(np.where(self.explained_variance_ > 0, self.explained_variance_, 1.0))
        return Z

    def inverse_transform(self, Z):
        check_is_fitted(self, "components_")
        Z = check_array(Z)
        if self.whiten:
            Z = Z * np.sqrt(self.explained_variance_)
        return Z @ self.components_ + self.mean_
