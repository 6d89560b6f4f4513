"""Kolmogorov–Arnold networks (lecture 000).

The Kolmogorov–Arnold theorem: every continuous ``f: [0, 1]ⁿ → ℝ`` can be written as
``f(x_1, …, x_n) = Σ_{j=1}^{2n+1} g_j(Σ_{i=1}^{n} h_{ij}(x_i))`` with continuous functions of one
variable.  A KAN layer learns such one-variable functions, one per edge (input i → output j),

``y_j = Σ_i φ_ij(x_i)``,  ``φ_ij(x) = w^base_ij · silu(x) + Σ_c w^spline_icj · B_c(x)``,

where ``B_c`` are the B-splines of degree ``spline_order`` on a uniform grid of ``grid_size``
intervals over ``grid_range``, extended by ``spline_order`` knots on each side (so there are
``grid_size + spline_order`` of them, and inside the range they sum to 1).  Everything is built
from engine primitives, so the tape differentiates through the splines to the parameters and to
the inputs (a KAN of several layers trains end to end).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .. import backend
from ..autodiff import Tensor, as_tensor, sigmoid
from ..backend.checks import is_int
from ..backend.device import to_device
from . import init as init_mod
from .layers import _zeros_parameter, feature_rows
from .module import Module, Parameter, Sequential


def uniform_knots(grid_size: int, spline_order: int, grid_range: tuple[float, float]) -> np.ndarray:
    """``grid_size + 2·spline_order + 1`` equally spaced knots, ``grid_range`` in the middle."""
    lo, hi = grid_range
    h = (hi - lo) / grid_size
    return lo + h * np.arange(-spline_order, grid_size + spline_order + 1, dtype=np.float64)


def bspline_basis(x, knots: np.ndarray, order: int) -> Tensor:
    """All B-splines of degree ``order`` on ``knots`` at ``x`` (any shape): shape ``x.shape + (len(knots) − order − 1,)``.

    Cox–de Boor: ``B_{c,0}(x) = [t_c ≤ x < t_{c+1}]``,
    ``B_{c,k}(x) = (x − t_c)/(t_{c+k} − t_c)·B_{c,k−1}(x) + (t_{c+k+1} − x)/(t_{c+k+1} − t_{c+1})·B_{c+1,k−1}(x)``.
    """
    x = as_tensor(x)
    t = to_device(knots, x.device, x.dtype)
    xe = x.reshape(*x.shape, 1)
    B = ((xe >= t[:-1]) & (xe < t[1:])).astype(x.dtype)  # degree 0: indicators (comparisons: no gradient)
    for k in range(1, order + 1):
        left = (xe - t[: -(k + 1)]) / (t[k:-1] - t[: -(k + 1)])
        # (t_{c+k+1} − x)/(t_{c+k+1} − t_{c+1}) with both signs flipped (the same bits): the tensor goes on
        # the left, as an array of another library refuses a tensor on its right
        right = (xe - t[k + 1 :]) / (t[1:-k] - t[k + 1 :])
        B = left * B[..., :-1] + right * B[..., 1:]
    return B


class KANLinear(Module):
    """One Kolmogorov–Arnold layer ``ℝ^in → ℝ^out``: a learnable function on every edge,
    ``y_j = Σ_i [w^base_ij silu(x_i) + Σ_c w^spline_icj B_c(x_i)]`` (see the module docstring).

    Parameters: ``base_weight`` (in, out), ``spline_weight`` (in, grid_size + spline_order, out).
    Inputs are expected mostly inside ``grid_range`` (outside it the splines vanish and only the
    ``silu`` part remains).  By default ``w^base ~ U(±1/√in)`` (as ``Linear``) and
    ``w^spline ~ N(0, (scale_noise/√in)²)``; ``init``, a callable, is called on each parameter instead
    (as ``Linear``'s callable ``init``; a loader passes one that leaves them as allocated, zeros).
    """

    def __init__(self, in_features: int, out_features: int, grid_size: int = 5, spline_order: int = 3,
                 grid_range: tuple[float, float] = (-1.0, 1.0), scale_noise: float = 0.1, dtype=None, seed=None,
                 init: Callable | None = None):  # fmt: skip
        super().__init__()
        for name, v in (("in_features", in_features), ("out_features", out_features), ("grid_size", grid_size),
                        ("spline_order", spline_order)):  # fmt: skip
            if not is_int(v):
                raise TypeError(f"KANLinear: {name} must be an integer, got {v!r} ({type(v).__name__})")
        if in_features <= 0 or out_features <= 0:
            raise ValueError(f"KANLinear: sizes must be positive, got in={in_features}, out={out_features}")
        if grid_size < 1 or spline_order < 0:
            raise ValueError(f"KANLinear: need grid_size >= 1 and spline_order >= 0, got {grid_size}, {spline_order}")
        if not grid_range[0] < grid_range[1]:
            raise ValueError(f"KANLinear: grid_range must be increasing, got {grid_range}")
        if init is not None and not callable(init):
            raise TypeError(f"KANLinear: init must be None or a callable init(parameter), got {init!r}")
        self.in_features, self.out_features = in_features, out_features
        self.grid_size, self.spline_order, self.grid_range = grid_size, spline_order, tuple(grid_range)
        self.knots = uniform_knots(grid_size, spline_order, self.grid_range)
        dt = np.dtype(dtype) if dtype is not None else backend.get_default_dtype()
        n_basis = grid_size + spline_order
        self.base_weight = _zeros_parameter((in_features, out_features), dt, "KANLinear")
        if init is None:
            rng = backend.resolve_rng(seed)
            init_mod.default_linear_(self.base_weight, in_features, rng)
            self.spline_weight = Parameter(
                (rng.normal(0.0, scale_noise / np.sqrt(in_features), (in_features, n_basis, out_features))).astype(dt)
            )
        else:  # no random draw (the spline weights' would pass through float64, several times their bytes)
            self.spline_weight = _zeros_parameter((in_features, n_basis, out_features), dt, "KANLinear")
            init(self.base_weight)
            init(self.spline_weight)

    def basis(self, x) -> Tensor:
        """The B-splines at every input: (N, in, grid_size + spline_order)."""
        return bspline_basis(x, self.knots, self.spline_order)

    def forward(self, x):
        """Rows (N, in) give (N, out); as ``Linear``, one example (in,) or leading axes (…, in) too."""
        x = feature_rows(x, f"KANLinear({self.in_features}, {self.out_features})", self.in_features,
                         self.base_weight.dtype)  # fmt: skip
        lead = x.shape[:-1]
        x = x.reshape(-1, self.in_features)
        n = x.shape[0]
        base = (x * sigmoid(x)) @ self.base_weight  # silu(x) = x·σ(x)
        splines = self.basis(x).reshape(n, -1) @ self.spline_weight.reshape(-1, self.out_features)
        return (base + splines).reshape(*lead, self.out_features)

    def edge_functions(self, x) -> np.ndarray:
        """``φ_ij(x)`` at the points ``x`` (1-D) for every edge: shape (len(x), in, out)."""
        x = to_device(x.data if isinstance(x, Tensor) else x, "cpu", self.base_weight.dtype).reshape(-1)  # a plot's points
        B = self.basis(x).numpy()  # (M, n_basis)
        silu = x / (1 + np.exp(-x))
        return silu[:, None, None] * self.base_weight.numpy()[None] + np.einsum("mc,icj->mij", B, self.spline_weight.numpy())

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, grid_size={self.grid_size}, "
                f"spline_order={self.spline_order}")  # fmt: skip


class KAN(Sequential):
    """A Kolmogorov–Arnold network ``KAN([2, 5, 1])``: ``KANLinear`` layers ``sizes[i] → sizes[i+1]``
    (no activations between them: the learned edge functions are the nonlinearity); ``init`` is passed to
    each layer (see :class:`KANLinear`)."""

    def __init__(self, sizes: Sequence[int], grid_size: int = 5, spline_order: int = 3,
                 grid_range: tuple[float, float] = (-1.0, 1.0), dtype=None, seed=None, init: Callable | None = None):  # fmt: skip
        if isinstance(sizes, str) or not isinstance(sizes, Sequence):
            raise TypeError(f"KAN: sizes must be a list of layer widths such as [2, 5, 1], got {sizes!r}")
        if len(sizes) < 2:
            raise ValueError(f"KAN: sizes needs at least input and output sizes, got {list(sizes)}")
        rng = backend.resolve_rng(seed)
        super().__init__(*(KANLinear(a, b, grid_size, spline_order, grid_range, dtype=dtype, seed=rng, init=init)
                           for a, b in zip(sizes, sizes[1:])))  # fmt: skip
        self.sizes = list(sizes)
