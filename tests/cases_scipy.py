"""Differentiation cases for gpuad.scipy beyond the basics in tests/cases.py: the special
functions, scipy.stats densities, signal.convolve/correlate and scipy.linalg (imported by
tests/cases.py, which collects every tests/cases_*.py)."""
import numpy as np

from gpuad.scipy import linalg as sla
from gpuad.scipy import signal, stats
from gpuad.scipy import special as sp

from .cases import DOMAINS, add

# ---- domains ---------------------------------------------------------------------------------
DOMAINS["bessel_x"] = lambda shape, rng: rng.uniform(0.4, 4.0, shape)       # away from 0 and far
DOMAINS["signed_x"] = lambda shape, rng: (rng.choice([-1.0, 1.0], shape)
                                          * rng.uniform(0.4, 3.0, shape))   # ive, i0e: |x| kink
DOMAINS["erfc_range"] = lambda shape, rng: rng.uniform(0.15, 1.85, shape)   # inside (0, 2)
DOMAINS["shape_param"] = lambda shape, rng: rng.uniform(1.2, 4.0, shape)    # a, b, df, alpha
DOMAINS["simplex"] = lambda shape, rng: (lambda p: p / p.sum(axis=0, keepdims=True))(
    rng.uniform(0.2, 1.0, shape))                                          # along axis 0
DOMAINS["lower_tri"] = lambda shape, rng: (np.tril(rng.standard_normal(shape), -1)
                                           + np.diag(rng.uniform(1.0, 2.0, shape[-1])))
DOMAINS["upper_tri"] = lambda shape, rng: (np.triu(rng.standard_normal(shape), 1)
                                           + np.diag(rng.uniform(1.0, 2.0, shape[-1])))
DOMAINS["expm_arg"] = lambda shape, rng: 0.8 * rng.standard_normal(shape)

SHAPES = [(), (4,), (2, 3), (2, 1, 3)]
E = ("elementwise",)

# ---- special functions -----------------------------------------------------------------------
UNARY = {
    "gamma": (sp.gamma, "positive"), "erfinv": (sp.erfinv, "unit"),
    "erfcinv": (sp.erfcinv, "erfc_range"), "erfcx": (sp.erfcx, "real"),
    "i0": (sp.i0, "bessel_x"), "i1": (sp.i1, "signed_x"), "i0e": (sp.i0e, "signed_x"),
    "i1e": (sp.i1e, "signed_x"), "j0": (sp.j0, "bessel_x"), "j1": (sp.j1, "signed_x"),
    "y0": (sp.y0, "bessel_x"), "y1": (sp.y1, "bessel_x"),
}
for name, (fn, domain) in UNARY.items():
    for shape in SHAPES:
        add(f"special.{name}{shape}", fn, (shape, domain), tags=E)

BINARY = {
    "beta": (sp.beta, "positive", "positive"), "betaln": (sp.betaln, "positive", "positive"),
    "xlogy": (sp.xlogy, "real", "positive"), "xlog1py": (sp.xlog1py, "real", "positive"),
}
for name, (fn, dx, dy) in BINARY.items():
    for sx, sy in [((), ()), ((3,), ()), ((2, 3), (3,)), ((2, 1), (1, 3))]:
        add(f"special.{name}{sx}{sy}", fn, (sx, dx), (sy, dy), tags=E)

ORDERS = {"iv": (sp.iv, "signed_x"), "ive": (sp.ive, "signed_x"), "jv": (sp.jv, "signed_x"),
          "yv": (sp.yv, "bessel_x")}
for name, (fn, domain) in ORDERS.items():
    for v, shape in [(0, (3,)), (1.5, (2, 3)), (2, ())]:
        if domain == "signed_x" and v == 1.5:
            domain_v = "bessel_x"  # a non-integer order needs x > 0
        else:
            domain_v = domain
        add(f"special.{name}(v={v}){shape}", lambda x, fn=fn, v=v: fn(v, x), (shape, domain_v),
            tags=E)

