"""Forward-mode AD: every value carries its tangent ``ẇ = ∂w/∂x`` (dual numbers, lecture 000).

Inside :func:`forward_mode` each primitive applied to a tensor with a tangent also evaluates
its JVP rule, so tangents flow from inputs to outputs in the order of evaluation — one pass
per input direction, which is why forward mode suits ``f: Rⁿ → Rᵐ`` with ``m ≫ n``.
"""

from __future__ import annotations

from contextlib import contextmanager

from . import tensor as _tensor

_depth = 0


def depth() -> int:
    """How many forward-mode passes are active (0 or 1)."""
    return _depth


@contextmanager
def forward_mode():
    """Activate tangent propagation for the ops inside."""
    global _depth
    if _depth:
        raise NotImplementedError(
            "jvp: nested forward mode (jvp inside jvp, e.g. jacfwd(jacfwd(f))) is not supported; "
            "use jacfwd(jacrev(f)) or hessian(f) (forward-over-reverse) instead"
        )
    _depth += 1
    _tensor._set_slow_path()
    try:
        yield
    finally:
        _depth -= 1
        _tensor._set_slow_path()
