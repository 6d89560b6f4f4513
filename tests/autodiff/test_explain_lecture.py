"""explain numbers the worked examples as lecture 000 does, and lists the derivative graph's
paths (lecture 002) whose products sum to the derivative."""

import math
import subprocess
import sys

import numpy as np
import pytest
import torch

import nablagrad as ng


def test_second_worked_example_is_numbered_as_in_the_notes():
    """w1 = x1, w2 = x2 ⇒ w3 = w1w2, w4 = w2³ ⇒ w5 = e^{w3} ⇒ w6 = w4 + w5."""
    ex = ng.explain(lambda x1, x2: ng.exp(x1 * x2) + x2**3, 1.0, 2.0)
    assert [(r.name, r.expr) for r in ex.rows] == [
        ("w1", "x1"), ("w2", "x2"), ("w3", "w1 * w2"), ("w4", "w2 ** 3"), ("w5", "exp(w3)"), ("w6", "w5 + w4"),
    ]  # fmt: skip
    w = {r.name: r for r in ex.rows}
    assert w["w3"].adjoint == pytest.approx(math.exp(2.0))  # w̄3 = e^{w3} w̄5
    assert w["w2"].adjoint == pytest.approx(1.0 * math.exp(2.0) + 3 * 2.0**2)  # w̄2 = w1 w̄3 + 3w2² w̄4
    first = ng.explain(lambda x1, x2: x1 * x2 + ng.sin(x1), 2.0, 3.0)
    assert [r.expr for r in first.rows] == ["x1", "x2", "w1 * w2", "sin(w1)", "w3 + w4"]


def test_demo_prints_the_notes_labels():
    r = subprocess.run([sys.executable, "-m", "nablagrad", "demo"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "w4  w2 ** 3" in r.stdout and "w5  exp(w3)" in r.stdout and "w4  sin(w1)" in r.stdout


def _cases():
    for lib in ("ng", "torch"):
        m = ng if lib == "ng" else torch
        yield lib, [
            (lambda x1, x2, m=m: m.exp(x1 * x2) + x2**3, (1.0, 2.0)),
            (lambda x1, x2, m=m: x1 * x2 + m.sin(x1), (2.0, 3.0)),
            (lambda x1, x2, m=m: m.tanh(x1 * x1 + x2) * m.sin(x1 * x2) + x1 / x2, (0.7, -1.3)),  # x1 used many times
        ]


CASES = dict(_cases())


@pytest.mark.parametrize("case", range(3))
def test_sum_over_paths_of_edge_products_is_the_derivative(case):
    (f, at), (f_torch, _) = CASES["ng"][case], CASES["torch"][case]
    ex = ng.explain(lambda x1, x2: f(x1, x2), *at)
    paths = ex.paths()
    xs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in at]
    f_torch(*xs).backward()
    for k, name in enumerate(ex.inputs):
        total = sum(p.product for p in paths if p.input == name)
        assert total == pytest.approx(xs[k].grad.item(), rel=1e-12)
    for p in paths:  # every path starts at an input and ends at the output
        assert p.nodes[0] in ex.input_names and p.nodes[-1] == ex.output.name
    assert "= ∂y/∂x1" in ex.paths_table()


def test_paths_count_each_use_of_a_variable():
    """y = x·x·x: three edges into the first product, three paths, 3x² in all."""
    ex = ng.explain(lambda x: x * x * x, 1.5)
    assert len(ex.paths()) == 3
    assert sum(p.product for p in ex.paths()) == pytest.approx(3 * 1.5**2)
    np.testing.assert_allclose(ex.gradient, [3 * 1.5**2])
