"""One MNIST training workload in every peer, interleaved in one process, on both OpenBLAS kernels.

784-256-128-10 ReLU MLP, softmax cross-entropy, Adam(1e-3), float32, all peers from the same
initial weights and the same batches. Batch 1 (3 000 steps), 16 (1 500 steps), 128 (one epoch,
469 steps) and 1024 (one epoch, 59 steps). Each repetition runs every peer once, in a rotating
order, after ``--settle`` seconds of idle (so that no library's thread pool, still spinning after its own run,
takes a core from the next); the table shows medians. "GEMM bound" is the same steps' matrix products alone, timed at
their shapes: "% of bound" = bound time / peer time. "fused floor" is the step written by hand on
nablagrad's own compiled kernels with every buffer preallocated (``_peers.fused_floor``): what
removing all of the engine's Python overhead could reach. "split floor" is that step with the first
layer's products and Adam update split over the two cores (``_split_floor``): what a step that keeps each
core's half of the layer in its own cache could reach. "nablagrad jit" compiles the loss with
``ng.jit``; "nablagrad step" compiles the whole training step (backward and ``opt.step()`` inside).

The OpenBLAS kernel is chosen when NumPy loads, so each kernel runs in its own subprocess: the
environment's pinned kernel (``OPENBLAS_CORETYPE`` as set here, Haswell when the variable is
absent) and with ``OPENBLAS_CORETYPE``/``OPENBLAS_L2_SIZE`` both unset (OpenBLAS picks the CPU's
own kernel). threadpoolctl names the kernel each subprocess got.

Each run records its wall time and its process CPU time. On a machine other work keeps busy
(and with one thread per library) the CPU time is the steadier measure of a peer's own work:
waiting for a core counts in the wall time, not in the CPU time. Both are printed; the summary
gives the ratios by each.

``--threads N`` gives every library N threads (OpenBLAS, PyTorch, XLA); on a machine
whose cores other work keeps busy, 1 thread measures the libraries rather than the contention.

    python bench/peers.py [--quick] [--batches 1 16 128 1024] [--kernel given|unset|both] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
BLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
SIZES = [784, 256, 128, 10]
STEPS = {1: 3000, 16: 1500, 128: 469, 1024: 59}


def thread_env(n: int) -> dict[str, str]:
    """Environment variables that give OpenBLAS, OpenMP and XLA ``n`` threads each."""
    env = {k: str(n) for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    env["XLA_FLAGS"] = f"--xla_cpu_multi_thread_eigen={'true' if n > 1 else 'false'} intra_op_parallelism_threads={n}"
    return env


def worker(args) -> dict:
    import numpy as np
    import torch
    from _peers import PEERS, blas_kernel, init_weights, versions

    import nablagrad as ng

    torch.set_num_threads(args.threads)
    X, y, _, _ = ng.data.load_mnist(flatten=True)
    X, y = (X / np.float32(255)).astype(np.float32), y.astype(np.int64)
    names = [n for n in PEERS if n in args.peers]
    out = {"kernel": blas_kernel(), "versions": versions(), "env": {k: os.environ.get(k) for k in BLAS_VARS}, "rows": {}}
    print(f"\n== BLAS: {out['kernel']}  (env {out['env']})\n   {out['versions']}", flush=True)
    rng = np.random.default_rng(0)
    for batch in args.batches:
        steps = max(4, STEPS.get(batch, 469) // (5 if args.quick else 1))
        perm = rng.permutation(len(X))[: steps * batch]
        batches = [perm[i * batch : (i + 1) * batch] for i in range(steps)]
        runs = {n: PEERS[n](SIZES, init_weights(SIZES)) for n in names}
        times: dict[str, list[float]] = {n: [] for n in names}
        cpu: dict[str, list[float]] = {n: [] for n in names}
        losses: dict[str, float] = {}
        for n in names:  # warm-up (JAX compiles here)
            runs[n](X, y, batches[:2])
        for r in range(args.repeat):
            for n in names[r % len(names) :] + names[: r % len(names)]:
                time.sleep(args.settle)  # let the previous peer's spinning thread pool go idle
                t0, c0 = time.perf_counter(), time.process_time()
                losses[n] = runs[n](X, y, batches)
                times[n].append(time.perf_counter() - t0)
                cpu[n].append(time.process_time() - c0)
        med = {n: statistics.median(v) for n, v in times.items()}
        med_cpu = {n: statistics.median(v) for n, v in cpu.items()}
        spread = {n: (max(v) - min(v)) / med[n] for n, v in times.items()}
        load = os.getloadavg()[0]
        out["rows"][batch] = {"steps": steps, "median_s": med, "median_cpu_s": med_cpu, "spread": spread, "loss": losses,
                              "load": load}  # fmt: skip
        print(f"\nbatch {batch}: {steps} steps, median of {args.repeat} interleaved runs, load {load:.1f}", flush=True)
        print(f"{'peer':15s} {'s':>8s} {'CPU s':>8s} {'spread':>7s} {'nablagrad/peer':>15s} {'(CPU)':>6s} "
              f"{'% of bound':>11s} {'last loss':>10s}")  # fmt: skip
        for n in names:
            nan = float("nan")
            ratio = med["nablagrad"] / med[n] if "nablagrad" in med else nan
            ratio_cpu = med_cpu["nablagrad"] / med_cpu[n] if "nablagrad" in med else nan
            bound = 100 * med["GEMM bound"] / med[n] if "GEMM bound" in med else nan
            print(f"{n:15s} {med[n]:8.3f} {med_cpu[n]:8.3f} {100 * spread[n]:6.0f}% {ratio:15.2f} {ratio_cpu:6.2f} "
                  f"{bound:10.0f}% {losses[n]:10.4f}", flush=True)  # fmt: skip
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a fifth of the steps, 3 repetitions")
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 16, 128, 1024])
    ap.add_argument("--repeat", type=int, default=None)
    ap.add_argument("--kernel", choices=["given", "unset", "both"], default="both")
    ap.add_argument("--threads", type=int, default=2, help="threads per library (default 2)")
    ap.add_argument("--peers", nargs="+", default=None, help="subset of peers (default: all)")
    ap.add_argument("--settle", type=float, default=0.3,
                    help="seconds of idle before each timed run (OpenBLAS and OpenMP workers spin ~0.1-0.2 s)")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--json", default=None, help="write the results of every kernel to this file")
    args = ap.parse_args()
    if args.repeat is None:
        args.repeat = 3 if args.quick else 5
    if args.worker:
        from _peers import PEERS

        args.peers = args.peers or list(PEERS)
        print("RESULT " + json.dumps(worker(args)), flush=True)
        return
    results = []
    kernels = ["given", "unset"] if args.kernel == "both" else [args.kernel]
    for kernel in kernels:
        env = dict(os.environ)
        if kernel == "unset":
            for k in BLAS_VARS:
                env.pop(k, None)
        else:
            env.setdefault("OPENBLAS_CORETYPE", "Haswell")
        env.update(thread_env(args.threads))
        cmd = [sys.executable, __file__, "--worker", "--repeat", str(args.repeat), "--threads", str(args.threads)]
        cmd += ["--settle", str(args.settle)]
        cmd += ["--batches", *map(str, args.batches)]
        cmd += ["--quick"] if args.quick else []
        cmd += ["--peers", *args.peers] if args.peers else []
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        for line in proc.stdout.splitlines():
            if line.startswith("RESULT "):
                results.append(json.loads(line[7:]))
            else:
                print(line)
        if proc.returncode:
            print(proc.stderr, file=sys.stderr)
            raise SystemExit(proc.returncode)
    print("\n## summary (markdown)\n")
    peers = list(results[0]["rows"][str(args.batches[0])]["median_s"])
    print("| batch | kernel | load | " + " | ".join(peers) + " | nablagrad / JAX | compiled step / JAX | nablagrad / PyTorch "
          "| nablagrad % of bound | by CPU time: / JAX | / PyTorch | % of bound |")  # fmt: skip
    print("|" + " --- |" * (10 + len(peers)))
    for batch in args.batches:
        for res in results:
            row = res["rows"][str(batch)]
            med, cpu = row["median_s"], row["median_cpu_s"]
            kern = res["kernel"].split()[2] if len(res["kernel"].split()) > 2 else res["kernel"]
            cells = " | ".join(f"{v:.3f} s" for v in med.values())
            nan = float("nan")
            ratios = []
            for m in (med, cpu):
                ng_, jx, pt, bd = (m.get(k, nan) for k in ("nablagrad", "JAX jit", "PyTorch eager", "GEMM bound"))
                step = f"{m.get('nablagrad step', nan) / jx:.2f} | " if m is med else ""
                ratios.append(f"{ng_ / jx:.2f} | {step}{ng_ / pt:.2f} | {100 * bd / ng_:.0f} %")
            print(f"| {batch} ({row['steps']} steps) | {kern} | {row['load']:.1f} | {cells} | {' | '.join(ratios)} |")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
