"""Schedules as plans: valid action sequences, the proven optimum, the online bound, tiers."""
import functools
import itertools
import os

import numpy as np
import pytest

from gpuad.checkpoint.actions import Advance, Record, Reverse, Snapshot
from gpuad.checkpoint.plan import Plan, validate
from gpuad.checkpoint.schedules import (
    Budget,
    EveryK,
    Online,
    Revolve,
    StoreAll,
    Tiered,
    binomial_cost,
    online_lower_bounds,
)
from gpuad.checkpoint.storage import DiskStore, make_store
from gpuad.units import format_bytes, parse_bytes

LENGTHS = (1, 2, 3, 17, 100, 1000)


@functools.lru_cache(maxsize=None)
def brute_force(length, snapshots):
    """p(1,s)=0, p(l,1)=l(l-1)/2, p(l,s)=min_j j+p(l-j,s-1)+p(j,s): the minimum by definition."""
    if length == 1:
        return 0
    if snapshots == 1:
        return length * (length - 1) // 2
    return min(j + brute_force(length - j, snapshots - 1) + brute_force(j, snapshots)
               for j in range(1, length))


def test_revolve_reaches_the_proven_minimum():
    for snapshots in range(1, 11):
        for length in range(1, 201):
            plan = Revolve(snapshots).plan(length)
            assert plan.forward_steps == brute_force(length, snapshots), (length, snapshots)
            assert binomial_cost(length, snapshots) == plan.forward_steps
            assert plan.recorded_steps == length
            assert plan.peak_snapshots <= snapshots and plan.peak_tapes == 1


@pytest.mark.parametrize("length", LENGTHS)
def test_every_schedule_gives_a_valid_plan(length):
    schedules = [StoreAll(), EveryK(1), EveryK(7), Revolve(1), Revolve(4), Revolve(64),
                 Online(1), Online(2), Online(16), Budget(10**6), Tiered(3000, None)]
    for schedule in schedules:
        sizes = dict(carry_bytes=1000, step_bytes=5000) if getattr(
            schedule, "measures", False) else {}
        plan = schedule.plan(length, **sizes)
        counts = validate(plan.actions, length, online=isinstance(schedule, Online))
        assert counts["recorded_steps"] == length
        assert plan.forward_steps == counts["forward_steps"]
        assert repr(plan) and plan.table()


def test_store_all_and_every_k_costs():
    assert StoreAll().plan(50).forward_steps == 0 and StoreAll().plan(50).peak_tapes == 50
    one = EveryK(1).plan(50)
    assert one.forward_steps == 49 and one.peak_tapes == 1 and one.peak_snapshots == 49
    seg = EveryK(10).plan(50)
    assert seg.forward_steps == 40 and seg.peak_tapes == 10 and seg.peak_snapshots == 4


def test_online_stays_within_twice_the_optimum():
    for snapshots in (2, 3, 4, 8, 16, 32, 64):
        for length in list(range(1, 150)) + list(range(150, 2001, 131)):
            plan = Online(snapshots).plan(length)
            best = binomial_cost(length, snapshots)
            assert plan.forward_steps <= max(2 * best, best + 1), (snapshots, length)
            assert plan.peak_snapshots <= snapshots
            if length <= snapshots:
                assert plan.forward_steps == best + 1


def _exhaustive_online_bound(length, snapshots):
    """length + the cheapest reversal over every placement of the stored states."""
    best = brute_force(length, snapshots)  # nothing stored beyond state 0: Revolve from it
    for extra in range(1, min(snapshots, length)):
        for chosen in itertools.combinations(range(1, length), extra):
            bounds = (0,) + chosen + (length,)
            best = min(best, sum(brute_force(b - a, snapshots - k)
                                 for k, (a, b) in enumerate(zip(bounds, bounds[1:]))))
    return length + best


def test_online_with_one_slot_recomputes_from_the_start():
    """Online(1) keeps only the initial carry, as Revolve(1) does: the primal sweep, then each
    step recomputed from state 0, which is the best any schedule can do with one slot."""
    bounds = online_lower_bounds(60, 1)
    for length in range(1, 61):
        plan = Online(1).plan(length)
        assert plan.peak_snapshots == 1
        assert plan.forward_steps == length + binomial_cost(length, 1) == bounds[length]
    for bad in (0, -1, 1.5, "1"):
        with pytest.raises(ValueError, match="Online: snapshots must be a positive int"):
            Online(bad)


