"""Declarative hyperparameter validation for the estimators (scikit-learn's design, our code).

Each estimator declares, once, what each ``__init__`` argument may be::

    _parameter_constraints = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "solver": [Options({"cd", "proximal"})],
        "fit_intercept": [BOOLEAN],
    }

A value is valid when it satisfies at least one constraint of its list.  :func:`validate_params`
checks every parameter against the table before ``fit`` touches data or state, and raises
:class:`InvalidParameterError` (a ``ValueError`` and a ``TypeError``, as scikit-learn's) whose
message names the estimator, the parameter, every allowed value and the value received.
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
import sys
from collections.abc import Callable, Iterable, Mapping

import numpy as np

from ..backend.checks import is_int, is_real


class InvalidParameterError(ValueError, TypeError):
    """A hyperparameter of the wrong type or outside its allowed values (raised at ``fit``).

    Both a ``ValueError`` and a ``TypeError``, as scikit-learn's ``InvalidParameterError``, so code
    that catches either keeps working whichever of the two the value's fault is."""


class Constraint:
    """One allowed kind of value; ``describe`` reads after "must be" in the error message."""

    def is_satisfied_by(self, value) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.describe()}>"


class Interval(Constraint):
    """A number of ``kind`` (``numbers.Integral``, ``numbers.Real``, or ``"real_not_int"`` for a
    float that is not an int) between ``low`` and ``high`` (``None``: unbounded).  ``closed`` is
    ``"left"``, ``"right"``, ``"both"`` or ``"neither"``; an unbounded end is open, so NaN and ±inf
    never pass unless an end is ±inf and closed."""

    def __init__(self, kind, low: float | None, high: float | None, *, closed: str = "left"):
        if kind not in (numbers.Integral, numbers.Real, "real_not_int"):
            raise ValueError(f"Interval: kind must be numbers.Integral, numbers.Real or 'real_not_int', got {kind!r}")
        if closed not in ("left", "right", "both", "neither"):
            raise ValueError(f"Interval: closed must be 'left', 'right', 'both' or 'neither', got {closed!r}")
        self.kind, self.low, self.high, self.closed = kind, low, high, closed

    def is_satisfied_by(self, value) -> bool:
        if self.kind is numbers.Integral:
            if not is_int(value):
                return False
        elif not is_real(value) or (self.kind == "real_not_int" and is_int(value)):
            return False
        if isinstance(value, numbers.Real) and math.isnan(value):
            return False
        low = -math.inf if self.low is None else self.low
        high = math.inf if self.high is None else self.high
        low_ok = value >= low if self.closed in ("left", "both") and self.low is not None else value > low
        high_ok = value <= high if self.closed in ("right", "both") and self.high is not None else value < high
        return bool(low_ok and high_ok)

    def describe(self) -> str:
        noun = "an int" if self.kind is numbers.Integral else "a float"
        left = "[" if self.closed in ("left", "both") and self.low is not None else "("
        right = "]" if self.closed in ("right", "both") and self.high is not None else ")"
        low = "-inf" if self.low is None else f"{self.low:g}"
        high = "inf" if self.high is None else f"{self.high:g}"
        return f"{noun} in the range {left}{low}, {high}{right}"


class Options(Constraint):
    """One of a fixed set of values (strings by default); equality and type both count, so
    ``True`` is not the option ``1``."""

    def __init__(self, values: Iterable, kind: type = str):
        self.values, self.kind = tuple(values), kind

    def is_satisfied_by(self, value) -> bool:
        return isinstance(value, self.kind) and not isinstance(value, bool | np.bool_) and value in self.values

    def describe(self) -> str:
        listed = ", ".join(repr(v) for v in sorted(self.values, key=str))
        return f"a {self.kind.__name__} among {{{listed}}}"


class InstanceOf(Constraint):
    """Any instance of ``kind``."""

    def __init__(self, kind: type):
        self.kind = kind

    def is_satisfied_by(self, value) -> bool:
        return isinstance(value, self.kind)

    def describe(self) -> str:
        return f"an instance of {self.kind.__name__!r}"


class HasMethods(Constraint):
    """An object with every one of ``methods`` (e.g. an estimator: ``fit``)."""

    def __init__(self, *methods: str):
        self.methods = methods

    def is_satisfied_by(self, value) -> bool:
        return not isinstance(value, type) and all(callable(getattr(value, m, None)) for m in self.methods)

    def describe(self) -> str:
        names = " and ".join(repr(m) for m in self.methods)
        return f"an object implementing {names}"


class _Boolean(Constraint):
    def is_satisfied_by(self, value) -> bool:
        return isinstance(value, bool | np.bool_)

    def describe(self) -> str:
        return "a bool (True or False)"


