"""Differentiable collectives: primitives whose VJP and JVP rules are collectives again.

Each public function checks that every rank passes the same shape, dtype and parameters
(`world.check_alike`, one small message), then binds its primitive. The rules bind the
primitives directly: their operands are derived from checked ones.

The rules, with y_r the result on rank r, x_r the argument there and g_r the cotangent there:

    allreduce sum   y_r = sum_s x_s          vjp: allreduce sum of g       jvp: allreduce sum of t
    allreduce max   y_r = max_s x_s          vjp: allreduce sum of g, on the ranks holding the max,
                                             split evenly between ties
    allgather       y_r = concat_s x_s       vjp: reduce_scatter of g      jvp: allgather of t
    reduce_scatter  y_r = (sum_s x_s)[blk r] vjp: allgather of g           jvp: reduce_scatter
    broadcast       y_r = x_root             vjp: reduce of g to root      jvp: broadcast of t
    reduce          y_root = sum_s x_s, 0    vjp: broadcast of g from root jvp: reduce of t
    shift           y_r = x_(r-offset) or 0  vjp: shift of g by -offset    jvp: shift of t

(allreduce mean is the sum divided by the size; `shard` is a slice, a local op.)

A collective's backward must run on every rank, also where the rank's result got no cotangent
(its loss did not use it): the other ranks are waiting in the same collective. The primitives
are declared `collective=True`, which makes the backward sweep run their rule with a zero
cotangent instead of skipping it, and they keep their result's metadata to build that zero.

CuPy arrays go over NCCL where every rank can run it (`_nccl.py`, `gpuad/backend_nccl.py`), else
through the host (copied down, sent over MPI, copied back).
"""
import numpy as np

from .. import backend
from ..trace import PYTHON_NUMBERS, Primitive, primal_value
from ._nccl import engine_for
from .lift import level_of, lift
from .world import check_alike, resolve


def _back(out, like):
    """`out` on the device of `like` (a no-op unless it was staged through the host)."""
    return backend.to_device_array(out, backend.namespace(like))


def _run(comm, op, x, *args):
    """The engine's `op` on `x` (NCCL for CuPy arrays where it runs, else MPI through the
    host), reshaped to x's shape and back on x's device."""
    engine, buf = engine_for(comm, x)
    return _back(getattr(engine, op)(buf, *args).reshape(np.shape(x)), x)


def _run_along(comm, op, x, axis, counts):
    """allgatherv / reduce_scatter of x's slices along `axis`, `counts` slices per rank."""
    xp = backend.namespace(x)
    engine, buf = engine_for(comm, xp.moveaxis(x, axis, 0))
    rest = buf.shape[1:]
    per = int(np.prod(rest, dtype=np.int64))
    out = getattr(engine, op)(buf.reshape(-1), [c * per for c in counts])
    lead = sum(counts) if op == "allgatherv" else counts[comm.rank]
    return _back(xp.moveaxis(out.reshape((lead,) + rest), 0, axis), x)


# ---------------------------------------------------------------------------------------------
# allreduce

def _allreduce_sum(x, *, comm):
    return _run(comm, "allreduce", x, "sum")


allreduce_sum_p = Primitive(
    "allreduce", _allreduce_sum,
    vjp=[lambda ans, x, g, *, comm: allreduce_sum_p.bind(lift(g), comm=comm)],
    jvp=[lambda ans, x, g, *, comm: allreduce_sum_p.bind(lift(g, level_of(x)), comm=comm)],
    meta_only=("ans",), register=False, collective=True)


def _allreduce_max(x, *, comm):
    return _run(comm, "allreduce", x, "max")


def _max_weights(ans, x, comm):
    """1/k on the k ranks whose x equals the maximum, 0 elsewhere: the derivative of the max
    split evenly between ties (what `gnp.max` does within one array). A constant: the max is
    piecewise linear."""
    x, ans = primal_value(x), primal_value(ans)
    hit = (x == ans).astype(x.dtype)
    return hit / allreduce_sum_p.bind(hit, comm=comm)


allreduce_max_p = Primitive(
    "allreduce_max", _allreduce_max,
    vjp=[lambda ans, x, g, *, comm:
         allreduce_sum_p.bind(lift(g), comm=comm) * _max_weights(ans, x, comm)],
    jvp=[lambda ans, x, g, *, comm:
         allreduce_sum_p.bind(lift(g * _max_weights(ans, x, comm), level_of(x)), comm=comm)],
    register=False, collective=True)


