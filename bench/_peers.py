"""The training step of one MLP written in each peer library, from the same initial weights.

Every builder takes the layer sizes, the initial ``(W, b)`` arrays (NumPy, W of shape (in, out))
and returns ``run(X, y, batches) -> float``: it takes one Adam(1e-3) step of softmax
cross-entropy per index array in ``batches`` and returns the last loss (as a sanity check that
every peer computes the same thing).  ReLU between layers, float32 throughout.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Sequence

import numpy as np

LR, B1, B2, EPS = 1e-3, 0.9, 0.999, 1e-8
Run = Callable[[np.ndarray, np.ndarray, Sequence[np.ndarray]], float]


def init_weights(sizes: Sequence[int], seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """PyTorch's default Linear init, U(±1/√in), in float32."""
    rng = np.random.default_rng(seed)
    out = []
    for a, b in zip(sizes, sizes[1:]):
        k = 1 / np.sqrt(a)
        out.append((rng.uniform(-k, k, (a, b)).astype(np.float32), rng.uniform(-k, k, b).astype(np.float32)))
    return out


def nablagrad_step(sizes, weights, compiled: bool = False, whole_step: bool = False) -> Run:
    """The loop a user writes; with ``compiled`` the loss is ``ng.jit``-compiled (traced once, replayed);
    with ``whole_step`` the whole training step is (forward, ``loss.backward()``, ``zero_grad``, ``step``)."""
    import nablagrad as ng

    model = ng.nn.MLP(sizes, activation="relu", seed=0)
    for p, w in zip(model.parameters(), [a for pair in weights for a in pair]):
        p.data[...] = w
    opt = ng.optim.Adam(model.parameters(), lr=LR)
    loss_fn = lambda x, y: ng.nn.functional.cross_entropy(model(x), y)  # noqa: E731
    loss_fn = ng.jit(loss_fn) if compiled else loss_fn

    @ng.jit
    def train_step(x, y):
        loss = ng.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    def run(X, y, batches):
        for idx in batches:
            if whole_step:
                loss = train_step(X[idx], y[idx])
                continue
            loss = loss_fn(ng.as_tensor(X[idx]), y[idx])  # X[idx] is already a copy, as in the other peers
            opt.zero_grad()
            loss.backward()
            opt.step()
        return float(loss.data)

    return run


def torch_eager(sizes, weights) -> Run:
    import torch

    layers: list = []
    for i, (W, b) in enumerate(weights):
        lin = torch.nn.Linear(*W.shape)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(W.T.copy()))
            lin.bias.copy_(torch.from_numpy(b))
        layers.append(lin)
        if i < len(weights) - 1:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=LR)

    def run(X, y, batches):
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
        for idx in batches:
            i = torch.from_numpy(idx)
            loss = torch.nn.functional.cross_entropy(model(Xt[i]), yt[i])
            opt.zero_grad()
            loss.backward()
            opt.step()
        return float(loss)

    return run


def jax_jit(sizes, weights) -> Run:
    import jax
    import jax.numpy as jnp

    def loss_fn(params, x, y):
        h = x
        for W, b in params[:-1]:
            h = jax.nn.relu(h @ W + b)
        W, b = params[-1]
        logp = jax.nn.log_softmax(h @ W + b)
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

    def step(params, m, v, t, x, y):
        loss, g = jax.value_and_grad(loss_fn)(params, x, y)
        t = t + 1
        m = jax.tree.map(lambda m, g: B1 * m + (1 - B1) * g, m, g)
        v = jax.tree.map(lambda v, g: B2 * v + (1 - B2) * g * g, v, g)
        a = LR * jnp.sqrt(1 - B2**t) / (1 - B1**t)
        params = jax.tree.map(lambda p, m, v: p - a * m / (jnp.sqrt(v) + EPS * jnp.sqrt(1 - B2**t)), params, m, v)
        return params, m, v, t, loss

    jstep = jax.jit(step, donate_argnums=(0, 1, 2))
    state = {
        "params": [(jnp.asarray(W), jnp.asarray(b)) for W, b in weights],
        "m": [(jnp.zeros(W.shape, jnp.float32), jnp.zeros(b.shape, jnp.float32)) for W, b in weights],
        "v": [(jnp.zeros(W.shape, jnp.float32), jnp.zeros(b.shape, jnp.float32)) for W, b in weights],
        "t": jnp.float32(0),
    }

    def run(X, y, batches):
        p, m, v, t = state["params"], state["m"], state["v"], state["t"]
        for idx in batches:
            p, m, v, t, loss = jstep(p, m, v, t, X[idx], y[idx].astype(np.int32))
        jax.block_until_ready(p)
        state.update(params=p, m=m, v=v, t=t)
        return float(loss)

    return run


