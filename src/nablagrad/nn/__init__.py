"""Neural networks: modules and containers, layers (Linear, Embedding, KAN, …), activations, normalisation, losses,
initialisation, penalties."""

from . import functional, init
from .containers import ParameterDict, ParameterList
from .embedding import Embedding
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
    CosineEmbeddingLoss,
    CrossEntropyLoss,
    CrossEntropyProbsLoss,
    GaussianNLLLoss,
    HingeLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MAELoss,
    MAPELoss,
    MarginRankingLoss,
    MSELoss,
    MultiMarginLoss,
    NLLLoss,
    PerceptronLoss,
    PoissonNLLLoss,
    SmoothL1Loss,
    SoftMarginLoss,
    SquaredErrorLoss,
    TripletMarginLoss,
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
