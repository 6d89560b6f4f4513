"""nn against torch 2.13 (float64): ``F.prelu``'s shapes and checks, ``binary_cross_entropy``'s target check, the
``weight=`` of ``mse_loss`` / ``l1_loss`` / ``huber_loss``, ``Sequential`` / ``ModuleList`` arithmetic and
``register_forward_hook(always_call=True)``.  Oracle: torch computed in each test."""

import warnings

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")
TF = torch.nn.functional
tnn = torch.nn
nn = ng.nn
F = nn.functional

_R = np.random.default_rng(21)


def _grads_match(ours: list, theirs: list) -> None:
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12, atol=1e-14)


# --- prelu -------------------------------------------------------------------------------------------------------
SLOPES = {"0-d": np.array(0.2), "one": np.array([0.2]), "per-channel": np.array([0.1, -0.2, 0.3, 2.0])}
INPUTS = {"0-d": np.array(-2.0), "1-D": _R.standard_normal(4), "2-D": _R.standard_normal((3, 4)),
          "3-D": _R.standard_normal((2, 4, 3))}  # fmt: skip


@pytest.mark.parametrize("slope", sorted(SLOPES))
@pytest.mark.parametrize("shape", sorted(INPUTS))
def test_prelu_shape_values_and_gradients_as_torch(slope, shape):
    x, w = INPUTS[shape], SLOPES[slope]
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    xs, ws = ng.tensor(x, requires_grad=True), ng.tensor(w, requires_grad=True)
    try:
        want = TF.prelu(xt, wt)
    except RuntimeError:  # per-channel slopes for an input of one channel (0-d, 1-D): refused by both
        with pytest.raises(ValueError, match="prelu: 4 slopes for an input of shape"):
            F.prelu(xs, ws)
        return
    got = F.prelu(xs, ws)
    assert got.shape == tuple(want.shape)  # a 0-d input stays 0-d (it was (1,) with a (1,) slope)
    np.testing.assert_allclose(got.numpy(), want.detach().numpy(), rtol=1e-12)
    g = _R.standard_normal(want.shape)
    (got * ng.tensor(g)).sum().backward()
    (want * torch.tensor(g)).sum().backward()
    _grads_match([xs, ws], [xt, wt])


def test_prelu_module_keeps_a_0d_input_0d():
    ours, theirs = nn.PReLU(dtype="float64"), tnn.PReLU(dtype=torch.float64)
    assert ours(ng.tensor(np.array(-3.0))).shape == tuple(theirs(torch.tensor(-3.0, dtype=torch.float64)).shape) == ()


def test_prelu_refuses_a_2d_weight_as_torch():
    x = INPUTS["3-D"]
    with pytest.raises(RuntimeError):
        TF.prelu(torch.tensor(x), torch.ones(4, 1, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"prelu: weight must be a scalar or 1-D tensor of slopes, got shape \(4, 1\)"):
        F.prelu(ng.tensor(x), ng.tensor(np.ones((4, 1))))


# --- binary_cross_entropy's target -------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [1.5, -0.25, np.nan])
def test_binary_cross_entropy_refuses_targets_outside_unit_interval_as_torch(bad):
    probs, target = np.full(3, 0.5), np.array([bad, 0.0, 1.0])
    with pytest.raises(RuntimeError, match="target should be between 0 and 1"):
        TF.binary_cross_entropy(torch.tensor(probs), torch.tensor(target))
    with pytest.raises(ValueError, match=r"binary_cross_entropy: target values must lie in \[0, 1\]"):
        F.binary_cross_entropy(ng.tensor(probs), target)
    with pytest.raises(ValueError, match="target values must lie"):
        nn.BCELoss()(ng.tensor(probs), target)


def test_binary_cross_entropy_takes_soft_targets_in_the_interval():
    p, y = _R.uniform(0.05, 0.95, (3, 4)), _R.uniform(0, 1, (3, 4))
    y[0, :2] = (0.0, 1.0)
    np.testing.assert_allclose(F.binary_cross_entropy(ng.tensor(p), y).item(),
                               TF.binary_cross_entropy(torch.tensor(p), torch.tensor(y)).item(), rtol=1e-12)  # fmt: skip


# --- weight= of the regression losses (torch 2.13) ---------------------------------------------------------------
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_regression_loss_weight_as_torch(name, reduction):
    x, y, w = _R.standard_normal((3, 4)), _R.standard_normal((3, 4)), _R.uniform(0.1, 2.0, (3, 4))
    ours = [ng.tensor(a, requires_grad=True) for a in (x, y, w)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, y, w)]
    extra = {"delta": 0.4} if name == "huber_loss" else {}
    got = getattr(F, name)(ours[0], ours[1], reduction=reduction, weight=ours[2], **extra)
    want = getattr(TF, name)(theirs[0], theirs[1], reduction=reduction, weight=theirs[2], **extra)
    np.testing.assert_allclose(got.numpy(), want.detach().numpy(), rtol=1e-12)
    g = _R.standard_normal(want.shape)
    (got * ng.tensor(g)).sum().backward()
    (want * torch.tensor(g)).sum().backward()
    _grads_match(ours, theirs)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_regression_loss_weight_of_another_shape_is_refused_as_torch(name):
    x = _R.standard_normal((3, 4))
    with pytest.raises(ValueError, match="Weights and input must have the same size"):
        getattr(TF, name)(torch.tensor(x), torch.tensor(x), weight=torch.ones(4, dtype=torch.float64))
    with pytest.raises(ValueError, match=rf"{name}: weight of shape \(4,\) must have the input's shape \(3, 4\)"):
        getattr(F, name)(ng.tensor(x), x, weight=np.ones(4))


