"""Every primitive's ``reads=`` declaration checked against what its VJP rules actually read.

The tape walk lets an in-place write go unrefused when the op that used the written value declared
that its VJP does not read it (``Primitive.reads``, see :mod:`nablagrad.autodiff.primitive`).  A wrong
declaration is therefore a silent wrong gradient.  This file checks, mechanically and for every
primitive of the engine (enumerated from the loaded modules, not listed by hand):

* at the rule level: each VJP rule called with ``(g, ans, *args)`` gives the same cotangent, bit for
  bit, when every argument (and ``ans``) that the declaration says the rule does not read is replaced
  by garbage of its shape and dtype (NaN, other random values, negated values; flipped booleans,
  permuted integers) — and never an output that aliases an unread input while ``ans`` is read;
* end to end, through the engine: ``y = op(leaves)``; an input written in place (under ``no_grad``,
  or by a recorded in-place op on a non-leaf input) or ``y`` itself written; ``backward`` then either
  raises PyTorch's "modified by an inplace operation" error — exactly when the written value is one
  the declaration says the needed rules read — or gives the gradient of a fresh computation on the
  original values (first order and ``create_graph=True``); and where PyTorch has the op, whenever
  nablagrad gives a gradient PyTorch either raises too or gives the same gradient;
* structurally: ``reads`` has one entry per rule (or is ``()``), naming arguments that exist.

Sample inputs come from the op table of tests/autodiff/test_ops_table.py (every node of each case's
graph is a sample of its primitive) plus the calls of :func:`_extra` for the primitives and rules it does
not reach.  Every primitive with a VJP must have a sample: a new one without fails
test_every_primitive_is_checked.

Last, values a VJP reads that no declaration covers — a tensor whose array an op keeps as a raw argument
or parameter (where's condition, an index, cross_entropy's labels) and a write through a view — are
checked against PyTorch, which refuses each such write, and so must nablagrad (``guard`` keeps such tensors
on the op's node; views share their base's version counter).
"""

from __future__ import annotations

import functools
import gc
import importlib
import inspect
import pkgutil
import re
import sys

import numpy as np
import pytest
from test_ops_table import CASES, _inputs, _seed  # the same folder (pytest puts it on the path)

import nablagrad as ng
import nablagrad.nn.functional as NF
from nablagrad.autodiff import rules as R
from nablagrad.autodiff.checkpoint import _Checkpoint
from nablagrad.autodiff.jit import _Compiled
from nablagrad.autodiff.primitive import ANS, NUMPY_NS, TABLE, Primitive, _no_cotangent
from nablagrad.autodiff.tensor import Tensor, _apply

torch = pytest.importorskip("torch")  # the oracle

pytestmark = pytest.mark.numpy_only(reason="the rules are called on NumPy arrays (NUMPY_NS); the engine logic is the same")

# Primitives made per call, never in a module (so not in the registry below): a compiled call (ng.jit)
# and a checkpointed call.  Neither declares ``reads`` (None: everything is read, the safe default);
# test_dynamic_primitives_declare_nothing_and_refuse_any_write checks that on live instances.
DYNAMIC = (_Compiled, _Checkpoint)


# --- the registry: every primitive the loaded nablagrad modules hold ---------------------------------------
def _import_everything() -> None:
    import nablagrad

    for info in pkgutil.walk_packages(nablagrad.__path__, "nablagrad."):
        if info.name.rsplit(".", 1)[-1] == "__main__":  # the CLI entry point: runs on import
            continue
        importlib.import_module(info.name)


def _defines(modname: str, key: str) -> bool:
    """Whether the module's source assigns ``key`` at its top level (its home, not an import of it)."""
    try:
        source = inspect.getsource(sys.modules[modname])
    except (OSError, TypeError):
        return False
    return re.search(rf"^(\w+, )*{re.escape(key)}(, \w+)* =", source, re.M) is not None


@functools.cache
def registry() -> dict[str, Primitive]:
    """``{label: primitive}`` for every Primitive held by a nablagrad module — a module global, or a value
    of a module-level dict/list/tuple (``COMPARISONS``), or a row of the rule table — each once, labelled
    by the module that defines it."""
    _import_everything()
    found: dict[int, list[tuple[bool, str]]] = {}
    prims: dict[int, Primitive] = {}

    def add(label: str, p, home: bool) -> None:
        if isinstance(p, Primitive):
            prims[id(p)] = p
            found.setdefault(id(p), []).append((not home, label))

    for modname in sorted(m for m in sys.modules if m == "nablagrad" or m.startswith("nablagrad.")):
        for key, value in sorted(vars(sys.modules[modname]).items()):
            if isinstance(value, Primitive):
                add(f"{modname}.{key}", value, _defines(modname, key))
            elif isinstance(value, dict):
                for k, v in value.items():
                    add(f"{modname}.{key}[{k}]", v, isinstance(v, Primitive) and _defines(modname, key))
            elif isinstance(value, list | tuple):
                for i, v in enumerate(value):
                    add(f"{modname}.{key}[{i}]", v, isinstance(v, Primitive) and _defines(modname, key))
    for name, row in TABLE.items():  # (every row's primitive is a module global too; checked below)
        if row.prim is not None:
            add(f"TABLE[{name}]", row.prim, False)
    return dict(sorted((min(found[i])[1], p) for i, p in prims.items()))


def _by_id() -> dict[int, str]:
    return {id(p): label for label, p in registry().items()}


