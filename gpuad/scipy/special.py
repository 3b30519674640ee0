"""`gpuad.scipy.special`: SciPy's special functions, differentiable, on NumPy and CuPy arrays.

Stable forms throughout: `logsumexp` shifts by the maximum, `expit` never overflows `exp`,
`softmax` and `log_softmax` are built on `logsumexp`.

Each function is declared by its derivative, written with differentiable gpuad functions, so
derivatives of every order work in both modes. Values come from `cupyx.scipy.special` on CuPy
arrays; on the CPU from gpuad's Numba ufuncs (erf, erfc, gamma, gammaln, digamma, polygamma,
xlogy, xlog1py: no SciPy needed) or from `scipy.special`, an optional dependency: the others
raise an ImportError saying `pip install scipy` when first called without it.

Complex input follows SciPy: where SciPy has complex loops (erf, erfc, erfcx, gamma, loggamma,
digamma, rgamma, ndtr, log_ndtr, exp1, expi, spence, the Bessel functions of real order iv, ive,
jv, yv, kv, kve, xlogy, xlog1py, zeta(z), logsumexp, softmax) the value is SciPy's and the
derivative the complex one (holomorphic but for ive, whose scale exp(-|Re z|) is not); the
others raise a TypeError naming the function, as do expit, logit and log_expit, which SciPy
defines for real input only. Derivatives that need polygamma of complex input (the derivative
of digamma, the second derivative of gamma, loggamma and rgamma) raise the same way.

Orders (`v` of iv, ive, jv, yv, kv, kve; `n` of polygamma, yn, expn; `d` of multigammaln) are
constants: not differentiable. So are the shape parameters of the incomplete gamma and beta
functions (`a` of gammainc, gammaincc; `a`, `b` of betainc) and `x` of the Hurwitz zeta(x, q):
asking for a derivative in one of them raises NotImplementedError naming the function and the
argument.
"""
import math

import numpy as np

from .. import backend
from ..numpy.batch_rules import axis_rule
from ..numpy.bessel import i0, i0_p, i1, i1_p, iv, iv_p  # noqa: F401  (SciPy's names)
from ..numpy.define import binary_op, defunary, elementwise_primitive
from ..numpy.elementwise import exp, log, log1p, real, sign, sinc, where  # noqa: F401 (sinc: re-exported)
from ..numpy.elementwise import logaddexp as _logaddexp
from ..numpy.helpers import expand_reduced, is_complex, normalize_axis, shape_of
from ..numpy.reductions import sum as _sum
from ..numpy.shapes import asarray_traced
from ..numpy.shapes import reshape as _reshape
from ..numpy.special_calls import special_call, special_impl
from ..trace import TRACER_TYPES, Primitive, nondiff, primal_value, strip_derivatives

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI_OVER_TWO = math.sqrt(math.pi) / 2.0


def _refuse_complex(name, *args):
    """Raise TypeError if any argument is complex: for functions SciPy defines on real input only
    and that gpuad computes itself (from exp, log, abs...), where complex input would not fail on
    its own but give a number SciPy does not define (expit's abs and sign tests, for one)."""
    for a in args:
        dtype = getattr(a, "dtype", None)
        if (dtype is not None and dtype.kind == "c") or isinstance(a, complex):
            raise TypeError(f"special.{name}: complex input ({dtype or 'complex'}) is not "
                            f"supported: SciPy defines {name} for real input only. Pass the real "
                            f"part (gnp.real(z)) if that is what you mean.")


def _expit_impl(x):
    _refuse_complex("expit", x)
    xp = backend.namespace(x)
    x = xp.asarray(x)
    e = xp.exp(-xp.abs(x))  # exp of a non-positive number never overflows
    return xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


expit, expit_p = defunary("expit", _expit_impl, d=lambda ans, x: ans * (1.0 - ans),
                          doc="The logistic sigmoid 1 / (1 + exp(-x)), overflow-free.")


def _logit_impl(x):
    _refuse_complex("logit", x)
    xp = backend.namespace(x)
    return xp.log(x) - xp.log1p(-x)


logit, logit_p = defunary("logit", _logit_impl, d=lambda ans, x: 1.0 / (x * (1.0 - x)),
                          doc="log(p / (1 - p)), the inverse of expit.")

