"""Gradient utilities."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from ..autodiff import Tensor, as_tensor
from ..autodiff.jit import effect
from ..backend.checks import is_real
from ..backend.namespace import namespace_of


def zero_grads(params: Iterable[Tensor], set_to_none: bool = True) -> None:
    """``zero_grad`` of modules and optimisers: drop each gradient, or (``set_to_none=False``) zero it as
    PyTorch does — the same ``.grad`` tensor holding a new array of zeros (gradients may share arrays,
    so none is written in place), or a fresh one where a ``create_graph=True`` backward left a graph."""
    for p in params:
        g = p.grad
        if set_to_none or g is None:
            p.grad = None
        elif g.requires_grad or g._op is not None:  # torch detaches such a gradient
            p.grad = as_tensor(namespace_of(g.data).full_like(g.data, 0), device=p.grad.device)
        else:
            g.data = namespace_of(g.data).full_like(g.data, 0)
            g.bump_version_()


def grad_norm(params: Iterable[Tensor]) -> float:
    """‖g‖₂ over all gradients, accumulated in float64."""
    total = 0.0
    for p in params:
        if p.grad is not None:
            g = p.grad.data
            if g.__class__ is np.ndarray:
                g = g.reshape(-1)
                total += float(np.dot(g, g))
            else:  # another array library: the sum on its device, one number back
                total += float(namespace_of(g).sum(g * g))
    return math.sqrt(total)


@effect
def clip_grad_norm_(params: Iterable[Tensor], max_norm: float) -> float:
    """Rescale all gradients so that their joint norm is at most ``max_norm``; returns the norm
    before clipping.  New gradient arrays are made, never written in place (they may be shared).

    ``max_norm`` must be a finite number >= 0: a negative one would flip every gradient's sign
    (``scale = max_norm / ‖g‖ < 0``) and NaN would silently skip the clipping."""
    if not is_real(max_norm):
        raise TypeError(f"clip_grad_norm_: max_norm must be a number, e.g. max_norm=1.0, got {max_norm!r}")
    if not (math.isfinite(max_norm) and max_norm >= 0):
        raise ValueError(f"clip_grad_norm_: max_norm must be a finite number >= 0, e.g. max_norm=1.0, got {max_norm}")
    params = [p for p in params if p.grad is not None]
    norm = grad_norm(params)
    if math.isfinite(norm) and norm > max_norm:
        scale = float(max_norm / (norm + 1e-12))  # a Python float: the gradient keeps its dtype on every library
        for p in params:
            p.grad = as_tensor(p.grad.data * scale, device=p.device)
    return norm
