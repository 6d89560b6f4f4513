"""The ``Tensor``: an array, the gradient that flows into it, and the op that made it.

A tensor that results from a primitive op remembers that op, its inputs and parameters —
that record *is* the tape of reverse-mode AD (lecture 000: "a forward pass that records a
tape").  A tensor may also carry a forward-mode tangent ``ẇ = ∂w/∂x`` (dual numbers), which
every primitive pushes forward with its JVP rule while :func:`~nablagrad.autodiff.jvp` runs.
"""

from __future__ import annotations

import itertools
import warnings
import weakref
from collections.abc import Callable, Iterator
from operator import attrgetter
from typing import Any

import numpy as np

from .. import backend
from ..backend import CPU, checks, get_default_device
from ..backend.device import Device, device_of, same_device, to_device
from ..backend.dtypes import TENSOR_KINDS, check_tensor_dtype, tensor_dtype
from ..backend.namespace import NUMPY, namespace_of, register_wrapper
from . import grad_mode as _m
from .errors import InputError, JitError
from .grad_mode import state as _mode  # this thread's switches (read on every op)
from .primitive import Box, Primitive, batch_elementwise


class TensorTypeError(TypeError, RuntimeError):
    """An argument of a type the tensor method cannot take, where PyTorch raises a RuntimeError: both, so code
    written for either catches it."""


class GradDtypeError(TensorTypeError):
    """A tensor of a dtype without derivatives (integer, boolean) asked to require a gradient, or a gradient of
    another dtype assigned to ``t.grad``: a TypeError (a wrong dtype) and a RuntimeError (what PyTorch raises), so
    code written for either catches it."""


class DLPackExportError(BufferError, RuntimeError):
    """A tensor that requires grad exported through DLPack: a BufferError (what PyTorch's ``__dlpack__`` raises) and a
    RuntimeError, so code written for either catches it."""


