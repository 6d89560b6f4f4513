"""Which array library holds an array, and the one adapter for what NumPy and the standard spell differently.

The engine's values are written against a namespace with NumPy's names (``xp.exp``,
``xp.concatenate``, ``xp.transpose(x, axes)``, ``xp.add_at``); :func:`namespace_of` gives it for
an array.  For a NumPy array it is :data:`NUMPY` (NumPy's own functions, the fast path); for any
other array it is an :class:`ArrayAPINamespace` over that library's Python array API namespace
(``array_api_compat.array_namespace`` when installed, else the array's ``__array_namespace__``),
which maps NumPy's names to the standard's (``arcsin`` → ``asin``, ``power`` → ``pow``,
``concatenate`` → ``concat``, ``transpose`` → ``permute_dims``) and supplies what the standard
lacks (a scatter-add for repeated indices, ``einsum``: the library's own, else :mod:`.einsum`'s
from standard calls).  Nothing else in
nablagrad calls a NumPy function on tensor data.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from types import ModuleType

import numpy as np

from .einsum import einsum as standard_einsum

ndarray = np.ndarray

# NumPy's name -> the array API standard's name, where they differ
RENAMED = {
    "arcsin": "asin",
    "arccos": "acos",
    "arctan": "atan",
    "arcsinh": "asinh",
    "arccosh": "acosh",
    "arctanh": "atanh",
    "arctan2": "atan2",
    "power": "pow",
    "true_divide": "divide",
    "absolute": "abs",
    "invert": "bitwise_invert",
    "concatenate": "concat",
    "cumsum": "cumulative_sum",
    "cumprod": "cumulative_prod",
    "left_shift": "bitwise_left_shift",
    "right_shift": "bitwise_right_shift",
}


# dtype -> the largest count it holds exactly: there one division rounds (Σ x)/n as np.mean does
_EXACT_MEAN_DTYPES = {np.dtype(np.float32): 1 << 24, np.dtype(np.float64): 1 << 53}


class NumpyNamespace:
    """NumPy's functions under their own names, plus the few the engine needs beyond them."""

    name = "numpy"
    xp: ModuleType = np

    def __getattr__(self, name: str):
        f = getattr(np, name)
        setattr(self, name, f)  # the next lookup is a plain attribute
        return f

    @staticmethod
    def forward(fn: Callable) -> Callable:
        """A primitive's value as written: NumPy's own functions."""
        return fn

    @staticmethod
    def mean(x, axis=None, keepdims: bool = False, **kwargs):
        """``np.mean``'s numbers, ``(Σ x) / n``, without its Python wrapper for a float32 or float64 array
        (3.5 µs a call, several times that inside a training step, where the kernels have evicted the
        interpreter's data from the cache).  The sum is ``np.add.reduce``, the pairwise sum ``np.mean``
        calls; ``np.mean`` then divides in float64 and rounds to the array's dtype, which gives the
        correctly rounded quotient that one division in that dtype gives (n exact in it).  Anything
        else (float16, integers, ``dtype=``, ``where=``, an empty or huge reduction) is ``np.mean``'s."""
        if kwargs or x.__class__ is not np.ndarray or x.dtype not in _EXACT_MEAN_DTYPES:
            return np.mean(x, axis=axis, keepdims=keepdims, **kwargs)
        if axis is None:
            n = x.size
        elif axis.__class__ is int:
            n = x.shape[axis] if -x.ndim <= axis < x.ndim else 0
        else:
            return np.mean(x, axis=axis, keepdims=keepdims)
        if not 0 < n <= _EXACT_MEAN_DTYPES[x.dtype]:
            return np.mean(x, axis=axis, keepdims=keepdims)  # its warning for an empty slice, its error for a bad axis
        return np.add.reduce(x, axis=axis, keepdims=keepdims) / n

    @staticmethod
    def add_at(out: np.ndarray, index, values) -> None:
        """``out[index] += values`` where repeated indices accumulate (``np.add.at``)."""
        np.add.at(out, index, values)

    @staticmethod
    def set_at(out: np.ndarray, index, values) -> None:
        """``out[index] = values`` (NumPy writes any index itself)."""
        out[index] = values

    @staticmethod
    def zeros(shape, dtype, device=None) -> np.ndarray:
        return np.zeros(shape, dtype=dtype)

    @staticmethod
    def getitem(x, index):
        return x[index]

    @staticmethod
    def full_index(index, ndim: int):
        """The index as it is: NumPy fills missing trailing axes itself."""
        return index

    @staticmethod
    def asarray(x, dtype=None, device=None, copy=None) -> np.ndarray:
        return np.array(x, dtype=dtype) if copy else np.asarray(x, dtype=dtype)  # (NumPy 1.x has no copy=None)

    @staticmethod
    def astype(x, dtype) -> np.ndarray:
        return np.asarray(x).astype(dtype, copy=False)

    @staticmethod
    def native_dtype(dtype):
        return np.dtype(dtype)

    @staticmethod
    def numpy_dtype(dtype) -> np.dtype:
        return np.dtype(dtype)

    @staticmethod
    def device(x):
        return "cpu"

    @staticmethod
    def to_numpy(x) -> np.ndarray:
        return np.asarray(x)

    def __repr__(self) -> str:
        return "NumpyNamespace()"


