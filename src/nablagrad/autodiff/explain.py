"""``explain(f, *scalars)``: the lecture's forward- and reverse-mode tables for a scalar function.

For ``y = x1·x2 + sin x1`` (lecture 000) it lists ``w1 = x1, w2 = x2, w3 = w1 * w2,
w4 = sin(w1), w5 = w3 + w4`` with each value, the tangents ``ẇ_i`` for each input direction
(one forward pass per input), and the adjoints ``w̄_i = ∂y/∂w_i`` (one reverse pass).  The
computational graph, whose edges carry the local derivatives ``∂w_i/∂w_j`` (lecture 002), is
exported as Graphviz DOT.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from . import grad_mode as _m
from .backward import run_backward
from .grad_mode import tracing
from .primitive import NUMPY_NS
from .tensor import Tensor, _wrap


@dataclass
class Row:
    """One intermediate ``w_i``: how it is defined, its value, tangents and adjoint."""

    name: str
    expr: str
    value: float
    tangents: list[float]
    adjoint: float
    parents: list[str] = field(default_factory=list)
    partials: list[float] = field(default_factory=list)  # ∂w_i/∂parent, edge labels of the graph


@dataclass
class Path:
    """One input → output path of the derivative graph and the product of its edge derivatives."""

    input: str
    nodes: list[str]
    product: float


@dataclass
class Explanation:
    inputs: list[str]
    rows: list[Row]

    def row(self, name_or_expr: str) -> Row:
        for r in self.rows:
            if name_or_expr in (r.name, r.expr):
                return r
        raise KeyError(name_or_expr)

    @property
    def output(self) -> Row:
        return self.rows[-1]

    @property
    def gradient(self) -> list[float]:
        return [self.row(f"w{i + 1}").adjoint for i in range(len(self.inputs))]

    def forward_table(self) -> str:
        head = ["w", "definition", "value"] + [f"ẇ (d/d{x})" for x in self.inputs]
        body = [[r.name, r.expr, _fmt(r.value)] + [_fmt(t) for t in r.tangents] for r in self.rows]
        return _table(head, body)

    def reverse_table(self) -> str:
        head = ["w", "definition", "value", "adjoint w̄ = ∂y/∂w"]
        body = [[r.name, r.expr, _fmt(r.value), _fmt(r.adjoint)] for r in reversed(self.rows)]
        return _table(head, body)

    def __str__(self) -> str:
        grad = ", ".join(f"∂y/∂{x} = {_fmt(g)}" for x, g in zip(self.inputs, self.gradient))
        return (
            "Forward mode (one pass per input, tangents ẇ = ∂w/∂x):\n"
            + self.forward_table()
            + "\n\nReverse mode (one backward pass, adjoints w̄ = ∂y/∂w, output first):\n"
            + self.reverse_table()
            + f"\n\ny = {_fmt(self.output.value)};  {grad}"
        )

    def paths(self) -> list[Path]:
        """Every path from an input to the output in the derivative graph (lecture 002), with the
        product of the local derivatives on its edges.  For each input the products sum to
        ``∂y/∂x`` — the chain rule as a sum over paths; reverse mode computes the same sum
        while visiting each edge once."""
        by_name = {r.name: r for r in self.rows}
        out: list[Path] = []
        stack = [([self.output.name], 1.0)]
        while stack:  # depth-first from the output back to the inputs
            nodes, product = stack.pop()
            row = by_name[nodes[0]]
            if not row.parents:
                if row.name in self.input_names:
                    out.append(Path(row.expr, nodes, product))
                continue
            for parent, d in reversed(list(zip(row.parents, row.partials))):
                stack.append(([parent, *nodes], product * d))
        return out

    @property
    def input_names(self) -> list[str]:
        """The labels ``w1 … wn`` of the inputs."""
        return [f"w{i + 1}" for i in range(len(self.inputs))]

    def paths_table(self) -> str:
        paths = self.paths()  # every path enumerated once (their number grows fast with depth)
        body = [[p.input, " → ".join(p.nodes), _fmt(p.product)] for p in paths]
        sums = [f"Σ = {_fmt(sum(p.product for p in paths if p.input == x))} = ∂y/∂{x}" for x in self.inputs]
        return _table(["input", "path", "product of edge derivatives"], body) + "\n" + "\n".join(sums)

    def to_dot(self) -> str:
        """The computational graph in Graphviz DOT; edges are labelled with ∂w_i/∂w_j."""
        lines = ["digraph G {", "  rankdir=LR;", '  node [shape=box, fontname="Helvetica"];']
        for r in self.rows:
            label = f"{_dot(r.name)} = {_dot(r.expr)}\\nvalue {_fmt(r.value)}\\nadjoint {_fmt(r.adjoint)}"
            lines.append(f'  {r.name} [label="{label}"];')
        for r in self.rows:
            for p, d in zip(r.parents, r.partials):
                lines.append(f'  {p} -> {r.name} [label="{_fmt(d)}"];')
        lines.append("}")
        return "\n".join(lines)


def _dot(text: str) -> str:
    """``text`` for a quoted DOT string: backslashes and quotes escaped (a user's name such as ``x"y``), a line
    break as DOT's ``\\n``."""
    return str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _fmt(v: float) -> str:
    return f"{v + 0.0:.6g}"  # + 0.0 turns -0 into 0


def _table(head: list[str], body: list[list[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(head, *body)]
    fmt = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([fmt(head), fmt(["-" * w for w in widths])] + [fmt(row) for row in body])


def _input_names(f: Callable, n: int) -> list[str]:
    try:
        params = list(inspect.signature(f).parameters)
    except (TypeError, ValueError):
        params = []
    return params[:n] if len(params) >= n else [f"x{i + 1}" for i in range(n)]


def explain(f: Callable, *scalars: float, names: list[str] | None = None) -> Explanation:
    """Trace ``f`` at the given scalars and tabulate values, tangents and adjoints (float64).  Each input is
    one number (the tables hold one value per ``w_i``); for a vector input use :func:`~nablagrad.autodiff.grad`
    or :func:`~nablagrad.autodiff.jacrev`."""
    names = names or _input_names(f, len(scalars))
    for i, s in enumerate(scalars):
        _check_scalar(s, names[i] if i < len(names) else f"x{i + 1}", i)

    def leaves():
        return [_wrap(np.array(float(s))).requires_grad_(True) for s in scalars]

    xs = leaves()
    with tracing() as trace:
        y = f(*xs)
    if not isinstance(y, Tensor) or y.size != 1:
        raise TypeError("explain: f must return a scalar tensor built from its arguments")
    nodes = list(xs) + [t for t in trace if t._op is not None]
    for t in nodes[len(xs) :]:
        if t.data.size != 1:  # (a table row holds one number)
            raise TypeError(
                f"explain: every intermediate must be a scalar, but {t._op.name} made one of shape {t.shape}; write f "
                "with scalar operations of its scalar inputs (for vector code use ng.grad or ng.jacrev)"
            )
    # number as the lecture does: by level (longest path from the inputs), then in execution
    # order — for e^{x1·x2} + x2³: w3 = w1·w2, w4 = w2³, then w5 = e^{w3}, w6 = w4 + w5
    level = {id(t): 0 for t in xs}
    for t in nodes[len(xs) :]:
        level[id(t)] = 1 + max((level[id(a)] for a in t._inputs if isinstance(a, Tensor) and id(a) in level), default=0)
    order = sorted(range(len(nodes)), key=lambda i: (level[id(nodes[i])], i))
    label = {id(nodes[i]): f"w{rank + 1}" for rank, i in enumerate(order)}

    # forward mode: one pass per input direction, the tangent of every w_i recorded
    tangents = [[0.0] * len(scalars) for _ in nodes]
    for k in range(len(scalars)):
        with _m.transform(), _m.forward_level() as level, tracing() as tr:
            duals = leaves()
            for j, d in enumerate(duals):
                d._tangents = {level: _wrap(np.array(1.0 if j == k else 0.0))}
            f(*duals)
        traced = list(duals) + [t for t in tr if t._op is not None]
        for i, t in enumerate(traced):
            tangents[i][k] = float(t._tangents[level].data) if t._tangents and level in t._tangents else 0.0

    # reverse mode: one backward pass keeping every adjoint
    adj, _ = run_backward(y, retain_graph=True, keep_all=True)
    rows = []
    for i in order:
        t = nodes[i]
        if i < len(xs):
            rows.append(Row(label[id(t)], names[i], float(t.data), tangents[i], _scalar(adj.get(id(t)))))
            continue
        parts = [label.get(id(a), _const(a)) for a in t._inputs]
        expr = (t._op.fmt or t._op.name + "({0})").format(*parts)
        args = [a.data if isinstance(a, Tensor) else a for a in t._inputs]
        needs = [isinstance(a, Tensor) and id(a) in label for a in t._inputs]
        local = t._op.vjp(NUMPY_NS, np.array(1.0), t.data, args, t._params, needs)
        parents = [label[id(a)] for a, n in zip(t._inputs, needs) if n]
        partials = [_scalar(d) for d, n in zip(local, needs) if n]
        rows.append(Row(label[id(t)], expr, float(t.data), tangents[i], _scalar(adj.get(id(t))), parents, partials))
    return Explanation(names, rows)


def _check_scalar(s, name: str, i: int) -> None:
    """An input of :func:`explain` must be one real number (a Python number, a 0-d or one-element array or tensor)."""
    data = s.data if isinstance(s, Tensor) else s
    if isinstance(data, bool | np.bool_) or not isinstance(data, int | float | np.number | np.ndarray):
        raise TypeError(f"explain: input {i + 1} ({name}) must be a real number, got {type(s).__name__} {s!r:.60}; "
                        "pass numbers, e.g. ng.explain(f, 2.0, 3.0)")  # fmt: skip
    shape = np.shape(data)
    if int(np.prod(shape)) != 1 or np.iscomplexobj(data):
        raise TypeError(
            f"explain: input {i + 1} ({name}) has shape {shape}, but explain tabulates scalar functions of scalar "
            "inputs (one value per w_i); pass one number per input, e.g. ng.explain(f, 2.0, 3.0), or for a vector "
            "use ng.grad(f)(x) / ng.jacrev(f)(x)"
        )


def _scalar(v) -> float:
    return 0.0 if v is None else float(np.asarray(v).reshape(()))


def _const(v) -> str:
    return f"{float(v):g}" if np.ndim(v) == 0 else "const"
