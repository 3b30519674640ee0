"""Predicates and descriptions of arrays on plain and traced values (gpuad/numpy/predicates.py)."""
import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp

from .numpy_reference import matches_numpy

RNG = np.random.default_rng(5)
V = RNG.standard_normal(5)
Z = V + 1j * np.array([0.0, 1.0, 0.0, -2.0, 0.0])

CASES = [
    ("isrealobj", lambda m, x: m.isrealobj(x), (V,)),
    ("isrealobj_complex", lambda m, z: m.isrealobj(z), (Z,)),
    ("iscomplexobj", lambda m, x: m.iscomplexobj(x), (V,)),
    ("iscomplexobj_complex", lambda m, z: m.iscomplexobj(z), (Z,)),
    ("isreal", lambda m, z: m.isreal(z), (Z,)),
    ("iscomplex", lambda m, z: m.iscomplex(z), (Z,)),
    ("isreal_real", lambda m, x: m.isreal(x), (V,)),
    ("isscalar_array", lambda m, x: m.isscalar(x), (V,)),
    ("isscalar_number", lambda m: m.isscalar(2.0), ()),
    ("iterable", lambda m, x: m.iterable(x), (V,)),
    ("iterable_0d", lambda m, x: m.iterable(x), (np.array(2.0),)),
    ("array_equiv", lambda m, x: m.array_equiv(x, x[None]), (V,)),
    ("isin", lambda m, x: m.isin(x, x[::2]), (V,)),
    ("isnat", lambda m: m.isnat(np.array(["NaT", "2001-01-01"], "datetime64[D]")), ()),
    ("isfortran", lambda m, x: m.isfortran(x), (np.asfortranarray(np.ones((2, 3))),)),
    ("shares_memory", lambda m, x: m.shares_memory(x, x), (V,)),
    ("array_str", lambda m, x: m.array_str(x, precision=3), (V,)),
    ("array_repr", lambda m, z: m.array_repr(z), (Z,)),
    ("array2string", lambda m, x: m.array2string(x, separator=";"), (V,)),
]


@pytest.mark.parametrize("name,fn,args", CASES, ids=[c[0] for c in CASES])
def test_values_equal_numpy(name, fn, args):
    matches_numpy(fn, args)


def test_branching_on_a_predicate_inside_grad():
    def f(x):
        return gnp.sum(gnp.abs(x) if gnp.iscomplexobj(x) else x * x)
    np.testing.assert_allclose(ga.grad(f)(V), 2 * V)


def test_numpys_own_predicates_work_on_tracers():
    def f(x):
        assert np.isrealobj(x) and not np.iscomplexobj(x)   # via __array_function__
        assert np.iscomplex(x).tolist() == [False] * 5
        return gnp.sum(x)
    ga.grad(f)(V)
