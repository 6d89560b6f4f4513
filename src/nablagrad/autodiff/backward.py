"""The reverse-mode tape walk (lectures 000 and 002).

1. Order the recorded ops topologically with an explicit stack (no recursion, so a
   100 000-op chain differentiates).
2. Seed the output's adjoint ``ȳ = 1`` (or the given ``grad``) and visit ops from the output
   back: each op turns its output adjoint into its inputs' adjoints with its VJP rules,
   ``w̄_j = Σ_i w̄_i ∂w_i/∂w_j`` — adjoints of a value used by several consumers are summed.
3. Free each op's record after use unless ``retain_graph``: the tape costs memory.

A tensor's hooks (:meth:`.Tensor.register_hook`) see its adjoint once it is complete: an op's result
when the walk reaches its op, a leaf (or an input the walk stops at) when the walk ends; what a hook
returns is the adjoint from then on.  The walk looks for hooks only while one is registered.

The cost is linear in the number of edges of the graph (lecture 002).  A graph of one op whose
inputs are leaves — a compiled training step (``ng.jit``) — skips the sort of step 1.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..backend.device import to_device
from ..backend.namespace import namespace_of
from . import grad_mode as _m
from .errors import JitError
from .primitive import ANS, NUMPY_NS, rules_for, sum_to
from .tensor import _GONE, TENSOR_NS, Tensor, _raw, _wrap


class GraphFreedError(RuntimeError):
    """Raised when a backward pass reaches a part of the graph an earlier pass freed."""


_FREED_MSG = (
    "backward: Trying to backward through the graph a second time; its intermediate "
    "values were freed by the first backward. Pass retain_graph=True to the first backward() if you "
    "need to call it twice, or recompute the forward pass."
)


_MODIFIED_MSG = (
    "backward: one of the variables needed for gradient computation has been modified by an inplace "
    "operation: {what} of op '{op}' (a {dtype} tensor of shape {shape}), which the op saved to compute its "
    "gradient, was written in place after the op used it, e.g. by x += ..., x[...] = v, zero_(), copy_(), "
    "optimizer.step() or t.data -= ... followed by bump_version_(). Use an out-of-place op instead "
    "(x = x + 1, not x += 1) or write to a clone() of the tensor; or call backward() before changing it, or "
    "compute the loss again after the change."
)


_ORDINALS = ("first", "second", "third", "fourth", "fifth")


_DETACHED_MSG = (
    "backward: trying to use a tensor that has been detached in-place, i.e. with .detach_(): {what} of op '{op}' "
    "(a {dtype} tensor of shape {shape}) was detached in place after the op used it, which cuts the gradient's path "
    "through it. This is not supported: use out-of-place y = x.detach() instead (a new tensor sharing the values), "
    "or call backward() before detaching."
)


def _refuse(what: str, node: Tensor, t: Tensor, stamp: int = -1) -> RuntimeError:
    """The error for ``t`` (``what`` of ``node``'s op) written in place since the op used it (at ``stamp``):
    PyTorch's message for a detach_(), or its "modified by an inplace operation"."""
    message = _DETACHED_MSG if stamp >= 0 and _detached_since(t, stamp) else _MODIFIED_MSG
    return RuntimeError(message.format(what=what, op=node._op.name, dtype=t.dtype, shape=t.shape))


def _detached_since(t: Tensor, stamp: int) -> bool:
    """Whether ``t`` was detached in place (``detach_`` leaves ``_prev = (version, _GONE)``) after version ``stamp``."""
    prev = getattr(t, "_prev", None)
    while prev is not None and prev[0] > stamp:
        if prev[1] is _GONE:
            return True
        t = prev[1]()
        if t is None:
            return False
        prev = getattr(t, "_prev", None)
    return False


def _born(node: Tensor, stamp: int) -> int:
    """The version ``node``'s op was stamped with (its inputs are checked against it).  A node whose own
    values were overwritten after it was made (written under no_grad, ``zero_``, or a handle on what a
    tensor was before an in-place op) keeps that stamp in ``_born``; its op refuses to back-propagate
    when its VJP reads its output (exp, tanh, sqrt …: PyTorch's "output 0 of ExpBackward0") — or may
    read it, when the values are lost (written in the node's own array) and the op does not say.  An op
    refuses too when a tensor whose array it keeps (``_guards``: an index, a mask) was written since."""
    guards = getattr(node, "_guards", None)
    if guards is not None:
        for t in guards:
            if t._version > stamp:
                raise _refuse("a tensor it keeps (an index, a mask or labels)", node, t)
    born = getattr(node, "_born", None)
    if born is None:
        return stamp
    stamp, lost = born
    saved = node._op.saved(_needs(node._inputs))
    if (saved is None and lost) or (saved is not None and ANS in saved):
        raise _refuse("the output", node, node)  # (PyTorch: "output 0 of ExpBackward0")
    return stamp


def _seen(node: Tensor, parent: Tensor, stamp: int) -> Tensor:
    """``parent``, an input of ``node``, was written in place after the op (stamped ``stamp``) used it.
    Refused when the op's VJP reads the value of an input written since (PyTorch raises for a tensor
    saved for backward: mul's operands, log's input); otherwise (add, sum, reshape … read none) the
    op's edges go to its inputs as the op saw them — the handle on a node before an in-place op
    replaced it (``_prev``, see :func:`.ops._become`) — so the gradient flows as if the write came
    after (refused too if that handle is gone).  Returns what ``parent`` was for the op."""
    inputs = node._inputs
    if not any(a is parent for a in inputs):  # an earlier call (another input) checked and redirected them all
        return _before(parent, stamp)
    seen = tuple(_before(a, stamp) if isinstance(a, Tensor) and a._version > stamp else a for a in inputs)
    saved = node._op.saved(_needs([a if s is None else s for a, s in zip(inputs, seen)]))
    for i, (a, s) in enumerate(zip(inputs, seen)):
        if isinstance(a, Tensor) and a._version > stamp and (saved is None or i in saved or s is None):
            raise _refuse(f"its {_ORDINALS[i]} input" if i < len(_ORDINALS) else f"its input {i}", node, a, stamp)
    node._inputs = seen
    return next(s for a, s in zip(inputs, seen) if a is parent)


def _before(t: Tensor, stamp: int) -> Tensor | None:
    """The node ``t`` stood for at version ``stamp``: back along the in-place ops recorded since (None
    when that node is gone: nothing but this op's edge would have kept it, and the edge is to ``t``)."""
    prev = getattr(t, "_prev", None)
    while prev is not None and prev[0] > stamp:  # (the version of the write, a weak reference to the node before it)
        t = prev[1]()
        if t is None:
            return None
        prev = getattr(t, "_prev", None)
    return t


def _toposort(root: Tensor, stop: set[int], leaves: list[Tensor] | None = None) -> list[Tensor]:
    """Non-leaf tensors reachable from ``root``, parents before children (iterative DFS); with a
    ``leaves`` list, the leaves that require a gradient met on the way are appended to it.

    Also checks that no value an op saved for its VJP was written in place since (the version
    counter, as PyTorch's): see :func:`_seen` and :func:`_born`.
    """
    overwritten = _m.overwritten
    order: list[Tensor] = []
    visited: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        if node._inputs is None:
            raise GraphFreedError(_FREED_MSG)
        stack.append((node, True))
        stamp = node._version
        if overwritten:
            stamp = _born(node, stamp)
        for parent in node._inputs:
            if isinstance(parent, Tensor):
                if parent._version > stamp:
                    parent = _seen(node, parent, stamp)
                if parent._op is not None and parent._requires_grad and id(parent) not in visited and id(parent) not in stop:
                    stack.append((parent, False))
                elif leaves is not None and parent._op is None and parent._requires_grad:
                    leaves.append(parent)
    return order


class Plan:
    """The walk from ``root`` back to ``inputs``, sorted once (when made) and run as often as asked
    (:func:`grad_of`'s ``plan=``: ``jacrev`` runs one per output coordinate); ``leaves`` holds the leaves
    requiring a gradient that the sort met (with repeats), for a caller asking what the graph reaches."""

    __slots__ = ("inputs", "leaves", "order", "root", "stop", "wanted")

    def __init__(self, root: Tensor, inputs: Sequence[Tensor]):
        self.root, self.inputs = root, list(inputs)
        self.wanted = {id(t) for t in inputs}
        self.stop = _stops(inputs, self.wanted)
        self.leaves: list[Tensor] = []
        sorted_ = root._op is not None and id(root) not in self.stop and root._requires_grad
        self.order = _prune(_toposort(root, self.stop, self.leaves), self.wanted) if sorted_ else []

    def fits(self, root: Tensor, inputs: Sequence[Tensor], partial: bool) -> bool:
        """Whether this plan is the walk ``run_backward(root, inputs=inputs)`` would sort."""
        return not partial and root is self.root and len(inputs) == len(self.inputs) and all(
            a is b for a, b in zip(inputs, self.inputs))  # fmt: skip


def _needs(inputs) -> list[bool]:
    """Which inputs want a gradient (unrolled for one and two, as :func:`.tensor._raw`)."""
    n = len(inputs)
    if n == 1:
        a = inputs[0]
        return [isinstance(a, Tensor) and a._requires_grad]
    if n == 2:
        a, b = inputs
        return [isinstance(a, Tensor) and a._requires_grad, isinstance(b, Tensor) and b._requires_grad]
    return [isinstance(a, Tensor) and a._requires_grad for a in inputs]


def _stops(inputs: Sequence[Tensor], wanted: set[int]) -> set[int]:
    """The inputs at which the walk stops: all but a non-leaf with another input upstream of it, which the
    walk goes through (as PyTorch's ``backward(inputs=[b, a])`` with ``b = f(a)`` gives ``a`` its whole
    gradient, through ``b`` too).  Only non-leaf inputs are searched, and only when there are several."""
    stop = set(wanted)
    if len(wanted) < 2:
        return stop
    for t in inputs:
        if isinstance(t, Tensor) and t._op is not None and _reaches(t, wanted - {id(t)}):
            stop.discard(id(t))
    return stop


def _reaches(t: Tensor, targets: set[int]) -> bool:
    """Whether a tensor in ``targets`` lies upstream of ``t`` on the tape (iterative search)."""
    seen: set[int] = set()
    stack = [t]
    while stack:
        for parent in stack.pop()._inputs or ():
            if isinstance(parent, Tensor) and id(parent) not in seen:
                if id(parent) in targets:
                    return True
                seen.add(id(parent))
                if parent._op is not None:
                    stack.append(parent)
    return False


def _prune(order: list[Tensor], stop: set[int]) -> list[Tensor]:
    """Keep only the ops that depend on a tensor in ``stop`` (the others get no adjoint we need)."""
    live = set(stop)
    kept = []
    for node in order:
        if any(id(p) in live for p in node._inputs if isinstance(p, Tensor)):
            live.add(id(node))
            kept.append(node)
    return kept


_COMPLEX_MSG = (
    "backward: {what} is complex ({dtype}, op '{op}'); nablagrad's rules are real ones (no conjugation: "
    "PyTorch's Wirtinger calculus is not implemented), so a gradient through it would be silently wrong: refused. "
    "Hold real and imaginary parts as two real tensors (a·c − b·d, a·d + b·c for a product)"
)


def _complex(t: Tensor) -> bool:
    """Whether ``t`` holds complex numbers (a NumPy dtype read at once; another library's through ``t.dtype``)."""
    d = t.data.dtype
    return (d.kind if isinstance(d, np.dtype) else t.dtype.kind) == "c"


def _seed(root: Tensor, grad, F):
    if grad is None and _complex(root):  # PyTorch's error, and why nablagrad cannot go on with grad=
        raise RuntimeError(
            f"backward: grad can be implicitly created only for real scalar outputs, but the output is "
            f"{root.dtype}; nablagrad differentiates real values only (complex autodiff is not implemented), so "
            "reduce to a real loss of real tensors, e.g. hold real and imaginary parts as two real tensors"
        )
    if grad is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"backward: grad can be implicitly created only for scalar outputs, but the output "
                f"has shape {root.shape}. Reduce it first (e.g. loss.sum() or loss.mean()) or pass "
                "grad= with the output's shape."
            )
        d = root.data
        if d.__class__ is np.ndarray or isinstance(d, np.generic):  # what np.ones_like gives them, cheaper
            g = np.array(1, d.dtype) if d.shape == () else np.ones(d.shape, d.dtype)
        else:
            g = namespace_of(d).ones_like(d)
    else:
        g = grad.data if isinstance(grad, Tensor) else to_device(grad, root.device, dtype=root.dtype)
        shape = grad.shape if isinstance(grad, Tensor) else np.shape(g)  # (a tensor batched by vmap: one example's)
        if shape != root.shape:
            raise ValueError(f"backward: grad has shape {shape} but the output has shape {root.shape}")
    return F.seed(grad, g)


