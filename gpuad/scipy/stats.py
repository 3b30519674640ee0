"""`gpuad.scipy.stats`: log densities of common distributions, differentiable in every argument
(values, locations, scales and shape parameters), like `jax.scipy.stats`.

    from gpuad.scipy import stats
    stats.norm.logpdf(x, loc=0.0, scale=1.0)

Namespaces: `norm` (logpdf, pdf, cdf, logcdf, sf, logsf, ppf), `t`, `gamma`, `chi2` and `beta`
(logpdf, pdf, cdf, logcdf, sf, logsf), `poisson` (logpmf, pmf, cdf, logcdf, sf),
`multivariate_normal` (logpdf, pdf), `dirichlet` (logpdf, pdf), and `entropy`. The cdfs of t,
gamma, chi2, beta and poisson go through the regularized incomplete gamma and beta functions,
which are differentiable in x only: they are differentiable in x, loc, scale (and Poisson's
mu), and raise NotImplementedError naming the argument when asked for a derivative in a shape
parameter (df, a, b). logcdf and logsf switch from log(p) to log1p(-(1 - p)) at the median, as
SciPy does, so both tails keep their digits. Arguments broadcast as in `scipy.stats`; `loc` and `scale`
shift and scale like SciPy's: logpdf(x) = logpdf_standard((x - loc) / scale) - log(scale).

Every function is a composition of `gpuad.numpy` and `gpuad.scipy.special` functions, so
derivatives of all orders in both modes come from their rules. Outside a distribution's support
the log density is -inf (the density 0), with a zero gradient there. SciPy is not needed, except
on the CPU for `norm.logcdf`, `norm.logsf` (erfcx) and `norm.ppf` (erfinv).
"""
import math
from types import SimpleNamespace

import numpy as np

from .. import backend
from .. import numpy as gnp
from . import special
from ..numpy.manipulation import asarray_traced
from ..trace import primal_value

_LOG_2PI = math.log(2.0 * math.pi)
_SQRT2 = math.sqrt(2.0)


def _standardize(x, loc, scale):
    return (x - loc) / scale


def _log(scale):
    """log of a scale: a Python float stays a Python float, so float32 inputs stay float32."""
    return math.log(scale) if isinstance(scale, (int, float)) else gnp.log(scale)


def _safe(mask, x, fill):
    """x where `mask`, a harmless constant elsewhere: keeps log and division of points outside
    the support out of the derivatives (where's gradient would be 0 * nan there)."""
    return gnp.where(mask, x, fill)


def _on_support(mask, logp):
    return gnp.where(mask, logp, -np.inf)


def _log_probability(p, complement):
    """log p, accurate also where p is near 1: there log1p(-(1 - p)), with 1 - p computed on its
    own (`complement`: the sf for a cdf, the cdf for an sf). The split at p = 1/2 is SciPy's at
    the median; each branch is fed only its own side's values."""
    small = primal_value(p) < 0.5
    with np.errstate(divide="ignore"):  # log 0 = -inf outside the support, silently as in SciPy
        return gnp.where(small, gnp.log(_safe(small, p, 0.5)),
                         gnp.log1p(-_safe(small, 0.5, complement)))


# ---- normal ----------------------------------------------------------------------------------
def _norm_logpdf(x, loc=0.0, scale=1.0):
    """log N(x; loc, scale^2)."""
    z = _standardize(x, loc, scale)
    return -0.5 * (z * z) - 0.5 * _LOG_2PI - _log(scale)


def _norm_cdf(x, loc=0.0, scale=1.0):
    """P(X <= x) = erfc(-z / sqrt 2) / 2 (erfc keeps the lower tail accurate)."""
    return 0.5 * special.erfc(-_standardize(x, loc, scale) / _SQRT2)


def _norm_sf(x, loc=0.0, scale=1.0):
    """P(X > x) = 1 - cdf, accurate in the upper tail."""
    return 0.5 * special.erfc(_standardize(x, loc, scale) / _SQRT2)


