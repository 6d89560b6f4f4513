"""Normalisation layers: ``BatchNorm1d`` (statistics of each channel over the batch) and ``LayerNorm``
(statistics of each example over its trailing axes), PyTorch's modules, names, buffers and defaults.

Both compute ``y = (x − μ) / √(σ² + ε) · γ + β`` from primitives (:func:`functional.batch_norm`,
:func:`functional.layer_norm`), so every derivative order and both modes come from the tape.
``BatchNorm1d`` keeps running statistics as buffers (``running_mean``, ``running_var``,
``num_batches_tracked``), updated in training outside the tape, once per call, by an effect that ``ng.jit``
repeats (:func:`functional.check_running_update` says where the update is refused, and why).
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autodiff import Tensor, as_tensor, no_grad
from ..autodiff.grad_mode import state
from ..autodiff.jit import effect
from ..backend.checks import flag, is_int, is_real
from . import functional as Fn
from . import init as init_mod
from .loss_support import device_arg
from .module import Module, Parameter


def _floating_dtype(who: str, dtype) -> np.dtype:
    """The layer's dtype: ``dtype``, or the default one; floating point only (a parameter must take gradients)."""
    dt = np.dtype(dtype) if dtype is not None else backend.get_default_dtype()
    if dt.kind != "f":
        raise TypeError(f"{who}: dtype must be a floating-point type such as 'float32' or 'float64', got {dt}")
    return dt


def _eps(who: str, eps) -> float:
    if not is_real(eps) or not 0 <= eps < np.inf:
        raise ValueError(f"{who}: eps must be a finite number ≥ 0 added to the variance (PyTorch's default 1e-05), got {eps!r}")
    return float(eps)


def _same_dtype(who: str, x: Tensor, tensors) -> None:
    """PyTorch refuses an input of another dtype than the layer's tensors (``tensors``, None skipped); a layer
    holding none (no affine parameters, no running statistics) takes any floating dtype, as PyTorch's."""
    dtype = next((t.dtype for t in tensors if t is not None), x.dtype)
    if x.dtype != dtype:
        raise TypeError(f"{who}: input dtype {x.dtype} does not match the layer's {dtype}; cast the input "
                        f"(x.astype('{dtype}')) or build the layer with dtype='{x.dtype}', as PyTorch requires")  # fmt: skip


def _reset_affine(weight: Parameter | None, bias: Parameter | None) -> None:
    """γ = 1, β = 0 (either may be absent), in place: the parameters stay the objects an optimiser holds."""
    if weight is not None:
        init_mod.ones_(weight)
    if bias is not None:
        init_mod.zeros_(bias)


