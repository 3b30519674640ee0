"""Numerical routines: differences, interpolation, selection, grids, integration, cross
products (convolution is in `signal.py`, polyval and vander in `polynomials.py`, covariance
with the NaN-aware reductions and order statistics in `statistics.py`).

None of these declares a primitive. Each is a composition of differentiable gnp ops (slices,
concatenate, take_along_axis, where, matmul...), so its forward and reverse rules of every order
come from theirs. The only things read off the primal values are discrete choices: which
elements are NaN, the sorting permutation, which interval of `xp` a point falls in, which branch
of `choose`/`select`/`piecewise` is taken. The derivative is that of the smooth function selected
by those choices (piecewise-smooth functions are differentiated on the piece they are on).
Because those choices read raw values, functions that make them refuse arguments batched by
vmap (a clear NotImplementedError) rather than mix examples of the batch.
"""

import numpy as np

from ..trace import TRACER_TYPES, namespace_of, primal_value, strip_derivatives
from .bessel import i0 as bessel_i0
from .elementwise import absolute, deg2rad, imag, rad2deg, real, where
from .helpers import normalize_axis, np_function, one_axis, raw_array, refuse_vmap, shape_of
from .indexing import at_set, getitem, take, take_along_axis
from .manipulation import concatenate, stack
from .products import diag
from .reductions import sum as _sum
from .shapes import asarray_traced, astype, broadcast_arrays, broadcast_to, moveaxis, ravel, reshape


def _xp(*xs):
    return namespace_of(*xs)


def _slice_along(a, axis, start, stop, step=None):
    index = [slice(None)] * len(shape_of(a))
    index[axis] = slice(start, stop, step)
    return getitem(a, tuple(index))


def _along(v, axis, ndim):
    """A 1-D array `v` shaped to broadcast along `axis` of an ndim-dimensional array."""
    view = [1] * ndim
    view[axis] = shape_of(v)[0]
    return reshape(v, tuple(view))


# ---- differences -----------------------------------------------------------------------------
def diff(a, n=1, axis=-1, prepend=None, append=None):
    """`numpy.diff`: the n-th forward difference along `axis`, differentiable (also in
    `prepend` and `append`).

    Args:
      a: array of at least one dimension.
      n: how many times to difference (0 returns `a`).
      prepend, append: values joined to `a` along `axis` first; scalars are broadcast to one
        slice.

    Returns:
      An array whose `axis` is n shorter (after joining).

    Example:
      >>> gnp.diff(np.array([1.0, 4.0, 9.0]))   # [3., 5.]
    """
    if n < 0 or int(n) != n:
        raise ValueError(f"diff: order n must be a non-negative integer, got {n!r}")
    a = asarray_traced(a)
    nd = len(shape_of(a))
    if nd == 0:
        raise ValueError("diff: the input must be at least one-dimensional, got shape (); "
                         "use atleast_1d")
    axis = one_axis(axis, nd, "diff")

    def joined(extra):  # a scalar stands for one slice along axis
        extra = asarray_traced(extra)
        if len(shape_of(extra)) == 0:
            shape = list(shape_of(a))
            shape[axis] = 1
            extra = broadcast_to(extra, tuple(shape))
        return extra

    if prepend is not None or append is not None:
        pieces = (([] if prepend is None else [joined(prepend)]) + [a]
                  + ([] if append is None else [joined(append)]))
        a = concatenate(pieces, axis=axis)
    for _ in range(int(n)):
        a = _slice_along(a, axis, 1, None) - _slice_along(a, axis, None, -1)
    return a


def _gradient_spacings(varargs, shape, axes):
    """One spacing per axis: a scalar step or a 1-D coordinate array (NumPy's rules)."""
    if len(varargs) == 0:
        return [1.0] * len(axes)
    if len(varargs) == 1 and len(shape_of(varargs[0])) == 0:
        return [varargs[0]] * len(axes)
    if len(varargs) != len(axes):
        raise TypeError(f"gradient: give no spacing, one scalar, or one spacing per axis "
                        f"({len(axes)}); got {len(varargs)}")
    out = []
    for h, ax in zip(varargs, axes):
        h = asarray_traced(h) if not isinstance(h, (int, float)) else h
        hs = shape_of(h)
        if len(hs) == 1 and hs[0] != shape[ax]:
            raise ValueError(f"gradient: the coordinates for axis {ax} have length {hs[0]}, "
                             f"but the array has {shape[ax]} points along it")
        if len(hs) > 1:
            raise ValueError(f"gradient: spacing for axis {ax} must be a scalar or a 1-D array "
                             f"of coordinates, got shape {hs}")
        out.append(h)
    return out


