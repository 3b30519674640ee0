"""NumPy's legacy polynomial functions on coefficient arrays (highest power first): poly,
polyval, vander, polyadd, polysub, polymul, polydiv, polyder, polyint, polyfit, roots.

Each is a composition of differentiable ops (pad, convolve, slices, lstsq, eigvals), so it is
differentiable in its coefficient, root and data arguments. What is read off the primal values
is discrete: how many leading zeros `polydiv` and `roots` strip, whether `poly`'s roots come in
conjugate pairs (then the coefficients are real). The `poly1d` class is not supported: these
functions take and return plain coefficient arrays.
"""
import builtins
import warnings

import numpy as np

from .. import backend
from ..trace import namespace_of, primal_value
from .elementwise import real, sqrt
from .factorizations import eigvals
from .helpers import raw_array, refuse_vmap, shape_of
from .indexing import at_add, at_set, getitem
from .linalg_api import outer
from .manipulation import concatenate, pad
from .products import dot
from .reductions import cumprod
from .reductions import sum as _sum
from .shapes import (
    asarray_traced,
    astype,
    atleast_1d,
    broadcast_to,
    expand_dims,
    reshape,
    transpose,
)
from .signal import convolve
from .solvers import inv
from .svd import lstsq


def _xp(*xs):
    arrays = [x for x in xs if hasattr(x, "shape")]
    return namespace_of(*arrays) if arrays else backend.default_namespace()


def _coefficients(name, p):
    p = atleast_1d(asarray_traced(p))
    if len(shape_of(p)) != 1:
        raise ValueError(f"{name}: coefficients must be 1-D, got shape {shape_of(p)}")
    return p


def _aligned(a1, a2):
    """The two coefficient arrays padded with leading zeros to the same length."""
    n1, n2 = shape_of(a1)[0], shape_of(a2)[0]
    if n1 < n2:
        a1 = pad(a1, ((n2 - n1, 0),))
    elif n2 < n1:
        a2 = pad(a2, ((n1 - n2, 0),))
    return a1, a2


def polyadd(a1, a2):
    """`numpy.polyadd`: the coefficients of the sum (the shorter padded with leading zeros)."""
    a1, a2 = _aligned(_coefficients("polyadd", a1), _coefficients("polyadd", a2))
    return a1 + a2


def polysub(a1, a2):
    """`numpy.polysub`: the coefficients of a1 - a2."""
    a1, a2 = _aligned(_coefficients("polysub", a1), _coefficients("polysub", a2))
    return a1 - a2


def polymul(a1, a2):
    """`numpy.polymul`: the coefficients of the product (their convolution)."""
    return convolve(_coefficients("polymul", a1), _coefficients("polymul", a2))


def polyder(p, m=1):
    """`numpy.polyder`: the coefficients of the m-th derivative."""
    m = int(m)
    if m < 0:
        raise ValueError(f"polyder: the order m must be non-negative (got {m}); see polyint")
    p = _coefficients("polyder", p)
    for _ in range(m):
        n = shape_of(p)[0] - 1
        p = getitem(p, slice(None, -1)) * _xp(p).arange(n, 0, -1)
    return p


def polyint(p, m=1, k=None):
    """`numpy.polyint`: the coefficients of the m-th antiderivative, with integration constants
    `k` (a scalar for all m, or m values, highest order first; default zeros); differentiable
    in p and k."""
    m = int(m)
    if m < 0:
        raise ValueError(f"polyint: the order m must be non-negative, got {m}")
    p = _coefficients("polyint", p)
    if k is None:
        k = _xp(p).zeros(m)
    k = atleast_1d(asarray_traced(k))
    if shape_of(k)[0] == 1 and m > 1:
        k = getitem(k, 0) * _xp(k).ones(m)
    if shape_of(k)[0] < m:
        raise ValueError(f"polyint: {shape_of(k)[0]} integration constants for order {m}; "
                         f"give m constants or one")
    for i in range(m):
        n = shape_of(p)[0]
        p = concatenate([p / _xp(p).arange(n, 0, -1), reshape(getitem(k, i), (1,))])
    return p


