"""Function transforms in JAX's style: ``grad``, ``value_and_grad``, ``vjp``, ``jvp``, ``jacfwd``,
``jacrev``, ``hessian`` — composable in any order and to any depth.

* ``jvp`` is genuine forward mode: tangents pushed through each primitive's JVP rule, at a
  level of its own (:mod:`.forward`);
* ``vjp``/``grad``/``jacrev`` are reverse mode: the tape walk, from fresh handles on the inputs
  (HIPS autograd's new boxes), so an inner transform reads only its own inputs' adjoints;
* a transform running inside another records its own derivative computation
  (``create_graph``): the outer one then differentiates through it, whatever its kind.

Inputs and outputs are pytrees (tuples, lists, dicts) of Tensors, NumPy arrays or numbers;
results are Tensors.  At the outermost level (``vmap`` included) each result is a plain value cut from every
graph, unless it depends on a tensor the user made that requires grad (an argument, a parameter read inside f):
then it keeps its graph to it, as torch.func's results keep their autograd history (see :func:`_plain`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import wraps

import numpy as np

from ..backend import default_rng
from ..backend.checks import is_int
from ..backend.device import to_device
from . import grad_mode as _m
from .backward import Plan, grad_of
from .forward import batch_into, broadcast_into, dual, is_traced, take_tangent, zeros_like
from .ops import concatenate, identity, moveaxis_, stack
from .pytree import TreeDef, tree_flatten, tree_unflatten
from .random import draws_recorded, set_states
from .tensor import Tensor, _wrap, mark_batched, tensor, unmark_batched

Argnums = int | Sequence[int]


def _as_tensor(x) -> Tensor:
    return x if isinstance(x, Tensor) else tensor(x)


def _lift(x, who: str) -> Tensor:
    """A fresh handle on ``x`` to differentiate with respect to (autograd's new box): an
    identity node when an outer transform traces ``x`` (its derivative still flows), else a
    new leaf sharing the data."""
    x = _as_tensor(x)
    if x.dtype.kind != "f":
        raise TypeError(
            f"{who}: can only differentiate with respect to floating-point inputs, got dtype {x.dtype}; "
            "pass floats (e.g. 2.0, not 2) or convert with .astype('float64')"
        )
    x = batch_into(x, _m.state.vmaps)  # per-example derivatives under vmap: one copy of x per example
    t = identity(x) if is_traced(x) else _wrap(x.data)
    if not t.requires_grad:
        t._requires_grad = True
    t._lifted = True  # (a transform's own: see _Reach)
    return t


def _argnums(argnums: Argnums, nargs: int, who: str) -> tuple[tuple[int, ...], bool]:
    """The positions ``argnums`` names among ``nargs`` arguments (each in 0..nargs−1, once), and whether it is a
    single int (one gradient, not a tuple of them)."""
    single = isinstance(argnums, int | np.integer)
    entries = (argnums,) if single else tuple(argnums) if isinstance(argnums, Sequence) else None
    if entries is None or not all(isinstance(i, int | np.integer) for i in entries):
        raise TypeError(f"{who}: argnums must be an int or a tuple of ints, got {argnums!r}; e.g. argnums=0 or (0, 1)")
    nums = tuple(int(i) for i in entries)
    if not nums:
        raise ValueError(f"{who}: argnums is empty; give the position of at least one argument")
    for i in nums:
        if not -nargs <= i < nargs:
            raise TypeError(f"{who}: argnums={argnums} but f was called with {nargs} positional arguments")
    nums = tuple(i % nargs for i in nums)
    if len(set(nums)) < len(nums):  # (one lifted handle per argument: a second entry would get zeros, as torch refuses)
        raise ValueError(f"{who}: argnums={argnums} names an argument twice; give each position once")
    return nums, single


class _Lifted:
    """The arguments of one transform call, with the ``argnums`` ones flattened and lifted."""

    def __init__(self, args: tuple, nums: tuple[int, ...], who: str, lift=None):
        self.args = list(args)
        self.nums = nums
        self.trees: list[TreeDef] = []
        self.leaves: list[Tensor] = []
        self.traced = False
        for i in nums:
            flat, tree = tree_flatten(args[i])
            self.traced = self.traced or any(is_traced(x) for x in flat)
            new = [(lift or _lift)(x, who) for x in flat]
            self.trees.append(tree)
            self.leaves.extend(new)
            self.args[i] = tree_unflatten(tree, new)

    def per_arg(self, flat: list) -> list:
        """Split a list aligned with ``leaves`` back into one pytree per differentiated argument."""
        out, start = [], 0
        for tree in self.trees:
            n = tree.num_leaves
            out.append(tree_unflatten(tree, flat[start : start + n]))
            start += n
        return out


def _others_traced(args: tuple, nums: tuple[int, ...], kwargs: dict) -> bool:
    """Whether an argument not differentiated (outside ``argnums``, or a keyword) is traced by an outer computation
    — a tensor that requires grad, or an outer transform's value: the result then keeps its graph, so that outer
    computation differentiates through it (as torch.func and JAX do)."""
    others = [a for i, a in enumerate(args) if i not in nums] + list(kwargs.values())
    return any(is_traced(x) for x in tree_flatten(others)[0])


def _captures_traced(outs, reach: _Reach, plans: Sequence[Plan | None] = ()) -> bool:
    """Whether an output's graph reaches a leaf that requires a gradient and that no transform made (its
    inputs, lifted, are marked ``_lifted``) — a tensor the function closed over (a model's parameter in
    ``grad(D)(x)`` of a gradient penalty).  The results then keep their graph, so an outer ``backward``
    differentiates through them (as torch.func's results keep their autograd history).  ``plans``: the tape
    walks sorted from outputs, whose sorts answer for them where they can (:meth:`_Reach.learn`)."""
    for p in plans:
        if p is not None:
            reach.learn(p)
    return any(reach(tree_flatten(outs)[0]))


def _sorted(out: Tensor, lifted: _Lifted) -> Plan | None:
    """The tape walk from ``out`` back to the lifted inputs, sorted once for the walks of this call (None
    where there is none, or under vmap, whose walk starts from a batched copy of ``out``)."""
    if _m.state.vmaps or not out.requires_grad:
        return None
    return Plan(out, lifted.leaves)


class _Reach:
    """Which of a transform call's results have a graph reaching a user's leaf (requires a gradient, not
    ``_lifted``), remembering each node's answer for the rest of the call: the question is asked of the
    output (is ``f`` closing over a parameter?), of the value returned and of the gradients, whose graphs
    share the forward one, and each node is walked once for all of them.  One call only: what a node reaches
    may change between calls (``requires_grad_``, a freed graph).

    A tensor written in place is followed to what it was too (``_prev``), as the tape walk does: a generous
    answer keeps a graph, never drops a gradient.  Every walk is iterative and safe on a graph with a cycle,
    which writes into views make."""

    # the walk a single result gets before its answer is left to the walk of all of them together
    BUDGET = 64

    def __init__(self) -> None:
        self.live: dict[int, Tensor] = {}  # id -> node reaching a user's leaf (held: its id stays its own)
        self.dead: dict[int, Tensor] = {}  # id -> node whose whole graph reaches none

    def learn(self, plan: Plan) -> None:
        """The answer for ``plan``'s root from the tape walk's sort, which met every leaf the root's graph
        reaches — unless the sort stopped at an input that is a node (a lifted input an outer transform
        traces) or an in-place write made a node that the sort follows to what it was only where an op read
        it (``_prev``, followed here wherever it is): the walk down the graph decides those."""
        root = plan.root
        if root._op is None or _m.overwritten or any(t._op is not None for t in plan.inputs):
            return
        hit = any(self._user_leaf(t) for t in plan.leaves)
        (self.live if hit else self.dead)[id(root)] = root

    def __call__(self, outs: list) -> list[bool]:
        roots = [o if isinstance(o, Tensor) and o.requires_grad else None for o in outs]
        distinct = list({id(r): r for r in roots if r is not None}.values())
        for r in distinct:  # a result usually meets a user's leaf within a few nodes: each looks first on its own
            self._one(r, None if len(distinct) == 1 else self.BUDGET)
        left = [r for r in distinct if id(r) not in self.live and id(r) not in self.dead]
        if left:
            self._together(left)
        return [r is not None and id(r) in self.live for r in roots]

    @staticmethod
    def _edges(t: Tensor) -> tuple:
        """The nodes ``t`` was computed from, with what ``t`` was before an in-place op (an op made before
        it read that)."""
        prev = getattr(t, "_prev", None)
        return (*(t._inputs or ()), prev[1]() if prev is not None else None)

    def _user_leaf(self, t: Tensor) -> bool:
        return t._op is None and not getattr(t, "_lifted", False)

    def _one(self, root: Tensor, budget: int | None) -> None:
        """Decide ``root`` by a walk down its graph that stops at the first user's leaf or node known to
        reach one (then the path to it reaches one), or proves that none is reached (then every node seen
        reaches none); with a ``budget`` of nodes spent first, leave it undecided."""
        live, dead = self.live, self.dead
        if id(root) in live or id(root) in dead:
            return
        if root._op is None:
            (live if self._user_leaf(root) else dead)[id(root)] = root
            return
        parent: dict[int, Tensor | None] = {id(root): None}
        nodes, stack = [root], [root]
        while stack:
            t = stack.pop()
            for a in self._edges(t):
                if not (isinstance(a, Tensor) and a.requires_grad) or id(a) in parent or id(a) in dead:
                    continue
                if id(a) in live or (a._op is None and self._user_leaf(a)):
                    while t is not None:  # the path from the root to t reaches a user's leaf through a
                        live[id(t)] = t
                        t = parent[id(t)]
                    return
                parent[id(a)] = t
                nodes.append(a)
                if a._op is not None:
                    stack.append(a)
            if budget is not None and len(nodes) > budget:
                return
        dead.update((id(t), t) for t in nodes)

    def _together(self, roots: list[Tensor]) -> None:
        """Decide many results at once, in time linear in their graph: down from them to collect the graph
        and its user's leaves (and nodes known to reach one), then up from those along the collected edges."""
        live, dead = self.live, self.dead
        consumers: dict[int, list[Tensor]] = {}  # id(input) -> the nodes that read it
        seen: dict[int, Tensor] = {}
        stack, sources = list(roots), []
        while stack:
            t = stack.pop()
            if id(t) in seen or id(t) in dead:
                continue
            seen[id(t)] = t
            if id(t) in live or (t._op is None and self._user_leaf(t)):
                sources.append(t)
                continue
            if t._op is None:
                continue
            for a in self._edges(t):
                if isinstance(a, Tensor) and a.requires_grad:
                    consumers.setdefault(id(a), []).append(t)
                    stack.append(a)
        reaching: set[int] = set()
        while sources:
            t = sources.pop()
            if id(t) not in reaching:
                reaching.add(id(t))
                sources.extend(consumers.get(id(t), ()))
        for k, t in seen.items():
            (live if k in reaching else dead)[k] = t


def _split_aux(out, has_aux: bool, who: str):
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple | list) and len(out) == 2):
        raise TypeError(f"{who}: with has_aux=True, f must return a pair (output, aux), got {type(out).__name__}")
    return out[0], out[1]


