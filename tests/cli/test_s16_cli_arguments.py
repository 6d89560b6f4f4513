"""Bad arguments end in one ``nablagrad`` line with exit status 2 (1 for a failure of a well-formed
command), never a server's log or a multi-line warning: the playground's --host and --port,
``--layers`` with an empty size, and ``explain`` at a point outside an operation's domain or with
a variable the expression does not use."""

import math
import socket
import warnings

import numpy as np
import pytest

from nablagrad.cli.main import main


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


def test_playground_with_a_host_that_does_not_resolve_is_a_bad_argument(capsys):
    pytest.importorskip("uvicorn", reason="the playground extra is not installed")
    assert main(["playground", "--host", "not a host!!", "--port", "8765", "--no-browser"]) == 2
    line = _one_line(capsys)
    assert line.startswith("nablagrad playground: error: --host 'not a host!!'") and "127.0.0.1" in line


def test_playground_on_a_taken_port_fails_in_one_line(capsys):
    pytest.importorskip("uvicorn", reason="the playground extra is not installed")
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        assert main(["playground", "--port", str(port), "--no-browser"]) == 1
    line = _one_line(capsys)
    assert f"cannot listen on 127.0.0.1:{port}" in line and "--port" in line


@pytest.mark.parametrize("layers", ["8,,8", "8,", ",8", " , "])
def test_layers_with_an_empty_size_are_refused(capsys, tmp_path, layers):
    out = str(tmp_path / "r")
    status = main(["train", "--dataset", "xor", "--epochs", "1", "--no-progress", "--out", out, "--layers", layers])
    assert status == 2
    assert f"--layers has an empty size in {layers!r}" in _one_line(capsys)
    assert not (tmp_path / "r").exists()  # nothing was trained or written


@pytest.mark.parametrize(
    "expression, at, shown, domain",
    [
        ("log(x1)", ["x1=-1"], "log(x1) = nan", "log x is defined for x > 0"),
        ("log(x1) + x1", ["x1=0"], "log(x1) = -inf", "log x is defined for x > 0"),
        ("sqrt(x1) * x2", ["x1=-4", "x2=1"], "sqrt(x1) = nan", "sqrt x is defined for x >= 0"),
        ("x1 / x2", ["x1=1", "x2=0"], "x1 / x2 = inf", "division by zero"),
        ("x1 ** 0.5", ["x1=-2"], "x1 ** 0.5 = nan", "a negative base needs a whole exponent"),
        ("exp(x1)", ["x1=800"], "exp(x1) = inf", "exp x overflows"),
    ],
)
def test_explain_outside_the_domain_says_so_in_one_line(capsys, expression, at, shown, domain):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["explain", expression, "--at", *at]) == 0
    assert not caught  # no RuntimeWarning lines
    out, err = capsys.readouterr()
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("nablagrad explain: note: at ") and shown in lines[0] and domain in lines[0]
    # the table shows the value NumPy gives (the oracle): y at the point
    point = dict(a.split("=") for a in at)
    with np.errstate(all="ignore"):
        env = {k: np.float64(v) for k, v in point.items()}
        y = eval(expression, {"log": np.log, "sqrt": np.sqrt, "exp": np.exp}, env)  # noqa: S307 - the test's own text
    assert f"y = {y:g}" in out or (math.isnan(y) and "y = nan" in out)


def test_explain_inside_the_domain_prints_no_note(capsys):
    assert main(["explain", "log(x1) * x2", "--at", "x1=2", "x2=3"]) == 0
    out, err = capsys.readouterr()
    assert err == "" and f"∂y/∂x1 = {3 / 2:g}" in out  # d/dx1 x2·log x1 = x2 / x1


@pytest.mark.parametrize(
    "at, message",
    [
        (["x1=1", "y=2"], "--at gives 'y', which 'x1 * 2' does not use; its variables are x1"),
        (["x1=1", "x2=2", "z=0"], "--at gives 'x2', 'z', which 'x1 * 2' does not use"),
        (["x1=1", "x1=2"], "--at gives x1 twice"),
    ],
)
def test_explain_refuses_variables_it_does_not_use(capsys, at, message):
    assert main(["explain", "x1 * 2", "--at", *at]) == 2
    assert message in _one_line(capsys)
