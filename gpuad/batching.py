"""`vmap`: run a function over a batch axis as if on one example. Jacobians use it to push a whole
basis of tangents (or cotangents) through one sweep instead of one Python replay per row.

A `BatchTracer`'s value carries the batch in its leading axis; `x.shape` is the shape of one
example. Each primitive applied to batch tracers goes through a *batching rule* that rewrites
the call for the stacked values (shift an axis parameter by one, align broadcasting operands,
add an einsum letter...). Primitives without a rule fall back to a loop over the batch, which is
always correct, only slower: `BATCHING_RULES` lists which ops are batched natively.

Reference semantics:

    vmap(f)(xs) == stack([f(x) for x in xs])
"""
import functools
import string

import numpy as np

from .trace import (BATCH_TRACER_TYPES, TRACER_TYPES, Trace, Tracer, _open_traces,
                    explain_attribute_error)
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
        rule = BATCHING_RULES.get(prim.name)
        if rule is None and prim.broadcasting:
            rule = _broadcasting_rule
        out = (rule or _loop_rule)(self, prim, vals, batched, params)
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
            return BatchTracer(fn(*_aligned(vals, batched), **kwargs), self)
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


# ---------------------------------------------------------------------------------------------
# Batching rules: rule(trace, prim, vals, batched, params) -> stacked result (batch axis 0)

def _loop_rule(trace, prim, vals, batched, params):
    from .numpy import getitem, stack
    outs = []
    for i in range(trace.size):
        example = [getitem(v, i) if b else v for v, b in zip(vals, batched)]
        outs.append(prim.bind(*example, **params))
    if prim.multiple_results:
        return tuple(stack([o[k] for o in outs]) for k in range(len(outs[0])))
    return stack(outs)


def _example_ndim(v, is_batched):
    n = len(getattr(v, "shape", ()))
    return n - 1 if is_batched else n


def _aligned(vals, batched):
    """Stacked operands of a broadcasting op, each batched one padded with size-1 axes after its
    batch axis so that NumPy's right-aligned broadcasting lines the example axes up."""
    from .numpy import reshape
    ndim = max(_example_ndim(v, b) for v, b in zip(vals, batched))
    out = []
    for v, b in zip(vals, batched):
        k = _example_ndim(v, b)
        if b and k < ndim:
            shape = tuple(v.shape)
            v = reshape(v, shape[:1] + (1,) * (ndim - k) + shape[1:])
        out.append(v)
    return out


def _broadcasting_rule(trace, prim, vals, batched, params):
    return prim.bind(*_aligned(vals, batched), **params)


def _map_rule(trace, prim, vals, batched, params):
    """Ops that act on each element (or on the last axes) alike: apply to the stacked value."""
    return prim.bind(*vals, **params)


def _shift(axis):
    if axis is None:
        return None
    if isinstance(axis, tuple):
        return tuple(a + 1 for a in axis)
    return axis + 1


def _axis_rule(*names):
    """Reductions and scans: their axis parameters move one to the right."""
    def rule(trace, prim, vals, batched, params):
        new = dict(params)
        for name in names:
            if params.get(name) is None:
                return _loop_rule(trace, prim, vals, batched, params)
            new[name] = _shift(params[name])
        return prim.bind(*vals, **new)
    return rule


def _reshape_rule(trace, prim, vals, batched, params):
    return prim.bind(vals[0], shape=(trace.size,) + tuple(params["shape"]))


def _transpose_rule(trace, prim, vals, batched, params):
    return prim.bind(vals[0], axes=(0,) + tuple(a + 1 for a in params["axes"]))


def _broadcast_to_rule(trace, prim, vals, batched, params):
    (v,) = _aligned_to(vals[0], len(params["shape"]))
    return prim.bind(v, shape=(trace.size,) + tuple(params["shape"]))


def _aligned_to(v, ndim):
    from .numpy import reshape
    shape = tuple(v.shape)
    k = len(shape) - 1
    if k < ndim:
        v = reshape(v, shape[:1] + (1,) * (ndim - k) + shape[1:])
    return (v,)


def _index_keeps_batch_first(idx):
    """Whether `x[(slice(None),) + idx]` keeps the batch axis first: NumPy moves the axes of
    advanced indices to the front when they are not adjacent."""
    items = idx if isinstance(idx, tuple) else (idx,)
    advanced = [i for i, it in enumerate(items)
                if not (it is None or it is Ellipsis or isinstance(it, (slice, int, np.integer)))]
    return not advanced or advanced == list(range(advanced[0], advanced[-1] + 1))


def _prefixed(idx):
    return (slice(None),) + (idx if isinstance(idx, tuple) else (idx,))


def _getitem_rule(trace, prim, vals, batched, params):
    idx = params["idx"]
    if not _index_keeps_batch_first(idx):
        return _loop_rule(trace, prim, vals, batched, params)
    return prim.bind(vals[0], idx=_prefixed(idx))


def _unindex_rule(trace, prim, vals, batched, params):
    idx = params["idx"]
    if not _index_keeps_batch_first(idx):
        return _loop_rule(trace, prim, vals, batched, params)
    return prim.bind(vals[0], shape=(trace.size,) + tuple(params["shape"]), idx=_prefixed(idx))


def _materialized(v, is_batched, size):
    """An unbatched operand repeated along a new batch axis (a broadcast view)."""
    from .numpy import broadcast_to, expand_dims
    if is_batched:
        return v
    shape = tuple(getattr(v, "shape", ()))
    return broadcast_to(expand_dims(v, 0), (size,) + shape)


