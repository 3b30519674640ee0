"""put, putmask, place, copyto, put_along_axis (gpuad/numpy/inplace.py): NumPy's writes on plain
arrays, a clear error on traced ones, and the functional form inplace=False."""
import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp

from .numpy_reference import matches_numpy

RNG = np.random.default_rng(12)
X = RNG.standard_normal((3, 4))
MASK = X > 0
ORDER = np.argsort(X, axis=1)[:, :2]

# (name, NumPy's in-place call on `out`, gpuad's functional call)
WRITES = [
    ("put", lambda out: np.put(out, [0, 5, -1], [9.0, 8.0]),
     lambda m, x: m.put(x, [0, 5, -1], np.array([9.0, 8.0]), inplace=False)),
    ("put_wrap", lambda out: np.put(out, [0, 15, 30], [9.0, 8.0, 7.0], mode="wrap"),
     lambda m, x: m.put(x, [0, 15, 30], np.array([9.0, 8.0, 7.0]), mode="wrap", inplace=False)),
    ("put_clip", lambda out: np.put(out, [-40, 99], [1.0, 2.0], mode="clip"),
     lambda m, x: m.put(x, [-40, 99], np.array([1.0, 2.0]), mode="clip", inplace=False)),
    ("putmask", lambda out: np.putmask(out, MASK, [1.0, 2.0, 3.0]),
     lambda m, x: m.putmask(x, MASK, np.array([1.0, 2.0, 3.0]), inplace=False)),
    ("place", lambda out: np.place(out, MASK, [1.0, 2.0]),
     lambda m, x: m.place(x, MASK, np.array([1.0, 2.0]), inplace=False)),
    ("copyto", lambda out: np.copyto(out, np.arange(4.0), where=MASK),
     lambda m, x: m.copyto(x, np.arange(4.0), where=MASK, inplace=False)),
    ("put_along_axis", lambda out: np.put_along_axis(out, ORDER, -1.0, 1),
     lambda m, x: m.put_along_axis(x, ORDER, -1.0, 1, inplace=False)),
]


@pytest.mark.parametrize("name,numpy_write,functional", WRITES, ids=[w[0] for w in WRITES])
def test_functional_form_gives_numpys_result(name, numpy_write, functional):
    expected = X.copy()
    numpy_write(expected)
    matches_numpy(lambda m, x: expected if m is np else functional(m, x), (X,))


IN_PLACE = [
    ("put", lambda m, out: m.put(out, [0, 5, -1], [9.0, 8.0])),
    ("putmask", lambda m, out: m.putmask(out, MASK, [1.0, 2.0, 3.0])),
    ("place", lambda m, out: m.place(out, MASK, [1.0, 2.0])),
    ("copyto", lambda m, out: m.copyto(out, np.arange(4.0), where=MASK)),
    ("put_along_axis", lambda m, out: m.put_along_axis(out, ORDER, -1.0, 1)),
]


@pytest.mark.parametrize("name,write", IN_PLACE, ids=[w[0] for w in IN_PLACE])
def test_plain_arrays_are_written_in_place(name, write):
    expected, got = X.copy(), X.copy()
    write(np, expected)
    assert write(gnp, got) is None
    np.testing.assert_array_equal(got, expected)


def test_traced_arrays_are_refused_with_the_functional_form():
    with pytest.raises(TypeError, match=r"put: writes into its first argument.*inplace=False"):
        ga.grad(lambda x: gnp.sum(gnp.put(x, [0], [1.0])))(X)
    with pytest.raises(TypeError, match="place: writes into its first argument"):
        ga.grad(lambda v: gnp.place(X.copy(), MASK, v))(np.ones(2))


def test_gradients_of_the_functional_forms():
    ga.check_grads(lambda x, v: gnp.put(x, [1, 1, 4], v, inplace=False), (X, np.ones(3)))
    g = ga.grad(lambda v: gnp.sum(gnp.put(X, [1, 1, 4], v, inplace=False)))(np.ones(3))
    np.testing.assert_array_equal(g, [0.0, 1.0, 1.0])   # the last write to 1 wins
    with pytest.raises(IndexError, match="put: index out of bounds"):
        gnp.put(X, [12], 1.0, inplace=False)
