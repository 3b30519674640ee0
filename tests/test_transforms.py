"""jacfwd, jacrev, hessian, hvp, elementwise_grad, linearize; higher order and nesting."""
import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp
from gpuad.checkpoint import checkpoint, scan, while_loop


def test_jacobians_agree_with_closed_form(rng):
    x, w = rng.standard_normal(3), rng.standard_normal((2, 3))
    f = lambda x: gnp.tanh(w @ x)
    expected = (1 - np.tanh(w @ x) ** 2)[:, None] * w
    for jac in (ga.jacfwd, ga.jacrev, ga.jacobian):
        np.testing.assert_allclose(jac(f)(x), expected, rtol=1e-12)


def test_jacobian_layout_for_pytrees_and_argnums(rng):
    p = {"w": rng.standard_normal((2, 2)), "b": rng.standard_normal(2)}
    f = lambda p: {"a": p["w"] @ p["b"], "s": gnp.sum(p["w"] ** 2)}
    jf, jr = ga.jacfwd(f)(p), ga.jacrev(f)(p)
    assert jf["a"]["w"].shape == (2, 2, 2) and jf["a"]["b"].shape == (2, 2)
    assert jf["s"]["w"].shape == (2, 2) and jf["s"]["b"].shape == (2,)
    for o in jf:
        for i in jf[o]:
            np.testing.assert_allclose(jf[o][i], jr[o][i], rtol=1e-12)
    np.testing.assert_allclose(jf["a"]["w"][1], np.outer([0, 1], p["b"]))
    x, y = rng.standard_normal(3), rng.standard_normal(3)
    jx, jy = ga.jacrev(lambda x, y: x * y, argnums=(0, 1))(x, y)
    np.testing.assert_allclose(jx, np.diag(y))
    np.testing.assert_allclose(jy, np.diag(x))


def test_jacobian_of_matrix_function_has_output_then_input_axes(rng):
    a = rng.standard_normal((2, 2)) + 3 * np.eye(2)
    j = ga.jacfwd(gnp.linalg.inv)(a)
    assert j.shape == (2, 2, 2, 2)
    inv = np.linalg.inv(a)
    np.testing.assert_allclose(j, -np.einsum("ik,lj->ijkl", inv, inv), rtol=1e-10)
    np.testing.assert_allclose(ga.jacrev(gnp.linalg.inv)(a), j, rtol=1e-10)


def test_hessian_of_quadratic_form_is_a_plus_a_transpose(rng):
    a, x = rng.standard_normal((4, 4)), rng.standard_normal(4)
    np.testing.assert_allclose(ga.hessian(lambda x: x @ a @ x)(x), a + a.T, rtol=1e-12)


def test_hvp_equals_hessian_times_vector(rng):
    a, x, v = rng.standard_normal((4, 4)), rng.standard_normal(4), rng.standard_normal(4)
    f = lambda x: gnp.sum(gnp.sin(x) * gnp.exp(x)) + x @ a @ x + gnp.prod(x)
    np.testing.assert_allclose(ga.hvp(f, (x,), (v,)), ga.hessian(f)(x) @ v, rtol=1e-10)


def test_hvp_with_two_arguments(rng):
    x, y = rng.standard_normal(3), rng.standard_normal(3)
    vx, vy = rng.standard_normal(3), rng.standard_normal(3)
    f = lambda x, y: gnp.sum(x ** 2 * y)
    hx, hy = ga.hvp(f, (x, y), (vx, vy))
    np.testing.assert_allclose(hx, 2 * y * vx + 2 * x * vy)
    np.testing.assert_allclose(hy, 2 * x * vx)


def test_hessian_of_a_function_that_calls_grad(rng):
    x = rng.standard_normal(3)
    inner = lambda x: gnp.sum(gnp.sin(x))
    f = lambda x: gnp.sum(ga.grad(inner)(x) ** 2)         # sum cos^2
    np.testing.assert_allclose(ga.hessian(f)(x), np.diag(-2 * np.cos(2 * x)), rtol=1e-10)


