"""Array manipulation by composition: concatenate (a rule: its VJP slices), stack, hstack,
vstack, split, tile, repeat, flip, roll, pad, rot90, insert, delete, append, block, written
with the primitives of shapes.py and indexing.py.

This module is also where the rest of gpuad.numpy imports all shape and indexing functions
from: it re-exports shapes.py's and indexing.py's public names.
"""
import builtins

import numpy as np

from .. import backend
from ..trace import Primitive, namespace_of, primal_value
from .batch_rules import loop_rule, materialized, shift_axis
from .helpers import ops as _helper_ops
from .helpers import shape_of


def _xp(*xs):
    return backend.namespace(*xs)


from .indexing import getitem, take
from .shapes import (
    asarray_traced,
    astype,
    atleast_1d,
    atleast_2d,
    atleast_3d,
    broadcast_to,
    expand_dims,
    ravel,
    reshape,
    transpose,
    zeros_like_raw,
)


# ---- joining and splitting -------------------------------------------------------------------
def _concatenate_vjp(ans, *metas_g, argnum, axis):
    *metas, g = metas_g
    start = builtins.sum(m.shape[axis] for m in metas[:argnum])
    index = [slice(None)] * len(metas[argnum].shape)
    index[axis] = slice(start, start + metas[argnum].shape[axis])
    return getitem(g, tuple(index))


def _concatenate_jvp_joint(ans, vals, tangents, *, axis):
    pieces = [zeros_like_raw(v) if t is None else t for v, t in zip(vals, tangents)]
    return concatenate(pieces, axis=axis)


def _batch_concatenate(trace, prim, vals, batched, params):
    stacked = [materialized(v, b, trace.size) for v, b in zip(vals, batched)]
    return prim.bind(*stacked, axis=params["axis"] + 1)


concatenate_p = Primitive(
    "concatenate", lambda *xs, axis: _xp(*xs).concatenate(xs, axis=axis),
    vjp=_concatenate_vjp, jvp_joint=_concatenate_jvp_joint, variadic=True, meta_only="all",
    batch=_batch_concatenate)


def concatenate(arrays, axis=0):
    """`numpy.concatenate`, differentiable in every array."""
    arrays = [asarray_traced(a) for a in arrays]
    if not arrays:
        raise ValueError("concatenate: need at least one array")
    if axis is None:
        arrays = [ravel(a) for a in arrays]
        axis = 0
    ndim = len(shape_of(arrays[0]))
    if ndim == 0:
        raise ValueError("concatenate: zero-dimensional arrays cannot be concatenated; "
                         "use stack")
    return concatenate_p.bind(*arrays, axis=int(axis) % ndim)


def stack(arrays, axis=0):
    """`numpy.stack`, differentiable."""
    arrays = [asarray_traced(a) for a in arrays]
    shapes = {shape_of(a) for a in arrays}
    if len(shapes) != 1:
        raise ValueError(f"stack: all arrays must have the same shape, got {sorted(shapes)}")
    return concatenate([expand_dims(a, axis) for a in arrays], axis=axis)


def hstack(tup):
    """`numpy.hstack`, differentiable."""
    arrs = atleast_1d(*tup)
    arrs = arrs if isinstance(arrs, list) else [arrs]
    return concatenate(arrs, axis=0 if len(shape_of(arrs[0])) == 1 else 1)


def vstack(tup):
    """`numpy.vstack`, differentiable."""
    arrs = atleast_2d(*tup)
    return concatenate(arrs if isinstance(arrs, list) else [arrs], axis=0)


def dstack(tup):
    """`numpy.dstack`, differentiable."""
    arrs = atleast_3d(*tup)
    return concatenate(arrs if isinstance(arrs, list) else [arrs], axis=2)


def column_stack(tup):
    """`numpy.column_stack`, differentiable."""
    cols = [reshape(a, (-1, 1)) if len(shape_of(a)) < 2 else a for a in map(asarray_traced, tup)]
    return concatenate(cols, axis=1)


def _split_vjp(ans, x, g, *, indices, axis):
    # The pieces tile x along `axis`: its cotangent is theirs joined, one concatenate, with
    # zeros only for the pieces without one (not a zero-padded copy of x per piece, summed).
    xp, shape = x.xp, list(x.shape)
    parts = []
    for gi, index in zip(g, indices):
        if gi is None:
            lo, hi = index[axis].start, index[axis].stop
            shape[axis] = hi - lo
            gi = xp.zeros(tuple(shape), x.dtype)
        parts.append(gi)
    return concatenate(parts, axis=axis)


