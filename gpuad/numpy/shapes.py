"""Shape and dtype ops: rules for reshape, transpose, swapaxes, moveaxis, expand_dims,
squeeze, broadcast_to, astype, copy; `asarray_traced` (how every function taking array_like
reads it) and shape, ndim, size.

All are linear, so their VJP is another op of this family (the transpose): `reshape` goes
back with `reshape`, `transpose` with the inverse permutation, `broadcast_to` by summing.
Array_like arguments (nested lists and tuples mixing tracers, arrays and numbers) are read by
`asarray_traced`, which stacks them with manipulation.py's `stack`.
"""
import builtins
import operator

import numpy as np

from .. import backend
from ..trace import TRACER_TYPES, Primitive, bind1, namespace_of, primal_value
from .batch_rules import aligned_to, map_rule
from .define import unary_op
from .helpers import as_constant, cast_cotangent, holds_tracer, shape_of, unbroadcast
from .helpers import ops as _helper_ops


def _xp(*xs):
    return backend.namespace(*xs)


# ---- reshape and transpose -------------------------------------------------------------------
def _batch_reshape(trace, prim, vals, batched, params):
    return prim.bind(vals[0], shape=(trace.size,) + tuple(params["shape"]))


def _batch_transpose(trace, prim, vals, batched, params):
    return prim.bind(vals[0], axes=(0,) + tuple(a + 1 for a in params["axes"]))


reshape_p = Primitive(
    "reshape", lambda x, *, shape: x.reshape(shape) if hasattr(x, "reshape")
    else np.reshape(x, shape),
    vjp=[lambda ans, x, g, *, shape: reshape(g, x.shape)],
    jvp=[lambda ans, x, t, *, shape: reshape(t, shape)],
    meta_only=(0,), batch=_batch_reshape)


def reshape(a, newshape=None, order="C", *, shape=None):
    """`numpy.reshape` (C order), differentiable."""
    if shape is None:
        shape = newshape
    if type(a) is np.ndarray and shape is not None and order == "C":
        return a.reshape(shape)
    if shape is None:
        raise TypeError("reshape: give the new shape")
    if order != "C":
        raise NotImplementedError(f"reshape: order={order!r} is not supported; only order='C'. "
                                  f"Transpose first to reorder elements.")
    shape = (operator.index(shape),) if isinstance(shape, (int, np.integer)) else tuple(shape)
    a = asarray_traced(a)
    if shape_of(a) == shape:
        return a
    return bind1(reshape_p, a, {"shape": shape})


_helper_ops.reshape = reshape  # for helpers.unbroadcast and expand_reduced


def ravel(a, order="C"):
    """`numpy.ravel` (C order), differentiable."""
    return reshape(a, (-1,), order)


transpose_p = Primitive(
    "transpose", lambda x, *, axes: x.transpose(axes),
    vjp=[lambda ans, x, g, *, axes: transpose(g, tuple(np.argsort(axes)))],
    jvp=[lambda ans, x, t, *, axes: transpose(t, axes)], batch=_batch_transpose)


def transpose(a, axes=None):
    """`numpy.transpose`, differentiable."""
    if type(a) is np.ndarray:
        return a.transpose(axes)
    a = asarray_traced(a)
    ndim = len(shape_of(a))
    axes = tuple(range(ndim))[::-1] if axes is None else tuple(int(i) % builtins.max(ndim, 1)
                                                                for i in axes)
    if sorted(axes) != list(range(ndim)):
        raise ValueError(f"transpose: axes {axes} are not a permutation of range({ndim})")
    if axes == tuple(range(ndim)):
        return a
    return bind1(transpose_p, a, {"axes": axes})


def swapaxes(a, axis1, axis2):
    """`numpy.swapaxes`, differentiable."""
    if type(a) is np.ndarray:
        return a.swapaxes(axis1, axis2)
    a = asarray_traced(a)
    ndim = len(shape_of(a))
    perm = list(range(ndim))
    i, j = axis1 % ndim, axis2 % ndim
    perm[i], perm[j] = perm[j], perm[i]
    return transpose(a, perm)


_helper_ops.swapaxes = swapaxes  # for helpers.mT


def matrix_transpose(a):
    """Swap the last two axes (`numpy.matrix_transpose`, `x.mT`)."""
    return swapaxes(a, -1, -2)


