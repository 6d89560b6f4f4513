"""``Module`` and ``Parameter``: the containers of a network's state (PyTorch's conventions).

A network is a composition ``f(x; θ) = ψ_d(…ψ_1(x))`` (lecture 000); each ``ψ_i`` is a
Module whose ``forward`` maps inputs to outputs and whose parameters θ are found by walking
the attribute tree.  ``backward`` needs no per-layer code: the tape does it (lecture 002).
A module may also hold *buffers* (``register_buffer``): tensors of its state that no gradient
reaches and no optimiser steps (a fixed normalisation mean, running statistics); they move and
cast with the module and, unless registered with ``persistent=False``, are in its ``state_dict``.
"""

from __future__ import annotations

import warnings
import weakref
from collections import OrderedDict, namedtuple
from collections.abc import Iterator, Mapping

import numpy as np

from ..autodiff import JitError, Tensor, as_tensor, is_grad_enabled, no_grad
from ..autodiff.grad_mode import restructure
from ..autodiff.grad_mode import state as _m
from ..autodiff.jit import effect, effects_of_subclass
from ..backend.checks import is_int
from ..backend.device import device_and_dtype, device_of, to_device
from ..backend.namespace import NUMPY, namespace_of
from .hooks import BackwardHook
from .utils import zero_grads


