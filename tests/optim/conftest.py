"""The optim suite runs on every array namespace (``array_namespace`` in tests/conftest.py)."""

import pytest


@pytest.fixture(autouse=True)
def _on_each_array_namespace(array_namespace):
    yield array_namespace


@pytest.fixture
def step_with_torch():
    """``step(opt, topt, ours, theirs, grads, rtol, atol, msg)``: the same gradients to nablagrad's and torch's
    parameters, one step of each optimiser, then the parameters compared."""
    import numpy as np
    import torch

    import nablagrad as ng

    def step(opt, topt, ours, theirs, grads, rtol, atol, msg=""):
        for p, tp, g in zip(ours, theirs, grads):
            p.grad, tp.grad = ng.tensor(g), torch.tensor(g)
        opt.step()
        topt.step()
        for p, tp in zip(ours, theirs):
            np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=rtol, atol=atol, err_msg=msg)

    return step
