"""Index computations: positions, orderings, bins and index grids, read off primal values.

Indices carry no derivative. Each function returns NumPy's (or CuPy's) answer for the primal
values of traced arguments, as a plain integer array or tuple, so it can index a traced array
(`x[gnp.argwhere(x > 0)[:, 0]]` is differentiable in x through the indexing).
"""
import numpy as np

from .. import backend
from ..trace import TRACER_TYPES, nondiff, primal_value
from .define import passthrough
from .helpers import shape_of
from .indexing import getitem

argwhere = passthrough("argwhere")
argpartition = passthrough("argpartition")
digitize = passthrough("digitize")
lexsort = passthrough("lexsort")
unravel_index = passthrough("unravel_index")
ravel_multi_index = passthrough("ravel_multi_index")
ix_ = passthrough("ix_")


def _namespace_of(arr):
    raw = primal_value(arr)
    return backend.namespace(raw) if hasattr(raw, "shape") else np


def _diag_indices_from(arr):
    shape = shape_of(arr)
    if len(shape) < 2:
        raise ValueError(f"diag_indices_from: the array must be at least 2-D, got shape {shape}")
    if len(set(shape)) != 1:
        raise ValueError(f"diag_indices_from: all dimensions must be equal, got shape {shape}")
    return _namespace_of(arr).diag_indices(shape[0], len(shape))


def _triangle_indices_from(name, lower):
    def indices_from(arr, k=0):
        shape = shape_of(arr)
        if len(shape) != 2:
            raise ValueError(f"{name}: the array must be 2-D, got shape {shape}")
        xp = _namespace_of(arr)
        make = xp.tril_indices if lower else xp.triu_indices
        return make(shape[0], k, shape[1])
    indices_from.__doc__ = (f"`numpy.{name}`: the indices of the {'lower' if lower else 'upper'}"
                            f" triangle of a 2-D array of `arr`'s shape, on its device.")
    return indices_from


diag_indices_from = nondiff(_diag_indices_from, "diag_indices_from")
tril_indices_from = nondiff(_triangle_indices_from("tril_indices_from", True),
                            "tril_indices_from")
triu_indices_from = nondiff(_triangle_indices_from("triu_indices_from", False),
                            "triu_indices_from")


def _mask_indices(n, mask_func, k=0):
    """`numpy.mask_indices`: the indices where `mask_func(ones((n, n)), k)` is nonzero (e.g.
    `gnp.triu`), on the default backend."""
    xp = backend.default_namespace()
    mask = primal_value(mask_func(xp.ones((n, n), dtype=int), k))
    return xp.nonzero(mask != 0)


mask_indices = nondiff(_mask_indices, "mask_indices")


def _einsum_path(subscripts, *operands, optimize="greedy", einsum_call=False):
    # The path depends on the operands' shapes only: zero-size host stand-ins of the same shapes
    # let NumPy plan it for traced and CuPy operands alike.
    if isinstance(subscripts, str):
        stand_ins = [np.broadcast_to(np.empty((), dtype=getattr(o, "dtype", float)),
                                     shape_of(o)) for o in operands]
        return np.einsum_path(subscripts, *stand_ins, optimize=optimize,
                              einsum_call=einsum_call)
    raise TypeError("einsum_path: give the subscripts as a string (the interleaved "
                    "operand/sublist form is not supported)")


einsum_path = nondiff(_einsum_path, "einsum_path")
einsum_path.__doc__ = ("`numpy.einsum_path`: NumPy's contraction order for operands of these "
                       "shapes (a list and a printable report).")


class ndenumerate:
    """`numpy.ndenumerate`: pairs `(index, x[index])` in C order.

    For a traced array the elements are traced 0-d arrays, so a loop over them stays
    differentiable; for a plain array they are NumPy's (or CuPy's) scalars.
    """

    def __init__(self, arr):
        self.arr = arr

    def __iter__(self):
        arr = self.arr
        if type(arr) in TRACER_TYPES:
            return ((index, getitem(arr, index)) for index in np.ndindex(*shape_of(arr)))
        if backend.is_cupy_array(arr):
            return ((index, arr[index]) for index in np.ndindex(*arr.shape))
        return iter(np.ndenumerate(arr))
