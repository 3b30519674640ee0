"""Matrix decompositions and what is built on them, for `gnp.linalg`: inv, solve, det, slogdet,
cholesky, eigh, eig, eigvals, svd, qr, pinv, norm, matrix_rank, and the compositions
matrix_power, multi_dot, lstsq. `gpuad/numpy/linalg.py` (the products: matmul, einsum, ...)
re-exports all of it, so `gnp.linalg.svd` is this module's `svd`.

Every rule works on stacks of matrices (leading batch axes) and on complex matrices (transposes
at the interface, conjugate transposes where the math has them).

Matrices NumPy reads only one triangle of (`cholesky`, `eigh`, lower by default) are
differentiated as the functions NumPy computes: the gradient lies in that triangle, the
off-diagonal part counted twice because it also stands for the mirrored element. To get the
symmetric gradient usual in papers, symmetrize the input yourself: `cholesky((a + a.mT) / 2)`.
"""
import builtins
from collections import namedtuple

import numpy as np

from .. import backend
from ..trace import TRACER_TYPES, Primitive, nondiff, primal_value, strip_derivatives
from .elementwise import (absolute, conjugate, imag, power, real, sign, sqrt, square,
                          where)
from .helpers import (conj_if_complex, is_complex, mH, mT, refuse_vmap, shape_of, shaped,
                      square_check, unbroadcast)
from .products import diagonal, matmul, tril, triu
from .logic import logical_and, logical_or
from .shapes import asarray_traced, broadcast_to, expand_dims, moveaxis, reshape
from .indexing import getitem, sort, take_along_axis
from .manipulation import concatenate
from .reductions import argsort, max as _max, min as _min, sum as _sum


def _xp(*xs):
    return backend.namespace(*xs)


# ---- inverse, solve, determinants ------------------------------------------------------------
inv_p = Primitive(
    "linalg.inv", lambda a: _xp(a).linalg.inv(a),
    vjp=[lambda ans, a, g: -(mT(ans) @ g @ mT(ans))],
    jvp=[lambda ans, a, t: -(ans @ t @ ans)])


def inv(a):
    """`numpy.linalg.inv`, differentiable, batched over leading axes."""
    a = asarray_traced(a)
    square_check("linalg.inv", a)
    return inv_p.bind(a)


def _vector_rhs(a, b):
    """NumPy 2: b is a stack of vectors only when it is 1-D; otherwise (..., n, k)."""
    return len(shape_of(b)) == 1


def _solve_like(a, b, rhs):
    """a^-1 rhs, where rhs is shaped like the solution of solve(a, b): for a 1-D b a stack of
    vectors (..., n), which solve itself would read as a matrix once it has two axes."""
    if _vector_rhs(a, b):
        return getitem(solve(a, expand_dims(rhs, -1)), (Ellipsis, 0))
    return solve(a, rhs)


def _solve_vjp_a(ans, a, b, g):
    gb = _solve_like(mT(a), b, g)
    if _vector_rhs(a, b):
        ga = -(expand_dims(gb, -1) * expand_dims(ans, -2))
    else:
        ga = -(gb @ mT(ans))
    return unbroadcast(ga, shaped(shape_of(a), primal_value(a).dtype))


def _solve_vjp_b(ans, a, b, g):
    return unbroadcast(_solve_like(mT(a), b, g), shaped(shape_of(b), primal_value(b).dtype))


def _solve_jvp_a(ans, a, b, t):
    if _vector_rhs(a, b):
        return -_solve_like(a, b, getitem(t @ expand_dims(ans, -1), (Ellipsis, 0)))
    return -solve(a, t @ ans)


solve_p = Primitive("linalg.solve", lambda a, b: _xp(a, b).linalg.solve(a, b),
                    vjp=[_solve_vjp_a, _solve_vjp_b],
                    jvp=[_solve_jvp_a, lambda ans, a, b, t: solve(a, t)])


def solve(a, b):
    """`numpy.linalg.solve` (NumPy 2 rules: `b` is a vector only when 1-D), differentiable."""
    a, b = asarray_traced(a), asarray_traced(b)
    square_check("linalg.solve", a)
    return solve_p.bind(a, b)


def _trace_last2(x):
    return _sum(diagonal(x, 0, -2, -1), axis=-1)


det_p = Primitive(
    "linalg.det", lambda a: _xp(a).linalg.det(a),
    vjp=[lambda ans, a, g: expand_dims(expand_dims(g * ans, -1), -1) * mT(inv(a))],
    jvp=[lambda ans, a, t: ans * _trace_last2(solve(a, t))])


def det(a):
    """`numpy.linalg.det`, differentiable (the rule needs a non-singular matrix)."""
    a = asarray_traced(a)
    square_check("linalg.det", a)
    return det_p.bind(a)


SlogdetResult = namedtuple("SlogdetResult", ["sign", "logabsdet"])


def _slogdet_impl(a):
    sign, logdet = _xp(a).linalg.slogdet(a)
    return sign, logdet


def _slogdet_vjp(ans, a, g):
    # d log|det| = Re tr(a^-1 da), and for complex a d sign = sign i Im tr(a^-1 da) (the sign of
    # a real a is piecewise constant): both are multiples of a^-T, transposed.
    sign, _ = ans
    g_sign, g_logdet = g
    coef = g_logdet
    if is_complex(sign):
        coef = coef + 1j * imag(g_sign * sign)
    return expand_dims(expand_dims(coef, -1), -1) * mT(inv(a))


def _slogdet_jvp(ans, a, t):
    sign, _ = ans
    c = _trace_last2(solve(a, t))
    if is_complex(sign):
        return sign * (1j * imag(c)), real(c)
    return _xp(primal_value(sign)).zeros_like(primal_value(sign)), c


slogdet_p = Primitive("linalg.slogdet", _slogdet_impl, vjp=[_slogdet_vjp], jvp=[_slogdet_jvp],
                      multiple_results=True)


