"""gpuad.scipy.stats values against scipy.stats; derivatives are checked from tests/cases_scipy.py."""
import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp
from gpuad.scipy import stats

st = pytest.importorskip("scipy.stats")
RNG = np.random.default_rng(11)
X = RNG.standard_normal((3, 4))
LOC = RNG.standard_normal(4)
SCALE = RNG.uniform(0.5, 2.0, 4)


@pytest.mark.parametrize("fn", ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"])
def test_norm(fn):
    np.testing.assert_allclose(getattr(stats.norm, fn)(X, LOC, SCALE),
                               getattr(st.norm, fn)(X, LOC, SCALE), rtol=1e-12)
    np.testing.assert_allclose(getattr(stats.norm, fn)(X), getattr(st.norm, fn)(X), rtol=1e-12)


def test_norm_tails_are_accurate():
    z = np.array([-60.0, -38.0, -20.0, -5.0, -0.1, 0.0, 0.1, 5.0, 20.0, 60.0])
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow is benign
        np.testing.assert_allclose(stats.norm.logcdf(z), st.norm.logcdf(z), rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(stats.norm.logsf(z), st.norm.logsf(z), rtol=1e-12, atol=1e-300)
        g = ga.elementwise_grad(stats.norm.logcdf)(z)
    assert np.all(np.isfinite(g))
    # d/dz log Phi(z) = phi(z) / Phi(z), finite far into the left tail
    np.testing.assert_allclose(g, np.exp(st.norm.logpdf(z) - st.norm.logcdf(z)), rtol=1e-10)


def test_norm_ppf_inverts_cdf():
    q = np.linspace(0.05, 0.95, 7)
    np.testing.assert_allclose(stats.norm.ppf(q, 1.5, 2.0), st.norm.ppf(q, 1.5, 2.0), rtol=1e-12)


def test_t():
    df = RNG.uniform(0.8, 6.0, 4)
    np.testing.assert_allclose(stats.t.logpdf(X, df, LOC, SCALE), st.t.logpdf(X, df, LOC, SCALE),
                               rtol=1e-12)
    np.testing.assert_allclose(stats.t.pdf(X, df), st.t.pdf(X, df), rtol=1e-12)


def test_gamma_including_outside_the_support():
    x = np.concatenate([RNG.uniform(0.1, 5.0, 6), [-1.0, 0.0]])
    a = np.concatenate([RNG.uniform(0.5, 4.0, 6), [2.0, 1.0]])
    np.testing.assert_allclose(stats.gamma.logpdf(x, a, 0.0, 1.5), st.gamma.logpdf(x, a, 0.0, 1.5),
                               rtol=1e-12)
    np.testing.assert_allclose(stats.gamma.pdf(x, a, -0.2), st.gamma.pdf(x, a, -0.2), rtol=1e-12)
    g = ga.grad(lambda x: stats.gamma.logpdf(x, 2.0).sum())(np.array([-1.0, 1.0]))
    np.testing.assert_allclose(g, [0.0, 0.0])  # outside: 0; at 1: (a - 1)/x - 1 = 0


def test_beta_including_outside_the_support():
    x = np.array([-0.5, 0.0, 0.2, 0.5, 0.9, 1.0, 1.5])
    for a, b in [(2.0, 3.0), (0.7, 1.4), (1.0, 1.0)]:
        np.testing.assert_allclose(stats.beta.logpdf(x, a, b), st.beta.logpdf(x, a, b),
                                   rtol=1e-12)
    np.testing.assert_allclose(stats.beta.pdf(x, 2.0, 3.0, -0.1, 1.3),
                               st.beta.pdf(x, 2.0, 3.0, -0.1, 1.3), rtol=1e-12)


def test_poisson():
    k = np.array([0, 1, 2, 5, 11, 2.5, -1])
    mu = RNG.uniform(0.3, 6.0, 7)
    np.testing.assert_allclose(stats.poisson.logpmf(k, mu), st.poisson.logpmf(k, mu), rtol=1e-12)
    np.testing.assert_allclose(stats.poisson.pmf(k, mu, loc=1), st.poisson.pmf(k, mu, loc=1),
                               rtol=1e-12)
    np.testing.assert_allclose(ga.grad(lambda m: stats.poisson.logpmf(3, m))(2.0), 3 / 2.0 - 1)


def test_multivariate_normal():
    a = RNG.standard_normal((3, 3))
    cov = a @ a.T + 3 * np.eye(3)
    mean = RNG.standard_normal(3)
    x = RNG.standard_normal((2, 5, 3))
    for xx in (x, x[0, 0]):
        np.testing.assert_allclose(stats.multivariate_normal.logpdf(xx, mean, cov),
                                   st.multivariate_normal.logpdf(xx, mean, cov), rtol=1e-12)
        np.testing.assert_allclose(stats.multivariate_normal.pdf(xx, mean, cov),
                                   st.multivariate_normal.pdf(xx, mean, cov), rtol=1e-12)
    np.testing.assert_allclose(stats.multivariate_normal.logpdf(x[0], mean, 2.0),
                               st.multivariate_normal.logpdf(x[0], mean, 2.0), rtol=1e-12)


def test_multivariate_normal_shape_error():
    with pytest.raises(ValueError, match=r"multivariate_normal.logpdf: x of shape \(4, 3\) has "
                                         r"points of 3 components, but mean None and cov "
                                         r"\(2, 2\) are of dimension 2"):
        stats.multivariate_normal.logpdf(np.ones((4, 3)), cov=np.eye(2))
    with pytest.raises(ValueError, match=r"multivariate_normal.logpdf: cov of shape \(2, 2\) "
                                         r"does not match x of shape \(4, 3\) and mean \(3,\): "
                                         r"expected \(3, 3\)"):
        stats.multivariate_normal.logpdf(np.ones((4, 3)), np.zeros(3), np.eye(2))


def test_dirichlet():
    alpha = RNG.uniform(0.5, 4.0, 3)
    x = RNG.uniform(0.1, 1.0, (3, 5))
    x /= x.sum(axis=0)
    np.testing.assert_allclose(stats.dirichlet.logpdf(x, alpha), st.dirichlet.logpdf(x, alpha),
                               rtol=1e-12)
    np.testing.assert_allclose(stats.dirichlet.pdf(x[:, 1], alpha),
                               st.dirichlet.pdf(x[:, 1], alpha), rtol=1e-12)


def test_dirichlet_shape_error():
    with pytest.raises(ValueError, match=r"dirichlet.logpdf: alpha must have shape \(K,\).*"
                                         r"x \(5, 3\) and alpha \(3,\)"):
        stats.dirichlet.logpdf(np.full((5, 3), 1 / 3), np.ones(3))


def test_cdfs_of_t_gamma_beta_poisson_match_scipy():
    import scipy.stats
    x = np.array([-1.5, -0.2, 0.3, 0.9, 2.5, 7.0])
    for ours, theirs, args in ((stats.t, scipy.stats.t, (3.5, 0.1, 1.3)),
                               (stats.gamma, scipy.stats.gamma, (2.5, -0.5, 1.2)),
                               (stats.beta, scipy.stats.beta, (2.5, 1.7, -2.0, 5.0))):
        for fn in ("cdf", "sf"):
            np.testing.assert_allclose(getattr(ours, fn)(x, *args), getattr(theirs, fn)(x, *args),
                                       rtol=1e-12, atol=1e-14)
    k = np.array([-1.0, 0.0, 2.0, 3.5, 7.0])
    np.testing.assert_allclose(stats.poisson.cdf(k, 2.3), scipy.stats.poisson.cdf(k, 2.3),
                               rtol=1e-12)
    np.testing.assert_allclose(stats.poisson.sf(k, 2.3), scipy.stats.poisson.sf(k, 2.3),
                               rtol=1e-12)


def test_cdf_derivative_in_a_shape_parameter_names_the_argument():
    with pytest.raises(NotImplementedError, match="gammainc: the derivative with respect to a"):
        ga.grad(lambda a: gnp.sum(stats.gamma.cdf(np.array([0.5, 2.0]), a)))(2.5)


def test_entropy_and_gammasgn_match_scipy():
    import scipy.special
    import scipy.stats

    from gpuad.scipy import special
    p = np.array([[0.2, 1.0], [0.5, 0.3], [1.3, 0.7]])
    np.testing.assert_allclose(stats.entropy(p), scipy.stats.entropy(p), rtol=1e-12)
    np.testing.assert_allclose(stats.entropy(p, p[::-1], base=3.0),
                               scipy.stats.entropy(p, p[::-1], base=3.0), rtol=1e-12)
    x = np.array([-2.5, -0.5, 1.5, 3.2])
    np.testing.assert_array_equal(special.gammasgn(x), scipy.special.gammasgn(x))
    assert ga.grad(lambda x: gnp.sum(special.gammasgn(x) * x))(x).tolist() == \
        scipy.special.gammasgn(x).tolist()  # a constant factor: no derivative of its own


@pytest.mark.parametrize("fn", ["logpdf", "pdf", "cdf", "sf", "logcdf", "logsf"])
def test_chi2_matches_scipy_including_the_edge_of_the_support(fn):
    x = np.array([-1.0, 0.0, 1e-7, 0.3, 1.0, 2.5, 7.0, 30.0, 80.0])
    for df in (0.7, 1.0, 2.0, 3.5, 10.0):
        for args in ((), (0.2, 1.7)):
            with np.errstate(divide="ignore"):
                np.testing.assert_allclose(getattr(stats.chi2, fn)(x, df, *args),
                                           getattr(st.chi2, fn)(x, df, *args), rtol=1e-12,
                                           atol=0)
    df = RNG.uniform(0.5, 6.0, 4)
    np.testing.assert_allclose(getattr(stats.chi2, fn)(X + 2.0, df, LOC, SCALE),
                               getattr(st.chi2, fn)(X + 2.0, df, LOC, SCALE), rtol=1e-12)


def test_chi2_logpdf_derivative_in_df_and_the_cdf_refusal():
    x, df = np.array([0.4, 1.7, 5.0]), 3.3
    # d/d df log p = (log(x / 2) - digamma(df / 2)) / 2
    import scipy.special
    np.testing.assert_allclose(ga.grad(lambda d: gnp.sum(stats.chi2.logpdf(x, d)))(df),
                               np.sum(0.5 * (np.log(x / 2) - scipy.special.digamma(df / 2))),
                               rtol=1e-12)
    for name in ("cdf", "sf", "logcdf", "logsf"):
        fn = getattr(stats.chi2, name)
        with pytest.raises(NotImplementedError, match=r"gammaincc?: the derivative with "
                                                      r"respect to a .*df / 2. of stats\.chi2"):
            ga.grad(lambda d, fn=fn: gnp.sum(fn(x, d)))(df)
        with pytest.raises(NotImplementedError, match=r"df / 2. of stats\.chi2"):
            ga.jvp(lambda d, fn=fn: fn(x, d), (df,), (1.0,))


@pytest.mark.parametrize("name,args", [("gamma", (2.5,)), ("gamma", (0.4, 0.3, 2.0)),
                                       ("chi2", (3.0,)), ("beta", (2.0, 3.0)),
                                       ("beta", (0.5, 40.0)), ("beta", (30.0, 0.7)),
                                       ("t", (2.5,)), ("t", (30.0, 1.0, 0.5))])
def test_tails_of_cdf_sf_and_their_logs_keep_their_digits(name, args):
    lo, hi = {"gamma": (1e-6, 60.0), "chi2": (1e-6, 90.0), "beta": (1e-9, 1 - 1e-6),
              "t": (-1e3, 1e3)}[name]
    x = np.concatenate([np.linspace(lo, hi, 25), [lo * 10, hi * 0.999]])
    if name == "beta":
        x = np.concatenate([x, [0.999999, 0.9999]])
    for fn in ("cdf", "sf", "logcdf", "logsf"):
        np.testing.assert_allclose(getattr(getattr(stats, name), fn)(x, *args),
                                   getattr(getattr(st, name), fn)(x, *args), rtol=1e-11, atol=0,
                                   err_msg=f"{name}.{fn}{args}")


def _rank_2_covariance():
    a = RNG.standard_normal((3, 2))
    mean = RNG.standard_normal(3)
    return a, mean, a @ a.T


def test_multivariate_normal_singular_covariance_matches_scipy():
    a, mean, cov = _rank_2_covariance()
    on = mean + RNG.standard_normal((2, 4, 2)) @ a.T
    off = on + 0.1 * RNG.standard_normal(on.shape)
    for x in (on, off, on[0, 0], np.concatenate([on[0], off[0]])):
        for fn in ("logpdf", "pdf"):
            ours = getattr(stats.multivariate_normal, fn)(x, mean, cov, allow_singular=True)
            expected = getattr(st.multivariate_normal, fn)(x, mean, cov, allow_singular=True)
            assert np.shape(ours) == np.shape(expected)
            np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-300)
    assert np.all(stats.multivariate_normal.logpdf(off, mean, cov, allow_singular=True) == -np.inf)
    # the gradient in x is zero off the support, -cov^+ (x - mean) on it
    g = ga.grad(lambda x: gnp.sum(stats.multivariate_normal.logpdf(x, mean, cov,
                                                                   allow_singular=True)))
    np.testing.assert_array_equal(g(off), 0.0)
    np.testing.assert_allclose(g(on), -(on - mean) @ np.linalg.pinv(cov), rtol=1e-10,
                               atol=1e-12)


def test_multivariate_normal_refuses_singular_and_indefinite_covariances_like_scipy():
    a, mean, cov = _rank_2_covariance()
    x = mean + a @ np.array([0.3, -0.2])
    with pytest.raises(np.linalg.LinAlgError):
        st.multivariate_normal.logpdf(x, mean, cov)
    # cholesky of this rank-2 matrix succeeds with a pivot near 1e-8: it must not be used
    with pytest.raises(np.linalg.LinAlgError, match=r"multivariate_normal.logpdf: cov of shape "
                                                    r"\(3, 3\) is singular \(rank 2 of 3.*"
                                                    r"allow_singular=True"):
        stats.multivariate_normal.logpdf(x, mean, cov)
    with pytest.raises(np.linalg.LinAlgError, match="singular"):
        stats.multivariate_normal.pdf(x, mean, np.diag([1.0, 2.0, 0.0]))
    with pytest.raises(ValueError, match="semidefinite; its smallest eigenvalue is -"):
        stats.multivariate_normal.logpdf(x, mean, cov - 0.1 * np.eye(3), allow_singular=True)
    with pytest.raises(ValueError, match="allow_singular=True takes one covariance matrix"):
        stats.multivariate_normal.logpdf(x, mean, np.stack([cov, np.eye(3)]), allow_singular=True)
    # nearly singular (condition number 1e12): SciPy's cutoff is eigenvalues below 1e6 eps max
    near = np.diag([1.0, 1.0, 1e-12])
    with pytest.raises(np.linalg.LinAlgError):
        st.multivariate_normal.logpdf(np.zeros(3), cov=near)
    with pytest.raises(np.linalg.LinAlgError):
        stats.multivariate_normal.logpdf(np.zeros(3), cov=near)


def test_multivariate_normal_entropy_matches_scipy():
    _, mean, cov = _rank_2_covariance()
    spd = cov + np.eye(3)
    for kw in ({}, {"cov": spd}, {"mean": mean, "cov": spd}, {"cov": cov}, {"cov": 0.7},
               {"mean": np.zeros(3), "cov": 2.5}, {"mean": mean, "cov": [1.0, 2.0, 0.5]}):
        np.testing.assert_allclose(stats.multivariate_normal.entropy(**kw),
                                   st.multivariate_normal.entropy(**kw), rtol=1e-12)
    stack = np.stack([spd, cov + 2 * np.eye(3)])
    np.testing.assert_allclose(stats.multivariate_normal.entropy(cov=stack),
                               [st.multivariate_normal.entropy(cov=c) for c in stack],
                               rtol=1e-12)
    # d entropy / d cov = cov^-1 / 2 (pseudo-inverse when singular), in the lower triangle
    for c in (spd, cov):
        p = 0.5 * np.linalg.pinv(c)
        np.testing.assert_allclose(ga.grad(lambda c: stats.multivariate_normal.entropy(cov=c))(c),
                                   np.tril(2 * p, -1) + np.diag(np.diag(p)), rtol=1e-10,
                                   atol=1e-12)


def test_multivariate_normal_infers_the_dimension_as_scipy():
    x = np.array([0.1, -0.7, 1.3])
    cases = [(x, {"cov": 2.0}),                 # dimension 1 (from cov): three points
             (x, {"mean": 0.5, "cov": 2.0}),    # dimension 1 (from mean)
             (x, {}), (x[0], {}), (x[:, None], {"mean": [0.2]}),
             (x, {"mean": np.zeros(3), "cov": 1.5}),     # one point of dimension 3
             (x, {"mean": np.zeros(3), "cov": np.array([1.0, 2.0, 3.0])})]  # a diagonal
    for xx, kw in cases:
        ours = stats.multivariate_normal.logpdf(xx, **kw)
        expected = st.multivariate_normal.logpdf(xx, **kw)
        assert np.shape(ours) == np.shape(expected), kw
        np.testing.assert_allclose(ours, expected, rtol=1e-12)