class BatchNorm1d(Module):
    """Batch normalisation of (N, C) or (N, C, L) inputs, channel by channel (axis 1), as ``torch.nn.BatchNorm1d``::

        y = (x − μ) / √(σ² + ε) · γ + β

    In training (and always with ``track_running_stats=False``) ``μ``, ``σ²`` are the batch's mean and biased
    variance per channel over N (and L); the running statistics are then updated in place, outside the tape,
    ``r ← (1 − m) r + m·stat`` with the *unbiased* variance for ``running_var`` and ``m = momentum`` (``None``:
    ``m = 1/num_batches_tracked``, the cumulative average).  In evaluation (``model.eval()``) the running
    statistics are used.  ``weight`` γ (ones) and ``bias`` β (zeros), shape (C,), are learned when ``affine``;
    ``device``, ``dtype`` (positional after ``track_running_stats``, as PyTorch's) say where and of which type.

    A refused call changes nothing (PyTorch counts ``num_batches_tracked`` even for an input it then refuses).
    The update is once per call of the layer: ``ng.grad``, ``vjp``, ``jacrev`` (and grad of grad) take one;
    ``ng.jit`` records it as an effect of the compiled step (as ``optimizer.step()``), made again on every call
    with that call's batch — a compiled function that runs the layer in training is thus a training step, whose
    results carry no graph (compile ``loss.backward()`` and ``optimizer.step()`` with it); ``ng.vmap`` of the input
    and forward mode (``jvp``, ``jacfwd``, ``hessian``) are refused in training with running statistics (see
    :func:`functional.check_running_update`); ``ng.checkpoint`` runs the layer again in the backward pass and so
    updates twice, as ``torch.utils.checkpoint`` does.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None, *, bias: bool = True):  # fmt: skip
        super().__init__()
        device = device_arg("BatchNorm1d", device)
        who = "BatchNorm1d"
        if not is_int(num_features) or num_features <= 0:
            kind = ValueError if is_int(num_features) else TypeError
            raise kind(f"{who}: num_features must be a positive integer (the channels C of an (N, C) input), got "
                       f"{num_features!r}")  # fmt: skip
        if momentum is not None and (not is_real(momentum) or not 0 <= momentum <= 1):
            raise ValueError(f"{who}: momentum must be a number in [0, 1] (PyTorch's default 0.1), or None for the "
                             f"cumulative average, got {momentum!r}")  # fmt: skip
        self.num_features, self.eps, self.momentum = int(num_features), _eps(who, eps), momentum
        self.affine = flag(who, "affine", affine)
        self.track_running_stats = flag(who, "track_running_stats", track_running_stats)
        bias = flag(who, "bias", bias)
        dt, c = _floating_dtype(who, dtype), self.num_features
        self.register_parameter("weight", Parameter(np.ones(c, dt)) if self.affine else None)
        self.register_parameter("bias", Parameter(np.zeros(c, dt)) if self.affine and bias else None)
        stats = self.track_running_stats
        self.register_buffer("running_mean", Tensor(np.zeros(c, dt)) if stats else None)
        self.register_buffer("running_var", Tensor(np.ones(c, dt)) if stats else None)
        self.register_buffer("num_batches_tracked", Tensor(np.array(0, np.int64)) if stats else None)
        if device is not None:
            self.to(device)

    def reset_parameters(self) -> None:
        """The running statistics reset (:meth:`reset_running_stats`), γ back to ones and β to zeros, in place
        (PyTorch's ``reset_parameters``)."""
        self.reset_running_stats()
        _reset_affine(self.weight, self.bias)

    def reset_running_stats(self) -> None:
        """Running mean 0, variance 1, no batch counted (PyTorch's ``reset_running_stats``)."""
        if self.track_running_stats:
            with no_grad():
                for buf, value in ((self.running_mean, 0), (self.running_var, 1), (self.num_batches_tracked, 0)):
                    buf.fill_(value)

    def forward(self, x) -> Tensor:
        who, c = f"BatchNorm1d({self.num_features})", self.num_features
        if isinstance(x, str) or x is None:
            raise TypeError(f"{who}: expected a numeric array or tensor of shape (N, {c}) or (N, {c}, L), got {type(x).__name__}")
        x = as_tensor(x)
        if x.ndim not in (2, 3):
            raise ValueError(f"{who}: expected an input of shape (N, {c}) or (N, {c}, L), got {x.shape}; flatten other "
                             f"axes into L (x.reshape(N, {c}, -1)), or stack single examples into a batch")  # fmt: skip
        batch_stats = self.training or self.running_mean is None  # PyTorch's rule: no running statistics, the batch's
        x = Fn.batch_norm_input(x, self.num_features, who, batch_stats)
        _same_dtype(who, x, (self.weight, self.running_mean))
        running = (None, None) if self.training else (self.running_mean, self.running_var)  # (read, never written)
        y, mu, var = Fn.batch_norm_with_statistics(x, *running, self.weight, self.bias, batch_stats, self.eps)
        if self.training and self.track_running_stats:  # after y: a refused call changes nothing
            # the batch's statistics that y used (one pass over x); a compiled step's effect takes x alone and
            # computes them from each call's batch (a traced value it is given would be the first call's)
            self._update_running_stats(x, *((mu, var) if state.jit_trace is None else ()))
        return y

    @effect
    def _update_running_stats(self, x: Tensor, mu: Tensor | None = None, var: Tensor | None = None) -> None:
        """``r ← (1 − m) r + m·stat`` from the batch ``x`` (``m = momentum``, or ``1/num_batches_tracked`` for
        ``momentum=None``), by :func:`functional.batch_norm`'s own update rule, and one more batch counted; ``mu``,
        ``var``: the batch's statistics when the forward pass computed them already.  An effect (outside the
        tape): ``ng.jit`` makes it again on each call of a compiled step, with that call's ``x``."""
        Fn.check_running_update(f"BatchNorm1d({self.num_features})", x)  # (vmap, forward mode) before any write
        factor = self.momentum
        if factor is None:  # the cumulative average: this batch weighs 1/(batches so far, it included)
            factor = 1.0 / (int(self.num_batches_tracked.item()) + 1)
        with no_grad():  # the statistics only (not the normalised batch), as batch_norm computes them
            if mu is None or var is None:
                mu, var = Fn.batch_statistics(x.detach())
            Fn.update_running_stats(self.running_mean, self.running_var, mu, var, x, factor)
            self.num_batches_tracked.copy_(self.num_batches_tracked + 1)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")  # fmt: skip


class LayerNorm(Module):
    """Layer normalisation over the trailing axes ``normalized_shape`` of each example, as ``torch.nn.LayerNorm``::

        y = (x − μ) / √(σ² + ε) · γ + β

    ``μ``, ``σ²`` the mean and biased variance of each example's slice (the same in training and evaluation: no
    running statistics); ``weight`` γ (ones) and ``bias`` β (zeros) of shape ``normalized_shape`` when
    ``elementwise_affine`` (``bias=False``: no β); ``device``, ``dtype`` as PyTorch's."""

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True,
                 device=None, dtype=None):  # fmt: skip
        super().__init__()
        device = device_arg("LayerNorm", device)
        who = "LayerNorm"
        self.normalized_shape = Fn.normalized_shape_of(normalized_shape, who)
        self.eps = _eps(who, eps)
        self.elementwise_affine = flag(who, "elementwise_affine", elementwise_affine)
        bias = flag(who, "bias", bias)
        dt = _floating_dtype(who, dtype)
        affine = self.elementwise_affine
        self.register_parameter("weight", Parameter(np.ones(self.normalized_shape, dt)) if affine else None)
        self.register_parameter("bias", Parameter(np.zeros(self.normalized_shape, dt)) if affine and bias else None)
        if device is not None:
            self.to(device)

    def reset_parameters(self) -> None:
        """γ back to ones and β to zeros, in place (PyTorch's ``reset_parameters``)."""
        _reset_affine(self.weight, self.bias)

    def forward(self, x) -> Tensor:
        who = f"LayerNorm({self.normalized_shape})"
        x = Fn.layer_norm_input(x, self.normalized_shape, who)
        _same_dtype(who, x, (self.weight, self.bias))
        return Fn.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")  # fmt: skip
