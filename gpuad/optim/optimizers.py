"""The optimizers, each a chain of building blocks exactly as optax builds it: `sgd`, `adam`,
`adamw`, `rmsprop`, `adagrad`.

Each takes `learning_rate` first: a real number or a schedule (a function of the number of
updates made before this one). Arguments whose position differs between optax and gpuad's
optimizers before they followed optax (`adamw`'s `weight_decay`, `adagrad`'s `eps`, `rmsprop`'s
`momentum`...) are keyword-only, so that neither an optax call nor an old gpuad call can bind a
value to the wrong argument silently.
"""
from .base import identity, named_chain
from .transforms import (
    add_decayed_weights,
    scale_by_adam,
    scale_by_learning_rate,
    scale_by_rms,
    scale_by_rss,
    scale_by_stddev,
    trace,
)


def sgd(learning_rate, momentum=None, nesterov=False):
    """Stochastic gradient descent, with optional (Nesterov) momentum:
    `chain(trace(momentum, nesterov), scale_by_learning_rate(learning_rate))`.

    Per leaf, with momentum (`m` starts at 0):

        m = g + momentum * m
        updates = -learning_rate * m                       (nesterov=False)
        updates = -learning_rate * (g + momentum * m)      (nesterov=True)

    and `updates = -learning_rate * g` without. With a constant learning rate this is PyTorch's
    SGD. L2 weight decay is a transformation of its own:
    `chain(add_decayed_weights(wd), sgd(lr, momentum))`.

    Args:
      learning_rate: a real number or a schedule.
      momentum: None (no momentum) or the decay of the trace.
      nesterov: Nesterov's momentum. optax ignores it without momentum; here that is an error,
        since the call asks for something it would not get.

    Example:
      >>> opt = sgd(0.1, momentum=0.9)
      >>> params = {"w": np.ones(2)}
      >>> updates, state = opt.update({"w": np.ones(2)}, opt.init(params), params)
      >>> updates
      {'w': array([-0.1, -0.1])}
    """
    if nesterov and momentum is None:
        raise ValueError("sgd: nesterov=True needs a momentum")
    return named_chain("sgd", identity() if momentum is None else trace(momentum, nesterov),
                       scale_by_learning_rate(learning_rate))


def adam(learning_rate, b1=0.9, b2=0.999, eps=1e-8, *, eps_root=0.0, nesterov=False):
    """Adam (Kingma & Ba 2015, Algorithm 1, as optax and PyTorch):
    `chain(scale_by_adam(b1, b2, eps, eps_root, nesterov=nesterov),
    scale_by_learning_rate(learning_rate))`.

    Per leaf, at the t-th update: `updates = -learning_rate * mu_hat / (sqrt(nu_hat + eps_root)
    + eps)` with the bias-corrected moments of `scale_by_adam`; `nesterov=True` is NAdam.

    Args:
      learning_rate: a real number or a schedule.
      b1, b2, eps: as `scale_by_adam`.
      eps_root, nesterov: as `scale_by_adam`; keyword-only (optax's `mu_dtype` is not offered).

    Example:
      >>> opt = adam(0.1)
      >>> updates, state = opt.update(np.array([1.0, -3.0]), opt.init(np.zeros(2)))
      >>> updates                           # the first step is -lr * sign(g)
      array([-0.1,  0.1])
    """
    return named_chain("adam", scale_by_adam(b1, b2, eps, eps_root, nesterov=nesterov),
                       scale_by_learning_rate(learning_rate))


def adamw(learning_rate, b1=0.9, b2=0.999, eps=1e-8, *, eps_root=0.0, weight_decay=1e-4,
          mask=None, nesterov=False):
    """AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay,
    `chain(scale_by_adam(...), add_decayed_weights(weight_decay, mask),
    scale_by_learning_rate(learning_rate))`.

    Per leaf: `updates = -learning_rate * (adam_direction + weight_decay * params)`; the decay
    is not divided by Adam's second moment, and it scales with the learning rate (so with a
    schedule). With `weight_decay=0` it is `adam`.

    Args:
      learning_rate: a real number or a schedule.
      b1, b2, eps: as `adam`.
      eps_root, nesterov: as `adam`, keyword-only.
      weight_decay: a real number or a schedule; optax's default 1e-4 (PyTorch's is 1e-2).
      mask: which leaves decay, as `add_decayed_weights`.

    `update` needs the params.

    Example:
      >>> opt = adamw(0.1, weight_decay=0.5)
      >>> p = np.ones(1)
      >>> opt.update(np.zeros(1), opt.init(p), p)[0]      # zero gradient: the decay alone
      array([-0.05])
    """
    return named_chain("adamw", scale_by_adam(b1, b2, eps, eps_root, nesterov=nesterov),
                       add_decayed_weights(weight_decay, mask),
                       scale_by_learning_rate(learning_rate))


def rmsprop(learning_rate, decay=0.9, eps=1e-8, *, initial_scale=0.0, eps_in_sqrt=True,
            centered=False, momentum=None, nesterov=False, bias_correction=False):
    """RMSprop (Tieleman & Hinton 2012) in optax's form:
    `chain(scale_by_rms(...) or scale_by_stddev(...) if centered,
    scale_by_learning_rate(learning_rate), trace(momentum, nesterov) if momentum)`.

    Per leaf: `nu = decay * nu + (1 - decay) * g**2`, `updates = -learning_rate * g /
    sqrt(nu + eps)`; the momentum trace, if any, accumulates these scaled updates.

    optax's defaults differ from PyTorch's: `decay=0.9` (PyTorch's alpha=0.99) and `eps` inside
    the square root. PyTorch's RMSprop is `rmsprop(lr, decay=0.99, eps_in_sqrt=False)`.

    Args:
      learning_rate: a real number or a schedule.
      decay, eps: as `scale_by_rms`.
      initial_scale, eps_in_sqrt, bias_correction: as `scale_by_rms`; keyword-only.
      centered: divide by the root of the centred variance (`scale_by_stddev`).
      momentum, nesterov: a `trace` after the learning rate; momentum None means none.

    Example:
      >>> opt = rmsprop(0.01, decay=0.0, eps=0.0)
      >>> opt.update(np.array([4.0]), opt.init(np.zeros(1)))[0]   # -lr * g / |g|
      array([-0.01])
    """
    if nesterov and momentum is None:
        raise ValueError("rmsprop: nesterov=True needs a momentum")
    rescale = scale_by_stddev if centered else scale_by_rms
    return named_chain("rmsprop",
                       rescale(decay, eps, initial_scale, eps_in_sqrt, bias_correction),
                       scale_by_learning_rate(learning_rate),
                       identity() if momentum is None else trace(momentum, nesterov))


def adagrad(learning_rate, *, initial_accumulator_value=0.1, eps=1e-7):
    """Adagrad (Duchi, Hazan & Singer 2011):
    `chain(scale_by_rss(initial_accumulator_value, eps), scale_by_learning_rate(learning_rate))`.

    Per leaf: `s = s + g**2` (s starts at `initial_accumulator_value`), then
    `updates = -learning_rate * g / sqrt(s + eps)`. optax's defaults and form, with `eps` inside
    the square root (PyTorch: initial 0, eps 1e-10 outside).

    Example:
      >>> opt = adagrad(1.0, initial_accumulator_value=0.0, eps=0.0)
      >>> opt.update(np.array([2.0]), opt.init(np.zeros(1)))[0]
      array([-1.])
    """
    return named_chain("adagrad", scale_by_rss(initial_accumulator_value, eps),
                       scale_by_learning_rate(learning_rate))
