"""Similarities, distances and PyTorch's ``F.pad`` (torch 2.13's definitions, values and gradients).

``F.pad`` here is PyTorch's — ``pad`` a flat tuple of (before, after) pairs from the *last* axis backwards —
while ``ng.pad`` keeps NumPy's meaning (one pair per axis from the first).
"""

from __future__ import annotations

import numpy as np

from ..autodiff import Tensor, as_tensor, linalg, minimum, take
from ..autodiff import pad as _numpy_pad
from ..autodiff.ops import check_dim
from ..backend.checks import is_int, is_real
from .loss_support import InputError


def _float_input(x) -> Tensor:
    """``x`` as a tensor; integers compute in the default float, as PyTorch's distances take them."""
    x = as_tensor(x)
    if x.dtype.kind not in "fc":
        x = x.astype(np.float32 if x.dtype.kind in "biu" else x.dtype)  # integers compute in float, as torch's
    return x


def _norm_through_clamp(n: Tensor, eps: float) -> Tensor:
    """``max(n, eps)`` in value, ``n``'s gradient everywhere: PyTorch clamps its norms in place under no_grad."""
    return n + (n.clamp(min=eps) - n).detach()


def cosine_similarity(x1, x2, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``Σ (x1/max(‖x1‖, ε)) · (x2/max(‖x2‖, ε))`` along ``dim``, the inputs broadcast together (PyTorch 2.13's
    ``F.cosine_similarity``: each input divided by its own clamped norm; the clamp passes the gradient through)."""
    x1, x2 = _float_input(x1), _float_input(x2)
    try:
        shape = np.broadcast_shapes(x1.shape, x2.shape)
    except ValueError:
        raise ValueError(f"cosine_similarity: x1 of shape {x1.shape} and x2 of shape {x2.shape} do not broadcast; "
                         "give shapes that broadcast (equal, or 1 where they differ)") from None  # fmt: skip
    if not is_real(eps):
        raise TypeError(f"cosine_similarity: eps must be a number, got {eps!r}")
    x1, x2 = x1.broadcast_to(shape) if x1.shape != shape else x1, x2.broadcast_to(shape) if x2.shape != shape else x2
    axis = check_dim("cosine_similarity", dim, max(len(shape), 1))
    n1 = _norm_through_clamp(linalg.norm(x1, ord=2, axis=axis, keepdims=True), eps)
    n2 = _norm_through_clamp(linalg.norm(x2, ord=2, axis=axis, keepdims=True), eps)
    return ((x1 / n1) * (x2 / n2)).sum(axis=axis)


def pairwise_distance(x1, x2, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """``‖x1 − x2 + ε‖_p`` along the last axis (PyTorch's ``F.pairwise_distance``: ε added to the difference,
    so equal inputs give a finite gradient), the inputs broadcast together."""
    x1, x2 = _float_input(x1), _float_input(x2)
    if not is_real(p) or p < 0:
        raise ValueError(f"pairwise_distance: p must be a number >= 0 (the norm's order), got {p!r}")
    try:
        np.broadcast_shapes(x1.shape, x2.shape)
    except ValueError:
        raise ValueError(f"pairwise_distance: x1 of shape {x1.shape} and x2 of shape {x2.shape} do not broadcast") from None
    d = x1 - x2 + eps
    if d.ndim == 0:
        return abs(d)
    return linalg.norm(d, ord=float(p), axis=-1, keepdims=bool(keepdim))


# --- F.pad ---------------------------------------------------------------------------------------------
PAD_MODES = ("constant", "reflect", "replicate", "circular")


class PadSizeError(InputError):
    """A pad tuple that does not fit the input."""


class PadModeError(ValueError, NotImplementedError):
    """A pad length a non-constant mode does not support for the input's rank (PyTorch's ``NotImplementedError``)."""


def _pairs(pad, ndim: int, mode: str) -> list[tuple[int, int]]:
    """The (before, after) pairs of ``pad``, last axis first, checked as PyTorch checks them."""
    if isinstance(pad, Tensor | np.ndarray) or not isinstance(pad, tuple | list) or not all(is_int(v) for v in pad):
        raise TypeError(f"pad: pad must be a tuple of ints (left, right, top, bottom, …), got {pad!r}")
    if len(pad) % 2:
        raise PadSizeError(f"pad: padding length must be divisible by 2 (a (before, after) pair per axis), got {len(pad)}")
    k = len(pad) // 2
    if k > ndim:
        raise PadSizeError(f"pad: padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {ndim}")  # fmt: skip
    if mode != "constant" and not (1 <= k <= 3 and ndim in (k + 1, k + 2)):
        raise PadModeError(f"pad: padding size {len(pad)} is not supported for {ndim}D input in mode {mode!r}: "
                           "non-constant padding pads the last 1, 2 or 3 axes of a 2D/3D, 3D/4D or 4D/5D input "
                           "(batch and channel axes first); use mode='constant' for other shapes")  # fmt: skip
    return [(int(pad[2 * i]), int(pad[2 * i + 1])) for i in range(k)]


def _source_index(n: int, before: int, after: int, mode: str, axis: int, who: str) -> np.ndarray:
    """For each output position along one axis, the input position it copies (``i = j − before`` mapped back
    into ``[0, n)`` by the mode); a negative pad crops (``'circular'``: crops, then wraps within what is left)."""
    i = np.arange(-before, n + after)
    if mode == "reflect":
        if max(before, after) >= n:
            raise PadSizeError(f"{who}: padding size should be less than the corresponding input dimension, but got "
                               f"padding ({before}, {after}) at dimension {axis} of size {n}")  # fmt: skip
        i = np.abs(i)
        return np.where(i > n - 1, 2 * (n - 1) - i, i)
    if mode == "replicate":
        if n == 0:
            raise PadSizeError(f"{who}: cannot replicate-pad an empty dimension {axis}")
        return np.clip(i, 0, n - 1)
    if max(before, after) > n:  # circular: a negative pad crops first, then the rest wraps within what is left
        raise PadSizeError(f"{who}: padding value causes wrapping around more than once: padding ({before}, {after}) "
                           f"at dimension {axis} of size {n}")  # fmt: skip
    kept = n + min(before, 0) + min(after, 0)
    if kept <= 0:
        raise PadSizeError(f"{who}: cropping ({before}, {after}) leaves nothing of dimension {axis} (size {n}) to wrap")
    return max(-before, 0) + np.mod(np.arange(-max(before, 0), kept + max(after, 0)), kept)


def pad(input, pad, mode: str = "constant", value: float | None = None) -> Tensor:  # noqa: A002 - PyTorch's names
    """PyTorch's ``F.pad``: ``pad = (left, right)`` pads the last axis, ``(left, right, top, bottom)`` the last
    two, and so on backwards; a negative entry crops.  ``mode``: ``'constant'`` (``value``, default 0),
    ``'reflect'`` (mirror without repeating the edge: ``[c b | a b c | b a]``), ``'replicate'`` (repeat the
    edge) or ``'circular'`` (wrap around).  The gradient of a copied entry flows back to its source.
    (``ng.pad`` is NumPy's ``pad``, pairs from the first axis.)"""
    x = as_tensor(input)
    if not isinstance(mode, str) or mode not in PAD_MODES:
        raise ValueError(f"pad: mode must be one of {PAD_MODES}, got {mode!r}")
    if value is not None and not is_real(value):  # (float(value) below would name neither pad nor the fix)
        raise TypeError(f"pad: value must be a real number or None (0), got {type(value).__name__} {value!r}")
    if mode != "constant" and value not in (None, 0, 0.0):
        raise ValueError(f"pad: padding mode {mode!r} doesn't take in value argument (only 'constant' does)")
    pairs = _pairs(pad, x.ndim, mode)
    axes = [x.ndim - 1 - i for i in range(len(pairs))]
    if mode == "constant":
        for axis, (before, after) in zip(axes, pairs):
            n = x.shape[axis]
            if n + min(before, 0) + min(after, 0) < 0:
                raise PadSizeError(f"pad: cropping ({before}, {after}) from dimension {axis} of size {n} leaves a "
                                   "negative size")  # fmt: skip
        crop = [slice(None)] * x.ndim
        for axis, (before, after) in zip(axes, pairs):
            crop[axis] = slice(-min(before, 0), x.shape[axis] + min(after, 0))
        x = x[tuple(crop)] if any(s != slice(None) for s in crop) else x
        width = [(0, 0)] * x.ndim
        for axis, (before, after) in zip(axes, pairs):
            width[axis] = (max(before, 0), max(after, 0))
        if not any(w != (0, 0) for w in width):
            return x
        return _numpy_pad(x, width, constant_values=0.0 if value is None else float(value))
    for axis, (before, after) in zip(axes, pairs):
        if (before, after) != (0, 0):
            x = take(x, _source_index(x.shape[axis], before, after, mode, axis, "pad"), axis=axis)
    return x


def triplet_distances(anchor: Tensor, positive: Tensor, negative: Tensor, p: float, eps: float, swap: bool):
    """``(d(a, p), d(a, n))`` by :func:`pairwise_distance`; with ``swap``, ``d(a, n) ← min(d(a, n), d(p, n))``."""
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return d_pos, d_neg
