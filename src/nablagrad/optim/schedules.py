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
from bisect import bisect_right
from collections.abc import Iterable

from ..autodiff.jit import effect, effects_of_subclass
from ..backend.checks import is_int, is_real
from .optimizer import Optimizer


def _rate_like(who: str, name: str, v) -> float:
    """``v`` as a finite float ``>= 0`` (a gamma, an ``eta_min``, a saved rate), else an error naming it."""
    if not is_real(v):
        raise TypeError(f"{who}: {name} must be a number, got {v!r} ({type(v).__name__})")
    try:
        f = float(v)
    except OverflowError:  # an int beyond float's range
        f = math.inf
    if not (math.isfinite(f) and f >= 0):
        raise ValueError(f"{who}: {name} must be a finite number >= 0 (it would give negative or NaN rates), got {v!r}")
    return f


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


class LRScheduler:
    """Base of the schedules: a subclass gives its closed form :meth:`lr_at` (and :attr:`floor` if its
    rates approach a value other than 0); ``step``, ``get_last_lr`` and the state come from here."""

    floor = 0.0  # the rate the formula approaches (CosineAnnealingLR's eta_min): the chained step scales μ − floor

    def __init_subclass__(cls, **kwargs):
        """A subclass's own ``step`` is an effect that ``ng.jit`` repeats, as the base's is."""
        super().__init_subclass__(**kwargs)
        effects_of_subclass(cls, ("step",))

    def __init__(self, optimizer: Optimizer):
        if not isinstance(getattr(optimizer, "param_groups", None), list):  # an Optimizer, or a wrapper of one
            raise TypeError(f"{type(self).__name__}: optimizer must be an ng.optim optimiser (e.g. ng.optim.SGD(...)), "
                            f"got {type(optimizer).__name__}")  # fmt: skip
        self.optimizer = optimizer
        self.base_lrs = [g["lr"] for g in optimizer.param_groups]
        self.last_epoch = 0
        self._last_lr = list(self.base_lrs)

    def lr_at(self, base_lr: float, t: int) -> float:
        """The rate at step ``t`` of a schedule that starts at ``base_lr`` (the closed form)."""
        raise NotImplementedError

    def rates(self, base_lrs: list[float], t: int, who: str) -> list[float]:
        """Every group's closed-form rate at step ``t``, each checked finite and ``>= 0`` before any is used."""
        try:
            rates = [float(self.lr_at(base, t)) for base in base_lrs]
        except OverflowError:
            rates = [math.inf]
        return _checked_rates(rates, t, who)

    def _chained(self, lr: float, base_lr: float, t: int) -> float:
        """The current rate ``lr`` moved from step ``t − 1`` to ``t`` by the closed form's change (module docstring)."""
        floor = self.floor
        ref = base_lr if base_lr != floor else floor + 1.0  # a group that starts at the floor: the formula's shape
        before, now = float(self.lr_at(ref, t - 1)), float(self.lr_at(ref, t))
        if now == before:
            return lr
        if before == floor:  # the formula leaves its floor (a cosine's restart): PyTorch adds the rise
            return lr + (now - before) * (base_lr - floor) / (ref - floor)
        return floor + (lr - floor) * ((now - floor) / (before - floor))

    @effect
    def step(self) -> None:
        """Move to the next step: every rate computed and checked, then all written (or none)."""
        t = self.last_epoch + 1
        who = f"{type(self).__name__}.step"
        self.rates(self.base_lrs, t, who)  # the closed form must be valid at t (a refused state is never entered)
        groups = self.optimizer.param_groups
        try:
            rates = [float(self._chained(g["lr"], base, t)) for g, base in zip(groups, self.base_lrs)]
        except (OverflowError, ZeroDivisionError):
            rates = [math.inf]
        _checked_rates(rates, t, who)
        for g, rate in zip(groups, rates):
            g["lr"] = rate
        self.last_epoch, self._last_lr = t, rates

    def get_last_lr(self) -> list[float]:
        """The rates this schedule set last (the optimiser's at construction; after ``load_state_dict``, the
        saved schedule's), as PyTorch's ``get_last_lr``: a change by hand since is not seen here."""
        return list(self._last_lr)

    def state_dict(self) -> dict:
        return {"last_epoch": self.last_epoch, "base_lrs": list(self.base_lrs), "last_lr": self.get_last_lr()}

    def load_state_dict(self, state: dict) -> None:
        """The saved step counter, initial and last rates (checked, then applied together); the optimiser's
        rates are not touched, as in PyTorch: load the optimiser's ``state_dict`` with it to resume."""
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state, dict) or not {"last_epoch", "base_lrs"} <= state.keys():
            got = sorted(state) if isinstance(state, dict) else type(state).__name__
            raise TypeError(f"{name}: expected the dict of state_dict() with 'last_epoch' and 'base_lrs', got {got}")
        epoch, groups = state["last_epoch"], len(self.optimizer.param_groups)
        if not is_int(epoch) or epoch < 0:
            raise ValueError(f"{name}: last_epoch must be an int >= 0, got {epoch!r}")
        base_lrs = _per_group(name, "base_lrs", state["base_lrs"], groups)
        last_lr = state.get("last_lr")
        last_lr = None if last_lr is None else _per_group(name, "last_lr", last_lr, groups)
        try:
            at_epoch = self.rates(base_lrs, int(epoch), name)  # a state the schedule cannot go on from is refused
        except NotImplementedError:  # a schedule with its own step() and no closed form
            at_epoch = [g["lr"] for g in self.optimizer.param_groups]
        self.last_epoch, self.base_lrs = int(epoch), base_lrs  # everything checked: applied together
        self._last_lr = at_epoch if last_lr is None else last_lr


