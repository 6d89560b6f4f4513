"""Rows of the rule table for the PyTorch ops users still reached for and missed (issue 10, the second round):
elementwise ``erfinv``, ``sinc``, ``copysign``, ``heaviside``, ``signbit``; the fused products ``addmm``,
``addmv``, ``addr``, ``baddbmm``, ``addbmm``; ``rot90``, ``block_diag``, ``tril_indices``/``triu_indices``,
``as_strided``; the index writes ``index_fill``, ``index_copy``, ``scatter_reduce``; the order statistics
``nanmedian``, ``msort``, ``mode``; counting (``bincount``, ``histc``, ``isin``); ``rsub``, ``sum_to_size``,
``matrix_exp``, ``cholesky_solve``; and the random draws ``bernoulli``, ``normal``, ``multinomial``.

The elementwise ops are primitives (value and ``f'`` in one line, :func:`.rules._unary`); every other op is a
composition of primitives, so its VJP, JVP, batching rule and higher derivatives are theirs — each equal to
PyTorch's (the tests compare them with torch 2.13 and torch.func).
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..backend.checks import is_int
from ..backend.device import to_device
from ..backend.dtypes import tensor_dtype
from ..backend.namespace import namespace_of
from . import linalg, ops, special
from .creation import _drawn, _finish, ones_like, zeros
from .grad_mode import no_grad, state
from .primitive import Primitive, function, row
from .rules import _unary
from .rules_math import _like, _zero
from .rules_reduce import ValuesIndices, _index_op, _median_of_nothing, share_ties, sort
from .rules_shape import _along, _ax, _index_array, _scatter_index, flip, take_along_axis
from .tensor import Tensor, as_tensor, guard

_HALF_SQRT_PI = math.sqrt(math.pi) / 2.0


def _t(x) -> Tensor:
    return x if isinstance(x, Tensor) else as_tensor(x if hasattr(x, "shape") else np.asarray(x))


# --- elementwise ---------------------------------------------------------------------------------------------
ERFINV = _unary(
    "erfinv",
    _like(special.erfinv),
    lambda F, ans, x: _HALF_SQRT_PI * F.exp(ans * ans),
    "erfinv({0})",
    "erf⁻¹ x, the y with erf y = x (±∞ at ±1, NaN outside [−1, 1]); derivative (√π/2) e^{erfinv(x)²}.",
    reads="ans",
)


def _sinc_np(x):
    """sin(πx)/(πx), 1 at 0 (NumPy's ``sinc``, in x's float dtype)."""
    xp = namespace_of(x)
    y = math.pi * xp.where(x == 0, 1.0, x)
    return xp.where(x == 0, 1.0, xp.sin(y) / y)


_SINC_SERIES = tuple((-1) ** k * 2 * k * math.pi ** (2 * k) / math.factorial(2 * k + 1) for k in range(1, 8))
"""sinc′(x) = Σ_{k≥1} (−1)^k 2k π^{2k} x^{2k−1} / (2k+1)!: the coefficients of x, x³, …, x¹³ (the next
term is below 10⁻¹⁷ of the sum where the series is used)."""


def _sinc_deriv(F, ans, x):
    """(cos πx − sinc x)/x, and its Taylor series where |x| < 0.1: the quotient cancels there (it is 0/0
    at 0), while the series is exact to rounding and its own derivatives are sinc's (sinc″(0) = −π²/3,
    which PyTorch's masked rule gives as NaN or 0)."""
    small = F.abs(F.data(x)) < 0.1
    safe = F.where(small, 1.0, x)
    x2 = x * x
    series = _SINC_SERIES[-1]
    for c in reversed(_SINC_SERIES[:-1]):  # Horner's scheme in x²
        series = c + x2 * series
    return F.where(small, x * series, (F.cos(math.pi * safe) - F.where(small, 1.0, ans)) / safe)


SINC = _unary(
    "sinc",
    _sinc_np,
    _sinc_deriv,
    "sinc({0})",
    "sin(πx)/(πx), 1 at 0 (PyTorch's normalised sinc); derivative (cos πx − sinc x)/x, its Taylor series near 0.",
)


def _copysign_dx(F, ans, x, y):
    """∂/∂x copysign(x, y) = ans/x = ±1, and 0 at x = 0 (PyTorch's ``copysign_tensor_self_backward``)."""
    zero = F.data(x) == 0
    return F.where(zero, 0.0, ans / F.where(zero, 1.0, x))


COPYSIGN = row(
    "copysign",
    Primitive(
        "copysign",
        lambda x, y: namespace_of(x if hasattr(x, "dtype") else y).forward(np.copysign)(x, y),
        (lambda F, g, ans, x, y: g * _copysign_dx(F, ans, x, y), lambda F, g, ans, x, y: _zero(F, g, ans, y)),
        (lambda F, t, ans, x, y: t * _copysign_dx(F, ans, x, y), lambda F, t, ans, x, y: _zero(F, t, ans, ans)),
        fmt="copysign({0}, {1})",
        reads=((0, "ans"), ()),
    ),
    "binary",
    "|x| with the sign of y (−0 counts as negative); ∂/∂x = ±1 (0 at x = 0, as PyTorch), ∂/∂y = 0.  Integers give "
    "the default float dtype, as PyTorch.",
    floats=True,
)


