"""Full MNIST epochs: nablagrad vs PyTorch vs scikit-learn's MLPClassifier, in the same run.

Same architecture (784-256-128-10 ReLU), float32, Adam(lr=1e-3), batch 128, 2 threads each.
Prints seconds per epoch, test accuracy after N epochs, the ratios, and the fraction of the
machine's measured float32 GEMM peak that each training run reaches.

    python bench/mnist.py [--epochs 3] [--no-sklearn]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import clean_blas_env, machine_report

clean_blas_env()

import numpy as np
import torch

import nablagrad as ng

SIZES = [784, 256, 128, 10]
BATCH = 128


def flops_per_epoch(n: int) -> float:
    """Forward 2·n·Σ(a·b); backward twice that (dW and dX; the first layer's dX is skipped)."""
    fwd = sum(2 * n * a * b for a, b in zip(SIZES, SIZES[1:]))
    bwd_w = fwd
    bwd_x = sum(2 * n * a * b for a, b in zip(SIZES[1:-1], SIZES[2:]))
    return fwd + bwd_w + bwd_x


def gemm_peak(threads: int = 2) -> float:
    """Measured float32 GEMM throughput (FLOP/s) of NumPy's BLAS on 1024² matrices."""
    a = np.random.default_rng(0).random((1024, 1024), dtype=np.float32)
    b = a.copy()
    a @ b
    best = 1e9
    for _ in range(5):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return 2 * 1024**3 / best


def run_nablagrad(X, y, Xt, yt, epochs):
    ng.manual_seed(0)
    model = ng.nn.MLP(SIZES, activation="relu", seed=0)
    opt = ng.optim.Adam(model.parameters(), lr=1e-3)
    times = []
    for e in range(epochs):
        t = time.perf_counter()
        ng.train.fit(model, "cross_entropy", opt, X, y, epochs=1, batch_size=BATCH, seed=e)
        times.append(time.perf_counter() - t)
    acc = float((ng.train.predict(model, Xt).argmax(1) == yt).mean())
    return times, acc


def run_torch(X, y, Xt, yt, epochs):
    torch.manual_seed(0)
    layers = []
    for i, (a, b) in enumerate(zip(SIZES, SIZES[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(SIZES) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    Xt_, yt_ = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))
    g = torch.Generator().manual_seed(0)
    times = []
    for _ in range(epochs):
        t = time.perf_counter()
        perm = torch.randperm(len(X), generator=g)
        for s in range(0, len(X), BATCH):
            idx = perm[s : s + BATCH]
            loss = torch.nn.functional.cross_entropy(model(Xt_[idx]), yt_[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - t)
    with torch.no_grad():
        acc = float((model(torch.from_numpy(Xt)).argmax(1).numpy() == yt).mean())
    return times, acc


def run_sklearn(X, y, Xt, yt, epochs):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(hidden_layer_sizes=SIZES[1:-1], solver="adam", learning_rate_init=1e-3, batch_size=BATCH,
                        max_iter=1, shuffle=True, random_state=0, alpha=0.0)  # fmt: skip
    times = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(epochs):
            t = time.perf_counter()
            clf.partial_fit(X, y, classes=np.arange(10)) if times else clf.fit(X, y)
            times.append(time.perf_counter() - t)
    return times, float(clf.score(Xt, yt))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--no-sklearn", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(2)
    X, y, Xt, yt = ng.data.load_mnist(flatten=True)
    X, Xt = (X / np.float32(255)).astype(np.float32), (Xt / np.float32(255)).astype(np.float32)
    y, yt = y.astype(np.int64), yt.astype(np.int64)
    peak = gemm_peak()
    flops = flops_per_epoch(len(X))
    print(machine_report())
    print(f"float32 GEMM peak (1024², numpy): {peak / 1e9:.1f} GFLOP/s; one epoch = {flops / 1e9:.1f} GFLOP")
    results = {"nablagrad": run_nablagrad(X, y, Xt, yt, args.epochs), "torch": run_torch(X, y, Xt, yt, args.epochs)}
    if not args.no_sklearn:
        results["sklearn"] = run_sklearn(X, y, Xt, yt, args.epochs)
    base = np.median(results["torch"][0])
    print(f"{'library':10s} {'s/epoch (median)':>17s} {'ratio/torch':>12s} {'test acc':>9s} {'% GEMM peak':>12s}")
    for name, (times, acc) in results.items():
        t = float(np.median(times))
        print(f"{name:10s} {t:17.3f} {t / base:12.2f} {acc:9.4f} {100 * flops / t / peak:11.1f}%")


if __name__ == "__main__":
    main()
