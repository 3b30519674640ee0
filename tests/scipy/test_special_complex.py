"""Complex input to gpuad.scipy.special: every function either gives SciPy's value or raises a
TypeError naming it, never a silently different number; erf and friends are holomorphic.
Derivatives are checked from tests/cases_scipy_complex.py."""
import math

import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp
from gpuad.scipy import special as sp

ss = pytest.importorskip("scipy.special")
Z = np.array([0.7 + 0.4j, 1.3 - 0.8j, 2.1 + 0.3j, -0.4 + 1.7j])
R = np.array([0.6, 1.4, 2.5, 3.1])
ORDER = np.array([0.0, 1.0, 2.0, 3.0])

# every public function of gpuad.scipy.special that SciPy has, with complex arguments in each
# position SciPy's signature allows
CALLS = {
    "unary": ["erf", "erfc", "erfcx", "erfinv", "erfcinv", "gamma", "gammaln", "loggamma",
              "digamma", "psi", "rgamma", "expit", "logit", "log_expit", "ndtr", "log_ndtr",
              "ndtri", "i0", "i1", "i0e", "i1e", "j0", "j1", "y0", "y1", "exp1", "expi",
              "spence", "entr", "gammasgn", "sinc", "zeta", "softmax", "log_softmax",
              "logsumexp", "log1p"],
    "order_first": ["iv", "ive", "jv", "jn", "yv", "kv", "kve", "yn", "expn", "polygamma"],
    "binary": ["beta", "betaln", "xlogy", "xlog1py", "rel_entr", "kl_div", "gammainc",
               "gammaincc", "zeta"],
    "other": ["betainc", "multigammaln"],
}


def _calls():
    for name in CALLS["unary"]:
        yield name, (Z,)
    for name in CALLS["order_first"]:
        yield name, (ORDER if name in ("yn", "expn", "polygamma") else 1.5, Z)
        yield name, (Z, R)
    for name in CALLS["binary"]:
        yield name, (Z, R)
        yield name, (R, Z)
    yield "betainc", (Z, R, np.full(4, 0.4))
    yield "betainc", (R, R, Z * 0.1)
    yield "multigammaln", (Z + 3.0, 2)


def test_the_table_covers_every_function_scipy_also_has():
    covered = {name for names in CALLS.values() for name in names}
    public = {n for n in dir(sp) if not n.startswith("_") and hasattr(ss, n)
              and callable(getattr(sp, n)) and getattr(sp, n).__module__ != "numpy"}
    assert public - covered == set(), "add the new functions to CALLS"


@pytest.mark.parametrize("name,args", list(_calls()), ids=lambda v: v if isinstance(v, str) else "")
def test_complex_input_gives_scipy_value_or_a_clear_type_error(name, args):
    with np.errstate(all="ignore"):
        try:
            expected = getattr(ss, name)(*args)
        except TypeError:
            expected = None
        if expected is None:
            with pytest.raises(TypeError, match=r"special\.\w+: complex input .* not supported"):
                getattr(sp, name)(*args)
            return
        ours = getattr(sp, name)(*args)
    assert np.asarray(ours).dtype == np.asarray(expected).dtype
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-15)


def test_complex64_stays_complex64():
    z = Z.astype(np.complex64)
    for fn in (sp.erf, sp.erfc, sp.gamma, sp.loggamma):
        assert fn(z).dtype == np.complex64


def test_erf_is_holomorphic():
    z = 0.8 - 0.6j
    deriv = 2 / math.sqrt(math.pi) * np.exp(-z * z)
    np.testing.assert_allclose(ga.holomorphic_grad(sp.erf)(z), deriv, rtol=1e-13)
    np.testing.assert_allclose(ga.holomorphic_grad(sp.erfc)(z), -deriv, rtol=1e-13)
    # grad of a real function of z = x + iy is dL/dx - i dL/dy (see gpuad.numpy's docstring);
    # for L = |erf z|^2 that is 2 erf(z) conj(erf'(z)) conjugated: 2 conj(erf z) erf'(z)
    g = ga.grad(lambda z: gnp.abs(sp.erf(z)) ** 2)(z)
    np.testing.assert_allclose(g, 2 * np.conj(ss.erf(z)) * deriv, rtol=1e-12)
    ga.check_grads(lambda z: gnp.abs(sp.erfc(z)) ** 2, (Z,), order=2)


