"""Differentiable versions of SciPy functions: `gpuad.scipy.special`, `.stats`, `.signal`,
`.linalg` and `.integrate`. SciPy itself is optional: importing these modules never needs it."""
from . import special, linalg, stats, signal, integrate