def _gradient_one_axis(f, h, axis, edge_order):
    nd = len(shape_of(f))
    s = lambda start, stop: _slice_along(f, axis, start, stop)
    if len(shape_of(h)) == 0:  # uniform step
        interior = (s(2, None) - s(None, -2)) / (2.0 * h)
        if edge_order == 1:
            first = (s(1, 2) - s(0, 1)) / h
            last = (s(-1, None) - s(-2, -1)) / h
        else:
            first = (-1.5 * s(0, 1) + 2.0 * s(1, 2) - 0.5 * s(2, 3)) / h
            last = (1.5 * s(-1, None) - 2.0 * s(-2, -1) + 0.5 * s(-3, -2)) / h
        return concatenate([first, interior, last], axis=axis)
    # Coordinates: NumPy's second-order formulas for non-uniform grids (differentiable in h).
    if type(h) not in TRACER_TYPES:  # constant coordinates: computed in f's precision
        fdt = f.dtype
        h = asarray_traced(raw_array(h).astype(fdt if fdt.kind == "f" else np.float64))
    dx = diff(h)
    dx1, dx2 = _along(getitem(dx, slice(None, -1)), axis, nd), _along(getitem(dx, slice(1, None)),
                                                                       axis, nd)
    a = -dx2 / (dx1 * (dx1 + dx2))
    b = (dx2 - dx1) / (dx1 * dx2)
    c = dx1 / (dx2 * (dx1 + dx2))
    interior = a * s(None, -2) + b * s(1, -1) + c * s(2, None)
    if edge_order == 1:
        first = (s(1, 2) - s(0, 1)) / getitem(dx, 0)
        last = (s(-1, None) - s(-2, -1)) / getitem(dx, -1)
    else:
        d1, d2 = getitem(dx, 0), getitem(dx, 1)
        first = (-(2.0 * d1 + d2) / (d1 * (d1 + d2)) * s(0, 1) + (d1 + d2) / (d1 * d2) * s(1, 2)
                 - d1 / (d2 * (d1 + d2)) * s(2, 3))
        d1, d2 = getitem(dx, -2), getitem(dx, -1)
        last = (d2 / (d1 * (d1 + d2)) * s(-3, -2) - (d2 + d1) / (d1 * d2) * s(-2, -1)
                + (2.0 * d2 + d1) / (d2 * (d1 + d2)) * s(-1, None))
    return concatenate([first, interior, last], axis=axis)


def gradient(f, *varargs, axis=None, edge_order=1):
    """`numpy.gradient`: central differences inside, one-sided at the ends; differentiable in
    `f` (it is linear in f) and in the spacings or coordinates.

    Args:
      f: array of shape (..., n, ...) with at least `edge_order + 1` points along each axis used.
      varargs: nothing (step 1), one scalar step for all axes, or one scalar or 1-D coordinate
        array per axis.
      axis: None (every axis), an int or a tuple of ints.
      edge_order: 1 or 2, the accuracy of the one-sided differences at the ends.

    Returns:
      One array of f's shape per axis: a tuple, or a single array when one axis is asked for.

    Example:
      >>> gnp.gradient(np.array([1.0, 2.0, 4.0, 7.0]))   # [1., 1.5, 2.5, 3.]
    """
    f = asarray_traced(f)
    shape = shape_of(f)
    if edge_order not in (1, 2):
        raise ValueError(f"gradient: edge_order must be 1 or 2, got {edge_order!r}")
    axes = normalize_axis(axis, len(shape), "gradient")
    for ax in axes:
        if shape[ax] < edge_order + 1:
            raise ValueError(f"gradient: axis {ax} of shape {shape} has {shape[ax]} points; "
                             f"edge_order={edge_order} needs at least {edge_order + 1}")
    spacings = _gradient_spacings(varargs, shape, axes)
    out = tuple(_gradient_one_axis(f, h, ax, edge_order) for h, ax in zip(spacings, axes))
    return out[0] if len(out) == 1 else out


