"""`gnp.random.RandomState`: NumPy's legacy generator class, with its own state, on the backend
that is the default when it is made.

On the CPU it is NumPy's own: `RandomState(seed)` draws exactly the numbers
`numpy.random.RandomState(seed)` draws, method for method (it wraps one, and the differentiable
methods draw the standardized noise from it in the same order: `normal(loc, scale)` is
`loc + scale * standard_normal()`, bit for bit NumPy's value). `get_state`/`set_state` are
NumPy's (the MT19937 state tuple).

On CuPy no generator can reproduce NumPy's MT19937 stream, nor copy its state out, so a
RandomState made while CuPy is the default draws from counter-keyed Philox streams: each method
is `gnp.random`'s function of the same name, run on the instance's own (seed, counter) state
instead of the global one (which is left as it was). Seeded alike, it repeats its own draws, not
NumPy's; its state is the tuple `("gpuad.Philox", seed, counter)`. Like gnp.random's, such draws
are made where the parameters live, else on the default backend; the distributions CuPy's
Generator lacks (standard_cauchy, pareto, weibull...) raise NotImplementedError there.

Either way the instance registers with `gnp.random.register`, so `gpuad.checkpoint` saves its
state with the global one and a recomputation draws the same numbers. On the CPU that state is
MT19937's 624 words (2.5 KB), copied for each live instance at every checkpoint snapshot.

Differentiable (reparameterized) in their parameters: normal, uniform, exponential, laplace,
logistic, gumbel, lognormal, rayleigh, and choice/permutation in the array they pick from.
The other distributions raise if given a traced parameter. `shuffle` permutes a plain array in
place, as NumPy's; for a traced array `x = rs.permutation(x)` is the functional form.
"""
import numpy as np

from .. import backend
from ..trace import TRACER_TYPES, primal_value
from . import sampling as _random
from .elementwise import exp
from .helpers import refuse_vmap as _refuse_vmap
from .helpers import shape_of as _shape_of
from .indexing import take

_STREAM_TAG = "gpuad.Philox"


def _host_available():
    """Whether a generator made now can be NumPy's own class: NumPy's MT19937 and PCG64 streams
    exist on the host only."""
    return backend.default_namespace() is np


def _stream_seed(seed):
    return int(np.random.SeedSequence(seed).generate_state(1, np.uint64)[0])


def _traced(*values):
    return any(type(v) in TRACER_TYPES for v in values)


def _size(size, *params):
    """The draw's size: `size`, else the parameters' broadcast shape (None for scalars, so
    the draw is a Python float as NumPy's)."""
    if size is not None:
        return size
    shape = np.broadcast_shapes(*[_shape_of(primal_value(p)) for p in params])
    return shape or None


