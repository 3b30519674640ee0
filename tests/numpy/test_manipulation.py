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


def test_append_takes_lists_of_traced_values(rng):
    x = rng.standard_normal(3)
    f = lambda x: gnp.append([x[0], 2.0, np.float64(0.5)], [[x[1] * x[2]], [x[0]]])
    np.testing.assert_array_equal(f(x), np.append([x[0], 2.0, 0.5], [[x[1] * x[2]], [x[0]]]))
    ga.check_grads(f, (x,), order=2)
    ga.check_grads(lambda x: gnp.append([x, x * 2], [[1.0, 2.0, 3.0]], axis=0), (x,), order=2)


def test_shape_ndim_size_are_one_examples_under_vmap(rng):
    xs = rng.standard_normal((4, 3, 2))
    seen = []
    ga.vmap(lambda x: seen.append((gnp.shape(x), gnp.ndim(x), gnp.size(x), gnp.size(x, 1),
                                   gnp.shape([x, x]))) or x)(xs)
    assert seen == [((3, 2), 2, 6, 2, (2, 3, 2))]
    out = ga.vmap(lambda x: gnp.zeros(gnp.shape(x)) + x)(xs)  # usable as a shape
    np.testing.assert_array_equal(out, xs)


# ---- array_like arguments: plain lists, and lists holding traced values -----------------------
# Each takes a nested list (m is gnp or np); NumPy's result is the reference.
LIST_ARGUMENTS = {
    "reshape": lambda m, l: m.reshape(l, (3, 2)),
    "ravel": lambda m, l: m.ravel(l),
    "transpose": lambda m, l: m.transpose(l),
    "swapaxes": lambda m, l: m.swapaxes(l, 0, 1),
    "moveaxis": lambda m, l: m.moveaxis(l, 0, 1),
    "expand_dims": lambda m, l: m.expand_dims(l, 1),
    "squeeze": lambda m, l: m.squeeze([l]),
    "broadcast_to": lambda m, l: m.broadcast_to(l, (4, 2, 3)),
    "broadcast_arrays": lambda m, l: m.broadcast_arrays(l, [[[1.0]], [[2.0]]])[0],
    "flip": lambda m, l: m.flip(l),
    "roll": lambda m, l: m.roll(l, 1, axis=1),
    "pad": lambda m, l: m.pad(l, 1),
    "sort": lambda m, l: m.sort(l),
    "rot90": lambda m, l: m.rot90(l),
    "rollaxis": lambda m, l: m.rollaxis(m.asarray(l), 1),
    "array_split": lambda m, l: m.array_split(l, 3)[1],  # (NumPy reads len(l) for a list)
    "sin": lambda m, l: m.sin(l),
    "multiply": lambda m, l: m.multiply(2.0, l),
    "matmul": lambda m, l: m.matmul(l, [1.0, -1.0, 0.5]),
}


@pytest.mark.parametrize("op", ["divide", "power", "arctan2", "matmul", "subtract"])
@pytest.mark.parametrize("first", [True, False])
def test_binary_ops_take_a_plain_list_beside_a_tracer(op, first, rng):
    x = rng.uniform(0.5, 1.5, 3)
    plain = [0.7, 1.9, 1.2]
    f = (lambda x: getattr(gnp, op)(x, plain)) if first else (
        lambda x: getattr(gnp, op)(plain, x))
    np.testing.assert_allclose(f(x), getattr(np, op)(*((x, plain) if first else (plain, x))))
    ga.check_grads(f, (x,), order=2)


@pytest.mark.parametrize("name", LIST_ARGUMENTS)
def test_functions_take_lists_as_numpy_does(name, rng):
    f = LIST_ARGUMENTS[name]
    x = rng.standard_normal(3)
    build = lambda x: [[x[0], 1.5, x[1]], [np.float64(0.5), x[2] * x[0], -1.0]]
    expected = f(np, build(x))
    np.testing.assert_array_equal(f(gnp, [list(row) for row in build(x)]), expected)
    out = ga.jvp(lambda x: f(gnp, build(x)), (x,), (x,))[0]
    assert out.shape == expected.shape
    np.testing.assert_array_equal(out, expected)
    ga.check_grads(lambda x: f(gnp, build(x)), (x,), order=2)