class Tensor(Box):
    """An n-dimensional array with automatic differentiation.

    ``data`` is the NumPy array, ``grad`` the accumulated gradient (a Tensor or ``None``),
    ``requires_grad`` whether gradients flow into it.  Non-leaf tensors keep ``_op`` (their
    primitive), ``_inputs`` and ``_params`` until a backward pass frees them.  ``_tangents``
    maps a live forward-mode level to this value's tangent there (see :mod:`.mode`);
    ``_version`` is the version clock at the tensor's creation or last in-place write; two slots
    are set only by in-place writes (read with ``getattr``, so ops never pay for them): ``_born``,
    ``(version, lost)``: the version an op's output had when made, once its values were overwritten
    (``lost``: in its own array, not kept by a handle), and ``_prev``,
    ``(version, handle)``: what the tensor was before an in-place op replaced its node (see
    :func:`.ops.update_` and the tape walk's checks in :mod:`.backward`).  Two more are set only where
    memory is shared: ``_shares``, the weak set of tensors viewing one array (a view made by an op, or
    ``detach()``), so a write through one counts as a write to all, as PyTorch's views share their base's
    version counter; ``_guards``, on an op's output, the tensors whose arrays its VJP reads without
    taking them as inputs (an index, a mask, labels; see :func:`guard`), and ``_guarding`` on such a tensor;
    ``_view_of``, on a view, ``(base, op, params)`` (the base called for, held by an op's view, weak for
    ``detach()``): how it was made, so a recorded in-place write reaches
    the base and the base's reaches its views (:func:`.ops.update_`); ``_lifted``, on a leaf a transform made
    to differentiate with respect to (so it is not mistaken for a tensor the function closed over); ``_hooks``,
    the gradient hooks of :meth:`register_hook` (id -> hook, in registration order).
    """

    __slots__ = (
        "_data",
        "_grad",
        "_requires_grad",
        "_op",
        "_inputs",
        "_params",
        "_tangents",
        "_version",
        "_retain",
        "_born",
        "_prev",
        "_shares",
        "_guards",
        "_guarding",
        "_view_of",
        "_lifted",
        "_hooks",
        "__weakref__",
    )
    __array_ufunc__ = None  # NumPy defers (ndarray * Tensor calls __rmul__) until api.py installs the ufunc protocol

    def __getstate__(self) -> tuple:
        """For ``pickle`` and ``copy``: every slot but the records of live relations (``_shares``, ``_guards``,
        ``_guarding``, ``_view_of``, ``_lifted``), which name other live tensors or one transform call, and the
        gradient hooks (functions of the caller's, as PyTorch does not save them); a copy has memory of its own."""
        slots = {k: getattr(self, k) for k in _STATE_SLOTS if hasattr(self, k)}
        return (getattr(self, "__dict__", None) or None, slots)

    def __setstate__(self, state: tuple) -> None:
        own, slots = state
        if own:
            self.__dict__.update(own)
        for k, v in slots.items():
            setattr(self, _RENAMED.get(k, k), v)  # (a pickle from before the slots were renamed: its names)

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None, device: Any = None):
        self._data = _placed(data, dtype, device)
        self._grad: Tensor | None = None
        self._requires_grad = False
        self._op: Primitive | None = None
        self._inputs: tuple | None = None
        self._params: dict | None = None
        self._tangents: dict | None = None
        self._version = _m.clock  # the clock at creation (ng.jit tells tensors made during a trace by it)
        self._shares = None  # set here (a parameter is written every step): reading a set slot is 4× cheaper
        self._guarding = False
        if requires_grad:
            self.requires_grad_(True)

    # --- basic properties -------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """The shape; inside ``vmap`` a batched tensor shows its per-example shape (the data's
        leading axes, one per visible vmap level that batches it, are dropped)."""
        if self._tangents:
            return self._data.shape[len(_m.batch_levels(self)) :]
        return self._data.shape

    @property
    def dtype(self) -> np.dtype:
        """The NumPy dtype of the data (on every device, as PyTorch has one dtype vocabulary)."""
        d = self._data.dtype
        return d if d.__class__ in _NUMPY_DTYPES else namespace_of(self._data).numpy_dtype(d)

    @property
    def device(self) -> Device:
        """Where the data lives: ``device(type='cpu')`` for NumPy, ``cuda:N`` for CuPy, …"""
        return device_of(self._data)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def is_leaf(self) -> bool:
        return self._op is None

    # ``t.grad``: the slot, with one test more than its read (a warning on a non-leaf that will never get one, as
    # PyTorch's); assigning checks the value as PyTorch's setter does.  The engine writes ``_grad`` itself.
    grad = property(
        lambda self: self._grad if self._grad is not None or self._op is None else _non_leaf_grad(self),
        lambda self, value: _set_grad(self, value),
        lambda self: _set_grad(self, None),  # ``del t.grad``: no gradient, as PyTorch's
        doc="The gradient accumulated by ``backward()``: a Tensor of this tensor's shape and dtype, or ``None``.",
    )

    # ``t.data``: the array, read through a C getter; ``t.data = other`` (a Tensor) takes other's array, as
    # PyTorch's ``p.data = new`` (an array is stored as it is).  The engine reads and writes ``_data`` itself.
    data = property(
        attrgetter("_data"),
        lambda self, value: _set_data(self, value),
        lambda self: _set_data(self, _DELETED),  # ``del t.data``: refused, as PyTorch's
        doc="The values: the NumPy array (or another library's array on its device), shared, not copied.",
    )

    # ``t.requires_grad``: read on every op, so a slot read through a C getter as ``grad``'s; assigning checks the
    # value as PyTorch's setter does.  The engine writes ``_requires_grad`` itself (on tensors it made).
    requires_grad = property(
        attrgetter("_requires_grad"),
        lambda self, value: _set_requires_grad(self, value),
        lambda self: _set_requires_grad(self, _DELETED),  # ``del t.requires_grad``: refused, as PyTorch's
        doc="Whether gradients flow into this tensor (``t.requires_grad = True`` on a floating-point leaf).",
    )

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The data as a NumPy array: the underlying array (no copy) on the CPU, a host copy from
        another device (PyTorch needs ``.cpu().numpy()`` there; one call does both here).  Refused for a
        traced value inside ``ng.jit`` (so is ``np.asarray(x)``), as ``x.item()`` is: the value would be frozen.
        ``force`` (PyTorch's ``numpy(force=True)``) is accepted and changes nothing: the values are handed out
        without it too, with or without a gradient, from any device."""
        self._readable("numpy()")
        return self._host()

    def _readable(self, who: str) -> None:
        """Refuse to hand out the values where they would be wrong: a traced value inside ``ng.jit`` (frozen into
        the program) and a tensor batched by ``vmap`` (its data holds the whole batch, not one example)."""
        if _mode.jit_trace is not None:
            _mode.jit_trace.read(self)
        if self._tangents and _m.batch_levels(self):
            raise TypeError(
                f"{who}: inside vmap this tensor stands for one example of shape {self.shape}, but its data holds the "
                "whole batch; NumPy and Python cannot see one example (as under jax.vmap and torch.func.vmap). Compute "
                "with nablagrad ops inside the function (ng.where for a choice), or read vmap's result"
            )

    def _host(self) -> np.ndarray:
        data = self._data
        return data if data.__class__ is np.ndarray else namespace_of(data).to_numpy(data)

    def __array__(self, dtype=None, copy=None):
        arr = self.numpy()
        if dtype is not None:
            arr = arr.astype(dtype, copy=False)
        return arr.copy() if copy else arr

    def __dlpack__(self, *args, **kwargs):
        """The values through DLPack (``torch.from_dlpack(t)``, ``torch.tensor(t)``, ``np.from_dlpack(t)``): the data's
        own capsule, sharing its memory (a contiguous copy for data with negative strides, which PyTorch cannot
        read).  Refused for a tensor that requires grad, as PyTorch's ``__dlpack__``: the
        other library would not see the graph (export ``t.detach()``)."""
        if self.requires_grad:
            raise DLPackExportError(
                f"__dlpack__: Can't export tensors that require gradient, use tensor.detach() (this one has shape "
                f"{self.shape}; e.g. torch.tensor(t.detach()) or np.from_dlpack(t.detach()))"
            )
        self._readable("__dlpack__")
        data = self._data
        if data.__class__ is np.ndarray and any(s < 0 for s in data.strides):  # (a flip's view)
            # PyTorch aborts the process on a negative stride through DLPack: a contiguous copy is exported instead
            if kwargs.get("copy") is False:
                raise BufferError(f"__dlpack__: the data of this tensor (shape {self.shape}) has negative strides and "
                                  "cannot be shared without a copy; export t.contiguous(), or allow copy=None")  # fmt: skip
            data = np.ascontiguousarray(data)
        return data.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self) -> tuple:
        """The DLPack device of the data: ``(device type, index)``, e.g. ``(1, 0)`` for the CPU."""
        return self._data.__dlpack_device__()

    def stride(self, dim: int | None = None) -> tuple[int, ...] | int:
        """PyTorch's ``t.stride()``: the step in elements (not bytes) between neighbours along each dimension;
        ``t.stride(d)`` for one dimension."""
        data = self._data
        byte_strides = getattr(data, "strides", None)
        if byte_strides is None:
            raise NotImplementedError(f"stride: arrays of {type(data).__module__} do not show their layout")
        strides = tuple(s // self.dtype.itemsize for s in byte_strides)[data.ndim - self.ndim :]
        if dim is None:
            return strides
        if not -self.ndim <= dim < self.ndim:
            raise IndexError(f"stride: dimension {dim} is out of range for a tensor of shape {self.shape}; give "
                             f"an integer in [{-self.ndim}, {self.ndim - 1}]")  # fmt: skip
        return strides[dim]

    def data_ptr(self) -> int:
        """The address of the first element (PyTorch's ``t.data_ptr()``): equal for tensors sharing memory there."""
        data = self._data
        face = getattr(data, "__array_interface__", None) or getattr(data, "__cuda_array_interface__", None)
        if face is None:
            raise NotImplementedError(f"data_ptr: arrays of {type(data).__module__} do not show their address")
        return face["data"][0]

    def __format__(self, spec: str) -> str:
        """``f"{t:.3f}"`` formats a one-element tensor's number, as PyTorch's; without a spec, ``str(t)``."""
        if not spec:
            return str(self)
        if self._data.size != 1:
            raise TypeError(f"format: '{spec}' formats a one-element tensor's number; this one has shape {self.shape} "
                            "(format t.item() of an entry, or t.numpy() with np.array2string)")  # fmt: skip
        return format(self.item(), spec)

    def item(self) -> float | int | bool:
        self._readable("item()")  # a traced value (it would be frozen into the program), or one batched by vmap
        if self._data.size != 1:
            raise InputError(
                f"item(): a Tensor with {self._data.size} elements cannot be converted to a Python number (shape "
                f"{self.shape}); only a one-element tensor converts: reduce it first (t.sum().item()) or use t.tolist()"
            )
        data = self.numpy()
        return data.reshape(()).item() if hasattr(data, "reshape") else data.item()

    def tolist(self):
        self._readable("tolist()")
        return self._host().tolist()

    def detach(self) -> Tensor:
        """A new leaf tensor sharing the data, cut from the graph."""
        if _mode.jit_trace is not None:
            recorded = _mode.jit_trace.detach(self)  # inside ng.jit: an op, so each call computes it anew
            if recorded is not None:
                return recorded
        if self._tangents:  # batched by vmap or a jvp dual: the value keeps its batch axis, its tangent is cut
            with _m.no_grad():
                return _apply(DETACHED, (self,))
        view = _share(self, _wrap(self._data))
        view._view_of = (weakref.ref(self), None, None)  # (no op: the same values, cut from the graph)
        return view

    def detach_(self) -> Tensor:
        """Cut this tensor from the graph in place and return it (PyTorch's ``Tensor.detach_``): it becomes a leaf
        that requires no gradient (``grad_fn`` None), keeping its values and its ``.grad``; later ops on it record
        nothing.  A view (a slice, a reshape … of another tensor) is refused, as in PyTorch: use ``detach()``.
        An op's result is cut from the ops that made it; an op that used it before can no longer back-propagate
        through it (refused as after an in-place write; PyTorch refuses an op that saved it), so its graph is freed."""
        origin = getattr(self, "_view_of", None)
        if origin is not None and origin[1] is not None:
            raise RuntimeError(
                f"detach_: can't detach views in-place; this tensor (shape {self.shape}) is a view made by "
                f"'{origin[1].name}' of another tensor. Use y = x.detach() instead (a new tensor, sharing the values)"
            )
        trace = _mode.jit_trace
        if trace is not None and trace.traced(self):
            raise JitError(
                "jit: detach_() of a traced value inside a compiled function is not supported (the program cannot "
                "rebind the tensor); use y = x.detach() there, which compiles to an op that stops the gradient"
            )
        if self._tangents:  # a jvp tangent is cut; a vmap batch mark stays (the values keep their batch axis)
            self._tangents = {k: v for k, v in self._tangents.items() if v is _m.BATCHED} or None
        if self._op is not None:
            self._op = self._inputs = self._params = None  # the graph that made it is let go
            for slot in ("_born", "_guards"):  # (set only by in-place writes and ops that keep arrays)
                if getattr(self, slot, None) is not None:
                    setattr(self, slot, None)
            self._version = _m.bump()  # an op that used it before looks for its node (``_prev``) and finds it gone
            self._prev = (self._version, _GONE)
        self._requires_grad = False
        return self

    def requires_grad_(self, flag: bool = True) -> Tensor:
        """Let gradients flow into this tensor.  Real floating-point tensors only: a complex tensor holds values
        (its ops compute them), but the rules are real ones (no conjugation: PyTorch's Wirtinger calculus is not
        implemented), so differentiating one would give wrong numbers — refused, as integers are.  On an op's
        result only ``requires_grad_(True)`` is allowed (it already requires grad), as in PyTorch."""
        flag = checks.flag("requires_grad_", "requires_grad", flag)
        if flag:
            _check_differentiable(self, "requires_grad")
        elif self._op is not None and self._requires_grad:
            raise RuntimeError(
                f"requires_grad_: you can only change requires_grad flags of leaf variables; this tensor (shape "
                f"{self.shape}) is the result of op '{self._op.name}'. {_USE_DETACH}"
            )
        self._requires_grad = flag
        return self

    def bump_version_(self) -> Tensor:
        """Record that ``data`` was written in place (``t.data -= …``), so a backward pass that
        saved this tensor before the write refuses to run instead of giving a wrong gradient.  An
        op's output keeps the version it was made with (``_born``): its own op refuses too if its
        VJP reads the output (``exp``, ``tanh``), as PyTorch's.  The tensors sharing this one's memory (its
        views and its base, ``_shares``) count the write too, as PyTorch's views share a version counter."""
        _written(self)
        shares = getattr(self, "_shares", None)
        if shares is not None:
            for other in list(shares):
                if other is not self and _overlap(other._data, self._data):  # (``data`` may have been rebound since)
                    _written(other)
        return self

    def retain_grad(self) -> None:
        """Let ``backward`` fill this non-leaf tensor's ``.grad`` too (like torch's retain_grad)."""
        if not self.requires_grad:
            raise RuntimeError(
                f"retain_grad: can't retain_grad on a Tensor that has requires_grad=False (shape {self.shape}): no "
                "gradient flows into it; call requires_grad_() on the leaf it is computed from, or on it if it is a leaf"
            )
        if self._op is None:
            return  # a leaf keeps its gradient anyway
        if not getattr(self, "_retain", False):
            self._retain = True
            _m.retained += 1

    @property
    def retains_grad(self) -> bool:
        return self._op is not None and getattr(self, "_retain", False)

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call ``hook(grad)`` whenever a reverse pass (``backward()``, ``ng.grad``, ``grad_of``) has computed
        ``grad = ∂L/∂self``; a tensor it returns replaces the gradient: for a leaf, what ``.grad`` accumulates
        (and what ``grad`` returns for it), for an op's result, what flows on to the op's inputs (PyTorch's
        ``Tensor.register_hook``).  Several hooks run in registration order, each given the previous one's
        result; a hook must return ``None`` or a tensor of the gradient's shape and dtype, and must not write
        into its argument (read-only on the plain pass).  With ``create_graph=True`` the hook is given a tensor
        with a graph, so what it computes is differentiated too.  Returns a handle whose ``remove()`` takes
        the hook away."""
        if not self.requires_grad:
            raise RuntimeError(
                "register_hook: cannot register a hook on a tensor that doesn't require gradient; call "
                "requires_grad_() on the leaf first, or register on a tensor computed from one that requires grad"
            )
        if not callable(hook):
            raise TypeError(f"register_hook: hook must be callable (grad -> Tensor or None), got {type(hook).__name__}")
        trace = _mode.jit_trace
        if trace is not None and trace.traced(self):
            raise JitError(
                "jit: register_hook inside a compiled function is not supported: the compiled program replays the "
                "derivative rules without calling Python hooks. Register the hook on a leaf (an input or a parameter) "
                "outside the compiled function and differentiate its result there, or call the function without ng.jit"
            )
        hooks = getattr(self, "_hooks", None)
        if hooks is None:
            hooks = self._hooks = {}
            weakref.finalize(self, _forget_hooks, hooks)  # a tensor gone with its hooks: the walk stops looking
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        _m.hooked += 1
        _m.restructure()  # a compiled training step that reaches this tensor must trace again (and refuse)
        return handle

    # --- repr ---------------------------------------------------------------------------------
    def __repr__(self) -> str:
        body = np.array2string(self._host(), separator=", ", prefix="tensor(")  # (printing inside ng.jit is no read)
        extra = f", size={self.shape}" if 0 in self.shape and self.ndim > 1 else ""  # ([] alone shows no shape)
        dt = self.dtype  # named unless PyTorch infers it from numbers (the default float, int64, bool), as torch's
        if dt != backend.get_default_dtype() and dt not in _INFERRED_DTYPES:
            extra += f", dtype={dt}"
        if self._data.__class__ is not np.ndarray and namespace_of(self._data) is not NUMPY:
            extra += f", device='{self.device}'"
        if self._op is not None:
            extra += f", grad_fn=<{self._op.name}>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor: it holds one number and has no first dimension; use t.item()")
        return self.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        """The sub-tensors along the first dimension, ``t[0], t[1], …``; refused at once for a 0-d tensor, as PyTorch."""
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor: it holds one number and has no first dimension; use t.item()")
        return (self[i] for i in range(self.shape[0]))

    def __contains__(self, element: Any) -> bool:
        """``v in t``: whether some entry of ``t`` equals ``v`` (a number or a tensor broadcast against ``t``),
        ``(t == v).any()`` as PyTorch's, on any shape."""
        if not isinstance(element, Tensor | int | float | complex | np.number | np.bool_):
            raise TensorTypeError(
                f"__contains__: `in` looks for a number or a tensor among a tensor's entries, got "
                f"{type(element).__name__}; compare a number (2.0 in t) or a tensor (ng.tensor([1, 2]) in t)"
            )
        return bool((self == element).any())

    def __bool__(self) -> bool:
        if self.numel() != 1:  # PyTorch's error: which entry would decide?
            raise RuntimeError(
                f"Boolean value of a tensor of shape {self.shape} with {self.numel()} values is ambiguous; "
                "reduce it first, e.g. bool((x > 0).all()) or bool((x > 0).any())"
            )
        return bool(self.item())

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        """A one-element integer (or boolean) tensor as a Python index, ``[10, 20][ng.tensor(1)]``, as PyTorch's."""
        if self.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError(
                f"only integer tensors of a single element can be converted to an index; this one is {self.dtype} of "
                f"shape {self.shape} (index with int(t.item()), or index a tensor with t itself)"
            )
        return int(self.item())

    __hash__ = object.__hash__

    # Methods that apply ops — operators, comparisons, indexing, ``reshape``, ``backward`` … — are
    # bound to the class by :mod:`.api`, from the rule table and the functions of :mod:`.ops`
    # (so this module imports neither, and the package has no import cycle).


register_wrapper(Tensor)  # it exports DLPack, yet is no other library's array: namespace_of gives it NumPy's


def _GONE() -> None:  # noqa: N802 - a dead weak reference: what detach_() leaves for the ops that used the tensor
    return None


_DELETED = object()  # what ``del t.requires_grad`` and ``del t.data`` hand their setters (both refuse, as PyTorch)
_USE_DETACH = (
    "If you want to use a computed variable in a subgraph that doesn't require differentiation use "
    "var_no_grad = var.detach()"
)


def _check_differentiable(t: Tensor, who: str) -> None:
    """Refuse to let gradients flow into ``t`` unless it is real floating point: integers and booleans have no
    derivative (PyTorch's refusal); complex values would get wrong numbers from the real rules."""
    kind = t.dtype.kind
    if kind == "f":
        return
    if kind == "c":
        raise TypeError(
            f"{who}: nablagrad differentiates real floating-point tensors only; this one is {t.dtype} (complex "
            "autodiff is not implemented). Hold the real and imaginary parts as two real tensors, e.g. "
            "ng.tensor(z.real) and ng.tensor(z.imag)."
        )
    raise GradDtypeError(
        f"{who}: only Tensors of floating point dtype can require gradients (floating-point tensors only: integers "
        f"and booleans have no derivative); this one is {t.dtype}. Convert it first, e.g. ng.tensor(x, dtype='float32')."
    )


def _set_requires_grad(t: Tensor, value: Any) -> None:
    """``t.requires_grad = value``: PyTorch's setter — a bool, on a leaf only (an op's result is refused either
    way: its flag follows from its inputs), ``True`` on a floating-point tensor only; a refusal changes nothing."""
    if not checks.is_flag(value):
        shown = "it cannot be deleted" if value is _DELETED else f"got {type(value).__name__} {value!r:.40}"
        raise TensorTypeError(f"requires_grad: requires_grad must be a bool ({shown}); write t.requires_grad = True or False")
    if t._op is not None:
        raise RuntimeError(
            f"requires_grad: you can only change requires_grad flags of leaf variables; this tensor (shape "
            f"{t.shape}) is the result of op '{t._op.name}'. {_USE_DETACH}"
        )
    if value:
        _check_differentiable(t, "requires_grad")
    t._requires_grad = bool(value)


def _set_data(t: Tensor, value: Any) -> None:
    """``t.data = value``: a Tensor gives its array (``t`` then shares ``value``'s memory; shape, dtype and device
    may change, as PyTorch's ``t.data = other``; ``t``'s graph, ``requires_grad``, ``.grad`` and version stay);
    an array (NumPy's, or another library's) is stored as it is.  A tensor that requires grad takes floating-point
    values only; anything but a tensor or an array is refused; a refusal changes nothing."""
    if value.__class__ is not np.ndarray:
        if value is _DELETED:
            raise RuntimeError("data: deleting a tensor's data is not allowed; delete the tensor instead (del t)")
        if not isinstance(value, Tensor) and not (hasattr(value, "shape") and hasattr(value, "dtype")):
            raise TypeError(
                f"data: Variable data has to be a tensor or an array, got {type(value).__name__}; assign "
                f"t.data = ng.tensor(values) or an array of the new values (this tensor: shape {t.shape}, {t.dtype})"
            )
    # (an array as a tensor: its dtype's kind; another library's dtype without one is not checked)
    if t._requires_grad and getattr(value.dtype, "kind", "f") != "f":
        raise GradDtypeError(
            f"data: data set to a tensor that requires gradients must be floating point dtype; the new data "
            f"is {value.dtype} (shape {value.shape}). Convert it first (t.data = new.to(t.dtype)), or call "
            "t.requires_grad_(False) before"
        )
    t._data = value._data if isinstance(value, Tensor) else value


def _non_leaf_grad(t: Tensor) -> None:
    """``t.grad`` of an op's result with no gradient: ``None``, with PyTorch's warning unless ``retain_grad()``
    asked for one (``backward()`` fills only leaves' ``.grad``, so reading this one is likely a mistake)."""
    if not getattr(t, "_retain", False):
        warnings.warn(
            "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute won't "
            "be populated during autograd.backward(). If you indeed want the .grad field to be populated for a "
            "non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you access the non-leaf Tensor by "
            f"mistake, make sure you access the leaf Tensor instead (this one, shape {t.shape}, is the result of "
            f"op '{t._op.name}').",
            UserWarning,
            stacklevel=3,
        )


def _set_grad(t: Tensor, value: Any) -> None:
    """``t.grad = value``: ``None`` or a Tensor on ``t``'s device with ``t``'s dtype and shape (PyTorch's
    checks, in its order: type, device, dtype, size); on a refusal ``t.grad`` is left as it was."""
    if value is not None:
        if not isinstance(value, Tensor):
            raise TypeError(
                f"grad: assigned grad expected to be a Tensor or None but got grad of type {type(value).__name__}; "
                f"wrap it first: t.grad = ng.tensor(value, dtype=t.dtype) (this tensor: shape {t.shape}, {t.dtype})"
            )
        data, own = value._data, t._data
        if data.__class__ is not own.__class__ and value.device != t.device:
            raise RuntimeError(
                f"grad: assigned grad has data located on a different device: the gradient is on {value.device}, "
                f"the tensor on {t.device}; move it first: t.grad = g.to({str(t.device)!r})"
            )
        if data.dtype != own.dtype and value.dtype != t.dtype:
            raise GradDtypeError(
                f"grad: attempting to assign a gradient with dtype {value.dtype} to a tensor with dtype {t.dtype} "
                f"(shape {t.shape}); the gradient must have the tensor's dtype: t.grad = g.to({str(t.dtype)!r})"
            )
        if data.shape != own.shape:
            raise InputError(
                f"grad: attempting to assign a gradient of shape {value.shape} to a tensor of shape {t.shape} "
                "(assigned grad has data of a different size); give a gradient of the tensor's shape, e.g. "
                "t.grad = g.reshape(t.shape) or ng.zeros_like(t)"
            )
    t._grad = value


def _forget_hooks(hooks: dict) -> None:
    """The hooks of a tensor that no longer exists: no longer counted (a handle's later ``remove()`` finds none)."""
    _m.hooked -= len(hooks)
    hooks.clear()


class RemovableHandle:
    """What :meth:`Tensor.register_hook` returns: ``remove()`` takes the hook away (again: nothing);
    also a context manager that removes it on exit (PyTorch's ``torch.utils.hooks.RemovableHandle``)."""

    _ids = itertools.count()

    def __init__(self, hooks: dict) -> None:
        self.hooks = hooks
        self.id = next(RemovableHandle._ids)

    def remove(self) -> None:
        if self.hooks.pop(self.id, None) is not None:
            _m.hooked -= 1
            _m.restructure()

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


# --- construction -----------------------------------------------------------------------------
def _placed(data: Any, dtype: Any, device: Any):
    """A new array with ``data``'s values on ``device`` — by default where the data is, and host
    data on the default device (:func:`nablagrad.set_default_device`) — copied exactly once."""
    source = data._data if isinstance(data, Tensor) else data
    if device is None:
        device = get_default_device()
        if device is CPU or namespace_of(source) is not NUMPY:
            return _as_array(source, dtype)
    out = to_device(_as_array(source, dtype, copy=False), device)
    return namespace_of(out).copy(out) if out is source else out  # a tensor owns its memory


def _as_array(data: Any, dtype: Any = None, copy: bool = True) -> np.ndarray:
    """Python numbers become the default float dtype; NumPy arrays keep theirs (like torch.tensor).
    A copy unless ``copy=False`` (then the array itself when it already has that dtype)."""
    if isinstance(data, Tensor):
        data = data._data
    ns = namespace_of(data)
    if dtype is not None:
        dtype = tensor_dtype(dtype, "tensor")  # a name NumPy does not know, or a dtype that holds no numbers
    if ns is not NUMPY:  # an array of another library stays where it is (a copy, like torch.tensor)
        if dtype is None:
            return ns.copy(data) if copy else data
        return ns.astype(data, dtype)
    if isinstance(data, np.ndarray | np.generic):
        check_tensor_dtype(data.dtype, "tensor")  # strings, objects, dates: refused here, not in the first op
    if dtype is not None:
        return (np.array if copy else np.asarray)(data, dtype=dtype)  # (NumPy 1.x has no copy=None)
    if isinstance(data, np.ndarray | np.generic):
        return np.array(data) if copy else np.asarray(data)
    if data is None or isinstance(data, str | bytes):
        raise TypeError(f"tensor: expected numbers, a (nested) list of numbers or an array, got {data!r}")
    try:
        arr = np.array(data)
    except ValueError:
        raise ValueError(
            f"tensor: the nested lists are ragged (rows of different lengths) and cannot form a tensor: {data!r:.80}"
        ) from None
    if arr.dtype == object and _numeric(arr):
        pass  # numbers of mixed types (NumPy floats among Python ints …): cast below
    elif arr.dtype.kind not in TENSOR_KINDS:  # strings, bytes, dates, other objects in the lists
        raise TypeError(f"tensor: expected numbers, got {arr.dtype} entries in {data!r:.80}")
    if arr.dtype.kind == "f" or arr.dtype == object:
        arr = arr.astype(_list_float_dtype(data))
    return arr


_PYTHON_NUMBERS = frozenset((float, int, bool))


def _list_float_dtype(data) -> np.dtype:
    """torch.tensor's float dtype for a (nested) list: the NumPy floats in it (scalars, arrays,
    tensors) keep their dtype, Python floats count as the default dtype, and the widest wins —
    ``[np.float64(1), 2.0]`` is float64, ``[np.float16(1), 2.0]`` the default, ``[np.float16(1)]``
    float16.  Integers never widen a float (``[np.float32(1), np.int64(2)]`` is float32)."""
    default = np.dtype(backend.get_default_dtype())
    python_float, numpy_float = False, None
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, list | tuple):
            kinds = set(map(type, item))
            if kinds <= _PYTHON_NUMBERS:  # a list of Python numbers (the common case): no per-item look
                python_float = python_float or float in kinds
            else:
                stack.extend(item)
            continue
        dtype = item.dtype if isinstance(item, Tensor) else getattr(item, "dtype", None)  # (a device tensor's: NumPy's)
        if dtype is None:
            python_float = python_float or isinstance(item, float)
        elif dtype.kind == "f":
            numpy_float = dtype if numpy_float is None else np.promote_types(numpy_float, dtype)
    if numpy_float is None:
        return default
    return np.promote_types(numpy_float, default) if python_float else numpy_float


