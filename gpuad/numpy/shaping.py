"""More array manipulation, as compositions of differentiable ops: resize, trim_zeros, unstack,
compress, extract, sort_complex, row_stack, the `as*array` conversions and the `mgrid` and
`ogrid` grids.

Selections (which elements `compress`, `extract` and `trim_zeros` keep, the order of
`sort_complex`) are read off primal values; the kept values are gathered differentiably.
"""
import warnings

import numpy as np

from .. import backend
from ..trace import TRACER_TYPES, namespace_of, primal_value, strip_derivatives
from .creation import asarray
from .helpers import holds_tracer, refuse_vmap, shape_of
from .indexing import getitem, take, take_along_axis
from .manipulation import concatenate, vstack
from .shapes import astype, moveaxis, ravel, reshape


def _xp(*xs):
    arrays = [x for x in xs if hasattr(x, "shape")]
    return namespace_of(*arrays) if arrays else backend.default_namespace()


def _array(a):
    return a if hasattr(a, "shape") and hasattr(a, "dtype") else asarray(a)


def resize(a, new_shape):
    """`numpy.resize`: `a` flattened, repeated as often as needed and cut to the new shape;
    differentiable (repeated elements accumulate their cotangents)."""
    a = _array(a)
    new_shape = (new_shape,) if isinstance(new_shape, (int, np.integer)) else tuple(new_shape)
    if any(n < 0 for n in new_shape):
        raise ValueError(f"resize: all elements of new_shape must be non-negative, got "
                         f"{new_shape}")
    size = int(np.prod(new_shape))
    flat = ravel(a)
    n = shape_of(flat)[0]
    if size == 0 or n == 0:
        return _xp(a).zeros(new_shape, dtype=a.dtype)
    repeats = -(-size // n)
    if repeats > 1:
        flat = concatenate([flat] * repeats)
    return reshape(getitem(flat, slice(0, size)), new_shape)


def trim_zeros(filt, trim="fb", axis=None):
    """`numpy.trim_zeros`: `filt` without its leading ('f') and/or trailing ('b') zeros along
    `axis` (None: along every axis, the smallest box holding every nonzero element);
    differentiable."""
    filt = _array(filt)
    trim = trim.lower()
    if trim not in ("f", "b", "fb", "bf"):
        raise ValueError(f"trim_zeros: trim must be 'f', 'b' or 'fb', got {trim!r}")
    if type(filt) not in TRACER_TYPES and type(filt) is np.ndarray:
        return np.trim_zeros(filt, trim, axis)
    refuse_vmap("trim_zeros", filt)
    raw = primal_value(filt)
    xp = _xp(raw)
    axes = range(raw.ndim) if axis is None else [int(axis) % max(raw.ndim, 1)]
    index = [slice(None)] * raw.ndim
    nonzero = xp.argwhere(raw != 0)
    for ax in axes:
        along = nonzero[:, ax]
        if along.size == 0:
            start = stop = 0
        else:
            start = int(along.min()) if "f" in trim else 0
            stop = int(along.max()) + 1 if "b" in trim else raw.shape[ax]
        index[ax] = slice(start, stop)
    return getitem(filt, tuple(index))


def unstack(x, /, *, axis=0):
    """`numpy.unstack`: the slices of x along `axis`, as a tuple; differentiable."""
    x = _array(x)
    if len(shape_of(x)) == 0:
        raise ValueError("unstack: the input must be at least 1-D")
    moved = moveaxis(x, axis, 0)
    return tuple(getitem(moved, i) for i in range(shape_of(moved)[0]))


def compress(condition, a, axis=None, out=None):
    """`numpy.compress`: the slices of `a` along `axis` (the flattened `a` if None) where the
    1-D `condition` holds (a shorter condition leaves the rest out); differentiable in a."""
    if out is not None:
        raise TypeError("compress: out= is not supported (it writes in place); use the result")
    cond = primal_value(strip_derivatives(condition))
    cond = cond if hasattr(cond, "shape") else np.asarray(cond)
    if cond.ndim != 1:
        raise ValueError(f"compress: condition must be 1-D, got shape {cond.shape}")
    a = _array(a)
    if axis is None:
        a, axis = ravel(a), 0
    length = shape_of(a)[axis]
    if cond.shape[0] > length:
        raise IndexError(f"compress: condition has {cond.shape[0]} entries for an axis of "
                         f"length {length}")
    return take(a, _xp(cond).nonzero(cond)[0], axis=axis)


def extract(condition, arr):
    """`numpy.extract`: the elements of the flattened `arr` where the flattened `condition` is
    nonzero; differentiable in arr."""
    cond = primal_value(strip_derivatives(condition))
    cond = cond if hasattr(cond, "shape") else np.asarray(cond)
    return take(ravel(_array(arr)), _xp(cond).nonzero(cond.ravel())[0])


def sort_complex(a):
    """`numpy.sort_complex`: sorted along the last axis by real part, then imaginary part, as a
    complex array; differentiable."""
    a = _array(a)
    raw = primal_value(a)
    order = _xp(raw).argsort(raw, axis=-1, kind="stable")
    out = take_along_axis(a, order, -1)
    if raw.dtype.kind != "c":
        out = astype(out, "F" if raw.dtype.char in "bhBH" else "G" if raw.dtype.char == "g"
                     else "D")
    return out


def row_stack(tup, *, dtype=None, casting="same_kind"):
    """`numpy.row_stack`, deprecated by NumPy 2.0 (it warns likewise): `vstack`."""
    warnings.warn("`row_stack` alias is deprecated. Use `gnp.vstack` directly.",
                  DeprecationWarning, stacklevel=2)
    out = vstack(tup)
    return out if dtype is None else astype(out, dtype)


# ---- conversions: memory layout means nothing for traced values ------------------------------
def _convert(name, at_least_1d=False):
    def convert(a, dtype=None, *args, **kwargs):
        if type(a) in TRACER_TYPES or holds_tracer(a):
            out = asarray(a, dtype)
            return reshape(out, (1,)) if at_least_1d and shape_of(out) == () else out
        xp = _xp(a) if hasattr(a, "shape") else backend.default_namespace()
        return getattr(xp, name)(a, dtype, *args, **kwargs)
    convert.__name__ = convert.__qualname__ = name
    convert.__doc__ = (f"`numpy.{name}`; a traced array is returned as it is (cast to `dtype` "
                       f"if given): its memory layout is not observable.")
    return convert


asanyarray = _convert("asanyarray")
ascontiguousarray = _convert("ascontiguousarray", at_least_1d=True)
asfortranarray = _convert("asfortranarray", at_least_1d=True)
require = _convert("require")


def asarray_chkfinite(a, dtype=None, order=None):
    """`numpy.asarray_chkfinite`: `asarray`, raising ValueError if `a` holds an inf or NaN."""
    out = _array(a) if dtype is None else astype(_array(a), dtype)
    raw = primal_value(out)
    if raw.dtype.kind in "fc" and not bool(_xp(raw).isfinite(raw).all()):
        raise ValueError("asarray_chkfinite: the array must not contain infs or NaNs")
    return out


class _Grid:
    """`gnp.mgrid[...]` / `gnp.ogrid[...]`: NumPy's index grids on the default backend."""

    def __init__(self, name):
        self.name = name

    def __getitem__(self, key):
        return getattr(backend.default_namespace(), self.name)[key]


mgrid = _Grid("mgrid")
ogrid = _Grid("ogrid")
