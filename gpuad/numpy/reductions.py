"""Reductions and scans: sum, prod, max/min, cumsum, cumprod, and compositions (mean, var...).

A reduction's VJP broadcasts the cotangent back over the reduced axes (`expand_reduced`); its JVP
is the same reduction of the tangent. `prod` and `cumprod` handle zeros exactly: their
derivatives are products of the *other* elements, computed without dividing by the input.
"""
import builtins

import numpy as np

from .. import backend
from ..trace import Primitive, bind1, namespace_of, primal_value, strip_derivatives
from .batch_rules import axis_rule
from .elementwise import imag, real, sqrt, square
from .helpers import expand_reduced, normalize_axis, np_function, shape_of
from .helpers import ops as _helper_ops
from .indexing import (
    argsort,  # noqa: F401  (gnp.argsort; sort in indexing.py needs it)
    getitem,
)
from .manipulation import concatenate, flip, pad
from .shapes import asarray_traced, astype, broadcast_to, moveaxis, reshape


def _xp(*xs):
    return backend.namespace(*xs)


def _axes(a, axis, name):
    return normalize_axis(axis, len(shape_of(a)), name)


def _count(shape, axes):
    n = 1
    for ax in axes:
        n *= shape[ax]
    return n


def _broadcast_back(g, x, axis, keepdims):
    """A reduction's cotangent spread back over the reduced axes of x (a view, no copy)."""
    if g.size != 1:  # one element broadcasts to anything as it is
        g = expand_reduced(g, axis, keepdims)
    return broadcast_to(g, x.shape)


# ---- sum -------------------------------------------------------------------------------------
sum_p = Primitive(
    "sum", lambda x, *, axis, keepdims: x.sum(axis=axis, keepdims=keepdims),
    vjp=[lambda ans, x, g, *, axis, keepdims: _broadcast_back(g, x, axis, keepdims)],
    jvp=[lambda ans, x, t, *, axis, keepdims: sum(t, axis, keepdims=keepdims)],
    meta_only=(0,), batch=axis_rule("axis"))


def sum(a, axis=None, dtype=None, keepdims=False):
    """`numpy.sum`, differentiable."""
    if type(a) is np.ndarray:  # not traced: NumPy's own method is the fastest path
        return a.sum(axis=axis, dtype=dtype, keepdims=keepdims)
    a = asarray_traced(a)
    if dtype is not None:
        a = astype(a, dtype)
    return bind1(sum_p, a, {"axis": _axes(a, axis, "sum"), "keepdims": bool(keepdims)})


_helper_ops.sum = sum  # for helpers.unbroadcast


def mean(a, axis=None, dtype=None, keepdims=False):
    """`numpy.mean`, differentiable."""
    if type(a) is np.ndarray:
        return a.mean(axis=axis, dtype=dtype, keepdims=keepdims)
    a = asarray_traced(a)
    axes = _axes(a, axis, "mean")
    total = sum(a, axes, dtype=dtype, keepdims=keepdims)
    n = _count(shape_of(a), axes)
    return total / n if n else total * float("nan")


def average(a, axis=None, weights=None, returned=False, keepdims=False):
    """`numpy.average`, differentiable in `a` and `weights`."""
    a = asarray_traced(a)
    if weights is None:
        avg = mean(a, axis, keepdims=keepdims)
        scale = _count(shape_of(a), _axes(a, axis, "average")) + 0.0 * primal_value(avg)
    else:
        weights = asarray_traced(weights)
        if shape_of(weights) != shape_of(a):
            if axis is None or len(shape_of(weights)) != 1:
                raise ValueError(f"average: weights of shape {shape_of(weights)} differ from a's "
                                 f"shape {shape_of(a)}; give 1-D weights together with axis")
            view = [1] * len(shape_of(a))
            view[axis] = shape_of(weights)[0]
            weights = reshape(weights, tuple(view))
        scale = sum(broadcast_to(weights, shape_of(a)), axis, keepdims=keepdims)
        avg = sum(a * weights, axis, keepdims=keepdims) / scale
    return (avg, scale) if returned else avg


def var(a, axis=None, dtype=None, ddof=0, keepdims=False):
    """`numpy.var`, differentiable."""
    if type(a) is np.ndarray:
        return a.var(axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims)
    a = asarray_traced(a)
    axes = _axes(a, axis, "var")
    centered = a - mean(a, axes, dtype=dtype, keepdims=True)
    # |c|^2 of a complex c as re^2 + im^2: smooth at c = 0, where square(abs(c)) has no second
    # derivative (abs has none at 0)
    sq = (square(real(centered)) + square(imag(centered)) if centered.dtype.kind == "c"
          else square(centered))
    n = _count(shape_of(a), axes)
    return sum(sq, axes, keepdims=keepdims) / builtins.max(n - ddof, 0)