def _scalar_output(out, who: str) -> Tensor:
    if isinstance(out, tuple | list | dict):
        raise TypeError(f"{who}: f must return a scalar, got a {type(out).__name__}; use jacrev or vjp, or has_aux=True")
    out = _as_tensor(out)
    if out.dtype.kind != "f":  # (complex: PyTorch's "real scalar outputs"; nablagrad's rules are real ones)
        raise TypeError(
            f"{who}: f must return a real floating-point scalar, got dtype {out.dtype}; booleans and integers "
            "have no gradient (return a float, e.g. x.sum() instead of a comparison)"
        )
    if out.size != 1:
        raise TypeError(f"{who}: f must return a scalar (one element), got shape {out.shape}; use jacrev or vjp")
    return out


def _grads(out: Tensor, inputs: list[Tensor], cotangent, create: bool, plan: Plan | None = None) -> list[Tensor]:
    """``vᵀ ∂out/∂inputs`` (zeros where ``out`` does not depend on an input); ``plan``: the walk sorted
    before (:func:`_sorted`).

    Under ``vmap`` (whose inputs are lifted batched by every running vmap) the walk runs on the
    batched data with every batch axis an ordinary axis: the examples never mix, so each gets
    its own derivative."""
    if not out.requires_grad:
        return [zeros_like(t) for t in inputs]
    if not _m.state.vmaps:
        grads = grad_of(out, inputs, grad=cotangent, retain_graph=True, create_graph=create, plan=plan)
        return _in_dtypes_of(grads, inputs)
    if not _m.batch_levels(out) and not any(_m.batch_levels(x) for x in inputs):
        # a graph built outside the running vmaps (a pullback made before them, vmapped over its cotangent): the
        # rules run as ops on the (batched) cotangent, so each example gets its own vᵀJ, none summed
        return _in_dtypes_of(grad_of(out, inputs, grad=cotangent, retain_graph=True, create_graph=True), inputs)
    if cotangent is None:
        cotangent = _wrap(to_device(np.ones(out.shape, dtype=out.dtype), out.device))
    cotangent, out = batch_into(_as_tensor(cotangent), _m.state.vmaps), batch_into(out, _m.state.vmaps)
    with _m.physical():
        grads = _in_dtypes_of(grad_of(out, inputs, grad=cotangent, retain_graph=True, create_graph=True), inputs)
    for level in _m.state.vmaps:
        grads = [mark_batched(g, level) for g in grads]
    return grads


