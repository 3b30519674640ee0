"""numpy.linalg's functions beyond the decompositions, and the vector products vecdot, matvec,
vecmat of the main namespace. All are compositions of differentiable ops.

Most are the array-API functions NumPy 2 added, which work on the last one or two axes:
`matrix_norm`, `vector_norm`, `vecdot`, `cross`, `outer`, `diagonal`, `trace`,
`matrix_transpose`; then `cond`, `tensorinv`, `tensorsolve` and NumPy's `LinAlgError`.

numpy.linalg's `diagonal`, `trace` and `outer` differ from the main namespace's functions of the
same names: they take the last two axes (NumPy's main `diagonal` and `trace` default to the
first two) and only 1-D vectors (the main `outer` flattens). gpuad.numpy.linalg re-exports these,
and the main namespace keeps its own, which this module names `general_diagonal`,
`general_trace` and `general_outer`.
"""
import numpy as np

from .. import backend
from ..trace import primal_value
from .elementwise import where
from .helpers import conj_if_complex, shape_of
from .indexing import getitem
from .numerical import cross as general_cross
from .products import diagonal as general_diagonal
from .products import matmul
from .products import outer as general_outer
from .products import trace as general_trace  # noqa: F401  (gnp.trace)
from .reductions import sum as _sum
from .shapes import (
    asarray_traced,
    expand_dims,
    matrix_transpose,  # noqa: F401  (gnp.linalg.matrix_transpose)
    moveaxis,
    ravel,
    reshape,
    transpose,
)
from .solvers import inv, solve
from .svd import norm, svdvals

LinAlgError = np.linalg.LinAlgError


def matrix_norm(x, /, *, keepdims=False, ord="fro"):
    """`numpy.linalg.matrix_norm`: the norm of each matrix over the last two axes."""
    return norm(x, ord, axis=(-2, -1), keepdims=keepdims)


def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    """`numpy.linalg.vector_norm`: the vector norm over `axis` (None: all elements; a tuple:
    those axes taken as one vector)."""
    x = asarray_traced(x)
    shape = shape_of(x)
    ndim = len(shape)
    axes = tuple(range(ndim)) if axis is None else (
        (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis))
    axes = tuple(sorted(int(a) % max(ndim, 1) for a in axes))
    if len(axes) == 1:
        return norm(x, ord, axis=axes[0], keepdims=keepdims)
    rest = tuple(a for a in range(ndim) if a not in axes)
    merged = reshape(transpose(x, rest + axes), tuple(shape[a] for a in rest) + (-1,))
    out = norm(merged, ord, axis=-1)
    if keepdims:
        out = reshape(out, tuple(1 if a in axes else n for a, n in enumerate(shape)))
    return out


def vecdot(x1, x2, /, *, axis=-1):
    """`numpy.vecdot` (and `numpy.linalg.vecdot`): sum(conj(x1) * x2) over `axis`, the other
    axes broadcast."""
    x1, x2 = asarray_traced(x1), asarray_traced(x2)
    x1, x2 = moveaxis(x1, axis, -1), moveaxis(x2, axis, -1)
    n1, n2 = shape_of(x1)[-1], shape_of(x2)[-1]
    if n1 != n2:
        raise ValueError(f"vecdot: the vectors have {n1} and {n2} components (shapes "
                         f"{shape_of(x1)} and {shape_of(x2)} with axis={axis}); they must "
                         f"match")
    return _sum(conj_if_complex(x1) * x2, axis=-1)


def matvec(x1, x2, /):
    """`numpy.matvec`: the matrix-vector product of (..., m, n) and (..., n), broadcast."""
    x2 = asarray_traced(x2)
    return getitem(matmul(x1, expand_dims(x2, -1)), (Ellipsis, 0))


def vecmat(x1, x2, /):
    """`numpy.vecmat`: the vector-matrix product conj(x1) @ x2 of (..., n) and (..., n, m)."""
    x1 = asarray_traced(x1)
    return getitem(matmul(expand_dims(conj_if_complex(x1), -2), x2), (Ellipsis, 0, slice(None)))


def cross(x1, x2, /, *, axis=-1):
    """`numpy.linalg.cross`: the cross product of 3-vectors along `axis`."""
    x1, x2 = asarray_traced(x1), asarray_traced(x2)
    if shape_of(x1)[axis] != 3 or shape_of(x2)[axis] != 3:
        raise ValueError(f"linalg.cross: both inputs must be 3-vectors along axis {axis}, got "
                         f"shapes {shape_of(x1)} and {shape_of(x2)}")
    return general_cross(x1, x2, axis=axis)


