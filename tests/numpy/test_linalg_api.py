"""numpy.linalg's array-API functions, cond, tensorinv, tensorsolve, and the vector products
(gpuad/numpy/linalg_api.py): NumPy's values and semantics on plain and traced arguments."""
import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp

from .numpy_reference import matches_numpy

RNG = np.random.default_rng(13)
A = RNG.standard_normal((2, 3, 3))
B = RNG.standard_normal((2, 3))
X3 = RNG.standard_normal((2, 3, 4))
V = RNG.standard_normal(5)
SINGULAR = A.copy()
SINGULAR[1] = [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 0.0, 1.0]]

CASES = [
    ("diagonal_last_two_axes", lambda m, x: m.linalg.diagonal(x, offset=1), (X3,)),
    ("trace_last_two_axes", lambda m, x: m.linalg.trace(x, offset=-1), (X3,)),
    ("main_diagonal_first_two_axes", lambda m, x: m.diagonal(x), (X3,)),
    ("main_trace_first_two_axes", lambda m, x: m.trace(x, 1), (X3,)),
    ("outer", lambda m, x: m.linalg.outer(x, x[:3]), (V,)),
    ("matrix_norm", lambda m, a: m.linalg.matrix_norm(a, ord=1), (A,)),
    ("matrix_norm_keepdims", lambda m, a: m.linalg.matrix_norm(a, keepdims=True), (A,)),
    ("vecdot", lambda m, a, b: m.vecdot(a, b[:, None, :]), (A, B)),
    ("vecdot_complex", lambda m, a, b: m.vecdot(a + 1j, b - 2j), (A, B[:, None, :])),
    ("linalg_vecdot_axis", lambda m, a: m.linalg.vecdot(a, a, axis=0), (B,)),
    ("matvec", lambda m, a, b: m.matvec(a, b), (A, B)),
    ("vecmat", lambda m, a, b: m.vecmat(b, a), (A, B)),
    ("vecmat_complex", lambda m, a, b: m.vecmat(b + 1j, a), (A, B)),
    ("cross", lambda m, a, b: m.linalg.cross(a, b[:, None, :]), (A, B)),
    ("matrix_transpose", lambda m, x: m.linalg.matrix_transpose(x), (X3,)),
    ("tensorinv", lambda m, t: m.linalg.tensorinv(t, 1),
     (RNG.standard_normal((6, 2, 3)) + 3.0 * np.eye(6).reshape(6, 2, 3),)),
    ("tensorsolve", lambda m, a, b: m.linalg.tensorsolve(a, b),
     (RNG.standard_normal((2, 3, 6)), B)),
    ("tensorsolve_axes", lambda m, a, b: m.linalg.tensorsolve(a, b, axes=(0, 1)),
     (RNG.standard_normal((2, 3, 2, 3)), B)),
    ("cond_singular", lambda m, a: m.linalg.cond(a, 1), (SINGULAR,)),
]
for _axis in (None, 0, (0, 2), (-1,)):
    for _keep in (False, True):
        CASES.append((f"vector_norm_{_axis}_{_keep}", lambda m, a, axis=_axis, keep=_keep:
                      m.linalg.vector_norm(a, axis=axis, keepdims=keep, ord=3), (A,)))
for _p in (None, 2, -2, "fro", "nuc", 1, -1, np.inf, -np.inf):
    CASES.append((f"cond_{_p}", lambda m, a, p=_p: m.linalg.cond(a, p), (A,)))


@pytest.mark.parametrize("name,fn,args", CASES, ids=[c[0] for c in CASES])
def test_values_equal_numpy(name, fn, args):
    matches_numpy(fn, args)


def test_linalg_errors_are_numpys():
    assert gnp.linalg.LinAlgError is np.linalg.LinAlgError
    with pytest.raises(np.linalg.LinAlgError):
        gnp.linalg.inv(np.zeros((2, 2)))
    with pytest.raises(gnp.linalg.LinAlgError, match="tensorsolve: a of shape"):
        gnp.linalg.tensorsolve(np.ones((2, 3, 2)), np.ones((2, 3)))


def test_shape_errors():
    with pytest.raises(ValueError, match="linalg.outer: the inputs must be 1-D"):
        gnp.linalg.outer(A, V)
    with pytest.raises(ValueError, match="linalg.cross: both inputs must be 3-vectors"):
        gnp.linalg.cross(np.ones(2), np.ones(2))
    with pytest.raises(ValueError, match="vecdot: the vectors have 3 and 2 components"):
        gnp.vecdot(np.ones(3), np.ones(2))


def test_condition_number_of_a_singular_matrix_in_a_batch():
    g = ga.grad(lambda a: gnp.sum(gnp.where(gnp.isfinite(gnp.linalg.cond(a, 1)),
                                            gnp.linalg.cond(a, 1), 0.0)))(SINGULAR)
    assert np.all(g[1] == 0.0) and np.all(np.isfinite(g[0])) and np.any(g[0] != 0.0)


def test_numpy_linalg_calls_on_tracers_dispatch_here():
    def f(a):
        return gnp.sum(np.linalg.matrix_norm(a)) + gnp.sum(np.linalg.diagonal(a))
    ga.check_grads(f, (A,), order=1)
