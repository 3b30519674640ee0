"""Shape, indexing and dtype ops: rules for reshape, transpose, concatenate, indexing, `.at[]`...

Most of these are linear, so their VJP is another op of this family (the transpose): `reshape`
goes back with `reshape`, `getitem` with `unindex` (scatter-add into zeros), `concatenate` with
slicing. Ops that are compositions (stack, tile, repeat, flip, sort) are written with the
primitives here and need no rules of their own.

Array_like arguments (nested lists and tuples mixing tracers, arrays and numbers) are read by
`asarray_traced`, which every function taking array_like calls. Index arrays are constants,
also when computed from traced values (`y.astype(int)`); under vmap, an index that differs
per example goes through `take_along_axis`/`add_along_axis` on the flattened array, whose
indices are an argument that vmap batches (`getitem`, `take` and `.at[]` keep their static
index parameter otherwise).
"""
import builtins
import operator

import numpy as np

from .helpers import shape_of
from .. import backend
from ..trace import (BATCH_TRACER_TYPES, TRACER_TYPES, Primitive, bind1, nondiff, primal_value,
                     strip_derivatives)
from .define import unary_op
from .elementwise import where
from .helpers import (cast_cotangent, holds_tracer, np_function, ops as _helper_ops,
                      unbroadcast)


def _xp(*xs):
    return backend.namespace(*xs)



# ---- reshape and transpose -------------------------------------------------------------------
reshape_p = Primitive(
    "reshape", lambda x, *, shape: x.reshape(shape) if hasattr(x, "reshape")
    else np.reshape(x, shape),
    vjp=[lambda ans, x, g, *, shape: reshape(g, x.shape)],
    jvp=[lambda ans, x, t, *, shape: reshape(t, shape)],
    meta_only=(0,))


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
    jvp=[lambda ans, x, t, *, axes: transpose(t, axes)])


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
    return reshape(a, tuple(n for i, n in enumerate(shape) if i not in axes))


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
broadcast_to_p = Primitive(
    "broadcast_to", lambda x, *, shape: _xp(x).broadcast_to(x, shape),
    vjp=[lambda ans, x, g, *, shape: unbroadcast(g, x)],
    jvp=[lambda ans, x, t, *, shape: broadcast_to(t, shape)],
    meta_only=(0,))


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


def _broadcast_one(a, shape):
    """A read-only view repeating a one-element NumPy array over `shape` (stride 0), built
    directly: np.broadcast_to takes 3x longer, and every scalar loss's backward starts here."""
    a = np.ascontiguousarray(a)
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    out = np.ndarray(shape, a.dtype, buffer=a, strides=(0,) * len(shape))
    out.flags.writeable = False
    return out


def broadcast_arrays(*args):
    """`numpy.broadcast_arrays`, differentiable."""
    args = [asarray_traced(a) for a in args]
    shape = np.broadcast_shapes(*[shape_of(a) for a in args])
    return [broadcast_to(a, shape) for a in args]


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


concatenate_p = Primitive(
    "concatenate", lambda *xs, axis: _xp(*xs).concatenate(xs, axis=axis),
    vjp=_concatenate_vjp, jvp_joint=_concatenate_jvp_joint, variadic=True, meta_only="all")


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


def array_split(ary, indices_or_sections, axis=0):
    """`numpy.array_split`, differentiable (each piece is a slice)."""
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
    out = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        index = [slice(None)] * ndim
        index[axis] = slice(int(lo), builtins.max(int(lo), int(hi)))
        out.append(getitem(ary, tuple(index)))
    return out


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
    return take(a, _xp(primal_value(a)).asarray(index), axis=axis)


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


roll_p = Primitive(
    "roll", lambda x, *, shift, axis: _xp(x).roll(x, shift, axis),
    vjp=[lambda ans, x, g, *, shift, axis: roll(g, _negate_shift(shift), axis)],
    jvp=[lambda ans, x, t, *, shift, axis: roll(t, shift, axis)])


def roll(a, shift, axis=None):
    """`numpy.roll`, differentiable."""
    a = asarray_traced(a)
    shift = tuple(int(s) for s in shift) if isinstance(shift, (tuple, list)) else int(shift)
    axis = tuple(axis) if isinstance(axis, list) else axis
    return roll_p.bind(a, shift=shift, axis=axis)


def _pad_vjp(ans, x, g, *, pad_width, constant_values):
    index = tuple(slice(before, before + n) for (before, _), n in zip(pad_width, x.shape))
    return getitem(g, index)


