"""``nablagrad explain "x1*x2 + sin(x1)" --at x1=2 x2=3``.

The expression is parsed with :mod:`ast` and evaluated by walking the tree over a fixed set
of operators and functions — never with ``eval`` — so arbitrary code cannot run.
"""

from __future__ import annotations

import ast
import operator

import nablagrad as ng

from .main import CLIError

_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv, ast.Pow: operator.pow}
_FUNCS = {name: getattr(ng, name) for name in ("exp", "log", "sin", "cos", "tanh", "sigmoid", "sqrt", "relu", "abs")}


def _evaluate(node: ast.AST, env: dict):
    if isinstance(node, ast.Expression):
        return _evaluate(node.body, env)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        return _BINOPS[type(node.op)](_evaluate(node.left, env), _evaluate(node.right, env))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        v = _evaluate(node.operand, env)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCS and len(node.args) == 1:
        return _FUNCS[node.func.id](_evaluate(node.args[0], env))
    if isinstance(node, ast.Name):
        if node.id not in env:
            raise CLIError(f"unknown variable {node.id!r}; give its value with --at {node.id}=VALUE")
        return env[node.id]
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return node.value
    raise CLIError(f"unsupported syntax {ast.unparse(node)!r}; use + - * / **, numbers and {', '.join(_FUNCS)}")


def _variables(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and n.id not in _FUNCS and n.id not in names:
            names.append(n.id)
    return sorted(names)


def run_explain(expression: str, at: list[str], dot: bool = False) -> str:
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as exc:
        raise CLIError(f"cannot parse {expression!r}: {exc.msg}") from None
    point: dict[str, float] = {}
    for item in at:
        name, sep, value = item.partition("=")
        try:
            point[name.strip()] = float(value)
        except ValueError:
            raise CLIError(f"--at expects NAME=NUMBER, got {item!r}") from None
        if not sep:
            raise CLIError(f"--at expects NAME=NUMBER, got {item!r}")
    names = _variables(tree)
    missing = [n for n in names if n not in point]
    if missing:
        raise CLIError(f"no value for {', '.join(missing)}; add --at " + " ".join(f"{n}=VALUE" for n in missing))

    def f(*xs):
        return _evaluate(tree, dict(zip(names, xs)))

    ex = ng.explain(f, *[point[n] for n in names], names=names)
    return ex.to_dot() if dot else str(ex)
