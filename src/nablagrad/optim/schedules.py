"""Learning-rate schedules. Robbins–Monro (lecture 000): ``μ_t → 0``, ``Σ μ_t = ∞``,
``Σ μ_t² < ∞`` — satisfied by the inverse-time schedule ``μ_t = μ_0 / (1 + γ t)``.

Each schedule states its formula once, in closed form: :meth:`LRScheduler.lr_at` gives the rate
at step ``t`` from the initial rate ``μ_0``.  ``step()`` (once per epoch, or per batch) applies
it *chained*, as PyTorch's schedules are: the optimiser's current rate ``μ`` is moved by the
formula's change from ``t − 1`` to ``t`` (with ``f(t) = lr_at(μ_0, t)`` and ``f_min`` the
schedule's floor, ``eta_min`` or 0)::

    μ ← f_min + (μ − f_min) · (f(t) − f_min) / (f(t − 1) − f_min)     (μ + f(t) − f(t − 1) at the floor)

so alone a schedule follows its closed form, and two schedules on one optimiser (or a rate
changed by hand in ``param_groups``) compose multiplicatively, as in ``torch.optim.lr_scheduler``.
``state_dict`` holds the step counter, the initial rates and the last rates; as in PyTorch,
``load_state_dict`` restores the schedule, not the optimiser's rate (load the optimiser's
``state_dict`` too to resume).  Arguments are checked as they are given, and every rate is
checked (finite, ``>= 0``) before any is written: a schedule never hands an optimiser a negative
or NaN learning rate, and a refused ``step()`` or ``load_state_dict()`` changes nothing.
"""

from __future__ import annotations

import inspect
import math
import types
import warnings
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable

from ..autodiff.jit import effect, effects_of_subclass
from ..backend.checks import is_finite, is_int, is_real
from .optimizer import HYPERPARAMETERS, Optimizer, _one_number


def _rate_like(who: str, name: str, v) -> float:
    """``v`` as a finite float ``>= 0`` (a gamma, an ``eta_min``, a saved rate), else an error naming it.  A
    one-element tensor counts as its number: torch's schedules on a tensor ``lr`` save ``base_lrs`` and
    ``_last_lr`` as 0-d tensors."""
    v = _one_number(who, name, v)
    if not is_real(v):
        raise TypeError(f"{who}: {name} must be a number, got {v!r} ({type(v).__name__})")
    if not (is_finite(v) and v >= 0):  # (an int beyond float's range is not finite)
        raise ValueError(f"{who}: {name} must be a finite number >= 0 (it would give negative or NaN rates), got {v!r}")
    return float(v)


def _per_group(who: str, name: str, values, groups: int) -> list[float]:
    """One checked rate per parameter group (``base_lrs``, ``last_lr`` of a saved state)."""
    if not isinstance(values, list | tuple) or len(values) != groups:
        raise ValueError(f"{who}: {name} must hold one rate per parameter group ({groups}), got {str(values)[:80]}")
    return [_rate_like(who, f"{name}[{i}]", v) for i, v in enumerate(values)]


def _checked_rates(rates: list[float], t: int, who: str) -> list[float]:
    """``rates`` if each is finite and ``>= 0``, else the error that names the step."""
    bad = [r for r in rates if not (math.isfinite(r) and r >= 0)]
    if bad:
        raise ValueError(f"{who}: the learning rate at step {t} would be {bad[0]} (it grows without bound, or a "
                         "setting is out of range); stop the schedule earlier, or use gamma <= 1")  # fmt: skip
    return rates


EPOCH_DEPRECATION = ("scheduler.step(epoch) is deprecated, as in PyTorch: call scheduler.step() once per step; "
                     "with an epoch the closed form of the schedule at that epoch is used")


def _epoch(who: str, epoch) -> int:
    """A step number given to ``step(epoch)``: an int ``>= 0`` (a float with a whole value counts), else an error."""
    if not is_real(epoch) or not (is_finite(epoch) and epoch >= 0 and float(epoch).is_integer()):
        raise ValueError(f"{who}: epoch must be a whole number >= 0 (the step to jump to), got {epoch!r}; "
                         "or call step() with no argument to move one step on")  # fmt: skip
    return int(epoch)


def _optimizer_of(who: str, optimizer) -> Optimizer:
    if not isinstance(getattr(optimizer, "param_groups", None), list):  # an Optimizer, or a wrapper of one
        raise TypeError(f"{who}: optimizer must be an ng.optim optimiser (e.g. ng.optim.SGD(...)), "
                        f"got {type(optimizer).__name__}")  # fmt: skip
    return optimizer


def _count(who: str, name: str, v, least: int, what: str) -> int:
    """``v`` as an int ``>= least``, else the error naming it."""
    if not is_int(v) or v < least:
        raise ValueError(f"{who}: {name} must be an int >= {least} ({what}), got {v!r}")
    return int(v)


GET_LR_WARNING = "To get the last learning rate computed by the scheduler, please use `get_last_lr()`."
"""PyTorch's warning for ``get_lr()`` called outside ``step`` (its words, so a filter written for it matches)."""


