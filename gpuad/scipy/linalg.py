"""`gpuad.scipy.linalg`: triangular, banded, Sylvester and Cholesky solves, matrix square root
and exponential, differentiable in every argument, forward and reverse, to any order.

`solve_triangular` and `sqrtm` are primitives; `cho_factor`, `cho_solve`, `expm`,
`solve_sylvester` and `solve_banded` are compositions. `solve_triangular` runs
`scipy.linalg.solve_triangular` on the CPU (SciPy is an optional dependency) and
`cupyx.scipy.linalg.solve_triangular` on CuPy arrays; the others need neither.

Like NumPy's cholesky, `solve_triangular` reads one triangle of `a`, so its gradient lies in that
triangle (and off the diagonal when `unit_diagonal=True`).
"""
import numpy as np

from .. import backend
from ..numpy.elementwise import conjugate
from ..numpy.helpers import mT, shape_of, shaped, square_check, unbroadcast
from ..numpy.indexing import getitem
from ..numpy.linalg import cholesky, einsum, matmul, solve, tril, triu
from ..numpy.shapes import asarray_traced, astype, reshape
from ..numpy.solvers import batch_solve
from ..trace import Primitive, namespace_of, primal_value


def _xp(*xs):
    return backend.namespace(*xs)


# ---- solve_triangular ------------------------------------------------------------------------
_TRANS = {0: 0, "N": 0, 1: 1, "T": 1, 2: 1, "C": 1}  # 'C' of a complex a: see solve_triangular


def _read_triangle(t, lower, unit_diagonal):
    """The part of `t` that solve_triangular reads: one triangle, without the diagonal if it is
    taken to be ones."""
    k = -1 if unit_diagonal else 0
    return tril(t, k) if lower else triu(t, -k)


def _op(m, trans):
    return mT(m) if trans else m


def _solve_triangular_impl(a, b, *, lower, trans, unit_diagonal):
    # SciPy's (and cupyx's) solve_triangular is 2-D only: stacks loop over the broadcast batch.
    # b is always (..., n, k) here (solve_triangular adds the axis of a vector right-hand side).
    kw = dict(lower=lower, trans=trans, unit_diagonal=unit_diagonal)
    if a.ndim == 2 and b.ndim == 2:
        return backend.linalg_function("solve_triangular", a, b, **kw)
    xp = _xp(a, b)
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = xp.broadcast_to(a, batch + a.shape[-2:])
    b = xp.broadcast_to(b, batch + b.shape[-2:])
    out = [backend.linalg_function("solve_triangular", a[i], b[i], **kw)
           for i in np.ndindex(*batch)]
    if not out:
        return xp.zeros(batch + b.shape[-2:], dtype=np.result_type(a.dtype, b.dtype))
    return xp.stack(out).reshape(batch + b.shape[-2:])


def _solve_triangular_vjp_a(ans, a, b, g, *, lower, trans, unit_diagonal):
    # x = op(T)^-1 b; the cotangent of op(T) is -op(T)^-T g x^T, transposed back if trans.
    gb = _solve_triangular(a, g, lower=lower, trans=1 - trans, unit_diagonal=unit_diagonal)
    gt = -(gb @ mT(ans)) if not trans else -(ans @ mT(gb))
    return unbroadcast(_read_triangle(gt, lower, unit_diagonal),
                       shaped(shape_of(a), a.dtype))


def _solve_triangular_vjp_b(ans, a, b, g, *, lower, trans, unit_diagonal):
    gb = _solve_triangular(a, g, lower=lower, trans=1 - trans, unit_diagonal=unit_diagonal)
    return unbroadcast(gb, shaped(shape_of(b), b.dtype))


def _solve_triangular_jvp_a(ans, a, b, t, *, lower, trans, unit_diagonal):
    dt = _op(_read_triangle(t, lower, unit_diagonal), trans)
    return -_solve_triangular(a, dt @ ans, lower=lower, trans=trans, unit_diagonal=unit_diagonal)


def _solve_triangular_jvp_b(ans, a, b, t, *, lower, trans, unit_diagonal):
    return _solve_triangular(a, t, lower=lower, trans=trans, unit_diagonal=unit_diagonal)


