"""Recording elementwise ops into fused groups (called from `FusingTrace`'s record paths,
`tape.py`).

An op joins the open group when its result has the group's shape and dtype and the group is
still the tape's last entry. On NumPy arrays of `config.fusion_forward_min_size` elements or
more it is recorded without being computed: its tracer is a `LazyTracer`, computed when read
(`forward.py`). Otherwise (smaller arrays, CuPy arrays, `config.fusion_forward` off) it is
computed at once.
"""
import weakref

import numpy as np

from .. import backend
from ..config import config
from ..reverse import SAVED, ReverseTracer
from ..trace import EMPTY, TRACER_TYPES, Meta
from .backward import FUSED
from .codegen import register_forms
from .forward import LazyTracer, Pending, lazy_allowed
from .group import Group

_PYTHON_SCALARS = (bool, int, float)


def record_fused(trace, prim, args, vals):
    """The op as a member of a fused group, or None where it cannot join one (the caller then
    records it as usual). `vals` are the arguments' values; a `Pending` for a lazy one."""
    # (the caller already refused prim.scalar False: forms known to be missing)
    if prim.scalar is None and register_forms(prim) is None:
        return None  # the declaration has no scalar form: never fused
    meta = _result_meta(prim, vals)
    if meta is None:
        return None
    shape, dtype, xp = meta
    result = Meta.of(shape, dtype, xp)
    if dtype.char not in "fd":  # float32 and float64: Numba has no float16, complex is not fused
        return None
    tape = trace.tape
    group = trace.group and trace.group()  # weak: the trace must not keep a finished group
    # (the group's entry is the tape's last while the group is open; the group does not point
    # back to its entry: that cycle kept every group's inputs alive until the cyclic collector
    # ran, 4x StoreAll's memory on a fused RNN step)
    if (group is None or not tape or tape[-1][SAVED] is not group
            or shape != group.shape or dtype != group.dtype):
        group = None
    lazy = (xp is np and config.fusion_forward and result.size >= config.fusion_forward_min_size
            and lazy_allowed())
    vals = list(vals)
    for i, v in enumerate(vals):
        if type(v) is Pending and (v.group is not group or not lazy):
            # a value of another group is computed: it is an input of this one
            vals[i] = args[i].value
    if not lazy:
        ans = prim.impl(*vals)  # the eager result (CuPy, or forward fusion switched off)
    if group is None:
        group = Group(shape, dtype)
        # one tape entry for the whole group; its lists grow as ops join
        tape.append((FUSED, group.nodes, group.parents, group, group.metas, EMPTY))
        trace.group = weakref.ref(group)
    trace.hold_constants(args, vals, EMPTY)  # read by the lazy values and the backward pass
    operands = []
    for a, v in zip(args, vals):
        if type(v) is Pending:
            operands.append(group.operand(a, v, a.node))  # a value of this group
            continue
        ours = type(a) is ReverseTracer and a._trace is trace
        operands.append(group.operand(a, v, a.node if ours else None))
    node = trace.count
    trace.count = node + 1
    trace.fused = True
    if lazy:
        group.add(prim, operands, result, node)
        tracer = ReverseTracer(Pending(group, len(group.instrs) - 1, result), trace, node)
        tracer.__class__ = LazyTracer
        trace.lazy.append(weakref.ref(tracer))
        return tracer
    group.add(prim, operands, result, node, ans)
    if type(ans) is np.ndarray:  # a value Group.compact may store instead of inputs
        group.keep_computed(len(group.instrs) - 1, ans)
    return ReverseTracer(ans, trace, node)


_dtypes = {}  # (primitive, operand dtypes or Python types) -> result dtype


def _result_meta(prim, vals):
    """(shape, dtype, namespace) of the op's result, without computing it; None where that
    cannot be told cheaply (the caller computes the op instead, which also raises its errors)."""
    shapes = []
    key = [prim]
    xp = None
    for v in vals:
        t = type(v)
        if t is Pending:
            shapes.append(v.meta.shape)
            key.append(v.meta.dtype)
            xp = np if xp is None else xp
        elif t in TRACER_TYPES:
            return None  # a tracer of another transform: not fused
        elif t in _PYTHON_SCALARS:
            key.append(t)  # a weak scalar: it never decides the result's dtype (NEP 50)
        elif hasattr(v, "dtype") and hasattr(v, "shape"):
            shapes.append(v.shape)
            key.append(v.dtype)
            vx = np if t is np.ndarray or isinstance(v, np.generic) else "device"
            if xp is not None and xp is not vx:
                return None  # mixed devices: the eager op raises the right error
            xp = vx
        else:
            return None
    if xp is None:
        return None
    try:
        shape = np.broadcast_shapes(*shapes)
    except ValueError:
        return None
    key = tuple(key)
    dtype = _dtypes.get(key)
    if dtype is None:
        samples = [np.ones((), k) if isinstance(k, np.dtype) else k(1) for k in key[1:]]
        with np.errstate(all="ignore"):
            dtype = _dtypes[key] = np.result_type(prim.impl(*samples))
    return shape, dtype, (np if xp is np else
                          backend.namespace(*[v for v in vals if hasattr(v, "shape")]))
