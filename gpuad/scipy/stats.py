"""`gpuad.scipy.stats`: log densities of common distributions, differentiable in every argument
(values, locations, scales and shape parameters), like `jax.scipy.stats`.

    from gpuad.scipy import stats
    stats.norm.logpdf(x, loc=0.0, scale=1.0)

Namespaces: `norm` (logpdf, pdf, cdf, logcdf, sf, logsf, ppf), `t`, `gamma`, `chi2` and `beta`
(logpdf, pdf, cdf, logcdf, sf, logsf), `poisson` (logpmf, pmf, cdf, logcdf, sf),
`multivariate_normal` (logpdf, pdf, entropy), `dirichlet` (logpdf, pdf), and `entropy`. The
cdfs of t, gamma, chi2, beta and poisson go through the regularized incomplete gamma and beta
functions, which are differentiable in x only: they are differentiable in x, loc, scale (and
Poisson's mu), and raise NotImplementedError naming the argument when asked for a derivative in
a shape parameter (df, a, b). logcdf and logsf switch from log(p) to log1p(-(1 - p)) at the
median, as SciPy does, so both tails keep their digits. Arguments broadcast as in
`scipy.stats`; `loc` and `scale` shift and scale like SciPy's:
logpdf(x) = logpdf_standard((x - loc) / scale) - log(scale).

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
from ..numpy.shapes import asarray_traced
from ..trace import primal_value
from . import special

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
def _mvn_arguments(x, mean, cov, op):
    """x as (..., n) points, mean, and cov as (..., n, n), from SciPy's forms.

    The dimension n is inferred as SciPy does: the length of mean, else that of cov (a scalar
    mean or cov: n = 1), and for n = 1 a 0-d or 1-D x holds that many points. cov may be a
    scalar variance, a 1-D diagonal or a matrix (a stack of matrices too, which SciPy does not
    take; so are a stack of means and a 1-D cov with no mean, from which SciPy infers n = 1).
    """
    cov = asarray_traced(cov)
    if cov.dtype.kind not in "fc":
        cov = gnp.astype(cov, np.float64)
    if mean is not None:
        mean = asarray_traced(mean)
    if mean is not None and mean.ndim:
        n = mean.shape[-1]
    elif mean is not None or cov.ndim == 0:
        n = 1
    else:
        n = cov.shape[-1]
    if x is not None:
        x = asarray_traced(x)
        if n == 1 and x.ndim <= 1:
            x = gnp.expand_dims(x, -1)
        if x.shape[-1] != n:
            raise ValueError(f"{op}: x of shape {x.shape} has points of {x.shape[-1]} "
                             f"components, but mean {None if mean is None else mean.shape} and "
                             f"cov {cov.shape} are of dimension {n}: the last axis of x must "
                             f"have length {n}")
    if cov.ndim == 0:  # a variance shared by all components
        cov = cov * gnp.eye(n, dtype=cov.dtype)
    elif cov.ndim == 1 and cov.shape[0] == n:
        cov = gnp.diag(cov)
    if cov.ndim < 2 or cov.shape[-2:] != (n, n):
        raise ValueError(f"{op}: cov of shape {cov.shape} does not match x of shape "
                         f"{None if x is None else x.shape} and mean "
                         f"{None if mean is None else mean.shape}: expected ({n}, {n}) (the "
                         f"dimension squared), ({n},) (a diagonal) or a scalar")
    return x, mean, cov


def _mvn_factor(cov, op, allow_singular):
    """SciPy's `_PSD` of cov: (rank, log pseudo-determinant, whiten, support), whiten(d) being z
    with |z|^2 = d^T cov^+ d and support(d) the mask of the deviations in cov's range (None for a
    non-singular cov). Eigenvalues up to eps = c * max|eigenvalue| (c = 1e6 machine epsilons in
    float64, 1e3 in float32) count as zero, as SciPy's; below -eps cov is not semidefinite.

    A non-singular cov goes through cholesky. A singular one (allow_singular) through its
    eigenvectors Q = [R, N] (range, null space), held constant: with C = Q^T cov Q in blocks,
    every cov of the same rank near it is B C_RR B^T, B = [I; M], M = C_NR C_RR^-1, so
        pdet = det(C_RR) det(I + M^T M),  d^T cov^+ d = w^T C_RR^-1 w,
        w = (I + M^T M)^-1 (d_R + M^T d_N)   (d_R, d_N: the parts of Q^T d).
    These are exact along the covariances of that rank, so their derivatives of every order are
    those of SciPy's function along them (the only directions it is smooth in: any other step
    changes the rank); they read no C_NN, the directions that leave the rank.
    """
    raw = primal_value(cov)
    xp = backend.namespace(raw)
    n = raw.shape[-1]
    eigenvalues = xp.linalg.eigvalsh(raw)  # the lower triangle, as SciPy's eigh and cholesky
    cutoff = {"f": 1e3, "d": 1e6}[raw.dtype.char.lower()] * np.finfo(raw.dtype).eps
    eps = cutoff * xp.max(xp.abs(eigenvalues), axis=-1, keepdims=True)
    if bool(xp.any(eigenvalues < -eps)):
        raise ValueError(f"{op}: cov must be symmetric positive semidefinite; its smallest "
                         f"eigenvalue is {float(xp.min(eigenvalues)):.3g}")
    rank = int(xp.min(xp.sum(eigenvalues > eps, axis=-1)))
    if rank == n:
        chol = gnp.linalg.cholesky(cov)
        logdet = 2.0 * gnp.sum(gnp.log(gnp.diagonal(chol, 0, -2, -1)), axis=-1)
        return n, logdet, lambda d: gnp.linalg.solve(chol, gnp.expand_dims(d, -1))[..., 0], None
    if not allow_singular:
        raise np.linalg.LinAlgError(
            f"{op}: cov of shape {raw.shape} is singular (rank {rank} of {n}: eigenvalues up to "
            f"{float(xp.max(eps)):.3g} count as zero), and with allow_singular=False (the "
            f"default, as in SciPy) it must be positive definite. Pass allow_singular=True for "
            f"the degenerate distribution on the range of cov, or regularize cov.")
    if raw.ndim != 2:
        raise ValueError(f"{op}: allow_singular=True takes one covariance matrix (as SciPy), not "
                         f"a stack of shape {raw.shape}, when one of them is singular")
    w, v = xp.linalg.eigh(raw)
    kept = w > eps[0]
    q = xp.concatenate([v[:, kept], v[:, ~kept]], axis=1)
    null = v[:, ~kept]
    c = q.T @ (gnp.tril(cov) + gnp.swapaxes(gnp.tril(cov, -1), 0, 1)) @ q
    c_rr = c[:rank, :rank]
    m = gnp.swapaxes(gnp.linalg.solve(c_rr, c[:rank, rank:]), 0, 1)
    g = gnp.eye(rank, dtype=raw.dtype) + gnp.swapaxes(m, 0, 1) @ m
    chol_rr, chol_g = gnp.linalg.cholesky(c_rr), gnp.linalg.cholesky(g)
    logpdet = 2.0 * (gnp.sum(gnp.log(gnp.diagonal(chol_rr))) +
                     gnp.sum(gnp.log(gnp.diagonal(chol_g))))

    def whiten(d):
        dq = d @ q
        u = dq[..., :rank] + dq[..., rank:] @ m
        w = gnp.linalg.solve(g, gnp.expand_dims(u, -1))
        return gnp.linalg.solve(chol_rr, w)[..., 0]

    def support(d):  # SciPy's test: the null-space part of d within 1000 eps
        return xp.linalg.norm(primal_value(d) @ null, axis=-1) < 1e3 * eps[0]
    return rank, logpdet, whiten, support


def _mvn_logpdf(x, mean=None, cov=1.0, allow_singular=False):
    """log N(x; mean, cov) for points x of shape (..., n), mean (n,) and cov (n, n) symmetric
    positive definite (its lower triangle is read, as SciPy does); returns shape x.shape[:-1]
    (SciPy also squeezes away axes of length 1). Scalar and 1-D covs, dimension-1 points: see
    `_mvn_arguments`.

    -(rank log 2pi + log pdet cov + d^T cov^+ d) / 2, d = x - mean. With allow_singular=True a
    singular cov gives SciPy's degenerate density on its range (pseudo-determinant and
    pseudo-inverse, -inf off the support), differentiable along the support and along the
    covariances of the same rank (see `_mvn_factor`); with allow_singular=False (the default) a
    singular cov raises numpy.linalg.LinAlgError, as in SciPy.
    """
    x, mean, cov = _mvn_arguments(x, mean, cov, "multivariate_normal.logpdf")
    rank, logdet, whiten, support = _mvn_factor(cov, "multivariate_normal.logpdf",
                                                allow_singular)
    d = x if mean is None else x - mean
    z = whiten(d)
    logp = -0.5 * (rank * _LOG_2PI + logdet + gnp.sum(z * z, axis=-1))
    return logp if support is None else _on_support(support(d), logp)


def _mvn_entropy(mean=None, cov=1.0):
    """The differential entropy (rank (1 + log 2pi) + log pdet cov) / 2, in nats; as SciPy, a
    singular cov is allowed (pseudo-determinant, rank); `mean` only sets the dimension of a
    scalar cov. Differentiable in cov (along the covariances of its rank, see `_mvn_factor`)."""
    _, _, cov = _mvn_arguments(None, mean, cov, "multivariate_normal.entropy")
    rank, logdet, _, _ = _mvn_factor(cov, "multivariate_normal.entropy", True)
    return 0.5 * (rank * (1.0 + _LOG_2PI) + logdet)


multivariate_normal = SimpleNamespace(
    logpdf=_mvn_logpdf,
    pdf=lambda x, mean=None, cov=1.0, allow_singular=False:
        gnp.exp(_mvn_logpdf(x, mean, cov, allow_singular)),
    entropy=_mvn_entropy)


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
