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
    "take_along_axis": lambda m, l: m.take_along_axis(  # (NumPy's refuses lists)
        l if m is gnp else np.asarray(l), np.array([[0, 0], [2, 1]]), 1),
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


def test_take_along_axis_broadcasts_as_numpy(rng):
    a = rng.standard_normal((1, 4, 3))
    i = np.array([[[0], [2]], [[3], [1]]])  # (2, 2, 1): broadcasts against a's (1, ., 3)
    np.testing.assert_array_equal(gnp.take_along_axis(a, i, 1), np.take_along_axis(a, i, 1))
    ga.check_grads(lambda a: gnp.take_along_axis(a, i, 1), (a,), order=2)
    with pytest.raises(ValueError, match="take_along_axis: indices of shape"):
        gnp.take_along_axis(a, i[0], 1)


def test_zero_tangents_under_vmap_have_one_examples_shape(rng):
    xs = rng.standard_normal((3, 4))
    for f in [lambda x: gnp.at(x)[0].add(gnp.sum(x[1:3]) ** 2),
              lambda x: gnp.at(x)[1].set(x[0] * 3.0),
              lambda x: gnp.concatenate([x, x[:2] * 0.0 + 1.0])]:
        looped = np.stack([ga.jvp(f, (x,), (x,))[1] for x in xs])
        np.testing.assert_allclose(ga.vmap(lambda x, f=f: ga.jvp(f, (x,), (x,))[1])(xs), looped)


# ---- integer arrays computed from traced values as indices -----------------------------------
def _int(x, n):
    """An integer array computed from traced values (a constant: no derivative)."""
    return (x * 97).astype(int) % n


# Functions of one example x of shape (4, 5, 3); under vmap their indices differ per example.
TRACED_INDEX = {
    "first_axis": lambda x: x[_int(x[:, 0, 0], 4)],
    "two_arrays": lambda x: x[_int(x[:, 0, 0], 4), _int(x[:, 1, 1], 5)],
    "after_slice": lambda x: x[:, _int(x[0, :, 0], 5)],
    "int_slice_array": lambda x: x[0, :, _int(x[0, :2, :], 3)],     # advanced dims first
    "slice_int_array": lambda x: x[:, 0, _int(x[0, :2, :], 3)],     # advanced dims in place
    "ellipsis": lambda x: x[..., _int(x[0, :, 0], 3)],
    "newaxis": lambda x: x[None, _int(x[0, 0:2, 0], 4), ...],
    "with_raw_array": lambda x: x[_int(x[:2, 0, 0], 4), :, np.array([[0], [2]])],
    "array_newaxis_array": lambda x: x[_int(x[0, 0, 0], 4), None, _int(x[0, 1, 0], 5)],
    "scalars": lambda x: x[_int(x[0, 0, 0], 4), _int(x[0, 1, 0], 5), _int(x[0, 1, 2], 3)],
    "with_raw_mask": lambda x: x[np.array([True, False, True, True]), _int(x[:3, 0, 1], 5)],
    "glued_column": lambda x: x[gnp.concatenate(
        [x[:, 0, :1], _int(x[:, 1, 0], 4)[:, None].astype(float)], axis=1)[:, -1].astype(int)],
    "take": lambda x: gnp.take(x, _int(x[0, :, 0], 5), axis=1),
    "take_flat": lambda x: gnp.take(x, _int(x[0], 60)),
    "take_list": lambda x: gnp.take(x, [_int(x[0, 0, 0], 4), 1], axis=0),
    "take_along_axis": lambda x: gnp.take_along_axis(x, _int(x[:, :2], 5), axis=1),
    "take_along_axis_broadcast": lambda x: gnp.take_along_axis(x, _int(x[:1, :2, :1], 5), 1),
    "at_add": lambda x: gnp.at(x)[_int(x[:, 0, 0], 4)].add(x[:1] ** 2),
    "at_add_repeated": lambda x: gnp.at(x)[_int(x[:3, 0, 0] * 0.01, 2)].add(x[:3] * x[1:4]),
    "at_set": lambda x: gnp.at(x)[_int(x[:, 0, 0], 4)].set(x[1:2] * 3.0),
    "at_set_python_float": lambda x: gnp.at(x)[:, _int(x[0, :, 0], 5)].set(2.0),
    "at_set_repeated": lambda x: gnp.at(x)[_int(x[:3, 0, 0] * 0.01, 2)].set(x[:3] * x[1:4]),
    "at_get": lambda x: gnp.at(x)[_int(x[:, 0, 0], 4)].get(),
}


def _loss(f):
    def loss(x):
        y = f(x)
        return gnp.sum(gnp.sin(y) * gnp.reshape(gnp.arange(1.0, 1.0 + gnp.size(y)), gnp.shape(y)))
    return loss


