"""Differential fuzzing of random transform stacks against torch.func in float64.

A seeded generator picks one op of a corpus of ~50 (elementwise math, reductions over a dim, matmul and einsum,
indexing, where, cat/stack, softmax, norms, cumsum/cumprod, sort/topk …) as a function of ``x`` of shape (2, 3),
then wraps it in 2 to 4 random layers, each again a function of ``x``: ``jacfwd``, ``jacrev``, ``grad`` and
``hessian`` of a weighted sum, ``vjp`` and ``jvp`` (with a constant or an ``x``-dependent cotangent/tangent),
``vmap`` over three examples stacked along a random ``in_dims`` with a random ``out_dims`` and ``chunk_size``,
``vmap`` of a closure over ``x`` (``in_dims=None`` for x too), and closures that differentiate in another
variable while reading ``x`` (``x · ∂/∂s f(x s)``: perturbation confusion).  The top of the stack is then
(mode 0) evaluated, (mode 1) differentiated once more by ``grad``, or (mode 2) evaluated with the op reading a
tensor ``p`` that requires grad, and back-propagated into ``p.grad`` — all compared with torch.func."""

from __future__ import annotations

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")  # the oracle
from _torch_twins import NGBase, THBase, weights  # noqa: E402 - after the oracle is found

tf = torch.func

pytestmark = pytest.mark.numpy_only("transforms are the same code on every device; one oracle run")


class NG(NGBase):
    linalg = ng.linalg

    @staticmethod
    def ti(a):
        return ng.tensor(np.asarray(a))


class TH(THBase):
    linalg = torch.linalg

    @staticmethod
    def ti(a):
        return torch.tensor(np.asarray(a))


W34 = weights((3, 4), 1.0)
OPS = {  # (L, x) -> tensor, x of shape (2, 3)
    "sin": lambda L, x: L.lib.sin(x),
    "exp": lambda L, x: L.lib.exp(0.3 * x),
    "tanh_mul": lambda L, x: L.lib.tanh(x) * x,
    "sigmoid": lambda L, x: L.lib.sigmoid(x),
    "cube": lambda L, x: x**3,
    "log": lambda L, x: L.lib.log(x * x + 1.0),
    "sqrt": lambda L, x: L.lib.sqrt(x * x + 0.5),
    "softplus": lambda L, x: L.F.softplus(x),
    "sum_dim": lambda L, x: (x * x).sum(dim=1),
    "mean_keepdim": lambda L, x: L.lib.sin(x).mean(dim=0, keepdim=True),
    "prod": lambda L, x: L.lib.prod(x, dim=1),
    "amax": lambda L, x: L.lib.amax(x, dim=1),
    "logsumexp": lambda L, x: L.lib.logsumexp(x, dim=1),
    "softmax": lambda L, x: L.lib.softmax(x, dim=1),
    "log_softmax": lambda L, x: L.lib.log_softmax(x, dim=0),
    "vector_norm": lambda L, x: L.linalg.vector_norm(x, dim=1),
    "var": lambda L, x: x.var(dim=1),
    "cumsum": lambda L, x: L.lib.cumsum(x * x, dim=1),
    "cumprod": lambda L, x: L.lib.cumprod(x, dim=1),
    "sort": lambda L, x: L.lib.sort(x, dim=1).values,
    "topk": lambda L, x: x.topk(2, dim=1).values,
    "matmul": lambda L, x: x @ L.t(W34),
    "einsum": lambda L, x: L.lib.einsum("ij,kj->ik", x, L.lib.sin(x)),
    "array_index": lambda L, x: x[:, L.ti(np.array([2, 0]))] * x[0, 1],
    "rows": lambda L, x: x[1] * x[0],
    "where": lambda L, x: L.lib.where(x > 0, x * x, L.lib.sin(x)),
    "cat": lambda L, x: L.lib.cat([x, x * x], dim=0),
    "stack": lambda L, x: L.lib.stack([x, L.lib.cos(x)], dim=1),
    "transpose_reshape": lambda L, x: (x.transpose(0, 1) * x.sum()).reshape(6),
    "clamp": lambda L, x: L.lib.clamp(x, -0.6, 0.6) * x,
    "gather": lambda L, x: L.lib.gather(x * x, 1, L.ti(np.array([[2, 0], [1, 1]]))),
    "flip": lambda L, x: x.flip(1) * x,
    "max_values": lambda L, x: x.max(dim=0).values,
    "gram": lambda L, x: x @ x.transpose(0, 1),
    "std": lambda L, x: x.std(dim=0),
    "frobenius": lambda L, x: L.linalg.norm(x),
    "broadcast": lambda L, x: x[:, None, :] * x[None, :, :1],
    "normalize": lambda L, x: L.F.normalize(x, dim=1),
    "expand": lambda L, x: x.unsqueeze(0).expand(2, 2, 3) * L.t(weights((2, 2, 3))),
    "split": lambda L, x: x.split(2, dim=1)[1] * x[:, :1],
    "roll": lambda L, x: L.lib.roll(x, 1, 1) * x,
    "pairwise": lambda L, x: ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1),
    "dot": lambda L, x: L.lib.dot(x[0], x[1]),
    "mv": lambda L, x: L.lib.mv(x, x[0]),
    "diff": lambda L, x: L.lib.diff(x * x, dim=1),
    "narrow": lambda L, x: L.lib.narrow(x * x, 1, 1, 2),
    "pow_tensor": lambda L, x: L.lib.pow(x * x + 0.5, L.t(weights((2, 3))) + 1.5),
    "atan2": lambda L, x: L.lib.atan2(x, x.flip(0) + 2.0),
    "minimum": lambda L, x: L.lib.minimum(x, L.lib.cos(x)),
    "masked_fill": lambda L, x: L.lib.masked_fill(x * x, L.ti(weights((2, 3)) > 0), 0.5),
    "trace": lambda L, x: L.lib.trace(x[:, :2] @ x[:, 1:]),
    "tril": lambda L, x: L.lib.tril(x @ x.transpose(0, 1)),
    "outer": lambda L, x: L.lib.outer(x[0], x[1]),
}
IN = (2, 3)
SCALES = np.array([1.0, -0.7, 1.3])


