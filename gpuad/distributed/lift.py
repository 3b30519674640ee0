"""Make a collective's argument seen by every open trace, so all ranks run the same collectives.

A trace only sees an op when one of its arguments is that trace's tracer. Which values are traced
can differ between ranks: under `grad`, rank 0's cotangent may depend on the input (a tracer of
the outer trace of `grad(grad(f))`) while rank 1's is a constant. Then rank 0 records the
collective and runs its rule in the outer backward sweep, rank 1 does not, and rank 0 waits
forever. Every rank runs the same transforms, though (the same program), so the fix is to give
the argument a layer for every open trace: a fresh tape node (reverse mode), a zero tangent
(forward mode). The extra layers cost one tape entry or one zero array each, and only while a
transform is open; outside transforms (data-parallel averaging after the sweep) nothing changes.

Which traces: in a VJP rule, all open ones (the trace whose sweep runs the rule has closed; the
open ones are outer). In a JVP rule, only those at or below the level of the primal argument: a
JVP rule runs while its own trace is open, and its tangent lives below that trace. Other trace
kinds (vmap) get no layer.
"""
import numpy as np

from .. import backend
from ..forward import ForwardTrace, ForwardTracer
from ..reverse import ReverseTrace, ReverseTracer
from ..trace import TRACER_TYPES, open_traces, primal_value


def lift(x, ceiling=None):
    """`x` with a tracer of each open trace (of level <= `ceiling` when given)."""
    traces = open_traces()
    if not traces:
        return x
    traces = sorted((t for t in traces if ceiling is None or t.level <= ceiling),
                    key=lambda t: t.level)
    return _tower(x, traces)


def level_of(x):
    """The level of `x`'s outermost tracer (0 for a plain array)."""
    return x._trace.level if type(x) in TRACER_TYPES else 0


def _tower(x, traces):
    if not traces:
        return x
    top, rest = traces[-1], traces[:-1]
    if type(x) in TRACER_TYPES:
        trace = x._trace
        if trace is top:
            inner = _tower(x.value, rest)
            return x if inner is x.value else _rewrap(x, inner)
        if trace.level > top.level or not trace.active:
            return x  # a layer these traces do not own (a paused checkpointed trace)
    inner = _tower(x, rest)
    if isinstance(top, ReverseTrace):
        return top.new_input(inner)
    if isinstance(top, ForwardTrace):
        raw = primal_value(inner)
        xp = backend.namespace(raw)
        return ForwardTracer(inner, xp.zeros(np.shape(raw), raw.dtype), top)
    return inner


def _rewrap(x, inner):
    """`x`'s tracer around a value that gained lower layers."""
    if isinstance(x, ReverseTracer):  # (or gpuad/kernels' LazyTracer, a subclass)
        return ReverseTracer(inner, x._trace, x.node)
    if type(x) is ForwardTracer:
        return ForwardTracer(inner, x.tangent, x._trace)
    return x
