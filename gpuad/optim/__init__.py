"""`gpuad.optim`: optimizers on pytrees of parameters, with optax's calling convention, names and
semantics.

    >>> import gpuad as ga, gpuad.numpy as gnp
    >>> from gpuad import optim
    >>> params = {"w": gnp.asarray([1.0, -2.0])}
    >>> opt = optim.chain(optim.clip_by_global_norm(1.0), optim.adam(0.1))
    >>> state = opt.init(params)
    >>> for _ in range(3):
    ...     grads = ga.grad(lambda p: gnp.sum(p["w"] ** 2))(params)
    ...     updates, state = opt.update(grads, state, params)
    ...     params = optim.apply_updates(params, updates)

`update` returns *updates*, not parameters: the step, already multiplied by `-learning_rate`,
that `apply_updates` adds to the parameters. Nothing is modified in place.

- Optimizers (`optimizers.py`): `sgd`, `adam`, `adamw`, `rmsprop`, `adagrad`; each a `chain`
  of building blocks, as in optax.
- Building blocks (`transforms.py`): `scale`, `scale_by_learning_rate`, `scale_by_schedule`,
  `scale_by_adam`, `scale_by_rms`, `scale_by_stddev`, `scale_by_rss`, `trace`,
  `add_decayed_weights`, `clip_by_global_norm` (and `global_norm`, the norm it clips).
- Composition (`base.py`): `GradientTransformation`, `chain`, `identity`, `apply_updates`.
- Schedules (`schedules.py`): `constant_schedule`, `linear_schedule`, `polynomial_schedule`,
  `piecewise_constant_schedule`, `exponential_decay`, `cosine_decay_schedule`,
  `warmup_cosine_decay_schedule`, `join_schedules`: functions of the number of updates made
  before this one.

The state is a pytree of plain data (namedtuples of Python ints and arrays shaped like the
parameters), so it is saved and restored with the parameters. Arithmetic happens in each leaf's
dtype and namespace (NumPy or CuPy); hyperparameters are Python floats, so float32 parameters
stay float32.
"""
from .base import EmptyState, GradientTransformation, apply_updates, chain, identity
from .optimizers import adagrad, adam, adamw, rmsprop, sgd
from .schedules import (
    constant_schedule,
    cosine_decay_schedule,
    exponential_decay,
    join_schedules,
    linear_schedule,
    piecewise_constant_schedule,
    polynomial_schedule,
    warmup_cosine_decay_schedule,
)
from .transforms import (
    ScaleByAdamState,
    ScaleByRmsState,
    ScaleByRmsWithCountState,
    ScaleByRssState,
    ScaleByRStdDevState,
    ScaleByRStdDevWithCountState,
    ScaleByScheduleState,
    TraceState,
    WeightDecaySchedule,
    add_decayed_weights,
    clip_by_global_norm,
    global_norm,
    scale,
    scale_by_adam,
    scale_by_learning_rate,
    scale_by_rms,
    scale_by_rss,
    scale_by_schedule,
    scale_by_stddev,
    trace,
)

__all__ = ["EmptyState", "GradientTransformation", "ScaleByAdamState", "ScaleByRStdDevState",
           "ScaleByRStdDevWithCountState", "ScaleByRmsState", "ScaleByRmsWithCountState",
           "ScaleByRssState", "ScaleByScheduleState", "TraceState", "WeightDecaySchedule",
           "adagrad", "adam", "adamw", "add_decayed_weights", "apply_updates", "chain",
           "clip_by_global_norm", "constant_schedule", "cosine_decay_schedule",
           "exponential_decay", "global_norm", "identity", "join_schedules", "linear_schedule",
           "piecewise_constant_schedule", "polynomial_schedule", "rmsprop", "scale",
           "scale_by_adam", "scale_by_learning_rate", "scale_by_rms", "scale_by_rss",
           "scale_by_schedule", "scale_by_stddev", "sgd", "trace",
           "warmup_cosine_decay_schedule"]

# Names this module had before it followed optax, and what replaces each (CHANGELOG.md).
_REMOVED = {
    "Optimizer": "GradientTransformation (update now returns updates: see apply_updates)",
    "constant": "constant_schedule(value)",
    "step_decay": "exponential_decay(lr, transition_steps=step_size, decay_rate=gamma, "
                  "staircase=True)",
    "cosine_with_warmup": "warmup_cosine_decay_schedule(init_value, peak_value, warmup_steps, "
                          "decay_steps=total_steps, end_value=final_lr), whose warmup starts "
                          "from init_value at count 0",
}


def __getattr__(name):
    if name in _REMOVED:
        raise AttributeError(f"gpuad.optim.{name} was removed when gpuad.optim took optax's "
                             f"convention; use {_REMOVED[name]} (see CHANGELOG.md).")
    raise AttributeError(f"module 'gpuad.optim' has no attribute {name!r}")