pad_p = Primitive(
    "pad", lambda x, *, pad_width, constant_values: _xp(x).pad(
        x, pad_width, mode="constant", constant_values=constant_values),
    vjp=[_pad_vjp],
    jvp=[lambda ans, x, t, *, pad_width, constant_values: pad(t, pad_width)],
    meta_only=(0,))


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


# ---- indexing --------------------------------------------------------------------------------
def _is_basic_index(idx):
    """True when `idx` selects without index arrays (so no position repeats)."""
    items = idx if isinstance(idx, tuple) else (idx,)
    return builtins.all(i is None or i is Ellipsis or isinstance(i, (slice, int, np.integer))
                        for i in items)


def _unindex_impl(g, *, shape, idx):
    """Zeros of `shape` with `g` added at `idx` (repeated positions accumulate)."""
    xp = _xp(g)
    out = xp.zeros(shape, dtype=g.dtype)
    if _is_basic_index(idx):
        out[idx] = g
    else:
        backend.scatter_add(out, idx, g)
    return out


getitem_p = Primitive(
    "getitem", lambda x, *, idx: x[idx],
    vjp=[lambda ans, x, g, *, idx: unindex(g, x.shape, idx)],
    jvp=[lambda ans, x, t, *, idx: getitem(t, idx)],
    meta_only=(0,))
unindex_p = Primitive(
    "unindex", _unindex_impl,
    vjp=[lambda ans, g, ct, *, shape, idx: getitem(ct, idx)],
    jvp=[lambda ans, g, t, *, shape, idx: unindex(t, shape, idx)])


def _strip_index(idx):
    """Indices are constants: tracers (masks from `x > 0`, integers from `astype(int)`) lose
    their derivative tracers at every level (see `_constant`), lists become arrays. What is
    left traced is batched by vmap: `_batched_index` says so."""
    if isinstance(idx, tuple):
        return tuple(_index_array(i) for i in idx)
    return _index_array(idx)


def _index_array(i):
    """One index entry as a constant (see `_strip_index`); a list or tuple is an array."""
    if type(i) in TRACER_TYPES:
        return _constant(i)
    if isinstance(i, list) or isinstance(i, tuple) and holds_tracer(i):
        return _constant(asarray_traced(i)) if holds_tracer(i) else np.asarray(i)
    return i


def _batched_index(idx):
    """Whether a stripped index holds arrays that differ per example under vmap."""
    if isinstance(idx, tuple):
        return builtins.any(type(i) in TRACER_TYPES for i in idx)
    return type(idx) in TRACER_TYPES


def _constant(x):
    """`x` without derivative tracers at any level: an index or mask computed from traced
    values carries no derivative. vmap's batch tracers stay, since they hold each example's
    value; where derivative tracers lie beneath one (grad of a vmapped function), they are
    stripped example by example."""
    x = strip_derivatives(x)
    v = x
    while type(v) in TRACER_TYPES:
        if type(v) not in BATCH_TRACER_TYPES:
            return _constant_by_example(x)
        v = v.value
    return x


_constant_by_example = nondiff(lambda x: _constant(x), "constant")


def getitem(x, idx):
    """`x[idx]`: basic, advanced and boolean-mask indexing, differentiable in x.

    Index arrays are constants, also when computed from traced values (`x[y.astype(int)]`,
    `x[y > 0]`). Under vmap, integer index arrays may differ per example; boolean masks may
    not (each example would select a different number of elements): use `where` there.
    """
    if type(x) is np.ndarray:
        try:
            return x[idx]
        except (TypeError, IndexError, ValueError):
            if not _batched_index(_strip_index(idx)):
                raise
    x, idx = asarray_traced(x), _strip_index(idx)
    if _batched_index(idx):
        return _gather(x, idx)
    return bind1(getitem_p, x, {"idx": idx})


def _gather(x, idx):
    """`x[idx]` for an index batched by vmap: the positions it selects in the flattened x, found
    for each example by NumPy's own indexing of the element numbers, then gathered by
    `take_along_axis`, whose indices are an argument that vmap batches."""
    pos = _positions(x, idx)
    return reshape(take_along_axis(ravel(x), ravel(pos), 0), shape_of(pos))