LABELS = sorted(registry())


def _kind(p: Primitive) -> str:
    """``"declared"``: reads given; ``"undeclared"``: None (every rule may read everything — safe by
    construction); ``"no-vjp"``: no argument has a VJP rule (comparisons, argmax, one_hot …)."""
    if p.reads is not None:
        return "declared"
    if type(p).vjp is Primitive.vjp and all(rule is _no_cotangent for rule in p.vjps):
        return "no-vjp"
    return "undeclared"


# --- samples: (args, params) each primitive was really called with -----------------------------------------
def _leaves(arrays):
    return [ng.tensor(a, requires_grad=True) for a in arrays]


def _rng(seed=0):
    return np.random.default_rng(seed)


def _ties(rng, s):  # values with ties and exact zeros (max/min/maximum/relu/abs at their kinks)
    return np.round(rng.standard_normal(s) * 1.5)


_TWO_RESULTS = ng.jit(lambda x: (x * 2.0, x.sin()))


def _extra():
    """Calls for the primitives the op table does not reach, or reaches with one shape only: name ->
    (fn, arrays).  Each is run with float64 leaves that require grad; every node of the result is a sample."""
    r = _rng(11)
    x23, y23, y3 = r.standard_normal((2, 3)), r.standard_normal((2, 3)), r.standard_normal(3)
    pos23 = np.abs(r.standard_normal((2, 3))) + 0.5
    t23 = _ties(r, (2, 3))
    logits, probs = r.standard_normal((4, 3)), r.uniform(0.1, 0.9, (4, 3))
    labels, flags = np.array([0, 2, 1, 2]), (r.random((4, 3)) < 0.5).astype(np.float64)
    cond = np.array([[True, False, True], [False, False, True]])
    return {
        "unary": (lambda a, b: a.exp() + b.log() + b.sqrt() + a.sin() + a.cos() + a.tanh() + a.sigmoid(), [x23, pos23]),
        "gamma": (lambda a: ng.lgamma(a) + ng.digamma(a) + ng.polygamma(2, a), [pos23]),
        "cdist": (lambda a, b: ng.cdist(a, b, p=3) + ng.cdist(a, b, compute_mode="use_mm_for_euclid_dist"), [x23, y23]),
        "batched_indices": (lambda a, b: ng.vmap(lambda x, v, i: ng.index_update(x, i, v[:2])[i]
                                                 + ng.scatter_add(x, 0, i, v[:2])[i])(a, b, np.array([[1, 0], [2, 2]])),
                            [x23, y23]),
        "kinks": (lambda a: a.relu() + abs(a) + (-a) + a.clone() + ng.autodiff.ops.identity(a), [t23]),
        "elu": (lambda a: ng.nn.functional.elu(a, alpha=0.7), [t23]),
        "jit_results": (lambda a: sum(r.sum() for r in _TWO_RESULTS(a)), [x23]),  # (several results: jit._PART)
        "astype": (lambda a: ng.astype(a, np.float32).sum() + ng.astype(a[0], np.float64).sum(), [x23]),
        "to_device": (lambda a: _apply(R.TO_DEVICE, (a,), {"device": ng.device("cpu")}) * 2.0, [x23]),
        "arithmetic": (lambda a, b, c: a + b - c * a / b + a * 2.0 - 3.0 / b, [x23, pos23, y3]),
        "pow_tensor": (lambda a, b: a**b, [pos23, y23]),
        "pow_scalars": (lambda a: a**2 + a**0.5 + a**0 + 2.0**a, [pos23]),
        "pairwise": (lambda a, b: ng.maximum(a, b) + ng.minimum(a, b), [t23, _ties(r, (3,))]),
        "matmuls": (
            lambda a, b, v, w: (a @ b).sum() + (v @ b).sum() + (a @ w).sum() + (w @ w),
            [r.standard_normal((2, 3)), r.standard_normal((3, 4)), r.standard_normal(3), r.standard_normal(3)],
        ),
        "reductions": (
            lambda a: a.sum(axis=1) + a.mean(axis=1) + a.sum() + ng.amax(a, axis=1) + ng.amin(a, axis=1) + a.max() + a.min(),
            [t23],
        ),
        "reductions_keepdims": (lambda a: ng.amax(a, axis=0, keepdims=True) * a.mean(axis=0, keepdims=True), [x23]),
        "softmaxes": (lambda a: a.softmax(axis=1) + a.log_softmax(axis=0) + ng.logsumexp(a, axis=1, keepdims=True), [x23]),
        "logsumexp_all": (lambda a: ng.logsumexp(a) + a.std(), [x23]),
        "shapes": (
            lambda a: a.reshape(3, 2).T.sum(axis=0) + ng.broadcast_to(a[0], (2, 3)).sum(axis=0),
            [x23],
        ),
        "sum_to": (lambda a: ng.autodiff.ops.sum_to(a, (1, 3)), [x23]),
        "indexing": (lambda a: a[1] + a[:, 0].sum() + a[[0, 1, 1], [2, 0, 0]].sum() + a[cond].sum(), [x23]),
        "index_update": (lambda a, b: ng.index_update(a, (slice(None), 1), b[:, 0]) * 2.0, [x23, y23]),
        "scatter": (lambda a, b: ng.scatter_add(a, 1, np.array([[0, 0], [2, 0]]), b), [x23, r.standard_normal((2, 2))]),
        "joins": (lambda a, b: ng.concatenate([a, b], axis=1).sum(axis=1) + ng.stack([a, b]).sum(axis=(0, 2)), [x23, y23]),
        "where": (lambda a, b: ng.where(cond, a, b) + ng.where(cond, 1.5, a) + ng.where(cond, b, 0.0), [x23, y3]),
        "clips": (lambda a: ng.clip(a, -0.5, 0.5) + ng.clip(a, min=0.0) + ng.clip(a, max=0.0), [t23 / 2]),
        "scans": (lambda a: ng.cumsum(a, axis=1) + ng.cumprod(a, axis=0), [x23]),
        "steps": (lambda a: ng.floor(a) + ng.ceil(a) + ng.round(a, decimals=1) + ng.sign(a) + ng.trunc(a) + a // 2.0, [x23]),
        "remainders": (lambda a, b: ng.remainder(a, b) + ng.fmod(a, b) + ng.hypot(a, b) + ng.arctan2(a, b), [x23, pos23]),
        "nn_losses": (
            lambda z, p: (
                NF.cross_entropy(z, labels)
                + NF.cross_entropy(z, np.array([0, -100, 1, 2]))
                + NF.cross_entropy_probs(p, labels)
                + NF.binary_cross_entropy(p, flags)
                + NF.binary_cross_entropy_with_logits(z, flags)
                + NF.step(z).sum()
            ),
            [logits, probs],
        ),
        "nn_linear": (
            lambda x, w, b: sum(NF.linear(x, w, b, act).sum() for act in ("identity", "relu", "tanh", "sigmoid")),
            [r.standard_normal((4, 3)), r.standard_normal((3, 2)), r.standard_normal(2)],
        ),
        "lstsq": (  # tall and wide A: every term of the rule for A
            lambda a, b: ng.linalg.lstsq(a, b).solution.sum() + ng.linalg.lstsq(a.mT, b[:3]).solution.sum(),
            [r.standard_normal((5, 3)), r.standard_normal((5, 2))],
        ),
        "torch_math": (  # the session-17 rows: erfinv, sinc, copysign, heaviside
            lambda a, b: ng.erfinv(a * 0.3) + ng.sinc(a) + ng.copysign(a, b) + ng.heaviside(a, b),
            [x23, y23],
        ),
        "linalg_more": (
            lambda a, b: ng.linalg.matrix_exp(a * 0.5).sum()
            + ng.linalg.cholesky_solve(b, ng.linalg.cholesky(a @ a.mT + 3 * ng.eye(3, dtype=a.dtype))).sum(),
            [r.standard_normal((3, 3)), r.standard_normal((3, 2))],
        ),
    }


class Sample:
    """One call of a primitive: its raw arguments and parameters (as the node held them)."""

    def __init__(self, prim: Primitive, args: list, params: dict, source: str):
        self.prim, self.params, self.source = prim, dict(params), source
        # (a 0-d result may hold a NumPy scalar: as a 0-d array it is a value like any other)
        self.args = [np.array(a, copy=True) if isinstance(a, np.ndarray | np.generic) else a for a in args]

    def ans(self):
        """The value on copies of the arguments (so an aliasing output is seen against these copies)."""
        args = [a.copy() if isinstance(a, np.ndarray) else a for a in self.args]
        return args, self.prim.fn(*args, **self.params)

    def key(self):
        shapes = tuple((np.shape(a), getattr(a, "dtype", type(a))) for a in self.args)
        return shapes, repr(sorted((k, repr(v)) for k, v in self.params.items()))


def _walk(out, source: str, into: dict) -> None:
    stack = list(out) if isinstance(out, tuple | list) else [out]
    seen = set()
    while stack:
        node = stack.pop()
        if not isinstance(node, Tensor) or id(node) in seen or node._op is None or node._inputs is None:
            continue
        seen.add(id(node))
        args = [a.data if isinstance(a, Tensor) else a for a in node._inputs]
        s = Sample(node._op, args, node._params or {}, source)
        mine = into.setdefault(id(node._op), {})
        if len(mine) < 8 and sum(1 for t in mine.values() if t.source == source) < 2:
            mine.setdefault(s.key(), s)
        stack.extend(node._inputs)


@functools.cache
def samples() -> dict[int, list[Sample]]:
    """``{id(primitive): [Sample, …]}`` (at most eight distinct ones each, two from one call)."""
    into: dict[int, dict] = {}
    for name, (f, arrays) in _extra().items():  # first: each is there for a primitive or a rule the table misses
        _walk(f(*_leaves(arrays)), f"EXTRA:{name}", into)
    for name in sorted(CASES):
        f, _, shapes, gen = CASES[name]
        _walk(f(*_leaves(_inputs(shapes, gen, _seed(name)))), f"test_ops_table:{name}", into)
    return {k: list(v.values()) for k, v in into.items()}


# --- garbage of a value's shape and dtype ----------------------------------------------------------------
VARIANTS = 3


def _garbage(v, variant: int, seed: int = 5):
    """Another value of ``v``'s shape and dtype (``variant`` 0..2), or None when ``v`` is no value
    (None, a string …)."""
    rng = _rng(seed + variant)
    if isinstance(v, np.ndarray):
        kind = v.dtype.kind
        if kind in "fc":
            out = (np.full(v.shape, np.nan), rng.standard_normal(v.shape) * 3 + 0.25, -v - 0.75)[variant]
            return np.asarray(out).astype(v.dtype)
        if kind == "b":
            return (~v, rng.random(v.shape) < 0.5, np.zeros_like(v))[variant]
        if kind in "iu":
            flat = v.reshape(-1)
            if not flat.size:
                return v.copy()
            other = (np.roll(flat, 1), flat[::-1], rng.integers(flat.min(), flat.max() + 1, flat.shape))[variant]
            return np.ascontiguousarray(other).astype(v.dtype).reshape(v.shape)
        return None
    if isinstance(v, bool | np.bool_):
        return not v
    if isinstance(v, int | np.integer):
        return (v + 1, -v - 1, 0 if v else 3)[variant]
    if isinstance(v, float | np.floating):
        return (float("nan"), v + 1.2345, -v - 0.5)[variant]
    return None


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is b
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and bool(np.array_equal(a, b, equal_nan=True))


def _one_hot(n: int, i: int) -> list[bool]:
    return [j == i for j in range(n)]


def _call(prim, i, g, ans, args, params):
    with np.errstate(all="ignore"):
        return prim.vjp(NUMPY_NS, g, ans, list(args), params, _one_hot(len(args), i))[i]


# --- the registry itself -------------------------------------------------------------------------------
def test_the_registry_holds_every_primitive_alive():
    """Nothing escapes the enumeration: every Primitive object alive after importing nablagrad (made by
    nablagrad itself, not per call) is in the registry, and the rule table's primitives are all in it."""
    reg = _by_id()
    alive = [
        o
        for o in gc.get_objects()
        if issubclass(type(o), Primitive)  # (type(): isinstance would touch torch's deprecated module attributes)
        and not issubclass(type(o), DYNAMIC)
        and str(getattr(o.fn, "__module__", "") or "").startswith("nablagrad")
    ]
    missing = sorted({o.name for o in alive if id(o) not in reg})
    assert not missing, f"primitives outside the registry: {missing}"
    assert all(id(r.prim) in reg for r in TABLE.values() if r.prim is not None)
    assert not [label for label in reg.values() if label.startswith("TABLE[")], "a row's primitive without a module"


def test_every_primitive_is_checked():
    """The count: every primitive of the registry is checked below, minus an explicit skip list (empty:
    the per-call primitives of ng.jit and checkpoint are not in the registry and have a test of their own)."""
    skipped: dict[str, str] = {}  # label -> why (none)
    kinds = {label: _kind(p) for label, p in registry().items()}
    have = samples()
    # a declared primitive is checked on samples; so is every undeclared one with a VJP (the converse check)
    unsampled = sorted(label for label, p in registry().items() if kinds[label] != "no-vjp" and id(p) not in have)
    assert not unsampled, f"primitives without a sample call (add a call to _extra): {unsampled}"
    checked = [label for label in LABELS if label not in skipped]
    assert len(checked) == len(registry()) - len(skipped)
    counts = {k: sum(1 for v in kinds.values() if v == k) for k in ("declared", "undeclared", "no-vjp")}
    assert sum(counts.values()) == len(registry()) == len(LABELS)
    assert counts["declared"] >= 55, counts  # the commit declared the elementwise, reduction, shape and linear ones


@pytest.mark.parametrize("label", LABELS)
def test_declaration_is_well_formed(label):
    """One entry per rule (or none at all: ``()``, no rule reads a value), each naming arguments or ANS."""
    p = registry()[label]
    if p.reads is None:
        return
    if type(p).vjp is Primitive.vjp:
        assert len(p.reads) in (0, len(p.vjps)), f"{label}: {len(p.reads)} reads entries for {len(p.vjps)} rules"
    else:  # a primitive of any number of arguments with a VJP of its own (concatenate, stack)
        assert p.reads == (), f"{label}: a variadic primitive declares per-argument reads {p.reads}"
    for entry in p.reads:
        for item in entry:
            assert item == ANS or (isinstance(item, int) and item >= 0), f"{label}: bad reads item {item!r}"
    for s in samples().get(id(p), []):
        for entry in p.reads:
            assert all(item == ANS or item < len(s.args) for item in entry), f"{label}: reads {entry} of {len(s.args)} args"


# --- the rule level ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("label", LABELS)
def test_vjp_ignores_every_value_declared_unread(label):
    """Each rule gives the same cotangent, bit for bit, with any value it declares unread replaced by
    garbage — for ``ans`` too — and no output aliases an unread input while the output is read."""
    p = registry()[label]
    if _kind(p) != "declared":
        return  # None: every value counts as read, nothing to garble; no-vjp: no rule
    have = samples()[id(p)]
    evaluated: set[int] = set()
    for s in have:
        args, ans = s.ans()
        g = _garbage(np.asarray(ans), 1, seed=101).astype(np.asarray(ans).dtype)
        g = np.nan_to_num(g)  # a finite cotangent
        for i in _float_positions(s):  # the arguments that can want a gradient (a tensor, not a constant)
            needs = _one_hot(len(args), i)
            want = _call(p, i, g, ans, args, s.params)
            if want is None:
                continue
            evaluated.add(i)
            assert np.all(np.isfinite(want)), f"{label}: the sample {s.source} gives a non-finite cotangent"
            saved = p.saved(needs)
            unread = [k for k in range(len(args)) if k not in saved and _garbage(args[k], 0) is not None]
            for k in unread:
                for variant in range(VARIANTS):
                    other = list(args)
                    other[k] = _garbage(args[k], variant)
                    try:
                        got = _call(p, i, g, ans, other, s.params)
                    except Exception as exc:  # noqa: BLE001 - reading the garbage made it fail: it reads it
                        got = exc
                    assert not isinstance(got, Exception) and _same(want, got), (
                        f"{label} ({s.source}): the VJP of argument {i} declares it does not read argument {k} "
                        f"(reads {sorted(map(str, saved))}), but garbage there (variant {variant}) changes it: {got!r}"
                    )
            if ANS not in saved and isinstance(ans, np.ndarray):
                for variant in range(VARIANTS):
                    try:
                        got = _call(p, i, g, _garbage(ans, variant), args, s.params)
                    except Exception as exc:  # noqa: BLE001
                        got = exc
                    assert not isinstance(got, Exception) and _same(want, got), (
                        f"{label} ({s.source}): the VJP of argument {i} declares it does not read the output, but "
                        f"garbage there (variant {variant}) changes it: {got!r}"
                    )
            for k, a in enumerate(args):  # an output that is a view of input k: a write to one writes the other
                if isinstance(a, np.ndarray) and isinstance(ans, np.ndarray) and np.shares_memory(ans, a):
                    assert (ANS in saved) == (k in saved), (
                        f"{label}: the output shares memory with argument {k}, but only one of them is declared read"
                    )
    assert evaluated, f"{label}: no sample gave a cotangent"
    if type(p).vjp is Primitive.vjp:  # every rule of the primitive was checked on some sample
        rules = {i for i, rule in enumerate(p.vjps) if rule is not _no_cotangent}
        assert rules <= evaluated, f"{label}: no sample has a tensor at arguments {sorted(rules - evaluated)}"


# --- end to end, through the engine ---------------------------------------------------------------------------
_REFUSED = "modified by an inplace operation"


def _float_positions(s: Sample) -> list[int]:
    return [k for k, a in enumerate(s.args) if isinstance(a, np.ndarray) and a.dtype.kind == "f"]


def _patterns(s: Sample) -> list[tuple[int, ...]]:
    """Which float arguments require grad: all of them, and each alone."""
    fl = _float_positions(s)
    out = [tuple(fl)] if fl else []
    if len(fl) > 1:
        out += [(k,) for k in fl]
    return out


def _cot(s: Sample):
    ans = np.asarray(s.ans()[1])
    return np.nan_to_num(_garbage(ans, 1, seed=202)).astype(ans.dtype)


def _run_ng(s: Sample, grad: tuple[int, ...], write=None, nonleaf: bool = False, create_graph: bool = False):
    """``y = prim(args)`` from fresh leaves (the float ones in ``grad`` requiring it), ``write(inputs, y)``,
    ``y.backward(cot)``: the leaves' gradients, or the exception.  ``write`` returning "skip": the write
    itself is impossible (a read-only broadcast view, or a view of a leaf that requires grad)."""
    leaves = [ng.tensor(a.copy(), requires_grad=k in grad) if isinstance(a, np.ndarray) else a for k, a in enumerate(s.args)]
    ins = [t * 1.0 if nonleaf and isinstance(t, Tensor) and t.requires_grad else t for t in leaves]
    y = _apply(s.prim, tuple(ins), s.params)
    if write is not None:
        try:
            out = write(ins, y)
        except (ValueError, RuntimeError, TypeError) as exc:
            # a read-only broadcast view, a 0-d result held as a NumPy scalar (no item assignment), or a recorded
            # write through a view of a leaf that requires grad or through a broadcast view (PyTorch refuses both)
            impossible = ("read-only", "not writeable", "item assignment", "a view of a leaf", "several entries are one")
            if any(m in str(exc) for m in impossible):
                return "skip"
            raise
        y = y if out is None else out
    try:
        with np.errstate(all="ignore"):
            y.backward(ng.tensor(_cot(s)), create_graph=create_graph)
    except RuntimeError as exc:
        if _REFUSED not in str(exc):
            raise
        return exc
    return [leaves[k].grad.numpy().copy() for k in grad]


def _write_arg(k: int, garbage):
    def write(ins, y):
        with ng.no_grad():
            ins[k].copy_(garbage)

    return write


def _recorded_arg(k: int, delta):
    def write(ins, y):
        ins[k].add_(delta)  # recorded: the non-leaf input becomes a new node; the op saw the old one

    return write


def _write_ans(garbage):
    def write(ins, y):
        with ng.no_grad():
            y.copy_(garbage)

    return write


def _recorded_ans(ins, y):
    return y.mul_(1.5)  # recorded: y becomes mul(old y, 1.5); the op's own values stay in the old handle


def _scaled_ans(ins, y):
    return y * 1.5


def _assert_outcome(label, what, s, saved_has, got, want):
    if isinstance(got, str):  # "skip": the write itself was impossible
        return
    if saved_has:
        assert isinstance(got, RuntimeError), (
            f"{label} ({s.source}): {what} is declared read, yet backward after writing it did not refuse"
        )
    else:
        assert not isinstance(got, Exception), f"{label} ({s.source}): {what} is declared unread, yet refused: {got}"
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a, b, err_msg=f"{label} ({s.source}): wrong gradient after writing {what}")