class _NoneConstraint(Constraint):
    def is_satisfied_by(self, value) -> bool:
        return value is None

    def describe(self) -> str:
        return "None"


class _Callable(Constraint):
    def is_satisfied_by(self, value) -> bool:
        return callable(value) and not isinstance(value, type)

    def describe(self) -> str:
        return "a callable"


class _RandomState(Constraint):
    """What ``numpy.random.default_rng`` takes as a seed: None, an int >= 0, a Generator, a
    SeedSequence, a BitGenerator or a legacy RandomState."""

    def is_satisfied_by(self, value) -> bool:
        if value is None or (is_int(value) and value >= 0):
            return True
        return isinstance(value, np.random.Generator | np.random.SeedSequence | np.random.BitGenerator | np.random.RandomState)

    def describe(self) -> str:
        return "None, an int in the range [0, inf) or a numpy random Generator"


class _RealNumber(Constraint):
    """Any real number, NaN and ±inf included (not a bool): a value to stand in for a score."""

    def is_satisfied_by(self, value) -> bool:
        return is_real(value)

    def describe(self) -> str:
        return "a real number (NaN included)"


class _LayerSizes(Constraint):
    """MLP widths: one int >= 1, or a sequence (list, tuple, 1-D array) of ints >= 1."""

    def is_satisfied_by(self, value) -> bool:
        if is_int(value):
            return value >= 1
        if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
            return False
        sizes = list(value)
        return all(is_int(s) and s >= 1 for s in sizes) and not (isinstance(value, np.ndarray) and value.ndim != 1)

    def describe(self) -> str:
        return "an int >= 1 or a sequence of ints >= 1 such as (100,) or [64, 32]"


BOOLEAN: Constraint = _Boolean()
NONE: Constraint = _NoneConstraint()
CALLABLE: Constraint = _Callable()
RANDOM_STATE: Constraint = _RandomState()
LAYER_SIZES: Constraint = _LayerSizes()
REAL_NUMBER: Constraint = _RealNumber()


def check_random_state(random_state):
    """scikit-learn's ``check_random_state``: an int seeds a legacy ``RandomState`` (so a seed
    gives scikit-learn's draws), a ``RandomState`` or ``Generator`` is used as given, ``None`` is fresh."""
    if isinstance(random_state, np.random.RandomState | np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.SeedSequence | np.random.BitGenerator):
        return np.random.default_rng(random_state)
    return np.random.RandomState(random_state)


N_JOBS: list[Constraint] = [NONE, Interval(numbers.Integral, 1, None), Interval(numbers.Integral, None, -1, closed="right")]
"""joblib's ``n_jobs``: None, a positive number of workers, or -1 (every core), -2 (all but one), ..."""


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} or {parts[-1]}"


@functools.cache
def _error_with(sk_error: type) -> type:
    return type("InvalidParameterError", (InvalidParameterError, sk_error), {"__module__": __name__})


def _error_class() -> type[InvalidParameterError]:
    """Our error — also an instance of scikit-learn's when the user has imported scikit-learn
    (never imported here: nablagrad does not depend on it)."""
    sk = sys.modules.get("sklearn.utils._param_validation")
    sk_error = getattr(sk, "InvalidParameterError", None)
    return InvalidParameterError if sk_error is None else _error_with(sk_error)


def signature_defaults(func: Callable) -> dict:
    """``{name: default}`` for the arguments of ``func`` that have one (the hint in the message)."""
    return {p.name: p.default for p in inspect.signature(func).parameters.values() if p.default is not p.empty}


def validate_params(constraints: Mapping[str, list[Constraint]], params: Mapping, caller: str,
                    defaults: Mapping | None = None) -> None:  # fmt: skip
    """Raise :class:`InvalidParameterError` for the first of ``params`` that satisfies none of its
    ``constraints``; parameters without an entry are not checked (a subclass may add its own).

    The message: ``The 'alpha' parameter of Ridge must be a float in the range [0, inf). Got nan
    instead; the default is alpha=1.0.`` (the last part when ``defaults`` knows the parameter)."""
    for name, value in params.items():
        allowed = constraints.get(name)
        if allowed is None or any(c.is_satisfied_by(value) for c in allowed):
            continue
        hint = ""
        if defaults is not None and name in defaults:
            hint = f"; the default is {name}={defaults[name]!r}"
        shown = repr(value) if type(value) in (int, float, str) else f"{value!r} (a {type(value).__name__})"
        raise _error_class()(
            f"The {name!r} parameter of {caller} must be {_join([c.describe() for c in allowed])}. Got {shown} instead{hint}."
        )