def _heaviside_np(x, values):
    """0 for x < 0 (and NaN, as torch's), ``values`` at 0, 1 for x > 0, in x's dtype."""
    xp = namespace_of(x)
    return xp.astype(xp.where(x == 0, values, xp.astype(x > 0, x.dtype)), x.dtype)


HEAVISIDE_PRIM = Primitive(
    "heaviside",
    _heaviside_np,
    (lambda F, g, ans, x, y: _zero(F, g, ans, x), lambda F, g, ans, x, y: _zero(F, g, ans, y)),
    (lambda F, t, ans, x, y: _zero(F, t, ans, ans), lambda F, t, ans, x, y: _zero(F, t, ans, ans)),
    fmt="heaviside({0}, {1})",
    reads=((), ()),
)


@function(prim=HEAVISIDE_PRIM)
def heaviside(x, values):
    """The step H(x): 0 for x < 0, ``values`` at x = 0, 1 for x > 0 (PyTorch's and NumPy's ``heaviside``); x and
    ``values`` (broadcast against x) must have the same dtype, as PyTorch requires.  Derivative 0 in both (a step:
    PyTorch has none)."""
    x, values = _t(x), _t(values)
    if x.dtype != values.dtype:
        raise TypeError(f"heaviside: x is {x.dtype} and values is {values.dtype}; give both the same dtype (as "
                        f"PyTorch), e.g. values.astype({str(x.dtype)!r})")  # fmt: skip
    if x.dtype.kind == "c":
        raise TypeError("heaviside: complex tensors have no order; give real ones")
    return ops.binary(HEAVISIDE_PRIM, x, values)


def _signbit_np(x):
    """The sign bit: x < 0 for integers (the array API's signbit takes floats only), NumPy's signbit for floats."""
    xp = namespace_of(x)
    if xp.numpy_dtype(x.dtype).kind in "iub":
        return x < 0
    return xp.forward(np.signbit)(x)


SIGNBIT = Primitive("signbit", _signbit_np, (None,), (None,), fmt="signbit({0})")


@function()
def signbit(x):
    """True where the sign bit of x is set: x < 0, and −0.0 (PyTorch's and NumPy's ``signbit``); a boolean tensor,
    no gradient."""
    return _index_op(SIGNBIT, _t(x), {})


# --- products with an added term -------------------------------------------------------------------------------
def _scaled(v, c):
    """c·v, and v itself for c = 1 (no multiplication: an integer product stays exact)."""
    return v if c == 1 else v * c


def _add_product(who: str, x, product: Tensor, beta, alpha) -> Tensor:
    """``beta·x + alpha·product``, x broadcast to the product's shape; with ``beta = 0`` x is ignored (a NaN in it
    does not propagate, and its gradient is 0), as PyTorch's."""
    x = _t(x)
    for name, c in (("beta", beta), ("alpha", alpha)):
        if isinstance(c, bool) or not isinstance(c, int | float | np.integer | np.floating):
            raise TypeError(f"{who}: {name} must be a number, got {c!r}")
    try:
        np.broadcast_shapes(x.shape, product.shape)
        if np.broadcast_shapes(x.shape, product.shape) != product.shape:
            raise ValueError
    except ValueError:
        raise ValueError(f"{who}: input of shape {x.shape} does not broadcast to the product's shape {product.shape}; "
                         "give an input of that shape or one that broadcasts to it") from None  # fmt: skip
    out = _scaled(product, alpha)
    if beta == 0:  # the input is not read: exactly 0 from it, and a zero gradient (selected, so NaN gives 0 too)
        return out + ops.where(np.zeros(x.shape, dtype=bool), x, 0).astype(out.dtype)
    return out + _scaled(x, beta)


def _ranked(who: str, tensors: tuple, ranks: tuple[int, ...], names: tuple[str, ...]) -> tuple[Tensor, ...]:
    out = tuple(_t(t) for t in tensors)
    for t, rank, name in zip(out, ranks, names):
        if t.ndim != rank:
            raise ValueError(f"{who}: {name} must be {rank}-D, got shape {t.shape}")
    return out


@function()
def addmm(x, mat1, mat2, *, beta=1, alpha=1):
    """PyTorch's addmm: ``beta·x + alpha·(mat1 @ mat2)``, mat1 (n, k), mat2 (k, m), x broadcast to (n, m)."""
    mat1, mat2 = _ranked("addmm", (mat1, mat2), (2, 2), ("mat1", "mat2"))
    return _add_product("addmm", x, mat1 @ mat2, beta, alpha)


@function()
def addmv(x, mat, vec, *, beta=1, alpha=1):
    """PyTorch's addmv: ``beta·x + alpha·(mat @ vec)``, mat (n, k), vec (k,), x broadcast to (n,)."""
    mat, vec = _ranked("addmv", (mat, vec), (2, 1), ("mat", "vec"))
    return _add_product("addmv", x, mat @ vec, beta, alpha)


