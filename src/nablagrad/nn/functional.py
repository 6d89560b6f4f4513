"""Activations and losses as functions of tensors (lectures 000, 001, 004).

Everything is a composition of autodiff primitives, except ``binary_cross_entropy`` (on
probabilities), ``binary_cross_entropy_with_logits`` and ``step``, which are primitives of their
own (their rules are stated below).  PyTorch's names, defaults and values throughout: ``gelu``,
``silu``, ``elu``, ``softplus``, ``huber_loss``, ``smooth_l1_loss``, ``kl_div``, ``one_hot``,
``normalize``, ``batch_norm``, ``layer_norm``, and ``cross_entropy``'s ``weight``/``ignore_index``/
``label_smoothing``.  Defined beside this module and re-exported here: ``embedding`` (:mod:`.embedding`),
``cosine_similarity``, ``pairwise_distance`` and PyTorch's ``pad`` (:mod:`.distances`), and the margin, ranking,
embedding and likelihood losses (:mod:`.extra_losses`); the reductions and target checks all losses share live in
:mod:`.loss_support`.
"""

from __future__ import annotations

import numpy as np

from ..autodiff import (
    JitError,
    Primitive,
    Tensor,
    apply,
    as_tensor,
    erfc,
    exp,
    guard,
    linalg,
    log,
    log_softmax,
    maximum,
    no_grad,
    rsqrt,
    sigmoid,
    softmax,
    take_along_axis,
    tanh,
    where,
)
from ..autodiff import abs as _abs
from ..autodiff import relu as _relu
from ..autodiff import softplus as _softplus
from ..autodiff.grad_mode import batched, state
from ..autodiff.ops import check_dim
from ..autodiff.primitive import NUMPY_NS, stable_sigmoid
from ..autodiff.random import dropout_mask
from ..backend import kernels, resolve_rng
from ..backend.checks import flag, is_real
from ..backend.device import to_device
from ..backend.namespace import NUMPY, namespace_of
from .distances import cosine_similarity, pad, pairwise_distance  # PyTorch's F.pad (ng.pad keeps NumPy's meaning)
from .embedding import embedding
from .extra_losses import (
    cosine_embedding_loss,
    gaussian_nll_loss,
    margin_ranking_loss,
    multi_margin_loss,
    poisson_nll_loss,
    soft_margin_loss,
    triplet_margin_loss,
)
from .loss_support import (  # noqa: F401 - F.REDUCTIONS
    REDUCTIONS,
    InputError,
    LabelError,
    LabelTypeError,
    _check_reduction,
    _float,
    _raw,
    _target_like,
    choice,
    integer,
    number,
    reduce,
)

__all__ = [
    "identity", "step", "sigmoid", "tanh", "relu", "leaky_relu", "generalized_relu", "prelu", "abs_rectification",
    "softmax", "log_softmax", "mse_loss", "squared_error_loss", "l1_loss", "mape_loss", "cross_entropy",
    "cross_entropy_probs", "nll_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "hinge_loss", "perceptron_loss", "reduce", "linear",
    "gelu", "silu", "elu", "softplus", "huber_loss", "smooth_l1_loss", "kl_div", "one_hot", "normalize",
    "batch_norm", "layer_norm", "dropout", "embedding", "cosine_similarity", "pairwise_distance", "pad",
    "soft_margin_loss", "margin_ranking_loss", "poisson_nll_loss", "gaussian_nll_loss", "cosine_embedding_loss",
    "multi_margin_loss", "triplet_margin_loss",
]  # fmt: skip


# --- activations -------------------------------------------------------------------------------
def identity(x):
    """f(z) = z, f'(z) = 1."""
    return as_tensor(x)


STEP = Primitive(
    "step",
    lambda x: namespace_of(x).astype(x > 0, x.dtype),
    (lambda F, g, ans, x: g * 0.0,),  # the step function's derivative is 0 wherever it exists
    (lambda F, t, ans, x: t * 0.0,),
    fmt="step({0})",
)


def step(x):
    """Heaviside step: 1 for z > 0 else 0; derivative 0 (so nothing learns through it)."""
    return apply(STEP, as_tensor(x))


def generalized_relu(x, alpha):
    """``max(0, z) + α·min(0, z)`` (lecture 001); α may be a learned Parameter (PReLU).

    Computed as ``z if z > 0 else α·z``, so the derivative is ``1`` for ``z > 0`` and ``α`` for
    ``z ≤ 0`` — at ``z = 0`` it is ``α``, as in PyTorch's ``leaky_relu`` and ``prelu``.
    """
    x = as_tensor(x)
    return where(x > 0, x, alpha * x)


def relu(input, inplace: bool = False):  # noqa: A002 - PyTorch's name
    """``max(0, z)`` (``ng.relu``) with PyTorch's signature; ``inplace`` a bool, computed out of place."""
    flag("relu", "inplace", inplace)
    return _relu(input)


def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False):  # noqa: A002 - PyTorch's name
    """Generalised ReLU with α = 0.01; ``inplace`` a bool, computed out of place."""
    flag("leaky_relu", "inplace", inplace)
    return generalized_relu(input, negative_slope)


def abs_rectification(x):
    """Generalised ReLU with α = −1: |z|; at 0 the derivative is PyTorch's ``abs``'s, 0 (not α)."""
    return _abs(_float(x, "abs_rectification"))


def prelu(input, weight: Tensor):  # noqa: A002 - PyTorch's name
    """Parametric ReLU, ``torch.nn.functional.prelu(input, weight)``: the slope ``weight`` (α) of the negative
    part is learned.  One slope per channel lies along PyTorch's channel axis, 1 (the last axis only of a
    (N, C) batch); an input of fewer than 2 axes has one channel (PyTorch's rule).  The result has the input's
    shape (a 0-d input stays 0-d).  ``weight`` holds one slope (0-d or (1,)) or one per channel (C,)."""
    x = as_tensor(input)
    if not isinstance(weight, Tensor):  # a plain number: one slope
        return generalized_relu(x, weight)
    if weight.ndim > 1:
        raise ValueError(f"prelu: weight must be a scalar or 1-D tensor of slopes, got shape {weight.shape}; "
                         "give one slope, or one per channel (C,)")  # fmt: skip
    if weight.size == 1:  # one slope for all: 0-d, so the result keeps the input's shape
        return generalized_relu(x, weight.reshape(()))
    channels = x.shape[1] if x.ndim >= 2 else 1
    if x.ndim == 0 or channels != weight.shape[0]:
        raise ValueError(f"prelu: {weight.shape[0]} slopes for an input of shape {x.shape}, whose channel axis "
                         f"{'1 has' if x.ndim >= 2 else 'is absent (one channel, as PyTorch counts it):'} {channels}; "
                         f"give one slope per channel, or one for all")  # fmt: skip
    return generalized_relu(x, weight.reshape((weight.shape[0],) + (1,) * (x.ndim - 2)))


_SQRT_HALF = 0.7071067811865476  # 1/√2
_SQRT_2_OVER_PI = 0.7978845608028654  # √(2/π)
GELU_APPROXIMATIONS = ("none", "tanh")


def gelu(input, approximate: str = "none"):  # noqa: A002 - PyTorch's name
    """GELU ``x·Φ(x) = ½ x erfc(−x/√2)`` (``approximate="none"``, PyTorch's default; the erfc form
    is ``½ x (1 + erf(x/√2))`` without the cancellation for very negative x), or its tanh
    approximation ``½ x (1 + tanh(√(2/π) (x + 0.044715 x³)))`` (``approximate="tanh"``).
    Derivative ``Φ(x) + x φ(x)`` (by the tape, so every order)."""
    if not isinstance(approximate, str) or approximate not in GELU_APPROXIMATIONS:  # (an array: no ambiguous truth)
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh' (as PyTorch), got {approximate!r}")
    x = _float(input, "gelu")
    if approximate == "tanh":
        return 0.5 * x * (1.0 + tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)))
    return 0.5 * x * erfc(-_SQRT_HALF * x)


def silu(input, inplace: bool = False):  # noqa: A002 - PyTorch's name
    """SiLU (swish) ``x·σ(x)``; derivative ``σ(x)(1 + x(1 − σ(x)))``; σ never overflows; ``inplace`` a bool, computed
    out of place."""
    flag("silu", "inplace", inplace)
    x = _float(input, "silu")
    return x * sigmoid(x)


def _elu_slope(F, x, alpha):
    """ELU′: 1 for x > 0, ``α eˣ`` for x ≤ 0 (``α`` at 0, as PyTorch's first derivative).  Written in ``F`` so that
    its own derivative is ELU″: ``α eˣ`` for x < 0 and 0 from x = 0 on (the exponential reads ``x`` only where
    x < 0), PyTorch's values at the kink in every order."""
    data = F.data(x)
    return F.where(data > 0, 1.0, alpha * F.exp(F.where(data < 0, x, 0.0)))


