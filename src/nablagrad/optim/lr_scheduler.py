"""``torch.optim.lr_scheduler``'s names, so ``ng.optim.lr_scheduler.StepLR(opt, 3)`` reads as PyTorch's.

Every class here is the one defined in :mod:`.schedules` or :mod:`.cyclic` (re-exported, never copied):
``ng.optim.lr_scheduler.StepLR is ng.optim.StepLR``.  ``InverseTimeLR`` (the lectures' ``μ_0 / (1 + γt)``)
is nablagrad's own, listed too.
"""

from .cyclic import CyclicLR
from .schedules import (
    ChainedScheduler,
    ConstantLR,
    CosineAnnealingLR,
    CosineAnnealingWarmRestarts,
    ExponentialLR,
    InverseTimeLR,
    LambdaLR,
    LinearLR,
    LRScheduler,
    MultiplicativeLR,
    MultiStepLR,
    OneCycleLR,
    PolynomialLR,
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
)

_LRScheduler = LRScheduler  # PyTorch's older name of the base class, still exported by torch

__all__ = [
    "LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR",
    "SequentialLR", "PolynomialLR", "CosineAnnealingLR", "ChainedScheduler", "ReduceLROnPlateau", "CyclicLR",
    "CosineAnnealingWarmRestarts", "OneCycleLR", "InverseTimeLR",
]  # fmt: skip