def _log_ndtr(z):
    """log Phi(z), accurate in both tails: for z < 0, Phi(z) = erfcx(-z/sqrt 2) exp(-z^2/2) / 2
    (no underflow); for z >= 0, log1p(-Phi(-z)). Each branch is fed values from its own half
    only, so neither overflows."""
    neg = primal_value(z) < 0
    zn = _safe(neg, z, -1.0)
    zp = _safe(neg, 1.0, z)
    lower = gnp.log(0.5 * special.erfcx(-zn / _SQRT2)) - 0.5 * (zn * zn)
    upper = gnp.log1p(-0.5 * special.erfc(zp / _SQRT2))
    return gnp.where(neg, lower, upper)


def _norm_logcdf(x, loc=0.0, scale=1.0):
    """log P(X <= x), accurate far into both tails."""
    return _log_ndtr(_standardize(x, loc, scale))


def _norm_logsf(x, loc=0.0, scale=1.0):
    """log P(X > x), accurate far into both tails."""
    return _log_ndtr(-_standardize(x, loc, scale))


def _norm_ppf(q, loc=0.0, scale=1.0):
    """The quantile function: loc + scale sqrt(2) erfinv(2q - 1), for q in (0, 1)."""
    return loc + scale * _SQRT2 * special.erfinv(2.0 * q - 1.0)


norm = SimpleNamespace(
    logpdf=_norm_logpdf, pdf=lambda x, loc=0.0, scale=1.0: gnp.exp(_norm_logpdf(x, loc, scale)),
    cdf=_norm_cdf, logcdf=_norm_logcdf, sf=_norm_sf, logsf=_norm_logsf, ppf=_norm_ppf)


# ---- Student's t -----------------------------------------------------------------------------
def _t_logpdf(x, df, loc=0.0, scale=1.0):
    """log of Student's t density with `df` degrees of freedom (df > 0, differentiable)."""
    z = _standardize(x, loc, scale)
    half = 0.5 * (df + 1.0)
    return (special.gammaln(half) - special.gammaln(0.5 * df) - 0.5 * gnp.log(df * math.pi)
            - _log(scale) - half * gnp.log1p(z * z / df))


def _t_cdf(x, df, loc=0.0, scale=1.0):
    """P(T <= x) = 1 - I(df / (df + z^2); df/2, 1/2) / 2 for z >= 0, mirrored below 0 (I the
    regularized incomplete beta). Differentiable in x, loc and scale; df is a constant (the
    incomplete beta has no derivative in its parameters here)."""
    z = _standardize(x, loc, scale)
    tail = 0.5 * special.betainc(0.5 * df, 0.5, df / (df + z * z))
    return gnp.where(primal_value(z) < 0, tail, 1.0 - tail)


def _t_sf(x, df, loc=0.0, scale=1.0):
    return _t_cdf(-_standardize(x, loc, scale), df)


t = SimpleNamespace(
    logpdf=_t_logpdf,
    pdf=lambda x, df, loc=0.0, scale=1.0: gnp.exp(_t_logpdf(x, df, loc, scale)),
    cdf=_t_cdf, sf=_t_sf,
    logcdf=lambda x, df, loc=0.0, scale=1.0: _log_probability(_t_cdf(x, df, loc, scale),
                                                              _t_sf(x, df, loc, scale)),
    logsf=lambda x, df, loc=0.0, scale=1.0: _log_probability(_t_sf(x, df, loc, scale),
                                                             _t_cdf(x, df, loc, scale)))


# ---- gamma -----------------------------------------------------------------------------------
def _gamma_logpdf(x, a, loc=0.0, scale=1.0):
    """log of the gamma density with shape `a`: (a - 1) log y - y - gammaln(a) - log(scale),
    y = (x - loc) / scale > 0; -inf for y < 0."""
    y = _standardize(x, loc, scale)
    inside = primal_value(y) >= 0
    y = _safe(inside, y, 1.0)
    logp = special.xlogy(a - 1.0, y) - y - special.gammaln(a) - _log(scale)
    return _on_support(inside, logp)


