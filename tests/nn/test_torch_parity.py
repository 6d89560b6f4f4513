"""PyTorch's losses, loss options and activations that nablagrad adds under PyTorch's names:
values, gradients (and second derivatives through ``torch.func``) against PyTorch in float64,
float32 kept float32, and bad input refused with a message naming the op and the fix."""

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.nn import functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

RTOL, ATOL = 1e-10, 1e-12
REDUCTIONS = ["mean", "sum", "none"]


def _pair(a):
    return ng.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def _check(out, tout, pairs):
    """Equal values, and equal gradients of ``Σ out ⊙ c`` for a random cotangent ``c``."""
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=RTOL, atol=ATOL)
    cot = np.random.default_rng(3).standard_normal(tout.shape)
    (out * ng.tensor(cot)).sum().backward()
    (tout * torch.tensor(cot)).sum().backward()
    for a, t in pairs:
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=RTOL, atol=ATOL)


def _hessians(ours, theirs, x):
    """The Hessians of two scalar functions of ``x`` (ng.hessian against torch.func.hessian)."""
    h = ng.hessian(ours)(x).numpy()
    th = torch.func.hessian(theirs)(torch.tensor(x)).numpy()
    np.testing.assert_allclose(h, th, rtol=1e-9, atol=1e-11)


def _away_from(rng, shape, kinks, gap=0.05):
    """Standard normal values, none within ``gap`` of a kink (so both sides agree on the branch)."""
    x = rng.standard_normal(shape) * 2
    for k in kinks:
        near = np.abs(x - k) < gap
        x[near] += 2 * gap
    return x


