"""apply_along_axis, apply_over_axes, fromfunction, vectorize (gpuad/numpy/functional.py)."""
import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp

from .numpy_reference import matches_numpy

RNG = np.random.default_rng(9)
X = RNG.standard_normal((3, 4))
X3 = RNG.standard_normal((2, 3, 4))

CASES = [
    ("apply_along_axis", lambda m, x: m.apply_along_axis(lambda r: r[:2] * m.sum(r), 1, x), (X,)),
    ("apply_along_axis_scalar", lambda m, x: m.apply_along_axis(m.sum, 0, x), (X3,)),
    ("apply_along_axis_matrix", lambda m, x: m.apply_along_axis(lambda r: m.outer(r, r), 1, x),
     (X3,)),
    ("apply_along_axis_args", lambda m, x: m.apply_along_axis(m.roll, -1, x, 2), (X3,)),
    ("apply_over_axes", lambda m, x: m.apply_over_axes(m.sum, x, [0, 2]), (X3,)),
    ("apply_over_axes_negative", lambda m, x: m.apply_over_axes(m.max, x, -1), (X3,)),
    ("fromfunction", lambda m: m.fromfunction(lambda i, j: i * 2 + j, (2, 3)), ()),
    ("fromfunction_int", lambda m: m.fromfunction(lambda i: i * i, (4,), dtype=int), ()),
    ("vectorize", lambda m, x, y: m.vectorize(lambda a, b: a * m.sin(b) if a > 0 else b)(x, y),
     (X, X[0])),
    ("vectorize_otypes", lambda m, x: m.vectorize(lambda a: a * 2, otypes=[np.float32])(x), (X,)),
    ("vectorize_tuple", lambda m, x: m.vectorize(lambda a: (a, a * 2))(x), (X,)),
    ("vectorize_excluded", lambda m, x: m.vectorize(lambda a, p: a ** p, excluded={1})(x, 2),
     (X,)),
    ("vectorize_signature", lambda m, x, y: m.vectorize(lambda a, b: m.dot(a, b),
                                                        signature="(n),(n)->()")(x, y),
     (X3, X[0])),
    ("vectorize_signature_outputs", lambda m, x: m.vectorize(
        lambda a: (m.sum(a), a * 2), signature="(n)->(),(n)")(x), (X,)),
    ("vectorize_signature_matrix", lambda m, x: m.vectorize(
        lambda a: a @ a.T, signature="(m,n)->(m,m)")(x), (X3,)),
]


@pytest.mark.parametrize("name,fn,args", CASES, ids=[c[0] for c in CASES])
def test_values_equal_numpy(name, fn, args):
    matches_numpy(fn, args)


def test_vectorize_as_a_decorator_with_keywords():
    @gnp.vectorize(signature="(n)->()")
    def norm2(v):
        return gnp.sum(v * v)
    np.testing.assert_allclose(ga.grad(lambda x: gnp.sum(norm2(x)))(X), 2 * X)


def test_errors():
    with pytest.raises(ValueError, match="cannot call vectorize on size-0 inputs"):
        gnp.vectorize(lambda a: a)(np.ones(0))
    assert gnp.vectorize(lambda a: a, otypes=[float])(np.ones(0)).shape == (0,)
    with pytest.raises(ValueError, match="not a valid gufunc signature"):
        gnp.vectorize(lambda a: a, signature="(n->()")
    with pytest.raises(ValueError, match="core dimension 'n' is 3 in one argument and 4"):
        gnp.vectorize(lambda a, b: a, signature="(n),(n)->()")(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="output 0 has shape"):
        gnp.vectorize(lambda a: a, signature="(n)->()")(X)
    with pytest.raises(ValueError, match="apply_along_axis: .* no slices"):
        gnp.apply_along_axis(gnp.sum, 1, np.ones((0, 3)))
