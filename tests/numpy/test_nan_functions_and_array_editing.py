"""Behaviour of the second batch of NumPy functions (shape helpers in gpuad/numpy/manipulation.py,
the rest in gpuad/numpy/numerical.py): values equal NumPy's, gradients at NaNs and infinities,
and error messages (derivatives: tests/cases_nan_and_array_editing.py)."""
import warnings

import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp

RNG = np.random.default_rng(11)
X = RNG.standard_normal((4, 6))
X3 = RNG.standard_normal((2, 4, 6))
V = RNG.standard_normal(7)
Y_NAN = X.copy()
Y_NAN[0, 1] = Y_NAN[2, 3] = Y_NAN[2, 5] = Y_NAN[3, 0] = np.nan
Z = RNG.standard_normal((3, 4)) + 1j * RNG.standard_normal((3, 4))
SPECIAL = np.array([1.5, np.nan, np.inf, -np.inf, -0.25])
Z_SPECIAL = SPECIAL.astype(complex)
Z_SPECIAL.imag = SPECIAL[::-1]

SAME_AS_NUMPY = [
    ("degrees", lambda m: m.degrees(V)),
    ("radians", lambda m: m.radians(V)),
    ("fabs", lambda m: m.fabs(V)),
    ("fabs_int", lambda m: m.fabs(np.array([-3, 2], np.int8))),
    ("hsplit", lambda m: m.hsplit(X, 3)),
    ("hsplit_1d", lambda m: m.hsplit(V[:6], [2, 5])),
    ("vsplit", lambda m: m.vsplit(X, [1, 3])),
    ("dsplit", lambda m: m.dsplit(X3, 2)),
    ("rollaxis", lambda m: m.rollaxis(X3, 2)),
    ("rollaxis_start", lambda m: m.rollaxis(X3, 0, 3)),
    ("rollaxis_negative", lambda m: m.rollaxis(X3, -1, -2)),
    ("rollaxis_same", lambda m: m.rollaxis(X3, 1, 2)),
    ("rot90", lambda m: m.rot90(X)),
    ("rot90_k2", lambda m: m.rot90(X, 2)),
    ("rot90_k3_axes", lambda m: m.rot90(X3, 3, axes=(2, 0))),
    ("rot90_negative_k", lambda m: m.rot90(X3, -1, axes=(1, -1))),
    ("append_flat", lambda m: m.append(X, V)),
    ("append_axis", lambda m: m.append(X, X[:2], axis=0)),
    ("insert_scalar", lambda m: m.insert(V, 2, 9.0)),
    ("insert_list", lambda m: m.insert(V, [1, 1, 5], [7.0, 8.0, 9.0])),
    ("insert_axis1", lambda m: m.insert(X, 1, [1.0, 2.0, 3.0, 4.0], axis=1)),
    ("insert_axis0_seq", lambda m: m.insert(X, [0, 4], V[:6], axis=0)),
    ("insert_flat", lambda m: m.insert(X, 3, 0.5)),
    ("insert_slice", lambda m: m.insert(V, slice(0, 4, 2), -1.0)),
    ("delete_int", lambda m: m.delete(V, 3)),
    ("delete_list_axis", lambda m: m.delete(X, [0, 2], axis=1)),
    ("delete_slice", lambda m: m.delete(X, slice(None, None, 2), axis=0)),
    ("delete_mask", lambda m: m.delete(V, V > 0)),
    ("delete_flat", lambda m: m.delete(X, [1, 7, 20])),
    ("nan_to_num", lambda m: m.nan_to_num(SPECIAL)),
    ("nan_to_num_values", lambda m: m.nan_to_num(SPECIAL, nan=-1.0, posinf=9.0, neginf=-9.0)),
    ("nan_to_num_complex", lambda m: m.nan_to_num(Z_SPECIAL)),
    ("nan_to_num_int", lambda m: m.nan_to_num(np.array([1, 2]))),
    ("real_if_close", lambda m: m.real_if_close(V + 1e-16j)),
    ("real_if_close_not", lambda m: m.real_if_close(Z)),
    ("real_if_close_real", lambda m: m.real_if_close(V)),
    ("nanmax", lambda m: m.nanmax(Y_NAN)),
    ("nanmax_axis", lambda m: m.nanmax(Y_NAN, axis=1, keepdims=True)),
    ("nanmin_axis", lambda m: m.nanmin(Y_NAN, axis=0)),
    ("nanprod", lambda m: m.nanprod(Y_NAN, axis=1)),
    ("nanmax_int", lambda m: m.nanmax(np.array([[3, -1], [2, 5]]), axis=0)),
    ("nanprod_int", lambda m: m.nanprod(np.array([3, -1, 4]))),
    ("nancumsum_int", lambda m: m.nancumsum(np.array([3, -1, 4], np.int32))),
    ("nancumsum", lambda m: m.nancumsum(Y_NAN, axis=0)),
    ("nancumsum_flat", lambda m: m.nancumsum(Y_NAN)),
    ("nancumprod", lambda m: m.nancumprod(Y_NAN, axis=1)),
    ("nanmedian", lambda m: m.nanmedian(Y_NAN)),
    ("nanmedian_axis", lambda m: m.nanmedian(Y_NAN, axis=1)),
    ("nanmedian_keepdims", lambda m: m.nanmedian(Y_NAN, axis=0, keepdims=True)),
    ("nanquantile", lambda m: m.nanquantile(Y_NAN, [0.0, 0.3, 0.8, 1.0], axis=1)),
    ("nanpercentile", lambda m: m.nanpercentile(Y_NAN, 35, axis=0)),
    ("nanpercentile_axes", lambda m: m.nanpercentile(Y_NAN, [10, 90], axis=(0, 1),
                                                     keepdims=True)),
    ("cumulative_sum", lambda m: m.cumulative_sum(V)),
    ("cumulative_sum_initial", lambda m: m.cumulative_sum(X, axis=1, include_initial=True)),
    ("cumulative_prod", lambda m: m.cumulative_prod(X, axis=0)),
    ("cumulative_prod_initial", lambda m: m.cumulative_prod(V, include_initial=True)),
    ("ediff1d", lambda m: m.ediff1d(X)),
    ("ediff1d_ends", lambda m: m.ediff1d(V, to_end=[1.0, 2.0], to_begin=-3.0)),
    ("block", lambda m: m.block([[X[:2, :2], X[:2, 2:]], [X[2:, :3], X[2:, 3:5], X[2:, 5:]]])),
    ("block_1d", lambda m: m.block([V, V[:2]])),
    ("block_mixed_ndim", lambda m: m.block([[X[:1], V[:6]], [X[1:], X[1:]]])),
    ("block_scalar", lambda m: m.block(V)),
    ("diagflat", lambda m: m.diagflat(X[:2, :2])),
    ("diagflat_k", lambda m: m.diagflat(V[:3], -2)),
    ("cov", lambda m: m.cov(X)),
    ("cov_rowvar_bias", lambda m: m.cov(X, rowvar=False, bias=True)),
    ("cov_y", lambda m: m.cov(X[:2], X[2:], ddof=0)),
    ("cov_1d", lambda m: m.cov(V)),
    ("cov_weights", lambda m: m.cov(X, fweights=[1, 2, 1, 3, 1, 1],
                                    aweights=np.linspace(0.2, 1.0, 6))),
    ("cov_aweights_ddof0", lambda m: m.cov(X, aweights=np.linspace(0.2, 1.0, 6), ddof=0)),
    ("cov_complex", lambda m: m.cov(Z)),
    ("corrcoef", lambda m: m.corrcoef(X)),
    ("corrcoef_y", lambda m: m.corrcoef(X[0], X[1])),
    ("corrcoef_rowvar", lambda m: m.corrcoef(X, rowvar=False)),
    ("i0", lambda m: m.i0(V)),
    ("heaviside", lambda m: m.heaviside(np.array([-1.0, 0.0, 2.0]), 0.5)),
    ("nanargmax", lambda m: m.nanargmax(Y_NAN, axis=1)),
    ("nanargmin", lambda m: m.nanargmin(Y_NAN)),
    ("histogram", lambda m: m.histogram(V, bins=3)),
]


