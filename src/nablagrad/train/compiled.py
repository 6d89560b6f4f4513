"""The loss of one batch, compiled by :func:`ng.jit` where that is safe (the default of ``fit``).

A trace freezes whatever a function computes outside nablagrad's ops (random numbers, state
kept between calls), so only models whose every module — and a loss — come from nablagrad, and
draw no random numbers (no active ``Dropout``), are compiled; anything else, and any function
the compiler refuses (:class:`JitError`), runs eagerly.  The compiled and the eager step give
the same numbers (tests/autodiff/test_jit.py).
"""

from __future__ import annotations

import inspect

from ..autodiff import JitError, Tensor, jit
from ..nn import Dropout, Module, l1_penalty, l2_penalty

RANDOM = (Dropout,)  # nablagrad's modules that draw random numbers on every call


def _ours(part) -> bool:
    module = part.__module__ if inspect.isfunction(part) else type(part).__module__
    return module.startswith("nablagrad.") and not (isinstance(part, RANDOM) and part.training and part.p > 0)


class BatchLoss:
    """``batch_loss(xb, yb) -> (loss, output)``: ``loss_fn(model(xb), yb)`` plus the weight penalties."""

    def __init__(self, model: Module, loss_fn, l1: float = 0.0, l2: float = 0.0, compile: bool = True):
        self.model, self.loss_fn, self.l1, self.l2 = model, loss_fn, l1, l2
        ours = all(_ours(m) for m in model.modules()) and _ours(loss_fn)
        self.compiled = jit(self.eager) if compile and ours else None

    def eager(self, xb, yb) -> tuple[Tensor, Tensor]:
        out = self.model(xb)
        loss = self.loss_fn(out, yb)
        if self.l1:
            loss = loss + l1_penalty(self.model, self.l1)
        if self.l2:
            loss = loss + l2_penalty(self.model, self.l2)
        return loss, out

    def __call__(self, xb, yb) -> tuple[Tensor, Tensor]:
        if self.compiled is not None:
            try:
                return self.compiled(xb, yb)
            except JitError:
                self.compiled = None  # e.g. a loss that computes on .data: eager from now on
        return self.eager(xb, yb)