def slogdet(a):
    """`numpy.linalg.slogdet`: (sign, log|det|), differentiable (the sign of a real matrix is
    piecewise constant, that of a complex one a unit complex number that turns with a)."""
    a = asarray_traced(a)
    square_check("linalg.slogdet", a)
    return SlogdetResult(*slogdet_p.bind(a))


# ---- cholesky and eigh -----------------------------------------------------------------------
def _symmetric_from_triangle(t, lower):
    """The symmetric (Hermitian) matrix NumPy actually factors: one triangle mirrored onto the
    other, conjugated for complex t, whose diagonal counts only by its real part (LAPACK's
    potrf and heevd read Re a_ii)."""
    if not is_complex(t):
        if lower:
            return tril(t) + mT(tril(t, -1))
        return triu(t) + mT(triu(t, 1))
    off = tril(t, -1) if lower else triu(t, 1)
    d = tril(triu(t))
    return off + mH(off) + (d + conjugate(d)) * 0.5


def _triangle_gradient(m, lower):
    """Cotangent w.r.t. the input of a function of one triangle, given the cotangent `m` of the
    symmetric (Hermitian) matrix it stands for: the transpose of `_symmetric_from_triangle`, so
    the off-diagonal elements count twice (see the module doc) and, for complex input, the
    diagonal only by its real part."""
    sym = (m + mH(m)) * 0.5
    return (2.0 * tril(sym, -1) if lower else 2.0 * triu(sym, 1)) + tril(triu(sym))


def _phi(x):
    """The lower triangle with the diagonal halved (the Cholesky derivative's projection)."""
    return tril(x, -1) + 0.5 * tril(triu(x))


def _cholesky_jvp(ans, a, t):
    # dL = L Phi(L^-1 dS L^-H), with dS the Hermitian perturbation the lower triangle stands for.
    ds = _symmetric_from_triangle(t, True)
    middle = solve(ans, mH(solve(ans, ds)))  # dS = dS^H
    return ans @ _phi(middle)


def _cholesky_vjp(ans, a, g):
    p = _phi(mT(ans) @ g)
    # The cotangent of the Hermitian matrix, L^-T P conj(L)^-1 (Murray 2016, eq. 10, for real L).
    s = solve(mT(ans), mT(solve(mH(ans), mT(p))))
    return _triangle_gradient(s, True)


cholesky_p = Primitive("linalg.cholesky", lambda a: _xp(a).linalg.cholesky(a),
                       vjp=[_cholesky_vjp], jvp=[_cholesky_jvp])


def cholesky(a, upper=False):
    """`numpy.linalg.cholesky`: the lower factor L of a = L L^H (upper=True: the upper factor
    U = L^H, read from the upper triangle, as NumPy 2 does); real or complex (Hermitian) a.

    Only one triangle of `a` is read (and of its diagonal only the real part), so the gradient
    lies in it; see the module docstring for the symmetric convention.
    """
    a = asarray_traced(a)
    square_check("linalg.cholesky", a)
    if upper:  # the upper triangle of a is the conjugated lower triangle of a^H
        return mH(cholesky_p.bind(mH(a)))
    return cholesky_p.bind(a)


# Computed eigenvalues (singular values) that are equal in exact arithmetic come out apart by a
# few eps * max|w| (at most 6 eps * max|w| for n = 2...100, measured on rotated diagonal
# matrices with repeated entries, float32 and float64): pairs this close count as tied.
_TIE_ULPS = 16


def _gaps(w):
    """gaps[..., i, j] = w[..., j] - w[..., i]."""
    return expand_dims(w, -2) - expand_dims(w, -1)


def _ties(w, size):
    """Off-diagonal pairs (i, j) with |w[i] - w[j]| <= 16 size eps max|w| (a constant mask), and
    among them those exactly equal. Written with gpuad.numpy ops on the values, so that under
    vmap each example gets its own."""
    w = strip_derivatives(w)
    eps = float(np.finfo(primal_value(w).dtype).eps)
    tol = expand_dims(_max(absolute(w), axis=-1, keepdims=True), -1) * (_TIE_ULPS * size * eps)
    gap = _gaps(w)
    off = ~_xp(primal_value(w)).eye(shape_of(w)[-1], dtype=bool)
    return logical_and(absolute(gap) <= tol, off), logical_and(gap == 0, off)


def _over_gaps(m, gaps, ties, nan_pairs=None):
    """m[i, j] / gaps[i, j] off the diagonal, 0 on it: the eigenvector (singular vector) part of
    a rule, with gaps[i, j] = w[j] - w[i] (or s[j]^2 - s[i]^2).

    On tied pairs 1 / gap is infinite or rounding noise, and the eigenvectors are not
    determined by the matrix: a pair that m does not couple (m[i, j] = m[j, i] = 0 exactly)
    contributes 0, the limit and the exact value at distinct values; any other is NaN, and so
    are the pairs in `nan_pairs` (see `eigh` for why)."""
    eye = _xp(primal_value(gaps)).eye(shape_of(m)[-1], dtype=bool)
    free = logical_or(ties, eye)
    quotient = where(free, 0.0, m / where(free, 1.0, gaps))
    if not primal_value(ties).any():
        return quotient
    values = strip_derivatives(m)
    coupled = logical_or(values != 0, mT(values) != 0)
    if nan_pairs is not None:
        coupled = logical_or(coupled, nan_pairs)
    return where(logical_and(ties, coupled), float("nan"), quotient)


def _eigh_jvp(ans, a, t, *, UPLO):
    # M = V^H dS V: dw = diag(M) (real), dV = V (F o M) (no phase change along each v_j)
    w, v = ans
    ds = _symmetric_from_triangle(t, UPLO == "L")
    vh_ds_v = mH(v) @ ds @ v
    dw = diagonal(vh_ds_v, 0, -2, -1)
    ties, _ = _ties(w, shape_of(w)[-1])
    dv = v @ _over_gaps(vh_ds_v, _gaps(w), ties)
    return (real(dw) if is_complex(dw) else dw), dv


