"""resize, trim_zeros, unstack, compress, extract, sort_complex, row_stack, the as*array
conversions and the grids (gpuad/numpy/shaping.py)."""
import warnings

import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp

from .numpy_reference import matches_numpy

RNG = np.random.default_rng(10)
X = RNG.standard_normal((3, 4))
PADDED = np.array([0.0, 0.0, 1.5, 0.0, 2.0, 0.0])
BOX = np.zeros((4, 5))
BOX[1, 2], BOX[2, 3] = 1.0, 2.0

CASES = [
    ("resize", lambda m, x: m.resize(x, (3, 5)), (X,)),
    ("resize_int", lambda m, x: m.resize(x, 5), (X,)),
    ("resize_empty", lambda m, x: m.resize(x, (0, 2)), (X,)),
    ("trim_zeros", lambda m, x: m.trim_zeros(x), (PADDED,)),
    ("trim_zeros_front", lambda m, x: m.trim_zeros(x, "f"), (PADDED,)),
    ("trim_zeros_all_zero", lambda m, x: m.trim_zeros(x), (np.zeros(3),)),
    ("trim_zeros_2d", lambda m, x: m.trim_zeros(x), (BOX,)),
    ("trim_zeros_2d_axis", lambda m, x: m.trim_zeros(x, "b", axis=1), (BOX,)),
    ("trim_zeros_2d_all_zero", lambda m, x: m.trim_zeros(x), (np.zeros((2, 3)),)),
    ("unstack", lambda m, x: m.unstack(x, axis=1), (X,)),
    ("compress", lambda m, x: m.compress([True, False, True], x, axis=1), (X,)),
    ("compress_flat", lambda m, x: m.compress([1, 0, 1], x), (X,)),
    ("extract", lambda m, x: m.extract(x > 0, x), (X,)),
    ("sort_complex", lambda m, x: m.sort_complex(x), (np.array([3.0, 1.0, 2.0, 1.0]),)),
    ("sort_complex_complex", lambda m, z: m.sort_complex(z),
     (np.array([1 + 2j, 1 - 1j, 0 + 5j, 2 + 0j]),)),
    ("sort_complex_float32", lambda m, x: m.sort_complex(x), (X[0].astype(np.float32),)),
    ("ascontiguousarray_0d", lambda m, x: m.ascontiguousarray(x), (np.array(2.0),)),
    ("asfortranarray", lambda m, x: m.asfortranarray(x, np.float32), (X,)),
    ("asanyarray", lambda m, x: m.asanyarray(x), (X,)),
    ("require", lambda m, x: m.require(x, np.float64, ["C"]), (X,)),
    ("asarray_chkfinite", lambda m, x: m.asarray_chkfinite(x), (X,)),
    ("mgrid", lambda m: m.mgrid[0:3, 0:2], ()),
    ("ogrid", lambda m: m.ogrid[0:1:4j, 0:2], ()),
]


@pytest.mark.parametrize("name,fn,args", CASES, ids=[c[0] for c in CASES])
def test_values_equal_numpy(name, fn, args):
    matches_numpy(fn, args)


def test_row_stack_warns_as_numpy_does():
    with pytest.warns(DeprecationWarning, match="row_stack"):
        out = gnp.row_stack([X[0], X[1]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        np.testing.assert_array_equal(out, np.row_stack([X[0], X[1]]))


def test_errors():
    with pytest.raises(ValueError, match="asarray_chkfinite: the array must not contain"):
        ga.grad(lambda x: gnp.sum(gnp.asarray_chkfinite(x)))(np.array([1.0, np.inf]))
    with pytest.raises(ValueError, match="trim_zeros: trim must be"):
        gnp.trim_zeros(PADDED, "x")
    with pytest.raises(ValueError, match="resize: all elements of new_shape"):
        gnp.resize(X, (-1, 2))
    with pytest.raises(IndexError, match="compress: condition has 5 entries"):
        gnp.compress([True] * 5, X, axis=1)
    with pytest.raises(ValueError, match="unstack: the input must be at least 1-D"):
        gnp.unstack(np.float64(1.0))
