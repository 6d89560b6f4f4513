"""Layers, activations and losses: values and gradients against PyTorch in float64 (1e-10)."""

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.nn import functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

RTOL = 1e-10


def _pair(a):
    return ng.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def _check(out, tout, pairs):
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=RTOL, atol=1e-12)
    cot = np.random.default_rng(3).standard_normal(tout.shape)
    (out * ng.tensor(cot)).sum().backward()
    (tout * torch.tensor(cot)).sum().backward()
    for a, t in pairs:
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=RTOL, atol=1e-12)


def test_linear_is_xw_plus_b_and_matches_torch(rng):
    lin = ng.nn.Linear(5, 3, dtype="float64")
    assert lin.weight.shape == (5, 3) and lin.bias.shape == (3,)
    tl = torch.nn.Linear(5, 3, dtype=torch.float64)
    with torch.no_grad():
        tl.weight.copy_(torch.tensor(lin.weight.numpy().T))
        tl.bias.copy_(torch.tensor(lin.bias.numpy()))
    x, tx = _pair(rng.standard_normal((7, 5)))
    out, tout = lin(x), tl(tx)
    _check(out, tout, [(x, tx)])
    np.testing.assert_allclose(lin.weight.grad.numpy(), tl.weight.grad.numpy().T, rtol=RTOL)
    np.testing.assert_allclose(lin.bias.grad.numpy(), tl.bias.grad.numpy(), rtol=RTOL)


def test_linear_backward_is_the_lecture_formula(rng):
    """dL/dW = Xᵀ dL/dZ, dL/dX = dL/dZ Wᵀ, dL/db = column sums of dL/dZ (lecture 002)."""
    lin = ng.nn.Linear(4, 2, dtype="float64")
    X = ng.tensor(rng.standard_normal((6, 4)), requires_grad=True)
    G = rng.standard_normal((6, 2))
    (lin(X) * ng.tensor(G)).sum().backward()
    np.testing.assert_allclose(lin.weight.grad.numpy(), X.numpy().T @ G, rtol=1e-12)
    np.testing.assert_allclose(X.grad.numpy(), G @ lin.weight.numpy().T, rtol=1e-12)
    np.testing.assert_allclose(lin.bias.grad.numpy(), G.sum(axis=0), rtol=1e-12)


ACTIVATIONS = {
    "sigmoid": (ng.nn.Sigmoid(), torch.sigmoid),
    "tanh": (ng.nn.Tanh(), torch.tanh),
    "relu": (ng.nn.ReLU(), torch.relu),
    "leaky_relu": (ng.nn.LeakyReLU(0.01), lambda x: TF.leaky_relu(x, 0.01)),
    "abs": (ng.nn.Abs(), torch.abs),
    "identity": (ng.nn.Identity(), lambda x: x * 1),
    "softmax": (ng.nn.Softmax(), lambda x: torch.softmax(x, -1)),
    "log_softmax": (ng.nn.LogSoftmax(), lambda x: torch.log_softmax(x, -1)),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_matches_torch(name, rng):
    mod, tf = ACTIVATIONS[name]
    x, tx = _pair(rng.standard_normal((4, 5)))
    _check(mod(x), tf(tx), [(x, tx)])


def test_prelu_learns_its_slope_like_torch(rng):
    m = ng.nn.PReLU(dtype="float64")
    tm = torch.nn.PReLU(dtype=torch.float64)
    x, tx = _pair(rng.standard_normal((4, 5)))
    _check(m(x), tm(tx), [(x, tx)])
    np.testing.assert_allclose(m.weight.grad.numpy(), tm.weight.grad.numpy(), rtol=RTOL)


def test_step_has_zero_gradient():
    x = ng.tensor([-1.0, 0.5, 2.0], requires_grad=True)
    y = ng.nn.Step()(x)
    np.testing.assert_array_equal(y.numpy(), [0, 1, 1])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0, 0])


