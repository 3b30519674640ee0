"""gnp.fft: every transform with its n / s, axes and norm options, real and complex input."""
import gpuad.numpy as gnp

from . import cases_complex  # noqa: F401  (the complex domains)
from .cases import add

F = gnp.fft


def fadd(id, fun, *args, **kw):
    add(f"fft_{id}", fun, *args, float32=False, tags=("fft",), **kw)


for norm in (None, "ortho", "forward"):
    tag = norm or "backward"
    fadd(f"fft_{tag}", lambda a, norm=norm: F.fft(a, norm=norm), ((3, 5), "complex"))
    fadd(f"ifft_{tag}", lambda a, norm=norm: F.ifft(a, axis=0, norm=norm), ((4, 3), "complex"))
    fadd(f"rfft_{tag}", lambda a, norm=norm: F.rfft(a, norm=norm), ((2, 6), "real"))
    fadd(f"irfft_{tag}", lambda a, norm=norm: F.irfft(a, norm=norm), ((2, 4), "complex"))
    fadd(f"fftn_{tag}", lambda a, norm=norm: F.fftn(a, norm=norm), ((2, 3, 4), "complex"))
    fadd(f"irfftn_{tag}", lambda a, norm=norm: F.irfftn(a, norm=norm), ((3, 4), "complex"))
fadd("fft_real_input", F.fft, ((5,), "real"))
fadd("fft_n_pad", lambda a: F.fft(a, n=7), ((2, 5), "complex"))
fadd("fft_n_crop", lambda a: F.fft(a, n=3, axis=0), ((5, 2), "complex"))
fadd("ifft_real_input_n", lambda a: F.ifft(a, n=6), ((4,), "real"))
fadd("rfft_odd_n", lambda a: F.rfft(a, n=7), ((5,), "real"))
fadd("rfft_crop", lambda a: F.rfft(a, n=4, axis=0), ((6, 2), "real"))
fadd("irfft_odd_n", lambda a: F.irfft(a, n=7), ((4,), "complex"))
fadd("irfft_n_crop", lambda a: F.irfft(a, n=4), ((2, 5), "complex"))
fadd("irfft_n_pad", lambda a: F.irfft(a, n=12, axis=0), ((4, 2), "complex"))
fadd("fft2", F.fft2, ((2, 3, 4), "complex"))
fadd("ifft2_s", lambda a: F.ifft2(a, s=(3, 5)), ((4, 4), "complex"))
fadd("rfft2", F.rfft2, ((4, 5), "real"))
fadd("irfft2", F.irfft2, ((3, 4), "complex"))
fadd("irfft2_s_axes", lambda a: F.irfft2(a, s=(4, 6), axes=(0, 2)), ((3, 2, 4), "complex"))
fadd("fftn_axes", lambda a: F.fftn(a, axes=(0, 2)), ((3, 2, 4), "complex"))
fadd("ifftn_s", lambda a: F.ifftn(a, s=(2, 5)), ((3, 4), "complex"))
fadd("rfftn_s", lambda a: F.rfftn(a, s=(3, 5)), ((4, 4), "real"))
fadd("irfftn_s", lambda a: F.irfftn(a, s=(3, 5), norm="ortho"), ((2, 3), "complex"))
fadd("fftshift", F.fftshift, ((3, 4), "complex"))
fadd("ifftshift_axis", lambda a: F.ifftshift(a, axes=0), ((5, 2), "real"))
fadd("spectral_loss", lambda a: gnp.sum(gnp.abs(F.rfft(gnp.tanh(a))) ** 2), ((8,), "real"))
fadd("roundtrip", lambda a: F.irfft(F.rfft(a) * gnp.exp(-gnp.arange(4.0)), n=6), ((6,), "real"))
