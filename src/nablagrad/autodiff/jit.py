"""``jit(f)``: trace a function of tensors once per input signature, then replay a static program.

**Trace** (the first call for a given signature — shapes, dtypes and non-array arguments): ``f``
runs once, eagerly, with its inputs marked as requiring gradients (integer ones included), so
that the tape records every primitive that depends on them.  The ops that the output depends on, in evaluation order,
become the program: ``(primitive, argument slots, parameters, output slot)``.  Tensors that
``f`` reads but does not receive (a model's parameters) are *captured by reference*: each call
reads their current ``.data``.  Arrays that are an input's data (integer labels used as an
index) are found by identity and replaced by the new input's data on each call; so are arrays that
an op of the trace made (``x[argmax(x)]``, ``x[:, argsort(x)[:k]]``: index-valued ops are recorded,
and the index is computed anew on each call).  A boolean mask made inside ``f`` is refused as an
index (``x[x > 0]`` has a shape that depends on the values, as under ``jax.jit``; ``ng.where`` keeps it).  A mask
given as an argument is an input, also where an op takes it raw (``ng.where(mask, x, 0)``); used as an index, a call
whose mask holds another number of True values than the traced one runs ``f`` itself (a warning says so, once).

**Replay** (every call): each primitive's ``fn`` runs on raw arrays — no Tensor objects, no
graph building, no topological sort.  The whole call is *one* node on the caller's tape; its
vector–Jacobian product replays the recorded ops' own VJP rules in reverse order, reducing
broadcast gradients with the one ``sum_to`` (DESIGN rules 1 and 2), and frees each
intermediate as soon as its last rule has run.  A gradient is computed only for the inputs
and captured tensors that require one on this call.

Semantics follow ``jax.jit``: ``f`` must be a pure function of its inputs and of the tensors it
reads; a new shape or dtype traces again; Python that reads a traced tensor's *value* while
tracing (``if loss > 0``, ``float(x)``, ``x.item()``) raises :class:`JitError`, because that
value would be frozen into the program: the trace is a switch of the engine's thread-local
mode (``grad_mode.state.jit_trace``) that ``Tensor.item``/``tolist`` and the comparisons ask, so
nothing is patched and other threads are unaffected; a comparison of traced values is
recorded (``ng.where(x > 0, …)`` is computed anew on every call).  A call that needs no
gradient frees each intermediate right after its last use.  As a safety net the first replay of each program
is checked against an eager call of ``f``.  As under ``jax.jit``, arguments and results may be pytrees (tuples,
lists, dicts of tensors, nested; an array leaf is an input, any other leaf static, a new structure traces again),
NumPy scalars are 0-d inputs, and every floating result carries its gradient: several are packed end to end
into the call's one tape node, so one backward walk serves them all (integer results carry none).
Under a function transform (``vmap``, ``grad``, ``vjp``, ``jvp``, ``jacrev``, ``jacfwd``, ``hessian``, as in
``ng.vmap(ng.jit(f))``) a compiled function runs ``f`` itself, as JAX traces a ``jit`` inside a transform anew:
the transform's levels (batching, tangents, repeated and higher-order reverse passes) act on ``f``'s own ops,
which a program of raw arrays cannot carry.  Outside transforms, ``backward(create_graph=True)`` through a
compiled call is refused (call ``f`` itself for that; ``torch.compile`` refuses double backward too).  A backward
with ``retain_graph=True`` leaves the call's intermediates in place, so another backward (from the same result or
another one) goes through it again, as in PyTorch; without it the first backward frees them as it goes, and a
second raises PyTorch's "Trying to backward through the graph a second time", as eager mode does.  Python numbers,
strings and None among the results are static: returned as they are, as ``torch.compile`` returns them.

**A training step.** ``f`` may also take the step itself: ``loss.backward()`` on a traced loss and the
calls marked :func:`effect` (``optimizer.step()``, ``zero_grad()``, a schedule's ``step()``,
``clip_grad_norm_``, a ``BatchNorm1d``'s update of its running statistics) are *effects*, recorded in
their place among the ops. Each call replays the ops and, in between, the effects: the backward
replays the recorded VJP rules from the loss and accumulates into ``.grad`` as ``loss.backward()``
does; the calls are made again with the same arguments. No tape node is made; the results carry no
graph (``f`` may also return nothing). The call that traces has run ``f`` itself (its step is taken
once). A trace refused halfway, e.g. by ``loss.item()`` after ``opt.step()``, is undone: the
parameters and buffers, their gradients, the optimisers' and schedules' state are put back as they were before
the call. The safety net of the first replay compares it with an eager call from the same state:
parameters, buffers and gradients are saved, and so is each optimiser and schedule (a copy of all its
attributes, not only its ``state_dict``). A step the program cannot repeat is undone and refused. That
includes a write to ``.data`` or ``.grad``, a number read from ``.data``, or random numbers; an
iterator given to an effect (``model.parameters()``) is kept as a list. Inside a trace ``x.detach()``
of a traced value is an op (the value passes, no gradient flows), so it is computed anew on each call.
An effect given a value of the call as an argument of its own (``schedule.step(loss)``, a check of the
loss) receives that call's value on every call; one inside a list or dict, or computed outside the
traced ops (from ``.data``), is refused, since every later call would give it the first call's. Ops under
``no_grad`` inside ``f`` (or ``f`` called under it) are recorded all the same, their results passed on
with no gradient (:func:`.tensor._traced_without_grad`); an in-place write into an argument or a tensor
made before the call is refused (:meth:`_Trace.write`). A
captured tensor whose dtype or shape changed since the trace (``model.astype(...)``) traces again.

Programs are NumPy programs: a call whose tensors live on another array library (CuPy, any array
API namespace) — an argument's data, or a tensor ``f`` reads (a model moved with ``.to(...)``) —
runs ``f`` itself, the plain eager path, with the same results (and ``.traces`` does not count it).
"""

from __future__ import annotations

import copy
import functools
import inspect
import itertools
import operator
import types
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from ..backend import CPU, get_default_device
from ..backend.namespace import NUMPY, namespace_of
from . import grad_mode as _m
from .backward import _FREED_MSG, GraphFreedError, _accumulate, _toposort
from .errors import JitError
from .grad_mode import _setting, no_grad, state, tracing
from .primitive import NUMPY_NS, Primitive, _no_cotangent, sum_to
from .pytree import LEAF, TreeDef, tree_flatten, tree_unflatten
from .random import draws_recorded, generators_of, set_states, states_of
from .rules import COMPARISONS, INVERT
from .tensor import _NO_GRAD, Tensor, _apply, _wrap, apply, as_tensor

_VALUE_MSG = (
    "jit: the function reads the value of a traced tensor (x.item(), float(x), bool(x), `if x > 0:`, x.numpy(), "
    "np.asarray(x)) "
    "while being traced; that value would be frozen into the compiled program. Fix: make the choice with "
    "ng.where(...) or ng.maximum(...) instead of Python `if`, compute the value outside the jitted function "
    "and pass it in, or call the function without ng.jit."
)

_WRITE_MSG = (
    "jit({name}): {who} writes in place into {what} of shape {shape}, which the compiled function did not create; "
    "a compiled program computes new values and cannot repeat that write on later calls. Fix: return the "
    "new value (y = x + 1, or y = x.clone() then y[...] = v) and assign it outside the compiled function{step}, "
    "or call the function without ng.jit."
)


# while tracing, a comparison of traced values is a gradient-free primitive, so the program replays it
# (``ng.where(x > 0, …)`` stays live) and ``bool()`` of it is caught
_COMPARISONS = {
    name: Primitive(name, prim.fn, (None, None), (None, None), fmt=prim.fmt)
    for name, prim in COMPARISONS.items()
}


# while tracing, ``~mask`` of a traced value is recorded too (``ng.where(~(x > 0), …)`` stays live)
_INVERT = Primitive("invert", INVERT.fn, (None,), (None,), fmt=INVERT.fmt)


# while tracing, ``detach()`` of a traced value is this op: the value passes, no gradient flows back
_STOP_GRADIENT = Primitive("detach", lambda x: x, (None,), (lambda F, t, ans, x: F.zeros_like(t),), fmt="detach({0})")


