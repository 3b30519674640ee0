"""`Plan`: a schedule's actions for one length, with the counts that describe its cost, and
`validate`, the independent simulator those counts come from."""
import numpy as np

from .actions import Advance, Free, Record, Restore, Reverse, Snapshot


class Plan:
    """The actions of a schedule for one length, and what they cost.

    Attributes:
      length, actions, schedule (the schedule's repr);
      forward_steps: step evaluations without a tape (the primal sweep included);
      recorded_steps: step evaluations with a tape (each step once in a valid plan);
      peak_snapshots: the most carries stored at once, every tier (the initial carry counts);
      peak_by_tier: the most stored at once per tier; slow_writes, slow_reads: traffic to and
      from the slow tier; peak_tapes: the most step tapes kept at once;
      forward_phase_end: index of the first action of the backward phase; recomputes:
      whether the backward phase evaluates steps (then the recomputed outputs that a record
      or a snapshot uses are checked, `verify.py`); evaluated_once_from: the first step from which on the plan evaluates
      every step once (their outputs have nothing to be compared with); moments: see the
      property.
    """

    def __init__(self, length, actions, schedule, online=False):
        self.length = length
        self.actions = list(actions)
        self.schedule = schedule
        counts = validate(self.actions, length, online=online)
        self.__dict__.update(counts)

    @property
    def step_evaluations(self):
        return self.forward_steps + self.recorded_steps

    def peak_bytes(self, carry_bytes, step_bytes):
        """Peak bytes per tier ("fast", "slow"), of kept tapes ("tapes"), and in all ("total"):
        the worst moment of the plan for the given sizes of a carry and of one step's tape."""
        fast = max((f for f, _, _ in self._levels), default=0) * carry_bytes
        slow = max((s for _, s, _ in self._levels), default=0) * carry_bytes
        tapes = self.peak_tapes * step_bytes
        total = max((f * carry_bytes + t * step_bytes for f, _, t in self._levels), default=0)
        return {"fast": fast, "slow": slow, "tapes": tapes, "total": total}

    @property
    def moments(self):
        """The plan's moments as an int64 array of rows (fast, slow, kept tapes, steps run in
        the forward phase or -1 in the backward phase, steps reversed, 1 while the xs'
        cotangent rows are stacked), for `costs.peak_bytes`."""
        rows = self.__dict__.get("_moment_rows")
        if rows is None:
            rows = self._moment_rows = np.array(sorted(self._moments), np.int64).reshape(-1, 6)
        return rows

    def table(self):
        rows = [("schedule", self.schedule), ("length", self.length),
                ("forward steps", self.forward_steps), ("recorded steps", self.recorded_steps),
                ("peak snapshots", self.peak_snapshots), ("peak kept tapes", self.peak_tapes)]
        if self.peak_by_tier.get("slow"):
            rows += [("peak slow snapshots", self.peak_by_tier["slow"]),
                     ("slow writes / reads", f"{self.slow_writes} / {self.slow_reads}")]
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)

    def __repr__(self):
        return (f"Plan({self.schedule}, length={self.length}, forward_steps="
                f"{self.forward_steps}, recorded_steps={self.recorded_steps}, "
                f"peak_snapshots={self.peak_snapshots}, peak_tapes={self.peak_tapes}, "
                f"actions={len(self.actions)})")


