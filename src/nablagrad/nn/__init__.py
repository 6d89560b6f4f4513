"""Neural networks: modules, layers, activations, normalisation, losses, initialisation, penalties."""

from . import functional, init
from .kan import KAN, KANLinear
from .layers import (
    ACTIVATIONS,
    ELU,
    GELU,
    HIDDEN_ACTIVATIONS,
    MLP,
    Abs,
    Dropout,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    LogSoftmax,
    PReLU,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Step,
    Tanh,
    Unflatten,
    activation,
)
from .losses import (
    LOSSES,
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    CrossEntropyProbsLoss,
    HingeLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MAELoss,
    MAPELoss,
    MSELoss,
    NLLLoss,
    PerceptronLoss,
    SmoothL1Loss,
    SquaredErrorLoss,
)
from .module import (
    Module,
    ModuleDict,
    ModuleList,
    Parameter,
    Sequential,
    StateDictError,
    StateDictKeyError,
    StateDictShapeError,
    StateDictValueError,
)
from .normalization import BatchNorm1d, LayerNorm
from .regularizers import l1_penalty, l2_penalty, penalised_parameters
from .utils import clip_grad_norm_, clip_grad_value_, grad_norm
