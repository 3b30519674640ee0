"""`gnp.emath`: numpy.emath (numpy.lib.scimath), the functions whose result turns complex where
the real one is undefined: sqrt, log, log2, log10, logn, power (negative bases) and arccos,
arcsin, arctanh (|x| > 1).

As in NumPy, a real input becomes complex as a whole when any of its elements lies outside the
real domain (read off the primal values); then the complex function of gnp runs on it, so the
result is differentiable either way. `emath.sqrt(-4.0)` is 2j; `emath.sqrt(4.0)` stays 2.0.
Under vmap the batch is one array, so all its examples turn complex if one of them needs it.

Example:
  >>> gnp.emath.sqrt(np.array([-4.0, 9.0]))
  array([0.+2.j, 3.+0.j])
"""
import numpy as np

from ..trace import primal_value
from . import elementwise as _real
from .creation import asarray
from .shapes import astype


def _complex_dtype(dtype):
    """NumPy's choice: complex64 for float32 and the small integers, complex128 otherwise."""
    small = (np.float32, np.int8, np.int16, np.uint8, np.uint16, np.complex64)
    return np.complex64 if dtype.type in small else np.complex128


def _complex_where(x, outside):
    """x, cast to complex if it is real and `outside(values)` holds for any element."""
    x = x if hasattr(x, "dtype") else asarray(x)
    raw = primal_value(x)
    if raw.dtype.kind != "c" and bool(outside(raw).any()):
        return astype(x, _complex_dtype(raw.dtype))
    return x


def _negative(raw):
    return raw < 0


def _beyond_one(raw):
    return abs(raw) > 1


def sqrt(x):
    """`numpy.emath.sqrt`: the square root, complex where x has a negative element."""
    return _real.sqrt(_complex_where(x, _negative))


def log(x):
    """`numpy.emath.log`: the natural logarithm, complex where x has a negative element."""
    return _real.log(_complex_where(x, _negative))


def log2(x):
    """`numpy.emath.log2`: the base-2 logarithm, complex where x has a negative element."""
    return _real.log2(_complex_where(x, _negative))


def log10(x):
    """`numpy.emath.log10`: the base-10 logarithm, complex where x has a negative element."""
    return _real.log10(_complex_where(x, _negative))


def logn(n, x):
    """`numpy.emath.logn`: the base-n logarithm log(x) / log(n), each complex where it has a
    negative element; differentiable in x and n."""
    return log(x) / log(n)


def power(x, p):
    """`numpy.emath.power`: x ** p, complex where x has a negative element (and a negative
    integer exponent makes the result floating, as NumPy's does)."""
    p = p if hasattr(p, "dtype") else asarray(p)
    raw_p = primal_value(p)
    if raw_p.dtype.kind in "iu" and bool((raw_p < 0).any()):
        p = p * 1.0
    return _real.power(_complex_where(x, _negative), p)


def arccos(x):
    """`numpy.emath.arccos`: the inverse cosine, complex where x has an element beyond +-1."""
    return _real.arccos(_complex_where(x, _beyond_one))


def arcsin(x):
    """`numpy.emath.arcsin`: the inverse sine, complex where x has an element beyond +-1."""
    return _real.arcsin(_complex_where(x, _beyond_one))


def arctanh(x):
    """`numpy.emath.arctanh`: the inverse hyperbolic tangent, complex where x has an element
    beyond +-1."""
    return _real.arctanh(_complex_where(x, _beyond_one))