def _in_dtypes_of(grads: list[Tensor], inputs: list[Tensor]) -> list[Tensor]:
    """Each gradient in its input's dtype, as ``torch.func.grad`` and JAX give it (a float32 input of a
    float64 computation gets a float32 gradient; the cast is an op, so higher orders see it)."""
    return [g if g.dtype == x.dtype else g.astype(x.dtype) for g, x in zip(grads, inputs)]


def _float_outputs(outs: list[Tensor], who: str) -> None:
    """Reverse mode needs floating-point outputs: a boolean or integer one has no cotangent (torch.func and
    JAX refuse it too, rather than return zeros)."""
    for o in outs:
        if o.dtype.kind == "c":
            raise TypeError(
                f"{who}: f returns a complex output ({o.dtype}, shape {o.shape}); nablagrad differentiates real values "
                "only (complex autodiff is not implemented): return real and imaginary parts as two real outputs"
            )
        if o.dtype.kind != "f":
            raise TypeError(
                f"{who}: f must return floating-point outputs, got one of dtype {o.dtype} and shape {o.shape}; "
                "booleans and integers have no derivative (return a float, e.g. x.astype('float64'))"
            )


def _plain(tree, outer: bool, reach: _Reach | None = None):
    """The results of a transform: inside another transform (``outer``) as they are, for it to differentiate;
    at the outermost level each result is cut from its graph unless that graph reaches a user's leaf that
    requires a gradient (an argument, a parameter read inside f): the graphs to a transform's own lifted
    leaves are internal, as torch.func's and JAX's results carry none of them.  Called under ``no_grad``, every
    result is cut (torch.func's rule: the transform computes inside whatever the caller's mode, and that mode
    governs what it returns).  ``reach``: the call's answers so far (see :class:`_Reach`)."""
    if outer:
        return tree
    flat, tree_def = tree_flatten(tree)
    keep = (reach or _Reach())(flat) if _m.state.grad_enabled else [False] * len(flat)
    return tree_unflatten(tree_def, [x.detach() if isinstance(x, Tensor) and not k else x for x, k in zip(flat, keep)])


