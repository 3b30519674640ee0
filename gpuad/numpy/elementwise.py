"""Elementwise ops: each declared by its scalar derivative(s), one line per op.

`d(ans, x)` (unary) or `dx(ans, x, y)`, `dy(ans, x, y)` (binary) is the partial derivative of
the op at one element, written with gpuad.numpy ops so it can itself be differentiated. From it
come the VJP (`g * d`, summed back over broadcast axes) and the JVP (`t * d`), and the fused
kernels' scalar adjoints. `ans` is the op's result: using it (exp, tanh, sqrt) saves recomputing
and keeps the input out of the tape.

Constants in derivatives are Python floats, never NumPy scalars: under NumPy 2 promotion a
Python float keeps float32 float32, while np.float64(2.0) would turn a float32 cotangent into
float64.
"""
import math
import operator

import numpy as np

from .. import backend
from ..trace import Primitive, namespace_of, nondiff, primal_value, strip_derivatives
from .batch_rules import map_rule
from .define import binary_op, defbinary, defunary, elementwise_primitive, scalar_aware, unary_op
from .helpers import balanced_eq, is_complex
from .helpers import ops as _helper_ops

LN2 = math.log(2.0)
LN10 = math.log(10.0)
PI = math.pi

# ---- signs, powers and roots -----------------------------------------------------------------
negative, negative_p = defunary("negative", np.negative, d=lambda ans, x: -1)
positive, positive_p = defunary("positive", np.positive, d=lambda ans, x: 1)
# At 0 the slope is taken to be 1, as JAX does (sign(x), the other usual choice, is 0 there): a
# slope of +-1 everywhere keeps abs(x) ** 2 = x ** 2 exact at every order, where sign(0) = 0 would
# give it a second derivative of 0 at x = 0 instead of 2.
_real_absolute, absolute_p = defunary("absolute", np.absolute,
                                      d=lambda ans, x: sign(x) + (x == 0))
sqrt, sqrt_p = defunary("sqrt", np.sqrt, d=lambda ans, x: 0.5 / ans)
cbrt, cbrt_p = defunary("cbrt", np.cbrt, d=lambda ans, x: 1.0 / (3.0 * ans * ans))
square, square_p = defunary("square", np.square, d=lambda ans, x: 2.0 * x)
reciprocal, reciprocal_p = defunary("reciprocal", np.reciprocal, d=lambda ans, x: -(ans * ans))

# ---- exponentials and logarithms -------------------------------------------------------------
exp, exp_p = defunary("exp", np.exp, d=lambda ans, x: ans)
exp2, exp2_p = defunary("exp2", np.exp2, d=lambda ans, x: ans * LN2)
expm1, expm1_p = defunary("expm1", np.expm1, d=lambda ans, x: ans + 1.0)
log, log_p = defunary("log", np.log, d=lambda ans, x: 1.0 / x)
log2, log2_p = defunary("log2", np.log2, d=lambda ans, x: 1.0 / (x * LN2))
log10, log10_p = defunary("log10", np.log10, d=lambda ans, x: 1.0 / (x * LN10))
log1p, log1p_p = defunary("log1p", np.log1p, d=lambda ans, x: 1.0 / (1.0 + x))

# ---- trigonometric ---------------------------------------------------------------------------
sin, sin_p = defunary("sin", np.sin, d=lambda ans, x: cos(x))
cos, cos_p = defunary("cos", np.cos, d=lambda ans, x: -sin(x))
tan, tan_p = defunary("tan", np.tan, d=lambda ans, x: 1.0 + ans * ans)

def _one_minus(x):
    """1 - x keeping the sign of a zero imaginary part (-(+0) = -0; 1 - x would give +0)."""
    return -(x - 1.0)


def _one_plus(x):
    """1 + x keeping the sign of a zero imaginary part (-0 + 0 would give +0)."""
    return -(-x - 1.0)


# sqrt(1 - x) sqrt(1 + x), not sqrt(1 - x * x): on the branch cuts (real x beyond +-1 in a complex
# array) the sign of x's zero imaginary part picks the side NumPy's value is on, and 1 - x * x
# loses it. For real x the two factors are exactly 1 - x and 1 + x.
arcsin, arcsin_p = defunary("arcsin", np.arcsin,
                            d=lambda ans, x: 1.0 / (sqrt(_one_minus(x)) * sqrt(_one_plus(x))))
