"""A corpus of nested transforms against torch.func in float64: every op of a wide table (elementwise math
with its kinks at 0, reductions, products and linear algebra, shape ops and indexing, softmax and losses)
under depth-2 and depth-3 compositions of grad, jvp, vjp, jacfwd, jacrev, hessian and vmap; then closures
over an outer level's variable (perturbation confusion), argnums tuples, has_aux and pytrees.

Each op and each transform is written once, over a namespace ``L`` that is nablagrad's or torch's."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")  # the oracle; without it these tests are skipped
tf = torch.func

pytestmark = pytest.mark.numpy_only("transforms are the same code on every device; one oracle run")


# --- the two libraries, behind one namespace --------------------------------------------------------------
class NG:
    lib, F, linalg, func = ng, ng.nn.functional, ng.linalg, ng

    @staticmethod
    def t(a) -> ng.Tensor:
        return ng.tensor(np.asarray(a))

    @staticmethod
    def host(x) -> np.ndarray:
        return np.asarray(x.numpy())


class TH:
    lib, F, linalg, func = torch, torch.nn.functional, torch.linalg, tf

    @staticmethod
    def t(a) -> torch.Tensor:
        return torch.tensor(np.asarray(a))

    @staticmethod
    def host(x) -> np.ndarray:
        return x.detach().numpy(force=True)  # force: torch gives some zero derivatives as lazy ZeroTensors


def weights(shape: tuple, seed: float = 0.3) -> np.ndarray:
    """A fixed, asymmetric array of ``shape`` (so that no two entries of a derivative look alike)."""
    n = int(np.prod(shape, dtype=int))
    return np.cos(0.7 * np.arange(n) + seed).reshape(shape)


def host_tree(L, tree):
    """Every tensor of a pytree (tuples, lists, dicts) as a NumPy array."""
    if isinstance(tree, dict):
        return {k: host_tree(L, v) for k, v in tree.items()}
    if isinstance(tree, tuple | list):
        return (tuple if isinstance(tree, tuple) else list)(host_tree(L, v) for v in tree)
    return L.host(tree)


def assert_trees_close(ours, theirs, rtol: float = 1e-9, atol: float = 1e-10) -> None:
    """The same structure (dict keys, tuple or list, lengths), and leaves of the same shape, dtype and values."""
    assert type(ours) is type(theirs), (type(ours), type(theirs))
    if isinstance(theirs, dict):
        assert sorted(ours) == sorted(theirs)
        for k in theirs:
            assert_trees_close(ours[k], theirs[k], rtol, atol)
    elif isinstance(theirs, tuple | list):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert_trees_close(a, b, rtol, atol)
    else:
        assert (ours.shape, ours.dtype) == (theirs.shape, theirs.dtype)
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol)


# --- the ops: (function of (L, x), input) -------------------------------------------------------------------
RNG = np.random.default_rng(15)
X23 = RNG.normal(size=(2, 3))
POS23 = RNG.uniform(0.5, 2.0, size=(2, 3))
UNIT23 = RNG.uniform(-0.8, 0.8, size=(2, 3))
KINK = np.array([[0.0, 1.2, -0.7], [0.5, 0.0, -0.5]])  # zeros and values at ±0.5 (clamp's bounds)
TIES = np.array([[0.4, 1.1, 1.1], [-0.3, -0.3, 0.2]])  # ties for max/min reductions
M33 = RNG.normal(size=(3, 3)) * 0.5
X222 = RNG.normal(size=(2, 2, 2))
IDX = np.array([2, 0, 2])
GIDX = np.array([[2, 0], [1, 1]])
TARGET = np.array([2, 0])
C23 = weights((2, 3), 1.1)
M_SPD = np.array([[2.0, 0.3, -0.2], [0.3, 1.5, 0.1], [-0.2, 0.1, 1.0]])
W34 = RNG.normal(size=(3, 4))


def _sym(L, x):
    return x + x.transpose(0, 1)


def _spd(L, x):
    return x @ x.transpose(0, 1) + L.t(np.eye(3))


def _linear(L, x):
    w = L.t(W34) if L is NG else L.t(W34.T)  # nablagrad's weight is (in, out), torch's (out, in)
    return L.F.linear(x, w, L.t(np.arange(4.0) * 0.1))


OPS: dict[str, tuple[Callable, np.ndarray]] = {
    # elementwise
    "sin": (lambda L, x: L.lib.sin(x), X23),
    "cos": (lambda L, x: L.lib.cos(x), X23),
    "tan": (lambda L, x: L.lib.tan(x), UNIT23),
    "exp": (lambda L, x: L.lib.exp(x), X23),
    "log": (lambda L, x: L.lib.log(x), POS23),
    "sqrt": (lambda L, x: L.lib.sqrt(x), POS23),
    "rsqrt": (lambda L, x: L.lib.rsqrt(x), POS23),
    "tanh": (lambda L, x: L.lib.tanh(x), X23),
    "sigmoid": (lambda L, x: L.lib.sigmoid(x), X23),
    "erf": (lambda L, x: L.lib.erf(x), X23),
    "expm1": (lambda L, x: L.lib.expm1(x), X23),
    "log1p": (lambda L, x: L.lib.log1p(x), POS23),
    "atan": (lambda L, x: L.lib.atan(x), X23),
    "asinh": (lambda L, x: L.lib.asinh(x), X23),
    "reciprocal": (lambda L, x: L.lib.reciprocal(x), POS23),
    "pow3": (lambda L, x: x**3, X23),
    "pow_frac": (lambda L, x: x**2.5, POS23),
    "pow_tensor": (lambda L, x: L.lib.pow(x, L.t(C23) + 2.0), POS23),
    "div": (lambda L, x: L.t(C23) / (x + 3.0), X23),
    "mul_self": (lambda L, x: x * x.flip(1), X23),
    "atan2": (lambda L, x: L.lib.atan2(x, L.t(C23) + 0.5), X23),
    "hypot": (lambda L, x: L.lib.hypot(x, L.t(C23)), X23),
    "softplus": (lambda L, x: L.F.softplus(x), X23),
    "silu": (lambda L, x: L.F.silu(x), X23),
    "gelu": (lambda L, x: L.F.gelu(x), X23),
    "gelu_tanh": (lambda L, x: L.F.gelu(x, approximate="tanh"), X23),
    "elu": (lambda L, x: L.F.elu(x), X23),
    # kinks at 0, ties, bounds
    "relu": (lambda L, x: L.lib.relu(x), KINK),
    "abs": (lambda L, x: L.lib.abs(x), KINK),
    "leaky_relu": (lambda L, x: L.F.leaky_relu(x, 0.1), KINK),
    "maximum_tie": (lambda L, x: L.lib.maximum(x, L.t(KINK)), KINK),
    "minimum_tie": (lambda L, x: L.lib.minimum(x, L.t(KINK * 0.0 + 0.5)), KINK),
    "maximum_self": (lambda L, x: L.lib.maximum(x, x.flip(1)), TIES),
    "clamp": (lambda L, x: L.lib.clamp(x, -0.5, 0.5), KINK),
    "clamp_min": (lambda L, x: L.lib.clamp(x, min=0.0), KINK),
    "where": (lambda L, x: L.lib.where(x > 0, x * x, L.lib.sin(x)), KINK),
    "where_self": (lambda L, x: L.lib.where(x >= 0.5, x, -x), KINK),
    "sign_mul": (lambda L, x: L.lib.sign(x) * x * x, KINK),
    # reductions
    "sum_dim": (lambda L, x: (x * x).sum(dim=1), X23),
    "mean_dim": (lambda L, x: (x * x).mean(dim=0), X23),
    "sum_all": (lambda L, x: L.lib.sum(x**3), X23),
    "prod": (lambda L, x: L.lib.prod(x, dim=1), X23),
    "prod_all": (lambda L, x: L.lib.prod(x), X23),
    "amax": (lambda L, x: L.lib.amax(x, dim=1), TIES),
    "amin": (lambda L, x: L.lib.amin(x, dim=0), TIES),
    "amax_all": (lambda L, x: L.lib.amax(x), TIES),
    "max_values": (lambda L, x: x.max(dim=1).values, X23),
    "logsumexp": (lambda L, x: L.lib.logsumexp(x, dim=1), X23),
    "norm_vec": (lambda L, x: L.linalg.vector_norm(x, dim=1), X23),
    "norm_3": (lambda L, x: L.linalg.vector_norm(x, ord=3, dim=0), X23),
    "norm_fro": (lambda L, x: L.linalg.norm(x), X23),
    "std": (lambda L, x: x.std(dim=1), X23),
    "var_pop": (lambda L, x: x.var(dim=0, correction=0), X23),
    "var_all": (lambda L, x: x.var(), X23),
    "cumsum": (lambda L, x: L.lib.cumsum(x * x, dim=1), X23),
    "cumprod": (lambda L, x: L.lib.cumprod(x, dim=1), X23),
    "logcumsumexp": (lambda L, x: L.lib.logcumsumexp(x, dim=1), X23),
    "sort_values": (lambda L, x: L.lib.sort(x, dim=1).values, X23),
    "topk_values": (lambda L, x: x.topk(2, dim=1).values, X23),
    # products and linear algebra
    "matmul": (lambda L, x: x @ L.t(W34), X23),
    "matmul_self": (lambda L, x: x @ x, M33),
    "einsum_bilinear": (lambda L, x: L.lib.einsum("ij,kj->ik", x, x * x), X23),
    "einsum_trace": (lambda L, x: L.lib.einsum("ii->", x @ x), M33),
    "einsum_batch": (lambda L, x: L.lib.einsum("bij,bjk->bik", x, x.transpose(1, 2)), X222),
    "outer": (lambda L, x: L.lib.outer(x[0], x[1]), X23),
    "inv": (lambda L, x: L.linalg.inv(x + L.t(2.0 * np.eye(3))), M33),
    "det": (lambda L, x: L.linalg.det(x + L.t(np.eye(3))), M33),
    "slogdet": (lambda L, x: L.linalg.slogdet(x + L.t(2.0 * np.eye(3))).logabsdet, M33),
    "solve": (lambda L, x: L.linalg.solve(x + L.t(2.0 * np.eye(3)), L.t(W34)), M33),
    "solve_rhs": (lambda L, x: L.linalg.solve(L.t(M_SPD), x.transpose(0, 1)), X23),
    "cholesky": (lambda L, x: L.linalg.cholesky(_spd(L, x)), M33),
    "eigvalsh": (lambda L, x: L.linalg.eigvalsh(_sym(L, x)), M33),
    "eigh_values": (lambda L, x: L.linalg.eigh(_sym(L, x)).eigenvalues, M33),
    "svdvals": (lambda L, x: L.linalg.svdvals(x), X23),
    "norm_nuc": (lambda L, x: L.linalg.matrix_norm(x, ord="nuc"), X23),
    "linear": (_linear, X23),
    # shape ops and indexing
    "reshape": (lambda L, x: L.lib.sin(x).reshape(3, 2), X23),
    "transpose": (lambda L, x: x.transpose(0, 1) * L.t(C23.T), X23),
    "permute": (lambda L, x: x.permute(2, 0, 1) ** 2, X222),
    "slice": (lambda L, x: x[:, 1:] * x[:, :2], X23),
    "slice_step": (lambda L, x: x[:, ::2] ** 2, X23),
    "int_index": (lambda L, x: x[1] * x[0, 2], X23),
    "array_index": (lambda L, x: x[:, L.t(IDX)] ** 2, X23),
    "array_index_2d": (lambda L, x: x[L.t(np.array([1, 0, 1])), L.t(IDX)] ** 2, X23),
    "gather": (lambda L, x: L.lib.gather(x * x, 1, L.t(GIDX)), X23),
    "index_select": (lambda L, x: L.lib.index_select(x, 1, L.t(IDX)) ** 2, X23),
    "take_along_dim": (lambda L, x: L.lib.take_along_dim(x, L.t(GIDX), dim=1) ** 3, X23),
    "stack": (lambda L, x: L.lib.stack([x, L.lib.sin(x), x * x], dim=1), X23),
    "cat": (lambda L, x: L.lib.cat([x, x * x], dim=1), X23),
    "expand": (lambda L, x: x[:1].expand(4, 3) * L.t(weights((4, 3))), X23),
    "broadcast_to": (lambda L, x: L.lib.broadcast_to(x[:, :1] ** 2, (2, 5)), X23),
    "broadcast_mul": (lambda L, x: x[:, None, :] * x[None, :, :], X23),
    "unsqueeze_squeeze": (lambda L, x: (x.unsqueeze(0) ** 2).squeeze(0), X23),
    "flip": (lambda L, x: x.flip(1) * x, X23),
    "roll": (lambda L, x: L.lib.roll(x, 1, 1) * x, X23),
    "diagonal": (lambda L, x: L.lib.diagonal(x @ x), M33),
    "tril": (lambda L, x: L.lib.tril(x * x), M33),
    "split": (lambda L, x: x.split(2, dim=1)[1] * x.split(2, dim=1)[0][:, :1], X23),
    "unbind": (lambda L, x: x.unbind(0)[0] * x.unbind(0)[1], X23),
    "flatten": (lambda L, x: x.flatten() ** 2, X222),
    # softmax, losses
    "softmax": (lambda L, x: L.lib.softmax(x, dim=1), X23),
    "log_softmax": (lambda L, x: L.lib.log_softmax(x, dim=0), X23),
    "cross_entropy": (lambda L, x: L.F.cross_entropy(x, L.t(TARGET)), X23),
    "cross_entropy_sum_smooth": (lambda L, x: L.F.cross_entropy(x, L.t(TARGET), reduction="sum", label_smoothing=0.1), X23),
    "nll_loss": (lambda L, x: L.F.nll_loss(L.F.log_softmax(x, dim=1), L.t(TARGET)), X23),
    "mse_loss": (lambda L, x: L.F.mse_loss(x, L.t(C23)), X23),
    "bce_logits": (lambda L, x: L.F.binary_cross_entropy_with_logits(x, L.t((C23 > 0) * 1.0)), X23),
    "huber": (lambda L, x: L.F.huber_loss(x, L.t(C23), reduction="none", delta=0.5), X23),
    "smooth_l1": (lambda L, x: L.F.smooth_l1_loss(x, L.t(C23), reduction="sum"), X23),
    "kl_div": (lambda L, x: L.F.kl_div(L.F.log_softmax(x, dim=1), L.t(np.full((2, 3), 1 / 3)), reduction="batchmean"), X23),
    "normalize": (lambda L, x: L.F.normalize(x, dim=1), X23),
    "cross_entropy_weight": (lambda L, x: L.F.cross_entropy(x, L.t(TARGET), weight=L.t(np.array([0.2, 1.0, 2.0]))), X23),
    "cross_entropy_probs": (lambda L, x: L.F.cross_entropy(x, L.lib.softmax(L.t(C23), dim=1)), X23),
    "nll_ignore": (lambda L, x: L.F.nll_loss(L.F.log_softmax(x, dim=1), L.t(np.array([2, -100]))), X23),
    "l1_loss": (lambda L, x: L.F.l1_loss(x, L.t(KINK)), KINK),
    "bce_probs": (lambda L, x: L.F.binary_cross_entropy(L.lib.sigmoid(x), L.t((C23 > 0) * 1.0)), X23),
    "kl_div_log_target": (
        lambda L, x: L.F.kl_div(L.F.log_softmax(x, dim=1), L.t(C23 * 0.3 - 1.2), reduction="sum", log_target=True),
        X23,
    ),
    "prelu": (lambda L, x: L.F.prelu(x, L.t(np.array([0.25]))), X23),
    # more math, kinks and zeros
    "pow2_at_zero": (lambda L, x: x**2, KINK),
    "pow3_at_zero": (lambda L, x: x**3, KINK),
    "pow_int_neg_base": (lambda L, x: (x - 1.0) ** 4, X23),
    "square": (lambda L, x: L.lib.square(x), KINK),
    "mul_at_zero": (lambda L, x: x * x * x, KINK),
    "prod_with_zero": (lambda L, x: L.lib.prod(x, dim=1), KINK),
    "prod_all_with_zero": (lambda L, x: L.lib.prod(x + 0.5), KINK),
    "cumprod_with_zero": (lambda L, x: L.lib.cumprod(x, dim=1), KINK),
    "max_all": (lambda L, x: x.max(), X23),
    "min_dim_ties": (lambda L, x: x.min(dim=1).values, TIES),
    "median": (lambda L, x: L.lib.median(x), X23),
    "quantile": (lambda L, x: L.lib.quantile(x, 0.3, dim=1), X23),
    "logaddexp": (lambda L, x: L.lib.logaddexp(x, L.t(C23)), X23),
    "lerp": (lambda L, x: L.lib.lerp(x, L.t(C23), x * 0.3), X23),
    "sinh_cosh": (lambda L, x: L.lib.sinh(x) * L.lib.cosh(x), X23),
    "asin_acos": (lambda L, x: L.lib.asin(x) + L.lib.acos(x) * x, UNIT23),
    "atanh": (lambda L, x: L.lib.atanh(x), UNIT23),
    "log2_log10": (lambda L, x: L.lib.log2(x) * L.lib.log10(x), POS23),
    "erfc": (lambda L, x: L.lib.erfc(x), X23),
    "floor_mul": (lambda L, x: L.lib.floor(x) * x, X23),
    "fmod": (lambda L, x: L.lib.fmod(x * 3.0, 1.3), X23),
    "remainder": (lambda L, x: L.lib.remainder(x * 3.0, 1.3), X23),
    "masked_fill": (lambda L, x: L.lib.masked_fill(x * x, L.t(KINK > 0), 0.5), X23),
    "scatter_add": (lambda L, x: L.lib.scatter_add(L.t(np.zeros((2, 4))), 1, L.t(np.array([[0, 3, 0], [1, 1, 2]])), x * x), X23),
    "diag": (lambda L, x: L.lib.diag(x[0] * x[1]), X23),
    "trace": (lambda L, x: L.lib.trace(x @ x), M33),
    "matrix_power": (lambda L, x: L.linalg.matrix_power(x, 3), M33),
    "pinv": (lambda L, x: L.linalg.pinv(x), X23),
    "qr_r": (lambda L, x: L.linalg.qr(x.transpose(0, 1)).R, X23),
    "eigh_matrix_fn": (lambda L, x: _eig_fn(L, _sym(L, x)), M33),
    "svd_reconstruct": (lambda L, x: _svd_fn(L, x), X23),
    "matrix_norm_2": (lambda L, x: L.linalg.matrix_norm(x, ord=2), X23),
    "kron": (lambda L, x: L.lib.kron(x, x[:, :2]), X23),
    "tile": (lambda L, x: L.lib.tile(x, (2, 1)) ** 2, X23),
    "repeat_interleave": (lambda L, x: L.lib.repeat_interleave(x, 2, dim=1) ** 2, X23),
    "diff": (lambda L, x: L.lib.diff(x * x, dim=1), X23),
    "triu": (lambda L, x: L.lib.triu(x * x, 1), M33),
    "movedim": (lambda L, x: L.lib.movedim(x * x, 0, 2), X222),
    "narrow": (lambda L, x: L.lib.narrow(x * x, 1, 1, 2), X23),
    "take_flat": (lambda L, x: L.lib.take(x * x, L.t(np.array([5, 0, 3, 3]))), X23),
    "softmax_3d": (lambda L, x: L.lib.softmax(x, dim=1), X222),
    "std_all": (lambda L, x: L.lib.std(x), X222),
    "var_keepdim": (lambda L, x: x.var(dim=(0, 2), keepdim=True), X222),
    "mean_multi": (lambda L, x: L.lib.mean(x**2, dim=(0, 2)), X222),
}


def _eig_fn(L, a):
    """``V diag(exp w) Vᵀ``: a function of eigh's eigenvectors that no choice of signs changes."""
    w, v = L.linalg.eigh(a)
    return (v * L.lib.exp(0.5 * w)) @ v.transpose(0, 1)


