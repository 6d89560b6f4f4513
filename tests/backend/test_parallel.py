"""backend/parallel.py: a compiled step split over two cores.  The split products against float64 products
(OpenBLAS may block a sum differently by its thread count), Adam's two halves against the one-thread kernel bit
for bit, the block's handling of OpenBLAS's threads, the rule for which steps split, and a compiled MNIST-sized
step that takes the split and equals the eager step."""

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.backend import kernels, parallel

pytestmark = pytest.mark.skipif(
    parallel._openblas() is None or not kernels.fast_available(),
    reason="the split needs Linux, NumPy's OpenBLAS and numba (the fast extra)",
)
SPLIT = parallel.PARALLEL_STEP


def _blas_threads() -> int:
    threadpoolctl = pytest.importorskip("threadpoolctl")
    return max(i["num_threads"] for i in threadpoolctl.threadpool_info() if i["internal_api"] == "openblas")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [16, 33, 128])
def test_split_products_equal_the_products(n, dtype):
    rng = np.random.default_rng(n)
    x = rng.standard_normal((n, 784)).astype(dtype)
    W = (rng.standard_normal((784, 257)) * 0.03).astype(dtype)  # an odd width: halves of 128 and 129 columns
    g = rng.standard_normal((n, 257)).astype(dtype)
    with SPLIT:
        z, dW, dx = parallel.matmul(x, W), parallel.weight_grad(x, g, W.T), parallel.input_grad(g, W)
    x64, W64, g64 = (a.astype(np.float64) for a in (x, W, g))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for got, exact in ((z, x64 @ W64), (dW, x64.T @ g64), (dx, g64 @ W64.T)):
        assert got.dtype == dtype
        np.testing.assert_allclose(got, exact, rtol=tol, atol=tol * np.abs(exact).max())


def test_one_example_weight_gradient_is_the_outer_product_bit_for_bit():
    rng = np.random.default_rng(0)
    x, g = rng.standard_normal((1, 784)).astype(np.float32), rng.standard_normal((1, 256)).astype(np.float32)
    with SPLIT:
        dW = parallel.weight_grad(x, g, np.empty((784, 256), np.float32))
    np.testing.assert_array_equal(dW, x.T * g)  # one product an entry: exact


def test_outside_the_block_or_for_small_and_odd_operands_numpy_decides():
    rng = np.random.default_rng(0)
    x, W = rng.standard_normal((16, 784)).astype(np.float32), rng.standard_normal((784, 256)).astype(np.float32)
    assert parallel.matmul(x, W) is None  # outside PARALLEL_STEP
    with SPLIT:
        assert parallel.matmul(x[:4], W) is None  # few rows: NumPy's matrix-vector products
        assert parallel.matmul(x, W[:, :8]) is None  # a small weight
        assert parallel.matmul(x, W.astype(np.float64)) is None  # mixed dtypes
        assert parallel.matmul(np.asfortranarray(x), W) is None  # not C-ordered
        assert parallel.matmul(x.astype(np.float16), W.astype(np.float16)) is None


