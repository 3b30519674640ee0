"""Differentiation cases for gpuad/numpy/numerical.py and the SVD, QR, pseudo-inverse and
matrix-chain functions of gpuad/numpy/linalg.py (found and imported by tests/cases.py)."""
import numpy as np

import gpuad.numpy as gnp

from .cases import DOMAINS, add


def _with_nans(shape, rng):
    x = rng.standard_normal(shape)
    x.flat[1::5] = np.nan  # every fifth: no all-NaN lane in the shapes used
    return x


def _increasing(shape, rng):
    """Increasing coordinates along the last axis, steps in (0.4, 1.2)."""
    return np.cumsum(rng.uniform(0.4, 1.2, shape), axis=-1) - 1.5


def _separated_singular_values(shape, rng):
    """Matrices U diag(s) V^T with singular values well apart and away from zero."""
    m, n = shape[-2:]
    k = min(m, n)
    u, _ = np.linalg.qr(rng.standard_normal(shape[:-2] + (m, k)))
    v, _ = np.linalg.qr(rng.standard_normal(shape[:-2] + (n, k)))
    s = np.arange(k, 0, -1) * 1.3 + rng.uniform(-0.2, 0.2, shape[:-2] + (k,))
    return (u * s[..., None, :]) @ np.swapaxes(v, -1, -2)


DOMAINS["with_nans"] = _with_nans
DOMAINS["increasing"] = _increasing
DOMAINS["separated"] = _separated_singular_values
DOMAINS["interp_x"] = lambda shape, rng: rng.uniform(-1.4, 1.4, shape)

T = ("numerical",)

# ---- differences and convolution -------------------------------------------------------------
add("diff(5,)", gnp.diff, ((5,), "real"), tags=T)
add("diff_n2_axis0", lambda x: gnp.diff(x, 2, axis=0), ((5, 3), "real"), tags=T)
add("diff_prepend_append", lambda x, p, q: gnp.diff(x, axis=-1, prepend=p, append=q),
    ((2, 4), "real"), ((2, 1), "real"), ((), "real"), tags=T)
add("diff_3d_n3", lambda x: gnp.diff(x, 3, axis=1), ((2, 5, 3), "real"), tags=T)
for edge_order in (1, 2):
    add(f"gradient_all_axes_edge{edge_order}", lambda f, e=edge_order: gnp.gradient(f, edge_order=e),
        ((5, 4), "real"), tags=T)
    add(f"gradient_coords_edge{edge_order}",
        lambda f, x, h, e=edge_order: gnp.gradient(f, h, x, edge_order=e),
        ((4, 5), "real"), ((5,), "increasing"), ((), "positive"), tags=T)
add("gradient_axis_spacing", lambda f, h: gnp.gradient(f, h, axis=-1), ((2, 3, 4), "real"),
    ((), "positive"), tags=T)
for sa, sb in [((5,), (3,)), ((3,), (5,)), ((4,), (4,)), ((1,), (3,))]:
    for mode in ("full", "valid", "same"):
        add(f"convolve{sa}{sb}{mode}", lambda a, v, m=mode: gnp.convolve(a, v, m),
            (sa, "real"), (sb, "real"), tags=T)

# ---- NaN-aware reductions and ptp ------------------------------------------------------------
for name in ("nansum", "nanmean", "nanvar", "nanstd"):
    for shape, axis in [((7,), None), ((3, 4), 0), ((3, 4), -1), ((2, 3, 4), (0, 2))]:
        for keepdims in (False, True):
            add(f"{name}{shape}axis={axis}keep={keepdims}",
                lambda x, fn=getattr(gnp, name), axis=axis, keepdims=keepdims:
                fn(x, axis=axis, keepdims=keepdims), (shape, "with_nans"), tags=T)
add("nanvar_ddof", lambda x: gnp.nanvar(x, axis=1, ddof=1), ((3, 5), "with_nans"), tags=T)
add("nanstd_ddof", lambda x: gnp.nanstd(x, ddof=1), ((6,), "with_nans"), tags=T)
for shape, axis in [((5,), None), ((3, 4), 1), ((2, 3, 4), (0, 2))]:
    add(f"ptp{shape}axis={axis}", lambda x, axis=axis: gnp.ptp(x, axis), (shape, "distinct"), tags=T)
