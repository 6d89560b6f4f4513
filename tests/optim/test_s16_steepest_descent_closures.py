"""SteepestDescent.step takes both closures a PyTorch user writes: LBFGS's (zero_grad, backward, return the loss)
and one that only returns the loss after the gradients were put in .grad; both take the same exact steps, checked
against the closed form on a quadratic and against torch's loss along the search line on a non-quadratic."""

import numpy as np
import pytest

import nablagrad as ng
from nablagrad import optim

torch = pytest.importorskip("torch")

A = np.array([[3.0, 0.5], [0.5, 1.0]])
B = np.array([1.0, -1.0])
X0 = np.array([0.3, -0.7])


def _quadratic(w):
    """``½ wᵀAw − bᵀw``, minimum at ``A⁻¹ b``."""
    return 0.5 * (w @ ng.tensor(A) @ w) - (ng.tensor(B) * w).sum()


def _run(style: str, steps: int):
    w = ng.nn.Parameter(ng.tensor(X0.copy()))
    opt = optim.SteepestDescent([w])
    sizes = []
    for _ in range(steps):
        if style == "torch":

            def closure():
                opt.zero_grad()
                loss = _quadratic(w)
                loss.backward()
                return loss

        else:
            opt.zero_grad()
            _quadratic(w).backward()

            def closure():
                return _quadratic(w)

        opt.step(closure)
        sizes.append(opt.last_step_size)
    return w.numpy(), sizes


@pytest.mark.parametrize("style", ["torch", "loss_only"])
def test_the_first_step_is_the_exact_step_of_the_closed_form(style):
    g = A @ X0 - B
    eta = g @ g / (g @ A @ g)
    w, sizes = _run(style, 1)
    assert sizes[0] == pytest.approx(eta, rel=1e-6)
    np.testing.assert_allclose(w, X0 - eta * g, rtol=1e-6, atol=1e-9)


def test_both_closure_styles_take_the_same_steps_to_the_minimum():
    w_torch, s_torch = _run("torch", 50)
    w_loss, s_loss = _run("loss_only", 50)
    np.testing.assert_array_equal(w_torch, w_loss)
    assert s_torch == s_loss
    np.testing.assert_allclose(w_torch, np.linalg.solve(A, B), atol=1e-6)


def _rosenbrock(w, lib):
    return (1 - w[0]) ** 2 + 100 * (w[1] - w[0] ** 2) ** 2 + lib.exp(0.1 * w[0])


def test_a_torch_style_step_minimises_torchs_loss_along_torchs_gradient_and_keeps_that_gradient():
    x0 = np.array([-0.8, 1.2])
    tw = torch.tensor(x0, requires_grad=True)
    _rosenbrock(tw, torch).backward()
    g = tw.grad.numpy().copy()

    w = ng.nn.Parameter(ng.tensor(x0.copy()))
    opt = optim.SteepestDescent([w])
    calls = []

    def closure():
        calls.append(1)
        opt.zero_grad()
        loss = _rosenbrock(w, ng)
        loss.backward()
        return loss

    f0 = opt.step(closure)
    assert len(calls) > 5  # the search evaluated trial points through the same closure
    assert f0 == pytest.approx(float(_rosenbrock(torch.tensor(x0), torch)), rel=1e-12)
    mu = opt.last_step_size
    np.testing.assert_allclose(w.numpy(), x0 - mu * g, rtol=1e-12, atol=1e-12)  # along torch's antigradient
    np.testing.assert_allclose(w.grad.numpy(), g, rtol=1e-12)  # .grad: the gradient the step used, not a trial's

    def phi(m):
        return float(_rosenbrock(torch.tensor(x0 - m * g), torch))

    best = phi(mu)
    assert mu > 0 and best < f0
    for m in np.linspace(0.0, 3 * mu, 301):  # the minimum along the line, within the search's tolerance
        assert best <= phi(m) + 1e-9


def test_a_torch_style_closure_that_raises_mid_search_leaves_parameters_and_gradient():
    w = ng.nn.Parameter(ng.tensor(X0.copy()))
    opt = optim.SteepestDescent([w])
    calls = []

    def closure():
        calls.append(1)
        if len(calls) == 4:
            raise RuntimeError("closure failed")
        opt.zero_grad()
        loss = _quadratic(w)
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match="closure failed"):
        opt.step(closure)
    np.testing.assert_array_equal(w.numpy(), X0)
    np.testing.assert_allclose(w.grad.numpy(), A @ X0 - B, rtol=1e-12)


def test_a_missing_closure_or_one_that_returns_no_loss_names_the_fix():
    w = ng.nn.Parameter(ng.tensor(X0.copy()))
    opt = optim.SteepestDescent([w])
    with pytest.raises(TypeError, match=r"needs a closure that returns the loss, e.g. def closure\(\): opt.zero_grad\(\)"):
        opt.step()

    def closure():
        opt.zero_grad()
        _quadratic(w).backward()

    with pytest.raises(TypeError, match="the closure must return the loss .* got NoneType"):
        opt.step(closure)
    np.testing.assert_array_equal(w.numpy(), X0)
