"""vmap rules shared by many primitives, and the helpers rules are written with.

A primitive's rule is declared with it (`Primitive(..., batch=rule)`, in the module of its
family); gpuad/batching.py's `BatchTrace` calls it. The signature is one for all:

    rule(trace, prim, vals, batched, params) -> the result for the stacked values

`vals` are the arguments with each batched one's batch axis first, `batched[i]` says which are,
`trace.size` is the batch size; the result carries the batch axis first too.

* `loop_rule`: one call per example, stacked: always right, only slower (the fallback).
* `broadcasting_rule`: elementwise ops, operands aligned (the rule of every broadcasting op).
* `map_rule`: ops acting on each element or on the last axes alike: run on the stacked value.
* `axis_rule(*names)`: reductions, scans, transforms: their axis parameters move right by one.
* `aligned`, `aligned_to`: batched operands padded with size-1 axes after the batch axis, so
  NumPy's right-aligned broadcasting lines the example axes up.
* `materialized`: an unbatched operand repeated along a new batch axis.
* `example_ndim`, `shift_axis`, `index_keeps_batch_first`, `prefixed`: the bookkeeping of the rules.

This module sits below the family modules that use it, so the ops its helpers call come from
`helpers.ops` (getitem, stack, reshape, broadcast_to, expand_dims), handed over once declared.
"""
import numpy as np

from .helpers import ops


def loop_rule(trace, prim, vals, batched, params):
    """The fallback: the primitive once per example, the results stacked."""
    outs = []
    for i in range(trace.size):
        example = [ops.getitem(v, i) if b else v for v, b in zip(vals, batched)]
        outs.append(prim.bind(*example, **params))
    if prim.multiple_results:
        return tuple(ops.stack([o[k] for o in outs]) for k in range(len(outs[0])))
    return ops.stack(outs)


def example_ndim(v, is_batched):
    """The number of axes of one example of `v`."""
    n = len(getattr(v, "shape", ()))
    return n - 1 if is_batched else n


def aligned(vals, batched):
    """Stacked operands of a broadcasting op, each batched one padded with size-1 axes after its
    batch axis so that NumPy's right-aligned broadcasting lines the example axes up."""
    ndim = max(example_ndim(v, b) for v, b in zip(vals, batched))
    out = []
    for v, b in zip(vals, batched):
        k = example_ndim(v, b)
        if b and k < ndim:
            shape = tuple(v.shape)
            v = ops.reshape(v, shape[:1] + (1,) * (ndim - k) + shape[1:])
        out.append(v)
    return out


def aligned_to(v, ndim):
    """A batched `v` whose examples are padded on the left to `ndim` axes, as a 1-tuple."""
    shape = tuple(v.shape)
    k = len(shape) - 1
    if k < ndim:
        v = ops.reshape(v, shape[:1] + (1,) * (ndim - k) + shape[1:])
    return (v,)


def materialized(v, is_batched, size):
    """An unbatched operand repeated along a new batch axis (a broadcast view)."""
    if is_batched:
        return v
    shape = tuple(getattr(v, "shape", ()))
    return ops.broadcast_to(ops.expand_dims(v, 0), (size,) + shape)


def broadcasting_rule(trace, prim, vals, batched, params):
    return prim.bind(*aligned(vals, batched), **params)


def map_rule(trace, prim, vals, batched, params):
    """Ops that act on each element (or on the last axes) alike: apply to the stacked value."""
    return prim.bind(*vals, **params)


def shift_axis(axis):
    """An axis parameter (None, an int or a tuple) of the example, for the stacked value."""
    if axis is None:
        return None
    if isinstance(axis, tuple):
        return tuple(a + 1 for a in axis)
    return axis + 1


def axis_rule(*names):
    """Reductions and scans: their axis parameters move one to the right (None: the loop)."""
    def rule(trace, prim, vals, batched, params):
        new = dict(params)
        for name in names:
            if params.get(name) is None:
                return loop_rule(trace, prim, vals, batched, params)
            new[name] = shift_axis(params[name])
        return prim.bind(*vals, **new)
    return rule


def index_keeps_batch_first(idx):
    """Whether `x[(slice(None),) + idx]` keeps the batch axis first: NumPy moves the axes of
    advanced indices to the front when they are not adjacent."""
    items = idx if isinstance(idx, tuple) else (idx,)
    advanced = [i for i, it in enumerate(items)
                if not (it is None or it is Ellipsis or isinstance(it, (slice, int, np.integer)))]
    return not advanced or advanced == list(range(advanced[0], advanced[-1] + 1))


def prefixed(idx):
    """An example's index for the stacked value: the batch axis taken whole."""
    return (slice(None),) + (idx if isinstance(idx, tuple) else (idx,))
