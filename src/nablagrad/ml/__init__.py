"""Classical learning with the scikit-learn estimator API (lectures 001, 004)."""

from . import metrics, model_selection
from ._params import InvalidParameterError
from .base import BaseEstimator, ConvergenceWarning, DataConversionWarning, NotFittedError
from .classifiers import LinearSVC, LogisticRegression, Perceptron, SoftmaxRegression, choose_threshold
from .cluster import KMeans
from .decomposition import PCA
from .estimators import EstimatorStats, consistency_curve, gaussian_log_likelihood, simulate_estimator
from .kernel import KernelSVC, kernel_matrix
from .linear import IllConditionedWarning, Lasso, LinearRegression, Ridge
from .model_selection import (
    FitFailedWarning,
    GridSearchCV,
    GroupKFold,
    KFold,
    LeaveOneOut,
    ParameterGrid,
    ParameterSampler,
    RandomizedSearchCV,
    ShuffleSplit,
    StratifiedKFold,
    StratifiedShuffleSplit,
    bias_variance_decomposition,
    compare,
    confidence_interval,
    cross_val_score,
    cross_validate,
    train_test_split,
)
from .multiclass import OneVsOne, OneVsRest, clone, one_vs_all_targets
from .neural import MLPClassifier, MLPRegressor
from .ranking import LinearRanker, dcg_score, ndcg_score, pairwise_ranking_loss

ESTIMATORS = [LinearRegression, Ridge, Lasso, Perceptron, LinearSVC, KernelSVC, LogisticRegression, SoftmaxRegression,
              OneVsRest, OneVsOne, PCA, MLPClassifier, MLPRegressor]  # fmt: skip