for shape, axis in [((4,), None), ((2, 3), 1), ((2, 3, 4), (0, 2))]:
    for keepdims in (False, True):
        add(f"logsumexp_b{shape}axis={axis}keep={keepdims}",
            lambda a, b, axis=axis, keepdims=keepdims: sp.logsumexp(a, axis, b=b,
                                                                    keepdims=keepdims),
            (shape, "real"), (shape, "positive"), tags=("reduction",))
add("logsumexp_b_broadcast", lambda a, b: sp.logsumexp(a, axis=0, b=b), ((3, 2), "real"),
    ((2,), "positive"), tags=("reduction",))
# weights of one sign, negated: the sum is negative, its sign -1, the value log|sum|
add("logsumexp_return_sign", lambda a, b: sp.logsumexp(a, axis=-1, b=-b, return_sign=True)[0],
    ((2, 3), "real"), ((2, 3), "positive"), tags=("reduction",))
add("logsumexp_return_sign_no_b", lambda a: sp.logsumexp(a, return_sign=True)[0],
    ((2, 3), "real"), tags=("reduction",))

# ---- stats -----------------------------------------------------------------------------------
S = ("stats",)
for fn_name in ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"):
    fn = getattr(stats.norm, fn_name)
    add(f"norm.{fn_name}", fn, ((2, 3), "real"), ((3,), "real"), ((3,), "positive"), tags=S)
    add(f"norm.{fn_name}_standard", fn, ((4,), "real"), tags=S)
add("norm.ppf", stats.norm.ppf, ((2, 3), "unit01"), ((3,), "real"), ((), "positive"), tags=S)
for fn_name in ("logpdf", "pdf"):
    add(f"t.{fn_name}", getattr(stats.t, fn_name), ((2, 3), "real"), ((3,), "shape_param"),
        ((), "real"), ((3,), "positive"), tags=S)
    add(f"gamma.{fn_name}", lambda x, a, s, fn=getattr(stats.gamma, fn_name): fn(x, a, 0.1, s),
        ((2, 3), "gt1"), ((3,), "shape_param"), ((), "positive"), tags=S)
    add(f"beta.{fn_name}", getattr(stats.beta, fn_name), ((2, 3), "unit01"),
        ((3,), "shape_param"), ((), "shape_param"), tags=S)
    add(f"poisson.{fn_name.replace('pdf', 'pmf')}",
        lambda mu, fn=getattr(stats.poisson, fn_name.replace("pdf", "pmf")):
            fn(np.array([[0, 1, 4], [2, 3, 7]]), mu),
        ((2, 3), "positive"), tags=S)
    add(f"multivariate_normal.{fn_name}", getattr(stats.multivariate_normal, fn_name),
        ((4, 3), "real"), ((3,), "real"), ((3, 3), "spd"), tags=S)
    add(f"multivariate_normal.{fn_name}_vector", getattr(stats.multivariate_normal, fn_name),
        ((2,), "real"), ((2,), "real"), ((2, 2), "spd"), tags=S)
    # a singular cov = A A^T (A of shape (3, 2)) and points x = mean + A z on its range: smooth
    # in A, z and mean, where the density is differentiable only along the rank-2 covariances
    add(f"multivariate_normal.{fn_name}_singular",
        lambda a, z, mean, fn=getattr(stats.multivariate_normal, fn_name):
            fn(mean + z @ a.T, mean, a @ a.T, allow_singular=True),
        ((3, 2), "real"), ((4, 2), "real"), ((3,), "real"), tags=S)
    add(f"multivariate_normal.{fn_name}_allow_singular_regular",
        lambda x, mean, cov, fn=getattr(stats.multivariate_normal, fn_name):
            fn(x, mean, cov, allow_singular=True),
        ((2,), "real"), ((2,), "real"), ((2, 2), "spd"), tags=S)
    add(f"multivariate_normal.{fn_name}_diagonal", getattr(stats.multivariate_normal, fn_name),
        ((4, 3), "real"), ((3,), "real"), ((3,), "positive"), tags=S)
    add(f"multivariate_normal.{fn_name}_dimension_1", getattr(stats.multivariate_normal, fn_name),
        ((5,), "real"), ((), "real"), ((), "positive"), tags=S)
    add(f"dirichlet.{fn_name}", getattr(stats.dirichlet, fn_name), ((3, 4), "simplex"),
        ((3,), "shape_param"), tags=S)
    add(f"dirichlet.{fn_name}_vector", getattr(stats.dirichlet, fn_name), ((4,), "simplex"),
        ((4,), "shape_param"), tags=S)

