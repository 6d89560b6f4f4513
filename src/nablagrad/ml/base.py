"""The estimator API of scikit-learn, implemented without importing it.

``get_params``/``set_params`` read the ``__init__`` signature; inputs are validated the way
scikit-learn users expect (2-D, finite, real, enough samples, same number of features as at
fit time), with messages that say what is wrong and how to fix it.

Hyperparameters are validated the way scikit-learn does it: each estimator declares a
``_parameter_constraints`` table (:mod:`._params`), and every ``fit`` defined on a subclass is
wrapped (:func:`_fit_context`, installed by ``BaseEstimator.__init_subclass__``) so that the
table is checked before the data is read, and a ``fit`` that fails for any reason leaves the
estimator exactly as it was (a fitted one keeps its fitted attributes).
"""

from __future__ import annotations

import functools
import inspect
import numbers
import sys
import types
import warnings
from collections.abc import Callable, Iterator
from typing import ClassVar

import numpy as np

from ..data.preprocess import NotFittedError  # one class for every estimator (data's Standardizer included)
from ._params import Constraint, signature_defaults, validate_params
from .metrics import accuracy_score, r2_score


class DataConversionWarning(UserWarning):
    """The input was converted (e.g. a column-vector y raveled)."""


class ConvergenceWarning(UserWarning):
    """An iterative solver stopped at its iteration limit."""


def _fit_context(fit: Callable) -> Callable:
    """``fit`` that first validates the hyperparameters against ``_parameter_constraints``, and on
    any failure (a bad value, bad data, a solver error, Ctrl-C) restores every attribute the
    estimator had before the call: a failed ``fit`` changes nothing."""

    @functools.wraps(fit)
    def checked_fit(self, *args, **kwargs):
        self._validate_params()
        before = dict(vars(self))
        try:
            return fit(self, *args, **kwargs)
        except BaseException:
            vars(self).clear()
            vars(self).update(before)
            raise

    checked_fit.__fit_context__ = True
    return checked_fit


class BaseEstimator:
    """Parameters are the ``__init__`` arguments, stored unchanged as attributes.

    A subclass lists the values each parameter may take in ``_parameter_constraints``
    (``{name: [Constraint, ...]}``, see :mod:`._params`); its ``fit`` checks them first."""

    _estimator_kind: str | None = None
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {}

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        fit = cls.__dict__.get("fit")
        if callable(fit) and not getattr(fit, "__fit_context__", False):
            cls.fit = _fit_context(fit)

    def _validate_params(self) -> None:
        """Raise :class:`InvalidParameterError` naming the first parameter outside its constraints."""
        validate_params(self._parameter_constraints, self.get_params(deep=False), type(self).__name__,
                        signature_defaults(type(self).__init__))  # fmt: skip

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return sorted(p.name for p in sig.parameters.values() if p.name != "self" and p.kind != p.VAR_KEYWORD)

    def get_params(self, deep: bool = True) -> dict:
        out = {}
        for name in self._param_names():
            value = getattr(self, name)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                out.update({f"{name}__{k}": v for k, v in value.get_params().items()})
            out[name] = value
        return out

    def set_params(self, **params) -> BaseEstimator:
        """Set parameters, ``name=value`` or ``nested__name=value``, all or nothing: an invalid name
        anywhere (here or in a nested estimator) raises ``ValueError`` and changes no parameter."""
        valid = self._param_names()
        direct: dict[str, object] = {}
        nested: dict[str, dict] = {}
        for key, value in params.items():
            name, _, sub = key.partition("__")
            if name not in valid:
                raise ValueError(f"Invalid parameter {name!r} for estimator {type(self).__name__}. Valid parameters: {valid}")
            if sub:
                nested.setdefault(name, {})[sub] = value
            else:
                direct[name] = value
        before = {name: getattr(self, name) for name in direct}
        done: list[tuple[object, dict]] = []  # (nested estimator, its parameters before the change)
        try:
            for name, value in direct.items():
                setattr(self, name, value)
            for name, sub_params in nested.items():
                inner = getattr(self, name)  # the new one when the same call replaced it
                if hasattr(inner, "get_params"):  # restored too when its own set_params fails half-way
                    done.append((inner, inner.get_params(deep=False)))
                inner.set_params(**sub_params)
        except BaseException:
            for inner, old in reversed(done):
                inner.set_params(**old)
            for name, value in before.items():
                setattr(self, name, value)
            raise
        return self

    def __repr__(self) -> str:
        defaults = {p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values()}
        changed = []
        for k in self._param_names():
            v = getattr(self, k)
            d = defaults.get(k, inspect.Parameter.empty)
            try:
                same = v is d or (not isinstance(v, np.ndarray) and type(v) is type(d) and v == d)
            except Exception:  # comparison of exotic objects
                same = False
            if not same:
                changed.append(f"{k}={v!r}")
        return f"{type(self).__name__}({', '.join(changed)})"

    def _check_X(self, X, fitted_attribute: str) -> np.ndarray:
        """Predict-time input: the estimator is fitted and X has the features it was fitted on."""
        check_is_fitted(self, fitted_attribute)
        return validate_features(self, check_array(X), reset=False)

    def __sklearn_is_fitted__(self) -> bool:
        return any(k.endswith("_") and not k.startswith("__") for k in vars(self))

    def _tag_overrides(self) -> dict:
        return {}

    def __sklearn_tags__(self):
        """scikit-learn's tags; scikit-learn is imported only when scikit-learn itself asks."""
        from sklearn.utils import (  # noqa: PLC0415
            ClassifierTags,
            InputTags,
            RegressorTags,
            Tags,
            TargetTags,
            TransformerTags,
        )

        extra = self._tag_overrides()
        kind = self._estimator_kind
        target = TargetTags(required=kind in ("classifier", "regressor"), multi_output=extra.get("multi_output", False))
        clf = ClassifierTags(multi_class=extra.get("multi_class", True), multi_label=extra.get("multi_label", False))
        tags = Tags(
            estimator_type=kind,
            target_tags=target,
            transformer_tags=TransformerTags() if isinstance(self, TransformerMixin) else None,
            classifier_tags=clf if kind == "classifier" else None,
            regressor_tags=RegressorTags() if kind == "regressor" else None,
            input_tags=InputTags(),
            non_deterministic=extra.get("non_deterministic", False),
        )
        return tags


