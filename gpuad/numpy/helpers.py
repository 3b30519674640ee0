"""Concerns shared by many rules, each in one named helper (STYLE: a rule never re-derives them).

* `unbroadcast`: sum a cotangent back to the shape (and dtype) of a broadcast operand.
* `cast_cotangent`: a cotangent in its primal's dtype (complex -> real takes the real part).
* `balanced_eq`: the share of the derivative of max/min that goes to one operand, splitting ties
  evenly so that the gradient of `maximum(x, x)` is 1, not 2.
* `expand_reduced`: put back the axes a reduction removed, so a cotangent broadcasts against the
  input.
* `normalize_axis`, `one_axis`: a reduction's `axis` argument as a sorted tuple of non-negative
  ints, a single axis as one.
* `as_constant`: a value without derivative tracers at any level (indices, masks, integer
  casts); vmap's batch tracers stay.
* `holds_tracer`: whether a (nested) list or tuple holds a traced value.
* `np_function`: a NumPy/CuPy function without derivative, taken from the arrays' namespace.
* `is_complex`: whether an array, tracer, Meta or Python number holds complex values (the
  rules that differ for complex inputs branch on it).
* `shape_of`: the shape of an array, tracer or Meta, () for a Python scalar.
* `mT`, `mH`, `conj_if_complex`: the transpose and conjugate transpose of the last two axes,
  and conj that is no op on real values (the linear-algebra rules of numpy/ and scipy/).
* `square_check`: the error a square-matrix op raises for any other shape.
* `refuse_vmap`: the error of a composition whose discrete choices read raw values under vmap.
* `raw_array`: the primal value as an array of its own backend (masks and indices from it).
* `shaped`: a stand-in carrying only a shape and dtype, the target of `unbroadcast` when no
  array of that shape exists (a `trace.Meta`).
"""
import builtins

import numpy as np

from .. import backend
from ..trace import (
    BATCH_TRACER_TYPES,
    STAGED_TRACER_TYPES,
    TRACER_TYPES,
    Meta,
    nondiff,
    primal_value,
    strip_derivatives,
)


class _Ops:
    """The ops the helpers below, define.py and batch_rules.py call (`sum`, `reshape`, `real`,
    `astype`, `asarray_traced`, `swapaxes`, `conjugate`, `stack`, `getitem`, `broadcast_to`,
    `expand_dims`). The family modules that declare them import this module (and define.py,
    batch_rules.py), so each hands its op over once declared (reductions.py: sum; shapes.py:
    reshape, astype, asarray_traced, swapaxes, broadcast_to, expand_dims; elementwise.py: real,
    conjugate; indexing.py: getitem; manipulation.py: stack, which shapes.py's asarray_traced
    stacks lists with) and none of those modules imports them."""
    __slots__ = ("sum", "reshape", "real", "astype", "asarray_traced", "swapaxes", "conjugate",
                 "stack", "getitem", "broadcast_to", "expand_dims")


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
    dtype = getattr(x, "dtype", None)  # metadata, not primal_value: see trace.namespace_of
    return dtype.kind == "c" if dtype is not None else isinstance(x, complex)


def shape_of(x):
    """The shape of an array, tracer or Meta; () for Python scalars."""
    shape = getattr(x, "shape", None)
    return () if shape is None else shape


def shaped(shape, dtype):
    """A target for `unbroadcast` when only a shape and dtype are known (no namespace)."""
    return Meta.of(tuple(shape), dtype, None)


def raw_array(x):
    """The primal value as an array of its own backend (constants: masks, indices)."""
    value = primal_value(x)
    return value if hasattr(value, "shape") else np.asarray(value)


def one_axis(axis, ndim, name):
    """A single `axis` argument as a non-negative int, checked against ndim."""
    return normalize_axis(axis, ndim, name)[0]


def refuse_vmap(name, *args):
    """Raise if an argument whose primal values pick the pieces is batched by vmap: those
    choices are read off the raw values, which under vmap hold the whole batch."""
    for x in args:
        if isinstance(x, (list, tuple)):  # array_like: nested lists of tracers count too
            refuse_vmap(name, *x)
            continue
        while type(x) in TRACER_TYPES:
            if type(x) in STAGED_TRACER_TYPES:
                # a ga.jit recording: the op runs; if it reads the values, the recording is
                # not replayed (gpuad/jit/record.py), so nothing needs refusing here
                break
            if type(x) in BATCH_TRACER_TYPES:
                raise NotImplementedError(
                    f"{name}: not supported under vmap for this argument (its values select "
                    f"the pieces); loop over the batch in Python instead")
            x = x.value


def as_constant(x):
    """`x` without derivative tracers at any level: an index or mask computed from traced
    values carries no derivative. vmap's batch tracers stay, since they hold each example's
    value; where derivative tracers lie beneath one (grad of a vmapped function), they are
    stripped example by example."""
    x = strip_derivatives(x)
    v = x
    while type(v) in TRACER_TYPES and type(v) not in STAGED_TRACER_TYPES:  # (jit: the bottom)
        if type(v) not in BATCH_TRACER_TYPES:
            return _constant_by_example(x)
        v = v.value
    return x


_constant_by_example = nondiff(lambda x: as_constant(x), "constant")


# ---- linear algebra ----------------------------------------------------------------------
def mT(x):
    """The transpose of the last two axes."""
    return ops.swapaxes(x, -1, -2)


def conj_if_complex(x):
    """conj(x); no op for real x (the real rules keep their op count)."""
    return ops.conjugate(x) if is_complex(x) else x


def mH(x):
    """The conjugate transpose of the last two axes (the plain transpose for real x)."""
    return mT(conj_if_complex(x))


def square_check(name, a):
    """Raise unless `a` is a square matrix or a stack of them (shape (..., n, n))."""
    s = shape_of(a)
    if len(s) < 2 or s[-1] != s[-2]:
        raise ValueError(f"{name}: expected a square matrix (or a stack of them, shape "
                         f"(..., n, n)), got shape {s}")


# ---- broadcasting and dtypes -------------------------------------------------------------
def unbroadcast(g, target):
    """Sum `g` over the axes along which `target` (an array or `Meta`) was broadcast.

    Example: an operand of shape (3, 1) added to one of shape (2, 3, 4) gets the cotangent
    summed over axis 0 and axis 2 (kept as size 1): shape (3, 1).
    """
    shape = tuple(target.shape)
    g_shape = g.shape
    if g_shape != shape:
        lead = len(g_shape) - len(shape)
        axes = tuple(range(lead)) + tuple([lead + i for i, n in enumerate(shape)
                                           if n == 1 and g_shape[lead + i] != 1])
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
