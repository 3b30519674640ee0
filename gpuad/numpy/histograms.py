"""Counting into bins: bincount, histogram, histogram2d, histogramdd, histogram_bin_edges.

Which bin each sample falls in is read off the primal values (the counts are piecewise constant
in the samples: derivative 0). What is differentiable:

* the weights: a weighted count is the sum of the weights in the bin (`x.at[bin].add(w)`);
* the bin edges, where NumPy computes them from the data (an int or str `bins`, no `range`):
  they are `linspace(min(a), max(a), n + 1)`, so they move with the smallest and largest sample,
  and a density (which divides by the bin widths) moves with them;
* edges given as a traced array, which are returned as they are.

Values are NumPy's own: the counts and edges are NumPy's results, with the derivative added on.
The number of bins can depend on the values, so vmap cannot batch these (a clear error).
"""
import builtins

import numpy as np

from .. import backend
from ..trace import TRACER_TYPES, primal_value, strip_derivatives
from .helpers import refuse_vmap, shape_of
from .indexing import at_add, getitem
from .numerical import diff
from .reductions import max as _max
from .reductions import min as _min
from .reductions import sum as _sum
from .shapes import asarray_traced, astype, reshape


def _traced(*xs):
    return any(type(x) in TRACER_TYPES for x in xs) or any(
        isinstance(x, (list, tuple)) and _traced(*x) for x in xs)


def _raw(x):
    if isinstance(x, (list, tuple)):
        return type(x)(_raw(v) for v in x)
    return primal_value(x)


def _xp(*xs):
    arrays = [x for x in xs if hasattr(x, "shape")]
    return backend.namespace(*arrays) if arrays else backend.default_namespace()


def bincount(x, weights=None, minlength=0):
    """`numpy.bincount`: how often each non-negative integer occurs in x, or the sum of the
    weights at each; differentiable in `weights` (the result is float64, as in NumPy)."""
    x = strip_derivatives(x)
    raw_x = primal_value(x)
    xp = _xp(raw_x)
    if type(weights) not in TRACER_TYPES:
        return xp.bincount(raw_x, primal_value(weights), minlength)
    refuse_vmap("bincount", x, weights)
    n = len(xp.bincount(raw_x, minlength=minlength))
    if shape_of(weights) != raw_x.shape:
        raise ValueError(f"bincount: weights of shape {shape_of(weights)} for x of shape "
                         f"{raw_x.shape}; give one weight per element of x")
    if weights.dtype.kind == "c":
        raise TypeError("bincount: complex weights cannot be cast to float64, as in NumPy; "
                        "count the real and imaginary parts separately")
    return at_add(xp.zeros(n, dtype=np.float64), astype(weights, np.float64), raw_x)


def _is_count(bins):
    """Whether `bins` is a number of bins (or a str rule), not edges."""
    if isinstance(bins, (list, tuple)):
        return False
    return isinstance(bins, str) or np.ndim(primal_value(bins)) == 0


def _data_edges(sample, raw_edges):
    """`raw_edges` (NumPy's linspace between the smallest and largest sample) moving with
    those two samples: e_k = first + (last - first) k / n."""
    xp = _xp(raw_edges)
    n = raw_edges.shape[0] - 1
    t = xp.arange(n + 1, dtype=raw_edges.dtype) / raw_edges.dtype.type(n)
    low, high = _min(sample), _max(sample)
    shift_low = low - primal_value(strip_derivatives(low))    # 0 in value, dlow in derivative
    shift_high = high - primal_value(strip_derivatives(high))
    return raw_edges + shift_low * (1 - t) + shift_high * t


def _edges(sample, bins, range, raw_edges):
    if not _is_count(bins):
        return asarray_traced(bins)
    if range is not None or type(sample) not in TRACER_TYPES or primal_value(sample).size == 0:
        return raw_edges
    return _data_edges(sample, raw_edges)


def _bin_of(raw_sample, raw_edges):
    """Each sample's bin along one axis, counting 0 for below the first edge and n + 1 for
    above the last (or NaN); the last bin is closed on the right, as NumPy's."""
    xp = _xp(raw_sample)
    index = xp.searchsorted(raw_edges, raw_sample, side="right")
    return index - (raw_sample == raw_edges[-1])


def _density(counts, widths):
    """counts / width / total along every axis, NumPy's normalisation."""
    total = _sum(counts)
    for i, w in enumerate(widths):
        shape = [1] * len(widths)
        shape[i] = shape_of(w)[0]
        counts = counts / reshape(astype(w, np.float64), tuple(shape))
    return counts / total


