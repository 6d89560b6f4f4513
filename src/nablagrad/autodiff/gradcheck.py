"""``gradcheck``: analytic derivatives against central finite differences in float64.

Numeric derivative: ``∂f_j/∂x_i ≈ (f_j(x + ε e_i) − f_j(x − ε e_i)) / 2ε`` (error O(ε²)).
Both the reverse-mode Jacobian (VJP rules) and the forward-mode one (JVP rules) are checked.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .mode import no_grad
from .tensor import Tensor, tensor
from .transforms import jacfwd, jacrev


class GradcheckError(AssertionError):
    """Analytic and numeric derivatives disagree; the message lists the worst entries."""


def numeric_jacobian(f: Callable, inputs: list[np.ndarray], argnum: int, eps: float) -> np.ndarray:
    x = inputs[argnum]
    cols = []
    for i in range(x.size):
        plus, minus = x.copy(), x.copy()
        plus.flat[i] += eps
        minus.flat[i] -= eps
        with no_grad():
            fp = np.asarray(_call(f, inputs, argnum, plus), dtype=np.float64)
            fm = np.asarray(_call(f, inputs, argnum, minus), dtype=np.float64)
        cols.append(((fp - fm) / (2 * eps)).reshape(-1))
    out_shape = np.shape(fp)
    return np.stack(cols, axis=-1).reshape(out_shape + x.shape)


def _call(f, inputs, argnum, x):
    args = [tensor(a) for a in inputs]
    args[argnum] = tensor(x)
    out = f(*args)
    return out.data if isinstance(out, Tensor) else out


def gradcheck(
    f: Callable,
    *inputs,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    modes: tuple[str, ...] = ("reverse", "forward"),
) -> bool:
    """True when every analytic Jacobian entry matches central differences; raises otherwise."""
    arrays = [np.array(x.data if isinstance(x, Tensor) else x, dtype=np.float64) for x in inputs]
    problems = []
    for argnum in range(len(arrays)):
        numeric = numeric_jacobian(f, arrays, argnum, eps)
        for mode in modes:
            jac = (jacrev if mode == "reverse" else jacfwd)(f, argnums=argnum)
            analytic = np.asarray(jac(*[tensor(a) for a in arrays]).data, dtype=np.float64)
            if analytic.shape != numeric.shape:
                raise GradcheckError(f"gradcheck: {mode} Jacobian has shape {analytic.shape}, numeric {numeric.shape}")
            err = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
            if np.any(err > 0) or not np.all(np.isfinite(analytic)):
                worst = np.argsort(-np.nan_to_num(err, nan=np.inf), axis=None)[:5]
                for flat in worst:
                    idx = np.unravel_index(flat, err.shape)
                    if err[idx] > 0 or not np.isfinite(analytic[idx]):
                        problems.append(
                            f"  input {argnum}, {mode} mode, Jacobian index {tuple(int(i) for i in idx)}: "
                            f"analytic {analytic[idx]:.10g}, numeric {numeric[idx]:.10g}"
                        )
    if problems:
        raise GradcheckError("gradcheck failed; worst entries:\n" + "\n".join(problems))
    return True