@function()
def addr(x, vec1, vec2, *, beta=1, alpha=1):
    """PyTorch's addr: ``beta·x + alpha·(vec1 ⊗ vec2)``, the outer product of vec1 (n,) and vec2 (m,)."""
    vec1, vec2 = _ranked("addr", (vec1, vec2), (1, 1), ("vec1", "vec2"))
    return _add_product("addr", x, vec1.reshape(-1, 1) * vec2.reshape(1, -1), beta, alpha)


def _batches(who: str, b1, b2) -> tuple[Tensor, Tensor]:
    b1, b2 = _ranked(who, (b1, b2), (3, 3), ("batch1", "batch2"))
    if b1.shape[0] != b2.shape[0]:
        raise ValueError(f"{who}: batch1 holds {b1.shape[0]} matrices and batch2 {b2.shape[0]}; give both the same number")
    return b1, b2


@function()
def baddbmm(x, batch1, batch2, *, beta=1, alpha=1):
    """PyTorch's baddbmm: ``beta·x + alpha·(batch1 @ batch2)``, batches (b, n, k) and (b, k, m), x broadcast to
    (b, n, m)."""
    b1, b2 = _batches("baddbmm", batch1, batch2)
    return _add_product("baddbmm", x, b1 @ b2, beta, alpha)


@function()
def addbmm(x, batch1, batch2, *, beta=1, alpha=1):
    """PyTorch's addbmm: ``beta·x + alpha·Σ_b batch1[b] @ batch2[b]``, x broadcast to (n, m)."""
    b1, b2 = _batches("addbmm", batch1, batch2)
    return _add_product("addbmm", x, (b1 @ b2).sum(axis=0), beta, alpha)


# --- shapes ----------------------------------------------------------------------------------------------------
@function()
def rot90(x, k: int = 1, dims=(0, 1)):
    """PyTorch's rot90: x rotated by k·90° in the plane of ``dims``, from the first dim towards the second
    (k = 1: flip along dims[1], then swap the two); the gradient is the inverse rotation."""
    x = _t(x)
    if not is_int(k):
        raise TypeError(f"rot90: k must be an int (quarter turns), got {k!r}")
    dims = tuple(dims)
    if len(dims) != 2:
        raise ValueError(f"rot90: dims must name two dims, got {dims!r}; e.g. dims=(0, 1)")
    if x.ndim < 2:
        raise ValueError(f"rot90: the tensor must be at least 2-D, got shape {x.shape}")
    d0, d1 = (_ax("rot90", d, x.ndim) for d in dims)
    if d0 == d1:
        raise ValueError(f"rot90: the two dims must differ, got {dims!r}")
    k %= 4
    if k == 0:
        return ops.identity(x) if x.requires_grad else x
    if k == 2:
        return flip(x, dims=(d0, d1))
    if k == 1:
        return ops.swapaxes(flip(x, dims=(d1,)), d0, d1)
    return flip(ops.swapaxes(x, d0, d1), dims=(d1,))


@function(method=False)
def block_diag(*tensors):
    """PyTorch's block_diag: the tensors as the diagonal blocks of one matrix (a 0-d one a 1×1 block, a 1-D one a
    1×n row), zeros elsewhere, in their common dtype; each block's gradient is its part of g."""
    ts = [_t(t) for t in tensors]
    for t in ts:
        if t.ndim > 2:
            raise ValueError(f"block_diag: each input must be at most 2-D, got shape {t.shape}")
    ts = list(ops.promote_all([t.reshape(1, -1) if t.ndim < 2 else t for t in ts])) if ts else []
    if not ts:
        return zeros(1, 0)
    width = sum(t.shape[1] for t in ts)
    dtype, device = ts[0].dtype, ts[0].device
    rows, left = [], 0
    for t in ts:
        n, m = t.shape
        parts = [zeros(n, left, dtype=dtype, device=device), t, zeros(n, width - left - m, dtype=dtype, device=device)]
        rows.append(ops.concatenate(parts, axis=1))
        left += m
    return ops.concatenate(rows, axis=0)


def _triangle_indices(who: str, which, row_count: int, col: int, offset: int, dtype, device) -> Tensor:
    for name, v in (("row", row_count), ("col", col), ("offset", offset)):
        if not is_int(v):
            raise TypeError(f"{who}: {name} must be an int, got {v!r}")
    if row_count < 0 or col < 0:
        raise ValueError(f"{who}: row and col must be >= 0, got {row_count} and {col}")
    dt = tensor_dtype(dtype, who)
    if dt.kind not in "iu":
        raise TypeError(f"{who}: indices are integers, got dtype {dt}; give dtype='int64' or 'int32'")
    r, c = which(row_count, offset, col)
    return _finish(np.stack([r, c]).astype(dt).reshape(2, -1), device=device)


@function(method=False)
def tril_indices(row: int, col: int, offset: int = 0, *, dtype="int64", device=None):
    """PyTorch's tril_indices: the (2, N) row and column indices of the lower triangle of a row × col matrix (on
    and below the diagonal ``offset``), row by row."""
    return _triangle_indices("tril_indices", np.tril_indices, row, col, offset, dtype, device)


