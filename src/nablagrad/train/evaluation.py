"""``predict`` and ``evaluate``, and the small pieces the training loop shares with them: opening
data (a ``.npy`` path opens memory-mapped), turning rows into tensors, resolving a loss."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence

import numpy as np

from .. import backend
from ..autodiff import Tensor, as_tensor, no_grad
from ..backend.device import CPU, device_of, to_device
from ..data.loader import open_npy
from ..nn import LOSSES, BCEWithLogitsLoss, Embedding, HingeLoss, Module, PerceptronLoss
from .metrics import TRAINING_METRICS
from .validation import as_rows, check_int, check_metrics, check_xy


def resolve_loss(loss_fn, who: str = "fit"):
    """A loss module from a name (``"mse"``, ``"cross_entropy"`` …) or the callable itself."""
    if isinstance(loss_fn, str):
        if loss_fn not in LOSSES:
            raise ValueError(f"{who}: unknown loss {loss_fn!r}; choose from {sorted(LOSSES)}")
        return LOSSES[loss_fn]()
    if not callable(loss_fn):
        raise TypeError(f"{who}: loss_fn must be a loss module, a callable or a loss name, got {type(loss_fn).__name__}")
    return loss_fn


def open_array(X, who: str = "fit"):
    """A path to a ``.npy`` file opens memory-mapped: only the rows a batch asks for are ever read (a missing, empty
    or non-``.npy`` file refused naming ``who`` and the file)."""
    if isinstance(X, str | os.PathLike):
        return open_npy(X, who)
    return X


def decision_threshold(loss_fn) -> float:
    """Where a single logit / score turns into class 1 (0 for losses on logits, else 0.5)."""
    return 0.0 if isinstance(loss_fn, BCEWithLogitsLoss | HingeLoss | PerceptronLoss) else 0.5


def takes_indices(model: Module) -> bool:
    """Whether the model's first layer reads integer indices (an ``Embedding``): its inputs keep their dtype."""
    first = next((m for m in model.modules() if not any(True for _ in m.children())), None)
    return isinstance(first, Embedding)


class Batches:
    """Rows of X / y as tensors of the model's dtype (integer labels stay integers, and integer inputs of a
    model that starts with an ``Embedding``), on the model's device: the data stay in host memory and each
    batch is copied when it is drawn."""

    def __init__(self, X, y, dtype, device=CPU, indices: bool = False):
        self.X, self.y, self.dtype, self.device, self.indices = X, y, dtype, device, indices

    def x(self, idx) -> Tensor:
        a = np.asarray(self.X[idx])
        keep = a.dtype == self.dtype or (self.indices and a.dtype.kind in "iu")
        a = a if keep else a.astype(self.dtype)
        if self.device == CPU:
            return as_tensor(a, device=CPU)  # a fresh host array (read from X) stays on the host
        return as_tensor(to_device(a, self.device), device=self.device)  # a new array on the device already: no copy

    def y_(self, idx):
        return self.on_device(self.y_host(idx))

    def on_device(self, a: np.ndarray):
        """Host labels ``a`` where the model is (themselves on the CPU)."""
        return a if self.device == CPU else to_device(a, self.device)

    def y_host(self, idx) -> np.ndarray:
        a = np.asarray(self.y[idx])
        return a.astype(self.dtype) if a.dtype.kind == "f" and a.dtype != self.dtype else a


def model_dtype(model: Module):
    return model.dtype or backend.get_default_dtype()


def model_device(model: Module):
    return model.device or CPU


PROBE_ROWS = 4096  # targets handed to the loss at a time by check_fits


def as_loss_targets(loss_fn, out_shape: tuple, y):
    """A 1-D ``y`` for a model with one output per row (predictions of shape (N, 1)) read as the
    column (N, 1), as Keras reads it, when the loss is one of nablagrad's own that pairs target and
    prediction element by element (those refuse any other shape).  A loss of one's own gets ``y``
    as given: reshaping it could pair the wrong elements in its code."""
    if getattr(loss_fn, "same_shape_target", False) and np.ndim(y) == 1 and tuple(out_shape[1:]) == (1,):
        return y.reshape(-1, 1)
    return y


