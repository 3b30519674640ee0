"""Checkpointing schedules: what to store and what to recompute, as a `Plan` of actions.

Schedules never run model code; `scan` and `while_loop` carry out their plans. Cost convention
(Griewank and Walther): `forward_steps` counts step evaluations without a tape, the primal sweep
included; each step is evaluated once more with its tape (`recorded_steps` = length); snapshot
counts include the initial carry.
"""
from math import comb

from .actions import Advance, Free, Record, Restore, Reverse, Snapshot
from .plan import Plan
from .units import format_bytes, parse_bytes


class StoreAll:
    """Keep every step's tape (no recomputation): the baseline, and the fastest."""

    def plan(self, length, **sizes):
        _check_length(length)
        return Plan(length, [Record(0, length)] + _reverse_all(length - 1, 0), repr(self))

    def __repr__(self):
        return "StoreAll()"


class EveryK:
    """Uniform checkpointing (what `torch.utils.checkpoint` offers): store the carry at the
    start of every segment of `k` steps; in backward, recompute one segment at a time with its
    tapes. `EveryK(1)` stores carries only and recomputes each step once."""

    def __init__(self, k):
        if not isinstance(k, int) or k < 1:
            raise ValueError(f"EveryK: k must be a positive int, got {k!r}")
        self.k = k

    def plan(self, length, **sizes):
        _check_length(length)
        starts = list(range(0, length, self.k))
        last = starts[-1]
        acts = []
        for a in starts[:-1]:
            acts += [Snapshot(a), Advance(a, a + self.k)]
        acts.append(Record(last, length))
        acts += _reverse_all(length - 1, last)
        for a in reversed(starts[:-1]):
            acts += [Restore(a), Free(a), Record(a, a + self.k)]
            acts += _reverse_all(a + self.k - 1, a)
        return Plan(length, acts, repr(self))

    def __repr__(self):
        return f"EveryK({self.k})"


def binomial_cost(length, snapshots):
    """The fewest untaped step evaluations that reverse `length` steps with `snapshots`
    stored carries (the initial one included): r·l − β(s+1, r−1), where the repetition number
    r is the smallest with β(s, r) = C(s+r, s) >= l (Griewank and Walther, 2000)."""
    r = repetition_number(length, snapshots)
    return r * length - _beta(snapshots + 1, r - 1)


def repetition_number(length, snapshots):
    r = 0
    while _beta(snapshots, r) < length:
        r += 1
    return r


def _beta(s, r):
    return comb(s + r, s) if r >= 0 else 0


class Revolve:
    """Binomial checkpointing (Griewank and Walther's Revolve): the fewest recomputations
    possible with `snapshots` stored carries, the initial carry included. The plan's
    `forward_steps` equals `binomial_cost(length, snapshots)`, the proven minimum; it is built
    by recursive bisection at a split point given in closed form, in O(length · r) time."""

    def __init__(self, snapshots):
        if not isinstance(snapshots, int) or snapshots < 1:
            raise ValueError(f"Revolve: snapshots must be a positive int, got {snapshots!r}")
        self.snapshots = snapshots

    def plan(self, length, **sizes):
        _check_length(length)
        acts = [Snapshot(0)]
        _revolve(acts, 0, length, self.snapshots)
        acts.append(Free(0))
        return Plan(length, acts, repr(self))

    def __repr__(self):
        return f"Revolve({self.snapshots})"


def _split(n, s):
    """An optimal number of steps to advance before the next snapshot (closed form)."""
    r = repetition_number(n, s)
    return max(1, n - _beta(s - 1, r), _beta(s, r - 2))


