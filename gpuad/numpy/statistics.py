"""Statistics of arrays, differentiable: NaN-aware reductions and scans (nansum ... nancumprod),
order statistics (median, quantile, percentile and their NaN-aware forms, partition, ptp), and
NumPy 2's cumulative_sum / cumulative_prod with ediff1d; cov and corrcoef.

Like `numerical.py`, nothing here declares a primitive: each function composes differentiable
gnp ops, and only discrete choices (which elements are NaN, the sorting permutation) are read
off the primal values; functions that make such choices refuse vmap-batched arguments.
"""
import warnings

import numpy as np

from ..trace import namespace_of, primal_value, strip_derivatives
from .elementwise import clip, conjugate, imag, real, sqrt, where
from .helpers import normalize_axis, one_axis, raw_array, refuse_vmap, shape_of
from .indexing import sort, take, take_along_axis
from .manipulation import concatenate
from .numerical import diff
from .products import diagonal, matmul
from .reductions import cumprod, cumsum
from .reductions import max as _max
from .reductions import min as _min
from .reductions import prod as _prod
from .reductions import sum as _sum
from .shapes import (
    asarray_traced,
    astype,
    atleast_2d,
    expand_dims,
    moveaxis,
    ravel,
    reshape,
    transpose,
)


def _xp(*xs):
    return namespace_of(*xs)


# ---- NaN-aware reductions --------------------------------------------------------------------
def _nan_filled(a, fill, name):
    """`a` with its NaNs replaced by `fill` and the NaN mask; where() sends a zero cotangent to
    the NaN positions (the gradient there is 0, not NaN). Integer and boolean arrays hold no
    NaN and keep their dtype, as in NumPy."""
    refuse_vmap(name, a)
    a = asarray_traced(a)
    raw = raw_array(a)
    if raw.dtype.kind not in "fc":
        return a, _xp(raw).zeros(raw.shape, dtype=bool)
    mask = _xp(raw).isnan(raw)
    return where(mask, fill, a), mask


def _nan_parts(a, axis, name):
    """`a` with NaNs as zeros, the NaN mask and the reduced axes (see `_nan_filled`)."""
    clean, mask = _nan_filled(a, 0.0, name)
    return clean, mask, normalize_axis(axis, len(shape_of(clean)), name)


def nansum(a, axis=None, dtype=None, keepdims=False):
    """`numpy.nansum`: the sum treating NaN as zero; the gradient is 0 at NaN positions."""
    clean, _, axes = _nan_parts(a, axis, "nansum")
    return _sum(clean, axes, dtype=dtype, keepdims=keepdims)


def _nan_count(mask, axes, keepdims, dtype):
    return (~mask).sum(axis=axes, keepdims=keepdims).astype(dtype)


def nanmean(a, axis=None, dtype=None, keepdims=False):
    """`numpy.nanmean`: the mean of the non-NaN elements (NaN for an all-NaN slice); the gradient
    is 0 at NaN positions."""
    clean, mask, axes = _nan_parts(a, axis, "nanmean")
    total = _sum(clean, axes, dtype=dtype, keepdims=keepdims)
    return total / _nan_count(mask, axes, keepdims, total.dtype)


def nanvar(a, axis=None, dtype=None, ddof=0, keepdims=False):
    """`numpy.nanvar`: the variance of the non-NaN elements; the gradient is 0 at NaN positions."""
    clean, mask, axes = _nan_parts(a, axis, "nanvar")
    dt = clean.dtype if dtype is None else np.dtype(dtype)
    mean = _sum(clean, axes, dtype=dtype, keepdims=True) / _nan_count(mask, axes, True, dt)
    centered = where(mask, 0.0, clean - mean)
    count = _nan_count(mask, axes, keepdims, dt)
    return _sum(centered * centered, axes, keepdims=keepdims) / _xp(count).maximum(count - ddof, 0)


def nanstd(a, axis=None, dtype=None, ddof=0, keepdims=False):
    """`numpy.nanstd`: sqrt of `nanvar`; the gradient is 0 at NaN positions."""
    return sqrt(nanvar(a, axis, dtype, ddof, keepdims))


def ptp(a, axis=None, keepdims=False):
    """`numpy.ptp`: max - min along `axis`, differentiable (tied extremes share the gradient)."""
    return _max(a, axis, keepdims=keepdims) - _min(a, axis, keepdims=keepdims)


