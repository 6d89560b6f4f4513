"""A/B of the engine's speed between two git commits, interleaved in one process.

Each commit's ``src/`` is exported (``git archive``) to a temporary folder and imported in this
process (its modules set aside under their names, swapped back in before each sample); then
samples alternate A, B, B, A …, with the same code and the same seeds:

* ``chain``: the 1 000-op elementwise chain of ``bench/autodiff_overhead.py``, forward + backward;
* ``mlp``: its 784-256-128-10 MLP step (forward + backward, batch 128);
* ``epoch``: one ``ng.train.fit`` epoch of ``bench/mnist.py``'s model on MNIST (Adam, batch 128).

Interleaving cancels the slow drift of a shared machine's load; the report gives, per measure,
the ratio of the minima (the least disturbed samples) and the median of the paired ratios.

    python bench/engine_ab.py BEFORE AFTER [--rounds 5] [--no-epoch]
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import clean_blas_env
from workloads import SIZES, chain, mlp_setup, mlp_step

clean_blas_env()

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def export(commit: str, into: Path) -> Path:
    """``commit``'s ``src/`` under ``into`` (this working tree's own ``src/`` for ``WORKTREE``)."""
    if commit == "WORKTREE":
        return ROOT / "src"
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit, "src"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src"


def load(src: Path) -> dict:
    """Import ``src``'s nablagrad (with the sub-packages the measures use) and set its modules
    aside, so that two versions live in one process; :func:`use` puts one back in place."""
    sys.path.insert(0, str(src))
    import nablagrad  # noqa: PLC0415

    for sub in ("nn", "optim", "train", "data"):
        importlib.import_module(f"nablagrad.{sub}")
    mods = {k: v for k, v in sys.modules.items() if k == "nablagrad" or k.startswith("nablagrad.")}
    for k in mods:
        del sys.modules[k]
    sys.path.remove(str(src))
    assert Path(nablagrad.__file__).is_relative_to(src), nablagrad.__file__
    return mods


def use(mods: dict):
    """Make ``mods`` the nablagrad that imports (also lazy ones inside functions) resolve to."""
    for k in [k for k in sys.modules if k == "nablagrad" or k.startswith("nablagrad.")]:
        del sys.modules[k]
    sys.modules.update(mods)
    return mods["nablagrad"]


def timed(fn, number: int):
    """A function returning the seconds one call of ``fn`` takes (the mean over ``number`` calls)."""

    def sample():
        t = time.perf_counter()
        for _ in range(number):
            fn()
        return (time.perf_counter() - t) / number

    return sample


def measures(ng, epoch: bool) -> dict:
    """name -> a function timing one sample of that measure (seconds)."""
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal(16).astype(np.float32)

    ws, bs, x, labels = mlp_setup(rng)
    params = [ng.tensor(a, requires_grad=True) for a in ws + bs]
    xb = ng.tensor(x)
    out = {
        "chain": timed(lambda: chain(ng, ng.tensor(x0, requires_grad=True)), 3),
        "mlp": timed(lambda: mlp_step(ng, params, xb, labels), 3),
    }

    if epoch:
        X, y, _, _ = ng.data.load_mnist(flatten=True)
        X, y = (X / np.float32(255)).astype(np.float32), y.astype(np.int64)

        def fit():
            ng.manual_seed(0)
            model = ng.nn.MLP(SIZES, activation="relu", seed=0)
            opt = ng.optim.Adam(model.parameters(), lr=1e-3)
            ng.train.fit(model, "cross_entropy", opt, X, y, epochs=1, batch_size=128, seed=0)

        out["epoch"] = timed(fit, 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("before")
    ap.add_argument("after", nargs="?", default="WORKTREE")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--no-epoch", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        versions = [load(export(c, Path(tmp) / str(i))) for i, c in enumerate((args.before, args.after))]
        samplers = []
        for mods in versions:
            samplers.append(measures(use(mods), not args.no_epoch))
        loads = [os.getloadavg()[0]]
        for name in samplers[0]:
            n = args.rounds if name == "epoch" else 20 * args.rounds
            times: tuple[list, list] = ([], [])
            for r in range(n + 1):  # the first pair warms up
                for i in (0, 1) if r % 2 == 0 else (1, 0):  # ABBA: neither side always runs first
                    use(versions[i])
                    times[i].append(samplers[i][name]())
            a, b = times[0][1:], times[1][1:]
            ratios = sorted(y / x for x, y in zip(a, b))
            loads.append(os.getloadavg()[0])
            print(f"{name:6s} A min {min(a) * 1e3:9.2f} ms  B min {min(b) * 1e3:9.2f} ms  B/A of minima {min(b) / min(a):.3f}  "
                  f"B/A paired median {statistics.median(ratios):.3f} (quartiles {ratios[len(ratios) // 4]:.3f}.."
                  f"{ratios[3 * len(ratios) // 4]:.3f}, {len(ratios)} pairs)", flush=True)  # fmt: skip
    print(f"A = {args.before}, B = {args.after}; one process, interleaved; 1-min load average "
          f"{min(loads):.1f}..{max(loads):.1f} on {os.cpu_count()} cores")  # fmt: skip


if __name__ == "__main__":
    main()
