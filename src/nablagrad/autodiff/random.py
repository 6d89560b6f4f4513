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

from ..backend import resolve_rng
from ..backend.device import device_of, to_device
from ..backend.namespace import namespace_of
from .creation import _drawn
from .grad_mode import state
from .primitive import Primitive
from .tensor import Tensor, _apply, _wrap, as_tensor


def _scaled_keep(draw: np.ndarray, p: float, dtype: np.dtype) -> np.ndarray:
    """``m / (1 − p)`` with ``m = [u ≥ p]`` from uniform draws ``u``: ``m ~ Bernoulli(1 − p)``; zeros for ``p = 1``."""
    return np.zeros(draw.shape, dtype) if p == 1 else (draw >= p).astype(dtype) / dtype.type(1 - p)


def _keep_mask(x, p: float, rng):
    """Inverted dropout's mask in ``x``'s shape, dtype and device, drawn on the host from ``rng`` (a generator,
    or an int seed: each call then draws anew from that seed, as eager calls given it do; the same mask on
    every device; the stream advances for ``p = 1`` too)."""
    dtype = x.dtype if x.__class__ is np.ndarray else namespace_of(x).numpy_dtype(x.dtype)
    keep = _scaled_keep(resolve_rng(rng).random(np.shape(x)), p, dtype)
    return keep if x.__class__ is np.ndarray else to_device(keep, device_of(x))


# no rules: the mask does not depend on x's value (x only gives its shape and places the draw in the program)
DROPOUT_MASK = Primitive("dropout_mask", _keep_mask, (None,), (None,), fmt="dropout_mask({0})")


def dropout_mask(x: Tensor, p: float, rng) -> Tensor:
    """The scaled keep-mask of inverted dropout for ``x``: ``m / (1 − p)``, ``m ~ Bernoulli(1 − p)``, drawn
    from ``rng`` (a generator, or an int seed) on every evaluation (eager call or compiled replay).  Carries
    no gradient.  Inside ``vmap`` it follows vmap's ``randomness`` (torch.func's): refused by default, one
    mask per example (``"different"``) or one for all (``"same"``)."""
    x = as_tensor(x)
    if state.vmaps:
        dtype = namespace_of(x.data).numpy_dtype(x.dtype)
        generator = resolve_rng(rng)
        _watch(generator)
        return _drawn(lambda shape: _scaled_keep(generator.random(shape), p, dtype), x.shape, "dropout",
                      lambda a: _wrap(to_device(a, x.device)))  # fmt: skip
    if isinstance(rng, np.random.Generator):
        _watch(rng)
    if state.jit_trace is not None:  # recorded: part of the program, drawn again on every replay
        return _apply(DROPOUT_MASK, (x,), {"p": p, "rng": rng})
    return _wrap(_keep_mask(x.data, p, rng))  # eager: no node (nothing flows back through a mask)


def _watch(rng: np.random.Generator) -> None:
    """Tell the open :func:`draws_recorded` blocks (a jit trace, a checkpoint) the state before this draw."""
    for seen in getattr(_recorders, "stack", ()):
        if id(rng) not in seen:
            seen[id(rng)] = (rng, rng.bit_generator.state)


def states_of(generators) -> list[tuple[np.random.Generator, dict]]:
    """``(generator, state)`` for each generator: read, never drawn from (:func:`set_states` puts them back)."""
    return [(rng, rng.bit_generator.state) for rng in generators]


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
