"""Communicators: who the ranks are, how raw buffers move between them, and what happens when one
rank fails.

A `Communicator` wraps an *engine*, the few buffer operations the collectives need, on NumPy
arrays that are C-contiguous:

    allreduce(x, op)         every rank gets the elementwise sum (op "sum") or max ("max")
    allgatherv(x, counts)    every rank gets the concatenation of the ranks' flat buffers
    reduce_scatter(x, counts) this rank's block of the sum, blocks of `counts` elements
    bcast(x, root)           every rank gets root's buffer
    reduce(x, root)          root gets the sum, the other ranks zeros
    sendrecv(x, dest, source) send to `dest`, receive from `source` (None: no partner, zeros)
    allgather_obj(obj)       every rank gets the list of the ranks' small Python objects

`_MPIEngine` runs them with mpi4py (imported here only, and only when a launcher started this
process); `_SelfEngine` is the single-process stand-in of size 1, so a script written for N ranks
runs unchanged under plain `python`.
"""
import os
import sys
import time
import traceback

import numpy as np

from .. import backend
from ..trace import primal_value

# Variables the MPI launchers set in each rank's environment (MPICH/Hydra, Open MPI, PMIx,
# Slurm's srun). Without any of them the process was not started by a launcher: the stand-in is
# used and mpi4py is never imported (importing it would initialise MPI as a singleton).
_LAUNCHER_VARIABLES = ("PMI_RANK", "PMI_SIZE", "PMIX_RANK", "OMPI_COMM_WORLD_SIZE",
                       "MPI_LOCALNRANKS")


class _SelfEngine:
    """The engine of a world of one rank: every collective is the identity (or zeros where
    nothing is received)."""

    rank, size = 0, 1

    def allreduce(self, x, op):
        return x.copy()

    def allgatherv(self, x, counts):
        return x.copy()

    def reduce_scatter(self, x, counts):
        return x.copy()

    def bcast(self, x, root):
        return x.copy()

    def reduce(self, x, root):
        return x.copy()

    def sendrecv(self, x, dest, source):
        return x.copy() if source == 0 else np.zeros_like(x)

    def allgather_obj(self, obj):
        return [obj]

    def abort(self, code):
        os._exit(code)


class _MPIEngine:
    """The engine over an mpi4py communicator (buffer-based calls: no pickling of arrays)."""

    def __init__(self, mpi_comm):
        from mpi4py import MPI
        self.MPI = MPI
        self.comm = mpi_comm
        self.rank = mpi_comm.Get_rank()
        self.size = mpi_comm.Get_size()

    def allreduce(self, x, op):
        out = np.empty_like(x)
        self.comm.Allreduce(x, out, op=self.MPI.SUM if op == "sum" else self.MPI.MAX)
        return out

    def allgatherv(self, x, counts):
        out = np.empty(sum(counts), x.dtype)
        self.comm.Allgatherv(x, [out, list(counts)])
        return out

    def reduce_scatter(self, x, counts):
        out = np.empty(counts[self.rank], x.dtype)
        self.comm.Reduce_scatter(x, out, list(counts), op=self.MPI.SUM)
        return out

    def bcast(self, x, root):
        out = x.copy()
        self.comm.Bcast(out, root=root)
        return out

    def reduce(self, x, root):
        out = np.zeros_like(x)
        self.comm.Reduce(x, out if self.rank == root else None, op=self.MPI.SUM, root=root)
        return out

    def sendrecv(self, x, dest, source):
        out = np.zeros_like(x)  # stays zero where there is no sender (PROC_NULL)
        null = self.MPI.PROC_NULL
        self.comm.Sendrecv(x, dest=null if dest is None else dest, recvbuf=out,
                           source=null if source is None else source)
        return out

    def allgather_obj(self, obj):
        return self.comm.allgather(obj)

    def abort(self, code):
        self.comm.Abort(code)


class Communicator:
    """A group of ranks the collectives run over.

    Args:
      mpi_comm: an mpi4py communicator (`MPI.COMM_WORLD`, or one made by `Split`); None makes
        the single-process stand-in of size 1.
      check: before each collective, gather every rank's shape, dtype and parameters (one small
        message) and raise on a mismatch, naming both ranks, instead of hanging or summing
        garbage. Set `comm.check = False` to save that message once a program is known good.

    Attributes: `rank` (this process's index), `size` (the number of ranks), `mpi` (the mpi4py
    communicator, or None for the stand-in).

    Example:
      >>> from mpi4py import MPI
      >>> comm = gd.Communicator(MPI.COMM_WORLD.Split(color=MPI.COMM_WORLD.rank % 2))
    """

    def __init__(self, mpi_comm=None, check=True):
        self.mpi = mpi_comm
        self.engine = _SelfEngine() if mpi_comm is None else _MPIEngine(mpi_comm)
        self.rank = self.engine.rank
        self.size = self.engine.size
        self.check = check
        self.nccl = True  # CuPy arrays over NCCL where every rank can (gpuad/distributed/_nccl.py)
        self.device_engine = None  # the NCCL engine once made, False where it cannot be
        if mpi_comm is not None:
            abort_on_uncaught_exception()

    def __repr__(self):
        kind = "stand-in" if self.mpi is None else "MPI"
        return f"Communicator({kind}, rank={self.rank}, size={self.size})"


