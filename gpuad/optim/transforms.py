"""The building blocks of the optimizers, with optax's names, arguments and semantics: rescalings
(`scale`, `scale_by_learning_rate`, `scale_by_schedule`, `scale_by_adam`, `scale_by_rms`,
`scale_by_stddev`, `scale_by_rss`), momentum (`trace`), weight decay (`add_decayed_weights`) and
clipping (`clip_by_global_norm`).

Each is a `GradientTransformation`; `chain` composes them, and `gpuad.optim.adam` is
`chain(scale_by_adam(...), scale_by_learning_rate(learning_rate))`, as in optax.

Arithmetic is leaf by leaf in each leaf's own dtype and namespace (NumPy, CuPy, or a traced
array inside a transform: an update can be differentiated). Hyperparameters and step counts are
Python numbers, so float32 updates stay float32. Where optax differs from this module, the
function's docstring says so.
"""
from typing import Any, NamedTuple

import numpy as np

from .. import backend
from .. import numpy as gnp
from ..tree import tree_flatten, tree_paths, tree_unflatten
from .base import (
    EmptyState,
    as_float,
    check_state,
    full_like,
    identity,
    leaves_like,
    real_leaves,
    transformation,
)


# ---- states ----------------------------------------------------------------------------------
class ScaleByScheduleState(NamedTuple):
    count: int                     # updates made before this one


class ScaleByAdamState(NamedTuple):
    count: int
    mu: Any                        # first moment, shaped like the parameters
    nu: Any                        # second moment


class ScaleByRmsState(NamedTuple):
    nu: Any


class ScaleByRmsWithCountState(NamedTuple):
    count: int
    nu: Any


class ScaleByRStdDevState(NamedTuple):
    mu: Any
    nu: Any


class ScaleByRStdDevWithCountState(NamedTuple):
    count: int
    mu: Any
    nu: Any


class ScaleByRssState(NamedTuple):
    sum_of_squares: Any


class TraceState(NamedTuple):
    trace: Any


class WeightDecaySchedule(NamedTuple):
    count: int


def _map(name, fn, updates, *trees):
    """Apply `fn(g, *slots)` leafwise to `updates` and the state trees `trees` (`(what, tree)`
    pairs shaped like the updates). Returns the updates tree, then one tree per further output
    of `fn` (fn returns a tuple: the new update first)."""
    g_leaves, treedef = real_leaves(f"{name}.update", updates, "updates")
    slots = [leaves_like(f"{name}.update", tree, treedef, g_leaves, what)
             for what, tree in trees]
    results = [fn(g, *s) for g, *s in zip(g_leaves, *slots)]
    n_out = 1 + len(trees)
    columns = [[r[i] for r in results] for i in range(n_out)] if results else [[]] * n_out
    return tuple(tree_unflatten(treedef, c) for c in columns)


def _count(state):
    """The state's step count as a Python int (a restored state may hold a 0-d array)."""
    return int(state.count)


def _rsqrt(x):
    return 1.0 / gnp.sqrt(x)


# ---- plain rescaling -------------------------------------------------------------------------
def scale(step_size):
    """Multiply the updates by the constant `step_size`.

    Example:
      >>> scale(-0.5).update({"w": np.array([2.0])}, EmptyState())[0]
      {'w': array([-1.])}
    """
    step_size = as_float("scale", "step_size", step_size)

    def update(updates, state, params=None):
        check_state("scale", state, EmptyState)
        return _map("scale", lambda g: (step_size * g,), updates)[0], state

    return transformation("scale", lambda params: EmptyState(), update)


def scale_by_schedule(step_size_fn):
    """Multiply the updates by `step_size_fn(count)`, `count` the number of updates made before
    this one (0 at the first), a Python int.

    `step_size_fn` is one of `gpuad.optim`'s schedules or any function of the count returning a
    real number; its value is converted to a Python float, so it never changes the updates'
    dtype.

    Example:
      >>> tx = scale_by_schedule(lambda count: 0.5 ** count)
      >>> out, state = tx.update(np.ones(1), tx.init(None))
      >>> tx.update(np.ones(1), state)[0]
      array([0.5])
    """
    if not callable(step_size_fn):
        raise TypeError(f"scale_by_schedule: step_size_fn must be a function of the step count, "
                        f"got {step_size_fn!r}")

    def update(updates, state, params=None):
        check_state("scale_by_schedule", state, ScaleByScheduleState)
        count = _count(state)
        step_size = as_float("scale_by_schedule", f"step_size_fn({count})", step_size_fn(count))
        updates = _map("scale_by_schedule", lambda g: (step_size * g,), updates)[0]
        return updates, ScaleByScheduleState(count + 1)

    return transformation("scale_by_schedule", lambda params: ScaleByScheduleState(0), update)


