"""`scan` and `while_loop`: recurrences whose backward pass follows a checkpointing plan.

Under a reverse-mode trace a recurrence becomes one entry on the tape (a *region*). Its forward
pass runs the plan's actions up to the point where the last step is done; its backward pass runs
the rest. The executor (`region.py`) is the only code that carries out plans: it evaluates
`step`, stores and restores carries, and backpropagates through kept step tapes, exactly as the
plan says, and counts nothing of its own. This module holds the entry points: checking the
arguments, the plain loop, and handing a recorded recurrence to a `Region`. Without a
reverse-mode trace (plain evaluation, `jvp`, `vmap`) a recurrence is an ordinary Python loop:
forward mode keeps no tape, so there is nothing to save.
"""
import numpy as np

from ..hooks import SCAN_STEP_PROGRAMS
from ..numpy import stack
from ..reverse import ReverseTrace
from ..trace import innermost_trace
from ..tree import check_registered, tree_flatten, tree_unflatten
from .batched import freezing_finished, keeps_looping
from .region import Region, forward_online, forward_planned
from .schedules import Online, StoreAll, check_schedule


def recording_trace():
    """The reverse-mode trace a region would be recorded on, or None (run a plain loop)."""
    trace = innermost_trace()
    if isinstance(trace, ReverseTrace) and trace.records_regions and trace.active:
        return trace
    return None


class Body:
    """`step` seen through flat leaves, checking that the carry keeps its structure."""

    def __init__(self, name, step, init, xs_def):
        self.name = name
        self.step = step
        leaves, self.carry_def = tree_flatten(init)
        check_registered(name, leaves, self.carry_def, "init")
        self.carry_meta = [_meta(x) for x in leaves]
        self.xs_def = xs_def
        self.y_def = None

    def __call__(self, carry_leaves, x_leaves):
        carry = tree_unflatten(self.carry_def, carry_leaves)
        x = None if self.xs_def is None else tree_unflatten(self.xs_def, x_leaves)
        result = self.step(carry, x)
        if not (isinstance(result, tuple) and len(result) == 2):
            raise TypeError(f"{self.name}: step must return a pair (carry, y), got "
                            f"{type(result).__name__}.")
        new_carry, y = result
        c_leaves, c_def = tree_flatten(new_carry)
        if c_def != self.carry_def:
            raise ValueError(f"{self.name}: step returned a carry with structure {c_def}, but "
                             f"the initial carry has structure {self.carry_def}; the carry must "
                             f"keep its structure from step to step.")
        for k, (x, meta) in enumerate(zip(c_leaves, self.carry_meta)):
            new = _meta(x)
            if new[0] != meta[0] or (meta[1] is not None and new[1] != meta[1]):
                raise ValueError(
                    f"{self.name}: carry leaf {k} changed from shape {meta[0]} dtype {meta[1]} "
                    f"to shape {new[0]} dtype {new[1]}; step must return a carry of the same "
                    f"shapes and dtypes (a float64 constant mixed into float32 math, or a "
                    f"broadcast, is the usual cause: cast with .astype()).")
        y_leaves, y_def = tree_flatten(y)
        if self.y_def is None:
            self.y_def = y_def
        elif y_def != self.y_def:
            raise ValueError(f"{self.name}: step returned y with structure {y_def}, earlier "
                             f"{self.y_def}; y must keep one structure.")
        return c_leaves, y_leaves


def _meta(x):
    # the tracer's own shape (one example's under vmap), so a carry that becomes batched in
    # the first step (an unbatched init meeting batched xs or closed-over values) still matches
    return np.shape(x), getattr(x, "dtype", None)  # (a tracer's own: metadata, not the value)


def _length(name, xs_leaves, length):
    lengths = set()
    for leaf in xs_leaves:
        # a tracer's own shape, never its raw value's: under vmap the raw value is the stacked
        # batch, whose leading axis is the batch, not the time axis each example scans over
        shape = np.shape(leaf)
        if not shape:
            raise ValueError(f"{name}: every leaf of xs needs a leading axis to scan over; got "
                             f"a scalar.")
        lengths.add(shape[0])
    if len(lengths) > 1:
        raise ValueError(f"{name}: the leaves of xs have different leading lengths "
                         f"{sorted(lengths)}; they must all be the scan length.")
    if lengths:
        n = lengths.pop()
        if length is not None and length != n:
            raise ValueError(f"{name}: length={length} but xs has leading length {n}.")
        return n
    if length is None:
        raise ValueError(f"{name}: give xs or length (how many steps to run).")
    if not isinstance(length, (int, np.integer)) or length < 0:
        raise ValueError(f"{name}: length must be a non-negative int, got {length!r}.")
    return int(length)