def numpy_by_hand(sizes, weights) -> Run:
    """The lectures' backpropagation written directly in NumPy, with an in-place Adam."""
    params = [a.copy() for pair in weights for a in pair]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    scratch = [np.empty_like(p) for p in params]
    t = [0]

    def run(X, y, batches):
        L = len(weights)
        for idx in batches:
            x, yb = X[idx], y[idx]
            acts = [x]
            for i in range(L):
                z = acts[-1] @ params[2 * i]
                z += params[2 * i + 1]
                if i < L - 1:
                    np.maximum(z, 0, out=z)
                acts.append(z)
            z = acts[-1]
            z -= z.max(axis=1, keepdims=True)
            np.exp(z, out=z)
            z /= z.sum(axis=1, keepdims=True)
            loss = -float(np.mean(np.log(z[np.arange(len(yb)), yb])))
            z[np.arange(len(yb)), yb] -= 1
            g = z / np.float32(len(yb))
            grads = [None] * len(params)
            for i in reversed(range(L)):
                grads[2 * i] = acts[i].T @ g
                grads[2 * i + 1] = g.sum(axis=0)
                if i:
                    g = g @ params[2 * i].T
                    g *= acts[i] > 0
            t[0] += 1
            bc1, bc2s = 1 - B1 ** t[0], (1 - B2 ** t[0]) ** 0.5
            for p, gr, mm, vv, s in zip(params, grads, m, v, scratch):
                mm *= B1
                np.multiply(gr, 1 - B1, out=s)
                mm += s
                vv *= B2
                np.multiply(gr, gr, out=s)
                s *= 1 - B2
                vv += s
                np.sqrt(vv, out=s)
                s += EPS * bc2s
                np.divide(mm, s, out=s)
                s *= LR * bc2s / bc1
                p -= s
        return loss

    return run


