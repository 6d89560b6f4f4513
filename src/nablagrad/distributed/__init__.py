"""Data-parallel training over MPI (``mpi4py``): every rank holds the model, takes its share of
each global batch and runs backward locally; one in-place ``Allreduce`` over a single flattened
gradient buffer per step combines the gradients; then the same ``step()`` runs on every rank.

Install with ``pip install 'nablagrad[distributed]'`` and launch with ``mpiexec -n 4 python
script.py``.  Without MPI, :func:`init` is a no-op (rank 0 of a world of size 1).
"""

from .cost import efficiency, fit_alpha_beta, ring_allreduce_seconds, step_seconds
from .launch import launch, mpiexec_command
from .optimizer import DistributedOptimizer, allreduce_gradients, resolve, unwrap
from .world import MPI_INSTALL_HINT, MPIWorld, SingleProcess, World, broadcast_parameters, init, rank, size