def std(a, axis=None, dtype=None, ddof=0, keepdims=False):
    """`numpy.std`, differentiable.

    With one element per reduced group (and ddof < 1), std is identically 0, and so are its
    derivatives of every order. Elsewhere, where the variance is 0 (all elements of a group
    equal), std has a corner (it is a norm of the centered data) and its derivative is NaN, as
    JAX's: sqrt's infinite slope at 0 meets the variance's zero derivative.
    """
    a = asarray_traced(a)
    v = var(a, axis, dtype, ddof, keepdims)
    if ddof < 1 and _count(shape_of(a), _axes(a, axis, "std")) == 1:
        return v  # 0, and exactly constant: sqrt would turn its zero derivative into 0 * inf
    return sqrt(v)


# ---- max and min -----------------------------------------------------------------------------
def _argmax_share(ans, x, axis, keepdims):
    """Each element's share of the derivative of a max/min: 1/k at the k tied extremes."""
    # strip_derivatives, not primal_value: under vmap and ga.jit the mask must stay per example
    # / recorded (primal_value would read one call's value as a constant)
    hit = (x == expand_reduced(strip_derivatives(ans), axis, keepdims))
    share = hit.astype(ans.dtype)
    return share / sum(share, axis=axis, keepdims=True)


def _extreme_primitive(name, impl):
    return Primitive(
        name, impl,
        vjp=[lambda ans, x, g, *, axis, keepdims: expand_reduced(g, axis, keepdims)
             * _argmax_share(ans, x, axis, keepdims)],
        jvp=[lambda ans, x, t, *, axis, keepdims: sum(t * _argmax_share(ans, x, axis, keepdims),
                                                      axis, keepdims=keepdims)],
        batch=axis_rule("axis"))


max_p = _extreme_primitive("max", lambda x, *, axis, keepdims: x.max(axis=axis, keepdims=keepdims))
min_p = _extreme_primitive("min", lambda x, *, axis, keepdims: x.min(axis=axis, keepdims=keepdims))


def max(a, axis=None, keepdims=False):
    """`numpy.max`, differentiable; tied maxima share the gradient equally."""
    if type(a) is np.ndarray:
        return a.max(axis=axis, keepdims=keepdims)
    a = asarray_traced(a)
    return max_p.bind(a, axis=_axes(a, axis, "max"), keepdims=bool(keepdims))


def min(a, axis=None, keepdims=False):
    """`numpy.min`, differentiable; tied minima share the gradient equally."""
    if type(a) is np.ndarray:
        return a.min(axis=axis, keepdims=keepdims)
    a = asarray_traced(a)
    return min_p.bind(a, axis=_axes(a, axis, "min"), keepdims=bool(keepdims))


amax = max
amin = min


# ---- prod ------------------------------------------------------------------------------------
def _exclusive_cumprod(y):
    """Products of the elements strictly before each one along the last axis: [1, y0, y0 y1...]."""
    ones = namespace_of(y).ones(shape_of(y)[:-1] + (1,), dtype=y.dtype)
    shifted = concatenate([ones, getitem(y, (Ellipsis, slice(None, -1)))], axis=-1)
    return cumprod(shifted, axis=-1)


def _product_of_others(x, axes):
    """For each element, the product of the other elements in its reduction group (no division,
    so exact where x has zeros)."""
    shape = shape_of(x)
    kept = [i for i in range(len(shape)) if i not in axes]
    moved = moveaxis(x, list(axes), list(range(len(kept), len(shape)))) if axes else x
    lanes = reshape(moved, tuple(shape[i] for i in kept) + (-1,))
    before = _exclusive_cumprod(lanes)
    after = flip(_exclusive_cumprod(flip(lanes, -1)), -1)
    others = reshape(before * after, tuple(shape[i] for i in kept) + tuple(shape[i] for i in axes))
    return moveaxis(others, list(range(len(kept), len(shape))), list(axes)) if axes else others


prod_p = Primitive(
    "prod", lambda x, *, axis, keepdims: x.prod(axis=axis, keepdims=keepdims),
    vjp=[lambda ans, x, g, *, axis, keepdims: expand_reduced(g, axis, keepdims)
         * _product_of_others(x, axis)],
    jvp=[lambda ans, x, t, *, axis, keepdims: sum(t * _product_of_others(x, axis), axis,
                                                  keepdims=keepdims)],
    batch=axis_rule("axis"))


def prod(a, axis=None, dtype=None, keepdims=False):
    """`numpy.prod`, differentiable, exactly also where elements are zero."""
    if type(a) is np.ndarray:
        return a.prod(axis=axis, dtype=dtype, keepdims=keepdims)
    a = asarray_traced(a)
    if dtype is not None:
        a = astype(a, dtype)
    return prod_p.bind(a, axis=_axes(a, axis, "prod"), keepdims=bool(keepdims))


# ---- cumulative sums and products ------------------------------------------------------------
def _reverse_cumsum(g, axis):
    return flip(cumsum(flip(g, axis), axis), axis)


