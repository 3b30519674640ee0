"""gpuad.nn.activations: values against jax.nn (skipped without jax) and against their formulas,
derivatives by finite differences (order 2, float64) and, at the kinks, zero and large |x|,
against jax.grad; stability for huge inputs; softmax's axes and masks."""
import contextlib

import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp
from gpuad import nn

# (id, ours, jax.nn name, keyword arguments for both, a NumPy formula for the value)
ELEMENTWISE = [
    ("relu", nn.relu, "relu", {}, lambda x: np.maximum(x, 0)),
    ("relu6", nn.relu6, "relu6", {}, lambda x: np.minimum(np.maximum(x, 0), 6)),
    ("leaky_relu", nn.leaky_relu, "leaky_relu", {}, lambda x: np.where(x >= 0, x, 0.01 * x)),
    ("leaky_relu_slope", nn.leaky_relu, "leaky_relu", dict(negative_slope=0.3),
     lambda x: np.where(x >= 0, x, 0.3 * x)),
    ("elu", nn.elu, "elu", {}, lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0)))),
    ("elu_alpha", nn.elu, "elu", dict(alpha=0.7),
     lambda x: np.where(x > 0, x, 0.7 * np.expm1(np.minimum(x, 0)))),
    ("gelu_tanh", nn.gelu, "gelu", {},
     lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))),
    ("gelu_erf", nn.gelu, "gelu", dict(approximate=False), None),
    ("silu", nn.silu, "silu", {}, lambda x: x / (1 + np.exp(-x))),
    ("swish", nn.swish, "swish", {}, lambda x: x / (1 + np.exp(-x))),
    ("softplus", nn.softplus, "softplus", {}, lambda x: np.log1p(np.exp(x))),
    ("sigmoid", nn.sigmoid, "sigmoid", {}, lambda x: 1 / (1 + np.exp(-x))),
    ("log_sigmoid", nn.log_sigmoid, "log_sigmoid", {}, lambda x: -np.log1p(np.exp(-x))),
]
IDS = [e[0] for e in ELEMENTWISE]
SPECIAL = np.array([0.0, -0.0, 6.0, 1e-300, -1e-300, 50.0, -50.0, 800.0, -800.0, 1e4, -1e4,
                    np.inf, -np.inf, np.nan])
LARGE = np.array([-1e4, -800.0, -50.0, 50.0, 800.0, 1e4])


@contextlib.contextmanager
def _jax64():
    jax = pytest.importorskip("jax")
    with jax.enable_x64(True):
        yield jax


def _jax_value(jax, fn, x, dtype):
    return np.asarray(fn(jax.numpy.asarray(x, dtype=dtype)))


def _inputs(dtype=np.float64):
    return np.concatenate([3.0 * np.random.default_rng(0).standard_normal(40), SPECIAL]
                          ).astype(dtype)


INF_WARNS = pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # e.g. -inf * 0


@INF_WARNS
@pytest.mark.parametrize("case, fn, jax_name, kwargs, formula", ELEMENTWISE, ids=IDS)
def test_values_match_jax(case, fn, jax_name, kwargs, formula):
    # atol: gelu's tanh form cancels in 1 + tanh for negative x, in JAX as here
    for dtype, rtol, atol in [(np.float64, 1e-14, 2e-15), (np.float32, 2e-6, 1e-6)]:
        x = _inputs(dtype)
        got = fn(x, **kwargs)
        assert got.dtype == dtype, case
        with _jax64() as jax:
            want = _jax_value(jax, lambda a: getattr(jax.nn, jax_name)(a, **kwargs), x, dtype)
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, equal_nan=True,
                                   err_msg=f"{case} {dtype.__name__}")


@INF_WARNS
@pytest.mark.parametrize("case, fn, jax_name, kwargs, formula", ELEMENTWISE, ids=IDS)
def test_values_match_the_formula(case, fn, jax_name, kwargs, formula):
    """The plain formula where it does not overflow; large |x| checked for staying finite."""
    x = 3.0 * np.random.default_rng(1).standard_normal(50)
    if formula is None:                                   # gelu's erf form
        from scipy.special import ndtr
        formula = lambda x: x * ndtr(x)
    np.testing.assert_allclose(fn(x, **kwargs), formula(x), rtol=1e-13, atol=1e-15)
    assert np.all(np.isfinite(fn(LARGE, **kwargs))), case
    assert np.isnan(fn(np.array([np.nan]), **kwargs)).all(), case