def _revolve(acts, start, n, s):
    """Reverse steps start..start+n-1; the current state is `start`, which is stored and
    counts among the `s` snapshots available. Iterative: lower parts wait on a stack."""
    pending = []  # (upper snapshot to free, start, steps, snapshots) of lower parts
    while True:
        if n == 1:
            acts += [Record(start, start + 1), Reverse(start)]
        elif s == 1:
            for i in range(n - 1, -1, -1):
                if i < n - 1:
                    acts.append(Restore(start))
                if i:
                    acts.append(Advance(start, start + i))
                acts += [Record(start + i, start + i + 1), Reverse(start + i)]
        elif s + 1 >= n:  # repetition number 1: store every state, recompute nothing twice
            for i in range(n - 1):
                if i:
                    acts.append(Snapshot(start + i))
                acts.append(Advance(start + i, start + i + 1))
            acts += [Record(start + n - 1, start + n), Reverse(start + n - 1)]
            for i in range(n - 2, -1, -1):
                acts += [Restore(start + i), Record(start + i, start + i + 1),
                         Reverse(start + i)]
                if i:
                    acts.append(Free(start + i))
        else:
            j = _split(n, s)
            acts += [Advance(start, start + j), Snapshot(start + j)]
            pending.append((start + j, start, j, s))
            start, n, s = start + j, n - j, s - 1
            continue
        if not pending:
            return
        upper, start, n, s = pending.pop()
        acts += [Free(upper), Restore(start)]


