"""PyTorch's margin, ranking, embedding and likelihood losses (torch 2.13's formulas, defaults and checks).

Each takes ``reduction`` ``'mean'`` / ``'sum'`` / ``'none'`` and, as PyTorch's functions still do, the legacy
``size_average`` / ``reduce`` pair (either given: ``reduce=False`` is ``'none'``, else ``size_average=False``
is ``'sum'``, else ``'mean'``).  A target pairs with the prediction element by element and must have its shape
(never broadcast into it), except where PyTorch's loss defines another layout (labels, a ``var`` of one value).
"""

from __future__ import annotations

import math

import numpy as np

from ..autodiff import Tensor, as_tensor, exp, full_like, log, relu, take_along_axis, where
from ..autodiff import softplus as _softplus
from ..backend.checks import flag, is_int, is_real
from ..backend.device import to_device
from .distances import _norm_through_clamp, pairwise_distance, triplet_distances
from .loss_support import InputError, _check_reduction, _float, _raw, _target_like
from .loss_support import reduce as _reduced


def legacy_reduction(size_average, reduce, reduction: str, who: str) -> str:  # noqa: A002 - PyTorch's name
    """``reduction`` from PyTorch's deprecated ``size_average`` / ``reduce`` when either is given (its rule)."""
    if size_average is None and reduce is None:
        _check_reduction(reduction, who)
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return "none" if not reduce else ("mean" if size_average else "sum")


def _number(who: str, name: str, v) -> float:
    if not is_real(v) or not math.isfinite(v):
        raise TypeError(f"{who}: {name} must be a finite number, got {v!r}")
    return float(v)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction: str = "mean"):  # noqa: A002
    """``log(1 + e^{−y·x})`` per element, labels ``y = ±1`` (the logistic loss of the margin ``y·x``), computed as a
    softplus so it never overflows; gradient ``−y·σ(−y·x)``."""
    reduction = legacy_reduction(size_average, reduce, reduction, "soft_margin_loss")
    x = _float(input, "soft_margin_loss")
    return _reduced(_softplus(-_target_like(x, target, "soft_margin_loss") * x), reduction)


def _same_rank(who: str, **tensors: Tensor) -> None:
    """PyTorch's check that the inputs have one number of dimensions (they then broadcast)."""
    if len({t.ndim for t in tensors.values()}) > 1:
        sizes = ", ".join(f"{k}: {t.shape}" for k, t in tensors.items())
        raise InputError(f"{who}: all input tensors should have the same number of dimensions, but got sizes {sizes}")
    try:
        np.broadcast_shapes(*(t.shape for t in tensors.values()))
    except ValueError:
        sizes = ", ".join(f"{k}: {t.shape}" for k, t in tensors.items())
        raise InputError(f"{who}: the shapes {sizes} do not broadcast; give equal shapes") from None


def margin_ranking_loss(input1, input2, target, margin: float = 0.0, size_average=None, reduce=None,
                        reduction: str = "mean"):  # fmt: skip
    """``max(0, −y·(x1 − x2) + margin)``: ``y = 1`` asks ``x1`` to rank above ``x2`` by ``margin``, ``y = −1`` below
    (PyTorch's ``clamp_min``: at the kink the gradient passes)."""
    who = "margin_ranking_loss"
    reduction = legacy_reduction(size_average, reduce, reduction, who)
    x1, x2 = _float(input1, who), _float(input2, who)
    y = as_tensor(target) if isinstance(target, Tensor) else as_tensor(to_device(target, x1.device), device=x1.device)
    _same_rank(who, input1=x1, input2=x2, target=y)
    y = y.astype(x1.dtype) if y.dtype != x1.dtype else y
    return _reduced((-y * (x1 - x2) + _number(who, "margin", margin)).clamp(min=0), reduction)


def poisson_nll_loss(input, target, log_input: bool = True, full: bool = False, size_average=None,  # noqa: A002
                     eps: float = 1e-8, reduce=None, reduction: str = "mean"):  # fmt: skip
    """Negative log-likelihood of ``target ~ Poisson(λ)``: ``e^x − y·x`` with ``x = log λ`` (``log_input=True``), or
    ``λ − y·log(λ + eps)``; ``full`` adds Stirling's ``y log y − y + ½ log(2πy)`` for ``y > 1`` (the ``log y!`` term)."""
    who = "poisson_nll_loss"
    reduction = legacy_reduction(size_average, reduce, reduction, who)
    log_input, full, eps = flag(who, "log_input", log_input), flag(who, "full", full), _number(who, "eps", eps)
    x = _float(input, who)
    y = _target_like(x, target, who)
    loss = exp(x) - y * x if log_input else x - y * log(x + eps)
    if full:
        big = y > 1
        safe = where(big, y, 2.0)  # (log 0 kept out of the gradient where the term is masked)
        loss = loss + where(big, safe * log(safe) - safe + 0.5 * log(2 * math.pi * safe), 0.0)
    return _reduced(loss, reduction)


