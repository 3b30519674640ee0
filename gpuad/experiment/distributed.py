"""`python -m gpuad --ranks N`: the BPTT experiment with each sequence's time axis split over N
MPI ranks (`gpuad.checkpoint.scan(..., comm=)`).

Outside MPI, `launch` starts `mpiexec -n N` on this same command line (MPICH's mpiexec from the
`distributed` extra, one BLAS thread per rank: the ranks share the cores). Inside, `run` measures
for each length and schedule: one rank's gradient on the whole sequence (rank 0, the others
waiting), then the N ranks' sequence-parallel gradient, its time, the largest peak memory of a
rank (`gpuad.memory`), and the gradient's largest difference from the one-rank run. Rank 0
prints the table and writes OUT/distributed.json. (The training run and the plots of the
one-process experiment are left out.)
"""
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import time

import gpuad as ga
from gpuad import memory

from .data import batch
from .measure import max_difference, schedules_for, smallest_budget
from .model import init_params, loss
from .options import OptionError

BUDGET_FRACTION = 0.10  # of one rank's StoreAll peak, for Budget's rows (as cli.BUDGET_FRACTION)


def mpiexec():
    """The mpiexec beside this Python (where `pip install gpuad[distributed]` puts MPICH's),
    else the one on PATH, else None."""
    here = os.path.join(sysconfig.get_path("scripts"), "mpiexec")
    return here if os.access(here, os.X_OK) else shutil.which("mpiexec")


def check_launch(ranks):
    """OptionError (one line) where `--ranks` cannot run: no mpiexec or no mpi4py outside a
    launcher, or a launcher that started another number of ranks."""
    import gpuad.distributed as gd
    if gd.launched_under_mpi():
        size = gd.world().size
        if size != ranks:
            raise OptionError(f"--ranks {ranks}: started by a launcher with {size} ranks; "
                              f"give --ranks {size}, or run python -m gpuad --ranks {ranks} "
                              f"outside mpiexec (it starts mpiexec itself)")
        return
    missing = [what for what, ok in (("mpiexec", mpiexec() is not None),
                                     ("mpi4py", importlib.util.find_spec("mpi4py") is not None))
               if not ok]
    if missing:
        raise OptionError(f"--ranks {ranks}: needs {' and '.join(missing)}, not installed: "
                          f"pip install 'gpuad[distributed]' (mpi4py and MPICH)")


def launch(ranks, argv):
    """Run `python -m gpuad argv` on `ranks` ranks under mpiexec; its exit status."""
    env = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(name, "1")
    command = [mpiexec(), "-n", str(ranks), sys.executable, "-m", "gpuad", *argv]
    print(f"starting {' '.join(command[:3])} python -m gpuad ...", flush=True)
    return subprocess.run(command, env=env).returncode


def run(args):
    import gpuad.distributed as gd
    comm = gd.world()
    started = time.perf_counter()
    say = print if comm.rank == 0 else (lambda *a, **k: None)
    say(f"gpuad sequence-parallel BPTT on {comm.size} ranks ({ga.get_backend()}): LSTM hidden "
        f"{args.hidden}, batch {args.batch}, microbatches {args.microbatches}, adding problem, "
        f"float32; each rank scans its chunk of the time axis under the schedule; times: "
        f"median of {args.repeats} after a warm-up")
    params = init_params(args.hidden, seed=args.seed)
    rows = []
    for length in args.lengths:
        xs, targets = batch(args.batch, length, args.seed)
        chunk = gd.shard(xs, comm=comm)
        base = _one_rank(comm, params, xs, targets, ga.checkpoint.StoreAll(), args.repeats)
        budget = max(int(base["peak_bytes"] * BUDGET_FRACTION),
                     smallest_budget(params, chunk, targets))
        for label, schedule in schedules_for(args.schedules, length, budget):
            one = base if label == "StoreAll" else _one_rank(comm, params, xs, targets,
                                                              schedule, args.repeats)
            many = _ranks(comm, params, chunk, targets, schedule, args.microbatches,
                          args.repeats, one.pop("grads", None))
            rows.append({"length": length, "schedule": label, "ranks": comm.size,
                         "microbatches": args.microbatches, "one_rank": one, **many})
            base.pop("grads", None)
    if comm.rank == 0:
        print(table(rows))
        worst = max(r["grad_max_diff"] for r in rows)
        print(f"largest gradient difference from one rank: {worst:.1e} (float32; the ranks' "
              f"shares are summed in another order)")
        os.makedirs(args.out, exist_ok=True)
        path = os.path.join(args.out, "distributed.json")
        with open(path, "w") as f:
            json.dump({"ranks": comm.size, "microbatches": args.microbatches,
                       "hidden": args.hidden, "batch": args.batch, "repeats": args.repeats,
                       "steps": rows, "seconds": time.perf_counter() - started}, f, indent=1)
        print(f"done in {time.perf_counter() - started:.0f} s. Results: {path}")
    return 0