def _special_keep_dtype(name):
    """`special_impl(name)` whose result has the floating dtype of its float array arguments:
    SciPy has only float64 loops for some functions of an integer order (yn, expn), and a Python
    float parameter (gammainc(0.7, x)) picks the float64 loop too; either would turn float32
    input into float64 output."""
    def impl(*args):
        out = special_call(name, *args)
        floats = [a.dtype for a in args if getattr(getattr(a, "dtype", None), "kind", "") == "f"]
        if floats and getattr(out, "dtype", None) is not None and out.dtype.kind == "f":
            target = np.result_type(*floats)
            if out.dtype != target:
                out = out.astype(target)
        return out
    return impl


def _no_derivative(name, arg, *args, hint=""):
    """The body of a derivative rule that does not exist: raises, naming function and argument
    (and, in `hint`, where else the argument comes from)."""
    raise NotImplementedError(
        f"special.{name}: the derivative with respect to {arg} is not implemented{hint}. Wrap "
        f"{arg} in ga.stop_gradient or pass a constant.")


_GAMMA_SHAPE = (" (the shape parameter: `a` of stats.gamma and `df / 2` of stats.chi2, whose "
                "cdf, sf, logcdf and logsf go through gammainc and gammaincc)")


erf, erf_p = defunary("erf", special_impl("erf"),
                      d=lambda ans, x: _TWO_OVER_SQRT_PI * exp(-(x * x)),
                      doc="The error function.")
erfc, erfc_p = defunary("erfc", special_impl("erfc"),
                        d=lambda ans, x: -_TWO_OVER_SQRT_PI * exp(-(x * x)),
                        doc="The complementary error function 1 - erf(x).")
gammaln, gammaln_p = defunary("gammaln", special_impl("gammaln"), d=lambda ans, x: digamma(x),
                              doc="log|Gamma(x)|, real x only (complex: loggamma).")
loggamma, loggamma_p = defunary(
    "loggamma", special_impl("loggamma"), d=lambda ans, x: digamma(x),
    doc="The principal branch of log Gamma(z), holomorphic for complex z off the negative real "
        "axis; for real x, gammaln(x) where x > 0 and nan where x < 0, as in SciPy.")
digamma, digamma_p = defunary("digamma", special_impl("digamma"), d=lambda ans, x: polygamma(1, x),
                              doc="psi(x), the derivative of gammaln.")
psi = digamma

# polygamma(n, x): n is an integer order, not differentiable; d/dx = polygamma(n + 1, x).
polygamma_p = elementwise_primitive(
    "polygamma", special_impl("polygamma"),
    derivatives=(None, lambda ans, n, x: polygamma(n + 1, x)))
polygamma = binary_op(polygamma_p, "The n-th derivative of digamma.")


# ---- gamma, beta, inverse error functions ----------------------------------------------------
gamma, gamma_p = defunary("gamma", special_impl("gamma"), d=lambda ans, x: ans * digamma(x),
                          doc="The gamma function Gamma(x) (nan at the poles 0, -1, -2, ...).")

beta_p = elementwise_primitive(
    "beta", special_impl("beta"),
    derivatives=(lambda ans, a, b: ans * (digamma(a) - digamma(a + b)),
                 lambda ans, a, b: ans * (digamma(b) - digamma(a + b))))
beta = binary_op(beta_p, "The beta function B(a, b) = Gamma(a) Gamma(b) / Gamma(a + b).")

betaln_p = elementwise_primitive(
    "betaln", special_impl("betaln"),
    derivatives=(lambda ans, a, b: digamma(a) - digamma(a + b),
                 lambda ans, a, b: digamma(b) - digamma(a + b)))
betaln = binary_op(betaln_p, "log|B(a, b)|, the log of the beta function.")

# (erf^-1)'(x) = 1 / erf'(erfinv x) = sqrt(pi) / 2 * exp(erfinv(x)^2): the output is the residual.
erfinv, erfinv_p = defunary("erfinv", special_impl("erfinv"),
                            d=lambda ans, x: _SQRT_PI_OVER_TWO * exp(ans * ans),
                            doc="The inverse of erf, on (-1, 1).")
erfcinv, erfcinv_p = defunary("erfcinv", special_impl("erfcinv"),
                              d=lambda ans, x: -_SQRT_PI_OVER_TWO * exp(ans * ans),
                              doc="The inverse of erfc, on (0, 2).")
