"""At kinks and saturations nablagrad gives PyTorch's finite gradients: masks select, never
multiply (0·∞ = NaN)."""

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")  # the oracle; without it these tests are skipped

X = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])


def _grad_pair(f_ng, f_th, x, dtype=np.float64):
    g = ng.grad(lambda v: f_ng(v).sum())(x.astype(dtype))
    t = torch.tensor(x.astype(dtype), requires_grad=True)
    f_th(t).sum().backward()
    return g.numpy(), t.grad.numpy()


CASES = {
    "sqrt(relu)": (lambda v: ng.sqrt(ng.relu(v)), lambda t: torch.sqrt(torch.relu(t))),
    "sqrt(clip lo)": (lambda v: ng.sqrt(ng.clip(v, min=0.0)), lambda t: torch.sqrt(torch.clamp(t, min=0.0))),
    "sqrt(clip hi)": (lambda v: ng.sqrt(-ng.clip(v, max=0.0)), lambda t: torch.sqrt(-torch.clamp(t, max=0.0))),
    "sqrt(maximum)": (
        lambda v: ng.sqrt(ng.maximum(v, 0.0)),
        lambda t: torch.sqrt(torch.maximum(t, torch.tensor(0.0, dtype=t.dtype))),
    ),
    "sqrt(-minimum)": (
        lambda v: ng.sqrt(-ng.minimum(v, 0.0)),
        lambda t: torch.sqrt(-torch.minimum(t, torch.tensor(0.0, dtype=t.dtype))),
    ),
    "sqrt(where)": (lambda v: ng.sqrt(ng.where(v > 0, v, 0.0)), lambda t: torch.sqrt(torch.where(t > 0, t, 0.0))),
    "relu": (ng.relu, torch.relu),
    "abs": (ng.abs, torch.abs),
    "maximum ties": (lambda v: ng.maximum(v, 0.0 * v), lambda t: torch.maximum(t, 0.0 * t)),
    "minimum ties": (lambda v: ng.minimum(v, 0.0 * v), lambda t: torch.minimum(t, 0.0 * t)),
    "clip bounds": (lambda v: ng.clip(v, -0.5, 0.5), lambda t: torch.clamp(t, -0.5, 0.5)),
    "pow 0": (lambda v: v**0.0, lambda t: t**0.0),
    "pow 2": (lambda v: v**2.0, lambda t: t**2.0),
    "pow 0.5 of relu": (lambda v: ng.relu(v) ** 0.5, lambda t: torch.relu(t) ** 0.5),
}


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradients_at_kinks_match_torch(name, dtype):
    f_ng, f_th = CASES[name]
    ours, theirs = _grad_pair(f_ng, f_th, X, dtype)
    assert not np.any(np.isnan(theirs)), "the case is only meaningful where torch has no NaN"
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)  # inf (sqrt at exactly 0) equals inf


def test_second_derivatives_at_kinks_are_finite_like_torch():
    ours = ng.hessian(lambda v: ng.sqrt(ng.relu(v) + 1.0).sum() + ng.maximum(v, 0.0).sum())(X)
    theirs = torch.func.hessian(lambda t: torch.sqrt(torch.relu(t) + 1.0).sum() + torch.maximum(t, torch.zeros_like(t)).sum())(
        torch.tensor(X)
    )
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-15)


def test_standardising_a_constant_row_gives_finite_gradients_like_torch():
    x = np.array([[1.0, 1.0, 1.0], [0.0, 1.0, 3.0]])
    for correction in (0, 1):

        def f(v, lib):
            m = v.mean(axis=1, keepdims=True) if lib is ng else v.mean(dim=1, keepdim=True)
            s = (
                v.std(axis=1, keepdims=True, correction=correction)
                if lib is ng
                else v.std(dim=1, keepdim=True, correction=correction)
            )
            return ((v - m) / (s + 1e-5) * lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)).sum()

        g = ng.grad(lambda v: f(v, ng))(x)
        t = torch.tensor(x, requires_grad=True)
        f(t, torch).backward()
        np.testing.assert_allclose(g.numpy(), t.grad.numpy(), rtol=1e-6, atol=1e-9)
        assert np.all(np.isfinite(g.numpy()))


def test_std_gradient_and_jvp_match_torch(rng):
    x = rng.standard_normal((3, 4))
    for axis, correction in ((None, 0), (0, 1), (1, 0)):
        g = ng.grad(lambda v: (v.std(axis=axis, correction=correction) * 2.0).sum())(x)
        dim = axis if axis is not None else (0, 1)
        tg = torch.func.grad(lambda t: (t.std(dim=dim, correction=correction) * 2.0).sum())(torch.tensor(x))
        np.testing.assert_allclose(g.numpy(), tg.numpy(), rtol=1e-12)
        _, jt = ng.jvp(lambda v: v.std(axis=axis, correction=correction), (x,), (np.ones_like(x),))
        _, tjt = torch.func.jvp(
            lambda t: t.std(dim=dim, correction=correction), (torch.tensor(x),), (torch.ones(3, 4, dtype=torch.float64),)
        )
        np.testing.assert_allclose(jt.numpy(), tjt.numpy(), rtol=1e-12, atol=1e-15)