class LRScheduler:
    """Base of the schedules: a subclass gives its closed form :meth:`lr_at` (and :attr:`floor` if its
    rates approach a value other than 0); ``step``, ``get_last_lr`` and the state come from here.

    ``last_epoch=-1`` (PyTorch's argument) starts fresh: each group's ``'initial_lr'`` is set (kept if an
    earlier schedule set it) and is the schedule's ``μ_0``; the construction takes PyTorch's initial step
    to step 0, where the rate is the optimiser's (``LinearLR``, ``ConstantLR`` scale it; the schedules that
    set the rate, such as ``LambdaLR``, write ``f(0)``).  ``last_epoch=k >= 0`` resumes after step ``k``: every
    group must hold ``'initial_lr'`` (set it in the fresh optimiser's groups, then load its ``state_dict``:
    ``Optimizer.load_state_dict`` refuses a key a group lacks), and the construction counts step ``k + 1``,
    keeping the optimiser's rate, or moving it where PyTorch's does (:attr:`moves_on_resume`: ``StepLR``,
    ``MultiStepLR``, ``ConstantLR`` and the schedules that set the rate).  A subclass with its own ``step`` is not called at
    construction: its step counter starts at 0."""

    floor = 0.0  # the rate the formula approaches (CosineAnnealingLR's eta_min): the chained step scales μ − floor
    moves_on_resume = False  # PyTorch's initial step on a resume (last_epoch >= 0) keeps the rate, but StepLR's moves it
    takes_added_groups = True  # a group added to the optimiser later is scaled from its rate (not: a per-group setting)
    settings: tuple[str, ...] = ()  # the constructor's arguments that state_dict saves and load_state_dict restores

    def __init_subclass__(cls, **kwargs):
        """A subclass's own ``step`` is an effect that ``ng.jit`` repeats, as the base's is."""
        super().__init_subclass__(**kwargs)
        effects_of_subclass(cls, ("step",))

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        who = type(self).__name__
        groups = _optimizer_of(who, optimizer).param_groups
        if not is_int(last_epoch) or last_epoch < -1:
            raise ValueError(f"{who}: last_epoch must be an int >= -1 (-1 starts fresh; k >= 0 resumes after step k), "
                             f"got {last_epoch!r}")  # fmt: skip
        if last_epoch == -1:
            base_lrs = self._fresh_base_lrs(groups)
        else:
            for i, g in enumerate(groups):
                if "initial_lr" not in g:
                    raise KeyError(f"{who}: param 'initial_lr' is not specified in param_groups[{i}] when resuming with "
                                   f"last_epoch={last_epoch}; load the optimiser's state_dict saved with the schedule "
                                   "first, or pass last_epoch=-1 to start fresh")  # fmt: skip
            base_lrs = [g["initial_lr"] for g in groups]
        self.optimizer = optimizer
        self.base_lrs = _per_group(who, "initial_lr", base_lrs, len(groups))
        self.last_epoch, self._last_lr = int(last_epoch), [g["lr"] for g in groups]
        self._step_to(self.last_epoch + 1, who, resume=last_epoch >= 0)  # PyTorch's initial step (refused: nothing written)
        self._step_count = 1  # PyTorch's count of step() calls, the initial one included
        if last_epoch == -1:
            for g, base in zip(groups, self.base_lrs):
                g["initial_lr"] = base

    def _fresh_base_lrs(self, groups: list[dict]) -> list[float]:
        """``μ_0`` of each group on a fresh start: its ``'initial_lr'`` if an earlier schedule set one, else its rate."""
        return [g.get("initial_lr", g["lr"]) for g in groups]

    def lr_at(self, base_lr: float, t: int) -> float:
        """The rate at step ``t`` of a schedule that starts at ``base_lr`` (the closed form)."""
        raise NotImplementedError

    def _rate_at(self, i: int, base_lr: float, t: int) -> float:
        """Group ``i``'s closed-form rate at step ``t`` (``lr_at``; per group where the formula is, as ``LambdaLR``'s)."""
        return self.lr_at(base_lr, t)

    def rates(self, base_lrs: list[float], t: int, who: str) -> list[float]:
        """Every group's closed-form rate at step ``t``, each checked finite and ``>= 0`` before any is used."""
        try:
            rates = [float(self._rate_at(i, base, t)) for i, base in enumerate(base_lrs)]
        except (OverflowError, ZeroDivisionError):
            rates = [math.inf]
        return _checked_rates(rates, t, who)

    def _initial_rate(self, i: int, lr: float, base_lr: float) -> float:
        """Group ``i``'s rate at step 0 (PyTorch's initial step) from its current rate ``lr``: unchanged."""
        return lr

    def _next_rate(self, i: int, lr: float, base_lr: float, t: int) -> float:
        """The current rate ``lr`` moved from step ``t − 1`` to ``t`` by the closed form's change (module docstring)."""
        floor = self.floor
        ref = base_lr if base_lr != floor else floor + 1.0  # a group that starts at the floor: the formula's shape
        before, now = float(self._rate_at(i, ref, t - 1)), float(self._rate_at(i, ref, t))
        if now == before:
            return lr
        if before == floor:  # the formula leaves its floor (a cosine's restart): PyTorch adds the rise
            return lr + (now - before) * (base_lr - floor) / (ref - floor)
        return floor + (lr - floor) * ((now - floor) / (before - floor))

    def _step_to(self, t: int, who: str, restart: bool = False, resume: bool = False) -> None:
        """Move to step ``t``: every rate computed and checked, then all written (or none).  ``restart``: jump to
        step 0 from the initial rates (``SequentialLR`` at a milestone, as PyTorch's ``step(0)``); ``resume``: the
        initial step of a resume, which only counts unless :attr:`moves_on_resume`."""
        groups = self.optimizer.param_groups
        bases = self._bases(groups, who)
        try:
            closed = self.rates(bases, t, who) if t > 0 or restart else None  # a refused state is never entered
        except NotImplementedError:  # a schedule with no closed form (MultiplicativeLR)
            closed = None
        try:
            if restart and closed is not None:
                rates = closed
            elif resume and not self.moves_on_resume:
                rates = [float(g["lr"]) for g in groups]
            elif t == 0 and not restart:
                rates = [float(self._initial_rate(i, g["lr"], b)) for i, (g, b) in enumerate(zip(groups, bases))]
            else:
                rates = [float(self._next_rate(i, g["lr"], b, t)) for i, (g, b) in enumerate(zip(groups, bases))]
        except (OverflowError, ZeroDivisionError):
            rates = [math.inf]
        _checked_rates(rates, t, who)
        for g, rate, base in zip(groups, rates, bases):
            g["lr"] = rate
            g.setdefault("initial_lr", base)  # (a group added since: its record, as the others')
        self.last_epoch, self._last_lr, self.base_lrs = t, rates, bases

    def _bases(self, groups: list[dict], who: str) -> list[float]:
        """``base_lrs``, with the groups added to the optimiser since (``add_param_group``) taken in at their rate
        where the schedule only scales the rate (:attr:`takes_added_groups`: the chained ones, as PyTorch's
        ``StepLR`` goes on scaling a group added since); otherwise a group added since is refused, never left
        silently unscheduled."""
        if len(groups) == len(self.base_lrs):
            return self.base_lrs
        if len(groups) < len(self.base_lrs) or not self.takes_added_groups:
            raise ValueError(f"{who}: the optimiser has {len(groups)} parameter groups but this {type(self).__name__} was "
                             f"built for {len(self.base_lrs)} (a group added or removed since); build the schedule once "
                             "every group is added")  # fmt: skip
        added = groups[len(self.base_lrs) :]
        return [*self.base_lrs, *(_rate_like(who, "the rate of an added group", g.get("initial_lr", g["lr"])) for g in added)]

    @effect
    def step(self, epoch: int | None = None) -> None:
        """Move to the next step: every rate computed and checked, then all written (or none).

        ``step(epoch)``, deprecated in PyTorch and warned about as there, jumps to step ``epoch`` instead: each
        rate is the closed form ``lr_at(μ_0, epoch)`` (not chained), and the steps after go on from there."""
        who = f"{type(self).__name__}.step"
        if epoch is None:
            self._step_to(self.last_epoch + 1, who)
        else:
            t = _epoch(who, epoch)
            warnings.warn(EPOCH_DEPRECATION, UserWarning, stacklevel=3)  # (past the ng.jit effect wrapper)
            self._step_to(t, who, restart=True)
        self._step_count = getattr(self, "_step_count", 0) + 1

    def get_last_lr(self) -> list[float]:
        """The rates this schedule set last (the optimiser's at construction; after ``load_state_dict``, the
        saved schedule's), as PyTorch's ``get_last_lr``: a change by hand since is not seen here."""
        return list(self._last_lr)

    def get_lr(self) -> list[float]:
        """PyTorch's ``get_lr``, the rule its ``step`` applies: called by hand, PyTorch warns and points at
        :meth:`get_last_lr`, and returns the rule applied once more to the current rates (a chained schedule's
        rate moved again from step ``t − 1`` to ``t``); so does this."""
        warnings.warn(GET_LR_WARNING, UserWarning, stacklevel=2)
        try:
            groups, t, bases = self.optimizer.param_groups, self.last_epoch, self.base_lrs
            if t == 0:
                return [float(self._initial_rate(i, g["lr"], b)) for i, (g, b) in enumerate(zip(groups, bases))]
            return [float(self._next_rate(i, g["lr"], b, t)) for i, (g, b) in enumerate(zip(groups, bases))]
        except (NotImplementedError, AttributeError):  # a composite schedule, or one driven by a metric: no rule of its own
            raise NotImplementedError(f"{type(self).__name__}.get_lr: this schedule has no rule of its own to apply (as "
                                      "in PyTorch); use get_last_lr() for the rates it set") from None  # fmt: skip

    def state_dict(self) -> dict:
        """PyTorch's layout: the settings (``step_size``, ``gamma``, …), ``base_lrs``, ``last_epoch``,
        ``_step_count`` and ``_last_lr`` (with PyTorch's two internal flags, always ``False`` here, so the keys are
        the same); plain values only, so it can be written as JSON."""
        return {**{k: _plain(getattr(self, k)) for k in self.settings}, "base_lrs": list(self.base_lrs),
                "last_epoch": self.last_epoch, "_step_count": getattr(self, "_step_count", 0),
                "_is_initial": False, "_get_lr_called_within_step": False, "_last_lr": self.get_last_lr()}  # fmt: skip

    def load_state_dict(self, state: dict) -> None:
        """The saved step counter, initial and last rates and settings (each checked as the constructor checks
        it, then all applied together); the optimiser's rates are not touched, as in PyTorch: load the
        optimiser's ``state_dict`` with it to resume.  ``'last_lr'`` (the older name of ``'_last_lr'``) is read too."""
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state, dict) or not {"last_epoch", "base_lrs"} <= state.keys():
            got = sorted(state) if isinstance(state, dict) else type(state).__name__
            raise TypeError(f"{name}: expected the dict of state_dict() with 'last_epoch' and 'base_lrs', got {got}")
        epoch, groups = state["last_epoch"], len(self.optimizer.param_groups)
        if not is_int(epoch) or epoch < -1:  # -1: not started yet (a later schedule of a SequentialLR)
            raise ValueError(f"{name}: last_epoch must be an int >= -1, got {epoch!r}")
        base_lrs = _per_group(name, "base_lrs", state["base_lrs"], groups)
        lr_key = "_last_lr" if "_last_lr" in state else "last_lr"
        last_lr = state.get(lr_key)
        last_lr = None if last_lr is None else _per_group(name, lr_key, last_lr, groups)
        count = state.get("_step_count", getattr(self, "_step_count", 0))
        _count(name, "_step_count", count, 0, "the step() calls so far")
        shadow = self._with_settings(state, name)  # the saved settings, checked by a constructor on a copy
        try:  # a state the schedule cannot go on from is refused
            at_epoch = shadow.rates(base_lrs, int(epoch), name) if epoch >= 0 else [g["lr"] for g in self.optimizer.param_groups]
        except NotImplementedError:  # a schedule with its own step() and no closed form
            at_epoch = [g["lr"] for g in self.optimizer.param_groups]
        for k in self.settings:  # everything checked: applied together
            setattr(self, k, getattr(shadow, k))
        self.last_epoch, self.base_lrs, self._step_count = int(epoch), base_lrs, int(count)
        self._last_lr = at_epoch if last_lr is None else last_lr

    def _with_settings(self, state: dict, name: str) -> LRScheduler:
        """This schedule with the settings of ``state`` (those it holds): itself when they are its own, else a
        copy built by the constructor on a stand-in optimiser (so each is checked as when given), never stepped."""
        saved = {k: state[k] for k in self.settings if k in state}
        if all(_same(getattr(self, k), v) for k, v in saved.items()):
            return self
        kwargs = {**{k: getattr(self, k) for k in self.settings}, **saved}
        stand_in = types.SimpleNamespace(param_groups=[{k: v for k, v in g.items() if k != "params"}
                                                       for g in self.optimizer.param_groups],
                                         defaults=getattr(self.optimizer, "defaults", {}))  # fmt: skip
        try:
            return type(self)(stand_in, **self._constructor_args(kwargs))  # type: ignore[arg-type]
        except (TypeError, ValueError) as e:
            raise type(e)(f"{name}: a saved setting is refused: {e}") from None

    def _constructor_args(self, settings: dict) -> dict:
        """The constructor's keyword arguments from the saved settings (the same names, unless a subclass says)."""
        return settings


