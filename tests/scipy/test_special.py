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
