"""Traced arrays behave like arrays: operators, properties, methods and NumPy's protocols.

Attached to `gpuad.trace.Tracer` when `gpuad.numpy` is imported (its `__init__` calls
`attach` with itself, so this module never imports the package), so `trace.py` stays about
tracing only. Two NumPy protocols make plain NumPy calls work on tracers too:

* `__array_ufunc__`: `np.sin(x)` or `ndarray + x` on a tracer runs `gnp.sin` / `gnp.add`, and
  the ufunc methods gpuad has run their gnp equivalent: `np.add.reduce(x, axis=0)` is
  `gnp.sum(x, 0)` (`multiply`: prod, `maximum`: max, `minimum`: min), `np.add.accumulate` is
  `gnp.cumsum` (`multiply`: cumprod), `ufunc.outer(a, b)` broadcasts `a` against `b`.
* `__array_function__`: `np.sum(x)`, `np.linalg.inv(x)` run the gpuad function of the same name.

A NumPy function or ufunc method gpuad does not have, `out=` (a traced array is immutable, and a
buffer cannot hold a derivative) and the in-place `ufunc.at` raise TypeError naming the call and
the alternative, rather than silently dropping the derivative through `np.asarray(x)`. SciPy's
ufuncs reach `__array_ufunc__` too: one gpuad.scipy.special has is named in the error.
"""
import importlib
import operator
import sys

import numpy as np

from ..trace import Tracer, concrete_value, primal_value, staged_trace
from . import indexing as _indexing
from . import reductions as _reductions

gnp = None  # the gpuad.numpy namespace, given to `attach` once the package has imported it all


def _r(fn):
    """The reflected operator: `other op self`."""
    return lambda self, other: fn(other, self)


def _no_setitem(self, idx, value):
    raise TypeError(
        "traced arrays are immutable: `x[idx] = v` would change a value the derivative was "
        "recorded against. Write `x = x.at[idx].set(v)` (or `.add(v)` to accumulate); "
        "rebinding such as `x = x + 1` or `x += 1` is fine.")


def _no_inplace(name):
    def method(self, *args, **kwargs):
        raise TypeError(f"traced arrays are immutable: x.{name}() modifies x in place. Use "
                        f"the functional form gnp.{name}(x) or x.at[...] instead.")
    return method


def _array(self, dtype=None, copy=None):
    recording = staged_trace(self)
    if recording is not None:  # NumPy wants the value (np.asarray, np.arange(n), a shape...)
        raise recording.concretization_error("a conversion to a NumPy array (np.asarray, or a "
                                            "NumPy function given the traced array)")
    raise TypeError(
        "a traced array cannot be converted to a NumPy array: that would drop its derivative. "
        "Use gpuad.numpy functions (import gpuad.numpy as gnp) on it, or ga.stop_gradient(x) "
        "if you mean to use its value as a constant.")


_UFUNC_NAMES = {"absolute": "absolute", "true_divide": "divide", "conjugate": "conjugate",
                "remainder": "remainder", "matmul": "matmul"}


_ufunc_cache = {}


def _array_ufunc(self, ufunc, method, *inputs, **kwargs):
    if method == "__call__" and not kwargs:  # np.sin(x), ndarray * x: the common case
        fn = _ufunc_cache.get(ufunc)
        if fn is None:
            fn = _ufunc_cache[ufunc] = _gnp_ufunc(ufunc, method)
        return fn(*inputs)
    if kwargs.get("out") is not None:
        raise TypeError(
            f"{_ufunc_call(ufunc, method)} with out=: traced arrays are immutable, and an "
            f"output buffer cannot hold a derivative. Use the returned value instead: "
            f"y = np.{ufunc.__name__}(x), not np.{ufunc.__name__}(x, out=y).")
    kwargs.pop("out", None)
    if method == "__call__":
        fn = _gnp_ufunc(ufunc, method)
        if kwargs:
            raise TypeError(f"numpy.{ufunc.__name__} on a traced array: keyword arguments "
                            f"{sorted(kwargs)} are not supported; call gnp.{fn.__name__} "
                            f"instead.")
        return fn(*inputs)
    method_fn = _UFUNC_METHODS.get(method)
    if method_fn is None:
        raise TypeError(f"{_ufunc_call(ufunc, method)} on a traced array has no differentiable "
                        f"version in gpuad.")
    return method_fn(ufunc, *inputs, **kwargs)


