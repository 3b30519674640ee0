"""The draws of `gnp.random` (random.py gathers them with RandomState): NumPy's random API on the
default backend, with a state you can save and restore.

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

`normal`, `uniform`, `laplace`, `logistic`, `gumbel`, `exponential`, `lognormal` and
`rayleigh` are differentiable in their location and scale parameters (the reparameterization,
`loc + scale * noise`). The other distributions are not differentiable: given a traced
parameter they raise, rather than return samples whose derivative is silently 0. The functions
written here accept `dtype=` (e.g. float32) as CuPy's do, so no float64 array is made and cast.

`RandomState` (random_state.py) is NumPy's legacy generator class and `default_rng(seed)`
(generator.py) makes NumPy's current `Generator`, each instance with a state of its own.
Checkpointing must replay those draws too, so it saves and restores `get_all_states()`: this
global state and that of every live generator registered with `register` (RandomState and
Generator instances register themselves; any generator with `_save()` and `_restore(saved)`
methods can).
`get_state`/`set_state` stay about the global state only, as NumPy's do.
"""
import weakref

import numpy as np

from .. import backend
from ..trace import TRACER_TYPES, namespace_of, primal_value, raw_shape
from .elementwise import exp
from .indexing import getitem, take

_state = {"seed": 0, "counter": 0}
_generators = weakref.WeakSet()  # generators with states of their own (RandomState, Generator)


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


def register(generator):
    """Include `generator` in `get_all_states`: it must have `_save()` (its state, cheap to
    keep) and `_restore(saved)`. Held weakly, so a generator no longer used drops out."""
    _generators.add(generator)


def registered_generators():
    """The live registered generators (a set)."""
    return set(_generators)


def get_all_states():
    """The global state and the state of every live registered generator, for
    `set_all_states`. Checkpointing saves this before running a function it will recompute."""
    # No live generator is the usual case, and iterating an empty WeakSet would cost 2% of a
    # checkpointed scan's instructions (benchmarks/callgrind.py scan_revolve; 0.5% with this).
    if not _generators:
        return get_state(), ()
    return get_state(), tuple([(weakref.ref(g), g._save()) for g in list(_generators)])


def set_all_states(states):
    """Restore what `get_all_states` returned: the global state and each generator that is
    still alive (generators made since are left as they are)."""
    global_state, saved = states
    set_state(global_state)
    for ref, generator_state in saved:
        generator = ref()
        if generator is not None:
            generator._restore(generator_state)


def refuse_traced(name, args, kwargs):
    """Raise if a parameter of a distribution without a reparameterization is traced."""
    for value in list(args) + list(kwargs.values()):
        values = value if isinstance(value, (list, tuple)) else (value,)
        if any(type(v) in TRACER_TYPES for v in values):
            raise NotImplementedError(
                f"random.{name}: not differentiable in its parameters (it has no "
                f"reparameterization); draw with their values, e.g. ga.stop_gradient(p), if no "
                f"derivative is meant")


def next_stream(like=()):
    """The stream the next draw takes, and its namespace (that of the arrays in `like`, else the
    default one); advances the global state. gpuad/jit/draws.py replaces it while recording."""
    arrays = [a for a in like if hasattr(a, "shape")]
    xp = namespace_of(*arrays) if arrays else backend.default_namespace()
    stream = backend.random_stream(xp, _state["seed"], _state["counter"])
    _state["counter"] += 1
    return stream, xp