_NUMPY_DTYPES = frozenset(type(np.dtype(c)) for c in "?bhilqBHILQefdgFDG")


def _raw(args) -> list:
    """The raw arrays (or numbers) of an op's arguments.  Unrolled for one and two: a list
    comprehension costs a frame in CPython 3.11, more than the rest of a small op's bookkeeping."""
    n = len(args)
    if n == 1:
        a = args[0]
        return [a._data if isinstance(a, Tensor) else a]
    if n == 2:
        a, b = args
        return [a._data if isinstance(a, Tensor) else a, b._data if isinstance(b, Tensor) else b]
    return [a._data if isinstance(a, Tensor) else a for a in args]


def _numeric(arr: np.ndarray) -> bool:
    return all(isinstance(v, int | float | np.number | bool) for v in arr.flat)


_RENAMED = {"data": "_data", "grad": "_grad", "requires_grad": "_requires_grad"}
_STATE_SLOTS = tuple(
    k
    for k in Tensor.__slots__
    if k not in ("__weakref__", "_shares", "_guards", "_guarding", "_view_of", "_lifted", "_hooks")
)


def _written(t: Tensor) -> None:
    """Count a write into ``t``'s values: a new version; an op's output keeps the version it was made with."""
    if t._op is not None and getattr(t, "_born", None) is None:
        t._born = (t._version, True)  # (True: the values its op made are gone)
        _m.overwritten = True
    if getattr(t, "_guarding", False):  # an op keeps its array (see guard): the tape walk must look
        _m.overwritten = True
    t._version = _m.bump()