# ---- interpolation ---------------------------------------------------------------------------
def interp(x, xp, fp, left=None, right=None, period=None):
    """`numpy.interp`: piecewise-linear interpolation, differentiable in `x` (the slope of the
    piece x lies on), in `fp`, in `left`/`right`, and also in `xp`.

    Only the choice of the interval is read off the primal values; at a knot the derivative in
    x is that of the piece to the right (NumPy's `searchsorted(..., side='right')`).

    Args:
      x: array of points; xp: increasing 1-D coordinates; fp: 1-D values of xp's length.
      left, right: values below xp[0] and above xp[-1] (default fp[0] and fp[-1]).

    Example:
      >>> gnp.interp(np.array([0.5, 1.5]), np.array([0.0, 1.0, 2.0]), np.array([0.0, 2.0, 3.0]))
      array([1. , 2.5])
    """
    if period is not None:
        raise NotImplementedError("interp: period= is not supported; reduce x modulo the period "
                                  "and extend xp, fp by one period yourself")
    refuse_vmap("interp", x, xp)
    x, xp_, fp = asarray_traced(x), asarray_traced(xp), asarray_traced(fp)
    if len(shape_of(xp_)) != 1 or len(shape_of(fp)) != 1:
        raise ValueError(f"interp: xp and fp must be 1-D, got shapes {shape_of(xp_)} and "
                         f"{shape_of(fp)}")
    if shape_of(xp_) != shape_of(fp):
        raise ValueError(f"interp: xp and fp must have the same length, got {shape_of(xp_)[0]} "
                         f"and {shape_of(fp)[0]}")
    n = shape_of(xp_)[0]
    if n == 0:
        raise ValueError("interp: xp and fp cannot be empty")
    if raw_array(fp).dtype.kind == "c":
        raise NotImplementedError("interp: complex fp is not supported; interpolate the real and "
                                  "imaginary parts separately")
    xr, xpr = raw_array(x), raw_array(xp_)
    xpn = _xp(xpr)
    if n == 1:
        val = broadcast_to(getitem(fp, 0), shape_of(x)) + 0.0 * x
    else:
        i = xpn.clip(xpn.searchsorted(xpr, xr, side="right") - 1, 0, n - 2)
        x0, x1 = take(xp_, i), take(xp_, i + 1)
        f0, f1 = take(fp, i), take(fp, i + 1)
        val = f0 + (x - x0) * ((f1 - f0) / (x1 - x0))
        val = where(xr == xpr[-1], take(fp, i + 1), val)  # NumPy returns fp[-1] exactly there
    below = xr < xpr[0]
    above = xr > xpr[-1]
    val = where(below, getitem(fp, 0) if left is None else left, val)
    val = where(above, getitem(fp, -1) if right is None else right, val)
    return val


