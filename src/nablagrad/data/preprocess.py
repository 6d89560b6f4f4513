"""Preprocessing helpers: standardisation and one-hot encoding."""

from __future__ import annotations

import numpy as np

from ..backend.checks import as_array, is_int


def _numeric(X, who: str) -> np.ndarray:
    """``X`` as an array of numbers (not copied), or a ``TypeError`` naming ``who`` (not NumPy's "could not
    convert")."""
    a = as_array(X, who, "X")
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{who}: X must hold numbers, got dtype {a.dtype}; convert it, e.g. np.asarray(X, dtype=float)")
    return a


class NotFittedError(ValueError, AttributeError):
    """An estimator or transformer used before ``fit``: both a ``ValueError`` and an ``AttributeError``, as
    scikit-learn's ``NotFittedError`` (``ng.ml.NotFittedError`` is this class)."""


def _finite(X: np.ndarray, who: str) -> np.ndarray:
    """``X`` unchanged, or a ``ValueError`` naming ``who`` and the first column holding NaN or ±inf
    (the mean and σ of such a column would be NaN, and so would every value of it)."""
    if X.dtype.kind == "f" and not np.all(np.isfinite(X)):
        bad = np.argwhere(~np.isfinite(X))[0]
        column = f"column {bad[1]}" if X.ndim == 2 else f"index {tuple(bad.tolist())}"
        raise ValueError(f"{who}: X contains NaN or infinity (first at row {bad[0]}, {column}); remove or impute those "
                         "values first (e.g. replace NaN by the column mean)")  # fmt: skip
    return X


class Standardizer:
    """``z = (x − μ) / σ`` with μ, σ from the training data (σ = 1 for constant columns).

    NaN and ±inf are refused (not ignored as scikit-learn's ``StandardScaler`` does).  It has no
    hyperparameters; ``fit(X, y=None)``, ``get_params`` and ``set_params`` make it usable as a
    step of a scikit-learn ``Pipeline``."""

    def __repr__(self) -> str:
        return "Standardizer()"

    def get_params(self, deep: bool = True) -> dict:
        """No hyperparameters: ``{}`` (scikit-learn's estimator API)."""
        return {}

    def set_params(self, **params) -> Standardizer:
        if params:
            raise ValueError(f"Standardizer.set_params: Standardizer has no parameters, got {sorted(params)}; "
                             "create Standardizer() without arguments")  # fmt: skip
        return self

    def fit(self, X, y=None) -> Standardizer:
        """μ and σ per column of ``X`` (``y`` is ignored, as in scikit-learn's transformers)."""
        X = _numeric(X, "Standardizer.fit").astype(np.float64, copy=False)  # the statistics in float64
        if X.ndim == 0 or len(X) == 0:
            raise ValueError(f"Standardizer.fit: needs at least one row of data, got shape {X.shape}")
        _finite(X, "Standardizer.fit")  # checked before any attribute is set: a refused fit keeps the last one
        std = X.std(axis=0)
        self.mean_ = X.mean(axis=0)
        self.scale_ = np.where(std == 0, 1.0, std)
        return self

    def _fitted_width(self, X: np.ndarray, who: str, what: str = "X") -> None:
        """Refuse use before ``fit``, and rows that do not have the fitted data's shape."""
        if not hasattr(self, "mean_"):
            raise NotFittedError(f"{who}: not fitted yet; call fit(X_train) (or fit_transform) first")
        if X.shape[1:] != np.shape(self.mean_):
            raise ValueError(f"{who}: {what} has rows of shape {X.shape[1:]} but the fitted data had "
                             f"{np.shape(self.mean_)}; give the same features (columns) as in fit")  # fmt: skip

    def transform(self, X) -> np.ndarray:
        X = _numeric(X, "Standardizer.transform")
        self._fitted_width(X, "Standardizer.transform")
        _finite(X, "Standardizer.transform")
        dt = X.dtype if X.dtype.kind == "f" else np.float64
        return ((X - self.mean_) / self.scale_).astype(dt)

    def fit_transform(self, X, y=None) -> np.ndarray:
        return self.fit(X).transform(X)

    def inverse_transform(self, Z) -> np.ndarray:
        """``x = z·σ + μ``."""
        Z = _numeric(Z, "Standardizer.inverse_transform")
        self._fitted_width(Z, "Standardizer.inverse_transform", "Z")
        return Z * self.scale_ + self.mean_


def standardize(X_train, *others):
    """Standardise ``X_train`` and any further arrays with the training statistics."""
    s = Standardizer().fit(X_train)
    out = [s.transform(X_train), *(s.transform(o) for o in others)]
    return out[0] if not others else tuple(out)


def one_hot(labels, num_classes: int | None = None, dtype=np.float32) -> np.ndarray:
    """Integer labels (N,) → one-hot matrix (N, C): ``out[i, c] = 1`` where ``c = labels[i]``, else 0.

    Labels of any other shape ``S`` give ``S + (C,)`` (as ``torch.nn.functional.one_hot``), except that a column
    of labels (N, 1) gives (N, C), as Keras's ``to_categorical``; ``C`` is ``max(labels) + 1`` unless
    ``num_classes`` says."""
    labels = as_array(labels, "one_hot", "labels")
    shape = labels.shape[:-1] if labels.ndim == 2 and labels.shape[1] == 1 else labels.shape
    if labels.dtype.kind not in "iu":
        raise TypeError(f"one_hot: labels must be integers, got {labels.dtype}")
    if num_classes is None:
        if labels.size == 0:  # PyTorch: "Can not infer total number of classes from empty tensor."
            raise ValueError("one_hot: cannot infer the number of classes from no labels; pass num_classes=")
        c = int(labels.max()) + 1
    elif not is_int(num_classes) or num_classes < 1:
        raise (ValueError if is_int(num_classes) else TypeError)(
            f"one_hot: num_classes must be a positive integer, got {num_classes!r}"
        )
    else:
        c = int(num_classes)
    if labels.size and (labels.min() < 0 or labels.max() >= c):
        bad = labels.min() if labels.min() < 0 else labels.max()
        raise ValueError(f"one_hot: labels must lie in [0, {c - 1}] for {c} classes, got {bad}")
    out = np.zeros((labels.size, c), dtype=dtype)
    out[np.arange(labels.size), labels.reshape(-1)] = 1
    return out.reshape(*shape, c)