# `scan(..., comm=...)` is the sequence-parallel scan of gpuad.distributed, a layer above this
# one (it builds on this scan and on the collectives). It puts itself here when imported, so
# checkpoint never imports it, and a plain scan neither imports nor pays for it: a communicator
# to pass exists only once gpuad.distributed has been imported.
SEQUENCE_SCAN = []




def scan(step, init, xs=None, length=None, schedule=None, comm=None, microbatches=1,
         xs_batched=None, jit=False):
    """Run a recurrence, with reverse mode following a checkpointing schedule.

    Equivalent to this Python loop (which is what runs when nothing is differentiated)::

        carry, ys = init, []
        for i in range(length):                  # length: xs's leading axis, or `length`
            x = tree_map(lambda leaf: leaf[i], xs)
            carry, y = step(carry, x)
            ys.append(y)
        return carry, tree_map(lambda *leaves: stack(leaves), *ys)

    Args:
      step: `step(carry, x) -> (carry, y)`; carry, x and y are pytrees. The carry keeps its
        structure, shapes and dtypes. `step` may close over traced values (parameters): their
        gradients accumulate over all steps.
      init: the initial carry.
      xs: a pytree of arrays scanned along their leading axis, or None (then `x` is None).
      length: the number of steps when `xs` is None.
      schedule: how reverse mode trades recomputation for memory (`StoreAll()` by default;
        `EveryK`, `Revolve`, `Budget`, `Online`, `Tiered`). Every schedule gives the same
        gradient; they differ in peak memory and step evaluations (see `forecast`).
      comm: a `gpuad.distributed` communicator (`gd.world()`) to split the time axis over its
        ranks (sequence parallel): `xs` is then this rank's contiguous chunk; rank 0 starts
        from `init`, rank r > 0 from rank r - 1's last carry, and the carry's cotangent flows
        back from rank r + 1 to rank r. Each rank runs `schedule` on its own chunk. None (the
        default): one process, the loop above.
      microbatches: with `comm`, split the batch (axis 0 of the carry's leaves, axis 1 of the
        xs leaves) into this many microbatches pipelined over the ranks, so the ranks compute
        at once; the gradient is the same as with 1.
      xs_batched: with microbatches, a pytree of bools like `xs` saying which leaves have the
        batch on axis 1 (None: all); the others (parameters passed as xs) go whole to every
        microbatch. See `gpuad.distributed.sequence.scan`.
      jit: record `step` once (with `ga.jit`'s recorder) and replay the recording at every
        evaluation the schedule makes: the first pass, every recomputation and, recorded with
        its VJP, every step of the backward sweep. Results equal jit=False's bit for bit on
        NumPy; small steps run several times faster (benchmarks/README.md). A `ga.jit` step
        is replayed so too. The recording belongs to this call (the weights `step` closes
        over are its inputs); `step` must not depend on Python state that changes (a
        counter, a NumPy Generator): step 1 is run eagerly and replayed, and if the two
        differ this call warns and runs eagerly, as it does for a step that cannot be
        recorded (a value read on the host, `float()` of a traced value). Not with comm.

    Returns:
      `(carry, ys)`: the final carry and the y's stacked along a new leading axis (None if
      step's y is None). With `comm`: the final carry of the whole sequence on every rank, and
      this rank's ys.

    Under `grad`/`vjp` the backward pass recomputes what the schedule did not store, drawing the
    same random numbers (`gnp.random` state is saved with each stored carry). Under forward mode
    or `vmap` alone this is the plain loop. Under `vmap` each example scans its own leading axis
    of `xs` (after `in_axes` moved the batch out of the way), and an unbatched `init` meeting
    batched `xs` or closed-over values becomes batched in the first step, as JAX broadcasts it. Under higher-order reverse mode (`grad(grad(f))`) the
    innermost `grad` gets the schedule; outer ones record the recomputation like any other code.

    `step` must be pure under every schedule but StoreAll: the same carry and x give the same
    carry and y, because the backward pass differentiates the recomputation, not the first run.
    So no NumPy random numbers (`np.random.*`, or a `np.random.default_rng()` Generator made
    outside `step`: draw from `gnp.random`), no counters in closures, no mutable Python state
    read or changed (put it in the carry). Each recomputed step's carry and y are compared with
    the first pass's where a tape or a snapshot uses them (a recomputed carry that only feeds
    further recomputation is compared where its effect arrives), and a difference raises `gpuad.checkpoint.RecomputationMismatchError`
    naming the step, the leaf and the difference; `ga.config.recompute_check` sets the
    comparison ("auto": bit for bit on NumPy, allclose on CuPy; "exact", "allclose", "off";
    env `GPUAD_RECOMPUTE_CHECK`). StoreAll recomputes nothing, so checks nothing.

    Sequence parallel, under `mpiexec -n 2 python script.py`::

        comm = gd.world()
        carry, ys = scan(step, init, gd.shard(xs, comm=comm), schedule=Revolve(8), comm=comm,
                         microbatches=4)
    """
    if comm is not None:
        if jit:
            raise ValueError("scan: jit=True with comm is not supported yet; leave jit out "
                             "(the sequence-parallel scan runs its steps eagerly).")
        return _sequence_scan(step, init, xs, length, schedule, comm, microbatches, xs_batched)
    if microbatches != 1 or xs_batched is not None:
        raise ValueError(f"scan: microbatches={microbatches!r}, xs_batched={xs_batched!r} "
                         f"without comm: microbatches pipeline a sequence split over ranks. "
                         f"Pass comm=gd.world() (import gpuad.distributed as gd), or leave "
                         f"them out.")
    if schedule is not None:
        check_schedule("scan", schedule)
    xs_leaves, xs_def = tree_flatten(xs)
    check_registered("scan", xs_leaves, xs_def, "xs")
    n = _length("scan", xs_leaves, length)
    step, programs = _step_programs(step, jit)
    body = Body("scan", step, init, None if xs is None else xs_def)
    trace = recording_trace()
    if trace is None or n == 0:
        return _plain_scan(body, init, xs_leaves, n, programs)
    if schedule is None:
        schedule = StoreAll()
    region = Region(trace, "scan", body, init, xs_leaves, schedule)
    region.programs = programs
    return forward_planned(region, n)


