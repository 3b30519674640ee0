"""Schedules with optax's names, arguments and values: functions `count -> value` of the number of
updates made before this one (0 at the first update).

A schedule is passed as an optimizer's `learning_rate` (or `add_decayed_weights`' weight decay).
It takes a Python int and returns a Python float, so it never changes the updates' dtype. Called
with Python ints, optax's schedules (with jax's float64 on) give the same values to the last bit;
inside optax's optimizers the count is an int32 array, with which some of them (linear,
polynomial, exponential) compute in float32, about 1e-7 away from these. Where
optax only logs a message for a degenerate argument (a non-positive `transition_steps`), the
schedule behaves as optax's does: it holds `init_value`.
"""
import math


def _count(count):
    return int(count)


def constant_schedule(value):
    """The schedule `count -> value`.

    Example:
      >>> constant_schedule(0.1)(1000)
      0.1
    """
    value = float(value)
    return lambda count: value


def polynomial_schedule(init_value, end_value, power, transition_steps, transition_begin=0):
    """From `init_value` to `end_value` along `(1 - s / transition_steps) ** power`.

    With `s = clip(count - transition_begin, 0, transition_steps)` the value is
    `(init_value - end_value) * (1 - s / transition_steps) ** power + end_value`: `init_value`
    until `transition_begin`, `end_value` from `transition_begin + transition_steps` on.
    `transition_steps <= 0` gives the constant `init_value`; a negative `transition_begin` counts
    as 0.

    Example:
      >>> s = polynomial_schedule(1.0, 0.0, power=2, transition_steps=4)
      >>> [s(c) for c in range(6)]
      [1.0, 0.5625, 0.25, 0.0625, 0.0, 0.0]
    """
    init_value, end_value, power = float(init_value), float(end_value), float(power)
    transition_steps, transition_begin = int(transition_steps), max(0, int(transition_begin))
    if transition_steps <= 0:
        return constant_schedule(init_value)

    def schedule(count):
        s = min(max(_count(count) - transition_begin, 0), transition_steps)
        return (init_value - end_value) * (1.0 - s / transition_steps) ** power + end_value

    return schedule


def linear_schedule(init_value, end_value, transition_steps, transition_begin=0):
    """From `init_value` to `end_value` linearly over `transition_steps` updates, starting after
    `transition_begin` (`polynomial_schedule` with power 1).

    Example:
      >>> s = linear_schedule(0.0, 1.0, transition_steps=4, transition_begin=1)
      >>> [s(c) for c in range(7)]
      [0.0, 0.0, 0.25, 0.5, 0.75, 1.0, 1.0]
    """
    return polynomial_schedule(init_value, end_value, 1, transition_steps, transition_begin)


def piecewise_constant_schedule(init_value, boundaries_and_scales=None):
    """`init_value` times the product of the scales of every boundary reached.

    Args:
      init_value: the value before the first boundary.
      boundaries_and_scales: a dict `{count: scale}`; from `count` on, the value is multiplied by
        `scale` (non-negative).

    Example:
      >>> s = piecewise_constant_schedule(1.0, {2: 0.1, 4: 0.5})
      >>> [s(c) for c in range(6)]
      [1.0, 1.0, 0.1, 0.1, 0.05, 0.05]
    """
    init_value = float(init_value)
    steps = sorted((int(b), float(v)) for b, v in (boundaries_and_scales or {}).items())
    if any(v < 0.0 for _, v in steps):
        raise ValueError(f"piecewise_constant_schedule: scales must be non-negative, got "
                         f"{boundaries_and_scales}")

    def schedule(count):
        count, value = _count(count), init_value
        for boundary, factor in steps:
            if count >= boundary:
                value *= factor
        return value

    return schedule


