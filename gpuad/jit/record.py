"""Recording a function for `ga.jit`: a trace at the lowest level whose tracers stand for the
arguments, and which writes down every raw-array call made on them.

`JitTrace` is a trace like `grad`'s, opened below every transform the function opens itself.
Each primitive that reaches it (the function's own ops, and those of the `grad`/`vjp` sweeps
it runs: the rules are written with gpuad.numpy ops, so the backward pass reaches it too) is
run at once on the raw values, exactly as an eager call would run it, and appended to the
program as one step `(impl, input slots, output slot(s), params)`. A *slot* is a position in the
replay's list of values: the arguments, constants (arrays the function closes over, Python
numbers, arrays a rule made) and the result of every step.

Values the Python program could read from the arguments would be baked into the recording, so
the tracers refuse every conversion (`bool`, `float`, `int`, `__index__`, `.item()`, use as a
shape) with `ga.ConcretizationError` (gpuad/trace.py calls `concretization_error`). Ops without
derivative (comparisons, argmax; `nondiff` in gpuad/trace.py) reach `apply_nondiff` and are
steps too; since some give results whose shape depends on the values (nonzero, unique), the
replay checks their shapes against the recording and raises ConcretizationError on a change.

A rule that reads a tracer's value on the host (`primal_value(x)` to compute a sign, a shift,
a mask in NumPy) would bake this call's constant into every replay. So a JitTracer's raw value
is reachable only through its `value` property, which *taints* the recording (`JitTrace.taint`,
noting the reading function and line); the trace's own code reads the private `_raw`. A tainted
recording is not replayed (gpuad/jit/api.py runs that signature eagerly). Metadata (shape,
dtype, namespace: `trace.namespace_of`, `raw_shape`) is read without tainting, and so is a
value only compared by a check (`trace.value_for_check`, the recompute check of checkpointed
loops). This costs nothing outside jit: only JitTracer has the property.

Random draws (`gnp.random`, `RandomState`, `Generator`) are not primitives: while recording,
`sampling.next_stream` and the generators' `_draw` are replaced by versions that run the
draw and record a step which, on replay, draws again from the state as it is then and advances
it. So the random state is an implicit input and output of every replay, and a replay draws
exactly what the eager call in its place would have drawn.
"""
import functools
import os
import sys

import numpy as np

from .. import backend
from .. import trace as _trace_module
from ..readonly import hold
from ..trace import (
    BATCH_TRACER_TYPES,
    EMPTY,
    STAGED_TRACER_TYPES,
    TRACER_TYPES,
    ConcretizationError,
    Trace,
    Tracer,
    as_value,
)

_GPUAD_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_TRACE_FILE = os.path.abspath(_trace_module.__file__)


class JitTracer(Tracer):
    """A value of the function being recorded: its recording-time value and its `slot`.

    The raw value sits in the private slot `_raw`; `value` is a property that, while the
    recording runs, *taints* it (`JitTrace.taint`): whoever reads a recording tracer's raw array
    (a rule's `primal_value`, `as_constant`, a walker of tracer towers) may compute a constant
    from this one call's values that the program cannot see, so a tainted recording is never
    replayed. Shape, dtype and namespace are metadata, the same on every replay: reading them
    does not taint. Nothing outside gpuad/jit reads `_raw`.
    """

    __slots__ = ("slot", "_raw")

    def __init__(self, value, trace, slot):
        self._raw = value
        self._trace = trace
        self.slot = slot

    @property
    def value(self):
        trace = self._trace
        if trace.active and trace.tainted is None:
            trace.taint(sys._getframe(1))
        return self._raw

    def peek(self):
        """The value without tainting, for checks only (trace.value_for_check)."""
        return self._raw

    shape = property(lambda self: self._raw.shape)
    dtype = property(lambda self: self._raw.dtype)
    ndim = property(lambda self: self._raw.ndim)
    size = property(lambda self: self._raw.size)
    xp = property(lambda self: backend.namespace(self._raw))

    def __repr__(self):
        return f"JitTracer(slot={self.slot}, shape={self.shape}, dtype={self.dtype})"


