"""Differentiation cases for the NumPy names added to complete the namespace (issue 15): the
float parts, sets, histograms, polynomials, signals, functional helpers, shaping and in-place
functions, numpy.linalg's array-API functions, hfft/ihfft and RandomState's reparameterized
draws (found and imported by tests/cases.py)."""
import numpy as np

import gpuad.numpy as gnp

from . import cases_complex  # noqa: F401  (the complex domains)
from .cases import DOMAINS, add


def _phases(shape, rng):
    """A phase signal with jumps of more than pi between some neighbours (unwrap's input)."""
    return np.cumsum(rng.uniform(-5.0, 5.0, shape), axis=-1)


DOMAINS["phases"] = _phases

F = ("float_parts",)
S = ("sets",)
H = ("histograms",)
P = ("polynomials",)
L = ("linalg_api",)
N = ("namespace",)

# ---- float parts ---------------------------------------------------------------------------
EXPONENTS = {(): np.array(3), (4,): np.array([1, -2, 0, 5]), (2, 3): np.array([2, -1, 4])}
for shape, n in EXPONENTS.items():
    add(f"ldexp{shape}", lambda x, n=n: gnp.ldexp(x, n), (shape, "real"), tags=F)
add("ldexp_python_int", lambda x: gnp.ldexp(x, 3), ((3,), "real"), tags=F)
for shape in [(), (5,), (2, 3)]:
    add(f"frexp_mantissa{shape}", lambda x: gnp.frexp(x)[0], (shape, "nonzero"), tags=F)
    add(f"modf_fraction{shape}", lambda x: gnp.modf(3.0 * x)[0], (shape, "real"), tags=F)
    add(f"nextafter{shape}", gnp.nextafter, (shape, "real"), ((), "real"), tags=F)
add("divmod_remainder", lambda k, y: gnp.divmod(k * y, y)[1], ((3,), "gt1"), ((3,), "nonzero"),
    tags=F)

# ---- sets ------------------------------------------------------------------------------------
add("unique", gnp.unique, ((7,), "distinct"), tags=S)
add("unique_repeated", lambda x: gnp.unique(gnp.concatenate([x, x[1:3], x[:1]])),
    ((5,), "distinct"), tags=S)
add("unique_axis", lambda x: gnp.unique(gnp.concatenate([x, x[:1]]), axis=0),
    ((3, 2), "distinct"), tags=S)
add("unique_with_counts", lambda x: gnp.unique(x, return_counts=True)[0], ((2, 3), "distinct"),
    tags=S)
add("unique_values", gnp.unique_values, ((2, 3), "distinct"), tags=S)
add("unique_all", lambda x: gnp.unique_all(x).values, ((4,), "distinct"), tags=S)
add("unique_counts", lambda x: gnp.unique_counts(x).values, ((4,), "distinct"), tags=S)
add("unique_inverse", lambda x: gnp.unique_inverse(x).values, ((4,), "distinct"), tags=S)
add("intersect1d", lambda x: gnp.intersect1d(x, x[::2]), ((6,), "distinct"), tags=S)
add("union1d", gnp.union1d, ((3,), "distinct"), ((4,), "distinct"), tags=S)
add("setdiff1d", lambda x: gnp.setdiff1d(x, x[1::2]), ((6,), "distinct"), tags=S)
add("setxor1d", lambda x, y: gnp.setxor1d(x, gnp.concatenate([y, x[:2]])), ((4,), "distinct"),
    ((3,), "distinct"), tags=S)

# ---- histograms ------------------------------------------------------------------------------
BINS = np.array([0, 3, 1, 3, 4, 0])
add("bincount_weights", lambda w: gnp.bincount(BINS, w, minlength=7), ((6,), "real"),
    float32=False, tags=H)
SAMPLE = np.array([-1.3, 0.2, 0.9, -0.4, 2.2, 1.1, 0.05, -2.0])
add("histogram_weights", lambda w: gnp.histogram(SAMPLE, bins=4, weights=w)[0],
    ((8,), "real"), tags=H)