def run_backward(
    root: Tensor,
    grad=None,
    *,
    inputs: Sequence[Tensor] | None = None,
    retain_graph: bool = False,
    create_graph: bool = False,
    keep_all: bool = False,
    partial: bool = False,
    plan: Plan | None = None,
) -> tuple[dict[int, object], list[Tensor]]:
    """Walk the tape from ``root``; return ``({id(tensor): adjoint}, leaves reached)``.

    With ``inputs`` the walk visits only the ops that depend on those tensors (they may be non-leaves)
    and returns their adjoints: each input's whole gradient, through another input downstream of it too
    (PyTorch's ``backward(inputs=)``), or with ``partial`` each one's partial derivative, the others held
    fixed (the walk stops at every input: a primitive's VJP, as :mod:`.checkpoint` computes one); with
    ``keep_all`` every intermediate's adjoint is kept too (for ``explain``).  The namespace ``F`` is the mode: raw arrays and
    NumPy (:data:`NUMPY_NS`), or with ``create_graph`` Tensors whose ops record a graph of the
    backward pass itself (``TENSOR_NS``) — the same rules either way.  Raw arrays of another
    library (CuPy, an array API one) get that library's raw namespace (:func:`.primitive.rules_for`),
    per op where a graph crosses devices (``Tensor.to``).  ``plan``: this walk sorted before (:class:`Plan`),
    not sorted again.
    """
    if not root.requires_grad:
        raise RuntimeError(
            "backward: the output does not require grad: none of its inputs has requires_grad=True "
            "(or it was computed under no_grad())."
        )
    F = TENSOR_NS if create_graph else _raw_ns(root)
    if plan is not None and inputs is not None and plan.fits(root, inputs, partial):
        wanted, stop = plan.wanted, plan.stop
    else:
        plan = None
        wanted = {id(t) for t in inputs} if inputs is not None else set()
        stop = _stops(inputs, wanted) if inputs is not None and not partial else wanted
    retain_graph = retain_graph or create_graph
    grads: dict[int, object] = {id(root): _seed(root, grad, F)}
    hooked = _m.hooked  # (read once: the walk looks at a node's hooks only while some tensor has one)
    if root._op is None or id(root) in stop:
        if hooked and getattr(root, "_hooks", None) and (inputs is None or id(root) in stop):
            grads[id(root)] = _run_hooks(root, grads[id(root)], create_graph)
        return grads, ([root] if root._op is None else [])
    leaves: list[Tensor] = []
    if plan is not None:
        order = plan.order
    else:
        order = [root] if inputs is None and not create_graph and _one_op(root) else _toposort(root, stop)
        if inputs is not None:
            order = _prune(order, wanted)
    through: dict[int, object] = {}  # the adjoints of the inputs the walk went through (another input is upstream)
    kept: dict[int, object] | None = {} if keep_all or _m.retained else None
    home = root.data.__class__
    before, _m.state.retain_graph = _m.state.retain_graph, retain_graph  # (restored after: a hook may run a walk)
    try:
        # a derivative at a kink or pole is ±∞ or NaN in IEEE arithmetic (sqrt′(0) = ∞, log′(0) = ∞, 0·∞ masked by
        # a select): PyTorch computes it silently, so the walk does too — one errstate for the walk, not one per rule
        with F.recording(), np.errstate(divide="ignore", invalid="ignore"):
            for node in reversed(order):
                g = grads.pop(id(node), None)
                if hooked and g is not None and getattr(node, "_hooks", None):
                    g = _run_hooks(node, g, create_graph)  # (before retain_grad's copy, as PyTorch runs that hook last)
                if kept is not None:
                    kept[id(node)] = g
                if g is None:
                    continue
                if len(stop) != len(wanted) and id(node) in wanted:
                    through[id(node)] = g
                if _complex(node):  # a complex value on the path: real rules would give a wrong gradient
                    what = "the output" if node is root else "a value the gradient flows through"
                    raise RuntimeError(_COMPLEX_MSG.format(what=what, dtype=node.dtype, op=node._op.name))
                inputs_ = node._inputs
                needs = _needs(inputs_)
                if create_graph:
                    Fn, (args, ans) = F, F.unbox(node)
                else:  # raw arrays (the hot path of training): the node's own data, no unboxing
                    Fn = F if node._data.__class__ is home else rules_for(node._data)
                    args, ans = _raw(inputs_), node._data
                parent_grads = node._op.vjp(Fn, g, ans, args, node._params, needs)
                for parent, pg in zip(inputs_, parent_grads):
                    if pg is None:
                        continue
                    if pg.shape != parent.shape:
                        pg = Fn.sum_to(pg, parent.shape)
                    key = id(parent)
                    prev = grads.get(key)
                    if prev is None:
                        grads[key] = pg
                        if parent._op is None:
                            leaves.append(parent)
                    else:
                        grads[key] = prev + pg
                if not retain_graph:
                    node._inputs = None
                    node._params = None
    finally:
        _m.state.retain_graph = before
    if hooked:  # the leaves' (or the stopping inputs') adjoints are complete now: before anything is accumulated
        ends = leaves if inputs is None else {id(t): t for t in inputs if id(t) not in through}.values()
        for t in ends:
            if getattr(t, "_hooks", None) and id(t) in grads:
                grads[id(t)] = _run_hooks(t, grads[id(t)], create_graph)
    grads.update(through)
    if kept is not None:
        if _m.retained:
            for node in order:
                if getattr(node, "_retain", False) and kept.get(id(node)) is not None:
                    _accumulate(node, kept[id(node)], F)
        if keep_all:
            grads.update(kept)
    return grads, leaves