@pytest.mark.parametrize("name,fn", SAME_AS_NUMPY, ids=[n for n, _ in SAME_AS_NUMPY])
def test_values_equal_numpy(name, fn):
    expected, got = fn(np), fn(gnp)
    if isinstance(expected, (tuple, list)):
        assert len(got) == len(expected)
    else:
        expected, got = [expected], [got]
    for e, g in zip(expected, got):
        assert np.shape(g) == np.shape(e)
        assert np.asarray(g).dtype == np.asarray(e).dtype, name
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12)


def test_traced_values_equal_numpy():
    """The same functions on traced inputs (ga.vjp) give NumPy's values too."""
    for fn in (lambda m, x: m.nanmedian(x, axis=1), lambda m, x: m.nanmax(x, axis=0),
               lambda m, x: m.insert(x, [1, 3], 0.5, axis=1), lambda m, x: m.rot90(x, 3),
               lambda m, x: m.corrcoef(m.nan_to_num(x)), lambda m, x: m.nan_to_num(x, nan=2.0),
               lambda m, x: m.delete(x, [0, 2], axis=0), lambda m, x: m.nancumprod(x)):
        out, _ = ga.vjp(lambda x: fn(gnp, x), Y_NAN)
        np.testing.assert_allclose(out, fn(np, Y_NAN), rtol=1e-12)


def test_nan_to_num_gradient_is_one_at_finite_values_only():
    g = ga.grad(lambda x: gnp.sum(gnp.nan_to_num(x, posinf=5.0, neginf=-5.0) * 3.0))(SPECIAL)
    np.testing.assert_array_equal(g, [3.0, 0.0, 0.0, 0.0, 3.0])


