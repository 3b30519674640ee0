"""Functions that call a Python function over an array: apply_along_axis, apply_over_axes,
fromfunction, vectorize.

They are Python loops over slices (or elements) of the arguments, as NumPy's are, with the
slices taken and the results stacked by differentiable ops: whatever the function does with gnp
ops on its traced slices is differentiated. They cost one call of the function per slice, so
they are for small arrays or expensive functions; on large arrays write the function with
whole-array gnp ops (or use `ga.vmap`).
"""
import re

import numpy as np

from .. import backend
from ..trace import primal_value
from .creation import asarray
from .helpers import shape_of
from .indexing import getitem
from .manipulation import stack
from .shapes import astype, broadcast_to, expand_dims, moveaxis, reshape


def _array(a):
    return a if hasattr(a, "shape") and hasattr(a, "dtype") else asarray(a)


def _stacked(results, shape, dtype=None):
    """The results (all of one shape) stacked and shaped `shape + result shape`, cast to
    `dtype` (default: the first result's, as NumPy fills a buffer of that dtype)."""
    results = [_array(r) for r in results]
    dtype = primal_value(results[0]).dtype if dtype is None else np.dtype(dtype)
    out = reshape(stack(results), tuple(shape) + shape_of(results[0]))
    return out if out.dtype == dtype else astype(out, dtype)


def apply_along_axis(func1d, axis, arr, *args, **kwargs):
    """`numpy.apply_along_axis`: func1d on every 1-D slice of arr along `axis`; the slices'
    results replace that axis (a 0-d result removes it). Differentiable where func1d is."""
    arr = _array(arr)
    shape = shape_of(arr)
    axis = int(axis) % max(len(shape), 1)
    moved = moveaxis(arr, axis, -1)
    outer = shape_of(moved)[:-1]
    if 0 in outer:
        raise ValueError(f"apply_along_axis: the array of shape {shape} has no slices along "
                         f"axis {axis} (an iteration dimension is 0)")
    results = [func1d(getitem(moved, index), *args, **kwargs) for index in np.ndindex(*outer)]
    out = _stacked(results, outer)
    core = len(shape_of(out)) - len(outer)
    return moveaxis(out, tuple(range(len(outer), len(outer) + core)),
                    tuple(range(axis, axis + core)))


def apply_over_axes(func, a, axes):
    """`numpy.apply_over_axes`: a = func(a, axis) for each axis in turn, the axis kept (size 1)
    when func removes it. Differentiable where func is."""
    value = _array(a)
    ndim = len(shape_of(value))
    for axis in (axes,) if np.ndim(axes) == 0 else axes:
        axis = int(axis) + ndim if axis < 0 else int(axis)
        result = func(value, axis)
        if len(shape_of(result)) != ndim:
            result = expand_dims(result, axis)
        if len(shape_of(result)) != ndim:
            raise ValueError(f"apply_over_axes: the function returned shape "
                             f"{shape_of(result)} for an array of {ndim} dimensions")
        value = result
    return value


def fromfunction(function, shape, *, dtype=float, like=None, **kwargs):
    """`numpy.fromfunction`: function(*indices) with one index grid per dimension of `shape`
    (on the default backend); the result is whatever the function makes of them."""
    grids = backend.default_namespace().indices(tuple(shape), dtype=dtype)
    return function(*grids, **kwargs)


_DIMS = r"\((?:\w+(?:,\s*\w+)*)?\)"


def _parse_signature(signature):
    """'(m,n),(n)->(m)' -> ([('m', 'n'), ('n',)], [('m',)])."""
    spec = signature.replace(" ", "")
    match = re.fullmatch(rf"({_DIMS}(?:,{_DIMS})*)->({_DIMS}(?:,{_DIMS})*)", spec)
    if match is None:
        raise ValueError(f"vectorize: not a valid gufunc signature: {signature!r}")

    def groups(text):
        return [tuple(d for d in g.split(",") if d) for g in re.findall(r"\(([\w,]*)\)", text)]
    return groups(match.group(1)), groups(match.group(2))