def _positions(x, idx):
    """The flat positions in x of the elements `x[idx]` selects (an integer array of the result's
    shape, batched like the index)."""
    items = idx if isinstance(idx, tuple) else (idx,)
    traced = [k for k, i in enumerate(items) if type(i) in TRACER_TYPES]
    for k in traced:
        kind = primal_value(items[k]).dtype.kind
        if kind == "b":
            raise ValueError("getitem: a boolean mask that differs per example under vmap would "
                             "select a different number of elements in each; write "
                             "gnp.where(mask, x, 0) instead")
        if kind not in "iu":
            raise IndexError(f"getitem: only integers, slices, None, Ellipsis and integer or "
                             f"boolean arrays are valid indices, got an array of dtype "
                             f"{primal_value(items[k]).dtype}; cast it with .astype(int)")
    shape = shape_of(x)
    numbers = _xp(primal_value(x)).arange(int(np.prod(shape))).reshape(shape)

    def select(*arrays):
        full = list(items)
        for k, a in zip(traced, arrays):
            full[k] = a
        return getitem(numbers, tuple(full) if isinstance(idx, tuple) else full[0])

    return nondiff(select, "getitem")(*[items[k] for k in traced])


def unindex(g, shape, idx):
    """The transpose of `getitem`: zeros of `shape` with `g` scattered (added) at `idx`."""
    return unindex_p.bind(g, shape=tuple(shape), idx=idx)


def _at_add_impl(x, v, *, idx):
    out = x.copy()
    if _is_basic_index(idx):
        out[idx] += v
    else:
        backend.scatter_add(out, idx, _xp(x).broadcast_to(v, out[idx].shape))
    return out


def _at_set_impl(x, v, *, idx):
    out = x.copy()
    out[idx] = v
    return out


def _winning_writes(meta, idx):
    """1 where an element of x[idx] is the write that lands in `x[idx] = v`, 0 where a later
    duplicate index overwrote it (NumPy applies the writes in order, so the last one wins)."""
    xp = meta.xp
    selected = xp.empty(meta.shape, dtype=np.int8)[idx].shape
    order = xp.arange(int(np.prod(selected)), dtype=np.int64).reshape(selected)
    landed = xp.full(meta.shape, -1, dtype=np.int64)
    landed[idx] = order
    return (landed[idx] == order).astype(meta.dtype)


def _at_set_vjp_v(ans, x, v, g, *, idx):
    picked = getitem(g, idx)
    if not _is_basic_index(idx):
        picked = picked * _winning_writes(x, idx)
    return unbroadcast(picked, v)


at_add_p = Primitive(
    "at.add", _at_add_impl,
    vjp=[lambda ans, x, v, g, *, idx: g,
         lambda ans, x, v, g, *, idx: unbroadcast(getitem(g, idx), v)],
    jvp=[lambda ans, x, v, t, *, idx: t,
         lambda ans, x, v, t, *, idx: at_add(zeros_like_raw(x), t, idx)],
    meta_only=(0, 1))
at_set_p = Primitive(
    "at.set", _at_set_impl,
    vjp=[lambda ans, x, v, g, *, idx: at_set(g, 0.0, idx), _at_set_vjp_v],
    jvp=[lambda ans, x, v, t, *, idx: at_set(t, 0.0, idx),
         lambda ans, x, v, t, *, idx: at_set(zeros_like_raw(x), t, idx)],
    meta_only=(0, 1))


def at_add(x, v, idx):
    """A copy of x with v added at idx (duplicate indices accumulate); see `x.at`."""
    idx = _strip_index(idx)
    if _batched_index(idx):
        return _scatter(x, v, idx, accumulate=True)
    return at_add_p.bind(x, v, idx=idx)


def at_set(x, v, idx):
    """A copy of x with v written at idx; see `x.at`."""
    idx = _strip_index(idx)
    if _batched_index(idx):
        return _scatter(x, v, idx, accumulate=False)
    return at_set_p.bind(x, v, idx=idx)


def _scatter(x, v, idx, accumulate):
    """`x.at[idx].add(v)` / `.set(v)` for an index batched by vmap, on the flattened x at the
    positions the index selects (`_positions`), through `add_along_axis`, whose indices are an
    argument that vmap batches. `.set` keeps the last of repeated writes, as NumPy does."""
    shape = shape_of(x)
    pos = _positions(x, idx)
    flat_pos, flat_x = ravel(pos), ravel(x)
    v = ravel(broadcast_to(astype(asarray_traced(v), primal_value(x).dtype), shape_of(pos)))
    if accumulate:
        return reshape(add_along_axis(flat_x, v, flat_pos, 0), shape)
    n = int(np.prod(shape, dtype=np.int64))
    wins = _last_writes(flat_pos, n=n, winners=True, dtype=primal_value(x).dtype)
    put = add_along_axis(zeros_like_raw(flat_x), v * wins, flat_pos, 0)
    return reshape(where(_last_writes(flat_pos, n=n, winners=False), put, flat_x), shape)


