"""nll_loss / NLLLoss as torch's: weight, ignore_index (-100 by default), the unbatched and K-dimensional
layouts, every reduction — values and gradients."""

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.numpy_only("one oracle run; the loss is the same code on every device")

RNG = np.random.default_rng(0)
CASES = {
    "rows": (RNG.standard_normal((5, 4)), np.array([0, 3, 1, -100, 2])),
    "unbatched": (RNG.standard_normal(4), np.array(2)),
    "2-d positions": (RNG.standard_normal((2, 4, 3)), np.array([[0, 1, -100], [3, 3, 2]])),
}


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", CASES)
def test_nll_loss_equals_torch_s(case, reduction, weighted):
    x0, labels = CASES[case]
    w = np.array([0.5, 2.0, 1.0, 3.0]) if weighted else None
    x, tx = ng.tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
    ours = ng.nn.functional.nll_loss(x, ng.tensor(labels), weight=None if w is None else ng.tensor(w), reduction=reduction)
    theirs = torch.nn.functional.nll_loss(tx, torch.tensor(labels), weight=None if w is None else torch.tensor(w),
                                          reduction=reduction)  # fmt: skip
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-12)
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def test_the_module_takes_weight_and_ignore_index():
    x0, labels = CASES["rows"]
    labels = np.where(labels == -100, 7, labels)
    ours = ng.nn.NLLLoss(weight=ng.tensor([1.0, 2.0, 3.0, 4.0]), ignore_index=7)(ng.tensor(x0), ng.tensor(labels))
    theirs = torch.nn.NLLLoss(weight=torch.tensor([1.0, 2.0, 3.0, 4.0]).double(), ignore_index=7)(
        torch.tensor(x0), torch.tensor(labels)
    )
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


def test_labels_of_the_wrong_shape_name_nll_loss():
    with pytest.raises(ValueError, match="nll_loss: log-probabilities of shape"):
        ng.nn.functional.nll_loss(ng.tensor(np.zeros((2, 3))), ng.tensor([0, 1, 2]))