arccos, arccos_p = defunary("arccos", np.arccos,
                            d=lambda ans, x: -1.0 / (sqrt(_one_minus(x)) * sqrt(_one_plus(x))))
arctan, arctan_p = defunary("arctan", np.arctan, d=lambda ans, x: 1.0 / (1.0 + x * x))
deg2rad, deg2rad_p = defunary("deg2rad", np.deg2rad, d=lambda ans, x: PI / 180.0)
rad2deg, rad2deg_p = defunary("rad2deg", np.rad2deg, d=lambda ans, x: 180.0 / PI)

# ---- hyperbolic ------------------------------------------------------------------------------
sinh, sinh_p = defunary("sinh", np.sinh, d=lambda ans, x: cosh(x))
cosh, cosh_p = defunary("cosh", np.cosh, d=lambda ans, x: sinh(x))
tanh, tanh_p = defunary("tanh", np.tanh, d=lambda ans, x: 1.0 - ans * ans)
# cosh(arcsinh x), not sqrt(x * x + 1), which takes the wrong side of the cuts (imaginary x
# beyond +-1j in a complex array) for half the signs of the zero real part.
arcsinh, arcsinh_p = defunary("arcsinh", np.arcsinh, d=lambda ans, x: 1.0 / cosh(ans))
# sqrt(x - 1) sqrt(x + 1) for the side of the cut (real x < 1 in a complex array), as arcsin's
arccosh, arccosh_p = defunary("arccosh", np.arccosh,
                              d=lambda ans, x: 1.0 / (sqrt(x - 1.0) * sqrt(_one_plus(x))))
arctanh, arctanh_p = defunary("arctanh", np.arctanh, d=lambda ans, x: 1.0 / (1.0 - x * x))


def _sinc(x):
    return backend.namespace(x).sinc(x)


# d/dx sin(pi x)/(pi x) = (cos(pi x) - sinc(x)) / x, which tends to 0 at x = 0.
sinc, sinc_p = defunary("sinc", _sinc, d=lambda ans, x: _sinc_derivative(ans, x))


def _sinc_derivative(ans, x):
    nonzero = x != 0
    safe_x = where(nonzero, x, 1.0)
    return where(nonzero, (cos(PI * x) - ans) / safe_x, 0.0)


def _nonzero(ans):
    """`ans` with its zeros replaced by ones: the denominator of a slope that is 0 where ans is."""
    return where(ans == 0, 1.0, ans)


# ---- arithmetic ------------------------------------------------------------------------------
# The four operators run NumPy's scalar arithmetic on scalars (see `scalar_aware`).
add, add_p = defbinary("add", scalar_aware(np.add, operator.add),
                       dx=lambda ans, x, y: 1, dy=lambda ans, x, y: 1)
subtract, subtract_p = defbinary("subtract", scalar_aware(np.subtract, operator.sub),
                                 dx=lambda ans, x, y: 1, dy=lambda ans, x, y: -1)


def _multiply_same(x):
    """x * x of one tracer: square(x) for real floats (np.square is x * x, the same rounding),
    whose VJP is one term g * 2x; multiply's would be g * x twice, then their sum. Complex x
    stays a multiply: NumPy's complex square and product loops need not round alike."""
    if x.dtype.kind == "f":
        return square(x)
    return multiply_p.bind(x, x)


multiply, multiply_p = defbinary("multiply", scalar_aware(np.multiply, operator.mul),
                                 dx=lambda ans, x, y: y, dy=lambda ans, x, y: x,
                                 same=_multiply_same)
divide, divide_p = defbinary("divide", scalar_aware(np.divide, operator.truediv),
                             dx=lambda ans, x, y: 1.0 / y, dy=lambda ans, x, y: -ans / y)
true_divide = divide


def _power_dx(ans, x, y, power):
    # d/dx x**y = y x**(y-1). Where y == 0, x**0 = 1 is constant in x, so 0 at every order, also
    # at x == 0 where the formula reads 0 * inf. The masked x keeps the formula's own derivatives
    # finite there (the other branch of a where still meets the chain rule's zeros).
    if isinstance(y, (int, float)):  # a Python exponent: decided once, no masks
        return 0.0 if y == 0 else y * power(x, y - 1)
    zero = (x == 0) & (y == 0)
    return where(zero, 0.0, y * power(where(zero, 1.0, x), y - 1))