@pytest.mark.parametrize("label", LABELS)
def test_in_place_writes_refused_exactly_where_read_else_fresh_gradients(label):
    """For each sample, each set of inputs requiring grad and each written value (an input under no_grad,
    a non-leaf input by a recorded in-place op, the output under no_grad, the output by a recorded op):
    refused iff the written value is in ``prim.saved(needs)``; else the gradient of a fresh computation."""
    p = registry()[label]
    if _kind(p) == "no-vjp":
        return
    for s in samples()[id(p)]:
        for grad in _patterns(s):
            needs = [k in grad for k in range(len(s.args))]
            saved = p.saved(needs)
            reads = (lambda v: True) if saved is None else saved.__contains__  # noqa: E731
            fresh = _run_ng(s, grad)
            assert not isinstance(fresh, Exception), fresh
            for k, a in enumerate(s.args):
                if not isinstance(a, np.ndarray) or _garbage(a, 1) is None:
                    continue
                got = _run_ng(s, grad, _write_arg(k, _garbage(a, 1)))
                _assert_outcome(label, f"argument {k}", s, reads(k), got, fresh)
                out = s.prim.fn(*s.args, **s.params)
                if k in grad and not (isinstance(out, np.ndarray) and np.shares_memory(out, a)):
                    # (an output that views argument k follows its recorded write, as PyTorch's views do, so
                    # backward no longer sees what the op read: tests/autodiff/test_views_share_versions.py)
                    fresh_nl = _run_ng(s, grad, nonleaf=True)
                    got = _run_ng(s, grad, _recorded_arg(k, _garbage(a, 1)), nonleaf=True)
                    _assert_outcome(label, f"argument {k} (a non-leaf, by a recorded op)", s, reads(k), got, fresh_nl)
            ans = np.asarray(s.ans()[1])
            lost = saved is None or ANS in saved  # values overwritten in the node's own array
            got = _run_ng(s, grad, _write_ans(_garbage(ans, 1)))
            _assert_outcome(label, "the output", s, lost, got, fresh)
            # replaced by a recorded in-place op, the old values kept by a handle: refused only if declared read
            got = _run_ng(s, grad, _recorded_ans)
            _assert_outcome(label, "the output (by a recorded op)", s, saved is not None and ANS in saved, got,
                            _run_ng(s, grad, _scaled_ans))  # fmt: skip


