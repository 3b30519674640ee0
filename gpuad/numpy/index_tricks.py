"""`r_` and `c_`: NumPy's concatenation by index syntax, differentiable in the pieces.

    gnp.r_[x, 0.0, y[1:], 0:3, 0:1:5j]     # traced pieces, numbers, aranges and linspaces
    gnp.c_[x, y]                           # columns: pieces become 2-D, joined on the last axis

Each entry of the key becomes an array: a slice `a:b:s` is `arange(a, b, s)`, or
`linspace(a, b, n)` for an imaginary step `nj` (whose endpoints may be traced); a Python or
NumPy scalar is a one-element array; anything else is `asarray`'d, given `ndmin` axes and
transposed as `trans1d` says. All are cast to one dtype (Python scalars weak, as in NumPy) and
concatenated along `axis`. A first entry of the string form 'axis', 'axis,ndmin' or
'axis,ndmin,trans1d' changes those three. A key without traced values goes to the backend's own
`r_`/`c_`; with traced values, the matrix directives 'r' and 'c' (which make `numpy.matrix`) and
the matrix-string form `r_['1 2; 3 4']` raise NotImplementedError.
"""
import numpy as np

from .. import backend
from .creation import linspace
from .helpers import holds_tracer, shape_of
from .manipulation import concatenate
from .shapes import asarray_traced, reshape, swapaxes, transpose

_PYTHON_SCALARS = (int, float, complex, bool)


class _Concatenator:
    """NumPy's `AxisConcatenator`: `r_` is (axis 0, ndmin 1), `c_` is (axis -1, ndmin 2,
    trans1d 0)."""

    __slots__ = ("name", "axis", "ndmin", "trans1d")

    def __init__(self, name, axis, ndmin, trans1d):
        self.name, self.axis, self.ndmin, self.trans1d = name, axis, ndmin, trans1d

    def __getitem__(self, key):
        if not holds_tracer(key) and not _traced_slice(key):
            return getattr(backend.default_namespace(), self.name)[key]
        if isinstance(key, str):
            raise NotImplementedError(f"{self.name}: the matrix-string form makes numpy.matrix, "
                                      f"which gpuad does not support")
        key = key if isinstance(key, tuple) else (key,)
        axis, ndmin, trans1d = self.axis, self.ndmin, self.trans1d
        pieces, dtypes = [], []
        for k, item in enumerate(key):
            if isinstance(item, str):
                if k != 0:
                    raise ValueError(f"{self.name}: special directives must be the first entry, "
                                     f"got {item!r} at position {k}")
                axis, ndmin, trans1d = self._directive(item, axis, ndmin, trans1d)
                continue
            if isinstance(item, slice):
                piece = self._range(item)
                if ndmin > 1:
                    piece = reshape(piece, (1,) * (ndmin - 1) + shape_of(piece))
                    if trans1d != -1:
                        piece = swapaxes(piece, -1, trans1d)
                dtypes.append(piece.dtype)
            elif type(item) in _PYTHON_SCALARS or isinstance(item, np.generic):
                piece = item
                dtypes.append(item)  # weak if a Python number, as NumPy's result_type takes it
            else:
                piece = asarray_traced(item)
                piece = self._lift(piece, ndmin, trans1d)
                dtypes.append(piece.dtype)
            pieces.append(piece)
        if not pieces:
            raise ValueError(f"{self.name}: nothing to concatenate")
        dtype = np.result_type(*dtypes)
        pieces = [_at_least(asarray_traced(p, dtype), ndmin) for p in pieces]
        return concatenate(pieces, axis=axis)

    def _directive(self, item, axis, ndmin, trans1d):
        if item in ("r", "c"):
            raise NotImplementedError(f"{self.name}: the directive {item!r} makes numpy.matrix, "
                                      f"which gpuad does not support; leave it out for an "
                                      f"array, or use ndmin directives such as '0,2'")
        parts = item.split(",")
        try:
            numbers = [int(n) for n in parts[:2]]
            if len(parts) == 3:  # more than three entries: NumPy reads the first two only
                trans1d = int(parts[2])
        except ValueError:
            raise ValueError(f"{self.name}: unknown special directive {item!r}; give 'axis', "
                             f"'axis,ndmin' or 'axis,ndmin,trans1d'") from None
        if len(numbers) == 1:
            return numbers[0], ndmin, trans1d
        return numbers[0], numbers[1], trans1d

    def _range(self, item):
        start = 0 if item.start is None else item.start
        step = 1 if item.step is None else item.step
        if isinstance(step, (complex, np.complexfloating)):
            return linspace(start, item.stop, num=int(abs(step)))
        if holds_tracer([start, item.stop, step]):
            raise TypeError(f"{self.name}: a slice with traced bounds and a real step makes an "
                            f"arange, which is a constant; give an imaginary step such as 5j "
                            f"for a differentiable linspace, or ga.stop_gradient the bounds")
        return backend.default_namespace().arange(start, item.stop, step)

    @staticmethod
    def _lift(piece, ndmin, trans1d):
        """`array(piece, ndmin=ndmin)`, with the original axes moved to `trans1d` as NumPy
        does."""
        nd = len(shape_of(piece))
        piece = _at_least(piece, ndmin)
        if trans1d != -1 and nd < ndmin:
            k1, k2 = trans1d, ndmin - nd
            if k1 < 0:
                k1 += k2 + 1
            axes = list(range(ndmin))
            piece = transpose(piece, axes[:k1] + axes[k2:] + axes[k1:k2])
        return piece


def _at_least(a, ndmin):
    shape = shape_of(a)
    return a if len(shape) >= ndmin else reshape(a, (1,) * (ndmin - len(shape)) + shape)


def _traced_slice(key):
    items = key if isinstance(key, tuple) else (key,)
    return any(isinstance(i, slice) and holds_tracer([i.start, i.stop, i.step]) for i in items)


r_ = _Concatenator("r_", 0, 1, -1)
c_ = _Concatenator("c_", -1, 2, 0)
