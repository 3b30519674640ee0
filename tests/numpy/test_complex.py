"""Complex numbers: the gradient convention against JAX's and closed forms, dtypes, errors."""
import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp

Z = np.array([1.0 + 2.0j, 0.5 - 1.0j, -0.3 + 0.7j])


def test_grad_of_a_real_loss_is_the_conjugate_convention():
    # L = |z|^2 = x^2 + y^2: dL/dx - i dL/dy = 2x - 2iy = 2 conj(z) (autograd and JAX; PyTorch
    # returns the conjugate of this)
    np.testing.assert_allclose(ga.grad(lambda z: gnp.sum(gnp.abs(z) ** 2))(Z), 2 * np.conj(Z))
    # L = Re(z^2) = x^2 - y^2: 2x + 2iy = 2z
    np.testing.assert_allclose(ga.grad(lambda z: gnp.sum(gnp.real(z * z)))(Z), 2 * Z)
    # L = angle(z) = atan2(y, x): (-y - i x) / |z|^2 ... dL/dx = -y/r2, dL/dy = x/r2
    r2 = np.abs(Z) ** 2
    np.testing.assert_allclose(ga.grad(lambda z: gnp.sum(gnp.angle(z)))(Z),
                               (-Z.imag - 1j * Z.real) / r2)


def test_real_input_through_complex_ops_gets_a_real_gradient():
    x = np.array([1.5, -0.5, 0.25])
    c = 1.0 + 2.0j
    g = ga.grad(lambda x: gnp.sum(gnp.abs(x * c)))(x)
    assert g.dtype == np.float64
    np.testing.assert_allclose(g, np.sign(x) * abs(c))


def test_holomorphic_grad_is_the_complex_derivative():
    f = lambda z: gnp.sum(gnp.sin(z) * gnp.exp(z))  # noqa: E731
    want = np.cos(Z) * np.exp(Z) + np.sin(Z) * np.exp(Z)
    np.testing.assert_allclose(ga.holomorphic_grad(f)(Z), want)
    # second derivative, nested
    d2 = ga.holomorphic_grad(lambda z: ga.holomorphic_grad(lambda w: w ** 4)(z))(1.0 + 1.0j)
    np.testing.assert_allclose(d2, 12 * (1.0 + 1.0j) ** 2)


def test_errors_name_what_to_do():
    with pytest.raises(TypeError, match="holomorphic_grad"):
        ga.grad(lambda z: gnp.sum(z * z))(Z)
    with pytest.raises(TypeError, match="complex inputs"):
        ga.holomorphic_grad(lambda z: z * z)(1.5)
    with pytest.raises(TypeError, match="complex scalar"):
        ga.holomorphic_grad(lambda z: gnp.abs(z))(1.0 + 1.0j)


def test_complex64_stays_complex64():
    z = Z.astype(np.complex64)
    g = ga.grad(lambda z: gnp.sum(gnp.abs(gnp.exp(z) * z)))(z)
    assert g.dtype == np.complex64
    x = np.array([0.5, 1.5], dtype=np.float32)
    gx = ga.grad(lambda x: gnp.sum(gnp.real(x * np.complex64(1 - 1j)) ** 2))(x)
    assert gx.dtype == np.float32


def test_jvp_of_a_non_holomorphic_function():
    t = np.array([0.3 - 0.1j, 1.0 + 0.5j, -0.2 + 0.2j])
    _, tangent = ga.jvp(gnp.abs, (Z,), (t,))
    np.testing.assert_allclose(tangent, np.real(np.conj(Z) * t) / np.abs(Z))


def _abs2(z):
    return z.real ** 2 + z.imag ** 2


def test_modulus_at_zero_has_jax_slopes_and_no_nan():
    z = np.array([0j, 3 - 4j])
    np.testing.assert_array_equal(ga.grad(lambda z: gnp.sum(gnp.abs(z)))(z), [0.0, 0.6 + 0.8j])
    np.testing.assert_array_equal(ga.jvp(gnp.abs, (z,), (np.array([1 + 1j, 1j]),))[1],
                                  [0.0, -0.8])
    np.testing.assert_array_equal(ga.grad(lambda x, y: gnp.hypot(x, y), argnums=(0, 1))(0.0, 0.0),
                                  (0.0, 0.0))
    # at a zero bin the modulus of a spectrum: the gradient of the power is exact (Parseval:
    # sum |fft(x, n)|^2 = n |x|^2), at x = 0 too
    x = np.array([1.0, 1.0, 0.5, 0.5])  # fft(x, 8)[4] is exactly 0
    for at in (x, np.zeros(4)):
        power = lambda x: gnp.sum(gnp.abs(gnp.fft.fft(x, n=8)) ** 2)
        np.testing.assert_allclose(ga.grad(power)(at), 16 * at, atol=1e-12)
        # the spelling exact at second order too (see gnp.abs)
        exact = lambda x: gnp.sum(_abs2(gnp.fft.fft(x, n=8)))
        np.testing.assert_allclose(ga.hessian(exact)(at), 16 * np.eye(4), atol=1e-12)


@pytest.mark.parametrize("name", ["arcsin", "arccos", "arccosh", "arcsinh"])
def test_inverse_functions_on_their_branch_cuts_differentiate_numpys_side(name):
    # Points on the cuts (the real axis beyond +-1, below 1 for arccosh; the imaginary axis
    # beyond +-1j for arcsinh) with a zero of either sign: NumPy's value is the limit from the
    # side the zero's sign names, so along the cut the derivative is that side's (1 - z*z or
    # z*z + 1 would lose the sign for half of these points).
    t = np.array([2.0, -2.0, 1.5, -1.5, 0.5, -0.5])
    along = 1j if name == "arcsinh" else 1.0
    fn = getattr(gnp, name)
    for zero in (0.0, -0.0):
        def on_cut(t):
            return np.array([complex(zero, v) if along == 1j else complex(v, zero) for v in t])
        _, tangent = ga.jvp(fn, (on_cut(t),), (np.full(t.shape, along, complex),))
        h = 1e-6
        finite = (fn(on_cut(t + h)) - fn(on_cut(t - h))) / (2 * h)
        np.testing.assert_allclose(tangent, finite, atol=1e-7, err_msg=f"zero {zero}")