def _run_hooks(t: Tensor, g, create_graph: bool):
    """``g`` (the complete adjoint of ``t``) passed through ``t``'s hooks in registration order: each is called
    with a Tensor — on the plain pass a read-only one, under ``no_grad`` as in PyTorch; with ``create_graph`` the
    adjoint itself, with its graph — and what it returns (a Tensor of the same shape and dtype) replaces it."""
    for hook in list(t._hooks.values()):  # (a hook may remove itself)
        name = getattr(hook, "__name__", type(hook).__name__)
        arg = g if create_graph else _wrap(_read_only(g))
        try:
            if create_graph:
                out = hook(arg)
            else:
                with _m.no_grad():
                    out = hook(arg)
        except ValueError as exc:
            if "read-only" not in str(exc):
                raise
            raise RuntimeError(
                f"backward: hook {name!r} (register_hook) wrote into the gradient it was given ({exc}); other gradients "
                "may share its memory. Return a new tensor instead, e.g. grad * 2 or grad.clamp(-1, 1)"
            ) from exc
        if out is None or out is arg:  # (the gradient as it was: not the read-only view)
            continue
        if not isinstance(out, Tensor):
            raise TypeError(
                f"backward: hook {name!r} (register_hook) returned {type(out).__name__}; a hook returns None (to keep "
                "the gradient) or a Tensor of the gradient's shape and dtype, e.g. grad * 2"
            )
        given = g if create_graph else _wrap(g)  # (a Tensor: shapes and NumPy's dtype names on every device)
        if out.shape != given.shape or out.dtype != given.dtype:
            raise RuntimeError(
                f"backward: hook {name!r} (register_hook) has changed the gradient from shape {given.shape} and dtype "
                f"{given.dtype} "
                f"to shape {out.shape} and dtype {out.dtype} (PyTorch: 'has changed the size/type of value'); return "
                "a tensor of the same shape and dtype, e.g. grad * 2 or grad.clamp(-1, 1), or None"
            )
        g = out if create_graph else out._data
    return g


