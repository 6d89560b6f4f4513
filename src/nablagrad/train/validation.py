"""Checks of ``fit``'s arguments, all made before the first batch, so a bad value is named
early and a refused call changes nothing (no weight, optimiser state or file is touched).

Each check raises ``TypeError`` (wrong kind of value) or ``ValueError`` (a value out of range,
NaN/inf in the data) with a message that names the argument, the bad value and the fix.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..autodiff import Tensor
from ..backend.checks import as_array, is_finite, is_int, is_real
from ..data.loader import SAMPLING
from ..io.atomic import folder_problem
from ..nn import Module
from ..optim import Optimizer
from .callbacks import Callback, EarlyStopping, LRSchedulerCallback, ModelCheckpoint
from .metrics import TRAINING_METRICS

SCAN_ELEMENTS = 1 << 20  # entries checked at a time when scanning for NaN/inf: O(1 MB) memory for a memory-mapped X


def check_int(name: str, v, minimum: int, who: str = "fit", allow_none: bool = False) -> int | None:
    """An integer ``>= minimum`` (``2.5``, ``"32"`` and ``True`` are refused, not rounded)."""
    if v is None and allow_none:
        return None
    if not is_int(v):
        hint = " or None" if allow_none else ""
        raise TypeError(f"{who}: {name} must be an integer{hint}, got {v!r} ({type(v).__name__}); e.g. {name}={max(minimum, 1)}")
    if v < minimum:
        raise ValueError(f"{who}: {name} must be >= {minimum}, got {v}")
    return int(v)


def check_flag(name: str, v, who: str = "fit", also: tuple = ()) -> None:
    """``True`` or ``False`` (or one of ``also``): ``shuffle="no"`` would be truthy and train shuffled."""
    if not (isinstance(v, bool | np.bool_) or (isinstance(v, str) and v in also)):
        choices = ", ".join(["True", "False", *map(repr, also)][:-1]) + " or " + (repr(also[-1]) if also else "False")
        raise TypeError(f"{who}: {name} must be {choices}, got {v!r}")


def check_real(
    name: str, v, minimum: float = 0.0, who: str = "fit", allow_none: bool = False, strict: bool = False
) -> float | None:
    """A finite real number ``>= minimum`` (``> minimum`` with ``strict``)."""
    if v is None and allow_none:
        return None
    if not is_real(v) or not is_finite(v):
        raise TypeError(f"{who}: {name} must be a finite number, got {v!r} ({type(v).__name__})")
    if v < minimum or (strict and v == minimum):
        raise ValueError(f"{who}: {name} must be {'>' if strict else '>='} {minimum}, got {v}")
    return float(v)


def as_rows(a, name: str, who: str, min_ndim: int):
    """``a`` as something with ``len``, ``shape``, ``dtype`` and row indexing; lists become arrays.

    Memory-mapped arrays and chunk readers are kept as they are (nothing is read); an array of another library
    whose dtype is not NumPy's (a PyTorch tensor) is read into a NumPy array."""
    rows_like = hasattr(a, "shape") and hasattr(a, "__getitem__") and isinstance(getattr(a, "dtype", None), np.dtype)
    if not rows_like:
        try:
            a = as_array(a, who, name)  # (ragged lists: a ValueError naming the fix)
        except (RuntimeError, TypeError) as exc:  # e.g. a PyTorch tensor that requires grad, or one on a GPU
            raise TypeError(f"{who}: {name} ({type(a).__name__}) could not be read as a NumPy array ({exc}); give a "
                            f"NumPy array, e.g. {name}.detach().cpu().numpy() for a PyTorch tensor") from None  # fmt: skip
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{who}: {name} must hold numbers, got dtype {a.dtype}; convert it, e.g. np.asarray({name}, dtype=float)")
    if len(a.shape) < min_ndim:
        if min_ndim == 2:
            raise ValueError(
                f"{who}: {name} must be 2-D (n_samples, n_features), got shape {tuple(a.shape)}; "
                f"for one feature use {name}.reshape(-1, 1), for one sample {name}.reshape(1, -1)"
            )
        raise ValueError(f"{who}: {name} must have at least {min_ndim} dimension(s), got shape {tuple(a.shape)}")
    return a


