"""Differential fuzzing of transform stacks over pytrees, against torch.func in float64.

A seeded generator draws a function of two pytree arguments — ``a = {"u": (3,), "v": (2,)}`` and
``b = (c: (2,), s: ())`` — returning a dict or tuple of tensors, then wraps it in 2 to 4 random layers, each
again a function of ``(a, b)`` returning a pytree: ``jacrev``/``jacfwd``/``grad``/``value_and_grad`` with a
random ``argnums`` (int or tuple) and ``has_aux``, ``hessian``, ``vjp`` with a cotangent computed from the output
(traced), ``jvp``, and ``vmap`` with random ``in_dims`` prefix trees (``{"u": 0, "v": None}`` …), ``out_dims``
and ``chunk_size``.  The same stack runs on both libraries; results must agree in structure (dict, tuple), shape,
dtype and value — and so must one more ``grad`` through the whole stack, and a ``backward`` into a tensor that
requires grad and that the base function closes over (the gradient-penalty pattern)."""

from __future__ import annotations

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")  # the oracle
from _torch_twins import NGBase, THBase, weights  # noqa: E402 - after the oracle is found

tf = torch.func

pytestmark = pytest.mark.numpy_only("transforms are the same code on every device; one oracle run")


class NG(NGBase):
    @staticmethod
    def vag(f, argnums, has_aux):  # ((value, aux), grads)
        return ng.value_and_grad(f, argnums=argnums, has_aux=has_aux)


class TH(THBase):
    @staticmethod
    def vag(f, argnums, has_aux):  # torch.func.grad_and_value gives (grads, value): turned to JAX's order
        return lambda *a: tf.grad_and_value(f, argnums=argnums, has_aux=has_aux)(*a)[::-1]


def tree_map(fn, tree):
    if isinstance(tree, dict):
        return {k: tree_map(fn, v) for k, v in tree.items()}
    if isinstance(tree, tuple | list):
        return type(tree)(tree_map(fn, v) for v in tree)
    return fn(tree)


def leaves(tree) -> list:
    if isinstance(tree, dict):
        return [x for k in sorted(tree) for x in leaves(tree[k])]
    if isinstance(tree, tuple | list):
        return [x for v in tree for x in leaves(v)]
    return [tree]


def tree_dot(L, tree, seed: float = 0.9):
    """``Σ_leaves Σ w · sin(leaf)``: a scalar reading every entry of every leaf, none of its derivatives zero."""
    return sum((L.lib.sin(o) * L.t(weights(tuple(o.shape), seed + i))).sum() for i, o in enumerate(leaves(tree)))


# --- the base functions of (a, b), a = {"u": (3,), "v": (2,)}, b = (c: (2,), s: ()) ------------------------------
def base_outer(L, a, b):
    u, v = a["u"], a["v"]
    c, s = b
    return {"m": L.lib.outer(L.lib.sin(u) * s, v + c), "s": (u * u).sum() * L.lib.tanh(v).sum() + s * c.sum()}


def base_softmax(L, a, b):
    u, v = a["u"], a["v"]
    c, s = b
    p = L.lib.softmax(u * s, dim=0)
    return (p, L.lib.cat([v * c, p[:2] * L.lib.exp(0.3 * c)]).cumsum(0))


def base_matmul(L, a, b):
    u, v = a["u"], a["v"]
    c, s = b
    m = L.lib.stack([u, u * u + s], dim=0)  # (2, 3)
    return {"y": (v + c) @ m, "n": L.lib.logsumexp(m, dim=1).sum() * s}


def base_sort(L, a, b):
    u, v = a["u"], a["v"]
    c, s = b
    top = L.lib.sort(u * L.lib.cos(s), dim=0).values
    return (top[1:] * v, L.lib.where(c > 0, c * c, L.lib.sin(c)) * v.prod())


BASES = {"outer": base_outer, "softmax": base_softmax, "matmul": base_matmul, "sort": base_sort}
A_VALUE = {"u": np.array([0.4, -1.1, 0.7]), "v": np.array([0.3, -0.6])}
B_VALUE = (np.array([0.8, -0.2]), np.array(1.3))
IN_SIZE = {0: 5, 1: 3}  # entries of a and b


