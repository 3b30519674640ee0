"""Behaviour of gpuad/numpy/numerical.py: values equal NumPy's, the gradients the docstrings
promise at NaNs and order statistics, and error messages (derivatives: tests/cases_numerical.py)."""
import warnings

import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp

RNG = np.random.default_rng(5)
X = RNG.standard_normal((4, 5))
V = RNG.standard_normal(5)
COORDS = np.cumsum(RNG.uniform(0.5, 1.0, 5))
Y_NAN = X.copy()
Y_NAN[0, 1] = Y_NAN[2, 3] = np.nan
KNOTS = np.array([-1.0, -0.3, 0.2, 1.0])
FP = RNG.standard_normal(4)
XS = np.array([-2.0, -1.0, -0.5, 0.0, 0.2, 0.9, 1.0, 1.5])
A3, B3 = RNG.standard_normal((4, 3)), RNG.standard_normal(3)

SAME_AS_NUMPY = [
    ("diff", lambda m: m.diff(X, 2, axis=0, prepend=1.0, append=X[:1])),
    ("diff_default", lambda m: m.diff(V)),
    ("gradient", lambda m: m.gradient(X)),
    ("gradient_edge2", lambda m: m.gradient(X, 0.5, COORDS, edge_order=2)),
    ("gradient_axis", lambda m: m.gradient(X, axis=1)),
    ("convolve_full", lambda m: m.convolve(V, V[:3])),
    ("convolve_valid", lambda m: m.convolve(V[:2], V, "valid")),
    ("convolve_same", lambda m: m.convolve(V, V[:4], "same")),
    ("nansum", lambda m: m.nansum(Y_NAN, axis=0)),
    ("nanmean", lambda m: m.nanmean(Y_NAN, axis=1, keepdims=True)),
    ("nanvar", lambda m: m.nanvar(Y_NAN, ddof=1)),
    ("nanstd", lambda m: m.nanstd(Y_NAN, axis=(0, 1))),
    ("ptp", lambda m: m.ptp(X, axis=0)),
    ("median_even", lambda m: m.median(X[:, :4], axis=1)),
    ("median_odd", lambda m: m.median(X, axis=1, keepdims=True)),
    ("quantile", lambda m: m.quantile(X, [0.0, 0.3, 1.0], axis=(0, 1))),
    ("percentile", lambda m: m.percentile(X, 70, axis=0, keepdims=True)),
    ("partition", lambda m: m.partition(X, 2, axis=1)),
    ("partition_flat", lambda m: m.partition(X, [1, 3], axis=None)),
    ("interp", lambda m: m.interp(XS, KNOTS, FP)),
    ("interp_left_right", lambda m: m.interp(XS, KNOTS, FP, left=-3.0, right=5.0)),
    ("interp_one_knot", lambda m: m.interp(XS, [0.5], [2.0])),
    ("choose", lambda m: m.choose(np.array([[0, 1, 2], [2, 1, 0]]),
                                  [X[:2, :3], V[:3], 4.0])),
    ("choose_clip", lambda m: m.choose(np.array([0, 5, -1]), [V[:3], V[2:]], mode="clip")),
    ("select", lambda m: m.select([X > 0, X < -1], [X, X ** 2], 7.0)),
    ("piecewise", lambda m: m.piecewise(X, [X < 0, X > 0.5], [lambda v: v ** 2, np.sin, 3.0])),
    ("piecewise_single_condition", lambda m: m.piecewise(V, V > 0, [np.sin])),
    ("piecewise_scalar", lambda m: m.piecewise(np.float64(0.3), [True, False], [np.sin, 2.0])),
    ("vander", lambda m: m.vander(V)),
    ("vander_increasing", lambda m: m.vander(V, 3, increasing=True)),
    ("meshgrid_xy", lambda m: m.meshgrid(V, V[:3], V[:2])),
    ("meshgrid_ij_sparse", lambda m: m.meshgrid(V, V[:3], indexing="ij", sparse=True)),
    ("polyval", lambda m: m.polyval(V, X)),
    ("trapezoid", lambda m: m.trapezoid(X)),
    ("trapezoid_x", lambda m: m.trapezoid(X, COORDS)),
    ("trapezoid_x_full", lambda m: m.trapezoid(X, X * 2, axis=0)),
    ("trapezoid_dx", lambda m: m.trapezoid(X, dx=0.3, axis=0)),
    ("cross", lambda m: m.cross(A3, B3)),
    ("cross_axes", lambda m: m.cross(A3.T, B3, axisa=0, axisc=0)),
    ("cross_3_and_2", lambda m: m.cross(A3, B3[:2])),
    ("cross_2_and_2", lambda m: m.cross(A3[:, :2], B3[:2])),
]


@pytest.mark.parametrize("name,fn", SAME_AS_NUMPY, ids=[n for n, _ in SAME_AS_NUMPY])
def test_values_equal_numpy(name, fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # NumPy's 2-vector cross products
        expected = fn(np)
        got = fn(gnp)
    if isinstance(expected, (tuple, list)):
        assert isinstance(got, tuple) and len(got) == len(expected)
    else:
        expected, got = [expected], [got]
    for e, g in zip(expected, got):
        assert np.shape(g) == np.shape(e)
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12)


def test_nan_reductions_give_zero_gradient_at_nans():
    for fn in (gnp.nansum, gnp.nanmean, gnp.nanvar, gnp.nanstd):
        g = ga.grad(lambda x: fn(x))(Y_NAN)
        assert np.all(np.isfinite(g))
        assert g[0, 1] == 0.0 and g[2, 3] == 0.0


