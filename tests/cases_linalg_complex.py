"""Differentiation cases for the general eigenproblem (eig, eigvals) and for complex input to
svd, svdvals, qr, pinv, cholesky and eigh (found and imported by tests/cases.py).

Eigenvectors and singular vectors are defined only up to a phase per vector, so the cases
differentiate functions that do not depend on those phases: |V|^2 weighted, reconstructions
such as V diag(w) V^-1 or U diag(s) Vh, projectors u_j u_j^H, and the values themselves.
"""
import numpy as np

import gpuad.numpy as gnp
from gpuad.numpy import linalg as la

from . import cases_complex  # noqa: F401  (its complex domains)
from .cases import DOMAINS, add

L = ("linalg",)


def _conditioned_basis(shape, rng, complex_=False):
    n = shape[-1]
    p = rng.standard_normal(shape) + 2.5 * np.eye(n)
    if complex_:
        p = p + 0.5j * rng.standard_normal(shape)
    return p


def _general_real(shape, rng):
    """Real matrices P B P^-1 with eigenvalues well apart: 1.5, 3, ... and, for n >= 2, one
    complex-conjugate pair in place of the first two (a rotation-scaling block)."""
    n = shape[-1]
    w = np.arange(1, n + 1) * 1.5 + rng.uniform(-0.3, 0.3, shape[:-1])
    b = w[..., :, None] * np.eye(n)
    if n >= 2:
        b[..., 0, 1], b[..., 1, 0] = 1.2, -1.2   # eigenvalues w0 +- 1.2i (w0 = b[0, 0] = b[1, 1])
        b[..., 1, 1] = b[..., 0, 0]
    p = _conditioned_basis(shape, rng)
    return p @ b @ np.linalg.inv(p)


def _general_real_spectrum(shape, rng):
    """Real matrices with real, well separated eigenvalues (NumPy returns real arrays there;
    gpuad's eig returns complex ones)."""
    n = shape[-1]
    w = np.arange(1, n + 1) * 1.5 + rng.uniform(-0.3, 0.3, shape[:-1])
    p = _conditioned_basis(shape, rng)
    return (p * w[..., None, :]) @ np.linalg.inv(p)


def _general_complex(shape, rng):
    n = shape[-1]
    w = (np.arange(1, n + 1) * 1.5 + rng.uniform(-0.3, 0.3, shape[:-1])
         + 1j * rng.uniform(-1.0, 1.0, shape[:-1]))
    p = _conditioned_basis(shape, rng, complex_=True)
    return (p * w[..., None, :]) @ np.linalg.inv(p)


DOMAINS["general"] = _general_real
DOMAINS["general_real_spectrum"] = _general_real_spectrum
DOMAINS["general_complex"] = _general_complex


def _weights(shape):
    return np.arange(1, int(np.prod(shape)) + 1, dtype=float).reshape(shape) / np.prod(shape)


def _abs2_weighted(v):
    m = gnp.abs(v)
    return m ** 2 * _weights(v.shape[-2:]).astype(m.dtype)


def _eig_reconstruct(a):
    w, v = la.eig(a)
    return (v * w[..., None, :]) @ la.inv(v)


# ---- eig and eigvals -------------------------------------------------------------------------
for domain in ("general", "general_real_spectrum", "general_complex"):
    for shape in [(3, 3), (2, 3, 3)]:
        real_in = domain != "general_complex"
        add(f"eig_values {domain}{shape}", lambda a: la.eig(a).eigenvalues, (shape, domain),
            float32=False, tags=L)
        add(f"eig_abs_vectors {domain}{shape}",
            lambda a: _abs2_weighted(la.eig(a).eigenvectors), (shape, domain),
            float32=real_in, tags=L)
        add(f"eig_reconstruct {domain}{shape}",
            (lambda a: gnp.real(_eig_reconstruct(a))) if real_in else _eig_reconstruct,
            (shape, domain), float32=real_in, tags=L)
        add(f"eigvals {domain}{shape}", la.eigvals, (shape, domain), float32=False, tags=L)
add("eig_loss", lambda a: gnp.sum(gnp.abs(la.eig(a)[0]) ** 2)
    + gnp.sum(gnp.abs(la.eig(a)[1][..., 0, :])), ((4, 4), "general"), tags=L)
add("eig_1x1", lambda a: la.eig(a)[0], ((1, 1), "real"), float32=False, tags=L)
