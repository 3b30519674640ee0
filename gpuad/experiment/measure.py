"""One training step of the experiment's LSTM under each schedule: time, memory, steps, and
the gradient's difference from storing everything."""
import time

import numpy as np

import gpuad as ga
from gpuad import memory
from gpuad.checkpoint import Budget, EveryK, Online, Revolve, StoreAll

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


def measure_length(params, xs, targets, names, budget_fraction, progress=None):
    """Rows of the table for one sequence length."""
    length = len(xs)
    base_peak = peak_bytes(params, xs, targets, StoreAll())
    budget = feasible_budget(params, xs, targets, int(base_peak * budget_fraction))
    rows, reference = [], None
    for label, schedule in schedules_for(names, length, budget):
        one_step(params, xs, targets, schedule)  # warm-up: caches, first-touch of memory
        seconds, value, grads, steps = min(
            (one_step(params, xs, targets, schedule) for _ in range(2)), key=lambda r: r[0])
        if reference is None:
            reference, base_seconds = grads, seconds
        peak = base_peak if label == "StoreAll" else peak_bytes(params, xs, targets, schedule)
        rows.append({"length": length, "schedule": label, "seconds": seconds,
                     "time_vs_storeall": seconds / base_seconds, "peak_bytes": int(peak),
                     "memory_saved": 1.0 - peak / base_peak, "step_evaluations": steps,
                     "grad_max_diff": max_difference(grads, reference), "loss": float(value),
                     "chosen": repr(schedule.chosen) if isinstance(schedule, Budget) else None})
        if progress is not None:
            progress.update(1)
    return rows


def feasible_budget(params, xs, targets, budget):
    """`budget`, raised (doubling) where one step's temporaries alone exceed it: at small sizes
    a fixed fraction of StoreAll's peak cannot hold even one step."""
    for _ in range(12):
        try:
            ga.value_and_grad(loss)(params, xs, targets, Budget(budget))
            return budget
        except ValueError as exc:
            if "too small" not in str(exc):
                raise
            budget *= 2
    return budget
