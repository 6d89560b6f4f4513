"""The pieces every loss shares: the reductions, the target check, the float check, and the argument checks the
layers share too (imported by :mod:`.functional`, the loss modules and the layers beside it, so none of them imports
another in a cycle)."""

from __future__ import annotations

import numpy as np

from ..autodiff import Tensor, as_tensor
from ..autodiff.errors import InputError
from ..backend.checks import is_int, is_real
from ..backend.device import device as backend_device
from ..backend.device import to_device
from ..backend.namespace import NUMPY, namespace_of


class LabelError(InputError, IndexError):
    """A class label outside ``[0, C)`` (and not ``ignore_index``): PyTorch's ``cross_entropy`` and ``nll_loss``
    raise ``IndexError`` ("Target 4 is out of bounds"); a ``ValueError`` too, as every refused input here."""


class LabelTypeError(TypeError, RuntimeError):
    """Labels that are not integers: PyTorch raises ``RuntimeError`` ("expected target dtype to be Long"); a
    ``TypeError`` here, as the library's other refusals of a dtype."""


def _float(x, who: str) -> Tensor:
    """``x`` as a tensor; integers refused (PyTorch's activations take floating-point input only)."""
    x = as_tensor(x)
    if x.dtype.kind not in "fc":
        raise TypeError(f"{who}: expected a floating-point tensor, got {x.dtype}; convert it first, e.g. x.astype('float32')")
    return x


def _raw(target, who: str = "loss"):
    """A target's array: a tensor's data, another library's array as it is, else a NumPy array (ragged nested
    lists refused naming ``who``: NumPy's own message names neither the loss nor the fix)."""
    if isinstance(target, Tensor):
        return target.data
    if namespace_of(target) is not NUMPY:
        return target
    try:
        return np.asarray(target)
    except ValueError as e:
        raise InputError(f"{who}: the target cannot form an array ({e}); give an array or equal-length nested "
                         "lists") from None  # fmt: skip


def number(who: str, name: str, value) -> float:
    """``value`` as a float, refused (naming ``who``'s argument ``name``) unless it is a real number that is not a
    bool, as PyTorch's ``must be float, not str`` — ``float("abc")`` or ``None > 0`` would name neither."""
    if not is_real(value):
        raise TypeError(f"{who}: {name} must be a real number, got {type(value).__name__} {value!r}")
    try:
        return float(value)
    except OverflowError:  # a Python int beyond float's range
        raise ValueError(f"{who}: {name}={value!r} is too large for a float") from None


def integer(who: str, name: str, value) -> int:
    """``value`` as an int, refused unless it is an integer that is not a bool (PyTorch's ``must be int``)."""
    if not is_int(value):
        raise TypeError(f"{who}: {name} must be an integer, got {type(value).__name__} {value!r}")
    return int(value)


def choice(who: str, name: str, value, choices: tuple[str, ...]) -> str:
    """``value`` if it is one of the strings ``choices``; anything else refused naming them (an array would
    otherwise reach ``in`` and raise NumPy's "truth value of an array is ambiguous")."""
    if not isinstance(value, str) or value not in choices:
        kind = ValueError if isinstance(value, str) else TypeError
        raise kind(f"{who}: {name} must be one of {choices}, got {value!r}")
    return value


def device_arg(who: str, device):
    """A layer's ``device=`` (PyTorch's keyword) as a ``Device``, or None for the default; a bad one refused
    naming the layer, before the layer draws anything (a refused construction leaves the random stream as it was)."""
    if device is None:
        return None
    try:
        return backend_device(device)
    except (TypeError, ValueError) as e:
        raise type(e)(f"{who}: {e}") from None


REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction: str, who: str = "loss") -> None:
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        # PyTorch's losses take weight (or size_average) right after the target; here that place is reduction's
        shown = f"a {type(reduction).__name__} of shape {np.shape(reduction)}" if hasattr(reduction, "shape") else repr(reduction)
        hint = "" if isinstance(reduction, str | None) else "; the argument after the target is reduction here: name weight="
        raise ValueError(f"{who}: reduction must be one of {REDUCTIONS}, got {shown}{hint}")


def reduce(loss: Tensor, reduction: str) -> Tensor:
    """The per-example losses averaged (mean), added (sum) or kept (none)."""
    _check_reduction(reduction)
    if not isinstance(loss, Tensor):
        raise TypeError(f"reduce: loss must be a tensor of per-example losses, got {type(loss).__name__}; "
                        "wrap it with ng.tensor(...)")  # fmt: skip
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def _target_like(pred: Tensor, target, who: str) -> Tensor:
    """``target`` as a tensor of ``pred``'s dtype, refused unless it has ``pred``'s shape.

    Not even size-1 axes are reshaped: a target of shape (N,) for predictions (N, 1) is refused, as
    PyTorch's BCE refuses it (PyTorch's MSE broadcasts the two to (N, N) with a warning, which is
    never what was meant)."""
    def refuse(dtype) -> TypeError:
        return TypeError(f"{who}: the target must be a numeric array of shape {pred.shape}, got {type(target).__name__} "
                         f"({dtype})")  # fmt: skip

    if isinstance(target, Tensor):
        t = target
    else:
        try:
            t = as_tensor(to_device(target, pred.device), device=pred.device)
        except TypeError as e:  # strings, None, objects: no tensor holds them (the chained error names the dtype)
            raise refuse("not numbers") from e
        except ValueError as e:  # ragged nested lists: NumPy's message names neither the loss nor the shape wanted
            raise InputError(f"{who}: the target cannot form an array of shape {pred.shape} ({e})") from None
    if t.dtype.kind not in "fiub":
        raise refuse(t.dtype)
    if t.dtype != pred.dtype:
        t = t.astype(pred.dtype)
    if t.shape != pred.shape:
        only_size_one = [d for d in t.shape if d != 1] == [d for d in pred.shape if d != 1]
        fix = (f"reshape the target with y.reshape{pred.shape}" if only_size_one else
               f"give a target of shape {pred.shape}")  # fmt: skip
        raise InputError(
            f"{who}: prediction has shape {pred.shape} but target has shape {t.shape}; {fix} (they are neither "
            "reshaped nor broadcast into each other: that would pair the wrong elements)"
        )
    return t