class available_if:  # noqa: N801 - a decorator, named as scikit-learn's
    """A method present only when ``missing(self)`` is ``None`` (scikit-learn's ``available_if``):
    otherwise reading it raises ``AttributeError`` with the message ``missing`` returned, so
    ``hasattr`` is ``False`` and a call says why it is not there::

        @available_if(lambda self: None if hasattr(self.estimator, "predict_proba") else "...")
        def predict_proba(self, X): ...
    """

    def __init__(self, missing: Callable[[object], str | None]):
        self.missing = missing

    def __call__(self, method: Callable) -> _Available:
        return _Available(method, self.missing)


class _Available:
    """The descriptor :class:`available_if` makes: the bound method, or ``AttributeError``."""

    def __init__(self, method: Callable, missing: Callable[[object], str | None]):
        self.method, self.missing = method, missing
        functools.update_wrapper(self, method)

    def __get__(self, obj, owner=None):
        if obj is None:
            return self.method
        why = self.missing(obj)
        if why is not None:
            raise AttributeError(why)
        return types.MethodType(self.method, obj)


def _not_fitted_class() -> type[Exception]:
    """Our NotFittedError — also an instance of scikit-learn's when the user has imported it
    (never imported here: the library does not depend on scikit-learn)."""
    sk = sys.modules.get("sklearn.exceptions")
    if sk is None:
        return NotFittedError
    return type("NotFittedError", (NotFittedError, sk.NotFittedError), {"__module__": __name__})


def check_is_fitted(est: BaseEstimator, attribute: str) -> None:
    if not hasattr(est, attribute):
        raise _not_fitted_class()(
            f"This {type(est).__name__} instance is not fitted yet. Call 'fit' with appropriate arguments before using it."
        )


def _reject_special(X, name: str) -> None:
    if hasattr(X, "toarray") and "sparse" in type(X).__module__:
        raise TypeError(f"{name}: sparse input is not supported; convert it with X.toarray()")