# erfcx(x) = exp(x^2) erfc(x): d/dx = 2 x erfcx(x) - 2 / sqrt(pi). Used by stats.norm.logcdf.
erfcx, erfcx_p = defunary("erfcx", special_impl("erfcx"),
                          d=lambda ans, x: 2.0 * x * ans - _TWO_OVER_SQRT_PI,
                          doc="The scaled complementary error function exp(x^2) erfc(x).")

# ---- x log y ---------------------------------------------------------------------------------
xlogy_p = elementwise_primitive(
    "xlogy", special_impl("xlogy"),
    derivatives=(lambda ans, x, y: log(y), lambda ans, x, y: x / y))
xlogy = binary_op(xlogy_p, "x * log(y), with 0 where x == 0 (also for y == 0).")

xlog1py_p = elementwise_primitive(
    "xlog1py", special_impl("xlog1py"),
    derivatives=(lambda ans, x, y: log1p(y), lambda ans, x, y: x / (1.0 + y)))
xlog1py = binary_op(xlog1py_p, "x * log1p(y), with 0 where x == 0 (also for y == -1).")

# ---- Bessel functions ------------------------------------------------------------------------
# Recurrences: I_v' = (I_{v-1} + I_{v+1}) / 2, J_v' = (J_{v-1} - J_{v+1}) / 2 (Y likewise), and
# the exponentially scaled ive(v, x) = iv(v, x) exp(-|x|) adds -sign(x) ive(v, x).



def _ive_parts(ans, v, x):
    """ive(v, z) = iv(v, z) exp(-|Re z|) changes by a dz + b Re(dz): a from the recurrence,
    b = -sign(Re z) ive(v, z). For real z that is (a + b) dz; for complex z it is not
    holomorphic, so the rules below keep the two parts apart."""
    return 0.5 * (ive(v - 1, x) + ive(v + 1, x)), -sign(real(x)) * ans


def _ive_vjp(ans, v, x, g):
    a, b = _ive_parts(ans, v, x)
    # the transpose of t -> a t + b Re(t) under the pairing Re(sum(u * t)): g a + Re(g b)
    return g * a + real(g * b) if is_complex(x) else g * (a + b)


def _ive_jvp(ans, v, x, t):
    a, b = _ive_parts(ans, v, x)
    return a * t + b * real(t) if is_complex(x) else (a + b) * t


ive_p = elementwise_primitive(
    "ive", special_impl("ive"),
    derivatives=(None, lambda ans, v, x: 0.5 * (ive(v - 1, x) + ive(v + 1, x)) - sign(x) * ans),
    vjp=(None, _ive_vjp), jvp=(None, _ive_jvp))
ive = binary_op(ive_p, "iv(v, x) * exp(-|x|), order v constant (not smooth at x = 0); for "
                       "complex x, iv(v, x) * exp(-|Re x|), as in SciPy.")

jv_p = elementwise_primitive(
    "jv", special_impl("jv"),
    derivatives=(None, lambda ans, v, x: 0.5 * (jv(v - 1, x) - jv(v + 1, x))))
jv = binary_op(jv_p, "The Bessel function of the first kind J_v(x), order v constant.")
jn = jv  # SciPy's alias

yv_p = elementwise_primitive(
    "yv", special_impl("yv"),
    derivatives=(None, lambda ans, v, x: 0.5 * (yv(v - 1, x) - yv(v + 1, x))))
yv = binary_op(yv_p, "The Bessel function of the second kind Y_v(x), order v constant, x > 0.")

i0e, i0e_p = defunary("i0e", special_impl("i0e"), d=lambda ans, x: i1e(x) - sign(x) * ans,
                      doc="i0(x) * exp(-|x|) (not smooth at x = 0).")
i1e, i1e_p = defunary("i1e", special_impl("i1e"),
                      d=lambda ans, x: 0.5 * (i0e(x) + ive(2, x)) - sign(x) * ans,
                      doc="i1(x) * exp(-|x|) (not smooth at x = 0).")
j0, j0_p = defunary("j0", special_impl("j0"), d=lambda ans, x: -j1(x),
                    doc="The Bessel function of the first kind of order 0.")