cumsum_p = Primitive(
    "cumsum", lambda x, *, axis: x.cumsum(axis=axis),
    vjp=[lambda ans, x, g, *, axis: _reverse_cumsum(g, axis)],
    jvp=[lambda ans, x, t, *, axis: cumsum(t, axis)], batch=axis_rule("axis"))


def _scan_operand(a, axis, dtype):
    """NumPy's scan arguments: cast to dtype, and axis=None scans the flattened array."""
    a = asarray_traced(a)
    if dtype is not None:
        a = astype(a, dtype)
    if axis is None:
        a, axis = reshape(a, (-1,)), 0
    return a, int(axis) % builtins.max(len(shape_of(a)), 1)


def cumsum(a, axis=None, dtype=None):
    """`numpy.cumsum`, differentiable (axis=None flattens first)."""
    if type(a) is np.ndarray:
        return a.cumsum(axis=axis, dtype=dtype)
    a, axis = _scan_operand(a, axis, dtype)
    return cumsum_p.bind(a, axis=axis)


# cumprod's rules differentiate a log-depth scan of multiplications (Hillis-Steele): level
# k + 1 is y' = [y[:s], y[s:] * y[:n-s]] with s = 2^k, and the last level is cumprod(x). Being
# only products, the rules (and their own derivatives, of every order) are exact where x has
# zeros, which no formula dividing by x is. Both are written with differentiable ops.
def _part(y, axis, start, stop):
    """y[start:stop] along `axis`."""
    index = [slice(None)] * len(shape_of(y))
    index[axis] = slice(start, stop)
    return getitem(y, tuple(index))


def _scan_steps(n):
    """The shifts s = 1, 2, 4 ... < n of the doubling scan over n elements."""
    steps, step = [], 1
    while step < n:
        steps.append(step)
        step *= 2
    return steps


def _scan_level(y, axis, n, step):
    """One doubling step: [y[:s], y[s:] * y[:n-s]]."""
    return concatenate([_part(y, axis, 0, step),
                        _part(y, axis, step, n) * _part(y, axis, 0, n - step)], axis=axis)


def _cumprod_vjp(ans, x, g, *, axis):
    # Reverse sweep of the scan: the inputs of each level are recomputed from x (forward), then
    # the cotangent goes back one level at a time: of y' = [y[:s], y[s:] * y[:n-s]],
    # g_y = [g'[:s], g'[s:] * y[:n-s]] + [g'[s:] * y[s:], 0 (s of them)].
    n = shape_of(x)[axis]
    steps = _scan_steps(n)
    levels = [x]
    for step in steps[:-1]:
        levels.append(_scan_level(levels[-1], axis, n, step))
    ndim = len(shape_of(x))
    for y, step in zip(reversed(levels), reversed(steps)):
        tail = _part(g, axis, step, n)
        widths = [(0, 0)] * ndim
        widths[axis] = (0, step)
        g = (concatenate([_part(g, axis, 0, step), tail * _part(y, axis, 0, n - step)], axis=axis)
             + pad(tail * _part(y, axis, step, n), widths))
    return g


def _cumprod_jvp(ans, x, t, *, axis):
    # Forward sweep of the scan with the tangent alongside: of y' = [y[:s], y[s:] * y[:n-s]],
    # t' = [t[:s], t[s:] * y[:n-s] + y[s:] * t[:n-s]].
    n = shape_of(x)[axis]
    steps = _scan_steps(n)
    y = x
    for k, step in enumerate(steps):
        t = concatenate([_part(t, axis, 0, step),
                         _part(t, axis, step, n) * _part(y, axis, 0, n - step)
                         + _part(y, axis, step, n) * _part(t, axis, 0, n - step)], axis=axis)
        if k + 1 < len(steps):  # the last level's y is cumprod(x) itself, not needed
            y = _scan_level(y, axis, n, step)
    return t


cumprod_p = Primitive("cumprod", lambda x, *, axis: x.cumprod(axis=axis),
                      vjp=[_cumprod_vjp], jvp=[_cumprod_jvp], batch=axis_rule("axis"))


def cumprod(a, axis=None, dtype=None):
    """`numpy.cumprod`, differentiable, exactly also where elements are zero."""
    if type(a) is np.ndarray:
        return a.cumprod(axis=axis, dtype=dtype)
    a, axis = _scan_operand(a, axis, dtype)
    return cumprod_p.bind(a, axis=axis)


# ---- not differentiable ----------------------------------------------------------------------
argmax = np_function("argmax")
argmin = np_function("argmin")
all = np_function("all")
any = np_function("any")
count_nonzero = np_function("count_nonzero")
nonzero = np_function("nonzero")
flatnonzero = np_function("flatnonzero")
searchsorted = np_function("searchsorted")
allclose = np_function("allclose")
array_equal = np_function("array_equal")
isclose = np_function("isclose")