def exponential_decay(init_value, transition_steps, decay_rate, transition_begin=0,
                      staircase=False, end_value=None):
    """`init_value * decay_rate ** ((count - transition_begin) / transition_steps)`.

    The value is `init_value` until `transition_begin`; with `staircase=True` the exponent is
    rounded down (a drop every `transition_steps` updates). `end_value`, if given, bounds the
    value: from below when `decay_rate < 1`, from above otherwise. `transition_steps <= 0` or
    `decay_rate == 0` give the constant `init_value`; a negative `transition_begin` counts as 0.

    Example:
      >>> s = exponential_decay(1.0, transition_steps=2, decay_rate=0.5, staircase=True)
      >>> [s(c) for c in range(5)]
      [1.0, 1.0, 0.5, 0.5, 0.25]
    """
    init_value, decay_rate = float(init_value), float(decay_rate)
    transition_steps, transition_begin = int(transition_steps), max(0, int(transition_begin))
    if transition_steps <= 0 or decay_rate == 0.0:
        return constant_schedule(init_value)
    bound = None
    if end_value is not None:
        bound = max if decay_rate < 1.0 else min
        end_value = float(end_value)

    def schedule(count):
        steps = _count(count) - transition_begin
        if steps <= 0:
            value = init_value
        else:
            p = steps / transition_steps
            value = init_value * decay_rate ** (math.floor(p) if staircase else p)
        return value if bound is None else bound(value, end_value)

    return schedule


def cosine_decay_schedule(init_value, decay_steps, alpha=0.0, exponent=1.0):
    """Cosine decay from `init_value` to `alpha * init_value` over `decay_steps` updates
    (Loshchilov & Hutter 2017).

    The value is `init_value * ((1 - alpha) * (0.5 * (1 + cos(pi * c / decay_steps))) ** exponent
    + alpha)` with `c = min(count, decay_steps)`.

    Example:
      >>> s = cosine_decay_schedule(1.0, decay_steps=4)
      >>> [round(s(c), 4) for c in range(6)]
      [1.0, 0.8536, 0.5, 0.1464, 0.0, 0.0]
    """
    if not int(decay_steps) > 0:
        raise ValueError(f"cosine_decay_schedule: decay_steps must be positive, got "
                         f"{decay_steps}")
    init_value, alpha, exponent = float(init_value), float(alpha), float(exponent)
    decay_steps = int(decay_steps)

    def schedule(count):
        c = min(_count(count), decay_steps)
        cosine = 0.5 * (1.0 + math.cos(math.pi * c / decay_steps))
        return init_value * ((1.0 - alpha) * cosine ** exponent + alpha)

    return schedule


def join_schedules(schedules, boundaries):
    """Run `schedules[0]` until `boundaries[0]`, then `schedules[1]` counting from 0 again, and
    so on; `boundaries` has one entry fewer than `schedules`.

    Example:
      >>> s = join_schedules([constant_schedule(1.0), linear_schedule(1.0, 0.0, 2)], [3])
      >>> [s(c) for c in range(6)]
      [1.0, 1.0, 1.0, 1.0, 0.5, 0.0]
    """
    schedules, boundaries = list(schedules), [int(b) for b in boundaries]
    if len(boundaries) != len(schedules) - 1:
        raise ValueError(f"join_schedules: {len(schedules)} schedules need "
                         f"{len(schedules) - 1} boundaries, got {len(boundaries)}")

    def schedule(count):
        count = _count(count)
        value = schedules[0](count)
        for boundary, later in zip(boundaries, schedules[1:]):
            if count >= boundary:
                value = later(count - boundary)
        return float(value)

    return schedule


def warmup_cosine_decay_schedule(init_value, peak_value, warmup_steps, decay_steps,
                                 end_value=0.0, exponent=1.0):
    """Linear warmup from `init_value` to `peak_value` over `warmup_steps` updates, then cosine
    decay to `end_value` at `decay_steps` (which counts the warmup too).

    Example:
      >>> s = warmup_cosine_decay_schedule(0.0, 1.0, warmup_steps=2, decay_steps=6)
      >>> [round(s(c), 4) for c in range(8)]
      [0.0, 0.5, 1.0, 0.8536, 0.5, 0.1464, 0.0, 0.0]
    """
    peak_value, end_value = float(peak_value), float(end_value)
    alpha = 0.0 if peak_value == 0.0 else end_value / peak_value
    return join_schedules(
        [linear_schedule(init_value, peak_value, warmup_steps),
         cosine_decay_schedule(peak_value, int(decay_steps) - int(warmup_steps), alpha,
                               exponent)],
        [int(warmup_steps)])
