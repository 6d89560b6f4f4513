"""Loss modules: callables ``loss(prediction, target)`` with ``reduction`` mean/sum/none."""

from __future__ import annotations

import numpy as np

from ..autodiff import Tensor, as_tensor
from ..backend.checks import is_real
from . import extra_losses as XL
from . import functional as Fn
from .extra_losses import legacy_reduction
from .module import Module


class _Loss(Module):
    """A loss module: ``fn(pred, target, reduction=…, **options)``.  ``defaults`` names a
    subclass's keyword options (PyTorch's ``weight``, ``delta`` …) with their defaults; only those
    set away from their default are passed on, so a module with none calls exactly
    ``fn(pred, target, reduction=…)`` (the fused fast paths)."""

    fn = staticmethod(Fn.mse_loss)
    defaults: dict = {}  # a subclass's keyword options and their defaults
    buffers_of: tuple = ()  # the options PyTorch registers as buffers (``weight``): in state_dict, moved by ``to``
    # whether the target pairs with the prediction element by element (same shape, refused otherwise)
    same_shape_target = True

    def __init__(self, reduction: str = "mean", **options):
        super().__init__()
        if not isinstance(reduction, str):
            raise TypeError(
                f"{type(self).__name__}: the first positional argument is reduction (a string), got "
                f"{type(reduction).__name__}; pass the other options by name, e.g. {type(self).__name__}(weight=w)"
            )
        self._check(reduction)
        unknown = sorted(set(options) - set(self.defaults))
        if unknown:
            raise TypeError(f"{type(self).__name__}: unknown option(s) {unknown}; it takes reduction"
                            + "".join(f", {k}" for k in self.defaults))  # fmt: skip
        self.reduction = reduction
        object.__setattr__(self, "_options", {})
        for name, default in self.defaults.items():
            value = options.get(name, default)
            if name in self.buffers_of:
                self.register_buffer(name, None if value is None else _tensor_option(type(self).__name__, name, value))
            else:
                setattr(self, name, value)
        self._refresh_options()

    def _refresh_options(self) -> None:
        """The options passed on to ``fn``: those away from their default."""
        opts = {k: v for k, d in self.defaults.items() if _differs(v := getattr(self, k, d), d)}
        object.__setattr__(self, "_options", opts)

    def __setattr__(self, name: str, value) -> None:
        super().__setattr__(name, value)
        if name in self.defaults and "_options" in self.__dict__:
            self._refresh_options()

    def _check(self, reduction: str) -> None:
        Fn._check_reduction(reduction, type(self).__name__)

    def forward(self, pred, target):
        if self._options:
            return type(self).fn(pred, target, reduction=self.reduction, **self._options)
        return type(self).fn(pred, target, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}" + "".join(f", {k}={v!r}" for k, v in self._options.items())


def _tensor_option(who: str, name: str, value) -> Tensor:
    """A tensor option (``weight``) as the buffer it is kept in: a Tensor as given (detached: a buffer
    takes no gradient), anything else as an array of numbers."""
    if isinstance(value, Tensor):
        return value.detach() if value.requires_grad else value
    try:
        return as_tensor(np.asarray(value) if not hasattr(value, "__array_namespace__") else value)
    except (TypeError, ValueError):
        raise TypeError(f"{who}: {name} must be a tensor of numbers, got {type(value).__name__}") from None


def _differs(value, default) -> bool:
    """Whether an option is away from its (scalar or None) default; an array always is."""
    if value is default:
        return False
    if value is None or default is None or hasattr(value, "shape"):
        return True
    return bool(value != default)


class MSELoss(_Loss):
    """Mean squared error (o − y)²."""


class SquaredErrorLoss(_Loss):
    """The lectures' ½‖o − y‖² per example; gradient o − y."""

    fn = staticmethod(Fn.squared_error_loss)


class L1Loss(_Loss):
    """Mean absolute error |o − y|."""

    fn = staticmethod(Fn.l1_loss)


MAELoss = L1Loss