def _ufunc_call(ufunc, method):
    return f"numpy.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")


def _gnp_ufunc(ufunc, method):
    """The gnp function of a ufunc, or TypeError saying where gpuad has it, if anywhere."""
    name = _UFUNC_NAMES.get(ufunc.__name__, ufunc.__name__)
    fn = getattr(gnp, name, None)
    if fn is not None:
        return fn
    scipy_names = _scipy_special_names(ufunc)
    if scipy_names:
        called = "scipy.special." + " (or ".join(scipy_names) + ")" * (len(scipy_names) - 1)
        home = _gpuad_scipy_special()
        ours = [n for n in scipy_names if getattr(home, n, None) is not None] if home else []
        if ours:
            raise TypeError(f"{called} was called on a traced array: SciPy's ufunc computes on "
                            f"NumPy arrays only. Call its differentiable version "
                            f"gpuad.scipy.special.{ours[0]}(x) instead.")
        raise TypeError(f"{called} has no differentiable version in gpuad.scipy.special; apply "
                        f"it to ga.stop_gradient(x) if no derivative is needed.")
    raise TypeError(f"{_ufunc_call(ufunc, method)} has no differentiable version in gpuad.numpy; "
                    f"apply it to ga.stop_gradient(x) if no derivative is needed.")


def _scipy_special_names(ufunc):
    """The names under which scipy.special exports `ufunc`, its own first (SciPy's ufuncs
    have no __module__ to tell them from NumPy's; `digamma` is the ufunc `psi`); [] if it is
    not SciPy's."""
    special = sys.modules.get("scipy.special")
    if special is None or getattr(np, ufunc.__name__, None) is ufunc:
        return []
    names = sorted((n for n in dir(special)
                    if not n.startswith("_") and getattr(special, n) is ufunc),
                   key=lambda n: n != ufunc.__name__)
    return names


def _gpuad_scipy_special():
    try:
        return importlib.import_module("gpuad.scipy.special")
    except ImportError:
        return None


# ---- ufunc methods: np.add.reduce(x) is gnp.sum(x, axis=0), and so on ---------------------

_REDUCTIONS = {"add": _reductions.sum, "multiply": _reductions.prod, "maximum": _reductions.max,
               "minimum": _reductions.min, "logical_and": _reductions.all,
               "logical_or": _reductions.any}
_ACCUMULATIONS = {"add": _reductions.cumsum, "multiply": _reductions.cumprod}
_WITH_DTYPE = (_reductions.sum, _reductions.prod, _reductions.cumsum, _reductions.cumprod)


def _supported(ufunc, method, table):
    fn = table.get(ufunc.__name__)
    if fn is None:
        have = ", ".join(f"{name}.{method} (gnp.{f.__name__})" for name, f in table.items())
        raise TypeError(f"{_ufunc_call(ufunc, method)} on a traced array has no differentiable "
                        f"version in gpuad, which has {have}. Write the {method} with gpuad.numpy "
                        f"operations, or apply it to ga.stop_gradient(x) if no derivative is "
                        f"needed.")
    return fn


def _unsupported_keywords(ufunc, method, kwargs, allowed):
    extra = sorted(k for k in kwargs if k not in allowed)
    if extra:
        raise TypeError(f"{_ufunc_call(ufunc, method)} on a traced array: keyword arguments "
                        f"{extra} are not supported.")


def _reduce(ufunc, x, axis=0, dtype=None, keepdims=False, **kwargs):
    """`ufunc.reduce`: NumPy's default axis is 0, not all axes as for gnp.sum."""
    fn = _supported(ufunc, "reduce", _REDUCTIONS)
    _unsupported_keywords(ufunc, "reduce", kwargs, ())
    if fn in _WITH_DTYPE:
        return fn(x, axis, dtype, keepdims=keepdims)
    if dtype is not None:
        raise TypeError(f"numpy.{ufunc.__name__}.reduce on a traced array: dtype is not "
                        f"supported; cast with x.astype(dtype) first.")
    return fn(x, axis, keepdims=keepdims)


def _accumulate(ufunc, x, axis=0, dtype=None, **kwargs):
    fn = _supported(ufunc, "accumulate", _ACCUMULATIONS)
    _unsupported_keywords(ufunc, "accumulate", kwargs, ())
    return fn(x, axis, dtype)