def wsum(L, y, seed: float = 0.9):
    """``Σ w · y`` for fixed weights of ``y``'s (per-example) shape."""
    return (y * L.t(weights(tuple(y.shape), seed))).sum()


def stacked(L, x, d: int):
    """Three examples near ``x`` along a new axis ``d``."""
    return L.lib.stack([x, L.lib.sin(x) + 0.3, x * 0.5 - 0.2], dim=d)


def layer(L, spec: tuple, F, outs: tuple):
    """``F``, a function of x with output shape ``outs``, wrapped by the layer ``spec``."""
    kind = spec[0]
    if kind in ("jacfwd", "jacrev"):
        return getattr(L.func, kind)(F)
    if kind == "grad":
        return L.func.grad(lambda x: wsum(L, F(x), spec[1]))
    if kind == "hessian":
        return L.func.hessian(lambda x: wsum(L, F(x)))
    if kind == "vjp":

        def G(x):
            ct = L.t(weights(outs, 1.3))
            return L.func.vjp(F, x)[1](ct * L.lib.cos(x).sum() if spec[1] else ct)[0]

        return G
    if kind == "jvp":

        def G(x):
            v = L.t(weights(IN, 2.0))
            return L.func.jvp(F, (x,), (v * L.lib.sin(x) if spec[1] else v,))[1]

        return G
    if kind == "vmap_stack":
        _, d, e, chunk = spec
        kw = {} if chunk is None else {"chunk_size": chunk}
        return lambda x: L.func.vmap(F, in_dims=d, out_dims=e, **kw)(stacked(L, x, d))
    if kind == "vmap_closure":
        _, e, chunk = spec
        kw = {} if chunk is None else {"chunk_size": chunk}
        return lambda x: L.func.vmap(lambda k: F(x * k), out_dims=e, **kw)(L.t(SCALES))
    if kind == "vmap_none":  # x unmapped, an offset mapped along its axis 1
        offsets = L.t(weights((2, 3, 3), 0.1) * 0.3)
        return lambda x: L.func.vmap(lambda a, b: F(a + b), in_dims=(None, 1))(x, offsets)
    if kind == "grad_closure":  # x · ∂/∂s Σ w f(x s) at s = 1.1
        return lambda x: x * L.func.grad(lambda s: wsum(L, F(x * s)))(L.t(1.1))
    if kind == "jvp_closure":  # ∂/∂s f(x s) at s = 0.9
        return lambda x: L.func.jvp(lambda s: F(x * s), (L.t(0.9),), (L.t(1.0),))[1]
    if kind == "jacrev_closure":  # ∂/∂c f(x c) for a row c of x's last axis
        return lambda x: L.func.jacrev(lambda c: F(x * c))(L.t(weights((3,), 0.5) + 1.5))
    raise ValueError(kind)


