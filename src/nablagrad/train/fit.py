"""``fit``, ``evaluate`` and ``predict`` — the training loop of lectures 000, 003 and 004.

Regimes: full-batch GD (``batch_size=None``, Algorithm 1), stochastic GD (``batch_size=1``,
random order, Algorithm 2), mini-batch GD (random subsets of m, Algorithm 3; or a sequential
split reshuffled every epoch, lecture 003).  Stopping: ``epochs``; ``weight_tol`` —
``‖w(t) − w(t−1)‖ ≤ ε`` between epochs (Algorithm 1); ``loss_tol`` — the epoch loss improved by
less than the tolerance; ``target_loss`` — the loss fell below a target.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .. import backend
from ..autodiff import Tensor, no_grad
from ..autodiff.tensor import _wrap
from ..data.loader import batch_indices
from ..nn import LOSSES, BCEWithLogitsLoss, HingeLoss, Module, PerceptronLoss, l1_penalty, l2_penalty
from ..nn.utils import clip_grad_norm_
from ..optim import Optimizer
from .callbacks import Callback
from .history import History, RunningRisk
from .metrics import TRAINING_METRICS

CHECKPOINT_NAME = "checkpoint.safetensors"


class TrainingDivergedError(FloatingPointError):
    """The loss or a gradient became NaN/Inf; the parameters are the last good ones."""


def _diverged(what: str, epoch: int, step: int, optimizer: Optimizer) -> TrainingDivergedError:
    lr = optimizer.param_groups[0].get("lr")
    return TrainingDivergedError(
        f"training stopped: the {what} became NaN or Inf at epoch {epoch + 1}, batch {step + 1}. "
        f"The parameters are left at their last good values. Likely cause: the learning rate (lr={lr}) is too "
        "large for this problem — lower it, standardise the inputs, or pass clip_grad_norm=…; a log of 0 in a "
        "hand-written loss (use the logits versions) is the other usual suspect."
    )


def _resolve_loss(loss_fn):
    if isinstance(loss_fn, str):
        if loss_fn not in LOSSES:
            raise ValueError(f"fit: unknown loss {loss_fn!r}; choose from {sorted(LOSSES)}")
        return LOSSES[loss_fn]()
    if not callable(loss_fn):
        raise TypeError("fit: loss_fn must be a loss module, a callable or a loss name")
    return loss_fn


def _open(X):
    """A path to a ``.npy`` file opens memory-mapped: only the current batch is ever read."""
    if isinstance(X, str | os.PathLike):
        return np.load(X, mmap_mode="r")
    return X


def _threshold(loss_fn) -> float:
    return 0.0 if isinstance(loss_fn, BCEWithLogitsLoss | HingeLoss | PerceptronLoss) else 0.5


class _Batches:
    """Turn rows of X / y into tensors of the model's dtype (integers labels stay integers)."""

    def __init__(self, X, y, dtype):
        self.X, self.y, self.dtype = X, y, dtype

    def x(self, idx) -> Tensor:
        a = np.asarray(self.X[idx])
        return _wrap(a if a.dtype == self.dtype else a.astype(self.dtype))

    def y_(self, idx):
        a = np.asarray(self.y[idx])
        return a.astype(self.dtype) if a.dtype.kind == "f" and a.dtype != self.dtype else a


def _check_data(X, y, who: str) -> None:
    if y is None:
        raise ValueError(f"{who}: targets y are required")
    if len(X) != len(y):
        raise ValueError(f"{who}: X has {len(X)} rows but y has {len(y)}; they must match")
    if len(X) == 0:
        raise ValueError(f"{who}: no training data (0 rows)")


class Trainer:
    """The state of one ``fit`` run (what callbacks see and what checkpoints hold)."""

    def __init__(self, model: Module, loss_fn, optimizer: Optimizer, history: History):
        self.model, self.loss_fn, self.optimizer, self.history = model, loss_fn, optimizer, history
        self.stop_training = False
        self.epoch = 0