# ---- order statistics ------------------------------------------------------------------------
def _lanes(a, axis):
    """`a` with the reduced axes moved to the end and merged into one: (kept..., n)."""
    a = asarray_traced(a)
    nd = len(shape_of(a))
    axes = normalize_axis(axis, nd, "quantile")
    kept = [i for i in range(nd) if i not in axes]
    moved = transpose(a, kept + list(axes))
    shape = shape_of(a)
    return reshape(moved, tuple(shape[i] for i in kept) + (-1,)), axes


def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False):
    """`numpy.quantile` with method='linear': differentiable in `a` (and in `q`).

    The value at fraction q of the sorted lanes is `s[lo] + w (s[lo+1] - s[lo])` with
    `lo = floor(q (n - 1))`, `w = q (n - 1) - lo`: the gradient goes to the two order statistics
    used, split by the weights 1 - w and w (all of it to one element when q (n - 1) is an
    integer). Tied elements are ordered by position (a stable sort).

    Args:
      a: array; q: a fraction in [0, 1] or an array of them.
      axis: None (all elements), an int or a tuple of ints; keepdims as in NumPy.

    Returns:
      Shape q.shape + the reduced shape of a.

    Example:
      >>> gnp.quantile(np.array([3.0, 1.0, 2.0, 4.0]), 0.5)   # 2.5
    """
    return _quantile(a, q, axis, out, overwrite_input, method, keepdims, "quantile")


def _quantile_arguments(name, a, q, out, method):
    """`a` and `q` as arrays, after the checks every quantile function makes."""
    if out is not None:
        raise NotImplementedError(f"{name}: out= is not supported (results are new arrays)")
    if method != "linear":
        raise NotImplementedError(f"{name}: method={method!r} is not supported; only 'linear' "
                                  f"(the default)")
    a = asarray_traced(a)
    if primal_value(a).size == 0:
        raise ValueError(f"{name}: cannot take a quantile of an empty array")
    q = asarray_traced(q)
    q_raw = raw_array(q)
    if q_raw.dtype.kind not in "fiu":
        raise TypeError(f"{name}: q must be real, got dtype {q_raw.dtype}")
    if q_raw.size and (q_raw.min() < 0 or q_raw.max() > 1):
        bounds = "[0, 100]" if name.endswith("percentile") else "[0, 1]"
        raise ValueError(f"{name}: q must lie in {bounds}")
    return a, q


def _quantile(a, q, axis, out, overwrite_input, method, keepdims, name):
    refuse_vmap(name, q)
    a, q = _quantile_arguments(name, a, q, out, method)
    q_raw = raw_array(q)
    lanes, axes = _lanes(a, axis)
    s = sort(lanes, axis=-1)
    n = shape_of(s)[-1]
    dtype = s.dtype
    pos = q * float(n - 1) if q_raw.dtype.kind == "f" else \
        asarray_traced(q_raw.astype(dtype)) * float(n - 1)
    lo_raw = _xp(q_raw).clip(_xp(q_raw).floor(raw_array(pos)), 0, n - 1).astype(np.intp)
    hi_raw = _xp(lo_raw).minimum(lo_raw + 1, n - 1)
    weight = pos - lo_raw.astype(raw_array(pos).dtype)
    qs = q_raw.shape
    lo_v = take(s, ravel(lo_raw), axis=-1)       # (kept..., q.size)
    hi_v = take(s, ravel(hi_raw), axis=-1)
    kept = shape_of(s)[:-1]
    lo_v = moveaxis(lo_v, -1, 0)
    hi_v = moveaxis(hi_v, -1, 0)
    w = reshape(weight, (-1,) + (1,) * len(kept))
    if dtype.kind == "f" and w.dtype != dtype:
        w = astype(w, dtype)
    val = lo_v + w * (hi_v - lo_v)
    val = reshape(val, qs + kept)
    if keepdims:
        full = [1 if i in axes else size for i, size in enumerate(shape_of(a))]
        val = reshape(val, qs + tuple(full))
    return val


def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
               keepdims=False):
    """`numpy.percentile` (q in [0, 100]) with method='linear'; see `quantile` for the
    gradient."""
    frac = _percent_to_fraction(q, "percentile")
    return _quantile(a, frac, axis, out, overwrite_input, method, keepdims, "percentile")


def _percent_to_fraction(q, name):
    """q in [0, 100] as a fraction in [0, 1] (differentiable in a floating q)."""
    q = asarray_traced(q)
    q_raw = raw_array(q)
    if q_raw.size and (q_raw.min() < 0 or q_raw.max() > 100):
        raise ValueError(f"{name}: q must lie in [0, 100]")
    return q / 100.0 if q_raw.dtype.kind == "f" else asarray_traced(q_raw / 100.0)