def _shape(size, *params):
    if size is not None:
        return (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    shapes = [raw_shape(p) for p in params]
    return np.broadcast_shapes(*shapes) if shapes else ()


def _float_dtype(dtype, *params):
    if dtype is not None:
        return np.dtype(dtype)
    kinds = [p.dtype for p in params if hasattr(p, "dtype")]
    floats = [k for k in kinds if k.kind == "f"]
    return np.result_type(*floats) if floats else np.dtype(np.float64)


def standard_normal(size=None, dtype=None):
    """Samples from N(0, 1)."""
    stream, _ = next_stream()
    return stream.standard_normal(_shape(size), dtype=_float_dtype(dtype))


def random(size=None, dtype=None):
    """Uniform samples in [0, 1)."""
    stream, _ = next_stream()
    return stream.random(_shape(size), dtype=_float_dtype(dtype))


random_sample = random
sample = ranf = random


def rand(*shape, dtype=None):
    """Uniform samples in [0, 1) of the given shape: `rand(2, 3)`."""
    return random(shape, dtype)


def randn(*shape, dtype=None):
    """Standard normal samples of the given shape: `randn(2, 3)`."""
    return standard_normal(shape, dtype)


def normal(loc=0.0, scale=1.0, size=None, dtype=None):
    """Samples from N(loc, scale^2); differentiable in loc and scale."""
    shape = _shape(size, loc, scale)
    stream, _ = next_stream((loc, scale))
    noise = stream.standard_normal(shape, dtype=_float_dtype(dtype, loc, scale))
    return loc + scale * noise


def uniform(low=0.0, high=1.0, size=None, dtype=None):
    """Uniform samples in [low, high); differentiable in low and high."""
    shape = _shape(size, low, high)
    stream, _ = next_stream((low, high))
    u = stream.random(shape, dtype=_float_dtype(dtype, low, high))
    return low + (high - low) * u


def exponential(scale=1.0, size=None, dtype=None):
    """Exponential samples with mean `scale`; differentiable in scale."""
    shape = _shape(size, scale)
    stream, _ = next_stream((scale,))
    return scale * stream.standard_exponential(shape, dtype=_float_dtype(dtype, scale))


def laplace(loc=0.0, scale=1.0, size=None, dtype=None):
    """Laplace samples; differentiable in loc and scale."""
    shape = _shape(size, loc, scale)
    stream, xp = next_stream((loc, scale))
    u = stream.random(shape, dtype=_float_dtype(dtype, loc, scale)) - 0.5
    return loc - scale * (xp.sign(u) * xp.log1p(-2.0 * xp.abs(u)))


def logistic(loc=0.0, scale=1.0, size=None, dtype=None):
    """Logistic samples; differentiable in loc and scale."""
    shape = _shape(size, loc, scale)
    stream, xp = next_stream((loc, scale))
    u = stream.random(shape, dtype=_float_dtype(dtype, loc, scale))
    tiny = np.finfo(u.dtype).tiny
    return loc + scale * (xp.log(u + tiny) - xp.log1p(-u))


def gumbel(loc=0.0, scale=1.0, size=None, dtype=None):
    """Gumbel samples; differentiable in loc and scale."""
    shape = _shape(size, loc, scale)
    stream, xp = next_stream((loc, scale))
    u = stream.random(shape, dtype=_float_dtype(dtype, loc, scale))
    tiny = np.finfo(u.dtype).tiny
    return loc - scale * xp.log(-xp.log(u + tiny))


def randint(low, high=None, size=None, dtype=np.int64):
    """Integers in [low, high) (or [0, low) with one bound), not differentiable."""
    if high is None:
        low, high = 0, low
    stream, _ = next_stream()
    return stream.integers(low, high, size=_shape(size), dtype=dtype)


integers = randint


def permutation(x):
    """A permuted range (int x) or a permuted copy of x along its first axis (differentiable
    in x)."""
    stream, xp = next_stream((x,) if hasattr(x, "shape") else ())
    n = int(x) if isinstance(x, (int, np.integer)) else len(x)
    order = xp.argsort(stream.random(n))
    if isinstance(x, (int, np.integer)):
        return order
    return getitem(x, order)


def choice(a, size=None, replace=True, p=None):
    """Samples from `a` (an int n means range(n)), as `numpy.random.choice`; differentiable in
    the array `a`, not in the probabilities `p` (a traced p raises)."""
    refuse_traced("choice (p)", (p,), {})
    stream, xp = next_stream()
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
    return take(a, picks, axis=0)


def _plain(name):
    def draw(*args, **kwargs):
        refuse_traced(name, args, kwargs)
        stream, xp = next_stream()
        method = getattr(stream, name, None)
        if method is None:
            raise NotImplementedError(
                f"random.{name}: {xp.__name__}'s random Generator has no {name}; draw it on the "
                f"host, under ga.set_backend('numpy'), and move the result with gnp.asarray")
        return method(*args, **kwargs)
    draw.__name__ = draw.__qualname__ = name
    draw.__doc__ = f"`numpy.random.{name}` (not differentiable)."
    return draw


# Distributions without a reparameterization, drawn by the backend's Generator.
(binomial, poisson, gamma, beta, chisquare, dirichlet, f, geometric, hypergeometric, logseries,
 multinomial, multivariate_normal, negative_binomial, noncentral_chisquare, noncentral_f, pareto,
 power, standard_cauchy, standard_exponential, standard_gamma, standard_t, triangular,
 vonmises, wald, weibull, zipf, bytes) = (_plain(name) for name in (
    "binomial", "poisson", "gamma", "beta", "chisquare", "dirichlet", "f", "geometric",
    "hypergeometric", "logseries", "multinomial", "multivariate_normal", "negative_binomial",
    "noncentral_chisquare", "noncentral_f", "pareto", "power", "standard_cauchy",
    "standard_exponential", "standard_gamma", "standard_t", "triangular", "vonmises", "wald",
    "weibull", "zipf", "bytes"))


def lognormal(mean=0.0, sigma=1.0, size=None, dtype=None):
    """exp of N(mean, sigma^2) samples; differentiable in mean and sigma."""
    return exp(normal(mean, sigma, size, dtype))


def rayleigh(scale=1.0, size=None, dtype=None):
    """Rayleigh samples of mode `scale`, scale * sqrt(2 E) with E standard exponential;
    differentiable in scale."""
    shape = _shape(size, scale)
    stream, xp = next_stream((scale,))
    e = stream.standard_exponential(shape, dtype=_float_dtype(dtype, scale))
    return scale * xp.sqrt(2.0 * e)


def shuffle(x):
    """`numpy.random.shuffle`: permute a plain array in place along its first axis (None).

    A traced array cannot be changed in place; `x = gnp.random.permutation(x)` is the
    functional form (differentiable)."""
    if type(x) in TRACER_TYPES:
        raise TypeError("random.shuffle: shuffles in place, which a traced array cannot be; "
                        "use x = gnp.random.permutation(x), which returns a shuffled copy")
    stream, xp = next_stream((x,))
    x[...] = x[xp.argsort(stream.random(len(x)))]  # the order permutation(x) would give


def bernoulli(p, size=None, dtype=None):
    """0/1 samples with P(1) = p, in p's floating dtype (for dropout masks)."""
    shape = _shape(size, p)
    stream, _ = next_stream((p,))
    u = stream.random(shape, dtype=_float_dtype(dtype, p))
    return (u < primal_value(p)).astype(_float_dtype(dtype, p))

