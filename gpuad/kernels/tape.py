"""The fusing tape: `FusingTrace`, the recorder `ReverseTrace()` gives while `config.fusion` is
on (installed with `reverse.install_recorder` when gpuad is imported).

Its record paths are `ReverseTrace`'s with one test added: whether an elementwise op on arrays
of `config.fusion_min_size` elements or more can join a fused group (`record.py`). They are
written out whole rather than handing over to `ReverseTrace`'s: the extra call cost 4.5% of a
small op (benchmarks/callgrind.py overhead, 2674.7k -> 2795.0k instructions per 100-op
gradient). tests/kernels/test_tape.py checks that both tapes record small ops alike.

This module is light on purpose (`import gpuad` imports it): `record.py` and through it
`codegen.py`, which imports Numba (0.8 s), load on the first op that may fuse.
"""
import numpy as np

from .. import backend
from ..config import config
from ..readonly import hold
from ..reverse import SAVED, ReverseTrace, ReverseTracer, install_recorder
from ..trace import EMPTY, TRACER_TYPES, Meta, Trace, check_nans
from .forward import LazyTracer

FUSABLE = backend.FUSABLE_ARRAY_TYPES  # NumPy arrays, and CuPy arrays once CuPy is imported
_ndarray = np.ndarray
_NUMBERS = frozenset((float, int, bool, complex))


_OURS = (ReverseTracer, LazyTracer)


def _record_fused(trace, prim, args, vals):
    """`record.record_fused`, imported on the first op that may fuse (it imports Numba)."""
    global _record_fused
    from .record import record_fused
    _record_fused = record_fused
    return record_fused(trace, prim, args, vals)


