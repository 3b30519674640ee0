"""`forecast`: what a schedule will cost, from one step, before anything long runs."""
from .. import backend
from ..reverse import ReverseTrace
from ..trace import BATCH_TRACER_TYPES, TRACER_TYPES, primal_value
from ..tree import tree_flatten
from ..units import format_bytes
from .costs import PROFILE, measure_step, peak_bytes, seconds, step_times
from .executor import Body, _length
from .schedules import StoreAll, check_schedule


class Forecast:
    """The predicted cost of `scan(step, ...)` under a schedule's plan, against StoreAll.

    Attributes: `plan` and `store_all_plan`; `carry_bytes`, `step_bytes` (one step's tape),
    `outputs_bytes` (what every plan holds besides carries and tapes: `other_bytes` of
    `costs.py`); `peak_bytes` and `store_all_peak_bytes` (dicts per storage
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


def _refuse_batched(*trees):
    """forecast is a dry run on concrete shapes: under vmap, the values below the batch tracers
    have the batch axis first, so measuring "one step" would slice the batch instead."""
    for tree in trees:
        for leaf in tree_flatten(tree)[0]:
            if _batched(leaf):
                raise TypeError(
                    "forecast: called under vmap, where each value's shape hides the batch "
                    "axis; a dry run needs the shapes the scan will really run on. Call "
                    "forecast outside vmap, with the batch in the arrays (for xs of T steps "
                    "and a batch of B: shape (T, B, ...)).")


def _batched(x):
    while type(x) in TRACER_TYPES:
        if type(x) in BATCH_TRACER_TYPES:
            return True
        x = x.value
    return False


def forecast(step, init, xs=None, length=None, schedule=None, params=None, grad_xs=False):
    """Predict the memory and time of differentiating `scan(step, init, xs, length, schedule)`
    without running it: one step is evaluated on a private tape and backpropagated, as `scan`
    does for `Budget` (`costs.measure_step`), to measure a carry's and a step tape's bytes, what
    every plan holds besides (`other_bytes`) and the step's times; the schedule's plan then
    gives the peak bytes per storage tier under the same cost model as `Budget`'s (`costs.py`),
    the step evaluations and the expected slowdown against StoreAll.

    Args:
      step, init, xs, length, schedule: as for `scan`.
      params: the values `step` closes over that will be differentiated (the weights), as a
        pytree: their gradients are summed over the steps, which the peak counts. Closed-over
        values not given here are constants of the dry run. To time the step, those that
        `step`'s own closure cells hold are swapped for tracers (so each step's backward
        computes their gradients, as the run will) and put back before forecast returns.
      grad_xs: whether the xs will be differentiated too (parameters passed per step through
        xs, for instance): their cotangent rows are kept until stacked. A bool for every leaf
        of xs, or a pytree of bools with the structure of xs (`(False, True)` for
        `xs = (inputs, per_step_bias)`).

        >>> fc = forecast(step, h0, xs, schedule=Revolve(16), params=(W, U))
        >>> fc.peak_bytes["total"], fc.slowdown
    """
    xs_leaves, xs_def = tree_flatten(xs)
    _refuse_batched(init, xs, params)
    n = _length("forecast", xs_leaves, length)
    if n == 0:
        raise ValueError("forecast: the scan has no steps.")
    schedule = StoreAll() if schedule is None else check_schedule("forecast", schedule)
    body = Body("forecast", step, init, None if xs is None else xs_def)
    carry = [primal_value(x) for x in tree_flatten(init)[0]]
    x0 = [primal_value(leaf)[0] for leaf in xs_leaves]
    wanted = [True] * len(carry) + _xs_wanted(grad_xs, xs, len(x0))
    device = "cuda" if any(backend.is_cupy_array(v) for v in carry + x0) else "host"
    closure = [primal_value(v) for v in tree_flatten(params)[0]]
    best = None
    for _ in range(2):  # the smaller of two runs: the first may warm caches up
        enclosing = _Enclosing()
        try:
            sizes = measure_step(enclosing, {}, body, carry, x0, wanted, n, device,
                                 closure=closure)
        finally:
            enclosing.close()
        best = sizes if best is None else _warmer(best, sizes)
    sizes = dict(best, **_times(step, body, carry, x0, wanted, closure))
    model = {k: sizes[k] for k in ("carry_bytes", "step_bytes", "other_bytes") + PROFILE}
    plan = schedule.plan(n, **model) if schedule.measures else schedule.plan(n)
    base = StoreAll().plan(n)
    return Forecast(plan=plan, plan_schedule=schedule, store_all_plan=base, length=n,
                    carry_bytes=sizes["carry_bytes"], step_bytes=sizes["step_bytes"],
                    outputs_bytes=sizes["other_bytes"], peak_bytes=peak_bytes(plan, model),
                    store_all_peak_bytes=peak_bytes(base, model),
                    step_evaluations=plan.step_evaluations,
                    store_all_step_evaluations=base.step_evaluations,
                    advance_s=sizes["advance_s"], record_s=sizes["record_s"],
                    backward_s=sizes["backward_s"],
                    slowdown=seconds(plan, sizes) / seconds(base, sizes))


def _warmer(first, second):
    """Two dry runs' sizes as one: the smaller of each, but a kept tape's bytes and what it
    takes from the freelists (`reused_step_bytes`) as one pair, from the run whose tape less
    that is the smaller. The first run also makes one-time objects (caches, lazily imported
    modules): its tape reads larger and its reuse smaller, by the same amount, so the pair's
    difference is what matters (LSTM of forecast_accuracy.py, hidden 16: 22,891 and 7,912 B
    in one run, 19,251 and 4,304 B in the other; the smaller tape beside the larger reuse
    read StoreAll 26% low, and the reuse alone of the first run 34% high)."""
    net = lambda s: s["step_bytes"] - s["reused_step_bytes"]  # noqa: E731
    paired = first if net(first) <= net(second) else second
    out = {k: min(v, second[k]) for k, v in first.items()}
    out["step_bytes"], out["reused_step_bytes"] = (paired["step_bytes"],
                                                   paired["reused_step_bytes"])
    return out


def _times(step, body, carry, x, wanted, closure):
    """The step's seconds (`costs.step_times`), with the `params` it closes over as tracers
    where its closure cells hold them, as in a run that differentiates them: their gradients
    are computed in each step's backward. With them constant, the LSTM of bptt.py (hidden
    256) timed a backward without its weights' gradient, and the slowdown of Revolve(8-32)
    read 1.3-1.4x the measured one. The cells get their own values back on every path; a
    step that reaches its parameters otherwise (through a dict, an object, a global) is
    timed with them constant."""
    enclosing = _Enclosing()
    cells, held = [], {id(v): v for v in closure}
    try:
        for cell in getattr(step, "__closure__", None) or ():
            try:
                value = cell.cell_contents
            except ValueError:  # a cell not yet bound
                continue
            if id(value) in held and held[id(value)] is value:
                cells.append((cell, value))
                cell.cell_contents = enclosing.new_input(value)
        return step_times(enclosing, {}, body, carry, x, wanted)
    finally:
        for cell, value in cells:
            cell.cell_contents = value
        enclosing.close()


def _xs_wanted(grad_xs, xs, count):
    if isinstance(grad_xs, bool):
        return [grad_xs] * count
    flags, flags_def = tree_flatten(grad_xs)
    if len(flags) != count or not all(isinstance(f, bool) for f in flags):
        raise ValueError(f"forecast: grad_xs must be a bool or a pytree of bools with the "
                         f"structure of xs ({tree_flatten(xs)[1]}, {count} leaves); got "
                         f"{flags_def} with leaves {flags!r}.")
    return flags


class _Enclosing(ReverseTrace):
    """The enclosing reverse trace of a dry run: nothing is recorded on it (the step's
    closed-over values are plain arrays), but the private tape is made above it, as in `scan`."""

    records_regions = False
