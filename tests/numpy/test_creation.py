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


@pytest.mark.parametrize("name", ["zeros_like", "ones_like", "empty_like", "full_like"])
def test_like_functions_take_one_examples_shape_under_vmap(name, rng):
    xs = rng.standard_normal((4, 3, 2)).astype(np.float32)
    args = (2.5,) if name == "full_like" else ()
    out = ga.vmap(lambda x: getattr(gnp, name)(x, *args) + x)(xs)  # (+ x: batched output)
    assert out.shape == xs.shape and out.dtype == np.float32
    if name != "empty_like":
        np.testing.assert_array_equal(out, getattr(np, name)(xs, *args) + xs)


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


# ---- creation differentiable in a traced fill value or endpoints -----------------------------
def _traced_first(f, args):
    """f's value with its first argument traced (the others as given: Python floats stay weak)."""
    return ga.jvp(lambda s: f(s, *args[1:]), (args[0],), (args[0],))[0]


_A, _B = np.array([0.2, 0.9, 1.4]), np.array([[1.5, 2.5, 3.0], [1.1, 4.0, 2.2]])
SEQUENCES = {
    "linspace": (lambda s, t: gnp.linspace(s, t, 7), (1.3, 2.9)),
    "linspace_no_endpoint": (lambda s, t: gnp.linspace(s, t, 7, endpoint=False), (1.3, 2.9)),
    "linspace_arrays_axis1": (lambda s, t: gnp.linspace(s, t, 4, axis=1), (_A, _B)),
    "linspace_arrays_last_axis": (lambda s, t: gnp.linspace(s, t, 4, axis=-1), (_A, _B)),
    "linspace_one": (lambda s, t: gnp.linspace(s, t, 1), (_A, 2.0)),
    "linspace_none": (lambda s, t: gnp.linspace(s, t, 0), (_A, 2.0)),
    "linspace_equal_ends": (lambda s, t: gnp.linspace(s, t, 5), (1.5, 1.5)),
    "linspace_integer_dtype": (lambda s, t: gnp.linspace(s, t, 5, dtype=int), (-1.3, 7.9)),
    "linspace_float32_weak_stop": (lambda s, t: gnp.linspace(s, t, 5), (np.float32(1.5), 2.0)),
    "linspace_float32_0d": (lambda s, t: gnp.linspace(s, t, 5), (np.array(1.5, np.float32), 2.0)),
    "linspace_retstep": (lambda s, t: gnp.linspace(s, t, 5, retstep=True)[1]
                         * gnp.linspace(s, t, 5, retstep=True)[0], (1.5, 3.5)),
    "logspace": (lambda s, t: gnp.logspace(s, t, 5), (0.5, 1.5)),
    "logspace_base": (lambda s, t: gnp.logspace(s, t, 5, base=2.0), (_A, _B)),
    "logspace_traced_base": (lambda s, t: gnp.logspace(0.5, t, 5, base=s), (2.5, 1.5)),
    "logspace_array_base": (lambda s, t: gnp.logspace(s, t, 5, base=np.array([2.0, 3.0, 1.5]),
                                                      axis=1), (_A, 2.0)),
    "geomspace": (lambda s, t: gnp.geomspace(s, t, 6), (0.5, 7.5)),
    "geomspace_negative": (lambda s, t: gnp.geomspace(s, t, 6), (-0.5, -7.5)),
    "geomspace_arrays": (lambda s, t: gnp.geomspace(s, t, 4, axis=-1), (_A, _B)),
    "geomspace_no_endpoint": (lambda s, t: gnp.geomspace(s, t, 4, endpoint=False), (_A, _B)),
    "geomspace_complex": (lambda s, t: gnp.geomspace(s, t, 5),
                          (np.array(1 + 1j), np.array(3 - 2j))),
    "full": (lambda s, t: gnp.full((2, 3), s) * t, (_A, 2.0)),
    "full_list": (lambda s, t: gnp.full((3, 2), [s, t]), (0.3, 2.0)),
    "full_integer_dtype": (lambda s, t: gnp.full((3,), s, dtype=int) + t, (2.3, 2.0)),
    "full_like": (lambda s, t: gnp.full_like(t, s), (1.7, _B)),
    "full_like_integer": (lambda s, t: gnp.full_like(np.arange(3), s) + t, (1.7, 1.0)),
    "full_like_traced_like": (lambda s, t: gnp.full_like(s, t) * s, (_A, 0.7)),
}


@pytest.mark.parametrize("name", SEQUENCES)
def test_creation_with_traced_arguments_matches_numpy(name):
    f, args = SEQUENCES[name]
    expected = f(*args)  # NumPy's own result: nothing traced
    out = _traced_first(f, args)
    assert out.dtype == expected.dtype and out.shape == expected.shape
    np.testing.assert_array_equal(out, expected)
    if out.dtype in (np.float64, np.complex128):
        ga.check_grads(f, args, order=2)
        starts = np.stack([np.asarray(args[0]) * c for c in (1.0, 1.1, 0.9)])
        np.testing.assert_allclose(ga.vmap(f, in_axes=(0, None))(starts, args[1]),
                                   np.stack([f(s, args[1]) for s in starts]), rtol=1e-14)


def test_traced_sequence_errors():
    with pytest.raises(ValueError, match="linspace: number of samples, -1"):
        ga.grad(lambda x: gnp.sum(gnp.linspace(x, 2.0, -1)))(1.0)
    with pytest.raises(ValueError, match="geomspace: .* cannot include zero"):
        ga.grad(lambda x: gnp.sum(gnp.geomspace(x * 0.0, 2.0, 3)))(1.0)