@pytest.mark.parametrize("label", LABELS)
def test_create_graph_after_writing_unread_values(label):
    """``create_graph=True`` walks the same rules on Tensors: after writing an unread input or the output,
    the gradients equal a fresh computation's."""
    p = registry()[label]
    if _kind(p) != "declared":
        return
    for s in samples()[id(p)][:2]:
        for grad in _patterns(s)[:1]:
            saved = p.saved([k in grad for k in range(len(s.args))])
            fresh = _run_ng(s, grad, create_graph=True)
            for k, a in enumerate(s.args):
                if isinstance(a, np.ndarray) and k not in saved and _garbage(a, 1) is not None:
                    got = _run_ng(s, grad, _write_arg(k, _garbage(a, 1)), create_graph=True)
                    _assert_outcome(label, f"argument {k} (create_graph)", s, False, got, fresh)
            if ANS not in saved:
                got = _run_ng(s, grad, _write_ans(_garbage(np.asarray(s.ans()[1]), 1)), create_graph=True)
                _assert_outcome(label, "the output (create_graph)", s, False, got, fresh)


# --- against PyTorch -------------------------------------------------------------------------------------------
def _dims(p, ndim):
    axis = p.get("axis")
    if axis is None:
        return tuple(range(ndim))
    return axis if isinstance(axis, tuple) else (axis,)