def _timed(fn, repeats, comm):
    fn()  # warm-up: plans, first touch of memory
    seconds = []
    for _ in range(repeats):
        comm.engine.allgather_obj(None)  # start together
        start = time.perf_counter()
        out = fn()
        seconds.append(time.perf_counter() - start)
    with memory.track() as m:
        fn()
    return out, statistics.median(seconds), m.peak_bytes


def _one_rank(comm, params, xs, targets, schedule, repeats):
    """One process's gradient of the whole sequence, on rank 0 (the reference); the others
    wait. Its gradient goes to every rank."""
    row = {}
    if comm.rank == 0:
        grads, row["seconds"], row["peak_bytes"] = _timed(
            lambda: ga.grad(loss)(params, xs, targets, schedule), repeats, _Alone())
    grads, row = comm.mpi.bcast((grads, row) if comm.rank == 0 else None, root=0) \
        if comm.mpi is not None else (grads, row)
    row["grads"] = grads
    return row


class _Alone:
    """Stands in for a communicator in `_timed` where one rank runs alone."""
    class engine:
        @staticmethod
        def allgather_obj(obj):
            return [obj]


def _ranks(comm, params, chunk, targets, schedule, microbatches, repeats, reference):
    import gpuad.distributed as gd

    def gradient():
        share = ga.grad(loss)(params, chunk, targets, schedule, None, comm, microbatches)
        # each rank seeded its own copy of the (replicated) loss: the mean of the shares is
        # the gradient of the whole (gd.sequence.scan's docstring)
        return ga.tree_map(lambda g: gd.allreduce(g, "mean", comm=comm), share)

    grads, seconds, peak = _timed(gradient, repeats, comm)
    peaks = comm.engine.allgather_obj(int(peak))
    seconds = max(comm.engine.allgather_obj(seconds))
    return {"seconds": seconds, "peak_bytes_per_rank": max(peaks), "peaks": peaks,
            "grad_max_diff": max_difference(grads, reference)}


def table(rows):
    head = ("T", "schedule", "1 rank s", f"{rows[0]['ranks']} ranks s", "speed-up",
            "1 rank peak", "peak per rank", "peak ratio", "grad diff")
    from gpuad.checkpoint import format_bytes
    lines = [head]
    for r in rows:
        one = r["one_rank"]
        lines.append((str(r["length"]), r["schedule"], f"{one['seconds']:.3f}",
                      f"{r['seconds']:.3f}", f"{one['seconds'] / r['seconds']:.2f}x",
                      format_bytes(one["peak_bytes"]), format_bytes(r["peak_bytes_per_rank"]),
                      f"{r['peak_bytes_per_rank'] / one['peak_bytes']:.2f}",
                      f"{r['grad_max_diff']:.1e}"))
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(line, widths)) for line in lines)
