"""``CyclicLR``: the cyclical learning rate of Smith (2017), ``torch.optim.lr_scheduler.CyclicLR``'s arguments,
defaults and numbers.

With ``T = step_size_up + step_size_down``, ``r = step_size_up / T``, at step ``t``::

    c = ⌊1 + t/T⌋,   x = 1 + t/T − c,   h = x/r  if x ≤ r  else  (x − 1)/(r − 1)       (h ∈ [0, 1])
    μ_t = base_lr + (max_lr − base_lr) · h · s(c or t)
    m_t = max_momentum − (max_momentum − base_momentum) · h · s(c or t)   (cycle_momentum)

``s`` is the mode's scale: ``triangular`` 1, ``triangular2`` ``1/2^(c−1)`` (each cycle half as high), both of the
cycle ``c``; ``exp_range`` ``γ^t`` of the step; or a user's ``scale_fn`` of ``scale_mode`` (``'cycle'`` or
``'iterations'``).  The rate is set, not chained (as PyTorch's).
"""

from __future__ import annotations

import math
import types
from collections.abc import Callable

from ..backend.checks import is_real
from .optimizer import Optimizer
from .schedules import _CyclesMomentum, _each, _momenta, _optimizer_of, _rate_like

MODES = ("triangular", "triangular2", "exp_range")
SCALE_MODES = ("cycle", "iterations")
_CYCLE_KEYS = ("max_lrs", "total_size", "step_ratio", "mode", "gamma", "scale_mode", "cycle_momentum")


def _steps(who: str, name: str, v) -> float:
    """A half cycle's length: a finite number of steps > 0 (PyTorch divides by it)."""
    if not is_real(v) or not math.isfinite(v) or v <= 0:
        raise ValueError(f"{who}: {name} must be a number of steps > 0 (half a cycle), got {v!r}")
    return float(v)