def _outer(ufunc, a, b, **kwargs):
    """`ufunc.outer(a, b)[i..., j...] = ufunc(a[i...], b[j...])`: a broadcast against b with
    b.ndim new axes."""
    fn = _gnp_ufunc(ufunc, "outer")
    _unsupported_keywords(ufunc, "outer", kwargs, ())
    a_shape = tuple(a.shape) if hasattr(a, "shape") else np.shape(a)
    b_ndim = len(b.shape) if hasattr(b, "shape") else np.ndim(b)
    return fn(gnp.reshape(a, a_shape + (1,) * b_ndim), b)


def _at(ufunc, a, indices, b=None, **kwargs):
    update = {"add": "add(v)"}.get(ufunc.__name__)
    fix = (f"x = x.at[idx].{update} (gnp.at(x)[idx].{update} for a plain array x), which "
           f"accumulates at repeated indices as np.add.at does" if update else
           "gpuad's functional updates x.at[idx].set(v) and .add(v) (for a plain array x, "
           "gnp.at(x)[idx]...), e.g. x = x.at[idx].set(x[idx] * v) with distinct indices")
    raise TypeError(f"numpy.{ufunc.__name__}.at modifies its first argument in place: traced "
                    f"arrays are immutable, and a plain array cannot hold a derivative. Use "
                    f"{fix}.")


def _reduceat(ufunc, x, indices, **kwargs):
    reduction = _REDUCTIONS.get(ufunc.__name__)
    each = f"gnp.{reduction.__name__}(x[i:j])" if reduction else "the reduction of x[i:j]"
    raise TypeError(f"numpy.{ufunc.__name__}.reduceat on a traced array has no differentiable "
                    f"version in gpuad; reduce each slice and stack the results: "
                    f"gnp.stack([{each} for i, j in zip(starts, ends)]).")


_UFUNC_METHODS = {"reduce": _reduce, "accumulate": _accumulate, "outer": _outer, "at": _at,
                  "reduceat": _reduceat}


def _array_function(self, func, types, args, kwargs):
    module = getattr(func, "__module__", "") or ""
    target = gnp
    if module.startswith("numpy.linalg"):
        target = gnp.linalg
    elif module.startswith("numpy.fft"):
        target = getattr(gnp, "fft", None)
    fn = getattr(target, func.__name__, None) if target is not None else None
    if fn is None or fn is func:
        raise TypeError(f"{module}.{func.__name__} was called on a traced array and has no "
                        f"differentiable version in gpuad.numpy. Use a gpuad.numpy function, or "
                        f"ga.stop_gradient(x) if no derivative is needed.")
    return fn(*args, **kwargs)


def _reshape(self, *shape, order="C"):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return gnp.reshape(self, shape, order)


def _transpose(self, *axes):
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    return gnp.transpose(self, axes or None)


def _iter(self):
    n = len(self)
    for i in range(n):
        yield self[i]


def _len(self):
    s = self.shape
    if not s:
        raise TypeError("len() of a 0-d traced array")
    return s[0]


def _format(self, spec):
    return format(primal_value(self), spec)


