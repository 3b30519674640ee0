"""Data parallelism: every rank differentiates the loss on its own part of the batch, then the
gradients are averaged over the ranks, a bucket of leaves per message.

One allreduce per leaf would cost one message latency per leaf (an MLP of 4 layers has 8 leaves);
packing the leaves into flat buckets of about `bucket_bytes` costs a copy in and out, which is
cheap next to the latency. Leaves of different dtypes go into different buckets. The loss value
travels in the first bucket of its dtype, so it costs no message of its own.

The averaging uses the differentiable `allreduce` and `gpuad.numpy` ops, so a data-parallel
gradient can itself be differentiated (Hessian-vector products through it).
"""
import functools

import numpy as np

from .. import numpy as gnp
from ..reverse import value_and_grad
from ..tree import tree_flatten, tree_unflatten
from .collectives import allreduce_sum_p
from .world import resolve


def buckets(leaves, bucket_bytes):
    """Group leaf indices into buckets: same dtype, in order, at most `bucket_bytes` each (a
    larger leaf gets a bucket of its own).

    Returns:
      a list of lists of indices into `leaves`.
    """
    open_by_dtype = {}  # dtype -> (bucket, bytes so far)
    out = []
    for i, leaf in enumerate(leaves):
        dtype = np.dtype(leaf.dtype)
        nbytes = int(np.prod(leaf.shape, dtype=np.int64)) * dtype.itemsize
        bucket, used = open_by_dtype.get(dtype, (None, 0))
        if bucket is None or used + nbytes > bucket_bytes:
            bucket, used = [], 0
            out.append(bucket)
        bucket.append(i)
        open_by_dtype[dtype] = (bucket, used + nbytes)
    return out


def _signature(leaves):
    return tuple((tuple(leaf.shape), np.dtype(leaf.dtype).str) for leaf in leaves)


def _check_signatures(comm, name, leaves):
    """Every rank must hold the same leaves, or the bucket messages would not line up."""
    mine = _signature(leaves)
    signatures = comm.engine.allgather_obj(mine)
    for r, theirs in enumerate(signatures):
        if theirs == signatures[0]:
            continue
        if len(theirs) != len(signatures[0]):
            raise ValueError(f"{name}: rank 0 has {len(signatures[0])} gradient leaves but rank "
                             f"{r} has {len(theirs)}. Every rank must differentiate the same "
                             f"parameters.")
        for i, (a, b) in enumerate(zip(signatures[0], theirs)):
            if a != b:
                kind = TypeError if a[1] != b[1] else ValueError
                raise kind(f"{name}: gradient leaf {i} (the value first) is "
                           f"{np.dtype(a[1]).name} {a[0]} on rank 0 but {np.dtype(b[1]).name} "
                           f"{b[0]} on rank {r}. Every rank must pass parameters of the same "
                           f"shapes and dtypes (only the batch may differ).")


def average(leaves, comm, bucket_bytes):
    """The mean over the ranks of each leaf, one allreduce per bucket."""
    if comm.size == 1:
        return list(leaves)
    out = [None] * len(leaves)
    for bucket in buckets(leaves, bucket_bytes):
        parts = [gnp.reshape(leaves[i], (-1,)) for i in bucket]
        flat = parts[0] if len(parts) == 1 else gnp.concatenate(parts)
        total = allreduce_sum_p.bind(flat, comm=comm) / comm.size
        start = 0
        for i in bucket:
            shape = tuple(leaves[i].shape)
            n = int(np.prod(shape, dtype=np.int64))
            out[i] = gnp.reshape(total[start:start + n], shape)
            start += n
    return out


def data_parallel_value_and_grad(fun, argnums=0, has_aux=False, comm=None,
                                 bucket_bytes=25 * 2**20):
    """`value_and_grad(fun)` with the value and the gradient averaged over the ranks.

    Each rank calls the returned function with its own part of the batch (`gd.shard`), the
    parameters the same on every rank. With a loss that is a mean over the examples and equal
    parts, the result is the full batch's value and gradient, on every rank.

    Args:
      fun, argnums, has_aux: as `gpuad.value_and_grad`; `aux` stays this rank's own.
      comm: a `Communicator` (default: `gd.world()`).
      bucket_bytes: the most bytes of gradient sent in one message.

    Returns:
      a function returning `(value, grads)` (or `((value, aux), grads)`), value and grads the
      means over the ranks.

    The first call checks that every rank's gradient leaves have the same shapes and dtypes (one
    small message); later calls trust that they stay so.

    Example:
      >>> step = gd.data_parallel_value_and_grad(loss)
      >>> value, grads = step(params, gd.shard(x), gd.shard(y))
    """
    vg = value_and_grad(fun, argnums, has_aux)
    name = f"data_parallel_value_and_grad({getattr(fun, '__name__', 'fun')})"
    checked = []

    @functools.wraps(fun)
    def data_parallel_fn(*args, **kwargs):
        c = resolve(comm)
        result, grads = vg(*args, **kwargs)
        value, aux = result if has_aux else (result, None)
        leaves, treedef = tree_flatten(grads)
        leaves = [gnp.asarray(value)] + leaves
        if c.size > 1 and not checked:
            _check_signatures(c, name, leaves)
            checked.append(True)
        averaged = average(leaves, c, bucket_bytes)
        value, grads = averaged[0], tree_unflatten(treedef, averaged[1:])
        return ((value, aux) if has_aux else value), grads

    return data_parallel_fn


def data_parallel_grad(fun, argnums=0, has_aux=False, comm=None, bucket_bytes=25 * 2**20):
    """`grad(fun)` averaged over the ranks; see `data_parallel_value_and_grad`.

    Returns:
      a function returning the averaged gradient (and this rank's `aux` with `has_aux`).

    Example:
      >>> grads = gd.data_parallel_grad(loss)(params, gd.shard(x), gd.shard(y))
    """
    vg = data_parallel_value_and_grad(fun, argnums, has_aux, comm, bucket_bytes)

    @functools.wraps(fun)
    def data_parallel_grad_fn(*args, **kwargs):
        value, grads = vg(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads

    return data_parallel_grad_fn
