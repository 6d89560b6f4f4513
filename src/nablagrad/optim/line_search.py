"""Steepest descent: on each step, minimise the loss exactly along the antigradient (lecture 000),

``μ* = argmin_{μ ≥ 0} L(w − μ ∇L(w))``,  ``w ← w − μ* ∇L(w)``.

The 1-D minimum is bracketed by doubling, then located by golden-section search.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from ..autodiff import enable_grad, no_grad
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
    """Gradient descent with an exact line search along ``−∇L``:
    ``μ* = argmin_{μ ≥ 0} L(w − μ ∇L(w))``, ``w ← w − μ* ∇L(w)`` (``last_step_size`` is ``μ*``).

    ``step(closure)`` takes either closure a PyTorch user writes: one that zeroes the gradients, computes the
    loss, calls ``backward()`` and returns the loss (as for ``LBFGS``), or one that only returns the loss, the
    gradients having been put in ``.grad`` before the step.  The first call, at ``w``, runs with gradients
    enabled; where it wrote any ``.grad`` the closure is of the first kind and every trial point of the
    search calls it with gradients enabled too (a gradient per trial, unused), else they run under
    ``no_grad`` (the loss only: cheaper).  After the step ``.grad`` holds ``∇L(w)``, the gradient the step
    used, and ``step`` returns ``L(w)`` as a float.  A closure that raises leaves the parameters unchanged.
    """

    def __init__(self, params, initial_step: float = 1.0, tol: float = 1e-10, max_step: float = 1e6):
        super().__init__(params, dict(lr=initial_step, tol=tol, max_step=max_step))
        self.last_step_size = 0.0

    def step(self, closure=None):
        if closure is None or not callable(closure):
            raise TypeError("SteepestDescent.step needs a closure that returns the loss, e.g. def closure(): "
                            "opt.zero_grad(); loss = f(); loss.backward(); return loss — then opt.step(closure)")  # fmt: skip
        every = [p for g in self.param_groups for p in g["params"]]
        before = [(p.grad, None if p.grad is None else p.grad.data) for p in every]
        with enable_grad():
            f0 = _loss_value(closure())
        f0 = f0 if math.isfinite(f0) else math.inf  # any finite loss along the search is better
        computes_grads = any(p.grad is not g or (g is not None and g.data is not d) for p, (g, d) in zip(every, before))
        self._check_grads()
        params = [p for p in every if p.grad is not None]
        if not params:  # nothing to move along (torch skips parameters without gradients)
            self.last_step_size = 0.0
            return f0
        grads = [p.grad for p in params]  # ∇L(w): the gradient tensors, never written in place
        start = self._snapshot(params)
        direction = [-g.data for g in grads]
        group = self.param_groups[0]
        trial = enable_grad if computes_grads else no_grad

        def phi(mu: float) -> float:
            with no_grad():
                for p, w0, d in zip(params, start, direction):
                    p.copy_(w0 + mu * d)
            with trial():
                value = _loss_value(closure())
            return value if math.isfinite(value) else math.inf

        try:
            hi = group["lr"]
            while phi(hi) < f0 and hi < group["max_step"]:
                hi *= 2.0  # bracket: grow until the loss rises again
            mu = golden_section(phi, 0.0, hi, tol=group["tol"])
            if phi(mu) > f0:
                mu = 0.0
        except BaseException:  # a closure that raises mid-search: the parameters as before the step
            self._put_back(params, start)
            raise
        finally:
            for p, g in zip(params, grads):  # a closure that calls backward() left a trial point's gradient
                p.grad = g
        with no_grad():
            for p, w0, d in zip(params, start, direction):
                p.copy_(w0 + mu * d)
        self.last_step_size = mu
        return f0

    def update(self, p, g, state, group):  # pragma: no cover - step() is overridden
        raise NotImplementedError


def _loss_value(loss) -> float:
    """The closure's loss (a one-element tensor or a number) as a float, else the error that names the fix."""
    try:
        return float(loss)
    except (TypeError, ValueError):
        raise TypeError(f"SteepestDescent.step: the closure must return the loss (a one-element tensor or a number), "
                        f"got {type(loss).__name__} {str(loss)[:60]}") from None