def scale_by_learning_rate(learning_rate, *, flip_sign=True):
    """Multiply the updates by `-learning_rate` (by `learning_rate` with `flip_sign=False`).

    Args:
      learning_rate: a real number, a schedule (function of the step count), or None (no
        scaling: `identity()`).
      flip_sign: True (the default) for a descent step: the updates are added to the parameters.

    Example:
      >>> scale_by_learning_rate(0.1).update({"w": np.array([2.0])}, EmptyState())[0]
      {'w': array([-0.2])}
    """
    if learning_rate is None:
        return identity()
    sign = -1.0 if flip_sign else 1.0
    if callable(learning_rate):
        return scale_by_schedule(lambda count: sign * learning_rate(count))
    return scale(sign * as_float("scale_by_learning_rate", "learning_rate", learning_rate))


# ---- adaptive rescaling ----------------------------------------------------------------------
def _decay(name, arg, value):
    value = as_float(name, arg, value)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name}: {arg} must be in [0, 1), got {value}")
    return value


def scale_by_adam(b1=0.9, b2=0.999, eps=1e-8, eps_root=0.0, *, nesterov=False):
    """Rescale by Adam's bias-corrected moments (Kingma & Ba 2015, Algorithm 1).

    Per leaf, at the t-th update (t = 1, 2, ...), with `g` the incoming update:

        mu = b1 * mu + (1 - b1) * g;   nu = b2 * nu + (1 - b2) * g**2
        mu_hat = mu / (1 - b1**t);     nu_hat = nu / (1 - b2**t)
        out = mu_hat / (sqrt(nu_hat + eps_root) + eps)

    With `nesterov=True` (Dozat 2016, NAdam) `mu_hat` is
    `b1 * mu / (1 - b1**(t+1)) + (1 - b1) * g / (1 - b1**t)`.

    Args:
      b1, b2: decay rates of the first and second moments, in [0, 1).
      eps: added to the root of the second moment (outside the square root).
      eps_root: added inside the square root; keeps the derivative of the update finite where
        nu_hat is 0 (for differentiating through an update).
      nesterov: the NAdam variant.

    The state is `ScaleByAdamState(count, mu, nu)`. optax's `mu_dtype` is not offered: the
    moments have the parameters' dtype.

    Example:
      >>> tx = scale_by_adam()
      >>> tx.update(np.array([1e-3, -5.0]), tx.init(np.zeros(2)))[0]   # first step: sign(g)
      array([ 0.99999..., -1.        ])
    """
    name = "scale_by_adam"
    b1, b2 = _decay(name, "b1", b1), _decay(name, "b2", b2)
    eps, eps_root = as_float(name, "eps", eps), as_float(name, "eps_root", eps_root)

    def init(params):
        return ScaleByAdamState(0, full_like(name, params, 0.0), full_like(name, params, 0.0))

    def update(updates, state, params=None):
        check_state(name, state, ScaleByAdamState)
        t = _count(state) + 1
        c1, c2, c1_next = 1.0 - b1 ** t, 1.0 - b2 ** t, 1.0 - b1 ** (t + 1)

        def leaf(g, mu, nu):
            mu = (1.0 - b1) * g + b1 * mu
            nu = (1.0 - b2) * (g * g) + b2 * nu
            mu_hat = b1 * (mu / c1_next) + (1.0 - b1) * (g / c1) if nesterov else mu / c1
            return mu_hat / (gnp.sqrt(nu / c2 + eps_root) + eps), mu, nu

        out, mu, nu = _map(name, leaf, updates, ("state.mu", state.mu), ("state.nu", state.nu))
        return out, ScaleByAdamState(t, mu, nu)

    return transformation(name, init, update)


def _rms_scaling(eps, eps_in_sqrt, nu_hat):
    return _rsqrt(nu_hat + eps) if eps_in_sqrt else 1.0 / (gnp.sqrt(nu_hat) + eps)


