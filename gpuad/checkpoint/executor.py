"""`scan` and `while_loop`: recurrences whose backward pass follows a checkpointing plan.

Under a reverse-mode trace a recurrence becomes one entry on the tape (a *region*). Its forward
pass runs the plan's actions up to the point where the last step is done; its backward pass runs
the rest. The executor below is the only code that carries out plans: it evaluates `step`, stores
and restores carries, and backpropagates through kept step tapes, exactly as the plan says, and
counts nothing of its own. Without a reverse-mode trace (plain evaluation, `jvp`, `vmap`) a
recurrence is an ordinary Python loop: forward mode keeps no tape, so there is nothing to save.
"""
import weakref

import numpy as np

from ..numpy import random as _random
from ..reverse import ReverseTrace
from ..config import config
from ..trace import NAN_CONTEXT, TRACER_TYPES, check_nans, innermost_trace, primal_value
from ..tree import check_registered, tree_flatten, tree_unflatten
from .actions import Advance, Free, Record, Restore, Reverse, Snapshot
from .batched import freezing_finished, keeps_looping
from .costs import measure_step
from .schedules import check_schedule
from .replay import Replay, differentiable, record_region, run_paused, translate_leaves
from .storage import make_store
from .verify import Checker, leaf_names, mode_for, recomputes


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
    raw = primal_value(x)
    return np.shape(x), getattr(raw, "dtype", None)


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


def _stack(rows, like=None):
    from ..numpy import stack
    if like is not None:
        rows = [r if r is not None else _zeros(like) for r in rows]
    return stack(rows)


def _zeros(like):
    from ..numpy import zeros_like
    return zeros_like(like)


# `scan(..., comm=...)` is the sequence-parallel scan of gpuad.distributed, a layer above this
# one (it builds on this scan and on the collectives). It puts itself here when imported, so
# checkpoint never imports it, and a plain scan neither imports nor pays for it: a communicator
# to pass exists only once gpuad.distributed has been imported.
SEQUENCE_SCAN = []


