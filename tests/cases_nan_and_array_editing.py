"""Differentiation cases for the second batch of NumPy functions: the shape helpers added to
gpuad/numpy/manipulation.py and the compositions added to gpuad/numpy/numerical.py (found and
imported by tests/cases.py)."""
import numpy as np

import gpuad.numpy as gnp

from .cases import DOMAINS, add


def _nans(shape, rng):
    """Real values with NaN at every fifth element from the second (no all-NaN lane)."""
    x = rng.standard_normal(shape)
    x.flat[1::5] = np.nan
    return x


def _nans_and_infs(shape, rng):
    """Real values with NaN, +inf and -inf scattered among them."""
    x = rng.standard_normal(shape)
    x.flat[1::6] = np.nan
    x.flat[2::6] = np.inf
    x.flat[4::6] = -np.inf
    return x


DOMAINS["nans"] = _nans
DOMAINS["nans_and_infs"] = _nans_and_infs

T = ("numerical",)
M = ("manipulation",)

# ---- aliases and elementwise compositions ----------------------------------------------------
for name, fn, domain in [("degrees", gnp.degrees, "real"), ("radians", gnp.radians, "real"),
                         ("fabs", gnp.fabs, "nonzero"), ("i0", gnp.i0, "real")]:
    for shape in [(), (5,), (2, 3)]:
        add(f"{name}{shape}", fn, (shape, domain), tags=T)
add("nan_to_num", gnp.nan_to_num, ((3, 4), "nans_and_infs"), tags=T)
add("nan_to_num_values", lambda x: gnp.nan_to_num(x, nan=-1.0, posinf=3.0, neginf=-3.0),
    ((13,), "nans_and_infs"), tags=T)
add("nan_to_num_finite", gnp.nan_to_num, ((2, 3), "real"), tags=T)
add("real_if_close_real_input", lambda x: gnp.real_if_close(x) * x, ((4,), "real"), tags=T)

# ---- splitting, rotating, inserting, deleting, assembling ------------------------------------
add("hsplit", lambda x: tuple(gnp.hsplit(x, 2)), ((3, 4), "real"), tags=M)
add("hsplit_1d", lambda x: tuple(gnp.hsplit(x, [1, 4])), ((5,), "real"), tags=M)
add("vsplit", lambda x: tuple(gnp.vsplit(x, [1])), ((3, 2), "real"), tags=M)
add("dsplit", lambda x: tuple(gnp.dsplit(x, 2)), ((2, 1, 4), "real"), tags=M)
add("rollaxis", lambda x: gnp.rollaxis(x, 2), ((2, 3, 4), "real"), tags=M)
add("rollaxis_start", lambda x: gnp.rollaxis(x, 0, 2), ((2, 3, 4), "real"), tags=M)
for k in (1, 2, 3):
    add(f"rot90_k{k}", lambda x, k=k: gnp.rot90(x, k), ((3, 4), "real"), tags=M)
add("rot90_axes", lambda x: gnp.rot90(x, -1, axes=(2, 0)), ((2, 3, 4), "real"), tags=M)
add("append_flat", gnp.append, ((2, 3), "real"), ((4,), "real"), tags=M)
add("append_axis", lambda a, b: gnp.append(a, b, axis=1), ((2, 3), "real"), ((2, 2), "real"),
    tags=M)
add("insert_scalar", lambda a, v: gnp.insert(a, 2, v), ((5,), "real"), ((), "real"), tags=M)
add("insert_list", lambda a, v: gnp.insert(a, [0, 2, 2], v), ((4,), "real"), ((3,), "real"),
    tags=M)
add("insert_axis1_broadcast", lambda a, v: gnp.insert(a, 1, v, axis=1), ((3, 4), "real"),
    ((3,), "real"), tags=M)
add("insert_flat", lambda a, v: gnp.insert(a, [5, 1], v), ((2, 3), "real"), ((2,), "real"),
    tags=M)
add("delete", lambda a: gnp.delete(a, [0, 3]), ((5,), "real"), tags=M)
add("delete_axis", lambda a: gnp.delete(a, slice(1, None, 2), axis=1), ((2, 5), "real"), tags=M)
add("delete_flat", lambda a: gnp.delete(a, 4), ((2, 3), "real"), tags=M)
add("block", lambda a, b, c: gnp.block([[a, b], [c]]), ((2, 2), "real"), ((2, 3), "real"),
    ((1, 5), "real"), tags=M)