# --- Huber and smooth L1 -----------------------------------------------------------------------------
PIECEWISE = {  # name: (our function, our module, torch's function, torch's module, the width's name, widths)
    "huber": (F.huber_loss, ng.nn.HuberLoss, TF.huber_loss, torch.nn.HuberLoss, "delta", [1.0, 0.3, 2.5]),
    "smooth_l1": (F.smooth_l1_loss, ng.nn.SmoothL1Loss, TF.smooth_l1_loss, torch.nn.SmoothL1Loss, "beta", [1.0, 0.3, 0.0]),
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name, width", [(n, w) for n, spec in PIECEWISE.items() for w in spec[5]])
def test_huber_and_smooth_l1_losses_match_torch(reduction, name, width, rng):
    fn, module, tfn, tmodule, key, _ = PIECEWISE[name]
    y = rng.standard_normal((6, 3))
    p, tp = _pair(y + _away_from(rng, (6, 3), (-width, width)))
    _check(fn(p, y, reduction, **{key: width}), tfn(tp, torch.tensor(y), reduction=reduction, **{key: width}), [(p, tp)])
    p, tp = _pair(y + _away_from(rng, (6, 3), (-width, width)))
    ours, theirs = module(reduction, **{key: width}), tmodule(reduction=reduction, **{key: width})
    _check(ours(p, y), theirs(tp, torch.tensor(y)), [(p, tp)])


def test_huber_and_smooth_l1_at_their_kinks_match_torch():
    """At d = 0 and d = ±δ (±β) the gradients are PyTorch's: 0, and ±δ (±1)."""
    d = np.array([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0])
    for ours, theirs in ((F.huber_loss, TF.huber_loss), (F.smooth_l1_loss, TF.smooth_l1_loss)):
        p, tp = _pair(d.copy())
        _check(ours(p, np.zeros(7), "sum"), theirs(tp, torch.zeros(7, dtype=torch.float64), reduction="sum"), [(p, tp)])


def test_huber_smooth_l1_second_derivatives_match_torch(rng):
    y = rng.standard_normal(5)
    x = y + _away_from(rng, 5, (-1.0, 1.0, -0.5, 0.5))
    yt = torch.tensor(y)
    _hessians(lambda p: F.huber_loss(p, y, delta=1.0), lambda p: TF.huber_loss(p, yt, delta=1.0), x)
    _hessians(lambda p: F.smooth_l1_loss(p, y, beta=0.5), lambda p: TF.smooth_l1_loss(p, yt, beta=0.5), x)


def test_huber_is_smooth_l1_times_delta(rng):
    o, y = rng.standard_normal(20) * 3, rng.standard_normal(20)
    for delta in (0.5, 1.0, 2.0):
        np.testing.assert_allclose(
            F.huber_loss(ng.tensor(o), y, "none", delta).numpy(), delta * F.smooth_l1_loss(ng.tensor(o), y, "none", delta).numpy()
        )


def test_huber_smooth_l1_keep_float32_and_refuse_bad_options():
    p = ng.tensor(np.ones((2, 2), dtype=np.float32))
    assert F.huber_loss(p, np.zeros((2, 2))).dtype == np.float32
    assert F.smooth_l1_loss(p, np.zeros((2, 2))).dtype == np.float32
    with pytest.raises(ValueError, match=r"huber_loss: delta must be positive, got 0"):
        F.huber_loss(p, np.zeros((2, 2)), delta=0.0)
    with pytest.raises(ValueError, match=r"HuberLoss: delta must be positive"):
        ng.nn.HuberLoss(delta=-1.0)
    with pytest.raises(ValueError, match=r"smooth_l1_loss: beta must be non-negative, got -1"):
        F.smooth_l1_loss(p, np.zeros((2, 2)), beta=-1.0)
    with pytest.raises(ValueError, match=r"SmoothL1Loss: beta must be non-negative"):
        ng.nn.SmoothL1Loss(beta=-0.5)
    with pytest.raises(ValueError, match=r"huber_loss: prediction has shape \(2, 2\) but target has shape \(3,\)"):
        F.huber_loss(p, np.zeros(3))
    with pytest.raises(ValueError, match="huber_loss: reduction must be one of"):
        F.huber_loss(p, np.zeros((2, 2)), reduction="avg")


# --- KL divergence -------------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", ["mean", "batchmean", "sum", "none"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_torch_values_and_both_gradients(reduction, log_target, rng):
    logp = np.log(rng.dirichlet(np.ones(4), size=5))
    q = rng.dirichlet(np.ones(4), size=5)
    q[0, 1] = 0.0  # a zero probability: y ln y = 0 there
    target = np.log(q + 1e-3) if log_target else q
    x, tx = _pair(logp)
    expected = TF.kl_div(tx, torch.tensor(target), reduction=reduction, log_target=log_target)
    _check(F.kl_div(x, target, reduction, log_target), expected, [(x, tx)])
    x, tx = _pair(logp)
    y, ty = _pair(target if log_target else np.where(q > 0, q, 0.3))  # the target's gradient where PyTorch's is finite
    module = ng.nn.KLDivLoss(reduction, log_target=log_target)
    tmodule = torch.nn.KLDivLoss(reduction=reduction, log_target=log_target)
    _check(module(x, y), tmodule(tx, ty), [(x, tx), (y, ty)])


def test_kl_div_batchmean_is_the_kl_divergence_per_example(rng):
    p, q = rng.dirichlet(np.ones(3), size=4), rng.dirichlet(np.ones(3), size=4)
    kl = np.mean(np.sum(q * np.log(q / p), axis=1))
    assert F.kl_div(ng.tensor(np.log(p)), q, "batchmean").item() == pytest.approx(kl, rel=1e-12)
    assert F.kl_div(ng.tensor(np.log(p)), q, "mean").item() == pytest.approx(kl / 3, rel=1e-12)  # PyTorch's 'mean'
    assert F.kl_div(ng.tensor(np.log(p[0])), q[0], "batchmean").item() == pytest.approx(  # a 0-d batch: the sum
        TF.kl_div(torch.tensor(np.log(p[0])), torch.tensor(q[0]), reduction="batchmean").item(), rel=1e-12
    )


def test_kl_div_second_derivatives_match_torch(rng):
    q = rng.dirichlet(np.ones(4))
    x = np.log(rng.dirichlet(np.ones(4)))
    _hessians(
        lambda z: F.kl_div(ng.log_softmax(z, axis=0), q, "sum"),
        lambda z: TF.kl_div(torch.log_softmax(z, 0), torch.tensor(q), reduction="sum"),
        x,
    )


def test_kl_div_refuses_bad_input_and_keeps_float32():
    x = ng.tensor(np.log(np.full((2, 2), 0.5, dtype=np.float32)))
    assert F.kl_div(x, np.full((2, 2), 0.5), "batchmean").dtype == np.float32
    with pytest.raises(ValueError, match=r"kl_div: target probabilities must be ≥ 0, got -0.5; .*log_target=True"):
        F.kl_div(x, np.array([[0.5, -0.5], [1.0, 0.0]]))
    with pytest.raises(ValueError, match=r"kl_div: reduction must be one of \('mean', 'batchmean', 'sum', 'none'\)"):
        F.kl_div(x, np.full((2, 2), 0.5), reduction="batch")
    with pytest.raises(ValueError, match=r"KLDivLoss: reduction must be one of"):
        ng.nn.KLDivLoss("avg")
    assert ng.nn.KLDivLoss("batchmean").reduction == "batchmean"


# --- cross-entropy's weight, ignore_index and label_smoothing ----------------------------------------
CE_OPTIONS = [
    {"weight": True},
    {"ignore_index": 1},
    {"label_smoothing": 0.2},
    {"weight": True, "ignore_index": 2, "label_smoothing": 0.1},
    {"ignore_index": -100},  # the default, with ignored labels (-100) in the batch
]


def _ce_options(opts, rng, c=4):
    w = rng.uniform(0.5, 2.0, c)
    ours = {k: (w if k == "weight" else v) for k, v in opts.items()}
    theirs = {k: (torch.tensor(w) if k == "weight" else v) for k, v in opts.items()}
    return ours, theirs


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opts", CE_OPTIONS, ids=lambda o: ",".join(o))
def test_cross_entropy_options_with_labels_match_torch(opts, reduction, rng):
    logits = rng.standard_normal((7, 4)) * 3
    labels = rng.integers(0, 4, 7)
    labels[[1, 4]] = opts.get("ignore_index", -100)
    if "ignore_index" not in opts:
        labels[[1, 4]] = [0, 3]
    ours, theirs = _ce_options(opts, rng)
    x, tx = _pair(logits)
    expected = TF.cross_entropy(tx, torch.tensor(labels), reduction=reduction, **theirs)
    _check(F.cross_entropy(x, labels, reduction, **ours), expected, [(x, tx)])
    x, tx = _pair(logits)
    module, tmodule = ng.nn.CrossEntropyLoss(reduction, **ours), torch.nn.CrossEntropyLoss(reduction=reduction, **theirs)
    _check(module(x, labels), tmodule(tx, torch.tensor(labels)), [(x, tx)])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opts", [{"weight": True}, {"label_smoothing": 0.3}, {"weight": True, "label_smoothing": 0.1}],
                         ids=lambda o: ",".join(o))  # fmt: skip