class OwnState:
    """What generator classes with a state of their own share (RandomState, Generator): drawing
    from a host generator `_host` (NumPy's own class, so the draws are NumPy's), or, when made
    while CuPy is the default, from gnp.random's counter-keyed Philox streams on the instance's
    own (seed, counter); the reparameterized draws; membership of the checkpoint registry.

    A subclass sets `_name` (for messages) and calls `_start(make_host, seed)`."""

    _name = "generator"

    def _start(self, make_host, seed):
        self._host = make_host(seed) if _host_available() else None
        if self._host is None:
            self._seed, self._counter = _stream_seed(seed), 0
        _random.register(self)

    def _stream_state(self):
        return (_STREAM_TAG, self._seed, self._counter)

    def _set_stream_state(self, state):
        if not (isinstance(state, tuple) and len(state) == 3 and state[0] == _STREAM_TAG):
            raise ValueError(f"{self._name}.set_state: this generator draws from Philox streams "
                             f"(it was made with CuPy the default), whose state is "
                             f"({_STREAM_TAG!r}, seed, counter); got {type(state).__name__}")
        self._seed, self._counter = int(state[1]), int(state[2])

    def _draw(self, name, *args, **kwargs):
        """The host generator's method `name`, else gnp.random's function of that name run on
        this instance's own stream state."""
        if self._host is not None:
            return getattr(self._host, name)(*args, **kwargs)
        fn = getattr(_random, name, None)
        if fn is None:
            raise NotImplementedError(f"{self._name}.{name}: not available on Philox streams "
                                      f"(this generator was made with CuPy the default); make "
                                      f"it under ga.set_backend('numpy') to draw on the host")
        global_state = _random.get_state()
        _random.set_state((self._seed, self._counter))
        try:
            return fn(*args, **kwargs)
        finally:
            self._seed, self._counter = _random.get_state()
            _random.set_state(global_state)

    def _reparameterized(self, name, params, size, sample):
        """The draw of `name` with these parameters; for traced ones `sample(shape)`, which
        draws the standardized noise (the host's own draw of the same shape) and moves it."""
        if not _traced(*params):
            return self._draw(name, *params, size=size)
        _refuse_vmap(f"{self._name}.{name}", *params)
        return sample(_size(size, *params))

    # ---- the reparameterized draws: noise from the stream, moved by the parameters ----------
    def normal(self, loc=0.0, scale=1.0, size=None):
        """N(loc, scale^2) samples; differentiable in loc and scale."""
        return self._reparameterized("normal", (loc, scale), size, lambda shape: loc + scale * (
            self._draw("standard_normal", shape)))

    def uniform(self, low=0.0, high=1.0, size=None):
        """Uniform samples in [low, high); differentiable in low and high."""
        return self._reparameterized("uniform", (low, high), size, lambda shape: low + (
            high - low) * self._draw("random", shape))

    def exponential(self, scale=1.0, size=None):
        """Exponential samples of mean `scale`; differentiable in scale."""
        return self._reparameterized("exponential", (scale,), size, lambda shape: scale * (
            self._draw("standard_exponential", shape)))

    def _location_scale(self, name, loc, scale, size):
        return self._reparameterized(name, (loc, scale), size, lambda shape: loc + scale * (
            self._draw(name, 0.0, 1.0, shape)))

    def laplace(self, loc=0.0, scale=1.0, size=None):
        """Laplace samples; differentiable in loc and scale."""
        return self._location_scale("laplace", loc, scale, size)

    def logistic(self, loc=0.0, scale=1.0, size=None):
        """Logistic samples; differentiable in loc and scale."""
        return self._location_scale("logistic", loc, scale, size)

    def gumbel(self, loc=0.0, scale=1.0, size=None):
        """Gumbel samples; differentiable in loc and scale."""
        return self._location_scale("gumbel", loc, scale, size)

    def lognormal(self, mean=0.0, sigma=1.0, size=None):
        """exp of N(mean, sigma^2) samples; differentiable in mean and sigma."""
        return self._reparameterized("lognormal", (mean, sigma), size, lambda shape: exp(
            mean + sigma * self._draw("standard_normal", shape)))

    def rayleigh(self, scale=1.0, size=None):
        """Rayleigh samples; differentiable in scale."""
        return self._reparameterized("rayleigh", (scale,), size, lambda shape: scale * (
            self._draw("rayleigh", 1.0, shape)))


