"""`import gpuad.numpy as gnp`: NumPy's API, differentiable, on NumPy and CuPy arrays.

Each op family has its own module holding its rules (forward, VJP and JVP in one place):

    elementwise.py   ufuncs, declared by their scalar derivatives
    float_parts.py   ldexp, frexp, modf, divmod, nextafter, spacing
    reductions.py    sum, prod, max/min, cumsum, cumprod, mean, var, std, average
    products.py      matmul, einsum, dot, tensordot, kron..., diagonals and triangles
    linalg.py        gnp.linalg: gathers products, solvers, factorizations, svd, linalg_api
    solvers.py       inv, solve, det, slogdet, matrix_power, multi_dot
    factorizations.py  cholesky, eigh, eig, qr
    svd.py           svd, svdvals, norm, matrix_rank, pinv, lstsq
    linalg_api.py    numpy.linalg's array-API functions (matrix_norm, vecdot...), cond, tensorinv
    shapes.py        reshape, transpose, swapaxes, moveaxis, broadcast_to, astype, asarray_traced
    indexing.py      x[idx], x.at[...], take, take_along_axis, sort
    manipulation.py  concatenate, stack, split, tile, repeat, flip, roll, pad, rot90, insert,
                     delete, block (compositions)
    shaping.py       resize, trim_zeros, unstack, compress, extract, as*array, mgrid
    inplace.py       put, putmask, place, copyto, put_along_axis (in place, or inplace=False)
    creation.py      zeros, ones, arange, asarray... (constants)
    logic.py         comparisons, logical and bitwise ops (constants)
    predicates.py    isreal, iscomplexobj, isscalar, array_equiv, array_str... (constants)
    indices.py       argwhere, unravel_index, lexsort, digitize, *_indices_from... (constants)
    sets.py          unique and its array-API forms, intersect1d, union1d, setdiff1d...
    histograms.py    bincount, histogram, histogram2d, histogramdd, histogram_bin_edges
    random.py        gnp.random: the draws and state of sampling.py, RandomState of
                     random_state.py, default_rng's Generator of generator.py
    emath.py         gnp.emath: sqrt, log, power, arccos... complex outside the real domain
    fft.py           gnp.fft: fft, ifft, rfft, irfft, hfft, ihfft in 1-D, 2-D and n-D
    numerical.py     diff, gradient, interp, choose, select, piecewise, trapezoid, cross,
                     nan_to_num... (compositions)
    statistics.py    nan-reductions and scans, median, quantile, percentile, partition, ptp,
                     cov, corrcoef
    polynomials.py   poly, polyval, vander, polyadd, polymul, polydiv, polyder, polyint,
                     polyfit, roots
    signal.py        convolve, correlate, unwrap, window functions
    functional.py    apply_along_axis, apply_over_axes, fromfunction, vectorize
    constants.py     NumPy's own constants, dtypes, error state, printing options

What is covered, name by name, is docs/numpy_coverage.md (`python -m gpuad.numpy._coverage`
writes it); a NumPy name that is not supported raises AttributeError saying why.

Complex inputs: gradients of real-valued functions follow autograd's and JAX's convention.
A VJP is the transpose (no conjugation) of the JVP as a real-linear map, so `grad` of a real
loss L(z), z = x + iy, is dL/dx - i dL/dy (twice the conjugate of the Wirtinger derivative
dL/dz-bar). Example: L = |z|^2 = x^2 + y^2 gives 2x - 2iy = 2 conj(z) (PyTorch returns 2z, the
conjugate). For holomorphic f, `ga.holomorphic_grad(f)(z)` is f'(z).

Calling any of these with plain arrays runs the NumPy/CuPy function directly; calling them with
traced arrays (inside grad, jvp, ...) records them.
"""
import sys as _sys

from . import helpers  # noqa: F401  (first: the family modules import it)
from .constants import *  # noqa: F401,F403
from .elementwise import *  # noqa: F401,F403
from .elementwise import (abs, absolute, add, angle, arccos, arccosh, arcsin, arcsinh, arctan,
                          arctan2, arctanh, around, cbrt, ceil, clip, conj, conjugate, copysign,
                          cos, cosh, deg2rad, divide, exp, exp2, expm1, fix, float_power, floor,
                          fmax, fmin, fmod, hypot, imag, log, log1p, log2, log10, logaddexp,
                          logaddexp2, maximum, minimum, mod, multiply, negative, positive, power,
                          rad2deg, real, reciprocal, remainder, rint, round, sign, signbit, sin,
                          sinc, sinh, sqrt, square, subtract, tan, tanh, true_divide, trunc,
                          where)
