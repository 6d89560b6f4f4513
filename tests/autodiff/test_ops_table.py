"""Issue 10's ops against PyTorch: values, VJPs (reverse) and JVPs (``torch.func.jvp``), and
central differences in float64 (``ng.gradcheck``) — one row per op, broadcasting and batched
shapes included."""

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")  # the oracle
F = torch.nn.functional


def _any(rng, s):
    return rng.standard_normal(s)


def _pos(rng, s):
    return np.abs(rng.standard_normal(s)) + 0.5


def _unit(rng, s):  # inside (−1, 1), away from the ends
    return rng.uniform(-0.9, 0.9, s)


def _gt1(rng, s):
    return rng.uniform(1.2, 3.0, s)


def _offgrid(rng, s):  # away from the jumps of floor/round/% (x/y never near an integer)
    return np.floor(rng.uniform(-3, 3, s)) + rng.uniform(0.2, 0.4, s)


def _wellcond(rng, s):  # square matrices (…, n, n) near 2·I: invertible, well conditioned
    x = 0.3 * rng.standard_normal(s)
    return x + 2.0 * np.eye(s[-1]) if len(s) >= 2 and s[-1] == s[-2] else x


def _spd(rng, s):  # symmetric positive definite, distinct eigenvalues
    a = rng.standard_normal(s)
    return a @ np.swapaxes(a, -1, -2) + s[-1] * np.eye(s[-1])


def _sym(a):  # the symmetric part, taken inside both functions (eigh reads one triangle)
    return (a + a.mT) / 2


def _with_zeros(rng, s):  # products through exact zeros (one per row, one row with two)
    x = rng.standard_normal(s)
    x.reshape(-1, s[-1])[:, 1] = 0.0
    x.reshape(-1)[-1] = 0.0
    return x


def _einsum_case(eq: str, shapes, as_list: bool = False):
    """A row for ``einsum(eq, *operands)`` (or with the operands as one list, PyTorch's form)."""
    if as_list:
        return (lambda *xs: ng.einsum(eq, list(xs)), lambda *xs: torch.einsum(eq, list(xs)), shapes, _any)
    return (lambda *xs: ng.einsum(eq, *xs), lambda *xs: torch.einsum(eq, *xs), shapes, _any)


def _pieces_case(ng_split, torch_split, axis: int, shape):
    """A row for a split: the pieces, each scaled by its position (so a wrong order or size shows in
    the VJP), joined again along ``axis``."""
    return (
        lambda a: ng.concatenate([p * (i + 1) for i, p in enumerate(ng_split(a))], axis=axis),
        lambda a: torch.cat([p * (i + 1) for i, p in enumerate(torch_split(a))], dim=axis),
        [shape],
        _any,
    )