def check_array(X, *, name: str = "X", ensure_2d: bool = True, dtype=np.float64, allow_nd: bool = False, min_samples: int = 1):
    """A finite, real, 2-D float array (or raise a ValueError that says why); float32 and float64
    are kept, anything else (integers, booleans, float16) becomes ``dtype``."""
    _reject_special(X, name)
    if X is None:
        raise ValueError(f"Expected a 2D array for {name}, got None")
    arr = np.asarray(X)
    if np.iscomplexobj(arr):
        raise ValueError(f"Complex data not supported: {name} has dtype {arr.dtype}")
    if arr.dtype.kind not in "fiub":
        try:
            arr = arr.astype(np.float64)  # a TypeError (e.g. a dict inside) propagates as is
        except ValueError:
            raise ValueError(f"{name} must be numeric; could not convert dtype {arr.dtype} to float") from None
    if ensure_2d:
        if arr.ndim != 2 and not (allow_nd and arr.ndim > 2):
            raise ValueError(
                f"Expected 2D array, got {'scalar' if arr.ndim == 0 else f'{arr.ndim}D'} array instead for {name}. "
                "Reshape your data either using array.reshape(-1, 1) if your data has a single feature or "
                "array.reshape(1, -1) if it contains a single sample."
            )
        if arr.shape[1] == 0:
            raise ValueError(f"Found array with 0 feature(s) (shape={arr.shape}) while a minimum of 1 is required.")
    if arr.shape[0] < min_samples:
        raise ValueError(
            f"Found array with {arr.shape[0]} sample(s) (shape={arr.shape}) while a minimum of {min_samples} is required."
        )
    if dtype is not None and (arr.dtype.kind != "f" or arr.dtype.itemsize < 4):
        arr = arr.astype(dtype)  # float16 too: LAPACK has no half precision, and its sums overflow at 65504
    with np.errstate(over="ignore", invalid="ignore"):
        total = arr.sum()  # finite: no NaN or ±inf inside (the elementwise test only when it is not)
    if not np.isfinite(total) and not np.all(np.isfinite(arr)):
        raise ValueError(f"Input {name} contains NaN or infinity; remove or impute those values first.")
    return arr


def centred_blocks(X: np.ndarray, mean: np.ndarray, rows: int = 2048,
                   row_scale: np.ndarray | None = None) -> Iterator[tuple[int, np.ndarray]]:  # fmt: skip
    """``(start, X[start : start + rows] − meanᵀ)`` over the rows of ``X``, each block written into
    one reused buffer: a pass over ``X − 1 meanᵀ`` as exact as the centred copy, without its n × p
    memory.  With ``row_scale`` ``r`` the blocks are of ``diag(r)(X − 1 meanᵀ)`` (``r = √s`` for
    sample weights ``s``).  A block is valid until the next one is drawn."""
    n, p = X.shape
    buf = np.empty((min(rows, n), p), np.result_type(X, mean))
    for start in range(0, n, rows):
        block = np.subtract(X[start : start + rows], mean, out=buf[: min(rows, n - start)])
        if row_scale is not None:
            block *= row_scale[start : start + len(block), None]
        yield start, block


def check_X_y(X, y, *, y_numeric: bool = False, multi_output: bool = False, est=None):
    if y is None:
        who = type(est).__name__ if est is not None else "This estimator"
        raise ValueError(f"{who} requires y to be passed, but the target y is None")
    X = check_array(X)
    _reject_special(y, "y")
    y = np.asarray(y)
    if multi_output and y.ndim == 2 and not (y.shape[1] == 1 and getattr(est, "_estimator_kind", "") == "classifier"):
        pass
    elif y.ndim == 2 and y.shape[1] == 1:
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected. Please change the shape of y to (n_samples, ), "
            "for example using ravel().",
            DataConversionWarning,
            stacklevel=3,
        )
        y = y.ravel()
    elif y.ndim != 1:
        raise ValueError(f"y should be a 1d array, got an array of shape {y.shape} instead.")
    if len(X) != len(y):
        raise ValueError(f"Found input variables with inconsistent numbers of samples: [{len(X)}, {len(y)}]")
    if y_numeric or y.dtype.kind in "fc":
        if np.iscomplexobj(y):
            raise ValueError("Complex data not supported in y")
        if y.dtype.kind == "O":
            y = y.astype(np.float64)
        if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
            raise ValueError("Input y contains NaN or infinity.")
    return X, y


def validate_features(est, X, reset: bool):
    """Record ``n_features_in_`` at fit time; check it at predict time."""
    if reset:
        est.n_features_in_ = X.shape[1]
        return X
    check_is_fitted(est, "n_features_in_")
    if X.shape[1] != est.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1]} features, but {type(est).__name__} is expecting {est.n_features_in_} features as input."
        )
    return X