def check_fits(model: Module, loss_fn, X, y, who: str = "fit", names: tuple[str, str] = ("X", "y")):
    """Refuse, before the first batch, rows of ``X`` the model cannot take and targets ``y`` the loss
    cannot take (another feature count, a label out of range in the last batch, a loss that gives no
    scalar), so a run never fails half-way with nothing undone.  The model sees one row, in eval
    mode (no random draw); the loss sees every target, in chunks, against copies of that row's
    output: the loss itself is the one judge of its targets, at O(n) cost and no pass over ``X``.
    Returns ``y`` as the loss takes it (:func:`as_loss_targets`)."""
    data = Batches(X, y, model_dtype(model), model_device(model), takes_indices(model))
    with evaluating(model), no_grad():
        # the first row, read as a slice: one contiguous block from an out-of-core array
        out = _judged(lambda: model(data.x(slice(0, 1))), f"{names[0]} does not fit the model", who)
        if not isinstance(out, Tensor):
            return y  # a model of one's own with another output: its loss is trusted
        y = as_loss_targets(loss_fn, out.shape, y)
        data = Batches(X, y, model_dtype(model), model_device(model), takes_indices(model))
        for s in range(0, len(y), PROBE_ROWS):
            idx = slice(s, min(len(y), s + PROBE_ROWS))
            outs = out.expand(idx.stop - idx.start, *out.shape[1:])
            loss = _judged(lambda: loss_fn(outs, data.y_(idx)), f"{names[1]} does not fit the loss", who)
            if not (isinstance(loss, Tensor) and loss.numel() == 1):
                shape = f" of shape {loss.shape}" if isinstance(loss, Tensor) else ""
                raise TypeError(f"{who}: loss_fn must return the batch's loss as a one-element Tensor, got a "
                                f"{type(loss).__name__}{shape}; reduce it (e.g. .mean()) with nablagrad ops")  # fmt: skip
    return y


@contextlib.contextmanager
def evaluating(model: Module) -> Iterator[None]:
    """``model`` in evaluation mode inside the block (no Dropout draw); afterwards every module back in its own
    mode, as it was — a part frozen in eval mode stays so (``model.train(flag)`` would set them all alike)."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for m, training in modes:
            m.training = training


def _judged(call, what: str, who: str):
    """``call()``, with a ``ValueError``/``TypeError`` it raises named as ``who: what: …``."""
    try:
        return call()
    except (ValueError, TypeError) as exc:
        kind = TypeError if isinstance(exc, TypeError) else ValueError
        raise kind(f"{who}: {what}: {exc}") from None


def _check_model_and_batch(model, batch_size, who: str) -> None:
    """``model`` a Module and ``batch_size`` a positive integer or None (every row in one batch, as ``fit``'s
    full batch) — ``range(0, n, 0)`` would say only "arg 3 must not be zero"."""
    if not isinstance(model, Module):
        raise TypeError(f"{who}: model must be an nn.Module, got {type(model).__name__}")
    if batch_size is not None:
        check_int("batch_size", batch_size, 1, who)


def predict(model: Module, X, batch_size: int | None = 4096) -> np.ndarray:
    """Model outputs for ``X``, batched (``batch_size=None``: one batch), without recording a tape.  No rows give
    the model's output for no rows (shape ``(0, n_outputs)``, as the model computes it on an empty batch)."""
    _check_model_and_batch(model, batch_size, "predict")
    X = as_rows(open_array(X, "predict"), "X", "predict", 1)
    data = Batches(X, None, model_dtype(model), model_device(model), takes_indices(model))
    step = max(1, len(X)) if batch_size is None else batch_size
    with evaluating(model), no_grad():
        starts = range(0, max(1, len(X)), step)  # (an empty X: one empty batch, for the output's shape)
        outs = [model(data.x(np.arange(s, min(len(X), s + step)))).numpy() for s in starts]
    return outs[0] if len(outs) == 1 else np.concatenate(outs)


def evaluate(model: Module, loss_fn, X, y, metrics: Sequence[str] | None = ("accuracy",), batch_size: int | None = 4096,
             threshold: float | None = None) -> dict[str, float]:  # fmt: skip
    """``{"loss": …, metric: …}`` on ``(X, y)``."""
    _check_model_and_batch(model, batch_size, "evaluate")
    loss_fn = resolve_loss(loss_fn, "evaluate")
    X, y = check_xy(open_array(X, "evaluate"), open_array(y, "evaluate"), "evaluate")
    metrics = check_metrics(metrics, "evaluate")
    out = predict(model, X, batch_size)
    yv = np.asarray(y)
    if yv.dtype.kind == "f":
        yv = yv.astype(model_dtype(model))
    with no_grad():
        targets = as_loss_targets(loss_fn, out.shape, yv)
        logs = {"loss": float(loss_fn(as_tensor(out, device=device_of(out)), targets).data)}
    th = decision_threshold(loss_fn) if threshold is None else threshold
    for m in metrics:
        logs[m] = TRAINING_METRICS[m](out, yv, th)
    return logs
