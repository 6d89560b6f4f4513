import numpy as np
import pytest

import nablagrad as ng
from nablagrad import viz


def test_optimizer_paths_show_small_good_and_too_large_learning_rates():
    """Lecture 003: a too small rate creeps, a good one converges, a too large one diverges."""
    paths = viz.optimizer_paths([0.02, 0.2, 0.52], steps=30)
    dist = {lr: np.linalg.norm(p[-1] - [5, 5]) for lr, p in paths.items()}
    assert dist[0.2] < 1e-4
    assert 0.5 < dist[0.02] < 5
    assert dist[0.52] > 10  # |1 − 4μ| > 1 along x2: oscillates with growing amplitude
    assert viz.lecture_function(np.array([5.0, 5.0])) == 0


@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_every_plot_renders(tmp_path, suffix):
    X, y = ng.data.make_xor(100, seed=0)
    m = ng.nn.MLP([2, 4, 1], seed=0)
    h = ng.train.fit(m, "bce_with_logits", ng.optim.Adam(m.parameters(), lr=0.01), X, y.reshape(-1, 1), epochs=2,
                     metrics=["accuracy"], validation_data=(X, y.reshape(-1, 1)))  # fmt: skip
    Xd, yd, _, _ = ng.data.load_mnist(flatten=True)
    figures = {
        "history": viz.plot_history(h),
        "boundary": viz.plot_decision_boundary(m, X, y),
        "confusion": viz.plot_confusion_matrix(yd[:50], np.roll(yd[:50], 1)),
        "wrong": viz.plot_misclassified(Xd[:50], yd[:50], np.roll(yd[:50], 1)),
        "weights": viz.plot_first_layer_weights(ng.nn.Linear(784, 16).weight),
        "paths": viz.plot_optimizer_paths(),
        "graph": viz.plot_graph(ng.explain(lambda x1, x2: x1 * x2 + ng.sin(x1), 2.0, 3.0)),
    }
    for name, fig in figures.items():
        path = tmp_path / f"{name}.{suffix}"
        viz.save_figure(fig, path)
        assert path.stat().st_size > 1000, name
