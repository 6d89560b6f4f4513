"""viz refuses what it cannot draw right (length mismatches, weights that are not one per pixel)
and accepts a model where the first layer's weights are meant; what it draws is checked against
scikit-learn's confusion matrix and the model's own parameters."""

import numpy as np
import pytest

pytest.importorskip("matplotlib")
import matplotlib  # noqa: E402

matplotlib.use("Agg")
from sklearn.metrics import confusion_matrix as sk_confusion_matrix  # noqa: E402

import nablagrad as ng  # noqa: E402
from nablagrad import viz  # noqa: E402


def _drawn(fig) -> list[np.ndarray]:
    return [np.asarray(im.get_array()) for ax in fig.axes for im in ax.get_images()]


@pytest.mark.parametrize("labels", [None, [2, 0, 1], [0, 1]])
def test_confusion_matrix_draws_scikit_learns_counts(labels):
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 3, 60), rng.integers(0, 3, 60)
    (drawn,) = _drawn(viz.plot_confusion_matrix(y_true, y_pred, labels=labels))
    assert np.array_equal(drawn, sk_confusion_matrix(y_true, y_pred, labels=labels))


@pytest.mark.parametrize("y_true, y_pred", [([0, 1], [0]), ([0], [0, 1, 1]), (np.zeros(5), np.zeros(4))])
def test_confusion_matrix_refuses_a_length_mismatch(y_true, y_pred):
    with pytest.raises(ValueError, match=f"y_true has {len(y_true)} samples but y_pred has {len(y_pred)}"):
        viz.plot_confusion_matrix(y_true, y_pred)
    with pytest.raises(ValueError):  # the oracle refuses it too
        sk_confusion_matrix(y_true, y_pred)


def test_first_layer_weights_of_a_model_are_its_first_linear_layers():
    model = ng.nn.MLP([784, 16, 10], seed=3)
    W = model[0].weight.numpy()  # (in, out) = (784, 16)
    by_model = _drawn(viz.plot_first_layer_weights(model))
    for given in (model[0], model[0].weight, W):
        assert all(np.array_equal(a, b) for a, b in zip(by_model, _drawn(viz.plot_first_layer_weights(given))))
    assert len(by_model) == 16
    for k, image in enumerate(by_model):  # unit k's incoming weights, one per pixel
        assert np.array_equal(image, W[:, k].reshape(28, 28))


def test_first_layer_weights_that_are_not_one_per_pixel_are_refused_with_the_shape_and_the_fix():
    with pytest.raises(ValueError, match=r"weights of shape \(2, 8\) do not have 784 inputs.*ng.nn.MLP\(\[784, 16, 10\]\)"):
        viz.plot_first_layer_weights(ng.nn.MLP([2, 8, 1]))
    with pytest.raises(ValueError, match=r"shape \(16, 784\).*pass W.T"):  # PyTorch's (out, in) layout
        viz.plot_first_layer_weights(np.zeros((16, 784)))
    with pytest.raises(ValueError, match=r"shape \(100,\)"):
        viz.plot_first_layer_weights(np.zeros(100))
    with pytest.raises(ValueError, match="ReLU has no Linear layer"):
        viz.plot_first_layer_weights(ng.nn.ReLU())
    small = np.arange(20.0).reshape(4, 5)  # 2×2 pictures: shape= says so
    assert np.array_equal(_drawn(viz.plot_first_layer_weights(small, shape=(2, 2)))[1], small[:, 1].reshape(2, 2))


def test_misclassified_and_history_refuse_what_they_cannot_draw():
    with pytest.raises(ValueError, match="one image and one label per sample"):
        viz.plot_misclassified(np.zeros((3, 784)), np.zeros((3, 784)), np.zeros(3))
    with pytest.raises(ValueError, match="plot_history: nothing to plot"):
        viz.plot_history({})