class FusingTrace(ReverseTrace):
    """A `ReverseTrace` whose elementwise ops on arrays of `config.fusion_min_size` elements
    or more join fused groups (one tape entry each); every other op is recorded as
    `ReverseTrace` records it."""

    __slots__ = ("group", "lazy", "fused")

    def __init__(self):
        # ReverseTrace.__init__ spelled out (keep in step): one call less per gradient, whose
        # fixed costs are most of a small one's (benchmarks/callgrind.py helmholtz1)
        Trace.__init__(self)
        self.tape = []
        self.count = 0
        self.held = []
        self.group = None  # weakly, the open fused group while it is the tape's last entry
        self.lazy = []  # weak references to the LazyTracers made, computed at `close`
        self.fused = False  # whether the tape holds fused groups (compacted at `close`)

    def close(self):
        lazy, self.lazy = self.lazy, []
        for ref in lazy:  # values still referenced (results, aux, closures) are computed
            tracer = ref()
            if type(tracer) is LazyTracer:
                tracer.value
        if self.fused and self.active:
            for entry in self.tape:  # groups may store such values instead of inputs
                compact = getattr(entry[SAVED], "compact", None)
                if compact is not None:
                    compact()
        super().close()

    def fuse(self, prim, args, vals):
        """Record an elementwise op into the open fused group (or a new one); None where the
        op cannot join a group: the caller then runs and records it as usual. `vals` are the
        arguments' values (a LazyTracer's pending value for one)."""
        if prim.scalar is False or config.debug_nans:
            return None
        return _record_fused(self, prim, args, vals)

    # The record paths: ReverseTrace's, each with the fusion test before the op runs (it may
    # not run: forward.py). Keep the rest of each in step with reverse.py.

    def process1(self, prim, x):
        if type(x) is not ReverseTracer or not prim.fast:  # a LazyTracer, or a slow op
            return self.process(prim, (x,), EMPTY)
        v = x.value
        if type(v) in TRACER_TYPES:
            return self.process(prim, (x,), EMPTY)
        if type(v) in FUSABLE and v.size >= config.fusion_min_size and config.fusion:
            fused = self.fuse(prim, (x,), (v,))
            if fused is not None:
                return fused
        ans = prim.impl(v)
        tape = self.tape
        if config.debug_nans:
            check_nans(ans, f"{prim.name} (tape position {len(tape)})", "forward result")
        node = self.count
        self.count = node + 1
        tape.append((prim, node, ((0, x.node, None),), (v if prim.keep[0] else None,),
                     ans if prim.keep_ans else None, EMPTY))
        return ReverseTracer(ans, self, node)

    def process2(self, prim, x, y):
        x_ours = type(x) is ReverseTracer and x._trace is self
        y_ours = type(y) is ReverseTracer and y._trace is self
        vx = x.value if x_ours else x
        vy = y.value if y_ours else y
        tx, ty = type(vx), type(vy)
        if not prim.fast or tx in TRACER_TYPES or ty in TRACER_TYPES:
            return self.process(prim, (x, y), EMPTY)  # (LazyTracers go there too)
        if ((tx in FUSABLE and vx.size >= config.fusion_min_size
             or ty in FUSABLE and vy.size >= config.fusion_min_size) and config.fusion):
            fused = self.fuse(prim, (x, y), (vx, vy))
            if fused is not None:
                return fused
        ans = (prim.array_impl if tx is _ndarray else prim.impl)(vx, vy)
        tape = self.tape
        if config.debug_nans:
            check_nans(ans, f"{prim.name} (tape position {len(tape)})", "forward result")
        if prim.broadcasting:
            shape, dtype = ans.shape, ans.dtype
            if x_ours:
                px = (0, x.node, None if (vx.shape == shape and vx.dtype == dtype) else Meta(vx))
            if y_ours:
                py = (1, y.node, None if (vy.shape == shape and vy.dtype == dtype) else Meta(vy))
        else:
            px = (0, x.node, None) if x_ours else None
            py = (1, y.node, None) if y_ours else None
        if x_ours:
            if y_ours:
                parents = (px, py)
            else:
                parents = (px,)
                if ty not in _NUMBERS and isinstance(vy, _ndarray):
                    hold(vy, self.held)
        else:
            parents = (py,)
            if tx not in _NUMBERS and isinstance(vx, _ndarray):
                hold(vx, self.held)
        keep = prim.keep
        node = self.count
        self.count = node + 1
        tape.append((prim, node, parents, (vx if keep[0] else None, vy if keep[1] else None),
                     ans if prim.keep_ans else None, EMPTY))
        return ReverseTracer(ans, self, node)

    def process_lazy(self, prim, args, params):
        """`process` for arguments among which a LazyTracer is: an elementwise op may join its
        group without computing it; any other op computes the lazy arguments first."""
        if not params and prim.elementwise is not None and config.fusion:
            vals = [(a.pending() if type(a) is LazyTracer else a.value)
                    if type(a) in _OURS and a._trace is self else a for a in args]
            fused = self.fuse(prim, args, vals)
            if fused is not None:
                return fused
        for a in args:
            if type(a) is LazyTracer and a._trace is self:
                a.value  # computed: a ReverseTracer from now on
        if prim.fast and not params:
            if len(args) == 1:
                return self.process1(prim, args[0])
            if len(args) == 2:
                return self.process2(prim, *args)
        return self.process(prim, args, params)

    def process(self, prim, args, params):
        if self.lazy and any(type(a) is LazyTracer and a._trace is self for a in args):
            return self.process_lazy(prim, args, params)
        if prim.elementwise is not None and not params and config.fusion:
            # where, clip (three operands), and ops on tracers of a paused trace, which unwrap
            # translates: the group must see the tracers that stand for them. (An op that does
            # not join is unwrapped again by ReverseTrace.process: only on this slow path.)
            vals, ours, nested = self.unwrap(ReverseTracer, args)
            if not nested and any(type(v) in FUSABLE and v.size >= config.fusion_min_size
                                  for v in vals):
                for i, _ in ours:
                    prim.vjp_rule(i)  # no rule: NotImplementedError, as ReverseTrace raises
                own = list(args)
                for i, a in ours:
                    own[i] = a
                fused = self.fuse(prim, own, vals)
                if fused is not None:
                    return fused
        return ReverseTrace.process(self, prim, args, params)


install_recorder(FusingTrace)
