"""Peak memory of a training step: nablagrad (eager and compiled) against PyTorch and JAX.

Each peer runs in its own process: build the model, take 3 warm-up steps, then reset the
kernel's peak-RSS counter (``/proc/self/clear_refs``) and take 20 more; the step's peak is
``VmHWM − VmRSS`` before those steps, i.e. what a step adds on top of the model and data.
For nablagrad the peak of tracemalloc (NumPy reports its allocations to it) is shown too.
784-W-W-10 ReLU MLP, Adam, float32.

    python bench/memory.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tracemalloc
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
PEERS = ["nablagrad", "nablagrad jit", "PyTorch eager", "JAX jit"]


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def child(name: str, width: int, batch: int) -> dict:
    import numpy as np
    from _peers import PEERS as BUILDERS
    from _peers import init_weights

    import nablagrad as ng

    sizes = [784, width, width // 2 if width == 256 else width, 10]
    X, y, _, _ = ng.data.load_mnist(flatten=True)
    X, y = (X[: 40 * batch] / np.float32(255)).astype(np.float32), y[: 40 * batch].astype(np.int64)
    batches = [np.arange(i * batch, (i + 1) * batch) for i in range(23)]
    run = BUILDERS[name](sizes, init_weights(sizes))
    run(X, y, batches[:3])
    Path("/proc/self/clear_refs").write_text("5")
    base = _status("VmRSS")
    tracemalloc.start()
    run(X, y, batches[3:])
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"rss_peak": _status("VmHWM") - base, "traced_peak": traced}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="batch 128 only")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]), int(args.child[2]))))
        return
    cells = [(256, 128)] if args.quick else [(256, 128), (256, 1024), (1024, 1024)]
    head = " | ".join(f"{p} MiB (RSS)" for p in PEERS)
    print(f"| model | batch | {head} | nablagrad tracemalloc MiB | jit tracemalloc MiB |")
    print("|" + " --- |" * (len(PEERS) + 4))
    for width, batch in cells:
        res = {}
        for name in PEERS:
            out = subprocess.run([sys.executable, __file__, "--child", name, str(width), str(batch)],
                                 capture_output=True, text=True, check=True)  # fmt: skip
            res[name] = json.loads(out.stdout.strip().splitlines()[-1])
        model = f"784-{width}-{width // 2 if width == 256 else width}-10"
        rss = " | ".join(f"{res[p]['rss_peak'] / 2**20:.1f}" for p in PEERS)
        traced = f"{res['nablagrad']['traced_peak'] / 2**20:.1f} | {res['nablagrad jit']['traced_peak'] / 2**20:.1f}"
        print(f"| {model} | {batch} | {rss} | {traced} |", flush=True)


if __name__ == "__main__":
    main()