def value_and_grad(f: Callable, argnums: Argnums = 0, has_aux: bool = False) -> Callable:
    """``(f(x), ∇f(x))`` from one forward and one reverse pass; ``argnums`` picks the arguments
    (an int gives one gradient, a tuple a tuple); each may be a pytree."""

    @wraps(f)
    def wrapped(*args, **kwargs):
        value, g, aux = _value_and_grad(f, argnums, has_aux, args, kwargs, True)
        return ((value, aux) if has_aux else value), g

    return wrapped


def grad(f: Callable, argnums: Argnums = 0, has_aux: bool = False) -> Callable:
    """``∇f``: a function returning the gradient of scalar ``f`` w.r.t. the ``argnums`` arguments
    (with ``has_aux``, the pair ``(gradient, aux)``)."""

    @wraps(f)
    def wrapped(*args, **kwargs):
        _, g, aux = _value_and_grad(f, argnums, has_aux, args, kwargs, False)
        return (g, aux) if has_aux else g

    return wrapped


def _value_and_grad(f: Callable, argnums: Argnums, has_aux: bool, args: tuple, kwargs: dict, value: bool):
    """``(f(x), ∇f(x), aux)`` of one call (the value None unless asked for: ``grad`` drops it), each result
    as :func:`_plain` gives it.  The graph from ``f``'s output is walked once for every question asked of it
    (:class:`_Reach`), besides the tape walk."""
    nums, single = _argnums(argnums, len(args), "grad")
    reach = _Reach()
    with _m.transform() as outer, _m.enable_grad():
        lifted = _Lifted(args, nums, "grad")
        nested = outer or lifted.traced or _others_traced(args, nums, kwargs)
        out, aux = _split_aux(f(*lifted.args, **kwargs), has_aux, "grad")
        out = _scalar_output(out, "grad")
        plan = _sorted(out, lifted)  # (sorted once: it answers _captures_traced where it can, then is walked)
        nested = nested or _captures_traced(out, reach, (plan,))
        grads = lifted.per_arg(_grads(out, lifted.leaves, None, nested, plan))
    out = _plain(out, outer, reach) if value else None
    g = _plain(grads[0] if single else tuple(grads), outer, reach)
    return out, g, (_plain(aux, outer, reach) if has_aux else None)


def vjp(f: Callable, *primals, has_aux: bool = False):
    """``(f(x), v ↦ vᵀ ∂f/∂x)``: one forward pass, then any number of reverse passes.

    The pullback returns a tuple with one cotangent per primal (each shaped like it) and is
    itself differentiable, in ``v`` as in ``x``.  With ``has_aux`` returns ``(out, vjp_fn, aux)``.
    """
    with _m.transform() as outer, _m.enable_grad():
        lifted = _Lifted(primals, tuple(range(len(primals))), "vjp")
        nested = outer or lifted.traced
        out, aux = _split_aux(f(*lifted.args), has_aux, "vjp")
        out_flat, out_tree = tree_flatten(out)
        out_flat = [_as_tensor(o) for o in out_flat]
        _float_outputs(out_flat, "vjp")
        reach = _Reach()
        nested = nested or _captures_traced(out_flat, reach)

    def vjp_fn(cotangent):
        ct_flat, ct_tree = tree_flatten(cotangent)
        if ct_tree != out_tree and not (len(out_flat) == 1 and len(ct_flat) == 1):
            raise ValueError(f"vjp: the cotangent's structure {ct_tree!r} differs from the output's {out_tree!r}")
        with _m.transform() as inner, _m.enable_grad():
            create = nested or inner or any(is_traced(c) for c in ct_flat)
            total = None
            for o, c in zip(out_flat, ct_flat):
                if np.shape(c) != o.shape:
                    raise ValueError(f"vjp: a cotangent has shape {np.shape(c)} but its output has shape {o.shape}")
                if not isinstance(c, Tensor):  # an array of any library, or host data: on the output's device
                    c = to_device(c, o.device, dtype=o.dtype)
                gs = _grads(o, lifted.leaves, c, create)
                total = gs if total is None else [a + b for a, b in zip(total, gs)]
            if total is None:
                total = [zeros_like(t) for t in lifted.leaves]
        return _plain(tuple(lifted.per_arg(total)), outer or inner)

    result = _plain(tree_unflatten(out_tree, out_flat), outer, reach)
    return (result, vjp_fn, _plain(aux, outer, reach)) if has_aux else (result, vjp_fn)


