"""Running user code off the tape, and again on a private tape, for checkpointing.

Checkpointed code runs twice. The first time (forward) the enclosing reverse trace must not
record it: the trace is *paused*, so operations on its tracers run on their values (tracers the
code closes over, such as the weights of an RNN, are noted as it goes). The second time (in the
backward sweep) the code is *replayed* on a fresh, private tape whose inputs stand in for the
paused trace's tracers, so the replay's backward pass gives their cotangents.

Both work through the enclosing trace's detour (`Trace.inactive`): while a trace is inactive,
an operation that meets one of its tracers asks the detour what the tracer stands for. The
private tape gets a level above the enclosing trace, so values of lower traces (a `grad` of this
`grad`, a `jvp` around it) keep being recorded by those traces, and every composition of
transforms stays correct.
"""
import contextlib

from ..config import config
from ..reverse import ReverseTrace, ReverseTracer, backward, held_arrays
from ..trace import (
    PYTHON_NUMBERS,
    TRACER_TYPES,
    Meta,
    Primitive,
    as_value,
    bind,
    check_nans,
    primal_value,
    raise_level_above,
    restore_depth,
    run_impl,
)


class Detour:
    """What a paused or replayed trace does with an op that meets its tracers: the hook
    `Trace.inactive` and `Trace.unwrap` call (gpuad/trace.py knows no more of checkpointing).
    A subclass says what one tracer stands for (`translate`)."""

    __slots__ = ()

    def translate(self, tracer):
        raise NotImplementedError

    def run(self, trace, prim, args, params):
        """`prim` on `args`, `trace`'s tracers among them replaced by what they stand for."""
        translate = self.translate
        args = tuple([translate(a) if type(a) in TRACER_TYPES and a._trace is trace else a
                      for a in args])
        for a in args:
            if type(a) in TRACER_TYPES:  # a substitute, or a tracer of another trace
                return bind(prim, args, params)
        # all values (the paused forward sweep of a checkpointed loop: each step's ops on the
        # weights it closes over come here)
        out = run_impl(prim, args, params)
        if config.debug_nans:  # untaped, so no tape position: NAN_CONTEXT names the step
            check_nans(out, prim.name, "forward result")
        return out

    def resolve(self, tracer):
        """What `tracer` (of a trace this detour pauses) stands for, through several replays
        when checkpoints nest: a value, or a tracer of a trace that records."""
        a = self.translate(tracer)
        while (type(a) in TRACER_TYPES and not a._trace.active
               and a._trace.detour is not None):
            a = a._trace.detour.translate(a)
        return a


def translate(trace, x):
    """`x` with `trace`'s tracers replaced as its detour says (other values as they are)."""
    if type(x) in TRACER_TYPES and x._trace is trace and not trace.active:
        if trace.detour is None:
            raise trace.escaped(None)
        return trace.detour.translate(x)
    return x


class Pause(Detour):
    """Detour of a paused trace: a tracer stands for its value; `touched` collects the nodes of
    the tracers met (the enclosing computation's values the code depends on)."""

    __slots__ = ("touched",)

    def __init__(self, touched):
        self.touched = touched

    def translate(self, tracer):
        self.touched[tracer.node] = None
        return tracer.value


class Substitute(Detour):
    """Detour during a replay: a tracer stands for an input of the private tape, made the
    first time the tracer is met (in the backward sweep, only tracers met in the forward pass
    may appear: `frozen`)."""

    __slots__ = ("table", "tape", "touched", "frozen")

    def __init__(self, tape, touched, frozen):
        self.table = {}
        self.tape = tape
        self.touched = touched
        self.frozen = frozen

    def translate(self, tracer):
        sub = self.table.get(tracer.node)
        if sub is None:
            if self.frozen and tracer.node not in self.touched:
                raise RuntimeError(
                    "checkpoint: the recomputation used a traced value that the first run did "
                    "not use. Checkpointed code must do the same work when run again: make its "
                    "control flow depend only on its arguments and the random state.")
            self.touched[tracer.node] = None
            sub = self.table[tracer.node] = self.tape.new_input(tracer.value)
        return sub


@contextlib.contextmanager
def detoured(trace, detour):
    """Make `trace` inactive with `detour` for the block, then restore it as it was."""
    saved = trace.active, trace.detour
    trace.active, trace.detour = False, detour
    try:
        yield
    finally:
        trace.active, trace.detour = saved


def translate_leaves(trace, leaves):
    """Output leaves with `trace`'s tracers replaced (code may return a closed-over tracer)."""
    return [translate(trace, x) if type(x) in TRACER_TYPES and x._trace is trace else x
            for x in leaves]


def run_paused(trace, touched, fun, *args):
    """`fun(*args)` with `trace` paused: nothing recorded; returns fun's result.

    `detoured` spelled out: the executor calls this for every untaped step, and the generator
    behind a contextmanager cost about as much as two of a small step's ops."""
    saved = trace.active, trace.detour
    trace.active, trace.detour = False, Pause(touched)
    try:
        return fun(*args)
    finally:
        trace.active, trace.detour = saved


