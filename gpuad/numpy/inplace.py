"""NumPy's writing functions: put, putmask, place, copyto, put_along_axis.

NumPy writes into the first argument and returns None. gpuad does the same for plain arrays
(NumPy and CuPy), so NumPy code keeps working. A traced array cannot be written (the values the
derivative was recorded against would change), so for traced arguments these raise a TypeError
pointing at the functional form. That form is the JAX one: `inplace=False` returns a new array
with the writes applied, differentiable in the array and the written values (as `x.at[i].set`).
"""
import numpy as np

from .. import backend
from ..trace import TRACER_TYPES, primal_value, strip_derivatives
from .creation import asarray
from .elementwise import where as _where
from .helpers import shape_of
from .indexing import along_axis_index_for, at_set
from .shapes import astype, broadcast_to, ravel, reshape
from .shaping import resize


def _writes_in_place(name, target, values, functional):
    """Refuse to write into a traced target (or from traced values) in place."""
    if type(target) in TRACER_TYPES or type(values) in TRACER_TYPES:
        raise TypeError(
            f"{name}: writes into its first argument, which a traced array (inside grad, jvp, "
            f"vmap...) cannot be. Pass inplace=False for a new array with the writes applied "
            f"({functional}).")


def _raw_index(idx):
    idx = primal_value(strip_derivatives(idx))
    return idx if hasattr(idx, "shape") else np.asarray(idx)


def put(a, ind, v, mode="raise", *, inplace=True):
    """`numpy.put`: write v (repeated as needed) at the flat indices `ind` of a.

    inplace=False returns the new array instead (`mode` 'raise', 'wrap' or 'clip' as in NumPy;
    with repeated indices the last write wins), differentiable in a and v.
    """
    if inplace:
        _writes_in_place("put", a, v, "a = gnp.put(a, ind, v, inplace=False)")
        return backend.namespace(a).put(a, primal_value(ind), primal_value(v), mode)
    a = asarray(a)
    size = int(np.prod(shape_of(a)))
    ind = ravel(_raw_index(ind))
    xp = backend.namespace(ind)
    if mode == "wrap":
        ind = ind % size
    elif mode == "clip":
        ind = xp.clip(ind, 0, size - 1)
    elif mode != "raise":
        raise ValueError(f"put: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    elif ind.size and (int(ind.max()) >= size or int(ind.min()) < -size):
        raise IndexError(f"put: index out of bounds for an array of size {size}")
    values = resize(v, ind.shape) if ind.size else v
    flat = at_set(ravel(a), values, ind)
    return reshape(flat, shape_of(a))


def putmask(a, mask, values, *, inplace=True):
    """`numpy.putmask`: a[n] = values[n % len(values)] wherever mask[n] holds (n counts flat
    positions in a). inplace=False returns the new array, differentiable in a and values."""
    if inplace:
        _writes_in_place("putmask", a, values, "a = gnp.putmask(a, mask, values, inplace=False)")
        return backend.namespace(a).putmask(a, _raw_index(mask), primal_value(values))
    a = asarray(a)
    mask = _raw_index(mask)
    if mask.shape != shape_of(a):
        raise ValueError(f"putmask: mask of shape {mask.shape} for an array of shape "
                         f"{shape_of(a)}; they must match")
    return _where(mask, astype(resize(values, shape_of(a)), a.dtype), a)


def place(arr, mask, vals, *, inplace=True):
    """`numpy.place`: write vals, in order and repeated as needed, where mask holds.
    inplace=False returns the new array, differentiable in arr and vals."""
    if inplace:
        _writes_in_place("place", arr, vals, "arr = gnp.place(arr, mask, vals, inplace=False)")
        return backend.namespace(arr).place(arr, _raw_index(mask), primal_value(vals))
    arr = asarray(arr)
    mask = _raw_index(mask).astype(bool)
    count = int(mask.sum())
    if count == 0:
        return arr
    if int(np.prod(shape_of(vals))) == 0:
        raise ValueError("place: cannot place into a non-empty selection from empty vals")
    return at_set(arr, resize(vals, (count,)), mask)


def copyto(dst, src, casting="same_kind", where=True, *, inplace=True):
    """`numpy.copyto`: dst = src (broadcast) where `where` holds. inplace=False returns the new
    array, in dst's dtype, differentiable in dst and src."""
    if inplace:
        _writes_in_place("copyto", dst, src, "dst = gnp.copyto(dst, src, inplace=False)")
        return backend.namespace(dst).copyto(dst, primal_value(src), casting,
                                             _raw_index(where))
    dst = asarray(dst)
    dtype = dst.dtype
    src_dtype = getattr(primal_value(src), "dtype", np.result_type(primal_value(src)))
    if not np.can_cast(src_dtype, dtype, casting):
        raise TypeError(f"copyto: cannot cast {src_dtype} to {dtype} with casting={casting!r}")
    src = broadcast_to(astype(asarray(src), dtype), shape_of(dst))
    return _where(_raw_index(where), src, dst)


def put_along_axis(arr, indices, values, axis, *, inplace=True):
    """`numpy.put_along_axis`: arr[..., indices, ...] = values along `axis`. inplace=False
    returns the new array, differentiable in arr and values."""
    if inplace:
        _writes_in_place("put_along_axis", arr, values,
                         "arr = gnp.put_along_axis(arr, indices, values, axis, inplace=False)")
        return backend.namespace(arr).put_along_axis(arr, _raw_index(indices),
                                                     primal_value(values), axis)
    arr = asarray(arr)
    indices = _raw_index(indices)
    if axis is None:
        arr_shape = shape_of(arr)
        flat = put_along_axis(ravel(arr), ravel(indices), ravel(asarray(values)), 0,
                              inplace=False)
        return reshape(flat, arr_shape)
    axis = int(axis) % len(shape_of(arr))
    index = along_axis_index_for(indices, axis, shape_of(arr))
    return at_set(arr, values, index)
