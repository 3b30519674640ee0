"""Set operations: unique and its array-API forms, intersect1d, union1d, setdiff1d, setxor1d.

Which elements survive (and their order) is read off the primal values; the surviving values
are then gathered from the input with `take`, so they are differentiable: each unique value
stands for the first element of the input equal to it, which receives its cotangent. (Equal
elements are a kink of the set function, like ties in `max`; the first occurrence is NumPy's
`return_index`.) Plain inputs run NumPy's (or CuPy's) function directly.

The result's size depends on the values, so vmap cannot batch these (a clear error).
"""
from collections import namedtuple

from ..trace import TRACER_TYPES, namespace_of, primal_value
from .creation import asarray
from .helpers import refuse_vmap
from .indexing import getitem, sort, take
from .manipulation import concatenate
from .shapes import ravel

UniqueAllResult = namedtuple("UniqueAllResult", "values indices inverse_indices counts")
UniqueCountsResult = namedtuple("UniqueCountsResult", "values counts")
UniqueInverseResult = namedtuple("UniqueInverseResult", "values inverse_indices")


def _traced(*xs):
    return any(type(x) in TRACER_TYPES for x in xs)


def _xp(*xs):
    return namespace_of(*xs)


def _operand(a):
    """An array (nested lists holding tracers are stacked, differentiably)."""
    return a if hasattr(a, "shape") else asarray(a)


def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None, *,
           equal_nan=True, sorted=True):
    """`numpy.unique`, differentiable in the values it returns (see the module doc).

    Args:
      ar: an array; flattened unless `axis` is given (then unique slices along it).
      return_index, return_inverse, return_counts, equal_nan, sorted: as in NumPy.

    Returns:
      the unique values, followed (in a tuple) by the requested integer arrays.

    Example:
      >>> ga.grad(lambda x: gnp.sum(gnp.unique(x)))(np.array([3.0, 1.0, 3.0]))
      array([1., 1., 0.])
    """
    ar = _operand(ar)
    extra = {} if sorted else {"sorted": False}  # CuPy's unique has no `sorted`
    if not _traced(ar):
        return _xp(ar).unique(ar, return_index, return_inverse, return_counts, axis,
                              equal_nan=equal_nan, **extra)
    refuse_vmap("unique", ar)
    out = _xp(ar).unique(primal_value(ar), True, return_inverse, return_counts, axis,
                         equal_nan=equal_nan, **extra)
    index = out[1]
    values = take(ravel(ar), index) if axis is None else take(ar, index, axis=axis)
    rest = ([index] if return_index else []) + list(out[2:])
    return (values, *rest) if rest else values


def unique_values(x):
    """`numpy.unique_values`: the distinct values of x (flattened, NaNs kept apart), sorted
    (NumPy leaves the order unspecified since 2.3); differentiable as `unique`."""
    return unique(x, equal_nan=False)


def unique_counts(x):
    """`numpy.unique_counts`: (values, counts), the values differentiable as in `unique`."""
    values, counts = unique(x, return_counts=True, equal_nan=False)
    return UniqueCountsResult(values, counts)


def unique_inverse(x):
    """`numpy.unique_inverse`: (values, inverse_indices of x's shape); see `unique`."""
    x = _operand(x)
    values, inverse = unique(x, return_inverse=True, equal_nan=False)
    return UniqueInverseResult(values, inverse.reshape(x.shape))


def unique_all(x):
    """`numpy.unique_all`: (values, indices, inverse_indices, counts); see `unique`."""
    x = _operand(x)
    values, index, inverse, counts = unique(x, True, True, True, equal_nan=False)
    return UniqueAllResult(values, index, inverse.reshape(x.shape), counts)


def intersect1d(ar1, ar2, assume_unique=False, return_indices=False):
    """`numpy.intersect1d`: the sorted values in both arrays, taken from `ar1` (so only ar1
    receives their cotangent; in ar2 they are matched, not read)."""
    ar1, ar2 = _operand(ar1), _operand(ar2)
    if not _traced(ar1, ar2):
        return _xp(ar1, ar2).intersect1d(ar1, ar2, assume_unique, return_indices)
    refuse_vmap("intersect1d", ar1, ar2)
    _, i1, i2 = _xp(ar1, ar2).intersect1d(primal_value(ar1), primal_value(ar2), assume_unique,
                                          return_indices=True)
    values = take(ravel(ar1), i1)
    return (values, i1, i2) if return_indices else values


def union1d(ar1, ar2):
    """`numpy.union1d`: the sorted values in either array, unique(concatenate(ar1, ar2)), so a
    value in both arrays takes its cotangent to ar1."""
    ar1, ar2 = _operand(ar1), _operand(ar2)
    if not _traced(ar1, ar2):
        return _xp(ar1, ar2).union1d(ar1, ar2)
    return unique(concatenate([ravel(ar1), ravel(ar2)]))


def setdiff1d(ar1, ar2, assume_unique=False):
    """`numpy.setdiff1d`: the (unique, sorted unless assume_unique) values of ar1 not in ar2,
    differentiable in ar1."""
    ar1, ar2 = _operand(ar1), _operand(ar2)
    xp = _xp(ar1, ar2)
    if not _traced(ar1, ar2):
        return xp.setdiff1d(ar1, ar2, assume_unique)
    refuse_vmap("setdiff1d", ar1, ar2)
    kept = ravel(ar1) if assume_unique else unique(ar1)
    return getitem(kept, xp.isin(primal_value(kept), primal_value(ar2), invert=True))


def setxor1d(ar1, ar2, assume_unique=False):
    """`numpy.setxor1d`: the sorted values in exactly one of the arrays, differentiable in both
    (each value comes from the array that holds it)."""
    ar1, ar2 = _operand(ar1), _operand(ar2)
    xp = _xp(ar1, ar2)
    if not _traced(ar1, ar2):
        return xp.setxor1d(ar1, ar2, assume_unique)
    refuse_vmap("setxor1d", ar1, ar2)
    if not assume_unique:
        ar1, ar2 = unique(ar1), unique(ar2)
    merged = sort(concatenate([ravel(ar1), ravel(ar2)]))
    raw = primal_value(merged)
    if raw.size == 0:
        return merged
    differs = raw[1:] != raw[:-1]
    true = xp.ones(1, dtype=bool)
    first = xp.concatenate([true, differs])   # not equal to the previous value
    last = xp.concatenate([differs, true])    # not equal to the next value
    return getitem(merged, first & last)
