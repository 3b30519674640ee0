"""The cost of checking recomputed steps (`ga.config.recompute_check`) on benchmarks/bptt.py.

The same checkpointed value_and_grad (bptt.py's tanh RNN and LSTM, hidden 256, batch 32,
input 32, T=1000, float32) with recompute_check "exact" (the default on NumPy) and "off",
side by side in one process: each round runs both modes, in alternating order, so drifts of a
shared machine hit both alike. Reported: the median wall time of each mode, the median of the
per-round ratios exact/off (the figure to read: robust to slow drifts), and the same for the
process CPU time (what the process itself spent; other processes' load does not count), with
one BLAS thread. Target: the check costs at most 3% of a checkpointed run.

On a loaded shared machine the wall and CPU ratios of whole runs swing by more than the check
costs. `--inside` measures the check from inside the runs instead (the figure to read there):
`Checker.note`, `check` and `flush` wrapped with `time.process_time`, their CPU time divided by
the run's (mode "exact"), median over the rounds. `--against REV` adds the Checker of
verify.py at git revision REV (loaded from `git show REV:gpuad/checkpoint/verify.py` into a
temporary module and put where region.py and remat.py look it up), measured side by side with
this tree's, alternating. The wrapper's own cost (two process_time calls, about a microsecond
a call) is in those shares; the variant "wrapper alone" (a Checker whose methods do nothing)
measures it in the same runs, and the column "net" is each share less its median.

    python benchmarks/recompute_check.py [--rounds 7] [--models rnn,lstm] [--length 1000]
                                         [--schedules 'EveryK(32),Revolve(8)']
    python benchmarks/recompute_check.py --inside [--against main] [--rounds 3]
                                         [--schedules 'EveryK(32),Revolve(32),Revolve(8)']
"""
import argparse
import functools
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
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
WRAPPER = "wrapper alone"


def schedules(base_peak):
    from gpuad.checkpoint import Budget, EveryK, Online, Revolve
    return [("EveryK(32)", EveryK(32)), ("Revolve(32)", Revolve(32)), ("Revolve(8)", Revolve(8)),
            ("Online(32)", Online(32)), ("Budget(10%)", Budget(max(1, int(0.1 * base_peak))))]


def selected(model, args):
    """(label, run) for each schedule that --schedules selects: run() is one checkpointed
    value_and_grad of the model."""
    import gpuad as ga
    import gpuad.memory
    from gpuad.checkpoint import StoreAll
    loss, params, xs = gpuad_loss(model, args.length, args.hidden, args.batch, args.inputs)
    vg = ga.value_and_grad(loss)
    with gpuad.memory.track() as m:
        vg(params, xs, StoreAll())
    for label, schedule in schedules(m.peak_bytes):
        if not args.schedules or label in args.schedules.split(","):
            yield label, functools.partial(vg, params, xs, schedule)


def measure(model, args):
    from gpuad.config import config
    rows = []
    saved = config.recompute_check
    try:
        for label, run in selected(model, args):
            wall = {mode: [] for mode in MODES}
            cpu = {mode: [] for mode in MODES}
            try:
                for mode in MODES:  # warm-up, and the check passes (a pure step)
                    config.recompute_check = mode
                    run()
            except ValueError as exc:  # a Budget below one step's needs says so; report it
                print(f"  {model} {label}: {exc}", file=sys.stderr)
                continue
            for r in range(args.rounds):
                for mode in MODES if r % 2 == 0 else MODES[::-1]:
                    config.recompute_check = mode
                    t0, c0 = time.perf_counter(), time.process_time()
                    run()
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


class Inside:
    """Wraps a Checker class's note/check/flush to sum their CPU time (outermost calls only:
    `check` calls `note` on a step's first evaluation)."""

    def __init__(self, cls):
        self.cls = cls
        self.seconds = 0.0
        self.calls = 0
        self.depth = 0
        self.saved = {}

    def __enter__(self):
        clock = time.process_time
        for name in ("note", "check", "flush"):
            fn = self.saved[name] = getattr(self.cls, name)

            def timed(*args, _fn=fn):
                if self.depth:
                    return _fn(*args)
                self.depth = 1
                t0 = clock()
                try:
                    return _fn(*args)
                finally:
                    self.seconds += clock() - t0
                    self.calls += 1
                    self.depth = 0
            setattr(self.cls, name, timed)
        return self

    def __exit__(self, *exc):
        for name, fn in self.saved.items():
            setattr(self.cls, name, fn)