def _read_only(g):
    """A read-only NumPy view of ``g`` (so a hook that writes into the gradient fails instead of changing
    gradients that share its memory); another library's array as it is."""
    if g.__class__ is np.ndarray or isinstance(g, np.generic):
        g = np.asarray(g).view()
        g.flags.writeable = False
    return g


def _refuse_hooks_in_jit(root: Tensor) -> None:
    """Inside ``ng.jit``: refuse a traced backward that reaches a tensor with hooks (the compiled program replays
    the VJP rules on raw arrays and would skip them), rather than compile a step that differs from eager mode."""
    nodes = _toposort(root, set()) if root._op is not None else []
    reached = [root, *nodes, *(a for n in nodes for a in n._inputs if isinstance(a, Tensor) and a._op is None)]
    if any(getattr(t, "_hooks", None) for t in reached):
        raise JitError(
            "jit: loss.backward() inside a compiled function reaches a tensor with hooks (register_hook); the compiled "
            "program replays the derivative rules without calling Python hooks. Remove the hooks (handle.remove()) "
            "for compiled steps, or call the function without ng.jit"
        )


def _raw_ns(root: Tensor):
    """The raw-array rule namespace: NumPy's, or (other array libraries) the one for the root's data."""
    return NUMPY_NS if root.data.__class__ is np.ndarray else rules_for(root.data)


