"""jacfwd, jacrev, hessian, hvp, elementwise_grad, linearize; higher order and nesting."""
import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp


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
