"""custom_vjp / custom_jvp: rules are used, nest, and fail clearly where they cannot apply."""
import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp
from gpuad.scipy import special as sp


@ga.custom_vjp
def clip_gradient(x):
    return x


clip_gradient.defvjp(lambda x: (x, None), lambda res, g: (gnp.clip(g, -1.0, 1.0),))


@ga.custom_jvp
def log1pexp(x):
    return gnp.logaddexp(0.0, x)


@log1pexp.defjvp
def _log1pexp_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return log1pexp(x), t * sp.expit(x)


def test_custom_vjp_rule_is_used():
    g = ga.grad(lambda x: gnp.sum(clip_gradient(x) * 5.0))(np.ones(3))
    np.testing.assert_array_equal(g, np.ones(3))


def test_custom_vjp_with_residuals_and_several_arguments(rng):
    @ga.custom_vjp
    def mul(x, y):
        return x * y

    mul.defvjp(lambda x, y: (x * y, (x, y)), lambda res, g: (g * res[1], g * res[0]))
    x, y = rng.standard_normal(3), rng.standard_normal(3)
    gx, gy = ga.grad(lambda x, y: gnp.sum(gnp.sin(mul(x, y))), argnums=(0, 1))(x, y)
    np.testing.assert_allclose(gx, np.cos(x * y) * y)
    np.testing.assert_allclose(gy, np.cos(x * y) * x)
    # second order differentiates the rule itself
    h = ga.hessian(lambda x: gnp.sum(mul(x, x) ** 2))(x)
    np.testing.assert_allclose(h, np.diag(12 * x ** 2), rtol=1e-12)


def test_custom_vjp_nondiff_argnums():
    scaled = ga.custom_vjp(lambda k, x: x * k, nondiff_argnums=(0,))
    scaled.defvjp(lambda k, x: (x * k, None), lambda k, res, g: (g * k * 10.0,))
    assert ga.grad(lambda x: scaled(3, x))(2.0) == 30.0


def test_custom_vjp_under_forward_mode_needs_a_jvp():
    with pytest.raises(TypeError, match="clip_gradient.*defjvp"):
        ga.jvp(clip_gradient, (np.ones(2),), (np.ones(2),))
    both = ga.custom_vjp(lambda x: x * 2.0)
    both.defvjp(lambda x: (x * 2.0, None), lambda r, g: (g * 2.0,))
    both.defjvp(lambda p, t: (p[0] * 2.0, t[0] * 2.0))
    assert ga.jvp(both, (1.0,), (1.0,))[1] == 2.0


def test_custom_jvp_in_both_modes_and_at_second_order():
    x = np.array([-3.0, 0.0, 50.0])
    np.testing.assert_allclose(ga.grad(lambda x: gnp.sum(log1pexp(x)))(x), sp.expit(x))
    np.testing.assert_allclose(ga.jvp(log1pexp, (x,), (np.ones(3),))[1], sp.expit(x))
    s = sp.expit(0.3)
    assert np.isclose(ga.grad(ga.grad(log1pexp))(0.3), s * (1 - s))
    np.testing.assert_allclose(np.diag(ga.hessian(lambda x: gnp.sum(log1pexp(x)))(x)),
                               sp.expit(x) * (1 - sp.expit(x)))


def test_custom_rules_under_vmap_apply_per_example():
    g = ga.vmap(ga.grad(lambda x: gnp.sum(clip_gradient(x) * 5.0)))(np.ones((2, 3)))
    np.testing.assert_array_equal(g, np.ones((2, 3)))
    g = ga.grad(lambda x: gnp.sum(ga.vmap(lambda r: clip_gradient(r) * 5.0)(x)))(np.ones((2, 3)))
    np.testing.assert_array_equal(g, np.ones((2, 3)))


def test_custom_function_without_rules_and_bad_bwd():
    f = ga.custom_vjp(lambda x: x)
    with pytest.raises(TypeError, match="without rules"):
        ga.grad(f)(1.0)
    g = ga.custom_vjp(lambda x, y: x * y)
    g.defvjp(lambda x, y: (x * y, None), lambda r, ct: (ct,))
    with pytest.raises(ValueError, match="1 cotangents for 2"):
        ga.grad(g)(1.0, 2.0)
