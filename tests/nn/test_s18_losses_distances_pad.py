"""PyTorch's further losses (functional and modules), F.cosine_similarity, F.pairwise_distance and F.pad against
torch 2.13 in float64: values, gradients of every input torch differentiates, every reduction, the legacy
size_average/reduce pair, and the argument checks (error types torch raises)."""

from __future__ import annotations

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")
TF = torch.nn.functional
NF = ng.nn.functional
pytestmark = pytest.mark.numpy_only("compares with torch on host arrays")

REDUCTIONS = ["mean", "sum", "none"]
N, C, D = 6, 4, 5


def _rng(k: int = 0) -> np.random.Generator:
    return np.random.default_rng(k)


def _compare(ours, theirs, arrays, grad_of, **kw) -> None:
    """``ours(*arrays, **kw)`` and ``theirs(...)`` with the same float64 inputs: values, then the gradients of the
    inputs ``grad_of`` under a random upstream gradient."""
    ts = [torch.tensor(a, requires_grad=i in grad_of) if isinstance(a, np.ndarray) else a for i, a in enumerate(arrays)]
    ns = [ng.tensor(a, requires_grad=i in grad_of) if isinstance(a, np.ndarray) else a for i, a in enumerate(arrays)]
    tkw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    rt, rn = theirs(*ts, **tkw), ours(*ns, **kw)
    assert rn.shape == tuple(rt.shape)
    np.testing.assert_allclose(rn.numpy(), rt.detach().numpy(), rtol=1e-12, atol=1e-14)
    up = _rng(7).standard_normal(tuple(rt.shape))
    (rt * torch.tensor(up)).sum().backward()
    (rn * ng.tensor(up)).sum().backward()
    for i in grad_of:
        np.testing.assert_allclose(ns[i].grad.numpy(), ts[i].grad.numpy(), rtol=1e-11, atol=1e-13, err_msg=f"input {i}")


def _x(shape=(N, C), k=0):
    return _rng(k).standard_normal(shape)


def _signs(shape, k=1):
    return np.sign(_rng(k).standard_normal(shape))


# name, ours, theirs, arrays, inputs torch differentiates, option sets
CASES = [
    ("soft_margin", "soft_margin_loss", [_x(), _signs((N, C))], [0], [{}]),
    ("margin_ranking", "margin_ranking_loss", [_x((N,)), _x((N,), 2), _signs((N,))], [0, 1], [{}, {"margin": 0.5}]),
    ("poisson_log", "poisson_nll_loss", [_x(), _rng(3).poisson(2.0, (N, C)).astype(float)], [0, 1], [{}]),
    ("poisson_rate", "poisson_nll_loss", [_rng(4).uniform(0.1, 3, (N, C)), _rng(3).poisson(2.0, (N, C)).astype(float)],
     [0, 1], [{"log_input": False}]),
    # full=True: torch's gradient with respect to a target <= 1 is NaN (the masked log 0); ours is finite, so only the
    # input's gradient is compared
    ("poisson_full", "poisson_nll_loss", [_x(), _rng(3).poisson(2.0, (N, C)).astype(float)], [0], [{"full": True}]),
    ("poisson_rate_full", "poisson_nll_loss", [_rng(4).uniform(0.1, 3, (N, C)),
     _rng(3).poisson(2.0, (N, C)).astype(float)], [0], [{"log_input": False, "full": True, "eps": 1e-3}]),
    ("gaussian", "gaussian_nll_loss", [_x(), _x(k=2), _rng(5).uniform(0.1, 2, (N, C))], [0, 1, 2],
     [{}, {"full": True}, {"eps": 1e-3}]),
    ("gaussian_row_var", "gaussian_nll_loss", [_x(), _x(k=2), _rng(5).uniform(0.1, 2, (N,))], [0, 1, 2], [{}]),
    ("gaussian_var_axis_1", "gaussian_nll_loss", [_x(), _x(k=2), _rng(5).uniform(0.1, 2, (N, 1))], [0, 1, 2], [{}]),
    ("cosine_embedding", "cosine_embedding_loss", [_x((N, D)), _x((N, D), 2), _signs((N,), 3)], [0, 1],
     [{}, {"margin": 0.3}, {"margin": -0.2}]),
    ("triplet", "triplet_margin_loss", [_x((N, D)), _x((N, D), 2), _x((N, D), 3)], [0, 1, 2],
     [{}, {"margin": 0.5}, {"p": 1.0}, {"p": 3.0, "eps": 1e-3}, {"swap": True}, {"swap": True, "margin": 2.0}]),
]  # fmt: skip
PARAMS = [(name, fn, arrays, grads, kw) for name, fn, arrays, grads, kws in CASES for kw in kws]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name, fn, arrays, grads, kw", PARAMS, ids=[f"{p[0]}-{p[4]}" for p in PARAMS])
def test_functional_loss_is_torchs(name, fn, arrays, grads, kw, reduction):
    _compare(getattr(NF, fn), getattr(TF, fn), arrays, grads, reduction=reduction, **kw)


