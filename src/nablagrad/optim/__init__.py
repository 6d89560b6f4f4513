"""Optimisers, learning-rate schedules, exact line search, L-BFGS and Levenberg–Marquardt (lecture 000)."""

from . import lr_scheduler
from .adaptive import ASGD, Adadelta, Adamax, NAdam, RAdam, Rprop
from .first_order import SGD, AdaGrad, Adagrad, Adam, AdamW, Momentum, RMSProp, RMSprop
from .lbfgs import LBFGS
from .levenberg_marquardt import LevenbergMarquardt
from .line_search import SteepestDescent, golden_section
from .lr_scheduler import *  # noqa: F403 - every schedule class, listed once there (PyTorch's names)
from .optimizer import Optimizer
from .random_steps import RandomStepResult, descend_with_random_steps
from .schedules import SCHEDULES, make_scheduler

# The optimisers a name can build with ``(params, lr=..., weight_decay=...)`` and no closure (the CLI's --optimizer,
# viz.optimizer_paths): LBFGS (a closure per step) and Rprop (no weight_decay, full-batch only) are not listed.
OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adagrad": AdaGrad, "rmsprop": RMSProp, "adam": Adam, "adamw": AdamW,
              "adamax": Adamax, "nadam": NAdam, "radam": RAdam, "adadelta": Adadelta, "asgd": ASGD}  # fmt: skip
