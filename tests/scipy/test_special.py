import math

import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp
from gpuad.scipy import special as sp


def test_values_match_closed_forms():
    x = np.array([0.3, 1.0, 2.5, 7.0])
    np.testing.assert_allclose(sp.erf(x), [math.erf(v) for v in x], rtol=1e-15)
    np.testing.assert_allclose(sp.gammaln(x), [math.lgamma(v) for v in x], rtol=1e-14)
    # digamma(1) = -Euler's gamma; digamma(n) = H_{n-1} - gamma
    np.testing.assert_allclose(sp.digamma(np.array([1.0, 5.0])),
                               [-np.euler_gamma, 1 + 1 / 2 + 1 / 3 + 1 / 4 - np.euler_gamma],
                               rtol=1e-14)
    # trigamma(1) = pi^2 / 6, tetragamma(1) = -2 zeta(3)
    np.testing.assert_allclose(sp.polygamma(1, np.array([1.0])), [np.pi ** 2 / 6], rtol=1e-13)
    np.testing.assert_allclose(sp.polygamma(2, np.array([1.0])), [-2 * 1.2020569031595942],
                               rtol=1e-13)
    np.testing.assert_allclose(sp.digamma(np.array([-0.5])), [0.03648997397857652], rtol=1e-13)


def test_values_match_scipy_where_installed():
    scipy_special = pytest.importorskip("scipy.special")
    x = np.linspace(-4.7, 9.3, 41)
    np.testing.assert_allclose(sp.digamma(x), scipy_special.digamma(x), rtol=1e-12, atol=1e-13)
    pos = np.linspace(0.05, 12.0, 30)
    for n in (1, 2, 3):
        np.testing.assert_allclose(sp.polygamma(n, pos), scipy_special.polygamma(n, pos),
                                   rtol=1e-12)
    np.testing.assert_allclose(sp.expit(x), scipy_special.expit(x), rtol=1e-15)


def test_logsumexp_and_expit_are_stable():
    assert np.isclose(sp.logsumexp(np.array([1000.0, 1000.0])), 1000.0 + np.log(2.0))
    with np.errstate(over="raise"):
        np.testing.assert_allclose(sp.expit(np.array([-800.0, 800.0])), [0.0, 1.0])
    g = ga.grad(lambda x: sp.logsumexp(x))(np.array([1000.0, 1000.0]))
    np.testing.assert_allclose(g, [0.5, 0.5])
    np.testing.assert_allclose(sp.softmax(np.array([1000.0, 0.0])), [1.0, 0.0])


# ---- the functions that come from SciPy on the CPU --------------------------------------------
X = np.linspace(0.25, 4.5, 11)
UNARY_VALUES = ["gamma", "i0", "i1", "i0e", "i1e", "j0", "j1", "y0", "y1", "erfcx"]


@pytest.mark.parametrize("name", UNARY_VALUES)
def test_unary_values_match_scipy(name):
    scipy_special = pytest.importorskip("scipy.special")
    for x in (X, -X[:4]) if name not in ("y0", "y1", "gamma") else (X,):
        np.testing.assert_allclose(getattr(sp, name)(x), getattr(scipy_special, name)(x),
                                   rtol=1e-13)
        assert getattr(sp, name)(x.astype(np.float32)).dtype == np.float32