def _tindex(index):
    if isinstance(index, tuple):
        return tuple(_tindex(i) for i in index)
    return torch.as_tensor(index) if isinstance(index, np.ndarray) else index


_TORCH_NAMES = {"arcsin": "asin", "arccos": "acos", "arctan": "atan", "arcsinh": "asinh", "arccosh": "acosh",
                "arctanh": "atanh", "power": "pow", "pow": "pow"}  # fmt: skip
_UNARY = {"exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "abs", "neg", "tan", "sinh", "cosh", "arcsin",
          "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "log1p", "expm1", "log2", "log10", "exp2", "square",
          "reciprocal", "erf", "erfc", "floor", "ceil", "sign", "trunc", "clone"}  # fmt: skip
_BINARY = {"add", "sub", "mul", "div", "pow", "maximum", "minimum", "matmul"}


def _torch_op(name: str):
    """PyTorch's op for a primitive: f(args, params) -> tensor, or None where there is no plain one."""
    if name in _UNARY:
        f = getattr(torch, _TORCH_NAMES.get(name, name))
        return lambda a, p: f(a[0])
    if name in _BINARY:
        f = getattr(torch, _TORCH_NAMES.get(name, name))

        def binary(a, p):
            x, y = (v if isinstance(v, torch.Tensor) else torch.tensor(v, dtype=torch.float64) for v in a)
            return f(x, y)

        return binary
    table = {
        "softplus": lambda a, p: torch.nn.functional.softplus(a[0]),
        "round": lambda a, p: torch.round(a[0], decimals=p.get("decimals", 0)),
        "where": lambda a, p: torch.where(a[0], *a[1:]),
        "sum": lambda a, p: torch.sum(a[0], dim=_dims(p, a[0].ndim), keepdim=p.get("keepdims", False)),
        "mean": lambda a, p: torch.mean(a[0], dim=_dims(p, a[0].ndim), keepdim=p.get("keepdims", False)),
        "max": lambda a, p: torch.amax(a[0], dim=_dims(p, a[0].ndim), keepdim=p.get("keepdims", False)),
        "min": lambda a, p: torch.amin(a[0], dim=_dims(p, a[0].ndim), keepdim=p.get("keepdims", False)),
        "std": lambda a, p: torch.std(
            a[0], dim=_dims(p, a[0].ndim), correction=p.get("correction", 1), keepdim=p.get("keepdims", False)
        ),  # fmt: skip
        "logsumexp": lambda a, p: torch.logsumexp(a[0], dim=_dims(p, a[0].ndim), keepdim=p.get("keepdims", False)),
        "softmax": lambda a, p: torch.softmax(a[0], dim=p.get("axis", -1)),
        "log_softmax": lambda a, p: torch.log_softmax(a[0], dim=p.get("axis", -1)),
        "clip": lambda a, p: torch.clamp(a[0], min=p.get("lo"), max=p.get("hi")),
        "reshape": lambda a, p: torch.reshape(a[0], p["shape"]),
        "transpose": lambda a, p: a[0].permute(*(p.get("axes") or range(a[0].ndim - 1, -1, -1))),
        "broadcast_to": lambda a, p: torch.broadcast_to(a[0], p["shape"]),
        "getitem": lambda a, p: a[0][_tindex(p["index"])],
        "concatenate": lambda a, p: torch.cat(a, dim=p.get("axis", 0)),
        "stack": lambda a, p: torch.stack(a, dim=p.get("axis", 0)),
        "cumsum": lambda a, p: torch.cumsum(a[0], dim=p["axis"]),
        "prod": lambda a, p: torch.prod(a[0]) if p.get("axis") is None and not p.get("keepdims") else None,
        "cumprod": lambda a, p: torch.cumprod(a[0], dim=p["axis"]),
    }
    return table.get(name)


