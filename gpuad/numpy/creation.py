"""Array creation and conversion. Results carry no derivative, except `asarray`/`array` of traced
values, which keep theirs.

Functions with no array argument create on the default backend (`gpuad.backend`); the `*_like`
functions create where their argument lives.
"""
import numpy as np

from .. import backend
from ..trace import TRACER_TYPES, nondiff, primal_value
from .elementwise import floor, log10, power, sign
from .manipulation import (_holds_tracer, _shape_of, asarray_traced, astype, at_set,
                           broadcast_to, expand_dims, moveaxis, reshape)


def _default():
    return backend.default_namespace()


def _like(name):
    def create(a, *args, **kwargs):
        raw = primal_value(a)
        xp = backend.namespace(raw) if hasattr(raw, "shape") else _default()
        return getattr(xp, name)(raw, *args, **kwargs)
    create.__name__ = name
    create.__doc__ = f"`numpy.{name}` on the array's own device (a constant)."
    return create


def _fresh(name):
    def create(*args, **kwargs):
        return getattr(_default(), name)(*args, **kwargs)
    create.__name__ = name
    create.__doc__ = f"`numpy.{name}` on the default backend (a constant)."
    return create


zeros = _fresh("zeros")
ones = _fresh("ones")
empty = _fresh("empty")
full = _fresh("full")
arange = _fresh("arange")
linspace = _fresh("linspace")
logspace = _fresh("logspace")
geomspace = _fresh("geomspace")
eye = _fresh("eye")
identity = _fresh("identity")
tri = _fresh("tri")
zeros_like = _like("zeros_like")
ones_like = _like("ones_like")
empty_like = _like("empty_like")
full_like = _like("full_like")


def _contains_tracer(obj):
    if type(obj) in TRACER_TYPES:
        return True
    if isinstance(obj, (list, tuple)):
        return any(_contains_tracer(o) for o in obj)
    return False


def _stack_nested(obj, dtype):
    if isinstance(obj, (list, tuple)):
        return stack([_stack_nested(o, dtype) for o in obj])
    if type(obj) in TRACER_TYPES:
        return obj if dtype is None else astype(obj, dtype)
    return asarray(obj, dtype=dtype)


def asarray(a, dtype=None):
    """An array on the default backend, or `a` itself if it is already one (or traced).

    Traced values stay traced (a cast to a floating dtype keeps the derivative); nested lists
    holding traced values are stacked, differentiably, with the dtype NumPy gives them (see
    `asarray_traced`). NumPy arrays move to the GPU when CuPy is the default backend: this is
    the explicit way to put host data on the device.
    """
    if _holds_tracer(a):
        return asarray_traced(a, dtype)
    xp = _default()
    if xp is not np and isinstance(a, np.ndarray):
        return xp.asarray(a, dtype=dtype)
    if backend.is_cupy_array(a):
        return a if dtype is None else a.astype(dtype, copy=False)
    return xp.asarray(a, dtype=dtype)


def array(object, dtype=None, copy=True):
    """`numpy.array` on the default backend; traced values keep their derivative (see asarray)."""
    if _holds_tracer(object):
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
