"""Binomial checkpointing over segments: the fewest step evaluations within a memory budget.

The cost model (`costs.py`): at any moment a plan holds some stored carries (`carry_bytes`
each) and some kept step tapes (`step_bytes` each), within `memory` bytes. A segment of `l`
steps whose start state is stored and current, with `m` more carries' room (and the bytes of
`memory` not a whole carry), is reversed in one of two ways:

- taped whole: `Record` the `l` steps in one forward pass, then `Reverse` them (needs room for
  `l` tapes); no untaped evaluation;
- split at `j` (0 < j < l): `Advance` j steps, then reverse the other `l - j` steps, taped
  whole at once if they fit in the room (nothing stored), else from that carry stored with
  `m - 1` carries' room (freed after); restore the start and reverse the first `j` with `m`:
  `j` untaped evaluations plus both parts' own.

    F(l, m) = 0 if l tapes fit in m carries' room, else min_j  j + F(j, m) + G(l - j, m)
    G(u, m) = 0 if u tapes fit in m carries' room, else F(u, m - 1)

Revolve is the case where only one tape fits (segments of one step), EveryK the case of one
level of splits whose parts are taped whole. `fewest_evaluations` solves the recursion
exactly by dynamic programming over lengths and memory in carry units, and `segment_actions`
turns the solution into a plan's actions. The table has (memory // carry_bytes + 1) x
(length + 1) entries; a split search stops once `j + F(j, m)` (which grows with j) reaches
the best cost found, which bounds it without losing optimality.
"""
import numpy as np

from .actions import Advance, Free, Record, Restore, Reverse, Snapshot

# F(l, m) of an infeasible segment (fewer than one tape fits): larger than any plan's cost
INFEASIBLE = 1 << 40


def _solve(length, units, remainder, carry_bytes, step_bytes, cost, split):
    """Fill cost[m, l] and split[m, l] (0: taped whole) for m <= units, l <= length."""
    for m in range(units + 1):
        taped = (remainder + m * carry_bytes) // step_bytes  # longest segment taped whole
        cost[m, 0] = 0
        for l in range(1, length + 1):
            if l <= taped:
                cost[m, l] = 0
                continue
            best = INFEASIBLE
            at = 0
            # start at the previous length's split (the optimum moves little with l), then
            # widen both ways while a bound allows a cheaper split: j + F(j, m) grows with j,
            # the upper part's cost grows as j shrinks
            guess = min(max(split[m, l - 1], 1), l - 1)
            for j in range(guess, l):
                first = j + cost[m, j]
                if first >= best:
                    break
                u = l - j  # the upper part: taped whole (nothing stored) or from a carry
                upper = 0 if u <= taped else cost[m - 1, u] if m > 0 else INFEASIBLE
                value = first + upper
                if value < best:
                    best = value
                    at = j
            for j in range(guess - 1, 0, -1):
                u = l - j
                upper = 0 if u <= taped else cost[m - 1, u] if m > 0 else INFEASIBLE
                if upper + 1 >= best:  # every smaller j costs at least this
                    break
                value = j + cost[m, j] + upper
                if value <= best:  # ties go to the smaller first part
                    best = value
                    at = j
            cost[m, l] = best
            split[m, l] = at


_compiled = []


def _solver():
    """The table solver, compiled with Numba on first use (imported late: `import gpuad`
    stays fast, and only a Budget that has to split needs it). Compiled, a table for length
    1000 and 200-400 carry units takes 0.13-0.24 s (measured on these 2-core machines); plans
    are kept, so a training loop pays it once."""
    if not _compiled:
        import numba
        _compiled.append(numba.njit(cache=True, nogil=True)(_solve))
    return _compiled[0]


def fewest_evaluations(length, memory, carry_bytes, step_bytes, compiled=True):
    """The exact minimum of untaped step evaluations to reverse `length` steps from a stored
    initial carry within `memory` bytes of stored carries and kept tapes (the initial carry's
    bytes not included: the caller counts it), and the tables to build the plan from.

    Returns (cost, tables); cost >= INFEASIBLE when not even one tape fits.
    """
    units = max(0, memory) // carry_bytes
    remainder = max(0, memory) - units * carry_bytes
    cost = np.zeros((units + 1, length + 1), np.int64)
    split = np.zeros((units + 1, length + 1), np.int64)
    (_solver() if compiled else _solve)(length, units, remainder, carry_bytes, step_bytes,
                                        cost, split)
    return int(cost[units, length]), (cost, split)


def segment_actions(length, tables, memory_units=None):
    """The actions that reverse `length` steps as the solution says, from state 0 stored and
    current (the caller adds Snapshot(0) before and Free(0) after)."""
    cost, split = tables
    acts = []
    m0 = cost.shape[0] - 1 if memory_units is None else memory_units
    # (start, steps, memory units, the stored state to free first or None, whether to restore
    # the start first) of the parts still to reverse, the upper part of a split before its
    # lower part
    pending = [(0, length, m0, None, False)]
    while pending:
        start, n, m, stored, restore = pending.pop()
        if stored is not None:
            acts.append(Free(stored))
        if restore:
            acts.append(Restore(start))
        j = int(split[m, n])
        if j == 0:
            acts.append(Record(start, start + n))
            acts += [Reverse(i) for i in range(start + n - 1, start - 1, -1)]
            continue
        acts.append(Advance(start, start + j))
        if cost[m, n] == j + cost[m, j]:  # the upper part taped whole, no carry stored
            acts.append(Record(start + j, start + n))
            acts += [Reverse(i) for i in range(start + n - 1, start + j - 1, -1)]
            pending.append((start, j, m, None, True))
            continue
        acts.append(Snapshot(start + j))
        pending.append((start, j, m, start + j, True))  # after the upper part: free, restore
        pending.append((start + j, n - j, m - 1, None, False))
    return acts