def _run_torch(f, s: Sample, grad, write=None):
    leaves = [torch.tensor(a.copy(), requires_grad=k in grad) if isinstance(a, np.ndarray) else a for k, a in enumerate(s.args)]
    try:
        y = f(leaves, s.params)
        if y is None:
            return None
        if write is not None:
            with torch.no_grad():
                target = y if write[0] == "ans" else leaves[write[0]]
                target.copy_(torch.as_tensor(write[1]))
        y.backward(torch.as_tensor(_cot(s)))
    except RuntimeError as exc:
        return exc
    return [leaves[k].grad.numpy().copy() for k in grad]


@pytest.mark.parametrize("label", LABELS)
def test_where_nablagrad_gives_a_gradient_torch_refuses_or_agrees(label):
    """The same writes in PyTorch: whenever nablagrad back-propagates after a write, PyTorch either refuses
    (it saved the value) or gives the same gradient; the fresh gradients agree to begin with."""
    p = registry()[label]
    f = _torch_op(p.name) if _kind(p) == "declared" and p is not R.LOGSUMEXP_B else None
    if f is None:
        return  # (log Σ b eˣ: torch.logsumexp has no weights)
    compared = 0
    for s in samples()[id(p)]:
        for grad in _patterns(s):
            want = _run_torch(f, s, grad)
            if want is None:
                continue
            compared += 1
            fresh = _run_ng(s, grad)
            assert not isinstance(want, Exception), f"{label} ({s.source}): torch fails fresh: {want}"
            for a, b in zip(fresh, want):
                np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=f"{label} ({s.source}) fresh")
            writes = [(k, _garbage(a, 1)) for k, a in enumerate(s.args) if isinstance(a, np.ndarray)]
            writes.append(("ans", _garbage(np.asarray(s.ans()[1]), 1)))
            for where, garbage in writes:
                write = _write_ans(garbage) if where == "ans" else _write_arg(where, garbage)
                ours = _run_ng(s, grad, write)
                if ours == "skip" or isinstance(ours, Exception):
                    continue
                theirs = _run_torch(f, s, grad, (where, garbage))
                if isinstance(theirs, Exception):
                    continue  # PyTorch saved it (or cannot write it); nablagrad's own gradient is checked above
                for a, b in zip(ours, theirs):
                    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=f"{label} ({s.source}) wrote {where}")
    assert compared, f"{label}: no sample PyTorch's op takes"