class _Trace:
    """What the engine asks while ``f`` is traced (``grad_mode.state.jit_trace``, this thread only).

    A tensor is *traced* when its value depends on the inputs or on a captured tensor: it
    requires a gradient (the trace marks every input so) or it is an input."""

    def __init__(self, leaves: list[Tensor], recorded: list[Tensor], own: frozenset[int] = frozenset(), name: str = "f"):
        self.name = name
        self.start = _m.bump()  # a tensor made from now on has this version or a later one (Tensor._version)
        self.leaf_ids = {id(t) for t in leaves}
        self.own = own  # the ids of the arguments traced as themselves (parameters passed in)
        self.recorded = recorded  # the op outputs made so far: their count places an effect among the ops
        self.effects: list[_Effect] = []
        self.undo = _Undo()  # what the effects change, as it was before the first of them
        self.freed: set[int] = set()  # nodes a backward without retain_graph went through (freed in eager mode)
        self.folded: dict[int, Tensor] = {}  # tensors no traced value depends on, read by an op the trace did not record
        self.modes: dict[int, tuple] = {}  # id -> (module, its jit_guard or None, the guard's value) per module called

    def called(self, module) -> None:
        """A module was called while tracing: the program holds for its mode (``training``; and what its
        ``jit_guard()`` names, as Dropout's ``p``) only."""
        if id(module) not in self.modes:
            guard = getattr(module, "jit_guard", None)
            self.modes[id(module)] = (module, guard, guard() if guard is not None else bool(module.training))

    def fold(self, args: tuple) -> None:
        """An op of no traced value (``1 / self.std`` of a buffer): its result is a constant of the program, so
        the leaf tensors it read are guarded (:meth:`_Program.folded_changed`): written since, the function is
        traced again rather than replayed with the old constant."""
        for a in args:
            if isinstance(a, Tensor) and a._op is None and not self.traced(a):
                self.folded[id(a)] = a

    def backward(self, root: Tensor, grad, retain_graph: bool, create_graph: bool) -> bool:
        """``root.backward()`` on a traced value: an effect the program repeats on every call (the
        gradients of the loss accumulated into ``.grad``).  True when recorded: the caller then keeps
        the graph (the trace walks it once ``f`` returns).  The order in which eager mode visits the
        graph's ops is kept with it, so the replay sums the gradients in the same order (bit for bit)."""
        if not self.traced(root):
            return False
        if grad is not None or create_graph:
            raise JitError(
                "jit: backward(grad=...) or backward(create_graph=True) inside a compiled function is not supported; "
                "call loss.backward() with no arguments on a scalar loss, or call the function without ng.jit"
            )
        order = _toposort(root, set()) if root._op is not None else []  # raises what eager mode raises (in place writes)
        if any(id(node) in self.freed for node in order):
            raise GraphFreedError(_FREED_MSG)  # as in eager mode: an earlier backward freed this graph
        if not retain_graph:
            self.freed.update(id(node) for node in order)
        self.effects.append(_Effect(len(self.recorded), root=root, order=order[::-1]))
        leaves = [root] if root._op is None else [a for n in order for a in n._inputs if isinstance(a, Tensor) and a._op is None]
        self.undo.reach([t for t in leaves if t.requires_grad])  # what the backward writes to
        return True

    def traced(self, x) -> bool:
        return isinstance(x, Tensor) and (x.requires_grad or id(x) in self.leaf_ids)

    def write(self, x: Tensor, who: str) -> None:
        """An in-place write while tracing (``x += 1``, ``x[i] = v``, ``x.add_(y)``), before it happens: into a tensor
        made during this call, recorded as an op; into an argument or a tensor made before the call (a global, a
        parameter outside ``optimizer.step()``), refused, since a replay would compute the value and never write
        it (the effects, which do write, run with no trace)."""
        if id(x) not in self.leaf_ids and x._version >= self.start:
            return
        if id(x) in self.leaf_ids and id(x) not in self.own:
            what, step = "its argument", ""
        elif x._op is None and x.requires_grad:  # (a parameter passed in, or one the function reads)
            what, step = "a parameter", "; a parameter's update belongs in optimizer.step()"
        else:
            what, step = "a tensor made before the call", ""
        raise JitError(_WRITE_MSG.format(name=self.name, who=who, what=what, shape=tuple(x.shape), step=step))

    def of_this_call(self, x) -> bool:
        """A value (or a list holding one) that belongs to this call: an input or an op's result, not a
        parameter (a leaf tensor ``f`` reads, whose data each call reads anew)."""
        if isinstance(x, list | tuple):
            return any(self.of_this_call(v) for v in x)
        return isinstance(x, Tensor) and (x._op is not None or id(x) in self.leaf_ids or not x.requires_grad)

    def frozen_in(self, x) -> bool:
        """A list, tuple or dict holding a value of this call other than a parameter passed in: given to an
        effect, every later call would pass the first call's value."""
        if isinstance(x, dict):
            return self.frozen_in(list(x.values()))
        if isinstance(x, list | tuple):
            return any(self.frozen_in(v) if isinstance(v, list | tuple | dict) else
                       self.of_this_call(v) and id(v) not in self.own for v in x)  # fmt: skip
        return False

    def detach(self, t: Tensor) -> Tensor | None:
        """``t.detach()`` of a traced value: a recorded op that passes the value and stops the gradient
        (a plain detached copy would be a constant frozen at its first value); None otherwise."""
        return apply(_STOP_GRADIENT, t) if self.traced(t) else None

    def read(self, t: Tensor) -> None:
        """``t.item()``, ``t.tolist()``, ``t.numpy()`` (so ``bool``, ``float``, ``int``, ``np.asarray``): refused for a
        traced tensor."""
        if self.traced(t):
            raise JitError(_VALUE_MSG)
        self.fold((t,))  # a number taken from a buffer is a constant of the program: guarded

    def compare(self, name: str, x: Tensor, other) -> Tensor | None:
        """A comparison with a traced operand, recorded as an op of the program; None otherwise."""
        if self.traced(x) or self.traced(other):
            return apply(_COMPARISONS[name], x, other)
        return None

    def invert(self, x: Tensor) -> Tensor | None:
        """``~x`` of a traced value, recorded as an op of the program; None otherwise."""
        return apply(_INVERT, x) if self.traced(x) else None


@dataclass
class _Effect:
    """What a compiled training step does besides its ops, in its place among them (before op ``at``):
    a backward from the value ``root`` (its slot once the program is made), or a call of a function
    marked :func:`effect` (``optimizer.step()``, ``zero_grad()``, a schedule's ``step()``)."""

    at: int
    root: Tensor | int | None = None
    fn: Callable | None = None
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    order: list = field(default_factory=list)  # a backward's ops in eager mode's order (tensors, then op indices)
    values: dict = field(default_factory=dict)  # argument position or name -> a traced value (tensor, then slot)

    def call_args(self, vals: list, leaves: list[Tensor]) -> tuple[tuple, dict]:
        """The arguments of this call of ``fn``: those that were values of the traced call are this call's
        (an input as the tensor given, an op's result wrapped as a tensor)."""
        if not self.values:
            return self.args, self.kwargs
        args, kwargs = list(self.args), dict(self.kwargs)
        for key, slot in self.values.items():
            value = leaves[slot] if slot < len(leaves) else _input(vals[slot])
            if isinstance(key, int):
                args[key] = value
            else:
                kwargs[key] = value
        return tuple(args), kwargs


def _owns_state(obj) -> bool:
    """An optimiser (``param_groups``) or a schedule (``optimizer``), whose state an effect changes."""
    stateful = hasattr(obj, "state_dict") and hasattr(obj, "load_state_dict")
    return stateful and (hasattr(obj, "param_groups") or hasattr(obj, "optimizer"))


class _Snapshot:
    """An optimiser or schedule as it is now, to be put back exactly: a deep copy of its attributes (its
    ``__getstate__``) that shares the parameters and the optimiser it refers to; so what lies outside
    ``state_dict`` (a subclass's counter, its random generator) comes back too, and nothing is checked
    against the object's current options (``amsgrad`` switched on since the state was made).  An object
    whose attributes cannot be copied (a communicator) is saved and put back by its ``state_dict``."""

    def __init__(self, obj):
        self.obj, self.shared = obj, {id(p): p for g in getattr(obj, "param_groups", ()) for p in g["params"]}
        inner = getattr(obj, "optimizer", None)
        if inner is not None:
            self.shared[id(inner)] = inner
        try:
            self.attrs, self.state_dict = self._copy(obj.__getstate__()), None
        except Exception:  # noqa: BLE001 - anything deepcopy refuses: the state_dict route instead
            self.attrs, self.state_dict = None, obj.state_dict()

    def _copy(self, attrs: dict) -> dict:
        return copy.deepcopy(attrs, memo=dict(self.shared))

    def restore(self) -> None:
        if self.attrs is None:
            self.obj.load_state_dict(self.state_dict)
            return
        attrs = self._copy(self.attrs)  # a fresh copy each time: what it gives out may be written in place
        groups, saved = getattr(self.obj, "param_groups", None), attrs.get("param_groups")
        if isinstance(groups, list) and isinstance(saved, list) and len(groups) == len(saved):
            for group, values in zip(groups, saved):  # in place: code that holds a group (or its params) sees it
                params = group.get("params")
                group.clear()
                group.update(values)
                if isinstance(params, list):
                    params[:] = values["params"]
                    group["params"] = params
            attrs["param_groups"] = groups
        setstate = getattr(self.obj, "__setstate__", None)
        if setstate is not None:
            setstate(attrs)
        else:
            self.obj.__dict__.update(attrs)