def test_generalized_relu_formula(rng):
    z = rng.standard_normal(10)
    for alpha in (-1.0, 0.0, 0.01, 0.3):
        np.testing.assert_allclose(F.generalized_relu(ng.tensor(z), alpha).numpy(), np.maximum(0, z) + alpha * np.minimum(0, z))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_losses_match_torch(reduction, rng):
    p, tp = _pair(rng.standard_normal((6, 3)))
    y = rng.standard_normal((6, 3))
    _check(ng.nn.MSELoss(reduction)(p, y), TF.mse_loss(tp, torch.tensor(y), reduction=reduction), [(p, tp)])
    p, tp = _pair(rng.standard_normal((6, 3)))
    _check(ng.nn.L1Loss(reduction)(p, y), TF.l1_loss(tp, torch.tensor(y), reduction=reduction), [(p, tp)])


def test_squared_error_loss_is_half_norm_and_gradient_is_o_minus_y(rng):
    o = ng.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    y = rng.standard_normal((5, 3))
    loss = ng.nn.SquaredErrorLoss(reduction="sum")(o, y)
    assert loss.item() == pytest.approx(0.5 * ((o.numpy() - y) ** 2).sum())
    loss.backward()
    np.testing.assert_allclose(o.grad.numpy(), o.numpy() - y, rtol=1e-12)


def test_mape_matches_sklearn_formula(rng):
    from sklearn.metrics import mean_absolute_percentage_error

    o, y = rng.standard_normal(20), rng.standard_normal(20)
    assert ng.nn.MAPELoss()(ng.tensor(o), y).item() == pytest.approx(mean_absolute_percentage_error(y, o), rel=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_labels_and_probabilities_match_torch(reduction, rng):
    logits = rng.standard_normal((6, 4)) * 3
    labels = rng.integers(0, 4, 6)
    x, tx = _pair(logits)
    _check(
        ng.nn.CrossEntropyLoss(reduction)(x, labels), TF.cross_entropy(tx, torch.tensor(labels), reduction=reduction), [(x, tx)]
    )
    probs = rng.dirichlet(np.ones(4), size=6)
    x, tx = _pair(logits)
    _check(ng.nn.CrossEntropyLoss(reduction)(x, probs), TF.cross_entropy(tx, torch.tensor(probs), reduction=reduction), [(x, tx)])
    x, tx = _pair(np.log(probs))
    _check(ng.nn.NLLLoss(reduction)(x, labels), TF.nll_loss(tx, torch.tensor(labels), reduction=reduction), [(x, tx)])


def test_cross_entropy_is_negative_log_likelihood_and_kl_to_empirical(rng):
    """CE = NLL = KL(one-hot ‖ softmax) since the one-hot's entropy is 0 (lecture 001)."""
    logits, labels = rng.standard_normal((5, 3)), rng.integers(0, 3, 5)
    onehot = np.eye(3)[labels]
    ce = ng.nn.functional.cross_entropy(ng.tensor(logits), labels).item()
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    kl = np.mean(np.sum(np.where(onehot > 0, onehot * np.log(np.where(onehot > 0, onehot, 1) / p), 0), axis=1))
    assert ce == pytest.approx(kl, rel=1e-12)
    assert ce == pytest.approx(ng.nn.functional.cross_entropy(ng.tensor(logits), onehot).item(), rel=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_cross_entropy_matches_torch(reduction, rng):
    probs = rng.uniform(0.05, 0.95, (8, 1))
    y = rng.integers(0, 2, (8, 1)).astype(float)
    x, tx = _pair(probs)
    _check(ng.nn.BCELoss(reduction)(x, y), TF.binary_cross_entropy(tx, torch.tensor(y), reduction=reduction), [(x, tx)])
    logits = rng.standard_normal((8, 1)) * 4
    x, tx = _pair(logits)
    _check(
        ng.nn.BCEWithLogitsLoss(reduction)(x, y),
        TF.binary_cross_entropy_with_logits(tx, torch.tensor(y), reduction=reduction),
        [(x, tx)],
    )


def test_bce_with_logits_is_stable_and_equals_composite():
    z = ng.tensor([-300.0, -150.0, -1.0, 0.0, 2.0, 150.0, 300.0], dtype="float64", requires_grad=True)
    y = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0])
    loss = F.binary_cross_entropy_with_logits(z, y, reduction="none")
    tz = torch.tensor(z.numpy(), requires_grad=True)
    tl = TF.binary_cross_entropy_with_logits(tz, torch.tensor(y), reduction="none")
    np.testing.assert_allclose(loss.numpy(), tl.detach().numpy(), rtol=1e-12, atol=1e-60)  # ours keeps e^-150
    loss.sum().backward()
    tl.sum().backward()
    np.testing.assert_allclose(z.grad.numpy(), tz.grad.numpy(), rtol=1e-12)
    zm = np.array([-3.0, 0.5, 2.0])
    composite = -(y[:3] * np.log(1 / (1 + np.exp(-zm))) + (1 - y[:3]) * np.log(1 - 1 / (1 + np.exp(-zm))))
    np.testing.assert_allclose(F.binary_cross_entropy_with_logits(ng.tensor(zm), y[:3], "none").numpy(), composite)
    assert ng.gradcheck(lambda a: F.binary_cross_entropy_with_logits(a, y[:3]), zm)


