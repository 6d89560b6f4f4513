"""The engine's mode: every switch that changes what an op does, in one place.

The switches below belong to the calling thread (``state``, a ``threading.local``, as PyTorch's
grad mode is thread-local): a server thread inside ``no_grad`` never turns off another thread's
tape.  Only the version clock and the level counter are shared, so numbers are never reused.

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
* ``jit_trace`` — the ``ng.jit`` trace running in this thread, or None: reading a traced
  tensor's value (``item``, ``tolist`` and so ``bool``/``float``/``int``) asks it first (it
  refuses), and a comparison of traced tensors is recorded by it (see :mod:`.jit`);
* ``slow`` — True when any of the above asks ops to do more than the plain tape (read once
  per op on the hot path);
* ``clock`` — the version clock: a tensor written in place takes ``clock + 1`` as its
  ``_version``; an op node is stamped with the clock when made, so an input whose version
  is newer than the node that saved it was modified after it was used.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager

BATCHED = "batched"  # the entry a tensor batched by vmap carries at the vmap's level


class _ThreadMode(threading.local):
    """The switches of one thread: each thread starts with gradients on and no transform running,
    so a ``no_grad`` in one thread (a server evaluating) never changes another's (like PyTorch)."""

    def __init__(self) -> None:
        self.grad_enabled: bool = True
        self.slow: bool = False
        self.tracer: list | None = None
        self.jit_trace = None  # the running ng.jit trace (jit.py's _Trace), if any
        self.levels: list[int] = []
        self.ceiling: float = float("inf")
        self.depth: int = 0
        self.vmap_level: int = 0  # the level of the running vmap (0: none); its batch axis is axis 0 of the data
        self.vmap_size: int = 0  # its batch size
        self.batch_hidden: bool = False  # True: the vmap's batch axis is an ordinary axis (see physical())


state = _ThreadMode()  # read as ``state.grad_enabled``: the value of the calling thread

# shared by all threads: a version number and a level number are never reused
clock: int = 0
retained: int = 0  # how many tensors asked for retain_grad() (the walk looks only if > 0)
_level_ids = itertools.count(1)
_clock_lock = threading.Lock()


def _update_slow() -> None:
    state.slow = bool(state.levels) or state.tracer is not None or state.jit_trace is not None


def bump() -> int:
    """Advance the version clock; return the new version for a tensor written in place."""
    global clock
    with _clock_lock:
        clock += 1
        return clock


@contextmanager
def _setting(**values) -> Iterator[None]:
    """Set some of this thread's switches while the block runs; restore them after (even on error)."""
    prev = {k: getattr(state, k) for k in values}
    for k, v in values.items():
        setattr(state, k, v)
    _update_slow()
    try:
        yield
    finally:
        for k, v in prev.items():
            setattr(state, k, v)
        _update_slow()


def no_grad():
    """Ops inside record nothing: no tape, no ``requires_grad`` on results (like torch.no_grad)."""
    return _setting(grad_enabled=False)


def enable_grad():
    """Ops inside record on the tape again (inside ``no_grad``), like torch.enable_grad."""
    return _setting(grad_enabled=True)


def is_grad_enabled() -> bool:
    return state.grad_enabled


@contextmanager
def tracing() -> Iterator[list]:
    """Collect every op output made inside, in order (used by ``explain``)."""
    recorded: list = []
    with _setting(tracer=recorded):
        yield recorded


def suspend_tracing():
    """Hide derivative computations from an ``explain`` trace."""
    return _setting(tracer=None)


@contextmanager
def forward_level() -> Iterator[int]:
    """A new forward-mode level, live while the block runs."""
    level = next(_level_ids)
    with _setting(levels=[*state.levels, level]):
        yield level


@contextmanager
def batch_level(size: int) -> Iterator[int]:
    """A new vmap level of ``size`` examples, live while the block runs: tensors marked with it
    have their batch axis first in ``data`` and show the per-example shape."""
    level = next(_level_ids)
    with _setting(levels=[*state.levels, level], vmap_level=level, vmap_size=size):
        yield level


def batched(x) -> bool:
    """Whether ``x`` is batched by the running vmap and that level is visible (not hidden)."""
    t = getattr(x, "_tangents", None)
    s = state
    return bool(t) and s.vmap_level in t and 0 < s.vmap_level < s.ceiling and not s.batch_hidden


def physical():
    """Inside, the running vmap's batch axis is an ordinary first axis of the data, while every
    other level stays live (a reverse pass inside vmap runs on the whole batch this way)."""
    return _setting(batch_hidden=True)


def below(level: int):
    """Only levels below ``level`` are live inside (the JVP rule of ``level`` is running)."""
    return _setting(ceiling=level)


def live_level(tangents: dict | None) -> int:
    """The highest live level among a tensor's tangents (0 when none is live)."""
    top = 0
    if tangents:
        s = state
        for k in tangents:
            if top < k < s.ceiling and k in s.levels and not (s.batch_hidden and k == s.vmap_level):
                top = k
    return top


@contextmanager
def transform() -> Iterator[bool]:
    """Mark a running transform; yields whether it is nested inside another one."""
    nested = state.depth > 0
    with _setting(depth=state.depth + 1):
        yield nested
