"""Optimisers, learning-rate schedules, exact line search and Levenberg–Marquardt (lecture 000)."""

from .first_order import SGD, AdaGrad, Adagrad, Adam, AdamW, Momentum, RMSProp, RMSprop
from .levenberg_marquardt import LevenbergMarquardt
from .line_search import SteepestDescent, golden_section
from .optimizer import Optimizer
from .random_steps import RandomStepResult, descend_with_random_steps
from .schedules import (
    SCHEDULES,
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
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
    make_scheduler,
)

OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adagrad": AdaGrad, "rmsprop": RMSProp, "adam": Adam, "adamw": AdamW}
