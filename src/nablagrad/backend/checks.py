"""What counts as an integer and as a real number in an argument, for every layer's checks.

``True`` is an ``int`` to Python and ``np.bool_`` converts to one, but ``batch_size=True`` or
``p=False`` is a mistake, never a number: both are refused.  NumPy's integer and floating scalars
count (they register as ``numbers.Integral`` and ``numbers.Real``)."""

from __future__ import annotations

import math
import numbers

import numpy as np


def is_int(v) -> bool:
    """An integer that is not a bool: ``3``, ``np.int64(3)``; not ``True``, ``3.0`` or ``"3"``."""
    return isinstance(v, numbers.Integral) and not isinstance(v, bool | np.bool_)


def is_real(v) -> bool:
    """A real number that is not a bool (finite or not): ``0.5``, ``2``, ``np.float32(1)``; not ``True``."""
    return isinstance(v, numbers.Real) and not isinstance(v, bool | np.bool_)


def is_finite(v) -> bool:
    """``math.isfinite`` of a real number, with a Python int beyond float's range infinite (``math.isfinite``
    raises OverflowError on one, ``np.isfinite`` on any int beyond int64)."""
    try:
        return math.isfinite(v)
    except OverflowError:
        return False


def is_flag(v) -> bool:
    """A bool: ``True``, ``False`` or NumPy's ``np.True_``/``np.False_``; not ``1`` or ``"yes"``."""
    return isinstance(v, bool | np.bool_)


def flag(who: str, name: str, value) -> bool:
    """``value`` as a Python bool, refused (naming ``who``'s argument ``name``) unless it is one (:func:`is_flag`)."""
    if not is_flag(value):
        raise TypeError(f"{who}: {name} must be True or False, got {type(value).__name__} {value!r}")
    return bool(value)


def as_array(value, who: str, name: str) -> np.ndarray:
    """``np.asarray(value)``, or a ``ValueError`` naming ``who``'s argument ``name`` where the rows of a list differ
    in length (NumPy's "inhomogeneous shape")."""
    try:
        return np.asarray(value)
    except ValueError as exc:
        raise ValueError(f"{who}: {name} could not be turned into an array ({exc}); give every row the same length") from None