def _svd_fn(L, a):
    """``U diag(σ²) Vᵀ`` of the reduced SVD: signs of the singular vectors cancel."""
    u, s, vh = L.linalg.svd(a, full_matrices=False)
    return (u * s**2) @ vh


# --- the transforms: a scalar function of x made from the op, and the compositions ---------------------------
def scalar(L, op):
    """``f(x) = Σ w · sin(op(x))``: every order of derivative of the op shows up, none vanishes."""

    def f(x):
        y = op(L, x)
        return (L.lib.sin(y) * L.t(weights(tuple(y.shape)))).sum()

    return f


def vector(L, op):
    """The op itself, as a function of x."""
    return lambda x: op(L, x)


def _dot(L, a, seed: float = 0.9):
    """``Σ c · a`` for fixed weights c: a scalar that reads every entry of ``a``."""
    return (a * L.t(weights(tuple(a.shape), seed))).sum()


def _batch(x: np.ndarray, n: int = 3) -> np.ndarray:
    """``n`` examples near ``x`` (the first is x itself: its kinks stay)."""
    return np.stack([x * (1.0 + 0.15 * i) + 0.05 * i * (i % 2) for i in range(n)])


TRANSFORMS: dict[str, Callable] = {  # (L, op, x) -> result
    # depth 2
    "hessian": lambda L, op, x: L.func.hessian(scalar(L, op))(x),
    "jacrev_jacrev": lambda L, op, x: L.func.jacrev(L.func.jacrev(scalar(L, op)))(x),
    "jacrev_jacfwd": lambda L, op, x: L.func.jacrev(L.func.jacfwd(scalar(L, op)))(x),
    "jacfwd_jacfwd": lambda L, op, x: L.func.jacfwd(L.func.jacfwd(scalar(L, op)))(x),
    "grad_grad": lambda L, op, x: L.func.grad(lambda z: _dot(L, L.func.grad(scalar(L, op))(z)))(x),
    "jvp_grad": lambda L, op, x: L.func.jvp(L.func.grad(scalar(L, op)), (x,), (L.t(weights(x.shape, 2.0)),))[1],
    "grad_jvp": lambda L, op, x: L.func.grad(lambda z: L.func.jvp(scalar(L, op), (z,), (L.t(weights(x.shape, 2.0)),))[1])(x),
    "vjp_jvp": lambda L, op, x: _vjp_of_jvp(L, op, x),
    "jvp_vjp": lambda L, op, x: _jvp_of_vjp(L, op, x),
    "jacrev_vec": lambda L, op, x: L.func.jacrev(lambda z: L.func.jacfwd(vector(L, op))(z).sum(-1))(x),
    # depth 3
    "grad3": lambda L, op, x: L.func.grad(
        lambda z: _dot(L, L.func.grad(lambda w: _dot(L, L.func.grad(scalar(L, op))(w)))(z), 1.7)
    )(x),
    "jvp_jvp_grad": lambda L, op, x: L.func.jvp(
        lambda z: L.func.jvp(L.func.grad(scalar(L, op)), (z,), (L.t(weights(x.shape, 2.0)),))[1],
        (x,),
        (L.t(weights(x.shape, 0.4)),),
    )[1],
    "vjp_jvp_jvp": lambda L, op, x: L.func.vjp(
        lambda z: L.func.jvp(
            lambda w: L.func.jvp(vector(L, op), (w,), (L.t(weights(x.shape, 2.0)),))[1], (z,), (L.t(weights(x.shape, 0.4)),)
        )[1],
        x,
    )[1](L.t(weights(tuple(op(L, x).shape), 1.3)))[0],
    # with vmap
    "vmap_grad": lambda L, op, x: L.func.vmap(L.func.grad(scalar(L, op)))(L.t(_batch(L.host(x)))),
    "vmap_jacrev": lambda L, op, x: L.func.vmap(L.func.jacrev(vector(L, op)))(L.t(_batch(L.host(x)))),
    "vmap_hessian": lambda L, op, x: L.func.vmap(L.func.hessian(scalar(L, op)))(L.t(_batch(L.host(x)))),
    "grad_vmap_sum": lambda L, op, x: L.func.grad(lambda X: _dot(L, L.lib.sin(L.func.vmap(vector(L, op))(X))))(
        L.t(_batch(L.host(x)))
    ),
    "vmap_vmap_grad": lambda L, op, x: L.func.vmap(L.func.vmap(L.func.grad(scalar(L, op))))(
        L.t(np.stack([_batch(L.host(x), 2), -_batch(L.host(x), 2)]))
    ),
    "jacfwd_vmap": lambda L, op, x: L.func.jacfwd(L.func.vmap(vector(L, op)))(L.t(_batch(L.host(x), 2))),
    "jvp_vmap_grad": lambda L, op, x: L.func.jvp(
        L.func.vmap(L.func.grad(scalar(L, op))), (L.t(_batch(L.host(x))),), (L.t(weights((3, *x.shape), 0.2)),)
    )[1],
}