def _overlap(a, b) -> bool:
    """Whether two arrays may share memory (NumPy's bounds check; another library's arrays: assumed so)."""
    if a.__class__ is np.ndarray and b.__class__ is np.ndarray:
        return np.may_share_memory(a, b)
    return True


def _share(base: Tensor, view: Tensor) -> Tensor:
    """Record that ``view`` sees ``base``'s memory: both join one set (``_shares``), so a write into either
    counts for both (:meth:`Tensor.bump_version_`)."""
    shares = getattr(base, "_shares", None)
    if shares is None:
        shares = base._shares = weakref.WeakSet((base,))
    shares.add(view)
    view._shares = shares
    return view


def _held(t: Tensor):
    """A strong reference with :func:`weakref.ref`'s interface (called, it gives ``t``)."""
    return lambda: t


def _viewed(prim: Primitive, args: tuple, params: dict, value, out: Tensor) -> Tensor:
    """``out`` (whose array ``value`` is a view: its ``base`` is set) shares the memory of the inputs whose
    arrays ``value`` overlaps; a view of one input also keeps how it was made (``_view_of``)."""
    for a in args:
        if isinstance(a, Tensor) and a._data.__class__ is np.ndarray and np.may_share_memory(value, a._data):
            _share(a, out)
            if len(args) == 1:  # a view of its one input (reshape, a slice …): how it was made, and its base
                out._view_of = (_held(a), prim, params)  # kept alive, as PyTorch's ``._base``: a write through
                # ``y[1][2:]`` must reach ``y`` after the temporary ``y[1]`` is gone
    return out


