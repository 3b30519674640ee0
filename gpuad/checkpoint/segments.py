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
(length + 1) entries (those a plan can reach are filled); each entry's split search is a
branch and bound over ranges of splits (`_solve`) that drops only ranges that cannot hold a
better split, so the table stays exact: at T = 1000 with the LSTM of `bptt.py` at 10% of
StoreAll's peak (417 carry units), 27 ms of CPU against 185 ms for the scan it replaced that
stopped at the first j whose `j + F(j, m)` reached the best (`benchmarks/plan_time.py`).
"""
import numpy as np

from .actions import Advance, Free, Record, Restore, Reverse, Snapshot

# F(l, m) of an infeasible segment (fewer than one tape fits): larger than any plan's cost
INFEASIBLE = 1 << 40


# split ranges at most this wide are scanned, wider ones bounded and halved: a scan of a
# few dozen candidates is cheaper than bounding them, and the rows where many splits tie
# (Revolve-like, few carries' room) need them all looked at (`_solve`)
SCAN_WIDTH = 32


def _solve(length, units, remainder, carry_bytes, step_bytes, cost, split):
    """Fill cost[m, l] and split[m, l] (0: taped whole; else the smallest optimal split) for
    m <= units and the l <= length - (units - m) a plan of `length` steps in `units` can
    reach (each level down takes a carry's room and at least one step).

    For l past what m's room tapes whole (`taped`), the candidates are j in [1, l - taped]:
    any larger j tapes the upper part whole too but advances further. With
    A(j) = j + F(j, m) (increasing) and B(u) = F(u, m - 1), the split costs A(j) + B(l - j);
    on a range [a, b] of j that is at least

        max(F(a, m) + l + min_{a <= j <= b} (B(l - j) - (l - j)),  A(a) + B(l - b),  F(l - 1, m))

    (F(j, m) >= F(a, m); B is nondecreasing; and every split of l costs at least the same
    split of l - 1). A range whose bound cannot beat the best split found is dropped whole,
    others are halved, narrow ones scanned; the range minimum of B(u) - u comes from a
    sparse table of row m - 1, rebuilt per row. Exact: nothing is dropped that could be
    smaller, or equal at a smaller j.
    """
    levels = 1
    while (1 << levels) <= length:
        levels += 1
    log2 = np.zeros(length + 2, np.int64)  # log2[n] = floor(log2(n))
    for n in range(2, length + 2):
        log2[n] = log2[n >> 1] + 1
    sparse = np.zeros((levels, length + 1), np.int64)  # minima of B(u) - u over 2**k u's
    stack = np.zeros((2 * levels + 2, 2), np.int64)  # ranges of j still to bound
    for m in range(units + 1):
        reach = max(0, length - (units - m))
        taped = (remainder + m * carry_bytes) // step_bytes  # longest segment taped whole
        if m > 0:  # over the upper parts' lengths u < reach
            for u in range(reach):
                sparse[0, u] = cost[m - 1, u] - u
            for k in range(1, levels):
                half = 1 << (k - 1)
                for u in range(reach + 1 - (1 << k)):
                    sparse[k, u] = min(sparse[k - 1, u], sparse[k - 1, u + half])
        for l in range(1, reach + 1):
            if l <= taped or taped == 0:
                cost[m, l] = 0 if l <= taped else INFEASIBLE
                continue
            top = l - taped  # the upper part taped whole, nothing stored
            best = top + cost[m, top]
            at = top
            guess = split[m, l - 1]  # the previous length's split: often optimal again
            if m > 0 and 0 < guess < top:
                value = guess + cost[m, guess] + cost[m - 1, l - guess]
                if value <= best:
                    best = value
                    at = guess
            # no split of l costs less than F(l - 1, m); one that does at the previous
            # length's smallest optimal split is the smallest here too
            floor = cost[m, l - 1]
            n = 0
            if m > 0 and top > 1 and (best > floor or at != guess):
                stack[0, 0] = 1
                stack[0, 1] = top - 1
                n = 1
            while n:
                n -= 1
                a = stack[n, 0]
                b = stack[n, 1]
                if b - a < SCAN_WIDTH:
                    low = INFEASIBLE
                    for j in range(a, b + 1):
                        low = min(low, j + cost[m, j] + cost[m - 1, l - j])
                    if low < best or (low == best and a < at):
                        for j in range(a, b + 1):
                            if j + cost[m, j] + cost[m - 1, l - j] == low:
                                if low < best or j < at:
                                    best = low
                                    at = j
                                break
                    continue
                k = log2[b - a + 1]
                rest = min(sparse[k, l - b], sparse[k, l - a - (1 << k) + 1])
                bound = max(cost[m, a] + l + rest, a + cost[m, a] + cost[m - 1, l - b], floor)
                if bound > best or (bound == best and a >= at):
                    continue
                mid = (a + b) >> 1
                stack[n, 0] = mid + 1  # the lower half on top: searched first
                stack[n, 1] = b
                stack[n + 1, 0] = a
                stack[n + 1, 1] = mid
                n += 2
            cost[m, l] = best
            split[m, l] = at


_compiled = []


def _solver():
    """The table solver, compiled with Numba on first use (imported late: `import gpuad`
    stays fast, and only a Budget that has to split needs it; the compiled code is cached on
    disk). Plans are kept, so a training loop pays the table once (`benchmarks/plan_time.py`:
    15-35 ms of CPU at length 1000)."""
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