add("histogram_weights_density", lambda w: gnp.histogram(SAMPLE, bins=3, weights=w,
                                                         density=True)[0],
    ((8,), "positive"), float32=False, tags=H)
add("histogram_edges", lambda a: gnp.histogram(a, bins=5)[1], ((9,), "distinct"), tags=H)
add("histogram_density", lambda a: gnp.histogram(a, bins=3, density=True)[0], ((9,), "distinct"),
    float32=False, tags=H)
add("histogram_given_edges", lambda e: gnp.histogram(SAMPLE, bins=gnp.sort(e),
                                                     density=True)[0],
    ((4,), "distinct"), float32=False, tags=H)
add("histogram_bin_edges", lambda a: gnp.histogram_bin_edges(a, bins=4), ((2, 4), "distinct"),
    tags=H)
add("histogramdd_weights", lambda w: gnp.histogramdd(np.stack([SAMPLE, SAMPLE[::-1]], 1),
                                                     bins=(2, 3), weights=w)[0],
    ((8,), "real"), float32=False, tags=H)
add("histogramdd_edges_density", lambda s: gnp.histogramdd(s, bins=2, density=True)[0],
    ((7, 2), "distinct"), float32=False, tags=H)
add("histogram2d", lambda x, w: gnp.histogram2d(x, SAMPLE[:5], bins=2, weights=w)[0],
    ((5,), "distinct"), ((5,), "positive"), float32=False, tags=H)

# ---- polynomials -----------------------------------------------------------------------------
for name in ("polyadd", "polysub", "polymul"):
    for s1, s2 in [((3,), (3,)), ((2,), (4,)), ((4,), (1,))]:
        add(f"{name}{s1}{s2}", getattr(gnp, name), (s1, "real"), (s2, "real"), tags=P)
# NumPy's polyder and polyint multiply by int64 ranges: float64 results for float32 input
add("polyder", lambda p: gnp.polyder(p, 2), ((5,), "real"), float32=False, tags=P)
add("polyint", lambda p, k: gnp.polyint(p, 2, k), ((3,), "real"), ((2,), "real"),
    float32=False, tags=P)
add("polyint_scalar_k", lambda p, k: gnp.polyint(p, 3, k), ((2,), "real"), ((), "real"),
    float32=False, tags=P)
add("polydiv", gnp.polydiv, ((5,), "real"), ((3,), "nonzero"), tags=P)
add("poly_roots", gnp.poly, ((4,), "real"), tags=P)
add("poly_matrix", gnp.poly, ((3, 3), "sym"), float32=False, tags=P)
add("roots_power_sum", lambda p: gnp.real(gnp.sum(gnp.roots(p) ** 2)), ((5,), "nonzero"),
    float32=False, tags=P)
add("roots_real", lambda r: gnp.roots(gnp.poly(r)), ((3,), "distinct"), float32=False, tags=P)
add("polyfit", lambda x, y: gnp.polyfit(x, y, 2), ((6,), "distinct"), ((6,), "real"),
    float32=False, tags=P)
add("polyfit_weighted_cov", lambda y, w: gnp.polyfit(np.linspace(-1, 1, 7), y, 2, w=w, cov=True),
    ((7,), "real"), ((7,), "positive"), float32=False, tags=P)

# ---- signals ---------------------------------------------------------------------------------
for mode in ("valid", "same", "full"):
    for sa, sv in [((5,), (3,)), ((2,), (5,)), ((4,), (4,))]:
        add(f"correlate_{mode}{sa}{sv}", lambda a, v, mode=mode: gnp.correlate(a, v, mode),
            (sa, "real"), (sv, "real"), tags=N)
add("correlate_complex", gnp.correlate, ((5,), "complex"), ((2,), "complex"), float32=False,
    tags=N)
add("unwrap", gnp.unwrap, ((8,), "phases"), tags=N)
add("unwrap_axis0", lambda p: gnp.unwrap(p.T, axis=0, period=4.0), ((3, 6), "phases"), tags=N)