j1, j1_p = defunary("j1", special_impl("j1"), d=lambda ans, x: 0.5 * (j0(x) - jv(2, x)),
                    doc="The Bessel function of the first kind of order 1.")
y0, y0_p = defunary("y0", special_impl("y0"), d=lambda ans, x: -y1(x),
                    doc="The Bessel function of the second kind of order 0, x > 0.")
y1, y1_p = defunary("y1", special_impl("y1"), d=lambda ans, x: 0.5 * (y0(x) - yv(2, x)),
                    doc="The Bessel function of the second kind of order 1, x > 0.")

# K_v' = -(K_{v-1} + K_{v+1}) / 2; kve(v, x) = kv(v, x) exp(x) adds + kve(v, x).
kv_p = elementwise_primitive(
    "kv", _special_keep_dtype("kv"),
    derivatives=(None, lambda ans, v, x: -0.5 * (kv(v - 1, x) + kv(v + 1, x))))
kv = binary_op(kv_p, "The modified Bessel function of the second kind K_v(x), order v "
                     "constant, x > 0.")

kve_p = elementwise_primitive(
    "kve", _special_keep_dtype("kve"),
    derivatives=(None, lambda ans, v, x: ans - 0.5 * (kve(v - 1, x) + kve(v + 1, x))))
kve = binary_op(kve_p, "kv(v, x) * exp(x), order v constant, x > 0.")

yn_p = elementwise_primitive(
    "yn", _special_keep_dtype("yn"),
    derivatives=(None, lambda ans, n, x: 0.5 * (yn(n - 1, x) - yn(n + 1, x))))
yn = binary_op(yn_p, "The Bessel function of the second kind Y_n(x) of integer order n "
                     "(constant), x > 0.")


# ---- normal distribution function ----------------------------------------------------------
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_SQRT_HALF = math.sqrt(0.5)

ndtr, ndtr_p = defunary("ndtr", special_impl("ndtr"),
                        d=lambda ans, x: _INV_SQRT_2PI * exp(-0.5 * (x * x)),
                        doc="The standard normal CDF Phi(x).")


def _d_log_ndtr(x):
    """phi(x) / Phi(x) without 0/0 in the left tail: for x < 0, Phi(x) = erfcx(-x/sqrt 2)
    exp(-x^2/2) / 2, so the ratio is sqrt(2/pi) / erfcx(-x/sqrt 2). Each branch sees only its
    own half line (the other gets 0), so no inf or nan reaches the unselected side's
    derivatives."""
    neg = strip_derivatives(x) < 0  # (a traced mask: per example under vmap, recorded by jit)
    x_neg = where(neg, x, 0.0)
    x_pos = where(neg, 0.0, x)
    return where(neg, _SQRT_2_OVER_PI / erfcx(-_SQRT_HALF * x_neg),
                 _INV_SQRT_2PI * exp(-0.5 * (x_pos * x_pos)) / ndtr(x_pos))


log_ndtr, log_ndtr_p = defunary("log_ndtr", special_impl("log_ndtr"),
                                d=lambda ans, x: _d_log_ndtr(x),
                                doc="log Phi(x), accurate far into the left tail.")
# (Phi^-1)'(p) = 1 / phi(Phi^-1(p)) = sqrt(2 pi) exp(ndtri(p)^2 / 2): the output is the residual.
ndtri, ndtri_p = defunary("ndtri", special_impl("ndtri"),
                          d=lambda ans, p: _SQRT_2PI * exp(0.5 * (ans * ans)),
                          doc="The inverse of ndtr, on (0, 1).")

# ---- gamma family: rgamma, multigammaln, incomplete gamma and beta ---------------------------
rgamma, rgamma_p = defunary("rgamma", special_impl("rgamma"), d=lambda ans, x: -ans * digamma(x),
                            doc="1 / Gamma(x) (0 at the poles of Gamma).")


