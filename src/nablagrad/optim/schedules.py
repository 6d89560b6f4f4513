"""Learning-rate schedules. Robbins–Monro (lecture 000): ``μ_t → 0``, ``Σ μ_t = ∞``,
``Σ μ_t² < ∞`` — satisfied by the inverse-time schedule ``μ_t = μ_0 / (1 + γ t)``.

Each schedule sets ``group["lr"]`` from a closed form of the step counter, so a resumed
schedule is exactly where it left off.  ``step()`` is called once per epoch (or per batch).
Arguments are checked as they are given, and every rate is checked (finite, ``>= 0``) before
any is written: a schedule never hands an optimiser a negative or NaN learning rate, and a
refused ``step()`` or ``load_state_dict()`` changes nothing.
"""

from __future__ import annotations

import inspect
import math

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


class LRScheduler:
    def __init_subclass__(cls, **kwargs):
        """A subclass's own ``step`` is an effect that ``ng.jit`` repeats, as the base's is."""
        super().__init_subclass__(**kwargs)
        effects_of_subclass(cls, ("step",))

    def __init__(self, optimizer: Optimizer):
        if not isinstance(getattr(optimizer, "param_groups", None), list):  # an Optimizer, or a wrapper of one
            raise TypeError(
                f"{type(self).__name__}: optimizer must be an ng.optim optimiser (e.g. ng.optim.SGD(...)), "
                f"got {type(optimizer).__name__}"
            )
        self.optimizer = optimizer
        self.base_lrs = [g["lr"] for g in optimizer.param_groups]
        self.last_epoch = 0
        self._loaded: tuple[int, list[float]] | None = None  # (last_epoch, its rates) from load_state_dict

    def lr_at(self, base_lr: float, t: int) -> float:
        raise NotImplementedError

    def rates(self, base_lrs: list[float], t: int, who: str) -> list[float]:
        """Every group's rate at step ``t``, each checked finite and ``>= 0`` before any is used."""
        try:
            rates = [float(self.lr_at(base, t)) for base in base_lrs]
        except OverflowError:
            rates = [math.inf]
        bad = [r for r in rates if not (math.isfinite(r) and r >= 0)]
        if bad:
            raise ValueError(f"{who}: the learning rate at step {t} would be {bad[0]} (it grows without bound, or a "
                             "setting is out of range); stop the schedule earlier, or use gamma <= 1")  # fmt: skip
        return rates

    @effect
    def step(self) -> None:
        """Move to the next step: every rate computed and checked, then all written (or none)."""
        t = self.last_epoch + 1
        rates = self.rates(self.base_lrs, t, f"{type(self).__name__}.step")
        for g, rate in zip(self.optimizer.param_groups, rates):
            g["lr"] = rate
        self.last_epoch = t

    def get_last_lr(self) -> list[float]:
        """The rates of the last step (after ``load_state_dict``, the saved schedule's, as PyTorch)."""
        if self._loaded is not None and self._loaded[0] == self.last_epoch:
            return list(self._loaded[1])
        return [g["lr"] for g in self.optimizer.param_groups]

    def state_dict(self) -> dict:
        return {"last_epoch": self.last_epoch, "base_lrs": list(self.base_lrs), "last_lr": self.get_last_lr()}

    def load_state_dict(self, state: dict) -> None:
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
            at_epoch = None
        last_lr = at_epoch if last_lr is None else last_lr
        self.last_epoch, self.base_lrs = int(epoch), base_lrs  # everything checked: applied together
        self._loaded = None if last_lr is None else (self.last_epoch, last_lr)


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
