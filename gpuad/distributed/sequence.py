"""Sequence-parallel scan: one sequence's time axis split over the ranks, each rank running the
ordinary checkpointed scan (with its own schedule) on its chunk.

Built from the differentiable collectives only, so every transform goes through it: the first
carry of rank r is `shift`ed from rank r - 1, and the backward pass sends its cotangent back
(shift's VJP is the opposite shift); the final carry is `broadcast` from the last rank. Rounds:

    for t in range(microbatches + size - 1):     # every rank takes part in every round
        j = t - rank                             # the microbatch this rank works on now
        if 0 <= j < microbatches:
            carry_in = init[j] if rank == 0 else received
            out, ys[j] = checkpoint.scan(step, carry_in, xs[:, j], schedule)
        received = shift(out, +1)                # rank r + 1 gets what rank r ended with

With one microbatch the ranks work one after another (memory per rank ~ 1/size, no speed-up);
with m microbatches of the batch, rank r works on microbatch t - r in round t, so up to `size`
ranks compute at once (a forward wavefront; the backward sweep walks the rounds in reverse, a
backward wavefront), and the gradient is the same.

`gpuad.checkpoint.scan(..., comm=comm, microbatches=m)` is this function: importing this module
installs it in the executor (`executor.SEQUENCE_SCAN`), since checkpoint sits below distributed
and never imports it.
"""
import numpy as np

from .. import numpy as gnp
from ..checkpoint import executor
from ..checkpoint import scan as local_scan
from ..tree import tree_flatten, tree_unflatten
from .collectives import broadcast, shift_p
from .lift import lift
from .world import check_alike, resolve


def scan(step, init, xs, schedule=None, comm=None, microbatches=1, xs_batched=None):
    """`gpuad.checkpoint.scan` over a time axis split between the ranks.

    Args:
      step, schedule: as `gpuad.checkpoint.scan`; the schedule runs on each rank's chunk.
      init: the initial carry (read on rank 0; other ranks pass one of the same structure,
        shapes and dtypes). With microbatches, each leaf's axis 0 is the batch.
      xs: this rank's contiguous chunk of the time axis (axis 0; chunks may differ in length).
        With microbatches, each leaf's axis 1 is the batch.
      comm: a `Communicator` (default: `gd.world()`).
      microbatches: split the batch into this many equal microbatches, pipelined over the
        ranks. Each y leaf must then have the batch on its axis 0 (ys: axis 1).
      xs_batched: with microbatches, a pytree of bools like `xs` (None: all True) saying which
        leaves have the batch on axis 1; the others (parameters passed as xs, one per time
        step) go whole to every microbatch.

    Returns:
      `(carry, ys)`: the final carry of the whole sequence on every rank, and this rank's ys.

    Gradients: parameters are one input per rank, so `grad` on a rank gives that rank's share.
    For a loss that is the same on every rank (`allreduce` of the ranks' parts, plus terms of
    the broadcast final carry), the gradient of the whole is `allreduce(share, "mean")`: each
    rank seeds its own copy of the loss.

    Example:
      >>> h, ys = gd.sequence.scan(step, h0, gd.shard(xs), schedule=Revolve(8))
    """
    comm = resolve(comm)
    m = int(microbatches)
    init_leaves, carry_def = tree_flatten(init)
    xs_leaves, xs_def = tree_flatten(xs)
    if m < 1:
        raise ValueError(f"gd.sequence.scan: microbatches={microbatches}; use 1 or more")
    init_parts = [_split("init", leaf, 0, m) for leaf in init_leaves]
    batched = [True] * len(xs_leaves) if xs_batched is None else tree_flatten(xs_batched)[0]
    if len(batched) != len(xs_leaves):
        raise ValueError(f"gd.sequence.scan: xs_batched has {len(batched)} leaves but xs has "
                         f"{len(xs_leaves)}; give one bool per leaf of xs")
    xs_parts = [_split("xs", leaf, 1, m) if b else [leaf] * m
                for leaf, b in zip(xs_leaves, batched)]
    n, r = comm.size, comm.rank
    received = [parts[0] for parts in init_parts]  # placeholders of a microbatch's shapes
    # The carries sent each round have the microbatch's shapes, so one check of them up front
    # does for every round. `gd.shift` would check each time: an allgather over all ranks per
    # leaf and round, which also holds every rank in lockstep, where the sends alone let rank
    # r run ahead of r + 1 (the sends are eager for carries of this size).
    for leaf in received:
        check_alike(comm, "gd.sequence.scan carry", leaf, ())
    finals, ys = [None] * m, [None] * m
    for t in range(m + n - 1):
        j = t - r
        if 0 <= j < m:
            start = [parts[j] for parts in init_parts] if r == 0 else received
            chunk = tree_unflatten(xs_def, [parts[j] for parts in xs_parts])
            out, ys[j] = local_scan(step, tree_unflatten(carry_def, start), chunk,
                                    schedule=schedule)
            out = tree_flatten(out)[0]
            if r == n - 1:
                finals[j] = out
        else:
            out = received
        if t < m + n - 2:
            received = [shift_p.bind(lift(leaf), offset=1, comm=comm) for leaf in out]
    if r == n - 1:
        last = [gnp.concatenate([f[k] for f in finals]) if m > 1 else finals[0][k]
                for k in range(len(init_leaves))]
    else:
        last = init_leaves
    final = [broadcast(leaf, root=n - 1, comm=comm) for leaf in last]
    return tree_unflatten(carry_def, final), _join_ys(ys)


def _split(what, leaf, axis, m):
    if m == 1:
        return [leaf]
    size = leaf.shape[axis]
    if size % m:
        raise ValueError(f"gd.sequence.scan: {what} has batch size {size} (axis {axis} of shape "
                         f"{tuple(leaf.shape)}), not divisible by microbatches={m}: the ranks "
                         f"exchange carries of one microbatch's shape each round. Choose a "
                         f"divisor of the batch.")
    step = size // m
    index = (slice(None),) * axis
    return [leaf[index + (slice(i * step, (i + 1) * step),)] for i in range(m)]


def _join_ys(ys):
    if len(ys) == 1 or ys[0] is None:
        return ys[0]
    leaves = [tree_flatten(y)[0] for y in ys]
    y_def = tree_flatten(ys[0])[1]
    for leaf in leaves[0]:
        if np.ndim(leaf) < 2:
            raise ValueError(f"gd.sequence.scan: with microbatches, each step's y needs the "
                             f"batch on its axis 0 to be joined; got ys of shape "
                             f"{tuple(np.shape(leaf))}. Return per-example values (reduce "
                             f"after the scan).")
    return tree_unflatten(y_def, [gnp.concatenate([lv[k] for lv in leaves], axis=1)
                                  for k in range(len(leaves[0]))])


executor.SEQUENCE_SCAN[:] = [scan]