def multigammaln(a, d):
    """The log of the multivariate gamma function, log Gamma_d(a); differentiable in `a`.

    Args:
      a: array with every element > (d - 1) / 2.
      d: the dimension, a positive int (a constant).

    Returns:
      d (d - 1) / 4 log(pi) + sum_{j=1}^{d} gammaln(a - (j - 1) / 2), shaped like `a`.

    Example:
      >>> multigammaln(gnp.asarray(3.0), 2)
      np.float64(1.5501949939575645)
    """
    if int(d) != d or d < 1:
        raise ValueError(f"multigammaln: d must be a positive integer, got {d!r}")
    d = int(d)
    raw = primal_value(a)
    if bool(backend.namespace(raw).any(backend.namespace(raw).asarray(raw) <= 0.5 * (d - 1))):
        raise ValueError(f"multigammaln: condition a > (d-1)/2 = {0.5 * (d - 1)} not met")
    out = gammaln(a)
    for j in range(2, d + 1):
        out = out + gammaln(a - 0.5 * (j - 1))
    return out + 0.25 * d * (d - 1) * math.log(math.pi)


# d/dx P(a, x) = x^(a-1) exp(-x) / Gamma(a) = -d/dx Q(a, x), as exp of logs (no overflow).
def _gamma_density(a, x):
    return exp(xlogy(a - 1.0, x) - x - gammaln(a))


gammainc_p = elementwise_primitive(
    "gammainc", _special_keep_dtype("gammainc"),
    derivatives=(lambda ans, a, x: _no_derivative("gammainc", "a", a, hint=_GAMMA_SHAPE),
                 lambda ans, a, x: _gamma_density(a, x)))
gammainc = binary_op(gammainc_p, "The regularized lower incomplete gamma function P(a, x); "
                                 "differentiable in x only.")

gammaincc_p = elementwise_primitive(
    "gammaincc", _special_keep_dtype("gammaincc"),
    derivatives=(lambda ans, a, x: _no_derivative("gammaincc", "a", a, hint=_GAMMA_SHAPE),
                 lambda ans, a, x: -_gamma_density(a, x)))
gammaincc = binary_op(gammaincc_p, "The regularized upper incomplete gamma function "
                                   "Q(a, x) = 1 - P(a, x); differentiable in x only.")

# d/dx I_x(a, b) = x^(a-1) (1-x)^(b-1) / B(a, b), as exp of logs.
betainc_p = elementwise_primitive(
    "betainc", _special_keep_dtype("betainc"),
    derivatives=(lambda ans, a, b, x: _no_derivative("betainc", "a", a),
                 lambda ans, a, b, x: _no_derivative("betainc", "b", b),
                 lambda ans, a, b, x: exp(xlogy(a - 1.0, x) + xlog1py(b - 1.0, -x)
                                          - betaln(a, b))))


def betainc(a, b, x):
    """The regularized incomplete beta function I_x(a, b), broadcasting; differentiable in
    x only (a, b > 0; x in [0, 1])."""
    return betainc_p.bind(a, b, x)


# ---- exponential integrals -------------------------------------------------------------------
exp1, exp1_p = defunary("exp1", special_impl("exp1"), d=lambda ans, x: -exp(-x) / x,
                        doc="The exponential integral E_1(x) = int_1^inf exp(-x t) / t dt.")
expi, expi_p = defunary("expi", special_impl("expi"), d=lambda ans, x: exp(x) / x,
                        doc="The exponential integral Ei(x).")


def _d_expn(ans, n, x):
    """d/dx E_n = -E_{n-1}. For n >= 1 from SciPy's E_{n-1}; for n = 0 (reached by the second
    derivative of E_1) from the recurrence (n - 1) E_n = exp(-x) - x E_{n-1}, since SciPy's
    expn has no negative orders."""
    order = primal_value(n)
    if bool(np.all(np.asarray(order) >= 1)):  # an order is a host scalar or NumPy array
        return -expn(n - 1, x)
    return ((n - 1) * ans - exp(-x)) / x


expn_p = elementwise_primitive("expn", _special_keep_dtype("expn"),
                               derivatives=(None, _d_expn))
expn = binary_op(expn_p, "The generalized exponential integral E_n(x), integer order n "
                         "(constant) >= 0.")

# ---- zeta, spence ----------------------------------------------------------------------------
hurwitz_zeta_p = elementwise_primitive(
    "zeta", _special_keep_dtype("zeta"),
    derivatives=(lambda ans, x, q: _no_derivative("zeta", "x", x),
                 lambda ans, x, q: -x * zeta(x + 1.0, q)))
_hurwitz_zeta = binary_op(hurwitz_zeta_p)


