"""NumPy's legacy polynomial functions (gpuad/numpy/polynomials.py): NumPy's values on plain and
traced coefficients (derivatives: tests/cases_namespace.py)."""
import warnings

import numpy as np
import pytest

import gpuad.numpy as gnp

from .numpy_reference import matches_numpy

P1 = np.array([1.0, 2.0, 3.0])
P2 = np.array([0.5, -1.0])
XS = np.linspace(0.0, 1.0, 8)
YS = np.cos(3.0 * XS)
M = np.random.default_rng(2).standard_normal((3, 3))

CASES = []
for _name in ("polyadd", "polysub", "polymul", "polydiv"):
    CASES += [(_name, lambda m, a, b, n=_name: getattr(m, n)(a, b), (P1, P2)),
              (_name + "_reversed", lambda m, a, b, n=_name: getattr(m, n)(b, a), (P1, P2))]
CASES += [
    ("polydiv_exact", lambda m, u, v: m.polydiv(u, v), (np.array([1.0, -3.0, 3.0, -1.0]),
                                                        np.array([1.0, -1.0]))),
    ("polyder", lambda m, p: m.polyder(p, 2), (np.array([1.0, 2.0, 3.0, 4.0]),)),
    ("polyder_0", lambda m, p: m.polyder(p, 0), (P1,)),
    ("polyint", lambda m, p: m.polyint(p, 2, k=[1.0, 2.0]), (P1,)),
    ("polyint_scalar_k", lambda m, p: m.polyint(p, 3, k=3.0), (P1,)),
    ("poly", lambda m, r: m.poly(r), (np.array([1.0, 2.0, -3.0]),)),
    ("poly_conjugate_pairs", lambda m, r: m.poly(r), (np.array([1 + 1j, 1 - 1j, 2.0]),)),
    ("poly_complex", lambda m, r: m.poly(r), (np.array([1 + 1j, 2.0]),)),
    ("poly_matrix", lambda m, a: m.poly(a), (M,)),
    ("poly_empty", lambda m: m.poly([]), ()),
    ("roots", lambda m, p: m.roots(p), (np.array([0.0, 1.0, -6.0, 11.0, -6.0, 0.0]),)),
    ("roots_complex", lambda m, p: m.roots(p), (np.array([1.0, 0.0, 1.0]),)),
    ("roots_constant", lambda m, p: m.roots(p), (np.array([0.0, 2.0]),)),
    ("roots_zero", lambda m, p: m.roots(p), (np.zeros(3),)),
    ("polyfit", lambda m, x, y: m.polyfit(x, y, 3), (XS, YS)),
    ("polyfit_2d", lambda m, x, y: m.polyfit(x, np.stack([y, y * y], 1), 2), (XS, YS)),
    ("polyfit_full", lambda m, x, y: m.polyfit(x, y, 2, full=True)[:2], (XS, YS)),
    ("polyfit_weighted_cov", lambda m, x, y: m.polyfit(x, y, 2, w=x + 1.0, cov=True), (XS, YS)),
    ("polyfit_cov_unscaled", lambda m, x, y: m.polyfit(x, y, 1, cov="unscaled"), (XS, YS)),
]


@pytest.mark.parametrize("name,fn,args", CASES, ids=[c[0] for c in CASES])
def test_values_equal_numpy(name, fn, args):
    matches_numpy(fn, args)


def test_poorly_conditioned_fit_warns_as_numpy():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gnp.polyfit(np.ones(4), np.arange(4.0), 2)
    assert any(issubclass(w.category, np.exceptions.RankWarning) for w in caught)


def test_errors():
    with pytest.raises(ValueError, match="polyder: the order m must be non-negative"):
        gnp.polyder(P1, -1)
    with pytest.raises(ValueError, match="polyint: 2 integration constants for order 3"):
        gnp.polyint(P1, 3, k=[1.0, 2.0])
    with pytest.raises(ValueError, match="poly: input must be 1-D"):
        gnp.poly(np.ones((2, 3)))
    with pytest.raises(TypeError, match="polyfit: expected y of shape"):
        gnp.polyfit(XS, YS[:3], 1)