@function(method=False)
def triu_indices(row: int, col: int, offset: int = 0, *, dtype="int64", device=None):
    """PyTorch's triu_indices: the (2, N) indices of the upper triangle (on and above the diagonal ``offset``)."""
    return _triangle_indices("triu_indices", np.triu_indices, row, col, offset, dtype, device)


@function()
def as_strided(x, size, stride, storage_offset: int = 0):
    """PyTorch's as_strided: ``out[i₀, i₁, …] = flat[storage_offset + Σ iₖ strideₖ]`` with ``flat`` the entries of x
    in C order (x's storage, for a contiguous x as PyTorch reads it); entries read twice get the sum of their
    gradients, as PyTorch's."""
    x = _t(x)
    size, stride = tuple(int(n) for n in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise ValueError(f"as_strided: size {size} and stride {stride} must have the same length")
    if any(n < 0 for n in size) or any(s < 0 for s in stride) or storage_offset < 0:
        raise ValueError(f"as_strided: sizes, strides and storage_offset must be >= 0, got {size}, {stride}, {storage_offset}")
    index = np.full(size, storage_offset, dtype=np.int64)
    for a, (n, s) in enumerate(zip(size, stride)):
        index = index + (np.arange(n, dtype=np.int64) * s).reshape((1,) * a + (n,) + (1,) * (len(size) - a - 1))
    numel = int(np.prod(x.shape, dtype=np.int64))
    if index.size and int(index.max()) >= numel:
        raise IndexError(f"as_strided: size {size}, stride {stride} and offset {storage_offset} reach entry "
                         f"{int(index.max())}, but x of shape {x.shape} has {numel}; give a view inside it")  # fmt: skip
    return x.reshape(-1)[to_device(index, x.device)]


@function(method=lambda self, *size: sum_to_size(self, *size))
def sum_to_size(x, *size):
    """PyTorch's ``x.sum_to_size(*size)``: x summed over the dims broadcasting would add to ``size`` (the adjoint of
    ``expand``); ``size`` must broadcast to x's shape."""
    x = _t(x)
    shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], tuple | list) else tuple(size)
    try:
        ok = np.broadcast_shapes(shape, x.shape) == x.shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"sum_to_size: size {shape} is not expandable to the tensor's shape {x.shape}; give a size "
                         "that broadcasts to it (each dim equal or 1, counted from the right)")  # fmt: skip
    return ops.sum_to(x, shape)


@function()
def rsub(x, other, *, alpha=1):
    """PyTorch's rsub: ``other − alpha·x`` (the subtraction with its operands reversed)."""
    x = _t(x)
    if isinstance(alpha, bool) or not isinstance(alpha, int | float | np.integer | np.floating):
        raise TypeError(f"rsub: alpha must be a number, got {alpha!r}")
    other = other if isinstance(other, Tensor | int | float) else _t(other)
    return other - _scaled(x, alpha)


# --- index writes ---------------------------------------------------------------------------------------------
def _index_1d(who: str, index, x: Tensor, dim: int) -> np.ndarray:
    """A 1-D (or 0-d) integer index along ``dim``, checked, as a host array of non-negative positions."""
    if isinstance(index, Tensor) and index._tangents:
        raise TypeError(f"{who}: an index batched by vmap is not supported; index with the same index in every example")
    _index_array(who, index, x, dim, negative=True)  # (the range and the dtype, naming the op)
    idx = _host(index)
    if np.ndim(idx) > 1:
        raise ValueError(f"{who}: the index must be a 1-D (or 0-d) integer tensor, got shape {idx.shape}")
    return np.reshape(idx, -1).astype(np.int64) % max(x.shape[dim] if x.ndim else 1, 1)


@function()
def index_fill(x, dim: int, index, value):
    """PyTorch's index_fill: x with every entry at ``index`` along ``dim`` set to ``value`` (a number or a 0-d
    tensor).  Gradient: g with zeros at the filled entries for x, the sum of g over them for a tensor ``value``."""
    x = _t(x)
    dim = _ax("index_fill", dim, x.ndim)
    flat = _index_1d("index_fill", index, x, dim)
    if isinstance(value, Tensor) and value.ndim:
        raise ValueError(f"index_fill: value must be a number or a 0-d tensor, got shape {value.shape}; use index_copy")
    mask = np.zeros(x.shape[dim] if x.ndim else 1, dtype=bool)
    mask[flat] = True
    mask = mask.reshape((1,) * dim + (-1,) + (1,) * (x.ndim - dim - 1)) if x.ndim else mask.reshape(())
    value = value.astype(x.dtype) if isinstance(value, Tensor) else value
    out = ops.where(to_device(mask, x.device), value, x)
    return out if out.dtype == x.dtype else out.astype(x.dtype)