def _eigh_vjp(ans, a, g, *, UPLO):
    # The transpose of _eigh_jvp: the cotangent of dS is conj(V) (diag(gw) + F o (V^T gV)) V^T.
    # gw or gv is None where that output has no cotangent (sparse_cotangents below): without
    # gV no gap is divided by, so functions of the eigenvalues have finite gradients at ties.
    w, v = ans
    gw, gv = g
    middle = None if gw is None else _diag_embed(gw)
    if gv is not None:
        ties, exact = _ties(w, shape_of(w)[-1])
        part = _over_gaps(mT(v) @ gv, _gaps(w), ties, exact)
        middle = part if middle is None else middle + part
    s = conj_if_complex(v) @ middle @ mT(v)
    return _triangle_gradient(s, UPLO == "L")


def _diag_embed(d):
    n = shape_of(d)[-1]
    eye = _xp(primal_value(d)).eye(n, dtype=primal_value(d).dtype)
    return expand_dims(d, -1) * eye


eigh_p = Primitive("linalg.eigh", lambda a, *, UPLO: tuple(_xp(a).linalg.eigh(a, UPLO=UPLO)),
                   vjp=[_eigh_vjp], jvp=[_eigh_jvp], multiple_results=True)
eigh_p.sparse_cotangents = True
EighResult = namedtuple("EighResult", ["eigenvalues", "eigenvectors"])


