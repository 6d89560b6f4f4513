"""The all-reduce of ``DistributedOptimizer`` as torch's DistributedDataParallel does it: a parameter no
rank has a gradient for (a frozen layer) keeps ``grad = None``, so weight decay and momentum leave it
as one process does, while a gradient only some ranks have is averaged with zeros for the others;
parameters on another device (array-api-strict's ``device1``) get their averaged gradients there,
and ``broadcast_parameters`` writes rank 0's values into them there.  Checked with fake two-rank
worlds against the formula ``Σ_r w_r g_r`` in NumPy, and on ``mpiexec -n 2`` (marked ``mpi``) against
a one-process run, ``fit(distributed=True, device=...)`` included."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import nablagrad as ng

D = ng.distributed
xps = pytest.importorskip("array_api_strict", reason="array-api-strict is in the test dependency group")
DEV = xps.Device("device1")


class Recorder(D.World):
    """A fake rank 1 of two: records the buffer it would send (its own result is not used)."""

    size, rank = 2, 1

    def allreduce_(self, buf):
        self.sent = buf.copy()
        return buf


class Adder(D.World):
    """A fake rank 0 of two: the all-reduce adds rank 1's recorded buffer."""

    size, rank = 2, 0

    def __init__(self, other: np.ndarray):
        self.other = other

    def allreduce_(self, buf):
        buf += self.other
        return buf


def _params(device=None):
    shapes = [(2, 3), (4,), (3,)]
    return [ng.nn.Parameter(ng.tensor(np.ones(s), dtype="float64", device=device)) for s in shapes]


@pytest.mark.parametrize("device", [None, DEV], ids=["cpu", "device1"])
def test_a_gradient_no_rank_has_stays_none_and_one_rank_has_is_averaged(device):
    rng = np.random.default_rng(0)
    g0 = rng.standard_normal((2, 3))  # rank 0: only the first parameter has a gradient
    g1 = rng.standard_normal((2, 3)), rng.standard_normal(4)  # rank 1: the first two; nobody the third
    rank1 = _params(device)
    rank1[0].grad, rank1[1].grad = (ng.tensor(g, device=device) for g in g1)
    rec = Recorder()
    D.allreduce_gradients(rank1, rec, 0.5, np.array([2.0]))
    rank0 = _params(device)
    rank0[0].grad = ng.tensor(g0, device=device)
    extras = D.allreduce_gradients(rank0, Adder(rec.sent), 0.5, np.array([3.0]))
    np.testing.assert_allclose(rank0[0].grad.numpy(), 0.5 * (g0 + g1[0]), rtol=1e-15)
    np.testing.assert_allclose(rank0[1].grad.numpy(), 0.5 * g1[1], rtol=1e-15)  # rank 0 counted zeros
    assert rank0[2].grad is None
    np.testing.assert_array_equal(extras, [5.0])
    for p in rank0[:2]:
        assert p.grad.device == p.device and p.grad.dtype == np.float64


def test_averaged_gradients_of_cpu_parameters_stay_on_the_cpu_under_another_default_device():
    p = ng.nn.Parameter(ng.tensor(np.ones(3, np.float32)))
    p.grad = ng.tensor(np.arange(3, dtype=np.float32))
    ng.set_default_device(DEV)
    try:
        D.allreduce_gradients([p], Adder(np.concatenate([np.arange(3.0), [1.0]]).astype(np.float32)), 0.5)
    finally:
        ng.set_default_device("cpu")
    assert p.grad.device == "cpu"
    np.testing.assert_array_equal(p.grad.numpy(), [0.0, 1.5, 3.0])


class Twice(D.World):
    """Two ranks holding the same data: the all-reduce doubles the buffer."""

    size = 2

    def allreduce_(self, buf):
        buf *= 2
        return buf


def _train_frozen(world):
    model = ng.nn.Sequential(ng.nn.Linear(3, 4, seed=0), ng.nn.Tanh(), ng.nn.Linear(4, 1, seed=1))
    model[0].weight.requires_grad = False  # frozen, yet in the optimiser: weight decay must not touch it
    opt = ng.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=0.1)
    if world is not None:
        opt = D.DistributedOptimizer(opt, world=world)
    X = np.random.default_rng(1).standard_normal((8, 3)).astype(np.float32)
    for _ in range(3):
        opt.zero_grad()
        ng.nn.MSELoss()(model(ng.tensor(X)), ng.tensor(X[:, :1] * 2)).backward()
        opt.step()
    return [p.numpy().copy() for p in model.parameters()]


