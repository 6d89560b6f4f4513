"""Forward-mode AD: every value carries its tangent ``ẇ = ∂w/∂x`` (dual numbers, lecture 000).

A ``jvp`` opens a fresh level (:func:`.mode.forward_level`) and gives its inputs a tangent at
that level; each primitive applied to them evaluates its JVP rule too, so tangents flow from
inputs to outputs in the order of evaluation — one pass per input direction, which is why
forward mode suits ``f: Rⁿ → Rᵐ`` with ``m ≫ n``.  Levels nest: a ``jvp`` inside a ``jvp``
has its own level, and its tangents may themselves carry the outer one's (forward-over-forward).
"""

from __future__ import annotations

from ..backend.device import to_device
from ..backend.namespace import namespace_of
from . import grad_mode as _m
from .ops import broadcast_to, identity, reshape
from .tensor import Tensor, _wrap, mark_batched


def zeros_like(x: Tensor) -> Tensor:
    """Zeros shaped like ``x`` on its device, batched like it under ``vmap`` (by every running vmap)."""
    z = _wrap(namespace_of(x.data).zeros_like(x.data))
    if x._tangents:
        z._tangents = dict.fromkeys(vmapped(x) & _m.state.vmaps.keys(), _m.BATCHED) or None
    return z


def broadcast_into(x: Tensor, level: int) -> Tensor:
    """``x``, the same for every example of vmap ``level``, as a tensor batched by it: a new axis
    of that vmap's size, placed after the axes of the vmaps outside it (which batch ``x`` as
    before: the ops below run under their batching rules) and before those of the vmaps inside
    it (ordinary axes to those ops: ``b`` is marked with them again)."""
    with _m.physical(level):
        shape = x.shape
        b = broadcast_to(reshape(x, (1,) + shape), (_m.state.vmaps[level],) + shape)
    for k in sorted(vmapped(x) | {level}):
        if k >= level:
            mark_batched(b, k)
    return b


def batch_into(x: Tensor, levels) -> Tensor:
    """``x`` batched by each running vmap of ``levels`` (the same for every example of those that
    did not batch it already)."""
    for level in sorted(levels):
        if level in _m.state.vmaps and not (x._tangents and level in x._tangents):
            x = broadcast_into(x, level)
    return x


def vmapped(x: Tensor) -> set[int]:
    """The vmap levels that batch ``x`` (visible or not)."""
    return {k for k, v in (x._tangents or {}).items() if v is _m.BATCHED}


def depth() -> int:
    """How many forward-mode passes (``jvp`` calls) are running."""
    return len(_m.state.levels)


def is_traced(x) -> bool:
    """Whether an outer transform follows ``x``: on a tape, or carrying a live tangent."""
    return isinstance(x, Tensor) and (x.requires_grad or _m.live_level(x._tangents) > 0 or _m.batched(x))


def dual(x: Tensor, tangent, level: int, who: str = "jvp") -> Tensor:
    """A new handle on ``x`` whose tangent at ``level`` is ``tangent`` (same data, same tape)."""
    d = identity(x) if is_traced(x) else _wrap(x.data)
    if isinstance(tangent, Tensor):
        t = tangent if tangent.dtype == x.dtype else tangent.astype(x.dtype)
    else:
        t = _wrap(to_device(tangent, x.device, x.dtype))  # on the primal's device
    if t.shape != x.shape:
        raise ValueError(f"{who}: a tangent has shape {t.shape} but its primal has shape {x.shape}; give one of the same shape")
    levels = vmapped(d) | vmapped(t)  # under vmap, a value and its tangent are batched alike
    t, d = batch_into(t, levels), batch_into(d, levels)
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