def guard(out: Tensor, *kept) -> Tensor:
    """Let ``out``'s op refuse to back-propagate once a tensor among ``kept`` — one whose array the op
    keeps in its parameters and its VJP reads (``where``'s condition, an index, cross-entropy's labels) —
    was written in place after the op, as PyTorch refuses for a tensor saved for backward."""
    if out._op is not None:
        tensors = tuple(t for t in kept if isinstance(t, Tensor))
        if tensors:
            out._guards = tensors
            for t in tensors:
                t._guarding = True
    return out


def _wrap(data) -> Tensor:
    """A leaf tensor around ``data`` with no copy and no checks (internal fast constructor)."""
    t = _new(Tensor)
    t._data = data
    t._grad = None
    t._requires_grad = False
    t._op = None
    t._inputs = None
    t._params = None
    t._tangents = None
    t._version = _m.clock
    return t


_new = object.__new__


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """A new tensor holding a copy of ``data``, on ``device`` (``"cpu"``, ``"cuda"``, …; by default
    where ``data`` is: the CPU for lists and NumPy arrays, the GPU for a CuPy array).

    Python floats become the default dtype (float32); an array keeps its dtype.
    """
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, device=device)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """Like :func:`tensor` but shares memory with the array when it can, as ``torch.as_tensor``: an
    array already on ``device`` with ``dtype`` is wrapped, not copied.  With no ``device``, an array
    of another library stays where it is and host data goes to the default device."""
    if data.__class__ is np.ndarray and dtype is None and device is None and get_default_device() is CPU:
        if data.dtype.kind in TENSOR_KINDS:
            return _wrap(data)  # the common case (a host array beside a tensor in an op), decided at once
        check_tensor_dtype(data.dtype, "as_tensor")
    if isinstance(data, Tensor) and dtype is None and (device is None or data.device == device):
        return data
    source = data._data if isinstance(data, Tensor) else data
    ns = namespace_of(source)
    if dtype is not None:
        dtype = tensor_dtype(dtype, "as_tensor")
    if source.__class__ is np.ndarray:
        check_tensor_dtype(source.dtype, "as_tensor")
    if ns is not NUMPY or source.__class__ is np.ndarray:
        if device is None:
            device = None if ns is not NUMPY else get_default_device()
        same_dtype = dtype is None or ns.numpy_dtype(source.dtype) == np.dtype(dtype)
        if same_dtype and not isinstance(data, Tensor) and (device is None or device_of(source) == device):
            return _wrap(source)
    return Tensor(data, dtype=dtype, device=device)