add("ptp_keepdims", lambda x: gnp.ptp(x, 0, keepdims=True), ((3, 2), "distinct"), tags=T)

# ---- order statistics ------------------------------------------------------------------------
for shape, axis in [((5,), None), ((6,), 0), ((3, 4), 1), ((3, 5), 0), ((2, 3, 4), (0, 2)),
                    ((2, 3, 4), None)]:
    for keepdims in (False, True):
        add(f"median{shape}axis={axis}keep={keepdims}",
            lambda x, axis=axis, keepdims=keepdims: gnp.median(x, axis, keepdims=keepdims),
            (shape, "distinct"), tags=T)
add("quantile_scalar", lambda x: gnp.quantile(x, 0.37, axis=1), ((3, 6), "distinct"), tags=T)
add("quantile_array_q", lambda x: gnp.quantile(x, np.array([0.0, 0.21, 0.5, 0.93, 1.0]), axis=0),
    ((5, 3), "distinct"), tags=T)
add("quantile_traced_q", lambda x, q: gnp.quantile(x, q, keepdims=True), ((2, 4), "distinct"),
    ((3,), "unit01"), tags=T)
add("percentile", lambda x: gnp.percentile(x, [10.0, 65.0], axis=-1), ((2, 5), "distinct"),
    tags=T)
add("percentile_keepdims", lambda x: gnp.percentile(x, 42.0, axis=(0, 1), keepdims=True),
    ((3, 2, 4), "distinct"), tags=T)
add("partition", lambda x: gnp.partition(x, 2), ((3, 5), "distinct"), tags=T)
add("partition_axis0_multi_kth", lambda x: gnp.partition(x, [0, 3], axis=0),
    ((5, 2), "distinct"), tags=T)
add("partition_flat", lambda x: gnp.partition(x, 4, axis=None), ((2, 4), "distinct"), tags=T)

# ---- interpolation ---------------------------------------------------------------------------
_KNOTS = np.array([-1.0, -0.55, -0.1, 0.3, 0.65, 1.0])
add("interp", lambda x, fp: gnp.interp(x, _KNOTS.astype(x.dtype), fp), ((9,), "interp_x"),
    ((6,), "real"), tags=T)
add("interp_2d_x_left_right", lambda x, fp, lo, hi: gnp.interp(x, _KNOTS.astype(x.dtype), fp,
                                                                 lo, hi),
    ((3, 4), "interp_x"), ((6,), "real"), ((), "real"), ((), "real"), tags=T)
add("interp_traced_xp", lambda x, xp, fp: gnp.interp(x, xp, fp), ((7,), "interp_x"),
    ((5,), "increasing"), ((5,), "real"), tags=T)

# ---- selection -------------------------------------------------------------------------------
_CHOICE = np.array([[0, 2, 1], [1, 0, 2]])
add("choose", lambda a, b, c: gnp.choose(_CHOICE, [a, b, c]), ((2, 3), "real"), ((3,), "real"),
    ((), "real"), tags=T)
add("choose_wrap", lambda a, b: gnp.choose(_CHOICE + 3, [a, b], mode="wrap"), ((2, 3), "real"),
    ((2, 1), "real"), tags=T)
add("select", lambda x, y, d: gnp.select([gnp.sin(5 * x) > 0.3, x < 0.0], [x * y, y * y], d),
    ((2, 4), "real"), ((4,), "real"), ((2, 1), "real"), tags=T)
add("select_scalar_default", lambda x: gnp.select([x > 0.0], [gnp.exp(x)], -1.5),
    ((5,), "real"), tags=T)
add("piecewise", lambda x: gnp.piecewise(x, [x < -0.3, x > 0.4],
                                         [lambda v: v ** 3, gnp.sin, lambda v: 2.0 * v]),
    ((3, 4), "real"), tags=T)
add("piecewise_constant_branch", lambda x: gnp.piecewise(x, [x < 0.0], [gnp.exp, 0.5]),
    ((6,), "real"), tags=T)

# ---- polynomials, grids, integration, cross products -----------------------------------------
add("vander", gnp.vander, ((4,), "real"), tags=T)
add("vander_N_increasing", lambda x: gnp.vander(x, 5, increasing=True), ((3,), "real"), tags=T)
add("vander_with_zero", lambda x: gnp.vander(x * np.array([1.0, 0.0, 1.0], x.dtype), 4),
    ((3,), "real"), tags=T)