def _plain(v):
    """A setting as state_dict saves it: a list for a sequence (JSON-able), else the value."""
    return list(v) if isinstance(v, list | tuple) else v


def _same(a, b) -> bool:
    """Whether a saved setting equals the schedule's own (sequences compared entry by entry)."""
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return list(a) == list(b)
    return a == b


class InverseTimeLR(LRScheduler):
    """``μ_t = μ_0 / (1 + γ t)``; with γ = 1 this is the lectures' ``1/t`` schedule."""

    settings = ("gamma",)

    def __init__(self, optimizer: Optimizer, gamma: float = 1.0, last_epoch: int = -1):
        self.gamma = _rate_like("InverseTimeLR", "gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        return base_lr / (1 + self.gamma * t)


class StepLR(LRScheduler):
    """``μ_t = μ_0 · γ^{⌊t / step_size⌋}``."""

    moves_on_resume = True
    settings = ("step_size", "gamma")

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        if not is_int(step_size) or step_size < 1:
            raise ValueError(f"StepLR: step_size must be an int >= 1 (steps between decays), got {step_size!r}")
        self.step_size, self.gamma = int(step_size), _rate_like("StepLR", "gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        return base_lr * self.gamma ** (t // self.step_size)


class MultiStepLR(LRScheduler):
    """``μ_t = μ_0 · γ^{#milestones ≤ t}`` (a milestone given twice decays twice, as in PyTorch)."""

    moves_on_resume = True
    settings = ("milestones", "gamma")

    def __init__(self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1, last_epoch: int = -1):
        if isinstance(milestones, str | bytes) or not isinstance(milestones, Iterable):
            raise TypeError(f"MultiStepLR: milestones must be a list of steps, e.g. [30, 80], got {milestones!r}")
        steps = list(milestones)
        if not all(is_int(m) and m >= 0 for m in steps):
            raise ValueError(f"MultiStepLR: milestones must be ints >= 0 (the steps at which to decay), got {steps!r}")
        self.milestones = sorted(int(m) for m in steps)
        self.gamma = _rate_like("MultiStepLR", "gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        return base_lr * self.gamma ** bisect_right(self.milestones, t)

    def state_dict(self) -> dict:
        """The base's entries, with ``milestones`` as PyTorch keeps them: a ``Counter`` step -> times (a milestone
        given twice counts 2), the form torch's ``MultiStepLR.load_state_dict`` needs (it indexes it by step)."""
        return {**super().state_dict(), "milestones": Counter(self.milestones)}

    def load_state_dict(self, state: dict) -> None:
        """The base's, reading ``milestones`` as a list of steps or as PyTorch's ``Counter`` (also through JSON,
        whose keys are strings), each step counted as often as it was given."""
        saved = state.get("milestones") if isinstance(state, dict) else None
        if isinstance(saved, dict):
            state = {**state, "milestones": _counted_steps("MultiStepLR.load_state_dict", saved)}
        super().load_state_dict(state)


def _counted_steps(who: str, counts: dict) -> list[int]:
    """The sorted steps of a ``Counter`` step -> times (keys ints, or their decimal strings as JSON writes them)."""
    steps = []
    for step, times in counts.items():
        k = int(step) if isinstance(step, str) and step.strip().isdigit() else step
        if not (is_int(k) and k >= 0 and is_int(times) and times >= 0):
            raise ValueError(f"{who}: milestones must map steps (ints >= 0) to how often each is given (ints >= 0), "
                             f"got {counts!r}")  # fmt: skip
        steps += [int(k)] * int(times)
    return sorted(steps)


class ExponentialLR(LRScheduler):
    """``μ_t = μ_0 · γ^t``."""

    settings = ("gamma",)

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1):
        self.gamma = _rate_like("ExponentialLR", "gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        return base_lr * self.gamma**t


class CosineAnnealingLR(LRScheduler):
    """``μ_t = μ_min + ½(μ_0 − μ_min)(1 + cos(π t / T))``."""

    settings = ("T_max", "eta_min")

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1):
        if not is_real(T_max) or not 0 < T_max < math.inf:
            raise ValueError(f"CosineAnnealingLR: T_max must be a number > 0 (steps of a half cosine), finite, got {T_max!r}")
        self.T_max, self.eta_min = T_max, _rate_like("CosineAnnealingLR", "eta_min", eta_min)
        super().__init__(optimizer, last_epoch)

    @property
    def floor(self) -> float:
        return self.eta_min

    def lr_at(self, base_lr, t):
        return self.eta_min + 0.5 * (base_lr - self.eta_min) * (1 + math.cos(math.pi * t / self.T_max))


class PolynomialLR(LRScheduler):
    """``μ_t = μ_0 · (1 − min(t, T) / T)^p`` with ``T = total_iters``, ``p = power``: 0 from step ``T`` on."""

    settings = ("total_iters", "power")

    def __init__(self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0, last_epoch: int = -1):
        self.total_iters = _count("PolynomialLR", "total_iters", total_iters, 1, "the steps of the decay to 0")
        self.power = _rate_like("PolynomialLR", "power", power)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        return base_lr * (1 - min(t, self.total_iters) / self.total_iters) ** self.power


def _factor(who: str, name: str, v, low: float, low_open: bool) -> float:
    """A multiplicative factor in ``(low, 1]`` or ``[low, 1]``, else PyTorch's ValueError, naming it."""
    if not is_real(v):
        raise TypeError(f"{who}: {name} must be a number, got {v!r} ({type(v).__name__})")
    if not (low < v <= 1 if low_open else low <= v <= 1):
        span = f"({low}, 1]" if low_open else f"[{low}, 1]"
        raise ValueError(f"{who}: {name} must be a multiplicative factor in {span}, got {v!r}")
    return float(v)


class LinearLR(LRScheduler):
    """``μ_t = μ_0 · (s + (e − s) · min(t, T) / T)`` with ``s = start_factor``, ``e = end_factor``,
    ``T = total_iters`` (a linear warm-up by default: from ``μ_0 / 3`` to ``μ_0`` in 5 steps)."""

    settings = ("start_factor", "end_factor", "total_iters")

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1):  # fmt: skip
        self.start_factor = _factor("LinearLR", "start_factor", start_factor, 0.0, low_open=True)
        self.end_factor = _factor("LinearLR", "end_factor", end_factor, 0.0, low_open=False)
        self.total_iters = _count("LinearLR", "total_iters", total_iters, 0, "the steps of the ramp")
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        done = min(t, self.total_iters) / self.total_iters if self.total_iters else 1.0
        return base_lr * (self.start_factor + (self.end_factor - self.start_factor) * done)

    def _initial_rate(self, i, lr, base_lr):
        return lr * self.start_factor


class ConstantLR(LRScheduler):
    """``μ_t = μ_0 · factor`` for ``t < total_iters``, then ``μ_0``."""

    moves_on_resume = True
    settings = ("factor", "total_iters")

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5, last_epoch: int = -1):
        self.factor = _factor("ConstantLR", "factor", factor, 0.0, low_open=False)
        self.total_iters = _count("ConstantLR", "total_iters", total_iters, 0, "the steps at the lowered rate")
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        return base_lr * (self.factor if t < self.total_iters else 1.0)

    def _initial_rate(self, i, lr, base_lr):
        return lr * self.factor


