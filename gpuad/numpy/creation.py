"""Array creation and conversion. Results carry no derivative, except where a traced value goes
in: `asarray`/`array` of traced values, `full`/`full_like` with a traced fill value, and
`linspace`/`logspace`/`geomspace` with traced endpoints (or base) are differentiable in them.

Functions with no array argument create on the default backend (`gpuad.backend`); the `*_like`
functions create where their argument lives.
"""
import operator

import numpy as np

from .. import backend
from ..trace import TRACER_TYPES, concrete_value, namespace_of, nondiff, primal_value
from .elementwise import floor, log10, power, sign
from .helpers import holds_tracer, shape_of
from .indexing import at_set
from .shapes import asarray_traced, astype, broadcast_to, expand_dims, moveaxis, reshape


def _default():
    return backend.default_namespace()


def _like(name):
    def create(a, *args, **kwargs):
        return getattr(_namespace(a), name)(_stand_in(a), *args, **kwargs)
    create.__name__ = name
    create.__doc__ = f"`numpy.{name}` on the array's own device (a constant)."
    return create


def _namespace(a):
    return namespace_of(a) if hasattr(a, "shape") else _default()


def _stand_in(a):
    """What a `*_like` function reads off `a`: its primal, or for a tracer an array of the
    tracer's own shape (one example's under vmap, where the primal holds the whole batch)."""
    if type(a) in TRACER_TYPES:  # (its shape and dtype, never its value: see namespace_of)
        return _namespace(a).empty(a.shape, a.dtype)
    return a


def on_default_backend(name):
    """`numpy.<name>` called on the default backend's namespace (creation functions without
    array arguments: their results are constants)."""
    def create(*args, **kwargs):
        try:
            return getattr(_default(), name)(*args, **kwargs)
        except TypeError:
            # a traced size or shape (`zeros(n)` of a computed n): say what the value is used
            # for (ConcretizationError while ga.jit records) instead of NumPy's message
            for a in list(args) + list(kwargs.values()):
                for v in (a if isinstance(a, (tuple, list)) else (a,)):
                    if type(v) in TRACER_TYPES:
                        concrete_value(v, f"use in {name}() as a shape or size")
            raise
    create.__name__ = name
    create.__doc__ = f"`numpy.{name}` on the default backend (a constant)."
    return create


zeros = on_default_backend("zeros")
ones = on_default_backend("ones")
empty = on_default_backend("empty")
arange = on_default_backend("arange")
eye = on_default_backend("eye")
identity = on_default_backend("identity")
tri = on_default_backend("tri")
zeros_like = _like("zeros_like")
ones_like = _like("ones_like")
empty_like = _like("empty_like")


# ---- filled arrays: differentiable in a traced fill value -------------------------------------
def full(shape, fill_value, dtype=None, order="C", **kwargs):
    """`numpy.full`; a traced `fill_value` (a scalar, an array broadcasting to `shape`, or a list
    holding traced values) keeps its derivative: each element's cotangent is summed back onto
    the fill value it came from."""
    if not holds_tracer(fill_value):
        return _default().full(shape, fill_value, dtype=dtype, order=order, **kwargs)
    return _filled(shape, fill_value, dtype)


def full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, **kwargs):
    """`numpy.full_like` on `a`'s device, in `a`'s dtype unless `dtype` is given; a traced
    `fill_value` keeps its derivative (see `full`). A cast to an integer dtype, as NumPy's
    makes of `full_like(int_array, 1.5)`, gives a constant."""
    raw = _stand_in(a)
    if not holds_tracer(fill_value):
        return _namespace(a).full_like(raw, fill_value, dtype=dtype, order=order, subok=subok,
                                       shape=shape, **kwargs)
    if dtype is None:
        dtype = raw.dtype if hasattr(raw, "dtype") else np.asarray(raw).dtype
    return _filled(shape_of(raw) if shape is None else shape, fill_value, dtype)


def _filled(shape, fill_value, dtype):
    fill = asarray_traced(fill_value, dtype)
    shape = (operator.index(shape),) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return broadcast_to(fill, shape)