def test_median_gradient_splits_between_middle_elements():
    x = np.array([4.0, 1.0, 3.0, 2.0])
    np.testing.assert_allclose(ga.grad(gnp.median)(x), [0.0, 0.0, 0.5, 0.5])
    np.testing.assert_allclose(ga.grad(gnp.median)(x[:3]), [0.0, 0.0, 1.0])  # median 3


def test_quantile_gradient_follows_interpolation_weights():
    x = np.array([10.0, 0.0, 30.0, 20.0, 40.0])
    # q (n - 1) = 0.3 * 4 = 1.2: weights 0.8 on the 2nd smallest (10), 0.2 on the 3rd (20)
    np.testing.assert_allclose(ga.grad(lambda x: gnp.quantile(x, 0.3))(x),
                               [0.8, 0.0, 0.0, 0.2, 0.0])


def test_numpy_median_on_traced_array_dispatches():
    x = np.array([3.0, 1.0, 2.0])
    np.testing.assert_allclose(ga.grad(lambda x: np.median(x))(x), [0.0, 0.0, 1.0])


def test_interp_gradient_in_x_is_the_slope():
    g = ga.grad(lambda x: gnp.sum(gnp.interp(x, KNOTS, FP)))(np.array([-0.6, 0.5, 2.0]))
    slopes = np.diff(FP) / np.diff(KNOTS)
    np.testing.assert_allclose(g, [slopes[0], slopes[2], 0.0])


def test_partition_gradient_follows_permutation():
    x = np.array([5.0, 1.0, 4.0, 2.0, 3.0])
    w = np.arange(5.0)
    g = ga.grad(lambda x: gnp.sum(gnp.partition(x, 2) * w))(x)
    np.testing.assert_allclose(g[np.argpartition(x, 2)], w)


ERRORS = [
    (lambda: gnp.diff(np.float64(1.0)), ValueError, "diff: the input must be at least"),
    (lambda: gnp.diff(V, -1), ValueError, "diff: order n must be"),
    (lambda: gnp.gradient(V[:2], edge_order=2), ValueError, "gradient: axis 0 .* needs at least 3"),
    (lambda: gnp.gradient(V, edge_order=3), ValueError, "gradient: edge_order must be 1 or 2"),
    (lambda: gnp.gradient(X, 1.0, 2.0, 3.0), TypeError, "gradient: give no spacing"),
    (lambda: gnp.gradient(V, np.arange(4.0)), ValueError, "gradient: the coordinates"),
    (lambda: gnp.convolve(V, V, "circular"), ValueError, "convolve: mode must be"),
    (lambda: gnp.convolve(X, V), ValueError, "convolve: both inputs must be 1-D"),
    (lambda: gnp.quantile(X, 1.5), ValueError, r"quantile: q must lie in \[0, 1\]"),
    (lambda: gnp.percentile(X, 150), ValueError, r"percentile: q must lie in \[0, 100\]"),
    (lambda: gnp.quantile(X, 0.5, method="nearest"), NotImplementedError,
     "quantile: method='nearest' is not supported"),
    (lambda: gnp.median(X, out=np.empty(5)), NotImplementedError, "median: out="),
    (lambda: gnp.interp(XS, KNOTS, FP[:3]), ValueError, "interp: xp and fp must have the same"),
    (lambda: gnp.interp(XS, KNOTS, FP, period=2.0), NotImplementedError, "interp: period="),
    (lambda: gnp.choose(np.array([0, 3]), [V[:2], V[2:4]]), ValueError,
     "choose: index values must lie in"),
    (lambda: gnp.choose(np.array([0.5]), [V[:1]]), TypeError, "choose: the index array must be"),
    (lambda: gnp.select([X > 0], [X, X]), ValueError, "select: condlist and choicelist"),
    (lambda: gnp.select([X], [X]), TypeError, "select: condlist\\[0\\] has dtype float64"),
    (lambda: gnp.piecewise(V, [V > 0], [np.sin, np.cos, np.exp]), ValueError,
     "piecewise: with 1 condition"),
    (lambda: gnp.vander(X), ValueError, "vander: x must be 1-D"),
    (lambda: gnp.meshgrid(V, indexing="xyz"), ValueError, "meshgrid: indexing must be"),
    (lambda: gnp.polyval(X, V), ValueError, "polyval: coefficients must be 1-D"),
    (lambda: gnp.trapezoid(X, V[:3]), ValueError, "trapezoid: x has 3 points"),
    (lambda: gnp.cross(X, X), ValueError, "cross: vectors must have 2 or 3 components"),
]


@pytest.mark.parametrize("fn,exc,match", ERRORS, ids=[m.split(":")[0] + str(i) for i, (_, _, m)
                                                       in enumerate(ERRORS)])
def test_errors_name_the_function_and_the_fix(fn, exc, match):
    with pytest.raises(exc, match=match):
        fn()


def test_value_dependent_choices_refuse_vmap_instead_of_mixing_the_batch():
    batch = RNG.standard_normal((3, 4))
    for fn in (gnp.nansum, lambda x: gnp.interp(x, KNOTS, FP), lambda x: gnp.partition(x, 1)):
        with pytest.raises(NotImplementedError, match="not supported under vmap"):
            ga.vmap(fn)(batch)
    np.testing.assert_allclose(ga.vmap(gnp.median)(batch), np.median(batch, axis=1))