def backward(root: Tensor, grad=None, retain_graph: bool = False, create_graph: bool = False, *,
             gradient=None, inputs: Tensor | Sequence[Tensor] | None = None) -> None:  # fmt: skip
    """``root.backward()``: accumulate ``∂root/∂leaf`` into every leaf's ``.grad`` (reverse mode,
    lecture 000).

    ``grad`` (PyTorch's ``gradient=``, either name) is the upstream gradient ``v`` for a non-scalar output
    (computes ``vᵀ J``); ``retain_graph`` keeps the tape for another backward; ``create_graph`` builds the
    backward pass itself as a graph, for higher-order derivatives; ``inputs`` (PyTorch's): accumulate into
    these tensors' ``.grad`` only (leaves or not), the other leaves' ``.grad`` untouched.
    """
    if gradient is not None:
        if grad is not None:
            raise TypeError("backward: got both grad= and gradient=, which are one argument (nablagrad's and "
                            "PyTorch's name); give only one of them")  # fmt: skip
        grad = gradient
    if inputs is not None:
        return _backward_into(root, grad, _inputs_of(inputs), retain_graph, create_graph)
    trace = _m.state.jit_trace
    if trace is not None and _m.hooked and trace.traced(root):
        _refuse_hooks_in_jit(root)
    if trace is not None and trace.backward(root, grad, retain_graph, create_graph):
        retain_graph = True  # a training step being compiled (ng.jit): the trace walks this graph afterwards
    grads, leaves = run_backward(root, grad, retain_graph=retain_graph, create_graph=create_graph)
    F = TENSOR_NS if create_graph else _raw_ns(root)
    for leaf in leaves:
        _accumulate(leaf, grads[id(leaf)], F)