def scale_by_rms(decay=0.9, eps=1e-8, initial_scale=0.0, eps_in_sqrt=True,
                 bias_correction=False):
    """Rescale by the root of a moving average of squared updates (RMSprop, Tieleman & Hinton
    2012).

    Per leaf: `nu = decay * nu + (1 - decay) * g**2` (nu starts at `initial_scale`), then
    `out = g / sqrt(nu_hat + eps)`, or `g / (sqrt(nu_hat) + eps)` with `eps_in_sqrt=False`
    (PyTorch's form). `nu_hat` is `nu / (1 - decay**t)` with `bias_correction=True`, else `nu`.

    The state is `ScaleByRmsState(nu)`, or `ScaleByRmsWithCountState(count, nu)` with bias
    correction.

    Example:
      >>> tx = scale_by_rms(decay=0.0, eps=0.0)
      >>> tx.update(np.array([-4.0]), tx.init(np.zeros(1)))[0]          # g / |g|
      array([-1.])
    """
    name = "scale_by_rms"
    decay = _decay(name, "decay", decay)
    eps, initial_scale = as_float(name, "eps", eps), as_float(name, "initial_scale", initial_scale)

    def init(params):
        nu = full_like(name, params, initial_scale)
        return ScaleByRmsWithCountState(0, nu) if bias_correction else ScaleByRmsState(nu)

    def update(updates, state, params=None):
        kind = ScaleByRmsWithCountState if bias_correction else ScaleByRmsState
        check_state(name, state, kind)
        t = _count(state) + 1 if bias_correction else 0
        correction = 1.0 - decay ** t if bias_correction else 1.0

        def leaf(g, nu):
            nu = (1.0 - decay) * (g * g) + decay * nu
            nu_hat = nu / correction if bias_correction else nu
            return _rms_scaling(eps, eps_in_sqrt, nu_hat) * g, nu

        out, nu = _map(name, leaf, updates, ("state.nu", state.nu))
        return out, (ScaleByRmsWithCountState(t, nu) if bias_correction else ScaleByRmsState(nu))

    return transformation(name, init, update)


def scale_by_stddev(decay=0.9, eps=1e-8, initial_scale=0.0, eps_in_sqrt=True,
                    bias_correction=False):
    """Rescale by the root of a centred moving variance of the updates (centred RMSprop, Graves
    2013).

    As `scale_by_rms`, with also `mu = decay * mu + (1 - decay) * g` (mu starts at 0) and
    `nu_hat - mu_hat**2` in place of `nu_hat` under the square root.

    The state is `ScaleByRStdDevState(mu, nu)`, or `ScaleByRStdDevWithCountState(count, mu,
    nu)` with bias correction (optax's names).

    Example:
      >>> tx = scale_by_stddev(decay=0.5, eps=0.0)
      >>> tx.update(np.array([2.0]), tx.init(np.zeros(1)))[0]   # 2 / sqrt(2 - 1)
      array([2.])
    """
    name = "scale_by_stddev"
    decay = _decay(name, "decay", decay)
    eps, initial_scale = as_float(name, "eps", eps), as_float(name, "initial_scale", initial_scale)
    kind = ScaleByRStdDevWithCountState if bias_correction else ScaleByRStdDevState

    def init(params):
        mu, nu = full_like(name, params, 0.0), full_like(name, params, initial_scale)
        return kind(0, mu, nu) if bias_correction else kind(mu, nu)

    def update(updates, state, params=None):
        check_state(name, state, kind)
        t = _count(state) + 1 if bias_correction else 0
        correction = 1.0 - decay ** t if bias_correction else 1.0

        def leaf(g, mu, nu):
            mu = (1.0 - decay) * g + decay * mu
            nu = (1.0 - decay) * (g * g) + decay * nu
            mu_hat, nu_hat = (mu / correction, nu / correction) if bias_correction else (mu, nu)
            return _rms_scaling(eps, eps_in_sqrt, nu_hat - mu_hat * mu_hat) * g, mu, nu

        out, mu, nu = _map(name, leaf, updates, ("state.mu", state.mu), ("state.nu", state.nu))
        return out, (kind(t, mu, nu) if bias_correction else kind(mu, nu))

    return transformation(name, init, update)