class _Undo:
    """What a training step's effects may change, saved once before the first change: tensors' values and
    gradients (a gradient is never written in place, so its array is kept as it is), and the optimisers and
    schedules that effects are called on (:class:`_Snapshot`).  :meth:`restore` puts all of it back."""

    def __init__(self):
        self.tensors: dict[int, tuple] = {}
        self.owners: dict[int, tuple] = {}
        self.generators: list[tuple] = []  # (generator, state) of the program's random ops (Dropout's)

    def tensor(self, t: Tensor) -> None:
        if id(t) not in self.tensors:
            self.tensors[id(t)] = (t, t.data, namespace_of(t.data).copy(t.data), t._grad)

    def reach(self, obj) -> None:
        """Save what an effect's argument holds: a tensor, a list of them, an optimiser or schedule and
        its parameters, a module's parameters and buffers (a layer's effect may update its running statistics;
        a generator is left alone: reading it would use it up)."""
        if isinstance(obj, Tensor):
            self.tensor(obj)
        elif isinstance(obj, list | tuple):
            for t in obj:
                if isinstance(t, Tensor):
                    self.tensor(t)
        elif _owns_state(obj):
            if id(obj) not in self.owners:
                self.owners[id(obj)] = (obj, _Snapshot(obj))
                inner = getattr(obj, "optimizer", None)
                if inner is not None and inner is not obj:
                    self.reach(inner)
                for group in getattr(obj, "param_groups", ()):
                    self.reach(list(group["params"]))
        elif callable(getattr(obj, "parameters", None)):
            buffers = getattr(obj, "buffers", None)
            self.reach([*obj.parameters(), *(buffers() if callable(buffers) else ())])

    def restore(self) -> None:
        set_states(self.generators)
        for _, snapshot in self.owners.values():
            snapshot.restore()
        for t, array, values, grad in self.tensors.values():
            t._data = array
            if not isinstance(array, np.generic) and (array.__class__ is not np.ndarray or array.flags.writeable):
                array[...] = values  # (a read-only constant or a NumPy scalar cannot have changed)
            t._grad = grad  # (the value it had: no setter check)


_CLOSURES = (types.FunctionType, types.MethodType, functools.partial)  # what a closure argument is


def _first_argument(fn: Callable) -> int:
    """Where ``fn``'s own arguments start: 1 for a method (``self`` first), 0 for a plain function."""
    parts = fn.__qualname__.split(".")
    return 1 if len(parts) > 1 and parts[-2] != "<locals>" else 0


def effect(fn: Callable) -> Callable:
    """Mark ``fn`` (``Optimizer.step``, ``zero_grad``, ``LRScheduler.step``, ``clip_grad_norm_``) as an effect
    that :func:`jit` repeats: called inside a function being traced, the call is recorded with its arguments
    and runs as usual, outside the trace (its own work is no op of the program); each later call of the
    compiled function calls it again, in the same place among the ops.  Outside a trace it is ``fn``."""

    @functools.wraps(fn)
    def call(*args, **kwargs):
        trace = state.jit_trace
        if trace is None:
            return fn(*args, **kwargs)
        first = _first_argument(fn)  # (a method's self aside)
        if any(isinstance(a, _CLOSURES) for a in (*args[first:], *kwargs.values())):
            raise JitError(
                f"jit: {fn.__qualname__}(closure) inside a compiled function: the closure would compute every later call "
                "with the tensors of the first one. Call it without ng.jit (or compute the loss, backward() and step() "
                "in the compiled function itself)"
            )
        # an iterator (model.parameters()) would be used up by the first call: it is kept as a list
        args = tuple(list(a) if isinstance(a, Iterator) else a for a in args)
        kwargs = {k: list(v) if isinstance(v, Iterator) else v for k, v in kwargs.items()}
        named = [*enumerate(args), *kwargs.items()]
        values = {k: a for k, a in named if isinstance(a, Tensor) and trace.of_this_call(a)}
        in_lists = [a for a in (*args[first:], *kwargs.values()) if trace.frozen_in(a)]
        if in_lists or not all(trace.traced(a) for a in values.values()):
            raise JitError(
                f"jit: {fn.__qualname__} is given a value computed in the compiled function outside its traced ops (from "
                ".data) or inside a list: every later call would pass it the first call's value. Pass the "
                "tensor itself, parameters or plain numbers, or call it without ng.jit"
            )
        trace.effects.append(_Effect(len(trace.recorded), fn=fn, args=args, kwargs=kwargs, values=values))
        for a in (*args, *kwargs.values()):
            trace.undo.reach(a)
        with _setting(jit_trace=None, tracer=None):  # a call inside it (super().step()) is no second effect
            return fn(*args, **kwargs)

    call.jit_effect = True
    return call


def effects_of_subclass(cls: type, names: tuple[str, ...]) -> None:
    """Make a subclass's own overrides of the methods ``names`` effects too (from a base class's
    ``__init_subclass__``: an optimiser's ``step``, a schedule's ``step``, a module's ``zero_grad``)."""
    for name in names:
        method = cls.__dict__.get(name)
        if method is not None and not getattr(method, "jit_effect", False):
            setattr(cls, name, effect(method))


@dataclass
class _Op:
    prim: Primitive
    args: list  # per argument: ("slot", i) or ("const", value)
    params: dict
    subs: list  # (key, position or None, input slot): parameters that are an input's data
    out: int
    differentiable: bool = True  # a floating-point result (a comparison's booleans carry no gradient)
    slots: tuple = ()  # every argument's slot: constants get slots of their own (see _Program.__post_init__)
    get: Callable = tuple  # vals -> the arguments' values, a tuple (operator.itemgetter over ``slots``)

    def call_params(self, vals: list) -> dict:
        """The parameters for this call: an input's data put where the trace saw it."""
        if not self.subs:
            return self.params
        params = dict(self.params)
        for key, pos, slot in self.subs:
            if pos is None:
                params[key] = vals[slot]
            else:
                seq = list(params[key])
                seq[pos] = vals[slot]
                params[key] = type(self.params[key])(seq)
        return params


