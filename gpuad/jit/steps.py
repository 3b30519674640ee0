"""`scan(step, ..., jit=True)` and `while_loop(cond, body, ..., jit=True)`: a recurrence's
step (a while_loop's body) recorded once and replayed at every evaluation its schedule makes.

A checkpointed scan evaluates its step three ways (gpuad/checkpoint/region.py): *advance*
(values only: the first pass of a recomputing schedule and its recomputations), *record* (the
step's tape kept) and *reverse* (backpropagate that tape). `StepPrograms` serves them from two
recordings made with ga.jit's recorder (gpuad/jit/record.py):

* the forward program `(carry, x, closure) -> (carry, y)`, for advance (and the plain loop);
* the joint program `(carry, x, closure, cotangents of carry and y) -> (carry, y, cotangents
  of carry, x and closure)`: the step on a private tape (checkpoint's `Replay`) and that tape's
  backward sweep, both recorded. Its steps before `split` are the forward part: record runs
  them and keeps the slots (the residuals the rest reads, `_Kept`); reverse runs the rest.
  A program is specialised to which outputs get a cotangent (`pattern`): record guesses all
  differentiable ones; a reverse that gets another pattern (no cotangent for an unused y, or
  for the last carry) runs (recording once) the joint program of that pattern whole, from the
  step's inputs and the random state it started from.

*closure*: the values of the enclosing trace's tracers the step closes over (the weights).
While a program records, the enclosing trace is paused with a detour that makes each one an
input of the recording (`_Closure`), so the joint program gives their cotangents. Programs
belong to one scan call (one region): its closure values and constants are that call's.

Soundness. A recording that read a traced value on the host, drew from numpy.random, or met a
value of another transform is not replayed: the call runs eagerly (one warning). A step whose
Python code depends on state that changes (a counter, a NumPy Generator, a mutated dict) would
replay the recording's constants: so the first use of each program after its recording also
runs that step eagerly and compares the two (bit for bit on NumPy, as `config.recompute_check`
says; "off" skips it). A difference warns and the call runs eagerly from there on, where the
recompute check compares recomputations as it does without jit.
"""
import warnings
import weakref

import numpy as np

from .. import backend
from ..checkpoint.replay import (
    Detour,
    Replay,
    Substitute,
    differentiable,
    record_region,
    translate_leaves,
)
from ..checkpoint.verify import mode_for
from ..config import config
from ..numpy import random as _random
from ..readonly import release
from ..reverse import ReverseTrace, ReverseTracer
from ..trace import TRACER_TYPES, innermost_trace
from ..tree import tree_flatten, tree_unflatten
from . import draws
from .api import Jitted, _leaf_key, _name, _same_np_state, _Static
from .program import Program
from .record import JitTrace, JitTracer


class NotReplayable(Exception):
    """Abandons a recording: the scan runs its step eagerly (the message says why). `quiet`:
    the step meets values of a further transform (a derivative of a derivative, a jvp around
    the scan), which ga.jit runs eagerly without a warning too."""

    def __init__(self, why, quiet=False):
        super().__init__(why)
        self.quiet = quiet


def step_programs(step, jit, name="scan"):
    """`hooks.SCAN_STEP_PROGRAMS`'s factory (installed by gpuad/jit/__init__.py): (the step to
    call, its StepPrograms or None). `name`: the loop's, "scan" or "while_loop" (whose body
    is the step), for the warnings."""
    if isinstance(step, Jitted) and not (step.static_argnums or step.static_argnames):
        step, jit = step.fun, True
    if not jit or config.debug_nans:  # debug_nans names the op: eager steps do
        return step, None
    programs = StepPrograms()
    programs.name = name
    return step, programs



