"""Our warnings, also scikit-learn's where the user has imported scikit-learn (so their filters catch them)."""

from __future__ import annotations

import functools
import sys


@functools.cache
def _twin(ours: type, theirs: type) -> type:
    return type(ours.__name__, (ours, theirs), {"__module__": ours.__module__})


def sklearn_twin(ours: type[Warning]) -> type[Warning]:
    """``ours``, or a subclass of it and of scikit-learn's warning of the same name when ``sklearn.exceptions``
    is already imported (never imported here: scikit-learn is no dependency)."""
    theirs = getattr(sys.modules.get("sklearn.exceptions"), ours.__name__, None)
    return ours if theirs is None else _twin(ours, theirs)
