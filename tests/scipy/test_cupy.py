"""gpuad.scipy and the new gnp.linalg rules on CuPy arrays: the same gradients as on NumPy."""
import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp
from gpuad.scipy import linalg as sla
from gpuad.scipy import signal, special, stats

RNG = np.random.default_rng(21)
X = RNG.uniform(0.3, 2.0, 6)
M = RNG.standard_normal((4, 4)) + 4.0 * np.eye(4)

FUNCTIONS = {
    "special": lambda x: gnp.sum(special.gammaln(x) + special.erf(x) * special.i0e(x)
                                 + special.xlogy(x, x + 1.0)),
    "stats": lambda x: gnp.sum(stats.norm.logpdf(x, 0.5, 2.0) + stats.gamma.logpdf(x, 2.0)),
    "signal": lambda x: gnp.sum(signal.convolve(x, gnp.sin(x[:3]), mode="same") ** 2),
    "fft_and_median": lambda x: gnp.median(gnp.abs(gnp.fft.rfft(x))) + gnp.sum(gnp.diff(x) ** 2),
}


def _on_host(fn, *args):
    """The NumPy reference `fn(*args)`; skipped where it needs SciPy and SciPy is missing (a GPU
    machine may have CuPy without SciPy)."""
    try:
        return fn(*args)
    except ImportError as exc:
        if "SciPy" not in str(exc):
            raise
        pytest.skip(f"the NumPy reference needs SciPy: {exc}")


@pytest.mark.gpu
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_gradients_match_numpy_on_cupy(name):
    import cupy as cp
    f = FUNCTIONS[name]
    g_host = _on_host(ga.grad(f), X)
    g_dev = ga.grad(f)(cp.asarray(X))
    assert isinstance(g_dev, cp.ndarray)
    np.testing.assert_allclose(cp.asnumpy(g_dev), g_host, rtol=1e-9, atol=1e-12)


@pytest.mark.gpu
def test_linalg_rules_on_cupy():
    import cupy as cp

    def f(m):
        s = gnp.linalg.svd(m, compute_uv=False)
        q, r = gnp.linalg.qr(m)
        tri = sla.solve_triangular(r, gnp.ones(4), lower=False)
        return gnp.sum(s) + gnp.sum(gnp.abs(q[:, 0]) ** 2 * tri) + gnp.sum(gnp.linalg.pinv(m))
    want = _on_host(ga.grad(f), M)
    np.testing.assert_allclose(cp.asnumpy(ga.grad(f)(cp.asarray(M))), want, rtol=1e-8,
                               atol=1e-10)


SPECIAL2 = {
    "ndtr": lambda x: special.ndtr(x - 1.0), "log_ndtr": lambda x: special.log_ndtr(-3.0 * x),
    "ndtri": lambda x: special.ndtri(x / 2.5), "rgamma": special.rgamma, "entr": special.entr,
    "gammainc": lambda x: special.gammainc(1.7, x), "betainc": lambda x: special.betainc(
        2.0, 3.0, x / 2.5), "kv": lambda x: special.kv(1.5, x), "kve": lambda x: special.kve(1, x),
    "yn": lambda x: special.yn(2, x), "exp1": special.exp1, "expi": special.expi,
    "expn": lambda x: special.expn(2, x), "zeta": lambda x: special.zeta(3.0, x),
    "spence": special.spence, "rel_entr": lambda x: special.rel_entr(x, x[::-1]),
    "iv": lambda x: special.iv(1.5, x), "ive": lambda x: special.ive(0.5, x),
    "jv": lambda x: special.jv(2.5, x), "yv": lambda x: special.yv(1.5, x),
}


@pytest.mark.gpu
@pytest.mark.parametrize("name", sorted(SPECIAL2))
def test_special_second_batch_on_cupy(name):
    """Same values and gradients as on NumPy, also where cupyx.scipy.special lacks the function
    (iv, ive, jv, yv, kv, kve, spence in CuPy 14: computed on the host by
    gpuad.backend.special_function)."""
    import cupy as cp
    f = lambda x: gnp.sum(SPECIAL2[name](x))  # noqa: E731
    value, grad = _on_host(f, X), _on_host(ga.grad(f), X)
    np.testing.assert_allclose(cp.asnumpy(f(cp.asarray(X))), value, rtol=1e-10)
    np.testing.assert_allclose(cp.asnumpy(ga.grad(f)(cp.asarray(X))), grad, rtol=1e-8,
                               atol=1e-12)
