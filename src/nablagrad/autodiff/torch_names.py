"""PyTorch's names for computations nablagrad already has: each one line of existing ops (so each has every
rule — VJP, JVP, batching — through those ops; operators and methods are bound by :mod:`.api`, which imports
this module), checked against torch in tests/autodiff/test_torch_name_compositions.py."""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple

import numpy as np

from ..backend.checks import is_int
from ..backend.namespace import namespace_of
from .creation import zeros
from .grad_mode import inference_mode, no_grad, set_grad_enabled
from .linalg import slogdet
from .ops import _promote, axis_of, broadcast_to, floating, getitem, unindex, where
from .primitive import function, row
from .rules import floating_only
from .rules_shape import _along, _ax, _index_array, diagonal
from .tensor import Tensor, as_tensor, guard, tensor

__all__ = [
    "absolute", "addcdiv", "addcmul", "allclose", "aminmax", "argwhere", "bmm", "broadcast_tensors", "corrcoef",
    "count_nonzero", "cov", "deg2rad", "empty", "equal", "fix", "fliplr", "flipud", "fmax", "fmin", "frac", "from_numpy",
    "index_add", "inference_mode", "isclose", "isfinite", "isinf", "isnan", "isneginf", "isposinf", "lerp", "logdet",
    "logical_and", "logical_not", "logical_or", "logical_xor", "logit", "masked_select", "meshgrid", "mm", "mv",
    "nan_to_num", "nanmean", "nansum", "negative", "nonzero", "positive", "rad2deg", "rsqrt", "select",
    "set_grad_enabled", "sgn", "std_mean", "var_mean", "xlogy",
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
    """``1/√x`` (∞ at 0, silently as PyTorch's)."""
    return _t(x).sqrt().reciprocal()


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
    """The number of nonzero entries (along ``dim``: an int or a tuple; every entry when None or empty, as
    PyTorch's), an int64 tensor."""
    return _truth(x).astype(np.int64).sum(axis=axis_of(None, dim))


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


def _index_add_source(x: Tensor, dim: int, count: int, source: Tensor) -> None:
    """index_add's source: x's dtype, and x's shape with ``count`` (the number of indices) along ``dim``."""
    if source.dtype != x.dtype:
        raise TypeError(f"index_add: x is {x.dtype} and source is {source.dtype}; give both the same dtype (as PyTorch), "
                        f"e.g. source.astype({str(x.dtype)!r})")  # fmt: skip
    if not x.ndim and count != 1:
        raise IndexError(f"index_add: a 0-d x takes exactly one index (0), got {count}; give e.g. index=[0]")
    want = x.shape[:dim] + (count,) + x.shape[dim + 1 :] if x.ndim else ()
    if source.shape != want:
        raise ValueError(f"index_add: source of shape {source.shape} must be x's shape {x.shape} with the number of "
                         f"indices ({count}) along dim {dim}: {want}")  # fmt: skip


@function()
def index_add(x, dim: int, index, source, *, alpha=1):
    """PyTorch's index_add: ``out = x`` with ``out[…, index[k], …] += alpha · source[…, k, …]`` along ``dim``
    (``index`` 1-D, int64 or int32; repeated indices accumulate).  Gradient: g for x, alpha · g[…, index, …]
    (index_select) for source."""
    x, source = _t(x), _t(source)
    dim = _ax("index_add", dim, x.ndim)
    idx = _index_array("index_add", index, x, dim)
    batched = isinstance(idx, Tensor)  # an index vmap batches stays a tensor (each example's own)
    xp = None if batched else namespace_of(idx)
    dtype = idx.dtype if batched else xp.numpy_dtype(idx.dtype)
    if dtype not in (np.int32, np.int64):
        raise TypeError(f"index_add: the index must be int64 or int32 (PyTorch's rule), got {dtype}; "
                        "convert it, e.g. index.astype('int64')")  # fmt: skip
    if idx.ndim > 1:
        raise ValueError(f"index_add: the index must be 1-D, got shape {tuple(idx.shape)}; flatten it, e.g. index.reshape(-1)")
    # (the index array itself where 1-D: ng.jit finds an input's by identity)
    flat = idx if idx.ndim == 1 else idx.reshape(-1) if batched else xp.reshape(idx, (-1,))
    _index_add_source(x, dim, int(flat.shape[0]), source)
    if isinstance(alpha, bool) or not isinstance(alpha, int | float | np.integer | np.floating):
        raise TypeError(f"index_add: alpha must be a number, got {alpha!r}")
    if x.dtype.kind in "iub" and not is_int(alpha):
        raise TypeError(f"index_add: for an integer x alpha must be an integer (as for add), got {alpha!r}; "
                        "convert x to floats first, e.g. x.double()")  # fmt: skip
    if x.dtype.kind == "b":  # PyTorch's: a logical or (counted in integers: no library scatter-adds bools)
        return index_add(x.astype(np.int64), dim, index, source.astype(np.int64), alpha=alpha) != 0
    scaled = source if alpha == 1 else source * alpha
    if not x.ndim:  # PyTorch's: a 0-d x takes one index (0) and a 0-d source
        return x + guard(unindex(scaled.reshape(1), (flat,), (1,)), index).reshape(())
    return x + guard(unindex(scaled, _along(dim, flat, x.ndim), x.shape), index)


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


# --- comparisons by name: x.eq(y), ng.lt(x, y) … (the operators ==, < …: boolean, outside the graph) ------------
_COMPARISONS = {"eq": "__eq__", "ne": "__ne__", "lt": "__lt__", "le": "__le__", "gt": "__gt__", "ge": "__ge__"}
_COMPARISON_ALIASES = {"not_equal": "ne", "less": "lt", "less_equal": "le", "greater": "gt", "greater_equal": "ge"}


def _comparison(name: str, dunder: str):
    def compare(x, other):
        out = getattr(_t(x), dunder)(other)
        if out is NotImplemented:  # (the operator's answer to None, a string …: Python then tries the reflection)
            raise TypeError(f"{name}: cannot compare a tensor with {type(other).__name__} {other!r:.40}; give a "
                            "tensor, an array or a number")  # fmt: skip
        return out

    compare.__name__ = compare.__qualname__ = name
    compare.__doc__ = f"PyTorch's ``{name}``: ``x {dunder}`` other as a boolean tensor (no gradient)."
    return compare


for _name, _dunder in {**_COMPARISONS, **{a: _COMPARISONS[n] for a, n in _COMPARISON_ALIASES.items()}}.items():
    row(_name, None, "function", f"PyTorch's ``{_name}``: the comparison ``{_dunder}`` as a boolean tensor (no gradient).",
        fn=_comparison(_name, _dunder))  # fmt: skip


# --- one-line compositions of existing ops under PyTorch's names ------------------------------------------------
@function()
def negative(x):
    """PyTorch's ``negative``: −x."""
    return -_t(x)


@function()
def positive(x):
    """PyTorch's ``positive`` (and ``+x``): x itself."""
    return _t(x)


@function()
def absolute(x):
    """PyTorch's ``absolute``: |x| (``abs``)."""
    return abs(_t(x))


@function()
def fix(x):
    """PyTorch's ``fix``: x rounded toward 0 (``trunc``); derivative 0."""
    return _t(x).trunc()


@function()
def frac(x):
    """PyTorch's ``frac``: x − trunc(x), the fractional part with x's sign; derivative 1."""
    x = _t(x)
    return x - x.trunc()


@function()
def deg2rad(x):
    """Degrees to radians: x · π/180."""
    return floating(_t(x)) * (math.pi / 180.0)


@function()
def rad2deg(x):
    """Radians to degrees: x · 180/π."""
    return floating(_t(x)) * (180.0 / math.pi)


@function()
def isposinf(x):
    """``x = +∞`` (a boolean tensor)."""
    return _t(x) == math.inf


@function()
def isneginf(x):
    """``x = −∞`` (a boolean tensor)."""
    return _t(x) == -math.inf


@function()
def addcmul(x, tensor1, tensor2, *, value=1):
    """PyTorch's ``addcmul``: x + value · tensor1 · tensor2."""
    return _t(x) + value * (_t(tensor1) * tensor2)


@function()
def addcdiv(x, tensor1, tensor2, *, value=1):
    """PyTorch's ``addcdiv``: x + value · tensor1 / tensor2."""
    return _t(x) + value * (_t(tensor1) / tensor2)


@function()
def fliplr(x):
    """PyTorch's ``fliplr``: the columns (dim 1) in reverse order; x must be at least 2-D."""
    x = _t(x)
    if x.ndim < 2:
        raise ValueError(f"fliplr: the tensor must be at least 2-D, got shape {x.shape}; use flip(x, 0) for a vector")
    return x.flip(1)


@function()
def flipud(x):
    """PyTorch's ``flipud``: the rows (dim 0) in reverse order; x must be at least 1-D."""
    x = _t(x)
    if x.ndim < 1:
        raise ValueError("flipud: the tensor must be at least 1-D, got a 0-d tensor; reshape it first, e.g. x.reshape(1)")
    return x.flip(0)


@function()
def adjoint(x):
    """PyTorch's ``adjoint``: the conjugate transpose of the last two dims, ``x.mH`` — for real tensors ``x.mT``."""
    return _t(x).mH


@function()
def renorm(x, p, dim: int, maxnorm):
    """PyTorch's ``renorm``: each slice ``x.select(dim, i)`` whose p-norm ‖x_i‖_p exceeds ``maxnorm`` scaled down to
    it, x_i · maxnorm / (‖x_i‖_p + 10⁻⁷) (PyTorch's guard), the others as they are.  A composite: the gradient
    includes the norm's, as PyTorch's."""
    x = _t(x)
    if x.ndim < 2:
        raise ValueError(f"renorm: needs a tensor of at least 2 dims, got shape {x.shape}; each slice along dim is one vector")
    if not isinstance(p, int | float) or isinstance(p, bool) or not p > 0:  # (not p > 0: NaN too)
        raise ValueError(f"renorm: p must be a positive number (math.inf for the max-norm), got {p!r}")
    if maxnorm < 0:
        raise ValueError(f"renorm: maxnorm must be non-negative, got {maxnorm!r}")
    d = _ax("renorm", dim, x.ndim)
    others = tuple(i for i in range(x.ndim) if i != d)
    if p == math.inf:  # ‖x_i‖_∞ = max |x_ij|
        norms = abs(x).amax(axis=others, keepdims=True)
    else:
        norms = (abs(x) ** p).sum(axis=others, keepdims=True) ** (1.0 / p)
    return x * where(norms > maxnorm, maxnorm / (norms + 1e-7), 1.0)


@function()
def nansum(x, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    """Σ x over ``dim`` with NaNs counted as 0 (PyTorch's and NumPy's ``nansum``); gradient 1, and 0 at the NaNs."""
    x = _t(x)
    if dtype is not None:
        x = x.astype(dtype)
    axis = axis_of(None, dim) if axis is None else axis  # PyTorch's dim (an empty one: every dim), or NumPy's axis
    return where(x != x, 0, x).sum(axis=axis, keepdims=keepdim if keepdims is None else keepdims)


@function()
def nanmean(x, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    """The mean over ``dim`` of the entries that are not NaN, nansum(x) / #(x ≠ NaN) (nan where all are NaN,
    PyTorch's); gradient 1/#(x ≠ NaN), 0 at the NaNs (0 too in an all-NaN slice, where PyTorch's is NaN).
    Floating point only, as PyTorch: ``x.float().nanmean()``."""
    x = _t(x)
    if dtype is not None:
        x = x.astype(dtype)
    floating_only("nanmean", x)
    axis, keep = axis_of(None, dim) if axis is None else axis, keepdim if keepdims is None else keepdims
    count = (x == x).astype(x.dtype).sum(axis=axis, keepdims=keep)
    return nansum(x, axis=axis, keepdims=keep) / count


@function()
def xlogy(x, y):
    """PyTorch's ``xlogy``: x · log y, and 0 where x = 0 (unless y is NaN) — as x · log y′ with y′ = 1 where
    x = 0 and y ≤ 0 or y = ∞ (so no 0 · (±∞) is ever formed, in the value or a derivative).  ∂/∂x = log y (0 where
    x = 0 and y ≤ 0, PyTorch's), ∂/∂y = x/y; where x = 0 and y = 0 or ∞ both are 0 (PyTorch: nan for ∂/∂y at
    y = 0, ∞ for ∂/∂x at y = ∞).  Integers are computed in the default float dtype."""
    # PyTorch's dtype (a number or 0-d tensor is weak; an integer meets a float in the float's dtype, float16 too)
    if not isinstance(x, Tensor) and not isinstance(y, Tensor):
        x = _t(x)
    x, y = _promote(x, y, True)
    t = floating(x if isinstance(x, Tensor) else y)  # a number: a tensor of its dtype, as PyTorch computes it
    x, y = (floating(v) if isinstance(v, Tensor) else tensor(np.asarray(v, t.dtype), device=t.device) for v in (x, y))
    flat = (x == 0) & ((y <= 0) | (y == math.inf))
    return x * where(flat, 0.0, where(flat, 1.0, y).log())


@function()
def logit(x, eps: float | None = None):
    """PyTorch's ``logit``: ``log(z / (1 − z))``, computed as ``log z − log1p(−z)``, with ``z = clamp(x, eps,
    1 − eps)`` when ``eps`` is given (``0 ≤ eps < ½``), else ``z = x`` (±∞ at 1 and 0, NaN outside [0, 1]).
    Derivative ``1/(z(1 − z))``, and 0 where the clamp moved x (at the bounds it passes, as PyTorch's).  Outside
    [0, 1] without ``eps`` the value is NaN, as PyTorch's, but the derivative is finite there (PyTorch's: NaN).
    Integers are computed in the default float dtype."""
    z = floating(_t(x))
    if eps is not None:
        z = z.clamp(eps, 1.0 - eps)
    return z.log() - (-z).log1p()


@function()
def sgn(x):
    """PyTorch's ``sgn``: ``sign(x)`` for real x (−1, 0 or 1; derivative 0); ``x/|x|`` (0 at 0) for complex x."""
    x = _t(x)
    if x.dtype.kind != "c":
        return x.sign()
    size = abs(x)
    return where(size == 0, 0, x / where(size == 0, 1, size))


@function()
def fmax(x, y):
    """PyTorch's ``fmax``: the larger of x and y, ignoring a NaN (the other one where one is NaN, NaN where both
    are): ``where((x ≥ y) | isnan(y), x, y)``.  So the gradient goes to x where x ≥ y (ties too) or y is NaN, and
    to y elsewhere, as PyTorch's.  Dtypes promote as in ``x + y``."""
    x, y = _promote(_t(x), _t(y), False)
    return where((x >= y) | isnan(y), x, y)


@function()
def fmin(x, y):
    """PyTorch's ``fmin``: the smaller of x and y, ignoring a NaN: ``where((x ≤ y) | isnan(y), x, y)``; the
    gradient goes to x where x ≤ y (ties too) or y is NaN, and to y elsewhere, as PyTorch's."""
    x, y = _promote(_t(x), _t(y), False)
    return where((x <= y) | isnan(y), x, y)


def _observation_weights(name: str, w, n: int, kinds: str) -> Tensor:
    """cov's ``fweights`` (integers, ``kinds="iu"``) or ``aweights`` (floats): one non-negative weight per observation."""
    w = _t(w)
    what = "an integer" if kinds == "iu" else "a floating-point"
    if w.ndim > 1:
        raise ValueError(f"cov: {name} must have one or fewer dimensions, got shape {w.shape}; give one weight per "
                         "observation (column of x)")  # fmt: skip
    if w.dtype.kind not in kinds:
        fix = "w.long()" if kinds == "iu" else "w.double()"
        raise TypeError(f"cov: {name} must have {what} dtype, got {w.dtype}; convert it, e.g. {fix}")
    if w.numel() != n:
        raise ValueError(
            f"cov: {name} has {w.numel()} entries but x has {n} observations (columns); give one weight per observation"
        )
    if n and bool((w < 0).any()):
        raise ValueError(f"cov: {name} cannot be negative; give weights >= 0")
    return w


def _cov(who: str, x, correction, fweights, aweights) -> Tensor:
    x = _t(x)
    if x.ndim > 2:
        raise ValueError(f"{who}: x must be 1-D or 2-D (variables in rows, observations in columns), got shape {x.shape}; "
                         "reshape it, e.g. x.reshape(x.shape[0], -1)")  # fmt: skip
    if x.dtype.kind == "b":
        raise TypeError(f"{who}: bool tensors are not supported; convert x first, e.g. x.float()")
    rows = x.reshape(1, -1) if x.ndim < 2 else x
    n = rows.shape[1]
    w = None if fweights is None else _observation_weights("fweights", fweights, n, "iu")
    if aweights is not None:
        a = _observation_weights("aweights", aweights, n, "f")
        w = a if w is None else w * a
    if w is None:
        mean = rows.sum(axis=1, keepdims=True) / n
        norm = n - correction
        low = norm <= 0
    else:
        w_sum = w.sum()
        if float(w_sum) == 0:
            raise ValueError(f"{who}: the weights sum to zero, so they cannot be normalised; give some positive weight")
        mean = (rows * w).sum(axis=1, keepdims=True) / w_sum
        norm = w_sum - (correction * (w * a).sum() / w_sum if aweights is not None and correction != 0 else correction)
        low = float(norm) <= 0
    if low:  # PyTorch warns and divides by 0 (inf, or nan where the sum is 0)
        warnings.warn(f"{who}: degrees of freedom is <= 0 (correction={correction} with {n} observations); correction "
                      "should be strictly less than the number of observations", RuntimeWarning, stacklevel=3)  # fmt: skip
        norm = 0
    centred = rows - mean
    c = centred @ (centred if w is None else centred * w).T
    with np.errstate(divide="ignore", invalid="ignore"):  # (norm 0: warned above)
        return (c / norm).squeeze()


@function()
def cov(x, *, correction: int = 1, fweights=None, aweights=None):
    """PyTorch's ``cov``: the covariance matrix of the variables in the rows of ``x``, its columns being the
    observations (a 1-D ``x`` is one variable: a 0-d result).  With weights ``w = fweights · aweights`` per observation
    (each optional; 1 without), ``x̄_i = Σ_k w_k x_ik / Σw`` and ``C_ij = Σ_k w_k (x_ik − x̄_i)(x_jk − x̄_j) / N`` with
    ``N = Σw − correction · Σ_k w_k a_k / Σw`` given aweights ``a``, else ``N = Σw − correction`` (PyTorch's and
    NumPy's).  N ≤ 0 warns and divides by 0, as PyTorch.  Size-1 dims are squeezed from the result."""
    return _cov("cov", x, correction, fweights, aweights)


@function()
def corrcoef(x):
    """PyTorch's ``corrcoef``: Pearson's correlation matrix of the variables in the rows of ``x``,
    ``R_ij = C_ij / √(C_ii C_jj)`` with ``C = cov(x)``, clipped to [−1, 1]; for a single variable ``C / C`` (1, or NaN
    where C is 0, ∞ or NaN)."""
    c = _cov("corrcoef", x, 1, None, None)
    if c.ndim == 0:
        return c / c
    std = diagonal(c).sqrt()
    return (c / std.reshape(-1, 1) / std.reshape(1, -1)).clip(-1, 1)


@function()
def logdet(x):
    """PyTorch's ``logdet``: ``log det x`` of a square matrix (or a batch of them): ``log |det x|`` where det x > 0,
    −∞ where it is 0 and NaN where it is negative — slogdet's logabsdet where its sign is not −1, PyTorch's own
    composition, so the gradient is ``x⁻ᵀ`` (through slogdet), and 0 where the value is NaN."""
    sign, logabs = slogdet(x)
    return where(sign == -1, math.nan, logabs)


@function()
def select(x, dim: int, index: int):
    """PyTorch's ``select``: the slice of ``x`` at ``index`` along ``dim``, that dim removed (``x[:, index]`` for
    dim 1); a view of x, and the gradient goes back to that slice."""
    x = _t(x)
    if x.ndim == 0:
        raise IndexError("select: cannot select from a 0-d tensor (it has no dims); reshape it first, e.g. x.reshape(1)")
    d = _ax("select", dim, x.ndim)
    size = x.shape[d]
    if not is_int(index) or not -size <= index < size:
        raise IndexError(
            f"select: index {index!r} is out of range for a tensor of shape {tuple(x.shape)} at dim {d} (size {size}); "
            f"give an int in {-size}..{size - 1}"
        )
    return getitem(x, (slice(None),) * d + (int(index),))


@function()
def nonzero(x, *, as_tuple: bool = False):
    """PyTorch's nonzero: the int64 indices of the nonzero entries of ``x``, one row per entry in C order, shape
    (count, x.ndim); ``as_tuple=True`` gives one 1-D tensor per dim instead (NumPy's ``nonzero``, usable as
    ``x[ng.nonzero(x, as_tuple=True)]``).  No gradient; its shape depends on the values, so it is computed on the
    host (as ``unique``)."""
    x = _t(x)
    found = np.argwhere(x.numpy()).astype(np.int64)  # (count, ndim); a 0-d x: (1, 0) or (0, 0), PyTorch's
    if as_tuple:
        columns = found.T if x.ndim else [np.zeros(found.shape[0], np.int64)]  # a 0-d x: as one entry (PyTorch's)
        return tuple(as_tensor(np.ascontiguousarray(c), device=x.device) for c in columns)
    return as_tensor(found, device=x.device)


@function()
def argwhere(x):
    """PyTorch's and NumPy's argwhere: ``nonzero(x)``, the (count, ndim) int64 indices of the nonzero entries."""
    return nonzero(x)


class MinMax(NamedTuple):
    """PyTorch's ``torch.return_types.aminmax``: ``mn, mx = x.aminmax()`` or ``.min`` / ``.max``."""

    min: Tensor
    max: Tensor


@function()
def aminmax(x, *, dim=None, keepdim: bool = False) -> MinMax:
    """PyTorch's aminmax: ``(amin(x, dim), amax(x, dim))`` over ``dim`` (every entry when None), each with
    amin's and amax's gradient (split evenly at ties)."""
    x = _t(x)
    if not x.numel() and (dim is None or not x.shape[_ax("aminmax", dim, x.ndim)]):  # (an empty batch is fine)
        raise ValueError(f"aminmax: the tensor of shape {x.shape} is empty along dim {dim}, so it has no minimum or maximum")
    return MinMax(x.amin(dim=dim, keepdim=keepdim), x.amax(dim=dim, keepdim=keepdim))


def _spread_mean(x, dim, unbiased, keepdim, correction, spread) -> tuple[Tensor, Tensor]:
    x = _t(x)
    if isinstance(dim, bool | np.bool_) and unbiased is None:  # PyTorch's overload std_mean(x, unbiased): every entry
        dim, unbiased = None, dim
    s = spread(x, dim=dim, unbiased=unbiased, keepdim=keepdim, correction=correction)  # dim=(): every dim, as the mean's
    return s, x.mean(dim=dim, keepdim=keepdim)


@function()
def std_mean(x, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """PyTorch's std_mean: ``(x.std(dim, …), x.mean(dim))`` in one call (correction 1, Bessel's, by default)."""
    return _spread_mean(x, dim, unbiased, keepdim, correction, lambda t, *a, **k: t.std(*a, **k))


@function()
def var_mean(x, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """PyTorch's var_mean: ``(x.var(dim, …), x.mean(dim))`` in one call (correction 1, Bessel's, by default)."""
    return _spread_mean(x, dim, unbiased, keepdim, correction, lambda t, *a, **k: t.var(*a, **k))


@function()
def isclose(x, other, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False):
    """PyTorch's isclose, entrywise: ``x = other``, or both finite and ``|x − other| ≤ atol + rtol·|other|``;
    with ``equal_nan`` NaN is close to NaN.  A boolean tensor (no gradient), of the broadcast shape."""
    x, other = _promote(_t(x), other, False)
    other = _t(other) if not isinstance(other, Tensor) else other
    with no_grad(), np.errstate(invalid="ignore", over="ignore"):  # (∞ − ∞ is NaN here: not close, and no warning)
        x, other = x.detach(), other.detach()
        if x.dtype.kind in "biu" and other.dtype.kind in "biu":
            return (x == other) | (abs(floating(x) - floating(other)) <= atol + rtol * abs(floating(other)))
        near = (abs(x - other) <= atol + rtol * abs(other)) & isfinite(x) & isfinite(other)
        out = (x == other) | near
        return out | (isnan(x) & isnan(other)) if equal_nan else out


@function(method=False)
def broadcast_tensors(*tensors):
    """PyTorch's broadcast_tensors: the tensors broadcast to their common shape (views; the gradient of each is
    summed back to its own shape)."""
    ts = [_t(t) for t in (tensors[0] if len(tensors) == 1 and isinstance(tensors[0], list | tuple) else tensors)]
    try:
        shape = np.broadcast_shapes(*(t.shape for t in ts))
    except ValueError:
        raise ValueError(f"broadcast_tensors: shapes {[t.shape for t in ts]} do not broadcast together: each dim "
                         "must be equal or 1, counted from the right") from None  # fmt: skip
    return tuple(t if t.shape == shape else broadcast_to(t, shape) for t in ts)
