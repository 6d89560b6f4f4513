"""PyTorch's names for computations nablagrad already has: each one line of existing ops (so each has every
rule — VJP, JVP, batching — through those ops; operators and methods are bound by :mod:`.api`, which imports
this module), checked against torch in tests/autodiff/test_torch_name_compositions.py."""

from __future__ import annotations

import math

import numpy as np

from .creation import zeros
from .mode import enable_grad, no_grad
from .ops import broadcast_to, getitem, where
from .primitive import function
from .tensor import Tensor, as_tensor

__all__ = [
    "allclose", "bmm", "count_nonzero", "empty", "equal", "from_numpy", "inference_mode", "isfinite", "isinf",
    "isnan", "lerp", "logical_and", "logical_not", "logical_or", "logical_xor", "masked_select", "meshgrid", "mm",
    "mv", "nan_to_num", "rsqrt", "set_grad_enabled",
]  # fmt: skip


def _t(x) -> Tensor:
    return x if isinstance(x, Tensor) else as_tensor(np.asarray(x))


def _operands(who: str, x, y, ranks: tuple[int, int], names: tuple[str, str]) -> tuple[Tensor, Tensor]:
    """``x`` and ``y`` as tensors of the ranks a PyTorch product name takes, else a ValueError naming it."""
    x, y = _t(x), _t(y)
    for t, rank, name in zip((x, y), ranks, names):
        if t.ndim != rank:
            raise ValueError(f"{who}: {name} must be {rank}-D, got shape {t.shape}; use matmul for other shapes")
    return x, y


@function()
def mm(x, y):
    """PyTorch's ``mm``: the product of two matrices, (n, k) @ (k, m)."""
    x, y = _operands("mm", x, y, (2, 2), ("the first matrix", "the second matrix"))
    return x @ y


@function()
def bmm(x, y):
    """PyTorch's ``bmm``: a batch of matrix products, (b, n, k) @ (b, k, m)."""
    x, y = _operands("bmm", x, y, (3, 3), ("the first batch", "the second batch"))
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"bmm: batches of {x.shape[0]} and {y.shape[0]} matrices; give both the same batch size")
    return x @ y


@function()
def mv(x, v):
    """PyTorch's ``mv``: a matrix times a vector, (n, k) @ (k,)."""
    x, v = _operands("mv", x, v, (2, 1), ("the matrix", "the vector"))
    return x @ v


@function()
def isnan(x):
    """``x ≠ x``: True where x is NaN (a boolean tensor, no gradient)."""
    x = _t(x)
    return x != x


@function()
def isinf(x):
    """``|x| = ∞``: True where x is +∞ or −∞."""
    x = _t(x)
    return abs(x) == math.inf


@function()
def isfinite(x):
    """``|x| < ∞``: True where x is neither ±∞ nor NaN."""
    x = _t(x)
    return abs(x) < math.inf if x.dtype.kind in "fc" else x == x


@function()
def nan_to_num(x, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None):
    """NaN → ``nan``, +∞ → ``posinf``, −∞ → ``neginf`` (by default the dtype's largest and smallest finite
    values, PyTorch's); the gradient passes where x was finite."""
    x = _t(x)
    if x.dtype.kind not in "fc":
        return x
    info = np.finfo(x.dtype)
    hi = float(info.max) if posinf is None else posinf
    lo = float(info.min) if neginf is None else neginf
    return where(x != x, nan, where(x == math.inf, hi, where(x == -math.inf, lo, x)))


@function()
def rsqrt(x):
    """``1/√x``."""
    return 1.0 / _t(x).sqrt()


@function()
def lerp(start, end, weight):
    """PyTorch's ``lerp``: ``start + weight·(end − start)``; differentiable in all three."""
    start = _t(start)
    return start + weight * (_t(end) - start)


def _truth(x):
    x = _t(x)
    return x if x.dtype.kind == "b" else x != 0


@function()
def logical_not(x):
    """True where x is zero (False)."""
    return ~_truth(x)