# ---- shaping, selection and in-place forms -----------------------------------------------------
add("resize", lambda x: gnp.resize(x, (3, 5)), ((2, 3), "real"), tags=N)
# zero borders made by pad stay zero under finite differences
add("trim_zeros", lambda x: gnp.trim_zeros(gnp.pad(x, 2)), ((3,), "nonzero"), tags=N)
add("trim_zeros_2d", lambda x: gnp.trim_zeros(gnp.pad(x, ((1, 0), (2, 1))), "b"),
    ((2, 3), "nonzero"), tags=N)
add("unstack", lambda x: gnp.unstack(x, axis=1), ((2, 3), "real"), tags=N)
add("compress", lambda x: gnp.compress([True, False, True], x, axis=1), ((2, 4), "real"), tags=N)
add("extract", lambda x: gnp.extract(gnp.sin(5 * x) > 0, x), ((3, 4), "real"), tags=N)
add("sort_complex", gnp.sort_complex, ((5,), "complex"), float32=False, tags=N)
add("put", lambda a, v: gnp.put(a, [0, 4, -1], v, inplace=False), ((2, 3), "real"),
    ((2,), "real"), tags=N)
add("putmask", lambda a, v: gnp.putmask(a, a > 0, v, inplace=False), ((3, 4), "real"),
    ((5,), "real"), tags=N)
add("place", lambda a, v: gnp.place(a, a > 0, v, inplace=False), ((3, 4), "real"),
    ((2,), "real"), tags=N)
add("copyto", lambda d, s: gnp.copyto(d, s, where=d > 0, inplace=False), ((2, 3), "real"),
    ((3,), "real"), tags=N)
add("put_along_axis", lambda a, v: gnp.put_along_axis(a, np.array([[0], [2]]), v, 1,
                                                      inplace=False),
    ((2, 3), "real"), ((2, 1), "real"), tags=N)
add("ndenumerate", lambda x: gnp.stack([v * i for (i, _), v in gnp.ndenumerate(x)]),
    ((2, 3), "real"), tags=N)

# ---- functions of functions ------------------------------------------------------------------
add("apply_along_axis", lambda x: gnp.apply_along_axis(lambda r: r[:2] * gnp.sum(r * r), 1, x),
    ((3, 4), "real"), tags=N)
add("apply_along_axis_matrix", lambda x: gnp.apply_along_axis(lambda r: gnp.outer(r, r), 0, x),
    ((2, 3), "real"), tags=N)
add("apply_over_axes", lambda x: gnp.apply_over_axes(gnp.sum, x * x, [0, 2]),
    ((2, 3, 4), "real"), tags=N)
add("vectorize", gnp.vectorize(lambda a, b: a * gnp.sin(b) if a > 0 else b * b),
    ((2, 3), "real"), ((3,), "real"), tags=N)
add("vectorize_signature", gnp.vectorize(lambda a, b: gnp.dot(a, b) ** 2,
                                         signature="(n),(n)->()"),
    ((2, 3), "real"), ((3,), "real"), tags=N)

# ---- numpy.linalg's array-API functions and vector products -----------------------------------
for p in (None, 2, -2, "fro", "nuc", 1, -np.inf):
    add(f"cond_{p}", lambda a, p=p: gnp.linalg.cond(a, p), ((2, 3, 3), "wellcond"),
        float32=False, tags=L)
add("matrix_norm", lambda a: gnp.linalg.matrix_norm(a, ord=np.inf), ((2, 3, 4), "real"), tags=L)
for axis in (None, 1, (0, 2)):
    add(f"vector_norm_{axis}", lambda a, axis=axis: gnp.linalg.vector_norm(
        a, axis=axis, keepdims=True, ord=3), ((2, 3, 2), "nonzero"), tags=L)
add("vecdot", gnp.vecdot, ((2, 3), "real"), ((3,), "real"), tags=L)
add("vecdot_complex_axis0", lambda x, y: gnp.linalg.vecdot(x, y, axis=0), ((3, 2), "complex"),
    ((3, 2), "complex"), float32=False, tags=L)