MODULES = {"soft_margin": "SoftMarginLoss", "margin_ranking": "MarginRankingLoss", "cosine_embedding": "CosineEmbeddingLoss",
           "triplet": "TripletMarginLoss",
           **{k: "PoissonNLLLoss" for k in ("poisson_log", "poisson_rate", "poisson_full", "poisson_rate_full")},
           **{k: "GaussianNLLLoss" for k in ("gaussian", "gaussian_row_var", "gaussian_var_axis_1")}}  # fmt: skip


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name, fn, arrays, grads, kw", PARAMS, ids=[f"{p[0]}-{p[4]}" for p in PARAMS])
def test_loss_module_is_torchs(name, fn, arrays, grads, kw, reduction):
    cls = MODULES[name]
    _compare(getattr(ng.nn, cls)(reduction=reduction, **kw), getattr(torch.nn, cls)(reduction=reduction, **kw),
             arrays, grads)  # fmt: skip


def test_gaussian_nll_var_as_a_float_and_a_var_below_eps_as_torch():
    x, y = _x(), _x(k=2)
    _compare(NF.gaussian_nll_loss, TF.gaussian_nll_loss, [x, y, 0.7], [0, 1])
    var = _rng(5).uniform(0.1, 2, (N, C))
    var[0, 0], var[2, 3] = 1e-9, 0.0  # clamped to eps in value; torch's clamp (in place, under no_grad) passes the gradient
    _compare(NF.gaussian_nll_loss, TF.gaussian_nll_loss, [x, y, var], [0, 1, 2])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kw", [{}, {"p": 2}, {"margin": 0.3}, {"weight": np.array([0.5, 1.0, 2.0, 1.5])},
                                {"p": 2, "margin": 2.0, "weight": np.array([0.5, 1.0, 2.0, 1.5])}])  # fmt: skip