def _power_dy(ans, x, y):
    # d/dy x**y = x**y log x; 0 where x == 0 (the limit from y > 0), not 0 * -inf = nan.
    return where(x == 0, 0.0, ans * log(where(x == 0, 1.0, x)))


power, power_p = defbinary("power", np.power,
                           dx=lambda ans, x, y: _power_dx(ans, x, y, power), dy=_power_dy)
float_power, float_power_p = defbinary("float_power", np.float_power,
                                       dx=lambda ans, x, y: _power_dx(ans, x, y, float_power),
                                       dy=_power_dy)

# Ties split the derivative evenly (balanced_eq), so maximum(x, x) has derivative 1 in x.
maximum, maximum_p = defbinary("maximum", np.maximum,
                               dx=lambda ans, x, y: balanced_eq(x, ans, y),
                               dy=lambda ans, x, y: balanced_eq(y, ans, x))
minimum, minimum_p = defbinary("minimum", np.minimum,
                               dx=lambda ans, x, y: balanced_eq(x, ans, y),
                               dy=lambda ans, x, y: balanced_eq(y, ans, x))
fmax, fmax_p = defbinary("fmax", np.fmax,
                         dx=lambda ans, x, y: balanced_eq(x, ans, y),
                         dy=lambda ans, x, y: balanced_eq(y, ans, x))
fmin, fmin_p = defbinary("fmin", np.fmin,
                         dx=lambda ans, x, y: balanced_eq(x, ans, y),
                         dy=lambda ans, x, y: balanced_eq(y, ans, x))

arctan2, arctan2_p = defbinary("arctan2", np.arctan2,
                               dx=lambda ans, x, y: y / (x * x + y * y),
                               dy=lambda ans, x, y: -x / (x * x + y * y))
# At x = y = 0 (the cone's tip) the slopes are taken to be 0, as JAX takes those of abs(z) at
# z = 0: x / ans would be 0 / 0 there.
hypot, hypot_p = defbinary("hypot", np.hypot,
                           dx=lambda ans, x, y: x / _nonzero(ans),
                           dy=lambda ans, x, y: y / _nonzero(ans))
logaddexp, logaddexp_p = defbinary("logaddexp", np.logaddexp,
                                   dx=lambda ans, x, y: exp(x - ans),
                                   dy=lambda ans, x, y: exp(y - ans))
logaddexp2, logaddexp2_p = defbinary("logaddexp2", np.logaddexp2,
                                     dx=lambda ans, x, y: exp2(x - ans),
                                     dy=lambda ans, x, y: exp2(y - ans))

# x mod y = x - y floor(x / y): slope 1 in x and -floor(x / y) in y, away from the jumps.
mod, mod_p = defbinary("remainder", np.remainder,
                       dx=lambda ans, x, y: 1, dy=lambda ans, x, y: -floor(x / y))
remainder = mod
fmod, fmod_p = defbinary("fmod", np.fmod,
                         dx=lambda ans, x, y: 1, dy=lambda ans, x, y: -trunc(x / y))
copysign, copysign_p = defbinary("copysign", np.copysign,
                                 dx=lambda ans, x, y: sign(x) * sign(ans), dy=lambda ans, x, y: 0)

# ---- selection -------------------------------------------------------------------------------
# The condition is not differentiable; the explicit rules route g without multiplying by a mask.
where_p = elementwise_primitive(
    "where", np.where,
    derivatives=(None, lambda ans, c, x, y: c, lambda ans, c, x, y: ~c),
    vjp=(None, lambda ans, c, x, y, g: where(c, g, 0), lambda ans, c, x, y, g: where(c, 0, g)),
    jvp=(None, lambda ans, c, x, y, t: where(c, t, 0), lambda ans, c, x, y, t: where(c, 0, t)))
# NumPy's clip is minimum(maximum(x, lo), hi): where lo > hi the result is hi.
clip_p = elementwise_primitive(
    "clip", np.clip,
    derivatives=(lambda ans, x, lo, hi: (x >= lo) & (x <= hi),
                 lambda ans, x, lo, hi: (x < lo) & (lo <= hi),
                 lambda ans, x, lo, hi: (x > hi) | (lo > hi)))


