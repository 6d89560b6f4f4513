"""Gradient utilities."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from ..autodiff import Tensor, as_tensor, tensor
from ..autodiff.jit import effect
from ..backend import get_default_dtype
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


def tensor_list(params, who: str, expected: str = "a tensor or an iterable of tensors (model.parameters())") -> list[Tensor]:
    """``params`` as a list: one tensor (PyTorch takes it alone too) or an iterable of them; anything else is
    refused, naming ``who`` and what it ``expected``."""
    if isinstance(params, Tensor):
        return [params]
    try:
        found = None if isinstance(params, str | bytes) else list(params)
    except TypeError:
        found = None
    if found is None or not all(isinstance(p, Tensor) for p in found):
        bad = params if found is None else next(p for p in found if not isinstance(p, Tensor))
        raise TypeError(f"{who}: expected {expected}, got {type(bad).__name__}")
    return found


def _norm_type(norm_type, who: str) -> float:
    """``norm_type`` as a float: a number > 0, ``math.inf`` or PyTorch's string ``'inf'``."""
    if isinstance(norm_type, str) and norm_type.lower() == "inf":
        return math.inf
    if not is_real(norm_type) or not norm_type > 0:
        raise ValueError(f"{who}: norm_type must be a number > 0 or math.inf ('inf'), e.g. 2.0, got {norm_type!r}")
    return float(norm_type)


def _power_sum(g, norm_type: float) -> float:
    """``Σ|g|ᵖ`` of one gradient in its own dtype (``g·g`` for p = 2 on the host, one BLAS call)."""
    if norm_type == 2 and g.__class__ is np.ndarray:
        g = g.reshape(-1)
        return float(np.dot(g, g))
    xp = namespace_of(g)  # another array library or another p: the sum on its device, one number back
    return float(xp.sum(xp.abs(g) ** norm_type))


def _total_norm(arrays: list, norm_type: float) -> float:
    """``‖g‖_p`` of the arrays taken as one vector: ``(Σ|g|ᵖ)^{1/p}`` and ``max|g|`` for ``p = inf``; each array's
    sum in its dtype, added in float64 — again in float64 where a float32 sum overflowed (finite entries near
    10³⁰ have a finite norm; a float64 copy only then); NaN when an array holds NaN, as PyTorch's."""
    total = 0.0
    for g in arrays:
        if not g.size:
            continue
        if norm_type == math.inf:
            xp = namespace_of(g)
            largest = float(xp.max(xp.abs(g)))
            if math.isnan(largest):  # Python's max would keep the old total beside a NaN
                return math.nan
            total = max(total, largest)
            continue
        part = _power_sum(g, norm_type)
        if math.isinf(part) and g.__class__ is np.ndarray and g.dtype.kind == "f" and g.dtype.itemsize < 8:
            part = _power_sum(g.astype(np.float64), norm_type)
        total += part
    return total if norm_type == math.inf else total ** (1.0 / norm_type)


def grad_norm(params: Iterable[Tensor] | Tensor, norm_type: float | str = 2.0) -> float:
    """``‖g‖_p`` over all gradients taken as one vector (:func:`_total_norm`), as a Python float."""
    norm_type = _norm_type(norm_type, "grad_norm")
    return _total_norm([p.grad.data for p in tensor_list(params, "grad_norm") if p.grad is not None], norm_type)


def _norm_tensor(norm: float, tensors: list[Tensor]) -> Tensor:
    """The norm as PyTorch returns it: a 0-d tensor in the tensors' promoted dtype (float64 if one is), on the
    first one's device (the default dtype when there are none)."""
    if not tensors:
        return tensor(norm, dtype=get_default_dtype())
    return tensor(norm, dtype=np.result_type(*(t.dtype for t in tensors)), device=tensors[0].device)


def _nonfinite(who: str, norm: float, norm_type: float) -> RuntimeError:
    return RuntimeError(
        f"{who}: the total norm of order {norm_type} of the gradients is {norm}, so they cannot be clipped; find "
        "where a NaN or Inf enters the loss, or pass error_if_nonfinite=False to go on"
    )


def get_total_norm(tensors: Iterable[Tensor] | Tensor, norm_type: float | str = 2.0, error_if_nonfinite: bool = False,
                   foreach: bool | None = None) -> Tensor:  # fmt: skip
    """``‖(t_1, …, t_k)‖_p``, the norm of the tensors taken as one vector (PyTorch's ``get_total_norm``, usually of
    the gradients: ``[p.grad for p in model.parameters()]``), as a 0-d tensor; ``error_if_nonfinite`` raises where
    it is NaN or infinite.  ``None`` entries are skipped; ``foreach`` is accepted and changes nothing."""
    norm_type = _norm_type(norm_type, "get_total_norm")
    given = [tensors] if isinstance(tensors, Tensor) else [t for t in (tensors or ()) if t is not None]
    found = tensor_list(given, "get_total_norm", "a tensor or an iterable of tensors ([p.grad for p in params])")
    norm = _total_norm([t.data for t in found], norm_type)
    if error_if_nonfinite and not math.isfinite(norm):
        raise _nonfinite("get_total_norm", norm, norm_type)
    return _norm_tensor(norm, found)