class StepPrograms:
    """One scan call's recordings of its step (see the module docstring)."""

    __slots__ = ("forward", "primary", "joints", "off", "mode", "check_forward",
                 "check_joint", "name")

    def __init__(self):
        self.name = "scan"    # the loop's, for the warnings ("while_loop": its body)
        self.forward = None   # _Forward
        self.primary = None   # _Joint whose forward part record runs
        self.joints = {}      # pattern -> _Joint
        self.off = None       # why the step runs eagerly from now on
        self.mode = None      # the comparison of the first replays: "exact", "allclose", "off"
        self.check_forward = self.check_joint = False

    # ---- the executor's three evaluations ---------------------------------------------------
    def advance(self, trace, touched, body, leaves, eager):
        """(carry, y) leaves of one step on values; `eager()` computes them without jit."""
        if self.off is not None or not _replayable_leaves(leaves):
            return eager()
        fwd = self.forward
        if fwd is None:
            try:
                self.forward, carry, y = _record_forward(trace, touched, body, leaves)
            except NotReplayable as exc:
                self._give_up(str(exc), exc.quiet)
                return eager()
            self.check_forward = self._mode(leaves) != "off"
            return carry, y
        if self.check_forward:
            self.check_forward = False
            return self._compared(eager, lambda: fwd.run(leaves), lambda r: r[0] + r[1])
        return fwd.run(leaves)

    def record(self, trace, touched, fun, leaves, frozen, wanted):
        """Step `fun` on `leaves` with what its backward sweep needs kept: a `Replay` or a
        `_Kept`, both with `values()` and `backprop(trace, out_cots)`."""
        def eager():
            return Replay(trace, touched, fun, leaves, frozen=frozen, wanted=wanted)
        if self.off is not None or not _replayable_leaves(leaves):
            return eager()
        joint = self.primary
        if joint is None:
            rng = _random.get_all_states()
            try:
                joint = _record_joint(trace, touched, fun, leaves, frozen, wanted, None)[0]
            except NotReplayable as exc:
                self._give_up(str(exc), exc.quiet)
                return eager()
            self.primary = self.joints[joint.pattern] = joint
            self.check_joint = self._mode(leaves) != "off"
            _random.set_all_states(rng)  # the recording drew; the replay draws the same again
            return _Kept(self, joint, leaves, trace, touched, fun, frozen, wanted)
        if self.check_joint:
            self.check_joint = False
            return self._compared(
                eager, lambda: _Kept(self, joint, leaves, trace, touched, fun, frozen, wanted),
                lambda r: r.values())
        return _Kept(self, joint, leaves, trace, touched, fun, frozen, wanted)

    # ---- soundness ----------------------------------------------------------------------------
    def _mode(self, leaves):
        if self.mode is None:
            self.mode = mode_for(leaves)
        return self.mode

    def _compared(self, eager, replay, outputs):
        """The eager result; the replay's must equal it (and draw as much), else jit is off."""
        rng = _random.get_all_states()
        want = eager()
        after = _random.get_all_states()
        _random.set_all_states(rng)
        try:
            got = replay()
            same = (_same_leaves(outputs(want), outputs(got), self.mode == "exact")
                    and _same_state(after, _random.get_all_states()))
        finally:
            _random.set_all_states(after)
        if not same:
            self._give_up("its second step gave other results replayed than eagerly: the step "
                          "depends on Python state that changes from call to call (a counter "
                          "or a list in a closure, a NumPy Generator, a mutated dict), which a "
                          "recording keeps as constants. Put such state in the carry, draw "
                          "from gnp.random")
        return want

    def _give_up(self, why, quiet=False):
        if self.off is None:
            self.off = why
            if not quiet:
                what = "body" if self.name == "while_loop" else "step"
                warnings.warn(f"{self.name}(jit=True): the {what} is not replayed, since {why}. "
                              f"This {self.name} call runs it eagerly (correct, not faster).",
                              stacklevel=5)


# ---- the forward program ---------------------------------------------------------------------

class _Forward:
    __slots__ = ("program", "closure", "n")

    def __init__(self, program, closure, n):
        self.program, self.closure, self.n = program, closure, n

    def run(self, leaves):
        out = self.program.run(leaves + self.closure)
        return out[:self.n], out[self.n:]


def _record_forward(trace, touched, body, leaves):
    """Record `body` on `leaves`: (_Forward, carry leaves, y leaves) of this call."""
    n = body.carry_def.num_leaves

    def run(jt, closure, ins):
        if trace is None:  # the plain loop
            return body(ins[:n], ins[n:])
        saved = trace.active, trace.detour
        trace.active, trace.detour = False, _Pause(touched, closure)
        try:
            carry, y = body(ins[:n], ins[n:])
            return translate_leaves(trace, carry), translate_leaves(trace, y)
        finally:
            trace.active, trace.detour = saved

    jt, closure, ins, (carry, y) = _recording(run, leaves)
    outputs = _slots(jt, carry + y)
    program = Program(jt, [t.slot for t in ins] + closure.slots(), outputs)
    return (_Forward(program, closure.values(), n), [_raw(jt, c) for c in carry],
            [_raw(jt, v) for v in y])


# ---- the joint program -----------------------------------------------------------------------

