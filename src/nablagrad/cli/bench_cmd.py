"""``nablagrad bench``: a quick in-process timing of the engine (and of PyTorch, if installed)."""

from __future__ import annotations

import time

import numpy as np


def _median_time(fn, repeat: int) -> float:
    fn()
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return float(np.median(ts))


def run_bench(args) -> int:
    import nablagrad as ng  # noqa: PLC0415

    rng = np.random.default_rng(0)
    x = rng.random((128, 784), dtype=np.float32)
    labels = rng.integers(0, 10, 128)
    model = ng.nn.MLP([784, 256, 128, 10], seed=0)
    opt = ng.optim.Adam(model.parameters())

    def step():
        loss = ng.nn.functional.cross_entropy(model(x), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()

    ours = _median_time(step, args.repeat)
    print(f"MLP 784-256-128-10 training step, batch 128, float32: nablagrad {ours * 1e3:.2f} ms")
    try:
        import torch  # noqa: PLC0415
    except ImportError:
        print("(PyTorch not installed: no comparison; see bench/ in the repository for the full benchmarks)")
        return 0
    tm = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128), torch.nn.ReLU(),
                             torch.nn.Linear(128, 10))  # fmt: skip
    topt = torch.optim.Adam(tm.parameters())
    tx, ty = torch.from_numpy(x), torch.from_numpy(labels)

    def tstep():
        loss = torch.nn.functional.cross_entropy(tm(tx), ty)
        topt.zero_grad()
        loss.backward()
        topt.step()

    theirs = _median_time(tstep, args.repeat)
    print(f"                                             PyTorch   {theirs * 1e3:.2f} ms  (ratio {ours / theirs:.2f})")
    return 0
