"""Scale-out: differentiable collectives over MPI, and data-parallel gradients.

    import gpuad.distributed as gd

    comm = gd.world()                    # COMM_WORLD under mpiexec, a size-1 stand-in otherwise
    total = gd.allreduce(x)              # its cotangent is the allreduce of the cotangents
    grads = gd.data_parallel_grad(loss)(params, gd.shard(x), gd.shard(y))
    carry, ys = gd.sequence.scan(step, init, gd.shard(xs), microbatches=4)   # time axis split

Run a script on N ranks with `mpiexec -n N python script.py` (`pip install gpuad[distributed]`
installs mpi4py and MPICH); the same script runs on one process under plain `python`. mpi4py is
imported only here, and only when a launcher started the process or a communicator is wrapped.

Every rank must run the same collectives in the same order, forward and backward: the backward
sweep runs a collective's rule on every rank, with a zero cotangent where a rank's loss did not
use its result. An exception that escapes one rank's script is reported with the rank's number,
then every rank is aborted (MPI_Abort), so none waits forever in a collective.
"""
from .collectives import (allgather, allreduce, broadcast, reduce, reduce_scatter, shard, shift,
                          split_sizes)
from .data_parallel import data_parallel_grad, data_parallel_value_and_grad
from .world import Communicator, launched_under_mpi, world
from . import sequence
