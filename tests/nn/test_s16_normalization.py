"""``BatchNorm1d`` and ``LayerNorm`` (and ``functional.batch_norm`` / ``layer_norm``) against torch 2.13.

Oracles: torch.nn's modules step by step (outputs and running buffers, training then evaluation), torch's
autograd for gradients (float64, ~1e-10), torch.func for second derivatives (grad of grad, hessian) and vmap,
and central differences through ``ng.gradcheck``.  The running statistics are updated once per call, outside
the tape (``ng.jit`` repeats the update as an effect: test_s16_batchnorm_jit.py); where a call would not update
them once (``vmap`` of the input, forward mode) it is refused before anything is written."""

from __future__ import annotations

import numpy as np
import pytest

import nablagrad as ng
import nablagrad.nn.functional as Fn

torch = pytest.importorskip("torch")
tf = torch.func
TF = torch.nn.functional
NUMPY_ONLY = "ng.jit and ng.io work on host arrays; compared with torch on the host"


def _x(shape, seed=0, shift=0.0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape) * 2.0 + shift


def _np(t) -> np.ndarray:
    return np.asarray(t.numpy() if isinstance(t, ng.Tensor) else t.detach().numpy())


def _state(m) -> dict[str, np.ndarray]:
    """The state dict on the host (a tensor's array may live on another device)."""
    return {k: _np(t) for k, t in m.state_dict(keep_vars=True).items()}


def _same_as_torch(ours, theirs, rtol=1e-12, atol=1e-12) -> None:
    """Every entry of the two state dicts (names and dtypes too) equal."""
    mine, torch_state = _state(ours), theirs.state_dict()
    assert list(mine) == list(torch_state)
    for k, v in torch_state.items():
        a = mine[k]
        assert a.dtype == v.numpy().dtype, k
        np.testing.assert_allclose(a, v.numpy(), rtol=rtol, atol=atol, err_msg=k)


def _random_affine(ours, theirs, seed=1) -> None:
    """The same non-trivial γ, β in both (ones and zeros would hide their gradients' mistakes)."""
    rng = np.random.default_rng(seed)
    for name in ("weight", "bias"):
        p = getattr(ours, name)
        if p is not None:
            v = rng.uniform(0.5, 1.5, p.shape) if name == "weight" else rng.standard_normal(p.shape)
            with ng.no_grad():
                p.copy_(ng.tensor(v.astype(p.dtype)))
            with torch.no_grad():
                getattr(theirs, name).copy_(torch.tensor(v))


# --- BatchNorm1d: values and buffers ------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(8, 3), (6, 3, 5)], ids=["NC", "NCL"])
@pytest.mark.parametrize("momentum", [0.1, 0.3, None])
@pytest.mark.parametrize("affine", [True, False])
def test_batchnorm1d_follows_torch_through_training_steps_and_evaluation(shape, momentum, affine):
    ours = ng.nn.BatchNorm1d(3, momentum=momentum, affine=affine, dtype="float64")
    theirs = torch.nn.BatchNorm1d(3, momentum=momentum, affine=affine).double()
    _random_affine(ours, theirs)
    for step in range(4):  # batches of different means and spreads: the running averages move
        x = _x(shape, seed=step, shift=step - 1.0) * (1 + step)
        np.testing.assert_allclose(_np(ours(ng.tensor(x))), _np(theirs(torch.tensor(x))), rtol=1e-12, atol=1e-12)
        _same_as_torch(ours, theirs)
    assert int(ours.num_batches_tracked.item()) == 4
    if momentum == 0.3:  # PyTorch's reset: mean 0, variance 1, no batch counted
        ours.reset_running_stats(), theirs.reset_running_stats()
        _same_as_torch(ours, theirs)
    ours.eval(), theirs.eval()
    x = _x(shape, seed=9)
    np.testing.assert_allclose(_np(ours(ng.tensor(x))), _np(theirs(torch.tensor(x))), rtol=1e-12, atol=1e-12)
    _same_as_torch(ours, theirs)  # evaluation reads the running statistics and changes none


