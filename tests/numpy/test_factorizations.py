"""gpuad/numpy/factorizations.py: the one-triangle convention in closed form, 1x1 and
single-column matrices.

General shapes, complex input and the upper-triangle variants are checked by the case tables
(tests/cases.py, tests/cases_linalg_complex.py through tests/test_primitives.py); repeated
eigenvalues (tests/cases_degenerate.py) and eig/eigvals, qr's modes and errors in
tests/numpy/test_linalg.py."""
import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp
from gpuad.numpy.factorizations import symmetric_from_triangle

la = gnp.linalg


@pytest.mark.parametrize("lower", [True, False])
def test_symmetric_from_triangle_mirrors_one_triangle(rng, lower):
    t = rng.standard_normal((2, 3, 3))
    tri = np.tril(t) if lower else np.triu(t)
    want = tri + np.swapaxes(tri, -1, -2) - np.eye(3) * np.diagonal(t, 0, -2, -1)[..., None]
    np.testing.assert_allclose(symmetric_from_triangle(t, lower), want, rtol=1e-15)
    z = t + 1j * rng.standard_normal((2, 3, 3))
    h = symmetric_from_triangle(z, lower)
    np.testing.assert_allclose(h, np.conj(np.swapaxes(h, -1, -2)), rtol=1e-15)  # Hermitian
    np.testing.assert_allclose(np.diagonal(h, 0, -2, -1), np.diagonal(t, 0, -2, -1))  # Re only


@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigenvalue_gradient_is_the_projector_on_the_read_triangle(rng, uplo):
    # d w_k = v_k^T da v_k on the symmetric matrix; on the triangle NumPy reads, the
    # off-diagonal elements count twice (each stands for its mirror) and the other triangle not
    m = rng.standard_normal((4, 4))
    a = m + m.T
    w, v = np.linalg.eigh(a)
    k = 2
    p = np.outer(v[:, k], v[:, k])
    want = np.tril(2 * p, -1) if uplo == "L" else np.triu(2 * p, 1)
    want = want + np.diag(np.diag(p))
    got = ga.grad(lambda a: la.eigvalsh(a, UPLO=uplo)[k])(a)
    np.testing.assert_allclose(got, want, atol=1e-12)
    got = ga.grad(lambda a: la.eigh(a, UPLO=uplo).eigenvalues[k])(a)
    np.testing.assert_allclose(got, want, atol=1e-12)


def test_cholesky_upper_is_the_transpose_of_lower(rng):
    m = rng.standard_normal((3, 3))
    a = m @ m.T + np.eye(3)
    np.testing.assert_allclose(la.cholesky(a, upper=True), la.cholesky(a).T, rtol=1e-14)


@pytest.mark.parametrize("fn", [
    la.cholesky,
    lambda a: la.eigvalsh(a),
    lambda a: la.eigh(a).eigenvalues * la.eigh(a).eigenvectors[0, 0] ** 2,
    lambda a: la.qr(a).R,
])
def test_one_by_one_matrices(fn):
    ga.check_grads(fn, (np.array([[2.3]]),), order=2)


def test_one_by_one_values():
    a = np.array([[4.0]])
    assert la.cholesky(a)[0, 0] == 2.0
    np.testing.assert_allclose(ga.grad(lambda a: la.cholesky(a)[0, 0])(a), [[0.25]])
    assert abs(la.eigh(a).eigenvectors[0, 0]) == 1.0


@pytest.mark.parametrize("shape", [(4, 1), (1, 4), (2, 3, 1)])
def test_qr_of_a_single_column_or_row(rng, shape):
    a = rng.standard_normal(shape)
    q, r = la.qr(a)
    for got, want in zip((q, r), np.linalg.qr(a)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    ga.check_grads(lambda a: la.qr(a), (a,), order=1)