def scale_by_rss(initial_accumulator_value=0.1, eps=1e-7):
    """Rescale by the root of the sum of all squared updates so far (Adagrad, Duchi et al.
    2011).

    Per leaf: `s = s + g**2` (s starts at `initial_accumulator_value`), then
    `out = g / sqrt(s + eps)` where s > 0, and 0 where s == 0.

    The state is `ScaleByRssState(sum_of_squares)`.

    Example:
      >>> tx = scale_by_rss(initial_accumulator_value=0.0, eps=0.0)
      >>> tx.update(np.array([3.0, 0.0]), tx.init(np.zeros(2)))[0]
      array([1., 0.])
    """
    name = "scale_by_rss"
    initial = as_float(name, "initial_accumulator_value", initial_accumulator_value)
    if initial < 0.0:
        raise ValueError(f"{name}: initial_accumulator_value must be >= 0, got {initial}")
    eps = as_float(name, "eps", eps)

    def update(updates, state, params=None):
        check_state(name, state, ScaleByRssState)

        def leaf(g, s):
            s = g * g + s
            positive = s > 0
            # rsqrt of 1 where s == 0: the value is discarded, and no division by zero warns
            return gnp.where(positive, _rsqrt(gnp.where(positive, s + eps, 1.0)), 0.0) * g, s

        out, s = _map(name, leaf, updates, ("state.sum_of_squares", state.sum_of_squares))
        return out, ScaleByRssState(s)

    return transformation(name, lambda params: ScaleByRssState(full_like(name, params, initial)),
                          update)


# ---- momentum and weight decay ---------------------------------------------------------------
def trace(decay, nesterov=False):
    """Momentum: a decaying sum of past updates (Polyak's heavy ball; Nesterov's with
    `nesterov=True`, Sutskever et al. 2013).

    Per leaf: `t = g + decay * t` (t starts at 0), and `out = t`, or `out = g + decay * t` with
    Nesterov. The state is `TraceState(trace)`.

    Example:
      >>> tx = trace(0.5)
      >>> state = tx.init(np.zeros(1))
      >>> out, state = tx.update(np.ones(1), state)
      >>> tx.update(np.ones(1), state)[0]                 # 1 + 0.5 * 1
      array([1.5])
    """
    name = "trace"
    decay = as_float(name, "decay", decay)

    def update(updates, state, params=None):
        check_state(name, state, TraceState)

        def leaf(g, t):
            t = g + decay * t
            return (g + decay * t if nesterov else t), t

        out, t = _map(name, leaf, updates, ("state.trace", state.trace))
        return out, TraceState(t)

    return transformation(name, lambda params: TraceState(full_like(name, params, 0.0)), update)


def add_decayed_weights(weight_decay=0.0, mask=None):
    """Add `weight_decay * params` to the updates (decoupled weight decay when it comes after an
    adaptive rescaling, as in `adamw`).

    Args:
      weight_decay: a real number, or a schedule (function of the step count).
      mask: None (decay every leaf); a pytree of True/False with the structure of the params,
        or a prefix of it (one flag for a whole subtree); or a function `updates -> such a
        pytree`. Leaves flagged False pass through unchanged. Biases and norm scales are
        usually left out: `mask=lambda p: ga.tree_map(lambda x: x.ndim > 1, p)`.

    The state is `EmptyState()`, or `WeightDecaySchedule(count)` for a scheduled decay. `update`
    needs the params.

    Example:
      >>> tx = add_decayed_weights(0.1, mask={"w": True, "b": False})
      >>> p = {"w": np.array([2.0]), "b": np.array([2.0])}
      >>> tx.update({"w": np.zeros(1), "b": np.zeros(1)}, tx.init(p), p)[0]
      {'b': array([0.]), 'w': array([0.2])}
    """
    name = "add_decayed_weights"
    scheduled = callable(weight_decay)
    if not scheduled:
        weight_decay = as_float(name, "weight_decay", weight_decay)
    kind = WeightDecaySchedule if scheduled else EmptyState

    def init(params):
        return WeightDecaySchedule(0) if scheduled else EmptyState()

    def update(updates, state, params=None):
        check_state(name, state, kind)
        if params is None:
            raise ValueError(f"{name}.update: needs the parameters; call "
                             f"update(grads, state, params).")
        if not scheduled and weight_decay == 0.0:
            return updates, state          # as optax: no decay, not even 0 * inf = nan
        if scheduled:
            count = _count(state)
            rate = as_float(name, f"weight_decay({count})", weight_decay(count))
            state = WeightDecaySchedule(count + 1)
        else:
            rate = weight_decay
        g_leaves, treedef = real_leaves(f"{name}.update", updates, "updates")
        p_leaves = leaves_like(f"{name}.update", params, treedef, g_leaves, "params")
        flags = (_mask_flags(name, mask(updates) if callable(mask) else mask, treedef)
                 if mask is not None else [True] * len(g_leaves))
        out = [g + rate * p if flag else g for g, p, flag in zip(g_leaves, p_leaves, flags)]
        return tree_unflatten(treedef, out), state

    return transformation(name, init, update)