class Budget:
    """Choose the schedule from a memory budget (bytes, or a string like "512MB", "2GiB").

    Planned memory: the outputs and one step's temporaries (`other_bytes`) + stored carries ×
    carry bytes + kept tapes × one step's tape bytes, all measured on the first step (by
    `scan`, with `gpuad.memory`), within 95% of the budget (the rest is headroom for Python
    objects). Stores everything if that fits;
    otherwise Revolve with the most snapshots that fit beside one kept tape. Raises ValueError
    with the smallest workable budget if even one snapshot and one tape do not fit.
    `scan` measures the sizes itself; `plan` needs them when called directly.
    """

    measures = True
    HEADROOM = 0.05  # of the budget, for the plan's and the tapes' own Python objects

    def __init__(self, budget):
        self.budget = parse_bytes(budget)
        self.chosen = None

    def choose(self, length, carry_bytes, step_bytes, other_bytes=0):
        if carry_bytes is None or step_bytes is None:
            raise TypeError("Budget.plan needs carry_bytes and step_bytes (scan measures them "
                            "on the first step; pass them when planning by hand).")
        usable = int(self.budget * (1 - self.HEADROOM))
        if other_bytes + length * step_bytes <= usable:
            return StoreAll()
        room = usable - other_bytes - step_bytes
        snapshots = room // max(carry_bytes, 1)
        if snapshots < 1:
            need = -(-(other_bytes + carry_bytes + step_bytes) * 100 // 95)  # with headroom
            raise ValueError(
                f"Budget({format_bytes(self.budget)}): too small for length {length}: one "
                f"stored carry ({format_bytes(carry_bytes)}) and one step's tape "
                f"({format_bytes(step_bytes)}) beside the outputs ({format_bytes(other_bytes)}) "
                f"need at least {need} bytes ({format_bytes(need)}).")
        return Revolve(int(min(snapshots, length)))

    def plan(self, length, carry_bytes=None, step_bytes=None, other_bytes=0):
        _check_length(length)
        self.chosen = self.choose(length, carry_bytes, step_bytes, other_bytes)
        plan = self.chosen.plan(length)
        plan.schedule = f"{self!r} -> {self.chosen!r}"
        return plan

    def __repr__(self):
        return f"Budget({format_bytes(self.budget)!r})"


class Online:
    """Checkpointing for loops whose length is unknown until they stop (`while_loop`).

    During the loop, carries are stored at multiples of a stride that doubles whenever the
    `snapshots` slots fill up (dropping every other stored carry), so the stored states always
    cover the steps run so far evenly. When the loop stops, the backward phase is the cheaper
    of: reversing each gap between stored states, last gap first, by Revolve with the slots not
    holding lower states; or dropping them and running Revolve from the initial carry (which
    costs Revolve's optimum plus one primal sweep).

    Bound reached (checked by the tests for every length up to 2000 and snapshots in
    {2, 3, 4, 8, 16, 32, 64}): the recomputation (`forward_steps`, the primal sweep included) is
    at most 2x Revolve's optimum for the length that turned out; for lengths up to `snapshots`
    it is Revolve's optimum + 1 (the last step, which could not be known to be last, is run
    once more with its tape).
    """

    def __init__(self, snapshots):
        if not isinstance(snapshots, int) or snapshots < 2:
            raise ValueError(f"Online: snapshots must be an int >= 2, got {snapshots!r}")
        self.snapshots = snapshots

    def start(self):
        return _OnlinePolicy(self)

    def plan(self, length, **sizes):
        _check_length(length)
        policy = self.start()
        for i in range(length):
            policy.before_step(i)
        policy.finish(length)
        return policy.plan()

    def __repr__(self):
        return f"Online({self.snapshots})"


class _OnlinePolicy:
    def __init__(self, schedule):
        self.schedule = schedule
        self.stride = 1
        self.stored = []
        self.forward = []

    def before_step(self, i):
        """Actions to run while the current state is i, before step i runs untaped."""
        acts = []
        if i % self.stride == 0:
            if len(self.stored) == self.schedule.snapshots:
                self.stride *= 2
                keep = [p for p in self.stored if p % self.stride == 0]
                acts += [Free(p) for p in self.stored if p % self.stride]
                self.stored = keep
            if i % self.stride == 0:
                acts.append(Snapshot(i))
                self.stored.append(i)
        self.forward += acts + [Advance(i, i + 1)]
        return acts

    def finish(self, length):
        """The backward phase's actions, once the loop stopped after `length` steps: the
        cheaper of reversing gap by gap and restarting Revolve from the initial carry."""
        gaps = []
        bounds = self.stored + [length]
        for k in range(len(self.stored) - 1, -1, -1):
            start, stop = bounds[k], bounds[k + 1]
            gaps.append(Restore(start))
            _revolve(gaps, start, stop - start, self.schedule.snapshots - k)
            gaps.append(Free(start))
        restart = [Free(p) for p in self.stored[1:]] + [Restore(0)]
        _revolve(restart, 0, length, self.schedule.snapshots)
        restart.append(Free(0))
        self.length = length
        self.backward = min(gaps, restart, key=_advanced_steps)
        return self.backward

    def plan(self):
        return Plan(self.length, self.forward + self.backward, repr(self.schedule), online=True)


class Tiered:
    """Two storage tiers: carries beyond the fast tier's budget go to the slow one (on a GPU,
    pinned host memory copied on a side stream; on a CPU, a memory-mapped file in a private
    temporary directory, removed afterwards).

    Args:
      fast: bytes (or "2GiB"-style string) for stored carries in the fast tier.
      slow: bytes for the slow tier, or None for no limit.
      schedule: the schedule to place in tiers; default Revolve with as many snapshots as
        both tiers hold (at most one per step).
    The plan's `slow_writes` / `slow_reads` count the traffic to the slow tier.
    """

    measures = True

    def __init__(self, fast, slow=None, schedule=None):
        self.fast = parse_bytes(fast)
        self.slow = None if slow is None else parse_bytes(slow)
        self.schedule = schedule

    def plan(self, length, carry_bytes=None, step_bytes=None, other_bytes=0):
        _check_length(length)
        if carry_bytes is None:
            raise TypeError("Tiered.plan needs carry_bytes (scan measures it on the first "
                            "step; pass it when planning by hand).")
        fast_slots = self.fast // max(carry_bytes, 1)
        slow_slots = length if self.slow is None else self.slow // max(carry_bytes, 1)
        inner = self.schedule or Revolve(int(max(1, min(length, fast_slots + slow_slots))))
        base = inner.plan(length, carry_bytes=carry_bytes, step_bytes=step_bytes,
                          other_bytes=other_bytes) if getattr(inner, "measures", False) \
            else inner.plan(length)
        acts, fast_live = [], set()
        for act in base.actions:
            if type(act) is Snapshot:
                tier = "fast" if len(fast_live) < fast_slots else "slow"
                if tier == "fast":
                    fast_live.add(act.index)
                act = Snapshot(act.index, tier)
            elif type(act) is Free:
                fast_live.discard(act.index)
            acts.append(act)
        return Plan(length, acts, f"{self!r} over {inner!r}")

    def __repr__(self):
        slow = "unlimited" if self.slow is None else format_bytes(self.slow)
        return f"Tiered(fast={format_bytes(self.fast)!r}, slow={slow!r})"


def _advanced_steps(actions):
    return sum(a.stop - a.start for a in actions if type(a) is Advance)


def _reverse_all(last, first):
    return [Reverse(i) for i in range(last, first - 1, -1)]


def _check_length(length):
    if not isinstance(length, int) or length < 1:
        raise ValueError(f"a plan needs a length >= 1, got {length!r}")


