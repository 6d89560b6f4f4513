"""``nablagrad explain "x1*x2 + sin(x1)" --at x1=2 x2=3``.

The expression is parsed with :mod:`ast` and evaluated by walking the tree over a fixed set
of operators and functions — never with ``eval`` — so arbitrary code cannot run.  Its cost is
bounded too: at most :data:`MAX_OPERATIONS` operations, and numbers are floats, so ``9**9**9``
overflows at once instead of computing a 370-million-digit integer.
"""

from __future__ import annotations

import ast
import math
import operator
import sys
import warnings

import numpy as np

import nablagrad as ng

from .errors import CLIError

MAX_OPERATIONS = 200
MAX_LENGTH = 2000  # characters: longer text cannot hold a table worth reading

_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv, ast.Pow: operator.pow}
_FUNCS = {name: getattr(ng, name) for name in ("exp", "log", "sin", "cos", "tanh", "sigmoid", "sqrt", "relu", "abs")}


# where an elementwise step leaves the reals (or the floats): named in the one-line note
_DOMAINS = {"log": "log x is defined for x > 0 (log 0 = -inf)", "sqrt": "sqrt x is defined for x >= 0",
            "exp": "exp x overflows for x > 709.78"}
_OVERFLOW = "a number overflows (beyond 1.8e308)"


def _why(kind, xs: list[float]) -> str:
    """Why a step of ``kind`` (a function's name or an ``ast`` operator) is not finite at ``xs``."""
    if kind is ast.Div and xs[1] == 0:
        return "division by zero"
    if kind is ast.Pow and xs[0] < 0 and xs[1] != int(xs[1]):
        return "a negative base needs a whole exponent (x ** p is real for x < 0 only then)"
    if kind is ast.Pow and xs[0] == 0 and xs[1] < 0:
        return "0 to a negative power divides by zero"
    return _DOMAINS.get(kind, _OVERFLOW)


def _evaluate(node: ast.AST, env: dict, steps: list | None = None):
    """The value of ``node``; ``steps`` (if given) collects ``(node, value, operand values)`` in
    evaluation order, for :func:`_first_non_finite`."""
    if isinstance(node, ast.Expression):
        return _evaluate(node.body, env, steps)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        args = [_evaluate(node.left, env, steps), _evaluate(node.right, env, steps)]
        value = _BINOPS[type(node.op)](*args)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        v = _evaluate(node.operand, env, steps)
        args, value = [v], (-v if isinstance(node.op, ast.USub) else v)
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCS and len(node.args) == 1:
        args = [_evaluate(node.args[0], env, steps)]
        value = _FUNCS[node.func.id](args[0])
    else:
        return _leaf(node, env)
    if steps is not None:
        steps.append((node, value, args))
    return value


def _leaf(node: ast.AST, env: dict):
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
        if name.strip() in point:
            raise CLIError(f"--at gives {name.strip()} twice; give each variable once")
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

    unused = [n for n in point if n not in names]
    if unused:
        raise CLIError(f"--at gives {', '.join(map(repr, unused))}, which {expression!r} does not use; its variables are "
                       f"{', '.join(names)}")  # fmt: skip
    where = ", ".join(f"{n}={point[n]:g}" for n in names)
    steps: list = []

    def f(*xs):
        steps.clear()  # explain calls f once per pass; the last pass's steps are kept
        return _evaluate(tree, dict(zip(names, xs)), steps)

    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():  # a non-finite value gets one line below
            warnings.simplefilter("ignore", RuntimeWarning)
            ex = ng.explain(f, *[point[n] for n in names], names=names)
    except (ArithmeticError, ValueError) as exc:  # 1/0, 9.0**1e9, ... on constants
        why = _OVERFLOW if isinstance(exc, OverflowError) else str(exc)
        raise CLIError(f"cannot evaluate {expression!r} at {where}: {why}") from None
    note = _first_non_finite(steps) or _non_finite_gradient(steps, names, ex.gradient)
    if note:
        print(f"nablagrad explain: note: at {where}, {note}", file=sys.stderr)
    return ex.to_dot() if dot else str(ex)


def _first_non_finite(steps: list) -> str:
    """``"log(x1) = nan: log x is defined for x > 0 …"`` for the first step whose operands are
    finite but whose value is not (where nan or inf enters); ``""`` when every value is finite."""
    for node, value, args in steps:
        v, xs = _number(value), [_number(a) for a in args]
        if math.isfinite(v) or not all(math.isfinite(x) for x in xs):
            continue
        kind = node.func.id if isinstance(node, ast.Call) else type(getattr(node, "op", None))
        return f"{ast.unparse(node)} = {v:g}: {_why(kind, xs)}"
    return ""


def _non_finite_gradient(steps: list, names: list[str], gradient: list[float]) -> str:
    """``"∂y/∂x1 = nan is not a real number: …"`` when the value is finite but a derivative is not,
    naming the first step whose own slope is infinite or undefined; ``""`` when every one is finite."""
    bad = [f"∂y/∂{n} = {g:g}" for n, g in zip(names, gradient) if not math.isfinite(g)]
    if not bad:
        return ""
    why = next((w for node, _, args in steps if (w := _slope_why(node, [_number(a) for a in args]))), None)
    return f"{', '.join(bad)} {'is not a real number' if len(bad) == 1 else 'are not real numbers'}: " + (
        why or "a step's derivative is infinite or undefined there (the value itself is finite)")


def _varies(node: ast.AST) -> bool:
    """Whether ``node`` depends on a variable (a constant sub-expression has no derivative to spoil)."""
    return any(isinstance(n, ast.Name) and n.id not in _FUNCS for n in ast.walk(node))  # (names of _FUNCS are calls)


def _slope_why(node: ast.AST, xs: list[float]) -> str:
    """Why the step ``node`` at its (finite) operands ``xs`` has a non-finite derivative, or ``""``."""
    text = ast.unparse(node)
    if isinstance(node, ast.Call) and node.func.id == "sqrt" and xs[0] == 0 and _varies(node.args[0]):
        return f"{text} has an infinite slope where its argument is 0 (d/dx sqrt x = 1 / (2 sqrt x))"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        x, p = xs
        if x < 0 and _varies(node.right):
            return (f"in {text} = ({x:g}) ** {_signed(p)} the base is negative, and x ** p for x < 0 is real only at "
                    "whole p, so it has no real derivative in the exponent p (∂/∂p x ** p = x ** p · log x)")  # fmt: skip
        if x == 0 and 0 < p < 1 and _varies(node.left):
            return f"{text} = 0 ** {_signed(p)} has an infinite slope at 0 (p · x ** (p - 1) with p < 1)"
    return ""


def _signed(v: float) -> str:
    return f"({v:g})" if v < 0 else f"{v:g}"


def _number(v) -> float:
    return float(v.item()) if isinstance(v, ng.Tensor) else float(v)