def test_elementwise_grad(rng):
    x = rng.standard_normal(5)
    np.testing.assert_allclose(ga.elementwise_grad(gnp.tanh)(x), 1 - np.tanh(x) ** 2)


def test_linearize_evaluates_once_and_matches_jvp(rng):
    calls = []

    def f(x):
        calls.append(1)
        return gnp.sin(x) * gnp.cumprod(x)

    x, v = rng.standard_normal(4), rng.standard_normal(4)
    out, f_jvp = ga.linearize(f, x)
    t1, t2 = f_jvp(v), f_jvp(2 * v)
    assert len(calls) == 1
    np.testing.assert_allclose(t1, ga.jvp(f, (x,), (v,))[1], rtol=1e-12)
    np.testing.assert_allclose(t2, 2 * t1, rtol=1e-12)
    np.testing.assert_allclose(ga.vmap(f_jvp)(np.eye(4)).T, ga.jacfwd(f)(x), rtol=1e-12)
    with pytest.raises(ValueError, match="shape"):
        f_jvp(np.ones(3))


# ---- higher order ------------------------------------------------------------------------

def _nth(f, n):
    for _ in range(n):
        f = ga.grad(f)
    return f


def test_tanh_derivatives_to_fourth_order():
    x = 0.37
    t = np.tanh(x)
    s = 1 - t ** 2
    closed = [s, -2 * t * s, -2 * s * (1 - 3 * t ** 2), 8 * t * s * (2 - 3 * t ** 2)]
    for n, want in enumerate(closed, start=1):
        assert np.isclose(_nth(gnp.tanh, n)(x), want, rtol=1e-12), n
    # forward over forward agrees
    d = lambda f: (lambda x: ga.jvp(f, (x,), (1.0,))[1])
    assert np.isclose(d(d(d(d(gnp.tanh))))(x), closed[3], rtol=1e-12)


def test_exp_sin_derivatives_to_fourth_order_in_mixed_modes():
    f = lambda x: gnp.exp(x) * gnp.sin(x)
    x = 0.8
    closed = lambda n: 2 ** (n / 2) * np.exp(x) * np.sin(x + n * np.pi / 4)
    fwd = lambda g: (lambda x: ga.jvp(g, (x,), (1.0,))[1])
    mixes = [ga.grad(fwd(ga.grad(fwd(f)))), fwd(ga.grad(fwd(ga.grad(f)))),
             ga.grad(ga.grad(fwd(fwd(f))))]
    for g in mixes:
        assert np.isclose(g(x), closed(4), rtol=1e-12)


def test_three_layer_mlp_to_fourth_order(rng):
    sizes = [3, 4, 4, 1]
    params = [(rng.standard_normal((m, n)) / np.sqrt(m), rng.standard_normal(n) * 0.1)
              for m, n in zip(sizes[:-1], sizes[1:])]
    x0 = rng.standard_normal(3)

    def mlp(x):
        h = x
        for i, (w, b) in enumerate(params):
            h = h @ w + b
            if i < len(params) - 1:
                h = gnp.tanh(h)
        return h[0]

    ga.check_grads(mlp, (x0,), order=4, modes=("fwd", "rev"), rtol=1e-4, atol=1e-6)


def test_closures_over_outer_traced_values():
    def outer(a):
        f = lambda x: gnp.sin(a * x)          # closes over the traced a
        return ga.grad(f)(0.5)                 # a cos(a / 2)
    a = 1.3
    want = np.cos(a / 2) - a / 2 * np.sin(a / 2)
    assert np.isclose(ga.grad(outer)(a), want)
    assert np.isclose(ga.jvp(outer, (a,), (1.0,))[1], want)


# ---------------------------------------------------------------------------------------------
# Python scalars are 0-d arrays of NumPy's default dtype at every level

def _scan_of(w, c0=1.0):
    return scan(lambda c, x: (c * gnp.sin(w) + x, None), c0, np.arange(3.0))[0]


def _while_of(w, c0=1.0):
    return while_loop(lambda c: c[1] < 3, lambda c: (c[0] * gnp.sin(w) + 0.5, c[1] + 1),
                      (c0, 0))[0]


