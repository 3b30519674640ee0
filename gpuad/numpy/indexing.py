"""Indexing: rules for `x[idx]` (getitem) and its transpose `unindex` (scatter-add into
zeros), `.at[idx].set/add` and the functional updates behind it, take, take_along_axis and
add_along_axis, sort (argsort is a constant).

Index arrays are constants, also when computed from traced values (`y.astype(int)`); under
vmap, an index that differs per example goes through `take_along_axis`/`add_along_axis` on the
flattened array, whose indices are an argument that vmap batches (`getitem`, `take` and
`.at[]` keep their static index parameter otherwise).
"""
import builtins

import numpy as np

from .. import backend
from ..trace import TRACER_TYPES, Primitive, bind1, namespace_of, nondiff, staged_trace
from .batch_rules import aligned_to, index_keeps_batch_first, loop_rule, materialized, prefixed
from .elementwise import where
from .helpers import as_constant, holds_tracer, np_function, shape_of, unbroadcast
from .helpers import ops as _helper_ops


def _xp(*xs):
    return backend.namespace(*xs)


from .shapes import asarray_traced, astype, broadcast_to, ravel, ravel_raw, reshape, zeros_like_raw


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


def _batch_getitem(trace, prim, vals, batched, params):
    idx = params["idx"]
    if not index_keeps_batch_first(idx):
        return loop_rule(trace, prim, vals, batched, params)
    return prim.bind(vals[0], idx=prefixed(idx))


def _batch_unindex(trace, prim, vals, batched, params):
    idx = params["idx"]
    if not index_keeps_batch_first(idx):
        return loop_rule(trace, prim, vals, batched, params)
    return prim.bind(vals[0], shape=(trace.size,) + tuple(params["shape"]), idx=prefixed(idx))


getitem_p = Primitive(
    "getitem", lambda x, *, idx: x[idx],
    vjp=[lambda ans, x, g, *, idx: unindex(g, x.shape, idx)],
    jvp=[lambda ans, x, t, *, idx: getitem(t, idx)],
    meta_only=(0,), batch=_batch_getitem)
unindex_p = Primitive(
    "unindex", _unindex_impl,
    vjp=[lambda ans, g, ct, *, shape, idx: getitem(ct, idx)],
    jvp=[lambda ans, g, t, *, shape, idx: unindex(t, shape, idx)], batch=_batch_unindex)


def _strip_index(idx):
    """Indices are constants: tracers (masks from `x > 0`, integers from `astype(int)`) lose
    their derivative tracers at every level (see `helpers.as_constant`), lists become arrays. What is
    left traced is batched by vmap: `_batched_index` says so."""
    if isinstance(idx, tuple):
        return tuple([_index_array(i) for i in idx])
    return _index_array(idx)


def _index_array(i):
    """One index entry as a constant (see `_strip_index`); a list or tuple is an array."""
    if type(i) in TRACER_TYPES:
        return as_constant(i)
    if isinstance(i, list) or isinstance(i, tuple) and holds_tracer(i):
        return as_constant(asarray_traced(i)) if holds_tracer(i) else np.asarray(i)
    return i


def _batched_index(idx):
    """Whether a stripped index holds arrays that differ per example under vmap."""
    if isinstance(idx, tuple):
        return builtins.any(type(i) in TRACER_TYPES for i in idx)
    return type(idx) in TRACER_TYPES




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


_helper_ops.getitem = getitem  # for batch_rules.loop_rule


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
        kind = items[k].dtype.kind
        if kind == "b":
            recording = staged_trace(items[k])
            if recording is not None:
                raise recording.concretization_error(
                    "getitem: use as a boolean mask x[mask] (how many elements it selects)")
            raise ValueError("getitem: a boolean mask that differs per example under vmap would "
                             "select a different number of elements in each; write "
                             "gnp.where(mask, x, 0) instead")
        if kind not in "iu":
            raise IndexError(f"getitem: only integers, slices, None, Ellipsis and integer or "
                             f"boolean arrays are valid indices, got an array of dtype "
                             f"{items[k].dtype}; cast it with .astype(int)")
    shape = shape_of(x)
    numbers = namespace_of(x).arange(int(np.prod(shape))).reshape(shape)

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


