"""Concerns shared by many rules, each in one named helper (STYLE: a rule never re-derives them).

* `unbroadcast`: sum a cotangent back to the shape (and dtype) of a broadcast operand.
* `cast_cotangent`: a cotangent in its primal's dtype (complex -> real takes the real part).
* `balanced_eq`: the share of the derivative of max/min that goes to one operand, splitting ties
  evenly so that the gradient of `maximum(x, x)` is 1, not 2.
* `expand_reduced`: put back the axes a reduction removed, so a cotangent broadcasts against the
  input.
* `normalize_axis`: a reduction's `axis` argument as a sorted tuple of non-negative ints.
* `holds_tracer`: whether a (nested) list or tuple holds a traced value.
* `np_function`: a NumPy/CuPy function without derivative, taken from the arrays' namespace.
* `is_complex`: whether an array, tracer, Meta or Python number holds complex values (the
  rules that differ for complex inputs branch on it).
"""
import builtins

import numpy as np

from .. import backend
from ..trace import TRACER_TYPES, nondiff, primal_value


class _Ops:
    """The ops the helpers below and define.py call (`sum`, `reshape`, `real`, `astype`,
    `asarray_traced`). The family modules that declare them import this module (and
    define.py), so each hands its op over once declared (reductions.py: sum; manipulation.py:
    reshape, astype, asarray_traced; elementwise.py: real) and neither module imports them."""
    __slots__ = ("sum", "reshape", "real", "astype", "asarray_traced")


ops = _Ops()


def holds_tracer(obj):
    """Whether `obj` is a traced value or a list/tuple holding one at any depth."""
    if type(obj) in TRACER_TYPES:
        return True
    return isinstance(obj, (list, tuple)) and builtins.any(holds_tracer(o) for o in obj)


def np_function(name):
    """`xp.<name>` of the arrays among the arguments, as a function without derivative."""
    def call(*args, **kwargs):
        return getattr(backend.namespace(*[a for a in args if hasattr(a, "shape")]), name)(
            *args, **kwargs)
    return nondiff(call, name)


def is_complex(x):
    value = primal_value(x)
    dtype = getattr(value, "dtype", None)
    return dtype.kind == "c" if dtype is not None else isinstance(value, complex)


def unbroadcast(g, target):
    """Sum `g` over the axes along which `target` (an array or `Meta`) was broadcast.

    Example: an operand of shape (3, 1) added to one of shape (2, 3, 4) gets the cotangent
    summed over axis 0 and axis 2 (kept as size 1): shape (3, 1).
    """
    shape = tuple(target.shape)
    g_shape = g.shape
    if g_shape != shape:
        lead = len(g_shape) - len(shape)
        axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape)
                                          if n == 1 and g_shape[lead + i] != 1)
        if axes:
            g = ops.sum(g, axis=axes)
        if g.shape != shape:
            g = ops.reshape(g, shape)
    if g.dtype != target.dtype:
        g = cast_cotangent(g, target.dtype)
    return g


def cast_cotangent(g, dtype):
    """`g` in `dtype`: the cotangent of a real primal is real (the real part of a complex one)."""
    dtype = np.dtype(dtype)
    if dtype.kind != "c" and g.dtype.kind == "c":
        g = ops.real(g)
    if g.dtype != dtype:
        g = ops.astype(g, dtype)
    return g


def balanced_eq(x, z, y):
    """1 where x == z and x != y, 1/2 where x == z == y (a tie), 0 elsewhere, in z's dtype.

    A constant (comparisons are not traced): max and min are piecewise linear.
    """
    return ((x == z) / (1.0 + (x == y))).astype(z.dtype)


def normalize_axis(axis, ndim, op_name):
    """`axis` (None, int or tuple) as a sorted tuple of non-negative ints, checked against ndim."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not isinstance(a, (int, np.integer)):
            raise TypeError(f"{op_name}: axis must be an int or a tuple of ints, got {axis!r}")
        if not -ndim <= a < max(ndim, 1) or (ndim == 0 and a not in (0, -1)):
            raise np.exceptions.AxisError(f"{op_name}: axis {a} is out of bounds for an array "
                                          f"of dimension {ndim}")
        out.append(int(a) % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{op_name}: repeated axis in {axis!r}")
    return tuple(sorted(out))


def expand_reduced(g, axes, keepdims):
    """Reinsert the size-1 axes that a reduction over `axes` removed (nothing if keepdims)."""
    if keepdims or not axes:
        return g
    shape = list(g.shape)
    for a in axes:  # sorted ascending, so each insert lands at its final position
        shape.insert(a, 1)
    return ops.reshape(g, tuple(shape))
