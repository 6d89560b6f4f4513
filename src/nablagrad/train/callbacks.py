"""Callbacks: hooks into ``fit`` — early stopping, checkpoints, learning-rate schedules, your own."""

from __future__ import annotations

import math
import os
from collections.abc import Callable

import numpy as np

from ..backend.checks import flag, is_int, is_real
from ..optim import Optimizer, ReduceLROnPlateau


class Callback:
    """Override any hook; ``trainer.stop_training = True`` ends training after the epoch."""

    def on_train_begin(self, trainer) -> None: ...

    def on_epoch_begin(self, trainer, epoch: int) -> None: ...

    def on_batch_end(self, trainer, step: int, logs: dict) -> None: ...

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None: ...

    def on_train_end(self, trainer) -> None: ...


class LambdaCallback(Callback):
    """A callback from plain functions, e.g. ``LambdaCallback(on_epoch_end=lambda t, e, logs: ...)``."""

    def __init__(self, on_epoch_end: Callable | None = None, on_batch_end: Callable | None = None):
        self._epoch, self._batch = on_epoch_end, on_batch_end

    def on_epoch_end(self, trainer, epoch, logs):
        if self._epoch:
            self._epoch(trainer, epoch, logs)

    def on_batch_end(self, trainer, step, logs):
        if self._batch:
            self._batch(trainer, step, logs)


def _better(mode: str, value: float, best: float, min_delta: float) -> bool:
    return value < best - min_delta if mode == "min" else value > best + min_delta


def _monitor(who: str, monitor) -> str:
    if not isinstance(monitor, str) or not monitor:
        raise TypeError(f"{who}: monitor must be the name of a logged value such as 'val_loss', got {monitor!r}")
    return monitor


def _mode(who: str, monitor, mode) -> str:
    """``"min"`` or ``"max"`` for ``monitor``; ``None`` or ``"auto"`` (Keras's default) infer it from the name —
    ``"max"`` for an accuracy, else ``"min"``.  Any other mode is refused (read as "max", ``mode="minimum"`` would
    stop a run whose loss falls)."""
    _monitor(who, monitor)
    if mode in (None, "auto"):
        return "max" if "acc" in monitor else "min"
    if mode not in ("min", "max"):
        raise ValueError(f"{who}: mode must be 'min', 'max' or 'auto', got {mode!r}")
    return mode


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    With ``restore_best_weights`` the model ends training with the weights of its best epoch,
    whether this rule stopped the run or it ran to ``epochs`` (or another rule stopped it)."""

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0, mode: str | None = None,
                 restore_best_weights: bool = True):  # fmt: skip
        who = "EarlyStopping"
        self.mode = _mode(who, monitor, mode)
        if not is_int(patience) or patience < 0:
            raise (ValueError if is_int(patience) else TypeError)(
                f"{who}: patience must be an integer >= 0 (epochs without improvement), got {patience!r}"
            )
        if not is_real(min_delta) or not min_delta >= 0:  # (NaN refused too)
            raise (ValueError if is_real(min_delta) else TypeError)(
                f"{who}: min_delta must be a number >= 0 (the least change that counts as an improvement), got {min_delta!r}"
            )
        self.monitor, self.patience, self.min_delta = monitor, int(patience), float(min_delta)
        self.restore = flag(who, "restore_best_weights", restore_best_weights)
        self.on_train_begin(None)

    def on_train_begin(self, trainer):
        """A fresh start for every run: one EarlyStopping given to a second ``fit`` must not stop it at once, nor
        load the first model's best weights into the second (Keras resets them here too)."""
        self.best = math.inf if self.mode == "min" else -math.inf
        self.wait, self.best_state, self.stopped_epoch = 0, None, None

    def on_epoch_end(self, trainer, epoch, logs):
        if self.monitor not in logs:
            raise KeyError(f"EarlyStopping: '{self.monitor}' is not logged; available: {sorted(logs)}")
        value = logs[self.monitor]
        if _better(self.mode, value, self.best, self.min_delta):
            self.best, self.wait = value, 0
            if self.restore:
                self.best_state = trainer.model.state_dict()
        else:
            self.wait += 1
            if self.wait >= self.patience:
                trainer.stop_training = True
                trainer.history.stop_reason = f"early stopping: {self.monitor} did not improve for {self.patience} epochs"
                self.stopped_epoch = epoch

    def on_train_end(self, trainer):
        # whenever the best weights are known, not only when this rule stopped the run (keras-team/keras#12511)
        if self.restore and self.best_state is not None:
            trainer.model.load_state_dict(self.best_state)

    def state_dict(self) -> dict:
        """What a checkpoint keeps (the best weights as arrays), so a resumed run stops and restores as the
        uninterrupted one would."""
        return {"best": self.best, "wait": self.wait, "stopped_epoch": self.stopped_epoch,
                "best_state": None if self.best_state is None else dict(self.best_state)}  # fmt: skip

    def load_state_dict(self, state: dict) -> None:
        """Every entry read before any is set: a state with one missing changes nothing."""
        if not isinstance(state, dict) or not {"best", "wait", "stopped_epoch", "best_state"} <= state.keys():
            got = sorted(state) if isinstance(state, dict) else type(state).__name__
            raise KeyError(f"EarlyStopping.load_state_dict: expected the dict of state_dict() with 'best', 'wait', "
                           f"'stopped_epoch' and 'best_state', got {got}")  # fmt: skip
        best, wait, stopped, best_state = state["best"], state["wait"], state["stopped_epoch"], state["best_state"]
        self.best, self.wait, self.stopped_epoch, self.best_state = best, wait, stopped, best_state