def _batch_split(trace, prim, vals, batched, params):
    return prim.bind(vals[0], indices=tuple([(slice(None),) + i for i in params["indices"]]),
                     axis=params["axis"] + 1)


# One primitive for all the pieces (not one getitem each): a replay runs one step, and the
# VJP joins the cotangents (see _split_vjp). Only for pieces that tile the axis in order;
# array_split's other index lists (decreasing: overlapping pieces) take getitem.
split_p = Primitive(
    "split", lambda x, *, indices, axis: tuple([x[i] for i in indices]),
    vjp=[_split_vjp],
    jvp=[lambda ans, x, t, *, indices, axis: split_p.bind(t, indices=indices, axis=axis)],
    meta_only=(0,), multiple_results=True, batch=_batch_split)
split_p.sparse_cotangents = True  # _split_vjp takes None for a piece without a cotangent


def array_split(ary, indices_or_sections, axis=0):
    """`numpy.array_split`, differentiable (the pieces are slices)."""
    ary = asarray_traced(ary)
    n = shape_of(ary)[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ValueError("array_split: number of sections must be larger than 0")
        each, extra = divmod(n, sections)
        sizes = [each + 1] * extra + [each] * (sections - extra)
        bounds = np.cumsum([0] + sizes)
    else:
        bounds = [0] + [builtins.min(int(i), n) for i in indices_or_sections] + [n]
    ndim = len(shape_of(ary))
    axis = int(axis) % ndim
    indices = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        index = [slice(None)] * ndim
        index[axis] = slice(int(lo), builtins.max(int(lo), int(hi)))
        indices.append(tuple(index))
    if builtins.all(0 <= lo <= hi for lo, hi in zip(bounds[:-1], bounds[1:])):
        return list(split_p.bind(ary, indices=tuple(indices), axis=axis))
    return [getitem(ary, index) for index in indices]


def split(ary, indices_or_sections, axis=0):
    """`numpy.split`, differentiable."""
    ary = asarray_traced(ary)
    if isinstance(indices_or_sections, (int, np.integer)):
        n = shape_of(ary)[axis]
        if n % indices_or_sections:
            raise ValueError(f"split: an axis of length {n} does not split into "
                             f"{indices_or_sections} equal parts; use array_split")
    return array_split(ary, indices_or_sections, axis)


# ---- repetition and reordering ---------------------------------------------------------------
def tile(A, reps):
    """`numpy.tile`, differentiable (a broadcast and a reshape)."""
    A = asarray_traced(A)
    reps = (reps,) if isinstance(reps, int) else tuple(reps)
    shape = shape_of(A)
    d = builtins.max(len(shape), len(reps))
    shape = (1,) * (d - len(shape)) + shape
    reps = (1,) * (d - len(reps)) + reps
    interleaved = [n for pair in zip([1] * d, shape) for n in pair]
    target = [n for pair in zip(reps, shape) for n in pair]
    out = broadcast_to(reshape(A, tuple(interleaved)), tuple(target))
    return reshape(out, tuple(r * n for r, n in zip(reps, shape)))


def repeat(a, repeats, axis=None):
    """`numpy.repeat`, differentiable."""
    a = asarray_traced(a)
    if axis is None:
        a = ravel(a)
        axis = 0
    shape = shape_of(a)
    axis %= len(shape)
    if isinstance(repeats, (int, np.integer)):
        expanded = expand_dims(a, axis + 1)
        target = shape[:axis + 1] + (int(repeats),) + shape[axis + 1:]
        out_shape = shape[:axis] + (shape[axis] * int(repeats),) + shape[axis + 1:]
        return reshape(broadcast_to(expanded, target), out_shape)
    index = np.repeat(np.arange(shape[axis]), np.asarray(backend.to_numpy_array(repeats)))
    return take(a, namespace_of(a).asarray(index), axis=axis)


def flip(m, axis=None):
    """`numpy.flip`, differentiable."""
    m = asarray_traced(m)
    ndim = len(shape_of(m))
    axes = range(ndim) if axis is None else [x % ndim for x in
                                             ((axis,) if isinstance(axis, int) else axis)]
    index = tuple(slice(None, None, -1) if i in axes else slice(None) for i in range(ndim))
    return getitem(m, index)


def fliplr(m):
    return flip(m, 1)


def flipud(m):
    return flip(m, 0)


def _negate_shift(shift):
    return tuple(-s for s in shift) if isinstance(shift, tuple) else -shift


def _batch_roll(trace, prim, vals, batched, params):
    if params["axis"] is None:
        return loop_rule(trace, prim, vals, batched, params)
    return prim.bind(vals[0], shift=params["shift"], axis=shift_axis(params["axis"]))


roll_p = Primitive(
    "roll", lambda x, *, shift, axis: _xp(x).roll(x, shift, axis),
    vjp=[lambda ans, x, g, *, shift, axis: roll(g, _negate_shift(shift), axis)],
    jvp=[lambda ans, x, t, *, shift, axis: roll(t, shift, axis)], batch=_batch_roll)


def roll(a, shift, axis=None):
    """`numpy.roll`, differentiable."""
    a = asarray_traced(a)
    shift = tuple(int(s) for s in shift) if isinstance(shift, (tuple, list)) else int(shift)
    axis = tuple(axis) if isinstance(axis, list) else axis
    return roll_p.bind(a, shift=shift, axis=axis)


def _pad_vjp(ans, x, g, *, pad_width, constant_values):
    index = tuple(slice(before, before + n) for (before, _), n in zip(pad_width, x.shape))
    return getitem(g, index)


def _batch_pad(trace, prim, vals, batched, params):
    return prim.bind(vals[0], pad_width=((0, 0),) + tuple(params["pad_width"]),
                     constant_values=params["constant_values"])


pad_p = Primitive(
    "pad", lambda x, *, pad_width, constant_values: _xp(x).pad(
        x, pad_width, mode="constant", constant_values=constant_values),
    vjp=[_pad_vjp],
    jvp=[lambda ans, x, t, *, pad_width, constant_values: pad(t, pad_width)],
    meta_only=(0,), batch=_batch_pad)


def pad(array, pad_width, mode="constant", constant_values=0):
    """`numpy.pad` in mode 'constant', differentiable in `array`."""
    array = asarray_traced(array)
    if mode != "constant":
        raise NotImplementedError(f"pad: mode={mode!r} is not supported; only mode='constant'. "
                                  f"Build other modes from concatenate and flip.")
    ndim = len(shape_of(array))
    widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (ndim, 2))
    widths = tuple((int(b), int(a)) for b, a in widths)
    return pad_p.bind(array, pad_width=widths, constant_values=constant_values)


