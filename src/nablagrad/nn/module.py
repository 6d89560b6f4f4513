"""``Module`` and ``Parameter``: the containers of a network's state (PyTorch's conventions).

A network is a composition ``f(x; θ) = ψ_d(…ψ_1(x))`` (lecture 000); each ``ψ_i`` is a
Module whose ``forward`` maps inputs to outputs and whose parameters θ are found by walking
the attribute tree.  ``backward`` needs no per-layer code: the tape does it (lecture 002).
"""

from __future__ import annotations

from collections import OrderedDict, namedtuple
from collections.abc import Iterator, Mapping

import numpy as np

from ..autodiff import Tensor, as_tensor, no_grad
from ..autodiff.jit import effect, effects_of_subclass
from ..autodiff.mode import restructure
from ..backend.checks import is_int
from ..backend.device import device_and_dtype, device_of, to_device
from ..backend.namespace import NUMPY, namespace_of
from .utils import zero_grads


class Parameter(Tensor):
    """A tensor that is a learnable parameter of a Module (``requires_grad=True``)."""

    __slots__ = ()

    def __init__(self, data, requires_grad: bool = True, dtype=None):
        # Tensor() copies the values (as torch.nn.Parameter(t.clone()) would): a parameter owns its memory
        super().__init__(data.data if isinstance(data, Tensor) else data, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What :meth:`Module.load_state_dict` returns: the keys it did not find and the keys it did not use
    (PyTorch's ``_IncompatibleKeys``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()


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
    """Base class of layers and networks: parameters, sub-modules, train/eval, state_dict."""

    def __init_subclass__(cls, **kwargs):
        """A subclass's own ``zero_grad`` is an effect that ``ng.jit`` repeats, as the base's is."""
        super().__init_subclass__(**kwargs)
        effects_of_subclass(cls, ("zero_grad",))

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    def __setattr__(self, name: str, value) -> None:
        """``self.name = value`` registers a Parameter or a Module, as PyTorch: a registered parameter's
        name takes only a Parameter or None, a registered child's only a Module or None (a refused
        value changes nothing); anything else is a plain attribute."""
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
        return None

    def _none_or_refuse(self, name: str, value, kind: str, fix: str) -> OrderedDict:
        """A registered ``kind`` takes None (an absent one) or a ``kind``, never a plain value."""
        if value is not None:
            what = "parameter" if kind == "Parameter" else "child module"
            raise TypeError(f"{type(self).__name__}: cannot assign '{type(value).__name__}' as {what} '{name}' "
                            f"(nn.{kind} or None expected); assign {fix}, or first del module.{name}")  # fmt: skip
        return self._parameters if kind == "Parameter" else self._modules

    def _unregister(self, name: str, new=None, keep: OrderedDict | None = None) -> None:
        """Drop ``name`` from the parameters and children (but ``keep``); a compiled function that read the
        old entry traces again."""
        registered = name in self._parameters or name in self._modules
        old = self._parameters.get(name, self._modules.get(name))
        if registered and old is not new:
            restructure()  # jit.py captures tensors by reference
        for registry in (self._parameters, self._modules):
            if registry is not keep:
                registry.pop(name, None)

    def __delattr__(self, name: str) -> None:
        """``del module.name`` unregisters a parameter or child, as PyTorch (then a plain name again)."""
        self._unregister(name)
        object.__delattr__(self, name)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # --- registration -------------------------------------------------------------------------
    def _check_new_name(self, what: str, name) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{what}: the name must be a str, got {type(name).__name__} {name!r}")
        if not name or "." in name:
            raise KeyError(f"{what}: the name must be non-empty and contain no '.', got {name!r}")
        if hasattr(self, name) and name not in self._parameters and name not in self._modules:
            raise KeyError(f"{what}: {type(self).__name__} already has an attribute {name!r}; pick another name")

    def add_module(self, name: str, module: Module) -> None:
        """Register ``module`` as the child ``name`` (``self.name = module`` with a name made at run time)."""
        self._check_new_name("add_module", name)
        if not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} is a {type(module).__name__}, not a Module")
        setattr(self, name, module)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` as the parameter ``name`` (``self.name = param`` with a name made at run time);
        ``None`` registers an absent parameter (skipped by ``parameters()``, as PyTorch's)."""
        self._check_new_name("register_parameter", name)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"register_parameter: {name!r} is a {type(param).__name__}, not a Parameter; wrap it: ng.nn.Parameter(x)"
            )
        if param is None:
            self._unregister(name, None)
            self._parameters[name] = None
        setattr(self, name, param)

    # --- traversal ------------------------------------------------------------------------------
    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs; a parameter shared by several modules comes once, under its
        first name, unless ``remove_duplicate=False`` (PyTorch's rule)."""
        seen: set[int] = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for mod_prefix, module in modules:
            for name, p in module._parameters.items():
                if p is None or id(p) in seen:
                    continue
                if remove_duplicate:
                    seen.add(id(p))
                yield (f"{mod_prefix}.{name}" if mod_prefix else name), p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter once (a shared one is not repeated): what an optimiser steps."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

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
            object.__setattr__(m, "training", mode)
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
        """Cast every parameter to ``dtype`` in place (e.g. ``model.astype("float64")``) and drop the
        gradients: :meth:`to` with ``dtype=`` (all converted before any changes), then ``zero_grad``."""
        self.to(dtype=dtype)
        self.zero_grad()
        return self

    def double(self) -> Module:
        """``to(dtype="float64")``: parameters and gradients cast in place, as PyTorch's ``double()``."""
        return self.to(dtype="float64")

    def float(self) -> Module:
        """``to(dtype="float32")``: parameters and gradients cast in place, as PyTorch's ``float()``."""
        return self.to(dtype="float32")

    def to(self, *args, dtype=None, device=None) -> Module:
        """Move every parameter (and its gradient) to ``device`` and/or cast it to ``dtype``, in place:
        the parameters stay the same ``Parameter`` objects, so an optimiser built on them keeps
        working, its state following them at its next step (PyTorch's ``model.to("cuda")``,
        ``model.to(np.float64)``; PyTorch asks to build the optimiser after the move)."""
        device, dtype = device_and_dtype(args, device, dtype)
        if dtype is not None:
            dtype = _parameter_dtype(dtype)
        moved = []  # every array converted before any parameter changes: a failed move changes nothing
        for p in self.parameters():
            data = to_device(p.data, p.device if device is None else device, dtype)
            grad = None if p.grad is None else to_device(p.grad.data, device_of(data), namespace_of(data).numpy_dtype(data.dtype))
            moved.append((p, data, grad))
        for p, data, grad in moved:
            p.data = data
            if grad is not None:
                p.grad = as_tensor(grad, device=device_of(grad))  # already a new array there: no second copy
            p.bump_version_()
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
    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """Name → a copy of each parameter's array (on the parameter's device, as PyTorch).  A module or
        parameter reached by two paths is saved under both names, as PyTorch's ``state_dict``."""
        params = self.named_parameters(remove_duplicate=False)
        return OrderedDict((name, namespace_of(p.data).copy(p.data)) for name, p in params)

    def load_state_dict(self, state: dict, strict: bool = True) -> IncompatibleKeys:
        """Copy arrays into the parameters; every entry is checked and converted before anything is written.
        Returns ``(missing_keys, unexpected_keys)`` as PyTorch (both empty when ``strict``)."""
        if not isinstance(state, Mapping):
            raise TypeError(f"load_state_dict: expected a dict name -> array (from state_dict()), got {type(state).__name__}")
        if not isinstance(strict, bool | np.bool_):
            raise TypeError(f"load_state_dict: strict must be True or False, got {strict!r}")
        own = dict(self.named_parameters(remove_duplicate=False))  # the names state_dict() gives
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict: missing keys {missing}, unexpected keys {unexpected}")
        new = {}
        for k, v in state.items():
            if k not in own:
                continue
            a = v.data if isinstance(v, Tensor) else v
            if np.shape(a) != own[k].shape:
                raise ValueError(f"load_state_dict: {k} has shape {np.shape(a)} in the state but {own[k].shape} in the model")
            try:
                ns = namespace_of(a)  # checked where it is, then put on the parameter's device before any write
                a = np.asarray(a) if ns is NUMPY else a
                if ns.numpy_dtype(a.dtype).kind not in "fiub":
                    raise TypeError
                new[k] = to_device(a, own[k].device, own[k].dtype)
            except (TypeError, ValueError):
                raise TypeError(f"load_state_dict: {k} holds {type(v).__name__} values; expected a numeric array") from None
        with no_grad():
            for k, a in new.items():
                own[k].copy_(a)
        return IncompatibleKeys(missing, unexpected)

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

    def _slice(self, layers: list[Module]) -> Module:
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
        layers = self._layers()
        return self._slice(layers[i]) if isinstance(i, slice) else layers[self._index(i)]

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
    """Apply layers in order: ``ψ_d(…ψ_1(x))``."""

    def __init__(self, *layers: Module):
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential: argument {i} is a {type(layer).__name__}, not a Module")
            setattr(self, str(i), layer)

    def forward(self, x):
        for layer in self._modules.values():
            x = layer(x)
        return x

    def _slice(self, layers: list[Module]) -> Sequential:
        return Sequential(*layers)


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

    def _slice(self, layers: list[Module]) -> ModuleList:
        return ModuleList(layers)


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