def _at_rule(trace, prim, vals, batched, params):
    idx = params["idx"]
    if not _index_keeps_batch_first(idx):
        return _loop_rule(trace, prim, vals, batched, params)
    x = _materialized(vals[0], batched[0], trace.size)
    v = vals[1]
    if batched[1]:
        selected = np.empty(tuple(vals[0].shape)[1 if batched[0] else 0:], dtype=np.int8)[idx]
        (v,) = _aligned_to(v, selected.ndim)
    return prim.bind(x, v, idx=_prefixed(idx))


def _concatenate_rule(trace, prim, vals, batched, params):
    stacked = [_materialized(v, b, trace.size) for v, b in zip(vals, batched)]
    return prim.bind(*stacked, axis=params["axis"] + 1)


def _take_rule(trace, prim, vals, batched, params):
    from .numpy import reshape
    x = vals[0]
    if params["axis"] is None:
        x = reshape(x, (trace.size, -1))
        return prim.bind(x, indices=params["indices"], axis=1)
    return prim.bind(x, indices=params["indices"], axis=params["axis"] + 1)


def _take_along_axis_rule(trace, prim, vals, batched, params):
    arr, indices = (_materialized(v, b, trace.size) for v, b in zip(vals, batched))
    return prim.bind(arr, indices, axis=params["axis"] + 1)


def _add_along_axis_rule(trace, prim, vals, batched, params):
    x, v, indices = (_materialized(a, b, trace.size) for a, b in zip(vals, batched))
    return prim.bind(x, v, indices, axis=params["axis"] + 1)


def _roll_rule(trace, prim, vals, batched, params):
    if params["axis"] is None:
        return _loop_rule(trace, prim, vals, batched, params)
    return prim.bind(vals[0], shift=params["shift"], axis=_shift(params["axis"]))


def _pad_rule(trace, prim, vals, batched, params):
    return prim.bind(vals[0], pad_width=((0, 0),) + tuple(params["pad_width"]),
                     constant_values=params["constant_values"])


def _matmul_rule(trace, prim, vals, batched, params):
    """Promote 1-D examples to matrices (as matmul does), align batch axes, multiply, squeeze."""
    from .numpy import expand_dims, squeeze
    x, y = vals
    bx, by = batched
    x_vec, y_vec = _example_ndim(x, bx) == 1, _example_ndim(y, by) == 1
    if x_vec:
        x = expand_dims(x, -2)
    if y_vec:
        y = expand_dims(y, -1)
    x, y = _aligned([x, y], [bx, by])
    out = prim.bind(x, y)
    if y_vec:
        out = squeeze(out, -1)
    if x_vec:
        out = squeeze(out, -2 if not y_vec else -1)
    return out


def _solve_rule(trace, prim, vals, batched, params):
    from .numpy import expand_dims, squeeze
    a, b = vals
    ba, bb = batched
    b_vec = _example_ndim(b, bb) == 1
    if b_vec:
        b = expand_dims(b, -1)
    a, b = _aligned([a, b], [ba, bb])
    out = prim.bind(a, b, **params)
    return squeeze(out, -1) if b_vec else out


_SPARE = string.ascii_uppercase + string.ascii_lowercase


def _einsum_rule(trace, prim, vals, batched, params):
    from .numpy.products import parse_einsum
    shapes = [tuple(v.shape)[1:] if b else tuple(getattr(v, "shape", ()))
              for v, b in zip(vals, batched)]
    terms, out = parse_einsum(params["subscripts"], shapes)
    letter = next(c for c in _SPARE if c not in "".join(terms) + out)
    terms = [letter + t if b else t for t, b in zip(terms, batched)]
    return prim.bind(*vals, subscripts=",".join(terms) + "->" + letter + out)


BATCHING_RULES = {
    "sum": _axis_rule("axis"), "prod": _axis_rule("axis"), "max": _axis_rule("axis"),
    "min": _axis_rule("axis"), "logsumexp": _axis_rule("axis"),
    "cumsum": _axis_rule("axis"), "cumprod": _axis_rule("axis"),
    "reshape": _reshape_rule, "transpose": _transpose_rule, "broadcast_to": _broadcast_to_rule,
    "getitem": _getitem_rule, "unindex": _unindex_rule,
    "at.set": _at_rule, "at.add": _at_rule,
    "concatenate": _concatenate_rule, "take": _take_rule, "take_along_axis": _take_along_axis_rule,
    "add_along_axis": _add_along_axis_rule,
    "roll": _roll_rule, "pad": _pad_rule, "fft": _axis_rule("axes"),
    "matmul": _matmul_rule, "einsum": _einsum_rule, "linalg.solve": _solve_rule,
    "linalg.solve_triangular": _solve_rule,
    # acting on each element, or on the last two axes (NumPy's linalg is batched already)
    "astype": _map_rule, "copy": _map_rule, "real": _map_rule, "imag": _map_rule,
    "conjugate": _map_rule, "linalg.inv": _map_rule, "linalg.det": _map_rule,
    "linalg.slogdet": _map_rule, "linalg.cholesky": _map_rule, "linalg.eigh": _map_rule,
    "linalg.eig": _map_rule, "linalg.eigvals": _map_rule, "linalg.svd": _map_rule,
    "linalg.svdvals": _map_rule, "linalg.qr": _map_rule, "linalg.pinv": _map_rule,
}


# ---------------------------------------------------------------------------------------------

def batching_active():
    """Whether a `vmap` is running (its trace is open), for code that must act per example
    only then (`while_loop` freezing finished examples)."""
    return any(type(t) is BatchTrace for t in _open_traces)


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
                value = _materialized(leaf, False, size)
            results.append(moveaxis(value, 0, out_axes) if out_axes != 0 else value)
        return tree_unflatten(treedef, results)

    return batched_fun