def allreduce(x, op="sum", comm=None):
    """Combine `x` elementwise over the ranks; every rank gets the result.

    Args:
      x: an array of the same shape and dtype on every rank.
      op: "sum", "mean" or "max" (the max's derivative goes to the ranks holding it, split
        evenly between ties).
      comm: a `Communicator` (default: `gd.world()`).

    Returns:
      an array of x's shape and dtype, the same on every rank.

    The cotangent of a sum-allreduce is the sum-allreduce of the cotangents.

    Example:
      >>> total = gd.allreduce(gnp.sum(local_loss))      # on every rank
    """
    comm = resolve(comm)
    if type(x) in PYTHON_NUMBERS:
        x = np.asarray(x)
    if op not in ("sum", "mean", "max"):
        raise ValueError(f"gd.allreduce: op={op!r}; use 'sum', 'mean' or 'max'")
    if op == "max" and np.dtype(x.dtype).kind == "c":
        raise TypeError(f"gd.allreduce: op='max' of a {x.dtype} array: complex numbers have no "
                        f"order. Reduce the real part or the absolute value instead.")
    check_alike(comm, "gd.allreduce", x, (("op", op),))
    if op == "max":
        return allreduce_max_p.bind(lift(x), comm=comm)
    out = allreduce_sum_p.bind(lift(x), comm=comm)
    return out / comm.size if op == "mean" else out


# ---------------------------------------------------------------------------------------------
# allgather and reduce_scatter: adjoint to each other

def _allgather(x, *, axis, counts, comm):
    return _run_along(comm, "allgatherv", x, axis, counts)


def _reduce_scatter(x, *, axis, counts, comm):
    return _run_along(comm, "reduce_scatter", x, axis, counts)


allgather_p = Primitive(
    "allgather", _allgather,
    vjp=[lambda ans, x, g, *, axis, counts, comm:
         reduce_scatter_p.bind(lift(g), axis=axis, counts=counts, comm=comm)],
    jvp=[lambda ans, x, g, *, axis, counts, comm:
         allgather_p.bind(lift(g, level_of(x)), axis=axis, counts=counts, comm=comm)],
    meta_only=("ans",), register=False, collective=True)

reduce_scatter_p = Primitive(
    "reduce_scatter", _reduce_scatter,
    vjp=[lambda ans, x, g, *, axis, counts, comm:
         allgather_p.bind(lift(g), axis=axis, counts=counts, comm=comm)],
    jvp=[lambda ans, x, g, *, axis, counts, comm:
         reduce_scatter_p.bind(lift(g, level_of(x)), axis=axis, counts=counts, comm=comm)],
    meta_only=("ans",), register=False, collective=True)


def _axis(op_name, x, axis):
    ndim = len(x.shape)
    if not -ndim <= axis < ndim:
        raise ValueError(f"{op_name}: axis {axis} is out of range for an array of shape "
                         f"{tuple(x.shape)}; it needs at least one dimension to split or join "
                         f"along (x[None] adds one)")
    return axis % ndim


def split_sizes(n, size):
    """The lengths of `numpy.array_split(range(n), size)`: the first n % size pieces one longer."""
    q, r = divmod(n, size)
    return tuple(q + (i < r) for i in range(size))


def allgather(x, axis=0, comm=None):
    """Concatenate every rank's `x` along `axis`, in rank order; every rank gets the whole.

    Args:
      x: an array of at least one dimension; shapes may differ along `axis` only (uneven pieces,
        e.g. from `gd.shard`).
      axis: the axis to join along.

    Returns:
      an array whose length along `axis` is the sum over the ranks.

    Example:
      >>> full = gd.allgather(gd.shard(x))   # == x on every rank
    """
    comm = resolve(comm)
    axis = _axis("gd.allgather", x, axis)
    counts = check_alike(comm, "gd.allgather", x, (("axis", axis),), free_axis=axis)
    return allgather_p.bind(lift(x), axis=axis, counts=tuple(counts), comm=comm)


def reduce_scatter(x, axis=0, comm=None):
    """Sum `x` over the ranks and give each rank its block along `axis`.

    The blocks are those of `numpy.array_split(total, size, axis)`: contiguous, in rank order,
    the first `n % size` one longer, so uneven lengths are allowed.

    Args:
      x: an array of the same shape and dtype on every rank, at least one dimension.
      axis: the axis to split.

    Returns:
      this rank's block of the sum.

    Example:
      >>> mine = gd.reduce_scatter(g)      # == gd.shard(gd.allreduce(g))
    """
    comm = resolve(comm)
    axis = _axis("gd.reduce_scatter", x, axis)
    check_alike(comm, "gd.reduce_scatter", x, (("axis", axis),))
    counts = split_sizes(x.shape[axis], comm.size)
    return reduce_scatter_p.bind(lift(x), axis=axis, counts=counts, comm=comm)


# ---------------------------------------------------------------------------------------------
# broadcast and reduce: adjoint to each other

def _broadcast(x, *, root, comm):
    return _run(comm, "bcast", x, root)


def _reduce(x, *, root, comm):
    return _run(comm, "reduce", x, root)