# --- the primitives made per call -----------------------------------------------------------------------------
def test_dynamic_primitives_declare_nothing_and_refuse_any_write():
    """A compiled call (ng.jit) and a checkpointed call are primitives made per call: neither declares what
    it reads, so a write to any of its inputs after the call is refused."""
    w = ng.tensor(_rng(3).standard_normal(3), requires_grad=True)
    x = np.abs(_rng(4).standard_normal(3)) + 0.5
    compiled = ng.jit(lambda a: (ng.log(a) * w).sum())
    checkpointed = ng.checkpoint(lambda a: (ng.log(a) * w).sum())
    for f in (compiled, checkpointed):
        for _ in range(2):  # (ng.jit: the trace, then a replay)
            a = ng.tensor(x, requires_grad=True)
            y = f(a)
            assert isinstance(y._op, DYNAMIC) and y._op.reads is None
            with ng.no_grad():
                a.copy_(x + 1.0)
            with pytest.raises(RuntimeError, match=_REFUSED):
                y.backward()


# --- outside the declarations: tensors whose arrays an op keeps (guard), and writes through views ---------------
_A = np.array([0.5, 1.25, 2.0])


def _where_condition_tensor(L):
    """where(cond, …) with a boolean *tensor* condition keeps the tensor's array, not the tensor (ops.where):
    written in place, the condition changes under the VJP — WHERE declares it read; the node guards the tensor."""
    a, c = L.tensor(_A, requires_grad=True), L.tensor([True, False, True])
    return a, L.where(c, a, 0.0 * a), c, L.tensor([False, True, False]), np.array([1.0, 0.0, 1.0])


