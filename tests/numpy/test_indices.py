"""Index computations on plain and traced values (gpuad/numpy/indices.py)."""
import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp

from .numpy_reference import matches_numpy

RNG = np.random.default_rng(6)
X = RNG.standard_normal((3, 4))
V = RNG.standard_normal(6)

CASES = [
    ("argwhere", lambda m, x: m.argwhere(x > 0), (X,)),
    ("argpartition", lambda m, x: m.argpartition(x, 2), (V,)),
    ("digitize", lambda m, x: m.digitize(x, [-1.0, 0.0, 1.0]), (V,)),
    ("digitize_right", lambda m, x: m.digitize(x, [1.0, 0.0, -1.0], right=True), (V,)),
    ("lexsort", lambda m, x: m.lexsort((x, x > 0)), (V,)),
    ("unravel_index", lambda m: m.unravel_index([3, 7, 11], (3, 4)), ()),
    ("ravel_multi_index", lambda m: m.ravel_multi_index(([0, 2], [1, 3]), (3, 4)), ()),
    ("diag_indices_from", lambda m, x: m.diag_indices_from(x[:, :3]), (X,)),
    ("tril_indices_from", lambda m, x: m.tril_indices_from(x, 1), (X,)),
    ("triu_indices_from", lambda m, x: m.triu_indices_from(x, -1), (X,)),
    ("mask_indices", lambda m: m.mask_indices(3, m.triu, 1), ()),
    ("ix_", lambda m: m.ix_([0, 2], [1, 3]), ()),
    ("einsum_path", lambda m, x: m.einsum_path("ij,jk,kl->il", x, x.T, x, optimize="greedy"),
     (X,)),
    ("ndindex", lambda m: list(m.ndindex(2, 3)), ()),
    ("flatnonzero", lambda m, x: m.flatnonzero(x > 0), (X,)),
    ("nanargmax", lambda m, x: m.nanargmax(x, axis=1), (X,)),
]


@pytest.mark.parametrize("name,fn,args", CASES, ids=[c[0] for c in CASES])
def test_values_equal_numpy(name, fn, args):
    matches_numpy(fn, args)


def test_indices_of_traced_values_index_differentiably():
    def f(x):
        rows = gnp.argwhere(x > 0)
        return gnp.sum(x[rows[:, 0], rows[:, 1]] ** 2)
    np.testing.assert_allclose(ga.grad(f)(X), np.where(X > 0, 2 * X, 0.0))


def test_ndenumerate_yields_traced_elements():
    g = ga.grad(lambda x: sum(v * (i + 2 * j) for (i, j), v in gnp.ndenumerate(x)))(X)
    np.testing.assert_array_equal(g, np.add.outer(np.arange(3), 2 * np.arange(4)))
    assert [i for i, _ in gnp.ndenumerate(X)] == [i for i, _ in np.ndenumerate(X)]


def test_shape_errors():
    with pytest.raises(ValueError, match="diag_indices_from: all dimensions must be equal"):
        gnp.diag_indices_from(X)
    with pytest.raises(ValueError, match="tril_indices_from: the array must be 2-D"):
        gnp.tril_indices_from(V)
    with pytest.raises(TypeError, match="einsum_path: give the subscripts as a string"):
        gnp.einsum_path(X, [0, 1], X, [1, 2])
