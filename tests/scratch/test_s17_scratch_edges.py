"""The hand-written layers refuse what would give a wrong gradient silently (a backward before
forward, an upstream gradient of another shape that NumPy would broadcast, integer labels given to
a loss on one-hot targets, a batch size of 0) and name the fix; the gradients they do give still
equal PyTorch's."""

import numpy as np
import pytest
import torch

from nablagrad import scratch


@pytest.mark.parametrize("layer", [scratch.Dense(3, 2, seed=0), scratch.Sigmoid(), scratch.Tanh(), scratch.ReLU(),
                                   scratch.Softmax()], ids=lambda x: type(x).__name__)  # fmt: skip
def test_backward_before_forward_says_to_call_forward(layer):
    with pytest.raises(RuntimeError, match=rf"{type(layer).__name__}.backward: call forward\(inputs\) first"):
        layer.backward(np.ones((4, 2)))


@pytest.mark.parametrize("loss", [scratch.MSE(), scratch.CrossEntropy()], ids=lambda x: type(x).__name__)
def test_loss_backward_before_forward_says_to_call_forward(loss):
    with pytest.raises(RuntimeError, match="call forward\\(outputs, targets\\) first"):
        loss.backward()


@pytest.mark.parametrize("layer, x", [(scratch.Dense(3, 2, seed=0), np.ones((4, 3))), (scratch.Sigmoid(), np.ones((4, 2))),
                                      (scratch.Tanh(), np.ones((4, 2))), (scratch.ReLU(), np.ones((4, 2))),
                                      (scratch.Softmax(), np.ones((4, 2)))], ids=lambda x: type(x).__name__)  # fmt: skip
@pytest.mark.parametrize("shape", [(4, 1), (1, 2), (4, 5), (2,)])
def test_an_upstream_gradient_of_another_shape_is_refused_not_broadcast(layer, x, shape):
    layer.forward(x)
    with pytest.raises(ValueError, match=rf"dL_dZ has shape \({shape[0]},{' ' + str(shape[1]) if len(shape) > 1 else ''}\) "
                                         r"but the layer's output has shape \(4, 2\)"):  # fmt: skip
        layer.backward(np.ones(shape))


def test_hand_written_gradients_still_equal_torchs():
    rng = np.random.default_rng(0)
    W1, b1, W2, b2 = rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(4, 2)), rng.normal(size=2)
    X, Y = rng.normal(size=(5, 3)), np.eye(2)[[0, 1, 1, 0, 1]]
    net = scratch.Network([scratch.Dense(3, 4, weight=W1, bias_value=b1), scratch.Tanh(),
                           scratch.Dense(4, 2, weight=W2, bias_value=b2), scratch.Softmax()], scratch.CrossEntropy())  # fmt: skip
    value = net.loss(net.forward(X), Y)
    dX = net.backward()
    t = [torch.tensor(a, requires_grad=True) for a in (X, W1, b1, W2, b2)]
    logits = torch.tanh(t[0] @ t[1] + t[2]) @ t[3] + t[4]
    ref = torch.nn.functional.cross_entropy(logits, torch.tensor(Y.argmax(1)))
    ref.backward()
    assert value == pytest.approx(ref.item(), rel=1e-12)
    for mine, theirs in zip([dX, *[g for _, g in net.params_and_grads()]], t):
        np.testing.assert_allclose(mine, theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_class_labels_given_to_a_one_hot_loss_name_the_encoding():
    with pytest.raises(ValueError, match=r"outputs have shape \(3, 2\) but targets \(3,\); one-hot encode class labels"):
        scratch.CrossEntropy().forward(np.full((3, 2), 0.5), np.array([0, 1, 1]))
    with pytest.raises(ValueError, match=r"needs a batch of at least one example"):
        scratch.MSE().forward(np.zeros((0, 2)), np.zeros((0, 2)))


@pytest.mark.parametrize("kwargs, message", [
    ({"in_features": 0, "out_features": 2}, "in_features must be a whole number >= 1, got 0"),
    ({"in_features": 3, "out_features": -1}, "out_features must be a whole number >= 1, got -1"),
    ({"in_features": 2.5, "out_features": 2}, "in_features must be a whole number >= 1, got 2.5"),
    ({"in_features": 3, "out_features": 2, "bias_value": [1, 2, 3]}, r"bias_value has shape \(3,\); give one number or 2"),
])  # fmt: skip
def test_dense_refuses_bad_sizes(kwargs, message):
    with pytest.raises(ValueError, match=message):
        scratch.Dense(**kwargs)


def _net():
    return scratch.Network([scratch.Dense(3, 2, seed=0), scratch.Sigmoid()], scratch.MSE())


@pytest.mark.parametrize("kwargs, message", [
    ({"batch_size": 0}, "batch_size must be a whole number >= 1, got 0"),
    ({"batch_size": -1}, "batch_size must be a whole number >= 1, got -1"),
    ({"batch_size": 2.5}, "batch_size must be a whole number >= 1, got 2.5"),
    ({"epochs": -1}, "epochs must be a whole number >= 0, got -1"),
    ({"lr": float("nan")}, "lr must be a finite number >= 0"),
    ({"Y": np.zeros((4, 2))}, "X has 6 rows and Y 4"),
])  # fmt: skip
def test_fit_refuses_bad_arguments_and_changes_no_weight(kwargs, message):
    net = _net()
    before = [p.copy() for p, _ in net.params_and_grads()]
    args = {"X": np.ones((6, 3)), "Y": np.zeros((6, 2)), "lr": 0.1, "epochs": 2, **kwargs}
    with pytest.raises(ValueError, match=message):
        net.fit(**args)
    assert all(np.array_equal(a, p) for a, (p, _) in zip(before, net.params_and_grads()))


def test_fit_without_a_batch_size_takes_the_whole_batch_and_a_network_needs_layers_and_a_loss():
    a, b = _net(), _net()
    X, Y = np.random.default_rng(1).normal(size=(6, 3)), np.full((6, 2), 0.5)
    assert a.fit(X, Y, 0.1, 3, seed=0) == b.fit(X, Y, 0.1, 3, batch_size=6, seed=0)
    with pytest.raises(TypeError, match="every layer needs forward and backward"):
        scratch.Network([3], scratch.MSE())
    with pytest.raises(TypeError, match="loss must be a scratch loss"):
        scratch.Network([scratch.Sigmoid()], None)
    with pytest.raises(ValueError, match=r"Softmax: expected scores of shape \(batch, classes\), got \(3,\)"):
        scratch.Softmax().forward(np.zeros(3))