def out_shape(spec: tuple, outs: tuple) -> tuple:
    kind = spec[0]
    if kind in ("jacfwd", "jacrev"):
        return outs + IN
    if kind in ("grad", "vjp", "grad_closure"):
        return IN
    if kind == "hessian":
        return IN + IN
    if kind in ("jvp", "jvp_closure"):
        return outs
    if kind == "jacrev_closure":
        return outs + (3,)
    if kind == "vmap_none":
        return (3, *outs)
    e = spec[2] if kind == "vmap_stack" else spec[1]
    o = list(outs)
    o.insert(e % (len(outs) + 1), 3)
    return tuple(o)


KINDS = ["jacfwd", "jacrev", "grad", "hessian", "vjp", "jvp", "vmap_stack", "vmap_closure", "vmap_none",
         "grad_closure", "jvp_closure", "jacrev_closure"]  # fmt: skip
GROWS = ("jacfwd", "jacrev", "hessian", "jacrev_closure", "vmap_stack", "vmap_closure", "vmap_none")


def draw_case(seed: int) -> tuple[str, list, int]:
    """A random op, 2 to 4 layers (kept under 200 output entries, with at most two jacobians — each runs what it
    wraps once per entry: a fast test) and a mode."""
    rng = np.random.default_rng(seed)
    op = list(OPS)[rng.integers(len(OPS))]
    outs = tuple(NG.host(OPS[op](NG, NG.t(np.full(IN, 0.5)))).shape)
    depth, layers = int(rng.integers(2, 5)), []
    while len(layers) < depth:
        kind = KINDS[rng.integers(len(KINDS))]
        if kind == "grad":
            spec = (kind, float(rng.uniform(0, 3)))
        elif kind in ("vjp", "jvp"):
            spec = (kind, bool(rng.integers(2)))
        elif kind == "vmap_stack":
            d, e = int(rng.choice([0, 1, 2, -1])), int(rng.integers(-1, 2))
            spec = (kind, d, min(e, len(outs)), [None, 1, 2][rng.integers(3)])
        elif kind == "vmap_closure":
            spec = (kind, min(int(rng.integers(-1, 2)), len(outs)), [None, 2][rng.integers(2)])
        else:
            spec = (kind,)
        new = out_shape(spec, outs)
        jacobians = sum(s[0] in ("jacfwd", "jacrev", "jacrev_closure", "hessian") for s in [*layers, spec])
        if kind in GROWS and (int(np.prod(new)) > 200 or jacobians > 2):
            continue
        layers.append(spec)
        outs = new
    return op, layers, int(rng.integers(3))


def run(L, op: str, layers: list, mode: int, x: np.ndarray) -> list[np.ndarray]:
    p = L.t(1.0 + 0.3 * weights((3,), 0.2), grad=True)
    F = (lambda z: OPS[op](L, z * p)) if mode == 2 else (lambda z: OPS[op](L, z))
    outs = tuple(NG.host(OPS[op](NG, NG.t(x))).shape)
    for spec in layers:
        F, outs = layer(L, spec, F, outs), out_shape(spec, outs)
    if mode == 1:
        return [L.host(L.func.grad(lambda z: wsum(L, F(z), 0.4))(L.t(x)))]
    r = F(L.t(x))
    if mode == 0:
        return [L.host(r)]
    if not r.requires_grad:  # (a stack whose value does not depend on p: torch.func may keep a graph there or not)
        return [L.host(r), np.zeros(3)]
    wsum(L, r, 0.4).backward()
    return [L.host(r), np.zeros(3) if p.grad is None else L.host(p.grad)]


# seeds where torch.func itself fails, found by running the generator: the backward of std and of the norms
# (vector_norm, frobenius, normalize) under its transforms trips on an in-place masked_fill ("modified by an inplace
# operation"); seed 56 on an expand of a wrong size inside its jacrev of jacrev.  (Seeds 0-299 pass otherwise.)
TORCH_FAILS = {21, 28, 44, 56, 70}


@pytest.mark.parametrize("seed", [s for s in range(80) if s not in TORCH_FAILS])
def test_random_transform_stack_matches_torch_func(seed):
    op, layers, mode = draw_case(seed)
    x = np.random.default_rng(1000 + seed).normal(size=IN)
    theirs = run(TH, op, layers, mode, x)
    ours = run(NG, op, layers, mode, x)
    for a, b in zip(ours, theirs, strict=True):
        assert a.shape == b.shape, (op, layers, mode)
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-9, err_msg=f"{op} {layers} mode={mode}")