class Parameter(Tensor):
    """A tensor that is a learnable parameter of a Module (``requires_grad=True``)."""

    __slots__ = ()

    def __init__(self, data, requires_grad: bool = True, dtype=None):
        # Tensor() copies the values (as torch.nn.Parameter(t.clone()) would): a parameter owns its memory
        super().__init__(data.data if isinstance(data, Tensor) else data, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class RemovableHandle:
    """What ``register_forward_hook`` (and the other hooks' registrations) returns: ``remove()`` takes the hook off
    (a second call does nothing), also on leaving a ``with`` block, as PyTorch's ``RemovableHandle``."""

    next_id = 0

    def __init__(self, hooks: OrderedDict):
        self.hooks_dict_ref = weakref.ref(hooks)  # the module's hooks, not kept alive by the handle
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1

    def remove(self) -> None:
        hooks = self.hooks_dict_ref()
        if hooks is not None and self.id in hooks:
            del hooks[self.id]
            restructure()  # a compiled function traced with this hook traces again

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


_STATE_HOOKS = ("_state_dict_pre_hooks", "_state_dict_hooks", "_load_state_dict_post_hooks")  # PyTorch's names


class IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What :meth:`Module.load_state_dict` returns: the keys it did not find and the keys it did not use
    (PyTorch's ``_IncompatibleKeys``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()


class StateDictError(RuntimeError):
    """:meth:`Module.load_state_dict` refused a state and wrote nothing: a ``RuntimeError``, as PyTorch's, and
    (its subclasses) the Python error of its kind — ``KeyError`` for keys, ``ValueError`` for shapes,
    ``TypeError`` for values."""

    __str__ = RuntimeError.__str__  # (KeyError's would quote the message)


class StateDictKeyError(StateDictError, KeyError):
    """Missing or unexpected keys under ``strict=True``."""


class StateDictShapeError(StateDictError, ValueError):
    """An entry whose shape is not the model's."""


class StateDictValueError(StateDictError, TypeError):
    """An entry that holds no numeric array."""


def state_array(value):
    """An entry of a state dict as an array nablagrad reads: a :class:`Tensor`'s data; an array of a library
    nablagrad computes on (NumPy, CuPy, …) or a number as it is; another library's tensor (a ``torch.Tensor``
    without array-api-compat) as NumPy, detached first (torch's own ``load_state_dict`` copies without
    gradient); what NumPy cannot read unchanged, for the caller's check to name."""
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, np.ndarray | np.generic) or not hasattr(value, "__dlpack__"):
        return value
    try:
        namespace_of(value)
        return value
    except TypeError:  # (array-api-compat absent): its values through NumPy
        detach = getattr(value, "detach", None)
        try:
            return np.asarray(detach() if callable(detach) else value)
        except (TypeError, ValueError, RuntimeError):  # (a torch tensor on a GPU)
            return value


def _checked(key: str, value, target: Tensor):
    """``value``, the state's entry ``key``, as an array of ``target``'s shape (a ``(1,)`` entry for a 0-d target
    as 0-d) holding numbers, where it is (no copy); a clear error otherwise."""
    a = state_array(value)
    shape = np.shape(a)
    if shape != target.shape and not (target.shape == () and shape == (1,)):
        raise StateDictShapeError(f"load_state_dict: {key} has shape {shape} in the state but {target.shape} in the model")
    try:
        ns = namespace_of(a)
        a = np.asarray(a) if ns is NUMPY else a
        kind = ns.numpy_dtype(a.dtype).kind
        if kind not in "fiubc":
            raise TypeError
    except (TypeError, ValueError):
        what = type(value).__name__
        raise StateDictValueError(f"load_state_dict: {key} holds {what} values; expected a numeric array") from None
    if kind == "c" and np.dtype(target.dtype).kind != "c":  # a complex buffer takes complex values; PyTorch would warn
        raise StateDictValueError(f"load_state_dict: {key} holds complex values but the model's {key} is "
                                  f"{np.dtype(target.dtype)}; load its real part (value.real) if that is meant")  # fmt: skip
    return a if shape == target.shape else a.reshape(())


def _loaded(key: str, value, target: Tensor):
    """``value``, the state's entry ``key``, as an array for ``target``: checked (shape, numeric) and put on
    its device with its dtype, before anything is written."""
    return to_device(_checked(key, value, target), target.device, target.dtype)


def _assigned(key: str, value, target: Tensor) -> Tensor:
    """For ``load_state_dict(assign=True)``: the tensor that replaces ``target``, checked as :func:`_loaded` checks
    (shape, numeric) but keeping the state's dtype and device and sharing its memory, as PyTorch's ``assign``: a
    Parameter for a parameter (the state's own Parameter where it is one), a tensor needing no gradient for a
    buffer (the state's own Tensor where it is one).  Nothing is written here."""
    a = _checked(key, value, target)
    param = isinstance(target, Parameter)
    if isinstance(value, Tensor) and value.shape == target.shape:
        if isinstance(value, Parameter) == param and not (not param and value.requires_grad):
            return value
        t = value.detach()  # shares the memory, and counts writes through either
    else:
        t = as_tensor(a, device=device_of(a))
    if not param:
        return t
    if target.requires_grad and t.dtype.kind not in "fc":
        raise StateDictValueError(f"load_state_dict: {key} holds {t.dtype} values; with assign=True they become the "
                                  "parameter, which requires grad and so must be floating point: cast the state "
                                  "(e.g. to float32), or load with assign=False to copy into the parameter's dtype")  # fmt: skip
    t.__class__ = Parameter  # (Parameter adds no slot to Tensor: the same object, now a Parameter)
    return t


def _assign_all(entries: list) -> None:
    """``((module, name), tensor, requires_grad)``: each tensor set as ``module.name`` with that ``requires_grad``."""
    for (m, name), t, requires_grad in entries:
        if isinstance(t, Parameter) and t.requires_grad != requires_grad:
            t.requires_grad_(requires_grad)
        setattr(m, name, t)


def _copy_all(own: dict, arrays: dict) -> None:
    """Each array of ``arrays`` copied into the tensor of ``own`` under its key (without recording a gradient)."""
    with no_grad():
        for k, a in arrays.items():
            own[k].copy_(a)


def _parameter_dtype(dtype) -> np.dtype:
    """A dtype parameters can take: floating (or complex) only, as PyTorch's ``Module.to`` — an
    integer parameter could neither require a gradient nor be stepped by an optimiser."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"Module.to: {dtype!r} is not a dtype; give e.g. dtype='float64' or np.float32") from None
    if dt.kind not in "fc":
        raise TypeError(f"Module.to: parameters must stay floating point, got dtype {dt}; use e.g. 'float32' or 'float64' "
                        "(cast the inputs, not the model, to feed integers)")  # fmt: skip
    return dt


class Module:
    """Base class of layers and networks: parameters, buffers, sub-modules, train/eval, state_dict."""

    def __init_subclass__(cls, **kwargs):
        """A subclass's own ``zero_grad`` is an effect that ``ng.jit`` repeats, as the base's is."""
        super().__init_subclass__(**kwargs)
        effects_of_subclass(cls, ("zero_grad",))

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_backward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_backward_hooks", OrderedDict())
        object.__setattr__(self, "_is_full_backward_hook", None)  # PyTorch's: which kind of backward hook is in use
        for name in _STATE_HOOKS:
            object.__setattr__(self, name, OrderedDict())

    def __setstate__(self, state: dict) -> None:
        """Unpickle; a module pickled before buffers (or hooks) existed gets empty ones (as PyTorch's ``__setstate__``)."""
        self.__dict__.update(state)
        self.__dict__.setdefault("_buffers", OrderedDict())
        self.__dict__.setdefault("_non_persistent_buffers_set", set())
        self.__dict__.setdefault("_forward_pre_hooks", OrderedDict())
        self.__dict__.setdefault("_forward_hooks", OrderedDict())
        self.__dict__.setdefault("_backward_pre_hooks", OrderedDict())
        self.__dict__.setdefault("_backward_hooks", OrderedDict())
        self.__dict__.setdefault("_is_full_backward_hook", None)
        for name in _STATE_HOOKS:
            self.__dict__.setdefault(name, OrderedDict())

    def __setattr__(self, name: str, value) -> None:
        """``self.name = value`` registers a Parameter or a Module, as PyTorch: a registered parameter's
        name takes only a Parameter or None, a registered child's only a Module or None, a registered
        buffer's a Tensor (the new buffer, as persistent as the old), None, a Parameter or a Module (which
        then replace it); a refused value changes nothing.  Anything else is a plain attribute."""
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before assigning attributes")
        registry = self._registry(name, value)
        self._unregister(name, value, keep=registry)
        if registry is not None:
            registry[name] = value  # a name already there keeps its place (the order of state_dict), as PyTorch
        object.__setattr__(self, name, value)

    def _registry(self, name: str, value) -> OrderedDict | None:
        """Where ``self.name = value`` records ``value`` (PyTorch's rules, in its order), or None for a plain attribute."""
        if isinstance(value, Parameter):
            return self._parameters
        if name in self._parameters:
            fix = f"ng.nn.Parameter(t) (or copy values in: with ng.no_grad(): module.{name}.copy_(t))"
            return self._none_or_refuse(name, value, "Parameter", fix)
        if isinstance(value, Module):
            return self._modules
        if name in self._modules:
            return self._none_or_refuse(name, value, "Module", "a Module")
        if name in self._buffers:
            self._check_buffer(f"{type(self).__name__}.{name} = ...", name, value)
            return self._buffers
        return None

    def _none_or_refuse(self, name: str, value, kind: str, fix: str) -> OrderedDict:
        """A registered ``kind`` takes None (an absent one) or a ``kind``, never a plain value."""
        if value is not None:
            what = "parameter" if kind == "Parameter" else "child module"
            raise TypeError(f"{type(self).__name__}: cannot assign '{type(value).__name__}' as {what} '{name}' "
                            f"(nn.{kind} or None expected); assign {fix}, or first del module.{name}")  # fmt: skip
        return self._parameters if kind == "Parameter" else self._modules

    def _unregister(self, name: str, new=None, keep: OrderedDict | None = None) -> None:
        """Drop ``name`` from the parameters, buffers and children (but ``keep``); a compiled function that
        read the old entry traces again."""
        registries = (self._parameters, self._buffers, self._modules)
        old = next((r[name] for r in registries if name in r), new)
        if old is not new:
            restructure()  # jit.py captures tensors by reference
        for registry in registries:
            if registry is not keep:
                registry.pop(name, None)
        if keep is not self._buffers:
            self._non_persistent_buffers_set.discard(name)

    def __delattr__(self, name: str) -> None:
        """``del module.name`` unregisters a parameter, buffer or child, as PyTorch (then a plain name again)."""
        self._unregister(name)
        object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        """The attributes, parameters, buffers and children, without the names no attribute syntax reaches
        (``"0"`` of a Sequential), sorted (PyTorch's ``__dir__``)."""
        keys = {*dir(type(self)), *self.__dict__, *self._parameters, *self._buffers, *self._modules}
        return sorted(k for k in keys if not k[:1].isdigit())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement forward()")

    def __call__(self, *args, **kwargs):
        """``forward``, with the hooks around it (PyTorch's order): each pre-hook ``hook(module, args)`` may return
        new arguments (one value is taken as ``(value,)``), then ``forward``, then each hook
        ``hook(module, args, output)`` may return a new output (``None``: unchanged).  Registered
        ``with_kwargs=True``, they take the keyword arguments too: ``hook(module, args, kwargs)`` returning
        ``None`` or ``(args, kwargs)``, and ``hook(module, args, kwargs, output)``.  With backward hooks, the
        arguments (after the pre-hooks) and the output (after the hooks) pass through their identity nodes
        (:mod:`.hooks`).  Forward hooks registered ``always_call=True`` run even when the call raises."""
        if _m.jit_trace is not None:  # ng.jit is tracing: its program holds for this module's mode
            _m.jit_trace.called(self)
        if not (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks or self._backward_pre_hooks):
            return self.forward(*args, **kwargs)
        backward = self._backward_hook()  # (taken before the pre-hooks run, as PyTorch's lists)
        output, ran = None, set()  # the output so far; the always_call hooks already run (PyTorch's bookkeeping)
        try:
            for hook, with_kwargs, _ in list(self._forward_pre_hooks.values()):
                new = hook(self, args, kwargs) if with_kwargs else hook(self, args)
                if new is None:
                    continue
                if not with_kwargs:
                    args = new if isinstance(new, tuple) else (new,)
                elif isinstance(new, tuple) and len(new) == 2:
                    args, kwargs = new
                else:
                    raise RuntimeError(f"{type(self).__name__}: a forward pre-hook registered with_kwargs=True must "
                                       f"return None or a tuple (args, kwargs), got {type(new).__name__}")  # fmt: skip
            if backward is not None:
                args = backward.setup_input(args)
            output = self.forward(*args, **kwargs)
            if backward is not None:
                backward.check_forward()
            for key, (hook, with_kwargs, always) in list(self._forward_hooks.items()):
                if always:
                    ran.add(key)
                new = hook(self, args, kwargs, output) if with_kwargs else hook(self, args, output)
                if new is not None:
                    output = new
            return backward.setup_output(output) if backward is not None else output
        except Exception:
            self._always_called_hooks(args, kwargs, output, ran)
            raise

    def _always_called_hooks(self, args: tuple, kwargs: dict, output, ran: set) -> None:
        """After an error in the call: each forward hook registered ``always_call=True`` that has not run yet runs with
        the output so far (``None`` when ``forward`` raised); an error of its own becomes a warning, and the call's
        error is raised on (PyTorch's)."""
        for key, (hook, with_kwargs, always) in list(self._forward_hooks.items()):
            if not always or key in ran:
                continue
            try:
                new = hook(self, args, kwargs, output) if with_kwargs else hook(self, args, output)
                output = output if new is None else new
            except Exception as e:
                warnings.warn(f"{type(self).__name__}: module forward hook with ``always_call=True`` raised an exception "
                              f"that was silenced as another error was raised in forward: {e}", stacklevel=3)  # fmt: skip

    def _backward_hook(self) -> BackwardHook | None:
        """This call's backward hooks (the lists as they are now), or None without any; refused under ``ng.jit``."""
        if not (self._backward_hooks or self._backward_pre_hooks):
            return None
        if _m.jit_trace is not None and is_grad_enabled():
            raise JitError(
                f"jit: {type(self).__name__} has backward hooks (register_full_backward_hook / "
                "register_full_backward_pre_hook); the compiled program replays the derivative rules without calling "
                "Python hooks. Remove them (handle.remove()) before calling the compiled function, or call it without "
                "ng.jit (ng.train.fit then runs its steps eagerly by itself)"
            )
        hooks = [hook for hook, *_ in self._backward_hooks.values()]
        return BackwardHook(self, hooks, [hook for hook, *_ in self._backward_pre_hooks.values()])

    def register_forward_pre_hook(self, hook, *, prepend: bool = False, with_kwargs: bool = False) -> RemovableHandle:
        """Call ``hook(module, args)`` before every ``forward`` (see :meth:`__call__`), after the pre-hooks already
        registered (``prepend=True``: before them); returns a handle whose ``remove()`` takes it off, as PyTorch's.
        ``ng.jit`` traces a hook's ops into the program (a Python side effect of it happens when tracing only,
        as under ``torch.compile`` and ``jax.jit``); registering or removing one makes compiled functions trace again."""
        return self._add_hook(self._forward_pre_hooks, "register_forward_pre_hook", hook, prepend, with_kwargs)

    def register_forward_hook(self, hook, *, prepend: bool = False, with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:  # fmt: skip
        """Call ``hook(module, args, output)`` after every ``forward``; a value it returns replaces the output (see
        :meth:`__call__`); ``always_call=True``: also when the call raises (``output`` then ``None`` if ``forward``
        raised), as PyTorch's; ``prepend``, the handle and ``ng.jit`` as :meth:`register_forward_pre_hook`."""
        return self._add_hook(self._forward_hooks, "register_forward_hook", hook, prepend, with_kwargs, always_call)

    def register_full_backward_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` each time the gradients with respect to the module's
        inputs of a call are computed (PyTorch's): ``grad_output[i] = ∂L/∂output[i]`` (a tuple, one entry per output;
        ``None`` for a non-tensor or an output no gradient reached), ``grad_input[j] = ∂L/∂args[j]`` (one entry per
        positional argument; ``None`` for a non-tensor, zeros for a tensor that does not require grad; all ``None``
        when none requires grad — the hook then runs at the outputs, with a warning).  A tuple it returns replaces
        ``grad_input``: what flows on upstream (``None`` entries flow as zeros).  Keyword arguments get no entry.
        The output must be a Tensor or a tuple (else a warning, and no call); neither the inputs nor the outputs
        may be written in place (a RuntimeError, as PyTorch's).  ``prepend=True`` runs it before the hooks already
        registered; the handle's ``remove()`` takes it off.  Under ``ng.jit`` a hooked module is refused
        (:class:`JitError`; ``fit`` then runs eagerly).  Example: ``lin.register_full_backward_hook(lambda m, gi, go:
        (gi[0] * 0.5,))`` halves the gradient that reaches the layer's input."""
        return self._add_backward_hook(True, "register_full_backward_hook", hook, prepend)

    def register_full_backward_pre_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Call ``hook(module, grad_output)`` each time the gradients with respect to the module's outputs of a
        call are computed, before the module's own backward (PyTorch's); a tuple it returns (one entry per output)
        replaces ``grad_output`` — what the module back-propagates and what its full backward hooks see.
        ``prepend``, the handle and ``ng.jit`` as :meth:`register_full_backward_hook`."""
        return self._add_hook(self._backward_pre_hooks, "register_full_backward_pre_hook", hook, prepend, False)

    def register_backward_hook(self, hook) -> RemovableHandle:
        """Deprecated, as in PyTorch (a ``FutureWarning``): use :meth:`register_full_backward_hook`.  PyTorch's old
        hook saw the gradients of the last autograd node only (a Linear's ``grad_input`` held the bias's gradient);
        here it is a full backward hook, with the documented ``grad_input``.  A module takes one kind or the other
        (a RuntimeError, PyTorch's)."""
        warnings.warn("register_backward_hook is deprecated (as in PyTorch) and runs as register_full_backward_hook "
                      "here; use register_full_backward_hook", FutureWarning, stacklevel=2)  # fmt: skip
        return self._add_backward_hook(False, "register_backward_hook", hook, False)

    def _add_backward_hook(self, full: bool, who: str, hook, prepend) -> RemovableHandle:
        """PyTorch's rule: full and deprecated backward hooks are never mixed on one module."""
        if self._backward_hooks and self._is_full_backward_hook is (not full):
            raise RuntimeError(f"{who}: Cannot use both regular backward hooks and full backward hooks on a single "
                               "Module. Please use only one of them (register_full_backward_hook; remove the others "
                               "first)")  # fmt: skip
        handle = self._add_hook(self._backward_hooks, who, hook, prepend, False)
        object.__setattr__(self, "_is_full_backward_hook", full)
        return handle

    def _add_hook(self, hooks: OrderedDict, who: str, hook, prepend, with_kwargs, always_call=False) -> RemovableHandle:
        """Register ``hook`` in ``hooks`` as ``(hook, with_kwargs, always_call)``; returns its handle."""
        if not callable(hook):
            raise TypeError(f"{who}: hook must be a callable such as `def hook(module, args, ...)`, got {type(hook).__name__}")
        for name, flag in (("prepend", prepend), ("with_kwargs", with_kwargs), ("always_call", always_call)):
            if not isinstance(flag, bool | np.bool_):
                raise TypeError(f"{who}: {name} must be True or False, got {flag!r}")
        handle = RemovableHandle(hooks)
        hooks[handle.id] = (hook, bool(with_kwargs), bool(always_call))
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        restructure()  # a compiled function traced without this hook traces again
        return handle

    def register_state_dict_pre_hook(self, hook) -> RemovableHandle:
        """Call ``hook(module, prefix, keep_vars)`` at the start of every :meth:`state_dict` that includes this module
        (``prefix``: its entries' prefix, e.g. ``"0."``), before its entries are read, as PyTorch's."""
        return self._add_state_hook(self._state_dict_pre_hooks, "register_state_dict_pre_hook", hook)

    def register_state_dict_post_hook(self, hook) -> RemovableHandle:
        """Call ``hook(module, state_dict, prefix, local_metadata)`` once this module's entries (and its children's)
        are in ``state_dict``; it may change ``state_dict`` in place and must return ``None``, as PyTorch's."""
        return self._add_state_hook(self._state_dict_hooks, "register_state_dict_post_hook", hook)

    def register_load_state_dict_post_hook(self, hook) -> RemovableHandle:
        """Call ``hook(module, incompatible_keys)`` after :meth:`load_state_dict` has copied the values (children's
        hooks before their parents'), as PyTorch's: ``incompatible_keys.missing_keys`` and ``.unexpected_keys`` are
        the load's lists, which the hook may edit in place (``strict=True`` then judges the edited lists; a load it
        still refuses puts every value back).  It must return ``None``."""
        return self._add_state_hook(self._load_state_dict_post_hooks, "register_load_state_dict_post_hook", hook)

    def _add_state_hook(self, hooks: OrderedDict, who: str, hook) -> RemovableHandle:
        if not callable(hook):
            raise TypeError(f"{who}: hook must be a callable (see its docstring for the arguments), got {type(hook).__name__}")
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        return handle

    def _call_state_hooks(self, which: str, modules: list[tuple[str, Module]], call) -> None:
        """``call(hook, prefix, module)`` for each hook ``which`` of each ``(prefix, module)``; a post hook that
        returns something is refused, as PyTorch refuses it."""
        for prefix, m in modules:
            for hook in list(getattr(m, which).values()):
                if call(hook, prefix, m) is not None and which != "_state_dict_pre_hooks":
                    what = "state_dict post-hook" if which == "_state_dict_hooks" else "load_state_dict post-hook"
                    raise RuntimeError(f"{type(m).__name__}: a {what} must return None (change the state or the keys "
                                       "in place)")  # fmt: skip

    def _post_order(self, prefix: str = "") -> list[tuple[str, Module]]:
        """(prefix, module) of every module, children before their parent (the order of PyTorch's post hooks)."""
        out = []
        for name, child in self._modules.items():
            if child is not None:
                out += child._post_order(f"{prefix}{name}.")
        return [*out, (prefix, self)]

    def _hooked(self) -> bool:
        """Whether a forward or backward hook is registered (a layer then runs as itself, never fused into another)."""
        return bool(self._forward_pre_hooks or self._forward_hooks or self._backward_hooks or self._backward_pre_hooks)

    # --- registration -------------------------------------------------------------------------
    def _check_new_name(self, what: str, name, registry: OrderedDict) -> None:
        """PyTorch's checks of a name to register: a non-empty ``str`` without ``'.'``, not already an attribute
        unless one of ``registry``'s (a parameter's name cannot become a buffer's, …)."""
        if not isinstance(name, str):
            raise TypeError(f"{what}: the name must be a str, got {type(name).__name__} {name!r}")
        if not name or "." in name:
            raise KeyError(f"{what}: the name must be non-empty and contain no '.', got {name!r}")
        if hasattr(self, name) and name not in registry:
            raise KeyError(f"{what}: {type(self).__name__} already has an attribute {name!r}; pick another name "
                           f"(or del module.{name} first)")  # fmt: skip

    def add_module(self, name: str, module: Module) -> None:
        """Register ``module`` as the child ``name`` (``self.name = module`` with a name made at run time)."""
        self._check_new_name("add_module", name, self._modules)
        if not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} is a {type(module).__name__}, not a Module")
        setattr(self, name, module)

    def register_module(self, name: str, module: Module) -> None:
        """PyTorch's alias of :meth:`add_module`."""
        self.add_module(name, module)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` as the parameter ``name`` (``self.name = param`` with a name made at run time);
        ``None`` registers an absent parameter (skipped by ``parameters()``, as PyTorch's)."""
        self._check_new_name("register_parameter", name, self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"register_parameter: {name!r} is a {type(param).__name__}, not a Parameter; wrap it: ng.nn.Parameter(x)"
            )
        if param is None:
            self._unregister(name, None)
            self._parameters[name] = None
        setattr(self, name, param)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register ``tensor`` (kept as it is, not copied) as the buffer ``name``: state of the module that
        no gradient reaches and no optimiser steps (a fixed mean, running statistics), moved and cast by
        :meth:`to` with the parameters and, if ``persistent``, saved in :meth:`state_dict`.  ``None``
        registers an absent buffer (skipped, as PyTorch's).  Then ``self.name = t`` replaces the buffer."""
        if "_buffers" not in self.__dict__:
            raise AttributeError(f"register_buffer: call super().__init__() in {type(self).__name__}.__init__ first")
        self._check_new_name("register_buffer", name, self._buffers)
        self._check_buffer("register_buffer", name, tensor)
        if not isinstance(persistent, bool | np.bool_):
            raise TypeError(f"register_buffer: persistent must be True or False, got {persistent!r}")
        self._unregister(name, tensor, keep=self._buffers)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)
        object.__setattr__(self, name, tensor)

    @staticmethod
    def _check_buffer(who: str, name: str, value) -> None:
        """A buffer is a Tensor (or None) that requires no gradient: one that did would be a parameter
        no optimiser steps, or carry the graph of the step that made it into every later step."""
        if value is None:
            return
        if not isinstance(value, Tensor):
            raise TypeError(f"{who}: cannot assign '{type(value).__name__}' as buffer '{name}' (a Tensor or None "
                            "expected); wrap the values: ng.tensor(values)")  # fmt: skip
        if value.requires_grad:
            raise ValueError(f"{who}: buffer '{name}' would require grad; a buffer is state no optimiser steps: "
                             "give t.detach() (or compute it under ng.no_grad()), or a parameter: nn.Parameter(t)")  # fmt: skip

    # --- traversal ------------------------------------------------------------------------------
    def _named_members(self, members, prefix: str, recurse: bool, remove_duplicate: bool) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, tensor) for ``members(module)`` of every module (or of ``self`` alone); None skipped; a
        tensor held by several modules once, under its first name, unless ``remove_duplicate=False`` (PyTorch's)."""
        seen: set[int] = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for mod_prefix, module in modules:
            for name, t in members(module):
                if t is None or id(t) in seen:
                    continue
                if remove_duplicate:
                    seen.add(id(t))
                yield (f"{mod_prefix}.{name}" if mod_prefix else name), t

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs; a parameter shared by several modules comes once, under its
        first name, unless ``remove_duplicate=False`` (PyTorch's rule)."""
        return self._named_members(lambda m: m._parameters.items(), prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter once (a shared one is not repeated): what an optimiser steps."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, buffer) pairs, persistent or not, in the order of :meth:`named_parameters` (PyTorch's)."""
        return self._named_members(lambda m: m._buffers.items(), prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer once (None skipped)."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def named_modules(
        self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """(dotted name, module) pairs, ``self`` first (name ``prefix``), depth first; a module reached twice
        (``Sequential(l, l)``) comes once unless ``remove_duplicate=False`` (PyTorch's rule and arguments;
        ``memo`` holds the ids of modules already given)."""
        memo = set() if memo is None else memo
        stack = [(prefix, self)]
        while stack:
            name, m = stack.pop()
            if remove_duplicate:
                if id(m) in memo:
                    continue
                memo.add(id(m))
            yield name, m
            children = [(f"{name}.{k}" if name else k, c) for k, c in m._modules.items() if c is not None]
            stack.extend(reversed(children))  # the first child on top: popped next

    def modules(self) -> Iterator[Module]:
        """Every module once, ``self`` first."""
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen: set[int] = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def get_submodule(self, target: str) -> Module:
        """The module at the dotted path ``target`` (``"0.linear"``; ``""`` is ``self``), as PyTorch."""
        if not isinstance(target, str):
            raise TypeError(f"get_submodule: target must be a dotted path string such as '0.fc', got {type(target).__name__}")
        mod: Module = self
        for item in target.split(".") if target else []:
            if not hasattr(mod, item):
                raise AttributeError(f"get_submodule: {type(mod).__name__} has no attribute `{item}` (in {target!r}); "
                                     f"its children are {list(mod._modules)}")  # fmt: skip
            mod = getattr(mod, item)
            if not isinstance(mod, Module):
                raise AttributeError(f"get_submodule: `{item}` (in {target!r}) is not an nn.Module but a {type(mod).__name__}")
        return mod

    def _get_member(self, who: str, target: str, registry: str, kind: str):
        """The parameter or buffer at the dotted path ``target`` (``"0.weight"``), as PyTorch's ``get_parameter``."""
        if not isinstance(target, str):
            raise TypeError(f"{who}: target must be a dotted path string such as '0.weight', got {type(target).__name__}")
        path, _, name = target.rpartition(".")
        mod = self.get_submodule(path)
        members = getattr(mod, registry)
        if members.get(name) is None:  # absent, or registered as None (a Linear built with bias=False)
            raise AttributeError(f"{who}: {type(mod).__name__} has no {kind} `{name}` (in {target!r}); its {kind}s are "
                                 f"{[k for k, v in members.items() if v is not None]}")  # fmt: skip
        return members[name]

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at the dotted path ``target`` (``"0.weight"``), as PyTorch."""
        return self._get_member("get_parameter", target, "_parameters", "parameter")

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at the dotted path ``target`` (``"0.running_mean"``), as PyTorch."""
        return self._get_member("get_buffer", target, "_buffers", "buffer")

    def apply(self, fn) -> Module:
        """Call ``fn(m)`` on every sub-module, children first, then on ``self`` (PyTorch's order); returns ``self``."""
        if not callable(fn):
            raise TypeError(f"apply: fn must be a callable taking a Module, got {type(fn).__name__}")
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def num_parameters(self) -> int:
        return sum(p.size for p in self.parameters())

    # --- modes and gradients --------------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        if not isinstance(mode, bool | np.bool_):
            raise ValueError(f"train: mode must be True or False, got {type(mode).__name__} {mode!r}; use eval() for False")
        mode = bool(mode)
        for m in self.modules():
            object.__setattr__(m, "training", mode)  # ng.jit programs hold for the modes they were traced in (jit.py)
        return self

    def eval(self) -> Module:
        return self.train(False)

    @effect
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop every parameter's gradient, or (``set_to_none=False``) zero it as PyTorch does: the same
        ``.grad`` tensor holding new zeros (gradients may share arrays: none is written in place)."""
        zero_grads(self.parameters(), set_to_none)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set ``requires_grad`` on every parameter (e.g. ``False`` to freeze a part); returns ``self``."""
        params = list(self.parameters())
        for p in params:  # checked for all before any changes, as Tensor.requires_grad_ checks one
            if requires_grad and p.dtype.kind not in "fc":
                p.requires_grad_(True)
        for p in params:
            p.requires_grad_(requires_grad)
        return self

    def astype(self, dtype) -> Module:
        """Cast every parameter (and floating buffer) to ``dtype`` in place (e.g. ``model.astype("float64")``) and
        drop the gradients: :meth:`to` with ``dtype=`` (all converted before any changes), then ``zero_grad``."""
        self.to(dtype=dtype)
        self.zero_grad()
        return self

    def double(self) -> Module:
        """Floating parameters (and gradients) and buffers cast to float64 in place, as PyTorch's ``double()``."""
        return self._convert(None, np.dtype("float64"), "f")

    def float(self) -> Module:
        """Floating parameters (and gradients) and buffers cast to float32 in place, as PyTorch's ``float()``."""
        return self._convert(None, np.dtype("float32"), "f")

    def half(self) -> Module:
        """Floating parameters (and gradients) and buffers cast to float16 in place, as PyTorch's ``half()``."""
        return self._convert(None, np.dtype("float16"), "f")

    def to(self, *args, dtype=None, device=None) -> Module:
        """Move every parameter (and its gradient) and buffer to ``device`` and/or cast it to ``dtype``, in
        place (an integer or boolean buffer keeps its dtype, as PyTorch's): the parameters stay the same
        ``Parameter`` objects, so an optimiser built on them keeps working, its state following them at
        its next step (PyTorch's ``model.to("cuda")``, ``model.to(np.float64)``; PyTorch asks to build
        the optimiser after the move)."""
        device, dtype = device_and_dtype(args, device, dtype)
        if dtype is not None:
            dtype = _parameter_dtype(dtype)
        return self._convert(device, dtype, "fc")

    def _convert(self, device, dtype: np.dtype | None, kinds: str) -> Module:
        """Put every parameter and buffer on ``device`` (None: where it is) and cast those whose dtype kind is
        in ``kinds`` to ``dtype`` (None: as they are).  The tensors stay the same objects."""
        moved = []  # every array converted before any tensor changes: a failed move changes nothing
        buffers = list(self.buffers())
        for t in (*self.parameters(), *buffers):
            cast = dtype if dtype is not None and t.dtype.kind in kinds else None
            data = to_device(t.data, t.device if device is None else device, cast)
            grad = None if t.grad is None else to_device(t.grad.data, device_of(data), namespace_of(data).numpy_dtype(data.dtype))
            moved.append((t, data, grad))
        if any(data is not t.data for t, data, _ in moved[len(moved) - len(buffers):]):
            restructure()  # ng.jit records no op on a buffer: a value it made from one is frozen, and must be traced anew
        for t, data, grad in moved:
            t.data = data
            if grad is not None:
                t.grad = as_tensor(grad, device=device_of(grad))  # already a new array there: no second copy
            t.bump_version_()
        return self

    def cpu(self) -> Module:
        """``to("cpu")``."""
        return self.to("cpu")

    def cuda(self, index: int = 0) -> Module:
        """``to("cuda:index")`` (CuPy; ``pip install "nablagrad[gpu]"``)."""
        return self.to(f"cuda:{index}")

    @property
    def device(self):
        """The device of the first parameter (``None`` without parameters)."""
        p = next(self.parameters(), None)
        return None if p is None else p.device

    @property
    def dtype(self) -> np.dtype | None:
        p = next(self.parameters(), None)
        return None if p is None else p.dtype

    # --- state --------------------------------------------------------------------------------
    def _local_state(self) -> list[tuple[str, Tensor]]:
        """This module's own entries of a state dict: its parameters, then its persistent buffers (None skipped)."""
        buffers = [(k, b) for k, b in self._buffers.items() if k not in self._non_persistent_buffers_set]
        return [(k, t) for k, t in (*self._parameters.items(), *buffers) if t is not None]

    def _state_items(self) -> list[tuple[str, Tensor]]:
        """(key, tensor) of :meth:`state_dict`, in PyTorch's order: a module's parameters, then its persistent
        buffers, then its children's entries; a module or tensor reached by two paths under both names."""
        return [(f"{path}.{k}" if path else k, t) for path, m in self.named_modules(remove_duplicate=False)
                for k, t in m._local_state()]  # fmt: skip

    def state_dict(self, *, destination: dict | None = None, prefix: str = "", keep_vars: bool = False) -> OrderedDict:
        """Name → a detached :class:`Tensor` (``requires_grad=False``) of each parameter and persistent buffer,
        with its dtype and device, in PyTorch's order (:meth:`_state_items`); ``prefix`` is put before every name
        as it is (PyTorch's); with ``keep_vars=True`` the tensors themselves, as PyTorch's ``keep_vars``.

        Unlike PyTorch's, each entry is a *copy*, not a view of the parameter's memory: optimisers here update
        parameters in place, so a state kept as "the best weights" (``best = model.state_dict()``) stays what
        it was without the ``copy.deepcopy`` PyTorch needs.  ``sd[k].numpy()``, ``np.asarray(sd[k])`` and
        ``torch.tensor(sd[k].numpy())`` read it; :meth:`load_state_dict` takes it back.  Given a ``destination``
        dict, the entries are put into it and it is returned (PyTorch's)."""
        if not isinstance(prefix, str):
            raise TypeError(f"state_dict: prefix must be a str such as 'model.', got {type(prefix).__name__}")
        if destination is not None and not isinstance(destination, dict):
            raise TypeError(f"state_dict: destination must be a dict (an OrderedDict) or None, got {type(destination).__name__}")
        out = destination if destination is not None else OrderedDict()
        modules = list(self.named_modules(remove_duplicate=False))
        if any(m._state_dict_pre_hooks or m._state_dict_hooks for _, m in modules):
            self._save_with_hooks(out, prefix, keep_vars)
            return out
        for k, t in self._state_items():
            out[prefix + k] = t if keep_vars else Tensor(t.data, device=t.device)  # one copy, where t is
        return out

    def _save_with_hooks(self, out: dict, prefix: str, keep_vars: bool) -> None:
        """:meth:`state_dict`'s entries in PyTorch's walk: this module's pre-hooks, its own entries, its children's
        (each the same walk), then its post-hooks — the entries and order of :meth:`_state_items`."""
        self._call_state_hooks("_state_dict_pre_hooks", [(prefix, self)], lambda hook, at, m: hook(m, at, keep_vars))
        for k, t in self._local_state():
            out[prefix + k] = t if keep_vars else Tensor(t.data, device=t.device)
        for name, child in self._modules.items():
            if child is not None:
                child._save_with_hooks(out, f"{prefix}{name}.", keep_vars)
        self._call_state_hooks("_state_dict_hooks", [(prefix, self)], lambda hook, at, m: hook(m, out, at, {}))

    def _unexpected_keys(self, keys: list[str]) -> list[str]:
        """The keys that no module takes, as PyTorch finds them: a key goes down the children its dotted path
        names; the module where it stops flags it when its next name is neither a child (more dots follow)
        nor one of its own entries.  Listed module by module (depth first), each in the state's order."""
        modules = {path: (i, m) for i, (path, m) in enumerate(self.named_modules(remove_duplicate=False))}
        local = {id(m): {k for k, _ in m._local_state()} for _, m in modules.values()}
        flagged = []
        for pos, key in enumerate(keys):
            path, rest = "", key
            while True:
                i, m = modules[path]
                head, dot, tail = rest.partition(".")
                if dot and m._modules.get(head) is not None:
                    path, rest = (f"{path}.{head}" if path else head), tail
                    continue
                if (head not in m._modules) if dot else (head not in local[id(m)]):
                    flagged.append((i, pos, key))  # (a key under a child set to None is ignored, as in PyTorch)
                break
        return [key for *_, key in sorted(flagged)]

    def load_state_dict(self, state: Mapping, strict: bool = True, assign: bool = False) -> IncompatibleKeys:
        """Copy arrays into the parameters and persistent buffers (their dtypes and devices kept); every entry is
        checked and converted before anything is written.  Returns ``(missing_keys, unexpected_keys)`` in
        PyTorch's order; with ``strict`` either raises :class:`StateDictKeyError`.  A wrong shape raises
        :class:`StateDictShapeError` (a ``0``-d entry may come as shape ``(1,)``, as PyTorch allows).  The entries
        may be Tensors, NumPy arrays or torch tensors.

        ``assign=True`` (PyTorch's): the state's tensors *become* the parameters and buffers, with the state's
        dtype and device, sharing its memory (a Parameter in the state is taken itself); each new parameter keeps
        the ``requires_grad`` of the one it replaces.  An optimiser built on the old parameters no longer steps
        the module's (as in PyTorch: build it after loading).  The hooks of
        :meth:`register_load_state_dict_post_hook` run after the values are in; a load refused then puts the old
        ones back."""
        if not isinstance(state, Mapping):
            raise TypeError(f"load_state_dict: expected a dict name -> array (from state_dict()), got {type(state).__name__}")
        for name, flag in (("strict", strict), ("assign", assign)):
            if not isinstance(flag, bool | np.bool_):
                raise TypeError(f"load_state_dict: {name} must be True or False, got {flag!r}")
        bad = [k for k in state if not isinstance(k, str)]
        if bad:
            raise TypeError(f"load_state_dict: the keys must be dotted names (str) as state_dict() gives, got {bad[:3]!r}")
        own = dict(self._state_items())
        missing = [k for k in own if k not in state]
        unexpected = self._unexpected_keys(list(state))
        hooked = [(at, m) for at, m in self._post_order() if m._load_state_dict_post_hooks]
        if strict and (missing or unexpected) and not hooked:
            raise StateDictKeyError(f"load_state_dict: missing keys {missing}, unexpected keys {unexpected}")
        if assign:
            owners = {f"{path}.{k}" if path else k: (m, k) for path, m in self.named_modules(remove_duplicate=False)
                      for k, _ in m._local_state()}  # fmt: skip
            new = {k: _assigned(k, v, own[k]) for k, v in state.items() if k in own}
            # the old tensors, and the state's own Parameters' flags (_assign_all may change them): a refusal puts both back
            undo = [(owners[k], own[k], own[k].requires_grad) for k in new]
            flags = [(t, t.requires_grad) for t in new.values() if isinstance(t, Parameter)]
            _assign_all([(owners[k], t, own[k].requires_grad) for k, t in new.items()])
        else:
            new = {k: _loaded(k, v, own[k]) for k, v in state.items() if k in own}
            undo = {k: namespace_of(own[k].data).copy(own[k].data) for k in new} if hooked else None
            _copy_all(own, new)
        keys = IncompatibleKeys(missing, unexpected)
        try:
            self._call_state_hooks("_load_state_dict_post_hooks", hooked, lambda hook, at, m: hook(m, keys))
            if strict and (missing or unexpected):
                raise StateDictKeyError(f"load_state_dict: missing keys {missing}, unexpected keys {unexpected}")
        except BaseException:  # refused (or a hook raised): the old values (or tensors) back
            if assign:
                _assign_all(undo)
                for t, requires_grad in flags:
                    t.requires_grad = requires_grad
            else:
                _copy_all(own, undo)
            raise
        if any(not own[k].requires_grad for k in new):
            restructure()  # ng.jit records no op on a buffer (or frozen parameter): what it made from one was frozen
        return keys

    # --- repr --------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        if self._modules:
            lines[0] = f"{type(self).__name__}("
            for name, m in self._modules.items():
                child = repr(m).replace("\n", "\n  ")
                lines.append(f"  ({name}): {child}")
            lines.append(")")
            return "\n".join(lines)
        return lines[0] + ")"


class _ModuleSequence(Module):
    """Modules held in order under the names ``"0"``, ``"1"``, …: indexing, ``len``, iteration and
    PyTorch's list methods (``append``, ``extend``, ``insert``, ``pop``, ``s[i] = m``, ``del s[i]``),
    which renumber the names as PyTorch does.  A refused call changes nothing."""

    def _layers(self) -> list[Module]:
        return list(self._modules.values())

    def _slice(self, items: list[tuple[str, Module]]) -> Module:
        """The modules ``items`` (name, module), a slice of this one, as a new container of its kind."""
        raise NotImplementedError

    def _index(self, i) -> int:
        return _position(type(self).__name__, i, len(self._modules))

    def _renumber(self, layers: list[Module]) -> None:
        for key in list(self._modules):
            object.__delattr__(self, key)
        self._modules.clear()
        restructure()  # the names now point at other modules
        for i, layer in enumerate(layers):
            setattr(self, str(i), layer)

    def __getitem__(self, i: int | slice) -> Module:
        if isinstance(i, slice):
            return self._slice(list(self._modules.items())[i])
        return self._layers()[self._index(i)]

    def __setitem__(self, i: int, module: Module) -> None:
        setattr(self, list(self._modules)[self._index(i)], _module(module, f"{type(self).__name__}[{i}] = ..."))

    def __delitem__(self, i: int | slice) -> None:
        layers = self._layers()
        del layers[i if isinstance(i, slice) else self._index(i)]
        self._renumber(layers)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._layers())

    def append(self, module: Module):
        """Add ``module`` at the end; returns ``self``."""
        setattr(self, str(len(self._modules)), _module(module, f"{type(self).__name__}.append"))
        return self

    def extend(self, modules):
        """Append each of ``modules`` (all checked before any is added); returns ``self``."""
        new = [_module(m, f"{type(self).__name__}.extend") for m in modules]
        for m in new:
            self.append(m)
        return self

    def insert(self, index: int, module: Module):
        """Put ``module`` before position ``index`` (``-len … len``, as PyTorch's Sequential); returns ``self``."""
        who, n = f"{type(self).__name__}.insert", len(self._modules)
        _module(module, who)
        if not is_int(index):
            raise TypeError(f"{who}: index must be an int, got {type(index).__name__} {index!r}")
        if not -n <= index <= n:
            raise IndexError(f"{who}: index {index} is out of range for {n} modules; use {-n}..{n}")
        layers = self._layers()
        layers.insert(int(index), module)
        self._renumber(layers)
        return self

    def pop(self, i: int | slice = -1) -> Module:
        """Remove the module at ``i`` (the last by default) and return it."""
        module = self[i]
        del self[i]
        return module


class Sequential(_ModuleSequence):
    """Apply layers in order: ``ψ_d(…ψ_1(x))``.  ``Sequential(l1, l2)`` names them ``"0"``, ``"1"``;
    ``Sequential(OrderedDict([("fc", l1), ("act", l2)]))`` by the dict's names (``model.fc``, state dict keys
    ``fc.weight``), as PyTorch; a slice keeps the names, and ``insert``/``del`` renumber them, as PyTorch's."""

    def __init__(self, *layers: Module):
        super().__init__()
        named = len(layers) == 1 and isinstance(layers[0], OrderedDict)
        items = list(layers[0].items()) if named else [(str(i), m) for i, m in enumerate(layers)]
        for i, (name, layer) in enumerate(items):  # every name and module checked before any is added
            if not isinstance(layer, Module):
                where = f"entry {name!r}" if named else f"argument {i}"
                hint = "; to name the layers pass one OrderedDict([(name, module), ...])" if isinstance(layer, dict) else ""
                raise TypeError(f"Sequential: {where} is a {type(layer).__name__}, not a Module{hint}")
            self._check_new_name("Sequential", name, self._modules)
        for name, layer in items:
            setattr(self, name, layer)

    def forward(self, x):
        for layer in self._modules.values():
            x = layer(x)
        return x

    def _slice(self, items: list[tuple[str, Module]]) -> Sequential:
        return Sequential(OrderedDict(items))  # (PyTorch's: the names kept)

    def _other(self, other, op: str) -> Sequential:
        if not isinstance(other, Sequential):
            raise ValueError(f"Sequential {op}: add operator supports only objects of Sequential class, but "
                             f"{type(other).__name__} is given; wrap the modules in a Sequential")  # fmt: skip
        return other

    def _factor(self, k, op: str) -> int:
        if not is_int(k):
            raise TypeError(f"Sequential {op}: unsupported operand type(s) for *: Sequential and {type(k).__name__}; "
                            "multiply by a positive int")  # fmt: skip
        if k <= 0:
            raise ValueError(f"Sequential {op}: Non-positive multiplication factor {k}; multiply by an int >= 1")
        return int(k)

    def __add__(self, other: Sequential) -> Sequential:
        """A new Sequential of this one's modules, then ``other``'s (the same objects), numbered 0, 1, … (PyTorch's)."""
        return Sequential(*self, *self._other(other, "+"))

    def __iadd__(self, other: Sequential) -> Sequential:
        """``other``'s modules appended to this one (PyTorch's ``+=``)."""
        return self.extend(list(self._other(other, "+=")))

    def __mul__(self, k: int) -> Sequential:
        """A new Sequential of this one's modules ``k`` times over (the same objects, so shared parameters), numbered
        0, 1, … (PyTorch's ``*``)."""
        return Sequential(*(list(self) * self._factor(k, "*")))

    __rmul__ = __mul__

    def __imul__(self, k: int) -> Sequential:
        """This one's modules repeated ``k`` times in place (PyTorch's ``*=``)."""
        return self.extend(list(self) * (self._factor(k, "*=") - 1))


def _position(who: str, i, n: int) -> int:
    """The place of index ``i`` (negative from the end) among ``n`` modules, or a clear error."""
    if not is_int(i):
        raise TypeError(f"{who}: index with an int or a slice, got {type(i).__name__} {i!r}")
    if not -n <= i < n:
        raise IndexError(f"{who}: index {i} is out of range for {n} modules")
    return int(i) % n


def _module(value, who: str) -> Module:
    if not isinstance(value, Module):
        raise TypeError(f"{who}: expected a Module, got a {type(value).__name__}")
    return value


class ModuleList(_ModuleSequence):
    """A list of modules, each registered (its parameters are the list's), as PyTorch's ``nn.ModuleList``:
    ``append``, ``extend``, ``insert``, ``pop``, indexing and iteration; no ``forward`` of its own."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _slice(self, items: list[tuple[str, Module]]) -> ModuleList:
        return ModuleList(m for _, m in items)  # (PyTorch's: renumbered)

    def __add__(self, other) -> ModuleList:
        """A new ModuleList of this one's modules, then those of the iterable ``other`` (PyTorch's ``+``)."""
        return ModuleList([*self, *other])

    def __iadd__(self, other) -> ModuleList:
        """:meth:`extend` (PyTorch's ``+=``)."""
        return self.extend(other)


class ModuleDict(Module):
    """Modules by name, each registered, as PyTorch's ``nn.ModuleDict`` (insertion order kept): indexing by
    name, ``in``, ``keys``/``values``/``items``, ``update``, ``pop``; no ``forward`` of its own."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def _key(self, key) -> str:
        if not isinstance(key, str) or not key or "." in key:
            raise KeyError(f"ModuleDict: a name must be a non-empty string without '.', got {key!r}")
        return key

    def __getitem__(self, key: str) -> Module:
        if key not in self._modules:
            raise KeyError(f"ModuleDict: no module named {key!r}; names: {list(self._modules)}")
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        setattr(self, self._key(key), _module(module, "ModuleDict"))

    def __delitem__(self, key: str) -> None:
        self[key]  # noqa: B018 - a clear KeyError for a missing name
        del self._modules[key]
        object.__delattr__(self, key)

    def __contains__(self, key) -> bool:
        return key in self._modules

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(list(self._modules))

    def keys(self):
        return list(self._modules.keys())

    def values(self):
        return list(self._modules.values())

    def items(self):
        return list(self._modules.items())

    def update(self, modules) -> None:
        pairs = list(modules.items() if isinstance(modules, Mapping) else modules)
        checked = [(self._key(k), _module(m, "ModuleDict.update")) for k, m in pairs]  # all checked before any is added
        for k, m in checked:
            setattr(self, k, m)

    def pop(self, key: str) -> Module:
        module = self[key]
        del self[key]
        return module
