"""Checkpointing schedules: what to store and what to recompute, as a `Plan` of actions.

Schedules never run model code; `scan` and `while_loop` carry out their plans. Cost convention
(Griewank and Walther): `forward_steps` counts step evaluations without a tape, the primal sweep
included; each step is evaluated once more with its tape (`recorded_steps` = length); snapshot
counts include the initial carry.
"""
import functools
from math import comb

from ..units import format_bytes, parse_bytes
from .actions import Advance, Free, Record, Restore, Reverse, Snapshot
from .costs import FREELIST_BYTES, MIN_STEP_BYTES, peak_bytes
from .plan import Plan
from .segments import INFEASIBLE, fewest_evaluations, segment_actions


class Schedule:
    """What every schedule offers `scan`, `while_loop`, `forecast` and the benchmarks' tables.

    - `plan(length, **sizes) -> Plan`: the actions for a known length; `sizes` (`carry_bytes`,
      `step_bytes`, `other_bytes`, see `costs.py`) are given when `measures` is true.
    - `measures`: whether the plan needs those sizes, measured on the first step.
    - `start()`: for `while_loop`, whose length is unknown: an online policy, or None to keep
      every step's tape; a schedule that needs the length raises TypeError.
    - `name`: how tables show it; after `plan`, a schedule that chooses (Budget) names its
      choice too.
    """

    measures = False

    def plan(self, length, **sizes):
        raise NotImplementedError(f"{type(self).__name__}.plan")

    def start(self):
        raise TypeError(f"while_loop: {self!r} needs the length in advance; use Online(s) "
                        f"(chooses snapshots as the loop runs) or StoreAll().")

    @property
    def name(self):
        return repr(self)


_SCHEDULE_NAMES = ("StoreAll", "EveryK", "Revolve", "Segments", "Budget", "Online", "Tiered")
_EXAMPLES = ('StoreAll(), EveryK(10), Revolve(8), Budget("512MB"), Online(8), '
             'Tiered("1GB"), Segments("64MB", carry_bytes, step_bytes)')


def check_schedule(op, schedule, parameter="schedule"):
    """`schedule` itself if it is a schedule (an object with `plan`, like `Schedule`'s
    subclasses); else a TypeError naming `op`, `parameter`, what was passed and the fix."""
    if not isinstance(schedule, type) and callable(getattr(schedule, "plan", None)):
        return schedule
    if isinstance(schedule, type):
        got = f"the class {schedule.__name__}, not a schedule"
        fix = (f"make one: {_example(schedule.__name__)}" if issubclass(schedule, Schedule)
               else "pass a schedule object")
    elif isinstance(schedule, str):
        known = {name.lower(): name for name in _SCHEDULE_NAMES}
        name = known.get(schedule.strip().lower().rstrip("()"))
        got = f"the string {schedule!r}"
        fix = (f"pass the schedule object: {_example(name)}" if name else
               "schedules are objects, not names")
    elif isinstance(schedule, Plan):
        got = "a Plan (what a schedule makes for one length)"
        fix = f"pass the schedule that made it ({schedule.schedule})"
    elif isinstance(schedule, int) and not isinstance(schedule, bool):
        got = f"the int {schedule}"
        fix = (f"give the number of snapshots to a schedule: Revolve({schedule}) (or "
               f"Online({schedule}) for while_loop), or EveryK({schedule}) to store every "
               f"{schedule}th carry")
    else:
        got = f"{schedule!r} of type {type(schedule).__name__}"
        fix = "pass a schedule object"
    raise TypeError(f"{op}: {parameter}= got {got}; {fix}. Schedules: {_EXAMPLES}.")


def _example(name):
    return {"StoreAll": "StoreAll()", "EveryK": "EveryK(10)", "Revolve": "Revolve(8)",
            "Budget": 'Budget("512MB")', "Online": "Online(8)", "Tiered": 'Tiered("1GB")',
            "Segments": 'Segments("64MB", carry_bytes, step_bytes)'}.get(
                name, f"{name}(...)")


def _keeps_last_plan(plan_method):
    """A schedule's plan depends only on the length (and the schedule's settings), and a
    training loop asks for the same one at every call: keep the last, as building one costs
    10-50 ms at length 1000 (Online's policy the most)."""
    @functools.wraps(plan_method)
    def plan(self, length, **sizes):
        key = (length, repr(self))
        last = self.__dict__.get("_last_plan")
        if last is not None and last[0] == key:
            return last[1]
        made = plan_method(self, length, **sizes)
        self._last_plan = (key, made)
        return made
    return plan