def test_cross_entropy_options_with_probabilities_match_torch(opts, reduction, rng):
    logits, probs = rng.standard_normal((6, 4)) * 2, rng.dirichlet(np.ones(4), size=6)
    ours, theirs = _ce_options(opts, rng)
    x, tx = _pair(logits)
    _check(F.cross_entropy(x, probs, reduction, **ours), TF.cross_entropy(tx, torch.tensor(probs), reduction=reduction, **theirs),
           [(x, tx)])  # fmt: skip


def test_cross_entropy_weight_may_be_a_tensor(rng):
    """PyTorch takes no gradient with respect to the class weights; a weight Tensor is a constant here too."""
    logits, labels, w = rng.standard_normal((6, 3)), rng.integers(0, 3, 6), rng.uniform(0.5, 2.0, 3)
    x, tx = _pair(logits)
    _check(
        F.cross_entropy(x, labels, weight=ng.tensor(w), label_smoothing=0.1),
        TF.cross_entropy(tx, torch.tensor(labels), weight=torch.tensor(w), label_smoothing=0.1),
        [(x, tx)],
    )


def test_cross_entropy_options_second_derivatives_match_torch(rng):
    labels, w = np.array([0, 2, 1, 2]), rng.uniform(0.5, 2.0, 3)
    x = rng.standard_normal((4, 3))
    _hessians(
        lambda z: F.cross_entropy(z, labels, weight=w, ignore_index=1, label_smoothing=0.2),
        lambda z: TF.cross_entropy(z, torch.tensor(labels), weight=torch.tensor(w), ignore_index=1, label_smoothing=0.2),
        x,
    )


def test_cross_entropy_defaults_still_take_the_fused_primitive(rng):
    """The default call is unchanged: one fused op (softmax, pick, mean), no composite."""
    x = ng.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    assert F.cross_entropy(x, np.array([0, 1, 2, 1, 0]))._op.name == "softmax_cross_entropy"
    assert ng.nn.CrossEntropyLoss()(x, np.array([0, 1, 2, 1, 0]))._op.name == "softmax_cross_entropy"
    assert ng.nn.CrossEntropyLoss(label_smoothing=0.0, ignore_index=-100)._options == {}
    assert ng.nn.CrossEntropyLoss(label_smoothing=0.1)(x, np.array([0, 1, 2, 1, 0]))._op.name != "softmax_cross_entropy"


