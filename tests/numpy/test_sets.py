"""unique and the set operations (gpuad/numpy/sets.py): NumPy's values on plain and traced
arguments, and gradients that reach the first occurrence of each value (the gradients in
general: tests/cases_namespace.py)."""
import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp

from .numpy_reference import matches_numpy

X = np.array([3.0, 1.0, 2.0, 1.0, np.nan, np.nan, 7.0, 0.5])
A = np.array([[1.0, 2.0], [0.0, 1.0], [1.0, 2.0]])
Y = np.array([2.0, 3.0, 9.0, 1.0])

CASES = [
    ("unique_all_flags", lambda m, x: m.unique(x, True, True, True), (X,)),
    ("unique_nan_apart", lambda m, x: m.unique(x, equal_nan=False), (X,)),
    ("unique_axis", lambda m, a: m.unique(a, return_index=True, return_inverse=True, axis=0),
     (A,)),
    ("unique_unsorted", lambda m, x: m.unique(x, sorted=False), (X[:4],)),
    ("unique_values", lambda m, a: m.unique_values(a), (A,)),
    ("unique_counts", lambda m, a: m.unique_counts(a), (A,)),
    ("unique_inverse", lambda m, a: m.unique_inverse(a), (A,)),
    ("unique_all", lambda m, a: m.unique_all(a), (A,)),
    ("intersect1d", lambda m, x, y: m.intersect1d(x, y), (X[:4], Y)),
    ("intersect1d_indices", lambda m, x, y: m.intersect1d(x, y, return_indices=True), (X[:4], Y)),
    ("intersect1d_unique", lambda m, x, y: m.intersect1d(x, y, assume_unique=True), (Y, Y[:2])),
    ("union1d", lambda m, x, y: m.union1d(x, y), (X[:4], Y)),
    ("setdiff1d", lambda m, x, y: m.setdiff1d(x, y), (X, Y)),
    ("setdiff1d_unique", lambda m, x, y: m.setdiff1d(x, y, assume_unique=True), (Y, Y[1:2])),
    ("setxor1d", lambda m, x, y: m.setxor1d(x, y), (X[:4], Y)),
    ("setxor1d_empty", lambda m, x: m.setxor1d(x, x), (Y,)),
]


@pytest.mark.parametrize("name,fn,args", CASES, ids=[c[0] for c in CASES])
def test_values_equal_numpy(name, fn, args):
    matches_numpy(fn, args)


def test_gradient_of_unique_reaches_each_first_occurrence():
    # was silently zero: unique's values carried no derivative
    g = ga.grad(lambda x: gnp.sum(gnp.unique(x) ** 2))(np.array([3.0, 1.0, 3.0, 2.0, 1.0]))
    np.testing.assert_array_equal(g, [6.0, 2.0, 0.0, 4.0, 0.0])


def test_intersection_values_come_from_the_first_array():
    gx, gy = ga.grad(lambda x, y: gnp.sum(gnp.intersect1d(x, y)), argnums=(0, 1))(Y, Y[::-1])
    np.testing.assert_array_equal(gx, [1.0, 1.0, 1.0, 1.0])
    np.testing.assert_array_equal(gy, [0.0, 0.0, 0.0, 0.0])


def test_lists_of_traced_values_are_stacked():
    g = ga.grad(lambda a, b: gnp.sum(gnp.unique([a, b, a])), argnums=(0, 1))(2.0, 5.0)
    assert g == (1.0, 1.0)


def test_vmap_is_refused():
    with pytest.raises(NotImplementedError, match="unique: not supported under vmap"):
        ga.vmap(gnp.unique)(A)