NUMPY = NumpyNamespace()


class ArrayAPINamespace:
    """An array API namespace ``xp`` seen through NumPy's names (the adapter).

    A name the standard spells as NumPy does resolves to ``xp``'s function; the renamed ones go
    through :data:`RENAMED`; the methods below are those whose signature or existence differs.
    """

    def __init__(self, xp: ModuleType, native: ModuleType | None = None):
        self.xp = xp
        self.native = native or xp  # the library itself (cupy), for what the standard lacks
        self.name = getattr(self.native, "__name__", str(xp)).split(".")[0]
        info = xp.__array_namespace_info__() if hasattr(xp, "__array_namespace_info__") else None
        names = info.dtypes() if info is not None else {n: getattr(xp, n) for n in ("float32", "float64", "int64", "bool")}
        self._to_numpy_dtype = {d: np.dtype(n) for n, d in names.items()}
        self._forwards: dict[object, Callable] = {}

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        f = getattr(self.xp, RENAMED.get(name, name))
        setattr(self, name, f)
        return f

    def __repr__(self) -> str:
        return f"ArrayAPINamespace({self.name})"

    # --- the forward value of a primitive written with NumPy's functions ------------------------------
    def forward(self, fn: Callable) -> Callable:
        """``fn`` for this library: a NumPy function or ufunc by its name here; Python code (which
        takes its namespace from its arguments) as it is."""
        f = self._forwards.get(fn)
        if f is None:
            numpy_made = isinstance(fn, np.ufunc) or getattr(fn, "__module__", None) in ("numpy", "numpy.linalg")
            linalg = getattr(fn, "__module__", None) == "numpy.linalg"
            f = getattr(self.xp.linalg, fn.__name__) if linalg else getattr(self, fn.__name__) if numpy_made else fn
            self._forwards[fn] = f
        return f

    # --- dtypes and devices -------------------------------------------------------------------------------
    def native_dtype(self, dtype):
        """This library's dtype for a NumPy dtype, a name or a scalar type (or one of its own)."""
        if isinstance(dtype, np.dtype | str | type):
            return getattr(self.xp, np.dtype(dtype).name)
        return dtype

    def numpy_dtype(self, dtype) -> np.dtype:
        """The NumPy dtype of one of this library's dtypes (NumPy's own pass through)."""
        if isinstance(dtype, np.dtype):
            return dtype
        return self._to_numpy_dtype[dtype] if dtype in self._to_numpy_dtype else np.dtype(dtype)

    def device(self, x):
        return x.device

    def asarray(self, x, dtype=None, device=None, copy=None):
        dtype = None if dtype is None else self.native_dtype(dtype)
        if isinstance(x, ndarray | np.generic) and not hasattr(self.native, "asnumpy"):
            if x.dtype.kind in "iub" and x.ndim == 0:  # a Python number, keeping its dtype (0-d uint8 stays uint8)
                x, dtype = x.tolist(), self.native_dtype(x.dtype) if dtype is None else dtype
        return self.xp.asarray(x, dtype=dtype, device=device, copy=copy)

    def to_numpy(self, x) -> np.ndarray:
        """A host copy: CuPy's ``get``; else DLPack, which the standard specifies."""
        if hasattr(x, "get") and hasattr(self.native, "asnumpy"):
            return x.get()
        return np.from_dlpack(x).copy()

    def copy(self, x):
        return self.xp.asarray(x, copy=True)

    def array(self, x, dtype=None):
        """A copy of ``x`` (as ``dtype``), like ``np.array``."""
        return self.xp.asarray(x, dtype=None if dtype is None else self.native_dtype(dtype), copy=True)

    def full_like(self, x, fill_value, dtype=None):
        return self.xp.full_like(x, fill_value, dtype=None if dtype is None else self.native_dtype(dtype))

    def zeros(self, shape, dtype, device=None):
        return self.xp.zeros(shape, dtype=self.native_dtype(dtype), device=device)

    def astype(self, x, dtype):
        return self.xp.astype(x, self.native_dtype(dtype))

    # --- NumPy signatures the standard spells differently ---------------------------------------------------
    def transpose(self, x, axes=None):
        return self.xp.permute_dims(x, tuple(range(x.ndim - 1, -1, -1)) if axes is None else tuple(axes))

    def swapaxes(self, x, a: int, b: int):
        axes = list(range(x.ndim))
        axes[a], axes[b] = axes[b], axes[a]
        return self.xp.permute_dims(x, tuple(axes))

    def squeeze(self, x, axis=None):
        if axis is None:
            axis = tuple(i for i, n in enumerate(x.shape) if n == 1)
        return self.xp.squeeze(x, axis=axis)

    def stack(self, xs, axis: int = 0):
        return self.xp.stack(tuple(xs), axis=axis)

    def concatenate(self, xs, axis: int = 0):
        return self.xp.concat(tuple(xs), axis=axis)

    def clip(self, x, lo=None, hi=None):
        return self.xp.clip(x, lo, hi)

    def std(self, x, axis=None, keepdims=False, ddof=0):
        return self.xp.std(x, axis=axis, keepdims=keepdims, correction=ddof)

    def exp2(self, x):
        return self.xp.pow(2.0, x)

    def fmod(self, x, y):
        """C's fmod, ``x − y·trunc(x/y)`` (the standard has only ``remainder``); on integers the
        remainder with the dividend's sign."""
        x, y = self._promoted(x, y)
        if self.numpy_dtype(self.xp.result_type(x, y)).kind == "f":
            return x - y * self.xp.trunc(x / y)
        r = self.xp.remainder(x, y)
        return self.xp.where((r != 0) & ((r < 0) != (x < 0)), r - y, r)

    # --- booleans in arithmetic, as PyTorch (and NumPy) promote them; the standard refuses them -----------
    def _is_bool(self, x) -> bool:
        return hasattr(x, "dtype") and x.dtype == self.xp.bool

    def _promoted(self, *args):
        """Operands of mixed kinds cast to the dtype PyTorch (and NumPy) computes in, where the
        standard refuses to promote: a bool array takes the integers' dtype, integer arrays the
        floats' (float32 with int64 is float32); with only Python numbers beside them, bools
        become int64 for an int and float64 for a float (exact, for comparisons)."""
        arrays = [a for a in args if hasattr(a, "dtype")]
        kinds = {self.numpy_dtype(a.dtype).kind for a in arrays}
        numbers = any(isinstance(a, float | int) and not isinstance(a, bool) for a in args)
        if len(kinds) < 2 and not (numbers and kinds & set("biu")):
            return args
        floats = [a.dtype for a in arrays if self.numpy_dtype(a.dtype).kind == "f"]
        ints = [a.dtype for a in arrays if self.numpy_dtype(a.dtype).kind in "iu"]
        if floats:
            dtype = self.xp.result_type(*floats)
        elif any(isinstance(a, float) for a in args):
            dtype = self.xp.float64
        elif ints:
            dtype = self.xp.result_type(*ints)
        else:
            dtype = self.xp.int64
        return tuple(self.xp.astype(a, dtype) if hasattr(a, "dtype") and a.dtype != dtype else a for a in args)

    def _binary(name: str, both_bool: str | None = None):  # noqa: N805 - builds methods below
        """A binary function of the standard with operands promoted (:meth:`_promoted`); two
        bool arrays go to the logical function ``both_bool`` (``True + True`` is ``True`` in PyTorch)."""

        def f(self, x, y):
            if both_bool is not None and self._is_bool(x) and self._is_bool(y):
                return getattr(self.xp, both_bool)(x, y)
            return getattr(self.xp, name)(*self._promoted(x, y))

        f.__name__ = name
        return f

    add = _binary("add", "logical_or")
    multiply = _binary("multiply", "logical_and")
    maximum = _binary("maximum", "logical_or")
    minimum = _binary("minimum", "logical_and")
    power = _binary("pow")
    remainder = _binary("remainder")
    floor_divide = _binary("floor_divide")
    less = _binary("less")
    less_equal = _binary("less_equal")
    greater = _binary("greater")
    greater_equal = _binary("greater_equal")
    equal = _binary("equal")
    not_equal = _binary("not_equal")
    del _binary

    def where(self, cond, x, y):
        return self.xp.where(cond, *self._promoted(x, y))

    def sum(self, x, axis=None, keepdims=False, dtype=None):
        """Σ; bools count as int64 (NumPy's and PyTorch's sum of a mask)."""
        return self.xp.sum(self._counted(x), axis=axis, keepdims=keepdims, dtype=dtype)

    def prod(self, x, axis=None, keepdims=False, dtype=None):
        return self.xp.prod(self._counted(x), axis=axis, keepdims=keepdims, dtype=dtype)

    def _counted(self, x):
        """A bool array as int64 (the standard sums only numbers)."""
        return self.xp.astype(x, self.xp.int64) if self._is_bool(x) else x

    def cumsum(self, x, axis=None):
        return self.xp.cumulative_sum(self._counted(x), axis=axis)

    def max(self, x, axis=None, keepdims=False):
        """The largest entry; of bools, whether any is set."""
        return (self.xp.any if self._is_bool(x) else self.xp.max)(x, axis=axis, keepdims=keepdims)

    def min(self, x, axis=None, keepdims=False):
        return (self.xp.all if self._is_bool(x) else self.xp.min)(x, axis=axis, keepdims=keepdims)

    def full_index(self, index, ndim: int):
        """NumPy's partial index (``x[0]`` of a matrix) completed with ``...``, as the standard asks
        (an index with arrays is left as it is: see :meth:`getitem`)."""
        parts = index if isinstance(index, tuple) else (index,)
        if any(p is Ellipsis or hasattr(p, "shape") for p in parts) or sum(p is not None for p in parts) >= ndim:
            return index
        return (*parts, Ellipsis)

    def getitem(self, x, index):
        """``x[index]`` with NumPy's rules where the standard is narrower: a partial index is
        completed with ``...``; one integer array among slices becomes a ``take`` along its axis;
        several (or one with integers) among slices become integer arrays on every axis
        (:meth:`_all_arrays`), since the standard allows arrays only with integers, on every axis."""
        parts = index if isinstance(index, tuple) else (index,)
        arrays = [i for i, p in enumerate(parts) if hasattr(p, "shape") and self.numpy_dtype(p.dtype).kind in "iu"]
        if not arrays or any(p is None for p in parts) or len(arrays) < sum(hasattr(p, "shape") for p in parts):
            return x[self.full_index(index, x.ndim)]
        if any(p is Ellipsis for p in parts):
            at = next(i for i, p in enumerate(parts) if p is Ellipsis)
            parts = parts[:at] + (slice(None),) * (x.ndim - len(parts) + 1) + parts[at + 1 :]
        parts = parts + (slice(None),) * (x.ndim - len(parts))
        if all(not isinstance(p, slice) for p in parts):
            return x[parts]
        if len(arrays) > 1 or any(isinstance(p, int) for p in parts):
            return self._all_arrays(x, parts)
        k = next(i for i, p in enumerate(parts) if hasattr(p, "shape"))
        positions = parts[k]
        taken = self.xp.take(x, self.xp.reshape(positions, (-1,)), axis=k)
        taken = self.xp.reshape(taken, tuple(x.shape[:k]) + tuple(positions.shape) + tuple(x.shape[k + 1 :]))
        rest = parts[:k] + (slice(None),) * positions.ndim + parts[k + 1 :]
        return taken[self.full_index(rest, taken.ndim)]

    def _all_arrays(self, x, parts: tuple):
        """``x[parts]`` (one entry per axis: slices, integers, integer arrays) by NumPy's advanced
        indexing: the slices applied first, then an integer array on every axis — the advanced
        entries broadcast to ``B``, each sliced axis an ``arange`` along its place in the result,
        which is ``B`` in place of the advanced entries when they are adjacent, else ``B`` first."""
        xp = self.xp
        x = x[tuple(p if isinstance(p, slice) else slice(None) for p in parts)]
        advanced = [i for i, p in enumerate(parts) if not isinstance(p, slice)]
        sliced = [i for i, p in enumerate(parts) if isinstance(p, slice)]
        b = tuple(np.broadcast_shapes(*(tuple(getattr(parts[i], "shape", ())) for i in advanced)))
        adjacent = advanced == list(range(advanced[0], advanced[-1] + 1))
        start = sum(i < advanced[0] for i in sliced) if adjacent else 0
        ndim = len(b) + len(sliced)
        index = []
        for i, p in enumerate(parts):
            if isinstance(p, slice):
                r = sliced.index(i)
                at = r + len(b) if not adjacent or i > advanced[0] else r
                shape = [1] * ndim
                shape[at] = x.shape[i]
                index.append(xp.reshape(xp.arange(x.shape[i], device=x.device), tuple(shape)))
            else:
                p = xp.asarray(p, device=x.device) if isinstance(p, int) else p
                p = xp.broadcast_to(p, b)
                index.append(xp.reshape(p, (1,) * start + b + (1,) * (ndim - start - len(b))))
        return x[tuple(index)]

    def take_along_axis(self, x, indices, axis: int):
        return self.xp.take_along_axis(x, indices, axis=axis)

    def argsort(self, x, axis: int = -1, kind=None):
        return self.xp.argsort(x, axis=axis, stable=kind == "stable")

    def ones_like(self, x, dtype=None):
        return self.xp.ones_like(x, dtype=None if dtype is None else self.native_dtype(dtype))

    def add_at(self, out, index, values) -> None:
        """``out[index] += values`` with repeated indices accumulating.

        CuPy has ``add.at``; the standard has no scatter-add, so there the sum is a product with the
        one-hot matrix of :meth:`_scatter` (memory ∝ positions × entries: fine for tests, slow at scale).
        """
        native_add = getattr(self.native, "add", None)
        if hasattr(native_add, "at"):
            native_add.at(out, index, values)
            return
        match, values = self._scatter(out, index, values)
        out[...] = out + self.xp.reshape(values[None, :] @ self.xp.astype(match, out.dtype), out.shape)

    def set_at(self, out, index, values) -> None:
        """``out[index] = values`` with NumPy's indices (integer arrays too; of repeated positions
        the last write wins).  The standard assigns through basic indices only; CuPy writes any;
        otherwise each entry of ``out`` takes the last value :meth:`_scatter` aims at it."""
        xp = self.xp
        parts = index if isinstance(index, tuple) else (index,)
        one_mask = len(parts) == 1 and getattr(parts[0], "dtype", None) == xp.bool  # the standard assigns through it
        if one_mask or not any(hasattr(p, "shape") for p in parts) or hasattr(getattr(self.native, "add", None), "at"):
            index, values = self._without_new_axes(out, index, values)
            out[self.full_index(index, out.ndim)] = values if not hasattr(values, "dtype") else xp.astype(values, out.dtype)
            return
        match, values = self._scatter(out, index, values)
        order = xp.arange(values.shape[0], device=out.device)[:, None]
        last = xp.max(xp.where(match, order, -1), axis=0)  # the last value aimed at each entry, −1: none
        taken = xp.take(values, xp.clip(last, 0, None), axis=0)
        out[...] = xp.reshape(xp.where(last >= 0, taken, xp.reshape(out, (-1,))), out.shape)

    def _without_new_axes(self, out, index, values) -> tuple:
        """``out[index] = values`` as an assignment without ``None`` in ``index``: the standard reads
        ``None`` (a new axis) only when indexing, not when assigning, and ``x[:, None] = v`` writes
        what ``x[:] = v`` does, ``v`` broadcast to ``x[:, None]`` and its new axes dropped."""
        parts = index if isinstance(index, tuple) else (index,)
        if not any(p is None for p in parts) or hasattr(self.native, "asnumpy"):  # CuPy assigns through None itself
            return index, values
        kept = tuple(p for p in parts if p is not None)
        target = tuple(self.getitem(out, index).shape)  # the shape ``values`` broadcasts to
        if hasattr(values, "dtype"):
            values = self.xp.reshape(self.xp.broadcast_to(values, target), tuple(self.getitem(out, kept).shape))
        return kept, values

    def _scatter(self, out, index, values) -> tuple:
        """A scatter into ``out`` at ``index`` seen flat: the (values × entries of ``out``) boolean
        match of where each value goes, and the values (broadcast to ``out[index]``, in its dtype)."""
        xp = self.xp
        size = math.prod(out.shape)
        positions = self.getitem(xp.reshape(xp.arange(size, device=out.device), out.shape), index)
        values = values if hasattr(values, "dtype") else xp.asarray(values, device=out.device)
        values = xp.reshape(xp.broadcast_to(xp.astype(values, out.dtype), positions.shape), (-1,))
        return xp.reshape(positions, (-1, 1)) == xp.arange(size, device=out.device)[None, :], values

    def einsum(self, subscripts: str, *operands, optimize=False):
        """The library's own ``einsum`` (CuPy's) where it has one, else :func:`.einsum.einsum` from
        standard calls (explicit subscripts)."""
        native = getattr(self.native, "einsum", None)
        if native is not None:
            return native(subscripts, *operands)
        return standard_einsum(self.xp, subscripts, *operands)


