"""cross_entropy / CrossEntropyLoss with PyTorch's other label layouts: unbatched logits (C,) with a
0-d label, and K-dimensional logits (N, C, d1, …, dK) with labels (N, d1, …, dK) — every reduction,
with weight / ignore_index / label_smoothing, values and gradients against torch; and the (N, C)
options path's all-ignored mean (nan, gradient 0, as torch)."""

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")

C = 4
OPTIONS = {
    "plain": {},
    "weight": {"weight": np.array([0.6, 0.3, 0.05, 1.2])},
    "ignore_index": {"ignore_index": 1},
    "label_smoothing": {"label_smoothing": 0.2},
    "all": {"weight": np.array([0.8, 0.9, 0.6, 0.7]), "ignore_index": 2, "label_smoothing": 0.1},
}
LAYOUTS = {"unbatched": ((C,), ()), "K=1": ((3, C, 5), (3, 5)), "K=2": ((2, C, 3, 2), (2, 3, 2)), "2-D": ((5, C), (5,))}


def _compare(logits, labels, reduction, options, dtype=np.float64):
    x, tx = ng.tensor(logits.astype(dtype), requires_grad=True), torch.tensor(logits.astype(dtype), requires_grad=True)
    t_options = {k: torch.tensor(v.astype(dtype)) if k == "weight" else v for k, v in options.items()}
    ng_options = {k: v.astype(dtype) if k == "weight" else v for k, v in options.items()}
    got = ng.nn.functional.cross_entropy(x, labels, reduction=reduction, **ng_options)
    want = torch.nn.functional.cross_entropy(tx, torch.tensor(labels), reduction=reduction, **t_options)
    assert got.shape == tuple(want.shape) and str(got.dtype) == str(want.dtype).removeprefix("torch.")
    tol = 1e-12 if dtype == np.float64 else 2e-6
    np.testing.assert_allclose(got.numpy(), want.detach().numpy(), rtol=tol, atol=tol)
    w = np.random.default_rng(3).standard_normal(got.shape)
    (got * ng.tensor(w.astype(dtype))).sum().backward()
    (want * torch.tensor(w.astype(dtype))).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=tol, atol=tol)
    module = ng.nn.CrossEntropyLoss(reduction=reduction, **ng_options)
    np.testing.assert_allclose(module(ng.tensor(logits.astype(dtype)), labels).numpy(), got.numpy(), rtol=0, atol=0)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("option", sorted(OPTIONS))
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_cross_entropy_label_layouts_as_torch(layout, option, reduction):
    shape, label_shape = LAYOUTS[layout]
    rng = np.random.default_rng(len(shape) + len(option))
    logits = rng.standard_normal(shape)
    labels = rng.integers(0, C, label_shape)
    if "ignore_index" in OPTIONS[option] and labels.ndim:
        labels.flat[::3] = OPTIONS[option]["ignore_index"]
    _compare(logits, labels, reduction, OPTIONS[option])


def test_cross_entropy_k_dimensional_float32_keeps_float32():
    rng = np.random.default_rng(0)
    _compare(rng.standard_normal((4, C, 6)), rng.integers(0, C, (4, 6)), "mean", {}, dtype=np.float32)


def test_cross_entropy_k_dimensional_gradcheck_float64():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, C, (2, 3))
    weight = np.array([0.5, 1.0, 2.0, 0.25])
    assert ng.gradcheck(
        lambda z: ng.nn.functional.cross_entropy(z, labels, weight=weight, label_smoothing=0.1),
        ng.tensor(rng.standard_normal((2, C, 3))),
    )


@pytest.mark.parametrize("layout", ["unbatched", "2-D"])
def test_cross_entropy_mean_of_only_ignored_labels_is_nan_with_zero_gradient_as_torch(layout):
    shape, label_shape = LAYOUTS[layout]
    logits, labels = np.random.default_rng(2).standard_normal(shape), np.full(label_shape, 1)
    x, tx = ng.tensor(logits, requires_grad=True), torch.tensor(logits, requires_grad=True)
    got = ng.nn.functional.cross_entropy(x, labels, ignore_index=1)
    want = torch.nn.functional.cross_entropy(tx, torch.tensor(labels), ignore_index=1)
    assert np.isnan(got.item()) and np.isnan(want.item())
    got.backward()
    want.backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


def test_cross_entropy_refuses_labels_that_fit_no_layout_naming_the_shapes():
    with pytest.raises(ValueError, match=r"cross_entropy: logits have shape \(3, 4, 5\); the target must be"):
        ng.nn.functional.cross_entropy(ng.tensor(np.zeros((3, C, 5))), np.zeros((3, 4), dtype=np.int64))