# --- applying a primitive -------------------------------------------------------------------
def _apply(prim: Primitive, args: tuple, params: dict | None = None) -> Tensor:
    """Evaluate ``prim`` on ``args`` and, when a gradient is needed, record it on the result.

    This is the single entry point of every primitive: the value comes from ``prim.fn`` on raw
    arrays; the tape is the result's ``_op``/``_inputs``/``_params``; forward-mode tangents
    are pushed through ``prim.jvp`` when a ``jvp`` is running (:func:`_apply_levels`).
    """
    if params is None:
        params = _EMPTY
    switched = _m.active  # 0: no thread has changed a switch (the defaults hold: record, no levels)
    if switched and _mode.slow:
        return _apply_levels(prim, args, params)
    datas = _raw(args)
    try:
        if datas[0].__class__ is np.ndarray or _on_numpy(datas):
            value = prim.fn(*datas, **params)
        else:
            value = _foreign_value(prim, datas, params)
    except np.linalg.LinAlgError:
        raise  # a singular or indefinite matrix, not a shape error (linalg names the op and the fix)
    except ValueError as exc:
        same_device(prim.name, datas)  # operands on two devices: PyTorch's error, naming both and the fix
        raise _shape_error(prim, datas, exc) from None
    except TypeError as exc:
        same_device(prim.name, datas)
        raise _type_error(prim, datas, params, exc) from None
    except RuntimeError:
        same_device(prim.name, datas)
        raise
    out = None
    if not switched or _mode.grad_enabled:
        for a in args:
            if isinstance(a, Tensor) and a._requires_grad:
                out = _new(Tensor)  # _wrap's fields, inlined: the hot path of training
                out._data = value
                out._grad = None
                out._requires_grad = True
                out._op = prim
                out._inputs = args
                out._params = params
                out._tangents = None
                out._version = _m.clock
                break
    if out is None:
        out = _wrap(value)
    if value.__class__ is np.ndarray and value.base is not None:  # a view (reshape, a slice …) of an input?
        return _viewed(prim, args, params, value, out)
    return out


