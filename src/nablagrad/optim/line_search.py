"""Steepest descent: on each step, minimise the loss exactly along the antigradient (lecture 000),

``μ* = argmin_{μ ≥ 0} L(w − μ ∇L(w))``,  ``w ← w − μ* ∇L(w)``.

The 1-D minimum is bracketed by doubling, then located by golden-section search.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from ..autodiff import no_grad
from .optimizer import Optimizer

_GOLD = (math.sqrt(5) - 1) / 2


def golden_section(phi: Callable[[float], float], lo: float, hi: float, tol: float = 1e-10, max_iter: int = 200) -> float:
    """Minimiser of a unimodal ``phi`` on [lo, hi]."""
    a, b = lo, hi
    c, d = b - _GOLD * (b - a), a + _GOLD * (b - a)
    fc, fd = phi(c), phi(d)
    for _ in range(max_iter):
        if abs(b - a) <= tol * (1 + abs(a) + abs(b)):
            break
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - _GOLD * (b - a)
            fc = phi(c)
        else:
            a, c, fc = c, d, fd
            d = a + _GOLD * (b - a)
            fd = phi(d)
    return (a + b) / 2


class SteepestDescent(Optimizer):
    """Gradient descent with an exact line search along ``−∇L``.

    ``step(closure)``: ``closure()`` must return the loss at the current parameters (it is
    evaluated many times; gradients must already be in ``.grad``).
    """

    def __init__(self, params, initial_step: float = 1.0, tol: float = 1e-10, max_step: float = 1e6):
        super().__init__(params, dict(lr=initial_step, tol=tol, max_step=max_step))
        self.last_step_size = 0.0

    def step(self, closure=None):
        if closure is None:
            raise ValueError("SteepestDescent.step needs a closure that returns the loss")
        self._check_grads()
        params = [p for g in self.param_groups for p in g["params"] if p.grad is not None]
        start = self._snapshot(params)
        direction = [-p.grad.data for p in params]
        group = self.param_groups[0]

        def phi(mu: float) -> float:
            with no_grad():
                for p, w0, d in zip(params, start, direction):
                    p.copy_(w0 + mu * d)
                value = float(closure().item())
            return value if math.isfinite(value) else math.inf

        try:
            f0 = phi(0.0)
            hi = group["lr"]
            while phi(hi) < f0 and hi < group["max_step"]:
                hi *= 2.0  # bracket: grow until the loss rises again
            mu = golden_section(phi, 0.0, hi, tol=group["tol"])
            if phi(mu) > f0:
                mu = 0.0
        except BaseException:  # a closure that raises mid-search: the parameters as before the step
            self._put_back(params, start)
            raise
        with no_grad():
            for p, w0, d in zip(params, start, direction):
                p.copy_(w0 + mu * d)
        self.last_step_size = mu
        return f0

    def update(self, p, g, state, group):  # pragma: no cover - step() is overridden
        raise NotImplementedError
