"""Shape ops (issue 10): reordering, joining, splitting, triangles and diagonals, gathers.

Every one is linear and written with the engine's linear primitives — indexing (whose VJP
scatter-adds, so repeated indices accumulate), ``reshape``, ``transpose``, ``concatenate``,
``stack``, ``index_update`` — or as a product with a constant mask, so each op's VJP and JVP
come from those rows; nothing here states a derivative of its own.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..backend.checks import is_int
from ..backend.device import to_device
from ..backend.namespace import namespace_of
from . import grad_mode as _m
from . import ops
from .errors import InputError
from .primitive import Primitive, function
from .tensor import Tensor, TensorTypeError, _apply, guard, tensor


class IndexRangeError(IndexError, RuntimeError):
    """An index or a range out of a dim's bounds where PyTorch raises a ``RuntimeError`` (gather, scatter,
    index_select, narrow): an ``IndexError`` too, as NumPy's and the library's other refusals of indices."""


def _t(x) -> Tensor:
    return x if isinstance(x, Tensor) else tensor(x)


def _ax(name: str, axis: int, ndim: int) -> int:
    """``axis`` in 0..ndim−1 (0 for a 0-d tensor), or an ``AxisError`` naming the op (:func:`.ops.check_dim`)."""
    return ops.check_dim(name, axis, ndim)


def _along(axis: int, index, ndim: int) -> tuple:
    """An index tuple selecting ``index`` along ``axis`` and everything along the others."""
    return (slice(None),) * axis + (index,) + (slice(None),) * (ndim - axis - 1)


# --- reordering -------------------------------------------------------------------------------------
def _dims_arg(name: str, positional: tuple, **named) -> tuple[int, ...] | None:
    """The dims of an op taking them as PyTorch does — several ints (``x.flip(0, 2)``), one int or
    one sequence — or by one keyword (``dims=``, NumPy's ``axis=``); None when none is given."""
    given = {k: v for k, v in named.items() if v is not None}
    if positional:
        given["positional"] = positional[0] if len(positional) == 1 else positional
    if len(given) > 1:
        raise TypeError(f"{name}: got the dims {given}; give them one way, e.g. x.{name}(0, 2) or dims=(0, 2)")
    if not given:
        return None
    (dims,) = given.values()
    return (dims,) if isinstance(dims, int | np.integer) else tuple(dims)


@function()
def flip(x, *positional, axis=None, dims=None):
    """Reverse the order along the given dims — several ints (``x.flip(0, 2)``, PyTorch's), one int
    or a sequence, ``dims=`` or NumPy's ``axis=`` — or along every axis when none is given
    (NumPy's); linear, the gradient is flipped back."""
    x = _t(x)
    dims = _dims_arg("flip", positional, axis=axis, dims=dims)
    axes = range(x.ndim) if dims is None else [_ax("flip", a, x.ndim) for a in dims]
    if len(set(axes)) != len(axes):  # flipped twice would be no flip: PyTorch refuses it
        raise InputError(f"flip: a dim appears more than once in dims={dims} (tensor of {x.ndim} dims); give each once")
    index = [slice(None)] * x.ndim
    for a in axes:
        if x.ndim:  # a 0-d tensor flipped is itself
            index[a] = slice(None, None, -1)
    return ops.numpy_getitem(x, tuple(index))  # (NumPy's indexing: x[::-1] is refused as PyTorch refuses it)


@function()
def roll(x, shifts=None, axis=None, dims=None, *, shift=None):
    """Shift entries cyclically by ``shifts`` (NumPy's ``shift``) along ``axis`` (``dims``, PyTorch's
    name; the flattened tensor when None); linear, the gradient is rolled back."""
    x = _t(x)
    if (shifts is None) == (shift is None):
        raise TypeError(f"roll: give the shift once, as shifts= (PyTorch) or shift= (NumPy), got {shifts=}, {shift=}")
    shifts = shifts if shift is None else shift
    axis = axis if dims is None else dims
    if axis is None:
        return roll(x.reshape(-1), shifts, 0).reshape(x.shape)
    shifts = tuple(shifts) if isinstance(shifts, tuple | list) else (shifts,)
    axes = tuple(axis) if isinstance(axis, tuple | list) else (axis,)
    if len(shifts) != len(axes):  # PyTorch's rule (NumPy would broadcast one against the other)
        raise InputError(
            f"roll: give one shift per dim, got shifts {shifts} and dims {axes}; e.g. roll(x, (1, 2), dims=(0, 1))"
        )
    for s, a in zip(shifts, axes):
        a = _ax("roll", a, x.ndim)
        n = x.shape[a] if x.ndim else 0  # a 0-d tensor rolled is itself
        if n:
            x = x[_along(a, (np.arange(n) - s) % n, x.ndim)]
    return x


def _repeat_method(x, *sizes):
    """PyTorch's ``x.repeat(*sizes)``: the tensor tiled ``sizes`` times (NumPy's tile), with at
    least one size per dim (PyTorch's rule; NumPy's tile would pad missing sizes with 1s)."""
    sizes = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], tuple | list) else sizes
    if len(sizes) < x.ndim:
        raise InputError(
            f"repeat: got the repeat sizes {sizes} for a tensor of {x.ndim} dims (shape {x.shape}); "
            f"the number of repeat sizes can not be smaller than the number of dims (PyTorch's rule): give one "
            f"per dim, e.g. x.repeat({', '.join(['1'] * (x.ndim - 1) + ['2'])}), or ng.tile to pad them with 1s"
        )
    return tile(x, sizes)