_HOST_CLASSES = frozenset((np.ndarray, float, int, bool))


def _on_numpy(datas: list) -> bool:
    """Whether every operand is a NumPy array or a number (the fast path): the class first, the
    namespace lookup only for anything else (``2.0 * x`` passes here on every call)."""
    for d in datas:
        if d.__class__ not in _HOST_CLASSES and namespace_of(d) is not NUMPY:
            return False
    return True


def _foreign_value(prim: Primitive, datas: list, params: dict):
    """The primitive's value on arrays of another library (all on one device): its NumPy-named
    value resolved through that library's namespace (:mod:`nablagrad.backend.namespace`).  A NumPy
    scalar (a 0-d reduction of a CPU tensor) joins as a Python number, as PyTorch lets a CPU scalar
    join a GPU op."""
    datas = [d.item() if isinstance(d, np.generic) or (d.__class__ is np.ndarray and d.ndim == 0) else d for d in datas]
    same_device(prim.name, datas)
    ns = next(namespace_of(d) for d in datas if namespace_of(d) is not NUMPY)
    return ns.forward(prim.fn)(*datas, **params)


# what an op computed under no_grad inside ng.jit's trace passes through: the value, and no gradient (no rule)
_NO_GRAD = Primitive("no_grad", lambda x: x, (None,), (None,), fmt="{0}")


def _traced_without_grad(prim: Primitive, args: tuple, params: dict) -> Tensor:
    """An op under ``no_grad`` while ``ng.jit`` traces: recorded all the same — else the program would hold its
    first value as a constant — and its result passed through :data:`_NO_GRAD`, so that, as under ``no_grad``,
    no gradient flows back through it (at the trace's own backward and at every replay's)."""
    _mode.grad_enabled = True
    try:
        out = _apply_levels(prim, args, params)
        if out._op is not None:
            out = _apply_levels(_NO_GRAD, (out,), _EMPTY)
    finally:
        _mode.grad_enabled = False
    return out


def _apply_levels(prim: Primitive, args: tuple, params: dict) -> Tensor:
    """The op with forward-mode tangents, one level at a time, the highest live one first.

    A value at level ``k`` is a dual number ``x + ε_k ẋ`` whose primal ``x`` and tangent ``ẋ``
    may carry lower levels themselves.  So: the primal result is this same op with level
    ``k`` hidden (handling the lower levels), and the tangent is the JVP rule evaluated on
    tensors with level ``k`` hidden — recorded like any op, so reverse mode and lower
    levels differentiate it (JAX's ``JVPTrace.process_primitive``, one level per ``jvp``).
    """
    if _mode.vmaps:
        top = 0
        for a in args:
            if isinstance(a, Tensor) and a._tangents:
                top = max(top, *_m.batch_levels(a), 0)
        if top:
            return _apply_batched(prim, args, params, top)
    level = 0
    for a in args:
        if isinstance(a, Tensor) and a._tangents:
            level = max(level, _m.live_level(a._tangents))
    if not level:
        if _mode.jit_trace is not None and not _mode.grad_enabled:
            return _traced_without_grad(prim, args, params)
        slow, _mode.slow = _mode.slow, False
        try:
            out = _apply(prim, args, params)
        finally:
            _mode.slow = slow
        if _mode.tracer is not None:
            _mode.tracer.append(out)
        if out._op is None and _mode.jit_trace is not None:
            _mode.jit_trace.fold(args)  # a constant of the compiled program: what it was computed from is guarded
        return out
    with _m.below(level):
        out = _apply_levels(prim, args, params)
        tangents = [a._tangents.get(level) if isinstance(a, Tensor) and a._tangents else None for a in args]
        with _m.suspend_tracing(), np.errstate(divide="ignore", invalid="ignore"):  # ±∞ at kinks, silently (as torch)
            tangent = prim.jvp(TENSOR_NS, tangents, out, args, params)
    if tangent is not None:
        if out.dtype.kind == "c":  # real rules push a wrong tangent through a complex value (abs, no conjugation)
            raise TypeError(
                f"jvp: {prim.name} made a complex value ({out.dtype}) from a differentiated one; nablagrad's rules are "
                "real ones (complex autodiff is not implemented): hold real and imaginary parts as two real tensors"
            )
        out._tangents = {**(out._tangents or {}), level: tangent}
    return out


def _apply_batched(prim: Primitive, args: tuple, params: dict, level: int) -> Tensor:
    """The op under the innermost vmap ``level`` that batches an argument: its batching rule on
    the batched data (batch axis first, seen as an ordinary axis) — so the ops it applies are
    recorded, batched by the outer vmaps and push every forward level's tangents, on the whole
    batch — then the result marked batched (JAX's ``BatchTrace.process_primitive``).  A batched
    value's tangents are batched too."""
    batched = [isinstance(a, Tensor) and bool(a._tangents) and level in a._tangents for a in args]
    rule = prim.batch or batch_elementwise
    with _m.physical(level):
        out = rule(TENSOR_NS, prim, args, batched, params)
    if _mode.tracer is not None:
        _mode.tracer.append(out)
    return mark_batched(out, level)