@function()
def logical_and(x, y):
    """True where both are nonzero."""
    return where(_truth(x), _truth(y), False)


@function()
def logical_or(x, y):
    """True where either is nonzero."""
    return where(_truth(x), True, _truth(y))


@function()
def logical_xor(x, y):
    """True where exactly one is nonzero."""
    return _truth(x) != _truth(y)


@function()
def count_nonzero(x, dim=None):
    """The number of nonzero entries (along ``dim``: an int or a tuple), an int64 tensor."""
    return _truth(x).astype(np.int64).sum(axis=dim)


@function()
def masked_select(x, mask):
    """The entries of ``x`` where the boolean ``mask`` (broadcast against x) holds, as a 1-D tensor; the
    gradient goes back to those entries."""
    x, mask = _t(x), _t(mask)
    if mask.dtype.kind != "b":
        raise TypeError(f"masked_select: the mask must be boolean, got {mask.dtype}; compare first, e.g. x > 0")
    shape = np.broadcast_shapes(x.shape, mask.shape)
    x = x if x.shape == shape else broadcast_to(x, shape)
    return getitem(x, np.broadcast_to(mask.numpy(), shape))


@function()
def allclose(x, y, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> bool:
    """``|x − y| ≤ atol + rtol·|y|`` everywhere (a Python bool, PyTorch's and NumPy's rule)."""
    return bool(np.allclose(_t(x).numpy(), _t(y).numpy(), rtol=rtol, atol=atol, equal_nan=equal_nan))


@function()
def equal(x, y) -> bool:
    """The same shape and the same values (a Python bool, PyTorch's ``equal``)."""
    x, y = _t(x), _t(y)
    return x.shape == y.shape and bool(np.array_equal(x.numpy(), y.numpy()))


@function(method=False)
def empty(*shape, dtype=None, device=None, requires_grad: bool = False):
    """PyTorch's ``empty``: a tensor of ``shape`` (here filled with zeros, so nothing uninitialised is ever read)."""
    return zeros(*shape, dtype=dtype, device=device, requires_grad=requires_grad)


@function(method=False)
def from_numpy(a: np.ndarray):
    """PyTorch's ``from_numpy``: a tensor sharing the NumPy array's memory (a write to one is seen by the other)."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"from_numpy: expected a NumPy array, got {type(a).__name__}; use ng.tensor(...) for other data")
    return as_tensor(a)


@function(method=False)
def meshgrid(*tensors, indexing: str = "ij"):
    """PyTorch's ``meshgrid``: one tensor per input, each varying along its own axis (``"ij"``, PyTorch's default,
    or ``"xy"``, NumPy's); differentiable."""
    ts = [_t(t) for t in (tensors[0] if len(tensors) == 1 and isinstance(tensors[0], list | tuple) else tensors)]
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    for t in ts:
        if t.ndim != 1:
            raise ValueError(f"meshgrid: every input must be 1-D, got shape {t.shape}")
    order = list(range(len(ts)))
    if indexing == "xy" and len(ts) >= 2:
        order[0], order[1] = 1, 0
    shape = tuple(ts[i].shape[0] for i in order)
    out = []
    for k, t in enumerate(ts):
        axis = order.index(k)
        out.append(broadcast_to(t.reshape(tuple(-1 if a == axis else 1 for a in range(len(ts)))), shape))
    return tuple(out)


class set_grad_enabled:  # noqa: N801 - PyTorch's name
    """PyTorch's ``set_grad_enabled(mode)``: as a context manager, gradients on or off inside the block."""

    def __init__(self, mode: bool):
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled: mode must be True or False, got {mode!r}")
        self._block = enable_grad() if mode else no_grad()

    def __enter__(self):
        return self._block.__enter__()

    def __exit__(self, *exc):
        return self._block.__exit__(*exc)


def inference_mode(mode: bool = True):
    """PyTorch's ``inference_mode``: here :func:`no_grad` (nothing is recorded inside)."""
    return no_grad() if mode else enable_grad()
