"""odeint: values equal SciPy's; derivatives in y0, t and args (pytrees) against closed forms and
finite differences, in both modes and to second order; errors."""
import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp

pytest.importorskip("scipy.integrate")
from gpuad.scipy.integrate import odeint  # noqa: E402

TOL = dict(rtol=1e-11, atol=1e-11)


def decay(y, t, k):
    return -k * y


def test_exponential_decay_closed_form():
    t = np.array([0.0, 0.5, 1.3])
    y0 = np.array([1.5, -0.7])
    ys = odeint(decay, y0, t, (0.8,), **TOL)
    np.testing.assert_allclose(ys, y0 * np.exp(-0.8 * t)[:, None], rtol=1e-9)
    # d y(T)/dk = -T y0 e^{-kT}; d y(T)/dy0 = e^{-kT}; d y(T)/dT = -k y(T)
    last = lambda y0, t, k: gnp.sum(odeint(decay, y0, t, (k,), **TOL)[-1])  # noqa: E731
    gy0, gt, gk = ga.grad(last, argnums=(0, 1, 2))(y0, t, 0.8)
    np.testing.assert_allclose(gk, np.sum(-1.3 * y0 * np.exp(-0.8 * 1.3)), rtol=1e-7)
    np.testing.assert_allclose(gy0, np.exp(-0.8 * 1.3) * np.ones(2), rtol=1e-7)
    np.testing.assert_allclose(gt, [0.8 * np.sum(y0) * np.exp(-0.8 * 1.3), 0.0,
                                    -0.8 * np.sum(y0) * np.exp(-0.8 * 1.3)], rtol=1e-6, atol=1e-9)


def _fd(loss, args, i, eps=1e-6):
    out = np.zeros(np.shape(args[i]))
    for idx in np.ndindex(*np.shape(args[i])):
        for sign in (1, -1):
            moved = [np.array(a, dtype=float) for a in args]
            moved[i][idx] += sign * eps
            out[idx] += sign * loss(*moved) / (2 * eps)
    return out


def test_neural_ode_gradients_match_finite_differences():
    def f(y, t, w, b):
        return gnp.tanh(w @ y + b) * gnp.cos(t)

    rng = np.random.default_rng(12)
    args = [rng.standard_normal(3) * 0.5, np.linspace(0.0, 1.5, 4),
            rng.standard_normal((3, 3)), rng.standard_normal(3) * 0.3]
    loss = lambda y0, t, w, b: gnp.sum(odeint(f, y0, t, (w, b), **TOL) ** 2)  # noqa: E731
    grads = ga.grad(loss, argnums=(0, 1, 2, 3))(*args)
    for i, g in enumerate(grads):
        np.testing.assert_allclose(g, _fd(loss, args, i), rtol=1e-5, atol=1e-7)


def test_values_equal_scipy_and_errors():
    import scipy.integrate
    t = np.linspace(0.0, 2.0, 6)
    rhs = lambda y, t: np.array([y[1], -y[0]])  # noqa: E731
    np.testing.assert_allclose(odeint(rhs, np.array([1.0, 0.0]), t),
                               scipy.integrate.odeint(rhs, np.array([1.0, 0.0]), t))
    with pytest.raises(ValueError, match="y0 must be 1-D"):
        odeint(rhs, np.ones((2, 1)), t)
    # a right-hand side written with NumPy cannot be differentiated, and says so
    with pytest.raises(TypeError, match="cannot be converted to a NumPy array"):
        ga.jvp(lambda y0: odeint(rhs, y0, t), (np.ones(2),), (np.ones(2),))


def mlp(y, t, params, scale):
    for w, b in params:
        y = gnp.tanh(w @ y + b)
    return scale["gain"] * y * gnp.cos(t)