def test_inverse_error_functions_invert():
    p = np.linspace(-0.95, 0.95, 9)
    np.testing.assert_allclose(sp.erf(sp.erfinv(p)), p, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(sp.erfc(sp.erfcinv(p + 1.0)), p + 1.0, rtol=1e-13)


@pytest.mark.parametrize("name", ["beta", "betaln", "xlogy", "xlog1py"])
def test_binary_values_match_scipy(name):
    scipy_special = pytest.importorskip("scipy.special")
    x, y = X, X[::-1] * 0.7
    np.testing.assert_allclose(getattr(sp, name)(x, y), getattr(scipy_special, name)(x, y),
                               rtol=1e-13)


@pytest.mark.parametrize("name", ["iv", "ive", "jv", "yv"])
def test_bessel_orders_match_scipy(name):
    scipy_special = pytest.importorskip("scipy.special")
    for v in (0, 1, 2.5):
        np.testing.assert_allclose(getattr(sp, name)(v, X), getattr(scipy_special, name)(v, X),
                                   rtol=1e-12)


def test_xlogy_is_zero_where_x_is_zero_without_warnings():
    with np.errstate(all="raise"):
        np.testing.assert_array_equal(sp.xlogy(np.array([0.0, 0.0]), np.array([0.0, 2.0])), 0.0)
        np.testing.assert_array_equal(sp.xlog1py(np.array([0.0]), np.array([-1.0])), 0.0)
        assert sp.xlogy(np.array([2.0]), np.array([0.0]))[0] == -np.inf


def test_bessel_derivatives_follow_the_recurrences():
    x = np.array([0.7, 1.9, 3.2])
    np.testing.assert_allclose(ga.elementwise_grad(sp.j0)(x), -sp.j1(x))
    np.testing.assert_allclose(ga.grad(lambda x: gnp.sum(sp.i0(x)))(x), sp.i1(x))
    g2 = ga.grad(lambda x: gnp.sum(ga.grad(lambda y: gnp.sum(sp.i0e(y)))(x)))(x)
    h = 1e-5
    i0e_prime = lambda x: (sp.i0e(x + h) - sp.i0e(x - h)) / (2 * h)
    np.testing.assert_allclose(g2, (i0e_prime(x + h) - i0e_prime(x - h)) / (2 * h), rtol=1e-4)


@pytest.mark.parametrize("axis,keepdims", [(None, False), (0, True), (1, False), ((0, 1), True)])
def test_logsumexp_weights_and_sign_match_scipy(axis, keepdims):
    scipy_special = pytest.importorskip("scipy.special")
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((3, 4)) * 30, rng.standard_normal((3, 4))
    for bb in (b, np.abs(b), b[0]):
        for return_sign in (False, True):
            with np.errstate(invalid="ignore"):
                ours = sp.logsumexp(a, axis=axis, b=bb, keepdims=keepdims,
                                    return_sign=return_sign)
                ref = scipy_special.logsumexp(a, axis=axis, b=bb, keepdims=keepdims,
                                              return_sign=return_sign)
            for o, r in zip(ours if return_sign else [ours], ref if return_sign else [ref]):
                assert np.shape(o) == np.shape(r)
                np.testing.assert_allclose(o, r, rtol=1e-12)
    value, sign = sp.logsumexp(a, axis=axis, keepdims=keepdims, return_sign=True)
    np.testing.assert_allclose(value, sp.logsumexp(a, axis=axis, keepdims=keepdims))
    np.testing.assert_array_equal(sign, 1.0)


def test_logsumexp_weighted_gradient_is_the_weighted_softmax():
    rng = np.random.default_rng(6)
    a, b = rng.standard_normal(5), rng.uniform(0.5, 2.0, 5)
    ga_, gb = ga.grad(lambda a, b: sp.logsumexp(a, b=b), argnums=(0, 1))(a, b)
    w = b * np.exp(a) / np.sum(b * np.exp(a))
    np.testing.assert_allclose(ga_, w, rtol=1e-12)
    np.testing.assert_allclose(gb, np.exp(a) / np.sum(b * np.exp(a)), rtol=1e-12)


def test_logsumexp_b_must_not_enlarge_a():
    with pytest.raises(ValueError, match=r"logsumexp: b of shape \(2, 3\).*\(3,\)"):
        sp.logsumexp(np.zeros(3), b=np.ones((2, 3)))


# ---- SciPy is optional -----------------------------------------------------------------------
def test_missing_scipy_raises_a_clear_error_when_called(monkeypatch):
    import sys
    for name in [m for m in sys.modules if m == "scipy" or m.startswith("scipy.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "scipy", None)  # `import scipy...` now raises ImportError
    with pytest.raises(ImportError, match=r"special\.i0 needs SciPy.*pip install scipy"):
        sp.i0(np.array([1.0]))
    from gpuad.scipy import linalg
    with pytest.raises(ImportError, match=r"linalg\.solve_triangular needs SciPy.*pip install"):
        linalg.solve_triangular(np.eye(2), np.ones(2))
    # the functions with Numba implementations keep working without SciPy
    np.testing.assert_allclose(sp.gamma(np.array([4.0])), [6.0])
    np.testing.assert_allclose(sp.xlogy(np.array([2.0]), np.array([np.e])), [2.0])


def test_gpuad_scipy_imports_without_scipy():
    import subprocess
    import sys
    code = ("import sys; sys.modules['scipy'] = None\n"
            "import gpuad.scipy, gpuad.scipy.special, gpuad.scipy.stats, gpuad.scipy.signal, "
            "gpuad.scipy.linalg\n"
            "import numpy as np\n"
            "from gpuad.scipy import stats\n"
            "print(float(stats.norm.logpdf(np.array(0.5))))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert abs(float(out.stdout) - (-0.5 * 0.25 - 0.5 * math.log(2 * math.pi))) < 1e-12


def test_xlogy_and_xlog1py_edges_match_scipy():
    import scipy.special
    x = np.array([0.0, 0.0, 0.0, 1.0, 2.0, 0.0, 1.5])
    y = np.array([np.nan, 0.0, -2.0, 0.0, -1.0, 3.0, 0.5])
    np.testing.assert_array_equal(sp.xlogy(x, y), scipy.special.xlogy(x, y))
    np.testing.assert_array_equal(sp.xlog1py(x, y - 1.0), scipy.special.xlog1py(x, y - 1.0))