def stack3(L, x, d):
    """Three examples near ``x`` along a new axis ``d``."""
    return L.lib.stack([x, L.lib.sin(x) + 0.3, x * 0.5 - 0.2], dim=d)


# --- the layers: each maps F(a, b) -> pytree to another such function ----------------------------------------------
def _positive(nums):
    """torch.func.jacfwd (so hessian) gives zeros for a negative argnums (torch 2.13): its oracle gets the
    positive position of the same argument; nablagrad gets the negative one."""
    return tuple(i % 2 for i in nums) if isinstance(nums, tuple) else nums % 2


def layer(L, spec, F):
    kind = spec[0]
    if L is TH and kind in ("jacfwd", "hessian"):
        spec = (kind, _positive(spec[1]), *spec[2:])
    if kind in ("jacrev", "jacfwd"):
        _, nums, aux = spec
        jac = getattr(L.func, kind)
        if aux:
            return lambda a, b: jac(lambda a, b: (F(a, b), a["u"] * b[1]), argnums=nums, has_aux=True)(a, b)
        return lambda a, b: jac(F, argnums=nums)(a, b)
    if kind == "grad":
        _, nums, aux = spec
        if aux:
            return lambda a, b: L.func.grad(lambda a, b: (tree_dot(L, F(a, b)), F(a, b)), argnums=nums, has_aux=True)(a, b)
        return lambda a, b: L.func.grad(lambda a, b: tree_dot(L, F(a, b)), argnums=nums)(a, b)
    if kind == "value_and_grad":
        _, nums, aux = spec
        if aux:
            return lambda a, b: L.vag(lambda a, b: (tree_dot(L, F(a, b)), b[0] * a["v"]), nums, True)(a, b)
        return lambda a, b: L.vag(lambda a, b: tree_dot(L, F(a, b)), nums, False)(a, b)
    if kind == "hessian":
        nums = spec[1]
        return lambda a, b: L.func.hessian(lambda a, b: tree_dot(L, F(a, b)), argnums=nums)(a, b)
    if kind == "vjp":  # a cotangent made from the output: the pullback is differentiated in it too

        def G(a, b):
            out, pull = L.func.vjp(F, a, b)
            return pull(tree_map(lambda o: L.lib.cos(o) * 0.5, out))

        return G
    if kind == "jvp":
        ta = {"u": L.t(weights((3,), 2.0)), "v": L.t(weights((2,), 2.5))}
        tb = (L.t(weights((2,), 3.0)), L.t(0.7))
        return lambda a, b: L.func.jvp(F, (a, b), (ta, tb))[1]
    if kind == "vmap":
        _, da, db, out_dims, chunk = spec
        kw = {} if chunk is None else {"chunk_size": chunk}

        def batch(x, d):
            return x if d is None else stack3(L, x, d)

        def G(a, b):
            ab = {k: batch(a[k], da if isinstance(da, int | type(None)) else da[k]) for k in a}
            bb = tuple(batch(x, db if isinstance(db, int | type(None)) else db[i]) for i, x in enumerate(b))
            return L.func.vmap(F, in_dims=(da, db), out_dims=out_dims, **kw)(ab, bb)

        return G
    raise ValueError(kind)