def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """`numpy.median`, differentiable: the gradient goes to the middle element, or is split
    evenly between the two middle elements of an even-length lane."""
    return _quantile(a, 0.5, axis, out, overwrite_input, "linear", keepdims, "median")


def partition(a, kth, axis=-1, kind="introselect", order=None):
    """`numpy.partition` (the values NumPy returns), differentiable: the gradient follows each
    element to its place (NumPy's `argpartition` permutation)."""
    if order is not None:
        raise NotImplementedError("partition: order= (structured arrays) is not supported")
    refuse_vmap("partition", a)
    a = asarray_traced(a)
    if axis is None:
        a, axis = ravel(a), 0
    axis = one_axis(axis, len(shape_of(a)), "partition")
    raw = raw_array(a)
    index = _xp(raw).argpartition(raw, kth, axis=axis, kind=kind)
    return take_along_axis(a, index, axis)


# ---- more NaN-aware reductions and scans -----------------------------------------------------
def _all_nan_lanes(mask, axes, keepdims, name):
    empty = mask.all(axis=axes, keepdims=keepdims)
    if bool(empty.any()):
        warnings.warn(f"{name}: All-NaN slice encountered", RuntimeWarning, stacklevel=3)
    return empty


def _nan_extreme(a, axis, keepdims, name, reduce, fill):
    filled, mask = _nan_filled(a, fill, name)
    axes = normalize_axis(axis, len(shape_of(filled)), name)
    ans = reduce(filled, axes, keepdims=keepdims)
    # a lane of NaNs only is NaN (with NumPy's warning), not the fill value
    empty = _all_nan_lanes(mask, axes, keepdims, name)
    return where(empty, np.nan, ans) if bool(empty.any()) else ans


def nanmax(a, axis=None, out=None, keepdims=False):
    """`numpy.nanmax`: the max ignoring NaNs; the gradient goes to the maximal element (split
    among ties), 0 at NaNs. An all-NaN lane gives NaN and a RuntimeWarning."""
    if out is not None:
        raise NotImplementedError("nanmax: out= is not supported (results are new arrays)")
    return _nan_extreme(a, axis, keepdims, "nanmax", _max, -np.inf)


def nanmin(a, axis=None, out=None, keepdims=False):
    """`numpy.nanmin`: the min ignoring NaNs; see `nanmax`."""
    if out is not None:
        raise NotImplementedError("nanmin: out= is not supported (results are new arrays)")
    return _nan_extreme(a, axis, keepdims, "nanmin", _min, np.inf)


def nanprod(a, axis=None, dtype=None, keepdims=False):
    """`numpy.nanprod`: the product treating NaN as one; the gradient is 0 at NaN positions."""
    filled, _ = _nan_filled(a, 1.0, "nanprod")
    axes = normalize_axis(axis, len(shape_of(filled)), "nanprod")
    return _prod(filled, axes, dtype=dtype, keepdims=keepdims)


def nancumsum(a, axis=None, dtype=None):
    """`numpy.nancumsum`: the running sum treating NaN as zero; gradient 0 at NaN positions."""
    return cumsum(_nan_filled(a, 0.0, "nancumsum")[0], axis=axis, dtype=dtype)


def nancumprod(a, axis=None, dtype=None):
    """`numpy.nancumprod`: the running product treating NaN as one; gradient 0 at NaNs."""
    return cumprod(_nan_filled(a, 1.0, "nancumprod")[0], axis=axis, dtype=dtype)


def _cumulative(scan, name, initial, x, axis, dtype, include_initial):
    x = asarray_traced(x)
    nd = len(shape_of(x))
    if nd == 0:
        x, nd = reshape(x, (1,)), 1
    if axis is None:
        if nd > 1:
            raise ValueError(f"{name}: axis is required for arrays of more than one dimension, "
                             f"got shape {shape_of(x)}")
        axis = 0
    axis = one_axis(axis, nd, name)
    out = scan(x, axis=axis, dtype=dtype)
    if not include_initial:
        return out
    raw = raw_array(out)
    shape = list(raw.shape)
    shape[axis] = 1
    return concatenate([_xp(raw).full(tuple(shape), initial, dtype=raw.dtype), out], axis=axis)


