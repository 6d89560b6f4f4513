"""ng.checkpoint as torch.utils.checkpoint.checkpoint(use_reentrant=False): pytree outputs, keyword
arguments, and no gradient where nothing requires one — gradients compared with PyTorch's."""

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")
from torch.utils.checkpoint import checkpoint as torch_checkpoint  # noqa: E402

X = np.array([0.3, -1.2, 2.0, 0.7])
W = np.array([[0.5, -0.25, 1.5, 0.1], [1.0, 0.3, -0.7, 0.2]])


def _pair(x, w, lib):
    """Two outputs of different shapes, one reading a parameter from outside (w)."""
    h = lib.tanh(w @ x)
    return h * 2.0, lib.sin(x) * h.sum()


def _ours(*arrays):
    return [ng.tensor(a, requires_grad=True) for a in arrays]


def _theirs(*arrays):
    return [torch.tensor(a, requires_grad=True) for a in arrays]


def _assert_grads(ours, theirs):
    for a, t in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_tuple_output_gradients_equal_torch_checkpoint_and_the_plain_call():
    cot = [np.array([1.0, -2.0]), np.array([0.5, 1.0, -1.0, 2.0])]
    x, w = _ours(X, W)
    a, b = ng.checkpoint(lambda v: _pair(v, w, ng))(x)
    assert a.requires_grad and b.requires_grad
    ((a * ng.tensor(cot[0])).sum() + (b * ng.tensor(cot[1])).sum()).backward()
    tx, tw = _theirs(X, W)
    ta, tb = torch_checkpoint(lambda v: _pair(v, tw, torch), tx, use_reentrant=False)
    ((ta * torch.tensor(cot[0])).sum() + (tb * torch.tensor(cot[1])).sum()).backward()
    np.testing.assert_allclose(a.numpy(), ta.detach().numpy(), rtol=1e-15)
    _assert_grads([x, w], [tx, tw])
    px, pw = _ours(X, W)  # the un-checkpointed call: the same numbers
    pa, pb = _pair(px, pw, ng)
    ((pa * ng.tensor(cot[0])).sum() + (pb * ng.tensor(cot[1])).sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy(), px.grad.numpy())
    np.testing.assert_array_equal(w.grad.numpy(), pw.grad.numpy())


def test_tuple_output_of_sin_and_cos():
    x = ng.tensor(np.ones(3), requires_grad=True)
    s, c = ng.checkpoint(lambda v: (v.sin(), v.cos()))(x)
    (s * 2.0 + c * 3.0).sum().backward()
    tx = torch.ones(3, dtype=torch.float64, requires_grad=True)
    ts, tc = torch_checkpoint(lambda v: (v.sin(), v.cos()), tx, use_reentrant=False)
    (ts * 2.0 + tc * 3.0).sum().backward()
    _assert_grads([x], [tx])


def test_nested_outputs_keep_their_structure_and_dtypes():
    x = ng.tensor(X, requires_grad=True)
    x32 = ng.tensor(X.astype(np.float32), requires_grad=True)
    out = ng.checkpoint(lambda v, u: {"pair": [v * v, u.exp()], "count": 3, "none": None, "index": ng.tensor([1, 2])})(x, x32)
    assert set(out) == {"pair", "count", "none", "index"} and out["count"] == 3 and out["none"] is None
    assert out["pair"][1].dtype == np.float32 and out["index"].dtype.kind == "i" and not out["index"].requires_grad
    (out["pair"][0].sum() + out["pair"][1].sum()).backward()
    tx, tx32 = torch.tensor(X, requires_grad=True), torch.tensor(X.astype(np.float32), requires_grad=True)
    tout = torch_checkpoint(lambda v, u: {"pair": [v * v, u.exp()]}, tx, tx32, use_reentrant=False)
    (tout["pair"][0].sum() + tout["pair"][1].sum()).backward()
    assert x32.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-15)
    np.testing.assert_allclose(x32.grad.numpy(), tx32.grad.numpy(), rtol=1e-6)


def test_keyword_arguments_are_passed_and_differentiated():
    t = ng.tensor(np.ones(3))
    np.testing.assert_array_equal(ng.checkpoint(lambda x, s=1.0: x * s)(t, s=2.0).numpy(), [2.0, 2.0, 2.0])
    x, s = _ours(X, np.array(1.5))
    (ng.checkpoint(lambda v, scale=None, power=2: (v * scale) ** power)(x, scale=s, power=3)).sum().backward()
    tx, ts = _theirs(X, np.array(1.5))
    torch_checkpoint(
        lambda v, scale=None, power=2: (v * scale) ** power, tx, scale=ts, power=3, use_reentrant=False
    ).sum().backward()
    _assert_grads([x, s], [tx, ts])


def test_no_gradient_is_reported_where_nothing_requires_one():
    f = ng.checkpoint(lambda v: (v.sin(), v.cos() * 2.0))
    for out in (ng.checkpoint(lambda v: v.sin())(ng.tensor(np.ones(3))), *f(ng.tensor(np.ones(3)))):
        assert not out.requires_grad
    assert not torch_checkpoint(lambda v: v.sin(), torch.ones(3), use_reentrant=False).requires_grad
    w = ng.tensor(np.ones(3), requires_grad=True)  # a captured tensor that requires grad: the output does
    y = ng.checkpoint(lambda v: v * w)(ng.tensor(np.full(3, 2.0)))
    assert y.requires_grad
    y.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 2.0, 2.0])


def test_second_order_through_a_tuple_output_is_torchs():
    def f(v):
        return v.sin() * v, v.exp()

    def loss(v, checkpointed):
        a, b = checkpointed(v)
        return (a * b).sum()

    ours = ng.hessian(lambda v: loss(v, ng.checkpoint(f)))(X)
    theirs = torch.autograd.functional.hessian(
        lambda v: loss(v, lambda u: torch_checkpoint(f, u, use_reentrant=False)), torch.tensor(X)
    )
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


def test_a_checkpointed_tuple_keeps_the_tape_small():
    rng = np.random.default_rng(0)
    weights = [ng.tensor(rng.standard_normal((32, 32)) / 6, requires_grad=True) for _ in range(12)]

    def block(h, g):
        for w in weights:
            h, g = ng.tanh(h @ w) + g, h
        return h, g

    x = ng.tensor(rng.standard_normal((64, 32)), requires_grad=True)
    plain = sum(t.sum() for t in block(x, x * 1.0))
    ckpt = sum(t.sum() for t in ng.checkpoint(block)(x, x * 1.0))
    assert ng.tape_nbytes(ckpt) * 3 < ng.tape_nbytes(plain)
    grads = []
    for out in (plain, ckpt):
        out.backward()
        grads.append([t.grad.numpy().copy() for t in (x, *weights)])
        for t in (x, *weights):
            t.grad = None
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-12)
