"""First-order optimisers (lecture 000), each update written as its formula, in place.

Conventions and defaults follow ``torch.optim`` so that trajectories agree step by step;
``Momentum`` is the lectures' own exponential-moving-average form.
torch's implementation flags are taken, kept in the groups as torch keeps them, and change no number:
``foreach`` and ``fused`` (SGD, Adam, AdamW, Adagrad; RMSprop has no ``fused``, as torch's) — every step
here is already one fused update of one flat buffer per group; both ``True`` is torch's ``RuntimeError``.
``differentiable`` must stay False (a ``TypeError`` otherwise: a step is not differentiable here).
"""

from __future__ import annotations

import numpy as np

from ..backend import kernels
from ..backend.namespace import namespace_of
from . import flat
from .optimizer import HYPERPARAMETERS, Optimizer


def _not_differentiable(who: str, value) -> dict:
    """torch's ``differentiable`` flag: False is taken (and, changing nothing, not kept in the groups, so a saved
    ``differentiable=True`` stays an unknown option); True is refused, a step here is not differentiable."""
    rule, what = HYPERPARAMETERS["differentiable"]
    if not rule(value):
        raise TypeError(f"{who}: differentiable must be {what}, got {value!r}")
    return {}


def _with_weight_decay(g: np.ndarray, p: np.ndarray, wd: float) -> np.ndarray:
    """L2 regularisation folded into the gradient: ``g + λ w``."""
    return g + wd * p if wd else g


class SGD(Optimizer):
    """Gradient descent ``w ← w − μ g`` with optional momentum / Nesterov and weight decay.

    Momentum (PyTorch form): ``b ← β b + (1 − dampening) g``; step along ``b`` (or ``g + β b``
    with ``nesterov``).  The default ``lr`` is PyTorch's, 10⁻³.
    """

    elementwise = True

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False, fused: bool | None = None):  # fmt: skip
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize, foreach=foreach,
                                      **_not_differentiable(type(self).__name__, differentiable), fused=fused))  # fmt: skip

    def _validate(self, group):
        """Each option by its rule, then Nesterov's need of momentum (torch.optim.SGD's rule), for every group —
        so a refused group is refused before anything (the parameters' packing) is done."""
        super()._validate(group)
        momentum, dampening = group.get("momentum", 0.0), group.get("dampening", 0.0)
        if group.get("nesterov") and (momentum <= 0 or dampening != 0):
            raise ValueError(f"SGD: nesterov needs momentum > 0 and dampening = 0 (Nesterov momentum requires a "
                             f"momentum and zero dampening), got {momentum=}, {dampening=}")  # fmt: skip

    def state_keys(self, group):
        return {"momentum_buffer"} if group["momentum"] else set()

    def update(self, p, g, state, group):
        g = _with_weight_decay(g, p.data, group["weight_decay"])
        mu = group["momentum"]
        if mu:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = namespace_of(g).array(g, dtype=p.dtype)
            else:
                buf *= mu
                buf += (1 - group["dampening"]) * g
            g = g + mu * buf if group["nesterov"] else buf
        p.data -= group["lr"] * g


class Momentum(Optimizer):
    """The lectures' momentum: an exponential moving average of gradients with forgetting rate λ,

    ``v ← λ g + (1 − λ) v``,  ``w ← w − μ v``  (lecture 000).

    Correction of the notes: they write ``P_{t+1} = (1 − μ)P_t + μ∇`` and ``Θ_{t+1} = Θ_t − μP_t``,
    i.e. the step uses the *previous* average (the first step would not move at all) and the
    forgetting rate is called μ like the step size.  Here the step uses the fresh average
    ``v_{t+1}`` and the forgetting rate is λ (``forgetting``), μ the step (``lr``).
    """

    elementwise = True

    def __init__(self, params, lr: float = 0.01, forgetting: float = 0.1, weight_decay: float = 0.0, *,
                 maximize: bool = False):  # fmt: skip
        super().__init__(params, dict(lr=lr, forgetting=forgetting, weight_decay=weight_decay, maximize=maximize))

    def state_keys(self, group):
        return {"velocity"}

    def update(self, p, g, state, group):
        g = _with_weight_decay(g, p.data, group["weight_decay"])
        lam = group["forgetting"]
        v = state.get("velocity")
        if v is None:
            v = state["velocity"] = namespace_of(p.data).zeros_like(p.data)
        v *= 1 - lam
        v += lam * g
        p.data -= group["lr"] * v