def _lambdas(who: str, lr_lambda, groups: int) -> list[Callable[[int], float]]:
    """One function per group: ``lr_lambda`` for each, or a list of ``groups`` of them."""
    fns = list(lr_lambda) if isinstance(lr_lambda, list | tuple) else [lr_lambda] * groups
    if len(fns) != groups:
        raise ValueError(f"{who}: expected {groups} lr_lambdas (one per parameter group), but got {len(fns)}")
    for fn in fns:
        if not callable(fn):
            raise TypeError(f"{who}: lr_lambda should be a function of the step, e.g. lambda t: 0.95 ** t, "
                            f"got {type(fn).__name__}")  # fmt: skip
    return fns


class _Lambdas:
    """``state_dict`` of a schedule made of functions: as PyTorch's, a plain function is not saved (``None``);
    a callable object saves its ``__dict__``, which ``load_state_dict`` puts back."""

    lr_lambdas: list[Callable[[int], float]]
    takes_added_groups = False  # one function per group, given at construction

    def state_dict(self) -> dict:
        saved = [None if isinstance(fn, types.FunctionType) else dict(getattr(fn, "__dict__", {})) for fn in self.lr_lambdas]
        return {**super().state_dict(), "lr_lambdas": saved}  # type: ignore[misc]

    def load_state_dict(self, state: dict) -> None:
        saved = state.get("lr_lambdas") if isinstance(state, dict) else None
        name = f"{type(self).__name__}.load_state_dict"
        if saved is not None and (not isinstance(saved, list | tuple) or len(saved) != len(self.lr_lambdas)
                                  or not all(s is None or isinstance(s, dict) for s in saved)):  # fmt: skip
            raise ValueError(f"{name}: lr_lambdas must hold one entry (None or a dict) per parameter group, got {saved!r}")
        super().load_state_dict(state)  # type: ignore[misc]
        for fn, entry in zip(self.lr_lambdas, saved or ()):
            if entry is not None:
                fn.__dict__.update(entry)


class _SetsRate(LRScheduler):
    """A schedule that *sets* the rate from its closed form at each step (PyTorch's ``LambdaLR``,
    ``CosineAnnealingWarmRestarts``, ``OneCycleLR``): ``μ ← f(t)``, not chained; a rate changed by hand, or
    another schedule's change, lasts until the next step."""

    moves_on_resume = True
    takes_added_groups = False  # (PyTorch's refuse one too: a rate set from per-group settings)

    def _initial_rate(self, i, lr, base_lr):
        return self._rate_at(i, base_lr, 0)

    def _next_rate(self, i, lr, base_lr, t):
        return self._rate_at(i, base_lr, t)


class LambdaLR(_Lambdas, _SetsRate):
    """``μ_t = μ_0 · λ(t)``, with ``lr_lambda`` one function or a list of one per group (set, not chained)."""

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
                 last_epoch: int = -1):  # fmt: skip
        self.lr_lambdas = _lambdas("LambdaLR", lr_lambda, len(_optimizer_of("LambdaLR", optimizer).param_groups))
        super().__init__(optimizer, last_epoch)

    def _rate_at(self, i, base_lr, t):
        return base_lr * self.lr_lambdas[i](t)


class MultiplicativeLR(_Lambdas, LRScheduler):
    """``μ_t = μ_{t−1} · λ(t)`` for ``t >= 1`` (chained; no closed form)."""

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
                 last_epoch: int = -1):  # fmt: skip
        self.lr_lambdas = _lambdas("MultiplicativeLR", lr_lambda, len(_optimizer_of("MultiplicativeLR", optimizer).param_groups))
        super().__init__(optimizer, last_epoch)

    def _next_rate(self, i, lr, base_lr, t):
        return lr * self.lr_lambdas[i](t)


