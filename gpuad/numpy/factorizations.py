"""Factorizations, for `gnp.linalg`: cholesky, eigh, eigvalsh, eig, eigvals, qr (the SVD and
what is built on it are in svd.py).

Every rule works on stacks of matrices (leading batch axes) and on complex matrices (transposes
at the interface, conjugate transposes where the math has them).

Matrices NumPy reads only one triangle of (`cholesky`, `eigh`, lower by default) are
differentiated as the functions NumPy computes: the gradient lies in that triangle, the
off-diagonal part counted twice because it also stands for the mirrored element. To get the
symmetric gradient usual in papers, symmetrize the input yourself: `cholesky((a + a.mT) / 2)`.
"""
from collections import namedtuple

import numpy as np

from .. import backend
from ..trace import TRACER_TYPES, Primitive, namespace_of, nondiff, primal_value, strip_derivatives
from .batch_rules import map_rule
from .elementwise import absolute, conjugate, imag, real, where
from .helpers import conj_if_complex, is_complex, mH, mT, shape_of, square_check
from .indexing import getitem
from .logic import logical_and, logical_or
from .manipulation import concatenate
from .products import diagonal, tril, triu
from .reductions import max as _max
from .reductions import sum as _sum
from .shapes import asarray_traced, expand_dims


def _xp(*xs):
    return backend.namespace(*xs)

from .solvers import solve