class AdaGrad(Optimizer):
    """AdaGrad: ``G ← G + g²``, ``w ← w − μ g / (√G + ε)`` — per-coordinate step sizes.

    ``G`` starts at each group's own ``initial_accumulator_value`` when its parameter takes its first step.  (torch
    2.13 fills every ``sum`` at construction with the constructor's value, ignoring a group's own: here a group's
    value is used, and the state is empty until the first step, as the other optimisers'.)
    """

    elementwise = True

    def __init__(self, params, lr: float = 0.01, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False, fused: bool | None = None):  # fmt: skip
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps, foreach=foreach,
                                      maximize=maximize, fused=fused,
                                      **_not_differentiable(type(self).__name__, differentiable)))  # fmt: skip

    def state_keys(self, group):
        return {"sum", "step"}

    def update(self, p, g, state, group):
        if "sum" not in state:
            state["sum"] = namespace_of(p.data).full_like(p.data, group["initial_accumulator_value"])
            state["step"] = 0
        state["step"] += 1
        g = _with_weight_decay(g, p.data, group["weight_decay"])
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        state["sum"] += g * g
        p.data -= clr * g / (namespace_of(p.data).sqrt(state["sum"]) + group["eps"])


Adagrad = AdaGrad


class RMSProp(Optimizer):
    """RMSProp: ``E[g²] ← α E[g²] + (1 − α) g²``, ``w ← w − μ g / (√E[g²] + ε)``."""

    elementwise = True

    def __init__(self, params, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0,
                 momentum: float = 0.0, centered: bool = False, capturable: bool = False, foreach: bool | None = None,
                 maximize: bool = False, differentiable: bool = False):  # fmt: skip
        # (no ``fused``: torch.optim.RMSprop has none either)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered, capturable=capturable, foreach=foreach, maximize=maximize,
                                      **_not_differentiable(type(self).__name__, differentiable)))  # fmt: skip

    def state_keys(self, group):
        keys = {"step", "square_avg"} | ({"momentum_buffer"} if group["momentum"] else set())
        return keys | ({"grad_avg"} if group["centered"] else set())

    def update(self, p, g, state, group):
        if "square_avg" not in state:
            state["step"] = 0  # counted, as PyTorch's state holds it (the update itself does not use it)
            state["square_avg"] = namespace_of(p.data).zeros_like(p.data)
            if group["momentum"]:
                state["momentum_buffer"] = namespace_of(p.data).zeros_like(p.data)
            if group["centered"]:
                state["grad_avg"] = namespace_of(p.data).zeros_like(p.data)
        state["step"] += 1
        g = _with_weight_decay(g, p.data, group["weight_decay"])
        a = group["alpha"]
        sq = state["square_avg"]
        sq *= a
        sq += (1 - a) * g * g
        if group["centered"]:
            ga = state["grad_avg"]
            ga *= a
            ga += (1 - a) * g
            avg = namespace_of(p.data).sqrt(sq - ga * ga) + group["eps"]
        else:
            avg = namespace_of(p.data).sqrt(sq) + group["eps"]
        if group["momentum"]:
            buf = state["momentum_buffer"]
            buf *= group["momentum"]
            buf += g / avg
            p.data -= group["lr"] * buf
        else:
            p.data -= group["lr"] * g / avg


RMSprop = RMSProp