# ---- more splitting, rotating, inserting and deleting (compositions) -------------------------
def hsplit(ary, indices_or_sections):
    """`numpy.hsplit`: `split` along axis 1 (axis 0 for 1-D arrays), differentiable."""
    ary = asarray_traced(ary)
    nd = len(shape_of(ary))
    if nd == 0:
        raise ValueError("hsplit: the input must be at least 1-D, got shape ()")
    return split(ary, indices_or_sections, 1 if nd > 1 else 0)


def vsplit(ary, indices_or_sections):
    """`numpy.vsplit`: `split` along axis 0 of an array of at least 2 dimensions."""
    ary = asarray_traced(ary)
    if len(shape_of(ary)) < 2:
        raise ValueError(f"vsplit: the input must be at least 2-D, got shape {shape_of(ary)}")
    return split(ary, indices_or_sections, 0)


def dsplit(ary, indices_or_sections):
    """`numpy.dsplit`: `split` along axis 2 of an array of at least 3 dimensions."""
    ary = asarray_traced(ary)
    if len(shape_of(ary)) < 3:
        raise ValueError(f"dsplit: the input must be at least 3-D, got shape {shape_of(ary)}")
    return split(ary, indices_or_sections, 2)


def rollaxis(a, axis, start=0):
    """`numpy.rollaxis`: move `axis` to sit before position `start` (a transpose)."""
    a = asarray_traced(a)
    nd = len(shape_of(a))
    if not -nd <= axis < nd:
        raise ValueError(f"rollaxis: axis {axis} is out of bounds for an array of dimension {nd}")
    if not -nd <= start <= nd:
        raise ValueError(f"rollaxis: start {start} must lie in [{-nd}, {nd}]")
    axis, start = axis % nd, start + nd if start < 0 else start
    if axis < start:  # removing the axis shifts the later positions down by one
        start -= 1
    if axis == start:
        return a
    axes = [i for i in range(nd) if i != axis]
    axes.insert(start, axis)
    return transpose(a, axes)


