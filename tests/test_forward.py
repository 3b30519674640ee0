"""jvp: forward mode through the same rules, with pytrees, nesting and errors."""
import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp


def test_jvp_matches_closed_form(rng):
    x, v = rng.standard_normal(4), rng.standard_normal(4)
    out, t = ga.jvp(lambda x: gnp.sin(x) * x, (x,), (v,))
    np.testing.assert_allclose(out, np.sin(x) * x)
    np.testing.assert_allclose(t, (np.cos(x) * x + np.sin(x)) * v)


def test_jvp_with_pytrees_and_constant_outputs(rng):
    p = {"a": rng.standard_normal(3), "b": (rng.standard_normal(2),)}
    t = {"a": np.ones(3), "b": (np.zeros(2),)}
    out, tan = ga.jvp(lambda p: (gnp.sum(p["a"] ** 2), np.arange(3), p["b"][0] * 2.0), (p,), (t,))
    assert np.isclose(tan[0], 2 * p["a"].sum())
    np.testing.assert_array_equal(tan[1], np.zeros(3, dtype=np.arange(3).dtype))
    np.testing.assert_array_equal(tan[2], np.zeros(2))


def test_integer_inputs_are_constants_in_forward_mode():
    out, t = ga.jvp(lambda x, n: x ** n, (2.0, 3), (1.0, 0))
    assert np.isclose(t, 12.0)


def test_jvp_of_grad_and_grad_of_jvp():
    f = lambda x: gnp.exp(gnp.sin(x))
    x = 0.3
    second = ga.grad(ga.grad(f))(x)
    _, t = ga.jvp(ga.grad(f), (x,), (1.0,))
    assert np.isclose(t, second)
    g = ga.grad(lambda x: ga.jvp(f, (x,), (1.0,))[1])(x)
    assert np.isclose(g, second)


def test_perturbation_confusion_forward_and_mixed():
    # d/dx [x * (d/dy (x + y))|y=1] at x = 1 is 1, not 2, in every combination of modes.
    dy_fwd = lambda x: ga.jvp(lambda y: x + y, (1.0,), (1.0,))[1]
    dy_rev = lambda x: ga.grad(lambda y: x + y)(1.0)
    for dy in (dy_fwd, dy_rev):
        f = lambda x: x * dy(x)
        assert ga.jvp(f, (1.0,), (1.0,))[1] == 1.0
        assert ga.grad(f)(1.0) == 1.0


def test_tangent_mismatch_errors(rng):
    with pytest.raises(ValueError, match=r"shape \(2,\).*shape \(3,\)"):
        ga.jvp(gnp.sin, (np.ones(3),), (np.ones(2),))
    with pytest.raises(TypeError, match="float32"):
        ga.jvp(gnp.sin, (np.ones(3),), (np.ones(3, np.float32),))
    with pytest.raises(TypeError, match="tuples"):
        ga.jvp(gnp.sin, np.ones(3), np.ones(3))
