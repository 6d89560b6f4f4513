"""Data-parallel training over MPI: throughput on 1 and 2 ranks, all-reduce latency and bandwidth
(shared memory and TCP over the loopback), and the cost model of docs/distributed.md fitted to
them, predicting scaling efficiency for 8–64 ranks on 10/25/100 Gb/s networks.

    python bench/distributed.py            # about half a minute; prints the tables of bench/RESULTS.md

Each rank uses one BLAS thread (so 2 ranks use the 2 cores that 1 rank × 1 thread leaves idle).
The ranks run this same file with ``--worker``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
SIZES = [784, 256, 128, 10]  # the MNIST MLP of bench/mnist.py
GLOBAL_BATCH = 512
STEPS = 30
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
# (bandwidth in bytes/s, latency α per hop): line rate; α typical of TCP over Ethernet and of RDMA
NETWORKS = {
    "10 Gb/s Ethernet": (10e9 / 8, 25e-6),
    "25 Gb/s Ethernet": (25e9 / 8, 10e-6),
    "100 Gb/s InfiniBand": (100e9 / 8, 2e-6),
}


# --- on every rank (under mpiexec) ----------------------------------------------------------------------
def worker_train(out: Path) -> None:
    """Steps of the MLP on the global batch: compute (forward + backward of the share), all-reduce, step."""
    import nablagrad as ng

    world = ng.distributed.init()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((GLOBAL_BATCH * 4, SIZES[0])).astype(np.float32)
    y = rng.integers(0, 10, len(X))
    model = ng.nn.MLP(SIZES, seed=0)
    opt = ng.optim.Adam(model.parameters(), lr=1e-3)
    params = list(model.parameters())
    loss_fn = ng.nn.CrossEntropyLoss()
    t = {"compute": [], "allreduce": [], "step": [], "total": []}
    for s in range(STEPS + 5):
        idx = np.arange(GLOBAL_BATCH) + (s % 4) * GLOBAL_BATCH
        world.barrier()
        t0 = time.perf_counter()
        local, weight = world.shard(idx)
        opt.zero_grad()
        loss_fn(model(ng.tensor(X[local])), y[local]).backward()
        t1 = time.perf_counter()
        ng.distributed.allreduce_gradients(params, world, weight, np.zeros(1)) if world.size > 1 else None
        t2 = time.perf_counter()
        opt.step()
        t3 = time.perf_counter()
        if s >= 5:
            for k, v in zip(t, (t1 - t0, t2 - t1, t3 - t2, t3 - t0)):
                t[k].append(v)
    # the same through fit(distributed=True): samples per second of a whole epoch
    model = ng.nn.MLP(SIZES, seed=0)
    world.barrier()
    t0 = time.perf_counter()
    ng.train.fit(model, "cross_entropy", ng.optim.Adam(model.parameters(), lr=1e-3), X, y, epochs=3,
                 batch_size=GLOBAL_BATCH, seed=0, distributed=True)  # fmt: skip
    world.barrier()
    fit_seconds = time.perf_counter() - t0
    # per step, the rank that finished computing last: its all-reduce time is communication, not waiting
    steps = np.array(world.allgather(np.array([t[k] for k in ("compute", "allreduce", "step", "total")])))
    last = steps[:, 0, :].argmax(0)
    per_step = steps[last, :, np.arange(steps.shape[2])]  # (steps, 4)
    med = dict(zip(("compute", "allreduce", "step", "total"), np.median(per_step, 0).tolist()))
    if world.is_root:
        nbytes = sum(p.data.nbytes for p in params)
        result = dict(med)
        result.update(ranks=world.size, grad_bytes=nbytes, fit_samples_per_s=3 * len(X) / fit_seconds)
        out.write_text(json.dumps(result))


def worker_allreduce(out: Path) -> None:
    """Median time of an in-place Allreduce (sum) of float32 buffers, 8 B to 32 MiB."""
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    rows = []
    for e in range(3, 26, 2):
        nbytes = 2**e
        buf = np.ones(nbytes // 4, np.float32)
        reps = max(5, min(200, int(2e7 / nbytes)))
        times = []
        for _ in range(reps + 2):
            comm.Barrier()
            t0 = MPI.Wtime()
            comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)
            times.append(MPI.Wtime() - t0)
        t = comm.allreduce(float(np.median(times[2:])), op=MPI.MAX)
        rows.append((nbytes, t))
    if comm.Get_rank() == 0:
        out.write_text(json.dumps({"ranks": comm.Get_size(), "rows": rows}))


# --- the driver -----------------------------------------------------------------------------------------
def _run(n: int, mode: str, tag: str, env: dict | None = None) -> dict:
    import nablagrad as ng

    out = HERE / f".distributed-{tag}.json"
    argv = [sys.executable, __file__, "--worker", mode, str(out)]
    ng.distributed.launch(n, argv, timeout=600, env={**ONE_THREAD, **(env or {})})
    data = json.loads(out.read_text())
    out.unlink()
    return data


def main() -> None:
    from nablagrad.distributed import efficiency, fit_alpha_beta, step_seconds

    one, two = _run(1, "train", "train1"), _run(2, "train", "train2")
    shm = _run(2, "allreduce", "shm")
    tcp = _run(2, "allreduce", "tcp", env={"OMPI_MCA_btl": "self,tcp", "OMPI_MCA_pml": "ob1"})
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"MLP {'-'.join(map(str, SIZES))}, Adam, float32, global batch {GLOBAL_BATCH}, one BLAS thread per rank")
    print("ranks | compute ms | all-reduce ms | step ms | total ms/step | samples/s (loop) | samples/s (fit)")
    for r in (one, two):
        print(f"{r['ranks']:5d} | {r['compute'] * 1e3:10.2f} | {r['allreduce'] * 1e3:13.3f} | {r['step'] * 1e3:7.2f} | "
              f"{r['total'] * 1e3:13.2f} | {GLOBAL_BATCH / r['total']:16.0f} | {r['fit_samples_per_s']:15.0f}")  # fmt: skip
    print(f"speed-up on 2 ranks: {one['total'] / two['total']:.2f}× (efficiency {one['total'] / (2 * two['total']):.2f})")
    fits = {}
    for name, res in (("shared memory", shm), ("TCP loopback", tcp)):
        sizes, secs = zip(*res["rows"])
        alpha, bw = fit_alpha_beta(2, sizes, secs)
        fits[name] = (alpha, bw)
        print(f"\nAllreduce on 2 ranks, {name}: fitted α = {alpha * 1e6:.2f} µs per hop, bandwidth = {bw / 1e9:.2f} GB/s")
        print("bytes | measured µs | model µs")
        for m, t in res["rows"]:
            print(f"{m:9d} | {t * 1e6:11.1f} | {(2 * alpha + m / bw) * 1e6:8.1f}")
    # the model: compute C = one rank's step without communication; M = the gradient buffer
    C = one["compute"] + one["step"]
    M = one["grad_bytes"]
    alpha, bw = fits["shared memory"]
    print(f"\ncost model check on 2 ranks (shared memory): predicted {step_seconds(2, C, M, alpha, bw) * 1e3:.2f} ms/step, "
          f"measured {two['total'] * 1e3:.2f} ms/step")  # fmt: skip
    for batch in (GLOBAL_BATCH, 16 * GLOBAL_BATCH):
        c = C * batch / GLOBAL_BATCH  # compute grows linearly with the batch
        print(f"\npredicted scaling efficiency, global batch {batch} (C = {c * 1e3:.1f} ms, M = {M / 1e6:.2f} MB)")
        print("network              |" + "".join(f"  N={n:<3d}" for n in (8, 16, 32, 64)))
        for name, (b, a) in NETWORKS.items():
            print(f"{name:20s} |" + "".join(f"  {efficiency(n, c, M, a, b):5.2f}" for n in (8, 16, 32, 64)))

if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--worker", nargs=2, metavar=("MODE", "OUT"))
    a = p.parse_args()
    if a.worker:
        {"train": worker_train, "allreduce": worker_allreduce}[a.worker[0]](Path(a.worker[1]))
    else:
        main()
