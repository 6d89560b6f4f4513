"""One training run, the same code on one process (imported by the tests) and on N ranks
(``mpiexec -n N python mpi_worker.py config.json``): SGD and Adam on a small MLP, optionally
stopped after some batches (a simulated kill) and resumed from the checkpoint."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

import nablagrad as ng

N_ROWS, BATCH = 45, 7  # 7 batches per epoch, the last of 3 rows: on 4 ranks one rank gets none
OPTIMIZERS = {
    "sgd": lambda params: ng.optim.SGD(params, lr=0.1, momentum=0.9),
    "adam": lambda params: ng.optim.Adam(params, lr=0.01),
}


def make_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N_ROWS, 3)).astype(np.float32)
    y = np.stack([np.sin(X[:, 0]) + X[:, 1] * X[:, 2], X.sum(1)], 1).astype(np.float32)
    return X, y


class RowLog:
    """An array-like that records which rows were read (index arrays and slices)."""

    def __init__(self, a):
        self.a, self.shape, self.dtype = a, a.shape, a.dtype
        self.indices: list[np.ndarray] = []
        self.slices: list[tuple[int, int]] = []

    def __len__(self) -> int:
        return len(self.a)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            self.slices.append((idx.start, idx.stop))
        else:
            self.indices.append(np.asarray(idx).copy())
        return self.a[idx]


class SimulatedKillError(Exception):
    """The simulated kill."""


def open_data(kind: str, folder: Path):
    if kind == "shards":
        return ng.data.load_shards(folder / "shards")
    return np.load(folder / "x.npy", mmap_mode="r"), np.load(folder / "y.npy", mmap_mode="r")


def write_data(folder: Path) -> None:
    X, y = make_data()
    np.save(folder / "x.npy", X)
    np.save(folder / "y.npy", y)
    ng.data.save_shards(folder / "shards", X, y, rows_per_shard=10)


def run(cfg: dict, distributed: bool) -> dict[str, np.ndarray]:
    """Train each optimiser in ``cfg["optimizers"]``; the final weights (and losses) by name."""
    folder = Path(cfg["folder"])
    out: dict[str, np.ndarray] = {}
    for name in cfg["optimizers"]:
        X, y = open_data(cfg["data"], folder)
        X = RowLog(X)
        model = ng.nn.MLP([3, 8, 2], activation="tanh", seed=1)
        opt = OPTIMIZERS[name](model.parameters())
        callbacks = []
        if cfg.get("stop_after"):
            seen = {"n": 0}

            def stop(trainer, step, logs, seen=seen):
                seen["n"] += 1
                if seen["n"] == cfg["stop_after"]:
                    raise SimulatedKillError

            callbacks.append(ng.train.LambdaCallback(on_batch_end=stop))
        ckpt = folder / cfg["ckpt"] / name if cfg.get("ckpt") else None
        try:
            h = ng.train.fit(model, "mse", opt, X, y, epochs=cfg["epochs"], batch_size=BATCH, metrics=["mae"], seed=3,
                             checkpoint_dir=ckpt, checkpoint_every=2, resume=cfg.get("resume", False),
                             callbacks=callbacks, distributed=distributed)  # fmt: skip
        except SimulatedKillError:
            continue
        for k, v in model.state_dict().items():
            out[f"{name}.{k}"] = v
        out[f"{name}.loss"] = np.array(h["loss"])
        out[f"{name}.mae"] = np.array(h["mae"])
        out[f"{name}.reads"] = np.concatenate(X.indices) if X.indices else np.zeros(0, np.int64)
        out[f"{name}.read_steps"] = np.array([len(i) for i in X.indices])
        out[f"{name}.scanned"] = np.array(X.slices, dtype=np.int64).reshape(-1, 2)
    return out


if __name__ == "__main__":
    config = json.loads(Path(sys.argv[1]).read_text())
    world = ng.distributed.init()
    result = run(config, distributed=True)
    np.savez(Path(config["folder"]) / f"{config['tag']}-rank{world.rank}.npz", size=world.size, **result)