def jvp(f: Callable, primals: Sequence, tangents: Sequence, has_aux: bool = False):
    """``(f(x), ∂f/∂x · v)`` by forward-mode propagation of the tangent ``v``; ``primals`` and
    ``tangents`` are tuples of pytrees of the same structure.  With ``has_aux`` returns
    ``(out, tangent_out, aux)``."""
    if not isinstance(primals, tuple | list) or not isinstance(tangents, tuple | list):
        raise TypeError("jvp: primals and tangents must be tuples, e.g. jvp(f, (x,), (v,))")
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    p_flat, p_tree = tree_flatten(tuple(primals))
    t_flat, t_tree = tree_flatten(tuple(tangents))
    if p_tree != t_tree:
        raise ValueError(f"jvp: tangents have structure {t_tree!r} but primals {p_tree!r}")
    p_flat = [_as_tensor(p) for p in p_flat]  # once: an array becomes a tensor here, not again below
    for p in p_flat:
        if p.dtype.kind != "f":  # forward mode, like reverse, differentiates real floating-point values only
            raise TypeError(f"jvp: primals must be floating-point (real), got dtype {p.dtype}; pass floats (2.0, not 2) or "
                            "convert with .astype('float64') (complex autodiff is not implemented)")  # fmt: skip
    with _m.transform() as outer, _m.enable_grad(), _m.forward_level() as level:
        duals = [dual(p, t, level) for p, t in zip(p_flat, t_flat)]
        out, aux = _split_aux(f(*tree_unflatten(p_tree, duals)), has_aux, "jvp")
        o_flat, o_tree = tree_flatten(out)
        o_flat = [_as_tensor(o) for o in o_flat]
        taken: dict[int, Tensor] = {}  # an output returned twice keeps its tangent for both places
        for o in o_flat:
            if id(o) not in taken:
                taken[id(o)] = take_tangent(o, level)
        t_out = [taken[id(o)] for o in o_flat]
    reach = _Reach()
    out = _plain(tree_unflatten(o_tree, o_flat), outer, reach)
    t_out = _plain(tree_unflatten(o_tree, t_out), outer, reach)
    return (out, t_out, _plain(aux, outer, reach)) if has_aux else (out, t_out)


def _basis(leaves: list[Tensor], which: int, k: int) -> list:
    """Tangents/cotangents that are all zero except a 1 at flat position ``k`` of leaf ``which``
    (each on its leaf's device)."""
    out = []
    for i, x in enumerate(leaves):
        e = np.zeros(x.shape, dtype=x.dtype)
        if i == which:
            e.reshape(-1)[k] = 1
        out.append(to_device(e, x.device))
    return out


def _jacobian_tree(out_flat, out_tree, lifted: _Lifted, blocks, single: bool):
    """Arrange ``blocks[j][i]`` (output leaf j, input leaf i) as the output's structure holding,
    for each output leaf, the inputs' structure (JAX's convention)."""
    per_out = []
    for j in range(len(out_flat)):
        per_arg = lifted.per_arg(blocks[j])
        per_out.append(per_arg[0] if single else tuple(per_arg))
    return tree_unflatten(out_tree, per_out)


def _jac_block(vectors: list[Tensor], out_shape: tuple, in_shape: tuple, axis: int) -> Tensor:
    if not vectors:
        return tensor(np.zeros(out_shape + in_shape))
    return stack(vectors, axis=axis).reshape(out_shape + in_shape)


def jacfwd(f: Callable, argnums: Argnums = 0, has_aux: bool = False, *, randomness: str = "error") -> Callable:
    """Jacobian by forward mode: one JVP per input coordinate; block ``[out][in]`` has shape
    ``out.shape + in.shape``.  Outputs and inputs may be pytrees.

    ``randomness`` (torch.func's): ``f`` runs once per input coordinate, so a random draw inside it (``ng.randn``,
    dropout) would give each column of the jacobian its own draw: refused by default (``"error"``); ``"same"``
    gives every column the first column's draw, ``"different"`` lets each column draw anew."""
    _check_randomness("jacfwd", randomness)

    @wraps(f)
    def wrapped(*args, **kwargs):  # keyword arguments pass to f, not differentiated (as JAX's)
        nums, single = _argnums(argnums, len(args), "jacfwd")
        sel = _Lifted(args, nums, "jacfwd", lift=lambda x, who: _as_tensor(x))
        primals = sel.leaves

        def g(*leaves):
            a = list(args)
            for i, tree in zip(nums, sel.per_arg(list(leaves))):
                a[i] = tree
            return f(*a, **kwargs)

        columns: list[list] = [[] for _ in primals]  # columns[i][k] = output tangents
        aux = out = None
        draws = _ColumnDraws(randomness)
        for i, x in enumerate(primals):
            for k in range(x.size):
                with draws.column():
                    res = jvp(g, tuple(primals), tuple(_basis(primals, i, k)), has_aux=has_aux)
                out, t = res[0], res[1]
                aux = res[2] if has_aux and aux is None else aux
                columns[i].append(tree_flatten(t)[0])
        if out is None:  # every input is empty: evaluate once for the output's structure
            res = g(*primals)
            out, aux = _split_aux(res, has_aux, "jacfwd")
        out_flat, out_tree = tree_flatten(out)
        out_flat = [_as_tensor(o) for o in out_flat]
        blocks = [
            [_jac_block([c[j] for c in columns[i]], o.shape, x.shape, -1) for i, x in enumerate(primals)]
            for j, o in enumerate(out_flat)
        ]
        jac = _jacobian_tree(out_flat, out_tree, sel, blocks, single)
        return (jac, aux) if has_aux else jac

    return wrapped


