"""Levenberg–Marquardt for least squares ``L(θ) = ½‖r(θ)‖²`` (lecture 000).

A blend of Gauss–Newton and gradient descent: solve ``(JᵀJ + λI) δ = −Jᵀr`` with ``J = ∂r/∂θ``
from the engine (one reverse pass per residual); accept the step and shrink λ if the loss
fell (towards Gauss–Newton), otherwise reject it and grow λ (towards short gradient steps).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..autodiff import Tensor, grad_of, no_grad
from ..backend.device import to_device
from ..backend.namespace import namespace_of
from .optimizer import Optimizer


class LevenbergMarquardt(Optimizer):
    """``step(residuals)``: ``residuals()`` returns the residual vector ``r(θ)`` as a Tensor."""

    def __init__(self, params, damping: float = 1e-2, increase: float = 10.0, decrease: float = 0.1,
                 max_tries: int = 10):  # fmt: skip
        super().__init__(params, dict(lr=1.0, damping=damping, increase=increase, decrease=decrease, max_tries=max_tries))
        self.damping = damping

    def _params(self) -> list[Tensor]:
        return [p for g in self.param_groups for p in g["params"]]

    def jacobian(self, r: Tensor, params: list[Tensor]) -> np.ndarray:
        """``J = ∂r/∂θ`` (residuals × parameters, each flattened in order), one reverse pass per
        residual on the residuals' device, as a host float64 array: the normal equations are a
        small dense system, solved on the host."""
        flat_r = r.reshape(-1)
        xp = namespace_of(flat_r.data)
        rows = []
        for i in range(flat_r.size):
            e = xp.zeros(flat_r.shape, flat_r.dtype, device=xp.device(flat_r.data))
            e[i] = 1
            gs = grad_of(flat_r, params, grad=e, retain_graph=True)
            rows.append(xp.concatenate([xp.reshape(g.data, (-1,)) for g in gs]))
        return to_device(xp.stack(rows), "cpu", np.float64)

    def step(self, closure: Callable[[], Tensor] | None = None):
        if closure is None:
            raise ValueError("LevenbergMarquardt.step needs a closure returning the residual vector")
        params = self._params()
        r = closure()
        J = self.jacobian(r, params)
        rv = to_device(r.data, "cpu", np.float64).reshape(-1)
        loss = 0.5 * float(rv @ rv)
        A, b = J.T @ J, J.T @ rv
        start = self._snapshot(params)
        group = self.param_groups[0]
        damping = self.damping
        try:
            for _ in range(group["max_tries"]):
                try:
                    delta = np.linalg.solve(A + self.damping * np.eye(len(b)), -b)
                except np.linalg.LinAlgError:
                    self.damping *= group["increase"]
                    continue
                offset = 0
                with no_grad():
                    for p, w0 in zip(params, start):
                        n = p.size
                        p.copy_(w0 + to_device(delta[offset : offset + n].reshape(p.shape), p.device, p.dtype))
                        offset += n
                    rn = to_device(closure().data, "cpu", np.float64).reshape(-1)
                new_loss = 0.5 * float(rn @ rn)
                if np.isfinite(new_loss) and new_loss < loss:
                    self.damping = max(self.damping * group["decrease"], 1e-12)
                    return new_loss
                self.damping *= group["increase"]
            self._put_back(params, start)  # no improving step found: keep the old parameters
            return loss
        except BaseException:  # a closure that raises mid-search: parameters and damping as before the step
            self.damping = damping
            self._put_back(params, start)
            raise

    def update(self, p, g, state, group):  # pragma: no cover - step() is overridden
        raise NotImplementedError