def _masked_fill_mask_tensor(L):
    """masked_fill(mask, …) is where(mask, …): the same case."""
    a, m = L.tensor(_A, requires_grad=True), L.tensor([True, False, False])
    return a, a.masked_fill(m, 0.0), m, L.tensor([False, True, True]), np.array([0.0, 1.0, 1.0])


def _getitem_index_tensor(L):
    """x[idx] with an index tensor keeps idx's array in the op's parameters (ops._plain_index), which
    GETITEM's VJP scatters with."""
    a, i = L.tensor(_A, requires_grad=True), L.tensor([0, 0, 1])
    return a, a[i], i, L.tensor([2, 2, 2]), np.array([2.0, 1.0, 0.0])


def _cross_entropy_label_tensor(L):
    """cross_entropy(logits, labels) with a label *tensor*: the fused primitive keeps the tensor's array in
    its parameters (nn.functional, SOFTMAX_CROSS_ENTROPY's ``labels=``), which its VJP reads."""
    z0 = _rng(9).standard_normal((3, 4))
    ce = NF.cross_entropy if L is ng else torch.nn.functional.cross_entropy
    z, y = L.tensor(z0, requires_grad=True), L.tensor([0, 1, 2])
    e = np.exp(z0 - z0.max(axis=1, keepdims=True))
    want = (e / e.sum(axis=1, keepdims=True) - np.eye(4)[[0, 1, 2]]) / 3
    return z, ce(z, y), y, L.tensor([3, 3, 3]), want


def _index_op(op: str):
    """An op with an index *tensor* whose backward scatters or gathers at the index (gather, index_select,
    take, scatter_add, nll_loss): written in place, the index would send the gradient elsewhere."""

    def make(L):
        x0 = np.array([[0.5, 1.25, 2.0], [3.0, 4.5, 5.0]])
        a = L.tensor(x0, requires_grad=True)
        if op == "gather":
            i = L.tensor([[0], [2]])
            return a, L.gather(a, 1, i) * a[:, :1], i, L.tensor([[1], [1]]), np.array([[2 * 0.5, 0, 0], [5.0, 0, 3.0]])
        if op == "index_select":
            i = L.tensor([0])
            return a, L.index_select(a, 1, i) ** 2, i, L.tensor([1]), np.array([[1.0, 0, 0], [6.0, 0, 0]])
        if op == "take":
            i = L.tensor([0, 4])
            return a, L.take(a, i) ** 2, i, L.tensor([1, 1]), np.array([[1.0, 0, 0], [0, 9.0, 0]])
        if op == "scatter_add":
            i, src = L.tensor([[0], [2]]), L.tensor(np.array([[1.0], [2.0]]), requires_grad=True)
            y = L.scatter_add(a.detach() * 0.0, 1, i, src) * a
            return src, y, i, L.tensor([[1], [1]]), np.array([[0.5], [5.0]])
        i = L.tensor([0, 2])
        nll = NF.nll_loss if L is ng else torch.nn.functional.nll_loss
        return a, nll(a, i, reduction="sum") * 1.0, i, L.tensor([1, 1]), np.array([[-1.0, 0, 0], [0, 0, -1.0]])

    return make


def _through_view(view):
    """A view (reshape, a basic slice, detach) shares x's array but not its version counter: a write
    through it changes the x that log's VJP reads, unseen (PyTorch shares the counter and refuses)."""

    def make(L):
        a = L.tensor(_A, requires_grad=True)
        x = a * 1.0
        v = view(x)
        return a, x.log(), v, L.tensor(np.asarray(v.detach().numpy()) * 2.0), 1.0 / _A

    return make


_KEPT = {
    "where_condition_tensor": _where_condition_tensor,
    "masked_fill_mask_tensor": _masked_fill_mask_tensor,
    "getitem_index_tensor": _getitem_index_tensor,
    "cross_entropy_label_tensor": _cross_entropy_label_tensor,
    "write_through_reshape_view": _through_view(lambda x: x.reshape(-1)),
    "write_through_slice_view": _through_view(lambda x: x[0:2]),
    "write_through_detach": _through_view(lambda x: x.detach()),
    "write_through_transpose": _through_view(lambda x: x.T),
    **{f"{op}_index_tensor": _index_op(op) for op in ("gather", "index_select", "take", "scatter_add", "nll_loss")},
}


def _refuses_or_correct(L, make) -> bool:
    """``make(L)`` -> (leaf, y, a tensor y's VJP reads, new values for it, the right gradient); write the
    values under no_grad; ``y.sum().backward()`` must refuse (True) or give the right gradient (False)."""
    a, y, t, values, want = make(L)
    with L.no_grad():
        t.copy_(values)
    try:
        y.sum().backward()
    except RuntimeError as exc:
        assert "modified by an inplace operation" in str(exc)
        return True
    np.testing.assert_allclose(a.grad.numpy(), want)
    return False


@pytest.mark.parametrize("name", sorted(_KEPT))
def test_these_writes_are_refused_as_torch_refuses_them(name):
    assert _refuses_or_correct(torch, _KEPT[name]), f"{name}: PyTorch let the write through"
    assert _refuses_or_correct(ng, _KEPT[name]), f"{name}: a silent wrong gradient, where PyTorch refuses"
