"""``nablagrad explain "x1*x2 + sin(x1)" --at x1=2 x2=3``.

The expression is parsed with :mod:`ast` and evaluated by walking the tree over a fixed set
of operators and functions — never with ``eval`` — so arbitrary code cannot run.  Its cost is
bounded too: at most :data:`MAX_OPERATIONS` operations, and numbers are floats, so ``9**9**9``
overflows at once instead of computing a 370-million-digit integer.
"""

from __future__ import annotations

import ast
import operator

import nablagrad as ng

from .errors import CLIError

MAX_OPERATIONS = 200
MAX_LENGTH = 2000  # characters: longer text cannot hold a table worth reading

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
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
        return float(node.value)
    raise CLIError(f"unsupported syntax {ast.unparse(node)!r}; use + - * / **, numbers and {', '.join(_FUNCS)}")


def _check_syntax(tree: ast.AST) -> None:
    """Refuse any node that :func:`_evaluate` would not accept, before anything is evaluated."""
    for node in ast.walk(tree):
        ok = (
            isinstance(node, ast.Expression | ast.Name | ast.Load | ast.operator | ast.unaryop)
            or (isinstance(node, ast.BinOp) and type(node.op) in _BINOPS)
            or (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd))
            or (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCS
                and len(node.args) == 1 and not node.keywords)
            or (isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool))
        )  # fmt: skip
        if not ok or (isinstance(node, ast.Name) and node.id in _FUNCS and not _is_call_target(tree, node)):
            raise CLIError(f"unsupported syntax {ast.unparse(node)!r}; use + - * / **, numbers and {', '.join(_FUNCS)}")


def _is_call_target(tree: ast.AST, name: ast.Name) -> bool:
    return any(isinstance(n, ast.Call) and n.func is name for n in ast.walk(tree))


def _variables(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and n.id not in _FUNCS and n.id not in names:
            names.append(n.id)
    return sorted(names)


def _parse(expression: str) -> ast.Expression:
    if len(expression) > MAX_LENGTH:
        raise CLIError(f"the expression has {len(expression)} characters; explain takes at most {MAX_LENGTH} "
                       f"(and {MAX_OPERATIONS} operations): its tables are for small expressions")  # fmt: skip
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as exc:
        raise CLIError(f"cannot parse {expression!r}: {exc.msg}") from None
    except (RecursionError, MemoryError):
        raise CLIError(f"the expression is nested too deeply; explain takes at most {MAX_OPERATIONS} operations") from None
    ops = sum(isinstance(n, ast.BinOp | ast.UnaryOp | ast.Call) for n in ast.walk(tree))
    if ops > MAX_OPERATIONS:
        raise CLIError(f"the expression has {ops} operations; explain takes at most {MAX_OPERATIONS}: its tables are for "
                       "small expressions")  # fmt: skip
    _check_syntax(tree)
    return tree


def run_explain(expression: str, at: list[str], dot: bool = False) -> str:
    tree = _parse(expression)
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
    if not names:
        raise CLIError(f"{expression!r} has no variables, so there is nothing to differentiate; write it in x1, x2, … "
                       "and give the point with --at x1=VALUE")  # fmt: skip
    missing = [n for n in names if n not in point]
    if missing:
        raise CLIError(f"no value for {', '.join(missing)}; add --at " + " ".join(f"{n}=VALUE" for n in missing))

    def f(*xs):
        return _evaluate(tree, dict(zip(names, xs)))

    try:
        ex = ng.explain(f, *[point[n] for n in names], names=names)
    except (ArithmeticError, ValueError) as exc:  # 1/0, 9.0**1e9, ... on constants
        why = "a number overflows (beyond 1.8e308)" if isinstance(exc, OverflowError) else str(exc)
        raise CLIError(f"cannot evaluate {expression!r} at {', '.join(f'{n}={point[n]:g}' for n in names)}: {why}") from None
    return ex.to_dot() if dot else str(ex)