def _vjp_of_jvp(L, op, x):
    """``uᵀ ∂/∂x (∂op · v)``."""
    v = L.t(weights(x.shape, 2.0))
    tangent = lambda z: L.func.jvp(vector(L, op), (z,), (v,))[1]  # noqa: E731
    out, pull = L.func.vjp(tangent, x)
    return pull(L.t(weights(tuple(out.shape), 1.3)))[0]


def _jvp_of_vjp(L, op, x):
    """``∂/∂x (uᵀ ∂op) · v``."""
    u = L.t(weights(tuple(op(L, x).shape), 1.3))
    cot = lambda z: L.func.vjp(vector(L, op), z)[1](u)[0]  # noqa: E731
    return L.func.jvp(cot, (x,), (L.t(weights(x.shape, 2.0)),))[1]


# --- where torch.func cannot be the oracle: central differences of its first-order reverse derivatives ---------
def _directional(g: Callable, x: np.ndarray, v: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """``(g(x + h v) − g(x − h v)) / 2h``: the derivative of ``g`` along ``v``."""
    return (g(x + h * v) - g(x - h * v)) / (2 * h)


def _mixed(g: Callable, x: np.ndarray, a: np.ndarray, b: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """``∂²g/∂a∂b`` by the four-point central difference."""
    return (g(x + h * (a + b)) - g(x + h * (a - b)) - g(x - h * (a - b)) + g(x - h * (a + b))) / (4 * h * h)


def _jacobian(g: Callable, x: np.ndarray) -> np.ndarray:
    """``∂g/∂x`` column by column, shaped ``g.shape + x.shape``."""
    cols = [_directional(g, x, np.eye(x.size)[k].reshape(x.shape)) for k in range(x.size)]
    return np.stack(cols, axis=-1).reshape(np.shape(cols[0]) + x.shape)


def fd_oracle(transform: str, op: Callable, x: np.ndarray) -> np.ndarray:
    """The transform's value from torch's plain gradients (reverse mode, first order) and central differences."""
    g = lambda z: TH.host(tf.grad(scalar(TH, op))(TH.t(z)))  # noqa: E731 - ∇f
    u = weights(tuple(op(TH, TH.t(x)).shape), 1.3)
    pull = lambda z: TH.host(tf.vjp(vector(TH, op), TH.t(z))[1](TH.t(u))[0])  # noqa: E731 - uᵀ ∂op
    v, w = weights(x.shape, 2.0), weights(x.shape, 0.4)
    if transform in ("hessian", "jacrev_jacrev", "jacrev_jacfwd", "jacfwd_jacfwd"):
        return _jacobian(g, x)
    if transform == "grad_grad":
        return _directional(g, x, weights(x.shape, 0.9))  # H c, H symmetric
    if transform in ("jvp_grad", "grad_jvp"):
        return _directional(g, x, v)
    if transform in ("vjp_jvp", "jvp_vjp"):
        return _directional(pull, x, v)  # uᵀ ∂²op [v, ·]
    if transform == "jacrev_vec":
        return _jacobian(lambda z: TH.host(tf.jacrev(vector(TH, op))(TH.t(z)).sum(-1)), x)
    if transform == "grad3":
        return _mixed(g, x, weights(x.shape, 0.9), weights(x.shape, 1.7))
    if transform == "jvp_jvp_grad":
        return _mixed(g, x, v, w)
    if transform == "vjp_jvp_jvp":
        return _mixed(pull, x, v, w)
    if transform == "vmap_hessian":
        return np.stack([_jacobian(g, xi) for xi in _batch(x)])
    if transform == "vmap_jacrev":  # torch's jacrev example by example
        return np.stack([TH.host(tf.jacrev(vector(TH, op))(TH.t(xi))) for xi in _batch(x)])
    if transform == "vmap_vmap_grad":
        return np.stack([np.stack([g(xij) for xij in xi]) for xi in np.stack([_batch(x, 2), -_batch(x, 2)])])
    raise KeyError(transform)


# (op, transform) pairs where torch 2.13's torch.func is no oracle, checked against central differences instead.
# It raises: no forward-mode rule for huber_loss_backward; a shape error in prelu's batching rule and in
# mse/huber/smooth_l1 under two vmaps; an in-place error or an immutable ZeroTensor in the double backward of
# norms, std and mse. Or it is wrong: its forward-mode rules of det, slogdet and solve are not differentiable
# again (jvp of jvp and vjp of jvp miss terms; vmap(hessian) is off for every example but the first), nor are
# those of prod and cumprod through an exact 0; NaN for third derivatives of det, logcumsumexp and eigvalsh,
# and for reverse over forward of eigh's eigenvectors.
TORCH_CANNOT = [
    *[(op, "vjp_jvp_jvp") for op in ("norm_vec", "norm_3", "norm_fro", "std", "normalize", "eigvalsh", "eigh_values")],
    *[("mse_loss", t) for t in ("jvp_grad", "jvp_vjp", "jvp_jvp_grad", "vmap_vmap_grad")],
    ("bce_logits", "jacfwd_jacfwd"),
    *[("huber", t) for t in ("jacfwd_jacfwd", "jvp_grad", "jvp_vjp", "jvp_jvp_grad", "vjp_jvp_jvp", "vmap_vmap_grad")],
    ("smooth_l1", "vmap_vmap_grad"),
    ("logcumsumexp", "grad3"),
    ("prelu", "vmap_jacrev"),
    ("prelu", "vmap_hessian"),
    ("std_all", "vjp_jvp_jvp"),
    *[(op, t) for op in ("prod_with_zero", "prod_all_with_zero") for t in ("jvp_jvp_grad", "vjp_jvp_jvp")],
    *[
        (op, t)
        for op in ("cumprod_with_zero", "eigh_matrix_fn")
        for t in ("jacrev_jacfwd", "grad_jvp", "vjp_jvp", "jacrev_vec", "vjp_jvp_jvp")
    ],
    *[("cumprod_with_zero", t) for t in ("jacfwd_jacfwd", "jvp_jvp_grad")],
    ("det", "grad3"),
    *[
        (op, t)
        for op in ("det", "slogdet", "solve")
        for t in ("jacrev_jacfwd", "jacfwd_jacfwd", "grad_jvp", "vjp_jvp", "jacrev_vec", "jvp_jvp_grad", "vjp_jvp_jvp")
    ],
    *[(op, "vmap_hessian") for op in ("det", "slogdet", "solve", "solve_rhs")],
]


# --- closures over an outer level's variable, argnums, has_aux, pytrees ------------------------------------
PROGRAMS: dict[str, Callable] = {}


def program(fn: Callable) -> Callable:
    PROGRAMS[fn.__name__] = fn
    return fn


X3 = np.array([0.7, -1.2, 0.4])
Y3 = np.array([1.1, 0.3, -0.6])
RNG_PROGRAMS = np.random.default_rng(2)
XS2233 = RNG_PROGRAMS.normal(size=(2, 2, 3, 3))
XS333 = RNG_PROGRAMS.normal(size=(3, 3, 3))
XB = np.array([[0.7, -1.2, 0.4], [0.2, 0.5, -0.9], [-1.0, 0.3, 0.8], [0.6, 0.6, 0.1]])


def _s(L, v=2.0):
    return L.t(np.float64(v))


@program
def confusion_grad_grad(L):
    """d/dx [x · d/dy (x + y)] = 1 (a confused engine says 2)."""
    return L.func.grad(lambda x: x * L.func.grad(lambda y: x + y)(x))(_s(L))


@program
def confusion_grad_jvp(L):
    return L.func.grad(lambda x: x * L.func.jvp(lambda y: x + y, (x,), (_s(L, 1.0),))[1])(_s(L))


@program
def confusion_jvp_grad(L):
    return L.func.jvp(lambda x: x * L.func.grad(lambda y: x + y)(x), (_s(L),), (_s(L, 1.0),))[1]


@program
def confusion_jvp_jvp(L):
    inner = lambda x: L.func.jvp(lambda y: x * y, (x,), (_s(L, 1.0),))[1]  # noqa: E731 - d/dy (x y) = x
    return L.func.jvp(lambda x: x * inner(x), (_s(L, 3.0),), (_s(L, 1.0),))[1]


@program
def confusion_product(L):
    """d/dx [x · d/dy (x y)]|y=x = 2x."""
    return L.func.grad(lambda x: x * L.func.grad(lambda y: x * y)(x))(_s(L, 1.5))


@program
def confusion_three_levels(L):
    """d/dx [x · d/dy [y · d/dz (x y z)]]."""

    def middle(x):
        return L.func.grad(lambda y: y * L.func.grad(lambda z: x * y * z)(y))(x)

    return L.func.grad(lambda x: x * middle(x))(_s(L, 1.3))


@program
def confusion_mixed_three(L):
    def middle(x):
        return L.func.jvp(lambda y: y * L.func.grad(lambda z: L.lib.sin(x * y * z))(y), (x,), (_s(L, 1.0),))[1]

    return L.func.jacrev(lambda x: x * middle(x))(_s(L, 0.8))


@program
def closure_vector_jacrev_of_jacfwd(L):
    def f(x):
        inner = L.func.jacfwd(lambda y: L.lib.sin(x * y) * y.sum())(x)  # closes over x, differentiates y
        return (inner * L.t(weights((3, 3)))).sum(0)

    return L.func.jacrev(f)(L.t(X3))


@program
def closure_jacfwd_of_jacrev_two_vars(L):
    y0 = L.t(Y3)

    def f(x):
        return L.func.jacrev(lambda y: L.lib.tanh(x @ y) * y + x * y.prod())(y0 + x)

    return L.func.jacfwd(f)(L.t(X3))


@program
def closure_hessian_inside_grad(L):
    def f(x):
        h = L.func.hessian(lambda y: (L.lib.exp(0.3 * x * y) * y).sum())(x)
        return (h * L.t(weights((3, 3)))).sum()

    return L.func.grad(f)(L.t(X3))


@program
def closure_vjp_inside_jvp(L):
    def f(x):
        _, pull = L.func.vjp(lambda y: x * L.lib.sin(y) + y * y.sum(), x)
        return pull(L.t(weights((3,))))[0]

    return L.func.jvp(f, (L.t(X3),), (L.t(Y3),))[1]


@program
def closure_grad_over_vmap_of_grad(L):
    """∂/∂w of Σ per-example ∂/∂x of a loss that closes over w."""

    def f(w):
        per = L.func.vmap(L.func.grad(lambda x: (L.lib.tanh(w * x) * x).sum()))(L.t(XB))
        return (per * L.t(weights((4, 3)))).sum()

    return L.func.grad(f)(L.t(X3))


@program
def closure_vmap_of_grad_with_outer_w(L):
    def per_w(w):
        return L.func.vmap(L.func.grad(lambda x: L.lib.sin(w * x).sum() * (w**2).sum()))(L.t(XB))

    return L.func.vmap(per_w)(L.t(XB[:2] * 0.5))


@program
def closure_jvp_inside_vmap(L):
    def f(x):
        return L.func.jvp(lambda y: L.lib.sin(x * y) * y, (x,), (L.lib.cos(x),))[1]

    return L.func.vmap(f)(L.t(XB))


@program
def closure_jacrev_of_vmap_in_axes_none(L):
    def f(w):
        return L.func.vmap(lambda x, w: L.lib.tanh(x @ w) * w.sum(), (0, None))(L.t(XB), w)

    return L.func.jacrev(f)(L.t(X3))


@program
def vmap_vmap_jacrev(L):
    return L.func.vmap(L.func.vmap(L.func.jacrev(lambda x: L.lib.sin(x) * x.sum())))(L.t(np.stack([XB, -XB])))


@program
def vmap_vmap_hessian_in_axes(L):
    def f(x, a):
        return L.func.hessian(lambda z: (a * z**3).sum() + (z * x).sum() ** 2)(x)

    return L.func.vmap(L.func.vmap(f, (0, None)), (None, 0))(L.t(XB), L.t(XB[:2]))


@program
def vmap_out_axes_1_of_jacfwd(L):
    return L.func.vmap(L.func.jacfwd(lambda x: L.lib.exp(0.2 * x) * x[0]), 0, 1)(L.t(XB))


@program
def vmap_in_axes_1(L):
    return L.func.vmap(L.func.grad(lambda x: (x**3).sum() * x[1]), 1)(L.t(XB))


@program
def vmap_of_vjp_pullback(L):
    _, pull = L.func.vjp(lambda x: L.lib.sin(x) * x.sum(), L.t(X3))
    return L.func.vmap(pull)(L.t(XB))


@program
def vmap_of_jvp_tangents(L):
    return L.func.vmap(lambda v: L.func.jvp(lambda x: L.lib.tanh(x) * x.prod(), (L.t(X3),), (v,))[1])(L.t(XB))


@program
def jacfwd_of_vmap_of_grad(L):
    return L.func.jacfwd(L.func.vmap(L.func.grad(lambda x: (L.lib.sin(x) * x).sum())))(L.t(XB[:2]))


@program
def argnums_tuple_grad_grad(L):
    def f(x, y):
        return (L.lib.sin(x * y) * x).sum() + (y**3).sum()

    gx_of = lambda x, y: L.func.grad(f, argnums=(0, 1))(x, y)  # noqa: E731
    return L.func.grad(lambda x, y: (gx_of(x, y)[0] * gx_of(x, y)[1]).sum(), argnums=(0, 1))(L.t(X3), L.t(Y3))


@program
def argnums_hessian_pair(L):
    return L.func.hessian(lambda x, y: (L.lib.exp(0.3 * x) * y * y).sum() + x @ y, argnums=(0, 1))(L.t(X3), L.t(Y3))


@program
def argnums_second_of_three(L):
    def f(x, y, z):
        return L.lib.sin(x * y) + z * y

    return L.func.jacfwd(L.func.jacrev(f, argnums=1), argnums=(0, 2))(L.t(X3), L.t(Y3), L.t(X3 * 2))


@program
def argnums_jacrev_of_jacfwd_pair(L):
    def f(x, y):
        return L.lib.tanh(x[:, None] * y[None, :]).sum(1)

    return L.func.jacrev(L.func.jacfwd(f, argnums=(0, 1)), argnums=0)(L.t(X3), L.t(Y3))


@program
def has_aux_grad_nested(L):
    def loss(x):
        y = L.lib.sin(x) * x
        return y.sum(), {"y": y, "n": (x * x).sum()}

    def outer(x):
        g, aux = L.func.grad(loss, has_aux=True)(x)
        return (g * g).sum() + aux["n"], aux

    g2, aux2 = L.func.grad(outer, has_aux=True)(L.t(X3))
    return g2, aux2


@program
def has_aux_jacrev_jacfwd(L):
    def f(x):
        return L.lib.sin(x) * x.sum(), x * 2

    def outer(x):
        j, aux = L.func.jacfwd(f, has_aux=True)(x)
        return j.sum(0) * aux, aux.sum()

    return L.func.jacrev(outer, has_aux=True)(L.t(X3))


@program
def has_aux_vjp_and_jvp(L):
    f = lambda x: (L.lib.exp(0.5 * x) * x, x.sum())  # noqa: E731
    out, pull, aux = L.func.vjp(f, L.t(X3), has_aux=True)
    (ct,) = pull(L.t(Y3))
    g = lambda x: L.func.vjp(f, x, has_aux=True)[1](L.t(Y3))[0]  # noqa: E731 - a pullback, differentiated forward
    _, t, aux2 = L.func.jvp(lambda x: (g(x), x.prod()), (L.t(X3),), (L.t(Y3),), has_aux=True)
    return out, ct, aux, t, aux2


@program
def value_and_grad_nested(L):
    if L is NG:
        vg = lambda f: lambda x: L.func.value_and_grad(f)(x)  # noqa: E731 - (value, grad)
    else:
        vg = lambda f: lambda x: L.func.grad_and_value(f)(x)[::-1]  # noqa: E731 - torch's is (grad, value)
    inner = vg(lambda x: (L.lib.sin(x) ** 2).sum())
    value, g = vg(lambda x: inner(x)[0] * (inner(x)[1] ** 2).sum())(L.t(X3))
    return value, g


@program
def pytree_dict_hessian(L):
    def f(p):
        return (L.lib.tanh(p["w"] @ p["x"]) * p["b"]).sum() + (p["b"] ** 3).sum()

    p = {"w": L.t(np.arange(6.0).reshape(2, 3) * 0.2), "x": L.t(X3), "b": L.t(np.array([0.5, -0.4]))}
    return L.func.hessian(f)(p)


@program
def pytree_tuple_out_jacrev_of_grad(L):
    def f(p):
        a, b = p
        return (a * L.lib.sin(b)).sum() + (a**2 * b).sum()

    return L.func.jacrev(lambda p: (L.func.grad(f)(p)[0] * 2, {"b": L.func.grad(f)(p)[1]}))((L.t(X3), L.t(Y3)))


@program
def pytree_jacfwd_dict_in_tuple_out(L):
    def f(p):
        return p["a"] * p["b"][0], L.lib.exp(p["b"][1]).sum()

    return L.func.jacfwd(f)({"a": L.t(X3), "b": [L.t(Y3), L.t(X3 * 0.5)]})


@program
def pytree_jvp_dict_of_grad(L):
    def f(p):
        return (L.lib.sin(p["u"]) * p["v"]).sum() ** 2

    p = {"u": L.t(X3), "v": L.t(Y3)}
    t = {"u": L.t(Y3), "v": L.t(X3)}
    return L.func.jvp(L.func.grad(f), (p,), (t,))[1]


@program
def pytree_vjp_tuple_out_of_jvp(L):
    def f(x):
        return L.func.jvp(lambda y: (L.lib.sin(y), y * y.sum()), (x,), (L.t(Y3),))[1]

    _, pull = L.func.vjp(f, L.t(X3))
    return pull((L.t(weights((3,))), L.t(weights((3,), 1.0))))


@program
def pytree_vmap_dict_in_axes(L):
    def f(p):
        return L.func.grad(lambda q: (q["w"] * L.lib.tanh(q["x"])).sum() ** 2)(p)

    p = {"w": L.t(X3), "x": L.t(XB)}
    return L.func.vmap(f, ({"w": None, "x": 0},))(p)


@program
def pytree_vmap_per_example_mlp(L):
    params = {"W": L.t(np.arange(6.0).reshape(3, 2) * 0.3 - 0.5), "b": L.t(np.array([0.1, -0.2]))}

    def loss(p, x, y):
        h = L.lib.tanh(x @ p["W"] + p["b"])
        return ((h - y) ** 2).sum()

    per = L.func.vmap(L.func.grad(loss), (None, 0, 0))(params, L.t(XB), L.t(XB[:, :2]))
    hess = L.func.vmap(L.func.hessian(loss, argnums=1), (None, 0, 0))(params, L.t(XB), L.t(XB[:, :2]))
    return per, hess


@program
def third_derivative_scalar(L):
    f = lambda x: L.lib.sin(x) * L.lib.exp(0.3 * x) * x  # noqa: E731
    return [
        L.func.grad(L.func.grad(L.func.grad(f)))(_s(L, 0.8)),
        L.func.jacfwd(L.func.jacrev(L.func.jacfwd(f)))(_s(L, 0.8)),
        L.func.jacrev(L.func.hessian(lambda v: (L.lib.tanh(v) * v.prod()).sum()))(L.t(X3)),
        L.func.jacfwd(L.func.jacfwd(L.func.jacfwd(lambda v: L.lib.logsumexp(v * v, 0))))(L.t(X3)),
    ]


@program
def fourth_derivative_scalar(L):
    f = lambda x: L.lib.tanh(x) * x * x  # noqa: E731
    return L.func.grad(L.func.jacfwd(L.func.grad(L.func.jacfwd(f))))(_s(L, 0.6))


@program
def kink_forward_and_reverse(L):
    x = L.t(np.array([0.0, -1.0, 2.0, 0.0]))
    zero = L.t(np.zeros(4))
    f = lambda v: (L.lib.relu(v) + L.lib.abs(v) * v + L.lib.clamp(v, 0.0, 1.0) + L.lib.maximum(v, zero)).sum()  # noqa: E731
    g = lambda v: L.lib.relu(v) + L.lib.abs(v) + L.lib.clamp(v, min=0.0) + L.lib.where(v > 0, v, 0.5 * v)  # noqa: E731
    at_zero = L.func.vmap(L.func.jacrev(g))(L.t(np.zeros((2, 4))))
    return [L.func.grad(f)(x), L.func.hessian(f)(x), L.func.jacfwd(g)(x), L.func.jacrev(g)(x), at_zero]


@program
def inplace_ops_under_hessian_and_vmap(L):
    def f(x):
        y = x * 1.0
        y.mul_(x)
        y.add_(L.lib.sin(x))
        y.sin_()
        return (y * L.t(weights((3,)))).sum()

    forward = L.func.jvp(L.func.grad(f), (L.t(X3),), (L.t(Y3),))[1]
    return [L.func.hessian(f)(L.t(X3)), L.func.vmap(L.func.grad(f))(L.t(XB)), forward]


@program
def setitem_under_jacfwd_jacrev_vmap(L):
    def f(x):
        y = x.clone()
        y[0] = x[1] * x[2]
        y[1:] = L.lib.exp(y[:2])  # reads the value just written
        return y

    def g(x):
        y = x.clone()
        y[0] = x[1] * x[2]
        y[1:] = L.lib.exp(x[:2])
        return y

    return [L.func.jacfwd(L.func.jacrev(lambda x: (f(x) ** 2).sum()))(L.t(X3)), L.func.vmap(L.func.jacrev(g))(L.t(XB))]


@program
def detach_under_nested_transforms(L):
    f = lambda x: (x * x.detach() * L.lib.sin(x)).sum()  # noqa: E731
    return [
        L.func.grad(f)(L.t(X3)),
        L.func.hessian(f)(L.t(X3)),
        L.func.jacfwd(L.func.grad(f))(L.t(X3)),
        L.func.jvp(L.func.grad(f), (L.t(X3),), (L.t(Y3),))[1],
    ]


@program
def detach_of_an_outer_variable(L):
    """An inner function detaching the outer level's variable: the outer derivative through it is cut."""

    def f(x):
        return L.func.grad(lambda y: (y * y * x.detach()).sum() + (y * x).sum())(x)

    return [L.func.jacrev(f)(L.t(X3)), L.func.jacfwd(f)(L.t(X3))]


@program
def no_grad_inside_grad(L):
    def f(x):
        with L.lib.no_grad():
            c = (x * x).sum()
        return (c * L.lib.sin(x)).sum()

    return [L.func.grad(f)(L.t(X3)), L.func.hessian(f)(L.t(X3))]


@program
def grad_inside_no_grad(L):
    with L.lib.no_grad():
        return [L.func.grad(lambda x: (L.lib.sin(x) * x).sum())(L.t(X3)), L.func.hessian(lambda x: (x**3).sum())(L.t(X3))]


@program
def dims_zero_under_two_vmaps(L):
    def f(x):  # x: (3, 3) per example; every op along dim 0
        a = L.lib.cumsum(x, dim=0) * L.lib.flip(x, (0,))
        b = L.lib.softmax(a, dim=0) + L.lib.roll(x, 1, 0) * x.transpose(0, 1)
        c = L.lib.cat([b, x[:1] * 2.0], dim=0)[1:] + L.lib.stack([x[0], x[2], x[1]], dim=0)
        d = L.lib.gather(c, 0, L.t(np.array([[2, 0, 1], [0, 0, 2]]))) + L.lib.index_select(c, 0, L.t(np.array([1, 2])))
        return d.max(dim=0).values.sum() + L.lib.logsumexp(d, dim=0).sum() + L.lib.diagonal(c, 0, 0, 1).prod()

    xs = L.t(XS2233)
    return [L.func.vmap(L.func.vmap(L.func.grad(f)))(xs), L.func.vmap(L.func.vmap(f))(xs)]


@program
def negative_dims_and_in_axes(L):
    def f(x):
        return (L.lib.softmax(x, dim=-1) * L.lib.cumsum(x, dim=-2)).sum(-1).unsqueeze(-1) * x.mT

    xs = L.t(XS333)
    return [L.func.vmap(f, -1)(xs), L.func.vmap(L.func.jacrev(lambda x: f(x).sum(0)), 1)(xs)]


@program
def vmap_matmul_shapes(L):
    M = L.t(W34)
    vec = lambda x, y: (x @ M) @ (y @ M) + (x @ x) * L.lib.matmul(M.transpose(0, 1), y).sum()  # noqa: E731
    return [
        L.func.vmap(vec)(L.t(XB), L.t(XB[::-1].copy())),
        L.func.vmap(L.func.grad(vec, argnums=(0, 1)), (0, None))(L.t(XB), L.t(Y3)),
        L.func.vmap(L.func.vmap(L.func.jacfwd(vec), (None, 0)), (0, None))(L.t(XB[:2]), L.t(XB)),
    ]


@program
def vmap_einsum_ellipsis_and_linalg(L):
    def f(a):
        s = L.lib.einsum("...ij,...kj->...ik", a, a) + L.t(np.eye(3))
        return L.linalg.slogdet(s).logabsdet + L.linalg.solve(s, a[..., 0]).sum(-1) + L.linalg.inv(s).sum((-1, -2))

    As = L.t(XS2233 * 0.5)
    return [L.func.vmap(L.func.vmap(L.func.grad(f)))(As), L.func.vmap(L.func.jacrev(L.func.jacrev(lambda a: f(a).sum())))(As[0])]


@program
def boolean_mask_under_grad_and_hessian(L):
    f = lambda x: (L.lib.sin(x[x > 0]) * 2.0).sum() + x[..., 1] * x[None, 2:3].sum()  # noqa: E731
    return [L.func.grad(f)(L.t(X3)), L.func.hessian(f)(L.t(X3)), L.func.jacfwd(L.func.jacrev(f))(L.t(X3))]


@program
def integer_and_unbatched_outputs_of_vmap(L):
    def f(x):
        return x.argmax(), (x * 2.0).max(dim=0).indices, L.t(np.float64(1.5)), x.sort(dim=0).indices

    return L.func.vmap(f)(L.t(XB))


@program
def vmap_out_axes_tuple(L):
    def f(x, y):
        return L.lib.outer(x, y), (x * y).sum()

    return L.func.vmap(f, (0, None), (1, 0))(L.t(XB), L.t(Y3))


@program
def scalar_batch_vmap_of_derivatives(L):
    f = lambda x: L.lib.sin(x) * L.lib.exp(0.2 * x) / (1.0 + x * x)  # noqa: E731
    xs = L.t(np.linspace(-1.0, 1.0, 5))
    return [
        L.func.vmap(L.func.grad(L.func.grad(L.func.grad(f))))(xs),
        L.func.vmap(L.func.jacfwd(L.func.hessian(f)))(xs),
        L.func.vmap(lambda x: L.func.jvp(L.func.grad(f), (x,), (x * 0.0 + 1.0,))[1])(xs),
    ]


@program
def constant_functions(L):
    f = lambda x: L.t(np.array([1.0, 2.0])) * 3.0  # noqa: E731
    g = lambda x: (x * 0.0).sum() + 2.0  # noqa: E731
    return [
        L.func.jacrev(f)(L.t(X3)),
        L.func.jacfwd(f)(L.t(X3)),
        L.func.hessian(g)(L.t(X3)),
        L.func.jvp(f, (L.t(X3),), (L.t(Y3),))[1],
        L.func.vmap(L.func.grad(g))(L.t(XB)),
    ]


@program
def float32_inputs_keep_their_dtype(L):
    x32 = L.t(X3.astype(np.float32))
    f = lambda x: (x.double() ** 3).sum() + (x * x).sum()  # noqa: E731
    return [
        L.func.grad(f)(x32),
        L.func.hessian(f)(x32),
        L.func.jacrev(L.func.jacfwd(f))(x32),
        L.func.vmap(L.func.grad(f))(L.t(XB.astype(np.float32))),
    ]


@program
def where_selecting_between_two_smooth_branches(L):
    """``where`` at and beside its switch point, to second order and per example."""
    f = lambda x: L.lib.where(x > 0.1, L.lib.log(L.lib.abs(x) + 1.0) * x, x * x).sum()  # noqa: E731
    return [L.func.hessian(f)(L.t(np.array([0.0, 0.1, -0.3, 0.8]))), L.func.vmap(L.func.grad(f))(L.t(XB))]


@program
def dtype_casts_inside_nested(L):
    def f(x):
        y = x.float() * 2.0
        return (y.double() ** 3).sum() + (x.to(L.lib.float32) * x.to(L.lib.float32)).double().sum()

    return [L.func.vmap(L.func.grad(f))(L.t(XB)), L.func.hessian(f)(L.t(X3))]


@program
def checkpoint_inside_transforms(L):
    """``checkpoint`` is the identity on values and derivatives (torch's oracle runs ``f`` itself)."""
    body = lambda x: L.lib.tanh(x * x.sum()) * L.lib.sin(x)  # noqa: E731
    f = ng.checkpoint(body) if L is NG else body
    s = lambda x: (f(x) * L.t(weights((3,)))).sum()  # noqa: E731
    return [
        L.func.hessian(s)(L.t(X3)),
        L.func.vmap(L.func.grad(s))(L.t(XB)),
        L.func.jvp(L.func.grad(s), (L.t(X3),), (L.t(Y3),))[1],
        L.func.jacfwd(f)(L.t(X3)),
    ]


def _mlp(L):
    """Linear(3, 4) → tanh → Linear(4, 2), with the same weights in both libraries."""
    w1, b1 = np.arange(12.0).reshape(3, 4) * 0.1 - 0.5, np.array([0.1, -0.2, 0.3, 0.0])
    w2, b2 = np.cos(np.arange(8.0)).reshape(4, 2), np.array([0.05, -0.05])
    if L is NG:
        m = ng.nn.Sequential(ng.nn.Linear(3, 4, dtype="float64"), ng.nn.Tanh(), ng.nn.Linear(4, 2, dtype="float64"))
        for layer, w, b in ((m[0], w1, b1), (m[2], w2, b2)):
            layer.weight.data[...] = w
            layer.bias.data[...] = b
        return m
    m = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)).double()
    with torch.no_grad():
        for layer, w, b in ((m[0], w1, b1), (m[2], w2, b2)):
            layer.weight.copy_(torch.tensor(w.T))
            layer.bias.copy_(torch.tensor(b))
    return m


