"""The pieces every loss shares: the reductions, the target check, the float check (imported by
:mod:`.functional` and the loss modules beside it, so none of them imports another in a cycle)."""

from __future__ import annotations

import numpy as np

from ..autodiff import Tensor, as_tensor
from ..autodiff.errors import InputError
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


def _raw(target):
    """A target's array: a tensor's data, another library's array as it is, else a NumPy array."""
    if isinstance(target, Tensor):
        return target.data
    return target if namespace_of(target) is not NUMPY else np.asarray(target)


REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction: str, who: str = "loss") -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{who}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def reduce(loss: Tensor, reduction: str) -> Tensor:
    """The per-example losses averaged (mean), added (sum) or kept (none)."""
    _check_reduction(reduction)
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