# ---- signal ----------------------------------------------------------------------------------
CONV_SHAPES = [((5,), (3,)), ((3,), (5,)), ((4, 5), (2, 3)), ((3, 3, 2), (2, 2, 2)),
               ((4, 2), (2, 3))]
for s1, s2 in CONV_SHAPES:
    for mode in ("full", "same", "valid"):
        if mode == "valid" and not (all(a >= b for a, b in zip(s1, s2))
                                    or all(a <= b for a, b in zip(s1, s2))):
            continue
        for name, fn in (("convolve", signal.convolve), ("correlate", signal.correlate)):
            add(f"signal.{name}{s1}{s2}{mode}", lambda a, b, fn=fn, mode=mode: fn(a, b, mode),
                (s1, "real"), (s2, "real"), tags=("signal",))

# ---- linalg ----------------------------------------------------------------------------------
L = ("linalg",)
for lower in (True, False):
    tri = "lower_tri" if lower else "upper_tri"
    for trans in (0, 1, "C"):
        for unit in (False, True):
            for sb in ((3,), (3, 2)):
                add(f"solve_triangular lower={lower} trans={trans} unit={unit} b{sb}",
                    lambda a, b, lower=lower, trans=trans, unit=unit: sla.solve_triangular(
                        a, b, trans=trans, lower=lower, unit_diagonal=unit),
                    ((3, 3), tri), (sb, "real"), tags=L)
# stacks: leading axes of a and b broadcast against each other; a 1-D b serves every matrix
for lower, trans in ((True, 0), (False, 1), (True, "C")):
    tri = "lower_tri" if lower else "upper_tri"
    for sa, sb in (((2, 3, 3), (2, 3, 2)), ((2, 3, 3), (3, 2)), ((3, 3), (2, 3, 1)),
                   ((2, 1, 3, 3), (4, 3, 2)), ((2, 3, 3), (3,))):
        add(f"solve_triangular_batched lower={lower} trans={trans} a{sa} b{sb}",
            lambda a, b, lower=lower, trans=trans: sla.solve_triangular(
                a, b, trans=trans, lower=lower), (sa, tri), (sb, "real"), tags=L)
add("solve_triangular_batched_unit", lambda a, b: sla.solve_triangular(
    a, b, lower=True, unit_diagonal=True), ((2, 3, 3), "lower_tri"), ((2, 3, 2), "real"),
    tags=L)
for lower in (True, False):
    add(f"cho_solve lower={lower}",
        lambda a, b, lower=lower: sla.cho_solve(sla.cho_factor(a, lower=lower), b),
        ((3, 3), "spd"), ((3, 2), "real"), tags=L)
    add(f"cho_factor lower={lower}", lambda a, lower=lower: sla.cho_factor(a, lower=lower)[0],
        ((3, 3), "spd"), tags=L)
for shape in [(3, 3), (2, 3, 3)]:
    add(f"sqrtm_spd{shape}", sla.sqrtm, (shape, "spd"), tags=L)
    add(f"sqrtm_general{shape}", sla.sqrtm, (shape, "wellcond"), tags=L)
    add(f"expm{shape}", sla.expm, (shape, "expm_arg"), tags=L)
add("expm_scaled", sla.expm, ((3, 3), "wellcond"), tags=L)  # norm above 1/2: squarings

