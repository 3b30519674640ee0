"""Special functions evaluated by name where the arrays live, with errors that name them.

`backend.special_function` picks `cupyx.scipy.special`, gpuad's Numba ufuncs or
`scipy.special`; this adds the TypeError for complex input to a function without complex loops.
The Bessel functions NumPy has (`numpy.i0`, in gpuad/numpy/bessel.py) and all of
`gpuad.scipy.special` are declared with it.
"""
import numpy as np

from .. import backend

# What SciPy says of complex input to the functions it defines for real input only, plus where
# to look instead.
_COMPLEX_HINTS = {"gammaln": " For the complex log-gamma use special.loggamma.",
                  "polygamma": " (It is also the derivative of digamma: digamma of complex input "
                               "has a value but no derivative.)"}


def special_call(name, *args):
    """`backend.special_function(name, *args)`; complex input to a function without complex
    loops raises a TypeError that names the function (NumPy's names only the ufunc's types)."""
    try:
        return backend.special_function(name, *args)
    except TypeError:
        if not any(np.iscomplexobj(a) for a in args):
            raise
        dtypes = ", ".join(str(getattr(a, "dtype", type(a).__name__)) for a in args)
        raise TypeError(f"special.{name}: complex input ({dtypes}) is not supported: SciPy "
                        f"defines {name} for real input only.{_COMPLEX_HINTS.get(name, '')}") \
            from None


def special_impl(name):
    """The forward function of the special function `name`: `impl(*args)` on raw arrays."""
    return lambda *args: special_call(name, *args)