def test_log_softmax_keeps_float32_precision_at_large_logits():
    z = np.array([[1e4, 1e4 + 1.0, 1e4 - 2.0]], dtype=np.float32)
    ours = ng.log_softmax(ng.tensor(z), axis=1).numpy()
    theirs = torch.log_softmax(torch.tensor(z), dim=1).numpy()
    exact = torch.log_softmax(torch.tensor(z, dtype=torch.float64), dim=1).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    np.testing.assert_allclose(ours, exact, rtol=1e-6)


def test_bce_on_saturated_correct_predictions_gives_zero_gradient_like_torch():
    z = np.array([20.0, -20.0, 0.3], dtype=np.float32)
    y = np.array([1.0, 0.0, 1.0], dtype=np.float32)
    logits = ng.tensor(z, requires_grad=True)
    loss = ng.nn.BCELoss()(ng.sigmoid(logits), ng.tensor(y))
    loss.backward()
    tz = torch.tensor(z, requires_grad=True)
    tloss = torch.nn.BCELoss()(torch.sigmoid(tz), torch.tensor(y))
    tloss.backward()
    assert loss.item() == pytest.approx(tloss.item(), rel=1e-6)
    np.testing.assert_allclose(logits.grad.numpy(), tz.grad.numpy(), rtol=1e-5, atol=1e-12)
    assert np.all(np.isfinite(logits.grad.numpy()))


def test_bce_primitive_equals_the_composite_where_that_is_finite(rng):
    o = rng.uniform(0.05, 0.95, 6)
    y = rng.uniform(0, 1, 6)
    fused = ng.grad(lambda p, t: ng.nn.functional.binary_cross_entropy(p, t, reduction="sum"), argnums=(0, 1))(o, y)
    composite = ng.grad(lambda p, t: (-(t * ng.log(p) + (1 - t) * ng.log(1 - p))).sum(), argnums=(0, 1))(o, y)
    for a, b in zip(fused, composite):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10)
    h = ng.hessian(lambda p: ng.nn.functional.binary_cross_entropy(p, y, reduction="sum"))(o)
    th = torch.func.hessian(lambda p: torch.nn.functional.binary_cross_entropy(p, torch.tensor(y), reduction="sum"))(
        torch.tensor(o)
    )
    np.testing.assert_allclose(h.numpy(), th.numpy(), rtol=1e-9)


NORM_AT_ZERO = {
    "linalg.norm": (lambda v: ng.linalg.norm(v), lambda t: torch.linalg.norm(t)),
    "x.norm()": (lambda v: v.norm(), lambda t: t.norm()),
    "norm p=3": (lambda v: ng.linalg.norm(v, ord=3), lambda t: torch.linalg.norm(t, ord=3)),
    "norm p=0.5": (lambda v: ng.linalg.norm(v, ord=0.5), lambda t: torch.linalg.norm(t, ord=0.5)),
    "norm dim keepdim": (
        lambda v: ng.norm(v.reshape(1, -1), dim=1, keepdim=True),
        lambda t: torch.norm(t.reshape(1, -1), dim=1, keepdim=True),
    ),
    "frobenius": (
        lambda v: ng.linalg.norm(v.reshape(1, -1), ord="fro"),
        lambda t: torch.linalg.norm(t.reshape(1, -1), ord="fro"),
    ),
    "atan2 at the origin": (lambda v: ng.arctan2(v, v), lambda t: torch.atan2(t, t)),
    "atan2 against 0": (lambda v: ng.arctan2(v, 0.0 * v), lambda t: torch.atan2(t, 0.0 * t)),
}


@pytest.mark.parametrize("name", list(NORM_AT_ZERO))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_norms_and_atan2_at_zero_give_torchs_finite_gradient(name, dtype):
    """A p-norm of the zero vector has gradient 0 in PyTorch (not 0·∞ = nan), and so has
    arctan2 at the origin."""
    f_ng, f_th = NORM_AT_ZERO[name]
    for x in (np.zeros(3), np.array([0.0, 1.5, -2.0])):
        ours, theirs = _grad_pair(f_ng, f_th, x, dtype)
        assert not np.any(np.isnan(theirs))
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)


def test_norm_at_zero_stays_finite_under_higher_derivatives_and_vmap():
    for f_ng, f_th in [
        (lambda v: ng.linalg.norm(v), lambda t: torch.linalg.norm(t)),
        (lambda v: ng.linalg.norm(v) ** 2, lambda t: torch.linalg.norm(t) ** 2),
        (lambda v: ng.linalg.norm(v, ord=3), lambda t: torch.linalg.norm(t, ord=3)),
    ]:
        hess = ng.hessian(f_ng)(np.zeros(3))
        np.testing.assert_array_equal(hess.numpy(), torch.func.hessian(f_th)(torch.zeros(3, dtype=torch.float64)).numpy())
    per_row = ng.vmap(ng.grad(lambda v: ng.linalg.norm(v)))(np.array([[0.0, 0.0, 0.0], [3.0, 4.0, 0.0]]))
    np.testing.assert_allclose(per_row.numpy(), [[0, 0, 0], [0.6, 0.8, 0]], atol=1e-15)
