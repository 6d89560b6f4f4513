"""Indexing with integer arrays: PyTorch's layout, and vmap's batching rules (batched indices included).

Layout.  NumPy and PyTorch put the axes of the advanced (array) indices in the same place — where the
arrays stand when they are adjacent, first when a slice or None separates them — except that NumPy
counts an integer (or a 0-d integer array) among them while PyTorch applies it first as a select:
``y[0, :, [1, 2]]`` is (2, 3) in NumPy and (3, 2) in PyTorch.  :func:`torch_order` moves the block.

vmap.  A batched index is an argument of the op, not a constant of it: :class:`Indexed` wraps
getitem, index_update and unindex with the index arrays as arguments (``Slot(k)`` in the index
stands for the k-th), as JAX's gather takes its indices as an operand, so the batching rule sees
which of them vmap batches.  The rules (:func:`batched_index`) index the batched data with

* the batch axis sliced, when no index array is batched: ``x[:, *index]``;
* an ``arange`` over the batch axis joining the batched arrays, when both are batched:
  ``x[arange(B)[:, None…], *index]`` reads example b's entries at example b's indices;
* the batched arrays alone when ``x`` is the same for every example: ``x[*index]`` (the table is
  read, and its gradient scatter-added, once — never copied per example);

then move the batch axis first and the advanced block where the per-example op puts it.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from ..backend.checks import is_int
from ..backend.namespace import namespace_of
from . import grad_mode as _m
from . import rules as R
from .primitive import Primitive, pad_batched
from .tensor import TENSOR_NS, Tensor, as_tensor


class Slot:
    """In the index of an :class:`Indexed` op: its ``k``-th index array argument."""

    __slots__ = ("k",)

    def __init__(self, k: int):
        self.k = k

    def __repr__(self) -> str:
        return f"Slot({self.k})"


def fill(index, arrays: Sequence):
    """``index`` with each ``Slot(k)`` replaced by ``arrays[k]``."""
    if isinstance(index, tuple):
        return tuple(arrays[p.k] if isinstance(p, Slot) else p for p in index)
    return arrays[index.k] if isinstance(index, Slot) else index


class Indexed(Primitive):
    """``base`` (getitem, index_update or unindex: ``nargs`` arguments) whose index holds integer arrays
    given as further arguments.  Value, VJP and JVP are ``base``'s on the filled index (the tape and the
    rules see whole arrays, every batch axis an ordinary one); the VJPs read the index arrays."""

    __slots__ = ("base", "nargs")

    def __init__(self, base: Primitive, nargs: int):
        super().__init__(base.name, self._value, (), (), base.fmt, base.batch)
        self.base, self.nargs = base, nargs

    def _value(self, *args, index, **params):
        return self.base.fn(*args[: self.nargs], index=fill(index, args[self.nargs :]), **params)

    def _filled(self, F, args: Sequence, params: dict) -> dict:
        return {**params, "index": fill(params["index"], [F.data(a) for a in args[self.nargs :]])}

    def vjp(self, F, g, ans, args, params, needs) -> list:
        n = self.nargs
        return self.base.vjp(F, g, ans, args[:n], self._filled(F, args, params), needs[:n]) + [None] * (len(args) - n)

    def jvp(self, F, tangents, ans, args, params):
        n = self.nargs
        return self.base.jvp(F, tangents[:n], ans, args[:n], self._filled(F, args, params))

    def saved(self, needs: Sequence[bool]) -> frozenset:
        return frozenset(range(self.nargs, len(needs))) if any(needs[: self.nargs]) else frozenset()


# --- where an index puts its axes -------------------------------------------------------------------------
class Layout(NamedTuple):
    """The axes of ``x[index]``: ``basic`` from slices and None (and ``...``), ``adv`` from the advanced
    indices broadcast together, placed at ``at`` among the basic ones by NumPy (``joined``: the advanced
    indices, integers counted, are adjacent; else they go first) and at ``torch_at`` by PyTorch."""

    basic: int
    adv: int
    at: int
    joined: bool
    torch_at: int


def _kind(p, per_ndim: int | None) -> tuple[str, int]:
    """One index entry: ``s`` slice, ``n`` None, ``e`` Ellipsis, ``i`` integer (or 0-d integer array),
    ``a`` integer array, ``m`` boolean mask (a bool, or an array), with its array's number of axes."""
    if p is None:
        return "n", 0
    if isinstance(p, slice):
        return "s", 0
    if p is Ellipsis:
        return "e", 0
    if isinstance(p, bool | np.bool_):
        return "m", 0
    if is_int(p):
        return "i", 0
    if isinstance(p, list):
        p = np.asarray(p)
    data = p.data if isinstance(p, Tensor) else p
    nd = len(p.shape) if per_ndim is None else per_ndim
    if namespace_of(data).numpy_dtype(data.dtype).kind == "b":
        return "m", nd
    return ("a", nd) if nd else ("i", 0)


