"""Gradient checkpointing (lecture 000: "save only some intermediates and recompute the rest").

``checkpoint(f)(*args, **kwargs)`` runs ``f`` without recording its intermediates; the tape holds one
node whose VJP re-runs ``f`` with recording on and back-propagates through that fresh tape.
Memory: only ``f``'s inputs and output stay alive; cost: one extra forward of ``f``.

``f`` may return a pytree (tuple, list, dict) of tensors, as ``torch.utils.checkpoint`` allows: its
differentiable leaves are packed side by side in the node's one output (as ``linalg`` packs ``eigh``'s
outputs) and sliced back out, so one re-run back-propagates every leaf's cotangent together.  Leaves
that need no gradient (integers, numbers, tensors of no differentiable input) are returned as ``f``
made them; with none to differentiate, ``f``'s output is returned as it is.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import wraps

from . import forward, ops
from . import grad_mode as _m
from .backward import run_backward
from .grad_mode import enable_grad, no_grad
from .ops import identity
from .primitive import Primitive
from .pytree import tree_flatten, tree_unflatten
from .random import draws_recorded, set_states, states_of
from .tensor import TENSOR_NS, Tensor, _wrap


class _Checkpoint(Primitive):
    """The node a checkpointed call is on the tape: its inputs are ``f``'s arguments (positional, then
    keyword ones named by ``keys``), then the tensors ``f`` read from outside (closures, parameters); its
    VJP re-runs ``f`` and back-propagates through that fresh tape to all of them, so a captured value's
    gradient flows on as an argument's does (``tensors``: which arguments were tensors).  Its value is ``f``'s
    differentiable output leaves (``leaves``, their indices among all of ``f``'s output leaves), packed when
    there are several (:func:`_pack`)."""

    def __init__(self, f: Callable):
        super().__init__(f"checkpoint({getattr(f, '__name__', 'f')})", self._call, (), (), "checkpoint({0})")
        self.f = f

    def _run(self, inputs: Sequence, n_args: int, keys: tuple[str, ...], leaves: tuple[int, ...]):
        """``f`` on the first ``n_args`` inputs; the chosen output leaves, packed when there are several."""
        n_pos = n_args - len(keys)
        outs, _ = tree_flatten(self.f(*inputs[:n_pos], **dict(zip(keys, inputs[n_pos:n_args]))))
        picked = [outs[i] for i in leaves]
        return picked[0] if len(picked) == 1 else _pack(picked)

    def _call(self, *inputs, n_args: int, keys: tuple[str, ...], leaves: tuple[int, ...], **_):
        return self._run(inputs, n_args, keys, leaves)  # the captured inputs are read by f itself

    def vjp(self, F, g, ans, args, params, needs):
        n = params["n_args"]
        draws = params["draws"]
        now = states_of(rng for rng, _ in draws)
        set_states(draws)  # the re-run draws the forward's masks (Dropout) again, as PyTorch's preserve_rng_state
        try:
            return self._vjp(F, g, args, params, needs, n)
        finally:
            set_states(now)  # and the user's stream goes on where it was

    def _vjp(self, F, g, args, params, needs, n: int) -> list:
        create_graph = F is TENSOR_NS  # raw arrays of any library (NUMPY_NS, ArrayRules) walk without a graph
        with enable_grad():
            if create_graph:
                xs = [identity(a) if isinstance(a, Tensor) and need else a for a, need in zip(args[:n], needs)]
            else:  # the walk hands over arrays: a tensor argument is made one again, requiring grad where wanted
                was = params["tensors"]
                xs = [_wrap(a).requires_grad_(need) if was[i] else a for i, (a, need) in enumerate(zip(args[:n], needs))]
            out = self._run(xs, n, params["keys"], params["leaves"])
        inputs = [*xs, *params["captured"]]
        wanted = [x for x, need in zip(inputs, needs) if need]
        grads, _ = run_backward(out, g, inputs=wanted, create_graph=create_graph, partial=True)  # (one per argument)
        return [_raw(grads.get(id(x)), F) if need else None for x, need in zip(inputs, needs)]


def _raw(g, F):
    """A gradient as the walk that asked for it holds them: a tensor when it builds a graph, else its array."""
    if g is None or F is TENSOR_NS or not isinstance(g, Tensor):
        return g
    return g.data


def _pack(leaves: Sequence[Tensor]) -> Tensor:
    """The leaves flattened and joined end to end, in their common dtype (concatenate promotes as torch.cat)."""
    return ops.concatenate([ops.reshape(t, (-1,)) for t in leaves])


def _unpack(packed: Tensor, like: Sequence[Tensor]) -> list[Tensor]:
    """The inverse of :func:`_pack`: each leaf's slice of ``packed``, in its shape and dtype (recorded,
    so each slice's cotangent lands in its place of the packed one)."""
    parts, start = [], 0
    for t in like:
        n = math.prod(t.shape)
        parts.append(ops.astype(ops.reshape(packed[start : start + n], t.shape), t.dtype))
        start += n
    return parts


def _record(value, prim: _Checkpoint, inputs: tuple, params: dict) -> Tensor:
    """A tensor of ``value`` made by ``prim`` from ``inputs``: the checkpoint's one node on the tape."""
    out = _wrap(value)
    out._requires_grad = True
    out._op, out._inputs, out._params = prim, inputs, params
    out._version = _m.clock
    return out


def checkpoint(f: Callable, *args, use_reentrant: bool | None = None, preserve_rng_state: bool = True, **kwargs):
    """Wrap ``f`` so that its intermediate values are recomputed during backward, not stored.

    The wrapped function takes ``f``'s positional and keyword arguments and returns what ``f`` returns
    (a tensor or a pytree of them); its gradients equal those of ``f`` itself.  PyTorch's call form
    ``checkpoint(f, *args, use_reentrant=False, **kwargs)`` — arguments given — runs it at once:
    ``checkpoint(f)(*args, **kwargs)``.  ``use_reentrant`` is accepted for PyTorch's code (one, non-reentrant,
    implementation here); ``preserve_rng_state=True`` only: the re-run always draws the forward's random values."""
    if not callable(f):
        raise TypeError(f"checkpoint: f must be callable, got {type(f).__name__}; call checkpoint(f)(*args) or "
                        "checkpoint(f, *args)")  # fmt: skip
    if not preserve_rng_state:
        raise ValueError("checkpoint: preserve_rng_state=False is not supported: the re-run always draws the "
                         "random values of the forward pass (Dropout masks), so the gradients are f's; leave it True")
    wrapped = _checkpointed(f)
    return wrapped(*args, **kwargs) if args or kwargs else wrapped


def _checkpointed(f: Callable) -> Callable:
    """``f`` whose call records one :class:`_Checkpoint` node (see :func:`checkpoint`)."""
    prim = _Checkpoint(f)

    @wraps(f)
    def wrapped(*args, **kwargs):
        if not _m.is_grad_enabled() or forward.depth():
            return f(*args, **kwargs)
        with _m.tracing() as made, draws_recorded() as drawn:  # f's own ops, freed on return: what they read
            out = f(*args, **kwargs)  # from outside is captured; its random ops' generators, as they were
        outs, tree = tree_flatten(out)
        leaves = tuple(i for i, t in enumerate(outs) if isinstance(t, Tensor) and t.requires_grad)
        if not leaves:
            return out  # nothing to differentiate (no input requires grad): f's output, no node
        # what f's ops read from outside, and an output leaf f returns as it is (an argument read through a
        # closure too is captured as well: the re-run passes a fresh copy as the argument)
        inside = {id(t) for t in made}
        outside = [a for t in made for a in (t._inputs or ())] + [outs[i] for i in leaves]
        captured = list({id(a): a for a in outside
                         if isinstance(a, Tensor) and a.requires_grad and id(a) not in inside}.values())  # fmt: skip
        inputs = (*args, *kwargs.values())
        params = {"n_args": len(inputs), "captured": captured, "keys": tuple(kwargs), "leaves": leaves,
                  "tensors": tuple(isinstance(a, Tensor) for a in inputs), "draws": tuple(drawn.values())}  # fmt: skip
        picked = [outs[i] for i in leaves]
        if len(picked) == 1:
            parts = [_record(picked[0].data, prim, (*inputs, *captured), params)]
        else:
            with no_grad():
                packed = _pack(picked).data
            parts = _unpack(_record(packed, prim, (*inputs, *captured), params), picked)
        for i, part in zip(leaves, parts):
            outs[i] = part
        return tree_unflatten(tree, outs)

    return wrapped


def tape_nbytes(root: Tensor) -> int:
    """Bytes held by the tape behind ``root``: every recorded intermediate's data (leaves excluded)."""
    seen, total, stack = set(), 0, [root]
    while stack:
        node = stack.pop()
        if id(node) in seen or node._op is None or node._inputs is None:
            continue
        seen.add(id(node))
        total += math.prod(node.data.shape) * node.dtype.itemsize  # nbytes, on every array library
        stack.extend(p for p in node._inputs if isinstance(p, Tensor))
    return total
