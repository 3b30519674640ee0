"""One training step of the experiment's LSTM under each schedule: time (median and range of
repeats), peak memory, step evaluations, and the gradient's difference from storing
everything."""
import math
import statistics
import time

import numpy as np

import gpuad as ga
from gpuad import memory
from gpuad.checkpoint import Budget, EveryK, Online, Revolve, StoreAll
from gpuad.checkpoint.schedules import kept_tape_bytes

from .model import loss
from .options import every_k, revolve_snapshots


def schedules_for(names, length, budget_bytes):
    """(label, schedule) pairs for one length, StoreAll first."""
    out = []
    for name in names:
        if name == "storeall":
            out.append(("StoreAll", StoreAll()))
        elif name == "everyk":
            k = every_k(length)
            out.append((f"EveryK({k})", EveryK(k)))
        elif name == "revolve":
            out += [(f"Revolve({s})", Revolve(s)) for s in revolve_snapshots(length)]
        elif name == "budget":
            out.append((f"Budget({_short(budget_bytes)})", Budget(budget_bytes)))
        elif name == "online":
            s = min(32, max(2, length // 4))
            out.append((f"Online({s})", Online(s)))
    return out


def _short(n):
    from gpuad.checkpoint import format_bytes
    return format_bytes(n).replace(" ", "")


def one_step(params, xs, targets, schedule):
    """value_and_grad of the loss: (seconds, value, grads, step evaluations)."""
    counter = [0]
    start = time.perf_counter()
    value, grads = ga.value_and_grad(loss)(params, xs, targets, schedule, counter)
    ga.backend.synchronize(ga.backend.namespace(xs))
    return time.perf_counter() - start, value, grads, counter[0]


def peak_bytes(params, xs, targets, schedule):
    """Peak memory of one value_and_grad (a separate run: tracking slows the allocator)."""
    with memory.track() as m:
        ga.value_and_grad(loss)(params, xs, targets, schedule)
    return m.peak_bytes


def max_difference(grads, reference):
    return max(float(np.max(np.abs(ga.to_numpy(g) - ga.to_numpy(r))))
               for g, r in zip(ga.tree_leaves(grads), ga.tree_leaves(reference)))


def measure_schedule(params, xs, targets, schedule, repeats):
    """One warm-up, then `repeats` timed runs and one tracked run: the warm-up pays for
    compilation, plan building and first-touch of memory, which inflate a cold run's time and
    peak (the peak is measured after it for that reason)."""
    one_step(params, xs, targets, schedule)
    runs = [one_step(params, xs, targets, schedule) for _ in range(repeats)]
    seconds = [r[0] for r in runs]
    _, value, grads, steps = runs[0]
    return {"seconds": statistics.median(seconds), "seconds_min": min(seconds),
            "seconds_max": max(seconds), "seconds_all": seconds,
            "peak_bytes": int(peak_bytes(params, xs, targets, schedule)),
            "step_evaluations": steps, "loss": float(value)}, grads


def measure_length(params, xs, targets, names, budget_fraction, repeats=1, progress=None):
    """Rows of the table for one sequence length; Budget gets `budget_fraction` of StoreAll's
    measured peak, raised to the smallest budget that fits (`smallest_budget`)."""
    length = len(xs)
    base, reference = measure_schedule(params, xs, targets, StoreAll(), repeats)
    budget = max(int(base["peak_bytes"] * budget_fraction),
                 smallest_budget(params, xs, targets))
    rows = []
    for label, schedule in schedules_for(names, length, budget):
        if label == "StoreAll":
            row, grads = base, reference
        else:
            row, grads = measure_schedule(params, xs, targets, schedule, repeats)
        row.update(length=length, schedule=label,
                   time_vs_storeall=row["seconds"] / base["seconds"],
                   time_vs_storeall_min=row["seconds_min"] / base["seconds"],
                   time_vs_storeall_max=row["seconds_max"] / base["seconds"],
                   memory_saved=1.0 - row["peak_bytes"] / base["peak_bytes"],
                   grad_max_diff=max_difference(grads, reference),
                   chosen=repr(schedule.chosen) if isinstance(schedule, Budget) else None,
                   budget_bytes=budget if isinstance(schedule, Budget) else None)
        rows.append(row)
        if progress is not None:
            progress.update(1)
    return rows


def smallest_budget(params, xs, targets):
    """The least `Budget` the experiment's loss accepts on `xs` (T, batch, 2), in bytes: the
    sizes `scan` measures on the first step for Budget (a probe schedule takes them and stops
    the scan before it runs), given to `Budget.smallest`. The larger of two warm probes, plus 1% and
    4 KiB: the sizes vary between calls by a few hundred bytes of Python objects (one step's
    tape 7.8-8.2 KiB for hidden 16, batch 8; 18.1-18.6 KiB for hidden 64), and a budget this
    function passes must not fail in the run."""
    sizes = {}
    for k in range(3):  # the first probe is a warm-up: a cold step's tape is up to 1.8x larger
        try:
            ga.value_and_grad(loss)(params, xs, targets, _Probe())
        except _Measured as measured:
            if k:
                sizes = {k: max(v, sizes.get(k, 0)) for k, v in measured.sizes.items()}
    return math.ceil(1.01 * Budget.smallest(**sizes)) + 4096


class _Measured(Exception):
    def __init__(self, sizes):
        super().__init__("sizes measured")
        self.sizes = sizes


class _Probe:
    """A schedule that only takes the sizes `scan` measures for it (see `Schedule`)."""
    measures = True

    def plan(self, length, carry_bytes, step_bytes, other_bytes=0, **profile):
        # `profile`: the forward-phase sizes scan measures too (forward_step_bytes, ...);
        # Budget.smallest needs only these three, with the margin Budget keeps per step
        # beside a recomputing plan counted with the outputs
        margin = length * profile.get("unseen_step_bytes", 0)
        # one kept tape, as Budget counts it (less what it takes from the freelists)
        tape = kept_tape_bytes(step_bytes, profile.get("reused_step_bytes", 0), step_bytes)
        raise _Measured({"carry_bytes": carry_bytes, "step_bytes": tape,
                         "other_bytes": other_bytes + margin})


def learning_verdict(losses):
    """Whether the training curve fell: the mean loss of its last tenth against its first
    tenth, in standard errors of their difference (learning when > 2). One batch's loss is
    noisy (each step draws a new batch); a tenth of the curve averages that out. Returns
    (first mean, last mean, standard errors, learning)."""
    window = max(2, len(losses) // 10)
    if len(losses) < 2 * window:
        first = last = float(np.mean(losses))
        return first, last, 0.0, False
    a, b = np.asarray(losses[:window]), np.asarray(losses[-window:])
    se = math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    drop = float(a.mean() - b.mean())
    z = drop / se if se > 0 else (math.inf if drop > 0 else 0.0)
    return float(a.mean()), float(b.mean()), z, z > 2
