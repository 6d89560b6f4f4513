"""The rest of ``torch.optim``'s first-order optimisers: Adamax, NAdam, RAdam, Adadelta, Rprop and ASGD.

Each follows ``torch.optim`` (2.x) step for step — defaults, argument checks, the order of the
operations, ``maximize`` (the gradient negated before weight decay), and the ``state_dict``
layout: the same state keys, arrays of the parameter's shape where torch keeps tensors of it; a
step count is an ``int`` and NAdam's ``mu_product``, ASGD's ``eta`` and ``mu`` are Python floats
where torch keeps 0-d tensors (in float64: torch rounds them to its default dtype, float32 unless
``torch.set_default_dtype(torch.float64)``).  Their updates are elementwise, so a group is stepped
over one flat buffer (:mod:`.flat`), through the checked step of :class:`.Optimizer`: every
gradient checked before any parameter is written, a non-finite update refused with nothing changed.

torch's implementation switches are accepted where torch accepts them and stored in the groups,
as torch stores them, with no effect on the numbers: ``foreach`` (None or a bool: there is one
update per flat group anyway) and ``capturable`` (CUDA graphs).  ``differentiable`` must be False:
nablagrad's optimiser steps are not recorded for autodiff, and a silent ``True`` would promise
gradients through the step that never come (write the update with ``ng.grad`` to differentiate it).
None of these optimisers takes ``fused`` (torch's do not either).
"""

from __future__ import annotations

from ..backend.checks import is_real
from ..backend.namespace import namespace_of
from .first_order import _with_weight_decay
from .optimizer import Optimizer, _one_number, _real


def _lerp_(m, g, w: float) -> None:
    """``m ← m + w (g − m)`` in place, as ``torch.lerp_`` computes it (from the nearer end for ``w ≥ ½``)."""
    if w < 0.5:
        m += w * (g - m)
    else:
        m[...] = g - (g - m) * (1 - w)


def _square_avg_(v, g, beta: float) -> None:
    """``v ← β v + (1 − β) g²`` in place."""
    v *= beta
    v += (1 - beta) * g * g


def _decayed(p, g, group: dict):
    """Weight decay λ as NAdam's and RAdam's: ``g + λ w``, or with ``decoupled_weight_decay`` the
    parameter shrunk first, ``w ← w (1 − μλ)``, and ``g`` as it is."""
    wd = group["weight_decay"]
    if wd and group["decoupled_weight_decay"]:
        p.data *= 1 - group["lr"] * wd
        return g
    return _with_weight_decay(g, p.data, wd)


class TorchLikeOptimizer(Optimizer):
    """The base of this module's optimisers: elementwise updates (flat groups) and state entries
    that are floats (``float_state``: torch's 0-d tensors), checked when a state dict is loaded."""

    elementwise = True
    float_state: frozenset[str] = frozenset()

    def _checked_state_dict(self, state_dict: dict):
        """The base's checks, with the float entries of each parameter's state checked here (a finite number
        each, all present in a non-empty state) and put back into the checked state."""
        state = state_dict.get("state") if isinstance(state_dict, dict) else None
        if not self.float_state or not isinstance(state, dict):
            return super()._checked_state_dict(state_dict)
        name = f"{type(self).__name__}.load_state_dict"
        arrays, floats = {}, {}
        for i, buffers in state.items():
            if not isinstance(buffers, dict) or not buffers:
                arrays[i] = buffers
                continue
            missing = sorted(self.float_state - set(buffers))
            if missing:
                raise ValueError(f"{name}: the state of parameter {i} lacks {missing}; {type(self).__name__} keeps "
                                 f"{sorted(self.float_state)} beside its buffers")  # fmt: skip
            # torch saves these as 0-d tensors: one as an array (``.numpy()``) or a tensor is its number
            values = {k: _one_number(f"{name}: state entry", k, buffers[k]) for k in self.float_state}
            for k, v in values.items():
                if not _real(v):
                    raise ValueError(f"{name}: state entry {k!r} of parameter {i} must be a finite number, "
                                     f"got {repr(buffers[k])[:40]}")  # fmt: skip
            floats[i] = {k: float(v) for k, v in values.items()}
            arrays[i] = {k: v for k, v in buffers.items() if k not in self.float_state}
        new_state, new_groups = super()._checked_state_dict({**state_dict, "state": arrays})
        params = self._index()
        for i, values in floats.items():
            new_state[params[int(i)]].update(values)
        return new_state, new_groups