def where(condition, x=None, y=None):
    """`numpy.where`: `x` where `condition` holds, else `y` (differentiable in x and y).

    With only `condition`, the indices of its nonzero elements (not differentiable).
    """
    if x is None and y is None:
        return namespace_of(condition).nonzero(primal_value(condition))
    if x is None or y is None:
        raise ValueError("where: give both x and y, or neither")
    return where_p.bind(strip_derivatives(condition), x, y)


def clip(a, a_min=None, a_max=None):
    """`numpy.clip`: differentiable in `a`, and in the bounds where they are arrays."""
    if a_min is None and a_max is None:
        raise ValueError("clip: give at least one of a_min and a_max")
    if a_min is None:
        return minimum(a, a_max)
    if a_max is None:
        return maximum(a, a_min)
    return clip_p.bind(a, a_min, a_max)


# ---- complex parts (full complex support: see the complex-numbers issue) ----------------------
def _real(x):
    return backend.namespace(x).real(x)


def _imag(x):
    return backend.namespace(x).imag(x)


def _to_dtype_of(g, x):
    """A real cotangent `g` for an argument `x` that may be complex."""
    dtype = x.dtype if hasattr(x, "dtype") else None
    if dtype is not None and dtype.kind == "c":
        return g * (1.0 + 0.0j)
    return g


real_p = Primitive("real", _real, vjp=[lambda ans, x, g: _to_dtype_of(g, x)],
                   jvp=[lambda ans, x, t: real(t)], batch=map_rule)
imag_p = Primitive("imag", _imag, vjp=[lambda ans, x, g: g * -1j],
                   jvp=[lambda ans, x, t: imag(t)], batch=map_rule)
conj_p = Primitive("conjugate", np.conjugate, vjp=[lambda ans, x, g: conjugate(g)],
                   jvp=[lambda ans, x, t: conjugate(t)], batch=map_rule)
real = unary_op(real_p, "`numpy.real`, differentiable.")
_helper_ops.real = real  # for helpers.cast_cotangent
imag = unary_op(imag_p, "`numpy.imag`, differentiable.")
conjugate = unary_op(conj_p, "`numpy.conjugate`, differentiable.")
_helper_ops.conjugate = conjugate  # for helpers.conj_if_complex
conj = conjugate


def absolute(x):
    """`numpy.absolute`, differentiable. Of a complex z, |z| = hypot(Re z, Im z): not
    holomorphic, so its gradient follows the convention of every real-valued function of a
    complex input (see `gpuad.numpy` docs): d|z| = Re(conj(z) dz) / |z|, and `grad` gives
    conj(z) / |z|, as autograd and JAX do.

    At 0, where |x| has a corner, the slope of a real x is taken to be 1 and that of a complex z
    to be 0, as JAX takes them; then abs(z) ** 2 has the right first derivative (0) everywhere,
    and the real abs(x) ** 2 the right second derivative (2) too. The complex one cannot: no
    finite second derivative of |z| at 0 gives |z|^2 its Hessian 2I there, so the second
    derivative of abs(z) ** 2 at an exact zero z = 0 comes out 0, as in JAX (a zero bin of a
    power spectrum drops out of its Hessian). Spell |z|^2 as `z.real ** 2 + z.imag ** 2` (or
    `gnp.real(z * gnp.conj(z))`) to have it exact at every order."""
    if is_complex(x):
        return hypot(real(x), imag(x))
    return _real_absolute(x)


def angle(z, deg=False):
    """`numpy.angle`, differentiable: atan2(Im z, Re z) (a constant 0 or pi for real z)."""
    if is_complex(z):
        a = arctan2(imag(z), real(z))
    else:
        xp = namespace_of(z)
        a = xp.where(strip_derivatives(z) < 0, PI, 0.0)
    return a * (180.0 / PI) if deg else a

# ---- zero derivative almost everywhere: results are constants (not traced) --------------------
floor = nondiff(np.floor, "floor")
ceil = nondiff(np.ceil, "ceil")
rint = nondiff(np.rint, "rint")
trunc = nondiff(np.trunc, "trunc")
sign = nondiff(np.sign, "sign")
signbit = nondiff(np.signbit, "signbit")


def _round(a, decimals=0):
    return backend.namespace(a).round(a, decimals)


round = nondiff(_round, "round")
around = round


def _fix(x):
    return backend.namespace(x).fix(x)


fix = nondiff(_fix, "fix")

abs = absolute
del binary_op
