"""odeint: values equal SciPy's; adjoint gradients in y0, t and args against closed forms and
finite differences; errors."""
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
    with pytest.raises(Exception, match="odeint|_solve|custom"):
        ga.jvp(lambda y0: odeint(rhs, y0, t), (np.ones(2),), (np.ones(2),))


def test_what_the_adjoint_cannot_do_is_refused_not_wrong():
    t = np.linspace(0.0, 1.0, 3)
    f = lambda y: gnp.sum(odeint(lambda y, t: -y * y, y, t))  # noqa: E731
    with pytest.raises(NotImplementedError, match="only first-order reverse mode"):
        ga.grad(lambda y: gnp.sum(ga.grad(f)(y)))(np.ones(2))
    with pytest.raises(NotImplementedError, match="cannot be batched"):
        ga.jacrev(lambda y: odeint(lambda y, t: -y, y, t)[-1])(np.ones(2))
