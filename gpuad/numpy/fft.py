"""`gnp.fft`: NumPy's discrete Fourier transforms, differentiable, on NumPy and CuPy arrays.

Every transform is one primitive, `fft_p`, with the kind (fftn, ifftn, rfftn, irfftn), the sizes
`s`, the `axes` and the `norm` as parameters; the 1-D and 2-D functions are the n-D ones on one
or two axes. The transforms are linear, so each JVP is the same transform of the tangent, and
each VJP is the transpose. The DFT matrix is symmetric (not Hermitian-transposed: gpuad's VJPs
are transposes, autograd's and JAX's convention), so:

    fftn   transposes to fftn with the same norm,   ifftn to ifftn;
    rfftn  (real -> half spectrum) transposes to: zero-pad the half spectrum to the full
           length, fftn, real part;
    irfftn (half spectrum -> real) transposes to: ifftn, keep the half spectrum, and double
           every bin but the zero and Nyquist ones (each stands for itself and its conjugate
           twin in the full spectrum);

with cropping and zero-padding to `s` transposed to padding and cropping back. The imaginary
parts of an irfft's zero and Nyquist bins are ignored by NumPy, so they get zero cotangent.
"""
import numpy as np

from .. import backend
from ..trace import Primitive, namespace_of, primal_value
from .batch_rules import axis_rule
from .elementwise import conjugate, real
from .helpers import is_complex, shape_of
from .indexing import getitem
from .manipulation import pad, roll
from .shapes import asarray_traced

_KINDS = ("fftn", "ifftn", "rfftn", "irfftn")
_NORMS = ("backward", "ortho", "forward")


def _impl(x, *, kind, s, axes, norm):
    return getattr(backend.namespace(x).fft, kind)(x, s=s, axes=axes, norm=norm)


def _fit(a, shape, axes):
    """`a` cropped or zero-padded along `axes` to the sizes of `shape` there."""
    have = shape_of(a)
    crop = [slice(None)] * len(have)
    widths = [(0, 0)] * len(have)
    for ax in axes:
        if have[ax] > shape[ax]:
            crop[ax] = slice(0, shape[ax])
        elif have[ax] < shape[ax]:
            widths[ax] = (0, shape[ax] - have[ax])
    if any(c != slice(None) for c in crop):
        a = getitem(a, tuple(crop))
    if any(w != (0, 0) for w in widths):
        a = pad(a, widths)
    return a


def _fft_vjp(ans, x, g, *, kind, s, axes, norm):
    shape = shape_of(x)
    if kind == "fftn":
        c = fftn(g, axes=axes, norm=norm)
    elif kind == "ifftn":
        c = ifftn(g, axes=axes, norm=norm)
    elif kind == "rfftn":
        full = list(shape_of(g))
        full[axes[-1]] = s[-1]
        c = real(fftn(_fit(g, tuple(full), axes[-1:]), axes=axes, norm=norm))
    else:
        c = ifftn(g, axes=axes, norm=norm)
        half = list(shape_of(c))
        half[axes[-1]] = s[-1] // 2 + 1
        c = _fit(c, tuple(half), axes[-1:]) * _twin_weights(s[-1], len(half), axes[-1], x, g)
    if kind != "rfftn" and not is_complex(x):
        c = real(c)  # a real input's cotangent is the real part (Re <g, J t> for real t)
    return _fit(c, shape, axes)


def _twin_weights(n, ndim, axis, x, g):
    """2 for the bins of a half spectrum that stand for two bins of the full one, else 1."""
    m = n // 2 + 1
    w = np.full(m, 2.0)
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0
    shape = [1] * ndim
    shape[axis] = m
    real_dtype = np.finfo(x.dtype).dtype  # complex64 -> float32
    return backend.to_device_array(w.reshape(shape).astype(real_dtype),
                                   namespace_of(g))


fft_p = Primitive(
    "fft", _impl,
    vjp=[_fft_vjp], meta_only=(0,),  # the rules need only the input's shape and dtype
    jvp=[lambda ans, x, t, *, kind, s, axes, norm: _transform(t, kind, s, axes, norm)],
    batch=axis_rule("axes"))


def _transform(x, kind, s, axes, norm):
    return fft_p.bind(x, kind=kind, s=s, axes=axes, norm=norm)