def _gamma_cdf(x, a, loc=0.0, scale=1.0, upper=False):
    """P(X <= x) = P(a, y) (regularized lower incomplete gamma), y = (x - loc) / scale; 0 for
    y <= 0. Differentiable in x, loc and scale; `a` is a constant (see special.gammainc)."""
    y = _standardize(x, loc, scale)
    inside = primal_value(y) > 0
    y = _safe(inside, y, 1.0)
    if upper:
        return gnp.where(inside, special.gammaincc(a, y), 1.0)
    return gnp.where(inside, special.gammainc(a, y), 0.0)


def _gamma_log_cdf(x, a, loc=0.0, scale=1.0, upper=False):
    """log P(X <= x) (log P(X > x) if `upper`), accurate in both tails."""
    return _log_probability(_gamma_cdf(x, a, loc, scale, upper),
                            _gamma_cdf(x, a, loc, scale, not upper))


gamma = SimpleNamespace(
    logpdf=_gamma_logpdf,
    pdf=lambda x, a, loc=0.0, scale=1.0: gnp.exp(_gamma_logpdf(x, a, loc, scale)),
    cdf=_gamma_cdf,
    sf=lambda x, a, loc=0.0, scale=1.0: _gamma_cdf(x, a, loc, scale, upper=True),
    logcdf=lambda x, a, loc=0.0, scale=1.0: _gamma_log_cdf(x, a, loc, scale),
    logsf=lambda x, a, loc=0.0, scale=1.0: _gamma_log_cdf(x, a, loc, scale, upper=True))


# ---- chi-squared -----------------------------------------------------------------------------
# chi2(df) is the gamma distribution of shape df / 2 and scale 2, as in SciPy.
def _chi2_logpdf(x, df, loc=0.0, scale=1.0):
    """log of the chi-squared density with `df` degrees of freedom (df > 0, differentiable);
    -inf below loc; at x = loc: +inf for df < 2, log(1 / (2 scale)) for df = 2, -inf above."""
    return _gamma_logpdf(x, 0.5 * df, loc, 2.0 * scale)


def _chi2_cdf(x, df, loc=0.0, scale=1.0, upper=False):
    """P(X <= x) (P(X > x) if `upper`) through the regularized incomplete gamma function of
    df / 2: differentiable in x, loc and scale; df is a constant (see special.gammainc)."""
    return _gamma_cdf(x, 0.5 * df, loc, 2.0 * scale, upper)


chi2 = SimpleNamespace(
    logpdf=_chi2_logpdf,
    pdf=lambda x, df, loc=0.0, scale=1.0: gnp.exp(_chi2_logpdf(x, df, loc, scale)),
    cdf=_chi2_cdf,
    sf=lambda x, df, loc=0.0, scale=1.0: _chi2_cdf(x, df, loc, scale, upper=True),
    logcdf=lambda x, df, loc=0.0, scale=1.0: _gamma_log_cdf(x, 0.5 * df, loc, 2.0 * scale),
    logsf=lambda x, df, loc=0.0, scale=1.0: _gamma_log_cdf(x, 0.5 * df, loc, 2.0 * scale,
                                                           upper=True))


# ---- beta ------------------------------------------------------------------------------------
def _betaln(a, b):
    return special.gammaln(a) + special.gammaln(b) - special.gammaln(a + b)


def _beta_logpdf(x, a, b, loc=0.0, scale=1.0):
    """log of the beta density: (a - 1) log y + (b - 1) log(1 - y) - log B(a, b) - log(scale),
    y = (x - loc) / scale in [0, 1]; -inf outside."""
    y = _standardize(x, loc, scale)
    raw = primal_value(y)
    inside = (raw >= 0) & (raw <= 1)
    y = _safe(inside, y, 0.5)
    logp = (special.xlogy(a - 1.0, y) + special.xlog1py(b - 1.0, -y) - _betaln(a, b)
            - _log(scale))
    return _on_support(inside, logp)