def test_batchnorm1d_float32_default_dtype_and_torch_buffers():
    ours, theirs = ng.nn.BatchNorm1d(4), torch.nn.BatchNorm1d(4)
    assert [(k, b.dtype, tuple(b.shape)) for k, b in ours.named_buffers()] == [
        ("running_mean", np.float32, (4,)), ("running_var", np.float32, (4,)), ("num_batches_tracked", np.int64, ())]  # fmt: skip
    assert [k for k, _ in ours.named_parameters()] == ["weight", "bias"]
    np.testing.assert_array_equal(_np(ours.weight), np.ones(4, np.float32))
    np.testing.assert_array_equal(_np(ours.bias), np.zeros(4, np.float32))
    assert repr(ours) == repr(theirs)
    for step in range(3):
        x = _x((16, 4), seed=step, shift=3.0).astype(np.float32)
        np.testing.assert_allclose(_np(ours(ng.tensor(x))), _np(theirs(torch.tensor(x))), rtol=1e-4, atol=1e-5)
    _same_as_torch(ours, theirs, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("training", [True, False])
def test_batchnorm1d_without_running_stats_always_uses_the_batch(training):
    ours = ng.nn.BatchNorm1d(3, track_running_stats=False, dtype="float64")
    theirs = torch.nn.BatchNorm1d(3, track_running_stats=False).double()
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight", "bias"]
    assert list(ours.buffers()) == []
    ours.train(training), theirs.train(training)
    x = _x((5, 3, 2), shift=1.0)
    np.testing.assert_allclose(_np(ours(ng.tensor(x))), _np(theirs(torch.tensor(x))), rtol=1e-12, atol=1e-12)
    assert repr(ng.nn.BatchNorm1d(3, momentum=None, affine=False, track_running_stats=False)) == repr(
        torch.nn.BatchNorm1d(3, momentum=None, affine=False, track_running_stats=False))  # fmt: skip


def test_batchnorm1d_bias_false_keeps_gamma_only():
    ours = ng.nn.BatchNorm1d(3, bias=False, dtype="float64")
    theirs = torch.nn.BatchNorm1d(3, bias=False).double()
    _random_affine(ours, theirs)
    assert ours.bias is None and list(ours.state_dict()) == list(theirs.state_dict())
    x = _x((6, 3))
    np.testing.assert_allclose(_np(ours(ng.tensor(x))), _np(theirs(torch.tensor(x))), rtol=1e-12, atol=1e-12)


def test_functional_batch_norm_matches_torch_and_updates_in_place():
    assert {"batch_norm", "layer_norm"} <= set(Fn.__all__) and {"BatchNorm1d", "LayerNorm"} <= set(dir(ng.nn))
    x, rm, rv = _x((7, 3, 2), shift=0.5), np.array([0.1, -0.2, 0.3]), np.array([1.5, 0.5, 2.0])
    w, b = np.array([1.2, 0.8, -0.5]), np.array([0.1, 0.0, -0.3])
    ours_rm, ours_rv = ng.tensor(rm.copy()), ng.tensor(rv.copy())
    theirs_rm, theirs_rv = torch.tensor(rm.copy()), torch.tensor(rv.copy())
    for training in (True, False):
        got = Fn.batch_norm(ng.tensor(x), ours_rm, ours_rv, ng.tensor(w), ng.tensor(b), training, 0.2, 1e-3)
        want = TF.batch_norm(torch.tensor(x), theirs_rm, theirs_rv, torch.tensor(w), torch.tensor(b), training, 0.2, 1e-3)
        np.testing.assert_allclose(_np(got), _np(want), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(_np(ours_rm), _np(theirs_rm), rtol=1e-12)
        np.testing.assert_allclose(_np(ours_rv), _np(theirs_rv), rtol=1e-12)
    got = Fn.batch_norm(ng.tensor(x), None, None, training=True)  # batch statistics only, nothing to update
    np.testing.assert_allclose(_np(got), _np(TF.batch_norm(torch.tensor(x), None, None, training=True)), atol=1e-12)


# --- gradients ------------------------------------------------------------------------------------------
def _torch_grads(theirs, x: np.ndarray, c: np.ndarray):
    xt = torch.tensor(x, requires_grad=True)
    (theirs(xt) ** 3 * torch.tensor(c)).sum().backward()
    return xt.grad.numpy(), theirs.weight.grad.numpy(), theirs.bias.grad.numpy()


def _our_grads(ours, x: np.ndarray, c: np.ndarray):
    xo = ng.tensor(x, requires_grad=True)
    (ours(xo) ** 3 * ng.tensor(c)).sum().backward()
    return _np(xo.grad), _np(ours.weight.grad), _np(ours.bias.grad)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5)], ids=["NC", "NCL"])