def test_cross_entropy_all_ignored_is_nan_as_torch():
    x = ng.tensor(np.zeros((2, 3)))
    assert np.isnan(F.cross_entropy(x, np.array([-100, -100])).item())
    assert F.cross_entropy(x, np.array([-100, -100]), reduction="sum").item() == 0.0


def test_cross_entropy_options_refuse_bad_input():
    x = ng.tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"cross_entropy: weight must hold one value per class, shape \(3,\), got shape \(4,\)"):
        F.cross_entropy(x, np.array([0, 1]), weight=np.ones(4))
    with pytest.raises(ValueError, match=r"cross_entropy: label_smoothing must lie in \[0, 1\], got 1.5"):
        F.cross_entropy(x, np.array([0, 1]), label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"cross_entropy: labels must lie in \[0, 2\] or equal ignore_index=-1, got \[3\]"):
        F.cross_entropy(x, np.array([3, -1]), ignore_index=-1)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\]"):  # the default path's message, unchanged
        F.cross_entropy(x, np.array([3, -100]))
    with pytest.raises(ValueError, match=r"ignore_index=1 applies to integer labels only"):
        F.cross_entropy(x, np.full((2, 3), 1 / 3), ignore_index=1)
    with pytest.raises(TypeError, match=r"CrossEntropyLoss: the first .* reduction .* CrossEntropyLoss\(weight=w\)"):
        ng.nn.CrossEntropyLoss(np.ones(3))
    with pytest.raises(TypeError, match=r"CrossEntropyLoss: unknown option\(s\) \['smoothing'\]"):
        ng.nn.CrossEntropyLoss(smoothing=0.1)


def test_cross_entropy_options_keep_float32(rng):
    x = ng.tensor(rng.standard_normal((4, 3)).astype(np.float32), requires_grad=True)
    loss = F.cross_entropy(x, np.array([0, 1, 2, -100]), weight=np.ones(3), label_smoothing=0.1)
    loss.backward()
    assert loss.dtype == np.float32 and x.grad.dtype == np.float32


# --- BCE with logits: pos_weight and weight -------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("which", ["pos_weight", "weight", "both"])
def test_bce_with_logits_weights_match_torch(which, reduction, rng):
    logits = rng.standard_normal((6, 3)) * 4
    logits[0, 0], logits[1, 1] = 200.0, -200.0  # saturated: still finite
    y = rng.integers(0, 2, (6, 3)).astype(float)
    ours, theirs = {}, {}
    if which in ("pos_weight", "both"):
        pw = rng.uniform(0.5, 3.0, 3)
        ours["pos_weight"], theirs["pos_weight"] = pw, torch.tensor(pw)
    if which in ("weight", "both"):
        w = rng.uniform(0.5, 2.0, (6, 1))
        ours["weight"], theirs["weight"] = w, torch.tensor(w)
    x, tx = _pair(logits)
    _check(F.binary_cross_entropy_with_logits(x, y, reduction, **ours),
           TF.binary_cross_entropy_with_logits(tx, torch.tensor(y), reduction=reduction, **theirs), [(x, tx)])  # fmt: skip
    x, tx = _pair(logits)
    _check(ng.nn.BCEWithLogitsLoss(reduction, **ours)(x, y),
           torch.nn.BCEWithLogitsLoss(reduction=reduction, **theirs)(tx, torch.tensor(y)), [(x, tx)])  # fmt: skip


def test_bce_with_logits_pos_weight_second_derivatives_and_tensor_weights(rng):
    y = rng.integers(0, 2, 5).astype(float)
    pw = rng.uniform(0.5, 3.0, 5)
    x = rng.standard_normal(5)
    _hessians(
        lambda z: F.binary_cross_entropy_with_logits(z, y, pos_weight=pw),
        lambda z: TF.binary_cross_entropy_with_logits(z, torch.tensor(y), pos_weight=torch.tensor(pw)),
        x,
    )
    z, tz = _pair(x)  # a weight Tensor (a constant: PyTorch takes no gradient with respect to it)
    expected = TF.binary_cross_entropy_with_logits(tz, torch.tensor(y), pos_weight=torch.tensor(pw))
    _check(F.binary_cross_entropy_with_logits(z, y, pos_weight=ng.tensor(pw)), expected, [(z, tz)])


