"""viz refuses what it would draw wrong or not at all, naming the argument and the fix (X that
is not (n, 2) or not finite, a label count that does not match, a grid too fine to allocate,
images that are not pictures, counts that are not whole numbers, a file name without a format),
writes nothing when it refuses, and draws named classes, ragged histories and non-MNIST pictures."""

import numpy as np
import pytest

pytest.importorskip("matplotlib")
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import nablagrad as ng  # noqa: E402
from nablagrad import viz  # noqa: E402

X = np.random.default_rng(0).normal(size=(40, 2))
Y = (X[:, 0] > 0).astype(int)
MODEL = ng.nn.MLP([2, 4, 2], seed=0)


@pytest.mark.parametrize("X_, y_, kw, message", [
    (X[:, 0], Y, {}, r"needs X of shape \(n, 2\) with n >= 1 \(two input features\), got shape \(40,\)"),
    (np.zeros((5, 3)), Y[:5], {}, r"got shape \(5, 3\)"),
    (np.zeros((0, 2)), Y[:0], {}, r"got shape \(0, 2\)"),
    (np.array([[0.0, 1.0], [np.nan, 2.0]]), Y[:2], {}, "X must hold finite numbers"),
    (np.array([[0.0, 1.0], [np.inf, 2.0]]), Y[:2], {}, "X must hold finite numbers"),
    (X, Y[:3], {}, "X has 40 rows but y has 3 labels; give one label per row"),
    (X, Y, {"resolution": 1}, "resolution must be a whole number between 2 and 2000, got 1"),
    (X, Y, {"resolution": 10**6}, "resolution must be a whole number between 2 and 2000, got 1000000"),
    (X, Y, {"resolution": 2.5}, "got 2.5"),
])  # fmt: skip
def test_decision_boundary_refuses_what_it_cannot_draw(X_, y_, kw, message):
    with pytest.raises(ValueError, match=message) as exc:
        viz.plot_decision_boundary(MODEL, X_, y_, **kw)
    assert str(exc.value).startswith("plot_decision_boundary: ")


def test_decision_boundary_names_a_model_that_gives_the_wrong_number_of_outputs():
    with pytest.raises(ValueError, match=r"outputs of shape \(3,\) for 400 grid points"):
        viz.plot_decision_boundary(lambda g: np.zeros(3), X, Y, resolution=20)


def test_decision_boundary_draws_named_classes_with_the_predicted_names_colours():
    from sklearn.linear_model import LogisticRegression

    names = np.where(Y == 1, "dog", "cat")
    clf = LogisticRegression().fit(X, names)
    fig = viz.plot_decision_boundary(clf.predict, X, names, resolution=30)
    (points,) = [c for c in fig.axes[0].collections if c.get_offsets().shape[0] == len(X)]
    assert np.array_equal(points.get_array(), (names == "dog").astype(int))  # cat -> 0, dog -> 1
    plt.close(fig)
    # a Module's scores with named labels: the scores stay numbers, the names become codes
    fig = viz.plot_decision_boundary(MODEL, ng.tensor(X), names, resolution=10)
    plt.close(fig)


def test_history_accepts_one_key_a_ragged_validation_curve_and_refuses_what_is_not_a_history():
    fig = viz.plot_history({"loss": [3.0, 2.0, 1.0], "val_loss": [3.5, 2.5]}, keys="loss")
    lines = {line.get_label(): line.get_xydata() for line in fig.axes[0].get_lines()}
    assert lines["loss"].tolist() == [[1, 3.0], [2, 2.0], [3, 1.0]]
    assert lines["val_loss"].tolist() == [[1, 3.5], [2, 2.5]]
    plt.close(fig)
    for bad in (None, [1, 2], "loss"):
        with pytest.raises(TypeError, match="plot_history: expected the History that fit returned"):
            viz.plot_history(bad)
    with pytest.raises(ValueError, match=r"'loss' must hold one value per epoch \(a list\), got 3.0"):
        viz.plot_history({"loss": 3.0})


