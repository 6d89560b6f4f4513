"""Loss modules: callables ``loss(prediction, target)`` with ``reduction`` mean/sum/none."""

from __future__ import annotations

from . import functional as Fn
from .module import Module


class _Loss(Module):
    fn = staticmethod(Fn.mse_loss)

    def __init__(self, reduction: str = "mean"):
        super().__init__()
        Fn._check_reduction(reduction, type(self).__name__)
        self.reduction = reduction

    def forward(self, pred, target):
        return type(self).fn(pred, target, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


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
    """Softmax cross-entropy from logits; targets are labels or probabilities."""

    fn = staticmethod(Fn.cross_entropy)


class CrossEntropyProbsLoss(_Loss):
    """Cross-entropy ``−Σ y_j ln o_j`` of probabilities (a softmax output); gradient ``−y_j/o_j``, clamped."""

    fn = staticmethod(Fn.cross_entropy_probs)


class NLLLoss(_Loss):
    """Negative log-likelihood of labels given log-probabilities."""

    fn = staticmethod(Fn.nll_loss)


class BCELoss(_Loss):
    """Binary cross-entropy on probabilities (logs clamped at −100)."""

    fn = staticmethod(Fn.binary_cross_entropy)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy from logits, stable for any |logit|."""

    fn = staticmethod(Fn.binary_cross_entropy_with_logits)


class HingeLoss(_Loss):
    """max(0, 1 − y·s) with labels ±1."""

    fn = staticmethod(Fn.hinge_loss)


class PerceptronLoss(_Loss):
    """max(0, −y·s) with labels ±1."""

    fn = staticmethod(Fn.perceptron_loss)


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
    "hinge": HingeLoss,
    "perceptron": PerceptronLoss,
}