_CACHE: dict[int, ArrayAPINamespace] = {}
_BY_TYPE: dict[type, ArrayAPINamespace] = {}  # an array's type decides its namespace: looked up once per type


def _array_api_namespace(x) -> ArrayAPINamespace:
    try:
        import array_api_compat  # noqa: PLC0415 - optional: only CuPy and other non-standard libraries need it

        xp = array_api_compat.array_namespace(x)
    except ImportError:
        if not hasattr(x, "__array_namespace__"):
            what = f"a {type(x).__module__}.{type(x).__name__}"
            fix = "pass np.asarray(x) (its values on the CPU)" if hasattr(x, "__array__") else "convert it to a NumPy array"
            raise TypeError(
                f"nablagrad: {what} is not an array nablagrad computes on without array-api-compat: {fix}, "
                "or pip install array-api-compat (CuPy: pip install 'nablagrad[gpu]')"
            ) from None
        xp = x.__array_namespace__()
    except TypeError:
        raise TypeError(f"nablagrad: expected an array, got a {type(x).__module__}.{type(x).__name__}") from None
    ns = _CACHE.get(id(xp))
    if ns is None:
        native = __import__(type(x).__module__.split(".")[0])
        ns = _CACHE[id(xp)] = ArrayAPINamespace(xp, native)
    return ns


