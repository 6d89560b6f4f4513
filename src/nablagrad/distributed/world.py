"""Who am I and how many are we: the process group a training run spans.

:class:`SingleProcess` (rank 0 of 1, every collective the identity) and :class:`MPIWorld` (an
``mpi4py`` communicator) share one interface, so the training loop carries the mode as an
object instead of testing a flag.  A global batch ``B`` is split into contiguous shares
``B_r`` (as ``np.array_split`` cuts them); rank ``r`` weighs its gradient by ``|B_r| / |B|`` so that the
sum over ranks is the gradient of the mean loss over ``B``:

    ∇L_B = Σ_r (|B_r| / |B|) ∇L_{B_r}
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..backend import CPU, device_of, to_device
from ..nn import Module

MPI_INSTALL_HINT = (
    "data-parallel training needs mpi4py and an MPI runtime: pip install 'nablagrad[distributed]' "
    "(or apt-get install openmpi-bin and pip install mpi4py), then launch with mpiexec -n N"
)


def _mpi():
    """The ``mpi4py.MPI`` module, or ``None`` when the extra is not installed."""
    try:
        from mpi4py import MPI  # noqa: PLC0415 - optional extra, loaded on first use
    except ImportError:
        return None
    return MPI


def _launched_by_mpi() -> bool:
    """True inside ``mpiexec``/``mpirun``/``srun`` (checked before importing mpi4py, which would init MPI)."""
    keys = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS", "SLURM_NTASKS")
    return any(k in os.environ for k in keys)


class World:
    """The interface of a process group (see the module docstring)."""

    rank: int = 0
    size: int = 1

    @property
    def is_root(self) -> bool:
        return self.rank == 0

    def block(self, n: int) -> range:
        """This rank's contiguous block of ``n`` items (the first ``n mod size`` ranks get one more)."""
        q, r = divmod(n, self.size)
        start = self.rank * q + min(self.rank, r)
        return range(start, start + q + (self.rank < r))

    def shard(self, idx: np.ndarray) -> tuple[np.ndarray, float]:
        """This rank's contiguous share of the global batch ``idx`` and its weight ``|B_r| / |B|``."""
        b = self.block(len(idx))
        return idx[b.start : b.stop], len(b) / max(len(idx), 1)

    def allreduce_(self, buf: np.ndarray) -> np.ndarray:
        """Sum ``buf`` over all ranks, in place."""
        return buf

    def broadcast(self, obj: Any) -> Any:
        """Rank 0's ``obj`` on every rank."""
        return obj

    def broadcast_array_(self, buf: np.ndarray) -> np.ndarray:
        """Rank 0's array copied into ``buf`` on every rank, in place."""
        return buf

    def allgather(self, obj: Any) -> list:
        """``[obj of rank 0, obj of rank 1, …]`` on every rank."""
        return [obj]

    def barrier(self) -> None:
        """Wait until every rank arrives."""


class SingleProcess(World):
    """One process: rank 0 of a world of size 1; every collective is the identity."""

    def __repr__(self) -> str:
        return "SingleProcess()"


class MPIWorld(World):
    """The ranks of an MPI communicator (``MPI.COMM_WORLD`` by default)."""

    def __init__(self, comm=None):
        MPI = _mpi()
        if MPI is None:
            raise ImportError(f"ng.distributed: mpi4py is not installed — {MPI_INSTALL_HINT}")
        self.MPI = MPI
        self.comm = comm if comm is not None else MPI.COMM_WORLD
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()

    def allreduce_(self, buf: np.ndarray) -> np.ndarray:
        if self.size > 1:
            self.comm.Allreduce(self.MPI.IN_PLACE, buf, op=self.MPI.SUM)
        return buf

    def broadcast(self, obj: Any) -> Any:
        return self.comm.bcast(obj, root=0)

    def broadcast_array_(self, buf: np.ndarray) -> np.ndarray:
        if self.size > 1:
            self.comm.Bcast(buf, root=0)
        return buf

    def allgather(self, obj: Any) -> list:
        return self.comm.allgather(obj)

    def barrier(self) -> None:
        self.comm.Barrier()

    def __repr__(self) -> str:
        return f"MPIWorld(rank={self.rank}, size={self.size})"


_WORLD: World | None = None


def init() -> World:
    """The process group: an :class:`MPIWorld` under ``mpiexec``, else :class:`SingleProcess` —
    a no-op that reports rank 0 of a world of size 1 (also when mpi4py is not installed)."""
    global _WORLD
    if _WORLD is None:
        _WORLD = MPIWorld() if _mpi_available() else SingleProcess()
    return _WORLD


def _mpi_available() -> bool:
    if not _launched_by_mpi():
        return False
    if _mpi() is None:
        raise ImportError(f"ng.distributed.init: launched by mpiexec but mpi4py is not installed — {MPI_INSTALL_HINT}")
    return True


def rank() -> int:
    """This process's rank (0 without MPI)."""
    return init().rank


def size() -> int:
    """The number of ranks (1 without MPI)."""
    return init().size


def broadcast_parameters(model: Module, world: World | None = None) -> None:
    """Copy rank 0's parameters and buffers into every rank's model (the same start everywhere), as torch's
    ``DistributedDataParallel`` does when it wraps a model (its ``broadcast_buffers=True``): every buffer of
    ``model.buffers()``, persistent or not (running statistics, a fixed mean), in every dtype.  On one
    process (size 1) nothing is written."""
    if not isinstance(model, Module):  # checked on one process too, so a script's mistake shows before mpiexec
        raise TypeError(f"broadcast_parameters: expected an ng.nn.Module (the model whose parameters and buffers rank 0 "
                        f"sends), got {type(model).__name__}")  # fmt: skip
    world = world if world is not None else init()
    if world.size == 1:
        return
    for t in (*model.parameters(), *model.buffers()):
        _broadcast_tensor_(t, world)


def _broadcast_tensor_(t, world: World) -> None:
    """Rank 0's values written into ``t`` in place (through a contiguous host copy where its data is a
    strided view, which MPI cannot send, or lives on another device), its version bumped (written in place)."""
    data = t.data
    if not isinstance(data, np.ndarray):  # another library's array (a GPU's): sent through the host
        data[...] = to_device(world.broadcast_array_(to_device(data, CPU)), device_of(data))
    elif not data.flags.c_contiguous:
        buf = world.broadcast_array_(np.ascontiguousarray(data))
        data[...] = buf
    else:
        world.broadcast_array_(data)
    t.bump_version_()