def _max_norm(who: str, max_norm) -> float:
    """``max_norm`` checked: a finite number >= 0 (a negative one would flip every gradient's sign, NaN would
    silently skip the clipping)."""
    if not is_real(max_norm):
        raise TypeError(f"{who}: max_norm must be a number, e.g. max_norm=1.0, got {max_norm!r}")
    if not (math.isfinite(max_norm) and max_norm >= 0):
        raise ValueError(f"{who}: max_norm must be a finite number >= 0, e.g. max_norm=1.0, got {max_norm}")
    return float(max_norm)


@effect
def clip_grads_with_norm_(params: Iterable[Tensor] | Tensor, max_norm: float, total_norm,
                          foreach: bool | None = None) -> None:  # fmt: skip
    """Scale every gradient by ``min(1, max_norm / (total_norm + 10⁻⁶))`` (PyTorch's ``clip_grads_with_norm_``,
    ``total_norm`` from :func:`get_total_norm`): nothing changes where ``total_norm <= max_norm`` or where it is
    NaN or infinite (see :func:`clip_grad_norm_`).  New gradient arrays are made, never written in place."""
    max_norm = _max_norm("clip_grads_with_norm_", max_norm)
    try:
        norm = float(total_norm.item() if hasattr(total_norm, "item") else total_norm)
    except (TypeError, ValueError):
        raise TypeError(f"clip_grads_with_norm_: total_norm must be a number or a 0-d tensor (get_total_norm's), "
                        f"got {type(total_norm).__name__}") from None  # fmt: skip
    params = [p for p in tensor_list(params, "clip_grads_with_norm_") if p.grad is not None]
    if math.isfinite(norm) and norm > max_norm:
        scale = float(max_norm / (norm + 1e-6))  # a Python float: the gradient keeps its dtype on every library
        for p in params:
            p.grad = as_tensor(p.grad.data * scale, device=p.device)


@effect
def clip_grad_norm_(params: Iterable[Tensor] | Tensor, max_norm: float, norm_type: float | str = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:  # fmt: skip
    """Rescale all gradients so that their joint ``norm_type``-norm is at most ``max_norm``:
    ``g ← g · max_norm / (‖g‖ + 10⁻⁶)`` (PyTorch's formula) where ``‖g‖ > max_norm``; returns the norm
    before clipping as a 0-d tensor in the gradients' promoted dtype (PyTorch's return).  New gradient arrays
    are made, never written in place (they may be shared).  A norm that is NaN or infinite (a NaN or Inf in
    a gradient) clips nothing and is returned; ``error_if_nonfinite=True`` raises instead, as PyTorch's.
    ``foreach`` is accepted and changes nothing (one pass per gradient either way).

    ``max_norm`` must be a finite number >= 0: a negative one would flip every gradient's sign
    (``scale = max_norm / ‖g‖ < 0``) and NaN would silently skip the clipping."""
    max_norm = _max_norm("clip_grad_norm_", max_norm)
    norm_type = _norm_type(norm_type, "clip_grad_norm_")
    params = [p for p in tensor_list(params, "clip_grad_norm_") if p.grad is not None]
    grads = [p.grad for p in params]
    norm = _total_norm([g.data for g in grads], norm_type)
    if error_if_nonfinite and not math.isfinite(norm):
        raise _nonfinite("clip_grad_norm_", norm, norm_type)
    clip_grads_with_norm_(params, max_norm, norm)
    return _norm_tensor(norm, grads)


@effect
def clip_grad_value_(params: Iterable[Tensor] | Tensor, clip_value: float, foreach: bool | None = None) -> None:
    """Clip every gradient entry to ``[−clip_value, clip_value]`` (PyTorch's ``clip_grad_value_``); new
    gradient arrays are made, never written in place.  ``foreach`` is accepted and changes nothing."""
    if not is_real(clip_value) or not (math.isfinite(clip_value) and clip_value >= 0):
        raise ValueError(f"clip_grad_value_: clip_value must be a finite number >= 0, e.g. 1.0, got {clip_value!r}")
    for p in tensor_list(params, "clip_grad_value_"):
        if p.grad is not None:
            g = p.grad.data
            p.grad = as_tensor(namespace_of(g).clip(g, -clip_value, clip_value), device=p.device)
