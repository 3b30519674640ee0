"""How long `Budget` takes to build a plan: the segment table of `segments.py` at T = 1000.

The LSTM of `bptt.py` (a carry 64 KiB, a step's tape 267 KiB) at 5%, 10% and 25% of StoreAll's
tapes (the budget Budget plans carries and tapes in), and the whole `Budget.plan` at 10%
(StoreAll's check, the table, the actions). Medians of 5 calls after a warm-up call (Numba's
compiled solver loaded from its cache), wall (`perf_counter`) and CPU (`process_time`) with
the 1-minute load average: these machines are shared, so CPU time is the steadier figure.
Target (issue 17): under 50 ms.

    python benchmarks/plan_time.py [--length 1000]
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import environment, print_table  # noqa: E402

CARRY, TAPE = 64 * 1024, 267 * 1024


def median_times(fn, repeats=5):
    """(wall, cpu) medians in seconds of `repeats` calls of fn, after one untimed call."""
    fn()
    wall, cpu = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return statistics.median(wall), statistics.median(cpu)


def main():
    from gpuad.checkpoint import Budget
    from gpuad.checkpoint.segments import fewest_evaluations
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=1000)
    args = parser.parse_args()
    length = args.length
    print(environment())
    rows = []
    for share in (0.05, 0.10, 0.25):
        memory = int(length * TAPE * share) - CARRY
        cost, _ = fewest_evaluations(length, memory, CARRY, TAPE)
        wall, cpu = median_times(lambda: fewest_evaluations(length, memory, CARRY, TAPE))
        rows.append([f"table, {share:.0%}", memory // CARRY, cost, f"{wall * 1e3:.1f}",
                     f"{cpu * 1e3:.1f}", f"{os.getloadavg()[0]:.1f}"])
    budget = int(length * TAPE * 0.10 / (1 - Budget.HEADROOM))

    def plan():  # a new Budget each call: no kept plan
        return Budget(budget).plan(length, carry_bytes=CARRY, step_bytes=TAPE)

    wall, cpu = median_times(plan)
    rows.append(["Budget.plan, 10%", "", plan().forward_steps, f"{wall * 1e3:.1f}",
                 f"{cpu * 1e3:.1f}", f"{os.getloadavg()[0]:.1f}"])
    print_table(["what", "carry units", "untaped steps", "wall ms", "CPU ms", "load"], rows)


if __name__ == "__main__":
    main()