def test_hinge_and_perceptron_losses(rng):
    s = rng.standard_normal(10)
    y = rng.choice([-1.0, 1.0], 10)
    assert F.hinge_loss(ng.tensor(s), y).item() == pytest.approx(np.maximum(0, 1 - y * s).mean())
    assert F.perceptron_loss(ng.tensor(s), y).item() == pytest.approx(np.maximum(0, -y * s).mean())
    x, tx = _pair(s)
    _check(F.hinge_loss(x, y, "none"), torch.clamp(1 - torch.tensor(y) * tx, min=0), [(x, tx)])
    with pytest.raises(ValueError, match="−1 or \\+1"):
        F.hinge_loss(ng.tensor(s), np.abs(y) * 0)


def test_loss_errors_are_clear():
    with pytest.raises(ValueError, match="reduction"):
        ng.nn.MSELoss("avg")
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\]"):
        F.cross_entropy(ng.tensor(np.zeros((2, 3))), np.array([0, 3]))
    with pytest.raises(ValueError, match="shape"):
        F.mse_loss(ng.tensor(np.zeros((2, 3))), np.zeros(5))


def test_penalties_skip_biases():
    m = ng.nn.MLP([3, 4, 2], seed=0)
    names = [n for n, _ in m.named_parameters()]
    assert len(ng.nn.penalised_parameters(m)) == 2 and len(names) == 4
    expected = sum((p.numpy() ** 2).sum() for n, p in m.named_parameters() if n.endswith("weight"))
    assert ng.nn.l2_penalty(m, 0.5).item() == pytest.approx(0.5 * expected, rel=1e-6)
    expected1 = sum(np.abs(p.numpy()).sum() for n, p in m.named_parameters() if n.endswith("weight"))
    assert ng.nn.l1_penalty(m, 0.1).item() == pytest.approx(0.1 * expected1, rel=1e-6)


def test_dropout_keeps_the_expectation_in_training_and_is_the_identity_in_evaluation():
    drop = ng.nn.Dropout(0.25, seed=0)
    x = ng.tensor(np.ones((400, 50)), requires_grad=True)
    y = drop(x)
    kept = y.numpy() != 0
    assert abs(kept.mean() - 0.75) < 0.01 and np.allclose(y.numpy()[kept], 1 / 0.75)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), kept / 0.75)  # the mask's gradient, as PyTorch's dropout
    drop.eval()
    np.testing.assert_array_equal(drop(x).numpy(), x.numpy())
    with pytest.raises(ValueError, match="p must lie in"):
        ng.nn.Dropout(1.5)
    everything = ng.nn.Dropout(1.0, seed=0)  # as torch: every entry dropped, zero gradient
    z = ng.tensor(np.ones((3, 4)), requires_grad=True)
    out = everything(z)
    out.sum().backward()
    assert not out.numpy().any() and not z.grad.numpy().any()


def test_mlp_takes_one_activation_per_hidden_layer_and_dropout():
    m = ng.nn.MLP([2, 3, 4, 1], activation=["step", "prelu"], dropout=0.1, seed=0)
    assert [type(k).__name__ for k in m] == ["Linear", "Step", "Dropout", "Linear", "PReLU", "Dropout", "Linear"]
    with pytest.raises(ValueError, match="3 activations for 2 hidden layers"):
        ng.nn.MLP([2, 3, 4, 1], activation=["tanh"] * 3)