def draw_layer(rng: np.random.Generator, size: int) -> tuple[tuple, int]:
    """A random layer and the (rough) number of output entries after it, from ``size`` before it."""
    nums = [0, 1, (0, 1), (1,), (1, 0), -1][rng.integers(6)]
    n_in = sum(IN_SIZE[i % 2] for i in (nums if isinstance(nums, tuple) else (nums,)))
    kind = ["jacrev", "jacfwd", "grad", "value_and_grad", "hessian", "vjp", "jvp", "vmap", "vmap"][rng.integers(9)]
    aux = bool(rng.integers(2))
    if kind in ("jacrev", "jacfwd"):
        return (kind, nums, aux), size * n_in + (3 if aux else 0)
    if kind in ("grad", "value_and_grad"):
        return (kind, nums, aux), n_in + 1 + (size if aux else 0)
    if kind == "hessian":
        return (kind, nums), n_in * n_in
    if kind == "vjp":
        return (kind,), 8
    if kind == "jvp":
        return (kind,), size
    # vmap: each leaf mapped along one of its axes (0, the last, or the new one past its end) or not at all
    da = [0, None, {"u": 0, "v": None}, {"u": None, "v": 1}, {"u": -1, "v": 0}][rng.integers(5)]
    db = [0, None, (None, 0), (1, None), (0, 0)][rng.integers(5)]
    if da is None and db is None:
        db = (None, 0)
    if db == 0 or (isinstance(db, tuple) and db[1] == 1):
        db = (db if isinstance(db, int) else db[0], 0)  # (the scalar s has a single axis to map)
    out_dims = [0, -1, 0][rng.integers(3)]
    chunk = [None, None, 1, 2][rng.integers(4)]
    return ("vmap", da, db, out_dims, chunk), 3 * size


def draw_case(seed: int) -> tuple[str, list, int]:
    rng = np.random.default_rng(seed)
    base = list(BASES)[rng.integers(len(BASES))]
    depth, size, layers = int(rng.integers(2, 5)), 8, []
    while len(layers) < depth:  # (under 150 output entries and two jacobians — a hessian is two —, each running
        spec, new = draw_layer(rng, size)  # what it wraps once per entry: a fast test)
        jacobians = sum({"jacrev": 1, "jacfwd": 1, "hessian": 2}.get(s[0], 0) for s in [*layers, spec])
        if new <= 150 and jacobians <= 2:
            layers.append(spec)
            size = new
    return base, layers, int(rng.integers(3))


def run(L, base: str, layers: list, mode: int):
    """The stack's value at (a, b); mode 1: one more grad through it, mode 2: a backward into the closed-over p."""
    p = L.t(np.array([1.1, 0.9, -0.8]), grad=True)
    F = (lambda a, b: BASES[base](L, {"u": a["u"] * p, "v": a["v"]}, b)) if mode == 2 else (lambda a, b: BASES[base](L, a, b))
    for spec in layers:
        F = layer(L, spec, F)
    a = {k: L.t(v) for k, v in A_VALUE.items()}
    b = tuple(L.t(v) for v in B_VALUE)
    if mode == 1:
        return L.func.grad(lambda a, b: tree_dot(L, F(a, b), 0.2), argnums=(0, 1))(a, b)
    out = F(a, b)
    if mode == 2:
        tree_dot(L, out, 0.2).backward()
        return out, p.grad
    return out


def host_tree(L, tree):
    return tree_map(lambda x: L.host(x) if x is not None else None, tree)


def assert_trees_close(ours, theirs, path: str = "") -> None:
    assert type(ours) is type(theirs), (path, type(ours), type(theirs))
    if isinstance(theirs, dict):
        assert sorted(ours) == sorted(theirs), path
        for k in theirs:
            assert_trees_close(ours[k], theirs[k], f"{path}[{k!r}]")
    elif isinstance(theirs, tuple | list):
        assert len(ours) == len(theirs), path
        for i, (x, y) in enumerate(zip(ours, theirs)):
            assert_trees_close(x, y, f"{path}[{i}]")
    elif theirs is not None:
        assert (ours.shape, ours.dtype) == (theirs.shape, theirs.dtype), path
        np.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=1e-10, err_msg=path)


SEEDS = range(80)  # (seeds 0-199 pass; torch.func fails on 127, 150 and 194 by its own errors)


@pytest.mark.parametrize("seed", SEEDS)
def test_random_pytree_stack_matches_torch_func(seed):
    base, layers, mode = draw_case(seed)
    theirs = host_tree(TH, run(TH, base, layers, mode))
    ours = host_tree(NG, run(NG, base, layers, mode))
    assert_trees_close(ours, theirs)