class Adamax(TorchLikeOptimizer):
    """Adamax (Kingma & Ba, 2014, §7.1): Adam with the infinity norm in place of the second moment,

    ``m ← β1 m + (1 − β1) g``,  ``u ← max(β2 u, |g| + ε)``,  ``w ← w − (μ / (1 − β1ᵗ)) m / u``
    (``g`` with ``weight_decay`` λ: ``g + λ w``).  State: ``step``, ``exp_avg`` (m), ``exp_inf`` (u).
    """

    def __init__(self, params, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False):  # fmt: skip
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, capturable=capturable))  # fmt: skip

    def state_keys(self, group):
        return {"step", "exp_avg", "exp_inf"}

    def update(self, p, g, state, group):
        xp = namespace_of(p.data)
        if "exp_avg" not in state:
            state.update(step=0, exp_avg=xp.zeros_like(p.data), exp_inf=xp.zeros_like(p.data))
        state["step"] += 1
        b1, b2 = group["betas"]
        g = _with_weight_decay(g, p.data, group["weight_decay"])
        m, u = state["exp_avg"], state["exp_inf"]
        _lerp_(m, g, 1 - b1)
        u *= b2
        u[...] = xp.maximum(u, xp.abs(g) + group["eps"])
        p.data -= group["lr"] / (1 - b1 ** state["step"]) * m / u


