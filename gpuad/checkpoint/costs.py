"""The one cost model that `Budget` plans with and `forecast` reports, so they cannot disagree.

Memory: a plan's peak is the worst moment of

    stored carries x carry_bytes + kept tapes x step_bytes  (from the plan's actions)
  + other_bytes                                             (the same whatever the plan)

where `other_bytes` holds the outputs (the ys of every step, Python objects included), the
current carry, the temporaries of one step's evaluation or backward pass (the larger), the
gradients of closed-over parameters and the executor's bookkeeping per step. All three sizes
come from one step measured with `gpuad.memory` by `measure_step`.

Time, in step evaluations: untaped evaluations cost `advance_s`, taped ones `record_s` and
each step's backward `backward_s`; a plan's predicted seconds are
forward_steps x advance_s + recorded_steps x record_s + length x backward_s.
"""
import time

from .replay import Replay, differentiable, leaf_bytes

# Python bookkeeping, measured with tracemalloc on the RNN of benchmarks/bptt.py: a stored
# carry's list, random-state copy and dict entries (1 KiB), and per step the executor's entries
# for the ys it collects and its cotangent rows (0.5 KiB). On a GPU these live on the host,
# which `gpuad.memory` does not count there.
SNAPSHOT_BOOKKEEPING_BYTES = 1024
STEP_BOOKKEEPING_BYTES = 512


def measure_step(trace, touched, body, carry, x, wanted, length, device, timed=False):
    """Evaluate one step on a private tape and backpropagate through it, under
    `gpuad.memory.track`, then drop it. Returns the sizes of the cost model (`carry_bytes`,
    `step_bytes`, `other_bytes`) and, with `timed`, the seconds of the step without a tape
    (`advance_s`), with one (`record_s`) and of its backward pass (`backward_s`).

    `trace` is the enclosing reverse trace (the step's closed-over tracers become inputs of the
    private tape, as in a real run), `carry` and `x` the step's input leaves, `wanted` which of
    them take cotangents.
    """
    from .. import memory
    n = len(carry)
    inputs = list(carry) + list(x)

    def fun(boxed):
        c, y = body(boxed[:n], boxed[n:])
        return c + y

    with memory.track(device=device) as recorded:
        start = time.perf_counter()
        replay = Replay(trace, touched, fun, inputs, False, wanted)
        outputs = replay.values()
        record_s = time.perf_counter() - start
    with memory.track(device=device) as backward_pass:
        start = time.perf_counter()
        replay.backprop(trace, [_ones(v) for v in outputs])
        backward_s = time.perf_counter() - start
    # the gradients of closed-over parameters: a running sum and one step's term
    closure_bytes = 2 * leaf_bytes([s.value for s in replay.detour.table.values()])
    del replay
    host = device == "host"
    carry_bytes = leaf_bytes(carry) + SNAPSHOT_BOOKKEEPING_BYTES * host
    # cotangent rows of the xs that take them, kept per step until stacked (then twice)
    xs_cotangents = 2 * leaf_bytes([v for v, w in zip(x, wanted[n:]) if w and
                                    differentiable(v)])
    per_step = (leaf_bytes(outputs[n:]) + xs_cotangents + STEP_BOOKKEEPING_BYTES * host)
    sizes = {"carry_bytes": carry_bytes,
             # a kept step holds its residuals and its outputs (the next carry)
             "step_bytes": max(recorded.end_bytes, 1),
             "other_bytes": per_step * length + carry_bytes
             + max(recorded.peak_bytes, backward_pass.peak_bytes) + closure_bytes}
    if timed:
        start = time.perf_counter()
        body(list(carry), list(x))
        sizes.update(advance_s=time.perf_counter() - start, record_s=record_s,
                     backward_s=backward_s)
    return sizes


def peak_bytes(plan, sizes):
    """The plan's peak under the cost model: a dict with "fast", "slow" (stored carries per
    tier), "tapes", "outputs" (`other_bytes`) and "total"."""
    peaks = dict(plan.peak_bytes(sizes["carry_bytes"], sizes["step_bytes"]))
    other = sizes.get("other_bytes", 0)
    peaks["outputs"] = other
    peaks["total"] += other
    return peaks


def seconds(plan, times):
    """The plan's predicted seconds from one step's measured times."""
    return (plan.forward_steps * times["advance_s"] + plan.recorded_steps * times["record_s"]
            + plan.length * times["backward_s"])


def _ones(x):
    from ..numpy import ones_like
    return ones_like(x) if differentiable(x) else None