def fit(
    model: Module,
    loss_fn,
    optimizer: Optimizer,
    X,
    y=None,
    *,
    epochs: int = 10,
    batch_size: int | None = 32,
    sampling: str = "shuffle",
    shuffle: bool = True,
    validation_data: tuple | None = None,
    metrics: Sequence[str] = (),
    callbacks: Sequence[Callback] = (),
    progress: bool | str = False,
    weight_tol: float | None = None,
    loss_tol: float | None = None,
    target_loss: float | None = None,
    ema_lambda: float = 0.1,
    clip_grad_norm: float | None = None,
    l1: float = 0.0,
    l2: float = 0.0,
    seed=None,
    checkpoint_dir: str | os.PathLike | None = None,
    checkpoint_every: int | None = None,
    resume: bool = False,
) -> History:
    """Train ``model`` to minimise ``loss_fn(model(X), y)`` (+ ``l1``/``l2`` penalties on weights).

    Returns a :class:`History`.  With ``checkpoint_dir`` the whole run state (weights, optimiser,
    position in the epoch, random generator, history) is saved atomically after every epoch and
    every ``checkpoint_every`` batches; ``resume=True`` continues from it and reaches the same
    final weights as an uninterrupted run.
    """
    loss_fn = _resolve_loss(loss_fn)
    X = _open(X)
    y = _open(y)
    _check_data(X, y, "fit")
    if not shuffle and sampling == "shuffle":
        sampling = "sequential"
    unknown = [m for m in metrics if m not in TRAINING_METRICS]
    if unknown:
        raise ValueError(f"fit: unknown metrics {unknown}; choose from {sorted(TRAINING_METRICS)}")
    if epochs < 0:
        raise ValueError(f"fit: epochs must be >= 0, got {epochs}")
    dtype = model.dtype or backend.get_default_dtype()
    params = list(model.parameters())
    data = _Batches(X, y, dtype)
    threshold = _threshold(loss_fn)
    rng = np.random.default_rng(seed) if seed is not None else np.random.default_rng(backend.default_rng().integers(2**63))

    history = History()
    trainer = Trainer(model, loss_fn, optimizer, history)
    risk = RunningRisk(ema_lambda)
    state = {"epoch": 0, "pos": 0, "batches": None, "loss_sum": 0.0, "count": 0, "metric_sums": {}, "prev": None}
    ckpt_path = Path(checkpoint_dir) / CHECKPOINT_NAME if checkpoint_dir is not None else None
    if resume and ckpt_path is not None and ckpt_path.exists():
        _restore(ckpt_path, trainer, risk, state, rng)

    bar = _progress_bar(progress, epochs, batch_size, len(X))
    for cb in callbacks:
        cb.on_train_begin(trainer)
    model.train()
    # overflow is detected and reported below (TrainingDivergedError); NumPy's warnings would only repeat it
    errstate = np.errstate(over="ignore", invalid="ignore", divide="ignore")
    errstate.__enter__()
    try:
        while state["epoch"] < epochs and not trainer.stop_training:
            epoch = trainer.epoch = state["epoch"]
            if state["batches"] is None:
                for cb in callbacks:
                    cb.on_epoch_begin(trainer, epoch)
                weights = _per_example_losses(model, loss_fn, data, len(X)) if sampling == "hard" else None
                labels = np.asarray(y) if sampling == "balanced" else None
                state["batches"] = list(batch_indices(len(X), batch_size, sampling, rng, labels=labels, weights=weights))
                state.update(pos=0, loss_sum=0.0, count=0, metric_sums={m: 0.0 for m in metrics})
                if weight_tol is not None and state["prev"] is None:
                    state["prev"] = [p.data.copy() for p in params]
            batches = state["batches"]
            while state["pos"] < len(batches):
                step = state["pos"]
                idx = batches[step]
                xb, yb = data.x(idx), data.y_(idx)
                out = model(xb)
                loss = loss_fn(out, yb)
                if l1:
                    loss = loss + l1_penalty(model, l1)
                if l2:
                    loss = loss + l2_penalty(model, l2)
                lv = float(loss.data)
                if not math.isfinite(lv):
                    raise _diverged("loss", epoch, step, optimizer)
                optimizer.zero_grad()
                loss.backward()
                if clip_grad_norm is not None:
                    clip_grad_norm_(params, clip_grad_norm)
                try:
                    optimizer.step()
                except FloatingPointError:
                    raise _diverged("gradient", epoch, step, optimizer) from None
                n = len(idx)
                state["loss_sum"] += lv * n
                state["count"] += n
                for m in metrics:
                    state["metric_sums"][m] += TRAINING_METRICS[m](out.data, yb, threshold) * n
                risk.update(lv)
                history.steps["loss"].append(lv)
                history.steps["loss_mean"].append(risk.mean)
                history.steps["loss_ema"].append(risk.ema)
                state["pos"] += 1
                logs = {"loss": lv, "loss_mean": risk.mean, "loss_ema": risk.ema}
                for cb in callbacks:
                    cb.on_batch_end(trainer, step, logs)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(epoch=epoch + 1, loss=f"{risk.ema:.4f}", refresh=False)
                if ckpt_path is not None and checkpoint_every and state["pos"] % checkpoint_every == 0:
                    _checkpoint(ckpt_path, trainer, risk, state, rng)
            logs = _end_of_epoch(model, loss_fn, data, validation_data, metrics, state, threshold, dtype)
            state["epoch"] += 1
            state["batches"] = None
            for cb in callbacks:
                cb.on_epoch_end(trainer, epoch, logs)
            history.log_epoch(epoch, logs)
            if bar is not None:
                bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items()}, refresh=True)
            _stopping_rules(trainer, state, params, logs, weight_tol, loss_tol, target_loss)
            if ckpt_path is not None:
                _checkpoint(ckpt_path, trainer, risk, state, rng)
    finally:
        errstate.__exit__(None, None, None)
        if bar is not None:
            bar.close()
    if not history.stop_reason:
        history.stop_reason = "max epochs reached" if not trainer.stop_training else "stopped by a callback"
    for cb in callbacks:
        cb.on_train_end(trainer)
    return history