def _inputs_of(inputs) -> list[Tensor]:
    """``backward``'s ``inputs=``: a tensor or a non-empty sequence of tensors that require a gradient."""
    ts = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if not ts:
        raise RuntimeError("backward: `inputs` argument to `backward()` cannot be empty; give the tensors whose "
                           ".grad to fill, or leave inputs=None for every leaf")  # fmt: skip
    for i, t in enumerate(ts):
        if not isinstance(t, Tensor):
            raise TypeError(f"backward: inputs[{i}] is a {type(t).__name__}, not a Tensor")
        if not t.requires_grad:
            raise RuntimeError(f"backward: inputs[{i}] (shape {t.shape}) does not require grad, so it can't retain "
                               "a gradient; call requires_grad_() on it, or leave it out of inputs=")  # fmt: skip
    return ts


def _backward_into(root: Tensor, grad, inputs: list[Tensor], retain_graph: bool, create_graph: bool) -> None:
    """``root.backward(inputs=...)``: the walk stops at ``inputs`` and accumulates into their ``.grad`` alone (an
    input the output does not depend on keeps its ``.grad``)."""
    trace = _m.state.jit_trace
    if trace is not None and trace.traced(root):
        raise JitError("jit: backward(inputs=...) inside a compiled function is not supported; call loss.backward() "
                       "with no arguments, or call the function without ng.jit")  # fmt: skip
    grads, _ = run_backward(root, grad, inputs=inputs, retain_graph=retain_graph, create_graph=create_graph)
    F = TENSOR_NS if create_graph else _raw_ns(root)
    for t in {id(t): t for t in inputs}.values():  # (an input given twice is accumulated once, as PyTorch)
        g = grads.get(id(t))
        if g is not None:
            _accumulate(t, g, F)