def mark_batched(t: Tensor, level: int) -> Tensor:
    """Mark ``t`` (computed on the whole batch) batched by vmap ``level``, its tangents too."""
    t._tangents = {**(t._tangents or {}), level: _m.BATCHED}
    for v in t._tangents.values():
        if isinstance(v, Tensor) and not (v._tangents and level in v._tangents):
            mark_batched(v, level)
    return t


def unmark_batched(t: Tensor, level: int) -> Tensor:
    """Remove the mark of vmap ``level`` from ``t`` and its tangents (the vmap is returning)."""
    if t._tangents and level in t._tangents:
        t._tangents = {k: v for k, v in t._tangents.items() if k != level} or None
        for v in (t._tangents or {}).values():
            if isinstance(v, Tensor):
                unmark_batched(v, level)
    return t


_EMPTY: dict = {}
_INFERRED_DTYPES = frozenset((np.dtype(np.int64), np.dtype(np.bool_)))  # (a repr names any other non-default dtype)

# detach() of a value a transform carries: the same values, no tangent, no cotangent; batched as it is (elementwise)
DETACHED = Primitive("detach", lambda x: x, (None,), (None,), fmt="detach({0})")


def _is_axis(axis) -> bool:
    """An axis NumPy understands: None, an int, or a tuple/list of ints (never a bool)."""
    ints = (int, np.integer)
    if axis is None or (isinstance(axis, ints) and not isinstance(axis, bool)):
        return True
    return isinstance(axis, tuple | list) and all(isinstance(a, ints) and not isinstance(a, bool) for a in axis)


def _type_error(prim: Primitive, datas: list, params: dict, exc: TypeError) -> TypeError:
    """The error for a ``TypeError`` raised by ``prim``'s value, in the user's terms: an axis that
    is not an int (``sum(axis='a')``, ``softmax(dim=1.5)``) or operands of types the op cannot take
    (strings, None), each naming the op, the bad value or dtypes, and the fix."""
    for key in ("axis", "axes", "dim"):
        if key in params and not _is_axis(params[key]):
            return TypeError(
                f"{prim.name}: {key} must be an int, a tuple of ints or None, got {params[key]!r} "
                f"({type(params[key]).__name__})"
            )
    kinds = ", ".join(str(getattr(d, "dtype", type(d).__name__)) for d in datas)
    return TypeError(f"{prim.name}: cannot apply to operands of types {kinds} ({exc}); give numeric tensors or numbers")


def _shape_error(prim: Primitive, datas: list, exc: Exception) -> ValueError:
    """The error for a ``ValueError`` raised by ``prim``'s value, in the user's terms: a bad axis
    (an ``AxisError``, also an ``IndexError`` as PyTorch's), a reduction over an empty axis, a
    shape mismatch (the broadcasting fix), or the op's own message with the shapes."""
    shapes = ", ".join(str(getattr(d, "shape", type(d).__name__)) for d in datas)
    text = str(exc)
    ndim = getattr(datas[0], "ndim", 0)
    if isinstance(exc, np.exceptions.AxisError) or "'axis'" in text:  # a bad axis, not a bad shape
        return np.exceptions.AxisError(
            f"{prim.name}: invalid axis for an input of shape {shapes} ({exc}); "
            f"give each axis once, in -{ndim}..{ndim - 1}, or axis=None for all"
        )
    if "axes don't match" in text or "repeated axis" in text:  # a permutation that is not one
        return np.exceptions.AxisError(
            f"{prim.name}: the axes must be a permutation of 0..{ndim - 1} for an input of shape {shapes} "
            f"({exc}); give each axis of the {ndim}-d tensor exactly once"
        )
    if "zero-size array" in text:  # max/min of nothing has no value
        return ValueError(
            f"{prim.name}: cannot reduce an empty tensor of shape {shapes} over an axis of length 0 "
            "(the operation has no identity); reduce over a non-empty axis, or check why the input is empty"
        )
    if any(word in text for word in ("broadcast", "shape", "mismatch", "align", "dimension")):
        return ValueError(
            f"{prim.name}: cannot combine operands of shapes {shapes} ({exc}). "
            "Shapes must be equal or broadcastable (trailing dimensions equal or 1); "
            "reshape or transpose an operand first."
        )
    if text.split(":", 1)[0].isidentifier() and ": " in text:  # already names its op and the fix
        return exc if type(exc) is not ValueError else ValueError(text)  # (a subclass, e.g. a label error, kept)
    return ValueError(f"{prim.name}: {text} (operands of shapes {shapes})")


def apply(prim: Primitive, *args, **params) -> Tensor:
    """Apply a (possibly user-defined) :class:`Primitive` to tensors, recording it on the tape."""
    return _apply(prim, args, params or None)


class TENSOR_NS:  # noqa: N801 - a namespace, named like NUMPY_NS
    """The namespace rules see when their result must itself be differentiable (``create_graph``,
    JVP rules, batching rules): Tensors in and out, every call recorded on the tape.  Its core is
    here; :mod:`.api` adds every op of the rule table and of :mod:`.ops` (``reshape``, ``where`` …)."""

    recording = staticmethod(_m.enable_grad)

    @staticmethod
    def data(x):
        return x._data if isinstance(x, Tensor) else x

    @staticmethod
    def const(x) -> Tensor:
        """A constant raw array as a leaf Tensor (an array of another library refuses ``array op
        Tensor``; NumPy's defers to the Tensor)."""
        return _wrap(x)

    @staticmethod
    def apply(prim: Primitive, args: tuple, params: dict) -> Tensor:
        """Apply a primitive, recorded."""
        return _apply(prim, args, params)

    @staticmethod
    def seed(grad, g) -> Tensor:
        """The output adjoint the walk starts from: a Tensor (``grad`` itself when given one)."""
        return grad if isinstance(grad, Tensor) else _wrap(g)

    @staticmethod
    def unbox(node: Tensor):
        """``(args, ans)`` as the rules see them: the Tensors themselves, so ops record."""
        return node._inputs, node

    @staticmethod
    def zeros(shape, dtype, like=None) -> Tensor:
        """Zeros of ``shape`` on ``like``'s device (the CPU without it)."""
        if like is None or like.__class__ is np.ndarray:
            return _wrap(np.zeros(shape, dtype=dtype))
        xp = namespace_of(like)
        return _wrap(xp.zeros(shape, dtype, device=None if xp is NUMPY else xp.device(like)))