def _step_programs(step, jit, name="scan"):
    """(the step to call, its recordings or None): see `jit` in `scan` (`name`: the loop's,
    "scan" or "while_loop", whose body is the step)."""
    # `scan(..., jit=True)` replays the step's recording (gpuad/jit/steps.py), a layer above
    # this one, whose factory gpuad.jit puts in `hooks.SCAN_STEP_PROGRAMS` when imported
    if not SCAN_STEP_PROGRAMS:
        if jit:
            raise TypeError(f"{name}: jit=True needs gpuad.jit, which is not imported: "
                            f"`import gpuad` (it imports gpuad.jit), or leave jit out.")
        return step, None
    return SCAN_STEP_PROGRAMS[0](step, jit, name)


def _sequence_scan(step, init, xs, length, schedule, comm, microbatches, xs_batched):
    if not SEQUENCE_SCAN:
        raise TypeError(f"scan: comm={type(comm).__name__} needs gpuad.distributed, which is "
                        f"not imported: `import gpuad.distributed as gd` and pass gd.world() "
                        f"or gd.Communicator(mpi_comm)")
    if length is not None or xs is None:
        raise ValueError("scan: with comm, the time axis is xs's leading axis (this rank's "
                         "chunk); give xs, not length")
    if schedule is not None:
        check_schedule("scan", schedule)
    return SEQUENCE_SCAN[0](step, init, xs, schedule=schedule, comm=comm,
                            microbatches=microbatches, xs_batched=xs_batched)


