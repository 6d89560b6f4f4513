"""index_add against PyTorch 2.13: values along every dim (repeated indices accumulate, alpha, int/bool dtypes,
0-d tensors), gradients in x and source to second order, central differences in float64, an index tensor written
in place after the op (refused, as PyTorch refuses), the in-place method index_add_, and the errors."""

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(15)
X = RNG.standard_normal((3, 4, 2))
CASES = [  # (dim, index, alpha)
    (0, [0, 2, 0, 0], 1),
    (1, [3, 1, 3], 2.5),
    (2, [1], -1),
    (-1, [0, 1, 1, 0, 1], 0.5),
    (0, [], 1),
]


def _source(dim, index, dtype=np.float64):
    shape = list(X.shape)
    shape[dim] = len(index)
    return RNG.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize(("dim", "index", "alpha"), CASES)
def test_values_and_gradients_match_torch(dim, index, alpha):
    src = _source(dim, index)
    w = RNG.standard_normal(X.shape)
    x, s = ng.tensor(X, requires_grad=True), ng.tensor(src, requires_grad=True)
    out = ng.index_add(x, dim, ng.tensor(np.array(index, np.int64)), s, alpha=alpha)
    (out * ng.tensor(w)).sum().backward()
    tx, ts = torch.tensor(X, requires_grad=True), torch.tensor(src, requires_grad=True)
    tout = torch.index_add(tx, dim, torch.tensor(index, dtype=torch.int64), ts, alpha=alpha)
    (tout * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-15)
    np.testing.assert_allclose(s.grad.numpy(), ts.grad.numpy(), rtol=1e-15)
    # the method, an int32 index and a list give the same
    np.testing.assert_array_equal(ng.tensor(X).index_add(dim, np.array(index, np.int32), ng.tensor(src), alpha=alpha).numpy(),
                                  out.numpy())  # fmt: skip


def test_second_order_matches_torch():
    src = _source(1, [3, 1, 3])
    idx = [3, 1, 3]

    def loss_ng(x, s):
        y = ng.index_add(x * x, 1, ng.tensor(idx), s * x[:, :3, :], alpha=2.0)
        return (y * y).sum()

    got = ng.grad(lambda x, s: (ng.grad(loss_ng, argnums=(0, 1))(x, s)[1] ** 2).sum(), argnums=(0, 1))(
        ng.tensor(X), ng.tensor(src)
    )
    tx, ts = torch.tensor(X, requires_grad=True), torch.tensor(src, requires_grad=True)
    y = torch.index_add(tx * tx, 1, torch.tensor(idx), ts * tx[:, :3, :], alpha=2.0)
    (gs,) = torch.autograd.grad((y * y).sum(), ts, create_graph=True)
    want = torch.autograd.grad((gs**2).sum(), (tx, ts))
    for g, t in zip(got, want):
        np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-12)


def test_central_differences_in_float64():
    src = _source(0, [0, 2, 0, 0])
    f = lambda x, s: ng.index_add(x, 0, np.array([0, 2, 0, 0]), s, alpha=1.5) ** 2  # noqa: E731
    assert ng.gradcheck(f, ng.tensor(X[:, :2, :1]), ng.tensor(src[:, :2, :1]))