def _elu_value(x, alpha):
    """x for x > 0, α(eˣ − 1) else; the exponential only ever sees min(x, 0): a large positive x neither overflows
    nor turns a gradient into NaN."""
    xp = namespace_of(x)
    return xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0)))


ELU = Primitive(
    "elu",
    _elu_value,
    (lambda F, g, ans, x, alpha: g * _elu_slope(F, x, alpha),),
    (lambda F, t, ans, x, alpha: t * _elu_slope(F, x, alpha),),
    fmt="elu({0})",
    reads=((0,),),
)


def elu(input, alpha: float = 1.0, inplace: bool = False):  # noqa: A002 - PyTorch's name
    """ELU ``x`` for ``x > 0``, ``α(eˣ − 1)`` for ``x ≤ 0`` (``expm1``: exact near 0); derivative 1
    for ``x > 0`` and ``α eˣ`` for ``x ≤ 0`` — ``α`` at 0, as PyTorch, whose second derivative there is 0
    (its double backward reads x < 0): so is ours (:func:`_elu_slope`).  ``inplace`` a bool, computed out of place."""
    flag("elu", "inplace", inplace)
    return apply(ELU, _float(input, "elu"), alpha=number("elu", "alpha", alpha))


def softplus(input, beta: float = 1.0, threshold: float = 20.0):  # noqa: A002 - PyTorch's name
    """Softplus ``(1/β) log(1 + e^{βx})``, and ``x`` itself where ``βx > threshold`` (PyTorch's
    linear tail); derivative ``σ(βx)`` (1 in the tail).  ``log(1 + e^z)`` is computed as
    ``max(z, 0) + log1p(e^{−|z|})`` (``ng.softplus``), so it never overflows.  ``ng.softplus(x)``
    is the plain ``log(1 + eˣ)`` without the tail."""
    beta, threshold = number("softplus", "beta", beta), number("softplus", "threshold", threshold)
    if beta == 0:
        raise ValueError("softplus: beta must be non-zero (the formula divides by it); PyTorch's default is beta=1.0")
    x = _float(input, "softplus")
    bx = x if beta == 1 else beta * x
    smooth = _softplus(bx) if beta == 1 else _softplus(bx) / beta
    return where(bx > threshold, x, smooth)


def dropout_probability(p, who: str = "dropout") -> float:
    """``p`` checked as a drop probability in [0, 1] (refused naming ``who`` and the fix)."""
    if not is_real(p):
        raise TypeError(f"{who}: p must be a probability in [0, 1], e.g. p=0.5, got {p!r} ({type(p).__name__})")
    if not 0 <= p <= 1:
        raise ValueError(f"{who}: p must lie in [0, 1], got {p}")
    return float(p)


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False, generator=None):  # noqa: A002 - PyTorch's name
    """Inverted dropout (``torch.nn.functional.dropout``): with ``training``, ``y = x · m / (1 − p)`` with
    ``m ~ Bernoulli(1 − p)`` drawn afresh on every call, so ``E[y] = x``; otherwise ``y = x``.  The mask
    comes from ``generator`` (a NumPy ``Generator`` or a seed; the library-wide one of :func:`ng.manual_seed`
    by default) and is an op of the tape, so ``ng.jit`` draws it anew on every call.  ``inplace`` is
    accepted for PyTorch's signature; the result is computed out of place (the same values and gradients)."""
    p = dropout_probability(p)
    training = flag("dropout", "training", training)
    if not isinstance(inplace, bool | np.bool_):
        raise TypeError(f"dropout: inplace must be True or False, got {type(inplace).__name__} {inplace!r}")
    x = _float(input, "dropout")
    if not training or p == 0:
        return x
    rng = resolve_rng(generator, "dropout")  # (checked; an int seed is passed as it is: each call draws from it anew)
    return x * dropout_mask(x, p, generator if isinstance(generator, int | np.integer) else rng)


# --- the fused layer ψ(x) = σ(x W + b) ---------------------------------------------------------------
def _linear_value(x, W, b, activation):
    z = x @ W
    z += b  # in place: x W is a fresh array
    xp = namespace_of(z)
    if xp is not NUMPY:  # the array API standard has no out=: the same values, not in place
        return {"relu": lambda: xp.maximum(z, 0), "tanh": lambda: xp.tanh(z), "sigmoid": lambda: stable_sigmoid(z)}.get(
            activation, lambda: z
        )()
    if activation == "relu":
        np.maximum(z, 0, out=z)
    elif activation == "tanh":
        np.tanh(z, out=z)
    elif activation == "sigmoid":
        z = stable_sigmoid(z)
    return z


def _act_times(F, g, ans, activation):
    """``σ'(z) ⊙ g`` from the layer's output ``a = σ(z)``: ReLU ``[a > 0]``, tanh ``1 − a²``, σ ``a(1 − a)``."""
    if activation == "relu":
        return kernels.relu_backward(g, ans) if F is NUMPY_NS else F.select(~(F.data(ans) <= 0), g)  # (NaN: g, torch's)
    if activation == "tanh":
        return g * (1.0 - ans * ans)
    if activation == "sigmoid":
        return g * (ans * (1.0 - ans))
    return g


# On raw NumPy arrays (the first-order path) the three rules call NumPy's methods directly: the
# same operations, without the generic namespace's per-call dispatch (x and W are matrices here).
def _dx(F, gz, x, W):
    return gz @ W.T if F is NUMPY_NS else F.matmul(gz, F.swapaxes(W, -1, -2))


def _dW(F, gz, x, W):
    if F is NUMPY_NS:  # one example: the outer product xᵀg, much faster than a GEMM with k = 1, same numbers
        return kernels.outer(x, gz) if x.shape[0] == 1 else x.T @ gz
    return F.matmul(F.swapaxes(x, -1, -2), gz)


def _db(F, gz, x, W):
    # np.add.reduce is what gz.sum() calls, without its Python wrapper (several µs inside a training step)
    return np.add.reduce(gz, axis=0) if F is NUMPY_NS else F.sum(gz, axis=0)


class _FusedLinear(Primitive):
    """``σ(x W + b)`` as one primitive; its VJP computes ``σ'(z) ⊙ ḡ`` once for all three inputs."""

    __slots__ = ()

    def vjp(self, F, g, ans, args, params, needs):
        gz = _act_times(F, g, ans, params["activation"])
        return [rule(F, gz, *args[:2]) if need else None for rule, need in zip((_dx, _dW, _db), needs)]


# One op where the composite takes three (matmul, add, activation) and one pass less backward.
# tests/nn/test_fused.py checks it against x @ W + b followed by the activation.
LINEAR = _FusedLinear(
    "linear",
    _linear_value,
    tuple((lambda F, g, ans, x, W, b, activation, r=r: r(F, _act_times(F, g, ans, activation), x, W)) for r in (_dx, _dW, _db)),
    (
        lambda F, t, ans, x, W, b, activation: _act_times(F, F.matmul(t, W), ans, activation),
        lambda F, t, ans, x, W, b, activation: _act_times(F, F.matmul(x, t), ans, activation),
        lambda F, t, ans, x, W, b, activation: _act_times(F, F.broadcast_to(t, ans.shape), ans, activation),
    ),
    fmt="{2} + {0} @ {1}",
)
FUSED_ACTIVATIONS = {"identity": identity, "relu": _relu, "tanh": tanh, "sigmoid": sigmoid}
_FUSED_NAMES = tuple(FUSED_ACTIVATIONS)  # (for the check on every call)


def linear(x, weight, bias=None, activation: str = "identity"):
    """The layer ``σ(x W + b)`` (lecture 002) for σ in :data:`FUSED_ACTIVATIONS`: one fused primitive
    for a batch of rows with a bias, the composite ``σ(x @ W + b)`` otherwise."""
    choice("linear", "activation", activation, _FUSED_NAMES)
    x = as_tensor(x)
    for name, t in (("weight", weight), ("bias", bias)):
        if not isinstance(t, Tensor) and (t is not None or name == "weight"):  # (its .dtype is read below)
            raise TypeError(f"linear: {name} must be a tensor (an nn.Parameter), got {type(t).__name__}; wrap an array "
                            "with ng.tensor(...)")  # fmt: skip
    if bias is not None and x.ndim == 2 and x.dtype == weight.dtype == bias.dtype:
        return apply(LINEAR, x, weight, bias, activation=activation)
    z = x @ weight
    return FUSED_ACTIVATIONS[activation](z + bias if bias is not None else z)