# cumulative distribution functions: differentiable in x, loc, scale (and Poisson's mu)
DOMAINS["t_support"] = lambda shape, rng: rng.uniform(-2.5, 2.5, shape)
DOMAINS["gamma_support"] = lambda shape, rng: rng.uniform(0.3, 4.0, shape)
DOMAINS["counts"] = lambda shape, rng: rng.integers(-1, 6, shape).astype(float)
for fn_name in ("cdf", "sf", "logcdf", "logsf"):
    add(f"t.{fn_name}", lambda x, s, fn=getattr(stats.t, fn_name): fn(x, 3.5, 0.2, s),
        ((2, 3), "t_support"), ((), "positive"), tags=S)
    add(f"gamma.{fn_name}", lambda x, s, fn=getattr(stats.gamma, fn_name): fn(x, 2.5, 0.1, s),
        ((2, 3), "gamma_support"), ((3,), "positive"), tags=S)
for fn_name in ("cdf", "sf", "logcdf", "logsf"):
    add(f"chi2.{fn_name}", lambda x, s, fn=getattr(stats.chi2, fn_name): fn(x, 3.5, 0.1, s),
        ((2, 3), "gamma_support"), ((3,), "positive"), tags=S)
    # a = 1.5, b = 4: the median is near 0.25, so both sides of the logcdf/logsf switch are hit
    add(f"beta.{fn_name}_skewed", lambda x, fn=getattr(stats.beta, fn_name): fn(x, 1.5, 4.0),
        ((2, 3), "unit01"), tags=S)
for fn_name in ("logpdf", "pdf"):
    add(f"chi2.{fn_name}", lambda x, df, s, fn=getattr(stats.chi2, fn_name): fn(x, df, 0.1, s),
        ((2, 3), "gt1"), ((3,), "shape_param"), ((), "positive"), tags=S)
for fn_name in ("cdf", "sf", "logcdf", "logsf"):
    add(f"beta.{fn_name}", lambda x, fn=getattr(stats.beta, fn_name): fn(x, 2.5, 1.7),
        ((2, 3), "unit01"), tags=S)
for fn_name in ("cdf", "sf", "logcdf"):
    add(f"poisson.{fn_name}",
        lambda mu, fn=getattr(stats.poisson, fn_name): fn(np.array([[0.0, 2.0, 5.0]]), mu),
        ((2, 3), "positive"), tags=S)

# Sylvester and banded solves, entropy
DOMAINS["banded_21"] = lambda shape, rng: rng.standard_normal(shape) + 4.0 * (
    np.arange(shape[-2]) == 1)[:, None]  # (l, u) = (2, 1): the main diagonal is row u = 1
add("linalg.solve_sylvester", sla.solve_sylvester, ((3, 3), "wellcond"), ((2, 2), "wellcond"),
    ((3, 2), "real"), tags=("linalg",))
add("linalg.solve_sylvester_batched", sla.solve_sylvester, ((2, 2, 2), "wellcond"),
    ((2, 2), "wellcond"), ((2, 2, 2), "real"), tags=("linalg",))
add("linalg.solve_banded", lambda ab, b: sla.solve_banded((2, 1), ab, b), ((4, 5), "banded_21"),
    ((5, 2), "real"), tags=("linalg",))
add("multivariate_normal.entropy", lambda cov: stats.multivariate_normal.entropy(cov=cov),
    ((3, 3), "spd"), tags=S)
add("multivariate_normal.entropy_stack", lambda cov: stats.multivariate_normal.entropy(cov=cov),
    ((2, 3, 3), "spd"), tags=S)
add("multivariate_normal.entropy_singular",
    lambda a: stats.multivariate_normal.entropy(cov=a @ a.T), ((4, 2), "real"), tags=S)
add("multivariate_normal.entropy_scalar",
    lambda v: stats.multivariate_normal.entropy(np.zeros(3), v), ((), "positive"), tags=S)
add("linalg.solve_banded_batched", lambda ab, b: sla.solve_banded((2, 1), ab, b),
    ((3, 4, 5), "banded_21"), ((5,), "real"), tags=("linalg",))
add("stats.entropy", stats.entropy, ((3, 2), "positive"), tags=S)
add("stats.entropy_relative", lambda p, q: stats.entropy(p, q, base=2.0, axis=1),
    ((2, 4), "positive"), ((2, 4), "positive"), tags=S)
