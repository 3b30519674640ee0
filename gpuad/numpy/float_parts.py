"""The parts of floating-point numbers: ldexp, frexp, modf, divmod, floor_divide, nextafter,
spacing.

`ldexp(x, n) = x * 2**n` is a primitive (exact where `x * 2.0**n` would overflow 2.0**n). The
others are piecewise: each piece is x shifted by a constant, so on it the derivative in x is 1
(`modf`'s fraction, `nextafter`) or a constant power of two (`frexp`'s mantissa), and 0 for the
integer-valued parts (`floor_divide`, `modf`'s integral part, `frexp`'s exponent, `spacing`).
Values are NumPy's own, bit for bit: the shifted pieces are `(x - value of x) + NumPy's result`,
whose value is NumPy's result exactly.
"""
import numpy as np

from .. import backend
from ..trace import nondiff, strip_derivatives
from .define import defbinary
from .elementwise import mod, trunc, where
from .logic import equal, isfinite

# d/dx x 2^n = 2^n; the exponent is an integer, without derivative.
ldexp, ldexp_p = defbinary("ldexp", np.ldexp, dx=lambda ans, x, n: ldexp(1.0, n), dy=None,
                           doc="`numpy.ldexp`: x * 2**n for integer n, differentiable in x.")

floor_divide = nondiff(np.floor_divide, "floor_divide")
spacing = nondiff(lambda v: backend.namespace(v).spacing(v), "spacing")
_nextafter = nondiff(np.nextafter, "nextafter")
# One output each (vmap applies a plain function example by example; frexp and modf have two).
_exponent = nondiff(lambda v: backend.namespace(v).frexp(v)[1], "frexp")
_fraction = nondiff(lambda v: backend.namespace(v).modf(v)[0], "modf")


def shifted_to(x, value):
    """`value` (a constant: NumPy's result of a piecewise shift of x) with the derivative of x.

    The value is exactly `value`: x itself where they are equal, else `delta + value` with
    delta 0 in value and dx in derivative. Where x is not finite delta is 0 (no derivative),
    and where the value is a zero other than x it is the constant (`0.0 + (-0.0)` would lose
    the sign).
    """
    raw = strip_derivatives(x)
    finite = isfinite(raw)
    delta = where(finite, x, 0.0) - where(finite, raw, 0.0)
    return where(equal(value, raw), x, where(equal(value, 0), value, delta + value))


def frexp(x):
    """`numpy.frexp`: (mantissa, exponent) with x = mantissa * 2**exponent; the mantissa is
    differentiable (its derivative is 2**-exponent), the exponent is an integer array."""
    exponent = _exponent(x)
    return ldexp(x, -exponent), exponent


def modf(x):
    """`numpy.modf`: (fractional, integral) parts, both with the sign of x; the fractional part
    has derivative 1 (0 at integers, where it jumps, and where x is infinite), the integral
    part none."""
    return shifted_to(x, _fraction(x)), trunc(x)


def divmod(x1, x2):
    """`numpy.divmod`: (floor_divide(x1, x2), mod(x1, x2)); the remainder is differentiable."""
    return floor_divide(x1, x2), mod(x1, x2)


def nextafter(x1, x2):
    """`numpy.nextafter`: the next float after x1 towards x2; derivative 1 in x1, 0 in x2."""
    return shifted_to(x1, _nextafter(x1, x2))
