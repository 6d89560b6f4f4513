"""How the cost of an MNIST epoch grows with the hidden width and the batch, against PyTorch and JAX.

784-W-W-10 ReLU MLPs (W = 256, 1024, 4096), Adam(1e-3), float32, batches 32 to 1024; each cell
times the same ``--samples`` MNIST rows in every peer (interleaved, median of ``--repeat``) and
reports the time scaled to a 60 000-image epoch, with the GEMM-only bound of the same steps (wall
time, and the ratios by process CPU time too: the steadier measure on a busy machine).
Writes ``bench/scaling.md`` (the table) and ``bench/scaling.png`` (the plot).

    python bench/scaling.py [--quick] [--threads 1] [--widths 256 1024 4096] [--samples 2048]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from peers import thread_env

PEERS = ["nablagrad", "nablagrad jit", "PyTorch eager", "JAX jit", "GEMM bound"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="widths 256/1024, 2 048 rows, 3 repetitions")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--samples", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=None)
    ap.add_argument("--widths", type=int, nargs="+", default=None, help="hidden widths (default 256 1024 4096)")
    args = ap.parse_args()
    if os.environ.get("_SCALING_CHILD") != "1":  # thread counts are read when the libraries load
        env = {**os.environ, **thread_env(args.threads), "_SCALING_CHILD": "1"}
        os.execve(sys.executable, [sys.executable, __file__, *sys.argv[1:]], env)
    import numpy as np
    import torch
    from _peers import PEERS as BUILDERS
    from _peers import blas_kernel, init_weights, versions

    import nablagrad as ng

    torch.set_num_threads(args.threads)
    widths = args.widths or ([256, 1024] if args.quick else [256, 1024, 4096])
    batches = [32, 128, 512, 1024]
    samples = args.samples or (2048 if args.quick else 8192)
    repeat = args.repeat or 3
    X, y, _, _ = ng.data.load_mnist(flatten=True)
    X, y = (X[:samples] / np.float32(255)).astype(np.float32), y[:samples].astype(np.int64)
    print(f"BLAS: {blas_kernel()}\n{versions()}\n{samples} rows per cell, scaled to a 60 000-image epoch", flush=True)
    rows = []
    for width in widths:
        sizes = [784, width, width, 10]
        for batch in batches:
            idx = np.arange(samples)
            steps = [idx[i : i + batch] for i in range(0, samples - batch + 1, batch)]
            runs = {n: BUILDERS[n](sizes, init_weights(sizes)) for n in PEERS}
            for run in runs.values():
                run(X, y, steps[:1])
            times: dict[str, list[float]] = {n: [] for n in PEERS}
            cpu: dict[str, list[float]] = {n: [] for n in PEERS}
            scale = 60_000 / (len(steps) * batch)
            for r in range(repeat):
                for n in PEERS[r % len(PEERS) :] + PEERS[: r % len(PEERS)]:
                    t0, c0 = time.perf_counter(), time.process_time()
                    runs[n](X, y, steps)
                    times[n].append((time.perf_counter() - t0) * scale)
                    cpu[n].append((time.process_time() - c0) * scale)
            med = {n: statistics.median(v) for n, v in times.items()}
            med_cpu = {n: statistics.median(v) for n, v in cpu.items()}
            rows.append((width, batch, med, med_cpu, os.getloadavg()[0]))
            print(f"W={width:5d} batch={batch:5d} " + " ".join(f"{n}={v:.2f}s" for n, v in med.items()), flush=True)
    head = "| width | batch | load | " + " | ".join(f"{n} s/epoch" for n in PEERS) + " | nablagrad/JAX | jit/JAX | jit/bound "
    head += "| by CPU time: nablagrad/JAX | jit/JAX | jit/bound |"
    lines = [head, "|" + " --- |" * (len(PEERS) + 9)]
    for width, batch, med, med_cpu, load in rows:
        cells = " | ".join(f"{med[n]:.2f}" for n in PEERS)
        ratios = [f"{m['nablagrad'] / m['JAX jit']:.2f} | {m['nablagrad jit'] / m['JAX jit']:.2f} | "
                  f"{m['nablagrad jit'] / m['GEMM bound']:.2f}" for m in (med, med_cpu)]  # fmt: skip
        lines.append(f"| {width} | {batch} | {load:.1f} | {cells} | {' | '.join(ratios)} |")
    table = "\n".join(lines)
    print("\n" + table)
    note = f"BLAS: {blas_kernel()}; {versions()}; {samples} rows per cell, {repeat} interleaved repetitions\n\n"
    (HERE / "scaling.md").write_text("# Epoch time against width and batch (bench/scaling.py)\n\n" + note + table + "\n")
    _plot(rows, widths, HERE / "scaling.png")


def _plot(rows, widths, path: Path) -> None:
    import matplotlib
    import numpy as np

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(widths), figsize=(4.2 * len(widths), 3.6), sharey=False)
    for ax, width in zip(np.atleast_1d(axes), widths):
        cells = [(b, m) for w, b, m, _, _ in rows if w == width]
        for name in PEERS:
            ax.plot([b for b, _ in cells], [m[name] for _, m in cells], marker="o", label=name,
                    linestyle="--" if name == "GEMM bound" else "-")  # fmt: skip
        ax.set(xscale="log", yscale="log", xlabel="batch", title=f"784-{width}-{width}-10", ylabel="s / epoch")
    np.atleast_1d(axes)[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
