"""Forward-mode AD: every value carries its tangent ``ẇ = ∂w/∂x`` (dual numbers, lecture 000).

A ``jvp`` opens a fresh level (:func:`.mode.forward_level`) and gives its inputs a tangent at
that level; each primitive applied to them evaluates its JVP rule too, so tangents flow from
inputs to outputs in the order of evaluation — one pass per input direction, which is why
forward mode suits ``f: Rⁿ → Rᵐ`` with ``m ≫ n``.  Levels nest: a ``jvp`` inside a ``jvp``
has its own level, and its tangents may themselves carry the outer one's (forward-over-forward).
"""

from __future__ import annotations

import numpy as np

from . import mode as _m
from .ops import broadcast_to, identity, reshape
from .tensor import Tensor, _wrap, mark_batched


def zeros_like(x: Tensor) -> Tensor:
    """Zeros shaped like ``x``, batched like it under ``vmap``."""
    z = _wrap(np.zeros_like(x.data))
    if _m.batched(x):
        z._tangents = {_m.state.vmap_level: _m.BATCHED}
    return z


def depth() -> int:
    """How many forward-mode passes (``jvp`` calls) are running."""
    return len(_m.state.levels)


def is_traced(x) -> bool:
    """Whether an outer transform follows ``x``: on a tape, or carrying a live tangent."""
    return isinstance(x, Tensor) and (x.requires_grad or _m.live_level(x._tangents) > 0)


def dual(x: Tensor, tangent, level: int, who: str = "jvp") -> Tensor:
    """A new handle on ``x`` whose tangent at ``level`` is ``tangent`` (same data, same tape)."""
    d = identity(x) if is_traced(x) else _wrap(x.data)
    if isinstance(tangent, Tensor):
        t = tangent if tangent.dtype == x.dtype else tangent.astype(x.dtype)
    else:
        t = _wrap(np.asarray(tangent, dtype=x.dtype))
    if t.shape != x.shape:
        raise ValueError(f"{who}: a tangent has shape {t.shape} but its primal has shape {x.shape}; give one of the same shape")
    if _m.batched(d) and not _m.batched(t):  # a batched value's tangent is batched (vmap)
        with _m.physical():
            t = broadcast_to(reshape(t, (1,) + t.shape), (_m.state.vmap_size,) + t.shape)
        mark_batched(t)
    d._tangents = {**(d._tangents or {}), level: t}
    return d


def take_tangent(out: Tensor, level: int) -> Tensor:
    """Remove and return ``out``'s tangent at ``level`` (zeros when ``out`` does not depend on
    the inputs of that level)."""
    tangents = out._tangents
    if not tangents or level not in tangents:
        return zeros_like(out)
    out._tangents = {k: v for k, v in tangents.items() if k != level} or None
    return tangents[level]
