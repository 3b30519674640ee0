"""grad, value_and_grad, vjp, stop_gradient: API, pytrees, errors, tape freeing, no mutation."""
import gc
import weakref
from collections import namedtuple

import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp


def test_readme_example_matches_closed_form():
    f = lambda x1, x2: gnp.cos(x1) + x1 * x2 - gnp.exp(x2)
    d1, d2 = ga.grad(f, argnums=(0, 1))(2.0, 4.0)
    assert np.isclose(d1, -np.sin(2.0) + 4.0)
    assert np.isclose(d2, 2.0 - np.exp(4.0))


def test_tanh_layer_gradient_matches_hand_derivation(rng):
    w, b = rng.standard_normal((3, 2)), rng.standard_normal(2)
    x, y = rng.standard_normal((16, 3)), rng.standard_normal((16, 2))

    def loss(params):
        w, b = params
        return gnp.mean((gnp.tanh(x @ w + b) - y) ** 2)

    dw, db = ga.grad(loss)((w, b))
    h = np.tanh(x @ w + b)
    dz = 2 * (h - y) / y.size * (1 - h ** 2)
    np.testing.assert_allclose(dw, x.T @ dz, rtol=1e-12)
    np.testing.assert_allclose(db, dz.sum(0), rtol=1e-12)


def test_value_and_grad_returns_value_of_function(rng):
    x = rng.standard_normal(5)
    value, g = ga.value_and_grad(lambda x: gnp.sum(gnp.sin(x) ** 2))(x)
    assert np.isclose(value, np.sum(np.sin(x) ** 2))
    np.testing.assert_allclose(g, 2 * np.sin(x) * np.cos(x))


def test_argnums_tuple_and_negative(rng):
    x, y, z = rng.standard_normal(3), rng.standard_normal(3), rng.standard_normal(3)
    f = lambda x, y, z: gnp.sum(x * y * z)
    gx, gz = ga.grad(f, argnums=(0, -1))(x, y, z)
    np.testing.assert_allclose(gx, y * z)
    np.testing.assert_allclose(gz, x * y)


def test_pytree_arguments_keep_structure_shape_and_dtype(rng):
    Params = namedtuple("Params", ["w", "b"])
    params = {"layers": [Params(rng.standard_normal((2, 2)).astype(np.float32),
                                rng.standard_normal(2).astype(np.float32)), None],
              "scale": 1.5}

    def f(p):
        layer = p["layers"][0]
        return gnp.sum(gnp.tanh(layer.w @ layer.b) * p["scale"])

    g = ga.grad(f)(params)
    assert isinstance(g["layers"][0], Params) and g["layers"][1] is None
    assert g["layers"][0].w.dtype == np.float32 and g["layers"][0].w.shape == (2, 2)
    assert g["layers"][0].b.dtype == np.float32
    assert np.shape(g["scale"]) == ()


def test_unused_input_gets_zero_gradient(rng):
    x, y = rng.standard_normal(3), rng.standard_normal((2, 2))
    gx, gy = ga.grad(lambda x, y: gnp.sum(x ** 2), argnums=(0, 1))(x, y)
    np.testing.assert_array_equal(gy, np.zeros((2, 2)))
    np.testing.assert_allclose(gx, 2 * x)


def test_constant_output_gives_zero_gradient():
    assert ga.grad(lambda x: 3.0)(1.0) == 0.0


def test_has_aux_returns_aux_without_tracers(rng):
    x = rng.standard_normal(3)

    def f(x):
        y = gnp.sin(x)
        return gnp.sum(y), {"y": y, "n": 3}

    g, aux = ga.grad(f, has_aux=True)(x)
    np.testing.assert_allclose(g, np.cos(x))
    assert isinstance(aux["y"], np.ndarray)
    np.testing.assert_allclose(aux["y"], np.sin(x))
    (value, aux2), g2 = ga.value_and_grad(f, has_aux=True)(x)
    assert aux2["n"] == 3 and np.isclose(value, np.sin(x).sum())


