"""Differentiation cases at the degenerate points users hit, where the mathematics is finite
(found and imported by tests/cases.py): exact zeros under powers and moduli, one-element
variances. Only functions that are smooth at those points are here, so finite differences
apply.
"""
import numpy as np

import gpuad.numpy as gnp

from . import cases_complex  # noqa: F401  (its complex domains)
from .cases import DOMAINS, add

D = ("degenerate",)


def _complex_with_zeros(shape, rng):
    z = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    z.flat[::3] = 0.0
    return z


def _complex_centered_zero(shape, rng):
    """Complex lanes (along axis 0) [z, 0, -z]: mean exactly 0, so the middle element is exactly
    its mean."""
    z = rng.standard_normal(shape[1:]) + 1j * rng.standard_normal(shape[1:])
    return np.stack([z, np.zeros_like(z), -z])


DOMAINS["complex_with_zeros"] = _complex_with_zeros
DOMAINS["complex_centered_zero"] = _complex_centered_zero


# ---- exact zeros under powers and moduli --------------------------------------------------------
add("power_int_exponents_with_zeros", lambda x: x ** np.array([0.0, 1.0, 2.0, 3.0]),
    ((3, 4), "with_zeros"), order=3, float32=False, tags=D)
add("power_python_zero_with_zeros", lambda x: gnp.power(x, 0) + gnp.float_power(x, 0.0),
    ((5,), "with_zeros"), order=2, float32=False, tags=D)
add("abs_squared_with_zeros", lambda x: gnp.abs(x) ** 2 + gnp.abs(x) ** 3,
    ((7,), "with_zeros"), order=2, tags=D)
# first order only: no finite second derivative of |z| at 0 gives |z|^2 its own (see gnp.abs)
add("complex_abs_squared_with_zeros", lambda z: gnp.sum(gnp.abs(z) ** 2),
    ((7,), "complex_with_zeros"), order=1, float32=False, tags=D)
add("power_spectrum_with_zero_bin",
    lambda x: gnp.abs(gnp.fft.fft(gnp.concatenate([x, -x]), n=16)) ** 2, ((4,), "real"),
    order=1, tags=D)

# ---- one element per group, and complex data equal to its mean --------------------------------
for axis, keepdims, shape in [(1, False, (3, 1)), (1, True, (3, 1)), (None, False, (1,)),
                              ((0, 2), True, (1, 2, 1))]:
    add(f"std_one_element axis={axis} keep={keepdims}{shape}",
        lambda x, axis=axis, keepdims=keepdims: gnp.std(x, axis=axis, keepdims=keepdims),
        (shape, "real"), order=2, tags=D)
    add(f"var_one_element axis={axis} keep={keepdims}{shape}",
        lambda x, axis=axis, keepdims=keepdims: gnp.var(x, axis=axis, keepdims=keepdims),
        (shape, "real"), order=2, tags=D)
add("std_one_element_ddof_negative", lambda x: gnp.std(x, axis=0, ddof=-1), ((1, 3), "real"),
    order=2, tags=D)
add("complex_var_centered_zero", lambda z: gnp.var(z, axis=0), ((3, 2), "complex_centered_zero"),
    order=2, float32=False, tags=D)
add("complex_std_centered_zero", lambda z: gnp.std(z, axis=0),
    ((3, 2), "complex_centered_zero"), order=2, float32=False, tags=D)