def zeta(x, q=None):
    """The Hurwitz zeta function sum_{k>=0} (k + q)^(-x); the Riemann zeta function when q is
    None. Differentiable in q only: d/dq = -x zeta(x + 1, q).

    The Riemann form (q=None) is a constant: a traced x raises NotImplementedError at once,
    under any transformation (for x > 1 it equals zeta(x, 1.0), whose error comes only when a
    derivative in x is asked for).
    """
    if q is None:
        if type(x) in TRACER_TYPES:
            _no_derivative("zeta", "x", x)
        return special_call("zeta", x)
    return _hurwitz_zeta(x, q)


# The sign of Gamma(x): piecewise constant, no derivative.
gammasgn = nondiff(lambda x: special_call("gammasgn", x), "gammasgn")

# Spence's function (dilogarithm form of SciPy): d/dz = log(z) / (1 - z), z >= 0.
spence, spence_p = defunary("spence", special_impl("spence"), d=lambda ans, z: log(z) / (1.0 - z),
                            doc="Spence's function int_1^z log(t) / (1 - t) dt, z >= 0.")

# ---- entropy ---------------------------------------------------------------------------------
entr, entr_p = defunary("entr", special_impl("entr"), d=lambda ans, x: -(log(x) + 1.0),
                        doc="-x log(x): 0 at 0, -inf for x < 0.")

rel_entr_p = elementwise_primitive(
    "rel_entr", special_impl("rel_entr"),
    derivatives=(lambda ans, x, y: log(x) - log(y) + 1.0, lambda ans, x, y: -x / y))
rel_entr = binary_op(rel_entr_p, "x log(x / y) for x, y > 0; 0 at x = 0, y >= 0; inf "
                                 "otherwise.")

kl_div_p = elementwise_primitive(
    "kl_div", special_impl("kl_div"),
    derivatives=(lambda ans, x, y: log(x) - log(y), lambda ans, x, y: 1.0 - x / y))
kl_div = binary_op(kl_div_p, "x log(x / y) - x + y for x, y > 0; y at x = 0, y >= 0; inf "
                             "otherwise.")

# `sinc` (imported above) is SciPy's special.sinc: NumPy's sin(pi x) / (pi x), one primitive.


# ---- logsumexp and friends -------------------------------------------------------------------
def _real_shift(x, axis):
    """The maximum of Re(x) along axis (0 where it is not finite): a real shift leaves the
    argument of a complex sum alone, so log of the shifted sum plus the shift is the principal
    log of the sum, as SciPy returns it."""
    xp = backend.namespace(x)
    m = xp.max(xp.real(x), axis=axis, keepdims=True) if x.ndim else xp.real(x)
    return xp.where(xp.isfinite(m), m, 0).astype(m.dtype)