def while_loop(cond, body, init, schedule=None, jit=False):
    """`carry = init; while cond(carry): carry = body(carry)`, differentiable in reverse mode
    although the number of trips is only known when the loop stops.

    Args:
      cond: `cond(carry) -> bool` (a Python bool or a boolean array of one element).
      body: `body(carry) -> carry`, keeping the carry's structure, shapes and dtypes; may close
        over traced values.
      init: the initial carry (a pytree).
      schedule: `Online(snapshots)` by default (chooses what to store as the loop runs, with a
        recomputation within the bound stated on `Online`), or `StoreAll()`.
      jit: record `body` once (with `ga.jit`'s recorder) and replay the recording at every
        evaluation: each trip of the first pass, every recomputation and, recorded with its
        VJP, every trip of the backward sweep; outside any trace, each trip of the plain loop.
        As `scan`'s `jit` (see there): results equal jit=False's bit for bit on NumPy; a
        `ga.jit` body is replayed so too; a body that cannot be recorded or that depends on
        Python state that changes warns and runs eagerly. A Python number in the carry (a
        counter started at `0`) runs the body eagerly without a warning (a recording would
        make it an array): count with an array, `np.asarray(0)`. `cond` is not recorded: it
        runs eagerly before each trip of the first pass (it decides the trip count), so it
        may read the carry's values (`float(carry[0]) < 1`).

    Returns:
      the final carry.

    `body` must be pure (the same carry gives the same carry) under every schedule but
    StoreAll, since the backward pass differentiates its recomputation: draw random numbers from
    `gnp.random`, not NumPy's own, and keep counters or other changing state in the carry, not in
    a closure. A recomputed trip that differs from the first raises
    `gpuad.checkpoint.RecomputationMismatchError` (see `scan` and `ga.config.recompute_check`).
    `cond` runs in the first pass only.

    Under `vmap` with a condition that differs per example, the loop runs while any example's
    condition holds, and an example whose condition is false keeps its carry (`body` still runs
    on it, and `gnp.where` discards the result; JAX's semantics): each example ends as its own
    loop would. So `body` must not fail on a finished example's carry, and a NaN it makes there
    can reach the gradient through `where`, as in JAX. (With jit=True a batched body runs
    eagerly, as a batched scan step does.)

    Example::

        def trips(w):  # Newton's iteration for sqrt(w), to a tolerance
            x = while_loop(lambda x: float(abs(x * x - w)) > 1e-12,
                           lambda x: 0.5 * (x + w / x), gnp.asarray(1.0), jit=True)
            return x
        ga.grad(trips)(2.0)  # 1 / (2 sqrt 2) = 0.35355...
    """
    if schedule is not None:
        check_schedule("while_loop", schedule)
    body, programs = _step_programs(body, jit, "while_loop")
    body = freezing_finished(cond, body)
    step_body = Body("while_loop", lambda c, _: (body(c), None), init, None)
    trace = recording_trace()
    if trace is None:
        carry = init
        while keeps_looping(cond(carry)):
            leaves = tree_flatten(carry)[0]
            if programs is not None:  # the body's recording replayed (gpuad/jit/steps.py)
                leaves = programs.advance(None, None, step_body, leaves,
                                          lambda: step_body(leaves, ()))[0]  # noqa: B023
            else:
                leaves = step_body(leaves, ())[0]
            carry = tree_unflatten(step_body.carry_def, leaves)
        return carry
    if schedule is None:
        schedule = Online(32)
    region = Region(trace, "while_loop", step_body, init, [], schedule)
    region.programs = programs
    return forward_online(region, cond, init)


def _plain_scan(body, init, xs_leaves, n, programs=None):
    carry = tree_flatten(init)[0]
    ys = []
    for i in range(n):
        x = [leaf[i] for leaf in xs_leaves]
        if programs is not None:
            carry, y = programs.advance(None, None, body, carry + x,
                                        lambda: body(carry, x))  # noqa: B023 (called at once)
        else:
            carry, y = body(carry, x)
        ys.append(y)
    y_def = body.y_def
    if y_def is None:  # no steps: ys is empty, with step's structure unknown
        return init, None
    columns = [stack([y[k] for y in ys]) for k in range(y_def.num_leaves)]
    return tree_unflatten(body.carry_def, carry), tree_unflatten(y_def, columns)
