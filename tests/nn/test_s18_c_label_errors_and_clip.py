"""Session 18 (C): a label out of range is PyTorch's ``IndexError`` (a ``ValueError`` too), a bad
``label_smoothing`` or non-integer labels its ``RuntimeError``; ``get_total_norm``, ``clip_grads_with_norm_``,
``clip_grad_value_(foreach=)`` and the promoted dtype of ``clip_grad_norm_``'s return, against torch."""

from __future__ import annotations

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")
F = ng.nn.functional
TF = torch.nn.functional

RNG = np.random.default_rng(1818)
X = RNG.normal(size=(5, 4))
X3 = RNG.normal(size=(2, 4, 3))

BAD_LABELS = {  # (logits, labels, options): each refused by torch with IndexError
    "fused path": (X, np.array([0, 1, 2, 3, 4]), {}),
    "negative": (X, np.array([0, 1, 2, 3, -1]), {}),
    "with weight": (X, np.array([0, 1, 2, 3, 4]), {"weight": np.ones(4)}),
    "with label_smoothing": (X, np.array([0, 1, 2, 3, 4]), {"label_smoothing": 0.1}),
    "with ignore_index": (X, np.array([0, 1, -100, 3, 1]), {"ignore_index": 1}),
    "beside ignored rows": (X, np.array([0, -100, 9, 3, 1]), {}),
    "K-dimensional": (X3, np.full((2, 3), 7), {}),
    "unbatched": (X[0], np.array(4), {}),
}


def _torch_options(options: dict) -> dict:
    return {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}


@pytest.mark.parametrize("case", BAD_LABELS)
@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
def test_a_label_out_of_range_is_torchs_index_error(case, fn):
    logits, labels, options = BAD_LABELS[case]
    if fn == "nll_loss":
        options = {k: v for k, v in options.items() if k != "label_smoothing"}
    with pytest.raises(IndexError):
        getattr(TF, fn)(torch.tensor(logits), torch.tensor(labels), **_torch_options(options))
    with pytest.raises(IndexError, match=r"labels must lie in \[0, 3\]") as caught:
        getattr(F, fn)(ng.tensor(logits), ng.tensor(labels), **options)
    assert isinstance(caught.value, ValueError)  # still a ValueError, as every refused input here


def test_the_loss_modules_raise_the_same_index_error():
    with pytest.raises(IndexError, match=r"labels must lie in \[0, 3\]"):
        ng.nn.CrossEntropyLoss(weight=np.ones(4), label_smoothing=0.2)(ng.tensor(X), ng.tensor(np.array([0, 1, 2, 3, 5])))
    with pytest.raises(IndexError, match=r"labels must lie in \[0, 3\]"):
        ng.nn.NLLLoss()(ng.tensor(X), np.array([0, 1, 2, 3, 5]))


def test_label_smoothing_out_of_range_is_torchs_runtime_error():
    with pytest.raises(RuntimeError, match="label_smoothing"):
        TF.cross_entropy(torch.tensor(X), torch.tensor([0, 1, 2, 3, 0]), label_smoothing=1.5)
    with pytest.raises(RuntimeError, match=r"label_smoothing must lie in \[0, 1\], got 1.5") as caught:
        F.cross_entropy(ng.tensor(X), np.array([0, 1, 2, 3, 0]), label_smoothing=1.5)
    assert isinstance(caught.value, ValueError)


def test_float_labels_are_torchs_runtime_error():
    with pytest.raises(RuntimeError):
        TF.nll_loss(torch.tensor(X), torch.zeros(5, dtype=torch.float64))
    with pytest.raises(RuntimeError, match=r"nll_loss: labels must be integers .* got float64; cast them"):
        F.nll_loss(ng.tensor(X), np.zeros(5))
    with pytest.raises(RuntimeError, match="expected target dtype"):
        TF.cross_entropy(torch.tensor(X), torch.zeros(5, dtype=torch.float64))
    with pytest.raises(RuntimeError, match=r"cross_entropy: .* integer labels of shape \(5,\)"):
        F.cross_entropy(ng.tensor(X), np.zeros(5))


GRADS = [np.array([3.0, -4.0]), np.array([[1.0, 2.0], [-2.0, 0.5]]), np.array(0.25)]


@pytest.mark.parametrize("norm_type", [2.0, 1, 3, 0.5, float("inf"), "inf"])
def test_get_total_norm_is_torchs(norm_type):
    ours = ng.nn.utils.get_total_norm([ng.tensor(g) for g in GRADS] + [None], norm_type)
    theirs = torch.nn.utils.get_total_norm([torch.tensor(g) for g in GRADS], norm_type)
    assert ours.shape == () and ours.dtype == np.float64
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-14)


def test_get_total_norm_error_if_nonfinite_as_torch():
    bad = [np.array([np.inf, 1.0])]
    with pytest.raises(RuntimeError):
        torch.nn.utils.get_total_norm([torch.tensor(g) for g in bad], error_if_nonfinite=True)
    with pytest.raises(RuntimeError, match="get_total_norm: the total norm of order 2.0 .* is inf"):
        ng.nn.utils.get_total_norm([ng.tensor(g) for g in bad], error_if_nonfinite=True)
    assert ng.nn.utils.get_total_norm([ng.tensor(g) for g in bad]).item() == np.inf


def _parameters(lib, dtypes=(np.float64,) * 3):
    out = []
    for g, dt in zip(GRADS, dtypes):
        if lib == "ng":
            p = ng.nn.Parameter(ng.tensor(np.zeros_like(g, dtype=dt)))
            p.grad = ng.tensor(g.astype(dt))
        else:
            p = torch.zeros(g.shape, dtype=getattr(torch, np.dtype(dt).name), requires_grad=True)
            p.grad = torch.tensor(g.astype(dt))
        out.append(p)
    return out


@pytest.mark.parametrize("max_norm, total", [(1.0, 10.0), (20.0, 10.0), (0.0, 2.0)])
def test_clip_grads_with_norm_is_torchs(max_norm, total):
    ours, theirs = _parameters("ng"), _parameters("torch")
    assert ng.nn.utils.clip_grads_with_norm_(ours, max_norm, ng.tensor(np.float64(total))) is None
    torch.nn.utils.clip_grads_with_norm_(theirs, max_norm, torch.tensor(total, dtype=torch.float64))
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=1e-14)


def test_clip_grad_norm_returns_the_promoted_dtype_of_mixed_gradients_as_torch():
    ours = ng.nn.utils.clip_grad_norm_(_parameters("ng", (np.float32, np.float64, np.float64)), 1.0)
    theirs = torch.nn.utils.clip_grad_norm_(_parameters("torch", (np.float32, np.float64, np.float64)), 1.0)
    assert str(theirs.dtype) == "torch.float64" and ours.dtype == np.float64
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-7)


def test_clip_grad_value_takes_torchs_foreach_flag():
    ours, theirs = _parameters("ng"), _parameters("torch")
    ng.nn.utils.clip_grad_value_(ours, 1.0, foreach=True)
    torch.nn.utils.clip_grad_value_(theirs, 1.0, foreach=True)
    for p, t in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.numpy(), t.grad.numpy())