class _Joint:
    """A recorded step and its backward sweep for one cotangent `pattern`."""

    __slots__ = ("program", "closure", "tracers", "n_in", "n_out", "split", "pattern", "live")

    def __init__(self, program, closure, n_in, n_out, split, pattern, live):
        self.program = program
        self.closure = closure.values()
        self.tracers = closure.tracers  # the enclosing trace's tracers, in input order
        self.n_in, self.n_out, self.split = n_in, n_out, split
        self.pattern, self.live = pattern, live

    def cotangents(self, leaves):
        """(input cotangents, {node of a closed-over tracer: cotangent}) from output
        leaves[n_out:] of the program."""
        n = self.n_in
        return leaves[:n], {t.node: c for t, c in zip(self.tracers, leaves[n:])}


def _record_joint(trace, touched, fun, leaves, frozen, wanted, out_cots):
    """Record `fun` on a private tape and its backward sweep: (_Joint, forward leaves,
    cotangents or None). `out_cots` None: ones stand in for every differentiable output's."""
    def run(jt, closure, ins):
        def substitute(tape, touched, frozen):
            return _Substitute(tape, touched, frozen, closure)
        replay = Replay(trace, touched, fun, ins, frozen=frozen, wanted=wanted,
                        substitute=substitute)
        outs = replay.values()
        split = len(jt.steps)
        live = tuple(type(x) is ReverseTracer and x._trace is replay.tape
                     for x in replay.out_leaves)
        if out_cots is None:
            pattern = live
            given = [backend.namespace(x._raw).ones_like(x._raw)
                     for x, p in zip(outs, live) if p]
        else:
            pattern = tuple(g is not None and p for g, p in zip(out_cots, live))
            given = [g for g, p in zip(out_cots, pattern) if p]
        cot_ins = [jt.new_input(g) for g in given]
        it = iter(cot_ins)
        cots = [next(it) if p else None for p in pattern]
        if out_cots is None:  # dummy cotangents: what they make is never used
            with np.errstate(all="ignore"):
                in_cots, closure_cots = replay.backprop(trace, cots)
        else:
            in_cots, closure_cots = replay.backprop(trace, cots)
        back = list(in_cots) + [closure_cots.get(t.node) for t in closure.tracers]
        return outs, back, split, pattern, live, cot_ins

    jt, closure, ins, (outs, back, split, pattern, live, cot_ins) = _recording(run, leaves)
    outputs = _slots(jt, outs) + _slots(jt, back)
    program = Program(jt, [t.slot for t in ins] + closure.slots() + [t.slot for t in cot_ins],
                      outputs)
    joint = _Joint(program, closure, len(leaves), len(outs), split, pattern, live)
    result = [_raw(jt, x) for x in back] if out_cots is not None else None
    return joint, [_raw(jt, x) for x in outs], result


class _Kept:
    """A step whose forward part ran: its outputs, and the slots its backward part reads."""

    __slots__ = ("owner", "joint", "env", "outs", "leaves", "rng", "trace", "touched", "fun",
                 "frozen", "wanted")

    def __init__(self, owner, joint, leaves, trace, touched, fun, frozen, wanted):
        self.owner, self.joint, self.leaves = owner, joint, leaves
        # (the tape that holds this holds the trace: a weak reference keeps that acyclic)
        self.trace = weakref.ref(trace)
        self.touched, self.fun = touched, fun
        self.frozen, self.wanted = frozen, wanted
        self.rng = _random.get_all_states()  # (a whole rerun draws what this run drew)
        program = joint.program
        env = self.env = program.start(leaves + joint.closure, joint.n_in + len(joint.closure))
        program.run_steps(env, 0, joint.split)
        self.outs = program.read(env, 0, joint.n_out)

    def values(self):
        return self.outs

    def backprop(self, trace, out_cots):
        joint, env = self.joint, self.env
        self.env = None
        pattern = tuple(g is not None and p for g, p in zip(out_cots, joint.live))
        if env is not None and pattern == joint.pattern:
            program = joint.program
            program.feed(env, [g for g, p in zip(out_cots, pattern) if p],
                         joint.n_in + len(joint.closure))
            program.run_steps(env, joint.split, None)
            return joint.cotangents(program.read(env, joint.n_out, len(program.outputs)))
        if not any(pattern):
            return [None] * len(self.leaves), {}
        return self._whole(out_cots, pattern)

    def _whole(self, out_cots, pattern):
        """The joint program of `pattern`, forward and backward, from the step's inputs and
        the random state its forward part started from (recorded the first time)."""
        owner = self.owner
        now = _random.get_all_states()
        _random.set_all_states(self.rng)
        try:
            joint = owner.joints.get(pattern)
            if joint is None:
                joint, _, back = _record_joint(self.trace(), self.touched, self.fun,
                                               self.leaves, True, self.wanted, out_cots)
                owner.joints[pattern] = joint
                return joint.cotangents(back)
            given = [g for g, p in zip(out_cots, pattern) if p]
            out = joint.program.run(self.leaves + joint.closure + given)
            return joint.cotangents(out[joint.n_out:])
        finally:
            _random.set_all_states(now)


