"""grad(jit(f)) (gpuad/jit/steps.py, `differentiated_call`): f is recorded once per signature
with its VJP and replayed under the reverse trace; values and gradients equal grad(f)'s (bit for
bit when f's inputs are used by f alone), against finite differences, and eager where it does
not apply (closures over traced values, nested derivatives, forward mode)."""
import warnings

import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp
from gpuad.test_util import check_grads

RNG = np.random.default_rng(2)
PARAMS = [(RNG.standard_normal((4, 5)) / 2, np.zeros(5)), (RNG.standard_normal((5, 1)), np.ones(1))]
X, Y = RNG.standard_normal((6, 4)), RNG.standard_normal((6, 1))


def mlp(params, x, y):
    h = gnp.tanh(x @ params[0][0] + params[0][1])
    out = h @ params[1][0] + params[1][1]
    return gnp.mean((out - y) ** 2) + 0.01 * gnp.sum(gnp.random.normal(size=3))


def assert_bitwise(a, b):
    for u, v in zip(ga.tree_leaves(a), ga.tree_leaves(b)):
        np.testing.assert_array_equal(u, v)


def test_value_and_grad_of_jit_replays_bit_for_bit():
    f = ga.jit(mlp)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for k in range(3):  # one recording, then replays; gnp.random draws anew each call
            gnp.random.seed(k)
            want = ga.value_and_grad(mlp, argnums=(0, 1))(PARAMS, X, Y)
            gnp.random.seed(k)
            got = ga.value_and_grad(f, argnums=(0, 1))(PARAMS, X, Y)
            assert_bitwise(want, got)
    assert len(f._vjp) == 1 and next(iter(f._vjp.values())) is not None


def test_gradients_match_finite_differences_and_cotangent_patterns():
    f = ga.jit(lambda a, b: (gnp.sin(a) * b, gnp.sum(a ** 2), gnp.cos(b)))
    a, b = RNG.standard_normal(3), RNG.standard_normal(3)
    # outputs used or not: each pattern of cotangents its own program
    for use in [(0,), (1,), (0, 2), (0, 1, 2)]:
        def loss(a, b, use=use):
            outs = f(a, b)
            return sum(gnp.sum(outs[k] * (k + 1)) for k in use)
        check_grads(loss, (a, b), order=1, modes=("rev",))
        eager = ga.grad(lambda a, b: sum(gnp.sum(o * (k + 1)) for k, o in enumerate(
            f.fun(a, b)) if k in use), argnums=(0, 1))(a, b)
        np.testing.assert_allclose(ga.grad(loss, argnums=(0, 1))(a, b), eager, rtol=1e-13)


def test_an_argument_also_used_outside_agrees_to_rounding():
    f = ga.jit(lambda x: gnp.tanh(x) * 3.0)

    def loss(fun):
        return lambda x: gnp.sum(fun(x) * x) + gnp.sum(gnp.exp(x))
    x = RNG.standard_normal(5)
    np.testing.assert_allclose(ga.grad(loss(f))(x), ga.grad(loss(f.fun))(x), rtol=1e-14)


def test_closure_over_traced_values_and_nested_derivatives_run_eagerly():
    x0 = RNG.standard_normal(4)

    def outer(w):
        g = ga.jit(lambda x: gnp.sum(gnp.sin(x * w)))  # closes over a tracer of outer's grad
        return g(x0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(ga.grad(outer)(0.3), np.sum(np.cos(x0 * 0.3) * x0))
        h = ga.jit(lambda x: gnp.sum(gnp.sin(x) ** 2))
        hvp = ga.grad(lambda x: gnp.sum(ga.grad(h)(x) * x0))(x0)
        np.testing.assert_allclose(hvp, 2 * np.cos(2 * x0) * x0, rtol=1e-12)
        np.testing.assert_allclose(ga.jvp(h, (x0,), (x0,))[1], np.sum(np.sin(2 * x0) * x0))


def test_value_dependent_branch_still_refused():
    f = ga.jit(lambda x: x * 2 if float(gnp.sum(x)) > 0 else -x)
    with pytest.raises(ga.ConcretizationError, match="float"):
        ga.grad(lambda x: gnp.sum(f(x)))(np.ones(3))
