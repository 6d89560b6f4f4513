"""The version counter, retain_grad and differentiable assignment, against PyTorch."""

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")  # the oracle; without it these tests are skipped


def test_backward_after_an_optimizer_step_raises_like_torch():
    w = ng.nn.Parameter(ng.tensor([1.0, 2.0]))
    opt = ng.optim.SGD([w], lr=0.1)
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*'mul'.*backward\\(\\) before"):
        loss.backward()
    tw = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    tl = (tw * tw).sum()
    tl.backward(retain_graph=True)
    torch.optim.SGD([tw], lr=0.1).step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        tl.backward()


def test_zero_and_setitem_bump_the_version():
    x = ng.tensor([1.0, 2.0], requires_grad=True)
    c = ng.tensor([3.0, 4.0])
    y = (x * c).sum()
    c[0] = 5.0
    with pytest.raises(RuntimeError, match="inplace"):
        y.backward()
    y = (x * c).sum()
    c.zero_()
    with pytest.raises(RuntimeError, match="inplace"):
        y.backward()
    y = (x * c).sum()  # recomputed after the change: fine
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


def test_retain_grad_fills_a_non_leaf_grad_like_torch():
    x = ng.tensor([0.5, -1.0, 2.0], requires_grad=True)
    h = ng.tanh(x) * 3.0
    h.retain_grad()
    (h * h).sum().backward()
    tx = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    th = torch.tanh(tx) * 3.0
    th.retain_grad()
    (th * th).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), th.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6)
    assert h.retains_grad


def test_assignment_on_a_non_leaf_is_differentiable_like_torch():
    x = ng.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = ng.tensor([10.0], requires_grad=True)
    y = x * 2.0
    y[1:2] = v * v
    (y * ng.tensor([1.0, 2.0, 3.0])).sum().backward()
    tx = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    tv = torch.tensor([10.0], requires_grad=True)
    ty = tx * 2.0
    ty[1:2] = tv * tv
    (ty * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(y.numpy(), ty.detach().numpy())
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
    np.testing.assert_array_equal(v.grad.numpy(), tv.grad.numpy())


def test_assignment_on_a_leaf_that_requires_grad_is_refused():
    x = ng.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor.*index_update"):
        x[0] = 3.0
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0])


def test_assignment_after_use_is_caught_by_the_version_counter():
    x = ng.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1.0
    z = (y * y).sum()  # saves y
    y[0] = 0.0
    with pytest.raises(RuntimeError, match="inplace"):
        z.backward()


def test_index_update_is_functional_and_differentiable_in_every_mode(rng):
    x, v = rng.standard_normal(4), rng.standard_normal(2)
    idx = np.array([0, 2])

    def f(x, v):
        return ng.sin(ng.index_update(x, idx, v * v)).sum()

    def ft(x, v):
        return torch.sin(x.index_put((torch.tensor(idx),), v * v)).sum()

    tx, tv = torch.tensor(x), torch.tensor(v)
    for ours, theirs in ((ng.grad(f, argnums=(0, 1)), torch.func.grad(ft, argnums=(0, 1))),):
        for a, b in zip(ours(x, v), theirs(tx, tv)):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)
    h = ng.hessian(f, argnums=1)(x, v)
    th = torch.func.hessian(ft, argnums=1)(tx, tv)
    np.testing.assert_allclose(h.numpy(), th.numpy(), rtol=1e-12, atol=1e-14)
    jf = ng.jacfwd(lambda x: ng.index_update(x, idx, 0.0))(x)
    np.testing.assert_array_equal(jf.numpy(), np.diag([0.0, 1.0, 0.0, 1.0]))