def test_online_lower_bound_is_the_best_placement():
    for snapshots in (2, 3, 4):
        bounds = online_lower_bounds(13, snapshots)
        for length in range(1, 14):
            assert bounds[length] == _exhaustive_online_bound(length, snapshots), (
                snapshots, length)
    with pytest.raises(ValueError, match="snapshots must be a positive int"):
        online_lower_bounds(10, 0)


@pytest.mark.parametrize("snapshots, within", [(2, 1.14), (3, 1.07), (4, 1.06), (5, 1.05),
                                               (8, 1.02), (16, 1.004)])
def test_online_reaches_the_lower_bound(snapshots, within):
    """Equal to the best any schedule can do without knowing the length, up to β(s, 2)."""
    bounds = online_lower_bounds(300, snapshots)
    limit = (snapshots + 1) * (snapshots + 2) // 2
    for length in range(1, 301):
        steps = Online(snapshots).plan(length).forward_steps
        assert bounds[length] <= steps <= within * bounds[length], (length, steps)
        if length <= limit:
            assert steps == bounds[length], length
            extra = 1 if length <= snapshots else 2 if length < limit else 3
            assert steps == binomial_cost(length, snapshots) + extra, length


def test_schedules_keep_their_last_plan():
    for schedule in (StoreAll(), EveryK(3), Revolve(4), Online(4)):
        first = schedule.plan(40)
        assert schedule.plan(40) is first  # a training loop asks again at every call
        other = schedule.plan(41)
        assert other.length == 41 and schedule.plan(40) is not first
    schedule = Revolve(4)
    before = schedule.plan(40)
    schedule.snapshots = 2  # changed settings: a new plan
    assert schedule.plan(40).forward_steps == binomial_cost(40, 2) != before.forward_steps


def test_online_policy_runs_step_by_step():
    policy = Online(4).start()
    for i in range(30):
        for act in policy.before_step(i):
            assert type(act).__name__ in ("Snapshot", "Free")
    backward = policy.finish(30)
    assert isinstance(backward[0], type(backward[0])) and policy.plan().length == 30


def test_budget_chooses_and_refuses():
    assert isinstance(Budget(10**6).choose(100, 1000, 5000), StoreAll)
    budget = Budget(50_000)  # 95% usable: 47500 bytes
    plan = budget.plan(100, carry_bytes=1000, step_bytes=5000)
    assert plan.peak_bytes(1000, 5000)["total"] <= 47_500
    # at least as good as Revolve with the most snapshots beside one tape, and EveryK
    assert plan.step_evaluations <= Revolve(42).plan(100).step_evaluations
    assert budget.name.startswith("Budget(") and "Segments(" in budget.name
    with pytest.raises(ValueError, match="need at least 7369 bytes"):
        Budget(7000).plan(100, carry_bytes=1000, step_bytes=5000, other_bytes=1000)
    with pytest.raises(TypeError, match="needs carry_bytes"):
        Budget("1MB").plan(10)


def test_tiered_puts_overflow_in_the_slow_tier():
    plan = Tiered(fast=3000, slow=None).plan(40, carry_bytes=1000, step_bytes=10)
    assert plan.peak_by_tier["fast"] <= 3 and plan.peak_by_tier["slow"] > 0
    assert plan.slow_writes > 0 and plan.slow_reads > 0
    tiers = {a.tier for a in plan.actions if isinstance(a, Snapshot)}
    assert tiers == {"fast", "slow"}


def test_validate_names_the_bad_action():
    with pytest.raises(ValueError, match="action 1"):
        validate([Record(0, 2), Reverse(0)], 2)
    with pytest.raises(ValueError, match="never reversed"):
        validate([Record(0, 2), Reverse(1)], 2)
    with pytest.raises(ValueError, match="without the last step's tape"):
        validate([Advance(0, 2)], 2)
    assert Plan(2, [Record(0, 2), Reverse(1), Reverse(0)], "by hand").peak_tapes == 2


def test_units():
    assert parse_bytes("512MB") == 512 * 10**6 and parse_bytes("2GiB") == 2 * 2**30
    assert parse_bytes("1.5 kb") == 1500 and parse_bytes(300) == 300
    for bad in ("12 parsecs", "", "-3MB"):
        with pytest.raises(ValueError, match="512MB"):
            parse_bytes(bad)
    assert format_bytes(3 * 2**30) == "3.00 GiB" and format_bytes(10) == "10 B"