def check_xy(X, y, who: str = "fit", names: tuple[str, str] = ("X", "y")):
    """``X`` (n, …) and ``y`` (n, …) as arrays with matching, non-zero row counts."""
    if y is None:
        raise ValueError(f"{who}: targets {names[1]} are required")
    X = as_rows(X, names[0], who, 2)
    y = as_rows(y, names[1], who, 1)
    if len(X) != len(y):
        raise ValueError(f"{who}: {names[0]} has {len(X)} rows but {names[1]} has {len(y)}; they must match")
    if len(X) == 0:
        raise ValueError(f"{who}: no {'training data' if (who, names[0]) == ('fit', 'X') else names[0]} (0 rows)")
    return X, y


def find_nonfinite(a, rows: range | None = None) -> tuple[int, list[int], list[int]]:
    """Count of NaN/inf entries of ``a[rows]`` and the first few bad rows and columns, read in chunks."""
    rows = range(len(a)) if rows is None else rows
    if np.dtype(a.dtype).kind != "f":
        return 0, [], []
    chunk = max(1, SCAN_ELEMENTS // max(1, int(np.prod(a.shape[1:]))))
    count, bad_rows, bad_cols = 0, [], set()
    for s in range(rows.start, rows.stop, chunk):
        block = np.asarray(a[s : min(rows.stop, s + chunk)])
        bad = ~np.isfinite(block.reshape(len(block), -1))
        if bad.any():
            count += int(bad.sum())
            r = np.flatnonzero(bad.any(1))
            bad_rows.extend((s + r[: 10 - len(bad_rows)]).tolist() if len(bad_rows) < 10 else [])
            bad_cols.update(np.flatnonzero(bad.any(0))[:10].tolist())
    return count, bad_rows, sorted(bad_cols)[:10]


def nonfinite_message(name: str, who: str, count: int, rows: list[int], cols: list[int], ndim: int) -> str:
    where = f"rows {rows}" + (f", columns {cols}" if ndim > 1 else "")
    return (
        f"{who}: {name} contains {count} NaN or infinite value(s) at {where} (first ones shown); "
        f"training on them would turn every weight into NaN. Drop or impute those rows first, e.g. "
        f"keep = np.isfinite({name}).reshape(len({name}), -1).all(1)"
    )


def check_finite(a, name: str, who: str = "fit", rows: range | None = None) -> None:
    """Refuse NaN/inf in ``a`` (the rows ``rows`` of it), naming where they are."""
    count, bad_rows, bad_cols = find_nonfinite(a, rows)
    if count:
        raise ValueError(nonfinite_message(name, who, count, bad_rows, bad_cols, len(a.shape)))


def check_validation_data(validation_data, who: str = "fit"):
    if validation_data is None:
        return None
    if not isinstance(validation_data, tuple | list) or len(validation_data) != 2:
        raise TypeError(f"{who}: validation_data must be a pair (X_val, y_val), got {type(validation_data).__name__}")
    Xv, yv = check_xy(*validation_data, who=who, names=("validation X", "validation y"))
    check_finite(Xv, "validation X", who)
    check_finite(yv, "validation y", who)
    return Xv, yv


def split_validation(X, y, fraction, validation_data, who: str = "fit"):
    """``(X_train, y_train, validation_data)``: with ``fraction`` > 0 the last ``n − ⌊n(1 − fraction)⌋`` rows held
    out as Keras's ``validation_split`` holds them (before any shuffling; views of an array, nothing copied).  Given
    ``validation_data`` too, that is the validation data and nothing is held out (Keras's rule, with a warning)."""
    if not is_real(fraction) or not 0 <= fraction < 1:
        raise (TypeError if not is_real(fraction) else ValueError)(
            f"{who}: validation_split must be a fraction in [0, 1) of the rows held out for validation, got {fraction!r}"
        )
    if not fraction:
        return X, y, validation_data
    if validation_data is not None:  # Keras: validation_data overrides validation_split
        warnings.warn(f"{who}: validation_data is given, so validation_split={fraction} is ignored (as in Keras): "
                      "every row of X trains", UserWarning, stacklevel=3)  # fmt: skip
        return X, y, validation_data
    X, y = (np.asarray(a) if isinstance(a, list | tuple) else a for a in (X, y))
    for name, a in (("X", X), ("y", y)):  # (a memory-mapped array slices without reading; a chunk reader would read)
        if not isinstance(a, np.ndarray | Tensor):
            raise TypeError(f"{who}: validation_split cuts arrays and tensors; {name} is a {type(a).__name__}: give "
                            "validation_data=(X_val, y_val) instead")  # fmt: skip
    n = len(X)
    split = int(np.floor(n * (1.0 - float(fraction))))
    if split in (0, n):
        raise ValueError(f"{who}: validation_split={fraction} of {n} rows leaves {split} for training and {n - split} for "
                         "validation; each needs at least one: give more rows or another validation_split")  # fmt: skip
    return X[:split], y[:split], (X[split:], y[split:])


def check_checkpoint_dir(checkpoint_dir, who: str = "fit") -> Path | None:
    """A folder that exists or can be created, and can be written (checked without creating it)."""
    if checkpoint_dir is None:
        return None
    if not isinstance(checkpoint_dir, str | os.PathLike):
        raise TypeError(f"{who}: checkpoint_dir must be a folder path, got {checkpoint_dir!r}")
    path = Path(checkpoint_dir)
    if path.exists() and not path.is_dir():
        raise ValueError(
            f"{who}: checkpoint_dir {str(path)!r} is a file, not a folder; give a folder path (it is created if missing)"
        )
    problem, existing = folder_problem(path, trial=True)
    if problem == "Not a directory":
        raise ValueError(f"{who}: checkpoint_dir {str(path)!r} cannot be created: {str(existing)!r} is a file")
    if problem is not None:
        raise PermissionError(
            f"{who}: checkpoint_dir {str(path)!r} is not writable ({str(existing)!r}); choose a folder you can write to"
        )
    return path


CALLBACK_HOOKS = tuple(name for name in vars(Callback) if name.startswith("on_"))  # the hooks the trainer calls


def check_model_and_optimizer(model, optimizer, who: str = "fit") -> None:
    """``model`` a :class:`~nablagrad.nn.Module` and ``optimizer`` an optimiser of *its* parameters.

    An optimiser built on another model's parameters would make every step a no-op for this one
    (the loss would never move), so it is refused; one over a subset of them (frozen layers) is fine."""
    if not isinstance(model, Module):
        raise TypeError(f"{who}: model must be an nn.Module (e.g. ng.nn.Sequential(...)), got {type(model).__name__}")
    duck = callable(getattr(optimizer, "step", None)) and callable(getattr(optimizer, "zero_grad", None))
    if not (isinstance(optimizer, Optimizer) or duck):  # an object with step() and zero_grad() trains eagerly
        raise TypeError(
            f"{who}: optimizer must be an optimiser such as ng.optim.Adam(model.parameters()), got {optimizer!r}"
        )
    ours = {id(p) for p in model.parameters()}
    groups = getattr(optimizer, "param_groups", None)
    if ours and isinstance(groups, list) and not any(id(p) in ours for g in groups for p in g.get("params", ())):
        raise ValueError(
            f"{who}: the optimizer holds none of the model's parameters, so training would not change the model; "
            f"build it from this model, e.g. {type(optimizer).__name__}(model.parameters(), ...)"
        )


def check_callbacks(callbacks, who: str = "fit") -> list:
    """A list of :class:`Callback` (or objects with all its hooks); ``None`` is none (Keras's default)."""
    if callbacks is None:
        return []
    if isinstance(callbacks, str) or not isinstance(callbacks, Sequence):
        raise TypeError(f"{who}: callbacks must be a list of Callback objects, got {type(callbacks).__name__}")
    for i, cb in enumerate(callbacks):
        missing = [h for h in CALLBACK_HOOKS if not callable(getattr(cb, h, None))]
        if missing:
            raise TypeError(
                f"{who}: callbacks[{i}] is a {type(cb).__name__}, not a Callback (it lacks {', '.join(missing)}); "
                "subclass ng.train.Callback or use ng.train.LambdaCallback"
            )
    return list(callbacks)


def check_monitors(callbacks: list, metrics: Sequence[str], validation: bool, who: str = "fit") -> None:
    """Each ``EarlyStopping`` (and ``ModelCheckpoint(save_best_only=True)``, an ``LRSchedulerCallback`` of a
    ``ReduceLROnPlateau``) watches a value the epochs log —
    ``loss`` and the ``metrics``, and with validation data ``val_loss`` and ``val_<metric>`` — refused before the
    first batch otherwise (else a run trains an epoch before it fails, or never saves)."""
    logged = ["loss", *metrics] + (["val_loss", *(f"val_{m}" for m in metrics)] if validation else [])
    for i, cb in enumerate(callbacks):
        watching = (isinstance(cb, EarlyStopping) or (isinstance(cb, ModelCheckpoint) and cb.save_best_only)
                    or (isinstance(cb, LRSchedulerCallback) and cb.monitor is not None))  # fmt: skip
        if watching and cb.monitor not in logged:
            hint = " pass validation_data=(X_val, y_val), or" if cb.monitor.startswith("val_") and not validation else ""
            raise ValueError(
                f"{who}: callbacks[{i}] ({type(cb).__name__}) monitors {cb.monitor!r}, which this run does not log "
                f"(it logs {logged});{hint} give monitor= one of those"
            )


def check_metrics(metrics, who: str = "fit") -> list[str]:
    """The metric names as a list, each once (``None`` is none, as Keras's default).  A name given twice would be
    summed twice into one log entry (an accuracy of 1.1), and a generator would be used up by this check, leaving
    the run with no metrics: both are read once here, into the list the run then uses."""
    if metrics is None:
        return []
    if isinstance(metrics, str):
        raise TypeError(f"{who}: metrics must be a list of names, got the string {metrics!r}; write metrics=[{metrics!r}]")
    try:
        names = list(metrics)
    except TypeError:
        raise TypeError(f"{who}: metrics must be a list of names such as ['accuracy'], got {metrics!r}") from None
    odd = [m for m in names if not isinstance(m, str)]
    if odd:
        raise TypeError(f"{who}: metrics must be names (strings) such as 'accuracy', got {odd[0]!r}; "
                        f"choose from {sorted(TRAINING_METRICS)}")  # fmt: skip
    unknown = [m for m in names if m not in TRAINING_METRICS]
    if unknown:
        raise ValueError(f"{who}: unknown metrics {unknown}; choose from {sorted(TRAINING_METRICS)}")
    return list(dict.fromkeys(names))


def check_options(*, epochs, batch_size, sampling, metrics: Sequence[str], ema_lambda, clip_grad_norm, l1, l2,
                  weight_tol, loss_tol, target_loss, checkpoint_every, flags: dict | None = None,
                  who: str = "fit") -> None:  # fmt: skip
    """Every scalar option of ``fit`` (``flags``: name -> a True/False option; ``progress`` also takes "always")."""
    for name, v in (flags or {}).items():
        check_flag(name, v, who, also=("always",) if name == "progress" else ())
    check_int("epochs", epochs, 0, who)
    check_int("batch_size", batch_size, 1, who, allow_none=True)
    check_int("checkpoint_every", checkpoint_every, 1, who, allow_none=True)
    if not isinstance(sampling, str) or sampling not in SAMPLING:
        raise ValueError(f"{who}: sampling must be one of {SAMPLING}, got {sampling!r}")
    check_metrics(metrics, who)
    check_real("ema_lambda", ema_lambda, 0.0, who, strict=True)
    if ema_lambda > 1:
        raise ValueError(f"{who}: ema_lambda must lie in (0, 1], got {ema_lambda}")
    check_real("clip_grad_norm", clip_grad_norm, 0.0, who, allow_none=True, strict=True)
    check_real("l1", l1, 0.0, who)
    check_real("l2", l2, 0.0, who)
    check_real("weight_tol", weight_tol, 0.0, who, allow_none=True)
    check_real("loss_tol", loss_tol, -np.inf, who, allow_none=True)
    if target_loss is not None and (not is_real(target_loss) or math.isnan(target_loss)):
        raise TypeError(f"{who}: target_loss must be a number, got {target_loss!r}")