class MAPELoss(_Loss):
    """Mean absolute percentage error |o − y| / |y| (as a fraction)."""

    fn = staticmethod(Fn.mape_loss)


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy from logits; targets are labels or probabilities.  PyTorch's options
    by name: ``weight`` (C,), ``ignore_index=-100``, ``label_smoothing=0.0`` (see
    :func:`~nablagrad.nn.functional.cross_entropy`)."""

    fn = staticmethod(Fn.cross_entropy)
    same_shape_target = False  # class labels (N,) for predictions (N, C)
    defaults = {"weight": None, "ignore_index": -100, "label_smoothing": 0.0}
    buffers_of = ("weight",)


class CrossEntropyProbsLoss(_Loss):
    """Cross-entropy ``−Σ y_j ln o_j`` of probabilities (a softmax output); gradient ``−y_j/o_j``, clamped."""

    fn = staticmethod(Fn.cross_entropy_probs)
    same_shape_target = False  # class labels (N,) for predictions (N, C)


class NLLLoss(_Loss):
    """Negative log-likelihood of labels given log-probabilities."""

    fn = staticmethod(Fn.nll_loss)
    defaults = {"weight": None, "ignore_index": -100}
    buffers_of = ("weight",)
    same_shape_target = False  # class labels (N,) for predictions (N, C)


class BCELoss(_Loss):
    """Binary cross-entropy on probabilities (logs clamped at −100); PyTorch's ``weight`` by name."""

    fn = staticmethod(Fn.binary_cross_entropy)
    defaults = {"weight": None}
    buffers_of = ("weight",)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy from logits, stable for any |logit|; PyTorch's ``weight`` and
    ``pos_weight`` by name (see :func:`~nablagrad.nn.functional.binary_cross_entropy_with_logits`)."""

    fn = staticmethod(Fn.binary_cross_entropy_with_logits)
    defaults = {"weight": None, "pos_weight": None}
    buffers_of = ("weight", "pos_weight")


class HuberLoss(_Loss):
    """Huber: ``½ d²`` for ``|d| < δ``, ``δ(|d| − ½δ)`` beyond (``d = o − y``, ``delta=1.0``)."""

    fn = staticmethod(Fn.huber_loss)
    defaults = {"delta": 1.0}

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        if not is_real(delta):
            raise TypeError(f"HuberLoss: delta must be a number, got {delta!r} ({type(delta).__name__})")
        if not delta > 0:
            raise ValueError(f"HuberLoss: delta must be positive, got {delta!r} (PyTorch's default is delta=1.0)")
        super().__init__(reduction, delta=delta)


class SmoothL1Loss(_Loss):
    """Smooth L1: ``½ d²/β`` for ``|d| < β``, ``|d| − ½β`` beyond (``beta=1.0``; ``β = 0`` is L1)."""

    fn = staticmethod(Fn.smooth_l1_loss)
    defaults = {"beta": 1.0}

    def __init__(self, reduction: str = "mean", beta: float = 1.0):
        if not is_real(beta):
            raise TypeError(f"SmoothL1Loss: beta must be a number, got {beta!r} ({type(beta).__name__})")
        if not beta >= 0:
            raise ValueError(f"SmoothL1Loss: beta must be non-negative, got {beta!r} (PyTorch's default is beta=1.0)")
        super().__init__(reduction, beta=beta)


class KLDivLoss(_Loss):
    """KL divergence ``Σ y (ln y − input)`` of targets y from log-probabilities ``input``;
    ``reduction`` also takes ``"batchmean"`` (the KL divergence per example), ``log_target=False``."""

    fn = staticmethod(Fn.kl_div)
    defaults = {"log_target": False}

    def __init__(self, reduction: str = "mean", log_target: bool = False):
        super().__init__(reduction, log_target=log_target)

    def _check(self, reduction: str) -> None:
        Fn._check_kl_reduction(reduction, "KLDivLoss")


class HingeLoss(_Loss):
    """max(0, 1 − y·s) with labels ±1."""

    fn = staticmethod(Fn.hinge_loss)


class PerceptronLoss(_Loss):
    """max(0, −y·s) with labels ±1."""

    fn = staticmethod(Fn.perceptron_loss)


class _TorchOrderLoss(_Loss):
    """A loss whose constructor takes PyTorch's arguments in PyTorch's order, the legacy ``size_average`` /
    ``reduce`` pair included (see :func:`~nablagrad.nn.extra_losses.legacy_reduction`), and whose ``forward``
    passes all its inputs (two or three tensors) to ``fn``."""

    def __init__(self, *, size_average=None, reduce=None, reduction: str = "mean", **options):  # noqa: A002
        if not isinstance(reduction, str):
            raise TypeError(f"{type(self).__name__}: reduction must be a string ('mean', 'sum' or 'none'), got {reduction!r}")
        super().__init__(legacy_reduction(size_average, reduce, reduction, type(self).__name__), **options)

    def forward(self, *inputs):
        return type(self).fn(*inputs, reduction=self.reduction, **self._options)


class SoftMarginLoss(_TorchOrderLoss):
    """``log(1 + e^{−y·x})`` with labels ±1 (PyTorch's ``SoftMarginLoss``)."""

    fn = staticmethod(XL.soft_margin_loss)

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average=size_average, reduce=reduce, reduction=reduction)