def polydiv(u, v):
    """`numpy.polydiv`: (quotient, remainder) of u / v by long division; leading remainder
    coefficients within 1e-14 of zero are dropped, as NumPy does."""
    u = _coefficients("polydiv", u) + 0.0
    v = _coefficients("polydiv", v) + 0.0
    m, n = shape_of(u)[0] - 1, shape_of(v)[0] - 1
    dtype = np.result_type(primal_value(u), primal_value(v))
    scale = 1.0 / getitem(v, 0)
    q = _xp(u, v).zeros(max(m - n + 1, 1), dtype=dtype)
    r = astype(u, dtype) if u.dtype != dtype else u
    for k in range(m - n + 1):
        d = scale * getitem(r, k)
        q = at_set(q, d, k)
        r = at_add(r, -(d * v), slice(k, k + n + 1))
    while shape_of(r)[0] > 1 and np.allclose(backend.to_numpy_array(primal_value(r)[0]), 0,
                                              rtol=1e-14):
        r = getitem(r, slice(1, None))
    return q, r


def poly(seq_of_zeros):
    """`numpy.poly`: the monic polynomial with the given roots (or a square matrix's
    characteristic polynomial), real when the roots come in conjugate pairs; differentiable."""
    zeros = atleast_1d(asarray_traced(seq_of_zeros))
    shape = shape_of(zeros)
    if len(shape) == 2 and shape[0] == shape[1] and shape[0] != 0:
        zeros = eigvals(zeros)
    elif len(shape) == 1:
        dtype = zeros.dtype
        zeros = astype(zeros, np.mintypecode(dtype.char))
    else:
        raise ValueError(f"poly: input must be 1-D or a non-empty square 2-D array, got shape "
                         f"{shape}")
    if shape_of(zeros)[0] == 0:
        return 1.0
    xp = _xp(zeros)
    dtype = zeros.dtype
    a = xp.ones(1, dtype=dtype)
    for i in range(shape_of(zeros)[0]):
        a = convolve(a, concatenate([xp.ones(1, dtype=dtype), reshape(-getitem(zeros, i), (1,))]))
    if dtype.kind == "c":
        raw = primal_value(zeros).astype(complex)
        if bool((xp.sort(raw) == xp.sort(raw.conjugate())).all()):
            a = real(a)
    return a


def roots(p):
    """`numpy.roots`: the roots of the polynomial, the eigenvalues of its companion matrix
    (leading and trailing zero coefficients stripped first); differentiable in p."""
    p = asarray_traced(p)
    if len(shape_of(p)) != 1:
        raise ValueError(f"roots: coefficients must be 1-D, got shape {shape_of(p)}")
    refuse_vmap("roots", p)
    xp = _xp(p)
    nonzero = xp.nonzero(primal_value(p))[0]
    if len(nonzero) == 0:
        return xp.array([])
    first, last = int(nonzero[0]), int(nonzero[-1])
    trailing = shape_of(p)[0] - last - 1
    p = getitem(p, slice(first, last + 1))
    if p.dtype.kind not in "fc":
        p = astype(p, float)
    n = shape_of(p)[0]
    dtype = p.dtype
    if n > 1:
        top = reshape(-getitem(p, slice(1, None)) / getitem(p, 0), (1, n - 1))
        below = xp.eye(n - 2, n - 1, dtype=dtype)  # the ones under the diagonal
        found = eigvals(concatenate([top, below], axis=0))
        raw = primal_value(found)
        if dtype.kind != "c" and not bool((raw.imag != 0).any()):
            found = real(found)  # NumPy's eigvals: real when every root is
    else:
        found = xp.array([], dtype=dtype)
    if trailing:
        found = concatenate([found, xp.zeros(trailing, dtype=found.dtype)])
    return found