def _prepare(name, a, s, axes, norm, kind):
    """Concrete parameters: the axes (non-negative), the sizes along them, the norm."""
    a = asarray_traced(a)
    shape = shape_of(a)
    ndim = len(shape)
    if norm is None:
        norm = "backward"
    if norm not in _NORMS:
        raise ValueError(f"fft.{name}: norm={norm!r}; use None, 'backward', 'ortho' or 'forward'.")
    if axes is None:
        axes = tuple(range(ndim)) if s is None else tuple(range(ndim - len(s), ndim))
    try:
        axes = tuple(int(ax) % ndim if -ndim <= int(ax) < ndim else None for ax in axes)
    except ZeroDivisionError:
        axes = (None,)
    if ndim == 0 or None in axes or len(set(axes)) != len(axes):
        raise ValueError(f"fft.{name}: axes {axes} are not distinct axes of an array of shape "
                         f"{shape}.")
    if s is None:
        s = [shape[ax] for ax in axes]
        if kind == "irfftn":
            s[-1] = 2 * (shape[axes[-1]] - 1)
    elif len(s) != len(axes):
        raise ValueError(f"fft.{name}: s has {len(s)} sizes for {len(axes)} axes; give one "
                         f"size per axis.")
    s = tuple(int(n) for n in s)
    if any(n < 1 for n in s):
        raise ValueError(f"fft.{name}: invalid transform sizes {s}; each must be >= 1.")
    if kind == "rfftn" and is_complex(a):
        raise TypeError(f"fft.{name}: the input is complex ({a.dtype}); rfft "
                        f"transforms real input. Use fft.{name[1:]} for complex input.")
    return a, s, axes, norm


def _public(transform, name):
    transform.__name__ = transform.__qualname__ = name
    transform.__doc__ = f"`numpy.fft.{name}`, differentiable."
    return transform


def _on_axes(kind, name, default_axes):
    """The n-D form (default_axes None: all axes) or the 2-D form (the last two)."""
    def transform(a, s=None, axes=default_axes, norm=None):
        a, s, axes, norm = _prepare(name, a, s, axes, norm, kind)
        return _transform(a, kind, s, axes, norm)
    return _public(transform, name)


def _one_axis(kind, name):
    def transform(a, n=None, axis=-1, norm=None):
        a, s, axes, norm = _prepare(name, a, None if n is None else (n,), (axis,), norm, kind)
        return _transform(a, kind, s, axes, norm)
    return _public(transform, name)


fftn, ifftn, rfftn, irfftn = (_on_axes(k, k, None) for k in _KINDS)
fft, ifft, rfft, irfft = (_one_axis(k, k[:-1]) for k in _KINDS)
fft2, ifft2, rfft2, irfft2 = (_on_axes(k, k[:-1] + "2", (-2, -1)) for k in _KINDS)


def _roll_half(x, axes, sign):
    """x rolled by sign * (n // 2) along each of `axes` (all axes when None)."""
    x = asarray_traced(x)
    shape = shape_of(x)
    if axes is None:
        axes = tuple(range(len(shape)))
    elif isinstance(axes, int):
        axes = (axes,)
    return roll(x, tuple(sign * (shape[ax] // 2) for ax in axes), tuple(axes))


def fftshift(x, axes=None):
    """`numpy.fft.fftshift`, differentiable (a roll: the zero frequency to the centre)."""
    return _roll_half(x, axes, 1)


def ifftshift(x, axes=None):
    """`numpy.fft.ifftshift`, differentiable (the inverse roll of fftshift)."""
    return _roll_half(x, axes, -1)


def fftfreq(n, d=1.0):
    """`numpy.fft.fftfreq` on the default backend (a constant)."""
    return backend.default_namespace().fft.fftfreq(n, primal_value(d))


def rfftfreq(n, d=1.0):
    """`numpy.fft.rfftfreq` on the default backend (a constant)."""
    return backend.default_namespace().fft.rfftfreq(n, primal_value(d))


# hfft and ihfft are irfft and rfft of the conjugate signal, with the norm's direction swapped.
_SWAPPED_NORM = {None: "forward", "backward": "forward", "ortho": "ortho", "forward": "backward"}


def _swapped(name, norm):
    if norm not in _SWAPPED_NORM:
        raise ValueError(f"fft.{name}: norm={norm!r}; use None, 'backward', 'ortho' or "
                         f"'forward'.")
    return _SWAPPED_NORM[norm]


def hfft(a, n=None, axis=-1, norm=None):
    """`numpy.fft.hfft`: the real spectrum of a signal with Hermitian symmetry, given by its
    first half `a`; differentiable."""
    a = asarray_traced(a)
    return irfft(conjugate(a) if is_complex(a) else a, n, axis, _swapped("hfft", norm))


def ihfft(a, n=None, axis=-1, norm=None):
    """`numpy.fft.ihfft`: the inverse of hfft, the half spectrum of a real signal;
    differentiable."""
    return conjugate(rfft(a, n, axis, _swapped("ihfft", norm)))