def test_a_frozen_layer_under_weight_decay_trains_as_on_one_process():
    start = ng.nn.Linear(3, 4, seed=0).weight.numpy()
    plain, two = _train_frozen(None), _train_frozen(Twice())
    np.testing.assert_array_equal(two[0], start)
    for a, b in zip(two, plain):
        np.testing.assert_array_equal(a, b)


class FromRankZero(D.World):
    """A fake rank 1 of two: a broadcast writes rank 0's next array (a host array) into the buffer."""

    size, rank = 2, 1

    def __init__(self, rank_zero: list[np.ndarray]):
        self.rank_zero = list(rank_zero)

    def broadcast_array_(self, buf):
        assert type(buf) is np.ndarray and buf.flags.c_contiguous  # what MPI can send
        buf[...] = self.rank_zero.pop(0)
        return buf


def test_broadcast_parameters_writes_rank_zeros_values_on_the_device():
    rank0 = ng.nn.Linear(3, 2, dtype="float64", seed=0)
    model = ng.nn.Linear(3, 2, dtype="float64", seed=5).to(DEV)
    before = [(p.data, p._version) for p in model.parameters()]
    D.broadcast_parameters(model, FromRankZero([p.numpy() for p in rank0.parameters()]))
    for p, q, (data, version) in zip(model.parameters(), rank0.parameters(), before):
        assert p.data is data and p._version > version  # written in place, on the device
        assert p.device == ng.device(DEV)
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def _fit(world) -> dict:
    """A frozen-layer run and ``fit(distributed=…, device=…)`` on ``world`` (device1 when it has two ranks):
    weights and losses.  Rank 1 starts from other weights: fit broadcasts rank 0's."""
    out = {f"frozen{i}": w for i, w in enumerate(_train_frozen(world if world.size > 1 else None))}
    X = np.random.default_rng(1).standard_normal((20, 3)).astype(np.float32)
    model = ng.nn.Sequential(ng.nn.Linear(3, 4, seed=world.rank), ng.nn.Tanh(), ng.nn.Linear(4, 1, seed=7))
    ng.manual_seed(0)
    h = ng.train.fit(model, ng.nn.MSELoss(), ng.optim.Adam(model.parameters(), lr=0.05), X, X[:, :1] - X[:, 1:2],
                     epochs=3, batch_size=8, distributed=world.size > 1, device=DEV if world.size > 1 else None,
                     progress=False)  # fmt: skip
    out["device"] = str(model[0].weight.device)
    out["loss"] = np.array(h.history["loss"])
    out.update({f"fit{i}": p.numpy() for i, p in enumerate(model.parameters())})
    return out


SCRIPT = """
import sys
import numpy as np
import nablagrad as ng
sys.path.insert(0, {here!r})
from test_s18_f_gradients import _fit

world = ng.distributed.init()
np.savez({out!r} + f"-rank{{world.rank}}.npz", size=world.size, **_fit(world))
"""


@pytest.mark.mpi
def test_two_ranks_match_one_process_with_a_frozen_layer_and_on_a_device(tmp_path):
    pytest.importorskip("mpi4py", reason="the 'distributed' extra (mpi4py + an MPI runtime) is not installed")
    script = tmp_path / "run.py"
    out = str(tmp_path / "out")
    script.write_text(textwrap.dedent(SCRIPT.format(here=str(Path(__file__).parent), out=out)))
    src = str(Path(ng.__file__).parents[1])
    D.launch(2, [sys.executable, str(script)], env={"PYTHONPATH": src})
    one = _fit(D.SingleProcess())  # here, on the CPU
    assert one["device"] == "cpu"
    for r in range(2):
        got = np.load(f"{out}-rank{r}.npz")
        assert int(got["size"]) == 2 and str(got["device"]) == "array_api_strict:device1"
        for k in one:
            if k.startswith(("frozen", "fit")):
                np.testing.assert_allclose(got[k], one[k], rtol=0, atol=1e-6, err_msg=f"rank {r}, {k}")
        np.testing.assert_allclose(got["loss"], one["loss"], rtol=1e-5)