def polyfit(x, y, deg, rcond=None, full=False, w=None, cov=False):
    """`numpy.polyfit`: least-squares polynomial coefficients (highest power first), by NumPy's
    method (scaled Vandermonde columns, lstsq); differentiable in x, y and w.

    Returns c; (c, residuals, rank, singular values, rcond) if full; (c, covariance) if cov
    (cov="unscaled" leaves out the residual variance factor), as NumPy does.
    """
    order = int(deg) + 1
    if deg < 0:
        raise ValueError(f"polyfit: expected deg >= 0, got {deg}")
    x, y = asarray_traced(x) + 0.0, asarray_traced(y) + 0.0
    if len(shape_of(x)) != 1 or shape_of(x)[0] == 0:
        raise TypeError(f"polyfit: expected a non-empty 1-D x, got shape {shape_of(x)}")
    if len(shape_of(y)) not in (1, 2) or shape_of(y)[0] != shape_of(x)[0]:
        raise TypeError(f"polyfit: expected y of shape ({shape_of(x)[0]},) or "
                        f"({shape_of(x)[0]}, k), got {shape_of(y)}")
    n = shape_of(x)[0]
    if rcond is None:
        rcond = n * float(np.finfo(x.dtype).eps)
    lhs, rhs = vander(x, order), y
    if w is not None:
        w = asarray_traced(w) + 0.0
        if shape_of(w) != (n,):
            raise TypeError(f"polyfit: expected w of shape ({n},), got {shape_of(w)}")
        lhs = lhs * reshape(w, (n, 1))
        rhs = rhs * (reshape(w, (n, 1)) if len(shape_of(rhs)) == 2 else w)
    scale = sqrt(_sum(lhs * lhs, axis=0))
    lhs = lhs / scale
    c, residuals, rank, s = lstsq(lhs, rhs, rcond)
    c = transpose(transpose(c) / scale)
    if rank != order and not full:
        warnings.warn("polyfit: the fit may be poorly conditioned", np.exceptions.RankWarning,
                      stacklevel=2)
    if full:
        return c, residuals, rank, s, rcond
    if not cov:
        return c
    base = inv(dot(transpose(lhs), lhs)) / outer(scale, scale)
    if cov == "unscaled":
        factor = 1.0
    else:
        if n <= order:
            raise ValueError("polyfit: the number of data points must exceed order to scale "
                             "the covariance matrix")
        factor = residuals / (n - order)
    if len(shape_of(y)) == 1:
        return c, base * factor
    return c, reshape(base, shape_of(base) + (1,)) * factor


# ---- evaluation and the Vandermonde matrix ---------------------------------------------------
def vander(x, N=None, increasing=False):
    """`numpy.vander`: columns x^(N-1), ..., x, 1 (reversed if increasing), differentiable.

    The powers are running products (cumprod), so the derivative is exact at x = 0.
    """
    x = asarray_traced(x)
    if len(shape_of(x)) != 1:
        raise ValueError(f"vander: x must be 1-D, got shape {shape_of(x)}")
    m = shape_of(x)[0]
    N = m if N is None else int(N)
    if N < 0:
        raise ValueError(f"vander: N must be non-negative, got {N}")
    raw = raw_array(x)
    out = _xp(raw).ones((m, builtins.min(N, 1)), dtype=raw.dtype)
    if N > 1:
        out = concatenate([out, cumprod(broadcast_to(expand_dims(x, 1), (m, N - 1)), axis=1)],
                          axis=1)
    return out if increasing else getitem(out, (slice(None), slice(None, None, -1)))


def polyval(p, x):
    """`numpy.polyval`: p[0] x^(N-1) + ... + p[N-1] by Horner's rule, differentiable in the
    coefficients and in x."""
    p = asarray_traced(p)
    if len(shape_of(p)) != 1:
        raise ValueError(f"polyval: coefficients must be 1-D, got shape {shape_of(p)}")
    x = asarray_traced(x)
    n = shape_of(p)[0]
    if n == 0:
        return 0.0 * x
    y = getitem(p, 0) + 0.0 * x
    for k in range(1, n):
        y = y * x + getitem(p, k)
    return y