@program
def module_input_derivatives(L):
    m = _mlp(L)
    s = lambda x: (m(x) ** 2).sum()  # noqa: E731
    return [
        L.func.hessian(s)(L.t(X3)),
        L.func.vmap(L.func.jacrev(m))(L.t(XB)),
        L.func.jacfwd(L.func.vmap(m))(L.t(XB[:2])),
        L.func.vmap(L.func.hessian(s))(L.t(XB)),
    ]


@program
def module_gradient_penalty_to_weights(L):
    m = _mlp(L)
    x = L.t(XB)
    g = L.func.vmap(L.func.grad(lambda r: m(r).sum()))(x)
    penalty = ((g**2).sum(-1) - 1.0) ** 2
    (penalty.mean() + m(x).sum()).backward()
    first = m[0].weight.grad if L is NG else m[0].weight.grad.transpose(0, 1)
    return [g, first, m[2].bias.grad]


@program
def no_grad_inside_vmap_of_grad(L):
    def f(x):
        with L.lib.no_grad():
            c = (x * x).sum()
        return (c * L.lib.sin(x)).sum()

    return [L.func.vmap(L.func.grad(f))(L.t(XB)), L.func.vmap(f)(L.t(XB))]


@program
def pullback_differentiated_in_cotangent_and_primal(L):
    f = lambda x: L.lib.sin(x) * x.sum() + x[0] * x  # noqa: E731

    def pulled(x, v):
        return L.func.vjp(f, x)[1](v)[0]

    return [
        L.func.jacrev(pulled, argnums=1)(L.t(X3), L.t(Y3)),
        L.func.jacfwd(pulled, argnums=(0, 1))(L.t(X3), L.t(Y3)),
        L.func.vmap(pulled, (None, 0))(L.t(X3), L.t(XB)),
        L.func.hessian(lambda x, v: (pulled(x, v) ** 2).sum(), argnums=(0, 1))(L.t(X3), L.t(Y3)),
    ]


