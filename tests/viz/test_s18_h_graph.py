"""The computational graph drawn by viz.plot_graph and written as DOT, for a nested expression: one
arrow per edge, each from its parent's box to its child's and through no other box, and edge labels
whose path products sum to PyTorch's gradient (lecture 002's derivative graph)."""

import re
import xml.etree.ElementTree as ET

import matplotlib
import numpy as np
import pytest
import torch

matplotlib.use("Agg")
from matplotlib.patches import FancyArrowPatch  # noqa: E402
from matplotlib.path import Path  # noqa: E402

import nablagrad as ng  # noqa: E402
from nablagrad import viz  # noqa: E402


def nested(x, y):
    return ng.sin(ng.exp(x * y) + x) * ng.cos(y) / (1 + x**2)


def nested_torch(x, y):
    return torch.sin(torch.exp(x * y) + x) * torch.cos(y) / (1 + x**2)


CASES = [(nested, (0.5, 1.5)), (lambda x: x * x * x, (2.0,)), (lambda x1, x2: ng.exp(x1 * x2) + x2**3, (1.0, 2.0))]


def _boxes(fig):
    """Each node's box in data coordinates, keyed by its name w_i (the text before ' = ')."""
    ax = fig.axes[0]
    fig.canvas.draw()
    inv = ax.transData.inverted()
    out = {}
    for t in ax.texts:
        if t.get_bbox_patch() is not None:
            e = t.get_bbox_patch().get_window_extent()
            (x0, y0), (x1, y1) = inv.transform([(e.x0, e.y0), (e.x1, e.y1)])
            out[t.get_text().split(" = ")[0]] = (x0, y0, x1, y1)
    return out


def _shaft_and_tip(arrow):
    """Points along the drawn shaft (curves evaluated, 40 per segment) and the tip of the arrowhead."""
    path = arrow.get_path()
    head = int(np.flatnonzero(path.codes == Path.MOVETO)[1])  # the head is the second sub-path
    shaft = Path(path.vertices[:head], path.codes[:head])
    pts = [seg(np.linspace(0, 1, 40)) for seg, code in shaft.iter_bezier() if code != Path.MOVETO]
    return np.concatenate(pts), path.vertices[head + 1]


def _near(point, box, tol=0.1):
    x, y = point
    x0, y0, x1, y1 = box
    return x0 - tol <= x <= x1 + tol and y0 - tol <= y <= y1 + tol


def _inside(point, box, margin=0.02):
    x, y = point
    x0, y0, x1, y1 = box
    return x0 + margin < x < x1 - margin and y0 + margin < y < y1 - margin


@pytest.mark.parametrize("f, at", CASES, ids=["nested", "x*x*x", "lecture-000-second"])
def test_every_edge_is_one_arrow_from_its_parent_to_its_child_through_no_other_box(f, at):
    ex = ng.explain(f, *at)
    edges = [(p, r.name) for r in ex.rows for p in r.parents]
    fig = viz.plot_graph(ex)
    boxes = _boxes(fig)
    assert sorted(boxes) == sorted(r.name for r in ex.rows)
    ax = fig.axes[0]  # arrows drawn as patches or as annotations
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)] + [t.arrow_patch for t in ax.texts
                                                                          if getattr(t, "arrow_patch", None)]  # fmt: skip
    assert len(arrows) == len(edges)
    unmatched = list(edges)
    for arrow in arrows:
        pts, tip = _shaft_and_tip(arrow)
        src = [n for n, b in boxes.items() if _near(pts[0], b)]
        dst = [n for n, b in boxes.items() if _near(tip, b)]
        match = [(s, d) for s in src for d in dst if (s, d) in unmatched]
        assert match, f"an arrow from {pts[0]} to {tip} joins no remaining edge of {unmatched}"
        unmatched.remove(match[0])
        others = [b for n, b in boxes.items() if n not in match[0]]
        assert not any(_inside(p, b) for p in pts for b in others), f"the arrow {match[0]} passes through another node"
    assert not unmatched


def _dot_edges(dot):
    return [(a, b, float(v)) for a, b, v in re.findall(r'(\w+) -> (\w+) \[label="([^"]+)"\]', dot)]


def test_dot_of_a_nested_expression_sums_over_paths_to_torchs_gradient():
    at = (0.5, 1.5)
    ex = ng.explain(nested, *at)
    dot = ex.to_dot()
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    edges = _dot_edges(dot)
    assert len(edges) == sum(len(r.parents) for r in ex.rows)
    # ∂y/∂x = Σ over paths of the product of edge labels (lecture 002), computed from the DOT text alone
    into = {}
    for a, b, v in edges:
        into.setdefault(b, []).append((a, v))
    by_name = {r.name: r for r in ex.rows}
    order = [r.name for r in ex.rows]
    adjoint = {n: 0.0 for n in order}
    adjoint[order[-1]] = 1.0
    for n in reversed(order):
        for a, v in into.get(n, []):
            adjoint[a] += adjoint[n] * v
    xs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in at]
    nested_torch(*xs).backward()
    for name, x in zip(ex.input_names, xs):
        assert adjoint[name] == pytest.approx(x.grad.item(), rel=1e-5)  # labels are printed to 6 digits
        assert by_name[name].adjoint == pytest.approx(x.grad.item(), rel=1e-12)


def test_the_graph_saves_as_svg_and_names_are_drawn_verbatim(tmp_path):
    ex = ng.explain(lambda a, b: a * b + ng.sin(a), 2.0, 3.0, names=["$a", "b_1^2"])  # no TeX: '$' is a character
    fig = viz.plot_graph(ex)
    assert "w1 = $a" in [t.get_text().split("\n")[0] for t in fig.axes[0].texts]
    viz.save_figure(fig, tmp_path / "graph.svg")
    assert ET.parse(tmp_path / "graph.svg").getroot().tag.endswith("svg")


def test_decision_boundary_takes_boolean_features():
    X = np.array([[True, False], [False, True], [True, True], [False, False]])
    fig = viz.plot_decision_boundary(lambda g: g[:, 0] - g[:, 1], X, [1, 0, 1, 0], resolution=20)
    assert fig.axes[0].get_xlim()[0] < 0 < 1 < fig.axes[0].get_xlim()[1]


def test_optimizer_paths_name_a_rate_that_is_not_a_number_and_take_a_0d_array():
    for bad in ("0.1", None):
        with pytest.raises(TypeError, match="optimizer_paths: lrs must be a learning rate or a list of them"):
            viz.optimizer_paths(bad)
    paths = viz.optimizer_paths(np.array(0.25), steps=3)
    # one step of gradient descent on the lecture's f from (0, 0): ∇f = (−10, −20)
    np.testing.assert_allclose(paths[0.25][1], [2.5, 5.0])


def test_decision_boundary_names_one_hot_labels():
    X = np.random.default_rng(0).normal(size=(4, 2))
    with pytest.raises(ValueError, match=r"y has shape \(4, 2\).*y.argmax\(1\) for one-hot"):
        viz.plot_decision_boundary(lambda g: g[:, 0], X, np.eye(2)[[0, 1, 0, 1]])
