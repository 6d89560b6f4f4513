"""``nablagrad`` sub-commands. Every user error ends in one clear line and exit status 2."""

from __future__ import annotations

import argparse
import sys


class CLIError(Exception):
    """A user error: printed as one line, no traceback."""


def _cmd_explain(args: argparse.Namespace) -> int:
    from .explain_cmd import run_explain  # noqa: PLC0415

    print(run_explain(args.expression, args.at, dot=args.dot))
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    import nablagrad as ng  # noqa: PLC0415

    print("y = x1*x2 + sin(x1) at x1 = 2, x2 = 3 (lecture 000)\n")
    print(ng.explain(lambda x1, x2: x1 * x2 + ng.sin(x1), 2.0, 3.0))
    print("\ny = exp(x1*x2) + x2**3 at x1 = 1, x2 = 2 (lecture 000)\n")
    print(ng.explain(lambda x1, x2: ng.exp(x1 * x2) + x2**3, 1.0, 2.0))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="nablagrad", description="nablagrad: the deep-learning lectures as software")
    sub = p.add_subparsers(dest="command", required=True)
    e = sub.add_parser("explain", help="forward/reverse AD tables of a scalar expression")
    e.add_argument("expression", help='e.g. "x1*x2 + sin(x1)"')
    e.add_argument("--at", nargs="+", default=[], metavar="NAME=VALUE", help="the point, e.g. x1=2 x2=3")
    e.add_argument("--dot", action="store_true", help="print the graph as Graphviz DOT instead")
    e.set_defaults(func=_cmd_explain)
    d = sub.add_parser("demo", help="print the lecture's worked AD examples")
    d.set_defaults(func=_cmd_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CLIError as exc:
        print(f"nablagrad {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