class InverseTimeLR(LRScheduler):
    """``μ_t = μ_0 / (1 + γ t)``; with γ = 1 this is the lectures' ``1/t`` schedule."""

    def __init__(self, optimizer: Optimizer, gamma: float = 1.0):
        super().__init__(optimizer)
        self.gamma = _rate_like("InverseTimeLR", "gamma", gamma)

    def lr_at(self, base_lr, t):
        return base_lr / (1 + self.gamma * t)


class StepLR(LRScheduler):
    """``μ_t = μ_0 · γ^{⌊t / step_size⌋}``."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1):
        super().__init__(optimizer)
        if not is_int(step_size) or step_size < 1:
            raise ValueError(f"StepLR: step_size must be an int >= 1 (steps between decays), got {step_size!r}")
        self.step_size, self.gamma = int(step_size), _rate_like("StepLR", "gamma", gamma)

    def lr_at(self, base_lr, t):
        return base_lr * self.gamma ** (t // self.step_size)


class MultiStepLR(LRScheduler):
    """``μ_t = μ_0 · γ^{#milestones ≤ t}`` (a milestone given twice decays twice, as in PyTorch)."""

    def __init__(self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1):
        super().__init__(optimizer)
        if isinstance(milestones, str | bytes) or not isinstance(milestones, Iterable):
            raise TypeError(f"MultiStepLR: milestones must be a list of steps, e.g. [30, 80], got {milestones!r}")
        steps = list(milestones)
        if not all(is_int(m) and m >= 0 for m in steps):
            raise ValueError(f"MultiStepLR: milestones must be ints >= 0 (the steps at which to decay), got {steps!r}")
        self.milestones = sorted(int(m) for m in steps)
        self.gamma = _rate_like("MultiStepLR", "gamma", gamma)

    def lr_at(self, base_lr, t):
        return base_lr * self.gamma ** bisect_right(self.milestones, t)


class ExponentialLR(LRScheduler):
    """``μ_t = μ_0 · γ^t``."""

    def __init__(self, optimizer: Optimizer, gamma: float):
        super().__init__(optimizer)
        self.gamma = _rate_like("ExponentialLR", "gamma", gamma)

    def lr_at(self, base_lr, t):
        return base_lr * self.gamma**t


class CosineAnnealingLR(LRScheduler):
    """``μ_t = μ_min + ½(μ_0 − μ_min)(1 + cos(π t / T))``."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0):
        super().__init__(optimizer)
        if not is_real(T_max) or not 0 < T_max < math.inf:
            raise ValueError(f"CosineAnnealingLR: T_max must be a number > 0 (steps of a half cosine), finite, got {T_max!r}")
        self.T_max, self.eta_min = T_max, _rate_like("CosineAnnealingLR", "eta_min", eta_min)

    @property
    def floor(self) -> float:
        return self.eta_min

    def lr_at(self, base_lr, t):
        return self.eta_min + 0.5 * (base_lr - self.eta_min) * (1 + math.cos(math.pi * t / self.T_max))


SCHEDULES = {"inverse_time": InverseTimeLR, "step": StepLR, "exponential": ExponentialLR, "cosine": CosineAnnealingLR}


def make_scheduler(name: str, optimizer: Optimizer, **params) -> LRScheduler | None:
    """The schedule ``name`` of :data:`SCHEDULES` on ``optimizer`` (``"none"`` gives ``None``),
    built from whichever of ``params`` (``gamma``, ``step_size``, ``T_max``, ``eta_min``) its
    constructor takes; the others are ignored, so one call site serves every schedule."""
    if name == "none":
        return None
    if name not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}; choose from none, {', '.join(SCHEDULES)}")
    cls = SCHEDULES[name]
    accepted = inspect.signature(cls).parameters
    return cls(optimizer, **{k: v for k, v in params.items() if k in accepted})