def _gaussian_var(var, x: Tensor, who: str) -> Tensor:
    """``var`` in a shape that broadcasts to ``x`` by PyTorch's rules: ``x``'s shape, ``x``'s without its last axis
    (one variance per row), or ``x``'s with one axis of size 1; a Python float is one variance for all."""
    if isinstance(var, float | int) and not isinstance(var, bool):
        if var < 0:
            raise ValueError(f"{who}: var has negative entry/entries ({var}); a variance is >= 0")
        return full_like(x.detach(), float(var))
    v = as_tensor(var) if isinstance(var, Tensor) else as_tensor(to_device(var, x.device), device=x.device)
    v = v.astype(x.dtype) if v.dtype != x.dtype else v
    if bool(np.any(np.asarray(to_device((v.data < 0), "cpu")))):
        raise ValueError(f"{who}: var has negative entry/entries; a variance is >= 0")
    if v.shape == x.shape:
        return v
    if v.shape == x.shape[:-1]:
        return v.reshape(*v.shape, 1)
    if v.ndim == x.ndim and sum(b for a, b in zip(x.shape, v.shape) if a != b) == 1:
        return v
    raise ValueError(f"{who}: var is of incorrect size {v.shape} for input {x.shape}; give the input's shape, its shape "
                     f"without the last axis {x.shape[:-1]}, or one axis of size 1")  # fmt: skip


def gaussian_nll_loss(input, target, var, full: bool = False, eps: float = 1e-6, reduction: str = "mean"):  # noqa: A002
    """Negative log-likelihood of ``target ~ N(input, var)``: ``½(log max(var, eps) + (input − target)²/max(var, eps))``
    (+ ``½ log 2π`` with ``full``).  As PyTorch's, the clamp at ``eps`` passes ``var``'s gradient through, and
    ``var`` may hold one value per row (the input's shape without its last axis) or be a float."""
    who = "gaussian_nll_loss"
    _check_reduction(reduction, who)
    full = flag(who, "full", full)
    x = _float(input, who)
    y = _target_like(x, target, who)
    v = _gaussian_var(var, x, who)
    v = _norm_through_clamp(v, _number(who, "eps", eps))  # max(var, eps) in value, var's gradient
    d = x - y
    loss = 0.5 * (log(v) + d * d / v)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduced(loss, reduction)


def cosine_embedding_loss(input1, input2, target, margin: float = 0.0, size_average=None, reduce=None,
                          reduction: str = "mean"):  # fmt: skip
    """``1 − cos(x1, x2)`` where ``y = 1``, ``max(0, cos(x1, x2) − margin)`` where ``y = −1`` (0 for other labels),
    ``cos = Σ x1 x2 / √((Σ x1² + 1e−12)(Σ x2² + 1e−12))`` along the feature axis (PyTorch's); inputs (N, D) with
    labels (N,), or (D,) with one label."""
    who = "cosine_embedding_loss"
    reduction = legacy_reduction(size_average, reduce, reduction, who)
    x1, x2 = _float(input1, who), _float(input2, who)
    y = as_tensor(target) if isinstance(target, Tensor) else as_tensor(to_device(target, x1.device), device=x1.device)
    if y.ndim > 1:
        raise InputError(f"{who}: 0D or 1D target tensor expected, multi-target not supported; got target {y.shape}")
    if x1.ndim != y.ndim + 1 or x2.ndim != y.ndim + 1:
        raise InputError(f"{who}: {y.ndim}D target tensor expects {y.ndim + 1}D input tensors, but found inputs with "
                         f"sizes {x1.shape} and {x2.shape}")  # fmt: skip
    axis = y.ndim
    eps = 1e-12
    cos = (x1 * x2).sum(axis=axis) / (((x1 * x1).sum(axis=axis) + eps) * ((x2 * x2).sum(axis=axis) + eps)).sqrt()
    neg = (cos - _number(who, "margin", margin)).clamp(min=0)
    loss = where(y == 1, 1 - cos, 0.0) + where(y == -1, neg, 0.0)
    return _reduced(loss, reduction)