def _last_writes(pos, n, winners, dtype=None):
    """For positions `pos` into n elements (constants): with `winners`, 1 at the writes that land
    (the last of repeated positions, as in `x[idx] = v`) and 0 at those overwritten; else
    which of the n elements are written."""
    if type(pos) in TRACER_TYPES:  # batched: one example at a time
        return _last_writes_by_example(pos, n=n, winners=winners, dtype=dtype)
    xp = _xp(pos)
    order = xp.arange(pos.size)
    landed = xp.full(n, -1, dtype=order.dtype)
    landed[pos] = order
    return (landed[pos] == order).astype(dtype) if winners else landed >= 0


_last_writes_by_example = nondiff(_last_writes, "at.set")


class _IndexUpdate:
    """`x.at[idx]`: functional updates of a traced or plain array, as in JAX.

    `x.at[idx].set(v)` is a copy of x with `x[idx] = v` applied; `.add(v)` adds instead, with
    repeated indices accumulating (like `numpy.add.at`); `.get()` is `x[idx]`. The input is
    never modified. With repeated indices, `.set` keeps the last write, as NumPy does, and only
    that write receives a gradient (on CuPy the winning write is unspecified).
    """

    __slots__ = ("x", "idx")

    def __init__(self, x, idx):
        self.x, self.idx = x, idx

    def set(self, v):
        return at_set(self.x, v, self.idx)

    def add(self, v):
        return at_add(self.x, v, self.idx)

    def get(self):
        return getitem(self.x, self.idx)


class _AtHelper:
    __slots__ = ("x",)

    def __init__(self, x):
        self.x = x

    def __getitem__(self, idx):
        return _IndexUpdate(self.x, idx)


def at(x):
    return _AtHelper(x)


def _take_impl(a, *, indices, axis):
    return _xp(a).take(a, indices, axis=axis)


def _take_index(indices, axis, ndim):
    if axis is None:
        return indices
    return (slice(None),) * axis + (indices,)


take_p = Primitive(
    "take", _take_impl,
    vjp=[lambda ans, a, g, *, indices, axis: _untake(g, a, indices, axis)],
    jvp=[lambda ans, a, t, *, indices, axis: take(t, indices, axis)],
    meta_only=(0,))


def _untake(g, a, indices, axis):
    if axis is None:
        flat = unindex(ravel(g), (a.size,), (ravel_raw(indices),))
        return reshape(flat, a.shape)
    return unindex(g, a.shape, _take_index(indices, axis, len(a.shape)))


def take(a, indices, axis=None):
    """`numpy.take` (mode 'raise'), differentiable in `a`; repeated indices accumulate. The
    indices may come from traced values (`x.astype(int)`) and differ per example under vmap."""
    a = asarray_traced(a)
    indices = _index_array(indices)
    if type(indices) in TRACER_TYPES:  # batched by vmap
        if axis is None:
            return getitem(ravel(a), indices)
        axis = int(axis) % builtins.max(len(shape_of(a)), 1)
        return getitem(a, (slice(None),) * axis + (indices,))
    if not hasattr(indices, "dtype"):
        indices = np.asarray(indices)
    if axis is not None:
        axis = int(axis) % builtins.max(len(shape_of(a)), 1)
    return take_p.bind(a, indices=indices, axis=axis)


# The indices are an argument (not a parameter) so that vmap can batch them; they have no
# derivative (integers), hence no rules in their position. Both ops take arr and indices
# broadcast against each other already (but along `axis`), as `take_along_axis` makes them.
take_along_axis_p = Primitive(
    "take_along_axis", lambda arr, indices, *, axis: _xp(arr).take_along_axis(arr, indices, axis),
    vjp=[lambda ans, arr, indices, g, *, axis: add_along_axis(zeros_like_raw(arr), g, indices,
                                                              axis), None],
    jvp=[lambda ans, arr, indices, t, *, axis: take_along_axis(t, indices, axis), None],
    meta_only=(0,))


def _add_along_axis_impl(x, v, indices, *, axis):
    out = x.copy()  # (x may be a read-only broadcast, as the zeros of a VJP are)
    backend.scatter_add(out, _along_axis_index_for(indices, axis, out.shape), v)
    return out


# The transpose of take_along_axis: x with v added at `indices` along `axis` (repeats accumulate).
add_along_axis_p = Primitive(
    "add_along_axis", _add_along_axis_impl,
    vjp=[lambda ans, x, v, indices, g, *, axis: g,
         lambda ans, x, v, indices, g, *, axis: take_along_axis(g, indices, axis), None],
    jvp=[lambda ans, x, v, indices, t, *, axis: t,
         lambda ans, x, v, indices, t, *, axis: add_along_axis(zeros_like_raw(x), t, indices,
                                                               axis), None],
    meta_only=(0, 1))