@function()
def index_copy(x, dim: int, index, source):
    """PyTorch's index_copy: x with ``out[…, index[k], …] = source[…, k, …]`` along ``dim``.  Gradient: g with zeros
    at the copied entries for x, ``g[…, index, …]`` (index_select) for source."""
    x, source = _t(x), _t(source)
    dim = _ax("index_copy", dim, x.ndim)
    flat = _index_1d("index_copy", index, x, dim)
    if source.dtype != x.dtype:
        raise TypeError(f"index_copy: x is {x.dtype} and source is {source.dtype}; give both the same dtype (as "
                        f"PyTorch), e.g. source.astype({str(x.dtype)!r})")  # fmt: skip
    want = x.shape[:dim] + (flat.shape[0],) + x.shape[dim + 1 :] if x.ndim else ()
    if source.shape != want and not (not x.ndim and source.numel() == 1):
        raise ValueError(f"index_copy: source of shape {source.shape} must be x's shape {x.shape} with the number of "
                         f"indices ({flat.shape[0]}) along dim {dim}: {want}")  # fmt: skip
    if not x.ndim:
        return source.reshape(())
    return guard(ops.index_update(x, _along(dim, to_device(flat, x.device), x.ndim), source), index)


_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def _scattered_count(x: Tensor, where: tuple, src: Tensor) -> Tensor:
    """How many src entries land on each entry of x (no gradient)."""
    with no_grad():
        return ops.unindex(ones_like(src.detach()), where, x.shape)


@function()
def scatter_reduce(x, dim: int, index, src, reduce: str, *, include_self: bool = True):
    """PyTorch's scatter_reduce: every ``src[i][j]`` (dim = 1) reduced into ``out[i][index[i][j]]`` with ``reduce`` —
    ``"sum"``, ``"prod"``, ``"mean"``, ``"amax"`` or ``"amin"`` — together with x's own entry there when
    ``include_self`` (else x's entry is replaced; entries no index reaches keep x's value).  Gradients as PyTorch's:
    sum/mean pass g (divided by the count), prod the product of the others, amax/amin split g evenly among the
    entries equal to the result.  sum and mean are scatter-adds; prod, amax and amin reduce one (…, k, n) array of
    src entries per destination (memory k·n per slice: k src entries, n destinations)."""
    x, src = _t(x), _t(src)
    if reduce not in _REDUCTIONS:
        raise ValueError(f"scatter_reduce: reduce must be one of {', '.join(_REDUCTIONS)}, got {reduce!r}")
    if src.dtype != x.dtype:
        raise TypeError(f"scatter_reduce: x is {x.dtype} and src is {src.dtype}; give both the same dtype (as "
                        f"PyTorch), e.g. src.astype({str(x.dtype)!r})")  # fmt: skip
    if not x.ndim:
        return scatter_reduce(x.reshape(1), 0, np.reshape(np.asarray(index), -1), src.reshape(-1), reduce,
                              include_self=include_self).reshape(())  # fmt: skip
    dim = _ax("scatter_reduce", dim, x.ndim)
    where, src = _scatter_index("scatter_reduce", x, dim, index, src)
    count = _scattered_count(x, where, src)
    hit = count > 0
    if reduce in ("sum", "mean"):
        base = x if include_self else ops.where(hit, 0, x).astype(x.dtype)
        total = base + ops.unindex(src, where, x.shape)
        if reduce == "sum":
            return guard(total, index)
        n = (count + 1 if include_self else ops.where(hit, count, 1)).astype(x.dtype)
        out = total / n if x.dtype.kind in "fc" else total // n
        return guard(out, index)
    return guard(_scatter_dense(x, dim, where[dim], src, reduce, include_self, hit), index)


_IDENTITY = {"prod": 1.0, "amax": -math.inf, "amin": math.inf}


def _scatter_dense(x: Tensor, dim: int, idx, src: Tensor, reduce: str, include_self: bool, hit: Tensor) -> Tensor:
    """prod/amax/amin: ``D[…, k, j] = src[…, k]`` where ``index[…, k] = j``, else the reduction's identity, reduced
    over k (with x's row too when ``include_self``) — so the reduction's own rules give PyTorch's gradients (prod's
    exclusive products at zeros, max's even split at ties)."""
    n = x.shape[dim]
    region = tuple(slice(None) if a == dim else slice(0, m) for a, m in enumerate(idx.shape))
    x_reg, hit_reg = x[region], hit[region]
    s = ops.moveaxis_(src, dim, -1)  # (…, k)
    onehot = ops.moveaxis_(_t(idx), dim, -1)  # (…, k) integers
    onehot = onehot.reshape(onehot.shape + (1,)) == as_tensor(
        to_device(np.arange(n).reshape((1,) * onehot.ndim + (n,)), x.device)
    )
    ident = _IDENTITY[reduce]
    if x.dtype.kind in "iub":
        info = np.iinfo(x.dtype) if x.dtype.kind != "b" else None
        ident = 1 if reduce == "prod" else (info.min if reduce == "amax" else info.max)
    dense = ops.where(onehot, s.reshape(s.shape + (1,)), ident).astype(x.dtype)  # (…, k, n)
    xr = ops.moveaxis_(x_reg, dim, -1)  # (…, n)
    if include_self:
        dense = ops.concatenate([xr.reshape(xr.shape[:-1] + (1, n)), dense], axis=-2)
    if reduce == "prod":
        red = dense.prod(axis=-2)
    else:
        red = dense.max(axis=-2) if reduce == "amax" else dense.min(axis=-2)
    if not include_self:  # an entry no index reaches keeps x's value
        red = ops.where(ops.moveaxis_(hit_reg, dim, -1), red, xr)
    out = ops.moveaxis_(red, -1, dim)
    if out.shape == x.shape:
        return out
    return ops.index_update(x, region, out)


