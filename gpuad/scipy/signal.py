"""`gpuad.scipy.signal`: N-dimensional convolution and correlation, differentiable in both
inputs (a composition of pad, indexing and tensordot: every derivative comes from their rules).

The direct method: the windows of `in1` that meet `in2` are gathered into one array of shape
(output..., in2...), then contracted with `in2` flipped. Memory is output.size * in2.size, the
operation count of the direct method; for large kernels an FFT method would be cheaper.
Reference semantics, for 1-D 'full' mode:

    out[n] = sum_k in1[n - k] * in2[k],   0 <= n < len(in1) + len(in2) - 1
"""

from .. import numpy as gnp
from ..numpy.helpers import shape_of
from ..numpy.shapes import asarray_traced
from ..numpy.signal import direct_convolve as _convolve

_MODES = ("full", "valid", "same")


def _check(op_name, in1, in2, mode):
    if mode not in _MODES:
        raise ValueError(f"{op_name}: mode must be one of {_MODES}, got {mode!r}")
    s1, s2 = shape_of(in1), shape_of(in2)
    if len(s1) != len(s2):
        raise ValueError(f"{op_name}: in1 and in2 must have the same number of dimensions, got "
                         f"shapes {s1} and {s2}; add size-1 axes to the smaller one")
    if mode == "valid" and not (all(a >= b for a, b in zip(s1, s2))
                                or all(a <= b for a, b in zip(s1, s2))):
        raise ValueError(f"{op_name}: in mode 'valid' one input must be at least as large as "
                         f"the other in every dimension, got shapes {s1} and {s2}")


def convolve(in1, in2, mode="full"):
    """`scipy.signal.convolve` (direct method) for N-d arrays, differentiable in both inputs.

    Args:
      in1, in2: arrays with the same number of dimensions.
      mode: 'full' (every overlap, shape s1 + s2 - 1), 'valid' (full overlaps only, shape
        |s1 - s2| + 1; one input must be at least as large as the other in every dimension) or
        'same' (the centre of 'full', shaped like in1).

    Returns:
      The convolution, in the promoted dtype of the inputs.

    Example:
      >>> convolve(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]))
      array([0. , 1. , 2.5, 4. , 1.5])
    """
    in1, in2 = asarray_traced(in1), asarray_traced(in2)
    _check("signal.convolve", in1, in2, mode)
    return _convolve(in1, in2, mode)


def correlate(in1, in2, mode="full"):
    """`scipy.signal.correlate` (direct method) for real N-d arrays, differentiable in both
    inputs: the convolution with `in2` flipped along every axis,

        out[n] = sum_k in1[n + k] * in2[k]   (shifted so that 'full' starts at n = -(len2 - 1))

    See `convolve` for the modes.

    Example:
      >>> correlate(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]))
      array([0.5, 2. , 3.5, 3. , 0. ])
    """
    in1, in2 = asarray_traced(in1), asarray_traced(in2)
    _check("signal.correlate", in1, in2, mode)
    s1, s2 = shape_of(in1), shape_of(in2)
    if mode == "valid" and len(s1) and not all(a >= b for a, b in zip(s1, s2)):
        # SciPy swaps the inputs and reverses the result: correlate(in2, in1) flipped.
        return gnp.flip(_convolve(in2, gnp.flip(in1), mode))
    return _convolve(in1, gnp.flip(in2) if len(s2) else in2, mode)
