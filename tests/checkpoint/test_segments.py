"""Binomial checkpointing over segments: exact against brute force, valid plans, Budget's pick."""
import functools

import numpy as np
import pytest

from gpuad.checkpoint import Budget, EveryK, Revolve, binomial_cost, segments
from gpuad.checkpoint.actions import Free, Snapshot
from gpuad.checkpoint.plan import Plan
from gpuad.checkpoint.segments import INFEASIBLE, fewest_evaluations, segment_actions


def brute_force(length, memory, carry, tape):
    """Every plan the recursion allows, enumerated without a table or any pruning."""
    @functools.lru_cache(maxsize=None)
    def best(l, room):
        if l * tape <= room:
            return 0
        def upper(u):  # taped whole at once, or from a stored carry
            if u * tape <= room:
                return 0
            return best(u, room - carry) if room >= carry else INFEASIBLE
        return min([j + best(j, room) + upper(l - j) for j in range(1, l)],
                   default=INFEASIBLE)
    return best(length, memory)


@pytest.mark.parametrize("seed", range(6))
def test_matches_brute_force_and_plans_are_valid(seed):
    rng = np.random.default_rng(seed)
    for _ in range(40):
        carry, tape = int(rng.integers(1, 7)), int(rng.integers(1, 30))
        length, memory = int(rng.integers(1, 40)), int(rng.integers(0, 120))
        expected = brute_force(length, memory, carry, tape)
        got, tables = fewest_evaluations(length, memory, carry, tape, compiled=seed % 2 == 0)
        assert min(got, INFEASIBLE) == min(expected, INFEASIBLE), (length, memory, carry, tape)
        if got < INFEASIBLE:
            plan = Plan(length, [Snapshot(0)] + segment_actions(length, tables) + [Free(0)], "t")
            assert plan.forward_steps == got and plan.recorded_steps == length
            # the initial carry is stored beside the memory given
            assert plan.peak_bytes(carry, tape)["total"] <= memory + carry


def plain_table(length, memory, carry, tape):
    """The recursion's table filled without pruning: every split of every segment tried."""
    units, remainder = memory // carry, memory % carry
    cost = np.zeros((units + 1, length + 1), np.int64)
    smallest = np.zeros_like(cost)  # the smallest optimal split
    for m in range(units + 1):
        taped = (remainder + m * carry) // tape
        for l in range(taped + 1, length + 1):
            j = np.arange(1, l)
            upper = cost[m - 1, l - j] if m > 0 else np.full(l - 1, INFEASIBLE)
            values = j + cost[m, j] + np.where(l - j <= taped, 0, upper)
            values = np.minimum(values, INFEASIBLE)
            cost[m, l] = values.min(initial=INFEASIBLE)
            smallest[m, l] = j[values.argmin()] if l > 1 and cost[m, l] < INFEASIBLE else 0
    return cost, smallest


@pytest.mark.parametrize("compiled, width", [(True, segments.SCAN_WIDTH), (False, 1),
                                             (False, 3)])
def test_pruned_table_equals_the_plain_one(compiled, width, monkeypatch):
    # lengths where the split search bounds and halves ranges (wider than SCAN_WIDTH), and
    # in Python with narrower scans, so that the bounds decide nearly every range
    monkeypatch.setattr(segments, "SCAN_WIDTH", width)
    rng = np.random.default_rng(width)
    for _ in range(4 if compiled else 2):
        carry, tape = int(rng.integers(1, 9)), int(rng.integers(1, 40))
        length = int(rng.integers(60, 160 if compiled else 90))
        memory = int(rng.integers(tape, 40 * carry + 2 * tape))
        units = memory // carry
        cost, split = fewest_evaluations(length, memory, carry, tape, compiled=compiled)[1]
        want, smallest = plain_table(length, memory, carry, tape)
        for m in range(units + 1):  # the states a plan of `length` in `units` reaches
            reach = slice(0, max(0, length - (units - m)) + 1)
            assert (np.minimum(cost[m, reach], INFEASIBLE) == want[m, reach]).all(), m
            feasible = want[m, reach] < INFEASIBLE
            assert (split[m, reach][feasible] == smallest[m, reach][feasible]).all(), m


def test_generalises_revolve_and_every_k():
    # room for Revolve's snapshots and one tape: Revolve's optimum, or better where the room
    # of a carry holds a tape too; exactly Revolve's when a tape needs more than all of it
    for length, snapshots in ((30, 3), (100, 5), (57, 9)):
        cost, _ = fewest_evaluations(length, (snapshots - 1) * 10 + 10, 10, 10)
        assert cost <= binomial_cost(length, snapshots), (length, snapshots)
        cost, _ = fewest_evaluations(length, (snapshots - 1) + 10 * snapshots, 1, 10 * snapshots)
        assert cost == binomial_cost(length, snapshots), (length, snapshots)
    # tapes much larger than carries: never worse than EveryK at EveryK's own peak
    carry, tape, length = 64, 267, 1000
    for k in (16, 32, 48):
        plan = EveryK(k).plan(length)
        memory = plan.peak_bytes(carry, tape)["total"]
        cost, _ = fewest_evaluations(length, memory - carry, carry, tape)
        assert cost <= plan.forward_steps


def test_budget_beats_the_issue_example():
    """The LSTM of benchmarks/bptt.py (carry 64 KiB, tape ~267 KiB, T=1000) at 10% of StoreAll:
    the old Budget took Revolve(392) with 2606 step evaluations where EveryK(48) fits with
    1960; the new one is at least as good as every fixed schedule that fits."""
    carry, tape, length = 64 * 1024, 267 * 1024, 1000
    budget = Budget(int(length * tape * 0.10 / 0.95))
    plan = budget.plan(length, carry_bytes=carry, step_bytes=tape)
    assert budget.plan(length, carry_bytes=carry, step_bytes=tape + 8) is plan  # kept
    usable = int(budget.budget * 0.95)
    assert plan.peak_bytes(carry, tape)["total"] <= usable
    for fixed in [EveryK(k) for k in (8, 16, 24, 32, 48, 64)] + [Revolve(s) for s in
                                                                 (8, 64, 128, 300)]:
        other = fixed.plan(length)
        if other.peak_bytes(carry, tape)["total"] <= usable:
            assert plan.step_evaluations <= other.step_evaluations, fixed
    assert plan.step_evaluations <= 1960
    # (its planning time is a benchmark figure, benchmarks/README.md, not a unit test's)
