import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gpuad as ga
import gpuad.numpy as gnp

REDUCE = [gnp.sum, gnp.mean, gnp.prod, gnp.var, gnp.std]


@settings(max_examples=30, deadline=None)
@given(data=st.data(), op=st.sampled_from(REDUCE), keepdims=st.booleans(),
       shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
def test_reductions_over_random_axes(data, op, keepdims, shape):
    axes = data.draw(st.lists(st.integers(0, len(shape) - 1), unique=True, max_size=len(shape)))
    axis = tuple(axes) if axes else None
    if op in (gnp.var, gnp.std) and int(np.prod([shape[a] for a in (axes or range(len(shape)))])) < 2:
        return  # the variance of one element is 0, where std is not differentiable
    x = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(0.2, 2.0), unique=True))
    if op is gnp.std:  # std is not differentiable where the variance is 0
        assume(np.all(np.var(x, axis=axis) > 1e-3))
    ga.check_grads(lambda x: op(x, axis=axis, keepdims=keepdims), (x,), order=1)


def test_max_ties_share_gradient():
    x = np.array([[3.0, 1.0, 3.0], [0.0, 5.0, 5.0]])
    np.testing.assert_allclose(ga.grad(lambda x: gnp.sum(gnp.max(x, axis=1)))(x),
                               [[0.5, 0, 0.5], [0, 0.5, 0.5]])


def test_prod_with_zeros_is_exact():
    x = np.array([2.0, 0.0, 3.0, 4.0])
    np.testing.assert_allclose(ga.grad(gnp.prod)(x), [0.0, 24.0, 0.0, 0.0])
    two_zeros = np.array([0.0, 0.0, 3.0])
    np.testing.assert_allclose(ga.grad(gnp.prod)(two_zeros), [0.0, 0.0, 0.0])
    # the second derivative d2/dx0 dx1 of x0 x1 x2 at (0, 0, 3) is 3
    h01 = ga.grad(lambda x: ga.grad(gnp.prod)(x)[0])(two_zeros)[1]
    assert h01 == 3.0


def test_axis_errors():
    # plain arrays take NumPy's own path (and messages); traced ones are checked by gpuad
    with pytest.raises(np.exceptions.AxisError, match="axis 2"):
        gnp.sum(np.ones((2, 2)), axis=2)
    with pytest.raises(np.exceptions.AxisError, match="sum: axis 2"):
        ga.grad(lambda x: gnp.sum(gnp.sum(x, axis=2)))(np.ones((2, 2)))
    with pytest.raises(ValueError, match="mean: repeated axis"):
        ga.grad(lambda x: gnp.mean(x, axis=(0, 0)))(np.ones((2, 2)))


def test_integer_reductions_pass_through():
    assert gnp.sum(np.arange(4)) == 6
    assert gnp.argmax(np.array([1, 5, 2])) == 1


# ---- array_like arguments: lists mixing traced values, arrays and Python numbers --------------
LIST_REDUCTIONS = {
    "sum": gnp.sum, "prod": gnp.prod, "max": gnp.max, "min": gnp.min, "amax": gnp.amax,
    "amin": gnp.amin, "mean": gnp.mean, "var": gnp.var, "std": gnp.std,
    "average": gnp.average, "median": gnp.median, "ptp": gnp.ptp,
    "quantile": lambda a, **kw: gnp.quantile(a, 0.3, **kw),
    "percentile": lambda a, **kw: gnp.percentile(a, 70.0, **kw),
    "nansum": gnp.nansum, "nanmean": gnp.nanmean, "nanvar": gnp.nanvar, "nanstd": gnp.nanstd,
    "nanmax": gnp.nanmax, "nanmin": gnp.nanmin, "nanprod": gnp.nanprod,
    "nanmedian": gnp.nanmedian, "cumsum": gnp.cumsum, "cumprod": gnp.cumprod,
    "norm": gnp.linalg.norm,
}


def _as_numpy(name):
    """NumPy's function of the same name, for the reference values."""
    if name == "norm":
        return np.linalg.norm
    if name in ("quantile", "percentile"):
        q = 0.3 if name == "quantile" else 70.0
        return lambda a, **kw: getattr(np, name)(a, q, **kw)
    return getattr(np, name)


@pytest.mark.parametrize("name", LIST_REDUCTIONS)
@pytest.mark.parametrize("axis", [None, 0])
def test_reductions_take_lists_of_traced_values(name, axis, rng):
    op = LIST_REDUCTIONS[name]
    kw = {} if axis is None else {"axis": axis}
    # a nested list of traced 0-d values, Python floats, NumPy scalars and 0-d arrays
    build = lambda x: [[x[0], 0.7 * x[1]], [np.float64(0.4), x[2] ** 2], [np.array(1.9), x[3]]]
    x = rng.uniform(0.5, 1.5, 4)
    expected = _as_numpy(name)(build(x), **kw)
    out = ga.jvp(lambda x: op(build(x), **kw), (x,), (x,))[0]
    np.testing.assert_allclose(out, expected, rtol=1e-14)
    ga.check_grads(lambda x: op(build(x), **kw), (x,), order=2)
    xs = rng.uniform(0.5, 1.5, (3, 4))
    if name.startswith("nan"):  # the NaN positions pick the pieces: refused under vmap
        with pytest.raises(NotImplementedError, match="not supported under vmap"):
            ga.vmap(lambda x: op(build(x), **kw))(xs)
        return
    np.testing.assert_allclose(ga.vmap(lambda x: op(build(x), **kw))(xs),
                               np.stack([_as_numpy(name)(build(x), **kw) for x in xs]),
                               rtol=1e-14)


def test_reductions_of_lists_of_arrays(rng):
    x, y = rng.standard_normal(3), rng.standard_normal(3)
    f = lambda x, y: gnp.std([x, y, np.ones(3)], axis=0) + gnp.mean((x, 2.0 * y), axis=1).sum()
    np.testing.assert_allclose(f(x, y), np.std([x, y, np.ones(3)], axis=0)
                               + np.mean((x, 2.0 * y), axis=1).sum())
    ga.check_grads(f, (x, y), order=2)