_world = []


def launched_under_mpi():
    """Whether an MPI launcher (mpiexec, srun) started this process."""
    return any(v in os.environ for v in _LAUNCHER_VARIABLES)


def world():
    """The communicator of all ranks: MPI's COMM_WORLD under a launcher (`mpiexec -n N python
    script.py`), else a single-process stand-in of size 1, so one script runs both ways.

    Returns:
      a `Communicator` with `.rank` and `.size`; the same object on every call.

    Example:
      >>> import gpuad.distributed as gd
      >>> comm = gd.world()
      >>> comm.rank, comm.size          # (0, 1) under plain python
      (0, 1)
    """
    if not _world:
        if launched_under_mpi():
            from mpi4py import MPI
            _world.append(Communicator(MPI.COMM_WORLD))
        else:
            _world.append(Communicator(None))
    return _world[0]


def resolve(comm):
    """`comm`, or the world when None; an mpi4py communicator is wrapped."""
    if comm is None:
        return world()
    if isinstance(comm, Communicator):
        return comm
    if hasattr(comm, "Get_rank") and hasattr(comm, "Allreduce"):
        return Communicator(comm)
    raise TypeError(f"gpuad.distributed: comm must be a gd.Communicator, an mpi4py "
                    f"communicator or None (the world), not {type(comm).__name__}")


# ---------------------------------------------------------------------------------------------
# One failing rank must not leave the others blocked in a collective forever.

_hook_installed = []


def abort_on_uncaught_exception():
    """Make an exception that escapes a rank's script report the rank and abort every rank.

    Without it, the failing rank exits while the others wait in their next collective until the
    job is killed. The hook prints one line naming the rank and the exception, then the usual
    traceback, waits half a second for the launcher to forward them, then calls MPI_Abort on
    COMM_WORLD, which makes the launcher end all ranks with a
    non-zero status. Installed by the first MPI `Communicator`; keeps any earlier hook's output.
    """
    if _hook_installed:
        return
    _hook_installed.append(True)
    previous = sys.excepthook

    def hook(exc_type, exc, tb):
        from mpi4py import MPI
        rank, size = MPI.COMM_WORLD.Get_rank(), MPI.COMM_WORLD.Get_size()
        # the line first: MPI_Abort can kill the launcher's output forwarding before the end
        # of a long traceback is through (seen in CI: the traceback cut, the line lost)
        sys.stderr.write(f"gpuad.distributed: rank {rank} of {size} failed with "
                         f"{exc_type.__name__}: {exc}; aborting all ranks (MPI_Abort)\n")
        sys.stderr.flush()
        try:
            previous(exc_type, exc, tb)
        except Exception:
            traceback.print_exception(exc_type, exc, tb)
        sys.stderr.flush()
        sys.stdout.flush()
        time.sleep(0.5)  # let the launcher forward what was written before the ranks die
        MPI.COMM_WORLD.Abort(1)

    sys.excepthook = hook


# ---------------------------------------------------------------------------------------------
# Shapes and dtypes must agree between ranks before any buffer moves.

def check_alike(comm, op_name, x, params, free_axis=None):
    """Gather every rank's (shape, dtype, params) of `x` and raise if two ranks differ.

    All ranks get the same list, so all raise the same error: none is left waiting. With
    `free_axis`, that axis's length may differ (allgather of uneven pieces).

    Returns:
      the list of every rank's length along `free_axis` (None without it).
    """
    shape, dtype = tuple(x.shape), np.dtype(x.dtype).str
    if backend.is_cupy_array(primal_value(x)):
        dtype += " on the GPU"  # all ranks must take the same path (NCCL or host)
    if not comm.check:
        if free_axis is None:
            return None
        return [m[0] for m in comm.engine.allgather_obj((shape[free_axis],))]
    metas = comm.engine.allgather_obj((shape, dtype, params))
    first = metas[0]

    def comparable(m):
        s = m[0] if free_axis is None else m[0][:free_axis] + m[0][free_axis + 1:]
        return len(m[0]), s, m[1], m[2]

    for r, m in enumerate(metas[1:], start=1):
        if comparable(m) == comparable(first):
            continue
        where = f"{op_name}: rank 0 has {_describe(first)} but rank {r} has {_describe(m)}"
        if m[2] != first[2]:
            raise ValueError(f"{where}: the parameters differ. Call the collective with the "
                             f"same arguments on every rank.")
        if m[1] != first[1]:
            raise TypeError(f"{where}: the dtypes differ. Cast to one dtype on every rank "
                            f"(x.astype(...)) before the collective.")
        allowed = "" if free_axis is None else f" (only axis {free_axis} may differ)"
        raise ValueError(f"{where}: the shapes differ{allowed}. Every rank must pass an array "
                         f"of the same shape{allowed}.")
    return None if free_axis is None else [m[0][free_axis] for m in metas]


def _describe(meta):
    shape, dtype, params = meta
    dtype, _, device = dtype.partition(" on the ")
    text = f"{np.dtype(dtype).name} {shape}" + (f" on the {device}" if device else "")
    return text + (f" with {dict(params)}" if params else "")
