"""`gpuad.nn` activations with `jax.nn`'s names, arguments and values: `relu`, `relu6`,
`leaky_relu`, `elu`, `gelu`, `silu` (`swish`), `softplus`, `sigmoid`, `log_sigmoid`, `softmax`,
`log_softmax`, `logsumexp`.

Written with `gpuad.numpy`, so they are differentiable to any order in both modes, on NumPy and
CuPy arrays, and keep float32 float32. Where a function has a kink, the derivative there is the
one JAX picks: 0 for `relu` at 0 and `relu6` at 0 and 6, 1 for `leaky_relu` at 0, `alpha` for
`elu` at 0. NaN inputs give NaN outputs, as in JAX.

The forms never overflow: `softplus`, `log_sigmoid` and `sigmoid` for any size of input,
`softmax`, `log_softmax` and `logsumexp` for any size of logits (they shift by the maximum).
"""
import math

from .. import backend
from .. import numpy as gnp
from ..scipy.special import erfc, expit, log_expit, logsumexp
from ..trace import primal_value

__all__ = ["elu", "gelu", "leaky_relu", "log_sigmoid", "log_softmax", "logsumexp", "relu",
           "relu6", "sigmoid", "silu", "softmax", "softplus", "swish"]

# `logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False)`, imported above, is
# jax.nn's (which is jax.scipy.special's) without `where`.


# ---- piecewise linear ------------------------------------------------------------------------
def relu(x):
    """`max(x, 0)`, with derivative 0 at 0 (JAX's choice).

    Comparing `x <= 0` (false for NaN) picks the branch, so NaN passes through.

    Example:
      >>> relu(gnp.asarray([-1.0, 0.0, 2.0]))
      array([0., 0., 2.])
    """
    return gnp.where(x <= 0, 0, x)


def relu6(x):
    """`min(max(x, 0), 6)`, with derivative 0 at 0 and at 6 (JAX's choice).

    Example:
      >>> relu6(gnp.asarray([-1.0, 3.0, 7.0]))
      array([0., 3., 6.])
    """
    return gnp.where(x <= 0, 0, gnp.where(x >= 6, 6, x))


def leaky_relu(x, negative_slope=1e-2):
    """`x` for x >= 0, `negative_slope * x` below (derivative 1 at 0).

    Example:
      >>> leaky_relu(gnp.asarray([-2.0, 3.0]), negative_slope=0.1)
      array([-0.2,  3. ])
    """
    return gnp.where(x >= 0, x, negative_slope * x)


def elu(x, alpha=1.0):
    """`x` for x > 0, `alpha * (exp(x) - 1)` for x <= 0 (Clevert et al. 2016).

    expm1 sees only the non-positive inputs, so large positive x never overflows it, not even
    in the branch that is discarded.

    Example:
      >>> elu(gnp.asarray([-1.0, 2.0]))
      array([-0.63212056,  2.        ])
    """
    return gnp.where(x > 0, x, alpha * gnp.expm1(gnp.where(x > 0, 0.0, x)))


# ---- smooth ----------------------------------------------------------------------------------
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
# tanh(sqrt(2 / pi) * (x + 0.044715 x**3)) is +-1 to the last bit of float64 beyond |x| = 10.
_GELU_TANH_SATURATION = 10.0


def gelu(x, approximate=True):
    """The Gaussian error linear unit `x * Phi(x)` (Hendrycks & Gimpel 2016), `Phi` the standard
    normal CDF.

    Args:
      x: a floating array.
      approximate: True (JAX's default) for the tanh form
        `x * 0.5 * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x**3)))`; False for the exact
        `x * 0.5 * erfc(-x / sqrt(2))` (erfc rather than 1 + erf, as JAX: it keeps its
        relative accuracy for very negative x, where 1 + erf(x) cancels to 0).

    The tanh form evaluates the cubic on x clipped to [-10, 10], where tanh is already +-1 in
    float64: the values are JAX's, and so are the derivatives, except where x**2 overflows
    (|x| > 1e154 in float64, 1e19 in float32): there JAX's are NaN (0 * inf) and these are
    exact (1 or 0).

    Example:
      >>> gelu(gnp.asarray([-1.0, 0.0, 1.0]), approximate=False)
      array([-0.15865525,  0.        ,  0.84134475])
    """
    if approximate:
        c = gnp.clip(x, -_GELU_TANH_SATURATION, _GELU_TANH_SATURATION)
        return x * (0.5 * (1.0 + gnp.tanh(_SQRT_2_OVER_PI * (c + 0.044715 * (c * c * c)))))
    return 0.5 * x * erfc(-x * math.sqrt(0.5))