def outer(x1, x2, /):
    """`numpy.linalg.outer` of two 1-D vectors."""
    x1, x2 = asarray_traced(x1), asarray_traced(x2)
    if len(shape_of(x1)) != 1 or len(shape_of(x2)) != 1:
        raise ValueError(f"linalg.outer: the inputs must be 1-D, got shapes {shape_of(x1)} "
                         f"and {shape_of(x2)} (gnp.outer flattens them)")
    return general_outer(x1, x2)


def diagonal(x, /, *, offset=0):
    """`numpy.linalg.diagonal`: the diagonals of the matrices in the last two axes."""
    return general_diagonal(x, offset, -2, -1)


def trace(x, /, *, offset=0, dtype=None):
    """`numpy.linalg.trace`: the traces of the matrices in the last two axes."""
    return _sum(general_diagonal(x, offset, -2, -1), axis=-1, dtype=dtype)


def cond(x, p=None):
    """`numpy.linalg.cond`: the condition number in norm `p` (None or 2: the ratio of the
    largest to the smallest singular value; -2 its inverse; 'fro', 'nuc', 1, -1, inf, -inf:
    norm(x) * norm(inv(x))), of each matrix in the last two axes; differentiable.

    A singular matrix has condition number inf (no derivative), as in NumPy.
    """
    x = asarray_traced(x)
    shape = shape_of(x)
    if len(shape) < 2:
        raise LinAlgError(f"linalg.cond: {len(shape)}-dimensional array given; it must be at "
                          f"least 2-D")
    if p is None or p in (2, -2):
        s = svdvals(x)
        largest, smallest = getitem(s, (Ellipsis, 0)), getitem(s, (Ellipsis, -1))
        return largest / smallest if p != -2 else smallest / largest
    if shape[-1] != shape[-2]:
        raise LinAlgError(f"linalg.cond: p={p!r} needs square matrices, got shape {shape}")
    raw = primal_value(x)
    expected = np.asarray(np.linalg.cond(backend.to_numpy_array(raw), p))
    singular = ~np.isfinite(expected)
    if singular.any():  # NumPy's inf; each singular matrix is swapped for the identity first
        eye = np.eye(shape[-1], dtype=raw.dtype)
        x = where(_like(raw, singular[..., None, None]), _like(raw, eye), x)
    value = (norm(x, p, axis=(-2, -1)) * norm(inv(x), p, axis=(-2, -1)))
    return where(_like(raw, singular), _like(raw, expected), value) if singular.any() else value


def _like(raw, host_array):
    """A host array moved to where `raw` lives."""
    return backend.namespace(raw).asarray(host_array)


def tensorinv(a, ind=2):
    """`numpy.linalg.tensorinv`: the inverse of `a` as a map from its first `ind` axes to the
    rest (the result has shape a.shape[ind:] + a.shape[:ind]); differentiable."""
    a = asarray_traced(a)
    shape = shape_of(a)
    if ind <= 0:
        raise ValueError(f"linalg.tensorinv: ind must be a positive integer, got {ind}")
    rows = int(np.prod(shape[:ind]))
    return reshape(inv(reshape(a, (rows, -1))), shape[ind:] + shape[:ind])


def tensorsolve(a, b, axes=None):
    """`numpy.linalg.tensorsolve`: x with tensordot(a, x, x.ndim) = b, the axes of `a` named in
    `axes` moved to the end first; differentiable in a and b."""
    a, b = asarray_traced(a), asarray_traced(b)
    ndim = len(shape_of(a))
    if axes is not None:
        order = [k for k in range(ndim) if k not in [ax % ndim for ax in axes]]
        order += [ax % ndim for ax in axes]
        a = transpose(a, order)
    shape = shape_of(a)
    x_shape = shape[len(shape_of(b)):]
    n = int(np.prod(x_shape))
    if int(np.prod(shape)) != n * n:
        raise LinAlgError(f"linalg.tensorsolve: a of shape {shape} is not square as a map onto "
                          f"b's shape {shape_of(b)}; prod(a.shape[b.ndim:])**2 must be "
                          f"a.size")
    return reshape(solve(reshape(a, (n, n)), ravel(b)), x_shape)