def test_vjp_with_pytree_output_and_repeated_calls(rng):
    x = rng.standard_normal(4)
    out, vjp_fn = ga.vjp(lambda x: {"a": gnp.sin(x), "b": gnp.sum(x ** 2)}, x)
    np.testing.assert_allclose(out["a"], np.sin(x))
    u = rng.standard_normal(4)
    for scale in (1.0, 2.0):  # vjp_fn keeps its tape: call it twice
        (g,) = vjp_fn({"a": scale * u, "b": np.asarray(scale)})
        np.testing.assert_allclose(g, scale * (u * np.cos(x) + 2 * x))


def test_vjp_has_aux(rng):
    x = rng.standard_normal(3)
    out, vjp_fn, aux = ga.vjp(lambda x: (x * 2.0, "note"), x, has_aux=True)
    assert aux == "note"
    np.testing.assert_allclose(vjp_fn(np.ones(3))[0], 2 * np.ones(3))


def test_second_and_third_derivatives():
    f = lambda x: gnp.sin(x) * x
    x = 0.7
    d2 = ga.grad(ga.grad(f))(x)
    d3 = ga.grad(ga.grad(ga.grad(f)))(x)
    assert np.isclose(d2, 2 * np.cos(x) - x * np.sin(x))
    assert np.isclose(d3, -3 * np.sin(x) - x * np.cos(x))


def test_perturbation_confusion_reverse():
    # d/dx [x * (d/dy (x + y))] = d/dx [x * 1] = 1, not 2.
    f = lambda x: x * ga.grad(lambda y: x + y)(1.0)
    assert ga.grad(f)(1.0) == 1.0


def test_stop_gradient_blocks_every_level():
    assert ga.grad(lambda x: x * ga.stop_gradient(x))(3.0) == 3.0
    inner = lambda x: ga.grad(lambda y: ga.stop_gradient(x * y) * y)(2.0)
    assert ga.grad(inner)(3.0) == 0.0


def test_broadcast_binary_gradients_sum_back(rng):
    x, y = rng.standard_normal((4, 1, 3)), rng.standard_normal((2, 1))
    gx, gy = ga.grad(lambda x, y: gnp.sum((x * y) ** 2), argnums=(0, 1))(x, y)
    full = 2 * (x * y)
    np.testing.assert_allclose(gx, (full * y).sum(1, keepdims=True))
    np.testing.assert_allclose(gy, (full * x).sum((0, 2))[:, None])


def test_python_control_flow_on_values():
    def f(x):
        if x > 0:
            return x ** 2
        return -x
    assert ga.grad(f)(3.0) == 6.0
    assert ga.grad(f)(-3.0) == -1.0


def test_numpy_functions_dispatch_on_traced_arrays(rng):
    x = rng.standard_normal(3)
    g = ga.grad(lambda x: np.sum(np.sin(x) * np.ones(3)))(x)
    np.testing.assert_allclose(g, np.cos(x))
    g = ga.grad(lambda x: np.linalg.det(np.diag(x)))(x)
    np.testing.assert_allclose(g, np.prod(x) / x)


def test_inputs_are_not_mutated(rng):
    x = rng.standard_normal((3, 3))
    params = {"w": rng.standard_normal(3)}
    before = (x.copy(), params["w"].copy())

    def f(x, params):
        y = gnp.at(x)[[0, 0]].add(params["w"])
        z = gnp.at(y)[1].set(3.0)
        return gnp.sum(z * z) + gnp.sum(gnp.sort(x)) + gnp.sum(gnp.cumprod(x, 0))

    ga.grad(f, argnums=(0, 1))(x, params)
    np.testing.assert_array_equal(x, before[0])
    np.testing.assert_array_equal(params["w"], before[1])


