"""``gradcheck``: analytic derivatives against central finite differences in float64.

Numeric derivative: ``∂f_j/∂x_i ≈ (f_j(x + ε e_i) − f_j(x − ε e_i)) / 2ε`` (error O(ε²)).
Both the reverse-mode Jacobian (VJP rules) and the forward-mode one (JVP rules) are checked.
The perturbations are made on the host in float64; ``f`` runs on each input's device (host data
goes to the default device, as ``ng.tensor`` puts it) and its outputs are copied back to compare.
Only floating-point inputs are checked, as torch.autograd.gradcheck checks its floating inputs:
integer and bool ones (indices, masks) and anything else are passed to ``f`` as given, unperturbed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from ..backend.device import CPU, Device, device_of, to_device
from ..backend.namespace import NUMPY, namespace_of
from .grad_mode import no_grad
from .ops import concatenate, reshape
from .pytree import tree_flatten
from .tensor import Tensor, as_tensor, tensor
from .transforms import jacfwd, jacrev


class GradcheckError(AssertionError):
    """Analytic and numeric derivatives disagree; the message lists the worst entries."""


class AsGiven(NamedTuple):
    """An input ``f`` receives as it is (an index, a mask): never perturbed nor converted."""

    value: object


def numeric_jacobian(
    f: Callable, inputs: list[np.ndarray], argnum: int, eps: float, devices: list[Device | None] | None = None
) -> np.ndarray:
    """Central differences of ``f`` in input ``argnum`` (host float64 arrays; an :class:`AsGiven` input is
    passed unchanged), as a host array of shape ``output shape + input shape``; input ``i`` is placed on
    ``devices[i]`` (None: the default device)."""
    x = inputs[argnum]
    cols = []
    for i in range(x.size):
        plus, minus = x.copy(), x.copy()
        plus.flat[i] += eps
        minus.flat[i] -= eps
        with no_grad():
            fp = _call(f, inputs, argnum, plus, devices)
            fm = _call(f, inputs, argnum, minus, devices)
        cols.append(((fp - fm) / (2 * eps)).reshape(-1))
    out_shape = np.shape(fp)
    return np.stack(cols, axis=-1).reshape(out_shape + x.shape)


def _placed(inputs: list, devices: list[Device | None] | None) -> list:
    """The host inputs as tensors on their devices (None: the default device); an :class:`AsGiven` one as given."""
    return [a.value if isinstance(a, AsGiven) else tensor(a, device=None if devices is None else devices[i])
            for i, a in enumerate(inputs)]  # fmt: skip


def _floating(x) -> bool:
    """Whether ``x`` holds floating-point numbers (a tensor, an array of any library, a number, a list)."""
    if isinstance(x, Tensor):
        return x.dtype.kind == "f"
    if hasattr(x, "dtype"):
        return namespace_of(x).numpy_dtype(x.dtype).kind == "f"
    try:
        return np.asarray(x).dtype.kind == "f"
    except ValueError:  # a ragged list, say: not an array of numbers
        return False


def _host(out) -> np.ndarray:
    """A float64 host copy of ``f``'s output (a tensor, an array of any device, a number)."""
    return np.array(to_device(out.data if isinstance(out, Tensor) else out, CPU), dtype=np.float64)


def _device(x) -> Device | None:
    """Where an input of ``gradcheck`` runs: a tensor's or a device array's device; host data
    (lists, NumPy arrays) None, for the default device."""
    if isinstance(x, Tensor):
        return x.device
    return None if namespace_of(x) is NUMPY else device_of(x)


def _call(f, inputs, argnum, x, devices) -> np.ndarray:
    return _host(f(*_placed([x if i == argnum else a for i, a in enumerate(inputs)], devices)))


def _float_outputs(f: Callable, arrays: list, devices: list) -> Callable:
    """``f`` reduced to what gradcheck compares: its one output, or — for a tuple/list/dict of outputs (as
    torch.autograd.gradcheck takes) — its floating-point output leaves flattened and joined end to end
    (integer and boolean outputs, an argmax or a mask, have no derivative and are left out, as torch does)."""
    with no_grad():
        leaves, tree = tree_flatten(f(*_placed(arrays, devices)))
    if tree.kind == "leaf":
        return f
    keep = [i for i, o in enumerate(leaves) if _floating(o)]
    if not keep:
        raise ValueError("gradcheck: f returns no floating-point output to differentiate; return at least one float")

    def joined(*args):
        outs = tree_flatten(f(*args))[0]
        return concatenate([reshape(as_tensor(outs[i]), (-1,)) for i in keep])

    return joined


def gradcheck(
    f: Callable,
    *inputs,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    modes: tuple[str, ...] = ("reverse", "forward"),
    raise_exception: bool = True,
) -> bool:
    """True when every analytic Jacobian entry matches central differences; raises otherwise (returns False
    instead with ``raise_exception=False``, PyTorch's keyword).

    The Jacobians are taken in each floating-point input; integer and bool inputs (indices, masks)
    and non-numeric ones are passed to ``f`` unchanged, as torch.autograd.gradcheck does.  PyTorch's
    form ``gradcheck(f, (x, y))`` — one tuple of tensors or arrays — means ``gradcheck(f, x, y)``; ``f``
    may return a tuple (list, dict) of outputs: every floating-point one is checked."""
    if len(inputs) == 1 and isinstance(inputs[0], tuple) and inputs[0] and any(
        isinstance(x, Tensor) or hasattr(x, "shape") for x in inputs[0]
    ):  # fmt: skip
        inputs = inputs[0]
    checked = [_floating(x) for x in inputs]
    if not any(checked):
        dtypes = [str(getattr(x, "dtype", type(x).__name__)) for x in inputs]
        raise ValueError(f"gradcheck: no floating-point input to differentiate in (got {dtypes}); pass at least "
                         "one float input, e.g. x.double()")  # fmt: skip
    devices = [_device(x) if c else None for x, c in zip(inputs, checked)]
    arrays = [_host(x) if c else AsGiven(x) for x, c in zip(inputs, checked)]
    f = _float_outputs(f, arrays, devices)
    problems = []
    for argnum in (i for i, c in enumerate(checked) if c):
        numeric = numeric_jacobian(f, arrays, argnum, eps, devices)
        for mode in modes:
            jac = (jacrev if mode == "reverse" else jacfwd)(f, argnums=argnum)
            analytic = _host(jac(*_placed(arrays, devices)))
            if analytic.shape != numeric.shape:
                raise GradcheckError(f"gradcheck: {mode} Jacobian has shape {analytic.shape}, numeric {numeric.shape}")
            err = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
            if np.any(err > 0) or not np.all(np.isfinite(analytic)):
                worst = np.argsort(-np.nan_to_num(err, nan=np.inf), axis=None)[:5]
                for flat in worst:
                    idx = np.unravel_index(flat, err.shape)
                    if err[idx] > 0 or not np.isfinite(analytic[idx]):
                        problems.append(
                            f"  input {argnum}, {mode} mode, Jacobian index {tuple(int(i) for i in idx)}: "
                            f"analytic {analytic[idx]:.10g}, numeric {numeric[idx]:.10g}"
                        )
    if problems:
        if not raise_exception:
            return False
        raise GradcheckError("gradcheck failed; worst entries:\n" + "\n".join(problems))
    return True