def eigh(a, UPLO="L"):
    """`numpy.linalg.eigh`: eigenvalues (ascending, real) and eigenvectors of a real symmetric or
    complex Hermitian matrix.

    Only the `UPLO` triangle is read (of the diagonal only the real part), as NumPy does; see
    the module docstring. Each eigenvector is defined up to a phase (a sign for real a), so only
    functions of the eigenvectors that do not depend on it (V diag(w) V^H, |V|, ...) have
    meaningful derivatives.

    Repeated eigenvalues. Functions of the eigenvalues alone (`eigvalsh`, or `w` with `V`
    unused) have finite first derivatives everywhere, V diag(gw) V^H, which no gap enters:
    exact for functions symmetric in tied eigenvalues (sum f(w), norms), elsewhere (w[-1] at a
    tie) one valid generalized gradient. The eigenvector part of the rules divides by the gaps
    w_j - w_i, and at a tie it has no right value: the derivative of a gauge-invariant function
    of V (V f(W) V^H, a projector) at a tie is a limit, a divided difference of f, that the
    cotangent of V does not determine (V W V^H = a at a = 0 has the cotangent 0 for V, yet the
    gradient of sum(g * a) is g). Setting 1 / (w_j - w_i) to 0 there, as TensorFlow's
    safe reciprocal does, silently drops that limit; JAX and PyTorch give NaN. gpuad gives NaN
    too, and treats as tied the pairs whose gap is within 16 n eps max|w| (mathematically tied
    eigenvalues come out that close, and their 1 / gap would multiply rounding noise into an
    O(1) error instead of a NaN). A tied pair that the tangent, or at gaps not exactly 0 the
    cotangent of V, does not couple (a loss of one other eigenvector) contributes its exact
    value 0. The second derivatives of functions of the eigenvalues pass through the eigenvectors
    and are NaN at ties. For matrix functions at repeated eigenvalues use the functions made
    for them (`gpuad.scipy.linalg.sqrtm`, `expm`), whose derivatives are right there.
    """
    a = asarray_traced(a)
    square_check("linalg.eigh", a)
    if UPLO not in ("L", "U"):
        raise ValueError(f"linalg.eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    return EighResult(*eigh_p.bind(a, UPLO=UPLO))


def eigvalsh(a, UPLO="L"):
    """`numpy.linalg.eigvalsh`, differentiable (through eigh), with finite first derivatives
    also at repeated eigenvalues; see `eigh`."""
    return eigh(a, UPLO)[0]


# ---- eig and eigvals (general matrices) ------------------------------------------------------
def _complex_dtype(dtype):
    return np.result_type(dtype, np.complex64)


def _eig_impl(a):
    w, v = _xp(a).linalg.eig(a)
    dtype = _complex_dtype(a.dtype)  # NumPy returns real arrays when every eigenvalue is real
    return w.astype(dtype, copy=False), v.astype(dtype, copy=False)


def _eig_jvp(ans, a, t):
    # A V = V diag(w). With C = V^-1 dA V and F[i, j] = 1 / (w_j - w_i) (0 on the diagonal):
    #   dw = diag(C),  dV' = V (F o C),
    # then the part of dV' along each column v_j that would change its 2-norm is removed,
    #   dV = dV' - V diag(Re(v_j^H dv'_j)),
    # which keeps NumPy's unit columns (JAX's eig_jvp). The phase of each v_j stays free.
    w, v = ans
    c = solve(v, t @ v)
    dv = v @ _over_gaps(c, _gaps(w), _ties(w, shape_of(w)[-1])[0])
    dv = dv - v * real(_sum(conjugate(v) * dv, axis=-2, keepdims=True))
    return _unless_defective(diagonal(c, 0, -2, -1), v), _unless_defective(dv, v)


def _eig_vjp(ans, a, g):
    # The transpose of _eig_jvp (pairing Re(sum(x * y)), no conjugation):
    #   gV' = gV - conj(V) diag(Re(sum_i gV_ij V_ij))       (transpose of the normalisation)
    #   ga  = V^-T (diag(gw) + F o (V^T gV')) V^T
    # (gw or gv None: that output has no cotangent; without gV no gap is divided by)
    w, v = ans
    gw, gv = g
    middle = None if gw is None else _diag_embed(gw)
    if gv is not None:
        gv = gv - conjugate(v) * real(_sum(gv * v, axis=-2, keepdims=True))
        ties, exact = _ties(w, shape_of(w)[-1])
        part = _over_gaps(mT(v) @ gv, _gaps(w), ties, exact)
        middle = part if middle is None else middle + part
    return _unless_defective(solve(mT(v), middle @ mT(v)), v)


def _reciprocal_condition(v):
    s = _xp(v).linalg.svd(v, compute_uv=False)
    return s[..., -1] / s[..., 0]


_rcond = nondiff(_reciprocal_condition, "reciprocal_condition")


def _unless_defective(x, v):
    """x, NaN for the matrices of the stack whose eigenvector matrix v is singular to working
    precision (1 / cond(v) < 16 n eps): defective matrices (a Jordan block), whose eigenvalues
    have no derivative and where solving with v would give O(1) errors instead (near-defective
    ones, cond(v) up to 1e8 and more, are fine: their large derivatives come out accurate)."""
    n = shape_of(v)[-1]
    bad = _rcond(strip_derivatives(v)) < _TIE_ULPS * n * float(np.finfo(primal_value(v).dtype).eps)
    if not primal_value(bad).any():
        return x
    for _ in range(len(shape_of(x)) - len(shape_of(bad))):
        bad = expand_dims(bad, -1)
    return where(bad, float("nan"), x)


eig_p = Primitive("linalg.eig", _eig_impl, vjp=[_eig_vjp], jvp=[_eig_jvp],
                  multiple_results=True)
eig_p.sparse_cotangents = True
EigResult = namedtuple("EigResult", ["eigenvalues", "eigenvectors"])


def _eigvals_jvp(ans, a, t):
    _, v = eig(a)  # recomputed: the forward kept only w
    return _unless_defective(diagonal(solve(v, t @ v), 0, -2, -1), v)


def _eigvals_vjp(ans, a, g):
    _, v = eig(a)
    return _unless_defective(solve(mT(v), expand_dims(g, -1) * mT(v)), v)


# The eigenvalues alone need no gaps between them (dw_i = (V^-1 dA V)_ii), so eigvals is its
# own primitive rather than eig(a)[0], whose VJP would multiply zero cotangents of V by 1/gaps.
eigvals_p = Primitive("linalg.eigvals",
                      lambda a: _xp(a).linalg.eigvals(a).astype(_complex_dtype(a.dtype),
                                                                copy=False),
                      vjp=[_eigvals_vjp], jvp=[_eigvals_jvp])


def eig(a):
    """`numpy.linalg.eig`: eigenvalues w and right eigenvectors V (a V = V diag(w)) of a general
    square matrix, differentiable, batched over leading axes.

    Args:
      a: (..., n, n) real or complex array.

    Returns:
      EigResult(eigenvalues (..., n), eigenvectors (..., n, n)), always complex (complex64 for
      float32/complex64 input, else complex128), even for real input whose eigenvalues are
      real; the columns of V have unit 2-norm, as NumPy's.

    Caveats: the eigenvector part of the rules divides by w_j - w_i: at repeated eigenvalues it
    follows the rule of `eigh` (NaN where the tie is coupled; functions of the eigenvalues alone
    stay finite, exact for symmetric ones). All rules solve with V: at a defective matrix (V
    singular to working precision, a Jordan block) they give NaN, since its eigenvalues have no
    derivative there (near-defective ones are fine). Each eigenvector is defined only up to a phase (a unit complex factor; a sign
    for real ones), which the forward computation picks arbitrarily, so only functions of V
    that do not depend on those phases have meaningful derivatives: |V|, V diag(w) V^-1,
    v_j v_j^H ... (the rule returns the derivative that keeps each norm and changes no phase
    along v_j). For functions of the eigenvalues alone `eigvals` saves the eigenvectors' part.
    For real input the cotangent of `a` is real (the real part). On CuPy arrays this calls
    `cupy.linalg.eig` (recent CuPy releases only), whose eigenvalue order may differ from
    NumPy's.

    Example:
      >>> w, v = gnp.linalg.eig(a)
      >>> ga.grad(lambda a: gnp.sum(gnp.abs(gnp.linalg.eig(a)[1]) ** 4))(a)
    """
    a = asarray_traced(a)
    square_check("linalg.eig", a)
    return EigResult(*eig_p.bind(a))


def eigvals(a):
    """`numpy.linalg.eigvals`: the eigenvalues (..., n) of a general square matrix, complex,
    differentiable where they are distinct (dw_i = (V^-1 da V)_ii); see `eig`."""
    a = asarray_traced(a)
    square_check("linalg.eigvals", a)
    return eigvals_p.bind(a)


# ---- norms -----------------------------------------------------------------------------------
def _abs_power_sum(x, p, axis, keepdims):
    return _sum(power(absolute(x), p), axis=axis, keepdims=keepdims)


def _vector_norm(x, ord, axis, keepdims):
    if ord is None or ord == 2:
        ax = absolute(x) if primal_value(x).dtype.kind == "c" else x
        return sqrt(_sum(square(ax), axis=axis, keepdims=keepdims))
    if ord == np.inf:
        return _max(absolute(x), axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return _min(absolute(x), axis=axis, keepdims=keepdims)
    if ord == 0:
        raw = primal_value(x)
        return _xp(raw).sum(raw != 0, axis=axis, keepdims=keepdims).astype(raw.dtype)
    if ord == 1:
        return _sum(absolute(x), axis=axis, keepdims=keepdims)
    if isinstance(ord, str):
        raise ValueError(f"linalg.norm: ord={ord!r} is a matrix norm; give a 2-tuple axis or a "
                         f"2-D array")
    return power(_abs_power_sum(x, ord, axis, keepdims), 1.0 / ord)


def _matrix_norm(x, ord, axes, keepdims):
    row, col = axes
    if ord in (None, "fro"):
        out = _vector_norm(x, 2, axes, True)
    elif ord == "nuc" or ord in (2, -2):
        moved = moveaxis(x, (row, col), (-2, -1))
        s = svdvals(moved)  # descending
        out = _sum(s, axis=-1) if ord == "nuc" else (getitem(s, (Ellipsis, 0)) if ord == 2
                                                      else getitem(s, (Ellipsis, -1)))
        out = expand_dims(expand_dims(out, -1), -1)
        out = moveaxis(out, (-2, -1), (row, col))
    elif ord in (1, -1):
        sums = _sum(absolute(x), axis=row, keepdims=True)
        out = (_max if ord == 1 else _min)(sums, axis=col, keepdims=True)
    elif ord in (np.inf, -np.inf):
        sums = _sum(absolute(x), axis=col, keepdims=True)
        out = (_max if ord == np.inf else _min)(sums, axis=row, keepdims=True)
    else:
        raise ValueError(f"linalg.norm: invalid norm order {ord!r} for matrices")
    if not keepdims:
        out = reshape(out, tuple(n for i, n in enumerate(shape_of(out)) if i not in axes))
    return out


def norm(x, ord=None, axis=None, keepdims=False):
    """`numpy.linalg.norm`: vector norms (ord None/2, 1, inf, -inf, 0, p) and matrix norms
    ('fro', 'nuc', 1, -1, 2, -2, inf, -inf), differentiable (not at 0 for the 2-norm, whose
    gradient x/|x| is undefined there)."""
    x = asarray_traced(x)
    nd = len(shape_of(x))
    if axis is None:
        if ord is None:
            return _vector_norm(reshape(x, (-1,)) if not keepdims else x,
                                None, None if not keepdims else tuple(range(nd)), keepdims)
        axis = tuple(range(nd))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    axes = tuple(a % nd for a in axes)
    if len(axes) == 1:
        return _vector_norm(x, ord, axes, keepdims)
    if len(axes) == 2:
        return _matrix_norm(x, ord, axes, keepdims)
    raise ValueError(f"linalg.norm: axis must name 1 or 2 axes, got {axis!r}")


def matrix_rank(a, tol=None, hermitian=False, *, rtol=None):
    """`numpy.linalg.matrix_rank` (an integer: not differentiable)."""
    raw = primal_value(a)
    extra = {k: v for k, v in (("hermitian", hermitian), ("rtol", rtol)) if v}
    return _xp(raw).linalg.matrix_rank(raw, tol, **extra)


# ---- powers and chains of products -----------------------------------------------------------
def matrix_power(a, n):
    """`numpy.linalg.matrix_power`: a^n for an integer n by repeated squaring (n < 0 through
    `inv`), differentiable; batched over leading axes. n = 0 gives the identity (a constant)."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"linalg.matrix_power: the exponent must be an integer, got {n!r}; for "
                        f"real powers use eigh or scipy.linalg.fractional_matrix_power")
    a = asarray_traced(a)
    square_check("linalg.matrix_power", a)
    n = int(n)
    if n == 0:
        raw = primal_value(a)
        eye = _xp(raw).eye(shape_of(a)[-1], dtype=raw.dtype)
        return _xp(raw).broadcast_to(eye, shape_of(a)).copy()
    if n < 0:
        a, n = inv(a), -n
    result, base = None, a
    while n:  # binary exponentiation: log2(n) squarings
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    return result


def _chain_order(dims):
    """The cheapest parenthesization of a matrix chain with shapes dims[i] x dims[i+1]
    (the textbook O(k^3) dynamic programme NumPy's multi_dot uses): split[i][j]."""
    k = len(dims) - 1
    cost = [[0] * k for _ in range(k)]
    split = [[0] * k for _ in range(k)]
    for length in range(1, k):
        for i in range(k - length):
            j = i + length
            cost[i][j] = None
            for s in range(i, j):
                c = cost[i][s] + cost[s + 1][j] + dims[i] * dims[s + 1] * dims[j + 1]
                if cost[i][j] is None or c < cost[i][j]:
                    cost[i][j], split[i][j] = c, s
    return split


def multi_dot(arrays):
    """`numpy.linalg.multi_dot`: the product of a chain of matrices in the cheapest order, the
    first and last may be 1-D (a row and a column vector); differentiable in every factor."""
    arrays = [asarray_traced(x) for x in arrays]
    if len(arrays) < 2:
        raise ValueError("linalg.multi_dot: give at least two arrays")
    first_1d, last_1d = len(shape_of(arrays[0])) == 1, len(shape_of(arrays[-1])) == 1
    if first_1d:
        arrays[0] = reshape(arrays[0], (1, -1))
    if last_1d:
        arrays[-1] = reshape(arrays[-1], (-1, 1))
    for i, x in enumerate(arrays):
        if len(shape_of(x)) != 2:
            raise ValueError(f"linalg.multi_dot: array {i} has shape {shape_of(x)}; all must be "
                             f"2-D (the first and last may be 1-D)")
    for i in range(len(arrays) - 1):
        if shape_of(arrays[i])[1] != shape_of(arrays[i + 1])[0]:
            raise ValueError(f"linalg.multi_dot: shapes {shape_of(arrays[i])} (array {i}) and "
                             f"{shape_of(arrays[i + 1])} (array {i + 1}) do not align")
    dims = [shape_of(arrays[0])[0]] + [shape_of(x)[1] for x in arrays]
    split = _chain_order(dims)

    def product(i, j):
        if i == j:
            return arrays[i]
        return matmul(product(i, split[i][j]), product(split[i][j] + 1, j))

    out = product(0, len(arrays) - 1)
    if first_1d and last_1d:
        return reshape(out, ())
    if first_1d:
        return reshape(out, (-1,))
    if last_1d:
        return reshape(out, (-1,))
    return out


# ---- singular value decomposition ------------------------------------------------------------
def _svd_phase_term(dp, s):
    """i Im(diag(dP)) / s: the one complex-only term of dU (the gauge puts the phase change of
    each singular pair on u_i, none on v_i, as JAX does)."""
    return 1j * imag(diagonal(dp, 0, -2, -1)) / s


def _svd_jvp(ans, a, t):
    # Reduced SVD a = U diag(s) V^H with dP = U^H da V and F[i, j] = 1 / (s_j^2 - s_i^2):
    #   ds = Re diag(dP)
    #   dU = U (F o (dP S + S dP^H) + i Im diag(dP) S^-1) + (I - U U^H) da V S^-1
    #   dV = V (F o (S dP + dP^H S)) + (I - V V^H) da^H U S^-1
    # (the projector terms vanish when U, resp. V, is square; the i Im term only for complex a).
    u, s, vh = ans
    v = mH(vh)
    m, n = shape_of(a)[-2:]
    k = builtins.min(m, n)
    dp = mH(u) @ t @ v
    gaps, (ties, _) = _gaps(s * s), _ties(s, builtins.max(m, n))
    s_row, s_col = expand_dims(s, -2), expand_dims(s, -1)
    dps, sdp = dp * s_row, s_col * dp
    du = u @ _over_gaps(dps + mH(dps), gaps, ties)
    dv = v @ _over_gaps(sdp + mH(sdp), gaps, ties)
    ds = diagonal(dp, 0, -2, -1)
    if is_complex(dp):
        du = du + u * expand_dims(_svd_phase_term(dp, s), -2)
        ds = real(ds)
    if m > k:
        tv = t @ v
        du = du + (tv - u @ (mH(u) @ tv)) / s_row
    if n > k:
        thu = mH(t) @ u
        dv = dv + (thu - v @ (mH(v) @ thu)) / s_row
    return du, ds, mH(dv)


def _svd_vjp(ans, a, g):
    # The transpose of _svd_jvp (pairing Re(sum(x * y))): with gV = gVh^H, Ju = F o (U^T gU),
    # Jv = F o (V^T gV),
    #   M  = diag(gs) + (Ju + Ju^H) S + S (Jv + Jv^H) + i Im diag(U^T gU) S^-1
    #   ga = conj(U) M V^T + (I - conj(U) U^T) gU S^-1 V^T + conj(U S^-1 gV^T (I - V V^H))
    # (conj and ^H are no-ops for real a: the real rule U M V^T + ...). A None in g (no
    # cotangent for U, S or Vh: sparse_cotangents below) drops its terms, so a function of S
    # alone divides by no gap and no singular value.
    u, s, vh = ans
    gu, gs, gvh = g
    m, n = shape_of(a)[-2:]
    k = builtins.min(m, n)
    s_row, s_col = expand_dims(s, -2), expand_dims(s, -1)
    middle = None if gs is None else _diag_embed(gs)
    if gu is not None or gvh is not None:
        gaps, (ties, exact) = _gaps(s * s), _ties(s, builtins.max(m, n))
    if gu is not None:
        utgu = mT(u) @ gu
        ju = _over_gaps(utgu, gaps, ties, exact)
        part = (ju + mH(ju)) * s_row
        if is_complex(utgu):
            part = part + _diag_embed(_svd_phase_term(utgu, s))
        middle = part if middle is None else middle + part
    if gvh is not None:
        v, gv = mH(vh), mH(gvh)
        jv = _over_gaps(mT(v) @ gv, gaps, ties, exact)
        part = s_col * (jv + mH(jv))
        middle = part if middle is None else middle + part
    vt = conj_if_complex(vh)  # V^T
    ga = conj_if_complex(u) @ middle @ vt
    if m > k and gu is not None:
        ga = ga + ((gu - conj_if_complex(u) @ utgu) / s_row) @ vt
    if n > k and gvh is not None:
        gvt = mT(gv)
        ga = ga + conj_if_complex((u / s_row) @ (gvt - (gvt @ v) @ vh))
    return ga


svd_p = Primitive("linalg.svd",
                  lambda a: tuple(_xp(a).linalg.svd(a, full_matrices=False)),
                  vjp=[_svd_vjp], jvp=[_svd_jvp], multiple_results=True)
svd_p.sparse_cotangents = True


def _svdvals_vjp(ans, a, g):
    # ds_i = Re(u_i^H da v_i): ga = conj(U diag(g) V^H)
    u, _, vh = svd(a, full_matrices=False)  # recomputed: the forward kept only s
    return conj_if_complex((u * expand_dims(g, -2)) @ vh)


def _svdvals_jvp(ans, a, t):
    u, _, vh = svd(a, full_matrices=False)
    ds = diagonal(mH(u) @ t @ mH(vh), 0, -2, -1)
    return real(ds) if is_complex(ds) else ds


# The singular values alone have a rule that needs no gaps between them (ds_i = u_i^T da v_i),
# so svd(compute_uv=False) is its own primitive rather than svd(...)[1], whose VJP would divide
# zero cotangents of U and V by those gaps.
svdvals_p = Primitive("linalg.svdvals", lambda a: _xp(a).linalg.svd(a, compute_uv=False),
                      vjp=[_svdvals_vjp], jvp=[_svdvals_jvp])
SVDResult = namedtuple("SVDResult", ["U", "S", "Vh"])


def _is_traced(x):
    return type(x) in TRACER_TYPES


def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """`numpy.linalg.svd`: a = U diag(S) Vh, differentiable for real and complex matrices,
    batched over leading axes.

    Args:
      a: (..., m, n) real or complex array.
      full_matrices: True gives U (..., m, m) and Vh (..., n, n) as NumPy does; when a is traced
        and not square, the extra columns of U or rows of Vh are not unique (any orthonormal
        completion will do), so they have no derivative: pass full_matrices=False (reduced,
        U (..., m, k), Vh (..., k, n), k = min(m, n)) to differentiate.
      compute_uv: False returns only S (..., k), descending.
      hermitian: take a to be Hermitian and compute as NumPy does then, from `eigh` (which
        reads the lower triangle): S = |w| in descending order, U the eigenvectors in that
        order, Vh = (U sign(w))^H; differentiable through eigh's rules.

    Returns:
      SVDResult(U, S, Vh), or S alone when compute_uv is False.

    Each pair (u_i, v_i) is defined only up to a common phase (a sign for real a), which the
    forward computation picks, so only functions of U and Vh that do not depend on those phases
    have meaningful derivatives: U diag(S) Vh, U Vh, |U|, u_i u_i^H, ... (the rule puts the
    phase change of each pair on u_i, as JAX does).

    Repeated and zero singular values. S alone (compute_uv=False, or S with U and Vh unused)
    has the finite first derivative ds_i = Re(u_i^H da v_i) everywhere: exact for functions
    symmetric in tied values that are smooth (sum(s ** 2), the nuclear norm of a full-rank a),
    elsewhere (s[0] at a tie, s_i at 0, where s is a corner like |x|) one valid generalized
    gradient. The derivatives of U and Vh divide by s_j^2 - s_i^2, and by s_i when a is not
    square or complex: at tied values (within 16 max(m, n) eps max(s)) they follow the rule of
    `eigh` (NaN, or 0 for a pair the tangent or cotangent does not couple), at an exactly zero
    s_i they are NaN (u_i, or the phase of the pair, is not unique there); near zero they stay
    exact (U diag(S) Vh divides s_i by itself). Second derivatives of functions of S pass
    through U and Vh and are NaN at ties.

    Example:
      >>> u, s, vh = gnp.linalg.svd(a, full_matrices=False)
      >>> ga.grad(lambda a: gnp.linalg.svd(a, compute_uv=False)[0])(a)   # u_0 v_0^T
    """
    a = asarray_traced(a)
    s_ = shape_of(a)
    if len(s_) < 2:
        raise ValueError(f"linalg.svd: expected a matrix (or a stack, shape (..., m, n)), got "
                         f"shape {s_}")
    if hermitian:
        if not _is_traced(a):
            out = _xp(a).linalg.svd(a, full_matrices, compute_uv, hermitian=True)
            return SVDResult(*out) if compute_uv else out
        return _svd_hermitian(a, compute_uv)
    if not compute_uv:
        return svdvals_p.bind(a)
    if full_matrices and s_[-1] != s_[-2]:
        if not _is_traced(a):
            return SVDResult(*_xp(a).linalg.svd(a, full_matrices=True, hermitian=hermitian))
        raise NotImplementedError(
            f"linalg.svd: full_matrices=True of a non-square matrix (shape {s_}) has no "
            f"derivative: the extra columns of U or rows of Vh are an arbitrary orthonormal "
            f"completion. Use full_matrices=False (the reduced SVD).")
    return SVDResult(*svd_p.bind(a))


def _svd_hermitian(a, compute_uv):
    """NumPy's svd(a, hermitian=True), in gpuad.numpy ops."""
    square_check("linalg.svd", a)
    if not compute_uv:
        s = sort(absolute(eigvalsh(a)), axis=-1)
        return getitem(s, (Ellipsis, slice(None, None, -1)))
    w, u = eigh(a)
    s = absolute(w)
    order = getitem(argsort(s, axis=-1), (Ellipsis, slice(None, None, -1)))
    signs = take_along_axis(sign(w), order, -1)
    u = take_along_axis(u, broadcast_to(expand_dims(order, -2), shape_of(u)), -1)
    return SVDResult(u, take_along_axis(s, order, -1), mH(u * expand_dims(signs, -2)))


def svdvals(x):
    """`numpy.linalg.svdvals`: the singular values (descending), differentiable; see `svd`."""
    return svd(x, compute_uv=False)


# ---- QR decomposition ------------------------------------------------------------------------
def _qr_jvp(ans, a, t):
    # a = QR (m >= n), R with a real diagonal. With C = Q^H da R^-1, Q^H dQ is anti-Hermitian
    # and dR R^-1 upper triangular with a real diagonal, so
    #   Omega = Q^H dQ = tril(C, -1) - tril(C, -1)^H + i Im diag(C)   (the last: complex only)
    #   dR = (C - Omega) R,  dQ = Q Omega + (I - Q Q^H) da R^-1.
    q, r = ans
    t_rinv = mT(solve(mT(r), mT(t)))
    c = mH(q) @ t_rinv
    low = tril(c, -1)
    omega = low - mH(low)
    if is_complex(c):
        omega = omega + _diag_embed(1j * imag(diagonal(c, 0, -2, -1)))
    return q @ (omega - c) + t_rinv, (c - omega) @ r


def _qr_vjp(ans, a, g):
    # The transpose of _qr_jvp (Walter and Lehmann 2018; Liao et al. 2019, eq. 4, for real a):
    #   Z = gR R^T - Q^T gQ,  gC = triu(Z, 1) + tril(Z^H, -1) + Re diag(Z),
    #   ga = (gQ + conj(Q) gC) R^-T
    q, r = ans
    gq, gr = g
    z = gr @ mT(r) - mT(q) @ gq
    gc = triu(z, 1) + tril(mH(z), -1)
    d = diagonal(z, 0, -2, -1)
    gc = gc + _diag_embed(real(d) if is_complex(d) else d)
    b = gq + conj_if_complex(q) @ gc
    return mT(solve(r, mT(b)))


qr_p = Primitive("linalg.qr", lambda a: tuple(_xp(a).linalg.qr(a, mode="reduced")),
                 vjp=[_qr_vjp], jvp=[_qr_jvp], multiple_results=True)
QRResult = namedtuple("QRResult", ["Q", "R"])


def qr(a, mode="reduced"):
    """`numpy.linalg.qr`: a = Q R with orthonormal Q and upper-triangular R, differentiable for
    real and complex matrices of full rank, batched over leading axes.

    Args:
      a: (..., m, n) real or complex array (for complex a, R has a real diagonal, as LAPACK
        gives it, which makes the factorisation and its derivative unique).
      mode: 'reduced' (Q (..., m, k), R (..., k, n), k = min(m, n)) or 'r' (R only). 'complete'
        is differentiable only when m <= n (then it equals 'reduced'): the extra columns of Q
        are an arbitrary orthonormal completion.

    A wide matrix (m < n) [X Y] is factored as X = Q R1 (square) and R = [R1, Q^T Y], so its
    rule is that of the square case. The rules solve with R: rank-deficient inputs (a zero on
    R's diagonal) have no derivative.

    Example:
      >>> q, r = gnp.linalg.qr(a)
    """
    if mode not in ("reduced", "complete", "r", "raw"):
        raise ValueError(f"linalg.qr: unknown mode {mode!r}; use 'reduced', 'complete' or 'r'")
    a = asarray_traced(a)
    s_ = shape_of(a)
    if len(s_) < 2:
        raise ValueError(f"linalg.qr: expected a matrix (or a stack, shape (..., m, n)), got "
                         f"shape {s_}")
    m, n = s_[-2:]
    if not _is_traced(a):
        out = _xp(a).linalg.qr(a, mode=mode)
        return out if mode == "r" else QRResult(*out) if mode != "raw" else out
    if mode == "raw" or (mode == "complete" and m > n):
        raise NotImplementedError(f"linalg.qr: mode={mode!r} of a traced matrix of shape {s_} "
                                  f"has no derivative; use mode='reduced'")
    if m >= n:
        q, r = qr_p.bind(a)
    else:
        q, r1 = qr_p.bind(getitem(a, (Ellipsis, slice(None), slice(0, m))))
        r = concatenate([r1, mH(q) @ getitem(a, (Ellipsis, slice(None), slice(m, None)))],
                        axis=-1)
    return r if mode == "r" else QRResult(q, r)


# ---- pseudo-inverse and least squares --------------------------------------------------------
def _pinv_jvp(ans, a, t, *, rcond):
    # Golub and Pereyra (1973), valid where the rank is constant near a:
    #   dX = -X da X + X X^H da^H (I - a X) + (I - X a) da^H X^H X
    x = ans
    th = mH(t)
    return (-(x @ t @ x) + x @ mH(x) @ (th - (th @ a) @ x)
            + (th - x @ (a @ th)) @ mH(x) @ x)


def _pinv_vjp(ans, a, g, *, rcond):
    # The transpose of _pinv_jvp (pairing Re(sum(x * y)); the da^H terms transpose to conj):
    #   ga = -X^T g X^T + conj((I - a X) g^T X X^H + X^H X g^T (I - X a))
    x = ans
    gt = mT(g)
    return (-(mT(x) @ g @ mT(x)) + conj_if_complex((gt - a @ (x @ gt)) @ x @ mH(x)
                                           + mH(x) @ x @ (gt - (gt @ x) @ a)))


pinv_p = Primitive("linalg.pinv", lambda a, *, rcond: _xp(a).linalg.pinv(a, rcond=rcond),
                   vjp=[_pinv_vjp], jvp=[_pinv_jvp])


_NO_VALUE = object()  # NumPy's pinv tells an omitted rtol from rtol=None


def pinv(a, rcond=None, hermitian=False, *, rtol=_NO_VALUE):
    """`numpy.linalg.pinv`: the Moore-Penrose pseudo-inverse (singular values at or below
    rcond * largest count as zero), differentiable, batched over leading axes.

    Args:
      a: (..., m, n) real or complex array.
      rcond, rtol: the relative cutoff, as NumPy 2 takes them: rcond, else rtol, where
        rtol=None means max(m, n) * eps; neither given, 1e-15 (NumPy's default, for every
        dtype). Give one of them, not both.
      hermitian: take a to be Hermitian: as NumPy (whose path uses eigh), the pseudo-inverse of
        the Hermitian matrix its lower triangle stands for, and the gradient lies in that
        triangle.

    Returns:
      (..., n, m).

    Caveat: the pseudo-inverse is differentiable only where the rank is locally constant; the
    rule (Golub and Pereyra 1973) is the derivative along perturbations that keep the rank
    given by the cutoff. A matrix whose small singular values are near the cutoff has no
    meaningful gradient (the function jumps there). Full-rank inputs are always fine.
    """
    a = asarray_traced(a)
    s_ = shape_of(a)
    if len(s_) < 2:
        raise ValueError(f"linalg.pinv: expected a matrix (or a stack, shape (..., m, n)), got "
                         f"shape {s_}")
    if rcond is None:
        if rtol is _NO_VALUE:
            rcond = 1e-15
        elif rtol is None:
            rcond = builtins.max(s_[-2:]) * float(np.finfo(primal_value(a).dtype).eps)
        else:
            rcond = rtol
    elif rtol is not _NO_VALUE:
        raise ValueError("linalg.pinv: give rcond or rtol, not both")
    if hermitian:
        if not _is_traced(a):
            return _xp(a).linalg.pinv(a, rcond=rcond, hermitian=True)
        square_check("linalg.pinv", a)
        a = _symmetric_from_triangle(a, True)
    return pinv_p.bind(a, rcond=float(rcond))


LstsqResult = namedtuple("LstsqResult", ["x", "residuals", "rank", "singular_values"])


def lstsq(a, b, rcond=None):
    """`numpy.linalg.lstsq`: the minimum-norm least-squares solution of a x = b, as NumPy's tuple
    (x, residuals, rank, singular values); x is pinv(a) @ b, differentiable in a and b (see
    `pinv` for the rank caveat); the residuals and singular values are differentiable too.

    Args:
      a: (m, n); b: (m,) or (m, k); rcond: singular values at or below rcond * largest count as
        zero (default max(m, n) * 2.2e-16, float64's eps also for float32 input, as NumPy).

    Returns:
      x (n,) or (n, k); residuals (k,) or (1,): the squared residual norms when rank == n < m,
      else empty; rank (int); singular values (min(m, n),).
    """
    a, b = asarray_traced(a), asarray_traced(b)
    sa, sb = shape_of(a), shape_of(b)
    if len(sa) != 2:
        raise ValueError(f"linalg.lstsq: a must be 2-D, got shape {sa}")
    if len(sb) not in (1, 2) or sb[0] != sa[0]:
        raise ValueError(f"linalg.lstsq: b must have shape ({sa[0]},) or ({sa[0]}, k) to match "
                         f"a of shape {sa}, got {sb}")
    m, n = sa
    refuse_vmap("linalg.lstsq", a)  # the rank is read off the singular values
    if rcond is None:  # NumPy's: float64's eps whatever the dtype (it solves in double)
        rcond = builtins.max(m, n) * float(np.finfo(np.float64).eps)
    s = svd(a, compute_uv=False)
    s_raw = primal_value(s)
    rank = int((s_raw > rcond * s_raw.max()).sum()) if s_raw.size else 0
    x = matmul(pinv(a, rcond), b)
    if rank == n and m > n:
        r = b - matmul(a, x)
        residuals = _sum(r * r, axis=0)
        if len(sb) == 1:
            residuals = reshape(residuals, (1,))
    else:
        residuals = _xp(s_raw).empty((0,), dtype=primal_value(x).dtype)
    return LstsqResult(x, residuals, rank, s)