def sigmoid(x):
    """The logistic function `1 / (1 + exp(-x))`, overflow-free (`gpuad.scipy.special.expit`).

    Example:
      >>> sigmoid(gnp.asarray([-1000.0, 0.0, 1000.0]))
      array([0. , 0.5, 1. ])
    """
    return expit(x)


def silu(x):
    """The sigmoid-weighted linear unit `x * sigmoid(x)` (Elfwing et al. 2018; swish).

    Example:
      >>> silu(gnp.asarray([0.0, 1.0]))
      array([0.        , 0.73105858])
    """
    return x * expit(x)


swish = silu


def softplus(x):
    """`log(1 + exp(x))`, as `logaddexp(x, 0)`: no overflow, and x itself for large x.

    Example:
      >>> softplus(gnp.asarray([-800.0, 0.0, 50.0]))
      array([ 0.        ,  0.69314718, 50.        ])
    """
    return gnp.logaddexp(x, 0.0)


def log_sigmoid(x):
    """`log(sigmoid(x)) = -softplus(-x)`, finite for any finite x.

    Example:
      >>> log_sigmoid(gnp.asarray([-100.0, 0.0]))
      array([-100.        ,   -0.69314718])
    """
    return log_expit(x)


# ---- normalized exponentials -----------------------------------------------------------------
def _shifted(name, x, axis, where):
    """`(x - m, mask)`: x shifted by its maximum m along `axis` over the elements `where` selects,
    and -inf outside them. m is held constant: the shift cancels in softmax and log_softmax, so
    every derivative stays exact."""
    raw = primal_value(x)
    xp = backend.namespace(raw)
    mask = None
    if where is not None:
        mask = primal_value(where)
        if getattr(mask, "dtype", None) is None or mask.dtype.kind != "b":
            raise TypeError(f"{name}: where must be a boolean array, got "
                            f"{getattr(mask, 'dtype', type(mask).__name__)}")
        raw = xp.where(mask, raw, -xp.inf)
    m = xp.max(raw, axis=axis, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0).astype(raw.dtype)
    shifted = x - m
    if mask is not None:
        shifted = gnp.where(mask, shifted, -math.inf)
    return shifted, mask


def _nonzero(s, mask):
    """The normalizer s, with a row that `where` masks out entirely dividing by 1 (its outputs
    are then 0, or -inf for log_softmax, as JAX's); without a mask, s is left alone so that an
    all -inf row gives NaN, as JAX's does."""
    return s if mask is None else gnp.where(s == 0, 1.0, s)


def softmax(x, axis=-1, where=None):
    """`exp(x) / sum(exp(x))` along `axis`, shifted by the maximum first (no overflow).

    Args:
      x: a floating array.
      axis: an int, a tuple of ints, or None (all axes).
      where: optional boolean array broadcastable to x: the elements to include. The output is 0
        elsewhere, and 0 on a slice with no element selected.

    Example:
      >>> softmax(gnp.asarray([1000.0, 1000.0, -1000.0]))
      array([0.5, 0.5, 0. ])
    """
    shifted, mask = _shifted("softmax", x, axis, where)
    e = gnp.exp(shifted)
    out = e / _nonzero(gnp.sum(e, axis=axis, keepdims=True), mask)
    return out if mask is None else gnp.where(mask, out, 0.0)


def log_softmax(x, axis=-1, where=None):
    """`x - logsumexp(x)` along `axis`, shifted by the maximum first (no overflow).

    Args:
      x, axis: as `softmax`.
      where: as `softmax`; the output is -inf outside the selected elements.

    Example:
      >>> log_softmax(gnp.asarray([1000.0, 1000.0]))
      array([-0.69314718, -0.69314718])
    """
    shifted, mask = _shifted("log_softmax", x, axis, where)
    s = gnp.sum(gnp.exp(shifted), axis=axis, keepdims=True)
    out = shifted - gnp.log(_nonzero(s, mask))
    return out if mask is None else gnp.where(mask, out, -math.inf)