def _labels(target, rows: int, classes: int, who: str) -> np.ndarray:
    """Integer class labels, one per row (a 0-d label for a 1-D input), each in ``[0, classes)``."""
    t = np.asarray(to_device(_raw(target), "cpu"))
    if t.dtype.kind not in "iu":
        raise TypeError(f"{who}: the target must hold integer class indices, got {t.dtype}; cast it, e.g. y.astype('int64')")
    if t.shape != ((rows,) if rows >= 0 else ()):
        want = (rows,) if rows >= 0 else ()
        raise InputError(f"{who}: expected labels of shape {want} for the input, got {t.shape}")
    if t.size and (t.min() < 0 or t.max() >= classes):
        raise InputError(f"{who}: target out of range: labels must lie in [0, {classes - 1}], got [{t.min()}, {t.max()}]")
    return t.astype(np.int64)


def multi_margin_loss(input, target, p: int = 1, margin: float = 1.0, weight=None, size_average=None,  # noqa: A002
                      reduce=None, reduction: str = "mean"):  # fmt: skip
    """Multi-class hinge: per row ``Σ_{i≠y} w_y · max(0, margin − x_y + x_i)^p / C`` (``p`` 1 or 2, ``w`` the
    optional class weights ``weight`` of shape (C,)), inputs (N, C) with labels (N,), or (C,) with one label."""
    who = "multi_margin_loss"
    reduction = legacy_reduction(size_average, reduce, reduction, who)
    if not is_int(p) or p not in (1, 2):
        raise ValueError(f"{who}: only p == 1 and p == 2 supported, got p={p!r}")
    x = _float(input, who)
    if x.ndim not in (1, 2):
        raise InputError(f"{who}: expected a 1D (C,) or 2D (N, C) input, got shape {x.shape}")
    row = x.ndim == 1
    x2 = x.reshape(1, -1) if row else x
    n, c = x2.shape
    labels = _labels(target, -1 if row else n, c, who).reshape(n)
    picked = take_along_axis(x2, as_tensor(labels[:, None]), axis=1)
    h = relu(_number(who, "margin", margin) - picked + x2)
    h = h * h if p == 2 else h
    others = (np.arange(c)[None, :] != labels[:, None]).astype(x.dtype)
    h = h * as_tensor(others)
    if weight is not None:
        w = as_tensor(weight) if isinstance(weight, Tensor) else as_tensor(np.asarray(weight))
        if w.ndim != 1 or w.shape[0] != c:
            raise ValueError(f"{who}: weight must be one-dimensional with one entry per class ({c}), got shape {w.shape}")
        w = w.astype(x.dtype) if w.dtype != x.dtype else w
        h = h * w[as_tensor(labels)].reshape(n, 1)
    loss = h.sum(axis=1) / c
    return _reduced(loss.reshape(()) if row else loss, reduction)


def triplet_margin_loss(anchor, positive, negative, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6,
                        swap: bool = False, size_average=None, reduce=None, reduction: str = "mean"):  # fmt: skip
    """``max(0, margin + d(a, p) − d(a, n))`` with ``d`` the :func:`pairwise_distance` of order ``p`` (``eps`` added
    to the difference); ``swap`` uses ``min(d(a, n), d(p, n))`` for the negative (Balntas et al.)."""
    who = "triplet_margin_loss"
    reduction = legacy_reduction(size_average, reduce, reduction, who)
    swap = flag(who, "swap", swap)
    a, pos, neg = _float(anchor, who), _float(positive, who), _float(negative, who)
    if len({a.ndim, pos.ndim, neg.ndim}) > 1:
        raise InputError(f"{who}: the anchor, positive, and negative tensors are expected to have the same number of "
                         f"dimensions, but got: anchor {a.ndim}D, positive {pos.ndim}D, and negative {neg.ndim}D "
                         "inputs")  # fmt: skip
    m = _number(who, "margin", margin)
    if m <= 0:
        raise ValueError(f"{who}: margin must be greater than 0, got {m}")
    d_pos, d_neg = triplet_distances(a, pos, neg, p, eps, swap)
    return _reduced((m + d_pos - d_neg).clamp(min=0), reduction)


__all__ = ["soft_margin_loss", "margin_ranking_loss", "poisson_nll_loss", "gaussian_nll_loss", "cosine_embedding_loss",
           "multi_margin_loss", "triplet_margin_loss", "pairwise_distance", "legacy_reduction"]  # fmt: skip