class Adam(Optimizer):
    """Adam (lecture 000 defaults α = 0.001, β1 = 0.9, β2 = 0.999, ε = 1e−8):

    ``m ← β1 m + (1 − β1) g``, ``v ← β2 v + (1 − β2) g²``,
    ``w ← w − α m̂ / (√v̂ + ε)`` with ``m̂ = m/(1 − β1ᵗ)``, ``v̂ = v/(1 − β2ᵗ)``.
    ``decoupled_weight_decay=True`` gives AdamW.

    Correction of the notes: they write ``m̂_t = m_{t−1}/(1 − β1ᵗ)`` and ``v̂_t = v_{t−1}/(1 − β2ᵗ)``;
    the bias corrections divide the fresh moments ``m_t`` and ``v_t`` (Kingma & Ba, 2014) — with
    ``m_{t−1}`` the first step would be zero.
    """

    elementwise = True

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None, decoupled_weight_decay: bool = False):  # fmt: skip
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      **_not_differentiable(type(self).__name__, differentiable), fused=fused,
                                      decoupled_weight_decay=decoupled_weight_decay))  # fmt: skip

    def state_keys(self, group):
        return {"step", "exp_avg", "exp_avg_sq"} | ({"max_exp_avg_sq"} if group["amsgrad"] else set())

    @flat.takes_grad_parts
    def update(self, p, g, state, group):
        if "exp_avg" not in state:
            state["step"] = 0
            state["exp_avg"] = namespace_of(p.data).zeros_like(p.data)
            state["exp_avg_sq"] = namespace_of(p.data).zeros_like(p.data)
        if group["amsgrad"] and "max_exp_avg_sq" not in state:  # also when switched on mid-run (torch: KeyError):
            state["max_exp_avg_sq"] = namespace_of(p.data).zeros_like(p.data)  # max(0, v) = v, the update checked
        state["step"] += 1
        kernels.adam_(p.data, g, state["exp_avg"], state["exp_avg_sq"], self.scratch(p), **self._constants(state, group))

    @flat.takes_grad_parts
    def check_update(self, p, g, state, group):
        if "exp_avg" not in state:
            return None
        return kernels.adam_finite(p.data, g, state["exp_avg"], state["exp_avg_sq"], **self._constants(state, group, 1))

    def has_steady_step(self) -> bool:
        cls = type(self)  # a subclass with its own update: the full step calls it
        return cls.update is Adam.update and cls.check_update is Adam.check_update

    def steady_check(self, fg, group, grads):
        state = fg.state
        if "exp_avg" not in state or (group["amsgrad"] and "max_exp_avg_sq" not in state):
            return None  # the full step makes what is missing
        c = self._constants(state, group, 1)
        p, m, v, vmax = fg.tensor.data, state["exp_avg"], state["exp_avg_sq"], c["vmax"]
        plan = fg.kernel_plan
        if plan is None or not plan.fits(p, fg.grad_layout, m, v, vmax):
            plan = fg.kernel_plan = kernels.SteadyAdam.make(p, fg.grad_layout, m, v, vmax)
            if plan is None:
                return None
        after = plan.prepare(grads, (c["b1"], c["b2"], c["step_size"], c["eps_hat"], c["wd"], c["decay"]))
        return None if after is None else (plan, after)

    def steady_abandon(self, fg, update):
        update[0].release()

    def steady_update(self, fg, update):
        fg.state["step"] += 1
        plan, after = update
        plan.run(after)

    @staticmethod
    def _constants(state: dict, group: dict, ahead: int = 0) -> dict:
        """The kernel's constants for step ``t = state["step"] + ahead``:
        ``w ← δw − (α/bc1) · m / (√v/√bc2 + ε)  =  δw − (α√bc2/bc1) · m / (√v + ε√bc2)``."""
        t = state["step"] + ahead
        # amsgrad switched off: plain Adam, as PyTorch; switched on: plain Adam until update() adds the maximum
        vmax = state.get("max_exp_avg_sq") if group["amsgrad"] else None
        b1, b2 = group["betas"]
        lr, wd = group["lr"], group["weight_decay"]
        bc1 = 1 - b1**t
        bc2_sqrt = (1 - b2**t) ** 0.5
        decoupled = group["decoupled_weight_decay"]
        return dict(b1=b1, b2=b2, step_size=lr * bc2_sqrt / bc1, eps_hat=group["eps"] * bc2_sqrt,
                    wd=0.0 if decoupled else wd, decay=1 - lr * wd if decoupled else 1.0,
                    vmax=vmax)  # fmt: skip


class AdamW(Adam):
    """Adam with decoupled weight decay ``w ← w(1 − μλ)`` (default λ = 0.01, as PyTorch)."""

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.01,
                 amsgrad: bool = False, *, maximize: bool = False, foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None):  # fmt: skip
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, foreach=foreach,
                         capturable=capturable, differentiable=differentiable, fused=fused, decoupled_weight_decay=True)
