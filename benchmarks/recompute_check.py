"""The cost of checking recomputed steps (`ga.config.recompute_check`) on benchmarks/bptt.py.

The same checkpointed value_and_grad (bptt.py's tanh RNN and LSTM, hidden 256, batch 32,
input 32, T=1000, float32) with recompute_check "exact" (the default on NumPy) and "off",
side by side in one process: each round runs both modes, in alternating order, so drifts of a
shared machine hit both alike. Reported: the median wall time of each mode, the median of the
per-round ratios exact/off (the figure to read: robust to slow drifts), and the same for the
process CPU time (what the process itself spent; other processes' load does not count), with
one BLAS thread. Target: the check costs at most 3% of a checkpointed run.

    python benchmarks/recompute_check.py [--rounds 7] [--models rnn,lstm] [--length 1000]
                                         [--schedules 'EveryK(32),Revolve(8)']
"""
import argparse
import os
import statistics
import sys
import time

# One BLAS thread (unless set): on a shared 2-core machine OpenBLAS's threads spin against the
# other processes, and a run took 20x longer (25 s instead of 1 s wall for StoreAll) with
# ratios lost in the noise. Set before NumPy is imported (by bptt).
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bptt import gpuad_loss  # noqa: E402
from timing import environment, print_table  # noqa: E402

MODES = ("exact", "off")


def schedules(base_peak):
    from gpuad.checkpoint import Budget, EveryK, Online, Revolve
    return [("EveryK(32)", EveryK(32)), ("Revolve(32)", Revolve(32)), ("Revolve(8)", Revolve(8)),
            ("Online(32)", Online(32)), ("Budget(10%)", Budget(max(1, int(0.1 * base_peak))))]


def measure(model, args):
    import gpuad as ga
    import gpuad.memory
    from gpuad.checkpoint import StoreAll
    from gpuad.config import config
    loss, params, xs = gpuad_loss(model, args.length, args.hidden, args.batch, args.inputs)
    vg = ga.value_and_grad(loss)
    with gpuad.memory.track() as m:
        vg(params, xs, StoreAll())
    rows = []
    saved = config.recompute_check
    try:
        for label, schedule in schedules(m.peak_bytes):
            if args.schedules and label not in args.schedules.split(","):
                continue
            wall = {mode: [] for mode in MODES}
            cpu = {mode: [] for mode in MODES}
            try:
                for mode in MODES:  # warm-up, and the check passes (a pure step)
                    config.recompute_check = mode
                    vg(params, xs, schedule)
            except ValueError as exc:  # a Budget below one step's needs says so; report it
                print(f"  {model} {label}: {exc}", file=sys.stderr)
                continue
            for r in range(args.rounds):
                for mode in MODES if r % 2 == 0 else MODES[::-1]:
                    config.recompute_check = mode
                    t0, c0 = time.perf_counter(), time.process_time()
                    vg(params, xs, schedule)
                    wall[mode].append(time.perf_counter() - t0)
                    cpu[mode].append(time.process_time() - c0)
            ratio = [a / b for a, b in zip(wall["exact"], wall["off"])]
            cpu_ratio = [a / b for a, b in zip(cpu["exact"], cpu["off"])]
            rows.append([model, label, f"{statistics.median(wall['off']):.3f}",
                         f"{statistics.median(wall['exact']):.3f}",
                         f"{100 * (statistics.median(ratio) - 1):+.1f}%",
                         f"{100 * (statistics.median(cpu_ratio) - 1):+.1f}%",
                         f"{100 * (min(ratio) - 1):+.1f}% .. {100 * (max(ratio) - 1):+.1f}%"])
            print(f"  {model} {label}: {rows[-1][4]}", file=sys.stderr)
    finally:
        config.recompute_check = saved
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=1000)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--inputs", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--models", default="rnn,lstm")
    parser.add_argument("--schedules", default=None,
                        help="comma-separated labels, e.g. 'EveryK(32),Revolve(8)' (default: all)")
    args = parser.parse_args(argv)
    print(environment())
    print(f"T={args.length}, hidden {args.hidden}, batch {args.batch}, input {args.inputs}, "
          f"float32; {args.rounds} rounds, each running both modes in alternating order")
    rows = []
    for model in args.models.split(","):
        rows += measure(model, args)
    print_table(["model", "schedule", "off (s)", "exact (s)", "check's cost (wall)",
                 "check's cost (CPU)", "per-round range (wall)"], rows)


if __name__ == "__main__":
    main()