add("block_mixed_ndim", lambda a, b: gnp.block([[a], [b]]), ((4,), "real"), ((2, 4), "real"),
    tags=M)
add("block_3d", lambda a, b: gnp.block([[[a, b]]]), ((2, 1, 2), "real"), ((2, 1, 3), "real"),
    tags=M)

# ---- NaN-aware reductions, scans and order statistics ----------------------------------------
for name in ("nanmax", "nanmin", "nanprod", "nanmedian"):
    for shape, axis, keepdims in [((7,), None, False), ((3, 4), 0, False), ((3, 4), -1, True),
                                  ((2, 3, 4), (0, 2), False)]:
        add(f"{name}{shape}axis={axis}keep={keepdims}",
            lambda x, fn=getattr(gnp, name), axis=axis, keepdims=keepdims:
            fn(x, axis=axis, keepdims=keepdims), (shape, "nans"), tags=T)
for name in ("nancumsum", "nancumprod"):
    for shape, axis in [((7,), None), ((3, 4), 0), ((2, 3, 4), 1)]:
        add(f"{name}{shape}axis={axis}", lambda x, fn=getattr(gnp, name), axis=axis:
            fn(x, axis=axis), (shape, "nans"), tags=T)
add("nanquantile", lambda x: gnp.nanquantile(x, 0.37, axis=1), ((3, 6), "nans"), tags=T)
add("nanquantile_array_q", lambda x: gnp.nanquantile(x, np.array([0.0, 0.2, 0.65, 1.0]),
                                                     axis=0), ((6, 3), "nans"), tags=T)
add("nanquantile_traced_q", lambda x, q: gnp.nanquantile(x, q, axis=-1, keepdims=True),
    ((2, 7), "nans"), ((3,), "unit01"), tags=T)
add("nanpercentile", lambda x: gnp.nanpercentile(x, [15.0, 80.0], axis=(0, 1)),
    ((3, 4, 2), "nans"), tags=T)
for name, fn in (("cumulative_sum", gnp.cumulative_sum), ("cumulative_prod", gnp.cumulative_prod)):
    add(f"{name}", fn, ((5,), "real"), tags=T)
    add(f"{name}_initial_axis1", lambda x, fn=fn: fn(x, axis=1, include_initial=True),
        ((2, 4), "real"), tags=T)
    add(f"{name}_initial_axis0", lambda x, fn=fn: fn(x, axis=0, include_initial=True),
        ((3, 2), "real"), tags=T)
add("ediff1d", gnp.ediff1d, ((2, 3), "real"), tags=T)
add("ediff1d_ends", lambda x, b, e: gnp.ediff1d(x, to_end=e, to_begin=b), ((5,), "real"),
    ((), "real"), ((2,), "real"), tags=T)

# ---- matrices from vectors; covariance and correlation ---------------------------------------
add("diagflat", gnp.diagflat, ((2, 2), "real"), tags=T)
add("diagflat_k", lambda v: gnp.diagflat(v, 1), ((3,), "real"), tags=T)
add("diagflat_k_negative", lambda v: gnp.diagflat(v, -2), ((2,), "real"), tags=T)
# cov and corrcoef compute in float64 (NumPy's promotion), so float32 inputs give float64 values
add("cov", gnp.cov, ((3, 5), "real"), tags=T, float32=False)
add("cov_1d", gnp.cov, ((6,), "real"), tags=T, float32=False)
add("cov_y_rowvar", lambda x, y: gnp.cov(x, y, rowvar=False, bias=True), ((5, 2), "real"),
    ((5,), "real"), tags=T, float32=False)
add("cov_aweights", lambda x, w: gnp.cov(x, aweights=w, fweights=[1, 2, 1, 1, 3]),
    ((2, 5), "real"), ((5,), "positive"), tags=T, float32=False)
add("cov_aweights_ddof0", lambda x, w: gnp.cov(x, aweights=w, ddof=0), ((3, 4), "real"),
    ((4,), "positive"), tags=T, float32=False)
add("corrcoef", gnp.corrcoef, ((3, 6), "real"), tags=T, float32=False)
add("corrcoef_y", gnp.corrcoef, ((5,), "real"), ((5,), "real"), tags=T, float32=False)
add("corrcoef_rowvar", lambda x: gnp.corrcoef(x, rowvar=False), ((6, 2), "real"), tags=T,
    float32=False)