def _logsumexp_impl(x, *, axis, keepdims):
    xp = backend.namespace(x)
    m = _real_shift(x, axis)
    out = xp.log(xp.sum(xp.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else xp.squeeze(out, axis=axis)


def _logsumexp_weights(ans, x, axis, keepdims):
    """softmax(x) along axis: each element's share of the derivative of logsumexp."""
    return exp(x - expand_reduced(ans, axis, keepdims))


logsumexp_p = Primitive(
    "logsumexp", _logsumexp_impl,
    vjp=[lambda ans, x, g, *, axis, keepdims: expand_reduced(g, axis, keepdims)
         * _logsumexp_weights(ans, x, axis, keepdims)],
    jvp=[lambda ans, x, t, *, axis, keepdims: _sum(t * _logsumexp_weights(ans, x, axis, keepdims),
                                                   axis, keepdims=keepdims)],
    batch=axis_rule("axis"))


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    """log(sum(b * exp(a))) along `axis`, without overflow; differentiable in `a` and `b`.

    Args:
      a: array.
      axis: None (all axes), an int or a tuple of ints.
      b: optional weights broadcastable against `a` (may be negative or zero); differentiable.
      keepdims: keep the reduced axes with size 1.
      return_sign: return `(value, sign)` with value = log|sum(b exp(a))| and sign in
        {-1, 0, 1} (a constant); without it a negative sum gives nan, as in SciPy.

    Returns:
      The reduced array (or the pair). The gradient in `a` is softmax(a) (weighted by b).
      Complex input gives the principal log (imaginary part in (-pi, pi]) and, with
      return_sign, the real log|sum| with the complex phase sum / |sum| (differentiable), as
      SciPy does.

    Example:
      >>> logsumexp(gnp.asarray([1000.0, 1000.0]))     # 1000 + log 2, where exp overflows
      np.float64(1000.6931471805599)
      >>> logsumexp(gnp.asarray([0.0, 0.0]), b=gnp.asarray([1.0, -3.0]), return_sign=True)
      (array(0.69314718), array(-1.))
    """
    a = asarray_traced(a)
    axes = normalize_axis(axis, len(shape_of(a)), "logsumexp")
    if b is None:
        out = logsumexp_p.bind(a, axis=axes, keepdims=bool(keepdims))
        if not return_sign:
            return out
        if is_complex(out):
            return _log_abs_and_phase(out, primal_value(out) == -np.inf)
        raw = primal_value(out)
        return out, backend.namespace(raw).ones_like(raw)  # a sum of exponentials is positive
    return _weighted_logsumexp(a, asarray_traced(b), axes, bool(keepdims), return_sign)


def _weighted_logsumexp(a, b, axes, keepdims, return_sign):
    """log|sum(b exp(a - m))| + m with m = max(a) as a constant shift (the shift cancels in the
    value, so holding it constant leaves every derivative exact)."""
    raw = primal_value(a)
    xp = backend.namespace(raw)
    shape = np.broadcast_shapes(shape_of(a), shape_of(b))
    if shape != shape_of(a):
        raise ValueError(f"logsumexp: b of shape {shape_of(b)} must broadcast to the shape of "
                         f"a {shape_of(a)}, not enlarge it (got {shape})")
    m = _real_shift(raw, axes)
    total = _sum(b * exp(a - m), axis=axes, keepdims=True)
    if is_complex(total):
        value = log(total) + m
        if return_sign:
            value, sgn = _log_abs_and_phase(value, primal_value(total) == 0)
        if not keepdims:
            value = _drop_reduced(value, axes)
            if return_sign:
                sgn = _drop_reduced(sgn, axes)
        return (value, sgn) if return_sign else value
    sgn = xp.sign(primal_value(total))
    if return_sign:
        # log|total|: dividing by the constant sign keeps it differentiable in total.
        value = log(total * xp.where(sgn == 0, 1.0, sgn).astype(raw.dtype)) + m
    else:
        value = log(total) + m
    if not keepdims:
        value = _drop_reduced(value, axes)
        sgn = sgn.reshape(shape_of(value))
    return (value, sgn) if return_sign else value


def _log_abs_and_phase(log_sum, zero):
    """(log|s|, s / |s|) from the complex log of a sum s; the phase is 0 where s is 0."""
    value = real(log_sum)
    return value, where(zero, 0.0, exp(log_sum - value))


def _drop_reduced(x, axes):
    """Drop the size-1 axes a keepdims reduction over `axes` kept."""
    shape = tuple(n for i, n in enumerate(shape_of(x)) if i not in axes)
    return _reshape(x, shape)


def log_softmax(x, axis=None):
    """x - logsumexp(x) along `axis` (all axes if None), stable.

    For complex x, as SciPy: (x - m) - log(sum(exp(x - m))) with m the largest element (NumPy's
    ordering of complex numbers), a value whose imaginary part can differ from that of
    x - logsumexp(x) by a multiple of 2 pi."""
    x = asarray_traced(x)
    if not is_complex(x):
        return x - logsumexp(x, axis=axis, keepdims=True)
    raw = primal_value(x)
    xp = backend.namespace(raw)
    axes = normalize_axis(axis, raw.ndim, "log_softmax")
    m = xp.max(raw, axis=axes, keepdims=True) if raw.ndim else raw
    shifted = x - xp.where(xp.isfinite(m), m, 0).astype(raw.dtype)
    return shifted - log(_sum(exp(shifted), axis=axes, keepdims=True))


def softmax(x, axis=None):
    """exp(x) / sum(exp(x)) along `axis` (all axes if None), stable."""
    return exp(log_softmax(x, axis))


def log_expit(x):
    """log(expit(x)) = -log(1 + exp(-x)), stable for large |x|."""
    _refuse_complex("log_expit", primal_value(x))
    return -_logaddexp(0.0, -x)
