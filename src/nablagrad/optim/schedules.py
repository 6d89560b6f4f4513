"""Learning-rate schedules. Robbins–Monro (lecture 000): ``μ_t → 0``, ``Σ μ_t = ∞``,
``Σ μ_t² < ∞`` — satisfied by the inverse-time schedule ``μ_t = μ_0 / (1 + γ t)``.

Each schedule sets ``group["lr"]`` from a closed form of the step counter, so a resumed
schedule is exactly where it left off.  ``step()`` is called once per epoch (or per batch).
"""

from __future__ import annotations

import inspect
import math
import numbers

from ..autodiff.jit import effect, effects_of_subclass
from .optimizer import Optimizer


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

    @effect
    def step(self) -> None:
        self.last_epoch += 1
        for g, base in zip(self.optimizer.param_groups, self.base_lrs):
            g["lr"] = self.lr_at(base, self.last_epoch)

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
        epoch, base_lrs = state["last_epoch"], state["base_lrs"]
        if not isinstance(epoch, numbers.Integral) or isinstance(epoch, bool) or epoch < 0:
            raise ValueError(f"{name}: last_epoch must be an int >= 0, got {epoch!r}")
        if not isinstance(base_lrs, list | tuple) or len(base_lrs) != len(self.optimizer.param_groups):
            groups = len(self.optimizer.param_groups)
            raise ValueError(f"{name}: base_lrs must hold one rate per parameter group ({groups}), got {base_lrs!r}")
        last_lr = state.get("last_lr")
        if last_lr is None:
            try:
                last_lr = [self.lr_at(base, epoch) for base in base_lrs]
            except NotImplementedError:  # a schedule with its own step() and no closed form
                last_lr = None
        self.last_epoch, self.base_lrs = epoch, list(base_lrs)
        self._loaded = None if last_lr is None else (epoch, list(last_lr))


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
        if not isinstance(step_size, numbers.Integral) or isinstance(step_size, bool) or step_size < 1:
            raise ValueError(f"StepLR: step_size must be an int >= 1 (steps between decays), got {step_size!r}")
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
        if not isinstance(T_max, numbers.Real) or isinstance(T_max, bool) or not T_max > 0:
            raise ValueError(f"CosineAnnealingLR: T_max must be a number > 0 (steps of a half cosine), got {T_max!r}")
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