def _end_of_epoch(model, loss_fn, data, validation_data, metrics, state, threshold, dtype) -> dict:
    count = max(state["count"], 1)
    logs = {"loss": state["loss_sum"] / count}
    for m in metrics:
        logs[m] = state["metric_sums"][m] / count
    if validation_data is not None:
        Xv, yv = validation_data
        val = evaluate(model, loss_fn, Xv, yv, metrics=metrics, threshold=threshold)
        logs.update({f"val_{k}": v for k, v in val.items()})
    return logs


def _stopping_rules(trainer, state, params, logs, weight_tol, loss_tol, target_loss) -> None:
    h = trainer.history
    if weight_tol is not None:
        prev = state["prev"]
        step = math.sqrt(sum(float(np.sum((p.data.astype(np.float64) - q) ** 2)) for p, q in zip(params, prev)))
        logs["weight_change"] = step
        h.history["weight_change"].append(step)
        state["prev"] = [p.data.copy() for p in params]
        if step <= weight_tol:
            trainer.stop_training = True
            h.stop_reason = f"‖w(t) − w(t−1)‖ = {step:.3g} ≤ weight_tol = {weight_tol}"
    losses = h.history["loss"]
    if loss_tol is not None and len(losses) >= 2 and losses[-2] - losses[-1] < loss_tol:
        trainer.stop_training = True
        h.stop_reason = f"loss improved by {losses[-2] - losses[-1]:.3g} < loss_tol = {loss_tol}"
    if target_loss is not None and losses[-1] <= target_loss:
        trainer.stop_training = True
        h.stop_reason = f"loss {losses[-1]:.4g} ≤ target_loss = {target_loss}"


def _per_example_losses(model, loss_fn, data, n: int, chunk: int = 4096) -> np.ndarray:
    """Current loss of every example (for sampling='hard'); needs a loss with ``reduction``."""
    if not hasattr(loss_fn, "reduction"):
        raise ValueError("sampling='hard' needs a loss module with a reduction attribute")
    old, loss_fn.reduction = loss_fn.reduction, "none"
    try:
        with no_grad():
            parts = []
            for s in range(0, n, chunk):
                idx = np.arange(s, min(n, s + chunk))
                parts.append(np.asarray(loss_fn(model(data.x(idx)), data.y_(idx)).data).reshape(len(idx), -1).sum(1))
    finally:
        loss_fn.reduction = old
    return np.concatenate(parts)


