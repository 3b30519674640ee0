"""Random draws as steps of a recording (see gpuad/jit/record.py).

gnp.random's functions take a stream with `sampling.next_stream` (which advances the global
(seed, counter) state) and call one method of it; `RandomState` and `Generator` draw with their
`_draw(name, ...)`. While a function is recorded, both are replaced (`recording(trace)`): the draw
runs as eagerly, and a step is recorded that on replay draws again from the state as it is
*then*, advancing it as the eager call would. Everything the draw functions do to the raw sample
afterwards (`loc + scale * noise`) is ops on the step's tracer, recorded like any other.
"""
import contextlib

from .. import backend
from ..numpy import random_state, sampling
from ..trace import EMPTY
from .record import TemplateCall

_next_stream = sampling.next_stream  # the originals, called by the steps on replay
_draw = random_state.OwnState._draw
_active = []  # the trace recording now (innermost last); None while a draw runs eagerly
# per recording trace: [the global state the next draw should find, the generators that existed
# when the recording began]. A step replays a draw from the state as it then is, so Python code
# that sets the state (`seed`, `set_state`) or makes a generator inside the function would not
# be replayed: such recordings are marked impure (not cached; correct, only eager).
_expected = {}


def global_draw(xp, method, *args, **kwargs):
    """One draw of gnp.random's global state on replay: what `_next_stream` then
    `stream.<method>(...)` do eagerly."""
    seed, counter = sampling.get_state()
    stream = backend.random_stream(xp, seed, counter)
    sampling.set_state((seed, counter + 1))
    return getattr(stream, method)(*args, **kwargs)


class _RecordingStream:
    """Stands for the stream `_next_stream` gave: its one method call becomes a step."""

    def __init__(self, trace, stream, xp):
        self.trace, self.stream, self.xp = trace, stream, xp

    def __getattr__(self, method):
        def call(*args, **kwargs):
            stream, self.stream = self.stream, None
            if stream is None:
                raise RuntimeError(f"gpuad.jit: a random stream was drawn from twice ({method}); "
                                   f"gnp.random takes one stream per draw")

            def eager(xp, method, *a, **k):  # the stream taken already advanced the state
                return getattr(stream, method)(*a, **k)
            return _record_draw(self.trace, global_draw, eager, (self.xp, method) + args, kwargs,
                                f"random.{method}")
        return call


def _record_draw(trace, replay, eager, args, kwargs, name):
    """Record the step `replay(*args, **kwargs)` (args may hold the trace's tracers, anywhere in
    lists, tuples and dicts); its recording-time value is `eager` called the same way."""
    found = []
    targs, tkw = trace._template(args, found), trace._template(kwargs, found)
    vals = [t._raw for t in found]
    ans = TemplateCall(eager, targs, tkw, name)(*vals)
    multiple = type(ans) is tuple
    return trace._record(TemplateCall(replay, targs, tkw, name), [t.slot for t in found], ans,
                         EMPTY, multiple)


def _without_recording(fn, *args, **kwargs):
    _active.append(None)
    try:
        return fn(*args, **kwargs)
    finally:
        _active.pop()


def _recording_next_stream(like=()):
    trace = _active[-1] if _active else None
    if trace is None:
        return _next_stream(like)
    expected = _expected[id(trace)]
    if sampling.get_state() != expected[0]:
        trace.impure = "the function sets gnp.random's state (seed, set_state) before a draw"
    stream, xp = _next_stream(like)
    expected[0] = sampling.get_state()
    return _RecordingStream(trace, stream, xp), xp


def _recording_draw(self, name, *args, **kwargs):
    trace = _active[-1] if _active else None
    if trace is None:
        return _draw(self, name, *args, **kwargs)
    if self not in _expected[id(trace)][1]:
        trace.impure = f"the function draws from a {type(self).__name__} it made itself"

    def eager(generator, name, *a, **k):
        return _without_recording(_draw, generator, name, *a, **k)
    # the program keeps the generator: it is the state its replays draw from
    return _record_draw(trace, _draw, eager, (self, name) + args, kwargs,
                        f"{type(self).__name__}.{name}")


@contextlib.contextmanager
def recording(trace):
    """Draws made in the block become steps of `trace`'s program."""
    _active.append(trace)
    _expected[id(trace)] = [sampling.get_state(), sampling.registered_generators()]
    if len(_active) == 1:
        sampling.next_stream = _recording_next_stream
        random_state.OwnState._draw = _recording_draw
    try:
        yield
    finally:
        _active.pop()
        if sampling.get_state() != _expected.pop(id(trace))[0]:
            trace.impure = "the function sets gnp.random's state (seed, set_state)"
        if not _active:
            sampling.next_stream = _next_stream
            random_state.OwnState._draw = _draw