solve_triangular_p = Primitive(
    "linalg.solve_triangular", _solve_triangular_impl,
    vjp=[_solve_triangular_vjp_a, _solve_triangular_vjp_b],
    jvp=[_solve_triangular_jvp_a, _solve_triangular_jvp_b], batch=batch_solve)


def _solve_triangular(a, b, **params):
    return solve_triangular_p.bind(a, b, **params)


def solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False):
    """`scipy.linalg.solve_triangular`: x with op(a) x = b for triangular `a`, differentiable,
    batched over leading axes (which broadcast, as in `numpy.linalg.solve`).

    Args:
      a: (..., n, n) matrix or stack; only its `lower` (or upper) triangle is read, and not its
        diagonal when `unit_diagonal` (taken to be ones).
      b: (n,) (one vector, for every matrix of the stack) or (..., n, k) right-hand sides; as in
        NumPy 2's `solve`, b is a vector only when it is 1-D.
      trans: 0 or 'N' (solve a x = b), 1 or 'T' (a^T x = b), 2 or 'C' (a^H x = b; the same for
        real matrices).
      lower: use the lower triangle (default: upper, as SciPy).
      unit_diagonal: take the diagonal of `a` to be ones.

    Returns:
      x: (..., n) for a 1-D b, else (..., n, k), the leading axes those of a and b broadcast.
      SciPy's function is 2-D only: stacks run one solve per matrix (on NumPy and CuPy alike).

    Example:
      >>> solve_triangular(np.array([[2.0, 0.0], [1.0, 1.0]]), np.array([2.0, 3.0]), lower=True)
      array([1., 2.])
    """
    a, b = asarray_traced(a), asarray_traced(b)
    if trans not in _TRANS:
        raise ValueError(f"linalg.solve_triangular: trans must be 0, 1, 2, 'N', 'T' or 'C', "
                         f"got {trans!r}")
    sa, sb = shape_of(a), shape_of(b)
    if len(sa) < 2 or sa[-1] != sa[-2]:
        raise ValueError(f"linalg.solve_triangular: a must be a square matrix or a stack of them, "
                         f"shape (..., n, n), got shape {sa}")
    n = sa[-1]
    vector = len(sb) == 1
    if (vector and sb[0] != n) or (not vector and (len(sb) < 2 or sb[-2] != n)):
        raise ValueError(f"linalg.solve_triangular: b must have shape ({n},) or (..., {n}, k) to "
                         f"match a of shape {sa}, got shape {sb}")
    if not vector:
        try:
            np.broadcast_shapes(sa[:-2], sb[:-2])
        except ValueError:
            raise ValueError(f"linalg.solve_triangular: the batch axes of a {sa[:-2]} and b "
                             f"{sb[:-2]} (shapes {sa} and {sb}) do not broadcast") from None
    if trans in (2, "C") and a.dtype.kind == "c":
        a = conjugate(a)  # a^H x = b is conj(a)^T x = b: the primitive only transposes
    params = dict(lower=bool(lower), trans=_TRANS[trans], unit_diagonal=bool(unit_diagonal))
    if vector:
        return reshape(_solve_triangular(a, reshape(b, (n, 1)), **params), sa[:-2] + (n,))
    return _solve_triangular(a, b, **params)


# ---- Cholesky --------------------------------------------------------------------------------
def cho_factor(a, lower=False):
    """`scipy.linalg.cho_factor`: `(c, lower)` with c the Cholesky factor of a symmetric positive
    definite `a` (upper, reading the upper triangle of `a`, unless `lower`), differentiable.

    Unlike SciPy, the other triangle of `c` holds zeros, not leftovers of `a`; `cho_solve` reads
    only the factor's triangle either way.
    """
    a = asarray_traced(a)
    square_check("linalg.cho_factor", a)
    return (cholesky(a) if lower else cholesky(a, upper=True)), bool(lower)


