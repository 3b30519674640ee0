"""`gnp.linalg`: NumPy's `numpy.linalg` namespace, differentiable, gathered from the modules that
hold the rules:

    products.py        matmul, einsum, tensordot, dot, inner, vdot, kron, diag, tril, triu
    decompositions.py  inv, solve, det, slogdet, cholesky, eigh, eig, svd, qr, pinv, norm,
                       lstsq, matrix_power, multi_dot, matrix_rank
    linalg_api.py      the array-API functions (matrix_norm, vector_norm, vecdot, cross, ...),
                       cond, tensorinv, tensorsolve, LinAlgError

numpy.linalg's `diagonal`, `trace` and `outer` are linalg_api's (last two axes, 1-D vectors), not
the main namespace's products of the same names. This module declares nothing.
"""
from .products import (dot, einsum, einsum_p, inner, kron, matmul, matmul_p, tensordot,  # noqa: F401
                       tril, triu, vdot, diag)
from .decompositions import (  # noqa: F401
    EigResult, EighResult, LstsqResult, QRResult, SVDResult, SlogdetResult,
    cholesky, cholesky_p, det, det_p, eig, eig_p, eigh, eigh_p, eigvals, eigvals_p, eigvalsh,
    inv, inv_p, lstsq, matrix_power, matrix_rank, multi_dot, norm, pinv, pinv_p, qr, qr_p,
    slogdet, slogdet_p, solve, solve_p, svd, svd_p, svdvals, svdvals_p)
from .linalg_api import (  # noqa: F401
    LinAlgError, cond, cross, diagonal, matrix_norm, matrix_transpose, outer, tensorinv,
    tensorsolve, trace, vecdot, vector_norm)