TRACER_TYPES.add(JitTracer)
# Like vmap's tracers, a recording's tracers change what a value *is* (a stand-in for any
# call's value), so ops without derivative keep them (`strip_derivatives`) and hand them to
# `apply_nondiff` instead of reading the recording's values as constants.
BATCH_TRACER_TYPES.add(JitTracer)
STAGED_TRACER_TYPES.add(JitTracer)


class _Hole:
    """Where the value of input `k` goes in a call template (`_fill`)."""

    __slots__ = ("k",)

    def __init__(self, k):
        self.k = k


def _fill(template, vals):
    t = type(template)
    if t is _Hole:
        return vals[template.k]
    if t is tuple or t is list:
        return t(_fill(x, vals) for x in template)
    if t is dict:
        return {k: _fill(v, vals) for k, v in template.items()}
    return template


class TemplateCall:
    """`fn(*args, **kwargs)` with the recording's tracers, wherever they sat in nested lists,
    tuples and dicts, replaced by the step's inputs (index tuples, nondiff arguments)."""

    __slots__ = ("fn", "args", "kwargs", "name")

    def __init__(self, fn, args, kwargs, name):
        self.fn, self.args, self.kwargs, self.name = fn, args, kwargs, name

    def __call__(self, *vals):
        return self.fn(*_fill(self.args, vals), **_fill(self.kwargs, vals))

    def __repr__(self):
        return f"TemplateCall({self.name})"


def _user_line():
    """' (file:line)' of the innermost frame outside gpuad: where the user's code converted."""
    frame = sys._getframe(2)
    while frame is not None:
        path = os.path.abspath(frame.f_code.co_filename)
        if not path.startswith(_GPUAD_DIR + os.sep):
            return f" at {frame.f_code.co_filename}:{frame.f_lineno}"
        frame = frame.f_back
    return ""