@pytest.mark.parametrize("case, fn, jax_name, kwargs, formula", ELEMENTWISE, ids=IDS)
def test_derivatives_by_finite_differences(case, fn, jax_name, kwargs, formula):
    x = 2.5 * np.random.default_rng(2).standard_normal((3, 4))
    x = np.where(np.abs(x) < 0.05, 0.5, x)               # no kink within the difference step
    x = np.where(np.abs(x - 6) < 0.05, 5.0, x)
    ga.check_grads(lambda x: fn(x, **kwargs), (x,), order=2)
    ga.check_grads(lambda x: fn(x, **kwargs), (np.float64(0.8),), order=2)


@pytest.mark.parametrize("case, fn, jax_name, kwargs, formula", ELEMENTWISE, ids=IDS)
def test_derivatives_at_kinks_zero_and_large_x_match_jax(case, fn, jax_name, kwargs, formula):
    """First and second derivatives where finite differences cannot judge: relu at 0, relu6 at
    0 and 6, leaky_relu and elu at 0, and |x| up to 1e4."""
    x = np.concatenate([[0.0, 6.0, 1e-8, -1e-8, 5.9, 6.1], LARGE])
    first = ga.elementwise_grad(lambda t: fn(t, **kwargs))
    ours = [first(x), ga.elementwise_grad(first)(x)]
    with _jax64() as jax:
        f = lambda t: getattr(jax.nn, jax_name)(t, **kwargs)
        theirs = [np.asarray(jax.vmap(d)(x)) for d in (jax.grad(f), jax.grad(jax.grad(f)))]
    for order, (mine, want) in enumerate(zip(ours, theirs), start=1):
        # atol: 1 - tanh**2 near saturation cancels (in JAX's rule as in ours)
        np.testing.assert_allclose(mine, want, rtol=1e-12, atol=1e-13,
                                   err_msg=f"{case}, derivative of order {order} at {x}")


def test_derivatives_at_kinks_are_jaxs_choices():
    """JAX's documented choices (they run without jax installed)."""
    assert float(ga.grad(nn.relu)(0.0)) == 0.0
    assert float(ga.grad(nn.relu6)(0.0)) == 0.0 and float(ga.grad(nn.relu6)(6.0)) == 0.0
    assert float(ga.grad(nn.leaky_relu)(0.0)) == 1.0
    assert float(ga.grad(lambda x: nn.elu(x, alpha=0.5))(0.0)) == 0.5
    assert float(ga.grad(nn.gelu)(0.0)) == 0.5 == float(ga.grad(nn.silu)(0.0))


def test_gelu_derivative_stays_finite_where_the_cubic_overflows():
    for x, slope in [(1e200, 1.0), (-1e200, 0.0)]:
        assert float(ga.grad(nn.gelu)(x)) == slope
        assert float(ga.grad(ga.grad(nn.gelu))(x)) == 0.0
    g = ga.grad(lambda x: gnp.sum(nn.gelu(x)))(np.array([3e19, -3e19], np.float32))
    np.testing.assert_array_equal(g, [1.0, 0.0])


def test_stable_for_huge_inputs():
    x = np.array([-1e4, 1e4])
    np.testing.assert_array_equal(nn.softplus(x), [0.0, 1e4])
    np.testing.assert_array_equal(nn.log_sigmoid(x), [-1e4, 0.0])
    np.testing.assert_array_equal(nn.sigmoid(x), [0.0, 1.0])
    for fn, want in [(nn.softplus, [0.0, 1.0]), (nn.log_sigmoid, [1.0, 0.0]),
                     (nn.sigmoid, [0.0, 0.0]), (nn.silu, [0.0, 1.0])]:
        np.testing.assert_array_equal(ga.grad(lambda x, fn=fn: gnp.sum(fn(x)))(x), want)


# ---- softmax and log_softmax ------------------------------------------------------------------
AXES = [-1, 0, None, (0, 2)]