# --- regression losses ---------------------------------------------------------------------------
def _elementwise_weighted(who: str, loss: Tensor, weight, pred: Tensor, reduction: str, by_weight: bool) -> Tensor:
    """PyTorch 2.13's ``weight=`` of the regression losses: ``w ⊙ ℓ`` with ``w`` of the input's shape, reduced as
    ``reduction`` asks — ``mean`` being ``Σ wℓ / Σ w`` when ``by_weight`` (``mse_loss``, ``l1_loss``), else
    ``Σ wℓ / n`` (``huber_loss``), as PyTorch's."""
    _check_reduction(reduction, who)  # (mean divides by Σ w here, not in reduce: a bad name is refused first)
    w = _weight_like(weight, pred)
    if w.shape != pred.shape:
        raise ValueError(f"{who}: weight of shape {w.shape} must have the input's shape {pred.shape} (one weight per "
                         "element; PyTorch: 'Weights and input must have the same size')")  # fmt: skip
    w = _in_dtype_of(w, pred)
    loss = loss * w
    return loss.sum() / w.sum() if by_weight and reduction == "mean" else reduce(loss, reduction)


def mse_loss(input, target, reduction: str = "mean", weight=None):  # noqa: A002 - PyTorch's name
    """(o − y)², averaged (``mean``), summed, or per element (``none``); PyTorch's ``weight`` (the input's
    shape) multiplies each element's loss, ``mean`` then dividing by ``Σ w``."""
    pred = as_tensor(input)
    d = pred - _target_like(pred, target, "mse_loss")
    if weight is not None:
        return _elementwise_weighted("mse_loss", d * d, weight, pred, reduction, by_weight=True)
    return reduce(d * d, reduction)


def squared_error_loss(pred, target, reduction: str = "mean"):
    """The lectures' ``½‖o − y‖²`` per example (sum over outputs), gradient ``o − y`` (000, 003)."""
    pred = as_tensor(pred)
    d = pred - _target_like(pred, target, "squared_error_loss")
    per_example = 0.5 * (d * d).reshape(d.shape[0], -1).sum(axis=1) if d.ndim else 0.5 * d * d
    return reduce(per_example, reduction)


def l1_loss(input, target, reduction: str = "mean", weight=None):  # noqa: A002 - PyTorch's name
    """MAE: |o − y| (lecture 004); ``weight`` as :func:`mse_loss`'s (``mean`` divides by ``Σ w``)."""
    pred = as_tensor(input)
    loss = abs(pred - _target_like(pred, target, "l1_loss"))
    if weight is not None:
        return _elementwise_weighted("l1_loss", loss, weight, pred, reduction, by_weight=True)
    return reduce(loss, reduction)


def mape_loss(pred, target, reduction: str = "mean", eps: float = 1e-8):
    """MAPE: |o − y| / max(|y|, eps), a fraction (×100 for percent), as scikit-learn (004)."""
    pred = as_tensor(pred)
    t = _target_like(pred, target, "mape_loss")
    return reduce(abs(pred - t) / maximum(abs(t), eps), reduction)


def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0, weight=None):  # noqa: A002 - PyTorch's
    """Huber loss of ``d = o − y``: ``½ d²`` for ``|d| < δ``, ``δ(|d| − ½δ)`` otherwise (quadratic
    near 0, linear in the tails, so outliers pull with a bounded force); derivative ``d`` inside,
    ``δ·sign d`` outside (PyTorch's ``huber_loss``).  ``δ > 0``.  PyTorch's ``weight`` (the input's shape)
    multiplies each element's loss; ``mean`` then still divides by the number of elements (PyTorch's rule)."""
    if not number("huber_loss", "delta", delta) > 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta!r} (PyTorch's default is delta=1.0)")
    _check_reduction(reduction, "huber_loss")
    pred = as_tensor(input)
    d = pred - _target_like(pred, target, "huber_loss")
    a = abs(d)
    loss = where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))
    if weight is not None:
        return _elementwise_weighted("huber_loss", loss, weight, pred, reduction, by_weight=False)
    return reduce(loss, reduction)


