"""gnp.emath (gpuad/numpy/emath.py): NumPy's values and dtypes, real where NumPy's are real and
complex where NumPy's turn complex, on plain and traced arguments."""
import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp

from .numpy_reference import matches_numpy

RNG = np.random.default_rng(8)
POSITIVE = RNG.uniform(0.2, 3.0, (2, 3))
SIGNED = RNG.uniform(-3.0, 3.0, 5)
INSIDE = RNG.uniform(-0.9, 0.9, 4)
BEYOND = np.array([-1.7, 0.3, 2.5])

CASES = []
for _name in ("sqrt", "log", "log2", "log10"):
    for _label, _x in (("positive", POSITIVE), ("signed", SIGNED), ("float32", np.float32(SIGNED)),
                       ("int", np.array([-4, 9])), ("scalar", -4.0), ("complex", SIGNED + 1j)):
        CASES.append((f"{_name}_{_label}", lambda m, x, name=_name: getattr(m.emath, name)(x),
                      (_x,)))
for _name in ("arccos", "arcsin", "arctanh"):
    for _label, _x in (("inside", INSIDE), ("beyond", BEYOND), ("float32", np.float32(BEYOND))):
        CASES.append((f"{_name}_{_label}", lambda m, x, name=_name: getattr(m.emath, name)(x),
                      (_x,)))
CASES += [
    ("logn", lambda m, n, x: m.emath.logn(n, x), (np.array([2.0, -3.0]), POSITIVE[0, :2])),
    ("logn_real", lambda m, x: m.emath.logn(3.0, x), (POSITIVE,)),
    ("power_negative_base", lambda m, x: m.emath.power(x, 0.5), (SIGNED,)),
    ("power_real", lambda m, x, p: m.emath.power(x, p), (POSITIVE, SIGNED[:3])),
    ("power_negative_int_exponent", lambda m: m.emath.power(np.array([-2, 3]), -1), ()),
    ("power_int", lambda m: m.emath.power(np.array([2, 3]), np.array([2, 3])), ()),
]


@pytest.mark.parametrize("name,fn,args", CASES, ids=[c[0] for c in CASES])
def test_values_equal_numpy(name, fn, args):
    matches_numpy(fn, args)


def test_the_complex_branch_is_differentiable():
    x = np.array([-4.0, 9.0])
    g = ga.grad(lambda x: gnp.sum(gnp.imag(gnp.emath.sqrt(x)) + gnp.real(gnp.emath.sqrt(x))))(x)
    # d/dx sqrt(x) = 1 / (2 sqrt(x)): 1 / 4j = -j/4 at -4 (its imaginary part counts), 1/6 at 9
    np.testing.assert_allclose(g, [-0.25, 1.0 / 6.0])


def test_under_vmap_the_batch_turns_complex_together():
    out = ga.vmap(gnp.emath.sqrt)(np.array([[-4.0, 9.0], [4.0, 1.0]]))
    np.testing.assert_array_equal(out, [[2j, 3.0], [2.0, 1.0]])
    assert ga.vmap(gnp.emath.sqrt)(np.array([[4.0], [1.0]])).dtype == np.float64