def _progress_bar(progress, epochs: int, batch_size, n: int):
    show = progress == "always" or (progress and sys.stderr.isatty())
    if not show:
        return None
    from tqdm.auto import tqdm  # noqa: PLC0415

    steps = -(-n // (batch_size or n))
    return tqdm(total=epochs * steps, unit="batch", desc="training", dynamic_ncols=True, file=sys.stderr)


# --- checkpoints ----------------------------------------------------------------------------------------
def _checkpoint(path: Path, trainer: Trainer, risk: RunningRisk, state: dict, rng: np.random.Generator) -> None:
    from ..io import atomic_write_bytes, serialize  # noqa: PLC0415

    batches = state["batches"] or []
    extra = {
        "batch_order": np.concatenate(batches).astype(np.int64) if batches else np.zeros(0, np.int64),
        "batch_sizes": np.array([len(b) for b in batches], dtype=np.int64),
    }
    if state["prev"] is not None:
        extra.update({f"prev.{i}": p for i, p in enumerate(state["prev"])})
    meta = {
        "trainer": {
            "epoch": state["epoch"],
            "pos": state["pos"],
            "in_epoch": state["batches"] is not None,
            "loss_sum": state["loss_sum"],
            "count": state["count"],
            "metric_sums": state["metric_sums"],
            "rng": json.loads(json.dumps(rng.bit_generator.state)),
            "risk": risk.state(),
            "history": trainer.history.to_dict(),
            "has_prev": state["prev"] is not None,
        }
    }
    atomic_write_bytes(path, serialize(trainer.model, trainer.optimizer, metadata=meta, extra=extra))


def _restore(path: Path, trainer: Trainer, risk: RunningRisk, state: dict, rng: np.random.Generator) -> None:
    from ..io import load_checkpoint  # noqa: PLC0415

    info, tensors = load_checkpoint(path, trainer.model, trainer.optimizer)  # all or nothing
    t = info["metadata"]["trainer"]
    rng.bit_generator.state = t["rng"]
    risk.load(t["risk"])
    h = History.from_dict(t["history"])
    trainer.history.__dict__.update(h.__dict__)
    state.update(epoch=t["epoch"], pos=t["pos"], loss_sum=t["loss_sum"], count=t["count"], metric_sums=t["metric_sums"])
    if t["in_epoch"]:
        sizes = tensors["extra.batch_sizes"]
        state["batches"] = np.split(tensors["extra.batch_order"], np.cumsum(sizes)[:-1])
    else:
        state["batches"] = None
    if t["has_prev"]:
        n = len(list(trainer.model.parameters()))
        state["prev"] = [tensors[f"extra.prev.{i}"] for i in range(n)]


# --- evaluation -----------------------------------------------------------------------------------------
def predict(model: Module, X, batch_size: int = 4096) -> np.ndarray:
    """Model outputs for ``X``, batched, without recording a tape."""
    X = _open(X)
    dtype = model.dtype or backend.get_default_dtype()
    data = _Batches(X, None, dtype)
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            starts = range(0, len(X), batch_size)
            outs = [np.asarray(model(data.x(np.arange(s, min(len(X), s + batch_size)))).data) for s in starts]
    finally:
        model.train(was_training)
    return np.concatenate(outs) if outs else np.zeros((0,))


def evaluate(model: Module, loss_fn, X, y, metrics: Sequence[str] = ("accuracy",), batch_size: int = 4096,
             threshold: float | None = None) -> dict[str, float]:  # fmt: skip
    """``{"loss": …, metric: …}`` on ``(X, y)``."""
    loss_fn = _resolve_loss(loss_fn)
    X, y = _open(X), _open(y)
    _check_data(X, y, "evaluate")
    out = predict(model, X, batch_size)
    dtype = model.dtype or backend.get_default_dtype()
    yv = np.asarray(y)
    if yv.dtype.kind == "f":
        yv = yv.astype(dtype)
    with no_grad():
        logs = {"loss": float(loss_fn(_wrap(out), yv).data)}
    th = _threshold(loss_fn) if threshold is None else threshold
    for m in metrics:
        if m not in TRAINING_METRICS:
            raise ValueError(f"evaluate: unknown metric {m!r}; choose from {sorted(TRAINING_METRICS)}")
        logs[m] = TRAINING_METRICS[m](out, yv, th)
    return logs