class MarginRankingLoss(_TorchOrderLoss):
    """``max(0, −y·(x1 − x2) + margin)``; ``forward(input1, input2, target)``."""

    fn = staticmethod(XL.margin_ranking_loss)
    defaults = {"margin": 0.0}

    def __init__(self, margin: float = 0.0, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average=size_average, reduce=reduce, reduction=reduction, margin=margin)


class PoissonNLLLoss(_TorchOrderLoss):
    """Poisson negative log-likelihood: ``e^x − y·x`` (``log_input=True``) or ``x − y·log(x + eps)``; ``full`` adds
    Stirling's term."""

    fn = staticmethod(XL.poisson_nll_loss)
    defaults = {"log_input": True, "full": False, "eps": 1e-8}

    def __init__(self, log_input: bool = True, full: bool = False, size_average=None, eps: float = 1e-8,
                 reduce=None, reduction: str = "mean"):  # fmt: skip
        super().__init__(size_average=size_average, reduce=reduce, reduction=reduction, log_input=log_input, full=full,
                         eps=eps)  # fmt: skip


class GaussianNLLLoss(_TorchOrderLoss):
    """Gaussian negative log-likelihood ``½(log var + (x − y)²/var)``; ``forward(input, target, var)``, options by
    name as PyTorch's: ``full=False``, ``eps=1e-6``, ``reduction``."""

    fn = staticmethod(XL.gaussian_nll_loss)
    defaults = {"full": False, "eps": 1e-6}

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean"):
        super().__init__(reduction=reduction, full=full, eps=eps)


class CosineEmbeddingLoss(_TorchOrderLoss):
    """``1 − cos(x1, x2)`` for ``y = 1``, ``max(0, cos(x1, x2) − margin)`` for ``y = −1``; ``forward(x1, x2, y)``."""

    fn = staticmethod(XL.cosine_embedding_loss)
    defaults = {"margin": 0.0}

    def __init__(self, margin: float = 0.0, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average=size_average, reduce=reduce, reduction=reduction, margin=margin)


class MultiMarginLoss(_TorchOrderLoss):
    """Multi-class hinge ``Σ_{i≠y} w_y max(0, margin − x_y + x_i)^p / C`` (``p`` 1 or 2; ``weight`` a buffer)."""

    fn = staticmethod(XL.multi_margin_loss)
    defaults = {"p": 1, "margin": 1.0, "weight": None}
    buffers_of = ("weight",)
    same_shape_target = False  # class labels (N,) for scores (N, C)

    def __init__(self, p: int = 1, margin: float = 1.0, weight=None, size_average=None, reduce=None,
                 reduction: str = "mean"):  # fmt: skip
        if p not in (1, 2) or isinstance(p, bool):
            raise ValueError(f"MultiMarginLoss: only p == 1 and p == 2 supported, got p={p!r}")
        if weight is not None and len(getattr(weight, "shape", np.shape(weight))) != 1:
            raise ValueError("MultiMarginLoss: weight must be one-dimensional (one entry per class)")
        super().__init__(size_average=size_average, reduce=reduce, reduction=reduction, p=p, margin=margin,
                         weight=weight)  # fmt: skip


class TripletMarginLoss(_TorchOrderLoss):
    """``max(0, margin + d(a, p) − d(a, n))`` with the pairwise ``p``-distance; ``forward(anchor, positive,
    negative)``; ``swap`` takes the nearer of the negative's distances to the anchor and to the positive."""

    fn = staticmethod(XL.triplet_margin_loss)
    defaults = {"margin": 1.0, "p": 2.0, "eps": 1e-6, "swap": False}

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6, swap: bool = False, size_average=None,
                 reduce=None, reduction: str = "mean"):  # fmt: skip
        if not is_real(margin) or not margin > 0:
            raise ValueError(f"TripletMarginLoss: margin must be greater than 0, got {margin!r}")
        super().__init__(size_average=size_average, reduce=reduce, reduction=reduction, margin=margin, p=p, eps=eps,
                         swap=swap)  # fmt: skip


LOSSES = {
    "mse": MSELoss,
    "squared_error": SquaredErrorLoss,
    "mae": L1Loss,
    "l1": L1Loss,
    "mape": MAPELoss,
    "cross_entropy": CrossEntropyLoss,
    "cross_entropy_probs": CrossEntropyProbsLoss,
    "nll": NLLLoss,
    "bce": BCELoss,
    "bce_with_logits": BCEWithLogitsLoss,
    "huber": HuberLoss,
    "smooth_l1": SmoothL1Loss,
    "kl_div": KLDivLoss,
    "hinge": HingeLoss,
    "perceptron": PerceptronLoss,
}