def test_nan_reductions_give_zero_gradient_at_nans():
    mask = np.isnan(Y_NAN)
    for fn in (gnp.nanmax, gnp.nanmin, gnp.nanprod, gnp.nanmedian,
               lambda x: gnp.nancumsum(x, axis=1), lambda x: gnp.nancumprod(x, axis=0),
               lambda x: gnp.nanquantile(x, 0.3, axis=0)):
        g = ga.grad(lambda x: gnp.sum(fn(x)))(Y_NAN)
        assert np.all(np.isfinite(g))
        assert np.all(g[mask] == 0.0)


def test_nanmax_gradient_goes_to_the_max():
    g = ga.grad(lambda x: gnp.nanmax(x))(Y_NAN)
    expected = np.zeros_like(Y_NAN)
    expected[np.unravel_index(np.nanargmax(Y_NAN), Y_NAN.shape)] = 1.0
    np.testing.assert_array_equal(g, expected)


def test_all_nan_lanes_give_nan_and_warn_as_numpy():
    a = np.array([[np.nan, np.nan], [1.0, 3.0]])
    for name, args in (("nanmax", ()), ("nanmin", ()), ("nanmedian", ()),
                       ("nanquantile", (0.4,))):
        with pytest.warns(RuntimeWarning, match="All-NaN"):
            got = getattr(gnp, name)(a, *args, axis=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            expected = getattr(np, name)(a, *args, axis=1)
        np.testing.assert_allclose(got, expected)


def test_fabs_refuses_complex_input():
    with pytest.raises(TypeError, match="fabs: complex"):
        gnp.fabs(Z)
    with pytest.raises(TypeError, match="fabs"):
        ga.grad(lambda z: gnp.sum(gnp.fabs(z)))(Z)


def test_fill_diagonal_plain_array_is_numpy():
    a, b = X[:3, :3].copy(), X[:3, :3].copy()
    assert gnp.fill_diagonal(a, 5.0) is None
    np.fill_diagonal(b, 5.0)
    np.testing.assert_array_equal(a, b)


def test_fill_diagonal_traced_array_points_to_at_and_where():
    def f(x):
        gnp.fill_diagonal(x, 0.0)
        return gnp.sum(x)
    with pytest.raises(TypeError, match=r"fill_diagonal.*at\[.*where"):
        ga.grad(f)(X[:3, :3])
    with pytest.raises(TypeError, match="fill_diagonal"):
        ga.grad(lambda v: gnp.sum(gnp.fill_diagonal(X[:3, :3].copy(), v)))(1.0)


@pytest.mark.parametrize("call,match", [
    (lambda: gnp.hsplit(np.float64(1.0), 2), "hsplit: the input must be at least 1-D"),
    (lambda: gnp.vsplit(V, 2), "vsplit: the input must be at least 2-D"),
    (lambda: gnp.dsplit(X, 2), "dsplit: the input must be at least 3-D"),
    (lambda: gnp.hsplit(X, 4), "split: an axis of length 6"),
    (lambda: gnp.rollaxis(X, 2), "rollaxis: axis 2 is out of bounds"),
    (lambda: gnp.rollaxis(X, 0, 3), "rollaxis: start 3"),
    (lambda: gnp.rot90(X, axes=(0, 0)), "rot90: axes"),
    (lambda: gnp.rot90(X, axes=(0, 1, 2)), "rot90: axes must name exactly 2"),
    (lambda: gnp.rot90(V), "rot90: axes"),
    (lambda: gnp.cumulative_sum(X), "cumulative_sum: axis is required"),
    (lambda: gnp.nanquantile(X, 1.5), r"nanquantile: q must lie in \[0, 1\]"),
    (lambda: gnp.nanpercentile(X, 101), r"nanpercentile: q must lie in \[0, 100\]"),
    (lambda: gnp.nanquantile(X, 0.5, method="nearest"), "nanquantile: method="),
    (lambda: gnp.cov(X3), "cov: m has more than 2 dimensions"),
    (lambda: gnp.cov(X, fweights=[1, 2]), "cov: fweights must be 1-D of length 6"),
    (lambda: gnp.cov(X, aweights=-np.ones(6)), "cov: aweights cannot be negative"),
    (lambda: gnp.block([[X], X]), "block: the lists in arrays are nested to different depths"),
    (lambda: gnp.block([]), "block: arrays is an empty list"),
])
def test_errors(call, match):
    with pytest.raises((ValueError, TypeError, NotImplementedError), match=match):
        call()


def test_block_refuses_tuples():
    with pytest.raises(TypeError, match="block: arrays is a tuple"):
        gnp.block((X, X))


def test_error_classes():
    with pytest.raises(TypeError):
        gnp.cov(X, fweights=np.full(6, 1.5))
    with pytest.raises(TypeError):
        gnp.ediff1d(np.arange(3), to_begin=0.5)
    with pytest.raises(NotImplementedError, match="nanmax: out="):
        gnp.nanmax(X, out=np.empty(()))


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_cov_degrees_of_freedom_warning():
    with pytest.warns(RuntimeWarning, match="degrees of freedom"):
        got = gnp.cov(V[:1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        np.testing.assert_array_equal(got, np.cov(V[:1]))