SCALAR_FUNCTIONS = {
    "elementwise": lambda x: gnp.sin(x) * x + 2.0,
    "scan, float carry": _scan_of,
    "scan, carry is the argument": lambda w: _scan_of(w, w),
    "while_loop, float carry leaf": _while_of,
    "while_loop, carry is the argument": lambda w: _while_of(w, w),
    "checkpoint, float argument": lambda w: checkpoint(lambda a, b: gnp.sin(a) * b)(w, 1.5),
    "checkpoint, float result": lambda w: checkpoint(lambda a: (a * a, 3.0))(w)[1] * w,
}

SCALAR_TRANSFORMS = {
    "grad": lambda f, x: ga.grad(f)(x),
    "value_and_grad": lambda f, x: ga.value_and_grad(f)(x),
    "vjp": lambda f, x: ga.vjp(f, x)[1](1.0)[0],
    "jvp": lambda f, x: ga.jvp(f, (x,), (1.0,)),
    "linearize": lambda f, x: ga.linearize(f, x)[1](1.0),
    "jacfwd": lambda f, x: ga.jacfwd(f)(x),
    "jacrev": lambda f, x: ga.jacrev(f)(x),
    "elementwise_grad": lambda f, x: ga.elementwise_grad(f)(x),
    "grad of grad": lambda f, x: ga.grad(ga.grad(f))(x),
    "jvp of grad": lambda f, x: ga.jvp(ga.grad(f), (x,), (1.0,))[1],
    "grad of jvp": lambda f, x: ga.grad(lambda y: ga.jvp(f, (y,), (1.0,))[1])(x),
    "jvp of vjp": lambda f, x: ga.jvp(lambda y: ga.vjp(f, y)[1](1.0)[0], (x,), (1.0,))[1],
    "vjp of jvp": lambda f, x: ga.vjp(lambda y: ga.jvp(f, (y,), (1.0,))[1], x)[1](1.0)[0],
    "jvp of jvp": lambda f, x: ga.jvp(lambda y: ga.jvp(f, (y,), (1.0,))[1], (x,), (1.0,))[1],
    "hessian": lambda f, x: ga.hessian(f)(x),
    "hvp": lambda f, x: ga.hvp(f, (x,), (1.0,)),
    "jacfwd of jacrev": lambda f, x: ga.jacfwd(ga.jacrev(f))(x),
    "linearize of grad": lambda f, x: ga.linearize(ga.grad(f), x)[1](1.0),
    "grad of linearize": lambda f, x: ga.grad(lambda y: ga.linearize(f, y)[1](1.0))(x),
    "vmap of grad": lambda f, x: ga.vmap(ga.grad(f))(np.array([x, 2.0 * x])),
    "grad of vmap": lambda f, x: ga.grad(lambda y: gnp.sum(ga.vmap(f)(gnp.stack([y, y]))))(x),
}

def _assert_same_tree(got, expected):
    got_leaves, got_def = ga.tree_flatten(got)
    exp_leaves, exp_def = ga.tree_flatten(expected)
    assert got_def == exp_def
    for g, e in zip(got_leaves, exp_leaves):
        assert hasattr(g, "dtype") and g.dtype == e.dtype
        np.testing.assert_allclose(g, e, rtol=1e-13)


@pytest.mark.parametrize("transform", list(SCALAR_TRANSFORMS))
@pytest.mark.parametrize("function", list(SCALAR_FUNCTIONS))
def test_a_python_float_behaves_as_a_0d_float64_array(function, transform):
    f, run = SCALAR_FUNCTIONS[function], SCALAR_TRANSFORMS[transform]
    _assert_same_tree(run(f, 0.7), run(f, np.asarray(0.7)))


@pytest.mark.parametrize("function", list(SCALAR_FUNCTIONS))
def test_python_float_arguments_check_against_finite_differences(function):
    ga.check_grads(SCALAR_FUNCTIONS[function], (0.7,), order=2)


