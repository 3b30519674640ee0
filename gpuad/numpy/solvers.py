"""Linear systems and determinants, for `gnp.linalg`: inv, solve, det, slogdet, and the
compositions matrix_power and multi_dot. Every rule works on stacks of matrices (leading batch
axes) and on complex matrices.
"""
from collections import namedtuple

import numpy as np

from .. import backend
from ..trace import Primitive, namespace_of, primal_value
from .batch_rules import aligned, example_ndim, map_rule
from .elementwise import imag, real
from .helpers import is_complex, mT, shape_of, shaped, square_check, unbroadcast
from .indexing import getitem
from .products import diagonal, matmul
from .reductions import sum as _sum
from .shapes import asarray_traced, expand_dims, reshape, squeeze


def _xp(*xs):
    return backend.namespace(*xs)


# ---- inverse, solve, determinants ------------------------------------------------------------
inv_p = Primitive(
    "linalg.inv", lambda a: _xp(a).linalg.inv(a),
    vjp=[lambda ans, a, g: -(mT(ans) @ g @ mT(ans))],
    jvp=[lambda ans, a, t: -(ans @ t @ ans)], batch=map_rule)


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
    return unbroadcast(ga, shaped(shape_of(a), a.dtype))


def _solve_vjp_b(ans, a, b, g):
    return unbroadcast(_solve_like(mT(a), b, g), shaped(shape_of(b), b.dtype))


def _solve_jvp_a(ans, a, b, t):
    if _vector_rhs(a, b):
        return -_solve_like(a, b, getitem(t @ expand_dims(ans, -1), (Ellipsis, 0)))
    return -solve(a, t @ ans)


def batch_solve(trace, prim, vals, batched, params):
    """The vmap rule of solve and scipy's solve_triangular: a vector right-hand side becomes a
    column, the operands are aligned, the column is dropped again."""
    a, b = vals
    ba, bb = batched
    b_vec = example_ndim(b, bb) == 1
    if b_vec:
        b = expand_dims(b, -1)
    a, b = aligned([a, b], [ba, bb])
    out = prim.bind(a, b, **params)
    return squeeze(out, -1) if b_vec else out


solve_p = Primitive("linalg.solve", lambda a, b: _xp(a, b).linalg.solve(a, b),
                    vjp=[_solve_vjp_a, _solve_vjp_b],
                    jvp=[_solve_jvp_a, lambda ans, a, b, t: solve(a, t)], batch=batch_solve)


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
    jvp=[lambda ans, a, t: ans * _trace_last2(solve(a, t))], batch=map_rule)


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
    return namespace_of(sign).zeros_like(primal_value(sign)), c


slogdet_p = Primitive("linalg.slogdet", _slogdet_impl, vjp=[_slogdet_vjp], jvp=[_slogdet_jvp],
                      multiple_results=True, batch=map_rule)


def slogdet(a):
    """`numpy.linalg.slogdet`: (sign, log|det|), differentiable (the sign of a real matrix is
    piecewise constant, that of a complex one a unit complex number that turns with a)."""
    a = asarray_traced(a)
    square_check("linalg.slogdet", a)
    return SlogdetResult(*slogdet_p.bind(a))


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
