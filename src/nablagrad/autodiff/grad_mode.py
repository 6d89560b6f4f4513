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
* ``vmaps``, ``floor`` — the running ``vmap`` levels and their batch sizes; which of them are
  hidden (their batch axis seen as an ordinary axis of the data, see :func:`physical`);
* ``tracer`` — ``explain`` collects every op output here, in evaluation order;
* ``jit_trace`` — the ``ng.jit`` trace running in this thread, or None: reading a traced
  tensor's value (``item``, ``tolist`` and so ``bool``/``float``/``int``) asks it first (it
  refuses), and a comparison of traced tensors is recorded by it (see :mod:`.jit`);
* ``slow`` — True when any of the above asks ops to do more than the plain tape (read once
  per op on the hot path);
* ``clock`` — the version clock: a tensor written in place takes ``clock + 1`` as its
  ``_version``; an op node is stamped with the clock when made, so an input whose version
  is newer than the node that saved it was modified after it was used.
* ``overwritten`` — True once an op's output values were overwritten after it was made (a non-leaf
  written under ``no_grad``, or replaced by an in-place op): only then does the tape walk look for
  the stamp such a node keeps (``_born``), so the plain walk reads nothing more.
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
        self.vmaps: dict[int, int] = {}  # running vmap level -> its batch size (see batch_level())
        self.randomness: dict[int, str] = {}  # running vmap level -> its rule for random draws (see batch_level())
        self.floor: float = float("inf")  # vmap levels >= floor are hidden: ordinary axes (see physical())


state = _ThreadMode()  # read as ``state.grad_enabled``: the value of the calling thread

# shared by all threads: a version number and a level number are never reused
clock: int = 0
overwritten: bool = False  # see the module docstring; set once, never reset
structure: int = 0  # bumped when a module's parameter or submodule is replaced (ng.jit then traces again)
active: int = 0  # how many switch-setting blocks run, in all threads; 0: every thread has the defaults
retained: int = 0  # how many tensors asked for retain_grad() (the walk looks only if > 0)
hooked: int = 0  # how many hooks Tensor.register_hook registered and not removed (the walk looks only if > 0)
_level_ids = itertools.count(1)
_clock_lock = threading.Lock()
_active_lock = threading.Lock()


def _update_slow() -> None:
    state.slow = bool(state.levels) or state.tracer is not None or state.jit_trace is not None


def restructure() -> None:
    """A module's parameter or submodule was replaced by another object: compiled programs that read the old one
    (``ng.jit`` captures tensors by reference) must trace again."""
    global structure
    structure += 1


def bump() -> int:
    """Advance the version clock; return the new version for a tensor written in place."""
    global clock
    with _clock_lock:
        clock += 1
        return clock


@contextmanager
def _setting(**values) -> Iterator[None]:
    """Set some of this thread's switches while the block runs; restore them after (even on error).

    ``active`` counts these blocks over all threads: while it is 0 no thread has changed a switch,
    so an op knows the defaults (gradients on, nothing but the tape) without reading the
    thread-local ``state`` (a read that costs about a tenth of a small op)."""
    global active
    with _active_lock:
        active += 1
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
        with _active_lock:
            active -= 1


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
def batch_level(size: int, randomness: str = "error") -> Iterator[int]:
    """A new vmap level of ``size`` examples, live while the block runs; ``randomness`` says what a random
    draw inside it does (torch.func's rule): ``"error"`` refuses it, ``"same"`` draws one value shared by
    every example, ``"different"`` draws one per example.

    A tensor batched by several vmaps holds their batch axes first in ``data``, the outermost
    (lowest level) first, and shows only its per-example shape: its ``shape`` drops the axes of
    the visible levels.  A vmap inside a vmap thus maps over the next axis of the outer one's
    examples (JAX's ``BatchTrace`` per level; here the axes stay physical and ordered by level).
    """
    level = next(_level_ids)
    rules = {**state.randomness, level: randomness}
    with _setting(levels=[*state.levels, level], vmaps={**state.vmaps, level: size}, randomness=rules):
        yield level


def visible(level: int) -> bool:
    """Whether vmap ``level`` is running and its batch axis hidden from the ops (not physical)."""
    s = state
    return level in s.vmaps and level < s.ceiling and level < s.floor


def batch_levels(x) -> list[int]:
    """The visible vmap levels that batch ``x``, outermost first (their axes lead ``x.data``)."""
    t = getattr(x, "_tangents", None)
    if not t:
        return []
    return sorted(k for k in t if t[k] is BATCHED and visible(k))


def batched(x) -> bool:
    """Whether ``x`` is batched by a running vmap whose level is visible (not hidden)."""
    t = getattr(x, "_tangents", None)
    return bool(t) and any(v is BATCHED and visible(k) for k, v in t.items())


def physical(level: int = 0):
    """Inside, the vmap ``level`` and every vmap inside it see their batch axes as ordinary
    leading axes of the data (``level=0``: every vmap), while all other levels stay live — a
    batching rule runs this way, and so does a reverse pass inside vmap, on the whole batch.
    Hidden levels are always the innermost ones, so visible axes always lead the data."""
    return _setting(floor=min(state.floor, level))


def below(level: int):
    """Only levels below ``level`` are live inside (the JVP rule of ``level`` is running)."""
    return _setting(ceiling=level)


def live_level(tangents: dict | None) -> int:
    """The highest live forward-mode level among a tensor's tangents (0 when none is live)."""
    top = 0
    if tangents:
        s = state
        for k, v in tangents.items():
            if top < k < s.ceiling and v is not BATCHED and k in s.levels:
                top = k
    return top


@contextmanager
def transform() -> Iterator[bool]:
    """Mark a running transform; yields whether it is nested inside another one."""
    nested = state.depth > 0
    with _setting(depth=state.depth + 1):
        yield nested
