"""Random ops on the tape: each evaluation draws afresh from its generator.

Inverted dropout's mask is such an op.  Recorded like any other op (with the activation it masks as its
argument, so it is part of what a compiled program computes), a replay of :func:`~nablagrad.jit` calls it
again and draws the next numbers from the same generator, exactly as eager mode would: a compiled
training step with ``Dropout`` equals the eager one bit for bit, given the same seed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from ..backend.device import device_of, to_device
from ..backend.namespace import namespace_of
from .mode import state
from .primitive import Primitive
from .tensor import Tensor, _apply, _wrap, as_tensor


def _keep_mask(x, p: float, rng: np.random.Generator):
    """``m / (1 − p)`` with ``m_i ~ Bernoulli(1 − p)`` in ``x``'s shape, dtype and device; zeros for ``p = 1``.
    Drawn on the host (a seed gives the same mask on every device; the stream advances for ``p = 1`` too)."""
    draw = rng.random(np.shape(x))
    dtype = x.dtype if x.__class__ is np.ndarray else namespace_of(x).numpy_dtype(x.dtype)
    keep = np.zeros(draw.shape, dtype) if p == 1 else (draw >= p).astype(dtype) / dtype.type(1 - p)
    return keep if x.__class__ is np.ndarray else to_device(keep, device_of(x))


# no rules: the mask does not depend on x's value (x only gives its shape and places the draw in the program)
DROPOUT_MASK = Primitive("dropout_mask", _keep_mask, (None,), (None,), fmt="dropout_mask({0})")


def dropout_mask(x: Tensor, p: float, rng: np.random.Generator) -> Tensor:
    """The scaled keep-mask of inverted dropout for ``x``: ``m / (1 − p)``, ``m ~ Bernoulli(1 − p)``, drawn
    from ``rng`` on every evaluation (eager call or compiled replay).  Carries no gradient."""
    for seen in getattr(_recorders, "stack", ()):  # a jit trace or a checkpoint watching: the state before the draw
        if id(rng) not in seen:
            seen[id(rng)] = (rng, rng.bit_generator.state)
    x = as_tensor(x)
    if state.jit_trace is not None:  # recorded: part of the program, drawn again on every replay
        return _apply(DROPOUT_MASK, (x,), {"p": p, "rng": rng})
    return _wrap(_keep_mask(x.data, p, rng))  # eager: no node (nothing flows back through a mask)


_recorders = threading.local()  # per thread: the open draws_recorded() blocks


@contextmanager
def draws_recorded() -> Iterator[dict]:
    """Within the block, each generator a random op draws from, with its state before the first draw
    (``id -> (generator, state)``): enough to draw the same numbers again (a checkpoint's re-run, as
    PyTorch's ``preserve_rng_state``) or to take the draws back (a traced call that is no call)."""
    stack = _recorders.__dict__.setdefault("stack", [])
    seen: dict = {}
    stack.append(seen)
    try:
        yield seen
    finally:
        stack.remove(seen)


def set_states(draws) -> None:
    """Put generators back to the states ``draws`` (``(generator, state)`` pairs) name."""
    for rng, saved in draws:
        rng.bit_generator.state = saved


def generators_of(params: dict) -> list[np.random.Generator]:
    """The generators among an op's parameters: a compiled program saves and restores their states around
    its check against eager mode (so the check draws nothing the user would miss)."""
    return [v for v in params.values() if isinstance(v, np.random.Generator)]