def prefixed_feature_names(est, prefix: str, n_out: int, input_features=None) -> np.ndarray:
    """scikit-learn's ``get_feature_names_out`` of a transformer whose outputs are new features:
    ``[prefix0, prefix1, …]`` (object array); ``input_features``, when given, must name the
    ``n_features_in_`` inputs."""
    if input_features is not None and len(input_features) != est.n_features_in_:
        raise ValueError(f"{type(est).__name__}.get_feature_names_out: input_features has {len(input_features)} names "
                         f"but the estimator was fitted on {est.n_features_in_} features; pass one name per input "
                         "feature, or None")  # fmt: skip
    return np.asarray([f"{prefix}{i}" for i in range(n_out)], dtype=object)


def _label_kind(v) -> str:
    """``"string"``, ``"number"`` or the type's name of one label of an object array."""
    if isinstance(v, str):
        return "string"
    return "number" if isinstance(v, numbers.Number) else type(v).__name__


def check_classification_targets(y, who: str = "This classifier") -> np.ndarray:
    """Discrete class labels, or scikit-learn's ``Unknown label type`` ``ValueError``: a float
    label with a fraction (continuous), or an object array mixing strings, numbers and others
    (``None``) that could not be sorted into ``classes_``.  Numbers in an object array become a
    numeric array (so ``[1.5, 2]`` is refused as continuous)."""
    y = np.asarray(y)
    if y.dtype.kind == "O":
        kinds = {_label_kind(v) for v in y.ravel().tolist()}
        if kinds == {"number"}:
            y = np.array(y.tolist())
        elif kinds != {"string"}:
            raise ValueError(f"{who}: Unknown label type: unknown. y holds labels of several kinds "
                             f"({', '.join(sorted(kinds))}); classifiers need discrete class labels that are all "
                             "strings or all numbers (None is not a label) — e.g. y.astype(str)")  # fmt: skip
    if y.dtype.kind in "fc" and np.any(y != np.round(y)):
        raise ValueError(f"{who}: Unknown label type: continuous. Classifiers need discrete class labels (integers or "
                         "strings).")  # fmt: skip
    return y


def check_scalar(value, name: str, kind=numbers.Real, min_val=None, max_val=None, include_min: bool = True):
    if not isinstance(value, kind) or isinstance(value, bool):
        raise TypeError(f"{name} must be a {kind.__name__}, got {type(value).__name__} {value!r}")
    if min_val is not None and (value < min_val or (value == min_val and not include_min)):
        raise ValueError(f"{name} must be {'>=' if include_min else '>'} {min_val}, got {value}")
    if max_val is not None and value > max_val:
        raise ValueError(f"{name} must be <= {max_val}, got {value}")
    return value


class RegressorMixin:
    _estimator_kind = "regressor"

    def score(self, X, y, sample_weight=None) -> float:
        """R² = 1 − Σ w(y − ŷ)² / Σ w(y − ȳ_w)² (:func:`.metrics.r2_score`, averaged over outputs)."""
        return r2_score(y, self.predict(X), sample_weight=sample_weight)


class ClassifierMixin:
    _estimator_kind = "classifier"

    def score(self, X, y, sample_weight=None) -> float:
        """(Weighted) accuracy, :func:`.metrics.accuracy_score`: subset accuracy on multilabel targets."""
        return accuracy_score(y, self.predict(X), sample_weight=sample_weight)

    def _fit_classes(self, X, y) -> tuple[np.ndarray, np.ndarray]:
        """Fit-time input of a classifier: validated X and the labels encoded as 0 … k−1."""
        X, y = check_X_y(X, y, est=self)
        validate_features(self, X, reset=True)
        return X, self._encode_classes(y)

    def _encode_classes(self, y) -> np.ndarray:
        y = check_classification_targets(y, type(self).__name__)
        self.classes_, encoded = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in the data, but the data contains only one "
                f"class: {self.classes_[0]!r}"
            )
        return encoded.reshape(-1)


class TransformerMixin:
    _estimator_kind = "transformer"

    def fit_transform(self, X, y=None, **fit_params):
        """:meth:`fit` (with ``fit_params``, e.g. ``sample_weight``) then :meth:`transform` on the same X."""
        return self.fit(X, y, **fit_params).transform(X)