def cho_solve(c_and_lower, b):
    """`scipy.linalg.cho_solve`: x with a x = b, given `(c, lower) = cho_factor(a)`;
    differentiable in `c` and `b` (two triangular solves).

    Example:
      >>> a = np.array([[4.0, 2.0], [2.0, 3.0]])
      >>> cho_solve(cho_factor(a), np.array([1.0, 2.0]))    # = np.linalg.solve(a, b)
      array([-0.125,  0.75 ])
    """
    c, lower = c_and_lower
    if lower:  # a = L L^T
        y = solve_triangular(c, b, trans=0, lower=True)
        return solve_triangular(c, y, trans=1, lower=True)
    y = solve_triangular(c, b, trans=1, lower=False)  # a = U^T U
    return solve_triangular(c, y, trans=0, lower=False)


# ---- sqrtm -----------------------------------------------------------------------------------
def _denman_beavers(a, iterations=64):
    """The principal square root by the Denman-Beavers iteration, Y -> sqrt(a), Z -> sqrt(a)^-1:
    Y' = (Y + Z^-1) / 2, Z' = (Z + Y^-1) / 2, quadratically convergent for matrices without
    eigenvalues on the closed negative real axis. Only matmul and inv: the same code runs on
    NumPy and CuPy (cupyx has no sqrtm), for stacks of matrices too. None where it does not
    converge (an eigenvalue on that axis: a singular iterate, or no convergence)."""
    xp = _xp(a)
    y = a
    z = xp.broadcast_to(xp.eye(a.shape[-1], dtype=a.dtype), a.shape)
    tol = 4 * np.finfo(a.dtype).eps * float(xp.max(xp.abs(a))) * a.shape[-1]
    for _ in range(iterations):
        try:
            y, z = 0.5 * (y + xp.linalg.inv(z)), 0.5 * (z + xp.linalg.inv(y))
        except np.linalg.LinAlgError:
            return None
        residual = float(xp.max(xp.abs(y @ y - a)))
        if residual <= tol:
            return y
        if not np.isfinite(residual):
            return None
    return None


def _sqrtm_by_eigenvectors(a):
    """The square root SciPy returns where the principal one does not exist (an eigenvalue on
    the closed negative real axis), for diagonalizable a: V sqrt(W) V^-1 with sqrt(-r) = +i
    sqrt(r), complex unless no eigenvalue is negative (a singular a with a real root). None
    where that does not square back to a (a defective a, or too ill-conditioned V)."""
    xp = _xp(a)
    w, v = xp.linalg.eig(a)
    w = w.astype(np.result_type(a.dtype, np.complex64), copy=False)
    scale = float(xp.max(xp.abs(a)))
    eps = float(np.finfo(a.dtype).eps)
    on_cut = (w.real < 0) & (xp.abs(w.imag) <= 16 * a.shape[-1] * eps * scale)
    w = xp.where(on_cut, w.real + 0j, w)  # the +0 side of sqrt's cut, as SciPy's roots
    try:
        root = (v * xp.sqrt(w)[..., None, :]) @ xp.linalg.inv(v)
    except np.linalg.LinAlgError:
        return None
    if a.dtype.kind != "c" and not bool(xp.any(on_cut)):
        root = root.real
    if not float(xp.max(xp.abs(root @ root - a))) <= 1e3 * a.shape[-1] * eps * scale:
        return None
    return root


def _sqrtm_impl(a):
    if a.size == 0:
        return a.copy()
    if not bool(_xp(a).isfinite(a).all()):
        raise ValueError(f"linalg.sqrtm: the matrix of shape {a.shape} holds infs or NaNs")
    root = _denman_beavers(a)
    if root is None:
        root = _sqrtm_by_eigenvectors(a)
    if root is None:
        raise ValueError(
            f"linalg.sqrtm: no square root found for the matrix of shape {a.shape}: it has an "
            f"eigenvalue on the closed negative real axis and is defective there (or too close "
            f"to it; [[0, 1], [0, 0]] has no square root at all). SciPy's sqrtm returns its "
            f"best approximation there; here only roots that square back to a are returned.")
    return root


