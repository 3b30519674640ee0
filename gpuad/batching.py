"""`vmap`: run a function over a batch axis as if on one example. Jacobians use it to push a whole
basis of tangents (or cotangents) through one sweep instead of one Python replay per row.

A `BatchTracer`'s value carries the batch in its leading axis; `x.shape` is the shape of one
example. Each primitive applied to batch tracers goes through its *batching rule*, declared with
the primitive (`Primitive(..., batch=rule)` in gpuad/numpy, the shared rule makers in
gpuad/numpy/batch_rules.py), which rewrites the call for the stacked values (shift an axis
parameter by one, align broadcasting operands, add an einsum letter...). Broadcasting
primitives without one align their operands; any other falls back to a loop over the batch,
which is always correct, only slower: `BATCHING_RULES` lists which ops are batched natively.

Reference semantics:

    vmap(f)(xs) == stack([f(x) for x in xs])
"""
import functools
from collections.abc import Mapping

import numpy as np

from .numpy.batch_rules import aligned, broadcasting_rule, loop_rule, materialized
from .trace import (
    BATCH_TRACER_TYPES,
    PRIMITIVES,
    TRACER_TYPES,
    Trace,
    Tracer,
    explain_attribute_error,
    open_traces,
)
from .tree import check_registered, tree_flatten, tree_unflatten


class BatchTracer(Tracer):
    __slots__ = ()

    def __init__(self, value, trace):
        self.value = value
        self._trace = trace

    # The example's shape: the stacked value's shape without its leading batch axis.
    shape = property(lambda self: self.value.shape[1:])
    ndim = property(lambda self: len(self.value.shape) - 1)
    size = property(lambda self: int(np.prod(self.value.shape[1:], dtype=np.int64)))

    def __repr__(self):
        return f"BatchTracer(level={self._trace.level}, batch={self._trace.size}, value={self.value!r})"


TRACER_TYPES.add(BatchTracer)
BATCH_TRACER_TYPES.add(BatchTracer)


class BatchTrace(Trace):
    __slots__ = ("size",)

    def __init__(self, size):
        super().__init__()
        self.size = size

    def process(self, prim, args, params):
        vals, ours, _ = self.unwrap(BatchTracer, args)
        batched = [False] * len(vals)
        for i, _ in ours:
            batched[i] = True
        rule = prim.batch
        if rule is None:
            rule = broadcasting_rule if prim.broadcasting else loop_rule
        out = rule(self, prim, vals, batched, params)
        if prim.multiple_results:
            return tuple(BatchTracer(o, self) for o in out)
        return BatchTracer(out, self)

    def apply_nondiff(self, fn, args, kwargs):
        """A function without derivative (comparisons, argmax...) on batch tracers."""
        if isinstance(fn, np.ufunc):  # elementwise: align and apply to the stacked values
            vals, ours, _ = self.unwrap(BatchTracer, args)
            batched = [False] * len(vals)
            for i, _ in ours:
                batched[i] = True
            return BatchTracer(fn(*aligned(vals, batched), **kwargs), self)
        return BatchTracer(self._loop(lambda *a: fn(*a, **kwargs), args), self)

    def _loop(self, fn, args):
        from .numpy import getitem, stack
        outs = []
        for i in range(self.size):
            example = [getitem(a.value, i) if type(a) is BatchTracer and a._trace is self else a
                       for a in args]
            outs.append(fn(*example))
        if isinstance(outs[0], tuple):
            return tuple(stack([o[k] for o in outs]) for k in range(len(outs[0])))
        return stack(outs)


class _Rules(Mapping):
    """The ops batched natively, by name: each registered primitive declared with a `batch`
    rule (the table reads the declarations, so ops declared later, scipy's, are in it too)."""

    def __getitem__(self, name):
        rule = getattr(PRIMITIVES.get(name), "batch", None)
        if rule is None:
            raise KeyError(name)
        return rule

    def __iter__(self):
        return (name for name, prim in list(PRIMITIVES.items()) if prim.batch is not None)

    def __len__(self):
        return sum(1 for _ in self)


BATCHING_RULES = _Rules()


# ---------------------------------------------------------------------------------------------

def batching_active():
    """Whether a `vmap` is running (its trace is open), for code that must act per example
    only then (`while_loop` freezing finished examples)."""
    return any(type(t) is BatchTrace for t in open_traces())


def _normalize_in_axes(in_axes, nargs):
    if in_axes is None or isinstance(in_axes, int):
        return (in_axes,) * nargs
    in_axes = tuple(in_axes)
    if len(in_axes) != nargs:
        raise ValueError(f"vmap: in_axes has {len(in_axes)} entries but the function was called "
                         f"with {nargs} positional arguments")
    return in_axes


def vmap(fun, in_axes=0, out_axes=0):
    """Vectorize `fun` over an axis of its arguments.

    Args:
      fun: a function of arrays / pytrees.
      in_axes: an int (the batch axis of every leaf), None (not batched), or a tuple with one of
        those per positional argument.
      out_axes: where the batch axis goes in every output leaf.

    Returns:
      A function whose outputs stack `fun`'s outputs along `out_axes`:
      `vmap(f)(xs) == stack([f(x) for x in xs])`. Differentiable, and composable with every
      transform. Ops without a batching rule run as a loop over the batch.

    Example:
      >>> ga.vmap(lambda x: x @ x)(gnp.ones((5, 3)))      # five dot products
      array([3., 3., 3., 3., 3.])
    """
    from .numpy import moveaxis

    @functools.wraps(fun)
    def batched_fun(*args):
        axes = _normalize_in_axes(in_axes, len(args))
        size = None
        for k, (arg, axis) in enumerate(zip(args, axes)):
            if axis is None:
                continue
            leaves, treedef = tree_flatten(arg)
            check_registered("vmap", leaves, treedef, f"argument {k}")
            for leaf in leaves:
                n = tuple(getattr(leaf, "shape", ()))
                if not n:
                    raise ValueError(f"vmap: in_axes={axis} given for a 0-d argument; use None")
                length = n[axis]
                if size is not None and length != size:
                    raise ValueError(f"vmap: batch axes have different sizes ({size} and "
                                     f"{length}); every batched input needs the same length")
                size = length
        if size is None:
            raise ValueError("vmap: no argument is batched (all in_axes are None)")
        trace = BatchTrace(size)
        try:
            new_args = []
            for arg, axis in zip(args, axes):
                if axis is None:
                    new_args.append(arg)
                    continue
                leaves, treedef = tree_flatten(arg)
                new_args.append(tree_unflatten(treedef, [
                    BatchTracer(moveaxis(leaf, axis, 0) if axis != 0 else leaf, trace)
                    for leaf in leaves]))
            out = fun(*new_args)
        except AttributeError as exc:
            explain_attribute_error(exc)
            raise
        finally:
            trace.close()
        leaves, treedef = tree_flatten(out)
        results = []
        for leaf in leaves:
            if type(leaf) is BatchTracer and leaf._trace is trace:
                value = leaf.value
            else:
                value = materialized(leaf, False, size)
            results.append(moveaxis(value, 0, out_axes) if out_axes != 0 else value)
        return tree_unflatten(treedef, results)

    return batched_fun