class _ColumnDraws:
    """jacfwd's ``randomness`` over its runs of ``f`` (one per column).  A draw is seen as a change of the library
    generator's state, or of a generator a random op reports (:func:`~.random.draws_recorded`)."""

    def __init__(self, randomness: str):
        self.rule = randomness
        self.first: list | None = None  # (generator, state before) of each generator the first column drew from

    @contextmanager
    def column(self) -> Iterator[None]:
        if self.first and self.rule == "same":  # every column draws what the first one drew
            set_states(self.first)
        lib = default_rng()
        before = lib.bit_generator.state
        with draws_recorded() as seen:
            yield
        if lib.bit_generator.state != before:
            seen.setdefault(id(lib), (lib, before))
        if self.first is None:
            self.first = list(seen.values())
        if seen and self.rule == "error":
            set_states(seen.values())  # the refused call draws nothing
            raise RuntimeError(
                "jacfwd: f draws random numbers (ng.randn, dropout ...), which jacfwd refuses by default "
                "(torch.func's randomness='error'): f runs once per input coordinate and each run would draw anew; "
                "pass jacfwd(f, randomness='same') for one draw shared by every column, randomness='different' "
                "for a draw per column, or draw outside f and pass the values in"
            )


def jacrev(f: Callable, argnums: Argnums = 0, has_aux: bool = False, *, chunk_size: int | None = None) -> Callable:
    """Jacobian by reverse mode: one backward pass per output coordinate; block ``[out][in]``
    has shape ``out.shape + in.shape``.  Outputs and inputs may be pytrees.

    ``chunk_size`` (torch.func's: how many rows one vectorised pass computes) is checked and changes nothing:
    the rows are computed one backward pass at a time whatever its value, the same jacobian."""
    _check_chunk_size("jacrev", chunk_size)

    @wraps(f)
    def wrapped(*args, **kwargs):  # keyword arguments pass to f, not differentiated (as JAX's)
        nums, single = _argnums(argnums, len(args), "jacrev")
        with _m.transform() as outer, _m.enable_grad():
            lifted = _Lifted(args, nums, "jacrev")
            nested = outer or lifted.traced or _others_traced(args, nums, kwargs)
            out, aux = _split_aux(f(*lifted.args, **kwargs), has_aux, "jacrev")
            out_flat, out_tree = tree_flatten(out)
            out_flat = [_as_tensor(o) for o in out_flat]
            _float_outputs(out_flat, "jacrev")
            reach = _Reach()
            plans = [_sorted(o, lifted) for o in out_flat]  # (each output's walk sorted once for all its rows)
            nested = nested or _captures_traced(out_flat, reach, plans)
            blocks = []
            for o, plan in zip(out_flat, plans):
                rows = [_grads(o, lifted.leaves, _basis([o], 0, k)[0], nested, plan) for k in range(o.size)]
                blocks.append([_jac_block([r[i] for r in rows], o.shape, x.shape, 0) for i, x in enumerate(lifted.leaves)])
        jac = _plain(_jacobian_tree(out_flat, out_tree, lifted, blocks, single), outer, reach)
        return (jac, _plain(aux, outer, reach)) if has_aux else jac

    return wrapped


RANDOMNESS = ("error", "same", "different")  # torch.func.vmap's (and jacfwd's) rules for a random draw inside f


def _check_randomness(who: str, randomness) -> None:
    if randomness not in RANDOMNESS:
        raise ValueError(f"{who}: randomness must be one of {RANDOMNESS}, got {randomness!r}")


def _check_chunk_size(who: str, chunk_size) -> None:
    if chunk_size is not None and not (is_int(chunk_size) and chunk_size >= 1):
        raise ValueError(f"{who}: chunk_size must be None or an int >= 1, got {chunk_size!r}; e.g. chunk_size=32")


class _Default:
    """An argument's default, told apart from the same value given: ``vmap``'s JAX names and their torch.func
    aliases (``in_axes``/``in_dims``) may not both be given.  Shows as the value in ``help(vmap)``."""

    def __init__(self, value):
        self.value = value

    def __repr__(self) -> str:
        return repr(self.value)


def _one_of(jax_name: str, jax_value, torch_name: str, torch_value):
    """The value of an argument that has JAX's name and torch.func's; both given is a TypeError naming both."""
    if not isinstance(jax_value, _Default) and not isinstance(torch_value, _Default):
        raise TypeError(f"vmap: got both {jax_name}= and {torch_name}=, which are one argument under JAX's and "
                        f"torch.func's names; give only one of them")  # fmt: skip
    value = jax_value if isinstance(torch_value, _Default) else torch_value
    return value.value if isinstance(value, _Default) else value