def solve_sylvester(a, b, q):
    """`scipy.linalg.solve_sylvester`: X with a X + X b = q, differentiable in a, b and q,
    batched over leading axes. Solved as one dense linear system, the operator
    (a (x) I + I (x) b^T) on row-major vec(X): O(n^6) work, for small matrices (SciPy's
    Bartels-Stewart is O(n^3)); the derivatives come from `solve`'s and `einsum`'s rules."""
    a, b, q = asarray_traced(a), asarray_traced(b), asarray_traced(q)
    n, m = shape_of(a)[-1], shape_of(b)[-1]
    if shape_of(a)[-2] != n or shape_of(b)[-2] != m or shape_of(q)[-2:] != (n, m):
        raise ValueError(f"linalg.solve_sylvester: a must be (..., n, n), b (..., m, m) and q "
                         f"(..., n, m); got shapes {shape_of(a)}, {shape_of(b)}, "
                         f"{shape_of(q)}")
    xp = namespace_of(a)
    dtype = np.result_type(a.dtype, b.dtype)
    eye_n, eye_m = xp.eye(n, dtype=dtype), xp.eye(m, dtype=dtype)
    # K[i, j, k, l] = a[i, k] delta[j, l] + delta[i, k] b[l, j]
    k = einsum("...ik,jl->...ijkl", a, eye_m) + einsum("ik,...lj->...ijkl", eye_n, b)
    batch = shape_of(k)[:-4]
    rhs = reshape(q, shape_of(q)[:-2] + (n * m, 1))
    try:
        x = solve(reshape(k, batch + (n * m, n * m)), rhs)
    except np.linalg.LinAlgError:
        raise ValueError(f"linalg.solve_sylvester: a and -b (shapes {shape_of(a)}, "
                         f"{shape_of(b)}) share an eigenvalue, so a X + X b = q has no unique "
                         f"solution") from None
    return reshape(x, shape_of(q))


def _sylvester(s, c):
    """X with s X + X s = c: sqrtm's derivative."""
    return solve_sylvester(s, s, c)


def solve_banded(l_and_u, ab, b):
    """`scipy.linalg.solve_banded`: x with a x = b for the banded `a` stored in LAPACK's
    diagonal-ordered form `ab` (ab[u + i - j, j] = a[i, j]), differentiable in ab and b.
    Expands `a` to a dense matrix and solves it (O(n^3), where SciPy's banded LU is O(n (l+u)^2)):
    the gradient of `ab` lies on its stored band entries.

    Args:
      l_and_u: (l, u), the numbers of nonzero lower and upper diagonals (non-negative).
      ab: (l + u + 1, n), or a stack (..., l + u + 1, n) as SciPy batches it.
      b: (n,) or (n, k) (or (..., n, k), batched with ab).
    """
    lower, upper = (int(v) for v in l_and_u)
    if lower < 0 or upper < 0:
        raise ValueError(f"linalg.solve_banded: (l, u) = ({lower}, {upper}) must be "
                         f"non-negative")
    ab, b = asarray_traced(ab), asarray_traced(b)
    if len(shape_of(ab)) < 2:
        raise ValueError(f"linalg.solve_banded: ab must have shape (l + u + 1, n), got "
                         f"{shape_of(ab)}")
    rows, n = shape_of(ab)[-2:]
    if rows != lower + upper + 1:
        raise ValueError(f"linalg.solve_banded: ab has {rows} rows, but (l, u) = "
                         f"({lower}, {upper}) needs l + u + 1 = {lower + upper + 1}")
    sb = shape_of(b)
    if not sb or sb[0 if len(sb) == 1 else -2] != n:
        raise ValueError(f"linalg.solve_banded: b must have shape ({n},) or ({n}, k) to match "
                         f"ab of shape {shape_of(ab)}, got {sb}")
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    band = upper + i - j
    inside = (band >= 0) & (band < rows)
    dense = getitem(ab, (Ellipsis, np.where(inside, band, 0), j))
    xp = namespace_of(ab)
    dense = dense * backend.to_device_array(inside.astype(ab.dtype), xp)
    return solve(dense, b)