@pytest.mark.parametrize("images", [np.arange(3 * 64.0).reshape(3, 64), np.arange(3 * 64.0).reshape(3, 8, 8)])
def test_misclassified_draws_pictures_of_their_own_size(images):
    fig = viz.plot_misclassified(images, [1, 2, 3], [0, 2, 0])
    drawn = [np.asarray(im.get_array()) for ax in fig.axes for im in ax.get_images()]
    assert len(drawn) == 2
    assert np.array_equal(drawn[0], images[0].reshape(8, 8)) and np.array_equal(drawn[1], images[2].reshape(8, 8))
    plt.close(fig)


def test_misclassified_and_first_layer_weights_refuse_bad_shapes_and_counts():
    with pytest.raises(ValueError, match=r"images of shape \(3, 10\) are not pictures"):
        viz.plot_misclassified(np.zeros((3, 10)), [1, 2, 3], [0, 2, 3])
    with pytest.raises(ValueError, match="max_images must be a whole number >= 0, got -1"):
        viz.plot_misclassified(np.zeros((3, 784)), [1, 2, 3], [0, 2, 3], max_images=-1)
    for units in (0, -1, 2.5):
        with pytest.raises(ValueError, match=f"max_units must be a whole number >= 1, got {units}"):
            viz.plot_first_layer_weights(np.zeros((784, 4)), max_units=units)
    with pytest.raises(ValueError, match=r"shape must be the picture's \(rows, cols\).*got \(-2, -2\)"):
        viz.plot_first_layer_weights(np.zeros((4, 4)), shape=(-2, -2))


def test_optimizer_paths_take_one_rate_and_refuse_bad_steps_and_starts():
    one = viz.optimizer_paths(0.2, steps=5)
    assert list(one) == [0.2] and np.array_equal(one[0.2], viz.optimizer_paths([0.2], steps=5)[0.2])
    # plain gradient descent by hand: w ← w − η ∇f, ∇f = (2w1 − 10, 4w2 − 20)
    w, expected = np.zeros(2), [np.zeros(2)]
    for _ in range(5):
        w = w - 0.2 * np.array([2 * w[0] - 10, 4 * w[1] - 20])
        expected.append(w)
    np.testing.assert_allclose(one[0.2], expected, rtol=1e-12)
    assert len(viz.optimizer_paths([0.1], steps=0)[0.1]) == 1
    for steps in (-1, 2.5):
        with pytest.raises(ValueError, match=f"steps must be a whole number >= 0, got {steps}"):
            viz.optimizer_paths([0.1], steps=steps)
    with pytest.raises(ValueError, match="start must be a point of finite numbers"):
        viz.optimizer_paths([0.1], start=(0.0, np.nan))


@pytest.mark.parametrize("name, kw, error, message", [
    ("figure.bogus", {}, ValueError, r"cannot tell the format from .*figure.bogus' \(suffix '.bogus'\); end the name with .png"),
    ("figure", {}, ValueError, r"\(no suffix\); end the name with .png, .svg or .pdf"),
    ("figure.png", {"dpi": 0}, ValueError, "dpi must be a positive number, e.g. 110, got 0"),
])  # fmt: skip
def test_save_figure_refuses_before_writing_anything(tmp_path, name, kw, error, message):
    fig = viz.plot_optimizer_paths([0.2], steps=3)
    with pytest.raises(error, match=message):
        viz.save_figure(fig, tmp_path / name, **kw)
    assert list(tmp_path.iterdir()) == []
    assert plt.fignum_exists(fig.number)  # not closed: the caller can save it again
    viz.save_figure(fig, tmp_path / "figure.PNG")
    assert (tmp_path / "figure.PNG").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_save_figure_and_plot_graph_name_what_they_expected():
    with pytest.raises(TypeError, match="save_figure: expected a matplotlib Figure.*got NoneType"):
        viz.save_figure(None, "x.png")
    with pytest.raises(TypeError, match=r"plot_graph: expected what nablagrad.explain returns.*got str"):
        viz.plot_graph("x1 * x2")
