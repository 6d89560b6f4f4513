"""``ParameterList`` and ``ParameterDict``: parameters held by position or by name, each registered (in
``parameters()``, ``named_parameters()`` and ``state_dict`` under ``"0"``, ``"1"``, … or its name), as PyTorch's.

A plain ``Tensor`` given to them becomes a ``Parameter`` (as PyTorch wraps it); anything else is refused.  The
entries live in the module's parameter registry only, so a name such as ``"keys"`` never hides a method
(``pd.alpha`` still reads the parameter ``"alpha"``).  A refused call changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from ..autodiff import Tensor
from ..autodiff.grad_mode import restructure
from ..backend.checks import is_int
from .module import Module, Parameter


def _parameter(value, who: str) -> Parameter:
    """``value`` as the Parameter to register: a Parameter as it is, a Tensor wrapped (PyTorch's rule)."""
    if isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor):
        return Parameter(value)  # (a copy that requires grad, as torch's Parameter(t))
    raise TypeError(f"{who}: expected a Parameter (or a Tensor, which becomes one), got {type(value).__name__}; "
                    "wrap the values: ng.nn.Parameter(ng.tensor(values))")  # fmt: skip


class _ParameterContainer(Module):
    """Shared by both: attribute access to an entry, ``len``, and the repr of the entries' shapes."""

    def __getattr__(self, name: str):
        params = self.__dict__.get("_parameters")
        if params is not None and name in params:
            return params[name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def __len__(self) -> int:
        return len(self._parameters)

    def _put(self, key: str, param: Parameter) -> None:
        self._parameters[key] = param
        restructure()  # a compiled function that read the old entry traces again

    def extra_repr(self) -> str:
        return ", ".join(f"({k}): Parameter of shape {tuple(p.shape)} ({p.dtype})" for k, p in self._parameters.items())


class ParameterList(_ParameterContainer):
    """A list of parameters (PyTorch's ``nn.ParameterList``): indexing (a slice gives a new list), ``p[i] = t``,
    ``append``, ``extend``, ``+=``, ``len``, iteration; entry ``i`` is named ``str(i)``."""

    def __init__(self, values: Iterable | None = None):
        super().__init__()
        if values is not None:
            self.extend(values)

    def _index(self, i) -> int:
        n = len(self._parameters)
        if not is_int(i):
            raise TypeError(f"ParameterList: index with an int or a slice, got {type(i).__name__} {i!r}")
        if not -n <= i < n:
            raise IndexError(f"ParameterList: index {i} is out of range for {n} parameters")
        return int(i) % n

    def __getitem__(self, i: int | slice):
        if isinstance(i, slice):
            return ParameterList(list(self._parameters.values())[i])
        return self._parameters[str(self._index(i))]

    def __setitem__(self, i: int, value) -> None:
        key = str(self._index(i))
        self._put(key, _parameter(value, f"ParameterList[{i}] = ..."))

    def __iter__(self) -> Iterator[Parameter]:
        return iter(list(self._parameters.values()))

    def append(self, value) -> ParameterList:
        """Add ``value`` at the end; returns ``self``."""
        self._put(str(len(self._parameters)), _parameter(value, "ParameterList.append"))
        return self

    def extend(self, values: Iterable) -> ParameterList:
        """Append each of ``values`` (all checked before any is added); returns ``self``."""
        if isinstance(values, Tensor) or not isinstance(values, Iterable):
            raise TypeError(f"ParameterList.extend: expected an iterable of parameters, got {type(values).__name__}")
        new = [_parameter(v, "ParameterList.extend") for v in values]
        for p in new:
            self.append(p)
        return self

    def __iadd__(self, values: Iterable) -> ParameterList:
        return self.extend(values)

    def __dir__(self) -> list[str]:
        return [k for k in super().__dir__() if not k.isdigit()]


class ParameterDict(_ParameterContainer):
    """Parameters by name (PyTorch's ``nn.ParameterDict``, insertion order kept): ``pd[name]``, ``pd[name] = t``,
    ``del``, ``in``, ``keys``/``values``/``items``, ``get``, ``update``, ``pop``, ``popitem``, ``setdefault``,
    ``clear``, ``copy``, ``fromkeys``."""

    def __init__(self, parameters: Mapping | Iterable | None = None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    @staticmethod
    def _key(key) -> str:
        if not isinstance(key, str) or not key or "." in key:
            raise KeyError(f"ParameterDict: a name must be a non-empty string without '.', got {key!r}")
        return key

    def __getitem__(self, key: str) -> Parameter:
        if key not in self._parameters:
            raise KeyError(f"ParameterDict: no parameter named {key!r}; names: {list(self._parameters)}")
        return self._parameters[key]

    def __setitem__(self, key: str, value) -> None:
        self._put(self._key(key), _parameter(value, f"ParameterDict[{key!r}] = ..."))

    def __delitem__(self, key: str) -> None:
        self[key]  # noqa: B018 - a clear KeyError for a missing name
        del self._parameters[key]
        restructure()

    def __contains__(self, key) -> bool:
        return key in self._parameters

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._parameters))

    def keys(self):
        return self._parameters.keys()

    def values(self):
        return self._parameters.values()

    def items(self):
        return self._parameters.items()

    def get(self, key: str, default=None):
        return self._parameters.get(key, default)

    def update(self, parameters: Mapping | Iterable) -> None:
        """Add or replace entries from a mapping or (name, parameter) pairs, all checked before any is written."""
        if isinstance(parameters, Mapping | ParameterDict):
            pairs = list(parameters.items())
        elif isinstance(parameters, Iterable) and not isinstance(parameters, str | Tensor):
            pairs = list(parameters)
            for j, pair in enumerate(pairs):
                if not isinstance(pair, tuple | list) or len(pair) != 2:
                    raise ValueError(f"ParameterDict.update: entry {j} should be a (name, parameter) pair, got {pair!r}")
        else:
            raise TypeError(f"ParameterDict.update: expected a mapping or (name, parameter) pairs, got "
                            f"{type(parameters).__name__}")  # fmt: skip
        checked = [(self._key(k), _parameter(v, "ParameterDict.update")) for k, v in pairs]
        for k, p in checked:
            self._put(k, p)

    def pop(self, key: str) -> Parameter:
        p = self[key]
        del self[key]
        return p

    def popitem(self) -> tuple[str, Parameter]:
        if not self._parameters:
            raise KeyError("ParameterDict.popitem: the dict is empty")
        key = next(reversed(self._parameters))
        return key, self.pop(key)

    def setdefault(self, key: str, default=None) -> Parameter:
        if key not in self._parameters:
            self[key] = default
        return self._parameters[key]

    def clear(self) -> None:
        self._parameters.clear()
        restructure()

    def copy(self) -> ParameterDict:
        """A new ParameterDict holding the same parameters (not copies of them), as PyTorch's."""
        return ParameterDict(list(self._parameters.items()))

    def fromkeys(self, keys: Iterable[str], default=None) -> ParameterDict:
        """A new ParameterDict with each of ``keys`` holding ``default`` (PyTorch's method, on an instance)."""
        return ParameterDict([(k, default) for k in keys])

    def __or__(self, other: ParameterDict) -> ParameterDict:
        new = self.copy()
        new.update(other)
        return new