add("meshgrid_xy", lambda x, y: gnp.meshgrid(x, y), ((3,), "real"), ((4,), "real"), tags=T)
add("meshgrid_ij_sparse", lambda x, y, z: gnp.meshgrid(x, y, z, indexing="ij", sparse=True),
    ((2,), "real"), ((3,), "real"), ((2,), "real"), tags=T)
add("polyval", gnp.polyval, ((4,), "real"), ((2, 3), "real"), tags=T)
add("polyval_scalar_x", gnp.polyval, ((3,), "real"), ((), "real"), tags=T)
add("trapezoid", gnp.trapezoid, ((2, 5), "real"), tags=T)
add("trapezoid_x", lambda y, x: gnp.trapezoid(y, x, axis=0), ((4, 3), "real"),
    ((4,), "increasing"), tags=T)
add("trapezoid_x_full_dx", lambda y, x: gnp.trapezoid(y, x), ((2, 4), "real"),
    ((2, 4), "increasing"), tags=T)
add("trapezoid_dx", lambda y, dx: gnp.trapezoid(y, dx=dx), ((6,), "real"), ((), "positive"),
    tags=T)
add("cross3", gnp.cross, ((3,), "real"), ((3,), "real"), tags=T)
add("cross3_broadcast", gnp.cross, ((4, 3), "real"), ((2, 1, 3), "real"), tags=T)
add("cross_axes", lambda a, b: gnp.cross(a, b, axisa=0, axisb=1, axisc=0), ((3, 2), "real"),
    ((2, 3), "real"), tags=T)
add("cross_3_and_2", gnp.cross, ((2, 3), "real"), ((2,), "real"), tags=T)

# ---- linear algebra --------------------------------------------------------------------------
L = ("linalg",)
for n in (-2, -1, 1, 2, 5):
    add(f"matrix_power{n}", lambda a, n=n: gnp.linalg.matrix_power(a, n), ((3, 3), "wellcond"),
        tags=L)
add("matrix_power_batched", lambda a: gnp.linalg.matrix_power(a, 3), ((2, 3, 3), "wellcond"),
    tags=L)
add("multi_dot", lambda a, b, c: gnp.linalg.multi_dot([a, b, c]), ((2, 5), "real"),
    ((5, 3), "real"), ((3, 4), "real"), tags=L)
add("multi_dot_vectors", lambda a, b, c, d: gnp.linalg.multi_dot([a, b, c, d]),
    ((4,), "real"), ((4, 2), "real"), ((2, 3), "real"), ((3,), "real"), tags=L)
for shape in [(3, 3), (4, 2), (2, 4), (2, 4, 3), (3, 2, 3)]:
    add(f"svd{shape}", lambda a: gnp.linalg.svd(a, full_matrices=False), (shape, "separated"),
        tags=L)
    add(f"svdvals{shape}", lambda a: gnp.linalg.svd(a, compute_uv=False), (shape, "separated"),
        tags=L)
    add(f"pinv{shape}", gnp.linalg.pinv, (shape, "separated"), tags=L)
for shape in [(3, 3), (4, 2), (2, 4), (2, 4, 3), (2, 2, 3)]:
    add(f"qr{shape}", gnp.linalg.qr, (shape, "real"), tags=L)
add("qr_mode_r", lambda a: gnp.linalg.qr(a, mode="r"), ((4, 3), "real"), tags=L)
add("svd_full_square", gnp.linalg.svd, ((3, 3), "separated"), tags=L)
add("svd_reconstruct", lambda a: (lambda u, s, vh: (u * s[..., None, :]) @ vh)(
    *gnp.linalg.svd(a, full_matrices=False)), ((4, 3), "separated"), tags=L)
add("lstsq", lambda a, b: gnp.linalg.lstsq(a, b)[:2], ((5, 3), "separated"), ((5, 2), "real"),
    tags=L)
add("lstsq_vector", lambda a, b: gnp.linalg.lstsq(a, b)[0], ((5, 3), "separated"),
    ((5,), "real"), tags=L)
add("lstsq_underdetermined", lambda a, b: gnp.linalg.lstsq(a, b)[0], ((2, 4), "separated"),
    ((2,), "real"), tags=L)
add("lstsq_singular_values", lambda a, b: gnp.linalg.lstsq(a, b)[3], ((4, 3), "separated"),
    ((4,), "real"), tags=L)
