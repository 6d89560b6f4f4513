"""Gradient checkpointing (lecture 000: "save only some intermediates and recompute the rest").

``checkpoint(f)(*xs)`` runs ``f`` without recording its intermediates; the tape holds one
node whose VJP re-runs ``f`` with recording on and back-propagates through that fresh tape.
Memory: only ``f``'s inputs and output stay alive; cost: one extra forward of ``f``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import wraps

from . import forward
from . import mode as _m
from .backward import run_backward
from .mode import enable_grad
from .ops import identity
from .primitive import Primitive
from .tensor import TENSOR_NS, Tensor, _wrap


class _Checkpoint(Primitive):
    """The node a checkpointed call is on the tape: its inputs are ``f``'s arguments, then the tensors ``f``
    read from outside (closures, parameters); its VJP re-runs ``f`` and back-propagates through that fresh
    tape to all of them, so a captured value's gradient flows on as an argument's does."""

    def __init__(self, f: Callable):
        super().__init__(f"checkpoint({getattr(f, '__name__', 'f')})", self._call, (), (), "checkpoint({0})")
        self.f = f

    def _call(self, *inputs, n_args: int, captured: list):
        return self.f(*inputs[:n_args])  # the captured inputs are read by f itself

    def vjp(self, F, g, ans, args, params, needs):
        create_graph = F is TENSOR_NS  # raw arrays of any library (NUMPY_NS, ArrayRules) walk without a graph
        n = params["n_args"]
        with enable_grad():
            if create_graph:
                xs = [identity(a) if isinstance(a, Tensor) and need else a for a, need in zip(args[:n], needs)]
            else:
                xs = [_wrap(a).requires_grad_(True) if need else a for a, need in zip(args[:n], needs)]
            out = self.f(*xs)
        inputs = [*xs, *params["captured"]]
        wanted = [x for x, need in zip(inputs, needs) if need]
        grads, _ = run_backward(out, g, inputs=wanted, create_graph=create_graph)
        return [_raw(grads.get(id(x)), F) if need else None for x, need in zip(inputs, needs)]


def _raw(g, F):
    """A gradient as the walk that asked for it holds them: a tensor when it builds a graph, else its array."""
    if g is None or F is TENSOR_NS or not isinstance(g, Tensor):
        return g
    return g.data


def checkpoint(f: Callable) -> Callable:
    """Wrap ``f`` so that its intermediate values are recomputed during backward, not stored."""
    prim = _Checkpoint(f)

    @wraps(f)
    def wrapped(*args):
        if not _m.is_grad_enabled() or forward.depth():
            return f(*args)
        with _m.tracing() as made:  # f's own ops, freed on return: what they read from outside is captured
            out = f(*args)
        # (an argument read through a closure too is captured as well: the re-run passes a fresh copy as the argument)
        inside = {id(t) for t in made}
        captured = list({id(a): a for t in made for a in (t._inputs or ())
                         if isinstance(a, Tensor) and a.requires_grad and id(a) not in inside}.values())  # fmt: skip
        out = _wrap(out.data)
        out.requires_grad = True
        out._op, out._inputs = prim, (*args, *captured)
        out._params = {"n_args": len(args), "captured": captured}
        out._version = _m.clock
        return out

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