def test_integer_bool_and_zero_d_tensors_as_torch():
    cases = [
        (np.zeros(3, np.int64), 0, [0, 1, 0], np.array([1, 2, 3]), {"alpha": 2}),
        (np.zeros((2, 2), np.int32), 1, [1, 1], np.ones((2, 2), np.int32), {}),
        (np.zeros(3, bool), 0, [0, 1], np.array([True, False]), {}),
        (np.array(1.0), 0, [0], np.array(2.0), {}),
        (np.array(1.0), 0, 0, np.array(2.0), {}),
        (np.zeros((3, 2)), 0, 1, np.ones((1, 2)), {}),
    ]
    for x, dim, index, src, kw in cases:
        got = ng.index_add(ng.tensor(x), dim, ng.tensor(np.array(index)), ng.tensor(src), **kw)
        want = torch.index_add(torch.tensor(x), dim, torch.tensor(index), torch.tensor(src), **kw)
        assert got.shape == tuple(want.shape) and str(got.dtype) == str(want.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_errors_as_torch():
    a, t = ng.zeros(3, 2), torch.zeros(3, 2)
    cases = [
        ((0, [0, 3], np.ones((2, 2), np.float32)), IndexError, "index 3 is out of range for dim 0 of size 3"),
        ((0, [0, -1], np.ones((2, 2), np.float32)), IndexError, "a negative index does not count from the end"),
        ((0, [0, 1], np.ones((2, 3), np.float32)), ValueError, r"source of shape \(2, 3\) must be x's shape"),
        ((0, [0, 1], np.ones((3, 2), np.float32)), ValueError, r"number of indices \(2\) along dim 0: \(2, 2\)"),
        ((0, [[0, 1]], np.ones((2, 2), np.float32)), ValueError, "the index must be 1-D"),
        ((0, np.array([0.0, 1.0]), np.ones((2, 2), np.float32)), TypeError, "must hold integers|int64 or int32.*got float64"),
        ((0, np.array([0, 1], np.uint8), np.ones((2, 2), np.float32)), TypeError, "int64 or int32"),
        ((0, np.array([0, 1], np.int16), np.ones((2, 2), np.float32)), TypeError, "int64 or int32"),
        ((0, [0, 1], np.ones((2, 2))), TypeError, "x is float32 and source is float64"),
        ((2, [0, 1], np.ones((2, 2), np.float32)), IndexError, "axis 2 is out of range"),
    ]
    for (dim, index, src), error, message in cases:
        with pytest.raises((RuntimeError, IndexError)):
            torch.index_add(t, dim, torch.tensor(np.asarray(index)), torch.tensor(src))
        with pytest.raises(error, match=message):
            ng.index_add(a, dim, ng.tensor(np.asarray(index)), ng.tensor(src))
    for index in ([0, 0], []):  # a 0-d x takes one index
        with pytest.raises(IndexError):
            torch.index_add(torch.tensor(1.0), 0, torch.tensor(index, dtype=torch.int64), torch.tensor(2.0))
        with pytest.raises(IndexError, match="a 0-d x takes exactly one index"):
            ng.index_add(ng.tensor(1.0), 0, ng.tensor(np.array(index, np.int64)), ng.tensor(2.0))
    with pytest.raises(TypeError, match="alpha must be an integer"):
        ng.index_add(ng.zeros(3, dtype="int64"), 0, [0], ng.tensor([1]), alpha=1.5)
    with pytest.raises(TypeError, match="alpha must be a number"):
        ng.index_add(a, 0, [0], ng.ones(1, 2), alpha="2")


def test_an_index_written_in_place_after_the_op_is_refused_as_torch():
    def run(lib):
        a = lib.tensor(np.array([[0.5, 1.25, 2.0], [3.0, 4.5, 5.0]]), requires_grad=True)
        i, src = lib.tensor([2]), lib.tensor(np.array([[1.0], [2.0]]), requires_grad=True)
        y = lib.index_add(a.detach() * 0.0, 1, i, src) * a
        with lib.no_grad():
            i.copy_(lib.tensor([0]))
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()

    run(torch)
    run(ng)


@pytest.mark.skipif(not hasattr(ng.Tensor, "index_add_"), reason="x.index_add_ is bound in api.py's _IN_PLACE")
def test_the_in_place_method_as_torch():
    src = _source(0, [0, 2, 0, 0])
    written = []
    for lib in (ng, torch):  # a plain tensor: its values written, itself returned
        x = lib.tensor(X.copy())
        assert x.index_add_(0, lib.tensor([0, 2, 0, 0]), lib.tensor(src), alpha=2) is x
        written.append(x.numpy())
    np.testing.assert_allclose(written[0], written[1], rtol=1e-15)
    # recorded on a non-leaf: gradients to the leaf and to the source, as torch's
    grads = {}
    for lib in (ng, torch):
        leaf, s = lib.tensor(X, requires_grad=True), lib.tensor(src, requires_grad=True)
        y = leaf * 2.0
        y.index_add_(0, lib.tensor([0, 2, 0, 0]), s)
        (y * y).sum().backward()
        grads[lib.__name__] = (leaf.grad.numpy(), s.grad.numpy())
    for g, t in zip(grads["nablagrad"], grads["torch"]):
        np.testing.assert_allclose(g, t, rtol=1e-14)
    with pytest.raises(RuntimeError, match="leaf"):
        ng.tensor(X, requires_grad=True).index_add_(0, ng.tensor([0]), ng.tensor(src[:1]))


def test_jit_reads_each_calls_index_and_source():
    step = ng.jit(lambda x, i, s: ng.index_add(x * 1.0, 0, i, s, alpha=2.0))
    for index in ([0, 0], [1, 2], [2, 0]):
        src = RNG.standard_normal((2, 2))
        want = torch.index_add(torch.zeros(3, 2, dtype=torch.float64), 0, torch.tensor(index), torch.tensor(src), alpha=2.0)
        got = step(ng.tensor(np.zeros((3, 2))), ng.tensor(np.array(index)), ng.tensor(src))
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-15)


def test_index_add_with_an_index_vmap_batches_matches_torch_func():
    """Each example its own index (vmap over x, source and index, and over the index alone)."""
    from torch.func import vmap

    X, S, I = np.zeros((3, 4)), np.arange(6.0).reshape(3, 2), np.array([[0, 2], [1, 1], [3, 0]])
    got = ng.vmap(lambda x, s, i: ng.index_add(x, 0, i, s))(ng.tensor(X), ng.tensor(S), ng.tensor(I))
    want = vmap(lambda x, s, i: torch.index_add(x, 0, i, s))(torch.tensor(X), torch.tensor(S), torch.tensor(I))
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    got = ng.vmap(lambda i: ng.index_add(ng.tensor(X[0]), 0, i, ng.tensor(S[0]), alpha=2.0))(ng.tensor(I))
    want = vmap(lambda i: torch.index_add(torch.tensor(X[0]), 0, i, torch.tensor(S[0]), alpha=2.0))(torch.tensor(I))
    np.testing.assert_array_equal(got.numpy(), want.numpy())
