"""`import gpuad.numpy as gnp`: NumPy's API, differentiable, on NumPy and CuPy arrays.

Each op family has its own module holding its rules (forward, VJP and JVP in one place):

    elementwise.py   ufuncs, declared by their scalar derivatives
    reductions.py    sum, prod, max/min, cumsum, cumprod, mean, var, std, average
    linalg.py        matmul, einsum, dot..., triangles; it is gnp.linalg, re-exporting
    decompositions.py  inv, solve, det, cholesky, eigh, eig, svd, qr, pinv, norm, lstsq...
    manipulation.py  reshape, transpose, concatenate, indexing, x.at[...], astype, rot90,
                     insert, delete, block
    creation.py      zeros, ones, arange, asarray... (constants)
    logic.py         comparisons and logical ops (constants)
    random.py        gnp.random, with a saveable state
    fft.py           gnp.fft: fft, ifft, rfft, irfft in 1-D, 2-D and n-D, fftshift, ifftshift
    numerical.py     diff, gradient, convolve, interp, choose, select, polyval, cov,
                     corrcoef, nan_to_num... (compositions)
    statistics.py    nan-reductions and scans, median, quantile, percentile, partition, ptp

Complex inputs: gradients of real-valued functions follow autograd's and JAX's convention.
A VJP is the transpose (no conjugation) of the JVP as a real-linear map, so `grad` of a real
loss L(z), z = x + iy, is dL/dx - i dL/dy (twice the conjugate of the Wirtinger derivative
dL/dz-bar). Example: L = |z|^2 = x^2 + y^2 gives 2x - 2iy = 2 conj(z) (PyTorch returns 2z, the
conjugate). For holomorphic f, `ga.holomorphic_grad(f)(z)` is f'(z).

Calling any of these with plain arrays runs the NumPy/CuPy function directly; calling them with
traced arrays (inside grad, jvp, ...) records them.
"""
import numpy as _np

from . import helpers  # noqa: F401  (first: the family modules import it)
from .elementwise import *  # noqa: F401,F403
from .elementwise import (abs, absolute, add, arccos, arccosh, arcsin, arcsinh, arctan, arctan2,
                          arctanh, around, cbrt, ceil, clip, conj, conjugate, copysign, cos, cosh,
                          deg2rad, divide, exp, exp2, expm1, fix, float_power, floor, fmax, fmin,
                          fmod, hypot, imag, log, log1p, log2, log10, logaddexp, logaddexp2,
                          maximum, minimum, mod, multiply, negative, positive, power, rad2deg,
                          real, reciprocal, remainder, rint, round, sign, signbit, sin, sinc, sinh,
                          sqrt, square, subtract, tan, tanh, true_divide, trunc, where)
from .manipulation import (array_split, astype, at, atleast_1d, atleast_2d, atleast_3d,
                           append, block, broadcast_arrays, broadcast_to, column_stack,
                           concatenate, copy, delete, dsplit, dstack, expand_dims, flip, fliplr,
                           flipud, getitem, hsplit, hstack, insert, matrix_transpose, moveaxis,
                           ndim, pad, ravel, repeat, reshape, roll, rollaxis, rot90, shape, size,
                           sort, split, squeeze, stack, swapaxes, take, take_along_axis, tile,
                           transpose, vsplit, vstack)
from .reductions import (all, allclose, amax, amin, any, argmax, argmin, argsort, array_equal,
                         average, count_nonzero, cumprod, cumsum, flatnonzero, isclose, max, mean,
                         min, nonzero, prod, searchsorted, std, sum, unique, var)
from . import linalg
from . import fft
from .linalg import (diag, diagonal, dot, einsum, inner, kron, matmul, outer, tensordot, trace,
                     tril, triu, vdot)
from .numerical import (choose, convolve, corrcoef, cov, cross, cumulative_prod, cumulative_sum,
                        degrees, diagflat, diff, ediff1d, fabs, fill_diagonal, gradient,
                        heaviside, histogram, i0, interp, median, meshgrid, nan_to_num,
                        nanargmax, nanargmin, nancumprod, nancumsum, nanmax, nanmean, nanmedian,
                        nanmin, nanpercentile, nanprod, nanquantile, nanstd, nansum, nanvar,
                        partition, percentile, piecewise, polyval, ptp, quantile, radians,
                        real_if_close, select, trapezoid, vander)
from .creation import (arange, array, asarray, diag_indices, empty, empty_like, eye, full,
                       full_like, geomspace, identity, indices, linspace, logspace, ones,
                       ones_like, tri, tril_indices, triu_indices, zeros, zeros_like)
from .index_tricks import c_, r_
from .logic import (bitwise_and, bitwise_or, bitwise_xor, equal, greater, greater_equal, invert,
                    isfinite, isinf, isnan, isneginf, isposinf, less, less_equal, logical_and,
                    logical_not, logical_or, logical_xor, not_equal)
from . import random
from . import methods as _methods  # noqa: F401  (attaches operators and methods to tracers)

# Constants, dtypes and dtype functions are NumPy's own.
pi, e, inf, nan, newaxis, euler_gamma = _np.pi, _np.e, _np.inf, _np.nan, _np.newaxis, _np.euler_gamma
float16, float32, float64 = _np.float16, _np.float32, _np.float64
complex64, complex128 = _np.complex64, _np.complex128
int8, int16, int32, int64 = _np.int8, _np.int16, _np.int32, _np.int64
uint8, uint16, uint32, uint64 = _np.uint8, _np.uint16, _np.uint32, _np.uint64
bool_ = _np.bool_
dtype, finfo, iinfo = _np.dtype, _np.finfo, _np.iinfo
result_type, promote_types, can_cast, issubdtype = (_np.result_type, _np.promote_types,
                                                     _np.can_cast, _np.issubdtype)
floating, integer, number, complexfloating, inexact = (_np.floating, _np.integer, _np.number,
                                                       _np.complexfloating, _np.inexact)
broadcast_shapes = _np.broadcast_shapes
ndarray = _np.ndarray