def test_python_float_derivatives_in_closed_form():
    x = 0.7
    f = SCALAR_FUNCTIONS["elementwise"]
    np.testing.assert_allclose(ga.grad(f)(x), np.cos(x) * x + np.sin(x), rtol=1e-14)
    np.testing.assert_allclose(ga.hessian(f)(x), 2 * np.cos(x) - x * np.sin(x), rtol=1e-14)
    s, ds = np.sin(x), np.cos(x)  # scan: c3 = c0 s^3 + s + 2 with c0 = 1
    np.testing.assert_allclose(ga.grad(SCALAR_FUNCTIONS["scan, float carry"])(x),
                               (3 * s * s + 1) * ds, rtol=1e-14)
    # the example of the issue: a Python float carry under grad
    w = 0.5
    g = ga.grad(lambda w: scan(lambda c, x: (c * w + x, None), 1.0, np.arange(3.0))[0])(w)
    np.testing.assert_allclose(g, 3 * w * w + 1, rtol=1e-14)


COMPLEX_TRANSFORMS = {
    "grad": lambda f, z: ga.grad(f)(z),
    "vjp": lambda f, z: ga.vjp(f, z)[1](1.0)[0],
    "jvp": lambda f, z: ga.jvp(f, (z,), (1.0 + 0.5j,)),
    "linearize": lambda f, z: ga.linearize(f, z)[1](1.0 + 0.5j),
    "grad of grad": lambda f, z: ga.grad(lambda y: gnp.real(ga.grad(f)(y)))(z),
    "jvp of grad": lambda f, z: ga.jvp(ga.grad(f), (z,), (1.0 + 0.5j,))[1],
    "jvp of vjp": lambda f, z: ga.jvp(lambda y: ga.vjp(f, y)[1](1.0)[0], (z,), (0.5 - 1j,))[1],
    "hessian": lambda f, z: ga.hessian(f)(z),
    "jacfwd": lambda f, z: ga.jacfwd(f)(z),
    "holomorphic_grad": lambda f, z: ga.holomorphic_grad(lambda y: gnp.sin(y) * y)(z),
    "scan carry": lambda f, z: ga.grad(lambda w: gnp.real(
        scan(lambda c, x: (c * w + x, None), 1.0 + 0.5j, np.arange(3.0))[0] * w))(z),
}


@pytest.mark.parametrize("transform", list(COMPLEX_TRANSFORMS))
def test_a_python_complex_behaves_as_a_0d_complex128_array(transform):
    f = lambda z: gnp.real(gnp.sin(z) * gnp.conj(z))
    run = COMPLEX_TRANSFORMS[transform]
    _assert_same_tree(run(f, 0.7 + 0.3j), run(f, np.asarray(0.7 + 0.3j)))


def test_python_complex_arguments_check_against_finite_differences():
    ga.check_grads(lambda z: gnp.abs(z * z) + gnp.real(gnp.exp(z)), (0.5 + 0.2j,), order=2)
    ga.check_grads(lambda z: z * gnp.sin(z), (0.5 + 0.2j,), order=2)


def test_python_number_tangents_take_the_primal_dtype():
    out, t = ga.jvp(lambda x: x * 2.0, (np.float32(0.5),), (1.0,))
    assert out.dtype == t.dtype == np.float32
    _, t = ga.linearize(lambda x: x * 2.0, 0.5)
    assert t(1.0).dtype == np.float64
    with pytest.raises(TypeError, match="dtype complex128, but the primal has dtype float64"):
        ga.jvp(lambda x: x * 2.0, (0.5,), (1.0j,))


def test_custom_rules_returning_python_floats():
    @ga.custom_vjp
    def constant_vjp(x):
        return 2.0
    constant_vjp.defvjp(lambda x: (2.0, None), lambda r, g: (0.0 * g,))

    @ga.custom_jvp
    def constant_jvp(x):
        return 2.0

    @constant_jvp.defjvp
    def _(primals, tangents):
        return 2.0, 0.0
    for fn in (constant_vjp, constant_jvp):
        assert ga.grad(lambda x: fn(x) * x)(0.5) == 2.0
    assert ga.jvp(lambda x: constant_jvp(x) * x, (0.5,), (1.0,))[1] == 2.0
    assert ga.grad(ga.grad(lambda x: constant_jvp(x) * x * x))(0.5) == 4.0


