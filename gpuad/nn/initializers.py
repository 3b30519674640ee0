"""`gpuad.nn` initializers: Glorot, He and orthogonal draws, on the host from a seed or a
`numpy.random.Generator`, placed on the default backend's device."""
import math

import numpy as np

from .. import backend


def _generator(key, name):
    if isinstance(key, np.random.Generator):
        return key
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        return np.random.default_rng(int(key))
    raise TypeError(f"{name}: key must be an int seed or a numpy.random.Generator, got "
                    f"{type(key).__name__}")


def _fans(shape, name):
    shape = tuple(int(n) for n in shape)
    if len(shape) == 0:
        raise ValueError(f"{name}: shape () has no fan-in; give a shape with at least one axis")
    if len(shape) == 1:
        return shape[0], shape[0]
    return math.prod(shape[:-1]), shape[-1]


def _place(values, dtype):
    return backend.to_device_array(np.asarray(values, dtype=dtype))


def _check_float(dtype, name):
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"{name}: dtype must be a floating type (float32, float64), got {dtype}")
    return dtype


def glorot_uniform(key, shape, dtype=np.float64):
    """Glorot & Bengio (2010) uniform: U(-a, a) with `a = sqrt(6 / (fan_in + fan_out))`.

    Args:
      key: an int seed or a `numpy.random.Generator` (advanced by the draw).
      shape: the array's shape; the last axis is the output axis, the product of the others is
        the fan-in (a 1-d shape uses its length for both).
      dtype: a floating dtype.

    Returns:
      An array of `shape` and `dtype` on the default backend.

    Example:
      >>> w = glorot_uniform(0, (3, 4))     # |w| <= sqrt(6 / 7)
    """
    dtype = _check_float(dtype, "glorot_uniform")
    fan_in, fan_out = _fans(shape, "glorot_uniform")
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return _place(_generator(key, "glorot_uniform").uniform(-limit, limit, shape), dtype)


def glorot_normal(key, shape, dtype=np.float64):
    """Glorot & Bengio (2010) normal: N(0, 2 / (fan_in + fan_out)). Args as `glorot_uniform`.

    Example:
      >>> w = glorot_normal(np.random.default_rng(0), (64, 32), dtype=np.float32)
    """
    dtype = _check_float(dtype, "glorot_normal")
    fan_in, fan_out = _fans(shape, "glorot_normal")
    std = math.sqrt(2.0 / (fan_in + fan_out))
    return _place(std * _generator(key, "glorot_normal").standard_normal(shape), dtype)


def he_normal(key, shape, dtype=np.float64):
    """He et al. (2015) normal for ReLU layers: N(0, 2 / fan_in). Args as `glorot_uniform`.

    Example:
      >>> w = he_normal(0, (128, 64))
    """
    dtype = _check_float(dtype, "he_normal")
    fan_in, _ = _fans(shape, "he_normal")
    return _place(math.sqrt(2.0 / fan_in) * _generator(key, "he_normal").standard_normal(shape),
                  dtype)


def orthogonal(key, shape, gain=1.0, dtype=np.float64):
    """Saxe et al. (2014) orthogonal: a random matrix with orthonormal rows or columns, times
    `gain`.

    The array is viewed as a matrix (product of the leading axes, last axis); the QR
    decomposition of a Gaussian matrix, with the signs of R's diagonal folded into Q, gives a
    uniformly distributed (Haar) orthogonal factor. For a square matrix `w.T @ w = gain**2 I`.

    Example:
      >>> w = orthogonal(0, (4, 4))
      >>> bool(np.allclose(w.T @ w, np.eye(4)))
      True
    """
    dtype = _check_float(dtype, "orthogonal")
    rows, cols = _fans(shape, "orthogonal")
    if len(tuple(shape)) == 1:
        rows = 1
    a = _generator(key, "orthogonal").standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _place(gain * q.reshape(shape), dtype)


def _zeros(shape, dtype):
    return _place(np.zeros(shape), dtype)