def test_bce_with_logits_pos_weight_of_one_is_the_default_and_errors_are_clear(rng):
    z, y = ng.tensor(rng.standard_normal((4, 2))), rng.integers(0, 2, (4, 2)).astype(float)
    np.testing.assert_allclose(F.binary_cross_entropy_with_logits(z, y, pos_weight=np.ones(2)).item(),
                               F.binary_cross_entropy_with_logits(z, y).item(), rtol=1e-12)  # fmt: skip
    zg = ng.tensor(z.numpy(), requires_grad=True)
    assert ng.nn.BCEWithLogitsLoss()(zg, y)._inputs[0]._op.name == "bce_with_logits"  # the default: the primitive, the mean
    with pytest.raises(ValueError, match=r"pos_weight of shape \(3,\) does not broadcast to the logits' shape \(4, 2\); "
                                         r"give one value per class, shape \(2,\)"):  # fmt: skip
        F.binary_cross_entropy_with_logits(z, y, pos_weight=np.ones(3))
    with pytest.raises(ValueError, match=r"weight of shape \(4, 3\) does not broadcast"):
        ng.nn.BCEWithLogitsLoss(weight=np.ones((4, 3)))(z, y)


# --- activations ---------------------------------------------------------------------------------------
ACTIVATIONS = {
    "gelu": (ng.nn.GELU(), lambda x: TF.gelu(x), F.gelu),
    "gelu_tanh": (ng.nn.GELU("tanh"), lambda x: TF.gelu(x, approximate="tanh"), lambda x: F.gelu(x, "tanh")),
    "silu": (ng.nn.SiLU(), TF.silu, F.silu),
    "elu": (ng.nn.ELU(), TF.elu, F.elu),
    "elu_0.3": (ng.nn.ELU(alpha=0.3), lambda x: TF.elu(x, alpha=0.3), lambda x: F.elu(x, 0.3)),
    "softplus": (ng.nn.Softplus(), TF.softplus, F.softplus),
    "softplus_b2_t3": (ng.nn.Softplus(2.0, 3.0), lambda x: TF.softplus(x, 2.0, 3.0), lambda x: F.softplus(x, 2.0, 3.0)),
    "softplus_b-1": (ng.nn.Softplus(-1.0), lambda x: TF.softplus(x, -1.0), lambda x: F.softplus(x, -1.0)),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_matches_torch_values_gradients_and_second_derivatives(name, rng):
    mod, tf, fn = ACTIVATIONS[name]
    a = np.concatenate([rng.standard_normal(20) * 3, [-40.0, -5.0, 0.0, 1.4, 1.5, 1.6, 5.0, 40.0, 800.0, -800.0]])
    x, tx = _pair(a)
    _check(mod(x), tf(tx), [(x, tx)])
    x, tx = _pair(a)
    _check(fn(x), tf(tx), [(x, tx)])
    b = _away_from(rng, 6, (0.0, 1.5, 10.0, -20.0))  # off the kinks of ELU (0) and the softplus tails
    _hessians(lambda z: fn(z).sum(), lambda z: tf(z).sum(), b)


def test_activations_keep_float32_refuse_integers_and_bad_options():
    x = ng.tensor(np.array([-1.0, 0.5], dtype=np.float32))
    for name, (mod, _, fn) in ACTIVATIONS.items():
        assert mod(x).dtype == np.float32 and fn(x).dtype == np.float32, name
    with pytest.raises(TypeError, match=r"gelu: expected a floating-point tensor, got int64; .*astype"):
        F.gelu(ng.tensor([1, 2]))
    with pytest.raises(ValueError, match=r"gelu: approximate must be 'none' or 'tanh'"):
        F.gelu(x, approximate="erf")
    with pytest.raises(ValueError, match=r"GELU: approximate must be 'none' or 'tanh'"):
        ng.nn.GELU("fast")
    with pytest.raises(ValueError, match="Softplus: beta must be non-zero"):
        ng.nn.Softplus(beta=0)


def test_elu_gradient_at_zero_is_alpha_and_large_inputs_stay_finite():
    x = ng.tensor(np.array([0.0, 1000.0, -1000.0]), requires_grad=True)
    F.elu(x, 0.7).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.7, 1.0, 0.0])
    x = ng.tensor(np.array([1000.0, -1000.0]), requires_grad=True)
    (F.softplus(x, 0.5) + F.silu(x) + F.gelu(x)).sum().backward()
    assert np.isfinite(x.grad.numpy()).all()


