"""`gpuad.scipy.special`: SciPy's special functions, differentiable, on NumPy and CuPy arrays.

Stable forms throughout: `logsumexp` shifts by the maximum, `expit` never overflows `exp`,
`softmax` and `log_softmax` are built on `logsumexp`.
"""
import math

import numpy as np

from .. import backend
from ..trace import Primitive, primal_value
from ..numpy.define import defunary, elementwise_primitive, binary_op
from ..numpy.helpers import expand_reduced, normalize_axis
from ..numpy.elementwise import exp, log, log1p
from ..numpy.reductions import sum as _sum
from ..numpy.manipulation import _shape_of, asarray_traced

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _expit_impl(x):
    xp = backend.namespace(x)
    x = xp.asarray(x)
    e = xp.exp(-xp.abs(x))  # exp of a non-positive number never overflows
    return xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


expit, expit_p = defunary("expit", _expit_impl, d=lambda ans, x: ans * (1.0 - ans),
                          doc="The logistic sigmoid 1 / (1 + exp(-x)), overflow-free.")
logit, logit_p = defunary("logit", lambda x: backend.namespace(x).log(x) - backend.namespace(x).log1p(-x),
                          d=lambda ans, x: 1.0 / (x * (1.0 - x)),
                          doc="log(p / (1 - p)), the inverse of expit.")


def _special(name):
    return lambda *args: backend.special_function(name, *args)


erf, erf_p = defunary("erf", _special("erf"),
                      d=lambda ans, x: _TWO_OVER_SQRT_PI * exp(-(x * x)),
                      doc="The error function.")
erfc, erfc_p = defunary("erfc", _special("erfc"),
                        d=lambda ans, x: -_TWO_OVER_SQRT_PI * exp(-(x * x)),
                        doc="The complementary error function 1 - erf(x).")
gammaln, gammaln_p = defunary("gammaln", _special("gammaln"), d=lambda ans, x: digamma(x),
                              doc="log|Gamma(x)|.")
digamma, digamma_p = defunary("digamma", _special("digamma"), d=lambda ans, x: polygamma(1, x),
                              doc="psi(x), the derivative of gammaln.")
psi = digamma

# polygamma(n, x): n is an integer order, not differentiable; d/dx = polygamma(n + 1, x).
polygamma_p = elementwise_primitive(
    "polygamma", _special("polygamma"),
    derivatives=(None, lambda ans, n, x: polygamma(n + 1, x)))
polygamma = binary_op(polygamma_p, "The n-th derivative of digamma.")


# ---- logsumexp and friends -------------------------------------------------------------------
def _logsumexp_impl(x, *, axis, keepdims):
    xp = backend.namespace(x)
    m = xp.max(x, axis=axis, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)
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
                                                   axis, keepdims=keepdims)])


def logsumexp(a, axis=None, keepdims=False):
    """log(sum(exp(a))) along `axis`, without overflow; differentiable (the gradient is softmax).

    Example:
      >>> logsumexp(gnp.asarray([1000.0, 1000.0]))     # 1000 + log 2, where exp overflows
      np.float64(1000.6931471805599)
    """
    a = asarray_traced(a)
    axes = normalize_axis(axis, len(_shape_of(a)), "logsumexp")
    return logsumexp_p.bind(a, axis=axes, keepdims=bool(keepdims))


def log_softmax(x, axis=None):
    """x - logsumexp(x) along `axis` (all axes if None), stable."""
    return x - logsumexp(x, axis=axis, keepdims=True)


def softmax(x, axis=None):
    """exp(x) / sum(exp(x)) along `axis` (all axes if None), stable."""
    return exp(log_softmax(x, axis))


def log_expit(x):
    """log(expit(x)) = -log(1 + exp(-x)), stable for large |x|."""
    from ..numpy.elementwise import logaddexp
    return -logaddexp(0.0, -x)
