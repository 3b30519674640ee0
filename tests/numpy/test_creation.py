import numpy as np
import pytest

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


# ---- array_like arguments holding traced values ----------------------------------------------
# Each builds a nested list from x; the same builder on the raw x gives NumPy's array, values
# and dtype (a float32 entry with a Python float is float64: array coercion treats Python
# numbers as float64, unlike arithmetic).
NESTED = {
    "scalars": lambda x: [x[0], x[1]],
    "mixed": lambda x: [[x[0], 1.5], [np.float64(2.0), x[1] * x[2]]],
    "vector_and_list": lambda x: [x, [1.0, 2.0, 3.0]],
    "tuple_0d": lambda x: (x[2], np.array(0.5), 3),
    "three_deep": lambda x: [[[x[0], x[1]]], [[x[2], -1.0]]],
    "float32_python_float": lambda x: [x.astype(np.float32)[0], 1.0],
    "float32_only": lambda x: [x.astype(np.float32), x.astype(np.float32) * 2],
    "complex": lambda x: [x[0], x[1] * np.array(1j)],
}


@pytest.mark.parametrize("name", NESTED)
@pytest.mark.parametrize("convert", [gnp.asarray, gnp.array])
def test_lists_of_traced_values_become_arrays_as_numpy_makes_them(name, convert, rng):
    build = NESTED[name]
    x = rng.standard_normal(3)
    expected = np.asarray(build(x))
    out = ga.jvp(lambda x: convert(build(x)), (x,), (x,))[0]
    assert out.dtype == expected.dtype and out.shape == expected.shape
    np.testing.assert_array_equal(out, expected)
    if "float32" not in name:  # (a float32 rounding is beyond finite differences)
        ga.check_grads(lambda x: convert(build(x)), (x,), order=2)


def test_lists_of_traced_values_under_vmap(rng):
    xs = rng.standard_normal((4, 3))
    f = lambda x: gnp.asarray([[x[0], 1.5], [x[1], x[2] * x[0]]])
    np.testing.assert_array_equal(ga.vmap(f)(xs), np.stack([f(x) for x in xs]))


def test_ragged_list_of_traced_values_raises():
    with pytest.raises(ValueError, match="asarray: the entries .* one shape"):
        ga.grad(lambda x: gnp.sum(gnp.asarray([x, [1.0]])))(np.ones(2))


def test_asarray_keeps_the_given_dtype_of_traced_lists(rng):
    x = rng.standard_normal(2)
    out = ga.jvp(lambda x: gnp.asarray([x[0], 2.0], dtype=np.float32), (x,), (x,))
    assert out[0].dtype == out[1].dtype == np.float32