@dataclass
class _Program:
    """One traced signature: slots 0..n_in-1 are the inputs, then the captured tensors, then op outputs."""

    n_in: int
    captured: list[Tensor]
    captured_flags: tuple[bool, ...]
    ops: list[_Op]
    outputs: list[int]
    checked: bool = False
    host: bool = True  # every value of the trace was a NumPy array (else calls run f itself)
    plans: dict = field(default_factory=dict)
    dead: list[list[int]] | None = None
    shapes: list | None = None  # every slot's shape (static for a signature), from the first backward
    tail: list = field(default_factory=list)  # after the leaves: a None per op output, then the constants
    primitive: Primitive | None = None  # the _Compiled that calls of this program are on the tape
    effects: list[_Effect] = field(default_factory=list)  # a training step's backward and calls, in order
    first: list | None = None  # a training step's outputs from its trace, returned by the call that traced it
    order: list[int] | None = None  # the ops in the order eager mode's backward visits them (None: reversed)
    root_shapes: dict = field(default_factory=dict)  # a step's loss slot -> every slot's shape at its backward
    folded: list = field(default_factory=list)  # (tensor, version, data) a constant of the program was made from
    used: int = 0  # the tick (:data:`_CLOCK`) of its last call: the cap on signatures drops the least recent
    retraces: int = 0  # how many times the tensors in ``folded`` changed, so this signature was traced again
    modes: list = field(default_factory=list)  # (module, jit_guard, value) of every module the trace called
    tree: TreeDef = LEAF  # the containers of f's result (a pytree of tensors, as jax.jit returns)
    statics: tuple = ()  # (position among the result's leaves, value): its Python numbers, strings (static)
    mask_counts: tuple = ()  # (input, its True count) per boolean input used as an index (x[mask]): the shapes follow
    grad_captured: bool = field(init=False)  # any(captured_flags): a captured tensor wants a gradient
    leaf_floating: list = field(default_factory=list)  # per leaf (inputs, then captured): a floating dtype
    structure: int = field(init=False)  # grad_mode.structure when traced: a module's parameter replaced since traces again
    captured_kinds: list = field(init=False)  # each captured tensor's (dtype, shape) when traced
    generators: list = field(init=False)  # the random ops' generators (Dropout's), each once

    def __post_init__(self):
        """Give every constant argument a slot after the op outputs, so that an op's arguments are one
        ``itemgetter`` call on the slot list (no per-argument test while replaying)."""
        self.grad_captured = any(self.captured_flags)
        self.structure = _m.structure
        self.captured_kinds = [(getattr(c.data, "dtype", None), getattr(c.data, "shape", None)) for c in self.captured]
        first = self.n_in + len(self.captured) + len(self.ops)
        consts: list = []
        for op in self.ops:
            slots = []
            for kind, v in op.args:
                slots.append(v if kind == "slot" else first + len(consts))
                if kind != "slot":
                    consts.append(v)
            op.slots = tuple(slots)
            op.get = operator.itemgetter(*slots) if len(slots) > 1 else _getter(slots)
        self.tail = [None] * len(self.ops) + consts
        self.generators = list({id(g): g for op in self.ops for g in generators_of(op.params)}.values())

    def result(self, tensors: list):
        """``f``'s result: the program's output tensors in their containers, its Python values in their places."""
        if not self.statics:
            return tree_unflatten(self.tree, tensors)
        leaves = list(tensors)
        for i, v in self.statics:
            leaves.insert(i, v)
        return tree_unflatten(self.tree, leaves)

    def current(self) -> bool:
        """Whether the captured tensors are as traced: the same ``requires_grad``, dtype and shape (a
        model cast with ``astype`` traces again) and, for a NumPy program, still NumPy arrays (a tensor
        moved off the host, or back, traces again).  Asked on every call: a NumPy array's class answers
        for the host without a namespace lookup."""
        if self.structure != _m.structure:
            return False
        for module, guard, value in self.modes:  # a module switched by train()/eval() since: its other branch traces anew
            if (module.training if guard is None else guard()) != value:
                return False
        host = self.host
        for c, flag, (dtype, shape) in zip(self.captured, self.captured_flags, self.captured_kinds):
            if c.requires_grad != flag:
                return False
            data = c.data
            if data.__class__ is np.ndarray and host:
                if data.dtype != dtype or data.shape != shape:
                    return False
            elif _on_host((c,)) != host:
                return False
        return True

    def folded_changed(self) -> bool:
        """Whether a tensor that a constant of the program was computed from (:meth:`_Trace.fold`) was written
        (its version counter moved) or rebound since the trace: the constant is stale."""
        for t, version, data in self.folded:
            if t._version != version or t.data is not data:
                return True
        return False

    def grad_plan(self, requires: tuple[bool, ...]) -> list[list[bool]]:
        """For each op, which of its arguments need a gradient when ``requires`` flags the leaves."""
        return self._plan(requires)[0]

    def live_outputs(self, requires: tuple[bool, ...]) -> tuple[int, ...]:
        """The positions of the outputs a gradient flows back from when ``requires`` flags the leaves: the
        floating ones that depend on a leaf requiring one (an integer result, a constant, carries none)."""
        return self._plan(requires)[1]

    def _plan(self, requires: tuple[bool, ...]) -> tuple[list[list[bool]], tuple[int, ...]]:
        found = self.plans.get(requires)
        if found is None:
            live = list(requires) + [False] * len(self.ops)
            plan = []
            for op in self.ops:
                needs = [kind == "slot" and live[v] for kind, v in op.args]
                live[op.out] = any(needs) and op.differentiable
                plan.append(needs)
            n_leaves = len(requires)
            floating = [k for k, s in enumerate(self.outputs)
                        if live[s] and (s >= n_leaves or self.leaf_floating[s])]  # fmt: skip
            found = self.plans[requires] = (plan, tuple(floating))
        return found

    def forward(self, leaves: list, keep: bool = True) -> tuple[list, list]:
        """Every slot's value, and the parameters each op was called with.  With ``keep=False`` (no
        gradient will be asked for) each intermediate is freed right after its last use."""
        vals = leaves + self.tail
        used = []
        dead = None if keep else self.dead_after()
        for i, op in enumerate(self.ops):
            params = op.call_params(vals) if op.subs else op.params
            vals[op.out] = op.prim.fn(*op.get(vals), **params)
            used.append(params)
            if dead is not None:
                for slot in dead[i]:
                    vals[slot] = None
        return vals, used

    def dead_after(self) -> list[list[int]]:
        """For each op, the intermediates it reads for the last time (never an output)."""
        if self.dead is None:
            last = {}
            for i, op in enumerate(self.ops):
                used = [v for kind, v in op.args if kind == "slot"] + [v for _, _, v in op.subs]
                for v in used:
                    if v >= self.n_in + len(self.captured):
                        last[v] = i
            dead: list[list[int]] = [[] for _ in self.ops]
            for slot, i in last.items():
                if slot not in self.outputs:
                    dead[i].append(slot)
            self.dead = dead
        return self.dead

    def backward(self, vals: list, used: list, g, requires: tuple[bool, ...], root: int | None = None,
                 order: list[int] | None = None, seeds: dict | None = None) -> list:  # fmt: skip
        """Cotangents of the leaves flagged in ``requires`` (None for the others) of the first output (or
        of slot ``root``: a training step's loss, with its ``order``; or of several outputs, ``seeds``:
        slot -> cotangent); frees ``vals`` on the way.  The ops are visited in eager mode's order
        (:attr:`order`), so gradients from several uses add up alike; from several outputs, in reverse
        evaluation order (a valid order for any of them)."""
        plan = self.grad_plan(requires)
        if root is not None:  # mid-program (static for a signature): the slots of later ops hold nothing yet
            shapes = self.root_shapes.get(root)
            if shapes is None:
                shapes = self.root_shapes[root] = [None if v is None else np.shape(v) for v in vals]
        else:
            if self.shapes is None:
                self.shapes = [np.shape(v) for v in vals]
            shapes = self.shapes
        grads: dict[int, object] = {self.outputs[0] if root is None else root: g} if seeds is None else seeds
        if order is None:
            first_only = root is None and (seeds is None or seeds.keys() == {self.outputs[0]})
            order = self.order if first_only and self.order is not None else range(len(self.ops) - 1, -1, -1)
        with np.errstate(divide="ignore", invalid="ignore"):  # rules at kinks (√x at 0): torch's finite values, silently
            return self._walk(vals, used, plan, shapes, grads, order, requires)

    def _walk(self, vals: list, used: list, plan: list, shapes: list, grads: dict, order, requires: tuple) -> list:
        for i in order:
            op, needs = self.ops[i], plan[i]
            gout = grads.pop(op.out, None)
            if gout is not None and True in needs:
                pgs = op.prim.vjp(NUMPY_NS, gout, vals[op.out], op.get(vals), used[i], needs)
                for slot, pg, need in zip(op.slots, pgs, needs):
                    if not need or pg is None:
                        continue
                    if (pg.shape if pg.__class__ is np.ndarray else np.shape(pg)) != shapes[slot]:
                        pg = sum_to(pg, shapes[slot])
                    prev = grads.get(slot)
                    grads[slot] = pg if prev is None else prev + pg
            vals[op.out] = None
        return [grads.get(i) if r else None for i, r in enumerate(requires)]

    def replay(self, inputs: list[Tensor]) -> list:
        """A training step: every op and, in their places, the effects (:class:`_Effect`); the outputs'
        values.  A backward accumulates into the ``.grad`` of the inputs and captured tensors that require
        one, as ``loss.backward()`` does; after a call the captured tensors' data are read again (a step
        may rebind them)."""
        leaves = [*inputs, *self.captured]
        vals = [t.data for t in leaves] + self.tail
        used: list = [None] * len(self.ops)
        pending = iter(self.effects)
        nxt = next(pending, None)
        for i, op in enumerate(self.ops):
            while nxt is not None and nxt.at == i:
                self._effect(nxt, vals, used, leaves)
                nxt = next(pending, None)
            params = op.call_params(vals) if op.subs else op.params
            vals[op.out] = op.prim.fn(*op.get(vals), **params)
            used[i] = params
        while nxt is not None:
            self._effect(nxt, vals, used, leaves)
            nxt = next(pending, None)
        return [vals[s] for s in self.outputs]

    def _effect(self, e: _Effect, vals: list, used: list, leaves: list[Tensor]) -> None:
        if e.fn is not None:
            args, kwargs = e.call_args(vals, leaves)
            e.fn(*args, **kwargs)
            for j, t in enumerate(leaves):  # a step may rebind a parameter's data (packed into a flat buffer)
                vals[j] = t.data
            return
        loss = vals[e.root]
        seed = np.array(1, loss.dtype) if loss.shape == () else np.ones(loss.shape, loss.dtype)
        requires = tuple(t.requires_grad for t in leaves)
        grads = self.backward(list(vals), used, seed, requires, e.root, e.order)  # a copy: later ops still read vals
        for t, g in zip(leaves, grads):
            if g is not None:
                _accumulate(t, g, NUMPY_NS)


def _getter(slots: list) -> Callable:
    """``itemgetter`` for none or one slot, returning a tuple as it does for several."""
    if not slots:
        return lambda vals: ()
    s = slots[0]
    return lambda vals: (vals[s],)


