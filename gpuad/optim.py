"""`gpuad.optim`: functional optimizers on pytrees of parameters, in the optax style.

An optimizer is a pair of pure functions. Nothing is updated in place: `update` returns new
parameters and a new state, and the arrays passed in are left as they were.

    >>> import gpuad as ga, gpuad.numpy as gnp
    >>> from gpuad import optim
    >>> params = {"w": gnp.asarray([1.0, -2.0])}
    >>> opt = optim.adam(0.1)
    >>> state = opt.init(params)
    >>> for _ in range(3):
    ...     grads = ga.grad(lambda p: gnp.sum(p["w"] ** 2))(params)
    ...     params, state = opt.update(grads, state, params)

The state is a dict of plain data (the step count, a Python int, and pytrees of arrays shaped like
the parameters), so it can be saved and restored with the parameters. Arithmetic uses each leaf's
own dtype and device (NumPy or CuPy): the hyperparameters are Python floats, so float32 parameters
stay float32.

The learning rate `lr` of every optimizer is a float or a schedule, a function `step -> lr` of the
number of updates made before this one (0 for the first): see `constant`, `step_decay` and
`cosine_with_warmup`.
"""
import math
from typing import Callable, NamedTuple

from . import backend
from .tree import tree_flatten, tree_paths, tree_unflatten


class Optimizer(NamedTuple):
    """An optimizer: `init(params) -> state` and `update(grads, state, params) ->
    (params, state)`."""
    init: Callable
    update: Callable


# ---- learning-rate schedules -----------------------------------------------------------------
def constant(lr):
    """The schedule `step -> lr`, the same at every step.

    Example:
      >>> constant(0.1)(1000)
      0.1
    """
    lr = float(lr)
    return lambda step: lr