def _block(flat: list[str], advanced: str) -> tuple[int, bool]:
    """Where NumPy puts the advanced entries' axes among the basic ones (``b``), and whether they are adjacent."""
    pos = [k for k, f in enumerate(flat) if f in advanced]
    if not pos:
        return 0, True
    joined = pos[-1] - pos[0] + 1 == len(pos)
    return (flat[: pos[0]].count("b") if joined else 0), joined


def layout(parts: Sequence, ndim: int, per_ndims: Sequence[int | None] | None = None) -> Layout | None:
    """The :class:`Layout` of the index ``parts`` on a tensor of ``ndim`` axes (``per_ndims``: each
    entry's own number of axes where it differs from its array's, as for a batched one); None for
    basic indexing (no array, integers are plain selects)."""
    kinds = [_kind(p, None if per_ndims is None else per_ndims[k]) for k, p in enumerate(parts)]
    if not any(k in "am" or (k == "i" and not is_int(p)) for (k, _), p in zip(kinds, parts)):
        return None
    spanned = sum(nd if k == "m" else k in "sia" for k, nd in kinds)  # the axes of x the entries index
    if not any(k == "e" for k, _ in kinds):  # the axes an index leaves out are sliced whole: a trailing ...
        kinds.append(("e", 0))
    flat: list[str] = []
    for k, _ in kinds:
        if k == "e":
            flat += ["b"] * (ndim - spanned)
        elif k in "sn":
            flat.append("b")
        else:
            flat.append("a" if k in "am" else "i")
    adv = max((nd if k == "a" else 1 for k, nd in kinds if k in "am"), default=0)
    at, joined = _block(flat, "ai")
    torch_at, _ = _block([f for f in flat if f != "i"], "a")
    return Layout(flat.count("b"), adv, at, joined, torch_at)


def _perm(total: int, n: int, src: int, dst: int) -> tuple[int, ...] | None:
    """The axes order that moves the ``n`` axes starting at ``src`` to start at ``dst`` (None: no move)."""
    if src == dst or not n:
        return None
    block = list(range(src, src + n))
    rest = [a for a in range(total) if not src <= a < src + n]
    return tuple(rest[:dst] + block + rest[dst:])


def _parts(index) -> tuple:
    return index if isinstance(index, tuple) else (index,)


def _may_move(index) -> bool:
    """Whether NumPy's and PyTorch's layouts of ``index`` can differ: a tuple of three entries or more
    holding an integer (or a 0-d array) and an array (one loop: most indices are told apart at once)."""
    if index.__class__ is not tuple or len(index) < 3:
        return False
    arrays = ints = False
    for p in index:
        if p.__class__ is slice or p is None or p is Ellipsis:
            continue
        if p.__class__ is int:
            ints = True
        elif hasattr(p, "shape"):
            if len(p.shape):
                arrays = True
            else:
                ints = True
        elif isinstance(p, list):
            arrays = True
        elif is_int(p):
            ints = True
    return arrays and ints


_INDEX_DTYPES = frozenset(np.dtype(d) for d in ("int64", "int32", "bool"))  # PyTorch's (and uint8, a mask)
_UINT8 = np.dtype(np.uint8)


def torch_index(index, who: str):
    """``index`` of ``x[index]`` (``who``: getitem or setitem) read as PyTorch reads it, where NumPy differs: a
    negative slice step is refused (``x.flip(d)`` reverses); an index tensor must be int64, int32, bool or uint8,
    and a uint8 one is a mask (PyTorch's deprecated reading, with its warning); an empty list or array selects
    nothing (NumPy would call ``[]`` a float array).  The same object back when nothing changes (the common case:
    ints and plain slices pass at one class test each)."""
    if index.__class__ is not tuple:
        return _torch_part(index, who)
    parts = None
    for k, p in enumerate(index):
        if p.__class__ is int or p.__class__ is slice and p.step is None:  # (the common entries: one test)
            continue
        q = _torch_part(p, who)
        if q is not p:
            parts = parts or list(index)
            parts[k] = q
    return index if parts is None else tuple(parts)


