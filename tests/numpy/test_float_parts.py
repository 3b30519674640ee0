"""ldexp, frexp, modf, divmod, nextafter, spacing, floor_divide (gpuad/numpy/float_parts.py):
NumPy's values bit for bit, on plain and traced arguments, and their derivatives at the special
points (derivatives in general: tests/cases_namespace.py)."""
import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp

from .numpy_reference import matches_numpy, traced_output

SPECIAL = np.array([0.0, -0.0, 3.5, -2.0, -1.25, 1e-310, np.inf, -np.inf, np.nan])
RNG = np.random.default_rng(3)
X = RNG.standard_normal((2, 3)) * 4

CASES = [
    ("ldexp", lambda m, x: m.ldexp(x, np.array([1, -3, 0])), (X,)),
    ("ldexp_beyond_2_pow_n", lambda m: m.ldexp(np.array([1e-300]), 1100), ()),
    ("frexp", lambda m, x: m.frexp(x), (SPECIAL,)),
    ("modf", lambda m, x: m.modf(x), (SPECIAL,)),
    ("divmod", lambda m, x: m.divmod(x, 1.5), (X,)),
    ("floor_divide", lambda m, x: m.floor_divide(x, -0.75), (X,)),
    ("nextafter", lambda m, x: m.nextafter(x, np.array([1.0, -1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0,
                                                         1.0])), (SPECIAL,)),
    ("nextafter_broadcast", lambda m, x: m.nextafter(x, np.array([[np.inf], [-np.inf]])),
     (X[0],)),
    ("spacing", lambda m, x: m.spacing(x), (X,)),
]


# frexp's mantissa has derivative 2**1029 at 1e-310, beyond float64
@pytest.mark.filterwarnings("ignore:overflow encountered in ldexp")
@pytest.mark.parametrize("name,fn,args", CASES, ids=[c[0] for c in CASES])
def test_values_equal_numpy(name, fn, args):
    matches_numpy(fn, args)


def test_signed_zeros_are_kept():
    frac = traced_output(lambda m, x: m.modf(x)[0], (np.array([-2.0, -0.0, -0.5]),))
    assert np.signbit(frac).tolist() == [True, True, True]
    after = traced_output(lambda m, x: m.nextafter(x, -1.0), (np.array([5e-324, 0.0]),))
    assert np.signbit(after).tolist() == [False, True]


def test_derivatives_at_special_points():
    finite = np.array([0.0, -1.25, 3.5])
    np.testing.assert_array_equal(ga.grad(lambda x: gnp.sum(gnp.modf(x)[0]))(finite), [1, 1, 1])
    # at an integer the fraction jumps; the derivative there is taken as 0
    np.testing.assert_array_equal(ga.grad(lambda x: gnp.sum(gnp.modf(x)[0]))(np.array([2.0])),
                                  [0.0])
    g = ga.grad(lambda x: gnp.sum(gnp.nextafter(x, 0.0)))(np.array([np.inf, 1.0, 0.0]))
    np.testing.assert_array_equal(g, [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(ga.grad(lambda x: gnp.sum(gnp.frexp(x)[0]))(
        np.array([3.0, 0.25])), [0.25, 2.0])
    np.testing.assert_array_equal(ga.grad(lambda x: gnp.sum(gnp.ldexp(x, 3)))(np.ones(2)),
                                  [8.0, 8.0])


def test_integer_parts_carry_no_derivative():
    _, tangent = ga.jvp(lambda x: gnp.modf(x)[1] + gnp.frexp(x)[1] + gnp.floor_divide(x, 2.0),
                          (X,), (np.ones_like(X),))
    np.testing.assert_array_equal(tangent, 0.0)