broadcast_p = Primitive(
    "broadcast", _broadcast,
    vjp=[lambda ans, x, g, *, root, comm: reduce_p.bind(lift(g), root=root, comm=comm)],
    jvp=[lambda ans, x, g, *, root, comm:
         broadcast_p.bind(lift(g, level_of(x)), root=root, comm=comm)],
    meta_only=("ans",), register=False, collective=True)

reduce_p = Primitive(
    "reduce", _reduce,
    vjp=[lambda ans, x, g, *, root, comm: broadcast_p.bind(lift(g), root=root, comm=comm)],
    jvp=[lambda ans, x, g, *, root, comm:
         reduce_p.bind(lift(g, level_of(x)), root=root, comm=comm)],
    meta_only=("ans",), register=False, collective=True)


def _root(op_name, root, comm):
    if not 0 <= root < comm.size:
        raise ValueError(f"{op_name}: root={root} is not a rank of this communicator "
                         f"(ranks 0..{comm.size - 1})")
    return int(root)


def broadcast(x, root=0, comm=None):
    """Every rank gets rank `root`'s `x`.

    Args:
      x: an array of the same shape and dtype on every rank (the other ranks' values are not
        read; their derivative is zero).
      root: the rank whose value is sent.

    Returns:
      root's array, on every rank. Its cotangent is summed back to root.

    Example:
      >>> params = gd.broadcast(init(seed=comm.rank))   # every rank starts from rank 0's draw
    """
    comm = resolve(comm)
    root = _root("gd.broadcast", root, comm)
    check_alike(comm, "gd.broadcast", x, (("root", root),))
    return broadcast_p.bind(lift(x), root=root, comm=comm)


def reduce(x, root=0, comm=None):
    """The sum of `x` over the ranks on rank `root`; zeros on the other ranks.

    Zeros rather than "undefined" keep it a linear map with an exact adjoint (`broadcast`).

    Example:
      >>> total = gd.reduce(local)          # meaningful on rank 0
    """
    comm = resolve(comm)
    root = _root("gd.reduce", root, comm)
    check_alike(comm, "gd.reduce", x, (("root", root),))
    return reduce_p.bind(lift(x), root=root, comm=comm)


# ---------------------------------------------------------------------------------------------
# shift: point to point along an open chain of ranks

def _shift(x, *, offset, comm):
    r, n = comm.rank, comm.size
    dest = r + offset if 0 <= r + offset < n else None
    source = r - offset if 0 <= r - offset < n else None
    return _run(comm, "sendrecv", x, dest, source)


shift_p = Primitive(
    "shift", _shift,
    vjp=[lambda ans, x, g, *, offset, comm: shift_p.bind(lift(g), offset=-offset, comm=comm)],
    jvp=[lambda ans, x, g, *, offset, comm:
         shift_p.bind(lift(g, level_of(x)), offset=offset, comm=comm)],
    meta_only=("ans",), register=False, collective=True)


def shift(x, offset=1, comm=None):
    """Send `x` to rank `rank + offset` and receive from rank `rank - offset`.

    An open chain, not a ring: ranks with no sender (rank < offset for offset > 0) get zeros, and
    what the last ranks send falls off the end. The VJP is the shift by `-offset`.

    Args:
      x: an array of the same shape and dtype on every rank.
      offset: an int, positive (towards higher ranks) or negative.

    Example:
      >>> carry = gd.shift(final_carry)      # rank r starts where rank r - 1 ended
    """
    comm = resolve(comm)
    if type(x) in PYTHON_NUMBERS:
        x = np.asarray(x)
    offset = int(offset)
    check_alike(comm, "gd.shift", x, (("offset", offset),))
    return shift_p.bind(lift(x), offset=offset, comm=comm)


# ---------------------------------------------------------------------------------------------
# shard: a slice, no communication

def shard_bounds(n, axis_size, rank):
    """(start, stop) of rank's piece of `n` items split into `axis_size` pieces as
    `numpy.array_split` does."""
    sizes = split_sizes(n, axis_size)
    start = sum(sizes[:rank])
    return start, start + sizes[rank]


def shard(x, axis=0, comm=None):
    """This rank's contiguous piece of `x` along `axis`, as `numpy.array_split(x, size, axis)`
    would give it (uneven lengths allowed: the first `n % size` ranks get one more).

    A local slice: no message. Its VJP puts the cotangent back in place, zeros elsewhere.

    Example:
      >>> xb, yb = gd.shard(x_batch), gd.shard(y_batch)   # this rank's part of the batch
    """
    comm = resolve(comm)
    axis = _axis("gd.shard", x, axis)
    start, stop = shard_bounds(x.shape[axis], comm.size, comm.rank)
    index = (slice(None),) * axis + (slice(start, stop),)
    return x[index]