def test_disk_store_round_trip_and_cleanup():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal(5).astype(np.float32)
    with make_store("slow", np) as store:
        assert isinstance(store, DiskStore)
        directory = store.directory
        store.put(0, [a, 7, b])
        got = store.get(0)
        np.testing.assert_array_equal(got[0], a)
        assert got[1] == 7 and got[2].dtype == np.float32
        assert len(os.listdir(directory)) == 2
        store.free(0)
        assert os.listdir(directory) == []
        store.put(1, [a])
    assert not os.path.exists(directory)

    with pytest.raises(RuntimeError):
        with DiskStore() as store:
            directory = store.directory
            store.put(0, [a])
            raise RuntimeError("step failed")
    assert not os.path.exists(directory)


@pytest.mark.parametrize("seed", range(3))
def test_budget_smallest_is_the_least_accepted(seed):
    """`Budget.smallest` is exactly the threshold `choose` applies (headroom and rounding
    included), for sizes of any magnitude, and the refusal below it names that number."""
    rng = np.random.default_rng(seed)
    for _ in range(200):
        carry, tape = (int(v) for v in rng.integers(1, 10**7, size=2))
        other = int(rng.integers(0, 10**8))
        least = Budget.smallest(carry, tape, other)
        length = 10**6  # long enough that StoreAll never fits
        assert Budget(least).choose(length, carry, tape, other) is not None
        with pytest.raises(ValueError, match=f"need at least {least} bytes"):
            Budget(least - 1).choose(length, carry, tape, other)


@pytest.mark.parametrize("unseen", [0, 7, 512])
def test_budget_keeps_the_unseen_bytes_of_each_step_free(unseen):
    """Sizes measured on the host carry `unseen_step_bytes`: a recomputing plan's segments
    get that much less per step, and the least budget named counts it."""
    carry, tape, other, length = 1000, 9000, 50_000, 400
    budget = Budget(2_000_000)
    chosen = budget.choose(length, carry, tape, other, unseen_step_bytes=unseen)
    usable = int(budget.budget * (1 - Budget.HEADROOM))
    assert chosen.memory == usable - other - length * unseen
    plan = budget.plan(length, carry_bytes=carry, step_bytes=tape, other_bytes=other,
                       unseen_step_bytes=unseen)
    assert plan.peak_bytes(carry, tape)["total"] <= usable - other - length * unseen
    least = Budget.smallest(carry, tape, other + length * unseen)
    assert Budget(least).choose(length, carry, tape, other, unseen_step_bytes=unseen)
    with pytest.raises(ValueError, match=f"need at least {least} bytes"):
        Budget(least - 1).choose(length, carry, tape, other, unseen_step_bytes=unseen)


# a schedule given the wrong way: (value, words the error must contain)
_NOT_SCHEDULES = [
    ("revolve", ["the string 'revolve'", "Revolve(8)"]),
    ("Online()", ["the string 'Online()'", "Online(8)"]),
    ("fastest", ["the string 'fastest'", "objects, not names"]),
    (Revolve, ["the class Revolve, not a schedule", "make one: Revolve(8)"]),
    (Budget, ["the class Budget", 'Budget("512MB")']),
    (8, ["the int 8", "Revolve(8)", "Online(8)", "EveryK(8)"]),
    (Revolve(3).plan(10), ["a Plan", "the schedule that made it (Revolve(3))"]),
    (2.5, ["2.5 of type float"]),
    (dict, ["the class dict", "pass a schedule object"]),
]


@pytest.mark.parametrize("op", ["scan", "while_loop", "forecast", "Tiered"])
@pytest.mark.parametrize("value, words", _NOT_SCHEDULES,
                         ids=[repr(v)[:20] for v, _ in _NOT_SCHEDULES])
def test_a_schedule_given_the_wrong_way_is_a_clear_type_error(op, value, words):
    from gpuad.checkpoint import forecast, scan, while_loop
    calls = {
        "scan": lambda: scan(lambda c, x: (c + x, None), 0.0, np.ones(3), schedule=value),
        "while_loop": lambda: while_loop(lambda c: c < 3, lambda c: c + 1, 0, schedule=value),
        "forecast": lambda: forecast(lambda c, x: (c + x, None), np.zeros(2), np.ones((3, 2)),
                                     schedule=value),
        "Tiered": lambda: Tiered("1MB", schedule=value),
    }
    with pytest.raises(TypeError) as info:
        calls[op]()
    message = str(info.value)
    assert message.startswith(f"{op}: schedule= got ")
    for w in words + ["Segments(", "StoreAll()"]:
        assert w in message, (w, message)


def test_every_schedule_passes_the_check():
    from gpuad.checkpoint.schedules import Segments, check_schedule
    for schedule in (StoreAll(), EveryK(2), Revolve(2), Budget("1MB"), Online(1),
                     Tiered("1MB"), Segments(10**5, 100, 1000)):
        assert check_schedule("scan", schedule) is schedule