def _beta_cdf(x, a, b, loc=0.0, scale=1.0, upper=False):
    """P(X <= x) = I(y; a, b) (regularized incomplete beta), y = (x - loc) / scale, 0 below the
    support and 1 above. `upper` gives P(X > x): 1 - cdf where that is above 1/2, else
    I(1 - y; b, a), which keeps the upper tail's digits (1 - cdf loses them, and I(1 - y; b, a)
    loses some where y is near 0). Differentiable in x, loc and scale; a and b are constants."""
    y = _standardize(x, loc, scale)
    raw = primal_value(y)
    inside = (raw > 0) & (raw < 1)
    y = _safe(inside, y, 0.5)
    cdf = special.betainc(a, b, y)
    if not upper:
        return gnp.where(inside, cdf, (raw >= 1).astype(raw.dtype))    # 0 below, 1 above
    small = primal_value(cdf) < 0.5
    sf = gnp.where(small, 1.0 - cdf, special.betainc(b, a, 1.0 - _safe(small, 0.5, y)))
    return gnp.where(inside, sf, (raw <= 0).astype(raw.dtype))         # 1 below, 0 above


def _beta_log_cdf(x, a, b, loc=0.0, scale=1.0, upper=False):
    return _log_probability(_beta_cdf(x, a, b, loc, scale, upper),
                            _beta_cdf(x, a, b, loc, scale, not upper))


beta = SimpleNamespace(
    logpdf=_beta_logpdf,
    pdf=lambda x, a, b, loc=0.0, scale=1.0: gnp.exp(_beta_logpdf(x, a, b, loc, scale)),
    cdf=_beta_cdf,
    sf=lambda x, a, b, loc=0.0, scale=1.0: _beta_cdf(x, a, b, loc, scale, upper=True),
    logcdf=_beta_log_cdf,
    logsf=lambda x, a, b, loc=0.0, scale=1.0: _beta_log_cdf(x, a, b, loc, scale, upper=True))


# ---- Poisson ---------------------------------------------------------------------------------
def _count_dtype(mu):
    """The float type counts are computed in: mu's, so float32 rates give float32 results."""
    dtype = getattr(primal_value(mu), "dtype", np.dtype(np.float64))
    return dtype if dtype.kind == "f" else np.dtype(np.float64)


def _poisson_logpmf(k, mu, loc=0):
    """log P(K = k) = k log mu - mu - log k!, for integer k - loc >= 0 (a constant: counts are
    not differentiable); -inf for other k. Differentiable in mu."""
    raw = primal_value(k)
    xp = backend.namespace(raw)
    k = xp.asarray(raw) - loc
    valid = (k >= 0) & (k == xp.floor(k))
    kk = xp.where(valid, k, 0).astype(_count_dtype(mu))
    logp = special.xlogy(kk, mu) - mu - special.gammaln(kk + 1.0)
    return _on_support(valid, logp)


def _poisson_cdf(k, mu, loc=0, upper=False):
    """P(K <= k) = Q(floor(k - loc) + 1, mu) (regularized upper incomplete gamma), 0 for
    k - loc < 0; `upper` gives the survival function P(K > k). Differentiable in mu."""
    raw = primal_value(k)
    xp = backend.namespace(raw)
    n = xp.floor(xp.asarray(raw) - loc)
    valid = n >= 0
    order = xp.where(valid, n, 0).astype(_count_dtype(mu)) + 1.0
    if upper:
        return gnp.where(valid, special.gammainc(order, mu), 1.0)
    return gnp.where(valid, special.gammaincc(order, mu), 0.0)