def _batch_at(trace, prim, vals, batched, params):
    idx = params["idx"]
    if not index_keeps_batch_first(idx):
        return loop_rule(trace, prim, vals, batched, params)
    x = materialized(vals[0], batched[0], trace.size)
    v = vals[1]
    if batched[1]:
        selected = np.empty(tuple(vals[0].shape)[1 if batched[0] else 0:], dtype=np.int8)[idx]
        (v,) = aligned_to(v, selected.ndim)
    return prim.bind(x, v, idx=prefixed(idx))


at_add_p = Primitive(
    "at.add", _at_add_impl,
    vjp=[lambda ans, x, v, g, *, idx: g,
         lambda ans, x, v, g, *, idx: unbroadcast(getitem(g, idx), v)],
    jvp=[lambda ans, x, v, t, *, idx: t,
         lambda ans, x, v, t, *, idx: at_add(zeros_like_raw(x), t, idx)],
    meta_only=(0, 1), batch=_batch_at)
at_set_p = Primitive(
    "at.set", _at_set_impl,
    vjp=[lambda ans, x, v, g, *, idx: at_set(g, 0.0, idx), _at_set_vjp_v],
    jvp=[lambda ans, x, v, t, *, idx: at_set(t, 0.0, idx),
         lambda ans, x, v, t, *, idx: at_set(zeros_like_raw(x), t, idx)],
    meta_only=(0, 1), batch=_batch_at)


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
    v = ravel(broadcast_to(astype(asarray_traced(v), x.dtype), shape_of(pos)))
    if accumulate:
        return reshape(add_along_axis(flat_x, v, flat_pos, 0), shape)
    n = int(np.prod(shape, dtype=np.int64))
    wins = _last_writes(flat_pos, n=n, winners=True, dtype=x.dtype)
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


def _batch_take(trace, prim, vals, batched, params):
    x = vals[0]
    if params["axis"] is None:
        x = reshape(x, (trace.size, -1))
        return prim.bind(x, indices=params["indices"], axis=1)
    return prim.bind(x, indices=params["indices"], axis=params["axis"] + 1)


take_p = Primitive(
    "take", _take_impl,
    vjp=[lambda ans, a, g, *, indices, axis: _untake(g, a, indices, axis)],
    jvp=[lambda ans, a, t, *, indices, axis: take(t, indices, axis)],
    meta_only=(0,), batch=_batch_take)


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
def _batch_take_along_axis(trace, prim, vals, batched, params):
    arr, indices = (materialized(v, b, trace.size) for v, b in zip(vals, batched))
    return prim.bind(arr, indices, axis=params["axis"] + 1)


take_along_axis_p = Primitive(
    "take_along_axis", lambda arr, indices, *, axis: _xp(arr).take_along_axis(arr, indices, axis),
    vjp=[lambda ans, arr, indices, g, *, axis: add_along_axis(zeros_like_raw(arr), g, indices,
                                                              axis), None],
    jvp=[lambda ans, arr, indices, t, *, axis: take_along_axis(t, indices, axis), None],
    meta_only=(0,), batch=_batch_take_along_axis)


def _add_along_axis_impl(x, v, indices, *, axis):
    out = x.copy()  # (x may be a read-only broadcast, as the zeros of a VJP are)
    backend.scatter_add(out, along_axis_index_for(indices, axis, out.shape), v)
    return out


# The transpose of take_along_axis: x with v added at `indices` along `axis` (repeats accumulate).
def _batch_add_along_axis(trace, prim, vals, batched, params):
    x, v, indices = (materialized(a, b, trace.size) for a, b in zip(vals, batched))
    return prim.bind(x, v, indices, axis=params["axis"] + 1)


add_along_axis_p = Primitive(
    "add_along_axis", _add_along_axis_impl,
    vjp=[lambda ans, x, v, indices, g, *, axis: g,
         lambda ans, x, v, indices, g, *, axis: take_along_axis(g, indices, axis), None],
    jvp=[lambda ans, x, v, indices, t, *, axis: t,
         lambda ans, x, v, indices, t, *, axis: add_along_axis(zeros_like_raw(x), t, indices,
                                                               axis), None],
    meta_only=(0, 1), batch=_batch_add_along_axis)


def add_along_axis(x, v, indices, axis):
    """A copy of x with v added along `axis` at `indices` (v and indices of one shape, which
    matches x's but along `axis`); repeated indices accumulate. The VJP of take_along_axis."""
    return add_along_axis_p.bind(x, v, indices, axis=axis)


def along_axis_index_for(indices, axis, shape):
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
    arr, indices = asarray_traced(arr), as_constant(asarray_traced(indices))
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