def _torch_part(p, who: str):
    """One entry of an index, as :func:`torch_index` reads it."""
    cls = p.__class__
    if cls is int or p is None or p is Ellipsis:
        return p
    if cls is slice:
        if p.step is not None and is_int(p.step) and p.step < 0:
            raise ValueError(f"{who}: step must be greater than zero (PyTorch's rule), got the slice {p}; reverse "
                             "with x.flip(dim) instead, e.g. x.flip(0)[::2] for x[::-2]")  # fmt: skip
        return p
    if cls is list:
        return p if len(p) else np.zeros(0, dtype=np.int64)  # torch.tensor([]) as an index: no entries, int64
    if not (cls is Tensor or cls is np.ndarray or isinstance(p, Tensor)):
        return p
    dtype = p.dtype
    if dtype in _INDEX_DTYPES:
        return p
    if dtype == _UINT8:
        warnings.warn(f"{who}: indexing with dtype uint8 is now deprecated, please use a dtype bool instead (a uint8 "
                      "index is read as a mask, as PyTorch reads it)", UserWarning, stacklevel=4)  # fmt: skip
        return p.astype(np.bool_)
    if not (p.numel() if isinstance(p, Tensor) else p.size) and dtype.kind in "fiu":
        return np.zeros(p.shape, dtype=np.int64)  # an empty index selects nothing, whatever its dtype
    if isinstance(p, Tensor) and dtype.kind in "iu":
        raise IndexError(f"{who}: tensors used as indices must be long, int, byte or bool tensors, got {dtype} "
                         f"(index of shape {p.shape}); convert it, e.g. index.long()")  # fmt: skip
    return p


def torch_order(out: Tensor, index, x: Tensor) -> Tensor:
    """``out = x[index]`` (NumPy's layout) in PyTorch's: the advanced block moved where PyTorch puts it
    when an integer separates it from NumPy's place (``y[0, :, [1, 2]]``)."""
    if not _may_move(index):
        return out
    lay = layout(index, x.ndim)
    perm = lay and _perm(lay.basic + lay.adv, lay.adv, lay.at, lay.torch_at)
    return out if perm is None else TENSOR_NS.apply(R.TRANSPOSE, (out,), {"axes": perm})


def numpy_order(value, index, ndim: int):
    """A value written at ``x[index]``, given in PyTorch's layout of ``x[index]``, in NumPy's (the
    inverse of :func:`torch_order`): broadcast to the result's rank first, then the block moved back."""
    if not _may_move(index) or not (hasattr(value, "shape") or isinstance(value, list)):
        return value
    lay = layout(index, ndim)
    perm = lay and _perm(lay.basic + lay.adv, lay.adv, lay.torch_at, lay.at)
    if perm is None:
        return value
    v = value if isinstance(value, Tensor) else as_tensor(np.asarray(value) if isinstance(value, list) else value)
    rank = lay.basic + lay.adv
    v = TENSOR_NS.reshape(v, (1,) * (rank - v.ndim) + tuple(v.shape)) if v.ndim < rank else v
    return TENSOR_NS.apply(R.TRANSPOSE, (v,), {"axes": perm})


# --- the ops, their index arrays as arguments when vmap batches them ----------------------------------
def apply_index(base: Primitive, args: tuple, index, **params) -> Tensor:
    """``base`` (GETITEM, INDEX_UPDATE or UNINDEX) applied with ``index``; the tensors in it (those vmap
    batches) passed as arguments through :class:`Indexed`.  A boolean mask batched by vmap is refused:
    each example would select a different number of entries, and vmap needs one shape (torch.func
    refuses it too)."""
    if index.__class__ is not tuple and not isinstance(index, Tensor):
        return TENSOR_NS.apply(base, args, {**params, "index": index})
    parts = _parts(index)
    arrays = [p for p in parts if isinstance(p, Tensor)]
    if not arrays:
        return TENSOR_NS.apply(base, args, {**params, "index": index})
    for p in arrays:
        if p.dtype.kind == "b" and _m.batched(p):
            raise RuntimeError(
                f"{base.name}: a boolean mask batched by vmap selects a different number of entries in each "
                f"example (mask of per-example shape {p.shape}), and vmap needs one shape; keep the shape with "
                "ng.where(mask, x, 0) or x.masked_fill(~mask, 0), or index with the mask outside vmap"
            )
    count = itertools.count()
    template = tuple(Slot(next(count)) if isinstance(p, Tensor) else p for p in parts)
    return TENSOR_NS.apply(INDEXED[base], (*args, *arrays), {**params, "index": template})


# --- batching rules ----------------------------------------------------------------------------------------
def _split(prim: Primitive, args: tuple, batched: Sequence[bool], params: dict):
    """The operands, whether each is batched, the index entries (Slots filled) and whether each is batched."""
    n = prim.nargs if isinstance(prim, Indexed) else len(args)
    parts = _parts(params["index"])
    flags = [isinstance(p, Slot) and batched[n + p.k] for p in parts]
    return args[:n], batched[:n], fill(parts, args[n:]), flags