def test_weight_given_in_torchs_position_names_the_fix():
    """PyTorch's third positional argument is ``weight``; here it is ``reduction``: the error says so."""
    with pytest.raises(ValueError, match=r"got a ndarray of shape \(3,\); the argument after the target is reduction"):
        F.cross_entropy(ng.tensor(np.ones((2, 3))), np.array([0, 1]), np.ones(3))


# --- Sequential / ModuleList arithmetic --------------------------------------------------------------------------
def _names(m) -> list:
    return [(k, type(v).__name__) for k, v in m._modules.items()]


def _pair():
    return nn.Sequential(nn.ReLU(), nn.Tanh()), tnn.Sequential(tnn.ReLU(), tnn.Tanh())


@pytest.mark.parametrize("op", ["add", "mul", "rmul", "iadd", "imul"])
def test_sequential_arithmetic_as_torch(op):
    (s, ts), (u, tu) = _pair(), _pair()
    do = {"add": lambda a, b: a + b, "mul": lambda a, b: a * 3, "rmul": lambda a, b: 2 * a,
          "iadd": lambda a, b: a.__iadd__(b), "imul": lambda a, b: a.__imul__(3)}[op]  # fmt: skip
    got, want = do(s, u), do(ts, tu)
    assert type(got) is nn.Sequential and _names(got) == _names(want)
    assert (got is s) == (want is ts)  # in place for += and *=, a new container otherwise
    assert got[0] is s[0] if op != "add" else got[2] is u[0]  # the same module objects (shared parameters)


def test_sequential_arithmetic_refusals_as_torch():
    s, ts = _pair()
    for bad, kind in ((lambda a: a + [a[0]], ValueError), (lambda a: a * 0, ValueError), (lambda a: a * 1.5, TypeError)):
        with pytest.raises(kind):
            bad(ts)
        with pytest.raises(kind, match="Sequential"):
            bad(s)
    assert len(s) == 2


def test_modulelist_add_and_iadd_as_torch():
    ml, tml = nn.ModuleList([nn.ReLU()]), tnn.ModuleList([tnn.ReLU()])
    assert _names(ml + [nn.Tanh()]) == _names(tml + [tnn.Tanh()]) and len(ml) == 1
    same = ml
    ml += nn.ModuleList([nn.Tanh()])
    tml += tnn.ModuleList([tnn.Tanh()])
    assert ml is same and _names(ml) == _names(tml)


# --- register_forward_hook(always_call=True) ---------------------------------------------------------------------
def _hook_log(lib, tensor, fails: str) -> list:
    log = []

    class Doubler(lib.Module):
        def forward(self, x):
            if fails == "forward":
                raise ValueError("boom")
            return x * 2

    def plain(mod, args, out):
        log.append(("plain", float(out.sum())))
        if fails == "hook":
            raise KeyError("hook")

    def failing(mod, args, out):
        log.append(("failing",))
        raise RuntimeError("its own error")

    m = Doubler()
    m.register_forward_hook(lambda mod, a, out: log.append(("always", None if out is None else float(out.sum()))),
                            always_call=True)  # fmt: skip
    m.register_forward_hook(plain)
    m.register_forward_hook(lambda mod, a, kw, out: log.append(("kwargs", kw, None if out is None else float(out.sum()))),
                            with_kwargs=True, always_call=True)  # fmt: skip
    m.register_forward_hook(failing, always_call=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            m(tensor(np.ones(2)))
        except Exception as e:  # noqa: BLE001 - which error the call raised is what is compared
            log.append(("raised", type(e).__name__))
    return [*log, ("warnings", len(caught))]


@pytest.mark.parametrize("fails", ["forward", "hook", "nothing"])
def test_always_call_forward_hooks_run_as_torchs(fails):
    """After an error the always_call hooks not yet run are called (output None when forward raised), their own errors
    turned into warnings, and the call's first error is raised on."""
    assert _hook_log(nn, ng.tensor, fails) == _hook_log(tnn, torch.tensor, fails)


def test_always_call_must_be_a_bool():
    with pytest.raises(TypeError, match="always_call must be True or False"):
        nn.ReLU().register_forward_hook(lambda *a: None, always_call="yes")