@pytest.mark.parametrize("fun, argnums", [
    (lambda x, y, z: gnp.sum(x + y), (0, 1)),                      # add hands g to both
    (lambda x, y, z: gnp.sum(gnp.tanh(z) * (x + y)), (0, 1)),      # a fresh g, shared
    (lambda x, y, z: gnp.sum(x), (0,)),                            # a stride-0 broadcast
    (lambda x, y, z: gnp.mean(x) + gnp.sum(y * 2.0), (0, 1)),
    (lambda x, y, z: gnp.sum(gnp.concatenate([x, y]) * z[0]), (0, 1)),  # slices of one array
])
def test_gradients_are_arrays_the_caller_owns(rng, fun, argnums):
    """Each gradient leaf is writable and shares memory with no other leaf and no input, so
    updating one in place (an optimizer's `g *= lr`) never changes another."""
    x, y, z = (rng.standard_normal(4) for _ in range(3))
    grads = ga.grad(fun, argnums=argnums)(x, y, z)
    expected = [g.copy() for g in grads]
    for g in grads:
        assert g.flags.writeable and 0 not in g.strides
        for other in (x, y, z):
            assert not np.shares_memory(g, other)
    for i, g in enumerate(grads):
        g *= 2.0  # exact, so dividing back restores it
        for j, other in enumerate(grads):
            np.testing.assert_array_equal(other, expected[j] * (2.0 if j == i else 1.0))
        g /= 2.0


def test_vjp_results_are_not_views_of_the_cotangent(rng):
    ct = rng.standard_normal(4)
    for fun in (lambda x: x + 0.0, lambda x: x.reshape(2, 2).T.ravel(), lambda x: x):
        _, vjp_fn = ga.vjp(fun, rng.standard_normal(4))
        (g,) = vjp_fn(ct)
        assert not np.shares_memory(g, ct)
        assert g.flags.writeable


def test_scalar_output_gradient_is_a_zero_d_array():
    g = ga.grad(lambda x: x)(2.0)
    assert type(g) is np.ndarray and g.shape == () and g == 1.0


def test_tape_is_freed_when_grad_returns(rng):
    holder = {}

    def f(x):
        y = gnp.tanh(x) * 2.0
        holder["ref"] = weakref.ref(y.value)  # an intermediate array the tape held
        return gnp.sum(gnp.sin(y))

    ga.grad(f)(rng.standard_normal(1000))
    gc.collect()
    assert holder["ref"]() is None


def test_backward_frees_residuals_as_it_goes(rng):
    """When a rule runs, the arrays saved by the entries processed before it are gone."""
    from gpuad.numpy.define import unary_op
    from gpuad.trace import Primitive

    saved = []        # weak references to the array each spy op saved, in forward order
    alive = []        # at each rule call: which of them were still alive

    def spy_rule(ans, x, g):
        gc.collect()
        alive.append([r() is not None for r in saved])
        return g * gnp.cos(x)

    spy_sin = unary_op(Primitive("spy_sin", np.sin, vjp=[spy_rule],
                                 jvp=[lambda ans, x, g: g * gnp.cos(x)]))

    def f(x):
        y = x
        for _ in range(3):
            m = y * 1.0001      # saved only by the spy op that follows
            saved.append(weakref.ref(m.value))
            y = spy_sin(m)
        return gnp.sum(y)

    ga.grad(f)(rng.standard_normal(100))
    assert alive == [[True, True, True], [True, True, False], [True, False, False]]


# ---- errors ------------------------------------------------------------------------------

def test_grad_of_non_scalar_output_suggests_vjp_or_jacrev(rng):
    with pytest.raises(TypeError, match=r"shape \(\), not \(3,\).*vjp.*jacrev"):
        ga.grad(gnp.sin)(rng.standard_normal(3))
    with pytest.raises(TypeError, match=r"not \(1,\)"):
        ga.grad(lambda x: x * 2.0)(np.ones(1))


@pytest.mark.parametrize("output, described", [
    (lambda x: gnp.allclose(x, 1.0), "a Python bool"),
    (lambda x: True, "a Python bool"),
    (lambda x: 3, "a Python int"),
    (lambda x: x > 0.0, "of dtype bool"),
    (lambda x: gnp.argmax(x * np.ones(2)), "of dtype int64"),
    (lambda x: (x * 2.0).astype(np.int32), "of dtype int32"),
    (lambda x: np.int64(1), "of dtype int64"),
])
@pytest.mark.parametrize("transform", [ga.grad, ga.value_and_grad])
def test_grad_of_a_boolean_or_integer_output_raises_naming_its_dtype(transform, output,
                                                                     described):
    """JAX raises here too: such an output is piecewise constant, with no derivative to give
    (gpuad used to return 0 for a Python bool or int)."""
    with pytest.raises(TypeError, match=f"output is {described}, not a floating scalar"):
        transform(output)(1.5)


