"""Data-parallel training on ``mpiexec -n 2`` and ``-n 4`` (oversubscribed on small machines)
ends at the weights of a one-process run on the same global batches, for SGD (momentum) and
Adam, with and without a kill and a resume; each rank reads only its share of the rows."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import nablagrad as ng

pytestmark = pytest.mark.mpi

try:
    import mpi4py  # noqa: F401
except ImportError:
    pytest.skip("the 'distributed' extra (mpi4py + an MPI runtime) is not installed: pip install 'nablagrad[distributed]'",
                allow_module_level=True)  # fmt: skip

HERE = Path(__file__).parent
_spec = importlib.util.spec_from_file_location("mpi_worker", HERE / "mpi_worker.py")
worker = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(worker)
EPOCHS = 3


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    f = tmp_path_factory.mktemp("mpi")
    worker.write_data(f)
    return f


@pytest.fixture(scope="module")
def reference(folder):
    """The one-process run (no MPI) on the same data and global batches."""
    return worker.run({"folder": str(folder), "data": "npy", "optimizers": ["sgd", "adam"], "epochs": EPOCHS}, distributed=False)


def _mpirun(n: int, folder: Path, tag: str, **cfg) -> list[dict]:
    cfg = {"folder": str(folder), "tag": tag, "optimizers": ["sgd", "adam"], "epochs": EPOCHS, "data": "npy", **cfg}
    path = folder / f"{tag}.json"
    path.write_text(json.dumps(cfg))
    src = str(Path(ng.__file__).parents[1])
    ng.distributed.launch(n, [sys.executable, str(HERE / "mpi_worker.py"), str(path)], env={"PYTHONPATH": src})
    return [dict(np.load(folder / f"{tag}-rank{r}.npz")) for r in range(n)]


def _assert_same_weights(got: dict, want: dict, name: str) -> None:
    keys = [k for k in want if k.startswith(f"{name}.") and k.split(".", 1)[1][0].isdigit()]
    assert keys
    for k in keys:
        assert got[k].dtype == np.float32
        np.testing.assert_allclose(got[k], want[k], rtol=0, atol=1e-6, err_msg=k)


@pytest.mark.parametrize("n,data", [(2, "shards"), (4, "npy")])
def test_n_ranks_reach_the_weights_of_one_process(folder, reference, n, data):
    ranks = _mpirun(n, folder, f"plain{n}", data=data)
    for name in ("sgd", "adam"):
        for r, got in enumerate(ranks):
            assert int(got["size"]) == n
            _assert_same_weights(got, reference, name)
            np.testing.assert_allclose(got[f"{name}.loss"], reference[f"{name}.loss"], rtol=1e-5, err_msg=f"rank {r}")
            np.testing.assert_allclose(got[f"{name}.mae"], reference[f"{name}.mae"], rtol=1e-5, err_msg=f"rank {r}")
        # each rank read only its share of every global batch: together, every row once per epoch
        reads = [got[f"{name}.reads"] for got in ranks]
        assert sum(len(r) for r in reads) == EPOCHS * worker.N_ROWS
        np.testing.assert_array_equal(np.sort(np.concatenate(reads)), np.repeat(np.arange(worker.N_ROWS), EPOCHS))
        steps = np.concatenate([got[f"{name}.read_steps"] for got in ranks])  # rows per non-empty step
        assert steps.max() <= -(-worker.BATCH // n)
        # the NaN/inf scan: each rank scanned only its contiguous block of rows
        blocks = sorted(tuple(got[f"{name}.scanned"][0]) for got in ranks)
        assert [b[0] for b in blocks] == [0, *[b[1] for b in blocks[:-1]]] and blocks[-1][1] == worker.N_ROWS


@pytest.mark.parametrize("n", [2, 4])
def test_a_killed_run_resumes_on_n_ranks_to_the_same_weights(folder, reference, n):
    # killed after 10 batches (epoch 2, batch 3; the last checkpoint is after batch 2 of epoch 2)
    first = _mpirun(n, folder, f"killed{n}", ckpt=f"ckpt{n}", stop_after=10)
    assert all(not any(k.endswith(".loss") for k in r) for r in first)  # stopped before the end
    assert (folder / f"ckpt{n}" / "sgd" / "checkpoint.safetensors").exists()
    assert not list((folder / f"ckpt{n}" / "sgd").glob(".*tmp"))
    resumed = _mpirun(n, folder, f"resumed{n}", ckpt=f"ckpt{n}", resume=True)
    for name in ("sgd", "adam"):
        for got in resumed:
            _assert_same_weights(got, reference, name)
            np.testing.assert_allclose(got[f"{name}.loss"], reference[f"{name}.loss"], rtol=1e-5)


def test_a_one_process_checkpoint_resumes_on_four_ranks(folder, reference):
    cfg = {"folder": str(folder), "data": "npy", "optimizers": ["adam"], "epochs": EPOCHS, "ckpt": "ckpt1", "stop_after": 9}
    worker.run(cfg, distributed=False)
    resumed = _mpirun(4, folder, "from-one", optimizers=["adam"], ckpt="ckpt1", resume=True)
    for got in resumed:
        _assert_same_weights(got, reference, "adam")


def test_nablagrad_train_distributed_on_two_ranks_saves_the_one_process_model(tmp_path):
    """`mpiexec -n 2 nablagrad train --distributed`: rank 0 prints and saves the model a one-process run saves."""
    opts = ["--dataset", "xor", "--limit", "300", "--epochs", "2", "--batch-size", "32", "--layers", "8", "--no-progress"]
    main = [sys.executable, "-m", "nablagrad", "train", *opts]
    src = str(Path(ng.__file__).parents[1])
    done = ng.distributed.launch(2, [*main, "--distributed", "--out", str(tmp_path / "two")], env={"PYTHONPATH": src})
    assert done.stdout.count("nablagrad train: xor") == 1 and done.stdout.count("test accuracy") == 1, done.stdout
    from nablagrad.cli import main as cli_main

    assert cli_main(["train", *opts, "--out", str(tmp_path / "one")]) == 0
    one, two = ng.io.load(tmp_path / "one" / "model.safetensors"), ng.io.load(tmp_path / "two" / "model.safetensors")
    for (k, a), b in zip(one.state_dict().items(), two.state_dict().values()):
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-6, err_msg=k)