poisson = SimpleNamespace(
    logpmf=_poisson_logpmf,
    pmf=lambda k, mu, loc=0: gnp.exp(_poisson_logpmf(k, mu, loc)),
    cdf=_poisson_cdf, sf=lambda k, mu, loc=0: _poisson_cdf(k, mu, loc, upper=True),
    logcdf=lambda k, mu, loc=0: gnp.log(_poisson_cdf(k, mu, loc)))


# ---- multivariate normal ---------------------------------------------------------------------
def _mvn_logpdf(x, mean=None, cov=1.0):
    """log N(x; mean, cov) for x of shape (..., n), mean (n,) and cov (n, n) symmetric positive
    definite (its lower triangle is read, through cholesky). Returns shape x.shape[:-1].

    -(n log 2pi + log det cov + |L^-1 (x - mean)|^2) / 2, with cov = L L^T.
    """
    x, cov = asarray_traced(x), asarray_traced(cov)
    n = x.shape[-1]
    if cov.ndim == 0:  # a variance shared by all components, as SciPy allows
        cov = cov * gnp.eye(n, dtype=primal_value(x).dtype)
    if cov.shape[-2:] != (n, n):
        raise ValueError(f"multivariate_normal.logpdf: cov of shape {cov.shape} does not match "
                         f"x of shape {x.shape}: expected ({n}, {n}), the last axis of x squared")
    d = x if mean is None else x - mean
    chol = gnp.linalg.cholesky(cov)
    z = gnp.linalg.solve(chol, gnp.expand_dims(d, -1))[..., 0]
    logdet = 2.0 * gnp.sum(gnp.log(gnp.diagonal(chol, 0, -2, -1)), axis=-1)
    return -0.5 * (n * _LOG_2PI + logdet + gnp.sum(z * z, axis=-1))


multivariate_normal = SimpleNamespace(
    logpdf=_mvn_logpdf,
    pdf=lambda x, mean=None, cov=1.0: gnp.exp(_mvn_logpdf(x, mean, cov)))


# ---- Dirichlet -------------------------------------------------------------------------------
def _dirichlet_logpdf(x, alpha):
    """log Dir(x; alpha) for x of shape (K,) or (K, N) (components along the first axis, as
    SciPy), alpha of shape (K,): sum (alpha - 1) log x - sum gammaln(alpha) + gammaln(sum alpha).
    Returns shape () or (N,)."""
    x, alpha = asarray_traced(x), asarray_traced(alpha)
    if alpha.ndim != 1 or x.shape[0] != alpha.shape[0]:
        raise ValueError(f"dirichlet.logpdf: alpha must have shape (K,) and x shape (K,) or "
                         f"(K, N) (components along the first axis, as in SciPy); got x "
                         f"{x.shape} and alpha {alpha.shape}")
    a = alpha if x.ndim == 1 else gnp.expand_dims(alpha, tuple(range(1, x.ndim)))
    norm_const = gnp.sum(special.gammaln(alpha)) - special.gammaln(gnp.sum(alpha))
    return gnp.sum(special.xlogy(a - 1.0, x), axis=0) - norm_const


dirichlet = SimpleNamespace(
    logpdf=_dirichlet_logpdf,
    pdf=lambda x, alpha: gnp.exp(_dirichlet_logpdf(x, alpha)))


# ---- entropy ---------------------------------------------------------------------------------
def entropy(pk, qk=None, base=None, axis=0):
    """`scipy.stats.entropy`: Shannon entropy -sum p log p of `pk` normalized along `axis`, or,
    with `qk`, the relative entropy sum p log(p / q) (both normalized); in units of log(base).
    Differentiable in pk and qk."""
    pk = asarray_traced(pk)
    p = pk / gnp.sum(pk, axis=axis, keepdims=True)
    if qk is None:
        s = gnp.sum(special.entr(p), axis=axis)
    else:
        qk = asarray_traced(qk)
        q = qk / gnp.sum(qk, axis=axis, keepdims=True)
        s = gnp.sum(special.rel_entr(p, q), axis=axis)
    return s if base is None else s / math.log(base)