class CosineAnnealingWarmRestarts(_SetsRate):
    """SGDR: ``μ_t = μ_min + ½(μ_0 − μ_min)(1 + cos(π T_cur / T_i))``, ``T_cur`` the steps since the last restart,
    ``T_i`` the current period (``T_0``, then ``T_mult`` times longer after each restart).

    As PyTorch's, ``step(epoch)`` takes a fractional epoch (``scheduler.step(epoch + i / iters)`` once per batch):
    the rate is the formula at ``epoch``, ``last_epoch`` becomes ``⌊epoch⌋`` and a later ``step()`` moves on by 1
    from ``epoch``, fraction kept (``T_cur`` is ``epoch``'s, so ``state_dict`` keeps the fraction too).

    With ``T_mult > 1`` the periods are counted exactly (``T_cur``, ``T_i`` of step ``t``), where PyTorch 2.13 differs
    in two corners: a resume with ``last_epoch=k`` takes ``(k + 1) mod T_0`` as ``T_cur`` (not where the uninterrupted
    run is), and ``step(epoch)`` finds the period with a floating-point logarithm (off by one at some restarts)."""

    settings = ("T_0", "T_mult", "eta_min")

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0, last_epoch: int = -1):
        who = "CosineAnnealingWarmRestarts"
        self.T_0 = _count(who, "T_0", T_0, 1, "the steps of the first period")
        self.T_mult = _count(who, "T_mult", T_mult, 1, "the factor by which each period grows")
        self.eta_min = _rate_like(who, "eta_min", eta_min)
        self._fraction = 0.0  # the part of the epoch past last_epoch that step(epoch) was given (in [0, 1))
        super().__init__(optimizer, last_epoch)

    def _period(self, t: float) -> tuple[float, int]:
        """``(T_cur, T_i)`` at (fractional) epoch ``t``: the epochs since the last restart and the current period."""
        t_cur, t_i = (t % self.T_0, self.T_0) if self.T_mult == 1 else (t, self.T_0)
        while t_cur >= t_i:  # T_mult > 1: whole periods (restarts fall on whole epochs: exact, no logarithm)
            t_cur, t_i = t_cur - t_i, t_i * self.T_mult
        return t_cur, t_i

    def _at(self, t: int) -> float:
        """Step ``t`` with the fraction kept from ``step(epoch)`` (an int, as PyTorch's ``T_cur``, when there is none)."""
        return t + self._fraction if self._fraction else t

    @property
    def T_cur(self) -> float:
        return self._period(self._at(max(self.last_epoch, 0)))[0]

    @property
    def T_i(self) -> int:
        return self._period(self._at(max(self.last_epoch, 0)))[1]

    def lr_at(self, base_lr, t):
        t_cur, t_i = self._period(self._at(t))
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * t_cur / t_i)) / 2

    def step(self, epoch: float | None = None) -> None:
        """The next step, or (``epoch`` given, PyTorch's form, not deprecated here) the rate at that fractional epoch."""
        if epoch is None:
            super().step()
            return
        who = "CosineAnnealingWarmRestarts.step"
        if not is_real(epoch) or not (math.isfinite(epoch) and epoch >= 0):
            raise ValueError(f"{who}: expected a non-negative epoch (a number, e.g. epoch + i / iters), got {epoch!r}")
        whole, before = math.floor(epoch), self._fraction
        self._fraction = float(epoch) - whole
        try:
            self._step_to(whole, who, restart=True)
        except BaseException:
            self._fraction = before  # a refused step changes nothing
            raise
        self._step_count = getattr(self, "_step_count", 0) + 1

    def state_dict(self) -> dict:
        """PyTorch's keys, with its ``T_i`` and ``T_cur`` (``T_cur`` carries a fractional epoch's fraction)."""
        return {**super().state_dict(), "T_i": self.T_i, "T_cur": self.T_cur}

    def load_state_dict(self, state: dict) -> None:
        """The base's state; then the fraction of a fractional epoch, read from the saved ``T_cur`` where that lies
        within one epoch past ``last_epoch``'s (``T_i`` and the whole epochs follow from ``last_epoch``)."""
        super().load_state_dict(state)
        saved, here = state.get("T_cur"), self._period(max(self.last_epoch, 0))[0]
        fraction = float(saved) - here if is_real(saved) and math.isfinite(saved) else 0.0
        self._fraction = fraction if 0.0 <= fraction < 1.0 else 0.0


class _CyclesMomentum(_SetsRate):
    """A schedule that also sets each group's momentum (``cycle_momentum``: ``OneCycleLR``, ``CyclicLR``): the
    subclass gives :meth:`momentum_at` and ``momentum_key`` (``'momentum'``, ``'betas'`` — its first entry — or
    None for the rate only)."""

    momentum_key: str | None = None

    def momentum_at(self, i: int, t: int) -> float:
        """Group ``i``'s momentum at step ``t``."""
        raise NotImplementedError

    def _step_to(self, t, who, restart=False, resume=False):
        """The momenta of step ``t`` (each checked by the optimiser's rule), then the rates (checked, then
        written, as every schedule's), then the momenta: a refused step writes nothing."""
        self._bases(self.optimizer.param_groups, who)  # a group added since is refused before its momentum is sought
        momenta = {}
        if self.momentum_key is not None:
            rule, what = HYPERPARAMETERS[self.momentum_key]
            for i, g in enumerate(self.optimizer.param_groups):
                m = self.momentum_at(i, t)
                momenta[i] = m if self.momentum_key == "momentum" else (m, *g["betas"][1:])
                if not rule(momenta[i]):
                    raise ValueError(f"{who}: the momentum at step {t} would be {m!r} for group {i} ({self.momentum_key} "
                                     f"must be {what}); check its 'max_momentum' and 'base_momentum'")  # fmt: skip
        super()._step_to(t, who, restart=restart, resume=resume)
        for i, m in momenta.items():
            self.optimizer.param_groups[i][self.momentum_key] = m