def scan(step, init, xs=None, length=None, schedule=None, comm=None, microbatches=1,
         xs_batched=None):
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
    the first pass's and a difference raises `gpuad.checkpoint.RecomputationMismatchError`
    naming the step, the leaf and the difference; `ga.config.recompute_check` sets the
    comparison ("auto": bit for bit on NumPy, allclose on CuPy; "exact", "allclose", "off";
    env `GPUAD_RECOMPUTE_CHECK`). StoreAll recomputes nothing, so checks nothing.

    Sequence parallel, under `mpiexec -n 2 python script.py`::

        comm = gd.world()
        carry, ys = scan(step, init, gd.shard(xs, comm=comm), schedule=Revolve(8), comm=comm,
                         microbatches=4)
    """
    if comm is not None:
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
    body = Body("scan", step, init, None if xs is None else xs_def)
    trace = recording_trace()
    if trace is None or n == 0:
        return _plain_scan(body, init, xs_leaves, n)
    if schedule is None:
        from .schedules import StoreAll
        schedule = StoreAll()
    return Region(trace, "scan", body, init, xs_leaves, schedule).run_planned(n)


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


def while_loop(cond, body, init, schedule=None):
    """`carry = init; while cond(carry): carry = body(carry)`, differentiable in reverse mode
    although the number of trips is only known when the loop stops.

    Args:
      cond: `cond(carry) -> bool` (a Python bool or a boolean array of one element).
      body: `body(carry) -> carry`, keeping the carry's structure, shapes and dtypes; may close
        over traced values.
      init: the initial carry (a pytree).
      schedule: `Online(snapshots)` by default (chooses what to store as the loop runs, with a
        recomputation within the bound stated on `Online`), or `StoreAll()`.

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
    can reach the gradient through `where`, as in JAX.
    """
    if schedule is not None:
        check_schedule("while_loop", schedule)
    body = freezing_finished(cond, body)
    step_body = Body("while_loop", lambda c, _: (body(c), None), init, None)
    trace = recording_trace()
    if trace is None:
        carry = init
        while keeps_looping(cond(carry)):
            carry = tree_unflatten(step_body.carry_def,
                                   step_body(tree_flatten(carry)[0], ())[0])
        return carry
    if schedule is None:
        from .schedules import Online
        schedule = Online(32)
    return Region(trace, "while_loop", step_body, init, [], schedule).run_online(cond, init)


def _plain_scan(body, init, xs_leaves, n):
    carry = tree_flatten(init)[0]
    ys = []
    for i in range(n):
        carry, y = body(carry, [leaf[i] for leaf in xs_leaves])
        ys.append(y)
    y_def = body.y_def
    if y_def is None:  # no steps: ys is empty, with step's structure unknown
        return init, None
    columns = [_stack([y[k] for y in ys]) for k in range(y_def.num_leaves)]
    return tree_unflatten(body.carry_def, carry), tree_unflatten(y_def, columns)


class Region:
    """One recurrence on the tape: runs a plan's actions, forward phase and backward phase."""

    def __init__(self, trace, name, body, init, xs_leaves, schedule):
        self._trace = weakref.ref(trace)  # the tape holds this region: no reference cycle
        self.name = name
        self.body = body
        self.schedule = schedule
        init_leaves = tree_flatten(init)[0]
        self.init_parents = [k for k, x in enumerate(init_leaves) if _ours(x, trace)]
        self.init_nodes = [init_leaves[k].node for k in self.init_parents]
        self.init = [x.value if _ours(x, trace) else x for x in init_leaves]
        self.xs_parents = [k for k, x in enumerate(xs_leaves) if _ours(x, trace)]
        self.xs_nodes = [xs_leaves[k].node for k in self.xs_parents]
        self.xs = [x.value if _ours(x, trace) else x for x in xs_leaves]
        # carries always take cotangents (they carry the parameters' too); xs only if traced
        self.wanted = [True] * len(self.init) + [k in self.xs_parents
                                                 for k in range(len(self.xs))]
        self.touched = {}  # nodes of the enclosing tracers that step closes over
        self.n_carry = len(init_leaves)
        self.length = None
        self.plan = None
        self.stores = {}
        self.forward_actions = []
        self.backward_actions = []
        self.spent = False
        self.step_calls = 0
        self.checker = None  # compares recomputed steps with the first pass (verify.py)

    # ---- the two phases ------------------------------------------------------------------

    def run_planned(self, length):
        """scan: plan for a known length, run the forward phase, record the region."""
        trace = self._trace()
        self.length = length
        self.rng0 = _random.get_all_states()
        sizes = self.measure() if getattr(self.schedule, "measures", False) else {}
        self.plan = self.schedule.plan(length, **sizes)
        actions = list(self.plan.actions)
        end = forward_phase_end(actions, length)
        self.forward_actions, self.backward_actions = actions[:end], actions[end:]
        if recomputes(self.backward_actions):
            self.start_checking()
        self.begin()
        try:
            self.run(self.forward_actions)
        except BaseException:
            self.close()
            raise
        return self.finish_forward(trace)

    def run_online(self, cond, init):
        """while_loop: let an online policy choose snapshots as the loop runs."""
        trace = self._trace()
        self.rng0 = _random.get_all_states()
        policy = _start(self.schedule)
        if policy is not None:  # an online plan recomputes every step in the backward phase
            self.start_checking()
        self.begin()
        i = 0
        try:
            while keeps_looping(run_paused(trace, self.touched, _call_cond, cond, self)):
                if policy is None:
                    acts = [Record(i, i + 1)]
                else:
                    acts = list(policy.before_step(i)) + [Advance(i, i + 1)]
                self.run(acts)
                self.forward_actions.extend(acts)
                i += 1
        except BaseException:
            self.close()
            raise
        self.length = i
        if i == 0:  # no trips: the carry is init itself, tracers and all
            self.close()
            return init
        if policy is None:
            self.backward_actions = [Reverse(k) for k in range(i - 1, -1, -1)]
        else:
            self.backward_actions = list(policy.finish(i))
            self.plan = policy.plan()
        carry, _ = self.finish_forward(trace)
        return carry

    def begin(self):
        self.current = list(self.init)
        self.position = 0
        self.kept = {}
        self.snap_rng = {}
        self.snap_tier = {}
        self.collect = True
        self.ys = {}

    def finish_forward(self, trace):
        self.collect = False
        carry = self.current
        y_def = self.body.y_def
        n_y = y_def.num_leaves if y_def is not None else 0
        if self.length and n_y:
            ys = [_stack([self.ys[i][k] for i in range(self.length)]) for k in range(n_y)]
        else:
            ys = []
        self.ys = None
        parents = self.init_nodes + self.xs_nodes + list(self.touched)
        self.closure_nodes = list(self.touched)
        out_leaves = list(carry) + ys
        if parents:
            out_leaves, self.wrapped = record_region(trace, self, parents, out_leaves)
        else:  # nothing differentiable flows in: no entry on the tape
            self.close()
            self.kept = {}
        self.current = None
        carry_tree = tree_unflatten(self.body.carry_def, out_leaves[:self.n_carry])
        ys_tree = tree_unflatten(y_def, out_leaves[self.n_carry:]) if y_def is not None else None
        return carry_tree, ys_tree

    def backward(self, g):
        """The region's VJP: cotangents of init, xs and the closed-over tracers, in the order of
        the parents given to `record_region`."""
        rng_after = _random.get_all_states()
        if self.spent:  # vjp_fn called again: the forward phase's stores were used up
            self.begin()
            self.collect = False
            self.run(self.forward_actions)
        self.spent = True
        n_out = self.n_carry + (self.body.y_def.num_leaves if self.body.y_def else 0)
        g_out = [None] * n_out
        for i, gi in zip(self.wrapped, g):
            g_out[i] = gi
        self.g_carry = g_out[:self.n_carry]
        self.g_ys = g_out[self.n_carry:]
        self.g_xs = [[None] * self.length for _ in self.xs]
        self.g_closure = {}
        try:
            self.run(self.backward_actions)
            if self.checker is not None:
                self.checker.flush()
        finally:
            _random.set_all_states(rng_after)
            self.close()
        cots = [self.g_carry[k] for k in self.init_parents]
        for k in self.xs_parents:
            rows = self.g_xs[k]
            cots.append(None if all(r is None for r in rows)
                        else _stack(rows, like=self.xs[k][0]))
        cots.extend(self.g_closure.get(node) for node in self.closure_nodes)
        self.g_carry = self.g_ys = self.g_xs = self.g_closure = None
        return cots

    # ---- the executor --------------------------------------------------------------------

    def run(self, actions):
        for act in actions:
            kind = type(act)
            if kind is Advance:
                for i in range(act.start, act.stop):
                    self.advance(i)
            elif kind is Record:
                for i in range(act.start, act.stop):
                    self.record(i)
            elif kind is Reverse:
                self.reverse(act.index)
            elif kind is Snapshot:
                self.snapshot(act.index, act.tier)
            elif kind is Restore:
                self.restore(act.index)
            elif kind is Free:
                self.free(act.index)
            else:
                raise TypeError(f"{self.name}: unknown plan action {act!r}")

    def start_checking(self):
        """Fingerprint every step's outputs in the first pass and compare each recomputation
        with them (`config.recompute_check`, gpuad/checkpoint/verify.py)."""
        mode = mode_for(self.init)
        if mode != "off":
            self.checker = Checker(mode, self.describe)

    def describe(self, i):
        """Words for a recomputation mismatch at step i: (what, leaf names, which step)."""
        names = leaf_names("carry", self.body.carry_def) + leaf_names("y", self.body.y_def)
        step = "iteration" if self.name == "while_loop" else "step"
        return f"{self.name} (schedule {self.schedule!r})", names, f"{step} {i}"

    def _at(self, i, what):
        if self.position != i:
            raise RuntimeError(f"{self.name}: the plan asks to {what} at state {i}, but the "
                               f"executor holds state {self.position} (an invalid plan).")

    def x(self, i):
        return [leaf[i] for leaf in self.xs]

    def debugged(self, i, stage, run, *args):
        """`run(*args)` with debug_nans naming step i and the pass (`stage`) in its message;
        then the step's outputs are checked too, for NaNs made by ops on constants alone."""
        step = "iteration" if self.name == "while_loop" else "step"
        NAN_CONTEXT.append(f"{self.name} {step} {i} ({stage}, schedule {self.schedule!r})")
        before, rng = list(self.current or ()), _random.get_all_states()
        try:
            outputs = run(*args)
            if stage == "backward sweep":
                return outputs
            try:
                check_nans(tuple(outputs), "the step function", "carry or y")
            except FloatingPointError:
                if run == self._advance:  # ran untaped: run it again taped to name the op
                    self.name_the_op(i, before, rng)
                raise
            return outputs
        finally:
            NAN_CONTEXT.pop()

    def name_the_op(self, i, before, rng):
        """Step i again on a private tape, whose ops debug_nans checks one by one (an untaped
        step's ops on plain arrays are not seen); the tape is dropped."""
        self.current, self.position = before, i
        _random.set_all_states(rng)
        collect, self.collect = self.collect, False
        try:
            self._record(i)
        finally:
            self.kept.pop(i, None)
            self.collect = collect

    # advance, record and reverse: with debug_nans, each step's NaN is blamed on its op and
    # step (`debugged`) before the recomputation check compares its outputs
    def advance(self, i):
        run = self.debugged if config.debug_nans else _plain
        outputs = run(i, self.stage(), self._advance, i)
        if self.checker is not None:
            self.checker.check(i, outputs)

    def stage(self):
        return "first forward pass" if self.collect else "recomputation in the backward pass"

    def _advance(self, i):
        self._at(i, "advance")
        self.step_calls += 1
        carry, y = run_paused(self._trace(), self.touched, _call_translated, self, i)
        self.current = carry
        self.position = i + 1
        if self.collect:
            self.ys[i] = y
        return carry + y

    def record(self, i):
        run = self.debugged if config.debug_nans else _plain
        outputs = run(i, self.stage(), self._record, i)
        if self.checker is not None:
            self.checker.check(i, outputs)

    def _record(self, i):
        self._at(i, "record")
        self.step_calls += 1
        n = self.n_carry
        body = self.body

        def fun(boxed):
            carry, y = body(boxed[:n], boxed[n:])
            return carry + y

        replay = Replay(self._trace(), self.touched, fun, self.current + self.x(i),
                        frozen=not self.collect, wanted=self.wanted)
        values = replay.values()
        self.kept[i] = replay
        self.current = values[:n]
        self.position = i + 1
        if self.collect:
            self.ys[i] = values[n:]
        return values

    def reverse(self, i):
        if config.debug_nans:
            return self.debugged(i, "backward sweep", self._reverse, i)
        return self._reverse(i)

    def _reverse(self, i):
        replay = self.kept.pop(i, None)
        if replay is None:
            raise RuntimeError(f"{self.name}: the plan reverses step {i} whose tape was not "
                               f"recorded (an invalid plan).")
        out_cots = self.g_carry + [None if g is None else g[i] for g in self.g_ys]
        in_cots, closure = replay.backprop(self._trace(), out_cots)
        n = self.n_carry
        self.g_carry = in_cots[:n]
        for k, c in enumerate(in_cots[n:]):
            if c is not None:
                self.g_xs[k][i] = c
        acc = self.g_closure
        for node, c in closure.items():
            if c is not None:
                acc[node] = c if acc.get(node) is None else acc[node] + c

    def snapshot(self, i, tier):
        self._at(i, "snapshot")
        if tier != "fast" and any(type(x) in TRACER_TYPES for x in self.current):
            tier = "fast"  # traced values (higher-order derivatives) cannot leave the device tier
        self._store(tier).put(i, self.current)
        self.snap_tier[i] = tier
        self.snap_rng[i] = _random.get_all_states()

    def restore(self, i):
        tier = self.snap_tier.get(i)
        if tier is None:
            raise RuntimeError(f"{self.name}: the plan restores state {i}, which is not stored "
                               f"(an invalid plan).")
        self.current = list(self.stores[tier].get(i))
        self.position = i
        _random.set_all_states(self.snap_rng[i])

    def free(self, i):
        tier = self.snap_tier.pop(i)
        self.snap_rng.pop(i)
        self.stores[tier].free(i)

    def _store(self, tier):
        store = self.stores.get(tier)
        if store is None:
            raws = [primal_value(x) for x in self.current if hasattr(primal_value(x), "shape")]
            from .. import backend
            xp = backend.namespace(*raws) if raws else np
            store = self.stores[tier] = make_store(tier, xp)
        return store

    def close(self):
        stores, self.stores = self.stores, {}
        for store in stores.values():
            store.close()
        self.snap_tier, self.snap_rng = {}, {}

    # ---- sizes for schedules that plan from memory ---------------------------------------

    def measure(self):
        """The sizes `Budget` and `Tiered` plan with, from step 0 evaluated on a private tape
        and backpropagated, then dropped (`costs.measure_step`; one step evaluation)."""
        self.begin()
        try:
            self.collect = False
            self.step_calls += 1
            inputs = self.current + self.x(0)
            return measure_step(self._trace(), self.touched, self.body, self.current,
                                self.x(0), self.wanted, self.length, _device_of(inputs))
        finally:
            _random.set_all_states(self.rng0)