# name: (nablagrad fn, torch fn, input shapes, input generator)
CASES = {
    # --- elementwise unary
    "tan": (ng.tan, torch.tan, [(2, 3)], _unit),
    "sinh": (ng.sinh, torch.sinh, [(2, 3)], _any),
    "cosh": (lambda a: a.cosh(), torch.cosh, [(2, 3)], _any),
    "arcsin": (ng.arcsin, torch.asin, [(5,)], _unit),
    "arccos": (ng.arccos, torch.acos, [(5,)], _unit),
    "arctan": (ng.arctan, torch.atan, [(5,)], _any),
    "arcsinh": (ng.arcsinh, torch.asinh, [(5,)], _any),
    "arccosh": (ng.arccosh, torch.acosh, [(5,)], _gt1),
    "arctanh": (ng.arctanh, torch.atanh, [(5,)], _unit),
    "asin_torch_name": (lambda a: a.asin(), torch.asin, [(4,)], _unit),
    "log1p": (ng.log1p, torch.log1p, [(2, 3)], _pos),
    "expm1": (ng.expm1, torch.expm1, [(2, 3)], _any),
    "log2": (ng.log2, torch.log2, [(4,)], _pos),
    "log10": (ng.log10, torch.log10, [(4,)], _pos),
    "exp2": (ng.exp2, torch.exp2, [(4,)], _any),
    "square": (ng.square, torch.square, [(4,)], _any),
    "reciprocal": (ng.reciprocal, torch.reciprocal, [(4,)], _pos),
    "erf": (ng.erf, torch.erf, [(2, 3)], _any),
    "erfc": (ng.erfc, torch.erfc, [(2, 3)], _any),
    "softplus": (ng.softplus, F.softplus, [(2, 3)], _any),
    "floor": (ng.floor, torch.floor, [(4,)], _offgrid),
    "ceil": (ng.ceil, torch.ceil, [(4,)], _offgrid),
    "round": (ng.round, torch.round, [(4,)], _offgrid),
    "trunc": (ng.trunc, torch.trunc, [(4,)], _offgrid),
    "clamp": (lambda a: ng.clamp(a, min=-0.5, max=0.4), lambda a: torch.clamp(a, min=-0.5, max=0.4), [(6,)], _offgrid),
    "clamp_min": (lambda a: ng.clamp_min(a, 0.3), lambda a: torch.clamp_min(a, 0.3), [(6,)], _offgrid),
    "clamp_max_method": (lambda a: a.clamp_max(-0.3), lambda a: a.clamp_max(-0.3), [(6,)], _offgrid),
    "clamp_tensor_bounds": (
        lambda a, lo, hi: ng.clamp(a, min=lo, max=hi),
        lambda a, lo, hi: torch.clamp(a, min=lo, max=hi),
        [(2, 6), (6,), (2, 1)],
        _offgrid,
    ),
    "masked_fill": (
        lambda a: a.masked_fill(np.array([True, False, True]), 0.5),  # a NumPy mask goes to a's device
        lambda a: a.masked_fill(torch.tensor([True, False, True]), 0.5),
        [(2, 3)],
        _any,
    ),
    # --- elementwise binary, broadcasting
    "add_alpha": (lambda a, b: ng.add(a, b, alpha=-2.5), lambda a, b: torch.add(a, b, alpha=-2.5), [(3, 4), (4,)], _any),
    "sub_alpha_method": (lambda a, b: a.sub(b, alpha=3), lambda a, b: a.sub(b, alpha=3), [(3, 1), (4,)], _any),
    "div_trunc": (
        lambda a, b: ng.div(a, b, rounding_mode="trunc"),
        lambda a, b: torch.div(a, b, rounding_mode="trunc"),
        [(3, 4), (4,)],
        _offgrid,
    ),
    "remainder": (ng.remainder, torch.remainder, [(3, 4), (4,)], _offgrid),
    "mod_operator": (lambda a, b: a % b, lambda a, b: a % b, [(3, 1), (4,)], _offgrid),
    "rmod_scalar": (lambda a: 2.5 % a, lambda a: 2.5 - a * torch.floor(2.5 / a), [(4,)], _offgrid),
    "fmod": (ng.fmod, torch.fmod, [(3, 4), (3, 1)], _offgrid),
    "arctan2": (ng.arctan2, torch.atan2, [(3, 4), (4,)], _any),
    "atan2_torch_name": (ng.atan2, torch.atan2, [(3,), (3,)], _any),
    "hypot": (ng.hypot, torch.hypot, [(2, 3), (3,)], _any),
    "logaddexp": (ng.logaddexp, torch.logaddexp, [(2, 3), (2, 1)], _any),
    # --- contractions (N-D, broadcast ellipses, repeated letters)
    "einsum_matmul": _einsum_case("ij,jk->ik", [(3, 4), (4, 2)]),
    "einsum_batched": _einsum_case("...ij,...jk", [(2, 3, 4), (4, 5)]),
    "einsum_trace": (lambda a: ng.einsum("ii", a), lambda a: torch.einsum("ii", a), [(4, 4)], _any),
    "einsum_diag": (lambda a: ng.einsum("bii->bi", a), lambda a: torch.einsum("bii->bi", a), [(2, 3, 3)], _any),
    "einsum_sum_inside": _einsum_case("ij,k->jk", [(3, 4), (2,)]),
    "einsum_three_list": _einsum_case("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)], as_list=True),
    "einsum_broadcast_one": _einsum_case("...i,...i->...", [(3, 1, 4), (2, 4)]),
    "tensordot_int": (lambda a, b: ng.tensordot(a, b, 2), lambda a, b: torch.tensordot(a, b, 2), [(2, 3, 4), (3, 4, 5)], _any),
    "tensordot_pairs": (
        lambda a, b: ng.tensordot(a, b, axes=([0, 2], [1, 0])),
        lambda a, b: torch.tensordot(a, b, dims=([0, 2], [1, 0])),
        [(2, 3, 4), (4, 2, 5)],
        _any,
    ),
    "outer": (ng.outer, torch.outer, [(3,), (4,)], _any),
    "inner": (ng.inner, torch.inner, [(2, 3, 4), (5, 4)], _any),
    "dot_vectors": (ng.dot, torch.dot, [(4,), (4,)], _any),
    "dot_nd": (ng.dot, lambda a, b: torch.tensordot(a, b, dims=([-1], [1])), [(2, 3), (4, 3, 5)], _any),
    "vdot": (ng.vdot, lambda a, b: torch.vdot(a.reshape(-1), b.reshape(-1)), [(2, 3), (3, 2)], _any),
    "kron": (ng.kron, torch.kron, [(2, 3), (4, 2)], _any),
    "kron_mixed_ndim": (ng.kron, torch.kron, [(3,), (2, 2)], _any),
    "matmul_nd_broadcast": (ng.matmul, torch.matmul, [(2, 1, 3, 4), (3, 4, 2)], _any),
    # --- linalg (well-conditioned inputs; batched)
    "inv": (ng.linalg.inv, torch.linalg.inv, [(2, 3, 3)], _wellcond),
    "det": (ng.linalg.det, torch.linalg.det, [(2, 3, 3)], _wellcond),
    "slogdet": (lambda a: ng.linalg.slogdet(a)[1], lambda a: torch.linalg.slogdet(a)[1], [(3, 3)], _wellcond),
    "solve_matrix": (ng.linalg.solve, torch.linalg.solve, [(2, 3, 3), (2, 3, 2)], _wellcond),
    "solve_vector": (ng.linalg.solve, torch.linalg.solve, [(3, 3), (3,)], _wellcond),
    "solve_broadcast": (ng.linalg.solve, torch.linalg.solve, [(3, 3), (2, 3, 2)], _wellcond),
    "cholesky": (lambda a: ng.linalg.cholesky(_sym(a)), lambda a: torch.linalg.cholesky(_sym(a)), [(2, 3, 3)], _spd),
    "eigh_values": (
        lambda a: ng.linalg.eigh(_sym(a))[0],
        lambda a: torch.linalg.eigh(_sym(a))[0],
        [(2, 4, 4)],
        _spd,
    ),
    "eigh_vectors": (  # squared entries: independent of each eigenvector's sign
        lambda a: ng.linalg.eigh(_sym(a))[1] ** 2,
        lambda a: torch.linalg.eigh(_sym(a))[1] ** 2,
        [(3, 3)],
        _spd,
    ),
    "svdvals": (ng.linalg.svdvals, torch.linalg.svdvals, [(2, 4, 3)], _any),
    "svd_tall": (  # U diag(S) and S Vh are sign-invariant when taken together with |U|, |Vh|
        lambda a: ng.linalg.svd(a, full_matrices=False)[0] ** 2 + ng.linalg.svd(a, full_matrices=False)[1].sum(),
        lambda a: torch.linalg.svd(a, full_matrices=False)[0] ** 2 + torch.linalg.svd(a, full_matrices=False)[1].sum(),
        [(4, 3)],
        _any,
    ),
    "svd_wide_vh": (
        lambda a: ng.linalg.svd(a, full_matrices=False)[2] ** 2,
        lambda a: torch.linalg.svd(a, full_matrices=False)[2] ** 2,
        [(2, 3, 5)],
        _any,
    ),
    "qr_q": (lambda a: ng.linalg.qr(a)[0], lambda a: torch.linalg.qr(a)[0], [(5, 3)], _any),
    "qr_r": (lambda a: ng.linalg.qr(a)[1], lambda a: torch.linalg.qr(a)[1], [(2, 3, 3)], _any),
    "qr_wide_q": (lambda a: ng.linalg.qr(a)[0], lambda a: torch.linalg.qr(a)[0], [(3, 5)], _any),
    "qr_wide_r": (lambda a: a.qr()[1], lambda a: torch.linalg.qr(a)[1], [(2, 2, 4)], _any),
    "pinv": (ng.linalg.pinv, torch.linalg.pinv, [(4, 3)], _any),
    "matrix_power_3": (lambda a: ng.linalg.matrix_power(a, 3), lambda a: torch.linalg.matrix_power(a, 3), [(3, 3)], _any),
    "matrix_power_neg": (
        lambda a: ng.linalg.matrix_power(a, -2),
        lambda a: torch.linalg.matrix_power(a, -2),
        [(2, 3, 3)],
        _wellcond,
    ),
    "trace": (ng.linalg.trace, lambda a: torch.diagonal(a, dim1=-2, dim2=-1).sum(-1), [(2, 3, 3)], _any),
    "norm_flat": (ng.linalg.norm, torch.linalg.norm, [(2, 3, 2)], _any),
    "norm_vector_ord3": (
        lambda a: ng.linalg.norm(a, ord=3, axis=-1),
        lambda a: torch.linalg.vector_norm(a, ord=3, dim=-1),
        [(2, 5)],
        _any,
    ),
    "norm_vector_ord1": (lambda a: ng.linalg.norm(a, 1, dim=0), lambda a: torch.linalg.norm(a, 1, dim=0), [(4, 2)], _any),
    "norm_fro": (lambda a: ng.linalg.norm(a, "fro"), lambda a: torch.linalg.norm(a, "fro"), [(3, 4)], _any),
    "norm_nuc": (
        lambda a: ng.linalg.norm(a, "nuc", axis=(1, 2)),
        lambda a: torch.linalg.matrix_norm(a, "nuc", dim=(1, 2)),
        [(2, 4, 3)],
        _any,
    ),
    "norm_spectral": (lambda a: ng.linalg.norm(a, 2), lambda a: torch.linalg.matrix_norm(a, 2), [(4, 3)], _any),
    "norm_inf_keepdims": (
        lambda a: ng.linalg.norm(a, np.inf, axis=(0, 1), keepdims=True),
        lambda a: torch.linalg.matrix_norm(a, float("inf"), dim=(0, 1), keepdim=True),
        [(3, 4)],
        _any,
    ),
    # --- shape ops (pieces of splits weighted differently, so each piece's gradient is checked)
    "flip": (lambda a: ng.flip(a, (0, 2)), lambda a: torch.flip(a, (0, 2)), [(2, 3, 4)], _any),
    "flip_method_dims": (lambda a: a.flip(dims=1), lambda a: a.flip(dims=(1,)), [(2, 3)], _any),
    "roll": (lambda a: ng.roll(a, 2, axis=1), lambda a: torch.roll(a, 2, dims=1), [(3, 5)], _any),
    "roll_flat": (lambda a: ng.roll(a, -4), lambda a: torch.roll(a, -4), [(3, 5)], _any),
    "repeat": (lambda a: ng.repeat(a, 3, axis=0), lambda a: torch.repeat_interleave(a, 3, dim=0), [(2, 3)], _any),
    "repeat_interleave": (
        lambda a: ng.repeat_interleave(a, np.array([1, 0, 2])),
        lambda a: torch.repeat_interleave(a.reshape(-1), torch.tensor([1, 0, 2])),
        [(3,)],
        _any,
    ),
    "tile": (lambda a: ng.tile(a, (2, 1, 3)), lambda a: torch.tile(a, (2, 1, 3)), [(2, 3)], _any),
    "moveaxis": (lambda a: ng.moveaxis(a, 0, -1), lambda a: torch.movedim(a, 0, -1), [(2, 3, 4)], _any),
    "movedim_pairs": (
        lambda a: ng.movedim(a, (0, 1), (2, 0)),
        lambda a: torch.movedim(a, (0, 1), (2, 0)),
        [(2, 3, 4)],
        _any,
    ),
    "vstack": (lambda a, b: ng.vstack([a, b]), lambda a, b: torch.vstack([a, b]), [(3,), (2, 3)], _any),
    "hstack": (lambda a, b: ng.hstack([a, b]), lambda a, b: torch.hstack([a, b]), [(2, 3), (2, 1)], _any),
    "dstack": (lambda a, b: ng.dstack([a, b]), lambda a, b: torch.dstack([a, b]), [(2, 3), (2, 3, 2)], _any),
    "column_stack": (lambda a, b: ng.column_stack([a, b]), lambda a, b: torch.column_stack([a, b]), [(3,), (3, 2)], _any),
    "atleast_3d": (ng.atleast_3d, torch.atleast_3d, [(4,)], _any),
    "atleast_2d": (ng.atleast_2d, torch.atleast_2d, [(4,)], _any),
    "atleast_1d": (lambda a: ng.atleast_1d(a.sum()), lambda a: torch.atleast_1d(a.sum()), [(2, 2)], _any),
    "split_numpy": _pieces_case(lambda a: ng.split(a, 2, axis=1), lambda a: torch.tensor_split(a, 2, dim=1), 0, (3, 4)),
    "split_torch_sizes": _pieces_case(lambda a: a.split(2, dim=0), lambda a: a.split(2, dim=0), 0, (5, 2)),
    "array_split": _pieces_case(lambda a: ng.array_split(a, 3), lambda a: torch.tensor_split(a, 3), 0, (7,)),
    "chunk": _pieces_case(lambda a: a.chunk(3, dim=1), lambda a: a.chunk(3, dim=1), 1, (2, 7)),
    "pad": (lambda a: ng.pad(a, ((1, 0), (2, 3))), lambda a: F.pad(a, (2, 3, 1, 0)), [(2, 3)], _any),
    "tril": (lambda a: ng.tril(a, -1), lambda a: torch.tril(a, -1), [(2, 3, 4)], _any),
    "triu": (lambda a: a.triu(diagonal=1), lambda a: torch.triu(a, diagonal=1), [(4, 3)], _any),
    "diagonal": (
        lambda a: ng.diagonal(a, 1, axis1=1, axis2=2),
        lambda a: torch.diagonal(a, 1, dim1=1, dim2=2),
        [(2, 3, 4)],
        _any,
    ),
    "diag_matrix": (lambda a: ng.diag(a, -1), lambda a: torch.diag(a, -1), [(3, 3)], _any),
    "diag_vector": (lambda a: ng.diag(a, 1), lambda a: torch.diag(a, 1), [(3,)], _any),
    "take": (
        lambda a: ng.take(a, np.array([[0, 5], [5, 2]])),
        lambda a: torch.take(a, torch.tensor([[0, 5], [5, 2]])),
        [(2, 3)],
        _any,
    ),
    "take_axis": (
        lambda a: ng.take(a, [2, 0, 2], axis=1),
        lambda a: torch.index_select(a, 1, torch.tensor([2, 0, 2])),
        [(2, 3)],
        _any,
    ),
    "take_along_axis": (
        lambda a: ng.take_along_axis(a, np.array([[0, 0], [2, 1]]), axis=1),
        lambda a: torch.take_along_dim(a, torch.tensor([[0, 0], [2, 1]]), dim=1),
        [(2, 3)],
        _any,
    ),
    "gather": (
        lambda a: a.gather(0, np.array([[1, 0, 1]])),
        lambda a: a.gather(0, torch.tensor([[1, 0, 1]])),
        [(2, 3)],
        _any,
    ),
    "scatter_add": (
        lambda a, b: a.scatter_add(1, np.array([[0, 0], [2, 0]]), b),
        lambda a, b: a.scatter_add(1, torch.tensor([[0, 0], [2, 0]]), b),
        [(2, 3), (2, 2)],
        _any,
    ),
    "ravel": (ng.ravel, torch.ravel, [(2, 3)], _any),
    # --- products, scans, order statistics
    "prod_all": (ng.prod, torch.prod, [(2, 3)], _any),
    "prod_axis": (lambda a: a.prod(axis=1), lambda a: a.prod(dim=1), [(3, 4)], _any),
    "prod_axes_keep": (
        lambda a: ng.prod(a, axis=(0, 2), keepdims=True),
        lambda a: a.prod(dim=2, keepdim=True).prod(dim=0, keepdim=True),
        [(2, 3, 2)],
        _any,
    ),
    "prod_zeros": (lambda a: a.prod(axis=1), lambda a: a.prod(dim=1), [(3, 4)], _with_zeros),
    "cumsum": (lambda a: ng.cumsum(a, axis=1), lambda a: torch.cumsum(a, dim=1), [(2, 4)], _any),
    "cumsum_flat": (ng.cumsum, lambda a: torch.cumsum(a.reshape(-1), 0), [(2, 3)], _any),
    "cumprod": (lambda a: a.cumprod(dim=0), lambda a: a.cumprod(dim=0), [(4, 2)], _any),
    "cumprod_zeros": (lambda a: ng.cumprod(a, axis=-1), lambda a: torch.cumprod(a, dim=-1), [(2, 4)], _with_zeros),
    "diff": (lambda a: ng.diff(a, axis=0), lambda a: torch.diff(a, dim=0), [(4, 3)], _any),
    "diff_n2": (lambda a: ng.diff(a, 2), lambda a: torch.diff(a, n=2), [(2, 5)], _any),
    "sort": (lambda a: ng.sort(a, axis=0), lambda a: torch.sort(a, dim=0).values, [(4, 3)], _any),
    "sort_descending": (lambda a: a.sort(descending=True).values, lambda a: a.sort(descending=True).values, [(2, 5)], _any),
    "topk": (lambda a: a.topk(2).values, lambda a: a.topk(2).values, [(3, 5)], _any),
    "topk_smallest_dim0": (
        lambda a: ng.topk(a, 2, dim=0, largest=False)[0],
        lambda a: torch.topk(a, 2, dim=0, largest=False)[0],
        [(4, 3)],
        _any,
    ),
    "median_dim": (lambda a: a.median(dim=1).values, lambda a: a.median(dim=1).values, [(3, 4)], _any),
    "median_all": (ng.median, torch.median, [(3, 5)], _any),
    "quantile": (
        lambda a: ng.quantile(a, np.array([0.1, 0.5, 0.8]), axis=1, keepdims=True),
        lambda a: torch.quantile(a, torch.tensor([0.1, 0.5, 0.8], dtype=torch.float64), dim=1, keepdim=True),
        [(2, 6)],
        _any,
    ),
    "quantile_all": (lambda a: ng.quantile(a, 0.3), lambda a: torch.quantile(a, 0.3), [(3, 4)], _any),
    "sign": (ng.sign, torch.sign, [(2, 3)], _offgrid),
    "flatten": (lambda a: ng.flatten(a, 1), lambda a: torch.flatten(a, 1), [(2, 3, 4)], _any),
    "unsqueeze": (lambda a: ng.unsqueeze(a, 1), lambda a: torch.unsqueeze(a, 1), [(2, 3)], _any),
    "squeeze_dim": (lambda a: ng.squeeze(a, dim=(0, 2)), lambda a: torch.squeeze(a, dim=(0, 2)), [(1, 3, 1)], _any),
    "swapaxes": (lambda a: ng.swapaxes(a, 0, 2), lambda a: torch.swapaxes(a, 0, 2), [(2, 3, 4)], _any),
    "broadcast_to": (lambda a: ng.broadcast_to(a, (2, 3, 4)), lambda a: torch.broadcast_to(a, (2, 3, 4)), [(3, 1)], _any),
    "where": (
        lambda a, b: ng.where(np.array([True, False, True]), a, b),
        lambda a, b: torch.where(torch.tensor([True, False, True]), a, b),
        [(2, 3), (3,)],
        _any,
    ),
    "norm_torch": (lambda a: ng.norm(a, 3, dim=(0, 2)), lambda a: torch.norm(a, 3, dim=(0, 2)), [(2, 3, 2)], _any),
    "std_default": (lambda a: a.std(dim=1), lambda a: a.std(dim=1), [(3, 5)], _any),  # correction=1, as torch
    "var_default": (ng.var, torch.var, [(3, 4)], _any),
    "var_numpy": (lambda a: a.var(axis=0, correction=0), lambda a: a.var(dim=0, correction=0), [(3, 4)], _any),
    "logsumexp_b": (
        lambda a, b: ng.logsumexp(a, axis=1, b=b),
        lambda a, b: torch.log((b * a.exp()).sum(dim=1)),
        [(3, 4), (4,)],
        _pos,
    ),
    "logsumexp_b_all_keepdim": (
        lambda a, b: a.logsumexp(b=b, keepdim=True),
        lambda a, b: torch.logsumexp(a + torch.log(b), dim=(0, 1, 2), keepdim=True),
        [(2, 3), (2, 1, 3)],
        _pos,
    ),
}


def _inputs(shapes, gen, seed):
    rng = np.random.default_rng(seed)
    return [gen(rng, s) for s in shapes]


def _seed(name):
    return sum(map(ord, name))


@pytest.mark.parametrize("name", sorted(CASES))
def test_value_and_vjp_match_torch(name):
    f, tf, shapes, gen = CASES[name]
    arrays = _inputs(shapes, gen, _seed(name))
    xs = [ng.tensor(a, requires_grad=True) for a in arrays]
    out = f(*xs)
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    tout = tf(*ts)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-12, atol=1e-12)
    cot = np.random.default_rng(7).standard_normal(tout.shape)
    (out * ng.tensor(cot)).sum().backward()
    (tout * torch.tensor(cot)).sum().backward()
    for x, t in zip(xs, ts):
        assert x.grad.shape == x.shape
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
def test_jvp_matches_torch_func(name):
    f, tf, shapes, gen = CASES[name]
    arrays = _inputs(shapes, gen, _seed(name))
    tangents = _inputs(shapes, _any, 99)
    out, tan = ng.jvp(f, arrays, tangents)
    tout, ttan = torch.func.jvp(tf, tuple(map(torch.tensor, arrays)), tuple(map(torch.tensor, tangents)))
    np.testing.assert_allclose(out.numpy(), tout.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tan.numpy(), ttan.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck_float64(name):
    f, _, shapes, gen = CASES[name]
    assert ng.gradcheck(f, *_inputs(shapes, gen, _seed(name)))


@pytest.mark.parametrize(
    "name",
    [
        "tan",
        "erf",
        "softplus",
        "arctan2",
        "logaddexp",
        "einsum_diag",
        "einsum_sum_inside",
        "kron",
        "inv",
        "solve_matrix",
        "cholesky",
        "eigh_vectors",
        "svd_tall",
        "qr_q",
        "qr_wide_r",
        "det",
        "logsumexp_b",
        "std_default",
        "erfc",
        "norm_torch",
    ],
)
def test_second_derivatives_match_torch(name):
    """create_graph reuses the same rules: the Hessian of Σ f² equals PyTorch's."""
    f, tf, shapes, gen = CASES[name]
    arrays = _inputs(shapes[:1], gen, _seed(name))
    rest = _inputs(shapes[1:], gen, 1)
    h = ng.hessian(lambda a: (f(a, *rest) ** 2).sum())(arrays[0])
    th = torch.func.hessian(lambda a: (tf(a, *map(torch.tensor, rest)) ** 2).sum())(torch.tensor(arrays[0]))
    np.testing.assert_allclose(h.numpy(), th.numpy(), rtol=1e-10, atol=1e-12)


def test_elementwise_keep_float32_and_step_functions_give_exact_zeros():
    x = ng.tensor(np.array([0.5, -1.5], dtype=np.float32), requires_grad=True)
    for name in ("tan", "erf", "softplus", "log1p", "floor", "hypot"):
        f = getattr(ng, name)
        y = f(x) if name != "hypot" else f(x, 2.0)
        assert y.dtype == np.float32, name
    big = ng.tensor([1e30, -2.0], requires_grad=True)
    (ng.floor(big) * np.inf).sum().backward()  # PyTorch: floor's gradient is 0 even under ∞
    assert big.grad.numpy().tolist() == [0.0, 0.0]
    assert np.isfinite(ng.softplus(ng.tensor([1000.0, -1000.0])).numpy()).all()


def test_index_and_boolean_reductions_match_torch_and_have_no_gradient():
    x = np.array([[3.0, -1.0, 3.0], [0.0, 5.0, 4.0]])
    t = torch.tensor(x)
    for name, ng_out, torch_out in [
        ("argmax", ng.argmax(x), torch.argmax(t)),
        ("argmax_dim", ng.tensor(x).argmax(dim=1), t.argmax(dim=1)),
        ("argmin_keep", ng.argmin(x, axis=0, keepdims=True), t.argmin(dim=0, keepdim=True)),
        ("all", ng.all(x), torch.all(t)),
        ("all_dim", ng.tensor(x).all(dim=1), t.all(dim=1)),
        ("any_keep", ng.any(x == 5.0, axis=1, keepdims=True), torch.any(t == 5.0, dim=1, keepdim=True)),
    ]:
        np.testing.assert_array_equal(ng_out.numpy(), torch_out.numpy(), err_msg=name)
        assert not ng_out.requires_grad, name
    idx = ng.topk(ng.tensor(x), 2, dim=1).indices.numpy()
    np.testing.assert_array_equal(idx, torch.topk(t, 2, dim=1).indices.numpy())


# every op has a batching rule (elementwise by row kind, einsum's batch letter, linalg broadcasting
# over leading axes, scans' shifted axis, composites of these); torch.func.vmap has none for
# column_stack, so that row is checked only by the other tests
VMAP = sorted(set(CASES) - {"column_stack"})


@pytest.mark.parametrize("axis", [None, 0, -1])
def test_index_reductions_under_vmap_match_torch(axis):
    x = np.random.default_rng(3).standard_normal((3, 4, 5))
    kw = {} if axis is None else {"dim": axis}
    for ng_f, t_f in [(ng.argmax, torch.argmax), (ng.argmin, torch.argmin)]:
        out = ng.vmap(lambda a: ng_f(a, **kw))(x)
        ref = torch.func.vmap(lambda a: t_f(a, **kw))(torch.tensor(x))
        np.testing.assert_array_equal(out.numpy(), ref.numpy())
    out = ng.vmap(lambda a: ng.any(a > 1.0, **kw))(x)
    ref = torch.func.vmap(lambda a: torch.any(a > 1.0, **kw) if kw else torch.any(a > 1.0))(torch.tensor(x))
    np.testing.assert_array_equal(out.numpy(), ref.numpy())


@pytest.mark.parametrize("name", VMAP)
def test_vmap_matches_torch_func_vmap(name):
    """vmap over a new leading axis of the first argument, the others shared (in_axes None)."""
    f, tf, shapes, gen = CASES[name]
    first = _inputs([(3, *shapes[0])], gen, _seed(name))[0]
    rest = _inputs(shapes[1:], gen, 1)
    in_axes = (0,) + (None,) * len(rest)
    out = ng.vmap(f, in_axes=in_axes)(first, *rest)
    ref = torch.func.vmap(tf, in_dims=in_axes)(torch.tensor(first), *map(torch.tensor, rest))
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", VMAP)
def test_nested_vmap_matches_torch_func(name):
    """vmap of vmap: the outer maps axis 1 of the first argument and axis 0 of the second (when
    there is one), the inner axis 0 of the first only — so the inner vmap sees an argument that
    only the outer one batches, and the two batch axes must stay distinct."""
    f, tf, shapes, gen = CASES[name]
    first = _inputs([(3, 2, *shapes[0])], gen, _seed(name))[0]
    rest = _inputs([((2,) + tuple(shapes[1]))] if len(shapes) > 1 else [], gen, 1) + _inputs(shapes[2:], gen, 2)
    outer = (1,) + (0,) * min(len(rest), 1) + (None,) * (len(rest) - 1)
    inner = (0,) + (None,) * len(rest)
    out = ng.vmap(ng.vmap(f, in_axes=inner), in_axes=outer)(first, *rest)
    ref = torch.func.vmap(torch.func.vmap(tf, in_dims=inner), in_dims=outer)(torch.tensor(first), *map(torch.tensor, rest))
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["einsum_matmul", "inv", "cholesky", "eigh_values", "cumprod", "solve_matrix", "kron"])
def test_per_example_gradients_by_vmap_of_grad(name):
    f, tf, shapes, gen = CASES[name]
    first = _inputs([(3, *shapes[0])], gen, _seed(name))[0]
    rest = _inputs(shapes[1:], gen, 1)
    in_axes = (0,) + (None,) * len(rest)
    g = ng.vmap(ng.grad(lambda a, *r: (f(a, *r) ** 2).sum()), in_axes=in_axes)(first, *rest)
    tg = torch.func.vmap(torch.func.grad(lambda a, *r: (tf(a, *r) ** 2).sum()), in_dims=in_axes)(
        torch.tensor(first), *map(torch.tensor, rest)
    )
    np.testing.assert_allclose(g.numpy(), tg.numpy(), rtol=1e-9, atol=1e-12)