def moveaxis(a, source, destination):
    """`numpy.moveaxis`, differentiable."""
    a = asarray_traced(a)
    ndim = len(shape_of(a))
    src = [s % ndim for s in ((source,) if isinstance(source, int) else source)]
    dst = [d % ndim for d in ((destination,) if isinstance(destination, int) else destination)]
    if len(src) != len(dst):
        raise ValueError("moveaxis: source and destination need the same number of axes")
    order = [n for n in range(ndim) if n not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(a, order)


def expand_dims(a, axis):
    """`numpy.expand_dims`, differentiable."""
    a = asarray_traced(a)
    shape = list(shape_of(a))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    out_ndim = len(shape) + len(axes)
    for ax in sorted(x % out_ndim for x in axes):
        shape.insert(ax, 1)
    return reshape(a, tuple(shape))


_helper_ops.expand_dims = expand_dims  # for batch_rules.materialized


def squeeze(a, axis=None):
    """`numpy.squeeze`, differentiable."""
    a = asarray_traced(a)
    shape = shape_of(a)
    if axis is None:
        axes = {i for i, n in enumerate(shape) if n == 1}
    else:
        axes = {x % len(shape) for x in ((axis,) if isinstance(axis, int) else axis)}
        bad = [x for x in axes if shape[x] != 1]
        if bad:
            raise ValueError(f"squeeze: cannot select axis {bad[0]} of shape {shape}: "
                             f"its size is not 1")
    return reshape(a, tuple([n for i, n in enumerate(shape) if i not in axes]))


def atleast_1d(*arys):
    """`numpy.atleast_1d`, differentiable."""
    out = [a if len(shape_of(a)) >= 1 else reshape(a, (1,)) for a in map(asarray_traced, arys)]
    return out[0] if len(out) == 1 else out


def atleast_2d(*arys):
    """`numpy.atleast_2d`, differentiable."""
    def lift(a):
        s = shape_of(a)
        return a if len(s) >= 2 else reshape(a, (1,) * (2 - len(s)) + s)
    out = [lift(a) for a in map(asarray_traced, arys)]
    return out[0] if len(out) == 1 else out


def atleast_3d(*arys):
    """`numpy.atleast_3d`, differentiable (NumPy's placement of the new axes)."""
    def lift(a):
        s = shape_of(a)
        if len(s) == 0:
            return reshape(a, (1, 1, 1))
        if len(s) == 1:
            return reshape(a, (1, s[0], 1))
        if len(s) == 2:
            return reshape(a, s + (1,))
        return a
    out = [lift(a) for a in map(asarray_traced, arys)]
    return out[0] if len(out) == 1 else out


# ---- broadcasting ----------------------------------------------------------------------------
def _batch_broadcast_to(trace, prim, vals, batched, params):
    (v,) = aligned_to(vals[0], len(params["shape"]))
    return prim.bind(v, shape=(trace.size,) + tuple(params["shape"]))


def _broadcast_to_impl(x, *, shape):
    # A reduction's VJP broadcasts its one-element cotangent (every mean's, every scalar
    # loss's): replayed by ga.jit, np.broadcast_to was 2.2 us of each LSTM step's 10
    if type(x) is np.ndarray and x.size == 1 or isinstance(x, np.generic):
        return _broadcast_one(x, shape)
    return _xp(x).broadcast_to(x, shape)


broadcast_to_p = Primitive(
    "broadcast_to", _broadcast_to_impl,
    vjp=[lambda ans, x, g, *, shape: unbroadcast(g, x)],
    jvp=[lambda ans, x, t, *, shape: broadcast_to(t, shape)],
    meta_only=(0,), batch=_batch_broadcast_to)


def broadcast_to(array, shape):
    """`numpy.broadcast_to`, differentiable (the VJP sums over the broadcast axes)."""
    if type(array) is np.ndarray or isinstance(array, np.generic):
        if array.size == 1:
            return _broadcast_one(array, shape)
        return np.broadcast_to(array, shape)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    array = asarray_traced(array)
    if shape_of(array) == shape:
        return array
    return bind1(broadcast_to_p, array, {"shape": shape})


_helper_ops.broadcast_to = broadcast_to  # for batch_rules.materialized


def _broadcast_one(a, shape):
    """A read-only view repeating a one-element NumPy array or scalar over `shape` (stride 0),
    built directly on its buffer (a one-element array is always contiguous): np.broadcast_to
    takes 4x longer, and every scalar loss's backward starts here. (Positional arguments:
    ndarray's keywords cost 40% of the call.)"""
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if a.ndim > len(shape):  # not a broadcast: NumPy's error
        return np.broadcast_to(a, shape)
    out = _ndarray(shape, a.dtype, a, 0, (0,) * len(shape))
    out.flags.writeable = False
    return out


_ndarray = np.ndarray


def broadcast_arrays(*args):
    """`numpy.broadcast_arrays`, differentiable."""
    args = [asarray_traced(a) for a in args]
    shape = np.broadcast_shapes(*[shape_of(a) for a in args])
    return [broadcast_to(a, shape) for a in args]


# ---- dtype and copies ------------------------------------------------------------------------
astype_p = Primitive(
    "astype", lambda x, *, dtype: x.astype(dtype) if hasattr(x, "astype")
    else np.asarray(x, dtype=dtype),
    vjp=[lambda ans, x, g, *, dtype: cast_cotangent(g, x.dtype)],
    jvp=[lambda ans, x, t, *, dtype: astype(t, dtype)],
    meta_only=(0,), batch=map_rule)


def astype(x, dtype, copy=True):
    """`x.astype(dtype)`: differentiable between floating (and complex) dtypes; a cast to an
    integer or boolean dtype gives a constant."""
    dtype = np.dtype(dtype)
    if dtype.kind not in "fc":
        return _cast_constant(x, dtype)
    if not hasattr(x, "dtype"):  # a Python number (a tracer's value never is one)
        return _xp(x).asarray(x, dtype=dtype)
    if x.dtype == dtype:
        return x
    return astype_p.bind(x, dtype=dtype)


_helper_ops.astype = astype  # for helpers.cast_cotangent


def _cast_constant(x, dtype):
    """A cast to an integer or boolean dtype: no derivative at any level (see `helpers.as_constant`)."""
    x = as_constant(x)
    if type(x) in TRACER_TYPES:  # batched by vmap: cast the stacked values
        return astype_p.bind(x, dtype=dtype)
    return x.astype(dtype) if hasattr(x, "astype") else _xp(x).asarray(x, dtype=dtype)


copy_p = Primitive("copy", lambda x: x.copy(), vjp=[lambda ans, x, g: g],
                   jvp=[lambda ans, x, t: t], batch=map_rule)
copy = unary_op(copy_p, "`numpy.copy`, differentiable.")


# ---- helpers used above (defined here to avoid importing the creation module) ----------------
def zeros_like_raw(x):
    """Zeros of x's shape and dtype, untraced. For a tracer, the shape is its own: one
    example's under vmap (the zeros then stand for every example), not the stacked value's."""
    if hasattr(x, "xp"):  # a Meta
        return x.xp.zeros(x.shape, x.dtype)
    if type(x) in TRACER_TYPES:
        return namespace_of(x).zeros(x.shape, x.dtype)
    return _xp(x).zeros_like(x)


def ravel_raw(x):
    return _xp(x).ravel(x)


def asarray_traced(a, dtype=None):
    """An array_like argument as an array or tracer: how every function taking array_like reads it.

    Tracers and arrays are left alone (cast if `dtype` is given). Lists and tuples holding
    tracers, at any depth and mixed with arrays and Python numbers, are stacked
    differentiably, with the dtype `numpy.array` gives them: the result type of all the
    entries, Python numbers counting as float64/int64/complex128 (array coercion does not
    treat them as weak, so `[float32 tracer, 1.0]` is float64, as in NumPy). Anything else goes
    to the default backend's `asarray`.
    """
    if type(a) in TRACER_TYPES or hasattr(a, "shape") and hasattr(a, "dtype"):
        return a if dtype is None else astype(a, dtype)
    if isinstance(a, (list, tuple)) and holds_tracer(a):
        if dtype is None:
            dtype = np.result_type(*_entry_dtypes(a))
        return _stack_entries(a, np.dtype(dtype))
    return backend.default_namespace().asarray(a, dtype=dtype)


_helper_ops.asarray_traced = asarray_traced  # for define.py's array_like arguments


def _entry_dtypes(obj):
    """The dtypes of the arrays, tracers and numbers in a nested list, as array coercion sees
    them (a list without tracers counts as the array NumPy makes of it)."""
    if isinstance(obj, (list, tuple)) and holds_tracer(obj):
        return [d for o in obj for d in _entry_dtypes(o)]
    raw = primal_value(obj)
    dtype = getattr(raw, "dtype", None)
    return [dtype if dtype is not None else np.asarray(raw).dtype]


def _stack_entries(obj, dtype):
    if isinstance(obj, (list, tuple)) and holds_tracer(obj):
        if not obj:
            raise ValueError("asarray: an empty list inside a list holding traced values")
        parts = [_stack_entries(o, dtype) for o in obj]
        shapes = {shape_of(p) for p in parts}
        if len(shapes) != 1:
            raise ValueError(f"asarray: the entries of a list holding traced values must have "
                             f"one shape (NumPy's inhomogeneous shape), got shapes "
                             f"{sorted(shapes)}")
        return _helper_ops.stack(parts)  # manipulation.py's stack
    if type(obj) in TRACER_TYPES:
        return astype(obj, dtype)
    raw = primal_value(obj)
    xp = backend.namespace(raw) if hasattr(raw, "shape") else backend.default_namespace()
    return xp.asarray(obj, dtype=dtype)


# Shapes, sizes and dimensions carry no derivative. A tracer's shape is one example's under
# vmap (a batched shape would be a tracer, which NumPy's creation functions cannot take).
def shape(a):
    """`numpy.shape`: a tuple of ints, also for traced values and lists holding them."""
    if hasattr(a, "shape"):
        return tuple(a.shape)
    return shape_of(asarray_traced(a)) if holds_tracer(a) else np.shape(a)


def ndim(a):
    """`numpy.ndim`."""
    return len(shape(a))


def size(a, axis=None):
    """`numpy.size`: the number of elements (along `axis` if given)."""
    s = shape(a)
    return int(np.prod(s, dtype=np.int64)) if axis is None else s[axis]
