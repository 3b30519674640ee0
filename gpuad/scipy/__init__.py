"""Differentiable versions of SciPy functions: `gpuad.scipy.special`."""
from . import special