def _mlp_args(rng):
    params = [(rng.standard_normal((3, 2)) * 0.5, rng.standard_normal(3) * 0.3),
              (rng.standard_normal((2, 3)) * 0.5, rng.standard_normal(2) * 0.3)]
    return rng.standard_normal(2), np.linspace(0.0, 1.2, 3), params, {"gain": 0.8}


def test_args_may_be_pytrees_differentiable_in_every_leaf():
    import scipy.integrate
    y0, t, params, scale = _mlp_args(np.random.default_rng(3))
    ours = odeint(mlp, y0, t, (params, scale), **TOL)
    expected = scipy.integrate.odeint(mlp, y0, t, (params, scale), **TOL)
    np.testing.assert_allclose(ours, expected, rtol=1e-12)

    def loss(y0, t, params, scale):
        return gnp.sum(odeint(mlp, y0, t, (params, scale), **TOL) ** 2)
    grads = ga.grad(loss, argnums=(2, 3))(y0, t, params, scale)
    assert ga.tree_structure(grads[0]) == ga.tree_structure(params)
    ga.check_grads(loss, (y0, t, params, scale), order=1, rtol=1e-6, atol=1e-8)


def test_non_float_leaves_pass_through_unchanged():
    def f(y, t, k, n, name):
        assert isinstance(n, int) and name == "decay"  # as SciPy passes them
        return -k * y * n

    def loss(k):
        return gnp.sum(odeint(f, np.ones(2), np.array([0.0, 1.0]), (k, 2, "decay"), **TOL))
    np.testing.assert_allclose(ga.grad(loss)(0.3), -2 * 2 * np.exp(-0.6), rtol=1e-8)
    np.testing.assert_allclose(ga.jvp(loss, (0.3,), (1.0,))[1], -2 * 2 * np.exp(-0.6),
                               rtol=1e-8)


def test_second_order_and_forward_mode():
    t, y0 = np.array([0.0, 0.5, 1.3]), np.array([1.5, -0.7])
    last = lambda k: gnp.sum(odeint(decay, y0, t, (k,), **TOL)[-1])
    # sum y0 e^{-kT}: d/dk = -T sum y0 e^{-kT}, d2/dk2 = T^2 sum y0 e^{-kT}
    value = np.sum(y0) * np.exp(-0.8 * 1.3)
    np.testing.assert_allclose(ga.jvp(last, (0.8,), (1.0,))[1], -1.3 * value, rtol=1e-8)
    np.testing.assert_allclose(ga.grad(ga.grad(last))(0.8), 1.3 ** 2 * value, rtol=1e-7)
    np.testing.assert_allclose(ga.hessian(last)(0.8), 1.3 ** 2 * value, rtol=1e-7)
    np.testing.assert_allclose(ga.jacfwd(ga.grad(last))(0.8), 1.3 ** 2 * value, rtol=1e-7)

    def f(y, t, k):
        return -k * y * y + gnp.sin(t) * y[::-1]
    loss = lambda y0, t, k: gnp.sum(odeint(f, y0, t, (k,), **TOL) ** 2)
    ga.check_grads(loss, (np.array([0.5, -0.3]), np.array([0.0, 0.4, 0.9]), 0.7), order=2,
                   rtol=1e-5, atol=1e-7)


def test_jacobians_vmap_and_float32():
    y0, t, params, scale = _mlp_args(np.random.default_rng(4))
    solve = lambda y0: odeint(mlp, y0, t, (params, scale), **TOL)[-1]
    np.testing.assert_allclose(ga.jacrev(solve)(y0), ga.jacfwd(solve)(y0), rtol=1e-7,
                               atol=1e-10)
    batch = np.stack([y0, -y0, 2 * y0])
    np.testing.assert_allclose(ga.vmap(solve)(batch), np.stack([solve(b) for b in batch]),
                               rtol=1e-12)
    g32 = ga.grad(lambda y0, w: gnp.sum(odeint(decay, y0, t, (w,), **TOL)))(
        y0.astype(np.float32), np.float32(0.5))
    assert g32.dtype == np.float32