class CyclicLR(_CyclesMomentum):
    """The rate cycles between ``base_lr`` and ``max_lr`` (the module docstring's formula): up in
    ``step_size_up`` steps, down in ``step_size_down`` (default: as up); step it once per batch.
    ``cycle_momentum`` (True, as PyTorch's) cycles ``momentum`` (or the Adam family's ``betas[0]``) the other
    way, between ``max_momentum`` and ``base_momentum``; an optimiser with neither is refused."""

    def __init__(self, optimizer: Optimizer, base_lr: float | list[float], max_lr: float | list[float],
                 step_size_up: int = 2000, step_size_down: int | None = None, mode: str = "triangular",
                 gamma: float = 1.0, scale_fn: Callable[[float], float] | None = None, scale_mode: str = "cycle",
                 cycle_momentum: bool = True, base_momentum: float | list[float] = 0.8,
                 max_momentum: float | list[float] = 0.9, last_epoch: int = -1):  # fmt: skip
        who = "CyclicLR"
        n = len(_optimizer_of(who, optimizer).param_groups)
        self._given_base_lrs = [_rate_like(who, f"base_lr[{i}]", v) for i, v in enumerate(_each(who, "base_lr", base_lr, n))]
        self.max_lrs = [_rate_like(who, f"max_lr[{i}]", v) for i, v in enumerate(_each(who, "max_lr", max_lr, n))]
        up = _steps(who, "step_size_up", step_size_up)
        down = up if step_size_down is None else _steps(who, "step_size_down", step_size_down)
        self.total_size, self.step_ratio = up + down, up / (up + down)
        if scale_fn is None and mode not in MODES:
            raise ValueError(f"{who}: mode must be one of {MODES} (or give scale_fn), got {mode!r}")
        if scale_fn is not None and not callable(scale_fn):
            raise TypeError(f"{who}: scale_fn must be a function of the cycle or step, e.g. lambda c: 0.5 ** c, "
                            f"got {type(scale_fn).__name__}")  # fmt: skip
        if scale_fn is not None and scale_mode not in SCALE_MODES:
            raise ValueError(f"{who}: scale_mode must be one of {SCALE_MODES}, got {scale_mode!r}")
        if not is_real(gamma) or not math.isfinite(gamma) or gamma <= 0:
            raise ValueError(f"{who}: gamma must be a finite number > 0 (exp_range scales by gamma**step), got {gamma!r}")
        self.mode, self.gamma, self._scale_fn_custom = mode, float(gamma), scale_fn
        self.scale_mode = scale_mode if scale_fn is not None else ("iterations" if mode == "exp_range" else "cycle")
        self.cycle_momentum = bool(cycle_momentum)
        self.base_momentums: list[float] = []
        self.max_momentums: list[float] = []
        if self.cycle_momentum:
            self.momentum_key, self.base_momentums, self.max_momentums = _momenta(who, optimizer, base_momentum, max_momentum)
        self.use_beta1 = self.momentum_key == "betas"
        super().__init__(optimizer, last_epoch)
        if last_epoch == -1 and self.cycle_momentum:  # PyTorch's record of the cycle in each group
            for g, high, low in zip(optimizer.param_groups, self.max_momentums, self.base_momentums):
                g["max_momentum"], g["base_momentum"] = high, low

    def _fresh_base_lrs(self, groups):
        return list(self._given_base_lrs)

    def scale_fn(self, x: float) -> float:
        """The mode's scale ``s`` of the cycle or step ``x``."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        return 1 / (2.0 ** (x - 1)) if self.mode == "triangular2" else self.gamma**x

    def _height(self, t: int) -> tuple[float, float]:
        """``(h, s)`` at step ``t``: where in its cycle the step lies, and the cycle's scale."""
        cycle = math.floor(1 + t / self.total_size)
        x = 1.0 + t / self.total_size - cycle
        h = x / self.step_ratio if x <= self.step_ratio else (x - 1) / (self.step_ratio - 1)
        return h, self.scale_fn(cycle if self.scale_mode == "cycle" else t)

    def _rate_at(self, i, base_lr, t):
        h, s = self._height(t)
        return base_lr + (self.max_lrs[i] - base_lr) * h * s

    def lr_at(self, base_lr, t):
        return self._rate_at(0, base_lr, t)

    def momentum_at(self, i: int, t: int) -> float:
        h, s = self._height(t)
        high = self.max_momentums[i]
        return high - (high - self.base_momentums[i]) * h * s

    def state_dict(self) -> dict:
        """PyTorch's keys: the cycle's constants, the momenta and the common entries; ``_scale_fn_custom`` is
        None for a plain function, or a callable object's ``__dict__`` (as PyTorch saves it)."""
        fn = self._scale_fn_custom
        custom = None if fn is None or isinstance(fn, types.FunctionType) else dict(getattr(fn, "__dict__", {}))
        momenta = ({"use_beta1": self.use_beta1, "base_momentums": list(self.base_momentums),
                    "max_momentums": list(self.max_momentums)} if self.cycle_momentum else {})  # (as torch's: only then)
        return {**{k: list(v) if isinstance(v, list) else v for k in _CYCLE_KEYS if (v := getattr(self, k)) is not None},
                **momenta, **super().state_dict(), "_scale_fn_custom": custom}  # fmt: skip

    def _with_settings(self, state, name):
        """The cycle is the constructor's: a state saved from another cycle is refused, naming the setting."""
        mine = self.state_dict()
        for k in (*_CYCLE_KEYS, "base_momentums", "max_momentums"):
            if k in state and state[k] != mine.get(k):
                raise ValueError(f"{name}: the state was saved from a cycle with {k}={state[k]!r}, this one has "
                                 f"{mine[k]!r}; build CyclicLR with the saved run's arguments, then load it")  # fmt: skip
        return self

    def load_state_dict(self, state: dict) -> None:
        """The common entries (checked as every schedule's); a callable ``scale_fn`` object gets its saved ``__dict__``."""
        custom = state.get("_scale_fn_custom") if isinstance(state, dict) else None
        if custom is not None and not isinstance(custom, dict):
            raise ValueError(f"CyclicLR.load_state_dict: _scale_fn_custom must be None or a dict, got {custom!r}")
        super().load_state_dict(state)
        if custom is not None and self._scale_fn_custom is not None:
            self._scale_fn_custom.__dict__.update(custom)