def validate(actions, length, online=False):
    """Check that `actions` reverse `length` steps correctly and count what they cost.

    Raises ValueError naming the first invalid action. With `online`, the forward phase may end
    without the last step's tape (a loop cannot know its last step in advance).
    Returns a dict of the counts `Plan` exposes.
    """
    position = 0
    stored = {}            # index -> tier
    fast = 0               # how many stored states are in the fast tier (counted, not summed:
    #                        a sum per action made validating EveryK(1) at T=1000 cost 0.1 s)
    kept = set()
    next_reverse = length - 1
    forward = recorded = 0
    peak_tapes = 0
    slow_writes = slow_reads = 0
    levels = {(0, 0, 0)}
    # every moment as (fast, slow, kept tapes, steps run in the forward phase or -1 once it
    # ended, steps reversed, 1 while the xs' cotangents are stacked): what
    # `costs.peak_bytes` weighs moment by moment
    moments = {(0, 0, 0, 0, 0, 0)}
    forward_phase_end = None
    recomputes = False     # whether the backward phase evaluates steps (they are checked)
    reached = once_from = 0  # the furthest state reached; steps below once_from evaluated again

    def fail(k, why):
        raise ValueError(f"invalid plan for length {length}: action {k} ({actions[k]!r}) {why}")

    for k, act in enumerate(actions):
        kind = type(act)
        if kind is Advance or kind is Record:
            if act.start != position:
                fail(k, f"starts at state {act.start}, but the current state is {position}")
            if not act.start < act.stop <= length:
                fail(k, f"must satisfy start < stop <= {length}")
            if forward_phase_end is not None:
                recomputes = True
            if act.start < reached:
                once_from = max(once_from, min(act.stop, reached))
            reached = max(reached, act.stop)
            if kind is Advance:
                forward += act.stop - act.start
            else:
                recorded += act.stop - act.start
                kept.update(range(act.start, act.stop))
            position = act.stop
            if position == length and forward_phase_end is None:
                forward_phase_end = k + 1
                if not online and (length - 1) not in kept:
                    fail(k, "ends the forward phase without the last step's tape")
        elif kind is Snapshot:
            if act.index != position:
                fail(k, f"stores state {act.index}, but the current state is {position}")
            if act.index in stored:
                fail(k, "stores a state that is already stored")
            if act.tier not in ("fast", "slow"):
                fail(k, "names an unknown tier (use 'fast' or 'slow')")
            stored[act.index] = act.tier
            fast += act.tier == "fast"
            slow_writes += act.tier == "slow"
        elif kind is Restore:
            if act.index not in stored:
                fail(k, "restores a state that is not stored")
            position = act.index
            slow_reads += stored[act.index] == "slow"
        elif kind is Free:
            if act.index not in stored:
                fail(k, "frees a state that is not stored")
            fast -= stored.pop(act.index) == "fast"
        elif kind is Reverse:
            if forward_phase_end is None:
                fail(k, "reverses a step before the forward phase reached the final state")
            if act.index != next_reverse:
                fail(k, f"reverses step {act.index}; step {next_reverse} is next")
            if act.index not in kept:
                fail(k, "reverses a step whose tape is not kept")
            # the moment the step is backpropagated: its tape still held
            moments.add((fast, len(stored) - fast, len(kept), -1, length - 1 - next_reverse, 0))
            kept.discard(act.index)
            next_reverse -= 1
        else:
            fail(k, "is not an action")
        levels.add((fast, len(stored) - fast, len(kept)))
        # the action that ends the forward phase still counts in it: the ys of every step are
        # stacked after it, before the backward phase begins
        moments.add((fast, len(stored) - fast, len(kept),
                     position if forward_phase_end in (None, k + 1) else -1,
                     length - 1 - next_reverse, 0))
        peak_tapes = max(peak_tapes, len(kept))
    # the xs' cotangent rows stacked after the last step is reversed: rows and stack at once
    moments.add((fast, len(stored) - fast, 0, -1, length, 1))
    if next_reverse != -1:
        raise ValueError(f"invalid plan for length {length}: steps {next_reverse}..0 are never "
                         f"reversed")
    if kept:
        raise ValueError(f"invalid plan for length {length}: tapes of steps {sorted(kept)} are "
                         f"kept but never reversed")
    return {"forward_steps": forward, "recorded_steps": recorded,
            "peak_snapshots": max(f + s for f, s, _ in levels),
            "peak_by_tier": {"fast": max(f for f, _, _ in levels),
                             "slow": max(s for _, s, _ in levels)},
            "peak_tapes": peak_tapes, "slow_writes": slow_writes, "slow_reads": slow_reads,
            "forward_phase_end": forward_phase_end, "_levels": levels,
            "recomputes": recomputes, "evaluated_once_from": once_from, "_moments": moments}
