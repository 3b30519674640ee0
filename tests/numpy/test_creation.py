import numpy as np

import gpuad as ga
import gpuad.numpy as gnp


def test_creation_on_default_backend():
    assert type(gnp.zeros(3)) is np.ndarray
    assert gnp.ones((2, 2), dtype=np.float32).dtype == np.float32
    np.testing.assert_array_equal(gnp.arange(4), np.arange(4))
    np.testing.assert_array_equal(gnp.eye(2), np.eye(2))


def test_asarray_keeps_arrays_and_traced_values():
    x = np.ones(3)
    assert gnp.asarray(x) is x
    g = ga.grad(lambda x: gnp.sum(gnp.asarray([x, 2 * x]) ** 2))(1.5)
    assert np.isclose(g, 2 * 1.5 + 8 * 1.5)


def test_like_functions_ignore_the_derivative():
    g = ga.grad(lambda x: gnp.sum(gnp.zeros_like(x) + gnp.ones_like(x) * x))(np.ones(2))
    np.testing.assert_array_equal(g, np.ones(2))
