"""`forecast`: what a schedule will cost, from one step, before anything long runs."""
import time

import numpy as np

from ..reverse import ReverseTrace, backward
from ..trace import primal_value
from ..tree import tree_flatten
from .executor import Body, _length
from .replay import differentiable, leaf_bytes, residual_bytes


class Forecast:
    """The predicted cost of `scan(step, ...)` under a schedule's plan, against StoreAll.

    Attributes: `plan` and `store_all_plan`; `carry_bytes`, `step_bytes` (one step's tape),
    `outputs_bytes` (the stacked ys); `peak_bytes` and `store_all_peak_bytes` (dicts per storage
    tier, with "total"); `step_evaluations` and `store_all_step_evaluations`; the measured
    seconds of one step without a tape (`advance_s`), with one (`record_s`) and of its backward
    (`backward_s`); and `slowdown`, the predicted time of value_and_grad relative to StoreAll's.
    """

    def __init__(self, **fields):
        self.__dict__.update(fields)

    @property
    def memory_saved(self):
        """Fraction of StoreAll's peak that the schedule does not need."""
        return 1.0 - self.peak_bytes["total"] / self.store_all_peak_bytes["total"]

    def table(self):
        from .units import format_bytes
        rows = [("schedule", repr(self.plan_schedule), "StoreAll()"),
                ("length", str(self.length), str(self.length)),
                ("step evaluations", str(self.step_evaluations),
                 str(self.store_all_step_evaluations))]
        tiers = sorted(set(self.peak_bytes) | set(self.store_all_peak_bytes))
        for tier in tiers:
            rows.append((f"peak bytes: {tier}", format_bytes(self.peak_bytes.get(tier, 0)),
                         format_bytes(self.store_all_peak_bytes.get(tier, 0))))
        rows.append(("predicted time vs StoreAll", f"{self.slowdown:.2f}x", "1.00x"))
        rows.append(("memory saved vs StoreAll", f"{100 * self.memory_saved:.1f}%", "0%"))
        width = max(len(r[0]) for r in rows)
        w1 = max(len(r[1]) for r in rows)
        return "\n".join(f"{a:<{width}}  {b:>{w1}}  {c}" for a, b, c in rows)

    def __repr__(self):
        return f"Forecast(\n{self.table()}\n)"


def forecast(step, init, xs=None, length=None, schedule=None):
    """Predict the memory and time of differentiating `scan(step, init, xs, length, schedule)`
    without running it: one step is evaluated (a few times, on a private tape) to measure the
    carry's and the step tape's bytes and the step's forward and backward times; the schedule's
    plan then gives the peak bytes per storage tier, the step evaluations and the expected
    slowdown against StoreAll.

    Parameters the step closes over are constants in this dry run, so their gradient work is
    not timed; the prediction of the slowdown is slightly pessimistic for that reason.

        >>> fc = forecast(step, h0, xs, schedule=Revolve(16))
        >>> fc.peak_bytes["total"], fc.slowdown
    """
    from .schedules import StoreAll
    xs_leaves, xs_def = tree_flatten(xs)
    n = _length("forecast", xs_leaves, length)
    if n == 0:
        raise ValueError("forecast: the scan has no steps.")
    schedule = StoreAll() if schedule is None else schedule
    body = Body("forecast", step, init, None if xs is None else xs_def)
    carry = [primal_value(x) for x in tree_flatten(init)[0]]
    x0 = [primal_value(leaf)[0] for leaf in xs_leaves]

    advance_s = min(_timed(lambda: body(carry, x0)) for _ in range(2))
    record_s, backward_s = np.inf, np.inf
    for _ in range(2):
        tape = ReverseTrace()
        start = time.perf_counter()
        try:
            boxed = [tape.new_input(v) if differentiable(v) else v for v in carry + x0]
            c_out, y_out = body(boxed[:len(carry)], boxed[len(carry):])
        finally:
            tape.close()
        record_s = min(record_s, time.perf_counter() - start)
        step_bytes = residual_bytes(tape, carry + x0)
        outs = [o for o in c_out + y_out if getattr(o, "_trace", None) is tape]
        seeds = [(o.node, np.ones_like(primal_value(o))) for o in outs]
        start = time.perf_counter()
        backward(tape, seeds, [b.node for b in boxed if getattr(b, "_trace", None) is tape], True)
        backward_s = min(backward_s, time.perf_counter() - start)
    y_values = [primal_value(y) for y in y_out]
    sizes = dict(carry_bytes=leaf_bytes(carry), step_bytes=step_bytes,
                 other_bytes=leaf_bytes(y_values) * n)
    plan = schedule.plan(n, **sizes) if getattr(schedule, "measures", False) else schedule.plan(n)
    base = StoreAll().plan(n)
    peak = _with_outputs(plan.peak_bytes(sizes["carry_bytes"], step_bytes), sizes["other_bytes"])
    base_peak = _with_outputs(base.peak_bytes(sizes["carry_bytes"], step_bytes),
                              sizes["other_bytes"])

    def predicted(p):
        return (p.forward_steps * advance_s + p.recorded_steps * record_s + n * backward_s)

    return Forecast(plan=plan, plan_schedule=schedule, store_all_plan=base, length=n,
                    carry_bytes=sizes["carry_bytes"], step_bytes=step_bytes,
                    outputs_bytes=sizes["other_bytes"], peak_bytes=peak,
                    store_all_peak_bytes=base_peak,
                    step_evaluations=plan.forward_steps + plan.recorded_steps,
                    store_all_step_evaluations=base.forward_steps + base.recorded_steps,
                    advance_s=advance_s, record_s=record_s, backward_s=backward_s,
                    slowdown=predicted(plan) / predicted(base))


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _with_outputs(peaks, outputs_bytes):
    peaks = dict(peaks)
    peaks["outputs"] = outputs_bytes
    peaks["total"] = peaks.get("total", 0) + outputs_bytes
    return peaks