def attach(namespace):
    """Give `Tracer` the operators, methods and properties of an array, each calling the
    function of the same meaning in `namespace` (gpuad.numpy, which calls this last)."""
    global gnp
    gnp = namespace
    T = Tracer
    ops = {
        "__add__": gnp.add, "__radd__": _r(gnp.add),
        "__sub__": gnp.subtract, "__rsub__": _r(gnp.subtract),
        "__mul__": gnp.multiply, "__rmul__": _r(gnp.multiply),
        "__truediv__": gnp.divide, "__rtruediv__": _r(gnp.divide),
        "__pow__": lambda x, y: gnp.square(x) if (type(y) is int and y == 2) else gnp.power(x, y),
        "__rpow__": _r(gnp.power),
        "__matmul__": gnp.matmul, "__rmatmul__": _r(gnp.matmul),
        "__mod__": gnp.mod, "__rmod__": _r(gnp.mod),
        "__floordiv__": lambda x, y: gnp.floor(gnp.divide(x, y)),
        "__rfloordiv__": lambda x, y: gnp.floor(gnp.divide(y, x)),
        "__neg__": gnp.negative, "__pos__": gnp.positive, "__abs__": gnp.absolute,
        "__lt__": gnp.less, "__le__": gnp.less_equal, "__gt__": gnp.greater,
        "__ge__": gnp.greater_equal, "__eq__": gnp.equal, "__ne__": gnp.not_equal,
        "__and__": gnp.logical_and, "__or__": gnp.logical_or, "__invert__": gnp.logical_not,
        "__getitem__": _indexing.getitem, "__setitem__": _no_setitem,
        "__len__": _len, "__iter__": _iter,
        "__bool__": lambda self: bool(concrete_value(self, "bool()")),
        "__float__": lambda self: float(concrete_value(self, "float()")),
        "__int__": lambda self: int(concrete_value(self, "int()")),
        "__complex__": lambda self: complex(concrete_value(self, "complex()")),
        "__index__": lambda self: operator.index(concrete_value(self, "operator.index()")),
        "__format__": _format,
        "__array__": _array,
        "__array_ufunc__": _array_ufunc,
        "__array_function__": _array_function,
        "__hash__": object.__hash__,
        "item": lambda self, *args: concrete_value(self, "x.item()").item(*args),
        "tolist": lambda self: concrete_value(self, "x.tolist()").tolist(),
        # methods
        "sum": lambda self, axis=None, dtype=None, keepdims=False: gnp.sum(self, axis, dtype,
                                                                          keepdims=keepdims),
        "mean": lambda self, axis=None, dtype=None, keepdims=False: gnp.mean(self, axis, dtype,
                                                                            keepdims=keepdims),
        "prod": lambda self, axis=None, dtype=None, keepdims=False: gnp.prod(self, axis, dtype,
                                                                            keepdims=keepdims),
        "max": lambda self, axis=None, keepdims=False: gnp.max(self, axis, keepdims=keepdims),
        "min": lambda self, axis=None, keepdims=False: gnp.min(self, axis, keepdims=keepdims),
        "var": lambda self, axis=None, dtype=None, ddof=0, keepdims=False: gnp.var(
            self, axis, dtype, ddof, keepdims),
        "std": lambda self, axis=None, dtype=None, ddof=0, keepdims=False: gnp.std(
            self, axis, dtype, ddof, keepdims),
        "cumsum": lambda self, axis=None: gnp.cumsum(self, axis),
        "cumprod": lambda self, axis=None: gnp.cumprod(self, axis),
        "reshape": _reshape,
        "transpose": _transpose,
        "ravel": lambda self, order="C": gnp.ravel(self, order),
        "flatten": lambda self, order="C": gnp.ravel(self, order),
        "squeeze": lambda self, axis=None: gnp.squeeze(self, axis),
        "swapaxes": gnp.swapaxes,
        "dot": gnp.dot,
        "astype": lambda self, dtype, copy=True: gnp.astype(self, dtype),
        "clip": lambda self, min=None, max=None: gnp.clip(self, min, max),
        "conj": gnp.conjugate, "conjugate": gnp.conjugate,
        "copy": gnp.copy,
        "diagonal": gnp.diagonal, "trace": gnp.trace,
        "repeat": gnp.repeat, "take": gnp.take,
        "round": lambda self, decimals=0: gnp.round(self, decimals),
        "argmax": lambda self, axis=None: gnp.argmax(self, axis),
        "argmin": lambda self, axis=None: gnp.argmin(self, axis),
        "argsort": lambda self, axis=-1: gnp.argsort(self, axis),
        "all": lambda self, axis=None: gnp.all(self, axis),
        "any": lambda self, axis=None: gnp.any(self, axis),
        "nonzero": lambda self: gnp.nonzero(self),
        "sort": _no_inplace("sort"), "fill": _no_inplace("fill"),
        "resize": _no_inplace("resize"), "put": _no_inplace("put"),
    }
    for name, fn in ops.items():
        setattr(T, name, fn)
    props = {
        "shape": lambda self: self.value.shape,
        "dtype": lambda self: self.value.dtype,
        "ndim": lambda self: self.value.ndim,
        "size": lambda self: self.value.size,
        "T": lambda self: gnp.transpose(self),
        "mT": lambda self: gnp.matrix_transpose(self),
        "real": lambda self: gnp.real(self),
        "imag": lambda self: gnp.imag(self),
        "at": lambda self: _indexing.at(self),
    }
    for name, fn in props.items():
        setattr(T, name, property(fn))
