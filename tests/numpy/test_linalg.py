import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp


def test_quadratic_form_gradient(rng):
    a, x = rng.standard_normal((4, 4)), rng.standard_normal(4)
    np.testing.assert_allclose(ga.grad(lambda x: x @ a @ x)(x), (a + a.T) @ x)


def test_logdet_gradient_is_inverse_transpose(rng):
    a = rng.standard_normal((3, 3)) + 3 * np.eye(3)
    np.testing.assert_allclose(ga.grad(lambda a: gnp.linalg.slogdet(a)[1])(a), np.linalg.inv(a).T)


def test_cholesky_gradient_of_symmetrized_input_is_symmetric(rng):
    m = rng.standard_normal((3, 3))
    a = m @ m.T + 3 * np.eye(3)
    f = lambda a: gnp.sum(gnp.linalg.cholesky((a + a.T) / 2) ** 3)
    g = ga.grad(f)(a)
    np.testing.assert_allclose(g, g.T, atol=1e-12)


def test_eigh_gradient_reads_only_lower_triangle(rng):
    m = rng.standard_normal((3, 3))
    a = m + m.T
    g = ga.grad(lambda a: gnp.linalg.eigh(a)[0][-1])(a)
    np.testing.assert_allclose(np.triu(g, 1), 0.0)


def test_shape_errors_name_the_op():
    with pytest.raises(ValueError, match="matmul: shapes"):
        gnp.matmul(np.ones((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="linalg.inv: expected a square"):
        gnp.linalg.inv(np.ones((2, 3)))
    with pytest.raises(ValueError, match="einsum"):
        gnp.einsum("ij,jk->ik", np.ones((2, 3)))


def test_results_match_numpy(rng):
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    np.testing.assert_allclose(gnp.dot(a, b), np.dot(a, b))
    np.testing.assert_allclose(gnp.einsum("ij,jk->ki", a, b), np.einsum("ij,jk->ki", a, b))
    np.testing.assert_allclose(gnp.kron(a, b), np.kron(a, b))
    np.testing.assert_allclose(gnp.tensordot(a, b, 1), np.tensordot(a, b, 1))
    for ord in (None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf):
        np.testing.assert_allclose(gnp.linalg.norm(a, ord), np.linalg.norm(a, ord), rtol=1e-10)
