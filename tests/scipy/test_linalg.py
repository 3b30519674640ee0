"""gpuad.scipy.linalg values against scipy.linalg; derivatives are checked from
tests/cases_scipy.py."""
import numpy as np
import pytest

import gpuad as ga
from gpuad.scipy import linalg

sl = pytest.importorskip("scipy.linalg")
RNG = np.random.default_rng(3)
A = RNG.standard_normal((4, 4)) + 4 * np.eye(4)
SPD = A @ A.T


@pytest.mark.parametrize("lower", [False, True])
@pytest.mark.parametrize("trans", [0, 1, 2, "N", "T", "C"])
@pytest.mark.parametrize("unit_diagonal", [False, True])
def test_solve_triangular_matches_scipy(lower, trans, unit_diagonal):
    for b in (RNG.standard_normal(4), RNG.standard_normal((4, 3))):
        np.testing.assert_allclose(
            linalg.solve_triangular(A, b, trans=trans, lower=lower, unit_diagonal=unit_diagonal),
            sl.solve_triangular(A, b, trans=trans, lower=lower, unit_diagonal=unit_diagonal),
            rtol=1e-12)


def test_solve_triangular_gradient_lies_in_the_read_triangle():
    b = RNG.standard_normal(4)
    g = ga.grad(lambda a: linalg.solve_triangular(a, b, lower=True, unit_diagonal=True).sum())(A)
    np.testing.assert_array_equal(np.triu(g), 0.0)


def test_solve_triangular_errors():
    with pytest.raises(ValueError, match=r"solve_triangular: a must be a square matrix.*"
                                         r"\(2, 3, 4\)"):
        linalg.solve_triangular(np.ones((2, 3, 4)), np.ones(3))
    with pytest.raises(ValueError, match=r"solve_triangular: b must have shape \(4,\) or "
                                         r"\(\.\.\., 4, k\).*got shape \(3,\)"):
        linalg.solve_triangular(A, np.ones(3))
    with pytest.raises(ValueError, match=r"solve_triangular: the batch axes of a \(2,\) and b "
                                         r"\(3,\)"):
        linalg.solve_triangular(np.ones((2, 4, 4)), np.ones((3, 4, 1)))
    with pytest.raises(ValueError, match="trans must be 0, 1, 2"):
        linalg.solve_triangular(A, np.ones(4), trans="X")


@pytest.mark.parametrize("lower", [False, True])
def test_cho_factor_and_solve(lower):
    c, low = linalg.cho_factor(SPD, lower=lower)
    ref_c, _ = sl.cho_factor(SPD, lower=lower)
    assert low is lower
    keep = np.tril if lower else np.triu
    np.testing.assert_allclose(c, keep(ref_c), rtol=1e-12)
    b = RNG.standard_normal((4, 2))
    np.testing.assert_allclose(linalg.cho_solve((c, low), b), sl.cho_solve((ref_c, lower), b),
                               rtol=1e-12)


@pytest.mark.parametrize("a", [SPD, A, np.stack([SPD, A])], ids=["spd", "general", "batch"])
def test_sqrtm_matches_scipy(a):
    ref = np.stack([sl.sqrtm(m) for m in a]) if a.ndim == 3 else sl.sqrtm(a)
    np.testing.assert_allclose(linalg.sqrtm(a), ref, rtol=1e-10)


def test_sqrtm_gradient_solves_the_sylvester_equation():
    g = RNG.standard_normal((4, 4))
    s = linalg.sqrtm(SPD)
    x = ga.vjp(linalg.sqrtm, SPD)[1](g)[0]
    np.testing.assert_allclose(s.T @ x + x @ s.T, g, atol=1e-10)


@pytest.mark.parametrize("scale", [0.1, 1.0, 20.0])
def test_expm_matches_scipy(scale):
    a = scale * RNG.standard_normal((2, 4, 4))
    np.testing.assert_allclose(linalg.expm(a), sl.expm(a), rtol=1e-11, atol=1e-13)


def test_square_checks():
    for fn in (linalg.sqrtm, linalg.expm, lambda a: linalg.cho_factor(a)):
        with pytest.raises(ValueError, match=r"expected a square matrix.*\(2, 3\)"):
            fn(np.ones((2, 3)))


def test_solve_triangular_batches_broadcast_like_numpy_solve(rng):
    a = np.tril(rng.standard_normal((2, 1, 3, 3))) + 3 * np.eye(3)
    b = rng.standard_normal((4, 3, 2))
    x = linalg.solve_triangular(a, b, lower=True)
    assert x.shape == (2, 4, 3, 2)
    np.testing.assert_allclose(x, np.linalg.solve(a, b), rtol=1e-12)
    v = rng.standard_normal(3)
    np.testing.assert_allclose(linalg.solve_triangular(a, v, lower=True, trans="T"),
                               np.linalg.solve(np.swapaxes(a, -1, -2), v), rtol=1e-12)
    assert linalg.solve_triangular(a[:0, 0], b[:0]).shape == (0, 3, 2)


def test_solve_triangular_conjugate_transpose_of_complex_matrices():
    import scipy.linalg
    rng = np.random.default_rng(8)
    a = np.triu(rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3))) + 3 * np.eye(3)
    b = rng.standard_normal((3, 2)) + 1j * rng.standard_normal((3, 2))
    for trans in (2, "C"):
        np.testing.assert_allclose(linalg.solve_triangular(a, b, trans=trans),
                                   scipy.linalg.solve_triangular(a, b, trans=trans), rtol=1e-12)
        ga.check_grads(lambda a, b: linalg.solve_triangular(a, b, trans=trans), (a, b), order=2)


def test_sylvester_and_banded_solves_match_scipy():
    import scipy.linalg
    rng = np.random.default_rng(9)
    a, b = rng.standard_normal((4, 4)) + 3 * np.eye(4), rng.standard_normal((2, 2)) + 2 * np.eye(2)
    q = rng.standard_normal((4, 2))
    np.testing.assert_allclose(linalg.solve_sylvester(a, b, q),
                               scipy.linalg.solve_sylvester(a, b, q), rtol=1e-10)
    ab = rng.standard_normal((3, 6))
    ab[1] += 4.0
    rhs = rng.standard_normal(6)
    np.testing.assert_allclose(linalg.solve_banded((1, 1), ab, rhs),
                               scipy.linalg.solve_banded((1, 1), ab, rhs), rtol=1e-10)
    with pytest.raises(ValueError, match="solve_banded: ab has 3 rows"):
        linalg.solve_banded((2, 1), ab, rhs)
    with pytest.raises(ValueError, match="solve_sylvester: a must be"):
        linalg.solve_sylvester(a, b, q.T)