_WRAPPERS: list[type] = []  # types that export DLPack but are not arrays to compute on (nablagrad's Tensor)


def register_wrapper(cls: type) -> None:
    """Declare ``cls`` (nablagrad's ``Tensor``, which exports its data through ``__dlpack__``) a wrapper of an
    array, not another library's array: :func:`namespace_of` gives it and its subclasses NumPy's namespace, as
    to any object that is not an array, never an array-API namespace taken from its ``__dlpack__``."""
    _WRAPPERS.append(cls)
    _BY_TYPE[cls] = NUMPY


def namespace_of(x) -> NumpyNamespace | ArrayAPINamespace:
    """The namespace (with NumPy's names) of the array ``x``; NumPy's for numbers and NumPy arrays.

    Arrays of other libraries are told by ``__dlpack__``, which the standard requires of them (a wrapper declared by
    :func:`register_wrapper`, the Tensor, is not one of them)."""
    if type(x) is ndarray or isinstance(x, ndarray | np.generic) or not hasattr(x, "__dlpack__"):
        return NUMPY  # NumPy arrays; numbers, lists and anything else np.asarray may take
    ns = _BY_TYPE.get(type(x))
    if ns is None:
        ns = NUMPY if isinstance(x, tuple(_WRAPPERS)) else _array_api_namespace(x)
        _BY_TYPE[type(x)] = ns
    return ns


__all__ = ["RENAMED", "NUMPY", "NumpyNamespace", "ArrayAPINamespace", "namespace_of"]
