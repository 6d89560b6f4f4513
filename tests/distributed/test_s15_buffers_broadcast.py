"""``ng.distributed.broadcast_parameters(model)`` also broadcasts the model's buffers, as torch's
DistributedDataParallel does (``broadcast_buffers=True``): parameters then buffers, in torch's
named_parameters / named_buffers order, persistent or not, of every dtype; on one process it writes nothing.
Checked with a fake two-rank world, and on ``mpiexec -n 2`` (marked ``mpi``) against rank 0's model."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")


class Stats(ng.nn.Module):
    """A Linear and buffers of several dtypes and ranks (one not persistent, one 0-d), filled from ``seed``."""

    def __init__(self, seed: int):
        super().__init__()
        rng = np.random.default_rng(seed)
        self.lin = ng.nn.Linear(3, 2, seed=seed)
        self.register_buffer("mean", ng.tensor(rng.standard_normal(3).astype(np.float32)))
        self.register_buffer("count", ng.tensor(np.array(seed, np.int64)))
        self.register_buffer("mask", ng.tensor(rng.random(4) > 0.5))
        self.register_buffer("cache", ng.tensor(rng.standard_normal((2, 2))), persistent=False)
        self.register_buffer("absent", None)

    def forward(self, x):
        return self.lin(x - self.mean)


class TorchStats(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(3, 2)
        self.register_buffer("mean", torch.zeros(3))
        self.register_buffer("count", torch.tensor(0))
        self.register_buffer("mask", torch.zeros(4, dtype=torch.bool))
        self.register_buffer("cache", torch.zeros(2, 2, dtype=torch.float64), persistent=False)
        self.register_buffer("absent", None)


class FromRankZero(ng.distributed.World):
    """A fake rank 1 of two: a broadcast writes rank 0's next array into the buffer and records the call."""

    size = 2
    rank = 1

    def __init__(self, rank_zero: list[np.ndarray]):
        self.rank_zero, self.sent = list(rank_zero), []

    def broadcast_array_(self, buf):
        src = self.rank_zero.pop(0)
        assert buf.shape == src.shape and buf.dtype == src.dtype and buf.flags.c_contiguous
        buf[...] = src
        self.sent.append(buf)
        return buf


def _states(model: ng.nn.Module) -> list[np.ndarray]:
    """Parameters then buffers (None skipped): what DDP broadcasts from rank 0, in its order."""
    return [np.array(t.data) for t in (*model.parameters(), *model.buffers())]


def test_parameters_then_buffers_are_broadcast_in_torchs_order():
    rank0, rank1 = Stats(0), Stats(1)
    world = FromRankZero(_states(rank0))
    versions = [t._version for t in (*rank1.parameters(), *rank1.buffers())]
    ng.distributed.broadcast_parameters(rank1, world)
    assert not world.rank_zero  # every parameter and buffer was sent, each once
    t = TorchStats()
    torch_names = [n for n, _ in t.named_parameters()] + [n for n, _ in t.named_buffers()]
    ours = [n for n, _ in rank1.named_parameters()] + [n for n, _ in rank1.named_buffers()]
    assert ours == torch_names  # (DDP: module.named_parameters(), then module.named_buffers())
    for a, b in zip(_states(rank1), _states(rank0)):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == b.dtype
    after = [t._version for t in (*rank1.parameters(), *rank1.buffers())]
    assert all(a > b for a, b in zip(after, versions))  # written in place: saved values are seen as stale


def test_a_strided_buffer_is_sent_contiguous_and_written_back():
    rank0, rank1 = Stats(0), Stats(1)
    wide = np.arange(12.0).reshape(3, 4)
    rank1.cache = ng.tensor(wide)
    rank1.cache.data = rank1.cache.data[:, ::2]  # a strided view (MPI sends contiguous memory only)
    rank0.cache = ng.tensor(np.full((3, 2), 7.0))
    ng.distributed.broadcast_parameters(rank1, FromRankZero(_states(rank0)))
    np.testing.assert_array_equal(rank1.cache.numpy(), np.full((3, 2), 7.0))


def test_one_process_writes_nothing():
    model = Stats(3)
    before = [(t.data, t.data.copy(), t._version) for t in (*model.parameters(), *model.buffers())]
    ng.distributed.broadcast_parameters(model, ng.distributed.SingleProcess())
    for t, (data, values, version) in zip((*model.parameters(), *model.buffers()), before):
        assert t.data is data and t._version == version
        np.testing.assert_array_equal(t.data, values)


SCRIPT = """
import sys
import numpy as np
import nablagrad as ng
sys.path.insert(0, {here!r})
from test_s15_buffers_broadcast import Stats

world = ng.distributed.init()
model = Stats(seed=10 + world.rank)  # a different start on every rank
ng.distributed.broadcast_parameters(model)
np.savez({out!r} + f"-rank{{world.rank}}.npz", size=world.size,
         **{{f"s{{i}}": np.array(t.data) for i, t in enumerate((*model.parameters(), *model.buffers()))}})
"""


@pytest.mark.mpi
def test_two_ranks_end_with_rank_zeros_parameters_and_buffers(tmp_path):
    pytest.importorskip("mpi4py", reason="the 'distributed' extra (mpi4py + an MPI runtime) is not installed")
    here = str(Path(__file__).parent)
    script = tmp_path / "bcast.py"
    script.write_text(textwrap.dedent(SCRIPT.format(here=here, out=str(tmp_path / "out"))))
    src = str(Path(ng.__file__).parents[1])
    ng.distributed.launch(2, [sys.executable, str(script)], env={"PYTHONPATH": src})
    want = _states(Stats(seed=10))  # rank 0's model, built here
    for r in range(2):
        got = np.load(tmp_path / f"out-rank{r}.npz")
        assert int(got["size"]) == 2
        for i, w in enumerate(want):
            np.testing.assert_array_equal(got[f"s{i}"], w, err_msg=f"rank {r}, tensor {i}")
            assert got[f"s{i}"].dtype == w.dtype
