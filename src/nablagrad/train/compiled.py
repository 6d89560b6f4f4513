"""The training step of one batch, compiled by :func:`ng.jit` where that is safe (the default of ``fit``).

A trace freezes whatever a function computes outside nablagrad's ops (random numbers drawn outside
them, state kept between calls), so only models whose every module — and a loss — come from nablagrad
are compiled (``Dropout``'s mask is an op: each replay draws afresh); anything else, and any function
the compiler refuses (:class:`JitError`), runs eagerly.  :class:`BatchLoss` is the loss of a batch;
:class:`CompiledStep` the whole step — the loss, ``zero_grad()``, ``backward()``, clipping and the
optimiser's ``step()`` — replayed as one program.  Each keeps its own switch: a step the compiler refuses
leaves the batch loss compiled (the eager step that follows calls it), and the reverse; ``evaluate`` and
``predict`` (validation in ``fit``) run the model eagerly under ``no_grad``, with neither.  The compiled and
the eager step give the same numbers (tests/autodiff/test_jit.py, tests/autodiff/test_jit_step.py,
tests/train/test_compiled_step.py, tests/train/test_s16_compiled_refusals.py).
"""

from __future__ import annotations

import inspect
import math

from ..autodiff import JitError, Tensor, jit
from ..autodiff.jit import effect
from ..nn import Module, l1_penalty, l2_penalty
from ..nn.utils import clip_grad_norm_
from ..optim import Optimizer


def _ours(part) -> bool:
    """A module, loss or optimiser of nablagrad's own (a subclass elsewhere may keep state a trace freezes)."""
    module = part.__module__ if inspect.isfunction(part) else type(part).__module__
    return module.startswith("nablagrad.")


class BatchLoss:
    """``batch_loss(xb, yb) -> (loss, output)``: ``loss_fn(model(xb), yb)`` plus the weight penalties.
    Compiled where every module and the loss are nablagrad's (``Dropout`` too: its masks are drawn by the
    program, as eager mode draws them)."""

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


class NonFiniteLossError(FloatingPointError):
    """The batch loss is NaN or Inf: the step stopped before its backward (nothing was written)."""


@effect
def stop_if_not_finite(loss: Tensor) -> None:
    """Raise :class:`NonFiniteLossError` when ``loss`` is NaN or Inf — before the backward, as the eager step
    checks it (an effect: a compiled step checks each call's own loss)."""
    if not math.isfinite(float(loss.data)):
        raise NonFiniteLossError("the loss is NaN or Inf")


class CompiledStep:
    """``step(xb, yb) -> (loss, output)``: one whole training step — the batch loss (:class:`BatchLoss`),
    ``zero_grad()``, the loss's finiteness, ``backward()``, ``clip_grad_norm_`` and ``optimizer.step()`` —
    compiled by :func:`ng.jit` (no graph is built for a batch) where the loss is compiled and the
    optimiser is nablagrad's own class; ``None`` where it is not, or once the compiler refused it (the call
    was undone): the caller then takes the eager step.
    A non-finite loss raises :class:`NonFiniteLossError`, a refused update ``FloatingPointError``, each
    with nothing written."""

    def __init__(self, batch_loss: BatchLoss, optimizer, params: list[Tensor], clip: float | None):
        self.batch_loss, self.optimizer, self.params, self.clip = batch_loss, optimizer, params, clip
        ours = batch_loss.compiled is not None and isinstance(optimizer, Optimizer) and _ours(optimizer)
        self.compiled = jit(self.eager) if ours else None

    def eager(self, xb, yb) -> tuple[Tensor, Tensor]:
        loss, out = self.batch_loss.eager(xb, yb)
        self.optimizer.zero_grad()
        stop_if_not_finite(loss)
        loss.backward()
        if self.clip is not None:
            clip_grad_norm_(self.params, self.clip)
        self.optimizer.step()
        return loss, out

    def applies(self) -> bool:
        """Whether this call can be compiled: a program made (not refused)."""
        return self.compiled is not None

    def __call__(self, xb, yb) -> tuple[Tensor, Tensor] | None:
        if not self.applies():
            return None
        try:
            return self.compiled(xb, yb)
        except JitError:
            self.compiled = None  # e.g. a loss that computes on .data: eager from now on
            return None
