"""gpuad/numpy/solvers.py at the edges: 1x1 and empty matrices, nested lists, exponent 0,
negative determinants and singular matrices.

The rules on general shapes (batched, broadcast right-hand sides, every matrix_power exponent)
are checked by the case tables (tests/cases.py, tests/cases_numerical.py, tests/cases_complex.py
through tests/test_primitives.py); values and errors of matrix_power and multi_dot in
tests/numpy/test_linalg.py."""
import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp

la = gnp.linalg


@pytest.mark.parametrize("fn", [
    la.det, la.inv,
    lambda a: la.slogdet(a).logabsdet,
    lambda a: la.solve(a, np.linspace(1.0, 2.0, a.shape[-1])),
])
def test_one_by_one_matrices(fn):
    ga.check_grads(fn, (np.array([[-1.7]]),), order=2)
    ga.check_grads(fn, (np.array([[[2.5]], [[0.4]]]),), order=1)  # a stack of them


def test_empty_matrix_has_determinant_one_and_an_empty_gradient():
    a = np.zeros((0, 0))
    assert la.det(a) == np.linalg.det(a) == 1.0
    sign, logdet = la.slogdet(a)
    assert (sign, logdet) == tuple(np.linalg.slogdet(a)) == (1.0, 0.0)
    g = ga.grad(la.det)(a)
    assert g.shape == (0, 0) and g.dtype == np.float64


def test_nested_lists_and_integer_matrices_compute_as_numpy():
    a = [[2, 1], [1, 3]]
    assert la.det(a) == pytest.approx(np.linalg.det(a), rel=1e-15)
    np.testing.assert_allclose(la.inv(a), np.linalg.inv(a), rtol=1e-15)
    np.testing.assert_allclose(la.solve(a, [1, 2]), np.linalg.solve(a, [1, 2]), rtol=1e-15)


def test_negative_determinant_sign_and_log_gradient(rng):
    a = np.diag([2.0, -3.0, 1.5]) + 0.1 * rng.standard_normal((3, 3))
    sign, logdet = la.slogdet(a)
    assert sign == -1.0 and logdet == pytest.approx(np.log(-np.linalg.det(a)))
    # the sign of a real matrix is piecewise constant: no derivative through it
    np.testing.assert_allclose(ga.grad(lambda a: la.slogdet(a).sign)(a), 0.0)
    np.testing.assert_allclose(ga.grad(lambda a: la.slogdet(a).logabsdet)(a),
                               np.linalg.inv(a).T, rtol=1e-12)
    ga.check_grads(lambda a: la.slogdet(a).logabsdet, (a,), order=2)
    ga.check_grads(la.det, (a,), order=2)


def test_slogdet_of_a_singular_matrix_is_numpys():
    a = np.array([[1.0, 2.0], [2.0, 4.0]])
    sign, logdet = la.slogdet(a)
    assert sign == 0.0 and logdet == -np.inf
    assert la.det(a) == np.linalg.det(a)


def test_matrix_power_zero_and_one():
    a = np.array([[1.0, 2.0], [0.5, -1.0]])
    p0 = la.matrix_power(a, 0)
    np.testing.assert_array_equal(p0, np.eye(2))
    np.testing.assert_array_equal(ga.grad(lambda a: gnp.sum(la.matrix_power(a, 0)))(a), 0.0)
    np.testing.assert_array_equal(ga.grad(lambda a: gnp.sum(la.matrix_power(a, 1)))(a), 1.0)


@pytest.mark.parametrize("fn, name", [(la.det, "linalg.det"), (la.slogdet, "linalg.slogdet"),
                                      (la.inv, "linalg.inv")])
@pytest.mark.parametrize("shape", [(3,), (2, 3), (2, 3, 2)])
def test_non_square_input_names_the_op_and_the_shape(fn, name, shape):
    with pytest.raises(ValueError, match=rf"{name}: expected a square matrix .*"
                                         rf"got shape \({shape[0]},"):
        fn(np.ones(shape))