_AXIS_0 = _Default(0)  # in_axes, out_axes and their aliases when not given


def vmap(f: Callable, in_axes=_AXIS_0, out_axes=_AXIS_0, randomness: str = "error", *,
         in_dims=_AXIS_0, out_dims=_AXIS_0, chunk_size: int | None = None) -> Callable:  # fmt: skip
    """Vectorise ``f`` over an axis of its arguments: ``vmap(f)(xs)[i] == f(xs[i])``, computed by
    each primitive's batching rule on the whole batch at once (no Python loop over examples).

    ``in_axes``: an int or None for every argument, or one entry per argument (None: the same
    value for every example); ``out_axes``: where the batch axis goes in each output.  torch.func's
    names are aliases: ``in_dims`` for ``in_axes``, ``out_dims`` for ``out_axes`` (give one of each pair).
    ``chunk_size`` (torch.func's): map ``chunk_size`` examples at a time and join the outputs along
    their batch axes — the same result with less memory (``None``: all at once).  Composes
    with the other transforms both ways — ``vmap(grad(loss), in_axes=(None, 0, 0))(w, X, y)``
    gives per-example gradients — and nests: ``vmap(vmap(f))`` maps over two axes, each vmap
    its own level with its own batch axis.  A random draw inside ``f`` (``ng.randn`` …) is refused by
    default (``randomness="error"``, torch.func's); ``"same"`` shares one draw between the examples,
    ``"different"`` draws each its own (with ``chunk_size``, every chunk of ``"same"`` starts from the
    library generator's state, as torch.func restores its own, so it draws what an unchunked call draws).
    """
    in_axes = _one_of("in_axes", in_axes, "in_dims", in_dims)
    out_axes = _one_of("out_axes", out_axes, "out_dims", out_dims)
    _check_randomness("vmap", randomness)
    _check_chunk_size("vmap", chunk_size)

    @wraps(f)
    def wrapped(*args, **kwargs):  # keyword arguments pass to f unmapped (torch.func's rule)
        axes = in_axes if isinstance(in_axes, tuple | list) else (in_axes,) * len(args)
        if len(axes) != len(args):
            raise ValueError(f"vmap: in_axes has {len(axes)} entries but f was called with {len(args)} arguments")
        trees, specs, leaves = [], [], []
        for a, ax in zip(args, axes):
            ls, tree = tree_flatten(a)
            trees.append(tree)
            leaves.extend(ls)
            specs.extend(_prefix_axes(ax, tree, "in_axes"))
        for i, (x, ax) in enumerate(zip(leaves, specs)):
            _check_batch_axis("in_axes", ax, np.ndim(x), f"input {i} of shape {np.shape(x)}")
        sizes = {np.shape(x)[ax] for x, ax in zip(leaves, specs) if ax is not None}
        if not sizes:
            raise ValueError("vmap: no argument is mapped (every in_axes entry is None)")
        if len(sizes) > 1:
            raise ValueError(f"vmap: mapped axes have different sizes {sorted(sizes)}; they must all be equal")
        size = sizes.pop()
        outer = _m.state.depth > 0  # inside another transform: it differentiates through the results
        call = (f, trees, specs, out_axes, randomness, kwargs)
        if chunk_size is None or chunk_size >= size:
            o_tree, results, _ = _vmap_once(*call, leaves, size)
        else:
            o_tree, results = _vmap_chunked(call, leaves, size, int(chunk_size))
        # a result that depends on tensors requiring grad (a model's parameters read inside f, an argument) keeps
        # its graph and back-propagates to them, as torch.func.vmap's does; one whose graph leads only to the
        # leaves of transforms inside f (vmap(grad(f))) is cut, as torch.func's and JAX's are plain values
        return _plain(tree_unflatten(o_tree, results), outer)

    return wrapped


def _vmap_once(f: Callable, trees: list[TreeDef], specs: list, out_axes, randomness: str, kwargs: dict,
               leaves: list, size: int) -> tuple[TreeDef, list, list]:  # fmt: skip
    """One vmap level of ``size`` examples over the flat ``leaves`` (one batch axis or None each, ``specs``):
    the output's structure, its leaves with their batch axes at ``out_axes``, and those axes."""
    with _m.transform(), _m.batch_level(size, randomness) as level:
        batched = [x if ax is None else _into_batch(_as_tensor(x), ax, level) for x, ax in zip(leaves, specs)]
        new_args, start = [], 0
        for tree in trees:
            new_args.append(tree_unflatten(tree, batched[start : start + tree.num_leaves]))
            start += tree.num_leaves
        out = f(*new_args, **kwargs)
        o_flat, o_tree = tree_flatten(out)
        one = o_tree.kind == "leaf" and isinstance(out_axes, tuple | list) and len(out_axes) == 1
        spec = out_axes[0] if one else out_axes  # out_axes=(1,) for a single output: its entry
        o_axes = _prefix_axes(spec, o_tree, "out_axes")
        unbatched: dict[int, Tensor] = {}  # an output returned twice is taken out of the batch once
        results = []
        for j, (o, ax) in enumerate(zip(o_flat, o_axes)):
            o = _as_tensor(o)
            if ax is None:  # (JAX's out_axes=None) the same for every example: returned as it is
                if o._tangents and level in o._tangents:
                    raise ValueError(f"vmap: out_axes entry None for output {j}, but it differs from example to "
                                     "example; give the axis where its batch goes (e.g. 0)")  # fmt: skip
                results.append(o)
                continue
            if id(o) not in unbatched:
                unbatched[id(o)] = _out_of_batch(o, level)
            base = unbatched[id(o)]
            _check_batch_axis("out_axes", ax, base.ndim, f"output {j} of shape {tuple(base.shape[1:])}")
            results.append(base if ax % base.ndim == 0 else moveaxis_(base, 0, ax))
    return o_tree, results, o_axes


