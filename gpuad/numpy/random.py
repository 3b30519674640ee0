"""`gnp.random`: NumPy's random API on the default backend, with a state you can save and restore.

The state is a pair (seed, counter): each call draws from its own stream, keyed by the seed and
the number of calls made before it (`gpuad.backend.random_stream`). That makes the state tiny and
device-independent, so `gpuad.checkpoint` saves it before a checkpointed function and restores it
when recomputing, and the recomputation draws exactly the same numbers.

    >>> gnp.random.seed(0)
    >>> state = gnp.random.get_state()
    >>> a = gnp.random.normal(size=3)
    >>> gnp.random.set_state(state)
    >>> bool((gnp.random.normal(size=3) == a).all())
    True

`normal`, `uniform`, `laplace`, `logistic`, `gumbel` and `exponential` are differentiable in their
location and scale parameters (the reparameterization, `loc + scale * noise`). Every function
accepts `dtype=` (e.g. float32) as CuPy's do, so no float64 array is made and cast.
"""
import numpy as np

from .. import backend
from ..trace import primal_value

_state = {"seed": 0, "counter": 0}


def seed(seed=None):
    """Reset the state to stream 0 of `seed` (None: fresh entropy from the OS)."""
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % 2**63)
    _state["seed"] = int(seed)
    _state["counter"] = 0


def get_state():
    """The random state: a (seed, counter) tuple to pass to `set_state`."""
    return (_state["seed"], _state["counter"])


def set_state(state):
    """Restore a state returned by `get_state`."""
    s, c = state
    _state["seed"], _state["counter"] = int(s), int(c)


def _next_stream(like=()):
    arrays = [primal_value(a) for a in like if hasattr(primal_value(a), "shape")]
    xp = backend.namespace(*arrays) if arrays else backend.default_namespace()
    stream = backend.random_stream(xp, _state["seed"], _state["counter"])
    _state["counter"] += 1
    return stream, xp