class vectorize:
    """`numpy.vectorize`: call `pyfunc` element by element (or core slice by core slice, with a
    gufunc `signature` such as "(n),(n)->()") over broadcast arguments.

    The elements are 0-d arrays (traced ones inside grad), so pyfunc may use gnp ops and the
    result is differentiable through them. Outputs take the first call's dtype (or `otypes`).
    `excluded` positions and keyword names are passed through unchanged. Usable as a decorator,
    also with keywords: `@gnp.vectorize(signature="(n)->()")`.
    """

    def __init__(self, pyfunc=None, otypes=None, doc=None, excluded=None, cache=False,
                 signature=None):
        if pyfunc is not None and not callable(pyfunc):
            raise TypeError(f"vectorize: pyfunc must be callable, got {type(pyfunc).__name__}")
        self.pyfunc = pyfunc
        self.otypes = None if otypes is None else [np.dtype(t) for t in otypes]
        self.excluded = set(excluded or ())
        self.signature = signature
        self._core = None if signature is None else _parse_signature(signature)
        self.__doc__ = doc if doc is not None else getattr(pyfunc, "__doc__", None)

    def __call__(self, *args, **kwargs):
        if self.pyfunc is None:  # the decorator form: @vectorize(otypes=...)
            (self.pyfunc,) = args
            self.__doc__ = self.__doc__ or getattr(self.pyfunc, "__doc__", None)
            return self
        positions = [i for i in range(len(args)) if i not in self.excluded]
        names = [k for k in kwargs if k not in self.excluded]
        operands = [_array(args[i]) for i in positions] + [_array(kwargs[k]) for k in names]

        def call(slices):
            call_args, call_kwargs = list(args), dict(kwargs)
            for i, s in zip(positions, slices):
                call_args[i] = s
            for k, s in zip(names, slices[len(positions):]):
                call_kwargs[k] = s
            return self.pyfunc(*call_args, **call_kwargs)

        if self._core is None:
            core_in = [()] * len(operands)
        else:
            core_in, _ = self._core
            if len(core_in) != len(operands):
                raise TypeError(f"vectorize: the signature {self.signature!r} takes "
                                f"{len(core_in)} arguments, got {len(operands)}")
        loop_shapes, core_shapes, sizes = [], [], {}
        for x, dims in zip(operands, core_in):
            shape = shape_of(x)
            if len(shape) < len(dims):
                raise ValueError(f"vectorize: an argument of shape {shape} has fewer than the "
                                 f"{len(dims)} core dimensions {dims} of {self.signature!r}")
            core = shape[len(shape) - len(dims):]
            for d, n in zip(dims, core):
                if sizes.setdefault(d, n) != n:
                    raise ValueError(f"vectorize: core dimension {d!r} is {sizes[d]} in one "
                                     f"argument and {n} in another")
            loop_shapes.append(shape[:len(shape) - len(dims)])
            core_shapes.append(core)
        loop = np.broadcast_shapes(*loop_shapes)
        operands = [broadcast_to(x, loop + core) for x, core in zip(operands, core_shapes)]
        if 0 in loop:
            return self._empty(loop, sizes)
        results = [call([getitem(x, index) for x in operands]) for index in np.ndindex(*loop)]
        return self._assemble(results, loop, sizes)

    def _outputs(self):
        return None if self._core is None else self._core[1]

    def _assemble(self, results, loop, sizes):
        core_out = self._outputs()
        multiple = isinstance(results[0], tuple) if core_out is None else len(core_out) != 1
        columns = list(zip(*results)) if multiple else [results]
        if core_out is not None and len(columns) != len(core_out):
            raise ValueError(f"vectorize: the function returned {len(columns)} outputs; the "
                             f"signature {self.signature!r} has {len(core_out)}")
        outs = []
        for k, column in enumerate(columns):
            if core_out is not None:
                expected = len(core_out[k])
                got = shape_of(_array(column[0]))
                if len(got) != expected:
                    raise ValueError(f"vectorize: output {k} has shape {got}, not the "
                                     f"{expected} core dimensions {core_out[k]}")
            dtype = self.otypes[k] if self.otypes else None
            outs.append(_stacked(column, loop, dtype))
        return tuple(outs) if multiple else outs[0]

    def _empty(self, loop, sizes):
        if not self.otypes:
            raise ValueError("vectorize: cannot call vectorize on size-0 inputs unless "
                             "`otypes` is set")
        xp = backend.default_namespace()
        core_out = self._outputs() or [()] * len(self.otypes)
        outs = [xp.empty(loop + tuple(sizes.get(d, 0) for d in dims), dtype=t)
                for dims, t in zip(core_out, self.otypes)]
        return tuple(outs) if len(outs) > 1 else outs[0]