def _sqrtm_derivative(s, c):
    """X with s X + X s = c: the derivative of sqrtm at s^2 along c, unique unless two
    eigenvalues of s sum to 0, which happens only where s (and a) is singular: there the slope
    of the root is infinite, and near it (s singular to working precision) the solve would
    return rounding noise."""
    raw = primal_value(s)
    xp = _xp(raw)
    sv = xp.linalg.svd(raw, compute_uv=False)
    n = raw.shape[-1]
    if n and not bool(xp.all(sv[..., -1] > 16 * n * np.finfo(raw.dtype).eps * sv[..., 0])):
        raise ValueError(
            f"linalg.sqrtm: no derivative at a singular matrix (shape {raw.shape}): the square "
            f"root of a zero eigenvalue has an infinite slope")
    return _sylvester(s, c)


sqrtm_p = Primitive(
    "linalg.sqrtm", _sqrtm_impl,
    # d sqrt(A)[E] = X with S X + X S = E; its adjoint solves S^T X + X S^T = G.
    vjp=[lambda ans, a, g: _sqrtm_derivative(mT(ans), g)],
    jvp=[lambda ans, a, t: _sqrtm_derivative(ans, t)])


def sqrtm(a):
    """`scipy.linalg.sqrtm`: a square root s with s @ s = a, differentiable (batched over
    leading axes).

    Where it exists, the principal root (the one with eigenvalues in the open right half-plane,
    real for real a), by the Denman-Beavers iteration. A matrix with an eigenvalue on the closed
    negative real axis has none; there, as SciPy, the root V sqrt(W) V^-1 of its eigenvalues,
    with sqrt(-r) = +i sqrt(r): complex if an eigenvalue is negative (the result is then
    complex for the whole stack), real for a singular a without negative eigenvalues. A matrix
    with no root that squares back to it to rounding (a defective one there, such as
    [[0, 1], [0, 0]]) raises ValueError, where SciPy returns an approximation with a warning.

    The derivative solves the Sylvester equation s X + X s = E, which has a unique solution
    unless a is singular (a ValueError then: the slope is infinite).

    Example:
      >>> sqrtm(np.array([[4.0, 0.0], [0.0, 9.0]]))
      array([[2., 0.],
             [0., 3.]])
      >>> sqrtm(np.array([[1.0, 2.0], [2.0, 1.0]]))    # eigenvalues -1 and 3
      array([[0.8660254+0.5j, 0.8660254-0.5j],
             [0.8660254-0.5j, 0.8660254+0.5j]])
    """
    a = asarray_traced(a)
    square_check("linalg.sqrtm", a)
    if a.dtype.kind in "biu":  # SciPy computes integer input in float64
        a = astype(a, np.float64)
    return sqrtm_p.bind(a)


# ---- expm ------------------------------------------------------------------------------------
_TAYLOR_DEGREE = 18


def expm(a):
    """The matrix exponential, by scaling and squaring a Taylor polynomial: a composition of
    matmuls, so every derivative comes from matmul's rules (batched over leading axes).

    The scaling 2^-s brings the 1-norm of a below 1/2, where the degree-18 Taylor remainder is
    below 1e-22 relative, then the result is squared s times. s is chosen from the values, a
    constant for the derivatives (the derivative of the approximation is that of exp to the
    same accuracy).

    Example:
      >>> expm(np.zeros((2, 2)))
      array([[1., 0.],
             [0., 1.]])
    """
    a = asarray_traced(a)
    square_check("linalg.expm", a)
    raw = primal_value(a)
    xp = _xp(raw)
    norm1 = float(xp.max(xp.sum(xp.abs(raw), axis=-2))) if raw.size else 0.0
    # (an inf or NaN in a: no scaling, and the result holds NaNs)
    s = max(0, int(np.ceil(np.log2(norm1 / 0.5)))) if np.isfinite(norm1) and norm1 > 0.5 else 0
    scaled = a * (0.5 ** s)
    eye = xp.eye(raw.shape[-1], dtype=raw.dtype)
    # Horner: I + A (I + A/2 (I + A/3 (... (I + A/N))))
    out = eye + scaled * (1.0 / _TAYLOR_DEGREE)
    for k in range(_TAYLOR_DEGREE - 1, 0, -1):
        out = eye + matmul(scaled, out) * (1.0 / k)
    for _ in range(s):
        out = matmul(out, out)
    return out
