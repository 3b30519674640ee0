"""One-dimensional signals: correlate, unwrap, and the window functions (bartlett, blackman,
hamming, hanning, kaiser).

`correlate` is a convolution with the second operand reversed and conjugated, differentiable in
both. `unwrap` adds multiples of the period chosen from the primal values, so its derivative is
the identity. The windows are constants on the default backend.
"""
import math

from .. import backend
from ..trace import nondiff
from .creation import _fresh
from .elementwise import conjugate
from .float_parts import shifted_to
from .helpers import is_complex, shape_of
from .shapes import asarray_traced
from .indexing import getitem
from .numerical import convolve


def correlate(a, v, mode="valid"):
    """`numpy.correlate`: c[k] = sum_n a[n + k] conj(v[n]) of two 1-D arrays (modes 'valid',
    'same', 'full'), differentiable in both.

    Example:
      >>> gnp.correlate(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]))
      array([3.5])
    """
    a, v = asarray_traced(a), asarray_traced(v)
    if len(shape_of(a)) != 1 or len(shape_of(v)) != 1:
        raise ValueError(f"correlate: both inputs must be 1-D, got shapes {shape_of(a)} and "
                         f"{shape_of(v)}")
    reversed_v = getitem(v, slice(None, None, -1))
    if is_complex(v):
        reversed_v = conjugate(reversed_v)
    if mode != "same":
        return convolve(a, reversed_v, mode)
    n, m = shape_of(a)[0], shape_of(v)[0]
    # NumPy centres the 'same' window on a when a is the longer operand, on v otherwise.
    start = (m - 1) // 2 if n >= m else n // 2
    full = convolve(a, reversed_v, "full")
    return getitem(full, slice(start, start + max(n, m)))


def unwrap(p, discont=None, axis=-1, *, period=2 * math.pi):
    """`numpy.unwrap`: p with multiples of `period` added where consecutive values jump by more
    than `discont` (default period / 2); the values are NumPy's, the derivative the identity."""
    p = asarray_traced(p)
    return shifted_to(p, _unwrapped(p, discont, axis, period))


# on the values, example by example under vmap
_unwrapped = nondiff(lambda p, discont, axis, period: backend.namespace(p).unwrap(
    p, discont, axis, period=period), "unwrap")


bartlett = _fresh("bartlett")
blackman = _fresh("blackman")
hamming = _fresh("hamming")
hanning = _fresh("hanning")
kaiser = _fresh("kaiser")