def differentiable(x):
    """A float or complex array or Python number: what a tape can take as an input."""
    dtype = getattr(x, "dtype", None)  # (a tracer's own: metadata, never the value)
    if dtype is not None:
        return dtype.kind in "fc"
    return isinstance(x, (float, complex))


class Replay:
    """One replayed call on a private tape, kept until `backprop` (or reused, see `consume`)."""

    __slots__ = ("tape", "in_nodes", "detour", "out_leaves")

    def __init__(self, trace, touched, fun, inputs, frozen, wanted=None, substitute=None):
        """Run `fun(list of input leaves) -> list of output leaves` on a private tape whose
        inputs are `inputs` (the differentiable ones, or those `wanted[k]` marks) and the
        tracers of `trace` it meets (`substitute(tape, touched, frozen)` makes the detour that
        says what they stand for: `Substitute` by default; scan(jit=True) records the step
        with a subclass, gpuad/jit/steps.py)."""
        saved_depth = raise_level_above(trace.level)
        tape = ReverseTrace()
        try:
            # A Python number stays one: no traced value went into it (it would be a tracer or
            # an array), so it takes no cotangent, and boxing it would hand the code a float64
            # array where the first, paused run saw a Python float, whose weak type keeps
            # float32 math float32 (NEP 50) and which the recompute check compares by type.
            boxed = [tape.new_input(v) if differentiable(v) and type(v) not in PYTHON_NUMBERS
                     and (wanted is None or wanted[k]) else v for k, v in enumerate(inputs)]
            self.in_nodes = [b.node if type(b) is ReverseTracer else None for b in boxed]
            self.detour = (substitute or Substitute)(tape, touched, frozen)
            with detoured(trace, self.detour):
                self.out_leaves = translate_leaves(trace, fun(boxed))
        finally:
            tape.close()
            restore_depth(saved_depth)
        self.tape = tape

    def values(self):
        """The output leaves as values of the enclosing level (the private tape stripped)."""
        tape = self.tape
        return [x.value if type(x) is ReverseTracer and x._trace is tape else x
                for x in self.out_leaves]

    def backprop(self, trace, out_cots, consume=True):
        """Cotangents of the inputs (a list aligned with `inputs`, None for zero) and of the
        enclosing trace's tracers (a dict node -> cotangent), given those of the outputs."""
        tape = self.tape
        seeds = [(x.node, g) for x, g in zip(self.out_leaves, out_cots)
                 if g is not None and type(x) is ReverseTracer and x._trace is tape]
        if not seeds:
            return [None] * len(self.in_nodes), {}
        table = self.detour.table
        wanted = [n for n in self.in_nodes if n is not None] + [s.node for s in table.values()]
        with detoured(trace, self.detour):  # nested checkpoints replay through the same subs
            cots = dict(zip(wanted, backward(tape, seeds, wanted, consume)))
        return ([None if n is None else cots[n] for n in self.in_nodes],
                {outer: cots[s.node] for outer, s in table.items()})


def residual_bytes(tape, inputs):
    """Bytes of the arrays a reverse trace's tape keeps for its backward pass, counted once
    each and excluding `inputs` (held anyway): what keeping one more step's tape costs."""
    seen = {id(primal_value(x)) for x in inputs}
    total = 0
    for entry in tape.tape:
        for a in held_arrays(entry):
            if isinstance(a, Meta):
                continue
            raw = primal_value(a)
            if hasattr(raw, "nbytes") and id(raw) not in seen:
                seen.add(id(raw))
                total += raw.nbytes
    return total


# A leaf without `nbytes` (a Python float, int or complex) is counted as one float64.
PYTHON_NUMBER_BYTES = 8


def leaf_bytes(leaves):
    return sum(getattr(primal_value(x), "nbytes", PYTHON_NUMBER_BYTES) for x in leaves)


def _joint(ans, saved, g, *, region):
    return region.backward(g)


# One primitive for every checkpointed region (scan, while_loop, checkpoint): its single
# rule hands the cotangents to the region object, which replays what it needs.
CHECKPOINTED = Primitive("checkpointed", None, multiple_results=True, vjp_joint=_joint,
                         register=False)


def record_region(trace, region, parent_nodes, out_leaves):
    """Put one entry for a checkpointed region on `trace`'s tape.

    `parent_nodes[k]` is the node of the region's k-th differentiable input (`region.backward`
    returns cotangents in this order); the differentiable leaves of `out_leaves` become tracers
    of `trace`. Returns the output leaves to give the user, and the indices that were wrapped.
    """
    wrapped = [i for i, x in enumerate(out_leaves) if differentiable(x)]
    first = trace.count
    trace.count += len(wrapped)
    nodes = tuple(range(first, first + len(wrapped)))
    parents = [(k, node, None) for k, node in enumerate(parent_nodes)]
    trace.tape.append((CHECKPOINTED, nodes, parents, (),
                       tuple([Meta(out_leaves[i]) for i in wrapped]), {"region": region}))
    result = list(out_leaves)
    for i, node in zip(wrapped, nodes):
        result[i] = ReverseTracer(as_value(out_leaves[i]), trace, node)
    return result, wrapped
