"""The forward values of a fused group, computed only when read, chunk by chunk.

An elementwise op that joins a group on NumPy arrays (of `config.fusion_forward_min_size`
elements or more) is not computed when it is called: its tracer is a `LazyTracer` (below)
holding a `Pending` (the group and the instruction). Whatever reads the
value (a non-elementwise op, `float(x)`, printing, the end of the transform) computes that
value alone: the instructions it depends on run with NumPy, on chunks of `CHUNK` elements,
and only the value asked for is written out in full. So the forward
pass of a chain of k ops holds the arrays the code keeps, not k intermediates, and the chunks
stay in the cache: `where(x > 0, z*z, 0.1*z)` needs z, both branches and the mask at once when
NumPy computes it op by op (4.3x size(x)), one output here.

It is the same computation as the eager one: the same NumPy functions on the same operands,
elementwise, so the values are equal (chunking does not change an elementwise result; the
operands cannot have changed since the op was called, as the arrays handed to traced ops are
read-only until the tape is done with them: gpuad/readonly.py), and
NumPy's floating-point warnings still name the op (under NumPy's default error state, which is
the only one lazy recording accepts: see `lazy_allowed`). Values computed earlier and still
alive are read instead of recomputed. Measured (benchmarks/fusion.py, 10^7 float32): the
cheap chain's value_and_grad takes 0.95x NumPy's value time at a 2.3x process peak, against
0.98x and 4.2x with eager forward values; below ~2^20 elements the chunks' Python overhead
costs more than it saves, hence `config.fusion_forward_min_size`.

Only the values are lazy: what an op *is* (its shape, dtype, broadcasting errors) is decided
when it is called, as in eager mode.
"""
import numpy as np

from ..reverse import ReverseTracer
from ..trace import TRACER_TYPES, Tracer

# elements per chunk: a few chunks of float64 fit in a core's L2 cache; of 2^12 ... 2^18, the
# fastest forward pass at 10^7 and 2^20 elements (2^15-2^16 within noise of each other)
CHUNK = 1 << 15

_DEFAULT_ERRSTATE = {"divide": "warn", "over": "warn", "under": "ignore", "invalid": "warn"}


_value_slot = Tracer.__dict__["value"]  # the slot itself, under LazyTracer's property


class LazyTracer(ReverseTracer):
    """A result of a fused elementwise group that is not computed yet (this module).

    Its shape and dtype are known; reading `value` (which everything but the fused ops does)
    computes it and turns the tracer into a plain `ReverseTracer`, in place. The trace computes
    the lazy tracers still alive when it closes, so none outlives the transform that made it.
    """

    __slots__ = ()

    @property
    def value(self):
        value = _value_slot.__get__(self).compute()
        _value_slot.__set__(self, value)
        self.__class__ = ReverseTracer
        return value

    def pending(self):
        return _value_slot.__get__(self)

    shape = property(lambda self: _value_slot.__get__(self).meta.shape)
    dtype = property(lambda self: _value_slot.__get__(self).meta.dtype)
    ndim = property(lambda self: len(_value_slot.__get__(self).meta.shape))
    size = property(lambda self: _value_slot.__get__(self).meta.size)


TRACER_TYPES.add(LazyTracer)


def lazy_allowed():
    """Lazy values only under NumPy's default error state: under `np.errstate(all='raise')`
    (or 'ignore', or a call) the eager op must meet that state where it is called."""
    return np.geterr() == _DEFAULT_ERRSTATE


class Pending:
    """The value of instruction `index` of `group`, not computed yet; `meta` is its shape and
    dtype."""

    __slots__ = ("group", "index", "meta")

    def __init__(self, group, index, meta):
        self.group, self.index, self.meta = group, index, meta

    def compute(self):
        value = evaluate(self.group, self.index)
        self.group.keep_computed(self.index, value)
        return value


def _chunks(shape):
    """Index tuples covering `shape` in pieces of at most ~CHUNK elements (whole trailing axes,
    a range of one axis, single positions of the axes before it)."""
    inner, axis = 1, len(shape)
    while axis > 0 and inner * shape[axis - 1] <= CHUNK:
        axis -= 1
        inner *= shape[axis]
    if axis == 0:
        yield ()
        return
    axis -= 1
    step = max(1, CHUNK // inner)
    for lead in np.ndindex(*shape[:axis]):
        for start in range(0, shape[axis], step):
            yield lead + (slice(start, min(start + step, shape[axis])),)


def _aligned(a, ndim):
    """`a` with leading axes of length 1 up to `ndim` (a view), so chunks index it like the
    group's values."""
    a = np.asarray(a)
    return a.reshape((1,) * (ndim - a.ndim) + a.shape) if a.ndim < ndim else a


def _piece(a, index):
    """The part of `a` (aligned, possibly broadcast) that meets the chunk `index`."""
    if not index:
        return a
    shape = a.shape
    return a[tuple((0 if shape[d] == 1 else i) if type(i) is int
                   else (slice(None) if shape[d] == 1 else i)
                   for d, i in enumerate(index))]


def evaluate(group, k):
    """Instruction k's value as a new array of the group's shape and dtype."""
    known = {}
    for j, ref in group.computed.items():
        value = ref()
        if value is not None and j != k:
            known[j] = value
    order = group.forward_order([k], known)
    ndim = len(group.shape)
    inputs = [_aligned(x, ndim) if hasattr(x, "shape") else x for x in group.inputs]
    known = {j: _aligned(v, ndim) for j, v in known.items()}
    out = np.empty(group.shape, dtype=group.dtype)
    with np.errstate(**_DEFAULT_ERRSTATE):
        for index in _chunks(group.shape):
            pieces = [_piece(x, index) if hasattr(x, "shape") else x for x in inputs]
            out[index] = group.run(order, (k,), pieces,
                                   {j: _piece(v, index) for j, v in known.items()})[k]
    return out
