"""``DistributedOptimizer``: gradients averaged over the ranks by one in-place ``Allreduce`` of a
single flattened buffer, then the wrapped optimiser's ``step()`` on every rank."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..autodiff import Tensor
from ..autodiff.jit import effect
from ..backend import CPU, to_device
from ..optim import Optimizer
from . import world as _world
from .world import MPI_INSTALL_HINT, SingleProcess, World, init


def allreduce_gradients(params: Sequence[Tensor], world: World, weight: float, extras: np.ndarray | None = None) -> np.ndarray:
    """Replace every ``p.grad`` by ``Σ_r weight_r · p.grad_r`` over the ranks, with one ``Allreduce``.

    The gradients (a rank without one counts zeros) are packed into one host buffer of the
    parameters' dtype (float32 by default), followed by one count per parameter of the ranks that
    have its gradient and by ``extras`` (numbers to be summed over ranks too, such as the weighted
    loss), so one message per step carries everything.  A parameter no rank has a gradient for
    (frozen, or unused in this step) keeps ``grad = None``, as torch's DistributedDataParallel
    leaves it, so momentum and weight decay skip it as on one process.  Gradients on another
    device travel through the host and come back to the parameter's device.  Returns the summed
    ``extras``.
    """
    extras = np.zeros(0) if extras is None else np.asarray(extras)
    if world.size == 1 and weight == 1.0:
        return extras.astype(np.float64)
    sizes = [math.prod(p.shape) for p in params]
    total = sum(sizes)
    dtype = np.result_type(np.float32, *(p.dtype for p in params))  # Tensor.dtype: NumPy's on every device
    buf = np.empty(total + len(params) + len(extras), dtype=dtype)
    o = 0
    for i, (p, n) in enumerate(zip(params, sizes)):
        buf[o : o + n] = 0.0 if p.grad is None else np.ravel(to_device(p.grad.data, CPU)) * weight
        buf[total + i] = p.grad is not None
        o += n
    buf[total + len(params) :] = extras
    world.allreduce_(buf)
    o = 0
    for i, (p, n) in enumerate(zip(params, sizes)):
        if buf[total + i] > 0:  # device=: the parameter's, never the default device
            p.grad = Tensor(buf[o : o + n].reshape(p.shape).astype(p.dtype, copy=False), device=p.device)
        o += n
    return buf[total + len(params) :].astype(np.float64)


class DistributedOptimizer(Optimizer):
    """Wrap an optimiser: ``step()`` averages the gradients over the ranks (``weight = 1/size``),
    then steps the wrapped optimiser.  Every other attribute (``param_groups``, ``state_dict``,
    ``zero_grad`` …) is the wrapped optimiser's.

    As Horovod's wrapper, the object is an instance of the wrapped optimiser's class (a subclass made once per
    class, named as it): ``isinstance(DistributedOptimizer(Adam(...)), ng.optim.Adam)`` and ``ng.optim.Optimizer``
    hold, so a schedule or ``io.save`` takes it; that class's methods all run on the wrapped optimiser, which
    holds the one copy of the groups and the state."""

    def __new__(cls, optimizer: Optimizer, world: World | None = None):
        if isinstance(optimizer, DistributedOptimizer):
            raise TypeError("DistributedOptimizer: the optimiser is already distributed")
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"DistributedOptimizer: expected an ng.optim optimiser, got {type(optimizer).__name__}")
        return object.__new__(_wrapper_class(type(optimizer)))

    def __init__(self, optimizer: Optimizer, world: World | None = None):  # no Optimizer.__init__: nothing of its own
        object.__setattr__(self, "optimizer", optimizer)
        object.__setattr__(self, "world", world if world is not None else init())

    def params(self) -> list[Tensor]:
        return [p for g in self.optimizer.param_groups for p in g["params"]]

    @effect
    def step(self, closure=None):
        loss = closure() if closure is not None else None
        allreduce_gradients(self.params(), self.world, 1.0 / self.world.size)
        self.optimizer.step()
        return loss

    def __getattr__(self, name: str):
        if "optimizer" not in self.__dict__:  # during copy/unpickling, before __init__'s attributes exist
            raise AttributeError(name)
        return getattr(self.__dict__["optimizer"], name)

    def __setattr__(self, name: str, value) -> None:
        """``opt.state = ...`` and the like write the wrapped optimiser's (the wrapper keeps only ``optimizer``, ``world``)."""
        if name in ("optimizer", "world"):
            object.__setattr__(self, name, value)
        else:
            setattr(self.optimizer, name, value)

    def __getstate__(self) -> dict:
        return dict(self.__dict__)

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    def __reduce__(self):
        """Pickled and copied as ``DistributedOptimizer(optimizer, world)`` (its class is made at run time)."""
        return DistributedOptimizer, (self.optimizer, self.world)

    def __repr__(self) -> str:
        return f"DistributedOptimizer({self.optimizer!r}, {self.world!r})"


def _to_wrapped(name: str, value):
    """A class attribute of the wrapped optimiser's class that reads the wrapped optimiser's instead."""
    if callable(value) or isinstance(value, staticmethod | classmethod):
        def method(self, *args, **kwargs):
            return getattr(self.optimizer, name)(*args, **kwargs)

        method.__name__ = method.__qualname__ = name
        method.__doc__ = f"The wrapped optimiser's ``{name}``."
        return method
    return property(lambda self: getattr(self.optimizer, name), doc=f"The wrapped optimiser's ``{name}``.")


@functools.cache
def _wrapper_class(cls: type) -> type:
    """``DistributedOptimizer`` and ``cls`` in one class (Horovod's way), every attribute that ``cls`` and its
    optimiser bases define turned to the wrapped optimiser's, but the wrapper's own (``step``, …)."""
    own = set(DistributedOptimizer.__dict__)
    namespace = {name: _to_wrapped(name, value) for base in reversed(cls.__mro__) if issubclass(base, Optimizer)
                 for name, value in vars(base).items() if name not in own and not name.startswith("__")}  # fmt: skip
    return type(cls.__name__, (DistributedOptimizer, cls), {**namespace, "__module__": __name__, "__qualname__": cls.__name__})


def unwrap(optimizer) -> Optimizer:
    """The plain optimiser under a ``DistributedOptimizer`` (itself otherwise)."""
    return optimizer.optimizer if isinstance(optimizer, DistributedOptimizer) else optimizer


def resolve(optimizer, distributed: bool) -> tuple[World, Any]:
    """The world a run spans and the plain optimiser under it: a ``DistributedOptimizer`` brings
    its world; ``distributed=True`` asks for MPI (an error naming the extra when it is missing)."""
    if isinstance(optimizer, DistributedOptimizer):
        return optimizer.world, optimizer.optimizer
    if not distributed:
        return SingleProcess(), optimizer
    if _world._mpi() is None:  # looked up on the module: tests replace it
        raise ImportError(f"fit(distributed=True): mpi4py is not installed — {MPI_INSTALL_HINT}")
    return init(), optimizer
