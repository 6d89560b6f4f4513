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
from .backward import _accumulate, run_backward
from .mode import enable_grad, no_grad
from .ops import identity
from .primitive import Primitive
from .tensor import TENSOR_NS, Tensor, _wrap


class _Checkpoint(Primitive):
    def __init__(self, f: Callable):
        super().__init__(f"checkpoint({getattr(f, '__name__', 'f')})", f, (), (), "checkpoint({0})")

    def vjp(self, F, g, ans, args, params, needs):
        create_graph = F is TENSOR_NS  # raw arrays of any library (NUMPY_NS, ArrayRules) walk without a graph
        with enable_grad():
            if create_graph:
                xs = [identity(a) if isinstance(a, Tensor) and need else a for a, need in zip(args, needs)]
            else:
                xs = [_wrap(a).requires_grad_(True) if need else a for a, need in zip(args, needs)]
            out = self.fn(*xs)
        wanted = [x for x, need in zip(xs, needs) if need]
        grads, leaves = run_backward(out, g, inputs=wanted, create_graph=create_graph)
        # parameters captured by f (not passed as arguments) get their gradients here
        wanted_ids = {id(x) for x in wanted}
        for leaf in leaves:
            if id(leaf) not in wanted_ids:
                _accumulate(leaf, grads[id(leaf)], F)
        return [grads.get(id(x)) if need else None for x, need in zip(xs, needs)]


def checkpoint(f: Callable) -> Callable:
    """Wrap ``f`` so that its intermediate values are recomputed during backward, not stored."""
    prim = _Checkpoint(f)

    @wraps(f)
    def wrapped(*args):
        if not _m.is_grad_enabled() or forward.depth():
            return f(*args)
        with no_grad():
            out = f(*args)
        out = _wrap(out.data)
        out.requires_grad = True
        out._op, out._inputs, out._params = prim, args, {}
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