class _Compiled(Primitive):
    """The primitive that one call of a compiled program is on the caller's tape."""

    def __init__(self, name: str, program: _Program):
        n = program.n_in + len(program.captured)
        super().__init__(f"jit({name})", self._run, [None] * n, [None] * n)
        self.program = program

    def _run(self, *leaves, ctx: dict):
        """The program's output a gradient flows back from (``ctx["live"]``) when there is one; with several, a
        token (a 0-d array) that each of them is a :data:`_PART` of, so one node carries them and one backward walk
        serves every result that was used (its cotangent is put in ``ctx["seeds"]`` on the way)."""
        ctx["vals"], ctx["used"] = vals, _ = self.program.forward(list(leaves), ctx.get("keep", True))
        outputs, live = self.program.outputs, ctx.get("live", (0,))
        if len(live) < 2:
            return vals[outputs[live[0] if live else 0]]
        ctx["seeds"] = {}
        return np.zeros((), vals[outputs[live[0]]].dtype)

    def vjp(self, F, g, ans, args, params, needs):
        ctx = params["ctx"]
        if F is not NUMPY_NS:
            ctx.pop("seeds", None)  # what the results' nodes kept on this refused walk: a later backward starts afresh
            raise JitError(f"{self.name}: higher-order derivatives (create_graph=True, hessian, grad of grad) cannot go "
                           "through a compiled function; call the function without ng.jit for those")  # fmt: skip
        if "vals" not in ctx:  # freed by an earlier backward without retain_graph (its node is freed too)
            raise GraphFreedError(_FREED_MSG)
        retain = state.retain_graph  # backward(retain_graph=True): the intermediates stay for another backward
        vals, used = (list(ctx["vals"]), ctx["used"]) if retain else (ctx.pop("vals"), ctx.pop("used"))
        live = ctx.get("live", (0,))
        if len(live) < 2:  # the one live output, which need not be the first ((argmax, loss))
            seeds = {self.program.outputs[live[0] if live else 0]: g}
        else:  # the results the walk reached, each with its cotangent (:data:`_PART`); the others start no walk
            seeds = ctx.pop("seeds")
        return self.program.backward(vals, used, None, tuple(needs), seeds=seeds)

    def jvp(self, F, tangents, ans, args, params):
        raise JitError(f"{self.name}: forward-mode derivatives (jvp, jacfwd) cannot go through a compiled function; "
                       "call the function without ng.jit for those")  # fmt: skip


def _part_vjp(F, g, ans, token, ctx: dict, slot: int):
    """A result's cotangent kept for the compiled call's backward (summed where one value is returned twice); the
    token gets a 0-d zero: the walk goes on to the call's node, which reads what its parts kept."""
    seeds = ctx.setdefault("seeds", {})  # (a second backward: the call's node then says it was differentiated)
    seeds[slot] = g if slot not in seeds else seeds[slot] + g
    return np.zeros((), token.dtype)


_PART = Primitive(
    "jit_result",
    lambda token, ctx, slot: ctx["vals"][slot],
    (_part_vjp,),
    (None,),
    fmt="{0}",
    reads=((),),
)
"""One result of a compiled call that returns several differentiable ones: its value is the program's output at
``slot``; its node's input is the call's token (see :meth:`_Compiled._run`)."""


def _on_host(values) -> bool:
    """Whether a program can run on ``values``: every tensor holds a NumPy array, and so does every
    array once an op has it (host data given to an op goes to the default device: off the CPU it moves)."""
    for v in values:
        if isinstance(v, Tensor):
            if v.data.__class__ is not np.ndarray and namespace_of(v.data) is not NUMPY:
                return False
        elif isinstance(v, np.ndarray):
            if get_default_device() != CPU:
                return False
        elif namespace_of(v) is not NUMPY:
            return False
    return True


_ARRAYS = (Tensor, np.ndarray)
_STATICS = frozenset((int, float, bool, str, type(None)))  # hashable, and on the host


def _is_array(a) -> bool:
    return isinstance(a, _ARRAYS)


def _input(a) -> Tensor:
    """An array argument as the tensor the program receives: a NumPy array wrapped as it is (what
    ``as_tensor(a, device=CPU)`` gives it, without its tests)."""
    if isinstance(a, Tensor):
        return a
    return _wrap(a) if a.__class__ is np.ndarray else as_tensor(a, device=CPU)


def _signature(args, host_only: bool = False) -> tuple | None:
    """The key of a call's compiled program: each array's shape and dtype, each other argument itself.

    With ``host_only`` — the common call, asked first on every call — it answers :func:`_on_host` in
    the same pass: None unless every argument is a ``Tensor`` holding a NumPy array, a NumPy array
    while the default device is the CPU, or a number, string or None (the caller then asks both
    questions on their own)."""
    key = []
    for a in args:
        c = a.__class__
        if host_only:
            if c is Tensor:
                d = a.data
                if d.__class__ is not np.ndarray or a._tangents:  # another library, or batched by vmap
                    return None
                key.append(("array", d.shape, d.dtype.str))
            elif c is np.ndarray and get_default_device() is CPU:
                key.append(("array", a.shape, a.dtype.str))
            elif c in _STATICS:
                key.append(("static", c, a))
            else:
                return None
        elif _is_array(a):
            key.append(("array", a.shape, a.dtype.str))
        else:
            try:
                hash(a)
            except TypeError:
                raise JitError(
                    f"jit: an argument of type {type(a).__name__} is neither an array nor hashable; pass arrays or "
                    "tensors, or bind other arguments with functools.partial before ng.jit"
                ) from None
            key.append(("static", c, a))
    return tuple(key)


def _own_leaf(a) -> bool:
    """An argument that is a NumPy leaf tensor requiring a gradient (a parameter passed in): traced as
    itself, so that a training step's backward at trace time accumulates into it as eager mode does."""
    return isinstance(a, Tensor) and a.requires_grad and a._op is None and a.data.__class__ is np.ndarray


def _trace(f: Callable, args: tuple) -> _Program:
    """Run ``f`` once with the tape recording every op; return the program of what its outputs depend on."""
    leaves = [a if _own_leaf(a) else as_tensor(np.asarray(a.data if isinstance(a, Tensor) else a), device=CPU).detach()
              for a in args if _is_array(a)]  # fmt: skip
    for t in leaves:
        t._requires_grad = True  # so the tape records every op that depends on an input (integer ones too)
    it = iter(leaves)
    call_args = [next(it) if _is_array(a) else a for a in args]
    with tracing() as recorded, draws_recorded() as drawn:
        trace = _Trace(leaves, recorded, frozenset(id(a) for a in args if _own_leaf(a)), getattr(f, "__name__", "f"))
        try:
            with _setting(jit_trace=trace):
                result = f(*call_args)
            program = _program(f, trace, leaves, recorded, result)
            program.folded = [(t, t._version, t.data) for t in trace.folded.values()]
            if not program.effects:  # a function's trace is no call of it: its random draws are taken back
                set_states(drawn.values())
            program.modes = list(trace.modes.values())
            return program
        except BaseException:
            trace.undo.restore()  # a training step refused halfway (x.item() after opt.step()): nothing changed
            set_states(drawn.values())  # (its Dropout draws taken back too)
            raise


def _without_inputs(params: dict, subs: list) -> dict:
    """An op's parameters with the places that hold an input's data emptied (each call puts its own
    there, :meth:`_Op.call_params`): the program keeps no array of the call that traced it."""
    params = dict(params)
    for key, pos, _ in subs:
        if pos is None:
            params[key] = None
        else:
            seq = list(params[key])
            seq[pos] = None
            params[key] = type(params[key])(seq)
    return params


_INDEX_ARRAYS = (np.ndarray, np.generic)  # an op's result: an array, or a NumPy scalar (argmax over all entries)


def _param_arrays(params: dict | None) -> Iterator:
    """The arrays among an op's parameters (an index, or the entries of an index tuple)."""
    for v in (params or {}).values():
        for x in v if isinstance(v, tuple | list) else (v,):
            if isinstance(x, _INDEX_ARRAYS):
                yield x


def _indices_made(t: Tensor, made: dict) -> list[Tensor]:
    """The op results that ``t``'s op takes as parameters (``x[i]`` with ``i = argmax(x)``): the program
    computes them too and passes each call's own.  A boolean mask made inside the function is refused:
    ``x[mask]`` has as many entries as the mask has True values, a shape that depends on the values."""
    found = [made[id(x)] for x in _param_arrays(t._params) if id(x) in made]
    if any(m.dtype == np.bool_ for m in found):
        raise JitError(
            f"jit: {t._op.name} takes a boolean mask computed inside the function (x[x > 0]); its result's shape depends "
            "on the values, which a compiled program cannot follow. Use ng.where(mask, x, 0) (same shape), or compute "
            "the mask outside the compiled function and pass it in"
        )
    return found


def _check_step_outputs(outs: list[Tensor], leaf_ids: set[int]) -> None:
    """A training step's results must be traced values (``loss``, ``loss.detach()``, a parameter): one
    computed outside the traced ops (under ``no_grad``, from ``.data``) would be frozen: refused."""
    if any(o._op is None and id(o) not in leaf_ids and not o.requires_grad for o in outs):
        raise JitError(
            "jit: the training step returns a value computed outside the traced ops (from .data), which "
            "would be frozen at its first value. Return values computed with nablagrad ops (loss, or loss.detach()), or "
            "compute the others outside the compiled function"
        )


def _no_vjp(prim: Primitive) -> bool:
    """A primitive none of whose arguments gets a cotangent (dropout's mask): its result carries no gradient."""
    return type(prim).vjp is Primitive.vjp and bool(prim.vjps) and all(rule is _no_cotangent for rule in prim.vjps)


