"""gnp.fft: values equal NumPy's, the rules obey the transforms' identities, dtypes, errors."""
import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp

RNG = np.random.default_rng(11)
X = RNG.standard_normal((4, 6))
Z = RNG.standard_normal((4, 6)) + 1j * RNG.standard_normal((4, 6))


@pytest.mark.parametrize("name,arg,kw", [
    ("fft", Z, {}), ("ifft", Z, {"n": 8}), ("rfft", X, {"axis": 0}), ("irfft", Z, {"n": 9}),
    ("fft2", Z, {"norm": "ortho"}), ("ifft2", Z, {}), ("rfft2", X, {}), ("irfft2", Z, {}),
    ("fftn", Z, {"s": (3, 3), "axes": (0, 1)}), ("ifftn", Z, {"axes": (1,)}), ("rfftn", X, {"norm": "forward"}),
    ("irfftn", Z, {"s": (4, 5), "axes": (0, 1)}), ("fftshift", Z, {}), ("ifftshift", X, {"axes": (1,)}),
    ("hfft", Z, {}), ("hfft", Z, {"n": 7, "axis": 0, "norm": "ortho"}),
    ("hfft", X, {"norm": "forward"}), ("ihfft", X, {}),
    ("ihfft", X, {"n": 9, "axis": 0, "norm": "forward"})])
def test_values_are_numpys(name, arg, kw):
    got = getattr(gnp.fft, name)(arg, **kw)
    np.testing.assert_allclose(got, getattr(np.fft, name)(arg, **kw), rtol=1e-12, atol=1e-12)
    traced = ga.vjp(lambda a: getattr(gnp.fft, name)(a, **kw), arg)[0]  # traced forward too
    np.testing.assert_allclose(traced, got, rtol=1e-12, atol=1e-12)


def test_vjp_of_fft_is_fft_and_of_ifft_is_ifft():
    # the DFT matrix is symmetric: the transpose of fft is fft itself (no conjugation)
    g = RNG.standard_normal(6) + 1j * RNG.standard_normal(6)
    _, vjp_fft = ga.vjp(gnp.fft.fft, Z[0])
    np.testing.assert_allclose(vjp_fft(g)[0], np.fft.fft(g), rtol=1e-12)
    _, vjp_ifft = ga.vjp(lambda z: gnp.fft.ifft(z, norm="ortho"), Z[0])
    np.testing.assert_allclose(vjp_ifft(g)[0], np.fft.ifft(g, norm="ortho"), rtol=1e-12)


def test_linearity_and_parseval_give_the_gradients():
    # ortho FFT preserves the norm: grad of sum|fft(x)|^2 = grad of sum x^2 = 2x
    g = ga.grad(lambda x: gnp.sum(gnp.abs(gnp.fft.fft(x, norm="ortho")) ** 2))(X[0])
    np.testing.assert_allclose(g, 2 * X[0], rtol=1e-12)
    # irfft(rfft(x)) = x: the gradient of <w, irfft(rfft(x))> is w
    w = RNG.standard_normal(6)
    g = ga.grad(lambda x: gnp.sum(w * gnp.fft.irfft(gnp.fft.rfft(x), n=6)))(X[0])
    np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)
    # JVP of a linear map is the map of the tangent
    t = RNG.standard_normal((4, 6))
    _, tangent = ga.jvp(lambda x: gnp.fft.rfft2(x, s=(3, 8)), (X,), (t,))
    np.testing.assert_allclose(tangent, np.fft.rfft2(t, s=(3, 8)), rtol=1e-12)


def test_single_precision_stays_single():
    x32 = X.astype(np.float32)
    g = ga.grad(lambda x: gnp.sum(gnp.abs(gnp.fft.rfft(x)) ** 2))(x32)
    assert g.dtype == np.float32
    z64 = Z.astype(np.complex64)
    g = ga.grad(lambda z: gnp.sum(gnp.real(gnp.fft.irfft(gnp.fft.fft(z)))))(z64)
    assert g.dtype == np.complex64


def test_errors_name_the_function_and_the_fix():
    with pytest.raises(ValueError, match="fft.fft: norm='unit'"):
        gnp.fft.fft(Z, norm="unit")
    with pytest.raises(ValueError, match="fft.fftn: s has 1 sizes for 2 axes"):
        gnp.fft.fftn(Z, s=(3,), axes=(0, 1))
    with pytest.raises(TypeError, match="rfft transforms real input"):
        ga.grad(lambda z: gnp.sum(gnp.abs(gnp.fft.rfft(z))))(Z)
    with pytest.raises(ValueError, match="not distinct axes"):
        gnp.fft.fft2(Z, axes=(1, 1))


def test_jacobians_batch_the_transform_natively():
    from gpuad.batching import BATCHING_RULES
    assert "fft" in BATCHING_RULES
    f = lambda x: gnp.fft.irfft(gnp.fft.rfft(gnp.sin(x)) * np.arange(4.0), n=6)  # noqa: E731
    np.testing.assert_allclose(ga.jacrev(f)(X[0]), ga.jacfwd(f)(X[0]), rtol=1e-10, atol=1e-12)
    batch = RNG.standard_normal((3, 2, 5))
    np.testing.assert_allclose(ga.vmap(lambda r: gnp.fft.fft2(r, s=(3, 4)))(batch),
                               np.fft.fft2(batch, s=(3, 4)), rtol=1e-12, atol=1e-12)


@pytest.mark.gpu
def test_cupy_arrays_transform_on_the_device():
    import cupy as cp
    z = cp.asarray(Z)
    g = ga.grad(lambda z: gnp.sum(gnp.abs(gnp.fft.fft2(z, norm="ortho")) ** 2))(z)
    assert isinstance(g, cp.ndarray)
    np.testing.assert_allclose(cp.asnumpy(g), 2 * np.conj(Z), rtol=1e-10)


def test_frequencies_are_numpys_on_the_default_backend():
    np.testing.assert_array_equal(gnp.fft.fftfreq(5, 0.1), np.fft.fftfreq(5, 0.1))
    np.testing.assert_array_equal(gnp.fft.rfftfreq(6), np.fft.rfftfreq(6))
    with pytest.raises(ValueError, match="fft.hfft: norm='both'"):
        gnp.fft.hfft(Z, norm="both")