class JitTrace(Trace):
    """Records the raw-array calls made on its tracers (see the module docstring)."""

    __slots__ = ("steps", "consts", "const_slots", "count", "held", "impure", "checks",
                 "tainted")

    def __init__(self):
        super().__init__()
        self.steps = []  # (impl, input slots, output slot or tuple of slots, params)
        self.consts = {}  # slot -> constant value (kept alive, so ids stay unique)
        self.const_slots = {}  # id(value) -> slot
        self.count = 0
        self.held = []  # constant NumPy arrays kept read-only while the program lives
        self.impure = None  # why the recording cannot be replayed (then it is not cached)
        self.checks = {}  # step index -> output shapes to verify on replay (nondiff steps)
        self.tainted = None  # where a tracer's raw value was first read (JitTracer.value)

    # ---- slots ---------------------------------------------------------------------------------
    def new_slot(self):
        slot = self.count
        self.count = slot + 1
        return slot

    def new_input(self, value):
        return JitTracer(as_value(value), self, self.new_slot())

    def const(self, value):
        slot = self.const_slots.get(id(value))
        if slot is None:
            slot = self.new_slot()
            self.consts[slot] = value
            self.const_slots[id(value)] = slot
            if isinstance(value, np.ndarray):
                hold(value, self.held)
        return slot

    def taint(self, frame):
        """A tracer's raw value was read (JitTracer.value) from `frame`: say where, once."""
        self.tainted = _where(frame)
        if self.impure is None:
            self.impure = (f"{self.tainted} read the recording-time value of a traced array, "
                           f"which a replay could not update")

    def concretization_error(self, conversion, fixes=None):
        if fixes is None:
            fixes = ("pass that argument with static_argnums=/static_argnames= if it is a "
                     "setting (the cache then keys on its value); choose with gnp.where(cond, "
                     "a, b) instead of a Python `if`; loop a fixed number of times with "
                     "ga.checkpoint.scan instead of a Python loop on the value; or call the "
                     "function without ga.jit.")
        return ConcretizationError(
            f"{conversion} of a value computed from the arguments of a function being recorded "
            f"by ga.jit{_user_line()}: the recording would keep this call's value, and every "
            f"replay would follow it (a branch, a shape, a loop count). Fixes: {fixes}")

    # ---- recording -----------------------------------------------------------------------------
    def _record(self, impl, ins, ans, params, multiple, check=False):
        if multiple:
            outs = tuple(self.new_slot() for _ in ans)
            results = tuple(JitTracer(a, self, o) for a, o in zip(ans, outs))
        else:
            outs = self.new_slot()
            results = JitTracer(ans, self, outs)
        if check:
            values = ans if multiple else (ans,)
            self.checks[len(self.steps)] = tuple(getattr(a, "shape", None) for a in values)
        self.steps.append((impl, tuple(ins), outs, params))
        return results

    def _inputs(self, args):
        """Slots of `args`; None if one is a tracer of another trace (an outer transform's
        value the function closes over: the recording then cannot be replayed)."""
        ins, vals = [], []
        for a in args:
            if type(a) is JitTracer and a._trace is self:
                ins.append(a.slot)
                vals.append(a._raw)
            elif type(a) in TRACER_TYPES:
                a = self._resolve(a)
                if a is None:
                    return None, None
                ins.append(a.slot)
                vals.append(a._raw)
            else:
                ins.append(self.const(a))
                vals.append(a)
        return ins, vals

    def _resolve(self, a):
        """The tracer of this recording that `a`, a tracer of a paused trace, stands for, or
        None. `scan(..., jit=True)` pauses the enclosing trace with a detour that makes its
        tracers (the weights a step closes over) inputs of the step's recording
        (gpuad/jit/steps.py); any other detour gives values, which stay foreign."""
        t = a._trace
        if t.active or t.detour is None:
            return None
        r = t.detour.resolve(a)
        return r if type(r) is JitTracer and r._trace is self else None

    def _resolve_tree(self, obj):
        def one(x):
            if type(x) in TRACER_TYPES and not (type(x) is JitTracer and x._trace is self):
                r = self._resolve(x)
                return x if r is None else r
            return x
        return _map_tree(one, obj)

    def process(self, prim, args, params):
        ins, vals = self._inputs(args)
        if params and self._holds_foreign(params):
            params = self._resolve_tree(params)
        if ins is None or (params and self._holds_foreign(params)):
            return self._unreplayable(prim, args, params)
        if params and self._holds_ours(params):
            return self._record_template(prim.impl, args, params, prim.name, prim.multiple_results,
                                         check=False, index=True)
        if params:
            self._hold_arrays(params)
        # an array operand, first or last (`1.0 - s`), makes `scalar_aware` call its ufunc:
        # the step calls the ufunc itself (five such calls in each LSTM step's joint program)
        impl = (prim.array_impl if vals and (type(vals[0]) is np.ndarray
                                             or type(vals[-1]) is np.ndarray) else prim.impl)
        ans = impl(*vals, **params)
        return self._record(impl, ins, ans, params if params else EMPTY, prim.multiple_results)

    def apply_nondiff(self, fn, args, kwargs):
        """An op without derivative (comparison, argmax, mask...) on this trace's tracers."""
        if self._holds_foreign((args, kwargs)):
            args, kwargs = self._resolve_tree((args, kwargs))
        if self._holds_foreign((args, kwargs)):
            return self._unreplayable(None, args, kwargs, fn=fn)
        return self._record_template(fn, args, kwargs, getattr(fn, "__name__", "op"), None,
                                     check=True)

    def _record_template(self, fn, args, kwargs, name, multiple, check, index=False):
        found = []
        targs = self._template(args, found)
        tkw = self._template(kwargs, found)
        if index:
            for t in found:
                if t._raw.dtype == np.bool_:
                    raise ConcretizationError(
                        f"{name}: indexing with a boolean mask computed from the arguments of a "
                        f"function being recorded by ga.jit{_user_line()}: the number of "
                        f"elements it selects depends on the values. Use gnp.where(mask, x, 0) "
                        f"(or a sum of gnp.where) instead.")
        call = TemplateCall(fn, targs, tkw, name)
        ans = call(*[t._raw for t in found])
        if multiple is None:  # a nondiff function: its result says what it is
            multiple = type(ans) in (tuple, list)
            for a in (ans if multiple else (ans,)):
                if not hasattr(a, "shape"):
                    raise self.concretization_error(f"{name}() giving a Python "
                                                    f"{type(a).__name__}")
            if multiple:
                ans = tuple(ans)
        return self._record(call, [t.slot for t in found], ans, EMPTY, multiple, check=check)

    def _template(self, obj, found):
        t = type(obj)
        if t is JitTracer and obj._trace is self:
            found.append(obj)
            return _Hole(len(found) - 1)
        if t is tuple or t is list:
            return t(self._template(x, found) for x in obj)
        if t is dict:
            return {k: self._template(v, found) for k, v in obj.items()}
        if isinstance(obj, np.ndarray):
            hold(obj, self.held)
        return obj

    def _hold_arrays(self, obj):
        if isinstance(obj, np.ndarray):
            hold(obj, self.held)
        elif type(obj) in (tuple, list):
            for x in obj:
                self._hold_arrays(x)
        elif type(obj) is dict:
            for x in obj.values():
                self._hold_arrays(x)

    def _holds_ours(self, obj):
        t = type(obj)
        if t is JitTracer:
            return obj._trace is self
        if t is tuple or t is list:
            return any(self._holds_ours(x) for x in obj)
        if t is dict:
            return any(self._holds_ours(x) for x in obj.values())
        return False

    def _holds_foreign(self, obj):
        t = type(obj)
        if t in TRACER_TYPES:
            return not (t is JitTracer and obj._trace is self)
        if t is tuple or t is list:
            return any(self._holds_foreign(x) for x in obj)
        if t is dict:
            return any(self._holds_foreign(x) for x in obj.values())
        return False

    def _unreplayable(self, prim, args, params, fn=None):
        """An op on a tracer of an outer transform (the function closes over one, e.g. `jit`
        called inside `grad` on a closure): run it through that transform; the recording is
        marked impure, so this call's result is returned and nothing is cached."""
        self.impure = "the function uses a value traced by an outer transform (a closure)"
        unwrap = functools.partial(_strip_own, self)
        args = _map_tree(unwrap, args)
        params = _map_tree(unwrap, params)
        # the result holds the outer tracers, so what uses it comes back here too
        return fn(*args, **params) if fn is not None else prim.bind(*args, **params)


def _where(frame):
    """'function (file:line)' of the innermost frame outside gpuad/trace.py (where the tracer
    towers are walked): the rule or helper that read the value; and the user's line."""
    while frame is not None and os.path.abspath(frame.f_code.co_filename) == _TRACE_FILE:
        frame = frame.f_back
    if frame is None:
        return "an op"
    path = os.path.relpath(os.path.abspath(frame.f_code.co_filename), os.path.dirname(_GPUAD_DIR))
    where = f"{frame.f_code.co_name} ({path}:{frame.f_lineno})"
    user = frame
    while user is not None and os.path.abspath(user.f_code.co_filename).startswith(
            _GPUAD_DIR + os.sep):
        user = user.f_back
    if user is not None and user is not frame:
        where += f", called at {user.f_code.co_filename}:{user.f_lineno}"
    return where


def _strip_own(trace, x):
    return x._raw if type(x) is JitTracer and x._trace is trace else x


def _map_tree(fn, obj):
    t = type(obj)
    if t is tuple or t is list:
        return t(_map_tree(fn, x) for x in obj)
    if t is dict:
        return {k: _map_tree(fn, v) for k, v in obj.items()}
    return fn(obj)