@program
def negative_argnums_and_aux_with_tuple(L):
    def f(x, y):
        return (L.lib.sin(x) * y).sum() ** 2, {"y2": y * 2}

    j, aux = L.func.jacrev(f, argnums=(0, 1), has_aux=True)(L.t(X3), L.t(Y3))
    g, aux2 = L.func.grad(f, argnums=-1, has_aux=True)(L.t(X3), L.t(Y3))
    return j, aux, g, aux2


@program
def jvp_inside_vmap_with_an_unbatched_tangent(L):
    v = L.t(Y3)
    return L.func.vmap(lambda x: L.func.jvp(L.func.grad(lambda z: (L.lib.sin(z) * z).sum() ** 2), (x,), (v,))[1])(L.t(XB))


@program
def masks_and_steps_under_transforms(L):
    f = lambda x: ((x > 0).double() * x * x + L.lib.floor(x) * x + L.lib.sign(x) * L.lib.exp(x)).sum()  # noqa: E731
    return [L.func.vmap(L.func.hessian(f))(L.t(XB)), L.func.jvp(L.func.grad(f), (L.t(X3),), (L.t(Y3),))[1]]


@program
def where_with_a_nan_branch(L):
    """``where(x > 0, sqrt(x), 0)`` and ``log``: NaN where the unselected branch's derivative is 0 · ∞, as torch."""
    f = lambda x: (L.lib.where(x > 0, L.lib.sqrt(x), 0.0) + L.lib.where(x > 0, L.lib.log(x), 0.0)).sum()  # noqa: E731
    x = L.t(np.array([0.0, -0.3, 0.8]))
    return [L.func.grad(f)(x), L.func.hessian(f)(x), L.func.jvp(f, (x,), (L.t(np.ones(3)),))[1]]