def _shape(size, *params):
    if size is not None:
        return (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    shapes = [np.shape(primal_value(p)) for p in params]
    return np.broadcast_shapes(*shapes) if shapes else ()


def _float_dtype(dtype, *params):
    if dtype is not None:
        return np.dtype(dtype)
    kinds = [primal_value(p).dtype for p in params if hasattr(primal_value(p), "dtype")]
    floats = [k for k in kinds if k.kind == "f"]
    return np.result_type(*floats) if floats else np.dtype(np.float64)


def standard_normal(size=None, dtype=None):
    """Samples from N(0, 1)."""
    stream, _ = _next_stream()
    return stream.standard_normal(_shape(size), dtype=_float_dtype(dtype))


def random(size=None, dtype=None):
    """Uniform samples in [0, 1)."""
    stream, _ = _next_stream()
    return stream.random(_shape(size), dtype=_float_dtype(dtype))


random_sample = random
sample = random


def rand(*shape, dtype=None):
    """Uniform samples in [0, 1) of the given shape: `rand(2, 3)`."""
    return random(shape, dtype)


def randn(*shape, dtype=None):
    """Standard normal samples of the given shape: `randn(2, 3)`."""
    return standard_normal(shape, dtype)


def normal(loc=0.0, scale=1.0, size=None, dtype=None):
    """Samples from N(loc, scale^2); differentiable in loc and scale."""
    shape = _shape(size, loc, scale)
    stream, _ = _next_stream((loc, scale))
    noise = stream.standard_normal(shape, dtype=_float_dtype(dtype, loc, scale))
    return loc + scale * noise


def uniform(low=0.0, high=1.0, size=None, dtype=None):
    """Uniform samples in [low, high); differentiable in low and high."""
    shape = _shape(size, low, high)
    stream, _ = _next_stream((low, high))
    u = stream.random(shape, dtype=_float_dtype(dtype, low, high))
    return low + (high - low) * u


def exponential(scale=1.0, size=None, dtype=None):
    """Exponential samples with mean `scale`; differentiable in scale."""
    shape = _shape(size, scale)
    stream, _ = _next_stream((scale,))
    return scale * stream.standard_exponential(shape, dtype=_float_dtype(dtype, scale))


def laplace(loc=0.0, scale=1.0, size=None, dtype=None):
    """Laplace samples; differentiable in loc and scale."""
    shape = _shape(size, loc, scale)
    stream, xp = _next_stream((loc, scale))
    u = stream.random(shape, dtype=_float_dtype(dtype, loc, scale)) - 0.5
    return loc - scale * (xp.sign(u) * xp.log1p(-2.0 * xp.abs(u)))


def logistic(loc=0.0, scale=1.0, size=None, dtype=None):
    """Logistic samples; differentiable in loc and scale."""
    shape = _shape(size, loc, scale)
    stream, xp = _next_stream((loc, scale))
    u = stream.random(shape, dtype=_float_dtype(dtype, loc, scale))
    tiny = np.finfo(u.dtype).tiny
    return loc + scale * (xp.log(u + tiny) - xp.log1p(-u))


def gumbel(loc=0.0, scale=1.0, size=None, dtype=None):
    """Gumbel samples; differentiable in loc and scale."""
    shape = _shape(size, loc, scale)
    stream, xp = _next_stream((loc, scale))
    u = stream.random(shape, dtype=_float_dtype(dtype, loc, scale))
    tiny = np.finfo(u.dtype).tiny
    return loc - scale * xp.log(-xp.log(u + tiny))


def randint(low, high=None, size=None, dtype=np.int64):
    """Integers in [low, high) (or [0, low) with one bound), not differentiable."""
    if high is None:
        low, high = 0, low
    stream, _ = _next_stream()
    return stream.integers(low, high, size=_shape(size), dtype=dtype)


integers = randint


def permutation(x):
    """A permuted range (int x) or a permuted copy of x along its first axis."""
    stream, xp = _next_stream((x,) if hasattr(x, "shape") else ())
    n = int(x) if isinstance(x, (int, np.integer)) else len(x)
    order = xp.argsort(stream.random(n))
    if isinstance(x, (int, np.integer)):
        return order
    from .manipulation import getitem
    return getitem(x, order)


def choice(a, size=None, replace=True, p=None):
    """Samples from `a` (an int n means range(n)), as `numpy.random.choice`; not differentiable."""
    stream, xp = _next_stream()
    n = int(a) if isinstance(a, (int, np.integer)) else len(a)
    shape = _shape(size)
    count = int(np.prod(shape))
    if p is None and replace:
        picks = stream.integers(0, n, size=count)
    elif p is None:
        if count > n:
            raise ValueError(f"random.choice: cannot take {count} samples from {n} without "
                             f"replacement")
        picks = xp.argsort(stream.random(n))[:count]
    else:
        p = xp.asarray(primal_value(p), dtype=np.float64)
        if not replace:
            keys = xp.log(stream.random(n)) / p  # Efraimidis-Spirakis weighted sampling
            picks = xp.argsort(-keys)[:count]
        else:
            cdf = xp.cumsum(p)
            picks = xp.searchsorted(cdf / cdf[-1], stream.random(count), side="right")
            picks = xp.minimum(picks, n - 1)
    picks = picks.reshape(shape)
    if isinstance(a, (int, np.integer)):
        return picks
    from .manipulation import take
    return take(a, picks, axis=0)


def binomial(n, p, size=None):
    """Binomial samples (not differentiable)."""
    stream, _ = _next_stream()
    return stream.binomial(n, p, size=_shape(size, n, p))


def poisson(lam=1.0, size=None):
    """Poisson samples (not differentiable)."""
    stream, _ = _next_stream()
    return stream.poisson(lam, size=_shape(size, lam))


def gamma(shape, scale=1.0, size=None):
    """Gamma samples (not differentiable)."""
    stream, _ = _next_stream()
    return stream.gamma(shape, scale, size=_shape(size, shape, scale))


def beta(a, b, size=None):
    """Beta samples (not differentiable)."""
    stream, _ = _next_stream()
    return stream.beta(a, b, size=_shape(size, a, b))


def bernoulli(p, size=None, dtype=None):
    """0/1 samples with P(1) = p, in p's floating dtype (for dropout masks)."""
    shape = _shape(size, p)
    stream, _ = _next_stream((p,))
    u = stream.random(shape, dtype=_float_dtype(dtype, p))
    return (u < primal_value(p)).astype(_float_dtype(dtype, p))