@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adam_halves_equal_the_one_thread_kernel_bit_for_bit(dtype, amsgrad):
    assert kernels.fast_available()
    rng = np.random.default_rng(1)
    n = 200_000 + 3
    p, g, m = (rng.standard_normal(n).astype(dtype) for _ in range(3))
    v, vmax = (np.abs(rng.standard_normal(n)).astype(dtype) for _ in range(2))
    consts = (amsgrad, *(dtype(c) for c in (0.9, 0.1, 0.999, 0.001, 1e-3, 1e-8, 0.0, 1.0, np.finfo(dtype).tiny)))
    one = [a.copy() for a in (p, g, m, v, vmax)]
    two = [a.copy() for a in (p, g, m, v, vmax)]
    kernels._kernel("adam")(*one, *consts)
    kernels._kernel("adam_halves")(*two, *consts, kernels.row_split((n // 7, 7)))
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


def test_the_block_puts_blas_threads_back_even_on_an_error():
    before, count = _blas_threads(), parallel._openblas().threads  # the count OpenBLAS's products read
    assert before > 1 and count.value == before, "OpenBLAS runs on one thread here: the block has nothing to lend"
    with pytest.raises(RuntimeError, match="inside"):
        with SPLIT:
            assert SPLIT.active and kernels._state["parallel"]
            assert count.value == 1  # the products of the calling thread inside: one OpenBLAS thread
            raise RuntimeError("inside")
    assert not SPLIT.active and not kernels._state["parallel"]
    assert count.value == before and _blas_threads() == before


def test_the_block_ends_openblas_spinning_workers():
    """A product on two threads wakes OpenBLAS's workers (they then spin for ~0.1 s); the block ends them,
    and the next product on two threads starts them again with the same result."""
    import threading

    if threading.active_count() > 1:
        pytest.skip("another thread runs: the block leaves OpenBLAS's workers alone")
    a = np.random.default_rng(0).standard_normal((512, 512)).astype(np.float32)
    before = a @ a
    blas = parallel._openblas()
    assert blas.server.value == 1
    with SPLIT:
        assert blas.server.value == 0
    np.testing.assert_array_equal(a @ a, before)
    assert blas.server.value == 1


def test_with_the_fast_extra_switched_off_nothing_splits():
    with kernels.use_fast(False):
        with SPLIT:
            assert not SPLIT.active
        assert not parallel.pays(1e8, 0, 16, False)


def test_a_forked_child_does_not_split(monkeypatch):
    with SPLIT:
        pass
    monkeypatch.setattr(SPLIT, "_pid", -1)  # as if this process were a child forked from the one that split
    monkeypatch.setattr(SPLIT, "spins", SPLIT.spins)
    with SPLIT:
        assert not SPLIT.active
    assert SPLIT.spins is False


@pytest.mark.parametrize(
    ("split", "other", "rows", "einsum", "expected"),
    [(1e8, 1e7, 128, False, True), (1e8, 1e7, 1024, False, False), (1e8, 5e7, 16, False, False),
     (1e8, 0, 16, True, False), (0, 1e7, 16, False, False)],
)  # fmt: skip
def test_which_steps_split(split, other, rows, einsum, expected):
    assert parallel.pays(split, other, rows, einsum) is expected
    assert parallel.splits(16, (784, 256)) and not parallel.splits(16, (256, 128)) and parallel.splits(128, (256, 128))
    assert not parallel.splits(8, (784, 256))  # few rows: NumPy's matrix-vector product


def _mnist_model_and_step():
    """An MNIST-sized MLP (its first weight, 784×256, is split), Adam, and the training step users write."""
    model = ng.nn.MLP([784, 256, 10], activation="relu", seed=0)
    opt = ng.optim.Adam(model.parameters(), lr=1e-3)

    def step(x, y):
        loss = ng.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return model, step


def _mnist_step(batch: int, compiled: bool, steps: int = 100):
    rng = np.random.default_rng(0)
    X = rng.random((512, 784), dtype=np.float32)
    Y = rng.integers(0, 10, 512)
    model, step = _mnist_model_and_step()
    f = ng.jit(step) if compiled else step
    losses = [float(f(X[idx], Y[idx]).numpy()) for idx in (rng.integers(0, 512, batch) for _ in range(steps))]
    return losses, [p.numpy().copy() for p in model.parameters()]


@pytest.mark.parametrize("batch", [1, 16])
def test_a_compiled_mnist_step_is_split_and_equals_the_eager_step(batch, monkeypatch):
    calls = []
    real = parallel.weight_grad

    def counted(x, g, W):
        out = real(x, g, W)
        if out is not None:
            calls.append(x.shape)
        return out

    monkeypatch.setattr(parallel, "weight_grad", counted)
    eager_losses, eager_params = _mnist_step(batch, compiled=False)
    assert not calls  # the eager step never splits
    losses, params = _mnist_step(batch, compiled=True)
    assert calls and all(shape == (batch, 784) for shape in calls)  # the first layer's gradient, split
    # OpenBLAS may block a product's sums by its thread count (it does at batch 16 here), so the steps may
    # round differently: equal to 1e-6, relative
    np.testing.assert_allclose(losses, eager_losses, rtol=1e-6)
    for a, b in zip(params, eager_params):
        assert np.linalg.norm(a - b) <= 1e-6 * np.linalg.norm(b)


def test_the_previous_gradient_a_user_keeps_is_not_overwritten():
    """The split reuses its last weight-gradient array only once nothing else holds it."""
    rng = np.random.default_rng(0)
    model, step = _mnist_model_and_step()
    step = ng.jit(step)
    kept = []
    for _ in range(6):
        step(rng.random((16, 784), dtype=np.float32), rng.integers(0, 10, 16))
        grad = next(iter(model.parameters())).grad.numpy()
        kept.append((grad, grad.copy()))
    for held, copy in kept:
        np.testing.assert_array_equal(held, copy)
    assert len({id(h) for h, _ in kept}) == len(kept)


def test_a_step_with_large_products_outside_linear_layers_is_not_split():
    rng = np.random.default_rng(0)
    W = ng.tensor((rng.standard_normal((784, 256)) * 0.03).astype(np.float32), requires_grad=True)
    opt = ng.optim.Adam([W], lr=1e-3)

    @ng.jit
    def step(x):
        loss = ((x @ W) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    calls = []
    real = parallel.weight_grad
    parallel.weight_grad = lambda x, g, W: calls.append(1) or real(x, g, W)
    try:
        for _ in range(5):
            step(rng.random((16, 784), dtype=np.float32))
    finally:
        parallel.weight_grad = real
    assert not calls and not SPLIT.active


def test_two_threads_training_at_once_share_the_block_safely():
    """One thread at a time has the split on (the playground trains each session in its own thread); the other
    computes as usual, both train as they would alone, and OpenBLAS's thread count is put back."""
    import threading

    before = parallel._openblas().threads.value
    alone = [_mnist_step(16, compiled=True, steps=30) for _ in range(2)]
    results, errors = [None, None], []

    def train(i):
        try:
            results[i] = _mnist_step(16, compiled=True, steps=30)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=train, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert parallel._openblas().threads.value == before and not SPLIT.active
    for (losses, params), (ref_losses, ref_params) in zip(results, alone):
        np.testing.assert_allclose(losses, ref_losses, rtol=1e-6)
        for a, b in zip(params, ref_params):
            assert np.linalg.norm(a - b) <= 1e-6 * np.linalg.norm(b)


def test_a_weights_spare_gradient_goes_with_the_weight():
    import gc

    model, step = _mnist_model_and_step()
    step = ng.jit(step)
    rng = np.random.default_rng(0)
    for _ in range(4):
        step(rng.random((16, 784), dtype=np.float32), rng.integers(0, 10, 16))
    W = next(iter(model.parameters())).data
    assert id(W) in parallel._spare
    key = id(W)
    del model, step, W
    gc.collect()
    assert key not in parallel._spare
