"""RMSprop's state in PyTorch's layout: ``step`` counted beside its buffers, so a state_dict moves between them."""

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("options", [{}, {"momentum": 0.9}, {"centered": True}, {"momentum": 0.5, "centered": True}])
def test_rmsprop_state_has_torchs_keys_and_step_count(options):
    rng = np.random.default_rng(0)
    W, x = rng.standard_normal((3, 2)).astype(np.float32), rng.standard_normal((4, 3)).astype(np.float32)
    w = ng.tensor(W, requires_grad=True)
    opt = ng.optim.RMSprop([w], lr=0.01, **options)
    wt = torch.tensor(W, requires_grad=True)
    opt_t = torch.optim.RMSprop([wt], lr=0.01, **options)
    for _ in range(3):
        opt.zero_grad()
        (ng.tensor(x) @ w).tanh().sum().backward()
        opt.step()
        opt_t.zero_grad()
        (torch.tensor(x) @ wt).tanh().sum().backward()
        opt_t.step()
    ours, theirs = opt.state_dict()["state"][0], opt_t.state_dict()["state"][0]
    assert sorted(ours) == sorted(theirs)
    assert ours["step"] == int(theirs["step"]) == 3
    for k in theirs:
        if k != "step":
            np.testing.assert_allclose(ng.as_tensor(ours[k]).numpy(), theirs[k].numpy(), rtol=1e-5, atol=1e-7)
    again = ng.optim.RMSprop([w], lr=0.01, **options)
    again.load_state_dict(opt.state_dict())
    assert again.state_dict()["state"][0]["step"] == 3