def smooth_l1_loss(input, target, reduction: str = "mean", beta: float = 1.0):  # noqa: A002 - PyTorch's name
    """Smooth L1 of ``d = o − y``: ``½ d²/β`` for ``|d| < β``, ``|d| − ½β`` otherwise — Huber
    divided by β (``huber_loss(δ=β)/β``); derivative ``d/β`` inside, ``sign d`` outside.  ``β = 0``
    is the L1 loss (as PyTorch).  ``β ≥ 0``."""
    if not number("smooth_l1_loss", "beta", beta) >= 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta!r} (PyTorch's default is beta=1.0)")
    _check_reduction(reduction, "smooth_l1_loss")
    if beta == 0:
        return l1_loss(input, target, reduction)
    pred = as_tensor(input)
    d = pred - _target_like(pred, target, "smooth_l1_loss")
    a = abs(d)
    return reduce(where(a < beta, (0.5 / beta) * d * d, a - 0.5 * beta), reduction)


# --- classification losses -----------------------------------------------------------------------
def cross_entropy(
    input, target, reduction: str = "mean", axis: int | None = None, weight=None, ignore_index: int = -100,  # noqa: A002
    label_smoothing: float = 0.0,
):  # fmt: skip
    """Cross-entropy ``−Σ y_i ln o_i`` with ``o = softmax(logits)`` (lecture 000), ``logits`` the ``input``.

    The classes lie along ``axis``: by default PyTorch's class axis, 1 for batched logits (N, C, d1, …)
    and 0 for unbatched ones (C,); a NumPy-style ``axis=-1`` puts them last.

    ``target`` is either integer class labels of shape (N,) or probabilities / one-hot of the
    logits' shape.  Computed through ``log_softmax``, so no probability is ever rounded to 0.
    PyTorch's other label layouts too: unbatched logits (C,) with a 0-d label, and logits
    (N, C, d1, …, dK) with labels (N, d1, …, dK) (the class axis 1, a loss per position).

    PyTorch's options: ``weight`` (C,) rescales each class — with labels the row loss is
    ``w_{y_i} ℓ_i`` and ``mean`` divides by ``Σ_i w_{y_i}``, not N; with probabilities ``mean``
    divides by N.  Rows whose label equals ``ignore_index`` add nothing (nor count in the mean).
    ``label_smoothing`` ε mixes the target with the uniform distribution: ``(1 − ε) y + ε/C``.
    With the defaults, labels go through one fused primitive (softmax, pick, reduction).
    """
    _check_reduction(reduction, "cross_entropy")
    ignore_index = integer("cross_entropy", "ignore_index", ignore_index)
    label_smoothing = number("cross_entropy", "label_smoothing", label_smoothing)
    logits = as_tensor(input)
    if axis is None:
        axis = 1 if logits.ndim >= 2 else -1  # PyTorch's class axis
    t = _raw(target, "cross_entropy")
    kind = namespace_of(t).numpy_dtype(t.dtype).kind
    if kind in "iu" and tuple(t.shape) == logits.shape[:1] and logits.ndim == 2 and axis in (-1, 1):
        if weight is None and label_smoothing == 0.0 and ignore_index == -100:
            try:  # the primitive checks the labels, so a compiled replay refuses a bad one as an eager call does
                out = apply(SOFTMAX_CROSS_ENTROPY, logits, labels=to_device(t, logits.device), reduction=reduction)
                return guard(out, target)  # the VJP reads the labels' array
            except (ValueError, IndexError) as exc:
                if not bool(namespace_of(t).any(t == ignore_index)):
                    raise _relabelled(exc, t, logits.shape[1], ignore_index) from None
        labels = _host_tensor(target, t)
        labels = to_device(t, "cpu") if labels is None else labels
        return _label_rows(logits, labels, reduction, weight, ignore_index, label_smoothing)
    if kind in "iu" and axis in (-1, 1) and _other_label_layout(logits.shape, tuple(t.shape)):
        labels = _host_tensor(target, t)  # a tensor: reshaped by an op, so a compiled call reads its own labels
        return _label_layouts(logits, t if labels is None else labels, reduction, weight, ignore_index, label_smoothing)
    t = to_device(t, logits.device)
    logp = log_softmax(logits, axis=axis)
    if t.shape != logits.shape:
        raise InputError(  # (PyTorch: a RuntimeError, or its ValueError for a batch-size mismatch)
            f"cross_entropy: logits have shape {logits.shape}; the target must be integer labels of shape "
            f"{logits.shape[:1]} or probabilities of shape {logits.shape}, got {t.shape} ({t.dtype})"
        )
    if ignore_index >= 0:
        raise ValueError(
            f"cross_entropy: ignore_index={ignore_index} applies to integer labels only, not to a target of "
            "probabilities (as PyTorch); drop ignore_index or give labels"
        )
    y = _distribution_target(target, _raw(target), logp)  # the target as given, not t moved
    if weight is None and label_smoothing == 0.0:
        return reduce(-(logp * y).sum(axis=axis), reduction)
    c = logits.shape[axis]
    y = _smoothed(as_tensor(y, device=logp.device), label_smoothing, c)
    if weight is not None:
        shape = [1] * logits.ndim
        shape[axis] = c
        y = y * _class_weight(weight, logits, c).reshape(tuple(shape))
    return reduce(-(logp * y).sum(axis=axis), reduction)


def _host_tensor(target, t) -> Tensor | None:
    """``target`` itself where it is a tensor on the host (``t`` its array), else ``None``: a compiled step
    then reads each call's target through the ops that use it, instead of freezing the traced call's array."""
    return target if isinstance(target, Tensor) and t.__class__ is np.ndarray else None


def _distribution_target(target, t, like: Tensor):
    """A target distribution (probabilities, one-hot rows) as an operand of ``like``: the host tensor itself
    (:func:`_host_tensor`) in ``like``'s dtype where ``like`` is on the host too, else its array ``t`` moved to
    ``like``'s device and dtype (as the labels of :func:`cross_entropy` are)."""
    y = _host_tensor(target, t)
    if y is not None and like.data.__class__ is np.ndarray:
        return y if y.dtype == like.dtype else y.astype(like.dtype)
    return to_device(t, like.device, like.dtype)


def _other_label_layout(shape: tuple[int, ...], labels: tuple[int, ...]) -> bool:
    """PyTorch's label layouts besides (N, C) with (N,): unbatched logits (C,) with a 0-d label,
    and K-dimensional logits (N, C, d1, …, dK) with labels (N, d1, …, dK)."""
    return (len(shape) == 1 and labels == ()) or (len(shape) >= 3 and labels == shape[:1] + shape[2:])


def _label_layouts(logits: Tensor, labels, reduction: str, weight, ignore_index: int, eps: float, nll: bool = False):
    """The layouts of :func:`_other_label_layout` as rows of the (N, C) case: one row for unbatched
    logits, one per position (the class axis moved last) for K-dimensional ones — so ``weight``,
    ``ignore_index``, ``label_smoothing`` and ``mean``'s Σ w_{y_i} divisor are the same formulas
    over every position, as PyTorch's.  ``"none"`` gives the labels' shape (0-d when unbatched)."""
    c = logits.shape[0] if logits.ndim == 1 else logits.shape[1]
    rows = logits.reshape(1, c) if logits.ndim == 1 else logits.moveaxis(1, -1).reshape(-1, c)
    flat = labels.reshape(-1) if isinstance(labels, Tensor) else namespace_of(labels).reshape(labels, (-1,))
    if nll:  # (rows of log-probabilities: nll_loss's)
        out = nll_loss(rows, flat, weight, ignore_index, reduction)
    else:
        out = cross_entropy(rows, flat, reduction, -1, weight, ignore_index, eps)
    return out.reshape(tuple(labels.shape)) if reduction == "none" else out


def _check_smoothing(eps: float) -> None:
    if not 0.0 <= eps <= 1.0:  # (PyTorch's RuntimeError: InputError is both)
        raise InputError(f"cross_entropy: label_smoothing must lie in [0, 1], got {eps!r} (0.0, the default, is none)")


def _smoothed(y, eps: float, c: int):
    """``(1 − ε) y + ε/C``: the target mixed with the uniform distribution over ``C`` classes."""
    _check_smoothing(eps)
    return y if eps == 0.0 else y * (1.0 - eps) + eps / c


def _weight_like(weight, logits: Tensor) -> Tensor:
    """A loss weight as a tensor on the logits' device (its dtype made theirs by :func:`_in_dtype_of`)."""
    return weight if isinstance(weight, Tensor) else as_tensor(to_device(_raw(weight), logits.device), device=logits.device)


def _in_dtype_of(w: Tensor, logits: Tensor) -> Tensor:
    return w if w.dtype == logits.dtype else w.astype(logits.dtype)


def _class_weight(weight, logits: Tensor, c: int) -> Tensor:
    """``weight`` as a tensor of shape (C,) in the logits' dtype and on their device."""
    w = _weight_like(weight, logits)
    if w.shape != (c,):
        raise ValueError(
            f"cross_entropy: weight must hold one value per class, shape ({c},), got shape {w.shape}; "
            f"the logits have {c} classes along the class axis"
        )
    return _in_dtype_of(w, logits)


def _kept_labels(labels, classes: int, ignore_index: int):
    """The labels with each ignored one replaced by 0 (a row to pick from, weighted 0 later), after the
    check that every other lies in ``[0, C)``: an op of its own, so a compiled step checks each call's labels."""
    keep = labels != ignore_index
    safe = np.where(keep, labels, 0)
    if safe.size and (safe.min() < 0 or safe.max() >= classes):
        bad = labels[keep & ((labels < 0) | (labels >= classes))]
        raise LabelError(
            f"cross_entropy: labels must lie in [0, {classes - 1}] or equal ignore_index={ignore_index}, "
            f"got {bad[:5].tolist()}"
        )
    return safe


def _relabelled(exc: Exception, labels, classes: int, ignore_index: int) -> Exception:
    """``exc`` as a :class:`LabelError` (PyTorch's ``IndexError``, a ``ValueError`` too) where some label other than
    ``ignore_index`` lies outside ``[0, C)``, else ``exc``: an op's ``ValueError`` reaches here as a plain one (the op
    wrapper re-raises it with its shapes), so the labels are looked at again, only on this failure path."""
    host = np.asarray(to_device(_raw(labels), "cpu"))
    bad = (host != ignore_index) & ((host < 0) | (host >= classes))
    return LabelError(str(exc)) if bool(bad.any()) else exc


# gradient-free ops of the labels: ``ng.jit`` records them, so each call's labels are read anew
KEPT_LABELS = Primitive("kept_labels", _kept_labels, (None,), (None,), fmt="kept_labels({0})")
KEPT_ROWS = Primitive("kept_rows", lambda labels, ignore_index, dtype: (labels != ignore_index).astype(dtype),
                      (None,), (None,), fmt="kept_rows({0})")  # fmt: skip


def _label_rows(logits: Tensor, labels, reduction: str, weight, ignore_index: int, eps: float, given: bool = False):
    """Labels with ``weight``/``ignore_index``/``label_smoothing`` (PyTorch's formulas), from
    differentiable ops: ``ℓ_i = (1 − ε) w_{y_i}(−ln p_{i,y_i}) + (ε/C) Σ_c w_c (−ln p_{ic})``
    for kept rows, 0 for ignored ones; ``mean`` is ``Σ_i ℓ_i / Σ_{kept i} w_{y_i}``.  ``ln p`` is
    ``log_softmax(logits)``, or ``logits`` themselves when ``given`` (nll_loss's log-probabilities)."""
    n, c = logits.shape
    if labels.dtype.kind not in "iu":
        raise LabelTypeError(f"{'nll_loss' if given else 'cross_entropy'}: labels must be integers, got {labels.dtype}")
    _check_smoothing(eps)
    labels = labels if isinstance(labels, Tensor) else as_tensor(labels, device="cpu")  # on the host
    try:
        safe = apply(KEPT_LABELS, labels, classes=c, ignore_index=ignore_index)
    except ValueError as exc:
        raise _relabelled(exc, labels, c, ignore_index) from None
    keep_w = apply(KEPT_ROWS, labels, ignore_index=ignore_index, dtype=logits.dtype)
    logp = logits if given else log_softmax(logits, axis=1)
    dev = logits.device
    if logits.data.__class__ is not np.ndarray:  # another library's device: the host's labels moved there
        safe, keep_w = (as_tensor(to_device(a.data, dev), device=dev) for a in (safe, keep_w))
    picked = logp[to_device(np.arange(n), dev), safe]
    if weight is None:
        w_y = keep_w
    else:
        w = _class_weight(weight, logits, c)
        w_y = take_along_axis(w, safe, 0) * keep_w  # safe an input of the op: recorded when the labels are traced
    rows = -(w_y * picked)
    if eps:
        spread = -(logp * w).sum(axis=1) if weight is not None else -logp.sum(axis=1)
        rows = (1.0 - eps) * rows + (eps / c) * (spread * keep_w)
    if reduction == "mean":
        total = w_y.sum()
        empty = total == 0  # every row ignored (or weighted 0): the value 0/0 = nan and gradient 0, as PyTorch
        return where(empty, float("nan"), rows.sum() / where(empty, 1.0, total))
    return rows.sum() if reduction == "sum" else rows


# max(o, eps) in the value, the identity in the derivative (a straight-through clamp: the gradient of a
# probability below eps is not zeroed); one op, so a compiled step computes the clamp anew on each call
CLAMP_MIN_THROUGH = Primitive(
    "clamp_min_through",
    lambda o, eps: namespace_of(o).maximum(o, eps),
    (lambda F, g, ans, o, eps: g,),
    (lambda F, t, ans, o, eps: t,),
    fmt="clamp_min_through({0})",
)


def _one_hot_labels(labels, classes: int, dtype):
    """Labels (N,) as one-hot rows (N, C) of ``dtype``, after the check that each lies in ``[0, C)``."""
    _check_labels(labels, (len(labels), classes), "cross_entropy_probs")
    return np.eye(classes, dtype=dtype)[labels]


ONE_HOT_LABELS = Primitive("one_hot_labels", _one_hot_labels, (None,), (None,), fmt="one_hot_labels({0})")


def cross_entropy_probs(probs, target, reduction: str = "mean", axis: int = -1, eps: float = 1e-12):
    """Cross-entropy of given probabilities ``o`` (e.g. a softmax layer's output), ``−Σ_j y_j ln o_j``
    (lecture 000), with the lecture's gradient ``∂/∂o_j = −y_j / o_j``.

    Clamped so it never returns NaN or ±inf: ``o`` is replaced by ``max(o, eps)`` in the value
    and in the gradient, which is ``−y_j / max(o_j, eps)`` (a straight-through clamp: unlike
    ``clip``, it does not zero the gradient of a probability below ``eps``).  ``target``: labels
    (N,) or probabilities/one-hot of the same shape.  Prefer :func:`cross_entropy` on logits
    when you have them: it never forms ``ln o`` at all.
    """
    probs = as_tensor(probs)
    if probs.ndim == 0:
        raise ValueError("cross_entropy_probs: probabilities need a class axis, got a scalar")
    t = _raw(target, "cross_entropy_probs")
    if namespace_of(t).numpy_dtype(t.dtype).kind in "iu" and probs.ndim == 2 and t.shape == probs.shape[:1]:
        labels = _host_tensor(target, t)  # checked and one-hot encoded on the host
        labels = as_tensor(to_device(t, "cpu"), device="cpu") if labels is None else labels
        target = apply(ONE_HOT_LABELS, labels, classes=probs.shape[1], dtype=probs.dtype)
        t = target.data
    if t.shape != probs.shape:
        raise ValueError(
            f"cross_entropy_probs: probabilities have shape {probs.shape}; the target must be integer labels of shape "
            f"{probs.shape[:1]} or probabilities of shape {probs.shape}, got {t.shape}"
        )
    clamped = apply(CLAMP_MIN_THROUGH, probs, eps=eps)  # value max(o, eps); d/do = 1
    return reduce(-(log(clamped) * _distribution_target(target, t, probs)).sum(axis=axis), reduction)


def nll_loss(input, target, weight=None, ignore_index: int = -100, reduction: str = "mean"):  # noqa: A002 - PyTorch's name
    """Negative log-likelihood of integer labels, ``ℓ_i = −w_{y_i} log p[i, y_i]`` (PyTorch's ``nll_loss``,
    its arguments in its order): ``mean`` divides by ``Σ_i w_{y_i}`` over the rows kept, rows labelled
    ``ignore_index`` add nothing; PyTorch's layouts too — unbatched (C,) with a 0-d label, (N, C, d1, …)
    with labels (N, d1, …).  The log-probabilities are taken as given (not normalised)."""
    _check_reduction(reduction, "nll_loss")
    ignore_index = integer("nll_loss", "ignore_index", ignore_index)
    log_probs = as_tensor(input)
    t = _raw(target, "nll_loss")
    if namespace_of(t).numpy_dtype(t.dtype).kind not in "iu":
        raise LabelTypeError(f"nll_loss: labels must be integers (class indices), got {t.dtype}; cast them, "
                             "e.g. y.astype('int64')")  # fmt: skip
    labels = _host_tensor(target, t)
    labels = to_device(t, "cpu") if labels is None else labels
    if log_probs.ndim == 2 and tuple(t.shape) == log_probs.shape[:1]:
        return guard(_label_rows(log_probs, labels, reduction, weight, ignore_index, 0.0, given=True), target)
    if _other_label_layout(log_probs.shape, tuple(t.shape)):
        return _label_layouts(log_probs, labels, reduction, weight, ignore_index, 0.0, nll=True)
    raise ValueError(
        f"nll_loss: log-probabilities of shape {log_probs.shape} need labels of shape {log_probs.shape[:1]} (or, as "
        f"PyTorch, (C,) with a 0-d label, (N, C, d1, ...) with (N, d1, ...)); got labels of shape {tuple(t.shape)}"
    )


def _check_labels(t: np.ndarray, shape: tuple[int, ...], who: str) -> None:
    n, c = shape
    if t.shape != (n,):
        raise ValueError(f"{who}: {n} rows of scores but labels of shape {t.shape}")
    if t.size and (t.min() < 0 or t.max() >= c):
        raise LabelError(f"{who}: labels must lie in [0, {c - 1}], got range [{t.min()}, {t.max()}]")


def _arange(n: int, like):
    """``0, 1, …, n − 1`` on the device of the array ``like``."""
    xp = namespace_of(like)
    return xp.arange(n) if xp is NUMPY else xp.arange(n, device=like.device)


def _rows(labels):
    """``0, 1, …, n − 1`` for ``n`` labels, on the labels' device."""
    return _arange(labels.shape[0], labels)


def _softmax_ce_rows(z, labels):
    """``ℓ_i = log Σ_j e^{z_ij} − z_{i,y_i}``, computed as ``log Σ e^{z−m} − (z_y − m)`` (never overflows)."""
    xp = namespace_of(z)
    shifted = z - xp.max(z, axis=1, keepdims=True)
    return xp.log(xp.sum(xp.exp(shifted), axis=1)) - shifted[_rows(labels), labels]


def _reduce_rows(F, rows, reduction: str):
    """The rows' losses (last axis) as ``reduction`` asks, in the namespace ``F`` (raw arrays or
    tensors): each (none), ``Σ_i ℓ_i`` (sum) or ``(1/N) Σ_i ℓ_i`` (mean, the namespace's own mean:
    the same numbers as ``ℓ.mean()``)."""
    if reduction == "none":
        return rows
    return F.mean(rows, axis=-1) if reduction == "mean" else F.sum(rows, axis=-1)


def _softmax_ce_value(z, labels, reduction: str = "none"):
    """The rows' losses ``ℓ_i`` reduced as ``reduction`` asks (:func:`_reduce_rows`).  The labels are
    checked here, so an eager call and a compiled replay refuse them alike: by the kernel as it goes
    (the message then from :func:`_check_labels`), else before NumPy indexes with them."""
    try:
        rows = kernels.softmax_ce_rows(z, labels)
    except IndexError:
        _check_labels(labels, z.shape, "cross_entropy")
        raise
    if rows is None:
        _check_labels(to_device(labels, "cpu"), z.shape, "cross_entropy")
        rows = _softmax_ce_rows(z, labels)
    return _reduce_rows(namespace_of(z), rows, reduction)


def _softmax_minus_onehot(F, z, labels):
    """``softmax(z) − onehot(y)`` row by row; the softmax is shifted by the row maximum (a constant: the
    shift cancels in the softmax and in its derivative), so it never overflows."""
    zd = F.data(z)
    xp = namespace_of(zd)
    e = F.exp(z - xp.max(zd, axis=1, keepdims=True))
    onehot = namespace_of(labels).astype(_arange(zd.shape[1], labels) == labels[:, None], zd.dtype)
    return e / F.expand_dims(F.sum(e, axis=1), 1) - onehot


def _ce_weights(F, g, reduction: str, n: int):
    """``w`` with ``∂ℓ/∂z_i = w_i (softmax(z_i) − onehot(y_i))``: ``ḡ_i`` as a column (none), ``ḡ`` (sum), ``ḡ/N`` (mean)."""
    if reduction == "none":
        return F.expand_dims(g, 1)
    return g / n if reduction == "mean" else g


# Softmax, cross-entropy of integer labels and the batch reduction fused in one primitive (one op
# instead of log_softmax, an index, a negation and a mean): ∂ℓ_i/∂z_i = softmax(z_i) − onehot(y_i).
# tests/nn/test_fused.py checks it against the composite −log_softmax(z)[i, y_i] for every reduction.
def _softmax_ce_vjp(F, g, ans, z, labels, reduction="none"):
    """``w ⊙ (softmax(z) − onehot(y))`` (:func:`_ce_weights`); on raw NumPy arrays with the ``fast``
    extra, one compiled pass per row that makes the same operations in the same order."""
    w = _ce_weights(F, g, reduction, labels.shape[0])
    fused = kernels.softmax_ce_grad(z, labels, w) if F is NUMPY_NS else None
    return w * _softmax_minus_onehot(F, z, labels) if fused is None else fused


def _softmax_ce_jvp(F, t, ans, z, labels, reduction="none"):
    """``Σ_j ṫ_ij (softmax(z_i) − onehot(y_i))_j`` per row, then reduced as the value."""
    return _reduce_rows(F, F.sum(t * _softmax_minus_onehot(F, z, labels), axis=1), reduction)


def _softmax_ce_batch(F, prim, args, batched, params):
    """vmap over a batch of logits ``(B, N, C)`` (the labels are a parameter: the same for every example):
    the rows' losses ``logsumexp_j z_bij − z_{b,i,y_i}`` from differentiable ops, reduced over ``i``."""
    (z,), labels = args, params["labels"]
    _check_labels(to_device(labels, "cpu"), tuple(z.shape[-2:]), "cross_entropy")
    losses = F.logsumexp(z, axis=-1) - F.getitem(z, (slice(None), _rows(labels), labels))
    return _reduce_rows(F, losses, params["reduction"])


SOFTMAX_CROSS_ENTROPY = Primitive(
    "softmax_cross_entropy",
    _softmax_ce_value,
    (_softmax_ce_vjp,),
    (_softmax_ce_jvp,),
    fmt="softmax_cross_entropy({0})",
    batch=_softmax_ce_batch,
)


def _clamped_logs(o):
    """``max(ln o, −100)`` and ``max(ln(1 − o), −100)``: PyTorch's clamp, so ``ln 0`` counts as −100."""
    xp = namespace_of(o)
    with np.errstate(divide="ignore"):
        return xp.maximum(xp.log(o), -100.0), xp.maximum(xp.log1p(-o), -100.0)


def _bce_value(o, y):
    lo, l1 = _clamped_logs(o)
    return -(y * lo + (1 - y) * l1)


def _bce_do(F, g, o, y):
    """∂ℓ/∂o = (o − y) / max(o(1 − o), 10⁻¹²): PyTorch's form, finite (0 when o = y) even
    where a clamped log is flat — a saturated, correct prediction gets no gradient, not NaN."""
    return g * (o - y) / F.maximum(o * (1.0 - o), 1e-12)


def _bce_dy(F, g, o):
    """∂ℓ/∂y = −(max(ln o, −100) − max(ln(1 − o), −100))."""
    od = F.data(o)
    lo, l1 = _clamped_logs(od)
    return g * namespace_of(od).astype(l1 - lo, od.dtype)


# ℓ = −[y max(ln o, −100) + (1 − y) max(ln(1 − o), −100)], one primitive as torch's BCELoss
BCE = Primitive(
    "binary_cross_entropy",
    _bce_value,
    (lambda F, g, ans, o, y: _bce_do(F, g, o, y), lambda F, g, ans, o, y: _bce_dy(F, g, o)),
    (lambda F, t, ans, o, y: _bce_do(F, t, o, y), lambda F, t, ans, o, y: _bce_dy(F, t, o)),
    fmt="bce({0}, {1})",
)


def _in_unit_interval(x: Tensor, what: str, fix: str) -> None:
    """Refuse ``x`` (probabilities or BCE targets) unless every value lies in [0, 1] (NaN fails), as PyTorch does."""
    if not bool(namespace_of(x.data).all((x.data >= 0) & (x.data <= 1))):  # NaN fails both
        host = np.asarray(to_device(x.data, "cpu"))
        bad = host[~((host >= 0) & (host <= 1))].reshape(-1)[0]
        raise ValueError(f"binary_cross_entropy: {what} must lie in [0, 1], got {bad}; {fix}")


def binary_cross_entropy(input, target, reduction: str = "mean", weight=None):  # noqa: A002 - PyTorch's name
    """BCE on probabilities, ``−[y ln o + (1 − y) ln(1 − o)]``; logs clamped at −100 and the
    gradient ``(o − y)/max(o(1 − o), 10⁻¹²)`` (as PyTorch), finite at saturated predictions.  Probabilities
    ``o`` and targets ``y`` outside [0, 1] are refused (PyTorch's checks of both).
    PyTorch's ``weight`` (broadcast to the probabilities' shape) multiplies each element's loss."""
    probs = as_tensor(input)
    t = _target_like(probs, target, "binary_cross_entropy")
    _in_unit_interval(probs, "probabilities", "for raw scores (logits) use binary_cross_entropy_with_logits")
    _in_unit_interval(t, "target values", "give targets in [0, 1] (PyTorch refuses others too)")
    if weight is None:
        return reduce(apply(BCE, probs, t), reduction)
    _check_reduction(reduction, "binary_cross_entropy")
    return reduce(apply(BCE, probs, t) * _broadcast_weight(weight, probs, "weight", "binary_cross_entropy"), reduction)


def _bce_logits_value(z, y):
    # max(z, 0) − z·y + log(1 + e^{−|z|}): never overflows, exact for |z| > 100
    xp = namespace_of(z)
    return xp.maximum(z, 0) - z * y + xp.log1p(xp.exp(-xp.abs(z)))


BCE_WITH_LOGITS = Primitive(
    "bce_with_logits",
    _bce_logits_value,
    (lambda F, g, ans, z, y: g * (F.sigmoid(z) - y), lambda F, g, ans, z, y: -g * z),
    (lambda F, t, ans, z, y: t * (F.sigmoid(z) - y), lambda F, t, ans, z, y: -t * z),
    fmt="bce_logits({0}, {1})",
)


def binary_cross_entropy_with_logits(input, target, reduction: str = "mean", weight=None,  # noqa: A002
                                     pos_weight=None):  # fmt: skip
    """BCE of ``σ(z)`` computed from the logit ``z``; gradient ``σ(z) − y``; stable for any |z|.

    PyTorch's options: ``pos_weight`` p (one per class, broadcast along the last axis) weighs the
    positive term, ``ℓ = −[p y ln σ(z) + (1 − y) ln(1 − σ(z))] = (1 − y) z + (1 + (p − 1) y)
    softplus(−z)`` (softplus never overflows); ``weight`` multiplies each element's loss.
    """
    logits = as_tensor(input)
    y = _target_like(logits, target, "binary_cross_entropy_with_logits")
    if weight is None and pos_weight is None:
        return reduce(apply(BCE_WITH_LOGITS, logits, y), reduction)
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    if pos_weight is None:
        loss = apply(BCE_WITH_LOGITS, logits, y)
    else:
        p = _broadcast_weight(pos_weight, logits, "pos_weight", "binary_cross_entropy_with_logits")
        loss = (1.0 - y) * logits + (1.0 + (p - 1.0) * y) * _softplus(-logits)
    if weight is not None:
        loss = loss * _broadcast_weight(weight, logits, "weight", "binary_cross_entropy_with_logits")
    return reduce(loss, reduction)


def _broadcast_weight(weight, logits: Tensor, name: str, who: str) -> Tensor:
    """A weight that broadcasts to the logits' shape, as a tensor in their dtype and on their device."""
    w = _weight_like(weight, logits)
    try:
        fits = np.broadcast_shapes(w.shape, logits.shape) == logits.shape
    except ValueError:
        fits = False
    if not fits:
        hint = f"one value per class, shape ({logits.shape[-1]},)" if name == "pos_weight" and logits.ndim else "its shape"
        raise ValueError(
            f"{who}: {name} of shape {w.shape} does not broadcast to the {'logits' if 'logits' in who else 'probabilities'}' "
            f"shape {logits.shape}; give {hint}"
        )
    return _in_dtype_of(w, logits)


def _margin(scores, target, who: str):
    scores = as_tensor(scores)
    t = _target_like(scores, target, who)
    if not bool(namespace_of(t.data).all((t.data == 1) | (t.data == -1))):
        raise ValueError(f"{who}: labels must be −1 or +1")
    return scores * t  # margin M = y⟨w, x⟩ (lecture 004)


def hinge_loss(scores, target, reduction: str = "mean"):
    """Hinge (SVM) loss ``max(0, 1 − M)`` with margin ``M = y·score``, labels ±1 (lecture 004)."""
    return reduce(_relu(1.0 - _margin(scores, target, "hinge_loss")), reduction)


def perceptron_loss(scores, target, reduction: str = "mean"):
    """Perceptron loss ``max(0, −M)``, labels ±1 (lecture 004)."""
    return reduce(_relu(-_margin(scores, target, "perceptron_loss")), reduction)


# --- KL divergence -------------------------------------------------------------------------------
KL_REDUCTIONS = ("mean", "batchmean", "sum", "none")


def _check_kl_reduction(reduction: str, who: str = "kl_div") -> None:
    if not isinstance(reduction, str) or reduction not in KL_REDUCTIONS:
        raise ValueError(f"{who}: reduction must be one of {KL_REDUCTIONS}, got {reduction!r} ('batchmean' is the true KL "
                         "divergence per example)")  # fmt: skip


def kl_div(input, target, reduction: str = "mean", log_target: bool = False):  # noqa: A002 - PyTorch's name
    """KL divergence ``KL(y ‖ p) = Σ y (ln y − ln p)`` with ``input = ln p`` (log-probabilities, e.g.
    ``log_softmax``) and ``target`` y — probabilities, or log-probabilities with ``log_target=True``,
    where the pointwise term is ``e^{t} (t − input)``.  The term ``y ln y`` is taken as 0 at
    ``y = 0`` (PyTorch's ``xlogy``).  ``reduction``: ``"batchmean"`` (sum / N, the KL divergence per
    example — the mathematically right one), ``"mean"`` (PyTorch's default: sum / number of
    elements), ``"sum"`` or ``"none"``.  Gradient ``−y`` with respect to ``input``.

    PyTorch gives NaN for a negative target probability; here that is an error.  At ``y = 0``
    PyTorch's gradient with respect to the target is NaN; here it is ``−input`` (``y ln y``
    contributes 0).
    """
    _check_kl_reduction(reduction)
    log_target = flag("kl_div", "log_target", log_target)
    input = as_tensor(input)  # noqa: A001
    t = _target_like(input, target, "kl_div")
    if log_target:
        loss = exp(t) * (t - input)
    else:
        if not bool(namespace_of(t.data).all(t.data >= 0)):  # NaN fails too
            host = np.asarray(to_device(t.data, "cpu"))
            bad = host[~(host >= 0)].reshape(-1)[0]
            raise ValueError(f"kl_div: target probabilities must be ≥ 0, got {bad}; for log-probabilities pass log_target=True")
        positive = t > 0
        loss = where(positive, t * log(where(positive, t, 1.0)), 0.0) - t * input
    if reduction == "batchmean":
        return loss.sum() / input.shape[0] if input.ndim else loss.sum()
    return reduce(loss, reduction)


# --- encodings and normalisation ---------------------------------------------------------------
def _one_hot(lab: np.ndarray, num_classes: int) -> np.ndarray:
    """The one-hot rows (int64) of integer labels, after the check that each lies in ``[0, num_classes)``."""
    if lab.size and lab.min() < 0:
        raise ValueError(f"one_hot: class values must be non-negative, got {lab.min()}")
    if lab.size and lab.max() >= num_classes:
        raise ValueError(f"one_hot: class values must be smaller than num_classes={num_classes}, got {lab.max()}")
    return (lab[..., None] == np.arange(num_classes)).astype(np.int64)


ONE_HOT = Primitive("one_hot", _one_hot, (None,), (None,), fmt="one_hot({0})")


def one_hot(labels, num_classes: int = -1) -> Tensor:
    """One-hot rows: ``out[..., k] = 1`` where ``labels == k`` — int64, a trailing axis of
    ``num_classes`` (``-1``: ``max(labels) + 1``), no gradient (as PyTorch's ``F.one_hot``).
    Labels in a host tensor go through one op, so a compiled function encodes each call's labels."""
    raw = _raw(labels)
    lab = to_device(raw, "cpu")
    dev = labels.device if isinstance(labels, Tensor) else None
    if lab.dtype.kind not in "iu":
        raise TypeError(f"one_hot: labels must be integers (class indices), got {lab.dtype}; cast them, e.g. "
                        "labels.astype('int64')")  # fmt: skip
    if num_classes == -1:
        if not lab.size:
            raise ValueError("one_hot: cannot infer the number of classes from empty labels; pass num_classes=")
        if lab.min() < 0:
            raise ValueError(f"one_hot: class values must be non-negative, got {lab.min()}")
        # from the values: inside ng.jit, item() refuses a traced tensor (the shape would depend on the values)
        num_classes = int(labels.max().item() if isinstance(labels, Tensor) else lab.max()) + 1
    elif not isinstance(num_classes, int | np.integer) or isinstance(num_classes, bool) or num_classes < 1:
        raise ValueError(f"one_hot: num_classes must be a positive integer or -1 (inferred), got {num_classes!r}")
    host = _host_tensor(labels, raw)
    if host is not None:
        return apply(ONE_HOT, host, num_classes=int(num_classes))
    out = _one_hot(lab, int(num_classes))
    return as_tensor(out, device=dev) if dev is not None else as_tensor(out)


def normalize(input, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:  # noqa: A002 - PyTorch's name
    """``x / max(‖x‖_p, ε)`` along ``dim`` (PyTorch's ``F.normalize``): unit p-norm slices; a slice
    whose norm is below ε is divided by ε instead (no division by zero; there the gradient is 1/ε,
    as PyTorch's, since the clamp passes no gradient to the norm)."""
    x = _float(input, "normalize")
    dim = check_dim("normalize", dim, x.ndim)  # an AxisError (an IndexError, as PyTorch's) out of range
    if x.ndim == 0:
        return x / maximum(abs(x), eps)
    norm = linalg.norm(x, ord=p, axis=dim, keepdims=True)
    return x / norm.clamp(min=eps)


# --- normalisation layers ----------------------------------------------------------------------------
def _standardize(x: Tensor, axes: tuple[int, ...]) -> tuple[Tensor, Tensor, Tensor]:
    """``(x − μ, μ, σ²)`` over ``axes`` (kept as axes of size 1): ``μ = mean(x)``, ``σ² = mean((x − μ)²)`` the
    biased variance.  Primitives only, so derivatives of every order and both modes come from the tape."""
    mu = x.mean(axis=axes, keepdims=True)
    d = x - mu
    return d, mu, (d * d).mean(axis=axes, keepdims=True)


def _affine(y: Tensor, weight, bias, shape: tuple[int, ...]) -> Tensor:
    """``y · γ + β``, with ``γ`` and ``β`` viewed as ``shape`` (None: that term left out)."""
    if weight is not None:
        y = y * as_tensor(weight).reshape(shape)
    if bias is not None:
        y = y + as_tensor(bias).reshape(shape)
    return y


def _per_slice(who: str, values: dict, shape: tuple[int, ...], what: str) -> None:
    """Each of ``values`` (name → tensor or None) has ``shape``, one value per ``what``."""
    for name, t in values.items():
        if t is None:
            continue
        try:
            got = tuple(np.shape(t))
        except ValueError:  # ragged nested lists have no shape
            raise ValueError(f"{who}: {name} must be a tensor of shape {shape} (one value per {what}), got ragged "
                             f"nested lists") from None  # fmt: skip
        if got != shape:
            raise ValueError(f"{who}: {name} has shape {got}, expected {shape} (one value per {what})")


def batch_norm_input(x, num_features: int | None, who: str, batch_stats: bool) -> Tensor:
    """``x`` as a floating tensor (N, C, …) with ``num_features`` channels on axis 1 (None: any), and more than one
    value per channel when its statistics are taken from the batch; refused otherwise, naming ``who``, the shape
    and the fix.  (The checks of :func:`batch_norm` and ``nn.BatchNorm1d``.)"""
    x = _float(x, who)
    if x.ndim < 2:
        raise ValueError(f"{who}: expected a batch (N, C) or (N, C, L) with the channels on axis 1, got shape {x.shape}; "
                         "one example has no batch statistics: stack several, or x.reshape(1, -1) in eval() mode")  # fmt: skip
    if num_features is not None and x.shape[1] != num_features:
        raise ValueError(f"{who}: the input of shape {x.shape} has {x.shape[1]} channels on axis 1, expected {num_features}; "
                         f"build the layer for {x.shape[1]} features, or put the channels on axis 1 (x.transpose(0, 2, 1) "
                         "turns (N, L, C) into (N, C, L))")  # fmt: skip
    if batch_stats and x.shape[0] * int(np.prod(x.shape[2:])) <= 1:
        raise ValueError(f"{who}: expected more than 1 value per channel when training, got an input of shape {x.shape}; "
                         "give a batch of at least 2 examples, or call model.eval() to use the running statistics")  # fmt: skip
    return x


def check_running_update(who: str, x: Tensor) -> None:
    """The running statistics are written in place, outside the tape, from the batch's plain values: once per
    call of the layer.  Refused (before anything is written) where a call is not one such evaluation: the
    functional :func:`batch_norm` inside ``ng.jit`` (a program repeats ops and known effects, never this write;
    ``nn.BatchNorm1d``'s update is such an effect and runs there), for an input batched by ``ng.vmap`` (one update
    per example), and under forward mode (``jvp``; ``jacfwd`` and ``hessian`` call the function once per input
    coordinate).  ``grad``, ``value_and_grad``, ``vjp`` and ``jacrev`` call it once: one update."""
    if state.jit_trace is not None:
        raise JitError(f"{who}: cannot update running statistics given to the functional batch_norm inside ng.jit: a "
                       "compiled program repeats nablagrad's ops and known effects, not this in-place write. Use "
                       "nn.BatchNorm1d (its update is an effect ng.jit repeats), call batch_norm without ng.jit, or "
                       "pass running_mean=running_var=None (batch statistics only)")  # fmt: skip
    if batched(x):
        raise RuntimeError(f"{who}: the input is batched by ng.vmap but the running statistics, updated in place, are "
                           "not: they cannot take one update per example. Build the layer with track_running_stats="
                           "False, call model.eval() to use the running statistics, or pass the batch without vmap")  # fmt: skip
    if any(level not in state.vmaps for level in state.levels):
        raise RuntimeError(f"{who}: cannot update the running statistics under forward-mode differentiation: ng.jvp "
                           "pushes tangents through the layer, and ng.jacfwd and ng.hessian call the function once per "
                           "input coordinate, which would update them as many times. Differentiate in reverse mode "
                           "(ng.grad, ng.vjp, ng.jacrev; ng.jacrev(ng.jacrev(f)) for a Hessian), which calls the layer "
                           "once, or call model.eval(), or build the layer with track_running_stats=False")  # fmt: skip


def batch_norm(
    input, running_mean: Tensor | None, running_var: Tensor | None, weight=None, bias=None,  # noqa: A002 - PyTorch's name
    training: bool = False, momentum: float = 0.1, eps: float = 1e-5,
) -> Tensor:  # fmt: skip
    """Batch normalisation of ``input`` (N, C, …) per channel (axis 1), PyTorch's ``F.batch_norm``::

        y = (x − μ) / √(σ² + ε) · γ + β

    ``μ``, ``σ²`` are each channel's mean and biased variance over the other axes (n = N·L values) when
    ``training`` or when no running statistics are given, else ``running_mean``, ``running_var``.  Training with
    running statistics also updates them in place, outside the tape (:func:`check_running_update`)::

        r_μ ← (1 − m) r_μ + m μ,    r_σ² ← (1 − m) r_σ² + m σ² n/(n − 1)    (m = ``momentum``; unbiased σ²)

    ``weight`` γ and ``bias`` β (shape (C,)) may be None."""
    training = flag("batch_norm", "training", training)
    momentum, eps = number("batch_norm", "momentum", momentum), number("batch_norm", "eps", eps)
    if (running_mean is None) != (running_var is None):
        raise ValueError("batch_norm: give both running_mean and running_var, or neither (batch statistics only)")
    if not training and running_mean is None:
        raise ValueError("batch_norm: running_mean and running_var must be given in evaluation mode (training=False); "
                         "pass them, or training=True to normalise with the batch's statistics")  # fmt: skip
    x = batch_norm_input(input, None, "batch_norm", batch_stats=training)
    c = x.shape[1]
    _per_slice("batch_norm", {"running_mean": running_mean, "running_var": running_var, "weight": weight, "bias": bias},
               (c,), "channel")  # fmt: skip
    update = training and running_mean is not None
    if update:
        if not (isinstance(running_mean, Tensor) and isinstance(running_var, Tensor)):
            raise TypeError("batch_norm: running_mean and running_var must be tensors when training: they are updated "
                            "in place; wrap them once with ng.tensor(...) and keep the tensors")  # fmt: skip
        check_running_update("batch_norm", x)
    y, mu, var = batch_norm_with_statistics(x, running_mean, running_var, weight, bias, training, eps)
    if update:
        update_running_stats(running_mean, running_var, mu, var, x, momentum)
    return y


def batch_norm_with_statistics(x: Tensor, running_mean, running_var, weight, bias, training: bool,
                               eps: float) -> tuple[Tensor, Tensor | None, Tensor | None]:  # fmt: skip
    """``(y, μ, σ²)``: :func:`batch_norm`'s ``y`` of a checked input ``x`` (no update), with the batch's statistics
    it used when ``training`` (kept axes; None otherwise), so a running update needs no second pass over ``x``."""
    shape = (x.shape[1],) + (1,) * (x.ndim - 2)  # a per-channel value broadcast along axis 1
    mu = var = None
    if training:
        d, mu, var = _standardize(x, (0, *range(2, x.ndim)))
        y = d * rsqrt(var + eps)
    else:
        y = (x - as_tensor(running_mean).reshape(shape)) * rsqrt(as_tensor(running_var).reshape(shape) + eps)
    return _affine(y, weight, bias, shape), mu, var


def batch_statistics(x: Tensor) -> tuple[Tensor, Tensor]:
    """The batch's per-channel mean and biased variance (kept axes), as :func:`batch_norm` computes them."""
    _, mu, var = _standardize(x, (0, *range(2, x.ndim)))
    return mu, var


def update_running_stats(running_mean: Tensor, running_var: Tensor, mu: Tensor, var: Tensor, x: Tensor,
                         momentum: float) -> None:  # fmt: skip
    """``r_μ ← (1 − m) r_μ + m μ``, ``r_σ² ← (1 − m) r_σ² + m σ² n/(n − 1)`` in place, from the batch ``x``'s
    statistics ``μ``, ``σ²`` (biased; n = N·L values per channel).  Plain values (a transform's levels dropped
    by detach), written after every check passed."""
    c, n = x.shape[1], x.shape[0] * int(np.prod(x.shape[2:]))
    with no_grad():
        new = [(1.0 - momentum) * r + momentum * b.detach().reshape((c,)) for r, b in
               ((running_mean, mu), (running_var, var * (n / (n - 1))))]  # fmt: skip
        for r, v in zip((running_mean, running_var), new):
            r.copy_(v.astype(r.dtype))


def normalized_shape_of(normalized_shape, who: str) -> tuple[int, ...]:
    """PyTorch's ``normalized_shape`` (an int or a sequence of positive ints) as a tuple."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int | np.integer) else normalized_shape
    try:
        shape = tuple(shape)
    except TypeError:
        shape = None
    if not shape or not all(isinstance(d, int | np.integer) and not isinstance(d, bool) and d > 0 for d in shape):
        raise TypeError(f"{who}: normalized_shape must be a positive int or a non-empty sequence of them (the trailing "
                        f"axes to normalise, e.g. 4 or (3, 4)), got {normalized_shape!r}")  # fmt: skip
    return tuple(int(d) for d in shape)


def layer_norm_input(x, normalized_shape: tuple[int, ...], who: str) -> Tensor:
    """``x`` as a floating tensor whose trailing axes are ``normalized_shape``; refused otherwise, naming ``who``,
    the shapes and the fix.  (The checks of :func:`layer_norm` and ``nn.LayerNorm``.)"""
    x = _float(x, who)
    k = len(normalized_shape)
    if tuple(x.shape[max(x.ndim - k, 0) :]) != normalized_shape or x.ndim < k:
        trailing = ", ".join(map(str, normalized_shape))
        raise ValueError(f"{who}: normalized_shape={normalized_shape} expects an input of shape (*, {trailing}), got shape "
                         f"{x.shape}; normalise its last axes with normalized_shape={tuple(x.shape[-k:])}, or move the axes "
                         f"to normalise to the end")  # fmt: skip
    return x


def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5) -> Tensor:  # noqa: A002
    """Layer normalisation over the trailing axes ``normalized_shape`` of each example, PyTorch's ``F.layer_norm``::

        y = (x − μ) / √(σ² + ε) · γ + β

    ``μ``, ``σ²`` the mean and biased variance of each slice over those axes (no running statistics: training and
    evaluation compute the same); ``weight`` γ and ``bias`` β have shape ``normalized_shape`` (or are None)."""
    shape = normalized_shape_of(normalized_shape, "layer_norm")
    x = layer_norm_input(input, shape, "layer_norm")
    _per_slice("layer_norm", {"weight": weight, "bias": bias}, shape, "normalised element")
    d, _, var = _standardize(x, tuple(range(-len(shape), 0)))
    return _affine(d * rsqrt(var + eps), weight, bias, shape)
