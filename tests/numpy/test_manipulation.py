import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp


def test_at_add_accumulates_duplicates(rng):
    x = np.zeros(3)
    out = gnp.at(x)[[0, 0, 2]].add(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(out, [3.0, 0.0, 3.0])
    np.testing.assert_array_equal(x, np.zeros(3))  # the input is untouched


def test_at_set_gradient_goes_to_last_write_only():
    v = np.array([1.0, 2.0, 3.0])
    g = ga.grad(lambda v: gnp.sum(gnp.at(np.zeros(2))[[0, 0, 1]].set(v) * np.array([5.0, 7.0])))(v)
    np.testing.assert_array_equal(g, [0.0, 5.0, 7.0])


def test_traced_at_property(rng):
    x = rng.standard_normal(4)
    g = ga.grad(lambda x: gnp.sum(x.at[1:3].set(0.0) ** 2))(x)
    np.testing.assert_allclose(g, 2 * x * np.array([1, 0, 0, 1]))


def test_index_gradient_accumulates_duplicates():
    g = ga.grad(lambda x: gnp.sum(x[np.array([0, 0, 1])]))(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(g, [2.0, 1.0])


def test_errors_name_the_op():
    with pytest.raises(NotImplementedError, match="reshape: order='F'"):
        gnp.reshape(np.ones(4), (2, 2), order="F")
    with pytest.raises(ValueError, match="squeeze"):
        gnp.squeeze(np.ones((2, 3)), 0)
    with pytest.raises(NotImplementedError, match="pad: mode='reflect'"):
        gnp.pad(np.ones(3), 1, mode="reflect")
    with pytest.raises(ValueError, match="split"):
        gnp.split(np.ones(5), 2)
    with pytest.raises(ValueError, match="stack"):
        gnp.stack([np.ones(2), np.ones(3)])


def test_traced_arrays_refuse_in_place_methods():
    with pytest.raises(TypeError, match="gnp.sort"):
        ga.grad(lambda x: x.sort() or gnp.sum(x))(np.ones(2))


def test_results_match_numpy(rng):
    x = rng.standard_normal((3, 4))
    for ours, theirs in [(gnp.tile(x, (2, 1)), np.tile(x, (2, 1))),
                         (gnp.repeat(x, [1, 2, 0, 1], axis=1), np.repeat(x, [1, 2, 0, 1], axis=1)),
                         (gnp.roll(x, (1, -1), (0, 1)), np.roll(x, (1, -1), (0, 1))),
                         (gnp.moveaxis(x[None], 0, 2), np.moveaxis(x[None], 0, 2)),
                         (gnp.atleast_3d(x), np.atleast_3d(x)),
                         (gnp.sort(x, axis=None), np.sort(x, axis=None))]:
        np.testing.assert_array_equal(ours, theirs)
    for a, b in zip(gnp.array_split(x, 3, axis=1), np.array_split(x, 3, axis=1)):
        np.testing.assert_array_equal(a, b)
