"""Elementwise ops: hypothesis-driven shapes and values, and the semantics at special points."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gpuad as ga
import gpuad.numpy as gnp

SMOOTH_BINARY = [gnp.add, gnp.subtract, gnp.multiply, gnp.logaddexp, gnp.hypot, gnp.arctan2]
SMOOTH_UNARY = [gnp.sin, gnp.tanh, gnp.exp, gnp.arctan, gnp.square, gnp.sinh]


def _values(shape, draw):
    return draw(hnp.arrays(np.float64, shape,
                           elements=st.floats(-2.0, 2.0, allow_nan=False).filter(
                               lambda v: abs(v) > 0.05)))


@settings(max_examples=30, deadline=None)
@given(data=st.data(), op=st.sampled_from(SMOOTH_BINARY),
       shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3))
def test_binary_ops_on_random_broadcast_shapes(data, op, shapes):
    x = _values(shapes.input_shapes[0], data.draw)
    y = _values(shapes.input_shapes[1], data.draw)
    ga.check_grads(op, (x, y), order=1)


@settings(max_examples=25, deadline=None)
@given(data=st.data(), op=st.sampled_from(SMOOTH_UNARY),
       shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=4))
def test_unary_ops_on_random_shapes(data, op, shape):
    ga.check_grads(op, (_values(shape, data.draw),), order=2)


@settings(max_examples=25, deadline=None)
@given(data=st.data(), shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3,
                                                                 max_side=3))
def test_vjp_and_jvp_are_adjoint(data, shapes):
    """<u, J v> computed by jvp equals <J^T u, v> computed by vjp, for a composite program."""
    x = _values(shapes.input_shapes[0], data.draw)
    y = _values(shapes.input_shapes[1], data.draw)
    f = lambda x, y: gnp.tanh(x * y) + gnp.maximum(x, 0.1) / (1.0 + y * y)
    rng = np.random.default_rng(0)
    vx, vy = rng.standard_normal(x.shape), rng.standard_normal(y.shape)
    out, t = ga.jvp(f, (x, y), (vx, vy))
    u = rng.standard_normal(np.shape(out))
    gx, gy = ga.vjp(f, x, y)[1](u)
    assert np.isclose(np.sum(u * t), np.sum(gx * vx) + np.sum(gy * vy))


def test_ties_split_the_gradient_evenly():
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(ga.grad(lambda x: gnp.sum(gnp.maximum(x, x)))(x), np.ones(3))
    gx, gy = ga.grad(lambda x, y: gnp.sum(gnp.minimum(x, y)), argnums=(0, 1))(x, 2.0)
    np.testing.assert_allclose(gx, [1.0, 0.5, 0.0])
    assert gy == 1.5


def test_power_at_zero_base_has_finite_exponent_gradient():
    gx, gy = ga.grad(lambda x, y: gnp.sum(x ** y), argnums=(0, 1))(np.array([0.0, 2.0]), 2.0)
    np.testing.assert_allclose(gx, [0.0, 4.0])
    assert np.isfinite(gy) and np.isclose(gy, 4.0 * np.log(2.0))


@pytest.mark.parametrize("power", [gnp.power, gnp.float_power])
def test_power_with_zero_exponent_and_zero_base(power):
    # x ** 0 = 1 for every x, 0 ** 0 included: derivative 0 in x at every order. In y at x = 0,
    # 0 as JAX takes it (x ** y log x with log x replaced by 0 there)
    x, y = np.array([0.0, 0.0, 0.0, 2.0]), np.array([0.0, 1.0, 2.0, 0.0])
    f = lambda x, y: gnp.sum(power(x, y))
    gx, gy = ga.grad(f, argnums=(0, 1))(x, y)
    np.testing.assert_array_equal(gx, [0.0, 1.0, 0.0, 0.0])
    np.testing.assert_allclose(gy, [0.0, 0.0, 0.0, np.log(2.0)])
    _, t = ga.jvp(f, (x, y), (np.ones(4), np.zeros(4)))
    assert t == 1.0
    for hess in (ga.hessian, lambda f: ga.jacfwd(ga.jacfwd(f))):
        np.testing.assert_array_equal(hess(lambda x: f(x, y))(x), np.diag([0.0, 0.0, 2.0, 0.0]))
    for exponent in (0, 0.0):  # Python exponents take the rule's static branch
        f = lambda x, exponent=exponent: power(x, exponent)
        assert ga.grad(f)(0.0) == 0.0 and ga.grad(ga.grad(ga.grad(f)))(0.0) == 0.0
    assert ga.grad(ga.grad(ga.grad(lambda x: power(x, 3))))(0.0) == 6.0
    # the mixed derivative at y = 0 away from x = 0 is x^(y-1) (1 + y log x) = 1/2, not masked
    np.testing.assert_allclose(ga.hessian(lambda v: power(v[0], v[1]))(np.array([2.0, 0.0])),
                               [[0.0, 0.5], [0.5, np.log(2.0) ** 2]])


def test_abs_and_sinc_at_zero():
    # abs: slope 1 at 0, as JAX's, so that abs(x) ** 2 keeps x ** 2's second derivative there
    assert ga.grad(lambda x: gnp.abs(x))(0.0) == 1.0
    assert ga.grad(lambda x: gnp.sinc(x))(0.0) == 0.0
    x = np.array([0.0, -0.0, -1.5, 0.7])
    for f in (lambda x: gnp.sum(gnp.abs(x) ** 2), lambda x: gnp.sum(gnp.square(gnp.abs(x)))):
        np.testing.assert_array_equal(ga.hessian(f)(x), 2.0 * np.eye(4))
        np.testing.assert_array_equal(ga.jacfwd(ga.jacfwd(f))(x), 2.0 * np.eye(4))
    np.testing.assert_array_equal(ga.grad(lambda x: gnp.sum(gnp.abs(x) ** 3))(x),
                                  3.0 * x * np.abs(x))


def test_rounding_ops_have_zero_gradient_and_remainder_has_slope_one():
    f = lambda x: gnp.sum(gnp.floor(x) + gnp.ceil(x) + gnp.round(x) + gnp.trunc(x) + gnp.sign(x))
    np.testing.assert_array_equal(ga.grad(f)(np.array([0.3, -1.7])), [0.0, 0.0])
    np.testing.assert_allclose(ga.grad(lambda x: gnp.sum(x % 1.0))(np.array([0.3, 2.6])), 1.0)


def test_where_routes_gradients_by_condition():
    x, y = np.array([1.0, -2.0, 3.0]), np.array([10.0, 20.0, 30.0])
    gx, gy = ga.grad(lambda x, y: gnp.sum(gnp.where(x > 0, x, y) * 2.0), argnums=(0, 1))(x, y)
    np.testing.assert_array_equal(gx, [2.0, 0.0, 2.0])
    np.testing.assert_array_equal(gy, [0.0, 2.0, 0.0])


def test_clip_follows_numpy_when_bounds_cross():
    # NumPy: clip(x, lo, hi) = minimum(maximum(x, lo), hi), so hi wins when lo > hi
    g = ga.grad(lambda x, lo, hi: gnp.clip(x, lo, hi), argnums=(0, 1, 2))(0.0, 1.0, -1.0)
    assert tuple(map(float, g)) == (0.0, 0.0, 1.0)


def test_float32_stays_float32_with_python_scalars():
    x = np.ones(3, np.float32)
    y = gnp.exp(x * 2.0 + 1.0) / 3.0
    assert y.dtype == np.float32
    assert ga.grad(lambda x: gnp.sum(gnp.exp(x * 2.0) ** 2))(x).dtype == np.float32


@pytest.mark.parametrize("op", ["add", "subtract", "multiply", "divide"])
@pytest.mark.parametrize("x, y", [(1.5j, np.float64(2.0)), (np.float64(2.0), 1.5j),
                                  (2.5, np.float32(2.0)), (3, np.float64(2.0)),
                                  (np.complex64(1j), 2.0)])
def test_scalar_arithmetic_gives_numpy_types_and_dtypes(op, x, y):
    """Python numbers with NumPy scalars: NumPy's result type (NEP 50), whichever side; a Python
    complex result (complex.__mul__ accepts np.float64, a float subclass) broke the rules."""
    ours, theirs = getattr(gnp, op)(x, y), getattr(np, op)(x, y)
    assert type(ours) is type(theirs) and ours == theirs


def test_hessian_through_python_complex_times_traced_value():
    f = lambda v: gnp.abs(v[0] + 1j * v[1])  # noqa: E731
    v = np.array([0.6, -0.8])
    h = ga.hessian(f)(v)
    r = np.hypot(*v)
    np.testing.assert_allclose(h, (np.eye(2) - np.outer(v, v) / r**2) / r, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_tracer_times_itself_is_one_square(monkeypatch, dtype, rng):
    """x * x of one tracer runs square: one cotangent term g * 2x, not g * x twice and a sum;
    its value is x * x's bit for bit (real floats). Complex x stays a multiply."""
    from gpuad.jit.record import JitTrace
    names, original = [], JitTrace.process

    def spy(self, prim, args, params):
        names.append(prim.name)
        return original(self, prim, args, params)
    monkeypatch.setattr(JitTrace, "process", spy)
    x = rng.standard_normal((3, 4)).astype(dtype)
    value, g = ga.jit(ga.value_and_grad(lambda x: gnp.sum(x * x)))(x)
    assert names == ["square", "sum", "multiply", "multiply"]  # (the seed is a constant)
    assert value == np.sum(x * x) and g.dtype == dtype
    np.testing.assert_array_equal(g, 2.0 * x)
    names.clear()
    z = x + 1j * x[::-1]
    ga.jit(lambda z: z * z)(z)
    assert names == ["multiply"]
