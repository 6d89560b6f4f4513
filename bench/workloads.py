"""The autodiff benchmarks' workloads, written once and run on a given ``nablagrad`` (or PyTorch)
module: ``bench/autodiff_overhead.py`` times them against PyTorch, ``bench/engine_ab.py``
against an older nablagrad."""

from __future__ import annotations

import numpy as np

N_OPS = 1000
SIZES = [784, 256, 128, 10]


def chain(lib, x):
    """``N_OPS`` small elementwise ops (tanh, sin, ·, +) on the leaf ``x``, then backward: the
    per-op overhead.  ``lib`` is ``nablagrad`` or ``torch``; returns ``x.grad``."""
    y = x
    for i in range(N_OPS // 2):
        y = lib.tanh(y * 0.999) if i % 2 else lib.sin(y) + 0.5
    y.sum().backward()
    return x.grad


def mlp_setup(rng):
    """Weights (He-scaled), zero biases, a batch of 128 inputs and labels for a 784-256-128-10 MLP."""
    ws = [rng.standard_normal((a, b)).astype(np.float32) * np.float32(np.sqrt(2 / a)) for a, b in zip(SIZES, SIZES[1:])]
    bs = [np.zeros(b, np.float32) for b in SIZES[1:]]
    x = rng.random((128, 784), dtype=np.float32)
    y = rng.integers(0, 10, 128)
    return ws, bs, x, y


def mlp_step(ng, params, x, y):
    """One forward + backward of the ReLU MLP with softmax cross-entropy, in nablagrad ``ng``;
    ``params`` are the 3 weights then the 3 biases (Tensors), ``x`` a Tensor, ``y`` labels."""
    h = x
    for i in range(3):
        h = h @ params[i] + params[3 + i]
        if i < 2:
            h = ng.relu(h)
    loss = -ng.log_softmax(h, axis=1)[np.arange(len(y)), y].mean()
    for p in params:
        p.grad = None
    loss.backward()