def wrapper_alone(cls):
    """A `cls` whose note, check and flush do nothing: what the wrapper costs in the runs."""
    def nothing(self, *args):
        pass
    return type("WrapperAlone", (cls,), {"note": nothing, "check": nothing, "flush": nothing})


def checker_at(rev):
    """The Checker class of gpuad/checkpoint/verify.py at git revision `rev`."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    source = subprocess.run(["git", "-C", root, "show", f"{rev}:gpuad/checkpoint/verify.py"],
                            check=True, capture_output=True, text=True).stdout
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(source)
    try:
        spec = importlib.util.spec_from_file_location("gpuad.checkpoint._verify_at_rev",
                                                      f.name)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        os.unlink(f.name)
    return module.Checker


def measure_inside(model, args, variants):
    """Rows of the check's CPU share per schedule, for each Checker class in `variants`."""
    from gpuad.checkpoint import region, remat
    from gpuad.config import config
    rows = []
    saved = config.recompute_check, region.Checker, remat.Checker
    config.recompute_check = "exact"
    try:
        for label, run in selected(model, args):
            share = {name: [] for name in variants}
            numbers = {name: [] for name in variants}
            try:
                run()  # warm-up
            except ValueError as exc:  # a Budget below one step's needs says so; report it
                print(f"  {model} {label}: {exc}", file=sys.stderr)
                continue
            names = list(variants)
            for r in range(args.rounds):
                for name in names if r % 2 == 0 else names[::-1]:
                    region.Checker = remat.Checker = variants[name]
                    with Inside(variants[name]) as inside:
                        c0 = time.process_time()
                        run()
                        spent = time.process_time() - c0
                    share[name].append(inside.seconds / spent)
                    numbers[name].append((inside.calls, inside.seconds, spent))
            wrapper = statistics.median(share.get(WRAPPER, [0.0]))
            for name in names:
                k = share[name].index(statistics.median_low(share[name]))
                calls, seconds, spent = numbers[name][k]
                rows.append([model, label, name,
                             f"{100 * share[name][k]:.1f}% ({100 * min(share[name]):.1f}"
                             f"-{100 * max(share[name]):.1f})",
                             "" if name == WRAPPER else
                             f"{100 * (statistics.median(share[name]) - wrapper):.1f}%",
                             str(calls), f"{1e3 * seconds:.0f} / {1e3 * spent:.0f}",
                             f"{1e6 * seconds / max(calls, 1):.1f}"])
                print(f"  {model} {label} {name}: {rows[-1][3]}", file=sys.stderr)
    finally:
        config.recompute_check, region.Checker, remat.Checker = saved
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
    parser.add_argument("--inside", action="store_true",
                        help="the check's own CPU time inside the runs (see the docstring)")
    parser.add_argument("--against", default=None, metavar="REV",
                        help="with --inside: also verify.py's Checker at git revision REV")
    args = parser.parse_args(argv)
    print(environment())
    if args.inside:
        from gpuad.checkpoint import verify
        variants = {"this tree": verify.Checker, WRAPPER: wrapper_alone(verify.Checker)}
        if args.against:
            variants = {args.against: checker_at(args.against), **variants}
        print(f"T={args.length}, hidden {args.hidden}, batch {args.batch}, input {args.inputs}, "
              f"float32, recompute_check 'exact'; {args.rounds} rounds, variants alternating")
        rows = []
        for model in args.models.split(","):
            rows += measure_inside(model, args, variants)
        print_table(["model", "schedule", "verify.py", "check's share of CPU time (range)",
                     "net", "check calls", "ms in the check / run", "us per call"], rows)
        return
    print(f"T={args.length}, hidden {args.hidden}, batch {args.batch}, input {args.inputs}, "
          f"float32; {args.rounds} rounds, each running both modes in alternating order")
    rows = []
    for model in args.models.split(","):
        rows += measure(model, args)
    print_table(["model", "schedule", "off (s)", "exact (s)", "check's cost (wall)",
                 "check's cost (CPU)", "per-round range (wall)"], rows)


if __name__ == "__main__":
    main()