def _logits(dtype=np.float64):
    x = 4.0 * np.random.default_rng(3).standard_normal((3, 4, 5))
    x[0, 0, :] += 1e4                                    # a slice far from 0: exp overflows
    return x.astype(dtype)


def _mask():
    mask = np.random.default_rng(4).uniform(size=(3, 4, 5)) > 0.4
    mask[1, 2, :] = False                                # one slice selects nothing
    return mask


@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_values_match_jax(name, axis):
    for dtype, rtol in [(np.float64, 1e-13), (np.float32, 1e-5)]:
        x = _logits(dtype)
        atol = 4 * np.finfo(dtype).eps * np.max(np.abs(x))    # x itself is known to its ulp
        for where in (None, _mask()):
            got = getattr(nn, name)(x, axis=axis, where=where)
            assert got.dtype == dtype
            with _jax64() as jax:
                want = _jax_value(jax, lambda a, w=where: getattr(jax.nn, name)(a, axis=axis, where=w),
                                  x, dtype)
            np.testing.assert_allclose(got, want, rtol=rtol, atol=atol,
                                       err_msg=f"{name} {axis} {where is None}")


def test_softmax_formulas_and_masks():
    x = _logits()
    for axis in AXES:
        p = nn.softmax(x, axis=axis)
        np.testing.assert_allclose(np.sum(p, axis=axis), 1.0, rtol=1e-14)
        seen = p > 1e-300                                # log(p) where p has not underflowed
        np.testing.assert_allclose(nn.log_softmax(x, axis=axis)[seen], np.log(p[seen]),
                                   rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(nn.log_softmax(x, axis=axis),
                                   x - nn.logsumexp(x, axis=axis, keepdims=True), rtol=1e-14,
                                   atol=1e-15 * np.max(np.abs(x)))
    mask = _mask()
    p = nn.softmax(x, where=mask)
    assert np.all(p[~mask] == 0.0) and np.all(np.isfinite(p))
    sums = np.sum(p, axis=-1)
    np.testing.assert_allclose(sums[np.any(mask, axis=-1)], 1.0, rtol=1e-14)
    assert sums[1, 2] == 0.0                             # nothing selected: all zeros
    logp = nn.log_softmax(x, where=mask)
    assert np.all(logp[~mask] == -np.inf)
    np.testing.assert_allclose(logp[mask], np.log(p[mask]), rtol=1e-12, atol=1e-12)
    row = nn.softmax(np.array([1.0, np.nan, 2.0]))
    assert np.all(np.isnan(row))                         # NaN input: a NaN row, as JAX
    with pytest.raises(TypeError, match="softmax: where must be a boolean array"):
        nn.softmax(x, where=mask.astype(int))


@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_derivatives(name, axis):
    x = 2.0 * np.random.default_rng(5).standard_normal((2, 3, 4))
    mask = np.random.default_rng(6).uniform(size=(2, 3, 4)) > 0.3
    mask[0, 1, :] = False
    fn = getattr(nn, name)
    ga.check_grads(lambda x: fn(x, axis=axis), (x,), order=2)
    if name == "log_softmax":                 # -inf outside the mask: keep finite entries only
        ga.check_grads(lambda x: gnp.where(mask, fn(x, axis=axis, where=mask), 0.0), (x,),
                       order=2)
    else:
        ga.check_grads(lambda x: fn(x, axis=axis, where=mask), (x,), order=2)
    g = ga.grad(lambda x: gnp.sum(nn.softmax(x * 1e3)[..., 0]))(x)
    assert np.all(np.isfinite(g))


@pytest.mark.gpu
def test_cupy_matches_numpy():
    import cupy
    x = _inputs()
    for case, fn, _, kwargs, _ in ELEMENTWISE:
        got = fn(cupy.asarray(x), **kwargs)
        assert isinstance(got, cupy.ndarray), case
        np.testing.assert_allclose(cupy.asnumpy(got), fn(x, **kwargs), rtol=1e-12,
                                   equal_nan=True, err_msg=case)
    logits, mask = _logits(), _mask()
    for name in ("softmax", "log_softmax"):
        got = getattr(nn, name)(cupy.asarray(logits), where=cupy.asarray(mask))
        np.testing.assert_allclose(cupy.asnumpy(got), getattr(nn, name)(logits, where=mask),
                                   rtol=1e-12)