@function(method=_repeat_method)
def repeat(x, repeats, axis=None):
    """NumPy's repeat: each entry ``repeats`` times along ``axis`` (flattened when None);
    PyTorch's ``repeat_interleave``.  The method ``x.repeat(*sizes)`` is PyTorch's (NumPy's tile)."""
    x = _t(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    axis = _ax("repeat", axis, x.ndim)
    counts = repeats.numpy() if isinstance(repeats, Tensor) else np.asarray(repeats)
    if counts.ndim > 1 or (counts.ndim == 1 and counts.size not in (1, x.shape[axis])):
        raise InputError(f"repeat: repeats must be a number or one count per entry along the dim, got repeats of "
                         f"shape {counts.shape} for {x.shape[axis]} entries (dim {axis} of shape {x.shape})")  # fmt: skip
    if counts.size and counts.min() < 0:
        raise InputError(f"repeat: repeats must not be negative, got {repeats!r}; give counts >= 0")
    return x[_along(axis, np.repeat(np.arange(x.shape[axis]), counts), x.ndim)]


@function()
def repeat_interleave(x, repeats, dim=None, *, output_size=None):
    """PyTorch's name for :func:`repeat` (NumPy's).  ``output_size`` (PyTorch's hint, the length of the result
    along ``dim``) is checked against the repeats."""
    out = repeat(x, repeats, dim)
    if output_size is not None:
        n = out.shape[0 if dim is None else _ax("repeat_interleave", dim, out.ndim)]
        if output_size != n:
            raise InputError(f"repeat_interleave: output_size={output_size!r} but the repeats give {n} entries along "
                             f"the dim; give output_size={n} or leave it out")  # fmt: skip
    return out


@function()
def tile(x, *sizes, reps=None, dims=None):
    """The tensor repeated ``reps`` (``dims``, PyTorch's name) times along each axis (NumPy's tile); the
    repetitions may also come as separate numbers, PyTorch's ``x.tile(2, 1)``."""
    x = _t(x)
    if sizes:
        if reps is not None or dims is not None:
            raise TypeError(f"tile: give the repetitions once, got {sizes} and {reps=}, {dims=}")
        reps = sizes[0] if len(sizes) == 1 else sizes
    if (reps is None) == (dims is None):
        raise TypeError(f"tile: give the repetitions once, as reps= (NumPy) or dims= (PyTorch), got {reps=}, {dims=}")
    reps = reps if dims is None else dims
    reps = (reps,) if isinstance(reps, int) else tuple(reps)
    nd = max(x.ndim, len(reps))
    x = x.reshape((1,) * (nd - x.ndim) + x.shape)
    reps = (1,) * (nd - len(reps)) + reps
    index = np.ix_(*(np.tile(np.arange(n), r) for n, r in zip(x.shape, reps))) if nd else ()
    return x[index]


def _move_dims(name: str, x, source, destination) -> Tensor:
    """``x`` with axes ``source`` moved to positions ``destination``, the others keeping their
    order; each list free of repeats and as long as the other.  A 0-d tensor's dims 0 / −1 leave
    it as it is (PyTorch's movedim)."""
    x = _t(x)
    src = [source] if is_int(source) else list(source)
    dst = [destination] if is_int(destination) else list(destination)
    if len(src) != len(dst):
        raise InputError(
            f"{name}: source {source} and destination {destination} must name as many dims; give one destination per source dim"
        )
    src = [_ax(name, s, x.ndim) for s in src]
    dst = [_ax(name, d, x.ndim) for d in dst]
    for which, dims, given in (("source", src, source), ("destination", dst, destination)):
        if len(set(dims)) != len(dims):
            raise InputError(f"{name}: repeated dim in {which} {given} (a tensor of shape {x.shape}); give each dim once")
    if not x.ndim:  # its only dim is itself: moving it changes nothing (a view, as permute)
        return ops.transpose(x, ())
    rest = iter(i for i in range(x.ndim) if i not in src)
    out: list[int | None] = [None] * x.ndim
    for s, d in zip(src, dst):
        out[d] = s
    return x.permute(*(o if o is not None else next(rest) for o in out))


@function()
def moveaxis(x, source, destination):
    """Move axes ``source`` to positions ``destination``, the others keeping their order."""
    return _move_dims("moveaxis", x, source, destination)


@function()
def movedim(x, source, destination):
    """PyTorch's name for :func:`moveaxis` (a 0-d tensor's dim 0 / −1 moved is itself)."""
    return _move_dims("movedim", x, source, destination)


# --- joining and splitting ----------------------------------------------------------------------------
def _atleast(x, nd: int) -> Tensor:
    """NumPy's atleast_nd: a scalar gains size-1 axes, a vector becomes a row (1, n) — and
    (1, n, 1) in 3-D — and a matrix gains a trailing axis in 3-D."""
    x = _t(x)
    if x.ndim >= nd:
        return x
    if x.ndim == 0:
        return x.reshape((1,) * nd)
    if x.ndim == 1:
        return x.reshape((1, x.shape[0], 1) if nd == 3 else (1, x.shape[0]))
    return x.reshape(x.shape + (1,))


@function(method=False)
def atleast_1d(x):
    """The tensor with at least one axis (a scalar becomes shape (1,))."""
    return _atleast(x, 1)


@function(method=False)
def atleast_2d(x):
    """At least two axes: (n,) becomes (1, n)."""
    return _atleast(x, 2)


@function(method=False)
def atleast_3d(x):
    """At least three axes: (n,) becomes (1, n, 1), (m, n) becomes (m, n, 1)."""
    return _atleast(x, 3)


@function(method=False)
def vstack(tensors: Sequence):
    """Stack rows: concatenate along axis 0 after ``atleast_2d``."""
    return ops.concatenate([atleast_2d(t) for t in tensors], axis=0)


@function(method=False)
def hstack(tensors: Sequence):
    """Stack columns: concatenate along axis 1 (axis 0 for vectors)."""
    ts = [atleast_1d(t) for t in tensors]
    return ops.concatenate(ts, axis=0 if ts[0].ndim == 1 else 1)


@function(method=False)
def dstack(tensors: Sequence):
    """Stack along the third axis after ``atleast_3d``."""
    return ops.concatenate([atleast_3d(t) for t in tensors], axis=2)


@function(method=False)
def column_stack(tensors: Sequence):
    """Vectors become columns (n, 1), then concatenate along axis 1."""
    ts = [_t(t) for t in tensors]
    return ops.concatenate([t.reshape(t.shape[0], 1) if t.ndim == 1 else atleast_2d(t) for t in ts], axis=1)


def _needs_a_dim(name: str, x: Tensor) -> None:
    """Ops that cut along a dim refuse a 0-d tensor, which has none (PyTorch's rule)."""
    if not x.ndim:
        raise InputError(f"{name}: a 0-d tensor has no dim to cut along; reshape it first, e.g. x.reshape(1)")


def _pieces(x: Tensor, bounds: Sequence[int], axis: int) -> tuple[Tensor, ...]:
    """The slices of ``x`` between the cut indices ``bounds`` along ``axis`` (a tuple, as PyTorch's split)."""
    n = x.shape[axis]
    # as Python slices read them (a negative bound counts from the end, one past it stops there), written in range:
    # the array API leaves out-of-range slice bounds unspecified
    edges = [0, *(min(max(b + n if b < 0 else b, 0), n) for b in bounds), n]
    return tuple(x[_along(axis, slice(a, b), x.ndim)] for a, b in zip(edges[:-1], edges[1:]))


@function(method=False)
def array_split(x, indices_or_sections, axis: int = 0, dim: int | None = None):
    """Split into ``n`` nearly equal pieces (the first ``len % n`` one longer), or at the given
    indices (PyTorch's ``tensor_split``; ``dim`` is its name for ``axis``)."""
    axis = axis if dim is None else dim
    x = _t(x)
    _needs_a_dim("array_split", x)
    axis = _ax("array_split", axis, x.ndim)
    if is_int(indices_or_sections):
        n = int(indices_or_sections)
        if n <= 0:
            raise InputError(f"array_split: the number of sections must be positive, got {n}")
        q, r = divmod(x.shape[axis], n)
        sizes = [q + 1] * r + [q] * (n - r)
        return _pieces(x, list(np.cumsum(sizes)[:-1]), axis)
    return _pieces(x, list(indices_or_sections), axis)


def _cut_points(name: str, value):
    """``tensor_split``'s second argument as an int (a number of sections: an int or a 0-d integer tensor) or a
    list of indices (a sequence or a 1-D integer tensor), as PyTorch reads it."""
    if isinstance(value, Tensor | np.ndarray):
        data = value.numpy() if isinstance(value, Tensor) else value
        if data.dtype.kind not in "iu" or data.ndim > 1:
            raise TypeError(
                f"{name}: a tensor of sections or indices must be a 0-d or 1-D integer tensor, got dtype {data.dtype} "
                f"and shape {data.shape}"
            )
        return int(data) if data.ndim == 0 else [int(i) for i in data]
    if is_int(value):
        return int(value)
    if isinstance(value, Sequence) and all(is_int(i) for i in value):
        return [int(i) for i in value]
    raise TypeError(f"{name}: give a number of sections (an int) or a list of indices to cut at, got {value!r}")


@function()
def tensor_split(x, indices_or_sections=None, dim: int = 0, *, sections=None, indices=None):
    """PyTorch's ``tensor_split``: an int n gives n pieces along ``dim``, the first ``len % n`` one longer
    (⌈len/n⌉ entries, then ⌊len/n⌋); a list of indices cuts before each, as ``x[:i₀], x[i₀:i₁], …, x[iₖ:]``
    (an index past the end or before the previous gives an empty piece, as slicing does).  Each piece is a
    slice: its gradient goes back in place (NumPy's name: :func:`array_split`)."""
    given = [v for v in (indices_or_sections, sections, indices) if v is not None]
    if len(given) != 1:
        raise TypeError("tensor_split: give the sections or the indices once, e.g. x.tensor_split(3, dim=0) or "
                        "x.tensor_split([1, 4], dim=0)")  # fmt: skip
    cut = _cut_points("tensor_split", given[0])
    if sections is not None and not isinstance(cut, int):
        raise TypeError(f"tensor_split: sections= must be an int, got {sections!r}; use indices= for a list of indices")
    return array_split(x, cut, dim=dim)


def _torch_sizes(x: Tensor, split_size_or_sections, axis: int) -> list[int]:
    """PyTorch's split sizes along ``axis``: an int is the size of every piece (the last may be
    smaller), a list the sizes themselves, which must add up to the length."""
    n = x.shape[axis]
    if isinstance(split_size_or_sections, int | np.integer):
        size = int(split_size_or_sections)
        if size <= 0 and n:
            raise InputError(
                f"split: split_size must be a positive int, got {size} for dim {axis} of length {n} "
                f"(shape {x.shape}); give the size of each piece, e.g. x.split(2, dim={axis})"
            )
        return [size] * (n // size) + ([n % size] if n % size else []) if n else [0]
    sizes = [int(k) for k in split_size_or_sections]
    if sum(sizes) != n or any(k < 0 for k in sizes):
        raise InputError(
            f"split: sizes {sizes} do not add up to {n}, the length of dim {axis} of the tensor of shape "
            f"{x.shape}; give non-negative sizes that sum to {n}"
        )
    return sizes


def _split_method(self, split_size=None, dim: int = 0, *, split_size_or_sections=None):
    """PyTorch's ``x.split(split_size, dim=0)``: pieces of that size (the last may be smaller), or
    of the listed sizes."""
    if (split_size is None) == (split_size_or_sections is None):
        raise TypeError("split: give the size of the pieces (or a list of sizes) once, e.g. x.split(2, dim=0)")
    return split(self, split_size if split_size_or_sections is None else split_size_or_sections, dim=dim)


@function(method=_split_method)
def split(x, indices_or_sections, axis: int = 0, dim=None):
    """Pieces along an axis, in two spellings.  NumPy's (``ng.split(x, n)``, ``ng.split(x, n, axis)``):
    an int ``n`` gives ``n`` equal pieces (the length must divide), a list the indices to cut at.
    PyTorch's (``dim=``, and the method ``x.split(s, dim=0)``): an int is the size of each piece
    (the last may be smaller), a list the sizes.  Each piece is a slice: its gradient goes back in place."""
    x = _t(x)
    _needs_a_dim("split", x)
    if dim is not None:
        axis = _ax("split", dim, x.ndim)
        return _pieces(x, list(np.cumsum(_torch_sizes(x, indices_or_sections, axis))[:-1]), axis)
    axis = _ax("split", axis, x.ndim)
    if isinstance(indices_or_sections, int) and indices_or_sections <= 0:
        raise ValueError(
            f"split: the number of pieces must be positive, got {indices_or_sections} for the tensor of shape {x.shape}; "
            "give e.g. ng.split(x, 2), or dim= for PyTorch's pieces of a given size"
        )
    if isinstance(indices_or_sections, int) and x.shape[axis] % indices_or_sections:
        raise ValueError(
            f"split: axis {axis} of length {x.shape[axis]} does not divide into {indices_or_sections} equal pieces; "
            "use array_split, or dim= for PyTorch's pieces of a given size"
        )
    return array_split(x, indices_or_sections, axis)


@function()
def chunk(x, chunks: int, dim: int = 0):
    """PyTorch's chunk: pieces of ⌈n/chunks⌉ along ``dim`` (fewer pieces when they run out)."""
    x = _t(x)
    _needs_a_dim("chunk", x)
    dim = _ax("chunk", dim, x.ndim)
    if not is_int(chunks) or chunks <= 0:
        raise InputError(
            f"chunk: chunks must be a positive int, got {chunks!r} for the tensor of shape {x.shape}; "
            "give the number of pieces, e.g. x.chunk(2, dim=0)"
        )
    size = -(-x.shape[dim] // int(chunks))
    return split(x, max(size, 1), dim=dim)


@function()
def pad(x, pad_width, mode: str = "constant", constant_values=0.0):
    """NumPy's pad with a constant (``pad_width`` per axis as (before, after), or one pair/int for all)."""
    x = _t(x)
    if mode != "constant":
        raise ValueError(f"pad: only mode='constant' is supported, got {mode!r}")
    widths = _pad_widths(pad_width, x)
    shape = tuple(int(n + a + b) for n, (a, b) in zip(x.shape, widths))
    inner = tuple(slice(int(a), int(a) + n) for n, (a, _) in zip(x.shape, widths))
    base = tensor(np.full(shape, constant_values, dtype=x.dtype), device=x.device)
    return ops.index_update(base, inner, x)


def _pad_widths(pad_width, x: Tensor) -> np.ndarray:
    """NumPy's ``pad_width`` as one (before, after) row per axis: given per axis
    (``((b0, a0), (b1, a1), …)``), as one pair for every axis, or one int; never negative."""
    try:
        widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (x.ndim, 2))
    except (ValueError, TypeError):
        raise ValueError(
            f"pad: pad widths {pad_width!r} do not fit the tensor of shape {x.shape}; give one (before, after) "
            f"pair per dim ({x.ndim} pairs), one pair for every dim, or one int"
        ) from None
    if (widths < 0).any():
        raise ValueError(f"pad: pad widths must not be negative, got {pad_width!r} for the tensor of shape {x.shape}")
    return widths


# --- triangles and diagonals ------------------------------------------------------------------------------
@function()
def tril(x, k: int = 0, diagonal=None):
    """The lower triangle (entries with column − row ≤ k), zeros above; ``diagonal`` is PyTorch's name.

    ``tril(x)_ij = x_ij if j − i ≤ k else 0`` — selected, not multiplied by a 0/1 mask, so an
    infinite or NaN entry above the diagonal gives 0 (as PyTorch), not ∞·0 = NaN."""
    x = _t(x)
    k = _diagonal_arg("tril", k if diagonal is None else diagonal, x)
    return _keep_where(x, np.tri(*x.shape[-2:], k=k, dtype=bool))


@function()
def triu(x, k: int = 0, diagonal=None):
    """The upper triangle: ``triu(x)_ij = x_ij if j − i ≥ k else 0`` (selected, as :func:`tril`)."""
    x = _t(x)
    k = _diagonal_arg("triu", k if diagonal is None else diagonal, x)
    return _keep_where(x, ~np.tri(*x.shape[-2:], k=k - 1, dtype=bool))


def _diagonal_arg(name: str, k, x: Tensor) -> int:
    """The diagonal of tril/triu: an int (PyTorch's check), on a tensor of at least 2 dimensions."""
    if not is_int(k):
        raise TypeError(f"{name}: the diagonal must be an int, got {k!r}; give e.g. {name}(x, 1) or diagonal=-1")
    if x.ndim < 2:
        raise InputError(f"{name}: expects a matrix or a batch of them, got shape {x.shape}; reshape it, e.g. x.reshape(1, -1)")
    return int(k)


def _keep_where(x: Tensor, keep: np.ndarray) -> Tensor:
    """``x`` where the constant boolean mask ``keep`` holds, a zero of x's dtype elsewhere."""
    return ops.where(keep, x, tensor(np.zeros((), dtype=x.dtype), device=x.device))


@function()
def diagonal(x, offset: int = 0, axis1: int = 0, axis2: int = 1, dim1=None, dim2=None):
    """The diagonal ``x[i, i + offset]`` of the plane (axis1, axis2), appended as the last axis."""
    x = _t(x)
    a1 = _ax("diagonal", axis1 if dim1 is None else dim1, x.ndim)
    a2 = _ax("diagonal", axis2 if dim2 is None else dim2, x.ndim)
    if a1 == a2:  # a plane needs two dims (PyTorch: "diagonal dimensions cannot be identical")
        raise InputError(
            f"diagonal: the two dims are both {a1} for the tensor of shape {x.shape}; diagonal dims cannot be "
            "identical, give two different dims, e.g. x.diagonal(0, 0, 1)"
        )
    x = moveaxis(x, (a1, a2), (-2, -1))
    m, n = x.shape[-2:]
    rows = np.arange(max(0, -offset), min(m, n - offset)) if min(m, n - offset) > max(0, -offset) else np.arange(0)
    if x.data.__class__ is np.ndarray:  # NumPy: two integer arrays, no copy of the matrices
        return x[..., rows, rows + offset]
    # elsewhere entry (r, r + offset) is entry r·n + r + offset of the flattened matrix: one
    # integer array, which every array API library can index with
    return x.reshape(*x.shape[:-2], m * n)[..., rows * n + rows + offset]


_diagonal = diagonal


@function()
def diag(x, k: int = 0, diagonal=None):
    """A vector's diagonal matrix (on the k-th diagonal), or a matrix's k-th diagonal."""
    x = _t(x)
    k = k if diagonal is None else diagonal
    if x.ndim == 2:
        return _diagonal(x, k)
    if x.ndim != 1:
        raise InputError(f"diag: expects a vector or a matrix, got shape {x.shape}")
    # out[r, r + k] = x[r] (k ≥ 0) or out[c − k, c] = x[c] (k < 0): v = x padded to n, put where
    # the k-th diagonal of the identity is on — v down the rows for k ≥ 0, along the columns for k < 0
    n = x.shape[0] + abs(k)
    v = pad(x, (0, abs(k)))
    on = tensor(np.eye(n, k=k, dtype=bool), device=x.device)
    return _keep_where(v.reshape(n, 1) if k >= 0 else v.reshape(1, n), on)  # (zeros of x's dtype: an int stays int)


@function()
def diag_embed(x, offset: int = 0, dim1: int = -2, dim2: int = -1):
    """PyTorch's diag_embed: each vector of the last dim of ``x`` put on the ``offset``-th diagonal of a square
    matrix whose two dims are ``dim1``, ``dim2`` of the result (which has one dim more than x), zeros elsewhere —
    selected (a ``where``), so no 0 · ∞ reaches an entry; the gradient is the gradient's diagonal."""
    x = _t(x)
    if not x.ndim:
        raise ValueError("diag_embed: needs a tensor of at least 1 dim (its last holds the diagonals), got a 0-d "
                         "tensor; reshape it first, e.g. x.reshape(1)")  # fmt: skip
    if not is_int(offset):
        raise TypeError(f"diag_embed: offset must be an int, got {offset!r}")
    d1, d2 = _ax("diag_embed", dim1, x.ndim + 1), _ax("diag_embed", dim2, x.ndim + 1)
    if d1 == d2:
        raise InputError(f"diag_embed: dim1 and dim2 are both {d1}; give two different dims, e.g. dim1=-2, dim2=-1")
    k = int(offset)
    n = x.shape[-1] + abs(k)
    v = pad(x, ((0, 0),) * (x.ndim - 1) + ((0, abs(k)),)) if k else x  # (…, n)
    on = tensor(np.eye(n, k=k, dtype=bool), device=x.device)
    # out[…, r, r + k] = v[…, r] (k ≥ 0: v down the rows) or out[…, c − k, c] = v[…, c] (k < 0: along the columns)
    lead = x.shape[:-1]
    out = ops.where(on, v.reshape(*lead, n, 1) if k >= 0 else v.reshape(*lead, 1, n), 0)
    return moveaxis(out, (-2, -1), (d1, d2)) if (d1, d2) != (x.ndim - 1, x.ndim) else out


def _unfold_method(self, dimension: int, size: int, step: int):
    """PyTorch's ``x.unfold(dimension, size, step)`` (see :func:`unfold`)."""
    return unfold(self, dimension, size, step)


@function(method=_unfold_method)
def unfold(x, dimension: int, size: int, step: int):
    """PyTorch's ``Tensor.unfold``: the windows ``x[…, s·step : s·step + size, …]`` along ``dimension``, each a
    new last dim of length ``size``; ``dimension`` then counts the ⌊(n − size)/step⌋ + 1 windows.  A gather
    (overlapping windows accumulate their gradients)."""
    x = _t(x)
    for name, v in (("size", size), ("step", step)):
        if not is_int(v):
            raise TypeError(f"unfold: {name} must be an int, got {v!r}")
    if not x.ndim:  # PyTorch's: a 0-d tensor is one entry (size 0 or 1) along dim 0 / −1
        ops.scalar_axis("unfold", dimension)
        return unfold(x.reshape(1), 0, size, step).reshape(-1)
    d = _ax("unfold", dimension, x.ndim)
    n = x.shape[d]
    if step <= 0:
        raise InputError(f"unfold: step must be > 0, got {step}")
    if not 0 <= size <= n:
        raise InputError(f"unfold: size {size} exceeds the size {n} of dim {d} (shape {x.shape}); give size in 0..{n}")
    starts = np.arange(0, n - size + 1, step)
    windows = x[_along(d, starts[:, None] + np.arange(size), x.ndim)]  # (…, count, size, …)
    return moveaxis(windows, d + 1, -1)


# --- gathers and scatters -------------------------------------------------------------------------------
@function()
def take(x, indices, axis=None, *, out=None, mode="raise"):
    """Entries at ``indices`` along ``axis`` (of the flattened tensor when None).  (``out``, ``mode``: NumPy's
    ``np.take(t, i)`` passes ``out=None, mode="raise"``; an array to write into, or wrapping/clipping, is refused.)"""
    ops.no_out("take", out, ValueError)
    if mode != "raise":
        raise ValueError(f"take: mode={mode!r} is not taken; an index out of range is an error (mode='raise'), "
                         "wrap or clip the indices first (i % n, i.clamp(0, n - 1))")  # fmt: skip
    x = _t(x)
    if axis is None:
        flat = x.reshape(-1)
        return guard(flat[_index_array("take", indices, flat, 0, negative=True)], indices)  # torch.take: -numel..numel-1
    axis = _ax("take", axis, x.ndim)
    return guard(x[_along(axis, _index_array("take", indices, x, axis, negative=True), x.ndim)], indices)


def _full_index(idx, axis: int) -> tuple:
    """The index tuple for take_along_axis: ``idx`` along ``axis``, broadcast aranges elsewhere
    (on ``idx``'s device; ``idx`` may be a tensor batched by vmap, its shape the per-example one)."""
    data = idx.data if isinstance(idx, Tensor) else idx
    xp, nd = namespace_of(data), len(idx.shape)
    on = {} if data.__class__ is np.ndarray else {"device": data.device}
    return tuple(
        idx if a == axis else xp.reshape(xp.arange(n, **on), (1,) * a + (n,) + (1,) * (nd - a - 1))
        for a, n in enumerate(idx.shape)
    )


def _take_along_batch(F, prim, args, batched, params):
    """vmap: an unbatched operand is broadcast along the batch axis (to the batch's size, not a
    size-1 axis: the VJP scatters one index per entry of the gradient)."""
    size = next(np.shape(a)[0] for a, b in zip(args, batched) if b)
    x, idx = (a if b else F.broadcast_to(F.expand_dims(a, 0), (size, *np.shape(a))) for a, b in zip(args, batched))
    return F.apply(prim, (x, idx), {"axis": params["axis"] + 1})


# out = x[..., idx, ...] along ``axis``: linear in x, whose VJP scatter-adds g back at idx (a
# primitive rather than an index tuple so that vmap can batch the indices, e.g. argsort's)
TAKE_ALONG = Primitive(
    "take_along_axis",
    lambda x, idx, axis: namespace_of(x).take_along_axis(x, idx, axis),
    (
        lambda F, g, ans, x, idx, axis: F.unindex(g, _full_index(F.data(idx), axis), np.shape(x)),
        None,
    ),
    (lambda F, t, ans, x, idx, axis: F.apply(TAKE_ALONG, (t, idx), {"axis": axis}), None),
    fmt="take_along_axis({0})",
    batch=_take_along_batch,
)


@function(method=False)
def take_along_axis(x, indices, axis: int | None = None, dim: int | None = None, *, who: str = "take_along_axis"):
    """``out[i, j] = x[i, indices[i, j]]`` along ``axis`` (NumPy's take_along_axis; ``dim`` is
    PyTorch's ``take_along_dim``'s name); the gradient is scatter-added back (repeated indices
    accumulate).  Indices in ``-n..n-1``, a negative one counted from the end (NumPy's and
    ``torch.take_along_dim``'s rule)."""
    axis = axis if dim is None else dim
    if axis is None:
        raise TypeError("take_along_axis: give the axis to take along, e.g. take_along_axis(x, idx, axis=1)")
    x = _t(x)
    idx = indices if isinstance(indices, Tensor) else to_device(np.asarray(indices), x.device)
    if idx.ndim != x.ndim:
        raise InputError(f"take_along_axis: indices of shape {idx.shape} need as many axes as x of shape {x.shape}")
    if getattr(idx.dtype, "kind", "i") not in "iu":
        raise TypeError(
            f"take_along_axis: indices must be integers, got dtype {idx.dtype}; convert them, e.g. idx.astype('int64')"
        )
    axis = _ax("take_along_axis", axis, x.ndim)
    if not x.ndim:  # PyTorch's take_along_dim and NumPy's take_along_axis both refuse: no dim to take along
        raise np.exceptions.AxisError(
            f"{who}: a 0-d tensor has no dim {axis} to take along; reshape it first, e.g. x.reshape(1)"
            + (", or leave dim=None (the flattened tensor)" if who == "take_along_dim" else "")
        )
    _index_array(who, idx, x, axis, negative=True)  # NumPy's range: a negative index counts from the end
    # outside ``axis`` x and the indices broadcast (NumPy's and take_along_dim's rule): both are
    # broadcast first, so the gradient's scatter-add sees one index per output entry
    try:
        rest = np.broadcast_shapes(x.shape[:axis] + x.shape[axis + 1 :], idx.shape[:axis] + idx.shape[axis + 1 :])
    except ValueError:
        raise InputError(
            f"take_along_axis: indices of shape {idx.shape} do not broadcast against x of shape {x.shape} "
            f"outside axis {axis}; give sizes equal to x's (or 1) there"
        ) from None
    x_shape = rest[:axis] + (x.shape[axis],) + rest[axis:]
    idx_shape = rest[:axis] + (idx.shape[axis],) + rest[axis:]
    if x.shape != x_shape:
        x = ops.broadcast_to(x, x_shape)
    if idx.shape != idx_shape:
        idx = ops.broadcast_to(idx, idx_shape) if isinstance(idx, Tensor) else namespace_of(idx).broadcast_to(idx, idx_shape)
    return _apply(TAKE_ALONG, (x, idx), {"axis": axis})


@function()
def take_along_dim(x, indices, dim: int | None = None):
    """PyTorch's take_along_dim: ``out[i, j] = x[i, indices[i, j]]`` along ``dim`` (as
    :func:`take_along_axis`, a negative index counted from the end); with ``dim`` None, ``x`` and
    ``indices`` are flattened first and, as PyTorch's, a negative index is refused."""
    if dim is None:
        x = _t(x).reshape(-1)
        indices = indices.reshape(-1) if isinstance(indices, Tensor) else np.reshape(indices, -1)
        _index_array("take_along_dim", indices, x, 0)
        dim = 0
    return take_along_axis(x, indices, dim, who="take_along_dim")


def _permute_method(self: Tensor, *positional, dims=None) -> Tensor:
    """``x.permute(2, 0, 1)``, ``x.permute((2, 0, 1))`` and ``x.permute(dims=(2, 0, 1))`` alike (PyTorch's method)."""
    return permute(self, _dims_arg("permute", positional, dims=dims))


@function(method=_permute_method)
def permute(x, dims: Sequence[int]):
    """PyTorch's ``torch.permute(x, dims)``: axis ``i`` of the result is axis ``dims[i]`` of x
    (NumPy's ``transpose(x, axes)``; the method is ``x.permute(*dims)``)."""
    return ops.transpose(_t(x), tuple(dims))


def _index_array(name: str, index, x: Tensor, dim: int, negative: bool = False):
    """``index`` as an integer array on x's device, every entry in ``0..n-1`` for the length n of
    ``dim`` (``-n..n-1`` with ``negative``: counted from the end, as NumPy's) — else an IndexError
    naming the op, the shapes and the range.  PyTorch's gather, scatter, scatter_add and index_select
    refuse a negative index ("index -1 is out of bounds for dimension 1 with size 3"), which NumPy
    would silently take from the end.  An index tensor batched by vmap stays a tensor (each example
    indexes with its own; :mod:`.rules_index`), its entries checked for all examples at once."""
    idx = index.data if isinstance(index, Tensor) else index if hasattr(index, "shape") else np.asarray(index)
    kind = getattr(getattr(idx, "dtype", None), "kind", "i")
    if kind not in "iu":  # (PyTorch's RuntimeError; a TypeError too)
        raise TensorTypeError(
            f"{name}: the index must hold integers, got dtype {idx.dtype}; convert it, e.g. idx.astype('int64')"
        )
    n = x.shape[dim] if x.ndim else 1
    size = int(np.prod(idx.shape)) if hasattr(idx, "shape") else 1
    if size:
        xp = namespace_of(idx)
        lo, hi, low = int(xp.min(idx)), int(xp.max(idx)), -n if negative else 0
        if lo < low or hi >= n:
            bad = hi if hi >= n else lo
            hint = "" if negative or bad >= n else " (a negative index does not count from the end here, as in PyTorch)"
            raise IndexRangeError(
                f"{name}: index {bad} is out of range for dim {dim} of size {n} (x of shape {x.shape}, index of shape "
                f"{tuple(np.shape(index))}); give indices in {low}..{n - 1}{hint}"
            )
    if isinstance(index, Tensor) and index._tangents and _m.batched(index):
        return index
    return to_device(idx, x.device)


@function()
def gather(x, dim: int, index):
    """PyTorch's gather: ``out[i][j] = x[i][index[i][j]]`` for dim = 1; the index may be smaller
    than x outside ``dim`` (the leading block of x is read, as PyTorch's), never larger.  As PyTorch,
    a 0-d x or index counts as 1-D of size 1 there, and the result has the index's shape."""
    x = _t(x)
    dim = _ax("gather", dim, x.ndim)
    shape = tuple(index.shape) if hasattr(index, "shape") else np.shape(index)
    if not (x.ndim and len(shape)) and x.ndim <= 1 and len(shape) <= 1:  # a 0-d x or index: gather in 1-D
        _index_array("gather", index, x, dim)  # checked here, so an error names x's own shape
        if isinstance(index, Tensor):
            flat = index.reshape(-1)
        else:  # an array of any library, or a list / number
            flat = namespace_of(index).reshape(index, (-1,)) if hasattr(index, "shape") else np.reshape(index, -1)
        return gather(x.reshape(-1), 0, flat).reshape(shape)
    if len(shape) != x.ndim or any(n > m for a, (n, m) in enumerate(zip(shape, x.shape)) if a != dim):
        raise InputError(
            f"gather: index of shape {shape} needs x's {x.ndim} dimensions and no size larger than x's "
            f"{x.shape} outside dim {dim}; give an index of shape (..., k, ...) with the other sizes at most x's"
        )
    _index_array("gather", index, x, dim)
    if any(n < m for a, (n, m) in enumerate(zip(shape, x.shape)) if a != dim):
        x = x[tuple(slice(None) if a == dim else slice(0, n) for a, n in enumerate(shape))]
    return take_along_axis(x, index, dim)


def _scatter_index(name: str, x: Tensor, dim: int, index, src) -> tuple:
    """The full index tuple of a scatter along ``dim`` and src cut to the index's shape (PyTorch
    reads src's leading block), both checked."""
    dim = _ax(name, dim, x.ndim)
    idx = _index_array(name, index, x, dim)
    if idx.ndim != x.ndim or any(n > m for a, (n, m) in enumerate(zip(idx.shape, x.shape)) if a != dim):
        raise InputError(
            f"{name}: index of shape {tuple(idx.shape)} needs x's {x.ndim} dimensions and no size larger than x's "
            f"{x.shape} outside dim {dim}; give an index of the shape of the src block to write"
        )
    if isinstance(src, Tensor) and src.ndim:
        if src.ndim != idx.ndim or any(n > m for n, m in zip(idx.shape, src.shape)):
            raise InputError(
                f"{name}: src of shape {src.shape} is smaller than the index of shape {tuple(idx.shape)}; "
                "give a src at least as large as the index in every dimension"
            )
        src = src[tuple(slice(0, n) for n in idx.shape)]
    return _full_index(idx, dim), src


@function()
def scatter_add(x, dim: int, index, src):
    """PyTorch's scatter_add: ``out = x`` with ``out[i][index[i][j]] += src[i][j]`` (dim = 1);
    repeated indices accumulate.  Gradient: g for x, g gathered at the index for src."""
    x = _t(x)
    where, src = _scatter_index("scatter_add", x, dim, index, _t(src))
    return x + guard(ops.unindex(src, where, x.shape), index)


@function()
def scatter(x, dim: int, index, src=None, value=None):
    """PyTorch's out-of-place scatter: ``out = x`` with ``out[i][index[i][j]] = src[i][j]`` (dim = 1),
    ``src`` a tensor or a number (``value=``).  Gradient as PyTorch's: g with zeros at the written
    entries for x, g gathered at the index for src (with repeated indices the value written is one of them)."""
    x = _t(x)
    if (src is None) == (value is None):
        raise TypeError("scatter: give what to write once, as src (a tensor or a number) or value=")
    src = src if value is None else value
    where, src = _scatter_index("scatter", x, dim, index, src if isinstance(src, Tensor | int | float) else _t(src))
    return guard(ops.index_update(x, where, src), index)


@function()
def index_select(x, dim: int, index):
    """PyTorch's index_select: the entries at the 1-D ``index`` along ``dim`` (``x[:, index]`` for
    dim = 1); the gradient is scatter-added back (repeated indices accumulate)."""
    x = _t(x)
    dim = _ax("index_select", dim, x.ndim)
    idx = _index_array("index_select", index, x, dim)
    if idx.ndim > 1:
        raise ValueError(f"index_select: the index must be 1-D, got shape {tuple(idx.shape)}; flatten it, e.g. index.reshape(-1)")
    # a 0-d index selects one entry, keeping the dim (PyTorch)
    flat = idx.reshape(-1) if isinstance(idx, Tensor) else namespace_of(idx).reshape(idx, (-1,))
    if not x.ndim:  # PyTorch's: a 0-d tensor takes exactly one index (0) and stays 0-d
        if flat.shape[0] != 1:
            raise ValueError(
                f"index_select: a 0-d tensor takes an index of exactly one entry, got {flat.shape[0]} "
                f"(index of shape {tuple(idx.shape)}); give e.g. index=[0]"
            )
        return guard(x.reshape(1)[flat], index).reshape(())
    return guard(x[_along(dim, flat, x.ndim)], index)


@function()
def narrow(x, dim: int, start: int, length: int):
    """PyTorch's narrow: ``length`` entries from ``start`` along ``dim`` (a slice; the gradient goes back in place)."""
    x = _t(x)
    _needs_a_dim("narrow", x)
    dim = _ax("narrow", dim, x.ndim)
    n = x.shape[dim]
    begin = start + n if start < 0 else start
    if not 0 <= begin <= n:  # (PyTorch: an IndexError here, a RuntimeError for the length; both are both here)
        raise IndexRangeError(f"narrow: start {start} is out of range for dim {dim} of size {n} (shape {x.shape}); "
                              f"give a start in {-n}..{n}")  # fmt: skip
    if length < 0 or begin + length > n:
        raise IndexRangeError(
            f"narrow: start {start} and length {length} do not fit dim {dim} of size {n} (shape {x.shape}); "
            f"give a length >= 0 with start + length <= {n}"
        )
    return x[_along(dim, slice(begin, begin + length), x.ndim)]


@function()
def unbind(x, dim: int = 0):
    """PyTorch's unbind: the slices along ``dim`` as a tuple (that dim removed); each slice's gradient goes back in place."""
    x = _t(x)
    _needs_a_dim("unbind", x)
    dim = _ax("unbind", dim, x.ndim)
    return tuple(x[_along(dim, i, x.ndim)] for i in range(x.shape[dim]))


@function()
def unflatten(x, dim: int, sizes):
    """PyTorch's unflatten: ``dim`` split into ``sizes`` (one may be −1); a reshape."""
    x = _t(x)
    _needs_a_dim("unflatten", x)
    dim = _ax("unflatten", dim, x.ndim)
    sizes = tuple(int(k) for k in sizes)
    known = int(np.prod([k for k in sizes if k != -1]))
    n = x.shape[dim]
    if sizes.count(-1) > 1 or (-1 not in sizes and known != n) or (-1 in sizes and (not known or n % known)):
        raise InputError(
            f"unflatten: sizes {sizes} do not multiply to {n}, the size of dim {dim} (shape {x.shape}); "
            "give sizes whose product is that size, at most one of them -1"
        )
    return x.reshape(x.shape[:dim] + sizes + x.shape[dim + 1 :])


@function()
def expand_as(x, other):
    """PyTorch's expand_as: ``x`` broadcast to ``other``'s shape (the gradient is summed back)."""
    return ops.broadcast_to(_t(x), _t(other).shape)


@function()
def t(x):
    """PyTorch's t: a matrix transposed; a vector or a scalar is itself (more dims: use ``transpose``)."""
    x = _t(x)
    if x.ndim > 2:
        raise InputError(f"t: expects a tensor of at most 2 dimensions, got shape {x.shape}; use x.transpose(0, 1) or x.mT")
    return ops.transpose(x) if x.ndim == 2 else x


@function()
def ravel(x):
    """The tensor as a vector (C order)."""
    return _t(x).reshape(-1)