class NAdam(TorchLikeOptimizer):
    """NAdam (Dozat, 2016): Adam with Nesterov momentum and a momentum schedule,

    ``μ_t = β1 (1 − ½ · 0.96^(t ψ))`` (ψ: ``momentum_decay``), ``Π_t = Π_{t−1} μ_t`` (``mu_product``),
    ``m ← β1 m + (1 − β1) g``, ``v ← β2 v + (1 − β2) g²``, ``d = √(v / (1 − β2ᵗ)) + ε``,
    ``w ← w − μ (1 − μ_t)/(1 − Π_t) · g/d − μ μ_{t+1}/(1 − Π_t μ_{t+1}) · m/d``.
    Weight decay λ: ``g + λ w``, or with ``decoupled_weight_decay`` ``w ← w (1 − μλ)`` first (NAdamW).
    """

    float_state = frozenset({"mu_product"})

    def __init__(self, params, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum_decay: float = 4e-3, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False):  # fmt: skip
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable))  # fmt: skip

    def state_keys(self, group):
        return {"step", "exp_avg", "exp_avg_sq"}  # and the float mu_product

    def update(self, p, g, state, group):
        xp = namespace_of(p.data)
        if "exp_avg" not in state:
            state.update(step=0, mu_product=1.0, exp_avg=xp.zeros_like(p.data), exp_avg_sq=xp.zeros_like(p.data))
        state["step"] += 1
        t, lr = state["step"], group["lr"]
        b1, b2 = group["betas"]
        g = _decayed(p, g, group)
        mu = b1 * (1.0 - 0.5 * 0.96 ** (t * group["momentum_decay"]))
        mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * group["momentum_decay"]))
        state["mu_product"] *= mu
        mu_product = state["mu_product"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        _lerp_(m, g, 1 - b1)
        _square_avg_(v, g, b2)
        denom = xp.sqrt(v / (1 - b2**t)) + group["eps"]
        p.data += -lr * (1.0 - mu) / (1.0 - mu_product) * g / denom
        p.data += -lr * mu_next / (1.0 - mu_product * mu_next) * m / denom


class RAdam(TorchLikeOptimizer):
    """RAdam (Liu et al., 2019): Adam whose adaptive step is switched on once the variance of the
    adaptive rate is tractable,

    ``ρ∞ = 2/(1 − β2) − 1``, ``ρ_t = ρ∞ − 2t β2ᵗ/(1 − β2ᵗ)``, ``m̂ = m/(1 − β1ᵗ)``;
    ``ρ_t > 5``: ``w ← w − μ m̂ · √(1 − β2ᵗ)/(√v + ε) · r_t`` with
    ``r_t = √((ρ_t − 4)(ρ_t − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρ_t))``; otherwise ``w ← w − μ m̂`` (SGD with momentum).
    Weight decay λ: ``g + λ w``, or with ``decoupled_weight_decay`` ``w ← w (1 − μλ)`` first.
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False):  # fmt: skip
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize,
                                      foreach=foreach, capturable=capturable,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      differentiable=differentiable))  # fmt: skip

    def state_keys(self, group):
        return {"step", "exp_avg", "exp_avg_sq"}

    def update(self, p, g, state, group):
        xp = namespace_of(p.data)
        if "exp_avg" not in state:
            state.update(step=0, exp_avg=xp.zeros_like(p.data), exp_avg_sq=xp.zeros_like(p.data))
        state["step"] += 1
        t, lr = state["step"], group["lr"]
        b1, b2 = group["betas"]
        g = _decayed(p, g, group)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        _lerp_(m, g, 1 - b1)
        _square_avg_(v, g, b2)
        bc2 = 1 - b2**t
        m_hat = m / (1 - b1**t)
        rho_inf = 2 / (1 - b2) - 1
        rho_t = rho_inf - 2 * t * b2**t / bc2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            p.data -= m_hat * lr * (bc2**0.5 / (xp.sqrt(v) + group["eps"])) * rect
        else:
            p.data -= m_hat * lr


class Adadelta(TorchLikeOptimizer):
    """Adadelta (Zeiler, 2012): a step in the units of the parameter, from two running averages,

    ``E[g²] ← ρ E[g²] + (1 − ρ) g²``,  ``Δ = √(E[Δ²] + ε) / √(E[g²] + ε) · g``,
    ``E[Δ²] ← ρ E[Δ²] + (1 − ρ) Δ²``,  ``w ← w − μ Δ``  (``g`` with weight decay λ: ``g + λ w``).
    State: ``step``, ``square_avg`` (E[g²]), ``acc_delta`` (E[Δ²]).
    """

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6, weight_decay: float = 0.0,
                 foreach: bool | None = None, *, capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False):  # fmt: skip
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                                      capturable=capturable, foreach=foreach, differentiable=differentiable))  # fmt: skip

    def state_keys(self, group):
        return {"step", "square_avg", "acc_delta"}

    def update(self, p, g, state, group):
        xp = namespace_of(p.data)
        if "square_avg" not in state:
            state.update(step=0, square_avg=xp.zeros_like(p.data), acc_delta=xp.zeros_like(p.data))
        state["step"] += 1
        rho, eps = group["rho"], group["eps"]
        g = _with_weight_decay(g, p.data, group["weight_decay"])
        sq, acc = state["square_avg"], state["acc_delta"]
        _square_avg_(sq, g, rho)
        delta = xp.sqrt(acc + eps) / xp.sqrt(sq + eps) * g
        _square_avg_(acc, delta, rho)
        p.data += -group["lr"] * delta


class Rprop(TorchLikeOptimizer):
    """Rprop (Riedmiller & Braun, 1993): a per-coordinate step size that grows while the gradient
    keeps its sign and shrinks when it flips; only the gradient's sign moves the parameter,

    ``s = g · g_prev``;  ``Δ ← clip(Δ · (η+ if s > 0, η− if s < 0, 1 otherwise), Δmin, Δmax)``;
    where ``s < 0``: ``g ← 0`` (no step, and no sign to compare next time);  ``w ← w − sign(g) Δ``.
    ``Δ`` starts at ``lr``.  A full-batch method (mini-batch noise flips signs).  As torch's, it has
    no weight decay.  State: ``step``, ``prev`` (g_prev), ``step_size`` (Δ).
    """

    def __init__(self, params, lr: float = 1e-2, etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False, differentiable: bool = False):  # fmt: skip
        super().__init__(params, dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, capturable=capturable))  # fmt: skip

    def state_keys(self, group):
        return {"step", "prev", "step_size"}

    def update(self, p, g, state, group):
        xp = namespace_of(p.data)
        if "prev" not in state:
            state.update(step=0, prev=xp.zeros_like(p.data), step_size=xp.full_like(p.data, group["lr"]))
        state["step"] += 1
        eta_minus, eta_plus = group["etas"]
        lo, hi = group["step_sizes"]
        prev, size = state["prev"], state["step_size"]
        s = g * prev
        flipped = s < 0
        one = xp.ones_like(s)  # the factors in the parameter's dtype, as torch's
        size[...] = xp.clip(size * xp.where(s > 0, one * eta_plus, xp.where(flipped, one * eta_minus, one)), lo, hi)
        g = xp.where(flipped, xp.zeros_like(g), g)
        p.data -= xp.sign(g) * size
        prev[...] = g


class ASGD(TorchLikeOptimizer):
    """Averaged SGD (Polyak & Juditsky, 1992; torch's variant): SGD with a decaying rate ``η`` whose
    iterates are averaged from step ``t0`` on,

    ``w ← w (1 − λη) − η g``;  ``ax ← ax + μ (w − ax)`` (``ax ← w`` while ``μ = 1``);
    ``η ← lr / (1 + λ lr t)^α``,  ``μ ← 1 / max(1, t − t0)``  (λ: ``lambd``; ``g`` with weight decay: ``g + wd w``).
    The average ``ax`` is in the state, not in the parameters (copy it in to evaluate it).
    ``alpha`` here is the power α, any finite number (torch checks none of lambd, alpha, t0).
    """

    float_state = frozenset({"eta", "mu"})

    def __init__(self, params, lr: float = 1e-2, lambd: float = 1e-4, alpha: float = 0.75, t0: float = 1e6,
                 weight_decay: float = 0.0, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False):  # fmt: skip
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))  # fmt: skip

    def _validate(self, group):
        """``alpha`` is a power here, not RMSprop's smoothing constant in [0, 1]: its own rule, the table for the rest."""
        alpha = group.get("alpha")
        if not _real(alpha):
            kind = ValueError if is_real(alpha) else TypeError
            raise kind(f"ASGD: alpha must be a finite number (the power of the rate's decay), e.g. 0.75, got {alpha!r}")
        super()._validate({k: v for k, v in group.items() if k != "alpha"})

    def state_keys(self, group):
        return {"step", "ax"}  # and the floats eta, mu

    def update(self, p, g, state, group):
        xp = namespace_of(p.data)
        if "ax" not in state:
            state.update(step=0, eta=float(group["lr"]), mu=1.0, ax=xp.zeros_like(p.data))
        state["step"] += 1
        lr, lambd = group["lr"], group["lambd"]
        g = _with_weight_decay(g, p.data, group["weight_decay"])
        eta = state["eta"]
        p.data *= 1 - lambd * eta
        p.data += -eta * g
        ax = state["ax"]
        if state["mu"] != 1:
            ax += (p.data - ax) * state["mu"]
        else:
            ax[...] = p.data
        t = state["step"]
        state["eta"] = lr / ((1 + lambd * lr * t) ** group["alpha"])
        state["mu"] = 1 / max(1, t - group["t0"])