class OneCycleLR(_CyclesMomentum):
    """The 1cycle policy (Smith & Topin): from ``max_lr / div_factor`` up to ``max_lr`` in the first
    ``pct_start`` of ``total_steps``, then down to ``max_lr / (div_factor · final_div_factor)`` (``three_phase``:
    back to the start, then down), each phase annealed by ``anneal_strategy``: ``'cos'``,
    ``b + ½(a − b)(1 + cos(π p))``, or ``'linear'``, ``a + (b − a) p`` with ``p`` the phase's fraction done.
    Sets each group's ``'initial_lr'`` to ``max_lr / div_factor``, as PyTorch does.

    ``cycle_momentum`` (True by default, as PyTorch's) cycles the momentum inversely to the rate, by the same
    phases and annealing: ``max_momentum`` where the rate is lowest at the start, ``base_momentum`` at ``max_lr``,
    back to ``max_momentum`` at the end (``three_phase``: held there in the third phase).  It writes each
    group's ``'momentum'`` (SGD, RMSprop) or ``betas[0]`` (the Adam family; the latter where the optimiser
    has both, as in PyTorch); an optimiser with neither is refused, as PyTorch refuses it.  The momenta are settings, as
    ``max_lr`` is: ``state_dict`` holds the step counter and the rates, and the optimiser's ``state_dict``
    its current momentum."""

    def __init__(self, optimizer: Optimizer, max_lr: float | list[float], total_steps: int | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", cycle_momentum: bool = True,
                 base_momentum: float | list[float] = 0.85, max_momentum: float | list[float] = 0.95,
                 div_factor: float = 25.0, final_div_factor: float = 1e4, three_phase: bool = False,
                 last_epoch: int = -1):  # fmt: skip
        who = "OneCycleLR"
        groups = _optimizer_of(who, optimizer).param_groups
        if total_steps is not None:
            self.total_steps = _count(who, "total_steps", total_steps, 1, "the steps of the whole cycle")
        elif epochs is not None and steps_per_epoch is not None:
            epochs = _count(who, "epochs", epochs, 1, "the epochs of the cycle")
            self.total_steps = epochs * _count(who, "steps_per_epoch", steps_per_epoch, 1, "the steps in an epoch")
        else:
            raise ValueError(f"{who}: give total_steps, or epochs and steps_per_epoch (total_steps = their product)")
        if not is_real(pct_start) or not 0 <= pct_start <= 1:
            raise ValueError(f"{who}: pct_start must be a number in [0, 1] (the rising part of the cycle), got {pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"{who}: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        for name, v in (("div_factor", div_factor), ("final_div_factor", final_div_factor)):
            if _rate_like(who, name, v) == 0:
                raise ValueError(f"{who}: {name} must be > 0 (it divides max_lr), got {v!r}")
        maxes = _each(who, "max_lr", max_lr, len(groups))
        self.max_lrs = [_rate_like(who, f"max_lr[{i}]", v) for i, v in enumerate(maxes)]
        self.cycle_momentum = bool(cycle_momentum)
        self.momentum_key: str | None = None  # 'momentum' or 'betas' (whose first entry is cycled)
        self.base_momentums: list[float] = []
        self.max_momentums: list[float] = []
        if self.cycle_momentum:
            self.momentum_key, self.base_momentums, self.max_momentums = _momenta(
                who, optimizer, base_momentum, max_momentum)
        self.div_factor, self.final_div_factor = float(div_factor), float(final_div_factor)
        self.anneal_strategy, self.three_phase = anneal_strategy, bool(three_phase)
        up, T = float(pct_start * self.total_steps) - 1, self.total_steps - 1
        self._phases = ([(up, "initial", "max"), (2 * up, "max", "initial"), (T, "initial", "min")] if self.three_phase
                        else [(up, "initial", "max"), (T, "max", "min")])  # fmt: skip  # (end step, from, to)
        self._read_groups = last_epoch != -1  # a fresh cycle ignores another one's record until it writes its own
        super().__init__(optimizer, last_epoch)
        if last_epoch == -1:  # PyTorch's record of the cycle in each group; the steps read it from there
            for i, g in enumerate(optimizer.param_groups):
                g["max_lr"], g["min_lr"] = self.max_lrs[i], self.base_lrs[i] / self.final_div_factor
                if self.cycle_momentum:
                    g["max_momentum"], g["base_momentum"] = self.max_momentums[i], self.base_momentums[i]
            self._read_groups = True

    def _fresh_base_lrs(self, groups):
        return [m / self.div_factor for m in self.max_lrs]

    def _cycle(self, t: int, ends: dict[str, float]) -> float:
        """The value at step ``t`` of the cycle through ``ends`` (``'initial'``, ``'max'``, ``'min'``: the rate's
        landmarks), annealed within each phase (class docstring)."""
        if t > self.total_steps:
            raise ValueError(f"OneCycleLR: tried to step {t} times; the specified number of total steps is "
                             f"{self.total_steps} (make total_steps larger, or stop stepping)")  # fmt: skip
        start = 0.0
        for k, (end, a, b) in enumerate(self._phases):
            if t <= end or k == len(self._phases) - 1:
                p = (t - start) / (end - start)
                if self.anneal_strategy == "linear":
                    return ends[a] + (ends[b] - ends[a]) * p
                return ends[b] + (ends[a] - ends[b]) / 2 * (math.cos(math.pi * p) + 1)
            start = end
        raise AssertionError("unreachable")

    def _group(self, i: int) -> dict:
        """Group ``i`` (its ``'max_lr'``, ``'min_lr'``, momenta), or none before a fresh construction writes them."""
        return self.optimizer.param_groups[i] if self._read_groups else {}

    def lr_at(self, base_lr, t):
        return self._cycle(t, {"initial": base_lr, "max": base_lr * self.div_factor, "min": base_lr / self.final_div_factor})

    def _rate_at(self, i, base_lr, t):
        """As PyTorch's: the landmarks ``'max_lr'`` and ``'min_lr'`` of group ``i`` (a change there is followed)."""
        g = self._group(i)
        ends = {"initial": base_lr, "max": g.get("max_lr", base_lr * self.div_factor),
                "min": g.get("min_lr", base_lr / self.final_div_factor)}  # fmt: skip
        return self._cycle(t, ends)

    def momentum_at(self, i: int, t: int) -> float:
        """Group ``i``'s momentum at step ``t``: high where the rate is low (``'initial'``, ``'min'``), low at ``max_lr``
        (the ends are the group's ``'max_momentum'`` and ``'base_momentum'``, as PyTorch reads them)."""
        g = self._group(i)
        high, low = g.get("max_momentum", self.max_momentums[i]), g.get("base_momentum", self.base_momentums[i])
        return self._cycle(t, {"initial": high, "max": low, "min": high})

    def state_dict(self) -> dict:
        """PyTorch's layout: ``total_steps``, the phases, the annealing, ``cycle_momentum``, ``use_beta1`` and the
        common entries; the landmarks (``'max_lr'``, …) are in the optimiser's groups, as in PyTorch."""
        lr = {"initial": "initial_lr", "max": "max_lr", "min": "min_lr"}
        mom = {"initial": "max_momentum", "max": "base_momentum", "min": "max_momentum"}
        phases = [{"end_step": end, "start_lr": lr[a], "end_lr": lr[b], "start_momentum": mom[a], "end_momentum": mom[b]}
                  for end, a, b in self._phases]  # fmt: skip
        return {"total_steps": self.total_steps, "_schedule_phases": phases, "_anneal_func_type": self.anneal_strategy,
                "cycle_momentum": self.cycle_momentum, "use_beta1": self.momentum_key == "betas",
                **super().state_dict()}  # fmt: skip

    def _with_settings(self, state, name):
        """The cycle is the constructor's: a state saved from another cycle is refused, naming the setting."""
        mine = self.state_dict()
        for k in ("total_steps", "_schedule_phases", "_anneal_func_type", "cycle_momentum"):
            if k in state and state[k] != mine[k]:
                raise ValueError(f"{name}: the state was saved from a cycle with {k}={state[k]!r}, this one has "
                                 f"{mine[k]!r}; build OneCycleLR with the saved run's arguments, then load it")  # fmt: skip
        return self


def _each(who: str, name: str, v, groups: int) -> list:
    """``v`` for each of ``groups`` parameter groups: a list or tuple of one per group, or one value for all."""
    values = list(v) if isinstance(v, list | tuple) else [v] * groups
    if len(values) != groups:
        raise ValueError(f"{who}: expected {groups} values for {name} (one per parameter group), got {len(values)}")
    return values


def _momenta(who: str, optimizer: Optimizer, base_momentum, max_momentum) -> tuple[str, list[float], list[float]]:
    """The key that ``cycle_momentum`` writes (``'momentum'`` or ``'betas'``, as PyTorch chooses: by the optimiser's
    defaults) and each group's ``base_momentum`` and ``max_momentum``, both ends checked by the optimiser's own
    rule for that key (so every momentum of the cycle, which lies between them, is one it accepts)."""
    defaults = getattr(optimizer, "defaults", {})
    key = "betas" if "betas" in defaults else "momentum" if "momentum" in defaults else None
    if key is None:
        raise ValueError(f"{who}: cycle_momentum=True cycles the optimiser's momentum or betas[0], but "
                         f"{type(optimizer).__name__} has neither; pass cycle_momentum=False to cycle the rate only")  # fmt: skip
    groups = optimizer.param_groups
    given = (("base_momentum", base_momentum), ("max_momentum", max_momentum))
    ends = {name: _each(who, name, v, len(groups)) for name, v in given}
    rule, what = HYPERPARAMETERS[key]
    for name, values in ends.items():
        for i, (m, g) in enumerate(zip(values, groups)):
            value = m if key == "momentum" else (m, *g["betas"][1:])
            if not is_real(m) or not rule(value):
                shown = "momentum" if key == "momentum" else "betas[0]"
                raise ValueError(f"{who}: {name}[{i}] = {m!r} would set {type(optimizer).__name__}'s {shown} out of range "
                                 f"({key} must be {what})")  # fmt: skip
    return key, [float(m) for m in ends["base_momentum"]], [float(m) for m in ends["max_momentum"]]


class SequentialLR(LRScheduler):
    """``schedulers[k]`` runs between ``milestones[k − 1]`` and ``milestones[k]``; at a milestone the next one
    restarts at its step 0 from the initial rates (as PyTorch's ``step(0)``).  Construction resets the
    rates to ``'initial_lr'`` and re-takes only the first schedule's initial step, as PyTorch does."""

    def __init__(self, optimizer: Optimizer, schedulers: list[LRScheduler], milestones: list[int], last_epoch: int = -1):
        who = "SequentialLR"
        _optimizer_of(who, optimizer)
        if not isinstance(schedulers, list | tuple) or not schedulers:
            raise ValueError(f"{who} expects at least one scheduler, but got {schedulers!r}")
        for k, s in enumerate(schedulers):
            if not isinstance(s, LRScheduler) or isinstance(s, ReduceLROnPlateau | SequentialLR | ChainedScheduler):
                raise ValueError(f"{who}: schedulers[{k}] must be a schedule stepped without arguments (not "
                                 f"ReduceLROnPlateau, SequentialLR or ChainedScheduler), got {type(s).__name__}")  # fmt: skip
            if s.optimizer is not optimizer:
                raise ValueError(f"{who} expects all schedulers to belong to the same optimizer, but schedulers[{k}] "
                                 f"({type(s).__name__}) has another one")  # fmt: skip
        if isinstance(milestones, str | bytes) or not isinstance(milestones, Iterable):
            raise TypeError(f"{who}: milestones must be a list of steps, e.g. [5], got {milestones!r}")
        steps = list(milestones)
        if len(steps) != len(schedulers) - 1:
            raise ValueError(f"{who} expects one milestone fewer than schedulers, but got {len(schedulers)} schedulers "
                             f"and {len(steps)} milestones")  # fmt: skip
        if not all(is_int(m) and m >= 0 for m in steps) or steps != sorted(steps):
            raise ValueError(f"{who}: milestones must be increasing ints >= 0, got {steps!r}")
        if last_epoch != -1:
            raise ValueError(f"{who}: only last_epoch=-1 is supported; to resume, build it fresh and load_state_dict")
        groups = optimizer.param_groups
        if any("initial_lr" not in g for g in groups):
            raise KeyError(f"{who}: param 'initial_lr' is not specified in the param_groups; build its schedulers first")
        self.optimizer, self.schedulers, self.milestones = optimizer, list(schedulers), [int(m) for m in steps]
        self.base_lrs = [g["initial_lr"] for g in groups]
        for g in groups:  # reset, undo every schedule's initial step, then take only the first's
            g["lr"] = g["initial_lr"]
        for s in self.schedulers:
            s.last_epoch -= 1
        first = self.schedulers[bisect_right(self.milestones, 0)]
        first._step_to(first.last_epoch + 1, f"{who}.__init__")
        self.last_epoch, self._last_lr = 0, first.get_last_lr()

    def step(self) -> None:
        t = self.last_epoch + 1
        k = bisect_right(self.milestones, t)
        s = self.schedulers[k]
        if k > 0 and self.milestones[k - 1] == t:
            s._step_to(0, f"{type(s).__name__}.step (SequentialLR restart)", restart=True)
        else:
            s.step()
        self.last_epoch, self._last_lr = t, s.get_last_lr()

    def state_dict(self) -> dict:
        """PyTorch's layout: ``_milestones``, ``last_epoch``, ``_last_lr`` and ``_schedulers`` (each one's state)."""
        return {"_milestones": list(self.milestones), "last_epoch": self.last_epoch, "_last_lr": self.get_last_lr(),
                "_schedulers": [s.state_dict() for s in self.schedulers]}  # fmt: skip

    def load_state_dict(self, state: dict) -> None:
        """The step counter, the last rates and every schedule's state (all or nothing); the milestones are the
        constructor's (a state saved with others is refused).  The older keys without ``_`` are read too."""
        name = "SequentialLR.load_state_dict"
        key = "_schedulers" if isinstance(state, dict) and "_schedulers" in state else "schedulers"
        if not isinstance(state, dict) or not {"last_epoch", key} <= state.keys():
            raise TypeError(f"{name}: expected the dict of state_dict() with 'last_epoch' and '_schedulers'")
        epoch = state["last_epoch"]
        if not is_int(epoch) or epoch < 0:
            raise ValueError(f"{name}: last_epoch must be an int >= 0, got {epoch!r}")
        milestones = state.get("_milestones", self.milestones)
        if not isinstance(milestones, list | tuple) or list(milestones) != self.milestones:
            raise ValueError(f"{name}: the state was saved with milestones {milestones!r}, this SequentialLR has "
                             f"{self.milestones}; build it with the saved milestones, then load it")  # fmt: skip
        lr_key = "_last_lr" if "_last_lr" in state else "last_lr"
        last_lr = _per_group(name, lr_key, state.get(lr_key, self._last_lr), len(self.optimizer.param_groups))
        _load_all(name, self.schedulers, state[key])
        self.last_epoch, self._last_lr = int(epoch), last_lr


def _load_all(name: str, schedulers: list[LRScheduler], saved) -> None:
    """Each schedule's saved state, all or nothing: a refused one puts back those already loaded."""
    if not isinstance(saved, list | tuple) or len(saved) != len(schedulers):
        raise ValueError(f"{name}: expected {len(schedulers)} scheduler states, got {str(saved)[:80]}")
    before = [s.state_dict() for s in schedulers]
    try:
        for s, st in zip(schedulers, saved):
            s.load_state_dict(st)
    except Exception:
        for s, st in zip(schedulers, before):
            s.load_state_dict(st)
        raise


class ChainedScheduler(LRScheduler):
    """Several schedules on one optimiser stepped together: ``step()`` steps each in turn, so their changes compose
    (multiplicatively, for the chained ones), as PyTorch's ``ChainedScheduler``; ``optimizer`` defaults to theirs."""

    def __init__(self, schedulers: list[LRScheduler], optimizer: Optimizer | None = None):
        who = "ChainedScheduler"
        if not isinstance(schedulers, list | tuple) or not schedulers:
            raise ValueError(f"{who} expects at least one scheduler to be chained, but got {schedulers!r}")
        if not isinstance(schedulers[0], LRScheduler):
            raise TypeError(f"{who}: schedulers[0] must be a schedule, got {type(schedulers[0]).__name__}")
        optimizer = _optimizer_of(who, optimizer if optimizer is not None else schedulers[0].optimizer)
        for k, s in enumerate(schedulers):
            if not isinstance(s, LRScheduler):
                raise TypeError(f"{who}: schedulers[{k}] must be a schedule, got {type(s).__name__}")
            if isinstance(s, ReduceLROnPlateau):
                raise ValueError(f"{who} does not support ReduceLROnPlateau (its step() needs the metric), but "
                                 f"schedulers[{k}] is one; step it yourself after the chain")  # fmt: skip
            if s.optimizer is not optimizer:
                raise ValueError(f"{who} expects all schedulers to belong to the same optimizer, but schedulers[{k}] "
                                 f"({type(s).__name__}) has another one")  # fmt: skip
        self.optimizer, self.schedulers = optimizer, list(schedulers)
        self._last_lr = [g["lr"] for g in optimizer.param_groups]

    def step(self) -> None:
        """Every schedule's step, all or nothing: one that raises puts back the schedules stepped before it and
        the optimiser's groups (rates, momenta), then re-raises."""
        before = [s.state_dict() for s in self.schedulers]
        groups = [dict(g) for g in self.optimizer.param_groups]
        try:
            for s in self.schedulers:
                s.step()
        except Exception:
            for s, saved in zip(self.schedulers, before):
                s.load_state_dict(saved)
            for g, saved in zip(self.optimizer.param_groups, groups):
                g.update({k: v for k, v in saved.items() if k != "params"})
            raise
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def state_dict(self) -> dict:
        """PyTorch's layout: ``_last_lr`` and ``_schedulers`` (each one's state)."""
        return {"_last_lr": self.get_last_lr(), "_schedulers": [s.state_dict() for s in self.schedulers]}

    def load_state_dict(self, state: dict) -> None:
        """Every schedule's state and the last rates, all or nothing."""
        name = "ChainedScheduler.load_state_dict"
        if not isinstance(state, dict) or "_schedulers" not in state:
            raise TypeError(f"{name}: expected the dict of state_dict() with '_schedulers'")
        last_lr = _per_group(name, "_last_lr", state.get("_last_lr", self._last_lr), len(self.optimizer.param_groups))
        _load_all(name, self.schedulers, state["_schedulers"])
        self._last_lr = last_lr


class ReduceLROnPlateau(LRScheduler):
    """Multiply every rate by ``factor`` (not below ``min_lr``) when the metric given to ``step(metric)`` has not
    improved for more than ``patience`` steps; improved means ``a < best·(1 − threshold)`` (``'rel'``) or
    ``a < best − threshold`` (``'abs'``) in ``mode='min'``, the mirror in ``'max'``; after a reduction
    ``cooldown`` steps are not counted.  A change smaller than ``eps`` is skipped, as in PyTorch."""

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0,
                 min_lr: float | list[float] = 0.0, eps: float = 1e-8):  # fmt: skip
        who = "ReduceLROnPlateau"
        groups = len(_optimizer_of(who, optimizer).param_groups)
        if not is_real(factor) or not 0 <= factor < 1:
            raise ValueError(f"{who}: factor must be in [0, 1) (each reduction multiplies the rate by it), got {factor!r}")
        if mode not in ("min", "max"):
            raise ValueError(f"{who}: mode must be 'min' (a loss) or 'max' (an accuracy), got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"{who}: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        self.patience = _count(who, "patience", patience, 0, "steps without improvement before a reduction")
        self.cooldown = _count(who, "cooldown", cooldown, 0, "steps not counted after a reduction")
        self.threshold, self.eps = _rate_like(who, "threshold", threshold), _rate_like(who, "eps", eps)
        scalar = not isinstance(min_lr, list | tuple)
        self.min_lrs = _per_group(who, "min_lr", [min_lr] * groups if scalar else list(min_lr), groups)
        self.default_min_lr = _rate_like(who, "min_lr", min_lr) if scalar else None  # PyTorch's record of a scalar min_lr
        self.optimizer, self.mode, self.threshold_mode, self.factor = optimizer, mode, threshold_mode, float(factor)
        self.last_epoch, self._last_lr = 0, [g["lr"] for g in optimizer.param_groups]
        self.best, self.num_bad_epochs, self.cooldown_counter = (math.inf if mode == "min" else -math.inf), 0, 0

    def _is_better(self, a: float) -> bool:
        sign = 1.0 if self.mode == "min" else -1.0
        if self.threshold_mode == "rel":
            return sign * a < sign * self.best * (1 - sign * self.threshold)
        return sign * a < sign * self.best - self.threshold

    def step(self, metrics: float | None = None, epoch: int | None = None) -> None:  # type: ignore[override]
        """One step with the monitored value (``val_loss``, an accuracy): rates written only if all are valid.
        ``epoch`` (deprecated in PyTorch, warned about as there) sets ``last_epoch`` instead of counting on."""
        who = "ReduceLROnPlateau.step"
        if metrics is None:
            raise TypeError(f"{who}: pass the monitored value, e.g. scheduler.step(val_loss)")
        if epoch is not None:
            epoch = _epoch(who, epoch)
            warnings.warn(EPOCH_DEPRECATION, UserWarning, stacklevel=3)  # (past the ng.jit effect wrapper)
        try:
            current = float(metrics)
        except (TypeError, ValueError):
            raise TypeError(f"{who}: the metric must be a number, got {type(metrics).__name__}") from None
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs) and self.default_min_lr is not None:  # a group added since: PyTorch's
            self.min_lrs = [self.default_min_lr] * len(groups)  # one scalar min_lr holds for it too
        if len(groups) != len(self.min_lrs):
            raise ValueError(f"{who}: the optimiser has {len(groups)} groups but min_lr holds {len(self.min_lrs)} (a group "
                             "added with add_param_group since); set scheduler.min_lrs to one rate per group")  # fmt: skip
        best, bad, cool = self.best, self.num_bad_epochs + 1, self.cooldown_counter
        if self._is_better(current):
            best, bad = current, 0
        if cool > 0:
            cool, bad = cool - 1, 0  # bad steps in a cooldown are ignored
        rates = [g["lr"] for g in groups]
        if bad > self.patience:
            lowered = [max(lr * self.factor, m) for lr, m in zip(rates, self.min_lrs)]
            rates = [new if lr - new > self.eps else lr for lr, new in zip(rates, lowered)]
            cool, bad = self.cooldown, 0
        for g, rate in zip(groups, rates):
            g["lr"] = rate
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        self.best, self.num_bad_epochs, self.cooldown_counter, self._last_lr = best, bad, cool, rates

    settings = ("factor", "min_lrs", "patience", "cooldown", "eps", "mode", "threshold", "threshold_mode")

    def _constructor_args(self, settings: dict) -> dict:
        return {**{k: v for k, v in settings.items() if k != "min_lrs"}, "min_lr": settings["min_lrs"]}

    @property
    def mode_worse(self) -> float:
        """The worst value of the metric (``inf`` in ``'min'`` mode, ``-inf`` in ``'max'``), as PyTorch names it."""
        return math.inf if self.mode == "min" else -math.inf

    def state_dict(self) -> dict:
        """PyTorch's layout: the settings, the counters, the best value, ``mode_worse`` and ``_last_lr``."""
        return {**{k: _plain(getattr(self, k)) for k in self.settings}, "default_min_lr": self.default_min_lr,
                "last_epoch": self.last_epoch, "_last_lr": self.get_last_lr(), "mode_worse": self.mode_worse, "best": self.best,
                "num_bad_epochs": self.num_bad_epochs, "cooldown_counter": self.cooldown_counter}  # fmt: skip

    def load_state_dict(self, state: dict) -> None:
        """The counters, the best value, the last rates and the settings (each checked as the constructor checks
        it, then all applied together, as PyTorch restores them).  ``'last_lr'`` (the older name) is read too."""
        name = "ReduceLROnPlateau.load_state_dict"
        keys = {"last_epoch", "best", "num_bad_epochs", "cooldown_counter"}
        if not isinstance(state, dict) or not keys <= state.keys():
            raise TypeError(f"{name}: expected the dict of state_dict() with {sorted(keys)}")
        for k in keys - {"best"}:
            _count(name, k, state[k], 0, "a counter")
        if not is_real(state["best"]) or math.isnan(state["best"]):
            raise ValueError(f"{name}: best must be a number (inf before any step), got {state['best']!r}")
        lr_key = "_last_lr" if "_last_lr" in state else "last_lr"
        last_lr = _per_group(name, lr_key, state.get(lr_key, self._last_lr), len(self.optimizer.param_groups))
        default = state.get("default_min_lr", self.default_min_lr)
        default = None if default is None else _rate_like(name, "default_min_lr", default)
        shadow = self._with_settings(state, name)
        for k in self.settings:  # everything checked: applied together
            setattr(self, k, getattr(shadow, k))
        self.default_min_lr = default
        self.last_epoch, self.num_bad_epochs = int(state["last_epoch"]), int(state["num_bad_epochs"])
        self.cooldown_counter, self.best, self._last_lr = int(state["cooldown_counter"]), float(state["best"]), last_lr


# The name table: the schedules built from the common parameters (make_scheduler, the CLI, the playground).
SCHEDULES = {"inverse_time": InverseTimeLR, "step": StepLR, "exponential": ExponentialLR, "cosine": CosineAnnealingLR,
             "linear": LinearLR, "constant": ConstantLR}  # fmt: skip


def make_scheduler(name: str, optimizer: Optimizer, **params) -> LRScheduler | None:
    """The schedule ``name`` of :data:`SCHEDULES` on ``optimizer`` (``"none"`` gives ``None``),
    built from whichever of ``params`` (``gamma``, ``step_size``, ``T_max``, ``eta_min``, ``start_factor``,
    ``factor``, ``total_iters``, …) its constructor takes; the others are ignored, so one call site serves
    every schedule."""
    if name == "none":
        return None
    if name not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}; choose from none, {', '.join(SCHEDULES)}")
    cls = SCHEDULES[name]
    accepted = inspect.signature(cls).parameters
    return cls(optimizer, **{k: v for k, v in params.items() if k in accepted})