@program
def value_and_grad_with_aux_nested(L):
    if L is NG:
        vg = lambda f: L.func.value_and_grad(f, argnums=(0, 1), has_aux=True)  # noqa: E731 - ((value, aux), grads)
    else:
        vg = lambda f: lambda *a: tf.grad_and_value(f, argnums=(0, 1), has_aux=True)(*a)[::-1]  # noqa: E731

    def loss(x, y):
        return (L.lib.sin(x) * y).sum(), {"xy": x * y}

    def outer(x, y):
        (value, aux), (gx, gy) = vg(loss)(x, y)
        return value + (gx * gy).sum(), aux["xy"].sum()

    return vg(outer)(L.t(X3), L.t(Y3))


@program
def pytree_nested_structures_everywhere(L):
    def f(p, q):
        (a, b), c = p
        return {"s": (a * L.lib.sin(b)).sum() * q["k"][0], "v": [c * q["k"][1], a * b]}

    p = ((L.t(X3), L.t(Y3)), L.t(X3 * 0.5))
    q = {"k": [L.t(np.float64(1.5)), L.t(np.float64(-0.5))]}
    t = ((L.t(Y3), L.t(X3)), L.t(Y3 * 2))
    return [
        L.func.jacrev(f, argnums=(0, 1))(p, q),
        L.func.jacfwd(f)(p, q),
        L.func.jvp(lambda p: f(p, q), (p,), (t,))[1],
        L.func.vjp(f, p, q)[1](f(p, q)),
        L.func.vmap(L.func.grad(lambda p, q: f(p, q)["s"]), (((0, None), 0), None))(((L.t(XB), L.t(Y3)), L.t(XB)), q),
    ]