def _plain(i, stage, run, *args):
    return run(*args)


def _device_of(leaves):
    from .. import backend
    return "cuda" if any(backend.is_cupy_array(primal_value(x)) for x in leaves) else "host"


def _ours(x, trace):
    return type(x) in TRACER_TYPES and x._trace is trace and differentiable(x)


def _call_translated(region, i):
    """One step on values, inside `run_paused`: closed-over tracers returned as they are
    become their values too."""
    trace = region._trace()
    carry, y = region.body(region.current, region.x(i))
    return translate_leaves(trace, carry), translate_leaves(trace, y)


def _call_cond(cond, region):
    return cond(tree_unflatten(region.body.carry_def, region.current))


def _start(schedule):
    """The schedule's online policy, or None to keep every step's tape (`Schedule.start`)."""
    start = getattr(schedule, "start", None)
    if start is None:
        raise TypeError(f"while_loop: {schedule!r} needs the length in advance; use Online(s) "
                        f"(chooses snapshots as the loop runs) or StoreAll().")
    return start()


def forward_phase_end(actions, length):
    """Index of the first action after which the executor holds the final state."""
    position = 0
    for k, act in enumerate(actions):
        kind = type(act)
        if kind is Advance or kind is Record:
            position = act.stop
            if position == length:
                return k + 1
        elif kind is Restore:
            position = act.index
    raise ValueError(f"a plan for length {length} never reaches the final state.")