# ---- sequences: differentiable in traced endpoints -------------------------------------------
def _sequence_args(*args):
    """Endpoints as NumPy's `_array_converter` sees them: Python numbers stay Python numbers (weak
    in promotion: a float32 start with stop=2.0 makes a float32 sequence), the rest arrays."""
    return [a if type(a) in (int, float, complex) else asarray_traced(a) for a in args]


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, **kwargs):
    """`numpy.linspace`, differentiable in `start` and `stop` (scalars or arrays, traced or not).

    The values are NumPy's, computed by the same steps: `start + arange(num) * step`, with
    `step = (stop - start) / (num - 1)` (`/ num` without the endpoint) and the last element
    set to `stop` exactly. An integer `dtype` floors the values, which then carry no derivative.
    `retstep=True` returns the (traced) step as well.
    """
    if not (holds_tracer(start) or holds_tracer(stop)):
        return _default().linspace(start, stop, num, endpoint, retstep, dtype, axis, **kwargs)
    num = operator.index(num)
    if num < 0:
        raise ValueError(f"linspace: number of samples, {num}, must be non-negative")
    start, stop = _sequence_args(start, stop)
    dt = np.result_type(primal_value(start), primal_value(stop), 0.0)  # inexact, NEP 50
    start, stop = asarray_traced(start, dt), asarray_traced(stop, dt)
    delta = stop - start
    div = num - 1 if endpoint else num
    xp = namespace_of(delta)
    y = xp.arange(0, num, dtype=dt).reshape((-1,) + (1,) * len(shape_of(delta)))
    if div > 0:
        step = delta / div
        # NumPy's order for denormal steps (gh-5437); under vmap decided for the whole batch
        # (the two orders differ only in rounding)
        if bool(xp.any(primal_value(step) == 0)):
            y = (y / div) * delta
        else:
            y = y * step
    else:
        step = float("nan")
        y = y * delta
    y = y + start
    if endpoint and num > 1:
        y = at_set(y, stop, -1)
    if axis != 0:
        y = moveaxis(y, 0, axis)
    if dtype is not None:
        if np.issubdtype(dtype, np.integer):
            y = floor(y)
        y = astype(y, dtype)
    return (y, step) if retstep else y


def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    """`numpy.logspace`: `base ** linspace(start, stop)`, differentiable in `start`, `stop` and
    `base` (an array `base` broadcasts against the endpoints, as in NumPy)."""
    if not (holds_tracer(start) or holds_tracer(stop) or holds_tracer(base)):
        return _default().logspace(start, stop, num, endpoint, base, dtype, axis)
    if not isinstance(base, (int, float)) and len(shape_of(asarray_traced(base))):
        start, stop, base = _sequence_args(start, stop, base)
        ndim = len(np.broadcast_shapes(*[shape_of(a) for a in (start, stop, base)]))
        start, stop, base = [reshape(asarray_traced(a), (1,) * (ndim - len(shape_of(a)))
                                     + tuple(shape_of(a))) for a in (start, stop, base)]
        base = expand_dims(base, axis)
    y = linspace(start, stop, num=num, endpoint=endpoint, axis=axis)
    out = power(base, y)
    return out if dtype is None else astype(out, dtype)


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """`numpy.geomspace`, differentiable in `start` and `stop` (real of either sign, or complex).

    NumPy's steps: both endpoints rotated onto the positive reals by the sign of `start` (a
    constant: the result does not depend on it), a `logspace` between their logarithms, the
    endpoints put back exactly, the rotation undone.
    """
    if not (holds_tracer(start) or holds_tracer(stop)):
        return _default().geomspace(start, stop, num, endpoint, dtype, axis)
    num = operator.index(num)
    start, stop = asarray_traced(start), asarray_traced(stop)
    xp = namespace_of(start, stop)
    if bool(xp.any(primal_value(start) == 0)) or bool(xp.any(primal_value(stop) == 0)):
        raise ValueError("geomspace: a geometric sequence cannot include zero")
    dt = np.result_type(primal_value(start), primal_value(stop), float(num),
                        np.zeros((), dtype))
    start, stop = astype(start, dt), astype(stop, dt)
    out_sign = sign(start)
    start, stop = start / out_sign, stop / out_sign
    result = logspace(log10(start), log10(stop), num=num, endpoint=endpoint, base=10.0, dtype=dt)
    if num > 0:
        result = at_set(result, start, 0)
        if num > 1 and endpoint:
            result = at_set(result, stop, -1)
    result = result * out_sign
    if axis != 0:
        result = moveaxis(result, 0, axis)
    return astype(result, dtype) if dtype is not None else result


def asarray(a, dtype=None):
    """An array on the default backend, or `a` itself if it is already one (or traced).

    Traced values stay traced (a cast to a floating dtype keeps the derivative); nested lists
    holding traced values are stacked, differentiably, with the dtype NumPy gives them (see
    `asarray_traced`). NumPy arrays move to the GPU when CuPy is the default backend: this is
    the explicit way to put host data on the device.
    """
    if holds_tracer(a):
        return asarray_traced(a, dtype)
    xp = _default()
    if xp is not np and isinstance(a, np.ndarray):
        return xp.asarray(a, dtype=dtype)
    if backend.is_cupy_array(a):
        return a if dtype is None else a.astype(dtype, copy=False)
    return xp.asarray(a, dtype=dtype)


def array(object, dtype=None, copy=True):
    """`numpy.array` on the default backend; traced values keep their derivative (see asarray)."""
    if holds_tracer(object):
        return asarray_traced(object, dtype)
    out = asarray(object, dtype)
    if copy and out is object:
        out = out.copy()
    return out


def _np_fn(name):
    def call(*args, **kwargs):
        arrays = [a for a in args if hasattr(a, "shape")]
        xp = backend.namespace(*arrays) if arrays else _default()
        return getattr(xp, name)(*args, **kwargs)
    return nondiff(call, name)


indices = _np_fn("indices")
diag_indices = _np_fn("diag_indices")
tril_indices = _np_fn("tril_indices")
triu_indices = _np_fn("triu_indices")
