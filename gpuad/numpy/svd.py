"""The singular value decomposition and what is built on it, for `gnp.linalg`: svd, svdvals,
norm (the nuclear and spectral norms need the singular values), matrix_rank, pinv, lstsq.
Every rule works on stacks of matrices (leading batch axes) and on complex matrices.
"""
import builtins
from collections import namedtuple

import numpy as np

from .. import backend
from ..trace import TRACER_TYPES, Primitive, primal_value
from .batch_rules import map_rule
from .elementwise import absolute, imag, power, real, sign, sqrt, square
from .helpers import conj_if_complex, is_complex, mH, mT, refuse_vmap, shape_of, square_check
from .indexing import getitem, sort, take_along_axis
from .products import diagonal, matmul
from .reductions import argsort
from .reductions import max as _max
from .reductions import min as _min
from .reductions import sum as _sum
from .shapes import asarray_traced, broadcast_to, expand_dims, moveaxis, reshape


def _xp(*xs):
    return backend.namespace(*xs)

from .factorizations import (
    diag_embed,
    eigh,
    eigvalsh,
    over_gaps,
    pairwise_gaps,
    symmetric_from_triangle,
    tied_pairs,
)


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
    gaps, (ties, _) = pairwise_gaps(s * s), tied_pairs(s, builtins.max(m, n))
    s_row, s_col = expand_dims(s, -2), expand_dims(s, -1)
    dps, sdp = dp * s_row, s_col * dp
    du = u @ over_gaps(dps + mH(dps), gaps, ties)
    dv = v @ over_gaps(sdp + mH(sdp), gaps, ties)
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
    middle = None if gs is None else diag_embed(gs)
    if gu is not None or gvh is not None:
        gaps, (ties, exact) = pairwise_gaps(s * s), tied_pairs(s, builtins.max(m, n))
    if gu is not None:
        utgu = mT(u) @ gu
        ju = over_gaps(utgu, gaps, ties, exact)
        part = (ju + mH(ju)) * s_row
        if is_complex(utgu):
            part = part + diag_embed(_svd_phase_term(utgu, s))
        middle = part if middle is None else middle + part
    if gvh is not None:
        v, gv = mH(vh), mH(gvh)
        jv = over_gaps(mT(v) @ gv, gaps, ties, exact)
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
                  vjp=[_svd_vjp], jvp=[_svd_jvp], multiple_results=True, batch=map_rule)
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
                      vjp=[_svdvals_vjp], jvp=[_svdvals_jvp], batch=map_rule)
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


# ---- norms -----------------------------------------------------------------------------------
def _abs_power_sum(x, p, axis, keepdims):
    return _sum(power(absolute(x), p), axis=axis, keepdims=keepdims)


def _vector_norm(x, ord, axis, keepdims):
    if ord is None or ord == 2:
        ax = absolute(x) if x.dtype.kind == "c" else x
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
                   vjp=[_pinv_vjp], jvp=[_pinv_jvp], batch=map_rule)


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
            rcond = builtins.max(s_[-2:]) * float(np.finfo(a.dtype).eps)
        else:
            rcond = rtol
    elif rtol is not _NO_VALUE:
        raise ValueError("linalg.pinv: give rcond or rtol, not both")
    if hermitian:
        if not _is_traced(a):
            return _xp(a).linalg.pinv(a, rcond=rcond, hermitian=True)
        square_check("linalg.pinv", a)
        a = symmetric_from_triangle(a, True)
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
        residuals = _xp(s_raw).empty((0,), dtype=x.dtype)
    return LstsqResult(x, residuals, rank, s)