class StoreAll(Schedule):
    """Keep every step's tape (no recomputation): the baseline, and the fastest."""

    def start(self):
        return None  # while_loop: record every step

    @_keeps_last_plan
    def plan(self, length, **sizes):
        _check_length(length)
        return Plan(length, [Record(0, length)] + _reverse_all(length - 1, 0), repr(self))

    def __repr__(self):
        return "StoreAll()"


class EveryK(Schedule):
    """Uniform checkpointing (what `torch.utils.checkpoint` offers): store the carry at the
    start of every segment of `k` steps; in backward, recompute one segment at a time with its
    tapes. `EveryK(1)` stores carries only and recomputes each step once."""

    def __init__(self, k):
        if not isinstance(k, int) or k < 1:
            raise ValueError(f"EveryK: k must be a positive int, got {k!r}")
        self.k = k

    @_keeps_last_plan
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


class Revolve(Schedule):
    """Binomial checkpointing (Griewank and Walther's Revolve): the fewest recomputations
    possible with `snapshots` stored carries, the initial carry included. The plan's
    `forward_steps` equals `binomial_cost(length, snapshots)`, the proven minimum; it is built
    by recursive bisection at a split point given in closed form, in O(length · r) time."""

    def __init__(self, snapshots):
        if not isinstance(snapshots, int) or snapshots < 1:
            raise ValueError(f"Revolve: snapshots must be a positive int, got {snapshots!r}")
        self.snapshots = snapshots

    @_keeps_last_plan
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


class Segments(Schedule):
    """Binomial checkpointing over segments within `memory` bytes of stored carries and kept
    tapes, for carries of `carry_bytes` and step tapes of `step_bytes` (`segments.py`): the
    plan with the fewest step evaluations under that cost model. What `Budget` chooses when
    not every tape fits; Revolve and EveryK are special cases of its plans."""

    def __init__(self, memory, carry_bytes, step_bytes):
        self.memory, self.carry_bytes, self.step_bytes = memory, carry_bytes, step_bytes
        self.evaluations = None

    @_keeps_last_plan
    def plan(self, length, **sizes):
        _check_length(length)
        if length * self.step_bytes <= self.memory:
            return StoreAll().plan(length)
        # the initial carry is stored (Snapshot(0)) beside the rest
        cost, tables = fewest_evaluations(length, self.memory - self.carry_bytes,
                                          self.carry_bytes, self.step_bytes)
        if cost >= INFEASIBLE:
            raise ValueError(f"{self!r}: not even one stored carry and one step's tape fit.")
        acts = [Snapshot(0)] + segment_actions(length, tables) + [Free(0)]
        return Plan(length, acts, repr(self))

    def __repr__(self):
        return (f"Segments({format_bytes(self.memory)!r}, carry={format_bytes(self.carry_bytes)!r}"
                f", tape={format_bytes(self.step_bytes)!r})")