def test_multi_margin_loss_is_torchs(kw, reduction):
    x, labels = _x(), _rng(3).integers(0, C, N)
    xt, xn = torch.tensor(x, requires_grad=True), ng.tensor(x, requires_grad=True)
    tkw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    rt = TF.multi_margin_loss(xt, torch.tensor(labels), reduction=reduction, **tkw)
    rn = NF.multi_margin_loss(xn, labels, reduction=reduction, **kw)
    rm = ng.nn.MultiMarginLoss(reduction=reduction, **kw)(ng.tensor(x), ng.tensor(labels))
    np.testing.assert_allclose(rn.numpy(), rt.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(rm.numpy(), rt.detach().numpy(), rtol=1e-12, atol=1e-14)
    up = _rng(7).standard_normal(tuple(rt.shape))
    (rt * torch.tensor(up)).sum().backward()
    (rn * ng.tensor(up)).sum().backward()
    np.testing.assert_allclose(xn.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_one_row_forms_as_torch():
    """A (C,) input with a 0-d label (multi-margin) and (D,) inputs with a 0-d target (cosine embedding)."""
    x = _x((C,))
    assert NF.multi_margin_loss(x, np.array(2)).item() == pytest.approx(
        TF.multi_margin_loss(torch.tensor(x), torch.tensor(2)).item(), rel=1e-13)
    a, b = _x((D,)), _x((D,), 2)
    assert NF.cosine_embedding_loss(a, b, np.array(-1.0)).item() == pytest.approx(
        TF.cosine_embedding_loss(torch.tensor(a), torch.tensor(b), torch.tensor(-1.0)).item(), rel=1e-13)


@pytest.mark.parametrize("size_average, reduce", [(None, False), (False, None), (True, True), (False, True), (True, None)])
def test_the_legacy_size_average_and_reduce_pair_picks_torchs_reduction(size_average, reduce):
    a, b, t = _x((N,)), _x((N,), 2), _signs((N,))
    ours = NF.margin_ranking_loss(a, b, t, 0.2, size_average, reduce)
    theirs = TF.margin_ranking_loss(torch.tensor(a), torch.tensor(b), torch.tensor(t), 0.2, size_average, reduce)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-13)
    module = ng.nn.SoftMarginLoss(size_average, reduce)
    assert module.reduction == torch.nn.SoftMarginLoss(size_average, reduce).reduction


@pytest.mark.parametrize("make", [
    lambda F, T: F.multi_margin_loss(T(_x()), T(np.zeros(N, dtype=np.int64)), p=3),
    lambda F, T: F.multi_margin_loss(T(_x()), T(np.zeros(N, dtype=np.int64)), weight=T(np.ones((2, 2)))),
    lambda F, T: F.multi_margin_loss(T(_x()), T(np.full(N, C, dtype=np.int64))),
    lambda F, T: F.cosine_embedding_loss(T(_x((N, D))), T(_x((N, D))), T(np.ones((N, 1)))),
    lambda F, T: F.cosine_embedding_loss(T(_x((N, D))), T(_x((N, D))), T(np.array(1.0))),
    lambda F, T: F.margin_ranking_loss(T(_x()), T(_x()), T(np.ones(N))),
    lambda F, T: F.triplet_margin_loss(T(_x()), T(_x()), T(_x()), margin=0.0),
    lambda F, T: F.triplet_margin_loss(T(_x()), T(_x((C,))), T(_x())),
    lambda F, T: F.gaussian_nll_loss(T(_x()), T(_x()), T(np.ones((N, 2)))),
    lambda F, T: F.gaussian_nll_loss(T(_x()), T(_x()), T(-np.ones((N, C)))),
    lambda F, T: F.gaussian_nll_loss(T(_x()), T(_x()), T(np.ones((N, C))), reduction="avg"),
    lambda F, T: F.soft_margin_loss(T(_x()), T(np.ones(N))),
], ids=["p=3", "2-D weight", "label out of range", "2-D target", "0-d target for 2-D inputs", "ranks differ",
        "triplet margin 0", "triplet ranks differ", "var of wrong size", "negative var", "bad reduction",
        "target shape"])  # fmt: skip
def test_what_torch_refuses_is_refused_with_an_error_of_its_type(make):
    with pytest.raises(Exception) as theirs:
        make(TF, torch.tensor)
    with pytest.raises(Exception) as ours:
        make(NF, ng.tensor)
    assert isinstance(ours.value, theirs.type), (ours.value, theirs.type)
    assert isinstance(ours.value, ValueError | TypeError | IndexError)  # and one of the library's own kinds


# --- cosine similarity, pairwise distance ----------------------------------------------------------
@pytest.mark.parametrize("shapes, kw", [
    (((N, D), (N, D)), {}), (((N, D), (N, D)), {"dim": 0}), (((N, D), (1, D)), {"dim": -1}),
    (((2, 3, D), (2, 3, D)), {"dim": 2, "eps": 1e-3}), (((D,), (D,)), {"dim": 0}),
])  # fmt: skip
def test_cosine_similarity_is_torchs(shapes, kw):
    a, b = _x(shapes[0]), _x(shapes[1], 2)
    _compare(NF.cosine_similarity, TF.cosine_similarity, [a, b], [0, 1], **kw)


def test_cosine_similarity_clamps_each_norm_and_passes_the_gradient_as_torch():
    a, b = _x((N, D)), np.zeros((N, D))
    b[1] = 1e-10  # norms below eps: each input divided by eps, torch's gradient (its clamp is under no_grad)
    _compare(NF.cosine_similarity, TF.cosine_similarity, [a, b], [0, 1])


@pytest.mark.parametrize("kw", [{}, {"p": 1.0}, {"p": 3.0, "keepdim": True}, {"eps": 1e-3}, {"p": np.inf}])
def test_pairwise_distance_is_torchs(kw):
    _compare(NF.pairwise_distance, TF.pairwise_distance, [_x((N, D)), _x((N, D), 2)], [0, 1], **kw)
    a = _x((N, D))
    _compare(NF.pairwise_distance, TF.pairwise_distance, [a, a.copy()], [0, 1], **kw)  # equal rows: eps keeps it smooth


# --- F.pad ------------------------------------------------------------------------------------------------
PADS = [((2, 3, 4), (1, 2)), ((2, 3, 4), (2, -1, 1, 1)), ((2, 3, 4, 5), (3, 1, 2, 2)), ((1, 2, 3, 4, 5), (1, 1, 2, 0, 1, 2)),
        ((2, 3, 4), (0, 0)), ((2, 3, 5), (-2, 3)), ((3, 5), (4, 4))]  # fmt: skip


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape, pad", PADS)
def test_pad_is_torchs(shape, pad, mode):
    x = _x(shape)
    if mode == "reflect" and max(pad) >= min(shape[-len(pad) // 2:]):
        pytest.skip("reflect needs each pad below its axis' size (tested below)")
    _compare(NF.pad, TF.pad, [x], [0], pad=pad, mode=mode)


@pytest.mark.parametrize("shape, pad, value", [((2, 3), (1, 1, 2, 0), 2.5), ((4,), (3, 1), -1.0), ((2, 3, 4), (-1, -2), None),
                                                ((2, 3, 4), (1, 1, 1, 1, 1, 1), 0.0)])  # fmt: skip
def test_constant_pad_of_any_rank_value_and_crop(shape, pad, value):
    _compare(NF.pad, TF.pad, [_x(shape)], [0], pad=pad, mode="constant", value=value)


def test_pad_keeps_numpys_meaning_at_top_level():
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(ng.pad(ng.tensor(x), ((1, 0), (0, 2))).numpy(), np.pad(x, ((1, 0), (0, 2))))
    np.testing.assert_array_equal(NF.pad(ng.tensor(x), (1, 0, 0, 2)).numpy(), TF.pad(torch.tensor(x), (1, 0, 0, 2)).numpy())


@pytest.mark.parametrize("shape, pad, mode", [((2, 3, 4), (1,), "constant"), ((2, 3, 4), (1, 1) * 4, "constant"),
                                              ((4,), (1, 1), "reflect"), ((2, 3, 4), (1, 1) * 3, "replicate"),
                                              ((2, 3, 4), (4, 1), "reflect"), ((2, 3, 4), (5, 0), "circular"),
                                              ((2, 3, 4), (-3, -2), "constant")])  # fmt: skip
def test_pad_refuses_what_torch_refuses_with_its_error_type(shape, pad, mode):
    with pytest.raises(Exception) as theirs:
        TF.pad(torch.zeros(shape), pad, mode=mode)
    x = ng.tensor(np.zeros(shape))
    with pytest.raises(Exception) as ours:
        NF.pad(x, pad, mode=mode)
    assert isinstance(ours.value, theirs.type) and isinstance(ours.value, ValueError)
    assert str(len(pad)) in str(ours.value) or str(pad[0]) in str(ours.value)  # names the bad value
