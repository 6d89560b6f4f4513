"""The engine's mode: every switch that changes what an op does, in one place.

* ``grad_enabled`` — False inside :func:`no_grad`: ops record nothing on the tape;
* ``levels`` — the forward-mode levels (one per running ``jvp``) whose tangents ops push
  forward; each ``jvp`` gets a fresh number, larger than every level already running, so
  an inner transform never mistakes its perturbation for an outer one's (the idea of JAX's
  levelled tracers and HIPS autograd's trace ids);
* ``ceiling`` — while the JVP rule of level ``k`` runs, only levels below ``k`` are live
  (the tangent of a tangent at the same level is ε² = 0);
* ``depth`` — how many transforms are running: a transform nested in another records its
  own derivative computation (``create_graph``), so the outer one can differentiate it;
* ``tracer`` — ``explain`` collects every op output here, in evaluation order;
* ``slow`` — True when any of the above asks ops to do more than the plain tape (read once
  per op on the hot path);
* ``clock`` — the version clock: a tensor written in place takes ``clock + 1`` as its
  ``_version``; an op node is stamped with the clock when made, so an input whose version
  is newer than the node that saved it was modified after it was used.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager

grad_enabled: bool = True
slow: bool = False
tracer: list | None = None
levels: list[int] = []
ceiling: float = float("inf")
depth: int = 0
clock: int = 0
retained: int = 0  # how many tensors asked for retain_grad() (the walk looks only if > 0)
vmap_level: int = 0  # the level of the running vmap (0: none); its batch axis is axis 0 of the data
vmap_size: int = 0  # its batch size
batch_hidden: bool = False  # True: the vmap's batch axis is an ordinary axis (see physical())

BATCHED = "batched"  # the entry a tensor batched by vmap carries at the vmap's level

_level_ids = itertools.count(1)


def _update_slow() -> None:
    global slow
    slow = bool(levels) or tracer is not None


def bump() -> int:
    """Advance the version clock; return the new version for a tensor written in place."""
    global clock
    clock += 1
    return clock


@contextmanager
def no_grad() -> Iterator[None]:
    """Ops inside record nothing: no tape, no ``requires_grad`` on results (like torch.no_grad)."""
    global grad_enabled
    prev, grad_enabled = grad_enabled, False
    try:
        yield
    finally:
        grad_enabled = prev


@contextmanager
def enable_grad() -> Iterator[None]:
    """Ops inside record on the tape again (inside ``no_grad``), like torch.enable_grad."""
    global grad_enabled
    prev, grad_enabled = grad_enabled, True
    try:
        yield
    finally:
        grad_enabled = prev


def is_grad_enabled() -> bool:
    return grad_enabled


@contextmanager
def tracing() -> Iterator[list]:
    """Collect every op output made inside, in order (used by ``explain``)."""
    global tracer
    prev, tracer = tracer, []
    _update_slow()
    try:
        yield tracer
    finally:
        tracer = prev
        _update_slow()


@contextmanager
def suspend_tracing() -> Iterator[None]:
    """Hide derivative computations from an ``explain`` trace."""
    global tracer
    prev, tracer = tracer, None
    try:
        yield
    finally:
        tracer = prev


@contextmanager
def forward_level() -> Iterator[int]:
    """A new forward-mode level, live while the block runs."""
    level = next(_level_ids)
    levels.append(level)
    _update_slow()
    try:
        yield level
    finally:
        levels.remove(level)
        _update_slow()


@contextmanager
def batch_level(size: int) -> Iterator[int]:
    """A new vmap level of ``size`` examples, live while the block runs: tensors marked with it
    have their batch axis first in ``data`` and show the per-example shape."""
    global vmap_level, vmap_size
    level = next(_level_ids)
    levels.append(level)
    prev = vmap_level, vmap_size
    vmap_level, vmap_size = level, size
    _update_slow()
    try:
        yield level
    finally:
        levels.remove(level)
        vmap_level, vmap_size = prev
        _update_slow()


def batched(x) -> bool:
    """Whether ``x`` is batched by the running vmap and that level is visible (not hidden)."""
    t = getattr(x, "_tangents", None)
    return bool(t) and vmap_level in t and vmap_level < ceiling and vmap_level > 0 and not batch_hidden


@contextmanager
def physical() -> Iterator[None]:
    """Inside, the running vmap's batch axis is an ordinary first axis of the data, while every
    other level stays live (a reverse pass inside vmap runs on the whole batch this way)."""
    global batch_hidden
    prev, batch_hidden = batch_hidden, True
    try:
        yield
    finally:
        batch_hidden = prev


@contextmanager
def below(level: int) -> Iterator[None]:
    """Only levels below ``level`` are live inside (the JVP rule of ``level`` is running)."""
    global ceiling
    prev, ceiling = ceiling, level
    try:
        yield
    finally:
        ceiling = prev


def live_level(tangents: dict | None) -> int:
    """The highest live level among a tensor's tangents (0 when none is live)."""
    top = 0
    if tangents:
        for k in tangents:
            if top < k < ceiling and k in levels and not (batch_hidden and k == vmap_level):
                top = k
    return top


@contextmanager
def transform() -> Iterator[bool]:
    """Mark a running transform; yields whether it is nested inside another one."""
    global depth
    nested = depth > 0
    depth += 1
    try:
        yield nested
    finally:
        depth -= 1
