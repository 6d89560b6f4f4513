"""The worked examples of lecture 000, with the exact numbers of their tables."""

import math

import pytest

import nablagrad as ng


def test_forward_and_reverse_tables_of_x1x2_plus_sin_x1():
    x1, x2 = 2.0, 3.0
    ex = ng.explain(lambda x1, x2: x1 * x2 + ng.sin(x1), x1, x2)
    assert [r.expr for r in ex.rows] == ["x1", "x2", "w1 * w2", "sin(w1)", "w3 + w4"]
    w = {r.name: r for r in ex.rows}
    # values
    assert w["w3"].value == x1 * x2
    assert w["w4"].value == pytest.approx(math.sin(x1), abs=1e-15)
    assert w["w5"].value == pytest.approx(x1 * x2 + math.sin(x1), abs=1e-15)
    # forward table, seed (ẇ1, ẇ2) = (1, 0): ẇ3 = w2, ẇ4 = cos w1, ẇ5 = x2 + cos x1
    assert [r.tangents[0] for r in ex.rows] == pytest.approx([1, 0, x2, math.cos(x1), x2 + math.cos(x1)], abs=1e-15)
    # second pass, seed (0, 1)
    assert [r.tangents[1] for r in ex.rows] == pytest.approx([0, 1, x1, 0, x1], abs=1e-15)
    # reverse table: w̄5 = 1, w̄4 = w̄3 = w̄5, w̄2 = w̄3 w1, w̄1 = w̄3 w2 + w̄4 cos w1
    assert w["w5"].adjoint == 1 and w["w4"].adjoint == 1 and w["w3"].adjoint == 1
    assert w["w2"].adjoint == pytest.approx(x1, abs=1e-15)
    assert w["w1"].adjoint == pytest.approx(x2 + math.cos(x1), abs=1e-15)
    text = str(ex)
    assert "Forward mode" in text and "Reverse mode" in text and "sin(w1)" in text


def test_reverse_example_exp_x1x2_plus_x2_cubed():
    x1, x2 = 1.0, 2.0
    ex = ng.explain(lambda x1, x2: ng.exp(x1 * x2) + x2**3, x1, x2)
    rows = {r.expr: r for r in ex.rows}
    e = math.exp(x1 * x2)
    # the lecture's w3 = w1 w2, w5 = e^{w3}, w4 = w2^3, w6 = w4 + w5
    assert rows["w1 * w2"].value == x1 * x2
    assert rows["exp(w3)"].value == pytest.approx(e, rel=1e-15)
    assert rows["w2 ** 3"].value == x2**3
    assert ex.output.value == pytest.approx(e + x2**3, rel=1e-15)
    # adjoints: w̄6 = 1, w̄5 = w̄4 = 1, w̄3 = e^{w3}, w̄2 = w1 w̄3 + 3 w2² w̄4, w̄1 = w2 w̄3
    assert ex.output.adjoint == 1
    assert rows["exp(w3)"].adjoint == 1 and rows["w2 ** 3"].adjoint == 1
    assert rows["w1 * w2"].adjoint == pytest.approx(e, rel=1e-15)
    assert ex.gradient == pytest.approx([x2 * e, x1 * e + 3 * x2**2], rel=1e-15)


def test_dot_graph_edges_carry_local_derivatives():
    ex = ng.explain(lambda x1, x2: x1 * x2 + ng.sin(x1), 2.0, 3.0)
    dot = ex.to_dot()
    assert dot.startswith("digraph")
    assert 'w1 -> w3 [label="3"]' in dot  # ∂w3/∂w1 = w2 = 3
    assert 'w2 -> w3 [label="2"]' in dot
    assert f'w1 -> w4 [label="{math.cos(2.0):.6g}"]' in dot


def test_dot_escapes_quotes_and_backslashes_in_names():
    dot = ng.explain(lambda a: a * 2, 1.0, names=['x"y\\z']).to_dot()
    assert 'w1 = x\\"y\\\\z\\n' in dot  # a quoted DOT string stays one string
    body = dot.split("[label=", 1)[1]
    assert body.count('"') - body.count('\\"') >= 2 and 'w1 -> w2 [label="2"]' in dot