from .float_parts import divmod, floor_divide, frexp, ldexp, modf, nextafter, spacing
from .shapes import (astype, atleast_1d, atleast_2d, atleast_3d, broadcast_arrays, broadcast_to,
                     copy, expand_dims, matrix_transpose, moveaxis, ndim,
                     ravel, reshape, shape, size, squeeze, swapaxes, transpose)
from .indexing import at, getitem, sort, take, take_along_axis
from .manipulation import (array_split, append, block, column_stack, concatenate, delete, dsplit,
                           dstack, flip, fliplr, flipud, hsplit, hstack,
                           insert, pad, repeat, roll, rollaxis, rot90,
                           split, stack, tile, vsplit, vstack)
from .reductions import (all, allclose, amax, amin, any, argmax, argmin, argsort, array_equal,
                         average, count_nonzero, cumprod, cumsum, flatnonzero, isclose, max, mean,
                         min, nonzero, prod, searchsorted, std, sum, var)
from . import linalg
from . import fft
from . import emath
from .linalg import dot, einsum, inner, kron, matmul, tensordot, tril, triu, vdot
from .linalg import diag
from .linalg_api import general_diagonal as diagonal
from .linalg_api import general_outer as outer
from .linalg_api import general_trace as trace
from .linalg_api import matvec, vecdot, vecmat
from .numerical import (choose, cross, degrees, diagflat, diff, fabs, fill_diagonal, gradient,
                        heaviside, i0, interp, meshgrid, nan_to_num, nanargmax, nanargmin,
                        piecewise, radians, real_if_close, select, trapezoid)
from .statistics import (corrcoef, cov, cumulative_prod, cumulative_sum, ediff1d, median,
                         nancumprod, nancumsum, nanmax, nanmean, nanmedian, nanmin, nanpercentile,
                         nanprod, nanquantile, nanstd, nansum, nanvar, partition, percentile, ptp,
                         quantile)
from .creation import (arange, array, asarray, diag_indices, empty, empty_like, eye, full,
                       full_like, geomspace, identity, indices, linspace, logspace, ones,
                       ones_like, tri, tril_indices, triu_indices, zeros, zeros_like)
from .index_tricks import c_, r_
from .logic import (bitwise_and, bitwise_count, bitwise_invert, bitwise_left_shift, bitwise_not,
                    bitwise_or, bitwise_right_shift, bitwise_xor, equal, gcd, greater,
                    greater_equal, invert, isfinite, isinf, isnan, isneginf, isposinf, lcm,
                    left_shift, less, less_equal, logical_and, logical_not, logical_or,
                    logical_xor, not_equal, packbits, right_shift, unpackbits)
from .predicates import (array2string, array_equiv, array_repr, array_str, iscomplex,
                         iscomplexobj, isfortran, isin, isnat, isreal, isrealobj, isscalar,
                         iterable, may_share_memory, shares_memory)
from .indices import (argpartition, argwhere, diag_indices_from, digitize, einsum_path, ix_,
                      lexsort, mask_indices, ndenumerate, ravel_multi_index, tril_indices_from,
                      triu_indices_from, unravel_index)
from .sets import (intersect1d, setdiff1d, setxor1d, union1d, unique, unique_all, unique_counts,
                   unique_inverse, unique_values)
from .histograms import bincount, histogram, histogram2d, histogram_bin_edges, histogramdd
from .shaping import (asanyarray, asarray_chkfinite, ascontiguousarray, asfortranarray, compress,
                      extract, mgrid, ogrid, require, resize, row_stack, sort_complex, trim_zeros,
                      unstack)
from .inplace import copyto, place, put, put_along_axis, putmask
from .polynomials import (poly, polyadd, polyder, polydiv, polyfit, polyint, polymul, polysub,
                          polyval, roots, vander)
from .signal import bartlett, blackman, convolve, correlate, hamming, hanning, kaiser, unwrap
from .functional import apply_along_axis, apply_over_axes, fromfunction, vectorize
from . import random
from . import methods as _methods
from .unsupported import REASONS as _UNSUPPORTED

# NumPy 2's array-API names for the same functions.
acos, acosh, asin, asinh, atan, atanh, atan2 = (arccos, arccosh, arcsin, arcsinh, arctan,
                                                arctanh, arctan2)
pow, concat = power, concatenate


def permute_dims(a, axes=None):
    """`numpy.permute_dims`: `transpose` (NumPy 2's array-API name)."""
    return transpose(a, axes)


_methods.attach(_sys.modules[__name__])  # operators and methods on tracers, last: they use it all


def __getattr__(name):
    reason = _UNSUPPORTED.get(name)
    if reason is None:
        raise AttributeError(f"module 'gpuad.numpy' has no attribute {name!r}")
    raise AttributeError(f"gpuad.numpy.{name} is not supported: {reason}")
