"""The notes' typos in Momentum and Adam, corrected: each step uses the fresh average (lecture 000)."""

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")  # the oracle; without it these tests are skipped


def _steps(opt_factory, w0, grad_fn, n):
    w = ng.nn.Parameter(ng.tensor(np.array(w0, dtype=np.float64)))
    opt = opt_factory([w])
    out = []
    for _ in range(n):
        opt.zero_grad()
        w.grad = ng.tensor(grad_fn(w.numpy()))
        opt.step()
        out.append(w.numpy().copy())
    return out


def test_momentum_steps_with_the_fresh_average():
    """v₁ = λg₀ + (1 − λ)·0, w₁ = w₀ − μv₁ (the notes' stale P₀ = 0 would leave w₁ = w₀)."""
    lam, mu, w0 = 0.1, 0.5, 3.0
    g = lambda w: 2 * w  # f = w²
    w1, w2 = _steps(lambda p: ng.optim.Momentum(p, lr=mu, forgetting=lam), [w0], g, 2)
    v1 = lam * g(w0)
    assert w1[0] == pytest.approx(w0 - mu * v1)
    v2 = lam * g(w1[0]) + (1 - lam) * v1
    assert w2[0] == pytest.approx(w1[0] - mu * v2)


def test_adam_bias_correction_divides_the_fresh_moments():
    """m̂₁ = m₁/(1 − β1) = g₀ and v̂₁ = g₀², so the first step is α·g/(|g| + ε) ≈ α·sign(g)."""
    g0 = np.array([0.3, -4.0])
    w1 = _steps(lambda p: ng.optim.Adam(p, lr=1e-3), [1.0, 1.0], lambda w: g0, 1)[0]
    np.testing.assert_allclose(w1, 1.0 - 1e-3 * g0 / (np.abs(g0) + 1e-8), rtol=1e-12)
    wt = torch.tensor([1.0, 1.0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([wt], lr=1e-3)
    wt.grad = torch.tensor(g0)
    opt.step()
    np.testing.assert_allclose(w1, wt.detach().numpy(), rtol=1e-12)