# ---- cholesky and eigh -----------------------------------------------------------------------
def symmetric_from_triangle(t, lower):
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
    symmetric (Hermitian) matrix it stands for: the transpose of `symmetric_from_triangle`, so
    the off-diagonal elements count twice (see the module doc) and, for complex input, the
    diagonal only by its real part."""
    sym = (m + mH(m)) * 0.5
    return (2.0 * tril(sym, -1) if lower else 2.0 * triu(sym, 1)) + tril(triu(sym))


def _phi(x):
    """The lower triangle with the diagonal halved (the Cholesky derivative's projection)."""
    return tril(x, -1) + 0.5 * tril(triu(x))


def _cholesky_jvp(ans, a, t):
    # dL = L Phi(L^-1 dS L^-H), with dS the Hermitian perturbation the lower triangle stands for.
    ds = symmetric_from_triangle(t, True)
    middle = solve(ans, mH(solve(ans, ds)))  # dS = dS^H
    return ans @ _phi(middle)


def _cholesky_vjp(ans, a, g):
    p = _phi(mT(ans) @ g)
    # The cotangent of the Hermitian matrix, L^-T P conj(L)^-1 (Murray 2016, eq. 10, for real L).
    s = solve(mT(ans), mT(solve(mH(ans), mT(p))))
    return _triangle_gradient(s, True)


cholesky_p = Primitive("linalg.cholesky", lambda a: _xp(a).linalg.cholesky(a),
                       vjp=[_cholesky_vjp], jvp=[_cholesky_jvp], batch=map_rule)


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


def pairwise_gaps(w):
    """gaps[..., i, j] = w[..., j] - w[..., i] (eigh's and svd's rules divide by them)."""
    return expand_dims(w, -2) - expand_dims(w, -1)


def tied_pairs(w, size):
    """Off-diagonal pairs (i, j) with |w[i] - w[j]| <= 16 size eps max|w| (a constant mask), and
    among them those exactly equal. Written with gpuad.numpy ops on the values, so that under
    vmap each example gets its own."""
    w = strip_derivatives(w)
    eps = float(np.finfo(w.dtype).eps)
    tol = expand_dims(_max(absolute(w), axis=-1, keepdims=True), -1) * (_TIE_ULPS * size * eps)
    gap = pairwise_gaps(w)
    off = ~namespace_of(w).eye(shape_of(w)[-1], dtype=bool)
    return logical_and(absolute(gap) <= tol, off), logical_and(gap == 0, off)


def over_gaps(m, gaps, ties, nan_pairs=None):
    """m[i, j] / gaps[i, j] off the diagonal, 0 on it: the eigenvector (singular vector) part of
    a rule, with gaps[i, j] = w[j] - w[i] (or s[j]^2 - s[i]^2).

    On tied pairs 1 / gap is infinite or rounding noise, and the eigenvectors are not
    determined by the matrix: a pair that m does not couple (m[i, j] = m[j, i] = 0 exactly)
    contributes 0, the limit and the exact value at distinct values; any other is NaN, and so
    are the pairs in `nan_pairs` (see `eigh` for why)."""
    eye = namespace_of(gaps).eye(shape_of(m)[-1], dtype=bool)
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
    ds = symmetric_from_triangle(t, UPLO == "L")
    vh_ds_v = mH(v) @ ds @ v
    dw = diagonal(vh_ds_v, 0, -2, -1)
    ties, _ = tied_pairs(w, shape_of(w)[-1])
    dv = v @ over_gaps(vh_ds_v, pairwise_gaps(w), ties)
    return (real(dw) if is_complex(dw) else dw), dv


def _eigh_vjp(ans, a, g, *, UPLO):
    # The transpose of _eigh_jvp: the cotangent of dS is conj(V) (diag(gw) + F o (V^T gV)) V^T.
    # gw or gv is None where that output has no cotangent (sparse_cotangents below): without
    # gV no gap is divided by, so functions of the eigenvalues have finite gradients at ties.
    w, v = ans
    gw, gv = g
    middle = None if gw is None else diag_embed(gw)
    if gv is not None:
        ties, exact = tied_pairs(w, shape_of(w)[-1])
        part = over_gaps(mT(v) @ gv, pairwise_gaps(w), ties, exact)
        middle = part if middle is None else middle + part
    s = conj_if_complex(v) @ middle @ mT(v)
    return _triangle_gradient(s, UPLO == "L")


def diag_embed(d):
    n = shape_of(d)[-1]
    eye = namespace_of(d).eye(n, dtype=d.dtype)
    return expand_dims(d, -1) * eye


eigh_p = Primitive("linalg.eigh", lambda a, *, UPLO: tuple(_xp(a).linalg.eigh(a, UPLO=UPLO)),
                   vjp=[_eigh_vjp], jvp=[_eigh_jvp], multiple_results=True, batch=map_rule)
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
    dv = v @ over_gaps(c, pairwise_gaps(w), tied_pairs(w, shape_of(w)[-1])[0])
    dv = dv - v * real(_sum(conjugate(v) * dv, axis=-2, keepdims=True))
    return _unless_defective(diagonal(c, 0, -2, -1), v), _unless_defective(dv, v)


def _eig_vjp(ans, a, g):
    # The transpose of _eig_jvp (pairing Re(sum(x * y)), no conjugation):
    #   gV' = gV - conj(V) diag(Re(sum_i gV_ij V_ij))       (transpose of the normalisation)
    #   ga  = V^-T (diag(gw) + F o (V^T gV')) V^T
    # (gw or gv None: that output has no cotangent; without gV no gap is divided by)
    w, v = ans
    gw, gv = g
    middle = None if gw is None else diag_embed(gw)
    if gv is not None:
        gv = gv - conjugate(v) * real(_sum(gv * v, axis=-2, keepdims=True))
        ties, exact = tied_pairs(w, shape_of(w)[-1])
        part = over_gaps(mT(v) @ gv, pairwise_gaps(w), ties, exact)
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
    bad = _rcond(strip_derivatives(v)) < _TIE_ULPS * n * float(np.finfo(v.dtype).eps)
    if not primal_value(bad).any():
        return x
    for _ in range(len(shape_of(x)) - len(shape_of(bad))):
        bad = expand_dims(bad, -1)
    return where(bad, float("nan"), x)


eig_p = Primitive("linalg.eig", _eig_impl, vjp=[_eig_vjp], jvp=[_eig_jvp],
                  multiple_results=True, batch=map_rule)
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
                      vjp=[_eigvals_vjp], jvp=[_eigvals_jvp], batch=map_rule)


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
        omega = omega + diag_embed(1j * imag(diagonal(c, 0, -2, -1)))
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
    gc = gc + diag_embed(real(d) if is_complex(d) else d)
    b = gq + conj_if_complex(q) @ gc
    return mT(solve(r, mT(b)))


qr_p = Primitive("linalg.qr", lambda a: tuple(_xp(a).linalg.qr(a, mode="reduced")),
                 vjp=[_qr_vjp], jvp=[_qr_jvp], multiple_results=True, batch=map_rule)
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
    if type(a) not in TRACER_TYPES:
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
