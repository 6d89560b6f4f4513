"""The training loop: ``fit``, ``evaluate``, ``predict``, stopping rules, callbacks, history."""

from .callbacks import Callback, EarlyStopping, LambdaCallback, LRSchedulerCallback, ModelCheckpoint
from .fit import Trainer, TrainingDivergedError, evaluate, fit, predict
from .history import History, RunningRisk
from .metrics import TRAINING_METRICS, accuracy, mae, mse