# --- order statistics -----------------------------------------------------------------------------------------
@function()
def msort(x):
    """PyTorch's msort: x sorted along dim 0 (``sort(x, dim=0).values``); the gradient follows the entries."""
    x = _t(x)
    if not x.ndim:
        return x
    return sort(x, dim=0).values


def _nanmedian_dim(x: Tensor, dim: int, keepdim: bool) -> ValuesIndices:
    values, indices = sort(x, dim=dim)  # NaNs sort last
    with no_grad():
        count = (x == x).astype(np.int64).sum(axis=dim, keepdims=True)
        k = ((count - 1) // 2).clip(0, None)
    picked = take_along_axis(values, k, dim)
    where = take_along_axis(indices, k, dim)
    if not keepdim:
        picked, where = picked.squeeze(dim), where.squeeze(dim)
    return ValuesIndices(picked, where)


def _nanmedian_method(self, dim=None, keepdim: bool = False):
    return nanmedian(self, dim, keepdim)


@function(method=_nanmedian_method)
def nanmedian(x, dim=None, keepdim: bool = False):
    """PyTorch's nanmedian: the median of the entries that are not NaN — the lower of the two middle ones for an
    even count, as torch.median — and NaN where every entry is NaN.  With ``dim``: ``(values, indices)`` along it.
    The gradient goes to the entry picked.

    Over every entry (no ``dim``) ties share it evenly, as PyTorch's (all NaN: the NaN entries share it)."""
    x = _t(x)
    if dim is None:
        if not x.numel():
            return _median_of_nothing("nanmedian", x.reshape(-1))
        flat = x.reshape(-1)
        return share_ties(flat, _nanmedian_dim(flat, 0, False).values)  # ties share the gradient, as PyTorch's
    dim = _ax("nanmedian", dim, x.ndim)
    if not x.ndim:
        return ValuesIndices(x, as_tensor(np.zeros((), np.int64)))
    if not x.shape[dim]:
        raise IndexError(f"nanmedian: dim {dim} of the tensor of shape {x.shape} is empty, so it has no median")
    return _nanmedian_dim(x, dim, keepdim)


def _mode_rows(rows: np.ndarray) -> np.ndarray:
    """The index of each row's mode: the most frequent value, the smallest among equally frequent ones, at its last
    occurrence (PyTorch's CPU choice)."""
    r, n = rows.shape
    order = np.argsort(rows, axis=1, kind="stable")
    ordered = np.take_along_axis(rows, order, axis=1)
    starts = np.ones((r, n), dtype=bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    run = np.cumsum(starts, axis=1) - 1  # the run each sorted entry belongs to
    counts = np.zeros((r, n), dtype=np.int64)
    np.add.at(counts, (np.repeat(np.arange(r), n), run.reshape(-1)), 1)
    best = np.argmax(counts, axis=1)  # the first (smallest) of the most frequent
    last = np.take_along_axis(np.cumsum(counts, axis=1), best[:, None], axis=1)[:, 0] - 1
    return order[np.arange(r), last]


def _mode_values(x, dim: int = -1, keepdim: bool = False) -> ValuesIndices:
    """PyTorch's mode: ``(values, indices)`` of the most frequent value along ``dim`` — the smallest among equally
    frequent ones, at its last occurrence (as PyTorch on the CPU).  The gradient goes to that entry."""
    x = _t(x)
    if not x.ndim:
        return ValuesIndices(x, as_tensor(to_device(np.zeros((), np.int64), x.device)))
    dim = _ax("mode", dim, x.ndim)
    if not x.shape[dim]:
        raise IndexError(f"mode: dim {dim} of the tensor of shape {x.shape} is empty, so it has no mode")
    moved = np.moveaxis(_host(x), dim, -1)
    idx = _mode_rows(moved.reshape(-1, moved.shape[-1])).reshape(moved.shape[:-1] + (1,))
    idx = np.moveaxis(idx, -1, dim)
    values = take_along_axis(x, idx, dim)
    indices = as_tensor(to_device(idx, x.device))
    if not keepdim:
        values, indices = values.squeeze(dim), indices.squeeze(dim)
    return ValuesIndices(values, indices)


def mode(x, dim: int = -1, keepdim: bool = False) -> ValuesIndices:
    return _mode_values(x, dim, keepdim)


mode.__doc__ = _mode_values.__doc__
row("mode", None, "function", _mode_values.__doc__, fn=mode, method=mode)


# --- counting (no gradient) ------------------------------------------------------------------------------------
def _host(x) -> np.ndarray:
    """x's values as a NumPy array on the host (counting and mode run there, as ``unique``).  Inside ``ng.jit``
    a traced value is refused (JitError): a host result would be frozen into the program."""
    t = _t(x)
    if state.jit_trace is not None:
        state.jit_trace.read(t)
    return t._host()


@function()
def bincount(x, weights=None, minlength: int = 0):
    """PyTorch's bincount: how often each of 0, 1, …, max(x) occurs in the 1-D non-negative integer x (at least
    ``minlength`` bins), int64; with ``weights`` the sum of the weights instead, in the weights' float dtype
    (float64 for integer weights, as PyTorch).  No gradient."""
    t = _t(x)
    xs = _host(t)
    if xs.ndim != 1 or xs.dtype.kind not in "iub":
        raise ValueError(f"bincount: x must be a 1-D integer tensor, got shape {xs.shape} and dtype {xs.dtype}")
    if xs.size and xs.min() < 0:
        raise ValueError(f"bincount: x must be non-negative, got {int(xs.min())}")
    if not is_int(minlength) or minlength < 0:
        raise ValueError(f"bincount: minlength must be an int >= 0, got {minlength!r}")
    if weights is None:
        return as_tensor(np.bincount(xs, minlength=minlength).astype(np.int64), device=t.device)
    w = _host(weights)
    if w.shape != xs.shape:
        raise ValueError(f"bincount: weights of shape {w.shape} must have x's shape {xs.shape}")
    dtype = w.dtype if w.dtype.kind == "f" else np.float64
    return as_tensor(np.bincount(xs, weights=w, minlength=minlength).astype(dtype), device=t.device)


@function()
def histc(x, bins: int = 100, min=0, max=0):  # noqa: A002 - PyTorch's names
    """PyTorch's histc: the counts of x's entries in ``bins`` equal-width bins over [min, max] (the data's own range
    when min = max = 0; widened by 1 each way when all entries are equal), in x's float dtype; entries outside and
    NaNs are ignored, the right edge belongs to the last bin.  No gradient."""
    t = _t(x)
    xs = _host(t).reshape(-1)
    if xs.dtype.kind != "f":
        raise TypeError(f"histc: x must be a floating-point tensor, got {xs.dtype}; convert it, e.g. x.float()")
    if not is_int(bins) or bins <= 0:
        raise ValueError(f"histc: bins must be a positive int, got {bins!r}")
    lo, hi = float(min), float(max)
    if lo > hi:
        raise ValueError(f"histc: max must be larger than min, got min={min} and max={max}")
    finite = xs[np.isfinite(xs)]
    if lo == hi and finite.size:
        lo, hi = float(finite.min()), float(finite.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    inside = xs[(xs >= lo) & (xs <= hi)]
    edges = np.linspace(lo, hi, bins + 1).astype(xs.dtype)
    pos = np.clip(((inside.astype(np.float64) - lo) * bins / (hi - lo)).astype(np.int64), 0, bins - 1)
    pos -= (pos > 0) & (inside < edges[pos])  # the bin edges decide, as PyTorch's local search
    pos += (pos < bins - 1) & (inside >= edges[np.minimum(pos + 1, bins)])
    return as_tensor(np.bincount(pos, minlength=bins).astype(xs.dtype), device=t.device)


@function(method=False)
def isin(elements, test_elements, *, assume_unique: bool = False, invert: bool = False):
    """PyTorch's isin: True where an entry of ``elements`` is among ``test_elements`` (either may be a number); with
    ``invert`` the opposite.  A boolean tensor of elements' shape, no gradient."""
    given = [t for t in (elements, test_elements) if isinstance(t, Tensor)]
    device = given[0].device if given else None
    found = np.isin(_host(elements), _host(test_elements), assume_unique=assume_unique, invert=invert)
    return as_tensor(np.asarray(found), device=device)


# --- linear algebra -------------------------------------------------------------------------------------------
@function(prim=linalg.MATRIX_EXP)
def matrix_exp(a):
    """The matrix exponential e^A = Σ Aᵏ/k! of a square matrix or a batch of them (``ng.linalg.matrix_exp``)."""
    return linalg.matrix_exp(a)


@function(prim=linalg.CHOLESKY_SOLVE)
def cholesky_solve(b, L, upper: bool = False):
    """PyTorch's cholesky_solve: X with A X = B for A = L Lᵀ (``upper``: A = Uᵀ U) given the Cholesky factor
    (``ng.linalg.cholesky_solve``)."""
    return linalg.cholesky_solve(b, L, upper=upper)


# --- random draws ---------------------------------------------------------------------------------------------
def _uniform(shape: tuple, dtype, rng: np.random.Generator, who: str, device) -> Tensor:
    return _drawn(lambda size: rng.random(size).astype(dtype), shape, who, lambda a: _finish(a, device=device))


@function()
def bernoulli(x, p=None, *, generator=None):
    """PyTorch's bernoulli: 1 with probability ``x`` (or ``p``, a number, in x's shape), else 0, in x's float dtype,
    drawn from the library generator (``ng.manual_seed``) or ``generator``.  No gradient (PyTorch has none)."""
    x = _t(x)
    if x.dtype.kind != "f":
        raise TypeError(f"bernoulli: the probabilities must be floats, got {x.dtype}; convert them, e.g. x.float()")
    with no_grad():
        probs = x.detach() if p is None else ops.where(np.ones(x.shape, bool), float(p), x.detach())
        d = probs.data  # (all of it: under vmap every example's probabilities)
        xp = namespace_of(d)
        if bool(xp.any((d < 0) | (d > 1) | (d != d))):
            raise ValueError("bernoulli: probabilities must lie in [0, 1]; clamp them first, e.g. x.clamp(0, 1)")
        u = _uniform(tuple(x.shape), np.float64, backend.resolve_rng(generator, "bernoulli"), "bernoulli", x.device)
        return (u < probs).astype(x.dtype)


@function(method=False)
def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None, requires_grad: bool = False):
    """PyTorch's normal: samples of N(mean, std²) — ``mean`` and ``std`` numbers (then ``size`` is the shape) or
    tensors (the shape they broadcast to) — drawn from the library generator or ``generator``.  Reparametrised as
    PyTorch's: ``mean + std · ε`` with ε ~ N(0, 1), so the gradient is 1 for mean and ε for std."""
    tensors = [v for v in (mean, std) if isinstance(v, Tensor | np.ndarray)]
    if not tensors:
        if size is None:
            raise TypeError("normal: with a number mean and std give the shape, e.g. normal(0.0, 1.0, size=(3,))")
        from .creation import _shape  # noqa: PLC0415 - the shared shape check

        shape = _shape((size,), "normal")
        dt = tensor_dtype(dtype, "normal") if dtype is not None else backend.get_default_dtype()
    else:
        ts = [_t(v) for v in tensors]
        shape = np.broadcast_shapes(*(t.shape for t in ts))
        if size is not None and tuple(size) != shape:
            raise ValueError(f"normal: size {tuple(size)} differs from the shape of mean and std, {shape}")
        dt = np.result_type(*(t.dtype for t in ts))
        dt = dt if dt.kind == "f" else np.dtype(backend.get_default_dtype())
        device = ts[0].device if device is None else device
    if isinstance(std, int | float) and std < 0 or isinstance(std, Tensor | np.ndarray) and bool((_t(std) < 0).any()):
        raise ValueError("normal: std must be >= 0")
    rng = backend.resolve_rng(generator, "normal")
    eps = _drawn(lambda s: rng.standard_normal(s).astype(dt), tuple(shape), "normal", lambda a: _finish(a, device=device))
    out = eps * std + mean
    out = out if out.dtype == dt else out.astype(dt)
    return out.requires_grad_(True) if requires_grad and not out.requires_grad else out


@function()
def multinomial(x, num_samples: int, replacement: bool = False, *, generator=None):
    """PyTorch's multinomial: ``num_samples`` category indices per row of the non-negative weights ``x`` (1-D or
    2-D; they need not sum to 1), drawn with probability proportional to the weights, with or without
    ``replacement`` (without: successive draws from the categories left, as PyTorch).  int64, no gradient."""
    t = _t(x)
    if state.vmaps:  # drawn on the host row by row: no batching rule (PyTorch's vmap refuses it by default too)
        raise RuntimeError("multinomial inside vmap is not supported; draw outside vmap, for all rows at once "
                           "(x is 2-D: one row of weights per example)")  # fmt: skip
    w = _host(t)
    if w.ndim not in (1, 2) or w.dtype.kind != "f":
        raise ValueError(f"multinomial: x must be a 1-D or 2-D float tensor of weights, got shape {w.shape}, {w.dtype}")
    if not is_int(num_samples) or num_samples <= 0:
        raise ValueError(f"multinomial: num_samples must be a positive int, got {num_samples!r}")
    rows = w.reshape(-1, w.shape[-1]).astype(np.float64)
    if not np.isfinite(rows).all() or (rows < 0).any():
        raise ValueError("multinomial: the weights must be finite and >= 0")
    if (rows.sum(axis=1) <= 0).any():
        raise ValueError("multinomial: every row needs a positive weight (its sum is 0)")
    if not replacement and num_samples > int((rows > 0).sum(axis=1).min()):
        raise ValueError(f"multinomial: cannot draw {num_samples} samples without replacement from a row with "
                         f"{int((rows > 0).sum(axis=1).min())} categories of positive weight; use replacement=True")  # fmt: skip
    rng = backend.resolve_rng(generator, "multinomial")
    if replacement:  # inverse CDF: one uniform per sample
        cdf = np.cumsum(rows, axis=1)
        u = rng.random((rows.shape[0], num_samples)) * cdf[:, -1:]
        out = (u[:, :, None] >= cdf[:, None, :]).sum(axis=-1)  # per row: searchsorted(cdf, u, side="right")
        out = np.minimum(out, rows.shape[1] - 1)
    else:  # Gumbel top-k: the k largest log w + Gumbel noise are k successive draws without replacement
        with np.errstate(divide="ignore"):
            keys = np.log(rows) - np.log(-np.log(rng.random(rows.shape)))
        out = np.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
    out = out.astype(np.int64).reshape(w.shape[:-1] + (num_samples,))
    return as_tensor(out, device=t.device)
