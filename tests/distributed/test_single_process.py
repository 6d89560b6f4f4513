"""Without mpiexec (or without the extra) ng.distributed is a no-op world of one rank; asking for
MPI without mpi4py names what to install."""

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.distributed import world as world_mod


def test_init_without_mpiexec_is_rank_0_of_1(monkeypatch):
    for k in ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS", "SLURM_NTASKS"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setattr(world_mod, "_WORLD", None)
    w = ng.distributed.init()
    assert (w.rank, w.size, w.is_root) == (0, 1, True)
    assert ng.distributed.rank() == 0 and ng.distributed.size() == 1


def test_distributed_optimizer_on_one_process_steps_like_the_plain_one():
    """On one rank the all-reduce is the identity: the same trajectory as the wrapped optimiser."""
    X = np.random.default_rng(0).standard_normal((16, 3)).astype(np.float32)
    y = X[:, :2] * 2
    results = []
    for wrap in (False, True):
        m = ng.nn.MLP([3, 4, 2], seed=0)
        opt = ng.optim.Adam(m.parameters(), lr=0.01)
        if wrap:
            opt = ng.distributed.DistributedOptimizer(opt, world=ng.distributed.SingleProcess())
            ng.distributed.broadcast_parameters(m, ng.distributed.SingleProcess())
        for _ in range(5):
            opt.zero_grad()
            ng.nn.MSELoss()(m(ng.tensor(X)), y).backward()
            opt.step()
        results.append(m.state_dict())
    for k in results[0]:
        np.testing.assert_array_equal(results[0][k], results[1][k])


def test_weighted_allreduce_packs_gradients_and_extras_into_one_buffer():
    """Σ_r w_r g_r with a fake two-rank world whose all-reduce doubles the buffer."""

    class Twice(ng.distributed.World):
        size = 2
        calls = 0

        def allreduce_(self, buf):
            self.calls += 1
            buf *= 2
            return buf

    p = ng.nn.Parameter(ng.tensor(np.ones((2, 3), np.float32)))
    q = ng.nn.Parameter(ng.tensor(np.ones(4, np.float32)))
    p.grad = ng.tensor(np.arange(6, dtype=np.float32).reshape(2, 3))  # q has no gradient on any rank
    w = Twice()
    extras = ng.distributed.allreduce_gradients([p, q], w, 0.25, np.array([1.5, 2.0]))
    assert w.calls == 1
    np.testing.assert_array_equal(p.grad.data, np.arange(6).reshape(2, 3) * 0.5)
    assert q.grad is None  # no rank has a gradient: left untouched, as torch's DDP
    np.testing.assert_array_equal(extras, [3.0, 4.0])


@pytest.mark.parametrize("n,size", [(7, 4), (3, 4), (8, 2), (1, 2)])
def test_shards_of_a_batch_cover_it_once_with_weights_summing_to_one(n, size):
    idx = np.random.default_rng(0).permutation(20)[:n]
    parts, weights = [], []
    for r in range(size):
        w = ng.distributed.World()
        w.rank, w.size = r, size
        part, weight = w.shard(idx)
        parts.append(part)
        weights.append(weight)
    np.testing.assert_array_equal(np.concatenate(parts), idx)
    assert sum(weights) == pytest.approx(1.0)
    assert [len(p) for p in parts] == [len(a) for a in np.array_split(idx, size)]


def test_without_the_extra_fit_distributed_names_what_to_install(monkeypatch):
    monkeypatch.setattr(world_mod, "_mpi", lambda: None)
    m = ng.nn.MLP([3, 4, 1], seed=0)
    before = m.state_dict()
    opt = ng.optim.SGD(m.parameters(), lr=0.1)
    X = np.zeros((8, 3), np.float32)
    with pytest.raises(ImportError, match=r"pip install 'nablagrad\[distributed\]'"):
        ng.train.fit(m, "mse", opt, X, X[:, :1], epochs=1, distributed=True)
    with pytest.raises(ImportError, match=r"nablagrad\[distributed\]"):
        ng.distributed.MPIWorld()
    for k, v in before.items():
        np.testing.assert_array_equal(m.state_dict()[k], v)


def test_under_mpiexec_without_mpi4py_init_refuses_to_run_as_one_process(monkeypatch):
    monkeypatch.setattr(world_mod, "_mpi", lambda: None)
    monkeypatch.setattr(world_mod, "_WORLD", None)
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "2")
    with pytest.raises(ImportError, match="launched by mpiexec but mpi4py is not installed"):
        ng.distributed.init()


def test_distributed_optimizer_refuses_what_it_cannot_wrap():
    m = ng.nn.MLP([2, 1], seed=0)
    opt = ng.distributed.DistributedOptimizer(ng.optim.SGD(m.parameters(), lr=0.1), world=ng.distributed.SingleProcess())
    with pytest.raises(TypeError, match="already distributed"):
        ng.distributed.DistributedOptimizer(opt)
    with pytest.raises(TypeError, match="expected an ng.optim optimiser"):
        ng.distributed.DistributedOptimizer("adam")
    assert opt.param_groups[0]["lr"] == 0.1  # the wrapped optimiser's attributes


def test_only_rank_0_writes_checkpoints(tmp_path):
    class NotRoot(ng.distributed.SingleProcess):
        rank = 1  # a non-root rank of a (pretend) larger world

    m = ng.nn.MLP([3, 4, 1], seed=0)
    X = np.zeros((8, 3), np.float32)
    for world, folder in ((NotRoot(), tmp_path / "r1"), (ng.distributed.SingleProcess(), tmp_path / "r0")):
        t = ng.train.Trainer(m, ng.nn.MSELoss(), ng.optim.SGD(m.parameters(), lr=0.1), X, X[:, :1],
                             checkpoint_dir=folder, world=world)  # fmt: skip
        t.checkpoint()
    assert not (tmp_path / "r1").exists()
    assert (tmp_path / "r0" / "checkpoint.safetensors").exists()


def test_distributed_optimizer_copies_and_pickles():
    import copy
    import pickle

    m = ng.nn.MLP([2, 1], seed=0)
    opt = ng.distributed.DistributedOptimizer(ng.optim.SGD(m.parameters(), lr=0.1), world=ng.distributed.SingleProcess())
    assert copy.copy(opt).param_groups[0]["lr"] == 0.1
    assert pickle.loads(pickle.dumps(opt)).param_groups[0]["lr"] == 0.1