def _vmap_chunked(call: tuple, leaves: list, size: int, chunk: int) -> tuple[TreeDef, list]:
    """torch.func's ``chunk_size``: one vmap per ``chunk`` examples (slices of the mapped leaves along their
    batch axes), each output joined along its batch axis — ``concatenate`` of the chunks' outputs, so
    gradients flow back into each slice.  An output at ``out_axes=None`` is the same for every example: the
    first chunk's."""
    specs, randomness = call[2], call[4]
    rng = default_rng()
    start_state = copy.deepcopy(rng.bit_generator.state) if randomness == "same" else None
    parts = []
    for lo in range(0, size, chunk):
        hi = min(lo + chunk, size)  # (in bounds: the array API refuses a slice past the end)
        if start_state is not None:  # one draw shared by every example: each chunk draws the same values
            rng.bit_generator.state = copy.deepcopy(start_state)
        sliced = [x if ax is None else _as_tensor(x)[(slice(None),) * (ax % np.ndim(x)) + (slice(lo, hi),)]
                  for x, ax in zip(leaves, specs)]  # fmt: skip
        parts.append(_vmap_once(*call, sliced, hi - lo))
    o_tree, _, o_axes = parts[0]
    joined = [parts[0][1][j] if ax is None else concatenate([p[1][j] for p in parts], axis=ax)
              for j, ax in enumerate(o_axes)]  # fmt: skip
    return o_tree, joined


def _prefix_axes(spec, tree: TreeDef, name: str) -> list:
    """One batch axis per leaf of ``tree``: ``spec`` is an int or None for the whole subtree, or a
    tuple/list/dict of ``tree``'s own shape whose entries are again such specs (a tree prefix, as
    JAX's ``in_axes`` and torch.func's ``in_dims``): ``in_axes=((0, None), 0)`` maps the first
    entry of a pair and not the second."""
    if spec is None or (isinstance(spec, int | np.integer) and not isinstance(spec, bool)):
        return [spec] * tree.num_leaves
    if isinstance(spec, dict) and tree.kind == "dict" and set(spec) == set(tree.keys):
        parts = [spec[k] for k in tree.keys]
    elif isinstance(spec, tuple | list) and tree.kind in ("tuple", "list", "namedtuple") and len(spec) == len(tree.children):
        parts = list(spec)
    else:
        raise ValueError(
            f"vmap: {name} entry {spec!r} does not match the structure {tree!r} it applies to; give an int or "
            "None for the whole value, or a tuple/list/dict of the same structure holding ints or None"
        )
    return [ax for part, child in zip(parts, tree.children) for ax in _prefix_axes(part, child, name)]


def _check_batch_axis(name: str, axis, ndim: int, what: str) -> None:
    """An ``in_axes``/``out_axes`` entry must be None or an int in −ndim..ndim−1 of its tensor."""
    if axis is None:
        return
    if not isinstance(axis, int | np.integer) or not -ndim <= axis < ndim:
        fix = f"give an int in {-ndim}..{ndim - 1} or None"
        if ndim == 0:
            fix = "map a tensor with at least one dimension, or give None to pass it unmapped"
        raise ValueError(f"vmap: {name} entry {axis!r} is out of range for {what} ({ndim} dimensions); {fix}")


def _into_batch(x: Tensor, axis: int, level: int) -> Tensor:
    """``x`` mapped over its (per-example) ``axis`` by vmap ``level``."""
    return mark_batched(identity(moveaxis_(x, axis, 0)), level)


def _out_of_batch(o: Tensor, level: int) -> Tensor:
    """The output ``o`` of vmap ``level``, no longer batched by it: its batch axis first."""
    if not (o._tangents and level in o._tangents):  # the same for every example
        o = broadcast_into(o, level)
    return unmark_batched(o, level)


def hessian(f: Callable, argnums: Argnums = 0, has_aux: bool = False) -> Callable:
    """``∂²f/∂x²`` of a scalar ``f``, forward-over-reverse: ``jacfwd(jacrev(f))`` (JAX's choice)."""
    inner = jacrev(f, argnums, has_aux=has_aux)
    outer = jacfwd(inner, argnums, has_aux=has_aux)

    @wraps(f)
    def wrapped(*args, **kwargs):
        _argnums(argnums, len(args), "hessian")  # (a bad argnums named as the user's call)
        return outer(*args, **kwargs)

    return wrapped