def histogram(a, bins=10, range=None, density=None, weights=None):
    """`numpy.histogram`: (counts, edges), differentiable in the weights and in edges computed
    from the data (see the module doc).

    Example:
      >>> hist, edges = gnp.histogram(x, bins=4, weights=w)   # d hist / d w: which bin
    """
    if not _traced(a, bins, weights):
        return _xp(a).histogram(a, bins, range, density=density, weights=weights)
    refuse_vmap("histogram", a, bins, weights)
    raw_a = primal_value(a)
    raw_counts, raw_edges = _xp(raw_a).histogram(raw_a, _raw(bins), range,
                                                 weights=primal_value(weights))
    edges = _edges(a, bins, range, raw_edges)
    counts = raw_counts
    if type(weights) in TRACER_TYPES:
        w = reshape(weights, (-1,))
        bin_index = _bin_of(raw_a.reshape(-1), raw_edges)
        inside = (bin_index >= 1) & (bin_index <= len(raw_counts))
        counts = at_add(_xp(raw_a).zeros(len(raw_counts), dtype=w.dtype),
                        getitem(w, inside), bin_index[inside] - 1)
    if density:
        return _density(counts, [diff(edges)]), edges
    return counts, edges


def histogram_bin_edges(a, bins=10, range=None, weights=None):
    """`numpy.histogram_bin_edges`, differentiable where the edges come from the data."""
    if not _traced(a, bins):
        return _xp(a).histogram_bin_edges(a, bins, range, weights)
    refuse_vmap("histogram_bin_edges", a, bins)
    raw_a = primal_value(a)
    raw_edges = _xp(raw_a).histogram_bin_edges(raw_a, _raw(bins), range, _raw(weights))
    return _edges(a, bins, range, raw_edges)


def _columns(sample):
    """The D sample columns of an (N, D) array, a 1-D array (D = 1) or a sequence of D arrays."""
    if isinstance(sample, (list, tuple)):
        return [asarray_traced(s) for s in sample]
    sample = asarray_traced(sample)
    if len(shape_of(sample)) == 1:
        return [sample]
    return [getitem(sample, (slice(None), i)) for i in builtins.range(shape_of(sample)[1])]


def histogramdd(sample, bins=10, range=None, density=None, weights=None):
    """`numpy.histogramdd`: (counts of shape (n_1, ..., n_D), [edges_1, ..., edges_D]),
    differentiable in the weights and in edges computed from the data (see the module doc)."""
    if not _traced(sample, bins, weights):
        parts = sample if isinstance(sample, (list, tuple)) else [sample]
        return _xp(*parts).histogramdd(sample, bins, range, density=density, weights=weights)
    refuse_vmap("histogramdd", sample, bins, weights)
    columns = _columns(sample)
    raw_columns = [primal_value(c) for c in columns]
    xp = _xp(*raw_columns)
    raw_counts, raw_edges = xp.histogramdd(xp.stack(raw_columns, axis=1), _raw(bins), range,
                                           weights=primal_value(weights))
    dims = len(columns)
    per_dim = list(bins) if not _is_count(bins) and len(bins) == dims else [bins] * dims
    ranges = list(range) if range is not None else [None] * dims
    edges = [_edges(c, b, r, e) for c, b, r, e in zip(columns, per_dim, ranges, raw_edges)]
    counts = raw_counts
    if type(weights) in TRACER_TYPES:
        # bins 0 and n + 1 of each axis collect the outliers, then are cut off
        outer = tuple(len(e) + 1 for e in raw_edges)
        flat = xp.ravel_multi_index([_bin_of(c, e) for c, e in zip(raw_columns, raw_edges)],
                                    outer)
        summed = at_add(xp.zeros(int(np.prod(outer)), dtype=np.float64),
                        astype(weights, np.float64), flat)
        counts = getitem(reshape(summed, outer), (slice(1, -1),) * dims)
    if density:
        counts = _density(counts, [diff(e) for e in edges])
    return counts, edges


def histogram2d(x, y, bins=10, range=None, density=None, weights=None):
    """`numpy.histogram2d`: (counts, x_edges, y_edges), differentiable as `histogramdd`."""
    if not _is_count(bins) and len(bins) not in (1, 2):
        bins = [bins, bins]  # one array of edges for both axes
    counts, edges = histogramdd([x, y], bins, range, density, weights)
    return counts, edges[0], edges[1]
