"""Recording elementwise ops into fused groups (called from `ReverseTrace`'s fast paths)."""
from ..reverse import ReverseTracer
from ..trace import EMPTY
from .backward import FUSED
from .codegen import register_forms
from .group import Group


def record_fused(trace, prim, args, vals, ans):
    # (the caller already refused prim.scalar False: forms known to be missing)
    if prim.scalar is None and register_forms(prim) is None:
        return None  # the declaration has no scalar form: never fused
    tape = trace.tape
    group = trace.group
    # (the group's entry is the tape's last while the group is open; the group does not point
    # back to its entry: that cycle kept every group's inputs alive until the cyclic collector
    # ran, 4x StoreAll's memory on a fused RNN step)
    if (group is None or not tape or tape[-1][3] is not group
            or ans.shape != group.shape or ans.dtype != group.dtype):
        group = Group(ans.shape, ans.dtype)
        # one tape entry for the whole group; its lists grow as ops join
        tape.append((FUSED, group.nodes, group.parents, group, group.metas, EMPTY))
        trace.group = group
    operands = []
    for a, v in zip(args, vals):
        ours = type(a) is ReverseTracer and a._trace is trace
        operands.append(group.operand(a, v, a.node if ours else None))
    node = trace.count
    trace.count = node + 1
    group.add(prim, operands, ans, node)
    return ReverseTracer(ans, trace, node)