# ---------------------------------------------------------------------------------------------
# Errors name the transform the user called


def loss(x, n=None):
    return gnp.sum(x * x)


def vector(x):
    return x * x


# transform -> (call with an integer second argument differentiated, name in the message)
NAMED = {
    "grad": lambda x, n: ga.grad(loss, argnums=1)(x, n),
    "value_and_grad": lambda x, n: ga.value_and_grad(loss, argnums=1)(x, n),
    "vjp": lambda x, n: ga.vjp(loss, x, n),
    "jacfwd": lambda x, n: ga.jacfwd(loss, argnums=1)(x, n),
    "jacrev": lambda x, n: ga.jacrev(loss, argnums=1)(x, n),
    "jacobian": lambda x, n: ga.jacobian(loss, argnums=1)(x, n),
    "hessian": lambda x, n: ga.hessian(loss, argnums=1)(x, n),
    "elementwise_grad": lambda x, n: ga.elementwise_grad(loss, argnum=1)(x, n),
    "holomorphic_grad": lambda x, n: ga.holomorphic_grad(loss, argnums=1)(x, n),
    "hvp": lambda x, n: ga.hvp(loss, (x, n), (x, n)),
}
_SHOWN = {"jacobian": "jacrev"}  # ga.jacobian is jacrev


@pytest.mark.parametrize("transform", list(NAMED))
def test_input_errors_name_the_transform_called_and_the_argument(transform):
    with pytest.raises(TypeError) as info:
        NAMED[transform](np.ones(2), np.arange(2))
    message = str(info.value)
    assert message.startswith(f"{_SHOWN.get(transform, transform)}(loss): input argument 1 has "
                              f"dtype int64"), message
    assert "value_and_grad" not in message or transform == "value_and_grad"


@pytest.mark.parametrize("transform", ["grad", "value_and_grad", "hvp"])
def test_output_errors_name_the_transform_called(transform):
    call = {"grad": lambda: ga.grad(vector)(np.ones(2)),
            "value_and_grad": lambda: ga.value_and_grad(vector)(np.ones(2)),
            "hvp": lambda: ga.hvp(vector, (np.ones(2),), (np.ones(2),))}[transform]
    with pytest.raises(TypeError, match=rf"^{transform}\(vector\): the function's output must "
                                        rf"be a scalar of shape \(\), not \(2,\)"):
        call()


def test_argnums_tangent_and_aux_errors_name_the_transform_called():
    for transform in (ga.grad, ga.jacfwd, ga.jacrev, ga.hessian, ga.holomorphic_grad):
        with pytest.raises(ValueError, match=rf"^{transform.__name__}\(loss\): argnums=3"):
            transform(loss, argnums=3)(np.ones(2))
    with pytest.raises(ValueError, match=r"^hvp\(loss\): the tangent for primals\[0\] has "
                                         r"shape \(3,\)"):
        ga.hvp(loss, (np.ones(2),), (np.ones(3),))
    with pytest.raises(ValueError, match=r"^linearize: the tangent for primals\[0\]"):
        ga.linearize(loss, np.ones(2))[1](np.ones(3))
    with pytest.raises(TypeError, match=r"^grad\(loss\): has_aux=True .* returned an array "
                                        r"of shape \(\)"):
        ga.grad(loss, has_aux=True)(np.ones(2))
    with pytest.raises(ValueError, match=r"^vjp\(vector\): vjp_fn got a cotangent of "
                                         r"structure"):
        ga.vjp(vector, np.ones(2))[1]((np.ones(2), np.ones(2)))


def test_jacfwd_of_an_integer_input_raises_instead_of_a_zero_jacobian():
    """It used to return an integer zero: jvp takes integer inputs as constants. JAX raises."""
    with pytest.raises(TypeError, match=r"jacfwd\(loss\): input argument 0 is a Python int"):
        ga.jacfwd(loss)(3)
    with pytest.raises(TypeError, match=r"jacfwd\(vector\): input argument 0 has dtype int64"):
        ga.jacfwd(vector)(np.arange(3))