# ---- recording -------------------------------------------------------------------------------

class _Closure:
    """The enclosing trace's tracers a recording met, each made an input of it once."""

    __slots__ = ("trace", "tracers", "inputs")

    def __init__(self, trace):
        self.trace = trace
        self.tracers = []
        self.inputs = {}  # node -> JitTracer

    def input(self, tracer):
        j = self.inputs.get(tracer.node)
        if j is None:
            value = tracer.value
            if type(value) in TRACER_TYPES:
                raise NotReplayable("the step closes over a value traced by a further "
                                    "transform (a derivative of a derivative)", quiet=True)
            j = self.inputs[tracer.node] = self.trace.new_input(value)
            self.tracers.append(tracer)
        return j

    def slots(self):
        return [self.inputs[t.node].slot for t in self.tracers]

    def values(self):
        return [t.value for t in self.tracers]


class _Pause(Detour):
    """The enclosing trace's detour while the forward program records: where `Pause` gives a
    tracer's value, this gives the recording's input standing for it."""

    __slots__ = ("touched", "closure")

    def __init__(self, touched, closure):
        self.touched, self.closure = touched, closure

    def translate(self, tracer):
        self.touched[tracer.node] = None
        return self.closure.input(tracer)


class _Substitute(Substitute):
    """Replay's detour while the joint program records: a tracer stands for an input of the
    private tape whose value is the recording's input for it."""

    __slots__ = ("closure",)

    def __init__(self, tape, touched, frozen, closure):
        super().__init__(tape, touched, frozen)
        self.closure = closure

    def translate(self, tracer):
        sub = self.table.get(tracer.node)
        if sub is None:
            if self.frozen and tracer.node not in self.touched:
                return super().translate(tracer)  # (raises: the recomputation differs)
            self.touched[tracer.node] = None
            sub = self.table[tracer.node] = self.tape.new_input(self.closure.input(tracer))
        return sub


def _recording(run, leaves):
    """`run(trace, closure, inputs)` under a new JitTrace whose inputs stand for `leaves`:
    (trace, closure, inputs, result). Raises NotReplayable if the recording is impure."""
    jt = JitTrace()
    np_state, rng = np.random.get_state(), _random.get_all_states()
    try:
        closure = _Closure(jt)
        ins = [jt.new_input(v) for v in leaves]
        with draws.recording(jt):
            result = run(jt, closure, ins)
    except BaseException:
        release(jt.held)
        raise
    finally:
        jt.close()
    if jt.impure is None and not _same_np_state(np_state, np.random.get_state()):
        jt.impure = "it draws from numpy.random (draw from gnp.random, whose draws replay)"
    if jt.impure is not None:  # the eager step runs instead, drawing what it would have
        release(jt.held)
        np.random.set_state(np_state)
        _random.set_all_states(rng)
        raise NotReplayable(jt.impure, quiet="outer transform" in jt.impure)
    return jt, closure, ins, result


def _slots(jt, leaves):
    out = []
    for x in leaves:
        if type(x) is JitTracer and x._trace is jt:
            out.append(x.slot)
        elif type(x) in TRACER_TYPES:
            raise NotReplayable("the step returns a value traced by another transform",
                                quiet=True)
        else:
            out.append((None, x))
    return out


def _raw(jt, x):
    return x._raw if type(x) is JitTracer and x._trace is jt else x


def _replayable_leaves(leaves):
    """Arrays only: a Python number stays one in an eager step (NEP 50 weak typing), which a
    recording's 0-d input would not; a tracer belongs to a further transform."""
    for v in leaves:
        if not hasattr(v, "dtype") or type(v) in TRACER_TYPES:
            return False
    return True


def _same_leaves(a, b, exact):
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if not hasattr(x, "dtype") or not hasattr(y, "dtype"):
            if not (x == y or (x != x and y != y)):
                return False
            continue
        if x.shape != y.shape or x.dtype != y.dtype:
            return False
        xp = backend.namespace(x, y)
        nan = x.dtype.kind in "fc"
        if exact or not nan:
            if not bool(xp.array_equal(x, y, equal_nan=nan)):
                return False
        elif not bool(xp.allclose(x, y, equal_nan=True)):
            return False
    return True