def rot90(m, k=1, axes=(0, 1)):
    """`numpy.rot90`: rotate by 90 degrees k times in the plane of `axes` (flips and a
    transpose), differentiable."""
    m = asarray_traced(m)
    nd = len(shape_of(m))
    axes = tuple(axes)
    if len(axes) != 2:
        raise ValueError(f"rot90: axes must name exactly 2 axes, got {axes}")
    if nd < 2 or not builtins.all(-nd <= a < nd for a in axes) or axes[0] % nd == axes[1] % nd:
        raise ValueError(f"rot90: axes {axes} must be two different axes of an array of shape "
                         f"{shape_of(m)}")
    axes = (axes[0] % nd, axes[1] % nd)
    k %= 4
    if k == 0:
        return m
    if k == 2:
        return flip(flip(m, axes[0]), axes[1])
    perm = list(range(nd))
    perm[axes[0]], perm[axes[1]] = perm[axes[1]], perm[axes[0]]
    if k == 1:
        return transpose(flip(m, axes[1]), perm)
    return flip(transpose(m, perm), axes[1])


def append(arr, values, axis=None):
    """`numpy.append`: `arr` and `values` joined (both flattened when axis is None),
    differentiable in both."""
    arr, values = asarray_traced(arr), asarray_traced(values)
    if axis is None:
        return concatenate([ravel(arr), ravel(values)], axis=0)
    return concatenate([arr, values], axis=axis)


def _host_index(obj):
    """An index argument (int, slice, list, NumPy or CuPy array) usable by NumPy."""
    if isinstance(obj, (int, np.integer, slice)):
        return obj
    return np.asarray(backend.to_numpy_array(primal_value(obj)))


def _gather_positions(a, positions):
    """Elements of the flattened `a` at the integer array `positions` (of the result's shape)."""
    return take(ravel(a), namespace_of(a).asarray(positions))


def delete(arr, obj, axis=None):
    """`numpy.delete`, differentiable: the result gathers the elements kept.

    NumPy itself runs on an array of element numbers to find which are kept, so every form of
    `obj` it accepts (int, slice, integers, a boolean mask) behaves the same.
    """
    arr = asarray_traced(arr)
    numbers = np.arange(int(np.prod(shape_of(arr)))).reshape(shape_of(arr))
    return _gather_positions(arr, np.delete(numbers, _host_index(obj), axis))


def insert(arr, obj, values, axis=None):
    """`numpy.insert`, differentiable in `arr` and `values` (cast to arr's dtype, as NumPy).

    NumPy runs on arrays of element numbers (arr's first, then values') to place them, so its
    broadcasting of `values` and ordering of repeated indices are followed exactly.
    """
    arr, values = asarray_traced(arr), asarray_traced(values)
    dtype = arr.dtype
    if values.dtype != dtype:
        values = astype(values, dtype)
    n = int(np.prod(shape_of(arr)))
    numbers = np.arange(n).reshape(shape_of(arr))
    value_numbers = n + np.arange(int(np.prod(shape_of(values)))).reshape(shape_of(values))
    positions = np.insert(numbers, _host_index(obj), value_numbers, axis)
    return _gather_positions(append(arr, values), positions)  # numbers index arr, then values


def block(arrays):
    """`numpy.block`: assemble an array from nested lists of blocks, differentiable.

    The innermost lists are joined along the last axis, the next level out along the one before,
    and so on; each block is first given leading axes of length 1 up to the result's rank.

    Example:
      >>> gnp.block([[a, b], [c, d]])   # 2 x 2 blocks of matrices
    """
    def depth_and_ndim(x, where):
        if isinstance(x, tuple):
            raise TypeError(f"block: {where} is a tuple; only lists may hold blocks")
        if not isinstance(x, list):
            return 0, len(shape_of(x))
        if not x:
            raise ValueError(f"block: {where} is an empty list")
        found = [depth_and_ndim(c, f"{where}[{i}]") for i, c in enumerate(x)]
        depths = {d for d, _ in found}
        if len(depths) != 1:
            raise ValueError(f"block: the lists in {where} are nested to different depths "
                             f"{sorted(depths)}; nest all blocks equally")
        return depths.pop() + 1, builtins.max(nd for _, nd in found)

    list_depth, arr_ndim = depth_and_ndim(arrays, "arrays")
    result_ndim = builtins.max(list_depth, arr_ndim)

    def assemble(x, depth):
        if depth < list_depth:
            return concatenate([assemble(c, depth + 1) for c in x], axis=-(list_depth - depth))
        x = asarray_traced(x)
        shape = shape_of(x)
        return reshape(x, (1,) * (result_ndim - len(shape)) + tuple(shape))

    return assemble(arrays, 0)


_helper_ops.stack = stack  # for shapes.asarray_traced