def _one_op(root: Tensor) -> bool:
    """Whether the tape walk from ``root`` visits ``root``'s op alone, with nothing to refuse: no input
    of the op is an op's result that requires a gradient, none was written in place since.  That is
    a compiled training step (an ``ng.jit`` call is one node, its inputs leaves), which
    :func:`run_backward` then walks without sorting a graph of one node; the sort raises every error."""
    if root._op is None or root._inputs is None:
        return False
    stamp = root._version
    if _m.overwritten and (getattr(root, "_born", None) is not None or getattr(root, "_guards", None) is not None):
        return False
    for parent in root._inputs:
        if isinstance(parent, Tensor) and (parent._version > stamp or (parent._op is not None and parent._requires_grad)):
            return False
    return True


_HOST = (np.ndarray, np.generic)  # a raw NumPy gradient (the first-order path's)


def _accumulate(leaf: Tensor, g, F) -> None:
    """``leaf.grad += g`` without ever writing into an existing array (grads may be shared)."""
    if F is not NUMPY_NS or not isinstance(g, _HOST):  # (a device array from a host op's rule)
        g = g if isinstance(g, Tensor) else _wrap(g)
        if g.dtype != leaf.dtype:  # (create_graph) the leaf's dtype, as the first-order path and PyTorch give it
            g = g.astype(leaf.dtype)
        leaf._grad = g if leaf._grad is None else leaf._grad + g  # (the engine's own values: no setter check)
        return
    if g.dtype != leaf.dtype:
        g = g.astype(leaf.dtype)
    if leaf._grad is None:
        if not isinstance(g, np.ndarray) or not g.flags.writeable:
            g = np.array(g)
        leaf._grad = _wrap(g)
    else:
        leaf._grad = _wrap(leaf._grad._data + g)


def grad_of(output: Tensor, inputs: Sequence[Tensor], grad=None, retain_graph: bool = False, create_graph: bool = False,
            *, plan: Plan | None = None):  # fmt: skip
    """``∂output/∂inputs`` as a list (zeros where an input does not influence the output).

    Like ``torch.autograd.grad``: nothing is accumulated into ``.grad``.  ``plan``: the walk sorted once before
    (:class:`Plan`), for several walks of one graph.
    """
    grads, _ = run_backward(output, grad, inputs=inputs, retain_graph=retain_graph, create_graph=create_graph,
                            plan=plan)  # fmt: skip
    out = []
    for t in inputs:
        g = grads.get(id(t))
        if g is None:
            g = namespace_of(t.data).zeros_like(t.data)
        if not isinstance(g, Tensor):
            g = _wrap(to_device(g, t.device, dtype=t.dtype) if np.shape(g) == () else g)
        out.append(g)
    return out


__all__ = ["GraphFreedError", "Plan", "backward", "grad_of", "run_backward", "sum_to"]