def test_new_activations_are_registered_for_mlp_by_name(rng):
    for name in ("gelu", "silu", "elu", "softplus"):
        assert name in ng.nn.HIDDEN_ACTIVATIONS
        mlp = ng.nn.MLP([3, 4, 2], activation=name, seed=0, dtype="float64")
        x = rng.standard_normal((5, 3))
        expected = ng.nn.ACTIVATIONS[name]()(x @ mlp[0].weight.numpy() + mlp[0].bias.numpy()).numpy()
        np.testing.assert_allclose(mlp[1](mlp[0](x)).numpy(), expected, rtol=1e-12)


# --- one_hot and normalize -------------------------------------------------------------------------------
def test_one_hot_matches_torch():
    labels = np.array([[0, 2], [1, 4]])
    out = F.one_hot(labels)
    expected = TF.one_hot(torch.tensor(labels))
    assert out.dtype == np.int64 and out.shape == tuple(expected.shape) and not out.requires_grad
    np.testing.assert_array_equal(out.numpy(), expected.numpy())
    np.testing.assert_array_equal(
        F.one_hot(ng.tensor([1, 0]), num_classes=3).numpy(), TF.one_hot(torch.tensor([1, 0]), 3).numpy()
    )
    assert F.one_hot(np.zeros(0, dtype=np.int64), 3).shape == (0, 3)


def test_one_hot_refuses_bad_labels():
    with pytest.raises(TypeError, match=r"one_hot: labels must be integers .* got float64; .*astype\('int64'\)"):
        F.one_hot(np.array([1.0]))
    with pytest.raises(ValueError, match=r"one_hot: class values must be smaller than num_classes=3, got 3"):
        F.one_hot(np.array([3]), 3)
    with pytest.raises(ValueError, match=r"one_hot: class values must be non-negative, got -1"):
        F.one_hot(np.array([-1]), 3)
    with pytest.raises(ValueError, match=r"one_hot: cannot infer the number of classes from empty labels; pass num_classes="):
        F.one_hot(np.zeros(0, dtype=np.int64))
    with pytest.raises(ValueError, match=r"one_hot: num_classes must be a positive integer or -1"):
        F.one_hot(np.array([0]), 0)


@pytest.mark.parametrize("p,dim", [(2.0, 1), (1.0, 1), (3.0, 0), (2.0, -1)])
def test_normalize_matches_torch(p, dim, rng):
    a = rng.standard_normal((4, 3))
    a[1] = 0.0  # a zero row: divided by eps, gradient 1/eps as PyTorch
    x, tx = _pair(a)
    _check(F.normalize(x, p=p, dim=dim), TF.normalize(tx, p=p, dim=dim), [(x, tx)])
    b = rng.standard_normal((3, 4))
    tb = torch.tensor(b)
    _hessians(lambda z: (F.normalize(z, p=p, dim=dim) * b).sum(), lambda z: (TF.normalize(z, p=p, dim=dim) * tb).sum(), b + 1.0)


def test_normalize_refuses_a_bad_dim_and_integers():
    with pytest.raises(IndexError, match=r"normalize: axis 1 is out of range for a tensor with 1 dimensions; give an int in -1"):
        F.normalize(ng.tensor([3.0, 4.0]))
    np.testing.assert_allclose(F.normalize(ng.tensor([3.0, 4.0]), dim=0).numpy(), [0.6, 0.8], rtol=1e-6)
    with pytest.raises(TypeError, match="normalize: expected a floating-point tensor"):
        F.normalize(ng.tensor([[3, 4]]))


# --- the public names ------------------------------------------------------------------------------------
def test_new_names_are_exported_and_registered():
    for name in ("HuberLoss", "SmoothL1Loss", "KLDivLoss", "GELU", "SiLU", "ELU", "Softplus"):
        assert hasattr(ng.nn, name) and hasattr(torch.nn, name), name
    for name in ("huber_loss", "smooth_l1_loss", "kl_div", "gelu", "silu", "elu", "softplus", "one_hot", "normalize"):
        assert name in F.__all__ and hasattr(TF, name), name
    assert {"huber": ng.nn.HuberLoss, "smooth_l1": ng.nn.SmoothL1Loss, "kl_div": ng.nn.KLDivLoss}.items() <= ng.nn.LOSSES.items()
    from nablagrad.train.evaluation import resolve_loss

    assert isinstance(resolve_loss("huber"), ng.nn.HuberLoss)
    assert repr(ng.nn.HuberLoss(delta=2.0)) == "HuberLoss(reduction='mean', delta=2.0)"