def _program(f: Callable, trace: _Trace, leaves: list[Tensor], recorded: list[Tensor], result) -> _Program:
    """The program of what ``f``'s results (and a training step's losses) depend on, from its trace."""
    leaves_out, tree = tree_flatten(result)
    bad = next((v for v in leaves_out if not isinstance(v, Tensor) and type(v) not in _STATICS), None)
    if bad is not None:
        raise JitError(f"jit: {getattr(f, '__name__', 'f')} returns a value of type {type(bad).__name__}; a compiled "
                       "function returns tensors, Python numbers, strings and None, in tuples, lists and dicts. An array "
                       "computed from .data would be frozen at its first value: compute it with nablagrad ops (a tensor), "
                       "or outside the compiled function")  # fmt: skip
    outs = [v for v in leaves_out if isinstance(v, Tensor)]
    statics = tuple((i, v) for i, v in enumerate(leaves_out) if not isinstance(v, Tensor))  # as torch.compile returns them
    # the ops the outputs depend on, in evaluation order (ops of other threads are never reached)
    leaf_ids = {id(t) for t in leaves}
    if trace.effects:
        _check_step_outputs(outs, leaf_ids)
    wanted: set[int] = set()
    stack = [o for o in outs if o._op is not None] + [e.root for e in trace.effects if e.root is not None]
    stack += [v for e in trace.effects for v in e.values.values() if v._op is not None and id(v) not in leaf_ids]
    leaf_data = {id(t.data) for t in leaves}
    made = {id(t.data): t for t in recorded if id(t.data) not in leaf_data}  # an op's result, by its array
    while stack:
        t = stack.pop()
        if id(t) not in wanted:
            wanted.add(id(t))
            stack.extend(a for a in t._inputs if isinstance(a, Tensor) and a._op is not None and id(a) not in leaf_ids)
            stack.extend(_indices_made(t, made))
    ordered = [t for t in recorded if id(t) in wanted]
    captured = list({id(a): a for t in ordered for a in t._inputs
                     if isinstance(a, Tensor) and id(a) not in wanted and id(a) not in leaf_ids}.values())  # fmt: skip
    known = wanted | leaf_ids | {id(c) for c in captured}
    captured += list({id(o): o for o in outs if id(o) not in known}.values())  # an output f made without an op
    # an op traced under no_grad passes its result through _NO_GRAD (tensor._traced_without_grad): folded into the
    # op here — one slot for both, and the op carries no gradient — so a compiled call under no_grad replays no extra op
    passed = {id(t): t._inputs[0] for t in ordered if t._op is _NO_GRAD}
    made_without_grad = {id(a) for a in passed.values()}
    kept = [t for t in ordered if id(t) not in passed]
    slot = {id(t): i for i, t in enumerate([*leaves, *captured, *kept])}
    slot.update({i: slot[id(a)] for i, a in passed.items()})
    flags = tuple(c.requires_grad for c in captured)
    # tensors of another array library, or values made outside the tape (the tangents of jvp, jacfwd, hessian
    # inside f): no NumPy program can replay them, so calls run f itself
    if len(ordered) != len(wanted) or not _on_host([*captured, *ordered]):
        program = _Program(len(leaves), captured, flags, [], [], host=False, tree=tree, statics=statics)
        program.first = [o.data for o in outs] if trace.effects else None
        return program
    data_slot = {id(t.data): slot[id(t)] for t in ordered if id(t.data) in made}  # x[argmax(x)]: each call's index
    data_slot.update({id(t.data): i for i, t in enumerate(leaves)})
    ops = []
    for t in kept:
        subs = []
        for key, v in (t._params or {}).items():
            if isinstance(v, _INDEX_ARRAYS) and id(v) in data_slot:
                subs.append((key, None, data_slot[id(v)]))
            elif isinstance(v, tuple | list):
                subs += [(key, j, data_slot[id(x)]) for j, x in enumerate(v)
                         if isinstance(x, _INDEX_ARRAYS) and id(x) in data_slot]  # fmt: skip
        args_ = [_argument(a, slot, data_slot) for a in t._inputs]
        carries = t.dtype.kind in "fc" and not _no_vjp(t._op) and id(t) not in made_without_grad  # (not a mask)
        ops.append(_Op(t._op, args_, _without_inputs(t._params or {}, subs), subs, slot[id(t)], carries))
    program = _Program(len(leaves), captured, flags, ops, [slot[id(o)] for o in outs], tree=tree, statics=statics)
    program.leaf_floating = [t.dtype.kind in "fc" for t in [*leaves, *captured]]
    masks = sorted({s for op in ops for _, _, s in op.subs if s < len(leaves) and leaves[s].data.dtype == np.bool_})
    program.mask_counts = tuple((i, int(np.count_nonzero(leaves[i].data))) for i in masks)
    op_index = {id(t): i for i, t in enumerate(kept)}
    if outs and outs[0]._op is not None and not trace.effects:
        try:  # the backward visits the ops in eager mode's order: the gradients are summed as there
            program.order = [op_index[id(n)] for n in reversed(_toposort(outs[0], set())) if id(n) in op_index]
        except RuntimeError:  # an input written in place after use: eager mode refuses; keep the recorded order
            program.order = None
    if trace.effects:  # a training step: each effect goes before the first op recorded after it
        position = {id(t): i for i, t in enumerate(recorded)}
        places = [position[id(t)] for t in kept]
        for e in trace.effects:
            e.at = sum(1 for p in places if p < e.at)
            e.root = None if e.root is None else slot[id(e.root)]
            e.values = {k: slot[id(v)] for k, v in e.values.items()}
            e.order = [op_index[id(n)] for n in e.order if id(n) in op_index]
        program.effects = trace.effects
        program.first = [o.data for o in outs]  # the traced call has taken the step: what it returns
    return program


def _argument(a, slot: dict[int, int], data_slot: dict[int, int]) -> tuple:
    """An op's argument in the program: a tensor's slot; an array that is an input's data (or an op's result's)
    passed raw — ``ng.where(mask, x, 0)`` with a mask given as an argument — that input's slot, so each call
    passes its own; anything else a constant."""
    if isinstance(a, Tensor):
        return ("slot", slot[id(a)])
    if isinstance(a, _INDEX_ARRAYS) and id(a) in data_slot:
        return ("slot", data_slot[id(a)])
    return ("const", a)


def jit(f: Callable | None = None, *, static_argnums=None, static_argnames=None, donate_argnums=None,
        donate_argnames=None) -> Callable:  # fmt: skip
    """Compile ``f`` (tensors/arrays, pytrees of them and hashable static arguments in; a pytree of tensors out,
    Python numbers, strings and None among them given back as they are).

    As ``jax.jit``: arrays and tensors are the program's inputs (a new shape or dtype traces again); any
    other argument is static (hashable; a new value traces again); arguments may be given by keyword.
    ``static_argnums``/``static_argnames`` name arguments that must be static (an array there is refused,
    as JAX refuses it); ``donate_argnums``/``donate_argnames`` are accepted and change nothing (a replay
    already reuses its buffers).  ``jit(static_argnums=1)`` without ``f`` returns a decorator.

    The returned function has ``.traces`` (how many times it traced) and ``.clear()`` (drop
    every compiled program).
    """
    options = _jit_options(static_argnums, static_argnames, donate_argnums, donate_argnames)
    if f is None:
        return functools.partial(jit, **options)
    if not callable(f):
        raise TypeError(f"jit: expected a function to compile, got {type(f).__name__}; use @ng.jit or ng.jit(f)")
    static = _static_positions(f, options["static_argnums"], options["static_argnames"])
    programs: dict[tuple, _Program] = {}
    others: dict[tuple, list[_Program]] = {}  # per signature: programs traced for other modes, kept to switch back
    by_keyword: dict[tuple, Callable] = {}  # (positional count, keyword names) -> f compiled for that call form
    by_structure: dict[TreeDef, Callable] = {}  # the containers of the arguments -> f compiled on their leaves
    name = getattr(f, "__name__", "f")

    @functools.wraps(f)
    def compiled(*args, **kwargs):
        if static:
            _check_static(name, args, static)
        if kwargs:  # f called by keyword: a positional twin compiled once per call form, as jax.jit binds them
            return _by_keyword(f, compiled, by_keyword, args, kwargs)
        if _m.active and state.depth:  # under vmap/grad/jvp/jacrev/hessian: the transform acts on f's own ops
            return _plain(f, args)
        key = _signature(args, host_only=True)
        if key is None:  # not the common call: ask each question on its own
            if any(isinstance(a, _CONTAINERS) for i, a in enumerate(args) if i not in static[0]):
                return _by_structure(f, compiled, by_structure, args, static[0])
            if any(isinstance(a, np.generic) for i, a in enumerate(args) if i not in static[0]):
                return compiled(*_scalars_as_arrays(args, static[0]))  # np.float32(2.0) is an array, as in jax.jit
            if not _on_host(args):
                return _plain(f, args)  # data of another array library (CuPy, array API)
            key = _signature(args)
        program = programs.get(key)
        retraces = 0
        if program is not None:
            program.used = next(_CLOCK)  # when a cap drops a program, the least recently used goes
        if program is not None and program.folded_changed():  # a constant of the program is stale: trace again
            retraces = program.retraces + 1
            if retraces > RETRACE_LIMIT:
                return _eager_from_now_on(f, args, key, programs, name)
            program = None
        fresh = program is None
        if not fresh and not program.current():  # another mode (eval after train): its own program, else traced anew
            switched = _switch(programs, others.setdefault(key, []), key, program)
            fresh, program = switched is program, switched
        if fresh:
            program = programs[key] = _trace(f, args)
            program.primitive = _Compiled(name, program)
            program.retraces = retraces
            program.used = next(_CLOCK)
            compiled.traces += program.host
            _bound_signatures(programs, others, compiled, name)
        if program.first is not None:  # the call that traced a training step has taken that step: its results
            first, program.first = program.first, None
            return _outputs(first, program)
        if not program.host:
            return _plain(f, args)
        if not program.outputs and not program.effects:  # f returns no tensor (None, numbers): nothing to compute
            return program.result([])
        inputs = [_input(a) for a in args if isinstance(a, _ARRAYS)]
        if program.mask_counts and not _counts_hold(program, inputs, compiled, name):
            return _plain(f, args)  # x[mask] has another shape than traced: f itself, as torch.compile's fallback
        if program.effects:
            if program.checked:
                return _outputs(program.replay(inputs), program)
            result = _step_agrees_with_eager(f, args, program, inputs, name)
            program.checked = True
            return result
        keep = state.grad_enabled and (program.grad_captured or any(t.requires_grad for t in inputs))
        live = program.live_outputs((*(t.requires_grad for t in inputs), *program.captured_flags)) if keep else ()
        ctx: dict = {"keep": bool(live), "live": live}
        drawn = _drawing(program) if not fresh and not program.checked else None
        if live:
            out = _apply(program.primitive, (*inputs, *program.captured), {"ctx": ctx})
        else:  # no result carries a gradient (none asked for, or integer results): no node on the tape
            with no_grad():
                out = _apply(program.primitive, (*inputs, *program.captured), {"ctx": ctx})
        outs = _results(program, out, ctx)
        if not fresh and not program.checked:
            if drawn is not None:  # the eager call of the check draws the replay's random numbers again
                set_states(drawn)
            program.checked = _agrees_with_eager(f, args, outs, name)
        return program.result(outs)

    def clear() -> None:
        programs.clear()
        others.clear()
        by_keyword.clear()
        by_structure.clear()

    compiled.traces = 0
    compiled.clear = clear
    compiled.static = static  # (positions, names) of the arguments that must be static
    return compiled


