"""``nablagrad`` sub-commands.  Every error ends in one clear line on stderr, never a traceback:
exit status 2 for a usage error (a bad option or value, as argparse does), 1 for a failure of a
well-formed command (a corrupted file, a diverged run, a missing optional dependency)."""

from __future__ import annotations

import argparse
import socket
import sys

from .. import __version__
from .errors import CLIError, CommandFailedError


def _int_in(lo: int, hi: int | None = None):
    """An argparse ``type``: an integer in ``lo..hi``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < lo or (hi is not None and value > hi):
            bounds = f"in {lo}..{hi}" if hi is not None else f">= {lo}"
            raise argparse.ArgumentTypeError(f"must be an integer {bounds}, got {text!r}")
        return value

    return parse


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


def _cmd_train(args):
    from .train_cmd import run_train  # noqa: PLC0415

    return run_train(args)


def _cmd_evaluate(args):
    from .train_cmd import run_evaluate  # noqa: PLC0415

    return run_evaluate(args)


def _cmd_predict(args):
    from .train_cmd import run_predict  # noqa: PLC0415

    return run_predict(args)


def _cmd_bench(args):
    from .bench_cmd import run_bench  # noqa: PLC0415

    return run_bench(args)


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad options in one line with exit status 2 (no usage dump)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from .train_cmd import CHOICES, add_train_arguments  # noqa: PLC0415

    p = _Parser(prog="nablagrad", description="nablagrad: the deep-learning lectures as software")
    p.add_argument("--version", action="version", version=f"nablagrad {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    t = sub.add_parser("train", help="train an MLP (default: 784-256-128-10 on MNIST) and save the run")
    add_train_arguments(t)
    t.set_defaults(func=_cmd_train)
    ev = sub.add_parser("evaluate", help="test accuracy of a saved run or model")
    ev.add_argument("target", metavar="RUN_OR_MODEL")
    ev.add_argument("--dataset", choices=CHOICES["dataset"], help="override the data set recorded in the model")
    ev.set_defaults(func=_cmd_evaluate)
    pr = sub.add_parser("predict", help="class probabilities of a 28×28 digit picture")
    pr.add_argument("model", metavar="MODEL")
    pr.add_argument("image", metavar="IMAGE.png")
    pr.set_defaults(func=_cmd_predict)
    b = sub.add_parser("bench", help="time the engine against PyTorch (if installed)")
    b.add_argument("--repeat", type=_int_in(1), default=20, help="timed repetitions (default 20)")
    b.set_defaults(func=_cmd_bench)
    pg = sub.add_parser("playground", help="the interactive playground in the browser")
    pg.add_argument("--host", default="127.0.0.1")
    pg.add_argument("--port", type=_int_in(0, 65535), default=8000)
    pg.add_argument("--no-browser", action="store_true")
    pg.set_defaults(func=_cmd_playground)
    e = sub.add_parser("explain", help="forward/reverse AD tables of a scalar expression")
    e.add_argument("expression", help='e.g. "x1*x2 + sin(x1)" (at most 200 operations)')
    e.add_argument("--at", nargs="+", default=[], metavar="NAME=VALUE", help="the point, e.g. x1=2 x2=3")
    e.add_argument("--dot", action="store_true", help="print the graph as Graphviz DOT instead")
    e.set_defaults(func=_cmd_explain)
    d = sub.add_parser("demo", help="print the lecture's worked AD examples")
    d.set_defaults(func=_cmd_demo)
    return p


def _cmd_playground(args):
    try:
        from ..playground.server import serve  # noqa: PLC0415
    except ImportError as exc:
        raise CommandFailedError(f"the playground needs its extra: pip install 'nablagrad[playground]' ({exc})") from None
    try:
        return serve(args.host, args.port, open_browser=not args.no_browser)
    except socket.gaierror as exc:  # the host does not resolve: a bad argument
        raise CLIError(f"--host {args.host!r} is not an address or a host name this machine knows ({exc.strerror}); "
                       "use e.g. 127.0.0.1, 0.0.0.0 or localhost") from None  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CLIError as exc:
        print(f"nablagrad {args.command}: error: {exc}", file=sys.stderr)
        return exc.status
    except OSError as exc:
        print(f"nablagrad {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the backstop: every known case is checked where it arises
        print(f"nablagrad {args.command}: error: unexpected {type(exc).__name__}: {str(exc)[:300]} (please report this)",
              file=sys.stderr)  # fmt: skip
        return 1