def _mask_flags(name, mask, treedef):
    """One bool per leaf of `treedef`, from `mask`: a tree of bools whose structure is
    `treedef`'s or a prefix of it."""
    leaves, mask_def = tree_flatten(mask)
    for path, flag in zip(tree_paths(mask_def, "mask"), leaves):
        if not isinstance(flag, (bool, np.bool_)):
            raise TypeError(f"{name}: {path} is {type(flag).__name__}; mask leaves must be True "
                            f"or False.")
    flags = []

    def expand(m, t, it):
        if m.kind == "leaf":
            flags.extend([bool(next(it))] * t.num_leaves)
            return
        if m.kind != t.kind or m.meta != t.meta or len(m.children) != len(t.children):
            raise ValueError(f"{name}: mask has structure {mask_def}, which is neither the "
                             f"structure of the updates {treedef} nor a prefix of it.")
        for mc, tc in zip(m.children, t.children):
            expand(mc, tc, it)

    expand(mask_def, treedef, iter(leaves))
    return flags


# ---- clipping --------------------------------------------------------------------------------
def global_norm(tree):
    """The 2-norm of all leaves of `tree` taken together: a 0-d array of the leaves' namespace
    and promoted dtype, or 0.0 for a tree without leaves.

    Example:
      >>> global_norm({"a": np.array([3.0]), "b": np.array([[4.0]])})
      np.float64(5.0)
    """
    leaves = tree_flatten(tree)[0]
    if not leaves:
        return 0.0
    xp = backend.namespace(*leaves)
    return xp.sqrt(sum(xp.sum(xp.square(x)) for x in leaves))


def clip_by_global_norm(max_norm):
    """Scale the updates down so that their global 2-norm (`global_norm`) is at most
    `max_norm` (Pascanu et al. 2013).

    Each leaf `t` becomes `t` if the norm is below `max_norm`, else `t / norm * max_norm`: the
    direction never changes. The choice is made on the device (no Python branch on the norm),
    so on CuPy clipping never waits for the GPU.

    Args:
      max_norm: a positive real number (optax accepts any; 0 or less would turn every update
        into nan or flip its sign, so it is refused).

    The state is `EmptyState()`.

    Example:
      >>> tx = clip_by_global_norm(1.0)
      >>> tx.update({"w": np.array([3.0, 4.0])}, tx.init(None))[0]
      {'w': array([0.6, 0.8])}
    """
    name = "clip_by_global_norm"
    try:
        max_norm = as_float(name, "max_norm", max_norm)
    except TypeError as exc:
        raise TypeError(f"{exc}. clip_by_global_norm(max_norm) makes a gradient transformation "
                        f"to chain before the optimizer, e.g. "
                        f"chain(clip_by_global_norm(1.0), adam(1e-3)) (see CHANGELOG.md).") from None
    if not max_norm > 0.0:
        raise ValueError(f"{name}: max_norm must be positive, got {max_norm}")

    def update(updates, state, params=None):
        check_state(name, state, EmptyState)
        leaves, treedef = real_leaves(f"{name}.update", updates, "updates")
        if not leaves:
            return updates, state
        norm = global_norm(updates)
        xp = backend.namespace(norm)
        below = norm < max_norm
        # Dividing by max(norm, max_norm) is dividing by norm wherever its result is kept, and
        # never divides by zero where it is not.
        divisor = xp.maximum(norm, max_norm)

        def leaf(t):
            d = divisor.astype(t.dtype) if hasattr(t, "dtype") else divisor
            return gnp.where(below, t, (t / d) * max_norm)

        return tree_unflatten(treedef, [leaf(t) for t in leaves]), state

    return transformation(name, lambda params: EmptyState(), update)
