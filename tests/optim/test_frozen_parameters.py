"""A frozen parameter (``requires_grad=False``) is taken by an optimiser, as torch takes it, and never moves:
the fine-tuning pattern ``freeze, then Adam(model.parameters())``."""

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_a_frozen_layer_stays_and_the_rest_follows_torch(name):
    rng = np.random.default_rng(0)
    W1, b1, W2, b2 = rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal((4, 2)), rng.standard_normal(2)
    X = rng.standard_normal((5, 3))
    ours = [ng.nn.Parameter(a.copy()) for a in (W1, b1, W2, b2)]
    theirs = [torch.nn.Parameter(torch.tensor(a.copy())) for a in (W1, b1, W2, b2)]
    for p in (*ours[:2], *theirs[:2]):
        p.requires_grad_(False)
    opt = getattr(ng.optim, name)(ours, lr=0.05)
    topt = getattr(torch.optim, name)(theirs, lr=0.05)
    for _ in range(5):
        for L, (w1, c1, w2, c2), o in ((ng, ours, opt), (torch, theirs, topt)):
            o.zero_grad()
            x = L.tensor(X)
            (L.tanh(x @ w1 + c1) @ w2 + c2).pow(2).sum().backward()
            o.step()
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(ours[0].numpy(), W1)
    if name in ("Adam", "AdamW", "RMSprop"):  # state made at the first step: none for the frozen ones
        assert sorted(opt.state_dict()["state"]) == sorted(topt.state_dict()["state"]) == [2, 3]