def _jit_options(static_argnums, static_argnames, donate_argnums, donate_argnames) -> dict:
    """jax.jit's options, checked: positions are integers, names strings (one or a sequence of them)."""

    def listed(value, kind: type, who: str) -> tuple:
        if value is None or isinstance(value, kind):
            items = () if value is None else (value,)
        else:
            items = tuple(value) if isinstance(value, list | tuple) else None
        if items is None or not all(isinstance(v, kind) and not isinstance(v, bool) for v in items):
            what = "an int or a sequence of ints" if kind is int else "a str or a sequence of strs"
            raise TypeError(f"jit: {who} must be {what}, got {value!r}")
        return items

    return {"static_argnums": listed(static_argnums, int, "static_argnums"),
            "static_argnames": listed(static_argnames, str, "static_argnames"),
            "donate_argnums": listed(donate_argnums, int, "donate_argnums"),
            "donate_argnames": listed(donate_argnames, str, "donate_argnames")}  # fmt: skip


def _static_positions(f: Callable, argnums: tuple, argnames: tuple) -> tuple[frozenset, frozenset]:
    """The positions and names of the arguments declared static, each also under its other form when ``f``'s
    signature tells it (``static_argnames="n"`` covers ``f(x, 3)`` too)."""
    positions, names = set(argnums), set(argnames)
    try:
        params = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):  # a builtin without a signature: the declared forms only
        return frozenset(positions), frozenset(names)
    plain = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if not any(p.kind is p.VAR_POSITIONAL for p in params):  # as jax.jit: a position f has not is a mistake
        for i in positions:
            if not -len(plain) <= i < len(plain):
                raise ValueError(f"jit: static_argnums {i} is out of range for {getattr(f, '__name__', 'f')} with "
                                 f"{len(plain)} positional parameters")  # fmt: skip
    if not any(p.kind is p.VAR_KEYWORD for p in params):
        known = {p.name for p in params}
        for n in names - known:
            raise ValueError(f"jit: static_argnames {n!r} is not a parameter of {getattr(f, '__name__', 'f')} "
                             f"(its parameters: {', '.join(sorted(known)) or 'none'})")  # fmt: skip
    for i in list(positions):
        if -len(plain) <= i < len(plain):
            names.add(plain[i])
    positions |= {plain.index(n) for n in names if n in plain}
    return frozenset(positions), frozenset(names)


def _check_static(name: str, args: tuple, static: tuple[frozenset, frozenset]) -> None:
    """An argument declared static must be hashable and no array (it would be a constant of the program)."""
    n = len(args)
    for i in static[0]:
        if -n <= i < n:
            _static_value(name, f"argument {i}", args[i])


def _static_value(name: str, where: str, value) -> None:
    if _is_array(value):
        raise TypeError(f"jit({name}): {where} is declared static but is an array of shape {tuple(value.shape)}; "
                        "an array is an input of the program: drop it from static_argnums/static_argnames")  # fmt: skip
    try:
        hash(value)
    except TypeError:
        raise TypeError(f"jit({name}): {where} is declared static but {type(value).__name__} is not hashable; "
                        "pass a tuple instead of a list, or drop it from static_argnums/static_argnames") from None  # fmt: skip


def _by_keyword(f: Callable, compiled: Callable, forms: dict, args: tuple, kwargs: dict):
    """``compiled(*args, **kwargs)``: ``f`` with the keywords passed after the positional arguments to a twin
    compiled for this call form (its programs apart, its traces counted in ``compiled.traces``)."""
    names = tuple(kwargs)
    n = len(args)
    twin = forms.get((n, names))
    if twin is None:

        def positional(*values):
            return f(*values[:n], **dict(zip(names, values[n:])))

        positional.__name__ = getattr(f, "__name__", "f")
        kept = [i for i in compiled.static[0] if 0 <= i < n] + [n + j for j, k in enumerate(names) if k in compiled.static[1]]
        twin = forms[(n, names)] = jit(positional, static_argnums=kept or None)
    for key in names:
        if key in compiled.static[1]:
            _static_value(getattr(f, "__name__", "f"), f"argument {key!r}", kwargs[key])
    before = twin.traces
    try:
        return twin(*args, *kwargs.values())
    finally:
        compiled.traces += twin.traces - before


_CONTAINERS = (tuple, list, dict)  # pytree nodes among the arguments (namedtuples are tuples)


class _Whole:
    """A static argument that is a container, kept as one leaf when the others are flattened (``static_argnums``
    names the argument: its tuple stays its value, never inputs)."""

    def __init__(self, value):
        self.value = value


def _by_structure(f: Callable, compiled: Callable, forms: dict, args: tuple, static: frozenset = frozenset()):
    """``compiled(*args)`` with tuples, lists or dicts among the arguments (pytrees, as jax.jit takes them): ``f`` on
    their leaves, compiled once per structure (its programs apart, its traces counted in ``compiled.traces``); an
    array leaf is an input, any other leaf a static value (a new one traces again)."""
    leaves, tree = tree_flatten(tuple(_Whole(a) if i in static else a for i, a in enumerate(args)))
    kept = tuple(i for i, v in enumerate(leaves) if isinstance(v, _Whole))  # a static argument stays whole
    leaves = [v.value if isinstance(v, _Whole) else v for v in leaves]
    try:
        twin = forms.get(tree)
    except TypeError:  # a dict key that is not hashable cannot name a program
        raise JitError(f"jit({getattr(f, '__name__', 'f')}): a dict argument has a key that is not hashable; use "
                       "str or int keys, or bind the argument with functools.partial before ng.jit") from None  # fmt: skip
    if twin is None:

        def on_leaves(*values):
            return f(*tree_unflatten(tree, list(values)))

        on_leaves.__name__ = getattr(f, "__name__", "f")
        twin = forms[tree] = jit(on_leaves, static_argnums=kept or None)
    before = twin.traces
    try:
        return twin(*leaves)
    finally:
        compiled.traces += twin.traces - before


def _scalars_as_arrays(args: tuple, static: frozenset) -> tuple:
    """NumPy scalars among the arguments (not declared static) as 0-d arrays: inputs of the program."""
    return tuple(np.asarray(a) if isinstance(a, np.generic) and i not in static else a for i, a in enumerate(args))


def _switch(programs: dict, kept: list, key: tuple, program: _Program) -> _Program:
    """The program of ``key`` that holds now: one kept from before whose modules' modes (train/eval, Dropout's
    ``p``) and captured tensors match again, or ``program`` itself (not current: traced anew); the one it
    replaces is kept, at most :data:`KEPT_PROGRAMS` of them, as jax.jit keeps a program per static value."""
    if not program.host:  # (calls of this signature run f itself: nothing to switch to)
        return program
    match = next((p for p in kept if p.current() and not p.folded_changed()), None)
    if match is None:
        kept.append(program)
        del kept[:-KEPT_PROGRAMS]
        return program
    kept.remove(match)
    kept.append(program)
    programs[key] = match
    return match