def cumulative_sum(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
    """`numpy.cumulative_sum` (NumPy 2.1): `cumsum` along `axis` (needed when x has more than one
    dimension), with a leading 0 slice when `include_initial`; differentiable."""
    if out is not None:
        raise NotImplementedError("cumulative_sum: out= is not supported (results are new arrays)")
    return _cumulative(cumsum, "cumulative_sum", 0, x, axis, dtype, include_initial)


def cumulative_prod(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
    """`numpy.cumulative_prod` (NumPy 2.1): `cumprod` along `axis`, with a leading 1 slice when
    `include_initial`; differentiable."""
    if out is not None:
        raise NotImplementedError("cumulative_prod: out= is not supported (results are new "
                                  "arrays)")
    return _cumulative(cumprod, "cumulative_prod", 1, x, axis, dtype, include_initial)


def ediff1d(ary, to_end=None, to_begin=None):
    """`numpy.ediff1d`: differences of the flattened array, with `to_begin` and `to_end`
    (flattened, cast to ary's dtype) joined at the ends; differentiable in all three."""
    ary = ravel(asarray_traced(ary))
    dtype = raw_array(ary).dtype

    def end_piece(extra):
        extra = ravel(asarray_traced(extra))
        if raw_array(extra).dtype != dtype:
            if not np.can_cast(raw_array(extra).dtype, dtype, casting="same_kind"):
                raise TypeError(f"ediff1d: to_begin/to_end of dtype {raw_array(extra).dtype} cannot "
                                f"be cast to the array's dtype {dtype}")
            extra = astype(extra, dtype)
        return extra

    pieces = (([] if to_begin is None else [end_piece(to_begin)]) + [diff(ary)]
              + ([] if to_end is None else [end_piece(to_end)]))
    return concatenate(pieces, axis=0) if len(pieces) > 1 else pieces[0]


def _nanquantile(a, q, axis, out, overwrite_input, method, keepdims, name):
    """Linear quantiles of the non-NaN elements of each lane: the sort puts NaNs last, so a lane
    with c numbers has its order statistics at 0..c-1 and the position is q (c - 1)."""
    refuse_vmap(name, a, q)
    a, q = _quantile_arguments(name, a, q, out, method)
    q_raw = raw_array(q)
    lanes, axes = _lanes(a, axis)
    raw = raw_array(lanes)
    xp = _xp(raw)
    s = sort(lanes, axis=-1)
    dtype = raw.dtype
    kept = raw.shape[:-1]
    count = (~xp.isnan(raw)).sum(axis=-1)                # (kept...)
    last = xp.maximum(count - 1, 0)
    if q_raw.dtype.kind != "f":
        q = asarray_traced(q_raw.astype(dtype))
    pos = reshape(q, (-1,) + (1,) * len(kept)) * last.astype(dtype)   # (q.size, kept...)
    if dtype.kind == "f" and raw_array(pos).dtype != dtype:
        pos = astype(pos, dtype)
    lo = xp.minimum(xp.floor(raw_array(pos)).astype(np.intp), last)
    hi = xp.minimum(lo + 1, last)
    weight = pos - lo.astype(dtype)
    lo_v = moveaxis(take_along_axis(s, xp.moveaxis(lo, 0, -1), -1), -1, 0)
    hi_v = moveaxis(take_along_axis(s, xp.moveaxis(hi, 0, -1), -1), -1, 0)
    val = lo_v + weight * (hi_v - lo_v)
    if bool((count == 0).any()):
        warnings.warn(f"{name}: All-NaN slice encountered", RuntimeWarning, stacklevel=3)
        val = where(xp.broadcast_to(count == 0, shape_of(val)), np.nan, val)
    val = reshape(val, q_raw.shape + kept)
    if keepdims:
        full = [1 if i in axes else size for i, size in enumerate(shape_of(a))]
        val = reshape(val, q_raw.shape + tuple(full))
    return val


def nanquantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                keepdims=False):
    """`numpy.nanquantile` with method='linear': `quantile` of the non-NaN elements of each
    lane, differentiable in `a` (0 at NaNs) and in `q`. An all-NaN lane gives NaN and a
    RuntimeWarning.

    Example:
      >>> gnp.nanquantile(np.array([3.0, np.nan, 1.0, 2.0]), 0.5)   # 2.0
    """
    return _nanquantile(a, q, axis, out, overwrite_input, method, keepdims, "nanquantile")


def nanpercentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                  keepdims=False):
    """`numpy.nanpercentile` (q in [0, 100]) with method='linear'; see `nanquantile`."""
    frac = _percent_to_fraction(q, "nanpercentile")
    return _nanquantile(a, frac, axis, out, overwrite_input, method, keepdims, "nanpercentile")


def nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """`numpy.nanmedian`: `median` of the non-NaN elements of each lane; see `nanquantile`."""
    return _nanquantile(a, 0.5, axis, out, overwrite_input, "linear", keepdims, "nanmedian")


# ---- covariance and correlation --------------------------------------------------------------
def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *,
        dtype=None):
    """`numpy.cov`: the covariance matrix of the variables in the rows of `m` (columns if not
    rowvar), differentiable in `m`, `y` and `aweights`.

    As in NumPy the result is at least float64 unless `dtype` says otherwise (float32 input
    gives float64), and a single variable gives a 0-d array.

    Example:
      >>> gnp.cov(np.array([[0.0, 1.0, 2.0], [2.0, 1.0, 0.5]]))   # 2 x 2
    """
    if ddof is not None and ddof != int(ddof):
        raise ValueError(f"cov: ddof must be an integer, got {ddof!r}")
    m = asarray_traced(m)
    y = None if y is None else asarray_traced(y)
    for name, v in (("m", m), ("y", y)):
        if v is not None and len(shape_of(v)) > 2:
            raise ValueError(f"cov: {name} has more than 2 dimensions (shape {shape_of(v)})")
    if dtype is None:
        dtype = np.result_type(raw_array(m), np.float64) if y is None else \
            np.result_type(raw_array(m), raw_array(y), np.float64)

    def variables_in_rows(v):
        v = astype(atleast_2d(v), dtype)
        return transpose(v) if not rowvar and shape_of(v)[0] != 1 else v

    X = variables_in_rows(m)
    if shape_of(X)[0] == 0:
        return _xp(raw_array(m)).empty((0, 0), dtype=dtype)
    if y is not None:
        X = concatenate([X, variables_in_rows(y)], axis=0)
    if ddof is None:
        ddof = 0 if bias else 1
    n = shape_of(X)[1]
    w = None
    if fweights is not None:
        f = raw_array(strip_derivatives(asarray_traced(fweights)))
        if f.ndim != 1 or f.shape[0] != n:
            raise ValueError(f"cov: fweights must be 1-D of length {n}, got shape {f.shape}")
        if f.dtype.kind not in "iu" and not bool((f == _xp(f).around(f)).all()):
            raise TypeError("cov: fweights must be integers")
        if bool((f < 0).any()):
            raise ValueError("cov: fweights cannot be negative")
        w = asarray_traced(f.astype(dtype))
    if aweights is not None:
        aw = asarray_traced(aweights)
        if shape_of(aw) != (n,):
            raise ValueError(f"cov: aweights must be 1-D of length {n}, got shape "
                             f"{shape_of(aw)}")
        if bool((raw_array(aw) < 0).any()):
            raise ValueError("cov: aweights cannot be negative")
        aw = astype(aw, dtype) if raw_array(aw).dtype != dtype else aw
        w = aw if w is None else w * aw
    if w is None:
        avg = _sum(X, 1) / float(n)
        fact = float(n - ddof)
    else:
        w_sum = _sum(w)
        avg = matmul(X, w) / w_sum
        if ddof == 0:
            fact = w_sum
        elif aweights is None:
            fact = w_sum - ddof
        else:
            fact = w_sum - ddof * _sum(w * aw) / w_sum
    if float(primal_value(fact)) <= 0:
        warnings.warn("cov: degrees of freedom <= 0 for slice", RuntimeWarning, stacklevel=2)
        fact = 0.0
    X = X - expand_dims(avg, 1)
    X_T = transpose(X) if w is None else transpose(X * w)
    c = matmul(X, conjugate(X_T)) / fact
    return reshape(c, ()) if shape_of(c) == (1, 1) else c


def corrcoef(x, y=None, rowvar=True, *, dtype=None):
    """`numpy.corrcoef`: Pearson correlation coefficients, cov(x, y) scaled by the standard
    deviations, with the real (and imaginary) parts clipped to [-1, 1] as NumPy does;
    differentiable in `x` and `y`."""
    c = cov(x, y, rowvar, dtype=dtype)
    if len(shape_of(c)) == 0:
        return c / c
    d = diagonal(c)
    stddev = sqrt(real(d))
    c = c / expand_dims(stddev, 1)
    c = c / expand_dims(stddev, 0)
    if raw_array(c).dtype.kind == "c":
        return clip(real(c), -1, 1) + 1j * clip(imag(c), -1, 1)
    return clip(c, -1, 1)
