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
    with pytest.raises(ValueError, match="solve_sylvester: a and -b .* share an eigenvalue"):
        linalg.solve_sylvester(np.eye(2), -np.eye(2), np.ones((2, 2)))


def test_sqrtm_without_a_principal_root_returns_scipys_root_or_raises():
    import warnings

    import scipy.linalg
    q, _ = np.linalg.qr(RNG.standard_normal((4, 4)))
    indefinite = (q * [-2.0, 1.0, 3.0, 4.0]) @ q.T  # used to come out real, off by up to 8
    nonsymmetric = np.array([[1.0, 2.0], [3.0, 4.0]])  # eigenvalues -0.37 and 5.37
    singular = np.ones((2, 2))  # a real root, a / sqrt(2)
    for a in (indefinite, nonsymmetric, -np.eye(3), singular, np.zeros((2, 2))):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SciPy warns about singular input
            want = scipy.linalg.sqrtm(a)
        got = linalg.sqrtm(a)
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got, want, atol=1e-12)
        np.testing.assert_allclose(got @ got, a, atol=1e-12)
    stack = linalg.sqrtm(np.stack([SPD, indefinite]))  # one needs complex: the stack is complex
    np.testing.assert_allclose(stack[0], scipy.linalg.sqrtm(SPD), rtol=1e-10)
    ga.check_grads(linalg.sqrtm, (indefinite,), order=2)
    with pytest.raises(ValueError, match="linalg.sqrtm: no square root found"):
        linalg.sqrtm(np.array([[0.0, 1.0], [0.0, 0.0]]))  # defective: has no square root
    with pytest.raises(ValueError, match="linalg.sqrtm: no derivative at a singular matrix"):
        ga.grad(lambda a: linalg.sqrtm(a).sum())(singular)
    with pytest.raises(ValueError, match="infs or NaNs"):
        linalg.sqrtm(np.array([[np.nan, 0.0], [0.0, 1.0]]))
    assert linalg.sqrtm(np.zeros((0, 0))).shape == (0, 0)
    np.testing.assert_array_equal(linalg.sqrtm(np.array([[4, 0], [0, 9]])), np.diag([2.0, 3.0]))


def test_expm_of_non_finite_input_is_nan_not_an_overflow():
    assert np.isnan(linalg.expm(np.array([[np.inf, 0.0], [0.0, 1.0]]))).any()


def test_solve_banded_batches_as_scipy_and_checks_its_arguments():
    import scipy.linalg
    rng = np.random.default_rng(10)
    ab = rng.standard_normal((2, 3, 5))
    ab[:, 1] += 4.0
    for b in (rng.standard_normal(5), rng.standard_normal((5, 2))):
        np.testing.assert_allclose(linalg.solve_banded((1, 1), ab, b),
                                   scipy.linalg.solve_banded((1, 1), ab, b), rtol=1e-10)
    with pytest.raises(ValueError, match=r"solve_banded: \(l, u\) = \(-1, 1\) must be"):
        linalg.solve_banded((-1, 1), ab[0, :1], np.ones(5))
    with pytest.raises(ValueError, match=r"solve_banded: b must have shape \(5,\) or \(5, k\)"):
        linalg.solve_banded((1, 1), ab[0], np.ones(4))
