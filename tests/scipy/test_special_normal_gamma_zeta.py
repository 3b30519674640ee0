"""Values of the second batch of gpuad.scipy.special functions against scipy.special, their
float32 dtypes, the stable left tail of log_ndtr, and the NotImplementedError raised for the
arguments that have no derivative (derivative checks: tests/cases_scipy_normal_gamma_zeta.py)."""
import math

import numpy as np
import pytest

import gpuad as ga
from gpuad.scipy import special as sp

ss = pytest.importorskip("scipy.special")

X = np.linspace(0.25, 4.5, 11)
SIGNED = np.concatenate([-X[::-1], X])
UNIT = np.linspace(0.05, 0.95, 10)

UNARY = [("ndtr", SIGNED), ("log_ndtr", np.linspace(-40.0, 6.0, 24)), ("ndtri", UNIT),
         ("rgamma", np.concatenate([X, -X[1::3] - 0.5])), ("entr", X), ("exp1", X),
         ("expi", SIGNED), ("spence", np.concatenate([UNIT, X])), ("sinc", SIGNED)]


@pytest.mark.parametrize("name,x", UNARY, ids=[u[0] for u in UNARY])
def test_unary_values_match_scipy(name, x):
    np.testing.assert_allclose(getattr(sp, name)(x), getattr(ss, name)(x), rtol=1e-13,
                               atol=1e-300)
    assert getattr(sp, name)(x.astype(np.float32)).dtype == np.float32


def test_entr_edges_match_scipy():
    x = np.array([-1.0, 0.0, 0.5])
    np.testing.assert_array_equal(sp.entr(x), ss.entr(x))  # -inf below 0, 0 at 0


BINARY = [
    ("kv", (0, 1.5, 2, 3.7), X), ("kve", (0, 1.5, 2), X), ("yn", (0, 1, 3), X),
    ("expn", (0, 1, 3), X), ("gammainc", (0.7, 2.5, 6.0), X), ("gammaincc", (0.7, 2.5, 6.0), X),
    ("zeta", (1.5, 2.5, 4.0), X),
]


@pytest.mark.parametrize("name,orders,x", BINARY, ids=[b[0] for b in BINARY])
def test_constant_first_argument_values_match_scipy(name, orders, x):
    for c in orders:
        np.testing.assert_allclose(getattr(sp, name)(c, x), getattr(ss, name)(c, x),
                                   rtol=1e-13)
        assert getattr(sp, name)(c, x.astype(np.float32)).dtype == np.float32


def test_pair_values_match_scipy():
    x, y = np.meshgrid(np.array([0.0, 0.3, 1.2, 3.0]), np.array([0.4, 1.0, 2.5]))
    for name in ("rel_entr", "kl_div"):
        np.testing.assert_allclose(getattr(sp, name)(x, y), getattr(ss, name)(x, y), rtol=1e-14)
    np.testing.assert_allclose(sp.betainc(2.0, np.array([[0.5], [3.0]]), UNIT),
                               ss.betainc(2.0, np.array([[0.5], [3.0]]), UNIT), rtol=1e-13)
    assert sp.betainc(2.0, 3.0, UNIT.astype(np.float32)).dtype == np.float32


def test_riemann_zeta_and_multigammaln_match_scipy():
    x = np.array([-1.5, 0.5, 2.0, 3.5])
    np.testing.assert_allclose(sp.zeta(x), ss.zeta(x), rtol=1e-13)
    a = np.array([1.6, 2.0, 7.5])
    for d in (1, 2, 3):
        np.testing.assert_allclose(sp.multigammaln(a, d), ss.multigammaln(a, d), rtol=1e-13)
    with pytest.raises(ValueError, match="a > \\(d-1\\)/2"):
        sp.multigammaln(np.array([0.9]), 3)


def test_closed_form_derivatives():
    # d/dx gammainc(1, x) = exp(-x); d/dx betainc(1, 1, x) = 1; d/dq zeta(2, q) = -2 zeta(3, q)
    np.testing.assert_allclose(ga.grad(lambda x: sp.gammainc(1.0, x))(0.8), math.exp(-0.8))
    np.testing.assert_allclose(ga.grad(lambda x: sp.betainc(1.0, 1.0, x))(0.3), 1.0)
    np.testing.assert_allclose(ga.grad(lambda q: sp.zeta(2.0, q))(1.0), -2 * ss.zeta(3.0))
    # ndtri'(p) = 1 / phi(ndtri(p)); spence'(z) = log(z) / (1 - z)
    p = 0.2
    np.testing.assert_allclose(ga.grad(sp.ndtri)(p),
                               math.sqrt(2 * math.pi) * math.exp(ss.ndtri(p) ** 2 / 2))
    np.testing.assert_allclose(ga.grad(sp.spence)(2.0), math.log(2.0) / (1 - 2.0))


def test_log_ndtr_derivative_is_stable_in_the_left_tail():
    # phi(x) / Phi(x) ~ -x - 1/x + 2/x^3 for x -> -inf, where Phi underflows to 0
    for x in (-40.0, -100.0, -1e4):
        g = ga.grad(sp.log_ndtr)(x)
        assert np.isfinite(g)
        np.testing.assert_allclose(g, -x - 1 / x + 2 / x ** 3, rtol=1e-8)
        h = ga.grad(ga.grad(sp.log_ndtr))(x)
        np.testing.assert_allclose(h, -1.0 + 1 / x ** 2 - 6 / x ** 4, rtol=1e-7)
    t = ga.jvp(sp.log_ndtr, (np.array([-60.0, 0.0, 5.0]),), (np.ones(3),))[1]
    assert np.all(np.isfinite(t))


RAISING = [
    ("gammainc", "a", lambda a: sp.gammainc(a, 1.3)),
    ("gammaincc", "a", lambda a: sp.gammaincc(a, 1.3)),
    ("betainc", "a", lambda a: sp.betainc(a, 2.0, 0.4)),
    ("betainc", "b", lambda b: sp.betainc(2.0, b, 0.4)),
    ("zeta", "x", lambda x: sp.zeta(x, 1.5)),
    ("zeta", "x", lambda x: sp.zeta(x)),
]


@pytest.mark.parametrize("name,arg,fn", RAISING, ids=[f"{r[0]}-{r[1]}-{i}"
                                                      for i, r in enumerate(RAISING)])
def test_constant_arguments_raise_naming_function_and_argument(name, arg, fn):
    message = f"special.{name}: the derivative with respect to {arg} is not implemented"
    with pytest.raises(NotImplementedError, match=message):
        ga.grad(fn)(2.5)
    with pytest.raises(NotImplementedError, match=message):
        ga.jvp(fn, (2.5,), (1.0,))