def _same_state(a, b):
    if type(a) is not type(b):
        return False
    if type(a) in (tuple, list):
        return len(a) == len(b) and all(_same_state(x, y) for x, y in zip(a, b))
    if type(a) is dict:
        return a.keys() == b.keys() and all(_same_state(a[k], b[k]) for k in a)
    if hasattr(a, "shape"):
        return a.shape == b.shape and bool((a == b).all())
    return bool(a == b)


# ---- grad(jit(f)) -----------------------------------------------------------------------------

def differentiated_call(jitted, args, kwargs, leaves, treedef):
    """`jitted(*args, **kwargs)` under the innermost reverse trace: the forward part of f's
    joint program now, a tape entry whose VJP runs its backward part (api.DIFFERENTIATED);
    NotImplemented where it does not apply (other transforms, nested derivatives, Python
    numbers among the arguments)."""
    trace = innermost_trace()
    if not isinstance(trace, ReverseTrace) or not trace.active:
        return NotImplemented
    positions, primal, wanted, nodes = [], [], [], []
    for k, x in enumerate(leaves):
        if x is _Static:
            continue
        if type(x) in TRACER_TYPES:
            if (type(x) is not ReverseTracer or x._trace is not trace
                    or type(x.value) in TRACER_TYPES or not differentiable(x)):
                return NotImplemented
            nodes.append(x.node)
            x = x.value
            wanted.append(True)
        else:
            wanted.append(False)
        if not hasattr(x, "dtype"):
            return NotImplemented
        positions.append(k)
        primal.append(x)
    statics, kw_static = jitted.static_parts(args, kwargs)
    key = (treedef, statics, kw_static, tuple(_leaf_key(x) for x in primal), tuple(wanted))
    try:
        owner = jitted._vjp.get(key, False)
    except TypeError:  # unhashable statics: as the plain call
        return NotImplemented
    if owner is None:  # recorded, not replayable
        return NotImplemented
    out_tree = []

    def fun(boxed):
        full = list(leaves)
        for k, v in zip(positions, boxed):
            full[k] = v
        dyn_args, dyn_kwargs = tree_unflatten(treedef, full)
        call_args = tuple(args[i] if a is _Static else a for i, a in enumerate(dyn_args))
        call_kwargs = dict(kwargs)
        call_kwargs.update(dyn_kwargs)
        out_leaves, tree = tree_flatten(jitted.fun(*call_args, **call_kwargs))
        out_tree.append(tree)
        return out_leaves

    rng = _random.get_all_states()
    if owner is False:
        try:
            joint = _record_joint(trace, {}, fun, primal, False, wanted, None)[0]
            if joint.tracers:
                raise NotReplayable("it closes over traced values (pass them as arguments)",
                                    quiet=True)
        except NotReplayable as exc:
            _random.set_all_states(rng)
            jitted._vjp[key] = None
            if not exc.quiet:
                warnings.warn(f"jit({_name(jitted.fun)}) under grad: not replayed, since {exc}. "
                              f"It runs eagerly on every call with these argument shapes.",
                              stacklevel=4)
            return NotImplemented
        owner = jitted._vjp[key] = _Differentiated(out_tree[0])
        owner.primary = owner.joints[joint.pattern] = joint
        _random.set_all_states(rng)  # the recording drew; the replay draws the same again
    kept = _Kept(owner, owner.primary, primal, trace, {}, fun, False, wanted)
    entry = _Entry(kept, [k for k, w in enumerate(wanted) if w])
    outs, entry.wrapped = record_region(trace, entry, nodes, kept.values())
    entry.n_out = len(outs)
    return tree_unflatten(owner.out_tree, outs)


class _Differentiated(StepPrograms):
    """The joint programs of a differentiated jitted function, and its output tree."""

    __slots__ = ("out_tree",)

    def __init__(self, out_tree):
        super().__init__()
        self.out_tree = out_tree


class _Entry:
    """The tape entry of a differentiated jitted call (checkpoint's `record_region`)."""

    __slots__ = ("kept", "parents", "wrapped", "n_out")

    def __init__(self, kept, parents):
        self.kept, self.parents = kept, parents
        self.wrapped, self.n_out = [], 0

    def backward(self, g):
        out_cots = [None] * self.n_out
        for i, gi in zip(self.wrapped, g):
            out_cots[i] = gi
        in_cots = self.kept.backprop(None, out_cots)[0]
        return [in_cots[k] for k in self.parents]