class RandomState(OwnState):
    """`numpy.random.RandomState(seed)`: NumPy's legacy random generator (see the module doc).

    Example:
      >>> rs = gnp.random.RandomState(0)
      >>> bool(rs.normal(size=3)[0] == np.random.RandomState(0).normal(size=3)[0])   # CPU
      True
    """

    _name = "RandomState"

    def __init__(self, seed=None):
        self._start(np.random.RandomState, seed)

    def __repr__(self):
        return f"RandomState({'MT19937' if self._host is not None else _STREAM_TAG})"

    # ---- state -------------------------------------------------------------------------------
    def seed(self, seed=None):
        """Reseed, as `numpy.random.RandomState.seed`."""
        if self._host is not None:
            self._host.seed(seed)
        else:
            self._seed, self._counter = _stream_seed(seed), 0

    def get_state(self, legacy=True):
        """NumPy's state tuple (a dict if not legacy) on the CPU; ("gpuad.Philox", seed,
        counter) on CuPy."""
        if self._host is not None:
            return self._host.get_state(legacy)
        return self._stream_state()

    def set_state(self, state):
        """Restore a state from `get_state`."""
        if self._host is not None:
            self._host.set_state(state)
        else:
            self._set_stream_state(state)

    def _save(self):
        return self.get_state()

    def _restore(self, saved):
        self.set_state(saved)

    # ---- drawing -------------------------------------------------------------------------------
    def standard_normal(self, size=None):
        """N(0, 1) samples."""
        return self._draw("standard_normal", size)

    def random_sample(self, size=None):
        """Uniform samples in [0, 1)."""
        return self._draw("random_sample", size)

    random = random_sample

    def rand(self, *shape):
        """Uniform samples in [0, 1) of the given shape: `rand(2, 3)`."""
        return self._draw("random_sample", shape or None)

    def randn(self, *shape):
        """Standard normal samples of the given shape: `randn(2, 3)`."""
        return self._draw("standard_normal", shape or None)

    def randint(self, low, high=None, size=None, dtype=int):
        """Integers in [low, high) (or [0, low))."""
        return self._draw("randint", primal_value(low), primal_value(high), size, dtype)

    def permutation(self, x):
        """A permuted range (int x), or x permuted along its first axis (differentiable)."""
        if isinstance(x, (int, np.integer)):
            return self._draw("permutation", int(x))
        if not _traced(x):
            return self._draw("permutation", x)
        n = _shape_of(x)[0] if _shape_of(x) else None
        if n is None:
            raise IndexError("RandomState.permutation: x must be an integer or at least 1-D")
        return take(x, self._draw("permutation", n), axis=0)

    def choice(self, a, size=None, replace=True, p=None):
        """Samples from `a` (an int n: range(n)); differentiable in the array a, not in p."""
        _random.refuse_traced("RandomState.choice (p)", (p,), {})
        if not _traced(a):
            return self._draw("choice", a, size, replace, p)
        shape = _shape_of(a)
        if len(shape) == 0:
            raise ValueError("RandomState.choice: a must be 1-dimensional or an integer")
        return take(a, self._draw("choice", shape[0], size, replace, p), axis=0)

    def shuffle(self, x):
        """Permute a plain array in place along its first axis (returns None). A traced array
        cannot be changed in place: use `x = rs.permutation(x)`."""
        if _traced(x):
            raise TypeError("RandomState.shuffle: shuffles in place, which a traced array "
                            "cannot be; use x = rs.permutation(x), which returns a shuffled "
                            "copy (differentiable)")
        self._draw("shuffle", x)

    def random_integers(self, low, high=None, size=None):
        """Integers in [low, high] (NumPy deprecates this: use randint(low, high + 1))."""
        if self._host is not None:
            return self._draw("random_integers", low, high, size)
        if high is None:
            low, high = 1, low
        return self._draw("randint", low, high + 1, size)

    def tomaxint(self, size=None):
        """Integers in [0, the largest C long]."""
        if self._host is not None:
            return self._draw("tomaxint", size)
        return self._draw("randint", 0, np.iinfo(np.int_).max + 1, size)


def plain_method(cls, name):
    """`cls.name`: the host generator's distribution `name`, refusing traced parameters."""
    def draw(self, *args, **kwargs):
        _random.refuse_traced(f"{self._name}.{name}", args, kwargs)
        return self._draw(name, *args, **kwargs)
    draw.__name__ = name
    draw.__qualname__ = f"{cls.__name__}.{name}"
    draw.__doc__ = f"`numpy.random.{cls.__name__}.{name}` (not differentiable)."
    setattr(cls, name, draw)


for _name in ("beta", "binomial", "bytes", "chisquare", "dirichlet", "f", "gamma", "geometric",
              "hypergeometric", "logseries", "multinomial", "multivariate_normal",
              "negative_binomial", "noncentral_chisquare", "noncentral_f", "pareto", "poisson",
              "power", "standard_cauchy", "standard_exponential", "standard_gamma",
              "standard_t", "triangular", "vonmises", "wald", "weibull", "zipf"):
    plain_method(RandomState, _name)
del _name