def _masks_as_positions(parts: tuple, flags: Sequence[bool]) -> tuple[tuple, list[bool]]:
    """Each boolean mask (the same for every example) as the integer arrays of its positions, NumPy's
    meaning of it, which every array library indexes with beside other entries."""
    out, marks = [], []
    for p, f in zip(parts, flags):
        if not f and not isinstance(p, Tensor) and len(getattr(p, "shape", ())) and _kind(p, None)[0] == "m":
            found = namespace_of(p).nonzero(p)
            out += found
            marks += [False] * len(found)
        else:
            out.append(p)
            marks.append(f)
    return tuple(out), marks


def batched_index(F, parts: tuple, flags: Sequence[bool], ndim: int, x_batched: bool, like):
    """The per-example index ``parts`` of a tensor of ``ndim`` axes (``flags``: the entries batched, their
    batch axis first) as one index of the batched data (``x_batched``: its batch axis first, else it is
    the same for every example), the axes order taking NumPy's result of it to (batch, per-example result),
    and the per-example result's rank."""
    parts, flags = _masks_as_positions(parts, flags)
    lay = layout(parts, ndim, [len(p.shape) - 1 if f else None for p, f in zip(parts, flags)])
    if lay is None:  # basic indexing: an integer drops an axis, None adds one
        rank = ndim - sum(is_int(p) for p in parts) + sum(p is None for p in parts)
    else:
        rank = lay.basic + lay.adv
    if not any(flags):  # x[:, *index]: NumPy's block comes first, before the batch axis, if the arrays are apart
        perm = None if lay is None or lay.joined else _perm(1 + rank, 1, lay.adv, 0)
        return (slice(None), *parts), perm, rank
    padded = tuple(pad_batched(F, p, lay.adv) if f else p for p, f in zip(parts, flags))
    if not x_batched:  # the batched arrays alone: the batch axis leads NumPy's block
        return padded, _perm(1 + rank, 1, lay.at, 0), rank
    size = next(p.shape[0] for p, f in zip(parts, flags) if f)
    data = F.data(like)
    xp, on = namespace_of(data), {} if data.__class__ is np.ndarray else {"device": data.device}
    examples = xp.reshape(xp.arange(size, **on), (size,) + (1,) * lay.adv)  # example b reads at example b's index
    return (examples, *padded), _perm(1 + rank, lay.adv, 1, 1 + lay.at), rank


def _batch_getitem(F, prim, args, batched, params):
    (x,), (xb,), parts, flags = _split(prim, args, batched, params)
    where, perm, _ = batched_index(F, parts, flags, len(x.shape) - xb, xb, x)
    out = apply_index(R.GETITEM, (x,), where)
    return out if perm is None else F.transpose(out, perm)


def _as_batched(F, v, is_batched: bool, rank: int, perm):
    """A value (or cotangent) of the per-example result, of ``rank`` axes, laid out as NumPy's result of
    the batched index (the inverse of ``perm``); a number stays as it is."""
    if not hasattr(v, "shape"):
        return v
    shape = tuple(v.shape)
    v = pad_batched(F, v, rank) if is_batched else F.reshape(v, (1,) * (1 + rank - len(shape)) + shape)
    return v if perm is None else F.transpose(v, tuple(int(a) for a in np.argsort(perm)))


def _batch_index_update(F, prim, args, batched, params):
    (x, v), (xb, vb), parts, flags = _split(prim, args, batched, params)
    per = tuple(x.shape)[1:] if xb else tuple(x.shape)
    if not xb:  # the result differs between examples: one copy of x each
        size = (v if vb else next(p for p, f in zip(parts, flags) if f)).shape[0]
        x = F.broadcast_to(F.reshape(x, (1, *per)), (size, *per))
    where, perm, rank = batched_index(F, parts, flags, len(per), True, x)
    return apply_index(R.INDEX_UPDATE, (x, _as_batched(F, v, vb, rank, perm)), where)


def _batch_unindex(F, prim, args, batched, params):
    (g,), (gb,), parts, flags = _split(prim, args, batched, params)
    size = (g if gb else next(p for p, f in zip(parts, flags) if f)).shape[0]
    shape = tuple(params["shape"])
    where, perm, rank = batched_index(F, parts, flags, len(shape), True, g)
    return apply_index(R.UNINDEX, (_as_batched(F, g, gb, rank, perm),), where, shape=(size, *shape))


R.GETITEM.batch = _batch_getitem
R.INDEX_UPDATE.batch = _batch_index_update
R.UNINDEX.batch = _batch_unindex
INDEXED = {base: Indexed(base, n) for base, n in ((R.GETITEM, 1), (R.INDEX_UPDATE, 2), (R.UNINDEX, 1))}