def test_grad_of_a_complex_output_points_at_holomorphic_grad():
    for output in (lambda x: 1j * x, lambda x: 2j):
        with pytest.raises(TypeError, match="complex.*holomorphic_grad"):
            ga.grad(output)(1.5)


def test_grad_of_a_python_float_constant_is_zero():
    assert ga.value_and_grad(lambda x: 2.0)(1.5) == (2.0, 0.0)
    assert ga.grad(lambda x: 2.0)(np.ones(2)).tolist() == [0.0, 0.0]


@pytest.mark.parametrize("bad", [np.arange(3), np.array([True, False]), 3])
def test_integer_and_boolean_inputs_are_rejected(bad):
    with pytest.raises(TypeError, match="only floating"):
        ga.grad(lambda x: gnp.sum(x * 1.0))(bad)


def test_integer_input_can_be_left_out_of_argnums():
    g = ga.grad(lambda x, n: gnp.sum(x ** n), argnums=0)(np.ones(3) * 2.0, 3)
    np.testing.assert_allclose(g, 3 * 4.0 * np.ones(3))


def test_in_place_write_on_traced_array_points_to_at():
    def f(x):
        x[0] = 1.0
        return gnp.sum(x)
    with pytest.raises(TypeError, match=r"x.at\[idx\].set\(v\)"):
        ga.grad(f)(np.ones(3))


def test_augmented_assignment_rebinds_and_works():
    def f(x):
        x += 1.0
        x *= x
        return gnp.sum(x)
    np.testing.assert_allclose(ga.grad(f)(np.ones(2)), 4.0 * np.ones(2))


def test_missing_rule_names_op_and_argument():
    from gpuad.numpy.define import binary_op
    from gpuad.trace import Primitive
    prim = Primitive("halfrule", np.multiply, vjp=[lambda ans, x, y, g: g * y, None],
                     jvp=[None, None])
    op = binary_op(prim)
    with pytest.raises(NotImplementedError, match="halfrule.*argument 1"):
        ga.grad(lambda y: op(2.0, y))(1.0)
    with pytest.raises(NotImplementedError, match="halfrule.*JVP.*argument 0"):
        ga.jvp(lambda x: op(x, 2.0), (1.0,), (1.0,))


def test_bad_argnums_and_aux():
    with pytest.raises(ValueError, match="argnums"):
        ga.grad(lambda x: x, argnums=2)(1.0)
    with pytest.raises(TypeError, match="has_aux"):
        ga.grad(lambda x: x, has_aux=True)(1.0)


def test_vjp_cotangent_mismatch_is_explained(rng):
    _, vjp_fn = ga.vjp(gnp.sin, rng.standard_normal(3))
    with pytest.raises(ValueError, match=r"shape \(2,\).*shape \(3,\)"):
        vjp_fn(np.ones(2))
    with pytest.raises(ValueError, match="structure"):
        vjp_fn((np.ones(3), np.ones(3)))


def test_escaped_tracer_is_reported():
    leaked = []

    def f(x):
        leaked.append(x * 2.0)
        return x

    ga.grad(f)(1.0)
    with pytest.raises(ga.UnexpectedTracerError, match="escaped"):
        gnp.sin(leaked[0])


def test_conversion_to_numpy_array_is_refused():
    def f(x):
        return np.asarray(x).sum()
    with pytest.raises(TypeError, match="stop_gradient"):
        ga.grad(f)(np.ones(2))


def test_numpy_function_without_gpuad_version_is_refused():
    with pytest.raises(TypeError, match="no differentiable version"):
        ga.grad(lambda x: np.lib.stride_tricks.sliding_window_view(x, 2))(np.ones(3))