# --- the tests -----------------------------------------------------------------------------------------------
CASES = [(o, t) for o in OPS for t in TRANSFORMS if (o, t) not in TORCH_CANNOT]


@pytest.mark.parametrize(("op", "transform"), CASES)
def test_nested_transform_of_op_matches_torch_func(op, transform):
    fn, x = OPS[op]
    theirs = host_tree(TH, TRANSFORMS[transform](TH, fn, TH.t(x)))
    ours = host_tree(NG, TRANSFORMS[transform](NG, fn, NG.t(x)))
    assert_trees_close(ours, theirs)


@pytest.mark.parametrize(("op", "transform"), TORCH_CANNOT)
def test_nested_transform_where_torch_func_fails_matches_central_differences(op, transform):
    fn, x = OPS[op]
    ours = NG.host(TRANSFORMS[transform](NG, fn, NG.t(x)))
    np.testing.assert_allclose(ours, fd_oracle(transform, fn, x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", PROGRAMS)
def test_closures_argnums_aux_and_pytrees_match_torch_func(name):
    theirs = host_tree(TH, PROGRAMS[name](TH))
    ours = host_tree(NG, PROGRAMS[name](NG))
    assert_trees_close(ours, theirs)


def test_perturbation_confusion_gives_the_analytic_values():
    """d/dx [x · d/dy (x + y)] = 1, d/dx [x · d/dy (x y)] = 2x, d/dx [x · ∂_y(x y)] by forward over forward = 2x."""
    values = [NG.host(PROGRAMS[n](NG)) for n in ("confusion_grad_grad", "confusion_grad_jvp", "confusion_jvp_grad")]
    np.testing.assert_allclose(values, [1.0, 1.0, 1.0], rtol=0, atol=1e-15)
    np.testing.assert_allclose(NG.host(PROGRAMS["confusion_product"](NG)), 3.0, rtol=1e-15)
    np.testing.assert_allclose(NG.host(PROGRAMS["confusion_jvp_jvp"](NG)), 6.0, rtol=1e-15)