@pytest.mark.parametrize("name", TRACED_INDEX)
def test_indices_computed_from_traced_values(name, rng):
    f = TRACED_INDEX[name]
    xs = rng.uniform(0.1, 1.1, (3, 4, 5, 3))
    ga.check_grads(f, (xs[0],), order=2)
    ga.check_grads(ga.vmap(f), (xs,), order=2)
    np.testing.assert_array_equal(ga.vmap(f)(xs), np.stack([f(x) for x in xs]))
    nested = np.stack([xs, xs[::-1] + 0.37])
    np.testing.assert_array_equal(ga.vmap(ga.vmap(f))(nested),
                                  np.stack([[f(x) for x in b] for b in nested]))
    loss = _loss(f)
    grads = np.stack([ga.grad(loss)(x) for x in xs])
    np.testing.assert_allclose(ga.vmap(ga.grad(loss))(xs), grads, rtol=1e-12)
    np.testing.assert_allclose(ga.grad(lambda xs: gnp.sum(ga.vmap(loss)(xs)))(xs), grads,
                               rtol=1e-12)
    ts = rng.standard_normal(xs.shape)
    tangents = np.stack([ga.jvp(f, (x,), (t,))[1] for x, t in zip(xs, ts)])
    np.testing.assert_allclose(ga.vmap(lambda x, t: ga.jvp(f, (x,), (t,))[1])(xs, ts),
                               tangents, rtol=1e-12)
    np.testing.assert_allclose(ga.jvp(ga.vmap(f), (xs,), (ts,))[1], tangents, rtol=1e-12)


def test_take_of_array_like_indices_matches_numpy(rng):
    x = rng.standard_normal((4, 3))
    for indices, axis in [([2, 0, 2], 0), ((1, 1), 1), ([[0, 3], [2, 2]], 0), (5, None),
                          ([[7, 1]], None)]:
        expected = np.take(x, indices, axis=axis)
        np.testing.assert_array_equal(gnp.take(x, indices, axis=axis), expected)
        traced = ga.jvp(lambda x: gnp.take(x, indices, axis=axis), (x,), (x,))
        np.testing.assert_array_equal(traced[0], expected)
    # a list mixing an integer computed from traced values and a Python int
    f = lambda x: gnp.take(x, [(x[0, 0] * 0 + 2.5).astype(int), 1], axis=0)
    np.testing.assert_array_equal(ga.jvp(f, (x,), (x,))[0], np.take(x, [2, 1], axis=0))
    xs = rng.standard_normal((2, 4, 3))
    np.testing.assert_array_equal(ga.vmap(f)(xs), np.stack([np.take(x, [2, 1], axis=0)
                                                            for x in xs]))


def test_astype_to_integers_gives_constants_at_every_level(rng):
    x = rng.uniform(0.0, 4.0, 3)
    for wrap in [lambda f: f, ga.grad, ga.hessian, lambda f: lambda x: ga.jvp(f, (x,), (x,))]:
        seen = []
        wrap(lambda x, seen=seen: seen.append(x.astype(int)) or gnp.sum(x ** 3))(x)
        assert type(seen[0]) is np.ndarray and seen[0].dtype == int
        np.testing.assert_array_equal(seen[0], x.astype(int))


def test_batched_index_errors(rng):
    xs = rng.standard_normal((4, 3))
    with pytest.raises(ValueError, match="getitem: a boolean mask that differs per example"):
        ga.vmap(lambda x: x[x > 0])(xs)
    with pytest.raises(IndexError, match="getitem: only integers.* dtype float64"):
        ga.vmap(lambda x: x[x * 2])(xs)


def _recorded(monkeypatch, fun, *args):
    """The names of the primitives a ga.jit recording of fun runs, in order."""
    from gpuad.jit.record import JitTrace
    names, original = [], JitTrace.process

    def spy(self, prim, args, params):
        names.append(prim.name)
        return original(self, prim, args, params)
    monkeypatch.setattr(JitTrace, "process", spy)
    ga.jit(fun)(*args)
    return names


def test_split_vjp_joins_the_cotangents_in_one_concatenate(monkeypatch, rng):
    """One split, and one concatenate with zeros for the unused pieces in its VJP: no zero-padded
    copy of x per piece, and no sum of them."""
    x = rng.standard_normal((3, 8))

    def f(x):
        _, a, _, b = gnp.split(x, 4, axis=1)
        return gnp.sum(a * b)
    names = _recorded(monkeypatch, ga.grad(f), x)
    assert names.count("split") == 1 and names.count("concatenate") == 1
    assert "getitem" not in names and "unindex" not in names and "add" not in names
    expected = np.zeros_like(x)
    expected[:, 2:4], expected[:, 6:8] = x[:, 6:8], x[:, 2:4]
    np.testing.assert_array_equal(ga.grad(f)(x), expected)