def test_batchnorm1d_gradients_match_torch(training, shape):
    ours, theirs = ng.nn.BatchNorm1d(3, dtype="float64"), torch.nn.BatchNorm1d(3).double()
    _random_affine(ours, theirs)
    ours(ng.tensor(_x(shape, seed=5, shift=1.0))), theirs(torch.tensor(_x(shape, seed=5, shift=1.0)))  # running stats ≠ 0, 1
    ours.train(training), theirs.train(training)
    x, c = _x(shape, seed=2), _x(shape, seed=3)
    for got, want in zip(_our_grads(ours, x, c), _torch_grads(theirs, x, c)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
    _same_as_torch(ours, theirs)


@pytest.mark.parametrize("normalized_shape", [5, (3, 5)])
def test_layernorm_values_and_gradients_match_torch(normalized_shape):
    ours, theirs = ng.nn.LayerNorm(normalized_shape, dtype="float64"), torch.nn.LayerNorm(normalized_shape).double()
    assert repr(ours) == repr(theirs) and list(ours.state_dict()) == list(theirs.state_dict())
    _random_affine(ours, theirs)
    x, c = _x((4, 3, 5), shift=2.0), _x((4, 3, 5), seed=1)
    np.testing.assert_allclose(_np(ours(ng.tensor(x))), _np(theirs(torch.tensor(x))), rtol=1e-12, atol=1e-12)
    for got, want in zip(_our_grads(ours, x, c), _torch_grads(theirs, x, c)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
    ours.eval(), theirs.eval()  # no running statistics: the same in evaluation
    np.testing.assert_allclose(_np(ours(ng.tensor(x))), _np(theirs(torch.tensor(x))), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("options", [dict(bias=False), dict(elementwise_affine=False), dict(eps=1e-2)])
def test_layernorm_options_match_torch(options):
    ours = ng.nn.LayerNorm(4, dtype="float64", **options)
    theirs = torch.nn.LayerNorm(4, **options).double()
    _random_affine(ours, theirs)
    assert repr(ours) == repr(theirs) and list(ours.state_dict()) == list(theirs.state_dict())
    x = _x((3, 4), shift=-1.0)
    np.testing.assert_allclose(_np(ours(ng.tensor(x))), _np(theirs(torch.tensor(x))), rtol=1e-12, atol=1e-12)
    w, b = (None if p is None else ng.tensor(_np(p)) for p in (ours.weight, ours.bias))
    got = Fn.layer_norm(ng.tensor(x), 4, w, b, ours.eps)
    want = TF.layer_norm(torch.tensor(x), (4,), *(None if p is None else torch.tensor(_np(p)) for p in (w, b)), ours.eps)
    np.testing.assert_allclose(_np(got), _np(want), rtol=1e-12, atol=1e-12)


# --- second derivatives and vmap against torch.func --------------------------------------------------------
def test_hessian_through_layernorm_matches_torch_func():
    w, b, c = np.array([1.3, 0.7, -0.4, 1.1]), np.array([0.2, -0.1, 0.0, 0.5]), _x((2, 4), seed=4)
    x = _x((2, 4), seed=6)

    def ours(x):
        return (Fn.layer_norm(x, 4, ng.tensor(w), ng.tensor(b)) ** 3 * ng.tensor(c)).sum()

    def theirs(x):
        return (TF.layer_norm(x, (4,), torch.tensor(w), torch.tensor(b)) ** 3 * torch.tensor(c)).sum()

    want = tf.hessian(theirs)(torch.tensor(x)).numpy()
    np.testing.assert_allclose(_np(ng.hessian(ours)(ng.tensor(x))), want, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(_np(ng.jacrev(ng.jacrev(ours))(ng.tensor(x))), want, rtol=1e-9, atol=1e-9)


def test_vmap_over_layernorm_matches_torch_func():
    ours, theirs = ng.nn.LayerNorm(5, dtype="float64"), torch.nn.LayerNorm(5).double()
    _random_affine(ours, theirs)
    xs = _x((6, 3, 5), shift=1.0)  # six examples of three rows each
    got = ng.vmap(lambda x: ours(x))(ng.tensor(xs))
    want = tf.vmap(lambda x: theirs(x))(torch.tensor(xs))
    np.testing.assert_allclose(_np(got), _np(want), rtol=1e-12, atol=1e-12)
    params = {k: v.detach() for k, v in theirs.named_parameters()}

    def per_example_loss(p, x):
        return (tf.functional_call(theirs, p, (x,)) ** 2).sum()

    want_g = tf.vmap(tf.grad(per_example_loss), in_dims=(None, 0))(params, torch.tensor(xs))["weight"]
    got_g = ng.vmap(ng.grad(lambda w, x: (Fn.layer_norm(x, 5, w, ours.bias) ** 2).sum()), in_axes=(None, 0))(
        ng.tensor(_np(ours.weight)), ng.tensor(xs))  # fmt: skip
    np.testing.assert_allclose(_np(got_g), _np(want_g), rtol=1e-10, atol=1e-10)


def test_grad_of_grad_through_batch_norm_in_training_matches_torch_func_and_updates_once():
    """``∇_{x,γ,β} ‖∇_x L‖²`` with ``L = Σ c ⊙ BN(x)³`` in training mode; the buffers, passed to torch.func as
    inputs (what it asks for a mutated tensor), take one update per outer call in both libraries."""
    x, c = _x((6, 3), seed=7, shift=1.0), _x((6, 3), seed=8)
    w, b = np.array([1.2, 0.6, -0.9]), np.array([0.3, -0.2, 0.1])
    rm, rv = ng.tensor(np.zeros(3)), ng.tensor(np.ones(3))
    trm, trv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)

    def ours(x, w, b):
        inner = ng.grad(lambda x: (Fn.batch_norm(x, rm, rv, w, b, training=True) ** 3 * ng.tensor(c)).sum())
        return (inner(x) ** 2).sum()

    def theirs(x, w, b, rm, rv):
        inner = tf.grad(lambda x: (TF.batch_norm(x, rm, rv, w, b, training=True) ** 3 * torch.tensor(c)).sum())
        return (inner(x) ** 2).sum()

    for _ in range(2):
        got = ng.grad(ours, argnums=(0, 1, 2))(ng.tensor(x), ng.tensor(w), ng.tensor(b))
        want = tf.grad(theirs, argnums=(0, 1, 2))(torch.tensor(x), torch.tensor(w), torch.tensor(b), trm, trv)
        for g, t in zip(got, want):
            np.testing.assert_allclose(_np(g), _np(t), rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(_np(rm), _np(trm), rtol=1e-12)
        np.testing.assert_allclose(_np(rv), _np(trv), rtol=1e-12)
    eager_rm = torch.zeros(3, dtype=torch.float64)
    for _ in range(2):
        TF.batch_norm(torch.tensor(x), eager_rm, torch.ones(3, dtype=torch.float64), training=True)
    np.testing.assert_allclose(_np(rm), _np(eager_rm), rtol=1e-12)  # two calls: two updates, as eager


@pytest.mark.parametrize("transform", ["grad", "vjp", "jacrev", "value_and_grad"])
def test_reverse_transforms_update_the_buffers_once_per_call(transform):
    model = ng.nn.BatchNorm1d(3, momentum=None, dtype="float64")
    eager = torch.nn.BatchNorm1d(3, momentum=None).double()
    f = lambda x: (model(x) ** 2).sum()  # noqa: E731
    calls = {"grad": lambda x: ng.grad(f)(x), "vjp": lambda x: ng.vjp(f, x)[1](ng.tensor(1.0)),
             "jacrev": lambda x: ng.jacrev(f)(x), "value_and_grad": lambda x: ng.value_and_grad(f)(x)}  # fmt: skip
    for step in range(3):
        x = _x((5, 3), seed=step, shift=step)
        calls[transform](ng.tensor(x))
        eager(torch.tensor(x))
    _same_as_torch(model, eager)


def test_hessian_through_batchnorm_without_running_stats_matches_torch_func():
    """With no running statistics nothing is written: forward mode (hessian = jacfwd ∘ jacrev) is allowed."""
    ours = ng.nn.BatchNorm1d(2, track_running_stats=False, dtype="float64")
    theirs = torch.nn.BatchNorm1d(2, track_running_stats=False).double()
    _random_affine(ours, theirs)
    x, c = _x((4, 2), seed=3), _x((4, 2), seed=4)
    want = tf.hessian(lambda x: (theirs(x) ** 3 * torch.tensor(c)).sum())(torch.tensor(x))
    got = ng.hessian(lambda x: (ours(x) ** 3 * ng.tensor(c)).sum())(ng.tensor(x))
    np.testing.assert_allclose(_np(got), _np(want), rtol=1e-9, atol=1e-9)


def test_checkpoint_runs_the_layer_twice_and_updates_twice_as_torch():
    """``ng.checkpoint`` re-runs the layer in the backward pass (one more update), as torch.utils.checkpoint does."""
    from torch.utils.checkpoint import checkpoint

    ours, theirs = ng.nn.BatchNorm1d(3, dtype="float64"), torch.nn.BatchNorm1d(3).double()
    x = _x((5, 3), shift=1.0)
    xo, xt = ng.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (ng.checkpoint(ours)(xo) ** 3).sum().backward()
    (checkpoint(theirs, xt, use_reentrant=False) ** 3).sum().backward()
    np.testing.assert_allclose(_np(xo.grad), xt.grad.numpy(), rtol=1e-10, atol=1e-10)
    _same_as_torch(ours, theirs)
    assert int(ours.num_batches_tracked.item()) == 2


# --- central differences -----------------------------------------------------------------------------------
def test_gradcheck_batch_norm_and_layer_norm():
    x, w, b = _x((5, 2, 3), seed=1), np.array([1.1, -0.7]), np.array([0.2, 0.4])
    assert ng.gradcheck(lambda x, w, b: Fn.batch_norm(x, None, None, w, b, training=True), x, w, b)
    rm, rv = np.array([0.3, -0.1]), np.array([0.8, 1.7])
    assert ng.gradcheck(lambda x, w, b: Fn.batch_norm(x, ng.tensor(rm), ng.tensor(rv), w, b), x, w, b)  # evaluation
    lw, lb = _x((2, 3), seed=2), _x((2, 3), seed=3)
    assert ng.gradcheck(lambda x, w, b: Fn.layer_norm(x, (2, 3), w, b), x, lw, lb)


# --- refusals: nothing written ------------------------------------------------------------------------------
def _trained_bn():
    bn = ng.nn.BatchNorm1d(3, dtype="float64")
    bn(ng.tensor(_x((6, 3), shift=1.0)))
    return bn


@pytest.mark.parametrize("call", ["jvp", "jacfwd", "hessian", "vmap"])
def test_updates_that_would_not_happen_once_are_refused_and_change_nothing(call):
    bn = _trained_bn()
    before = _state(bn)
    f = lambda x: (bn(x) ** 2).sum()  # noqa: E731
    x = ng.tensor(_x((6, 3), seed=2))
    run = {"jvp": lambda: ng.jvp(f, (x,), (x,)), "jacfwd": lambda: ng.jacfwd(f)(x), "hessian": lambda: ng.hessian(f)(x),
           "vmap": lambda: ng.vmap(bn)(ng.tensor(_x((2, 6, 3))))}[call]  # fmt: skip
    fix = "track_running_stats=False" if call == "vmap" else "ng.jacrev"
    with pytest.raises(RuntimeError, match=rf"BatchNorm1d\(3\).*running statistics.*{fix}"):
        run()
    for k, v in _state(bn).items():
        np.testing.assert_array_equal(v, before[k])
    bn.eval()  # the running statistics are read, not written: every transform applies
    want = tf.hessian(lambda x: (TF.batch_norm(x, torch.tensor(before["running_mean"]), torch.tensor(before["running_var"]),
                                               torch.ones(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64))
                                 ** 2).sum())(torch.tensor(_np(x)))  # fmt: skip
    np.testing.assert_allclose(_np(ng.hessian(f)(x)), _np(want), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "shape, match",
    [((4,), r"\(N, 3\) or \(N, 3, L\), got \(4,\).*stack"), ((2, 3, 4, 5), r"got \(2, 3, 4, 5\).*reshape\(N, 3, -1\)"),
     ((8, 4), r"shape \(8, 4\) has 4 channels on axis 1, expected 3.*transpose"),
     ((1, 3), r"more than 1 value per channel.*shape \(1, 3\).*at least 2 examples.*eval\(\)")],
)  # fmt: skip
def test_batchnorm1d_bad_inputs_name_the_layer_the_shape_and_the_fix(shape, match):
    bn = _trained_bn()
    before = _state(bn)
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\): .*" + match):
        bn(ng.tensor(np.ones(shape)))
    for k, v in _state(bn).items():  # PyTorch counts a refused batch; nothing is written here
        np.testing.assert_array_equal(v, before[k])
    bn.eval()
    assert bn(ng.tensor(np.ones((1, 3)))).shape == (1, 3)  # one example is fine with the running statistics


def test_bad_dtypes_and_layernorm_shapes_are_refused_with_the_fix():
    with pytest.raises(TypeError, match=r"BatchNorm1d\(3\): input dtype float32 does not match the layer's float64.*astype"):
        _trained_bn()(ng.tensor(np.ones((4, 3), np.float32)))
    ln = ng.nn.LayerNorm((3, 4))
    with pytest.raises(ValueError, match=r"LayerNorm\(\(3, 4\)\): normalized_shape=\(3, 4\) expects an input of shape "
                                         r"\(\*, 3, 4\), got shape \(2, 4, 3\); .*normalized_shape=\(4, 3\)"):  # fmt: skip
        ln(ng.tensor(np.ones((2, 4, 3), np.float32)))
    with pytest.raises(ValueError, match=r"layer_norm: weight has shape \(3,\), expected \(4,\)"):
        Fn.layer_norm(ng.tensor(np.ones((2, 4))), 4, ng.tensor(np.ones(3)))
    with pytest.raises(TypeError, match="normalized_shape must be a positive int"):
        ng.nn.LayerNorm(0)
    with pytest.raises(TypeError, match="dtype must be a floating-point type"):
        ng.nn.BatchNorm1d(3, dtype="int64")
    with pytest.raises(ValueError, match="momentum must be a number in"):
        ng.nn.BatchNorm1d(3, momentum=2.0)
    with pytest.raises(ValueError, match="running_mean and running_var must be given in evaluation mode"):
        Fn.batch_norm(ng.tensor(np.ones((4, 3))), None, None)


# --- state: state_dict, io, dtype ---------------------------------------------------------------------------
def test_state_dict_round_trips_and_loads_torch_state():
    theirs = torch.nn.BatchNorm1d(3).double()
    for step in range(3):
        theirs(torch.tensor(_x((6, 3), seed=step, shift=2.0)))
    ours = ng.nn.BatchNorm1d(3, dtype="float64")
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})  # host arrays, onto its device
    _same_as_torch(ours, theirs)
    copy = ng.nn.BatchNorm1d(3, dtype="float64")
    copy.load_state_dict(ours.state_dict())
    _same_as_torch(copy, theirs)
    ours.eval(), theirs.eval()
    x = _x((4, 3), seed=9)
    np.testing.assert_allclose(_np(ours(ng.tensor(x))), _np(theirs(torch.tensor(x))), rtol=1e-12, atol=1e-12)


@pytest.mark.numpy_only(NUMPY_ONLY)
def test_io_save_and_load_round_trip(tmp_path):
    model = ng.nn.Sequential(ng.nn.Linear(3, 4, seed=0), ng.nn.BatchNorm1d(4), ng.nn.ReLU(), ng.nn.LayerNorm(4))
    for step in range(3):
        model(ng.tensor(_x((8, 3), seed=step, shift=1.0).astype(np.float32)))
    path = ng.io.save(model, tmp_path / "bn.safetensors")
    fresh = ng.nn.Sequential(ng.nn.Linear(3, 4, seed=5), ng.nn.BatchNorm1d(4), ng.nn.ReLU(), ng.nn.LayerNorm(4))
    loaded = ng.io.load(path, model=fresh)
    for (k, a), (k2, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert k == k2 and a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    assert int(loaded[1].num_batches_tracked.item()) == 3
    model.eval(), loaded.eval()
    x = ng.tensor(_x((5, 3), seed=7).astype(np.float32))
    np.testing.assert_array_equal(_np(model(x)), _np(loaded(x)))


def test_double_and_float_cast_parameters_and_running_stats_not_the_counter():
    ours, theirs = ng.nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3)
    x = _x((6, 3), shift=1.0)
    ours(ng.tensor(x.astype(np.float32))), theirs(torch.tensor(x.astype(np.float32)))
    ours.double(), theirs.double()
    assert {k: str(v.dtype) for k, v in _state(ours).items()} == {
        k: str(v.numpy().dtype) for k, v in theirs.state_dict().items()}  # fmt: skip
    np.testing.assert_allclose(_np(ours(ng.tensor(x))), _np(theirs(torch.tensor(x))), rtol=1e-6, atol=1e-6)
    _same_as_torch(ours, theirs, rtol=1e-6, atol=1e-7)
    ours.float()
    assert ours.running_var.dtype == np.float32 and ours.num_batches_tracked.dtype == np.int64
    ln = ng.nn.LayerNorm(3).double()
    assert ln.weight.dtype == np.float64 and ln(ng.tensor(x)).dtype == np.float64


# --- ng.jit and fit ---------------------------------------------------------------------------------------
def _bn_net(track: bool = True):
    return ng.nn.Sequential(ng.nn.Linear(3, 4, seed=0), ng.nn.BatchNorm1d(4, track_running_stats=track), ng.nn.Tanh(),
                            ng.nn.Linear(4, 1, seed=1))  # fmt: skip


def _sgd_step(model):
    opt = ng.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def step(x, y):
        opt.zero_grad()
        loss = Fn.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def _data(step: int):
    rng = np.random.default_rng(step)
    return rng.standard_normal((8, 3)).astype(np.float32) + step / 10, rng.standard_normal((8, 1)).astype(np.float32)


@pytest.mark.numpy_only(NUMPY_ONLY)
def test_compiled_steps_without_running_updates_equal_eager_steps_over_20_steps():
    """No running statistics (batch statistics only), and a compiled forward in evaluation: programs of ops."""
    eager, compiled = _bn_net(track=False), _bn_net(track=False)
    step_e, step_c = _sgd_step(eager), ng.jit(_sgd_step(compiled))
    for i in range(20):
        np.testing.assert_allclose(_np(step_c(*_data(i))), _np(step_e(*_data(i))), rtol=1e-5, atol=1e-6)
    assert step_c.traces == 1
    for (k, a), b in zip(eager.state_dict().items(), compiled.state_dict().values()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6, err_msg=k)
    model = _bn_net()
    for i in range(3):
        model(ng.tensor(_data(i)[0]))
    model.eval()
    forward = ng.jit(lambda x: model(x))
    for i in range(3):
        np.testing.assert_allclose(_np(forward(_data(i)[0])), _np(model(_data(i)[0])), rtol=1e-6, atol=1e-6)
    model.load_state_dict({**model.state_dict(), "1.running_mean": np.ones(4, np.float32)})  # the program follows it
    np.testing.assert_allclose(_np(forward(_data(0)[0])), _np(model(_data(0)[0])), rtol=1e-6, atol=1e-6)


@pytest.mark.numpy_only(NUMPY_ONLY)
def test_fit_trains_a_batchnorm_model_as_its_eager_steps():
    """``fit`` compiles its step by default: the running statistics' update is an effect of the compiled step, which
    equals the eager steps bit for bit (more in test_s16_batchnorm_jit.py)."""
    x = np.random.default_rng(0).standard_normal((32, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32)).astype(np.float32)
    models = [_bn_net(), _bn_net()]
    for model, jit in zip(models, (True, False)):
        opt = ng.optim.SGD(model.parameters(), lr=0.05)
        ng.train.fit(model, ng.nn.MSELoss(), opt, x, y, epochs=3, batch_size=8, shuffle=False, jit=jit)
    for (k, a), b in zip(models[0].state_dict().items(), models[1].state_dict().values()):
        np.testing.assert_array_equal(a, b, err_msg=k)
    assert int(models[0][1].num_batches_tracked.item()) == 12