def test_floor_divide_matches_torch_and_python_and_has_a_zero_derivative():
    """PyTorch has no derivative for floor_divide (so it is not a row above): values against
    ``torch.floor_divide`` and Python's ``//``, the derivative against central differences (0 off the
    jumps), by function, method, reverse and forward mode."""
    rng = np.random.default_rng(3)
    a, b = _offgrid(rng, (3, 4)), _offgrid(rng, (4,))
    b[b == 0] = 0.3
    ref = torch.floor_divide(torch.tensor(a), torch.tensor(b)).numpy()
    np.testing.assert_array_equal(ref, np.array([[x // y for x, y in zip(row, b)] for row in a]))
    x, y = ng.tensor(a, requires_grad=True), ng.tensor(b, requires_grad=True)
    for out in (ng.floor_divide(x, y), x.floor_divide(y), ng.floor_divide(x, 0.7)):
        assert out.shape == ref.shape
    np.testing.assert_array_equal(ng.floor_divide(x, y).numpy(), ref)
    np.testing.assert_array_equal(x.floor_divide(0.7).numpy(), torch.floor_divide(torch.tensor(a), 0.7).numpy())
    (ng.floor_divide(x, y) * ng.tensor(rng.standard_normal(ref.shape))).sum().backward()
    assert x.grad.numpy().tolist() == np.zeros_like(a).tolist() and y.grad.numpy().tolist() == np.zeros_like(b).tolist()
    _, tan = ng.jvp(ng.floor_divide, [a, b], [np.ones_like(a), np.ones_like(b)])
    assert not tan.numpy().any()
    assert ng.gradcheck(ng.floor_divide, a, b)
