"""Learning-rate schedules. Robbins–Monro (lecture 000): ``μ_t → 0``, ``Σ μ_t = ∞``,
``Σ μ_t² < ∞`` — satisfied by the inverse-time schedule ``μ_t = μ_0 / (1 + γ t)``.

Each schedule sets ``group["lr"]`` from a closed form of the step counter, so a resumed
schedule is exactly where it left off.  ``step()`` is called once per epoch (or per batch).
"""

from __future__ import annotations

import inspect
import math

from ..autodiff.jit import effect, effects_of_subclass
from .optimizer import Optimizer


class LRScheduler:
    def __init_subclass__(cls, **kwargs):
        """A subclass's own ``step`` is an effect that ``ng.jit`` repeats, as the base's is."""
        super().__init_subclass__(**kwargs)
        effects_of_subclass(cls, ("step",))

    def __init__(self, optimizer: Optimizer):
        self.optimizer = optimizer
        self.base_lrs = [g["lr"] for g in optimizer.param_groups]
        self.last_epoch = 0

    def lr_at(self, base_lr: float, t: int) -> float:
        raise NotImplementedError

    @effect
    def step(self) -> None:
        self.last_epoch += 1
        for g, base in zip(self.optimizer.param_groups, self.base_lrs):
            g["lr"] = self.lr_at(base, self.last_epoch)

    def get_last_lr(self) -> list[float]:
        return [g["lr"] for g in self.optimizer.param_groups]

    def state_dict(self) -> dict:
        return {"last_epoch": self.last_epoch, "base_lrs": list(self.base_lrs)}

    def load_state_dict(self, state: dict) -> None:
        self.last_epoch = state["last_epoch"]
        self.base_lrs = list(state["base_lrs"])


class InverseTimeLR(LRScheduler):
    """``μ_t = μ_0 / (1 + γ t)``; with γ = 1 this is the lectures' ``1/t`` schedule."""

    def __init__(self, optimizer: Optimizer, gamma: float = 1.0):
        super().__init__(optimizer)
        self.gamma = gamma

    def lr_at(self, base_lr, t):
        return base_lr / (1 + self.gamma * t)


class StepLR(LRScheduler):
    """``μ_t = μ_0 · γ^{⌊t / step_size⌋}``."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1):
        super().__init__(optimizer)
        self.step_size, self.gamma = step_size, gamma

    def lr_at(self, base_lr, t):
        return base_lr * self.gamma ** (t // self.step_size)


class ExponentialLR(LRScheduler):
    """``μ_t = μ_0 · γ^t``."""

    def __init__(self, optimizer: Optimizer, gamma: float):
        super().__init__(optimizer)
        self.gamma = gamma

    def lr_at(self, base_lr, t):
        return base_lr * self.gamma**t


class CosineAnnealingLR(LRScheduler):
    """``μ_t = μ_min + ½(μ_0 − μ_min)(1 + cos(π t / T))``."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0):
        super().__init__(optimizer)
        self.T_max, self.eta_min = T_max, eta_min

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