class ModelCheckpoint(Callback):
    """Save the model (atomically) after each epoch, or only when ``monitor`` improves."""

    def __init__(self, path: str | os.PathLike, monitor: str = "val_loss", save_best_only: bool = True, mode: str | None = None):
        who = "ModelCheckpoint"
        if not isinstance(path, str | os.PathLike):
            raise TypeError(f"{who}: path must be a file path such as 'best.safetensors' (it may hold {{epoch}} and "
                            f"logged names, e.g. 'model_{{epoch:02d}}.safetensors'), got {path!r}")  # fmt: skip
        self.mode = _mode(who, monitor, mode)
        self.path, self.monitor = path, monitor
        self.save_best_only = flag(who, "save_best_only", save_best_only)
        self.best = math.inf if self.mode == "min" else -math.inf

    def on_epoch_end(self, trainer, epoch, logs):
        from ..io import save  # noqa: PLC0415

        if not trainer.world.is_root:  # data parallel: rank 0 writes
            return
        value = logs.get(self.monitor, np.nan)
        if not self.save_best_only or _better(self.mode, value, self.best, 0.0):
            self.best = value
            save(trainer.model, str(self.path).format(epoch=epoch, **logs), metadata={"epoch": epoch, **logs})

    def state_dict(self) -> dict:
        """What a checkpoint keeps (the best value so far), so a resumed run overwrites the saved model only
        where the uninterrupted run would — not with its first, worse, epoch."""
        return {"best": self.best}

    def load_state_dict(self, state: dict) -> None:
        if not isinstance(state, dict) or "best" not in state or not is_real(state["best"]):
            got = sorted(state) if isinstance(state, dict) else type(state).__name__
            raise KeyError(f"ModelCheckpoint.load_state_dict: expected {{'best': a number}} (from state_dict()), got {got}")
        self.best = float(state["best"])


class LRSchedulerCallback(Callback):
    """Step a learning-rate schedule after every epoch (``per="epoch"``) or batch (``"batch"``).

    A ``ReduceLROnPlateau`` steps once per epoch with the logged value ``monitor`` (default ``"val_loss"``, as
    Keras's callback of that name), ``scheduler.step(logs[monitor])``; ``fit`` checks that the run logs it before
    the first batch."""

    def __init__(self, scheduler, per: str = "epoch", monitor: str | None = None):
        who = "LRSchedulerCallback"
        if per not in ("epoch", "batch"):
            raise ValueError(f"{who}: per must be 'epoch' or 'batch', got {per!r}")
        if not callable(getattr(scheduler, "step", None)) or isinstance(scheduler, Optimizer):  # (it too has a step)
            raise TypeError(f"{who}: scheduler must be a learning-rate schedule such as "
                            f"ng.optim.StepLR(optimizer, step_size=10), got {type(scheduler).__name__}")  # fmt: skip
        plateau = isinstance(scheduler, ReduceLROnPlateau)
        if plateau and per != "epoch":
            raise ValueError(f"{who}: ReduceLROnPlateau steps once per epoch with a logged value; use per='epoch'")
        if monitor is not None and not plateau:
            raise ValueError(f"{who}: monitor= is for ReduceLROnPlateau (it steps with that value); a "
                             f"{type(scheduler).__name__} steps without one, so leave monitor out")  # fmt: skip
        self.monitor = _monitor(who, "val_loss" if monitor is None else monitor) if plateau else None
        self.scheduler, self.per = scheduler, per

    def on_batch_end(self, trainer, step, logs):
        if self.per == "batch":
            self.scheduler.step()

    def on_epoch_end(self, trainer, epoch, logs):
        logs["lr"] = trainer.optimizer.param_groups[0]["lr"]
        if self.monitor is not None:
            self.scheduler.step(logs[self.monitor])
        elif self.per == "epoch":
            self.scheduler.step()

    def state_dict(self) -> dict:
        """What a checkpoint keeps, so a resumed run continues the schedule where it stopped."""
        return {"scheduler": self.scheduler.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        if not isinstance(state, dict) or "scheduler" not in state:
            raise KeyError(f"LRSchedulerCallback.load_state_dict: expected {{'scheduler': ...}} (from state_dict()), "
                           f"got {sorted(state) if isinstance(state, dict) else type(state).__name__}")  # fmt: skip
        self.scheduler.load_state_dict(state["scheduler"])