def floor_backward(acts, g, params, grads, dA, first_weight_grad=None) -> None:
    """The floors' backward pass into preallocated ``grads`` (``[W₀, b₀, W₁, …]``) from the loss gradient ``g``
    of the last layer; ``first_weight_grad(x, g, out)``, where given, computes the first layer's ``∂W``."""
    from nablagrad.backend import kernels  # noqa: PLC0415

    batch = len(g)
    for i in reversed(range(len(params) // 2)):
        if i == 0 and first_weight_grad is not None:
            first_weight_grad(acts[0], g, grads[0])
        elif batch == 1:  # a GEMM with k = 1 is slow: the outer product, as the engine computes it
            kernels.outer(acts[i], g, out=grads[2 * i])
        else:
            np.matmul(acts[i].T, g, out=grads[2 * i])
        np.sum(g, axis=0, out=grads[2 * i + 1])
        if i:
            np.matmul(g, params[2 * i].T, out=dA[i])
            dA[i] *= acts[i] > 0
            g = dA[i]


def fused_floor(sizes, weights) -> Run:
    """The least Python a step can have on nablagrad's own kernels: written by hand, every buffer
    preallocated (``out=``), parameters and gradients in one flat buffer each, the softmax
    cross-entropy gradient and the checked Adam update (``adam_finite``, then ``adam_``) as single
    compiled calls (NumPy where numba is absent).  Not a library anyone uses: the floor that
    overhead removal can reach."""
    from nablagrad.backend import kernels

    shapes = [s for W, b in weights for s in (W.shape, b.shape)]
    n = sum(int(np.prod(s)) for s in shapes)
    flat, grad, m, v, scratch = (np.zeros(n, np.float32) for _ in range(5))

    def cut(buf):
        out, start = [], 0
        for s in shapes:
            k = int(np.prod(s))
            out.append(buf[start : start + k].reshape(s))
            start += k
        return out

    params, grads = cut(flat), cut(grad)
    for p, a in zip(params, [a for pair in weights for a in pair]):
        p[...] = a
    t = [0]

    def run(X, y, batches):
        L, batch = len(weights), len(batches[0])
        acts = [np.empty((batch, s), np.float32) for s in sizes]
        dA = [np.empty((batch, s), np.float32) for s in sizes]
        w = np.float32(1 / batch)
        for idx in batches:
            acts[0], yb = X[idx], y[idx]
            for i in range(L):
                np.matmul(acts[i], params[2 * i], out=acts[i + 1])
                acts[i + 1] += params[2 * i + 1]
                if i < L - 1:
                    np.maximum(acts[i + 1], 0, out=acts[i + 1])
            z = acts[L]
            rows = kernels.softmax_ce_rows(z, yb)  # None without numba: the same formula in NumPy
            if rows is None:
                e = np.exp(z - z.max(axis=1, keepdims=True))
                rows = np.log(e.sum(axis=1)) - np.log(e[np.arange(len(yb)), yb])
                e /= e.sum(axis=1, keepdims=True)
                e[np.arange(len(yb)), yb] -= 1
                e *= w
            loss = float(np.mean(rows))
            g = kernels.softmax_ce_grad(z, yb, w)
            g = e if g is None else g
            floor_backward(acts, g, params, grads, dA)
            t[0] += 1
            bc1, bc2s = 1 - B1 ** t[0], (1 - B2 ** t[0]) ** 0.5
            constants = dict(b1=B1, b2=B2, step_size=LR * bc2s / bc1, eps_hat=EPS * bc2s)
            if kernels.adam_finite(flat, grad, m, v, **constants) is False:
                raise FloatingPointError("fused floor: the update would not be finite")
            kernels.adam_(flat, grad, m, v, scratch, **constants)
        return loss

    return run


def split_floor(sizes, weights) -> Run:
    """The fused floor with the first layer's products and Adam update split over two cores, each core keeping
    its half of the layer's state in its own L2 cache (``_split_floor``): how low a step can go on 2 cores.
    Where it cannot run (not Linux, no numba, another BLAS) it says so and runs the fused floor."""
    from _split_floor import split_floor as make  # noqa: PLC0415 - numba, ctypes: only when asked for

    run = make(sizes, weights)
    if run is None:
        print("split floor: not available here (needs Linux, numba and NumPy's OpenBLAS); running the fused floor")
        return fused_floor(sizes, weights)
    return run


def sklearn_mlp(sizes, weights) -> Run:
    """scikit-learn's own loop: one ``fit`` epoch over exactly the rows of ``batches``, in order."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    def run(X, y, batches):
        rows = np.concatenate(batches)
        clf = MLPClassifier(hidden_layer_sizes=tuple(sizes[1:-1]), solver="adam", learning_rate_init=LR,
                            batch_size=len(batches[0]), max_iter=1, shuffle=False, random_state=0, alpha=0.0)  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X[rows], y[rows])
        return float(clf.loss_curve_[-1])

    return run


def gemm_bound(sizes, weights) -> Run:
    """Only the step's matrix products, at their shapes, into preallocated outputs.

    Forward ``A_i W_i``; backward ``A_iᵀ G_i`` (dW) and ``G_i W_iᵀ`` (dA, not for the input).
    """
    Ws = [W.copy() for W, _ in weights]

    def run(X, y, batches):
        n = len(batches[0])
        acts = [np.empty((n, s), np.float32) for s in sizes]
        dW = [np.empty_like(W) for W in Ws]
        dA = [np.empty((n, s), np.float32) for s in sizes]
        for idx in batches:
            acts[0] = X[idx] if len(idx) == n else acts[0]
            for i, W in enumerate(Ws):
                np.matmul(acts[i], W, out=acts[i + 1])
            for i in reversed(range(len(Ws))):
                np.matmul(acts[i].T, acts[i + 1], out=dW[i])
                if i:
                    np.matmul(acts[i + 1], Ws[i].T, out=dA[i])
        return float("nan")

    return run


PEERS: dict[str, Callable] = {
    "nablagrad": nablagrad_step,
    "nablagrad jit": functools.partial(nablagrad_step, compiled=True),
    "nablagrad step": functools.partial(nablagrad_step, whole_step=True),
    "PyTorch eager": torch_eager,
    "JAX jit": jax_jit,
    "NumPy by hand": numpy_by_hand,
    "fused floor": fused_floor,
    "split floor": split_floor,
    "sklearn MLP": sklearn_mlp,
    "GEMM bound": gemm_bound,
}


def blas_kernel() -> str:
    from threadpoolctl import threadpool_info

    return ", ".join(
        f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')} ({i.get('num_threads')} threads)"
        for i in threadpool_info()
        if i.get("user_api") == "blas"
    )


def versions() -> str:
    import platform

    import jax
    import sklearn
    import torch

    return (f"python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__} "
            f"({torch.get_num_threads()} threads), jax {jax.__version__}, scikit-learn {sklearn.__version__}")  # fmt: skip