add("matvec", gnp.matvec, ((2, 3, 4), "real"), ((4,), "real"), tags=L)
add("vecmat", gnp.vecmat, ((3,), "real"), ((2, 3, 2), "real"), tags=L)
add("linalg_cross", gnp.linalg.cross, ((2, 3), "real"), ((3,), "real"), tags=L)
add("linalg_outer", gnp.linalg.outer, ((3,), "real"), ((2,), "real"), tags=L)
add("linalg_diagonal", lambda a: gnp.linalg.diagonal(a, offset=1), ((2, 3, 4), "real"), tags=L)
add("linalg_trace", lambda a: gnp.linalg.trace(a, offset=-1), ((2, 3, 3), "real"), tags=L)
add("tensorinv", lambda a: gnp.linalg.tensorinv(a.reshape(6, 2, 3), 1), ((6, 6), "wellcond"),
    float32=False, tags=L)
add("tensorsolve", lambda a, b: gnp.linalg.tensorsolve(a.reshape(2, 3, 6), b), ((6, 6),
                                                                                "wellcond"),
    ((2, 3), "real"), float32=False, tags=L)

# ---- fft ---------------------------------------------------------------------------------------
for norm in (None, "ortho", "forward"):
    add(f"hfft_{norm}", lambda a, norm=norm: gnp.fft.hfft(a, norm=norm), ((2, 4), "complex"),
        float32=False, tags=("fft",))
    add(f"ihfft_{norm}", lambda a, norm=norm: gnp.fft.ihfft(a, n=6, norm=norm), ((5,), "real"),
        float32=False, tags=("fft",))
add("hfft_odd_n", lambda a: gnp.fft.hfft(a, 7), ((4,), "complex"), float32=False, tags=("fft",))


# ---- RandomState: each call makes a fresh generator, so every evaluation draws the same noise
def _draws(method, *params):
    def draw(*args):
        return getattr(gnp.random.RandomState(11), method)(*args, size=(2, 3))
    return draw


for method in ("normal", "uniform", "laplace", "logistic", "gumbel", "lognormal"):
    add(f"RandomState_{method}", _draws(method), ((3,), "real"), ((2, 1), "positive"),
        float32=False, tags=("random",))
for method in ("exponential", "rayleigh"):
    add(f"RandomState_{method}", _draws(method), ((3,), "positive"), float32=False,
        tags=("random",))
add("RandomState_choice", lambda a: gnp.random.RandomState(3).choice(a, size=(2, 2)),
    ((5,), "real"), float32=False, tags=("random",))
add("RandomState_permutation", lambda a: gnp.random.RandomState(3).permutation(a),
    ((4, 2), "real"), float32=False, tags=("random",))


# ---- gnp.random's reparameterized draws, each evaluation from the same seeded state
def _seeded(name):
    def draw(*args):
        state = gnp.random.get_state()
        gnp.random.seed(5)
        try:
            return getattr(gnp.random, name)(*args, size=(2, 3))
        finally:
            gnp.random.set_state(state)
    return draw


for name in ("normal", "uniform", "laplace", "logistic", "gumbel", "lognormal"):
    add(f"random_{name}", _seeded(name), ((3,), "real"), ((2, 1), "positive"), float32=False,
        tags=("random",))
for name in ("exponential", "rayleigh"):
    add(f"random_{name}", _seeded(name), ((3,), "positive"), float32=False, tags=("random",))

# ---- emath: real inputs of both signs (or beyond +-1), so the results turn complex
DOMAINS["beyond_one"] = lambda shape, rng: (rng.choice([-1.0, 1.0], shape)
                                            * rng.choice([0.5, 1.8], shape)
                                            * rng.uniform(0.8, 1.2, shape))
E = ("emath",)
for name in ("sqrt", "log", "log2", "log10"):
    add(f"emath_{name}", getattr(gnp.emath, name), ((2, 3), "nonzero"), float32=False, tags=E)
for name in ("arccos", "arcsin", "arctanh"):
    add(f"emath_{name}", getattr(gnp.emath, name), ((5,), "beyond_one"), float32=False, tags=E)
add("emath_logn", gnp.emath.logn, ((3,), "nonzero"), ((3,), "positive"), float32=False, tags=E)
add("emath_power", lambda x, p: gnp.emath.power(x, p), ((4,), "nonzero"), ((4,), "real"),
    float32=False, tags=E)