def test_derivatives_that_need_complex_polygamma_raise():
    with pytest.raises(TypeError, match="special.polygamma: complex input.*derivative of digamma"):
        ga.holomorphic_grad(sp.digamma)(1.0 + 1.0j)
    with pytest.raises(TypeError, match="special.polygamma: complex input"):
        ga.holomorphic_grad(ga.holomorphic_grad(sp.loggamma))(1.0 + 1.0j)
    np.testing.assert_allclose(ga.holomorphic_grad(sp.loggamma)(1.0 + 1.0j), ss.psi(1.0 + 1.0j),
                               rtol=1e-13)


def test_real_only_functions_name_themselves():
    with pytest.raises(TypeError, match=r"special\.expit: complex input \(complex128\)"):
        sp.expit(Z)
    with pytest.raises(TypeError, match=r"special\.gammaln: complex input.*loggamma"):
        sp.gammaln(Z)
    with pytest.raises(TypeError, match=r"special\.log_expit: complex input"):
        ga.grad(lambda z: gnp.sum(gnp.abs(sp.log_expit(z))))(Z)
    # real input is untouched
    np.testing.assert_allclose(sp.expit(R), ss.expit(R), rtol=1e-15)


def test_logsumexp_of_complex_input_is_the_principal_log():
    a = np.array([[0.3 + 4.0j, 0.5 + 0.1j, -1.0 - 3.5j], [2.0 + 3.0j, 1.0 + 3.1j, 0.2j]])
    b = np.array([1.0 + 1.0j, 2.0 - 1.0j, -0.5 + 0.2j])
    for kw in ({}, {"b": b}, {"axis": 1}, {"axis": 0, "keepdims": True}, {"b": b, "axis": 1}):
        for return_sign in (False, True):
            ours = sp.logsumexp(a, return_sign=return_sign, **kw)
            expected = ss.logsumexp(a, return_sign=return_sign, **kw)
            pairs = zip(ours, expected) if return_sign else [(ours, expected)]
            for o, e in pairs:
                assert np.shape(o) == np.shape(e) and np.asarray(o).dtype == np.asarray(e).dtype
                np.testing.assert_allclose(o, e, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(sp.log_softmax(a, axis=1), ss.log_softmax(a, axis=1), rtol=1e-12)
    np.testing.assert_allclose(sp.softmax(a), ss.softmax(a), rtol=1e-12)


def test_ive_of_complex_input_scales_by_the_real_part():
    np.testing.assert_allclose(sp.ive(1.5, Z), ss.iv(1.5, Z) * np.exp(-np.abs(Z.real)),
                               rtol=1e-12)
    # not holomorphic: the derivative along the real and imaginary axes differ by more than i
    z, h = 0.9 + 0.5j, 1e-6
    along_x = (ss.ive(1.0, z + h) - ss.ive(1.0, z - h)) / (2 * h)
    along_y = (ss.ive(1.0, z + 1j * h) - ss.ive(1.0, z - 1j * h)) / (2 * h)
    _, tangent_x = ga.jvp(lambda z: sp.ive(1.0, z), (z,), (1.0 + 0j,))
    _, tangent_y = ga.jvp(lambda z: sp.ive(1.0, z), (z,), (1j,))
    np.testing.assert_allclose([tangent_x, tangent_y], [along_x, along_y], rtol=1e-8)


def test_jn_is_jv():
    assert sp.jn is sp.jv
    x = np.linspace(0.3, 6.0, 7)
    for n in (0, 1, 3):
        np.testing.assert_allclose(sp.jn(n, x), ss.jn(n, x), rtol=1e-13)