# ---- selection -------------------------------------------------------------------------------
def choose(a, choices, mode="raise"):
    """`numpy.choose`: element i of the result is `choices[a[i]][i]` (all broadcast together),
    differentiable in the choices; `a` (integers) is a constant."""
    if mode not in ("raise", "wrap", "clip"):
        raise ValueError(f"choose: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    refuse_vmap("choose", a)
    idx = raw_array(strip_derivatives(a))
    if idx.dtype.kind not in "iub":
        raise TypeError(f"choose: the index array must be integer, got dtype {idx.dtype}")
    choices = [asarray_traced(c) for c in choices]
    k = len(choices)
    if k == 0:
        raise ValueError("choose: need at least one choice")
    xp = _xp(idx)
    if mode == "raise" and idx.size and (idx.min() < 0 or idx.max() >= k):
        raise ValueError(f"choose: index values must lie in [0, {k}) with mode='raise', got "
                         f"values in [{int(idx.min())}, {int(idx.max())}]; use mode='wrap' or "
                         f"'clip'")
    idx = idx % k if mode == "wrap" else xp.clip(idx, 0, k - 1)
    shape = np.broadcast_shapes(idx.shape, *[shape_of(c) for c in choices])
    stacked = stack([broadcast_to(c, shape) for c in choices], axis=0)
    picked = take_along_axis(stacked, xp.broadcast_to(idx, shape)[None].astype(np.intp), 0)
    return reshape(picked, shape)


def select(condlist, choicelist, default=0):
    """`numpy.select`: where the first true condition picks its choice, else `default`;
    differentiable in the choices and the default (conditions are constants)."""
    if len(condlist) != len(choicelist):
        raise ValueError(f"select: condlist and choicelist must have the same length, got "
                         f"{len(condlist)} and {len(choicelist)}")
    if not condlist:
        raise ValueError("select: condlist cannot be empty")
    refuse_vmap("select", list(condlist))
    conds = [raw_array(strip_derivatives(c)) for c in condlist]
    for i, c in enumerate(conds):
        if c.dtype != bool:
            raise TypeError(f"select: condlist[{i}] has dtype {c.dtype}; conditions must be "
                            f"boolean (compare first, e.g. x > 0)")
    choices = [asarray_traced(c) for c in choicelist]
    shape = np.broadcast_shapes(*[c.shape for c in conds], *[shape_of(c) for c in choices])
    raw_default = primal_value(default)
    # a Python scalar default is weakly typed in NumPy: it does not widen float32 choices
    dtype = np.result_type(*[primal_value(c) for c in choices], raw_default)
    result = broadcast_to(asarray_traced(default), shape)
    if result.dtype != dtype:
        result = astype(result, dtype)
    for c, v in zip(reversed(conds), reversed(choices)):  # the first true condition wins
        result = where(c, v, result)
    return result


def piecewise(x, condlist, funclist, *args, **kw):
    """`numpy.piecewise`: where `condlist[i]` holds, `funclist[i](x[cond], *args, **kw)` (or the
    constant funclist[i]); one extra function is the 'otherwise' case. Later conditions
    overwrite earlier ones, as in NumPy. Differentiable through the chosen functions' values.

    Example:
      >>> gnp.piecewise(x, [x < 0, x >= 0], [lambda v: -v, lambda v: v ** 2])
    """
    refuse_vmap("piecewise", x, condlist if isinstance(condlist, (list, tuple)) else [condlist])
    x = asarray_traced(x)
    xr = raw_array(x)
    n2 = len(funclist)
    # NumPy's rule for a single condition given bare (not in a list)
    if np.isscalar(condlist) or (not isinstance(condlist[0], list)
                                 and getattr(condlist[0], "ndim", 0) == 0 and xr.ndim != 0):
        condlist = [condlist]
    conds = _xp(xr).asarray([raw_array(strip_derivatives(c)) for c in condlist], dtype=bool)
    n = len(conds)
    if n == n2 - 1:
        otherwise = ~conds.any(axis=0, keepdims=True)
        conds = _xp(xr).concatenate([conds, otherwise], axis=0)
        n += 1
    elif n != n2:
        raise ValueError(f"piecewise: with {n} condition(s) give {n} or {n + 1} functions, got "
                         f"{n2}")
    y = _xp(xr).zeros_like(xr)
    for cond, func in zip(conds, funclist):
        if xr.ndim == 0:
            cond = cond.reshape(())
        if not callable(func):
            y = at_set(y, func, cond)
            continue
        picked = getitem(x, cond)
        if primal_value(picked).size > 0:
            y = at_set(y, func(picked, *args, **kw), cond)
    return y


# ---- grids, integration, cross products ------------------------------------------------------
def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    """`numpy.meshgrid` of 1-D coordinate arrays, differentiable (reshapes and broadcasts).

    Returns a tuple of arrays, as NumPy 2 does.
    """
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    xs = [ravel(asarray_traced(x)) for x in xi]
    nd = len(xs)
    out = []
    for i, x in enumerate(xs):
        view = [1] * nd
        # 'xy' (Cartesian) indexing puts the first two coordinates on axes 1 and 0
        view[1 - i if indexing == "xy" and nd > 1 and i < 2 else i] = -1
        out.append(reshape(x, tuple(view)))
    if not sparse:
        shape = np.broadcast_shapes(*[shape_of(o) for o in out])
        out = [broadcast_to(o, shape) for o in out]
    return tuple(out)


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """`numpy.trapezoid`: the trapezoidal rule along `axis`, differentiable in `y`, `x` and `dx`.

    `x` is 1-D (the sample points along `axis`) or of y's shape.
    """
    y = asarray_traced(y)
    nd = len(shape_of(y))
    if nd == 0:
        raise ValueError("trapezoid: y must be at least 1-D")
    axis = one_axis(axis, nd, "trapezoid")
    if x is None:
        d = dx
    else:
        x = asarray_traced(x)
        xs = shape_of(x)
        if len(xs) == 1:
            if xs[0] != shape_of(y)[axis]:
                raise ValueError(f"trapezoid: x has {xs[0]} points but y has "
                                 f"{shape_of(y)[axis]} along axis {axis}")
            d = _along(diff(x), axis, nd)
        else:
            d = diff(x, axis=axis)
    mids = (_slice_along(y, axis, 1, None) + _slice_along(y, axis, None, -1)) * 0.5
    return _sum(d * mids, axis)


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """`numpy.cross` of 3-vectors (or 2-vectors: the z component), broadcast over the other
    axes, differentiable in both operands."""
    a, b = asarray_traced(a), asarray_traced(b)
    if axis is not None:
        axisa = axisb = axisc = axis
    a = moveaxis(a, axisa, -1)
    b = moveaxis(b, axisb, -1)
    na, nb = shape_of(a)[-1], shape_of(b)[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError(f"cross: vectors must have 2 or 3 components along the given axes, got "
                         f"{na} and {nb}")
    comp = lambda v, i, n: getitem(v, (Ellipsis, i)) if i < n else None
    a0, a1, a2 = (comp(a, i, na) for i in range(3))
    b0, b1, b2 = (comp(b, i, nb) for i in range(3))
    z = a0 * b1 - a1 * b0
    if na == 2 and nb == 2:
        return z
    # a missing third component is 0 (one operand 2-D), so its products drop out
    x_ = (a1 * b2 if b2 is not None else 0.0) - (a2 * b1 if a2 is not None else 0.0)
    y_ = (a2 * b0 if a2 is not None else 0.0) - (a0 * b2 if b2 is not None else 0.0)
    out = stack(broadcast_arrays(x_, y_, z), axis=-1)
    nd = len(shape_of(out))
    return moveaxis(out, -1, one_axis(axisc, nd, "cross"))


# ---- aliases and elementwise compositions ----------------------------------------------------
degrees = rad2deg
radians = deg2rad


def fabs(x):
    """`numpy.fabs`: the absolute value of real input, differentiable (sign(x) away from 0).

    Complex input is refused as NumPy does; integers give NumPy's float type for them.
    """
    x = asarray_traced(x)
    dt = raw_array(x).dtype
    if dt.kind == "c":
        raise TypeError(f"fabs: complex input (dtype {dt}) is not supported, as in NumPy; use "
                        f"gnp.abs for the modulus")
    out_dtype = np.fabs(np.zeros((), dt)).dtype
    if out_dtype != dt:
        x = astype(x, out_dtype)
    return absolute(x)


def _nan_to_num_real(x, nan, posinf, neginf):
    raw = raw_array(x)
    xp = _xp(raw)
    info = np.finfo(raw.dtype)
    x = where(xp.isnan(raw), nan, x)
    x = where(xp.isposinf(raw), info.max if posinf is None else posinf, x)
    return where(xp.isneginf(raw), info.min if neginf is None else neginf, x)


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """`numpy.nan_to_num`: NaN, +inf and -inf replaced by `nan`, `posinf` and `neginf` (default
    0 and the largest finite numbers of the dtype); complex parts are treated separately.

    The gradient is 1 at finite elements and 0 at the replaced ones. Integer and boolean input
    is returned unchanged.
    """
    refuse_vmap("nan_to_num", x)
    x = asarray_traced(x)
    kind = raw_array(x).dtype.kind
    if kind not in "fc":
        return x
    if kind == "c":
        return (_nan_to_num_real(real(x), nan, posinf, neginf)
                + 1j * _nan_to_num_real(imag(x), nan, posinf, neginf))
    return _nan_to_num_real(x, nan, posinf, neginf)


def real_if_close(a, tol=100):
    """`numpy.real_if_close`: the real part of complex `a` when every imaginary part is below
    `tol` (in machine epsilons if tol > 1), else `a` unchanged; differentiable either way."""
    a = asarray_traced(a)
    raw = raw_array(a)
    if raw.dtype.kind != "c":
        return a
    if tol > 1:
        tol = np.finfo(raw.dtype).eps * tol
    return real(a) if bool(_xp(raw).all(_xp(raw).abs(raw.imag) < tol)) else a


def i0(x):
    """`numpy.i0`: the modified Bessel function of the first kind, order 0; differentiable (it
    is `gpuad.scipy.special.i0`, declared in gpuad/numpy/bessel.py; its derivative is i1)."""
    if raw_array(asarray_traced(x)).dtype.kind == "c":
        raise TypeError("i0: complex input is not supported, as in NumPy")
    return bessel_i0(x)


# ---- matrices from vectors -------------------------------------------------------------------
def diagflat(v, k=0):
    """`numpy.diagflat`: a square matrix with the flattened `v` on its k-th diagonal."""
    return diag(ravel(asarray_traced(v)), k)


# ---- not differentiable ----------------------------------------------------------------------
heaviside = np_function("heaviside")
nanargmax = np_function("nanargmax")
nanargmin = np_function("nanargmin")


def fill_diagonal(a, val, wrap=False):
    """`numpy.fill_diagonal` on a plain array (it writes into `a`, returning None).

    A traced array cannot be written in place: use `a.at[gnp.diag_indices(n)].set(val)` or
    `gnp.where(gnp.eye(n, dtype=bool), val, a)`, which return a new array.
    """
    if type(a) in TRACER_TYPES or type(val) in TRACER_TYPES:
        raise TypeError(
            "fill_diagonal: writes into its argument in place, which a traced array (inside "
            "grad, jvp, vmap...) cannot be; build a new array instead with "
            "a.at[gnp.diag_indices(n, a.ndim)].set(val) or "
            "gnp.where(gnp.eye(n, dtype=bool), val, a)")
    _xp(a).fill_diagonal(a, val, wrap=wrap)

