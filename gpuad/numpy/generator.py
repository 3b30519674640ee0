"""`gnp.random.default_rng(seed)`: NumPy's Generator API, with a state of its own that
checkpointing saves and restores.

On the CPU the Generator is NumPy's own (PCG64, seeded through SeedSequence): `default_rng(seed)`
draws exactly the numbers `numpy.random.default_rng(seed)` draws, method for method, and the
differentiable methods draw the standardized noise in the same order (`normal(loc, scale)` is
`loc + scale * standard_normal()`, bit for bit NumPy's value).

Made while CuPy is the default, it draws on the device from counter-keyed Philox streams on its
own (seed, counter) state, through `gpuad.backend.random_stream` (CuPy's Generator API). That is
deliberately not `cupy.random.default_rng`: CuPy's XORWOW state is one cuRAND state per thread
(48 B x 8 x 256 x multiprocessors, about 13 MB on an H200) in device memory, which checkpointing
would have to copy at every snapshot. Seeded alike, a CuPy Generator repeats its own draws, not
NumPy's.

Either way the instance registers with `gnp.random.register`, so a Generator used inside a
checkpointed function or scan step gives the same draws when the step is recomputed. On the CPU
that state is PCG64's 128-bit state and increment, copied at each snapshot.

Differentiable (reparameterized) in their parameters: normal, uniform, exponential, laplace,
logistic, gumbel, lognormal, rayleigh, and choice/permutation/shuffle in the array they pick
from. The other distributions raise if given a traced parameter.

Unlike NumPy's, `shuffle` is functional: it returns a shuffled copy and leaves `x` as it was
(a traced array cannot change in place); write `x = rng.shuffle(x)`.

    >>> rng = gnp.random.default_rng(0)
    >>> bool((rng.normal(size=3) == np.random.default_rng(0).normal(size=3)).all())   # CPU
    True
"""
import numpy as np

from ..trace import primal_value
from . import sampling as _random
from .helpers import shape_of as _shape_of
from .indexing import take
from .random_state import _STREAM_TAG, OwnState, _traced, plain_method


class Generator(OwnState):
    """`numpy.random.Generator`, made by `default_rng` (see the module doc)."""

    _name = "Generator"

    def __init__(self, seed=None):
        self._start(np.random.default_rng, seed)

    def __repr__(self):
        return f"Generator({'PCG64' if self._host is not None else _STREAM_TAG})"

    @property
    def bit_generator(self):
        """NumPy's bit generator (its `.state` can be saved and set); on Philox streams there is
        none: the state is `_stream_state()`, ("gpuad.Philox", seed, counter)."""
        if self._host is None:
            raise AttributeError("Generator.bit_generator: this generator draws from gpuad's "
                                 "Philox streams (made with CuPy the default), not from a NumPy "
                                 "bit generator")
        return self._host.bit_generator

    def _save(self):
        return self._host.bit_generator.state if self._host is not None else self._stream_state()

    def _restore(self, saved):
        if self._host is not None:
            self._host.bit_generator.state = saved
        else:
            self._set_stream_state(saved)

    # ---- plain draws ---------------------------------------------------------------------------
    def random(self, size=None, dtype=np.float64):
        """Uniform samples in [0, 1)."""
        return self._draw("random", size, dtype=dtype)

    def standard_normal(self, size=None, dtype=np.float64):
        """N(0, 1) samples."""
        return self._draw("standard_normal", size, dtype=dtype)

    def integers(self, low, high=None, size=None, dtype=np.int64, endpoint=False):
        """Integers in [low, high) ([low, high] with endpoint; one bound means from 0)."""
        low, high = primal_value(low), primal_value(high)
        if self._host is not None:
            return self._host.integers(low, high, size, dtype, endpoint)
        if high is None:
            low, high = 0, low
        return self._draw("integers", low, high + 1 if endpoint else high, size, dtype)

    # ---- picking from an array: differentiable in the array ------------------------------------
    def permutation(self, x, axis=0):
        """A permuted range (int x), or x permuted along `axis` (differentiable in x)."""
        if isinstance(x, (int, np.integer)):
            return self._draw("permutation", int(x))
        if self._host is not None and not _traced(x):
            return self._host.permutation(x, axis=axis)
        shape = _shape_of(x)
        if not shape:
            raise IndexError("Generator.permutation: x must be an integer or at least 1-D")
        return take(x, self._draw("permutation", shape[axis]), axis=axis)

    def shuffle(self, x, axis=0):
        """x permuted along `axis`, returned as a new array (NumPy's shuffles x in place and
        returns None; here x is left as it was, so write `x = rng.shuffle(x)`). The order is the
        one NumPy's in-place shuffle gives. Differentiable in x."""
        if isinstance(x, (int, np.integer)) or not _shape_of(x):
            raise TypeError("Generator.shuffle: x must be an array of at least 1 dimension; for "
                            "a permuted range use rng.permutation(n)")
        return self.permutation(x, axis)

    def choice(self, a, size=None, replace=True, p=None, axis=0, shuffle=True):
        """Samples from `a` (an int n means range(n)) along `axis`; differentiable in the array
        a, not in the probabilities p."""
        _random.refuse_traced("Generator.choice (p)", (p,), {})
        if self._host is not None and not _traced(a):
            return self._host.choice(a, size, replace, p, axis, shuffle)
        if isinstance(a, (int, np.integer)):
            n = int(a)
        else:
            shape = _shape_of(a)
            if not shape:
                raise ValueError("Generator.choice: a must be an integer or at least 1-D")
            n = shape[axis]
        if self._host is not None:
            picks = self._host.choice(n, size, replace, p, shuffle=shuffle)
        else:
            picks = self._draw("choice", n, size, replace, p)
        return picks if isinstance(a, (int, np.integer)) else take(a, picks, axis=axis)


for _name in ("beta", "binomial", "bytes", "chisquare", "dirichlet", "f", "gamma", "geometric",
              "hypergeometric", "logseries", "multinomial", "multivariate_hypergeometric",
              "multivariate_normal", "negative_binomial", "noncentral_chisquare",
              "noncentral_f", "pareto", "poisson", "power", "standard_cauchy",
              "standard_exponential", "standard_gamma", "standard_t", "triangular", "vonmises",
              "wald", "weibull", "zipf"):
    plain_method(Generator, _name)
del _name


def default_rng(seed=None):
    """A new `Generator` on the default backend, as `numpy.random.default_rng`.

    Args:
      seed: None (fresh entropy), an int, a sequence of ints or a `numpy.random.SeedSequence`;
        a gpuad Generator is returned as it is, as NumPy does with its own.

    Returns:
      A `Generator`: NumPy's PCG64 stream on the CPU, gpuad's Philox streams on CuPy.

    Example:
      >>> rng = gnp.random.default_rng(42)
      >>> x = rng.shuffle(gnp.arange(5.0))            # a new array: x is not shuffled in place
    """
    if isinstance(seed, Generator):
        return seed
    return Generator(seed)
