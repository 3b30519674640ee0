"""One-dimensional signals: convolve (and `direct_convolve`, shared with gpuad.scipy.signal),
correlate, unwrap, and the window functions (bartlett, blackman, hamming, hanning, kaiser).

`correlate` is a convolution with the second operand reversed and conjugated, differentiable in
both. `unwrap` adds multiples of the period chosen from the primal values, so its derivative is
the identity. The windows are constants on the default backend.
"""
import builtins
import math

from .. import backend
from ..trace import namespace_of, nondiff
from .creation import on_default_backend
from .elementwise import conjugate
from .float_parts import shifted_to
from .helpers import is_complex, shape_of
from .indexing import getitem
from .manipulation import pad
from .products import tensordot
from .shapes import asarray_traced


def _xp(*xs):
    return namespace_of(*xs)


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


bartlett = on_default_backend("bartlett")
blackman = on_default_backend("blackman")
hamming = on_default_backend("hamming")
hanning = on_default_backend("hanning")
kaiser = on_default_backend("kaiser")


# ---- convolution -----------------------------------------------------------------------------
def direct_convolve(in1, in2, mode):
    """The N-d convolution of two arrays of equal rank by the direct method, in SciPy's
    conventions ('same' is shaped like in1; 'valid' swaps the inputs when in1 is the smaller),
    shared by `convolve` and `gpuad.scipy.signal`. The windows of `in1` that meet `in2` are
    gathered into one array of shape (output..., in2...) and contracted with `in2`: memory
    output.size * in2.size, fine for the filter sizes the direct method is used with."""
    s1, s2 = shape_of(in1), shape_of(in2)
    if len(s1) == 0:
        return in1 * in2
    if mode == "valid" and not builtins.all(a >= b for a, b in zip(s1, s2)):
        in1, in2, s1, s2 = in2, in1, s2, s1  # convolution commutes; SciPy swaps too
    full = tuple(a + b - 1 for a, b in zip(s1, s2))
    if mode == "full":
        out = full
    elif mode == "same":
        out = s1
    else:
        out = tuple(a - b + 1 for a, b in zip(s1, s2))
    start = tuple((f - o) // 2 for f, o in zip(full, out))  # SciPy's _centered
    xp = _xp(in1, in2)
    # in1 padded by k - 1 zeros on each side: out[n] = sum_j padded[n + k - 1 - j] in2[j]
    padded = pad(in1, [(b - 1, b - 1) for b in s2])
    d = len(s1)
    index = []
    for axis in range(d):
        n = xp.arange(start[axis], start[axis] + out[axis])
        j = xp.arange(s2[axis])
        shape_n = [1] * (2 * d)
        shape_n[axis] = out[axis]
        shape_j = [1] * (2 * d)
        shape_j[d + axis] = s2[axis]
        index.append(n.reshape(shape_n) + (s2[axis] - 1) - j.reshape(shape_j))
    windows = getitem(padded, tuple(index))  # shape out + s2
    return tensordot(windows, in2, axes=d)


def convolve(a, v, mode="full"):
    """`numpy.convolve` of two 1-D arrays (modes 'full', 'valid', 'same'), differentiable in both.

    NumPy's modes are SciPy's with the longer operand first ('same' has the longer length), so
    this is `direct_convolve` of (longer, shorter).

    Example:
      >>> gnp.convolve(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]))
      array([0. , 1. , 2.5, 4. , 1.5])
    """
    if mode not in ("full", "valid", "same"):
        raise ValueError(f"convolve: mode must be 'full', 'valid' or 'same', got {mode!r}")
    a, v = asarray_traced(a), asarray_traced(v)
    if len(shape_of(a)) != 1 or len(shape_of(v)) != 1:
        raise ValueError(f"convolve: both inputs must be 1-D, got shapes {shape_of(a)} and "
                         f"{shape_of(v)}; for N-D use scipy.signal")
    n, m = shape_of(a)[0], shape_of(v)[0]
    if n == 0 or m == 0:
        raise ValueError("convolve: inputs cannot be empty")
    return direct_convolve(*((a, v) if n >= m else (v, a)), mode)