def kept_tape_bytes(step_bytes, reused_step_bytes, memory):
    """What one kept tape costs a plan within `memory`: a step's tape less what it takes from
    CPython's freelists (`costs.peak_bytes` counts the same), while the tapes that fit can all
    take it (`costs.FREELIST_BYTES` in all); past that, the freelists' share spread over
    those tapes, which only overstates. Planned with the whole tape instead, a Budget
    refused every recomputing plan of a small step (7.8 KiB taped, 2.7 KiB of it new
    memory) whose StoreAll did not fit."""
    if reused_step_bytes <= 0:
        return step_bytes
    net = max(step_bytes - reused_step_bytes, MIN_STEP_BYTES)
    fits = max(memory // net, 1)
    if fits * reused_step_bytes <= FREELIST_BYTES:
        return net
    return max(step_bytes - FREELIST_BYTES // fits, MIN_STEP_BYTES)


class Budget(Schedule):
    """Choose the plan from a memory budget (bytes, or a string like "512MB", "2GiB").

    The plan with the fewest step evaluations whose peak under the cost model of `costs.py`
    fits 95% of the budget (the rest is headroom for Python objects): StoreAll if every tape
    fits, else binomial checkpointing over segments (`Segments`), which keeps whole segments'
    tapes where they fit and splits the rest (Revolve when only one tape fits, EveryK when one
    level of splits suffices). Optimal among the plans that recursion makes (a segment taped
    whole or split in two at its start's stored carry), for the sizes measured on the first
    step (by `scan`, with `gpuad.memory`): `carry_bytes`, `step_bytes` (one step's tape) and
    `other_bytes` (the outputs, one step's temporaries, gradients of closed-over parameters).
    `forecast` reports the same model's peak, so the two agree. Raises ValueError with the
    smallest workable budget if even one stored carry and one tape do not fit. `scan` measures
    the sizes itself; `plan` needs them when called directly. The last plan is kept while it
    still fits the sizes measured at the next call (sizes vary by a few bytes between calls).
    Sizes measured on the host (`measure_step`) also keep `unseen_step_bytes` per step free
    beside a plan that recomputes: what CPython's allocator caches hold in its backward phase,
    which the model does not see (128 B a step; it was 512 B before the model counted the
    executor's own per-step objects, which cost small Budgets plans with 70% more step
    evaluations than a fixed schedule that fitted).
    """

    measures = True
    HEADROOM = 0.05  # of the budget, for the plan's and the tapes' own Python objects

    def __init__(self, budget):
        self.budget = parse_bytes(budget)
        self.chosen = None
        self._last = None  # (length, plan)

    def choose(self, length, carry_bytes, step_bytes, other_bytes=0, **profile):
        if carry_bytes is None or step_bytes is None:
            raise TypeError("Budget.plan needs carry_bytes and step_bytes (scan measures them "
                            "on the first step; pass them when planning by hand).")
        sizes = {"carry_bytes": carry_bytes, "step_bytes": step_bytes,
                 "other_bytes": other_bytes, **profile}
        usable = int(self.budget * (1 - self.HEADROOM))
        # StoreAll keeps every step's tape: when those alone overflow, skip simulating its
        # plan (a million actions for a million steps)
        reused = profile.get("reused_step_bytes", 0)
        if (length * kept_tape_bytes(step_bytes, reused, usable) <= usable
                and peak_bytes(StoreAll().plan(length), sizes)["total"] <= usable):
            return StoreAll()
        # a plan that recomputes holds host memory the model does not see, up to 128 B a
        # step (`costs.UNSEEN_STEP_BYTES`): kept free, so that a small budget holds
        margin = length * profile.get("unseen_step_bytes", 0)
        memory = usable - other_bytes - margin
        tape = kept_tape_bytes(step_bytes, reused, memory)
        if memory < carry_bytes + tape:
            need = self.smallest(carry_bytes, tape, other_bytes + margin)
            raise ValueError(
                f"Budget({format_bytes(self.budget)}): too small for length {length}: one "
                f"stored carry ({format_bytes(carry_bytes)}) and one step's tape "
                f"({format_bytes(tape)}) beside the outputs ({format_bytes(other_bytes)}) "
                f"need at least {need} bytes ({format_bytes(need)}).")
        return Segments(memory, carry_bytes, tape)

    @classmethod
    def smallest(cls, carry_bytes, step_bytes, other_bytes=0):
        """The smallest budget (bytes) `choose` accepts for these sizes, headroom included:
        one stored carry and one step's tape beside `other_bytes` (the slowest plan,
        Revolve with one snapshot). Callers check a budget with it before running anything
        (`python -m gpuad`'s preflight)."""
        need = other_bytes + carry_bytes + step_bytes
        budget = int(need / (1 - cls.HEADROOM)) + 1
        # exact in integers, as `choose` rounds: the least budget whose usable part holds it
        while budget > need and int((budget - 1) * (1 - cls.HEADROOM)) >= need:
            budget -= 1
        while int(budget * (1 - cls.HEADROOM)) < need:
            budget += 1
        return budget

    def plan(self, length, carry_bytes=None, step_bytes=None, other_bytes=0, **profile):
        _check_length(length)
        sizes = {"carry_bytes": carry_bytes, "step_bytes": step_bytes,
                 "other_bytes": other_bytes, **profile}
        last = self._last
        # kept while it fits the whole budget: the sizes measured at each call vary by a few
        # hundred bytes (the headroom is for that), and planning again costs 0.1-0.6 s at T=1000
        if (last is not None and last[0] == length and carry_bytes is not None
                and step_bytes is not None and peak_bytes(last[1], sizes)["total"] <= self.budget):
            return last[1]
        self.chosen = self.choose(length, **sizes)
        plan = self.chosen.plan(length)
        plan.schedule = f"{self!r} -> {self.chosen!r}"
        self._last = (length, plan)
        return plan

    @property
    def name(self):
        return repr(self) if self.chosen is None else f"{self!r} -> {self.chosen!r}"

    def __repr__(self):
        return f"Budget({format_bytes(self.budget)!r})"


class Online(Schedule):
    """Checkpointing for loops whose length is unknown until they stop (`while_loop`).

    At each state, before its step runs, the policy chooses whether to store the state and
    which stored state to drop for it: the choice that would make the backward phase cheapest
    if the loop stopped after this step, ties broken by the step after. When the loop stops,
    the gaps between stored states are reversed last first, each by Revolve with the slots not
    holding lower states, or, where cheaper, everything is dropped and Revolve restarts from
    the initial carry.

    No schedule can know the length during the loop, so every one runs the whole primal sweep
    without tapes; the best any can then do, given where it stored states, is
    `online_lower_bounds(length, snapshots)[length]`: length + the cheapest gap-by-gap
    reversal over all placements of the stored states, placed knowing the length. Bounds
    reached, checked by the tests (tests/checkpoint/test_schedules.py):

    - equal to that bound for every length up to β(s, 2) = (s+1)(s+2)/2. There the bound is
      Revolve's optimum + 1 up to length s (the sweep runs the last step, which it could not
      know to be last, without its tape), + 2 beyond and + 3 at β(s, 2) (the last gap ends
      where the loop stopped, not where Revolve would have put it);
    - within 14% of the bound at every length for s = 2, 7% for s = 3, 6% for s = 4 and
      2.5% for s = 8 and 16 (measured up to length 1000, tested up to 300; the stride-doubling
      policy it replaced came within 18-44%);
    - at most 2x Revolve's optimum (lengths up to 2000, s up to 64).
    Deciding costs O(1) per step while the stored states stay, O(s) when they change.
    `Online(1)` stores only the initial carry and recomputes every step from it, as
    `Revolve(1)` does: length + length (length - 1) / 2 step evaluations, the least memory.
    """

    def __init__(self, snapshots):
        # one slot holds the initial carry: every step is recomputed from the start (as
        # Revolve(1) does), the least memory at quadratic cost
        if not isinstance(snapshots, int) or snapshots < 1:
            raise ValueError(f"Online: snapshots must be a positive int, got {snapshots!r}")
        self.snapshots = snapshots

    def start(self):
        return _OnlinePolicy(self)

    @_keeps_last_plan
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
    """The choices of `Online`, made in O(1) per step while the stored states stay as they are
    and in O(snapshots) when they change (the scores of all drops are then recomputed)."""

    def __init__(self, schedule):
        self.schedule = schedule
        self.slots = schedule.snapshots
        self.stored = []
        self.forward = []

    def before_step(self, i):
        """Actions to run while the current state is i, before step i runs untaped."""
        if i == 0:
            acts = [Snapshot(0)]
            self.stored = [0]
            self._rescore()
        else:
            acts = self._choose(i)
        self.forward += acts + [Advance(i, i + 1)]
        return acts

    def _rescore(self):
        """After the stored states changed: the parts of each choice's score that do not
        depend on the gap still growing (from the last stored state to the current one).

        Gap j, from stored[j], is reversed with s - j slots; dropping stored[q] merges gaps
        q-1 and q and moves every later gap down one place (one more slot)."""
        s, stored = self.slots, self.stored
        k = len(stored)
        fixed = [b - a for a, b in zip(stored, stored[1:])]
        prefix = [0]
        for j, gap in enumerate(fixed):
            prefix.append(prefix[-1] + _gap_cost(gap, s - j))
        self.prefix = prefix
        # the best drop among stored[1..k-2], whose score is this + the growing gap's cost
        best_q, best = None, None
        moved = 0  # cost of fixed gaps q+1.. at one place lower
        for q in range(k - 2, 0, -1):
            if q + 1 < k - 1:
                moved += _gap_cost(fixed[q + 1], s - q)
            score = prefix[q - 1] + _gap_cost(fixed[q - 1] + fixed[q], s - q + 1) + moved
            if best is None or score <= best:  # ties go to the earliest drop
                best_q, best = q, score
        self.best_drop = (best_q, best)

    def _choose(self, i):
        """Store state i or not, and drop which stored state for it (see `Online`): each
        choice scored by the backward phase's untaped steps if the loop stopped after step i,
        then after step i+1."""
        s, stored, prefix = self.slots, self.stored, self.prefix
        k = len(stored)
        growing = i - stored[-1]
        restart = (_gap_cost(i + 1, s), _gap_cost(i + 2, s))

        def score(gap_sum, then):
            return (min(gap_sum, restart[0]), min(gap_sum + then, restart[1]))

        room = s - k + 1  # slots of the growing gap
        keep_cost = _gap_cost(growing + 1, room)
        best = score(prefix[-1] + keep_cost, _gap_cost(growing + 2, room) - keep_cost)
        choice = None  # keep the stored states as they are
        if k < s:
            candidate = score(prefix[-1] + _gap_cost(growing, room), _gap_cost(2, s - k))
            if candidate < best:
                best, choice = candidate, 0
        elif k > 1:
            then = _gap_cost(2, room)
            # dropping stored[k-1] merges it into the growing gap
            drop, drop_score = k - 1, score(
                prefix[k - 2] + _gap_cost(stored[k - 1] - stored[k - 2] + growing, room + 1),
                then)
            q, part = self.best_drop
            if q is not None:
                earlier = score(part + _gap_cost(growing, room + 1), then)
                if earlier <= drop_score:
                    drop, drop_score = q, earlier
            if drop_score < best:
                best, choice = drop_score, drop
        if choice is None:
            return []
        acts = []
        if choice:
            acts.append(Free(stored.pop(choice)))
        stored.append(i)
        acts.append(Snapshot(i))
        self._rescore()
        return acts

    def finish(self, length):
        """The backward phase's actions, once the loop stopped after `length` steps: the
        cheaper of reversing gap by gap and restarting Revolve from the initial carry."""
        gaps = []
        bounds = self.stored + [length]
        for k in range(len(self.stored) - 1, -1, -1):
            start, stop = bounds[k], bounds[k + 1]
            gaps.append(Restore(start))
            _revolve(gaps, start, stop - start, self.slots - k)
            gaps.append(Free(start))
        restart = [Free(p) for p in self.stored[1:]] + [Restore(0)]
        _revolve(restart, 0, length, self.slots)
        restart.append(Free(0))
        self.length = length
        self.backward = min(gaps, restart, key=_advanced_steps)
        return self.backward

    def plan(self):
        return Plan(self.length, self.forward + self.backward, repr(self.schedule), online=True)


def _gap_cost(length, snapshots):
    """`binomial_cost`, with the closed forms of repetition numbers 1 and 2 and of one
    snapshot first: a policy's inner loop calls it O(snapshots) times per step."""
    if length <= snapshots + 1:
        return length - 1 if length else 0
    if snapshots == 1:
        return length * (length - 1) // 2
    if 2 * length <= (snapshots + 1) * (snapshots + 2):
        return 2 * length - snapshots - 2
    return _binomial_cost_cached(length, snapshots)


@functools.lru_cache(maxsize=1 << 12)
def _binomial_cost_cached(length, snapshots):
    return binomial_cost(length, snapshots)


def online_lower_bounds(max_length, snapshots):
    """For each length 1..max_length (index 0 unused), the fewest untaped step evaluations
    of any schedule that runs the primal sweep without knowing the length, stores at most
    `snapshots` states on the way (the initial one included) and then reverses: length + the
    cheapest gap-by-gap reversal over all placements of the stored states, chosen knowing the
    length. The dynamic program over the first gap costs O(max_length² · snapshots): it is for
    tests and small cases."""
    if not isinstance(snapshots, int) or snapshots < 1:
        raise ValueError(f"online_lower_bounds: snapshots must be a positive int, got "
                         f"{snapshots!r}")
    _check_length(max_length)
    n = max_length
    # rest[m][g]: reverse g steps from a stored state with m slots, placing the others freely
    rest = [None, [0] + [_gap_cost(g, 1) for g in range(1, n + 1)]]
    for m in range(2, snapshots + 1):
        below = rest[m - 1]
        first = [0] + [_gap_cost(j, m) for j in range(1, n + 1)]  # the first gap, alone
        row = [0] * (n + 1)
        for g in range(1, n + 1):
            best = first[g]
            for j in range(1, g):
                value = first[j] + below[g - j]
                if value < best:
                    best = value
            row[g] = best
        rest.append(row)
    return [0] + [length + rest[snapshots][length] for length in range(1, n + 1)]


class Tiered(Schedule):
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
        self.schedule = schedule if schedule is None else check_schedule("Tiered", schedule)

    def plan(self, length, carry_bytes=None, step_bytes=None, other_bytes=0, **profile):
        _check_length(length)
        if carry_bytes is None:
            raise TypeError("Tiered.plan needs carry_bytes (scan measures it on the first "
                            "step; pass it when planning by hand).")
        fast_slots = self.fast // max(carry_bytes, 1)
        slow_slots = length if self.slow is None else self.slow // max(carry_bytes, 1)
        inner = self.schedule or Revolve(int(max(1, min(length, fast_slots + slow_slots))))
        base = inner.plan(length, carry_bytes=carry_bytes, step_bytes=step_bytes,
                          other_bytes=other_bytes, **profile) if getattr(inner, "measures", False) \
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
