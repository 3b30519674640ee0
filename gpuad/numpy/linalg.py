"""`gnp.linalg`: NumPy's `numpy.linalg` namespace, differentiable, gathered from the modules that
hold the rules:

    products.py        matmul, einsum, tensordot, dot, inner, vdot, kron, diag, tril, triu
    solvers.py         inv, solve, det, slogdet, matrix_power, multi_dot
    factorizations.py  cholesky, eigh, eigvalsh, eig, eigvals, qr
    svd.py             svd, svdvals, norm, matrix_rank, pinv, lstsq
    linalg_api.py      the array-API functions (matrix_norm, vector_norm, vecdot, cross, ...),
                       cond, tensorinv, tensorsolve, LinAlgError

numpy.linalg's `diagonal`, `trace` and `outer` are linalg_api's (last two axes, 1-D vectors), not
the main namespace's products of the same names. This module declares nothing.
"""
from .factorizations import (  # noqa: F401
                       EighResult,
                       EigResult,
                       QRResult,
                       cholesky,
                       cholesky_p,
                       eig,
                       eig_p,
                       eigh,
                       eigh_p,
                       eigvals,
                       eigvals_p,
                       eigvalsh,
                       qr,
                       qr_p,
)
from .linalg_api import (  # noqa: F401
                       LinAlgError,
                       cond,
                       cross,
                       diagonal,
                       matrix_norm,
                       matrix_transpose,
                       outer,
                       tensorinv,
                       tensorsolve,
                       trace,
                       vecdot,
                       vector_norm,
)
from .products import (  # noqa: F401
                       diag,
                       dot,
                       einsum,
                       einsum_p,
                       inner,
                       kron,
                       matmul,
                       matmul_p,
                       tensordot,
                       tril,
                       triu,
                       vdot,
)
from .solvers import (  # noqa: F401
                       SlogdetResult,
                       det,
                       det_p,
                       inv,
                       inv_p,
                       matrix_power,
                       multi_dot,
                       slogdet,
                       slogdet_p,
                       solve,
                       solve_p,
)
from .svd import (  # noqa: F401
                       LstsqResult,
                       SVDResult,
                       lstsq,
                       matrix_rank,
                       norm,
                       pinv,
                       pinv_p,
                       svd,
                       svd_p,
                       svdvals,
                       svdvals_p,
)
