"""``fit``: check every argument, then hand the run to a :class:`Trainer`."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from .. import backend
from .. import distributed as dist
from ..data import DataLoader
from ..data.loader import class_keys
from ..nn import Module
from ..optim import Optimizer
from .callbacks import Callback
from .evaluation import check_fits, evaluate, open_array, predict, resolve_loss
from .history import History
from .trainer import CHECKPOINT_NAME, StoppingRules, Trainer, TrainingDivergedError
from .validation import (
    check_callbacks,
    check_checkpoint_dir,
    check_finite,
    check_metrics,
    check_model_and_optimizer,
    check_monitors,
    check_options,
    check_validation_data,
    check_xy,
    split_validation,
)

__all__ = ["CHECKPOINT_NAME", "Trainer", "TrainingDivergedError", "evaluate", "fit", "predict"]


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
    validation_split: float = 0.0,
    metrics: Sequence[str] | None = (),
    callbacks: Sequence[Callback] | None = (),
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
    distributed: bool = False,
    jit: bool = True,
    device=None,
) -> History:
    """Train ``model`` to minimise ``loss_fn(model(X), y)`` (+ ``l1``/``l2`` penalties on weights).

    Returns a :class:`History`.  With ``checkpoint_dir`` the whole run state (weights, optimiser,
    position in the epoch, random generator, history) is saved atomically after every epoch and
    every ``checkpoint_every`` batches; ``resume=True`` continues from it and reaches the same
    final weights as an uninterrupted run.

    ``distributed=True`` (under ``mpiexec -n N``, or with a ``DistributedOptimizer``) trains data
    parallel: each rank reads and differentiates only its share of every global batch, one
    all-reduce per step combines the gradients, rank 0 writes checkpoints and shows progress —
    and the final weights are those of a one-process run on the same global batches.

    ``device`` (``"cpu"``, ``"cuda"``, …) moves the model (in place) and the optimiser's state
    there first; the data stay in host memory and every batch is copied to the model's device
    when it is drawn (so ``model.to("cuda")`` before ``fit`` does the same).

    ``jit`` compiles the whole training step with ``ng.jit`` (loss, ``zero_grad``, ``backward``,
    clipping, ``step``: no graph built per batch) where every module, the loss and the optimiser are
    nablagrad's own (``Dropout`` too: each step's masks are drawn as eager mode draws them), else the batch
    loss alone where it can: the same numbers, less Python per batch (``jit=False`` runs it eagerly).

    ``validation_split`` (Keras's): the last fraction ``v`` of the rows of ``X``/``y``, taken before any shuffling, is
    held out as the validation data — rows ``⌊n(1 − v)⌋ …`` — and never trained on (``validation_data`` instead
    names them; giving both is refused).

    ``X`` (and ``validation_data``) may be a :class:`~nablagrad.data.DataLoader` of ``(x, y)``
    batches: its arrays, ``batch_size``, sampling and ``drop_last`` are used; the order of the batches
    comes from ``seed``, as with arrays.

    Every argument and the data (NaN/inf, shapes, types) are checked before the first batch; a
    refused call changes nothing.
    """
    drop_last = False
    if isinstance(X, DataLoader):
        X, y, batch_size, sampling, drop_last = _loader_setup(X, y)
        shuffle = sampling != "sequential"
    if isinstance(validation_data, DataLoader):
        validation_data = _loader_setup(validation_data, None, "validation_data")[:2]
    loss_fn = resolve_loss(loss_fn)
    metrics = check_metrics(metrics)  # a list from here on (a generator is read once), each name once
    flags = {"shuffle": shuffle, "progress": progress, "resume": resume, "distributed": distributed, "jit": jit}
    check_options(epochs=epochs, batch_size=batch_size, sampling=sampling, metrics=metrics, ema_lambda=ema_lambda,
                  clip_grad_norm=clip_grad_norm, l1=l1, l2=l2, weight_tol=weight_tol, loss_tol=loss_tol,
                  target_loss=target_loss, checkpoint_every=checkpoint_every, flags=flags)  # fmt: skip
    if not shuffle and sampling == "shuffle":
        sampling = "sequential"
    X, y = check_xy(open_array(X), open_array(y))
    X, y, validation_data = split_validation(X, y, validation_split, validation_data)
    world, optimizer = dist.resolve(optimizer, distributed)
    check_model_and_optimizer(model, optimizer)
    callbacks = check_callbacks(callbacks)
    if seed is not None:
        backend.resolve_rng(seed, "fit")  # a bad seed refused now, with the fix, not by NumPy mid-set-up
    if resume and checkpoint_dir is None:
        raise ValueError("fit: resume=True needs checkpoint_dir, the folder the interrupted run saved its checkpoints to")
    device = None if device is None else backend.device(device)  # refused before anything moves
    _check_finite_shared(world, X, y)
    validation_data = check_validation_data(validation_data)
    y = check_fits(model, loss_fn, X, y)  # one check for both: the model takes the rows, the loss the targets
    if sampling == "balanced":  # regression targets have no classes to balance
        class_keys(y, "fit")
    if validation_data is not None:
        Xv, yv = validation_data
        validation_data = Xv, check_fits(model, loss_fn, Xv, yv, names=("validation X", "validation y"))
    check_monitors(callbacks, metrics, validation_data is not None)
    ckpt_dir = check_checkpoint_dir(checkpoint_dir)
    if device is not None:  # after every check: a refused call leaves the model where it was
        model.to(device)  # the optimiser's state made before follows at its next step
    if seed is None:
        seed = world.broadcast(int(backend.default_rng().integers(2**63)))
    if world.size > 1:
        dist.broadcast_parameters(model, world)
    trainer = Trainer(model, loss_fn, optimizer, X, y, epochs=epochs, batch_size=batch_size, sampling=sampling,
                      validation_data=validation_data, metrics=metrics, callbacks=callbacks,
                      stopping=StoppingRules(weight_tol, loss_tol, target_loss), ema_lambda=ema_lambda,
                      clip_grad_norm=clip_grad_norm, l1=l1, l2=l2, rng=np.random.default_rng(seed),
                      checkpoint_dir=ckpt_dir, checkpoint_every=checkpoint_every, progress=progress, world=world,
                      jit=jit, drop_last=drop_last)  # fmt: skip
    return trainer.run(resume=resume)


def _loader_setup(loader: DataLoader, y, name: str = "X") -> tuple:
    """``(X, y, batch_size, sampling, drop_last)`` of a DataLoader of ``(x, y)`` batches."""
    if y is not None:
        raise TypeError("fit: X is a DataLoader, which holds the targets already; leave y out")
    if loader.collate_fn is not None:
        raise ValueError(f"fit: {name} is a DataLoader with a collate_fn, which fit cannot apply to its own batches; "
                         "give the arrays collated once (X, y), or write the loop over the loader yourself")  # fmt: skip
    if loader.dataset is not None:  # a map-style data set: its examples read once into arrays
        examples = loader.collate(np.arange(loader.n_examples))
        fields = examples if isinstance(examples, tuple) else (examples, None)
    else:
        fields = loader.fields if loader.fields is not None else (loader.X, loader.y)
    if len(fields) != 2 or fields[1] is None:
        raise ValueError(
            f"fit: {name} is a DataLoader whose batches hold {len(fields) - (fields[-1] is None)} array(s); give one "
            "of (inputs, targets) pairs: DataLoader(X, y) or DataLoader((X, y))"
        )
    if len(loader) == 0 and loader.n_examples and name == "X":  # drop_last, fewer rows than batch_size: no batch
        raise ValueError(f"fit: {name} is a DataLoader of {loader.n_examples} example(s) with batch_size="
                         f"{loader.batch_size} and drop_last=True, which yields no batch to train on; lower its "
                         "batch_size or set drop_last=False")  # fmt: skip
    return fields[0], fields[1], loader.batch_size, loader.sampling, loader.drop_last


def _check_finite_shared(world: dist.World, X, y) -> None:
    """NaN/inf in X or y refused on every rank; each rank scans only its block of rows."""
    errors = []
    for a, name in ((X, "X"), (y, "y")):
        try:
            check_finite(a, name, rows=world.block(len(X)))
        except ValueError as exc:
            errors.append(str(exc))
    errors = [e for part in world.allgather(errors) for e in part]
    if errors:
        raise ValueError(errors[0])