def step_decay(lr, step_size, gamma=0.1):
    """The schedule `step -> lr * gamma ** (step // step_size)`: multiplied by `gamma` every
    `step_size` updates (PyTorch's StepLR).

    Example:
      >>> [step_decay(1.0, 2, 0.5)(s) for s in range(5)]
      [1.0, 1.0, 0.5, 0.5, 0.25]
    """
    if int(step_size) < 1:
        raise ValueError(f"step_decay: step_size must be a positive int, got {step_size!r}")
    lr, step_size, gamma = float(lr), int(step_size), float(gamma)
    return lambda step: lr * gamma ** (int(step) // step_size)


def cosine_with_warmup(peak_lr, warmup_steps, total_steps, final_lr=0.0):
    """Linear warmup to `peak_lr`, then cosine decay to `final_lr` at `total_steps`.

    For `step < warmup_steps` the rate is `peak_lr * (step + 1) / warmup_steps` (the first update
    already moves; the last warmup step reaches `peak_lr`); after that it is
    `final_lr + (peak_lr - final_lr) * (1 + cos(pi * p)) / 2` with
    `p = (step - warmup_steps) / (total_steps - warmup_steps)`, and `final_lr` from `total_steps`
    on.

    Example:
      >>> s = cosine_with_warmup(1.0, warmup_steps=2, total_steps=6)
      >>> [round(s(t), 3) for t in range(7)]
      [0.5, 1.0, 1.0, 0.854, 0.5, 0.146, 0.0]
    """
    warmup_steps, total_steps = int(warmup_steps), int(total_steps)
    if warmup_steps < 0 or total_steps <= warmup_steps:
        raise ValueError(f"cosine_with_warmup: need 0 <= warmup_steps < total_steps, got "
                         f"warmup_steps={warmup_steps}, total_steps={total_steps}")
    peak_lr, final_lr = float(peak_lr), float(final_lr)

    def schedule(step):
        step = int(step)
        if step < warmup_steps:
            return peak_lr * (step + 1) / warmup_steps
        progress = min(1.0, (step - warmup_steps) / (total_steps - warmup_steps))
        return final_lr + (peak_lr - final_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return schedule


def _as_schedule(name, lr):
    if callable(lr):
        return lr
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr >= 0.0:
        raise TypeError(f"{name}: lr must be a non-negative float or a schedule step -> lr, "
                        f"got {lr!r}")
    return constant(lr)


# ---- the shared machinery --------------------------------------------------------------------
def _leaves_of_params(name, params):
    leaves, treedef = tree_flatten(params)
    for path, x in zip(tree_paths(treedef, "params"), leaves):
        kind = getattr(getattr(x, "dtype", None), "kind", "f" if isinstance(x, float) else None)
        if kind != "f":
            what = getattr(x, "dtype", type(x).__name__)
            raise TypeError(f"{name}: parameter {path} has type {what}; every parameter must be "
                            f"a floating array or Python float. Keep constants out of the "
                            f"parameter tree.")
    return leaves, treedef


def _zeros_like(x, fill=0.0):
    if isinstance(x, float):
        return fill
    xp = backend.namespace(x)
    return xp.full(x.shape, fill, dtype=x.dtype)


def _optimizer(name, lr, slots, step_fn, fill=None):
    """Build an Optimizer from a per-leaf rule.

    `slots` names the per-parameter state (e.g. ("m", "v")), each a pytree shaped like the
    parameters, zero-filled at init (or `fill[slot]`). `step_fn(p, g, slot_values, step, lr)`
    returns the new parameter and a tuple of new slot values, for one leaf; `step` is the 1-based
    index of this update and `lr` the schedule's value for it (a Python float).
    """
    schedule = _as_schedule(name, lr)
    fill = fill or {}

    def init(params):
        leaves, treedef = _leaves_of_params(f"{name}.init", params)
        state = {"step": 0}
        for slot in slots:
            state[slot] = tree_unflatten(treedef, [_zeros_like(x, fill.get(slot, 0.0))
                                                   for x in leaves])
        return state

    def update(grads, state, params):
        p_leaves, p_def = _leaves_of_params(f"{name}.update", params)
        g_leaves, g_def = tree_flatten(grads)
        if g_def != p_def:
            raise ValueError(f"{name}.update: grads have structure {g_def} but params have "
                             f"{p_def}; pass the gradient of the loss with respect to params.")
        for path, p, g in zip(tree_paths(p_def, "params"), p_leaves, g_leaves):
            if getattr(p, "shape", ()) != getattr(g, "shape", ()):
                raise ValueError(f"{name}.update: gradient for {path} has shape "
                                 f"{getattr(g, 'shape', ())} but the parameter has shape "
                                 f"{getattr(p, 'shape', ())}.")
        slot_leaves = []
        for slot in slots:
            leaves, slot_def = tree_flatten(state[slot])
            if slot_def != p_def:
                raise ValueError(f"{name}.update: state[{slot!r}] has structure {slot_def} but "
                                 f"params have {p_def}; was the state made by this optimizer's "
                                 f"init on these params?")
            slot_leaves.append(leaves)
        step = state["step"] + 1
        lr_t = float(schedule(step - 1))
        new_p, new_slots = [], [[] for _ in slots]
        for i, (p, g) in enumerate(zip(p_leaves, g_leaves)):
            p_new, values = step_fn(p, g, tuple(s[i] for s in slot_leaves), step, lr_t)
            new_p.append(p_new)
            for acc, v in zip(new_slots, values):
                acc.append(v)
        new_state = {"step": step}
        for slot, leaves in zip(slots, new_slots):
            new_state[slot] = tree_unflatten(p_def, leaves)
        return tree_unflatten(p_def, new_p), new_state

    return Optimizer(init, update)


def _sqrt(x):
    return backend.namespace(x).sqrt(x)


# ---- the optimizers --------------------------------------------------------------------------
def sgd(lr, momentum=0.0, nesterov=False, weight_decay=0.0):
    """Stochastic gradient descent, with optional (Nesterov) momentum and L2 weight decay.

    Per parameter, with `g` the gradient plus `weight_decay * p` (PyTorch's SGD):

        b = momentum * b + g                 (b starts at 0, so b = g at the first step)
        d = g + momentum * b   if nesterov   else   b
        p = p - lr * d

    Without momentum this is plain gradient descent `p = p - lr * g`.

    Args:
      lr: a float or a schedule `step -> lr`.
      momentum: in [0, 1).
      nesterov: use Nesterov's look-ahead form (needs momentum > 0).
      weight_decay: L2 penalty coefficient added to the gradient.

    Example:
      >>> opt = sgd(0.1, momentum=0.9)
      >>> state = opt.init({"w": np.ones(2)})
      >>> opt.update({"w": np.ones(2)}, state, {"w": np.ones(2)})[0]
      {'w': array([0.9, 0.9])}
    """
    momentum, weight_decay = float(momentum), float(weight_decay)
    if nesterov and momentum <= 0.0:
        raise ValueError("sgd: nesterov=True needs momentum > 0")

    def step_fn(p, g, slots, step, lr_t):
        if weight_decay:
            g = g + weight_decay * p
        if not momentum:
            return p - lr_t * g, ()
        b = momentum * slots[0] + g
        d = g + momentum * b if nesterov else b
        return p - lr_t * d, (b,)

    return _optimizer("sgd", lr, ("momentum",) if momentum else (), step_fn)


def adam(lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    """Adam (Kingma & Ba 2015, Algorithm 1, bias-corrected).

    Per parameter, at step t = 1, 2, ...:

        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        m_hat = m / (1 - b1**t);  v_hat = v / (1 - b2**t)
        p = p - lr * m_hat / (sqrt(v_hat) + eps)

    Example:
      >>> opt = adam(0.1)
      >>> state = opt.init(np.zeros(2))
      >>> opt.update(np.array([1.0, -3.0]), state, np.zeros(2))[0]   # first step: -lr * sign(g)
      array([-0.1,  0.1])
    """
    return _adam("adam", lr, b1, b2, eps, 0.0)


def adamw(lr=1e-3, b1=0.9, b2=0.999, eps=1e-8, weight_decay=1e-2):
    """AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay.

    The parameter first shrinks by `p = p - lr * weight_decay * p` (not through the gradient, so
    the decay is not rescaled by Adam's `v`), then takes the Adam step of `adam` (PyTorch's AdamW
    order). With `weight_decay=0` it is Adam.

    Example:
      >>> opt = adamw(0.1, weight_decay=0.5)
      >>> opt.update(np.zeros(1), opt.init(np.ones(1)), np.ones(1))[0]   # zero gradient: decay only
      array([0.95])
    """
    return _adam("adamw", lr, b1, b2, eps, float(weight_decay))


def _adam(name, lr, b1, b2, eps, weight_decay):
    b1, b2, eps = float(b1), float(b2), float(eps)
    if not (0.0 <= b1 < 1.0 and 0.0 <= b2 < 1.0):
        raise ValueError(f"{name}: b1 and b2 must be in [0, 1), got b1={b1}, b2={b2}")

    def step_fn(p, g, slots, step, lr_t):
        m, v = slots
        if weight_decay:
            p = p - (lr_t * weight_decay) * p
        m = b1 * m + (1.0 - b1) * g
        v = b2 * v + (1.0 - b2) * (g * g)
        m_hat = m / (1.0 - b1 ** step)
        v_hat = v / (1.0 - b2 ** step)
        return p - lr_t * m_hat / (_sqrt(v_hat) + eps), (m, v)

    return _optimizer(name, lr, ("m", "v"), step_fn)


def rmsprop(lr=1e-2, decay=0.99, eps=1e-8, momentum=0.0):
    """RMSprop (Tieleman & Hinton 2012) in PyTorch's form (eps outside the square root).

    Per parameter:

        v = decay * v + (1 - decay) * g**2
        d = g / (sqrt(v) + eps)
        b = momentum * b + d;  p = p - lr * b      with momentum
        p = p - lr * d                             without

    Example:
      >>> opt = rmsprop(0.01, decay=0.0, eps=0.0)
      >>> opt.update(np.array([4.0]), opt.init(np.zeros(1)), np.zeros(1))[0]   # g / |g|
      array([-0.01])
    """
    decay, eps, momentum = float(decay), float(eps), float(momentum)

    def step_fn(p, g, slots, step, lr_t):
        v = decay * slots[0] + (1.0 - decay) * (g * g)
        d = g / (_sqrt(v) + eps)
        if not momentum:
            return p - lr_t * d, (v,)
        b = momentum * slots[1] + d
        return p - lr_t * b, (v, b)

    return _optimizer("rmsprop", lr, ("v", "momentum") if momentum else ("v",), step_fn)


def adagrad(lr=1e-2, eps=1e-10, initial_accumulator=0.0):
    """Adagrad (Duchi, Hazan & Singer 2011).

    Per parameter:

        s = s + g**2                       (s starts at `initial_accumulator`)
        p = p - lr * g / (sqrt(s) + eps)

    Example:
      >>> opt = adagrad(1.0, eps=0.0)
      >>> opt.update(np.array([2.0]), opt.init(np.zeros(1)), np.zeros(1))[0]
      array([-1.])
    """
    eps = float(eps)

    def step_fn(p, g, slots, step, lr_t):
        s = slots[0] + g * g
        return p - lr_t * g / (_sqrt(s) + eps), (s,)

    return _optimizer("adagrad", lr, ("sum",), step_fn, fill={"sum": float(initial_accumulator)})


# ---- gradient transformations ----------------------------------------------------------------
def global_norm(tree):
    """The 2-norm of all leaves of `tree` taken together, as a 0-d array (NumPy scalar) of the
    leaves' namespace and promoted dtype; 0.0 for a tree without leaves.

    Example:
      >>> global_norm({"a": np.array([3.0]), "b": np.array([[4.0]])})
      np.float64(5.0)
    """
    leaves = tree_flatten(tree)[0]
    if not leaves:
        return 0.0
    xp = backend.namespace(*leaves)
    total = sum(xp.sum(xp.square(x)) for x in leaves)
    return xp.sqrt(total)


def clip_by_global_norm(grads, max_norm):
    """Scale `grads` down so that their global 2-norm is at most `max_norm`.

    Every leaf is multiplied by `max_norm / max(norm, max_norm)`: by 1 when the norm is already
    small enough, so the direction never changes. No Python branch on the norm, so on CuPy the
    clipping does not wait for the device.

    Args:
      grads: a pytree of floating arrays (or Python floats).
      max_norm: a positive float.

    Returns:
      `(clipped, norm)`: the scaled pytree (new arrays; `grads` is untouched) and the global norm
      before clipping (as `global_norm` returns it).

    Example:
      >>> g, norm = clip_by_global_norm({"w": np.array([3.0, 4.0])}, 1.0)
      >>> g["w"], norm
      (array([0.6, 0.8]), np.float64(5.0))
    """
    max_norm = float(max_norm)
    if not max_norm > 0.0:
        raise ValueError(f"clip_by_global_norm: max_norm must be positive, got {max_norm}")
    norm = global_norm(grads)
    leaves, treedef = tree_flatten(grads)
    if not leaves:
        return grads, norm
    scale = max_norm / backend.namespace(norm).maximum(norm, max_norm)
    clipped = [g * (scale.astype(g.dtype) if hasattr(g, "dtype") else scale) for g in leaves]
    return tree_unflatten(treedef, clipped), norm