def add_along_axis(x, v, indices, axis):
    """A copy of x with v added along `axis` at `indices` (v and indices of one shape, which
    matches x's but along `axis`); repeated indices accumulate. The VJP of take_along_axis."""
    return add_along_axis_p.bind(x, v, indices, axis=axis)


def _along_axis_index_for(indices, axis, shape):
    xp = _xp(indices)
    ndim = len(shape)
    idx = []
    for d in range(ndim):
        if d == axis:
            idx.append(indices)
        else:
            view = [1] * ndim
            view[d] = indices.shape[d]
            idx.append(xp.arange(indices.shape[d]).reshape(view))
    return tuple(idx)


def take_along_axis(arr, indices, axis):
    """`numpy.take_along_axis`, differentiable in `arr`; arr and indices broadcast against each
    other but along `axis`, as in NumPy. The indices may come from traced values and differ
    per example under vmap."""
    arr, indices = asarray_traced(arr), _constant(asarray_traced(indices))
    if axis is None:
        arr = ravel(arr)
        axis = 0
    shape_a, shape_i = shape_of(arr), shape_of(indices)
    if len(shape_a) != len(shape_i):
        raise ValueError(f"take_along_axis: indices of shape {shape_i} and arr of shape "
                         f"{shape_a} must have the same number of dimensions")
    axis = int(axis) % len(shape_a)
    others_a, others_i = shape_a[:axis] + shape_a[axis + 1:], shape_i[:axis] + shape_i[axis + 1:]
    if others_a != others_i:
        others = np.broadcast_shapes(others_a, others_i)
        arr = broadcast_to(arr, others[:axis] + shape_a[axis:axis + 1] + others[axis:])
        indices = broadcast_to(indices, others[:axis] + shape_i[axis:axis + 1] + others[axis:])
    return take_along_axis_p.bind(arr, indices, axis=axis)


argsort = np_function("argsort")  # no derivative; batch-aware under vmap


def sort(a, axis=-1):
    """`numpy.sort`, differentiable: the gradient follows each element to its sorted place."""
    a = asarray_traced(a)
    if axis is None:
        a = ravel(a)
        axis = -1
    return take_along_axis(a, argsort(a, axis=axis, kind="stable"), axis)


# ---- dtype and copies ------------------------------------------------------------------------
astype_p = Primitive(
    "astype", lambda x, *, dtype: x.astype(dtype) if hasattr(x, "astype")
    else np.asarray(x, dtype=dtype),
    vjp=[lambda ans, x, g, *, dtype: cast_cotangent(g, x.dtype)],
    jvp=[lambda ans, x, t, *, dtype: astype(t, dtype)],
    meta_only=(0,))


def astype(x, dtype, copy=True):
    """`x.astype(dtype)`: differentiable between floating (and complex) dtypes; a cast to an
    integer or boolean dtype gives a constant."""
    dtype = np.dtype(dtype)
    if dtype.kind not in "fc":
        return _cast_constant(x, dtype)
    raw = primal_value(x)
    if not hasattr(raw, "dtype"):  # a Python number (traced or not)
        if type(x) not in TRACER_TYPES:
            return _xp(raw).asarray(raw, dtype=dtype)
    elif raw.dtype == dtype:
        return x
    return astype_p.bind(x, dtype=dtype)


_helper_ops.astype = astype  # for helpers.cast_cotangent


def _cast_constant(x, dtype):
    """A cast to an integer or boolean dtype: no derivative at any level (see `_constant`)."""
    x = _constant(x)
    if type(x) in TRACER_TYPES:  # batched by vmap: cast the stacked values
        return astype_p.bind(x, dtype=dtype)
    return x.astype(dtype) if hasattr(x, "astype") else _xp(x).asarray(x, dtype=dtype)


copy_p = Primitive("copy", lambda x: x.copy(), vjp=[lambda ans, x, g: g],
                   jvp=[lambda ans, x, t: t])
copy = unary_op(copy_p, "`numpy.copy`, differentiable.")


# ---- helpers used above (defined here to avoid importing the creation module) ----------------
def zeros_like_raw(x):
    """Zeros of x's shape and dtype, untraced. For a tracer, the shape is its own: one
    example's under vmap (the zeros then stand for every example), not the stacked value's."""
    if hasattr(x, "xp"):  # a Meta
        return x.xp.zeros(x.shape, x.dtype)
    if type(x) in TRACER_TYPES:
        return _xp(primal_value(x)).zeros(x.shape, x.dtype)
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
        return stack(parts)
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
    return take(ravel(a), _xp(primal_value(a)).asarray(positions))


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
    dtype = primal_value(arr).dtype
    if primal_value(values).dtype != dtype:
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