KEPT_PROGRAMS = 4  # programs kept per signature for other modes (train and eval of a few modules)
_CLOCK = itertools.count(1)  # ticks of compiled calls: a program's ``used`` is its last call's
KEPT_SIGNATURES = 64  # signatures (shapes, dtypes, static values) a compiled function keeps programs for


def _bound_signatures(programs: dict, others: dict, compiled: Callable, name: str) -> None:
    """At most :data:`KEPT_SIGNATURES` programs, the least recently called dropped first (a training loop whose
    static argument changes every call, ``step(x, y, lr)`` with a Python float ``lr``, would otherwise keep one per
    value, and evicting by age would drop the programs the loop keeps calling); the first time a function drops one,
    a warning names the fix."""
    if len(programs) <= KEPT_SIGNATURES:
        return
    stale = min(programs, key=lambda k: programs[k].used)
    del programs[stale]
    others.pop(stale, None)
    _warn_once(
        compiled, "_dropped_programs", UserWarning,
        f"jit: {name} was traced for more than {KEPT_SIGNATURES} signatures (shapes, dtypes or static values), so "
        "the least recently used programs are dropped. A Python number argument is static: each new value traces again. Pass a "
        "value that changes from call to call as an array (np.float32(lr)), which is an input of one program",
    )  # fmt: skip


def _warn_once(compiled: Callable, flag: str, category: type[Warning], message: str) -> None:
    """``message`` the first time ``compiled`` meets it (``flag`` set on the function), at the user's call."""
    if not getattr(compiled, flag, False):
        setattr(compiled, flag, True)
        warnings.warn(message, category, stacklevel=4)

RETRACE_LIMIT = 8  # traces of one signature for stale constants before a compiled function runs eagerly (torch.compile's limit)


def _eager_from_now_on(f: Callable, args: tuple, key: tuple, programs: dict, name: str):
    """A signature whose constants went stale more than :data:`RETRACE_LIMIT` times (a tensor that no traced value
    depends on, written every call): tracing every call costs more than it saves, so it runs ``f`` itself from now
    on (a warning says which), as torch.compile falls back to eager mode past its recompile limit."""
    programs[key] = _Program(0, [], (), [], [], host=False)  # (never current: not asked again; calls run f)
    warnings.warn(
        f"jit({name}): traced {RETRACE_LIMIT + 1} times because a tensor that no input or parameter requiring grad "
        "reaches (a buffer, a frozen weight) is written between calls and the program had computed from it; it runs "
        "eagerly from now on. Compute that value outside the compiled function and pass it in as an argument",
        RuntimeWarning,
        stacklevel=3,
    )
    return _plain(f, args)


def _counts_hold(program: _Program, inputs: list[Tensor], compiled: Callable, name: str) -> bool:
    """Whether each boolean input used as an index (``x[mask]``) holds as many True values as when traced: the
    shapes of the program follow from them.  When not, the call runs ``f`` itself (a warning says so, once)."""
    if all(int(np.count_nonzero(inputs[i].data)) == n for i, n in program.mask_counts):
        return True
    _warn_once(
        compiled, "_warned_masks", RuntimeWarning,
        f"jit({name}): a boolean mask argument used as an index (x[mask]) holds another number of True values than "
        "when traced, so the result's shape differs: such calls run the function eagerly. Use ng.where(mask, x, 0) "
        "(same shape for every mask) to keep them compiled",
    )  # fmt: skip
    return False


def _plain(f: Callable, args: tuple):
    """``f`` called as it is, on tensors (a NumPy array goes to the default device, as in an eager op): a
    compiled call's results too, every floating one differentiable (as under ``jax.jit``)."""
    return f(*(as_tensor(a) if isinstance(a, np.ndarray | np.generic) else a for a in args))


def _results(program: _Program, out: Tensor, ctx: dict) -> list[Tensor]:
    """A compiled call's results, flat: the live ones from the call's node ``out`` (sliced out of it when it packs
    several, recorded, so each one's cotangent lands in its place), the others as values without a graph."""
    vals, outputs, live = ctx["vals"], program.outputs, ctx["live"]
    results: list = [None] * len(outputs)
    if len(live) == 1:
        results[live[0]] = out
    elif live:
        parts: dict[int, Tensor] = {}  # (a value returned twice is one result, as in eager mode)
        for k in live:
            if outputs[k] not in parts:
                parts[outputs[k]] = _apply(_PART, (out,), {"ctx": ctx, "slot": outputs[k]})
            results[k] = parts[outputs[k]]
    else:
        results[0] = out
    for k, s in enumerate(outputs):
        if results[k] is None:
            results[k] = as_tensor(vals[s], device=CPU)
    if not live:
        ctx.clear()
    return results


def _outputs(values: list, program: _Program):
    """A training step's results as a compiled call returns them: tensors without a graph (the step's
    backward has been taken), in the containers ``f`` returned them in (None when it returned nothing)."""
    return program.result([_wrap(v) if v.__class__ is np.ndarray else as_tensor(v, device=CPU) for v in values])


def _same(a, b) -> bool:
    """``a`` and ``b`` equal all the way down: dicts, lists and tuples entry by entry, arrays bit for bit
    (NaN equal to NaN), everything else by ``==``."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return isinstance(b, list | tuple) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if hasattr(a, "shape") and hasattr(b, "shape"):
        x, y = np.asarray(as_tensor(a).numpy()), np.asarray(as_tensor(b).numpy())
        return x.shape == y.shape and x.dtype == y.dtype and bool(np.array_equal(x, y, equal_nan=x.dtype.kind in "fc"))
    return a == b or (a != a and b != b)


def _step_agrees_with_eager(f: Callable, args: tuple, program: _Program, inputs: list[Tensor], name: str):
    """The safety net of a training step: its first replay against an eager call of ``f`` from the same
    state.  The captured tensors (values and gradients) and every object an effect was called on (the
    optimiser, a schedule: :class:`_Snapshot`) are saved; the replay runs; everything is put back; ``f``
    runs.  Their results and the tensors they leave must agree; the eager call's are kept (one step is
    taken).  On disagreement everything is put back as before the call and :class:`JitError` names why."""
    undo = _Undo()
    undo.reach([*inputs, *program.captured])
    undo.generators = states_of(program.generators)  # the replay draws Dropout's masks; eager mode must draw them again
    for e in program.effects:
        for a in (*e.args, *e.kwargs.values()):
            undo.reach(a)
    tensors = [t for t, *_ in undo.tensors.values()]
    owners = [o for o, _ in undo.owners.values()]

    def world() -> list:
        """Every value the step may change: tensors' data and gradients, optimisers' and schedules' state."""
        grads = [None if t._grad is None else t._grad.data for t in tensors]
        return [[namespace_of(t.data).copy(t.data) for t in tensors], [None if g is None else g.copy() for g in grads],
                [o.state_dict() for o in owners]]  # fmt: skip

    try:
        got = program.replay(inputs)
        after = world()
    except Exception:  # an effect that refuses (a non-finite update): the eager call decides, and raises likewise
        got = after = None
    undo.restore()
    result = f(*(as_tensor(a) if isinstance(a, np.ndarray) else a for a in args))
    refs = [o.data for o in tree_flatten(result)[0] if isinstance(o, Tensor)]
    agree = got is not None and _same(got, refs) and _same(after, world())  # the same ops in the same order: bit for bit
    if not agree:
        undo.restore()
        raise JitError(
            f"jit({name}): the compiled training step disagrees with the function, so the call was undone: the function "
            "changes parameters or gradients in a way the program cannot repeat (a write to .data or .grad, numbers "
            "taken from tensors, random numbers). A compiled step repeats nablagrad's ops, loss.backward(), "
            "optimizer.step() and zero_grad(), a schedule's step() and clip_grad_norm_. Express the step with those, "
            "or call the function without ng.jit."
        )
    return _outputs(refs, program)


def _drawing(program: _Program) -> list | None:
    """The states of the program's generators (Dropout's) before a replay, or None when it draws nothing."""
    return states_of(program.generators) if program.generators else None


def _agrees_with_eager(f: Callable, args: tuple, got: list, name: str) -> bool:
    """The safety net: the first replay of a program must equal an eager call of ``f``."""
    with no_grad():
        ref = f(*(as_tensor(a) if isinstance(a, np.ndarray) else a for a in args))  # f is traced on tensors too
    refs = [r for r in tree_flatten(ref)[0] if isinstance(r, Tensor)]
    for g, r in zip(got, refs):
        if not np.allclose(g.data, r.data, rtol=1e-5, atol=1e-6, equal_nan=True):
            raise JitError(
                f"jit({name}): the compiled program disagrees with the function: part of the result is computed outside "
                "nablagrad's ops (NumPy on .data, Python numbers taken from tensors, random numbers, a global or closure "
                "variable changed since the trace, which jax.jit freezes too) or from a tensor the "
                "function itself writes in place under no_grad (a buffer updated in forward), so it was frozen when the "
                "function was traced. Express it with nablagrad ops, keep such state outside the compiled function (pass "
                "it in), or call the function without ng.jit."
            )
    return True
