"""The training loop: ``fit``, ``evaluate``, ``predict``, the ``Trainer``, stopping rules, callbacks, history."""

from .callbacks import Callback, EarlyStopping, LambdaCallback, LRSchedulerCallback, ModelCheckpoint
from .evaluation import evaluate, predict
from .fit import fit
from .history import History, RunningRisk
from .metrics import TRAINING_METRICS, accuracy, mae, mse
from .trainer import Trainer, TrainingDivergedError
