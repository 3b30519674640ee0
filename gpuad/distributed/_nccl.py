"""Which engine moves an array: NCCL for CuPy arrays where every rank can run it, else MPI
with the array staged through the host.

The NCCL communicator is made on the first collective of a CuPy array (every rank reaches it
together, as they reach every collective): the ranks first agree that all of them can run NCCL
(one small message), then rank 0's unique id is broadcast over MPI. `comm.nccl = False` keeps
CuPy arrays on the MPI path (host copies), e.g. to compare the two.
"""
import numpy as np

from .. import backend


def engine_for(comm, x):
    """(engine, x as a C-contiguous buffer of that engine's memory)."""
    if backend.is_cupy_array(x) and comm.mpi is not None and comm.nccl:
        engine = _device_engine(comm)
        if engine is not None:
            return engine, backend.namespace(x).ascontiguousarray(x)
    return comm.engine, np.asarray(backend.to_numpy_array(x), order="C")


def _device_engine(comm):
    if comm.device_engine is None:
        from .. import backend_nccl
        usable, _ = backend_nccl.available()
        if all(comm.engine.allgather_obj(usable)):
            uid = comm.mpi.bcast(backend_nccl.unique_id() if comm.rank == 0 else None, root=0)
            comm.device_engine = backend_nccl.NcclEngine(comm.size, uid, comm.rank)
        else:
            comm.device_engine = False  # some rank cannot: all stage through the host
    return comm.device_engine or None
