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

import functools
import inspect
import itertools
import threading
from collections.abc import Callable, Iterator
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
        self.switched_off: bool = False  # set_grad_enabled(False) called (outside a block): counted in ``active``
        self.retain_graph: bool = False  # a tape walk with retain_graph=True runs: a compiled call keeps what it saved


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


class _GradSwitch:
    """A grad-mode switch as PyTorch's: a context manager (reusable and re-entrant: each ``with`` restores what it
    found) and a decorator — ``@no_grad()`` or bare ``@no_grad`` — that sets the mode for every call of the function,
    and for a generator function around each resumption only (the caller's mode is its own between ``yield``s)."""

    _mode = True  # the grad mode inside

    def __new__(cls, func: Callable | None = None):
        if func is None:
            return super().__new__(cls)
        return cls()(func)  # bare @no_grad: a decorator at once

    def __init__(self, func: Callable | None = None) -> None:
        self._open: list = []  # the blocks this object entered and has not left yet (re-entrant use)

    def _block(self):
        return _setting(grad_enabled=self._mode)

    def __enter__(self) -> None:
        block = self._block()
        block.__enter__()
        self._open.append(block)

    def __exit__(self, *exc) -> bool:
        return bool(self._open.pop().__exit__(*exc))

    def clone(self) -> _GradSwitch:
        return type(self)()

    def __call__(self, func: Callable) -> Callable:
        if not callable(func):
            raise TypeError(f"{type(self).__name__}: a decorator of functions, got {type(func).__name__}")
        block = self._block  # (a fresh block per call: the decorated function may run in several threads at once)
        if inspect.isgeneratorfunction(func):

            @functools.wraps(func)
            def generator(*args, **kwargs):
                gen = func(*args, **kwargs)
                try:
                    with block():
                        value = gen.send(None)
                    while True:
                        try:
                            sent = yield value
                        except GeneratorExit:
                            with block():
                                gen.close()
                            raise
                        except BaseException as exc:  # thrown in by the caller: into the body, in the mode
                            with block():
                                value = gen.throw(exc)
                        else:
                            with block():
                                value = gen.send(sent)
                except StopIteration as stop:  # the body returned
                    return stop.value

            return generator

        @functools.wraps(func)
        def wrapped(*args, **kwargs):
            with block():
                return func(*args, **kwargs)

        return wrapped


class no_grad(_GradSwitch):  # noqa: N801 - PyTorch's name
    """Ops inside record nothing: no tape, no ``requires_grad`` on results (like torch.no_grad); a context manager,
    ``@no_grad()`` or ``@no_grad`` on a function."""

    _mode = False


class enable_grad(_GradSwitch):  # noqa: N801 - PyTorch's name
    """Ops inside record on the tape again (inside ``no_grad``), like torch.enable_grad; a context manager or a
    decorator."""

    _mode = True


def is_grad_enabled() -> bool:
    return state.grad_enabled


class set_grad_enabled(_GradSwitch):  # noqa: N801 - PyTorch's name
    """PyTorch's ``set_grad_enabled(mode)``: called, it sets this thread's grad mode at once (until changed again);
    as a context manager (reusable) each block sets ``mode`` and its end restores the mode found when the object
    was made; as a decorator (``@set_grad_enabled(False)``) it leaves the mode as it was and sets ``mode`` for
    each call of the function."""

    def __new__(cls, mode: bool):
        return object.__new__(cls)

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled: mode must be True or False, got {mode!r}")
        super().__init__()
        self._mode, self._prev = mode, state.grad_enabled
        _switch(mode)

    def __enter__(self) -> None:
        _switch(self._mode)

    def __exit__(self, *exc) -> bool:
        _switch(self._prev)
        return False

    def clone(self) -> set_grad_enabled:
        return set_grad_enabled(self._mode)

    def __call__(self, func: Callable) -> Callable:
        _switch(self._prev)  # a decorator changes nothing now (PyTorch's rule)
        return super().__call__(func)


def _switch(mode: bool) -> None:
    """This thread's grad mode from now on.  While a thread has it off, :data:`active` counts that thread
    once (ops read the thread's mode instead of assuming the default); switched on again, it is let go."""
    global active
    off = not mode
    if off != state.switched_off:
        with _active_lock:
            active += 1 if off else -1
        state.switched_off = off
    state.grad_enabled = mode


class inference_mode(_GradSwitch):  # noqa: N801 - PyTorch's name
    """PyTorch's ``inference_mode(mode=True)``: here :class:`no_grad` (nothing is recorded inside); with
    ``mode=False``, :class:`enable_grad`.  A context manager, ``@inference_mode()`` or bare ``@inference_mode``."""

    def __new__(cls, mode: bool | Callable = True):
        if callable(mode):  # bare @inference_mode
            return cls()(mode)
        return object.__new__(cls)

    def __init__(self, mode: bool = True) -> None:
        super().__init__()
        self._mode = not mode

    def clone(self) -> inference_mode:
        return inference_mode(not self._mode)


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
